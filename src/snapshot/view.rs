//! The fact view: what rules see. Built once per audit from a [`Snapshot`] and the audit
//! [`Settings`]; every derived fact (the expected callback URL, the integration user and what
//! it holds, the guest user, documented metadata defaults) is computed here, once, with
//! indexes, so that rules stay declarative and evaluation never scans users or assignments.
//!
//! Paths: a root is `org`, `config`, `integration_user`, `guest_user`, `aircall`, or a
//! collection such as `connected_apps`; a record of a collection is addressed as
//! `connected_apps[ECIConnectedApp]`; fields follow with dots: `oauth_config.scopes`.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::model::{self, Collection, Origin, Snapshot, SourceKind};

/// A value as rules see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Object(Object),
}

impl Value {
    /// A short human rendering for messages: strings bare, lists as `[a, b]`.
    pub fn render(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(Value::render).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Object(o) => match o.name.as_deref() {
                Some(name) => name.to_string(),
                None => "present".to_string(),
            },
        }
    }

    /// The value as JSON, for the JSON report.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(o) => serde_json::Value::String(o.name.clone().unwrap_or_default()),
        }
    }

    /// The string inside, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Whether a value is there.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// The source has it.
    Value(Value),
    /// The source was read and does not have it; `detail` may say more (e.g. several
    /// integration-user candidates).
    Absent { detail: Option<String> },
    /// The source could not provide it.
    NotCollected { reason: String },
}

/// A fact with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub fact: Fact,
    /// Where the value (or, for an absent one, its parent) stands.
    pub origin: Option<Origin>,
    /// How a derived or defaulted value came about, e.g. "element absent; default true".
    pub note: Option<String>,
}

impl Field {
    fn value(v: Value, origin: Option<Origin>) -> Self {
        Field {
            fact: Fact::Value(v),
            origin,
            note: None,
        }
    }
    fn absent(origin: Option<Origin>) -> Self {
        Field {
            fact: Fact::Absent { detail: None },
            origin,
            note: None,
        }
    }
    fn absent_because(detail: impl Into<String>, origin: Option<Origin>) -> Self {
        Field {
            fact: Fact::Absent {
                detail: Some(detail.into()),
            },
            origin,
            note: None,
        }
    }
    fn not_collected(reason: impl Into<String>) -> Self {
        Field {
            fact: Fact::NotCollected {
                reason: reason.into(),
            },
            origin: None,
            note: None,
        }
    }
    fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// A record: named fields plus provenance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    /// The record's name (fullName), when it has one.
    pub name: Option<String>,
    pub origin: Option<Origin>,
    pub fields: BTreeMap<String, Field>,
}

impl Object {
    fn new(name: Option<String>, origin: Option<Origin>) -> Self {
        Object {
            name,
            origin,
            fields: BTreeMap::new(),
        }
    }

    fn put(&mut self, key: &str, field: Field) {
        self.fields.insert(key.to_string(), field);
    }

    /// Puts a model field: value, absent (located at the record) or not collected, honouring
    /// the record's `not_collected` map and `locations`.
    fn put_opt<R: model::Record>(&mut self, rec: &R, key: &str, value: Option<Value>) {
        self.put(key, model_field(rec, key, value));
    }

    /// The field, or `None` when the object has no such key.
    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.get(key)
    }
}

/// Builds a field from a model record's optional value.
fn model_field<R: model::Record>(rec: &R, key: &str, value: Option<Value>) -> Field {
    if let Some(reason) = rec.not_collected().get(key) {
        return Field::not_collected(reason.clone());
    }
    let at = rec
        .locations()
        .get(key)
        .cloned()
        .or_else(|| rec.source().cloned());
    match value {
        Some(v) => Field::value(v, at),
        None => Field::absent(at),
    }
}

/// Like [`model_field`] with a documented default for an absent element.
fn defaulted<R: model::Record>(rec: &R, key: &str, value: Option<bool>, default: bool) -> Field {
    let field = model_field(rec, key, value.map(Value::Bool));
    if matches!(field.fact, Fact::Absent { .. }) {
        Field {
            fact: Fact::Value(Value::Bool(default)),
            origin: field.origin,
            note: Some(format!("element absent; Salesforce's default is {default}")),
        }
    } else {
        field
    }
}

/// Like [`defaulted`] for a string element whose absence has a documented meaning.
fn defaulted_str<R: model::Record>(
    rec: &R,
    key: &str,
    value: &Option<String>,
    default: &str,
    meaning: &str,
) -> Field {
    let field = model_field(rec, key, str_v(value));
    if matches!(field.fact, Fact::Absent { .. }) {
        Field {
            fact: Fact::Value(Value::Str(default.to_string())),
            origin: field.origin,
            note: Some(format!("element absent; {meaning}")),
        }
    } else {
        field
    }
}

fn str_v(s: &Option<String>) -> Option<Value> {
    s.as_ref().map(|s| Value::Str(s.clone()))
}

fn list_v(l: &Option<Vec<String>>) -> Option<Value> {
    l.as_ref()
        .map(|l| Value::List(l.iter().map(|s| Value::Str(s.clone())).collect()))
}

fn strs(items: impl IntoIterator<Item = String>) -> Value {
    Value::List(items.into_iter().map(Value::Str).collect())
}

/// A collection of records, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSet {
    /// `Err(reason)` when not collected.
    pub records: Result<Vec<Object>, String>,
    pub origin: Option<Origin>,
    /// Records whose exact name was not collected (e.g. a SOQL `Name` that may be the label
    /// when readMetadata was refused): `(name shown, reason)`. A lookup that misses cannot
    /// then prove the record is absent.
    pub uncertain: Vec<(String, String)>,
}

impl RecordSet {
    /// The record with exactly this name.
    pub fn find(&self, name: &str) -> Option<&Object> {
        self.records
            .as_ref()
            .ok()?
            .iter()
            .find(|o| o.name.as_deref() == Some(name))
    }

