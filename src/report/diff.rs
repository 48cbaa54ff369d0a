//! The output of `eci-audit diff`: table (default), JSON and Markdown. Every value that comes
//! from an input (file names, messages, fact values) is escaped as the other reports do.

use serde::Serialize;

use super::escape;
use crate::audit::{ExitStatus, FailOn};
use crate::diff::{ChangeKind, Diff, FactChange, FactState, RuleChange, Side};
use crate::rules::Status;

/// `diff --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DiffFormat {
    #[default]
    Table,
    Json,
    Markdown,
}

/// The diff document's format version (independent of the report's).
pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// Renders the comparison.
pub fn render(diff: &Diff, format: DiffFormat) -> String {
    match format {
        DiffFormat::Table => table(diff),
        DiffFormat::Json => escape::json(super::json::pretty(
            &serde_json::to_value(document(diff)).unwrap_or_default(),
        )),
        DiffFormat::Markdown => markdown(diff),
    }
}

/// A status as the human formats show it; a blocked one names its root's status, since a
/// rule blocked behind an unknown and then behind a failure changed while staying `blocked`.
fn status_text(s: Option<Status>, root: Option<Status>) -> String {
    match (s, root) {
        (None, _) => "(none)".to_string(),
        (Some(s @ Status::Blocked), Some(r)) => format!("{} ({})", s.as_str(), r.as_str()),
        (Some(s), _) => s.as_str().to_string(),
    }
}

fn count(diff: &Diff, kind: ChangeKind) -> usize {
    diff.rules.iter().filter(|c| c.kind == kind).count()
}

/// The rules whose new failure gates the exit code.
fn gating(diff: &Diff) -> Vec<&str> {
    diff.rules
        .iter()
        .filter(|c| c.gates)
        .map(|c| c.rule.as_str())
        .collect()
}

/// The rules NEW could no longer evaluate (exit 3 when nothing gates).
fn lost(diff: &Diff) -> Vec<&str> {
    diff.rules
        .iter()
        .filter(|c| c.incomplete)
        .map(|c| c.rule.as_str())
        .collect()
}

/// The last word on the exit code; `id` escapes each rule ID for the format it lands in (IDs
/// come from the inputs: a report can hold any text there).
fn verdict(diff: &Diff, id: fn(&str) -> String) -> String {
    let ids = |rules: Vec<&str>| rules.into_iter().map(id).collect::<Vec<_>>().join(", ");
    let (gating, lost) = (gating(diff), lost(diff));
    let fail_on = diff.fail_on.as_str();
    if !gating.is_empty() {
        format!(
            "{} new failure(s) at or above --fail-on {fail_on}: {} — exit 1",
            gating.len(),
            ids(gating)
        )
    } else if !lost.is_empty() {
        let exit = match diff.outcome {
            ExitStatus::Incomplete => "exit 3 (incomplete; --allow-incomplete makes it 0)",
            _ => "exit 0 (--allow-incomplete)",
        };
        format!(
            "no new failure at or above --fail-on {fail_on}, but {} rule(s) no longer evaluated: {} — {exit}",
            lost.len(),
            ids(lost)
        )
    } else {
        format!("no new failure at or above --fail-on {fail_on} — exit 0")
    }
}

fn side_line(label: &str, side: &Side) -> String {
    format!(
        "{label} {} ({}, eci-audit {})",
        escape::short_line(&side.input),
        side.kind.as_str(),
        escape::short_line(&side.tool_version)
    )
}

const SECTIONS: [(ChangeKind, &str); 3] = [
    (ChangeKind::Regression, "Regressions"),
    (ChangeKind::Fix, "Fixes"),
    (ChangeKind::Other, "Other changes"),
];

