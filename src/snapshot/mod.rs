//! The normalized org model and its loaders. Imports nothing from rules, report or collect.

pub mod load;
pub mod metadata;
pub mod model;

pub use load::{SnapshotError, load_snapshot_file, parse_snapshot};
pub use model::*;

/// The JSON Schema of the snapshot file, as printed by `eci-audit schema`.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(model::Snapshot);
    schema.to_value()
}
