//! From wire answers to the snapshot model: SOQL rows (`Origin::Record`) and `readMetadata`
//! records (`Origin::Metadata`, mapped by the metadata-directory parser) merged by name.
//! Values stay raw; defaults are the view layer's job.

use std::collections::BTreeMap;

use serde_json::Value;

use super::gathered::{Gathered, QueryOutcome, SoapFailure, UserInfo};
use super::rest::{boolean, child_rows, has, string};
use super::soap::METADATA_READS;
use super::soql::{self, OptionalField, QueryId};
use crate::snapshot::metadata::{MetadataKind, ParsedComponent, parse_metadata_file};
use crate::snapshot::model::{
    AircallCheck, AuthProvider, Collection, ConnectedApp, Domain, InstalledPackage,
    NamedCredential, ObjectPermission, Origin, PermissionSet, PermissionSetAssignment, Profile,
    Record, Site, Snapshot, SourceKind, User, fingerprint,
};

/// Facts about the session the assembler needs.
pub(crate) struct Context {
    pub instance_url: String,
    pub api_version: String,
    pub my_domain: Option<String>,
    pub integration_user: Option<String>,
    pub userinfo: Option<UserInfo>,
    pub aircall: Option<AircallCheck>,
}

fn record_origin(object: &str, row: &Value) -> Origin {
    Origin::Record {
        object: object.to_string(),
        id: string(row, "Id"),
    }
}

fn collection_origin(object: &str) -> Option<Origin> {
    Some(Origin::Record {
        object: object.to_string(),
        id: None,
    })
}

fn mark<R: Record>(record: &mut R, fields: &[&str], reason: &str) {
    let (_, not_collected, _) = record.bookkeeping_mut();
    for f in fields {
        not_collected.insert((*f).to_string(), reason.to_string());
    }
}

