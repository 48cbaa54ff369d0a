//! The human report, led by what to do: a header (source, org, config file), **Start here**
//! (the root-cause failures in guide order, each with its location and fix), then what is left
//! to look at, grouped by guide step. Passing rules collapse into one line per step, rules
//! blocked behind one root into one line naming them, rules that do not apply to the source
//! into one line; `--show-passed` lists every rule.
//!
//! Lines are wrapped at spaces only, to the width given (the terminal's, or `COLUMNS`), and
//! never padded: a report is no wider than its longest line. A token longer than the width (a
//! path, a URL) is never broken: a location stands on a line of its own, so `path:line` can be
//! clicked or copied whole.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::audit::{Audit, StartHere};
use crate::rules::{Finding, Status, Step};
use crate::snapshot::model::Origin;

/// Width when none is given (a pipe without `COLUMNS`): stable output for logs and tests.
const DEFAULT_WIDTH: usize = 120;
/// Narrower than this, nothing useful fits beside the indent.
const MIN_WIDTH: usize = 40;
/// Indent of a finding's detail lines, under its title.
const DETAIL: usize = 6;

/// One input value on one line: cut to a length the report lays out quickly, and escaped
/// (see [`super::escape`]).
fn clean_line(text: &str) -> String {
    super::escape::short_line(text)
}

/// Renders the table report.
pub fn render(audit: &Audit, opts: &super::RenderOptions) -> String {
    let width = opts.width.map_or(DEFAULT_WIDTH, usize::from).max(MIN_WIDTH);
    let mut out = Out {
        text: String::new(),
        width,
        color: opts.color,
    };
    header(audit, &mut out);
    let starts = start_here(audit, &mut out);
    for step in Step::ALL {
        let rows: Vec<&Finding> = audit.findings.iter().filter(|f| f.step == step).collect();
        if !rows.is_empty() {
            step_section(step, &rows, &starts, audit, opts.show_passed, &mut out);
        }
    }
    out.blank();
    // Run-time evidence (not rules): recent changes and calls arriving.
    for line in super::evidence::table(&audit.evidence).lines() {
        let indent = line.len() - line.trim_start().len();
        out.wrapped(indent, indent + 2, line.trim_start());
    }
    out.blank();
    let skipped = audit.summary.count(Status::Skipped);
    if skipped > 0 {
        // Said once, rather than on every step.
        out.wrapped(
            0,
            2,
            &format!(
                "Skipped: {} need{} data only an org holds, which this source does not have; check {} live or merge a snapshot with --snapshot.",
                count(skipped),
                if skipped == 1 { "s" } else { "" },
                if skipped == 1 { "it" } else { "them" }
            ),
        );
    }
    for n in &audit.notices {
        out.wrapped(0, 2, &format!("Notice: {}", clean_line(n)));
    }
    // The counts and the verdict, on one line when they fit, else the verdict on the next:
    // the last line always ends with the whole verdict.
    let (counts, verdict) = summary_line(audit);
    if chars(&counts) + 3 + chars(&verdict) <= out.width {
        out.line(&format!("{counts} — {verdict}"));
    } else {
        out.wrapped(0, 2, &counts);
        out.wrapped(2, 4, &format!("— {verdict}"));
    }
    out.text
}

/// The text being written, with the width and colour choice.
struct Out {
    text: String,
    width: usize,
    color: bool,
}

impl Out {
    fn line(&mut self, s: &str) {
        self.text.push_str(s.trim_end());
        self.text.push('\n');
    }

    /// An empty line, never two in a row, never first.
    fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    /// `text` wrapped at spaces: the first line indented by `first`, the others by `rest`.
    /// A word longer than the line stands alone, whole.
    fn wrapped(&mut self, first: usize, rest: usize, text: &str) {
        for (i, line) in text.split('\n').enumerate() {
            let indent = if i == 0 { first } else { rest };
            for l in wrap(line, indent, rest, self.width) {
                self.line(&l);
            }
        }
    }

