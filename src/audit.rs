//! One audit: snapshot + settings + catalogue → findings, waivers applied, summary and the
//! exit-code decision. Pure: no I/O, no printing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::facts::{FactView, Settings};
use crate::rules::eval::evaluate_with_waivers;
use crate::rules::{Catalogue, Finding, Severity, Status};
use crate::snapshot::{Snapshot, SourceKind};

/// `--fail-on`: the lowest severity whose failures fail the run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum,
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

/// What the audit read, for report headers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceReport {
    pub kind: SourceKind,
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
}

/// How the run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Exit 0.
    Passed,
    /// Exit 1.
    Failed,
    /// Exit 3.
    Incomplete,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
            Outcome::Incomplete => 3,
        }
    }
}

/// Counts and the decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub total: usize,
    pub counts: BTreeMap<&'static str, usize>,
    pub fail_on: FailOn,
    /// Rules at or above `--fail-on` that ended unknown or blocked.
    pub incomplete: bool,
    pub outcome: Outcome,
    pub exit_code: i32,
}

/// A finished audit, ready to render.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Selected findings, in guide order (step, then ID).
    pub findings: Vec<Finding>,
    pub source: SourceReport,
    pub summary: Summary,
    /// Things the person should know that are not findings (expired waivers, …).
    pub notices: Vec<String>,
}

impl Audit {
    /// The first root-cause failure: the first `fail` in guide order, errors first.
    pub fn start_here(&self) -> Option<&Finding> {
        let fails = || self.findings.iter().filter(|f| f.status == Status::Fail);
        fails()
            .find(|f| f.severity == Severity::Error)
            .or_else(|| fails().next())
    }

    /// A selected rule blocked behind a failure of a rule that was not selected: when no
    /// selected rule failed with an error, this is what gates the run.
    pub fn blocked_by_unselected_failure(&self) -> Option<&Finding> {
        let selected = |id: &str| self.findings.iter().any(|f| f.rule == id);
        self.findings.iter().find(|f| {
            f.status == Status::Blocked
                && f.root_status == Some(Status::Fail)
                && f.root_cause.as_deref().is_some_and(|r| !selected(r))
        })
    }
}

/// Everything an audit needs besides the snapshot.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub settings: Settings,
    pub selected: BTreeSet<String>,
    pub waivers: Vec<Waiver>,
    pub fail_on: FailOn,
    pub allow_incomplete: bool,
}

/// Runs the catalogue over the snapshot.
pub fn run(snapshot: &Snapshot, input: &str, catalogue: &Catalogue, opts: &AuditOptions) -> Audit {
    let view = FactView::build(snapshot, &opts.settings);
    let today = opts.settings.today;
    let mut notices = Vec::new();
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
    let all = evaluate_with_waivers(catalogue, &view, &waiver_for);
    let mut findings: Vec<Finding> = all
        .into_iter()
        .filter(|f| opts.selected.contains(&f.rule))
        .collect();
    findings.sort_by(|a, b| (a.step, &a.rule).cmp(&(b.step, &b.rule)));
    let summary = summarize(&findings, opts.fail_on, opts.allow_incomplete);
    let src = &snapshot.source;
    Audit {
        findings,
        source: SourceReport {
            kind: src.kind,
            input: input.to_string(),
            description: src.description.clone(),
            org_id: src.org_id.clone().or(snapshot.org.id.clone()),
            instance_url: src
                .instance_url
                .clone()
                .or(snapshot.org.instance_url.clone()),
            api_version: src.api_version.clone(),
            collected_at: src.collected_at.clone(),
        },
        summary,
        notices,
    }
}

/// Counts statuses and decides the exit code per the public contract.
pub fn summarize(findings: &[Finding], fail_on: FailOn, allow_incomplete: bool) -> Summary {
    let mut counts: BTreeMap<&'static str, usize> =
        Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for f in findings {
        *counts.entry(f.status.as_str()).or_default() += 1;
    }
    // A rule blocked by a failure stands for that failure, even when the failing rule itself
    // was not selected.
    // A rule blocked behind a failure stands for that failure, at the failing rule's
    // severity, even when that rule was not selected. Blocked behind a waived or manual rule
    // is neither a failure nor incompleteness; blocked behind an unknown one is incomplete.
    let failed = findings.iter().any(|f| {
        (f.status == Status::Fail && fail_on.counts(f.severity))
            || (f.status == Status::Blocked
                && f.root_status == Some(Status::Fail)
                && f.root_severity.is_some_and(|s| fail_on.counts(s)))
    });
    let incomplete = findings.iter().any(|f| match f.status {
        Status::Unknown => fail_on.counts(f.severity),
        Status::Blocked => {
            matches!(f.root_status, Some(Status::Unknown | Status::Blocked))
                && fail_on.counts(f.severity)
        }
        _ => false,
    });
    let outcome = if failed {
        Outcome::Failed
    } else if incomplete && !allow_incomplete {
        Outcome::Incomplete
    } else {
        Outcome::Passed
    };
    Summary {
        total: findings.len(),
        counts,
        fail_on,
        incomplete,
        outcome,
        exit_code: outcome.exit_code(),
    }
}
