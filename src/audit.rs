//! One audit: snapshot + settings + catalogue → findings, waivers applied, summary and the
//! exit-code decision. Pure: no I/O, no printing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::facts::{FactView, Settings};
use crate::rules::eval::{EvalContext, SourceReach, evaluate_with_waivers};
use crate::rules::{Catalogue, Finding, Severity, Status};
use crate::snapshot::metadata::NOT_IN_METADATA_DIR;
use crate::snapshot::{Snapshot, SourceKind};

/// `--fail-on`: the lowest severity whose failures fail the run.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    /// Whether a finding of this severity counts.
    pub fn counts(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Note => true,
            FailOn::Never => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Note => "note",
            FailOn::Never => "never",
        }
    }
}

/// A waiver from the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiver {
    pub rule: String,
    pub reason: String,
    /// Last day the waiver applies; `None` never expires.
    pub expires: Option<NaiveDate>,
}

/// How a run read the org: the JSON report's `source.kind`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    /// From a live org, during this run.
    LiveOrg,
    /// From a metadata directory or retrieve zip (org data perhaps merged from a snapshot).
    MetadataDir,
    /// From a snapshot file, however that snapshot was made.
    SnapshotFile,
}

impl ReadKind {
    /// What a snapshot's own provenance says about how it was read, when the caller does not
    /// say (`app` does): a snapshot made by hand can only have come from a file.
    pub fn of(kind: SourceKind) -> ReadKind {
        match kind {
            SourceKind::LiveOrg => ReadKind::LiveOrg,
            SourceKind::MetadataDir => ReadKind::MetadataDir,
            SourceKind::Manual => ReadKind::SnapshotFile,
        }
    }
}

/// What the audit read, for report headers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceReport {
    /// How the snapshot was made (its own `source.kind`).
    pub kind: SourceKind,
    /// How this run read the org.
    #[serde(skip)]
    pub read: ReadKind,
    /// What the user pointed at: a snapshot file, a directory, an instance URL.
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// The config file the run applied (its `select`, `ignore` and waivers change the verdict),
    /// so that one found in the current folder is never applied silently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
}

/// How a run ends, as `main` turns it into the process exit code (the public contract in
/// STYLE.md). The audit decides the first three; `Error` is a run that could not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExitStatus {
    /// Exit 0: nothing at or above `--fail-on` failed (or the command was not an audit and
    /// succeeded).
    Passed,
    /// Exit 1: a failure at or above `--fail-on`.
    Failed,
    /// Exit 3: no failure, but rules at or above `--fail-on` were not evaluated.
    Incomplete,
    /// Exit 2: the tool could not run.
    Error,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Passed => 0,
            ExitStatus::Failed => 1,
            ExitStatus::Error => 2,
            ExitStatus::Incomplete => 3,
        }
    }

    /// The code as the reports write it.
    /// The exit-code contract in one place: a gating failure fails; otherwise rules not
    /// evaluated make the run incomplete unless that is allowed; else it passed.
    pub fn decide(failed: bool, incomplete: bool, allow_incomplete: bool) -> ExitStatus {
        if failed {
            ExitStatus::Failed
        } else if incomplete && !allow_incomplete {
            ExitStatus::Incomplete
        } else {
            ExitStatus::Passed
        }
    }

    pub fn exit_code(self) -> i32 {
        i32::from(self.code())
    }
}

/// Where to start fixing: the root cause the report puts first. Decided once, with the exit
/// status, so that every human format names the same rule.
#[derive(Debug, Clone, PartialEq)]
pub enum StartHere {
    /// The first root-cause failure in guide order, errors first.
    Failure {
        rule: String,
        title: String,
        message: String,
    },
    /// A selected rule is blocked behind a failure of a rule that was not selected, and no
    /// selected rule failed with an error: the unselected rule gates the run.
    UnselectedFailure {
        root: String,
        blocked: String,
        message: String,
    },
    /// Nothing failed, but the audit is incomplete: the first rule at or above `--fail-on`
    /// that was not evaluated, by its root cause.
    NotEvaluated { root: String, message: String },
}

