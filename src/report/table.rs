//! The human report: results grouped by guide step in guide order, a "start here" line and a
//! summary line.

use comfy_table::{
    Attribute, Cell, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED,
};

use crate::audit::{Audit, ExitStatus, StartHere};
use crate::rules::{Finding, Status, Step};

/// One input value on one line: cut to a length the table lays out quickly, and escaped
/// (see [`super::escape`]).
fn clean_line(text: &str) -> String {
    super::escape::short_line(text)
}

/// Renders the table report.
pub fn render(audit: &Audit, opts: &super::RenderOptions) -> String {
    let mut out = String::new();
    let src = &audit.source;
    out.push_str(&format!(
        "eci-audit {} — {}",
        env!("CARGO_PKG_VERSION"),
        clean_line(&src.input)
    ));
    if let Some(org) = &src.org_id {
        out.push_str(&format!(" (org {})", clean_line(org)));
    }
    out.push('\n');
    if let Some(config) = &src.config_file {
        out.push_str(&format!(
            "Config: {} (its settings apply)\n",
            clean_line(config)
        ));
    }
    for step in Step::ALL {
        let rows: Vec<&Finding> = audit.findings.iter().filter(|f| f.step == step).collect();
        if rows.is_empty() {
            continue;
        }
        out.push('\n');
        out.push_str(step.title());
        out.push('\n');
        let mut table = Table::new();
        table.load_style(UTF8_FULL_CONDENSED);
        if opts.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table.set_width(opts.width.unwrap_or(120));
        table.set_header(["Rule", "Status", "Severity", "Finding", "Location"]);
        for f in rows {
            let mut text = format!("{}: {}", clean_line(&f.title), clean_line(&f.message));
            if f.status == Status::Fail {
                text.push_str(&format!("\nFix: {}", super::escape::short_lines(&f.fix)));
            }
            if let Some(w) = &f.waiver {
                text.push_str(&format!(
                    "\nWaived ({}): {}{}",
                    w.original,
                    clean_line(&w.reason),
                    w.expires
                        .as_ref()
                        .map(|e| format!(", until {e}"))
                        .unwrap_or_default()
                ));
            }
            let location = f
                .evidence
                .origin
                .as_ref()
                .map(|o| clean_line(&o.display()))
                .unwrap_or_default();
            table.add_row(vec![
                Cell::new(clean_line(&f.rule)),
                status_cell(f.status, opts.color),
                Cell::new(f.severity.as_str()),
                Cell::new(text),
                Cell::new(location),
            ]);
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&super::evidence::table(&audit.evidence));
    for n in &audit.notices {
        out.push_str(&format!("Notice: {}\n", clean_line(n)));
    }
    match &audit.summary.start_here {
        Some(StartHere::Failure {
            rule,
            title,
            message,
        }) => out.push_str(&format!(
            "Start here: {} — {}: {}\n",
            clean_line(rule),
            clean_line(title),
            clean_line(message)
        )),
        Some(StartHere::UnselectedFailure {
            root,
            blocked,
            message,
        }) => out.push_str(&format!(
            "Start here: {} (not among the selected rules) failed and blocks {}: {}\n",
            clean_line(root),
            clean_line(blocked),
            clean_line(message)
        )),
        Some(StartHere::NotEvaluated { root, message }) => out.push_str(&format!(
            "Start here: {} could not be evaluated: {}\n",
            clean_line(root),
            clean_line(message)
        )),
        None => {}
    }
    let s = &audit.summary;
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|st| format!("{} {}", s.counts.get(st.as_str()).copied().unwrap_or(0), st))
        .collect();
    let mut verdict = match s.outcome {
        // A pass with failures below --fail-on says so rather than "passed".
        ExitStatus::Passed if s.not_gating_failures > 0 => format!(
            "{} failure{} (not gating: --fail-on {})",
            s.not_gating_failures,
            if s.not_gating_failures == 1 { "" } else { "s" },
            s.fail_on.as_str()
        ),
        ExitStatus::Passed if s.incomplete => {
            "passed with --allow-incomplete (audit incomplete)".to_string()
        }
        ExitStatus::Passed => "passed".to_string(),
        ExitStatus::Failed => format!("failed (failures at or above {})", s.fail_on.as_str()),
        ExitStatus::Incomplete => format!(
            "incomplete (rules at or above {} not evaluated)",
            s.fail_on.as_str()
        ),
        ExitStatus::Error => "could not run".to_string(),
    };
    // What a pass does not cover: the checks left to a person.
    if s.outcome == ExitStatus::Passed && !s.manual.is_empty() {
        verdict.push_str(&format!(
            " — {} check{} need{} a manual look: {}",
            s.manual.len(),
            if s.manual.len() == 1 { "" } else { "s" },
            if s.manual.len() == 1 { "s" } else { "" },
            s.manual.join(", ")
        ));
    }
    out.push_str(&format!(
        "{} rules: {} — {verdict}\n",
        s.total,
        counts.join(", ")
    ));
    out
}

fn status_cell(status: Status, color: bool) -> Cell {
    let cell = Cell::new(status.as_str());
    if !color {
        return cell;
    }
    match status {
        Status::Pass => cell.fg(Color::Green),
        Status::Fail => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Status::Unknown => cell.fg(Color::Yellow),
        Status::Blocked => cell.fg(Color::DarkYellow),
        Status::Manual => cell.fg(Color::Cyan),
        Status::Waived | Status::Skipped => cell.fg(Color::Grey),
    }
}
