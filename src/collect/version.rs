//! Which REST API version the collector speaks: the newest the org offers up to
//! [`MAX_API_VERSION`], or the one the caller fixed.

use serde_json::Value;

use super::error::CollectError;
use super::readonly::is_version;
use super::request::{Credential, PlannedRequest, VERSIONS_PATH};
use super::rest;
use super::transport::Transport;

/// The newest REST API version this build knows; the collector uses the highest version the
/// org offers up to this one.
pub const MAX_API_VERSION: &str = "66.0";

pub(crate) fn versions_request(base: &str) -> PlannedRequest {
    PlannedRequest {
        credential: Credential::None,
        counts_against_limit: false,
        ..PlannedRequest::get(1, base, VERSIONS_PATH, "API versions")
    }
}

/// `62.0` or `v62.0` → `62.0`.
pub(crate) fn normalize_version(v: &str) -> Result<String, CollectError> {
    let v = v.trim().trim_start_matches(['v', 'V']);
    if is_version(v) {
        Ok(v.to_string())
    } else {
        Err(CollectError::InvalidOption {
            option: "API version",
            reason: format!("`{v}` is not of the form 62.0"),
        })
    }
}

fn version_key(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub(crate) async fn pick_version(t: &Transport, base: &str) -> Result<String, CollectError> {
    let req = versions_request(base);
    let endpoint = req.path.clone();
    let response = t.send(&req).await?.required(&req)?;
    let json = serde_json::from_slice::<Value>(&response.body).ok();
    if !response.is_success() {
        let (error_code, message) = json.as_ref().and_then(rest::sf_error).map_or(
            (None, "the versions resource failed".to_string()),
            |(c, m)| (Some(c), t.redactor.scrub(&m)),
        );
        return Err(CollectError::Http {
            endpoint,
            status: response.status,
            error_code,
            message,
        });
    }
    let Some(Value::Array(items)) = json else {
        return Err(CollectError::InvalidResponse {
            endpoint,
            detail: "not a JSON array of versions".to_string(),
        });
    };
    let max = version_key(MAX_API_VERSION).unwrap_or((0, 0));
    items
        .iter()
        .filter_map(|v| v.get("version").and_then(Value::as_str))
        .filter_map(|v| version_key(v).map(|k| (k, v.to_string())))
        .filter(|(k, _)| *k <= max)
        .max()
        .map(|(_, v)| v)
        .ok_or(CollectError::InvalidResponse {
            endpoint,
            detail: format!("the org offers no API version up to {MAX_API_VERSION}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_normalized() {
        assert_eq!(normalize_version("v62.0").unwrap(), "62.0");
        assert!(normalize_version("62").is_err());
        assert!(version_key("9.0") < version_key("62.0"));
    }
}
