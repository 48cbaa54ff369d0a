//! Which follow-up requests run after a wave of reads: a query refused with `INVALID_FIELD` on
//! one of its optional fields runs once more without them, and in candidate mode the
//! profile-owned permission sets the candidates' assignments did not return are asked for.
//! The decision reads what came back ([`Gathered`]); it never maps anything.

use std::collections::{BTreeMap, BTreeSet};

use super::fallback;
use super::gathered::{Gathered, JobResult, QueryOutcome};
use super::rest::{boolean, child_rows, string};
use super::soql::{self, OptionalField, QueryId, QuerySpec};

/// What the follow-ups asked so far.
#[derive(Debug, Default)]
pub(crate) struct FollowUps {
    /// Queries retried without optional fields: the column Salesforce named, and its message.
    retry_cause: BTreeMap<QueryId, (Option<String>, String)>,
    candidate_follow_up_done: bool,
    /// Candidate mode's permission sets (for the candidate semi-join's fallback).
    candidate_sets: Vec<String>,
    /// Queries whose refused semi-join was replaced by plain queries.
    fell_back: BTreeSet<QueryId>,
    /// Profile Ids looked up by API name, in query order.
    profiles_asked: Vec<String>,
    named_credential_fallback_done: bool,
}

impl FollowUps {
    pub fn new(candidate_sets: &[String]) -> Self {
        FollowUps {
            candidate_sets: candidate_sets.to_vec(),
            ..FollowUps::default()
        }
    }

    /// The queries of the next follow-up wave; empty when nothing is left to ask.
    pub fn next_wave(&mut self, g: &Gathered) -> Vec<QuerySpec> {
        let mut queries = self.take_retries(g);
        queries.extend(self.take_fallbacks(g, &queries));
        // After the retries: a retried candidate query is waited for, not given up on.
        let waiting_for_candidates = queries.iter().any(|q| {
            matches!(
                q.id,
                QueryId::CandidateUsers | QueryId::CandidateUsersByName
            )
        });
        if !waiting_for_candidates {
            queries.extend(self.candidate_profile_follow_up(g));
        }
        if !self.named_credential_fallback_done {
            self.named_credential_fallback_done = true;
            queries.extend(fallback::named_credential_fallback(g));
        }
        // Profiles by API name once every query naming profiles has its final answer.
        if !queries.iter().any(|q| fallback::touches_profiles(q.id)) {
            let ids = fallback::profile_ids(g);
            queries.extend(fallback::profile_lookups(&ids, &mut self.profiles_asked));
        }
        queries
    }

    /// Plain queries for semi-joins Salesforce refused for their form (once each); `retries`
    /// are this wave's retries without optional fields, which come first.
    fn take_fallbacks(&mut self, g: &Gathered, retries: &[QuerySpec]) -> Vec<QuerySpec> {
        let mut out = Vec::new();
        for (id, (spec, outcome)) in &g.queries {
            if self.fell_back.contains(id)
                || retries.iter().any(|r| r.id == *id)
                || !fallback::refused_form(outcome)
            {
                continue;
            }
            if let Some(queries) = fallback::semi_join_fallback(spec, g, &self.candidate_sets) {
                self.fell_back.insert(*id);
                out.extend(queries);
            }
        }
        out
    }

    /// Notes, on the answer to a retried query, which optional fields it ran without and why.
    pub fn annotate(&self, result: &mut JobResult) {
        let JobResult::Queries(results) = result else {
            return;
        };
        for (spec, outcome) in results {
            if let (QueryOutcome::Rows { dropped, .. }, Some((column, message))) =
                (outcome, self.retry_cause.get(&spec.id))
            {
                *dropped = dropped_reasons(spec, column.as_deref(), message);
            }
        }
    }

    /// Queries that failed with `INVALID_FIELD` on an optional field, to run again without
    /// their optional fields (once).
    fn take_retries(&mut self, g: &Gathered) -> Vec<QuerySpec> {
        let mut out = Vec::new();
        for (id, (spec, outcome)) in &g.queries {
            let QueryOutcome::Failed {
                code: Some(code),
                message,
                ..
            } = outcome
            else {
                continue;
            };
            if code != "INVALID_FIELD"
                || spec.optional.is_empty()
                || self.retry_cause.contains_key(id)
            {
                continue;
            }
            let column = soql::invalid_column(message).map(str::to_string);
            let optional_named = column.as_deref().is_none_or(|c| {
                spec.optional
                    .iter()
                    .any(|o| last_segment(o.soql).eq_ignore_ascii_case(c))
            });
            if optional_named {
                out.push(spec.without_optional());
            }
        }
        for spec in &out {
            if let Some((_, QueryOutcome::Failed { message, .. })) = g.queries.get(&spec.id) {
                let column = soql::invalid_column(message).map(str::to_string);
                self.retry_cause.insert(spec.id, (column, message.clone()));
            }
        }
        out
    }

    /// Candidate mode: the profile-owned sets of candidates whose profile set was not among
    /// their assignments (asked once, after the candidates are known).
    fn candidate_profile_follow_up(&mut self, g: &Gathered) -> Vec<QuerySpec> {
        if self.candidate_follow_up_done {
            return Vec::new();
        }
        let Some((_, outcome)) = g.queries.get(&QueryId::CandidateUsers) else {
            self.candidate_follow_up_done = true;
            return Vec::new();
        };
        let records = match outcome {
            QueryOutcome::Rows { records, .. } => records,
            QueryOutcome::Failed { .. } => {
                // Wait for a pending retry or fallback of the candidate query; otherwise give up.
                let retried = self.retry_cause.contains_key(&QueryId::CandidateUsers)
                    && !matches!(g.queries.get(&QueryId::CandidateUsers), Some((s, _)) if !s.without.is_empty());
                let falling_back = !self.fell_back.contains(&QueryId::CandidateUsers)
                    && fallback::refused_form(outcome);
                let pending = retried || falling_back;
                if !pending {
                    self.candidate_follow_up_done = true;
                }
                return Vec::new();
            }
        };
        self.candidate_follow_up_done = true;
        let by_name = match g.rows(QueryId::CandidateUsersByName) {
            Some(Ok((rows, _))) => rows,
            _ => &[],
        };
        let mut missing = BTreeSet::new();
        for user in records.iter().chain(by_name) {
            let Some(profile_id) = string(user, "ProfileId") else {
                continue;
            };
            let covered = child_rows(user).iter().any(|a| {
                boolean(a, "PermissionSet.IsOwnedByProfile") == Some(true)
                    && string(a, "PermissionSet.ProfileId").as_deref() == Some(profile_id.as_str())
            });
            if !covered {
                missing.insert(profile_id);
            }
        }
        if missing.is_empty() {
            Vec::new()
        } else {
            vec![soql::profile_permission_sets(
                &missing.into_iter().collect::<Vec<_>>(),
            )]
        }
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn dropped_reasons(
    spec: &QuerySpec,
    column: Option<&str>,
    message: &str,
) -> Vec<(OptionalField, String)> {
    let summary = message
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("field not available");
    spec.without
        .iter()
        .map(|f| {
            let named = column.is_some_and(|c| last_segment(f.soql).eq_ignore_ascii_case(c));
            let reason = if named || column.is_none() {
                format!("INVALID_FIELD: {summary} ({})", f.soql)
            } else {
                format!(
                    "not read: the query was retried without its optional fields after INVALID_FIELD on `{}`",
                    column.unwrap_or_default()
                )
            };
            (*f, reason)
        })
        .collect()
}
