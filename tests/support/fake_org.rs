//! An in-process fake Salesforce org (and Aircall API) for tests and benchmarks.
//!
//! A small HTTP/1.1 server on 127.0.0.1 (random port), on a thread and runtime of its own, built
//! from a fixture under `fixtures/fake-org/` (`<name>.json` + `<name>.metadata/<Type>/<fullName>.xml`).
//! It speaks the wire formats of reference §4: the versions resource, userinfo, the token
//! endpoint (client credentials and JWT bearer), SOQL and Tooling queries routed by FROM object
//! with simple WHERE handling (=, IN lists, semi-joins, AND/OR) and `nextRecordsUrl` paging,
//! child subqueries, error arrays, Composite, sobject describe, SOAP `readMetadata` and faults,
//! `Sforce-Limit-Info`, and Aircall's `/v1/ping`. It also rejects SOQL that Salesforce rejects
//! (semi-joins with OR, more than two semi-joins, a semi-join on the main object) so that the
//! collector cannot drift into illegal queries.
//!
//! Every request is recorded (method, path, query, body, timing) so that tests can prove the
//! collector only reads. [`Fault`]s inject latency, 503s, 401s, `INVALID_FIELD`, SOAP faults,
//! truncated, endless and padded bodies, invalid JSON, `REQUEST_LIMIT_EXCEEDED`, Aircall 429s,
//! looping `nextRecordsUrl` locators and a token endpoint that echoes what it was sent.
//!
//! Use from an integration test with `mod support;` (tests/support/mod.rs), or from a bench
//! with `#[path = "../tests/support/fake_org.rs"] mod fake_org;`.
#![allow(dead_code)]
// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fake-org")
}

/// Credentials the fake accepts (from the fixture).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Credentials {
    pub access_token: String,
    pub client_id: String,
    pub client_secret: String,
    pub jwt_username: String,
    pub aircall_api_id: String,
    pub aircall_api_token: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Limits {
    used: u64,
    allowed: u64,
}

/// A fixture file (`fixtures/fake-org/<name>.json`).
#[derive(Debug, Clone, serde::Deserialize)]
struct Fixture {
    #[serde(default)]
    versions: Vec<String>,
    credentials: Credentials,
    limits: Limits,
    userinfo: Value,
    #[serde(default)]
    sobjects: Vec<String>,
    #[serde(default)]
    records: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    tooling: BTreeMap<String, Vec<Value>>,
    /// Folder (next to the JSON) holding `<Type>/<fullName>.xml` metadata files.
    #[serde(default)]
    metadata: Option<String>,
    /// The fake's clock for `LAST_N_DAYS` (RFC 3339); see `runtime_org`.
    #[serde(default)]
    now: Option<String>,
}

#[path = "runtime_org.rs"]
mod runtime_org;

/// An injected misbehaviour.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer 503 to the first `times` requests whose path contains `path`.
    ServiceUnavailable { path: String, times: u32 },
    /// Every authenticated request gets 401 `INVALID_SESSION_ID` (SOAP: a fault).
    Unauthorized,
    /// Queries naming this field fail with 400 `INVALID_FIELD`.
    InvalidField { field: String },
    /// Queries on this object fail with 400 `INVALID_TYPE`.
    InvalidType { object: String },
    /// Queries on this object fail with 403 `INSUFFICIENT_ACCESS`.
    InsufficientAccess { object: String },
    /// readMetadata of this type answers a SOAP fault with this code.
    ReadMetadataRefused { metadata_type: String, code: String },
    /// The first `times` responses whose path contains `path` are cut mid-body (the connection
    /// closes before Content-Length bytes arrive).
    Truncated { path: String, times: u32 },
    /// Responses whose path contains `path` are 200 with a body that is not JSON.
    InvalidJson { path: String },
    /// Every REST request gets 403 `REQUEST_LIMIT_EXCEEDED`.
    RequestLimitExceeded,
    /// The first `times` Aircall pings get 429 with `X-AircallApi-Reset` = now + `reset_in_secs`.
    Aircall429 { times: u32, reset_in_secs: u64 },
    /// A `nextRecordsUrl` page of a query on this object answers the same page again, with the
    /// same `nextRecordsUrl` (a looping query locator).
    RepeatNextRecordsUrl { object: String },
    /// The first page of a query on this object (when it has more) names this
    /// `nextRecordsUrl` instead of its own (a hostile org steering the collector elsewhere).
    NextRecordsUrl { object: String, url: String },
    /// Responses whose path contains `path` never end: no Content-Length, and bytes keep
    /// coming until the client hangs up.
    EndlessBody { path: String },
    /// Responses whose path contains `path` are padded with trailing whitespace (still valid
    /// JSON or XML) to `bytes`, with a Content-Length saying so.
    PaddedBody { path: String, bytes: usize },
    /// A refused token request quotes every submitted form value in `error_description` (a
    /// careless server echoing the client secret or the JWT assertion back).
    EchoTokenRequest,
    /// Queries with a semi-join whose inner object is `inner_object` fail with 400 `code`
    /// (`MALFORMED_QUERY`, `INVALID_FIELD` or `INVALID_TYPE`): a form Salesforce refuses.
    RefuseSemiJoin { inner_object: String, code: String },
    /// Queries with `OR` inside a semi-join's WHERE fail with 400 `code`.
    RefuseSemiJoinWithOr { code: String },
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string (percent-encoded).
    pub query: String,
    pub body: String,
    /// `Bearer`, `Basic` or empty: the scheme only, never the credential.
    pub auth_scheme: String,
    /// Since the fake started: when the request was fully read, and when the answer was sent.
    pub received: Duration,
    pub responded: Duration,
    pub status: u16,
}

impl RecordedRequest {
    /// The decoded `q` parameter.
    pub fn soql(&self) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned())
    }
}

struct FaultState {
    fault: Fault,
    used: AtomicU32,
}

/// An open query locator: the remaining rows, whether it is a Tooling query, its FROM object.
type Cursor = (Vec<Value>, bool, String);

struct State {
    fixture: Fixture,
    metadata: Mutex<BTreeMap<(String, String), String>>,
    faults: Vec<FaultState>,
    latency: Duration,
    page_size: usize,
    jwt_public_key: Option<Vec<u8>>,
    base_url: Mutex<String>,
    started: Instant,
    requests: Mutex<Vec<RecordedRequest>>,
    cursors: Mutex<HashMap<String, Cursor>>,
    next_cursor: AtomicU64,
    api_calls: AtomicU64,
}

