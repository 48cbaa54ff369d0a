//! What a live run tells its watcher while it runs: each request sent and answered, each retry
//! with its reason and wait. The collector never prints; the app layer decides whether these
//! become a progress line, a request log or nothing.
//!
//! Events carry the endpoint path (never its query string, which holds the SOQL) and a detail
//! that went through the transport's redactor, so a watcher cannot leak a secret.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::request::HttpMethod;

/// One thing that happened on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// A request is about to go out (retries are announced by [`Event::Retrying`] instead).
    Sent {
        phase: u8,
        method: HttpMethod,
        path: &'a str,
    },
    /// A request got its final answer: an HTTP status, or none (`status: None`, with why).
    Answered {
        phase: u8,
        method: HttpMethod,
        path: &'a str,
        status: Option<u16>,
        elapsed: Duration,
        detail: Option<&'a str>,
    },
    /// A transient failure (5xx, 429, connection error, truncated body); the request is sent
    /// again after `wait`. `attempt` counts retries from 1 up to `max`.
    Retrying {
        method: HttpMethod,
        path: &'a str,
        reason: &'a str,
        attempt: u32,
        max: u32,
        wait: Duration,
    },
}

/// Receives the events of a live run. Called from the collector's tasks: keep it quick.
pub trait Observer: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// A shareable observer, so options that hold one stay `Clone` and `Debug`.
#[derive(Clone)]
pub struct ObserverHandle(pub Arc<dyn Observer>);

impl ObserverHandle {
    pub fn new(observer: impl Observer + 'static) -> Self {
        ObserverHandle(Arc::new(observer))
    }

    pub(crate) fn emit(&self, event: &Event<'_>) {
        self.0.event(event);
    }
}

impl fmt::Debug for ObserverHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ObserverHandle")
    }
}
