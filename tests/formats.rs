//! The Markdown, `JUnit` and GitHub formats: insta snapshots on the healthy and broken snapshots,
//! the `JUnit` XML checked against the Ant `JUnit` schema with xmllint, every status rendered,
//! hostile input values shown as themselves (no Markdown, XML or workflow-command injection),
//! file locations relative to the working folder, error documents on exit 2, and the format
//! inferred from `--output`'s extension.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::{run, stderr, stdout};

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::json;

use eci_audit::audit::{self, Audit, FailOn};
use eci_audit::report::markdown::{self, Section};
use eci_audit::report::{self, Format, RenderOptions, Run, RunError};
use eci_audit::rules::eval::WaiverNote;
use eci_audit::rules::{Catalogue, Finding, Status, Step};

/// How many catalogue rules a guide step has.
fn step_rules(step: Step) -> usize {
    Catalogue::embedded()
        .unwrap()
        .rules()
        .iter()
        .filter(|r| r.step == step)
        .count()
}

/// The version and the `JUnit` timestamp (the render time when the source has none) redacted.
fn filters() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex::escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    s.add_filter(r#"timestamp="[0-9T:-]+""#, r#"timestamp="[TIME]""#);
    s
}

fn check(snapshot: &str, format: &str) -> Output {
    run(&[
        "check",
        &format!("fixtures/snapshots/{snapshot}.json"),
        "--format",
        format,
    ])
}

#[test]
fn snapshots_of_the_three_formats_on_healthy_and_broken() {
    for (snapshot, code) in [("healthy", 0), ("broken", 1)] {
        for format in ["markdown", "junit", "github"] {
            let o = check(snapshot, format);
            assert_eq!(o.status.code(), Some(code), "{format}: {}", stderr(&o));
            let name = format!("{format}_{snapshot}");
            filters().bind(|| insta::assert_snapshot!(name, stdout(&o)));
        }
    }
}

// --- `JUnit` schema -------------------------------------------------------------------------

/// Whether xmllint can run. Missing: the test fails on CI (`CI` set), else it is skipped with
/// a notice.
fn xmllint_available() -> bool {
    let found = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint is missing (Debian package libxml2-utils): the JUnit schema test cannot run on CI"
        );
        eprintln!(
            "notice: xmllint not found (install libxml2-utils); JUnit schema validation skipped"
        );
    }
    found
}

