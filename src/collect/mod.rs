//! The live-org collector: reads an org through the REST, Tooling and Metadata (SOAP) APIs,
//! read-only, into a [`Snapshot`]. The only code of the crate that uses tokio and reqwest.
//!
//! Round trips after authentication (see [`plan`] for the exact requests):
//! 1. `GET /services/data/` (the API versions; skipped with [`CollectOptions::api_version`]),
//!    with `userinfo` and the Aircall ping alongside;
//! 2. everything else at once: the SOQL in Composite batches of at most 5 queries, the Tooling
//!    query, the `VoiceCall` describe and the five `readMetadata` calls;
//! 3. only when needed: queries retried without optional fields after `INVALID_FIELD`, and
//!    (candidate mode) profile-owned permission sets not returned as assignments.
//!
//! Further pages of a large result (`nextRecordsUrl`, also of child subqueries) follow their
//! query, each one more sequential round trip, counted in [`CollectStats::phases`]; the pages of
//! different queries are read concurrently. A result is read for at most
//! [`MAX_PAGES_PER_QUERY`] pages and never twice from the same `nextRecordsUrl`; otherwise that
//! query is marked not collected.
//!
//! A zero-row answer proves absence (collected, empty); a refused read never does: it marks the
//! affected collection or field *not collected* with Salesforce's `errorCode` and message.
//! Fatal answers (401, `INVALID_SESSION_ID`, `REQUEST_LIMIT_EXCEEDED`) end the collection with a
//! [`CollectError`], and so does an org that gives no HTTP answer at all
//! ([`CollectError::Transport`]). No secret ever reaches the snapshot, an error or a log; URLs
//! the caller gave are only shown as `scheme://host[:port]/path`.

mod aircall;
mod auth;
mod error;
mod map;
mod read;
mod readonly;
mod request;
mod rest;
mod secret;
mod soap;
mod soql;
mod transport;
mod url;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinSet;

pub use aircall::{
    AIRCALL_API_ID_ENV, AIRCALL_API_TOKEN_ENV, AIRCALL_BASE_URL_ENV, AIRCALL_DEFAULT_BASE_URL,
    AircallCredentials,
};
pub use auth::{ACCESS_TOKEN_ENV, AuthMethod, CLIENT_SECRET_ENV, SF_BIN_ENV, TokenFlow};
pub use error::{AuthError, CollectError, check_url};
pub use request::{HttpMethod, PlannedRequest};
pub use secret::Secret;
pub use soql::{CONNECTED_APP_NAMES, DEFAULT_CANDIDATE_PERMISSION_SET, SITE_NAME};
pub use transport::RetryPolicy;

use crate::snapshot::Snapshot;
use crate::snapshot::metadata::MetadataKind;
use map::{Gathered, QueryOutcome};
use read::{JsonAnswer, fatal, is_success, read_json, refusal};
use request::{Credential, RequestBody};
use secret::Redactor;
use soap::ReadMetadataOutcome;
use soql::QuerySpec;
use transport::{AircallAuth, Reply, Transport};

/// The newest REST API version this build knows; the collector uses the highest version the
/// org offers up to this one.
pub const MAX_API_VERSION: &str = "66.0";

/// Queries per Composite request (Salesforce allows at most 5 query subrequests).
const QUERIES_PER_COMPOSITE: usize = 5;

/// Pages read per query result (the first included) before giving up on it: at 2,000 records a
/// page, far more than an ECI audit reads; the query is then marked not collected.
pub const MAX_PAGES_PER_QUERY: u32 = 200;

/// The `readMetadata` calls: one type per call, the names the guide prescribes.
pub(crate) const METADATA_READS: [(MetadataKind, &[&str]); 5] = [
    (MetadataKind::ConnectedApp, &["ECIConnectedApp"]),
    (MetadataKind::AuthProvider, &["ECIAuthProvider"]),
    (
        MetadataKind::NamedCredential,
        &["Aircall", "ECINamedCredential"],
    ),
    (MetadataKind::CustomSite, &[soql::SITE_NAME]),
    (
        MetadataKind::ConversationalIntelligenceSettings,
        &["ConversationalIntelligence"],
    ),
];

