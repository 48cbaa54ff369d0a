//! The fact schema: every root and field a rule may name, with its type and meaning. This one
//! table drives rule validation (names and types), the labels and logical locations in
//! findings, the view builder's test, `docs/facts.md` and `eci-audit facts`.

use std::fmt;

/// Identity of a root of the view; the builder matches on it exhaustively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RootId {
    Org,
    Config,
    IntegrationUser,
    GuestUser,
    Aircall,
    ConnectedApps,
    ExternalClientApps,
    AuthProviders,
    NamedCredentials,
    Sites,
    EciToken,
    IntegrationUserLogin,
}

/// A single record, or a collection of records addressed by exact name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    Single,
    Collection,
}

/// The type of a fact's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Bool,
    Int,
    Str,
    /// A list of strings.
    List,
    /// A nested record (present or not); its fields are listed with dotted paths.
    Object,
}

impl FactType {
    pub fn as_str(self) -> &'static str {
        match self {
            FactType::Bool => "boolean",
            FactType::Int => "integer",
            FactType::Str => "string",
            FactType::List => "list of strings",
            FactType::Object => "record",
        }
    }
}

impl fmt::Display for FactType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field of a root, by dotted path (`oauth_config.scopes`).
#[derive(Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub path: &'static str,
    pub ty: FactType,
    pub doc: &'static str,
    /// Only an org holds it (users, assignments, org records, installed packages): no
    /// metadata directory can, so a rule that needs it does not apply to one read on its own.
    pub org_only: bool,
}

/// One root of the view.
#[derive(Debug, PartialEq, Eq)]
pub struct RootSpec {
    pub id: RootId,
    /// The name rules use: `connected_apps`.
    pub name: &'static str,
    pub kind: RootKind,
    /// The Salesforce (metadata) type, used in logical locations: `ConnectedApp`.
    pub salesforce_type: &'static str,
    /// How messages name one of it: "connected app".
    pub label: &'static str,
    /// For a single root, the logical location's name after the type (`User/integration user`).
    pub logical_name: Option<&'static str>,
    pub doc: &'static str,
    /// Only an org holds the record (a user): no metadata directory can, so a rule about it
    /// does not apply to one read on its own. Its fields inherit this.
    pub org_only: bool,
    pub fields: &'static [FieldSpec],
}

