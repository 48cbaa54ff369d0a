//! `eci-audit diff OLD NEW`: two runs compared. Each side is the results of a JSON report read
//! back, or of a snapshot (or metadata directory) audited with this run's settings; for two
//! audited inputs, the facts of both views are compared too. Pure: the inputs are read by `app`, the result rendered by
//! [`crate::report::diff`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::audit::{Audit, ExitStatus, FailOn, ReadKind};
use crate::baseline::{Compared, ReadReport};
use crate::facts::{Entry, Fact, FactView, Object, Root, Value, schema};
use crate::rules::{Severity, Status};

/// One side of a comparison.
#[derive(Debug, Clone)]
pub struct Side {
    /// The file, as given.
    pub input: String,
    pub kind: SideKind,
    /// The eci-audit version whose rules produced the results.
    pub tool_version: String,
    /// The report format version (`None` for a snapshot audited now).
    pub report_schema_version: Option<u32>,
    pub results: Vec<Compared>,
    /// Every fact of the view by path, for a snapshot.
    pub facts: Option<BTreeMap<String, FactState>>,
}

/// What a side was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SideKind {
    /// A JSON report: its results as they were.
    Report,
    /// A snapshot file, audited by this run.
    Snapshot,
    /// A metadata directory or retrieve zip, audited by this run.
    MetadataDir,
}

impl SideKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SideKind::Report => "report",
            SideKind::Snapshot => "snapshot",
            SideKind::MetadataDir => "metadata_dir",
        }
    }
}

impl Side {
    /// A JSON report read back.
    pub fn from_report(input: &str, report: &ReadReport) -> Side {
        Side {
            input: input.to_string(),
            kind: SideKind::Report,
            tool_version: report.tool.version.clone(),
            report_schema_version: Some(report.schema_version),
            results: report.results.iter().map(Compared::from).collect(),
            facts: None,
        }
    }

    /// A snapshot (or metadata directory) audited now, with its view's facts.
    pub fn from_audit(input: &str, audit: &Audit, view: &FactView) -> Side {
        Side {
            input: input.to_string(),
            kind: match audit.source.read {
                ReadKind::MetadataDir => SideKind::MetadataDir,
                ReadKind::SnapshotFile | ReadKind::LiveOrg => SideKind::Snapshot,
            },
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            report_schema_version: None,
            results: audit.findings.iter().map(Compared::from).collect(),
            facts: Some(facts_of(view)),
        }
    }
}

/// A fact's state in one view.
#[derive(Debug, Clone, PartialEq)]
pub enum FactState {
    Value(Value),
    Absent,
    NotCollected(String),
}

impl FactState {
    /// As the human formats show it.
    pub fn text(&self) -> String {
        match self {
            FactState::Value(v) => v.render(),
            FactState::Absent => "(absent)".to_string(),
            FactState::NotCollected(reason) => format!("(not collected: {reason})"),
        }
    }

    /// The typed value; `null` when absent or not collected.
    pub fn json(&self) -> serde_json::Value {
        match self {
            FactState::Value(v) => v.to_json(),
            FactState::Absent | FactState::NotCollected(_) => serde_json::Value::Null,
        }
    }
}

/// Every fact of the view by its path (`connected_apps[ECIConnectedApp].oauth_config.scopes`),
/// records of a collection by name, nested records flattened.
fn facts_of(view: &FactView) -> BTreeMap<String, FactState> {
    let mut out = BTreeMap::new();
    for spec in schema::ROOTS {
        match view.root(spec) {
            Root::Single(Entry::Found { object, .. }) => walk(object, spec.name, &mut out),
            Root::Single(Entry::Absent { .. }) => {
                out.insert(spec.name.to_string(), FactState::Absent);
            }
            Root::Single(Entry::NotCollected { reason }) => {
                out.insert(
                    spec.name.to_string(),
                    FactState::NotCollected(reason.clone()),
                );
            }
            Root::Set(set) => match &set.records {
                Err(reason) => {
                    out.insert(
                        spec.name.to_string(),
                        FactState::NotCollected(reason.clone()),
                    );
                }
                Ok(records) => {
                    for (i, record) in records.iter().enumerate() {
                        let name = record.name.clone().unwrap_or_else(|| format!("#{i}"));
                        walk(record, &format!("{}[{name}]", spec.name), &mut out);
                    }
                }
            },
        }
    }
    out
}

