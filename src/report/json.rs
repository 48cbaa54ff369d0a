//! The JSON report: a documented, stable document other tools parse. Keys are public API:
//! never rename them; add new ones only. The document is built from the typed structs below,
//! so that `eci-audit schema --report` (derived from them) describes exactly what is written.
//!
//! Version 2 changed the meaning of three keys, hence the new `schema_version`:
//! - `results[].actual` and `results[].expected` are typed values (lists as arrays, booleans
//!   as booleans, numbers as numbers, `null` when there is none); the words moved to
//!   `actual_text` and `expected_text`;
//! - `source.kind` says how this run read the org (`live_org`, `metadata_dir`,
//!   `snapshot_file`); what the snapshot itself says moved to `source.snapshot_kind`.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;
use serde_json::Value;

use super::RunError;
use crate::audit::{Audit, ExitStatus, FailOn, ReadKind};
use crate::baseline::{BaselineUse, fingerprint, logical_location};
use crate::rules::{Finding, Op, Severity, Status, Step};
use crate::snapshot::SourceKind;
use crate::snapshot::model::Origin;

/// The report format version (independent of the snapshot's).
pub const REPORT_SCHEMA_VERSION: u32 = 2;

/// The JSON report of one run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(
    title = "eci-audit JSON report",
    description = "The report of `eci-audit check --format json`: one result per selected rule, in guide order. On exit 2 the same top level with `error`, no `source` and no results."
)]
pub struct Report {
    /// The report format version; a key that changes meaning changes it.
    #[schemars(extend("const" = REPORT_SCHEMA_VERSION))]
    pub schema_version: u32,
    pub tool: Tool,
    /// What the run read. Absent from the error document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ReportSource>,
    pub summary: Summary,
    /// `check --baseline`: the run gated only on failures not in this earlier report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineUse>,
    /// Why the run could not happen (exit 2). Only in the error document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Things to know that are not results (expired or unused waivers, source notes, …).
    pub notices: Vec<String>,
    pub results: Vec<ReportResult>,
    /// Run-time evidence that is not a rule (recent Setup Audit Trail changes, calls
    /// arriving). Absent from the error document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::evidence::Evidence>,
}

/// The program that wrote the report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Tool {
    /// Always `eci-audit`.
    pub name: String,
    /// Its version: the rule catalogue is built into it.
    pub version: String,
}

/// What the run read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportSource {
    /// How this run read the org: from a live org, a metadata directory (or retrieve zip) or
    /// a snapshot file.
    pub kind: ReadKind,
    /// How the snapshot audited was made (a snapshot file collected from a live org says
    /// `live_org`; one written by hand `manual`).
    pub snapshot_kind: SourceKind,
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
    /// The config file the run applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
}

/// The verdict. The error document has `outcome` and `exit_code` only.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Summary {
    /// Rules reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    /// Results per status (every status, zeros included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<BTreeMap<String, usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<FailOn>,
    /// Rules at or above `fail_on` ended unknown or blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<bool>,
    pub outcome: ExitStatus,
    /// `outcome` as the process exit code.
    pub exit_code: i32,
    /// The rule to start with: the root cause the human formats put first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_here: Option<String>,
}

/// Why the run could not happen.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorInfo {
    /// What failed, as a stable word (`snapshot`, `metadata`, `collect`, `auth`, `rules`,
    /// `config`, `settings`, `report`, `write`, `usage`).
    pub kind: String,
    pub message: String,
}

/// One rule's result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportResult {
    /// The rule ID, e.g. `CAP006`.
    pub rule: String,
    pub title: String,
    /// The guide step.
    #[schemars(schema_with = "step_schema")]
    pub step: String,
    #[schemars(schema_with = "severity_schema")]
    pub severity: String,
    #[schemars(schema_with = "status_schema")]
    pub status: String,
    /// One line naming the actual value and the expected one, or the reason.
    pub message: String,
    /// The value the deciding check compares with, typed; `null` when it has none (an
    /// existence check, `non-empty`).
    #[schemars(schema_with = "typed_value_schema")]
    pub expected: Value,
    /// The expected value in words, from the rule file.
    pub expected_text: String,
    /// How `actual` is compared with `expected` (the deciding assertion's operator); absent
    /// for an existence check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ReportComparison>,
    /// The value read, typed; `null` when none was read or the fact is absent.
    #[schemars(schema_with = "typed_value_schema")]
    pub actual: Value,
    /// The value read, as the table shows it (`(absent)` for an absent fact); `null` when
    /// none was read.
    pub actual_text: Option<String>,
    pub evidence: ReportEvidence,
    pub fix: String,
    /// Rules that must pass before this one is evaluated.
    pub requires: Vec<String>,
    /// A stable hash of the rule and its logical location (SARIF's `partialFingerprints`
    /// `eciAudit/v1`): what `check --baseline` and `diff` match results by.
    pub fingerprint: String,
    /// For `blocked`: the rule at the root of the chain, how it ended and its severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "optional_status_schema")]
    pub root_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "optional_severity_schema")]
    pub root_severity: Option<String>,
    /// For `waived`: the waiver and the status it hid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<ReportWaiver>,
}