fn table(diff: &Diff) -> String {
    let mut out = String::new();
    out.push_str(&side_line("OLD", &diff.old));
    out.push('\n');
    out.push_str(&side_line("NEW", &diff.new));
    out.push_str("\n\n");
    if diff.rules.is_empty() {
        out.push_str("No rule changed status.\n");
    }
    for (kind, heading) in SECTIONS {
        let changes: Vec<&RuleChange> = diff.rules.iter().filter(|c| c.kind == kind).collect();
        if changes.is_empty() {
            continue;
        }
        out.push_str(&format!("{heading} ({})\n", changes.len()));
        for c in changes {
            out.push_str(&format!(
                "  {:<7} {:<7} {:<7} → {:<7}  {}\n",
                escape::short_line(&c.rule),
                c.severity.as_str(),
                status_text(c.old, c.old_root),
                status_text(c.new, c.new_root),
                escape::short_line(&c.logical),
            ));
            out.push_str(&format!("          {}\n", escape::short_line(&c.message)));
        }
        out.push('\n');
    }
    match &diff.facts {
        Some(facts) if facts.is_empty() => out.push_str("No fact changed.\n\n"),
        Some(facts) => {
            out.push_str(&format!("Facts that changed ({})\n", facts.len()));
            for f in facts {
                out.push_str(&format!("  {}\n", escape::short_line(&f.path)));
                out.push_str(&format!(
                    "    old: {}\n",
                    escape::short_line(&state(f.old.as_ref()))
                ));
                out.push_str(&format!(
                    "    new: {}\n",
                    escape::short_line(&state(f.new.as_ref()))
                ));
            }
            out.push('\n');
        }
        None => {}
    }
    for n in &diff.notices {
        out.push_str(&format!("Notice: {}\n", escape::short_line(n)));
    }
    out.push_str(&format!(
        "{} regression(s), {} fix(es), {} other change(s); {}\n",
        count(diff, ChangeKind::Regression),
        count(diff, ChangeKind::Fix),
        count(diff, ChangeKind::Other),
        verdict(diff, escape::short_line)
    ));
    out
}

fn state(s: Option<&FactState>) -> String {
    s.map_or_else(|| "(not in this snapshot)".to_string(), FactState::text)
}

/// An input value in Markdown text: nothing in it can become a link, an image, HTML, a
/// mention or a new table cell.
fn cell(text: &str) -> String {
    escape::markdown(text)
}

/// An input value as a code span, fenced past any backticks it holds.
fn code(text: &str) -> String {
    escape::markdown_code(text)
}

fn markdown(diff: &Diff) -> String {
    let mut out = String::from("## eci-audit diff\n\n");
    for (label, side) in [("OLD", &diff.old), ("NEW", &diff.new)] {
        out.push_str(&format!(
            "- **{label}**: {} ({}, eci-audit {})\n",
            code(&side.input),
            side.kind.as_str(),
            code(&side.tool_version)
        ));
    }
    out.push_str(&format!("\n**{}**\n\n", verdict(diff, cell)));
    if diff.rules.is_empty() {
        out.push_str("No rule changed status.\n\n");
    }
    for (kind, heading) in SECTIONS {
        let changes: Vec<&RuleChange> = diff.rules.iter().filter(|c| c.kind == kind).collect();
        if changes.is_empty() {
            continue;
        }
        out.push_str(&format!("### {heading} ({})\n\n", changes.len()));
        out.push_str("| Rule | Severity | Old | New | Location | Message |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for c in changes {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                cell(&c.rule),
                c.severity.as_str(),
                status_text(c.old, c.old_root),
                status_text(c.new, c.new_root),
                code(&c.logical),
                cell(&c.message)
            ));
        }
        out.push('\n');
    }
    match &diff.facts {
        Some(facts) if facts.is_empty() => out.push_str("No fact changed.\n\n"),
        Some(facts) => {
            out.push_str(&format!("### Facts that changed ({})\n\n", facts.len()));
            out.push_str("| Fact | Old | New |\n|---|---|---|\n");
            for f in facts {
                out.push_str(&format!(
                    "| {} | {} | {} |\n",
                    code(&f.path),
                    cell(&state(f.old.as_ref())),
                    cell(&state(f.new.as_ref()))
                ));
            }
            out.push('\n');
        }
        None => {}
    }
    for n in &diff.notices {
        out.push_str(&format!("> {}\n", cell(n)));
    }
    out
}

