//! The SOQL the audit runs, built so that every query is independent of the others' results
//! (semi-joins and child subqueries instead of follow-up queries).
//!
//! SOQL semi-join rules respected here: at most two `IN (SELECT …)` per WHERE, never combined
//! with `OR` ("Semi join sub-selects are not allowed with the 'OR' operator"), no nesting, no
//! semi-join on the main query's own object, and the subquery selects one Id/reference field
//! without traversing relationships. Hence one `User` query per way of finding a user.

use std::fmt::Write as _;

use crate::guide;
use crate::snapshot::model::{
    ConnectedAppField, NamedCredentialField, PermissionSetAssignmentField, PermissionSetField,
};

/// The Site the guide creates.
pub const SITE_NAME: &str = guide::SITE;
/// Names the guide's connected app may have in `ConnectedApplication.Name` (label or API
/// name, UNCONFIRMED which).
pub const CONNECTED_APP_NAMES: [&str; 2] = [guide::CONNECTED_APP_LABEL, guide::CONNECTED_APP];
/// The permission set that marks integration-user candidates when no username is given.
pub const DEFAULT_CANDIDATE_PERMISSION_SET: &str = guide::INTEGRATION_PERMISSION_SET_LABEL;

/// Which question a query answers; the assembler maps rows by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum QueryId {
    Organization,
    IntegrationUser,
    CandidateUsers,
    GuestUser,
    SiteAdmin,
    DefaultOwner,
    ProfilePermissionSets,
    VoiceCallObjectPermissions,
    ConnectedApplications,
    ConnectedAppAccess,
    AuthProviders,
    NamedCredentials,
    Sites,
    Domains,
    /// Phase 3, candidate mode only: profile-owned sets not returned as assignments.
    CandidateProfilePermissionSets,
    /// Tooling API.
    InstalledPackages,
    /// `AppMenuItem` rows of the guide's connected app: its Id, API name and label.
    AppMenuItems,
    /// The domains serving the guide's site (enhanced domains leave `Site.Subdomain` null).
    DomainSites,
    /// Candidate mode, after the semi-join with `OR` inside was refused: by set API name (the
    /// retried `CandidateUsers` matches by label).
    CandidateUsersByName,
    /// Tooling `NamedCredential`, after `readMetadata NamedCredential` was refused.
    ToolingNamedCredentials,
    /// Tooling `Profile.FullName` of the n-th distinct profile Id (one row per query).
    ProfileApiName(u8),
    /// Run-time evidence (issue 9): see `runtime_soql`.
    AuditorPermissions,
    IntegrationUserTokens,
    EciAppTokens,
    IntegrationUserLogin,
    LoginHistory,
    SetupAuditTrail,
    RecentVoiceCalls,
    LatestVoiceCall,
}

impl QueryId {
    /// Short name used as the Composite `referenceId`.
    pub fn reference(self) -> &'static str {
        match self {
            QueryId::Organization => "organization",
            QueryId::IntegrationUser => "integrationUser",
            QueryId::CandidateUsers => "candidateUsers",
            QueryId::GuestUser => "guestUser",
            QueryId::SiteAdmin => "siteAdmin",
            QueryId::DefaultOwner => "defaultOwner",
            QueryId::ProfilePermissionSets => "profilePermissionSets",
            QueryId::VoiceCallObjectPermissions => "voiceCallObjectPermissions",
            QueryId::ConnectedApplications => "connectedApplications",
            QueryId::ConnectedAppAccess => "connectedAppAccess",
            QueryId::AuthProviders => "authProviders",
            QueryId::NamedCredentials => "namedCredentials",
            QueryId::Sites => "sites",
            QueryId::Domains => "domains",
            QueryId::CandidateProfilePermissionSets => "candidateProfilePermissionSets",
            QueryId::InstalledPackages => "installedPackages",
            QueryId::AppMenuItems => "appMenuItems",
            QueryId::DomainSites => "domainSites",
            QueryId::CandidateUsersByName => "candidateUsersByName",
            QueryId::ToolingNamedCredentials => "toolingNamedCredentials",
            QueryId::ProfileApiName(n) => PROFILE_API_NAME_REFERENCES
                .get(usize::from(n))
                .copied()
                .unwrap_or("profileApiName"),
            QueryId::AuditorPermissions => "auditorPermissions",
            QueryId::IntegrationUserTokens => "integrationUserTokens",
            QueryId::EciAppTokens => "eciAppTokens",
            QueryId::IntegrationUserLogin => "integrationUserLogin",
            QueryId::LoginHistory => "loginHistory",
            QueryId::SetupAuditTrail => "setupAuditTrail",
            QueryId::RecentVoiceCalls => "recentVoiceCalls",
            QueryId::LatestVoiceCall => "latestVoiceCall",
        }
    }
}