impl RootSpec {
    /// The field with this dotted path.
    pub fn field(&self, path: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// `ConnectedApp/ECIConnectedApp`, `User/integration user`, `Organization`.
    pub fn logical_location(&self, record: Option<&str>) -> String {
        match (record, self.logical_name) {
            (Some(name), _) | (None, Some(name)) => format!("{}/{name}", self.salesforce_type),
            (None, None) => self.salesforce_type.to_string(),
        }
    }

    pub fn is_collection(&self) -> bool {
        self.kind == RootKind::Collection
    }
}

const fn f(path: &'static str, ty: FactType, doc: &'static str) -> FieldSpec {
    FieldSpec {
        path,
        ty,
        doc,
        org_only: false,
    }
}

/// A field only an org holds (see [`FieldSpec::org_only`]).
const fn org_only(spec: FieldSpec) -> FieldSpec {
    FieldSpec {
        org_only: true,
        ..spec
    }
}

use FactType::{Bool, Int, List, Object, Str};

const USER_FIELDS: &[FieldSpec] = &[
    f("id", Str, "User Id."),
    f("username", Str, "Username."),
    f("name", Str, "Display name."),
    f("is_active", Bool, "`User.IsActive`."),
    f(
        "profile_name",
        Str,
        "The profile's display name (`System Administrator`).",
    ),
    f(
        "permission_set_labels",
        List,
        "Labels of the permission sets assigned (active, unexpired; not the profile's own).",
    ),
    f(
        "permission_set_names",
        List,
        "API names of the assigned permission sets, also as `ns__Name` for packaged ones.",
    ),
    f(
        "api_enabled",
        Bool,
        "API Enabled, granted by the profile or an assigned permission set.",
    ),
    f(
        "call_coaching_user",
        Bool,
        "Use Conversation Insights (`PermissionsCallCoachingUser`) from the profile or a set.",
    ),
    f(
        "voice_call_read",
        Bool,
        "Read on the `VoiceCall` object from the profile or a set; false when the object is missing.",
    ),
    f(
        "access_names",
        List,
        "The profile name plus the labels and API names of the assigned sets (who the user is to an app's access list).",
    ),
];

const SITE_USER_DOC: &str =
    "The user the site names (by username or Id), resolved against the users collected.";

/// Every root of the view, in the order `docs/facts.md` lists them.
pub static ROOTS: &[RootSpec] = &[
    RootSpec {
        id: RootId::Org,
        name: "org",
        kind: RootKind::Single,
        salesforce_type: "Organization",
        label: "org",
        logical_name: None,
        doc: "Organization-level facts and what is derived from them.",
        org_only: false,
        fields: &[
            org_only(f("id", Str, "Organization Id.")),
            org_only(f("name", Str, "Organization name.")),
            org_only(f(
                "edition",
                Str,
                "`Organization.OrganizationType`, e.g. `Enterprise Edition`.",
            )),
            f(
                "eci_enabled",
                Bool,
                "`ConversationalIntelligenceSettings.enableCallCoaching`.",
            ),
            org_only(f(
                "voice_call_object_available",
                Bool,
                "Whether the `VoiceCall` object exists (describe 200 vs 404).",
            )),
            f(
                "my_domain",
                Str,
                "The My Domain origin: `--my-domain`, else the snapshot's, else the instance URL's.",
            ),
            f(
                "expected_callback_url",
                Str,
                "`<my_domain>/services/authcallback/ECIAuthProvider`.",
            ),
            org_only(f(
                "installed_package_names",
                List,
                "Names of the installed managed packages.",
            )),
            org_only(f(
                "installed_package_namespaces",
                List,
                "Namespace prefixes of the installed managed packages.",
            )),
            f(
                "sites_domains",
                List,
                "Registered Sites domains: `Domain` rows of a Sites kind, plus site subdomains.",
            ),
        ],
    },
    RootSpec {
        id: RootId::Config,
        name: "config",
        kind: RootKind::Single,
        salesforce_type: "Config",
        label: "config",
        logical_name: None,
        doc: "Inputs of the audit that are not in the org: flags, the config file, the environment.",
        org_only: false,
        fields: &[
            f(
                "refresh_token_days",
                Int,
                "`--refresh-token-days` / `refresh_token_days`.",
            ),
            f(
                "aircall_api_id",
                Str,
                "`AIRCALL_API_ID`, or the API ID a collected snapshot's Aircall check used.",
            ),
            f(
                "voice_connector_namespace",
                Str,
                "`voice_connector_namespace` of the config.",
            ),
            f(
                "eci_access_labels",
                List,
                "Labels of the ECI access permission sets (`permission_sets.eci_access_labels`).",
            ),
            f(
                "integration_permission_set_names",
                List,
                "API names accepted for \"Conversation Insights Integration User\".",
            ),
            f(
                "voice_connector_permission_set_names",
                List,
                "API names accepted for \"Voice Connector Permission\".",
            ),
        ],
    },
    RootSpec {
        id: RootId::IntegrationUser,
        name: "integration_user",
        kind: RootKind::Single,
        salesforce_type: "User",
        label: "integration user",
        logical_name: Some("integration user"),
        doc: "The integration user: `--integration-user`, else the one the snapshot was collected for, else the single active non-guest holder of \"Conversation Insights Integration User\".",
        org_only: true,
        fields: USER_FIELDS,
    },
    RootSpec {
        id: RootId::GuestUser,
        name: "guest_user",
        kind: RootKind::Single,
        salesforce_type: "User",
        label: "guest user",
        logical_name: Some("VoiceConnector guest user"),
        doc: "The guest user of the site `VoiceConnector`.",
        org_only: true,
        fields: USER_FIELDS,
    },
    RootSpec {
        id: RootId::Aircall,
        name: "aircall",
        kind: RootKind::Single,
        salesforce_type: "Aircall",
        label: "aircall",
        logical_name: None,
        doc: "The opt-in Aircall API check (`GET /v1/ping`).",
        org_only: false,
        fields: &[
            f("api_id", Str, "The API ID the check used."),
            f("ping_ok", Bool, "Whether the ping answered 200 `pong`."),
            f("detail", Str, "What the check saw, in words."),
        ],
    },
    RootSpec {
        id: RootId::ConnectedApps,
        name: "connected_apps",
        kind: RootKind::Collection,
        salesforce_type: "ConnectedApp",
        label: "connected app",
        logical_name: None,
        doc: "Connected apps (metadata `ConnectedApp`, SOQL `ConnectedApplication`), by API name; an External Client App that no connected app of the same name shadows stands in for one, its settings mapped to the connected-app fields (reference §2.7).",
        org_only: false,
        fields: &[
            f(
                "kind",
                Str,
                "`ConnectedApp`, or `ExternalClientApplication` for an External Client App.",
            ),
            f("label", Str, "`label`."),
            f("contact_email", Str, "`contactEmail`."),
            f(
                "oauth_config",
                Object,
                "`oauthConfig`: present when OAuth settings are enabled.",
            ),
            f(
                "oauth_config.callback_url",
                Str,
                "`callbackUrl` as written (newline-separated).",
            ),
            f(
                "oauth_config.callback_urls",
                List,
                "`callbackUrl` split into its entries.",
            ),
            f(
                "oauth_config.consumer_key_fingerprint",
                Str,
                "SHA-256 fingerprint of `consumerKey` (the key itself is never stored).",
            ),
            f(
                "oauth_config.is_admin_approved",
                Bool,
                "`isAdminApproved` (or SOQL `OptionsAllowAdminApprovedUsersOnly`); default false.",
            ),
            f(
                "oauth_config.is_consumer_secret_optional",
                Bool,
                "`isConsumerSecretOptional`; default false.",
            ),
            f(
                "oauth_config.is_secret_required_for_refresh_token",
                Bool,
                "`isSecretRequiredForRefreshToken`; default true.",
            ),
            f(
                "oauth_config.is_refresh_token_rotation_enabled",
                Bool,
                "`isRefreshTokenRotationEnabled`: each use of the refresh token issues a new one (absent when the file does not say).",
            ),
            f("oauth_config.scopes", List, "`scopes`."),
            f(
                "oauth_policy",
                Object,
                "`oauthPolicy`; Salesforce's defaults when absent.",
            ),
            f(
                "oauth_policy.ip_relaxation",
                Str,
                "`ipRelaxation`; default `ENFORCE`.",
            ),
            f(
                "oauth_policy.refresh_token_policy",
                Str,
                "`refreshTokenPolicy`; default `infinite`.",
            ),
            f(
                "oauth_policy.refresh_token_days",
                Int,
                "N of `specific_lifetime:N:DAYS`; absent for other policies.",
            ),
            f(
                "high_assurance_required",
                Bool,
                "Whether the session policy requires a high-assurance session.",
            ),
            f(
                "profile_names",
                List,
                "Profiles with access (`profileName`, `SetupEntityAccess`).",
            ),
            f("permission_set_names", List, "Permission sets with access."),
            f(
                "access_list",
                List,
                "Profiles plus permission sets with access.",
            ),
        ],
    },
    RootSpec {
        id: RootId::ExternalClientApps,
        name: "external_client_apps",
        kind: RootKind::Collection,
        salesforce_type: "ExternalClientApplication",
        label: "External Client App",
        logical_name: None,
        doc: "External Client Apps, by API name (their settings are checked through `connected_apps`).",
        org_only: false,
        fields: &[],
    },
    RootSpec {
        id: RootId::AuthProviders,
        name: "auth_providers",
        kind: RootKind::Collection,
        salesforce_type: "AuthProvider",
        label: "auth provider",
        logical_name: None,
        doc: "Auth providers, by URL suffix (API name).",
        org_only: false,
        fields: &[
            f("friendly_name", Str, "`friendlyName`."),
            f("provider_type", Str, "`providerType`."),
            f(
                "consumer_key_fingerprint",
                Str,
                "SHA-256 fingerprint of `consumerKey`.",
            ),
        ],
    },
    RootSpec {
        id: RootId::NamedCredentials,
        name: "named_credentials",
        kind: RootKind::Collection,
        salesforce_type: "NamedCredential",
        label: "named credential",
        logical_name: None,
        doc: "Named credentials, by API name.",
        org_only: false,
        fields: &[
            f("label", Str, "`label`."),
            f("endpoint", Str, "`endpoint` (the URL)."),
            f(
                "named_credential_type",
                Str,
                "`namedCredentialType`; `Legacy` when absent.",
            ),
            f("principal_type", Str, "`principalType` (Identity Type)."),
            f("protocol", Str, "`protocol` (Authentication Protocol)."),
            f("username", Str, "`username`."),
            f("auth_provider", Str, "`authProvider`."),
            f("oauth_scope", Str, "`oauthScope`."),
            f(
                "generate_authorization_header",
                Bool,
                "`generateAuthorizationHeader`; default true.",
            ),
            f(
                "allow_merge_fields_in_header",
                Bool,
                "`allowMergeFieldsInHeader`; default false.",
            ),
            f(
                "allow_merge_fields_in_body",
                Bool,
                "`allowMergeFieldsInBody`; default false.",
            ),
            f(
                "authenticated_as",
                Str,
                "The user the credential is authenticated as, when a source exposes it.",
            ),
        ],
    },
    RootSpec {
        id: RootId::Sites,
        name: "sites",
        kind: RootKind::Collection,
        salesforce_type: "CustomSite",
        label: "site",
        logical_name: None,
        doc: "Salesforce sites (metadata `CustomSite`, SOQL `Site`), by API name.",
        org_only: false,
        fields: &[
            f("label", Str, "`masterLabel`."),
            f(
                "active",
                Bool,
                "`active`, or SOQL `Site.Status` = `Active`.",
            ),
            f("index_page", Str, "`indexPage` (Active Site Home Page)."),
            f(
                "clickjack_protection_level",
                Str,
                "`clickjackProtectionLevel`.",
            ),
            org_only(f("site_admin", Object, SITE_USER_DOC)),
            f("site_admin.username", Str, "The site contact's username."),
            org_only(f(
                "site_admin.is_active",
                Bool,
                "Whether the site contact is active.",
            )),
            org_only(f(
                "site_admin.profile_name",
                Str,
                "The site contact's profile.",
            )),
            org_only(f("default_record_owner", Object, SITE_USER_DOC)),
            f(
                "default_record_owner.username",
                Str,
                "The default record owner's username.",
            ),
            org_only(f(
                "default_record_owner.is_active",
                Bool,
                "Whether the default record owner is active.",
            )),
            org_only(f(
                "default_record_owner.profile_name",
                Str,
                "The default record owner's profile.",
            )),
            f("subdomain", Str, "`Site.Subdomain`."),
        ],
    },
    RootSpec {
        id: RootId::EciToken,
        name: "eci_token",
        kind: RootKind::Single,
        salesforce_type: "OauthToken",
        label: "ECI refresh token",
        logical_name: Some("ECI refresh token"),
        doc: "The refresh token (`OauthToken`) issued to the ECI connected app: the integration user's when there is one, else the newest of another user. Completing the ECI named credential's OAuth flow issues it (inferred, reference 7b.2), so it is the read-only stand-in for the credential's Authentication Status. Live org only.",
        org_only: true,
        fields: &[
            f(
                "username",
                Str,
                "Who authorised the app: the token's `User.Username`.",
            ),
            f("user_id", Str, "The token's `UserId`."),
            f(
                "created_date",
                Str,
                "`CreatedDate` (UTC day): when the credential was authenticated.",
            ),
            f("last_used_date", Str, "`LastUsedDate` (UTC day)."),
            f("use_count", Int, "`UseCount`."),
            f(
                "refresh_token_policy",
                Str,
                "The ECI connected app's refresh-token policy the expiry is computed from.",
            ),
            f(
                "expires_on",
                Str,
                "`CreatedDate` + N under a fixed-lifetime policy (UTC day); absent for other policies.",
            ),
            f(
                "expired",
                Bool,
                "Whether the token has expired as of the collection (false when the policy never expires it or expires it only when idle).",
            ),
            f(
                "days_left",
                Int,
                "Whole days from the collection to `expires_on`.",
            ),
            f(
                "expires_soon",
                Bool,
                "Whether it expires within `--token-expiry-warning` days (true once expired).",
            ),
            f(
                "changes_since_issue",
                List,
                "Setup Audit Trail entries touching `ECINamedCredential`, `ECIAuthProvider` or `ECIConnectedApp` after `CreatedDate`, newest first.",
            ),
        ],
    },
    RootSpec {
        id: RootId::IntegrationUserLogin,
        name: "integration_user_login",
        kind: RootKind::Single,
        salesforce_type: "UserLogin",
        label: "integration user's logins",
        logical_name: Some("integration user"),
        doc: "Whether the integration user can log in (`UserLogin`) and how its recent logins through the ECI app went (`LoginHistory`, last 30 days). Live org only.",
        org_only: true,
        fields: &[
            f("is_frozen", Bool, "`UserLogin.IsFrozen`."),
            f("is_password_locked", Bool, "`UserLogin.IsPasswordLocked`."),
            f(
                "last_eci_login_status",
                Str,
                "`LoginHistory.Status` of the newest login through the ECI app, verbatim (`Success` or the failure reason).",
            ),
            f(
                "eci_login_failures",
                Int,
                "How many logins through the ECI app failed in the last 30 days.",
            ),
        ],
    },
];

/// The root with this name.
pub fn root(name: &str) -> Option<&'static RootSpec> {
    ROOTS.iter().find(|r| r.name == name)
}

