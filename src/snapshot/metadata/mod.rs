//! Loading a Salesforce metadata directory (source or mdapi format) or an mdapi retrieve `.zip`
//! into a [`Snapshot`].
//!
//! A metadata directory is partial by nature, and the snapshot says so:
//! - org data (users, assignments, domains, installed packages, org facts) is never in it, so
//!   those are *not collected* with the reason "not in a metadata directory";
//! - a component type with no files at all is *not collected* ("no connectedApps in DIR: not a
//!   full retrieve …"), because a partial retrieve proves nothing about the org; with
//!   [`MetadataOptions::full_retrieve`] it is collected and empty, which proves absence.
//!
//! Values are kept raw: an absent element is `None` (the view layer applies Salesforce's
//! defaults). Each value's position is in its record's `locations`, keyed by the model's JSON
//! field name, and `source` is the position of the record's own element. Paths are the input
//! path as given joined with the file's relative path, `/`-separated
//! (`dir/force-app/main/default/connectedApps/X.connectedApp-meta.xml`); inside a zip they read
//! `retrieve.zip!/unpackaged/connectedApps/X.connectedApp`.
//!
//! Secrets (`consumerSecret`, `password`, `oauthToken`, `oauthRefreshToken`) are skipped unread;
//! consumer keys are kept only as [`fingerprint`](crate::snapshot::model::fingerprint)s.

mod eca;
mod error;
mod merge;
mod parse;
mod tree;
mod xml;

use std::collections::BTreeMap;
use std::path::Path;

pub use eca::{
    OAUTH_POLICIES_ACCESS, OAUTH_SETTINGS_ACCESS, PARTS as ECA_PARTS, lacks as eca_lacks,
    merge_all as merge_eca_parts,
};
pub use error::MetadataError;
pub use merge::merge_org_data;
pub use parse::{
    MetadataKind, ParsedComponent, check_xml, parse_metadata_file, percent_decode,
    permission_set_file_id, profile_display_name, profile_file_id,
};

use crate::snapshot::model::{
    Collection, ExternalClientApp, ExternalClientAppField, Named, Org, OrgField, Origin, Record,
    SCHEMA_VERSION, SiteField, Snapshot, SourceInfo, SourceKind,
};
use tree::{Input, display_path};

/// The reason org-only data is missing from a metadata snapshot.
pub const NOT_IN_METADATA_DIR: &str = "not in a metadata directory";

/// How to read a metadata directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataOptions {
    /// The directory is a full retrieve: a component type with no files proves there are none.
    pub full_retrieve: bool,
}

