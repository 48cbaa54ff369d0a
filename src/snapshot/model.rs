//! The normalized org model every source (snapshot file, metadata directory, live org) fills.
//!
//! Conventions, kept uniform so the JSON stays small and the evaluator stays generic:
//! - A field that is `None` (missing from the JSON) is **absent**: the source was read and the
//!   value is not there (for metadata files, the element is missing).
//! - A field named in the record's `not_collected` map was **not collected**, with the reason
//!   (an API refusal, a field unavailable in the org, a source that cannot know it).
//! - A collection that is missing from the JSON, or carries `not_collected`, was not collected.
//!   An empty `items` list proves that there are no such components.
//! - `source` is the record's provenance; `locations` gives file positions per field
//!   (metadata files), keyed by the field name used in the JSON.
//!
//! Secrets are never stored: no tokens, passwords or consumer secrets. Consumer keys are kept
//! only as a [`fingerprint`], which allows the equality check of AUP004.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The snapshot file format version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole org, as one source saw it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Must be 1 for this version of eci-audit.
    pub schema_version: u32,
    /// Where the snapshot came from.
    #[serde(default)]
    pub source: SourceInfo,
    /// Organization-level facts. Missing from the file: none of them was collected.
    #[serde(default = "Org::not_in_snapshot")]
    pub org: Org,
    /// Users the audit needs (the integration user candidates, guest users, site contacts).
    #[serde(default)]
    pub users: Collection<User>,
    /// Profiles, with the permissions the rules read.
    #[serde(default)]
    pub profiles: Collection<Profile>,
    /// Permission sets, including profile-owned ones.
    #[serde(default)]
    pub permission_sets: Collection<PermissionSet>,
    /// Permission set assignments of the relevant users.
    #[serde(default)]
    pub permission_set_assignments: Collection<PermissionSetAssignment>,
    /// Object permissions on `VoiceCall` of the relevant permission sets and profiles.
    #[serde(default)]
    pub object_permissions: Collection<ObjectPermission>,
    /// Connected apps (metadata `ConnectedApp`, SOQL `ConnectedApplication`).
    #[serde(default)]
    pub connected_apps: Collection<ConnectedApp>,
    /// External Client Apps: only detected, the guide is written for a connected app.
    #[serde(default)]
    pub external_client_apps: Collection<ExternalClientApp>,
    /// Auth providers.
    #[serde(default)]
    pub auth_providers: Collection<AuthProvider>,
    /// Legacy (and newer) named credentials.
    #[serde(default)]
    pub named_credentials: Collection<NamedCredential>,
    /// Salesforce sites (metadata `CustomSite`, SOQL `Site`).
    #[serde(default)]
    pub sites: Collection<Site>,
    /// Domains (SOQL `Domain`).
    #[serde(default)]
    pub domains: Collection<Domain>,
    /// The result of the opt-in Aircall API check (AIR011); absent when it was not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aircall: Option<AircallCheck>,
    /// What a live org says about the integration at run time: tokens, logins, recent
    /// changes, calls (reference 7b.2). Missing from the file: none of it was collected.
    #[serde(default = "Runtime::not_in_snapshot")]
    pub runtime: Runtime,
}

impl Snapshot {
    /// An empty snapshot in which nothing was collected.
    pub fn empty(kind: SourceKind) -> Self {
        Snapshot {
            schema_version: SCHEMA_VERSION,
            source: SourceInfo {
                kind,
                ..SourceInfo::default()
            },
            org: Org::default(),
            users: Collection::default(),
            profiles: Collection::default(),
            permission_sets: Collection::default(),
            permission_set_assignments: Collection::default(),
            object_permissions: Collection::default(),
            connected_apps: Collection::default(),
            external_client_apps: Collection::default(),
            auth_providers: Collection::default(),
            named_credentials: Collection::default(),
            sites: Collection::default(),
            domains: Collection::default(),
            aircall: None,
            runtime: Runtime::not_in_snapshot(),
        }
    }
}

/// What kind of source produced a snapshot.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Collected from a live org through the REST, Tooling and Metadata APIs.
    LiveOrg,
    /// Read from a Salesforce metadata directory (source or mdapi format).
    MetadataDir,
    /// Written by hand or by another tool.
    #[default]
    Manual,
}

