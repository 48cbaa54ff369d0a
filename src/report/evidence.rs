//! The evidence sections (issue 9): what changed recently (Setup Audit Trail) and whether
//! calls arrive (`VoiceCall`). Not rules: nothing gates on them. Built once per audit from the
//! snapshot's run-time section ([`build`]), so a collected snapshot checked offline shows them
//! too; every format renders them from here: [`table`], [`json`] (typed arrays, also SARIF's
//! run properties) and [`markdown`].

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::facts::Settings;
use crate::facts::runtime::{
    as_of, describe_entry, eci_component_needles, is_connected_app_change, parse_time,
};
use crate::facts::settings::ChangesWindow;
use crate::rules::{Finding, Status};
use crate::snapshot::Snapshot;

use super::escape;

/// How recent a connected-app change is that may not have taken effect (Salesforce applies
/// them within about ten minutes).
const PROPAGATION_MINUTES: i64 = 10;
/// The window of "Calls arriving".
const CALL_DAYS: i64 = 7;

/// Both sections.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    pub recent_changes: RecentChanges,
    pub calls: Calls,
}

/// Setup Audit Trail entries touching the ECI components, the integration or guest user or
/// the site, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RecentChanges {
    /// The first moment shown (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub entries: Vec<Change>,
    /// Why there are none to show: not collected, or not applicable to the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_collected: Option<String>,
    /// Something the reader should know about the window (it reaches further back than was
    /// read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// `CreatedDate`, as Salesforce wrote it.
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegate_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// It touches an ECI component (not only a user or the site).
    pub eci_component: bool,
    /// A connected-app change less than ten minutes old: it may not have taken effect yet.
    pub may_not_have_taken_effect: bool,
    /// The whole line, as the table shows it.
    pub text: String,
}

/// Calls created recently.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Calls {
    pub days: i64,
    /// `VoiceCall` records created in the window; `None` when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// The count hit the read limit: there are at least this many.
    pub at_least: bool,
    /// The newest call's `CreatedDate`, of any age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_collected: Option<String>,
    /// Every rule passed, yet no call arrived in the window: the setup looks right but nothing
    /// flows.
    pub quiet_while_passing: bool,
}

/// The sections of one audit.
pub fn build(snap: &Snapshot, settings: &Settings, findings: &[Finding]) -> Evidence {
    let now = as_of(snap, settings.today);
    Evidence {
        recent_changes: recent_changes(snap, settings, now),
        calls: calls(snap, findings, now),
    }
}

fn recent_changes(snap: &Snapshot, settings: &Settings, now: DateTime<Utc>) -> RecentChanges {
    let since = match settings.changes {
        ChangesWindow::Days(n) => crate::facts::runtime::days_before(now, n),
        ChangesWindow::Since(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
    };
    let trail = &snap.runtime.setup_audit_trail;
    let entries = match trail.available() {
        Ok(e) => e,
        Err(reason) => {
            return RecentChanges {
                since: None,
                entries: Vec::new(),
                not_collected: Some(reason.to_string()),
                note: None,
            };
        }
    };
    let note = snap.runtime.audit_trail_days.and_then(|days| {
        let read_from = crate::facts::runtime::days_before(now, days);
        (since < read_from).then(|| {
            format!(
                "the Setup Audit Trail was read back {days} days, to {}; earlier changes are not shown",
                read_from.date_naive()
            )
        })
    });
    let needles = eci_component_needles(snap);
    let mut shown: Vec<(DateTime<Utc>, Change)> = entries
        .iter()
        .filter_map(|e| parse_time(&e.created_date).map(|t| (t, e)))
        .filter(|(t, _)| *t >= since)
        .map(|(t, e)| {
            let fresh = is_connected_app_change(e)
                && now >= t
                && now - t < Duration::minutes(PROPAGATION_MINUTES);
            let mut text = describe_entry(e);
            if fresh {
                text.push_str(" — may not have taken effect yet (connected app changes take up to 10 minutes)");
            }
            (
                t,
                Change {
                    time: e.created_date.clone(),
                    user: e.created_by.clone(),
                    delegate_user: e.delegate_user.clone(),
                    section: e.section.clone(),
                    action: e.action.clone(),
                    display: e.display.clone(),
                    eci_component: crate::facts::runtime::touches(e, &needles),
                    may_not_have_taken_effect: fresh,
                    text,
                },
            )
        })
        .collect();
    shown.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    RecentChanges {
        since: Some(since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        entries: shown.into_iter().map(|(_, c)| c).collect(),
        not_collected: None,
        note,
    }
}

fn calls(snap: &Snapshot, findings: &[Finding], now: DateTime<Utc>) -> Calls {
    let rt = &snap.runtime;
    let since = now - Duration::days(CALL_DAYS);
    let newest = rt
        .latest_voice_call
        .items()
        .iter()
        .chain(rt.recent_voice_calls.items())
        .filter_map(|c| parse_time(&c.created_date).map(|t| (t, c)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, c)| c.created_date.clone());
    let (count, at_least, not_collected) = match rt.recent_voice_calls.available() {
        Ok(rows) => {
            let n = rows
                .iter()
                .filter(|c| parse_time(&c.created_date).is_some_and(|t| t >= since))
                .count();
            (
                Some(n),
                rows.len() >= crate::guide::VOICE_CALL_READ_LIMIT,
                None,
            )
        }
        Err(reason) => (None, false, Some(reason.to_string())),
    };
    let all_pass = !findings.is_empty()
        && findings
            .iter()
            .all(|f| matches!(f.status, Status::Pass | Status::Manual | Status::Waived));
    Calls {
        days: CALL_DAYS,
        count,
        at_least,
        newest,
        not_collected,
        quiet_while_passing: all_pass && count == Some(0),
    }
}

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
                days: CALL_DAYS,
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
