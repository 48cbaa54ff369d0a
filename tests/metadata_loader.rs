//! The metadata-directory loader: fixtures in both formats and as a zip, partial directories,
//! errors with positions, the public corpus (`ECI_AUDIT_CORPUS`), and never-panic properties.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use eci_audit::snapshot::metadata::{
    MetadataError, MetadataKind, MetadataOptions, ParsedComponent, check_xml, load_metadata,
    merge_org_data, parse_metadata_file,
};
use eci_audit::snapshot::{
    Collection, OrgField, Origin, PermissionSet, PermissionSetAssignment, Snapshot, SourceKind,
    User, fingerprint,
};
use proptest::prelude::*;

const SOURCE: &str = "fixtures/metadata/source-healthy";
const MDAPI: &str = "fixtures/metadata/mdapi-healthy";
const SOURCE_DEFAULT: &str = "fixtures/metadata/source-healthy/force-app/main/default";
const FIXTURE_KEY: &str = "3MVG9FIXTURE.ECI.CONSUMER.KEY.NOT.REAL";

fn load(path: impl AsRef<Path>) -> Snapshot {
    load_metadata(path.as_ref(), &MetadataOptions::default()).expect("fixture loads")
}

fn file_origin(path: &str, line: u32, column: u32) -> Origin {
    Origin::File {
        path: path.to_string(),
        line,
        column,
    }
}

/// Every value of the healthy fixtures, whatever the format; `file` maps a source-format
/// relative path (`connectedApps/ECIConnectedApp.connectedApp-meta.xml`) to the expected path.
fn assert_healthy(s: &Snapshot, file: impl Fn(&str) -> String) {
    assert_eq!(s.schema_version, 1);
    assert_eq!(s.source.kind, SourceKind::MetadataDir);

    let apps = s
        .connected_apps
        .available()
        .expect("connected apps collected");
    assert_eq!(apps.len(), 1);
    let app = &apps[0];
    let app_file = file("connectedApps/ECIConnectedApp.connectedApp-meta.xml");
    assert_eq!(app.full_name, "ECIConnectedApp");
    assert_eq!(app.label.as_deref(), Some("ECI Connected App"));
    assert_eq!(
        app.contact_email.as_deref(),
        Some("eci-admin@acme.example.com")
    );
    assert_eq!(app.source, Some(file_origin(&app_file, 2, 1)));
    assert_eq!(app.locations["label"], file_origin(&app_file, 4, 5));
    assert_eq!(
        app.profile_names.as_deref(),
        Some(
            &[
                "Standard User".to_string(),
                "System Administrator".to_string()
            ][..]
        )
    );
    assert_eq!(
        app.locations["profile_names"],
        file_origin(&app_file, 23, 5)
    );
    assert_eq!(app.permission_set_names, None);
    let oauth = app.oauth_config.as_ref().expect("oauthConfig");
    assert_eq!(oauth.source, Some(file_origin(&app_file, 5, 5)));
    assert_eq!(
        oauth.callback_url.as_deref(),
        Some("https://acme.my.salesforce.com/services/authcallback/ECIAuthProvider")
    );
    assert_eq!(
        oauth.locations["callback_url"],
        file_origin(&app_file, 6, 9)
    );
    assert_eq!(
        oauth.consumer_key_fingerprint,
        Some(fingerprint(FIXTURE_KEY))
    );
    assert_eq!(oauth.is_admin_approved, Some(true));
    assert_eq!(oauth.is_consumer_secret_optional, Some(false));
    assert_eq!(oauth.is_secret_required_for_refresh_token, Some(true));
    assert_eq!(
        oauth.scopes.as_deref(),
        Some(&["Api", "Web", "RefreshToken", "Content"].map(String::from)[..])
    );
    assert_eq!(oauth.locations["scopes"], file_origin(&app_file, 14, 9));
    let policy = app.oauth_policy.as_ref().expect("oauthPolicy");
    assert_eq!(policy.ip_relaxation.as_deref(), Some("BYPASS"));
    assert_eq!(
        policy.refresh_token_policy.as_deref(),
        Some("specific_lifetime:365:DAYS")
    );
    assert_eq!(
        policy.locations["refresh_token_policy"],
        file_origin(&app_file, 21, 9)
    );
    assert_eq!(app.session_policy, None);

    let providers = s
        .auth_providers
        .available()
        .expect("auth providers collected");
    assert_eq!(providers.len(), 1);
    let p = &providers[0];
    assert_eq!(p.full_name, "ECIAuthProvider");
    assert_eq!(p.friendly_name.as_deref(), Some("ECI Auth Provider"));
    assert_eq!(p.provider_type.as_deref(), Some("Salesforce"));
    assert_eq!(p.consumer_key_fingerprint, oauth.consumer_key_fingerprint);

    let ncs = s
        .named_credentials
        .available()
        .expect("named credentials collected");
    let names: Vec<&str> = ncs.iter().map(|n| n.full_name.as_str()).collect();
    assert_eq!(names, ["Aircall", "ECINamedCredential"]);
    let aircall = &ncs[0];
    assert_eq!(aircall.label.as_deref(), Some("Aircall"));
    assert_eq!(aircall.endpoint.as_deref(), Some("https://api.aircall.io"));
    assert_eq!(aircall.named_credential_type, None);
    assert_eq!(aircall.principal_type.as_deref(), Some("NamedUser"));
    assert_eq!(aircall.protocol.as_deref(), Some("Password"));
    assert_eq!(aircall.username.as_deref(), Some("EXAMPLE_AIRCALL_API_ID"));
    assert_eq!(aircall.generate_authorization_header, Some(true));
    assert_eq!(aircall.allow_merge_fields_in_header, Some(true));
    assert_eq!(aircall.allow_merge_fields_in_body, Some(true));
    let aircall_file = file("namedCredentials/Aircall.namedCredential-meta.xml");
    assert_eq!(
        aircall.locations["endpoint"],
        file_origin(&aircall_file, 6, 5)
    );
    let eci = &ncs[1];
    assert_eq!(eci.label.as_deref(), Some("ECI Named Credential"));
    assert_eq!(
        eci.endpoint.as_deref(),
        Some("https://acme.my.salesforce.com")
    );
    assert_eq!(eci.protocol.as_deref(), Some("Oauth"));
    assert_eq!(eci.auth_provider.as_deref(), Some("ECIAuthProvider"));
    assert_eq!(
        eci.oauth_scope.as_deref(),
        Some("refresh_token web api content")
    );
    assert_eq!(eci.allow_merge_fields_in_header, Some(false));

    let sites = s.sites.available().expect("sites collected");
    assert_eq!(sites.len(), 1);
    let site = &sites[0];
    assert_eq!(site.full_name, "VoiceConnector");
    assert_eq!(site.label.as_deref(), Some("VoiceConnector"));
    assert_eq!(site.active, Some(true));
    assert_eq!(site.index_page.as_deref(), Some("SiteLogin"));
    assert_eq!(
        site.clickjack_protection_level.as_deref(),
        Some("SameOriginOnly")
    );
    assert_eq!(
        site.site_admin.as_deref(),
        Some("eci-admin@acme.example.com")
    );
    assert_eq!(
        site.guest_record_default_owner.as_deref(),
        Some("eci-admin@acme.example.com")
    );
    assert_eq!(site.site_type.as_deref(), Some("Visualforce"));
    assert_eq!(site.subdomain.as_deref(), Some("acme"));
    assert_eq!(site.guest_user_id, None);

    assert_eq!(s.org.eci_enabled, Some(true));
    assert_eq!(
        s.org.locations["eci_enabled"],
        file_origin(
            &file("settings/ConversationalIntelligence.settings-meta.xml"),
            3,
            5
        )
    );
    assert!(!s.org.not_collected.contains_key(&OrgField::eci_enabled));
    assert_eq!(
        s.org.not_collected["voice_call_object_available"],
        "not in a metadata directory"
    );
    assert_eq!(s.org.voice_call_object_available, None);
    assert_eq!(
        s.org.installed_packages.available().unwrap_err(),
        "not in a metadata directory"
    );
    assert_eq!(
        s.users.available().unwrap_err(),
        "not in a metadata directory"
    );
    assert_eq!(
        s.permission_set_assignments.available().unwrap_err(),
        "not in a metadata directory"
    );
    assert_eq!(
        s.domains.available().unwrap_err(),
        "not in a metadata directory"
    );
    assert_eq!(s.aircall, None);

    let profiles = s.profiles.available().expect("profiles collected");
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].name, "System Administrator");
    assert_eq!(profiles[0].id.as_deref(), Some("file:profile:Admin"));
    let sets = s
        .permission_sets
        .available()
        .expect("permission sets collected");
    let ids: Vec<&str> = sets.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "file:ConversationInsightsIntegrationUser",
            "file:profile:Admin"
        ]
    );
    let ci = &sets[0];
    assert_eq!(
        ci.name.as_deref(),
        Some("ConversationInsightsIntegrationUser")
    );
    assert_eq!(
        ci.label.as_deref(),
        Some("Conversation Insights Integration User")
    );
    assert_eq!(ci.call_coaching_user, Some(true));
    assert_eq!(ci.ci_partner_integration_user, Some(true));
    assert_eq!(ci.api_enabled, None);
    assert_eq!(ci.is_owned_by_profile, None);
    let admin = &sets[1];
    assert_eq!(admin.is_owned_by_profile, Some(true));
    assert_eq!(admin.profile_id.as_deref(), Some("file:profile:Admin"));
    assert_eq!(admin.api_enabled, Some(true));
    assert_eq!(
        admin.locations["api_enabled"],
        file_origin(&file("profiles/Admin.profile-meta.xml"), 23, 5)
    );
    let perms = s
        .object_permissions
        .available()
        .expect("object permissions collected");
    assert_eq!(perms.len(), 2);
    assert!(perms.iter().all(|p| p.object == "VoiceCall" && p.read));
    assert!(
        perms
            .iter()
            .any(|p| p.parent_id == "file:profile:Admin" && p.edit && p.view_all)
    );
    assert!(
        perms
            .iter()
            .any(|p| p.parent_id == "file:ConversationInsightsIntegrationUser" && !p.edit)
    );

    // Nothing said ECAs exist, and this is not declared a full retrieve.
    assert!(
        s.external_client_apps
            .available()
            .unwrap_err()
            .starts_with("no externalClientApps in ")
    );
}