/// Provenance of the snapshot as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// How the snapshot was produced.
    #[serde(default)]
    pub kind: SourceKind,
    /// A human description: the metadata directory, the instance URL, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The org's 18-character Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The instance URL the data was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_url: Option<String>,
    /// The REST API version used, e.g. `62.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The eci-audit version that wrote the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// When it was collected (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// The username of the auditing user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auditing_user: Option<String>,
    /// Permissions the auditing user lacked, which left facts uncollected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
    /// The integration username the collection was run for, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_user: Option<String>,
    /// What the source left out or could not use, for the report's notices (e.g. files that
    /// `.forceignore` excludes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Where one value came from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Origin {
    /// A metadata file, with the 1-based position of the element (or of its parent when the
    /// element is missing).
    File {
        path: String,
        line: u32,
        column: u32,
    },
    /// A record read through SOQL or Tooling.
    Record {
        object: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// A component read through the Metadata API (`readMetadata`).
    Metadata { r#type: String, full_name: String },
    /// A REST resource other than a query, e.g. a describe.
    Endpoint { endpoint: String },
    /// A value given on the command line or in the config file.
    Input { key: String },
}

impl Origin {
    /// A short human form: `path:line`, `Object 0PS…`, `--my-domain`.
    pub fn display(&self) -> String {
        match self {
            Origin::File { path, line, .. } => format!("{path}:{line}"),
            Origin::Record { object, id } => match id {
                Some(id) => format!("{object} {id}"),
                None => object.clone(),
            },
            Origin::Metadata { r#type, full_name } => format!("readMetadata {type}/{full_name}"),
            Origin::Endpoint { endpoint } => endpoint.clone(),
            Origin::Input { key } => key.clone(),
        }
    }
}

/// The identity of a record type's fields: an enum the [`record!`] macro generates from the
/// struct, one variant per field, spelt as the field (and so as its JSON key). `locations` and
/// `not_collected` are keyed by it, so a key can only name a field the record has. It borrows
/// as its name, so maps keyed by it can still be read with a `&str`.
pub trait FieldKey:
    Copy + Ord + std::hash::Hash + std::fmt::Debug + std::borrow::Borrow<str> + 'static
{
    /// The field's name, as in the struct and the JSON.
    fn as_str(self) -> &'static str;
    /// Every field, in declaration order.
    fn all() -> &'static [Self];
}

/// Whether a field holds nothing a merge could keep: `None`, an empty string, a collection that
/// was not collected. A plain `bool` always holds a value.
pub trait Missing {
    fn is_missing(&self) -> bool;
}

impl<T> Missing for Option<T> {
    fn is_missing(&self) -> bool {
        self.is_none()
    }
}

impl Missing for String {
    fn is_missing(&self) -> bool {
        self.is_empty()
    }
}

impl Missing for bool {
    fn is_missing(&self) -> bool {
        false
    }
}

impl<T> Missing for Collection<T> {
    fn is_missing(&self) -> bool {
        self.available().is_err()
    }
}

/// A record's provenance, uncollected fields and field positions, to change in place.
pub type Bookkeeping<'a, K> = (
    &'a mut Option<Origin>,
    &'a mut BTreeMap<K, String>,
    &'a mut BTreeMap<K, Origin>,
);

/// Per-record bookkeeping shared by every record type: provenance, uncollected fields and
/// per-field file positions.
pub trait Record: Clone {
    /// The record's field identity.
    type Field: FieldKey;
    /// Provenance of the record.
    fn source(&self) -> Option<&Origin>;
    /// Field → reason it was not collected.
    fn not_collected(&self) -> &BTreeMap<Self::Field, String>;
    /// Field → where it stands (metadata files).
    fn locations(&self) -> &BTreeMap<Self::Field, Origin>;
    /// Mutable access for loaders.
    fn bookkeeping_mut(&mut self) -> Bookkeeping<'_, Self::Field>;
    /// Copies each of `fields` that this record lacks and `other` has, and returns the ones it
    /// copied. A copied field is no longer "not collected", and stands where `other` came
    /// from. The one merge of two records of the same thing (a metadata record and its SOQL
    /// row, a file record and its org snapshot record, two rows of one permission set).
    fn fill_missing_from(&mut self, other: &Self, fields: &[Self::Field]) -> Vec<Self::Field>;

    /// Marks fields not collected, with the reason.
    fn mark_not_collected(&mut self, fields: &[Self::Field], reason: &str) {
        let (_, not_collected, _) = self.bookkeeping_mut();
        for field in fields {
            not_collected.insert(*field, reason.to_string());
        }
    }
}

/// Declares a record struct with the bookkeeping fields appended (no `serde(flatten)`: it
/// would disable `deny_unknown_fields` and buffer every record, which large snapshots feel),
/// and its field identity `$key` (see [`FieldKey`]).
macro_rules! record {
    ($(#[$attr:meta])* pub struct $name:ident keyed by $key:ident { $($(#[$fattr:meta])* pub $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fattr])* pub $field: $ty,)*
            /// Provenance of the record.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub source: Option<Origin>,
            /// Field name → reason it was not collected.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub not_collected: BTreeMap<$key, String>,
            /// Field name → where it stands (metadata files).
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub locations: BTreeMap<$key, Origin>,
        }

        #[doc = concat!("The fields of [`", stringify!($name), "`], as keys of its `locations` and `not_collected`.")]
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $key {
            $($field,)*
        }

        impl $key {
            /// The field's name, as in the struct and the JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($key::$field => stringify!($field),)*
                }
            }
        }

        impl FieldKey for $key {
            fn as_str(self) -> &'static str {
                $key::as_str(self)
            }
            fn all() -> &'static [Self] {
                &[$($key::$field,)*]
            }
        }

        // Ordered by name, as the string keys were, so that `Borrow<str>` is consistent.
        impl Ord for $key {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl PartialOrd for $key {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl std::borrow::Borrow<str> for $key {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $key {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Record for $name {
            type Field = $key;
            fn source(&self) -> Option<&Origin> {
                self.source.as_ref()
            }
            fn not_collected(&self) -> &BTreeMap<$key, String> {
                &self.not_collected
            }
            fn locations(&self) -> &BTreeMap<$key, Origin> {
                &self.locations
            }
            fn bookkeeping_mut(&mut self) -> Bookkeeping<'_, $key> {
                (&mut self.source, &mut self.not_collected, &mut self.locations)
            }
            fn fill_missing_from(&mut self, other: &Self, fields: &[$key]) -> Vec<$key> {
                let mut filled = Vec::new();
                for &field in fields {
                    let copied = match field {
                        $($key::$field => {
                            let copy = self.$field.is_missing() && !other.$field.is_missing();
                            if copy {
                                self.$field = other.$field.clone();
                            }
                            copy
                        })*
                    };
                    if copied {
                        self.not_collected.remove(&field);
                        // The value stands where `other` came from; an older position of this
                        // record's would point at the wrong place.
                        match &other.source {
                            Some(origin) => self.locations.insert(field, origin.clone()),
                            None => self.locations.remove(&field),
                        };
                        filled.push(field);
                    }
                }
                filled
            }
        }
    };
}

impl Org {
    /// The `org` of a snapshot file that has no `org` section: every fact not collected.
    pub fn not_in_snapshot() -> Org {
        let mut org = Org::default();
        org.mark_not_collected(
            &[
                OrgField::id,
                OrgField::name,
                OrgField::edition,
                OrgField::my_domain,
                OrgField::instance_url,
                OrgField::eci_enabled,
                OrgField::voice_call_object_available,
            ],
            "the snapshot has no `org` section",
        );
        org
    }
}

/// A list of records that was either collected (possibly empty) or not collected, with the
/// reason — never both: the state is one `Result`. In JSON: `items`, or `not_collected`.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection<T> {
    records: Result<Vec<T>, String>,
    /// Where the collection came from (a query, a folder).
    pub source: Option<Origin>,
    /// Whether the records are every one there is, or only the ones a collection asked for.
    pub scope: Scope,
}

