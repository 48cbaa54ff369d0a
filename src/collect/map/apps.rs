//! Connected apps and auth providers: SOQL rows for every name, `readMetadata` for the guide's
//! names, and the connected apps' access list from `SetupEntityAccess` when `readMetadata`
//! could not give it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::components::{Component, merge_components, named_component};
use super::record::{record_origin, retag};
use crate::collect::gathered::Gathered;
use crate::collect::rest::{boolean, string};
use crate::collect::soql::{self, QueryId};
use crate::snapshot::metadata::{MetadataKind, ParsedComponent};
use crate::snapshot::model::{
    AuthProvider, AuthProviderField, Collection, ConnectedApp, ConnectedAppField, Origin, Record,
    fingerprint,
};

/// Auth providers: the SOQL rows merged with the `readMetadata` records.
pub(super) fn auth_providers(g: &Gathered) -> Collection<AuthProvider> {
    merge_components(
        g,
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
    )
}

/// Auth provider `Id` → `DeveloperName`, when the auth providers could be read.
pub(super) fn provider_names(g: &Gathered) -> Option<BTreeMap<String, String>> {
    match g.rows(QueryId::AuthProviders) {
        Some(Ok((rows, _))) => Some(
            rows.iter()
                .filter_map(|r| Some((string(r, "Id")?, string(r, "DeveloperName")?)))
                .collect(),
        ),
        _ => None,
    }
}

pub(super) fn connected_apps(g: &Gathered) -> Collection<ConnectedApp> {
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
                || apps.items().iter().any(|a| {
                    a.full_name == api_name && matches!(a.source, Some(Origin::Metadata { .. }))
                });
            (!answered)
                .then(|| format!("readMetadata ConnectedApp returned `{api_name}` unreadable"))
        }
        Some(Err(failure)) => Some(failure.reason.clone()),
        None => Some("readMetadata not run".to_string()),
    };
    if let Some(why) = uncertain_because {
        for app in apps.items_mut().into_iter().flatten() {
            if matches!(app.source, Some(Origin::Record { .. }))
                && app.full_name == soql::CONNECTED_APP_NAMES[0]
            {
                app.not_collected.insert(
                    ConnectedAppField::full_name,
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
    for app in apps.items_mut().into_iter().flatten() {
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
                    app.not_collected.remove(&ConnectedAppField::profile_names);
                    app.locations
                        .insert(ConnectedAppField::profile_names, origin.clone());
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
                    app.not_collected
                        .remove(&ConnectedAppField::permission_set_names);
                    app.locations
                        .insert(ConnectedAppField::permission_set_names, origin);
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

impl Component for ConnectedApp {
    const METADATA_ONLY: &'static [ConnectedAppField] = &[
        ConnectedAppField::label,
        ConnectedAppField::contact_email,
        ConnectedAppField::oauth_config,
        ConnectedAppField::oauth_policy,
        ConnectedAppField::session_policy,
        ConnectedAppField::profile_names,
        ConnectedAppField::permission_set_names,
    ];
    named_component!(ConnectedApp, |app: Box<ConnectedApp>| *app);
    /// `ConnectedApplication.Name` holds the API name or the label (UNCONFIRMED which).
    fn is(&self, soql: &Self) -> bool {
        self.full_name == soql.full_name || self.label.as_deref() == Some(soql.full_name.as_str())
    }
    fn fill_from_soql(&mut self, soql: Self) {
        self.fill_missing_from(
            &soql,
            &[
                ConnectedAppField::id,
                ConnectedAppField::admin_approved_users_only,
                ConnectedAppField::has_session_level_policy,
                ConnectedAppField::last_modified,
            ],
        );
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

impl Component for AuthProvider {
    const METADATA_ONLY: &'static [AuthProviderField] = &[];
    named_component!(AuthProvider);
    fn fill_from_soql(&mut self, soql: Self) {
        self.fill_missing_from(
            &soql,
            &[
                AuthProviderField::id,
                AuthProviderField::friendly_name,
                AuthProviderField::provider_type,
                AuthProviderField::consumer_key_fingerprint,
            ],
        );
    }
}
