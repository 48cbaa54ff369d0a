//! External Client Apps (ECA): four metadata components make one app. The header
//! (`externalClientApps/<App>.eca`) names it; its OAuth plugin is split across
//! `extlClntAppOauthSettings/<App>_oauth.ecaOauth` (scopes),
//! `extlClntAppGlobalOauthSets/<App>_glbloauth.ecaGlblOauth` (callback URL, consumer key,
//! secret flags) and `extlClntAppOauthPolicies/<App>_oauthPlcy.ecaOauthPlcy` (permitted users,
//! IP relaxation, refresh token, session level, profiles and permission sets). Each part names
//! its app in `<externalClientApplication>`; the `_oauth`-style suffix is only the fallback.
//! Sources: the metadata reference of each type and reference §2.7 / §7b.3.

use std::collections::BTreeMap;

use super::error::MetadataError;
use super::parse::{Cx, MetadataKind};
use super::xml::Element;
use crate::snapshot::model::{
    EcaGlobalOauthSettings, EcaGlobalOauthSettingsField, EcaOauthPolicies, EcaOauthPoliciesField,
    EcaOauthSettings, EcaOauthSettingsField, ExternalClientApp, ExternalClientAppField,
    ExternalClientAppField as F, Origin,
};

/// The parts of an ECA's OAuth plugin: the metadata type of each and the field it fills.
pub const PARTS: [(MetadataKind, ExternalClientAppField); 3] = [
    (
        MetadataKind::ExtlClntAppOauthSettings,
        ExternalClientAppField::oauth_settings,
    ),
    (
        MetadataKind::ExtlClntAppGlobalOauthSettings,
        ExternalClientAppField::global_oauth_settings,
    ),
    (
        MetadataKind::ExtlClntAppOauthPolicies,
        ExternalClientAppField::oauth_policies,
    ),
];

/// Whether `app` lacks the part that fills `field`.
pub fn lacks(app: &ExternalClientApp, field: ExternalClientAppField) -> bool {
    match field {
        ExternalClientAppField::oauth_settings => app.oauth_settings.is_none(),
        ExternalClientAppField::global_oauth_settings => app.global_oauth_settings.is_none(),
        _ => app.oauth_policies.is_none(),
    }
}

/// Why an ECA's OAuth settings may be unreadable: what the Metadata API demands.
pub const OAUTH_SETTINGS_ACCESS: &str = "reading an External Client App's OAuth settings needs the org setting \"Allow Access to OAuth Consumer Secrets via Metadata API\" and the user permission \"View External Client Apps Consumer Secrets in Metadata\"";

/// Why an ECA's OAuth policies may be unreadable.
pub const OAUTH_POLICIES_ACCESS: &str = "reading an External Client App's OAuth policies needs the user permission \"View all External Client Apps, view their settings, and edit their policies\"";

/// Why an ECA global settings file has no `consumerKey`.
const ECA_KEY_LATER: &str = "Salesforce sets it when the app is created; retrieve the global OAuth settings to compare keys";

