//! What the reads returned, before mapping: one outcome per query, the `VoiceCall` describe,
//! one answer per `readMetadata` call and the auditing user. Refusals are kept as data with
//! their reason; the mapping turns them into "not collected".

use std::collections::BTreeMap;

use serde_json::Value;

use super::soap::{ListedComponent, MetadataRecord};
use super::soql::{OptionalField, QueryId, QuerySpec};
use crate::snapshot::metadata::MetadataKind;

/// What one query gave.
#[derive(Debug, Clone)]
pub(crate) enum QueryOutcome {
    /// All rows, and the optional fields left out after `INVALID_FIELD` with the reason.
    Rows {
        records: Vec<Value>,
        dropped: Vec<(OptionalField, String)>,
    },
    /// Refused or unreadable; `reason` names the errorCode and the endpoint.
    Failed {
        code: Option<String>,
        message: String,
        reason: String,
    },
}

/// Everything the reads returned, before mapping.
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    pub queries: BTreeMap<QueryId, (QuerySpec, QueryOutcome)>,
    pub voice_call: Option<Result<bool, String>>,
    pub metadata: BTreeMap<MetadataKind, Result<Vec<MetadataRecord>, SoapFailure>>,
    /// What each `listMetadata` call named, by the types it asked for.
    pub listed: Vec<(Vec<MetadataKind>, ListResult)>,
}

impl Gathered {
    /// Keeps a job's result; a query answered again (a follow-up) replaces its first outcome.
    pub fn absorb(&mut self, result: JobResult) {
        match result {
            JobResult::Queries(results) => {
                for (spec, outcome) in results {
                    self.queries.insert(spec.id, (spec, outcome));
                }
            }
            JobResult::VoiceCall(r) => self.voice_call = Some(r),
            JobResult::Metadata(kind, r) => {
                self.metadata.insert(kind, r);
            }
            JobResult::Listed(kinds, r) => self.listed.push((kinds, r)),
        }
    }

    /// A query's rows and the optional fields it ran without, or why it has none.
    pub fn rows(&self, id: QueryId) -> Option<Result<Rows<'_>, &str>> {
        self.queries.get(&id).map(|(_, outcome)| match outcome {
            QueryOutcome::Rows { records, dropped } => Ok((records.as_slice(), dropped.as_slice())),
            QueryOutcome::Failed { reason, .. } => Err(reason.as_str()),
        })
    }
}

/// A query's rows and the optional fields it was run without.
pub(crate) type Rows<'a> = (&'a [Value], &'a [(OptionalField, String)]);

/// What one `listMetadata` call named, or why it named nothing.
pub(crate) type ListResult = Result<Vec<ListedComponent>, SoapFailure>;

/// The result of one job.
pub(crate) enum JobResult {
    Queries(Vec<(QuerySpec, QueryOutcome)>),
    VoiceCall(Result<bool, String>),
    Metadata(MetadataKind, Result<Vec<MetadataRecord>, SoapFailure>),
    Listed(Vec<MetadataKind>, ListResult),
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
