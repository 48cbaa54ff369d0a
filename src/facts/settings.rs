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
}

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
        }
    }
}
