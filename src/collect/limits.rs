//! The bounds of one collection: how much a response may hold. Every bound is far above what a
//! real org answers, so that only a misbehaving server (or a hostile one) reaches it; reaching
//! one ends the collection with an error that names it.

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * MIB,
            max_small_body_bytes: MIB,
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
