//! Issue 9 against the fake org: is the ECI credential authenticated (as whom), does its token
//! expire, did a component change since, can the integration user log in, and do calls
//! arrive. Every case collects from the in-process fake (127.0.0.1 only) and audits the
//! snapshot it gives, as `check --instance-url` does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;
mod support;

use std::time::Duration;

use eci_audit::audit::Audit;
use eci_audit::collect::{AuthMethod, CollectOptions, RetryPolicy, Secret, collect};
use eci_audit::report::{self, Format, RenderOptions, Run};
use eci_audit::rules::{Catalogue, Finding, Status};
use eci_audit::snapshot::Snapshot;
use serde_json::{Value, json};
use support::fake_org::{FakeOrg, FakeOrgBuilder};

const INTEGRATION_USER_ID: &str = "005XX0000000001AAA";
const ADMIN_ID: &str = "005XX0000000003AAA";
/// The fake org's clock (its fixture's `now`), which the collection is stamped with too.
const NOW: &str = "2026-11-28T10:00:00Z";

fn options(fake: &FakeOrg) -> CollectOptions {
    let mut opts = CollectOptions::new(AuthMethod::AccessToken {
        instance_url: fake.url().to_string(),
        token: Secret::new(fake.credentials().access_token.clone()),
    });
    opts.integration_user = Some("eci-integration@acme.example".to_string());
    opts.my_domain = Some("https://acme.my.salesforce.com".to_string());
    opts.timeout = Duration::from_secs(10);
    opts.retry = RetryPolicy {
        max_retries: 1,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    opts.now = Some(chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc());
    opts
}

async fn collected(builder: FakeOrgBuilder) -> (FakeOrg, Snapshot) {
    let fake = builder.start();
    let outcome = collect(&options(&fake))
        .await
        .unwrap_or_else(|e| panic!("collection failed: {e}"));
    (fake, outcome.snapshot)
}

async fn audit_of(builder: FakeOrgBuilder) -> Audit {
    let (_fake, snap) = collected(builder).await;
    common::audit_json(&serde_json::to_value(&snap).unwrap(), common::settings())
}

fn finding<'a>(audit: &'a Audit, rule: &str) -> &'a Finding {
    audit.findings.iter().find(|f| f.rule == rule).unwrap()
}

fn assert_status(audit: &Audit, rule: &str, status: Status, needle: &str) {
    let f = finding(audit, rule);
    assert_eq!(f.status, status, "{rule}: {}", f.message);
    assert!(
        f.message.contains(needle),
        "{rule}: {:?} lacks {needle:?}",
        f.message
    );
}

fn healthy() -> FakeOrgBuilder {
    FakeOrg::builder("healthy")
}

/// The org with one ECI token, of this user, created then.
fn eci_token(builder: FakeOrgBuilder, user_id: &str, created: &str) -> FakeOrgBuilder {
    builder.without_records("OauthToken").add_record(
        "OauthToken",
        json!({
            "Id": null, "AppName": "ECI Connected App", "AppMenuItemId": "0JaXX0000000001AAA",
            "UserId": user_id, "CreatedDate": created, "LastUsedDate": "2026-11-27T08:00:00.000+0000",
            "UseCount": 12, "AccessToken": "FAKE-SECRET-ACCESS-MUST-NEVER-LEAVE-THE-ORG"
        }),
    )
}

/// The ECI connected app with this refresh-token policy.
fn policy(builder: FakeOrgBuilder, refresh_token_policy: &str) -> FakeOrgBuilder {
    let path =
        support::fake_org::fixtures_dir().join("healthy.metadata/ConnectedApp/ECIConnectedApp.xml");
    let xml = std::fs::read_to_string(path).unwrap().replace(
        "<refreshTokenPolicy>specific_lifetime:365:DAYS</refreshTokenPolicy>",
        &format!("<refreshTokenPolicy>{refresh_token_policy}</refreshTokenPolicy>"),
    );
    builder.metadata_xml("ConnectedApp", "ECIConnectedApp", &xml)
}

#[tokio::test]
async fn authenticated_as_the_integration_user_passes_with_the_tokens_dates() {
    let audit = audit_of(healthy()).await;
    assert_status(
        &audit,
        "ENC009",
        Status::Pass,
        "authenticated on 2026-10-02, last used 2026-11-28, 4,812 uses",
    );
    for rule in ["ENC010", "ENC011", "ENC012", "USR009", "USR010"] {
        assert_eq!(
            finding(&audit, rule).status,
            Status::Pass,
            "{rule}: {}",
            finding(&audit, rule).message
        );
    }
    assert_eq!(audit.summary.exit_code, 0, "{:?}", audit.summary);
}

