//! What every area of the mapping uses to build model records: where a value came from, what
//! was not collected and why, and a collection from one query's rows.

use serde_json::Value;

use crate::collect::gathered::Gathered;
use crate::collect::rest::string;
use crate::collect::soql::QueryId;
use crate::snapshot::metadata::MetadataKind;
use crate::snapshot::model::{Collection, Origin, Record};

/// A collection of one query's rows, each mapped by `from_row`, or why it was not collected.
pub(super) fn rows_collection<T>(
    g: &Gathered,
    id: QueryId,
    object: &str,
    from_row: impl Fn(&Value) -> T,
) -> Collection<T> {
    match g.rows(id) {
        Some(Ok((rows, _))) => Collection::collected(
            rows.iter().map(from_row).collect(),
            Some(collection_origin(object)),
        ),
        Some(Err(reason)) => Collection::not_collected(reason),
        None => Collection::not_collected("not queried"),
    }
}

pub(super) fn record_origin(object: &str, row: &Value) -> Origin {
    Origin::Record {
        object: object.to_string(),
        id: string(row, "Id"),
    }
}

pub(super) fn collection_origin(object: &str) -> Origin {
    Origin::Record {
        object: object.to_string(),
        id: None,
    }
}

pub(super) fn mark<R: Record>(record: &mut R, fields: &[R::Field], reason: &str) {
    record.mark_not_collected(fields, reason);
}

pub(super) fn metadata_path(kind: MetadataKind, full_name: &str) -> String {
    format!("readMetadata {}/{full_name}", kind.type_name())
}

pub(super) fn metadata_origin(kind: MetadataKind, full_name: &str) -> Origin {
    Origin::Metadata {
        r#type: kind.type_name().to_string(),
        full_name: full_name.to_string(),
    }
}

/// Provenance of a readMetadata record: the component, not positions in a synthetic document.
pub(super) fn retag<R: Record>(record: &mut R, origin: &Origin) {
    let (source, _, locations) = record.bookkeeping_mut();
    *source = Some(origin.clone());
    locations.clear();
}
