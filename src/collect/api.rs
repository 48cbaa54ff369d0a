//! The collector's public face: what to collect ([`CollectOptions`]), the requests it would
//! make ([`plan`]), the collection itself ([`collect`]) and what it gives back
//! ([`CollectOutcome`], [`CollectStats`]).

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;

use super::aircall::{self, AIRCALL_API_TOKEN_ENV, AircallCredentials};
use super::auth::{self, AuthMethod};
use super::error::{CollectError, check_url};
use super::jobs::phase2_jobs;
use super::limits::Limits;
use super::map;
use super::observe::ObserverHandle;
use super::phases::{self, Reads, userinfo_request};
use super::request::PlannedRequest;
use super::secret::Redactor;
use super::transport::{AircallAuth, RetryPolicy, Transport};
use super::url::display_url;
use super::version::{MAX_API_VERSION, normalize_version, versions_request};
use crate::snapshot::Snapshot;

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
    /// [`DEFAULT_CANDIDATE_PERMISSION_SET`](super::DEFAULT_CANDIDATE_PERMISSION_SET).
    pub candidate_permission_sets: Vec<String>,
    /// Retries on 5xx, 429 and connection failures.
    pub retry: RetryPolicy,
    /// The opt-in Aircall ping (see [`AircallCredentials::from_env`]).
    pub aircall: Option<AircallCredentials>,
    /// Bounds of the collection (response sizes, requests, time); reaching one is an error.
    pub limits: Limits,
    /// Told of each request, answer and retry while the run goes on.
    pub observer: Option<ObserverHandle>,
    /// The time the run-time evidence is stamped with (its windows count back from it);
    /// `None`: the clock at the end of the collection. The app layer passes it in.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

impl CollectOptions {
    /// Defaults: 60 s timeout, 3 retries, no integration user, no Aircall check.
    pub fn new(auth: AuthMethod) -> Self {
        CollectOptions {
            auth,
            my_domain: None,
            api_version: None,
            timeout: Duration::from_mins(1),
            integration_user: None,
            candidate_permission_sets: Vec::new(),
            retry: RetryPolicy::default(),
            aircall: None,
            limits: Limits::default(),
            observer: None,
            now: None,
        }
    }
}

impl fmt::Debug for CollectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectOptions")
            .field("auth", &self.auth)
            .field("my_domain", &self.my_domain.as_deref().map(display_url))
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("integration_user", &self.integration_user)
            .field("candidate_permission_sets", &self.candidate_permission_sets)
            .field("retry", &self.retry)
            .field("aircall", &self.aircall)
            .field("limits", &self.limits)
            .field("observer", &self.observer.is_some())
            .field("now", &self.now)
            .finish()
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

/// Every HTTP request the audit would make, without making any (for `--print-plan`).
/// Conditional follow-ups (phase 3, further pages) are not listed.
///
/// The options are checked as [`collect`] checks them (instance, login, My Domain and Aircall
/// URLs, the API version), so that a plan is never printed for options a live run refuses.
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
/// assert!(plan(&opts)?.iter().any(|r| r.path == "/services/oauth2/userinfo"));
/// # Ok::<(), eci_audit::collect::CollectError>(())
/// ```
pub fn plan(opts: &CollectOptions) -> Result<Vec<PlannedRequest>, CollectError> {
    let base = match opts.auth.known_instance_url() {
        Some(url) => check_url("instance URL", url)?,
        None => "<instance_url>".to_string(),
    };
    let version = match &opts.api_version {
        Some(v) => normalize_version(v)?,
        None => MAX_API_VERSION.to_string(),
    };
    if let Some(domain) = &opts.my_domain {
        check_url("My Domain", &crate::urls::with_scheme(domain))?;
    }
    let mut out = Vec::new();
    out.extend(opts.auth.planned_token_request()?);
    if opts.api_version.is_none() {
        out.push(versions_request(&base));
    }
    out.push(userinfo_request(&base));
    if let Some(aircall) = &opts.aircall {
        let base = check_url("Aircall base URL", &aircall.base_url)?;
        out.push(aircall::ping_request(&base));
    }
    out.extend(
        phase2_jobs(
            opts.integration_user.as_deref(),
            &opts.candidate_permission_sets,
        )
        .iter()
        .map(|job| job.request(2, &base, &version)),
    );
    Ok(out)
}

/// Collects a snapshot from a live org. See the module documentation for the round trips.
///
/// An org that gives no HTTP answer at all (nothing listens, every connection fails or times
/// out) is a [`CollectError::Transport`], not a snapshot of unread facts. The whole collection
/// is bounded by [`Limits::deadline`]: past it, every read still running is dropped (and a
/// running `sf` killed) and the result is [`CollectError::DeadlineExceeded`].
pub async fn collect(opts: &CollectOptions) -> Result<CollectOutcome, CollectError> {
    let deadline = opts.limits.deadline;
    tokio::time::timeout(deadline, Box::pin(collect_within_deadline(opts)))
        .await
        .map_err(|_| CollectError::DeadlineExceeded { deadline })?
}

