//! Command-line types only (clap derive); no logic.

// Field docs here are `--help` text, where backticks would show as such.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Arg, Args, Parser, Subcommand, ValueEnum};

use crate::audit::FailOn;
use crate::options::ColorChoice;
use crate::report::Format;
use crate::report::diff::DiffFormat;

/// Read-only auditor for the Einstein Conversation Insights + Aircall setup of a Salesforce org.
#[derive(Debug, Parser)]
#[command(name = "eci-audit", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Examples, environment and exit codes, after `check --help`'s flags.
const CHECK_AFTER_HELP: &str = "\
Examples:
  eci-audit check snapshot.json                          a snapshot a customer sent
  eci-audit check force-app --my-domain acme.my.salesforce.com --output eci.sarif
  eci-audit check -o my-org                              a live org through the sf CLI

Environment:
  SF_ACCESS_TOKEN        access token for --instance-url
  SF_CLIENT_SECRET       client secret for the client credentials flow
  AIRCALL_API_ID, AIRCALL_API_TOKEN   run the Aircall API check (AIR011)
  ECI_AUDIT_SF_BIN       the Salesforce CLI program (default: sf)
  NO_COLOR, COLUMNS      no colours; table width

Exit codes:
  0  passed   1  a failure at or above --fail-on   2  could not run   3  incomplete";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a snapshot file, a metadata directory or a live org against the setup guide.
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(Box<CheckArgs>),
    /// Read a live org and write a redacted snapshot file (for support).
    Collect(CollectArgs),
    /// List the rule catalogue.
    Rules(RulesArgs),
    /// Explain one rule: requirement, rationale, expected value and fix.
    Explain(ExplainArgs),
    /// List the facts a rule may name (roots, fields and their types).
    Facts(FactsArgs),
    /// Print the JSON Schema of the snapshot file, or with --report of the JSON report.
    Schema(SchemaArgs),
    /// Compare two runs: JSON reports, snapshot files or metadata directories (audited with the same settings).
    #[command(after_help = DIFF_AFTER_HELP)]
    Diff(DiffArgs),
    /// Print a shell completion script (e.g. `eci-audit completions bash > /etc/bash_completion.d/eci-audit`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `eci-audit man > eci-audit.1`.
    Man,
}

/// Examples and exit codes, after `diff --help`'s flags.
const DIFF_AFTER_HELP: &str = "\
Examples:
  eci-audit diff sandbox.json production.json          two snapshots: rules and facts that differ
  eci-audit diff last-week.report.json report.json     two JSON reports (check --format json)
  eci-audit diff main/force-app force-app --my-domain acme.my.salesforce.com --format markdown

Exit codes:
  0  NEW has no failure at or above --fail-on that OLD did not
  1  NEW has such a failure (a regression)
  2  could not run (an input that is no JSON report, snapshot or metadata directory; bad flags)
  3  no new failure, but rules at or above --fail-on that OLD evaluated NEW could not
     (unknown, or blocked behind an unknown rule); --allow-incomplete makes this 0";

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the schema of the JSON report (`check --format json`) instead of the snapshot's.
    #[arg(long)]
    pub report: bool,
}

/// `diff` takes `check`'s audit settings, which apply only to the snapshots and metadata
/// directories it audits; its help says so.
#[derive(Debug, Args)]
#[command(mut_args(diff_settings_help))]
pub struct DiffArgs {
    /// The earlier run: a JSON report of `check --format json`, a snapshot file or a metadata
    /// directory.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The later run: a JSON report, a snapshot file or a metadata directory.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table, help_heading = "Output")]
    pub format: DiffFormat,

