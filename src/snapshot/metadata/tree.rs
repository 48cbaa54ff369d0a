//! Finding the metadata files: a directory (source or mdapi format) or a retrieve `.zip`.
//!
//! Only names are looked at while walking; a file is opened only when its name (and, for mdapi
//! names, its folder) says it is one of the kinds the loader reads.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::error::MetadataError;
use super::parse::MetadataKind;

/// Folders never searched: VCS data, dependencies, CLI state, macOS archive debris.
const SKIP_DIRS: &[&str] = &[".git", "node_modules", ".sfdx", ".sf", "__MACOSX"];

/// Largest metadata file read (a zip entry could otherwise decompress without bound).
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Which file names count: a source-format project holds only `*-meta.xml` files, an mdapi
/// retrieve only bare `X.connectedApp` names; without either marker both are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    Source,
    Mdapi,
    Either,
}

impl Naming {
    fn accepts(self, file_name: &str) -> bool {
        match self {
            Naming::Source => file_name.ends_with("-meta.xml"),
            Naming::Mdapi => !file_name.ends_with("-meta.xml"),
            Naming::Either => true,
        }
    }
}

/// A file the loader will parse.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub kind: MetadataKind,
    pub full_name: String,
    /// Path relative to the input, `/`-separated.
    pub rel: String,
    /// The form used in locations and errors.
    pub display: String,
    at: Where,
}

#[derive(Debug, Clone)]
enum Where {
    File(PathBuf),
    ZipEntry(usize),
}

/// What was found, before any file is opened.
pub(crate) struct Listing {
    /// Component files, sorted by relative path.
    pub candidates: Vec<Candidate>,
    /// An mdapi `package.xml` (parsed for validation and its API version).
    pub package_xml: Option<Candidate>,
    /// `sourceApiVersion` of `sfdx-project.json`.
    pub source_api_version: Option<String>,
}

/// An opened input.
pub(crate) enum Input {
    Dir {
        root: PathBuf,
        display: String,
    },
    Zip {
        path: PathBuf,
        display: String,
        archive: Box<ZipArchive<File>>,
    },
}