/// The root with this identity.
pub fn root_by_id(id: RootId) -> &'static RootSpec {
    // ROOTS lists every RootId once (tested), so the fallback is never taken.
    ROOTS.iter().find(|r| r.id == id).unwrap_or(&ROOTS[0])
}

/// Root names, for messages.
pub fn root_names() -> Vec<&'static str> {
    ROOTS.iter().map(|r| r.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_root_once_and_nested_fields_have_object_parents() {
        let ids = [
            RootId::Org,
            RootId::Config,
            RootId::IntegrationUser,
            RootId::GuestUser,
            RootId::Aircall,
            RootId::ConnectedApps,
            RootId::ExternalClientApps,
            RootId::AuthProviders,
            RootId::NamedCredentials,
            RootId::Sites,
            RootId::EciToken,
            RootId::IntegrationUserLogin,
        ];
        assert_eq!(ROOTS.len(), ids.len());
        for id in ids {
            assert_eq!(ROOTS.iter().filter(|r| r.id == id).count(), 1, "{id:?}");
        }
        for r in ROOTS {
            for field in r.fields {
                if let Some((parent, _)) = field.path.rsplit_once('.') {
                    assert_eq!(
                        r.field(parent).map(|p| p.ty),
                        Some(FactType::Object),
                        "{}.{}",
                        r.name,
                        field.path
                    );
                }
            }
        }
    }
}
