#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! The default table (issue 10): Start here first, passing steps collapsed, blocked chains and
//! rules that do not apply to the source on one line each, width from `COLUMNS`, locations
//! never broken; and the verdicts of a metadata directory read without org data.

mod common;

use common::{stdout, version_filters};

use std::path::Path;
use std::process::Output;

fn eci(dir: &Path, columns: Option<u16>) -> assert_cmd::Command {
    let mut cmd = common::eci_in(dir);
    if let Some(c) = columns {
        cmd.env("COLUMNS", c.to_string());
    }
    cmd
}

fn run(columns: Option<u16>, args: &[&str]) -> Output {
    eci(&common::root(), columns)
        .args(args)
        .output()
        .expect("run")
}

/// No line is wider than `width`, except one that is a single token (a location that cannot
/// fit), which is never broken, and the header's, which names the input and is never wrapped.
fn assert_fits(text: &str, width: usize) {
    for line in text
        .lines()
        .filter(|l| !l.starts_with("eci-audit ") && !l.starts_with("Config: "))
    {
        let n = line.chars().count();
        assert!(
            n <= width || !line.trim().contains(' '),
            "line of {n} > {width} columns: {line}"
        );
    }
}

const HEALTHY_DIR: &str = "fixtures/metadata/source-healthy/force-app";

/// A copy of the healthy source directory with the connected app's file misnamed: one root
/// failure (CAP001) with a chain of rules blocked behind it.
fn misnamed_connected_app(tmp: &Path) {
    common::copy_tree(
        &common::root().join("fixtures/metadata/source-healthy"),
        &tmp.join("app"),
    );
    let apps = tmp.join("app/force-app/main/default/connectedApps");
    std::fs::rename(
        apps.join("ECIConnectedApp.connectedApp-meta.xml"),
        apps.join("ECI_Connected_App.connectedApp-meta.xml"),
    )
    .unwrap();
}

#[test]
fn broken_at_80_and_120_columns() {
    for columns in [80, 120] {
        let o = run(Some(columns), &["check", "fixtures/snapshots/broken.json"]);
        common::assert_exit(&o, 1);
        let text = stdout(&o);
        assert_fits(&text, usize::from(columns));
        version_filters().bind(|| {
            insta::assert_snapshot!(format!("table_broken_{columns}"), text);
        });
    }
}

#[test]
fn healthy_at_80_and_120_columns() {
    for columns in [80, 120] {
        let o = run(Some(columns), &["check", "fixtures/snapshots/healthy.json"]);
        common::assert_exit(&o, 0);
        let text = stdout(&o);
        assert_fits(&text, usize::from(columns));
        // Every step passes: one line each, no rule listed.
        let line = text
            .lines()
            .find(|l| l.starts_with("✔ 4. Set Up the Connected App — "))
            .unwrap_or_else(|| panic!("{text}"));
        let (passed, total) = line.rsplit_once(' ').unwrap().1.split_once('/').unwrap();
        assert_eq!(passed, total, "{line}");
        assert!(!text.contains("Start here"), "{text}");
        version_filters().bind(|| {
            insta::assert_snapshot!(format!("table_healthy_{columns}"), text);
        });
    }
}

#[test]
fn blocked_chain_collapses_into_one_line_at_80_and_120_columns() {
    let tmp = tempfile::tempdir().unwrap();
    misnamed_connected_app(tmp.path());
    for columns in [80, 120] {
        let o = eci(tmp.path(), Some(columns))
            .args(["check", "app", "--my-domain", "acme.my.salesforce.com"])
            .output()
            .unwrap();
        common::assert_exit(&o, 1);
        let text = stdout(&o);
        assert_fits(&text, usize::from(columns));
        let blocked: Vec<&str> = text.lines().filter(|l| l.contains("⊘")).collect();
        assert_eq!(
            blocked.len(),
            2,
            "one line per root (CAP001, AUP004): {text}"
        );
        assert!(
            blocked[0].contains("blocked behind CAP001 (fail): CAP002"),
            "{text}"
        );
        // The misnamed file is where to look, whole on its line.
        assert!(
            text.lines().any(|l| l.ends_with(
                "app/force-app/main/default/connectedApps/ECI_Connected_App.connectedApp-meta.xml:2"
            ) && !l.trim().contains(' ')
                || l.trim_start()
                    == "at app/force-app/main/default/connectedApps/ECI_Connected_App.connectedApp-meta.xml:2"),
            "{text}"
        );
        // The root cause is told once, in Start here, not on every blocked rule.
        assert_eq!(text.matches("no connected app named").count(), 1, "{text}");
        version_filters().bind(|| {
            insta::assert_snapshot!(format!("table_blocked_chain_{columns}"), text);
        });
    }
}