#[tokio::test]
async fn authenticated_as_another_admin_fails_naming_that_user() {
    let audit = audit_of(eci_token(
        healthy(),
        ADMIN_ID,
        "2026-10-02T09:15:00.000+0000",
    ))
    .await;
    assert_status(&audit, "ENC009", Status::Fail, "`admin@acme.example`");
    assert!(
        finding(&audit, "ENC009")
            .message
            .contains("eci-integration@acme.example")
    );
    assert!(
        finding(&audit, "ENC009")
            .fix
            .contains("re-authenticate while logged in as the integration user")
    );
}

#[tokio::test]
async fn no_token_fails_as_never_authenticated_or_revoked() {
    let audit = audit_of(healthy().without_records("OauthToken")).await;
    assert_status(
        &audit,
        "ENC009",
        Status::Fail,
        "never authenticated, or its token was revoked",
    );
    assert!(
        finding(&audit, "ENC009")
            .fix
            .contains("Start Authentication Flow on Save")
    );
}

#[tokio::test]
async fn an_auditor_without_customize_application_gets_unknown_not_fail() {
    // Salesforce then answers with the auditor's own tokens only, without an error: the fake
    // does the same, so the token list comes back empty.
    let (fake, snap) = collected(healthy().set_field(
        "0UPXX0000000001AAA",
        "PermissionsCustomizeApplication",
        json!(false),
    ))
    .await;
    assert!(snap.runtime.oauth_tokens.available().unwrap().is_empty());
    assert!(
        snap.source
            .missing_permissions
            .iter()
            .any(|p| p.starts_with("Customize Application")),
        "{:?}",
        snap.source.missing_permissions
    );
    drop(fake);
    let audit = common::audit_json(&serde_json::to_value(&snap).unwrap(), common::settings());
    assert_status(
        &audit,
        "ENC009",
        Status::Unknown,
        "lacks Customize Application",
    );
    assert_eq!(audit.summary.exit_code, 3);
}

#[tokio::test]
async fn a_token_350_days_old_under_a_365_day_policy_expires_soon() {
    let audit = audit_of(eci_token(
        healthy(),
        INTEGRATION_USER_ID,
        "2025-12-13T10:00:00.000+0000",
    ))
    .await;
    assert_eq!(finding(&audit, "ENC010").status, Status::Pass);
    assert_status(
        &audit,
        "ENC012",
        Status::Fail,
        "expires on 2026-12-13, in 15 days",
    );
    assert_eq!(
        finding(&audit, "ENC012").severity,
        eci_audit::rules::Severity::Warning
    );
}

#[tokio::test]
async fn a_token_400_days_old_under_a_365_day_policy_has_expired() {
    let audit = audit_of(eci_token(
        healthy(),
        INTEGRATION_USER_ID,
        "2025-10-24T10:00:00.000+0000",
    ))
    .await;
    assert_status(&audit, "ENC010", Status::Fail, "expired on 2026-10-24");
    assert!(finding(&audit, "ENC010").fix.contains("Re-authenticate"));
    assert_eq!(audit.summary.exit_code, 1);
}

#[tokio::test]
async fn idle_expiry_and_never_expire_policies_pass() {
    for (p, needle) in [
        ("specific_inactivity:30:DAYS", "only when it is not used"),
        ("infinite", "never expires"),
    ] {
        let builder = policy(
            eci_token(
                healthy(),
                INTEGRATION_USER_ID,
                "2020-01-01T00:00:00.000+0000",
            ),
            p,
        );
        let audit = audit_of(builder).await;
        assert_status(&audit, "ENC010", Status::Pass, needle);
        assert_eq!(finding(&audit, "ENC012").status, Status::Pass, "{p}");
    }
}

