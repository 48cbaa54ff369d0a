//! Results matched across runs: the logical location and fingerprint every format shares
//! (SARIF's `partialFingerprints`, the JSON report's `fingerprint`), reading a JSON report
//! back, and `check --baseline REPORT`, which gates only on failures the earlier report did
//! not have. Pure apart from [`read_input`], which reads one bounded file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::{Audit, ExitStatus, FailOn, gates};
use crate::rules::{Finding, Severity, Status};
use crate::snapshot::load::{BoundedReadError, MAX_SNAPSHOT_BYTES, read_bounded, strip_position};

/// The logical location a result is matched by: `ConnectedApp/ECIConnectedApp`, or the rule
/// ID for a rule without a subject name.
pub fn logical_location(f: &Finding) -> String {
    f.evidence.logical.clone().unwrap_or_else(|| f.rule.clone())
}

/// A stable hash of the rule and its logical location, never of the message (which names
/// values that change with a fix): SARIF's `eciAudit/v1` fingerprint.
pub fn fingerprint(rule: &str, logical: &str) -> String {
    crate::text::sha256_hex(format!("{rule}|{logical}").as_bytes(), 16)
}

/// What `check --baseline` did: the JSON report's `baseline`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BaselineUse {
    /// The baseline report, as given.
    pub file: String,
    /// Failures at or above `fail_on` that the baseline does not have: they alone gate.
    pub new_failures: Vec<String>,
    /// Failures of the baseline whose rule now passes.
    pub fixed: Vec<String>,
}

/// Why a report (or a `diff` input) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a regular file", path.display())]
    NotRegularFile { path: PathBuf },
    #[error(
        "{}: larger than the limit of {} MiB; refusing to read it",
        path.display(),
        limit / (1024 * 1024)
    )]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}:{line}:{column}: not an eci-audit JSON report: {message}", path.display())]
    NotAReport {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{}: is the error document of a run that could not happen (exit 2); compare with the report of a run that finished",
        path.display()
    )]
    ErrorDocument { path: PathBuf },
}

/// Reads a whole file of at most [`MAX_SNAPSHOT_BYTES`] (a report is smaller than the
/// snapshot it was made from), a regular file only.
pub fn read_input(path: &Path) -> Result<Vec<u8>, ReportFileError> {
    let path_buf = path.to_path_buf();
    read_bounded(path).map_err(|e| match e {
        BoundedReadError::Io(source) => ReportFileError::Read {
            path: path_buf,
            source,
        },
        BoundedReadError::NotRegularFile => ReportFileError::NotRegularFile { path: path_buf },
        BoundedReadError::TooLarge => ReportFileError::TooLarge {
            path: path_buf,
            limit: MAX_SNAPSHOT_BYTES,
        },
    })
}

/// A JSON report read back: the keys every report version since 1 has, leniently (keys
/// added later are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct ReadReport {
    pub schema_version: u32,
    pub tool: ReadTool,
    #[serde(default)]
    pub source: Option<ReadSource>,
    pub summary: ReadSummary,
    pub results: Vec<ReadResult>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReadTool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReadSource {
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub org_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReadSummary {
    pub outcome: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReadResult {
    pub rule: String,
    #[serde(default)]
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub evidence: ReadEvidence,
    #[serde(default)]
    pub root_status: Option<Status>,
    /// Absent from version 1 reports.
    #[serde(default)]
    pub root_severity: Option<Severity>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReadEvidence {
    #[serde(default)]
    pub logical_location: Option<String>,
}

/// One rule's result as runs are compared: from a finding or from a report read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub rule: String,
    pub logical: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub message: String,
    pub root_status: Option<Status>,
    pub root_severity: Option<Severity>,
}

impl Compared {
    /// What results are matched by.
    pub fn key(&self) -> (&str, &str) {
        (&self.rule, &self.logical)
    }

    /// A failure at any severity: `fail`, or blocked behind a failure (it stands for it).
    pub fn is_failure(&self) -> bool {
        self.status == Status::Fail
            || (self.status == Status::Blocked && self.root_status == Some(Status::Fail))
    }

    /// A failure that gates at `fail_on`, as [`crate::audit::gates`] decides for a finding.
    /// A version 1 report has no `root_severity`; a blocked result then counts at its own.
    pub fn gates(&self, fail_on: FailOn) -> bool {
        match self.status {
            Status::Fail => fail_on.counts(self.severity),
            Status::Blocked if self.root_status == Some(Status::Fail) => {
                fail_on.counts(self.root_severity.unwrap_or(self.severity))
            }
            _ => false,
        }
    }
}

impl From<&Finding> for Compared {
    fn from(f: &Finding) -> Self {
        Compared {
            rule: f.rule.clone(),
            logical: logical_location(f),
            title: f.title.clone(),
            severity: f.severity,
            status: f.status,
            message: f.message.clone(),
            root_status: f.root_status,
            root_severity: f.root_severity,
        }
    }
}

impl From<&ReadResult> for Compared {
    fn from(r: &ReadResult) -> Self {
        Compared {
            rule: r.rule.clone(),
            logical: r
                .evidence
                .logical_location
                .clone()
                .unwrap_or_else(|| r.rule.clone()),
            title: r.title.clone(),
            severity: r.severity,
            status: r.status,
            message: r.message.clone(),
            root_status: r.root_status,
            root_severity: r.root_severity,
        }
    }
}

/// Whether a parsed JSON document has the shape of an eci-audit report (rather than a
/// snapshot, a SARIF log or anything else).
fn looks_like_report(doc: &serde_json::Value) -> bool {
    doc.get("tool")
        .and_then(|t| t.get("name"))
        .and_then(serde_json::Value::as_str)
        == Some("eci-audit")
        && doc.get("results").is_some_and(serde_json::Value::is_array)
}

/// Parses a JSON report; `path` names the input in errors, which carry the line and column.
pub fn parse_report(bytes: &[u8], path: &Path) -> Result<ReadReport, ReportFileError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|e| at(path, &e))?;
    if !looks_like_report(&doc) {
        let what = if doc.get("runs").is_some() {
            "it looks like a SARIF log; write the report with --format json"
        } else if doc.get("schema_version").is_some() && doc.get("results").is_none() {
            "it looks like a snapshot; audit it and write the report with --format json"
        } else {
            "no `tool.name` \"eci-audit\" and `results` list at the top level"
        };
        return Err(ReportFileError::NotAReport {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: what.to_string(),
        });
    }
    typed_report(body, path)
}

