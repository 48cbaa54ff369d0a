//! Bad input gets a clear error, nothing lost: every case exits 2 with one paragraph naming the
//! file (and line:column where the input is at fault), and never panics.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::path::Path;

fn eci(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("eci-audit").expect("binary");
    cmd.current_dir(dir);
    cmd
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    /// Substrings the error must contain.
    expect: Vec<String>,
}

#[test]
fn every_bad_input_exits_2_with_a_located_message() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let healthy = common::root().join("fixtures/snapshots/healthy.json");
    let healthy = healthy.to_str().unwrap().to_string();
    let full = std::fs::read_to_string(&healthy).unwrap();
    common::write_file(
        d,
        "malformed.json",
        "{\n  \"schema_version\": 1,\n  \"org\": {\"name\": \"x\",,}\n}\n",
    );
    common::write_file(d, "truncated.json", &full[..full.len() / 2]);
    common::write_file(d, "version.json", "{\"schema_version\": 2, \"org\": {}}");
    common::write_file(
        d,
        "unknown-field.json",
        "{\"schema_version\": 1,\n \"org\": {\"edtion\": \"Enterprise\"}}",
    );
    common::write_file(d, "not-json.json", "\u{0}\u{1}binary\u{ff}");
    common::write_file(d, "empty.json", "");
    common::write_file(
        d,
        "rules-bad/cap/CAP900.toml",
        "id = \"CAP900\"\ntitle = \"x\"\nstep = \"connected-app\"\nseverity = \"fatal\"\n",
    );
    common::write_file(
        d,
        "rules-badop/x/CAP901.toml",
        "id = \"CAP901\"\ntitle = \"t\"\nstep = \"connected-app\"\nseverity = \"error\"\nrequirement = \"r\"\nrationale = \"r\"\nexpected = \"e\"\nfix = \"f\"\n\n[check]\nsubject = \"connected_apps\"\nname = \"X\"\n\n[[check.assert]]\nfield = \"label\"\nop = \"regex\"\nvalue = \"(unclosed\"\n",
    );
    common::write_file(
        d,
        "rules-missing-req/x/CAP902.toml",
        "id = \"CAP902\"\ntitle = \"t\"\nstep = \"connected-app\"\nseverity = \"error\"\nrequires = [\"CAP999\"]\nrequirement = \"r\"\nrationale = \"r\"\nexpected = \"e\"\nfix = \"f\"\n\n[check]\nsubject = \"connected_apps\"\nname = \"X\"\n",
    );
    common::write_file(
        d,
        "bad-config.toml",
        "format = \"json\"\nfail_on = \"sometimes\"\n",
    );
    common::write_file(
        d,
        "waiver-config.toml",
        "[[waiver]]\nrule = \"ZZZ001\"\nreason = \"x\"\n",
    );
    std::fs::create_dir_all(d.join("a-directory.json")).unwrap();

    let s = |v: &str| v.to_string();
    let cases = vec![
        Case {
            name: "malformed JSON",
            args: vec![s("check"), s("malformed.json")],
            expect: vec![s("malformed.json:3:"), s("invalid snapshot")],
        },
        Case {
            name: "truncated JSON",
            args: vec![s("check"), s("truncated.json")],
            expect: vec![s("truncated.json:"), s("EOF")],
        },
        Case {
            name: "wrong schema_version",
            args: vec![s("check"), s("version.json")],
            expect: vec![s("version.json"), s("schema_version 2")],
        },
        Case {
            name: "unknown field",
            args: vec![s("check"), s("unknown-field.json")],
            expect: vec![s("unknown-field.json:2:"), s("edtion")],
        },
        Case {
            name: "binary input",
            args: vec![s("check"), s("not-json.json")],
            expect: vec![s("not-json.json:1:1")],
        },
        Case {
            name: "empty file",
            args: vec![s("check"), s("empty.json")],
            expect: vec![s("empty.json:1:")],
        },
        Case {
            name: "missing file",
            args: vec![s("check"), s("nope.json")],
            expect: vec![s("nope.json")],
        },
        Case {
            name: "unreadable (not a directory on the way)",
            args: vec![s("check"), s("malformed.json/inner.json")],
            expect: vec![s("malformed.json/inner.json")],
        },
        Case {
            name: "malformed rule TOML",
            args: vec![s("check"), healthy.clone(), s("--rules"), s("rules-bad")],
            expect: vec![s("CAP900.toml:4:12"), s("fatal")],
        },
        Case {
            name: "bad regex in a rule",
            args: vec![s("check"), healthy.clone(), s("--rules"), s("rules-badop")],
            expect: vec![s("CAP901.toml:14:1"), s("invalid regex")],
        },
        Case {
            name: "unknown requirement",
            args: vec![
                s("check"),
                healthy.clone(),
                s("--rules"),
                s("rules-missing-req"),
            ],
            expect: vec![s("CAP902.toml"), s("CAP999")],
        },
        Case {
            name: "rules dir missing",
            args: vec![s("rules"), s("--rules"), s("no-such-dir")],
            expect: vec![s("no-such-dir")],
        },
        Case {
            name: "bad config value",
            args: vec![
                s("check"),
                healthy.clone(),
                s("--config"),
                s("bad-config.toml"),
            ],
            expect: vec![s("bad-config.toml:2:11"), s("sometimes")],
        },
        Case {
            name: "waiver for an unknown rule",
            args: vec![
                s("check"),
                healthy.clone(),
                s("--config"),
                s("waiver-config.toml"),
            ],
            expect: vec![s("waiver-config.toml"), s("ZZZ001")],
        },
        Case {
            name: "missing config",
            args: vec![s("check"), healthy.clone(), s("--config"), s("none.toml")],
            expect: vec![s("none.toml")],
        },
        Case {
            name: "unknown --select",
            args: vec![s("check"), healthy.clone(), s("--select"), s("AUP01")],
            expect: vec![s("AUP01"), s("did you mean AUP001")],
        },
        Case {
            name: "output in a missing folder",
            args: vec![
                s("check"),
                healthy.clone(),
                s("--output"),
                s("missing/dir/report.json"),
            ],
            expect: vec![s("missing/dir"), s("does not exist")],
        },
        Case {
            name: "bad --my-domain",
            args: vec![s("check"), healthy.clone(), s("--my-domain"), s("https://")],
            expect: vec![s("--my-domain")],
        },
        Case {
            name: "unknown flag",
            args: vec![s("check"), healthy.clone(), s("--colour"), s("never")],
            expect: vec![s("--colour")],
        },
        Case {
            name: "bad enum value",
            args: vec![s("check"), healthy.clone(), s("--format"), s("xml")],
            expect: vec![s("xml")],
        },
    ];
    let mut failures = Vec::new();
    for case in cases {
        let o = eci(d).args(&case.args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let mut problems = Vec::new();
        if o.status.code() != Some(2) {
            problems.push(format!("exit {:?}", o.status.code()));
        }
        if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
            problems.push("panicked".to_string());
        }
        for e in &case.expect {
            if !err.contains(e.as_str()) {
                problems.push(format!("stderr lacks {e:?}"));
            }
        }
        if !o.stdout.is_empty() {
            problems.push("wrote to stdout".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} — stderr: {err}",
                case.name,
                problems.join(", ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    // Nothing was written by the failing runs.
    assert!(!d.join("missing").exists());
}

#[test]
fn a_failed_write_keeps_the_previous_report() {
    let tmp = tempfile::tempdir().unwrap();
    // A table report: JSON and SARIF (also inferred from `.json`/`.sarif`) get an error
    // document instead, on purpose.
    let out = tmp.path().join("report.txt");
    std::fs::write(&out, "previous").unwrap();
    // A bad run (unknown snapshot) must not touch the existing report.
    let o = eci(tmp.path())
        .args(["check", "nope.json", "--output", "report.txt"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous");
}

#[test]
fn config_errors_found_after_parsing_carry_their_position() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let healthy = common::root().join("fixtures/snapshots/healthy.json");
    common::write_file(
        d,
        "select.toml",
        "format = \"json\"\nselect = [\"CAP\", \"CAPX01\"]\n",
    );
    common::write_file(
        d,
        "waiver.toml",
        "fail_on = \"error\"\n\n[[waiver]]\nrule = \"ZZZ001\"\nreason = \"x\"\n",
    );
    common::write_file(
        d,
        "domain.toml",
        "my_domain = \"https://admin:Sup3rS3cret@\"\n",
    );
    for (file, expect) in [
        ("select.toml", "select.toml:2:18"),
        ("waiver.toml", "waiver.toml:3:1"),
        ("domain.toml", "domain.toml:1:13"),
    ] {
        let o = eci(d)
            .args(["check"])
            .arg(&healthy)
            .args(["--config", file])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(expect), "{file}: {err}");
        assert!(
            !err.contains("Sup3rS3cret"),
            "{file} echoes a password: {err}"
        );
    }
}

#[test]
fn every_settings_problem_is_reported_at_once_as_its_origin_spells_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let healthy = common::root().join("fixtures/snapshots/healthy.json");
    common::write_file(
        d,
        "keys.toml",
        "fail-on = \"error\"\nformat = \"xml\"\ncolour = \"never\"\n",
    );
    common::write_file(
        d,
        "ids.toml",
        "select = [\"CAP\", \"CAPX01\"]\nignore = [\"ZZZ\"]\n\n[[waiver]]\nrule = \"ZZZ001\"\nreason = \"x\"\n",
    );
    for (file, flags, expect) in [
        (
            "keys.toml",
            &[][..],
            &[
                "3 problems",
                "keys.toml:1:1: invalid config: unknown field `fail-on`",
                "keys.toml:2:10: invalid config: unknown variant `xml`",
                "keys.toml:3:1: invalid config: unknown field `colour`",
            ][..],
        ),
        (
            "ids.toml",
            &["--ignore", "FOO01"],
            &[
                "4 problems",
                "ids.toml:1:18: invalid config: select `CAPX01` matches no rule; did you mean CAP001",
                "\n  --ignore `FOO01` matches no rule",
                "ids.toml:2:11: invalid config: ignore `ZZZ` matches no rule",
                "ids.toml:4:1: invalid config: waiver names rule ZZZ001",
            ],
        ),
    ] {
        let o = eci(d)
            .args(["check"])
            .arg(&healthy)
            .args(["--config", file])
            .args(flags)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        for e in expect {
            assert!(err.contains(e), "{file}: {e:?} missing from {err}");
        }
    }
    let o = eci(d)
        .args(["check"])
        .arg(&healthy)
        .args(["--integration-user", " ", "--refresh-token-days", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("\n  --integration-user is empty"), "{err}");
    assert!(
        err.contains("\n  --refresh-token-days must be a positive number of days"),
        "{err}"
    );
}