#[tokio::test]
async fn a_credential_edit_after_the_token_is_named() {
    let audit = audit_of(healthy().add_record(
        "SetupAuditTrail",
        json!({
            "Id": "0YmXX0000000009AAA", "CreatedDate": "2026-11-20T10:02:00.000+0000",
            "CreatedById": ADMIN_ID, "Action": "namedCredentialEdit", "Section": "Named Credentials",
            "Display": "Changed Named Credential ECI Named Credential", "DelegateUser": null
        }),
    ))
    .await;
    assert_status(
        &audit,
        "ENC011",
        Status::Fail,
        "2026-11-20 10:02 UTC admin@acme.example: Changed Named Credential ECI Named Credential",
    );
    assert_eq!(
        finding(&audit, "ENC011").severity,
        eci_audit::rules::Severity::Warning
    );
    // The same change leads "Recent changes".
    let first = &audit.evidence.recent_changes.entries[0];
    assert_eq!(
        first.display.as_deref(),
        Some("Changed Named Credential ECI Named Credential")
    );
    assert!(first.eci_component);
}

#[tokio::test]
async fn frozen_and_locked_integration_users_fail_usr009() {
    for (field, label) in [
        ("IsFrozen", "Frozen"),
        ("IsPasswordLocked", "Password-locked"),
    ] {
        let audit = audit_of(healthy().set_field("060XX0000000001AAA", field, json!(true))).await;
        assert_status(
            &audit,
            "USR009",
            Status::Fail,
            &format!("{label} is `true`"),
        );
        // Still active: IsActive alone would have missed it.
        assert_eq!(finding(&audit, "USR002").status, Status::Pass);
    }
}

#[tokio::test]
async fn refresh_token_login_failures_warn_with_the_status_verbatim() {
    let audit = audit_of(healthy().set_field(
        "0YaXX0000000001AAA",
        "Status",
        json!("Failed: Refresh Token Expired"),
    ))
    .await;
    assert_status(
        &audit,
        "USR010",
        Status::Fail,
        "\"Failed: Refresh Token Expired\"",
    );
    let m = &finding(&audit, "USR010").message;
    assert!(
        m.contains("1 of the last 2 logins through the ECI app failed"),
        "{m}"
    );
    assert!(m.contains("2026-11-28T08:00:00.000+0000"), "{m}");
    // Without Manage Users or Monitor Login History: unknown, naming them.
    let audit = audit_of(
        healthy()
            .set_field("0UPXX0000000001AAA", "PermissionsManageUsers", json!(false))
            .set_field(
                "0UPXX0000000001AAA",
                "PermissionsMonitorLoginHistory",
                json!(false),
            ),
    )
    .await;
    assert_status(
        &audit,
        "USR010",
        Status::Unknown,
        "lacks Manage Users and Monitor Login History",
    );
}

#[tokio::test]
async fn no_token_value_is_read_or_stored() {
    let (fake, snap) = collected(healthy()).await;
    let text = serde_json::to_string(&snap).unwrap();
    assert!(
        !text.contains("FAKE-SECRET"),
        "a token value reached the snapshot"
    );
    for r in fake.requests() {
        if let Some(soql) = r.soql() {
            let select = soql.split(" FROM ").next().unwrap().to_string();
            for secret in ["AccessToken", "RequestToken", "DeleteToken"] {
                assert!(!select.contains(secret), "{soql}");
            }
        }
        assert!(!r.body.contains("AccessToken,"), "{}", r.body);
    }
}

