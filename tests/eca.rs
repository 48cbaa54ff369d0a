//! External Client Apps (issue 8 item 3): an org whose `ECIConnectedApp` is an ECA passes the
//! CAP rules against the ECA's settings, from source and mdapi directories and from a live org;
//! broken ECA settings fail the right rule at the right file and line; settings the auditing
//! user may not read end `unknown` naming what is needed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;
mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::fake_org::{FakeOrg, FakeOrgBuilder, Fault};

const SOURCE: &str = "fixtures/metadata/source-eca-healthy";
const MDAPI: &str = "fixtures/metadata/mdapi-eca-healthy";
const DEFAULT: &str = "force-app/main/default";
const HEADER: &str = "externalClientApps/ECIConnectedApp.eca-meta.xml";
const SETTINGS: &str = "extlClntAppOauthSettings/ECIConnectedApp_oauth.ecaOauth-meta.xml";
const GLOBAL: &str = "extlClntAppGlobalOauthSets/ECIConnectedApp_glbloauth.ecaGlblOauth-meta.xml";
const POLICIES: &str = "extlClntAppOauthPolicies/ECIConnectedApp_oauthPlcy.ecaOauthPlcy-meta.xml";

fn eci(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("eci-audit").expect("binary");
    cmd.current_dir(dir).env("COLUMNS", "250");
    cmd
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

fn check_dir(dir: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec![
        "check",
        ".",
        "--my-domain",
        "acme.my.salesforce.com",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = eci(dir).args(&args).output().unwrap();
    (o.status.code(), json(&o))
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap_or_default()
}

#[test]
fn healthy_eca_source_and_mdapi_directories_pass_every_cap_rule() {
    for dir in [SOURCE, MDAPI] {
        let (code, doc) = check_dir(&common::root().join(dir), &[]);
        let results = doc["results"].as_array().unwrap();
        let fails: Vec<&Value> = results
            .iter()
            .filter(|r| r["status"] == "fail" && r["rule"] != "CAP017")
            .collect();
        assert!(fails.is_empty(), "{dir}: {fails:?}");
        // Org-only rules are skipped in a directory: a healthy ECA folder passes.
        assert_eq!(code, Some(0), "{dir}");
        for rule in [
            "CAP001", "CAP002", "CAP003", "CAP004", "CAP005", "CAP006", "CAP007", "CAP008",
            "CAP009", "CAP010", "CAP011", "CAP012", "CAP013", "CAP014", "CAP016", "AUP004",
        ] {
            let f = common::finding(&doc, rule);
            assert_eq!(f["status"], "pass", "{dir} {rule}: {f}");
        }
        let cap001 = common::finding(&doc, "CAP001");
        assert!(
            message(&cap001).contains("as an External Client App, not a connected app"),
            "{cap001}"
        );
        // The note-level rule says the guide describes a connected app.
        let cap017 = common::finding(&doc, "CAP017");
        assert_eq!(cap017["status"], "fail");
        assert_eq!(cap017["severity"], "note");
        assert!(message(&cap017).contains("the org uses an External Client App"));
        // Evidence points at the ECA's own files.
        let cap012 = common::finding(&doc, "CAP012");
        let path = cap012["evidence"]["location"]["path"].as_str().unwrap();
        assert!(
            path.contains("extlClntAppOauthPolicies/ECIConnectedApp_oauthPlcy"),
            "{path}"
        );
        assert!(message(&cap012).contains("`SpecificLifetime`"), "{cap012}");
        if dir == MDAPI {
            // The mdapi fixture lists profiles by API name.
            let cap014 = common::finding(&doc, "CAP014");
            assert!(
                message(&cap014).contains("`Admin` read as System Administrator"),
                "{cap014}"
            );
        }
        let cap007 = common::finding(&doc, "CAP007");
        let path = cap007["evidence"]["location"]["path"].as_str().unwrap();
        assert!(
            path.contains("extlClntAppOauthSettings/ECIConnectedApp_oauth"),
            "{path}"
        );
    }
}

#[test]
fn a_note_failure_does_not_fail_the_audit_but_fail_on_note_does() {
    let dir = common::root().join(SOURCE);
    let o = eci(&dir)
        .args([
            "check",
            ".",
            "--my-domain",
            "acme.my.salesforce.com",
            "--select",
            "CAP001,CAP017",
        ])
        .output()
        .unwrap();
    common::assert_exit(&o, 0);
    let o = eci(&dir)
        .args([
            "check",
            ".",
            "--my-domain",
            "acme.my.salesforce.com",
            "--select",
            "CAP001,CAP017",
            "--fail-on",
            "note",
        ])
        .output()
        .unwrap();
    common::assert_exit(&o, 1);
}

struct Variant {
    rule: &'static str,
    file: &'static str,
    find: &'static str,
    replace: &'static str,
    line: u32,
    says: &'static str,
}

fn variants() -> Vec<Variant> {
    let v = |rule, file, find, replace, line, says| Variant {
        rule,
        file,
        find,
        replace,
        line,
        says,
    };
    vec![
        v(
            "CAP002",
            HEADER,
            "<label>ECI Connected App",
            "<label>ECI App",
            6,
            "ECI App",
        ),
        v(
            "CAP005",
            GLOBAL,
            "https://acme.my.salesforce.com/services",
            "https://dummyurl/services",
            3,
            "dummyurl",
        ),
        v(
            "CAP006",
            GLOBAL,
            "https://acme.my.salesforce.com/services",
            "https://other.my.salesforce.com/services",
            3,
            "other.my.salesforce.com",
        ),
        v(
            "CAP007",
            SETTINGS,
            "Api, Web, RefreshToken, Content",
            "Api, Web, RefreshToken",
            3,
            "Content",
        ),
        v(
            "CAP008",
            GLOBAL,
            "<isConsumerSecretOptional>false",
            "<isConsumerSecretOptional>true",
            8,
            "`true`",
        ),
        v(
            "CAP009",
            GLOBAL,
            "<isSecretRequiredForRefreshToken>true",
            "<isSecretRequiredForRefreshToken>false",
            11,
            "`false`",
        ),
        v(
            "CAP010",
            POLICIES,
            "AdminApprovedPreAuthorized",
            "AllSelfAuthorized",
            9,
            "`AllSelfAuthorized`",
        ),
        v(
            "CAP011",
            POLICIES,
            "<ipRelaxationPolicyType>Bypass",
            "<ipRelaxationPolicyType>Enforce",
            6,
            "`Enforce`",
        ),
        v(
            "CAP012",
            POLICIES,
            "<refreshTokenPolicyType>SpecificLifetime",
            "<refreshTokenPolicyType>Infinite",
            10,
            "`Infinite`",
        ),
        v(
            "CAP012",
            POLICIES,
            "<refreshTokenValidityUnit>Days",
            "<refreshTokenValidityUnit>Hours",
            10,
            "specific_lifetime:365:HOURS",
        ),
        v(
            "CAP013",
            POLICIES,
            "<requiredSessionLevel>STANDARD",
            "<requiredSessionLevel>HIGH_ASSURANCE",
            13,
            "HIGH_ASSURANCE",
        ),
        v(
            "CAP014",
            POLICIES,
            "System Administrator,Standard User",
            "System Administrator",
            4,
            "Standard User",
        ),
        v(
            "CAP016",
            SETTINGS,
            "Api, Web, RefreshToken, Content",
            "Api, Web, RefreshToken, Content, Full",
            3,
            "Full",
        ),
    ]
}

#[test]
fn broken_eca_settings_fail_the_right_rule_at_the_right_line() {
    let mut failures = Vec::new();
    for variant in variants() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path();
        common::copy_tree(&common::root().join(SOURCE), repo);
        let file = repo.join(DEFAULT).join(variant.file);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(variant.find),
            "{}: {}",
            variant.rule,
            variant.find
        );
        std::fs::write(&file, text.replacen(variant.find, variant.replace, 1)).unwrap();
        let (code, doc) = check_dir(repo, &["--select", variant.rule, "--fail-on", "note"]);
        let f = common::finding(&doc, variant.rule);
        let loc = &f["evidence"]["location"];
        let want = format!("./{DEFAULT}/{}", variant.file);
        let path = loc["path"].as_str().unwrap_or_default();
        if code != Some(1)
            || f["status"] != "fail"
            || !(path == want || path.ends_with(&format!("{DEFAULT}/{}", variant.file)))
            || loc["line"].as_u64() != Some(u64::from(variant.line))
            || !message(&f).contains(variant.says)
        {
            failures.push(format!(
                "{} ({} → {}): exit {code:?}, {} at {}:{}: {}",
                variant.rule,
                variant.find,
                variant.replace,
                f["status"],
                path,
                loc["line"],
                message(&f)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn global_settings_kept_out_of_source_are_unknown_naming_the_permissions() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    common::copy_tree(&common::root().join(SOURCE), repo);
    std::fs::remove_dir_all(repo.join(DEFAULT).join("extlClntAppGlobalOauthSets")).unwrap();
    let (code, doc) = check_dir(repo, &["--select", "CAP"]);
    assert_eq!(code, Some(3));
    for rule in ["CAP005", "CAP006", "CAP008", "CAP009"] {
        let f = common::finding(&doc, rule);
        assert_eq!(f["status"], "unknown", "{rule}: {f}");
        let m = message(&f);
        assert!(
            m.contains("Allow Access to OAuth Consumer Secrets via Metadata API")
                && m.contains("View External Client Apps Consumer Secrets in Metadata"),
            "{rule}: {m}"
        );
    }
    // The parts that are there still decide their rules.
    for rule in ["CAP001", "CAP004", "CAP007", "CAP010", "CAP011", "CAP012"] {
        assert_eq!(common::finding(&doc, rule)["status"], "pass", "{rule}");
    }
    // A full retrieve without the file proves it missing.
    let (_, doc) = check_dir(repo, &["--select", "CAP006", "--full-retrieve"]);
    let f = common::finding(&doc, "CAP006");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(message(&f).contains("no global OAuth settings"), "{f}");
}

#[test]
fn with_both_apps_the_report_says_which_one_the_consumer_key_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    common::copy_tree(&common::root().join(SOURCE), repo);
    // The connected app of the classic fixture, with another consumer key.
    let ca_dir = repo.join(DEFAULT).join("connectedApps");
    std::fs::create_dir_all(&ca_dir).unwrap();
    let ca = std::fs::read_to_string(common::root().join(
        "fixtures/metadata/source-healthy/force-app/main/default/connectedApps/ECIConnectedApp.connectedApp-meta.xml",
    ))
    .unwrap()
    .replace("3MVG9FIXTURE.ECI.CONSUMER.KEY.NOT.REAL", "3MVG9OTHER.KEY");
    std::fs::write(ca_dir.join("ECIConnectedApp.connectedApp-meta.xml"), ca).unwrap();
    let (code, doc) = check_dir(repo, &["--select", "AUP004,CAP001,CAP017"]);
    assert_eq!(code, Some(1));
    let aup = common::finding(&doc, "AUP004");
    assert_eq!(aup["status"], "fail");
    let m = message(&aup);
    assert!(
        m.contains("the key is the consumer key of External Client App `ECIConnectedApp`"),
        "{m}"
    );
    assert!(!m.contains("3MVG9"), "a consumer key leaked: {m}");
    // The connected app is the one the CAP rules read: CAP017 passes.
    assert_eq!(common::finding(&doc, "CAP017")["status"], "pass");
    let cap001 = common::finding(&doc, "CAP001");
    assert!(
        !message(&cap001).contains("External Client App"),
        "{cap001}"
    );

    // The key matching the connected app: AUP004 passes and names it.
    let key = std::fs::read_to_string(repo.join(DEFAULT).join(GLOBAL))
        .unwrap()
        .replace("3MVG9FIXTURE.ECI.CONSUMER.KEY.NOT.REAL", "3MVG9OTHER.KEY");
    std::fs::write(repo.join(DEFAULT).join(GLOBAL), key).unwrap();
    let ap = repo
        .join(DEFAULT)
        .join("authproviders/ECIAuthProvider.authprovider-meta.xml");
    let text = std::fs::read_to_string(&ap)
        .unwrap()
        .replace("3MVG9FIXTURE.ECI.CONSUMER.KEY.NOT.REAL", "3MVG9OTHER.KEY");
    std::fs::write(&ap, text).unwrap();
    let (_, doc) = check_dir(repo, &["--select", "AUP004"]);
    let aup = common::finding(&doc, "AUP004");
    assert_eq!(aup["status"], "pass", "{aup}");
    assert!(
        message(&aup)
            .contains("connected app `ECIConnectedApp` and External Client App `ECIConnectedApp`"),
        "{aup}"
    );
}

#[test]
fn ecas_are_merged_from_their_four_files_with_positions() {
    use eci_audit::snapshot::metadata::{MetadataOptions, load_metadata};
    for dir in [SOURCE, MDAPI] {
        let snap = load_metadata(&common::root().join(dir), &MetadataOptions::default()).unwrap();
        let apps = snap.external_client_apps.available().unwrap();
        assert_eq!(apps.len(), 1, "{dir}");
        let app = &apps[0];
        assert_eq!(app.full_name, "ECIConnectedApp");
        assert_eq!(app.label.as_deref(), Some("ECI Connected App"));
        let scopes = app.oauth_settings.as_ref().unwrap().scopes.clone().unwrap();
        assert_eq!(scopes, ["Api", "Web", "RefreshToken", "Content"]);
        let g = app.global_oauth_settings.as_ref().unwrap();
        assert!(
            g.consumer_key_fingerprint
                .as_deref()
                .unwrap()
                .starts_with("sha256:")
        );
        let p = app.oauth_policies.as_ref().unwrap();
        assert_eq!(p.refresh_token_validity_period, Some(365));
        assert_eq!(p.refresh_token_validity_unit.as_deref(), Some("Days"));
        // No secret reaches the model.
        let text = serde_json::to_string(&snap).unwrap();
        assert!(!text.contains("FIXTURE_ECA_SECRET"), "{dir}");
        assert!(!text.contains("3MVG9"), "{dir}");
    }
}

#[test]
fn a_bad_validity_period_is_an_error_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    common::copy_tree(&common::root().join(SOURCE), repo);
    let file: PathBuf = repo.join(DEFAULT).join(POLICIES);
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace(">365<", ">thirty<");
    std::fs::write(&file, text).unwrap();
    let o = eci(repo).args(["check", "."]).output().unwrap();
    common::assert_error(&o, 2, "ECIConnectedApp_oauthPlcy.ecaOauthPlcy-meta.xml:11:");
    common::assert_error(&o, 2, "`thirty`");
}

// ---------------------------------------------------------------- live org

const MY_DOMAIN: &str = "https://acme.my.salesforce.com";

fn live(fake: &FakeOrg, extra: &[&str]) -> (Option<i32>, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = eci(tmp.path());
    for v in [
        "SF_ACCESS_TOKEN",
        "SF_CLIENT_SECRET",
        "AIRCALL_API_ID",
        "AIRCALL_API_TOKEN",
        "AIRCALL_BASE_URL",
    ] {
        cmd.env_remove(v);
    }
    let o = cmd
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .args([
            "check",
            "--instance-url",
            fake.url(),
            "--my-domain",
            MY_DOMAIN,
            "--integration-user",
            "eci-integration@acme.example",
            "--timeout",
            "10",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    (o.status.code(), json(&o))
}

fn eca_org() -> FakeOrgBuilder {
    FakeOrg::builder("eca-healthy")
}

#[test]
fn healthy_eca_live_org_passes_in_as_many_phases_as_the_classic_org() {
    let classic = FakeOrg::builder("healthy").start();
    let _ = live(&classic, &[]);
    let fake = eca_org().start();
    let (code, doc) = live(&fake, &[]);
    let not_pass: Vec<&Value> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "pass" && r["status"] != "manual" && r["rule"] != "CAP017")
        .collect();
    assert!(not_pass.is_empty(), "{not_pass:#?}");
    assert_eq!(code, Some(0));
    let cap001 = common::finding(&doc, "CAP001");
    assert!(
        message(&cap001).contains("as an External Client App"),
        "{cap001}"
    );
    assert_eq!(common::finding(&doc, "CAP017")["status"], "fail");
    // The evidence names the readMetadata component.
    let cap011 = common::finding(&doc, "CAP011");
    assert!(
        cap011["evidence"]["source"].as_str().unwrap().contains(
            "readMetadata ExtlClntAppOauthConfigurablePolicies/ECIConnectedApp_oauthPlcy"
        ),
        "{cap011}"
    );
    // CAP015 reads the ECA's permission set list against the integration user's sets.
    assert_eq!(common::finding(&doc, "CAP015")["status"], "pass");
    // The ECA reads join phase 2: no extra sequential phase.
    assert_eq!(fake.waves(), classic.waves());
    // Only reads went out.
    for r in fake.requests() {
        if r.path.contains("/services/Soap/m/") {
            assert!(
                r.body.contains("readMetadata") || r.body.contains("listMetadata"),
                "{}",
                r.body
            );
        } else if r.method == "POST" {
            assert!(r.path.ends_with("/composite"), "{} {}", r.method, r.path);
        }
    }
}

#[test]
fn refused_eca_oauth_settings_end_unknown_naming_the_setting_and_the_permission() {
    let fake = eca_org()
        .fault(Fault::ReadMetadataRefused {
            metadata_type: "ExtlClntAppGlobalOauthSettings".into(),
            code: "INSUFFICIENT_ACCESS".into(),
        })
        .start();
    let (code, doc) = live(&fake, &[]);
    assert_eq!(code, Some(3));
    for rule in ["CAP005", "CAP006", "CAP008", "CAP009", "AUP004"] {
        let f = common::finding(&doc, rule);
        assert_eq!(f["status"], "unknown", "{rule}: {f}");
        let m = message(&f);
        assert!(
            m.contains("INSUFFICIENT_ACCESS")
                && m.contains("Allow Access to OAuth Consumer Secrets via Metadata API")
                && m.contains("View External Client Apps Consumer Secrets in Metadata"),
            "{rule}: {m}"
        );
    }
    for rule in ["CAP001", "CAP004", "CAP007", "CAP010", "CAP011", "CAP012"] {
        assert_eq!(common::finding(&doc, rule)["status"], "pass", "{rule}");
    }
}

#[test]
fn refused_eca_policies_end_unknown_naming_the_permission() {
    let fake = eca_org()
        .fault(Fault::ReadMetadataRefused {
            metadata_type: "ExtlClntAppOauthConfigurablePolicies".into(),
            code: "INSUFFICIENT_ACCESS".into(),
        })
        .start();
    let (code, doc) = live(&fake, &[]);
    assert_eq!(code, Some(3));
    for rule in ["CAP010", "CAP011", "CAP012", "CAP013", "CAP014"] {
        let f = common::finding(&doc, rule);
        assert_eq!(f["status"], "unknown", "{rule}: {f}");
        assert!(
            message(&f).contains("View all External Client Apps"),
            "{rule}: {f}"
        );
    }
}

#[test]
fn broken_eca_policies_fail_live() {
    let doc = std::fs::read_to_string(support::fake_org::fixtures_dir().join(
        "eca-healthy.metadata/ExtlClntAppOauthConfigurablePolicies/ECIConnectedApp_oauthPlcy.xml",
    ))
    .unwrap()
    .replace(">Bypass<", ">Enforce<")
    .replace(">SpecificLifetime<", ">SpecificInactivity<");
    let fake = eca_org()
        .metadata_xml(
            "ExtlClntAppOauthConfigurablePolicies",
            "ECIConnectedApp_oauthPlcy",
            &doc,
        )
        .start();
    let (code, doc) = live(&fake, &[]);
    assert_eq!(code, Some(1));
    let cap011 = common::finding(&doc, "CAP011");
    assert_eq!(cap011["status"], "fail");
    assert!(message(&cap011).contains("`ENFORCE`"), "{cap011}");
    let cap012 = common::finding(&doc, "CAP012");
    assert_eq!(cap012["status"], "fail");
    assert!(
        message(&cap012).contains("specific_inactivity:365:DAYS"),
        "{cap012}"
    );
}

#[test]
fn a_missing_eca_and_connected_app_fail_cap001_without_blaming_the_eca() {
    let fake = eca_org()
        .without_metadata("ExternalClientApplication", "ECIConnectedApp")
        .without_metadata("ExtlClntAppOauthSettings", "ECIConnectedApp_oauth")
        .without_metadata(
            "ExtlClntAppGlobalOauthSettings",
            "ECIConnectedApp_glbloauth",
        )
        .without_metadata(
            "ExtlClntAppOauthConfigurablePolicies",
            "ECIConnectedApp_oauthPlcy",
        )
        .start();
    let (code, doc) = live(&fake, &["--select", "CAP001,CAP017"]);
    assert_eq!(code, Some(1));
    let f = common::finding(&doc, "CAP001");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(
        message(&f).contains("no connected app named `ECIConnectedApp`"),
        "{f}"
    );
}

#[test]
fn an_eca_under_another_name_is_listed_and_named_by_cap001() {
    let root = support::fake_org::fixtures_dir().join("eca-healthy.metadata");
    let header =
        std::fs::read_to_string(root.join("ExternalClientApplication/ECIConnectedApp.xml"))
            .unwrap();
    let fake = eca_org()
        .without_metadata("ExternalClientApplication", "ECIConnectedApp")
        .without_metadata("ExtlClntAppOauthSettings", "ECIConnectedApp_oauth")
        .without_metadata(
            "ExtlClntAppGlobalOauthSettings",
            "ECIConnectedApp_glbloauth",
        )
        .without_metadata(
            "ExtlClntAppOauthConfigurablePolicies",
            "ECIConnectedApp_oauthPlcy",
        )
        .metadata_xml("ExternalClientApplication", "ECI_Connected_App", &header)
        .start();
    let (code, doc) = live(&fake, &["--select", "CAP001"]);
    assert_eq!(code, Some(1));
    let f = common::finding(&doc, "CAP001");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(message(&f).contains("`ECI_Connected_App`"), "{f}");
}

#[test]
fn a_policy_under_another_name_is_unknown_not_missing() {
    let root = support::fake_org::fixtures_dir().join("eca-healthy.metadata");
    let policies = std::fs::read_to_string(
        root.join("ExtlClntAppOauthConfigurablePolicies/ECIConnectedApp_oauthPlcy.xml"),
    )
    .unwrap();
    let fake = eca_org()
        .without_metadata(
            "ExtlClntAppOauthConfigurablePolicies",
            "ECIConnectedApp_oauthPlcy",
        )
        .metadata_xml(
            "ExtlClntAppOauthConfigurablePolicies",
            "ECI_Policies",
            &policies,
        )
        .start();
    let (code, doc) = live(&fake, &[]);
    assert_eq!(code, Some(3));
    let f = common::finding(&doc, "CAP011");
    assert_eq!(f["status"], "unknown", "{f}");
    assert!(
        message(&f).contains("listMetadata lists `ECI_Policies`"),
        "{f}"
    );
}

#[test]
fn a_collected_eca_snapshot_reproduces_the_live_results_without_secrets() {
    let fake = eca_org()
        .fault(Fault::ReadMetadataRefused {
            metadata_type: "ExtlClntAppOauthSettings".into(),
            code: "INSUFFICIENT_ACCESS".into(),
        })
        .start();
    let (code, live_doc) = live(&fake, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let o = eci(tmp.path())
        .env_remove("SF_CLIENT_SECRET")
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .args([
            "collect",
            "--instance-url",
            fake.url(),
            "--my-domain",
            MY_DOMAIN,
            "--integration-user",
            "eci-integration@acme.example",
            "--output",
            "snap.json",
        ])
        .output()
        .unwrap();
    common::assert_exit(&o, 0);
    let text = std::fs::read_to_string(tmp.path().join("snap.json")).unwrap();
    assert!(
        !text.contains("3MVG9"),
        "a consumer key reached the snapshot"
    );
    let snap: Value = serde_json::from_str(&text).unwrap();
    let missing = snap["source"]["missing_permissions"].to_string();
    assert!(
        missing.contains("readMetadata ExtlClntAppOauthSettings: INSUFFICIENT_ACCESS")
            && missing.contains("View External Client Apps Consumer Secrets in Metadata"),
        "{missing}"
    );
    let o = eci(tmp.path())
        .args(["check", "snap.json", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), code);
    let offline = json(&o);
    let statuses = |doc: &Value| -> Vec<(String, String)> {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["rule"].to_string(), r["status"].to_string()))
            .collect()
    };
    assert_eq!(statuses(&offline), statuses(&live_doc));
    assert_eq!(common::finding(&offline, "CAP007")["status"], "unknown");
}

#[test]
fn a_classic_org_whose_user_may_not_read_ecas_still_passes() {
    let mut builder = FakeOrg::builder("healthy");
    for t in [
        "ExternalClientApplication",
        "ExtlClntAppOauthSettings",
        "ExtlClntAppGlobalOauthSettings",
        "ExtlClntAppOauthConfigurablePolicies",
    ] {
        builder = builder.fault(Fault::ReadMetadataRefused {
            metadata_type: t.into(),
            code: "INSUFFICIENT_ACCESS".into(),
        });
    }
    let fake = builder.start();
    let (code, doc) = live(&fake, &[]);
    let not_pass: Vec<&Value> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "pass" && r["status"] != "manual")
        .collect();
    assert!(not_pass.is_empty(), "{not_pass:#?}");
    assert_eq!(code, Some(0));
}

#[test]
fn two_files_of_one_part_leave_it_unknown_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    common::copy_tree(&common::root().join(SOURCE), repo);
    let copy = repo.join("force-app/main/other/extlClntAppOauthPolicies");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(
        repo.join(DEFAULT).join(POLICIES),
        copy.join("Stale_oauthPlcy.ecaOauthPlcy-meta.xml"),
    )
    .unwrap();
    let (code, doc) = check_dir(repo, &[]);
    assert_eq!(code, Some(3), "incomplete, never a silent pick");
    let f = common::finding(&doc, "CAP011");
    assert_eq!(f["status"], "unknown", "{f}");
    let m = message(&f);
    assert!(
        m.contains("several files hold this part")
            && m.contains("ECIConnectedApp_oauthPlcy.ecaOauthPlcy-meta.xml")
            && m.contains("Stale_oauthPlcy.ecaOauthPlcy-meta.xml"),
        "{m}"
    );
}