/// What to collect and how. `Debug` shows no secret and no URL credentials.
#[derive(Clone)]
pub struct CollectOptions {
    /// How to get the access token.
    pub auth: AuthMethod,
    /// The org's My Domain URL (`--my-domain`): a URL, or a bare host meaning `https://host`;
    /// default: the origin of the instance URL.
    pub my_domain: Option<String>,
    /// A fixed REST API version (`62.0`); skips the versions request.
    pub api_version: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The integration user's username; without it, candidates are detected.
    pub integration_user: Option<String>,
    /// Permission sets (label or API name) that mark integration-user candidates; empty means
    /// [`DEFAULT_CANDIDATE_PERMISSION_SET`].
    pub candidate_permission_sets: Vec<String>,
    /// Retries on 5xx, 429 and connection failures.
    pub retry: RetryPolicy,
    /// The opt-in Aircall ping (see [`AircallCredentials::from_env`]).
    pub aircall: Option<AircallCredentials>,
}

impl CollectOptions {
    /// Defaults: 60 s timeout, 3 retries, no integration user, no Aircall check.
    pub fn new(auth: AuthMethod) -> Self {
        CollectOptions {
            auth,
            my_domain: None,
            api_version: None,
            timeout: Duration::from_secs(60),
            integration_user: None,
            candidate_permission_sets: Vec::new(),
            retry: RetryPolicy::default(),
            aircall: None,
        }
    }
}

impl fmt::Debug for CollectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectOptions")
            .field("auth", &self.auth)
            .field(
                "my_domain",
                &self.my_domain.as_deref().map(url::display_url),
            )
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("integration_user", &self.integration_user)
            .field("candidate_permission_sets", &self.candidate_permission_sets)
            .field("retry", &self.retry)
            .field("aircall", &self.aircall)
            .finish()
    }
}

/// `acme.my.salesforce.com` → `https://acme.my.salesforce.com`; URLs stay as they are.
fn normalize_my_domain(domain: &str) -> String {
    let domain = domain.trim();
    if domain.contains("://") {
        domain.to_string()
    } else {
        format!("https://{domain}")
    }
}

/// A finished collection.
#[derive(Debug, Clone)]
pub struct CollectOutcome {
    pub snapshot: Snapshot,
    pub stats: CollectStats,
}

/// What the collection cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CollectStats {
    /// HTTP requests that got an answer (any status), retries and token requests included;
    /// attempts that reached no server (connection refused, timeout) are not counted.
    pub http_requests: u32,
    /// Requests Salesforce counts against the org's daily API limit (a Composite counts once;
    /// the versions resource, userinfo and the token endpoint do not count).
    pub api_calls: u32,
    /// Retries after transient failures.
    pub retries: u32,
    /// Sequential round-trip waves after authentication: the versions request, the reads, and
    /// every further wave the reads needed (`nextRecordsUrl` pages, field retries, follow-ups).
    pub phases: u32,
    /// The org's API usage from the last `Sforce-Limit-Info` header.
    pub api_usage: Option<ApiUsage>,
}

/// `Sforce-Limit-Info: api-usage=used/allowed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApiUsage {
    pub used: u64,
    pub allowed: u64,
}

/// One read of phase 2.
#[derive(Debug, Clone)]
enum Job {
    Composite(Vec<QuerySpec>),
    Tooling(QuerySpec),
    DescribeVoiceCall,
    ReadMetadata(MetadataKind, &'static [&'static str]),
}

impl Job {
    fn request(&self, phase: u8, base: &str, version: &str) -> PlannedRequest {
        match self {
            Job::Composite(queries) => rest::composite_request(phase, base, version, queries),
            Job::Tooling(query) => rest::query_request(phase, base, version, query, true),
            Job::DescribeVoiceCall => PlannedRequest::get(
                phase,
                base,
                format!("/services/data/v{version}/sobjects/VoiceCall/describe"),
                "VoiceCall describe (object available?)",
            ),
            Job::ReadMetadata(kind, names) => PlannedRequest {
                method: HttpMethod::Post,
                body: RequestBody::Soap(soap::read_metadata_body(kind.type_name(), names)),
                credential: Credential::SoapSession,
                ..PlannedRequest::get(
                    phase,
                    base,
                    format!("/services/Soap/m/{version}"),
                    format!("readMetadata {} [{}]", kind.type_name(), names.join(", ")),
                )
            },
        }
    }
}