    /// A location, on a line of its own after `at`. A file path (`path:line`) is never
    /// wrapped: when it does not fit beside the indent it goes on the next line from the first
    /// column, so that even a terminal that folds it keeps it one piece to click or copy.
    /// Other locations (`readMetadata Type/Name`, `Object Id`) are words and wrap as such.
    fn location(&mut self, origin: &Origin) {
        let location = clean_line(&origin.display());
        let at = format!("{}at {location}", " ".repeat(DETAIL));
        if chars(&at) <= self.width {
            self.line(&at);
        } else if !matches!(origin, Origin::File { .. }) {
            self.wrapped(DETAIL, DETAIL + 2, &format!("at {location}"));
        } else {
            self.line(&format!("{}at:", " ".repeat(DETAIL)));
            self.line(&location);
        }
    }

    /// The status mark, coloured when asked.
    fn mark(&self, status: Status) -> String {
        let (mark, code) = match status {
            Status::Pass => ("✔", "32"),
            Status::Fail => ("✘", "1;31"),
            Status::Unknown => ("?", "33"),
            Status::Blocked => ("⊘", "33"),
            Status::Manual => ("☐", "36"),
            Status::Waived => ("~", "90"),
            Status::Skipped => ("–", "90"),
        };
        if self.color {
            format!("\u{1b}[{code}m{mark}\u{1b}[0m")
        } else {
            mark.to_string()
        }
    }
}

/// The columns `s` takes on a terminal: characters, not counting the colour codes this
/// module adds (input values are escaped, so they carry none).
fn chars(s: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// Greedy word wrap at spaces; words are never split.
fn wrap(text: &str, first: usize, rest: usize, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = " ".repeat(first);
    let mut len = first;
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = chars(word);
        if !empty && len + 1 + w > width {
            lines.push(std::mem::take(&mut current));
            current = " ".repeat(rest);
            len = rest;
            empty = true;
        }
        if !empty {
            current.push(' ');
            len += 1;
        }
        current.push_str(word);
        len += w;
        empty = false;
    }
    lines.push(current);
    lines
}

fn header(audit: &Audit, out: &mut Out) {
    let src = &audit.source;
    let mut line = format!(
        "eci-audit {} — {}",
        env!("CARGO_PKG_VERSION"),
        clean_line(&src.input)
    );
    if let Some(org) = &src.org_id {
        let _ = write!(line, " (org {})", clean_line(org));
    }
    // Paths, never wrapped: a terminal may fold them, but they stay whole when copied.
    out.line(&line);
    if let Some(config) = &src.config_file {
        out.line(&format!(
            "Config: {} (its settings apply)",
            clean_line(config)
        ));
    }
    if let Some(b) = &audit.baseline {
        out.line(&format!("Baseline: {}", clean_line(&b.file)));
        out.wrapped(
            2,
            2,
            &format!(
                "{} not in the baseline (they alone gate){}; {} fixed since{}",
                count_failures(b.new_failures.len()),
                list_suffix(&b.new_failures),
                b.fixed.len(),
                list_suffix(&b.fixed)
            ),
        );
    }
}

fn count_failures(n: usize) -> String {
    if n == 1 {
        "1 failure".to_string()
    } else {
        format!("{n} failures")
    }
}

/// `: A, B` for a non-empty list of rule IDs.
fn list_suffix(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        let ids: Vec<String> = ids.iter().map(|i| clean_line(i)).collect();
        format!(": {}", ids.join(", "))
    }
}

