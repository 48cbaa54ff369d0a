//! The one HTTP choke point of the collector. Every request goes through [`Transport::send`],
//! which first checks it against a read-only allow-list and refuses anything else before a
//! byte is sent:
//!
//! - `GET`, without a body;
//! - `POST /services/oauth2/token` with a form body (getting a token);
//! - `POST /services/data/vNN.N/composite` whose JSON subrequests are all `GET`s of
//!   `/services/data/…` resources (checked on the exact bytes that will be sent);
//! - `POST /services/Soap/m/NN.N` whose SOAP body is a `readMetadata` or `listMetadata` call.
//!
//! It also retries (5xx, 429, connection errors, truncated bodies) with exponential backoff and
//! jitter, applies the per-request timeout, counts requests and API calls, and reads
//! `Sforce-Limit-Info`.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::CollectError;
use super::secret::{Redactor, Secret};

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

/// Which credential `send` attaches. The secrets themselves live in the [`Transport`].
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

/// Percent-encodes a query component (`+` for spaces, like a form).
pub(crate) fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Checks a request against the read-only allow-list. `Err` carries the reason.
pub(crate) fn check_read_only(req: &PlannedRequest) -> Result<(), String> {
    let path = req.path.as_str();
    if !path.starts_with('/') || path.contains("..") || path.contains(['?', '#']) {
        return Err(format!("unexpected path `{path}`"));
    }
    match req.method {
        HttpMethod::Get => match req.body {
            RequestBody::None => Ok(()),
            _ => Err("a GET must not carry a body".to_string()),
        },
        HttpMethod::Post => {
            if path == "/services/oauth2/token" {
                return match req.body {
                    RequestBody::Form(_) => Ok(()),
                    _ => Err("the token endpoint takes a form body".to_string()),
                };
            }
            if let Some(version) = path
                .strip_prefix("/services/data/v")
                .and_then(|rest| rest.strip_suffix("/composite"))
            {
                if !is_version(version) {
                    return Err(format!("unexpected composite path `{path}`"));
                }
                return match &req.body {
                    RequestBody::Json(json) => check_composite(json),
                    _ => Err("a composite request takes a JSON body".to_string()),
                };
            }
            if let Some(version) = path.strip_prefix("/services/Soap/m/") {
                if !is_version(version) {
                    return Err(format!("unexpected Metadata API path `{path}`"));
                }
                return match &req.body {
                    RequestBody::Soap(xml) => check_soap_operation(xml),
                    _ => Err("a Metadata API call takes a SOAP body".to_string()),
                };
            }
            Err("POST is only allowed to the token endpoint, Composite (GET subrequests) and readMetadata/listMetadata".to_string())
        }
        other => Err(format!("{other} is never allowed")),
    }
}

fn is_version(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !major.is_empty()
        && !minor.is_empty()
        && major.bytes().all(|b| b.is_ascii_digit())
        && minor.bytes().all(|b| b.is_ascii_digit())
}

/// Every subrequest of a Composite body must be a body-less `GET` of a REST data resource.
fn check_composite(json: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("composite body is not JSON: {e}"))?;
    let subrequests = value
        .get("compositeRequest")
        .and_then(|v| v.as_array())
        .ok_or("composite body has no compositeRequest array")?;
    if subrequests.is_empty() {
        return Err("composite body has no subrequests".to_string());
    }
    for (i, sub) in subrequests.iter().enumerate() {
        let method = sub.get("method").and_then(|m| m.as_str()).unwrap_or("");
        if method != "GET" {
            return Err(format!(
                "composite subrequest {i} uses method `{method}`, only GET is allowed"
            ));
        }
        let url = sub.get("url").and_then(|u| u.as_str()).unwrap_or("");
        if !url.starts_with("/services/data/v") || url.contains("..") {
            return Err(format!("composite subrequest {i} reads an unexpected URL"));
        }
        if sub.get("body").is_some_and(|b| !b.is_null()) {
            return Err(format!("composite subrequest {i} carries a body"));
        }
    }
    Ok(())
}

