//! Text from the audited inputs (org ids and names, labels, file names, XML text, keys,
//! snapshot values, rule files given with `--rules`) shown on a terminal: every character that
//! could move the cursor, colour the terminal, start a new line or reorder what is shown
//! (C0 and C1 controls, DEL, bidi embeddings, overrides and isolates, line and paragraph
//! separators) is written as its Rust escape (`\n`, `\u{1b}`, `\u{202e}`), so a value cannot
//! forge a report line such as `63 rules: 63 pass — passed`. The one function every text that
//! reaches a terminal goes through: the table, `explain`, the rule list and `main`'s error
//! messages. Linear in the text; borrows it when there is nothing to escape.
//!
//! The Markdown, `JUnit` and GitHub formats go through it too, then through their own syntax's
//! escaping ([`markdown`], [`xml`], [`github_data`]), so a value is shown as itself in the
//! rendered document and on a terminal alike.

use std::borrow::Cow;

/// A character that is not shown as itself.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' // Arabic letter mark
                | '\u{200E}'..='\u{200F}' // left-to-right and right-to-left marks
                | '\u{2028}'..='\u{2029}' // line and paragraph separators
                | '\u{202A}'..='\u{202E}' // embeddings and overrides
                | '\u{2066}'..='\u{2069}' // isolates
        )
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) && !keep(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line: newlines are escaped too.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Text whose line breaks are its own (a rule's fix, a table cell): `\n` is kept, everything
/// else escaped (a lone CR included, since it returns to the start of the line).
pub fn lines(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n')
}

/// Characters of one input value the human formats show; the rest is cut with a note. Well
/// above the longest message the rules write (under 300 characters), far below what makes the
/// table slow: comfy-table lays out an unbroken word in time quadratic in its length (an
/// 800 KB label took 46 s).
pub const MAX_SHOWN: usize = 500;

/// `text` cut after [`MAX_SHOWN`] characters, with a note saying how much is left out and
/// where to find it whole. Linear in the text.
pub fn truncate(text: &str) -> Cow<'_, str> {
    truncate_to(text, MAX_SHOWN)
}

/// `text` cut after `max` characters, with the same note as [`truncate`].
fn truncate_to(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!(
            "{} (… {} more characters; see --format json)",
            &text[..cut],
            text[cut..].chars().count()
        )),
    }
}

/// One input value on one line of a human report: cut to [`MAX_SHOWN`] characters, then
/// escaped.
pub fn short_line(text: &str) -> String {
    line(&truncate(text)).into_owned()
}

/// An input text with line breaks of its own (a rule's fix): cut, then escaped.
pub fn short_lines(text: &str) -> String {
    lines(&truncate(text)).into_owned()
}

/// A JSON document (`--format json` / `sarif`) as it may reach a terminal: serde escapes the
/// C0 controls inside strings but writes C1 controls, DEL and bidi characters as they are;
/// those become `\uXXXX` escapes, which mean the same to any JSON reader (they can only occur
/// inside strings).
pub fn json(doc: String) -> String {
    if !doc.chars().any(|c| is_unsafe(c) && u32::from(c) >= 0x7f) {
        return doc;
    }
    let mut out = String::with_capacity(doc.len() + 16);
    for c in doc.chars() {
        if is_unsafe(c) && u32::from(c) >= 0x7f {
            // All of them are in the Basic Multilingual Plane: one \uXXXX each.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// One input value inside Markdown text (`--format markdown`): cut and made one line as on a
/// terminal, then every character Markdown or HTML would read as syntax is escaped, so a value
/// renders as itself and cannot add a heading, a link, an image, raw HTML, a table cell (`|`),
/// code (`` ` ``), math (`$`) or a GitHub @-mention. Never placed at the start of a line by the
/// renderer, but a leading `#`, `+`, `-`, `=` or `1.` is escaped anyway.
pub fn markdown(text: &str) -> String {
    let one_line = short_line(text);
    let mut out = String::with_capacity(one_line.len() + 16);
    let mut prev: Option<char> = None;
    let mut chars = one_line.chars().peekable();
    let mut leading_digits = true;
    while let Some(c) = chars.next() {
        let at_start = prev.is_none();
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // `!` needs none: `![` is no image once `[` is escaped.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '+' | '-' | '=' if at_start => {
                out.push('\\');
                out.push(c);
            }
            // `1. x` / `1) x` at the start would begin an ordered list.
            '.' | ')' if leading_digits && prev.is_some() => {
                out.push('\\');
                out.push(c);
            }
            // `@name` after a non-word character is a GitHub mention; an empty HTML comment
            // between the two keeps the text and drops the ping.
            '@' if !prev.is_some_and(char::is_alphanumeric)
                && chars.peek().is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push_str("@<!-- -->");
            }
            _ => out.push(c),
        }
        leading_digits = leading_digits && c.is_ascii_digit();
        prev = Some(c);
    }
    out
}

