//! Reading a snapshot file: every failure names the file, and where the JSON is at fault, the
//! line and column.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Largest snapshot file read. A collected snapshot of 50,000 users is about 37 MB; parsing
/// takes about 20 times the file's size in memory, so this bounds a run to a few GiB.
pub const MAX_SNAPSHOT_BYTES: u64 = 256 * 1024 * 1024;

use super::model::{SCHEMA_VERSION, Scope, Snapshot, SourceKind};

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid snapshot: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{}: snapshot schema_version {found} is not supported; this eci-audit reads version {expected} (see `eci-audit schema`)",
        path.display()
    )]
    Version {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    #[error("{}: invalid snapshot: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: not a regular file (a snapshot is read from a file, not a FIFO, device or socket)", path.display())]
    NotRegularFile { path: PathBuf },
    #[error(
        "{}: the snapshot is larger than the limit of {} MiB; refusing to load it",
        path.display(),
        limit / (1024 * 1024)
    )]
    TooLarge { path: PathBuf, limit: u64 },
}

/// Why [`read_bounded`] could not read a file; each caller names the file in its own error.
#[derive(Debug)]
pub enum BoundedReadError {
    Io(std::io::Error),
    NotRegularFile,
    TooLarge,
}

/// Reads a whole file of at most [`MAX_SNAPSHOT_BYTES`]: the snapshots, and the reports made
/// from them (which are smaller). Only a regular file: a FIFO or a device (`/dev/zero`) would
/// block or never end.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, BoundedReadError> {
    let meta = std::fs::metadata(path).map_err(BoundedReadError::Io)?;
    if !meta.is_file() {
        return Err(BoundedReadError::NotRegularFile);
    }
    if meta.len() > MAX_SNAPSHOT_BYTES {
        return Err(BoundedReadError::TooLarge);
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(BoundedReadError::Io)?
        .take(MAX_SNAPSHOT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(BoundedReadError::Io)?;
    // The file may have grown since its size was read.
    if bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(BoundedReadError::TooLarge);
    }
    Ok(bytes)
}

/// Reads and validates a snapshot file.
pub fn load_snapshot_file(path: &Path) -> Result<Snapshot, SnapshotError> {
    let path_buf = path.to_path_buf();
    let bytes = read_bounded(path).map_err(|e| match e {
        BoundedReadError::Io(source) => SnapshotError::Read {
            path: path_buf,
            source,
        },
        BoundedReadError::NotRegularFile => SnapshotError::NotRegularFile { path: path_buf },
        BoundedReadError::TooLarge => SnapshotError::TooLarge {
            path: path_buf,
            limit: MAX_SNAPSHOT_BYTES,
        },
    })?;
    parse_snapshot(&bytes, path)
}

/// Parses snapshot JSON; `path` is only used to name the input in errors.
pub fn parse_snapshot(bytes: &[u8], path: &Path) -> Result<Snapshot, SnapshotError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Check the version first, so that a future format gets a version message rather than
    // a confusing "unknown field" one.
    #[derive(serde::Deserialize)]
    struct VersionOnly {
        schema_version: Option<serde_json::Value>,
    }
    let syntax = |e: serde_json::Error| SnapshotError::Syntax {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    };
    let version: VersionOnly = serde_json::from_slice(bytes).map_err(syntax)?;
    match version.schema_version {
        None => {
            return Err(SnapshotError::Invalid {
                path: path.to_path_buf(),
                message: format!(
                    "missing `schema_version` (expected {SCHEMA_VERSION}); is this an eci-audit snapshot?"
                ),
            });
        }
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(serde_json::Value::Number(n)) => {
            return Err(SnapshotError::Version {
                path: path.to_path_buf(),
                found: n.to_string(),
                expected: SCHEMA_VERSION,
            });
        }
        Some(other) => {
            return Err(SnapshotError::Invalid {
                path: path.to_path_buf(),
                message: format!("`schema_version` must be a number, found {other}"),
            });
        }
    }
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(syntax)?;
    validate(&snapshot).map_err(|message| SnapshotError::Invalid {
        path: path.to_path_buf(),
        message,
    })?;
    Ok(migrate(snapshot))
}

/// Checks serde cannot express: two records with one name would let their order decide the
/// audit.
fn validate(s: &Snapshot) -> Result<(), String> {
    fn unique<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for n in names {
            if !seen.insert(n) {
                return Err(format!("`{what}` has two records named `{n}`"));
            }
        }
        Ok(())
    }
    unique(
        "connected_apps",
        s.connected_apps
            .items()
            .iter()
            .map(|r| r.full_name.as_str()),
    )?;
    unique(
        "auth_providers",
        s.auth_providers
            .items()
            .iter()
            .map(|r| r.full_name.as_str()),
    )?;
    unique(
        "named_credentials",
        s.named_credentials
            .items()
            .iter()
            .map(|r| r.full_name.as_str()),
    )?;
    unique(
        "sites",
        s.sites.items().iter().map(|r| r.full_name.as_str()),
    )?;
    unique("users (id)", s.users.items().iter().map(|r| r.id.as_str()))?;
    let lower: Vec<String> = s
        .users
        .items()
        .iter()
        .map(|u| u.username.to_lowercase())
        .collect();
    unique("users (username)", lower.iter().map(String::as_str))?;
    unique(
        "permission_sets",
        s.permission_sets.items().iter().map(|r| r.id.as_str()),
    )
}

/// Brings a file written before collections stated their scope up to date: a live collection
/// (or a metadata directory merged with one) read only the users it looked for.
fn migrate(mut snapshot: Snapshot) -> Snapshot {
    if snapshot.source.kind != SourceKind::Manual && snapshot.users.is_collected() {
        snapshot.users.scope = Scope::Requested;
    }
    snapshot
}

/// `serde_json` appends " at line L column C"; the error already carries both.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Snapshot, SnapshotError> {
        parse_snapshot(s.as_bytes(), Path::new("s.json"))
    }

    #[test]
    fn truncated_json_names_line_and_column() {
        let err = parse("{\n  \"schema_version\": 1,\n  \"org\": {").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("s.json:3:"), "{text}");
    }

    #[test]
    fn wrong_version_is_named() {
        let err = parse(r#"{"schema_version": 7}"#).unwrap_err();
        assert!(
            matches!(&err, SnapshotError::Version { found, .. } if found == "7"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_is_rejected_with_position() {
        let err = parse("{\"schema_version\":1,\n\"org\":{\"edtion\":\"x\"}}").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("s.json:2:") && text.contains("edtion"),
            "{text}"
        );
    }

    #[test]
    fn both_states_rejected() {
        let err = parse(
            r#"{"schema_version":1,"sites":{"not_collected":"x","items":[{"full_name":"A"}]}}"#,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("s.json:1:") && text.contains("`items` and `not_collected` at once"),
            "{text}"
        );
    }

    #[test]
    fn older_live_snapshots_say_their_users_are_the_requested_ones() {
        let live = r#"{"schema_version":1,"source":{"kind":"live_org"},"users":{"items":[]}}"#;
        assert_eq!(parse(live).unwrap().users.scope, Scope::Requested);
        let manual = r#"{"schema_version":1,"users":{"items":[]}}"#;
        assert_eq!(parse(manual).unwrap().users.scope, Scope::All);
    }

    #[test]
    fn bom_is_tolerated() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(br#"{"schema_version":1}"#);
        parse_snapshot(&bytes, Path::new("s.json")).unwrap();
    }
}