    /// All record names.
    pub fn names(&self) -> Vec<&str> {
        match &self.records {
            Ok(records) => records.iter().filter_map(|o| o.name.as_deref()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A root of the view.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// A single fact (usually an object): `org`, `integration_user`, ….
    Single(Field),
    /// A collection of named records: `connected_apps`, ….
    Set(RecordSet),
}

/// Inputs to the audit that are not in the snapshot.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--integration-user`.
    pub integration_user: Option<String>,
    /// `--my-domain`: overrides what the snapshot says.
    pub my_domain: Option<String>,
    /// `--refresh-token-days`.
    pub refresh_token_days: Option<u32>,
    /// `AIRCALL_API_ID`, for AIR007.
    pub aircall_api_id: Option<String>,
    /// Labels of the ECI access permission sets (USR006).
    pub eci_access_labels: Vec<String>,
    /// API names accepted for "Conversation Insights Integration User" besides its label.
    pub integration_permission_set_names: Vec<String>,
    /// API names accepted for "Voice Connector Permission" besides its label.
    pub voice_connector_permission_set_names: Vec<String>,
    /// Namespace of the Voice Connector package, when known.
    pub voice_connector_namespace: Option<String>,
    /// `sessionLevel` values that mean a high-assurance session (CAP013; UNCONFIRMED literal).
    pub high_assurance_session_levels: Vec<String>,
    /// Today, for expired assignments (fixed in tests).
    pub today: NaiveDate,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            integration_user: None,
            my_domain: None,
            refresh_token_days: None,
            aircall_api_id: None,
            eci_access_labels: DEFAULT_ECI_ACCESS_LABELS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            integration_permission_set_names: Vec::new(),
            voice_connector_permission_set_names: Vec::new(),
            voice_connector_namespace: None,
            high_assurance_session_levels: vec!["HIGH_ASSURANCE".to_string()],
            today: chrono::Utc::now().date_naive(),
        }
    }
}

/// The ECI access permission sets the Salesforce Help pages list (reference §1.3).
pub const DEFAULT_ECI_ACCESS_LABELS: [&str; 6] = [
    "Conversation Insights for Sales",
    "Sales Engagement Conversation Insights",
    "Einstein Conversation Insights Included",
    "Einstein Conversation Insights Standard",
    "Sales Cloud Bundle Included",
    "Conversation Insights for Service",
];

/// The label of the integration-user permission set (the guide's wording).
pub const INTEGRATION_PERMISSION_SET_LABEL: &str = "Conversation Insights Integration User";
/// The label of the guest user's Voice Connector permission set.
pub const VOICE_CONNECTOR_PERMISSION_SET_LABEL: &str = "Voice Connector Permission";

/// What rules evaluate against.
#[derive(Debug, Clone)]
pub struct FactView {
    pub roots: BTreeMap<String, Root>,
    /// What kind of source the snapshot came from (for messages).
    pub source_kind: SourceKind,
}

/// The facts each root of the view defines, as dotted paths: what rule files may name.
/// A test keeps this list equal to what [`FactView::build`] produces.
pub fn known_fields(root: &str) -> &'static [&'static str] {
    const USER: &[&str] = &[
        "id",
        "username",
        "name",
        "is_active",
        "profile_name",
        "permission_set_labels",
        "permission_set_names",
        "api_enabled",
        "call_coaching_user",
        "voice_call_read",
        "access_names",
    ];
    match root {
        "org" => &[
            "id",
            "name",
            "edition",
            "eci_enabled",
            "voice_call_object_available",
            "my_domain",
            "expected_callback_url",
            "installed_package_names",
            "installed_package_namespaces",
            "sites_domains",
        ],
        "config" => &[
            "refresh_token_days",
            "aircall_api_id",
            "voice_connector_namespace",
            "eci_access_labels",
            "integration_permission_set_names",
            "voice_connector_permission_set_names",
        ],
        "integration_user" | "guest_user" => USER,
        "aircall" => &["api_id", "ping_ok", "detail"],
        "connected_apps" => &[
            "label",
            "contact_email",
            "oauth_config",
            "oauth_config.callback_url",
            "oauth_config.callback_urls",
            "oauth_config.consumer_key_fingerprint",
            "oauth_config.is_admin_approved",
            "oauth_config.is_consumer_secret_optional",
            "oauth_config.is_secret_required_for_refresh_token",
            "oauth_config.scopes",
            "oauth_policy",
            "oauth_policy.ip_relaxation",
            "oauth_policy.refresh_token_policy",
            "oauth_policy.refresh_token_days",
            "high_assurance_required",
            "profile_names",
            "permission_set_names",
            "access_list",
        ],
        "external_client_apps" => &[],
        "auth_providers" => &["friendly_name", "provider_type", "consumer_key_fingerprint"],
        "named_credentials" => &[
            "label",
            "endpoint",
            "named_credential_type",
            "principal_type",
            "protocol",
            "username",
            "auth_provider",
            "oauth_scope",
            "generate_authorization_header",
            "allow_merge_fields_in_header",
            "allow_merge_fields_in_body",
            "authenticated_as",
        ],
        "sites" => &[
            "label",
            "active",
            "index_page",
            "clickjack_protection_level",
            "site_admin",
            "site_admin.username",
            "site_admin.is_active",
            "site_admin.profile_name",
            "default_record_owner",
            "default_record_owner.username",
            "default_record_owner.is_active",
            "default_record_owner.profile_name",
            "subdomain",
        ],
        _ => &[],
    }
}

/// Trims, collapses inner whitespace and folds case: how labels are compared.
pub fn normalize_label(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A resolved path.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved<'a> {
    pub fact: std::borrow::Cow<'a, Fact>,
    pub origin: Option<&'a Origin>,
    pub note: Option<&'a str>,
}

impl FactView {
    /// Builds the view. Pure: no I/O.
    pub fn build(snapshot: &Snapshot, settings: &Settings) -> FactView {
        Builder::new(snapshot, settings).build()
    }

    /// Looks up a root.
    pub fn root(&self, name: &str) -> Option<&Root> {
        self.roots.get(name)
    }

