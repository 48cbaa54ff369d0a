//! `JUnit` XML (`--format junit`) in the Apache Ant shape that GitLab, Jenkins and Azure DevOps
//! read (validated in the tests against the Ant `JUnit` schema, `tests/schemas/junit.xsd`).
//!
//! - One `<testsuite>` per guide step, in guide order (name = the step's title), so that each
//!   tool shows the guide's structure; steps with no selected rule are left out.
//! - One `<testcase>` per rule: name `ID title`, classname `eci-audit.<step>` (Jenkins splits
//!   it into package and class), `file` when the evidence is a metadata file (GitLab shows it).
//! - `fail` → `<failure type="error|warning|note">` at the rule's severity (every failure,
//!   also below `--fail-on`: the exit code, not this file, is the gate).
//! - `unknown` → `<error type="unknown">`: `JUnit`'s "the test could not run properly", which is
//!   what a rule whose data was missing is (the audit is incomplete); all three tools count
//!   it apart from failures.
//! - `blocked`, `manual`, `waived` and `skipped` → `<skipped message>`: a blocked rule repeats
//!   its root's result (the root is reported once), a manual one is a person's to check, a
//!   waived one was accepted, a skipped one is not applicable to this source. A rule blocked
//!   behind a rule that was not selected stands for that root (which has no test case):
//!   `<failure>` when the root failed, `<error>` when it was not evaluated.
//!
//! Values are escaped by [`super::escape::xml`]: control characters cannot appear raw (XML 1.0
//! forbids most of them), they are written as visible escapes.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::escape::{xml, xml_composed};
use super::{RenderOptions, RunError};
use crate::audit::Audit;
use crate::rules::{Finding, Severity, Status, Step};
use crate::snapshot::model::Origin;

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Renders the audit as `JUnit` XML. The suites' timestamp is when the org data was collected,
/// when the source says so, else now.
pub fn render(audit: &Audit, opts: &RenderOptions) -> String {
    render_at(audit, opts, Utc::now().naive_utc())
}

/// [`render`] with the timestamp used when the source has none.
fn render_at(audit: &Audit, opts: &RenderOptions, now: NaiveDateTime) -> String {
    let timestamp = audit
        .source
        .collected_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.naive_utc());
    let mut out = format!("{HEADER}<testsuites>\n");
    let steps = Step::ALL
        .iter()
        .filter(|s| audit.findings.iter().any(|f| f.step == **s));
    for (id, step) in steps.enumerate() {
        let cases: Vec<&Finding> = audit.findings.iter().filter(|f| f.step == *step).collect();
        let n = |is: fn(Case) -> bool| cases.iter().filter(|f| is(case(f, audit))).count();
        let failures = n(|c| matches!(c, Case::Failure(_)));
        let errors = n(|c| c == Case::Error);
        let skipped = n(|c| c == Case::Skipped);
        let _ = writeln!(
            out,
            "  {}",
            suite_open(
                step.title(),
                id,
                timestamp,
                [cases.len(), failures, errors, skipped]
            )
        );
        out.push_str(&properties(audit));
        for f in cases {
            out.push_str(&testcase(f, audit, opts));
        }
        // The verdict and the notices (expired or unused waivers) once, in the first suite.
        if id == 0 {
            let mut text = format!(
                "{} rules: {} — {}\n",
                audit.summary.total,
                super::counts_text(&audit.summary),
                super::verdict_text(&audit.summary)
            );
            for notice in &audit.notices {
                let _ = writeln!(text, "Notice: {notice}");
            }
            let _ = writeln!(
                out,
                "    <system-out>{}</system-out>",
                xml_composed(&text, false)
            );
        } else {
            out.push_str("    <system-out/>\n");
        }
        out.push_str("    <system-err/>\n  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `<testsuite …>` with its counts: `[tests, failures, errors, skipped]`.
fn suite_open(name: &str, id: usize, timestamp: NaiveDateTime, counts: [usize; 4]) -> String {
    let [tests, failures, errors, skipped] = counts;
    format!(
        "<testsuite name=\"{}\" package=\"eci-audit\" id=\"{id}\" timestamp=\"{}\" hostname=\"localhost\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"0\">",
        xml(name, true),
        timestamp.format("%Y-%m-%dT%H:%M:%S")
    )
}

fn properties(audit: &Audit) -> String {
    let src = &audit.source;
    let mut props: Vec<(&str, String)> = vec![
        ("eci-audit.version", env!("CARGO_PKG_VERSION").to_string()),
        ("source", src.input.clone()),
    ];
    if let Some(org) = &src.org_id {
        props.push(("org_id", org.clone()));
    }
    if let Some(url) = &src.instance_url {
        props.push(("instance_url", url.clone()));
    }
    if let Some(config) = &src.config_file {
        props.push(("config_file", config.clone()));
    }
    props.push(("fail_on", audit.summary.fail_on.as_str().to_string()));
    props.push(("exit_code", audit.summary.exit_code.to_string()));
    let mut out = String::from("    <properties>\n");
    for (name, value) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            xml(&value, true)
        );
    }
    out.push_str("    </properties>\n");
    out
}

