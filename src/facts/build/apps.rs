//! The `connected_apps` and `auth_providers` roots: OAuth settings and policies with
//! Salesforce's documented defaults, who may use the app, and the consumer-key fingerprint.

use super::{Builder, defaulted, defaulted_str, list_v, model_field, put_opt, str_v};
use crate::facts::value::{Fact, Field, Object, RecordSet, Value};
use crate::snapshot::metadata::profile_display_name;
use crate::snapshot::model;
use crate::snapshot::model::{
    AuthProviderField, ConnectedAppField, EcaGlobalOauthSettingsField, EcaOauthPoliciesField,
    EcaOauthSettingsField, ExternalClientAppField, OauthConfigField, OauthPolicyField, Origin,
    SessionPolicyField,
};

/// `kind` of a connected-app record that is a connected app.
pub const KIND_CONNECTED_APP: &str = "ConnectedApp";
/// `kind` of a connected-app record that is an External Client App standing in for one.
pub const KIND_EXTERNAL_CLIENT_APP: &str = "ExternalClientApplication";

impl Builder<'_> {
    pub(super) fn connected_app(&self, r: &model::ConnectedApp) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        o.put(
            "kind",
            Field::value(Value::Str(KIND_CONNECTED_APP.to_string()), r.source.clone()),
        );
        put_opt(&mut o, r, ConnectedAppField::label, str_v(r.label.as_ref()));
        put_opt(
            &mut o,
            r,
            ConnectedAppField::contact_email,
            str_v(r.contact_email.as_ref()),
        );
        let oauth = match (
            &r.oauth_config,
            r.not_collected.get(&ConnectedAppField::oauth_config),
        ) {
            (_, Some(reason)) => Field::not_collected(reason.clone()),
            (None, None) => Field::absent(r.source.clone()),
            (Some(c), None) => Self::oauth_config(r, c),
        };
        o.put("oauth_config", oauth);
        o.put("oauth_policy", Self::oauth_policy(r));
        o.put("high_assurance_required", self.high_assurance(r));
        for (key, value) in [
            (ConnectedAppField::profile_names, &r.profile_names),
            (
                ConnectedAppField::permission_set_names,
                &r.permission_set_names,
            ),
        ] {
            put_opt(&mut o, r, key, list_v(value.as_ref()));
        }
        o.put("access_list", Self::access_list(r));
        o
    }

    fn oauth_config(r: &model::ConnectedApp, c: &model::OauthConfig) -> Field {
        let mut oc = Object::new(None, c.source.clone().or(r.source.clone()));
        put_opt(
            &mut oc,
            c,
            OauthConfigField::callback_url,
            str_v(c.callback_url.as_ref()),
        );
        let urls = c.callback_url.as_deref().map(split_lines);
        oc.put(
            "callback_urls",
            model_field(c, OauthConfigField::callback_url, urls),
        );
        put_opt(
            &mut oc,
            c,
            OauthConfigField::consumer_key_fingerprint,
            str_v(c.consumer_key_fingerprint.as_ref()),
        );
        let admin = match (c.is_admin_approved, r.admin_approved_users_only) {
            (None, Some(v))
                if !c
                    .not_collected
                    .contains_key(&OauthConfigField::is_admin_approved) =>
            {
                Field::value(
                    Value::Bool(v),
                    super::located(r, ConnectedAppField::admin_approved_users_only),
                )
            }
            _ => defaulted(
                c,
                OauthConfigField::is_admin_approved,
                c.is_admin_approved,
                false,
            ),
        };
        oc.put("is_admin_approved", admin);
        oc.put(
            "is_consumer_secret_optional",
            defaulted(
                c,
                OauthConfigField::is_consumer_secret_optional,
                c.is_consumer_secret_optional,
                false,
            ),
        );
        oc.put(
            "is_secret_required_for_refresh_token",
            defaulted(
                c,
                OauthConfigField::is_secret_required_for_refresh_token,
                c.is_secret_required_for_refresh_token,
                true,
            ),
        );
        put_opt(
            &mut oc,
            c,
            OauthConfigField::is_refresh_token_rotation_enabled,
            c.is_refresh_token_rotation_enabled.map(Value::Bool),
        );
        put_opt(
            &mut oc,
            c,
            OauthConfigField::scopes,
            list_v(c.scopes.as_ref()),
        );
        Field::value(Value::Object(oc), c.source.clone().or(r.source.clone()))
    }

    fn oauth_policy(r: &model::ConnectedApp) -> Field {
        if let Some(reason) = r.not_collected.get(&ConnectedAppField::oauth_policy) {
            return Field::not_collected(reason.clone());
        }
        // An absent oauthPolicy (or element) means Salesforce's defaults.
        let default_policy = model::OauthPolicy {
            source: r.source.clone(),
            ..model::OauthPolicy::default()
        };
        let p = r.oauth_policy.as_ref().unwrap_or(&default_policy);
        let mut po = Object::new(None, p.source.clone().or(r.source.clone()));
        po.put(
            "ip_relaxation",
            defaulted_str(
                p,
                OauthPolicyField::ip_relaxation,
                p.ip_relaxation.as_ref(),
                "ENFORCE",
                "Salesforce's default is ENFORCE",
            ),
        );
        po.put(
            "refresh_token_policy",
            defaulted_str(
                p,
                OauthPolicyField::refresh_token_policy,
                p.refresh_token_policy.as_ref(),
                "infinite",
                "Salesforce's default is infinite (valid until revoked)",
            ),
        );
        let days = p
            .refresh_token_policy
            .as_deref()
            .and_then(refresh_token_days);
        let mut f = model_field(
            p,
            OauthPolicyField::refresh_token_policy,
            days.map(Value::Int),
        );
        if days.is_none() && !matches!(f.fact, Fact::NotCollected { .. }) {
            f = Field::absent(f.origin).with_note("the policy is not `specific_lifetime:N:DAYS`");
        }
        po.put("refresh_token_days", f);
        Field::value(Value::Object(po), p.source.clone().or(r.source.clone()))
    }

    /// High assurance: metadata `sessionLevel`, or SOQL `OptionsHasSessionLevelPolicy`.
    fn high_assurance(&self, r: &model::ConnectedApp) -> Field {
        match (&r.session_policy, r.has_session_level_policy) {
            (Some(sp), _) => {
                let level = sp.session_level.as_deref().unwrap_or("");
                let levels = &self.settings.high_assurance_session_levels;
                Field::value(
                    Value::Bool(levels.iter().any(|l| l.eq_ignore_ascii_case(level.trim()))),
                    super::located(sp, SessionPolicyField::session_level),
                )
                // The literal is not documented for connected apps (reference §7 U8).
                .with_note(format!(
                    "sessionLevel `{level}`; assumed high assurance: {} (UNCONFIRMED; config high_assurance_session_levels)",
                    levels.join(", ")
                ))
            }
            (None, Some(v)) => Field::value(
                Value::Bool(v),
                super::located(r, ConnectedAppField::has_session_level_policy),
            ),
            (None, None) => match r.not_collected.get(&ConnectedAppField::session_policy) {
                Some(reason) => Field::not_collected(reason.clone()),
                None => Field::value(Value::Bool(false), r.source.clone())
                    .with_note("no session policy: high assurance is not required"),
            },
        }
    }

    /// Who may use the app: profiles plus permission sets; either part missing leaves the
    /// list incomplete.
    fn access_list(r: &model::ConnectedApp) -> Field {
        let parts = [
            model_field(
                r,
                ConnectedAppField::profile_names,
                list_v(r.profile_names.as_ref()),
            ),
            model_field(
                r,
                ConnectedAppField::permission_set_names,
                list_v(r.permission_set_names.as_ref()),
            ),
        ];
        access_of(&parts)
    }

    pub(super) fn auth_provider(&self, r: &model::AuthProvider) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        for (key, value) in [
            (AuthProviderField::friendly_name, &r.friendly_name),
            (AuthProviderField::provider_type, &r.provider_type),
            (
                AuthProviderField::consumer_key_fingerprint,
                &r.consumer_key_fingerprint,
            ),
        ] {
            put_opt(&mut o, r, key, str_v(value.as_ref()));
        }
        if let Some(note) = self.consumer_key_owner(r.consumer_key_fingerprint.as_deref())
            && let Some(f) = o.fields.remove("consumer_key_fingerprint")
        {
            o.put("consumer_key_fingerprint", f.with_note(note));
        }
        o
    }

    /// When the org has External Client Apps, which app the auth provider's key belongs to:
    /// with a connected app and an ECA of the same name, AUP004 compares with the connected
    /// app, and this says whether the key is the ECA's instead.
    fn consumer_key_owner(&self, key: Option<&str>) -> Option<String> {
        let key = key?;
        let ecas = self.snap.external_client_apps.available().ok()?;
        if ecas.is_empty() {
            return None;
        }
        let mut owners: Vec<String> = Vec::new();
        for app in self.snap.connected_apps.items() {
            if app
                .oauth_config
                .as_ref()
                .and_then(|c| c.consumer_key_fingerprint.as_deref())
                == Some(key)
            {
                owners.push(format!("connected app `{}`", app.full_name));
            }
        }
        for app in ecas {
            if app
                .global_oauth_settings
                .as_ref()
                .and_then(|g| g.consumer_key_fingerprint.as_deref())
                == Some(key)
            {
                owners.push(format!("External Client App `{}`", app.full_name));
            }
        }
        Some(if owners.is_empty() {
            "the key is no known connected app's or External Client App's".to_string()
        } else {
            format!("the key is the consumer key of {}", owners.join(" and "))
        })
    }

    /// The `connected_apps` root: the connected apps, plus each External Client App that no
    /// connected app of the same name shadows (Spring '26 orgs build an ECA instead), shown
    /// through the connected-app fields so that the CAP rules check its equivalent settings.
    pub(super) fn connected_apps_with_ecas(&self) -> RecordSet {
        let mut set = self.set(&self.snap.connected_apps, |r| self.connected_app(r));
        let Ok(ecas) = self.snap.external_client_apps.available() else {
            return set;
        };
        let taken: Vec<String> = set
            .records
            .as_ref()
            .map(|r| r.iter().filter_map(|o| o.name.clone()).collect())
            .unwrap_or_default();
        let extra: Vec<Object> = ecas
            .iter()
            .filter(|e| !taken.contains(&e.full_name))
            .map(|e| self.eca_as_connected_app(e))
            .collect();
        if extra.is_empty() {
            return set;
        }
        match &mut set.records {
            Ok(records) => records.extend(extra),
            Err(reason) => {
                // Only the ECAs are known: a name they lack may still be a connected app.
                set.uncertain
                    .push(("(connected apps)".to_string(), reason.clone()));
                set.records = Ok(extra);
            }
        }
        set
    }

    /// An External Client App as a connected-app record (reference §2.7, §7b.3).
    fn eca_as_connected_app(&self, r: &model::ExternalClientApp) -> Object {
        let mut app = Object::new(Some(r.full_name.clone()), r.source.clone());
        app.note = Some(
            "as an External Client App, not a connected app: its OAuth settings and policies stand in for the connected app's"
                .to_string(),
        );
        app.put(
            "kind",
            Field::value(
                Value::Str(KIND_EXTERNAL_CLIENT_APP.to_string()),
                r.source.clone(),
            ),
        );
        put_opt(
            &mut app,
            r,
            ExternalClientAppField::label,
            str_v(r.label.as_ref()),
        );
        put_opt(
            &mut app,
            r,
            ExternalClientAppField::contact_email,
            str_v(r.contact_email.as_ref()),
        );
        let settings = r.oauth_settings.as_ref();
        let global = r.global_oauth_settings.as_ref();
        let policies = r.oauth_policies.as_ref();

        // OAuth is enabled when the app has an OAuth plugin: any of its parts exists.
        let oauth = if settings.is_none() && global.is_none() && policies.is_none() {
            [
                ExternalClientAppField::oauth_settings,
                ExternalClientAppField::global_oauth_settings,
                ExternalClientAppField::oauth_policies,
            ]
            .iter()
            .find_map(|k| r.not_collected.get(k))
            .map_or_else(
                || {
                    Field::absent_because(
                        "the External Client App has no OAuth plugin (no OAuth settings or policies)",
                        r.source.clone(),
                    )
                },
                |reason| Field::not_collected(reason.clone()),
            )
        } else {
            let origin = settings
                .and_then(|s| s.source.clone())
                .or_else(|| global.and_then(|g| g.source.clone()))
                .or_else(|| policies.and_then(|p| p.source.clone()))
                .or(r.source.clone());
            let mut oc = Object::new(None, origin.clone());
            match global {
                Some(g) => {
                    put_opt(
                        &mut oc,
                        g,
                        EcaGlobalOauthSettingsField::callback_url,
                        str_v(g.callback_url.as_ref()),
                    );
                    oc.put(
                        "callback_urls",
                        model_field(
                            g,
                            EcaGlobalOauthSettingsField::callback_url,
                            g.callback_url.as_ref().map(|u| split_lines(u)),
                        ),
                    );
                    put_opt(
                        &mut oc,
                        g,
                        EcaGlobalOauthSettingsField::consumer_key_fingerprint,
                        str_v(g.consumer_key_fingerprint.as_ref()),
                    );
                    oc.put(
                        "is_consumer_secret_optional",
                        defaulted(
                            g,
                            EcaGlobalOauthSettingsField::is_consumer_secret_optional,
                            g.is_consumer_secret_optional,
                            false,
                        ),
                    );
                    oc.put(
                        "is_secret_required_for_refresh_token",
                        defaulted(
                            g,
                            EcaGlobalOauthSettingsField::is_secret_required_for_refresh_token,
                            g.is_secret_required_for_refresh_token,
                            true,
                        ),
                    );
                }
                None => {
                    for key in [
                        "callback_url",
                        "callback_urls",
                        "consumer_key_fingerprint",
                        "is_consumer_secret_optional",
                        "is_secret_required_for_refresh_token",
                    ] {
                        oc.put(
                            key,
                            part_missing(
                                r,
                                ExternalClientAppField::global_oauth_settings,
                                "global OAuth settings (`ExtlClntAppGlobalOauthSettings`)",
                            ),
                        );
                    }
                }
            }
            oc.put(
                "is_refresh_token_rotation_enabled",
                Field::absent_because("not read for an External Client App", origin.clone()),
            );
            oc.put(
                "scopes",
                match settings {
                    Some(s) => {
                        model_field(s, EcaOauthSettingsField::scopes, list_v(s.scopes.as_ref()))
                            .with_note("`commaSeparatedOauthScopes`")
                    }
                    None => part_missing(
                        r,
                        ExternalClientAppField::oauth_settings,
                        "OAuth settings (`ExtlClntAppOauthSettings`)",
                    ),
                },
            );
            oc.put(
                "is_admin_approved",
                match policies {
                    Some(p) => {
                        let f = model_field(
                            p,
                            EcaOauthPoliciesField::permitted_users_policy_type,
                            p.permitted_users_policy_type.as_ref().map(|t| {
                                Value::Bool(
                                    t.trim().eq_ignore_ascii_case("AdminApprovedPreAuthorized"),
                                )
                            }),
                        );
                        match &p.permitted_users_policy_type {
                            Some(t) => f.with_note(format!("`permittedUsersPolicyType` is `{t}`")),
                            None => f,
                        }
                    }
                    None => policies_missing(r),
                },
            );
            Field::value(Value::Object(oc), origin)
        };
        app.put("oauth_config", oauth);

        let (policy, high_assurance) = match policies {
            Some(p) => (Self::eca_policy(p), self.eca_high_assurance(p)),
            None => (policies_missing(r), policies_missing(r)),
        };
        app.put("oauth_policy", policy);
        app.put("high_assurance_required", high_assurance);

        let lists = match policies {
            Some(p) => {
                let profiles = p.profile_names.as_ref().map(|names| {
                    // Profiles may be written by API name (`Admin`): show display names.
                    Value::strs(names.iter().map(|n| profile_display_name(n)))
                });
                let renamed: Vec<String> = p
                    .profile_names
                    .iter()
                    .flatten()
                    .filter(|n| profile_display_name(n) != **n)
                    .map(|n| format!("`{n}` read as {}", profile_display_name(n)))
                    .collect();
                let note = if renamed.is_empty() {
                    "`commaSeparatedProfile`".to_string()
                } else {
                    format!("`commaSeparatedProfile`; {}", renamed.join(", "))
                };
                [
                    model_field(p, EcaOauthPoliciesField::profile_names, profiles).with_note(note),
                    model_field(
                        p,
                        EcaOauthPoliciesField::permission_set_names,
                        list_v(p.permission_set_names.as_ref()),
                    )
                    .with_note("`commaSeparatedPermissionSet`"),
                ]
            }
            None => [policies_missing(r), policies_missing(r)],
        };
        let access = access_of(&lists);
        let [profiles, sets] = lists;
        app.put("profile_names", profiles);
        app.put("permission_set_names", sets);
        app.put("access_list", access);
        app
    }

    fn eca_policy(p: &model::EcaOauthPolicies) -> Field {
        let mut po = Object::new(None, p.source.clone());
        // `Bypass` → `BYPASS`: the connected app's spelling of the same choice.
        let ip = model_field(
            p,
            EcaOauthPoliciesField::ip_relaxation_policy_type,
            p.ip_relaxation_policy_type
                .as_ref()
                .map(|t| Value::Str(t.trim().to_ascii_uppercase())),
        );
        po.put(
            "ip_relaxation",
            match &p.ip_relaxation_policy_type {
                Some(t) => ip.with_note(format!("`ipRelaxationPolicyType` is `{t}`")),
                None => ip,
            },
        );
        let kind = p.refresh_token_policy_type.as_deref().map(str::trim);
        let period = p.refresh_token_validity_period;
        let unit = p.refresh_token_validity_unit.as_deref().map(str::trim);
        // `SpecificLifetime` + 30 + `Days` → `specific_lifetime:30:DAYS`.
        let composed = kind.map(|k| {
            let lower = match k.to_ascii_lowercase().as_str() {
                "specificlifetime" => "specific_lifetime".to_string(),
                "specificinactivity" => "specific_inactivity".to_string(),
                other => other.to_string(),
            };
            if lower.starts_with("specific_") {
                format!(
                    "{lower}:{}:{}",
                    period.map_or_else(|| "?".to_string(), |n| n.to_string()),
                    unit.map_or_else(|| "?".to_string(), str::to_ascii_uppercase)
                )
            } else {
                lower
            }
        });
        let note = format!(
            "`refreshTokenPolicyType` {}, `refreshTokenValidityPeriod` {}, `refreshTokenValidityUnit` {}",
            kind.map_or_else(|| "absent".to_string(), |k| format!("`{k}`")),
            period.map_or_else(|| "absent".to_string(), |n| format!("`{n}`")),
            unit.map_or_else(|| "absent".to_string(), |u| format!("`{u}`")),
        );
        let policy = model_field(
            p,
            EcaOauthPoliciesField::refresh_token_policy_type,
            composed.clone().map(Value::Str),
        );
        po.put("refresh_token_policy", policy.with_note(note));
        let days = composed.as_deref().and_then(refresh_token_days);
        let at = p
            .locations
            .get(&EcaOauthPoliciesField::refresh_token_validity_period)
            .cloned()
            .or(p.source.clone());
        po.put(
            "refresh_token_days",
            match days {
                Some(n) => Field::value(Value::Int(n), at),
                None => Field::absent(at)
                    .with_note("the policy is not `SpecificLifetime` with a period in `Days`"),
            },
        );
        Field::value(Value::Object(po), p.source.clone())
    }

    fn eca_high_assurance(&self, p: &model::EcaOauthPolicies) -> Field {
        let levels = &self.settings.high_assurance_session_levels;
        match p.required_session_level.as_deref() {
            Some(level) => Field::value(
                Value::Bool(levels.iter().any(|l| l.eq_ignore_ascii_case(level.trim()))),
                super::located(p, EcaOauthPoliciesField::required_session_level),
            )
            .with_note(format!("`requiredSessionLevel` is `{level}`")),
            None => Field::value(Value::Bool(false), p.source.clone())
                .with_note("no `requiredSessionLevel`: high assurance is not required"),
        }
    }
}

