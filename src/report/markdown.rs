//! The Markdown report (`--format markdown`): for a GitHub step summary, a pull-request comment
//! or a support ticket. What to do comes first: the verdict, Start here (the root cause with
//! its location and fix), the failures with their fixes by guide step, then what the verdict
//! does not cover (not evaluated, manual, waived), the collapsed passes and not-applicable
//! rules, and a Mermaid flowchart of the guide's steps coloured by status (GitHub draws it).
//! Every value from the inputs goes through [`super::escape::markdown`] (or its code-span and
//! Mermaid siblings), so it renders as itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::{markdown as md, markdown_code as code, mermaid_label};
use super::{RenderOptions, RunError};
use crate::audit::{Audit, ExitStatus, StartHere};
use crate::rules::{Catalogue, Finding, Status, Step};
use crate::snapshot::model::Origin;

/// A section appended after the findings: a title (plain text, escaped here) and a body that
/// is already Markdown, its input values escaped by whoever built it.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    pub body: String,
}

/// Renders the audit as Markdown.
pub fn render(audit: &Audit, catalogue: &Catalogue, opts: &RenderOptions) -> String {
    render_with(audit, catalogue, opts, &[])
}

/// Renders the audit with `evidence` sections after the findings and before the notices: the
/// one place where evidence about the org that is not a rule result (recent changes, calls
/// arriving) joins the report.
pub fn render_with(
    audit: &Audit,
    catalogue: &Catalogue,
    opts: &RenderOptions,
    evidence: &[Section],
) -> String {
    let mut out = header(audit);
    out.push_str(&start_here(audit, catalogue, opts));
    out.push_str(&failures(audit, opts));
    out.push_str(&not_evaluated(audit));
    out.push_str(&manual(audit, opts));
    out.push_str(&waived(audit));
    out.push_str(&skipped(audit));
    out.push_str(&passed(audit));
    out.push_str(&render_section("Guide steps", &flowchart(audit)));
    // The run-time evidence of the audit (recent changes, calls arriving), then any other.
    out.push_str(super::evidence::markdown(&audit.evidence).trim_end());
    out.push_str("\n\n");
    for section in evidence {
        out.push_str(&render_section(&section.title, &section.body));
    }
    if !audit.notices.is_empty() {
        let body: Vec<String> = audit
            .notices
            .iter()
            .map(|n| format!("- {}", md(n)))
            .collect();
        out.push_str(&render_section("Notices", &body.join("\n")));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// One `##` section: the title escaped, the body as given, a blank line after it.
pub fn render_section(title: &str, body: &str) -> String {
    format!("## {}\n\n{}\n\n", md(title), body.trim_end())
}

/// The document of a run that could not happen (exit 2).
pub fn render_error(error: &RunError) -> String {
    let message: Vec<String> = error.message.lines().map(md).collect();
    format!(
        "# ⛔ eci-audit could not run\n\n**Error ({}):** {}\n\nNo rule was evaluated (exit {}).\n",
        md(error.kind),
        message.join("<br>"),
        ExitStatus::Error.code()
    )
}

fn header(audit: &Audit) -> String {
    let s = &audit.summary;
    let icon = match s.outcome {
        ExitStatus::Passed if s.not_gating_failures > 0 || s.incomplete => "⚠️",
        ExitStatus::Passed => "✅",
        ExitStatus::Failed => "❌",
        ExitStatus::Incomplete => "⚠️",
        ExitStatus::Error => "⛔",
    };
    let mut out = format!(
        "# {icon} eci-audit: {}\n\n**{} rules: {} — {}** (exit {})\n\n",
        outcome_word(s.outcome),
        s.total,
        super::counts_text(s),
        md(&super::verdict_text(s)),
        s.exit_code
    );
    let src = &audit.source;
    let mut facts = vec![format!("Source: {}", code(&src.input))];
    if let Some(org) = &src.org_id {
        facts.push(format!("org {}", code(org)));
    }
    if let Some(url) = &src.instance_url {
        facts.push(code(url));
    }
    if let Some(at) = &src.collected_at {
        facts.push(format!("collected {}", md(at)));
    }
    if let Some(config) = &src.config_file {
        facts.push(format!("config {} (its settings apply)", code(config)));
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    out
}

fn outcome_word(outcome: ExitStatus) -> &'static str {
    match outcome {
        ExitStatus::Passed => "passed",
        ExitStatus::Failed => "failed",
        ExitStatus::Incomplete => "incomplete",
        ExitStatus::Error => "could not run",
    }
}

/// Where a finding's evidence stands: a file relative to the base folder, or the record,
/// component or setting, as a code span.
fn location(origin: Option<&Origin>, opts: &RenderOptions) -> Option<String> {
    match origin? {
        Origin::File { path, line, .. } => Some(code(&format!(
            "{}:{line}",
            super::relative_path(path, opts.base_dir.as_deref())
        ))),
        other => Some(code(&other.display())),
    }
}

/// A rule's fix, its own line breaks kept as `<br>`.
fn fix_text(fix: &str) -> String {
    fix.lines().map(md).collect::<Vec<_>>().join("<br>")
}

fn start_here(audit: &Audit, catalogue: &Catalogue, opts: &RenderOptions) -> String {
    let Some(start) = &audit.summary.start_here else {
        return String::new();
    };
    let finding = |id: &str| audit.findings.iter().find(|f| f.rule == id);
    let mut body = String::new();
    match start {
        StartHere::Failure {
            rule,
            title,
            message,
        } => {
            let _ = writeln!(body, "**{}** — {}: {}\n", md(rule), md(title), md(message));
            if let Some(f) = finding(rule) {
                if let Some(loc) = location(f.evidence.origin.as_ref(), opts) {
                    let _ = writeln!(body, "- Where: {loc}");
                }
                let _ = writeln!(body, "- Fix: {}", fix_text(&f.fix));
            }
        }
        StartHere::UnselectedFailure {
            root,
            blocked,
            message,
        } => {
            let _ = writeln!(
                body,
                "**{}** (not among the selected rules) failed and blocks **{}**: {}\n",
                md(root),
                md(blocked),
                md(message)
            );
            if let Some(loc) =
                finding(blocked).and_then(|f| location(f.evidence.origin.as_ref(), opts))
            {
                let _ = writeln!(body, "- Where: {loc}");
            }
            if let Some(rule) = catalogue.get(root) {
                let _ = writeln!(body, "- Fix: {}", fix_text(&rule.fix));
            }
        }
        StartHere::NotEvaluated { root, message } => {
            let _ = writeln!(
                body,
                "**{}** could not be evaluated: {}\n",
                md(root),
                md(message)
            );
            if let Some(loc) =
                finding(root).and_then(|f| location(f.evidence.origin.as_ref(), opts))
            {
                let _ = writeln!(body, "- Where: {loc}");
            }
        }
    }
    render_section("Start here", &body)
}

/// The findings with `status`, grouped by guide step in guide order.
/// The findings with `status`, in report order.
fn with_status(audit: &Audit, status: Status) -> Vec<&Finding> {
    audit
        .findings
        .iter()
        .filter(|f| f.status == status)
        .collect()
}

fn by_step(audit: &Audit, status: Status) -> BTreeMap<Step, Vec<&Finding>> {
    let mut groups: BTreeMap<Step, Vec<&Finding>> = BTreeMap::new();
    for f in with_status(audit, status) {
        groups.entry(f.step).or_default().push(f);
    }
    groups
}

fn count(audit: &Audit, status: Status) -> usize {
    audit.summary.count(status)
}

/// A failure or manual check as a list item: the rule, its message, where, and the fix (or
/// how to check) under `fix_label`.
fn finding_item(body: &mut String, f: &Finding, fix_label: &str, opts: &RenderOptions) {
    let _ = writeln!(
        body,
        "- **{}** ({}) {}\n  - {}",
        md(&f.rule),
        f.severity,
        md(&f.title),
        md(&f.message)
    );
    if let Some(loc) = location(f.evidence.origin.as_ref(), opts) {
        let _ = writeln!(body, "  - Where: {loc}");
    }
    let _ = writeln!(body, "  - {fix_label}: {}", fix_text(&f.fix));
}

fn failures(audit: &Audit, opts: &RenderOptions) -> String {
    let groups = by_step(audit, Status::Fail);
    if groups.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for (step, findings) in groups {
        let _ = writeln!(body, "### {}\n", step.title());
        for f in findings {
            finding_item(&mut body, f, "Fix", opts);
        }
        body.push('\n');
    }
    render_section(&format!("Failures ({})", count(audit, Status::Fail)), &body)
}

/// Unknown rules one by one; blocked rules one line per root they wait on, since each would
/// repeat the root's reason.
fn not_evaluated(audit: &Audit) -> String {
    let unknown = with_status(audit, Status::Unknown);
    // One line per root, in the order the roots are first met (guide order).
    let mut blocked: Vec<((String, String), Vec<&str>)> = Vec::new();
    for f in with_status(audit, Status::Blocked) {
        let root = f.root_cause.clone().unwrap_or_default();
        let mut status = f
            .root_status
            .map_or("not passed", Status::as_str)
            .to_string();
        if super::unselected_root(audit, f).is_some() {
            status.push_str("; not among the selected rules");
        }
        let key = (root, status);
        match blocked.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rules)) => rules.push(&f.rule),
            None => blocked.push((key, vec![&f.rule])),
        }
    }
    if unknown.is_empty() && blocked.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for f in unknown {
        let _ = writeln!(
            body,
            "- **{}** ({}) {}: {}",
            md(&f.rule),
            f.severity,
            md(&f.title),
            md(&f.message)
        );
    }
    for ((root, status), rules) in blocked {
        let ids: Vec<String> = rules.iter().map(|r| md(r)).collect();
        let _ = writeln!(
            body,
            "- Blocked behind **{}** ({status}): {}",
            md(&root),
            ids.join(", ")
        );
    }
    let total = count(audit, Status::Unknown) + count(audit, Status::Blocked);
    render_section(&format!("Not evaluated ({total})"), &body)
}

