//! One read of a Salesforce resource: send it, end the collection on a fatal answer, and hand
//! back every other outcome as data.
//!
//! Fatal means no later read can succeed either: a refused session (HTTP 401,
//! `INVALID_SESSION_ID`) or a used-up daily API limit (`REQUEST_LIMIT_EXCEEDED`). Everything
//! else — an `errorCode` array such as `INVALID_FIELD` or `INSUFFICIENT_ACCESS`, a 404, a body
//! that is not JSON, no answer at all — only marks what that read was for as not collected, so
//! it comes back as a [`JsonAnswer`] for the caller to map.

use serde_json::Value;

use super::error::CollectError;
use super::request::PlannedRequest;
use super::rest;
use super::transport::{Reply, Transport};

/// What a read got, when it was not fatal.
#[derive(Debug)]
pub(crate) enum JsonAnswer {
    /// An HTTP answer, any status: the body as JSON, or why it is not JSON.
    Http {
        status: u16,
        json: Result<Value, String>,
    },
    /// No HTTP answer after the retries; `detail` is scrubbed of every known secret.
    NoAnswer { detail: String },
}

/// Sends `req` (a REST read) and parses the answer as JSON; `Err` only for a fatal answer or a
/// request the read-only check refused.
pub(crate) async fn read_json(
    t: &Transport,
    req: &PlannedRequest,
) -> Result<JsonAnswer, CollectError> {
    let endpoint = req.path.as_str();
    let response = match t.send(req).await? {
        Reply::Answer(response) => response,
        Reply::NoAnswer { detail } => return Ok(JsonAnswer::NoAnswer { detail }),
    };
    let json = serde_json::from_slice(&response.body).map_err(|e| {
        format!(
            "invalid JSON from {endpoint} (HTTP {}, {} bytes): {e}",
            response.status,
            response.body.len()
        )
    });
    if let Some(e) = fatal(response.status, json.as_ref().ok(), req, endpoint, t) {
        return Err(e);
    }
    Ok(JsonAnswer::Http {
        status: response.status,
        json,
    })
}

/// Why Salesforce refused a read: its `errorCode` and message when the body carried them,
/// else the status alone. The message is not scrubbed yet.
pub(crate) fn refusal(status: u16, body: Option<&Value>) -> (Option<String>, String) {
    body.and_then(rest::sf_error).map_or_else(
        || (None, format!("HTTP {status}")),
        |(code, message)| (Some(code), message),
    )
}

/// The errors that end the collection whatever request they come from. `endpoint` names where
/// the answer came from (a Composite subrequest adds its reference); a refused session names
/// the request itself (method and path).
pub(crate) fn fatal(
    status: u16,
    body: Option<&Value>,
    req: &PlannedRequest,
    endpoint: &str,
    t: &Transport,
) -> Option<CollectError> {
    if status == 401 {
        return Some(session_expired(req));
    }
    let (code, message) = body.and_then(rest::sf_error)?;
    fatal_code(&code, &message, req, endpoint, t)
}

/// A Salesforce error code (REST `errorCode` or SOAP fault code) that ends the collection.
pub(crate) fn fatal_code(
    code: &str,
    message: &str,
    req: &PlannedRequest,
    endpoint: &str,
    t: &Transport,
) -> Option<CollectError> {
    match code {
        "INVALID_SESSION_ID" => Some(session_expired(req)),
        "REQUEST_LIMIT_EXCEEDED" => Some(CollectError::RequestLimitExceeded {
            endpoint: endpoint.to_string(),
            message: t.redactor.scrub(message),
        }),
        _ => None,
    }
}

/// HTTP 401 (or `INVALID_SESSION_ID`): the request that was refused.
pub(crate) fn session_expired(req: &PlannedRequest) -> CollectError {
    CollectError::SessionExpired {
        method: req.method,
        endpoint: req.path.clone(),
    }
}
