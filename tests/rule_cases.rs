//! Runs fixtures/rule-cases.toml: every rule has pass, fail and unknown cases as data, and the
//! healthy fixture passes every rule that is not manual.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use eci_audit::rules::{Catalogue, Status};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    expect: Status,
    #[serde(default)]
    set: Vec<(String, toml::Value)>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    uncollect: Vec<String>,
    #[serde(default)]
    settings: CaseSettings,
    contains: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSettings {
    integration_user: Option<String>,
    my_domain: Option<String>,
    refresh_token_days: Option<u32>,
    aircall_api_id: Option<String>,
    voice_connector_namespace: Option<String>,
    token_expiry_warning: Option<u32>,
}

fn load_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(common::root().join("fixtures/rule-cases.toml"))
        .expect("cases file");
    toml::from_str::<Cases>(&text).expect("cases parse").case
}

#[test]
fn healthy_fixture_passes_every_rule_but_the_manual_ones() {
    let audit = common::audit_json(&common::healthy_json(), common::settings());
    let catalogue = Catalogue::embedded().unwrap();
    for f in &audit.findings {
        let manual = catalogue.get(&f.rule).unwrap().manual.is_some();
        let want = if manual { Status::Manual } else { Status::Pass };
        assert_eq!(f.status, want, "{}: {}", f.rule, f.message);
    }
    assert_eq!(audit.summary.exit_code, 0);
}

#[test]
fn every_case_ends_as_expected() {
    let mut failures = Vec::new();
    for (i, case) in load_cases().iter().enumerate() {
        let mut snap = common::healthy_json();
        for (path, value) in &case.set {
            common::set(&mut snap, path, serde_json::to_value(value).unwrap());
        }
        for path in &case.remove {
            common::remove(&mut snap, path);
        }
        for path in &case.uncollect {
            common::uncollect(&mut snap, path, "INSUFFICIENT_ACCESS: planted by the test");
        }
        let mut settings = common::settings();
        settings.integration_user = case.settings.integration_user.clone();
        settings.my_domain = case.settings.my_domain.clone();
        settings.refresh_token_days = case.settings.refresh_token_days;
        settings.aircall_api_id = case.settings.aircall_api_id.clone();
        settings.voice_connector_namespace = case.settings.voice_connector_namespace.clone();
        if let Some(days) = case.settings.token_expiry_warning {
            settings.token_expiry_warning_days = days;
        }
        let audit = common::audit_json(&snap, settings);
        let f = audit
            .findings
            .iter()
            .find(|f| f.rule == case.rule)
            .expect("rule in catalogue");
        let mut problem = None;
        if f.status != case.expect {
            problem = Some(format!("ended {} ", f.status));
        } else if let Some(text) = &case.contains
            && !f.message.contains(text.as_str())
        {
            problem = Some(format!("message lacks {text:?} "));
        }
        if case.expect == Status::Unknown && f.message.trim().is_empty() {
            problem = Some("unknown without a reason ".to_string());
        }
        if let Some(p) = problem {
            failures.push(format!(
                "case #{i} {} expect {}: {p}— {}",
                case.rule, case.expect, f.message
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_pass_fail_and_unknown_cases() {
    let catalogue = Catalogue::embedded().unwrap();
    let mut seen: BTreeMap<&str, BTreeSet<Status>> = BTreeMap::new();
    let cases = load_cases();
    for c in &cases {
        seen.entry(c.rule.as_str()).or_default().insert(c.expect);
    }
    let mut missing = Vec::new();
    for rule in catalogue.rules() {
        let have = seen.get(rule.id.as_str()).cloned().unwrap_or_default();
        let manual = rule.manual.is_some();
        // The healthy fixture is the pass case of every non-manual rule.
        let pass = !manual || have.contains(&Status::Pass);
        let fail = have.contains(&Status::Fail);
        // A rule that only refines what a required rule found (CAP017 reads the kind of the
        // app CAP001 finds) has no data of its own to miss: blocked behind an unknown root is
        // its incomplete case.
        let unknown = if manual {
            have.contains(&Status::Manual)
        } else {
            have.contains(&Status::Unknown)
                || (!rule.requires.is_empty() && have.contains(&Status::Blocked))
        };
        if !(pass && fail && unknown) {
            missing.push(format!(
                "{} (pass {pass}, fail {fail}, unknown/manual {unknown})",
                rule.id
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "rules without complete cases: {}",
        missing.join(", ")
    );
}
