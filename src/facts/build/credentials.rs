//! The `named_credentials` root, with the documented defaults of a legacy named credential.

use chrono::{DateTime, Utc};

use super::{Builder, defaulted, defaulted_str, model_field, put_opt, str_v};
use crate::facts::runtime;
use crate::facts::value::{Entry, Fact, Field, Object, Value};
use crate::snapshot::model::NamedCredentialField as F;
use crate::snapshot::model::{self, Origin};

impl Builder<'_> {
    pub(super) fn named_credential(&self, r: &model::NamedCredential) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        for (key, value) in [
            (F::label, &r.label),
            (F::endpoint, &r.endpoint),
            (F::principal_type, &r.principal_type),
            (F::protocol, &r.protocol),
            (F::username, &r.username),
            (F::auth_provider, &r.auth_provider),
            (F::oauth_scope, &r.oauth_scope),
        ] {
            put_opt(&mut o, r, key, str_v(value.as_ref()));
        }
        o.put(
            "named_credential_type",
            defaulted_str(
                r,
                F::named_credential_type,
                r.named_credential_type.as_ref(),
                "Legacy",
                "treated as a legacy named credential",
            ),
        );
        for (key, value, default) in [
            (
                F::generate_authorization_header,
                r.generate_authorization_header,
                true,
            ),
            (
                F::allow_merge_fields_in_header,
                r.allow_merge_fields_in_header,
                false,
            ),
            (
                F::allow_merge_fields_in_body,
                r.allow_merge_fields_in_body,
                false,
            ),
        ] {
            o.put(key.as_str(), defaulted(r, key, value, default));
        }
        let mut auth = model_field(r, F::authenticated_as, str_v(r.authenticated_as.as_ref()));
        if matches!(auth.fact, Fact::Absent { .. }) {
            // No API exposes the legacy named principal's status (reference §3.6).
            auth = Field::not_collected(
                "no API exposes the authentication status of a legacy named credential",
            );
        }
        o.put("authenticated_as", auth);
        o
    }
}

/// How a refresh-token policy ends a token's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifetime {
    /// `infinite`: valid until revoked.
    Never,
    /// `specific_inactivity:N:UNIT`: only when unused for that long.
    WhenIdle,
    /// `zero`: immediately.
    Immediately,
    /// `specific_lifetime:N:UNIT`: at `CreatedDate` + N units.
    Fixed(u32, Unit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Hours,
    Days,
    Months,
}

/// The reference's parsing rule (§2.1.3), any case; `None` for anything else.
fn lifetime(policy: &str) -> Option<Lifetime> {
    let p = policy.trim();
    if p.eq_ignore_ascii_case("infinite") {
        return Some(Lifetime::Never);
    }
    if p.eq_ignore_ascii_case("zero") {
        return Some(Lifetime::Immediately);
    }
    let mut parts = p.split(':');
    let (kind, n, unit) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let n: u32 = n.parse().ok()?;
    let unit = match unit.to_ascii_uppercase().as_str() {
        "HOURS" => Unit::Hours,
        "DAYS" => Unit::Days,
        "MONTHS" => Unit::Months,
        _ => return None,
    };
    match kind.to_ascii_lowercase().as_str() {
        "specific_lifetime" => Some(Lifetime::Fixed(n, unit)),
        "specific_inactivity" => Some(Lifetime::WhenIdle),
        _ => None,
    }
}

fn expiry(created: DateTime<Utc>, n: u32, unit: Unit) -> Option<DateTime<Utc>> {
    match unit {
        Unit::Hours => created.checked_add_signed(chrono::Duration::hours(i64::from(n))),
        Unit::Days => created.checked_add_signed(chrono::Duration::days(i64::from(n))),
        Unit::Months => created.checked_add_months(chrono::Months::new(n)),
    }
}

