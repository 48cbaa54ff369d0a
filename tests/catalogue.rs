//! The catalogue as a whole: IDs unique and well-formed, every ID of the product catalogue
//! (RULES.md) present, every rule documented and rendered into docs/rules.md, and custom rule
//! directories add and override rules.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::collections::BTreeSet;

use eci_audit::rules::Catalogue;

/// The IDs of ../shared/RULES.md at the time of writing; the test below also re-reads the file
/// when the shared folder is there.
const CATALOGUE_IDS: &[&str] = &[
    "ORG001", "ORG002", "ORG003", "ORG004", "USR001", "USR002", "USR003", "USR004", "USR005",
    "USR006", "USR007", "USR008", "AIR001", "AIR002", "AIR003", "AIR004", "AIR005", "AIR006",
    "AIR007", "AIR008", "AIR009", "AIR010", "AIR011", "CAP001", "CAP002", "CAP003", "CAP004",
    "CAP005", "CAP006", "CAP007", "CAP008", "CAP009", "CAP010", "CAP011", "CAP012", "CAP013",
    "CAP014", "CAP015", "CAP016", "AUP001", "AUP002", "AUP003", "AUP004", "SIT001", "SIT002",
    "SIT003", "SIT004", "SIT005", "SIT006", "SIT007", "SIT008", "ENC001", "ENC002", "ENC003",
    "ENC004", "ENC005", "ENC006", "ENC007", "ENC008", "ENC009", "GST001", "GST002", "GST003",
    // Issue 9 (RULES.md "Planned rules").
    "ENC010", "ENC011", "ENC012", "USR009", "USR010",
];

#[test]
fn ids_are_unique_and_every_catalogue_id_has_a_rule_file() {
    let catalogue = Catalogue::embedded().expect("the shipped rules load");
    let ids: Vec<&str> = catalogue.ids().collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "duplicate IDs");
    for id in CATALOGUE_IDS {
        assert!(unique.contains(id), "{id} has no rule file");
    }
    // Rule files live at rules/<area>/<ID>.toml.
    for rule in catalogue.rules() {
        let expected = format!("rules/{}/{}.toml", rule.area().to_lowercase(), rule.id);
        assert!(
            rule.origin.ends_with(&expected),
            "{} lives at {}",
            rule.id,
            rule.origin
        );
    }
}

#[test]
fn rules_md_ids_are_all_present_when_the_shared_folder_is_there() {
    let Some(corpus) = std::env::var_os("ECI_AUDIT_CORPUS") else {
        eprintln!("ECI_AUDIT_CORPUS not set; skipping the RULES.md cross-check");
        return;
    };
    let rules_md = std::path::Path::new(&corpus).join("../RULES.md");
    let Ok(text) = std::fs::read_to_string(&rules_md) else {
        eprintln!(
            "{} not readable; skipping the RULES.md cross-check",
            rules_md.display()
        );
        return;
    };
    let catalogue = Catalogue::embedded().unwrap();
    let re = regex::Regex::new(r"(?m)^\| ([A-Z]{3}[0-9]{3}) ").unwrap();
    let mut n = 0;
    for cap in re.captures_iter(&text) {
        n += 1;
        assert!(
            catalogue.get(&cap[1]).is_some(),
            "RULES.md lists {} but there is no rule file",
            &cap[1]
        );
    }
    assert!(n >= 60, "RULES.md parse found only {n} IDs");
}

#[test]
fn every_rule_is_documented() {
    let catalogue = Catalogue::embedded().unwrap();
    let docs = std::fs::read_to_string(common::root().join("docs/rules.md")).unwrap();
    for rule in catalogue.rules() {
        for (what, text) in [
            ("requirement", &rule.requirement),
            ("rationale", &rule.rationale),
            ("fix", &rule.fix),
            ("expected", &rule.expected),
        ] {
            assert!(text.trim().len() > 3, "{} has no {what}", rule.id);
        }
        assert!(
            rule.fix.contains(" → "),
            "{}: the fix should be a Setup click path: {}",
            rule.id,
            rule.fix
        );
        assert!(
            docs.contains(&format!("### {} — ", rule.id)),
            "docs/rules.md lacks {}",
            rule.id
        );
    }
}

