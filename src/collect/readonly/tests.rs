//! The allow-list's cases: every read the collector makes passes, every write is refused, and
//! no path reaches anything else once parsed the way it is sent.

use proptest::prelude::*;

use super::*;
use crate::collect::request::FormValue;

const ORG: &str = "https://acme.my.salesforce.com";
const AIRCALL: &str = "https://api.aircall.io";

/// A request on the org with the credential its endpoint takes (the token request and the
/// versions resource go without one, `readMetadata` with the SOAP session).
fn req(method: HttpMethod, path: &str, body: RequestBody) -> PlannedRequest {
    let mut r = PlannedRequest::for_test(method, path, body);
    if path == "/services/oauth2/token" || path == "/services/data/" {
        r.credential = Credential::None;
    } else if path.starts_with("/services/Soap/") {
        r.credential = Credential::SoapSession;
    }
    r
}

fn origins() -> Origins {
    Origins {
        org: Some(ORG.into()),
        login: Some(ORG.into()),
        aircall: Some(AIRCALL.into()),
    }
}

fn check(r: &PlannedRequest) -> Result<(), String> {
    check_read_only(r, &origins()).map(drop)
}

fn get(path: &str) -> Result<(), String> {
    check(&req(HttpMethod::Get, path, RequestBody::None))
}

/// The check of a Composite request with this JSON body.
fn post_composite(json: &str) -> Result<(), String> {
    let path = "/services/data/v66.0/composite";
    check(&req(HttpMethod::Post, path, RequestBody::Json(json.into())))
}

/// The check of a Metadata API call with this SOAP body.
fn post_soap(xml: &str) -> Result<(), String> {
    let path = "/services/Soap/m/66.0";
    check(&req(HttpMethod::Post, path, RequestBody::Soap(xml.into())))
}

#[test]
fn allows_reads() {
    assert!(check(&req(HttpMethod::Get, "/services/data/", RequestBody::None)).is_ok());
    let token = req(
        HttpMethod::Post,
        "/services/oauth2/token",
        RequestBody::Form(vec![(
            "grant_type".into(),
            FormValue::Plain("client_credentials".into()),
        )]),
    );
    assert!(check(&token).is_ok());
    let composite = r#"{"allOrNone":false,"compositeRequest":[{"method":"GET","referenceId":"a","url":"/services/data/v66.0/query/?q=SELECT+Id+FROM+Site"}]}"#;
    assert!(post_composite(composite).is_ok());
    let soap = r#"<met:readMetadata xmlns:met="http://soap.sforce.com/2006/04/metadata"><met:type>CustomSite</met:type><met:fullNames>VoiceConnector</met:fullNames></met:readMetadata>"#;
    assert!(post_soap(soap).is_ok());
    let list = r"<listMetadata><queries><type>CustomSite</type></queries></listMetadata>";
    assert!(post_soap(list).is_ok());
    // Profiles by API name: one-row Tooling queries through the Tooling Composite.
    let tooling = r#"{"allOrNone":false,"compositeRequest":[{"method":"GET","referenceId":"p","url":"/services/data/v66.0/tooling/query/?q=SELECT+Id%2C+FullName+FROM+Profile"}]}"#;
    let path = "/services/data/v66.0/tooling/composite";
    assert!(
        check(&req(
            HttpMethod::Post,
            path,
            RequestBody::Json(tooling.into())
        ))
        .is_ok()
    );
}

#[test]
fn tooling_composite_holds_only_reads() {
    let path = "/services/data/v66.0/tooling/composite";
    let post = |json: &str| check(&req(HttpMethod::Post, path, RequestBody::Json(json.into())));
    let write = r#"{"compositeRequest":[{"method":"PATCH","referenceId":"p","url":"/services/data/v66.0/tooling/sobjects/Profile/00e000000000001","body":{"Name":"x"}}]}"#;
    assert!(post(write).unwrap_err().contains("only GET"));
    let elsewhere = r#"{"compositeRequest":[{"method":"GET","referenceId":"p","url":"/services/data/v66.0/tooling/executeAnonymous/?anonymousBody=x"}]}"#;
    assert!(post(elsewhere).unwrap_err().contains("unexpected URL"));
    // A GET of the Tooling Composite, and its siblings, stay refused.
    assert!(get(path).is_err());
    for other in [
        "/services/data/v66.0/tooling/composite/batch",
        "/services/data/v66.0/tooling/composite/sobjects",
        "/services/data/v66.0/tooling/executeAnonymous",
    ] {
        assert!(
            check(&req(
                HttpMethod::Post,
                other,
                RequestBody::Json("{}".into())
            ))
            .is_err(),
            "{other}"
        );
    }
}

