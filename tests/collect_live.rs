//! The live collector against the in-process fake org (`tests/support/fake_org.rs`). No network
//! but 127.0.0.1.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::time::Duration;

use eci_audit::collect::{
    AircallCredentials, AuthError, AuthMethod, CollectError, CollectOptions, CollectOutcome,
    HttpMethod, RetryPolicy, Secret, TokenFlow, collect, collect_blocking, plan,
};
use eci_audit::snapshot::{ConnectedAppField, Origin, Snapshot, SourceKind, fingerprint};
use serde_json::Value;
use support::fake_org::{FakeOrg, FakeOrgBuilder, Fault, RecordedRequest, waves};

const INTEGRATION_USER: &str = "eci-integration@acme.example";
const MY_DOMAIN: &str = "https://acme.my.salesforce.com";

fn options(fake: &FakeOrg) -> CollectOptions {
    let mut opts = CollectOptions::new(AuthMethod::AccessToken {
        instance_url: fake.url().to_string(),
        token: Secret::new(fake.credentials().access_token.clone()),
    });
    opts.integration_user = Some(INTEGRATION_USER.to_string());
    opts.my_domain = Some(MY_DOMAIN.to_string());
    opts.timeout = Duration::from_secs(10);
    opts.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(5),
    };
    opts
}

fn with_aircall(mut opts: CollectOptions, fake: &FakeOrg) -> CollectOptions {
    opts.aircall = Some(AircallCredentials {
        api_id: fake.credentials().aircall_api_id.clone(),
        api_token: Secret::new(fake.credentials().aircall_api_token.clone()),
        base_url: fake.url().to_string(),
    });
    opts
}

async fn run(builder: FakeOrgBuilder) -> (FakeOrg, Result<CollectOutcome, CollectError>) {
    let fake = builder.start();
    let result = collect(&options(&fake)).await;
    (fake, result)
}

async fn snapshot_of(builder: FakeOrgBuilder) -> (FakeOrg, Snapshot) {
    let (fake, result) = run(builder).await;
    let outcome = result.unwrap_or_else(|e| panic!("collection failed: {e}"));
    (fake, outcome.snapshot)
}

fn healthy() -> FakeOrgBuilder {
    FakeOrg::builder("healthy")
}

fn user<'a>(s: &'a Snapshot, username: &str) -> &'a eci_audit::snapshot::User {
    s.users
        .items()
        .iter()
        .find(|u| u.username == username)
        .unwrap_or_else(|| panic!("user {username} not collected"))
}

// ---------------------------------------------------------------------------------------------
// Healthy org

#[test]
fn healthy_org_gives_the_expected_facts() {
    let fake = healthy().start();
    let opts = with_aircall(options(&fake), &fake);
    // The blocking wrapper, from a thread without a runtime (as the CLI calls it).
    let CollectOutcome { snapshot: s, stats } = collect_blocking(&opts).expect("collection");

    // Provenance.
    assert_eq!(s.source.kind, SourceKind::LiveOrg);
    assert_eq!(s.source.org_id.as_deref(), Some("00DXX0000000001EAA"));
    assert_eq!(s.source.instance_url.as_deref(), Some(fake.url()));
    assert_eq!(
        s.source.api_version.as_deref(),
        Some("66.0"),
        "highest version ≤ 66.0 of the org's"
    );
    assert_eq!(
        s.source.tool_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(s.source.collected_at.is_some());
    assert_eq!(
        s.source.auditing_user.as_deref(),
        Some("auditor@acme.example")
    );
    assert_eq!(s.source.integration_user.as_deref(), Some(INTEGRATION_USER));
    assert!(
        s.source.missing_permissions.is_empty(),
        "{:?}",
        s.source.missing_permissions
    );

    // Org.
    assert_eq!(s.org.id.as_deref(), Some("00DXX0000000001EAA"));
    assert_eq!(s.org.edition.as_deref(), Some("Enterprise Edition"));
    assert_eq!(s.org.my_domain.as_deref(), Some(MY_DOMAIN));
    assert_eq!(s.org.instance_url.as_deref(), Some(fake.url()));
    assert_eq!(s.org.eci_enabled, Some(true));
    assert_eq!(s.org.voice_call_object_available, Some(true));
    let packages = s.org.installed_packages.available().unwrap();
    assert_eq!(packages.len(), 1);
    assert_eq!(packages[0].name, "Voice Connector");
    assert_eq!(packages[0].namespace.as_deref(), Some("vcon"));
    assert_eq!(packages[0].version.as_deref(), Some("2.4.0.1"));

    // Users: the integration user, the site guest user and the site contact / default owner.
    let users = s.users.available().unwrap();
    assert_eq!(users.len(), 3, "{users:#?}");
    let integration = user(&s, INTEGRATION_USER);
    assert_eq!(
        integration.profile_name.as_deref(),
        Some("System Administrator")
    );
    assert_eq!(integration.is_active, Some(true));
    assert_eq!(
        integration.source,
        Some(Origin::Record {
            object: "User".into(),
            id: Some("005XX0000000001AAA".into())
        })
    );
    assert_eq!(
        user(&s, "voiceconnector-guest@acme.example")
            .user_type
            .as_deref(),
        Some("Guest")
    );
    assert_eq!(
        user(&s, "admin@acme.example").profile_name.as_deref(),
        Some("System Administrator")
    );
    assert!(
        s.profiles
            .available()
            .unwrap()
            .iter()
            .any(|p| p.name == "System Administrator")
    );

    // Assignments of the integration and guest users, with their permission sets.
    let assignments = s.permission_set_assignments.available().unwrap();
    assert_eq!(assignments.len(), 6);
    let sets = s.permission_sets.available().unwrap();
    let ciiu = sets.iter().find(|p| p.id == "0PSXX0000000003AAA").unwrap();
    assert_eq!(
        ciiu.label.as_deref(),
        Some("Conversation Insights Integration User")
    );
    assert_eq!(ciiu.ci_partner_integration_user, Some(true));
    let profile_set = sets.iter().find(|p| p.id == "0PSXX0000000001AAA").unwrap();
    assert_eq!(profile_set.is_owned_by_profile, Some(true));
    assert_eq!(profile_set.api_enabled, Some(true));
    assert!(sets.iter().any(|p| p.call_coaching_user == Some(true)));
    assert!(sets.iter().all(|p| p.not_collected.is_empty()));

    // VoiceCall object permissions only.
    let ops = s.object_permissions.available().unwrap();
    assert_eq!(ops.len(), 2);
    assert!(ops.iter().all(|o| o.object == "VoiceCall"));

    // Connected app: readMetadata merged with the SOQL row whose Name is the label.
    let apps = s.connected_apps.available().unwrap();
    let app = apps
        .iter()
        .find(|a| a.full_name == "ECIConnectedApp")
        .unwrap();
    assert_eq!(app.id.as_deref(), Some("0H4XX0000000001AAA"));
    assert_eq!(app.label.as_deref(), Some("ECI Connected App"));
    assert_eq!(app.admin_approved_users_only, Some(true));
    assert_eq!(
        app.source,
        Some(Origin::Metadata {
            r#type: "ConnectedApp".into(),
            full_name: "ECIConnectedApp".into()
        })
    );
    let oauth = app.oauth_config.as_ref().unwrap();
    assert_eq!(
        oauth.scopes.as_deref(),
        Some(
            &[
                "Api".to_string(),
                "Web".into(),
                "RefreshToken".into(),
                "Content".into()
            ][..]
        )
    );
    assert_eq!(
        oauth.callback_url.as_deref(),
        Some("https://acme.my.salesforce.com/services/authcallback/ECIAuthProvider")
    );
    assert_eq!(
        oauth.consumer_key_fingerprint.as_deref(),
        Some(fingerprint("3MVG9FAKECONSUMERKEY.healthy").as_str())
    );
    assert_eq!(
        app.oauth_policy.as_ref().unwrap().ip_relaxation.as_deref(),
        Some("BYPASS")
    );
    assert_eq!(
        app.profile_names.as_deref(),
        Some(&["Standard User".to_string(), "System Administrator".into()][..])
    );
    // Every other app is collected by name, for near misses, with its metadata facts marked.
    let cli = apps
        .iter()
        .find(|a| a.full_name == "Salesforce CLI")
        .unwrap();
    assert!(matches!(cli.source, Some(Origin::Record { .. })));
    assert!(cli.not_collected["oauth_config"].contains("not requested"));

    // Auth providers and named credentials: every name, the guide's ones complete.
    let providers = s.auth_providers.available().unwrap();
    assert_eq!(providers.len(), 2);
    let eci = providers
        .iter()
        .find(|p| p.full_name == "ECIAuthProvider")
        .unwrap();
    assert_eq!(eci.id.as_deref(), Some("0SOXX0000000001AAA"));
    assert_eq!(eci.provider_type.as_deref(), Some("Salesforce"));
    assert_eq!(eci.consumer_key_fingerprint, oauth.consumer_key_fingerprint);
    let ncs = s.named_credentials.available().unwrap();
    assert_eq!(ncs.len(), 3);
    let aircall = ncs.iter().find(|n| n.full_name == "Aircall").unwrap();
    assert_eq!(aircall.protocol.as_deref(), Some("Password"));
    assert_eq!(aircall.username.as_deref(), Some("fake-aircall-api-id"));
    assert_eq!(aircall.allow_merge_fields_in_header, Some(true));
    let eci_nc = ncs
        .iter()
        .find(|n| n.full_name == "ECINamedCredential")
        .unwrap();
    assert_eq!(eci_nc.auth_provider.as_deref(), Some("ECIAuthProvider"));
    assert_eq!(
        eci_nc.oauth_scope.as_deref(),
        Some("refresh_token web api content")
    );
    assert_eq!(eci_nc.id.as_deref(), Some("0XAXX0000000002AAA"));
    let other = ncs.iter().find(|n| n.full_name == "Billing_API").unwrap();
    assert!(other.not_collected.contains_key("protocol"));

    // Sites: metadata-only facts and SOQL Ids merged; the users they point at are collected.
    let sites = s.sites.available().unwrap();
    assert_eq!(sites.len(), 2);
    let site = sites
        .iter()
        .find(|x| x.full_name == "VoiceConnector")
        .unwrap();
    assert_eq!(site.active, Some(true));
    assert_eq!(site.index_page.as_deref(), Some("SiteLogin"));
    assert_eq!(site.status.as_deref(), Some("Active"));
    assert_eq!(site.guest_user_id.as_deref(), Some("005XX0000000002AAA"));
    assert_eq!(site.site_admin.as_deref(), Some("005XX0000000003AAA"));
    assert_eq!(
        site.guest_record_default_owner.as_deref(),
        Some("005XX0000000003AAA")
    );
    assert_eq!(
        site.locations.get("status"),
        Some(&Origin::Record {
            object: "Site".into(),
            id: Some("0DMXX0000000001AAA".into())
        })
    );
    for id in [
        &site.site_admin,
        &site.guest_record_default_owner,
        &site.guest_user_id,
    ] {
        let id = id.as_deref().unwrap();
        assert!(users.iter().any(|u| u.id == id), "{id} not in users");
    }
    assert_eq!(s.domains.available().unwrap().len(), 2);

    // Aircall.
    let check = s.aircall.as_ref().unwrap();
    assert_eq!(check.ping_ok, Some(true));
    assert_eq!(check.api_id.as_deref(), Some("fake-aircall-api-id"));

    // Cost: 5 composites (2 of them the run-time reads) + Tooling + describe + 9 readMetadata
    // (five components and the External Client App's four parts) + 2 listMetadata, then the
    // Tooling Composite of the profiles' API names, count; versions, userinfo and the Aircall
    // ping do not.
    assert_eq!(stats.http_requests, 22, "{stats:?}");
    assert_eq!(stats.api_calls, 19, "{stats:?}");
    assert_eq!(stats.retries, 0);
    assert_eq!(stats.phases, 3);
    let usage = stats.api_usage.unwrap();
    assert_eq!(usage.allowed, 100_000);
    assert!(usage.used > 1200);

    // The snapshot file round-trips through the loader.
    let json = serde_json::to_vec(&s).unwrap();
    let back =
        eci_audit::snapshot::parse_snapshot(&json, std::path::Path::new("live.json")).unwrap();
    assert_eq!(back, s);
}

#[tokio::test]
async fn candidates_are_detected_without_an_integration_username() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.integration_user = None;
    let outcome = collect(&opts).await.unwrap();
    let s = outcome.snapshot;
    assert_eq!(s.source.integration_user, None);
    // Both holders of "Conversation Insights Integration User" are candidates (the guest user
    // too: telling them apart is the rules' job), with their assignments.
    let users = s.users.available().unwrap();
    assert!(users.iter().any(|u| u.username == INTEGRATION_USER));
    assert!(
        users
            .iter()
            .any(|u| u.username == "voiceconnector-guest@acme.example")
    );
    assert!(!users.iter().any(|u| u.username == "rep@acme.example"));
    let assignments = s.permission_set_assignments.available().unwrap();
    assert!(
        assignments
            .iter()
            .any(|a| a.assignee_id == "005XX0000000001AAA"
                && a.permission_set_id == "0PSXX0000000004AAA")
    );
    // The profile sets came with the assignments: the one follow-up wave only looks the
    // profiles up by API name.
    assert_eq!(outcome.stats.phases, 3);
    let candidate_query = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/composite"))
        .any(|r| r.body.contains("PermissionSet.Label+IN"));
    assert!(candidate_query);
}

