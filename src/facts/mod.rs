//! The fact view: what rules see. Built once per audit from a [`Snapshot`] and the audit's
//! [`Settings`]; every derived fact (the expected callback URL, the integration user and what
//! it holds, the guest user, documented metadata defaults) is computed once, with indexes, so
//! that rules stay declarative and evaluation never scans users or assignments.
//!
//! - [`schema`]: the roots and fields a rule may name, with types and docs;
//! - [`path`]: typed paths into the view (`connected_apps[ECIConnectedApp].label`);
//! - [`value`]: values, facts (value, absent, not collected) and records;
//! - `build`: the builders, one per area of the guide;
//! - [`settings`]: the audit's inputs that are not in the snapshot.
//!
//! Depends on the snapshot model only; rules and reports depend on it.

mod build;
pub mod evidence;
pub mod path;
pub mod runtime;
pub mod schema;
pub mod settings;
pub mod value;

pub use build::refresh_token_days;
pub use path::{FactPath, resolve_in};
pub use schema::{FactType, FieldSpec, RootId, RootKind, RootSpec};
pub use settings::Settings;
pub use value::{Entry, Fact, Field, Object, RecordSet, Resolved, Root, Value, normalize_label};

use crate::snapshot::model::Snapshot;

/// What rules evaluate against.
#[derive(Debug, Clone)]
pub struct FactView {
    /// One per [`schema::ROOTS`] entry, in the same order.
    roots: Vec<Root>,
}

impl FactView {
    /// Builds the view. Pure: no I/O, no clock.
    pub fn build(snapshot: &Snapshot, settings: &Settings) -> FactView {
        FactView {
            roots: build::Builder::new(snapshot, settings).build(),
        }
    }

    /// The root a spec describes. Every root is built, so this always finds it.
    pub fn root(&self, spec: &RootSpec) -> &Root {
        let index = schema::ROOTS
            .iter()
            .position(|r| r.id == spec.id)
            .unwrap_or_default();
        &self.roots[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::model;

    /// Every field path below an object, with the type of its value.
    /// A fact that is not a value (e.g. `authenticated_as`, which no source exposes) counts
    /// with the schema's type, so only its path is checked.
    fn paths(obj: &Object, prefix: &str, spec: &RootSpec, out: &mut Vec<(String, FactType)>) {
        for (k, f) in &obj.fields {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            let ty = match &f.fact {
                Fact::Value(Value::Bool(_)) => FactType::Bool,
                Fact::Value(Value::Int(_)) => FactType::Int,
                Fact::Value(Value::Str(_)) => FactType::Str,
                Fact::Value(Value::List(items)) => {
                    assert!(
                        items.iter().all(|i| matches!(i, Value::Str(_))),
                        "{p}: lists hold strings"
                    );
                    FactType::List
                }
                Fact::Value(Value::Object(inner)) => {
                    paths(inner, &p, spec, out);
                    FactType::Object
                }
                _ => spec.field(&p).map_or(FactType::Object, |f| f.ty),
            };
            out.push((p, ty));
        }
    }

    /// The schema and the builder agree on every root's fields and their types.
    #[test]
    fn schema_matches_what_the_view_builds() {
        let text = include_str!("../../fixtures/snapshots/healthy.json");
        let mut snap: Snapshot = serde_json::from_str(text).unwrap();
        snap.aircall = Some(model::AircallCheck {
            api_id: Some("id".into()),
            ping_ok: Some(true),
            detail: Some("pong".into()),
            ..model::AircallCheck::default()
        });
        let mut settings = Settings::new(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        settings.refresh_token_days = Some(90);
        settings.aircall_api_id = Some("id".into());
        settings.voice_connector_namespace = Some("ns".into());
        settings.integration_permission_set_names = vec!["x".into()];
        settings.voice_connector_permission_set_names = vec!["y".into()];
        let view = FactView::build(&snap, &settings);
        for spec in schema::ROOTS {
            let mut got = Vec::new();
            match view.root(spec) {
                Root::Single(Entry::Found { object, .. }) => paths(object, "", spec, &mut got),
                Root::Set(set) => {
                    for o in set.records.as_ref().unwrap() {
                        paths(o, "", spec, &mut got);
                    }
                }
                other @ Root::Single(_) => panic!("{}: {other:?}", spec.name),
            }
            got.sort_by(|a, b| a.0.cmp(&b.0));
            got.dedup();
            let mut want: Vec<(String, FactType)> = spec
                .fields
                .iter()
                .map(|f| (f.path.to_string(), f.ty))
                .collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(got, want, "root {}", spec.name);
        }
    }

    /// Every value the builders put in the view has its schema type, in every fixture (the
    /// evaluator relies on it instead of checking types at run time).
    #[test]
    fn values_have_their_schema_types_in_every_fixture() {
        fn check(obj: &Object, prefix: &str, spec: &RootSpec, source: &str) {
            for (k, f) in &obj.fields {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                let want = spec.field(&p).map(|f| f.ty);
                let got = match &f.fact {
                    Fact::Value(Value::Bool(_)) => FactType::Bool,
                    Fact::Value(Value::Int(_)) => FactType::Int,
                    Fact::Value(Value::Str(_)) => FactType::Str,
                    Fact::Value(Value::List(_)) => FactType::List,
                    Fact::Value(Value::Object(inner)) => {
                        check(inner, &p, spec, source);
                        FactType::Object
                    }
                    _ => continue,
                };
                assert_eq!(Some(got), want, "{source}: {}.{p}", spec.name);
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut snapshots: Vec<(String, Snapshot)> = Vec::new();
        for entry in std::fs::read_dir(root.join("fixtures/snapshots")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            snapshots.push((
                path.display().to_string(),
                serde_json::from_str(&text).unwrap(),
            ));
        }
        for dir in [
            "fixtures/metadata/source-healthy",
            "fixtures/metadata/mdapi-healthy",
        ] {
            let snap = crate::snapshot::metadata::load_metadata(
                &root.join(dir),
                &crate::snapshot::metadata::MetadataOptions::default(),
            )
            .unwrap();
            snapshots.push((dir.to_string(), snap));
        }
        let settings = Settings::new(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        for (source, snap) in &snapshots {
            let view = FactView::build(snap, &settings);
            for spec in schema::ROOTS {
                match view.root(spec) {
                    Root::Single(Entry::Found { object, .. }) => check(object, "", spec, source),
                    Root::Set(set) => {
                        for o in set.records.iter().flatten() {
                            check(o, "", spec, source);
                        }
                    }
                    Root::Single(_) => {}
                }
            }
        }
        assert!(snapshots.len() >= 10, "fixtures found: {}", snapshots.len());
    }
}
