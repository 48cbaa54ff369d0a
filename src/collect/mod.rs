//! The live-org collector: reads an org through the REST, Tooling and Metadata (SOAP) APIs,
//! read-only, into a [`Snapshot`](crate::snapshot::Snapshot). The only code of the crate that
//! uses tokio and reqwest.
//!
//! Round trips after authentication (see [`plan`] for the exact requests):
//! 1. `GET /services/data/` (the API versions; skipped with [`CollectOptions::api_version`]),
//!    with `userinfo` and the Aircall ping alongside;
//! 2. everything else at once: the SOQL in Composite batches of at most 5 queries, the Tooling
//!    query, the `VoiceCall` describe and the five `readMetadata` calls;
//! 3. the profiles' language-independent API names (Tooling `Profile.FullName`, one-row
//!    queries batched through `/tooling/composite`), and only when needed: queries retried
//!    without optional fields after `INVALID_FIELD`, plain queries for a semi-join Salesforce
//!    refused (`MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`), the Tooling
//!    `NamedCredential` when `readMetadata NamedCredential` was refused, and (candidate mode)
//!    profile-owned permission sets not returned as assignments;
//! 4. only after a retry or a fallback of a query naming users: their profiles' API names.
//!
//! Further pages of a large result (`nextRecordsUrl`, also of child subqueries) follow their
//! query, each one more sequential round trip, counted in [`CollectStats::phases`]; the pages of
//! different queries are read concurrently. A result longer than [`MAX_PAGES_PER_QUERY`] pages
//! ends the run naming the limit; a `nextRecordsUrl` seen before marks that query not collected
//! (the org's answer loops). The whole collection is bounded by [`Limits`]: response
//! body sizes, requests sent (retries included), a deadline, and the `sf` CLI's run time and
//! output; reaching one ends it with an error naming the limit.
//!
//! A zero-row answer proves absence (collected, empty); a refused read never does: it marks the
//! affected collection or field *not collected* with Salesforce's `errorCode` and message.
//! Fatal answers (401, `INVALID_SESSION_ID`, `REQUEST_LIMIT_EXCEEDED`) end the collection with a
//! [`CollectError`], and so does an org that gives no HTTP answer at all
//! ([`CollectError::Transport`]). No secret ever reaches the snapshot, an error or a log; URLs
//! the caller gave are only shown as `scheme://host[:port]/path`.
//!
//! Modules, leaves first (each uses only modules before it): `url`, `secret`, `limits` (the
//! bounds of a collection), `request`, `readonly` (the read-only allow-list), `error`, `soql`,
//! `soap`, `rest`, `transport`, `read` (one read: fatal answers are errors, the rest is data),
//! `gathered`, `paging`, `auth`, `aircall`, `version`, `jobs`, `fallback`, `follow_up`,
//! `phases`, `map`, `api`, `plan_json`.

mod aircall;
mod api;
mod auth;
mod error;
mod fallback;
mod follow_up;
mod gathered;
mod jobs;
mod limits;
mod map;
mod observe;
mod paging;
mod phases;
mod plan_json;
mod read;
mod readonly;
mod request;
mod rest;
mod runtime_soql;
mod secret;
mod soap;
mod soql;
mod transport;
mod url;
mod version;

pub use aircall::{
    AIRCALL_API_ID_ENV, AIRCALL_API_TOKEN_ENV, AIRCALL_BASE_URL_ENV, AIRCALL_DEFAULT_BASE_URL,
    AircallCredentials,
};
pub use api::{
    ApiUsage, CollectOptions, CollectOutcome, CollectStats, collect, collect_blocking, plan,
};
pub use auth::{ACCESS_TOKEN_ENV, AuthMethod, CLIENT_SECRET_ENV, SF_BIN_ENV, TokenFlow};
pub use error::{AuthError, CollectError, check_url};
pub use limits::Limits;
pub use observe::{Event, Observer, ObserverHandle};
pub use paging::MAX_PAGES_PER_QUERY;
pub use plan_json::plan_json;
pub use request::{HttpMethod, PlannedRequest};
pub use secret::Secret;
pub use soql::{CONNECTED_APP_NAMES, DEFAULT_CANDIDATE_PERMISSION_SET, SITE_NAME};
pub use transport::RetryPolicy;
pub use version::MAX_API_VERSION;
