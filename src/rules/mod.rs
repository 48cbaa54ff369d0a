//! Rule files, their validation, the catalogue, selection and the pure evaluator.
//! Never does I/O except through [`catalogue`] loading files it is told to, never prints.

pub mod catalogue;
pub mod eval;
pub mod file;
pub mod select;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use catalogue::{Catalogue, RuleError};
pub use eval::{Finding, evaluate};
pub use file::{Assertion, Check, Each, MatchMode, Op, Rule};

/// How bad a failing rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Information.
    Note,
    /// The guide recommends it, or a deviation that usually works.
    Warning,
    /// The integration breaks, or the guide says "exact".
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The guide's steps, in the guide's order, plus the prerequisites before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Prerequisites,
    IntegrationUser,
    AircallApiKey,
    AircallNamedCredential,
    ConnectedApp,
    AuthProvider,
    Site,
    EciNamedCredential,
    GuestUser,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Prerequisites,
        Step::IntegrationUser,
        Step::AircallApiKey,
        Step::AircallNamedCredential,
        Step::ConnectedApp,
        Step::AuthProvider,
        Step::Site,
        Step::EciNamedCredential,
        Step::GuestUser,
    ];

    /// The kebab-case key used in rule files and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Step::Prerequisites => "prerequisites",
            Step::IntegrationUser => "integration-user",
            Step::AircallApiKey => "aircall-api-key",
            Step::AircallNamedCredential => "aircall-named-credential",
            Step::ConnectedApp => "connected-app",
            Step::AuthProvider => "auth-provider",
            Step::Site => "site",
            Step::EciNamedCredential => "eci-named-credential",
            Step::GuestUser => "guest-user",
        }
    }

    /// The guide's section title.
    pub fn title(self) -> &'static str {
        match self {
            Step::Prerequisites => "Prerequisites",
            Step::IntegrationUser => "1. Log In as the Integration User",
            Step::AircallApiKey => "2. Generate the API Key for Aircall",
            Step::AircallNamedCredential => "3. Add Aircall Named Credentials",
            Step::ConnectedApp => "4. Set Up the Connected App",
            Step::AuthProvider => "5. Add ECI as an Authorized Provider",
            Step::Site => "6. Set Up the Salesforce Site",
            Step::EciNamedCredential => "7. Add ECI Named Credentials",
            Step::GuestUser => "8. Assign the Guest User Permission Set",
        }
    }
}

/// How a rule ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// The data the rule needs was not collected.
    Unknown,
    /// A rule it requires did not pass.
    Blocked,
    /// No API exposes the fact: a person must look.
    Manual,
    /// A matching, unexpired waiver exists.
    Waived,
    /// Not applicable to this source: the rule needs data this kind of source can never hold
    /// (org-only facts from a metadata directory). Does not make the audit incomplete.
    Skipped,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Pass,
        Status::Fail,
        Status::Unknown,
        Status::Blocked,
        Status::Manual,
        Status::Waived,
        Status::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::Blocked => "blocked",
            Status::Manual => "manual",
            Status::Waived => "waived",
            Status::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