#[test]
fn source_format_fixture_loads_every_value_with_positions() {
    let s = load(SOURCE);
    assert_eq!(s.source.description.as_deref(), Some(SOURCE));
    // sourceApiVersion of sfdx-project.json.
    assert_eq!(s.source.api_version.as_deref(), Some("62.0"));
    assert_healthy(&s, |rel| format!("{SOURCE_DEFAULT}/{rel}"));
}

#[test]
fn mdapi_format_fixture_loads_the_same_values() {
    let s = load(MDAPI);
    assert_eq!(s.source.description.as_deref(), Some(MDAPI));
    // <version> of package.xml.
    assert_eq!(s.source.api_version.as_deref(), Some("62.0"));
    assert_healthy(&s, |rel| {
        format!("{MDAPI}/{}", rel.trim_end_matches("-meta.xml"))
    });
}

#[test]
fn a_package_directory_and_a_dot_slash_path_are_accepted() {
    let s = load(format!("./{SOURCE}/force-app/"));
    assert_eq!(
        s.source.description.as_deref(),
        Some("fixtures/metadata/source-healthy/force-app")
    );
    assert_healthy(&s, |rel| format!("{SOURCE_DEFAULT}/{rel}"));
}

#[test]
fn snapshot_json_holds_no_secret_and_no_consumer_key() {
    for dir in [SOURCE, MDAPI] {
        let json = serde_json::to_string(&load(dir)).unwrap();
        assert!(!json.contains("FIXTURE_SECRET"), "{dir}");
        assert!(!json.contains(FIXTURE_KEY), "{dir}");
        assert!(!json.contains("3MVG9"), "{dir}");
        // And it round-trips through the snapshot file format.
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, load(dir));
    }
}

fn zip_dir(dir: &Path, prefix: &str, out: &Path) {
    let file = std::fs::File::create(out).unwrap();
    let mut writer = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut stack = vec![(dir.to_path_buf(), prefix.to_string())];
    while let Some((d, rel)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                stack.push((e.path(), format!("{name}/")));
            } else {
                writer.start_file(name, options).unwrap();
                writer.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
            }
        }
    }
    writer.finish().unwrap();
}

#[test]
fn an_mdapi_retrieve_zip_loads_with_entry_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let zip_path = tmp.path().join("retrieve.zip");
    zip_dir(Path::new(MDAPI), "unpackaged/", &zip_path);
    let s = load(&zip_path);
    let base = format!("{}!/unpackaged", zip_path.display());
    assert_healthy(&s, |rel| {
        format!("{base}/{}", rel.trim_end_matches("-meta.xml"))
    });

    // Any single top folder works too, and so does a source-format tree inside a zip.
    let other = tmp.path().join("other.zip");
    zip_dir(Path::new(SOURCE), "project/", &other);
    let s = load(&other);
    let base = format!("{}!/project/force-app/main/default", other.display());
    assert_healthy(&s, |rel| format!("{base}/{rel}"));
}