/// Validates `doc` against tests/schemas/junit.xsd, failing with xmllint's messages.
fn assert_valid_junit(doc: &str, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, doc).unwrap();
    let o = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(common::root().join("tests/schemas/junit.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint runs");
    assert!(
        o.status.success(),
        "{what}: JUnit XML does not validate:\n{}\n{doc}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn junit_validates_against_the_ant_junit_schema() {
    if !xmllint_available() {
        return;
    }
    for snapshot in ["healthy", "broken", "incomplete"] {
        let o = check(snapshot, "junit");
        assert_valid_junit(&stdout(&o), snapshot);
    }
    // Every status, hostile values, file locations.
    let audit = every_status(hostile_snapshot());
    let doc = render(Format::Junit, &audit);
    assert_valid_junit(&doc, "every status");
    let (dir, _) = broken_metadata_dir();
    let o = common::eci_in(dir.path())
        .args(["check", "force-app", "--format", "junit"])
        .output()
        .unwrap();
    assert_valid_junit(&stdout(&o), "metadata directory");
    let error = report::junit::render_error(&RunError {
        kind: "snapshot",
        message: "cannot read s.json: <bad> & \"worse\"\nline two \u{1b}[2J".to_string(),
    });
    assert_valid_junit(&error, "error document");
}

#[test]
fn a_deliberately_invalid_document_fails_the_schema_check() {
    // The check can fail: a testcase without its required `time` is refused.
    if !xmllint_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.xml");
    let good = stdout(&check("broken", "junit"));
    std::fs::write(&file, good.replacen(" time=\"0\"/>", "/>", 1)).unwrap();
    let o = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(common::root().join("tests/schemas/junit.xsd"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(!o.status.success());
}

// --- Audits built in the test -------------------------------------------------------------

/// A value that tries every injection: Markdown (heading, link, HTML, table cell, code,
/// mention), XML (markup, CDATA end, control characters) and workflow commands (a line break
/// followed by `::set-env`).
const HOSTILE: &str = "https://evil.example/v1\n::set-env name=PATH::/tmp\r\n# Owned | <script>alert(1)</script> ]]> `x` [a](b) @octocat %0A \u{1b}[2J\u{0}";

/// The healthy snapshot with the Aircall credential's URL set to [`HOSTILE`] (AIR003 fails
/// and quotes it).
fn hostile_snapshot() -> Audit {
    let mut snap = common::healthy_json();
    common::set(
        &mut snap,
        "named_credentials/Aircall/endpoint",
        json!(HOSTILE),
    );
    let audit = common::audit_json(&snap, common::settings());
    let air003 = audit.findings.iter().find(|f| f.rule == "AIR003").unwrap();
    assert_eq!(air003.status, Status::Fail, "{}", air003.message);
    assert!(air003.message.contains("::set-env"), "{}", air003.message);
    audit
}

/// The audit with one rule of each status that a snapshot fixture does not produce: skipped,
/// waived (with an expiry), unknown, blocked (behind the unknown one), and a warning-level
/// failure; the verdict recomputed.
fn every_status(mut audit: Audit) -> Audit {
    fn set<'a>(audit: &'a mut Audit, id: &str, status: Status) -> &'a mut Finding {
        let f = audit.findings.iter_mut().find(|f| f.rule == id).unwrap();
        f.status = status;
        f
    }
    let f = set(&mut audit, "USR001", Status::Skipped);
    f.message = "not applicable to this source: users are org data; check it live or merge a snapshot with --snapshot".to_string();
    let f = set(&mut audit, "SIT004", Status::Waived);
    f.waiver = Some(WaiverNote {
        reason: "site activated by the release <script>".to_string(),
        expires: Some("2099-12-31".to_string()),
        original: Status::Fail,
    });
    let f = set(&mut audit, "CAP004", Status::Unknown);
    f.message = "OAuth settings: not collected: readMetadata refused".to_string();
    let f = set(&mut audit, "CAP005", Status::Blocked);
    f.message = "blocked: requires CAP004, which is unknown".to_string();
    f.root_cause = Some("CAP004".to_string());
    f.root_status = Some(Status::Unknown);
    let f = set(&mut audit, "SIT006", Status::Fail);
    f.message = "Clickjack Protection Level is `AllowAllFraming`".to_string();
    let f = set(&mut audit, "ORG002", Status::Fail);
    assert_eq!(f.severity, eci_audit::rules::Severity::Note);
    f.message = "Edition is `Developer Edition`".to_string();
    audit.summary = audit::summarize(&audit.findings, FailOn::Error, false);
    for st in Status::ALL {
        assert!(
            audit.findings.iter().any(|f| f.status == st),
            "no {st} finding"
        );
    }
    audit
}

fn render(format: Format, audit: &Audit) -> String {
    let catalogue = Catalogue::embedded().unwrap();
    report::render(
        format,
        Run::Audit {
            audit,
            catalogue: &catalogue,
        },
        &RenderOptions::default(),
    )
    .unwrap()
}

#[test]
fn every_status_is_rendered_in_each_format() {
    let audit = every_status(common::audit_json(
        &common::healthy_json(),
        common::settings(),
    ));

    let md = render(Format::Markdown, &audit);
    assert!(md.contains("1 skipped"), "{md}");
    assert!(md.contains("1 waived"), "{md}");
    assert!(
        md.contains("<details><summary>1 not applicable to this source</summary>"),
        "{md}"
    );
    assert!(md.contains("## Waived (1)"), "{md}");
    assert!(
        md.contains(
            "was fail; waived: site activated by the release &lt;script&gt; (until 2099-12-31)"
        ),
        "{md}"
    );
    assert!(md.contains("## Not evaluated (2)"), "{md}");
    assert!(
        md.contains("- Blocked behind **CAP004** (unknown): CAP005"),
        "{md}"
    );
    assert!(md.contains("## Failures (2)"), "{md}");

    let xml = render(Format::Junit, &audit);
    assert!(
        xml.contains("<skipped message=\"not applicable to this source: not applicable to this source: users are org data"),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"waived (fail hidden): site activated by the release &lt;script&gt; (until 2099-12-31)\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"blocked: requires CAP004, which is unknown\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<error message=\"not evaluated: OAuth settings"),
        "{xml}"
    );
    assert!(xml.contains("<failure message=\"Clickjack"), "{xml}");
    assert!(xml.contains("type=\"warning\">"), "{xml}");
    assert!(
        xml.contains("<failure message=\"Edition is `Developer Edition`\" type=\"note\">"),
        "{xml}"
    );
    // Suite counts: every rule of step 4, one unknown, one blocked (skipped).
    let step4 = step_rules(Step::ConnectedApp);
    assert!(
        xml.contains("name=\"4. Set Up the Connected App\" package=\"eci-audit\" id=\"4\"")
            && xml.contains(&format!(
                "tests=\"{step4}\" failures=\"0\" errors=\"1\" skipped=\"1\""
            )),
        "{xml}"
    );

    let gh = render(Format::Github, &audit);
    for line in gh.lines() {
        assert!(
            ["::error ", "::warning ", "::notice "]
                .iter()
                .any(|p| line.starts_with(p)),
            "not a workflow command: {line}"
        );
    }
    // Severity → command: warning → ::warning, note → ::notice.
    assert!(
        gh.contains("::warning title=SIT006 Site clickjack protection is same-origin only::"),
        "{gh}"
    );
    assert!(
        gh.contains(
            "::notice title=ORG002 Edition offers ECI::Edition is `Developer Edition` — Fix: "
        ),
        "{gh}"
    );
    assert!(
        gh.contains(
            "::warning title=CAP004 Connected app has OAuth settings enabled::Not evaluated: "
        ),
        "{gh}"
    );
    // Skipped, waived and blocked rules have no annotation of their own; the summary counts
    // them.
    for id in ["USR001", "SIT004", "CAP005"] {
        assert!(
            !gh.contains(&format!("title={id} ")),
            "{id} annotated:\n{gh}"
        );
    }
    assert!(
        gh.contains("1 blocked, 1 manual, 1 waived, 1 skipped"),
        "{gh}"
    );
}

