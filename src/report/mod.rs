//! One emitter per format, chosen by one `match` on [`Format`]. Emitters return strings; only
//! `main` writes them out.

pub mod catalogue;
pub mod diff;
pub mod escape;
pub mod evidence;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod sarif;
pub mod settings;
pub mod table;

use std::path::{Component, Path, PathBuf};

use crate::audit::{Audit, ExitStatus, Verdict};
use crate::rules::{Catalogue, Severity, Status};

/// `--format`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Table,
    Json,
    Sarif,
    // Plain comments, not doc comments: clap would turn those into per-value help and switch
    // `--help` to its long layout.
    // GitHub-flavoured Markdown: a step summary, a PR comment, a support ticket.
    Markdown,
    // JUnit XML, as GitLab, Jenkins and Azure DevOps read test reports.
    Junit,
    // GitHub Actions workflow commands (`::error file=…::…`): annotations on the run.
    Github,
}

/// Rendering choices that are not part of the audit.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours in the table.
    pub color: bool,
    /// Table width; `None` lets the table take what it needs.
    pub width: Option<u16>,
    /// `--show-passed`: the table lists every rule instead of one line per passing step.
    pub show_passed: bool,
    /// Paths under this folder are written relative to it (SARIF wants repository-relative
    /// URIs).
    pub base_dir: Option<PathBuf>,
}

/// Why a run could not happen (exit 2), as the documents describe it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunError {
    /// What failed, as a stable word: `snapshot`, `metadata`, `collect`, `auth`, `rules`,
    /// `config`, `settings`, `report` (a baseline or diff input that is no report), `write`
    /// or `usage`.
    pub kind: &'static str,
    pub message: String,
}

/// What a run produced.
#[derive(Debug, Clone, Copy)]
pub enum Run<'a> {
    Audit {
        audit: &'a Audit,
        catalogue: &'a Catalogue,
    },
    Error(&'a RunError),
}

/// Renders the run in the chosen format: the report of an audit, or the error document of a
/// run that could not happen. `None` when the format has no error document (the table: the
/// error goes to standard error only).
pub fn render(format: Format, run: Run<'_>, opts: &RenderOptions) -> Option<String> {
    let doc = match (format, run) {
        (Format::Table, Run::Audit { audit, .. }) => Some(table::render(audit, opts)),
        (Format::Table, Run::Error(_)) => None,
        (Format::Json, Run::Audit { audit, .. }) => Some(json::render(audit)),
        (Format::Json, Run::Error(error)) => Some(json::render_error(error)),
        (Format::Sarif, Run::Audit { audit, catalogue }) => {
            Some(sarif::render(audit, catalogue, opts))
        }
        (Format::Sarif, Run::Error(error)) => Some(sarif::render_error(&error.message)),
        (Format::Markdown, Run::Audit { audit, catalogue }) => {
            Some(markdown::render(audit, catalogue, opts))
        }
        (Format::Markdown, Run::Error(error)) => Some(markdown::render_error(error)),
        (Format::Junit, Run::Audit { audit, .. }) => Some(junit::render(audit, opts)),
        (Format::Junit, Run::Error(error)) => Some(junit::render_error(error)),
        (Format::Github, Run::Audit { audit, .. }) => Some(github::render(audit, opts)),
        (Format::Github, Run::Error(error)) => Some(github::render_error(error)),
    };
    // The table, Markdown, `JUnit` and GitHub formats escape as they render; the JSON documents
    // are made safe for a terminal here.
    match format {
        Format::Table | Format::Markdown | Format::Junit | Format::Github => doc,
        Format::Json | Format::Sarif => doc.map(escape::json),
    }
}

/// For a blocked finding whose root rule was not selected (so the root has no result of its
/// own in the report): how that root ended and its severity. The verdict counts such a rule as
/// its root's failure or incompleteness, so the machine formats must show it as one.
pub fn unselected_root(audit: &Audit, f: &crate::rules::Finding) -> Option<(Status, Severity)> {
    let root = f.root_cause.as_deref()?;
    if f.status != Status::Blocked || audit.findings.iter().any(|g| g.rule == root) {
        return None;
    }
    Some((f.root_status?, f.root_severity.unwrap_or(f.severity)))
}

/// `54 pass, 7 fail, 2 manual`: the statuses that occurred, in [`Status::ALL`] order (`0 fail`
/// when nothing failed, so a pass says so).
pub fn counts_text(summary: &Verdict) -> String {
    let count = |st: Status| summary.count(st);
    Status::ALL
        .iter()
        .filter(|&&st| count(st) > 0 || st == Status::Fail)
        .map(|&st| format!("{} {st}", count(st)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict in words, with what it does not cover: failures below `--fail-on`, an
/// incomplete audit let through, checks left to a person.
pub fn verdict_text(s: &Verdict) -> String {
    let mut verdict = match s.outcome {
        ExitStatus::Passed if s.not_gating_failures > 0 => format!(
            "{} failure{} (not gating: --fail-on {})",
            s.not_gating_failures,
            if s.not_gating_failures == 1 { "" } else { "s" },
            s.fail_on.as_str()
        ),
        ExitStatus::Passed if s.incomplete => {
            "passed with --allow-incomplete (audit incomplete)".to_string()
        }
        ExitStatus::Passed => "passed".to_string(),
        ExitStatus::Failed => format!("failed (failures at or above {})", s.fail_on.as_str()),
        ExitStatus::Incomplete => format!(
            "incomplete (rules at or above {} not evaluated)",
            s.fail_on.as_str()
        ),
        ExitStatus::Error => "could not run".to_string(),
    };
    if s.outcome == ExitStatus::Passed && !s.manual.is_empty() {
        verdict.push_str(&format!(
            " — {} check{} need{} a manual look: {}",
            s.manual.len(),
            if s.manual.len() == 1 { "" } else { "s" },
            if s.manual.len() == 1 { "s" } else { "" },
            s.manual.join(", ")
        ));
    }
    verdict
}

/// A metadata file's path as the annotation and Markdown formats show it: relative to `base`
/// (the repository root in CI) when it lies under it, with `/` separators; `.` and `..`
/// resolved without touching the file system. A path outside `base` stays absolute.
pub fn relative_path(path: &str, base: Option<&Path>) -> String {
    let p = Path::new(path);
    let absolute = match base {
        Some(b) if !p.is_absolute() => normalize(&b.join(p)),
        _ => normalize(p),
    };
    let shown = match base {
        Some(b) => absolute
            .strip_prefix(normalize(b))
            .map_or(absolute.clone(), Path::to_path_buf),
        None => absolute,
    };
    shown.to_string_lossy().replace('\\', "/")
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