fn walk(object: &Object, prefix: &str, out: &mut BTreeMap<String, FactState>) {
    for (key, field) in &object.fields {
        let path = format!("{prefix}.{key}");
        let state = match &field.fact {
            Fact::Value(Value::Object(inner)) => {
                walk(inner, &path, out);
                continue;
            }
            Fact::Value(v) => FactState::Value(v.clone()),
            Fact::Absent { .. } => FactState::Absent,
            Fact::NotCollected { reason } => FactState::NotCollected(reason.clone()),
        };
        out.insert(path, state);
    }
}

/// How a rule's change reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Worse: a failure OLD did not have (OLD skipped aside), or a pass that can no longer be
    /// evaluated.
    Regression,
    /// A failure or an unevaluated rule of OLD that now passes.
    Fix,
    /// Anything else (waived, manual, skipped, a rule in one side only, …).
    Other,
}

/// A rule whose status changed.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleChange {
    pub kind: ChangeKind,
    pub rule: String,
    pub logical: String,
    pub title: String,
    pub severity: Severity,
    /// `None`: the rule is not in that side's results.
    pub old: Option<Status>,
    pub new: Option<Status>,
    /// For a `blocked` result, the status of the rule it is blocked behind.
    pub old_root: Option<Status>,
    pub new_root: Option<Status>,
    /// Whether NEW's result is a failure that gates at `--fail-on` (what makes exit 1).
    pub gates: bool,
    /// Whether this is a regression to a result NEW could not evaluate (unknown, or blocked
    /// behind a rule that could not be), at or above `--fail-on`: what makes exit 3.
    pub incomplete: bool,
    /// NEW's message, or OLD's when NEW has none.
    pub message: String,
}

/// A fact whose value changed.
#[derive(Debug, Clone, PartialEq)]
pub struct FactChange {
    pub path: String,
    /// `None`: the path is not in that view (e.g. a record only one side has).
    pub old: Option<FactState>,
    pub new: Option<FactState>,
}

/// The comparison.
#[derive(Debug, Clone)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    /// Regressions, then fixes, then other changes; each by severity (errors first), then ID.
    pub rules: Vec<RuleChange>,
    /// For two snapshots: the facts that changed, by path.
    pub facts: Option<Vec<FactChange>>,
    /// What the person should know (versions that differ, …).
    pub notices: Vec<String>,
    pub fail_on: FailOn,
    /// Failed (exit 1) when NEW has a failure at or above `--fail-on` OLD did not; else
    /// Incomplete (exit 3) when NEW lost results at or above it, unless `--allow-incomplete`.
    pub outcome: ExitStatus,
}

/// Ranks a status from good to bad for the rules whose order is clear: `pass`, not evaluated,
/// failure. `None` for waived, manual and skipped, which are neither better nor worse.
fn rank(c: &Compared) -> Option<u8> {
    if c.is_failure() {
        return Some(2);
    }
    match c.status {
        Status::Pass => Some(0),
        Status::Unknown | Status::Blocked => Some(1),
        _ => None,
    }
}

/// The status of the rule a blocked result is blocked behind; `None` for any other result.
fn root_of(c: &Compared) -> Option<Status> {
    if c.status == Status::Blocked {
        c.root_status
    } else {
        None
    }
}

fn classify(old: Option<&Compared>, new: Option<&Compared>) -> ChangeKind {
    let skipped = |c: Option<&Compared>| c.is_some_and(|c| c.status == Status::Skipped);
    // A rule not applicable to one source is neither a regression nor a fix.
    if skipped(old) || skipped(new) {
        return ChangeKind::Other;
    }
    let new_failure = new.is_some_and(Compared::is_failure);
    let old_failure = old.is_some_and(Compared::is_failure);
    if new_failure && !old_failure {
        return ChangeKind::Regression;
    }
    match (old.and_then(rank), new.and_then(rank)) {
        (Some(o), Some(n)) if n > o => ChangeKind::Regression,
        (Some(o), Some(0)) if o > 0 => ChangeKind::Fix,
        _ => ChangeKind::Other,
    }
}