impl Input {
    /// Opens a directory or a zip file; anything else is refused.
    pub fn open(path: &Path, display: &str) -> Result<Input, MetadataError> {
        let meta = std::fs::metadata(path).map_err(|source| MetadataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            return Ok(Input::Dir {
                root: path.to_path_buf(),
                display: display.to_string(),
            });
        }
        if !meta.is_file() || !looks_like_zip(path)? {
            return Err(MetadataError::NotDirectoryOrZip {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(|source| MetadataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let archive = ZipArchive::new(file).map_err(|source| MetadataError::Zip {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Input::Zip {
            path: path.to_path_buf(),
            display: display.to_string(),
            archive: Box::new(archive),
        })
    }

    /// Lists the candidate files.
    pub fn list(&self) -> Result<Listing, MetadataError> {
        let mut listing = match self {
            Input::Dir { root, display } => list_dir(root, display)?,
            Input::Zip {
                path,
                display,
                archive,
            } => list_zip(path, display, archive)?,
        };
        listing.candidates.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(listing)
    }

    /// Reads a candidate's bytes.
    pub fn read(&mut self, candidate: &Candidate) -> Result<Vec<u8>, MetadataError> {
        match (&mut *self, &candidate.at) {
            (Input::Dir { .. }, Where::File(file)) => read_file(file),
            (Input::Zip { archive, .. }, Where::ZipEntry(index)) => {
                let entry_error = |source: std::io::Error| MetadataError::ZipEntry {
                    path: candidate.display.clone(),
                    source,
                };
                let entry = archive
                    .by_index(*index)
                    .map_err(|e| entry_error(std::io::Error::from(e)))?;
                read_limited(entry, &candidate.display, entry_error)
            }
            // A candidate is only ever read from the input that listed it.
            (Input::Dir { root, .. }, Where::ZipEntry(_)) => {
                Err(MetadataError::NotDirectoryOrZip { path: root.clone() })
            }
            (Input::Zip { path, .. }, Where::File(_)) => {
                Err(MetadataError::NotDirectoryOrZip { path: path.clone() })
            }
        }
    }
}

fn looks_like_zip(path: &Path) -> Result<bool, MetadataError> {
    let by_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if by_name {
        return Ok(true);
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|source| MetadataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let n = file
        .read(&mut magic)
        .map_err(|source| MetadataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06"))
}

fn read_file(path: &Path) -> Result<Vec<u8>, MetadataError> {
    let read_error = |source| MetadataError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let display = path.to_string_lossy().into_owned();
    read_limited(file, &display, read_error)
}

fn read_limited(
    reader: impl Read,
    display: &str,
    on_error: impl Fn(std::io::Error) -> MetadataError,
) -> Result<Vec<u8>, MetadataError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(on_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(MetadataError::TooLarge {
            path: display.to_string(),
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(bytes)
}

/// `base` + `/` + `rel`, without `./` noise.
pub(crate) fn join_display(base: &str, rel: &str) -> String {
    if base.is_empty() || base == "." {
        rel.to_string()
    } else if base.ends_with('/') {
        format!("{base}{rel}")
    } else {
        format!("{base}/{rel}")
    }
}

/// The path as given, `/`-separated, without a leading `./` or trailing `/`.
pub(crate) fn display_path(path: &Path) -> String {
    let mut s = path.to_string_lossy().replace('\\', "/");
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    while s.len() > 1 && s.ends_with('/') {
        s.pop();
    }
    if s.is_empty() { ".".to_string() } else { s }
}

fn list_dir(root: &Path, display: &str) -> Result<Listing, MetadataError> {
    let project = root.join("sfdx-project.json");
    let mut source_api_version = None;
    let mut package_xml = None;
    // sfdx-project.json: its package directories; package.xml: an mdapi tree; a force-app
    // folder: the default package directory; otherwise the folder as given (a package dir).
    let (naming, roots) = if project.is_file() {
        let bytes = read_file(&project)?;
        let (dirs, version) = parse_project(&bytes, &join_display(display, "sfdx-project.json"))?;
        source_api_version = version;
        let dirs = if dirs.is_empty() {
            vec!["force-app".to_string()]
        } else {
            dirs
        };
        (Naming::Source, dirs)
    } else if root.join("package.xml").is_file() {
        package_xml = Some(Candidate {
            kind: MetadataKind::Package,
            full_name: "package".to_string(),
            rel: "package.xml".to_string(),
            display: join_display(display, "package.xml"),
            at: Where::File(root.join("package.xml")),
        });
        (Naming::Mdapi, vec![String::new()])
    } else if root.join("force-app").is_dir() {
        (Naming::Source, vec!["force-app".to_string()])
    } else {
        (Naming::Either, vec![String::new()])
    };
    let mut candidates = Vec::new();
    for rel in outermost(roots) {
        walk(root, &rel, display, naming, &mut candidates)?;
    }
    Ok(Listing {
        candidates,
        package_xml,
        source_api_version,
    })
}

/// Drops package directories nested in (or equal to) another, so no file is read twice.
fn outermost(mut roots: Vec<String>) -> Vec<String> {
    roots.sort();
    roots.dedup();
    let mut kept: Vec<String> = Vec::new();
    for r in roots {
        let inside = kept
            .iter()
            .any(|k| k.is_empty() || r == *k || r.starts_with(&format!("{k}/")));
        if !inside {
            kept.push(r);
        }
    }
    kept
}

/// `packageDirectories[].path` and `sourceApiVersion` of `sfdx-project.json`.
fn parse_project(
    bytes: &[u8],
    display: &str,
) -> Result<(Vec<String>, Option<String>), MetadataError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| MetadataError::Project {
            path: display.to_string(),
            line: u32::try_from(e.line()).unwrap_or(u32::MAX),
            column: u32::try_from(e.column()).unwrap_or(u32::MAX),
            message: e.to_string(),
        })?;
    let dirs = value
        .get("packageDirectories")
        .and_then(|d| d.as_array())
        .map(|dirs| {
            dirs.iter()
                .filter_map(|d| d.get("path").and_then(|p| p.as_str()))
                .map(normalize_rel)
                .collect()
        })
        .unwrap_or_default();
    let version = value
        .get("sourceApiVersion")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok((dirs, version))
}

fn normalize_rel(p: &str) -> String {
    let mut s = p.trim().replace('\\', "/");
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    while s.ends_with('/') {
        s.pop();
    }
    if s == "." { String::new() } else { s }
}

fn walk(
    root: &Path,
    start: &str,
    display: &str,
    naming: Naming,
    out: &mut Vec<Candidate>,
) -> Result<(), MetadataError> {
    let start_path = if start.is_empty() {
        root.to_path_buf()
    } else {
        root.join(start)
    };
    let mut stack = vec![(start_path, start.to_string())];
    let mut first = true;
    while let Some((dir, rel)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // A package directory named in sfdx-project.json that does not exist holds nothing.
            Err(e) if first && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(MetadataError::Read { path: dir, source }),
        };
        first = false;
        let folder = dir.file_name().map(|f| f.to_string_lossy().into_owned());
        for entry in entries {
            let entry = entry.map_err(|source| MetadataError::Read {
                path: dir.clone(),
                source,
            })?;
            let file_type = entry.file_type().map_err(|source| MetadataError::Read {
                path: entry.path(),
                source,
            })?;
            let name_os = entry.file_name();
            let name = name_os.to_string_lossy();
            if file_type.is_dir() {
                if !SKIP_DIRS.contains(&name.as_ref()) {
                    let child_rel = if rel.is_empty() {
                        name.to_string()
                    } else {
                        format!("{rel}/{name}")
                    };
                    stack.push((entry.path(), child_rel));
                }
                continue;
            }
            if !naming.accepts(&name) {
                continue;
            }
            let Some((kind, full_name)) = MetadataKind::classify(&name, folder.as_deref()) else {
                continue;
            };
            // Symlinked folders are not followed (no cycles); symlinked files are read.
            if file_type.is_symlink() && !entry.path().is_file() {
                continue;
            }
            let file_rel = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            out.push(Candidate {
                kind,
                full_name,
                display: join_display(display, &file_rel),
                rel: file_rel,
                at: Where::File(entry.path()),
            });
        }
    }
    Ok(())
}

fn list_zip(
    path: &Path,
    display: &str,
    archive: &ZipArchive<File>,
) -> Result<Listing, MetadataError> {
    let mut candidates = Vec::new();
    let mut package_xml: Option<Candidate> = None;
    for index in 0..archive.len() {
        let name = match archive.name_for_index(index) {
            Some(Ok(name)) => name.replace('\\', "/"),
            Some(Err(source)) => {
                return Err(MetadataError::Zip {
                    path: path.to_path_buf(),
                    source,
                });
            }
            None => continue,
        };
        if name.ends_with('/') {
            continue;
        }
        let parts: Vec<&str> = name
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let Some((file_name, folders)) = parts.split_last() else {
            continue;
        };
        if folders.iter().any(|f| SKIP_DIRS.contains(f)) {
            continue;
        }
        let rel = parts.join("/");
        let entry_display = format!("{display}!/{rel}");
        if *file_name == "package.xml" && folders.len() <= 1 {
            // The retrieve's own manifest: at the top, or in its single top folder.
            let better = package_xml.as_ref().is_none_or(|p| rel.len() < p.rel.len());
            if better {
                package_xml = Some(Candidate {
                    kind: MetadataKind::Package,
                    full_name: "package".to_string(),
                    rel,
                    display: entry_display,
                    at: Where::ZipEntry(index),
                });
            }
            continue;
        }
        if let Some((kind, full_name)) = MetadataKind::classify(file_name, folders.last().copied())
        {
            candidates.push(Candidate {
                kind,
                full_name,
                rel,
                display: entry_display,
                at: Where::ZipEntry(index),
            });
        }
    }
    if package_xml.is_some() {
        // An mdapi retrieve: stray source-format files are not part of it.
        candidates.retain(|c| Naming::Mdapi.accepts(&c.rel));
    }
    Ok(Listing {
        candidates,
        package_xml,
        source_api_version: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_are_slash_separated_and_clean() {
        assert_eq!(display_path(Path::new("./fixtures/x/")), "fixtures/x");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(display_path(Path::new("/")), "/");
        assert_eq!(join_display(".", "a/b"), "a/b");
        assert_eq!(join_display("/", "a"), "/a");
        assert_eq!(join_display("d", "a"), "d/a");
    }

    #[test]
    fn nested_package_directories_are_walked_once() {
        let roots = vec![
            "force-app/main".into(),
            "force-app".into(),
            "other".into(),
            "force-app".into(),
        ];
        assert_eq!(
            outermost(roots),
            vec!["force-app".to_string(), "other".to_string()]
        );
        assert_eq!(
            outermost(vec![String::new(), "x".into()]),
            vec![String::new()]
        );
    }

    #[test]
    fn project_errors_have_positions() {
        let err = parse_project(
            b"{\n  \"packageDirectories\": [,]\n}",
            "p/sfdx-project.json",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("p/sfdx-project.json:2:"), "{err}");
        let (dirs, v) = parse_project(
            br#"{"packageDirectories":[{"path":"./force-app/"},{"path":"b"}],"sourceApiVersion":"62.0"}"#,
            "p",
        )
        .unwrap();
        assert_eq!(dirs, vec!["force-app".to_string(), "b".to_string()]);
        assert_eq!(v.as_deref(), Some("62.0"));
    }
}