#[test]
fn a_broken_zip_is_an_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("retrieve.zip");
    std::fs::write(&path, b"PK\x03\x04 this is not really a zip").unwrap();
    let err = load_metadata(&path, &MetadataOptions::default()).unwrap_err();
    assert!(matches!(err, MetadataError::Zip { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    // A truncated archive.
    let good = tmp.path().join("good.zip");
    zip_dir(Path::new(MDAPI), "unpackaged/", &good);
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_metadata(&path, &MetadataOptions::default()).unwrap_err();
    assert!(err.to_string().contains("retrieve.zip"), "{err}");

    // Not a directory, not a zip.
    let json = tmp.path().join("snapshot.json");
    std::fs::write(&json, b"{}").unwrap();
    let err = load_metadata(&json, &MetadataOptions::default()).unwrap_err();
    assert!(
        matches!(err, MetadataError::NotDirectoryOrZip { .. }),
        "{err:?}"
    );

    // Missing.
    let err = load_metadata(&tmp.path().join("nope"), &MetadataOptions::default()).unwrap_err();
    assert!(matches!(err, MetadataError::Read { .. }), "{err:?}");
}

#[test]
fn a_partial_directory_says_what_was_not_collected() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("partial");
    let apps = root.join("force-app/main/default/connectedApps");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::copy(
        format!("{SOURCE_DEFAULT}/connectedApps/ECIConnectedApp.connectedApp-meta.xml"),
        apps.join("ECIConnectedApp.connectedApp-meta.xml"),
    )
    .unwrap();
    let dir = root.display().to_string();

    let s = load(&root);
    assert_eq!(s.connected_apps.available().unwrap().len(), 1);
    assert_eq!(
        s.named_credentials.available().unwrap_err(),
        format!(
            "no namedCredentials in {dir}: not a full retrieve (pass --full-retrieve if it is)"
        )
    );
    assert!(s.auth_providers.available().is_err());
    assert!(s.sites.available().is_err());
    assert!(s.profiles.available().is_err());
    assert!(s.permission_sets.available().is_err());
    assert!(s.object_permissions.available().is_err());
    assert_eq!(s.org.eci_enabled, None);
    assert!(s.org.not_collected["eci_enabled"].contains("not a full retrieve"));

    let full = load_metadata(
        &root,
        &MetadataOptions {
            full_retrieve: true,
        },
    )
    .unwrap();
    assert_eq!(full.named_credentials.available().unwrap().len(), 0);
    assert_eq!(full.sites.available().unwrap().len(), 0);
    assert_eq!(full.external_client_apps.available().unwrap().len(), 0);
    assert!(!full.org.not_collected.contains_key(&OrgField::eci_enabled));
    assert_eq!(full.org.eci_enabled, None);
    // Org data is never in a metadata directory, full retrieve or not.
    assert!(full.users.available().is_err());
    assert!(full.org.installed_packages.available().is_err());
}

#[test]
fn skipped_folders_and_unrelated_files_are_never_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    common::copy_tree(Path::new(SOURCE), &root);
    // Broken files that would fail the load if they were read.
    let broken = b"<ConnectedApp><label>unterminated";
    for dir in [
        ".git/x/connectedApps",
        "node_modules/p/connectedApps",
        ".sfdx/a",
        ".sf/b",
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join("Bad.connectedApp-meta.xml"), broken).unwrap();
    }
    // Outside the package directory of sfdx-project.json.
    std::fs::create_dir_all(root.join("mdapi-out/connectedApps")).unwrap();
    std::fs::write(
        root.join("mdapi-out/connectedApps/Bad.connectedApp"),
        broken,
    )
    .unwrap();
    // Names that are not the kinds we read, and settings other than ConversationalIntelligence.
    let default = root.join("force-app/main/default");
    std::fs::write(default.join("settings/Security.settings-meta.xml"), broken).unwrap();
    std::fs::write(default.join("connectedApps/README.md"), broken).unwrap();
    std::fs::write(default.join("connectedApps/Bad.connectedApp"), broken).unwrap();
    let s = load(&root);
    assert_eq!(s.connected_apps.available().unwrap().len(), 1);
}

#[test]
fn an_external_client_app_is_detected_and_names_are_decoded() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("eca");
    let d = root.join("force-app/main/default");
    for sub in [
        "externalClientApps",
        "extlClntAppOauthPolicies",
        "profiles",
        "externalCredentials",
    ] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(
        d.join("externalClientApps/ECIConnectedApp.eca-meta.xml"),
        "<ExternalClientApplication xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n  \
         <label>ECI Connected App</label>\n</ExternalClientApplication>\n",
    )
    .unwrap();
    std::fs::write(
        d.join("extlClntAppOauthPolicies/Other_oauthPlcy.ecaOauthPlcy-meta.xml"),
        "<ExtlClntAppOauthConfigurablePolicies><externalClientApplication>Other</externalClientApplication>\
         <ipRelaxationPolicyType>Bypass</ipRelaxationPolicyType></ExtlClntAppOauthConfigurablePolicies>",
    )
    .unwrap();
    std::fs::write(
        d.join("profiles/Custom%3A Sales Profile.profile-meta.xml"),
        "<Profile><userPermissions><enabled>false</enabled><name>APIEnabled</name></userPermissions></Profile>",
    )
    .unwrap();
    std::fs::write(
        d.join("externalCredentials/X.externalCredential-meta.xml"),
        "<ExternalCredential><label>X</label></ExternalCredential>",
    )
    .unwrap();
    let s = load(&root);
    let ecas = s.external_client_apps.available().unwrap();
    let names: Vec<(&str, Option<&str>)> = ecas
        .iter()
        .map(|e| (e.full_name.as_str(), e.label.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("ECIConnectedApp", Some("ECI Connected App")),
            ("Other", None)
        ]
    );
    assert!(s.connected_apps.available().is_err());
    let profile = &s.profiles.available().unwrap()[0];
    assert_eq!(profile.name, "Custom: Sales Profile");
    // Permission sets are not collected (no permissionsets folder), profiles are.
    assert!(s.permission_sets.available().is_err());
}