#[test]
fn refuses_writes() {
    let record = "/services/data/v66.0/sobjects/Site/0DM000000000001";
    let describe = "/services/data/v66.0/sobjects/Site/describe";
    for method in [HttpMethod::Patch, HttpMethod::Delete, HttpMethod::Put] {
        assert!(check(&req(method, record, RequestBody::None)).is_err());
        let reason = check(&req(method, describe, RequestBody::None)).unwrap_err();
        assert!(reason.contains("never allowed"), "{reason}");
    }
    // POST elsewhere.
    let reason = check(&req(
        HttpMethod::Post,
        "/services/data/v66.0/sobjects/Account",
        RequestBody::Json("{}".into()),
    ))
    .unwrap_err();
    assert!(
        reason.contains("not a resource the audit reads"),
        "{reason}"
    );
    for path in [
        "/services/data/v66.0/composite/sobjects",
        "/services/data/v66.0/composite/batch",
        "/services/data/vX/composite",
    ] {
        assert!(
            check(&req(HttpMethod::Post, path, RequestBody::Json("{}".into()))).is_err(),
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
        check(&req(
            HttpMethod::Get,
            "/services/data/",
            RequestBody::Json("{}".into())
        ))
        .is_err()
    );
    assert!(
        check(&req(
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

#[test]
fn the_url_sent_is_the_url_checked() {
    let r = req(
        HttpMethod::Get,
        "/services/data/v66.0/query/01gXX0000000001-2000",
        RequestBody::None,
    );
    let url = check_read_only(&r, &origins()).unwrap();
    assert_eq!(
        url.as_str(),
        "https://acme.my.salesforce.com/services/data/v66.0/query/01gXX0000000001-2000"
    );
    // The host is compared as sent: lowercased, default port dropped.
    let mut upper = r.clone();
    upper.base = "HTTPS://ACME.My.Salesforce.com:443".into();
    assert!(check(&upper).is_ok());
    for base in [
        "https://evil.example",
        "https://acme.my.salesforce.com:8443",
        "http://acme.my.salesforce.com",
        "https://acme.my.salesforce.com.evil.example",
        "https://user@acme.my.salesforce.com",
    ] {
        let mut elsewhere = r.clone();
        elsewhere.base = base.into();
        assert!(check(&elsewhere).is_err(), "{base}");
    }
}

#[test]
fn refuses_paths_that_resolve_or_read_elsewhere() {
    for path in [
        // Encoded dot segments, every spelling: the logout page with the bearer token.
        "/services/data/v66.0/%2e%2e/%2e%2e/secur/logout.jsp",
        "/services/data/v66.0/%2E%2E/%2E%2E/secur/logout.jsp",
        "/services/data/v66.0/.%2e/.%2e/secur/logout.jsp",
        "/services/data/v66.0/%2e./%2E./secur/logout.jsp",
        "/services/data/v66.0/query/%2e%2e/%2e%2e/%2e%2e/secur/logout.jsp",
        "/services/data/v66.0/query/../../../secur/logout.jsp",
        "/services/data/v66.0/query/..",
        // Double encoding, encoded slashes and backslashes, NUL.
        "/services/data/v66.0/query/%252e%252e/%252e%252e/secur",
        "/services/data/v66.0/query/01g%252e%252e",
        "/services/data/v66.0/query/..%2f..%2fsecur",
        "/services/data/v66.0/query/..%5c..%5csecur",
        "/services/data/v66.0/query/01g%00",
        // Backslashes (read as `/` in http URLs).
        "/services/data/v66.0\\..\\..\\secur\\logout.jsp",
        "/services/data/v66.0/query\\..\\..\\..\\secur",
        // `;` path parameters (Tomcat and friends strip them).
        "/services/data/v66.0/query/01g;jsessionid=x",
        "/services/data/v66.0/query/..;/..;/secur/logout.jsp",
        "/services/data;x=1/v66.0/query/01g",
        // Case.
        "/Services/Data/v66.0/query/01g",
        "/services/data/V66.0/query/01g",
        "/services/data/v66.0/QUERY/01g",
        "/SERVICES/oauth2/userinfo",
        "/services/soap/m/66.0",
        // Empty segments, other hosts, other resources.
        "//evil.example/services/data/v66.0/query/x",
        "/services/data/v66.0//query/x",
        "/services/data/v66.0/query//x",
        "/services/data/v66.0/query/a/b",
        "/services/data/v66.0/sobjects/Account/001xx",
        "/services/data/v66.0/sobjects/Account",
        "/services/data/v66.0/",
        "/services/data/vX/query/01g",
        "/secur/logout.jsp",
        "/services/apexrest/x",
        "/v1/ping",
        // Absolute URLs as a nextRecordsUrl, and URL tricks.
        "https://evil.example/services/data/v66.0/query/x",
        "http://127.0.0.1:1/services/data/v66.0/query/x",
        "@evil.example/services/data/v66.0/query/x",
        "/services/data/v66.0/query/x@evil.example",
        "/services/data/v66.0/query/x?q=1",
        "/services/data/v66.0/query/x#f",
        "/services/data/v66.0/query/x y",
    ] {
        assert!(get(path).is_err(), "{path} was accepted");
    }
    // A single dot or a backslash may land on an allowed resource: what counts is where.
    for path in [
        "/services/data/v66.0/query/./01g",
        "/services/data/v66.0\\query\\01g",
    ] {
        let r = req(HttpMethod::Get, path, RequestBody::None);
        let sent = check_read_only(&r, &origins()).unwrap();
        assert_eq!(sent.path(), "/services/data/v66.0/query/01g");
    }
    // Composite subrequests are held to the same rules.
    for url in [
        "/services/data/v66.0/%2e%2e/%2e%2e/secur/logout.jsp",
        "/services/data/v66.0/query/..;/x?q=1",
        "/services/data/v66.0/../../secur/logout.jsp",
        "/services/data/v66.0/sobjects/Account/001xx",
        "https://evil.example/services/data/v66.0/query/?q=1",
        "/services/data/v66.0/query/#?q=1",
    ] {
        let json = serde_json::json!({"compositeRequest": [{"method": "GET", "referenceId": "a", "url": url}]});
        assert!(post_composite(&json.to_string()).is_err(), "{url}");
    }
}

#[test]
fn each_host_takes_only_its_own_endpoints_and_credential() {
    let ping = |base: &str, credential| {
        let mut r = req(HttpMethod::Get, "/v1/ping", RequestBody::None);
        r.base = base.into();
        r.credential = credential;
        check(&r)
    };
    assert!(ping(AIRCALL, Credential::AircallBasic).is_ok());
    assert!(ping(ORG, Credential::AircallBasic).is_err());
    assert!(ping(AIRCALL, Credential::Bearer).is_err());
    // The bearer token never goes to the Aircall host, nor a query without it to the org.
    let mut query = req(
        HttpMethod::Get,
        "/services/data/v66.0/query/",
        RequestBody::None,
    );
    query.base = AIRCALL.into();
    assert!(check(&query).is_err());
    query.base = ORG.into();
    query.credential = Credential::AircallBasic;
    assert!(check(&query).is_err());
    // The token request goes to the login origin only.
    let form = RequestBody::Form(Vec::new());
    let token = req(HttpMethod::Post, "/services/oauth2/token", form);
    let login_elsewhere = Origins {
        login: Some("https://login.salesforce.com".into()),
        ..origins()
    };
    assert!(check_read_only(&token, &login_elsewhere).is_err());
    assert!(check_read_only(&token, &Origins::default()).is_err());
    // Before the session is known, no org endpoint is reachable.
    let no_org = Origins {
        org: None,
        ..origins()
    };
    assert!(
        check_read_only(
            &req(HttpMethod::Get, "/services/data/", RequestBody::None),
            &no_org
        )
        .is_err()
    );
}

/// Path text made of the pieces that tricks are made of.
fn tricky_path() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "/",
        "//",
        ".",
        "..",
        "%2e",
        "%2E",
        "%252e",
        "%2f",
        "%5c",
        "%00",
        "\\",
        ";",
        "@",
        ":",
        "?",
        "#",
        " ",
        "services",
        "Services",
        "data",
        "v66.0",
        "v",
        "66.0",
        "query",
        "tooling",
        "sobjects",
        "Site",
        "describe",
        "composite",
        "Soap",
        "m",
        "oauth2",
        "userinfo",
        "token",
        "secur",
        "logout.jsp",
        "evil.example",
        "01gXX",
        "-2000",
        "_",
        "v1",
        "ping",
        "https:",
    ]);
    let tail = prop::collection::vec(piece, 0..14).prop_map(|p| p.concat());
    prop_oneof![
        tail.clone().prop_map(|t| format!("/{t}")),
        tail.clone()
            .prop_map(|t| format!("/services/data/v66.0/query/{t}")),
        tail.prop_map(|t| format!("/services/data/v66.0/{t}")),
        "[ -~]{0,60}",
    ]
}

/// The allowed GET paths, written independently of `endpoint` (with a regex, on the URL as
/// reqwest parses it).
fn allowed_get_path(path: &str) -> bool {
    let allowed = regex::Regex::new(
        r"^/services/(oauth2/userinfo|data/v[0-9]+\.[0-9]+/((tooling/)?query/[A-Za-z0-9._-]*|sobjects/[A-Za-z0-9._-]+/describe))$",
    )
    .unwrap();
    allowed.is_match(path) && !path.split('/').any(|s| s == "." || s == "..")
}

/// Cases of the property below: 2,000 in every test run; `ECI_AUDIT_ALLOWLIST_CASES` for a
/// long fuzzing run of the allow-list.
fn allowlist_cases() -> u32 {
    std::env::var("ECI_AUDIT_ALLOWLIST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(allowlist_cases()))]

    /// Whatever the path, an accepted request is sent to the org's host under an allowed
    /// resource, as reqwest itself reads the URL.
    #[test]
    fn accepted_urls_stay_under_an_allowed_resource(path in tricky_path()) {
        let r = req(HttpMethod::Get, &path, RequestBody::None);
        if let Ok(url) = check_read_only(&r, &origins()) {
            let sent = reqwest::Url::parse(&r.url()).unwrap();
            prop_assert_eq!(&sent, &url);
            prop_assert_eq!(sent.scheme(), "https");
            prop_assert_eq!(sent.host_str(), Some("acme.my.salesforce.com"));
            prop_assert_eq!(sent.port(), None);
            prop_assert!(sent.query().is_none() && sent.fragment().is_none());
            prop_assert!(allowed_get_path(sent.path()), "{path} → {sent}");
        }
    }
}
