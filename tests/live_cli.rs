//! `check --instance-url` and `collect` end to end against the in-process fake org: the same
//! results as the snapshot and metadata sources, faults ending in clear messages, nothing but
//! reads on the wire, and no secret in any output.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::fake_org::{FakeOrg, FakeOrgBuilder, Fault};

const MY_DOMAIN: &str = "https://acme.my.salesforce.com";
const INTEGRATION_USER: &str = "eci-integration@acme.example";

fn eci(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("eci-audit").expect("binary");
    cmd.current_dir(dir);
    for v in [
        "SF_ACCESS_TOKEN",
        "SF_CLIENT_SECRET",
        "AIRCALL_API_ID",
        "AIRCALL_API_TOKEN",
        "AIRCALL_BASE_URL",
        "NO_COLOR",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

fn live(fake: &FakeOrg, dir: &Path, extra: &[&str]) -> Output {
    eci(dir)
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .args([
            "check",
            "--instance-url",
            fake.url(),
            "--my-domain",
            MY_DOMAIN,
            "--integration-user",
            INTEGRATION_USER,
            "--timeout",
            "10",
        ])
        .args(extra)
        .output()
        .expect("run")
}

fn statuses(o: &Output) -> BTreeMap<String, (String, String)> {
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} stderr {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_string(),
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["message"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn guest_user_id() -> String {
    let text =
        std::fs::read_to_string(support::fake_org::fixtures_dir().join("healthy.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["records"]["Site"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == "VoiceConnector")
        .and_then(|s| s["GuestUserId"].as_str())
        .unwrap()
        .to_string()
}

fn failing(o: &Output) -> Vec<String> {
    statuses(o)
        .into_iter()
        .filter(|(_, (s, _))| s == "fail")
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn healthy_live_org_passes() {
    let fake = FakeOrg::builder("healthy").start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json"]);
    let st = statuses(&o);
    let not_pass: Vec<_> = st
        .iter()
        .filter(|(_, (s, _))| s != "pass" && s != "manual")
        .collect();
    assert!(not_pass.is_empty(), "{not_pass:#?}");
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("HTTP requests") && err.contains("daily API limit"),
        "{err}"
    );
}

#[test]
fn broken_live_orgs_fail_per_area() {
    let fake_cases: Vec<(&str, FakeOrgBuilder, Vec<&str>)> = vec![
        (
            "connected app",
            FakeOrg::builder("healthy").metadata_xml(
                "ConnectedApp",
                "ECIConnectedApp",
                &std::fs::read_to_string(
                    support::fake_org::fixtures_dir()
                        .join("healthy.metadata/ConnectedApp/ECIConnectedApp.xml"),
                )
                .unwrap()
                .replace("<ipRelaxation>BYPASS", "<ipRelaxation>ENFORCE")
                .replace(
                    "https://acme.my.salesforce.com/services",
                    "https://dummyurl/services",
                ),
            ),
            vec!["CAP005", "CAP006", "CAP011"],
        ),
        (
            "aircall named credential",
            FakeOrg::builder("healthy").metadata_xml(
                "NamedCredential",
                "Aircall",
                &std::fs::read_to_string(
                    support::fake_org::fixtures_dir()
                        .join("healthy.metadata/NamedCredential/Aircall.xml"),
                )
                .unwrap()
                .replace("https://api.aircall.io<", "http://api.aircall.io/v1<"),
            ),
            vec!["AIR003"],
        ),
        (
            "eci named credential missing",
            FakeOrg::builder("healthy")
                .without_metadata("NamedCredential", "ECINamedCredential")
                .remove_record("0XAXX0000000002AAA"),
            vec!["ENC001"],
        ),
        (
            "guest user inactive",
            FakeOrg::builder("healthy").set_field(&guest_user_id(), "IsActive", Value::Bool(false)),
            vec!["GST001"],
        ),
    ];
    for (name, builder, expect) in fake_cases {
        let fake = builder.start();
        let tmp = tempfile::tempdir().unwrap();
        let o = live(&fake, tmp.path(), &["--format", "json"]);
        let mut got = failing(&o);
        got.sort();
        assert_eq!(got, expect, "{name}: {:#?}", statuses(&o));
        assert_eq!(o.status.code(), Some(1), "{name}");
    }
}

#[test]
fn collect_then_check_reproduces_the_live_results() {
    let fake = FakeOrg::builder("healthy")
        .metadata_xml(
            "CustomSite",
            "VoiceConnector",
            &std::fs::read_to_string(
                support::fake_org::fixtures_dir()
                    .join("healthy.metadata/CustomSite/VoiceConnector.xml"),
            )
            .unwrap()
            .replace("<indexPage>SiteLogin", "<indexPage>InMaintenance"),
        )
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let live_run = live(&fake, tmp.path(), &["--format", "json"]);
    assert_eq!(live_run.status.code(), Some(1));
    let o = eci(tmp.path())
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .args([
            "collect",
            "--instance-url",
            fake.url(),
            "--my-domain",
            MY_DOMAIN,
            "--integration-user",
            INTEGRATION_USER,
            "--output",
            "snap.json",
        ])
        .output()
        .unwrap();
    common::assert_exit(&o, 0);
    let offline = eci(tmp.path())
        .args(["check", "snap.json", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(statuses(&offline), statuses(&live_run));
    assert_eq!(offline.status.code(), live_run.status.code());
    assert!(failing(&offline).contains(&"SIT005".to_string()));
    // The snapshot records its provenance.
    let snap: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("snap.json")).unwrap()).unwrap();
    assert_eq!(snap["source"]["kind"], "live_org");
    // The report says how each run read the org, and what the snapshot says of itself.
    let report = |o: &Output| -> Value { serde_json::from_slice(&o.stdout).unwrap() };
    assert_eq!(report(&live_run)["source"]["kind"], "live_org");
    assert_eq!(report(&offline)["source"]["kind"], "snapshot_file");
    assert_eq!(report(&offline)["source"]["snapshot_kind"], "live_org");
    assert!(
        snap["source"]["api_version"].is_string() && snap["source"]["collected_at"].is_string()
    );
}

#[test]
fn live_and_metadata_sources_agree_on_the_same_configuration() {
    // Build an mdapi directory from the very XML the fake org serves through readMetadata.
    let fake = FakeOrg::builder("healthy").start();
    let tmp = tempfile::tempdir().unwrap();
    let src = support::fake_org::fixtures_dir().join("healthy.metadata");
    let layout = [
        ("ConnectedApp", "connectedApps", "connectedApp"),
        ("AuthProvider", "authproviders", "authprovider"),
        ("NamedCredential", "namedCredentials", "namedCredential"),
        ("CustomSite", "sites", "site"),
        ("ConversationalIntelligenceSettings", "settings", "settings"),
    ];
    let mdapi = tmp.path().join("mdapi");
    for (ty, folder, suffix) in layout {
        std::fs::create_dir_all(mdapi.join(folder)).unwrap();
        for f in std::fs::read_dir(src.join(ty)).unwrap() {
            let f = f.unwrap().path();
            let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
            std::fs::copy(&f, mdapi.join(folder).join(format!("{stem}.{suffix}"))).unwrap();
        }
    }
    std::fs::write(mdapi.join("package.xml"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Package xmlns=\"http://soap.sforce.com/2006/04/metadata\"><version>62.0</version></Package>\n").unwrap();
    let from_files = eci(tmp.path())
        .args([
            "check",
            "mdapi",
            "--my-domain",
            MY_DOMAIN,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let from_org = live(&fake, tmp.path(), &["--format", "json"]);
    let files = statuses(&from_files);
    let org = statuses(&from_org);
    let mut compared = 0;
    for (id, (status, _)) in &files {
        if status == "skipped" {
            continue; // org data a directory cannot hold
        }
        compared += 1;
        assert_eq!(
            &org[id].0, status,
            "{id}: files say {status}, the live org says {:?}",
            org[id]
        );
    }
    assert!(compared >= 40, "only {compared} rules comparable");
}

#[test]
fn expired_session_exits_2_with_the_login_hint() {
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::Unauthorized)
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("session expired or invalid — log in again (sf org login web)"),
        "{err}"
    );
}

#[test]
fn without_app_menu_item_the_api_name_stays_unknown() {
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::ReadMetadataRefused {
            metadata_type: "ConnectedApp".into(),
            code: "INSUFFICIENT_ACCESS".into(),
        })
        .fault(Fault::InvalidType {
            object: "AppMenuItem".into(),
        })
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json"]);
    let st = statuses(&o);
    // SOQL still sees an app named `ECI Connected App`, but neither readMetadata nor
    // AppMenuItem says its API name: CAP001 is unknown with Salesforce's errorCode.
    assert_eq!(st["CAP001"].0, "unknown", "{:?}", st["CAP001"]);
    assert!(
        st["CAP001"].1.contains("INSUFFICIENT_ACCESS"),
        "{:?}",
        st["CAP001"]
    );
    assert_eq!(st["CAP004"].0, "blocked", "{:?}", st["CAP004"]);
    assert!(failing(&o).is_empty(), "{:?}", failing(&o));
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn refused_metadata_reads_end_unknown_and_exit_3() {
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::ReadMetadataRefused {
            metadata_type: "ConnectedApp".into(),
            code: "INSUFFICIENT_ACCESS".into(),
        })
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json"]);
    let st = statuses(&o);
    // AppMenuItem names the app `ECIConnectedApp` (CAP001 passes), but its OAuth settings
    // need readMetadata: unknown with Salesforce's errorCode, and the rules after it blocked.
    assert_eq!(st["CAP001"].0, "pass", "{:?}", st["CAP001"]);
    assert_eq!(st["CAP004"].0, "unknown", "{:?}", st["CAP004"]);
    assert!(
        st["CAP004"].1.contains("INSUFFICIENT_ACCESS"),
        "{:?}",
        st["CAP004"]
    );
    assert_eq!(st["CAP012"].0, "blocked", "{:?}", st["CAP012"]);
    // CAP012's own data: the policy as SOQL gives it, the unit unknown (issue 8).
    let cap012 = &st["CAP012"].1;
    assert!(
        cap012.contains("its own data:")
            && cap012.contains("RefreshTokenValidityPeriod = 365")
            && cap012.contains("unit"),
        "{cap012}"
    );
    assert!(failing(&o).is_empty(), "{:?}", failing(&o));
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn print_plan_makes_no_request() {
    let fake = FakeOrg::builder("healthy").start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--print-plan"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("SELECT") && out.contains("readMetadata") || out.contains("Soap"),
        "{out}"
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn only_reads_go_out_through_the_cli() {
    let fake = FakeOrg::builder("healthy").start();
    let tmp = tempfile::tempdir().unwrap();
    let _ = live(&fake, tmp.path(), &["--format", "sarif"]);
    let requests = fake.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let ok = match r.method.as_str() {
            "GET" => true,
            "POST" if r.path.ends_with("/composite") => {
                let body: Value = serde_json::from_str(&r.body).unwrap();
                body["compositeRequest"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|s| s["method"] == "GET")
            }
            "POST" if r.path.contains("/services/Soap/m/") => {
                r.body.contains("readMetadata") || r.body.contains("listMetadata")
            }
            "POST" if r.path == "/services/oauth2/token" => true,
            _ => false,
        };
        assert!(ok, "not a read: {} {} {}", r.method, r.path, r.body);
    }
}

#[test]
fn no_secret_reaches_any_output() {
    let token = "00DSECRET!PLANTEDACCESSTOKENvalue1234567890";
    let aircall_token = "aircall-PLANTED-token-0987654321";
    let fake = FakeOrg::builder("healthy")
        .access_token(token)
        .aircall_token(aircall_token)
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let outputs = [
        live(&fake, tmp.path(), &["--format", "json"]),
        live(&fake, tmp.path(), &["--format", "sarif"]),
        live(&fake, tmp.path(), &["--format", "table"]),
        live(&fake, tmp.path(), &["--format", "json", "--verbose"]),
        live(&fake, tmp.path(), &["--print-plan"]),
        eci(tmp.path())
            .env("SF_ACCESS_TOKEN", token)
            .env("AIRCALL_API_ID", &fake.credentials().aircall_api_id)
            .env("AIRCALL_API_TOKEN", aircall_token)
            .env("AIRCALL_BASE_URL", fake.url())
            .args([
                "collect",
                "--instance-url",
                fake.url(),
                "--my-domain",
                MY_DOMAIN,
                "--output",
                "snap.json",
                "--verbose",
            ])
            .output()
            .unwrap(),
        // A refused token: the error must not echo it.
        eci(tmp.path())
            .env("SF_ACCESS_TOKEN", format!("{token}-wrong"))
            .args(["check", "--instance-url", fake.url()])
            .output()
            .unwrap(),
    ];
    let snapshot = std::fs::read_to_string(tmp.path().join("snap.json")).unwrap();
    assert!(snapshot.contains("\"aircall\""), "the Aircall check ran");
    for (i, o) in outputs.iter().enumerate() {
        for text in [
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        ] {
            assert!(
                !text.contains(token) && !text.contains("PLANTEDACCESSTOKEN"),
                "output {i} leaks the access token"
            );
            assert!(
                !text.contains(aircall_token),
                "output {i} leaks the Aircall token"
            );
        }
    }
    assert!(!snapshot.contains("PLANTEDACCESSTOKEN") && !snapshot.contains(aircall_token));
    for secret in ["FAKE_CONSUMER_SECRET", "consumerSecret", "<password>"] {
        assert!(!snapshot.contains(secret), "snapshot holds {secret}");
    }
}

#[test]
fn verbose_logs_requests_and_retries_and_a_pipe_gets_nothing_without_it() {
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::ServiceUnavailable {
            path: "/composite".to_string(),
            times: 1,
        })
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json", "--verbose"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("eci-audit: GET /services/data/") && l.contains(" 200 ")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("eci-audit: 503 from /services/data/")
                && l.contains("/composite, retry 1/")),
        "the retry is named with its reason and wait: {err}"
    );
    assert!(!err.contains("SELECT"), "no SOQL in the log: {err}");
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report["summary"]["counts"]["fail"], 0,
        "the retry succeeded"
    );

    // Standard error is a pipe here: no progress line without --verbose, none with --quiet.
    for extra in [&["--format", "json"][..], &["--format", "json", "--quiet"]] {
        let o = live(&fake, tmp.path(), extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("requests answered") && !err.contains("GET /"),
            "{err}"
        );
    }
    let o = live(&fake, tmp.path(), &["--verbose", "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "the two flags conflict");
}

// ---------------------------------------------------------------------------------------------
// Review fixes, end to end.

fn texts(o: &Output) -> [String; 2] {
    [
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ]
}

#[test]
fn an_unreachable_org_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let o = eci(tmp.path())
        .env("SF_ACCESS_TOKEN", "00DXX!a-token-for-nobody-123")
        .args([
            "check",
            "--instance-url",
            "http://127.0.0.1:9",
            "--api-version",
            "62.0",
            "--timeout",
            "5",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let [out, err] = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("no HTTP answer from http://127.0.0.1:9"),
        "{err}"
    );
    assert!(
        !out.contains("\"results\""),
        "no report for an org never read: {out}"
    );
    assert!(!out.contains("a-token-for-nobody") && !err.contains("a-token-for-nobody"));
}

#[test]
fn an_inconclusive_aircall_ping_leaves_air011_unknown() {
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::ServiceUnavailable {
            path: "/v1/ping".into(),
            times: 100,
        })
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = eci(tmp.path())
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .env("AIRCALL_API_ID", &fake.credentials().aircall_api_id)
        .env("AIRCALL_API_TOKEN", &fake.credentials().aircall_api_token)
        .env("AIRCALL_BASE_URL", fake.url())
        .args([
            "check",
            "--instance-url",
            fake.url(),
            "--my-domain",
            MY_DOMAIN,
            "--integration-user",
            INTEGRATION_USER,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let st = statuses(&o);
    // Not collected, so never `fail`: `unknown`, or `manual` where the rule has a manual check.
    assert!(
        st["AIR011"].0 == "unknown" || st["AIR011"].0 == "manual",
        "{:?}",
        st["AIR011"]
    );
    assert!(failing(&o).is_empty(), "{:?}", failing(&o));
}

#[test]
fn a_connected_app_with_another_api_name_fails_cap001() {
    // readMetadata answers without ECIConnectedApp while SOQL sees `ECI Connected App` (and
    // AppMenuItem has no `ECIConnectedApp`).
    let fake = FakeOrg::builder("healthy")
        .without_metadata("ConnectedApp", "ECIConnectedApp")
        .remove_record("0JaXX0000000001AAA")
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json"]);
    let st = statuses(&o);
    assert_eq!(st["CAP001"].0, "fail", "{:?}", st["CAP001"]);
    assert!(
        st["CAP001"].1.contains("ECI Connected App"),
        "{:?}",
        st["CAP001"]
    );
}

#[test]
fn a_bare_my_domain_host_works_live() {
    let fake = FakeOrg::builder("healthy").start();
    let tmp = tempfile::tempdir().unwrap();
    let o = eci(tmp.path())
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .args([
            "check",
            "--instance-url",
            fake.url(),
            "--my-domain",
            "acme.my.salesforce.com",
            "--integration-user",
            INTEGRATION_USER,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let [_, err] = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let with_url = live(&fake, tmp.path(), &["--format", "json"]);
    assert_eq!(statuses(&o), statuses(&with_url));
}

#[test]
fn the_client_credentials_flow_leaks_no_secret() {
    const CLIENT_SECRET: &str = "PLANTED-CLI-CLIENT-SECRET-31415926";
    let tmp = tempfile::tempdir().unwrap();
    let run = |fake: &FakeOrg| {
        eci(tmp.path())
            .env("SF_CLIENT_SECRET", CLIENT_SECRET)
            .args([
                "check",
                "--client-id",
                &fake.credentials().client_id,
                "--login-url",
                fake.url(),
                "--my-domain",
                MY_DOMAIN,
                "--integration-user",
                INTEGRATION_USER,
                "--timeout",
                "10",
                "--format",
                "json",
            ])
            .output()
            .unwrap()
    };
    let fake = FakeOrg::builder("healthy")
        .client_secret(CLIENT_SECRET)
        .start();
    let ok = run(&fake);
    assert_eq!(ok.status.code(), Some(0), "{}", texts(&ok)[1]);
    assert!(fake.requests()[0].path == "/services/oauth2/token");
    let refusing = FakeOrg::builder("healthy")
        .client_secret("the-secret-the-org-expects-000")
        .fault(Fault::EchoTokenRequest)
        .start();
    let refused = run(&refusing);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        texts(&refused)[1].contains("invalid_client"),
        "{}",
        texts(&refused)[1]
    );
    for o in [&ok, &refused] {
        for text in texts(o) {
            assert!(
                !text.contains(CLIENT_SECRET),
                "the client secret leaks: {text}"
            );
        }
    }
}

#[test]
fn the_jwt_flow_leaks_neither_key_nor_assertion() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("server.key");
    let public = tmp.path().join("public.der");
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("this test needs the openssl command to make a throwaway RSA key");
        assert!(status.success(), "openssl {args:?}");
    };
    let (k, p) = (key.to_str().unwrap(), public.to_str().unwrap());
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        k,
    ]);
    openssl(&[
        "rsa",
        "-in",
        k,
        "-RSAPublicKey_out",
        "-outform",
        "DER",
        "-out",
        p,
    ]);
    let key_text = std::fs::read_to_string(&key).unwrap();
    let run = |fake: &FakeOrg, username: &str| {
        eci(tmp.path())
            .args([
                "check",
                "--client-id",
                &fake.credentials().client_id,
                "--jwt-key-file",
                k,
                "--username",
                username,
                "--login-url",
                fake.url(),
                "--my-domain",
                MY_DOMAIN,
                "--integration-user",
                INTEGRATION_USER,
                "--timeout",
                "10",
                "--format",
                "json",
            ])
            .output()
            .unwrap()
    };
    let assertion_of = |fake: &FakeOrg| {
        let token = fake
            .requests()
            .into_iter()
            .find(|r| r.path == "/services/oauth2/token")
            .expect("a token request");
        url::form_urlencoded::parse(token.body.as_bytes())
            .find(|(k, _)| k == "assertion")
            .map(|(_, v)| v.into_owned())
            .expect("an assertion")
    };
    let fake = FakeOrg::builder("healthy")
        .jwt_public_key(std::fs::read(&public).unwrap())
        .start();
    let ok = run(&fake, &fake.credentials().jwt_username);
    assert_eq!(ok.status.code(), Some(0), "{}", texts(&ok)[1]);
    let refusing = FakeOrg::builder("healthy")
        .jwt_public_key(std::fs::read(&public).unwrap())
        .fault(Fault::EchoTokenRequest)
        .start();
    let refused = run(&refusing, "someone-else@acme.example");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        texts(&refused)[1].contains("invalid_grant"),
        "{}",
        texts(&refused)[1]
    );
    for (o, fake) in [(&ok, &fake), (&refused, &refusing)] {
        let assertion = assertion_of(fake);
        let signature = assertion.rsplit('.').next().unwrap().to_string();
        for text in texts(o) {
            assert!(
                !text.contains(&signature),
                "the JWT assertion leaks: {text}"
            );
            for line in key_text.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!text.contains(line), "the private key leaks: {text}");
            }
        }
    }
}