/// Why a part of the ECA is missing: not collected (with the reason), or the app has none.
fn part_missing(r: &model::ExternalClientApp, key: ExternalClientAppField, what: &str) -> Field {
    match r.not_collected.get(&key) {
        Some(reason) => Field::not_collected(reason.clone()),
        None => Field::absent_because(
            format!("the External Client App has no {what}"),
            r.source.clone(),
        ),
    }
}

/// Why the ECA's policy-based fields are missing.
fn policies_missing(r: &model::ExternalClientApp) -> Field {
    part_missing(
        r,
        ExternalClientAppField::oauth_policies,
        "OAuth policies (`ExtlClntAppOauthConfigurablePolicies`)",
    )
}

/// Profiles plus permission sets; either part missing leaves the list incomplete.
fn access_of(parts: &[Field; 2]) -> Field {
    if let Some(reason) = parts.iter().find_map(|f| match &f.fact {
        Fact::NotCollected { reason } => Some(reason.clone()),
        _ => None,
    }) {
        return Field::not_collected(reason);
    }
    let mut all: Vec<Value> = Vec::new();
    for f in parts {
        if let Fact::Value(Value::List(items)) = &f.fact {
            all.extend(items.iter().cloned());
        }
    }
    let origin: Option<Origin> = parts[0].origin.clone();
    Field::value(Value::List(all), origin)
}

fn split_lines(u: &str) -> Value {
    Value::strs(
        u.split(['\n', '\r'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
    )
}

/// `N` of `specific_lifetime:N:DAYS`, else `None`.
/// Other letter case is tolerated, as Salesforce's own parsing is not documented as strict.
pub fn refresh_token_days(policy: &str) -> Option<i64> {
    let policy = policy.trim();
    let rest = policy
        .get(..18)
        .filter(|p| p.eq_ignore_ascii_case("specific_lifetime:"))
        .map(|_| &policy[18..])?;
    let (n, unit) = rest.split_once(':')?;
    if !unit.eq_ignore_ascii_case("DAYS") {
        return None;
    }
    n.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_days() {
        assert_eq!(refresh_token_days("specific_lifetime:30:DAYS"), Some(30));
        assert_eq!(refresh_token_days("specific_lifetime:3:HOURS"), None);
        assert_eq!(refresh_token_days("infinite"), None);
    }
}
