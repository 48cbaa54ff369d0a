//! The metadata component types read both ways (SOQL rows and `readMetadata` records) and how
//! the two are merged: the metadata record wins, the SOQL row fills what it lacks.

use std::collections::BTreeMap;

use serde_json::Value;

use super::record::{collection_origin, mark, metadata_origin, metadata_path, retag};
use crate::collect::gathered::Gathered;
use crate::collect::soap::METADATA_READS;
use crate::collect::soql::QueryId;
use crate::snapshot::metadata::{MetadataKind, ParsedComponent, parse_metadata_file};
use crate::snapshot::model::{Collection, Origin, Record};

/// A component type read both ways: SOQL rows for every name (ids, near misses) and
/// readMetadata for the guide's names (metadata-only settings).
pub(super) trait Component: Record + Sized {
    /// Fields only readMetadata can give.
    const METADATA_ONLY: &'static [Self::Field];
    fn full_name(&self) -> &str;
    /// Whether a SOQL row (as a record) is this metadata component.
    fn is(&self, soql: &Self) -> bool {
        self.full_name() == soql.full_name()
    }
    /// Takes what the SOQL row knows into the metadata record (with
    /// [`Record::fill_missing_from`]).
    fn fill_from_soql(&mut self, soql: Self);
    /// The record inside a parsed metadata document.
    fn from_parsed(parsed: ParsedComponent) -> Option<Self>;
    fn retag_all(&mut self, origin: &Origin) {
        retag(self, origin);
    }
}

/// [`Component::full_name`] and [`Component::from_parsed`] of a type whose parsed metadata
/// document is `ParsedComponent::$variant` (`$unwrap` takes the record out of its payload).
macro_rules! named_component {
    ($variant:ident) => {
        named_component!($variant, |record| record);
    };
    ($variant:ident, $unwrap:expr) => {
        fn full_name(&self) -> &str {
            &self.full_name
        }
        fn from_parsed(parsed: ParsedComponent) -> Option<Self> {
            match parsed {
                ParsedComponent::$variant(record) => Some(($unwrap)(record)),
                _ => None,
            }
        }
    };
}

pub(super) use named_component;

/// Merges the SOQL rows and the readMetadata records of one component type.
pub(super) fn merge_components<T: Component>(
    g: &Gathered,
    query: QueryId,
    kind: MetadataKind,
    from_row: impl Fn(&Value) -> T,
) -> Collection<T> {
    let requested: &[&str] = METADATA_READS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[][..], |(_, names)| *names);
    // readMetadata: the records, and per requested name why it is missing, if it is.
    let mut items: Vec<T> = Vec::new();
    let mut meta_reason: BTreeMap<String, String> = BTreeMap::new();
    // Records readMetadata returned but that could not be read: they prove nothing either way.
    let mut unreadable: Option<String> = None;
    let meta_failure = match g.metadata.get(&kind) {
        Some(Ok(records)) => {
            for record in records {
                let path = metadata_path(kind, &record.full_name);
                match parse_metadata_file(
                    kind,
                    &record.full_name,
                    &path,
                    record.document.as_bytes(),
                ) {
                    Ok(parsed) => {
                        if let Some(mut item) = T::from_parsed(parsed) {
                            item.retag_all(&metadata_origin(kind, &record.full_name));
                            items.push(item);
                        } else {
                            let reason = format!("{path}: another type came back");
                            unreadable.get_or_insert_with(|| reason.clone());
                            meta_reason.insert(record.full_name.clone(), reason);
                        }
                    }
                    Err(e) => {
                        let reason = format!("unreadable readMetadata record: {e}");
                        unreadable.get_or_insert_with(|| reason.clone());
                        meta_reason.insert(record.full_name.clone(), reason);
                    }
                }
            }
            for name in requested {
                if !records.iter().any(|r| r.full_name == *name) {
                    meta_reason.entry((*name).to_string()).or_insert_with(|| {
                        format!(
                            "readMetadata {} returned no record for it",
                            kind.type_name()
                        )
                    });
                }
            }
            None
        }
        Some(Err(failure)) => Some(failure.reason.clone()),
        None => Some("readMetadata not run".to_string()),
    };
    let object = query_object(g, query);
    match g.rows(query) {
        Some(Ok((rows, _))) => {
            for row in rows {
                let soql_item = from_row(row);
                if let Some(meta) = items.iter_mut().find(|m| m.is(&soql_item)) {
                    meta.fill_from_soql(soql_item);
                } else {
                    let mut item = soql_item;
                    let reason = if let Some(failure) = &meta_failure {
                        failure.clone()
                    } else if let Some(reason) = meta_reason.get(item.full_name()) {
                        reason.clone()
                    } else {
                        format!(
                            "readMetadata not requested for this name (the audit reads {})",
                            requested.join(", ")
                        )
                    };
                    mark(&mut item, T::METADATA_ONLY, &reason);
                    items.push(item);
                }
            }
            Collection::collected(items, Some(collection_origin(&object)))
        }
        Some(Err(reason)) => match meta_failure {
            // A record readMetadata returned but that could not be read proves nothing.
            None if unreadable.is_some() => {
                Collection::not_collected(format!("{reason}; {}", unreadable.unwrap_or_default()))
            }
            // Without the SOQL names, readMetadata still proves the guide's names exist or not.
            None => Collection::collected(
                items,
                Some(Origin::Metadata {
                    r#type: kind.type_name().to_string(),
                    full_name: requested.join(","),
                }),
            ),
            Some(meta) => Collection::not_collected(format!("{reason}; {meta}")),
        },
        None => Collection::not_collected("not queried"),
    }
}

fn query_object(g: &Gathered, id: QueryId) -> String {
    g.queries
        .get(&id)
        .map(|(spec, _)| spec.object.to_string())
        .unwrap_or_default()
}