pub(crate) fn assemble(g: Gathered, cx: &Context) -> Snapshot {
    let mut s = Snapshot::empty(SourceKind::LiveOrg);
    let mut missing_permissions = Vec::new();
    for (spec, outcome) in g.queries.values() {
        if let QueryOutcome::Failed {
            code: Some(code),
            message,
            ..
        } = outcome
        {
            if code.starts_with("INSUFFICIENT_ACCESS") {
                missing_permissions.push(format!("SOQL {}: {code}", spec.object));
            } else if code == "INVALID_TYPE" {
                // The message names the object (it may be a semi-join's, not the main one).
                let object = message
                    .split("sObject type '")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .unwrap_or(spec.object);
                missing_permissions.push(format!(
                    "SOQL {object}: INVALID_TYPE (object unavailable in this org or not visible to the auditing user)"
                ));
            }
        }
    }
    for (kind, result) in &g.metadata {
        if let Err(SoapFailure {
            code: Some(code), ..
        }) = result
            && code.starts_with("INSUFFICIENT_ACCESS")
        {
            missing_permissions.push(format!(
                "readMetadata {}: {code} (needs Modify Metadata Through Metadata API Functions or Modify All Data)",
                kind.type_name()
            ));
        }
    }
    missing_permissions.sort();
    missing_permissions.dedup();

    map_org(&g, cx, &mut s);
    map_people(&g, &mut s);
    s.object_permissions = match g.rows(QueryId::VoiceCallObjectPermissions) {
        Some(Ok((rows, _))) => Collection::collected(
            rows.iter().map(object_permission).collect(),
            collection_origin("ObjectPermissions"),
        ),
        Some(Err(reason)) => Collection::not_collected(reason),
        None => Collection::not_collected("not queried"),
    };
    s.connected_apps = connected_apps(&g);
    let providers = g.rows(QueryId::AuthProviders);
    let provider_names: BTreeMap<String, String> = match &providers {
        Some(Ok((rows, _))) => rows
            .iter()
            .filter_map(|r| Some((string(r, "Id")?, string(r, "DeveloperName")?)))
            .collect(),
        _ => BTreeMap::new(),
    };
    s.auth_providers = merge_components(
        &g,
        QueryId::AuthProviders,
        MetadataKind::AuthProvider,
        |row| AuthProvider {
            full_name: string(row, "DeveloperName").unwrap_or_default(),
            id: string(row, "Id"),
            friendly_name: string(row, "FriendlyName"),
            provider_type: string(row, "ProviderType"),
            consumer_key_fingerprint: string(row, "ConsumerKey")
                .filter(|k| !k.trim().is_empty())
                .map(|k| fingerprint(&k)),
            source: Some(record_origin("AuthProvider", row)),
            ..AuthProvider::default()
        },
    );
    let providers_readable = matches!(providers, Some(Ok(_)));
    s.named_credentials = merge_components(
        &g,
        QueryId::NamedCredentials,
        MetadataKind::NamedCredential,
        |row| {
            let mut nc = NamedCredential {
                full_name: string(row, "DeveloperName").unwrap_or_default(),
                id: string(row, "Id"),
                label: string(row, "MasterLabel"),
                endpoint: string(row, "Endpoint"),
                principal_type: string(row, "PrincipalType"),
                generate_authorization_header: boolean(
                    row,
                    "CalloutOptionsGenerateAuthorizationHeader",
                ),
                allow_merge_fields_in_header: boolean(
                    row,
                    "CalloutOptionsAllowMergeFieldsInHeader",
                ),
                allow_merge_fields_in_body: boolean(row, "CalloutOptionsAllowMergeFieldsInBody"),
                source: Some(record_origin("NamedCredential", row)),
                ..NamedCredential::default()
            };
            if let Some(provider_id) = string(row, "AuthProviderId") {
                match provider_names.get(&provider_id) {
                    Some(name) => nc.auth_provider = Some(name.clone()),
                    None => {
                        let reason = if providers_readable {
                            format!(
                                "AuthProviderId {provider_id} is not among the auth providers read"
                            )
                        } else {
                            format!(
                                "AuthProviderId {provider_id}: the auth providers could not be read"
                            )
                        };
                        mark(&mut nc, &["auth_provider"], &reason);
                    }
                }
            }
            nc
        },
    );
    s.sites = merge_components(&g, QueryId::Sites, MetadataKind::CustomSite, |row| Site {
        full_name: string(row, "Name").unwrap_or_default(),
        id: string(row, "Id"),
        label: string(row, "MasterLabel"),
        status: string(row, "Status"),
        clickjack_protection_level: string(row, "ClickjackProtectionLevel"),
        site_admin: string(row, "AdminId"),
        guest_record_default_owner: string(row, "GuestRecordDefaultOwnerId"),
        guest_user_id: string(row, "GuestUserId"),
        subdomain: string(row, "Subdomain"),
        site_type: string(row, "SiteType"),
        source: Some(record_origin("Site", row)),
        ..Site::default()
    });
    add_site_user_placeholders(&g, &mut s);
    s.domains = match g.rows(QueryId::Domains) {
        Some(Ok((rows, _))) => Collection::collected(
            rows.iter()
                .map(|row| Domain {
                    domain: string(row, "Domain").unwrap_or_default(),
                    domain_type: string(row, "DomainType"),
                    https_option: string(row, "HttpsOption"),
                    source: Some(record_origin("Domain", row)),
                    ..Domain::default()
                })
                .collect(),
            collection_origin("Domain"),
        ),
        Some(Err(reason)) => Collection::not_collected(reason),
        None => Collection::not_collected("not queried"),
    };
    s.external_client_apps =
        Collection::not_collected("External Client Apps are not read from a live org");
    s.aircall = cx.aircall.clone();

    let org_id = s
        .org
        .id
        .clone()
        .or_else(|| cx.userinfo.as_ref().and_then(|u| u.organization_id.clone()));
    s.source.description = Some(format!("live org {}", cx.instance_url));
    s.source.org_id = org_id;
    s.source.instance_url = Some(cx.instance_url.clone());
    s.source.api_version = Some(cx.api_version.clone());
    s.source.tool_version = Some(env!("CARGO_PKG_VERSION").to_string());
    s.source.collected_at =
        Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    s.source.auditing_user = cx.userinfo.as_ref().and_then(|u| u.username.clone());
    s.source.missing_permissions = missing_permissions;
    s.source.integration_user = cx.integration_user.clone();
    s
}

