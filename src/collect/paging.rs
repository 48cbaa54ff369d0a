//! Query results: the rows of a query answer, following `nextRecordsUrl` (of the result and of
//! its child subqueries) for at most [`MAX_PAGES_PER_QUERY`] pages, and what a failed query
//! answer means for the query.

use std::collections::HashSet;

use serde_json::Value;

use super::error::CollectError;
use super::gathered::QueryOutcome;
use super::read::{JsonAnswer, read_json, refusal};
use super::request::PlannedRequest;
use super::rest;
use super::transport::{Transport, is_success};
use super::url::display_url;

/// Pages read per query result (the first included) before giving up on it: at 2,000 records a
/// page, far more than an ECI audit reads; past it the run ends with exit 2, naming the limit.
pub const MAX_PAGES_PER_QUERY: u32 = 200;

/// A failed query: Salesforce's errorCode and message, and where it came from.
pub(crate) fn failed(
    code: Option<String>,
    message: String,
    endpoint: &str,
    t: &Transport,
) -> QueryOutcome {
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
pub(crate) fn query_json(
    answer: JsonAnswer,
    endpoint: &str,
    t: &Transport,
) -> Result<Value, QueryOutcome> {
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

/// All rows of a query result: further pages and child-subquery pages fetched. The `u32` is
/// the number of sequential round trips that took.
pub(crate) async fn query_rows(
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
/// [`MAX_PAGES_PER_QUERY`] pages in all (past it: [`CollectError::TooManyPages`]) and never
/// twice to the same URL. Returns why it stopped early (a looping locator: the query is then
/// not collected) and the round trips made.
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
        if !seen.insert(locator_key(&url)) {
            let message = format!(
                "nextRecordsUrl `{}` repeated after {pages} pages (the query locator loops); stopped reading this result",
                display_url(&url)
            );
            return Ok((Some(failed(None, message, endpoint, t)), trips));
        }
        if pages >= MAX_PAGES_PER_QUERY {
            // A limit that is hit ends the run, naming it (exit 2).
            return Err(CollectError::TooManyPages {
                limit: MAX_PAGES_PER_QUERY,
                records: records.len(),
                endpoint: endpoint.to_string(),
            });
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

/// A `nextRecordsUrl` as the server will read it (dot segments and backslashes resolved, the
/// query string and fragment dropped), so that a locator cycling through spellings of the same
/// page is caught at its first repeat too.
fn locator_key(url: &str) -> String {
    ::url::Url::parse("https://org.invalid/")
        .and_then(|base| base.join(url))
        .map_or_else(|_| url.to_string(), |u| u.path().to_string())
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
        let shown = display_url(path);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_locator_share_a_key() {
        let key = locator_key("/services/data/v66.0/query/01gXX-2000");
        for spelling in [
            "/services/data/v66.0/query/./01gXX-2000",
            "/services/data/v66.0/query/x/../01gXX-2000",
            "/services/data/v66.0/query/%2e/01gXX-2000",
            "/services/data/v66.0\\query\\01gXX-2000",
            "/services/data/v66.0/query/01gXX-2000?again#1",
        ] {
            assert_eq!(locator_key(spelling), key, "{spelling}");
        }
        assert_ne!(locator_key("/services/data/v66.0/query/01gXX-4000"), key);
    }
}