    /// Resolves a path such as `org.my_domain` or `connected_apps[ECIConnectedApp].label`.
    /// `None` means the path names no root or field that the view defines (a rule bug, caught
    /// by rule validation against a healthy view).
    pub fn resolve(&self, path: &str) -> Option<Resolved<'_>> {
        let (root_part, rest) = match path.find('.') {
            Some(i) => (&path[..i], Some(&path[i + 1..])),
            None => (path, None),
        };
        let (root_name, record) = match root_part.find('[') {
            Some(i) if root_part.ends_with(']') => (
                &root_part[..i],
                Some(&root_part[i + 1..root_part.len() - 1]),
            ),
            _ => (root_part, None),
        };
        let root = self.roots.get(root_name)?;
        let start: Resolved<'_> = match (root, record) {
            (Root::Single(field), None) => Resolved {
                fact: std::borrow::Cow::Borrowed(&field.fact),
                origin: field.origin.as_ref(),
                note: field.note.as_deref(),
            },
            (Root::Set(set), Some(name)) => match &set.records {
                Err(reason) => Resolved {
                    fact: std::borrow::Cow::Owned(Fact::NotCollected {
                        reason: reason.clone(),
                    }),
                    origin: set.origin.as_ref(),
                    note: None,
                },
                Ok(_) => match set.find(name) {
                    Some(obj) => {
                        return match rest {
                            None => Some(Resolved {
                                fact: std::borrow::Cow::Owned(Fact::Value(Value::Object(
                                    obj.clone(),
                                ))),
                                origin: obj.origin.as_ref(),
                                note: None,
                            }),
                            Some(rest) => resolve_in(obj, rest),
                        };
                    }
                    None => Resolved {
                        fact: std::borrow::Cow::Owned(Fact::Absent {
                            detail: Some(format!("no {root_name} record named `{name}`")),
                        }),
                        origin: set.origin.as_ref(),
                        note: None,
                    },
                },
            },
            _ => return None,
        };
        match rest {
            None => Some(start),
            Some(rest) => match start.fact.as_ref() {
                Fact::Value(Value::Object(_)) => {
                    let Root::Single(Field {
                        fact: Fact::Value(Value::Object(obj)),
                        ..
                    }) = root
                    else {
                        return None;
                    };
                    resolve_in(obj, rest)
                }
                // Walking into something absent or uncollected keeps that state.
                Fact::Absent { .. } | Fact::NotCollected { .. } => Some(start),
                Fact::Value(_) => None,
            },
        }
    }
}

/// Resolves a dotted path inside an object.
pub fn resolve_in<'a>(obj: &'a Object, path: &str) -> Option<Resolved<'a>> {
    let mut current = obj;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let field = current.fields.get(part)?;
        let last = parts.peek().is_none();
        match (&field.fact, last) {
            (_, true) => {
                return Some(Resolved {
                    fact: std::borrow::Cow::Borrowed(&field.fact),
                    origin: field.origin.as_ref().or(current.origin.as_ref()),
                    note: field.note.as_deref(),
                });
            }
            (Fact::Value(Value::Object(inner)), false) => current = inner,
            (Fact::Value(_), false) => return None,
            (Fact::Absent { .. } | Fact::NotCollected { .. }, false) => {
                return Some(Resolved {
                    fact: std::borrow::Cow::Borrowed(&field.fact),
                    origin: field.origin.as_ref().or(current.origin.as_ref()),
                    note: field.note.as_deref(),
                });
            }
        }
    }
    None
}

struct Builder<'a> {
    snap: &'a Snapshot,
    settings: &'a Settings,
    // Only the small tables are indexed; users and assignments (the large ones) are scanned a
    // fixed handful of times for the few users the rules look at, which is cheaper than
    // hashing 50,000 users and 200,000 assignments.
    sets_by_id: HashMap<&'a str, &'a model::PermissionSet>,
    profile_set_by_profile: HashMap<&'a str, &'a model::PermissionSet>,
    object_perms_by_parent: HashMap<&'a str, Vec<&'a model::ObjectPermission>>,
}

impl<'a> Builder<'a> {
    fn new(snap: &'a Snapshot, settings: &'a Settings) -> Self {
        let mut b = Builder {
            snap,
            settings,
            sets_by_id: HashMap::new(),
            profile_set_by_profile: HashMap::new(),
            object_perms_by_parent: HashMap::new(),
        };
        for p in &snap.permission_sets.items {
            b.sets_by_id.insert(&p.id, p);
            if p.is_owned_by_profile == Some(true)
                && let Some(profile) = &p.profile_id
            {
                b.profile_set_by_profile.insert(profile, p);
            }
        }
        for op in &snap.object_permissions.items {
            b.object_perms_by_parent
                .entry(&op.parent_id)
                .or_default()
                .push(op);
        }
        b
    }

    /// Whether `users` holds only the users a collection looked for (a live org, a metadata
    /// directory merged with one) rather than every relevant user (a hand-written snapshot).
    fn users_partial(&self) -> bool {
        self.snap.source.kind != SourceKind::Manual
    }

