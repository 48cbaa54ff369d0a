//! Typed errors of the live collector. None of them ever holds a secret: server messages are
//! scrubbed of every known token before they are stored, endpoints are paths, and a URL the
//! caller gave is only ever shown as `scheme://host[:port]/path` (no `user:password@`, no query
//! string).

use std::path::PathBuf;

use super::limits::{show_bytes, show_duration};
use super::request::HttpMethod;
use super::url::{accepted_origin, display_url};

/// Why a live collection could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// Getting an access token failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// HTTP 401 or a SOAP `INVALID_SESSION_ID` fault.
    #[error("session expired or invalid — log in again (sf org login web) [{method} {endpoint}]")]
    SessionExpired {
        /// The method of the request that was refused.
        method: HttpMethod,
        /// The endpoint (path only) that refused the session.
        endpoint: String,
    },
    /// `REQUEST_LIMIT_EXCEEDED`: the org's daily API request limit is used up.
    #[error(
        "{endpoint}: REQUEST_LIMIT_EXCEEDED: the org's API request limit is exceeded ({message}); \
         try again when the 24-hour usage has dropped"
    )]
    RequestLimitExceeded { endpoint: String, message: String },
    /// A request every other fact depends on (the versions resource) failed.
    #[error("{endpoint}: HTTP {status}{}: {message}", error_code.as_ref().map(|c| format!(" {c}")).unwrap_or_default())]
    Http {
        endpoint: String,
        status: u16,
        /// Salesforce's `errorCode`, when the body carried one.
        error_code: Option<String>,
        message: String,
    },
    /// No answer after the retries (connection refused, timeout, reset, truncated body) to a
    /// request every fact depends on, or no HTTP answer from the org to any request at all.
    #[error("{endpoint}: {detail}")]
    Transport { endpoint: String, detail: String },
    /// An answer that could not be understood, where no fact can be marked instead.
    #[error("{endpoint}: unexpected response: {detail}")]
    InvalidResponse { endpoint: String, detail: String },
    /// The read-only choke point refused a request before sending a byte.
    #[error("refused to send {method} {endpoint}: {reason} (eci-audit only reads)")]
    Refused {
        method: HttpMethod,
        endpoint: String,
        reason: String,
    },
    /// A response body grew past its limit ([`Limits`](super::Limits)); it was not read
    /// further.
    #[error("response body of {method} {endpoint} exceeds the {} limit", show_bytes(*limit_bytes))]
    BodyTooLarge {
        method: HttpMethod,
        endpoint: String,
        limit_bytes: u64,
    },
    /// The collection sent as many requests as [`Limits::max_requests`](super::Limits)
    /// allows and needed another.
    #[error("the run reached its limit of {limit} HTTP requests (next: {method} {endpoint})")]
    TooManyRequests {
        limit: u32,
        method: HttpMethod,
        endpoint: String,
    },
    /// A query result was longer than [`MAX_PAGES_PER_QUERY`](super::MAX_PAGES_PER_QUERY)
    /// pages: far more than an ECI audit reads, so the org answers something unexpected.
    #[error(
        "the result of {endpoint} still had more after the limit of {limit} pages ({records} records); stopped"
    )]
    TooManyPages {
        limit: u32,
        records: usize,
        endpoint: String,
    },
    /// The collection did not finish within [`Limits::deadline`](super::Limits) (`--deadline`).
    #[error("the run did not finish within its deadline of {} (--deadline)", show_duration(*deadline))]
    DeadlineExceeded { deadline: std::time::Duration },
    /// An option the caller gave is unusable.
    #[error("invalid {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    /// A bug: a collection task panicked or the snapshot could not be rebuilt.
    #[error("internal error: {0}")]
    Internal(String),
    /// The blocking wrapper could not start its runtime.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Why no access token could be obtained.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A required environment variable is not set.
    #[error("environment variable {var} is not set: {hint}")]
    MissingEnv {
        var: &'static str,
        hint: &'static str,
    },
    /// An instance, login or Aircall URL is not usable.
    #[error("invalid {what} `{}`: {reason}", display_url(url))]
    InvalidUrl {
        what: &'static str,
        /// The URL as `scheme://host[:port]/path`: credentials (`user:password@`), the query
        /// string and the fragment are never kept.
        url: String,
        reason: String,
    },
    /// The Salesforce CLI is not installed (or not where `ECI_AUDIT_SF_BIN` points).
    #[error(
        "the Salesforce CLI `{program}` was not found on PATH: install it (https://developer.salesforce.com/tools/salesforcecli), \
         set ECI_AUDIT_SF_BIN, or use --instance-url with SF_ACCESS_TOKEN"
    )]
    SfNotFound { program: String },
    /// The CLI could not be started for another reason.
    #[error("cannot run `{program}`")]
    SfSpawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// The CLI answered with an error (`status` ≠ 0).
    #[error("`{command}` failed{}: {message}", name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default())]
    SfFailed {
        command: String,
        name: Option<String>,
        message: String,
    },
    /// The CLI printed more than the limit on standard output or standard error.
    #[error("`{command}` printed more than the {} limit", show_bytes(*limit_bytes))]
    SfOutputTooLarge { command: String, limit_bytes: u64 },
    /// The CLI did not finish within [`Limits::sf_cli_timeout`](super::Limits); it was killed.
    #[error("`{command}` did not finish within {} and was killed", show_duration(*timeout))]
    SfTimeout {
        command: String,
        timeout: std::time::Duration,
    },
    /// The CLI printed something that is not the expected JSON.
    #[error("`{command}` printed unexpected output: {detail}")]
    SfOutput { command: String, detail: String },
    /// `sf org display` redacted the token and `show-access-token` gave none.
    #[error(
        "the Salesforce CLI did not reveal an access token for `{target_org}` (`sf org display` redacts it and \
         `sf org auth show-access-token` failed: {detail}); update the CLI, or use --instance-url with SF_ACCESS_TOKEN"
    )]
    TokenRedacted { target_org: String, detail: String },
    /// The JWT private key file cannot be read or is not an RSA key.
    #[error("JWT key file {}: {detail}", path.display())]
    KeyFile { path: PathBuf, detail: String },
    /// The token endpoint refused (`{"error","error_description"}`).
    #[error("{endpoint}: token request refused (HTTP {status}): {error}{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    TokenRefused {
        endpoint: String,
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// The token endpoint answered 200 without the expected fields.
    #[error("{endpoint}: unexpected token response: {detail}")]
    TokenResponse { endpoint: String, detail: String },
}

