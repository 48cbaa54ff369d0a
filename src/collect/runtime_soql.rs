//! The run-time reads of issue 9 (reference 7b.2), all in phase 2 beside the setup queries:
//! the auditing user's own permissions, refresh tokens, the integration user's login state
//! and recent logins, the Setup Audit Trail and recent calls. The ECI app's menu item, which
//! tokens are matched through, is the setup query `AppMenuItems` (one query serves both).
//! The integration user's Id is not known in phase 2, so the per-user reads find it with the
//! same semi-join the user query uses. Never selected: `OauthToken.AccessToken`,
//! `RequestToken`, `DeleteToken`.

use super::soql::{self, QueryId, QuerySpec, candidate_set_names, literal, literal_list};
use crate::guide;

/// How many days of the Setup Audit Trail are read: Salesforce keeps at least 180.
pub(crate) const AUDIT_TRAIL_DAYS: u32 = 180;
/// How many audit-trail rows are read (newest first); `Section` and `Display` are not
/// filterable, so the ECI rows are picked in code.
pub(crate) const AUDIT_TRAIL_ROWS: u32 = 2000;
/// How many days back the login history goes (the recent calls: `CALL_DAYS`, shared with the
/// evidence that counts them).
pub(crate) const LOGIN_DAYS: u32 = 30;
pub(crate) use crate::facts::runtime::CALL_DAYS;
/// At most this many recent calls are read (the count says "at least" beyond it).
pub(crate) const CALL_ROWS: usize = guide::VOICE_CALL_READ_LIMIT;

/// The fields of `OauthToken` read: never a token value.
pub(crate) const TOKEN_FIELDS: [&str; 7] = [
    "AppName",
    "AppMenuItemId",
    "UserId",
    "User.Username",
    "CreatedDate",
    "LastUsedDate",
    "UseCount",
];

/// `UserId IN (…)`: the integration user by username, or the candidates by permission set.
fn user_filter(integration_user: Option<&str>, candidate_sets: &[String]) -> String {
    if let Some(username) = integration_user {
        format!(
            "UserId IN (SELECT Id FROM User WHERE Username = {})",
            literal(username)
        )
    } else {
        let names = candidate_set_names(candidate_sets);
        let list = literal_list(names.iter().map(String::as_str));
        format!(
            "UserId IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Label IN {list} OR PermissionSet.Name IN {list})"
        )
    }
}

/// The run-time queries of phase 2, in a stable order.
pub(crate) fn queries(integration_user: Option<&str>, candidate_sets: &[String]) -> Vec<QuerySpec> {
    let users = user_filter(integration_user, candidate_sets);
    let mut out = vec![QuerySpec::new(
        QueryId::AuditorPermissions,
        "UserPermissionAccess",
        &[
            "PermissionsCustomizeApplication",
            "PermissionsManageUsers",
            "PermissionsMonitorLoginHistory",
            "PermissionsViewSetup",
        ],
    )];
    out.extend(per_user(QueryId::IntegrationUserTokens, &users));
    out.push(
        // Another user's token for the app (authenticated as the wrong user): by label, as
        // `AppMenuItemId` cannot be joined in SOQL (the match by menu item is made in code).
        QuerySpec::new(QueryId::EciAppTokens, "OauthToken", &TOKEN_FIELDS).filter(format!(
            "AppName IN {} ORDER BY CreatedDate DESC LIMIT 200",
            literal_list(soql::CONNECTED_APP_NAMES)
        )),
    );
    out.extend(per_user(QueryId::IntegrationUserLogin, &users));
    out.extend(per_user(QueryId::LoginHistory, &users));
    out.extend([
        QuerySpec::new(
            QueryId::SetupAuditTrail,
            "SetupAuditTrail",
            &[
                "CreatedDate",
                "CreatedBy.Username",
                "Action",
                "Section",
                "Display",
                "DelegateUser",
            ],
        )
        .filter(format!(
            "CreatedDate = LAST_N_DAYS:{AUDIT_TRAIL_DAYS} ORDER BY CreatedDate DESC LIMIT {AUDIT_TRAIL_ROWS}"
        )),
        QuerySpec::new(QueryId::RecentVoiceCalls, "VoiceCall", &["CreatedDate"]).filter(format!(
            "CreatedDate = LAST_N_DAYS:{CALL_DAYS} ORDER BY CreatedDate DESC LIMIT {CALL_ROWS}"
        )),
        QuerySpec::new(QueryId::LatestVoiceCall, "VoiceCall", &["CreatedDate"])
            .filter("CreatedDate != null ORDER BY CreatedDate DESC LIMIT 1"),
    ]);
    out
}