    fn user_by_id(&self, id: &str) -> Option<&'a model::User> {
        self.snap.users.items.iter().find(|u| u.id == id)
    }

    fn user_by_name(&self, name: &str) -> Option<&'a model::User> {
        self.snap
            .users
            .items
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(name))
    }

    fn assignments_of(
        &self,
        user_id: &'a str,
    ) -> impl Iterator<Item = &'a model::PermissionSetAssignment> + 'a {
        self.snap
            .permission_set_assignments
            .items
            .iter()
            .filter(move |a| a.assignee_id == user_id)
    }

    fn build(self) -> FactView {
        let mut roots = BTreeMap::new();
        roots.insert("config".to_string(), Root::Single(self.config()));
        roots.insert("org".to_string(), Root::Single(self.org()));
        let (integration_user, _) = self.integration_user();
        roots.insert(
            "integration_user".to_string(),
            Root::Single(integration_user),
        );
        roots.insert("guest_user".to_string(), Root::Single(self.guest_user()));
        roots.insert("aircall".to_string(), Root::Single(self.aircall()));
        roots.insert(
            "connected_apps".to_string(),
            Root::Set(self.set(&self.snap.connected_apps, |r| self.connected_app(r))),
        );
        roots.insert(
            "external_client_apps".to_string(),
            Root::Set(self.set(&self.snap.external_client_apps, |r| {
                Object::new(Some(r.full_name.clone()), r.source.clone())
            })),
        );
        roots.insert(
            "auth_providers".to_string(),
            Root::Set(self.set(&self.snap.auth_providers, |r| self.auth_provider(r))),
        );
        roots.insert(
            "named_credentials".to_string(),
            Root::Set(self.set(&self.snap.named_credentials, |r| self.named_credential(r))),
        );
        roots.insert(
            "sites".to_string(),
            Root::Set(self.set(&self.snap.sites, |r| self.site(r))),
        );
        FactView {
            roots,
            source_kind: self.snap.source.kind,
        }
    }

    fn set<T: model::Record>(&self, c: &Collection<T>, f: impl Fn(&T) -> Object) -> RecordSet {
        let uncertain = c
            .items
            .iter()
            .filter_map(|r| {
                let reason = r.not_collected().get("full_name")?;
                Some((f(r).name.unwrap_or_default(), reason.clone()))
            })
            .collect();
        RecordSet {
            records: match c.available() {
                Ok(items) => Ok(items.iter().map(f).collect()),
                Err(reason) => Err(reason.to_string()),
            },
            origin: c.source.clone(),
            uncertain,
        }
    }

    fn config(&self) -> Field {
        let s = self.settings;
        let mut o = Object::new(None, None);
        let input = |key: &str| {
            Some(Origin::Input {
                key: key.to_string(),
            })
        };
        let opt_str = |v: &Option<String>, key: &str| match v {
            Some(v) => Field::value(Value::Str(v.clone()), input(key)),
            None => Field::absent(None),
        };
        o.put(
            "refresh_token_days",
            match s.refresh_token_days {
                Some(n) => Field::value(Value::Int(i64::from(n)), input("refresh_token_days")),
                None => Field::absent(None),
            },
        );
        // The API ID of a live Aircall check travels in the snapshot, so that an offline
        // check of a collected snapshot reproduces the live results.
        let snapshot_api_id = self.snap.aircall.as_ref().and_then(|a| a.api_id.clone());
        o.put(
            "aircall_api_id",
            opt_str(
                &s.aircall_api_id.clone().or(snapshot_api_id),
                "AIRCALL_API_ID",
            ),
        );
        o.put(
            "voice_connector_namespace",
            opt_str(&s.voice_connector_namespace, "voice_connector_namespace"),
        );
        o.put(
            "eci_access_labels",
            Field::value(
                strs(s.eci_access_labels.clone()),
                input("eci_access_labels"),
            ),
        );
        let names_or_absent = |names: &Vec<String>, key: &str| {
            if names.is_empty() {
                Field::absent(None)
            } else {
                Field::value(strs(names.clone()), input(key))
            }
        };
        o.put(
            "integration_permission_set_names",
            names_or_absent(
                &s.integration_permission_set_names,
                "integration_permission_set_names",
            ),
        );
        o.put(
            "voice_connector_permission_set_names",
            names_or_absent(
                &s.voice_connector_permission_set_names,
                "voice_connector_permission_set_names",
            ),
        );
        Field::value(Value::Object(o), None)
    }

    /// The My Domain origin: `--my-domain` first, then the snapshot's, then the instance URL.
    fn my_domain(&self) -> Field {
        let org = &self.snap.org;
        let candidates = [
            (
                self.settings.my_domain.as_ref(),
                Some(Origin::Input {
                    key: "my_domain".to_string(),
                }),
            ),
            (
                org.my_domain.as_ref(),
                org.locations
                    .get("my_domain")
                    .cloned()
                    .or(org.source.clone()),
            ),
            (
                org.instance_url.as_ref(),
                org.locations
                    .get("instance_url")
                    .cloned()
                    .or(org.source.clone()),
            ),
        ];
        for (value, origin) in candidates {
            if let Some(v) = value {
                return match url_origin(v) {
                    Some(origin_url) => Field::value(Value::Str(origin_url), origin),
                    None => Field::value(Value::Str(v.clone()), origin)
                        .with_note("not a URL with a scheme and host"),
                };
            }
        }
        if let Some(reason) = org.not_collected.get("my_domain") {
            return Field::not_collected(reason.clone());
        }
        Field::not_collected(match self.snap.source.kind {
            SourceKind::MetadataDir => {
                "a metadata directory does not say the org's My Domain; pass --my-domain"
            }
            _ => "the snapshot has no My Domain or instance URL; pass --my-domain",
        })
    }

    fn org(&self) -> Field {
        let org = &self.snap.org;
        let mut o = Object::new(org.name.clone(), org.source.clone());
        o.put_opt(org, "id", str_v(&org.id));
        o.put_opt(org, "name", str_v(&org.name));
        o.put_opt(org, "edition", str_v(&org.edition));
        o.put_opt(org, "eci_enabled", org.eci_enabled.map(Value::Bool));
        o.put_opt(
            org,
            "voice_call_object_available",
            org.voice_call_object_available.map(Value::Bool),
        );
        let my_domain = self.my_domain();
        let expected_callback = match &my_domain.fact {
            Fact::Value(Value::Str(d)) => Field {
                fact: Fact::Value(Value::Str(format!(
                    "{}/services/authcallback/ECIAuthProvider",
                    d.trim_end_matches('/')
                ))),
                origin: my_domain.origin.clone(),
                note: Some("derived from the My Domain".to_string()),
            },
            other => Field {
                fact: other.clone(),
                origin: my_domain.origin.clone(),
                note: None,
            },
        };
        o.put("my_domain", my_domain);
        o.put("expected_callback_url", expected_callback);
        // Installed packages.
        let pk = &org.installed_packages;
        match pk.available() {
            Ok(items) => {
                o.put(
                    "installed_package_names",
                    Field::value(
                        strs(items.iter().map(|p| p.name.clone())),
                        pk.source.clone(),
                    ),
                );
                o.put(
                    "installed_package_namespaces",
                    Field::value(
                        strs(items.iter().filter_map(|p| p.namespace.clone())),
                        pk.source.clone(),
                    ),
                );
            }
            Err(reason) => {
                o.put("installed_package_names", Field::not_collected(reason));
                o.put("installed_package_namespaces", Field::not_collected(reason));
            }
        }
        o.put("sites_domains", self.sites_domains());
        Field::value(Value::Object(o), org.source.clone())
    }

    /// Registered Sites domains: `Domain` rows of a Sites kind, plus site subdomains.
    fn sites_domains(&self) -> Field {
        let mut found: Vec<String> = Vec::new();
        let mut origin = None;
        if let Ok(sites) = self.snap.sites.available() {
            for s in sites {
                if let Some(sub) = s.subdomain.as_ref().filter(|d| !d.trim().is_empty()) {
                    found.push(sub.clone());
                    origin = origin
                        .or_else(|| s.locations.get("subdomain").cloned().or(s.source.clone()));
                }
            }
        }
        match self.snap.domains.available() {
            Ok(domains) => {
                for d in domains {
                    let kind = format!(
                        "{} {}",
                        d.domain_type.as_deref().unwrap_or(""),
                        d.https_option.as_deref().unwrap_or("")
                    )
                    .to_lowercase();
                    if kind.contains("site") || kind.contains("community") {
                        found.push(d.domain.clone());
                        origin = origin.or_else(|| d.source.clone());
                    }
                }
                Field::value(strs(found), origin.or(self.snap.domains.source.clone()))
            }
            Err(reason) if found.is_empty() => Field::not_collected(reason),
            Err(_) => Field::value(strs(found), origin),
        }
    }

    fn user_is_guest(&self, u: &model::User) -> bool {
        u.user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("guest"))
    }

    /// Effective permission sets of a user: the profile's own set plus active, unexpired
    /// assignments. `Err` when the data to decide is missing.
    fn sets_of(&self, user: &model::User) -> Result<Vec<&'a model::PermissionSet>, String> {
        self.snap
            .permission_set_assignments
            .available()
            .map_err(|r| format!("permission set assignments: {r}"))?;
        self.snap
            .permission_sets
            .available()
            .map_err(|r| format!("permission sets: {r}"))?;
        let mut out: Vec<&model::PermissionSet> = Vec::new();
        if let Some(pid) = &user.profile_id
            && let Some(ps) = self.profile_set_by_profile.get(pid.as_str())
        {
            out.push(ps);
        }
        for a in self.assignments_of(&user.id) {
            if a.is_active == Some(false) {
                continue;
            }
            if let Some(exp) = &a.expiration_date
                && let Ok(date) =
                    NaiveDate::parse_from_str(exp.get(..10).unwrap_or(exp), "%Y-%m-%d")
                && date < self.settings.today
            {
                continue;
            }
            match self.sets_by_id.get(a.permission_set_id.as_str()) {
                Some(ps) if !out.iter().any(|p| p.id == ps.id) => out.push(ps),
                Some(_) => {}
                // What an unknown set grants cannot be told.
                None => {
                    return Err(format!(
                        "permission set {} assigned to `{}` is not in the snapshot",
                        a.permission_set_id, user.username
                    ));
                }
            }
        }
        Ok(out)
    }

    /// A user as an object with the facts rules read about it.
    fn user_object(&self, user: &model::User) -> Object {
        let origin = user.source.clone().or(Some(Origin::Record {
            object: "User".to_string(),
            id: Some(user.id.clone()),
        }));
        let mut o = Object::new(Some(user.username.clone()), origin.clone());
        o.put(
            "id",
            Field::value(Value::Str(user.id.clone()), origin.clone()),
        );
        o.put(
            "username",
            Field::value(Value::Str(user.username.clone()), origin.clone()),
        );
        o.put_opt(user, "name", str_v(&user.name));
        o.put_opt(user, "is_active", user.is_active.map(Value::Bool));
        o.put_opt(user, "profile_name", str_v(&user.profile_name));
        match self.sets_of(user) {
            Err(reason) => {
                for key in [
                    "permission_set_labels",
                    "permission_set_names",
                    "api_enabled",
                    "call_coaching_user",
                    "voice_call_read",
                    "access_names",
                ] {
                    o.put(key, Field::not_collected(reason.clone()));
                }
            }
            Ok(sets) => {
                // Without the profile's own permission set, a "no" from the assigned sets
                // proves nothing: the profile may grant it.
                let profile_gap = if sets.iter().any(|p| p.is_owned_by_profile == Some(true)) {
                    None
                } else {
                    Some(match &user.profile_name {
                        Some(name) => format!(
                            "the permissions of profile `{name}` (its profile-owned permission set) are not in the snapshot"
                        ),
                        None => "the user's profile and its permissions are not in the snapshot"
                            .to_string(),
                    })
                };
                let unless_gap = |f: Field| match (&f.fact, &profile_gap) {
                    (Fact::Value(Value::Bool(false)), Some(gap)) => {
                        Field::not_collected(gap.clone())
                    }
                    _ => f,
                };
                let assigned: Vec<&&model::PermissionSet> = sets
                    .iter()
                    .filter(|p| p.is_owned_by_profile != Some(true))
                    .collect();
                o.put(
                    "permission_set_labels",
                    Field::value(
                        strs(assigned.iter().filter_map(|p| p.label.clone())),
                        origin.clone(),
                    ),
                );
                o.put(
                    "permission_set_names",
                    Field::value(
                        strs(assigned.iter().flat_map(|p| {
                            let mut names = Vec::new();
                            if let Some(n) = &p.name {
                                names.push(n.clone());
                                if let Some(ns) = p.namespace.as_ref().filter(|ns| !ns.is_empty()) {
                                    names.push(format!("{ns}__{n}"));
                                }
                            }
                            names
                        })),
                        origin.clone(),
                    ),
                );
                o.put(
                    "api_enabled",
                    unless_gap(any_flag(&sets, "api_enabled", |p| p.api_enabled, &origin)),
                );
                o.put(
                    "call_coaching_user",
                    unless_gap(any_flag(
                        &sets,
                        "call_coaching_user",
                        |p| p.call_coaching_user,
                        &origin,
                    )),
                );
                let voice = self.voice_call_read(&sets, &origin);
                // A missing VoiceCall object is proof on its own.
                let voice = if self.snap.org.voice_call_object_available == Some(false) {
                    voice
                } else {
                    unless_gap(voice)
                };
                o.put("voice_call_read", voice);
                let mut access: Vec<String> = Vec::new();
                if let Some(p) = &user.profile_name {
                    access.push(p.clone());
                }
                for p in &assigned {
                    access.extend(p.label.clone());
                    access.extend(p.name.clone());
                }
                o.put("access_names", Field::value(strs(access), origin.clone()));
            }
        }
        o
    }

    fn voice_call_read(&self, sets: &[&model::PermissionSet], origin: &Option<Origin>) -> Field {
        if self.snap.org.voice_call_object_available == Some(false) {
            return Field::value(Value::Bool(false), origin.clone()).with_note(
                "the VoiceCall object is not available in this org, or not visible to the auditing user (describe returned 404)",
            );
        }
        if let Err(reason) = self.snap.object_permissions.available() {
            return Field::not_collected(format!("object permissions: {reason}"));
        }
        for ps in sets {
            for op in self
                .object_perms_by_parent
                .get(ps.id.as_str())
                .into_iter()
                .flatten()
            {
                if op.object.eq_ignore_ascii_case("VoiceCall") && op.read {
                    let via = ps
                        .label
                        .clone()
                        .or(ps.name.clone())
                        .unwrap_or(ps.id.clone());
                    return Field::value(
                        Value::Bool(true),
                        op.source.clone().or(Some(Origin::Record {
                            object: "ObjectPermissions".to_string(),
                            id: None,
                        })),
                    )
                    .with_note(format!("Read on VoiceCall granted by `{via}`"));
                }
            }
        }
        Field::value(Value::Bool(false), origin.clone())
            .with_note("no profile or assigned permission set grants Read on VoiceCall")
    }

    /// The integration user: the configured username, or the single active non-guest user
    /// holding the integration permission set. Returns the field and the user, if resolved.
    fn integration_user(&self) -> (Field, Option<&'a model::User>) {
        let users = match self.snap.users.available() {
            Ok(users) => users,
            Err(reason) => return (Field::not_collected(format!("users: {reason}")), None),
        };
        // The configured user, else the one the snapshot was collected for.
        let collected_for = self.snap.source.integration_user.as_ref();
        if let Some(wanted) = self.settings.integration_user.as_ref().or(collected_for) {
            if let Some(u) = self.user_by_name(wanted) {
                return (
                    Field::value(Value::Object(self.user_object(u)), u.source.clone()),
                    Some(u),
                );
            }
            // A live collection holds only the users it looked for: a miss proves absence only
            // for the user it was collected for.
            let looked_for = collected_for.is_some_and(|c| c.eq_ignore_ascii_case(wanted));
            if self.users_partial() && !looked_for {
                return (
                    Field::not_collected(format!(
                        "`{wanted}` is not among the users in this snapshot, which was collected for {}; collect again with --integration-user {wanted}",
                        collected_for
                            .map_or("the detected candidates".to_string(), |c| format!("`{c}`"))
                    )),
                    None,
                );
            }
            return (
                Field::absent_because(
                    format!("no user with username `{wanted}` in the org"),
                    self.snap.users.source.clone(),
                ),
                None,
            );
        }
        // Detect: active, non-guest users holding the integration permission set.
        if let Err(reason) = self.snap.permission_sets.available() {
            return (
                Field::not_collected(format!(
                    "no --integration-user given and permission sets were not collected to detect it: {reason}"
                )),
                None,
            );
        }
        if let Err(reason) = self.snap.permission_set_assignments.available() {
            return (
                Field::not_collected(format!(
                    "no --integration-user given and assignments were not collected to detect it: {reason}"
                )),
                None,
            );
        }
        let wanted_label = normalize_label(INTEGRATION_PERMISSION_SET_LABEL);
        let names: Vec<String> = self
            .settings
            .integration_permission_set_names
            .iter()
            .map(|n| n.to_lowercase())
            .collect();
        // The sets that make a user a candidate, then one pass over the assignments.
        let wanted_sets: std::collections::HashSet<&str> = self
            .snap
            .permission_sets
            .items
            .iter()
            .filter(|p| {
                p.label.as_deref().map(normalize_label).as_deref() == Some(wanted_label.as_str())
                    || p.name
                        .as_ref()
                        .is_some_and(|n| names.contains(&n.to_lowercase()))
            })
            .map(|p| p.id.as_str())
            .collect();
        let holders: std::collections::HashSet<&str> = self
            .snap
            .permission_set_assignments
            .items
            .iter()
            .filter(|a| {
                a.is_active != Some(false) && wanted_sets.contains(a.permission_set_id.as_str())
            })
            .map(|a| a.assignee_id.as_str())
            .collect();
        let mut candidates: Vec<&model::User> = users
            .iter()
            .filter(|u| holders.contains(u.id.as_str()))
            .filter(|u| u.is_active != Some(false) && !self.user_is_guest(u))
            .collect();
        candidates.sort_by(|a, b| a.username.cmp(&b.username));
        match candidates.as_slice() {
            [one] => (
                Field::value(Value::Object(self.user_object(one)), one.source.clone())
                    .with_note(format!("detected: the only active user holding `{INTEGRATION_PERMISSION_SET_LABEL}`")),
                Some(one),
            ),
            [] => (
                Field::absent_because(
                    format!(
                        "no --integration-user given and no active, non-guest user holds `{INTEGRATION_PERMISSION_SET_LABEL}`"
                    ),
                    self.snap.permission_set_assignments.source.clone(),
                ),
                None,
            ),
            many => {
                let list: Vec<&str> = many.iter().map(|u| u.username.as_str()).collect();
                (
                    Field::absent_because(
                        format!(
                            "{} candidates hold `{INTEGRATION_PERMISSION_SET_LABEL}`: {}; pass --integration-user to pick one",
                            many.len(),
                            list.join(", ")
                        ),
                        self.snap.permission_set_assignments.source.clone(),
                    ),
                    None,
                )
            }
        }
    }

    /// The site `VoiceConnector`'s guest user.
    fn guest_user(&self) -> Field {
        let sites = match self.snap.sites.available() {
            Ok(s) => s,
            Err(reason) => return Field::not_collected(format!("sites: {reason}")),
        };
        let Some(site) = sites.iter().find(|s| s.full_name == "VoiceConnector") else {
            return Field::absent_because(
                "there is no site `VoiceConnector`",
                self.snap.sites.source.clone(),
            );
        };
        let Some(guest_id) = &site.guest_user_id else {
            if let Some(reason) = site.not_collected.get("guest_user_id") {
                return Field::not_collected(reason.clone());
            }
            return match self.snap.source.kind {
                SourceKind::MetadataDir => {
                    Field::not_collected("the guest user is not in a metadata directory")
                }
                _ => Field::not_collected("the site's guest user Id was not collected"),
            };
        };
        match self.snap.users.available() {
            Err(reason) => Field::not_collected(format!("users: {reason}")),
            Ok(_) => match self.user_by_id(guest_id) {
                Some(u) => Field::value(Value::Object(self.user_object(u)), u.source.clone()),
                None => Field::not_collected(format!(
                    "the guest user {guest_id} is not among the collected users"
                )),
            },
        }
    }

    fn aircall(&self) -> Field {
        match &self.snap.aircall {
            None => Field::not_collected(
                "the Aircall API check was not run (set AIRCALL_API_ID and AIRCALL_API_TOKEN for a live audit)",
            ),
            Some(a) => {
                let mut o = Object::new(None, a.source.clone());
                o.put_opt(a, "api_id", str_v(&a.api_id));
                o.put_opt(a, "ping_ok", a.ping_ok.map(Value::Bool));
                o.put_opt(a, "detail", str_v(&a.detail));
                Field::value(Value::Object(o), a.source.clone())
            }
        }
    }

    fn connected_app(&self, r: &model::ConnectedApp) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        o.put_opt(r, "label", str_v(&r.label));
        o.put_opt(r, "contact_email", str_v(&r.contact_email));
        let oauth = match (&r.oauth_config, r.not_collected.get("oauth_config")) {
            (_, Some(reason)) => Field::not_collected(reason.clone()),
            (None, None) => Field::absent(r.source.clone()),
            (Some(c), None) => {
                let mut oc = Object::new(None, c.source.clone().or(r.source.clone()));
                oc.put_opt(c, "callback_url", str_v(&c.callback_url));
                let urls = c.callback_url.as_ref().map(|u| {
                    strs(
                        u.split(['\n', '\r'])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(String::from),
                    )
                });
                let mut f = model_field(c, "callback_url", urls);
                f.note = None;
                oc.put("callback_urls", f);
                oc.put_opt(
                    c,
                    "consumer_key_fingerprint",
                    str_v(&c.consumer_key_fingerprint),
                );
                let admin = match (c.is_admin_approved, r.admin_approved_users_only) {
                    (None, Some(v)) if !c.not_collected.contains_key("is_admin_approved") => {
                        Field::value(
                            Value::Bool(v),
                            r.locations
                                .get("admin_approved_users_only")
                                .cloned()
                                .or(r.source.clone()),
                        )
                    }
                    _ => defaulted(c, "is_admin_approved", c.is_admin_approved, false),
                };
                oc.put("is_admin_approved", admin);
                oc.put(
                    "is_consumer_secret_optional",
                    defaulted(
                        c,
                        "is_consumer_secret_optional",
                        c.is_consumer_secret_optional,
                        false,
                    ),
                );
                oc.put(
                    "is_secret_required_for_refresh_token",
                    defaulted(
                        c,
                        "is_secret_required_for_refresh_token",
                        c.is_secret_required_for_refresh_token,
                        true,
                    ),
                );
                oc.put_opt(c, "scopes", list_v(&c.scopes));
                Field::value(Value::Object(oc), c.source.clone().or(r.source.clone()))
            }
        };
        o.put("oauth_config", oauth);
        let default_policy = model::OauthPolicy {
            source: r.source.clone(),
            ..model::OauthPolicy::default()
        };
        let policy = match (&r.oauth_policy, r.not_collected.get("oauth_policy")) {
            (_, Some(reason)) => Field::not_collected(reason.clone()),
            (p, None) => {
                // An absent oauthPolicy (or element) means Salesforce's defaults.
                let p = p.as_ref().unwrap_or(&default_policy);
                let mut po = Object::new(None, p.source.clone().or(r.source.clone()));
                po.put(
                    "ip_relaxation",
                    defaulted_str(
                        p,
                        "ip_relaxation",
                        &p.ip_relaxation,
                        "ENFORCE",
                        "Salesforce's default is ENFORCE",
                    ),
                );
                po.put(
                    "refresh_token_policy",
                    defaulted_str(
                        p,
                        "refresh_token_policy",
                        &p.refresh_token_policy,
                        "infinite",
                        "Salesforce's default is infinite (valid until revoked)",
                    ),
                );
                let days = p
                    .refresh_token_policy
                    .as_deref()
                    .and_then(refresh_token_days);
                let mut f = model_field(p, "refresh_token_policy", days.map(Value::Int));
                if days.is_none() && !matches!(f.fact, Fact::NotCollected { .. }) {
                    f = Field::absent(f.origin)
                        .with_note("the policy is not `specific_lifetime:N:DAYS`");
                }
                po.put("refresh_token_days", f);
                Field::value(Value::Object(po), p.source.clone().or(r.source.clone()))
            }
        };
        o.put("oauth_policy", policy);
        // High assurance: metadata sessionLevel, or SOQL OptionsHasSessionLevelPolicy.
        let high = match (&r.session_policy, r.has_session_level_policy) {
            (Some(sp), _) => {
                let level = sp.session_level.as_deref().unwrap_or("");
                let levels = &self.settings.high_assurance_session_levels;
                Field::value(
                    Value::Bool(levels.iter().any(|l| l.eq_ignore_ascii_case(level.trim()))),
                    sp.locations
                        .get("session_level")
                        .cloned()
                        .or(sp.source.clone()),
                )
                // The literal is not documented for connected apps (reference §7 U8).
                .with_note(format!(
                    "sessionLevel `{level}`; assumed high assurance: {} (UNCONFIRMED; config high_assurance_session_levels)",
                    levels.join(", ")
                ))
            }
            (None, Some(v)) => Field::value(
                Value::Bool(v),
                r.locations
                    .get("has_session_level_policy")
                    .cloned()
                    .or(r.source.clone()),
            ),
            (None, None) => match r.not_collected.get("session_policy") {
                Some(reason) => Field::not_collected(reason.clone()),
                None => Field::value(Value::Bool(false), r.source.clone())
                    .with_note("no session policy: high assurance is not required"),
            },
        };
        o.put("high_assurance_required", high);
        o.put_opt(r, "profile_names", list_v(&r.profile_names));
        o.put_opt(r, "permission_set_names", list_v(&r.permission_set_names));
        // Who may use the app: profiles plus permission sets; either part missing leaves the
        // list incomplete.
        let parts = [
            model_field(r, "profile_names", list_v(&r.profile_names)),
            model_field(r, "permission_set_names", list_v(&r.permission_set_names)),
        ];
        let access = match parts.iter().find_map(|f| match &f.fact {
            Fact::NotCollected { reason } => Some(reason.clone()),
            _ => None,
        }) {
            Some(reason) => Field::not_collected(reason),
            None => {
                let mut all: Vec<Value> = Vec::new();
                for f in &parts {
                    if let Fact::Value(Value::List(items)) = &f.fact {
                        all.extend(items.iter().cloned());
                    }
                }
                Field::value(Value::List(all), parts[0].origin.clone())
            }
        };
        o.put("access_list", access);
        o
    }

    fn auth_provider(&self, r: &model::AuthProvider) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        o.put_opt(r, "friendly_name", str_v(&r.friendly_name));
        o.put_opt(r, "provider_type", str_v(&r.provider_type));
        o.put_opt(
            r,
            "consumer_key_fingerprint",
            str_v(&r.consumer_key_fingerprint),
        );
        o
    }

    fn named_credential(&self, r: &model::NamedCredential) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        o.put_opt(r, "label", str_v(&r.label));
        o.put_opt(r, "endpoint", str_v(&r.endpoint));
        o.put(
            "named_credential_type",
            defaulted_str(
                r,
                "named_credential_type",
                &r.named_credential_type,
                "Legacy",
                "treated as a legacy named credential",
            ),
        );
        o.put_opt(r, "principal_type", str_v(&r.principal_type));
        o.put_opt(r, "protocol", str_v(&r.protocol));
        o.put_opt(r, "username", str_v(&r.username));
        o.put_opt(r, "auth_provider", str_v(&r.auth_provider));
        o.put_opt(r, "oauth_scope", str_v(&r.oauth_scope));
        o.put(
            "generate_authorization_header",
            defaulted(
                r,
                "generate_authorization_header",
                r.generate_authorization_header,
                true,
            ),
        );
        o.put(
            "allow_merge_fields_in_header",
            defaulted(
                r,
                "allow_merge_fields_in_header",
                r.allow_merge_fields_in_header,
                false,
            ),
        );
        o.put(
            "allow_merge_fields_in_body",
            defaulted(
                r,
                "allow_merge_fields_in_body",
                r.allow_merge_fields_in_body,
                false,
            ),
        );
        let mut auth = model_field(r, "authenticated_as", str_v(&r.authenticated_as));
        if matches!(auth.fact, Fact::Absent { .. }) {
            // No API exposes the legacy named principal's status (reference §3.6).
            auth = Field::not_collected(
                "no API exposes the authentication status of a legacy named credential",
            );
        }
        o.put("authenticated_as", auth);
        o
    }

    /// Resolves a site's user reference (a username from metadata, or a user Id from SOQL).
    fn site_user(&self, site: &model::Site, key: &str, value: &Option<String>) -> Field {
        let base = model_field(site, key, str_v(value));
        let Fact::Value(Value::Str(reference)) = &base.fact else {
            return base;
        };
        let at = base.origin.clone();
        // The user as an object of its username, whether it is active and its profile.
        let user = |username: &str, is_active: Field, profile_name: Field| {
            let mut o = Object::new(Some(username.to_string()), at.clone());
            o.put(
                "username",
                Field::value(Value::Str(username.to_string()), at.clone()),
            );
            o.put("is_active", is_active);
            o.put("profile_name", profile_name);
            Field::value(Value::Object(o), at.clone())
        };
        if self.snap.users.available().is_err() {
            // Only the reference itself is known.
            let reason = match self.snap.source.kind {
                SourceKind::MetadataDir => "users are not in a metadata directory",
                _ => "users were not collected",
            };
            return user(
                reference,
                Field::not_collected(reason),
                Field::not_collected(reason),
            );
        }
        match self
            .user_by_id(reference)
            .or_else(|| self.user_by_name(reference))
        {
            // The user record proves whether it is active and its profile.
            Some(u) => user(
                &u.username,
                model_field(u, "is_active", u.is_active.map(Value::Bool)),
                model_field(u, "profile_name", str_v(&u.profile_name)),
            ),
            None if self.users_partial() => {
                let missing = || {
                    Field::not_collected(format!(
                        "user `{reference}` is not among the users in this snapshot"
                    ))
                };
                user(reference, missing(), missing())
            }
            None => {
                let missing = || {
                    Field::absent_because(format!("no user `{reference}` in the org"), at.clone())
                };
                user(reference, missing(), missing())
            }
        }
    }

    fn site(&self, r: &model::Site) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        o.put_opt(r, "label", str_v(&r.label));
        let active = match (r.active, &r.status) {
            (Some(a), _) => model_field(r, "active", Some(Value::Bool(a))),
            (None, Some(status)) => Field::value(
                Value::Bool(status.trim().eq_ignore_ascii_case("active")),
                r.locations.get("status").cloned().or(r.source.clone()),
            )
            .with_note(format!("Site.Status is `{status}`")),
            (None, None) => model_field(r, "active", None),
        };
        o.put("active", active);
        o.put_opt(r, "index_page", str_v(&r.index_page));
        o.put_opt(
            r,
            "clickjack_protection_level",
            str_v(&r.clickjack_protection_level),
        );
        o.put("site_admin", self.site_user(r, "site_admin", &r.site_admin));
        o.put(
            "default_record_owner",
            self.site_user(
                r,
                "guest_record_default_owner",
                &r.guest_record_default_owner,
            ),
        );
        o.put_opt(r, "subdomain", str_v(&r.subdomain));
        o
    }
}

