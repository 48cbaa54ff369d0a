//! The reads of phase 2 and of the follow-up waves, one [`Job`] each: a Composite of up to five
//! SOQL queries, the Tooling query, the `VoiceCall` describe, and one `readMetadata` call per
//! metadata type. A job's fatal answer is an error; anything else comes back as a [`JobResult`].

use std::collections::BTreeMap;

use tokio::task::JoinSet;

use super::error::CollectError;
use super::gathered::{JobResult, QueryOutcome, SoapFailure};
use super::paging::{failed, query_json, query_rows};
use super::read::{self, JsonAnswer, fatal, read_json, refusal};
use super::request::{Credential, HttpMethod, PlannedRequest, RequestBody};
use super::rest;
use super::soap::{self, ListMetadataOutcome, METADATA_READS, ReadMetadataOutcome};
use super::soql::{self, QuerySpec};
use super::transport::{Reply, Transport, is_success};
use crate::snapshot::metadata::MetadataKind;

/// Queries per Composite request (Salesforce allows at most 5 query subrequests).
pub(crate) const QUERIES_PER_COMPOSITE: usize = 5;

/// One read of phase 2 or of a follow-up wave.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    Composite(Vec<QuerySpec>),
    Tooling(QuerySpec),
    DescribeVoiceCall,
    ReadMetadata(MetadataKind, &'static [&'static str]),
    ListMetadata(&'static [MetadataKind]),
}

impl Job {
    pub(crate) fn request(&self, phase: u8, base: &str, version: &str) -> PlannedRequest {
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
            Job::ListMetadata(kinds) => PlannedRequest {
                method: HttpMethod::Post,
                body: RequestBody::Soap(soap::list_metadata_body(kinds)),
                credential: Credential::SoapSession,
                ..PlannedRequest::get(
                    phase,
                    base,
                    format!("/services/Soap/m/{version}"),
                    format!(
                        "listMetadata [{}]",
                        kinds
                            .iter()
                            .map(|k| k.type_name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            },
        }
    }
}

/// The reads of phase 2, for the integration user (or, without one, the candidates holding
/// `candidate_sets`).
pub(crate) fn phase2_jobs(integration_user: Option<&str>, candidate_sets: &[String]) -> Vec<Job> {
    let mut queries = soql::phase2_queries(integration_user, candidate_sets);
    queries.extend(super::runtime_soql::queries(
        integration_user,
        candidate_sets,
    ));
    let mut jobs: Vec<Job> = composites(&queries).collect();
    jobs.push(Job::Tooling(soql::installed_packages()));
    jobs.push(Job::DescribeVoiceCall);
    jobs.extend(
        METADATA_READS
            .iter()
            .map(|(kind, names)| Job::ReadMetadata(*kind, names)),
    );
    jobs.extend(
        soap::METADATA_LISTS
            .iter()
            .map(|kinds| Job::ListMetadata(kinds)),
    );
    jobs
}

/// Queries batched into Composite requests of at most [`QUERIES_PER_COMPOSITE`]: the data
/// API's queries in `/composite`, the Tooling ones in `/tooling/composite`. No batch mixes the
/// two: [`rest::composite_request`] picks the endpoint from the batch's first query.
pub(crate) fn composites(queries: &[QuerySpec]) -> impl Iterator<Item = Job> + '_ {
    let (tooling, data): (Vec<QuerySpec>, Vec<QuerySpec>) =
        queries.iter().cloned().partition(|q| q.tooling);
    let data: Vec<Job> = data
        .chunks(QUERIES_PER_COMPOSITE)
        .map(|chunk| Job::Composite(chunk.to_vec()))
        .collect();
    let tooling: Vec<Job> = tooling
        .chunks(QUERIES_PER_COMPOSITE)
        .map(|chunk| Job::Composite(chunk.to_vec()))
        .collect();
    data.into_iter().chain(tooling)
}

/// Runs one job; the `u32` is the number of sequential round trips it needed after its first
/// request (further pages).
pub(crate) async fn run_job(
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
        Job::ListMetadata(kinds) => list_metadata(&t, &req, kinds).await.map(|r| (r, 0)),
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
    let what = format!("readMetadata {} at {}", kind.type_name(), req.path);
    let records = soap_call(t, req, &what, |body| {
        soap::parse_read_metadata(body, kind.type_name()).map(|outcome| match outcome {
            ReadMetadataOutcome::Records(records) => Ok(records),
            ReadMetadataOutcome::Fault { code, message } => Err((code, message)),
        })
    })
    .await?;
    Ok(JobResult::Metadata(kind, records))
}

/// `listMetadata` through the Metadata API (SOAP): like [`read_metadata`], a fault is data
/// unless its code is fatal.
async fn list_metadata(
    t: &Transport,
    req: &PlannedRequest,
    kinds: &[MetadataKind],
) -> Result<JobResult, CollectError> {
    let names: Vec<&str> = kinds.iter().map(|k| k.type_name()).collect();
    let what = format!("listMetadata {} at {}", names.join(", "), req.path);
    let listed = soap_call(t, req, &what, |body| {
        soap::parse_list_metadata(body).map(|outcome| match outcome {
            ListMetadataOutcome::Listed(listed) => Ok(listed),
            ListMetadataOutcome::Fault { code, message } => Err((code, message)),
        })
    })
    .await?;
    Ok(JobResult::Listed(kinds.to_vec(), listed))
}

/// One Metadata API (SOAP) call, `what` naming it in failures. `parse` gives what a body
/// holds, or a fault's code and message, or (`Err`) what is malformed. A fault is data
/// unless its code is fatal; so are an unanswered request, a body that is not UTF-8 and an
/// HTTP error, each redacted.
async fn soap_call<T>(
    t: &Transport,
    req: &PlannedRequest,
    what: &str,
    parse: impl FnOnce(&str) -> Result<Result<T, (String, String)>, String>,
) -> Result<Result<T, SoapFailure>, CollectError> {
    let endpoint = req.path.as_str();
    let failure = |code: Option<String>, reason: String| {
        Ok(Err(SoapFailure {
            code,
            reason: t.redactor.scrub(&reason),
        }))
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
    match parse(body) {
        Ok(Err((code, message))) => match read::fatal_code(&code, &message, req, endpoint, t) {
            Some(e) => Err(e),
            None => failure(Some(code.clone()), format!("{code}: {message} ({what})")),
        },
        Ok(Ok(found)) if response.is_success() => Ok(Ok(found)),
        Ok(Ok(_)) => failure(None, format!("HTTP {} ({what})", response.status)),
        Err(detail) if response.is_success() => failure(None, format!("{detail} ({what})")),
        Err(_) => failure(
            None,
            format!("HTTP {} without a SOAP fault ({what})", response.status),
        ),
    }
}