#[test]
fn custom_rules_add_and_override() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("org");
    std::fs::create_dir_all(&dir).unwrap();
    // Override ORG002 (note → error) and add ORG900.
    std::fs::write(
        dir.join("ORG002.toml"),
        "id = \"ORG002\"\ntitle = \"Unlimited only\"\nstep = \"prerequisites\"\nseverity = \"error\"\nrequirement = \"Unlimited Edition.\"\nrationale = \"House policy.\"\nexpected = \"Unlimited Edition\"\nfix = \"Setup → Company Information.\"\n\n[check]\nsubject = \"org\"\n\n[[check.assert]]\nfield = \"edition\"\nop = \"equals\"\nvalue = \"Unlimited Edition\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ORG900.toml"),
        "id = \"ORG900\"\ntitle = \"Org is named Acme\"\nstep = \"prerequisites\"\nseverity = \"warning\"\nrequires = [\"ORG001\"]\nrequirement = \"r\"\nrationale = \"r\"\nexpected = \"Acme Corp\"\nfix = \"Setup → Company Information → Edit.\"\n\n[check]\nsubject = \"org\"\n\n[[check.assert]]\nfield = \"name\"\nop = \"equals\"\nvalue = \"Acme Corp\"\n",
    )
    .unwrap();
    let catalogue = Catalogue::with_extra(Some(tmp.path())).unwrap();
    assert_eq!(
        catalogue.rules().len(),
        Catalogue::embedded().unwrap().rules().len() + 1
    );
    assert_eq!(catalogue.get("ORG002").unwrap().title, "Unlimited only");
    let o = assert_cmd::Command::cargo_bin("eci-audit")
        .unwrap()
        .current_dir(common::root())
        .args(["check", "fixtures/snapshots/healthy.json", "--rules"])
        .arg(tmp.path())
        .args(["--select", "ORG", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "the overridden ORG002 fails on Enterprise Edition"
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let find = |id: &str| common::finding(&doc, id);
    assert_eq!(find("ORG002")["status"], "fail");
    assert_eq!(find("ORG900")["status"], "pass");
}

#[test]
fn a_requirement_cycle_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let rule = |id: &str, req: &str| {
        format!(
            "id = \"{id}\"\ntitle = \"t\"\nstep = \"site\"\nseverity = \"error\"\nrequires = [\"{req}\"]\nrequirement = \"r\"\nrationale = \"r\"\nexpected = \"e\"\nfix = \"Setup.\"\n\n[check]\nsubject = \"sites\"\nname = \"VoiceConnector\"\n"
        )
    };
    std::fs::write(tmp.path().join("SIT901.toml"), rule("SIT901", "SIT902")).unwrap();
    std::fs::write(tmp.path().join("SIT902.toml"), rule("SIT902", "SIT901")).unwrap();
    let err = Catalogue::with_extra(Some(tmp.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cycle") && err.contains("SIT901") && err.contains("SIT902"),
        "{err}"
    );
}

#[test]
fn a_rule_naming_an_unknown_fact_is_rejected_at_load() {
    let tmp = tempfile::tempdir().unwrap();
    let head = "id = \"CAP950\"\ntitle = \"t\"\nstep = \"connected-app\"\nseverity = \"error\"\nrequirement = \"r\"\nrationale = \"r\"\nexpected = \"e\"\nfix = \"Setup → Apps.\"\n\n[check]\nsubject = \"connected_apps\"\nname = \"ECIConnectedApp\"\n\n";
    std::fs::write(
        tmp.path().join("CAP950.toml"),
        format!("{head}[[check.assert]]\nfield = \"oauth_config.scope\"\nop = \"non-empty\"\n"),
    )
    .unwrap();
    let err = Catalogue::with_extra(Some(tmp.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("CAP950.toml:14:1") && err.contains("oauth_config.scope"),
        "{err}"
    );
    std::fs::write(
        tmp.path().join("CAP950.toml"),
        format!("{head}[[check.assert]]\nfield = \"label\"\nop = \"equals\"\nvalue_from = \"org.my_domian\"\n"),
    )
    .unwrap();
    let err = Catalogue::with_extra(Some(tmp.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("CAP950.toml:14:1") && err.contains("org.my_domian"),
        "{err}"
    );
}