/// What a collected collection covers.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every record of the kind the audit needs: a miss proves absence.
    #[default]
    All,
    /// Only the records a collection looked for (a live org reads the users it needs): a miss
    /// proves nothing about records it did not look for.
    Requested,
}

impl Scope {
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    fn is_all(&self) -> bool {
        *self == Scope::All
    }
}

/// A list of records: `items` when collected (empty: there are none), or `not_collected`
/// with the reason — never both.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
#[schemars(rename = "Collection")]
struct CollectionFile<T> {
    /// The records. Empty with no `not_collected` means: collected, none exist.
    #[serde(default)]
    items: Vec<T>,
    /// Set when the collection was not collected, with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_collected: Option<String>,
    /// Where the collection came from (a query, a folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<Origin>,
    /// `requested` when the records are only the ones a collection looked for (absent: all).
    #[serde(default, skip_serializing_if = "Scope::is_all")]
    scope: Scope,
}

/// Serialized without copying the records.
#[derive(Serialize)]
struct CollectionRef<'a, T> {
    items: &'a [T],
    #[serde(skip_serializing_if = "Option::is_none")]
    not_collected: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: &'a Option<Origin>,
    #[serde(skip_serializing_if = "Scope::is_all")]
    scope: Scope,
}

impl<T: Serialize> Serialize for Collection<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CollectionRef {
            items: self.items(),
            not_collected: self.records.as_ref().err().map(String::as_str),
            source: &self.source,
            scope: self.scope,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Collection<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let file = CollectionFile::<T>::deserialize(deserializer)?;
        let records = match (file.not_collected, file.items.is_empty()) {
            (None, _) => Ok(file.items),
            (Some(reason), true) => Err(reason),
            (Some(_), false) => {
                return Err(serde::de::Error::custom(
                    "a collection cannot have `items` and `not_collected` at once",
                ));
            }
        };
        Ok(Collection {
            records,
            source: file.source,
            scope: file.scope,
        })
    }
}

impl<T: JsonSchema> JsonSchema for Collection<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        CollectionFile::<T>::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        CollectionFile::<T>::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        CollectionFile::<T>::json_schema(generator)
    }
}

impl<T> Default for Collection<T> {
    /// A collection missing from the snapshot was not collected: never read absence as "none".
    fn default() -> Self {
        Collection::not_collected("not in the snapshot")
    }
}

impl<T> Collection<T> {
    /// A collected collection.
    pub fn collected(items: Vec<T>, source: Option<Origin>) -> Self {
        Collection {
            records: Ok(items),
            source,
            scope: Scope::All,
        }
    }

    /// A collection that could not be collected.
    pub fn not_collected(reason: impl Into<String>) -> Self {
        Collection {
            records: Err(reason.into()),
            source: None,
            scope: Scope::All,
        }
    }