/// The report in `bytes`, or `None` when they hold no eci-audit report at all (a snapshot,
/// say): one look at the document serves both the sniffing and the check.
pub fn parse_if_report(bytes: &[u8], path: &Path) -> Result<Option<ReadReport>, ReportFileError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(doc) if looks_like_report(&doc) => typed_report(body, path).map(Some),
        _ => Ok(None),
    }
}

/// The typed parse, from the bytes so that an error keeps its line and column.
fn typed_report(body: &[u8], path: &Path) -> Result<ReadReport, ReportFileError> {
    let report: ReadReport = serde_json::from_slice(body).map_err(|e| at(path, &e))?;
    if report.summary.outcome == "error" {
        return Err(ReportFileError::ErrorDocument {
            path: path.to_path_buf(),
        });
    }
    Ok(report)
}

fn at(path: &Path, e: &serde_json::Error) -> ReportFileError {
    ReportFileError::NotAReport {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    }
}

/// Reads and parses a baseline report.
pub fn read_report(path: &Path) -> Result<ReadReport, ReportFileError> {
    parse_report(&read_input(path)?, path)
}

/// `check --baseline`: the run gates only on failures at or above `fail_on` that the
/// baseline does not have (matched by rule and logical location, like SARIF fingerprints),
/// and lists the baseline's failures whose rule now passes. The verdict is recomputed from
/// the new failures: none left means the run passes, or is incomplete as before.
pub fn apply(audit: &mut Audit, baseline: &ReadReport, file: &str, allow_incomplete: bool) {
    let known: BTreeSet<(String, String)> = baseline
        .results
        .iter()
        .map(Compared::from)
        .filter(Compared::is_failure)
        .map(|c| (c.rule, c.logical))
        .collect();
    let fail_on = audit.summary.fail_on;
    let key = |f: &Finding| (f.rule.clone(), logical_location(f));
    let new_failures: Vec<String> = audit
        .findings
        .iter()
        .filter(|f| gates(f, fail_on) && !known.contains(&key(f)))
        .map(|f| f.rule.clone())
        .collect();
    let fixed: Vec<String> = audit
        .findings
        .iter()
        .filter(|f| f.status == Status::Pass && known.contains(&key(f)))
        .map(|f| f.rule.clone())
        .collect();
    let still: usize = audit
        .findings
        .iter()
        .filter(|f| gates(f, fail_on) && known.contains(&key(f)))
        .count();
    let outcome = ExitStatus::decide(
        !new_failures.is_empty(),
        audit.summary.incomplete,
        allow_incomplete,
    );
    audit.summary.outcome = outcome;
    audit.summary.exit_code = outcome.exit_code();
    let mut notices = Vec::new();
    notices.push(if new_failures.is_empty() {
        format!(
            "baseline {file}: no new failure; {still} failure(s) in the baseline do not gate this run"
        )
    } else {
        format!(
            "baseline {file}: new failure(s) not in the baseline: {}; {still} failure(s) in the baseline do not gate this run",
            new_failures.join(", ")
        )
    });
    if !fixed.is_empty() {
        notices.push(format!(
            "baseline {file}: fixed since the baseline: {}",
            fixed.join(", ")
        ));
    }
    // A baseline of another org hides this org's failures that merely share a rule and a
    // location: said, since the gate then means little.
    if let (Some(theirs), Some(ours)) = (
        baseline.source.as_ref().and_then(|s| s.org_id.as_deref()),
        audit.source.org_id.as_deref(),
    ) && theirs != ours
    {
        notices.push(format!(
            "baseline {file} is of org {theirs}, this run of org {ours}: failures are matched across orgs"
        ));
    }
    let version = env!("CARGO_PKG_VERSION");
    if baseline.tool.version != version {
        notices.push(format!(
            "baseline {file} was written by eci-audit {}, this is {version}: rules changed between versions may show as new failures or fixes",
            baseline.tool.version
        ));
    }
    audit.notices.extend(notices);
    audit.baseline = Some(BaselineUse {
        file: file.to_string(),
        new_failures,
        fixed,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditOptions, run};
    use crate::rules::Catalogue;

    fn broken_audit() -> Audit {
        let snap: crate::snapshot::Snapshot =
            serde_json::from_str(include_str!("../fixtures/snapshots/broken.json")).unwrap();
        let catalogue = Catalogue::embedded().unwrap();
        let opts = AuditOptions {
            settings: crate::facts::Settings::new(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            ),
            selected: catalogue.ids().map(String::from).collect(),
            waivers: Vec::new(),
            fail_on: FailOn::Error,
            allow_incomplete: false,
            config_file: None,
        };
        run(&snap, "broken.json", &catalogue, &opts)
    }

    /// The report of an audit, read back as a baseline.
    fn read_back(audit: &Audit) -> ReadReport {
        let text = crate::report::json::render(audit);
        parse_report(text.as_bytes(), Path::new("base.json")).unwrap()
    }

    #[test]
    fn a_report_reads_back_as_its_own_baseline() {
        let mut audit = broken_audit();
        assert_eq!(audit.summary.outcome, ExitStatus::Failed);
        let base = read_back(&audit);
        assert_eq!(base.results.len(), audit.findings.len());
        apply(&mut audit, &base, "base.json", false);
        assert_eq!(audit.summary.outcome, ExitStatus::Passed);
        assert_eq!(audit.summary.exit_code, 0);
        let used = audit.baseline.as_ref().unwrap();
        assert!(used.new_failures.is_empty() && used.fixed.is_empty());
    }

    #[test]
    fn a_skipped_rule_is_neither_new_nor_fixed() {
        let base_audit = broken_audit();
        let base = read_back(&base_audit);
        let mut now = base_audit.clone();
        for f in &mut now.findings {
            if f.status == Status::Fail || f.rule == "ORG001" {
                f.status = Status::Skipped;
            }
        }
        apply(&mut now, &base, "base.json", false);
        let used = now.baseline.as_ref().unwrap();
        assert!(used.new_failures.is_empty(), "{used:?}");
        assert!(used.fixed.is_empty(), "{used:?}");
        assert_eq!(now.summary.outcome, ExitStatus::Passed);
    }

    #[test]
    fn new_failures_gate_and_passes_are_fixed() {
        let base_audit = broken_audit();
        let base = read_back(&base_audit);
        let mut now = base_audit.clone();
        for f in &mut now.findings {
            match f.rule.as_str() {
                "CAP007" => f.status = Status::Pass,
                "ORG001" => f.status = Status::Fail,
                _ => {}
            }
        }
        apply(&mut now, &base, "base.json", false);
        let used = now.baseline.as_ref().unwrap();
        assert_eq!(used.new_failures, ["ORG001"]);
        assert_eq!(used.fixed, ["CAP007"]);
        assert_eq!(now.summary.outcome, ExitStatus::Failed);
        assert!(
            now.notices
                .iter()
                .any(|n| n.contains("fixed since the baseline: CAP007"))
        );
    }

    #[test]
    fn the_fingerprint_hashes_rule_and_location_only() {
        assert_eq!(
            fingerprint("CAP007", "ConnectedApp/ECIConnectedApp"),
            fingerprint("CAP007", "ConnectedApp/ECIConnectedApp")
        );
        assert_ne!(
            fingerprint("CAP007", "ConnectedApp/ECIConnectedApp"),
            fingerprint("CAP007", "ConnectedApp/Other")
        );
        assert_eq!(fingerprint("A", "B").len(), 32);
    }
}