/// One of the per-user run-time reads (the integration user's tokens, login state and login
/// history) for the users `users` names: the semi-join of phase 2, or the user Ids of the
/// fallback when Salesforce refused that form. `None` for any other query.
pub(crate) fn per_user(id: QueryId, users: &str) -> Option<QuerySpec> {
    Some(match id {
        QueryId::IntegrationUserTokens => QuerySpec::new(id, "OauthToken", &TOKEN_FIELDS)
            .filter(format!("{users} ORDER BY CreatedDate DESC LIMIT 200")),
        QueryId::IntegrationUserLogin => {
            QuerySpec::new(id, "UserLogin", &["UserId", "IsFrozen", "IsPasswordLocked"])
                .filter(users.to_string())
        }
        QueryId::LoginHistory => QuerySpec::new(
            id,
            "LoginHistory",
            &[
                "UserId",
                "LoginTime",
                "LoginType",
                "LoginSubType",
                "Application",
                "Status",
            ],
        )
        .filter(format!(
            "{users} AND LoginTime = LAST_N_DAYS:{LOGIN_DAYS} ORDER BY LoginTime DESC LIMIT 200"
        )),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_reads_take_the_users_they_are_given() {
        let semi = user_filter(Some("eci@example.com"), &[]);
        for q in queries(Some("eci@example.com"), &[]) {
            if per_user(q.id, "x").is_some() {
                assert!(
                    q.where_clause.as_deref().unwrap().starts_with(&semi),
                    "{q:?}"
                );
            }
        }
        let q = per_user(QueryId::LoginHistory, "UserId IN ('005A', '005B')").unwrap();
        assert_eq!(
            q.where_clause.as_deref(),
            Some(
                "UserId IN ('005A', '005B') AND LoginTime = LAST_N_DAYS:30 ORDER BY LoginTime DESC LIMIT 200"
            )
        );
        assert!(per_user(QueryId::SetupAuditTrail, "x").is_none());
    }

    #[test]
    fn no_token_value_is_ever_selected() {
        for mode in [Some("eci@example.com"), None] {
            for q in queries(mode, &[]) {
                let soql = q.soql();
                for secret in ["AccessToken", "RequestToken", "DeleteToken"] {
                    assert!(
                        !soql.split(" FROM ").next().unwrap().contains(secret),
                        "{soql}"
                    );
                }
            }
        }
    }

    #[test]
    fn per_user_reads_filter_by_the_integration_user() {
        let qs = queries(Some("o'brien@example.com"), &[]);
        let tokens = qs
            .iter()
            .find(|q| q.id == QueryId::IntegrationUserTokens)
            .unwrap();
        assert_eq!(
            tokens.soql(),
            "SELECT AppName, AppMenuItemId, UserId, User.Username, CreatedDate, LastUsedDate, UseCount \
             FROM OauthToken WHERE UserId IN (SELECT Id FROM User WHERE Username = 'o\\'brien@example.com') \
             ORDER BY CreatedDate DESC LIMIT 200"
        );
        let logins = qs.iter().find(|q| q.id == QueryId::LoginHistory).unwrap();
        assert!(logins.soql().contains("LoginTime = LAST_N_DAYS:30"));
        // Application and Status are not filterable: never in the WHERE.
        let where_part = logins.soql().split(" WHERE ").nth(1).unwrap().to_string();
        assert!(!where_part.contains("Application") && !where_part.contains("Status"));
    }
}