    /// The same, covering only the records that were asked for.
    #[must_use]
    pub fn requested_only(mut self) -> Self {
        self.scope = Scope::Requested;
        self
    }

    /// `Err(reason)` when not collected.
    pub fn available(&self) -> Result<&[T], &str> {
        match &self.records {
            Ok(items) => Ok(items),
            Err(reason) => Err(reason),
        }
    }

    /// The records; none when not collected.
    pub fn items(&self) -> &[T] {
        self.records.as_deref().unwrap_or_default()
    }

    /// The records to change in place; `None` when not collected.
    pub fn items_mut(&mut self) -> Option<&mut Vec<T>> {
        self.records.as_mut().ok()
    }

    /// Whether it was collected.
    pub fn is_collected(&self) -> bool {
        self.records.is_ok()
    }

    /// Why it was not collected.
    pub fn reason(&self) -> Option<&str> {
        self.records.as_ref().err().map(String::as_str)
    }

    /// The records, owned; none when not collected.
    pub fn into_items(self) -> Vec<T> {
        self.records.unwrap_or_default()
    }
}

record! {
/// Organization-level facts.
pub struct Org keyed by OrgField {
    /// Organization Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Organization name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Organization.OrganizationType`, e.g. `Enterprise Edition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// The org's My Domain URL (`https://acme.my.salesforce.com`) when the source knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_domain: Option<String>,
    /// The instance URL the org was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_url: Option<String>,
    /// `ConversationalIntelligenceSettings.enableCallCoaching`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eci_enabled: Option<bool>,
    /// Whether the `VoiceCall` object exists (describe 200 vs 404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_call_object_available: Option<bool>,
    /// Installed managed packages (Tooling `InstalledSubscriberPackage`).
    #[serde(default)]
    pub installed_packages: Collection<InstalledPackage>,
}
}

