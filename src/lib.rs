//! eci-audit: a read-only auditor for the Einstein Conversation Insights + Aircall setup.
//!
//! Data flows one way: source → [`snapshot`] → [`facts`] → [`rules`] → [`report`].

pub mod app;
pub mod audit;
pub mod baseline;
pub mod cli;
pub mod collect;
pub mod config;
pub mod diff;
pub mod facts;
pub mod guide;
pub mod options;
pub mod report;
pub mod rules;
pub mod snapshot;
pub mod text;
pub mod urls;