#[test]
fn hostile_values_are_shown_as_themselves_in_each_format() {
    let audit = hostile_snapshot();

    let gh = render(Format::Github, &audit);
    for line in gh.lines() {
        assert!(
            ["::error ", "::warning ", "::notice "]
                .iter()
                .any(|p| line.starts_with(p)),
            "a value started a line of its own: {line}"
        );
    }
    assert!(
        gh.contains("/v1%0A::set-env name=PATH::/tmp%0D%0A# Owned"),
        "{gh}"
    );
    assert!(gh.contains("@octocat %250A \\u{1b}[2J\\u{0}"), "{gh}");
    assert!(!gh.contains('\u{1b}'), "{gh}");

    let md = render(Format::Markdown, &audit);
    assert!(!md.contains("<script>"), "{md}");
    assert!(!md.contains('\u{1b}') && !md.contains('\u{0}'), "{md}");
    assert!(
        md.contains("\\\\r\\\\n# Owned \\| &lt;script&gt;alert(1)&lt;/script&gt; \\]\\]&gt; \\`x\\` \\[a\\](b) @<!-- -->octocat"),
        "{md}"
    );
    // Every line the report writes starts with its own syntax, never with the value.
    assert!(
        !md.lines()
            .any(|l| l.starts_with("::") || l.starts_with("# Owned")),
        "{md}"
    );

    let xml = render(Format::Junit, &audit);
    assert!(!xml.contains("<script>") && !xml.contains("]]>"), "{xml}");
    assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}'), "{xml}");
    assert!(
        xml.contains("&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;"),
        "{xml}"
    );
    // In an attribute, the line break is kept as a character reference.
    assert!(xml.contains("/v1&#10;::set-env"), "{xml}");
}

// --- Markdown structure --------------------------------------------------------------------

