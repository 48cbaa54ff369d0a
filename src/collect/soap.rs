//! Metadata API (SOAP) `readMetadata`: the calls the audit makes, the request envelope and the
//! response parser.
//!
//! Each returned `<records>` element is turned back into the document a metadata file of that
//! type would hold, so that the metadata-directory parser maps both sources identically.

use quick_xml::events::Event;

use super::soql::SITE_NAME;
use crate::guide;
use crate::snapshot::metadata::MetadataKind;

/// The Metadata API namespace.
pub(crate) const METADATA_NS: &str = "http://soap.sforce.com/2006/04/metadata";

/// The fullNames Salesforce gives the parts of an External Client App named
/// `ECIConnectedApp` (seen in retrieved projects; not documented).
pub(crate) const ECA_OAUTH_SETTINGS: &str = "ECIConnectedApp_oauth";
pub(crate) const ECA_GLOBAL_OAUTH_SETTINGS: &str = "ECIConnectedApp_glbloauth";
pub(crate) const ECA_OAUTH_POLICIES: &str = "ECIConnectedApp_oauthPlcy";

/// The `readMetadata` calls: one type per call, the names the guide prescribes (and the
/// External Client App an org may have built instead of the connected app).
pub(crate) const METADATA_READS: [(MetadataKind, &[&str]); 9] = [
    (MetadataKind::ConnectedApp, &[guide::CONNECTED_APP]),
    (MetadataKind::AuthProvider, &[guide::AUTH_PROVIDER]),
    (
        MetadataKind::NamedCredential,
        &[guide::AIRCALL_NAMED_CREDENTIAL, guide::ECI_NAMED_CREDENTIAL],
    ),
    (MetadataKind::CustomSite, &[SITE_NAME]),
    (
        MetadataKind::ConversationalIntelligenceSettings,
        &["ConversationalIntelligence"],
    ),
    (
        MetadataKind::ExternalClientApplication,
        &[guide::CONNECTED_APP],
    ),
    (
        MetadataKind::ExtlClntAppOauthSettings,
        &[ECA_OAUTH_SETTINGS],
    ),
    (
        MetadataKind::ExtlClntAppGlobalOauthSettings,
        &[ECA_GLOBAL_OAUTH_SETTINGS],
    ),
    (
        MetadataKind::ExtlClntAppOauthPolicies,
        &[ECA_OAUTH_POLICIES],
    ),
];

/// The `listMetadata` calls (at most three queries each): every External Client App and every
/// part of one, whatever its name, so that an app or part under another name is reported
/// rather than taken as missing.
pub(crate) const METADATA_LISTS: [&[MetadataKind]; 2] = [
    &[
        MetadataKind::ExternalClientApplication,
        MetadataKind::ExtlClntAppOauthSettings,
        MetadataKind::ExtlClntAppOauthPolicies,
    ],
    &[MetadataKind::ExtlClntAppGlobalOauthSettings],
];

/// The SOAP body of a `listMetadata` call.
pub(crate) fn list_metadata_body(kinds: &[MetadataKind]) -> String {
    let mut body = format!("<met:listMetadata xmlns:met=\"{METADATA_NS}\">");
    for kind in kinds {
        body.push_str(&format!(
            "<met:queries><met:type>{}</met:type></met:queries>",
            xml_escape(kind.type_name())
        ));
    }
    body.push_str("</met:listMetadata>");
    body
}

/// One component `listMetadata` named: its type and fullName.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedComponent {
    pub metadata_type: String,
    pub full_name: String,
}

/// What a `listMetadata` answer said.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ListMetadataOutcome {
    Listed(Vec<ListedComponent>),
    Fault { code: String, message: String },
}

/// The next event, or what is malformed and where.
fn read_event<'a>(reader: &mut quick_xml::Reader<&'a [u8]>) -> Result<Event<'a>, String> {
    reader.read_event().map_err(|e| {
        format!(
            "malformed SOAP response at byte {}: {e}",
            reader.error_position()
        )
    })
}

/// Adds a text, CDATA or character/entity reference event's characters to `text`.
fn push_text(text: &mut String, event: &Event<'_>) {
    match event {
        Event::Text(t) => text.push_str(&t.xml10_content()),
        Event::CData(t) => text.push_str(&t.xml10_content()),
        Event::GeneralRef(r) => {
            if let Ok(Some(c)) = r.resolve_char_ref() {
                text.push(c);
            } else if let Some(s) = quick_xml::escape::resolve_xml_entity(&r.xml10_content()) {
                text.push_str(s);
            }
        }
        _ => {}
    }
}

/// At the end of the document: every element opened was closed.
fn all_closed(stack: &[String]) -> Result<(), String> {
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "SOAP response truncated: <{}> is not closed",
            stack.join("/")
        ))
    }
}