#[tokio::test]
async fn candidates_profile_sets_are_fetched_when_not_assigned() {
    // Profile-owned sets not returned as assignments: one follow-up query.
    let fake = healthy()
        .latency(Duration::from_millis(100))
        .remove_record("0PaXX0000000001AAA")
        .remove_record("0PaXX0000000004AAA")
        .start();
    let mut opts = options(&fake);
    opts.integration_user = None;
    let outcome = collect(&opts).await.unwrap();
    let sets = outcome.snapshot.permission_sets.into_items();
    let profile_set = sets
        .iter()
        .find(|p| p.id == "0PSXX0000000001AAA")
        .expect("profile set fetched");
    assert_eq!(profile_set.api_enabled, Some(true));
    assert_eq!(outcome.stats.phases, 3);
    assert_eq!(fake.waves(), 3);
}

#[tokio::test]
async fn zero_rows_prove_absence() {
    let (_fake, s) = snapshot_of(
        healthy()
            .without_records("ConnectedApplication")
            .without_records("SetupEntityAccess")
            .without_metadata("ConnectedApp", "ECIConnectedApp"),
    )
    .await;
    assert_eq!(s.connected_apps.available().unwrap().len(), 0);
}

#[tokio::test]
async fn a_missing_integration_user_is_collected_as_absent() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.integration_user = Some("nobody@acme.example".into());
    let s = collect(&opts).await.unwrap().snapshot;
    let users = s.users.available().unwrap();
    assert!(!users.iter().any(|u| u.username == "nobody@acme.example"));
    assert!(
        users
            .iter()
            .any(|u| u.username == "voiceconnector-guest@acme.example")
    );
}

#[tokio::test]
async fn describe_404_means_no_voice_call_object() {
    let (_fake, s) = snapshot_of(healthy().without_sobject("VoiceCall")).await;
    assert_eq!(s.org.voice_call_object_available, Some(false));
}

#[tokio::test]
async fn fixed_api_version_skips_the_versions_request() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.api_version = Some("62.0".into());
    let outcome = collect(&opts).await.unwrap();
    assert_eq!(outcome.snapshot.source.api_version.as_deref(), Some("62.0"));
    // The reads, then the profiles by API name.
    assert_eq!(outcome.stats.phases, 2);
    let requests = fake.requests();
    assert!(!requests.iter().any(|r| r.path == "/services/data/"));
    assert!(
        requests
            .iter()
            .filter(
                |r| r.path.starts_with("/services/data/") || r.path.starts_with("/services/Soap/")
            )
            .all(|r| r.path.contains("v62.0") || r.path.contains("/m/62.0")),
        "{requests:#?}"
    );
}

#[tokio::test]
async fn large_results_are_paged_with_next_records_url() {
    let (fake, s) = snapshot_of(healthy().page_size(1)).await;
    assert_eq!(s.object_permissions.available().unwrap().len(), 2);
    assert_eq!(s.domains.available().unwrap().len(), 2);
    assert_eq!(s.named_credentials.available().unwrap().len(), 3);
    assert_eq!(s.sites.available().unwrap().len(), 2);
    let pages = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/services/data/v66.0/query/01g"))
        .count();
    assert!(pages >= 5, "{pages} pages");
}

// ---------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn invalid_field_is_retried_without_the_eci_fields() {
    let fake = healthy()
        .latency(Duration::from_millis(100))
        .fault(Fault::InvalidField {
            field: "PermissionsCallCoachingUser".into(),
        })
        .start();
    let outcome = collect(&options(&fake)).await.unwrap();
    let s = &outcome.snapshot;
    let sets = s.permission_sets.available().unwrap();
    assert!(!sets.is_empty());
    for set in sets {
        let reason = &set.not_collected["call_coaching_user"];
        assert!(reason.starts_with("INVALID_FIELD"), "{reason}");
        assert!(reason.contains("PermissionsCallCoachingUser"), "{reason}");
        assert_eq!(set.call_coaching_user, None);
    }
    // What does not depend on the missing field is still there.
    let profile_set = sets.iter().find(|p| p.id == "0PSXX0000000001AAA").unwrap();
    assert_eq!(profile_set.api_enabled, Some(true));
    assert_eq!(s.permission_set_assignments.available().unwrap().len(), 6);
    // The retry, then the profiles (whose Ids the retried user queries give) by API name.
    assert_eq!(outcome.stats.phases, 4);
    assert_eq!(fake.waves(), 4);
}

#[tokio::test]
async fn invalid_type_marks_only_that_collection() {
    let (_fake, s) = snapshot_of(healthy().fault(Fault::InvalidType {
        object: "Domain".into(),
    }))
    .await;
    let reason = s.domains.available().unwrap_err();
    assert!(reason.starts_with("INVALID_TYPE"), "{reason}");
    assert!(
        reason.contains("/services/data/v66.0/composite"),
        "{reason}"
    );
    assert!(s.sites.available().is_ok());
    assert!(s.users.available().is_ok());
    assert!(
        s.source
            .missing_permissions
            .iter()
            .any(|m| m.starts_with("SOQL Domain: INVALID_TYPE"))
    );
}

#[tokio::test]
async fn refused_connected_application_soql_falls_back_to_read_metadata() {
    let (_fake, s) = snapshot_of(healthy().fault(Fault::InvalidType {
        object: "ConnectedApplication".into(),
    }))
    .await;
    let apps = s.connected_apps.available().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].full_name, "ECIConnectedApp");
    assert_eq!(apps[0].id, None);
    assert!(
        s.source
            .missing_permissions
            .iter()
            .any(|m| m.starts_with("SOQL ConnectedApplication: INVALID_TYPE")),
        "{:?}",
        s.source.missing_permissions
    );
}

#[tokio::test]
async fn insufficient_access_on_setup_entity_access_keeps_the_metadata_list() {
    let (_fake, s) = snapshot_of(healthy().fault(Fault::InsufficientAccess {
        object: "SetupEntityAccess".into(),
    }))
    .await;
    let app = s
        .connected_apps
        .items()
        .iter()
        .find(|a| a.full_name == "ECIConnectedApp")
        .unwrap();
    assert_eq!(
        app.profile_names.as_deref(),
        Some(&["Standard User".to_string(), "System Administrator".into()][..])
    );
    assert!(
        s.source
            .missing_permissions
            .contains(&"SOQL SetupEntityAccess: INSUFFICIENT_ACCESS".to_string()),
        "{:?}",
        s.source.missing_permissions
    );
}

#[tokio::test]
async fn soap_insufficient_access_marks_metadata_fields() {
    let (_fake, s) = snapshot_of(healthy().fault(Fault::ReadMetadataRefused {
        metadata_type: "ConnectedApp".into(),
        code: "INSUFFICIENT_ACCESS".into(),
    }))
    .await;
    let apps = s.connected_apps.available().unwrap();
    let app = apps
        .iter()
        .find(|a| a.id.as_deref() == Some("0H4XX0000000001AAA"))
        .unwrap();
    let reason = &app.not_collected["oauth_config"];
    assert!(reason.starts_with("INSUFFICIENT_ACCESS"), "{reason}");
    assert!(reason.contains("/services/Soap/m/66.0"), "{reason}");
    // AppMenuItem settles the API name.
    assert!(!app.not_collected.contains_key("full_name"));
    // SetupEntityAccess still gives the access list.
    assert_eq!(
        app.profile_names.as_deref(),
        Some(&["System Administrator".to_string(), "Standard User".into()][..])
    );
    assert!(
        !app.not_collected
            .contains_key(&ConnectedAppField::profile_names)
    );
    assert_eq!(app.admin_approved_users_only, Some(true));
    assert!(
        s.source
            .missing_permissions
            .iter()
            .any(|m| m.starts_with("readMetadata ConnectedApp: INSUFFICIENT_ACCESS"))
    );
    // Other types are unaffected.
    let site = s
        .sites
        .items()
        .iter()
        .find(|x| x.full_name == "VoiceConnector")
        .unwrap();
    assert_eq!(site.index_page.as_deref(), Some("SiteLogin"));
}