#[test]
fn markdown_leads_with_the_verdict_and_start_here_and_draws_the_steps_in_order() {
    let md = stdout(&check("broken", "markdown"));
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[0], "# ❌ eci-audit: failed");
    let total = Catalogue::embedded().unwrap().rules().len();
    assert!(
        lines[2].starts_with(&format!(
            "**{total} rules: {} pass, 7 fail, 1 manual — failed",
            total - 8
        )),
        "{md}"
    );
    let pos = |needle: &str| {
        md.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{md}"))
    };
    // Start here, with where and how to fix it, before the failures; passes collapsed; the
    // flowchart after the findings.
    assert!(pos("## Start here") < pos("## Failures (7)"));
    assert!(
        md[pos("## Start here")..pos("## Failures")].contains("- Fix: Setup → Named Credentials")
    );
    assert!(
        pos("## Failures (7)")
            < pos(&format!(
                "<details><summary>✔ {} passed</summary>",
                total - 8
            ))
    );
    assert!(pos("</details>") < pos("```mermaid\nflowchart TD"));
    // Every guide step is a node, in the guide's order, chained.
    let mut last = 0;
    for (i, step) in Step::ALL.iter().enumerate() {
        let title = step.title().replacen(". ", "\\. ", 1);
        let at = pos(&format!("  s{i}[\"{title}<br/>"));
        assert!(at > last, "{} out of order", step.title());
        last = at;
    }
    assert!(md.contains("  s0 --> s1 --> s2 --> s3 --> s4 --> s5 --> s6 --> s7 --> s8\n"));
    // Coloured by the worst status: step 4 failed, step 2 is a manual check, step 5 passed.
    assert!(md.contains("  class s3,s4,s6,s7,s8 fail\n"), "{md}");
    assert!(md.contains("  class s2 manual\n"), "{md}");
    assert!(md.contains("  class s0,s1,s5 pass\n"), "{md}");
    assert!(md.contains("  classDef fail fill:"), "{md}");
}

#[test]
fn markdown_takes_evidence_sections_after_the_findings() {
    let catalogue = Catalogue::embedded().unwrap();
    let mut audit = common::audit_json(&common::healthy_json(), common::settings());
    audit
        .notices
        .push("waiver for ORG001 is unused".to_string());
    let sections = [Section {
        title: "Recent changes <b>".to_string(),
        body: "- 2026-11-27 Connected app edited".to_string(),
    }];
    let md = markdown::render_with(&audit, &catalogue, &RenderOptions::default(), &sections);
    let at = md
        .find("## Recent changes &lt;b&gt;\n\n- 2026-11-27 Connected app edited\n")
        .unwrap();
    assert!(md.find("```mermaid").unwrap() < at, "{md}");
    assert!(at < md.find("## Notices").unwrap(), "{md}");
    assert_eq!(
        markdown::render_section("Calls arriving", "none\n\n"),
        "## Calls arriving\n\nnone\n\n"
    );
}

// --- File locations ------------------------------------------------------------------------

/// A copy of the healthy source-format project whose connected app keeps the dummy callback
/// URL (CAP005 and CAP006 fail at line 6 of the file).
fn broken_metadata_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(
        &common::root().join("fixtures/metadata/source-healthy"),
        dir.path(),
    );
    let app = dir
        .path()
        .join("force-app/main/default/connectedApps/ECIConnectedApp.connectedApp-meta.xml");
    let text = std::fs::read_to_string(&app).unwrap().replace(
        "https://acme.my.salesforce.com/services/authcallback/ECIAuthProvider",
        "https://dummyurl/services/authcallback/ECIAuthProvider",
    );
    std::fs::write(&app, text).unwrap();
    (dir, app)
}