impl Builder<'_> {
    /// The ECI app's refresh token (reference 7b.2): the integration user's when there is one,
    /// else the newest of another user; absent when the app has none; not collected when the
    /// tokens, or the permission that makes every user's tokens visible, are missing.
    pub(super) fn eci_token(&self) -> Entry {
        let rt = &self.snap.runtime;
        let tokens = match rt.oauth_tokens.available() {
            Ok(t) => t,
            Err(reason) => return Entry::not_collected(format!("OAuth tokens: {reason}")),
        };
        // Without Customize Application Salesforce answers with the auditor's own tokens and
        // no error: an empty answer would read as "never authenticated".
        match runtime::auditor_holds_any(self.snap, &[|p| p.customize_application]) {
            Err(reason) => {
                return Entry::not_collected(format!(
                    "the auditing user's permissions were not read, so an OAuth token list cannot be told complete (without Customize Application Salesforce returns only the auditor's own tokens): {reason}"
                ));
            }
            Ok(false) => {
                return Entry::not_collected(
                    "the auditing user lacks Customize Application, so Salesforce returns only the auditor's own OAuth tokens (without an error); audit as a user who has it",
                );
            }
            Ok(true) => {}
        }
        let names = runtime::eci_app_names(self.snap);
        let eci: Vec<&model::OauthToken> = tokens
            .iter()
            .filter(|t| runtime::is_eci_token(self.snap, &names, t))
            .collect();
        let origin = rt.oauth_tokens.source.clone().or(Some(Origin::Record {
            object: "OauthToken".to_string(),
            id: None,
        }));
        let (iu_id, iu_name) = match self.integration_user() {
            Entry::Found { object, .. } => (self.integration_user_id(), object.name.clone()),
            _ => (None, None),
        };
        let owned_by_iu = |t: &&&model::OauthToken| {
            iu_id.as_deref() == Some(t.user_id.as_str())
                || (iu_name.is_some()
                    && t.username
                        .as_deref()
                        .zip(iu_name.as_deref())
                        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b)))
        };
        let newest = |a: &&&model::OauthToken, b: &&&model::OauthToken| {
            let t = |x: &model::OauthToken| x.created_date.as_deref().and_then(runtime::parse_time);
            t(a).cmp(&t(b))
        };
        let chosen = eci
            .iter()
            .filter(owned_by_iu)
            .max_by(newest)
            .or_else(|| eci.iter().max_by(newest));
        let Some(token) = chosen.copied() else {
            return Entry::absent(
                format!(
                    "no refresh token for the ECI connected app (`{}`): the ECI named credential was never authenticated, or its token was revoked",
                    crate::guide::CONNECTED_APP
                ),
                origin,
            );
        };
        Entry::found(self.token_object(token, origin.clone()), origin)
    }

    fn token_object(&self, token: &model::OauthToken, origin: Option<Origin>) -> Object {
        let mut o = Object::new(token.username.clone(), origin.clone());
        let value = |v: Value| Field::value(v, origin.clone());
        let created = token.created_date.as_deref().and_then(runtime::parse_time);
        let mut used = vec![];
        if let Some(c) = &token.created_date {
            used.push(format!("authenticated on {}", runtime::day_of(c)));
        }
        if let Some(l) = &token.last_used_date {
            used.push(format!("last used {}", runtime::day_of(l)));
        }
        if let Some(n) = token.use_count {
            used.push(format!("{} uses", thousands(n)));
        }
        let note = format!(
            "{}; a refresh token issued to the ECI connected app for this user, the read-only stand-in for the named credential's Authentication Status",
            if used.is_empty() {
                "no dates".to_string()
            } else {
                used.join(", ")
            }
        );
        match &token.username {
            Some(u) => o.put("username", value(Value::Str(u.clone())).with_note(note)),
            None => o.put(
                "username",
                Field::not_collected("the token's `User.Username` was not read"),
            ),
        }
        o.put("user_id", value(Value::Str(token.user_id.clone())));
        let opt_str = |v: Option<&String>| match v {
            Some(s) => value(Value::Str(runtime::day_of(s))),
            None => Field::absent(origin.clone()),
        };
        o.put("created_date", opt_str(token.created_date.as_ref()));
        o.put("last_used_date", opt_str(token.last_used_date.as_ref()));
        o.put(
            "use_count",
            token
                .use_count
                .map_or_else(|| Field::absent(origin.clone()), |n| value(Value::Int(n))),
        );
        self.put_expiry(&mut o, created);
        self.put_changes_since(&mut o, created, token.created_date.as_deref());
        o
    }

    /// `refresh_token_policy`, `expires_on`, `expired`, `days_left`, `expires_soon`.
    fn put_expiry(&self, o: &mut Object, created: Option<DateTime<Utc>>) {
        let keys = [
            "refresh_token_policy",
            "expires_on",
            "expired",
            "days_left",
            "expires_soon",
        ];
        let all_not_collected = |o: &mut Object, reason: &str| {
            for k in keys {
                o.put(k, Field::not_collected(reason.to_string()));
            }
        };
        // The policy as the connected-app facts give it: a connected app's `refreshTokenPolicy`,
        // or an External Client App's `SpecificLifetime` + period + unit standing in for it.
        let apps = self.connected_apps_with_ecas();
        let app = match &apps.records {
            Err(reason) => return all_not_collected(o, &format!("connected apps: {reason}")),
            Ok(_) => apps.find(crate::guide::CONNECTED_APP),
        };
        let Some(app) = app else {
            return all_not_collected(
                o,
                "no connected app or External Client App `ECIConnectedApp` was read, so its refresh-token policy is unknown",
            );
        };
        let policy_field = match app.get("oauth_policy").map(|f| &f.fact) {
            Some(Fact::Value(Value::Object(po))) => po.get("refresh_token_policy").cloned(),
            Some(Fact::NotCollected { reason }) => {
                return all_not_collected(o, &format!("the refresh-token policy: {reason}"));
            }
            _ => None,
        };
        let Some(pf) = policy_field else {
            return all_not_collected(o, "the app's OAuth policy was not read");
        };
        let at = pf.origin.clone();
        let policy = match &pf.fact {
            Fact::Value(Value::Str(p)) => p.clone(),
            Fact::NotCollected { reason } => {
                return all_not_collected(o, &format!("the refresh-token policy: {reason}"));
            }
            _ => {
                return all_not_collected(o, "the app has no refresh-token policy");
            }
        };
        o.put("refresh_token_policy", pf);
        let Some(kind) = lifetime(&policy) else {
            let reason = format!("the refresh-token policy `{policy}` cannot be parsed (CAP012)");
            for k in &keys[1..] {
                o.put(k, Field::not_collected(reason.clone()));
            }
            return;
        };
        let as_of = runtime::as_of(self.snap, self.settings.today);
        let warn = self.settings.token_expiry_warning_days;
        let v = |v: Value| Field::value(v, at.clone());
        match kind {
            Lifetime::Never | Lifetime::WhenIdle => {
                let why = if kind == Lifetime::Never {
                    format!("the policy `{policy}` never expires the token (valid until revoked)")
                } else {
                    format!("the policy `{policy}` expires the token only when it is not used")
                };
                o.put("expires_on", Field::absent_because(why.clone(), at.clone()));
                o.put("days_left", Field::absent_because(why.clone(), at.clone()));
                o.put("expired", v(Value::Bool(false)).with_note(why.clone()));
                o.put("expires_soon", v(Value::Bool(false)).with_note(why));
            }
            Lifetime::Immediately => {
                let why = format!("the policy `{policy}` expires refresh tokens immediately");
                o.put("expires_on", Field::absent_because(why.clone(), at.clone()));
                o.put("days_left", Field::absent_because(why.clone(), at.clone()));
                o.put("expired", v(Value::Bool(true)).with_note(why.clone()));
                o.put("expires_soon", v(Value::Bool(false)).with_note(why));
            }
            Lifetime::Fixed(n, unit) => {
                let Some(end) = created.and_then(|c| expiry(c, n, unit)) else {
                    let reason = "the token's CreatedDate was not read, so its expiry is unknown";
                    for k in &keys[1..] {
                        o.put(k, Field::not_collected(reason));
                    }
                    return;
                };
                let day = end.date_naive();
                let left = (end - as_of).num_days();
                let created_day = created
                    .map(|c| c.date_naive().to_string())
                    .unwrap_or_default();
                o.put("expires_on", v(Value::Str(day.to_string())));
                o.put("days_left", v(Value::Int(left.max(0))));
                let expired = end <= as_of;
                let note = if expired {
                    format!(
                        "expired on {day}: issued {created_day} under `{policy}`, as of {}",
                        as_of.date_naive()
                    )
                } else {
                    format!(
                        "expires on {day}, in {left} days: issued {created_day} under `{policy}`"
                    )
                };
                o.put("expired", v(Value::Bool(expired)).with_note(note.clone()));
                // An expired token is past every window: it fails here too, so that this
                // rule never reads "not expiring soon" for a dead token.
                let soon = expired || left < i64::from(warn);
                o.put(
                    "expires_soon",
                    v(Value::Bool(soon)).with_note(format!("{note}; warning window {warn} days")),
                );
            }
        }
    }

    /// `changes_since_issue`: audit-trail entries on the ECI components after the token.
    fn put_changes_since(&self, o: &mut Object, created: Option<DateTime<Utc>>, raw: Option<&str>) {
        let trail = &self.snap.runtime.setup_audit_trail;
        let entries = match trail.available() {
            Ok(e) => e,
            Err(reason) => {
                o.put(
                    "changes_since_issue",
                    Field::not_collected(format!("Setup Audit Trail: {reason}")),
                );
                return;
            }
        };
        let Some(created) = created else {
            o.put(
                "changes_since_issue",
                Field::not_collected(format!(
                    "the token's CreatedDate ({}) was not read as a date",
                    raw.unwrap_or("absent")
                )),
            );
            return;
        };
        let needles = runtime::eci_component_needles(self.snap);
        let after: Vec<String> = entries
            .iter()
            .filter(|e| runtime::parse_time(&e.created_date).is_some_and(|t| t > created))
            .filter(|e| runtime::touches(e, &needles))
            .map(runtime::describe_entry)
            .collect();
        let mut f = Field::value(Value::strs(after.clone()), trail.source.clone());
        if let Some(days) = self.snap.runtime.audit_trail_days {
            let as_of = runtime::as_of(self.snap, self.settings.today);
            let start = runtime::days_before(as_of, days);
            if start > created {
                let gap = format!(
                    "the Setup Audit Trail was read back {days} days, to {}, and the token was issued on {}",
                    start.date_naive(),
                    created.date_naive()
                );
                // A change found is a change; none found proves nothing about the days not read.
                f = if after.is_empty() {
                    Field::not_collected(format!(
                        "{gap}: changes between are not known (the audit trail keeps 180 days, and a busy org may hold more rows than were read)"
                    ))
                } else {
                    f.with_note(format!("{gap}; older changes are not shown"))
                };
            }
        }
        o.put("changes_since_issue", f);
    }
}

/// `4812` → `4,812`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_expire() {
        assert_eq!(lifetime("infinite"), Some(Lifetime::Never));
        assert_eq!(lifetime("zero"), Some(Lifetime::Immediately));
        assert_eq!(
            lifetime("specific_lifetime:365:DAYS"),
            Some(Lifetime::Fixed(365, Unit::Days))
        );
        assert_eq!(
            lifetime("specific_inactivity:2:DAYS"),
            Some(Lifetime::WhenIdle)
        );
        assert_eq!(lifetime("SPECIFIC_LIFETIME"), None);
        assert_eq!(lifetime("specific_lifetime:3:WEEKS"), None);
        let c = runtime::parse_time("2026-01-31T00:00:00Z").unwrap();
        assert_eq!(
            expiry(c, 1, Unit::Months).unwrap().date_naive().to_string(),
            "2026-02-28"
        );
        assert_eq!(
            expiry(c, 3, Unit::Hours).unwrap().to_rfc3339(),
            "2026-01-31T03:00:00+00:00"
        );
        assert_eq!(thousands(4812), "4,812");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }
}
