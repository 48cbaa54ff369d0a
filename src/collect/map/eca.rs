//! External Client Apps from `readMetadata`: the header (`ExternalClientApplication`) and the
//! three parts of its OAuth plugin, each read under the name Salesforce gives it
//! (`<App>_oauth`, `<App>_glbloauth`, `<App>_oauthPlcy`), parsed by the metadata-directory
//! parser and merged into one record per app. ECAs are not SOQL-queryable (reference §7b.3).
//! A refused part leaves its fields *not collected*, naming the permission it needs.

use super::record::{metadata_origin, metadata_path, retag};
use crate::collect::gathered::Gathered;
use crate::collect::soap::METADATA_READS;
use crate::snapshot::metadata::{
    ECA_PARTS as PARTS, MetadataKind, OAUTH_POLICIES_ACCESS, OAUTH_SETTINGS_ACCESS,
    ParsedComponent, eca_lacks as lacks, merge_eca_parts, parse_metadata_file,
};
use crate::snapshot::model::{Collection, ExternalClientApp, ExternalClientAppField, Origin};

/// What reading the part that fills `field` needs.
fn access(field: ExternalClientAppField) -> &'static str {
    match field {
        ExternalClientAppField::oauth_policies => OAUTH_POLICIES_ACCESS,
        _ => OAUTH_SETTINGS_ACCESS,
    }
}

/// Marks `field` not collected, for `reason`, in each app (only ours when `ours_only`) that
/// lacks it and has no earlier reason.
fn mark_lacking(
    apps: &mut [ExternalClientApp],
    field: ExternalClientAppField,
    reason: &str,
    ours_only: bool,
) {
    for app in apps {
        if (!ours_only || app.full_name == crate::guide::CONNECTED_APP) && lacks(app, field) {
            app.not_collected
                .entry(field)
                .or_insert_with(|| reason.to_string());
        }
    }
}

pub(super) fn external_client_apps(g: &Gathered) -> Collection<ExternalClientApp> {
    let header = MetadataKind::ExternalClientApplication;
    let mut parts: Vec<(ExternalClientApp, bool)> = Vec::new();
    match g.metadata.get(&header) {
        Some(Ok(_)) => {
            let (apps, failures) = parsed(g, header);
            // A header Salesforce sent but that cannot be read proves nothing about the app.
            if let Some(reason) = failures.into_iter().next() {
                return Collection::not_collected(reason);
            }
            parts.extend(apps);
        }
        Some(Err(failure)) => {
            return Collection::not_collected(format!(
                "{}; {OAUTH_POLICIES_ACCESS}",
                failure.reason
            ));
        }
        None => return Collection::not_collected("readMetadata ExternalClientApplication not run"),
    }
    let mut unreadable: Vec<(ExternalClientAppField, String)> = Vec::new();
    for (kind, field) in PARTS {
        let (found, failures) = parsed(g, kind);
        parts.extend(found);
        unreadable.extend(failures.into_iter().map(|reason| (field, reason)));
    }
    let mut apps: Vec<ExternalClientApp> = merge_eca_parts(parts).into_values().collect();
    // A part that came back but cannot be read is not collected, never missing.
    for (field, reason) in unreadable {
        mark_lacking(&mut apps, field, &reason, true);
    }
    add_listed_apps(g, &mut apps);
    for (kind, field) in PARTS {
        let reason = match g.metadata.get(&kind) {
            Some(Ok(_)) => continue,
            Some(Err(failure)) => format!("{}; {}", failure.reason, access(field)),
            None => format!("readMetadata {} not run", kind.type_name()),
        };
        mark_lacking(&mut apps, field, &reason, false);
    }
    for (kind, field) in PARTS {
        unread_parts(g, kind, field, &mut apps);
    }
    Collection::collected(
        apps,
        Some(Origin::Metadata {
            r#type: header.type_name().to_string(),
            full_name: crate::guide::CONNECTED_APP.to_string(),
        }),
    )
}

