//! Why a metadata directory, retrieve zip or metadata file could not be used.
//!
//! `path` fields hold the display form used in findings (`dir/force-app/…/X.connectedApp-meta.xml`,
//! `retrieve.zip!/unpackaged/…`); filesystem failures keep the [`PathBuf`] they failed on.
//! Messages never quote the text of secret elements: those are skipped unread.

use std::path::PathBuf;

/// A failure of the metadata loader. Every variant is an "unreadable input" (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: not a metadata directory or a retrieve .zip file (expected a folder, or a file ending in .zip)",
        path.display()
    )]
    NotDirectoryOrZip { path: PathBuf },
    #[error("{}: broken zip archive", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{path}: cannot read the zip entry")]
    ZipEntry {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is larger than {limit} bytes; refusing to load it")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: {what}; refusing to load it")]
    ZipLimit { path: String, what: String },
    #[error("{path}: the zip has two entries of this name; refusing to guess which one counts")]
    DuplicateZipEntry { path: String },
    #[error("{}: not a regular file (metadata is read from files, not FIFOs, devices or sockets)", path.display())]
    NotRegularFile { path: PathBuf },
    #[error("{path}:{line}:{column}: {what} exceeds the limit of {limit}; refusing to load it")]
    XmlLimit {
        path: String,
        line: u32,
        column: u32,
        what: &'static str,
        limit: usize,
    },
    #[error("{path}:{line}:{column}: invalid XML: {message}")]
    Xml {
        path: String,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("{path}:{line}:{column}: expected {expected}, found {found}")]
    Unexpected {
        path: String,
        line: u32,
        column: u32,
        expected: String,
        found: String,
    },
    #[error(
        "{path}:{line}:{column}: the root element is <{found}>, but a {kind} file must have <{expected}>"
    )]
    WrongRoot {
        path: String,
        line: u32,
        column: u32,
        kind: String,
        expected: String,
        found: String,
    },
    #[error(
        "{path}:{line}:{column}: <{element}> must be `true` or `false` (or `1`/`0`), found {found}"
    )]
    InvalidBoolean {
        path: String,
        line: u32,
        column: u32,
        element: String,
        found: String,
    },
    #[error(
        "{path}:{line}:{column}: <{element}> appears more than once (first at line {first_line}); expected a single value"
    )]
    DuplicateElement {
        path: String,
        line: u32,
        column: u32,
        element: String,
        first_line: u32,
    },
    #[error("{path}:{line}:{column}: invalid sfdx-project.json: {message}")]
    Project {
        path: String,
        line: u32,
        column: u32,
        message: String,
    },
    #[error(
        "no ECI metadata found in {path} (looked for connectedApps, authproviders, namedCredentials, sites, permissionsets, profiles and settings files, in source or mdapi format)"
    )]
    NothingFound { path: String },
    #[error("{path}:{line}: invalid .forceignore pattern: {message}")]
    ForceIgnore {
        path: String,
        line: u32,
        message: String,
    },
    #[error("{kind} `{full_name}` is defined twice: {first} and {second}")]
    DuplicateComponent {
        kind: String,
        full_name: String,
        first: String,
        second: String,
    },
}