#[test]
fn urls_with_credentials_are_never_echoed() {
    const URL: &str = "https://admin:Sup3rS3cret@host.example/?sid=00DTOKEN";
    let fake = FakeOrg::builder("healthy").start();
    let tmp = tempfile::tempdir().unwrap();
    let token = fake.credentials().access_token.clone();
    let base = |args: &[&str]| {
        let mut cmd = eci(tmp.path());
        cmd.env("SF_ACCESS_TOKEN", &token)
            .env("SF_CLIENT_SECRET", "a-client-secret-value-123")
            .args(["check", "--format", "json", "--timeout", "5"])
            .args(args);
        cmd
    };
    let outputs = [
        base(&["--instance-url", URL]).output().unwrap(),
        base(&["--instance-url", fake.url(), "--my-domain", URL])
            .output()
            .unwrap(),
        base(&["--client-id", "some-client-id", "--login-url", URL])
            .output()
            .unwrap(),
        base(&["--instance-url", fake.url(), "--my-domain", MY_DOMAIN])
            .env("AIRCALL_API_ID", "some-aircall-id")
            .env("AIRCALL_API_TOKEN", "some-aircall-token-value")
            .env("AIRCALL_BASE_URL", URL)
            .output()
            .unwrap(),
    ];
    for (i, o) in outputs.iter().enumerate() {
        let [out, err] = texts(o);
        // The CLI may reduce --my-domain to its origin and audit on (case 1); the others end
        // in an error that names the host only.
        if i != 1 {
            assert_eq!(o.status.code(), Some(2), "case {i}: {out}\n{err}");
            assert!(err.contains("host.example"), "case {i}: {err}");
        }
        for text in [&out, &err] {
            assert!(
                !text.contains("Sup3rS3cret") && !text.contains("00DTOKEN"),
                "case {i} echoes the URL's secrets: {text}"
            );
        }
    }
}