/// At most this many distinct profiles are looked up by API name (one query each).
pub(crate) const MAX_PROFILE_LOOKUPS: usize = 20;

const PROFILE_API_NAME_REFERENCES: [&str; MAX_PROFILE_LOOKUPS] = [
    "profileApiName0",
    "profileApiName1",
    "profileApiName2",
    "profileApiName3",
    "profileApiName4",
    "profileApiName5",
    "profileApiName6",
    "profileApiName7",
    "profileApiName8",
    "profileApiName9",
    "profileApiName10",
    "profileApiName11",
    "profileApiName12",
    "profileApiName13",
    "profileApiName14",
    "profileApiName15",
    "profileApiName16",
    "profileApiName17",
    "profileApiName18",
    "profileApiName19",
];

/// A model field a SOQL column fills, typed by its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelField {
    PermissionSet(PermissionSetField),
    Assignment(PermissionSetAssignmentField),
    NamedCredential(NamedCredentialField),
    ConnectedApp(ConnectedAppField),
}

/// A field that some orgs or API versions lack: on `INVALID_FIELD` the query is retried
/// without it and the model field is marked not collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionalField {
    /// As written in the SELECT (possibly a relationship path).
    pub soql: &'static str,
    /// In the child subquery rather than the main SELECT list.
    pub in_child: bool,
    /// The model field it fills.
    pub field: ModelField,
}

/// A child relationship subquery in the SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChildQuery {
    pub relationship: &'static str,
    pub fields: Vec<&'static str>,
}

/// One SOQL query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuerySpec {
    pub id: QueryId,
    pub object: &'static str,
    pub fields: Vec<&'static str>,
    pub child: Option<ChildQuery>,
    pub where_clause: Option<String>,
    pub optional: Vec<OptionalField>,
    /// Optional fields left out (after an `INVALID_FIELD`).
    pub without: Vec<OptionalField>,
    /// A Tooling API query (never in a data Composite).
    pub tooling: bool,
    /// A plain query standing in for a refused semi-join form (see [`fallback`]).
    pub fallback: bool,
}

impl QuerySpec {
    pub(crate) fn new(id: QueryId, object: &'static str, fields: &[&'static str]) -> Self {
        QuerySpec {
            id,
            object,
            fields: fields.to_vec(),
            child: None,
            where_clause: None,
            optional: Vec::new(),
            without: Vec::new(),
            tooling: false,
            fallback: false,
        }
    }

    fn in_tooling(mut self) -> Self {
        self.tooling = true;
        self
    }

    /// Whether the WHERE clause holds a semi-join (`IN (SELECT …)`).
    pub fn has_semi_join(&self) -> bool {
        self.where_clause
            .as_deref()
            .is_some_and(|w| w.contains("IN (SELECT"))
    }

    pub(crate) fn filter(mut self, where_clause: impl Into<String>) -> Self {
        self.where_clause = Some(where_clause.into());
        self
    }

    fn assignments(mut self) -> Self {
        self.child = Some(ChildQuery {
            relationship: "PermissionSetAssignments",
            fields: ASSIGNMENT_FIELDS.to_vec(),
        });
        self.optional.extend_from_slice(&ASSIGNMENT_OPTIONAL);
        self
    }

    fn optional(mut self, fields: &[OptionalField]) -> Self {
        self.optional.extend_from_slice(fields);
        self
    }

    /// The same query without its optional fields.
    pub fn without_optional(&self) -> Self {
        let mut q = self.clone();
        q.without.clone_from(&self.optional);
        q
    }

    pub fn soql(&self) -> String {
        let dropped = |f: &str, in_child: bool| {
            self.without
                .iter()
                .any(|o| o.soql == f && o.in_child == in_child)
        };
        let mut select: Vec<&str> = self
            .fields
            .iter()
            .copied()
            .filter(|f| !dropped(f, false))
            .collect();
        let child_select;
        if let Some(child) = &self.child {
            let fields: Vec<&str> = child
                .fields
                .iter()
                .copied()
                .filter(|f| !dropped(f, true))
                .collect();
            child_select = format!("(SELECT {} FROM {})", fields.join(", "), child.relationship);
            select.push(&child_select);
        }
        let mut soql = format!("SELECT {} FROM {}", select.join(", "), self.object);
        if let Some(w) = &self.where_clause {
            let _ = write!(soql, " WHERE {w}");
        }
        soql
    }
}