#[test]
fn file_locations_are_relative_to_the_working_folder() {
    let (dir, _) = broken_metadata_dir();
    let path = "force-app/main/default/connectedApps/ECIConnectedApp.connectedApp-meta.xml";
    let out = |format: &str| {
        let o = common::eci_in(dir.path())
            .args(["check", "./force-app", "--format", format])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        stdout(&o)
    };
    let gh = out("github");
    assert!(
        gh.contains(&format!(
            "::error file={path},line=6,col=9,title=CAP005 Connected app's dummy callback URL is replaced::"
        )),
        "{gh}"
    );
    // Org data is no file: the annotation has no file= and says where it is.
    assert!(gh.contains("::warning title="), "{gh}");
    let xml = out("junit");
    assert!(
        xml.contains(&format!(
            "<testcase name=\"CAP005 Connected app&apos;s dummy callback URL is replaced\" classname=\"eci-audit.connected-app\" time=\"0\" file=\"{path}\">"
        )),
        "{xml}"
    );
    assert!(xml.contains(&format!("Where: {path}:6")), "{xml}");
    let md = out("markdown");
    assert!(md.contains(&format!("  - Where: `{path}:6`")), "{md}");
}

#[test]
fn relative_paths_resolve_dots_and_keep_outside_paths_absolute() {
    let base = Some(Path::new("/repo"));
    assert_eq!(report::relative_path("./a/../b/c.xml", base), "b/c.xml");
    assert_eq!(report::relative_path("/repo/x/y.xml", base), "x/y.xml");
    assert_eq!(
        report::relative_path("/elsewhere/y.xml", base),
        "/elsewhere/y.xml"
    );
    assert_eq!(report::relative_path("../y.xml", base), "/y.xml");
    assert_eq!(report::relative_path("a/./b.xml", None), "a/b.xml");
}

// --- Error documents and inference ----------------------------------------------------------

#[test]
fn a_run_that_cannot_happen_writes_the_error_in_the_chosen_format() {
    let dir = tempfile::tempdir().unwrap();
    for (file, format, expect) in [
        ("r.md", None, "# ⛔ eci-audit could not run"),
        ("r.xml", None, "<error message=\"cannot read"),
        (
            "r.txt",
            Some("github"),
            "::error title=eci-audit::could not run (snapshot): ",
        ),
    ] {
        let mut args = vec!["check", "missing.json", "--output", file];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let o = common::eci_in(dir.path()).args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let doc = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(doc.contains(expect), "{file}: {doc}");
        assert!(doc.contains("missing.json"), "{file}: {doc}");
        if file == "r.xml" && xmllint_available() {
            assert_valid_junit(&doc, "error document written by check");
        }
    }
    let gh = report::github::render_error(&RunError {
        kind: "auth",
        message: "refused\n::set-env name=A::b".to_string(),
    });
    assert_eq!(
        gh,
        "::error title=eci-audit::could not run (auth): refused%0A::set-env name=A::b\n"
    );
}

#[test]
fn the_format_is_inferred_from_md_and_xml_outputs_unless_given() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = common::root().join("fixtures/snapshots/healthy.json");
    let healthy = healthy.to_str().unwrap();
    for (file, format, starts) in [
        ("r.md", None, "# ✅ eci-audit: passed"),
        ("R.MD", None, "# ✅ eci-audit: passed"),
        ("r.markdown", None, "# ✅ eci-audit: passed"),
        (
            "r.xml",
            None,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>",
        ),
        ("t.xml", Some("table"), "eci-audit "),
        ("g.md", Some("github"), "::notice "),
    ] {
        let mut args = vec!["check", healthy, "--output", file];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let o = common::eci_in(dir.path()).args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let doc = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(doc.starts_with(starts), "{file}: {doc}");
    }
    // --dump-config says where the format came from.
    let o = common::eci_in(dir.path())
        .args(["check", healthy, "--output", "r.xml", "--dump-config"])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.contains("junit") && l.contains("from the output file's extension")),
        "{out}"
    );
}

#[test]
fn unused_waivers_are_reported_in_each_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("eci.toml"),
        "[[waiver]]\nrule = \"ORG001\"\nreason = \"none needed\"\n",
    )
    .unwrap();
    let healthy = common::root().join("fixtures/snapshots/healthy.json");
    let out = |format: &str| {
        let o = common::eci_in(dir.path())
            .args(["check", healthy.to_str().unwrap(), "--config", "eci.toml"])
            .args(["--format", format])
            .output()
            .unwrap();
        stdout(&o)
    };
    let notice = "waiver for ORG001 is unused";
    let md = out("markdown");
    assert!(
        md.contains("## Notices\n\n- waiver for ORG001 is unused"),
        "{md}"
    );
    let gh = out("github");
    assert!(
        gh.contains(&format!("::warning title=eci-audit notice::{notice}")),
        "{gh}"
    );
    let xml = out("junit");
    assert!(xml.contains(&format!("Notice: {notice}")), "{xml}");
}