/// Parses a `listMetadataResponse` (each `<result>` a `FileProperties`) or a SOAP fault.
/// `Err` describes malformed XML.
pub(crate) fn parse_list_metadata(body: &str) -> Result<ListMetadataOutcome, String> {
    // A fault looks the same whatever the operation.
    if let Ok(ReadMetadataOutcome::Fault { code, message }) = parse_read_metadata(body, "") {
        return Ok(ListMetadataOutcome::Fault { code, message });
    }
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut saw_response = false;
    let (mut full_name, mut metadata_type) = (String::new(), String::new());
    let mut listed = Vec::new();
    loop {
        let event = read_event(&mut reader)?;
        match event {
            Event::Start(ref e) => {
                let name = e.local_name().as_ref().to_string();
                if name == "listMetadataResponse" {
                    saw_response = true;
                }
                text.clear();
                stack.push(name);
            }
            Event::Empty(ref e) if e.local_name().as_ref() == "listMetadataResponse" => {
                saw_response = true;
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let parent = stack.last().map(String::as_str);
                match (name.as_str(), parent) {
                    ("fullName", Some("result")) => full_name = text.trim().to_string(),
                    ("type", Some("result")) => metadata_type = text.trim().to_string(),
                    ("result", Some("listMetadataResponse")) => {
                        if !full_name.is_empty() {
                            listed.push(ListedComponent {
                                metadata_type: std::mem::take(&mut metadata_type),
                                full_name: std::mem::take(&mut full_name),
                            });
                        }
                        full_name.clear();
                        metadata_type.clear();
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => push_text(&mut text, &event),
            Event::Eof => break,
            _ => {}
        }
    }
    all_closed(&stack)?;
    if !saw_response {
        return Err("not a listMetadataResponse".to_string());
    }
    Ok(ListMetadataOutcome::Listed(listed))
}

/// The SOAP body of a `readMetadata` call.
pub(crate) fn read_metadata_body(metadata_type: &str, full_names: &[&str]) -> String {
    let mut body = format!(
        "<met:readMetadata xmlns:met=\"{METADATA_NS}\"><met:type>{}</met:type>",
        xml_escape(metadata_type)
    );
    for name in full_names {
        body.push_str(&format!(
            "<met:fullNames>{}</met:fullNames>",
            xml_escape(name)
        ));
    }
    body.push_str("</met:readMetadata>");
    body
}

/// The full envelope with the session header. Only `Transport::send` calls this, after the
/// read-only check of `body`.
pub(crate) fn envelope(session_id: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:met=\"{METADATA_NS}\">\
         <soapenv:Header><met:SessionHeader><met:sessionId>{}</met:sessionId></met:SessionHeader></soapenv:Header>\
         <soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>",
        xml_escape(session_id)
    )
}

pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// One component returned by `readMetadata`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetadataRecord {
    pub full_name: String,
    /// The record as a metadata file document (`<ConnectedApp xmlns="…">…</ConnectedApp>`).
    pub document: String,
}

/// What a `readMetadata` answer said.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ReadMetadataOutcome {
    /// The records found (requested names without a record do not exist).
    Records(Vec<MetadataRecord>),
    /// A SOAP fault: the code without its prefix (`INVALID_SESSION_ID`) and the message.
    Fault { code: String, message: String },
}