/// The part of an app a file of `kind` holds, as an app record named after its app.
pub(super) fn parse(
    cx: &Cx,
    root: &Element,
    kind: MetadataKind,
    full_name: &str,
) -> Result<ExternalClientApp, MetadataError> {
    let source = Some(cx.origin(root.offset));
    let mut app = ExternalClientApp {
        full_name: full_name.to_string(),
        source: source.clone(),
        ..ExternalClientApp::default()
    };
    match kind {
        MetadataKind::ExternalClientApplication => {
            let l = &mut app.locations;
            app.label = cx.string(root, "label", F::label, l)?;
            app.contact_email = cx.string(root, "contactEmail", F::contact_email, l)?;
        }
        MetadataKind::ExtlClntAppOauthSettings => {
            app.full_name = app_name(cx, root, full_name, "_oauth")?;
            let mut s = EcaOauthSettings {
                full_name: Some(full_name.to_string()),
                source: source.clone(),
                ..EcaOauthSettings::default()
            };
            s.scopes = cx
                .string(
                    root,
                    "commaSeparatedOauthScopes",
                    EcaOauthSettingsField::scopes,
                    &mut s.locations,
                )?
                .map(|t| comma_list(&t));
            app.locations
                .insert(F::oauth_settings, cx.origin(root.offset));
            app.oauth_settings = Some(s);
        }
        MetadataKind::ExtlClntAppGlobalOauthSettings => {
            app.full_name = app_name(cx, root, full_name, "_glbloauth")?;
            let mut g = EcaGlobalOauthSettings {
                full_name: Some(full_name.to_string()),
                source: source.clone(),
                ..EcaGlobalOauthSettings::default()
            };
            let l = &mut g.locations;
            g.callback_url = cx.string(
                root,
                "callbackUrl",
                EcaGlobalOauthSettingsField::callback_url,
                l,
            )?;
            g.consumer_key_fingerprint = cx.consumer_key(
                root,
                EcaGlobalOauthSettingsField::consumer_key_fingerprint,
                l,
                &mut g.not_collected,
                ECA_KEY_LATER,
            )?;
            g.is_consumer_secret_optional = cx.boolean(
                root,
                "isConsumerSecretOptional",
                EcaGlobalOauthSettingsField::is_consumer_secret_optional,
                l,
            )?;
            g.is_secret_required_for_refresh_token = cx.boolean(
                root,
                "isSecretRequiredForRefreshToken",
                EcaGlobalOauthSettingsField::is_secret_required_for_refresh_token,
                l,
            )?;
            app.locations
                .insert(F::global_oauth_settings, cx.origin(root.offset));
            app.global_oauth_settings = Some(g);
        }
        MetadataKind::ExtlClntAppOauthPolicies => {
            app.full_name = app_name(cx, root, full_name, "_oauthPlcy")?;
            app.oauth_policies = Some(policies(cx, root, full_name)?);
            app.locations
                .insert(F::oauth_policies, cx.origin(root.offset));
        }
        _ => {}
    }
    Ok(app)
}

fn policies(cx: &Cx, root: &Element, full_name: &str) -> Result<EcaOauthPolicies, MetadataError> {
    use EcaOauthPoliciesField as P;
    let mut p = EcaOauthPolicies {
        full_name: Some(full_name.to_string()),
        source: Some(cx.origin(root.offset)),
        ..EcaOauthPolicies::default()
    };
    let l = &mut p.locations;
    p.permitted_users_policy_type = cx.string(
        root,
        "permittedUsersPolicyType",
        P::permitted_users_policy_type,
        l,
    )?;
    p.ip_relaxation_policy_type = cx.string(
        root,
        "ipRelaxationPolicyType",
        P::ip_relaxation_policy_type,
        l,
    )?;
    p.refresh_token_policy_type = cx.string(
        root,
        "refreshTokenPolicyType",
        P::refresh_token_policy_type,
        l,
    )?;
    p.refresh_token_validity_period = match cx.one(root, "refreshTokenValidityPeriod")? {
        Some(el) => match cx.text(el)? {
            Some(text) => {
                let Ok(n) = text.trim().parse::<i64>() else {
                    let (line, column) = cx.lines.position(el.offset);
                    let chars = text.chars().count();
                    return Err(MetadataError::Unexpected {
                        path: cx.path.to_string(),
                        line,
                        column,
                        expected: "an integer in <refreshTokenValidityPeriod>".to_string(),
                        found: if chars <= 12 {
                            format!("`{}`", text.trim())
                        } else {
                            format!("a {chars}-character value")
                        },
                    });
                };
                l.insert(P::refresh_token_validity_period, cx.origin(el.offset));
                Some(n)
            }
            None => None,
        },
        None => None,
    };
    p.refresh_token_validity_unit = cx.string(
        root,
        "refreshTokenValidityUnit",
        P::refresh_token_validity_unit,
        l,
    )?;
    p.required_session_level =
        cx.string(root, "requiredSessionLevel", P::required_session_level, l)?;
    p.policy_action = cx.string(root, "policyAction", P::policy_action, l)?;
    p.profile_names = cx
        .string(root, "commaSeparatedProfile", P::profile_names, l)?
        .map(|t| comma_list(&t));
    p.permission_set_names = cx
        .string(
            root,
            "commaSeparatedPermissionSet",
            P::permission_set_names,
            l,
        )?
        .map(|t| comma_list(&t));
    Ok(p)
}

