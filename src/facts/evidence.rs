//! The evidence sections (issue 9): what changed recently (Setup Audit Trail) and whether
//! calls arrive (`VoiceCall`). Not rules: nothing gates on them. Built once per audit from the
//! snapshot's run-time section ([`build`]), so a collected snapshot checked offline shows them
//! too; `report::evidence` renders them in every format.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::Settings;
use super::runtime::{
    CALL_DAYS, as_of, describe_entry, eci_component_needles, is_connected_app_change, parse_time,
};
use super::settings::ChangesWindow;
use crate::rules::{Finding, Status};
use crate::snapshot::Snapshot;

/// How recent a connected-app change is that may not have taken effect (Salesforce applies
/// them within about ten minutes).
const PROPAGATION_MINUTES: i64 = 10;

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
        ChangesWindow::Days(n) => super::runtime::days_before(now, n),
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
        let read_from = super::runtime::days_before(now, days);
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
    let since = now - Duration::days(i64::from(CALL_DAYS));
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
        days: i64::from(CALL_DAYS),
        count,
        at_least,
        newest,
        not_collected,
        quiet_while_passing: all_pass && count == Some(0),
    }
}
