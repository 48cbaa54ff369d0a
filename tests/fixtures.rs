//! The snapshot fixtures that describe a broken org are the healthy one plus a small JSON Patch
//! (RFC 6902, `fixtures/snapshot-patches/NAME.json`): this test keeps each fixture equal to
//! `healthy.json` with its patch applied, so a change to the healthy fixture cannot leave the
//! broken ones testing something else, and a reviewer reads the patch to see what is broken.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;

/// Applies the `add`, `remove` and `replace` operations of a JSON Patch (the ones the patches
/// use); any other operation fails the test.
fn apply(mut doc: Value, patch: &Value) -> Value {
    for op in patch.as_array().expect("a patch is an array") {
        let path = op["path"].as_str().expect("path");
        let (parent, key) = path.rsplit_once('/').expect("a path below the root");
        let key = key.replace("~1", "/").replace("~0", "~");
        let target = doc
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent} for {path}"));
        match (op["op"].as_str(), target) {
            (Some("add" | "replace"), Value::Object(map)) => {
                map.insert(key, op["value"].clone());
            }
            (Some("replace"), Value::Array(items)) => {
                let i: usize = key.parse().expect("an array index");
                items[i] = op["value"].clone();
            }
            (Some("remove"), Value::Object(map)) => {
                assert!(map.remove(&key).is_some(), "nothing to remove at {path}");
            }
            (other, _) => panic!("unsupported patch operation {other:?} at {path}"),
        }
    }
    doc
}

#[test]
fn every_broken_fixture_is_the_healthy_one_plus_its_patch() {
    let dir = common::root().join("fixtures/snapshots");
    let healthy = common::healthy_json();
    let mut checked = 0;
    for entry in std::fs::read_dir(common::root().join("fixtures/snapshot-patches")).unwrap() {
        let patch_path = entry.unwrap().path();
        let name = patch_path.file_name().unwrap().to_owned();
        let patch: Value =
            serde_json::from_str(&std::fs::read_to_string(&patch_path).unwrap()).unwrap();
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).unwrap()).unwrap();
        assert!(
            apply(healthy.clone(), &patch) == fixture,
            "fixtures/snapshots/{} is not healthy.json + fixtures/snapshot-patches/{}",
            name.to_string_lossy(),
            name.to_string_lossy()
        );
        checked += 1;
    }
    // Every other snapshot fixture has a patch.
    let fixtures = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_some_and(|x| x == "json") && !p.ends_with("healthy.json")
        })
        .count();
    assert_eq!(
        checked, fixtures,
        "a fixture without a patch in fixtures/snapshot-patches"
    );
}

#[test]
fn a_patch_that_does_not_fit_is_caught() {
    let healthy = common::healthy_json();
    let patch = serde_json::json!([{"op": "replace", "path": "/org/eci_enabled", "value": false}]);
    assert_ne!(apply(healthy.clone(), &patch), healthy);
}