#[tokio::test]
async fn settings_fault_leaves_eci_enabled_not_collected() {
    let (_fake, s) = snapshot_of(healthy().fault(Fault::ReadMetadataRefused {
        metadata_type: "ConversationalIntelligenceSettings".into(),
        code: "INSUFFICIENT_ACCESS".into(),
    }))
    .await;
    assert_eq!(s.org.eci_enabled, None);
    assert!(s.org.not_collected["eci_enabled"].starts_with("INSUFFICIENT_ACCESS"));
}

#[tokio::test]
async fn expired_session_is_a_clear_error() {
    let (_fake, result) = run(healthy().fault(Fault::Unauthorized)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, CollectError::SessionExpired { .. }),
        "{err:?}"
    );
    // The exact hint, then the request that was refused (method and path, nothing more).
    let text = err.to_string();
    let endpoint = text
        .strip_prefix("session expired or invalid — log in again (sf org login web) [")
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{text}"));
    let (method, path) = endpoint.split_once(' ').unwrap();
    assert!(method == "GET" || method == "POST", "{text}");
    assert!(path.starts_with("/services/"), "{text}");
    assert!(
        !path.contains(['?', ' ']) && !path.contains("127.0.0.1"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_token_is_a_clear_error() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.auth = AuthMethod::AccessToken {
        instance_url: fake.url().to_string(),
        token: Secret::new("00DXX!stale-token-value"),
    };
    let err = collect(&opts).await.unwrap_err();
    assert!(
        matches!(err, CollectError::SessionExpired { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn request_limit_exceeded_stops_the_collection() {
    let (_fake, result) = run(healthy().fault(Fault::RequestLimitExceeded)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, CollectError::RequestLimitExceeded { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("REQUEST_LIMIT_EXCEEDED"), "{text}");
    assert!(text.contains("/services/data/v66.0/"), "{text}");
}

#[tokio::test]
async fn service_unavailable_is_retried() {
    let fake = healthy()
        .fault(Fault::ServiceUnavailable {
            path: "/composite".into(),
            times: 2,
        })
        .start();
    let outcome = collect(&options(&fake)).await.unwrap();
    assert_eq!(outcome.stats.retries, 2);
    assert!(outcome.snapshot.users.available().is_ok());
    assert!(outcome.snapshot.domains.available().is_ok());
}

#[tokio::test]
async fn service_unavailable_beyond_the_retries_marks_the_facts() {
    let fake = healthy()
        .fault(Fault::ServiceUnavailable {
            path: "/tooling/query".into(),
            times: 100,
        })
        .start();
    let outcome = collect(&options(&fake)).await.unwrap();
    let reason = outcome
        .snapshot
        .org
        .installed_packages
        .available()
        .unwrap_err();
    assert!(reason.contains("SERVER_UNAVAILABLE"), "{reason}");
    assert!(
        reason.contains("/services/data/v66.0/tooling/query/"),
        "{reason}"
    );
    assert_eq!(outcome.stats.retries, 3);
}

#[tokio::test]
async fn a_truncated_body_is_retried() {
    let fake = healthy()
        .fault(Fault::Truncated {
            path: "/tooling/query".into(),
            times: 1,
        })
        .start();
    let outcome = collect(&options(&fake)).await.unwrap();
    assert_eq!(
        outcome
            .snapshot
            .org
            .installed_packages
            .available()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(outcome.stats.retries, 1);
}

#[tokio::test]
async fn a_body_truncated_every_time_marks_the_facts() {
    let fake = healthy()
        .fault(Fault::Truncated {
            path: "/composite".into(),
            times: 1000,
        })
        .start();
    let s = collect(&options(&fake)).await.unwrap().snapshot;
    for reason in [
        s.users.available().unwrap_err(),
        s.domains.available().unwrap_err(),
    ] {
        assert!(reason.contains("truncated"), "{reason}");
        assert!(
            reason.contains("/services/data/v66.0/composite"),
            "{reason}"
        );
    }
    assert!(s.org.not_collected["id"].contains("truncated"));
    // readMetadata still proves the guide's components (without the SOQL names and Ids).
    let sites = s.sites.available().unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].id, None);
    assert!(matches!(s.sites.source, Some(Origin::Metadata { .. })));
    assert!(s.connected_apps.available().is_ok());
}

#[tokio::test]
async fn invalid_json_marks_the_facts() {
    let (_fake, s) = snapshot_of(healthy().fault(Fault::InvalidJson {
        path: "/composite".into(),
    }))
    .await;
    let reason = s.users.available().unwrap_err();
    assert!(
        reason.contains("invalid JSON from /services/data/v66.0/composite"),
        "{reason}"
    );
    assert!(s.permission_set_assignments.available().is_err());
    assert!(s.object_permissions.available().is_err());
    assert!(s.domains.available().is_err());
}

#[tokio::test]
async fn invalid_soap_body_marks_the_metadata_facts() {
    let (_fake, s) = snapshot_of(healthy().fault(Fault::InvalidJson {
        path: "/services/Soap/".into(),
    }))
    .await;
    let reason = &s.org.not_collected["eci_enabled"];
    assert!(reason.contains("/services/Soap/m/66.0"), "{reason}");
    let site = s
        .sites
        .items()
        .iter()
        .find(|x| x.full_name == "VoiceConnector")
        .unwrap();
    assert!(site.not_collected.contains_key("index_page"));
}

#[tokio::test]
async fn aircall_rate_limit_waits_for_the_reset() {
    let fake = healthy()
        .fault(Fault::Aircall429 {
            times: 1,
            reset_in_secs: 1,
        })
        .start();
    let opts = with_aircall(options(&fake), &fake);
    let s = collect(&opts).await.unwrap().snapshot;
    assert_eq!(s.aircall.unwrap().ping_ok, Some(true));
    let pings: Vec<RecordedRequest> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/ping")
        .collect();
    assert_eq!(pings.len(), 2);
    assert_eq!(pings[0].status, 429);
    assert_eq!(pings[0].auth_scheme, "Basic");
}

#[tokio::test]
async fn aircall_rate_limit_beyond_the_retries_is_unknown() {
    let fake = healthy()
        .fault(Fault::Aircall429 {
            times: 100,
            reset_in_secs: 0,
        })
        .start();
    let s = collect(&with_aircall(options(&fake), &fake))
        .await
        .unwrap()
        .snapshot;
    let check = s.aircall.unwrap();
    assert_eq!(check.ping_ok, None);
    assert!(check.detail.unwrap().contains("429"));
}

#[tokio::test]
async fn a_refused_aircall_key_is_a_failed_ping() {
    let fake = healthy().start();
    let mut opts = with_aircall(options(&fake), &fake);
    opts.aircall.as_mut().unwrap().api_token = Secret::new("a-revoked-aircall-token");
    let s = collect(&opts).await.unwrap().snapshot;
    let check = s.aircall.unwrap();
    assert_eq!(check.ping_ok, Some(false));
    assert!(check.detail.unwrap().starts_with("401"));
}

#[tokio::test]
async fn without_aircall_credentials_there_is_no_check() {
    let (fake, s) = snapshot_of(healthy()).await;
    assert!(s.aircall.is_none());
    assert!(!fake.requests().iter().any(|r| r.path == "/v1/ping"));
}

// ---------------------------------------------------------------------------------------------
// Read-only proof, secrets, phases, plan

/// Every request the collector sent is a read: a GET without a body, a token request, a
/// Composite whose subrequests are all GETs, or a readMetadata/listMetadata call.
fn assert_read_only(requests: &[RecordedRequest]) {
    assert!(!requests.is_empty());
    let operation = regex::Regex::new(r"<(?:\w+:)?Body>\s*<(?:\w+:)?(\w+)").unwrap();
    for r in requests {
        match r.method.as_str() {
            "GET" => assert!(r.body.is_empty(), "GET with a body: {r:?}"),
            "POST" if r.path == "/services/oauth2/token" => {}
            "POST" if r.path.starts_with("/services/data/v") && r.path.ends_with("/composite") => {
                let body: Value = serde_json::from_str(&r.body).unwrap();
                let subs = body["compositeRequest"].as_array().unwrap();
                assert!(!subs.is_empty() && subs.len() <= 5, "{r:?}");
                for sub in subs {
                    assert_eq!(sub["method"], "GET", "{r:?}");
                    assert!(sub.get("body").is_none(), "{r:?}");
                    assert!(sub["url"].as_str().unwrap().contains("/query/?q="), "{r:?}");
                }
            }
            "POST" if r.path.starts_with("/services/Soap/m/") => {
                let op = operation
                    .captures(&r.body)
                    .map(|c| c[1].to_string())
                    .unwrap();
                assert!(op == "readMetadata" || op == "listMetadata", "{op}: {r:?}");
            }
            _ => panic!("not a read: {} {}", r.method, r.path),
        }
    }
}

#[tokio::test]
async fn every_request_is_a_read() {
    let fake = healthy().start();
    collect(&with_aircall(options(&fake), &fake)).await.unwrap();
    // And with retries and follow-ups.
    let faulty = healthy()
        .fault(Fault::InvalidField {
            field: "PermissionsCIPartnerIntegrationUser".into(),
        })
        .fault(Fault::ServiceUnavailable {
            path: "/services/Soap/".into(),
            times: 1,
        })
        .page_size(1)
        .start();
    let mut opts = options(&faulty);
    opts.integration_user = None;
    collect(&opts).await.unwrap();
    let mut requests = fake.requests();
    requests.extend(faulty.requests());
    assert_read_only(&requests);
}

#[tokio::test]
async fn no_secret_reaches_the_snapshot_or_errors() {
    const TOKEN: &str = "00DXX0000000001!AQ4AQPlantedAccessToken.abcdefghij";
    const CONSUMER_SECRET: &str = "PLANTED-CONSUMER-SECRET-1234567890";
    const PASSWORD: &str = "PLANTED-NC-PASSWORD-0987654321";
    const AIRCALL_TOKEN: &str = "PLANTED-AIRCALL-TOKEN-5555";
    let app = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>{TOKEN}</contactEmail>
    <description>{TOKEN}</description>
    <label>ECI Connected App {TOKEN}</label>
    <oauthConfig>
        <callbackUrl>https://acme.my.salesforce.com/services/authcallback/ECIAuthProvider</callbackUrl>
        <consumerKey>3MVG9FAKECONSUMERKEY.healthy</consumerKey>
        <consumerSecret>{CONSUMER_SECRET}</consumerSecret>
        <isAdminApproved>true</isAdminApproved>
        <scopes>Api</scopes>
    </oauthConfig>
</ConnectedApp>"#
    );
    let nc = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<NamedCredential xmlns="http://soap.sforce.com/2006/04/metadata">
    <endpoint>https://api.aircall.io</endpoint>
    <label>Aircall</label>
    <oauthToken>{TOKEN}</oauthToken>
    <password>{PASSWORD}</password>
    <principalType>NamedUser</principalType>
    <protocol>Password</protocol>
    <username>fake-aircall-api-id</username>
</NamedCredential>"#
    );
    let provider = format!(
        r#"<AuthProvider xmlns="http://soap.sforce.com/2006/04/metadata"><consumerKey>k</consumerKey><consumerSecret>{CONSUMER_SECRET}</consumerSecret><providerType>Salesforce</providerType></AuthProvider>"#
    );
    let fake = healthy()
        .access_token(TOKEN)
        .aircall_token(AIRCALL_TOKEN)
        .metadata_xml("ConnectedApp", "ECIConnectedApp", &app)
        .metadata_xml("NamedCredential", "Aircall", &nc)
        .metadata_xml("AuthProvider", "ECIAuthProvider", &provider)
        .start();
    let mut opts = options(&fake);
    opts.auth = AuthMethod::AccessToken {
        instance_url: fake.url().to_string(),
        token: Secret::new(TOKEN),
    };
    opts.aircall = Some(AircallCredentials {
        api_id: "fake-aircall-api-id".into(),
        api_token: Secret::new(AIRCALL_TOKEN),
        base_url: fake.url().to_string(),
    });
    let secrets = [TOKEN, CONSUMER_SECRET, PASSWORD, AIRCALL_TOKEN];
    let assert_clean = |what: &str, text: &str| {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} leaks a secret: {text}");
        }
    };
    assert_clean("options", &format!("{opts:?}"));
    assert_clean("plan", &format!("{:?}", plan(&opts)));

    let outcome = collect(&opts).await.unwrap();
    let json = serde_json::to_string_pretty(&outcome.snapshot).unwrap();
    assert_clean("snapshot", &json);
    assert!(
        json.contains("[REDACTED]"),
        "the planted token in contactEmail is scrubbed"
    );
    assert_eq!(
        outcome.snapshot.aircall.as_ref().unwrap().ping_ok,
        Some(true)
    );
    assert_clean("stats", &format!("{:?}", outcome.stats));

    // Errors carry no secret either.
    for fault in [Fault::Unauthorized, Fault::RequestLimitExceeded] {
        let failing = healthy().access_token(TOKEN).fault(fault).start();
        let mut opts = opts.clone();
        opts.auth = AuthMethod::AccessToken {
            instance_url: failing.url().to_string(),
            token: Secret::new(TOKEN),
        };
        let err = collect(&opts).await.unwrap_err();
        assert_clean("error", &format!("{err} {err:?}"));
    }
    let failing = healthy().start();
    let mut opts = options(&failing);
    opts.auth = AuthMethod::ClientCredentials {
        client_id: failing.credentials().client_id.clone(),
        client_secret: Secret::new(CONSUMER_SECRET),
        login_url: failing.url().to_string(),
    };
    let err = collect(&opts).await.unwrap_err();
    assert_clean("token error", &format!("{err} {err:?}"));
}

#[tokio::test]
async fn collection_takes_at_most_three_phases_under_latency() {
    let fake = healthy().latency(Duration::from_millis(100)).start();
    let outcome = collect(&with_aircall(options(&fake), &fake)).await.unwrap();
    assert_eq!(outcome.stats.phases, 3);
    assert_eq!(fake.waves(), 3, "{:#?}", fake.requests());
    // The first wave is the versions resource with userinfo and the ping; the second holds
    // everything else but the profiles' API names, the third (one Tooling Composite).
    let requests = fake.requests();
    let first = &requests[..3];
    let mut first_paths: Vec<&str> = first.iter().map(|r| r.path.as_str()).collect();
    first_paths.sort_unstable();
    assert_eq!(
        first_paths,
        ["/services/data/", "/services/oauth2/userinfo", "/v1/ping"]
    );
    let last = requests.last().unwrap();
    assert!(last.path.ends_with("/tooling/composite"), "{last:?}");
    assert_eq!(
        waves(&requests[3..requests.len() - 1]),
        1,
        "phase 2 is one wave"
    );

    // With a field retry, one more wave and no more.
    let fake = healthy()
        .latency(Duration::from_millis(100))
        .fault(Fault::InvalidField {
            field: "PermissionsCallCoachingUser".into(),
        })
        .start();
    let outcome = collect(&options(&fake)).await.unwrap();
    assert_eq!(outcome.stats.phases, 4);
    assert!(fake.waves() <= 4);
}

#[tokio::test]
async fn the_plan_is_what_the_collection_sends() {
    let fake = healthy().start();
    let opts = with_aircall(options(&fake), &fake);
    let planned = plan(&opts).unwrap();
    collect(&opts).await.unwrap();
    let key = |method: &str, path: &str| format!("{method} {path}");
    let mut planned_keys: Vec<String> = planned
        .iter()
        .map(|p| {
            key(
                if p.method == HttpMethod::Get {
                    "GET"
                } else {
                    "POST"
                },
                &p.path,
            )
        })
        .collect();
    // The follow-up wave depends on the answers (the profile Ids): it is not in the plan's
    // requests.
    let mut sent_keys: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| !r.path.ends_with("/tooling/composite"))
        .map(|r| key(&r.method, &r.path))
        .collect();
    planned_keys.sort();
    sent_keys.sort();
    assert_eq!(planned_keys, sent_keys);
    // The planned SOQL is the SOQL sent.
    let mut planned_soql: Vec<String> = planned.iter().flat_map(|p| p.soql.clone()).collect();
    let mut sent_soql: Vec<String> = Vec::new();
    for r in fake.requests() {
        if r.path.ends_with("/tooling/composite") {
            continue;
        }
        if r.path.ends_with("/composite") {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            for sub in body["compositeRequest"].as_array().unwrap() {
                let url = sub["url"].as_str().unwrap();
                let query = url.split_once('?').unwrap().1;
                let q = url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "q")
                    .unwrap()
                    .1;
                sent_soql.push(q.into_owned());
            }
        } else if let Some(q) = r.soql() {
            sent_soql.push(q);
        }
    }
    planned_soql.sort();
    sent_soql.sort();
    assert_eq!(planned_soql, sent_soql);
    let printed: Vec<String> = planned.iter().map(ToString::to_string).collect();
    assert!(printed.iter().any(|p| p.contains("FROM Site")));
}

