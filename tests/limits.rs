//! Every input is bounded: a limit that is hit ends the run with exit 2 and a message naming
//! the limit, and only regular files are read as inputs (a FIFO or a device would block or
//! never end). Inputs here are modest; the bounds are asserted on the result, not on time.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::stderr;

use std::path::Path;
use std::process::Output;

fn run(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("eci-audit")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_mins(1))
        .output()
        .unwrap()
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo");
}

#[test]
fn a_fifo_or_a_device_is_not_read_as_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("snap.json");
    mkfifo(&fifo);
    let o = run(dir.path(), &["check", "--snapshot", fifo.to_str().unwrap()]);
    common::assert_error(&o, 2, "not a regular file");
    let o = run(dir.path(), &["check", "--snapshot", "/dev/zero"]);
    common::assert_error(&o, 2, "not a regular file");
}

#[test]
fn a_snapshot_over_the_size_limit_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    // A sparse file: its size is over the limit without writing the bytes.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(eci_audit::snapshot::load::MAX_SNAPSHOT_BYTES + 1)
        .unwrap();
    let o = run(dir.path(), &["check", "--snapshot", big.to_str().unwrap()]);
    common::assert_error(&o, 2, "larger than the limit of 256 MiB");
}

#[test]
fn a_config_with_a_hundred_thousand_selectors_is_read_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..100_000)
        .map(|i| format!("\"CAP{:03}\"", i % 16 + 1))
        .collect();
    let config = dir.path().join("big.toml");
    std::fs::write(&config, format!("select = [{}]\n", ids.join(","))).unwrap();
    let snapshot =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/snapshots/healthy.json");
    // The run is bounded by `run`'s timeout; the old per-value line index made this minutes.
    let o = run(
        dir.path(),
        &[
            "check",
            snapshot.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), 16);
}

#[test]
fn day_windows_are_bounded_and_huge_days_in_a_snapshot_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = common::root().join("fixtures/snapshots/healthy.json");
    let healthy = healthy.to_str().unwrap();
    for flag in ["--changes-days", "--token-expiry-warning"] {
        let o = run(dir.path(), &["check", healthy, flag, "100000000"]);
        common::assert_error(&o, 2, "must be at most 36500 days (the limit)");
        assert!(stderr(&o).contains(flag), "{}", stderr(&o));
    }
    std::fs::write(
        dir.path().join("eci-audit.toml"),
        "changes_days = 4000000\n",
    )
    .unwrap();
    let o = run(dir.path(), &["check", healthy]);
    common::assert_error(&o, 2, "eci-audit.toml:1:");
    std::fs::remove_file(dir.path().join("eci-audit.toml")).unwrap();

    // A snapshot may say any number of days: the arithmetic saturates instead of panicking.
    let mut snap = common::healthy_json();
    snap["runtime"]["audit_trail_days"] = serde_json::json!(u32::MAX);
    let file = common::write_snapshot(dir.path(), &snap);
    let o = run(
        dir.path(),
        &["check", file.to_str().unwrap(), "--format", "json"],
    );
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", stderr(&o));
}
