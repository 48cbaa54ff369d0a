//! Shared test support: the fake Salesforce org.

pub mod fake_org;