fn phase2_jobs(opts: &CollectOptions) -> Vec<Job> {
    let queries = soql::phase2_queries(
        opts.integration_user.as_deref(),
        &opts.candidate_permission_sets,
    );
    let mut jobs: Vec<Job> = queries
        .chunks(QUERIES_PER_COMPOSITE)
        .map(|chunk| Job::Composite(chunk.to_vec()))
        .collect();
    jobs.push(Job::Tooling(soql::installed_packages()));
    jobs.push(Job::DescribeVoiceCall);
    jobs.extend(
        METADATA_READS
            .iter()
            .map(|(kind, names)| Job::ReadMetadata(*kind, names)),
    );
    jobs
}

fn versions_request(base: &str) -> PlannedRequest {
    PlannedRequest {
        credential: Credential::None,
        counts_against_limit: false,
        ..PlannedRequest::get(1, base, "/services/data/", "API versions")
    }
}

fn userinfo_request(base: &str) -> PlannedRequest {
    PlannedRequest {
        counts_against_limit: false,
        ..PlannedRequest::get(
            1,
            base,
            "/services/oauth2/userinfo",
            "auditing user (userinfo)",
        )
    }
}

/// `62.0` or `v62.0` → `62.0`.
fn normalize_version(v: &str) -> Result<String, CollectError> {
    let v = v.trim().trim_start_matches(['v', 'V']);
    let ok = v.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    if ok {
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

/// Every HTTP request the audit would make, without making any (for `--print-plan`).
/// Conditional follow-ups (phase 3, further pages) are not listed.
///
/// Making a plan reads no secret, runs no `sf` and opens no key file, whatever `opts.auth` is;
/// the CLI builds `opts` with [`AuthMethod::PlanOnly`] (see there for the flag mapping) and
/// [`AircallCredentials::for_plan_from_env`], so that `--print-plan` needs no token:
///
/// ```
/// use eci_audit::collect::{AuthMethod, CollectOptions, plan};
/// let opts = CollectOptions::new(AuthMethod::PlanOnly {
///     instance_url: Some("https://acme.my.salesforce.com".into()),
///     token_flow: None,
/// });
/// assert!(plan(&opts).iter().any(|r| r.path == "/services/oauth2/userinfo"));
/// ```
pub fn plan(opts: &CollectOptions) -> Vec<PlannedRequest> {
    let base = opts
        .auth
        .known_instance_url()
        .and_then(|u| check_url("instance URL", u).ok())
        .unwrap_or_else(|| "<instance_url>".to_string());
    let version = opts
        .api_version
        .as_deref()
        .and_then(|v| normalize_version(v).ok())
        .unwrap_or_else(|| MAX_API_VERSION.to_string());
    let mut out = Vec::new();
    out.extend(opts.auth.planned_token_request());
    if opts.api_version.is_none() {
        out.push(versions_request(&base));
    }
    out.push(userinfo_request(&base));
    if let Some(aircall) = &opts.aircall {
        let base = check_url("Aircall base URL", &aircall.base_url)
            .unwrap_or_else(|_| "<aircall_base_url>".to_string());
        out.push(aircall::ping_request(&base));
    }
    out.extend(
        phase2_jobs(opts)
            .iter()
            .map(|job| job.request(2, &base, &version)),
    );
    out
}

/// Collects a snapshot from a live org. See the module documentation for the round trips.
///
/// An org that gives no HTTP answer at all (nothing listens, every connection fails or times
/// out) is a [`CollectError::Transport`], not a snapshot of unread facts.
pub async fn collect(opts: &CollectOptions) -> Result<CollectOutcome, CollectError> {
    let version_override = opts
        .api_version
        .as_deref()
        .map(normalize_version)
        .transpose()?;
    let my_domain = opts
        .my_domain
        .as_deref()
        .map(|d| check_url("My Domain", &normalize_my_domain(d)))
        .transpose()?;
    let mut transport = Transport::new(opts.timeout, opts.retry.clone(), Redactor::default())?;
    let aircall_base = match &opts.aircall {
        Some(a) => {
            let base = check_url("Aircall base URL", &a.base_url)?;
            if a.api_token.is_blank() {
                return Err(CollectError::InvalidOption {
                    option: "Aircall credentials",
                    reason: format!("{AIRCALL_API_TOKEN_ENV} is empty"),
                });
            }
            transport.set_aircall(AircallAuth {
                api_id: a.api_id.clone(),
                token: a.api_token.clone(),
            });
            Some(base)
        }
        None => None,
    };

    let session = auth::authenticate(&opts.auth, &transport).await?;
    let base = session.instance_url.clone();
    transport.set_session(session);
    let answers_before = transport.counters.org_responses.load(Ordering::Relaxed);

    // Phase 1: the version, with userinfo and the Aircall ping running alongside.
    let mut phases = 0u32;
    let userinfo = tokio::spawn(fetch_userinfo(transport.clone(), base.clone()));
    let aircall = match (&opts.aircall, aircall_base) {
        (Some(a), Some(url)) => {
            let (t, id) = (transport.clone(), a.api_id.clone());
            Some(tokio::spawn(
                async move { aircall::ping(&t, &url, &id).await },
            ))
        }
        _ => None,
    };
    // Stop these side reads if the collection ends early with an error.
    let _guards = (
        AbortOnDrop(userinfo.abort_handle()),
        aircall.as_ref().map(|t| AbortOnDrop(t.abort_handle())),
    );
    let version = match version_override {
        Some(v) => v,
        None => {
            phases += 1;
            pick_version(&transport, &base).await?
        }
    };

    // Phase 2: every read at once, plus the waves of further pages they needed.
    phases += 1;
    let mut gathered = Gathered::default();
    let mut set = JoinSet::new();
    for job in phase2_jobs(opts) {
        set.spawn(run_job(
            transport.clone(),
            base.clone(),
            version.clone(),
            job,
            2,
        ));
    }
    phases += drain(&mut set, &mut gathered).await?;

    // Nothing answered: an unreachable org, not an org whose every fact is unreadable.
    // (userinfo may still be on its way: wait for it before concluding.)
    let answered =
        |t: &Transport| t.counters.org_responses.load(Ordering::Relaxed) > answers_before;
    let mut userinfo = Some(userinfo);
    let mut userinfo_result = None;
    if !answered(&transport) {
        if let Some(task) = userinfo.take() {
            userinfo_result = Some(join(task).await??);
        }
        if !answered(&transport) {
            return Err(unreachable(&transport, &base));
        }
    }

    // Phase 3 (and, rarely, 4): retries without optional fields, candidates' profile sets.
    let mut follow_up_phase = 3u8;
    loop {
        let mut queries = gathered.take_retries();
        queries.extend(gathered.candidate_profile_follow_up());
        if queries.is_empty() {
            break;
        }
        phases += 1;
        for chunk in queries.chunks(QUERIES_PER_COMPOSITE) {
            let job = Job::Composite(chunk.to_vec());
            set.spawn(run_job(
                transport.clone(),
                base.clone(),
                version.clone(),
                job,
                follow_up_phase,
            ));
        }
        phases += drain(&mut set, &mut gathered).await?;
        follow_up_phase = follow_up_phase.saturating_add(1);
    }

    let userinfo = match (userinfo_result, userinfo) {
        (Some(info), _) => info,
        (None, Some(task)) => join(task).await??,
        (None, None) => None,
    };
    let aircall = match aircall {
        Some(task) => Some(join(task).await?),
        None => None,
    };

    let context = map::Context {
        instance_url: base,
        api_version: version,
        my_domain,
        integration_user: opts.integration_user.clone(),
        userinfo,
        aircall,
    };
    let snapshot = map::assemble(gathered, &context);
    let snapshot = scrub_snapshot(snapshot, &transport.redactor)?;

    let counters = &transport.counters;
    let load = |c: &std::sync::atomic::AtomicU32| c.load(Ordering::Relaxed);
    let api_usage = counters
        .api_usage
        .lock()
        .ok()
        .and_then(|u| *u)
        .map(|(used, allowed)| ApiUsage { used, allowed });
    Ok(CollectOutcome {
        snapshot,
        stats: CollectStats {
            http_requests: load(&counters.http_requests),
            api_calls: load(&counters.api_calls),
            retries: load(&counters.retries),
            phases,
            api_usage,
        },
    })
}

/// The error for an org that gave no HTTP answer to any read.
fn unreachable(t: &Transport, base: &str) -> CollectError {
    let first = t
        .counters
        .first_transport_failure
        .lock()
        .ok()
        .and_then(|f| f.clone());
    let (endpoint, detail) = first.unwrap_or_else(|| {
        (
            "/services/oauth2/userinfo".to_string(),
            "no answer".to_string(),
        )
    });
    CollectError::Transport {
        endpoint,
        detail: format!("no HTTP answer from {base} to any request: {detail}"),
    }
}

/// [`collect`] on a runtime of its own, for callers without one (it must not be called from
/// inside a tokio runtime).
pub fn collect_blocking(opts: &CollectOptions) -> Result<CollectOutcome, CollectError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CollectError::Runtime)?;
    runtime.block_on(collect(opts))
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn join<T>(task: tokio::task::JoinHandle<T>) -> Result<T, CollectError> {
    task.await
        .map_err(|e| CollectError::Internal(format!("a collection task failed: {e}")))
}

/// Absorbs every job of a wave; returns the further sequential round trips the slowest job
/// needed after its first request (pages), which the wave adds to the phase count.
async fn drain(
    set: &mut JoinSet<Result<(JobResult, u32), CollectError>>,
    gathered: &mut Gathered,
) -> Result<u32, CollectError> {
    let mut extra = 0;
    while let Some(joined) = set.join_next().await {
        let result =
            joined.map_err(|e| CollectError::Internal(format!("a collection task failed: {e}")))?;
        // A fatal answer ends the collection; dropping the set aborts the other reads.
        let (result, trips) = result?;
        extra = extra.max(trips);
        gathered.absorb(result);
    }
    Ok(extra)
}

/// Serializes, scrubs every known secret from every string, and reads the snapshot back.
fn scrub_snapshot(snapshot: Snapshot, redactor: &Redactor) -> Result<Snapshot, CollectError> {
    let internal =
        |e: serde_json::Error| CollectError::Internal(format!("snapshot round trip: {e}"));
    let mut value = serde_json::to_value(&snapshot).map_err(internal)?;
    redactor.scrub_json(&mut value);
    serde_json::from_value(value).map_err(internal)
}

/// The result of one job.
pub(crate) enum JobResult {
    Queries(Vec<(QuerySpec, QueryOutcome)>),
    VoiceCall(Result<bool, String>),
    Metadata(MetadataKind, Result<Vec<soap::MetadataRecord>, SoapFailure>),
}

/// Why a `readMetadata` call gave nothing.
#[derive(Debug, Clone)]
pub(crate) struct SoapFailure {
    pub code: Option<String>,
    pub reason: String,
}

/// The auditing user, from `/services/oauth2/userinfo`.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserInfo {
    pub username: Option<String>,
    pub organization_id: Option<String>,
}