/// The SOAP body must hold exactly one element, `readMetadata` or `listMetadata`. Outside it
/// (depth 0) only whitespace, comments and a leading XML declaration are accepted: text,
/// CDATA, entity references, processing instructions, a DOCTYPE or a stray end tag there could
/// make the server see another envelope than the one checked. DOCTYPEs and processing
/// instructions are refused anywhere.
fn check_soap_operation(xml: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut operations = Vec::new();
    let mut first = true;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("SOAP body is not well-formed XML: {e}"))?;
        let at_start = std::mem::replace(&mut first, false);
        match event {
            Event::Start(e) => {
                if depth == 0 {
                    operations.push(e.local_name().as_ref().to_string());
                }
                depth += 1;
            }
            Event::Empty(e) => {
                if depth == 0 {
                    operations.push(e.local_name().as_ref().to_string());
                }
            }
            Event::End(_) if depth == 0 => {
                return Err("SOAP body closes an element it did not open".to_string());
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            Event::DocType(_) => return Err("SOAP body must not hold a DOCTYPE".to_string()),
            Event::PI(_) => {
                return Err("SOAP body must not hold processing instructions".to_string());
            }
            Event::Decl(_) if at_start => {}
            Event::Decl(_) => {
                return Err("an XML declaration is only allowed at the start".to_string());
            }
            Event::Comment(_) => {}
            Event::Text(t) if depth == 0 => {
                if !t.xml10_content().trim().is_empty() {
                    return Err("SOAP body has text outside the operation".to_string());
                }
            }
            Event::CData(_) | Event::GeneralRef(_) if depth == 0 => {
                return Err("SOAP body has text outside the operation".to_string());
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {}
        }
    }
    if depth != 0 {
        return Err("SOAP body leaves an element open".to_string());
    }
    match operations.as_slice() {
        [op] if op == "readMetadata" || op == "listMetadata" => Ok(()),
        [op] => Err(format!(
            "Metadata API operation `{op}` is not allowed, only readMetadata and listMetadata"
        )),
        _ => Err("the SOAP body must hold exactly one operation".to_string()),
    }
}

/// Retry behaviour for 5xx, 429, connection errors and truncated bodies.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `3` means at most 4 attempts).
    pub max_retries: u32,
    /// Delay before the first retry; doubled each time, plus up to 50 % jitter.
    pub base_delay: Duration,
    /// Upper bound of one backoff delay, and of a server-requested wait (`Retry-After`,
    /// `X-AircallApi-Reset`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Counters kept by the transport.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub http_requests: AtomicU32,
    pub api_calls: AtomicU32,
    pub retries: AtomicU32,
    /// The latest `Sforce-Limit-Info` api-usage (used, allowed).
    pub api_usage: Mutex<Option<(u64, u64)>>,
    /// Answers (any status) from Salesforce, the token endpoint included and the Aircall API
    /// not: zero after the reads means the org never answered.
    pub org_responses: AtomicU32,
    /// The first Salesforce request that got no answer at all: (endpoint path, detail).
    pub first_transport_failure: Mutex<Option<(String, String)>>,
}

/// An HTTP answer, whatever its status.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The live session: where the org is and the token to read it with.
#[derive(Clone)]
pub(crate) struct Session {
    pub instance_url: String,
    pub token: Secret,
}

/// Aircall API credentials as the transport holds them.
#[derive(Clone)]
pub(crate) struct AircallAuth {
    pub api_id: String,
    pub token: Secret,
}

/// The HTTP client behind the choke point.
#[derive(Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    session: Option<Session>,
    aircall: Option<AircallAuth>,
    retry: RetryPolicy,
    pub counters: Arc<Counters>,
    pub redactor: Redactor,
    rng: Arc<Mutex<u64>>,
}