/// One input value as a Markdown code span: cut, one line, fenced with one backtick more than
/// the longest run inside it (padded when it starts or ends with one), and with `|` escaped so
/// that it stays in its table cell (GitHub reads `\|` as a pipe even inside code).
pub fn markdown_code(text: &str) -> String {
    let one_line = short_line(text);
    let mut longest = 0;
    let mut run = 0;
    for c in one_line.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') || one_line.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", one_line.replace('|', "\\|"))
}

/// Text for a quoted Mermaid node label (`s1["…"]`): `"` and the characters Mermaid or the
/// HTML it draws would read (`#`, `<`, `>`, `&`, backtick) become Mermaid entity codes
/// (`#quot;`, `#35;`, …). Mermaid reads a quoted label as Markdown (a label `1. Log in`
/// renders as "Unsupported markdown: list"), so emphasis characters and a leading list marker
/// are backslash-escaped, as Mermaid's maintainers advise (mermaid-js/mermaid#6111).
pub fn mermaid_label(text: &str) -> String {
    let one_line = short_line(text);
    let mut out = String::with_capacity(one_line.len() + 8);
    let mut leading_digits = true;
    for (i, c) in one_line.chars().enumerate() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' | '<' | '>' | '&' | '`' => out.push_str(&format!("#{};", u32::from(c))),
            '*' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if leading_digits && i > 0 => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        leading_digits = leading_digits && c.is_ascii_digit();
    }
    out
}

/// Text for an XML document (`--format junit`): cut, terminal-unsafe characters (including
/// every control character XML 1.0 forbids) written as visible escapes, then `&`, `<`, `>`,
/// `"` and `'` as entities. In an attribute (`attribute: true`) line breaks become `&#10;` so
/// that attribute-value normalisation keeps them; in element text they stay.
pub fn xml(text: &str, attribute: bool) -> String {
    xml_cut(text, attribute, MAX_SHOWN)
}

/// Characters of a text the tool composes from several parts (a result's Where, Expected,
/// Actual and Fix; the verdict with every notice; a rule's message with its values): longer
/// than one value may be, still bounded.
pub const MAX_COMPOSED: usize = 8 * MAX_SHOWN;

/// [`xml`] for a composed text: cut at [`MAX_COMPOSED`] characters instead of one value's
/// [`MAX_SHOWN`].
pub fn xml_composed(text: &str, attribute: bool) -> String {
    xml_cut(text, attribute, MAX_COMPOSED)
}

fn xml_cut(text: &str, attribute: bool, max: usize) -> String {
    let safe = lines(&truncate_to(text, max)).into_owned();
    let mut out = String::with_capacity(safe.len() + 16);
    for c in safe.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            _ => out.push(c),
        }
    }
    out
}

/// The data of a GitHub workflow command (after `::`): `%`, CR and LF percent-encoded as the
/// runner decodes them (a value cannot end the line and start a command such as `::set-env`),
/// cut, and other terminal-unsafe characters escaped.
pub fn github_data(text: &str) -> String {
    let encoded = truncate(text)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    line(&encoded).into_owned()
}