/// Whitespace runs as one space: test names are XML tokens.
fn token(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn testcase(f: &Finding, audit: &Audit, opts: &RenderOptions) -> String {
    let file = match &f.evidence.origin {
        Some(Origin::File { path, .. }) => format!(
            " file=\"{}\"",
            xml(&super::relative_path(path, opts.base_dir.as_deref()), true)
        ),
        _ => String::new(),
    };
    let open = format!(
        "    <testcase name=\"{}\" classname=\"eci-audit.{}\" time=\"0\"{file}",
        xml(&token(&format!("{} {}", f.rule, f.title)), true),
        f.step.key()
    );
    let where_ = f.evidence.origin.as_ref().map(|o| match o {
        Origin::File { path, line, .. } => format!(
            "{}:{line}",
            super::relative_path(path, opts.base_dir.as_deref())
        ),
        other => other.display(),
    });
    let details = |extra: &str| {
        let mut text = String::new();
        if let Some(w) = &where_ {
            let _ = writeln!(text, "Where: {w}");
        }
        let _ = writeln!(text, "Expected: {}", f.expected);
        if let Some(actual) = &f.actual {
            let _ = writeln!(text, "Actual: {actual}");
        }
        text.push_str(extra);
        xml_composed(&text, false)
    };
    let blocked_extra = "The rule it requires was not selected: audit or fix that rule first.\n";
    let child = match (case(f, audit), f.status) {
        (Case::Passed, _) => return format!("{open}/>\n"),
        (Case::Failure(severity), status) => format!(
            "<failure message=\"{}\" type=\"{severity}\">{}</failure>",
            xml_composed(&f.message, true),
            details(&if status == Status::Blocked {
                blocked_extra.to_string()
            } else {
                format!("Fix: {}\n", f.fix)
            })
        ),
        (Case::Error, status) => format!(
            "<error message=\"{}\" type=\"unknown\">{}</error>",
            xml_composed(&format!("not evaluated: {}", f.message), true),
            details(if status == Status::Blocked {
                blocked_extra
            } else {
                "The data this rule needs was not collected: the audit is incomplete.\n"
            })
        ),
        (Case::Skipped, status) => {
            let message = match (&f.waiver, status) {
                (_, Status::Skipped) => format!("not applicable to this source: {}", f.message),
                (Some(w), Status::Waived) => format!(
                    "waived ({} hidden): {}{}",
                    w.original,
                    w.reason,
                    w.expires
                        .as_ref()
                        .map(|d| format!(" (until {d})"))
                        .unwrap_or_default()
                ),
                _ => f.message.clone(),
            };
            format!("<skipped message=\"{}\"/>", xml_composed(&message, true))
        }
    };
    format!("{open}>\n      {child}\n    </testcase>\n")
}

/// How a finding shows in `JUnit`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    Passed,
    Failure(Severity),
    Error,
    Skipped,
}

fn case(f: &Finding, audit: &Audit) -> Case {
    match (f.status, super::unselected_root(audit, f)) {
        (Status::Pass, _) => Case::Passed,
        (Status::Fail, _) => Case::Failure(f.severity),
        (Status::Unknown, _) => Case::Error,
        // Behind a rule that was not selected, nothing else in the report shows the root's
        // failure or incompleteness: this test case does.
        (Status::Blocked, Some((Status::Fail, severity))) => Case::Failure(severity),
        (Status::Blocked, Some((Status::Unknown | Status::Blocked, _))) => Case::Error,
        _ => Case::Skipped,
    }
}

/// The document of a run that could not happen (exit 2): one suite with one errored test
/// case, so that a CI step that reads the file shows why.
pub fn render_error(error: &RunError) -> String {
    render_error_at(error, Utc::now().naive_utc())
}

/// [`render_error`] at a given time.
fn render_error_at(error: &RunError, now: NaiveDateTime) -> String {
    format!(
        "{HEADER}<testsuites>\n  {}\n    <properties>\n      <property name=\"eci-audit.version\" value=\"{}\"/>\n    </properties>\n    <testcase name=\"eci-audit run\" classname=\"eci-audit\" time=\"0\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>\n    <system-out/>\n    <system-err>{}</system-err>\n  </testsuite>\n</testsuites>\n",
        suite_open("eci-audit", 0, now, [1, 0, 1, 0]),
        env!("CARGO_PKG_VERSION"),
        xml(&error.message, true),
        xml(error.kind, true),
        xml(&error.message, false),
        xml(&error.message, false),
    )
}