#[test]
fn an_endless_response_body_exits_2_naming_the_limit() {
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::EndlessBody {
            path: "/services/oauth2/userinfo".into(),
        })
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json"]);
    let [out, err] = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("response body of GET /services/oauth2/userinfo exceeds the 1 MiB limit"),
        "{err}"
    );
}

#[test]
fn the_deadline_exits_2_naming_it() {
    let fake = FakeOrg::builder("healthy")
        .latency(std::time::Duration::from_millis(700))
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json", "--deadline", "1"]);
    let [out, err] = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("the run did not finish within its deadline of 1 s (--deadline)"),
        "{err}"
    );
}

#[test]
fn print_plan_refuses_an_instance_url_a_live_run_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    for url in [
        "http://acme.my.salesforce.com",
        "ftp://acme.my.salesforce.com",
    ] {
        let o = eci(tmp.path())
            .args(["check", "--instance-url", url, "--print-plan"])
            .output()
            .unwrap();
        let [out, err] = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{url}: {out}\n{err}");
        assert!(err.contains("invalid instance URL"), "{err}");
        assert!(!out.contains("would make these requests"), "{out}");
    }
}

// ---------------------------------------------------------------------------------------------
// Real orgs (issue 8)

fn with_aircall(fake: &FakeOrg, dir: &Path, extra: &[&str]) -> Output {
    eci(dir)
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .env("AIRCALL_API_ID", &fake.credentials().aircall_api_id)
        .env("AIRCALL_API_TOKEN", &fake.credentials().aircall_api_token)
        .env("AIRCALL_BASE_URL", fake.url())
        .args([
            "check",
            "--instance-url",
            fake.url(),
            "--my-domain",
            MY_DOMAIN,
            "--integration-user",
            INTEGRATION_USER,
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn french_and_german_profile_names_pass() {
    // An auditing user whose language is not English sees the standard profiles translated;
    // their API names (`Admin`, `Standard`) do not change.
    let fake = FakeOrg::builder("healthy")
        .set_field(
            "00eXX0000000001AAA",
            "Name",
            "Administrateur système".into(),
        )
        .set_field("00eXX0000000003AAA", "Name", "Standardbenutzer".into())
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--format", "json"]);
    let st = statuses(&o);
    for rule in ["USR003", "SIT008", "CAP014", "CAP015"] {
        assert_eq!(st[rule].0, "pass", "{rule}: {:?}", st[rule]);
    }
    // The message keeps the name as the auditing user sees it.
    assert!(
        st["USR003"].1.contains("Administrateur système"),
        "{:?}",
        st["USR003"]
    );
    assert_eq!(o.status.code(), Some(0), "{st:#?}");

    // Without the Tooling lookup, a translated name is never a failure.
    let fake = FakeOrg::builder("healthy")
        .set_field(
            "00eXX0000000001AAA",
            "Name",
            "Administrateur système".into(),
        )
        .fault(Fault::InvalidType {
            object: "Profile".into(),
        })
        .start();
    let o = live(&fake, tmp.path(), &["--format", "json"]);
    let st = statuses(&o);
    assert_eq!(st["USR003"].0, "unknown", "{:?}", st["USR003"]);
    assert!(st["USR003"].1.contains("translated"), "{:?}", st["USR003"]);
    assert_eq!(st["CAP015"].0, "unknown", "{:?}", st["CAP015"]);
    assert!(failing(&o).is_empty(), "{:?}", failing(&o));
}

#[test]
fn an_enhanced_domain_site_passes_sit001_naming_its_url() {
    let xml = std::fs::read_to_string(
        support::fake_org::fixtures_dir().join("healthy.metadata/CustomSite/VoiceConnector.xml"),
    )
    .unwrap()
    .replace("    <subdomain>acme</subdomain>\n", "");
    let enhanced = || {
        FakeOrg::builder("healthy")
            .set_field("0DMXX0000000001AAA", "Subdomain", Value::Null)
            .set_field("0DMXX0000000002AAA", "Subdomain", Value::Null)
            .metadata_xml("CustomSite", "VoiceConnector", &xml)
            .set_field("0I4XX0000000002AAA", "Domain", "acme.my.site.com".into())
            .set_field("0I4XX0000000002AAA", "DomainType", "DNS".into())
            .set_field("0I4XX0000000002AAA", "HttpsOption", "OrgDomain".into())
    };
    let fake = enhanced().start();
    let tmp = tempfile::tempdir().unwrap();
    let st = statuses(&live(&fake, tmp.path(), &["--format", "json"]));
    assert_eq!(st["SIT001"].0, "pass", "{:?}", st["SIT001"]);
    assert!(
        st["SIT001"]
            .1
            .contains("https://acme.my.site.com/voiceconnector"),
        "{:?}",
        st["SIT001"]
    );
    // DomainSite is what decides: without its row, nothing shows a site domain.
    let fake = enhanced().remove_record("0DNXX0000000001AAA").start();
    let st = statuses(&live(&fake, tmp.path(), &["--format", "json"]));
    assert_eq!(st["SIT001"].0, "fail", "{:?}", st["SIT001"]);
    // DomainSite refused (Sites not enabled, or not visible): unknown, never a failure.
    let fake = enhanced()
        .fault(Fault::InvalidType {
            object: "DomainSite".into(),
        })
        .start();
    let st = statuses(&live(&fake, tmp.path(), &["--format", "json"]));
    assert_eq!(st["SIT001"].0, "unknown", "{:?}", st["SIT001"]);
    assert!(st["SIT001"].1.contains("DomainSite"), "{:?}", st["SIT001"]);
}

#[test]
fn an_api_id_mismatch_fails_air007_only() {
    let aircall_xml = std::fs::read_to_string(
        support::fake_org::fixtures_dir().join("healthy.metadata/NamedCredential/Aircall.xml"),
    )
    .unwrap()
    .replace("fake-aircall-api-id", "another-api-id");
    let fake = FakeOrg::builder("healthy")
        .metadata_xml("NamedCredential", "Aircall", &aircall_xml)
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = with_aircall(&fake, tmp.path(), &[]);
    let st = statuses(&o);
    assert_eq!(st["AIR011"].0, "pass", "{:?}", st["AIR011"]);
    assert_eq!(st["AIR007"].0, "fail", "{:?}", st["AIR007"]);
    assert_eq!(failing(&o), ["AIR007"]);

    // readMetadata refused (and its Tooling fallback too): the ping still decides AIR011.
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::ReadMetadataRefused {
            metadata_type: "NamedCredential".into(),
            code: "INSUFFICIENT_ACCESS".into(),
        })
        .fault(Fault::InsufficientAccess {
            object: "NamedCredential".into(),
        })
        .start();
    let st = statuses(&with_aircall(&fake, tmp.path(), &[]));
    assert_eq!(st["AIR011"].0, "pass", "{:?}", st["AIR011"]);
    assert_ne!(st["AIR007"].0, "fail", "{:?}", st["AIR007"]);
}

#[test]
fn refused_semi_joins_still_pass_the_healthy_org() {
    for fault in [
        Fault::RefuseSemiJoin {
            inner_object: "Site".into(),
            code: "MALFORMED_QUERY".into(),
        },
        Fault::RefuseSemiJoin {
            inner_object: "User".into(),
            code: "INVALID_FIELD".into(),
        },
    ] {
        let fake = FakeOrg::builder("healthy").fault(fault.clone()).start();
        let tmp = tempfile::tempdir().unwrap();
        let o = live(&fake, tmp.path(), &["--format", "json"]);
        let st = statuses(&o);
        let not_pass: Vec<_> = st
            .iter()
            .filter(|(_, (s, _))| s != "pass" && s != "manual")
            .collect();
        assert!(not_pass.is_empty(), "{fault:?}: {not_pass:#?}");
    }
    // Candidate mode with `OR` inside the semi-join refused: the integration user is found.
    let fake = FakeOrg::builder("healthy")
        .fault(Fault::RefuseSemiJoinWithOr {
            code: "MALFORMED_QUERY".into(),
        })
        .start();
    let tmp = tempfile::tempdir().unwrap();
    let o = eci(tmp.path())
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .args([
            "check",
            "--instance-url",
            fake.url(),
            "--my-domain",
            MY_DOMAIN,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let st = statuses(&o);
    assert_eq!(st["USR001"].0, "pass", "{:?}", st["USR001"]);
}

#[test]
fn print_plan_json_gives_every_query_paste_ready() {
    let fake = FakeOrg::builder("healthy").start();
    let tmp = tempfile::tempdir().unwrap();
    let o = live(&fake, tmp.path(), &["--print-plan", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(fake.requests().is_empty(), "{:#?}", fake.requests());
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let queries: Vec<&Value> = doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["queries"].as_array())
        .flatten()
        .collect();
    let soql: Vec<&str> = queries
        .iter()
        .map(|q| q["soql"].as_str().unwrap())
        .collect();
    for needle in [
        "FROM AppMenuItem WHERE Type = 'ConnectedApplication' AND Name = 'ECIConnectedApp'",
        "FROM DomainSite WHERE Site.Name = 'VoiceConnector'",
        "FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication'",
        "FROM InstalledSubscriberPackage",
    ] {
        assert!(
            soql.iter().any(|q| q.contains(needle)),
            "{needle}: {soql:#?}"
        );
    }
    for q in &queries {
        let sf = q["sf"].as_str().unwrap();
        assert!(sf.starts_with("sf data query"), "{sf}");
        assert!(
            sf.contains(&format!("\"{}\"", q["soql"].as_str().unwrap())),
            "{sf}"
        );
        assert_eq!(
            sf.contains("--use-tooling-api"),
            q["api"] == "tooling",
            "{sf}"
        );
    }
    let conditional = doc["conditional_queries"].as_array().unwrap();
    let text: Vec<&str> = conditional
        .iter()
        .map(|q| q["soql"].as_str().unwrap())
        .collect();
    assert!(
        text.iter()
            .any(|q| q.starts_with("SELECT Id, Name, FullName FROM Profile WHERE Id =")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|q| q.contains("FROM User WHERE Id = '<user Id from the Site row>'")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|q| q.contains("Protocol, Username") && q.contains("FROM NamedCredential")),
        "{text:#?}"
    );

    // A value with shell metacharacters reaches `sf` unchanged.
    let o = eci(tmp.path())
        .env("SF_ACCESS_TOKEN", &fake.credentials().access_token)
        .args([
            "check",
            "--instance-url",
            fake.url(),
            "--integration-user",
            "a\"$b`c@x.example",
            "--print-plan",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sf: Vec<&str> = doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["queries"].as_array())
        .flatten()
        .map(|q| q["sf"].as_str().unwrap())
        .filter(|q| q.contains("Username = "))
        .collect();
    assert!(!sf.is_empty());
    for line in sf {
        // SOQL escapes `"` as `\"`; the shell's double quotes then escape `\`, `"`, `$`, `` ` ``.
        assert!(
            line.contains(r#"Username = 'a\\\"\$b\`c@x.example'"#),
            "{line}"
        );
    }
}
