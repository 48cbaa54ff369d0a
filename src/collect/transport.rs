//! The one HTTP choke point of the collector. Every request goes through [`Transport::send`],
//! which first checks it against the read-only allow-list ([`super::readonly`]) and refuses
//! anything else before a byte is sent.
//!
//! It also retries (5xx, 429, connection errors, truncated bodies) with exponential backoff and
//! jitter, applies the per-request timeout, reads each body streamed up to its [`Limits`]
//! (never buffered whole first), counts requests and API calls, and reads `Sforce-Limit-Info`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::CollectError;
use super::limits::Limits;
use super::observe::{Event, ObserverHandle};
use super::readonly::{Origins, check_read_only};
use super::request::{
    Credential, FormValue, HttpMethod, PlannedRequest, RequestBody, TOKEN_PATH, USERINFO_PATH,
    VERSIONS_PATH,
};
use super::secret::{Redactor, Secret};

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
    /// Attempts started (retries included), for [`Limits::max_requests`].
    pub attempts: AtomicU32,
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
        is_success(self.status)
    }
}

pub(crate) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// What a sent request got.
#[derive(Debug)]
pub(crate) enum Reply {
    /// An HTTP answer, whatever its status.
    Answer(Response),
    /// No HTTP answer after the retries (connection refused, timeout, reset, truncated body);
    /// `detail` is scrubbed of every known secret.
    NoAnswer { detail: String },
}

impl Reply {
    /// The answer of a request every fact depends on: no answer ends the collection.
    pub fn required(self, req: &PlannedRequest) -> Result<Response, CollectError> {
        match self {
            Reply::Answer(response) => Ok(response),
            Reply::NoAnswer { detail } => Err(CollectError::Transport {
                endpoint: req.path.clone(),
                detail,
            }),
        }
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
    /// The API's origin, as [`check_url`](super::check_url) gives it.
    pub origin: String,
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
    /// Where requests may go: the read-only check's origins.
    origins: Origins,
    pub limits: Limits,
    pub counters: Arc<Counters>,
    pub redactor: Redactor,
    rng: Arc<Mutex<u64>>,
    /// Told of each request, answer and retry (progress line, `--verbose`).
    observer: Option<ObserverHandle>,
}

impl Transport {
    pub fn new(
        timeout: Duration,
        retry: RetryPolicy,
        limits: Limits,
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
            .map_or(0x9E37_79B9_7F4A_7C15, |d| {
                u64::try_from(d.as_nanos() & u128::from(u64::MAX)).unwrap_or(1)
            })
            | 1;
        Ok(Transport {
            client,
            session: None,
            aircall: None,
            retry,
            origins: Origins::default(),
            limits,
            counters: Arc::new(Counters::default()),
            redactor,
            rng: Arc::new(Mutex::new(seed)),
            observer: None,
        })
    }

    /// The session; its instance becomes the only origin of the org's endpoints.
    pub fn set_session(&mut self, session: Session) {
        self.redactor.add(session.token.expose());
        self.origins.org = Some(session.instance_url.clone());
        self.session = Some(session);
    }

    pub fn set_aircall(&mut self, aircall: AircallAuth) {
        // The API ID is public and shows in the snapshot, whatever it shares with the token.
        self.redactor.add_public(&aircall.api_id);
        self.redactor.add(aircall.token.expose());
        self.origins.aircall = Some(aircall.origin.clone());
        self.aircall = Some(aircall);
    }

    /// Who is told of each request, answer and retry.
    pub fn set_observer(&mut self, observer: Option<ObserverHandle>) {
        self.observer = observer;
    }

    fn emit(&self, event: &Event<'_>) {
        if let Some(observer) = &self.observer {
            observer.emit(event);
        }
    }

    /// The origin of the token request (a login URL or My Domain, checked by `check_url`).
    pub fn set_login_origin(&mut self, origin: String) {
        self.origins.login = Some(origin);
    }