/// Whether a result could not be evaluated and counts at `fail_on`, as
/// [`crate::audit::summarize`] decides incompleteness: unknown, or blocked behind a rule that
/// is unknown or blocked itself.
fn not_evaluated(c: &Compared, fail_on: FailOn) -> bool {
    match c.status {
        Status::Unknown => fail_on.counts(c.severity),
        Status::Blocked => {
            matches!(c.root_status, Some(Status::Unknown | Status::Blocked))
                && fail_on.counts(c.severity)
        }
        _ => false,
    }
}

/// Compares two sides. Results are matched by rule and logical location.
/// `allow_incomplete` turns the exit 3 of results NEW lost into 0, as for `check`.
pub fn compare(old: Side, new: Side, fail_on: FailOn, allow_incomplete: bool) -> Diff {
    let index = |side: &Side| -> BTreeMap<(String, String), Compared> {
        side.results
            .iter()
            .map(|c| ((c.rule.clone(), c.logical.clone()), c.clone()))
            .collect()
    };
    let (old_by, new_by) = (index(&old), index(&new));
    let keys: BTreeSet<&(String, String)> = old_by.keys().chain(new_by.keys()).collect();
    let mut rules = Vec::new();
    for key in keys {
        let (o, n) = (old_by.get(key), new_by.get(key));
        // A blocked result stands for its root: blocked behind an unknown rule, then behind a
        // failing one, is a new failure although the status itself stayed `blocked`.
        if o.map(|c| (c.status, root_of(c))) == n.map(|c| (c.status, root_of(c))) {
            continue;
        }
        let Some(either) = n.or(o) else { continue };
        let kind = classify(o, n);
        rules.push(RuleChange {
            kind,
            rule: either.rule.clone(),
            logical: either.logical.clone(),
            title: either.title.clone(),
            severity: either.severity,
            old: o.map(|c| c.status),
            new: n.map(|c| c.status),
            old_root: o.and_then(root_of),
            new_root: n.and_then(root_of),
            gates: kind == ChangeKind::Regression && n.is_some_and(|c| c.gates(fail_on)),
            incomplete: kind == ChangeKind::Regression
                && n.is_some_and(|c| not_evaluated(c, fail_on)),
            message: either.message.clone(),
        });
    }
    let order = |k: ChangeKind| match k {
        ChangeKind::Regression => 0,
        ChangeKind::Fix => 1,
        ChangeKind::Other => 2,
    };
    rules.sort_by(|a, b| {
        (
            order(a.kind),
            std::cmp::Reverse(a.severity),
            &a.rule,
            &a.logical,
        )
            .cmp(&(
                order(b.kind),
                std::cmp::Reverse(b.severity),
                &b.rule,
                &b.logical,
            ))
    });
    let facts = match (&old.facts, &new.facts) {
        (Some(o), Some(n)) => Some(fact_changes(o, n)),
        _ => None,
    };
    let notices = notices(&old, &new);
    let outcome = ExitStatus::decide(
        rules.iter().any(|c| c.gates),
        rules.iter().any(|c| c.incomplete),
        allow_incomplete,
    );
    Diff {
        old,
        new,
        rules,
        facts,
        notices,
        fail_on,
        outcome,
    }
}

fn fact_changes(
    old: &BTreeMap<String, FactState>,
    new: &BTreeMap<String, FactState>,
) -> Vec<FactChange> {
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let (o, n) = (old.get(path), new.get(path));
            (o != n).then(|| FactChange {
                path: path.clone(),
                old: o.cloned(),
                new: n.cloned(),
            })
        })
        .collect()
}