/// Runs one job; the `u32` is the number of sequential round trips it needed after its first
/// request (further pages).
async fn run_job(
    t: Transport,
    base: String,
    version: String,
    job: Job,
    phase: u8,
) -> Result<(JobResult, u32), CollectError> {
    let req = job.request(phase, &base, &version);
    match job {
        Job::Composite(queries) => run_composite(&t, &base, &req, queries)
            .await
            .map(|(r, trips)| (JobResult::Queries(r), trips)),
        Job::Tooling(query) => {
            let (outcome, trips) = run_single_query(&t, &base, &req).await?;
            Ok((JobResult::Queries(vec![(query, outcome)]), trips))
        }
        Job::DescribeVoiceCall => describe(&t, &req).await.map(|r| (r, 0)),
        Job::ReadMetadata(kind, _) => read_metadata(&t, &req, kind).await.map(|r| (r, 0)),
    }
}

/// A failed query: Salesforce's errorCode and message, and where it came from.
fn failed(code: Option<String>, message: String, endpoint: &str, t: &Transport) -> QueryOutcome {
    let message = t.redactor.scrub(&message);
    let reason = match &code {
        Some(code) => format!("{code}: {message} ({endpoint})"),
        None => format!("{message} ({endpoint})"),
    };
    QueryOutcome::Failed {
        code,
        message,
        reason,
    }
}