    /// Write the comparison to this file (atomically; `-` is standard output).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Exit 0 instead of 3 when NEW could not evaluate rules that OLD did.
    #[arg(long, help_heading = "Selection and gating")]
    pub allow_incomplete: bool,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// `diff`'s help for the [`SettingsArgs`] whose wording differs from `check`'s. In place
/// (`mut_args`, not `mut_arg`, which would move the argument and its heading to the end).
fn diff_settings_help(arg: Arg) -> Arg {
    let help = match arg.get_id().as_str() {
        "fail_on" => "Lowest severity whose new failures make the exit code 1 [default: error]",
        "select" => {
            "Snapshots: only these rules (IDs or area prefixes; repeatable, comma-separated)"
        }
        "ignore" => {
            "Snapshots: skip these rules (IDs or area prefixes; repeatable, comma-separated)"
        }
        "integration_user" => "Snapshots: the integration user's username",
        "refresh_token_days" => {
            "Snapshots: the N of \"Expire refresh token after N days\" (CAP012)"
        }
        "my_domain" => "Snapshots: the org's My Domain (URL or host)",
        _ => return arg,
    };
    arg.help(help)
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Source")]
pub struct CheckArgs {
    /// A snapshot JSON file, a metadata directory (source or mdapi format) or a retrieve zip.
    #[arg(value_name = "SOURCE")]
    pub source: Option<PathBuf>,

    /// Audit a Salesforce metadata directory (source or mdapi format) or a retrieve zip.
    #[arg(long, value_name = "DIR", conflicts_with = "source")]
    pub metadata_dir: Option<PathBuf>,

    /// With a metadata directory: merge org data (users, assignments, guest user, domains) from
    /// this snapshot; the files win for metadata.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,

    /// The metadata directory is a complete retrieve: a missing component is a failure, not
    /// unknown.
    #[arg(long)]
    pub full_retrieve: bool,

    #[command(flatten)]
    pub live: LiveArgs,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Gate only on failures that are not in this earlier JSON report (matched by rule and
    /// logical location), and list the ones fixed since.
    #[arg(long, value_name = "REPORT", help_heading = "Selection and gating")]
    pub baseline: Option<PathBuf>,
}

/// How to reach a live org. The access token is read from `SF_ACCESS_TOKEN`, never a flag.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Live org")]
pub struct LiveArgs {
    /// Audit the org at this URL, with the access token in SF_ACCESS_TOKEN (https; plain http
    /// only for 127.0.0.1/localhost).
    #[arg(long, value_name = "URL", conflicts_with = "target_org")]
    pub instance_url: Option<String>,

    /// Audit the org of this Salesforce CLI alias or username (runs `sf org display` and
    /// `sf org auth show-access-token`); `-o` as in `sf`.
    #[arg(long, short = 'o', value_name = "ALIAS")]
    pub target_org: Option<String>,

    /// Connected-app consumer key for the JWT bearer or client-credentials flow.
    #[arg(long, value_name = "KEY")]
    pub client_id: Option<String>,

    /// Private key (PEM) for the JWT bearer flow; needs --client-id and --username.
    #[arg(long, value_name = "FILE", requires = "client_id")]
    pub jwt_key_file: Option<PathBuf>,

    /// Username for the JWT bearer flow.
    #[arg(long, value_name = "USERNAME")]
    pub username: Option<String>,

    /// Login URL for JWT / client credentials (client credentials need the My Domain URL).
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://login.salesforce.com"
    )]
    pub login_url: String,

    /// REST API version to use, e.g. 62.0 (default: the newest the org and the tool share).
    #[arg(long, value_name = "VERSION")]
    pub api_version: Option<String>,

    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,

    /// Deadline of the whole live run in seconds (authentication and every request included);
    /// past it the run stops with exit 2.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub deadline: u64,

    /// Print every request the audit would make (method, endpoint, SOQL) and make none.
    #[arg(long)]
    pub print_plan: bool,

    /// Log each request (method, path, status, time) and each retry on standard error, on a
    /// terminal or not. Without it, a terminal shows one progress line and a pipe nothing.
    #[arg(long, short = 'v', conflicts_with = "quiet")]
    pub verbose: bool,

    /// No progress line on standard error while a live run goes on.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Flags shared by everything that reports findings.
#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<Format>,

    /// Write the report to this file (atomically; a link's target is written, a device or
    /// FIFO is written in place; `-` is standard output).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub settings: SettingsArgs,

    /// ENC012 warns when the ECI refresh token expires within DAYS [default: 30].
    #[arg(long, value_name = "DAYS", help_heading = "Settings")]
    pub token_expiry_warning: Option<u32>,

    /// "Recent changes" lists Setup Audit Trail entries from DATE (YYYY-MM-DD) on.
    #[arg(
        long,
        value_name = "DATE",
        conflicts_with = "changes_days",
        help_heading = "Settings"
    )]
    pub changes_since: Option<chrono::NaiveDate>,

    /// "Recent changes" lists the last N days of the Setup Audit Trail [default: 30].
    #[arg(long, value_name = "N", help_heading = "Settings")]
    pub changes_days: Option<u32>,

    /// Exit 0 instead of 3 when rules could not be evaluated.
    #[arg(long, help_heading = "Selection and gating")]
    pub allow_incomplete: bool,

    /// Colour the table.
    #[arg(long, value_enum, help_heading = "Output")]
    pub color: Option<ColorChoice>,

    /// List every rule in the table, passing ones included (default: one line per step
    /// whose rules all pass).
    #[arg(long, help_heading = "Output")]
    pub show_passed: bool,

    /// Print the effective settings and where each came from, then exit without auditing.
    #[arg(long, help_heading = "Settings")]
    pub dump_config: bool,
}