/// The run's verdict: counts, incompleteness, the exit status and where to start. The
/// serialized fields are the JSON report's `summary` (public keys: never renamed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub total: usize,
    /// Rules that applied to the source (every status but `skipped`). Zero: the run checked
    /// nothing, which the caller refuses (exit 2) rather than calling it a pass.
    #[serde(skip)]
    pub evaluated: usize,
    pub counts: BTreeMap<&'static str, usize>,
    pub fail_on: FailOn,
    /// Rules at or above `--fail-on` that ended unknown or blocked.
    pub incomplete: bool,
    pub outcome: ExitStatus,
    /// `outcome` as a number, for the reports.
    pub exit_code: i32,
    #[serde(skip)]
    pub start_here: Option<StartHere>,
    /// The rule to start with (the root cause `start_here` names), for machines.
    #[serde(rename = "start_here", skip_serializing_if = "Option::is_none")]
    pub start_here_rule: Option<String>,
    /// Every rule that was not evaluated (unknown or blocked, at any severity), in guide order.
    #[serde(skip)]
    pub not_evaluated: Vec<String>,
    /// Rules at or above `--fail-on` left to a person (`manual`): what a pass does not cover.
    #[serde(skip)]
    pub manual: Vec<String>,
    /// Failures that do not gate the exit code (below `--fail-on`, or `--fail-on never`).
    #[serde(skip)]
    pub not_gating_failures: usize,
}

impl Verdict {
    /// How many rules ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.counts.get(status.as_str()).copied().unwrap_or(0)
    }
}

/// A finished audit, ready to render.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Selected findings, in guide order (step, then ID).
    pub findings: Vec<Finding>,
    pub source: SourceReport,
    pub summary: Verdict,
    /// Things the person should know that are not findings (expired waivers, …).
    pub notices: Vec<String>,
    /// `check --baseline`: what the run gated on (set by [`crate::baseline::apply`]).
    pub baseline: Option<crate::baseline::BaselineUse>,
    /// Recent changes and calls arriving (not rules).
    pub evidence: crate::facts::evidence::Evidence,
}

impl Audit {
    /// The findings of the rules that were not evaluated, as the verdict lists them.
    pub fn not_evaluated(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| self.summary.not_evaluated.contains(&f.rule))
    }
}

/// Whether a result means the rule could not be evaluated (its data was missing, or a rule it
/// requires did not pass).
pub fn is_not_evaluated(status: Status) -> bool {
    matches!(status, Status::Unknown | Status::Blocked)
}

/// Whether a finding fails the run at `fail_on`: a failure of a counted severity, or a rule
/// blocked behind one (it stands for that failure, at the failing rule's severity, even when
/// that rule was not selected).
pub fn gates(f: &Finding, fail_on: FailOn) -> bool {
    (f.status == Status::Fail && fail_on.counts(f.severity))
        || (f.status == Status::Blocked
            && f.root_status == Some(Status::Fail)
            && f.root_severity.is_some_and(|s| fail_on.counts(s)))
}

/// Everything an audit needs besides the snapshot.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub settings: Settings,
    pub selected: BTreeSet<String>,
    pub waivers: Vec<Waiver>,
    pub fail_on: FailOn,
    pub allow_incomplete: bool,
    /// The config file read, if any (reported, not read here).
    pub config_file: Option<std::path::PathBuf>,
}

/// Runs the catalogue over the snapshot; the run read it the way the snapshot says it was
/// made (see [`run_as`] when the run read it otherwise, e.g. from a saved file).
pub fn run(snapshot: &Snapshot, input: &str, catalogue: &Catalogue, opts: &AuditOptions) -> Audit {
    run_as(
        snapshot,
        input,
        ReadKind::of(snapshot.source.kind),
        catalogue,
        opts,
    )
}