#[test]
fn first_failure_with_location_and_fix_within_15_lines_at_80_columns() {
    let o = run(Some(80), &["check", "fixtures/snapshots/broken.json"]);
    let text = stdout(&o);
    let first: Vec<&str> = text.lines().take(15).collect();
    let head = first
        .iter()
        .position(|l| l.trim_start().starts_with("✘ AIR003 fail"))
        .unwrap_or_else(|| panic!("no failure in the first 15 lines:\n{text}"));
    let rest = &first[head..];
    assert!(
        rest.iter()
            .any(|l| l.trim_start() == "at readMetadata NamedCredential/Aircall"),
        "no location:\n{text}"
    );
    assert!(
        rest.iter().any(|l| l.trim_start().starts_with("Fix: ")),
        "no fix:\n{text}"
    );
}

#[test]
fn a_long_location_stands_alone_and_whole_at_80_columns() {
    let o = run(
        Some(80),
        &[
            "check",
            HEALTHY_DIR,
            "--my-domain",
            "acme.my.salesforce.com",
            "--show-passed",
        ],
    );
    let text = stdout(&o);
    let path = "fixtures/metadata/source-healthy/force-app/main/default/namedCredentials/ECINamedCredential.namedCredential-meta.xml:2";
    assert!(text.lines().any(|l| l == path), "{text}");
    assert_fits(&text, 80);
}

#[test]
fn show_passed_lists_every_rule() {
    let o = run(
        Some(120),
        &["check", "fixtures/snapshots/healthy.json", "--show-passed"],
    );
    common::assert_exit(&o, 0);
    let text = stdout(&o);
    for id in ["ORG001", "CAP001", "CAP016", "GST003"] {
        assert!(text.contains(&format!("✔ {id} pass")), "{id}: {text}");
    }
    let default = stdout(&run(
        Some(120),
        &["check", "fixtures/snapshots/healthy.json"],
    ));
    assert!(!default.contains("CAP001"), "{default}");
}

#[test]
fn columns_sets_the_width_and_the_table_is_never_wider_than_needed() {
    let o = run(Some(200), &["check", "fixtures/snapshots/healthy.json"]);
    let text = stdout(&o);
    assert_fits(&text, 200);
    // The manual check's text takes the room COLUMNS gives ...
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 120, "COLUMNS=200 not applied: {widest}:\n{text}");
    // ... and nothing is padded to it.
    assert!(text.lines().any(|l| l == "✔ Prerequisites — 4/4"), "{text}");
    assert!(!text.lines().any(|l| l.ends_with(' ')), "{text}");
    let narrow = stdout(&run(Some(60), &["check", "fixtures/snapshots/broken.json"]));
    assert_fits(&narrow, 60);
}

#[test]
fn healthy_metadata_directories_pass_without_allow_incomplete() {
    for dir in [HEALTHY_DIR, "fixtures/metadata/mdapi-healthy"] {
        let o = run(
            None,
            &["check", dir, "--my-domain", "acme.my.salesforce.com"],
        );
        common::assert_exit(&o, 0);
        let text = stdout(&o);
        assert!(text.contains(", 21 skipped"), "{dir}: {text}");
        let last = text.lines().last().unwrap();
        assert!(
            last.ends_with("— passed — 1 check needs a manual look: AIR011"),
            "{dir}: {text}"
        );
        assert!(
            text.contains(
                "– 1. Log In as the Integration User — not applicable to this source: USR001"
            ),
            "{dir}: {text}"
        );
    }
}

#[test]
fn sarif_of_a_metadata_directory_has_no_result_for_org_only_rules() {
    for dir in [HEALTHY_DIR, "fixtures/metadata/mdapi-healthy"] {
        let o = run(
            None,
            &[
                "check",
                dir,
                "--my-domain",
                "acme.my.salesforce.com",
                "--format",
                "sarif",
            ],
        );
        common::assert_exit(&o, 0);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let run = &doc["runs"][0];
        assert_eq!(run["results"].as_array().unwrap().len(), 0, "{dir}: {run}");
        let props = &run["invocations"][0]["properties"];
        let skipped: Vec<&str> = props["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for id in ["USR001", "GST001", "ORG003", "CAP015", "SIT008"] {
            assert!(skipped.contains(&id), "{dir}: {id} in {skipped:?}");
        }
        assert_eq!(props["incomplete"], false, "{dir}");
        assert_eq!(props["counts"]["skipped"], 21, "{dir}");
    }
}