fn map_org(g: &Gathered, cx: &Context, s: &mut Snapshot) {
    let org = &mut s.org;
    match g.rows(QueryId::Organization) {
        Some(Ok((rows, _))) => {
            if let Some(row) = rows.first() {
                org.id = string(row, "Id");
                org.name = string(row, "Name");
                org.edition = string(row, "OrganizationType");
                org.source = Some(record_origin("Organization", row));
            }
        }
        Some(Err(reason)) => mark(org, &["id", "name", "edition"], reason),
        None => {}
    }
    org.instance_url = Some(cx.instance_url.clone());
    org.my_domain = Some(
        cx.my_domain
            .clone()
            .unwrap_or_else(|| cx.instance_url.clone()),
    );
    let my_domain_origin = match cx.my_domain {
        Some(_) => Origin::Input {
            key: "--my-domain".to_string(),
        },
        None => Origin::Endpoint {
            endpoint: "instance URL of the session".to_string(),
        },
    };
    org.locations
        .insert("my_domain".to_string(), my_domain_origin);
    match &g.voice_call {
        Some(Ok(available)) => {
            org.voice_call_object_available = Some(*available);
            org.locations.insert(
                "voice_call_object_available".to_string(),
                Origin::Endpoint {
                    endpoint: format!(
                        "/services/data/v{}/sobjects/VoiceCall/describe",
                        cx.api_version
                    ),
                },
            );
        }
        Some(Err(reason)) => mark(org, &["voice_call_object_available"], reason),
        None => mark(org, &["voice_call_object_available"], "not read"),
    }
    let settings = MetadataKind::ConversationalIntelligenceSettings;
    match g.metadata.get(&settings) {
        Some(Ok(records)) => match records
            .iter()
            .find(|r| r.full_name == "ConversationalIntelligence")
        {
            Some(record) => match parse_metadata_file(
                settings,
                &record.full_name,
                &metadata_path(settings, &record.full_name),
                record.document.as_bytes(),
            ) {
                Ok(ParsedComponent::ConversationalIntelligence { eci_enabled, .. }) => {
                    org.eci_enabled = eci_enabled;
                    org.locations.insert(
                        "eci_enabled".to_string(),
                        metadata_origin(settings, &record.full_name),
                    );
                }
                Ok(_) => mark(org, &["eci_enabled"], "readMetadata returned another type"),
                Err(e) => mark(
                    org,
                    &["eci_enabled"],
                    &format!("unreadable readMetadata record: {e}"),
                ),
            },
            None => mark(
                org,
                &["eci_enabled"],
                "readMetadata returned no ConversationalIntelligence settings record (feature unavailable in this org?)",
            ),
        },
        Some(Err(failure)) => mark(org, &["eci_enabled"], &failure.reason),
        None => mark(org, &["eci_enabled"], "not read"),
    }
    org.installed_packages = match g.rows(QueryId::InstalledPackages) {
        Some(Ok((rows, _))) => Collection::collected(
            rows.iter()
                .map(|row| {
                    let number: Vec<String> = [
                        "MajorVersion",
                        "MinorVersion",
                        "PatchVersion",
                        "BuildNumber",
                    ]
                    .iter()
                    .map_while(|f| string(row, &format!("SubscriberPackageVersion.{f}")))
                    .collect();
                    InstalledPackage {
                        name: string(row, "SubscriberPackage.Name").unwrap_or_default(),
                        namespace: string(row, "SubscriberPackage.NamespacePrefix"),
                        version: if number.len() == 4 {
                            Some(number.join("."))
                        } else {
                            string(row, "SubscriberPackageVersion.Name")
                        },
                        source: Some(record_origin("InstalledSubscriberPackage", row)),
                        ..InstalledPackage::default()
                    }
                })
                .collect(),
            collection_origin("InstalledSubscriberPackage"),
        ),
        Some(Err(reason)) => Collection::not_collected(reason),
        None => Collection::not_collected("not queried"),
    };
}

fn user_from_row(row: &Value) -> User {
    User {
        id: string(row, "Id").unwrap_or_default(),
        username: string(row, "Username").unwrap_or_default(),
        name: string(row, "Name"),
        is_active: boolean(row, "IsActive"),
        user_type: string(row, "UserType"),
        profile_id: string(row, "ProfileId"),
        profile_name: string(row, "Profile.Name"),
        source: Some(record_origin("User", row)),
        ..User::default()
    }
}

fn dropped_for<'a>(
    dropped: &'a [(OptionalField, String)],
    record: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    dropped
        .iter()
        .filter(move |(f, _)| f.record == record)
        .map(|(f, reason)| (f.model_field, reason.as_str()))
}

