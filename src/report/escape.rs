//! Text from the audited inputs (org ids and names, labels, file names, XML text, keys,
//! snapshot values, rule files given with `--rules`) shown on a terminal: every character that
//! could move the cursor, colour the terminal, start a new line or reorder what is shown
//! (C0 and C1 controls, DEL, bidi embeddings, overrides and isolates, line and paragraph
//! separators) is written as its Rust escape (`\n`, `\u{1b}`, `\u{202e}`), so a value cannot
//! forge a report line such as `63 rules: 63 pass — passed`. The one function every text that
//! reaches a terminal goes through: the table, `explain`, the rule list and `main`'s error
//! messages. Linear in the text; borrows it when there is nothing to escape.

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
    match text.char_indices().nth(MAX_SHOWN) {
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

#[cfg(test)]
mod tests {
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
}