const USER_FIELDS: [&str; 7] = [
    "Id",
    "Username",
    "Name",
    "IsActive",
    "UserType",
    "ProfileId",
    "Profile.Name",
];

const ASSIGNMENT_FIELDS: [&str; 14] = [
    "Id",
    "AssigneeId",
    "PermissionSetId",
    "PermissionSetGroupId",
    "IsActive",
    "ExpirationDate",
    "PermissionSet.Name",
    "PermissionSet.Label",
    "PermissionSet.NamespacePrefix",
    "PermissionSet.IsOwnedByProfile",
    "PermissionSet.ProfileId",
    "PermissionSet.PermissionsApiEnabled",
    "PermissionSet.PermissionsCallCoachingUser",
    "PermissionSet.PermissionsCIPartnerIntegrationUser",
];

const ASSIGNMENT_OPTIONAL: [OptionalField; 4] = [
    OptionalField {
        in_child: true,
        soql: "PermissionSet.PermissionsCallCoachingUser",
        field: ModelField::PermissionSet(PermissionSetField::call_coaching_user),
    },
    OptionalField {
        in_child: true,
        soql: "PermissionSet.PermissionsCIPartnerIntegrationUser",
        field: ModelField::PermissionSet(PermissionSetField::ci_partner_integration_user),
    },
    OptionalField {
        in_child: true,
        soql: "IsActive",
        field: ModelField::Assignment(PermissionSetAssignmentField::is_active),
    },
    OptionalField {
        in_child: true,
        soql: "ExpirationDate",
        field: ModelField::Assignment(PermissionSetAssignmentField::expiration_date),
    },
];

const PERMISSION_SET_FIELDS: [&str; 9] = [
    "Id",
    "Name",
    "Label",
    "NamespacePrefix",
    "IsOwnedByProfile",
    "ProfileId",
    "PermissionsApiEnabled",
    "PermissionsCallCoachingUser",
    "PermissionsCIPartnerIntegrationUser",
];

const PERMISSION_SET_OPTIONAL: [OptionalField; 2] = [
    OptionalField {
        in_child: false,
        soql: "PermissionsCallCoachingUser",
        field: ModelField::PermissionSet(PermissionSetField::call_coaching_user),
    },
    OptionalField {
        in_child: false,
        soql: "PermissionsCIPartnerIntegrationUser",
        field: ModelField::PermissionSet(PermissionSetField::ci_partner_integration_user),
    },
];

const CONNECTED_APPLICATION_OPTIONAL: [OptionalField; 2] = [
    OptionalField {
        in_child: false,
        soql: "OptionsRefreshTokenValidityMetric",
        field: ModelField::ConnectedApp(ConnectedAppField::oauth_policy),
    },
    OptionalField {
        in_child: false,
        soql: "RefreshTokenValidityPeriod",
        field: ModelField::ConnectedApp(ConnectedAppField::oauth_policy),
    },
];

/// Visible only with Customize Application and Manage `AuthProviders` (`NamedCredential` object
/// reference): without them the rest of the credential still comes back.
const AUTH_PROVIDER_ID_OPTIONAL: OptionalField = OptionalField {
    in_child: false,
    soql: "AuthProviderId",
    field: ModelField::NamedCredential(NamedCredentialField::auth_provider),
};

/// A SOQL string literal: `'` and `\` escaped (SOQL's escaping rules).
pub(crate) fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

pub(crate) fn literal_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(literal).collect();
    format!("({})", items.join(", "))
}

/// Users found through one `Site` field of the guide's site.
fn site_user(id: QueryId, site_field: &str) -> QuerySpec {
    QuerySpec::new(id, "User", &USER_FIELDS).filter(format!(
        "Id IN (SELECT {site_field} FROM Site WHERE Name = {})",
        literal(SITE_NAME)
    ))
}