async fn collect_within_deadline(opts: &CollectOptions) -> Result<CollectOutcome, CollectError> {
    let version_override = opts
        .api_version
        .as_deref()
        .map(normalize_version)
        .transpose()?;
    let my_domain = opts
        .my_domain
        .as_deref()
        .map(|d| check_url("My Domain", &crate::urls::with_scheme(d)))
        .transpose()?;
    let mut transport = Transport::new(
        opts.timeout,
        opts.retry.clone(),
        opts.limits.clone(),
        Redactor::default(),
    )?;
    transport.set_observer(opts.observer.clone());
    let aircall = match &opts.aircall {
        Some(a) => {
            let base = check_url("Aircall base URL", &a.base_url)?;
            if a.api_token.is_blank() {
                return Err(CollectError::InvalidOption {
                    option: "Aircall credentials",
                    reason: format!("{AIRCALL_API_TOKEN_ENV} is empty"),
                });
            }
            transport.set_aircall(AircallAuth {
                origin: base.clone(),
                api_id: a.api_id.clone(),
                token: a.api_token.clone(),
            });
            Some((base, a.api_id.clone()))
        }
        None => None,
    };

    let session = auth::authenticate(&opts.auth, &mut transport).await?;
    let base = session.instance_url.clone();
    transport.set_session(session);
    let reads = Reads {
        version: version_override,
        aircall,
        jobs: phase2_jobs(
            opts.integration_user.as_deref(),
            &opts.candidate_permission_sets,
        ),
        candidate_sets: opts.candidate_permission_sets.clone(),
    };
    let waves = phases::run(&transport, &base, reads).await?;

    let context = map::Context {
        instance_url: base,
        api_version: waves.version,
        my_domain,
        integration_user: opts.integration_user.clone(),
        userinfo: waves.userinfo,
        aircall: waves.aircall,
        now: opts.now.unwrap_or_else(chrono::Utc::now),
    };
    let snapshot = map::assemble(waves.gathered, &context);
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
            phases: waves.phases,
            api_usage,
        },
    })
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

/// Serializes, scrubs every known secret from every string, and reads the snapshot back.
fn scrub_snapshot(snapshot: Snapshot, redactor: &Redactor) -> Result<Snapshot, CollectError> {
    let internal =
        |e: serde_json::Error| CollectError::Internal(format!("snapshot round trip: {e}"));
    let mut value = serde_json::to_value(&snapshot).map_err(internal)?;
    redactor.scrub_json(&mut value);
    serde_json::from_value(value).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::jobs::QUERIES_PER_COMPOSITE;
    use crate::collect::readonly;
    use crate::collect::secret::Secret;

    #[test]
    fn plan_lists_every_read_without_sending() {
        let mut opts = CollectOptions::new(AuthMethod::AccessToken {
            instance_url: "https://acme.my.salesforce.com".into(),
            token: Secret::new("00Dtoken!value"),
        });
        opts.integration_user = Some("eci@acme.com".into());
        let plan = plan(&opts).unwrap();
        let composites = plan
            .iter()
            .filter(|r| r.path.ends_with("/composite"))
            .count();
        // 13 setup queries and 9 run-time ones, five to a Composite.
        assert_eq!(composites, 5);
        let soql: Vec<&String> = plan.iter().flat_map(|r| &r.soql).collect();
        for object in [
            "UserPermissionAccess",
            "OauthToken",
            "UserLogin",
            "LoginHistory",
            "SetupAuditTrail",
            "VoiceCall",
            "AppMenuItem",
        ] {
            assert!(
                soql.iter().any(|q| q.contains(&format!(" FROM {object}"))),
                "{object} not in the plan"
            );
        }
        let origins = readonly::Origins {
            org: Some("https://acme.my.salesforce.com".into()),
            ..readonly::Origins::default()
        };
        assert!(
            plan.iter()
                .all(|r| readonly::check_read_only(r, &origins).is_ok())
        );
        assert!(plan.iter().all(|r| r.soql.len() <= QUERIES_PER_COMPOSITE));
        assert_eq!(
            plan.iter()
                .filter(|r| r.path.starts_with("/services/Soap/m/"))
                .count(),
            // Five components of the guide, the External Client App's four parts, and two
            // listMetadata calls for ECAs and parts under other names.
            11
        );
        assert_eq!(plan[0].path, "/services/data/");
        let printed: Vec<String> = plan.iter().map(|r| format!("{r}\n{r:?}")).collect();
        let printed = printed.join("\n");
        assert!(!printed.contains("00Dtoken!value"));
    }
}
