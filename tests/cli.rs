//! CLI behaviour as data: arguments → exit code, stdout, stderr. Rendered output is pinned
//! with insta snapshots (versions redacted).

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::{run, stderr, stdout, version_filters};

use std::process::Output;

#[test]
fn healthy_exits_0() {
    let o = run(&["check", "fixtures/snapshots/healthy.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let total = eci_audit::rules::Catalogue::embedded()
        .unwrap()
        .rules()
        .len();
    // Every rule passes but the manual AIR011 (no Aircall credentials offline).
    assert!(
        stdout(&o).contains(&format!("{} pass, 0 fail", total - 1)),
        "{}",
        stdout(&o)
    );
}

#[test]
fn broken_exits_1_and_names_failing_rules_with_fixes() {
    let o = run(&["check", "fixtures/snapshots/broken.json"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for id in ["AIR003", "CAP005", "CAP006", "CAP007", "ENC003", "GST002"] {
        assert!(out.contains(id), "{id} missing from\n{out}");
    }
    assert!(out.contains("Fix: Setup"), "{out}");
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cap005 = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "CAP005")
        .unwrap();
    assert!(
        cap005["fix"]
            .as_str()
            .unwrap()
            .starts_with("Setup → App Manager → ECI Connected App")
    );
    let start = out.lines().position(|l| l == "Start here").unwrap();
    assert!(
        out.lines()
            .nth(start + 1)
            .unwrap()
            .starts_with("  ✘ AIR003 fail (error)"),
        "{out}"
    );
}

#[test]
fn every_area_fixture_fails_its_area() {
    for (file, rules) in [
        ("broken-org", &["ORG001", "ORG003"][..]),
        ("broken-integration-user", &["USR004", "USR005"]),
        ("broken-aircall", &["AIR003", "AIR005", "AIR009", "AIR010"]),
        (
            "broken-connected-app",
            &["CAP005", "CAP006", "CAP007", "CAP011", "CAP012"],
        ),
        ("broken-auth-provider", &["AUP002", "AUP004"]),
        ("broken-site", &["SIT004", "SIT005", "SIT006"]),
        (
            "broken-eci-named-credential",
            &["ENC003", "ENC006", "ENC007"],
        ),
        ("broken-guest-user", &["GST002"]),
    ] {
        let path = format!("fixtures/snapshots/{file}.json");
        let o = run(&["check", &path, "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{file}");
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut failing: Vec<&str> = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "fail")
            .map(|r| r["rule"].as_str().unwrap())
            .collect();
        failing.sort_unstable();
        assert_eq!(failing, rules, "{file}");
    }
}

#[test]
fn uncollected_facts_exit_3_unless_allowed() {
    let o = run(&["check", "fixtures/snapshots/incomplete.json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).contains("INSUFFICIENT_ACCESS"));
    let o = run(&[
        "check",
        "fixtures/snapshots/incomplete.json",
        "--allow-incomplete",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("passed with --allow-incomplete"));
}

#[test]
fn fail_on_thresholds() {
    // broken-auth-provider has an error (AUP004) and a warning (AUP002).
    let o = run(&[
        "check",
        "fixtures/snapshots/broken-auth-provider.json",
        "--select",
        "AUP002",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a warning does not fail at --fail-on error"
    );
    let o = run(&[
        "check",
        "fixtures/snapshots/broken-auth-provider.json",
        "--select",
        "AUP002",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn select_and_ignore_by_id_and_area() {
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--format",
        "json",
        "--select",
        "CAP",
        "--ignore",
        "CAP005,CAP006",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), 15);
    assert!(
        rules
            .iter()
            .all(|r| r.starts_with("CAP") && *r != "CAP005" && *r != "CAP006")
    );
    assert_eq!(o.status.code(), Some(1), "CAP007 still fails");
}

#[test]
fn unknown_select_suggests_close_ids() {
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--select",
        "CAP0077",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--select `CAP0077` matches no rule; did you mean CAP007"),
        "{err}"
    );
}

#[test]
fn output_file_is_written_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.sarif");
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("report written to"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn color_always_and_never() {
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--color",
        "always",
    ]);
    assert!(stdout(&o).contains("\u{1b}["), "ANSI expected");
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--color",
        "never",
    ]);
    assert!(!stdout(&o).contains("\u{1b}["));
    // auto with a pipe: no colour.
    let o = run(&["check", "fixtures/snapshots/broken.json"]);
    assert!(!stdout(&o).contains("\u{1b}["));
}

#[test]
fn config_file_sets_defaults_and_waivers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("eci-audit.toml"),
        "format = \"json\"\nrefresh_token_days = 365\n\n[[waiver]]\nrule = \"GST002\"\nreason = \"assigned by the package post-install script\"\nexpires = 2099-12-31\n",
    )
    .unwrap();
    let fixture = common::root().join("fixtures/snapshots/broken-guest-user.json");
    let o = common::eci_in(&common::root())
        .current_dir(dir.path())
        .args(["check", fixture.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "the only failure is waived: {}",
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let gst = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "GST002")
        .unwrap();
    assert_eq!(gst["status"], "waived");
    assert_eq!(gst["waiver"]["original_status"], "fail");
    // A flag beats the config.
    let o = common::eci_in(&common::root())
        .current_dir(dir.path())
        .args(["check", fixture.to_str().unwrap(), "--format", "table"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("Waived (fail)"));
}

#[test]
fn expired_waiver_is_not_applied_and_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::write_file(
        dir.path(),
        "audit.toml",
        "[[waiver]]\nrule = \"GST002\"\nreason = \"temporary\"\nexpires = 2020-01-01\n",
    );
    let o = run(&[
        "check",
        "fixtures/snapshots/broken-guest-user.json",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("waiver for GST002 expired on 2020-01-01"));
}

#[test]
fn rules_and_explain() {
    let o = run(&["rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        doc["rules"].as_array().unwrap().len(),
        eci_audit::rules::Catalogue::embedded()
            .unwrap()
            .rules()
            .len()
    );
    let o = run(&["explain", "cap006"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("/services/authcallback/ECIAuthProvider"));
    // An area lists all of its rules.
    let o = run(&["explain", "aup"]);
    assert_eq!(o.status.code(), Some(0));
    for id in ["AUP001", "AUP002", "AUP003", "AUP004"] {
        assert!(stdout(&o).contains(&format!("{id} — ")), "{id}");
    }
    assert!(!stdout(&o).contains("CAP001"));
    let o = run(&["explain", "CAP600"]);
    common::assert_error(&o, 2, "did you mean");
}

#[test]
fn schema_is_valid_json_schema_for_the_fixtures() {
    let o = run(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    for entry in std::fs::read_dir(common::root().join("fixtures/snapshots")).unwrap() {
        let path = entry.unwrap().path();
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::root().join("tests/schemas/sarif-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema");
    for file in ["broken", "healthy", "incomplete", "broken-connected-app"] {
        let o = run(&[
            "check",
            &format!("fixtures/snapshots/{file}.json"),
            "--format",
            "sarif",
        ]);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
        for r in doc["runs"][0]["results"].as_array().unwrap() {
            let loc = &r["locations"][0]["physicalLocation"];
            assert!(
                loc["artifactLocation"]["uri"]
                    .as_str()
                    .is_some_and(|u| !u.is_empty()),
                "{r}"
            );
            assert!(loc["region"]["startLine"].as_i64().unwrap() >= 1);
            assert!(r["partialFingerprints"]["eciAudit/v1"].is_string());
        }
    }
    // Unknown results are visible as notes; the invocation records incompleteness.
    let o = run(&[
        "check",
        "fixtures/snapshots/incomplete.json",
        "--format",
        "sarif",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| {
        r["level"] == "note"
            && r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Not evaluated")
    }));
    assert_eq!(
        doc["runs"][0]["invocations"][0]["properties"]["incomplete"],
        true
    );
}

#[test]
fn sarif_fingerprints_are_stable_across_messages() {
    let a = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--format",
        "sarif",
    ]);
    let b = run(&[
        "check",
        "fixtures/snapshots/broken-connected-app.json",
        "--format",
        "sarif",
    ]);
    let fp = |o: &Output, rule: &str| -> String {
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == rule)
            .map(|r| {
                r["partialFingerprints"]["eciAudit/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .unwrap()
    };
    assert_eq!(fp(&a, "CAP007"), fp(&b, "CAP007"));
}

#[test]
fn snapshot_table_report() {
    let o = run(&["check", "fixtures/snapshots/broken.json"]);
    version_filters().bind(|| insta::assert_snapshot!("table_broken", stdout(&o)));
}

#[test]
fn snapshot_json_report() {
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    insta::assert_json_snapshot!("json_broken", doc, {".tool.version" => "[VERSION]"});
}

#[test]
fn snapshot_sarif_report() {
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--format",
        "sarif",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    insta::assert_json_snapshot!("sarif_broken", doc, {
        ".runs[0].tool.driver.version" => "[VERSION]",
        ".runs[0].tool.driver.semanticVersion" => "[VERSION]",
    });
}

#[test]
fn snapshot_help() {
    for (name, args) in [
        ("help", &["--help"][..]),
        ("help_check", &["check", "--help"]),
        ("help_collect", &["collect", "--help"]),
        ("help_rules", &["rules", "--help"]),
        ("help_explain", &["explain", "--help"]),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0));
        version_filters().bind(|| insta::assert_snapshot!(name, stdout(&o)));
    }
}

#[test]
fn docs_facts_md_is_in_sync() {
    let o = run(&["facts", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0));
    let on_disk = std::fs::read_to_string(common::root().join("docs/facts.md")).unwrap_or_default();
    assert!(
        on_disk == stdout(&o),
        "docs/facts.md is stale: run `cargo run -- facts --format markdown > docs/facts.md`"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["facts", "--format", "json"]))).unwrap();
    let roots = json["roots"].as_array().unwrap();
    assert!(roots.iter().any(|r| {
        r["name"] == "connected_apps"
            && r["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["path"] == "oauth_config.scopes" && f["type"] == "list of strings")
    }));
    let table = stdout(&run(&["facts"]));
    assert!(
        table.contains("connected_apps[Name].oauth_config.scopes"),
        "{table}"
    );
}

#[test]
fn docs_rules_md_is_in_sync() {
    let o = run(&["rules", "--format", "markdown"]);
    let on_disk = std::fs::read_to_string(common::root().join("docs/rules.md")).unwrap_or_default();
    assert!(
        on_disk == stdout(&o),
        "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
}

#[test]
fn a_waived_root_keeps_its_dependents_blocked_without_failing_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    let mut snap = common::healthy_json();
    common::set(&mut snap, "connected_apps/items", serde_json::json!([]));
    let file = common::write_snapshot(dir.path(), &snap);
    std::fs::write(
        &cfg,
        "[[waiver]]\nrule = \"CAP001\"\nreason = \"External Client App used instead\"\n",
    )
    .unwrap();
    let o = run(&[
        "check",
        file.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let find = |id: &str| {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(find("CAP001")["status"], "waived");
    assert_eq!(find("CAP002")["status"], "blocked");
    assert_eq!(find("CAP002")["root_status"], "waived");
    assert_eq!(find("CAP007")["root_cause"], "CAP001");
    // AUP004 needs the app's consumer key and is blocked too; nothing fails, nothing is unknown.
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The SARIF keeps the waived finding visible, suppressed.
    let o = run(&[
        "check",
        file.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cap001 = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "CAP001")
        .unwrap()
        .clone();
    assert_eq!(cap001["suppressions"][0]["kind"], "external");
    assert!(
        cap001["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("External Client App")
    );
}

#[test]
fn a_rule_behind_an_unselected_failure_is_evaluated_on_its_own_facts() {
    let mut snap = common::healthy_json();
    common::remove(&mut snap, "connected_apps/ECIConnectedApp/oauth_config");
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_snapshot(dir.path(), &snap);
    let o = run(&["check", file.to_str().unwrap(), "--select", "CAP007"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // CAP007 requires CAP004, which is not selected: its own facts decide (issue 10).
    assert!(
        stdout(&o).contains("Start here\n  ✘ CAP007 fail (error)")
            && stdout(&o).contains("Selected OAuth Scopes is absent"),
        "{}",
        stdout(&o)
    );
}

/// The document `--format FORMAT --output FILE` leaves when the snapshot cannot be read (exit
/// 2, nothing on standard output).
fn error_document(format: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("r.{format}"));
    let o = run(&[
        "check",
        "fixtures/snapshots/nope.json",
        "--format",
        format,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

#[test]
fn sarif_is_written_even_when_the_audit_cannot_run() {
    let doc = error_document("sarif");
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(
        inv["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("nope.json")
    );
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::root().join("tests/schemas/sarif-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&doc));
}

#[test]
fn print_plan_needs_no_token() {
    let o = run(&[
        "check",
        "--instance-url",
        "https://acme.my.salesforce.com",
        "--print-plan",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("SELECT"), "{}", stdout(&o));
    let o = run(&["collect", "--target-org", "prod", "--print-plan"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn reports_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o644
    );
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o640,
        "the old mode is kept"
    );
}

#[test]
fn selectors_are_whole_ids_or_three_letter_areas() {
    for bad in ["A", "CAP01", "CA"] {
        let o = run(&["check", "fixtures/snapshots/healthy.json", "--select", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
    }
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--select",
        "cap",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), 17);
}

#[test]
fn control_characters_from_the_data_are_escaped_in_the_table() {
    let mut snap = common::healthy_json();
    common::set(
        &mut snap,
        "connected_apps/ECIConnectedApp/label",
        serde_json::json!("\u{1b}[31mX\u{0}\nFAKE 63 rules: 63 pass — passed"),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_snapshot(dir.path(), &snap);
    let o = run(&[
        "check",
        file.to_str().unwrap(),
        "--select",
        "CAP002",
        "--color",
        "never",
    ]);
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{0}'), "{out:?}");
    assert!(!out.lines().any(|l| l.starts_with("FAKE")), "{out}");
}

#[test]
fn non_ascii_rule_ids_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::write_file(
        dir.path(),
        "c.toml",
        "[[waiver]]\nrule = \"éé12\"\nreason = \"a\"\n",
    );
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn duplicate_records_are_rejected() {
    let mut snap = common::healthy_json();
    let app = snap["connected_apps"]["items"][0].clone();
    snap["connected_apps"]["items"]
        .as_array_mut()
        .unwrap()
        .push(app);
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_snapshot(dir.path(), &snap);
    let o = run(&["check", file.to_str().unwrap()]);
    common::assert_error(&o, 2, "two records named `ECIConnectedApp`");
}

#[test]
fn json_error_document_is_written_when_the_audit_cannot_run() {
    let doc = error_document("json");
    // The report's top level, so a consumer reads the outcome where it always does.
    assert_eq!(doc["schema_version"], 2);
    assert_eq!(doc["tool"]["name"], "eci-audit");
    assert_eq!(doc["summary"]["outcome"], "error");
    assert_eq!(doc["summary"]["exit_code"], 2);
    assert_eq!(doc["error"]["kind"], "snapshot");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope.json")
    );
    assert_eq!(doc["results"], serde_json::json!([]));
    // The format and the output may come from the config file; a setting that is wrong
    // there still gets its document.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let cfg = common::write_file(
        dir.path(),
        "c.toml",
        format!(
            "format = \"json\"\noutput = {:?}\nselect = [\"CAPX01\"]\n",
            out.to_str().unwrap()
        ),
    );
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["error"]["kind"], "settings");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("c.toml:3:11: invalid config: select `CAPX01` matches no rule"),
        "{doc}"
    );
    // A bad flag does not hide where the config sends the report.
    std::fs::remove_file(&out).unwrap();
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--config",
        cfg.to_str().unwrap(),
        "--select",
        "CAP",
        "--my-domain",
        "https://",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        doc["error"]["message"],
        "--my-domain is not a host or URL (give e.g. acme.my.salesforce.com)"
    );
}

#[test]
fn dump_config_shows_each_setting_and_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("eci-audit.toml"),
        "format = \"json\"\nfail_on = \"warning\"\nignore = [\"ORG002\"]\n\n[permission_sets]\nintegration_user_names = [\"CI_Integration_User\"]\n\n[[waiver]]\nrule = \"CAP013\"\nreason = \"accepted\"\n",
    )
    .unwrap();
    // No source: nothing is audited.
    let o = common::eci_in(&common::root())
        .current_dir(dir.path())
        .args([
            "check",
            "--dump-config",
            "--fail-on",
            "error",
            "--ignore",
            "CAP005",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} missing from\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("format ="), "format = \"json\" # eci-audit.toml:1:10");
    assert_eq!(line("fail_on ="), "fail_on = \"error\" # --fail-on");
    assert_eq!(
        line("ignore ="),
        "ignore = [\"CAP005\", \"ORG002\"] # --ignore, eci-audit.toml:3:11"
    );
    assert_eq!(line("color ="), "color = \"auto\" # default");
    assert_eq!(line("[[waiver]]"), "[[waiver]] # eci-audit.toml:8:1");
    assert!(out.contains("\nrule = \"CAP013\"\n"), "{out}");
    // The dump is the effective settings as a config file could hold them.
    let body: String = out
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    toml::from_str::<toml::Table>(&body).expect("the dump is TOML");
    let o = common::eci_in(&common::root())
        .current_dir(dir.path())
        .args([
            "collect",
            "--dump-config",
            "--integration-user",
            "ci@acme.example",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("# --integration-user"), "{out}");
    assert!(!out.contains("fail_on"), "{out}");
    // A wrong setting is still an error.
    let o = common::eci_in(&common::root())
        .current_dir(dir.path())
        .args(["check", "--dump-config", "--select", "CAPX01"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn values_from_the_inputs_cannot_forge_report_or_error_lines() {
    const FORGED: &str = "X\n\u{1b}[32m63 rules: 63 pass — passed\r\u{9b}2J\u{202e}\u{2066}";
    let mut snap = common::healthy_json();
    common::set(&mut snap, "source/org_id", serde_json::json!(FORGED));
    common::set(&mut snap, "org/id", serde_json::json!(FORGED));
    common::set(&mut snap, "org/name", serde_json::json!(FORGED));
    common::set(
        &mut snap,
        "connected_apps/ECIConnectedApp/label",
        serde_json::json!(FORGED),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{FORGED}.json"));
    std::fs::write(&file, serde_json::to_vec(&snap).unwrap()).unwrap();
    let unsafe_chars = ['\u{1b}', '\r', '\u{9b}', '\u{202e}', '\u{2066}'];
    let o = run(&["check", file.to_str().unwrap(), "--color", "never"]);
    let out = stdout(&o);
    assert!(!out.contains(unsafe_chars), "{out:?}");
    let summaries: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.split_once(" rules: ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .collect();
    assert_eq!(summaries.len(), 1, "{out}");
    assert!(out.starts_with("eci-audit "), "{out}");
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("(org X\\n\\u{1b}[32m63 rules"),
        "{out}"
    );
    // JSON keeps the value, escaped so that it cannot drive a terminal either.
    for format in ["json", "sarif"] {
        let o = run(&["check", file.to_str().unwrap(), "--format", format]);
        let out = stdout(&o);
        assert!(!out.contains(unsafe_chars), "{out:?}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        if format == "json" {
            assert_eq!(doc["source"]["org_id"], FORGED, "{doc}");
        }
    }
    // A file name in an error message.
    let missing = dir.path().join(format!("missing{FORGED}.json"));
    let o = run(&["check", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(!err.contains(unsafe_chars), "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("missingX\\n\\u{1b}[32m63 rules"), "{err}");
    // And in the note after a report written to a file.
    let out = dir.path().join(format!("r{FORGED}.json"));
    let o = run(&[
        "check",
        file.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(
        !err.contains(unsafe_chars) && err.lines().count() == 1,
        "{err:?}"
    );
}

#[test]
fn a_megabyte_value_is_cut_in_the_table() {
    let huge = "A".repeat(1 << 20);
    let mut snap = common::healthy_json();
    common::set(
        &mut snap,
        "connected_apps/ECIConnectedApp/label",
        serde_json::json!("B".repeat(1 << 20)),
    );
    common::set(&mut snap, "source/org_id", serde_json::json!(huge));
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_snapshot(dir.path(), &snap);
    let o = run(&["check", file.to_str().unwrap(), "--select", "CAP002"]);
    let out = stdout(&o);
    // The org id in the header, the label in the finding (its message quotes more).
    assert!(
        out.contains("AAA (… 1048076 more characters; see --format json)"),
        "{out}"
    );
    // Wrapped at the space before the note, never inside the value.
    assert!(
        out.contains("BBB (… ") || out.contains("BBB\n      (… "),
        "{out}"
    );
    assert!(out.len() < 16 * 1024, "{} bytes", out.len());
    // The JSON report keeps the whole value.
    let o = run(&[
        "check",
        file.to_str().unwrap(),
        "--select",
        "CAP002",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["source"]["org_id"].as_str().unwrap().len(), 1 << 20);
}

#[test]
fn an_empty_selection_is_an_error_not_a_pass() {
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--select",
        "CAP001",
        "--ignore",
        "CAP",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("no rule selected"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // A config that ignores every area.
    let o = run(&["rules", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut areas: Vec<String> = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap()[..3].to_string())
        .collect();
    areas.sort();
    areas.dedup();
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::write_file(dir.path(), "c.toml", format!("ignore = {areas:?}\n"));
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("no rule selected"), "{}", stderr(&o));
}

#[test]
fn a_bare_instance_host_means_https_and_a_lightning_my_domain_is_refused_with_the_host_to_use() {
    let o = run(&[
        "check",
        "--instance-url",
        "acme.my.salesforce.com",
        "--print-plan",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("GET /services/data/"), "{}", stdout(&o));
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--my-domain",
        "https://acme.lightning.force.com/lightning/page/home",
    ]);
    common::assert_error(
        &o,
        2,
        "--my-domain is a Lightning or Visualforce host, not the My Domain; use acme.my.salesforce.com",
    );
}

#[test]
fn the_format_follows_the_output_file_extension_unless_given() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("r.sarif");
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--output",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let json = dir.path().join("r.JSON");
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--output",
        json.to_str().unwrap(),
        "--dump-config",
    ]);
    assert!(
        stdout(&o).contains("format = \"json\"")
            && stdout(&o).contains("from the output file's extension"),
        "{}",
        stdout(&o)
    );
    // An explicit format wins.
    let o = run(&[
        "check",
        "fixtures/snapshots/healthy.json",
        "--output",
        json.to_str().unwrap(),
        "--format",
        "table",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(std::fs::read_to_string(&json).unwrap().contains(" rules: "));
}

#[test]
fn dash_o_is_the_target_org_as_in_sf() {
    let dir = tempfile::tempdir().unwrap();
    let o = assert_cmd::Command::cargo_bin("eci-audit")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "-o", "myorg", "--print-plan"])
        .output()
        .unwrap();
    common::assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("read-only; none was made"),
        "{}",
        stdout(&o)
    );
    // Not an output file named after the org.
    assert!(!dir.path().join("myorg").exists());
}

#[test]
fn the_verdict_says_what_it_does_not_cover() {
    let o = run(&["check", "fixtures/snapshots/healthy.json"]);
    assert_eq!(o.status.code(), Some(0));
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    assert!(
        last.ends_with("— passed — 1 check needs a manual look: AIR011"),
        "{last}"
    );
    let o = run(&[
        "check",
        "fixtures/snapshots/broken.json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    assert!(
        last.ends_with("— 7 failures (not gating: --fail-on never)"),
        "{last}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    for (shell, marker) in [
        ("bash", "_eci__audit()"),
        ("zsh", "#compdef eci-audit"),
        ("fish", "complete -c eci-audit"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(stdout(&o).contains(marker), "{shell}");
        assert!(stdout(&o).contains("target-org"), "{shell}");
    }
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with(".ie"), "{}", stdout(&o));
    assert!(stdout(&o).contains("eci\\-audit"), "{}", stdout(&o));
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_config_file_found_in_the_folder_is_named_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::root().join("fixtures/snapshots/broken.json"),
        dir.path().join("broken.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("eci-audit.toml"), "ignore = [\"SIT\"]\n").unwrap();
    let check = |format: &str| {
        assert_cmd::Command::cargo_bin("eci-audit")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "broken.json", "--format", format])
            .output()
            .unwrap()
    };
    let table = stdout(&check("table"));
    assert!(
        table.lines().nth(1) == Some("Config: eci-audit.toml (its settings apply)"),
        "{table}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&check("json").stdout).unwrap();
    assert_eq!(doc["source"]["config_file"], "eci-audit.toml");
}

#[test]
fn an_unused_waiver_is_reported_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::write_file(
        dir.path(),
        "c.toml",
        "[[waiver]]\nrule = \"CAP002\"\nreason = \"label differs on purpose\"\n",
    );
    let check = |format: &str| {
        run(&[
            "check",
            "fixtures/snapshots/healthy.json",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            format,
        ])
    };
    let needle = "waiver for CAP002 is unused";
    let doc: serde_json::Value = serde_json::from_slice(&check("json").stdout).unwrap();
    assert!(
        doc["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.starts_with(needle))),
        "{}",
        doc["notices"]
    );
    assert!(stdout(&check("table")).contains(needle));
    assert!(stdout(&check("sarif")).contains(needle));
}