/// Differences that are not errors but change what the comparison means.
fn notices(old: &Side, new: &Side) -> Vec<String> {
    let mut out = Vec::new();
    if old.tool_version != new.tool_version {
        out.push(format!(
            "OLD's results come from eci-audit {}, NEW's from {}: rules changed between the versions may show as status changes",
            old.tool_version, new.tool_version
        ));
    }
    if let (Some(o), Some(n)) = (old.report_schema_version, new.report_schema_version)
        && o != n
    {
        out.push(format!(
            "OLD is a version {o} report, NEW a version {n} report"
        ));
    }
    let rules =
        |side: &Side| -> BTreeSet<String> { side.results.iter().map(|c| c.rule.clone()).collect() };
    let (o, n) = (rules(old), rules(new));
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| -> Vec<String> {
        a.difference(b).cloned().collect()
    };
    let (only_old, only_new) = (only(&o, &n), only(&n, &o));
    if !only_old.is_empty() {
        out.push(format!(
            "rules only in OLD (not selected in NEW, or not in its catalogue): {}",
            only_old.join(", ")
        ));
    }
    if !only_new.is_empty() {
        out.push(format!(
            "rules only in NEW (not selected in OLD, or not in its catalogue): {}",
            only_new.join(", ")
        ));
    }
    if old.facts.is_some() != new.facts.is_some() {
        out.push("facts are compared only between two audited inputs (snapshots, metadata directories): one side is a report".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Status) -> Compared {
        Compared {
            rule: "CAP007".into(),
            logical: "ConnectedApp/ECIConnectedApp".into(),
            title: "t".into(),
            severity: Severity::Error,
            status,
            message: String::new(),
            root_status: None,
            root_severity: None,
        }
    }

    fn kind(old: Option<Status>, new: Option<Status>) -> ChangeKind {
        let (o, n) = (old.map(result), new.map(result));
        classify(o.as_ref(), n.as_ref())
    }

    #[test]
    fn changes_are_classified() {
        use ChangeKind::{Fix, Other, Regression};
        use Status::{Blocked, Fail, Manual, Pass, Skipped, Unknown, Waived};
        for (old, new, want) in [
            (Some(Pass), Some(Fail), Regression),
            (Some(Unknown), Some(Fail), Regression),
            (Some(Waived), Some(Fail), Regression),
            (None, Some(Fail), Regression),
            (Some(Pass), Some(Unknown), Regression),
            (Some(Pass), Some(Blocked), Regression),
            (Some(Fail), Some(Pass), Fix),
            (Some(Unknown), Some(Pass), Fix),
            (Some(Fail), Some(Unknown), Other),
            (Some(Fail), Some(Waived), Other),
            (Some(Pass), Some(Manual), Other),
            (Some(Fail), None, Other),
            // Not applicable to one source: neither a regression nor a fix.
            (Some(Skipped), Some(Fail), Other),
            (Some(Fail), Some(Skipped), Other),
            (Some(Pass), Some(Skipped), Other),
            (Some(Skipped), Some(Pass), Other),
        ] {
            assert_eq!(kind(old, new), want, "{old:?} → {new:?}");
        }
    }

    #[test]
    fn blocked_behind_a_failure_is_a_failure_at_the_roots_severity() {
        let mut blocked = result(Status::Blocked);
        blocked.severity = Severity::Note;
        blocked.root_status = Some(Status::Fail);
        blocked.root_severity = Some(Severity::Error);
        assert_eq!(
            classify(Some(&result(Status::Pass)), Some(&blocked)),
            ChangeKind::Regression
        );
        assert!(blocked.gates(FailOn::Error));
        // A version 1 report has no root severity: the result's own counts.
        blocked.root_severity = None;
        assert!(!blocked.gates(FailOn::Error));
        assert!(blocked.gates(FailOn::Note));
    }

    #[test]
    fn only_gating_regressions_fail_the_comparison() {
        let side = |status: Status, severity: Severity| Side {
            input: "x".into(),
            kind: SideKind::Report,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            report_schema_version: Some(2),
            results: vec![Compared {
                severity,
                ..result(status)
            }],
            facts: None,
        };
        let d = compare(
            side(Status::Pass, Severity::Warning),
            side(Status::Fail, Severity::Warning),
            FailOn::Error,
            false,
        );
        assert_eq!(d.rules.len(), 1);
        assert_eq!(d.rules[0].kind, ChangeKind::Regression);
        assert!(!d.rules[0].gates);
        assert_eq!(d.outcome, ExitStatus::Passed);
        let d = compare(
            side(Status::Skipped, Severity::Error),
            side(Status::Fail, Severity::Error),
            FailOn::Error,
            false,
        );
        assert_eq!(
            d.outcome,
            ExitStatus::Passed,
            "skipped → fail does not gate"
        );
        let d = compare(
            side(Status::Pass, Severity::Error),
            side(Status::Fail, Severity::Error),
            FailOn::Error,
            false,
        );
        assert_eq!(d.outcome, ExitStatus::Failed);
    }
}