fn permission_set_from(row: &Value, prefix: &str, id: String) -> PermissionSet {
    let get = |f: &str| format!("{prefix}{f}");
    PermissionSet {
        id: id.clone(),
        name: string(row, &get("Name")),
        label: string(row, &get("Label")),
        namespace: string(row, &get("NamespacePrefix")),
        is_owned_by_profile: boolean(row, &get("IsOwnedByProfile")),
        profile_id: string(row, &get("ProfileId")),
        api_enabled: boolean(row, &get("PermissionsApiEnabled")),
        call_coaching_user: boolean(row, &get("PermissionsCallCoachingUser")),
        ci_partner_integration_user: boolean(row, &get("PermissionsCIPartnerIntegrationUser")),
        source: Some(Origin::Record {
            object: "PermissionSet".to_string(),
            id: Some(id),
        }),
        ..PermissionSet::default()
    }
}

/// Adds or completes a permission set (the same set comes from several users' assignments).
fn upsert_set(sets: &mut Vec<PermissionSet>, new: PermissionSet) {
    let Some(old) = sets.iter_mut().find(|s| s.id == new.id) else {
        sets.push(new);
        return;
    };
    macro_rules! fill {
        ($($f:ident),*) => {$(
            if old.$f.is_none() && new.$f.is_some() {
                old.$f = new.$f.clone();
                old.not_collected.remove(stringify!($f));
            }
        )*};
    }
    fill!(
        name,
        label,
        namespace,
        is_owned_by_profile,
        profile_id,
        api_enabled,
        call_coaching_user,
        ci_partner_integration_user
    );
}

fn map_people(g: &Gathered, s: &mut Snapshot) {
    let primary = if g.queries.contains_key(&QueryId::IntegrationUser) {
        QueryId::IntegrationUser
    } else {
        QueryId::CandidateUsers
    };
    if let Some(Err(reason)) = g.rows(primary) {
        s.users = Collection::not_collected(reason);
        s.profiles = Collection::not_collected(reason);
        s.permission_sets = Collection::not_collected(reason);
        s.permission_set_assignments = Collection::not_collected(reason);
        return;
    }
    let mut users: Vec<User> = Vec::new();
    let mut sets: Vec<PermissionSet> = Vec::new();
    let mut assignments: Vec<PermissionSetAssignment> = Vec::new();
    for id in [
        QueryId::IntegrationUser,
        QueryId::CandidateUsers,
        QueryId::GuestUser,
        QueryId::SiteAdmin,
        QueryId::DefaultOwner,
    ] {
        let Some(Ok((rows, dropped))) = g.rows(id) else {
            continue;
        };
        for row in rows {
            let user = user_from_row(row);
            if user.id.is_empty() {
                continue;
            }
            for a in child_rows(row) {
                let Some(set_id) = string(a, "PermissionSetId") else {
                    continue;
                };
                let mut assignment = PermissionSetAssignment {
                    id: string(a, "Id"),
                    assignee_id: string(a, "AssigneeId").unwrap_or_else(|| user.id.clone()),
                    permission_set_id: set_id.clone(),
                    permission_set_group_id: string(a, "PermissionSetGroupId"),
                    is_active: boolean(a, "IsActive"),
                    expiration_date: string(a, "ExpirationDate"),
                    source: Some(record_origin("PermissionSetAssignment", a)),
                    ..PermissionSetAssignment::default()
                };
                for (f, reason) in dropped_for(dropped, "PermissionSetAssignment") {
                    mark(&mut assignment, &[f], reason);
                }
                if !assignments
                    .iter()
                    .any(|x| x.id.is_some() && x.id == assignment.id)
                {
                    assignments.push(assignment);
                }
                if has(a, "PermissionSet") {
                    let mut set = permission_set_from(a, "PermissionSet.", set_id);
                    for (f, reason) in dropped_for(dropped, "PermissionSet") {
                        mark(&mut set, &[f], reason);
                    }
                    upsert_set(&mut sets, set);
                }
            }
            if !users.iter().any(|u| u.id == user.id) {
                users.push(user);
            }
        }
    }
    let mut sets_reason = None;
    for id in [
        QueryId::ProfilePermissionSets,
        QueryId::CandidateProfilePermissionSets,
    ] {
        match g.rows(id) {
            Some(Ok((rows, dropped))) => {
                for row in rows {
                    let Some(set_id) = string(row, "Id") else {
                        continue;
                    };
                    let mut set = permission_set_from(row, "", set_id);
                    for (f, reason) in dropped_for(dropped, "PermissionSet") {
                        mark(&mut set, &[f], reason);
                    }
                    upsert_set(&mut sets, set);
                }
            }
            Some(Err(reason)) => {
                // Only a gap when a primary user's profile set is still unknown.
                let primary_profiles: Vec<&String> = users
                    .iter()
                    .filter(|u| primary_user_ids(g, primary).contains(&u.id))
                    .filter_map(|u| u.profile_id.as_ref())
                    .collect();
                let covered = primary_profiles.iter().all(|p| {
                    sets.iter().any(|s| {
                        s.is_owned_by_profile == Some(true) && s.profile_id.as_ref() == Some(*p)
                    })
                });
                if !covered {
                    sets_reason = Some(format!(
                        "the integration user's profile permission set: {reason}"
                    ));
                }
            }
            None => {}
        }
    }
    let mut profiles: Vec<Profile> = Vec::new();
    for u in &users {
        if let (Some(id), Some(name)) = (&u.profile_id, &u.profile_name)
            && !profiles.iter().any(|p| p.id.as_ref() == Some(id))
        {
            profiles.push(Profile {
                id: Some(id.clone()),
                name: name.clone(),
                source: Some(Origin::Record {
                    object: "Profile".to_string(),
                    id: Some(id.clone()),
                }),
                ..Profile::default()
            });
        }
    }
    s.users = Collection::collected(users, collection_origin("User"));
    s.profiles = Collection::collected(profiles, collection_origin("Profile"));
    s.permission_sets = match sets_reason {
        Some(reason) => Collection::not_collected(reason),
        None => Collection::collected(sets, collection_origin("PermissionSet")),
    };
    s.permission_set_assignments =
        Collection::collected(assignments, collection_origin("PermissionSetAssignment"));
}

