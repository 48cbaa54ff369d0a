//! The `connected_apps` and `auth_providers` roots: OAuth settings and policies with
//! Salesforce's documented defaults, who may use the app, and the consumer-key fingerprint.

use super::{Builder, defaulted, defaulted_str, list_v, model_field, put_opt, str_v};
use crate::facts::value::{Fact, Field, Object, Value};
use crate::snapshot::model;
use crate::snapshot::model::{
    AuthProviderField, ConnectedAppField, OauthConfigField, OauthPolicyField, SessionPolicyField,
};

impl Builder<'_> {
    pub(super) fn connected_app(&self, r: &model::ConnectedApp) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
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
        let urls = c.callback_url.as_ref().map(|u| {
            Value::strs(
                u.split(['\n', '\r'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            )
        });
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
        if let Some(reason) = parts.iter().find_map(|f| match &f.fact {
            Fact::NotCollected { reason } => Some(reason.clone()),
            _ => None,
        }) {
            return Field::not_collected(reason);
        }
        let mut all: Vec<Value> = Vec::new();
        for f in &parts {
            if let Fact::Value(Value::List(items)) = &f.fact {
                all.extend(items.iter().cloned());
            }
        }
        Field::value(Value::List(all), parts[0].origin.clone())
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
        o
    }
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
