//! The waves of reads after authentication, one after the other: phase 1 (the API version,
//! with userinfo and the Aircall ping alongside), phase 2 (every [`Job`] at once) and the
//! follow-up waves [`FollowUps`] decides on. Each wave's further pages add to the phase count.

use std::sync::atomic::Ordering;

use serde_json::Value;
use tokio::task::JoinSet;

use super::aircall;
use super::error::CollectError;
use super::follow_up::FollowUps;
use super::gathered::{Gathered, JobResult, UserInfo};
use super::jobs::{self, Job, run_job};
use super::read;
use super::request::{PlannedRequest, USERINFO_PATH};
use super::transport::{Reply, Transport};
use super::version::pick_version;
use crate::snapshot::model::AircallCheck;

/// What the session is to read, besides the org itself.
pub(crate) struct Reads {
    /// The API version the caller fixed; `None` asks the org (one more phase).
    pub version: Option<String>,
    /// The Aircall API origin and API ID, for the ping.
    pub aircall: Option<(String, String)>,
    /// The reads of phase 2.
    pub jobs: Vec<Job>,
    /// Candidate mode's permission sets, for the candidate semi-join's fallback.
    pub candidate_sets: Vec<String>,
}

/// What the waves gave.
pub(crate) struct Waves {
    pub version: String,
    pub gathered: Gathered,
    pub userinfo: Option<UserInfo>,
    pub aircall: Option<AircallCheck>,
    /// Sequential round-trip waves: see [`CollectStats::phases`](super::CollectStats::phases).
    pub phases: u32,
}

/// Runs every wave against the org at `base`, with a transport that holds the session.
pub(crate) async fn run(
    transport: &Transport,
    base: &str,
    reads: Reads,
) -> Result<Waves, CollectError> {
    let answers_before = transport.counters.org_responses.load(Ordering::Relaxed);

    // Phase 1: the version, with userinfo and the Aircall ping running alongside.
    let mut phases = 0u32;
    let userinfo = tokio::spawn(fetch_userinfo(transport.clone(), base.to_string()));
    let aircall = reads.aircall.map(|(url, id)| {
        let t = transport.clone();
        tokio::spawn(async move { aircall::ping(&t, &url, &id).await })
    });
    // Stop these side reads if the collection ends early with an error.
    let _guards = (
        AbortOnDrop(userinfo.abort_handle()),
        aircall.as_ref().map(|t| AbortOnDrop(t.abort_handle())),
    );
    let version = if let Some(v) = reads.version {
        v
    } else {
        phases += 1;
        pick_version(transport, base).await?
    };

    // Phase 2: every read at once, plus the waves of further pages they needed.
    phases += 1;
    let mut gathered = Gathered::default();
    let mut follow_ups = FollowUps::new(&reads.candidate_sets);
    let mut set = JoinSet::new();
    for job in reads.jobs {
        set.spawn(run_job(
            transport.clone(),
            base.to_string(),
            version.clone(),
            job,
            2,
        ));
    }
    phases += drain(&mut set, &mut gathered, &follow_ups).await?;

    // Nothing answered: an unreachable org, not an org whose every fact is unreadable.
    // (userinfo may still be on its way: wait for it before concluding.)
    let answered =
        |t: &Transport| t.counters.org_responses.load(Ordering::Relaxed) > answers_before;
    let mut userinfo = Some(userinfo);
    let mut userinfo_result = None;
    if !answered(transport) {
        if let Some(task) = userinfo.take() {
            userinfo_result = Some(join(task).await??);
        }
        if !answered(transport) {
            return Err(unreachable(transport, base));
        }
    }

    // Phase 3 (and 4 only when a fallback runs): retries without optional fields, plain
    // queries for refused semi-joins, candidates' profile sets, profiles by API name, the
    // Tooling named credentials when readMetadata refused them.
    let mut follow_up_phase = 3u8;
    loop {
        let queries = follow_ups.next_wave(&gathered);
        if queries.is_empty() {
            break;
        }
        phases += 1;
        for job in jobs::composites(&queries) {
            set.spawn(run_job(
                transport.clone(),
                base.to_string(),
                version.clone(),
                job,
                follow_up_phase,
            ));
        }
        phases += drain(&mut set, &mut gathered, &follow_ups).await?;
        follow_up_phase = follow_up_phase.saturating_add(1);
    }

    let userinfo = match (userinfo_result, userinfo) {
        (Some(info), _) => info,
        (None, Some(task)) => join(task).await??,
        (None, None) => None,
    };
    let aircall = match aircall {
        Some(task) => Some(join(task).await??),
        None => None,
    };
    Ok(Waves {
        version,
        gathered,
        userinfo,
        aircall,
        phases,
    })
}

pub(crate) fn userinfo_request(base: &str) -> PlannedRequest {
    PlannedRequest {
        counts_against_limit: false,
        ..PlannedRequest::get(1, base, USERINFO_PATH, "auditing user (userinfo)")
    }
}

/// The error for an org that gave no HTTP answer to any read.
fn unreachable(t: &Transport, base: &str) -> CollectError {
    let first = t
        .counters
        .first_transport_failure
        .lock()
        .ok()
        .and_then(|f| f.clone());
    let (endpoint, detail) =
        first.unwrap_or_else(|| (USERINFO_PATH.to_string(), "no answer".to_string()));
    CollectError::Transport {
        endpoint,
        detail: format!("no HTTP answer from {base} to any request: {detail}"),
    }
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
    follow_ups: &FollowUps,
) -> Result<u32, CollectError> {
    let mut extra = 0;
    while let Some(joined) = set.join_next().await {
        let result =
            joined.map_err(|e| CollectError::Internal(format!("a collection task failed: {e}")))?;
        // A fatal answer ends the collection; dropping the set aborts the other reads.
        let (mut result, trips) = result?;
        extra = extra.max(trips);
        follow_ups.annotate(&mut result);
        gathered.absorb(result);
    }
    Ok(extra)
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