/// Builds a [`FakeOrg`].
pub struct FakeOrgBuilder {
    fixture: Fixture,
    metadata: BTreeMap<(String, String), String>,
    faults: Vec<Fault>,
    latency: Duration,
    page_size: usize,
    jwt_public_key: Option<Vec<u8>>,
}

impl FakeOrgBuilder {
    /// Delay before every answer.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Records per query page (Salesforce: up to 2000).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Adds or replaces a metadata component (a metadata file document).
    pub fn metadata_xml(mut self, metadata_type: &str, full_name: &str, xml: &str) -> Self {
        self.metadata.insert(
            (metadata_type.to_string(), full_name.to_string()),
            xml.to_string(),
        );
        self
    }

    /// Removes a metadata component.
    pub fn without_metadata(mut self, metadata_type: &str, full_name: &str) -> Self {
        self.metadata
            .remove(&(metadata_type.to_string(), full_name.to_string()));
        self
    }

    /// Replaces the access token the fake accepts.
    pub fn access_token(mut self, token: &str) -> Self {
        self.fixture.credentials.access_token = token.to_string();
        self
    }

    /// Replaces the client secret the fake accepts (client credentials flow).
    pub fn client_secret(mut self, secret: &str) -> Self {
        self.fixture.credentials.client_secret = secret.to_string();
        self
    }

    /// Replaces the Aircall token the fake accepts.
    pub fn aircall_token(mut self, token: &str) -> Self {
        self.fixture.credentials.aircall_api_token = token.to_string();
        self
    }

    /// Removes every record of an object (a zero-row answer).
    pub fn without_records(mut self, object: &str) -> Self {
        self.fixture.records.insert(object.to_string(), Vec::new());
        self
    }

    /// Changes one field of the record with this Id (any object).
    pub fn set_field(mut self, id: &str, field: &str, value: Value) -> Self {
        for rows in self
            .fixture
            .records
            .values_mut()
            .chain(self.fixture.tooling.values_mut())
        {
            for row in rows.iter_mut() {
                if row.get("Id").and_then(Value::as_str) == Some(id) {
                    row[field] = value.clone();
                }
            }
        }
        self
    }

    /// Removes the record with this Id (any object).
    pub fn remove_record(mut self, id: &str) -> Self {
        for rows in self
            .fixture
            .records
            .values_mut()
            .chain(self.fixture.tooling.values_mut())
        {
            rows.retain(|row| row.get("Id").and_then(Value::as_str) != Some(id));
        }
        self
    }

    /// Makes `GET sobjects/<object>/describe` answer 404.
    pub fn without_sobject(mut self, object: &str) -> Self {
        self.fixture
            .sobjects
            .retain(|o| !o.eq_ignore_ascii_case(object));
        self
    }

    /// Adds a record.
    pub fn add_record(mut self, object: &str, record: Value) -> Self {
        self.fixture
            .records
            .entry(object.to_string())
            .or_default()
            .push(record);
        self
    }

    /// Verifies JWT assertions with this RSA public key (PKCS#1 `RSAPublicKey` DER).
    pub fn jwt_public_key(mut self, der: Vec<u8>) -> Self {
        self.jwt_public_key = Some(der);
        self
    }