fn manual(audit: &Audit, opts: &RenderOptions) -> String {
    let rows = with_status(audit, Status::Manual);
    if rows.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for f in rows {
        finding_item(&mut body, f, "How", opts);
    }
    render_section(
        &format!("Manual checks ({})", count(audit, Status::Manual)),
        &body,
    )
}

fn waived(audit: &Audit) -> String {
    let rows = with_status(audit, Status::Waived);
    if rows.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for f in rows {
        let _ = write!(body, "- **{}** {}", md(&f.rule), md(&f.title));
        if let Some(w) = &f.waiver {
            let _ = write!(body, " — was {}; waived: {}", w.original, md(&w.reason));
            if let Some(until) = &w.expires {
                let _ = write!(body, " (until {})", md(until));
            }
        }
        body.push('\n');
    }
    render_section(&format!("Waived ({})", count(audit, Status::Waived)), &body)
}

/// Collapsed: rules this kind of source can never answer.
fn skipped(audit: &Audit) -> String {
    let rows = with_status(audit, Status::Skipped);
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<details><summary>{} not applicable to this source</summary>\n\n",
        rows.len()
    );
    for f in rows {
        let _ = writeln!(
            out,
            "- **{}** {}: {}",
            md(&f.rule),
            md(&f.title),
            md(&f.message)
        );
    }
    out.push_str("\n</details>\n\n");
    out
}