#[test]
fn malformed_xml_names_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bad");
    common::copy_tree(Path::new(MDAPI), &root);
    let file = root.join("sites/VoiceConnector.site");
    std::fs::write(
        &file,
        "<?xml version=\"1.0\"?>\n<CustomSite>\n    <active>true</active>\n    <indexPage>SiteLogin</indexPag>\n</CustomSite>\n",
    )
    .unwrap();
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    let msg = err.to_string();
    let expected_prefix = format!("{}/sites/VoiceConnector.site:4:", root.display());
    assert!(msg.starts_with(&expected_prefix), "{msg}");
    assert!(
        msg.contains("expected </indexPage>, found </indexPag>"),
        "{msg}"
    );
    assert!(matches!(err, MetadataError::Xml { line: 4, .. }), "{err:?}");

    // A boolean that is not `true`/`false`.
    std::fs::write(
        &file,
        "<CustomSite xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n  <active>yes</active>\n</CustomSite>",
    )
    .unwrap();
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}/sites/VoiceConnector.site:2:3: <active> must be `true` or `false` (or `1`/`0`), found `yes`",
            root.display()
        )
    );
    assert!(
        matches!(&err, MetadataError::InvalidBoolean { line: 2, column: 3, element, .. } if element == "active"),
        "{err:?}"
    );

    // The wrong root element.
    std::fs::write(&file, "<ConnectedApp/>").unwrap();
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    assert!(matches!(err, MetadataError::WrongRoot { .. }), "{err:?}");
    assert!(
        err.to_string().contains("sites/VoiceConnector.site"),
        "{err}"
    );

    // Bytes that are not UTF-8.
    std::fs::write(&file, b"<CustomSite>\n<label>\xC0\xFF</label></CustomSite>").unwrap();
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("VoiceConnector.site:2:8: expected UTF-8 text"),
        "{err}"
    );

    // A broken sfdx-project.json.
    let src = tmp.path().join("src");
    common::copy_tree(Path::new(SOURCE), &src);
    std::fs::write(
        src.join("sfdx-project.json"),
        "{\n  \"packageDirectories\": [\n",
    )
    .unwrap();
    let err = load_metadata(&src, &MetadataOptions::default()).unwrap_err();
    assert!(matches!(err, MetadataError::Project { .. }), "{err:?}");
    assert!(err.to_string().contains("sfdx-project.json:"), "{err}");
}

