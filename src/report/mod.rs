//! One emitter per format, chosen by one `match` on [`Format`]. Emitters return strings; only
//! `main` writes them out.

pub mod catalogue;
pub mod escape;
pub mod evidence;
pub mod json;
pub mod sarif;
pub mod settings;
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

/// Why a run could not happen (exit 2), as the documents describe it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunError {
    /// What failed, as a stable word: `snapshot`, `metadata`, `collect`, `auth`, `rules`,
    /// `config`, `settings`, `write` or `usage`.
    pub kind: &'static str,
    pub message: String,
}

/// What a run produced.
#[derive(Debug, Clone, Copy)]
pub enum Run<'a> {
    Audit {
        audit: &'a Audit,
        catalogue: &'a Catalogue,
    },
    Error(&'a RunError),
}

/// Renders the run in the chosen format: the report of an audit, or the error document of a
/// run that could not happen. `None` when the format has no error document (the table: the
/// error goes to standard error only).
pub fn render(format: Format, run: Run<'_>, opts: &RenderOptions) -> Option<String> {
    let doc = match (format, run) {
        (Format::Table, Run::Audit { audit, .. }) => Some(table::render(audit, opts)),
        (Format::Table, Run::Error(_)) => None,
        (Format::Json, Run::Audit { audit, .. }) => Some(json::render(audit)),
        (Format::Json, Run::Error(error)) => Some(json::render_error(error)),
        (Format::Sarif, Run::Audit { audit, catalogue }) => {
            Some(sarif::render(audit, catalogue, opts))
        }
        (Format::Sarif, Run::Error(error)) => Some(sarif::render_error(&error.message)),
    };
    // The table escapes as it renders; the JSON documents are made safe for a terminal here.
    match format {
        Format::Table => doc,
        Format::Json | Format::Sarif => doc.map(escape::json),
    }
}
