//! Secrets (access tokens, client secrets, the Aircall token) and the scrubber that keeps them
//! out of everything the collector returns.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Shown wherever a secret would otherwise appear.
pub const REDACTED: &str = "[REDACTED]";

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it (an HTTP header or form field).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// True for an empty (or blank) value.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Secrets below this length are not scrubbed at all: replacing a 3-letter "secret"
/// everywhere would corrupt ordinary values, and real tokens are far longer.
const MIN_SCRUB_LEN: usize = 6;

/// Any run of this many characters of a secret (or of one of its encodings) is scrubbed, so a
/// server echoing part of a token is caught; shorter secrets are scrubbed whole.
pub(crate) const MIN_MATCH: usize = 12;

/// What the redactor looks for.
#[derive(Default)]
struct Known {
    /// Every `MIN_MATCH`-byte window of every form of every secret of at least that length.
    windows: HashSet<Vec<u8>>,
    /// The forms of shorter secrets, matched whole, longest first.
    whole: Vec<String>,
    /// Windows of public values (an API ID next to its token): never scrubbed.
    public: HashSet<Vec<u8>>,
    secrets: usize,
}

/// Every secret the collector has seen; [`Redactor::scrub`] removes them from any text that
/// leaves the collector (server messages quoted in errors, reasons, snapshot strings): the
/// secret itself, its percent-encoded forms (as in a form body or a query string) and its
/// base64 forms (standard and URL-safe, at every alignment, as inside a Basic credential or a
/// JWT), and any run of [`MIN_MATCH`] or more characters of them.
///
/// A Salesforce session ID starts with the org ID (`00D…!`), which is public: runs that lie
/// within that prefix are not scrubbed, or every record carrying the org ID would be. Values
/// known to be public ([`Redactor::add_public`]) are spared the same way.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    known: Arc<RwLock<Known>>,
}

impl Redactor {
    pub fn add(&self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SCRUB_LEN {
            return;
        }
        let Ok(mut known) = self.known.write() else {
            return;
        };
        known.secrets += 1;
        let secret_forms = forms(secret.as_bytes());
        if secret.len() < MIN_MATCH {
            for form in secret_forms {
                if let Ok(form) = String::from_utf8(form)
                    && form.len() >= MIN_SCRUB_LEN
                    && !known.whole.contains(&form)
                {
                    known.whole.push(form);
                }
            }
            // Longest first, so a secret containing another is replaced whole.
            known.whole.sort_by_key(|s| std::cmp::Reverse(s.len()));
            return;
        }
        let public_forms = public_prefix(secret).map_or_else(Vec::new, |p| forms(p.as_bytes()));
        let public: HashSet<&[u8]> = public_forms
            .iter()
            .flat_map(|form| form.windows(MIN_MATCH))
            .collect();
        for form in &secret_forms {
            for window in form.windows(MIN_MATCH) {
                if !public.contains(window) && !known.public.contains(window) {
                    known.windows.insert(window.to_vec());
                }
            }
        }
    }

    /// A value that is public although it may share a long run with a secret (the Aircall
    /// API ID and its token): runs of it are not scrubbed.
    pub fn add_public(&self, value: &str) {
        let Ok(mut known) = self.known.write() else {
            return;
        };
        for form in forms(value.trim().as_bytes()) {
            for window in form.windows(MIN_MATCH) {
                known.windows.remove(window);
                known.public.insert(window.to_vec());
            }
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let Ok(known) = self.known.read() else {
            return text.to_string();
        };
        let mut out = scrub_windows(text, &known.windows);
        for form in &known.whole {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }
    /// Scrubs every string of a JSON value in place.
    pub fn scrub_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                let scrubbed = self.scrub(s);
                if scrubbed != *s {
                    *s = scrubbed;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.scrub_json(v)),
            _ => {}
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.known.read().map_or(0, |k| k.secrets);
        write!(f, "Redactor({n} secrets)")
    }
}

/// The org ID that starts a Salesforce session ID (`00DXX0000000001!AQ…` → `00DXX0000000001`).
fn public_prefix(secret: &str) -> Option<&str> {
    let (prefix, _) = secret.split_once('!')?;
    let is_org_id = (prefix.len() == 15 || prefix.len() == 18)
        && prefix.starts_with("00D")
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric());
    is_org_id.then_some(prefix)
}