fn primary_user_ids(g: &Gathered, primary: QueryId) -> Vec<String> {
    match g.rows(primary) {
        Some(Ok((rows, _))) => rows.iter().filter_map(|r| string(r, "Id")).collect(),
        _ => Vec::new(),
    }
}

/// A site points at a user whose query failed: keep a record that says so, so that the rules
/// see "not collected" rather than "no such user".
fn add_site_user_placeholders(g: &Gathered, s: &mut Snapshot) {
    if s.users.not_collected.is_some() {
        return;
    }
    let Some(Ok((site_rows, _))) = g.rows(QueryId::Sites) else {
        return;
    };
    for (query, site_field) in [
        (QueryId::GuestUser, "GuestUserId"),
        (QueryId::SiteAdmin, "AdminId"),
        (QueryId::DefaultOwner, "GuestRecordDefaultOwnerId"),
    ] {
        let Some(Err(reason)) = g.rows(query) else {
            continue;
        };
        for site in site_rows
            .iter()
            .filter(|r| string(r, "Name").as_deref() == Some(soql::SITE_NAME))
        {
            let Some(user_id) = string(site, site_field) else {
                continue;
            };
            if s.users.items.iter().any(|u| u.id == user_id) {
                continue;
            }
            let mut user = User {
                id: user_id.clone(),
                source: Some(Origin::Record {
                    object: "User".to_string(),
                    id: Some(user_id),
                }),
                ..User::default()
            };
            mark(
                &mut user,
                &[
                    "username",
                    "name",
                    "is_active",
                    "user_type",
                    "profile_id",
                    "profile_name",
                ],
                reason,
            );
            s.users.items.push(user);
        }
    }
}

fn object_permission(row: &Value) -> ObjectPermission {
    ObjectPermission {
        parent_id: string(row, "ParentId").unwrap_or_default(),
        object: string(row, "SobjectType").unwrap_or_default(),
        read: boolean(row, "PermissionsRead").unwrap_or(false),
        create: boolean(row, "PermissionsCreate").unwrap_or(false),
        edit: boolean(row, "PermissionsEdit").unwrap_or(false),
        view_all: boolean(row, "PermissionsViewAllRecords").unwrap_or(false),
        source: Some(record_origin("ObjectPermissions", row)),
        ..ObjectPermission::default()
    }
}

fn metadata_path(kind: MetadataKind, full_name: &str) -> String {
    format!("readMetadata {}/{full_name}", kind.type_name())
}

fn metadata_origin(kind: MetadataKind, full_name: &str) -> Origin {
    Origin::Metadata {
        r#type: kind.type_name().to_string(),
        full_name: full_name.to_string(),
    }
}

/// Provenance of a readMetadata record: the component, not positions in a synthetic document.
fn retag<R: Record>(record: &mut R, origin: &Origin) {
    let (source, _, locations) = record.bookkeeping_mut();
    *source = Some(origin.clone());
    locations.clear();
}