/// An assertion's operator as the rule file spells it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportComparison {
    #[schemars(schema_with = "operator_schema")]
    pub operator: String,
    /// Applied to each entry of a list value: `any`, `all` or `none` of them must satisfy it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "each_schema")]
    pub each: Option<String>,
    /// The assertion holds when the comparison does not.
    pub negate: bool,
    /// Case (and, for `equals`, spacing) is ignored.
    pub ignore_case: bool,
}

/// What proved a result.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct ReportEvidence {
    /// Where the deciding value stands, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// For a value read from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<FileLocation>,
    /// The fact's path, e.g. `connected_apps[ECIConnectedApp].oauth_config.scopes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// How a derived or defaulted value came about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The logical location, e.g. `ConnectedApp/ECIConnectedApp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logical_location: Option<String>,
}

/// A position in a metadata file (1-based).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileLocation {
    pub path: String,
    pub line: u32,
    pub column: u32,
}

/// A waiver that turned a result into `waived`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportWaiver {
    pub reason: String,
    /// Last day it applies; `null` never expires.
    pub expires: Option<String>,
    #[schemars(schema_with = "status_schema")]
    pub original_status: String,
}

fn string_enum(values: &[&str], description: &str) -> Schema {
    json_schema!({"type": "string", "enum": values, "description": description})
}

fn status_schema(_: &mut SchemaGenerator) -> Schema {
    let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    string_enum(&all, "How the rule ended.")
}

fn optional_status_schema(_: &mut SchemaGenerator) -> Schema {
    let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    json_schema!({"type": ["string", "null"], "enum": all})
}

fn severity_schema(_: &mut SchemaGenerator) -> Schema {
    let all: Vec<&str> = SEVERITIES.iter().map(|s| s.as_str()).collect();
    string_enum(&all, "How bad a failure of the rule is.")
}

fn optional_severity_schema(_: &mut SchemaGenerator) -> Schema {
    let all: Vec<&str> = SEVERITIES.iter().map(|s| s.as_str()).collect();
    json_schema!({"type": ["string", "null"], "enum": all})
}

const SEVERITIES: [Severity; 3] = [Severity::Note, Severity::Warning, Severity::Error];

fn operator_schema(_: &mut SchemaGenerator) -> Schema {
    let all: Vec<&str> = OPERATORS.iter().map(|o| o.as_str()).collect();
    string_enum(&all, "The operator, as rule files spell it.")
}

/// Every operator (the test below fails to compile when one is added and not listed).
const OPERATORS: [Op; 8] = [
    Op::Equals,
    Op::OneOf,
    Op::ContainsAll,
    Op::TokenSetEquals,
    Op::NonEmpty,
    Op::UrlEquals,
    Op::HostEquals,
    Op::Regex,
];

fn each_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": ["any", "all", "none"]})
}

fn step_schema(_: &mut SchemaGenerator) -> Schema {
    let all: Vec<&str> = Step::ALL.iter().map(|s| s.key()).collect();
    string_enum(&all, "The guide step the rule checks.")
}

/// A fact's value: the view holds booleans, integers, strings and lists of them.
fn typed_value_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": ["boolean", "integer", "string", "array", "null"],
        "items": {"type": ["boolean", "integer", "string"]}
    })
}

/// The JSON Schema of the report (`eci-audit schema --report`).
pub fn report_schema() -> Value {
    schemars::schema_for!(Report).to_value()
}

/// Renders the audit as pretty JSON with a trailing newline.
pub fn render(audit: &Audit) -> String {
    pretty(&to_value(&report(audit)))
}

/// The document of a run that could not happen (exit 2): the report's top level, with the
/// outcome `error`, the error's kind and message, and no results, so a consumer that reads
/// `summary.exit_code` or walks `results` needs no second shape.
pub fn render_error(error: &RunError) -> String {
    let status = ExitStatus::Error;
    let doc = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: tool(),
        source: None,
        summary: Summary {
            total: None,
            counts: None,
            fail_on: None,
            incomplete: None,
            outcome: status,
            exit_code: status.exit_code(),
            start_here: None,
        },
        baseline: None,
        evidence: None,
        error: Some(ErrorInfo {
            kind: error.kind.to_string(),
            message: error.message.clone(),
        }),
        notices: Vec::new(),
        results: Vec::new(),
    };
    pretty(&to_value(&doc))
}