/// The JSON of a successful query answer, or why the query is not collected.
fn query_json(answer: JsonAnswer, endpoint: &str, t: &Transport) -> Result<Value, QueryOutcome> {
    match answer {
        JsonAnswer::Http { status, json } => match json {
            Ok(value) if is_success(status) => Ok(value),
            Ok(value) => {
                let (code, message) = refusal(status, Some(&value));
                Err(failed(code, message, endpoint, t))
            }
            Err(detail) => Err(failed(None, detail, endpoint, t)),
        },
        JsonAnswer::NoAnswer { detail } => Err(failed(None, detail, endpoint, t)),
    }
}

/// A Composite of queries. The subrequests' further pages are followed concurrently, so the
/// round trips it needs are those of its longest page chain.
async fn run_composite(
    t: &Transport,
    base: &str,
    req: &PlannedRequest,
    queries: Vec<QuerySpec>,
) -> Result<(Vec<(QuerySpec, QueryOutcome)>, u32), CollectError> {
    let endpoint = req.path.as_str();
    let all_failed = |outcome: QueryOutcome| {
        let out = queries
            .iter()
            .map(|q| (q.clone(), outcome.clone()))
            .collect();
        (out, 0)
    };
    let value = match read_json(t, req).await? {
        // A refused Composite whose body is not JSON is named by its status alone.
        JsonAnswer::Http { status, json } if !is_success(status) => {
            let (code, message) = refusal(status, json.as_ref().ok());
            return Ok(all_failed(failed(code, message, endpoint, t)));
        }
        answer => match query_json(answer, endpoint, t) {
            Ok(value) => value,
            Err(outcome) => return Ok(all_failed(outcome)),
        },
    };
    let subresponses = match rest::parse_composite(&value) {
        Ok(s) => s,
        Err(e) => {
            let detail = format!("{endpoint}: {e}");
            return Ok(all_failed(failed(None, detail, endpoint, t)));
        }
    };
    let mut by_reference: BTreeMap<String, rest::SubResponse> = subresponses.into_iter().collect();
    let mut done: Vec<(usize, QuerySpec, QueryOutcome, u32)> = Vec::new();
    let mut pages = JoinSet::new();
    for (index, query) in queries.into_iter().enumerate() {
        let sub_endpoint = format!("{endpoint} → {}", query.id.reference());
        match by_reference.remove(query.id.reference()) {
            None => {
                let outcome = failed(
                    None,
                    "no subresponse for this query".to_string(),
                    &sub_endpoint,
                    t,
                );
                done.push((index, query, outcome, 0));
            }
            Some(sub) => {
                if let Some(e) = fatal(sub.status, Some(&sub.body), req, &sub_endpoint, t) {
                    return Err(e);
                }
                if is_success(sub.status) {
                    let (t, base, phase) = (t.clone(), base.to_string(), req.phase);
                    pages.spawn(async move {
                        let result = query_rows(&t, &base, &sub.body, &sub_endpoint, phase).await;
                        (index, query, result)
                    });
                } else {
                    let (code, message) = refusal(sub.status, Some(&sub.body));
                    done.push((index, query, failed(code, message, &sub_endpoint, t), 0));
                }
            }
        }
    }
    while let Some(joined) = pages.join_next().await {
        let (index, query, result) =
            joined.map_err(|e| CollectError::Internal(format!("a collection task failed: {e}")))?;
        let (outcome, trips) = result?;
        done.push((index, query, outcome, trips));
    }
    done.sort_by_key(|(index, ..)| *index);
    let trips = done.iter().map(|(.., trips)| *trips).max().unwrap_or(0);
    Ok((
        done.into_iter()
            .map(|(_, query, outcome, _)| (query, outcome))
            .collect(),
        trips,
    ))
}

