//! From wire answers to the snapshot model: SOQL rows (`Origin::Record`) and `readMetadata`
//! records (`Origin::Metadata`, mapped by the metadata-directory parser) merged by name.
//! Values stay raw; defaults are the view layer's job. Mapping decides nothing about what is
//! read: the follow-up requests are [`super::follow_up`]'s call.
//!
//! One module per area: `org` (the org, its packages and ECI settings), `people` (users,
//! profiles, permission sets and their object permissions), `apps` (connected apps and auth
//! providers), `credentials` (named credentials), `sites` (the site, its users, domains);
//! `components` merges the two sources of a metadata component type; `record` holds what every
//! area uses (origins, "not collected" marks).

mod apps;
mod components;
mod credentials;
mod eca;
mod org;
mod people;
mod record;
mod runtime;
mod sites;

use super::gathered::{Gathered, QueryOutcome, SoapFailure, UserInfo};
use crate::snapshot::metadata::MetadataKind;
use crate::snapshot::model::{AircallCheck, Snapshot, SourceKind};

/// Facts about the session the assembler needs.
pub(crate) struct Context {
    pub instance_url: String,
    pub api_version: String,
    pub my_domain: Option<String>,
    pub integration_user: Option<String>,
    pub userinfo: Option<UserInfo>,
    pub aircall: Option<AircallCheck>,
    /// When the collection ended: the run-time evidence is as of it.
    pub now: chrono::DateTime<chrono::Utc>,
}

pub(crate) fn assemble(g: Gathered, cx: &Context) -> Snapshot {
    let mut s = Snapshot::empty(SourceKind::LiveOrg);
    org::map_org(
        &g,
        &cx.instance_url,
        cx.my_domain.as_deref(),
        &cx.api_version,
        &mut s,
    );
    people::map_people(&g, &mut s);
    s.object_permissions = people::object_permissions(&g);
    s.connected_apps = apps::connected_apps(&g);
    s.auth_providers = apps::auth_providers(&g);
    s.named_credentials = credentials::named_credentials(&g, apps::provider_names(&g).as_ref());
    s.sites = sites::sites(&g);
    sites::add_site_user_placeholders(&g, &mut s);
    s.domains = sites::domains(&g);
    s.external_client_apps = eca::external_client_apps(&g);
    s.aircall.clone_from(&cx.aircall);
    s.runtime = runtime::runtime(&g, &s, cx.now);

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
    s.source.collected_at = Some(cx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    s.source.auditing_user = cx.userinfo.as_ref().and_then(|u| u.username.clone());
    s.source.missing_permissions = missing_permissions(&g);
    s.source
        .missing_permissions
        .extend(runtime::silently_partial(&s.runtime));
    s.source.integration_user.clone_from(&cx.integration_user);
    s
}

/// What the auditing user may not read, for the report's preamble: refused objects and
/// refused `readMetadata` calls.
fn missing_permissions(g: &Gathered) -> Vec<String> {
    let mut missing_permissions = Vec::new();
    for (spec, outcome) in g.queries.values() {
        // A field the org hid from the auditing user, the rest of the query read.
        if let QueryOutcome::Rows { dropped, .. } = outcome {
            for (field, _) in dropped {
                if field.soql == "AuthProviderId" {
                    missing_permissions.push(format!(
                        "SOQL {}.AuthProviderId: INVALID_FIELD (needs Customize Application and Manage AuthProviders)",
                        spec.object
                    ));
                }
            }
        }
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
            let needs = match kind {
                MetadataKind::ExternalClientApplication
                | MetadataKind::ExtlClntAppOauthPolicies => {
                    "needs \"View all External Client Apps, view their settings, and edit their policies\""
                }
                MetadataKind::ExtlClntAppOauthSettings
                | MetadataKind::ExtlClntAppGlobalOauthSettings => {
                    "needs the org setting \"Allow Access to OAuth Consumer Secrets via Metadata API\" and \"View External Client Apps Consumer Secrets in Metadata\""
                }
                _ => "needs Modify Metadata Through Metadata API Functions or Modify All Data",
            };
            missing_permissions.push(format!(
                "readMetadata {}: {code} ({needs})",
                kind.type_name()
            ));
        }
    }
    missing_permissions.sort();
    missing_permissions.dedup();
    missing_permissions
}
