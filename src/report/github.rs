//! GitHub Actions workflow commands (`--format github`), one per line, which the runner turns
//! into annotations on the run and, with a file, on the pull request's diff:
//!
//! - `fail` → `::error` / `::warning` / `::notice` by the rule's severity, with
//!   `file=…,line=…,col=…` when the evidence is a metadata file (relative to the base folder,
//!   as in SARIF), without it when the evidence is in the org (a record, a component);
//! - `unknown` → `::warning` (the rule could not be evaluated);
//! - `manual` → `::notice` (a person must look);
//! - `blocked`, `waived`, `skipped` and `pass` → nothing of their own (a blocked rule would
//!   repeat its root's annotation); the closing `::notice` counts them. Except a rule blocked
//!   behind a rule that was not selected: it stands for that root (once per root), at the
//!   root's level, since the root has no annotation.
//! - The notices (expired or unused waivers) → `::warning`, and a summary `::notice` last.
//!
//! Values are percent-encoded as the runner decodes them ([`super::escape::github_data`],
//! [`super::escape::github_property`]): a value holding a line break cannot start a second
//! command (`::set-env`, `::add-mask`).

use std::fmt::Write as _;

use super::escape::{github_data, github_property};
use super::{RenderOptions, RunError};
use crate::audit::{Audit, StartHere};
use crate::rules::{Finding, Severity, Status};
use crate::snapshot::model::Origin;

/// Renders the audit as workflow commands.
pub fn render(audit: &Audit, opts: &RenderOptions) -> String {
    let mut out = String::new();
    let mut roots_shown: Vec<&str> = Vec::new();
    for f in &audit.findings {
        let (command, text) = match f.status {
            // Behind a rule that was not selected, the blocked rule is the only one that can
            // carry the root's failure (or incompleteness): once per root.
            Status::Blocked => match (super::unselected_root(audit, f), &f.root_cause) {
                (Some((root_status, severity)), Some(root))
                    if !roots_shown.contains(&root.as_str()) =>
                {
                    roots_shown.push(root);
                    let others: Vec<&str> = audit
                        .findings
                        .iter()
                        .filter(|g| g.rule != f.rule && g.root_cause.as_ref() == Some(root))
                        .map(|g| g.rule.as_str())
                        .collect();
                    let also = if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (also blocks {})", others.join(", "))
                    };
                    let text = format!("{root} is not selected: {}{also}", f.message);
                    match root_status {
                        Status::Fail => (level(severity), text),
                        Status::Unknown | Status::Blocked => ("warning", text),
                        _ => continue,
                    }
                }
                _ => continue,
            },
            Status::Fail => (level(f.severity), format!("{} — Fix: {}", f.message, f.fix)),
            Status::Unknown => ("warning", format!("Not evaluated: {}", f.message)),
            Status::Manual => ("notice", format!("{} — How: {}", f.message, f.fix)),
            Status::Pass | Status::Waived | Status::Skipped => continue,
        };
        let _ = writeln!(out, "{}", annotation(command, f, opts, &text));
    }
    for notice in &audit.notices {
        let _ = writeln!(
            out,
            "::warning title=eci-audit notice::{}",
            github_data(notice)
        );
    }
    let s = &audit.summary;
    let mut summary = format!(
        "{} rules: {} — {}",
        s.total,
        super::counts_text(s),
        super::verdict_text(s)
    );
    if let Some(start) = &s.start_here {
        let rule = match start {
            StartHere::Failure { rule, .. } => rule,
            StartHere::UnselectedFailure { root, .. } | StartHere::NotEvaluated { root, .. } => {
                root
            }
        };
        let _ = write!(summary, "; start here: {rule}");
    }
    let _ = writeln!(
        out,
        "::notice title=eci-audit (exit {})::{}",
        s.exit_code,
        github_data(&summary)
    );
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

fn annotation(command: &str, f: &Finding, opts: &RenderOptions, text: &str) -> String {
    let mut props = String::new();
    if let Some(Origin::File { path, line, column }) = &f.evidence.origin {
        let _ = write!(
            props,
            "file={},line={},col={},",
            github_property(&super::relative_path(path, opts.base_dir.as_deref())),
            (*line).max(1),
            (*column).max(1)
        );
    }
    let _ = write!(
        props,
        "title={}",
        github_property(&format!("{} {}", f.rule, f.title))
    );
    let where_ = match &f.evidence.origin {
        // Not a file: say where in the org, since the annotation has no location of its own.
        Some(origin) if !matches!(origin, Origin::File { .. }) => {
            format!(" (at {})", origin.display())
        }
        _ => String::new(),
    };
    format!(
        "::{command} {props}::{}",
        github_data(&format!("{text}{where_}"))
    )
}

/// The commands of a run that could not happen (exit 2): one `::error`.
pub fn render_error(error: &RunError) -> String {
    format!(
        "::error title=eci-audit::{}\n",
        github_data(&format!(
            "could not run ({}): {}",
            error.kind, error.message
        ))
    )
}
