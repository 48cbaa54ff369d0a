//! `check` on metadata directories: healthy source and mdapi fixtures pass every rule they can
//! evaluate, and each broken variant fails its rule with the right file and line in the table,
//! JSON and SARIF reports.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::path::{Path, PathBuf};

const DEFAULT: &str = "force-app/main/default";

fn eci(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("eci-audit").expect("binary");
    cmd.current_dir(dir).env("COLUMNS", "250");
    cmd
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn healthy_source_and_mdapi_directories_pass() {
    for dir in [
        "fixtures/metadata/source-healthy",
        "fixtures/metadata/mdapi-healthy",
    ] {
        let o = eci(&common::root())
            .args([
                "check",
                dir,
                "--my-domain",
                "acme.my.salesforce.com",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let doc = json(&o);
        let results = doc["results"].as_array().unwrap();
        let fails: Vec<&serde_json::Value> =
            results.iter().filter(|r| r["status"] == "fail").collect();
        assert!(fails.is_empty(), "{dir}: {fails:?}");
        // Org data a metadata directory can never hold: not applicable, so the audit is
        // complete (exit 0, no --allow-incomplete) ...
        assert_eq!(o.status.code(), Some(0), "{dir}");
        let usr = results.iter().find(|r| r["rule"] == "USR001").unwrap();
        assert_eq!(usr["status"], "skipped");
        assert!(
            usr["message"]
                .as_str()
                .unwrap()
                .contains("not in a metadata directory")
        );
        // ... and every metadata rule passes with a file location.
        let cap007 = results.iter().find(|r| r["rule"] == "CAP007").unwrap();
        assert_eq!(cap007["status"], "pass");
        assert!(
            cap007["evidence"]["location"]["path"]
                .as_str()
                .unwrap()
                .starts_with(dir)
        );
        // Merged with an org snapshot, the same directory passes outright.
        let o = eci(&common::root())
            .args([
                "check",
                "--metadata-dir",
                dir,
                "--snapshot",
                "fixtures/snapshots/healthy.json",
            ])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{dir} merged: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

struct Variant {
    rule: &'static str,
    /// File under force-app/main/default.
    file: &'static str,
    find: &'static str,
    replace: &'static str,
    /// Expected line of the finding in `file` (after the edit); `None` when the component is
    /// missing and the finding points at the directory.
    line: Option<u32>,
    /// Extra arguments (e.g. merging org data).
    extra: &'static [&'static str],
}

const CA: &str = "connectedApps/ECIConnectedApp.connectedApp-meta.xml";
const AP: &str = "authproviders/ECIAuthProvider.authprovider-meta.xml";
const AIR: &str = "namedCredentials/Aircall.namedCredential-meta.xml";
const ENC: &str = "namedCredentials/ECINamedCredential.namedCredential-meta.xml";
const SITE: &str = "sites/VoiceConnector.site-meta.xml";
const SETTINGS: &str = "settings/ConversationalIntelligence.settings-meta.xml";

fn v(
    rule: &'static str,
    file: &'static str,
    find: &'static str,
    replace: &'static str,
    line: Option<u32>,
) -> Variant {
    Variant {
        rule,
        file,
        find,
        replace,
        line,
        extra: &[],
    }
}

fn variants() -> Vec<Variant> {
    vec![
        v(
            "ORG001",
            SETTINGS,
            "<enableCallCoaching>true",
            "<enableCallCoaching>false",
            Some(3),
        ),
        v("AIR001", AIR, "RENAME", "Aircall_API", None),
        v(
            "AIR002",
            AIR,
            "<label>Aircall</label>",
            "<label>Aircall API</label>",
            Some(8),
        ),
        v(
            "AIR003",
            AIR,
            "https://api.aircall.io<",
            "https://api.aircall.io/v1<",
            Some(6),
        ),
        v(
            "AIR004",
            AIR,
            "<allowMergeFieldsInBody>",
            "<namedCredentialType>SecuredEndpoint</namedCredentialType>\n    <allowMergeFieldsInBody>",
            Some(3),
        ),
        v(
            "AIR005",
            AIR,
            "<principalType>NamedUser",
            "<principalType>PerUser",
            Some(9),
        ),
        v(
            "AIR006",
            AIR,
            "<protocol>Password",
            "<protocol>NoAuthentication",
            Some(10),
        ),
        v(
            "AIR007",
            AIR,
            "<username>EXAMPLE_AIRCALL_API_ID</username>",
            "<username> </username>",
            Some(11),
        ),
        v(
            "AIR008",
            AIR,
            "<generateAuthorizationHeader>true",
            "<generateAuthorizationHeader>false",
            Some(7),
        ),
        v(
            "AIR009",
            AIR,
            "    <allowMergeFieldsInHeader>true</allowMergeFieldsInHeader>\n",
            "",
            Some(2),
        ),
        v(
            "AIR010",
            AIR,
            "<allowMergeFieldsInBody>true",
            "<allowMergeFieldsInBody>false",
            Some(3),
        ),
        v("CAP001", CA, "RENAME", "ECI_Connected_App", None),
        v(
            "CAP002",
            CA,
            "<label>ECI Connected App",
            "<label>ECI App",
            Some(4),
        ),
        v(
            "CAP003",
            CA,
            "<contactEmail>eci-admin@acme.example.com",
            "<contactEmail>nobody",
            Some(3),
        ),
        v(
            "CAP004",
            CA,
            "ALL:oauthConfig>",
            "futureOauthElement>",
            Some(2),
        ),
        v(
            "CAP005",
            CA,
            "https://acme.my.salesforce.com/services",
            "https://dummyurl/services",
            Some(6),
        ),
        v(
            "CAP006",
            CA,
            "https://acme.my.salesforce.com/services",
            "https://acme.lightning.force.com/services",
            Some(6),
        ),
        v(
            "CAP007",
            CA,
            "        <scopes>Content</scopes>\n",
            "",
            Some(14),
        ),
        v(
            "CAP008",
            CA,
            "<isConsumerSecretOptional>false",
            "<isConsumerSecretOptional>true",
            Some(10),
        ),
        v(
            "CAP009",
            CA,
            "<isSecretRequiredForRefreshToken>true",
            "<isSecretRequiredForRefreshToken>false",
            Some(13),
        ),
        v(
            "CAP010",
            CA,
            "<isAdminApproved>true",
            "<isAdminApproved>false",
            Some(8),
        ),
        v(
            "CAP011",
            CA,
            "<ipRelaxation>BYPASS",
            "<ipRelaxation>ENFORCE",
            Some(20),
        ),
        v(
            "CAP012",
            CA,
            "specific_lifetime:365:DAYS",
            "infinite",
            Some(21),
        ),
        v(
            "CAP013",
            CA,
            "<profileName>Standard User",
            "<sessionPolicy>\n        <sessionLevel>HIGH_ASSURANCE</sessionLevel>\n        <policyAction>RaiseSessionLevel</policyAction>\n    </sessionPolicy>\n    <profileName>Standard User",
            Some(24),
        ),
        v(
            "CAP014",
            CA,
            "    <profileName>Standard User</profileName>\n",
            "",
            Some(23),
        ),
        Variant {
            rule: "CAP015",
            file: CA,
            find: "    <profileName>System Administrator</profileName>\n",
            replace: "",
            line: Some(23),
            extra: &["--snapshot"],
        },
        v(
            "CAP016",
            CA,
            "<scopes>Api</scopes>",
            "<scopes>Full</scopes>\n        <scopes>Api</scopes>",
            Some(14),
        ),
        v("AUP001", AP, "RENAME", "ECI_Auth_Provider", None),
        v(
            "AUP002",
            AP,
            "<friendlyName>ECI Auth Provider",
            "<friendlyName>ECI Provider",
            Some(5),
        ),
        v(
            "AUP003",
            AP,
            "<providerType>Salesforce",
            "<providerType>OpenIdConnect",
            Some(8),
        ),
        v(
            "AUP004",
            AP,
            "<consumerKey>3MVG9FIXTURE",
            "<consumerKey>3MVG9OTHER",
            Some(3),
        ),
        v("SIT002", SITE, "RENAME", "Voice_Connector", None),
        v(
            "SIT003",
            SITE,
            "<masterLabel>VoiceConnector",
            "<masterLabel>Voice Connector",
            Some(18),
        ),
        v("SIT004", SITE, "<active>true", "<active>false", Some(3)),
        v(
            "SIT005",
            SITE,
            "<indexPage>SiteLogin",
            "<indexPage>UnderConstruction",
            Some(17),
        ),
        v(
            "SIT006",
            SITE,
            "<clickjackProtectionLevel>SameOriginOnly",
            "<clickjackProtectionLevel>AllowAllFraming",
            Some(12),
        ),
        v("ENC001", ENC, "RENAME", "ECI_Named_Credential", None),
        v(
            "ENC002",
            ENC,
            "<label>ECI Named Credential",
            "<label>ECI",
            Some(9),
        ),
        v(
            "ENC003",
            ENC,
            "<endpoint>https://acme.my.salesforce.com",
            "<endpoint>https://acme.lightning.force.com",
            Some(7),
        ),
        v(
            "ENC004",
            ENC,
            "<principalType>NamedUser",
            "<principalType>PerUser",
            Some(11),
        ),
        v(
            "ENC005",
            ENC,
            "<protocol>Oauth",
            "<protocol>Password",
            Some(12),
        ),
        v(
            "ENC006",
            ENC,
            "<authProvider>ECIAuthProvider",
            "<authProvider>ECI Auth Provider",
            Some(5),
        ),
        v(
            "ENC007",
            ENC,
            "refresh_token web api content",
            "refresh_token web api",
            Some(10),
        ),
        v(
            "ENC008",
            ENC,
            "<generateAuthorizationHeader>true",
            "<generateAuthorizationHeader>false",
            Some(8),
        ),
    ]
}

fn apply(root: &Path, v: &Variant) -> PathBuf {
    let file = root.join(DEFAULT).join(v.file);
    if v.find == "RENAME" {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let suffix = &name[name.find('.').unwrap()..];
        let renamed = file.with_file_name(format!("{}{suffix}", v.replace));
        std::fs::rename(&file, &renamed).unwrap();
        return renamed;
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let (find, all) = match v.find.strip_prefix("ALL:") {
        Some(f) => (f, true),
        None => (v.find, false),
    };
    assert!(text.contains(find), "{}: fixture lacks {:?}", v.rule, find);
    let edited = if all {
        text.replace(find, v.replace)
    } else {
        text.replacen(find, v.replace, 1)
    };
    std::fs::write(&file, edited).unwrap();
    file
}

#[test]
fn each_broken_variant_fails_its_rule_at_the_right_line_in_every_format() {
    let healthy_snapshot = common::root().join("fixtures/snapshots/healthy.json");
    let mut failures = Vec::new();
    for variant in variants() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path();
        common::copy_tree(
            &common::root().join("fixtures/metadata/source-healthy"),
            repo,
        );
        let file = apply(repo, &variant);
        let rel = file
            .strip_prefix(repo)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let mut args: Vec<String> = vec![
            "check".into(),
            ".".into(),
            "--my-domain".into(),
            "acme.my.salesforce.com".into(),
            "--select".into(),
            variant.rule.into(),
            "--fail-on".into(),
            "note".into(),
        ];
        if variant.extra.contains(&"--snapshot") {
            args = vec![
                "check".into(),
                "--metadata-dir".into(),
                ".".into(),
                "--snapshot".into(),
                healthy_snapshot.to_str().unwrap().into(),
                "--select".into(),
                variant.rule.into(),
                "--fail-on".into(),
                "note".into(),
            ];
        }
        let run = |format: &str| {
            let mut a = args.clone();
            a.extend(["--format".to_string(), format.to_string()]);
            eci(repo).args(&a).output().unwrap()
        };
        // JSON
        let o = run("json");
        if o.status.code() != Some(1) {
            failures.push(format!(
                "{}: exit {:?}: {}",
                variant.rule,
                o.status.code(),
                String::from_utf8_lossy(&o.stdout)
            ));
            continue;
        }
        let doc = json(&o);
        let r = &doc["results"][0];
        let loc = &r["evidence"]["location"];
        match variant.line {
            Some(line) => {
                if loc["path"].as_str() != Some(rel.as_str())
                    || loc["line"].as_u64() != Some(u64::from(line))
                {
                    failures.push(format!(
                        "{}: JSON location {loc} ≠ {rel}:{line} ({})",
                        variant.rule, r["message"]
                    ));
                }
            }
            None => {
                if !r["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(variant.replace)
                {
                    failures.push(format!(
                        "{}: near miss not named: {}",
                        variant.rule, r["message"]
                    ));
                }
            }
        }
        // SARIF
        let doc = json(&run("sarif"));
        let res = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["ruleId"] == variant.rule)
            .cloned();
        match (res, variant.line) {
            (None, _) => failures.push(format!("{}: no SARIF result", variant.rule)),
            (Some(res), Some(line)) => {
                let pl = &res["locations"][0]["physicalLocation"];
                if pl["artifactLocation"]["uri"].as_str() != Some(rel.as_str())
                    || pl["region"]["startLine"].as_u64() != Some(u64::from(line))
                {
                    failures.push(format!(
                        "{}: SARIF location {pl} ≠ {rel}:{line}",
                        variant.rule
                    ));
                }
            }
            (Some(res), None) => {
                if res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .is_none()
                {
                    failures.push(format!(
                        "{}: SARIF result without a physical location",
                        variant.rule
                    ));
                }
            }
        }
        // Table
        if let Some(line) = variant.line {
            let o = run("table");
            let out = String::from_utf8_lossy(&o.stdout);
            if !out.contains(&format!("{rel}:{line}")) {
                failures.push(format!("{}: table lacks {rel}:{line}\n{out}", variant.rule));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} variant(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn missing_folder_is_unknown_unless_full_retrieve() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    common::copy_tree(
        &common::root().join("fixtures/metadata/source-healthy"),
        repo,
    );
    std::fs::remove_dir_all(repo.join(DEFAULT).join("connectedApps")).unwrap();
    let o = eci(repo)
        .args(["check", ".", "--select", "CAP001", "--format", "json"])
        .output()
        .unwrap();
    let doc = json(&o);
    assert_eq!(
        doc["results"][0]["status"], "unknown",
        "{}",
        doc["results"][0]
    );
    assert_eq!(o.status.code(), Some(3));
    let o = eci(repo)
        .args([
            "check",
            ".",
            "--select",
            "CAP001",
            "--format",
            "json",
            "--full-retrieve",
        ])
        .output()
        .unwrap();
    let doc = json(&o);
    assert_eq!(doc["results"][0]["status"], "fail", "{}", doc["results"][0]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn malformed_xml_is_a_located_error() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    common::copy_tree(
        &common::root().join("fixtures/metadata/source-healthy"),
        repo,
    );
    let file = repo.join(DEFAULT).join(CA);
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("</label>", "</lable>");
    std::fs::write(&file, text).unwrap();
    let o = eci(repo).args(["check", "."]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ECIConnectedApp.connectedApp-meta.xml:4:"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn broken_zip_is_an_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("retrieve.zip"),
        b"PK\x03\x04 not really a zip",
    )
    .unwrap();
    let o = eci(tmp.path())
        .args(["check", "retrieve.zip"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("retrieve.zip"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn forceignore_leaves_out_files_that_never_deploy_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    common::copy_tree(
        &common::root().join("fixtures/metadata/source-healthy"),
        &root,
    );
    // A stale copy of the connected app in a scratch folder: without .forceignore it is a
    // second definition of ECIConnectedApp.
    let stale = root.join("force-app/scratch/connectedApps");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::copy(
        root.join("force-app/main/default/connectedApps/ECIConnectedApp.connectedApp-meta.xml"),
        stale.join("ECIConnectedApp.connectedApp-meta.xml"),
    )
    .unwrap();
    let o = eci(&root)
        .args(["check", ".", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("defined twice"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(root.join(".forceignore"), "# scratch work\n**/scratch/**\n").unwrap();
    let o = eci(&root)
        .args([
            "check",
            ".",
            "--my-domain",
            "acme.my.salesforce.com",
            "--format",
            "json",
            "--allow-incomplete",
        ])
        .output()
        .unwrap();
    common::assert_exit(&o, 0);
    let doc = json(&o);
    assert!(
        doc["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "1 metadata file ignored by .forceignore (they never deploy)"),
        "{}",
        doc["notices"]
    );
}

#[test]
fn a_folder_without_eci_metadata_is_an_error_not_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    std::fs::create_dir_all(root.join("src/classes")).unwrap();
    std::fs::write(root.join("src/classes/Foo.cls"), "public class Foo {}").unwrap();
    let o = eci(tmp.path())
        .args(["check", "--metadata-dir", "app", "--allow-incomplete"])
        .output()
        .unwrap();
    let expected = "no ECI metadata found in app (looked for connectedApps";
    common::assert_error(&o, 2, expected);
}

#[test]
fn check_without_a_source_audits_the_enclosing_sfdx_project() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    common::copy_tree(
        &common::root().join("fixtures/metadata/source-healthy"),
        &root,
    );
    let o = eci(&root.join("force-app/main"))
        .args([
            "check",
            "--my-domain",
            "acme.my.salesforce.com",
            "--allow-incomplete",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    common::assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["summary"]["counts"]["fail"], 0, "{}", doc["summary"]);
    assert!(
        doc["summary"]["counts"]["pass"].as_u64().unwrap() > 20,
        "{}",
        doc["summary"]
    );
    // Outside any project there is still nothing to audit.
    let o = eci(tmp.path()).args(["check"]).output().unwrap();
    common::assert_error(&o, 2, "nothing to audit");
}

#[test]
fn selected_rules_whose_required_rules_are_not_selected_are_evaluated_never_blocked_by_themselves()
{
    let o = eci(&common::root())
        .args([
            "check",
            "fixtures/metadata/source-healthy",
            "--my-domain",
            "acme.my.salesforce.com",
            "--select",
            "CAP,AUP,ENC",
        ])
        .output()
        .unwrap();
    // CAP015 requires USR001 (not selected): its own facts need the integration user, which a
    // metadata directory never holds, so it is skipped rather than blocked or unknown.
    common::assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("Start here"), "{out}");
    assert!(!out.contains("requires USR001"), "{out}");
    assert!(
        out.contains("(not applicable to this source: CAP015)"),
        "{out}"
    );
}
