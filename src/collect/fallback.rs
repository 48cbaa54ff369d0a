//! Plain queries standing in for a refused semi-join, and the follow-up reads of issue 8:
//! profiles by their language-independent API name (Tooling `Profile.FullName`) and the
//! Tooling `NamedCredential` when `readMetadata NamedCredential` was refused.
//!
//! The semi-join forms the collector uses are not all proven on a real org (`Site` as the inner
//! object, `OR` inside the inner WHERE): when Salesforce answers one with `MALFORMED_QUERY`,
//! `INVALID_FIELD` or `INVALID_TYPE`, the same question is asked again with the Ids the other
//! queries of the wave already gave, at the cost of one more phase in that case only.

use std::collections::BTreeSet;

use super::gathered::{Gathered, QueryOutcome};
use super::rest::{boolean, child_rows, string};
use super::soql::{self, MAX_PROFILE_LOOKUPS, QueryId, QuerySpec};
use crate::snapshot::metadata::MetadataKind;

/// The error codes that mean "this form of query is not accepted here", not "no access".
pub(crate) const REFUSED_FORM_CODES: [&str; 3] =
    ["MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"];

/// The queries whose rows carry users (and so profile Ids), or profile access rows.
const PROFILE_SOURCES: [QueryId; 7] = [
    QueryId::IntegrationUser,
    QueryId::CandidateUsers,
    QueryId::CandidateUsersByName,
    QueryId::GuestUser,
    QueryId::SiteAdmin,
    QueryId::DefaultOwner,
    QueryId::ConnectedAppAccess,
];

/// The plain queries for a refused semi-join `spec`, or `None` when the Ids it needs are not
/// known (the query they come from failed too) or the query has no semi-join.
pub(crate) fn semi_join_fallback(
    spec: &QuerySpec,
    g: &Gathered,
    candidate_sets: &[String],
) -> Option<Vec<QuerySpec>> {
    if spec.fallback || !spec.has_semi_join() {
        return None;
    }
    match spec.id {
        QueryId::GuestUser | QueryId::SiteAdmin | QueryId::DefaultOwner => {
            let field = match spec.id {
                QueryId::GuestUser => "GuestUserId",
                QueryId::SiteAdmin => "AdminId",
                _ => "GuestRecordDefaultOwnerId",
            };
            let Some(Ok((sites, _))) = g.rows(QueryId::Sites) else {
                return None;
            };
            let site = sites
                .iter()
                .find(|r| string(r, "Name").as_deref() == Some(soql::SITE_NAME));
            let user_id = site.and_then(|s| string(s, field));
            Some(vec![soql::user_by_id(spec, user_id.as_deref())])
        }
        QueryId::ProfilePermissionSets => {
            let Some(Ok((users, _))) = g.rows(QueryId::IntegrationUser) else {
                return None;
            };
            let profile_id = users.first().and_then(|u| string(u, "ProfileId"));
            Some(vec![soql::profile_set_by_profile_id(
                spec,
                profile_id.as_deref(),
            )])
        }
        QueryId::CandidateUsers => Some(vec![
            soql::candidates_split(spec, candidate_sets, false),
            soql::candidates_split(spec, candidate_sets, true),
        ]),
        // The run-time reads per user (issue 9): the Ids the user queries of the same wave
        // gave. When those were refused too, their own fallback runs in this phase and the
        // run-time part stays not collected, with Salesforce's reason.
        QueryId::IntegrationUserTokens | QueryId::IntegrationUserLogin | QueryId::LoginHistory => {
            let mut answered = false;
            let mut ids = BTreeSet::new();
            for source in [
                QueryId::IntegrationUser,
                QueryId::CandidateUsers,
                QueryId::CandidateUsersByName,
            ] {
                if let Some(Ok((rows, _))) = g.rows(source) {
                    answered = true;
                    ids.extend(rows.iter().filter_map(|r| string(r, "Id")));
                }
            }
            if !answered {
                return None;
            }
            let users = if ids.is_empty() {
                // No such user: a query that proves it with zero rows.
                "UserId = null".to_string()
            } else {
                format!(
                    "UserId IN {}",
                    soql::literal_list(ids.iter().map(String::as_str))
                )
            };
            let mut q = super::runtime_soql::per_user(spec.id, &users)?;
            q.fallback = true;
            Some(vec![q])
        }
        _ => None,
    }
}

/// Whether a failed query was refused for its form.
pub(crate) fn refused_form(outcome: &QueryOutcome) -> bool {
    matches!(outcome, QueryOutcome::Failed { code: Some(code), .. } if REFUSED_FORM_CODES.contains(&code.as_str()))
}

