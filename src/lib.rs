//! eci-audit: a read-only auditor for the Einstein Conversation Insights + Aircall setup.
//!
//! Data flows one way: source → [`snapshot`] → [`rules`] → [`report`].

pub mod snapshot;
pub mod rules;
pub mod audit;
pub mod report;
pub mod app;
pub mod cli;
pub mod config;
