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
use super::xml::LineIndex;

/// Folders never searched: VCS data, dependencies, CLI state, macOS archive debris.
const SKIP_DIRS: &[&str] = &[".git", "node_modules", ".sfdx", ".sf", "__MACOSX"];

/// Largest metadata file read (a zip entry could otherwise decompress without bound).
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes read out of one retrieve zip, all entries together (overlapping entries could
/// otherwise expand a small zip a thousandfold).
pub(crate) const MAX_ZIP_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
/// Largest expansion of one zip entry over its compressed size; XML compresses about 10×.
pub(crate) const MAX_ZIP_RATIO: u64 = 100;
/// Entries smaller than this are never refused for their ratio (tiny files compress oddly).
const ZIP_RATIO_FLOOR: u64 = 1024 * 1024;

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
    /// Component files left out because `.forceignore` excludes them from deploys.
    pub forceignored: usize,
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
        /// Bytes read out of the archive so far (see [`MAX_ZIP_TOTAL_BYTES`]).
        expanded: u64,
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
        // The zip reader keeps one entry per name (the last); a repeated name must not let the
        // entries' order decide the audit. The reader says whether there is one; the raw
        // central directory says which (when it can be read that way).
        let repeated = repeated_entry_name(path);
        if archive.has_duplicate_names() || repeated.is_some() {
            let name = repeated.unwrap_or_else(|| "(a repeated name)".to_string());
            return Err(MetadataError::DuplicateZipEntry {
                path: format!("{display}!/{name}"),
            });
        }
        Ok(Input::Zip {
            path: path.to_path_buf(),
            display: display.to_string(),
            archive: Box::new(archive),
            expanded: 0,
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
                ..
            } => list_zip(path, display, archive)?,
        };
        listing.candidates.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(listing)
    }

    /// Reads a candidate's bytes.
    pub fn read(&mut self, candidate: &Candidate) -> Result<Vec<u8>, MetadataError> {
        match (&mut *self, &candidate.at) {
            (Input::Dir { .. }, Where::File(file)) => read_file(file),
            (
                Input::Zip {
                    archive, expanded, ..
                },
                Where::ZipEntry(index),
            ) => {
                let entry_error = |source: std::io::Error| MetadataError::ZipEntry {
                    path: candidate.display.clone(),
                    source,
                };
                let entry = archive
                    .by_index(*index)
                    .map_err(|e| entry_error(std::io::Error::from(e)))?;
                let bytes = read_zip_entry(entry, *expanded, &candidate.display, entry_error)?;
                *expanded += bytes.len() as u64;
                Ok(bytes)
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

/// The first entry name the zip's central directory lists twice, read from the raw records
/// (the zip reader's own index keeps one entry per name). `None` when there is none, or when
/// the directory cannot be read this way (ZIP64, a damaged file: the zip reader then decides).
fn repeated_entry_name(path: &Path) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const CENTRAL: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
    let u16_at = |b: &[u8], i: usize| -> Option<usize> {
        Some(usize::from(u16::from_le_bytes(
            b.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    let u32_at = |b: &[u8], i: usize| -> Option<u64> {
        Some(u64::from(u32::from_le_bytes(
            b.get(i..i + 4)?.try_into().ok()?,
        )))
    };
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    // The end record is in the last 22 bytes plus a comment of at most 64 KiB.
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = Vec::new();
    file.by_ref().take(tail_len).read_to_end(&mut tail).ok()?;
    let end = tail.windows(4).rposition(|w| w == EOCD)?;
    let size = u32_at(&tail, end + 12)?;
    let offset = u32_at(&tail, end + 16)?;
    if size == u64::from(u32::MAX) || offset == u64::from(u32::MAX) || size > MAX_FILE_BYTES {
        return None;
    }
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut dir = Vec::new();
    file.take(size).read_to_end(&mut dir).ok()?;
    let mut seen = std::collections::HashSet::new();
    let mut at = 0;
    while dir.get(at..at + 4) == Some(&CENTRAL[..]) {
        let name_len = u16_at(&dir, at + 28)?;
        let extra_len = u16_at(&dir, at + 30)?;
        let comment_len = u16_at(&dir, at + 32)?;
        let name =
            String::from_utf8_lossy(dir.get(at + 46..at + 46 + name_len)?).replace('\\', "/");
        if !seen.insert(name.clone()) {
            return Some(name);
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    None
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

/// Reads one zip entry within the per-file limit, what is left of the archive's total, and the
/// expansion ratio; the limit that stops it is named.
fn read_zip_entry(
    entry: zip::read::ZipFile<'_, File>,
    expanded_so_far: u64,
    display: &str,
    on_error: impl Fn(std::io::Error) -> MetadataError,
) -> Result<Vec<u8>, MetadataError> {
    let left = MAX_ZIP_TOTAL_BYTES.saturating_sub(expanded_so_far);
    let by_ratio = entry
        .compressed_size()
        .saturating_mul(MAX_ZIP_RATIO)
        .max(ZIP_RATIO_FLOOR);
    let cap = MAX_FILE_BYTES.min(left).min(by_ratio);
    let mut bytes = Vec::new();
    entry
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(on_error)?;
    if bytes.len() as u64 <= cap {
        return Ok(bytes);
    }
    let mib = |n: u64| n / (1024 * 1024);
    // The most specific limit first: the file's own size, then its ratio, then the total.
    let what = if cap == MAX_FILE_BYTES {
        return Err(MetadataError::TooLarge {
            path: display.to_string(),
            limit: MAX_FILE_BYTES,
        });
    } else if cap == by_ratio {
        format!(
            "the entry expands more than {MAX_ZIP_RATIO} times its compressed size (the compression ratio limit)"
        )
    } else {
        format!(
            "the zip expands to more than the limit of {} MiB in all",
            mib(MAX_ZIP_TOTAL_BYTES)
        )
    };
    Err(MetadataError::ZipLimit {
        path: display.to_string(),
        what,
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, MetadataError> {
    let read_error = |source| MetadataError::Read {
        path: path.to_path_buf(),
        source,
    };
    // Only a regular file (through a link, too): a FIFO or a device would block or never end.
    if !std::fs::metadata(path).map_err(read_error)?.is_file() {
        return Err(MetadataError::NotRegularFile {
            path: path.to_path_buf(),
        });
    }
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
        let project_display = join_display(display, "sfdx-project.json");
        let parsed = parse_project(&bytes, &project_display)?;
        source_api_version = parsed.source_api_version;
        let mut dirs = parsed.package_dirs;
        if dirs.is_empty() {
            dirs.push(PackageDir {
                entry: "the default package directory (sfdx-project.json lists none)".to_string(),
                rel: "force-app".to_string(),
                at: parsed.dirs_at,
            });
        }
        let root_real = root.canonicalize().map_err(|source| MetadataError::Read {
            path: root.to_path_buf(),
            source,
        })?;
        for dir in &dirs {
            check_package_dir(root, &root_real, display, &project_display, dir)?;
        }
        (Naming::Source, dirs.into_iter().map(|d| d.rel).collect())
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
    let forceignored = apply_forceignore(root, display, &mut candidates)?;
    Ok(Listing {
        candidates,
        package_xml,
        source_api_version,
        forceignored,
    })
}

/// Drops the files `.forceignore` (gitignore syntax, at the project's root) excludes: they
/// never deploy, so they say nothing about the org. Returns how many were dropped.
fn apply_forceignore(
    root: &Path,
    display: &str,
    candidates: &mut Vec<Candidate>,
) -> Result<usize, MetadataError> {
    let path = root.join(".forceignore");
    if !path.exists() {
        return Ok(0);
    }
    let bytes = read_file(&path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut builder = ignore::gitignore::GitignoreBuilder::new("");
    for (index, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        builder
            .add_line(None, line)
            .map_err(|e| MetadataError::ForceIgnore {
                path: join_display(display, ".forceignore"),
                line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                message: e.to_string(),
            })?;
    }
    let matcher = builder.build().map_err(|e| MetadataError::ForceIgnore {
        path: join_display(display, ".forceignore"),
        line: 1,
        message: e.to_string(),
    })?;
    let before = candidates.len();
    candidates.retain(|c| {
        !matcher
            .matched_path_or_any_parents(Path::new(&c.rel), false)
            .is_ignore()
    });
    Ok(before - candidates.len())
}

/// A package directory of `sfdx-project.json`, already confined to the project folder.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PackageDir {
    /// How errors name it: `packageDirectories[1].path "extra"`.
    entry: String,
    /// Relative to the project folder, `/`-separated, normalized (`""` is the folder itself).
    rel: String,
    /// Line and column of the entry in sfdx-project.json.
    at: (u32, u32),
}

/// What `sfdx-project.json` says.
#[derive(Debug)]
struct Project {
    package_dirs: Vec<PackageDir>,
    /// Where `packageDirectories` stands (or 1:1), for errors about the default folder.
    dirs_at: (u32, u32),
    source_api_version: Option<String>,
}

/// A package directory must exist, be a folder, and stay inside the project folder once
/// symbolic links are resolved (the walk below it follows none).
fn check_package_dir(
    root: &Path,
    root_real: &Path,
    display: &str,
    project_display: &str,
    dir: &PackageDir,
) -> Result<(), MetadataError> {
    let error = |message: String| MetadataError::Project {
        path: project_display.to_string(),
        line: dir.at.0,
        column: dir.at.1,
        message,
    };
    let path = if dir.rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(&dir.rel)
    };
    let shown = join_display(display, &dir.rel);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(error(format!("{}: there is no folder {shown}", dir.entry)));
        }
        Err(source) => return Err(MetadataError::Read { path, source }),
    };
    if !meta.is_dir() {
        return Err(error(format!("{}: {shown} is not a folder", dir.entry)));
    }
    let real = path.canonicalize().map_err(|source| MetadataError::Read {
        path: path.clone(),
        source,
    })?;
    if !real.starts_with(root_real) {
        return Err(error(format!(
            "{}: {shown} is a symbolic link to {}, outside the project folder",
            dir.entry,
            real.display()
        )));
    }
    Ok(())
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

/// `packageDirectories[].path` and `sourceApiVersion` of `sfdx-project.json`. A path must stay
/// inside the project folder: an absolute path or one that `..` takes out of it is an error at
/// the entry. Entries without a string `path` are ignored.
fn parse_project(bytes: &[u8], display: &str) -> Result<Project, MetadataError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| MetadataError::Project {
            path: display.to_string(),
            line: u32::try_from(e.line()).unwrap_or(u32::MAX),
            column: u32::try_from(e.column()).unwrap_or(u32::MAX),
            message: e.to_string(),
        })?;
    let key = b"\"packageDirectories\"";
    let dirs_offset = find(bytes, key, 0);
    let lines = LineIndex::new(bytes);
    let dirs_at = dirs_offset.map_or((1, 1), |o| lines.position(o));
    let mut package_dirs = Vec::new();
    let mut search_from = dirs_offset.map_or(0, |o| o + key.len());
    let entries = value
        .get("packageDirectories")
        .and_then(|d| d.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (index, d) in entries.iter().enumerate() {
        let Some(raw) = d.get("path").and_then(|p| p.as_str()) else {
            continue;
        };
        // The entry's position: its string literal, searched in order after the key (an
        // escaped spelling is not found, and the key's position stands in).
        let literal = serde_json::Value::from(raw).to_string();
        let at = match find(bytes, literal.as_bytes(), search_from) {
            Some(o) => {
                search_from = o + literal.len();
                lines.position(o)
            }
            None => dirs_at,
        };
        let entry = format!("packageDirectories[{index}].path {literal}");
        let rel = confine(raw).map_err(|why| MetadataError::Project {
            path: display.to_string(),
            line: at.0,
            column: at.1,
            message: format!(
                "{entry} {why}; a package directory must be inside the project folder"
            ),
        })?;
        package_dirs.push(PackageDir { entry, rel, at });
    }
    let source_api_version = value
        .get("sourceApiVersion")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok(Project {
        package_dirs,
        dirs_at,
        source_api_version,
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A package directory path as a normalized relative path (`./a/b/` → `a/b`, `.` → empty), or why
/// it leaves the project folder.
fn confine(p: &str) -> Result<String, &'static str> {
    let s = p.trim().replace('\\', "/");
    let drive = s.len() >= 2 && s.as_bytes()[1] == b':' && s.as_bytes()[0].is_ascii_alphabetic();
    if s.starts_with('/') || drive {
        return Err("is an absolute path");
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("leads out of the project folder");
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
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
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| MetadataError::Read {
            path: dir.clone(),
            source,
        })?;
        let folder = dir.file_name().map(|f| f.to_string_lossy().into_owned());
        for entry in entries {
            let entry = entry.map_err(|source| MetadataError::Read {
                path: dir.clone(),
                source,
            })?;
            // `DirEntry::file_type` does not follow symbolic links: a linked folder is not a
            // folder here, so it is never entered (no cycles, nothing outside the input).
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
            // A symlinked file is read (through the link); one to a folder, or dangling, is not.
            // A FIFO, device or socket named like a metadata file is refused when it is read
            // (`read_file`), after `.forceignore` had its say.
            let path = entry.path();
            if file_type.is_symlink() && (path.is_dir() || !path.exists()) {
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
        forceignored: 0,
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
        let project = parse_project(
            br#"{"packageDirectories":[{"path":"./force-app/"},{"path":"b"},{"default":true}],"sourceApiVersion":"62.0"}"#,
            "p",
        )
        .unwrap();
        let rels: Vec<&str> = project
            .package_dirs
            .iter()
            .map(|d| d.rel.as_str())
            .collect();
        assert_eq!(rels, ["force-app", "b"]);
        assert_eq!(
            project.package_dirs[1].entry,
            r#"packageDirectories[1].path "b""#
        );
        assert_eq!(project.source_api_version.as_deref(), Some("62.0"));
    }

    #[test]
    fn package_directories_stay_inside_the_project() {
        assert_eq!(confine("./a/./b/"), Ok("a/b".to_string()));
        assert_eq!(confine("."), Ok(String::new()));
        assert_eq!(confine("a/../b"), Ok("b".to_string()));
        assert_eq!(confine("a\\b"), Ok("a/b".to_string()));
        assert_eq!(confine("/srv/app"), Err("is an absolute path"));
        assert_eq!(confine("\\\\server\\share"), Err("is an absolute path"));
        assert_eq!(confine("C:/app"), Err("is an absolute path"));
        assert_eq!(confine(".."), Err("leads out of the project folder"));
        assert_eq!(confine("a/../../b"), Err("leads out of the project folder"));

        let text = "{\n  \"packageDirectories\": [\n    { \"path\": \"force-app\" },\n    { \"path\": \"../shared\" }\n  ]\n}";
        let err = parse_project(text.as_bytes(), "p/sfdx-project.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "p/sfdx-project.json:4:15: invalid sfdx-project.json: packageDirectories[1].path \
             \"../shared\" leads out of the project folder; a package directory must be inside \
             the project folder"
        );
    }

    /// A zip in memory with these entries (deflated).
    fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            std::io::Write::write_all(&mut w, data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn open_zip(dir: &Path, bytes: &[u8]) -> Input {
        let path = dir.join("retrieve.zip");
        std::fs::write(&path, bytes).unwrap();
        Input::open(&path, "retrieve.zip").unwrap()
    }

    #[test]
    fn zip_entries_are_bounded_by_ratio_and_total() {
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![b' '; 8 * 1024 * 1024];
        let mut input = open_zip(
            dir.path(),
            &zip_bytes(&[("unpackaged/connectedApps/A.connectedApp", &zeros)]),
        );
        let listing = input.list().unwrap();
        let e = input.read(&listing.candidates[0]).unwrap_err().to_string();
        assert!(e.contains("compression ratio limit"), "{e}");
        let ok = b"<ConnectedApp/>".repeat(10);
        let mut input = open_zip(
            dir.path(),
            &zip_bytes(&[("unpackaged/connectedApps/A.connectedApp", &ok)]),
        );
        let listing = input.list().unwrap();
        if let Input::Zip { expanded, .. } = &mut input {
            *expanded = MAX_ZIP_TOTAL_BYTES - 10;
        }
        let e = input.read(&listing.candidates[0]).unwrap_err().to_string();
        assert!(e.contains("more than the limit of 256 MiB in all"), "{e}");
    }

    #[test]
    fn duplicate_zip_entries_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = zip_bytes(&[
            ("unpackaged/connectedApps/A.connectedApp", b"<a/>"),
            ("unpackaged/connectedApps/B.connectedApp", b"<b/>"),
        ]);
        // Rename the second entry to the first's name (in its local and central headers).
        let from = b"connectedApps/B.connectedApp";
        let to = b"connectedApps/A.connectedApp";
        let mut i = 0;
        while let Some(at) = find(&bytes, from, i) {
            bytes[at..at + from.len()].copy_from_slice(to);
            i = at + 1;
        }
        let path = dir.path().join("retrieve.zip");
        std::fs::write(&path, &bytes).unwrap();
        let e = Input::open(&path, "retrieve.zip")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("retrieve.zip!/unpackaged/connectedApps/A.connectedApp")
                && e.contains("two entries of this name"),
            "{e}"
        );
    }

    #[test]
    fn a_fifo_named_like_metadata_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let apps = dir.path().join("connectedApps");
        std::fs::create_dir(&apps).unwrap();
        let fifo = apps.join("A.connectedApp-meta.xml");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let mut input = Input::open(dir.path(), "dir").unwrap();
        let listing = input.list().unwrap();
        let e = input.read(&listing.candidates[0]).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
