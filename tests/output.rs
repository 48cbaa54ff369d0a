//! Where reports go: `--output` never replaces what is not a regular file (a device, a FIFO, a
//! symbolic link), `-` is standard output, and a config file found implicitly cannot send the
//! report outside the current directory.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]
#![cfg(unix)]

mod common;

use common::stderr;

use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::mpsc;
use std::time::Duration;

fn healthy() -> String {
    common::root()
        .join("fixtures/snapshots/healthy.json")
        .to_str()
        .unwrap()
        .to_string()
}

fn check(dir: &Path, output: &str) -> Output {
    common::eci_in(dir)
        .args(["check", &healthy(), "--format", "json", "--output", output])
        .output()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn is_report(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|doc| doc["results"].is_array())
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

/// Reads `path` to the end on a thread (opening a FIFO blocks until a writer comes).
fn read_in_background(path: PathBuf) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::read_to_string(path).unwrap_or_default());
    });
    rx
}

#[test]
fn a_fifo_gets_the_report_and_stays_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let report = read_in_background(fifo.clone());
    let o = check(dir.path(), "fifo");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = report.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(is_report(&text), "{text}");
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "{kind:?}");
    assert_eq!(names(dir.path()), ["fifo"], "nothing else created");
}

#[test]
fn a_symlink_stays_a_link_and_its_target_gets_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The link stands in for /dev/null or /etc/passwd: a file that must not be replaced.
    std::fs::create_dir(d.join("elsewhere")).unwrap();
    std::fs::write(d.join("elsewhere/target.json"), "old").unwrap();
    std::fs::create_dir(d.join("here")).unwrap();
    symlink("../elsewhere/target.json", d.join("here/link.json")).unwrap();
    let o = check(d, "here/link.json");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let link = std::fs::symlink_metadata(d.join("here/link.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let text = std::fs::read_to_string(d.join("elsewhere/target.json")).unwrap();
    assert!(is_report(&text), "{text}");
    // The temporary file was made (and renamed) next to the target, not next to the link.
    assert_eq!(names(&d.join("here")), ["link.json"]);
    assert_eq!(names(&d.join("elsewhere")), ["target.json"]);

    // A link to a FIFO: written through, both left as they were.
    mkfifo(&d.join("fifo"));
    symlink("fifo", d.join("to-fifo")).unwrap();
    let report = read_in_background(d.join("fifo"));
    let o = check(d, "to-fifo");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(is_report(
        &report.recv_timeout(Duration::from_secs(30)).unwrap()
    ));
    assert!(
        std::fs::symlink_metadata(d.join("to-fifo"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::symlink_metadata(d.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );

    // A dangling link: its target is created, the link kept.
    symlink("elsewhere/new.json", d.join("dangling")).unwrap();
    let o = check(d, "dangling");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(is_report(
        &std::fs::read_to_string(d.join("elsewhere/new.json")).unwrap()
    ));
    assert!(
        std::fs::symlink_metadata(d.join("dangling"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_link_to_an_open_descriptor_is_written_through() {
    // What /dev/stdout is: a link to /proc/self/fd/1, here in a folder of our own so a
    // regression could only replace the link in it.
    let dir = tempfile::tempdir().unwrap();
    symlink("/proc/self/fd/1", dir.path().join("stdout")).unwrap();
    let o = check(dir.path(), "stdout");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(is_report(&String::from_utf8_lossy(&o.stdout)));
    assert!(
        std::fs::symlink_metadata(dir.path().join("stdout"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn dash_is_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let o = common::eci_in(dir.path())
        .args(["check", &healthy(), "--format", "json", "--output", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(is_report(&String::from_utf8_lossy(&o.stdout)));
    assert!(!stderr(&o).contains("written"), "{}", stderr(&o));
    std::fs::write(dir.path().join("eci-audit.toml"), "output = \"-\"\n").unwrap();
    let o = common::eci_in(dir.path())
        .args(["check", &healthy(), "--format", "json"])
        .output()
        .unwrap();
    assert!(is_report(&String::from_utf8_lossy(&o.stdout)));
    assert_eq!(names(dir.path()), ["eci-audit.toml"], "no file named -");
}

#[test]
fn a_directory_is_not_an_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    let o = check(dir.path(), "reports");
    common::assert_error(&o, 2, "reports: it is a directory");
    let o = check(dir.path(), "missing/r.json");
    common::assert_error(&o, 2, "the folder missing does not exist");
}

#[test]
fn an_implicit_config_cannot_write_outside_the_current_directory() {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(top.path().join("victim"), "precious").unwrap();
    symlink("../victim", repo.join("innocent.json")).unwrap();
    let victim = top.path().join("victim");
    for output in [
        "../escaped.json".to_string(),
        victim.to_str().unwrap().to_string(),
        "innocent.json".to_string(),
    ] {
        std::fs::write(
            repo.join("eci-audit.toml"),
            format!("format = \"json\"\noutput = \"{output}\"\n"),
        )
        .unwrap();
        let o = common::eci_in(&repo)
            .args(["check", &healthy()])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{output}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("eci-audit.toml:2:10: `output`")
                && err.contains("outside the current directory"),
            "{output}: {err}"
        );
        assert!(o.stdout.is_empty());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!top.path().join("escaped.json").exists());
    }
    // Named with --config, the file is trusted; --output is the user's own choice.
    let o = common::eci_in(&repo)
        .args(["check", &healthy(), "--config", "eci-audit.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(is_report(&std::fs::read_to_string(&victim).unwrap()));
    std::fs::write(
        repo.join("eci-audit.toml"),
        "output = \"../escaped.json\"\n",
    )
    .unwrap();
    let o = common::eci_in(&repo)
        .args(["check", &healthy(), "--output", "../flag.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(top.path().join("flag.json").exists());
    // Inside the current directory is fine.
    std::fs::create_dir(repo.join("reports")).unwrap();
    std::fs::write(
        repo.join("eci-audit.toml"),
        "format = \"json\"\noutput = \"reports/../reports/r.json\"\n",
    )
    .unwrap();
    let o = common::eci_in(&repo)
        .args(["check", &healthy()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(is_report(
        &std::fs::read_to_string(repo.join("reports/r.json")).unwrap()
    ));
}

fn binary(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("eci-audit"));
    cmd.current_dir(dir);
    cmd
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stream_is_an_exit_code_not_a_panic() {
    use std::process::Stdio;
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    // The note after a report written to a file: lost, the run's code kept.
    let o = binary(dir.path())
        .args(["check", &healthy(), "--output", "r.json"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(dir.path().join("r.json").exists());
    // An error that cannot be shown is still exit 2.
    let o = binary(dir.path())
        .args(["check", "missing.json"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A report that cannot be written is exit 2, said on standard error.
    let o = binary(dir.path())
        .args(["check", &healthy()])
        .stdout(full())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cannot write to standard output") && !err.contains("panicked"),
        "{err}"
    );
    // Both full.
    let o = binary(dir.path())
        .args(["check", &healthy()])
        .stdout(full())
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn closed_pipes_end_quietly_with_the_run_s_exit_code() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut child = binary(dir.path())
        .args(["rules", "--format", "markdown"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(err.is_empty(), "{err}");

    // Standard error closed: the error is lost, exit 2 stays.
    let mut child = binary(dir.path())
        .args(["check", "missing.json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
    // A note after a report written to a file.
    let mut child = binary(dir.path())
        .args(["check", &healthy(), "--output", "r.json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