/// The forms a secret may take in text: itself, percent-encoded (form style, and every
/// reserved byte as `%XX` in upper and lower case), and base64. Base64 is given at each of
/// the three alignments the secret may have inside a longer encoded value, keeping only the
/// characters that depend on the secret alone.
fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![secret.to_vec()];
    out.push(
        url::form_urlencoded::byte_serialize(secret)
            .collect::<String>()
            .into_bytes(),
    );
    let mut upper = String::new();
    for &b in secret {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            upper.push(char::from(b));
        } else {
            upper.push_str(&format!("%{b:02X}"));
        }
    }
    out.push(upper.to_ascii_lowercase().into_bytes());
    out.push(upper.into_bytes());
    out.push(STANDARD.encode(secret).into_bytes());
    out.push(URL_SAFE_NO_PAD.encode(secret).into_bytes());
    for shift in 1..3usize {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(secret);
        // Characters before `skip` carry bits of the padding bytes; the last one may carry
        // bits of whatever follows the secret.
        let skip = (shift * 8).div_ceil(6);
        let keep = (shifted.len() * 8) / 6;
        for encoded in [STANDARD.encode(&shifted), URL_SAFE_NO_PAD.encode(&shifted)] {
            if let Some(core) = encoded.get(skip..keep.min(encoded.len())) {
                out.push(core.as_bytes().to_vec());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Replaces every run of text covered by known windows with [`REDACTED`].
fn scrub_windows(text: &str, windows: &HashSet<Vec<u8>>) -> String {
    let bytes = text.as_bytes();
    if windows.is_empty() || bytes.len() < MIN_MATCH {
        return text.to_string();
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for i in 0..=bytes.len() - MIN_MATCH {
        if windows.contains(&bytes[i..i + MIN_MATCH]) {
            match runs.last_mut() {
                Some((_, end)) if *end >= i => *end = i + MIN_MATCH,
                _ => runs.push((i, i + MIN_MATCH)),
            }
        }
    }
    if runs.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (mut start, mut end) in runs {
        // A run starts and ends on character boundaries (secrets may hold non-ASCII).
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if start < at {
            start = at;
        }
        out.push_str(&text[at..start]);
        if start < end {
            out.push_str(REDACTED);
        }
        at = at.max(end);
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("00Dxx!AQ0verysecret");
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(s.expose(), "00Dxx!AQ0verysecret");
    }

    #[test]
    fn redactor_scrubs_longest_first() {
        let r = Redactor::default();
        r.add("abcdefgh");
        r.add("xxabcdefghxx");
        r.add("ab");
        assert_eq!(
            r.scrub("a xxabcdefghxx b abcdefgh ab"),
            "a [REDACTED] b [REDACTED] ab"
        );
        let mut v = serde_json::json!({"a": ["abcdefgh", 1], "b": {"c": "zabcdefghz"}});
        r.scrub_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["[REDACTED]", 1], "b": {"c": "z[REDACTED]z"}})
        );
    }

    const TOKEN: &str = "00DXX0000000001!AQ4AQPlantedAccessToken.abcdefghij0123456789xyz";

    fn redactor() -> Redactor {
        let r = Redactor::default();
        r.add(TOKEN);
        r
    }

    #[test]
    fn any_long_run_of_a_secret_is_scrubbed() {
        let r = redactor();
        let first_40 = &TOKEN[..40];
        let text = format!("Invalid value `{first_40}…` in field");
        // Only a run inside the public org ID part may stay; the rest, `!` on, is gone.
        assert_eq!(r.scrub(&text), "Invalid value `00DX[REDACTED]…` in field");
        let tail = &TOKEN[TOKEN.len() - 12..];
        assert_eq!(r.scrub(&format!("x{tail}y")), "x[REDACTED]y");
        let middle = &TOKEN[20..35];
        assert!(!r.scrub(&format!("a {middle} b")).contains(middle));
        // Eleven characters are not enough to tell a secret from ordinary text.
        let short = &TOKEN[20..31];
        assert_eq!(r.scrub(short), short);
        // The org ID that starts a session ID is public.
        let org = "record of org 00DXX0000000001EAA";
        assert_eq!(r.scrub(org), org);
        // Runs spanning the `!` are not.
        assert!(!r.scrub("00000001!AQ4AQ").contains("01!AQ4AQ"));
    }

    #[test]
    fn encoded_secrets_are_scrubbed() {
        let r = redactor();
        let form: String = url::form_urlencoded::byte_serialize(TOKEN.as_bytes()).collect();
        assert!(form.contains("%21"), "{form}");
        let basic = STANDARD.encode(format!("api-id:{TOKEN}"));
        let basic_shifted = STANDARD.encode(format!("id:{TOKEN}"));
        let url_safe = URL_SAFE_NO_PAD.encode(format!("{{\"t\":\"{TOKEN}\"}}"));
        for planted in [
            form.clone(),
            format!("access_token={form}&x=1"),
            STANDARD.encode(TOKEN),
            format!("Authorization: Basic {basic}"),
            format!("Basic {basic_shifted}"),
            url_safe.clone(),
            format!("eyJhbGciOiJSUzI1NiJ9.{url_safe}.sig"),
        ] {
            let scrubbed = r.scrub(&planted);
            assert!(scrubbed.contains(REDACTED), "{planted} → {scrubbed}");
            // Nothing longer than a run of 11 characters of any form survives.
            for form in forms(TOKEN.as_bytes()) {
                for w in form.windows(MIN_MATCH) {
                    let w = std::str::from_utf8(w).unwrap();
                    assert!(!scrubbed.contains(w), "{planted} → {scrubbed} keeps {w}");
                }
            }
        }
    }

    #[test]
    fn public_values_next_to_a_secret_are_kept() {
        let r = Redactor::default();
        r.add_public("fake-aircall-api-id");
        r.add("fake-aircall-api-token-0123456789");
        assert_eq!(
            r.scrub("user fake-aircall-api-id"),
            "user fake-aircall-api-id"
        );
        assert_eq!(
            r.scrub("fake-aircall-api-token-0123456789"),
            "fake-a[REDACTED]"
        );
    }

    #[test]
    fn scrubbing_keeps_text_valid_and_ordinary_text_intact() {
        let r = Redactor::default();
        r.add("sécret-tøken-with-ünicode-0123");
        let text = "a sécret-tøken-with-ünicode-0123 é";
        assert_eq!(r.scrub(text), "a [REDACTED] é");
        let ordinary = "https://acme.my.salesforce.com/services/data/v66.0/query";
        assert_eq!(redactor().scrub(ordinary), ordinary);
    }
}
