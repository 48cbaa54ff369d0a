//! Shared helpers for the integration tests: loading the healthy fixture, patching it by
//! readable paths, and running an audit through the library.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::NaiveDate;
use serde_json::Value;

use eci_audit::audit::{self, Audit, AuditOptions, FailOn};
use eci_audit::facts::Settings;
use eci_audit::rules::Catalogue;
use eci_audit::snapshot::parse_snapshot;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run in `dir`, with none of the environment that changes its output or reaches
/// out (colours, width, credentials) inherited from the shell running the tests.
pub fn eci_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("eci-audit").expect("binary");
    cmd.current_dir(dir);
    for var in [
        "NO_COLOR",
        "COLUMNS",
        "AIRCALL_API_ID",
        "AIRCALL_API_TOKEN",
        "SF_ACCESS_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The binary run with `args` in the repository root.
pub fn run(args: &[&str]) -> Output {
    eci_in(&root()).args(args).output().expect("run")
}

/// The binary run with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    eci_in(dir).args(args).output().expect("run")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// insta settings that show the tool's version as `[VERSION]`.
pub fn version_filters() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex::escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    s
}

pub fn healthy_json() -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/snapshots/healthy.json"))
        .expect("healthy fixture");
    serde_json::from_str(&text).expect("healthy fixture is JSON")
}

/// Writes a (patched) snapshot as `s.json` in `dir` and returns its path.
pub fn write_snapshot(dir: &Path, snapshot: &Value) -> PathBuf {
    let file = dir.join("s.json");
    std::fs::write(&file, serde_json::to_vec(snapshot).expect("serialize"))
        .expect("write snapshot");
    file
}

/// Settings with a fixed date, so expiry logic is deterministic.
pub fn settings() -> Settings {
    Settings::new(NaiveDate::from_ymd_opt(2026, 11, 28).expect("date"))
}

/// Runs every rule against the JSON snapshot.
pub fn audit_json(snapshot: &Value, settings: Settings) -> Audit {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let bytes = serde_json::to_vec(snapshot).expect("serialize");
    let snap =
        parse_snapshot(&bytes, Path::new("case.json")).expect("patched snapshot stays valid");
    let selected: BTreeSet<String> = catalogue.ids().map(String::from).collect();
    audit::run(
        &snap,
        "case.json",
        &catalogue,
        &AuditOptions {
            config_file: None,
            settings,
            selected,
            waivers: Vec::new(),
            fail_on: FailOn::Error,
            allow_incomplete: false,
        },
    )
}

/// Finds the child named `seg`: an object key, or in a collection (`{"items": [...]}`) or a
/// list, the record whose `full_name` / username / id / label / name / `parent_id` equals `seg`
/// (else, for a number, the record at that index).
fn child<'a>(v: &'a mut Value, seg: &str) -> Option<&'a mut Value> {
    let is_collection = v.get("items").is_some() && v.get(seg).is_none();
    let list = if is_collection {
        v.get_mut("items")?
    } else {
        v
    };
    match list {
        Value::Array(items) => {
            let by_name = items.iter().position(|item| {
                ["full_name", "username", "id", "label", "name", "parent_id"]
                    .iter()
                    .any(|k| item.get(k).and_then(Value::as_str) == Some(seg))
            });
            // Records without a name (tokens, logins) are addressed by their index.
            let index = by_name.or_else(|| seg.parse::<usize>().ok());
            index.and_then(|i| items.get_mut(i))
        }
        Value::Object(map) => map.get_mut(seg),
        _ => None,
    }
}

fn parent_and_key<'a>(v: &'a mut Value, path: &str) -> (&'a mut Value, String) {
    let segs: Vec<&str> = path.split('/').collect();
    let (last, init) = segs.split_last().expect("non-empty path");
    let mut cur = v;
    for s in init {
        cur = child(cur, s).unwrap_or_else(|| panic!("path {path}: no `{s}`"));
    }
    (cur, (*last).to_string())
}

pub fn set(v: &mut Value, path: &str, value: Value) {
    let (parent, key) = parent_and_key(v, path);
    if let Some(obj) = parent.as_object_mut()
        && (obj.contains_key(&key) || obj.get("items").is_none())
    {
        obj.insert(key, value);
        return;
    }
    let target = child(parent, &key).unwrap_or_else(|| panic!("path {path}: no `{key}`"));
    *target = value;
}

pub fn remove(v: &mut Value, path: &str) {
    let (parent, key) = parent_and_key(v, path);
    if let Some(obj) = parent.as_object_mut()
        && obj.remove(&key).is_some()
    {
        return;
    }
    let items = if parent.get("items").is_some() {
        parent.get_mut("items").expect("items")
    } else {
        parent
    };
    let arr = items
        .as_array_mut()
        .unwrap_or_else(|| panic!("path {path}: not removable"));
    let before = arr.len();
    arr.retain(|item| {
        !["full_name", "username", "id", "label", "name", "parent_id"]
            .iter()
            .any(|k| item.get(k).and_then(Value::as_str) == Some(key.as_str()))
    });
    assert!(arr.len() < before, "path {path}: nothing removed");
}

/// Marks a collection, or a record field, as not collected.
pub fn uncollect(v: &mut Value, path: &str, reason: &str) {
    let (parent, key) = parent_and_key(v, path);
    let target_is_collection = parent.get(&key).and_then(|t| t.get("items")).is_some();
    if target_is_collection {
        parent[&key] = serde_json::json!({ "not_collected": reason });
        return;
    }
    let obj = parent
        .as_object_mut()
        .unwrap_or_else(|| panic!("path {path}: parent is not a record"));
    obj.remove(&key);
    let nc = obj
        .entry("not_collected")
        .or_insert_with(|| serde_json::json!({}));
    nc[&key] = Value::String(reason.to_string());
}

/// Copies a fixture tree into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// The result of rule `id` in a JSON report.
pub fn finding(report: &Value, id: &str) -> Value {
    report["results"]
        .as_array()
        .and_then(|results| results.iter().find(|r| r["rule"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no result for {id}"))
}

/// Asserts a run's exit code, showing its standard error when it differs.
pub fn assert_exit(o: &std::process::Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Asserts a run's exit code and that its standard error says `needle`.
pub fn assert_error(o: &std::process::Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
}

/// Writes `text` as `name` in `dir` (a config file, a rule file) and returns its path.
pub fn write_file(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(&path, text).expect("write file");
    path
}