/// Every SOQL query of phase 2, in a stable order.
pub(crate) fn phase2_queries(
    integration_user: Option<&str>,
    candidate_sets: &[String],
) -> Vec<QuerySpec> {
    let mut queries = vec![QuerySpec::new(
        QueryId::Organization,
        "Organization",
        &["Id", "Name", "OrganizationType"],
    )];
    if let Some(username) = integration_user {
        queries.push(
            QuerySpec::new(QueryId::IntegrationUser, "User", &USER_FIELDS)
                .assignments()
                .filter(format!("Username = {}", literal(username))),
        );
        // The profile's own permission set, whether or not it is returned as an assignment.
        queries.push(
            QuerySpec::new(QueryId::ProfilePermissionSets, "PermissionSet", &PERMISSION_SET_FIELDS)
                .optional(&PERMISSION_SET_OPTIONAL)
                .filter(format!(
                    "IsOwnedByProfile = true AND ProfileId IN (SELECT ProfileId FROM User WHERE Username = {})",
                    literal(username)
                )),
        );
    } else {
        let names = candidate_set_names(candidate_sets);
        let list = literal_list(names.iter().map(String::as_str));
        queries.push(
            QuerySpec::new(QueryId::CandidateUsers, "User", &USER_FIELDS)
                .assignments()
                .filter(format!(
                    "Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Label IN {list} OR PermissionSet.Name IN {list})"
                )),
        );
    }
    queries.push(site_user(QueryId::GuestUser, "GuestUserId").assignments());
    queries.push(site_user(QueryId::SiteAdmin, "AdminId"));
    queries.push(site_user(
        QueryId::DefaultOwner,
        "GuestRecordDefaultOwnerId",
    ));
    queries.push(
        QuerySpec::new(
            QueryId::VoiceCallObjectPermissions,
            "ObjectPermissions",
            &[
                "Id",
                "ParentId",
                "SobjectType",
                "PermissionsRead",
                "PermissionsCreate",
                "PermissionsEdit",
                "PermissionsViewAllRecords",
            ],
        )
        .filter("SobjectType = 'VoiceCall'"),
    );
    queries.push(
        QuerySpec::new(
            QueryId::ConnectedApplications,
            "ConnectedApplication",
            &[
                "Id",
                "Name",
                "OptionsAllowAdminApprovedUsersOnly",
                "OptionsHasSessionLevelPolicy",
                "LastModifiedDate",
                "OptionsRefreshTokenValidityMetric",
                "RefreshTokenValidityPeriod",
            ],
        )
        .optional(&CONNECTED_APPLICATION_OPTIONAL),
    );
    // The SetupEntityAccess reference matches a connected app's access by `SetupEntityId`
    // only (no `ConnectedApplication` semi-join): every app's rows, joined on the Id in code.
    queries.push(
        QuerySpec::new(
            QueryId::ConnectedAppAccess,
            "SetupEntityAccess",
            &[
                "SetupEntityId",
                "ParentId",
                "Parent.Name",
                "Parent.Label",
                "Parent.IsOwnedByProfile",
                "Parent.ProfileId",
                "Parent.Profile.Name",
            ],
        )
        .filter("SetupEntityType = 'ConnectedApplication'"),
    );
    queries.push(QuerySpec::new(
        QueryId::AuthProviders,
        "AuthProvider",
        &[
            "Id",
            "DeveloperName",
            "FriendlyName",
            "ProviderType",
            "ConsumerKey",
        ],
    ));
    queries.push(
        QuerySpec::new(
            QueryId::NamedCredentials,
            "NamedCredential",
            &[
                "Id",
                "DeveloperName",
                "MasterLabel",
                "Endpoint",
                "PrincipalType",
                "AuthProviderId",
                "CalloutOptionsAllowMergeFieldsInBody",
                "CalloutOptionsAllowMergeFieldsInHeader",
                "CalloutOptionsGenerateAuthorizationHeader",
            ],
        )
        .optional(&[AUTH_PROVIDER_ID_OPTIONAL]),
    );
    queries.push(QuerySpec::new(
        QueryId::Sites,
        "Site",
        &[
            "Id",
            "Name",
            "MasterLabel",
            "Status",
            "SiteType",
            "GuestUserId",
            "AdminId",
            "GuestRecordDefaultOwnerId",
            "ClickjackProtectionLevel",
            "Subdomain",
        ],
    ));
    queries.push(QuerySpec::new(
        QueryId::Domains,
        "Domain",
        &["Id", "Domain", "DomainType", "HttpsOption"],
    ));
    // `AppMenuItem.Name` is documented as the API name: the app's Id without readMetadata.
    queries.push(
        QuerySpec::new(
            QueryId::AppMenuItems,
            "AppMenuItem",
            &["Id", "ApplicationId", "Name", "Label"],
        )
        .filter(format!(
            "Type = 'ConnectedApplication' AND Name = {}",
            literal(guide::CONNECTED_APP)
        )),
    );
    queries.push(
        QuerySpec::new(
            QueryId::DomainSites,
            "DomainSite",
            &[
                "Id",
                "SiteId",
                "PathPrefix",
                "Domain.Domain",
                "Domain.HttpsOption",
            ],
        )
        .filter(format!("Site.Name = {}", literal(SITE_NAME))),
    );
    queries
}