/// The audit settings `check` and `diff` share (`diff` applies them to the runs it audits).
#[derive(Debug, Args, Clone, Default)]
pub struct SettingsArgs {
    /// Lowest severity whose failures make the exit code 1 [default: error].
    #[arg(long, value_enum, help_heading = "Selection and gating")]
    pub fail_on: Option<FailOn>,

    /// Only these rules: IDs or area prefixes such as CAP (repeatable, comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID",
        help_heading = "Selection and gating"
    )]
    pub select: Vec<String>,

    /// Skip these rules: IDs or area prefixes (repeatable, comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID",
        help_heading = "Selection and gating"
    )]
    pub ignore: Vec<String>,

    /// The integration user's username (default: detect the single active user holding
    /// "Conversation Insights Integration User").
    #[arg(long, value_name = "USERNAME", help_heading = "Settings")]
    pub integration_user: Option<String>,

    /// The N of "Expire refresh token after N days" your org must use (CAP012).
    #[arg(long, value_name = "N", help_heading = "Settings")]
    pub refresh_token_days: Option<u32>,

    /// The org's My Domain (URL or host); overrides what the source says.
    #[arg(long, value_name = "URL", help_heading = "Settings")]
    pub my_domain: Option<String>,

    /// Config file [default: ./eci-audit.toml when present].
    #[arg(long, value_name = "FILE", help_heading = "Settings")]
    pub config: Option<PathBuf>,

    /// Add or override rules with the rule files in this directory.
    #[arg(long, value_name = "DIR", help_heading = "Settings")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    /// The integration user's username, so its assignments are collected.
    #[arg(long, value_name = "USERNAME")]
    pub integration_user: Option<String>,

    /// The org's My Domain (URL or host), when the instance URL is not it.
    #[arg(long, value_name = "URL")]
    pub my_domain: Option<String>,

    /// Where to write the snapshot (atomically).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present_any = ["print_plan", "dump_config"]
    )]
    pub output: Option<PathBuf>,

    /// Config file (for `integration_user`, `my_domain` and `[permission_sets]`) [default:
    /// ./eci-audit.toml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print the effective settings and where each came from, then exit without collecting.
    #[arg(long)]
    pub dump_config: bool,
}

/// `rules --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum CatalogueFormat {
    #[default]
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CatalogueFormat::Table)]
    pub format: CatalogueFormat,

    /// Add or override rules with the rule files in this directory.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CatalogueFormat::Table)]
    pub format: CatalogueFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule ID such as CAP006, or an area such as CAP for all of its rules.
    pub id: String,

    /// Add or override rules with the rule files in this directory.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}