/// Loads a metadata directory (source or mdapi format) or an mdapi retrieve `.zip`.
///
/// Only files whose names match a kind the audit reads are opened (see
/// [`MetadataKind::classify`]); `.git`, `node_modules`, `.sfdx` and `.sf` are not searched.
/// With an `sfdx-project.json`, only its `packageDirectories` are searched; each must be an
/// existing folder inside the project (no absolute path, no `..` or symbolic link leading out of
/// it), else the load fails naming the entry. Symbolic links to folders are never entered below
/// the input and its package directories (a link cycle cannot loop); linked files are read.
///
/// A connected app's (`oauthConfig`) or auth provider's missing or blank `consumerKey` is *not
/// collected* (`not_collected["consumer_key_fingerprint"]`): a source file has none before the
/// first deploy, so it proves no mismatch.
pub fn load_metadata(path: &Path, opts: &MetadataOptions) -> Result<Snapshot, MetadataError> {
    let display = display_path(path);
    let mut input = Input::open(path, &display)?;
    let listing = input.list()?;
    // A folder without one file the guide's components live in is the wrong folder, not an
    // org without a setup: auditing it would only report what it cannot see.
    if listing.candidates.is_empty() {
        return Err(MetadataError::NothingFound { path: display });
    }

    let mut snapshot = Snapshot::empty(SourceKind::MetadataDir);
    snapshot.runtime = crate::snapshot::model::Runtime::from_metadata_directory();
    let mut api_version = listing.source_api_version.clone();
    if let Some(package) = &listing.package_xml {
        let bytes = input.read(package)?;
        if let ParsedComponent::Package { api_version: v } =
            parse_metadata_file(MetadataKind::Package, "package", &package.display, &bytes)?
        {
            api_version = api_version.or(v);
        }
    }

    let mut seen: BTreeMap<(MetadataKind, &str), &str> = BTreeMap::new();
    for c in &listing.candidates {
        if let Some(first) = seen.insert((c.kind, c.full_name.as_str()), c.display.as_str()) {
            return Err(MetadataError::DuplicateComponent {
                kind: c.kind.type_name().to_string(),
                full_name: c.full_name.clone(),
                first: first.to_string(),
                second: c.display.clone(),
            });
        }
    }
    let found = |kind: MetadataKind| listing.candidates.iter().any(|c| c.kind == kind);

    let mut connected_apps = Vec::new();
    let mut auth_providers = Vec::new();
    let mut named_credentials = Vec::new();
    let mut sites = Vec::new();
    let mut permission_sets = Vec::new();
    let mut profiles = Vec::new();
    let mut object_permissions = Vec::new();
    let mut eca_parts: Vec<(ExternalClientApp, bool)> = Vec::new();
    let mut eci: Option<(Option<bool>, Origin)> = None;

    for c in &listing.candidates {
        let bytes = input.read(c)?;
        match parse_metadata_file(c.kind, &c.full_name, &c.display, &bytes)? {
            ParsedComponent::ConnectedApp(app) => connected_apps.push(*app),
            ParsedComponent::AuthProvider(p) => auth_providers.push(p),
            ParsedComponent::NamedCredential(n) => named_credentials.push(n),
            ParsedComponent::Site(mut s) => {
                // Only the org knows the guest user (merging a snapshot fills it in).
                s.mark_not_collected(
                    &[SiteField::guest_user_id],
                    "the guest user is not in a metadata directory",
                );
                sites.push(s);
            }
            ParsedComponent::ConversationalIntelligence {
                eci_enabled,
                location,
            } => eci = Some((eci_enabled, location)),
            ParsedComponent::PermissionSet {
                permission_set,
                object_permissions: perms,
            } => {
                permission_sets.push(permission_set);
                object_permissions.extend(perms);
            }
            ParsedComponent::Profile {
                profile,
                permission_set,
                object_permissions: perms,
            } => {
                profiles.push(profile);
                permission_sets.push(permission_set);
                object_permissions.extend(perms);
            }
            ParsedComponent::ExternalClientApp(app) => {
                eca_parts.push((*app, c.kind == MetadataKind::ExternalClientApplication));
            }
            ParsedComponent::ExternalCredential | ParsedComponent::Package { .. } => {}
        }
    }

    let gather = |present: bool, folder: &str| -> Result<Option<Origin>, String> {
        if present {
            Ok(None)
        } else if opts.full_retrieve {
            Ok(Some(Origin::Input {
                key: "--full-retrieve".to_string(),
            }))
        } else {
            Err(format!(
                "no {folder} in {display}: not a full retrieve (pass --full-retrieve if it is)"
            ))
        }
    };
    fn named_components<T: Named>(
        state: Result<Option<Origin>, String>,
        items: Vec<T>,
    ) -> Collection<T> {
        collection(state, items, |c| c.full_name().to_string())
    }
    fn collection<T>(
        state: Result<Option<Origin>, String>,
        mut items: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> Collection<T> {
        match state {
            Ok(source) => {
                items.sort_by_key(|i| key(i));
                Collection::collected(items, source)
            }
            Err(reason) => Collection::not_collected(reason),
        }
    }

    let psets_found = found(MetadataKind::PermissionSet);
    let profiles_found = found(MetadataKind::Profile);
    snapshot.connected_apps = named_components(
        gather(found(MetadataKind::ConnectedApp), "connectedApps"),
        connected_apps,
    );
    snapshot.auth_providers = named_components(
        gather(found(MetadataKind::AuthProvider), "authproviders"),
        auth_providers,
    );
    snapshot.named_credentials = named_components(
        gather(found(MetadataKind::NamedCredential), "namedCredentials"),
        named_credentials,
    );
    snapshot.sites = named_components(gather(found(MetadataKind::CustomSite), "sites"), sites);
    let mut external_client_apps: Vec<ExternalClientApp> =
        eca::merge_all(eca_parts).into_values().collect();
    // A part whose folder the directory lacks is unknown, not missing (unless a full retrieve):
    // the global OAuth settings in particular are meant to stay out of source control.
    for (kind, field) in eca::PARTS {
        if let Err(reason) = gather(found(kind), kind.folder()) {
            let why = if field == ExternalClientAppField::global_oauth_settings {
                format!(
                    " (global OAuth settings hold the consumer key and are usually kept out of source control; {OAUTH_SETTINGS_ACCESS})"
                )
            } else {
                String::new()
            };
            for app in &mut external_client_apps {
                if eca::lacks(app, field) {
                    app.not_collected.insert(field, format!("{reason}{why}"));
                }
            }
        }
    }
    let eca_found = [
        MetadataKind::ExternalClientApplication,
        MetadataKind::ExtlClntAppOauthPolicies,
        MetadataKind::ExtlClntAppOauthSettings,
        MetadataKind::ExtlClntAppGlobalOauthSettings,
    ]
    .into_iter()
    .any(found);
    snapshot.external_client_apps = named_components(
        gather(eca_found, "externalClientApps"),
        external_client_apps,
    );
    snapshot.profiles = collection(gather(profiles_found, "profiles"), profiles, |p| {
        p.name.clone()
    });
    snapshot.permission_sets = collection(
        gather(psets_found, "permissionsets"),
        permission_sets,
        |p| p.id.clone(),
    );
    snapshot.object_permissions = collection(
        gather(psets_found || profiles_found, "permissionsets or profiles"),
        object_permissions,
        |o| format!("{}\u{0}{}", o.parent_id, o.object),
    );

    fn not_in_dir<T>() -> Collection<T> {
        Collection::not_collected(NOT_IN_METADATA_DIR)
    }
    snapshot.users = not_in_dir();
    snapshot.permission_set_assignments = not_in_dir();
    snapshot.domains = not_in_dir();

    let mut org = Org {
        installed_packages: not_in_dir(),
        ..Org::default()
    };
    org.mark_not_collected(
        &[
            OrgField::id,
            OrgField::name,
            OrgField::edition,
            OrgField::instance_url,
            OrgField::voice_call_object_available,
        ],
        NOT_IN_METADATA_DIR,
    );
    org.mark_not_collected(
        &[OrgField::my_domain],
        "a metadata directory does not say the org's My Domain; pass --my-domain",
    );
    match eci {
        Some((value, location)) => {
            org.eci_enabled = value;
            org.locations.insert(OrgField::eci_enabled, location);
        }
        None => {
            if let Err(reason) = gather(false, "ConversationalIntelligence settings") {
                org.not_collected.insert(OrgField::eci_enabled, reason);
            }
        }
    }
    snapshot.org = org;

    snapshot.schema_version = SCHEMA_VERSION;
    let mut notes = Vec::new();
    if listing.forceignored > 0 {
        notes.push(format!(
            "{} metadata file{} ignored by .forceignore (they never deploy)",
            listing.forceignored,
            if listing.forceignored == 1 { "" } else { "s" }
        ));
    }
    snapshot.source = SourceInfo {
        kind: SourceKind::MetadataDir,
        description: Some(display.clone()),
        api_version,
        tool_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        notes,
        ..SourceInfo::default()
    };
    Ok(snapshot)
}
