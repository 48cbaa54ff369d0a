//! What the collector may ask for, described without sending it: [`PlannedRequest`] and its
//! method, body and credential. `--print-plan` shows these; the transport sends them only after
//! the read-only check in [`super::readonly`].

use std::fmt;

use super::secret::Secret;
use super::url::encode_component;

/// The token endpoint path, relative to a login URL or My Domain.
pub(crate) const TOKEN_PATH: &str = "/services/oauth2/token";
/// The auditing user (the `userinfo` resource).
pub(crate) const USERINFO_PATH: &str = "/services/oauth2/userinfo";
/// The REST API versions resource.
pub(crate) const VERSIONS_PATH: &str = "/services/data/";

/// Methods a planned request may name. Only `Get` and (allow-listed) `Post` are ever sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        })
    }
}

/// A form field value; secret values never appear in `Debug`.
#[derive(Debug, Clone)]
pub(crate) enum FormValue {
    Plain(String),
    Secret(Secret),
}

/// The body of a planned request.
#[derive(Debug, Clone)]
pub(crate) enum RequestBody {
    None,
    /// `application/x-www-form-urlencoded` (the token endpoint).
    Form(Vec<(String, FormValue)>),
    /// `application/json` (Composite).
    Json(String),
    /// The content of `<soapenv:Body>`; the envelope and session header are added by `send`.
    Soap(String),
}

/// Which credential the transport attaches. The secrets themselves live in the
/// [`Transport`](super::transport::Transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credential {
    None,
    /// `Authorization: Bearer <access token>`.
    Bearer,
    /// The access token as the SOAP `SessionHeader/sessionId`.
    SoapSession,
    /// `Authorization: Basic` with the Aircall API ID and token.
    AircallBasic,
}

/// One HTTP request the audit makes, described without making it (see [`super::plan`]).
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    /// 0 = authentication, 1 = versions and userinfo, 2 = every read, 3 and up = follow-ups
    /// (field retries, candidates' profiles). Further pages carry the phase of their query.
    pub phase: u8,
    pub method: HttpMethod,
    /// Origin the path is resolved against (`https://acme.my.salesforce.com`, or
    /// `<instance_url>` in a plan made before authentication).
    pub base: String,
    /// The endpoint path, without query string: what errors name.
    pub path: String,
    /// Query parameters (`q` = SOQL).
    pub query: Vec<(String, String)>,
    /// What the request reads.
    pub purpose: String,
    /// The SOQL it runs (several for a Composite).
    pub soql: Vec<String>,
    /// Whether Salesforce counts it against the org's daily API request limit.
    pub counts_against_limit: bool,
    pub(crate) body: RequestBody,
    pub(crate) credential: Credential,
}

impl PlannedRequest {
    pub(crate) fn get(
        phase: u8,
        base: &str,
        path: impl Into<String>,
        purpose: impl Into<String>,
    ) -> Self {
        PlannedRequest {
            phase,
            method: HttpMethod::Get,
            base: base.to_string(),
            path: path.into(),
            query: Vec::new(),
            purpose: purpose.into(),
            soql: Vec::new(),
            counts_against_limit: true,
            body: RequestBody::None,
            credential: Credential::Bearer,
        }
    }

    /// A phase-2 request of `method` to `path` on a fixed org, for the allow-list's tests.
    #[cfg(test)]
    pub(crate) fn for_test(method: HttpMethod, path: &str, body: RequestBody) -> Self {
        PlannedRequest {
            method,
            body,
            ..PlannedRequest::get(2, "https://acme.my.salesforce.com", path, "test")
        }
    }

    /// The full URL, with the query string encoded.
    pub fn url(&self) -> String {
        let mut url = format!("{}{}", self.base.trim_end_matches('/'), self.path);
        if !self.query.is_empty() {
            url.push('?');
            let encoded: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
                .collect();
            url.push_str(&encoded.join("&"));
        }
        url
    }
}

impl fmt::Display for PlannedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "phase {}  {} {}  {}",
            self.phase, self.method, self.path, self.purpose
        )?;
        if !self.counts_against_limit {
            f.write_str("  (not counted against the API limit)")?;
        }
        for soql in &self.soql {
            write!(f, "\n    {soql}")?;
        }
        Ok(())
    }
}
