//! What the run-time rules (ENC009..ENC012, USR009, USR010) and the evidence sections share:
//! the clock of the data, Salesforce's date-time format, which `OauthToken` and `LoginHistory`
//! rows belong to the ECI app, and which Setup Audit Trail entries touch the ECI components.

use chrono::{DateTime, NaiveDate, Utc};

use crate::guide;
use crate::snapshot::model::{AuditTrailEntry, AuditorPermissions, OauthToken, Snapshot};

use super::value::normalize_label;

/// The window of "Calls arriving", in days: what the collector reads and the evidence counts.
pub const CALL_DAYS: u32 = 7;

/// Parses a Salesforce date-time (`2026-10-02T09:15:00.000+0000`) or RFC 3339.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The UTC day of a Salesforce date-time, as written (`2026-10-02`).
pub fn day_of(s: &str) -> String {
    parse_time(s).map_or_else(
        || s.get(..10).unwrap_or(s).to_string(),
        |t| t.date_naive().to_string(),
    )
}

/// The moment the run-time data describes: when it was read, else when the snapshot was
/// collected, else the start of `today`. Windows and expiry are judged as of it, so an
/// offline check of a collected snapshot says what was true when it was collected.
pub fn as_of(snap: &Snapshot, today: NaiveDate) -> DateTime<Utc> {
    snap.runtime
        .as_of
        .as_deref()
        .or(snap.source.collected_at.as_deref())
        .and_then(parse_time)
        .unwrap_or_else(|| today.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Names the ECI connected app goes by in `OauthToken.AppName` and `LoginHistory.Application`
/// (normalized): its API name, the guide's label, and the labels the org gives it.
pub fn eci_app_names(snap: &Snapshot) -> Vec<String> {
    let mut names = vec![
        normalize_label(guide::CONNECTED_APP),
        normalize_label(guide::CONNECTED_APP_LABEL),
    ];
    if let Some(app) = snap
        .connected_apps
        .items()
        .iter()
        .find(|a| a.full_name == guide::CONNECTED_APP)
        && let Some(label) = &app.label
    {
        names.push(normalize_label(label));
    }
    for item in eci_menu_items(snap) {
        if let Some(label) = &item.label {
            names.push(normalize_label(label));
        }
    }
    names.sort();
    names.dedup();
    names
}

fn eci_menu_items(snap: &Snapshot) -> impl Iterator<Item = &crate::snapshot::model::AppMenuItem> {
    snap.runtime
        .app_menu_items
        .items()
        .iter()
        .filter(|m| m.name.as_deref() == Some(guide::CONNECTED_APP))
}

/// Whether a token was issued to the ECI app: by `AppMenuItemId` → the `ECIConnectedApp` menu
/// item, else (no menu item read) by `AppName` against the app's names.
pub fn is_eci_token(snap: &Snapshot, names: &[String], token: &OauthToken) -> bool {
    if let Some(id) = &token.app_menu_item_id
        && eci_menu_items(snap).any(|m| &m.id == id)
    {
        return true;
    }
    token
        .app_name
        .as_deref()
        .is_some_and(|n| names.contains(&normalize_label(n)))
}

/// Whether a `LoginHistory.Application` names the ECI app.
pub fn is_eci_application(names: &[String], application: Option<&str>) -> bool {
    application.is_some_and(|a| names.contains(&normalize_label(a)))
}

/// Texts that name the three ECI components in an audit-trail entry: API names and labels.
pub fn eci_component_needles(snap: &Snapshot) -> Vec<String> {
    let mut needles: Vec<String> = [
        guide::ECI_NAMED_CREDENTIAL,
        guide::AUTH_PROVIDER,
        guide::CONNECTED_APP,
        guide::CONNECTED_APP_LABEL,
    ]
    .iter()
    .map(|s| s.to_lowercase())
    .collect();
    let labels = snap
        .named_credentials
        .items()
        .iter()
        .filter(|n| n.full_name == guide::ECI_NAMED_CREDENTIAL)
        .filter_map(|n| n.label.clone())
        .chain(
            snap.auth_providers
                .items()
                .iter()
                .filter(|a| a.full_name == guide::AUTH_PROVIDER)
                .filter_map(|a| a.friendly_name.clone()),
        )
        .chain(
            snap.connected_apps
                .items()
                .iter()
                .filter(|a| a.full_name == guide::CONNECTED_APP)
                .filter_map(|a| a.label.clone()),
        );
    needles.extend(labels.map(|l| l.to_lowercase()).filter(|l| l.len() >= 3));
    needles.sort();
    needles.dedup();
    needles
}

/// Whether an entry's `Section` or `Display` names one of the needles (matched loosely: the
/// Section values are not documented as a closed list).
pub fn touches(entry: &AuditTrailEntry, needles: &[String]) -> bool {
    let text = entry_text(entry);
    needles.iter().any(|n| text.contains(n.as_str()))
}

/// Whether an entry is about a connected app (whose changes take up to ten minutes to apply).
pub fn is_connected_app_change(entry: &AuditTrailEntry) -> bool {
    let text = entry_text(entry);
    text.contains("connected app") || text.contains(&guide::CONNECTED_APP.to_lowercase())
}

/// Whether the auditing user holds any of `perms` (read from its first permissions row);
/// `Err` with the reason when its permissions were not read.
pub fn auditor_holds_any<'a>(
    snap: &'a Snapshot,
    perms: &[fn(&AuditorPermissions) -> Option<bool>],
) -> Result<bool, &'a str> {
    let first = snap.runtime.auditor_permissions.available()?.first();
    Ok(perms.iter().any(|f| first.and_then(*f) == Some(true)))
}

