//! Renderings of the catalogue itself: `eci-audit rules`, `eci-audit explain`, docs/rules.md.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::json;

use crate::rules::{Catalogue, Rule, Step};

/// `eci-audit rules`: one row per rule, in guide order.
pub fn rules_table(catalogue: &Catalogue, width: Option<u16>) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).force_no_tty();
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = width {
        table.set_width(w);
    }
    table.set_header(["Rule", "Severity", "Step", "Title", "Requires"]);
    for r in catalogue.in_guide_order() {
        table.add_row([
            r.id.clone(),
            r.severity.to_string(),
            r.step.key().to_string(),
            r.title.clone(),
            r.requires.join(", "),
        ]);
    }
    format!("{table}\n{} rules\n", catalogue.rules().len())
}

/// `eci-audit rules --format json`.
pub fn rules_json(catalogue: &Catalogue) -> String {
    let rules: Vec<_> = catalogue
        .in_guide_order()
        .into_iter()
        .map(rule_json)
        .collect();
    let doc = json!({"schema_version": 1, "rules": rules});
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn rule_json(r: &Rule) -> serde_json::Value {
    json!({
        "id": r.id,
        "title": r.title,
        "step": r.step.key(),
        "step_title": r.step.title(),
        "severity": r.severity.as_str(),
        "requires": r.requires,
        "requirement": r.requirement,
        "rationale": r.rationale,
        "expected": r.expected,
        "fix": r.fix,
        "manual": r.manual,
    })
}

/// `eci-audit explain ID`.
pub fn explain(r: &Rule) -> String {
    let mut s = format!("{} — {}\n\n", r.id, r.title);
    s.push_str(&format!("Guide step:  {}\n", r.step.title()));
    s.push_str(&format!("Severity:    {}\n", r.severity));
    if !r.requires.is_empty() {
        s.push_str(&format!("Requires:    {}\n", r.requires.join(", ")));
    }
    s.push_str(&format!("\nRequirement\n  {}\n", r.requirement));
    s.push_str(&format!("\nExpected\n  {}\n", r.expected));
    s.push_str(&format!("\nWhy it matters\n  {}\n", r.rationale));
    s.push_str(&format!("\nFix\n  {}\n", r.fix));
    if let Some(m) = &r.manual {
        s.push_str(&format!("\nManual check\n  {m}\n"));
    }
    s
}

/// docs/rules.md, generated from the rule files (a test keeps the file in sync).
pub fn rules_markdown(catalogue: &Catalogue) -> String {
    let mut s = String::from(
        "# eci-audit rule reference\n\n\
         Generated from `rules/` by `eci-audit rules --format markdown`; do not edit by hand\n\
         (a test fails when this file and the rule files disagree).\n",
    );
    for step in Step::ALL {
        let rules: Vec<&Rule> = catalogue
            .in_guide_order()
            .into_iter()
            .filter(|r| r.step == step)
            .collect();
        if rules.is_empty() {
            continue;
        }
        s.push_str(&format!("\n## {}\n", step.title()));
        for r in rules {
            s.push_str(&format!("\n### {} — {}\n\n", r.id, r.title));
            s.push_str(&format!("- **Severity:** {}\n", r.severity));
            if !r.requires.is_empty() {
                s.push_str(&format!("- **Requires:** {}\n", r.requires.join(", ")));
            }
            s.push_str(&format!("- **Requirement:** {}\n", r.requirement));
            s.push_str(&format!("- **Expected:** {}\n", r.expected));
            s.push_str(&format!("- **Why:** {}\n", r.rationale));
            s.push_str(&format!("- **Fix:** {}\n", r.fix));
            if let Some(m) = &r.manual {
                s.push_str(&format!("- **Manual check:** {m}\n"));
            }
        }
    }
    s
}