    /// Sends a request after the read-only check, retrying transient failures. Any HTTP status
    /// comes back as a [`Reply::Answer`], exhausted transport failures as a [`Reply::NoAnswer`]:
    /// whether no answer is fatal is the caller's call. Only a refused request and a body over
    /// its limit are errors.
    pub async fn send(&self, req: &PlannedRequest) -> Result<Reply, CollectError> {
        let url = check_read_only(req, &self.origins).map_err(|reason| CollectError::Refused {
            method: req.method,
            endpoint: req.path.clone(),
            reason,
        })?;
        let mut attempt = 0u32;
        self.emit(&Event::Sent {
            phase: req.phase,
            method: req.method,
            path: &req.path,
        });
        let started = std::time::Instant::now();
        loop {
            if self.counters.attempts.fetch_add(1, Ordering::Relaxed) >= self.limits.max_requests {
                return Err(CollectError::TooManyRequests {
                    limit: self.limits.max_requests,
                    method: req.method,
                    endpoint: req.path.clone(),
                });
            }
            let outcome = match self.attempt(req, &url).await {
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient(detail)) => Err(detail),
                Ok(answer) => Ok(answer),
            };
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
                    let wait = wait.min(self.retry.max_delay);
                    let reason = match &outcome {
                        Ok((response, _)) => response.status.to_string(),
                        Err(detail) => self.redactor.scrub(detail),
                    };
                    self.emit(&Event::Retrying {
                        method: req.method,
                        path: &req.path,
                        reason: &reason,
                        attempt,
                        max: self.retry.max_retries,
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    let (status, detail) = match &outcome {
                        Ok((response, _)) => (Some(response.status), None),
                        Err(detail) => (None, Some(self.redactor.scrub(detail))),
                    };
                    self.emit(&Event::Answered {
                        phase: req.phase,
                        method: req.method,
                        path: &req.path,
                        status,
                        elapsed: started.elapsed(),
                        detail: detail.as_deref(),
                    });
                    return Ok(match outcome {
                        Ok((response, _)) => Reply::Answer(response),
                        Err(detail) => {
                            let detail = self.redactor.scrub(&detail);
                            if req.credential != Credential::AircallBasic
                                && let Ok(mut first) = self.counters.first_transport_failure.lock()
                                && first.is_none()
                            {
                                *first = Some((req.path.clone(), detail.clone()));
                            }
                            Reply::NoAnswer { detail }
                        }
                    });
                }
            }
        }
    }

    /// One attempt at `url` (the one the read-only check returned for `req`): the response and
    /// any wait the server asked for, or why there is none.
    async fn attempt(
        &self,
        req: &PlannedRequest,
        url: &::url::Url,
    ) -> Result<(Response, Option<Duration>), Failure> {
        let method = match req.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            // check_read_only refused these already; keep the match total without sending.
            other => return Err(Failure::Transient(format!("{other} is never sent"))),
        };
        let mut builder = self.client.request(method, url.clone());
        match req.credential {
            Credential::None | Credential::SoapSession => {}
            Credential::Bearer => {
                let session = self.session.as_ref().ok_or(Failure::transient(
                    "no session for an authenticated request",
                ))?;
                builder = builder.header(
                    "Authorization",
                    format!("Bearer {}", session.token.expose()),
                );
            }
            Credential::AircallBasic => {
                let aircall = self
                    .aircall
                    .as_ref()
                    .ok_or(Failure::transient("no Aircall credentials"))?;
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
                    .ok_or(Failure::transient("no session for a Metadata API call"))?;
                builder
                    .header("Content-Type", "text/xml; charset=UTF-8")
                    .header("SOAPAction", "\"\"")
                    .body(super::soap::envelope(session.token.expose(), body))
            }
        };
        let mut response = builder
            .send()
            .await
            .map_err(|e| Failure::Transient(describe_reqwest_error(e)))?;
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
        // Streamed, so that an endless body stops at the limit instead of filling memory.
        let limit = self.body_limit(req);
        let too_large = || {
            Failure::Fatal(CollectError::BodyTooLarge {
                method: req.method,
                endpoint: req.path.clone(),
                limit_bytes: limit,
            })
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            Failure::Transient(format!(
                "response body truncated or unreadable: {}",
                describe_reqwest_error(e)
            ))
        })? {
            if u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX) > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((Response { status, body }, server_wait))
    }

    /// The body limit of a request: the small one for the token endpoint, userinfo, the
    /// versions resource and the Aircall ping, the data one for every other read.
    fn body_limit(&self, req: &PlannedRequest) -> u64 {
        let small = req.credential == Credential::AircallBasic
            || matches!(
                req.path.as_str(),
                TOKEN_PATH | USERINFO_PATH | VERSIONS_PATH
            );
        if small {
            self.limits.max_small_body_bytes
        } else {
            self.limits.max_body_bytes
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = u64::try_from(self.retry.base_delay.as_millis()).unwrap_or(u64::MAX);
        let exp = base.saturating_mul(1u64 << attempt.min(16));
        let capped = exp.min(u64::try_from(self.retry.max_delay.as_millis()).unwrap_or(u64::MAX));
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

/// Why an attempt got no usable answer.
enum Failure {
    /// Worth retrying: connection refused, timeout, reset, truncated body.
    Transient(String),
    /// Ends the collection now (a body over its limit).
    Fatal(CollectError),
}

impl Failure {
    fn transient(detail: &str) -> Self {
        Failure::Transient(detail.to_string())
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

    #[tokio::test]
    async fn send_refuses_before_any_byte() {
        let transport = Transport::new(
            Duration::from_secs(1),
            RetryPolicy::default(),
            Limits::default(),
            Redactor::default(),
        )
        .unwrap();
        let mut patch = PlannedRequest::for_test(
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
            Some((10_018, 100_000))
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=1/2, api-usage=3/4"),
            Some((3, 4))
        );
        assert_eq!(parse_limit_info("nonsense"), None);
    }
}