/// Parses a `readMetadataResponse` or a SOAP fault. `Err` describes malformed XML.
pub(crate) fn parse_read_metadata(
    body: &str,
    metadata_type: &str,
) -> Result<ReadMetadataOutcome, String> {
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut saw_response = false;
    // Fault fields.
    let mut in_fault = false;
    let (mut fault_code, mut fault_string, mut exception_code, mut exception_message) =
        (String::new(), String::new(), String::new(), String::new());
    // The record being read: start offset of its content, its fullName, nil flag.
    let mut record: Option<(usize, String, bool)> = None;
    let mut text = String::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = read_event(&mut reader)?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_string();
                let parent = stack.last().map(String::as_str);
                if name == "Fault" && parent == Some("Body") {
                    in_fault = true;
                }
                if name == "readMetadataResponse" {
                    saw_response = true;
                }
                if name == "records" && parent == Some("result") && record.is_none() {
                    let nil = e.attributes().flatten().any(|a| {
                        a.key.local_name().as_ref() == "nil"
                            && matches!(a.value.as_ref(), "true" | "1")
                    });
                    if !empty {
                        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                        record = Some((start, String::new(), nil));
                    }
                }
                text.clear();
                if !empty {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let parent = stack.last().map(String::as_str);
                if in_fault {
                    match name.as_str() {
                        "faultcode" => fault_code = text.trim().to_string(),
                        "faultstring" => fault_string = text.trim().to_string(),
                        "exceptionCode" => exception_code = text.trim().to_string(),
                        "exceptionMessage" => exception_message = text.trim().to_string(),
                        "Fault" => in_fault = false,
                        _ => {}
                    }
                }
                if name == "fullName"
                    && parent == Some("records")
                    && let Some((_, full_name, _)) = record.as_mut()
                {
                    *full_name = text.trim().to_string();
                }
                if name == "records"
                    && parent == Some("result")
                    && let Some((start, full_name, nil)) = record.take()
                {
                    let end = before.min(body.len());
                    if !nil && !full_name.is_empty() && start <= end {
                        records.push(MetadataRecord {
                            document: format!(
                                "<{metadata_type} xmlns=\"{METADATA_NS}\">{}</{metadata_type}>",
                                &body[start..end]
                            ),
                            full_name,
                        });
                    }
                }
                text.clear();
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => push_text(&mut text, &event),
            Event::Eof => break,
            _ => {}
        }
    }
    all_closed(&stack)?;
    if !fault_code.is_empty() || !exception_code.is_empty() {
        let code = if exception_code.is_empty() {
            fault_code
        } else {
            exception_code
        };
        let code = code.rsplit(':').next().unwrap_or_default().to_string();
        let message = if exception_message.is_empty() {
            fault_string
        } else {
            exception_message
        };
        return Ok(ReadMetadataOutcome::Fault { code, message });
    }
    if !saw_response {
        return Err("not a readMetadataResponse".to_string());
    }
    Ok(ReadMetadataOutcome::Records(records))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soapenv:Body><readMetadataResponse><result>
    <records xsi:type="NamedCredential"><fullName>Aircall</fullName><endpoint>https://api.aircall.io</endpoint><label>A &amp; B</label></records>
    <records xsi:type="NamedCredential"/>
    <records xsi:nil="true"></records>
  </result></readMetadataResponse></soapenv:Body></soapenv:Envelope>"#;

    #[test]
    fn parses_records_as_documents() {
        let ReadMetadataOutcome::Records(records) =
            parse_read_metadata(RESPONSE, "NamedCredential").unwrap()
        else {
            panic!("fault")
        };
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].full_name, "Aircall");
        assert_eq!(
            records[0].document,
            format!(
                "<NamedCredential xmlns=\"{METADATA_NS}\"><fullName>Aircall</fullName><endpoint>https://api.aircall.io</endpoint><label>A &amp; B</label></NamedCredential>"
            )
        );
    }

    #[test]
    fn parses_list_metadata() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><listMetadataResponse><result><createdById>005</createdById><fileName>externalClientApps/A.eca</fileName><fullName>A &amp; B</fullName><type>ExternalClientApplication</type></result><result><fullName>A_oauthPlcy</fullName><type>ExtlClntAppOauthConfigurablePolicies</type></result></listMetadataResponse></soapenv:Body></soapenv:Envelope>"#;
        let ListMetadataOutcome::Listed(listed) = parse_list_metadata(body).unwrap() else {
            panic!("fault")
        };
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].full_name, "A & B");
        assert_eq!(
            listed[1].metadata_type,
            "ExtlClntAppOauthConfigurablePolicies"
        );
        let empty = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><listMetadataResponse/></soapenv:Body></soapenv:Envelope>"#;
        assert_eq!(
            parse_list_metadata(empty).unwrap(),
            ListMetadataOutcome::Listed(vec![])
        );
        let fault = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INSUFFICIENT_ACCESS</faultcode><faultstring>no</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        assert!(matches!(
            parse_list_metadata(fault).unwrap(),
            ListMetadataOutcome::Fault { .. }
        ));
        assert!(parse_list_metadata("<a><b></a>").is_err());
    }

    #[test]
    fn parses_faults() {
        let fault = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><soapenv:Fault><faultcode>sf:INSUFFICIENT_ACCESS</faultcode><faultstring>INSUFFICIENT_ACCESS: no</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        assert_eq!(
            parse_read_metadata(fault, "ConnectedApp").unwrap(),
            ReadMetadataOutcome::Fault {
                code: "INSUFFICIENT_ACCESS".into(),
                message: "INSUFFICIENT_ACCESS: no".into()
            }
        );
    }

    #[test]
    fn rejects_truncated_and_foreign_bodies() {
        let cut = &RESPONSE[..RESPONSE.len() / 2];
        assert!(parse_read_metadata(cut, "NamedCredential").is_err());
        assert!(
            parse_read_metadata("<html><body>Maintenance</body></html>", "NamedCredential")
                .is_err()
        );
    }

    #[test]
    fn escapes_names() {
        assert_eq!(
            read_metadata_body("CustomSite", &["A<B"]),
            format!(
                "<met:readMetadata xmlns:met=\"{METADATA_NS}\"><met:type>CustomSite</met:type><met:fullNames>A&lt;B</met:fullNames></met:readMetadata>"
            )
        );
    }
}
