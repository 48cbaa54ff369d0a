//! REST wire formats: query results, error arrays, Composite requests and responses, and
//! case-insensitive field access on query rows (reference §4.2–4.5).

use serde_json::Value;

use super::request::{HttpMethod, PlannedRequest, RequestBody};
use super::soql::QuerySpec;
use super::url::encode_component;

/// One page of a query result.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryPage {
    pub records: Vec<Value>,
    pub next_records_url: Option<String>,
}

/// Reads a query result body (`{"totalSize","done","records",["nextRecordsUrl"]}`).
pub(crate) fn parse_query_page(value: &Value) -> Result<QueryPage, String> {
    let records = value
        .get("records")
        .and_then(Value::as_array)
        .ok_or("query result without a records array")?
        .clone();
    let done = value.get("done").and_then(Value::as_bool).unwrap_or(true);
    let next_records_url = value
        .get("nextRecordsUrl")
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|_| !done);
    if !done && next_records_url.is_none() {
        return Err("query result not done but without nextRecordsUrl".to_string());
    }
    Ok(QueryPage {
        records,
        next_records_url,
    })
}

/// Salesforce's first `{"errorCode","message"}` from an error array (or a single object).
pub(crate) fn sf_error(value: &Value) -> Option<(String, String)> {
    let first = match value {
        Value::Array(items) => items.first()?,
        Value::Object(_) => value,
        _ => return None,
    };
    let code = first.get("errorCode").and_then(Value::as_str)?.to_string();
    let message = first
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    Some((code, message))
}

/// The query resource path (`/services/data/v66.0/query` or `…/tooling/query`).
pub(crate) fn query_path(version: &str, tooling: bool) -> String {
    if tooling {
        format!("/services/data/v{version}/tooling/query/")
    } else {
        format!("/services/data/v{version}/query/")
    }
}

/// A composite subrequest URL for a query.
fn subrequest_url(version: &str, soql: &str, tooling: bool) -> String {
    format!(
        "{}?q={}",
        query_path(version, tooling),
        encode_component(soql)
    )
}

/// `POST /services/data/vXX.X/composite` with one GET per query (at most 5 queries); for
/// Tooling queries `POST /services/data/vXX.X/tooling/composite` (Tooling queries cannot go in
/// the data Composite; reference 7b.1).
pub(crate) fn composite_request(
    phase: u8,
    base: &str,
    version: &str,
    queries: &[QuerySpec],
) -> PlannedRequest {
    let tooling = queries.first().is_some_and(|q| q.tooling);
    let subrequests: Vec<Value> = queries
        .iter()
        .map(|q| {
            serde_json::json!({
                "method": "GET",
                "referenceId": q.id.reference(),
                "url": subrequest_url(version, &q.soql(), tooling),
            })
        })
        .collect();
    let body = serde_json::json!({"allOrNone": false, "compositeRequest": subrequests});
    let names: Vec<&str> = queries.iter().map(|q| q.object).collect();
    PlannedRequest {
        method: HttpMethod::Post,
        body: RequestBody::Json(body.to_string()),
        soql: queries.iter().map(QuerySpec::soql).collect(),
        ..PlannedRequest::get(
            phase,
            base,
            if tooling {
                format!("/services/data/v{version}/tooling/composite")
            } else {
                format!("/services/data/v{version}/composite")
            },
            format!(
                "{}Composite of {} queries: {}",
                if tooling { "Tooling " } else { "" },
                queries.len(),
                names.join(", ")
            ),
        )
    }
}

/// A direct query (Tooling, or a page of `nextRecordsUrl`).
pub(crate) fn query_request(
    phase: u8,
    base: &str,
    version: &str,
    query: &QuerySpec,
    tooling: bool,
) -> PlannedRequest {
    let mut req = PlannedRequest::get(
        phase,
        base,
        query_path(version, tooling),
        format!(
            "{} query: {}",
            if tooling { "Tooling" } else { "SOQL" },
            query.object
        ),
    );
    req.query = vec![("q".to_string(), query.soql())];
    req.soql = vec![query.soql()];
    req
}

/// One subrequest answer of a Composite.
#[derive(Debug, Clone)]
pub(crate) struct SubResponse {
    pub status: u16,
    pub body: Value,
}

/// Parses `{"compositeResponse":[{"body","httpStatusCode","referenceId"}…]}`.
pub(crate) fn parse_composite(value: &Value) -> Result<Vec<(String, SubResponse)>, String> {
    let items = value
        .get("compositeResponse")
        .and_then(Value::as_array)
        .ok_or("no compositeResponse array")?;
    items
        .iter()
        .map(|item| {
            let reference = item
                .get("referenceId")
                .and_then(Value::as_str)
                .ok_or("subresponse without referenceId")?
                .to_string();
            let status = item
                .get("httpStatusCode")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .ok_or("subresponse without httpStatusCode")?;
            let body = item.get("body").cloned().unwrap_or(Value::Null);
            Ok((reference, SubResponse { status, body }))
        })
        .collect()
}

/// Case-insensitive lookup of a (dotted) field path in a query row. `None` when a key is
/// missing; `Some(Value::Null)` when the value or a relationship on the way is null.
pub(crate) fn field<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = row;
    for part in path.split('.') {
        if current.is_null() {
            return Some(current);
        }
        let map = current.as_object()?;
        current = match map.get(part) {
            Some(v) => v,
            None => map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)?,
        };
    }
    Some(current)
}

pub(crate) fn string(row: &Value, path: &str) -> Option<String> {
    match field(row, path)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn boolean(row: &Value, path: &str) -> Option<bool> {
    match field(row, path)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The rows of a `PermissionSetAssignments` child subquery.
pub(crate) fn child_rows(user: &Value) -> &[Value] {
    field(user, "PermissionSetAssignments")
        .and_then(|v| v.get("records"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

/// Whether a field is present in the row at all (null counts as present).
pub(crate) fn has(row: &Value, path: &str) -> bool {
    field(row, path).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_are_case_insensitive() {
        let row = serde_json::json!({"Id": "1", "Profile": {"Name": "System Administrator"}, "Owner": null, "AllowMergeFieldsinBody": true});
        assert_eq!(
            string(&row, "profile.name").as_deref(),
            Some("System Administrator")
        );
        assert_eq!(boolean(&row, "AllowMergeFieldsInBody"), Some(true));
        assert_eq!(field(&row, "Owner.Name"), Some(&Value::Null));
        assert_eq!(field(&row, "Missing"), None);
    }

    #[test]
    fn errors_and_pages() {
        let errors = serde_json::json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]);
        assert_eq!(
            sf_error(&errors),
            Some((
                "INVALID_SESSION_ID".into(),
                "Session expired or invalid".into()
            ))
        );
        let page = serde_json::json!({"totalSize": 2, "done": false, "nextRecordsUrl": "/services/data/v66.0/query/01g-1", "records": [{}]});
        let page = parse_query_page(&page).unwrap();
        assert_eq!(
            page.next_records_url.as_deref(),
            Some("/services/data/v66.0/query/01g-1")
        );
        assert!(parse_query_page(&serde_json::json!({"done": true})).is_err());
    }
}
