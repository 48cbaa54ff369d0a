//! URL helpers shared by the fact view, the evaluator's operators and option parsing: one
//! definition of "the origin of a URL" and "the same URL" for what a rule compares. (The
//! collector's `collect::url` decides which URLs a request may go to, a stricter question.)

/// A bare host (`acme.my.salesforce.com`) means https; a URL stays as it is (trimmed).
pub fn with_scheme(raw: &str) -> String {
    let raw = raw.trim();
    if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    }
}

/// `scheme://host[:port]` of a URL, lowercased host; a bare host means https.
pub fn url_origin(raw: &str) -> Option<String> {
    let u = url::Url::parse(&with_scheme(raw)).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{}://{}:{p}", u.scheme(), host.to_lowercase()),
        None => format!("{}://{}", u.scheme(), host.to_lowercase()),
    })
}

/// The My Domain host to use instead, when `host` is a Lightning or Visualforce host (a common
/// paste from the browser's address bar): `acme.lightning.force.com` →
/// `acme.my.salesforce.com`, `acme--c.vf.force.com` → `acme.my.salesforce.com`.
pub fn my_domain_instead_of(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Some(prefix) = host.strip_suffix(".lightning.force.com") {
        return Some(format!("{prefix}.my.salesforce.com"));
    }
    if let Some(prefix) = host.strip_suffix(".vf.force.com") {
        // `org--pkg.vf.force.com`, or `org--pkg.sandbox.vf.force.com` in a sandbox.
        let (org, rest) = prefix.split_once("--")?;
        return Some(match rest.strip_suffix(".sandbox") {
            Some(_) => format!("{org}.sandbox.my.salesforce.com"),
            None => format!("{org}.my.salesforce.com"),
        });
    }
    (host.ends_with(".visual.force.com") || host.ends_with(".visualforce.com"))
        .then(|| "your org's My Domain host (NAME.my.salesforce.com)".to_string())
}

/// The host of a URL (a bare host is taken as https).
pub fn host_of(raw: &str) -> Option<String> {
    let origin = url_origin(raw)?;
    let host = origin.split("://").nth(1)?;
    Some(
        host.rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
            .to_string(),
    )
}

/// Same scheme, host (any case), port, path (trailing `/` ignored), query.
pub fn same_url(actual: &str, expected: &str) -> bool {
    let parse = |s: &str| url::Url::parse(s.trim()).ok();
    match (parse(actual), parse(expected)) {
        (Some(a), Some(e)) => {
            a.scheme() == e.scheme()
                && a.host_str().map(str::to_lowercase) == e.host_str().map(str::to_lowercase)
                && a.port_or_known_default() == e.port_or_known_default()
                && a.path().trim_end_matches('/') == e.path().trim_end_matches('/')
                && a.query() == e.query()
        }
        _ => actual.trim() == expected.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            url_origin("acme.my.salesforce.com").as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(
            url_origin("https://ACME.my.salesforce.com/").as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(
            url_origin("http://127.0.0.1:8080/x").as_deref(),
            Some("http://127.0.0.1:8080")
        );
    }

    #[test]
    fn lightning_and_visualforce_hosts_name_the_my_domain_host() {
        for (host, instead) in [
            ("acme.lightning.force.com", Some("acme.my.salesforce.com")),
            (
                "acme--dev.sandbox.lightning.force.com",
                Some("acme--dev.sandbox.my.salesforce.com"),
            ),
            ("ACME--c.vf.force.com", Some("acme.my.salesforce.com")),
            ("acme.my.salesforce.com", None),
        ] {
            assert_eq!(my_domain_instead_of(host).as_deref(), instead, "{host}");
        }
        assert!(my_domain_instead_of("c.na1.visual.force.com").is_some());
    }

    #[test]
    fn urls() {
        assert!(same_url(
            "https://ACME.my.salesforce.com/",
            "https://acme.my.salesforce.com"
        ));
        assert!(!same_url(
            "http://acme.my.salesforce.com",
            "https://acme.my.salesforce.com"
        ));
        assert!(!same_url(
            "https://api.aircall.io/v1",
            "https://api.aircall.io"
        ));
        assert_eq!(
            host_of("https://dummyurl/services/authcallback/X").as_deref(),
            Some("dummyurl")
        );
        assert_eq!(
            host_of("http://127.0.0.1:9000").as_deref(),
            Some("127.0.0.1")
        );
    }
}
