//! Builds the view from a snapshot, one file per area of the guide: the org and the audit's
//! inputs ([`org`]), users and what they hold ([`people`]), connected apps and auth providers
//! ([`apps`]), named credentials ([`credentials`]) and sites ([`sites`]). Every derived fact is
//! computed here once, so that rules stay declarative and never scan users or assignments.

mod apps;

pub use apps::refresh_token_days;
mod credentials;
mod org;
mod people;
mod sites;

use std::collections::HashMap;

use super::schema::{ROOTS, RootId};
use super::settings::Settings;
use super::value::{Entry, Fact, Field, Object, RecordSet, Root, Value};
use crate::snapshot::model::{self, Collection, FieldKey, Origin, Scope, Snapshot};

pub(super) struct Builder<'a> {
    snap: &'a Snapshot,
    settings: &'a Settings,
    // Only the small tables are indexed; users and assignments (the large ones) are scanned a
    // fixed handful of times for the few users the rules look at, which is cheaper than
    // hashing 50,000 users and 200,000 assignments.
    sets_by_id: HashMap<&'a str, &'a model::PermissionSet>,
    profile_set_by_profile: HashMap<&'a str, &'a model::PermissionSet>,
    object_perms_by_parent: HashMap<&'a str, Vec<&'a model::ObjectPermission>>,
    /// The integration user, found once: three roots (the user, its login state, the ECI
    /// token) need it, and finding it scans the users and assignments.
    integration_user: std::cell::OnceCell<Entry>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(snap: &'a Snapshot, settings: &'a Settings) -> Self {
        let mut b = Builder {
            snap,
            settings,
            sets_by_id: HashMap::new(),
            profile_set_by_profile: HashMap::new(),
            object_perms_by_parent: HashMap::new(),
            integration_user: std::cell::OnceCell::new(),
        };
        for p in snap.permission_sets.items() {
            b.sets_by_id.insert(&p.id, p);
            if p.is_owned_by_profile == Some(true)
                && let Some(profile) = &p.profile_id
            {
                b.profile_set_by_profile.insert(profile, p);
            }
        }
        for op in snap.object_permissions.items() {
            b.object_perms_by_parent
                .entry(&op.parent_id)
                .or_default()
                .push(op);
        }
        b
    }

    /// Every root, in schema order.
    pub(super) fn build(self) -> Vec<Root> {
        ROOTS.iter().map(|spec| self.root(spec.id)).collect()
    }

    fn root(&self, id: RootId) -> Root {
        match id {
            RootId::Config => Root::Single(self.config()),
            RootId::Org => Root::Single(self.org()),
            RootId::IntegrationUser => Root::Single(self.integration_user()),
            RootId::GuestUser => Root::Single(self.guest_user()),
            RootId::Aircall => Root::Single(self.aircall()),
            RootId::ConnectedApps => Root::Set(self.connected_apps_with_ecas()),
            RootId::ExternalClientApps => {
                Root::Set(self.set(&self.snap.external_client_apps, |r| {
                    Object::new(Some(r.full_name.clone()), r.source.clone())
                }))
            }
            RootId::AuthProviders => {
                Root::Set(self.set(&self.snap.auth_providers, |r| self.auth_provider(r)))
            }
            RootId::NamedCredentials => {
                Root::Set(self.set(&self.snap.named_credentials, |r| self.named_credential(r)))
            }
            RootId::Sites => Root::Set(self.set(&self.snap.sites, |r| self.site(r))),
            RootId::EciToken => Root::Single(self.eci_token()),
            RootId::IntegrationUserLogin => Root::Single(self.integration_user_login()),
        }
    }

    /// Whether `users` holds only the users a collection looked for (a live org, a metadata
    /// directory merged with one) rather than every relevant user (a hand-written snapshot):
    /// the snapshot says so.
    fn users_partial(&self) -> bool {
        self.snap.users.scope == Scope::Requested
    }

    pub(super) fn set<T: model::Named>(
        &self,
        c: &Collection<T>,
        f: impl Fn(&T) -> Object,
    ) -> RecordSet {
        let uncertain = c
            .items()
            .iter()
            .filter_map(|r| {
                let reason = r.not_collected().get::<T::Field>(&T::FULL_NAME)?;
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
}

/// Puts a model field into an object: value, absent (located at the record) or not collected,
/// honouring the record's `not_collected` map and `locations`.
fn put_opt<R: model::Record>(o: &mut Object, rec: &R, key: R::Field, value: Option<Value>) {
    o.put(key.as_str(), model_field(rec, key, value));
}

/// Builds a field from a model record's optional value.
fn model_field<R: model::Record>(rec: &R, key: R::Field, value: Option<Value>) -> Field {
    if let Some(reason) = rec.not_collected().get::<R::Field>(&key) {
        return Field::not_collected(reason.clone());
    }
    let at = located(rec, key);
    match value {
        Some(v) => Field::value(v, at),
        None => Field::absent(at),
    }
}

/// Where a record's field stands: its own location, else the record's.
fn located<R: model::Record>(rec: &R, key: R::Field) -> Option<Origin> {
    rec.locations()
        .get::<R::Field>(&key)
        .cloned()
        .or_else(|| rec.source().cloned())
}

/// Like [`model_field`] with a documented default for an absent element.
fn defaulted<R: model::Record>(
    rec: &R,
    key: R::Field,
    value: Option<bool>,
    default: bool,
) -> Field {
    with_default(
        model_field(rec, key, value.map(Value::Bool)),
        Value::Bool(default),
        format!("element absent; Salesforce's default is {default}"),
    )
}

/// Like [`defaulted`] for a string element whose absence has a documented meaning.
fn defaulted_str<R: model::Record>(
    rec: &R,
    key: R::Field,
    value: Option<&String>,
    default: &str,
    meaning: &str,
) -> Field {
    with_default(
        model_field(rec, key, str_v(value)),
        Value::Str(default.to_string()),
        format!("element absent; {meaning}"),
    )
}

/// An absent field takes the default value, with a note saying so.
fn with_default(field: Field, default: Value, note: String) -> Field {
    if matches!(field.fact, Fact::Absent { .. }) {
        Field {
            fact: Fact::Value(default),
            origin: field.origin,
            note: Some(note),
        }
    } else {
        field
    }
}

fn str_v(s: Option<&String>) -> Option<Value> {
    s.map(|s| Value::Str(s.clone()))
}

fn list_v(l: Option<&Vec<String>>) -> Option<Value> {
    l.map(|l| Value::strs(l.iter().cloned()))
}