    /// Starts the server on 127.0.0.1 with a random port.
    pub fn start(self) -> FakeOrg {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let base_url = format!("http://{addr}");
        let state = Arc::new(State {
            fixture: self.fixture,
            metadata: Mutex::new(self.metadata),
            faults: self
                .faults
                .into_iter()
                .map(|fault| FaultState {
                    fault,
                    used: AtomicU32::new(0),
                })
                .collect(),
            latency: self.latency,
            page_size: self.page_size,
            jwt_public_key: self.jwt_public_key,
            base_url: Mutex::new(base_url.clone()),
            started: Instant::now(),
            requests: Mutex::new(Vec::new()),
            cursors: Mutex::new(HashMap::new()),
            next_cursor: AtomicU64::new(1),
            api_calls: AtomicU64::new(0),
        });
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let server_state = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake org runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                loop {
                    tokio::select! {
                        _ = &mut stop => break,
                        accepted = listener.accept() => {
                            if let Ok((stream, _)) = accepted {
                                tokio::spawn(serve(server_state.clone(), stream));
                            }
                        }
                    }
                }
            });
        });
        FakeOrg {
            base_url,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

/// A running fake org; stops when dropped.
pub struct FakeOrg {
    base_url: String,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeOrg {
    /// A builder from `fixtures/fake-org/<name>.json`.
    pub fn builder(name: &str) -> FakeOrgBuilder {
        let dir = fixtures_dir();
        let path = dir.join(format!("{name}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let fixture: Fixture =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut metadata = BTreeMap::new();
        if let Some(folder) = &fixture.metadata {
            let root = dir.join(folder);
            for type_dir in
                std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            {
                let type_dir = type_dir.expect("metadata dir entry").path();
                let metadata_type = type_dir.file_name().unwrap().to_string_lossy().into_owned();
                for file in std::fs::read_dir(&type_dir).expect("metadata type dir") {
                    let file = file.expect("metadata file").path();
                    let full_name = file.file_stem().unwrap().to_string_lossy().into_owned();
                    let xml = std::fs::read_to_string(&file).expect("metadata xml");
                    metadata.insert((metadata_type.clone(), full_name), xml);
                }
            }
        }
        FakeOrgBuilder {
            fixture,
            metadata,
            faults: Vec::new(),
            latency: Duration::ZERO,
            page_size: 2000,
            jwt_public_key: None,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.base_url
    }

    pub fn credentials(&self) -> &Credentials {
        &self.state.fixture.credentials
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let mut requests = self.state.requests.lock().unwrap().clone();
        requests.sort_by_key(|r| r.received);
        requests
    }

    pub fn clear_requests(&self) {
        self.state.requests.lock().unwrap().clear();
    }

    /// The number of sequential waves in the request record: a request belongs to wave k+1
    /// when it arrived after a request of wave k had been answered.
    pub fn waves(&self) -> usize {
        waves(&self.requests())
    }
}

/// See [`FakeOrg::waves`].
pub fn waves(requests: &[RecordedRequest]) -> usize {
    let mut wave_of: Vec<usize> = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let w = requests[..i]
            .iter()
            .zip(&wave_of)
            .filter(|(q, _)| q.responded <= r.received)
            .map(|(_, w)| *w)
            .max()
            .unwrap_or(0)
            + 1;
        wave_of.push(w);
    }
    wave_of.into_iter().max().unwrap_or(0)
}

impl Drop for FakeOrg {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    truncate: bool,
    endless: bool,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Self {
        Reply {
            status,
            content_type: "application/json;charset=UTF-8",
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
            truncate: false,
            endless: false,
        }
    }

    fn xml(status: u16, body: String) -> Self {
        Reply {
            status,
            content_type: "text/xml;charset=UTF-8",
            headers: Vec::new(),
            body: body.into_bytes(),
            truncate: false,
            endless: false,
        }
    }

    fn errors(status: u16, code: &str, message: &str) -> Self {
        Reply::json(status, &json!([{ "message": message, "errorCode": code }]))
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::with_capacity(4096);
    let header_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

async fn serve(state: Arc<State>, mut stream: TcpStream) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let received = state.started.elapsed();
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let reply = handle(&state, &request);
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nConnection: close\r\n",
        reply.status,
        reason_phrase(reply.status),
        reply.content_type,
    );
    if !reply.endless {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // Stamped and recorded before the answer leaves: a request caused by this answer always
    // arrives later, and a caller that has the answer finds the request in the record.
    let auth_scheme = request
        .header("Authorization")
        .and_then(|a| a.split(' ').next())
        .unwrap_or("")
        .to_string();
    state.requests.lock().unwrap().push(RecordedRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        body: String::from_utf8_lossy(&request.body).into_owned(),
        auth_scheme,
        received,
        responded: state.started.elapsed(),
        status: reply.status,
    });
    let body: &[u8] = if reply.truncate {
        &reply.body[..reply.body.len() / 2]
    } else {
        &reply.body
    };
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    if reply.endless {
        // Close-delimited and never closed: only the client hanging up ends it.
        let filler = vec![b' '; 64 * 1024];
        while stream.write_all(&filler).await.is_ok() {}
    }
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Routing

fn take_fault(state: &State, pick: impl Fn(&Fault) -> bool) -> bool {
    for f in &state.faults {
        if !pick(&f.fault) {
            continue;
        }
        let limit = match &f.fault {
            Fault::ServiceUnavailable { times, .. }
            | Fault::Truncated { times, .. }
            | Fault::Aircall429 { times, .. } => *times,
            _ => u32::MAX,
        };
        if f.used.fetch_add(1, Ordering::SeqCst) < limit {
            return true;
        }
    }
    false
}

fn has_fault(state: &State, pick: impl Fn(&Fault) -> bool) -> bool {
    state.faults.iter().any(|f| pick(&f.fault))
}

fn handle(state: &State, req: &Request) -> Reply {
    let path = req.path.as_str();
    if take_fault(
        state,
        |f| matches!(f, Fault::ServiceUnavailable { path: p, .. } if path.contains(p.as_str())),
    ) {
        return Reply::errors(503, "SERVER_UNAVAILABLE", "Service temporarily unavailable");
    }
    let mut reply = route(state, req);
    if path.starts_with("/services/data/v") {
        let used = state.fixture.limits.used + state.api_calls.fetch_add(1, Ordering::SeqCst) + 1;
        reply.headers.push((
            "Sforce-Limit-Info".to_string(),
            format!("api-usage={used}/{}", state.fixture.limits.allowed),
        ));
    }
    if has_fault(
        state,
        |f| matches!(f, Fault::InvalidJson { path: p } if path.contains(p.as_str())),
    ) {
        reply.status = 200;
        reply.body = b"<html><head><title>Maintenance</title></head><body>Down for maintenance</body></html>".to_vec();
    }
    if take_fault(
        state,
        |f| matches!(f, Fault::Truncated { path: p, .. } if path.contains(p.as_str())),
    ) {
        reply.truncate = true;
    }
    if has_fault(
        state,
        |f| matches!(f, Fault::EndlessBody { path: p } if path.contains(p.as_str())),
    ) {
        reply.endless = true;
    }
    for f in &state.faults {
        if let Fault::PaddedBody { path: p, bytes } = &f.fault
            && path.contains(p.as_str())
            && reply.body.len() < *bytes
        {
            reply.body.resize(*bytes, b' ');
        }
    }
    reply
}

fn route(state: &State, req: &Request) -> Reply {
    let path = req.path.as_str();
    let method = req.method.as_str();
    if method == "GET" && (path == "/services/data/" || path == "/services/data") {
        let versions: Vec<Value> = state
            .fixture
            .versions
            .iter()
            .map(|v| json!({"label": format!("Release {v}"), "url": format!("/services/data/v{v}"), "version": v}))
            .collect();
        return Reply::json(200, &Value::Array(versions));
    }
    if path == "/services/oauth2/token" {
        return if method == "POST" {
            token(state, req)
        } else {
            Reply::errors(405, "METHOD_NOT_ALLOWED", "use POST")
        };
    }
    if path == "/v1/ping" {
        return aircall_ping(state, req);
    }
    if path.starts_with("/services/Soap/m/") {
        if method != "POST" {
            return Reply::errors(405, "METHOD_NOT_ALLOWED", "use POST");
        }
        return soap(state, req);
    }
    if path == "/services/oauth2/userinfo" {
        if !authorized(state, req) {
            return Reply::errors(401, "INVALID_SESSION_ID", "Session expired or invalid");
        }
        return Reply::json(200, &state.fixture.userinfo);
    }
    let Some(rest) = path.strip_prefix("/services/data/v") else {
        return Reply::errors(404, "NOT_FOUND", "The requested resource does not exist");
    };
    let Some((version, resource)) = rest.split_once('/') else {
        return Reply::errors(404, "NOT_FOUND", "The requested resource does not exist");
    };
    if !authorized(state, req) {
        return Reply::errors(401, "INVALID_SESSION_ID", "Session expired or invalid");
    }
    if has_fault(state, |f| matches!(f, Fault::RequestLimitExceeded)) {
        return Reply::errors(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
    }
    rest_resource(state, method, version, resource, &req.query, &req.body)
}

fn authorized(state: &State, req: &Request) -> bool {
    if has_fault(state, |f| matches!(f, Fault::Unauthorized)) {
        return false;
    }
    req.header("Authorization")
        == Some(&format!(
            "Bearer {}",
            state.fixture.credentials.access_token
        ))
}

/// A REST resource under `/services/data/vXX.X/` (also used for Composite subrequests).
fn rest_resource(
    state: &State,
    method: &str,
    version: &str,
    resource: &str,
    query: &str,
    body: &[u8],
) -> Reply {
    let resource = resource.trim_end_matches('/');
    let q = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned());
    match (method, resource) {
        ("GET", "query") => match q {
            Some(q) => run_soql(state, version, &q, false),
            None => Reply::errors(400, "MALFORMED_QUERY", "no q parameter"),
        },
        ("GET", "tooling/query") => match q {
            Some(q) => run_soql(state, version, &q, true),
            None => Reply::errors(400, "MALFORMED_QUERY", "no q parameter"),
        },
        ("GET", r) if r.starts_with("query/") || r.starts_with("tooling/query/") => {
            let cursor = r.rsplit('/').next().unwrap_or_default();
            next_page(state, version, cursor)
        }
        ("GET", r) if r.starts_with("sobjects/") && r.ends_with("/describe") => {
            let object = r
                .trim_start_matches("sobjects/")
                .trim_end_matches("/describe");
            if state
                .fixture
                .sobjects
                .iter()
                .any(|o| o.eq_ignore_ascii_case(object))
            {
                Reply::json(
                    200,
                    &json!({"name": object, "queryable": true, "fields": [{"name": "Id", "type": "id"}]}),
                )
            } else {
                Reply::errors(404, "NOT_FOUND", "The requested resource does not exist")
            }
        }
        ("POST", "composite") => composite(state, version, body, false),
        ("POST", "tooling/composite") => composite(state, version, body, true),
        _ => Reply::errors(404, "NOT_FOUND", "The requested resource does not exist"),
    }
}

/// The data Composite, or the Tooling Composite (`tooling`), whose subrequests must be Tooling
/// resources; Tooling queries cannot go in the data Composite (reference 7b.1).
fn composite(state: &State, version: &str, body: &[u8], tooling: bool) -> Reply {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Reply::errors(400, "JSON_PARSER_ERROR", "Unexpected character");
    };
    let Some(subrequests) = request.get("compositeRequest").and_then(Value::as_array) else {
        return Reply::errors(400, "INVALID_INPUT", "compositeRequest is required");
    };
    let queries = subrequests
        .iter()
        .filter(|s| {
            s.get("url")
                .and_then(Value::as_str)
                .is_some_and(|u| u.contains("/query"))
        })
        .count();
    if subrequests.len() > 25 || queries > 5 {
        return Reply::errors(
            400,
            "LIMIT_EXCEEDED",
            "A composite request may hold up to 25 subrequests, 5 of them queries",
        );
    }
    let mut responses = Vec::new();
    for sub in subrequests {
        let method = sub.get("method").and_then(Value::as_str).unwrap_or("");
        let reference = sub.get("referenceId").cloned().unwrap_or(Value::Null);
        let url = sub.get("url").and_then(Value::as_str).unwrap_or("");
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let reply = match path.strip_prefix(&format!("/services/data/v{version}/")) {
            Some(resource) if resource.starts_with("tooling/") == tooling => {
                rest_resource(state, method, version, resource, query, b"")
            }
            _ => Reply::errors(404, "NOT_FOUND", "The requested resource does not exist"),
        };
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        responses.push(json!({"body": body, "httpHeaders": {}, "httpStatusCode": reply.status, "referenceId": reference}));
    }
    Reply::json(200, &json!({ "compositeResponse": responses }))
}

fn token(state: &State, req: &Request) -> Reply {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let creds = &state.fixture.credentials;
    let echo = has_fault(state, |f| matches!(f, Fault::EchoTokenRequest));
    let refuse = |error: &str, description: &str| {
        let description = if echo {
            let mut values: Vec<&String> = form.values().collect();
            values.sort();
            format!(
                "{description}; you sent {}",
                values
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            description.to_string()
        };
        Reply::json(
            400,
            &json!({"error": error, "error_description": description}),
        )
    };
    let ok = || {
        let base = state.base_url.lock().unwrap().clone();
        Reply::json(
            200,
            &json!({
                "access_token": creds.access_token,
                "signature": "fakeSignature=",
                "scope": "api",
                "instance_url": base,
                "id": "https://login.salesforce.com/id/00DXX0000000001EAA/005XX0000000009AAA",
                "token_type": "Bearer",
                "issued_at": "1700000000000"
            }),
        )
    };
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            if form.get("client_id") == Some(&creds.client_id)
                && form.get("client_secret") == Some(&creds.client_secret)
            {
                ok()
            } else {
                refuse("invalid_client", "invalid client credentials")
            }
        }
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let Some(assertion) = form.get("assertion") else {
                return refuse("invalid_request", "assertion missing");
            };
            match check_jwt(state, assertion) {
                Ok(()) => ok(),
                Err(reason) => refuse("invalid_grant", reason),
            }
        }
        _ => refuse("unsupported_grant_type", "grant type not supported"),
    }
}

fn check_jwt(state: &State, assertion: &str) -> Result<(), &'static str> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("malformed assertion");
    };
    let header: Value = serde_json::from_slice(&b64.decode(header).map_err(|_| "bad header")?)
        .map_err(|_| "bad header")?;
    let claims: Value = serde_json::from_slice(&b64.decode(claims).map_err(|_| "bad claims")?)
        .map_err(|_| "bad claims")?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err("unsupported algorithm");
    }
    let creds = &state.fixture.credentials;
    let base = state.base_url.lock().unwrap().clone();
    if claims.get("iss").and_then(Value::as_str) != Some(creds.client_id.as_str()) {
        return Err("client identifier invalid");
    }
    if claims.get("sub").and_then(Value::as_str) != Some(creds.jwt_username.as_str()) {
        return Err("user hasn't approved this consumer");
    }
    if claims.get("aud").and_then(Value::as_str) != Some(base.as_str()) {
        return Err("audience is invalid");
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if claims
        .get("exp")
        .and_then(Value::as_u64)
        .is_none_or(|exp| exp <= now)
    {
        return Err("expired authorization code");
    }
    if let Some(key) = &state.jwt_public_key {
        let signed = assertion
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or_default();
        let signature = b64.decode(signature).map_err(|_| "bad signature")?;
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key)
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| "invalid assertion signature")?;
    }
    Ok(())
}

