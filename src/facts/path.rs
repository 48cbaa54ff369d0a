//! Typed fact paths: `org.my_domain`, `connected_apps[ECIConnectedApp].oauth_config.scopes`.
//! A path is checked against the [schema](super::schema) once, when a rule file is read, so
//! resolving it against a view cannot name something the view does not define.

use std::borrow::Cow;
use std::fmt;

use super::FactView;
use super::schema::{self, FactType, FieldSpec, RootSpec};
use super::value::{Entry, Fact, Object, Resolved, Root, Value};

/// A validated reference to a fact.
#[derive(Debug, Clone, PartialEq)]
pub struct FactPath {
    pub root: &'static RootSpec,
    /// The record's exact name, for a collection root.
    pub record: Option<String>,
    /// The field, or `None` for the record itself.
    pub field: Option<&'static FieldSpec>,
}

impl FactPath {
    /// Parses `root.field` or `collection[Name].field` against the schema.
    pub fn parse(text: &str) -> Result<FactPath, String> {
        let not_a_fact =
            || format!("`{text}` is not a fact; write `root.field` or `collection[Name].field`");
        let (head, rest) = match text.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (text, None),
        };
        let (root_name, record) = match head.split_once('[') {
            Some((root, name)) if name.len() > 1 && name.ends_with(']') => {
                (root, Some(name[..name.len() - 1].to_string()))
            }
            Some(_) => return Err(not_a_fact()),
            None => (head, None),
        };
        let root = schema::root(root_name).ok_or_else(not_a_fact)?;
        if root.is_collection() != record.is_some() {
            return Err(not_a_fact());
        }
        let field = match rest {
            None => None,
            Some(path) => Some(root.field(path).ok_or_else(|| {
                format!(
                    "`{path}` is not a fact of `{}`; known: {}",
                    root.name,
                    root.fields
                        .iter()
                        .map(|f| f.path)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?),
        };
        Ok(FactPath {
            root,
            record,
            field,
        })
    }

    /// The type of the value the path names.
    pub fn ty(&self) -> FactType {
        self.field.map_or(FactType::Object, |f| f.ty)
    }
}

impl fmt::Display for FactPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.root.name)?;
        if let Some(record) = &self.record {
            write!(f, "[{record}]")?;
        }
        if let Some(field) = self.field {
            write!(f, ".{}", field.path)?;
        }
        Ok(())
    }
}

impl FactView {
    /// Resolves a path. A record or field that is missing keeps the state of what is missing
    /// (absent, not collected) with its location.
    pub fn resolve(&self, path: &FactPath) -> Resolved<'_> {
        match (self.root(path.root), &path.record) {
            (Root::Single(entry), _) => match entry {
                Entry::Found {
                    object,
                    origin,
                    note,
                } => match path.field {
                    Some(field) => resolve_in(object, field),
                    None => Resolved {
                        fact: Cow::Owned(Fact::Value(Value::Object(object.clone()))),
                        origin: origin.as_ref(),
                        note: note.as_deref(),
                    },
                },
                Entry::Absent { detail, origin } => Resolved {
                    fact: Cow::Owned(Fact::Absent {
                        detail: detail.clone(),
                    }),
                    origin: origin.as_ref(),
                    note: None,
                },
                Entry::NotCollected { reason } => Resolved {
                    fact: Cow::Owned(Fact::NotCollected {
                        reason: reason.clone(),
                    }),
                    origin: None,
                    note: None,
                },
            },
            (Root::Set(set), record) => {
                let name = record.as_deref().unwrap_or_default();
                let fact = match &set.records {
                    Err(reason) => Fact::NotCollected {
                        reason: reason.clone(),
                    },
                    Ok(_) => match set.find(name) {
                        Some(obj) => {
                            return match path.field {
                                Some(field) => resolve_in(obj, field),
                                None => Resolved {
                                    fact: Cow::Owned(Fact::Value(Value::Object(obj.clone()))),
                                    origin: obj.origin.as_ref(),
                                    note: None,
                                },
                            };
                        }
                        None => Fact::Absent {
                            detail: Some(format!("no {} record named `{name}`", path.root.name)),
                        },
                    },
                };
                Resolved {
                    fact: Cow::Owned(fact),
                    origin: set.origin.as_ref(),
                    note: None,
                }
            }
        }
    }
}

/// Resolves a field inside a record. Walking into something absent or not collected keeps
/// that state.
pub fn resolve_in<'a>(obj: &'a Object, field: &FieldSpec) -> Resolved<'a> {
    let mut current = obj;
    let mut parts = field.path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Some(found) = current.fields.get(part) else {
            // The schema test keeps the builder in step with the schema; a gap is reported
            // as uncollected rather than guessed.
            return Resolved {
                fact: Cow::Owned(Fact::NotCollected {
                    reason: format!("the view has no `{}` for this record", field.path),
                }),
                origin: current.origin.as_ref(),
                note: None,
            };
        };
        match (&found.fact, parts.peek().is_none()) {
            (Fact::Value(Value::Object(inner)), false) => current = inner,
            _ => {
                return Resolved {
                    fact: Cow::Borrowed(&found.fact),
                    origin: found.origin.as_ref().or(current.origin.as_ref()),
                    note: found.note.as_deref(),
                };
            }
        }
    }
    Resolved {
        fact: Cow::Owned(Fact::Value(Value::Object(current.clone()))),
        origin: current.origin.as_ref(),
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for text in [
            "org.my_domain",
            "connected_apps[ECIConnectedApp].oauth_config.consumer_key_fingerprint",
            "sites[VoiceConnector].site_admin.username",
            "integration_user",
        ] {
            assert_eq!(FactPath::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "nope.x",
            "org[X].id",
            "connected_apps.label",
            "connected_apps[].label",
            "org.nope",
        ] {
            assert!(FactPath::parse(bad).is_err(), "{bad}");
        }
    }
}