/// The findings Start here lists in full: the failures that gate the run, in guide order (all
/// failures when none gates, e.g. `--fail-on never`). Returns their IDs.
fn start_here(audit: &Audit, out: &mut Out) -> Vec<String> {
    let fail_on = audit.summary.fail_on;
    let fails: Vec<&Finding> = audit
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    // With --baseline only the failures the baseline lacks gate; the others are known.
    let is_new = |f: &Finding| {
        audit
            .baseline
            .as_ref()
            .is_none_or(|b| b.new_failures.contains(&f.rule))
    };
    let gating: Vec<&Finding> = fails
        .iter()
        .copied()
        .filter(|f| fail_on.counts(f.severity) && is_new(f))
        .collect();
    // When nothing gates (`--fail-on never`, or only warnings under `error`), the failures
    // still lead, but a note never does (CAP017 on an External Client App is information) and
    // baseline failures are not news.
    let roots = if gating.is_empty() && audit.baseline.is_none() {
        fails
            .into_iter()
            .filter(|f| f.severity > crate::rules::Severity::Note)
            .collect()
    } else {
        gating
    };
    if !roots.is_empty() {
        out.blank();
        out.line("Start here");
        for f in &roots {
            finding_block(f, out);
            let blocked = blocked_behind(audit, &f.rule);
            if !blocked.is_empty() {
                out.wrapped(
                    DETAIL,
                    DETAIL + 2,
                    &format!("Blocks {}: {}", count(blocked.len()), blocked.join(", ")),
                );
            }
        }
        return roots.iter().map(|f| f.rule.clone()).collect();
    }
    let (root, text) = match &audit.summary.start_here {
        Some(StartHere::UnselectedFailure {
            root,
            blocked,
            message,
        }) => (
            root,
            format!(
                "{} (not among the selected rules) failed and blocks {}: {}",
                clean_line(root),
                clean_line(blocked),
                clean_line(message)
            ),
        ),
        Some(StartHere::NotEvaluated { root, message }) => (
            root,
            format!(
                "{} could not be evaluated: {}",
                clean_line(root),
                clean_line(message)
            ),
        ),
        Some(StartHere::Failure { .. }) | None => return Vec::new(),
    };
    out.blank();
    out.line("Start here");
    out.wrapped(2, DETAIL, &format!("{} {text}", out.mark(Status::Unknown)));
    if let Some(origin) = audit
        .findings
        .iter()
        .find(|f| &f.rule == root || f.root_cause.as_ref() == Some(root))
        .and_then(|f| f.evidence.origin.as_ref())
    {
        out.location(origin);
    }
    Vec::new()
}

/// "1 rule", "3 rules".
fn count(n: usize) -> String {
    format!("{n} rule{}", if n == 1 { "" } else { "s" })
}

/// The selected rules blocked behind `root`.
fn blocked_behind(audit: &Audit, root: &str) -> Vec<String> {
    audit
        .findings
        .iter()
        .filter(|f| f.status == Status::Blocked && f.root_cause.as_deref() == Some(root))
        .map(|f| clean_line(&f.rule))
        .collect()
}

/// One finding in full: status, rule and title; the message; where; the fix (failures); the
/// waiver.
fn finding_block(f: &Finding, out: &mut Out) {
    let head = format!(
        "{} {} {} ({}) — {}",
        out.mark(f.status),
        clean_line(&f.rule),
        f.status,
        f.severity,
        clean_line(&f.title)
    );
    out.wrapped(2, DETAIL, &head);
    out.wrapped(DETAIL, DETAIL, &clean_line(&f.message));
    if let Some(origin) = &f.evidence.origin {
        out.location(origin);
    }
    let failed = f.status == Status::Fail
        || f.waiver
            .as_ref()
            .is_some_and(|w| w.original == Status::Fail);
    if failed {
        out.wrapped(
            DETAIL,
            DETAIL + 2,
            &format!("Fix: {}", super::escape::short_lines(&f.fix)),
        );
    }
    if let Some(w) = &f.waiver {
        out.wrapped(
            DETAIL,
            DETAIL + 2,
            &format!(
                "Waived ({}): {}{}",
                w.original,
                clean_line(&w.reason),
                w.expires
                    .as_ref()
                    .map(|e| format!(", until {e}"))
                    .unwrap_or_default()
            ),
        );
    }
}

