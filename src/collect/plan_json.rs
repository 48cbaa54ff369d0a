//! `check --print-plan --format json`: every query the audit runs, in a form a person can
//! paste into Workbench or `sf data query`, plus the follow-up queries that only run when an
//! answer calls for them (profiles by API name, semi-join fallbacks, the Tooling named
//! credentials). For checking a new org by hand before trusting an audit.

use serde_json::{Value, json};

use super::api::{CollectOptions, plan};
use super::error::CollectError;
use super::request::PlannedRequest;
use super::soql::{self, QuerySpec};

/// The plan as JSON: `requests` (what `--print-plan` lists, with every query paste-ready) and
/// `conditional_queries` (what may follow, with when).
///
/// # Errors
///
/// The same as [`plan`]: an option that a live run would refuse.
pub fn plan_json(opts: &CollectOptions) -> Result<Value, CollectError> {
    let requests: Vec<Value> = plan(opts)?.iter().map(request_json).collect();
    let mut conditional = Vec::new();
    let profile = soql::profile_api_name(0, "<profile Id>");
    conditional.push(query_json(
        &profile.soql(),
        true,
        "for each distinct profile Id of the users read and of the connected app's access list (Tooling allows FullName only in a one-row query): the language-independent API name (`Admin`, `Standard`)",
    ));
    for (spec, when) in fallback_examples(opts) {
        conditional.push(query_json(&spec.soql(), spec.tooling, &when));
    }
    let tooling_nc = soql::tooling_named_credentials();
    conditional.push(query_json(
        &tooling_nc.soql(),
        true,
        "when readMetadata NamedCredential is refused: the fields it would have given",
    ));
    Ok(json!({
        "requests": requests,
        "conditional_queries": conditional,
    }))
}

fn request_json(req: &PlannedRequest) -> Value {
    let tooling = req.path.contains("/tooling/");
    let mut out = json!({
        "phase": req.phase,
        "method": req.method.to_string(),
        "path": req.path,
        "purpose": req.purpose,
        "counts_against_limit": req.counts_against_limit,
    });
    if !req.soql.is_empty() {
        out["queries"] = Value::Array(
            req.soql
                .iter()
                .map(|q| query_json(q, tooling, "always"))
                .collect(),
        );
    }
    out
}

/// One query: the SOQL, which API runs it, and the command lines that run it by hand.
fn query_json(soql: &str, tooling: bool, when: &str) -> Value {
    let tooling_flag = if tooling { " --use-tooling-api" } else { "" };
    json!({
        "soql": soql,
        "api": if tooling { "tooling" } else { "data" },
        "when": when,
        "sf": format!(
            "sf data query{tooling_flag} --target-org <alias> --query {}",
            shell_double_quoted(soql)
        ),
        "workbench": if tooling {
            format!(
                "Utilities → REST Explorer → GET /services/data/v<version>/tooling/query/?q={}",
                super::url::encode_component(soql)
            )
        } else {
            "Queries → SOQL Query: paste `soql`".to_string()
        },
    })
}

/// The plain queries that stand in for each semi-join form when Salesforce refuses it.
fn fallback_examples(opts: &CollectOptions) -> Vec<(QuerySpec, String)> {
    let mut out = Vec::new();
    for spec in soql::phase2_queries(
        opts.integration_user.as_deref(),
        &opts.candidate_permission_sets,
    ) {
        if !spec.has_semi_join() {
            continue;
        }
        let when = format!(
            "when Salesforce refuses `{}` with MALFORMED_QUERY, INVALID_FIELD or INVALID_TYPE",
            spec.soql()
        );
        match spec.id {
            soql::QueryId::GuestUser | soql::QueryId::SiteAdmin | soql::QueryId::DefaultOwner => {
                out.push((
                    soql::user_by_id(&spec, Some("<user Id from the Site row>")),
                    when,
                ));
            }
            soql::QueryId::ProfilePermissionSets => out.push((
                soql::profile_set_by_profile_id(&spec, Some("<ProfileId of the integration user>")),
                when,
            )),
            soql::QueryId::CandidateUsers => {
                let sets = &opts.candidate_permission_sets;
                out.push((soql::candidates_split(&spec, sets, false), when.clone()));
                out.push((soql::candidates_split(&spec, sets, true), when));
            }
            _ => {}
        }
    }
    out
}

/// `"…"` for a POSIX shell: `\`, `"`, `$` and `` ` `` escaped, so that the SOQL's single
/// quotes and any value in it reach `sf` unchanged.
fn shell_double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_keeps_the_soql_whole() {
        assert_eq!(
            shell_double_quoted(r#"SELECT Id FROM User WHERE Username = 'a"$b`c\d'"#),
            r#""SELECT Id FROM User WHERE Username = 'a\"\$b\`c\\d'""#
        );
    }
}
