//! The bounds of one collection: how much a response may hold, how many requests it may send,
//! how long it and the Salesforce CLI may take. Every bound is far above what a real org needs,
//! so that only a misbehaving server (or a hostile one) reaches it; reaching one ends the
//! collection with an error that names it.

use std::time::Duration;

/// 1 MiB.
const MIB: u64 = 1 << 20;

/// The bounds of one collection. [`Default`] gives the production values; tests lower them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest response body of a data read: a query page, a Composite, a Tooling query, a
    /// describe, a `readMetadata` call. A Composite of five 2,000-row pages is a few MiB.
    pub max_body_bytes: u64,
    /// Largest response body of the small endpoints (token, userinfo, the versions resource,
    /// the Aircall ping), and of each output stream of the Salesforce CLI.
    pub max_small_body_bytes: u64,
    /// HTTP requests one collection may send, retries included. A healthy audit sends about
    /// 15; paging and follow-ups rarely add more than a few dozen.
    pub max_requests: u32,
    /// The whole collection, authentication included (`--deadline`), besides the
    /// per-request timeout.
    pub deadline: Duration,
    /// Each run of the Salesforce CLI (`sf org display`, `sf org auth show-access-token`);
    /// the CLI is killed when it takes longer.
    pub sf_cli_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * MIB,
            max_small_body_bytes: MIB,
            max_requests: 500,
            deadline: Duration::from_mins(5),
            sf_cli_timeout: Duration::from_mins(1),
        }
    }
}

/// `67108864` → `64 MiB`, `1536` → `1536 bytes`: a limit as the error shows it.
pub(crate) fn show_bytes(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// `300 s`, `1.5 s`: a duration as an error shows it.
pub(crate) fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_shown_in_round_units() {
        assert_eq!(show_bytes(Limits::default().max_body_bytes), "64 MiB");
        assert_eq!(show_bytes(Limits::default().max_small_body_bytes), "1 MiB");
        assert_eq!(show_bytes(64 * 1024), "64 KiB");
        assert_eq!(show_bytes(1000), "1000 bytes");
    }
}