/// [`run`], saying how this run read the org (`source.kind` of the report).
pub fn run_as(
    snapshot: &Snapshot,
    input: &str,
    read: ReadKind,
    catalogue: &Catalogue,
    opts: &AuditOptions,
) -> Audit {
    let view = FactView::build(snapshot, &opts.settings);
    let today = opts.settings.today;
    let mut notices = snapshot.source.notes.clone();
    for w in &opts.waivers {
        if let Some(exp) = w.expires
            && exp < today
        {
            notices.push(format!(
                "waiver for {} expired on {exp}; not applied",
                w.rule
            ));
        }
    }
    let waiver_for = |rule: &str| {
        opts.waivers
            .iter()
            .find(|w| w.rule == rule && w.expires.is_none_or(|d| d >= today))
            .map(|w| (w.reason.clone(), w.expires.map(|d| d.to_string())))
    };
    let ctx = EvalContext {
        reach: source_reach(snapshot),
        selected: Some(&opts.selected),
    };
    let all = evaluate_with_waivers(catalogue, &view, &waiver_for, ctx);
    // An active waiver whose rule passed (or was left to a person) waives nothing: it would
    // silently hide the next regression, so it is reported like an expired one.
    for w in &opts.waivers {
        let active = w.expires.is_none_or(|d| d >= today);
        let used = all
            .iter()
            .any(|f| f.rule == w.rule && f.status == Status::Waived);
        if active && !used && opts.selected.contains(&w.rule) {
            notices.push(format!(
                "waiver for {} is unused: the rule has no failing, unknown or blocked result to waive; remove it",
                w.rule
            ));
        }
    }
    let mut findings: Vec<Finding> = all
        .into_iter()
        .filter(|f| opts.selected.contains(&f.rule))
        .collect();
    findings.sort_by(|a, b| (a.step, &a.rule).cmp(&(b.step, &b.rule)));
    let summary = summarize(&findings, opts.fail_on, opts.allow_incomplete);
    let evidence = crate::facts::evidence::build(snapshot, &opts.settings, &findings);
    let src = &snapshot.source;
    Audit {
        evidence,
        findings,
        source: SourceReport {
            kind: src.kind,
            read,
            input: input.to_string(),
            description: src.description.clone(),
            org_id: src.org_id.clone().or(snapshot.org.id.clone()),
            instance_url: src
                .instance_url
                .clone()
                .or(snapshot.org.instance_url.clone()),
            api_version: src.api_version.clone(),
            collected_at: src.collected_at.clone(),
            config_file: opts.config_file.as_ref().map(|p| p.display().to_string()),
        },
        summary,
        notices,
        baseline: None,
    }
}

/// What the snapshot's source can hold. A metadata directory read on its own marks the org's
/// collections (users, assignments, domains) not collected with [`NOT_IN_METADATA_DIR`]:
/// this kind of source cannot hold them, whatever is retrieved. Merged with an org snapshot
/// (`--snapshot`), they hold the snapshot's data or its own reason, and the org's facts are
/// in reach again.
pub fn source_reach(snapshot: &Snapshot) -> SourceReach {
    let files_only = snapshot.source.kind == SourceKind::MetadataDir
        && snapshot.users.reason() == Some(NOT_IN_METADATA_DIR)
        && snapshot.permission_set_assignments.reason() == Some(NOT_IN_METADATA_DIR);
    if files_only {
        SourceReach::FilesOnly
    } else {
        SourceReach::Org
    }
}