/// True if any set grants the flag; unknown if none does and some could not be read.
fn any_flag(
    sets: &[&model::PermissionSet],
    key: &str,
    get: impl Fn(&model::PermissionSet) -> Option<bool>,
    origin: &Option<Origin>,
) -> Field {
    let mut missing: Option<String> = None;
    for ps in sets {
        match get(ps) {
            Some(true) => {
                let via = ps
                    .label
                    .clone()
                    .or(ps.name.clone())
                    .unwrap_or(ps.id.clone());
                let kind = if ps.is_owned_by_profile == Some(true) {
                    "the profile"
                } else {
                    "permission set"
                };
                return Field::value(Value::Bool(true), ps.source.clone().or(origin.clone()))
                    .with_note(format!("granted by {kind} `{via}`"));
            }
            Some(false) => {}
            None => {
                if let Some(reason) = ps.not_collected.get(key) {
                    missing = Some(reason.clone());
                }
            }
        }
    }
    match missing {
        Some(reason) => Field::not_collected(reason),
        None => Field::value(Value::Bool(false), origin.clone())
            .with_note("neither the profile nor any assigned permission set grants it"),
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

/// `scheme://host[:port]` of a URL, lowercased host; a bare host means https.
pub fn url_origin(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let u = url::Url::parse(&with_scheme).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{}://{}:{p}", u.scheme(), host.to_lowercase()),
        None => format!("{}://{}", u.scheme(), host.to_lowercase()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(obj: &Object, prefix: &str, out: &mut Vec<String>) {
        for (k, f) in &obj.fields {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push(p.clone());
            if let Fact::Value(Value::Object(inner)) = &f.fact {
                paths(inner, &p, out);
            }
        }
    }

    #[test]
    fn known_fields_match_what_the_view_builds() {
        let text = include_str!("../../fixtures/snapshots/healthy.json");
        let mut snap: Snapshot = serde_json::from_str(text).unwrap();
        snap.aircall = Some(model::AircallCheck::default());
        let view = FactView::build(&snap, &Settings::default());
        for (name, root) in &view.roots {
            let mut got = Vec::new();
            match root {
                Root::Single(Field {
                    fact: Fact::Value(Value::Object(o)),
                    ..
                }) => paths(o, "", &mut got),
                Root::Set(set) => {
                    for o in set.records.as_ref().unwrap() {
                        paths(o, "", &mut got);
                    }
                }
                other => panic!("{name}: {other:?}"),
            }
            got.sort();
            got.dedup();
            let mut want: Vec<String> = known_fields(name).iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "root {name}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            url_origin("acme.my.salesforce.com").as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(
            url_origin("https://ACME.my.salesforce.com/").as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(
            url_origin("http://127.0.0.1:8080/x").as_deref(),
            Some("http://127.0.0.1:8080")
        );
    }

    #[test]
    fn refresh_days() {
        assert_eq!(refresh_token_days("specific_lifetime:30:DAYS"), Some(30));
        assert_eq!(refresh_token_days("specific_lifetime:3:HOURS"), None);
        assert_eq!(refresh_token_days("infinite"), None);
    }

    #[test]
    fn labels_normalize() {
        assert_eq!(
            normalize_label("  Conversation  Insights Integration USER "),
            "conversation insights integration user"
        );
    }
}