/// A component type read both ways: SOQL rows for every name (ids, near misses) and
/// readMetadata for the guide's names (metadata-only settings).
trait Component: Record + Sized {
    /// Fields only readMetadata can give.
    const METADATA_ONLY: &'static [&'static str];
    fn full_name(&self) -> &str;
    /// Whether a SOQL row (as a record) is this metadata component.
    fn is(&self, soql: &Self) -> bool {
        self.full_name() == soql.full_name()
    }
    /// Takes what the SOQL row knows into the metadata record.
    fn fill_from_soql(&mut self, soql: Self);
    /// The record inside a parsed metadata document.
    fn from_parsed(parsed: ParsedComponent) -> Option<Self>;
    fn retag_all(&mut self, origin: &Origin) {
        retag(self, origin);
    }
}

/// Moves a SOQL value in when the metadata record lacks it, noting where it came from.
macro_rules! take_missing {
    ($meta:ident, $soql:ident, $origin:expr, $($f:ident),*) => {$(
        if $meta.$f.is_none() && $soql.$f.is_some() {
            $meta.$f = $soql.$f.take();
            // The SOQL value answers what readMetadata left open.
            $meta.not_collected.remove(stringify!($f));
            if let Some(origin) = &$origin {
                $meta.locations.insert(stringify!($f).to_string(), origin.clone());
            }
        }
    )*};
}

impl Component for AuthProvider {
    const METADATA_ONLY: &'static [&'static str] = &[];
    fn full_name(&self) -> &str {
        &self.full_name
    }
    fn fill_from_soql(&mut self, mut soql: Self) {
        let origin = soql.source.clone();
        take_missing!(
            self,
            soql,
            origin,
            id,
            friendly_name,
            provider_type,
            consumer_key_fingerprint
        );
    }
    fn from_parsed(parsed: ParsedComponent) -> Option<Self> {
        match parsed {
            ParsedComponent::AuthProvider(p) => Some(p),
            _ => None,
        }
    }
}

impl Component for NamedCredential {
    const METADATA_ONLY: &'static [&'static str] = &[
        "protocol",
        "username",
        "oauth_scope",
        "named_credential_type",
    ];
    fn full_name(&self) -> &str {
        &self.full_name
    }
    fn fill_from_soql(&mut self, mut soql: Self) {
        let origin = soql.source.clone();
        take_missing!(
            self,
            soql,
            origin,
            id,
            label,
            endpoint,
            principal_type,
            auth_provider,
            generate_authorization_header,
            allow_merge_fields_in_header,
            allow_merge_fields_in_body
        );
    }
    fn from_parsed(parsed: ParsedComponent) -> Option<Self> {
        match parsed {
            ParsedComponent::NamedCredential(n) => Some(n),
            _ => None,
        }
    }
}

impl Component for Site {
    const METADATA_ONLY: &'static [&'static str] = &["active", "index_page"];
    fn full_name(&self) -> &str {
        &self.full_name
    }
    fn fill_from_soql(&mut self, mut soql: Self) {
        let origin = soql.source.clone();
        // The SOQL user Ids replace the metadata usernames: users are collected by Id.
        for (field, value) in [
            ("site_admin", soql.site_admin.take()),
            (
                "guest_record_default_owner",
                soql.guest_record_default_owner.take(),
            ),
        ] {
            if let Some(value) = value {
                match field {
                    "site_admin" => self.site_admin = Some(value),
                    _ => self.guest_record_default_owner = Some(value),
                }
                if let Some(origin) = &origin {
                    self.locations.insert(field.to_string(), origin.clone());
                }
            }
        }
        take_missing!(
            self,
            soql,
            origin,
            id,
            status,
            guest_user_id,
            label,
            clickjack_protection_level,
            subdomain,
            site_type
        );
    }
    fn from_parsed(parsed: ParsedComponent) -> Option<Self> {
        match parsed {
            ParsedComponent::Site(s) => Some(s),
            _ => None,
        }
    }
}

