//! The value model of the view: values, the three states of a fact (value, absent, not
//! collected) with provenance, records and collections of records.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::snapshot::model::Origin;

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

    /// A list of strings.
    pub fn strs(items: impl IntoIterator<Item = String>) -> Value {
        Value::List(items.into_iter().map(Value::Str).collect())
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
    pub fn value(v: Value, origin: Option<Origin>) -> Self {
        Field {
            fact: Fact::Value(v),
            origin,
            note: None,
        }
    }
    pub fn absent(origin: Option<Origin>) -> Self {
        Field {
            fact: Fact::Absent { detail: None },
            origin,
            note: None,
        }
    }
    pub fn absent_because(detail: impl Into<String>, origin: Option<Origin>) -> Self {
        Field {
            fact: Fact::Absent {
                detail: Some(detail.into()),
            },
            origin,
            note: None,
        }
    }
    pub fn not_collected(reason: impl Into<String>) -> Self {
        Field {
            fact: Fact::NotCollected {
                reason: reason.into(),
            },
            origin: None,
            note: None,
        }
    }
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
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
    /// What a reader should know about the record as a whole (e.g. that an External Client
    /// App stands in for a connected app); shown when the record's existence is the finding.
    pub note: Option<String>,
}

impl Object {
    pub fn new(name: Option<String>, origin: Option<Origin>) -> Self {
        Object {
            name,
            origin,
            fields: BTreeMap::new(),
            note: None,
        }
    }

    pub fn put(&mut self, key: &str, field: Field) {
        self.fields.insert(key.to_string(), field);
    }

    /// The field, or `None` when the object has no such key.
    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.get(key)
    }
}

/// A single root's record, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// The record; `note` says how it was found (e.g. "detected: …").
    Found {
        object: Object,
        origin: Option<Origin>,
        note: Option<String>,
    },
    /// The source was read and has none; `detail` says more.
    Absent {
        detail: Option<String>,
        origin: Option<Origin>,
    },
    /// The source could not tell.
    NotCollected { reason: String },
}

impl Entry {
    pub fn found(object: Object, origin: Option<Origin>) -> Self {
        Entry::Found {
            object,
            origin,
            note: None,
        }
    }

    pub fn absent(detail: impl Into<String>, origin: Option<Origin>) -> Self {
        Entry::Absent {
            detail: Some(detail.into()),
            origin,
        }
    }

    pub fn not_collected(reason: impl Into<String>) -> Self {
        Entry::NotCollected {
            reason: reason.into(),
        }
    }

    #[must_use]
    pub fn with_note(self, text: impl Into<String>) -> Self {
        match self {
            Entry::Found { object, origin, .. } => Entry::Found {
                object,
                origin,
                note: Some(text.into()),
            },
            other => other,
        }
    }

    /// The record, when found.
    pub fn object(&self) -> Option<&Object> {
        match self {
            Entry::Found { object, .. } => Some(object),
            _ => None,
        }
    }
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
    /// A single record: `org`, `integration_user`, ….
    Single(Entry),
    /// A collection of named records: `connected_apps`, ….
    Set(RecordSet),
}

/// A resolved path.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved<'a> {
    pub fact: Cow<'a, Fact>,
    pub origin: Option<&'a Origin>,
    pub note: Option<&'a str>,
}

/// Trims, collapses inner whitespace and folds case: how labels are compared.
pub fn normalize_label(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_normalize() {
        assert_eq!(
            normalize_label("  Conversation  Insights Integration USER "),
            "conversation insights integration user"
        );
    }
}