/// Pretty JSON of a document already built as a `Value`: formatting one cannot fail.
pub fn pretty(doc: &Value) -> String {
    format!("{doc:#}\n")
}

/// The typed document as a `Value`. Every field is a string, number, map with string keys
/// or a derived struct, so serializing cannot fail; `Null` would only hide a bug the schema
/// test catches.
fn to_value(doc: &impl Serialize) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

fn tool() -> Tool {
    Tool {
        name: "eci-audit".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The report of an audit.
pub fn report(audit: &Audit) -> Report {
    let s = &audit.source;
    let v = &audit.summary;
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: tool(),
        source: Some(ReportSource {
            kind: s.read,
            snapshot_kind: s.kind,
            input: s.input.clone(),
            description: s.description.clone(),
            org_id: s.org_id.clone(),
            instance_url: s.instance_url.clone(),
            api_version: s.api_version.clone(),
            collected_at: s.collected_at.clone(),
            config_file: s.config_file.clone(),
        }),
        summary: Summary {
            total: Some(v.total),
            counts: Some(
                v.counts
                    .iter()
                    .map(|(k, n)| ((*k).to_string(), *n))
                    .collect(),
            ),
            fail_on: Some(v.fail_on),
            incomplete: Some(v.incomplete),
            outcome: v.outcome,
            exit_code: v.exit_code,
            start_here: v.start_here_rule.clone(),
        },
        baseline: audit.baseline.clone(),
        error: None,
        notices: audit.notices.clone(),
        results: audit.findings.iter().map(result).collect(),
        evidence: Some(audit.evidence.clone()),
    }
}

/// The report as a JSON value.
pub fn document(audit: &Audit) -> Value {
    to_value(&report(audit))
}

/// One result.
pub fn result(f: &Finding) -> ReportResult {
    let mut evidence = ReportEvidence::default();
    if let Some(origin) = &f.evidence.origin {
        evidence.source = Some(origin.display());
        evidence.origin = Some(origin.clone());
        if let Origin::File { path, line, column } = origin {
            evidence.location = Some(FileLocation {
                path: path.clone(),
                line: *line,
                column: *column,
            });
        }
    }
    evidence.fact.clone_from(&f.evidence.fact);
    evidence.note.clone_from(&f.evidence.note);
    evidence.logical_location.clone_from(&f.evidence.logical);
    let typed =
        |v: Option<&crate::facts::Value>| v.map_or(Value::Null, crate::facts::Value::to_json);
    ReportResult {
        rule: f.rule.clone(),
        title: f.title.clone(),
        step: f.step.key().to_string(),
        severity: f.severity.as_str().to_string(),
        status: f.status.as_str().to_string(),
        message: f.message.clone(),
        expected: typed(f.expected_value.as_ref()),
        expected_text: f.expected.clone(),
        comparison: f.comparison.map(|c| ReportComparison {
            operator: c.operator.to_string(),
            each: c.each.map(str::to_string),
            negate: c.negate,
            ignore_case: c.ignore_case,
        }),
        actual: typed(f.actual_value.as_ref()),
        actual_text: f.actual.clone(),
        evidence,
        fix: f.fix.clone(),
        requires: f.requires.clone(),
        fingerprint: fingerprint(&f.rule, &logical_location(f)),
        root_cause: f.root_cause.clone(),
        root_status: f.root_status.map(|s| s.as_str().to_string()),
        root_severity: f.root_severity.map(|s| s.as_str().to_string()),
        waiver: f.waiver.as_ref().map(|w| ReportWaiver {
            reason: w.reason.clone(),
            expires: w.expires.clone(),
            original_status: w.original.as_str().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_is_listed_in_the_schema() {
        // Exhaustive: a new operator is a compile error here until it is listed above.
        let listed = |op: Op| match op {
            Op::Equals
            | Op::OneOf
            | Op::ContainsAll
            | Op::TokenSetEquals
            | Op::NonEmpty
            | Op::UrlEquals
            | Op::HostEquals
            | Op::Regex => OPERATORS.contains(&op),
        };
        assert!(OPERATORS.iter().all(|op| listed(*op)));
        let schema = report_schema();
        let text = schema.to_string();
        for op in OPERATORS {
            assert!(text.contains(&format!("\"{}\"", op.as_str())), "{op:?}");
        }
    }
}