impl Component for ConnectedApp {
    const METADATA_ONLY: &'static [&'static str] = &[
        "label",
        "contact_email",
        "oauth_config",
        "oauth_policy",
        "session_policy",
        "profile_names",
        "permission_set_names",
    ];
    fn full_name(&self) -> &str {
        &self.full_name
    }
    /// `ConnectedApplication.Name` holds the API name or the label (UNCONFIRMED which).
    fn is(&self, soql: &Self) -> bool {
        self.full_name == soql.full_name || self.label.as_deref() == Some(soql.full_name.as_str())
    }
    fn fill_from_soql(&mut self, mut soql: Self) {
        let origin = soql.source.clone();
        take_missing!(
            self,
            soql,
            origin,
            id,
            admin_approved_users_only,
            has_session_level_policy,
            last_modified
        );
    }
    fn from_parsed(parsed: ParsedComponent) -> Option<Self> {
        match parsed {
            ParsedComponent::ConnectedApp(a) => Some(*a),
            _ => None,
        }
    }
    fn retag_all(&mut self, origin: &Origin) {
        retag(self, origin);
        if let Some(c) = &mut self.oauth_config {
            retag(c, origin);
        }
        if let Some(p) = &mut self.oauth_policy {
            retag(p, origin);
        }
        if let Some(p) = &mut self.session_policy {
            retag(p, origin);
        }
    }
}

/// Merges the SOQL rows and the readMetadata records of one component type.
fn merge_components<T: Component>(
    g: &Gathered,
    query: QueryId,
    kind: MetadataKind,
    from_row: impl Fn(&Value) -> T,
) -> Collection<T> {
    let requested: &[&str] = METADATA_READS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, names)| *names)
        .unwrap_or(&[]);
    // readMetadata: the records, and per requested name why it is missing, if it is.
    let mut items: Vec<T> = Vec::new();
    let mut meta_reason: BTreeMap<String, String> = BTreeMap::new();
    // Records readMetadata returned but that could not be read: they prove nothing either way.
    let mut unreadable: Option<String> = None;
    let meta_failure = match g.metadata.get(&kind) {
        Some(Ok(records)) => {
            for record in records {
                let path = metadata_path(kind, &record.full_name);
                match parse_metadata_file(
                    kind,
                    &record.full_name,
                    &path,
                    record.document.as_bytes(),
                ) {
                    Ok(parsed) => match T::from_parsed(parsed) {
                        Some(mut item) => {
                            item.retag_all(&metadata_origin(kind, &record.full_name));
                            items.push(item);
                        }
                        None => {
                            let reason = format!("{path}: another type came back");
                            unreadable.get_or_insert_with(|| reason.clone());
                            meta_reason.insert(record.full_name.clone(), reason);
                        }
                    },
                    Err(e) => {
                        let reason = format!("unreadable readMetadata record: {e}");
                        unreadable.get_or_insert_with(|| reason.clone());
                        meta_reason.insert(record.full_name.clone(), reason);
                    }
                }
            }
            for name in requested {
                if !records.iter().any(|r| r.full_name == *name) {
                    meta_reason.entry((*name).to_string()).or_insert_with(|| {
                        format!(
                            "readMetadata {} returned no record for it",
                            kind.type_name()
                        )
                    });
                }
            }
            None
        }
        Some(Err(failure)) => Some(failure.reason.clone()),
        None => Some("readMetadata not run".to_string()),
    };
    let object = query_object(g, query);
    match g.rows(query) {
        Some(Ok((rows, _))) => {
            for row in rows {
                let soql_item = from_row(row);
                match items.iter_mut().find(|m| m.is(&soql_item)) {
                    Some(meta) => meta.fill_from_soql(soql_item),
                    None => {
                        let mut item = soql_item;
                        let reason = if let Some(failure) = &meta_failure {
                            failure.clone()
                        } else if let Some(reason) = meta_reason.get(item.full_name()) {
                            reason.clone()
                        } else {
                            format!(
                                "readMetadata not requested for this name (the audit reads {})",
                                requested.join(", ")
                            )
                        };
                        mark(&mut item, T::METADATA_ONLY, &reason);
                        items.push(item);
                    }
                }
            }
            Collection::collected(items, collection_origin(&object))
        }
        Some(Err(reason)) => match meta_failure {
            // A record readMetadata returned but that could not be read proves nothing.
            None if unreadable.is_some() => {
                Collection::not_collected(format!("{reason}; {}", unreadable.unwrap_or_default()))
            }
            // Without the SOQL names, readMetadata still proves the guide's names exist or not.
            None => Collection::collected(
                items,
                Some(Origin::Metadata {
                    r#type: kind.type_name().to_string(),
                    full_name: requested.join(","),
                }),
            ),
            Some(meta) => Collection::not_collected(format!("{reason}; {meta}")),
        },
        None => Collection::not_collected("not queried"),
    }
}

fn query_object(g: &Gathered, id: QueryId) -> String {
    g.queries
        .get(&id)
        .map(|(spec, _)| spec.object.to_string())
        .unwrap_or_default()
}

