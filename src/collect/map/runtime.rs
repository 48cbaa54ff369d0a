//! The run-time evidence (issue 9): rows of the phase-2 run-time queries into
//! [`Runtime`]. The Setup Audit Trail keeps only the entries that touch the ECI components,
//! the integration or guest user or the site (its `Section` and `Display` are not filterable,
//! so they are picked here), which also keeps unrelated admin activity out of the snapshot.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::record::{collection_origin, rows_collection};
use crate::collect::gathered::Gathered;
use crate::collect::rest::{boolean, field, string};
use crate::collect::runtime_soql::{AUDIT_TRAIL_DAYS, AUDIT_TRAIL_ROWS};
use crate::collect::soql::{QueryId, SITE_NAME};
use crate::facts::runtime::{eci_component_needles, touches};
use crate::snapshot::model::{
    AppMenuItem, AuditTrailEntry, AuditorPermissions, Collection, LoginHistoryEntry, OauthToken,
    Runtime, Snapshot, UserLogin, VoiceCall,
};

/// The run-time section, as of `now`; `s` is the snapshot mapped so far (its components and
/// users name what the audit trail is filtered on).
pub(super) fn runtime(g: &Gathered, s: &Snapshot, now: DateTime<Utc>) -> Runtime {
    Runtime {
        as_of: Some(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        auditor_permissions: rows_collection(
            g,
            QueryId::AuditorPermissions,
            "UserPermissionAccess",
            |row| AuditorPermissions {
                customize_application: boolean(row, "PermissionsCustomizeApplication"),
                manage_users: boolean(row, "PermissionsManageUsers"),
                monitor_login_history: boolean(row, "PermissionsMonitorLoginHistory"),
                view_setup: boolean(row, "PermissionsViewSetup"),
            },
        ),
        app_menu_items: rows_collection(g, QueryId::AppMenuItems, "AppMenuItem", |row| {
            AppMenuItem {
                id: string(row, "Id").unwrap_or_default(),
                name: string(row, "Name"),
                label: string(row, "Label"),
                application_id: string(row, "ApplicationId"),
            }
        }),
        oauth_tokens: tokens(g),
        user_logins: rows_collection(g, QueryId::IntegrationUserLogin, "UserLogin", |row| {
            UserLogin {
                user_id: string(row, "UserId").unwrap_or_default(),
                is_frozen: boolean(row, "IsFrozen"),
                is_password_locked: boolean(row, "IsPasswordLocked"),
            }
        }),
        login_history: rows_collection(g, QueryId::LoginHistory, "LoginHistory", |row| {
            LoginHistoryEntry {
                user_id: string(row, "UserId").unwrap_or_default(),
                login_time: string(row, "LoginTime").unwrap_or_default(),
                login_type: string(row, "LoginType"),
                login_sub_type: string(row, "LoginSubType"),
                application: string(row, "Application"),
                status: string(row, "Status"),
            }
        }),
        setup_audit_trail: audit_trail(g, s),
        audit_trail_days: Some(audit_trail_days(g, now)),
        recent_voice_calls: rows_collection(g, QueryId::RecentVoiceCalls, "VoiceCall", voice_call),
        latest_voice_call: rows_collection(g, QueryId::LatestVoiceCall, "VoiceCall", voice_call),
    }
}

/// How many days back the audit-trail rows reach: the days asked for, or, when the read hit
/// its row limit, only back to the oldest row read (older entries were left out), so that no
/// rule takes "no change found" for "no change".
fn audit_trail_days(g: &Gathered, now: DateTime<Utc>) -> u32 {
    let Some(Ok((rows, _))) = g.rows(QueryId::SetupAuditTrail) else {
        return AUDIT_TRAIL_DAYS;
    };
    if rows.len() < usize::try_from(AUDIT_TRAIL_ROWS).unwrap_or(usize::MAX) {
        return AUDIT_TRAIL_DAYS;
    }
    rows.iter()
        .filter_map(|r| string(r, "CreatedDate"))
        .filter_map(|t| crate::facts::runtime::parse_time(&t))
        .min()
        .map_or(0, |oldest| {
            u32::try_from((now - oldest).num_days().max(0))
                .unwrap_or(AUDIT_TRAIL_DAYS)
                .min(AUDIT_TRAIL_DAYS)
        })
}

fn voice_call(row: &Value) -> VoiceCall {
    VoiceCall {
        created_date: string(row, "CreatedDate").unwrap_or_default(),
    }
}

fn token(row: &Value) -> OauthToken {
    OauthToken {
        app_name: string(row, "AppName"),
        app_menu_item_id: string(row, "AppMenuItemId"),
        user_id: string(row, "UserId").unwrap_or_default(),
        username: string(row, "User.Username"),
        created_date: string(row, "CreatedDate"),
        last_used_date: string(row, "LastUsedDate"),
        use_count: field(row, "UseCount").and_then(Value::as_f64).map(|n| {
            // Salesforce writes UseCount as a JSON number; a fraction would be a wire error.
            #[allow(clippy::cast_possible_truncation)]
            let whole = n.round() as i64;
            whole
        }),
    }
}

/// The integration user's tokens and the ECI app's tokens, without duplicates. Both reads
/// are needed to tell "authenticated as another user" from "never authenticated".
fn tokens(g: &Gathered) -> Collection<OauthToken> {
    let mut out: Vec<OauthToken> = Vec::new();
    for id in [QueryId::IntegrationUserTokens, QueryId::EciAppTokens] {
        match g.rows(id) {
            Some(Ok((rows, _))) => {
                for t in rows.iter().map(token) {
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
            Some(Err(reason)) => return Collection::not_collected(reason),
            None => return Collection::not_collected("not queried"),
        }
    }
    Collection::collected(out, Some(collection_origin("OauthToken")))
}

/// The entries that touch the ECI components, the integration or guest user, or the site.
fn audit_trail(g: &Gathered, s: &Snapshot) -> Collection<AuditTrailEntry> {
    let mut needles = eci_component_needles(s);
    needles.push(SITE_NAME.to_lowercase());
    for id in [
        QueryId::IntegrationUser,
        QueryId::CandidateUsers,
        QueryId::GuestUser,
    ] {
        if let Some(Ok((rows, _))) = g.rows(id) {
            for row in rows {
                for key in ["Username", "Name"] {
                    if let Some(v) = string(row, key).filter(|v| v.trim().len() >= 3) {
                        needles.push(v.trim().to_lowercase());
                    }
                }
            }
        }
    }
    needles.sort();
    needles.dedup();
    let all = rows_collection(g, QueryId::SetupAuditTrail, "SetupAuditTrail", |row| {
        AuditTrailEntry {
            created_date: string(row, "CreatedDate").unwrap_or_default(),
            created_by: string(row, "CreatedBy.Username"),
            action: string(row, "Action"),
            section: string(row, "Section"),
            display: string(row, "Display"),
            delegate_user: string(row, "DelegateUser"),
        }
    });
    match all.available() {
        Ok(entries) => Collection::collected(
            entries
                .iter()
                .filter(|e| touches(e, &needles))
                .cloned()
                .collect(),
            all.source.clone(),
        ),
        Err(reason) => Collection::not_collected(reason),
    }
}

/// Permissions the auditing user lacks that make a run-time read silently partial (Salesforce
/// answers with the auditor's own rows, without an error), for the report's preamble.
pub(super) fn silently_partial(r: &Runtime) -> Vec<String> {
    let Some(p) = r.auditor_permissions.items().first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if p.customize_application != Some(true) {
        out.push(
            "Customize Application (OauthToken shows only the auditing user's own tokens: ENC009-ENC012 end unknown)"
                .to_string(),
        );
    }
    if p.manage_users != Some(true) && p.monitor_login_history != Some(true) {
        out.push(
            "Manage Users or Monitor Login History (LoginHistory shows only the auditing user's own logins: USR010 ends unknown)"
                .to_string(),
        );
    }
    if p.view_setup != Some(true) {
        out.push("View Setup and Configuration (the Setup Audit Trail may be refused)".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::gathered::QueryOutcome;
    use crate::collect::soql::QuerySpec;

    fn trail(g: &mut Gathered, dates: &[String]) {
        let records = dates
            .iter()
            .map(|d| serde_json::json!({"CreatedDate": d, "Section": "Manage Users"}))
            .collect();
        g.queries.insert(
            QueryId::SetupAuditTrail,
            (
                QuerySpec::new(
                    QueryId::SetupAuditTrail,
                    "SetupAuditTrail",
                    &["CreatedDate"],
                ),
                QueryOutcome::Rows {
                    records,
                    dropped: Vec::new(),
                },
            ),
        );
    }

    #[test]
    fn a_trail_cut_by_its_row_limit_reaches_back_only_to_its_oldest_row() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .to_utc();
        let mut g = Gathered::default();
        assert_eq!(
            audit_trail_days(&g, now),
            AUDIT_TRAIL_DAYS,
            "not read: as asked"
        );
        trail(&mut g, &["2026-11-27T10:00:00.000+0000".to_string()]);
        assert_eq!(
            audit_trail_days(&g, now),
            AUDIT_TRAIL_DAYS,
            "under the limit"
        );
        // As many rows as the limit, the oldest 12 days back: only 12 days are known.
        let full: Vec<String> = (0..AUDIT_TRAIL_ROWS)
            .map(|i| {
                let t = now - chrono::Duration::minutes(i64::from(i) * 8);
                t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
            })
            .collect();
        trail(&mut g, &full);
        let days = audit_trail_days(&g, now);
        assert!(days < AUDIT_TRAIL_DAYS, "{days}");
        assert_eq!(days, 11, "8 min × 1,999 = 11.1 days");
    }
}