#[test]
fn a_component_defined_twice_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("dup");
    common::copy_tree(Path::new(SOURCE), &root);
    std::fs::write(
        root.join("sfdx-project.json"),
        r#"{"packageDirectories":[{"path":"force-app"},{"path":"extra"}]}"#,
    )
    .unwrap();
    std::fs::create_dir_all(root.join("extra/sites")).unwrap();
    std::fs::copy(
        format!("{SOURCE_DEFAULT}/sites/VoiceConnector.site-meta.xml"),
        root.join("extra/sites/VoiceConnector.site-meta.xml"),
    )
    .unwrap();
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    assert!(
        matches!(&err, MetadataError::DuplicateComponent { full_name, .. } if full_name == "VoiceConnector"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The public corpus.

/// The kind of a corpus file, from its folder and its name after the `owner__repo__` prefix.
fn corpus_kind(folder: &str, file_name: &str) -> Option<(MetadataKind, String)> {
    let short = file_name.splitn(3, "__").nth(2).unwrap_or(file_name);
    if folder == "manifests" && short == "package.xml" {
        return Some((MetadataKind::Package, "package".to_string()));
    }
    let mdapi_folder = match folder {
        "voice" => "settings",
        other => other,
    };
    MetadataKind::classify(short, Some(mdapi_folder))
}

fn corpus_dir() -> Option<PathBuf> {
    match std::env::var_os("ECI_AUDIT_CORPUS") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => {
            println!("ECI_AUDIT_CORPUS not set; skipping corpus test");
            None
        }
    }
}

fn parse_corpus(root: &Path, folder: &str, name: &str) -> ParsedComponent {
    let (kind, full_name) = corpus_kind(folder, name).expect("known corpus kind");
    let path = root.join(folder).join(name);
    let bytes = std::fs::read(&path).unwrap();
    parse_metadata_file(kind, &full_name, &path.display().to_string(), &bytes)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Text between `<tag>` and `</tag>`, for the secret check.
fn element_values(text: &str, tag: &str) -> Vec<String> {
    let re = regex::Regex::new(&format!(r"(?s)<{tag}>(.*?)</{tag}>")).unwrap();
    re.captures_iter(text)
        .map(|c| c[1].trim().to_string())
        .filter(|v| v.len() >= 4)
        .collect()
}

#[test]
fn every_corpus_file_parses_and_keeps_no_secret() {
    let Some(root) = corpus_dir() else {
        return;
    };
    let mut mapped = 0;
    let mut checked = 0;
    let mut folders: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    folders.sort_by_key(std::fs::DirEntry::file_name);
    for folder in folders {
        if !folder.file_type().unwrap().is_dir() {
            continue;
        }
        let folder_name = folder.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(folder.path()).unwrap() {
            let file = file.unwrap();
            let name = file.file_name().to_string_lossy().into_owned();
            if std::path::Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                continue;
            }
            let path = file.path();
            let display = path.display().to_string();
            let bytes = std::fs::read(&path).unwrap();
            if let Some((kind, full_name)) = corpus_kind(&folder_name, &name) {
                let parsed = parse_metadata_file(kind, &full_name, &display, &bytes)
                    .unwrap_or_else(|e| panic!("{display}: {e}"));
                let debug = format!("{parsed:?}");
                let text = String::from_utf8_lossy(&bytes);
                for tag in [
                    "consumerSecret",
                    "password",
                    "oauthToken",
                    "oauthRefreshToken",
                    "consumerKey",
                ] {
                    for secret in element_values(&text, tag) {
                        assert!(!debug.contains(&secret), "{display}: <{tag}> value leaked");
                    }
                }
                mapped += 1;
            } else {
                check_xml(&display, &bytes).unwrap_or_else(|e| panic!("{display}: {e}"));
                checked += 1;
            }
        }
    }
    assert!(mapped >= 50, "only {mapped} corpus files were mapped");
    assert!(checked >= 1);
}

#[test]
fn corpus_values_are_extracted() {
    let Some(root) = corpus_dir() else {
        return;
    };
    let ParsedComponent::NamedCredential(nc) = parse_corpus(
        &root,
        "namedCredentials",
        "yeialgov__testDevCenter__Aircall.namedCredential-meta.xml",
    ) else {
        panic!("not a named credential")
    };
    assert_eq!(nc.full_name, "Aircall");
    assert_eq!(nc.endpoint.as_deref(), Some("https://api.aircall.io"));
    assert_eq!(nc.principal_type.as_deref(), Some("NamedUser"));
    assert_eq!(nc.protocol.as_deref(), Some("Password"));
    assert!(nc.username.as_deref().is_some_and(|u| !u.trim().is_empty()));
    assert_eq!(nc.generate_authorization_header, Some(true));
    assert_eq!(nc.allow_merge_fields_in_header, Some(false));
    assert!(matches!(
        nc.locations["endpoint"],
        Origin::File {
            line: 5,
            column: 5,
            ..
        }
    ));

    // Space before `?>`, non-ASCII profile name.
    let ParsedComponent::ConnectedApp(canvas) = parse_corpus(
        &root,
        "connectedApps",
        "hrendoh__salseforce-canvas-php__Canvas_App.connectedApp-meta.xml",
    ) else {
        panic!("not a connected app")
    };
    assert_eq!(canvas.full_name, "Canvas_App");
    assert_eq!(canvas.label.as_deref(), Some("Canvas App"));
    assert_eq!(
        canvas.profile_names,
        Some(vec!["システム管理者".to_string()])
    );
    let oauth = canvas.oauth_config.expect("oauthConfig");
    assert_eq!(
        oauth.scopes,
        Some(vec!["Basic".to_string(), "Api".to_string()])
    );
    assert!(oauth.consumer_key_fingerprint.is_some());
    assert_eq!(oauth.is_secret_required_for_refresh_token, None);

    // Connected apps without oauthConfig.
    for name in [
        "yeialgov__testDevCenter__DevOps_Center.connectedApp-meta.xml",
        "jeannberrioss__Regeneron-ProductionOrg__Tableau-saml-only.connectedApp-meta.xml",
    ] {
        let ParsedComponent::ConnectedApp(app) = parse_corpus(&root, "connectedApps", name) else {
            panic!("not a connected app")
        };
        assert_eq!(app.oauth_config, None, "{name}");
        assert!(app.label.is_some(), "{name}");
    }

    // mdapi name, no -meta.xml.
    let ParsedComponent::ConnectedApp(cti) = parse_corpus(
        &root,
        "connectedApps",
        "ORMSFDC__orm-sfdc__cti.connectedApp",
    ) else {
        panic!("not a connected app")
    };
    assert_eq!(cti.full_name, "cti");
    assert_eq!(
        cti.oauth_config.unwrap().scopes,
        Some(vec!["Full".to_string()])
    );

    // The same consumer key in a connected app and an auth provider: equal fingerprints.
    let ParsedComponent::ConnectedApp(npe) = parse_corpus(
        &root,
        "connectedApps",
        "sarath16581__AP-Backup__STEST_NPE_Connected_Clients.connectedApp-meta.xml",
    ) else {
        panic!("not a connected app")
    };
    let ParsedComponent::AuthProvider(provider) = parse_corpus(
        &root,
        "authproviders",
        "sarath16581__AP-Backup__SalesforceAPIAuthProvider.authprovider-meta.xml",
    ) else {
        panic!("not an auth provider")
    };
    assert!(provider.consumer_key_fingerprint.is_some());
    assert_eq!(
        npe.oauth_config.unwrap().consumer_key_fingerprint,
        provider.consumer_key_fingerprint
    );

    // `&amp;` in a value.
    let ParsedComponent::AuthProvider(auth0) = parse_corpus(
        &root,
        "authproviders",
        "sarath16581__AP-Backup__Auth0Consumer.authprovider-meta.xml",
    ) else {
        panic!("not an auth provider")
    };
    assert!(auth0.friendly_name.unwrap().contains('&'));

    // URL-encoded profile file name; a profile with xmlns repeated on children and a BOM'd set.
    let ParsedComponent::Profile { profile, .. } = parse_corpus(
        &root,
        "profiles",
        "yeialgov__testDevCenter__Custom%3A Sales Profile.profile-meta.xml",
    ) else {
        panic!("not a profile")
    };
    assert_eq!(profile.name, "Custom: Sales Profile");
    let ParsedComponent::Profile { profile, .. } = parse_corpus(
        &root,
        "profiles",
        "ORMSFDC__orm-sfdc__Guest_License_User.profile",
    ) else {
        panic!("not a profile")
    };
    assert_eq!(profile.name, "Guest_License_User");
    let ParsedComponent::PermissionSet { permission_set, .. } = parse_corpus(
        &root,
        "permissionsets",
        "ORMSFDC__orm-sfdc__VoiceInbound.permissionset",
    ) else {
        panic!("not a permission set")
    };
    assert!(matches!(
        permission_set.source,
        Some(Origin::File {
            line: 1,
            column: 39,
            ..
        })
    ));

    // An empty ConversationalIntelligence settings file: enableCallCoaching absent.
    let ParsedComponent::ConversationalIntelligence { eci_enabled, .. } = parse_corpus(
        &root,
        "voice",
        "yeialgov__testDevCenter__ConversationalIntelligence.settings-meta.xml",
    ) else {
        panic!("not the settings")
    };
    assert_eq!(eci_enabled, None);
}

// ---------------------------------------------------------------------------------------------
// Never panic.

fn fixture_files() -> Vec<(MetadataKind, &'static str)> {
    vec![
        (
            MetadataKind::ConnectedApp,
            "connectedApps/ECIConnectedApp.connectedApp-meta.xml",
        ),
        (
            MetadataKind::AuthProvider,
            "authproviders/ECIAuthProvider.authprovider-meta.xml",
        ),
        (
            MetadataKind::NamedCredential,
            "namedCredentials/Aircall.namedCredential-meta.xml",
        ),
        (
            MetadataKind::CustomSite,
            "sites/VoiceConnector.site-meta.xml",
        ),
        (
            MetadataKind::ConversationalIntelligenceSettings,
            "settings/ConversationalIntelligence.settings-meta.xml",
        ),
        (MetadataKind::Profile, "profiles/Admin.profile-meta.xml"),
        (
            MetadataKind::PermissionSet,
            "permissionsets/ConversationInsightsIntegrationUser.permissionset-meta.xml",
        ),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b'<', b'>', b'/', b'&', b';', b'"', b'=', b'?', b'!', b'[', b']', b'-', b' ', b'\n', b'\r',
        0x00, 0x80, 0xC3, 0xEF, 0xFF, b'x', b':',
    ]);
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), interesting.clone()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

