//! Which org, login and Aircall URLs the collector accepts, and how any URL may be shown.
//! A leaf: the error types, the requests and the transport all build on it.

/// The origin (`scheme://host[:port]`, no trailing slash) of an acceptable URL: `https`, or
/// `http` on a loopback host (local fakes), never with credentials. `Err` carries the reason;
/// [`check_url`](super::check_url) turns it into an error that names the URL safely.
pub(crate) fn accepted_origin(url: &str) -> Result<String, String> {
    let parsed = ::url::Url::parse(url.trim()).map_err(|e| e.to_string())?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL are not accepted".to_string());
    }
    let host = parsed.host_str().ok_or("no host")?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(
                "plain http is only accepted for loopback hosts (127.0.0.1, localhost, [::1])"
                    .to_string(),
            );
        }
        other => return Err(format!("scheme `{other}` is not https")),
    }
    Ok(parsed.origin().ascii_serialization())
}

/// A URL as it may be shown: `scheme://host[:port]/path`, without `user:password@`, query
/// string or fragment (they may hold a password or a session id). Text that does not parse as
/// a URL with a host keeps only what follows its last `@`, cut at the first `?` or `#`.
pub(crate) fn display_url(url: &str) -> String {
    let url = url.trim();
    if let Ok(parsed) = ::url::Url::parse(url)
        && let Some(host) = parsed.host_str()
    {
        let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
        return format!("{}://{host}{port}{}", parsed.scheme(), parsed.path());
    }
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    match url.rfind('@') {
        Some(at) => url[at + 1..].to_string(),
        None => url.to_string(),
    }
}

pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes a query component (`+` for spaces, like a form).
pub(crate) fn encode_component(s: &str) -> String {
    ::url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