#[test]
fn json_shows_skipped_with_the_reason() {
    let o = run(
        None,
        &[
            "check",
            HEALTHY_DIR,
            "--my-domain",
            "acme.my.salesforce.com",
            "--format",
            "json",
        ],
    );
    common::assert_exit(&o, 0);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let usr = common::finding(&doc, "USR001");
    assert_eq!(usr["status"], "skipped");
    let message = usr["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "not applicable to this source: check it live or merge a snapshot with --snapshot"
        ),
        "{message}"
    );
    let blocked_behind = common::finding(&doc, "USR002");
    assert_eq!(blocked_behind["status"], "skipped");
    assert_eq!(doc["summary"]["counts"]["skipped"], 21);
    assert_eq!(doc["summary"]["incomplete"], false);
}

#[test]
fn org_data_merged_with_snapshot_makes_the_org_rules_apply_again() {
    let o = run(
        None,
        &[
            "check",
            "--metadata-dir",
            HEALTHY_DIR,
            "--snapshot",
            "fixtures/snapshots/healthy.json",
            "--format",
            "json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["summary"]["counts"]["skipped"], 0, "{}", doc["summary"]);
    assert_eq!(common::finding(&doc, "USR001")["status"], "pass");
}

#[test]
fn org_data_missing_from_a_snapshot_is_unknown_never_skipped() {
    // A snapshot could have held the users: missing there is a gap in the audit.
    let tmp = tempfile::tempdir().unwrap();
    let mut snap = common::healthy_json();
    snap["users"] = serde_json::json!({"not_collected": "INSUFFICIENT_ACCESS"});
    let path = common::write_snapshot(tmp.path(), &snap);
    let o = run(None, &["check", path.to_str().unwrap(), "--format", "json"]);
    common::assert_exit(&o, 3);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(common::finding(&doc, "USR001")["status"], "unknown");
    assert_eq!(doc["summary"]["counts"]["skipped"], 0);
}

#[test]
fn select_evaluates_a_rule_whose_required_rule_is_not_selected() {
    for dir in [HEALTHY_DIR, "fixtures/metadata/mdapi-healthy"] {
        let o = run(
            None,
            &[
                "check",
                dir,
                "--my-domain",
                "acme.my.salesforce.com",
                "--select",
                "CAP,AUP,ENC",
            ],
        );
        common::assert_exit(&o, 0);
        let text = stdout(&o);
        assert!(!text.contains("⊘"), "{dir}: {text}");
        assert!(text.contains(" 0 blocked,"), "{dir}: {text}");
        assert!(!text.contains("requires USR001"), "{dir}: {text}");
    }
    // CAP005 requires CAP001; selected alone, its own facts decide.
    let o = run(
        None,
        &[
            "check",
            "fixtures/snapshots/broken.json",
            "--select",
            "CAP005",
            "--format",
            "json",
        ],
    );
    common::assert_exit(&o, 1);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(common::finding(&doc, "CAP005")["status"], "fail");
}

#[test]
fn a_rule_behind_an_unselected_root_without_its_own_facts_stays_blocked_by_that_root() {
    let tmp = tempfile::tempdir().unwrap();
    let mut snap = common::healthy_json();
    snap["users"] = serde_json::json!({"not_collected": "INSUFFICIENT_ACCESS"});
    let path = common::write_snapshot(tmp.path(), &snap);
    let o = run(
        None,
        &["check", path.to_str().unwrap(), "--select", "CAP015"],
    );
    common::assert_exit(&o, 3);
    let text = stdout(&o);
    let at = text.find("Start here").unwrap_or_else(|| panic!("{text}"));
    let start = &text[at..];
    assert!(
        start.contains("USR001 could not be evaluated: users: INSUFFICIENT_ACCESS")
            && start.contains("(CAP015 depends on it)"),
        "{text}"
    );
    assert!(!text.contains("blocked: requires USR001"), "{text}");
    assert!(
        text.contains("⊘ 1 rule blocked behind USR001 (unknown, not selected): CAP015"),
        "{text}"
    );
}

#[test]
fn a_run_that_evaluates_no_rule_is_exit_2() {
    let o = run(
        None,
        &[
            "check",
            HEALTHY_DIR,
            "--my-domain",
            "acme.my.salesforce.com",
            "--select",
            "USR,GST",
        ],
    );
    common::assert_error(&o, 2, "no selected rule applies to this source");
    // The SARIF document a CI job uploads is written even so.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.sarif");
    let o = run(
        None,
        &[
            "check",
            HEALTHY_DIR,
            "--select",
            "USR",
            "--format",
            "sarif",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    common::assert_exit(&o, 2);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    // Selecting and ignoring the same rule leaves nothing: exit 2 as well.
    let o = run(
        None,
        &[
            "check",
            "fixtures/snapshots/healthy.json",
            "--select",
            "CAP005",
            "--ignore",
            "CAP005",
        ],
    );
    common::assert_error(&o, 2, "no rule selected");
}

#[test]
fn a_waiver_for_a_skipped_rule_is_reported_unused() {
    let tmp = tempfile::tempdir().unwrap();
    let config = common::write_file(
        tmp.path(),
        "eci-audit.toml",
        "[[waiver]]\nrule = \"USR001\"\nreason = \"checked by hand\"\n",
    );
    let o = run(
        None,
        &[
            "check",
            HEALTHY_DIR,
            "--my-domain",
            "acme.my.salesforce.com",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    common::assert_exit(&o, 0);
    assert!(
        stdout(&o).contains("waiver for USR001 is unused"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn show_passed_is_also_a_config_key() {
    let tmp = tempfile::tempdir().unwrap();
    let config = common::write_file(tmp.path(), "eci.toml", "show_passed = true\n");
    let config = config.to_str().unwrap();
    let o = run(
        Some(120),
        &[
            "check",
            "fixtures/snapshots/healthy.json",
            "--config",
            config,
        ],
    );
    common::assert_exit(&o, 0);
    assert!(stdout(&o).contains("✔ CAP001 pass"), "{}", stdout(&o));
    let o = run(
        None,
        &[
            "check",
            "fixtures/snapshots/healthy.json",
            "--config",
            config,
            "--dump-config",
        ],
    );
    let dump = stdout(&o);
    assert!(
        dump.lines()
            .any(|l| l.starts_with("show_passed = true") && l.contains("eci.toml:1:")),
        "{dump}"
    );
}

#[test]
fn colour_changes_no_line_break() {
    let plain = stdout(&run(
        Some(80),
        &[
            "check",
            "fixtures/snapshots/broken.json",
            "--color",
            "never",
        ],
    ));
    let coloured = stdout(&run(
        Some(80),
        &[
            "check",
            "fixtures/snapshots/broken.json",
            "--color",
            "always",
        ],
    ));
    assert!(coloured.contains("\u{1b}[1;31m✘\u{1b}[0m"), "{coloured}");
    let stripped = regex::Regex::new("\u{1b}\\[[0-9;]*m")
        .unwrap()
        .replace_all(&coloured, "");
    assert_eq!(stripped, plain);
}

#[test]
fn a_baseline_is_named_in_the_header_and_its_failures_do_not_lead() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base.json");
    let broken = common::root().join("fixtures/snapshots/broken.json");
    let o = run(
        Some(80),
        &[
            "check",
            broken.to_str().unwrap(),
            "--format",
            "json",
            "--output",
            base.to_str().unwrap(),
        ],
    );
    common::assert_exit(&o, 1);
    let o = run(
        Some(80),
        &[
            "check",
            broken.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    common::assert_exit(&o, 0);
    let text = stdout(&o);
    let head: Vec<&str> = text.lines().take(4).collect();
    assert!(
        head.iter().any(|l| l.starts_with("Baseline: "))
            && head
                .iter()
                .any(|l| l.contains("0 failures not in the baseline (they alone gate)")),
        "{text}"
    );
    assert!(
        !text.contains("Start here"),
        "known failures do not lead: {text}"
    );
    assert!(!text.contains("failures are matched across orgs"), "{text}");

    // A baseline of another org is used, and said to be.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    doc["source"]["org_id"] = serde_json::json!("00DOTHERORG0000AAA");
    std::fs::write(&base, serde_json::to_string(&doc).unwrap()).unwrap();
    let o = run(
        Some(200),
        &[
            "check",
            broken.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    let text = stdout(&o);
    assert!(
        text.contains("is of org 00DOTHERORG0000AAA, this run of org 00D5g00000ACMEAEAY: failures are matched across orgs"),
        "{text}"
    );
}

#[test]
fn a_note_never_leads() {
    // A healthy External Client App org: CAP017 (a note) fails, nothing gates.
    let o = run(
        Some(80),
        &[
            "check",
            "fixtures/metadata/source-eca-healthy",
            "--my-domain",
            "acme.my.salesforce.com",
        ],
    );
    common::assert_exit(&o, 0);
    let text = stdout(&o);
    assert!(text.contains("CAP017"), "{text}");
    assert!(!text.contains("Start here"), "{text}");
}