/// One guide step: a single line when nothing in it needs a look, else its header and what
/// needs a look.
fn step_section(
    step: Step,
    rows: &[&Finding],
    starts: &[String],
    audit: &Audit,
    show_passed: bool,
    out: &mut Out,
) {
    let of = |s: Status| rows.iter().filter(|f| f.status == s).count();
    let skipped: Vec<String> = rows
        .iter()
        .filter(|f| f.status == Status::Skipped)
        .map(|f| clean_line(&f.rule))
        .collect();
    let applicable = rows.len() - skipped.len();
    let passed = of(Status::Pass);
    let not_applicable = || format!("not applicable to this source: {}", skipped.join(", "));
    if passed == applicable && !show_passed {
        out.blank();
        let line = if applicable == 0 {
            format!(
                "{} {} — {}",
                out.mark(Status::Skipped),
                step.title(),
                not_applicable()
            )
        } else if skipped.is_empty() {
            format!(
                "{} {} — {passed}/{applicable}",
                out.mark(Status::Pass),
                step.title()
            )
        } else {
            format!(
                "{} {} — {passed}/{applicable} ({})",
                out.mark(Status::Pass),
                step.title(),
                not_applicable()
            )
        };
        out.wrapped(0, 4, &line);
        return;
    }
    out.blank();
    out.wrapped(
        0,
        4,
        &format!("{} — {passed}/{applicable} passed", step.title()),
    );
    // Blocked rules, by the root they wait on, in the order their first one appears.
    let mut behind: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in rows {
        match f.status {
            Status::Pass if !show_passed => {}
            Status::Fail if starts.contains(&f.rule) => {
                let line = format!(
                    "{} {} fail ({}) — {} (see Start here)",
                    out.mark(Status::Fail),
                    clean_line(&f.rule),
                    f.severity,
                    clean_line(&f.title)
                );
                out.wrapped(2, DETAIL, &line);
            }
            Status::Blocked if !show_passed => {
                behind
                    .entry(f.root_cause.as_deref().unwrap_or_default())
                    .or_default()
                    .push(f);
            }
            Status::Skipped if !show_passed => {}
            _ => finding_block(f, out),
        }
    }
    for (root, blocked) in &behind {
        let ids: Vec<String> = blocked.iter().map(|f| clean_line(&f.rule)).collect();
        let selected = audit.findings.iter().find(|f| f.rule == *root);
        let why = match (selected, blocked[0].root_status) {
            (Some(r), _) => format!("{}", r.status),
            (None, Some(status)) => format!("{status}, not selected"),
            (None, None) => "not selected".to_string(),
        };
        out.wrapped(
            2,
            DETAIL,
            &format!(
                "{} {} blocked behind {} ({why}): {}",
                out.mark(Status::Blocked),
                count(ids.len()),
                clean_line(root),
                ids.join(", ")
            ),
        );
        // A root that is not listed anywhere says why itself.
        if selected.is_none()
            && let Some(message) = &blocked[0].root_message
        {
            out.wrapped(DETAIL, DETAIL, &clean_line(message));
        }
    }
    if !skipped.is_empty() && !show_passed {
        out.wrapped(
            2,
            DETAIL,
            &format!("{} {}", out.mark(Status::Skipped), not_applicable()),
        );
    }
}

/// "63 rules: 46 pass, …" and "passed — 2 checks need a manual look: …".
fn summary_line(audit: &Audit) -> (String, String) {
    let s = &audit.summary;
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|st| format!("{} {}", s.count(*st), st))
        .collect();
    // Unlike `counts_text`, the table names every status, zeros included.
    (
        format!("{} rules: {}", s.total, counts.join(", ")),
        super::verdict_text(s),
    )
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn colour_codes_take_no_columns() {
        assert_eq!(super::chars("\u{1b}[1;31m✘\u{1b}[0m CAP001"), 8);
    }

    #[test]
    fn wraps_at_spaces_and_never_splits_a_word() {
        let long = "https://example.com/a/very/long/path/that/does/not/fit";
        let lines = wrap(&format!("see {long} now"), 2, 4, 20);
        assert_eq!(lines, vec!["  see", &format!("    {long}"), "    now"]);
        assert_eq!(wrap("a b c", 0, 0, 3), vec!["a b", "c"]);
        assert_eq!(wrap("", 2, 2, 10), vec!["  "]);
    }
}
