//! `eci-audit diff OLD NEW` (two snapshots, two reports, one of each) and `check --baseline`:
//! what changed, in which order, the exit codes, and bad inputs as exit 2 naming `file:line:col`.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::{run, run_in, stderr, stdout, version_filters};

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

const HEALTHY: &str = "fixtures/snapshots/healthy.json";
const BROKEN: &str = "fixtures/snapshots/broken.json";

/// The failing rules of broken.json at `--fail-on error` (SIT006 is a warning).
const BROKEN_ERRORS: [&str; 6] = ["AIR003", "CAP005", "CAP006", "CAP007", "ENC003", "GST002"];

/// Writes the JSON report of `check SNAPSHOT` as `dir/name`.
fn write_report(dir: &Path, snapshot: &str, name: &str) -> PathBuf {
    let out = dir.join(name);
    let o = run(&[
        "check",
        snapshot,
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    out
}

fn rules_of(doc: &Value, change: &str) -> Vec<String> {
    doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] == change)
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn two_snapshots_show_regressions_and_the_facts_that_changed() {
    let o = run(&["diff", HEALTHY, BROKEN]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    version_filters().bind(|| insta::assert_snapshot!("diff_snapshots_table", stdout(&o)));

    let o = run(&["diff", HEALTHY, BROKEN, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let doc = json_of(&o);
    let mut regressions = rules_of(&doc, "regression");
    regressions.sort();
    let mut want: Vec<String> = BROKEN_ERRORS.iter().map(|s| (*s).to_string()).collect();
    want.push("SIT006".into());
    want.sort();
    assert_eq!(regressions, want);
    assert_eq!(doc["summary"]["new_failures"].as_array().unwrap().len(), 6);
    assert_eq!(doc["summary"]["exit_code"], 1);
    // The callback URL, the scopes and the guest user's permission sets, typed.
    let fact = |path: &str| -> Value {
        doc["facts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no change of {path}: {:#}", doc["facts"]))
            .clone()
    };
    let cb = fact("connected_apps[ECIConnectedApp].oauth_config.callback_url");
    assert_eq!(
        cb["new"],
        "https://dummyurl/services/authcallback/ECIAuthProvider"
    );
    let scopes = fact("connected_apps[ECIConnectedApp].oauth_config.scopes");
    assert_eq!(
        scopes["old"],
        serde_json::json!(["Api", "Web", "RefreshToken", "Content"])
    );
    assert_eq!(
        scopes["new"],
        serde_json::json!(["Api", "Web", "RefreshToken"])
    );
    assert_eq!(scopes["new_text"], "[Api, Web, RefreshToken]");
    let guest = fact("guest_user.permission_set_labels");
    assert!(
        guest["old"]
            .to_string()
            .contains("Voice Connector Permission")
    );
    version_filters().bind(|| insta::assert_json_snapshot!("diff_snapshots_json", doc));

    let o = run(&["diff", HEALTHY, BROKEN, "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(1));
    version_filters().bind(|| insta::assert_snapshot!("diff_snapshots_markdown", stdout(&o)));
}

#[test]
fn regressions_come_first_then_fixes_then_other_changes() {
    // OLD: broken; NEW: broken with the connected app fixed and the site broken another way.
    let mut new =
        serde_json::from_slice::<Value>(&std::fs::read(common::root().join(BROKEN)).unwrap())
            .unwrap();
    let healthy = common::healthy_json();
    new["connected_apps"] = healthy["connected_apps"].clone();
    common::set(
        &mut new,
        "named_credentials/Aircall/endpoint",
        Value::String("https://api.aircall.io".into()),
    );
    common::set(
        &mut new,
        "auth_providers/ECIAuthProvider/provider_type",
        Value::String("OpenIdConnect".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let new_file = common::write_snapshot(dir.path(), &new);
    let o = run(&[
        "diff",
        BROKEN,
        new_file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc = json_of(&o);
    let changes: Vec<(String, String)> = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["change"].as_str().unwrap().to_string(),
                r["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let fixes = rules_of(&doc, "fix");
    for id in ["AIR003", "CAP005", "CAP006", "CAP007"] {
        assert!(fixes.contains(&id.to_string()), "{id}: {changes:?}");
    }
    let regressions = rules_of(&doc, "regression");
    assert!(!regressions.is_empty(), "{changes:?}");
    // Order: every regression before every fix before every other change.
    let rank = |c: &str| match c {
        "regression" => 0,
        "fix" => 1,
        _ => 2,
    };
    let ranks: Vec<i32> = changes.iter().map(|(c, _)| rank(c)).collect();
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_eq!(ranks, sorted, "{changes:?}");
    let gating = doc["summary"]["new_failures"].as_array().unwrap().len();
    assert_eq!(o.status.code(), Some(i32::from(gating > 0)), "{changes:?}");
}

#[test]
fn the_way_back_is_all_fixes_and_exits_0() {
    let o = run(&["diff", BROKEN, HEALTHY, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json_of(&o);
    assert!(rules_of(&doc, "regression").is_empty());
    assert_eq!(rules_of(&doc, "fix").len(), 7);
    assert_eq!(doc["summary"]["outcome"], "passed");
}

#[test]
fn the_same_input_changes_nothing() {
    let o = run(&["diff", HEALTHY, HEALTHY]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("No rule changed status."), "{out}");
    assert!(out.contains("No fact changed."), "{out}");
}

#[test]
fn two_reports_compare_their_results() {
    let dir = tempfile::tempdir().unwrap();
    write_report(dir.path(), HEALTHY, "before.json");
    write_report(dir.path(), BROKEN, "after.json");
    let o = run_in(dir.path(), &["diff", "before.json", "after.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    version_filters().bind(|| insta::assert_snapshot!("diff_reports_table", stdout(&o)));
    let o = run_in(
        dir.path(),
        &["diff", "before.json", "after.json", "--format", "json"],
    );
    let doc = json_of(&o);
    assert_eq!(doc["old"]["kind"], "report");
    assert_eq!(doc["old"]["report_schema_version"], 2);
    assert_eq!(doc["facts"], Value::Null);
    assert_eq!(rules_of(&doc, "regression").len(), 7);
    let o = run_in(
        dir.path(),
        &["diff", "after.json", "before.json", "--format", "markdown"],
    );
    assert_eq!(o.status.code(), Some(0));
    version_filters().bind(|| insta::assert_snapshot!("diff_reports_markdown", stdout(&o)));
}

#[test]
fn a_report_against_a_snapshot_compares_rules_and_says_why_no_facts() {
    let dir = tempfile::tempdir().unwrap();
    let before = write_report(dir.path(), HEALTHY, "before.json");
    let o = run(&["diff", before.to_str().unwrap(), BROKEN, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let doc = json_of(&o);
    assert_eq!(doc["old"]["kind"], "report");
    assert_eq!(doc["new"]["kind"], "snapshot");
    assert_eq!(doc["facts"], Value::Null);
    assert!(doc["notices"].to_string().contains("one side is a report"));
}

#[test]
fn fail_on_decides_which_regressions_gate() {
    // SIT006 is a warning: with only the site selected, the regression gates at
    // `--fail-on warning`, not at the default.
    let o = run(&["diff", HEALTHY, BROKEN, "--select", "SIT"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("SIT006"));
    let o = run(&[
        "diff",
        HEALTHY,
        BROKEN,
        "--select",
        "SIT",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["diff", HEALTHY, BROKEN, "--fail-on", "never"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Regressions (7)"));
}

#[test]
fn snapshots_are_audited_with_the_checks_settings() {
    // --select narrows both audits.
    let o = run(&[
        "diff", HEALTHY, BROKEN, "--select", "CAP", "--format", "json",
    ]);
    let doc = json_of(&o);
    let rules: Vec<String> = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules, ["CAP005", "CAP006", "CAP007"]);
    // A config file's waiver applies to both sides: the waived rule is no regression.
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::write_file(
        dir.path(),
        "cfg.toml",
        "[[waiver]]\nrule = \"CAP007\"\nreason = \"scopes tracked in TICKET-2\"\n",
    );
    let o = run(&[
        "diff",
        HEALTHY,
        BROKEN,
        "--select",
        "CAP",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc = json_of(&o);
    assert_eq!(rules_of(&doc, "regression"), ["CAP005", "CAP006"]);
    assert_eq!(rules_of(&doc, "other"), ["CAP007"]);
    // An unknown rule is a settings error.
    let o = run(&["diff", HEALTHY, BROKEN, "--select", "CAP999"]);
    common::assert_error(&o, 2, "CAP999");
}

#[test]
fn a_version_mismatch_is_said_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let before = write_report(dir.path(), HEALTHY, "before.json");
    let after = write_report(dir.path(), HEALTHY, "after.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&before).unwrap()).unwrap();
    doc["tool"]["version"] = Value::String("0.0.1".into());
    doc["schema_version"] = Value::from(1);
    std::fs::write(&before, serde_json::to_vec(&doc).unwrap()).unwrap();
    let o = run(&["diff", before.to_str().unwrap(), after.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("eci-audit 0.0.1"), "{out}");
    assert!(out.contains("version 1 report"), "{out}");
}

#[test]
fn bad_inputs_exit_2_naming_the_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let junk = common::write_file(dir.path(), "junk.json", "{\n  \"results\": [,]\n}\n");
    let o = run(&["diff", junk.to_str().unwrap(), HEALTHY]);
    common::assert_error(&o, 2, "junk.json:2:");
    let missing = dir.path().join("missing.json");
    let o = run(&["diff", HEALTHY, missing.to_str().unwrap()]);
    common::assert_error(&o, 2, "missing.json");
    // A report with a result of an unknown status: the report's own line and column.
    let report = write_report(dir.path(), HEALTHY, "r.json");
    let text = std::fs::read_to_string(&report).unwrap().replacen(
        "\"status\": \"pass\"",
        "\"status\": \"great\"",
        1,
    );
    std::fs::write(&report, text).unwrap();
    let o = run(&["diff", report.to_str().unwrap(), HEALTHY]);
    common::assert_error(&o, 2, "r.json:");
    assert!(
        stderr(&o).contains("not an eci-audit JSON report"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn baseline_of_itself_gates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = write_report(dir.path(), BROKEN, "base.json");
    let o = run(&[
        "check",
        BROKEN,
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json_of(&o);
    assert_eq!(doc["summary"]["outcome"], "passed");
    assert_eq!(doc["summary"]["exit_code"], 0);
    assert_eq!(doc["baseline"]["new_failures"], serde_json::json!([]));
    assert_eq!(doc["baseline"]["fixed"], serde_json::json!([]));
    assert_eq!(doc["baseline"]["file"], base.to_str().unwrap());
    // The failures are still reported, just not gating.
    assert_eq!(doc["summary"]["counts"]["fail"], 7);
}

#[test]
fn baseline_gates_on_new_failures_only_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let base = write_report(dir.path(), HEALTHY, "base.json");
    let o = run_in(
        dir.path(),
        &[
            "check",
            &common::root().join(BROKEN).display().to_string(),
            "--baseline",
            "base.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(
            "baseline base.json: new failure(s) not in the baseline: AIR003, CAP005, CAP006, CAP007, ENC003, GST002"
        ),
        "{out}"
    );
    let o = run(&[
        "check",
        BROKEN,
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc = json_of(&o);
    assert_eq!(
        doc["baseline"]["new_failures"],
        serde_json::json!(BROKEN_ERRORS)
    );
    assert_eq!(doc["summary"]["exit_code"], 1);
}

#[test]
fn baseline_lists_what_was_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let base = write_report(dir.path(), BROKEN, "base.json");
    // Only the connected app is fixed: the rest still fails, but is in the baseline.
    let mut now =
        serde_json::from_slice::<Value>(&std::fs::read(common::root().join(BROKEN)).unwrap())
            .unwrap();
    now["connected_apps"] = common::healthy_json()["connected_apps"].clone();
    let now_file = common::write_snapshot(dir.path(), &now);
    let o = run(&[
        "check",
        now_file.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json_of(&o);
    assert_eq!(
        doc["baseline"]["fixed"],
        serde_json::json!(["CAP005", "CAP006", "CAP007"])
    );
    assert!(
        doc["notices"]
            .to_string()
            .contains("fixed since the baseline: CAP005, CAP006, CAP007")
    );
    // Matched by rule and logical location, not by message: other scopes missing now.
    let mut moved = now.clone();
    common::set(
        &mut moved,
        "connected_apps/ECIConnectedApp/oauth_config/scopes",
        serde_json::json!(["Api"]),
    );
    let moved_file = dir.path().join("moved.json");
    std::fs::write(&moved_file, serde_json::to_vec(&moved).unwrap()).unwrap();
    let o = run(&[
        "check",
        moved_file.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc = json_of(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "CAP007 failed in the baseline too"
    );
    assert_eq!(doc["baseline"]["new_failures"], serde_json::json!([]));
    // The same rule failing at another logical location is a new failure.
    let mut base_doc: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    for r in base_doc["results"].as_array_mut().unwrap() {
        if r["rule"] == "CAP007" {
            r["evidence"]["logical_location"] = Value::String("ConnectedApp/Other".into());
        }
    }
    std::fs::write(&base, serde_json::to_vec(&base_doc).unwrap()).unwrap();
    let o = run(&[
        "check",
        moved_file.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        json_of(&o)["baseline"]["new_failures"],
        serde_json::json!(["CAP007"])
    );
}

#[test]
fn a_baseline_that_is_no_report_exits_2_naming_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    // A snapshot.
    let o = run(&["check", BROKEN, "--baseline", HEALTHY]);
    common::assert_error(&o, 2, "healthy.json:1:1: not an eci-audit JSON report");
    assert!(
        stderr(&o).contains("looks like a snapshot"),
        "{}",
        stderr(&o)
    );
    // Broken JSON.
    let bad = common::write_file(
        dir.path(),
        "bad.json",
        "{\n  \"tool\": {\"name\": \"eci-audit\"},\n  oops\n}",
    );
    let o = run(&["check", BROKEN, "--baseline", bad.to_str().unwrap()]);
    common::assert_error(&o, 2, "bad.json:3:3");
    // A SARIF log.
    let sarif = dir.path().join("r.sarif");
    run(&["check", HEALTHY, "--output", sarif.to_str().unwrap()]);
    let o = run(&["check", BROKEN, "--baseline", sarif.to_str().unwrap()]);
    common::assert_error(&o, 2, "looks like a SARIF log");
    // The error document of a run that could not happen.
    let err = dir.path().join("err.json");
    run(&["check", "nope.json", "--output", err.to_str().unwrap()]);
    let o = run(&["check", BROKEN, "--baseline", err.to_str().unwrap()]);
    common::assert_error(&o, 2, "error document");
    // With --format json, the error document says what failed.
    let o = run(&[
        "check",
        BROKEN,
        "--baseline",
        HEALTHY,
        "--format",
        "json",
        "--output",
        dir.path().join("out.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let doc: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.json")).unwrap()).unwrap();
    assert_eq!(doc["error"]["kind"], "report");
}

#[test]
fn values_from_the_inputs_cannot_drive_the_terminal_or_forge_lines() {
    let mut snap = common::healthy_json();
    common::set(
        &mut snap,
        "named_credentials/Aircall/endpoint",
        Value::String("https://api.aircall.io/\u{1b}[2J\nFORGED | <b>x</b>\u{202e}".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_snapshot(dir.path(), &snap);
    for format in ["table", "markdown", "json"] {
        let o = run(&["diff", HEALTHY, file.to_str().unwrap(), "--format", format]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(!out.contains('\u{1b}'), "{format}: {out}");
        assert!(!out.contains('\u{202e}'), "{format}: {out}");
        assert!(
            !out.lines().any(|l| l.starts_with("FORGED")),
            "{format}: {out}"
        );
        if format == "markdown" {
            assert!(!out.contains("<b>"), "{out}");
            assert!(out.contains("FORGED \\| &lt;b&gt;"), "{out}");
        }
    }
}

#[test]
fn two_metadata_directories_compare_like_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let after = dir.path().join("after");
    common::copy_tree(
        &common::root().join("fixtures/metadata/source-healthy"),
        &after,
    );
    let app =
        after.join("force-app/main/default/connectedApps/ECIConnectedApp.connectedApp-meta.xml");
    let xml = std::fs::read_to_string(&app).unwrap().replace(
        "https://acme.my.salesforce.com/services/authcallback/ECIAuthProvider",
        "https://dummyurl/services/authcallback/ECIAuthProvider",
    );
    std::fs::write(&app, xml).unwrap();
    let o = run(&[
        "diff",
        "fixtures/metadata/source-healthy/force-app",
        after.join("force-app").to_str().unwrap(),
        "--my-domain",
        "acme.my.salesforce.com",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = json_of(&o);
    assert_eq!(doc["old"]["kind"], "metadata_dir");
    let regressions = rules_of(&doc, "regression");
    assert!(
        regressions.contains(&"CAP005".to_string()),
        "{regressions:?}"
    );
    let facts = doc["facts"].as_array().unwrap();
    assert!(
        facts.iter().any(|f| f["path"]
            == "connected_apps[ECIConnectedApp].oauth_config.callback_url"
            && f["new"] == "https://dummyurl/services/authcallback/ECIAuthProvider"),
        "{facts:#?}"
    );
}

#[test]
fn output_goes_to_a_file_or_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("diff.md");
    let o = run(&[
        "diff",
        HEALTHY,
        BROKEN,
        "--format",
        "markdown",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("comparison written to"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("## eci-audit diff")
    );
    let o = run(&["diff", HEALTHY, BROKEN, "--output", "-"]);
    assert!(stdout(&o).contains("Regressions (7)"));
    assert!(!common::root().join("-").exists());
}

#[test]
fn diff_help_names_the_inputs_and_exit_codes() {
    let o = run(&["diff", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    version_filters().bind(|| insta::assert_snapshot!("help_diff", stdout(&o)));
    let o = run(&["schema", "--help"]);
    assert!(stdout(&o).contains("--report"), "{}", stdout(&o));
}

/// Whether every `needle` in `text` is escaped (preceded by a backslash).
fn only_escaped(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .all(|(i, _)| text[..i].ends_with('\\'))
}

#[test]
fn markdown_renders_hostile_values_as_text() {
    // A callback URL reaches the document as a message and as a fact value.
    let mut new = common::healthy_json();
    common::set(
        &mut new,
        "connected_apps/ECIConnectedApp/oauth_config/callback_url",
        Value::String(
            "x` ![t](https://evil.example/p.png) [click](https://evil.example) @octocat".into(),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    common::write_snapshot(dir.path(), &new);
    std::fs::copy(common::root().join(HEALTHY), dir.path().join("old.json")).unwrap();
    let o = run_in(
        dir.path(),
        &["diff", "old.json", "s.json", "--format", "markdown"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("evil.example"), "{out}");
    assert!(!out.contains("!["), "{out}");
    assert!(only_escaped(&out, "](http"), "{out}");
    assert!(only_escaped(&out, "[click"), "{out}");
    assert!(!out.contains("@octocat"), "{out}");
    assert!(out.contains("@<!-- -->octocat"), "{out}");
    version_filters().bind(|| insta::assert_snapshot!("diff_hostile_markdown", out));
}

#[test]
fn the_verdict_escapes_rule_ids() {
    let dir = tempfile::tempdir().unwrap();
    write_report(dir.path(), HEALTHY, "old.json");
    let new = write_report(dir.path(), BROKEN, "new.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&new).unwrap()).unwrap();
    let hostile = "CAP005\u{1b}[31m\n::error::pwned";
    for r in doc["results"].as_array_mut().unwrap() {
        if r["rule"] == "CAP005" {
            r["rule"] = Value::String(hostile.into());
        }
    }
    std::fs::write(&new, serde_json::to_vec(&doc).unwrap()).unwrap();
    let o = run_in(dir.path(), &["diff", "old.json", "new.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("::")), "{out}");
    let last = out.lines().last().unwrap();
    assert!(last.contains("CAP005"), "{last}");
    assert!(last.ends_with("— exit 1"), "{last}");
}

/// Writes a copy of the report `from` as `dir/name`, with `rule`'s result patched by `patch`.
fn patched_report(from: &Path, name: &str, rule: &str, patch: impl Fn(&mut Value)) -> PathBuf {
    let mut doc: Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    let result = doc["results"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule}"));
    patch(result);
    let out = from.with_file_name(name);
    std::fs::write(&out, serde_json::to_vec(&doc).unwrap()).unwrap();
    out
}

fn blocked_behind(root: &'static str) -> impl Fn(&mut Value) {
    move |r: &mut Value| {
        r["status"] = "blocked".into();
        r["root_status"] = root.into();
        r["root_severity"] = "error".into();
    }
}

#[test]
fn a_rule_still_blocked_whose_root_now_fails_is_a_new_failure() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = write_report(dir.path(), HEALTHY, "healthy.json");
    patched_report(&healthy, "old.json", "ORG004", blocked_behind("unknown"));
    patched_report(&healthy, "new.json", "ORG004", blocked_behind("fail"));
    let o = run_in(
        dir.path(),
        &["diff", "old.json", "new.json", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let doc = json_of(&o);
    assert_eq!(rules_of(&doc, "regression"), ["ORG004"]);
    assert_eq!(
        doc["summary"]["new_failures"],
        serde_json::json!(["ORG004"])
    );
    assert_eq!(doc["rules"][0]["old_root_status"], "unknown");
    assert_eq!(doc["rules"][0]["new_root_status"], "fail");
    let o = run_in(dir.path(), &["diff", "old.json", "new.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("blocked (unknown) → blocked (fail)"),
        "{}",
        stdout(&o)
    );
    // The way back is not a failure; the same root on both sides is no change.
    let o = run_in(dir.path(), &["diff", "new.json", "old.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run_in(dir.path(), &["diff", "new.json", "new.json"]);
    assert!(
        stdout(&o).contains("No rule changed status."),
        "{}",
        stdout(&o)
    );
}

#[test]
fn results_new_lost_exit_3_unless_allow_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = write_report(dir.path(), HEALTHY, "old.json");
    patched_report(&healthy, "unknown.json", "ORG004", |r| {
        r["status"] = "unknown".into();
    });
    patched_report(
        &healthy,
        "blocked.json",
        "ORG004",
        blocked_behind("unknown"),
    );
    for new in ["unknown.json", "blocked.json"] {
        let o = run_in(dir.path(), &["diff", "old.json", new]);
        assert_eq!(o.status.code(), Some(3), "{new}: {}", stdout(&o));
        let last = stdout(&o).lines().last().unwrap().to_string();
        assert!(last.contains("no longer evaluated: ORG004"), "{last}");
        assert!(last.contains("exit 3"), "{last}");
        let o = run_in(dir.path(), &["diff", "old.json", new, "--format", "json"]);
        assert_eq!(o.status.code(), Some(3));
        let doc = json_of(&o);
        assert_eq!(doc["summary"]["outcome"], "incomplete");
        assert_eq!(doc["summary"]["exit_code"], 3);
        assert_eq!(
            doc["summary"]["no_longer_evaluated"],
            serde_json::json!(["ORG004"])
        );
        let o = run_in(dir.path(), &["diff", "old.json", new, "--allow-incomplete"]);
        assert_eq!(o.status.code(), Some(0), "{new}: {}", stdout(&o));
        assert!(stdout(&o).contains("--allow-incomplete"), "{}", stdout(&o));
        // Below --fail-on, a lost result does not count.
        let o = run_in(dir.path(), &["diff", "old.json", new, "--fail-on", "never"]);
        assert_eq!(o.status.code(), Some(0), "{new}: {}", stdout(&o));
    }
    // A new failure wins over a lost result: exit 1.
    let lost = dir.path().join("unknown.json");
    patched_report(&lost, "both.json", "ORG001", |r| {
        r["status"] = "fail".into();
    });
    let o = run_in(dir.path(), &["diff", "old.json", "both.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}
