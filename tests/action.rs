#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! The composite GitHub Action (`action.yml`): its audit step's script is run for real with
//! bash, with the environment GitHub gives it, against the bundled fixtures; and every input is
//! documented in the README.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> String {
    std::fs::read_to_string(root().join("action.yml")).unwrap()
}

/// The `run: |` block of the step with `id: gate`, unindented.
fn gate_script() -> String {
    let text = action();
    let mut lines = text.lines().skip_while(|l| l.trim() != "id: gate");
    let mut script = String::new();
    let mut in_run = false;
    for line in lines.by_ref() {
        if line.trim() == "run: |" {
            in_run = true;
            continue;
        }
        if in_run {
            if !line.is_empty() && !line.starts_with("        ") {
                break;
            }
            script.push_str(line.get(8..).unwrap_or(""));
            script.push('\n');
        }
    }
    assert!(script.contains("eci-audit"), "no script found:\n{script}");
    script
}

/// The names under `inputs:`.
fn inputs() -> Vec<String> {
    let text = action();
    text.lines()
        .skip_while(|l| *l != "inputs:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':').to_string())
        .collect()
}

struct Run {
    outputs: String,
    summary: String,
    stdout: String,
    dir: tempfile::TempDir,
}

fn run_gate(path: &Path, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_eci-audit"));
    let path_var = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let outputs = dir.path().join("github_output");
    let summary = dir.path().join("step_summary.md");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(gate_script())
        .current_dir(dir.path())
        .env("PATH", path_var)
        .env("RUNNER_TEMP", dir.path())
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("ECI_PATH", path)
        .env("ECI_MY_DOMAIN", "acme.my.salesforce.com")
        .env("ECI_SNAPSHOT", "")
        .env("ECI_CONFIG", "")
        .env("ECI_FAIL_ON", "error")
        .env("ECI_BASELINE", "")
        .env("ECI_ARGS", "")
        .env("ECI_SUMMARY", "true")
        .env("ECI_ANNOTATIONS", "true")
        .env("ECI_SARIF", "false");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "the audit step itself never fails (the gate step does): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Run {
        outputs: std::fs::read_to_string(&outputs).unwrap(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        dir,
    }
}

#[test]
fn a_healthy_folder_passes_with_a_summary_and_no_error_annotation() {
    let run = run_gate(
        &root().join("fixtures/metadata/source-healthy/force-app"),
        &[],
    );
    assert!(run.outputs.contains("exit-code=0\n"), "{}", run.outputs);
    assert!(run.outputs.contains("report="), "{}", run.outputs);
    assert!(run.summary.contains("```mermaid"), "{}", run.summary);
    assert!(!run.stdout.contains("::error"), "{}", run.stdout);
    assert!(!run.dir.path().join("eci-audit.sarif").exists());
}

#[test]
fn a_broken_snapshot_fails_the_gate_with_annotations_and_sarif() {
    let run = run_gate(
        &root().join("fixtures/snapshots/broken.json"),
        &[("ECI_SARIF", "true"), ("ECI_ARGS", "--ignore SIT")],
    );
    assert!(run.outputs.contains("exit-code=1\n"), "{}", run.outputs);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("::error")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("SIT00"),
        "the extra args apply: {}",
        run.stdout
    );
    let sarif = std::fs::read_to_string(run.dir.path().join("eci-audit.sarif")).unwrap();
    assert!(sarif.contains("\"version\": \"2.1.0\""), "{sarif}");
    let report_path = run
        .outputs
        .lines()
        .find_map(|l| l.strip_prefix("report="))
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report_path).unwrap()).unwrap();
    assert_eq!(report["summary"]["exit_code"], 1);
}

#[test]
fn every_input_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let inputs = inputs();
    assert!(inputs.len() >= 10, "{inputs:?}");
    for input in inputs {
        assert!(
            readme.contains(&format!("| `{input}` |")),
            "README's action table lacks the input `{input}`"
        );
    }
}