#[test]
fn rules_blocked_behind_an_unselected_failure_stand_for_it() {
    // CAP004 not selected and failed; CAP005 and CAP006, selected, wait on it.
    let mut audit = common::audit_json(&common::healthy_json(), common::settings());
    audit.findings.retain(|f| f.rule != "CAP004");
    for f in audit
        .findings
        .iter_mut()
        .filter(|f| ["CAP005", "CAP006"].contains(&f.rule.as_str()))
    {
        f.status = Status::Blocked;
        f.message =
            "blocked: requires CAP004 (OAuth settings), which is fail: OAuth off".to_string();
        f.root_cause = Some("CAP004".to_string());
        f.root_status = Some(Status::Fail);
        f.root_severity = Some(eci_audit::rules::Severity::Error);
        f.root_message = Some("OAuth off".to_string());
    }
    audit.summary = audit::summarize(&audit.findings, FailOn::Error, false);
    assert_eq!(audit.summary.exit_code, 1);

    let gh = render(Format::Github, &audit);
    let blocked: Vec<&str> = gh
        .lines()
        .filter(|l| l.contains("CAP004 is not selected"))
        .collect();
    assert_eq!(blocked.len(), 1, "{gh}");
    assert!(
        blocked[0].starts_with("::error title=CAP005 ")
            && blocked[0].contains("(also blocks CAP006)"),
        "{gh}"
    );
    assert!(!gh.contains("title=CAP006"), "{gh}");

    let xml = render(Format::Junit, &audit);
    assert!(
        xml.contains(&format!(
            "tests=\"{}\" failures=\"2\" errors=\"0\" skipped=\"0\"",
            step_rules(Step::ConnectedApp) - 1
        )),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"blocked: requires CAP004"),
        "{xml}"
    );
    if xmllint_available() {
        assert_valid_junit(&xml, "blocked behind an unselected failure");
    }

    let md = render(Format::Markdown, &audit);
    assert!(
        md.contains(
            "- Blocked behind **CAP004** (fail; not among the selected rules): CAP005, CAP006"
        ),
        "{md}"
    );
    assert!(
        md.contains("**CAP004** (not among the selected rules) failed and blocks **CAP005**"),
        "{md}"
    );
    // The fix of the unselected root, from the catalogue.
    let fix = Catalogue::embedded()
        .unwrap()
        .get("CAP004")
        .unwrap()
        .fix
        .clone();
    assert!(
        md.contains(&format!(
            "- Fix: {}",
            eci_audit::report::escape::markdown(&fix)
        )),
        "{md}"
    );
}

#[test]
fn terminal_controls_are_escaped_and_huge_values_cut_in_each_format() {
    let forged = "X\u{9b}31m\u{202e}\u{2066}\u{1b}[2J";
    let mut snap = common::healthy_json();
    common::set(
        &mut snap,
        "source/org_id",
        json!(format!("{forged}{}", "A".repeat(1 << 20))),
    );
    common::set(
        &mut snap,
        "named_credentials/Aircall/endpoint",
        json!(format!("{forged}{}", "B".repeat(1 << 20))),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = common::write_snapshot(dir.path(), &snap);
    let unsafe_chars = ['\u{1b}', '\r', '\u{9b}', '\u{202e}', '\u{2066}', '\u{0}'];
    for format in ["markdown", "junit", "github"] {
        let o = run(&[
            "check",
            file.to_str().unwrap(),
            "--select",
            "ORG,AIR003",
            "--format",
            format,
        ]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(!out.contains(unsafe_chars), "{format}: {out:?}");
        assert!(
            out.contains("X\\u{9b}31m\\u{202e}\\u{2066}"),
            "{format}: {out}"
        );
        assert!(
            out.contains("more characters; see --format json)"),
            "{format}: {out}"
        );
        assert!(out.len() < 32 * 1024, "{format}: {} bytes", out.len());
    }
}