/// A property value of a GitHub workflow command (`file=`, `title=`): as [`github_data`], and
/// `:` and `,`, which end a value, percent-encoded too.
pub fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    #[test]
    fn composed_xml_text_is_cut_later_than_one_value() {
        let message = "m".repeat(MAX_SHOWN + 36);
        assert!(xml(&message, true).contains("(… 36 more characters"));
        assert_eq!(xml_composed(&message, true), message);
        let huge = "<".repeat(MAX_COMPOSED + 1);
        let out = xml_composed(&huge, false);
        assert!(
            out.ends_with("(… 1 more characters; see --format json)"),
            "{out}"
        );
        assert!(!out.contains('<'));
    }

    use super::*;

    #[test]
    fn controls_bidi_and_newlines_are_escaped() {
        assert_eq!(
            line("X\n\u{1b}[32m63 rules\r\u{9b}\u{202e}\u{2067}ok\u{7f}"),
            "X\\n\\u{1b}[32m63 rules\\r\\u{9b}\\u{202e}\\u{2067}ok\\u{7f}"
        );
        assert_eq!(lines("a\nb\rc\u{0}"), "a\nb\\rc\\u{0}");
        assert!(matches!(line("Café — naïve 東京"), Cow::Borrowed(_)));
    }

    #[test]
    fn long_values_are_cut_with_a_note() {
        let long = "é".repeat(MAX_SHOWN + 7);
        let cut = short_line(&long);
        assert!(cut.starts_with(&"é".repeat(MAX_SHOWN)), "{cut}");
        assert!(
            cut.ends_with("é (… 7 more characters; see --format json)"),
            "{cut}"
        );
        let exact = "x".repeat(MAX_SHOWN);
        assert_eq!(short_line(&exact), exact);
    }

    #[test]
    fn json_stays_the_same_document() {
        let value = serde_json::json!({"id": "a\u{9b}b\u{202e}c\u{1b}d\u{7f}"});
        let doc = json(serde_json::to_string_pretty(&value).unwrap_or_default());
        assert!(
            !doc.contains(['\u{9b}', '\u{202e}', '\u{1b}', '\u{7f}']),
            "{doc}"
        );
        let back: serde_json::Value = serde_json::from_str(&doc).unwrap_or_default();
        assert_eq!(back, value);
    }

    #[test]
    fn markdown_values_render_as_themselves() {
        assert_eq!(
            markdown("a|b <img src=x> `c` *d* _e_ [f](g) ![h] ~~i~~ $x$ \\ &amp;"),
            "a\\|b &lt;img src=x&gt; \\`c\\` \\*d\\* \\_e\\_ \\[f\\](g) !\\[h\\] \\~\\~i\\~\\~ \\$x\\$ \\\\ &amp;amp;"
        );
        assert_eq!(markdown("# title"), "\\# title");
        assert_eq!(markdown("- item"), "\\- item");
        assert_eq!(markdown("12. item"), "12\\. item");
        assert_eq!(markdown("v1.2-beta #3"), "v1.2-beta #3");
        assert_eq!(markdown("a\n## b"), "a\\\\n## b");
        assert_eq!(markdown("ping @octocat"), "ping @<!-- -->octocat");
        assert_eq!(markdown("user@acme.com"), "user@acme.com");
        assert_eq!(markdown("x\u{1b}[31m"), "x\\\\u{1b}\\[31m");
    }

    #[test]
    fn markdown_code_spans_hold_any_backticks_and_pipes() {
        assert_eq!(markdown_code("a.xml:3"), "`a.xml:3`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x``"), "``` `x`` ```");
        assert_eq!(markdown_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_code(""), "`  `");
    }

    #[test]
    fn mermaid_labels_are_quoted() {
        assert_eq!(
            mermaid_label("4. \"App\" <b>#1</b> & `x` *y* a_b"),
            "4\\. #quot;App#quot; #60;b#62;#35;1#60;/b#62; #38; #96;x#96; \\*y\\* a\\_b"
        );
        assert_eq!(mermaid_label("- x 1. y"), "\\- x 1. y");
    }

    #[test]
    fn xml_text_and_attributes() {
        assert_eq!(
            xml("a<b>&\"c\"'d'\n\u{1b}\u{0}]]>", true),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;\\u{1b}\\u{0}]]&gt;"
        );
        assert_eq!(xml("a\nb\r", false), "a\nb\\r");
    }

    #[test]
    fn github_commands_cannot_be_injected() {
        let hostile = "50%\r\n::set-env name=X::y";
        assert_eq!(github_data(hostile), "50%25%0D%0A::set-env name=X::y");
        assert_eq!(github_property("a,b:c%\n::x"), "a%2Cb%3Ac%25%0A%3A%3Ax");
        assert_eq!(github_data("\u{1b}[2J"), "\\u{1b}[2J");
    }
}