impl Transport {
    pub fn new(
        timeout: Duration,
        retry: RetryPolicy,
        redactor: Redactor,
    ) -> Result<Self, CollectError> {
        // One process-wide provider; a second install (another collection) is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("eci-audit/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CollectError::InvalidOption {
                option: "HTTP client",
                reason: e.without_url().to_string(),
            })?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
        Ok(Transport {
            client,
            session: None,
            aircall: None,
            retry,
            counters: Arc::new(Counters::default()),
            redactor,
            rng: Arc::new(Mutex::new(seed)),
        })
    }

    pub fn set_session(&mut self, session: Session) {
        self.redactor.add(session.token.expose());
        self.session = Some(session);
    }

    pub fn set_aircall(&mut self, aircall: AircallAuth) {
        self.redactor.add(aircall.token.expose());
        self.aircall = Some(aircall);
    }

    /// Sends a request after the read-only check, retrying transient failures. Any HTTP status
    /// comes back as a [`Response`]; only refusals and exhausted transport failures are errors.
    pub async fn send(&self, req: &PlannedRequest) -> Result<Response, CollectError> {
        check_read_only(req).map_err(|reason| CollectError::Refused {
            method: req.method,
            endpoint: req.path.clone(),
            reason,
        })?;
        let mut attempt = 0u32;
        loop {
            let outcome = self.attempt(req).await;
            let retry_wait = match &outcome {
                Ok((response, server_wait)) => {
                    if is_retryable_status(response.status, &req.path) {
                        Some(server_wait.unwrap_or_else(|| self.backoff(attempt)))
                    } else {
                        None
                    }
                }
                Err(_) => Some(self.backoff(attempt)),
            };
            match retry_wait {
                Some(wait) if attempt < self.retry.max_retries => {
                    attempt += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait.min(self.retry.max_delay)).await;
                }
                _ => {
                    return match outcome {
                        Ok((response, _)) => Ok(response),
                        Err(detail) => {
                            let detail = self.redactor.scrub(&detail);
                            if req.credential != Credential::AircallBasic
                                && let Ok(mut first) = self.counters.first_transport_failure.lock()
                                && first.is_none()
                            {
                                *first = Some((req.path.clone(), detail.clone()));
                            }
                            Err(CollectError::Transport {
                                endpoint: req.path.clone(),
                                detail,
                            })
                        }
                    };
                }
            }
        }
    }

    /// One attempt: the response and any wait the server asked for, or a transport failure.
    async fn attempt(&self, req: &PlannedRequest) -> Result<(Response, Option<Duration>), String> {
        let method = match req.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            // check_read_only refused these already; keep the match total without sending.
            other => return Err(format!("{other} is never sent")),
        };
        let mut builder = self.client.request(method, req.url());
        match req.credential {
            Credential::None | Credential::SoapSession => {}
            Credential::Bearer => {
                let session = self
                    .session
                    .as_ref()
                    .ok_or("no session for an authenticated request")?;
                builder = builder.header(
                    "Authorization",
                    format!("Bearer {}", session.token.expose()),
                );
            }
            Credential::AircallBasic => {
                let aircall = self.aircall.as_ref().ok_or("no Aircall credentials")?;
                builder = builder.basic_auth(&aircall.api_id, Some(aircall.token.expose()));
            }
        }
        builder = match &req.body {
            RequestBody::None => builder.header("Accept", "application/json"),
            RequestBody::Form(fields) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    match v {
                        FormValue::Plain(s) => form.append_pair(k, s),
                        FormValue::Secret(s) => form.append_pair(k, s.expose()),
                    };
                }
                builder
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Accept", "application/json")
                    .body(form.finish())
            }
            RequestBody::Json(json) => builder
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .body(json.clone()),
            RequestBody::Soap(body) => {
                let session = self
                    .session
                    .as_ref()
                    .ok_or("no session for a Metadata API call")?;
                builder
                    .header("Content-Type", "text/xml; charset=UTF-8")
                    .header("SOAPAction", "\"\"")
                    .body(super::soap::envelope(session.token.expose(), body))
            }
        };
        let response = builder.send().await.map_err(describe_reqwest_error)?;
        // Counted once an answer arrived: a request that never reached a server costs nothing.
        self.counters.http_requests.fetch_add(1, Ordering::Relaxed);
        if req.counts_against_limit {
            self.counters.api_calls.fetch_add(1, Ordering::Relaxed);
        }
        if req.credential != Credential::AircallBasic {
            self.counters.org_responses.fetch_add(1, Ordering::Relaxed);
        }
        let status = response.status().as_u16();
        if let Some(usage) = response
            .headers()
            .get("Sforce-Limit-Info")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info)
            && let Ok(mut slot) = self.counters.api_usage.lock()
        {
            *slot = Some(usage);
        }
        let server_wait = if status == 429 || status == 503 {
            server_requested_wait(response.headers())
        } else {
            None
        };
        let body = response.bytes().await.map_err(|e| {
            format!(
                "response body truncated or unreadable: {}",
                describe_reqwest_error(e)
            )
        })?;
        Ok((
            Response {
                status,
                body: body.to_vec(),
            },
            server_wait,
        ))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.retry.base_delay.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(16));
        let capped = exp.min(self.retry.max_delay.as_millis() as u64);
        let jitter = if capped >= 2 {
            self.next_random() % (capped / 2)
        } else {
            0
        };
        Duration::from_millis(capped + jitter)
    }

    fn next_random(&self) -> u64 {
        // xorshift64: jitter only needs to spread retries, not to be unpredictable.
        let Ok(mut state) = self.rng.lock() else {
            return 0;
        };
        let mut x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        x
    }
}