async fn run_single_query(
    t: &Transport,
    base: &str,
    req: &PlannedRequest,
) -> Result<(QueryOutcome, u32), CollectError> {
    let endpoint = req.path.as_str();
    match query_json(read_json(t, req).await?, endpoint, t) {
        Ok(value) => query_rows(t, base, &value, endpoint, req.phase).await,
        Err(outcome) => Ok((outcome, 0)),
    }
}

/// All rows of a query result: further pages and child-subquery pages fetched. The `u32` is
/// the number of sequential round trips that took.
async fn query_rows(
    t: &Transport,
    base: &str,
    first: &Value,
    endpoint: &str,
    phase: u8,
) -> Result<(QueryOutcome, u32), CollectError> {
    let mut page = match rest::parse_query_page(first) {
        Ok(p) => p,
        Err(e) => return Ok((failed(None, e, endpoint, t), 0)),
    };
    let mut records = std::mem::take(&mut page.records);
    let next = page.next_records_url.take();
    let (stopped, mut trips) = follow_pages(t, base, next, &mut records, endpoint, phase).await?;
    if let Some(outcome) = stopped {
        return Ok((outcome, trips));
    }
    // Child subqueries (assignments) come back as nested results that may be paged too.
    for row in &mut records {
        let Some(map) = row.as_object_mut() else {
            continue;
        };
        for value in map.values_mut() {
            let Some(nested) = value.as_object() else {
                continue;
            };
            if !nested.contains_key("records") {
                continue;
            }
            let mut child = match rest::parse_query_page(value) {
                Ok(p) => p,
                Err(e) => return Ok((failed(None, e, endpoint, t), trips)),
            };
            let next = child.next_records_url.take();
            let (stopped, child_trips) =
                follow_pages(t, base, next, &mut child.records, endpoint, phase).await?;
            trips += child_trips;
            if let Some(outcome) = stopped {
                return Ok((outcome, trips));
            }
            *value = serde_json::json!({"totalSize": child.records.len(), "done": true, "records": child.records});
        }
    }
    Ok((
        QueryOutcome::Rows {
            records,
            dropped: Vec::new(),
        },
        trips,
    ))
}