/// Counts statuses, decides the exit status per the public contract and picks where to start.
pub fn summarize(findings: &[Finding], fail_on: FailOn, allow_incomplete: bool) -> Verdict {
    let mut counts: BTreeMap<&'static str, usize> =
        Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for f in findings {
        *counts.entry(f.status.as_str()).or_default() += 1;
    }
    // A rule blocked behind a failure stands for that failure, at the failing rule's
    // severity, even when that rule was not selected. Blocked behind a waived or manual rule
    // is neither a failure nor incompleteness; blocked behind an unknown one is incomplete.
    let failed = findings.iter().any(|f| gates(f, fail_on));
    let counts_as_incomplete = |f: &Finding| match f.status {
        Status::Unknown => fail_on.counts(f.severity),
        Status::Blocked => {
            matches!(f.root_status, Some(Status::Unknown | Status::Blocked))
                && fail_on.counts(f.severity)
        }
        _ => false,
    };
    let incomplete = findings.iter().any(counts_as_incomplete);
    let outcome = ExitStatus::decide(failed, incomplete, allow_incomplete);
    let start = start_here(findings, fail_on, outcome);
    let start_here_rule = start.as_ref().map(|s| match s {
        StartHere::Failure { rule, .. } => rule.clone(),
        StartHere::UnselectedFailure { root, .. } | StartHere::NotEvaluated { root, .. } => {
            root.clone()
        }
    });
    Verdict {
        total: findings.len(),
        evaluated: findings
            .iter()
            .filter(|f| f.status != Status::Skipped)
            .count(),
        counts,
        fail_on,
        incomplete,
        outcome,
        exit_code: outcome.exit_code(),
        start_here: start,
        start_here_rule,
        not_evaluated: findings
            .iter()
            .filter(|f| is_not_evaluated(f.status))
            .map(|f| f.rule.clone())
            .collect(),
        manual: findings
            .iter()
            .filter(|f| f.status == Status::Manual && fail_on.counts(f.severity))
            .map(|f| f.rule.clone())
            .collect(),
        not_gating_failures: findings
            .iter()
            .filter(|f| f.status == Status::Fail && !fail_on.counts(f.severity))
            .count(),
    }
}

/// The first root-cause failure (an error before anything else); else a selected rule blocked
/// behind an unselected failure; else the first failure of any severity; else, when the run
/// is incomplete, the first rule at or above `--fail-on` that was not evaluated.
fn start_here(findings: &[Finding], fail_on: FailOn, outcome: ExitStatus) -> Option<StartHere> {
    let failure = |f: &Finding| StartHere::Failure {
        rule: f.rule.clone(),
        title: f.title.clone(),
        message: f.message.clone(),
    };
    let fails = || findings.iter().filter(|f| f.status == Status::Fail);
    if let Some(f) = fails().find(|f| f.severity == Severity::Error) {
        return Some(failure(f));
    }
    let selected = |id: &str| findings.iter().any(|f| f.rule == id);
    let behind_unselected = findings.iter().find_map(|f| match &f.root_cause {
        Some(root)
            if f.status == Status::Blocked
                && f.root_status == Some(Status::Fail)
                && !selected(root) =>
        {
            Some(StartHere::UnselectedFailure {
                root: root.clone(),
                blocked: f.rule.clone(),
                message: f.message.clone(),
            })
        }
        _ => None,
    });
    if behind_unselected.is_some() {
        return behind_unselected;
    }
    if let Some(f) = fails().next() {
        return Some(failure(f));
    }
    if outcome != ExitStatus::Incomplete {
        return None;
    }
    findings
        .iter()
        .find(|f| is_not_evaluated(f.status) && fail_on.counts(f.severity))
        .map(|f| match (&f.root_cause, &f.root_message) {
            // Blocked: the root's own reason, and which selected rule waits on it, never
            // "X could not be evaluated: blocked: requires X".
            (Some(root), Some(reason)) => StartHere::NotEvaluated {
                root: root.clone(),
                message: format!("{reason} ({} depends on it)", f.rule),
            },
            _ => StartHere::NotEvaluated {
                root: f.rule.clone(),
                message: f.message.clone(),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::model::Collection;

    #[test]
    fn only_a_metadata_directory_without_org_data_is_files_only() {
        let mut files = Snapshot::empty(SourceKind::MetadataDir);
        files.users = Collection::not_collected(NOT_IN_METADATA_DIR);
        files.permission_set_assignments = Collection::not_collected(NOT_IN_METADATA_DIR);
        assert_eq!(source_reach(&files), SourceReach::FilesOnly);
        // Merged with a snapshot that was refused the users: a gap, not out of reach.
        let mut merged = files.clone();
        merged.users = Collection::not_collected("INSUFFICIENT_ACCESS");
        assert_eq!(source_reach(&merged), SourceReach::Org);
        // The same reason in a snapshot of another kind proves nothing about its source.
        let mut live = files;
        live.source.kind = SourceKind::LiveOrg;
        assert_eq!(source_reach(&live), SourceReach::Org);
    }
}
