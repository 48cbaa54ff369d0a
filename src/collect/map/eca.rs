//! External Client Apps from `readMetadata`: the header (`ExternalClientApplication`) and the
//! three parts of its OAuth plugin, each read under the name Salesforce gives it
//! (`<App>_oauth`, `<App>_glbloauth`, `<App>_oauthPlcy`), parsed by the metadata-directory
//! parser and merged into one record per app. ECAs are not SOQL-queryable (reference §7b.3).
//! A refused part leaves its fields *not collected*, naming the permission it needs.

use super::record::{metadata_origin, metadata_path, retag};
use crate::collect::gathered::Gathered;
use crate::snapshot::metadata::{
    MetadataKind, OAUTH_POLICIES_ACCESS, OAUTH_SETTINGS_ACCESS, ParsedComponent, merge_eca_parts,
    parse_metadata_file,
};
use crate::snapshot::model::{Collection, ExternalClientApp, ExternalClientAppField, Origin};

/// The ECA parts, with the field each fills and what reading it needs.
const PARTS: [(MetadataKind, ExternalClientAppField, &str); 3] = [
    (
        MetadataKind::ExtlClntAppOauthSettings,
        ExternalClientAppField::oauth_settings,
        OAUTH_SETTINGS_ACCESS,
    ),
    (
        MetadataKind::ExtlClntAppGlobalOauthSettings,
        ExternalClientAppField::global_oauth_settings,
        OAUTH_SETTINGS_ACCESS,
    ),
    (
        MetadataKind::ExtlClntAppOauthPolicies,
        ExternalClientAppField::oauth_policies,
        OAUTH_POLICIES_ACCESS,
    ),
];

pub(super) fn external_client_apps(g: &Gathered) -> Collection<ExternalClientApp> {
    let header = MetadataKind::ExternalClientApplication;
    let mut parts: Vec<(ExternalClientApp, bool)> = Vec::new();
    match g.metadata.get(&header) {
        Some(Ok(_)) => parts.extend(parsed(g, header)),
        Some(Err(failure)) => {
            return Collection::not_collected(format!(
                "{}; {OAUTH_POLICIES_ACCESS}",
                failure.reason
            ));
        }
        None => return Collection::not_collected("readMetadata ExternalClientApplication not run"),
    }
    for (kind, ..) in PARTS {
        parts.extend(parsed(g, kind));
    }
    let mut apps: Vec<ExternalClientApp> = merge_eca_parts(parts).into_values().collect();
    for (kind, field, access) in PARTS {
        let reason = match g.metadata.get(&kind) {
            Some(Ok(_)) => continue,
            Some(Err(failure)) => format!("{}; {access}", failure.reason),
            None => format!("readMetadata {} not run", kind.type_name()),
        };
        for app in &mut apps {
            let missing = match field {
                ExternalClientAppField::oauth_settings => app.oauth_settings.is_none(),
                ExternalClientAppField::global_oauth_settings => {
                    app.global_oauth_settings.is_none()
                }
                _ => app.oauth_policies.is_none(),
            };
            if missing {
                app.not_collected.insert(field, reason.clone());
            }
        }
    }
    Collection::collected(
        apps,
        Some(Origin::Metadata {
            r#type: header.type_name().to_string(),
            full_name: crate::guide::CONNECTED_APP.to_string(),
        }),
    )
}

/// The readable records of one part type, retagged with their readMetadata origin. A record
/// that cannot be parsed is skipped: its app then lacks that part, which its rules report.
fn parsed(g: &Gathered, kind: MetadataKind) -> Vec<(ExternalClientApp, bool)> {
    let Some(Ok(records)) = g.metadata.get(&kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for record in records {
        let path = metadata_path(kind, &record.full_name);
        let Ok(ParsedComponent::ExternalClientApp(app)) =
            parse_metadata_file(kind, &record.full_name, &path, record.document.as_bytes())
        else {
            continue;
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
    out
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