/// Follows `nextRecordsUrl` from `next`, appending to `records`, for at most
/// [`MAX_PAGES_PER_QUERY`] pages in all and never twice to the same URL. Returns why it stopped
/// early (the query is then not collected) and the round trips made.
async fn follow_pages(
    t: &Transport,
    base: &str,
    mut next: Option<String>,
    records: &mut Vec<Value>,
    endpoint: &str,
    phase: u8,
) -> Result<(Option<QueryOutcome>, u32), CollectError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut pages = 1u32;
    let mut trips = 0u32;
    while let Some(url) = next.take() {
        if !seen.insert(url.clone()) {
            let message = format!(
                "nextRecordsUrl `{}` repeated after {pages} pages (the query locator loops); stopped reading this result",
                url::display_url(&url)
            );
            return Ok((Some(failed(None, message, endpoint, t)), trips));
        }
        if pages >= MAX_PAGES_PER_QUERY {
            let message = format!(
                "too many pages: the result still had more after {MAX_PAGES_PER_QUERY} pages ({} records); stopped reading it",
                records.len()
            );
            return Ok((Some(failed(None, message, endpoint, t)), trips));
        }
        pages += 1;
        trips += 1;
        match fetch_page(t, base, &url, phase).await? {
            PageRead::Page(mut p) => {
                records.append(&mut p.records);
                next = p.next_records_url;
            }
            PageRead::Failed(outcome) => return Ok((Some(outcome), trips)),
        }
    }
    Ok((None, trips))
}

/// One `nextRecordsUrl` page, or why the query it belongs to is not collected.
enum PageRead {
    Page(rest::QueryPage),
    Failed(QueryOutcome),
}

async fn fetch_page(
    t: &Transport,
    base: &str,
    url: &str,
    phase: u8,
) -> Result<PageRead, CollectError> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with("/services/data/v") {
        let shown = url::display_url(path);
        let message = format!("unexpected nextRecordsUrl `{shown}`");
        return Ok(PageRead::Failed(failed(None, message, &shown, t)));
    }
    let req = PlannedRequest::get(phase, base, path, "next page of a query result");
    Ok(match query_json(read_json(t, &req).await?, path, t) {
        Ok(value) => match rest::parse_query_page(&value) {
            Ok(page) => PageRead::Page(page),
            Err(e) => PageRead::Failed(failed(None, e, path, t)),
        },
        Err(outcome) => PageRead::Failed(outcome),
    })
}

/// `GET …/sobjects/VoiceCall/describe`: 200 means the object exists, 404 that it does not.
async fn describe(t: &Transport, req: &PlannedRequest) -> Result<JobResult, CollectError> {
    let endpoint = req.path.as_str();
    let available = match read_json(t, req).await? {
        JsonAnswer::Http { status: 200, .. } => Ok(true),
        JsonAnswer::Http { status: 404, .. } => Ok(false),
        JsonAnswer::Http { status, json } => {
            let what = match refusal(status, json.as_ref().ok()) {
                (Some(code), message) => format!("{code}: {}", t.redactor.scrub(&message)),
                (None, message) => message,
            };
            Err(format!("{what} ({endpoint})"))
        }
        JsonAnswer::NoAnswer { detail } => Err(format!("{detail} ({endpoint})")),
    };
    Ok(JobResult::VoiceCall(available))
}