/// Whether the fixture secret is still only inside its own, intact element (a mutation can copy
/// it elsewhere, where it would be an ordinary value).
fn secret_only_in_its_element(bytes: &[u8]) -> bool {
    let count = |needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
    count(b"FIXTURE_SECRET")
        == count(b"<consumerSecret>FIXTURE_SECRET_NEVER_STORED</consumerSecret>")
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation], truncate: Option<usize>) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % len);
            }
            Mutation::Delete(_) => {}
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Replace(i, b) if !bytes.is_empty() => bytes[i % len] = b,
            Mutation::Replace(..) => {}
            Mutation::Duplicate(i, n) if !bytes.is_empty() => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                let chunk = bytes[start..end].to_vec();
                bytes.splice(start..start, chunk);
            }
            Mutation::Duplicate(..) => {}
        }
    }
    if let Some(t) = truncate {
        let t = t % (bytes.len() + 1);
        bytes.truncate(t);
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_or_truncated_files_never_panic(
        which in 0usize..7,
        mutations in prop::collection::vec(mutation(), 0..8),
        truncate in prop::option::of(any::<usize>()),
    ) {
        let (kind, rel) = fixture_files()[which];
        let path = format!("{SOURCE_DEFAULT}/{rel}");
        let bytes = mutate(std::fs::read(&path).unwrap(), &mutations, truncate);
        // Any kind against any file: wrong roots must be errors too, never panics.
        let guarded = secret_only_in_its_element(&bytes);
        for k in [kind, MetadataKind::ConnectedApp, MetadataKind::Package] {
            match parse_metadata_file(k, "X", &path, &bytes) {
                Ok(parsed) => {
                    let debug = format!("{parsed:?}");
                    prop_assert!(!guarded || !debug.contains("FIXTURE_SECRET"));
                }
                Err(e) => {
                    let msg = e.to_string();
                    prop_assert!(msg.contains(&path), "{msg}");
                    prop_assert!(!guarded || !msg.contains("FIXTURE_SECRET"), "{msg}");
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_metadata_file(MetadataKind::Profile, "X", "x", &bytes);
        let _ = check_xml("x", &bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mutated_zips_never_panic(
        mutations in prop::collection::vec(mutation(), 1..6),
        truncate in prop::option::of(any::<usize>()),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let good = tmp.path().join("good.zip");
        zip_dir(Path::new(MDAPI), "unpackaged/", &good);
        let bytes = mutate(std::fs::read(&good).unwrap(), &mutations, truncate);
        let bad = tmp.path().join("bad.zip");
        std::fs::write(&bad, &bytes).unwrap();
        if let Err(e) = load_metadata(&bad, &MetadataOptions::default()) {
            prop_assert!(e.to_string().contains("bad.zip"), "{e}");
        }
    }

    #[test]
    fn mutated_directories_never_panic(
        which in 0usize..7,
        mutations in prop::collection::vec(mutation(), 1..6),
        truncate in prop::option::of(any::<usize>()),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("dir");
        common::copy_tree(Path::new(SOURCE), &root);
        let (_, rel) = fixture_files()[which];
        let file = root.join("force-app/main/default").join(rel);
        let bytes = mutate(std::fs::read(&file).unwrap(), &mutations, truncate);
        std::fs::write(&file, &bytes).unwrap();
        let guarded = secret_only_in_its_element(&bytes);
        match load_metadata(&root, &MetadataOptions::default()) {
            Ok(s) => {
                let json = serde_json::to_string(&s).unwrap();
                prop_assert!(!guarded || !json.contains("FIXTURE_SECRET"));
            }
            Err(e) => prop_assert!(e.to_string().contains(rel.rsplit('/').next().unwrap()), "{e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Review fixes: Id spaces in merges, symlinks and package directories, xsd:boolean, consumer
// keys that a source file cannot have yet.

fn org_with_users_and_assignments() -> Snapshot {
    let mut org = Snapshot::empty(SourceKind::LiveOrg);
    org.source.description = Some("org.json".into());
    org.users = Collection::collected(
        vec![User {
            id: "005000000000001AAA".into(),
            username: "ci@acme.example.com".into(),
            is_active: Some(true),
            profile_id: Some("00e000000000001AAA".into()),
            ..User::default()
        }],
        None,
    );
    org.permission_set_assignments = Collection::collected(
        vec![PermissionSetAssignment {
            assignee_id: "005000000000001AAA".into(),
            permission_set_id: "0PS000000000001AAA".into(),
            ..PermissionSetAssignment::default()
        }],
        None,
    );
    org
}

fn ids<T>(c: &Collection<T>, id: impl Fn(&T) -> String) -> Vec<String> {
    c.available().expect("collected").iter().map(id).collect()
}

#[test]
fn a_merge_never_joins_file_ids_with_snapshot_ids() {
    let files = load(SOURCE);
    let unmatched = |what: &str, to: &str| {
        format!(
            "the org snapshot has no {what} (not in the snapshot), and the files' {what} cannot \
             be matched to its {to}"
        )
    };

    // Users and assignments, no permission sets: the files' `file:` sets would match nothing,
    // so the integration user would seem to hold nothing. They stay not collected instead.
    let merged = merge_org_data(files.clone(), org_with_users_and_assignments());
    let to = "permission set assignments and users";
    assert_eq!(
        merged.permission_sets.available().unwrap_err(),
        unmatched("permission sets", to)
    );
    assert_eq!(
        merged.profiles.available().unwrap_err(),
        unmatched("profiles", to)
    );
    assert_eq!(
        merged.object_permissions.available().unwrap_err(),
        unmatched("object permissions", to)
    );
    assert_eq!(merged.users.items().len(), 1);
    assert_eq!(merged.permission_set_assignments.items().len(), 1);
    // Metadata components still come from the files.
    assert_eq!(merged.connected_apps.items().len(), 1);

    // Either one is enough to pin the snapshot's Ids.
    let mut org = org_with_users_and_assignments();
    org.users = Collection::not_collected("no View Setup");
    let merged = merge_org_data(files.clone(), org);
    assert_eq!(
        merged.permission_sets.available().unwrap_err(),
        unmatched("permission sets", "permission set assignments")
    );
    let mut org = org_with_users_and_assignments();
    org.permission_set_assignments = Collection::not_collected("no View Setup");
    let merged = merge_org_data(files.clone(), org);
    assert_eq!(
        merged.profiles.available().unwrap_err(),
        unmatched("profiles", "users")
    );

    // The snapshot's own sets are kept, and the files' object permissions (parented by `file:`
    // Ids) do not join them.
    let mut org = org_with_users_and_assignments();
    org.permission_sets = Collection::collected(
        vec![PermissionSet {
            id: "0PS000000000001AAA".into(),
            name: Some("ConversationInsightsIntegrationUser".into()),
            ..PermissionSet::default()
        }],
        None,
    );
    let merged = merge_org_data(files.clone(), org);
    assert_eq!(
        ids(&merged.permission_sets, |p| p.id.clone()),
        ["0PS000000000001AAA"]
    );
    assert_eq!(
        merged.object_permissions.available().unwrap_err(),
        unmatched(
            "object permissions",
            "permission set assignments, users and permission sets"
        )
    );

    // Without users or assignments, but with the snapshot's permission sets: still one side.
    let mut org = Snapshot::empty(SourceKind::LiveOrg);
    org.permission_sets = Collection::collected(vec![], None);
    let merged = merge_org_data(files.clone(), org);
    assert_eq!(merged.permission_sets.available().unwrap().len(), 0);
    assert_eq!(
        merged.object_permissions.available().unwrap_err(),
        unmatched("object permissions", "permission sets")
    );

    // Nothing in the snapshot carries Ids: the files' three are used, and join each other.
    let merged = merge_org_data(files.clone(), Snapshot::empty(SourceKind::Manual));
    assert_eq!(
        ids(&merged.permission_sets, |p| p.id.clone()),
        [
            "file:ConversationInsightsIntegrationUser",
            "file:profile:Admin"
        ]
    );
    assert_eq!(
        ids(&merged.profiles, |p| p.id.clone().unwrap()),
        ["file:profile:Admin"]
    );
    assert_eq!(merged.object_permissions.items().len(), 2);
    assert_eq!(merged.permission_sets, files.permission_sets);

    // A snapshot that has all of them wins outright (as before).
    let mut org = org_with_users_and_assignments();
    org.profiles = Collection::collected(vec![], None);
    org.permission_sets = Collection::collected(vec![], None);
    org.object_permissions = Collection::collected(vec![], None);
    let merged = merge_org_data(files, org);
    assert!(merged.profiles.available().unwrap().is_empty());
    assert!(merged.permission_sets.available().unwrap().is_empty());
    assert!(merged.object_permissions.available().unwrap().is_empty());
}

#[cfg(unix)]
#[test]
fn symlinked_folders_are_not_followed_and_cycles_do_not_loop() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    common::copy_tree(Path::new(SOURCE), &root);
    let default = root.join("force-app/main/default");
    // Cycles: to the folder itself, to its parent, to the project.
    symlink(".", default.join("self")).unwrap();
    symlink("..", default.join("connectedApps/up")).unwrap();
    symlink(&root, default.join("sites/project")).unwrap();
    // A linked folder outside, with a file that would break the load (and duplicate the app).
    let outside = tmp.path().join("outside/connectedApps");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("Bad.connectedApp-meta.xml"),
        b"<ConnectedApp><label>unterminated",
    )
    .unwrap();
    std::fs::copy(
        default.join("connectedApps/ECIConnectedApp.connectedApp-meta.xml"),
        outside.join("ECIConnectedApp.connectedApp-meta.xml"),
    )
    .unwrap();
    symlink(&outside, default.join("linkedApps")).unwrap();
    // A link to a folder and a dangling link, both named like metadata files.
    symlink(
        &outside,
        default.join("connectedApps/Dir.connectedApp-meta.xml"),
    )
    .unwrap();
    symlink(
        tmp.path().join("missing"),
        default.join("connectedApps/Gone.connectedApp-meta.xml"),
    )
    .unwrap();
    // A symlinked file is read through the link.
    std::fs::rename(
        default.join("authproviders/ECIAuthProvider.authprovider-meta.xml"),
        tmp.path().join("ECIAuthProvider.authprovider-meta.xml"),
    )
    .unwrap();
    symlink(
        tmp.path().join("ECIAuthProvider.authprovider-meta.xml"),
        default.join("authproviders/ECIAuthProvider.authprovider-meta.xml"),
    )
    .unwrap();

    let s = load(&root);
    assert_eq!(
        ids(&s.connected_apps, |a| a.full_name.clone()),
        ["ECIConnectedApp"]
    );
    assert_eq!(
        ids(&s.auth_providers, |a| a.full_name.clone()),
        ["ECIAuthProvider"]
    );
    // The same, with no sfdx-project.json (the whole folder is walked).
    std::fs::remove_file(root.join("sfdx-project.json")).unwrap();
    let s = load(&default);
    assert_eq!(s.connected_apps.items().len(), 1);
}

fn project_with(root: &Path, package_directories: &str) {
    common::copy_tree(Path::new(SOURCE), root);
    std::fs::write(
        root.join("sfdx-project.json"),
        format!(
            "{{\n  \"packageDirectories\": [\n    {{ \"path\": \"force-app\", \"default\": true }},\n    {package_directories}\n  ],\n  \"sourceApiVersion\": \"62.0\"\n}}\n"
        ),
    )
    .unwrap();
}

fn project_error(root: &Path) -> (String, u32, u32, String) {
    match load_metadata(root, &MetadataOptions::default()) {
        Err(MetadataError::Project {
            path,
            line,
            column,
            message,
        }) => (path, line, column, message),
        other => panic!("expected an sfdx-project.json error, got {other:?}"),
    }
}

#[test]
fn package_directories_must_be_inside_the_project() {
    let tmp = tempfile::tempdir().unwrap();
    // A folder next to the project, with metadata that must not be read.
    let shared = tmp.path().join("shared/connectedApps");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(
        shared.join("Other.connectedApp-meta.xml"),
        "<ConnectedApp><label>Other</label></ConnectedApp>",
    )
    .unwrap();

    let root = tmp.path().join("escape");
    project_with(&root, r#"{ "path": "../shared" }"#);
    let project = format!("{}/sfdx-project.json", root.display());
    let (path, line, column, message) = project_error(&root);
    assert_eq!((path.as_str(), line, column), (project.as_str(), 4, 15));
    assert_eq!(
        message,
        "packageDirectories[1].path \"../shared\" leads out of the project folder; a package \
         directory must be inside the project folder"
    );
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{project}:4:15: invalid sfdx-project.json: ")),
        "{err}"
    );

    let root = tmp.path().join("nested-escape");
    project_with(&root, r#"{ "path": "force-app/../../shared" }"#);
    let (_, _, _, message) = project_error(&root);
    assert!(
        message.contains("leads out of the project folder"),
        "{message}"
    );

    let root = tmp.path().join("absolute");
    let absolute = tmp.path().join("shared").display().to_string();
    project_with(
        &root,
        &format!(
            "{{ \"path\": {} }}",
            serde_json::to_string(&absolute).unwrap()
        ),
    );
    let (_, line, _, message) = project_error(&root);
    assert_eq!(line, 4);
    assert!(
        message.starts_with("packageDirectories[1].path \"")
            && message.contains("\" is an absolute path"),
        "{message}"
    );

    // `..` that stays inside is fine.
    let root = tmp.path().join("inside");
    project_with(&root, r#"{ "path": "force-app/../force-app/main" }"#);
    assert_eq!(load(&root).connected_apps.items().len(), 1);
}

#[cfg(unix)]
#[test]
fn a_package_directory_linked_outside_the_project_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    std::fs::create_dir_all(shared.join("connectedApps")).unwrap();
    let root = tmp.path().join("linked");
    project_with(&root, r#"{ "path": "shared" }"#);
    std::os::unix::fs::symlink(&shared, root.join("shared")).unwrap();
    let (_, line, column, message) = project_error(&root);
    assert_eq!((line, column), (4, 15));
    assert!(
        message.starts_with(&format!(
            "packageDirectories[1].path \"shared\": {}/shared is a symbolic link to ",
            root.display()
        )) && message.ends_with(", outside the project folder"),
        "{message}"
    );

    // A link that stays inside the project is followed.
    let root = tmp.path().join("linked-inside");
    project_with(&root, r#"{ "path": "alias" }"#);
    std::os::unix::fs::symlink("force-app", root.join("alias")).unwrap();
    // force-app and alias are the same files: defined twice.
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    assert!(
        matches!(err, MetadataError::DuplicateComponent { .. }),
        "{err:?}"
    );
}

#[test]
fn a_missing_package_directory_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("missing");
    project_with(&root, r#"{ "path": "extra" }"#);
    let (path, line, column, message) = project_error(&root);
    assert_eq!(path, format!("{}/sfdx-project.json", root.display()));
    assert_eq!((line, column), (4, 15));
    assert_eq!(
        message,
        format!(
            "packageDirectories[1].path \"extra\": there is no folder {}/extra",
            root.display()
        )
    );

    // A file where a folder should be.
    std::fs::write(root.join("extra"), b"").unwrap();
    let (_, _, _, message) = project_error(&root);
    assert!(message.ends_with("/extra is not a folder"), "{message}");

    // No packageDirectories at all: the default force-app, which must exist too.
    let root = tmp.path().join("none");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("sfdx-project.json"),
        b"{\"packageDirectories\": []}",
    )
    .unwrap();
    let (_, line, column, message) = project_error(&root);
    assert_eq!((line, column), (1, 2));
    assert_eq!(
        message,
        format!(
            "the default package directory (sfdx-project.json lists none): there is no folder {}/force-app",
            root.display()
        )
    );
}

#[test]
fn xsd_boolean_one_and_zero_are_true_and_false() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bools");
    common::copy_tree(Path::new(MDAPI), &root);
    let site = root.join("sites/VoiceConnector.site");
    let text = std::fs::read_to_string(&site).unwrap();
    assert!(text.contains("<active>true</active>"));
    std::fs::write(
        &site,
        text.replace("<active>true</active>", "<active>\n 1 </active>"),
    )
    .unwrap();
    let nc = root.join("namedCredentials/Aircall.namedCredential");
    let nc_text = std::fs::read_to_string(&nc).unwrap();
    assert!(nc_text.contains("<allowMergeFieldsInBody>true</allowMergeFieldsInBody>"));
    std::fs::write(
        &nc,
        nc_text.replace(
            "<allowMergeFieldsInBody>true</allowMergeFieldsInBody>",
            "<allowMergeFieldsInBody>0</allowMergeFieldsInBody>",
        ),
    )
    .unwrap();
    let s = load(&root);
    let site_rec = &s.sites.items()[0];
    assert_eq!(site_rec.active, Some(true));
    assert!(site_rec.locations.contains_key("active"));
    let aircall = &s.named_credentials.items()[0];
    assert_eq!(aircall.full_name, "Aircall");
    assert_eq!(aircall.allow_merge_fields_in_body, Some(false));

    // Anything else is still an error at the element.
    std::fs::write(
        &site,
        text.replace("<active>true</active>", "<active>TRUE</active>"),
    )
    .unwrap();
    let err = load_metadata(&root, &MetadataOptions::default()).unwrap_err();
    assert!(
        matches!(&err, MetadataError::InvalidBoolean { element, found, .. } if element == "active" && found == "`TRUE`"),
        "{err:?}"
    );
    assert!(err.to_string().contains("VoiceConnector.site:"), "{err}");
}

#[test]
fn a_consumer_key_not_in_the_files_is_not_collected() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("new-app");
    common::copy_tree(Path::new(SOURCE), &root);
    let default = root.join("force-app/main/default");
    let app_rel = "connectedApps/ECIConnectedApp.connectedApp-meta.xml";
    let provider_rel = "authproviders/ECIAuthProvider.authprovider-meta.xml";
    let app_text = std::fs::read_to_string(default.join(app_rel)).unwrap();
    let provider_text = std::fs::read_to_string(default.join(provider_rel)).unwrap();
    let key_line = format!("<consumerKey>{FIXTURE_KEY}</consumerKey>");
    assert!(app_text.contains(&key_line) && provider_text.contains(&key_line));
    // Removed from the app (never deployed), blank in the provider.
    std::fs::write(default.join(app_rel), app_text.replace(&key_line, "")).unwrap();
    std::fs::write(
        default.join(provider_rel),
        provider_text.replace(&key_line, "<consumerKey></consumerKey>"),
    )
    .unwrap();

    let s = load(&root);
    let key = "consumer_key_fingerprint";
    let oauth = s.connected_apps.items()[0].oauth_config.as_ref().unwrap();
    assert_eq!(oauth.consumer_key_fingerprint, None);
    assert_eq!(
        oauth.not_collected[key],
        format!(
            "no consumerKey in {}/force-app/main/default/{app_rel}: Salesforce sets it when the \
             app is created; retrieve the app to compare keys",
            root.display()
        )
    );
    assert!(!s.connected_apps.items()[0].not_collected.contains_key(key));
    let provider = &s.auth_providers.items()[0];
    assert_eq!(provider.consumer_key_fingerprint, None);
    assert!(
        provider.not_collected[key].starts_with(&format!(
            "no consumerKey in {}/force-app/main/default/{provider_rel}: ",
            root.display()
        )),
        "{:?}",
        provider.not_collected
    );
    // It survives the snapshot file format.
    let json = serde_json::to_string(&s).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);

    // The healthy fixtures have both keys: nothing is marked.
    let healthy = load(SOURCE);
    assert!(
        healthy.connected_apps.items()[0]
            .oauth_config
            .as_ref()
            .unwrap()
            .not_collected
            .is_empty()
    );
    assert!(healthy.auth_providers.items()[0].not_collected.is_empty());
}
