//! Combining a metadata directory with org data from a snapshot file
//! (`--metadata-dir DIR --snapshot FILE`).

use std::collections::BTreeMap;

use crate::snapshot::model::{
    AuthProviderField, Collection, ConnectedAppField, Named, NamedCredentialField,
    ObjectPermission, OrgField, PermissionSet, Profile, SCHEMA_VERSION, SiteField, Snapshot,
    SourceInfo, SourceKind,
};

/// Merges metadata files (`files`, from [`load_metadata`](super::load_metadata)) with org data
/// from a snapshot (`org`).
///
/// Precedence:
/// - **Metadata components come from the files** when the files collected them: connected apps,
///   auth providers, named credentials, sites, external client apps and `org.eci_enabled`.
///   When the files did not collect a kind (no such folder, not a full retrieve), the
///   snapshot's collection is used instead.
/// - For a component present in both, the fields a metadata file cannot carry are kept from
///   the snapshot's record of the same `full_name`: for sites `id`, `guest_user_id` and `status`;
///   for connected apps `id`, `admin_approved_users_only`, `has_session_level_policy` and
///   `last_modified`; `id` of auth providers; `id` and `authenticated_as` of named credentials.
///   Their `locations` entry is the snapshot record's `source`.
/// - **Org data comes from the snapshot**: users, permission set assignments, domains,
///   installed packages, the org's `id/name/edition/my_domain/instance_url`,
///   `voice_call_object_available` and the Aircall check.
/// - **Profiles, permission sets and object permissions** come from one side as a unit, so that
///   the Ids they share, and that users and assignments point at, are of one kind: the files'
///   synthetic `file:X` / `file:profile:Admin` Ids never match a snapshot's `0PS…`/`00e…` Ids.
///   - When the snapshot collected users or permission set assignments (or any of the three),
///     all three come from the snapshot. One it did not collect stays not collected; if the
///     files had it, the reason says why they were not used: "the org snapshot has no
///     permission sets (REASON), and the files' permission sets cannot be matched to its
///     permission set assignments and users".
///   - Otherwise nothing in the merged result can point at the snapshot's Ids, and all three
///     come from the files (each as the files have it, collected or not).
/// - `source` describes both inputs; org Id, instance URL, auditing user and collection time
///   are the snapshot's.
pub fn merge_org_data(files: Snapshot, org: Snapshot) -> Snapshot {
    let description = format!(
        "{} with org data from {}",
        files
            .source
            .description
            .as_deref()
            .unwrap_or("metadata files"),
        org.source.description.as_deref().unwrap_or("a snapshot")
    );
    let notes = files
        .source
        .notes
        .iter()
        .chain(&org.source.notes)
        .cloned()
        .collect();
    let source = SourceInfo {
        kind: SourceKind::MetadataDir,
        description: Some(description),
        api_version: org.source.api_version.or(files.source.api_version),
        tool_version: files.source.tool_version.or(org.source.tool_version),
        notes,
        ..org.source
    };

    let mut merged_org = org.org;
    let files_have_eci = !files.org.not_collected.contains_key(&OrgField::eci_enabled);
    if files_have_eci {
        merged_org.eci_enabled = files.org.eci_enabled;
        merged_org.not_collected.remove(&OrgField::eci_enabled);
        match files.org.locations.get(&OrgField::eci_enabled) {
            Some(location) => {
                merged_org
                    .locations
                    .insert(OrgField::eci_enabled, location.clone());
            }
            None => {
                merged_org.locations.remove(&OrgField::eci_enabled);
            }
        }
    }

    let mut connected_apps = prefer_first(files.connected_apps, org.connected_apps.clone());
    enrich(
        &mut connected_apps,
        &org.connected_apps,
        &[
            ConnectedAppField::id,
            ConnectedAppField::admin_approved_users_only,
            ConnectedAppField::has_session_level_policy,
            ConnectedAppField::last_modified,
        ],
    );
    let mut auth_providers = prefer_first(files.auth_providers, org.auth_providers.clone());
    enrich(
        &mut auth_providers,
        &org.auth_providers,
        &[AuthProviderField::id],
    );
    let mut named_credentials =
        prefer_first(files.named_credentials, org.named_credentials.clone());
    enrich(
        &mut named_credentials,
        &org.named_credentials,
        &[
            NamedCredentialField::id,
            NamedCredentialField::authenticated_as,
        ],
    );
    let mut sites = prefer_first(files.sites, org.sites.clone());
    enrich(
        &mut sites,
        &org.sites,
        &[SiteField::id, SiteField::guest_user_id, SiteField::status],
    );

    let security = Security {
        profiles: org.profiles,
        permission_sets: org.permission_sets,
        object_permissions: org.object_permissions,
    }
    .or_files(
        Security {
            profiles: files.profiles,
            permission_sets: files.permission_sets,
            object_permissions: files.object_permissions,
        },
        &[
            (
                org.permission_set_assignments.is_collected(),
                "permission set assignments",
            ),
            (org.users.is_collected(), "users"),
        ],
    );

    // Merged with metadata files, the org snapshot's users are taken as the ones it looked for,
    // never the whole org (what the merged `source.kind` said before scope was stated).
    let users = org.users.requested_only();
    Snapshot {
        schema_version: SCHEMA_VERSION,
        source,
        org: merged_org,
        users,
        profiles: security.profiles,
        permission_sets: security.permission_sets,
        permission_set_assignments: org.permission_set_assignments,
        object_permissions: security.object_permissions,
        connected_apps,
        external_client_apps: prefer_first(files.external_client_apps, org.external_client_apps),
        auth_providers,
        named_credentials,
        sites,
        domains: org.domains,
        aircall: org.aircall,
        // Run-time evidence exists only in the org.
        runtime: org.runtime,
    }
}

