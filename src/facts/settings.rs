//! Inputs to the audit that are not in the snapshot. The date is passed in, so that building
//! the view stays pure (and expiry logic is deterministic in tests).

use chrono::NaiveDate;

use crate::guide;

/// Inputs to the audit that are not in the snapshot.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--integration-user`.
    pub integration_user: Option<String>,
    /// `--my-domain`: overrides what the snapshot says.
    pub my_domain: Option<String>,
    /// `--refresh-token-days`.
    pub refresh_token_days: Option<u32>,
    /// `AIRCALL_API_ID`, for AIR007.
    pub aircall_api_id: Option<String>,
    /// Labels of the ECI access permission sets (USR006).
    pub eci_access_labels: Vec<String>,
    /// API names accepted for "Conversation Insights Integration User" besides its label.
    pub integration_permission_set_names: Vec<String>,
    /// API names accepted for "Voice Connector Permission" besides its label.
    pub voice_connector_permission_set_names: Vec<String>,
    /// Namespace of the Voice Connector package, when known.
    pub voice_connector_namespace: Option<String>,
    /// `sessionLevel` values that mean a high-assurance session (CAP013; UNCONFIRMED literal).
    pub high_assurance_session_levels: Vec<String>,
    /// Today, for expired assignments.
    pub today: NaiveDate,
    /// `--token-expiry-warning`: ENC012 warns when the ECI refresh token expires within it.
    pub token_expiry_warning_days: u32,
    /// `--changes-since` / `--changes-days`: the "Recent changes" evidence window.
    pub changes: ChangesWindow,
}

/// How far back the "Recent changes" evidence looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangesWindow {
    /// The last N days before the data was read.
    Days(u32),
    /// From this day on (UTC).
    Since(NaiveDate),
}

/// The default of `--token-expiry-warning`.
pub const DEFAULT_TOKEN_EXPIRY_WARNING_DAYS: u32 = 30;
/// The default of `--changes-days`.
pub const DEFAULT_CHANGES_DAYS: u32 = 30;

impl Settings {
    /// The defaults, as of `today`.
    pub fn new(today: NaiveDate) -> Self {
        Settings {
            integration_user: None,
            my_domain: None,
            refresh_token_days: None,
            aircall_api_id: None,
            eci_access_labels: guide::DEFAULT_ECI_ACCESS_LABELS
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            integration_permission_set_names: Vec::new(),
            voice_connector_permission_set_names: Vec::new(),
            voice_connector_namespace: None,
            high_assurance_session_levels: vec!["HIGH_ASSURANCE".to_string()],
            today,
            token_expiry_warning_days: DEFAULT_TOKEN_EXPIRY_WARNING_DAYS,
            changes: ChangesWindow::Days(DEFAULT_CHANGES_DAYS),
        }
    }
}
