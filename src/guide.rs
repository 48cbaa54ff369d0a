//! The setup guide's names, in one place: the API names and labels the guide tells the admin
//! to type. The collector asks for them, the fact view looks them up and the rules name them,
//! so a rename in a future guide edition is one edit here (and in the rule files' texts).

/// Connected app API name (guide step "Set Up the Connected App").
pub const CONNECTED_APP: &str = "ECIConnectedApp";
/// Connected app label the guide gives.
pub const CONNECTED_APP_LABEL: &str = "ECI Connected App";
/// Auth provider URL suffix (API name).
pub const AUTH_PROVIDER: &str = "ECIAuthProvider";
/// ECI named credential API name.
pub const ECI_NAMED_CREDENTIAL: &str = "ECINamedCredential";
/// Aircall named credential API name.
pub const AIRCALL_NAMED_CREDENTIAL: &str = "Aircall";
/// Salesforce site API name.
pub const SITE: &str = "VoiceConnector";
/// Label of the integration-user permission set (the guide's wording).
pub const INTEGRATION_PERMISSION_SET_LABEL: &str = "Conversation Insights Integration User";
/// Label of the guest user's Voice Connector permission set.
pub const VOICE_CONNECTOR_PERMISSION_SET_LABEL: &str = "Voice Connector Permission";

/// At most this many recent `VoiceCall` records are read for "Calls arriving".
pub const VOICE_CALL_READ_LIMIT: usize = 1000;

/// The ECI access permission sets the Salesforce Help pages list (reference §1.3).
pub const DEFAULT_ECI_ACCESS_LABELS: [&str; 6] = [
    "Conversation Insights for Sales",
    "Sales Engagement Conversation Insights",
    "Einstein Conversation Insights Included",
    "Einstein Conversation Insights Standard",
    "Sales Cloud Bundle Included",
    "Conversation Insights for Service",
];

/// The callback URL the connected app must list: the auth provider's callback on My Domain.
pub fn auth_callback_url(my_domain_origin: &str) -> String {
    format!(
        "{}/services/authcallback/{AUTH_PROVIDER}",
        my_domain_origin.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_url_ignores_a_trailing_slash() {
        assert_eq!(
            auth_callback_url("https://acme.my.salesforce.com/"),
            "https://acme.my.salesforce.com/services/authcallback/ECIAuthProvider"
        );
    }
}