/// What `listMetadata` named of `kind`: the names, or why the listing failed.
fn listed(g: &Gathered, kind: MetadataKind) -> Option<Result<Vec<&str>, &str>> {
    let (_, result) = g.listed.iter().find(|(kinds, _)| kinds.contains(&kind))?;
    Some(match result {
        Ok(items) => Ok(items
            .iter()
            .filter(|c| c.metadata_type == kind.type_name())
            .map(|c| c.full_name.as_str())
            .collect()),
        Err(failure) => Err(failure.reason.as_str()),
    })
}

/// External Client Apps that `listMetadata` names but the audit did not read (another name
/// than `ECIConnectedApp`): known by name, for CAP001's "found … instead", nothing more.
fn add_listed_apps(g: &Gathered, apps: &mut Vec<ExternalClientApp>) {
    let header = MetadataKind::ExternalClientApplication;
    let Some(Ok(names)) = listed(g, header) else {
        return;
    };
    for name in names {
        if apps.iter().any(|a| a.full_name == name) {
            continue;
        }
        let mut app = ExternalClientApp {
            full_name: name.to_string(),
            source: Some(Origin::Metadata {
                r#type: header.type_name().to_string(),
                full_name: name.to_string(),
            }),
            ..ExternalClientApp::default()
        };
        let why = format!(
            "listed by listMetadata, not read: the audit reads the External Client App `{}` only",
            crate::guide::CONNECTED_APP
        );
        for (_, field) in PARTS {
            app.not_collected.insert(field, why.clone());
        }
        apps.push(app);
    }
}

/// A part readMetadata did not find under the conventional name may exist under another: when
/// `listMetadata` names others of that type (or could not list them), the part is unknown,
/// not missing.
fn unread_parts(
    g: &Gathered,
    kind: MetadataKind,
    field: ExternalClientAppField,
    apps: &mut [ExternalClientApp],
) {
    let requested: Vec<&str> = METADATA_READS
        .iter()
        .filter(|(k, _)| *k == kind)
        .flat_map(|(_, names)| names.iter().copied())
        .collect();
    let read: Vec<String> = match g.metadata.get(&kind) {
        Some(Ok(records)) => records.iter().map(|r| r.full_name.clone()).collect(),
        _ => return,
    };
    let why = match listed(g, kind) {
        Some(Ok(names)) => {
            let others: Vec<String> = names
                .into_iter()
                .filter(|n| !read.iter().any(|r| r == n))
                .map(|n| format!("`{n}`"))
                .collect();
            if others.is_empty() {
                return;
            }
            format!(
                "readMetadata {} found no `{}`, but listMetadata lists {}, which the audit does not read; one may be this app's",
                kind.type_name(),
                requested.join("`, `"),
                others.join(", ")
            )
        }
        Some(Err(reason)) => format!(
            "readMetadata {} found no `{}`, and listMetadata, which would find it under another name, failed: {reason}",
            kind.type_name(),
            requested.join("`, `")
        ),
        None => return,
    };
    mark_lacking(apps, field, &why, true);
}