record! {
/// An installed managed package.
pub struct InstalledPackage keyed by InstalledPackageField {
    /// `SubscriberPackage.Name`.
    pub name: String,
    /// `SubscriberPackage.NamespacePrefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Version name or number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
}

record! {
/// A user.
pub struct User keyed by UserField {
    /// User Id.
    pub id: String,
    /// Username (an email-like login name).
    pub username: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `IsActive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// `UserType`, e.g. `Standard`, `Guest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    /// `ProfileId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// `Profile.Name`, the display name (`System Administrator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
}
}

record! {
/// A profile.
pub struct Profile keyed by ProfileField {
    /// Profile Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name (`System Administrator`); metadata fullName `Admin` maps to it.
    pub name: String,
    /// API name (metadata fullName, Tooling `Profile.FullName`), e.g. `Admin`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_name: Option<String>,
    /// The name as the auditing user saw it, when it differs from `name` (standard profile
    /// names come back translated for a user whose language is not English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}
}

record! {
/// A permission set; profile-owned ones carry the profile's permissions.
pub struct PermissionSet keyed by PermissionSetField {
    /// Permission set Id.
    pub id: String,
    /// API name (`PermissionSet.Name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Namespace prefix of a packaged set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `IsOwnedByProfile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_owned_by_profile: Option<bool>,
    /// `ProfileId` of a profile-owned set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// `PermissionsApiEnabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_enabled: Option<bool>,
    /// `PermissionsCallCoachingUser` ("Use Conversation Insights for Sales").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_coaching_user: Option<bool>,
    /// `PermissionsCIPartnerIntegrationUser`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_partner_integration_user: Option<bool>,
}
}

record! {
/// A permission set assignment.
pub struct PermissionSetAssignment keyed by PermissionSetAssignmentField {
    /// Assignment Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `AssigneeId` (a user Id).
    pub assignee_id: String,
    /// `PermissionSetId`.
    pub permission_set_id: String,
    /// `PermissionSetGroupId` when granted through a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set_group_id: Option<String>,
    /// `IsActive`; absent counts as active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// `ExpirationDate` (YYYY-MM-DD); a past date makes the assignment ineffective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
}
}

record! {
/// Object permissions of a permission set (profile-owned or not) on one object.
pub struct ObjectPermission keyed by ObjectPermissionField {
    /// `ParentId`: the permission set.
    pub parent_id: String,
    /// `SobjectType`, e.g. `VoiceCall`.
    pub object: String,
    /// `PermissionsRead`.
    #[serde(default)]
    pub read: bool,
    /// `PermissionsCreate`.
    #[serde(default)]
    pub create: bool,
    /// `PermissionsEdit`.
    #[serde(default)]
    pub edit: bool,
    /// `PermissionsViewAllRecords`.
    #[serde(default)]
    pub view_all: bool,
}
}

record! {
/// A connected app.
pub struct ConnectedApp keyed by ConnectedAppField {
    /// API name (file name / readMetadata fullName), e.g. `ECIConnectedApp`.
    pub full_name: String,
    /// `ConnectedApplication.Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `label`: the Connected App Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `contactEmail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// `oauthConfig`; absent means OAuth settings are not enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_config: Option<OauthConfig>,
    /// `oauthPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_policy: Option<OauthPolicy>,
    /// `sessionPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<SessionPolicy>,
    /// `profileName`: profile display names with access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_names: Option<Vec<String>>,
    /// `permissionSetName`: permission sets (label or API name) with access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set_names: Option<Vec<String>>,
    /// SOQL `OptionsAllowAdminApprovedUsersOnly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_approved_users_only: Option<bool>,
    /// SOQL `OptionsHasSessionLevelPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_session_level_policy: Option<bool>,
    /// `LastModifiedDate` (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}
}

record! {
/// `ConnectedApp/oauthConfig`.
pub struct OauthConfig keyed by OauthConfigField {
    /// `callbackUrl`: one or more URLs separated by line breaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Fingerprint of `consumerKey` (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_key_fingerprint: Option<String>,
    /// `isAdminApproved` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin_approved: Option<bool>,
    /// `isConsumerSecretOptional` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_consumer_secret_optional: Option<bool>,
    /// `isSecretRequiredForRefreshToken` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_secret_required_for_refresh_token: Option<bool>,
    /// `isRefreshTokenRotationEnabled`: each use of the refresh token issues a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_refresh_token_rotation_enabled: Option<bool>,
    /// `scopes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}
}

record! {
/// `ConnectedApp/oauthPolicy`.
pub struct OauthPolicy keyed by OauthPolicyField {
    /// `ipRelaxation`: `ENFORCE`, `BYPASS_2FACTOR`, `BYPASS`, `ENFORCE_RELAXREFRESH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_relaxation: Option<String>,
    /// `refreshTokenPolicy`, e.g. `specific_lifetime:30:DAYS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_policy: Option<String>,
}
}

record! {
/// `ConnectedApp/sessionPolicy`.
pub struct SessionPolicy keyed by SessionPolicyField {
    /// `sessionLevel`, e.g. `HIGH_ASSURANCE`, `STANDARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_level: Option<String>,
    /// `policyAction`: `Block` or `RaiseSessionLevel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_action: Option<String>,
}
}

record! {
/// An External Client App (ECA): the header (`ExternalClientApplication`) and its OAuth plugin
/// (`ExtlClntAppOauthSettings`, `ExtlClntAppGlobalOauthSettings`,
/// `ExtlClntAppOauthConfigurablePolicies`), each a separate metadata component.
pub struct ExternalClientApp keyed by ExternalClientAppField {
    /// Its API name.
    pub full_name: String,
    /// Its label, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `contactEmail` of the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// `ExtlClntAppOauthSettings`; absent when the app has no OAuth plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_settings: Option<EcaOauthSettings>,
    /// `ExtlClntAppGlobalOauthSettings` (callback URL, consumer key, secret flags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_oauth_settings: Option<EcaGlobalOauthSettings>,
    /// `ExtlClntAppOauthConfigurablePolicies` (permitted users, IP relaxation, refresh token,
    /// session level, profiles and permission sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_policies: Option<EcaOauthPolicies>,
}
}

record! {
/// `ExtlClntAppOauthSettings` of an External Client App.
pub struct EcaOauthSettings keyed by EcaOauthSettingsField {
    /// The component's fullName, e.g. `ECIConnectedApp_oauth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `commaSeparatedOauthScopes`, split and trimmed (`Api`, `Web`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}
}

record! {
/// `ExtlClntAppGlobalOauthSettings` of an External Client App.
pub struct EcaGlobalOauthSettings keyed by EcaGlobalOauthSettingsField {
    /// The component's fullName, e.g. `ECIConnectedApp_glbloauth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `callbackUrl`: one or more URLs separated by line breaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Fingerprint of `consumerKey` (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_key_fingerprint: Option<String>,
    /// `isConsumerSecretOptional` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_consumer_secret_optional: Option<bool>,
    /// `isSecretRequiredForRefreshToken` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_secret_required_for_refresh_token: Option<bool>,
}
}

record! {
/// `ExtlClntAppOauthConfigurablePolicies` of an External Client App.
pub struct EcaOauthPolicies keyed by EcaOauthPoliciesField {
    /// The component's fullName, e.g. `ECIConnectedApp_oauthPlcy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `permittedUsersPolicyType`: `AdminApprovedPreAuthorized` or `AllSelfAuthorized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_users_policy_type: Option<String>,
    /// `ipRelaxationPolicyType`: `Enforce`, `Bypass`, `Bypass_2factor`, `Enforce_RelaxRefresh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_relaxation_policy_type: Option<String>,
    /// `refreshTokenPolicyType`: `Infinite`, `SpecificInactivity`, `SpecificLifetime`, `Zero`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_policy_type: Option<String>,
    /// `refreshTokenValidityPeriod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity_period: Option<i64>,
    /// `refreshTokenValidityUnit`: `Days`, `Hours`, `Months`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity_unit: Option<String>,
    /// `requiredSessionLevel`: `HIGH_ASSURANCE`, `LOW`, `STANDARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_session_level: Option<String>,
    /// `policyAction`: `Block` or `RaiseSessionLevel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_action: Option<String>,
    /// `commaSeparatedProfile`, split and trimmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_names: Option<Vec<String>>,
    /// `commaSeparatedPermissionSet`, split and trimmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set_names: Option<Vec<String>>,
}
}

record! {
/// An auth provider.
pub struct AuthProvider keyed by AuthProviderField {
    /// URL suffix (file name / `DeveloperName`), e.g. `ECIAuthProvider`.
    pub full_name: String,
    /// `AuthProvider.Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `friendlyName`: the UI "Name".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// `providerType`, e.g. `Salesforce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<String>,
    /// Fingerprint of `consumerKey` (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_key_fingerprint: Option<String>,
}
}

record! {
/// A named credential.
pub struct NamedCredential keyed by NamedCredentialField {
    /// Name (file name / `DeveloperName`), e.g. `Aircall`.
    pub full_name: String,
    /// Record Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `label`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `endpoint`: the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `namedCredentialType`: absent or `Legacy` for the guide's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_credential_type: Option<String>,
    /// `principalType`: `NamedUser` is "Named Principal".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    /// `protocol`: `Password`, `Oauth`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `username` (for Aircall, the API ID; not a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `authProvider`: the auth provider's URL suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<String>,
    /// `oauthScope`: space-separated scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_scope: Option<String>,
    /// `generateAuthorizationHeader` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_authorization_header: Option<bool>,
    /// `allowMergeFieldsInHeader` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_merge_fields_in_header: Option<bool>,
    /// `allowMergeFieldsInBody` (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_merge_fields_in_body: Option<bool>,
    /// Authentication status shown in Setup ("Authenticated as …"), when evidence exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated_as: Option<String>,
}
}

record! {
/// A Salesforce site.
pub struct Site keyed by SiteField {
    /// Site Name (file name / `Site.Name`), e.g. `VoiceConnector`.
    pub full_name: String,
    /// `Site.Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `masterLabel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Metadata `active`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// SOQL `Site.Status`, e.g. `Active`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `indexPage`: the Active Site Home Page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_page: Option<String>,
    /// `clickjackProtectionLevel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clickjack_protection_level: Option<String>,
    /// Site contact: a username (metadata `siteAdmin`) or a user Id (SOQL `AdminId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_admin: Option<String>,
    /// Default record owner: a username (`siteGuestRecordDefaultOwner`) or a user Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_record_default_owner: Option<String>,
    /// `Site.GuestUserId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_user_id: Option<String>,
    /// `subdomain`: non-empty when the Sites domain is registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    /// `siteType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_type: Option<String>,
    /// The public https URLs serving the site (`DomainSite`: domain + path prefix); with
    /// enhanced domains `subdomain` is null and these are what prove the site is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_urls: Option<Vec<String>>,
}
}

record! {
/// A domain of the org.
pub struct Domain keyed by DomainField {
    /// The host name.
    pub domain: String,
    /// `DomainType`, e.g. `DNS`, `Sites`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_type: Option<String>,
    /// `HttpsOption`, e.g. `OrgDomain`, `SitesAlt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_option: Option<String>,
}
}

record! {
/// The outcome of `GET /v1/ping` against the Aircall API with the user's API ID and token.
pub struct AircallCheck keyed by AircallCheckField {
    /// The API ID that was used (a public identifier, not the token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    /// True when the ping answered 200 `{"ping":"pong"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_ok: Option<bool>,
    /// What happened, e.g. `200 pong`, `401 Unauthorized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
}

/// A component addressed by its API name (`full_name`): connected apps, External Client Apps,
/// auth providers, named credentials, sites.
pub trait Named: Record {
    fn full_name(&self) -> &str;
    /// The key of `full_name` in `not_collected` (an API name that may be the label).
    const FULL_NAME: Self::Field;
}

macro_rules! named {
    ($($t:ident => $key:ident),*) => {$(
        impl Named for $t {
            fn full_name(&self) -> &str {
                &self.full_name
            }
            const FULL_NAME: $key = $key::full_name;
        }
    )*};
}
named!(
    ConnectedApp => ConnectedAppField,
    ExternalClientApp => ExternalClientAppField,
    AuthProvider => AuthProviderField,
    NamedCredential => NamedCredentialField,
    Site => SiteField
);

/// A one-way fingerprint of a consumer key: equal keys give equal fingerprints, and the key
/// cannot be read back from it.
pub fn fingerprint(secretish: &str) -> String {
    format!(
        "sha256:{}",
        crate::text::sha256_hex(secretish.trim().as_bytes(), 12)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_hides_the_key() {
        let a = fingerprint("3MVG9EXAMPLE_KEY");
        assert_eq!(a, fingerprint(" 3MVG9EXAMPLE_KEY\n"));
        assert_ne!(a, fingerprint("3MVG9OTHER"));
        assert!(!a.contains("3MVG9"));
        assert!(a.starts_with("sha256:"));
    }

    #[test]
    fn missing_collection_means_not_collected() {
        let s: Snapshot = serde_json::from_str(r#"{"schema_version":1}"#).unwrap();
        assert!(s.connected_apps.available().is_err());
        let s: Snapshot =
            serde_json::from_str(r#"{"schema_version":1,"connected_apps":{"items":[]}}"#).unwrap();
        assert_eq!(s.connected_apps.available().unwrap().len(), 0);
    }

    #[test]
    fn a_collection_is_collected_or_not_never_both() {
        let both =
            r#"{"schema_version":1,"sites":{"not_collected":"x","items":[{"full_name":"A"}]}}"#;
        let err = serde_json::from_str::<Snapshot>(both)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`items` and `not_collected` at once"), "{err}");
        let s: Snapshot = serde_json::from_str(
            r#"{"schema_version":1,"sites":{"not_collected":"x","items":[]}}"#,
        )
        .unwrap();
        assert_eq!(s.sites.reason(), Some("x"));
        assert!(s.sites.items().is_empty());
        // Round trip keeps the state and the scope.
        let users = Collection::collected(vec![User::default()], None).requested_only();
        let json = serde_json::to_string(&users).unwrap();
        assert!(json.contains(r#""scope":"requested""#), "{json}");
        assert_eq!(
            serde_json::from_str::<Collection<User>>(&json).unwrap(),
            users
        );
    }

    #[test]
    fn field_keys_are_the_json_names_and_unknown_keys_are_refused() {
        let mut site = Site::default();
        site.mark_not_collected(&[SiteField::guest_user_id], "org only");
        let json = serde_json::to_value(&site).unwrap();
        assert_eq!(json["not_collected"]["guest_user_id"], "org only");
        // Read back by name too.
        assert_eq!(
            site.not_collected.get("guest_user_id").map(String::as_str),
            Some("org only")
        );
        let bad = r#"{"full_name":"S","not_collected":{"guest_usr_id":"x"}}"#;
        assert!(serde_json::from_str::<Site>(bad).is_err());
        // Every field of the struct has its key, spelt as in the JSON.
        let full = serde_json::to_value(Site {
            id: Some(String::new()),
            label: Some(String::new()),
            active: Some(true),
            status: Some(String::new()),
            index_page: Some(String::new()),
            clickjack_protection_level: Some(String::new()),
            site_admin: Some(String::new()),
            guest_record_default_owner: Some(String::new()),
            guest_user_id: Some(String::new()),
            subdomain: Some(String::new()),
            site_type: Some(String::new()),
            public_urls: Some(Vec::new()),
            ..Site::default()
        })
        .unwrap();
        let mut names: Vec<&str> = SiteField::all().iter().map(|f| f.as_str()).collect();
        names.sort_unstable();
        let mut keys: Vec<&str> = full
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(names, keys);
    }

    #[test]
    fn fill_missing_from_copies_only_what_is_missing_and_says_where_from() {
        let origin = Origin::Record {
            object: "Site".into(),
            id: Some("0DM1".into()),
        };
        let mut file = Site {
            full_name: "VoiceConnector".into(),
            label: Some("from file".into()),
            ..Site::default()
        };
        file.mark_not_collected(&[SiteField::guest_user_id], "org only");
        let org = Site {
            full_name: "VoiceConnector".into(),
            label: Some("from org".into()),
            guest_user_id: Some("005G".into()),
            source: Some(origin.clone()),
            ..Site::default()
        };
        let filled = file.fill_missing_from(
            &org,
            &[
                SiteField::label,
                SiteField::guest_user_id,
                SiteField::status,
            ],
        );
        assert_eq!(filled, vec![SiteField::guest_user_id]);
        assert_eq!(file.label.as_deref(), Some("from file"));
        assert_eq!(file.guest_user_id.as_deref(), Some("005G"));
        assert!(file.not_collected.is_empty());
        assert_eq!(file.locations.get(&SiteField::guest_user_id), Some(&origin));
    }
}

/// Run-time evidence from a live org (reference 7b.2): who the ECI app's refresh token belongs
/// to, whether the integration user can log in, what changed and whether calls arrive. Each
/// part is a collection, so a refused read is "not collected" with its reason. Never holds a
/// token value: `OauthToken.AccessToken`, `RequestToken` and `DeleteToken` are not read.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    /// When it was read (RFC 3339, UTC): the windows below count back from it, and token
    /// expiry is judged as of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// The auditing user's own permissions (`UserPermissionAccess`, one row): without
    /// Customize Application `OauthToken` shows only the auditor's tokens, without Manage Users
    /// or Monitor Login History `LoginHistory` only the auditor's logins, with no error.
    #[serde(default)]
    pub auditor_permissions: Collection<AuditorPermissions>,
    /// The ECI connected app's menu item (`AppMenuItem`, `Type = 'ConnectedApplication'`):
    /// tokens point at it through `AppMenuItemId`.
    #[serde(default)]
    pub app_menu_items: Collection<AppMenuItem>,
    /// Refresh tokens of the integration user and of the ECI app (`OauthToken`).
    #[serde(default)]
    pub oauth_tokens: Collection<OauthToken>,
    /// The integration user's login state (`UserLogin`).
    #[serde(default)]
    pub user_logins: Collection<UserLogin>,
    /// The integration user's logins of the last 30 days, newest first (`LoginHistory`).
    #[serde(default)]
    pub login_history: Collection<LoginHistoryEntry>,
    /// Setup Audit Trail entries that touch the ECI components, the integration or guest user
    /// or the site, newest first, with the days they cover in `audit_trail_days`.
    #[serde(default)]
    pub setup_audit_trail: Collection<AuditTrailEntry>,
    /// How many days back `setup_audit_trail` was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_trail_days: Option<u32>,
    /// `VoiceCall` records created in the last 7 days (at most 1,000 are read).
    #[serde(default)]
    pub recent_voice_calls: Collection<VoiceCall>,
    /// The newest `VoiceCall` of any age (zero or one record).
    #[serde(default)]
    pub latest_voice_call: Collection<VoiceCall>,
}

impl Runtime {
    /// Nothing collected, for this reason.
    pub fn not_collected(reason: &str) -> Self {
        Runtime {
            as_of: None,
            auditor_permissions: Collection::not_collected(reason),
            app_menu_items: Collection::not_collected(reason),
            oauth_tokens: Collection::not_collected(reason),
            user_logins: Collection::not_collected(reason),
            login_history: Collection::not_collected(reason),
            setup_audit_trail: Collection::not_collected(reason),
            audit_trail_days: None,
            recent_voice_calls: Collection::not_collected(reason),
            latest_voice_call: Collection::not_collected(reason),
        }
    }

    /// A snapshot file without a `runtime` section.
    pub fn not_in_snapshot() -> Self {
        Runtime::not_collected("the snapshot has no `runtime` section (collect from a live org)")
    }

    /// What a metadata directory says (the reason names the source, so that not-applicable
    /// rules can be told apart from refused reads).
    pub fn from_metadata_directory() -> Self {
        Runtime::not_collected(RUNTIME_NOT_IN_METADATA)
    }
}

/// Why a metadata directory has no run-time data.
pub const RUNTIME_NOT_IN_METADATA: &str = "not applicable to a metadata directory: tokens, logins, the Setup Audit Trail and calls exist only in a live org";

/// The auditing user's permissions that decide what the run-time reads can see.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditorPermissions {
    /// `PermissionsCustomizeApplication`: every user's `OauthToken` rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customize_application: Option<bool>,
    /// `PermissionsManageUsers`: every user's `LoginHistory` rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_users: Option<bool>,
    /// `PermissionsMonitorLoginHistory`: every user's `LoginHistory` rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_login_history: Option<bool>,
    /// `PermissionsViewSetup`: the Setup Audit Trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_setup: Option<bool>,
}

/// A connected app's menu item.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AppMenuItem {
    /// `AppMenuItem.Id`, what `OauthToken.AppMenuItemId` names.
    pub id: String,
    /// `Name`: the app's API name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Label`: what `OauthToken.AppName` holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `ApplicationId`: the `ConnectedApplication` Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}

/// A refresh token (`OauthToken`); `Id` is always null there, so rows have no key.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct OauthToken {
    /// `AppName`: the connected app's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// `AppMenuItemId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_menu_item_id: Option<String>,
    /// `UserId`: who authorised the app.
    pub user_id: String,
    /// `User.Username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `CreatedDate` (RFC 3339 as Salesforce writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    /// `LastUsedDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_date: Option<String>,
    /// `UseCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_count: Option<i64>,
}

/// A user's login state (`UserLogin`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct UserLogin {
    /// `UserId`.
    pub user_id: String,
    /// `IsFrozen`: an admin froze the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_frozen: Option<bool>,
    /// `IsPasswordLocked`: locked out after failed password attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_password_locked: Option<bool>,
}

/// One login (`LoginHistory`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct LoginHistoryEntry {
    /// `UserId`.
    pub user_id: String,
    /// `LoginTime`.
    pub login_time: String,
    /// `LoginType`, e.g. `Remote Access 2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_type: Option<String>,
    /// `LoginSubType`, e.g. `OauthRefreshToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_sub_type: Option<String>,
    /// `Application`: the connected app's name as Salesforce writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// `Status`: `Success` or the failure reason, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One Setup Audit Trail entry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditTrailEntry {
    /// `CreatedDate`.
    pub created_date: String,
    /// `CreatedBy.Username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `Action`, e.g. `namedCredentialEdit` (not documented as a closed list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `Section`, e.g. `Named Credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// `Display`: what Setup shows, e.g. `Changed Named Credential ECI Named Credential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `DelegateUser`: who acted through "log in as", if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegate_user: Option<String>,
}

/// A call record (`VoiceCall`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct VoiceCall {
    /// `CreatedDate`.
    pub created_date: String,
}