/// Whether a query's rows name profiles (to look up by API name once it has answered).
pub(crate) fn touches_profiles(id: QueryId) -> bool {
    PROFILE_SOURCES.contains(&id)
}

/// The distinct profile Ids the users and the connected-app access rows name, in a stable
/// order.
pub(crate) fn profile_ids(g: &Gathered) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for id in PROFILE_SOURCES {
        let Some(Ok((rows, _))) = g.rows(id) else {
            continue;
        };
        for row in rows {
            if id == QueryId::ConnectedAppAccess {
                if boolean(row, "Parent.IsOwnedByProfile") == Some(true)
                    && let Some(p) = string(row, "Parent.ProfileId")
                {
                    ids.insert(p);
                }
                continue;
            }
            if let Some(p) = string(row, "ProfileId") {
                ids.insert(p);
            }
            // The assignments' profile-owned sets name the profile too.
            for a in child_rows(row) {
                if boolean(a, "PermissionSet.IsOwnedByProfile") == Some(true)
                    && let Some(p) = string(a, "PermissionSet.ProfileId")
                {
                    ids.insert(p);
                }
            }
        }
    }
    ids.into_iter().collect()
}

/// One-row Tooling queries for the profile Ids not asked yet, numbered after `asked`; at most
/// [`MAX_PROFILE_LOOKUPS`] in all (the rest stay without an API name, said per profile).
pub(crate) fn profile_lookups(ids: &[String], asked: &mut Vec<String>) -> Vec<QuerySpec> {
    let mut out = Vec::new();
    for id in ids {
        if asked.contains(id) || asked.len() >= MAX_PROFILE_LOOKUPS {
            continue;
        }
        let Ok(n) = u8::try_from(asked.len()) else {
            break;
        };
        out.push(soql::profile_api_name(n, id));
        asked.push(id.clone());
    }
    out
}

/// The Tooling `NamedCredential` query, when `readMetadata NamedCredential` was refused.
pub(crate) fn named_credential_fallback(g: &Gathered) -> Option<QuerySpec> {
    matches!(g.metadata.get(&MetadataKind::NamedCredential), Some(Err(_)))
        .then(soql::tooling_named_credentials)
}

/// Profile Id → (`FullName`, display `Name`), or why it is unknown.
pub(crate) type ProfileApiNames =
    std::collections::BTreeMap<String, Result<(String, Option<String>), String>>;

/// The English display names of the standard profiles the rules name.
pub(crate) const STANDARD_PROFILE_NAMES: [&str; 2] = ["System Administrator", "Standard User"];

/// The name the rules compare with for the profile `id` shown as `display`: the English display
/// name of its API name when that is known (standard profile names come back translated for an
/// auditing user whose language is not English), else `display` when it is an English standard
/// name; `None` without either. Otherwise `display` may be a translation, and the `Err` is the
/// tail of the message saying so.
pub(crate) fn english_profile_name(
    api_names: &ProfileApiNames,
    id: Option<&str>,
    display: Option<&str>,
) -> Result<Option<String>, String> {
    let reason = match id.and_then(|id| api_names.get(id)) {
        Some(Ok((api_name, _))) => {
            return Ok(Some(crate::snapshot::metadata::profile_display_name(
                api_name,
            )));
        }
        Some(Err(reason)) => reason.as_str(),
        None => "not looked up",
    };
    match display {
        None => Ok(None),
        Some(name) if STANDARD_PROFILE_NAMES.contains(&name) => Ok(Some(name.to_string())),
        Some(_) => Err(format!(
            "its API name (Tooling Profile.FullName) could not be read ({reason}), \
             and standard profile names come back translated for an auditing user whose language is not English"
        )),
    }
}

/// Profile Id → (`FullName`, display `Name`) from the lookups that answered; the reason for
/// those that did not.
pub(crate) fn profile_api_names(g: &Gathered) -> ProfileApiNames {
    let mut out = std::collections::BTreeMap::new();
    for (id, (spec, outcome)) in &g.queries {
        let QueryId::ProfileApiName(_) = id else {
            continue;
        };
        let Some(profile_id) = spec
            .where_clause
            .as_deref()
            .and_then(|w| w.split('\'').nth(1))
            .map(str::to_string)
        else {
            continue;
        };
        let answer = match outcome {
            QueryOutcome::Rows { records, .. } => match records.first() {
                Some(row) => match string(row, "FullName") {
                    Some(full) => Ok((full, string(row, "Name"))),
                    None => Err("Tooling Profile gave no FullName".to_string()),
                },
                None => Err("Tooling Profile returned no row for this Id".to_string()),
            },
            QueryOutcome::Failed { reason, .. } => Err(reason.clone()),
        };
        out.insert(profile_id, answer);
    }
    out
}
