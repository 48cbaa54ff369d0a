//! Connected apps and auth providers: SOQL rows for every name, `readMetadata` for the guide's
//! names, and the connected apps' access list from `SetupEntityAccess` when `readMetadata`
//! could not give it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::components::{Component, merge_components, named_component};
use super::record::{record_origin, retag};
use crate::collect::fallback::{ProfileApiNames, english_profile_name, profile_api_names};
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

/// `ConnectedApplication` Id → (API name, label) from `AppMenuItem`, whose `Name` is
/// documented as the API name.
fn app_menu_names(g: &Gathered) -> BTreeMap<String, (String, Option<String>)> {
    match g.rows(QueryId::AppMenuItems) {
        Some(Ok((rows, _))) => rows
            .iter()
            .filter_map(|r| {
                Some((
                    string(r, "ApplicationId")?,
                    (string(r, "Name")?, string(r, "Label")),
                ))
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

pub(super) fn connected_apps(g: &Gathered) -> Collection<ConnectedApp> {
    let menu = app_menu_names(g);
    let mut apps = merge_components(
        g,
        QueryId::ConnectedApplications,
        MetadataKind::ConnectedApp,
        |row| {
            let id = string(row, "Id");
            let soql_name = string(row, "Name").unwrap_or_default();
            // With the AppMenuItem row, the API name is known whatever `Name` holds.
            let (full_name, label) = match id.as_ref().and_then(|i| menu.get(i)) {
                Some((api_name, label)) => (
                    api_name.clone(),
                    label
                        .clone()
                        .or_else(|| (soql_name != *api_name).then(|| soql_name.clone())),
                ),
                None => (soql_name, None),
            };
            let mut app = ConnectedApp {
                full_name,
                label,
                id,
                admin_approved_users_only: boolean(row, "OptionsAllowAdminApprovedUsersOnly"),
                has_session_level_policy: boolean(row, "OptionsHasSessionLevelPolicy"),
                last_modified: string(row, "LastModifiedDate"),
                source: Some(record_origin("ConnectedApplication", row)),
                ..ConnectedApp::default()
            };
            if app.label.is_some() {
                app.locations.insert(
                    ConnectedAppField::label,
                    Origin::Record {
                        object: "AppMenuItem".to_string(),
                        id: None,
                    },
                );
            }
            app
        },
    );
    refresh_token_fallback(g, &mut apps);
    // The label AppMenuItem gave is collected, though readMetadata's was not.
    for app in apps.items_mut().into_iter().flatten() {
        let from_menu = matches!(
            app.locations.get(&ConnectedAppField::label),
            Some(Origin::Record { object, .. }) if object == "AppMenuItem"
        );
        if from_menu && matches!(app.source, Some(Origin::Record { .. })) {
            app.not_collected.remove(&ConnectedAppField::label);
        }
    }
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
        let why = match g.rows(QueryId::AppMenuItems) {
            Some(Ok(_)) => format!("{why}; AppMenuItem has no row named `{api_name}`"),
            Some(Err(reason)) => format!("{why}; AppMenuItem: {reason}"),
            None => why,
        };
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
    let api_names = profile_api_names(g);
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
                    match access_profile_names(&rows, &api_names) {
                        Ok(names) => {
                            app.profile_names = Some(names);
                            app.not_collected.remove(&ConnectedAppField::profile_names);
                            app.locations
                                .insert(ConnectedAppField::profile_names, origin.clone());
                        }
                        Err(reason) => {
                            app.not_collected
                                .insert(ConnectedAppField::profile_names, reason);
                        }
                    }
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

/// The profiles of `SetupEntityAccess` rows, by their English standard name when the profile's
/// API name is known (standard names come back translated for an auditing user whose language
/// is not English); a name that may be a translation makes the list unknown.
fn access_profile_names(
    rows: &[&Value],
    api_names: &ProfileApiNames,
) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for r in rows
        .iter()
        .filter(|r| boolean(r, "Parent.IsOwnedByProfile") == Some(true))
    {
        let display = string(r, "Parent.Profile.Name");
        let id = string(r, "Parent.ProfileId");
        match english_profile_name(api_names, id.as_deref(), display.as_deref()) {
            Ok(Some(name)) => names.push(name),
            Ok(None) => {}
            Err(tail) => {
                let name = display.unwrap_or_default();
                return Err(format!("profile `{name}` has access, but {tail}"));
            }
        }
    }
    Ok(names)
}

/// Without `readMetadata ConnectedApp`, `ConnectedApplication` still says whether the refresh
/// token expires after a fixed lifetime and after how many units, though not which unit: the
/// reason CAP012 gives says so.
fn refresh_token_fallback(g: &Gathered, apps: &mut Collection<ConnectedApp>) {
    let Some(Ok((rows, _))) = g.rows(QueryId::ConnectedApplications) else {
        return;
    };
    for app in apps.items_mut().into_iter().flatten() {
        let Some(existing) = app
            .not_collected
            .get(&ConnectedAppField::oauth_policy)
            .cloned()
        else {
            continue;
        };
        let Some(row) = rows
            .iter()
            .find(|r| app.id.is_some() && string(r, "Id") == app.id)
        else {
            continue;
        };
        let metric = boolean(row, "OptionsRefreshTokenValidityMetric");
        let period = crate::collect::rest::field(row, "RefreshTokenValidityPeriod")
            .and_then(serde_json::Value::as_i64);
        let said = match (metric, period) {
            (Some(false), Some(n)) => format!(
                "ConnectedApplication says the refresh token expires {n} units after it is issued \
                 (OptionsRefreshTokenValidityMetric = false, RefreshTokenValidityPeriod = {n}); \
                 the unit (hours, days or months) is not exposed by SOQL"
            ),
            (Some(true), Some(n)) => format!(
                "ConnectedApplication says the refresh token expires when unused for {n} units \
                 (OptionsRefreshTokenValidityMetric = true), not after a fixed lifetime; the unit is not exposed by SOQL"
            ),
            (Some(_), None) => "ConnectedApplication gives no RefreshTokenValidityPeriod \
                 (the token may be valid until revoked or expire immediately)"
                .to_string(),
            (None, _) => continue,
        };
        app.not_collected.insert(
            ConnectedAppField::oauth_policy,
            format!("{existing}; {said}"),
        );
    }
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