/// The collections that share permission set and profile Ids.
struct Security {
    profiles: Collection<Profile>,
    permission_sets: Collection<PermissionSet>,
    object_permissions: Collection<ObjectPermission>,
}

impl Security {
    /// The snapshot's three (`self`) when the snapshot has Ids in use (`referrers`: whether
    /// assignments and users were collected, with their names; or one of the three), else the
    /// files'. See [`merge_org_data`].
    fn or_files(self, files: Security, referrers: &[(bool, &'static str)]) -> Security {
        let own = [
            (self.profiles.is_collected(), "profiles"),
            (self.permission_sets.is_collected(), "permission sets"),
            (self.object_permissions.is_collected(), "object permissions"),
        ];
        let holders: Vec<&str> = referrers
            .iter()
            .chain(&own)
            .filter(|(collected, _)| *collected)
            .map(|(_, name)| *name)
            .collect();
        if holders.is_empty() {
            return files;
        }
        let unmatched =
            |what: &str| -> Vec<&str> { holders.iter().copied().filter(|h| *h != what).collect() };
        Security {
            profiles: keep_snapshot(self.profiles, &files.profiles, "profiles", &unmatched),
            permission_sets: keep_snapshot(
                self.permission_sets,
                &files.permission_sets,
                "permission sets",
                &unmatched,
            ),
            object_permissions: keep_snapshot(
                self.object_permissions,
                &files.object_permissions,
                "object permissions",
                &unmatched,
            ),
        }
    }
}

/// The snapshot's collection; when it was not collected but the files have one, the reason
/// says why the files' could not stand in.
fn keep_snapshot<'a, T>(
    org: Collection<T>,
    files: &Collection<T>,
    what: &str,
    holders: &impl Fn(&str) -> Vec<&'a str>,
) -> Collection<T> {
    match (org.reason(), files.is_collected()) {
        (Some(reason), true) => Collection::not_collected(format!(
            "the org snapshot has no {what} ({reason}), and the files' {what} cannot be matched \
             to its {}",
            join_and(&holders(what))
        )),
        _ => org,
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `first` if it was collected, else `second` if that was, else `first` (keeping its reason).
fn prefer_first<T>(first: Collection<T>, second: Collection<T>) -> Collection<T> {
    if first.is_collected() || !second.is_collected() {
        first
    } else {
        second
    }
}

/// Copies org-only fields into the file records of the same `full_name`; a copied field
/// points at the snapshot record (see [`Record::fill_missing_from`]).
fn enrich<T: Named>(merged: &mut Collection<T>, org: &Collection<T>, fields: &[T::Field]) {
    let by_name: BTreeMap<&str, &T> = org.items().iter().map(|r| (r.full_name(), r)).collect();
    for record in merged.items_mut().into_iter().flatten() {
        if let Some(org_record) = by_name.get(record.full_name()) {
            record.fill_missing_from(org_record, fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::model::{Org, User};
    use crate::snapshot::model::{Origin, Site};

    fn site(name: &str) -> Site {
        Site {
            full_name: name.to_string(),
            ..Site::default()
        }
    }

    #[test]
    fn files_win_for_metadata_and_org_data_comes_from_the_snapshot() {
        let mut files = Snapshot::empty(SourceKind::MetadataDir);
        files.source.description = Some("dir".into());
        files.sites = Collection::collected(
            vec![Site {
                label: Some("VoiceConnector".into()),
                ..site("VoiceConnector")
            }],
            None,
        );
        files.org.eci_enabled = Some(true);
        files.users = Collection::not_collected("not in a metadata directory");
        files.connected_apps = Collection::not_collected("no connectedApps");

        let mut org = Snapshot::empty(SourceKind::LiveOrg);
        org.source.description = Some("snap.json".into());
        org.source.org_id = Some("00D".into());
        org.org = Org {
            my_domain: Some("https://acme.my.salesforce.com".into()),
            eci_enabled: Some(false),
            ..Org::default()
        };
        org.users = Collection::collected(
            vec![User {
                id: "005".into(),
                username: "u@x".into(),
                ..User::default()
            }],
            None,
        );
        org.sites = Collection::collected(
            vec![Site {
                id: Some("0DM".into()),
                guest_user_id: Some("005G".into()),
                status: Some("Active".into()),
                label: Some("Other".into()),
                source: Some(Origin::Record {
                    object: "Site".into(),
                    id: Some("0DM".into()),
                }),
                ..site("VoiceConnector")
            }],
            None,
        );
        org.connected_apps = Collection::collected(vec![], None);

        let merged = merge_org_data(files, org);
        assert_eq!(merged.source.kind, SourceKind::MetadataDir);
        assert_eq!(merged.source.org_id.as_deref(), Some("00D"));
        assert_eq!(
            merged.source.description.as_deref(),
            Some("dir with org data from snap.json")
        );
        assert_eq!(merged.org.eci_enabled, Some(true));
        assert_eq!(
            merged.org.my_domain.as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(merged.users.items().len(), 1);
        let s = &merged.sites.items()[0];
        assert_eq!(s.label.as_deref(), Some("VoiceConnector"));
        assert_eq!(s.guest_user_id.as_deref(), Some("005G"));
        assert_eq!(s.status.as_deref(), Some("Active"));
        assert!(matches!(
            s.locations.get("guest_user_id"),
            Some(Origin::Record { .. })
        ));
        // The files had no connected apps: the snapshot's (collected, empty) are used.
        assert!(merged.connected_apps.available().is_ok());
    }

    #[test]
    fn merged_users_are_only_the_ones_the_snapshot_looked_for() {
        let files = Snapshot::empty(SourceKind::MetadataDir);
        let mut org = Snapshot::empty(SourceKind::Manual);
        org.users = Collection::collected(Vec::new(), None);
        let merged = merge_org_data(files, org);
        assert_eq!(merged.users.scope, crate::snapshot::model::Scope::Requested);
    }
}
