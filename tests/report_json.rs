//! The JSON report for machines: typed `actual` / `expected` next to their text, `source.kind`,
//! the fingerprint SARIF shares, and the report's JSON Schema (`eci-audit schema --report`),
//! which every report of every fixture validates against.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::run;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn report(source: &str, extra: &[&str]) -> Value {
    let mut args = vec!["check", source, "--format", "json"];
    args.extend_from_slice(extra);
    json_of(&run(&args))
}

/// The report schema with every object closed (`additionalProperties: false`), so that a
/// key the report writes but the schema does not describe fails the test. The printed schema
/// stays open: adding keys is not a change of meaning, and a consumer validating with it must
/// accept a newer report's new keys.
fn closed(mut schema: Value) -> Value {
    fn close(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                for child in map.values_mut() {
                    close(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    schema
}

fn report_schema() -> Value {
    let o = run(&["schema", "--report"]);
    assert_eq!(o.status.code(), Some(0));
    json_of(&o)
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn every_fixture_report_validates_against_the_report_schema() {
    let schema = report_schema();
    assert_eq!(schema["title"], "eci-audit JSON report");
    let validator = jsonschema::validator_for(&closed(schema)).expect("a valid JSON Schema");
    let mut checked = 0;
    for entry in std::fs::read_dir(common::root().join("fixtures/snapshots")).unwrap() {
        let path = entry.unwrap().path();
        let doc = report(path.to_str().unwrap(), &[]);
        assert_valid(&validator, &doc, &path.display().to_string());
        checked += 1;
    }
    assert!(checked >= 10, "fixtures checked: {checked}");
    // A metadata directory, with a waiver (the `waiver` object) and a config file.
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::write_file(
        dir.path(),
        "eci-audit.toml",
        "[[waiver]]\nrule = \"CAP005\"\nreason = \"tracked in TICKET-1\"\n",
    );
    for (source, extra) in [
        (
            "fixtures/metadata/source-healthy",
            vec![
                "--my-domain",
                "acme.my.salesforce.com",
                "--allow-incomplete",
            ],
        ),
        (
            "fixtures/snapshots/broken.json",
            vec!["--config", cfg.to_str().unwrap()],
        ),
    ] {
        let doc = report(source, &extra);
        assert_valid(&validator, &doc, source);
        if source.ends_with("broken.json") {
            let cap005 = common::finding(&doc, "CAP005");
            assert_eq!(cap005["status"], "waived");
            assert_eq!(cap005["waiver"]["original_status"], "fail");
        }
    }
}

#[test]
fn the_error_document_and_a_baseline_run_validate_too() {
    let validator = jsonschema::validator_for(&closed(report_schema())).unwrap();
    let o = run(&["check", "fixtures/snapshots/nope.json", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("err.json");
    let o = run(&[
        "check",
        "fixtures/snapshots/nope.json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["summary"]["outcome"], "error");
    assert_valid(&validator, &doc, "error document");

    let base = dir.path().join("healthy.report.json");
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--output",
        base.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let doc = report(
        "fixtures/snapshots/broken.json",
        &["--baseline", base.to_str().unwrap()],
    );
    assert!(doc["baseline"].is_object(), "{doc:#}");
    assert_valid(&validator, &doc, "baseline run");
}

#[test]
fn the_schema_rejects_what_the_report_never_writes() {
    let validator = jsonschema::validator_for(&report_schema()).unwrap();
    let mut doc = report("fixtures/snapshots/broken.json", &[]);
    assert!(validator.is_valid(&doc));
    doc["results"][0]["status"] = json!("passed");
    assert!(!validator.is_valid(&doc), "an unknown status");
    let mut doc = report("fixtures/snapshots/broken.json", &[]);
    doc["results"][0]["actual"] = json!({"nested": "object"});
    assert!(!validator.is_valid(&doc), "an object as a typed value");
    let mut doc = report("fixtures/snapshots/broken.json", &[]);
    doc["source"]["kind"] = json!("manual");
    assert!(
        !validator.is_valid(&doc),
        "a snapshot kind as the run's kind"
    );
    let mut doc = report("fixtures/snapshots/broken.json", &[]);
    doc["schema_version"] = json!(1);
    assert!(!validator.is_valid(&doc), "another report version");
}

#[test]
fn actual_and_expected_are_typed_next_to_their_text() {
    let doc = report("fixtures/snapshots/broken.json", &[]);
    assert_eq!(doc["schema_version"], 2);
    // A list stays a list.
    let cap007 = common::finding(&doc, "CAP007");
    assert_eq!(cap007["status"], "fail");
    assert_eq!(cap007["actual"], json!(["Api", "Web", "RefreshToken"]));
    assert_eq!(cap007["actual_text"], "[Api, Web, RefreshToken]");
    assert_eq!(
        cap007["expected"],
        json!(["Content", "Api", "Web", "RefreshToken"])
    );
    assert!(
        cap007["expected_text"]
            .as_str()
            .unwrap()
            .contains("Content")
    );
    assert!(
        cap007["message"]
            .as_str()
            .unwrap()
            .contains("missing: Content")
    );
    assert_eq!(
        cap007["comparison"],
        json!({"operator": "contains-all", "negate": false, "ignore_case": false})
    );
    // A pattern is a string, and the comparison says it is one.
    let org002 = common::finding(&doc, "ORG002");
    assert_eq!(org002["comparison"]["operator"], "regex");
    assert!(org002["expected"].is_string());
    // A boolean stays a boolean.
    let org001 = common::finding(&doc, "ORG001");
    assert_eq!(org001["actual"], json!(true));
    assert_eq!(org001["expected"], json!(true));
    assert_eq!(org001["actual_text"], "true");
    // A check without an operand (existence) expects nothing.
    let usr001 = common::finding(&doc, "USR001");
    assert_eq!(usr001["expected"], Value::Null);
    assert!(usr001.get("comparison").is_none(), "{usr001:#}");
    assert!(usr001["actual"].is_string());
}

#[test]
fn an_absent_fact_is_null_with_its_text() {
    let mut snap = common::healthy_json();
    common::remove(
        &mut snap,
        "connected_apps/ECIConnectedApp/oauth_config/scopes",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_snapshot(dir.path(), &snap);
    let doc = report(file.to_str().unwrap(), &[]);
    let cap007 = common::finding(&doc, "CAP007");
    assert_eq!(cap007["status"], "fail", "{cap007:#}");
    assert_eq!(cap007["actual"], Value::Null);
    assert_eq!(cap007["actual_text"], "(absent)");
    // What it expected is still there, typed.
    assert_eq!(
        cap007["expected"],
        json!(["Content", "Api", "Web", "RefreshToken"])
    );
}

#[test]
fn a_rule_not_evaluated_still_says_what_it_expects() {
    let doc = report(
        "fixtures/snapshots/incomplete.json",
        &["--allow-incomplete"],
    );
    let cap007 = common::finding(&doc, "CAP007");
    assert_eq!(cap007["status"], "blocked");
    assert_eq!(cap007["actual"], Value::Null);
    assert_eq!(cap007["actual_text"], Value::Null);
    assert_eq!(
        cap007["expected"],
        json!(["Content", "Api", "Web", "RefreshToken"])
    );
}

#[test]
fn source_kind_says_how_the_run_read_the_org() {
    let doc = report("fixtures/snapshots/healthy.json", &[]);
    assert_eq!(doc["source"]["kind"], "snapshot_file");
    assert_eq!(doc["source"]["snapshot_kind"], "manual");
    let doc = report(
        "fixtures/metadata/source-healthy/force-app",
        &[
            "--my-domain",
            "acme.my.salesforce.com",
            "--allow-incomplete",
        ],
    );
    assert_eq!(doc["source"]["kind"], "metadata_dir");
    assert_eq!(doc["source"]["snapshot_kind"], "metadata_dir");
    // A metadata directory merged with a snapshot's org data is still read from files.
    let doc = json_of(&run(&[
        "check",
        "--metadata-dir",
        "fixtures/metadata/source-healthy/force-app",
        "--snapshot",
        "fixtures/snapshots/healthy.json",
        "--format",
        "json",
    ]));
    assert_eq!(doc["source"]["kind"], "metadata_dir");
}

#[test]
fn json_fingerprints_are_sarifs() {
    let doc = report("fixtures/snapshots/broken.json", &[]);
    let sarif = json_of(&run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--format",
        "sarif",
    ]));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let json_result = common::finding(&doc, id);
        assert_eq!(
            json_result["fingerprint"], r["partialFingerprints"]["eciAudit/v1"],
            "{id}"
        );
    }
}

#[test]
fn schema_without_report_is_still_the_snapshots() {
    let snapshot = json_of(&run(&["schema"]));
    let report = report_schema();
    assert_ne!(snapshot, report);
    assert!(snapshot["properties"]["connected_apps"].is_object());
    assert!(report["properties"]["results"].is_object());
    assert!(Path::new(&common::root().join("fixtures/snapshots/healthy.json")).is_file());
}
