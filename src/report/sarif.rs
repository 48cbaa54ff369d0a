//! SARIF 2.1.0 for code scanning. Every result carries a physicalLocation (GitHub rejects the
//! whole upload otherwise): the metadata file and line when the evidence is a file, else the
//! audited input. Fingerprints hash the rule and the logical location, never the message, so
//! they stay stable across runs.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool,
    ToolComponent,
};

use crate::audit::{Audit, is_not_evaluated};
use crate::rules::{Catalogue, Finding, Rule, Severity, Status};
use crate::snapshot::model::Origin;

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders the audit as SARIF 2.1.0 JSON.
pub fn render(audit: &Audit, catalogue: &Catalogue, opts: &super::RenderOptions) -> String {
    let rules: Vec<&Rule> = catalogue
        .in_guide_order()
        .into_iter()
        .filter(|r| audit.findings.iter().any(|f| f.rule == r.id))
        .collect();
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let descriptors: Vec<ReportingDescriptor> = rules.iter().map(|r| descriptor(r)).collect();

    let results: Vec<SarifResult> = audit
        .findings
        .iter()
        .filter(|f| {
            // Passes and manual checks are not results; a waived finding is, suppressed, so it
            // stays visible; blocked and unknown ones show that the audit is incomplete.
            matches!(f.status, Status::Fail | Status::Waived) || is_not_evaluated(f.status)
        })
        .map(|f| result(f, index.get(f.rule.as_str()).copied(), audit, opts))
        .collect();

    let note = |level: &str, text: String| {
        Notification::builder()
            .level(json!(level))
            .message(Message::builder().text(text).build())
            .build()
    };
    let mut notifications: Vec<Notification> = audit
        .not_evaluated()
        .map(|f| note("note", format!("{} {}: {}", f.rule, f.status, f.message)))
        .collect();
    notifications.extend(audit.notices.iter().map(|n| note("warning", n.clone())));
    let mut inv_props = BTreeMap::new();
    inv_props.insert("incomplete".to_string(), json!(audit.summary.incomplete));
    inv_props.insert("outcome".to_string(), json!(audit.summary.outcome));
    inv_props.insert("exitCode".to_string(), json!(audit.summary.exit_code));
    inv_props.insert("counts".to_string(), json!(audit.summary.counts));
    inv_props.insert(
        "notEvaluated".to_string(),
        json!(audit.summary.not_evaluated),
    );
    // Rules that do not apply to this source (org-only data, metadata directory) raise no
    // result: an alert nobody can fix from the repository would stay open forever. They are
    // named here, so the run still says what it did not check.
    let skipped: Vec<&str> = audit
        .findings
        .iter()
        .filter(|f| f.status == Status::Skipped)
        .map(|f| f.rule.as_str())
        .collect();
    inv_props.insert("skipped".to_string(), json!(skipped));
    let invocation = Invocation::builder()
        .execution_successful(true)
        .tool_execution_notifications(notifications)
        .properties(
            PropertyBag::builder()
                .additional_properties(inv_props)
                .build(),
        )
        .build();
    let evidence = BTreeMap::from([(
        "evidence".to_string(),
        super::evidence::json(&audit.evidence),
    )]);
    document(descriptors, results, invocation, evidence)
}