fn aircall_ping(state: &State, req: &Request) -> Reply {
    if take_fault(state, |f| matches!(f, Fault::Aircall429 { .. })) {
        let reset_in = state
            .faults
            .iter()
            .find_map(|f| match f.fault {
                Fault::Aircall429 { reset_in_secs, .. } => Some(reset_in_secs),
                _ => None,
            })
            .unwrap_or(1);
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + reset_in;
        let mut reply = Reply::json(
            429,
            &json!({"error": "Too Many Requests", "troubleshoot": "Wait for the rate limit reset"}),
        );
        reply.headers = vec![
            ("X-AircallApi-Limit".to_string(), "60".to_string()),
            ("X-AircallApi-Remaining".to_string(), "0".to_string()),
            ("X-AircallApi-Reset".to_string(), reset.to_string()),
        ];
        return reply;
    }
    let creds = &state.fixture.credentials;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            creds.aircall_api_id, creds.aircall_api_token
        ))
    );
    if req.header("Authorization") == Some(expected.as_str()) {
        Reply::json(200, &json!({"ping": "pong"}))
    } else {
        Reply::json(
            401,
            &json!({"error": "Unauthorized", "troubleshoot": "Check your API ID and API token"}),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// SOAP readMetadata

fn soap_fault(code: &str, message: &str) -> Reply {
    Reply::xml(
        500,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring><detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{message}</sf:exceptionMessage></sf:UnexpectedErrorFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
        ),
    )
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn element_texts(xml: &str, local: &str) -> Vec<String> {
    // Compiled once per name: a regex compile per request would make the (single-threaded)
    // fake slow enough to blur the waves it records.
    static CACHE: std::sync::OnceLock<Mutex<HashMap<String, regex::Regex>>> =
        std::sync::OnceLock::new();
    let re = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(local.to_string())
        .or_insert_with(|| {
            regex::Regex::new(&format!(r"<(?:\w+:)?{local}>([^<]*)</(?:\w+:)?{local}>")).unwrap()
        })
        .clone();
    re.captures_iter(xml).map(|c| xml_unescape(&c[1])).collect()
}

fn soap(state: &State, req: &Request) -> Reply {
    let body = String::from_utf8_lossy(&req.body).into_owned();
    let session = element_texts(&body, "sessionId")
        .into_iter()
        .next()
        .unwrap_or_default();
    if has_fault(state, |f| matches!(f, Fault::Unauthorized))
        || session != state.fixture.credentials.access_token
    {
        return soap_fault(
            "INVALID_SESSION_ID",
            "Invalid Session ID found in SessionHeader: Illegal Session",
        );
    }
    static OPERATION: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let op = OPERATION
        .get_or_init(|| regex::Regex::new(r"<(?:\w+:)?Body>\s*<(?:\w+:)?(\w+)").unwrap())
        .captures(&body)
        .map(|c| c[1].to_string())
        .unwrap_or_default();
    match op.as_str() {
        "readMetadata" => {}
        "listMetadata" => return list_metadata(state, &body),
        other => {
            return soap_fault(
                "INVALID_OPERATION",
                &format!("operation {other} is not supported by the fake"),
            );
        }
    }
    let metadata_type = element_texts(&body, "type")
        .into_iter()
        .next()
        .unwrap_or_default();
    if let Some(refused) = metadata_refused(state, std::slice::from_ref(&metadata_type)) {
        return refused;
    }
    let metadata = state.metadata.lock().unwrap();
    let mut records = String::new();
    for name in element_texts(&body, "fullNames") {
        match metadata.get(&(metadata_type.clone(), name.clone())) {
            Some(document) => {
                let children = root_children(document);
                records.push_str(&format!(
                    "<records xsi:type=\"{metadata_type}\"><fullName>{name}</fullName>{children}</records>"
                ));
            }
            None => records.push_str("<records xsi:nil=\"true\"/>"),
        }
    }
    Reply::xml(
        200,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><readMetadataResponse><result>{records}</result></readMetadataResponse></soapenv:Body></soapenv:Envelope>"#
        ),
    )
}

/// The content of a metadata document's root element.
fn root_children(document: &str) -> &str {
    let body = match document.find("?>") {
        Some(i) if document.trim_start().starts_with("<?xml") => &document[i + 2..],
        _ => document,
    };
    let start = body
        .find('<')
        .and_then(|i| body[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = body.rfind("</").unwrap_or(body.len());
    if start <= end { &body[start..end] } else { "" }
}

// ---------------------------------------------------------------------------------------------
// A small SOQL engine

#[derive(Debug, Clone)]
enum SelectItem {
    Field(String),
    Child {
        relationship: String,
        fields: Vec<String>,
    },
}

#[derive(Debug, Clone)]
struct Soql {
    select: Vec<SelectItem>,
    object: String,
    filter: Option<String>,
    order: Option<(String, bool)>,
    limit: Option<usize>,
}

#[derive(Debug)]
struct SoqlError {
    status: u16,
    code: &'static str,
    message: String,
}

fn soql_error(code: &'static str, message: impl Into<String>) -> SoqlError {
    SoqlError {
        status: 400,
        code,
        message: message.into(),
    }
}

/// Splits at `sep` (case-insensitive, ASCII) outside parentheses and quotes.
fn split_top(s: &str, sep: &str) -> Vec<String> {
    let lower = s.to_ascii_lowercase();
    let sep = sep.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let (mut depth, mut quoted, mut start, mut i) = (0i32, false, 0usize, 0usize);
    let mut parts = Vec::new();
    while i < bytes.len() {
        let c = bytes[i];
        if quoted {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'\'' {
                quoted = false;
            }
        } else {
            match c {
                b'\'' => quoted = true,
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {
                    if depth == 0 && lower[i..].starts_with(&sep) {
                        parts.push(s[start..i].trim().to_string());
                        i += sep.len();
                        start = i;
                        continue;
                    }
                }
            }
        }
        i += 1;
    }
    parts.push(s[start..].trim().to_string());
    parts
}

/// Finds a top-level keyword (outside parentheses and quotes).
fn find_top(s: &str, keyword: &str) -> Option<usize> {
    let parts = split_top(s, keyword);
    if parts.len() < 2 {
        return None;
    }
    // Position of the first separator: length of the first part, plus leading whitespace.
    let first = &parts[0];
    s.find(first.as_str()).map(|i| i + first.len())
}

fn parse_soql(text: &str) -> Result<Soql, SoqlError> {
    let text = text.trim();
    if !text
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("SELECT "))
    {
        return Err(soql_error(
            "MALFORMED_QUERY",
            format!("unexpected token: {}", text.split(' ').next().unwrap_or("")),
        ));
    }
    let rest = &text[7..];
    let from =
        find_top(rest, " FROM ").ok_or_else(|| soql_error("MALFORMED_QUERY", "FROM expected"))?;
    let select_text = &rest[..from];
    let after_from = rest[from..].trim_start();
    let after_from = after_from.get(5..).unwrap_or("").trim_start(); // "FROM "
    let (after_from, order, limit) = runtime_org::order_and_limit(after_from);
    let after_from = after_from.as_str();
    let (object, filter) = match find_top(after_from, " WHERE ") {
        Some(i) => (
            after_from[..i].trim(),
            Some(after_from[i..].trim_start()[6..].trim().to_string()),
        ),
        None => (after_from.trim(), None),
    };
    let object = object.split_whitespace().next().unwrap_or("").to_string();
    let filter = filter.map(|f| match find_top(&f, " LIMIT ") {
        Some(i) => f[..i].trim().to_string(),
        None => f,
    });
    let mut select = Vec::new();
    for item in split_top(select_text, ",") {
        if item.starts_with('(') {
            let inner = item.trim_start_matches('(').trim_end_matches(')');
            let child = parse_soql(inner)?;
            let fields = child
                .select
                .into_iter()
                .map(|s| match s {
                    SelectItem::Field(f) => Ok(f),
                    SelectItem::Child { .. } => {
                        Err(soql_error("MALFORMED_QUERY", "nested child subquery"))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            select.push(SelectItem::Child {
                relationship: child.object,
                fields,
            });
        } else {
            select.push(SelectItem::Field(item));
        }
    }
    Ok(Soql {
        select,
        object,
        filter,
        order,
        limit,
    })
}

struct Tables<'a> {
    tables: &'a BTreeMap<String, Vec<Value>>,
    index: HashMap<String, &'a Value>,
}

impl<'a> Tables<'a> {
    fn new(state: &'a State, tooling: bool) -> Self {
        let tables = if tooling {
            &state.fixture.tooling
        } else {
            &state.fixture.records
        };
        let mut index = HashMap::new();
        for rows in tables.values() {
            for row in rows {
                if let Some(id) = row.get("Id").and_then(Value::as_str) {
                    index.insert(id.to_string(), row);
                }
            }
        }
        Tables { tables, index }
    }

    fn table(&self, object: &str) -> Option<&'a Vec<Value>> {
        self.tables
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(object))
            .map(|(_, rows)| rows)
    }
}

fn get_ci<'v>(row: &'v Value, key: &str) -> Option<&'v Value> {
    let map = row.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Resolves `A.B.C` on a row: relationship `A` through field `AId`.
fn resolve<'v>(tables: &Tables<'v>, row: &'v Value, path: &str) -> Value {
    let mut current = row;
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        if i + 1 == segments.len() {
            return get_ci(current, segment).cloned().unwrap_or(Value::Null);
        }
        let Some(id) = get_ci(current, &format!("{segment}Id")).and_then(Value::as_str) else {
            return Value::Null;
        };
        let Some(next) = tables.index.get(id) else {
            return Value::Null;
        };
        current = next;
    }
    Value::Null
}