fn is_retryable_status(status: u16, path: &str) -> bool {
    match status {
        429 | 502 | 503 | 504 => true,
        // A SOAP fault arrives as HTTP 500: an answer, not a transient failure.
        500 => !path.starts_with("/services/Soap/"),
        _ => false,
    }
}

/// `Retry-After` (seconds) or Aircall's `X-AircallApi-Reset` (epoch seconds).
fn server_requested_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(secs) = header("Retry-After").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let reset = header("X-AircallApi-Reset").and_then(|v| v.parse::<u64>().ok())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

/// `api-usage=10018/100000` → (10018, 100000).
pub(crate) fn parse_limit_info(value: &str) -> Option<(u64, u64)> {
    value.split(',').find_map(|part| {
        let usage = part.trim().strip_prefix("api-usage=")?;
        let (used, allowed) = usage.split_once('/')?;
        Some((used.trim().parse().ok()?, allowed.trim().parse().ok()?))
    })
}

/// A reqwest error without its URL, with its cause chain (reqwest's Display omits it).
fn describe_reqwest_error(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body read failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut detail = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: HttpMethod, path: &str, body: RequestBody) -> PlannedRequest {
        PlannedRequest {
            method,
            body,
            ..PlannedRequest::get(2, "https://acme.my.salesforce.com", path, "test")
        }
    }

    #[test]
    fn allows_reads() {
        assert!(
            check_read_only(&req(HttpMethod::Get, "/services/data/", RequestBody::None)).is_ok()
        );
        let token = req(
            HttpMethod::Post,
            "/services/oauth2/token",
            RequestBody::Form(vec![(
                "grant_type".into(),
                FormValue::Plain("client_credentials".into()),
            )]),
        );
        assert!(check_read_only(&token).is_ok());
        let composite = r#"{"allOrNone":false,"compositeRequest":[{"method":"GET","referenceId":"a","url":"/services/data/v66.0/query/?q=SELECT+Id+FROM+Site"}]}"#;
        assert!(
            check_read_only(&req(
                HttpMethod::Post,
                "/services/data/v66.0/composite",
                RequestBody::Json(composite.into())
            ))
            .is_ok()
        );
        let soap = r#"<met:readMetadata xmlns:met="http://soap.sforce.com/2006/04/metadata"><met:type>CustomSite</met:type><met:fullNames>VoiceConnector</met:fullNames></met:readMetadata>"#;
        assert!(
            check_read_only(&req(
                HttpMethod::Post,
                "/services/Soap/m/66.0",
                RequestBody::Soap(soap.into())
            ))
            .is_ok()
        );
        let list = r#"<listMetadata><queries><type>CustomSite</type></queries></listMetadata>"#;
        assert!(
            check_read_only(&req(
                HttpMethod::Post,
                "/services/Soap/m/66.0",
                RequestBody::Soap(list.into())
            ))
            .is_ok()
        );
    }

    #[test]
    fn refuses_writes() {
        let record = "/services/data/v66.0/sobjects/Site/0DM000000000001";
        for method in [HttpMethod::Patch, HttpMethod::Delete, HttpMethod::Put] {
            let reason = check_read_only(&req(method, record, RequestBody::None)).unwrap_err();
            assert!(reason.contains("never allowed"), "{reason}");
        }
        // POST elsewhere.
        let reason = check_read_only(&req(
            HttpMethod::Post,
            "/services/data/v66.0/sobjects/Account",
            RequestBody::Json("{}".into()),
        ))
        .unwrap_err();
        assert!(reason.contains("only allowed"), "{reason}");
        for path in [
            "/services/data/v66.0/composite/sobjects",
            "/services/data/v66.0/composite/batch",
            "/services/data/vX/composite",
        ] {
            assert!(
                check_read_only(&req(HttpMethod::Post, path, RequestBody::Json("{}".into())))
                    .is_err(),
                "{path}"
            );
        }
        // A composite that smuggles a write.
        let composite = r#"{"allOrNone":false,"compositeRequest":[
            {"method":"GET","referenceId":"a","url":"/services/data/v66.0/query/?q=SELECT+Id+FROM+Site"},
            {"method":"POST","referenceId":"b","url":"/services/data/v66.0/sobjects/Account","body":{"Name":"x"}}]}"#;
        let reason = check_read_only(&req(
            HttpMethod::Post,
            "/services/data/v66.0/composite",
            RequestBody::Json(composite.into()),
        ))
        .unwrap_err();
        assert!(
            reason.contains("subrequest 1 uses method `POST`"),
            "{reason}"
        );
        let lowercase = r#"{"compositeRequest":[{"method":"get","referenceId":"a","url":"/services/data/v66.0/query/?q=x"}]}"#;
        assert!(
            check_read_only(&req(
                HttpMethod::Post,
                "/services/data/v66.0/composite",
                RequestBody::Json(lowercase.into())
            ))
            .is_err()
        );
        let with_body = r#"{"compositeRequest":[{"method":"GET","referenceId":"a","url":"/services/data/v66.0/query/?q=x","body":{"a":1}}]}"#;
        assert!(
            check_read_only(&req(
                HttpMethod::Post,
                "/services/data/v66.0/composite",
                RequestBody::Json(with_body.into())
            ))
            .is_err()
        );
        // Metadata writes.
        for op in [
            "deploy",
            "createMetadata",
            "updateMetadata",
            "deleteMetadata",
            "upsertMetadata",
            "renameMetadata",
        ] {
            let body = format!("<met:{op} xmlns:met=\"http://soap.sforce.com/2006/04/metadata\"/>");
            let reason = check_read_only(&req(
                HttpMethod::Post,
                "/services/Soap/m/66.0",
                RequestBody::Soap(body),
            ))
            .unwrap_err();
            assert!(reason.contains(op), "{reason}");
        }
        let two = "<readMetadata/><deleteMetadata/>";
        assert!(
            check_read_only(&req(
                HttpMethod::Post,
                "/services/Soap/m/66.0",
                RequestBody::Soap(two.into())
            ))
            .is_err()
        );
        // A GET with a body, odd paths.
        assert!(
            check_read_only(&req(
                HttpMethod::Get,
                "/services/data/",
                RequestBody::Json("{}".into())
            ))
            .is_err()
        );
        assert!(
            check_read_only(&req(
                HttpMethod::Get,
                "/services/data/../x",
                RequestBody::None
            ))
            .is_err()
        );
    }

    #[test]
    fn soap_bodies_hold_one_operation_and_nothing_else() {
        let soap = |xml: &str| {
            check_read_only(&req(
                HttpMethod::Post,
                "/services/Soap/m/66.0",
                RequestBody::Soap(xml.into()),
            ))
        };
        let read = "<met:readMetadata xmlns:met=\"http://soap.sforce.com/2006/04/metadata\"><met:type>CustomSite</met:type><met:fullNames>VoiceConnector</met:fullNames></met:readMetadata>";
        // Accepted around the operation: whitespace, comments, a leading XML declaration.
        for ok in [
            read.to_string(),
            format!("\n  <!-- read -->\n{read}\n<!-- done -->\n"),
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{read}"),
            // Markup-looking text inside the operation is just text.
            "<readMetadata><type>A&amp;B</type><fullNames><![CDATA[x]]></fullNames></readMetadata>"
                .to_string(),
        ] {
            assert!(soap(&ok).is_ok(), "{ok}: {:?}", soap(&ok));
        }
        for (bad, why) in [
            // Closing the Body early and opening another one with a write.
            (
                format!("{read}</soapenv:Body><soapenv:Body><met:deleteMetadata/>"),
                "close",
            ),
            (format!("</soapenv:Body>{read}"), "close"),
            (format!("<![CDATA[</soapenv:Body>]]>{read}"), "text outside"),
            (
                format!("{read}<![CDATA[<deleteMetadata/>]]>"),
                "text outside",
            ),
            (format!("{read}&lt;deleteMetadata/&gt;"), "text outside"),
            (format!("{read}x"), "text outside"),
            (
                format!("<?xml-stylesheet href=\"x\"?>{read}"),
                "processing instructions",
            ),
            (
                "<readMetadata><?php write() ?></readMetadata>".to_string(),
                "processing instructions",
            ),
            (
                format!("<!DOCTYPE x [<!ENTITY e \"<deleteMetadata/>\">]>{read}"),
                "DOCTYPE",
            ),
            (
                format!("{read}<?xml version=\"1.0\"?>"),
                "declaration is only allowed at the start",
            ),
            ("<readMetadata><type>".to_string(), "open"),
            (String::new(), "exactly one operation"),
            ("<!-- nothing -->".to_string(), "exactly one operation"),
        ] {
            let reason = soap(&bad).expect_err(&bad);
            assert!(reason.contains(why), "{bad}: {reason}");
        }
    }

    #[tokio::test]
    async fn send_refuses_before_any_byte() {
        let transport = Transport::new(
            Duration::from_secs(1),
            RetryPolicy::default(),
            Redactor::default(),
        )
        .unwrap();
        let mut patch = req(
            HttpMethod::Patch,
            "/services/data/v66.0/sobjects/Site/x",
            RequestBody::None,
        );
        // An unroutable base: a sent request would fail with a transport error, not a refusal.
        patch.base = "http://127.0.0.1:9".into();
        let err = transport.send(&patch).await.unwrap_err();
        assert!(matches!(err, CollectError::Refused { .. }), "{err:?}");
        assert_eq!(transport.counters.http_requests.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn limit_info() {
        assert_eq!(
            parse_limit_info("api-usage=10018/100000"),
            Some((10018, 100000))
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=1/2, api-usage=3/4"),
            Some((3, 4))
        );
        assert_eq!(parse_limit_info("nonsense"), None);
    }
}
