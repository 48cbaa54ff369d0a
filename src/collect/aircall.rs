//! AIR011: `GET /v1/ping` against the Aircall API with the user's API ID and token (Basic).
//! Opt-in through `AIRCALL_API_ID` / `AIRCALL_API_TOKEN`; the token is never stored or logged.

use std::fmt;

use super::error::{AuthError, CollectError, check_url};
use super::request::{Credential, PlannedRequest};
use super::secret::Secret;
use super::transport::{Reply, Transport};
use super::url::display_url;
use crate::snapshot::model::{AircallCheck, AircallCheckField, Origin};

/// The Aircall API ID (a public identifier).
pub const AIRCALL_API_ID_ENV: &str = "AIRCALL_API_ID";
/// The Aircall API token (a secret).
pub const AIRCALL_API_TOKEN_ENV: &str = "AIRCALL_API_TOKEN";
/// Overrides the API origin (tests point it at a local fake).
pub const AIRCALL_BASE_URL_ENV: &str = "AIRCALL_BASE_URL";
/// The public Aircall API origin.
pub const AIRCALL_DEFAULT_BASE_URL: &str = "https://api.aircall.io";

/// Credentials for the Aircall ping. `Debug` shows neither the token nor URL credentials.
#[derive(Clone)]
pub struct AircallCredentials {
    pub api_id: String,
    pub api_token: Secret,
    /// `https://api.aircall.io` unless overridden (http only for loopback hosts).
    pub base_url: String,
}

impl AircallCredentials {
    /// Reads `AIRCALL_API_ID`, `AIRCALL_API_TOKEN` and `AIRCALL_BASE_URL`. `Ok(None)` when
    /// neither the ID nor the token is set (the check is opt-in); an error when only one is.
    pub fn from_env() -> Result<Option<Self>, AuthError> {
        let token = env_value(AIRCALL_API_TOKEN_ENV);
        match opted_in(token.is_some())? {
            Some(api_id) => {
                Self::with_env_base(api_id, Secret::new(token.unwrap_or_default().trim()))
            }
            None => Ok(None),
        }
    }

    /// For `--print-plan`: like [`AircallCredentials::from_env`] (same opt-in rule, same
    /// errors), but the token's value is never read, only whether it is set; the result has a
    /// blank token, which [`collect`](super::collect) refuses.
    pub fn for_plan_from_env() -> Result<Option<Self>, AuthError> {
        let token_set = std::env::var_os(AIRCALL_API_TOKEN_ENV).is_some_and(|v| !v.is_empty());
        match opted_in(token_set)? {
            Some(api_id) => Self::with_env_base(api_id, Secret::new("")),
            None => Ok(None),
        }
    }

    /// The credentials against `AIRCALL_BASE_URL`, or the public API without it.
    fn with_env_base(api_id: String, api_token: Secret) -> Result<Option<Self>, AuthError> {
        let base_url =
            env_value(AIRCALL_BASE_URL_ENV).unwrap_or_else(|| AIRCALL_DEFAULT_BASE_URL.to_string());
        Ok(Some(AircallCredentials {
            api_id: api_id.trim().to_string(),
            api_token,
            base_url: check_url("Aircall base URL", &base_url)?,
        }))
    }
}

/// A non-blank environment variable.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The opt-in rule: the API ID when it and the token are both set, `None` when neither is, an
/// error naming the missing one otherwise.
fn opted_in(token_set: bool) -> Result<Option<String>, AuthError> {
    let missing = |var| AuthError::MissingEnv {
        var,
        hint: "the Aircall check needs both AIRCALL_API_ID and AIRCALL_API_TOKEN",
    };
    match (env_value(AIRCALL_API_ID_ENV), token_set) {
        (None, false) => Ok(None),
        (Some(id), true) => Ok(Some(id)),
        (Some(_), false) => Err(missing(AIRCALL_API_TOKEN_ENV)),
        (None, true) => Err(missing(AIRCALL_API_ID_ENV)),
    }
}

impl fmt::Debug for AircallCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AircallCredentials")
            .field("api_id", &self.api_id)
            .field("api_token", &self.api_token)
            .field("base_url", &display_url(&self.base_url))
            .finish()
    }
}

pub(crate) const PING_PATH: &str = "/v1/ping";

pub(crate) fn ping_request(base_url: &str) -> PlannedRequest {
    PlannedRequest {
        credential: Credential::AircallBasic,
        counts_against_limit: false,
        ..PlannedRequest::get(1, base_url, PING_PATH, "Aircall API key check (AIR011)")
    }
}

/// Runs the ping against `base_url` (an origin checked by [`check_url`]). Every answer is a
/// fact, never an error (only a request the transport refuses or a body over its limit is): a
/// refused key (401/403) is `ping_ok: false`; anything inconclusive
/// (5xx, 429 beyond the retries, no answer, a 200 that is not `{"ping":"pong"}`) is
/// `ping_ok: None` with the reason in `detail` and in `not_collected["ping_ok"]`, so AIR011 ends
/// unknown rather than failed.
pub(crate) async fn ping(
    transport: &Transport,
    base_url: &str,
    api_id: &str,
) -> Result<AircallCheck, CollectError> {
    let req = ping_request(base_url);
    let endpoint = format!("GET {PING_PATH}");
    let (ping_ok, detail) = match transport.send(&req).await? {
        Reply::Answer(response) => match response.status {
            200 => {
                let pong = serde_json::from_slice::<serde_json::Value>(&response.body)
                    .ok()
                    .and_then(|v| v.get("ping").and_then(|p| p.as_str()).map(str::to_string));
                if pong.as_deref() == Some("pong") {
                    (Some(true), "200 pong".to_string())
                } else {
                    (
                        None,
                        format!(
                            "HTTP 200 from {endpoint} without {{\"ping\":\"pong\"}}: not the Aircall API?"
                        ),
                    )
                }
            }
            401 | 403 => (
                Some(false),
                format!(
                    "{} Unauthorized: Aircall refused the API ID and token",
                    response.status
                ),
            ),
            429 => (
                None,
                format!(
                    "HTTP 429 from {endpoint}: still rate limited after waiting for X-AircallApi-Reset"
                ),
            ),
            status => (None, format!("HTTP {status} from {endpoint}")),
        },
        Reply::NoAnswer { detail } => (
            None,
            format!(
                "no answer from {endpoint}: {}",
                transport.redactor.scrub(&detail)
            ),
        ),
    };
    let mut check = AircallCheck {
        api_id: Some(api_id.to_string()),
        ping_ok,
        detail: Some(detail.clone()),
        source: Some(Origin::Endpoint {
            endpoint: format!(
                "GET {}{PING_PATH}",
                display_url(base_url).trim_end_matches('/')
            ),
        }),
        ..AircallCheck::default()
    };
    if ping_ok.is_none() {
        check
            .not_collected
            .insert(AircallCheckField::ping_ok, detail);
    }
    Ok(check)
}