/// One run of eci-audit as a SARIF 2.1.0 document, pretty JSON with a trailing newline.
fn document(
    rules: Vec<ReportingDescriptor>,
    results: Vec<SarifResult>,
    invocation: Invocation,
    run_properties: BTreeMap<String, serde_json::Value>,
) -> String {
    let driver = ToolComponent::builder()
        .name("eci-audit")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .build();
    let mut run = run;
    if !run_properties.is_empty() {
        run.properties = Some(
            PropertyBag::builder()
                .additional_properties(run_properties)
                .build(),
        );
    }
    let sarif = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut s = serde_json::to_string_pretty(&sarif).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

fn level(sev: Severity) -> ResultLevel {
    match sev {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

fn descriptor(r: &Rule) -> ReportingDescriptor {
    let text = format!(
        "{}\n\nExpected: {}\n\nWhy: {}\n\nFix: {}",
        r.requirement, r.expected, r.rationale, r.fix
    );
    let markdown = format!(
        "**{}** ({})\n\n{}\n\n**Expected:** {}\n\n**Why:** {}\n\n**Fix:** {}",
        r.title,
        r.step.title(),
        r.requirement,
        r.expected,
        r.rationale,
        r.fix
    );
    let mut props = BTreeMap::new();
    props.insert("step".to_string(), json!(r.step.key()));
    props.insert("requires".to_string(), json!(r.requires));
    let text_only = |t: &str| MultiformatMessageString::builder().text(t).build();
    ReportingDescriptor::builder()
        .id(r.id.clone())
        .name(camel(&r.title))
        .short_description(text_only(&r.title))
        .full_description(text_only(&r.requirement))
        .help(
            MultiformatMessageString::builder()
                .text(text)
                .markdown(markdown)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level_str(r.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec!["eci".to_string(), r.step.key().to_string()])
                .additional_properties(props)
                .build(),
        )
        .build()
}

fn level_str(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `Connected app ECIConnectedApp exists` → `ConnectedAppEciconnectedappExists`-like `PascalCase`
/// of the words, as SARIF `name` wants an identifier.
fn camel(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(first) => first.to_uppercase().chain(cs).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// A SARIF artifact location for a path: repository-relative paths get `uriBaseId`
/// `%SRCROOT%` and percent-encoding (a file named `Custom%3A Sales Profile…` must decode back
/// to itself); absolute paths outside `base` become `file://` URIs; URLs stay as they are.
fn artifact(path: &str, base: Option<&Path>) -> ArtifactLocation {
    use super::normalize;
    if path.contains("://") {
        return ArtifactLocation::builder().uri(path.to_string()).build();
    }
    let p = Path::new(path);
    // A path that leaves the base folder (`../x`, or absolute elsewhere) is not
    // repository-relative: it becomes an absolute `file://` URI.
    let absolute = match base {
        Some(b) if !p.is_absolute() => normalize(&b.join(p)),
        _ => normalize(p),
    };
    let relative = match base {
        Some(b) => absolute.strip_prefix(b).ok().map(Path::to_path_buf),
        None if !p.is_absolute() => Some(normalize(p)),
        None => None,
    };
    if let Some(rel) = relative {
        let text = rel.to_string_lossy().replace('\\', "/");
        ArtifactLocation::builder()
            .uri(encode_path(&text))
            .uri_base_id("%SRCROOT%")
            .build()
    } else {
        let text = absolute.to_string_lossy().replace('\\', "/");
        ArtifactLocation::builder()
            .uri(format!("file://{}", encode_path(&text)))
            .build()
    }
}

/// Percent-encodes everything but unreserved characters and the path delimiters.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The SARIF document of a run that could not complete (exit 2): no results, the error as a
/// tool execution notification, `executionSuccessful: false`, so that a CI upload step still
/// finds a valid file.
pub fn render_error(error: &str) -> String {
    let notification = Notification::builder()
        .level(json!("error"))
        .message(Message::builder().text(error.to_string()).build())
        .build();
    let invocation = Invocation::builder()
        .execution_successful(false)
        .tool_execution_notifications(vec![notification])
        .build();
    document(Vec::new(), Vec::new(), invocation, BTreeMap::new())
}

fn result(
    f: &Finding,
    rule_index: Option<usize>,
    audit: &Audit,
    opts: &super::RenderOptions,
) -> SarifResult {
    let base = opts.base_dir.as_deref();
    let (artifact_location, region) = match &f.evidence.origin {
        Some(Origin::File { path, line, column }) => (
            artifact(path, base),
            Region::builder()
                .start_line(i64::from((*line).max(1)))
                .start_column(i64::from((*column).max(1)))
                .build(),
        ),
        _ => (
            artifact(&audit.source.input, base),
            Region::builder().start_line(1).build(),
        ),
    };
    let logical = crate::baseline::logical_location(f);
    let not_evaluated = is_not_evaluated(f.status);
    let text = if not_evaluated {
        format!("Not evaluated: {}", f.message)
    } else {
        format!("{} — Fix: {}", f.message, f.fix)
    };
    let mut fingerprints = BTreeMap::new();
    let hex = crate::baseline::fingerprint(&f.rule, &logical);
    fingerprints.insert("eciAudit/v1".to_string(), hex);
    let mut props = BTreeMap::new();
    props.insert("status".to_string(), json!(f.status.as_str()));
    props.insert("step".to_string(), json!(f.step.key()));
    if let Some(a) = &f.actual {
        props.insert("actual".to_string(), json!(a));
    }
    props.insert("expected".to_string(), json!(f.expected));
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact_location)
                .region(region)
                .build(),
        )
        .logical_locations(vec![
            LogicalLocation::builder()
                .fully_qualified_name(logical.clone())
                .name(logical.rsplit('/').next().unwrap_or(&logical).to_string())
                .kind("object")
                .build(),
        ])
        .build();
    let mut builder = SarifResult::builder()
        .rule_id(f.rule.clone())
        .level(if not_evaluated {
            ResultLevel::Note
        } else {
            level(f.severity)
        })
        .message(Message::builder().text(text).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    builder.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
    if let Some(w) = &f.waiver {
        let justification = match &w.expires {
            Some(date) => format!("{} (waived until {date})", w.reason),
            None => w.reason.clone(),
        };
        builder.suppressions = Some(vec![
            Suppression::builder()
                .kind(json!("external"))
                .status(json!("accepted"))
                .justification(justification)
                .build(),
        ]);
    }
    builder
}