/// Checks an org, login or Aircall URL: `https`, or `http` on a loopback host (local fakes).
/// Returns the origin (`scheme://host[:port]`, no trailing slash). The rule itself is
/// `url::accepted_origin`; it lives here because its error is an [`AuthError`].
pub fn check_url(what: &'static str, url: &str) -> Result<String, AuthError> {
    accepted_origin(url).map_err(|reason| AuthError::InvalidUrl {
        what,
        url: display_url(url),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_session_keeps_the_hint_and_names_the_endpoint() {
        let err = CollectError::SessionExpired {
            method: HttpMethod::Get,
            endpoint: "/services/oauth2/userinfo".to_string(),
        };
        assert_eq!(
            err.to_string(),
            "session expired or invalid — log in again (sf org login web) [GET /services/oauth2/userinfo]"
        );
    }

    #[test]
    fn invalid_urls_never_show_credentials_or_queries() {
        for url in [
            "https://admin:Sup3rS3cret@host/?sid=00DTOKEN",
            "admin:Sup3rS3cret@host/?sid=00DTOKEN",
            "https://admin:Sup3rS3cret@/?sid=00DTOKEN",
            "ftp://admin:Sup3rS3cret@host/path#00DTOKEN",
        ] {
            // Even an error built by hand with the raw URL displays it without secrets.
            let err = AuthError::InvalidUrl {
                what: "instance URL",
                url: url.to_string(),
                reason: "test".to_string(),
            };
            let text = err.to_string();
            assert!(
                !text.contains("Sup3rS3cret") && !text.contains("00DTOKEN"),
                "{text}"
            );
        }
    }
}