fn child_relationship(relationship: &str) -> Option<(&'static str, &'static str)> {
    match relationship.to_ascii_lowercase().as_str() {
        "permissionsetassignments" => Some(("PermissionSetAssignment", "AssigneeId")),
        _ => None,
    }
}

fn parse_literal(s: &str) -> Result<Value, SoqlError> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        return Ok(Value::String(out));
    }
    match s.to_ascii_lowercase().as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        _ => s
            .parse::<f64>()
            .map(|n| json!(n))
            .map_err(|_| soql_error("MALFORMED_QUERY", format!("unexpected token: {s}"))),
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A compiled WHERE: a conjunction of disjunctions of predicates.
enum Predicate {
    Eq(String, Value),
    In(String, Vec<Value>),
    Since(String, chrono::DateTime<chrono::Utc>),
    NotNull(String),
}

fn semi_join_count(filter: &str) -> usize {
    filter.to_ascii_uppercase().matches("IN (SELECT").count()
}

fn compile_filter(
    state: &State,
    tooling: bool,
    main_object: &str,
    filter: &str,
) -> Result<Vec<Vec<Predicate>>, SoqlError> {
    if semi_join_count(filter) > 2 {
        return Err(soql_error(
            "MALFORMED_QUERY",
            "No more than two semi-join or anti-join sub-selects are allowed",
        ));
    }
    let mut conjunction = Vec::new();
    for part in split_top(filter, " AND ") {
        let alternatives = split_top(&part, " OR ");
        if alternatives.len() > 1 && semi_join_count(&part) > 0 {
            return Err(soql_error(
                "MALFORMED_QUERY",
                "Semi join sub-selects are not allowed with the 'OR' operator",
            ));
        }
        let mut disjunction = Vec::new();
        for alt in alternatives {
            let alt = strip_wrapping_parens(alt.trim());
            disjunction.push(compile_predicate(state, tooling, main_object, &alt)?);
        }
        conjunction.push(disjunction);
    }
    Ok(conjunction)
}