#[tokio::test]
async fn evidence_is_in_every_format_and_in_a_collected_snapshot_checked_offline() {
    let (_fake, snap) = collected(healthy()).await;
    let rt = &snap.runtime;
    // Only the entries touching the ECI setup are kept: not the e-mail change of another user.
    let kept: Vec<&str> = rt
        .setup_audit_trail
        .items()
        .iter()
        .filter_map(|e| e.display.as_deref())
        .collect();
    assert!(
        kept.iter().all(|d| !d.contains("rep@acme.example")),
        "{kept:?}"
    );
    assert!(
        kept.iter().any(|d| d.contains("VoiceConnector")),
        "{kept:?}"
    );
    assert_eq!(rt.recent_voice_calls.items().len(), 3);
    let audit = common::audit_json(&serde_json::to_value(&snap).unwrap(), common::settings());
    let catalogue = Catalogue::embedded().unwrap();
    let run = Run::Audit {
        audit: &audit,
        catalogue: &catalogue,
    };
    let opts = RenderOptions::default();
    let table = report::render(Format::Table, run, &opts).unwrap();
    assert!(
        table.contains("Recent changes (Setup Audit Trail since 2026-10-29, newest first): 1"),
        "{table}"
    );
    assert!(
        table.contains("Changed guest user profile of site VoiceConnector"),
        "{table}"
    );
    assert!(table.contains("Calls arriving: 3 VoiceCall records created in the last 7 days; the newest was created 2026-11-28 09:40 UTC"), "{table}");
    // After the findings, before the verdict.
    let at = |s: &str| table.find(s).unwrap();
    assert!(
        at("8. Assign the Guest User") < at("Recent changes")
            && at("Recent changes") < at(" rules: ")
    );
    // The Markdown report carries them after the findings too.
    let md_report = report::render(Format::Markdown, run, &opts).unwrap();
    assert!(
        md_report.find("## Guide steps").unwrap() < md_report.find("## Recent changes").unwrap(),
        "{md_report}"
    );
    let doc: Value =
        serde_json::from_str(&report::render(Format::Json, run, &opts).unwrap()).unwrap();
    assert_eq!(doc["evidence"]["calls"]["count"], 3);
    assert_eq!(
        doc["evidence"]["recent_changes"]["entries"][0]["user"],
        "admin@acme.example"
    );
    assert!(doc["evidence"]["recent_changes"]["entries"].is_array());
    let sarif: Value =
        serde_json::from_str(&report::render(Format::Sarif, run, &opts).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["properties"]["evidence"]["calls"]["count"],
        3
    );
    let md = report::evidence::markdown(&audit.evidence);
    assert!(md.contains("## Recent changes"), "{md}");
    assert!(md.contains("| 2026-11-10T14:30:00.000+0000 | admin@acme.example | Sites | Changed guest user profile of site VoiceConnector |"), "{md}");
    assert!(
        md.contains("## Calls arriving\n\n3 VoiceCall records"),
        "{md}"
    );

    // `collect` then an offline `check`: the sections come from the snapshot file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.json");
    std::fs::write(&file, serde_json::to_vec(&snap).unwrap()).unwrap();
    let o = assert_cmd::Command::cargo_bin("eci-audit")
        .unwrap()
        .env("ECI_AUDIT_NOW", "2027-03-01T00:00:00Z")
        .args(["check", file.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["evidence"]["calls"]["count"], 3, "{doc}");
    assert_eq!(
        doc["evidence"]["recent_changes"]["entries"][0]["display"],
        "Changed guest user profile of site VoiceConnector"
    );
    // As of the collection, not of the later check: the token was fine then.
    assert_eq!(common::finding(&doc, "ENC012")["status"], "pass");
}

#[tokio::test]
async fn quiet_calls_are_called_out_when_everything_passes() {
    let audit = audit_of(healthy().without_records("VoiceCall")).await;
    assert_eq!(audit.summary.exit_code, 0);
    let calls = &audit.evidence.calls;
    assert_eq!(calls.count, Some(0));
    assert!(calls.quiet_while_passing);
    assert!(
        calls
            .sentence()
            .contains("Every check passed, but no call arrived in 7 days")
    );
}

#[tokio::test]
async fn a_fresh_connected_app_change_may_not_have_taken_effect() {
    let audit = audit_of(healthy().add_record(
        "SetupAuditTrail",
        json!({
            "Id": "0YmXX0000000008AAA", "CreatedDate": "2026-11-28T09:55:00.000+0000",
            "CreatedById": ADMIN_ID, "Action": "changedConnectedAppPolicy", "Section": "Connected Apps",
            "Display": "Changed OAuth policy of connected app ECI Connected App", "DelegateUser": null
        }),
    ))
    .await;
    let first = &audit.evidence.recent_changes.entries[0];
    assert!(first.may_not_have_taken_effect, "{first:?}");
    assert!(first.text.contains("may not have taken effect yet"));
}

#[test]
fn a_metadata_directory_leaves_the_runtime_rules_unknown_with_a_clear_reason() {
    let o = assert_cmd::Command::cargo_bin("eci-audit")
        .unwrap()
        .current_dir(common::root())
        .args([
            "check",
            "fixtures/metadata/source-healthy",
            "--my-domain",
            "acme.my.salesforce.com",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    for rule in ["ENC009", "USR009", "USR010"] {
        let f = common::finding(&doc, rule);
        assert!(
            matches!(
                f["status"].as_str(),
                Some("unknown" | "skipped" | "blocked")
            ),
            "{rule}: {f}"
        );
    }
    let enc009 = common::finding(&doc, "ENC009");
    assert!(
        enc009["message"]
            .as_str()
            .unwrap()
            .contains("not applicable to a metadata directory"),
        "{enc009}"
    );
    assert!(
        doc["evidence"]["recent_changes"]["not_collected"]
            .as_str()
            .unwrap()
            .starts_with("not applicable to a metadata directory")
    );
}

fn eci() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("eci-audit").unwrap()
}

#[test]
fn the_new_settings_layer_flags_over_config_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_file(
        dir.path(),
        "eci-audit.toml",
        "token_expiry_warning = 45\nchanges_since = 2026-11-01\n",
    );
    let dump = |args: &[&str]| {
        let o = eci()
            .current_dir(dir.path())
            .args(["check", "--dump-config"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let line = |out: &str, key: &str| {
        out.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} missing from\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let out = dump(&[]);
    assert_eq!(
        line(&out, "token_expiry_warning"),
        "token_expiry_warning = 45 # eci-audit.toml:1:24"
    );
    assert_eq!(
        line(&out, "changes_"),
        "changes_since = 2026-11-01 # eci-audit.toml:2:17"
    );
    let out = dump(&["--token-expiry-warning", "10", "--changes-days", "7"]);
    assert_eq!(
        line(&out, "token_expiry_warning"),
        "token_expiry_warning = 10 # --token-expiry-warning"
    );
    assert_eq!(line(&out, "changes_"), "changes_days = 7 # --changes-days");
    std::fs::remove_file(&config).unwrap();
    let out = dump(&[]);
    assert_eq!(
        line(&out, "token_expiry_warning"),
        "token_expiry_warning = 30 # default"
    );
    assert_eq!(line(&out, "changes_"), "changes_days = 30 # default");
}

#[test]
fn bad_new_settings_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    common::write_file(
        dir.path(),
        "eci-audit.toml",
        "changes_days = 10\nchanges_since = 2026-11-01\ntoken_expiry_warning = 0\n",
    );
    let o = eci()
        .current_dir(dir.path())
        .args(["check", "--dump-config"])
        .output()
        .unwrap();
    common::assert_error(
        &o,
        2,
        "eci-audit.toml:1:16: invalid config: give changes_since or changes_days, not both",
    );
    common::assert_error(
        &o,
        2,
        "eci-audit.toml:3:24: invalid config: token_expiry_warning must be a positive number of days, not 0",
    );
    let o = eci()
        .args([
            "check",
            "--dump-config",
            "--changes-days",
            "3",
            "--changes-since",
            "2026-01-01",
        ])
        .output()
        .unwrap();
    common::assert_error(&o, 2, "cannot be used with");
    let o = eci()
        .args(["check", "--dump-config", "--token-expiry-warning", "0"])
        .output()
        .unwrap();
    common::assert_error(
        &o,
        2,
        "--token-expiry-warning must be a positive number of days, not 0",
    );
    let o = eci()
        .env("ECI_AUDIT_NOW", "yesterday")
        .current_dir(common::root())
        .args(["check", "fixtures/snapshots/healthy.json"])
        .output()
        .unwrap();
    common::assert_error(&o, 2, "ECI_AUDIT_NOW must be an RFC 3339 time");
}

#[test]
fn the_changes_window_and_the_expiry_window_are_settings() {
    let run = |args: &[&str]| -> Value {
        let o = eci()
            .current_dir(common::root())
            .args([
                "check",
                "fixtures/snapshots/healthy.json",
                "--format",
                "json",
            ])
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // Default: the last 30 days before the data was read (2026-11-28): one change.
    let doc = run(&[]);
    assert_eq!(
        doc["evidence"]["recent_changes"]["since"],
        "2026-10-29T10:00:00Z"
    );
    assert_eq!(
        doc["evidence"]["recent_changes"]["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // From a date: the credential's creation on 2026-09-30 too, newest first.
    let doc = run(&["--changes-since", "2026-09-01"]);
    let entries = doc["evidence"]["recent_changes"]["entries"]
        .as_array()
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1]["display"],
        "Created Named Credential ECI Named Credential"
    );
    // Longer than what was read: said so.
    let doc = run(&["--changes-days", "365"]);
    assert!(
        doc["evidence"]["recent_changes"]["note"]
            .as_str()
            .unwrap()
            .contains("read back 180 days"),
        "{doc}"
    );
    // The healthy token expires on 2027-10-02, 307 whole days after the collection.
    let doc = run(&["--token-expiry-warning", "400"]);
    let enc012 = common::finding(&doc, "ENC012");
    assert_eq!(enc012["status"], "fail");
    assert!(
        enc012["message"]
            .as_str()
            .unwrap()
            .contains("expires on 2027-10-02, in 307 days"),
        "{enc012}"
    );
}