pub(crate) fn candidate_set_names(candidate_sets: &[String]) -> Vec<String> {
    let names: Vec<String> = candidate_sets
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        vec![DEFAULT_CANDIDATE_PERMISSION_SET.to_string()]
    } else {
        names
    }
}

/// Phase 3 (candidate mode): the profile-owned sets of these profiles.
pub(crate) fn profile_permission_sets(profile_ids: &[String]) -> QuerySpec {
    QuerySpec::new(
        QueryId::CandidateProfilePermissionSets,
        "PermissionSet",
        &PERMISSION_SET_FIELDS,
    )
    .optional(&PERMISSION_SET_OPTIONAL)
    .filter(format!(
        "IsOwnedByProfile = true AND ProfileId IN {}",
        literal_list(profile_ids.iter().map(String::as_str))
    ))
}

/// The Tooling query for installed packages (Tooling queries cannot go in a Composite).
pub(crate) fn installed_packages() -> QuerySpec {
    QuerySpec::new(
        QueryId::InstalledPackages,
        "InstalledSubscriberPackage",
        &[
            "Id",
            "SubscriberPackage.NamespacePrefix",
            "SubscriberPackage.Name",
            "SubscriberPackageVersion.Name",
            "SubscriberPackageVersion.MajorVersion",
            "SubscriberPackageVersion.MinorVersion",
            "SubscriberPackageVersion.PatchVersion",
            "SubscriberPackageVersion.BuildNumber",
        ],
    )
    .in_tooling()
}

/// The plain query that replaces a user query through the guide's site (`Id IN (SELECT
/// <field> FROM Site …)`) once Salesforce refused that form: the user Id the `Site` row gave.
pub(crate) fn user_by_id(spec: &QuerySpec, user_id: Option<&str>) -> QuerySpec {
    // The site names no such user: `Id = null` proves it with zero rows.
    fallback_where(spec, equals_or_null("Id", user_id))
}

/// `spec` as a fallback, with `clause` for its `WHERE`.
fn fallback_where(spec: &QuerySpec, clause: String) -> QuerySpec {
    let mut q = spec.clone();
    q.where_clause = Some(clause);
    q.fallback = true;
    q
}

/// `field = 'id'`, or `field = null` when another query gave no Id (zero rows prove it).
fn equals_or_null(field: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{field} = {}", literal(id)),
        None => format!("{field} = null"),
    }
}

/// The profile's own permission set, by the profile Id the integration user's row gave.
pub(crate) fn profile_set_by_profile_id(spec: &QuerySpec, profile_id: Option<&str>) -> QuerySpec {
    fallback_where(
        spec,
        format!(
            "IsOwnedByProfile = true AND {}",
            equals_or_null("ProfileId", profile_id)
        ),
    )
}

/// Candidate users without `OR` inside the semi-join: one query by set label (`by_name`
/// false, keeping the `CandidateUsers` id) and one by set API name.
pub(crate) fn candidates_split(
    spec: &QuerySpec,
    candidate_sets: &[String],
    by_name: bool,
) -> QuerySpec {
    let names = candidate_set_names(candidate_sets);
    let list = literal_list(names.iter().map(String::as_str));
    let column = if by_name { "Name" } else { "Label" };
    let mut q = fallback_where(
        spec,
        format!(
            "Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.{column} IN {list})"
        ),
    );
    if by_name {
        q.id = QueryId::CandidateUsersByName;
    }
    q
}

/// Tooling `Profile.FullName` (the language-independent API name, e.g. `Admin`) of one
/// profile: `FullName` may only be selected when the query returns at most one row.
pub(crate) fn profile_api_name(n: u8, profile_id: &str) -> QuerySpec {
    QuerySpec::new(
        QueryId::ProfileApiName(n),
        "Profile",
        &["Id", "Name", "FullName"],
    )
    .filter(format!("Id = {}", literal(profile_id)))
    .in_tooling()
}