/// `(a = 1)` → `a = 1`, but `Id IN (…)` stays whole.
fn strip_wrapping_parens(s: &str) -> String {
    let mut s = s.trim();
    while s.starts_with('(') && s.ends_with(')') {
        let inner = &s[1..s.len() - 1];
        // The outer pair wraps everything only if depth never drops below zero inside.
        let mut depth = 0i32;
        let balanced = inner.chars().all(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth >= 0
        });
        if !balanced || depth != 0 {
            break;
        }
        s = inner.trim();
    }
    s.to_string()
}

fn compile_predicate(
    state: &State,
    tooling: bool,
    main_object: &str,
    text: &str,
) -> Result<Predicate, SoqlError> {
    if let Some(i) = find_top(text, " IN ") {
        let field = text[..i].trim().to_string();
        let list = text[i..].trim_start()[2..].trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| soql_error("MALFORMED_QUERY", "IN list expected"))?
            .trim();
        if inner.len() > 7 && inner[..7].eq_ignore_ascii_case("SELECT ") {
            let sub = parse_soql(inner)?;
            if sub.object.eq_ignore_ascii_case(main_object) {
                return Err(soql_error(
                    "MALFORMED_QUERY",
                    "The inner and outer selects should not be on the same object type",
                ));
            }
            if sub
                .filter
                .as_deref()
                .is_some_and(|f| semi_join_count(f) > 0)
            {
                return Err(soql_error(
                    "MALFORMED_QUERY",
                    "Nesting of semi join sub-selects is not supported",
                ));
            }
            for f in &state.faults {
                let refused = match &f.fault {
                    Fault::RefuseSemiJoin { inner_object, code }
                        if inner_object.eq_ignore_ascii_case(&sub.object) =>
                    {
                        Some(code)
                    }
                    Fault::RefuseSemiJoinWithOr { code }
                        if sub
                            .filter
                            .as_deref()
                            .is_some_and(|w| split_top(w, " OR ").len() > 1) =>
                    {
                        Some(code)
                    }
                    _ => None,
                };
                if let Some(code) = refused {
                    // The last line as Salesforce words each code (reference 4.4).
                    let (code, last): (&'static str, String) = match code.as_str() {
                        "INVALID_FIELD" => (
                            "INVALID_FIELD",
                            format!(
                                "No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.",
                                match sub.select.first() {
                                    Some(SelectItem::Field(f)) => f.as_str(),
                                    _ => "Id",
                                },
                                sub.object
                            ),
                        ),
                        "INVALID_TYPE" => (
                            "INVALID_TYPE",
                            format!("sObject type '{}' is not supported.", sub.object),
                        ),
                        _ => (
                            "MALFORMED_QUERY",
                            "semi join sub selects are not supported in this form".to_string(),
                        ),
                    };
                    return Err(soql_error(
                        code,
                        format!("\n{text}\n^\nERROR at Row:1:Column:1\n{last}"),
                    ));
                }
            }
            let [SelectItem::Field(selected)] = sub.select.as_slice() else {
                return Err(soql_error(
                    "MALFORMED_QUERY",
                    "a semi-join selects exactly one field",
                ));
            };
            if selected.contains('.') {
                return Err(soql_error(
                    "MALFORMED_QUERY",
                    "a semi-join may not select a relationship field",
                ));
            }
            let rows = select_rows(state, tooling, &sub)?;
            let tables = Tables::new(state, tooling);
            let values = rows
                .iter()
                .map(|r| resolve(&tables, r, selected))
                .filter(|v| !v.is_null())
                .collect();
            return Ok(Predicate::In(field, values));
        }
        let values = split_top(inner, ",")
            .iter()
            .map(|v| parse_literal(v))
            .collect::<Result<_, _>>()?;
        return Ok(Predicate::In(field, values));
    }
    if let Some(p) = runtime_org::predicate(state, text) {
        return Ok(p);
    }
    if let Some((field, value)) = text.split_once('=') {
        return Ok(Predicate::Eq(
            field.trim().to_string(),
            parse_literal(value)?,
        ));
    }
    Err(soql_error(
        "MALFORMED_QUERY",
        format!("unexpected condition: {text}"),
    ))
}