// ---------------------------------------------------------------------------------------------
// Authentication flows

#[tokio::test]
async fn client_credentials_flow() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.auth = AuthMethod::ClientCredentials {
        client_id: fake.credentials().client_id.clone(),
        client_secret: Secret::new(fake.credentials().client_secret.clone()),
        login_url: fake.url().to_string(),
    };
    let outcome = collect(&opts).await.unwrap();
    assert!(outcome.snapshot.users.available().is_ok());
    let token = &fake.requests()[0];
    assert_eq!(
        (token.method.as_str(), token.path.as_str()),
        ("POST", "/services/oauth2/token")
    );
    assert!(token.body.contains("grant_type=client_credentials"));

    opts.auth = AuthMethod::ClientCredentials {
        client_id: fake.credentials().client_id.clone(),
        client_secret: Secret::new("wrong-secret-value"),
        login_url: fake.url().to_string(),
    };
    let err = collect(&opts).await.unwrap_err();
    let CollectError::Auth(AuthError::TokenRefused {
        endpoint,
        status,
        error,
        description,
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (endpoint.as_str(), *status, error.as_str()),
        ("/services/oauth2/token", 400, "invalid_client")
    );
    assert_eq!(description.as_deref(), Some("invalid client credentials"));
    assert!(
        err.to_string()
            .contains("invalid_client: invalid client credentials")
    );
}

fn openssl(args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the JWT test needs the openssl command to make a throwaway RSA key");
    assert!(status.success(), "openssl {args:?}");
}

#[tokio::test]
async fn jwt_bearer_flow_signs_with_pkcs8_and_pkcs1_keys() {
    let dir = tempfile::tempdir().unwrap();
    let pkcs8 = dir.path().join("server.key");
    let pkcs1 = dir.path().join("server-rsa.key");
    let public = dir.path().join("public.der");
    let p = |path: &std::path::Path| path.to_str().unwrap().to_string();
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &p(&pkcs8),
    ]);
    openssl(&["rsa", "-in", &p(&pkcs8), "-traditional", "-out", &p(&pkcs1)]);
    openssl(&[
        "rsa",
        "-in",
        &p(&pkcs8),
        "-RSAPublicKey_out",
        "-outform",
        "DER",
        "-out",
        &p(&public),
    ]);
    let fake = healthy()
        .jwt_public_key(std::fs::read(&public).unwrap())
        .start();
    for key_file in [&pkcs8, &pkcs1] {
        let mut opts = options(&fake);
        opts.auth = AuthMethod::JwtBearer {
            client_id: fake.credentials().client_id.clone(),
            key_file: key_file.clone(),
            username: fake.credentials().jwt_username.clone(),
            login_url: fake.url().to_string(),
            audience: None,
        };
        let outcome = collect(&opts)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", key_file.display()));
        assert!(outcome.snapshot.users.available().is_ok());
    }
    // A key the app does not know is refused by the token endpoint.
    let other = dir.path().join("other.key");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &p(&other),
    ]);
    let mut opts = options(&fake);
    opts.auth = AuthMethod::JwtBearer {
        client_id: fake.credentials().client_id.clone(),
        key_file: other,
        username: fake.credentials().jwt_username.clone(),
        login_url: fake.url().to_string(),
        audience: None,
    };
    let err = collect(&opts).await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    let key_text = std::fs::read_to_string(&pkcs8).unwrap();
    let body_line = key_text.lines().nth(1).unwrap();
    assert!(!format!("{err:?}").contains(body_line));
}