/// Tooling `NamedCredential`: the fields `readMetadata` would have given, for the guide's two
/// credentials (reference 3.5).
pub(crate) fn tooling_named_credentials() -> QuerySpec {
    QuerySpec::new(
        QueryId::ToolingNamedCredentials,
        "NamedCredential",
        &[
            "Id",
            "DeveloperName",
            "MasterLabel",
            "Endpoint",
            "PrincipalType",
            "Protocol",
            "Username",
            "AuthProviderId",
            "OauthScope",
            "GenerateAuthorizationHeader",
            "AllowMergeFieldsinHeader",
            "AllowMergeFieldsinBody",
            "NamedCredentialType",
        ],
    )
    .optional(&[AUTH_PROVIDER_ID_OPTIONAL])
    .filter(format!(
        "DeveloperName IN {}",
        literal_list([guide::AIRCALL_NAMED_CREDENTIAL, guide::ECI_NAMED_CREDENTIAL])
    ))
    .in_tooling()
}

/// The column an `INVALID_FIELD` message names (`No such column 'X' on entity 'Y'`).
pub(crate) fn invalid_column(message: &str) -> Option<&str> {
    let rest = &message[message.find("No such column '")? + "No such column '".len()..];
    rest.split('\'').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped() {
        assert_eq!(literal("o'brien\\x"), r"'o\'brien\\x'");
    }

    #[test]
    fn semi_joins_stay_legal() {
        for mode in [Some("eci@example.com"), None] {
            for q in phase2_queries(mode, &[]) {
                let soql = q.soql();
                let semi_joins = soql.matches("IN (SELECT").count();
                assert!(semi_joins <= 2, "{soql}");
                if semi_joins > 0 {
                    let outer_where = soql.split(" WHERE ").nth(1).unwrap();
                    let outside_subqueries: String = {
                        // Strip the subquery texts: what remains must have no OR.
                        let mut depth = 0i32;
                        outer_where
                            .chars()
                            .filter(|c| {
                                match c {
                                    '(' => depth += 1,
                                    ')' => depth -= 1,
                                    _ => {}
                                }
                                depth == 0
                            })
                            .collect()
                    };
                    assert!(!outside_subqueries.contains(" OR "), "{soql}");
                    assert_ne!(
                        soql.split(" FROM ").nth(1).unwrap().split(' ').next(),
                        Some(""),
                        "{soql}"
                    );
                }
                // No semi-join on the main object itself.
                let main = q.object;
                assert!(
                    !soql.contains(&format!("IN (SELECT AssigneeId FROM {main} "))
                        || main != "PermissionSetAssignment"
                );
            }
        }
    }

    #[test]
    fn optional_fields_can_be_dropped() {
        let q = phase2_queries(Some("u@example.com"), &[])
            .into_iter()
            .find(|q| q.id == QueryId::IntegrationUser)
            .unwrap();
        assert!(
            q.soql()
                .contains("PermissionSet.PermissionsCallCoachingUser")
        );
        let retry = q.without_optional().soql();
        assert!(!retry.contains("PermissionsCallCoachingUser"), "{retry}");
        assert!(!retry.contains("ExpirationDate"), "{retry}");
        assert!(
            retry.contains("PermissionSet.PermissionsApiEnabled"),
            "{retry}"
        );
        assert_eq!(
            q.soql(),
            "SELECT Id, Username, Name, IsActive, UserType, ProfileId, Profile.Name, (SELECT Id, AssigneeId, \
             PermissionSetId, PermissionSetGroupId, IsActive, ExpirationDate, PermissionSet.Name, PermissionSet.Label, \
             PermissionSet.NamespacePrefix, PermissionSet.IsOwnedByProfile, PermissionSet.ProfileId, \
             PermissionSet.PermissionsApiEnabled, PermissionSet.PermissionsCallCoachingUser, \
             PermissionSet.PermissionsCIPartnerIntegrationUser FROM PermissionSetAssignments) FROM User \
             WHERE Username = 'u@example.com'"
        );
    }

    #[test]
    fn invalid_column_is_found() {
        let m = "\nSELECT X\nERROR at Row:1:Column:8\nNo such column 'PermissionsCallCoachingUser' on entity 'PermissionSet'.";
        assert_eq!(invalid_column(m), Some("PermissionsCallCoachingUser"));
        assert_eq!(invalid_column("other"), None);
    }
}