/// The app a part belongs to: its `<externalClientApplication>`, else its own name without the
/// conventional suffix.
fn app_name(
    cx: &Cx,
    root: &Element,
    full_name: &str,
    suffix: &str,
) -> Result<String, MetadataError> {
    let mut scratch: BTreeMap<ExternalClientAppField, Origin> = BTreeMap::new();
    let named = cx.string(
        root,
        "externalClientApplication",
        F::full_name,
        &mut scratch,
    )?;
    Ok(named
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            full_name
                .strip_suffix(suffix)
                .unwrap_or(full_name)
                .to_string()
        }))
}

/// `Basic, Api ,Web` → `["Basic", "Api", "Web"]`.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Adds one parsed part (or the header) to the app it names. The header gives the app its
/// label, contact and provenance; a part fills only its own slot, the first file of a kind
/// winning (Salesforce keeps one of each per app).
fn merge(into: &mut ExternalClientApp, part: ExternalClientApp, header: bool) {
    if header {
        into.label = part.label;
        into.contact_email = part.contact_email;
        into.source = part.source;
        for key in [F::label, F::contact_email] {
            match part.locations.get(&key) {
                Some(at) => into.locations.insert(key, at.clone()),
                None => into.locations.remove(&key),
            };
        }
        return;
    }
    if into.source.is_none() {
        into.source.clone_from(&part.source);
    }
    let ExternalClientApp {
        oauth_settings,
        global_oauth_settings,
        oauth_policies,
        locations,
        ..
    } = part;
    if let Some(p) = oauth_settings {
        take_part(
            into,
            |a| &mut a.oauth_settings,
            p,
            &locations,
            F::oauth_settings,
        );
    }
    if let Some(p) = global_oauth_settings {
        take_part(
            into,
            |a| &mut a.global_oauth_settings,
            p,
            &locations,
            F::global_oauth_settings,
        );
    }
    if let Some(p) = oauth_policies {
        take_part(
            into,
            |a| &mut a.oauth_policies,
            p,
            &locations,
            F::oauth_policies,
        );
    }
}

/// Puts one part in its slot. A second file of the same part for the same app (a stale copy in
/// another package directory) makes the part not collected, naming both files: which one
/// deploys cannot be told from the files, and the first one read must not silently win.
fn take_part<T>(
    into: &mut ExternalClientApp,
    slot: impl Fn(&mut ExternalClientApp) -> &mut Option<T>,
    part: T,
    from: &BTreeMap<ExternalClientAppField, Origin>,
    key: ExternalClientAppField,
) {
    let second = from
        .get(&key)
        .map_or_else(|| "another file".to_string(), Origin::display);
    if slot(into).is_some() || into.not_collected.contains_key(&key) {
        let first = into
            .locations
            .get(&key)
            .map_or_else(|| "one file".to_string(), Origin::display);
        *slot(into) = None;
        into.locations.remove(&key);
        let reason = match into.not_collected.get(&key) {
            Some(earlier) if earlier.starts_with("several files") => format!("{earlier}, {second}"),
            _ => format!(
                "several files hold this part of `{}`: {first}, {second} — keep one (which deploys cannot be told from the files)",
                into.full_name
            ),
        };
        into.not_collected.insert(key, reason);
        return;
    }
    *slot(into) = Some(part);
    copy_location(into, from, key);
}

fn copy_location(
    into: &mut ExternalClientApp,
    from: &BTreeMap<ExternalClientAppField, Origin>,
    key: ExternalClientAppField,
) {
    if let Some(at) = from.get(&key) {
        into.locations.insert(key, at.clone());
    }
    into.not_collected.remove(&key);
}

/// Merges parsed ECA records (header or part, in any order) into one record per app.
pub fn merge_all(
    parts: impl IntoIterator<Item = (ExternalClientApp, bool)>,
) -> BTreeMap<String, ExternalClientApp> {
    let mut apps: BTreeMap<String, ExternalClientApp> = BTreeMap::new();
    for (part, header) in parts {
        let name = part.full_name.clone();
        if let Some(app) = apps.get_mut(&name) {
            merge(app, part, header);
        } else {
            let mut app = ExternalClientApp {
                full_name: name.clone(),
                ..ExternalClientApp::default()
            };
            merge(&mut app, part, header);
            apps.insert(name, app);
        }
    }
    apps
}