fn connected_apps(g: &Gathered) -> Collection<ConnectedApp> {
    let mut apps = merge_components(
        g,
        QueryId::ConnectedApplications,
        MetadataKind::ConnectedApp,
        |row| ConnectedApp {
            full_name: string(row, "Name").unwrap_or_default(),
            id: string(row, "Id"),
            admin_approved_users_only: boolean(row, "OptionsAllowAdminApprovedUsersOnly"),
            has_session_level_policy: boolean(row, "OptionsHasSessionLevelPolicy"),
            last_modified: string(row, "LastModifiedDate"),
            source: Some(record_origin("ConnectedApplication", row)),
            ..ConnectedApp::default()
        },
    );
    // `ConnectedApplication.Name` may be the label: without readMetadata the API name is
    // unknown. When readMetadata did answer and has no `ECIConnectedApp`, a SOQL row named
    // `ECI Connected App` is an app with another API name: it stays as it is (a near miss for
    // CAP001), without an uncertainty marker.
    let api_name = soql::CONNECTED_APP_NAMES[1];
    let uncertain_because = match g.metadata.get(&MetadataKind::ConnectedApp) {
        Some(Ok(records)) => {
            // Requested and not returned, or returned and read: either is an answer. A record
            // that came back unreadable is not.
            let answered = !records.iter().any(|r| r.full_name == api_name)
                || apps.items.iter().any(|a| {
                    a.full_name == api_name && matches!(a.source, Some(Origin::Metadata { .. }))
                });
            (!answered)
                .then(|| format!("readMetadata ConnectedApp returned `{api_name}` unreadable"))
        }
        Some(Err(failure)) => Some(failure.reason.clone()),
        None => Some("readMetadata not run".to_string()),
    };
    if let Some(why) = uncertain_because {
        for app in &mut apps.items {
            if matches!(app.source, Some(Origin::Record { .. }))
                && app.full_name == soql::CONNECTED_APP_NAMES[0]
            {
                app.not_collected.insert(
                    "full_name".to_string(),
                    format!(
                        "`{}` is ConnectedApplication.Name, which holds the app's label or API name (UNCONFIRMED which); \
                         the API name needs readMetadata: {why}",
                        app.full_name
                    ),
                );
            }
        }
    }
    // SetupEntityAccess gives the profile / permission set access list when readMetadata did not.
    let access = g.rows(QueryId::ConnectedAppAccess);
    for app in &mut apps.items {
        if app.profile_names.is_some() && app.permission_set_names.is_some() {
            continue;
        }
        let Some(app_id) = app.id.clone() else {
            continue;
        };
        match &access {
            Some(Ok((rows, _))) => {
                let rows: Vec<&Value> = rows
                    .iter()
                    .filter(|r| string(r, "SetupEntityId").as_deref() == Some(app_id.as_str()))
                    .collect();
                // Access is only read for the guide's app names.
                let names = soql::CONNECTED_APP_NAMES;
                let covered = names.contains(&app.full_name.as_str())
                    || app.label.as_deref().is_some_and(|l| names.contains(&l));
                if !covered {
                    continue;
                }
                let origin = Origin::Record {
                    object: "SetupEntityAccess".to_string(),
                    id: None,
                };
                if app.profile_names.is_none() {
                    app.profile_names = Some(
                        rows.iter()
                            .filter(|r| boolean(r, "Parent.IsOwnedByProfile") == Some(true))
                            .filter_map(|r| string(r, "Parent.Profile.Name"))
                            .collect(),
                    );
                    app.not_collected.remove("profile_names");
                    app.locations
                        .insert("profile_names".to_string(), origin.clone());
                }
                if app.permission_set_names.is_none() {
                    app.permission_set_names = Some(
                        rows.iter()
                            .filter(|r| boolean(r, "Parent.IsOwnedByProfile") != Some(true))
                            .filter_map(|r| {
                                string(r, "Parent.Label").or_else(|| string(r, "Parent.Name"))
                            })
                            .collect(),
                    );
                    app.not_collected.remove("permission_set_names");
                    app.locations
                        .insert("permission_set_names".to_string(), origin);
                }
            }
            Some(Err(reason)) => {
                for f in ["profile_names", "permission_set_names"] {
                    if let Some(existing) = app.not_collected.get_mut(f) {
                        *existing = format!("{existing}; SetupEntityAccess: {reason}");
                    }
                }
            }
            None => {}
        }
    }
    apps
}