/// Collapsed: one line per step with its passes, the rules under it.
fn passed(audit: &Audit) -> String {
    let groups = by_step(audit, Status::Pass);
    if groups.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<details><summary>✔ {} passed</summary>\n\n",
        count(audit, Status::Pass)
    );
    for (step, findings) in groups {
        let in_step = audit.findings.iter().filter(|f| f.step == step).count();
        let _ = writeln!(out, "- ✔ {} — {}/{in_step}", step.title(), findings.len());
        for f in findings {
            let _ = writeln!(out, "  - **{}** {}", md(&f.rule), md(&f.title));
        }
    }
    out.push_str("\n</details>\n\n");
    out
}

/// Worst first: the status a step's node is coloured by.
const WORST_FIRST: [Status; 7] = [
    Status::Fail,
    Status::Unknown,
    Status::Blocked,
    Status::Manual,
    Status::Waived,
    Status::Skipped,
    Status::Pass,
];

/// `fill`, `stroke`, `color` of each node class: the status colours of the table.
const CLASSES: [(&str, &str); 8] = [
    ("fail", "fill:#f8d7da,stroke:#cf222e,color:#82071e"),
    ("unknown", "fill:#fff8c5,stroke:#bf8700,color:#6b4500"),
    ("blocked", "fill:#ffe2cc,stroke:#bc4c00,color:#762c00"),
    ("manual", "fill:#ddf4ff,stroke:#0969da,color:#0a3069"),
    ("waived", "fill:#eaeef2,stroke:#6e7781,color:#24292f"),
    ("skipped", "fill:#f6f8fa,stroke:#8c959f,color:#57606a"),
    ("pass", "fill:#dafbe1,stroke:#1a7f37,color:#044f1e"),
    (
        "none",
        "fill:#ffffff,stroke:#8c959f,color:#57606a,stroke-dasharray:4 2",
    ),
];

/// The guide's steps in order, each node labelled with its counts and coloured by its worst
/// status; a step with no selected rule is drawn dashed.
fn flowchart(audit: &Audit) -> String {
    let mut out = String::from("```mermaid\nflowchart TD\n");
    let mut classes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, step) in Step::ALL.iter().enumerate() {
        let findings: Vec<&Finding> = audit.findings.iter().filter(|f| f.step == *step).collect();
        let mut counts: Vec<String> = Vec::new();
        for st in Status::ALL {
            let n = findings.iter().filter(|f| f.status == st).count();
            if n > 0 {
                counts.push(format!("{n} {st}"));
            }
        }
        let worst = WORST_FIRST
            .iter()
            .find(|st| findings.iter().any(|f| f.status == **st))
            .map_or("none", |st| st.as_str());
        let detail = if counts.is_empty() {
            "not selected".to_string()
        } else {
            counts.join(", ")
        };
        let _ = writeln!(
            out,
            "  s{i}[\"{}<br/>{}\"]",
            mermaid_label(step.title()),
            mermaid_label(&detail)
        );
        classes.entry(worst).or_default().push(format!("s{i}"));
    }
    let chain: Vec<String> = (0..Step::ALL.len()).map(|i| format!("s{i}")).collect();
    let _ = writeln!(out, "  {}", chain.join(" --> "));
    for (name, style) in CLASSES {
        if classes.contains_key(name) {
            let _ = writeln!(out, "  classDef {name} {style}");
        }
    }
    for (name, nodes) in &classes {
        let _ = writeln!(out, "  class {} {name}", nodes.join(","));
    }
    out.push_str("```\n");
    out
}
