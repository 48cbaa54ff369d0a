//! Secrets (access tokens, client secrets, the Aircall token) and the scrubber that keeps them
//! out of everything the collector returns.

use std::fmt;
use std::sync::{Arc, RwLock};

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

/// Secrets below this length are not scrubbed by substring: replacing a 3-letter "secret"
/// everywhere would corrupt ordinary values, and real tokens are far longer.
const MIN_SCRUB_LEN: usize = 6;

/// Every secret the collector has seen; [`Redactor::scrub`] removes them from any text that
/// leaves the collector (server messages quoted in errors, reasons, snapshot strings).
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    pub fn add(&self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SCRUB_LEN {
            return;
        }
        if let Ok(mut secrets) = self.secrets.write()
            && !secrets.iter().any(|s| s == secret)
        {
            secrets.push(secret.to_string());
            // Longest first, so a secret containing another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let Ok(secrets) = self.secrets.read() else {
            return text.to_string();
        };
        let mut out = text.to_string();
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
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
        let n = self.secrets.read().map_or(0, |s| s.len());
        write!(f, "Redactor({n} secrets)")
    }
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
}
