//! One emitter per format, chosen by one `match` on [`Format`]. Emitters return strings; only
//! `main` writes them out.

pub mod catalogue;
pub mod json;
pub mod sarif;
pub mod table;

use std::path::PathBuf;

use crate::audit::Audit;
use crate::rules::Catalogue;

/// `--format`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Table,
    Json,
    Sarif,
}

/// Rendering choices that are not part of the audit.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours in the table.
    pub color: bool,
    /// Table width; `None` lets the table take what it needs.
    pub width: Option<u16>,
    /// Paths under this folder are written relative to it (SARIF wants repository-relative
    /// URIs).
    pub base_dir: Option<PathBuf>,
}

/// Renders the audit in the chosen format.
pub fn render(
    format: Format,
    audit: &Audit,
    catalogue: &Catalogue,
    opts: &RenderOptions,
) -> String {
    match format {
        Format::Table => table::render(audit, opts),
        Format::Json => json::render(audit),
        Format::Sarif => sarif::render(audit, catalogue, opts),
    }
}
