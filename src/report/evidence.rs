//! The evidence sections (recent changes, calls arriving) as each format shows them; what
//! they hold is worked out in [`crate::facts::evidence`].

pub use crate::facts::evidence::{Calls, Change, Evidence, RecentChanges};

use super::escape;
use crate::facts::runtime::parse_time;

impl Calls {
    /// One sentence.
    pub fn sentence(&self) -> String {
        let Some(n) = self.count else {
            return format!(
                "not collected: {}",
                self.not_collected.as_deref().unwrap_or("no reason given")
            );
        };
        let newest = self.newest.as_deref().map_or_else(
            || "no VoiceCall record at all".to_string(),
            |t| {
                format!(
                    "the newest was created {}",
                    parse_time(t).map_or_else(
                        || t.to_string(),
                        |t| t.format("%Y-%m-%d %H:%M UTC").to_string()
                    )
                )
            },
        );
        let mut s = format!(
            "{}{n} VoiceCall record{} created in the last {} days; {newest}",
            if self.at_least { "at least " } else { "" },
            if n == 1 { "" } else { "s" },
            self.days
        );
        if self.quiet_while_passing {
            s.push_str(&format!(
                ". Every check passed, but no call arrived in {} days: check that calls are made, that Aircall's Salesforce integration is connected, and that the Voice Connector is active",
                self.days
            ));
        }
        s
    }
}

impl RecentChanges {
    /// The heading line.
    pub fn heading(&self) -> String {
        match (&self.not_collected, &self.since) {
            (Some(reason), _) => format!("Recent changes: not collected: {reason}"),
            (None, Some(since)) => format!(
                "Recent changes (Setup Audit Trail since {}, newest first): {}",
                since.get(..10).unwrap_or(since),
                if self.entries.is_empty() {
                    "none to the ECI components, the integration or guest user, or the site"
                        .to_string()
                } else {
                    format!("{}", self.entries.len())
                }
            ),
            (None, None) => "Recent changes".to_string(),
        }
    }
}

/// The sections as the table shows them, after the findings; every value escaped.
pub fn table(e: &Evidence) -> String {
    // One reason for both (a metadata directory has neither): said once.
    if let (Some(a), Some(b)) = (&e.recent_changes.not_collected, &e.calls.not_collected)
        && a == b
    {
        return format!(
            "Recent changes and calls arriving: not collected: {}\n",
            escape::line(a)
        );
    }
    let mut out = format!("{}\n", escape::line(&e.recent_changes.heading()));
    for c in &e.recent_changes.entries {
        out.push_str(&format!("  {}\n", escape::line(&c.text)));
    }
    if let Some(note) = &e.recent_changes.note {
        out.push_str(&format!("  ({})\n", escape::line(note)));
    }
    out.push_str(&format!(
        "Calls arriving: {}\n",
        escape::line(&e.calls.sentence())
    ));
    out
}

/// The sections as JSON: typed arrays and numbers.
pub fn json(e: &Evidence) -> serde_json::Value {
    serde_json::to_value(e).unwrap_or(serde_json::Value::Null)
}

/// The sections as Markdown, after the findings (for the Markdown report).
pub fn markdown(e: &Evidence) -> String {
    // Audit-trail fields come from the org: escaped as Markdown (no HTML, links, images,
    // mentions or table breaks), cut and made visible like every input value.
    let cell = |s: &str| escape::markdown(s);
    let mut out = String::from("## Recent changes\n\n");
    let rc = &e.recent_changes;
    match (&rc.not_collected, rc.entries.is_empty()) {
        (Some(reason), _) => out.push_str(&format!("Not collected: {}\n", cell(reason))),
        (None, true) => out.push_str(&format!("{}\n", cell(&rc.heading()))),
        (None, false) => {
            out.push_str(&format!(
                "Setup Audit Trail since {}, newest first.\n\n| When | Who | Section | Change |\n|---|---|---|---|\n",
                rc.since.as_deref().and_then(|s| s.get(..10)).unwrap_or("")
            ));
            for c in &rc.entries {
                let mut what = c.display.clone().or(c.action.clone()).unwrap_or_default();
                if c.may_not_have_taken_effect {
                    what.push_str(" — may not have taken effect yet");
                }
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    cell(&c.time),
                    cell(c.user.as_deref().unwrap_or("")),
                    cell(c.section.as_deref().unwrap_or("")),
                    cell(&what)
                ));
            }
        }
    }
    if let Some(note) = &rc.note {
        out.push_str(&format!("\n_{}_\n", cell(note)));
    }
    out.push_str(&format!(
        "\n## Calls arriving\n\n{}\n",
        cell(&e.calls.sentence())
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(changes: Option<&str>, calls: Option<&str>) -> Evidence {
        Evidence {
            recent_changes: RecentChanges {
                since: None,
                entries: Vec::new(),
                not_collected: changes.map(str::to_string),
                note: None,
            },
            calls: Calls {
                days: i64::from(crate::facts::runtime::CALL_DAYS),
                count: None,
                at_least: false,
                newest: None,
                not_collected: calls.map(str::to_string),
                quiet_while_passing: false,
            },
        }
    }

    #[test]
    fn audit_trail_values_cannot_inject_markdown() {
        let mut e = evidence(None, Some("not read"));
        e.recent_changes.since = Some("2026-11-01T00:00:00Z".to_string());
        e.recent_changes.entries.push(Change {
            time: "2026-11-10T14:30:00Z".to_string(),
            user: Some("@octocat".to_string()),
            delegate_user: None,
            section: Some("Sites | x".to_string()),
            action: None,
            display: Some(
                "<img src=https://evil.example/p.png> ![t](https://evil.example/q.png) [click](https://evil.example)"
                    .to_string(),
            ),
            eci_component: false,
            may_not_have_taken_effect: false,
            text: String::new(),
        });
        let md = markdown(&e);
        for raw in ["<img", "![t](", "[click](", " Sites | x "] {
            assert!(!md.contains(raw), "{raw} in:\n{md}");
        }
        assert!(md.contains("Sites \\| x"), "{md}");
        assert!(!md.contains("| @octocat"), "{md}");
    }

    #[test]
    fn one_reason_for_both_sections_is_said_once() {
        let text = table(&evidence(Some("not in files"), Some("not in files")));
        assert_eq!(
            text,
            "Recent changes and calls arriving: not collected: not in files\n"
        );
        let text = table(&evidence(Some("refused\u{1b}[2J"), Some("other")));
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.starts_with("Recent changes: not collected: refused\\u{1b}[2J"),
            "{text}"
        );
        assert!(
            text.contains("Calls arriving: not collected: other"),
            "{text}"
        );
    }
}
