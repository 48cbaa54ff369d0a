//! The JSON report: a documented, stable document other tools parse. Keys are public API:
//! never rename them; add new ones only.

use serde_json::{Value, json};

use super::RunError;
use crate::audit::{Audit, ExitStatus};
use crate::rules::Finding;
use crate::snapshot::model::Origin;

/// The report format version (independent of the snapshot's).
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Renders the audit as pretty JSON with a trailing newline.
pub fn render(audit: &Audit) -> String {
    pretty(&document(audit))
}

/// The document of a run that could not happen (exit 2): the report's top level, with the
/// outcome `error`, the error's kind and message, and no results, so a consumer that reads
/// `summary.exit_code` or walks `results` needs no second shape.
pub fn render_error(error: &RunError) -> String {
    let status = ExitStatus::Error;
    pretty(&json!({
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": tool(),
        "summary": {"outcome": status, "exit_code": status.exit_code()},
        "error": error,
        "notices": [],
        "results": [],
    }))
}

/// Pretty JSON of a document already built as a `Value`: formatting one cannot fail.
pub fn pretty(doc: &Value) -> String {
    format!("{doc:#}\n")
}

fn tool() -> Value {
    json!({"name": "eci-audit", "version": env!("CARGO_PKG_VERSION")})
}

/// The report as a JSON value.
pub fn document(audit: &Audit) -> Value {
    json!({
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": tool(),
        "source": audit.source,
        "summary": audit.summary,
        "notices": audit.notices,
        "results": audit.findings.iter().map(result).collect::<Vec<_>>(),
        "evidence": super::evidence::json(&audit.evidence),
    })
}

/// One result object.
pub fn result(f: &Finding) -> Value {
    let mut evidence = serde_json::Map::new();
    if let Some(origin) = &f.evidence.origin {
        evidence.insert("source".into(), Value::String(origin.display()));
        evidence.insert(
            "origin".into(),
            serde_json::to_value(origin).unwrap_or(Value::Null),
        );
        if let Origin::File { path, line, column } = origin {
            evidence.insert(
                "location".into(),
                json!({"path": path, "line": line, "column": column}),
            );
        }
    }
    if let Some(fact) = &f.evidence.fact {
        evidence.insert("fact".into(), Value::String(fact.clone()));
    }
    if let Some(note) = &f.evidence.note {
        evidence.insert("note".into(), Value::String(note.clone()));
    }
    if let Some(logical) = &f.evidence.logical {
        evidence.insert("logical_location".into(), Value::String(logical.clone()));
    }
    let mut out = json!({
        "rule": f.rule,
        "title": f.title,
        "step": f.step.key(),
        "severity": f.severity.as_str(),
        "status": f.status.as_str(),
        "message": f.message,
        "expected": f.expected,
        "actual": f.actual,
        "evidence": evidence,
        "fix": f.fix,
        "requires": f.requires,
    });
    if let Some(root) = &f.root_cause {
        out["root_cause"] = Value::String(root.clone());
    }
    if let Some(status) = f.root_status {
        out["root_status"] = Value::String(status.as_str().to_string());
    }
    if let Some(w) = &f.waiver {
        out["waiver"] = json!({"reason": w.reason, "expires": w.expires, "original_status": w.original.as_str()});
    }
    out
}