/// An entry's section and display text, lowercased, for matching.
fn entry_text(entry: &AuditTrailEntry) -> String {
    format!(
        "{} {}",
        entry.section.as_deref().unwrap_or_default(),
        entry.display.as_deref().unwrap_or_default()
    )
    .to_lowercase()
}

/// One entry in a line: `2026-11-20 10:02 UTC admin@acme.com: Changed …`.
pub fn describe_entry(entry: &AuditTrailEntry) -> String {
    let when = parse_time(&entry.created_date).map_or_else(
        || entry.created_date.clone(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    );
    let who = entry.created_by.as_deref().unwrap_or("an unknown user");
    let what = entry
        .display
        .as_deref()
        .or(entry.action.as_deref())
        .unwrap_or("(no description)");
    match &entry.delegate_user {
        Some(d) if !d.trim().is_empty() => format!("{when} {who} (as {d}): {what}"),
        _ => format!("{when} {who}: {what}"),
    }
}

/// `days` before `t`, or the earliest time there is when that is out of range (a snapshot may
/// carry any number of days): never a panic.
pub fn days_before(t: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    t.checked_sub_signed(chrono::Duration::days(i64::from(days)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_times_parse() {
        let t = parse_time("2026-10-02T09:15:00.000+0000").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-02T09:15:00+00:00");
        assert_eq!(parse_time("2026-10-02T09:15:00Z"), Some(t), "RFC 3339 too");
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(day_of("2026-10-02T23:15:00.000-0200"), "2026-10-03");
    }

    #[test]
    fn entries_match_loosely_and_render_in_one_line() {
        let e = AuditTrailEntry {
            created_date: "2026-11-20T10:02:00.000+0000".into(),
            created_by: Some("admin@acme.com".into()),
            section: Some("Named Credentials".into()),
            display: Some("Changed Named Credential ECINamedCredential".into()),
            ..AuditTrailEntry::default()
        };
        assert!(touches(&e, &["ecinamedcredential".into()]));
        assert!(!touches(&e, &["voiceconnector".into()]));
        assert!(!is_connected_app_change(&e));
        assert_eq!(
            describe_entry(&e),
            "2026-11-20 10:02 UTC admin@acme.com: Changed Named Credential ECINamedCredential"
        );
    }
}