/// `readMetadata` through the Metadata API (SOAP): a fault is data unless its code is fatal.
async fn read_metadata(
    t: &Transport,
    req: &PlannedRequest,
    kind: MetadataKind,
) -> Result<JobResult, CollectError> {
    let endpoint = req.path.as_str();
    let what = format!("readMetadata {} at {endpoint}", kind.type_name());
    let failure = |code: Option<String>, reason: String| {
        Ok(JobResult::Metadata(
            kind,
            Err(SoapFailure {
                code,
                reason: t.redactor.scrub(&reason),
            }),
        ))
    };
    let response = match t.send(req).await? {
        Reply::Answer(response) => response,
        Reply::NoAnswer { detail } => return failure(None, format!("{detail} ({what})")),
    };
    if response.status == 401 {
        return Err(read::session_expired(req));
    }
    let Ok(body) = std::str::from_utf8(&response.body) else {
        return failure(None, format!("response is not UTF-8 ({what})"));
    };
    match soap::parse_read_metadata(body, kind.type_name()) {
        Ok(ReadMetadataOutcome::Fault { code, message }) => {
            match read::fatal_code(&code, &message, req, endpoint, t) {
                Some(e) => Err(e),
                None => failure(Some(code.clone()), format!("{code}: {message} ({what})")),
            }
        }
        Ok(ReadMetadataOutcome::Records(records)) if response.is_success() => {
            Ok(JobResult::Metadata(kind, Ok(records)))
        }
        Ok(ReadMetadataOutcome::Records(_)) => {
            failure(None, format!("HTTP {} ({what})", response.status))
        }
        Err(detail) if response.is_success() => failure(None, format!("{detail} ({what})")),
        Err(_) => failure(
            None,
            format!("HTTP {} without a SOAP fault ({what})", response.status),
        ),
    }
}

async fn pick_version(t: &Transport, base: &str) -> Result<String, CollectError> {
    let req = versions_request(base);
    let endpoint = req.path.clone();
    let response = t.send(&req).await?.required(&req)?;
    let json = serde_json::from_slice::<Value>(&response.body).ok();
    if !response.is_success() {
        let (error_code, message) = json
            .as_ref()
            .and_then(rest::sf_error)
            .map(|(c, m)| (Some(c), t.redactor.scrub(&m)))
            .unwrap_or((None, "the versions resource failed".to_string()));
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

async fn fetch_userinfo(t: Transport, base: String) -> Result<Option<UserInfo>, CollectError> {
    let req = userinfo_request(&base);
    // The auditing user's name is a detail: without an answer the snapshot just lacks it.
    let response = match t.send(&req).await? {
        Reply::Answer(response) => response,
        Reply::NoAnswer { .. } => return Ok(None),
    };
    if response.status == 401 {
        return Err(read::session_expired(&req));
    }
    if !response.is_success() {
        return Ok(None);
    }
    let Ok(json) = serde_json::from_slice::<Value>(&response.body) else {
        return Ok(None);
    };
    let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(Some(UserInfo {
        username: text("preferred_username"),
        organization_id: text("organization_id"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_lists_every_read_without_sending() {
        let mut opts = CollectOptions::new(AuthMethod::AccessToken {
            instance_url: "https://acme.my.salesforce.com".into(),
            token: Secret::new("00Dtoken!value"),
        });
        opts.integration_user = Some("eci@acme.com".into());
        let plan = plan(&opts);
        let composites = plan
            .iter()
            .filter(|r| r.path.ends_with("/composite"))
            .count();
        assert_eq!(composites, 3);
        assert!(plan.iter().all(|r| readonly::check_read_only(r).is_ok()));
        assert!(plan.iter().all(|r| r.soql.len() <= QUERIES_PER_COMPOSITE));
        assert_eq!(
            plan.iter()
                .filter(|r| r.path.starts_with("/services/Soap/m/"))
                .count(),
            5
        );
        assert_eq!(plan[0].path, "/services/data/");
        let printed: String = plan.iter().map(|r| format!("{r}\n{r:?}")).collect();
        assert!(!printed.contains("00Dtoken!value"));
    }

    #[test]
    fn versions_are_normalized() {
        assert_eq!(normalize_version("v62.0").unwrap(), "62.0");
        assert!(normalize_version("62").is_err());
        assert!(version_key("9.0") < version_key("62.0"));
    }
}