fn fault_checks(state: &State, object: &str, text: &str) -> Result<(), SoqlError> {
    for f in &state.faults {
        match &f.fault {
            Fault::InvalidType { object: o } if o.eq_ignore_ascii_case(object) => {
                return Err(soql_error(
                    "INVALID_TYPE",
                    format!(
                        "\n{text}\n^\nERROR at Row:1:Column:1\nsObject type '{object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name."
                    ),
                ));
            }
            Fault::InsufficientAccess { object: o } if o.eq_ignore_ascii_case(object) => {
                return Err(SoqlError {
                    status: 403,
                    code: "INSUFFICIENT_ACCESS",
                    message: format!("insufficient access rights on object {object}"),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The rows of a query (no projection); also runs semi-join subqueries.
fn select_rows<'a>(
    state: &'a State,
    tooling: bool,
    soql: &Soql,
) -> Result<Vec<&'a Value>, SoqlError> {
    let tables = Tables::new(state, tooling);
    fault_checks(state, &soql.object, &format!("FROM {}", soql.object))?;
    let Some(rows) = tables.table(&soql.object) else {
        return Err(soql_error(
            "INVALID_TYPE",
            format!("sObject type '{}' is not supported.", soql.object),
        ));
    };
    let filter = match &soql.filter {
        Some(f) => compile_filter(state, tooling, &soql.object, f)?,
        None => Vec::new(),
    };
    Ok(rows
        .iter()
        .filter(|row| {
            filter.iter().all(|any| {
                any.iter().any(|p| match p {
                    Predicate::Eq(field, value) => {
                        values_equal(&resolve(&tables, row, field), value)
                    }
                    Predicate::In(field, values) => {
                        let v = resolve(&tables, row, field);
                        values.iter().any(|x| values_equal(&v, x))
                    }
                    Predicate::Since(field, start) => {
                        runtime_org::time_of(&resolve(&tables, row, field))
                            .is_some_and(|t| t >= *start)
                    }
                    Predicate::NotNull(field) => !resolve(&tables, row, field).is_null(),
                })
            })
        })
        .filter(|row| runtime_org::visible(state, &soql.object, row))
        .collect())
}

fn attributes(object: &str, version: &str, row: &Value, tooling: bool) -> Value {
    let id = row.get("Id").and_then(Value::as_str).unwrap_or("");
    let prefix = if tooling { "tooling/" } else { "" };
    json!({"type": object, "url": format!("/services/data/v{version}/{prefix}sobjects/{object}/{id}")})
}

/// Projects a row onto the selected fields, with nested relationship objects.
fn project(
    tables: &Tables,
    version: &str,
    object: &str,
    row: &Value,
    fields: &[String],
    tooling: bool,
) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(
        "attributes".to_string(),
        attributes(object, version, row, tooling),
    );
    for field in fields {
        let segments: Vec<&str> = field.split('.').collect();
        if segments.len() == 1 {
            let key = row
                .as_object()
                .and_then(|m| m.keys().find(|k| k.eq_ignore_ascii_case(field)).cloned())
                .unwrap_or_else(|| field.clone());
            out.insert(key, get_ci(row, field).cloned().unwrap_or(Value::Null));
            continue;
        }
        // Walk relationships, creating nested objects.
        let mut target = &mut out;
        let mut current = row;
        for (i, segment) in segments.iter().enumerate() {
            if i + 1 == segments.len() {
                target.insert(
                    segment.to_string(),
                    get_ci(current, segment).cloned().unwrap_or(Value::Null),
                );
                break;
            }
            let next = get_ci(current, &format!("{segment}Id"))
                .and_then(Value::as_str)
                .and_then(|id| tables.index.get(id).copied());
            if let Some(next_row) = next {
                let next_object = tables
                    .tables
                    .iter()
                    .find(|(_, rows)| rows.iter().any(|r| std::ptr::eq(r, next_row)))
                    .map(|(name, _)| name.clone())
                    .unwrap_or_default();
                let entry = target.entry(segment.to_string()).or_insert_with(|| {
                    let mut m = serde_json::Map::new();
                    m.insert(
                        "attributes".to_string(),
                        attributes(&next_object, version, next_row, tooling),
                    );
                    Value::Object(m)
                });
                if entry.is_null() {
                    break;
                }
                target = entry.as_object_mut().expect("relationship object");
                current = next_row;
            } else {
                target.insert(segment.to_string(), Value::Null);
                break;
            }
        }
    }
    Value::Object(out)
}

fn invalid_field_fault(state: &State, object: &str, text: &str) -> Option<SoqlError> {
    for f in &state.faults {
        if let Fault::InvalidField { field } = &f.fault {
            let Some(pos) = text.to_ascii_lowercase().find(&field.to_ascii_lowercase()) else {
                continue;
            };
            return Some(soql_error(
                "INVALID_FIELD",
                format!(
                    "\n{text}\n{}^\nERROR at Row:1:Column:{}\nNo such column '{field}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                    " ".repeat(pos),
                    pos + 1
                ),
            ));
        }
    }
    None
}

fn run_soql(state: &State, version: &str, text: &str, tooling: bool) -> Reply {
    match run_soql_inner(state, version, text, tooling) {
        Ok(records) => {
            let object = parse_soql(text).map(|q| q.object).unwrap_or_default();
            first_page(state, version, records, tooling, &object)
        }
        Err(e) => Reply::errors(e.status, e.code, &e.message),
    }
}

fn run_soql_inner(
    state: &State,
    version: &str,
    text: &str,
    tooling: bool,
) -> Result<Vec<Value>, SoqlError> {
    let soql = parse_soql(text)?;
    if let Some(e) = invalid_field_fault(state, &soql.object, text) {
        return Err(e);
    }
    let rows = select_rows(state, tooling, &soql)?;
    let tables = Tables::new(state, tooling);
    let fields: Vec<String> = soql
        .select
        .iter()
        .filter_map(|s| match s {
            SelectItem::Field(f) => Some(f.clone()),
            SelectItem::Child { .. } => None,
        })
        .collect();
    let mut out = Vec::new();
    for row in rows {
        let mut projected = project(&tables, version, &soql.object, row, &fields, tooling);
        for item in &soql.select {
            let SelectItem::Child {
                relationship,
                fields,
            } = item
            else {
                continue;
            };
            let (child_object, fk) = child_relationship(relationship).ok_or_else(|| {
                soql_error(
                    "INVALID_TYPE",
                    format!("Didn't understand relationship '{relationship}' in FROM part of query call."),
                )
            })?;
            let id = row.get("Id").cloned().unwrap_or(Value::Null);
            let children: Vec<Value> = tables
                .table(child_object)
                .map(|rows| {
                    rows.iter()
                        .filter(|c| get_ci(c, fk).is_some_and(|v| values_equal(v, &id)))
                        .map(|c| project(&tables, version, child_object, c, fields, tooling))
                        .collect()
                })
                .unwrap_or_default();
            let value = if children.is_empty() {
                Value::Null
            } else {
                json!({"totalSize": children.len(), "done": true, "records": children})
            };
            projected
                .as_object_mut()
                .expect("row object")
                .insert(relationship.clone(), value);
        }
        out.push(projected);
    }
    runtime_org::apply_order_and_limit(&mut out, soql.order.as_ref(), soql.limit);
    Ok(out)
}

fn first_page(
    state: &State,
    version: &str,
    records: Vec<Value>,
    tooling: bool,
    object: &str,
) -> Reply {
    let total = records.len();
    page(state, version, records, total, tooling, object)
}

fn page(
    state: &State,
    version: &str,
    mut records: Vec<Value>,
    total: usize,
    tooling: bool,
    object: &str,
) -> Reply {
    if records.len() <= state.page_size {
        return Reply::json(
            200,
            &json!({"totalSize": total, "done": true, "records": records}),
        );
    }
    let rest = records.split_off(state.page_size);
    let n = state.next_cursor.fetch_add(1, Ordering::SeqCst);
    let cursor = format!("01gXX{n:013}-{}", total - rest.len());
    state
        .cursors
        .lock()
        .unwrap()
        .insert(cursor.clone(), (rest, tooling, object.to_string()));
    let prefix = if tooling { "tooling/" } else { "" };
    let steered = state.faults.iter().find_map(|f| match &f.fault {
        Fault::NextRecordsUrl { object: o, url } if o.eq_ignore_ascii_case(object) => {
            Some(url.clone())
        }
        _ => None,
    });
    Reply::json(
        200,
        &json!({
            "totalSize": total,
            "done": false,
            "nextRecordsUrl": steered.unwrap_or_else(|| format!("/services/data/v{version}/{prefix}query/{cursor}")),
            "records": records
        }),
    )
}

fn next_page(state: &State, version: &str, cursor: &str) -> Reply {
    let Some((records, tooling, object)) = state.cursors.lock().unwrap().remove(cursor) else {
        return Reply::errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    };
    if has_fault(
        state,
        |f| matches!(f, Fault::RepeatNextRecordsUrl { object: o } if o.eq_ignore_ascii_case(&object)),
    ) {
        // The same page and the same locator again, for ever.
        let shown: Vec<Value> = records.iter().take(state.page_size).cloned().collect();
        state
            .cursors
            .lock()
            .unwrap()
            .insert(cursor.to_string(), (records, tooling, object));
        let prefix = if tooling { "tooling/" } else { "" };
        return Reply::json(
            200,
            &json!({
                "totalSize": shown.len() + 1,
                "done": false,
                "nextRecordsUrl": format!("/services/data/v{version}/{prefix}query/{cursor}"),
                "records": shown
            }),
        );
    }
    let total: usize = cursor
        .rsplit('-')
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0)
        + records.len();
    page(state, version, records, total, tooling, &object)
}

/// The SOAP fault of the first `Fault::ReadMetadataRefused` naming one of `types`, if any
/// (`readMetadata` and `listMetadata` are refused alike).
fn metadata_refused(state: &State, types: &[String]) -> Option<Reply> {
    state.faults.iter().find_map(|f| match &f.fault {
        Fault::ReadMetadataRefused {
            metadata_type: t,
            code,
        } if types.contains(t) => Some(soap_fault(
            code,
            &format!("insufficient access rights on {t}"),
        )),
        _ => None,
    })
}

/// `listMetadata`: every fixture document of the queried types, as `FileProperties`.
fn list_metadata(state: &State, body: &str) -> Reply {
    let types = element_texts(body, "type");
    if let Some(refused) = metadata_refused(state, &types) {
        return refused;
    }
    let metadata = state.metadata.lock().unwrap();
    let mut results = String::new();
    for (t, name) in metadata.keys() {
        if types.contains(t) {
            results.push_str(&format!(
                "<result><fullName>{name}</fullName><type>{t}</type></result>"
            ));
        }
    }
    Reply::xml(
        200,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><listMetadataResponse>{results}</listMetadataResponse></soapenv:Body></soapenv:Envelope>"#
        ),
    )
}
