//! The allow-list's cases: every read the collector makes passes, every write is refused.

use super::*;
use crate::collect::request::FormValue;

fn req(method: HttpMethod, path: &str, body: RequestBody) -> PlannedRequest {
    PlannedRequest::for_test(method, path, body)
}

/// The check of a Composite request with this JSON body.
fn post_composite(json: &str) -> Result<(), String> {
    let path = "/services/data/v66.0/composite";
    check_read_only(&req(HttpMethod::Post, path, RequestBody::Json(json.into())))
}

/// The check of a Metadata API call with this SOAP body.
fn post_soap(xml: &str) -> Result<(), String> {
    let path = "/services/Soap/m/66.0";
    check_read_only(&req(HttpMethod::Post, path, RequestBody::Soap(xml.into())))
}

#[test]
fn allows_reads() {
    assert!(check_read_only(&req(HttpMethod::Get, "/services/data/", RequestBody::None)).is_ok());
    let token = req(
        HttpMethod::Post,
        "/services/oauth2/token",
        RequestBody::Form(vec![(
            "grant_type".into(),
            FormValue::Plain("client_credentials".into()),
        )]),
    );
    assert!(check_read_only(&token).is_ok());
    let composite = r#"{"allOrNone":false,"compositeRequest":[{"method":"GET","referenceId":"a","url":"/services/data/v66.0/query/?q=SELECT+Id+FROM+Site"}]}"#;
    assert!(post_composite(composite).is_ok());
    let soap = r#"<met:readMetadata xmlns:met="http://soap.sforce.com/2006/04/metadata"><met:type>CustomSite</met:type><met:fullNames>VoiceConnector</met:fullNames></met:readMetadata>"#;
    assert!(post_soap(soap).is_ok());
    let list = r"<listMetadata><queries><type>CustomSite</type></queries></listMetadata>";
    assert!(post_soap(list).is_ok());
}

#[test]
fn refuses_writes() {
    let record = "/services/data/v66.0/sobjects/Site/0DM000000000001";
    for method in [HttpMethod::Patch, HttpMethod::Delete, HttpMethod::Put] {
        let reason = check_read_only(&req(method, record, RequestBody::None)).unwrap_err();
        assert!(reason.contains("never allowed"), "{reason}");
    }
    // POST elsewhere.
    let reason = check_read_only(&req(
        HttpMethod::Post,
        "/services/data/v66.0/sobjects/Account",
        RequestBody::Json("{}".into()),
    ))
    .unwrap_err();
    assert!(reason.contains("only allowed"), "{reason}");
    for path in [
        "/services/data/v66.0/composite/sobjects",
        "/services/data/v66.0/composite/batch",
        "/services/data/vX/composite",
    ] {
        assert!(
            check_read_only(&req(HttpMethod::Post, path, RequestBody::Json("{}".into()))).is_err(),
            "{path}"
        );
    }
    // A composite that smuggles a write.
    let composite = r#"{"allOrNone":false,"compositeRequest":[
        {"method":"GET","referenceId":"a","url":"/services/data/v66.0/query/?q=SELECT+Id+FROM+Site"},
        {"method":"POST","referenceId":"b","url":"/services/data/v66.0/sobjects/Account","body":{"Name":"x"}}]}"#;
    let reason = post_composite(composite).unwrap_err();
    assert!(
        reason.contains("subrequest 1 uses method `POST`"),
        "{reason}"
    );
    let lowercase = r#"{"compositeRequest":[{"method":"get","referenceId":"a","url":"/services/data/v66.0/query/?q=x"}]}"#;
    assert!(post_composite(lowercase).is_err());
    let with_body = r#"{"compositeRequest":[{"method":"GET","referenceId":"a","url":"/services/data/v66.0/query/?q=x","body":{"a":1}}]}"#;
    assert!(post_composite(with_body).is_err());
    // Metadata writes.
    for op in [
        "deploy",
        "createMetadata",
        "updateMetadata",
        "deleteMetadata",
        "upsertMetadata",
        "renameMetadata",
    ] {
        let body = format!("<met:{op} xmlns:met=\"http://soap.sforce.com/2006/04/metadata\"/>");
        let reason = post_soap(&body).unwrap_err();
        assert!(reason.contains(op), "{reason}");
    }
    let two = "<readMetadata/><deleteMetadata/>";
    assert!(post_soap(two).is_err());
    // A GET with a body, odd paths.
    assert!(
        check_read_only(&req(
            HttpMethod::Get,
            "/services/data/",
            RequestBody::Json("{}".into())
        ))
        .is_err()
    );
    assert!(
        check_read_only(&req(
            HttpMethod::Get,
            "/services/data/../x",
            RequestBody::None
        ))
        .is_err()
    );
}

#[test]
fn soap_bodies_hold_one_operation_and_nothing_else() {
    let read = "<met:readMetadata xmlns:met=\"http://soap.sforce.com/2006/04/metadata\"><met:type>CustomSite</met:type><met:fullNames>VoiceConnector</met:fullNames></met:readMetadata>";
    // Accepted around the operation: whitespace, comments, a leading XML declaration.
    for ok in [
        read.to_string(),
        format!("\n  <!-- read -->\n{read}\n<!-- done -->\n"),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{read}"),
        // Markup-looking text inside the operation is just text.
        "<readMetadata><type>A&amp;B</type><fullNames><![CDATA[x]]></fullNames></readMetadata>"
            .to_string(),
    ] {
        assert!(post_soap(&ok).is_ok(), "{ok}: {:?}", post_soap(&ok));
    }
    for (bad, why) in [
        // Closing the Body early and opening another one with a write.
        (
            format!("{read}</soapenv:Body><soapenv:Body><met:deleteMetadata/>"),
            "close",
        ),
        (format!("</soapenv:Body>{read}"), "close"),
        (format!("<![CDATA[</soapenv:Body>]]>{read}"), "text outside"),
        (
            format!("{read}<![CDATA[<deleteMetadata/>]]>"),
            "text outside",
        ),
        (format!("{read}&lt;deleteMetadata/&gt;"), "text outside"),
        (format!("{read}x"), "text outside"),
        (
            format!("<?xml-stylesheet href=\"x\"?>{read}"),
            "processing instructions",
        ),
        (
            "<readMetadata><?php write() ?></readMetadata>".to_string(),
            "processing instructions",
        ),
        (
            format!("<!DOCTYPE x [<!ENTITY e \"<deleteMetadata/>\">]>{read}"),
            "DOCTYPE",
        ),
        (
            format!("{read}<?xml version=\"1.0\"?>"),
            "declaration is only allowed at the start",
        ),
        ("<readMetadata><type>".to_string(), "open"),
        (String::new(), "exactly one operation"),
        ("<!-- nothing -->".to_string(), "exactly one operation"),
    ] {
        let reason = post_soap(&bad).expect_err(&bad);
        assert!(reason.contains(why), "{bad}: {reason}");
    }
}