/// The JSON document of a comparison.
#[derive(Debug, Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    old: SideDoc<'a>,
    new: SideDoc<'a>,
    fail_on: FailOn,
    summary: SummaryDoc<'a>,
    notices: &'a [String],
    /// Regressions, then fixes, then other changes.
    rules: Vec<RuleDoc<'a>>,
    /// `null` unless both sides are snapshots.
    facts: Option<Vec<FactDoc<'a>>>,
}

#[derive(Debug, Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Debug, Serialize)]
struct SideDoc<'a> {
    input: &'a str,
    kind: &'static str,
    tool_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    report_schema_version: Option<u32>,
}

#[derive(Debug, Serialize)]
struct SummaryDoc<'a> {
    regressions: usize,
    fixes: usize,
    other: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    facts_changed: Option<usize>,
    /// The rules whose new failure makes the exit code 1.
    new_failures: Vec<&'a str>,
    /// The rules NEW could no longer evaluate, at or above `--fail-on`: exit 3 when nothing
    /// failed, unless `--allow-incomplete`.
    no_longer_evaluated: Vec<&'a str>,
    outcome: ExitStatus,
    exit_code: i32,
}

#[derive(Debug, Serialize)]
struct RuleDoc<'a> {
    change: ChangeKind,
    rule: &'a str,
    logical_location: &'a str,
    title: &'a str,
    severity: &'static str,
    /// `null`: the rule is not in that side's results.
    old: Option<&'static str>,
    new: Option<&'static str>,
    /// For a `blocked` result, the status of the rule it is blocked behind.
    #[serde(skip_serializing_if = "Option::is_none")]
    old_root_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_root_status: Option<&'static str>,
    gates: bool,
    /// A regression to a result NEW could not evaluate, at or above `--fail-on`.
    incomplete: bool,
    message: &'a str,
}

#[derive(Debug, Serialize)]
struct FactDoc<'a> {
    path: &'a str,
    /// Typed; `null` when absent, not collected or not in that snapshot (see the texts).
    old: serde_json::Value,
    new: serde_json::Value,
    old_text: String,
    new_text: String,
}

fn side_doc(side: &Side) -> SideDoc<'_> {
    SideDoc {
        input: &side.input,
        kind: side.kind.as_str(),
        tool_version: &side.tool_version,
        report_schema_version: side.report_schema_version,
    }
}

fn fact_doc(f: &FactChange) -> FactDoc<'_> {
    let typed = |s: Option<&FactState>| s.map_or(serde_json::Value::Null, FactState::json);
    FactDoc {
        path: &f.path,
        old: typed(f.old.as_ref()),
        new: typed(f.new.as_ref()),
        old_text: state(f.old.as_ref()),
        new_text: state(f.new.as_ref()),
    }
}

fn document(diff: &Diff) -> Document<'_> {
    Document {
        schema_version: DIFF_SCHEMA_VERSION,
        tool: Tool {
            name: "eci-audit",
            version: env!("CARGO_PKG_VERSION"),
        },
        old: side_doc(&diff.old),
        new: side_doc(&diff.new),
        fail_on: diff.fail_on,
        summary: SummaryDoc {
            regressions: count(diff, ChangeKind::Regression),
            fixes: count(diff, ChangeKind::Fix),
            other: count(diff, ChangeKind::Other),
            facts_changed: diff.facts.as_ref().map(Vec::len),
            new_failures: gating(diff),
            no_longer_evaluated: lost(diff),
            outcome: diff.outcome,
            exit_code: diff.outcome.exit_code(),
        },
        notices: &diff.notices,
        rules: diff
            .rules
            .iter()
            .map(|c| RuleDoc {
                change: c.kind,
                rule: &c.rule,
                logical_location: &c.logical,
                title: &c.title,
                severity: c.severity.as_str(),
                old: c.old.map(Status::as_str),
                new: c.new.map(Status::as_str),
                old_root_status: c.old_root.map(Status::as_str),
                new_root_status: c.new_root.map(Status::as_str),
                gates: c.gates,
                incomplete: c.incomplete,
                message: &c.message,
            })
            .collect(),
        facts: diff
            .facts
            .as_ref()
            .map(|facts| facts.iter().map(fact_doc).collect()),
    }
}
