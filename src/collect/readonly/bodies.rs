//! The bodies the allow-list accepts on its two `POST`s that are not the token request: a
//! Composite of `GET`s and a SOAP body of one `readMetadata` or `listMetadata` call.

use super::{Endpoint, endpoint};

/// Every subrequest of a Composite body must be a body-less `GET` of a query or describe
/// resource, its URL held to the same path rules as a request of its own.
pub(super) fn check_composite(json: &str) -> Result<(), String> {
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
        let path = url.split('?').next().unwrap_or_default();
        if path.contains('#')
            || !matches!(endpoint(path), Some(Endpoint::Query | Endpoint::Describe))
        {
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
pub(super) fn check_soap_operation(xml: &str) -> Result<(), String> {
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