/// The Salesforce CLI is replaced by a script (`ECI_AUDIT_SF_BIN`). All environment changes of
/// this test binary happen in this one test, so no other test can observe them.
#[test]
#[allow(unsafe_code)] // set_var is unsafe in edition 2024; see the SAFETY notes below
fn salesforce_cli_auth() {
    let fake = healthy().start();
    let dir = tempfile::tempdir().unwrap();
    let token = fake.credentials().access_token.clone();
    let script = |name: &str, display_token: &str, show: &str| {
        let path = dir.path().join(name);
        let body = format!(
            r#"#!/bin/sh
case "$2" in
  display) echo '{{"status":0,"result":{{"id":"00DXX0000000001EAA","instanceUrl":"{url}","accessToken":"{display_token}","username":"auditor@acme.example"}},"warnings":[]}}' ;;
  auth) {show} ;;
esac
"#,
            url = fake.url()
        );
        std::fs::write(&path, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    };
    let shows_token = format!(r#"echo '{{"status":0,"result":{{"accessToken":"{token}"}}}}'"#);
    let fails = r#"echo '{"status":1,"name":"UnknownCommand","message":"auth show-access-token is not a sf command."}'; exit 1"#;
    let redacted = "[REDACTED] Use 'sf org auth show-access-token' to view";

    let cases: Vec<(std::path::PathBuf, bool)> = vec![
        (script("sf-current", redacted, &shows_token), true),
        (script("sf-old", &token, fails), true),
        (script("sf-redacted", redacted, fails), false),
    ];
    let run = |program: &std::path::Path| {
        // SAFETY: this is the only test in this binary that reads or writes ECI_AUDIT_SF_BIN;
        // no other thread reads it concurrently.
        unsafe { std::env::set_var("ECI_AUDIT_SF_BIN", program) };
        let mut opts = options(&fake);
        opts.auth = AuthMethod::SfCli {
            target_org: "acme".into(),
        };
        collect_blocking(&opts)
    };
    for (program, works) in cases {
        let result = run(&program);
        if works {
            assert!(result.is_ok(), "{}: {:?}", program.display(), result.err());
        } else {
            let err = result.unwrap_err();
            assert!(
                matches!(err, CollectError::Auth(AuthError::TokenRedacted { .. })),
                "{err:?}"
            );
            assert!(!err.to_string().contains(&token));
        }
    }
    // The CLI's error text is quoted without the credentials it may contain.
    let leaky = dir.path().join("sf-leaky");
    std::fs::write(
        &leaky,
        "#!/bin/sh\necho '{\"status\":1,\"name\":\"AuthError\",\"message\":\"refresh failed for force://PlatformCLI::5Aep861SecretRefreshToken0123@acme.my.salesforce.com\"}'\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&leaky, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let err = run(&leaky).unwrap_err().to_string();
    assert!(err.contains("refresh failed for [REDACTED]"), "{err}");
    assert!(!err.contains("5Aep861"), "{err}");
    // A CLI that never stops printing is cut off at the output limit (and killed).
    let err = run(&script("sf-endless", redacted, "yes")).unwrap_err();
    assert!(
        matches!(err, CollectError::Auth(AuthError::SfOutputTooLarge { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`sf org auth show-access-token --target-org acme --json` printed more than the 1 MiB limit"
    );
    // A CLI that hangs is killed at its timeout.
    let hangs = script("sf-hangs", redacted, "exec sleep 30");
    // SAFETY: as above.
    unsafe { std::env::set_var("ECI_AUDIT_SF_BIN", &hangs) };
    let mut opts = options(&fake);
    opts.auth = AuthMethod::SfCli {
        target_org: "acme".into(),
    };
    opts.limits.sf_cli_timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = collect_blocking(&opts).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(err, CollectError::Auth(AuthError::SfTimeout { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`sf org auth show-access-token --target-org acme --json` did not finish within 0.3 s and was killed"
    );
    let err = run(&dir.path().join("no-such-sf")).unwrap_err();
    assert!(
        matches!(err, CollectError::Auth(AuthError::SfNotFound { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("not found on PATH"), "{err}");
    // SAFETY: as above.
    unsafe { std::env::remove_var("ECI_AUDIT_SF_BIN") };
}

#[tokio::test]
async fn plain_http_is_refused_for_remote_hosts() {
    let mut opts = CollectOptions::new(AuthMethod::AccessToken {
        instance_url: "http://acme.my.salesforce.com".into(),
        token: Secret::new("00Dxx!token-value"),
    });
    opts.timeout = Duration::from_secs(1);
    let err = collect(&opts).await.unwrap_err();
    assert!(
        matches!(err, CollectError::Auth(AuthError::InvalidUrl { .. })),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Review fixes: AIR011 inconclusive, unreachable orgs, CAP001 certainty, plans without secrets,
// bare My Domain hosts, honest paging, URLs and secrets in errors.

fn aircall_check(s: &Snapshot) -> &eci_audit::snapshot::AircallCheck {
    s.aircall.as_ref().expect("the Aircall check ran")
}

#[tokio::test]
async fn an_inconclusive_aircall_ping_is_not_collected_not_failed() {
    // 5xx beyond the retries.
    let fake = healthy()
        .fault(Fault::ServiceUnavailable {
            path: "/v1/ping".into(),
            times: 100,
        })
        .start();
    let s = collect(&with_aircall(options(&fake), &fake))
        .await
        .unwrap()
        .snapshot;
    let check = aircall_check(&s);
    assert_eq!(check.ping_ok, None);
    assert_eq!(
        check.not_collected.get("ping_ok").map(String::as_str),
        Some("HTTP 503 from GET /v1/ping")
    );
    assert_eq!(check.detail.as_deref(), Some("HTTP 503 from GET /v1/ping"));

    // A 200 that is not {"ping":"pong"}.
    let fake = healthy()
        .fault(Fault::InvalidJson {
            path: "/v1/ping".into(),
        })
        .start();
    let s = collect(&with_aircall(options(&fake), &fake))
        .await
        .unwrap()
        .snapshot;
    let check = aircall_check(&s);
    assert_eq!(check.ping_ok, None);
    let reason = &check.not_collected["ping_ok"];
    assert!(reason.starts_with("HTTP 200 from GET /v1/ping"), "{reason}");

    // No answer at all (nothing listens on port 9).
    let fake = healthy().start();
    let mut opts = with_aircall(options(&fake), &fake);
    opts.aircall.as_mut().unwrap().base_url = "http://127.0.0.1:9".into();
    let outcome = collect(&opts).await.unwrap();
    let check = aircall_check(&outcome.snapshot);
    assert_eq!(check.ping_ok, None);
    let reason = &check.not_collected["ping_ok"];
    assert!(
        reason.starts_with("no answer from GET /v1/ping"),
        "{reason}"
    );
    assert_eq!(check.detail.as_deref(), Some(reason.as_str()));
    // The unanswered ping is not counted as a request; every answered one is.
    assert_eq!(
        outcome.stats.http_requests as usize,
        fake.requests().len(),
        "{:?}",
        outcome.stats
    );
}

#[tokio::test]
async fn aircall_429_beyond_the_retries_and_401_are_told_apart() {
    let fake = healthy()
        .fault(Fault::Aircall429 {
            times: 100,
            reset_in_secs: 0,
        })
        .start();
    let s = collect(&with_aircall(options(&fake), &fake))
        .await
        .unwrap()
        .snapshot;
    let check = aircall_check(&s);
    assert_eq!(check.ping_ok, None);
    assert!(
        check.not_collected["ping_ok"].starts_with("HTTP 429 from GET /v1/ping"),
        "{:?}",
        check.not_collected
    );

    let fake = healthy().start();
    let mut opts = with_aircall(options(&fake), &fake);
    opts.aircall.as_mut().unwrap().api_token = Secret::new("a-revoked-aircall-token");
    let s = collect(&opts).await.unwrap().snapshot;
    let check = aircall_check(&s);
    assert_eq!(check.ping_ok, Some(false));
    assert!(check.not_collected.is_empty(), "{:?}", check.not_collected);
}

fn unreachable_options() -> CollectOptions {
    let mut opts = CollectOptions::new(AuthMethod::AccessToken {
        // Nothing listens on the discard port.
        instance_url: "http://127.0.0.1:9".into(),
        token: Secret::new("00DXX!a-token-for-nobody"),
    });
    opts.timeout = Duration::from_secs(2);
    opts.retry = RetryPolicy {
        max_retries: 1,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    opts
}

#[tokio::test]
async fn an_unreachable_org_is_an_error_not_an_empty_snapshot() {
    let mut opts = unreachable_options();
    opts.api_version = Some("62.0".into());
    let err = collect(&opts).await.unwrap_err();
    let CollectError::Transport { endpoint, detail } = &err else {
        panic!("{err:?}")
    };
    assert!(endpoint.starts_with("/services/"), "{endpoint}");
    assert!(
        detail.contains("no HTTP answer from http://127.0.0.1:9"),
        "{detail}"
    );
    assert!(!format!("{err} {err:?}").contains("a-token-for-nobody"));

    // Without --api-version the versions request is the first to find nobody there.
    let err = collect(&unreachable_options()).await.unwrap_err();
    assert!(matches!(err, CollectError::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn read_metadata_proves_the_connected_app_api_name_wrong() {
    // readMetadata answered and has no ECIConnectedApp: the SOQL row `ECI Connected App` is
    // an app with another API name, kept as it is (a near miss for CAP001), not uncertain.
    // (Nor does AppMenuItem name it `ECIConnectedApp`.)
    let (_fake, s) = snapshot_of(
        healthy()
            .without_metadata("ConnectedApp", "ECIConnectedApp")
            .remove_record("0JaXX0000000001AAA"),
    )
    .await;
    let apps = s.connected_apps.available().unwrap();
    assert!(!apps.iter().any(|a| a.full_name == "ECIConnectedApp"));
    let app = apps
        .iter()
        .find(|a| a.id.as_deref() == Some("0H4XX0000000001AAA"))
        .expect("the SOQL row is kept");
    assert_eq!(app.full_name, "ECI Connected App");
    assert!(
        !app.not_collected
            .contains_key(&ConnectedAppField::full_name),
        "{:?}",
        app.not_collected
    );
    assert!(matches!(app.source, Some(Origin::Record { .. })));
}

#[tokio::test]
async fn a_failed_read_metadata_leaves_the_connected_app_api_name_uncertain() {
    // Neither readMetadata nor AppMenuItem answers.
    let (_fake, s) = snapshot_of(
        healthy()
            .fault(Fault::ReadMetadataRefused {
                metadata_type: "ConnectedApp".into(),
                code: "INSUFFICIENT_ACCESS".into(),
            })
            .fault(Fault::InvalidType {
                object: "AppMenuItem".into(),
            }),
    )
    .await;
    let app = s
        .connected_apps
        .items()
        .iter()
        .find(|a| a.id.as_deref() == Some("0H4XX0000000001AAA"))
        .unwrap();
    assert_eq!(app.full_name, "ECI Connected App");
    let reason = &app.not_collected["full_name"];
    assert!(reason.contains("UNCONFIRMED"), "{reason}");
    assert!(reason.contains("INSUFFICIENT_ACCESS"), "{reason}");
    assert!(reason.contains("AppMenuItem: INVALID_TYPE"), "{reason}");
}

#[tokio::test]
async fn app_menu_item_names_the_connected_app_without_read_metadata() {
    // readMetadata refused: AppMenuItem (whose Name is the API name) still settles that the
    // `ECI Connected App` row is `ECIConnectedApp`, and SetupEntityAccess, joined on its Id
    // in code, gives its profiles.
    let (fake, s) = snapshot_of(healthy().fault(Fault::ReadMetadataRefused {
        metadata_type: "ConnectedApp".into(),
        code: "INSUFFICIENT_ACCESS".into(),
    }))
    .await;
    let app = s
        .connected_apps
        .items()
        .iter()
        .find(|a| a.id.as_deref() == Some("0H4XX0000000001AAA"))
        .unwrap();
    assert_eq!(app.full_name, "ECIConnectedApp");
    assert_eq!(app.label.as_deref(), Some("ECI Connected App"));
    assert!(
        !app.not_collected
            .contains_key(&ConnectedAppField::full_name)
    );
    assert!(!app.not_collected.contains_key(&ConnectedAppField::label));
    assert_eq!(
        app.profile_names.as_deref(),
        Some(&["System Administrator".to_string(), "Standard User".into()][..])
    );
    // CAP012's fallback: kind and period from ConnectedApplication, the unit unknown.
    let reason = &app.not_collected["oauth_policy"];
    assert!(
        reason.contains("RefreshTokenValidityPeriod = 365"),
        "{reason}"
    );
    assert!(reason.contains("unit"), "{reason}");
    // No semi-join on ConnectedApplication is sent.
    for r in fake.requests() {
        if let Some(q) = r.soql() {
            assert!(!q.contains("FROM ConnectedApplication WHERE"), "{q}");
        }
        for encoded in ["ConnectedApplication+WHERE", "ConnectedApplication%20WHERE"] {
            assert!(!r.body.contains(encoded), "{}", r.body);
        }
        assert!(!r.body.is_empty() || r.method == "GET");
    }
}

#[tokio::test]
async fn a_plan_needs_no_credential_and_cannot_collect() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.auth = AuthMethod::PlanOnly {
        instance_url: Some(fake.url().to_string()),
        token_flow: None,
    };
    let planned = plan(&opts).unwrap();
    assert!(planned.iter().all(|r| r.base == fake.url()), "{planned:#?}");
    assert!(
        planned
            .iter()
            .any(|r| r.path == "/services/oauth2/userinfo")
    );
    assert!(planned.iter().any(|r| r.path.ends_with("/composite")));
    assert!(planned.iter().all(|r| r.path != "/services/oauth2/token"));
    // The same reads as a plan made with a token.
    let with_token: Vec<String> = plan(&options(&fake))
        .unwrap()
        .iter()
        .map(|r| format!("{r}"))
        .collect();
    let without: Vec<String> = planned.iter().map(|r| format!("{r}")).collect();
    assert_eq!(with_token, without);

    let err = collect(&opts).await.unwrap_err();
    assert!(
        matches!(
            err,
            CollectError::InvalidOption {
                option: "authentication",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    // --client-id: the token request comes first, against the checked login origin.
    for (flow, grant) in [
        (
            eci_audit::collect::TokenFlow::ClientCredentials {
                login_url: format!("{}/", fake.url()),
            },
            "client credentials",
        ),
        (
            eci_audit::collect::TokenFlow::JwtBearer {
                login_url: fake.url().to_string(),
            },
            "JWT bearer",
        ),
    ] {
        opts.auth = AuthMethod::PlanOnly {
            instance_url: None,
            token_flow: Some(flow),
        };
        let planned = plan(&opts).unwrap();
        assert_eq!(planned[0].path, "/services/oauth2/token");
        assert_eq!(planned[0].base, fake.url());
        assert!(planned[0].purpose.contains(grant), "{}", planned[0]);
        assert!(planned[1..].iter().all(|r| r.base == "<instance_url>"));
    }
}

#[tokio::test]
async fn a_bare_my_domain_host_means_https() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.my_domain = Some("acme.my.salesforce.com".into());
    let s = collect(&opts).await.unwrap().snapshot;
    assert_eq!(s.org.my_domain.as_deref(), Some(MY_DOMAIN));
    // Plain http stays refused for a remote host.
    opts.my_domain = Some("http://acme.my.salesforce.com".into());
    assert!(matches!(
        collect(&opts).await.unwrap_err(),
        CollectError::Auth(AuthError::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn further_pages_count_as_phases() {
    let fake = healthy()
        .page_size(1)
        .latency(Duration::from_millis(100))
        .start();
    let outcome = collect(&options(&fake)).await.unwrap();
    assert_eq!(
        outcome.stats.phases as usize,
        fake.waves(),
        "{:?}",
        outcome.stats
    );
    // Three named credentials, one per page: at least two further waves after the reads.
    assert!(outcome.stats.phases >= 4, "{:?}", outcome.stats);
    assert_eq!(
        outcome
            .snapshot
            .named_credentials
            .available()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn a_looping_next_records_url_stops_that_query() {
    let (fake, s) = snapshot_of(healthy().page_size(1).fault(Fault::RepeatNextRecordsUrl {
        object: "Domain".into(),
    }))
    .await;
    let reason = s.domains.available().unwrap_err();
    assert!(reason.contains("nextRecordsUrl"), "{reason}");
    assert!(reason.contains("repeated"), "{reason}");
    // The page was asked for once, then the repeat was noticed.
    let domain_pages = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/query/01g"))
        .count();
    // (The other multi-row queries page too at one row a page: the run-time ones add ~10.)
    assert!(domain_pages <= 20, "{domain_pages}");
    assert_eq!(s.sites.available().unwrap().len(), 2);
    assert_eq!(s.named_credentials.available().unwrap().len(), 3);
}

#[tokio::test]
async fn too_many_pages_end_the_run_naming_the_limit() {
    let mut builder = healthy().page_size(1);
    for i in 0..eci_audit::collect::MAX_PAGES_PER_QUERY + 5 {
        builder = builder.add_record(
            "Domain",
            serde_json::json!({
                "Id": format!("0I4XX{i:010}AAA"),
                "Domain": format!("d{i}.example.com"),
                "DomainType": "DNS",
                "HttpsOption": "OrgDomain"
            }),
        );
    }
    let fake = builder.start();
    let err = collect(&options(&fake)).await.unwrap_err();
    assert!(
        matches!(err, CollectError::TooManyPages { limit, .. } if limit == eci_audit::collect::MAX_PAGES_PER_QUERY),
        "{err:?}"
    );
    assert!(err.to_string().contains("the limit of 200 pages"), "{err}");
    let pages = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/query/01g"))
        .count();
    assert!(
        pages < eci_audit::collect::MAX_PAGES_PER_QUERY as usize + 20,
        "{pages} pages"
    );
}

#[tokio::test]
async fn urls_with_credentials_or_queries_are_never_echoed() {
    const URL: &str = "https://admin:Sup3rS3cret@host.example/?sid=00DTOKEN";
    let assert_clean = |what: &str, text: &str| {
        for secret in ["Sup3rS3cret", "00DTOKEN", "admin:"] {
            assert!(!text.contains(secret), "{what} echoes `{secret}`: {text}");
        }
    };
    let fake = healthy().start();
    let base = options(&fake);
    let mut cases: Vec<(&str, CollectOptions)> = Vec::new();
    let mut o = base.clone();
    o.auth = AuthMethod::AccessToken {
        instance_url: URL.into(),
        token: Secret::new("00DXX!token-value"),
    };
    cases.push(("--instance-url", o));
    let mut o = base.clone();
    o.my_domain = Some(URL.into());
    cases.push(("--my-domain", o));
    let mut o = base.clone();
    o.my_domain = Some("admin:Sup3rS3cret@host.example/?sid=00DTOKEN".into());
    cases.push(("--my-domain (bare)", o));
    let mut o = base.clone();
    o.auth = AuthMethod::ClientCredentials {
        client_id: "id".into(),
        client_secret: Secret::new("a-client-secret-value"),
        login_url: URL.into(),
    };
    cases.push(("--login-url", o));
    let mut o = with_aircall(base.clone(), &fake);
    o.aircall.as_mut().unwrap().base_url = URL.into();
    cases.push(("AIRCALL_BASE_URL", o));
    for (what, opts) in cases {
        assert_clean(what, &format!("{opts:?}"));
        assert_clean(what, &format!("{:?}", plan(&opts)));
        let err = collect(&opts).await.unwrap_err();
        assert!(
            matches!(err, CollectError::Auth(AuthError::InvalidUrl { .. })),
            "{what}: {err:?}"
        );
        assert_clean(what, &format!("{err} {err:?}"));
        assert!(err.to_string().contains("host.example"), "{what}: {err}");
    }
    // The checker itself.
    let err = eci_audit::collect::check_url("Aircall base URL", URL).unwrap_err();
    assert_clean("check_url", &format!("{err} {err:?}"));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn client_credentials_never_leak_the_client_secret() {
    const CLIENT_SECRET: &str = "PLANTED-SF-CLIENT-SECRET-4242424242";
    let fake = healthy()
        .client_secret(CLIENT_SECRET)
        .fault(Fault::EchoTokenRequest)
        .start();
    let assert_clean = |what: &str, text: &str| {
        assert!(
            !text.contains(CLIENT_SECRET),
            "{what} leaks the client secret: {text}"
        );
    };
    let mut opts = options(&fake);
    opts.auth = AuthMethod::ClientCredentials {
        client_id: fake.credentials().client_id.clone(),
        client_secret: Secret::new(CLIENT_SECRET),
        login_url: fake.url().to_string(),
    };
    assert_clean("options", &format!("{opts:?}"));
    assert_clean("plan", &format!("{:?}", plan(&opts)));
    let outcome = collect(&opts).await.unwrap();
    assert_clean(
        "snapshot",
        &serde_json::to_string(&outcome.snapshot).unwrap(),
    );
    assert_clean("stats", &format!("{:?}", outcome.stats));

    // A refusal whose description quotes the form: scrubbed.
    let refusing = healthy()
        .client_secret("another-secret-the-org-expects")
        .fault(Fault::EchoTokenRequest)
        .start();
    opts.auth = AuthMethod::ClientCredentials {
        client_id: refusing.credentials().client_id.clone(),
        client_secret: Secret::new(CLIENT_SECRET),
        login_url: refusing.url().to_string(),
    };
    let err = collect(&opts).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("invalid_client"), "{text}");
    assert!(text.contains("[REDACTED]"), "the echo was scrubbed: {text}");
    assert_clean("token error", &text);
}

#[tokio::test]
async fn the_jwt_flow_never_leaks_the_key_or_the_assertion() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("server.key");
    let public = dir.path().join("public.der");
    let p = |path: &std::path::Path| path.to_str().unwrap().to_string();
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &p(&key),
    ]);
    openssl(&[
        "rsa",
        "-in",
        &p(&key),
        "-RSAPublicKey_out",
        "-outform",
        "DER",
        "-out",
        &p(&public),
    ]);
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key_lines: Vec<&str> = key_text
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
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
    let assert_clean = |what: &str, text: &str, assertion: &str| {
        assert!(!text.contains(assertion), "{what} leaks the JWT assertion");
        // Its signature alone is secret enough.
        let signature = assertion.rsplit('.').next().unwrap();
        assert!(!text.contains(signature), "{what} leaks the JWT signature");
        for line in &key_lines {
            assert!(!text.contains(line), "{what} leaks the private key");
        }
    };
    let jwt = |fake: &FakeOrg| AuthMethod::JwtBearer {
        client_id: fake.credentials().client_id.clone(),
        key_file: key.clone(),
        username: fake.credentials().jwt_username.clone(),
        login_url: fake.url().to_string(),
        audience: None,
    };

    let fake = healthy()
        .jwt_public_key(std::fs::read(&public).unwrap())
        .start();
    let mut opts = options(&fake);
    opts.auth = jwt(&fake);
    let outcome = collect(&opts).await.unwrap();
    let assertion = assertion_of(&fake);
    assert_clean(
        "snapshot",
        &serde_json::to_string(&outcome.snapshot).unwrap(),
        &assertion,
    );
    assert_clean(
        "options",
        &format!("{opts:?} {:?}", plan(&opts)),
        &assertion,
    );

    // Refused (unknown user) by a server that echoes the form back.
    let refusing = healthy()
        .jwt_public_key(std::fs::read(&public).unwrap())
        .fault(Fault::EchoTokenRequest)
        .start();
    let mut opts = options(&refusing);
    opts.auth = AuthMethod::JwtBearer {
        client_id: refusing.credentials().client_id.clone(),
        key_file: key.clone(),
        username: "someone-else@acme.example".into(),
        login_url: refusing.url().to_string(),
        audience: None,
    };
    let err = collect(&opts).await.unwrap_err();
    let assertion = assertion_of(&refusing);
    let text = format!("{err} {err:?}");
    assert!(text.contains("invalid_grant"), "{text}");
    assert!(text.contains("[REDACTED]"), "the echo was scrubbed: {text}");
    assert_clean("token error", &text, &assertion);
}

// ---------------------------------------------------------------------------------------------
// Limits: every bound reached is an error that names it.

/// Small limits, so that the tests stay fast.
fn small_limits(mut opts: CollectOptions) -> CollectOptions {
    opts.limits.max_body_bytes = 256 * 1024;
    opts.limits.max_small_body_bytes = 2 * 1024;
    opts
}

#[tokio::test]
async fn an_endless_or_oversized_body_stops_at_its_limit() {
    let cases = [
        (
            Fault::EndlessBody {
                path: "/composite".into(),
            },
            "response body of POST /services/data/v66.0/composite exceeds the 256 KiB limit",
        ),
        (
            Fault::EndlessBody {
                path: "/services/Soap/m/".into(),
            },
            "response body of POST /services/Soap/m/66.0 exceeds the 256 KiB limit",
        ),
        (
            Fault::EndlessBody {
                path: "/tooling/query".into(),
            },
            "response body of GET /services/data/v66.0/tooling/query/ exceeds the 256 KiB limit",
        ),
        (
            Fault::EndlessBody {
                path: "/services/data/".into(),
            },
            "response body of GET /services/data/ exceeds the 2 KiB limit",
        ),
        (
            Fault::EndlessBody {
                path: "/v1/ping".into(),
            },
            "response body of GET /v1/ping exceeds the 2 KiB limit",
        ),
        // A declared Content-Length over the limit is refused before the body is read.
        (
            Fault::PaddedBody {
                path: "/userinfo".into(),
                bytes: 4096,
            },
            "response body of GET /services/oauth2/userinfo exceeds the 2 KiB limit",
        ),
    ];
    for (fault, expected) in cases {
        let fake = healthy().fault(fault.clone()).start();
        let opts = small_limits(with_aircall(options(&fake), &fake));
        let started = std::time::Instant::now();
        let err = collect(&opts).await.unwrap_err();
        assert!(
            matches!(err, CollectError::BodyTooLarge { .. }),
            "{fault:?}: {err:?}"
        );
        assert_eq!(err.to_string(), expected, "{fault:?}");
        assert!(started.elapsed() < Duration::from_secs(10), "{fault:?}");
    }
}

#[tokio::test]
async fn a_body_under_its_limit_is_read() {
    let fake = healthy()
        .fault(Fault::PaddedBody {
            path: "/userinfo".into(),
            bytes: 2000,
        })
        .start();
    let outcome = collect(&small_limits(options(&fake))).await.unwrap();
    assert_eq!(
        outcome.snapshot.source.auditing_user.as_deref(),
        Some("auditor@acme.example")
    );
}

#[tokio::test]
async fn an_endless_next_records_url_page_stops_at_the_limit() {
    let fake = healthy()
        .page_size(1)
        .fault(Fault::EndlessBody {
            path: "/query/01g".into(),
        })
        .start();
    let err = collect(&small_limits(options(&fake))).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("response body of GET /services/data/v66.0/query/01g"),
        "{text}"
    );
    assert!(text.ends_with("exceeds the 256 KiB limit"), "{text}");
}

#[tokio::test]
async fn an_endless_token_answer_stops_at_the_limit() {
    let fake = healthy()
        .fault(Fault::EndlessBody {
            path: "/services/oauth2/token".into(),
        })
        .start();
    let mut opts = small_limits(options(&fake));
    opts.auth = AuthMethod::ClientCredentials {
        client_id: fake.credentials().client_id.clone(),
        client_secret: Secret::new(fake.credentials().client_secret.clone()),
        login_url: fake.url().to_string(),
    };
    let err = collect(&opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "response body of POST /services/oauth2/token exceeds the 2 KiB limit"
    );
}

// ---------------------------------------------------------------------------------------------
// The read-only check decides on the URL as sent.

#[tokio::test]
async fn a_next_records_url_that_resolves_elsewhere_is_refused_before_sending() {
    for url in [
        "/services/data/v66.0/%2e%2e/%2e%2e/secur/logout.jsp",
        "/services/data/v66.0/query/%2E%2E/%2E%2E/%2E%2E/secur/logout.jsp",
        "/services/data/v66.0/query/..;/..;/..;/secur/logout.jsp",
        "/services/data/v66.0/query/%252e%252e/x",
        "/services/data/v66.0\\..\\..\\secur\\logout.jsp",
    ] {
        let fake = healthy()
            .page_size(1)
            .fault(Fault::NextRecordsUrl {
                object: "Domain".into(),
                url: url.into(),
            })
            .start();
        let err = collect(&options(&fake)).await.unwrap_err();
        assert!(
            matches!(err, CollectError::Refused { .. }),
            "{url}: {err:?}"
        );
        assert!(err.to_string().starts_with("refused to send GET "), "{err}");
        let sent: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
        assert!(
            sent.iter()
                .all(|p| !p.contains("secur") && !p.contains('%')),
            "{url}: {sent:?}"
        );
    }
    // Absolute and protocol-relative URLs to another host never leave as requests either: the
    // query is not collected.
    for url in [
        "https://evil.example/services/data/v66.0/query/01g",
        "//evil.example/services/data/v66.0/query/01g",
    ] {
        let (fake, s) = snapshot_of(healthy().page_size(1).fault(Fault::NextRecordsUrl {
            object: "Domain".into(),
            url: url.into(),
        }))
        .await;
        let reason = s.domains.available().unwrap_err();
        assert!(reason.contains("unexpected nextRecordsUrl"), "{reason}");
        assert!(fake.requests().iter().all(|r| !r.path.contains("evil")));
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded requests and time.

#[tokio::test]
async fn the_request_limit_ends_the_run() {
    let fake = healthy().start();
    let mut opts = options(&fake);
    opts.limits.max_requests = 5;
    let err = collect(&opts).await.unwrap_err();
    assert!(
        matches!(err, CollectError::TooManyRequests { limit: 5, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the run reached its limit of 5 HTTP requests (next: "),
        "{err}"
    );
    assert!(fake.requests().len() <= 5, "{}", fake.requests().len());
}

#[tokio::test]
async fn retries_count_against_the_request_limit() {
    let fake = healthy()
        .fault(Fault::ServiceUnavailable {
            path: "/services/data/".into(),
            times: 100,
        })
        .start();
    let mut opts = options(&fake);
    opts.limits.max_requests = 3;
    opts.retry.max_retries = 10;
    let err = collect(&opts).await.unwrap_err();
    assert!(
        matches!(err, CollectError::TooManyRequests { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_deadline_ends_the_run() {
    let fake = healthy().latency(Duration::from_millis(150)).start();
    let mut opts = options(&fake);
    opts.limits.deadline = Duration::from_millis(200);
    let started = std::time::Instant::now();
    let err = collect(&opts).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(err, CollectError::DeadlineExceeded { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the run did not finish within its deadline of 0.2 s (--deadline)"
    );
    // Within its deadline the same org is read in full.
    opts.limits.deadline = Duration::from_secs(30);
    assert!(collect(&opts).await.is_ok());
}

// ---------------------------------------------------------------------------------------------
// Redaction holds for parts and encodings of a secret.

#[tokio::test]
async fn parts_and_encodings_of_the_token_never_reach_the_snapshot() {
    use base64::Engine as _;
    let fake = healthy().start();
    let token = fake.credentials().access_token.clone();
    drop(fake);
    let first_40 = &token[..40.min(token.len())];
    let after_org_id = &token[15..];
    let base64 = base64::engine::general_purpose::STANDARD.encode(format!("x:{token}"));
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let (_fake, s) = snapshot_of(
        healthy()
            .set_field(
                "0XAXX0000000003AAA",
                "Endpoint",
                Value::String(format!("https://billing.example/?t={first_40}")),
            )
            .set_field(
                "0XAXX0000000003AAA",
                "MasterLabel",
                Value::String(format!("Basic {base64} / {encoded}")),
            ),
    )
    .await;
    let json = serde_json::to_string(&s).unwrap();
    for planted in [after_org_id, &base64[4..], &encoded[20..]] {
        for start in 0..planted.len().saturating_sub(12) {
            let run = &planted[start..start + 12];
            assert!(!json.contains(run), "`{run}` of a planted secret survived");
        }
    }
    assert!(json.contains("https://billing.example/?t="), "{json}");
}

// ---------------------------------------------------------------------------------------------
// A plan checks its options as a live run does.

#[test]
fn a_plan_refuses_what_a_live_run_refuses() {
    let plan_only = |instance_url: &str| {
        CollectOptions::new(AuthMethod::PlanOnly {
            instance_url: Some(instance_url.into()),
            token_flow: None,
        })
    };
    for url in [
        "http://acme.my.salesforce.com",
        "ftp://acme.my.salesforce.com",
        "acme.my.salesforce.com",
        "https://user:pass@acme.my.salesforce.com",
    ] {
        let err = plan(&plan_only(url)).unwrap_err();
        assert!(
            matches!(err, CollectError::Auth(AuthError::InvalidUrl { .. })),
            "{url}: {err:?}"
        );
        assert!(err.to_string().starts_with("invalid instance URL"), "{err}");
    }
    let good = "https://acme.my.salesforce.com";
    assert!(plan(&plan_only(good)).is_ok());
    let mut opts = plan_only(good);
    opts.api_version = Some("62".into());
    assert!(matches!(
        plan(&opts),
        Err(CollectError::InvalidOption { .. })
    ));
    let mut opts = plan_only(good);
    opts.my_domain = Some("http://acme.my.salesforce.com".into());
    assert!(plan(&opts).unwrap_err().to_string().contains("My Domain"));
    let opts = CollectOptions::new(AuthMethod::PlanOnly {
        instance_url: None,
        token_flow: Some(TokenFlow::ClientCredentials {
            login_url: "http://login.example".into(),
        }),
    });
    assert!(plan(&opts).unwrap_err().to_string().contains("login URL"));
}

// ---------------------------------------------------------------------------------------------
// Real orgs (issue 8): semi-join fallbacks, optional AuthProviderId, profiles by API name,
// DomainSite, Tooling NamedCredential

fn soql_sent(fake: &FakeOrg) -> Vec<String> {
    let mut out = Vec::new();
    for r in fake.requests() {
        if r.path.ends_with("/composite") {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            for sub in body["compositeRequest"].as_array().unwrap() {
                let url = sub["url"].as_str().unwrap();
                let query = url.split_once('?').unwrap().1;
                let q = url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "q")
                    .unwrap()
                    .1;
                out.push(q.into_owned());
            }
        } else if let Some(q) = r.soql() {
            out.push(q);
        }
    }
    out
}

#[tokio::test]
async fn a_refused_site_semi_join_still_yields_the_site_users() {
    for code in ["MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"] {
        let fake = healthy()
            .fault(Fault::RefuseSemiJoin {
                inner_object: "Site".into(),
                code: code.into(),
            })
            .start();
        let outcome = collect(&options(&fake)).await.unwrap();
        let s = &outcome.snapshot;
        // Guest user (with its assignments), site contact and default owner all arrive.
        let guest = user(s, "voiceconnector-guest@acme.example");
        assert_eq!(guest.is_active, Some(true), "{code}");
        assert!(
            s.permission_set_assignments
                .available()
                .unwrap()
                .iter()
                .any(|a| a.assignee_id == "005XX0000000002AAA"),
            "{code}"
        );
        let admin = user(s, "admin@acme.example");
        assert_eq!(admin.profile_name.as_deref(), Some("System Administrator"));
        // One more phase, and only then: the fallback, then the profiles' API names.
        assert_eq!(outcome.stats.phases, 4, "{code}");
        let sent = soql_sent(&fake);
        assert!(
            sent.iter()
                .any(|q| q.ends_with("FROM User WHERE Id = '005XX0000000002AAA'")),
            "{sent:#?}"
        );
    }
}

#[tokio::test]
async fn a_refused_user_semi_join_still_yields_the_profile_set() {
    let fake = healthy()
        .fault(Fault::RefuseSemiJoin {
            inner_object: "User".into(),
            code: "INVALID_FIELD".into(),
        })
        .start();
    let outcome = collect(&options(&fake)).await.unwrap();
    let sets = outcome.snapshot.permission_sets.available().unwrap();
    let profile_set = sets.iter().find(|p| p.id == "0PSXX0000000001AAA").unwrap();
    assert_eq!(profile_set.api_enabled, Some(true));
    assert!(soql_sent(&fake).iter().any(|q| {
        q.ends_with("WHERE IsOwnedByProfile = true AND ProfileId = '00eXX0000000001AAA'")
    }));
}

#[tokio::test]
async fn a_refused_or_inside_the_candidate_semi_join_still_finds_the_candidates() {
    for code in ["MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"] {
        let fake = healthy()
            .fault(Fault::RefuseSemiJoinWithOr { code: code.into() })
            .start();
        let mut opts = options(&fake);
        opts.integration_user = None;
        let outcome = collect(&opts).await.unwrap();
        let users = outcome.snapshot.users.available().unwrap();
        assert!(
            users.iter().any(|u| u.username == INTEGRATION_USER),
            "{code}"
        );
        assert!(
            users
                .iter()
                .any(|u| u.username == "voiceconnector-guest@acme.example"),
            "{code}"
        );
        let integration = user(&outcome.snapshot, INTEGRATION_USER);
        assert_eq!(
            integration.profile_name.as_deref(),
            Some("System Administrator")
        );
        // The refused form was sent once; its replacement has no OR inside.
        let sent = soql_sent(&fake);
        let candidate_forms: Vec<&String> = sent
            .iter()
            .filter(|q| {
                q.contains("SELECT AssigneeId FROM PermissionSetAssignment")
                    && q.contains(" FROM User WHERE ")
            })
            .collect();
        assert_eq!(candidate_forms.len(), 3, "{candidate_forms:#?}");
        assert_eq!(
            candidate_forms
                .iter()
                .filter(|q| q.contains(" OR "))
                .count(),
            1
        );
    }
}

#[tokio::test]
async fn auth_provider_id_refused_keeps_the_rest_of_the_credential() {
    let (_fake, s) = snapshot_of(
        healthy()
            .fault(Fault::InvalidField {
                field: "AuthProviderId".into(),
            })
            .fault(Fault::ReadMetadataRefused {
                metadata_type: "NamedCredential".into(),
                code: "INSUFFICIENT_ACCESS".into(),
            }),
    )
    .await;
    let ncs = s.named_credentials.available().unwrap();
    let eci = ncs
        .iter()
        .find(|n| n.full_name == "ECINamedCredential")
        .unwrap();
    assert_eq!(
        eci.endpoint.as_deref(),
        Some("https://acme.my.salesforce.com")
    );
    assert_eq!(eci.principal_type.as_deref(), Some("NamedUser"));
    assert_eq!(eci.auth_provider, None);
    let reason = &eci.not_collected["auth_provider"];
    assert!(reason.starts_with("INVALID_FIELD"), "{reason}");
    assert!(reason.contains("Manage AuthProviders"), "{reason}");
    assert!(
        s.source
            .missing_permissions
            .iter()
            .any(|m| m.starts_with("SOQL NamedCredential.AuthProviderId: INVALID_FIELD")),
        "{:?}",
        s.source.missing_permissions
    );
    // The Tooling fallback (itself retried without AuthProviderId) gives what readMetadata
    // would have.
    assert_eq!(eci.protocol.as_deref(), Some("Oauth"));
    assert_eq!(
        eci.oauth_scope.as_deref(),
        Some("refresh_token web api content")
    );
}

#[tokio::test]
async fn tooling_named_credential_stands_in_for_a_refused_read_metadata() {
    let (fake, s) = snapshot_of(healthy().fault(Fault::ReadMetadataRefused {
        metadata_type: "NamedCredential".into(),
        code: "INSUFFICIENT_ACCESS".into(),
    }))
    .await;
    let ncs = s.named_credentials.available().unwrap();
    let aircall = ncs.iter().find(|n| n.full_name == "Aircall").unwrap();
    assert_eq!(aircall.protocol.as_deref(), Some("Password"));
    assert_eq!(aircall.username.as_deref(), Some("fake-aircall-api-id"));
    assert_eq!(aircall.named_credential_type.as_deref(), Some("Legacy"));
    assert!(
        aircall.not_collected.is_empty(),
        "{:?}",
        aircall.not_collected
    );
    let eci = ncs
        .iter()
        .find(|n| n.full_name == "ECINamedCredential")
        .unwrap();
    assert_eq!(eci.auth_provider.as_deref(), Some("ECIAuthProvider"));
    assert_eq!(eci.protocol.as_deref(), Some("Oauth"));
    let tooling: Vec<RecordedRequest> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/tooling/composite"))
        .collect();
    assert!(
        tooling
            .iter()
            .any(|r| r.body.contains("FROM%20NamedCredential")
                || r.body.contains("FROM+NamedCredential")),
        "{tooling:#?}"
    );
    // Without the refusal, no Tooling NamedCredential query is sent.
    let (fake, _) = snapshot_of(healthy()).await;
    assert!(
        !soql_sent(&fake)
            .iter()
            .any(|q| q.contains("Protocol, Username"))
    );
}

#[tokio::test]
async fn translated_profile_names_are_read_by_api_name() {
    let (_fake, s) = snapshot_of(
        healthy()
            .set_field(
                "00eXX0000000001AAA",
                "Name",
                "Administrateur système".into(),
            )
            .set_field("00eXX0000000003AAA", "Name", "Standardbenutzer".into()),
    )
    .await;
    let integration = user(&s, INTEGRATION_USER);
    assert_eq!(
        integration.profile_name.as_deref(),
        Some("System Administrator")
    );
    let profile = s
        .profiles
        .items()
        .iter()
        .find(|p| p.id.as_deref() == Some("00eXX0000000001AAA"))
        .unwrap();
    assert_eq!(profile.api_name.as_deref(), Some("Admin"));
    assert_eq!(
        profile.display_name.as_deref(),
        Some("Administrateur système")
    );
    let app = s
        .connected_apps
        .items()
        .iter()
        .find(|a| a.full_name == "ECIConnectedApp")
        .unwrap();
    let mut names = app.profile_names.clone().unwrap();
    names.sort();
    assert_eq!(names, ["Standard User", "System Administrator"]);

    // The lookup refused: a translated name is no longer trusted either way.
    let (_fake, s) = snapshot_of(
        healthy()
            .set_field(
                "00eXX0000000001AAA",
                "Name",
                "Administrateur système".into(),
            )
            .fault(Fault::InvalidType {
                object: "Profile".into(),
            }),
    )
    .await;
    let integration = user(&s, INTEGRATION_USER);
    assert_eq!(integration.profile_name, None);
    let reason = &integration.not_collected["profile_name"];
    assert!(reason.contains("Administrateur système"), "{reason}");
    assert!(reason.contains("translated"), "{reason}");
}

/// An org with enhanced domains: `Site.Subdomain` null (SOQL and metadata), and no Sites
/// domain in `Domain`; `DomainSite` still lists the system-managed domain serving the site.
fn enhanced_domains() -> FakeOrgBuilder {
    let xml = std::fs::read_to_string(
        support::fake_org::fixtures_dir().join("healthy.metadata/CustomSite/VoiceConnector.xml"),
    )
    .unwrap()
    .replace("    <subdomain>acme</subdomain>\n", "");
    healthy()
        .set_field("0DMXX0000000001AAA", "Subdomain", Value::Null)
        .metadata_xml("CustomSite", "VoiceConnector", &xml)
        .set_field("0I4XX0000000002AAA", "Domain", "acme.my.site.com".into())
        .set_field("0I4XX0000000002AAA", "DomainType", "DNS".into())
        .set_field("0I4XX0000000002AAA", "HttpsOption", "OrgDomain".into())
}

#[tokio::test]
async fn domain_site_gives_the_site_public_url() {
    let (_fake, s) = snapshot_of(enhanced_domains()).await;
    let site = s
        .sites
        .items()
        .iter()
        .find(|x| x.full_name == "VoiceConnector")
        .unwrap();
    assert_eq!(site.subdomain, None);
    assert_eq!(
        site.public_urls.as_deref(),
        Some(&["https://acme.my.site.com/voiceconnector".to_string()][..])
    );
}
