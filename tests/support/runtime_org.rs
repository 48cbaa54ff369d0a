//! The fake org's run-time objects (issue 9, reference 7b.2): `LAST_N_DAYS:n` and `!= null`
//! conditions, `ORDER BY … DESC|ASC` and `LIMIT`, and the "own rows only" answers Salesforce
//! gives, without an error, to an auditor lacking Customize Application (`OauthToken`) or
//! Manage Users and Monitor Login History (`LoginHistory`). A submodule of `fake_org`, which
//! calls it from its SOQL engine.

use serde_json::Value;

use super::{Predicate, State, get_ci, values_equal};

/// The fake's clock: the fixture's `now` (RFC 3339), else 2026-11-28T10:00:00Z.
pub(super) fn now(state: &State) -> chrono::DateTime<chrono::Utc> {
    state
        .fixture
        .now
        .as_deref()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or_else(
            || {
                chrono::DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
                    .unwrap()
                    .to_utc()
            },
            |t| t.to_utc(),
        )
}

/// `field = LAST_N_DAYS:n` and `field != null`, which the generic engine does not know.
pub(super) fn predicate(state: &State, text: &str) -> Option<Predicate> {
    if let Some((field, value)) = text.split_once("!=") {
        if value.trim().eq_ignore_ascii_case("null") {
            return Some(Predicate::NotNull(field.trim().to_string()));
        }
        return None;
    }
    let (field, value) = text.split_once('=')?;
    let n: i64 = value
        .trim()
        .strip_prefix("LAST_N_DAYS:")
        .and_then(|n| n.parse().ok())?;
    // Salesforce counts from the start of the day n-1 days ago (the current day included).
    let start = (now(state).date_naive() - chrono::Duration::days(n - 1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    Some(Predicate::Since(field.trim().to_string(), start))
}

/// A Salesforce date-time value as a time.
pub(super) fn time_of(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = v.as_str()?;
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.to_utc())
}

/// Splits ` ORDER BY f [ASC|DESC]` and ` LIMIT n` off the end of a FROM clause.
pub(super) fn order_and_limit(text: &str) -> (String, Option<(String, bool)>, Option<usize>) {
    let mut rest = text.trim().to_string();
    let mut limit = None;
    if let Some(i) = rest.to_ascii_uppercase().rfind(" LIMIT ") {
        limit = rest[i + 7..].trim().parse().ok();
        rest.truncate(i);
    } else if rest.to_ascii_uppercase().starts_with("LIMIT ") {
        limit = rest[6..].trim().parse().ok();
        rest.clear();
    }
    let mut order = None;
    let upper = rest.to_ascii_uppercase();
    if let Some(i) = upper.rfind(" ORDER BY ") {
        let spec = rest[i + 10..].trim().to_string();
        let mut words = spec.split_whitespace();
        let field = words.next().unwrap_or_default().to_string();
        let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("DESC"));
        order = Some((field, desc));
        rest.truncate(i);
    }
    (rest, order, limit)
}

/// Sorts and cuts projected rows as `ORDER BY` and `LIMIT` ask.
pub(super) fn apply_order_and_limit(
    rows: &mut Vec<Value>,
    order: Option<&(String, bool)>,
    limit: Option<usize>,
) {
    if let Some((field, desc)) = order {
        rows.sort_by(|a, b| {
            let key = |r: &Value| get_ci(r, field).cloned().unwrap_or(Value::Null);
            let (ka, kb) = (key(a), key(b));
            let ord = match (time_of(&ka), time_of(&kb)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => ka.to_string().cmp(&kb.to_string()),
            };
            if *desc { ord.reverse() } else { ord }
        });
    }
    if let Some(n) = limit {
        rows.truncate(n);
    }
}

/// Whether the auditing user (userinfo's `user_id`) may see every user's rows of `object`;
/// `None` for objects without that rule.
fn sees_everyone(state: &State, object: &str) -> Option<bool> {
    let permissions: &[&str] = if object.eq_ignore_ascii_case("OauthToken") {
        &["PermissionsCustomizeApplication"]
    } else if object.eq_ignore_ascii_case("LoginHistory") {
        &["PermissionsManageUsers", "PermissionsMonitorLoginHistory"]
    } else {
        return None;
    };
    let row = state
        .fixture
        .records
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("UserPermissionAccess"))
        .and_then(|(_, rows)| rows.first());
    Some(row.is_some_and(|r| {
        permissions
            .iter()
            .any(|p| get_ci(r, p) == Some(&Value::Bool(true)))
    }))
}

/// The rows the auditing user may see: all, or only their own.
pub(super) fn visible(state: &State, object: &str, row: &Value) -> bool {
    match sees_everyone(state, object) {
        None | Some(true) => true,
        Some(false) => {
            let me = state.fixture.userinfo.get("user_id").cloned();
            me.is_some_and(|me| get_ci(row, "UserId").is_some_and(|u| values_equal(u, &me)))
        }
    }
}