/// The readable records of one part type, retagged with their readMetadata origin, and why
/// each record that cannot be parsed was left out (the caller marks its part not collected).
fn parsed(g: &Gathered, kind: MetadataKind) -> (Vec<(ExternalClientApp, bool)>, Vec<String>) {
    let Some(Ok(records)) = g.metadata.get(&kind) else {
        return (Vec::new(), Vec::new());
    };
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for record in records {
        let path = metadata_path(kind, &record.full_name);
        let app =
            match parse_metadata_file(kind, &record.full_name, &path, record.document.as_bytes()) {
                Ok(ParsedComponent::ExternalClientApp(app)) => app,
                Ok(_) => {
                    failures.push(format!(
                        "readMetadata {} {} did not read as an External Client App part",
                        kind.type_name(),
                        record.full_name
                    ));
                    continue;
                }
                Err(e) => {
                    failures.push(format!(
                        "readMetadata {} {} could not be read: {e}",
                        kind.type_name(),
                        record.full_name
                    ));
                    continue;
                }
            };
        let mut app = *app;
        let origin = metadata_origin(kind, &record.full_name);
        retag(&mut app, &origin);
        if let Some(p) = &mut app.oauth_settings {
            retag(p, &origin);
            app.locations
                .insert(ExternalClientAppField::oauth_settings, origin.clone());
        }
        if let Some(p) = &mut app.global_oauth_settings {
            retag(p, &origin);
            app.locations.insert(
                ExternalClientAppField::global_oauth_settings,
                origin.clone(),
            );
        }
        if let Some(p) = &mut app.oauth_policies {
            retag(p, &origin);
            app.locations
                .insert(ExternalClientAppField::oauth_policies, origin.clone());
        }
        out.push((app, kind == MetadataKind::ExternalClientApplication));
    }
    (out, failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::gathered::SoapFailure;
    use crate::collect::soap::MetadataRecord;

    fn doc(root: &str, inner: &str) -> String {
        format!("<{root} xmlns=\"http://soap.sforce.com/2006/04/metadata\">{inner}</{root}>")
    }

    #[test]
    fn refused_global_settings_are_not_collected_naming_both_permissions() {
        let mut g = Gathered::default();
        g.metadata.insert(
            MetadataKind::ExternalClientApplication,
            Ok(vec![MetadataRecord {
                full_name: "ECIConnectedApp".into(),
                document: doc(
                    "ExternalClientApplication",
                    "<label>ECI Connected App</label>",
                ),
            }]),
        );
        g.metadata.insert(
            MetadataKind::ExtlClntAppOauthPolicies,
            Ok(vec![MetadataRecord {
                full_name: "ECIConnectedApp_oauthPlcy".into(),
                document: doc(
                    "ExtlClntAppOauthConfigurablePolicies",
                    "<externalClientApplication>ECIConnectedApp</externalClientApplication><ipRelaxationPolicyType>Bypass</ipRelaxationPolicyType>",
                ),
            }]),
        );
        g.metadata
            .insert(MetadataKind::ExtlClntAppOauthSettings, Ok(vec![]));
        g.metadata.insert(
            MetadataKind::ExtlClntAppGlobalOauthSettings,
            Err(SoapFailure {
                code: Some("INSUFFICIENT_ACCESS".into()),
                reason: "INSUFFICIENT_ACCESS: no".into(),
            }),
        );
        let c = external_client_apps(&g);
        let apps = c.available().unwrap();
        assert_eq!(apps.len(), 1);
        let app = &apps[0];
        assert_eq!(app.label.as_deref(), Some("ECI Connected App"));
        let why = &app.not_collected[&ExternalClientAppField::global_oauth_settings];
        assert!(why.contains("Allow Access to OAuth Consumer Secrets via Metadata API"));
        assert!(why.contains("View External Client Apps Consumer Secrets in Metadata"));
        // Read and empty: the app has no OAuth settings, which is not "not collected".
        assert!(app.oauth_settings.is_none());
        assert!(
            !app.not_collected
                .contains_key(&ExternalClientAppField::oauth_settings)
        );
        let p = app.oauth_policies.as_ref().unwrap();
        assert_eq!(p.ip_relaxation_policy_type.as_deref(), Some("Bypass"));
        assert!(matches!(p.source, Some(Origin::Metadata { .. })));
    }

    #[test]
    fn an_unreadable_part_or_header_is_not_collected_never_missing() {
        let header = |inner: &str| MetadataRecord {
            full_name: "ECIConnectedApp".into(),
            document: doc("ExternalClientApplication", inner),
        };
        let mut g = Gathered::default();
        g.metadata.insert(
            MetadataKind::ExternalClientApplication,
            Ok(vec![header("<label>ECI Connected App</label>")]),
        );
        g.metadata.insert(
            MetadataKind::ExtlClntAppOauthPolicies,
            Ok(vec![MetadataRecord {
                full_name: "ECIConnectedApp_oauthPlcy".into(),
                document: doc(
                    "ExtlClntAppOauthConfigurablePolicies",
                    "<externalClientApplication>ECIConnectedApp</externalClientApplication><refreshTokenValidityPeriod>thirty</refreshTokenValidityPeriod>",
                ),
            }]),
        );
        g.metadata
            .insert(MetadataKind::ExtlClntAppOauthSettings, Ok(vec![]));
        g.metadata
            .insert(MetadataKind::ExtlClntAppGlobalOauthSettings, Ok(vec![]));
        let c = external_client_apps(&g);
        let app = &c.available().unwrap()[0];
        assert!(app.oauth_policies.is_none());
        let why = &app.not_collected[&ExternalClientAppField::oauth_policies];
        assert!(
            why.contains(
                "ExtlClntAppOauthConfigurablePolicies ECIConnectedApp_oauthPlcy could not be read"
            ),
            "{why}"
        );
        // A header that cannot be read: the apps are not collected at all.
        g.metadata.insert(
            MetadataKind::ExternalClientApplication,
            Ok(vec![header("<label>unclosed")]),
        );
        let c = external_client_apps(&g);
        assert!(c.available().is_err(), "{c:?}");
    }

    #[test]
    fn listed_parts_under_other_names_are_unknown_and_other_apps_are_named() {
        use crate::collect::soap::ListedComponent;
        let mut g = Gathered::default();
        g.metadata.insert(
            MetadataKind::ExternalClientApplication,
            Ok(vec![MetadataRecord {
                full_name: "ECIConnectedApp".into(),
                document: doc("ExternalClientApplication", "<label>ECI</label>"),
            }]),
        );
        for (kind, ..) in PARTS {
            g.metadata.insert(kind, Ok(vec![]));
        }
        let item = |t: &str, n: &str| ListedComponent {
            metadata_type: t.into(),
            full_name: n.into(),
        };
        g.listed.push((
            vec![
                MetadataKind::ExternalClientApplication,
                MetadataKind::ExtlClntAppOauthSettings,
                MetadataKind::ExtlClntAppOauthPolicies,
            ],
            Ok(vec![
                item("ExternalClientApplication", "ECIConnectedApp"),
                item("ExternalClientApplication", "Other_App"),
                item("ExtlClntAppOauthConfigurablePolicies", "ECI_policies"),
            ]),
        ));
        g.listed.push((
            vec![MetadataKind::ExtlClntAppGlobalOauthSettings],
            Err(SoapFailure {
                code: Some("INSUFFICIENT_ACCESS".into()),
                reason: "INSUFFICIENT_ACCESS: no".into(),
            }),
        ));
        let c = external_client_apps(&g);
        let apps = c.available().unwrap();
        let names: Vec<&str> = apps.iter().map(|a| a.full_name.as_str()).collect();
        assert_eq!(names, ["ECIConnectedApp", "Other_App"]);
        let app = &apps[0];
        let why = &app.not_collected[&ExternalClientAppField::oauth_policies];
        assert!(why.contains("`ECI_policies`"), "{why}");
        let why = &app.not_collected[&ExternalClientAppField::global_oauth_settings];
        assert!(why.contains("listMetadata, which would find it"), "{why}");
        // Nothing else of that type listed: the settings are truly absent.
        assert!(
            !app.not_collected
                .contains_key(&ExternalClientAppField::oauth_settings)
        );
    }

    #[test]
    fn a_refused_header_leaves_the_apps_not_collected() {
        let mut g = Gathered::default();
        g.metadata.insert(
            MetadataKind::ExternalClientApplication,
            Err(SoapFailure {
                code: Some("INSUFFICIENT_ACCESS".into()),
                reason: "INSUFFICIENT_ACCESS: no".into(),
            }),
        );
        let c = external_client_apps(&g);
        let why = c.available().unwrap_err();
        assert!(why.contains("View all External Client Apps"), "{why}");
    }
}
