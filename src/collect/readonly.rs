//! The read-only allow-list: the one function that decides whether a [`PlannedRequest`] may be
//! sent. The transport calls it before every request, sends the URL it returns and nothing
//! else, and refuses anything else before a byte leaves the machine.
//!
//! The decision is made on the URL as it will be sent, parsed the way reqwest parses it (dot
//! segments and their encodings such as `%2e%2e` resolved, `\` read as `/`, the host
//! lowercased, the default port dropped), not on the path the code asked for:
//!
//! | method | origin  | path                                                    | body          |
//! |--------|---------|---------------------------------------------------------|---------------|
//! | GET    | org     | `/services/data/` (the API versions)                    | none          |
//! | GET    | org     | `/services/oauth2/userinfo`                             | none          |
//! | GET    | org     | `/services/data/vNN.N/[tooling/]query/[LOCATOR]`        | none          |
//! | GET    | org     | `/services/data/vNN.N/sobjects/NAME/describe`           | none          |
//! | POST   | org     | `/services/data/vNN.N/[tooling/]composite`              | JSON: only GETs of the two rows above |
//! | POST   | org     | `/services/Soap/m/NN.N`                                 | SOAP: one `readMetadata` or `listMetadata` |
//! | POST   | login   | `/services/oauth2/token`                                | form          |
//! | GET    | Aircall | `/v1/ping`                                              | none          |
//!
//! Paths match segment by segment, case-sensitively, and every segment is made of
//! `A-Z a-z 0-9 . _ -` only: a `%` (any encoding, double encoding included), `;`, `@`, an
//! empty segment (`//`) or a dot segment is refused, so that no server can read the path
//! another way. The origin is `scheme://host[:port]`: the session's instance, the login URL of
//! the token request, or the Aircall API, each only for its own rows.

mod bodies;

use ::url::Url;

use super::request::{Credential, HttpMethod, PlannedRequest, RequestBody};

/// The origins (`scheme://host[:port]`, as [`check_url`](super::check_url) gives them) a
/// request may go to; `None` until known.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    /// The org's instance (after authentication).
    pub org: Option<String>,
    /// The login URL or My Domain of the token request.
    pub login: Option<String>,
    /// The Aircall API.
    pub aircall: Option<String>,
}

/// The rows of the table above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Versions,
    UserInfo,
    Query,
    Describe,
    Composite,
    Soap,
    Token,
    Ping,
}

/// Checks a request against the read-only allow-list and returns the URL to send. `Err`
/// carries the reason.
pub(crate) fn check_read_only(req: &PlannedRequest, origins: &Origins) -> Result<Url, String> {
    // The query string comes from `req.query` only; `@` would turn the base into user info.
    if !req.path.starts_with('/') || req.path.contains(['?', '#', '@']) {
        return Err("unexpected path".to_string());
    }
    let url = Url::parse(&req.url()).map_err(|e| format!("not a URL: {e}"))?;
    let path = url.path();
    let what =
        endpoint(path).ok_or_else(|| format!("`{path}` is not a resource the audit reads"))?;
    let (allowed, credential) = match what {
        Endpoint::Token => (&origins.login, Credential::None),
        Endpoint::Ping => (&origins.aircall, Credential::AircallBasic),
        Endpoint::Versions => (&origins.org, Credential::None),
        Endpoint::Soap => (&origins.org, Credential::SoapSession),
        _ => (&origins.org, Credential::Bearer),
    };
    let origin = url.origin().ascii_serialization();
    if allowed.as_deref() != Some(origin.as_str()) {
        return Err(format!("`{origin}` is not the host of `{path}`"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err("user info or a fragment in the URL".to_string());
    }
    if req.credential != credential {
        return Err(format!("`{path}` does not take this credential"));
    }
    match (what, req.method, &req.body) {
        (Endpoint::Composite, HttpMethod::Post, RequestBody::Json(json)) => {
            bodies::check_composite(json)?;
        }
        (Endpoint::Soap, HttpMethod::Post, RequestBody::Soap(xml)) => {
            bodies::check_soap_operation(xml)?;
        }
        (Endpoint::Token, HttpMethod::Post, RequestBody::Form(_)) => {}
        (Endpoint::Composite | Endpoint::Soap | Endpoint::Token, ..) => {
            return Err(format!("`{path}` takes one POST with its own body"));
        }
        (_, HttpMethod::Get, RequestBody::None) => {}
        (_, HttpMethod::Get, _) => return Err("a GET must not carry a body".to_string()),
        (_, method, _) => return Err(format!("{method} `{path}` is never allowed")),
    }
    Ok(url)
}

/// Which row of the table a path is, if any.
fn endpoint(path: &str) -> Option<Endpoint> {
    let mut segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    // Only the last segment may be empty (a trailing slash).
    if segments.last() == Some(&"") {
        segments.pop();
        segments.push("/");
    }
    let plain = |s: &&str| {
        *s == "/"
            || (!s.is_empty()
                && *s != "."
                && *s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
    };
    if !segments.iter().all(plain) {
        return None;
    }
    match segments.as_slice() {
        ["services", "data", "/"] => Some(Endpoint::Versions),
        ["services", "oauth2", "userinfo"] => Some(Endpoint::UserInfo),
        ["services", "oauth2", "token"] => Some(Endpoint::Token),
        ["services", "Soap", "m", v] if is_version(v) => Some(Endpoint::Soap),
        ["v1", "ping"] => Some(Endpoint::Ping),
        ["services", "data", v, rest @ ..] if v.strip_prefix('v').is_some_and(is_version) => {
            match rest {
                ["query", _] | ["tooling", "query", _] => Some(Endpoint::Query),
                ["sobjects", _, "describe"] => Some(Endpoint::Describe),
                ["composite"] | ["tooling", "composite"] => Some(Endpoint::Composite),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `NN.N`: an API version as it appears in a path.
pub(crate) fn is_version(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !major.is_empty()
        && !minor.is_empty()
        && major.bytes().all(|b| b.is_ascii_digit())
        && minor.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
