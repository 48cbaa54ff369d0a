//! The read-only allow-list: the one function that decides whether a [`PlannedRequest`] may be
//! sent. The transport calls it before every request and refuses anything else before a byte
//! leaves the machine:
//!
//! - `GET`, without a body;
//! - `POST /services/oauth2/token` with a form body (getting a token);
//! - `POST /services/data/vNN.N/composite` whose JSON subrequests are all `GET`s of
//!   `/services/data/…` resources (checked on the exact bytes that will be sent);
//! - `POST /services/Soap/m/NN.N` whose SOAP body is a `readMetadata` or `listMetadata` call.

use super::request::{HttpMethod, PlannedRequest, RequestBody};

/// Checks a request against the read-only allow-list. `Err` carries the reason.
pub(crate) fn check_read_only(req: &PlannedRequest) -> Result<(), String> {
    let path = req.path.as_str();
    if !path.starts_with('/') || path.contains("..") || path.contains(['?', '#']) {
        return Err(format!("unexpected path `{path}`"));
    }
    match req.method {
        HttpMethod::Get => match req.body {
            RequestBody::None => Ok(()),
            _ => Err("a GET must not carry a body".to_string()),
        },
        HttpMethod::Post => {
            if path == "/services/oauth2/token" {
                return match req.body {
                    RequestBody::Form(_) => Ok(()),
                    _ => Err("the token endpoint takes a form body".to_string()),
                };
            }
            if let Some(version) = path
                .strip_prefix("/services/data/v")
                .and_then(|rest| rest.strip_suffix("/composite"))
            {
                if !is_version(version) {
                    return Err(format!("unexpected composite path `{path}`"));
                }
                return match &req.body {
                    RequestBody::Json(json) => check_composite(json),
                    _ => Err("a composite request takes a JSON body".to_string()),
                };
            }
            if let Some(version) = path.strip_prefix("/services/Soap/m/") {
                if !is_version(version) {
                    return Err(format!("unexpected Metadata API path `{path}`"));
                }
                return match &req.body {
                    RequestBody::Soap(xml) => check_soap_operation(xml),
                    _ => Err("a Metadata API call takes a SOAP body".to_string()),
                };
            }
            Err("POST is only allowed to the token endpoint, Composite (GET subrequests) and readMetadata/listMetadata".to_string())
        }
        other => Err(format!("{other} is never allowed")),
    }
}

/// `NN.N`: an API version as it appears in a path.
pub(crate) fn is_version(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !major.is_empty()
        && !minor.is_empty()
        && major.bytes().all(|b| b.is_ascii_digit())
        && minor.bytes().all(|b| b.is_ascii_digit())
}

/// Every subrequest of a Composite body must be a body-less `GET` of a REST data resource.
fn check_composite(json: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("composite body is not JSON: {e}"))?;
    let subrequests = value
        .get("compositeRequest")
        .and_then(|v| v.as_array())
        .ok_or("composite body has no compositeRequest array")?;
    if subrequests.is_empty() {
        return Err("composite body has no subrequests".to_string());
    }
    for (i, sub) in subrequests.iter().enumerate() {
        let method = sub.get("method").and_then(|m| m.as_str()).unwrap_or("");
        if method != "GET" {
            return Err(format!(
                "composite subrequest {i} uses method `{method}`, only GET is allowed"
            ));
        }
        let url = sub.get("url").and_then(|u| u.as_str()).unwrap_or("");
        if !url.starts_with("/services/data/v") || url.contains("..") {
            return Err(format!("composite subrequest {i} reads an unexpected URL"));
        }
        if sub.get("body").is_some_and(|b| !b.is_null()) {
            return Err(format!("composite subrequest {i} carries a body"));
        }
    }
    Ok(())
}

/// The SOAP body must hold exactly one element, `readMetadata` or `listMetadata`. Outside it
/// (depth 0) only whitespace, comments and a leading XML declaration are accepted: text,
/// CDATA, entity references, processing instructions, a DOCTYPE or a stray end tag there could
/// make the server see another envelope than the one checked. DOCTYPEs and processing
/// instructions are refused anywhere.
fn check_soap_operation(xml: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut operations = Vec::new();
    let mut first = true;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("SOAP body is not well-formed XML: {e}"))?;
        let at_start = std::mem::replace(&mut first, false);
        match event {
            Event::Start(e) => {
                if depth == 0 {
                    operations.push(e.local_name().as_ref().to_string());
                }
                depth += 1;
            }
            Event::Empty(e) => {
                if depth == 0 {
                    operations.push(e.local_name().as_ref().to_string());
                }
            }
            Event::End(_) if depth == 0 => {
                return Err("SOAP body closes an element it did not open".to_string());
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            Event::DocType(_) => return Err("SOAP body must not hold a DOCTYPE".to_string()),
            Event::PI(_) => {
                return Err("SOAP body must not hold processing instructions".to_string());
            }
            Event::Decl(_) if at_start => {}
            Event::Decl(_) => {
                return Err("an XML declaration is only allowed at the start".to_string());
            }
            Event::Comment(_) => {}
            Event::Text(t) if depth == 0 => {
                if !t.xml10_content().trim().is_empty() {
                    return Err("SOAP body has text outside the operation".to_string());
                }
            }
            Event::CData(_) | Event::GeneralRef(_) if depth == 0 => {
                return Err("SOAP body has text outside the operation".to_string());
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {}
        }
    }
    if depth != 0 {
        return Err("SOAP body leaves an element open".to_string());
    }
    match operations.as_slice() {
        [op] if op == "readMetadata" || op == "listMetadata" => Ok(()),
        [op] => Err(format!(
            "Metadata API operation `{op}` is not allowed, only readMetadata and listMetadata"
        )),
        _ => Err("the SOAP body must hold exactly one operation".to_string()),
    }
}

#[cfg(test)]
mod tests;
