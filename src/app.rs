//! The commands: read inputs, call the library, hand back what to print and the exit code.
//! `main` does the printing.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::audit::{self, AuditOptions, ExitStatus, ReadKind};
use crate::baseline::{self, ReportFileError};
use crate::cli::{
    CatalogueFormat, CheckArgs, CollectArgs, Command, DiffArgs, ExplainArgs, FactsArgs, LiveArgs,
    RulesArgs, SchemaArgs,
};
use crate::collect::{
    AircallCredentials, AuthError, AuthMethod, CollectError, CollectOptions, CollectOutcome,
    DEFAULT_CANDIDATE_PERMISSION_SET, TokenFlow, collect_blocking, plan,
};
use crate::config::{self, ConfigError};
use crate::diff::{self, Side};
use crate::facts::{FactView, Settings};
use crate::options::{ColorChoice, InvalidSettings, Layer, Options, Origin, Resolved, Setting};
use crate::report::settings::Scope;
use crate::report::{self, Format, RenderOptions, Run, RunError};
use crate::rules::select::suggestion;
use crate::rules::{Catalogue, RuleError};
use crate::snapshot::metadata::{MetadataError, MetadataOptions, load_metadata, merge_org_data};
use crate::snapshot::{self, Snapshot, SnapshotError};

/// Why a command could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Settings(#[from] InvalidSettings),
    #[error(transparent)]
    Report(#[from] ReportFileError),
    #[error("unknown rule `{id}`{}", suggestion(.close))]
    UnknownRule { id: String, close: Vec<String> },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: the folder {} does not exist", path.display(), folder.display())]
    MissingFolder { path: PathBuf, folder: PathBuf },
    #[error("cannot write {}: it is a directory", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "{origin}: `output` {} resolves to {}, outside the current directory; an eci-audit.toml found in the current directory may only write inside it (give --output, or name the file with --config to trust it)",
        path.display(),
        resolved.display()
    )]
    OutputOutside {
        origin: String,
        path: PathBuf,
        resolved: PathBuf,
    },
    #[error("{0}")]
    Usage(String),
}

impl AppError {
    /// The message with every cause after it (`cannot read snapshot x.json: No such file…`):
    /// messages never repeat their source, so the chain is joined here, once, for standard
    /// error and the error documents alike.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// The chain as standard error shows it: every character that could forge a line or
    /// drive the terminal escaped ([`report::escape`]), since messages quote file names, org
    /// values and XML text. A list of settings problems keeps its own line breaks, each
    /// problem escaped on its line.
    pub fn chain_for_terminal(&self) -> String {
        let problems = match self {
            AppError::Settings(s) | AppError::Config(ConfigError::Invalid(s)) => Some(s),
            _ => None,
        };
        match problems {
            Some(settings) if settings.0.len() > 1 => {
                settings.layout(|p| report::escape::line(&p).into_owned())
            }
            _ => report::escape::line(&self.chain()).into_owned(),
        }
    }

    /// What failed, as the error documents name it.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Snapshot(_) => "snapshot",
            AppError::Metadata(_) => "metadata",
            AppError::Collect(_) => "collect",
            AppError::Auth(_) => "auth",
            AppError::Rules(_) => "rules",
            AppError::Config(_) => "config",
            AppError::Settings(_) => "settings",
            AppError::Report(_) => "report",
            AppError::Write { .. } | AppError::MissingFolder { .. } | AppError::NotAFile { .. } => {
                "write"
            }
            AppError::OutputOutside { .. } => "config",
            AppError::UnknownRule { .. } | AppError::Usage(_) => "usage",
        }
    }
}

/// What a command produced.
#[derive(Debug)]
pub struct Output {
    /// The text for standard output (empty when written to a file).
    pub stdout: String,
    /// A short line for standard error (e.g. "report written to …").
    pub stderr: Option<String>,
    pub status: ExitStatus,
}

/// Runs one command.
pub fn run(command: Command) -> Result<Output, AppError> {
    match command {
        Command::Check(args) => check(*args),
        Command::Collect(args) => collect_command(args),
        Command::Rules(args) => rules(args),
        Command::Explain(args) => explain(args),
        Command::Facts(args) => Ok(facts(&args)),
        Command::Schema(SchemaArgs { report: false }) => {
            Ok(printed(report::json::pretty(&snapshot::json_schema())))
        }
        Command::Schema(SchemaArgs { report: true }) => Ok(printed(report::json::pretty(
            &report::json::report_schema(),
        ))),
        Command::Diff(args) => diff_command(&args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(
                shell,
                &mut <crate::cli::Cli as clap::CommandFactory>::command(),
                "eci-audit",
                &mut out,
            );
            Ok(printed(String::from_utf8_lossy(&out).into_owned()))
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<crate::cli::Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| AppError::Usage(format!("cannot render the man page: {e}")))?;
            Ok(printed(String::from_utf8_lossy(&out).into_owned()))
        }
    }
}

/// What a command that only prints produced.
fn printed(stdout: String) -> Output {
    Output {
        stdout,
        stderr: None,
        status: ExitStatus::Passed,
    }
}

/// `--rules DIR`, else the config file's `rules`.
fn rules_dir(flag: Option<PathBuf>) -> Result<Option<PathBuf>, AppError> {
    Ok(match flag {
        Some(dir) => Some(dir),
        None => config::load(None)?.layer.rules.map(|r| r.value),
    })
}

fn facts(args: &FactsArgs) -> Output {
    printed(match args.format {
        CatalogueFormat::Table => report::catalogue::facts_table(terminal_width()),
        CatalogueFormat::Json => report::catalogue::facts_json(),
        CatalogueFormat::Markdown => report::catalogue::facts_markdown(),
    })
}

fn rules(args: RulesArgs) -> Result<Output, AppError> {
    let catalogue = Catalogue::with_extra(rules_dir(args.rules)?.as_deref())?;
    let stdout = match args.format {
        CatalogueFormat::Table => report::catalogue::rules_table(&catalogue, terminal_width()),
        CatalogueFormat::Json => report::catalogue::rules_json(&catalogue),
        CatalogueFormat::Markdown => report::catalogue::rules_markdown(&catalogue),
    };
    Ok(printed(stdout))
}

fn explain(args: ExplainArgs) -> Result<Output, AppError> {
    let catalogue = Catalogue::with_extra(rules_dir(args.rules.clone())?.as_deref())?;
    let id = args.id.trim().to_ascii_uppercase();
    // An area (`CAP`): its rules, each explained, in guide order.
    let area: Vec<&crate::rules::Rule> = catalogue
        .in_guide_order()
        .into_iter()
        .filter(|r| id.len() == 3 && r.area() == id)
        .collect();
    if !area.is_empty() {
        let texts: Vec<String> = area.iter().map(|r| report::catalogue::explain(r)).collect();
        return Ok(printed(texts.join("\n")));
    }
    match catalogue.get(&id) {
        Some(rule) => Ok(printed(report::catalogue::explain(rule))),
        None => Err(AppError::UnknownRule {
            close: crate::rules::select::close_ids(&catalogue, &id),
            id: args.id,
        }),
    }
}

/// The Salesforce DX project around the current folder: the nearest folder at or above it
/// that holds `sfdx-project.json`, as a relative path (`.`, `..`, …) so findings keep short
/// paths.
fn enclosing_sfdx_project() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let mut relative = PathBuf::from(".");
    for dir in cwd.ancestors() {
        if dir.join("sfdx-project.json").is_file() {
            return Some(relative);
        }
        relative = if relative == Path::new(".") {
            PathBuf::from("..")
        } else {
            relative.join("..")
        };
    }
    None
}

/// Where the snapshot comes from.
enum Source {
    SnapshotFile(PathBuf),
    /// A metadata directory or retrieve zip, optionally merged with org data from a snapshot.
    Metadata {
        path: PathBuf,
        org: Option<PathBuf>,
    },
    /// A live org.
    Live(AuthMethod),
}

/// The authentication the live flags ask for, if any. Tokens and secrets come from the
/// environment only; `--print-plan` reads none of them.
fn auth_of(live: &LiveArgs) -> Result<Option<AuthMethod>, AppError> {
    if live.print_plan {
        let token_flow = match (&live.client_id, &live.jwt_key_file) {
            (Some(_), Some(_)) => Some(TokenFlow::JwtBearer {
                login_url: live.login_url.clone(),
            }),
            (Some(_), None) => Some(TokenFlow::ClientCredentials {
                login_url: live.login_url.clone(),
            }),
            _ => None,
        };
        if live.instance_url.is_none() && live.target_org.is_none() && token_flow.is_none() {
            return Ok(None);
        }
        return Ok(Some(AuthMethod::PlanOnly {
            instance_url: live.instance_url.as_deref().map(crate::urls::with_scheme),
            token_flow,
        }));
    }
    if let Some(url) = &live.instance_url {
        return Ok(Some(AuthMethod::access_token_from_env(
            crate::urls::with_scheme(url),
        )?));
    }
    if let Some(alias) = &live.target_org {
        return Ok(Some(AuthMethod::SfCli {
            target_org: alias.clone(),
        }));
    }
    match (&live.client_id, &live.jwt_key_file, &live.username) {
        (Some(id), Some(key), Some(user)) => Ok(Some(AuthMethod::JwtBearer {
            client_id: id.clone(),
            key_file: key.clone(),
            username: user.clone(),
            login_url: live.login_url.clone(),
            audience: None,
        })),
        (Some(_), Some(_), None) => Err(AppError::Usage(
            "the JWT bearer flow needs --username".to_string(),
        )),
        (Some(id), None, _) => Ok(Some(AuthMethod::client_credentials_from_env(
            id.clone(),
            live.login_url.clone(),
        )?)),
        _ => Ok(None),
    }
}

/// Collection options from the settings and the environment.
fn collect_options(
    live: &LiveArgs,
    auth: AuthMethod,
    options: &Options,
) -> Result<CollectOptions, AppError> {
    let mut opts = CollectOptions::new(auth);
    // A bare host means https.
    opts.my_domain = options
        .my_domain
        .as_ref()
        .map(|d| crate::urls::url_origin(&d.value).unwrap_or(d.value.clone()));
    opts.api_version.clone_from(&live.api_version);
    opts.timeout = std::time::Duration::from_secs(live.timeout.max(1));
    opts.limits.deadline = std::time::Duration::from_secs(live.deadline.max(1));
    opts.integration_user = options.integration_user.as_ref().map(|u| u.value.clone());
    opts.candidate_permission_sets = std::iter::once(DEFAULT_CANDIDATE_PERMISSION_SET.to_string())
        .chain(options.integration_user_names.value.iter().cloned())
        .collect();
    opts.now = Some(clock()?);
    opts.aircall = if live.print_plan {
        AircallCredentials::for_plan_from_env()?
    } else {
        AircallCredentials::from_env()?
    };
    if !live.print_plan {
        use std::io::IsTerminal as _;
        let mode = crate::report::progress::Mode::choose(
            live.verbose,
            live.quiet,
            std::io::stderr().is_terminal(),
        );
        opts.observer = crate::report::progress::observer(mode);
    }
    Ok(opts)
}

/// The environment variable that fixes the clock (RFC 3339), for reproducible runs and tests.
const NOW_VARIABLE: &str = "ECI_AUDIT_NOW";

/// The run's clock: [`NOW_VARIABLE`] when set, else the system clock. Expiry, waivers and the
/// run-time evidence's windows are judged against it.
fn clock() -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    match std::env::var(NOW_VARIABLE) {
        Ok(v) if !v.trim().is_empty() => chrono::DateTime::parse_from_rfc3339(v.trim())
            .map(|t| t.to_utc())
            .map_err(|e| {
                AppError::Usage(format!(
                    "{NOW_VARIABLE} must be an RFC 3339 time such as 2026-11-28T10:00:00Z: {e}"
                ))
            }),
        _ => Ok(chrono::Utc::now()),
    }
}

/// `--print-plan`: every request, none made.
fn plan_text(opts: &CollectOptions) -> Result<String, AppError> {
    let mut out = String::from("eci-audit would make these requests (read-only; none was made):\n");
    for req in plan(opts)? {
        out.push_str(&report::escape::lines(&req.to_string()));
        out.push('\n');
    }
    Ok(out)
}

/// `--print-plan --format json`: the plan with every query in paste-ready form.
fn plan_json_text(opts: &CollectOptions) -> Result<String, AppError> {
    let value = crate::collect::plan_json(opts)?;
    let mut text = serde_json::to_string_pretty(&value).map_err(|e| {
        AppError::Collect(crate::collect::CollectError::Internal(format!(
            "cannot serialize the plan: {e}"
        )))
    })?;
    text.push('\n');
    Ok(text)
}

fn stats_line(outcome: &CollectOutcome) -> String {
    let s = &outcome.stats;
    let mut line = format!(
        "eci-audit: {} HTTP requests in {} sequential phases, {} counted against the org's daily API limit",
        s.http_requests, s.phases, s.api_calls
    );
    if let Some(u) = &s.api_usage {
        line.push_str(&format!(" (org usage {}/{})", u.used, u.allowed));
    }
    if s.retries > 0 {
        line.push_str(&format!(", {} retries", s.retries));
    }
    line
}

fn collect_command(args: CollectArgs) -> Result<Output, AppError> {
    let options = Options::merge(
        Layer::from_collect_flags(&args),
        config::load(args.config.as_deref())?,
    );
    options.check()?;
    if args.dump_config {
        return Ok(printed(report::settings::render(&options, Scope::Collect)));
    }
    let Some(auth) = auth_of(&args.live)? else {
        return Err(AppError::Usage(
            "collect needs a live org: --instance-url (with SF_ACCESS_TOKEN), --target-org, or --client-id".to_string(),
        ));
    };
    let opts = collect_options(&args.live, auth, &options)?;
    if args.live.print_plan {
        return Ok(printed(plan_text(&opts)?));
    }
    let Some(path) = args.output else {
        return Err(AppError::Usage("collect needs --output FILE".to_string()));
    };
    // `--output -`: the snapshot goes to standard output.
    let path = (!is_stdout(&path)).then_some(path);
    if let Some(path) = &path {
        destination(path)?;
    }
    let outcome = collect_blocking(&opts)?;
    let mut text = serde_json::to_string_pretty(&outcome.snapshot).map_err(|e| {
        AppError::Collect(crate::collect::CollectError::Internal(format!(
            "cannot serialize the snapshot: {e}"
        )))
    })?;
    text.push('\n');
    let Some(path) = path else {
        return Ok(Output {
            stdout: text,
            stderr: Some(stats_line(&outcome)),
            status: ExitStatus::Passed,
        });
    };
    write_output(&path, text.as_bytes())?;
    Ok(Output {
        stdout: String::new(),
        stderr: Some(format!(
            "{}\neci-audit: snapshot written to {}",
            stats_line(&outcome),
            report::escape::line(&path.display().to_string())
        )),
        status: ExitStatus::Passed,
    })
}

/// Decides the source from the arguments: a directory or `.zip` is metadata, a file is a
/// snapshot.
fn source_of(args: &CheckArgs) -> Result<Source, AppError> {
    if let Some(auth) = auth_of(&args.live)? {
        if args.full_retrieve {
            return Err(AppError::Usage(
                "--full-retrieve only applies to a metadata directory".to_string(),
            ));
        }
        if args.source.is_some() || args.metadata_dir.is_some() || args.snapshot.is_some() {
            return Err(AppError::Usage(
                "give either a live org or a snapshot / metadata directory, not both".to_string(),
            ));
        }
        return Ok(Source::Live(auth));
    }
    if args.live.print_plan {
        return Err(AppError::Usage(
            "--print-plan needs a live org (--instance-url, --target-org or --client-id)"
                .to_string(),
        ));
    }
    let is_metadata =
        |p: &Path| p.is_dir() || p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let source = match (&args.metadata_dir, &args.source, &args.snapshot) {
        (Some(dir), _, org) => Source::Metadata {
            path: dir.clone(),
            org: org.clone(),
        },
        (None, Some(p), org) if is_metadata(p) => Source::Metadata {
            path: p.clone(),
            org: org.clone(),
        },
        (None, Some(p), None) => Source::SnapshotFile(p.clone()),
        (None, None, Some(p)) => Source::SnapshotFile(p.clone()),
        (None, Some(_), Some(_)) => {
            return Err(AppError::Usage(
                "--snapshot merges org data into a metadata directory; give the directory with --metadata-dir".to_string(),
            ));
        }
        (None, None, None) => match enclosing_sfdx_project() {
            // As `sf` does: inside a Salesforce DX project, the project is what to audit.
            Some(project) => Source::Metadata {
                path: project,
                org: None,
            },
            None => {
                return Err(AppError::Usage(
                    "nothing to audit: give a snapshot file, a metadata directory (--metadata-dir) or a live org (--instance-url / --target-org), or run inside a Salesforce DX project (sfdx-project.json)"
                        .to_string(),
                ));
            }
        },
    };
    if args.full_retrieve && !matches!(source, Source::Metadata { .. }) {
        return Err(AppError::Usage(
            "--full-retrieve only applies to a metadata directory".to_string(),
        ));
    }
    Ok(source)
}

/// Where a `check` report goes, as far as the settings are known.
struct ReportTarget {
    format: Format,
    output: Option<PathBuf>,
}

fn check(args: CheckArgs) -> Result<Output, AppError> {
    let flags = Layer::from_check_flags(&args);
    // Until the config file is read, only the flags say where a report goes.
    let mut target = ReportTarget {
        format: flags.format.as_ref().map(|f| f.value).unwrap_or_default(),
        output: flags
            .output
            .as_ref()
            .map(|o| o.value.clone())
            .filter(|p| !is_stdout(p)),
    };
    let result = run_check(&args, flags, &mut target);
    if let (Err(e), Some(path)) = (&result, &target.output) {
        // A CI job that uploads the report needs a file even when the audit cannot run.
        let error = RunError {
            kind: e.kind(),
            message: e.chain(),
        };
        if let Some(doc) =
            report::render(target.format, Run::Error(&error), &RenderOptions::default())
        {
            // The run already failed; a second failure would only hide the first.
            let _ = write_output(path, doc.as_bytes());
        }
    }
    result
}

fn run_check(
    args: &CheckArgs,
    flags: Layer,
    target: &mut ReportTarget,
) -> Result<Output, AppError> {
    let options = Options::merge(flags, config::load(args.report.settings.config.as_deref())?);
    if let Some(output) = &options.output
        && matches!(output.origin, Origin::Config { .. })
        && args.report.settings.config.is_none()
    {
        // Before the error document could be written there.
        check_implicit_output(output)?;
    }
    target.format = options.format.value;
    target.output = options
        .output
        .as_ref()
        .map(|o| o.value.clone())
        .filter(|p| !is_stdout(p));
    let catalogue = Catalogue::with_extra(options.rules.as_ref().map(|r| r.value.as_path()))?;
    let resolved = options.resolve(&catalogue)?;
    if args.report.dump_config {
        return Ok(printed(report::settings::render(&options, Scope::Check)));
    }
    // Auditing nothing would end "0 rules: … — passed": a CI gate that checks nothing.
    if resolved.selected.is_empty() {
        return Err(AppError::Usage(
            "no rule selected: the select and ignore settings together leave no rule to audit (see --dump-config)"
                .to_string(),
        ));
    }
    // Check the output folder before doing any work.
    if let Some(out) = &target.output {
        destination(out)?;
    }
    // Before any work: a baseline that is not a report is exit 2, whatever the audit finds.
    let baseline = match &args.baseline {
        Some(path) => Some((path.display().to_string(), baseline::read_report(path)?)),
        None => None,
    };
    let mut stats: Option<String> = None;
    let full_retrieve = options.full_retrieve.value;
    let source = source_of(args)?;
    let read = match &source {
        Source::SnapshotFile(_) => ReadKind::SnapshotFile,
        Source::Metadata { .. } => ReadKind::MetadataDir,
        Source::Live(_) => ReadKind::LiveOrg,
    };
    let (snapshot, input): (Snapshot, String) = match source {
        Source::SnapshotFile(p) => (snapshot::load_snapshot_file(&p)?, p.display().to_string()),
        Source::Metadata { path, org } => {
            let files = load_metadata(&path, &MetadataOptions { full_retrieve })?;
            let snap = match org {
                Some(org) => merge_org_data(files, snapshot::load_snapshot_file(&org)?),
                None => files,
            };
            (snap, path.display().to_string())
        }
        Source::Live(auth) => {
            let opts = collect_options(&args.live, auth, &options)?;
            if args.live.print_plan {
                let stdout = match options.format.value {
                    // Every query, paste-ready for Workbench or `sf data query`.
                    Format::Json => plan_json_text(&opts)?,
                    _ => plan_text(&opts)?,
                };
                return Ok(printed(stdout));
            }
            let outcome = collect_blocking(&opts)?;
            stats = Some(stats_line(&outcome));
            let input = outcome
                .snapshot
                .source
                .instance_url
                .clone()
                .or(args.live.instance_url.clone())
                .unwrap_or_else(|| "live org".to_string());
            (outcome.snapshot, input)
        }
    };
    let opts = audit_options(&options, resolved)?;
    let mut result = audit::run_as(&snapshot, &input, read, &catalogue, &opts);
    // Every selected rule needs data this source can never hold: "passed" would gate nothing.
    if result.summary.evaluated == 0 {
        return Err(AppError::Usage(format!(
            "no selected rule applies to this source: the {} selected rule{} need{} org data a metadata directory never holds; audit the org live or merge a snapshot with --snapshot",
            result.summary.total,
            if result.summary.total == 1 { "" } else { "s" },
            if result.summary.total == 1 { "s" } else { "" },
        )));
    }
    if let Some((file, report)) = &baseline {
        baseline::apply(&mut result, report, file, opts.allow_incomplete);
    }
    let color = match options.color.value {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            target.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let render_opts = RenderOptions {
        color,
        // A report written to a file is not laid out for this terminal.
        width: if target.output.is_some() {
            columns().or(Some(DEFAULT_WIDTH))
        } else {
            terminal_width()
        },
        show_passed: options.show_passed.value,
        base_dir: std::env::current_dir().ok(),
    };
    let run = Run::Audit {
        audit: &result,
        catalogue: &catalogue,
    };
    let text = report::render(target.format, run, &render_opts).unwrap_or_default();
    let status = result.summary.outcome;
    match &target.output {
        Some(path) => {
            write_output(path, text.as_bytes())?;
            let written = format!(
                "eci-audit: report written to {} ({} rules, exit {})",
                report::escape::line(&path.display().to_string()),
                result.summary.total,
                status.code()
            );
            Ok(Output {
                stdout: String::new(),
                stderr: Some(match stats {
                    Some(s) => format!("{s}\n{written}"),
                    None => written,
                }),
                status,
            })
        }
        None => Ok(Output {
            stdout: text,
            stderr: stats,
            status,
        }),
    }
}

/// What an audit needs from the effective settings (the clock and `AIRCALL_API_ID` read here).
fn audit_options(options: &Options, resolved: Resolved) -> Result<AuditOptions, AppError> {
    Ok(AuditOptions {
        config_file: options.config_path.clone(),
        settings: Settings {
            aircall_api_id: std::env::var("AIRCALL_API_ID")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            ..options.view_settings(clock()?.date_naive())
        },
        selected: resolved.selected,
        waivers: resolved.waivers,
        fail_on: options.fail_on.value,
        allow_incomplete: options.allow_incomplete.value,
    })
}

/// `eci-audit diff OLD NEW`: snapshots are audited with the settings `check` would use (flags
/// over the config file), reports are compared as they were written.
fn diff_command(args: &DiffArgs) -> Result<Output, AppError> {
    let flags = Layer::from_settings_flags(&args.settings);
    let options = Options::merge(flags, config::load(args.settings.config.as_deref())?);
    let catalogue = Catalogue::with_extra(options.rules.as_ref().map(|r| r.value.as_path()))?;
    let resolved = options.resolve(&catalogue)?;
    if resolved.selected.is_empty() {
        return Err(AppError::Usage(
            "no rule selected: the select and ignore settings together leave no rule to compare"
                .to_string(),
        ));
    }
    let output = args.output.clone().filter(|p| !is_stdout(p));
    if let Some(out) = &output {
        destination(out)?;
    }
    let opts = audit_options(&options, resolved)?;
    let old = diff_side(&args.old, &catalogue, &opts)?;
    let new = diff_side(&args.new, &catalogue, &opts)?;
    let compared = diff::compare(
        old,
        new,
        opts.fail_on,
        args.allow_incomplete || opts.allow_incomplete,
    );
    let text = report::diff::render(&compared, args.format);
    let status = compared.outcome;
    match output {
        Some(path) => {
            write_output(&path, text.as_bytes())?;
            Ok(Output {
                stdout: String::new(),
                stderr: Some(format!(
                    "eci-audit: comparison written to {} (exit {})",
                    report::escape::line(&path.display().to_string()),
                    status.code()
                )),
                status,
            })
        }
        None => Ok(Output {
            stdout: text,
            stderr: None,
            status,
        }),
    }
}

/// One side of `diff`: a metadata directory or retrieve zip, a JSON report (told by its
/// content: `tool.name` "eci-audit" and a `results` list), else a snapshot file; all but the
/// report are audited now.
fn diff_side(path: &Path, catalogue: &Catalogue, opts: &AuditOptions) -> Result<Side, AppError> {
    let input = path.display().to_string();
    let audited = |snap: &Snapshot, read: ReadKind| {
        let result = audit::run_as(snap, &input, read, catalogue, opts);
        let view = FactView::build(snap, &opts.settings);
        Side::from_audit(&input, &result, &view)
    };
    if path.is_dir()
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        let snap = load_metadata(
            path,
            &MetadataOptions {
                full_retrieve: false,
            },
        )?;
        return Ok(audited(&snap, ReadKind::MetadataDir));
    }
    let bytes = baseline::read_input(path)?;
    if let Some(report) = baseline::parse_if_report(&bytes, path)? {
        return Ok(Side::from_report(&input, &report));
    }
    let snap = snapshot::parse_snapshot(&bytes, path)?;
    Ok(audited(&snap, ReadKind::SnapshotFile))
}

/// The width of a report on a pipe without `COLUMNS`: stable output for logs and tests.
const DEFAULT_WIDTH: u16 = 120;

/// `COLUMNS`, when set to a usable width (shells set it but rarely export it).
fn columns() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w >= 40)
}

/// The width to lay out for: `COLUMNS` wins; else the terminal's, when standard output is
/// one; else [`DEFAULT_WIDTH`].
fn terminal_width() -> Option<u16> {
    columns()
        .or_else(|| {
            std::io::stdout()
                .is_terminal()
                .then(|| comfy_table::Table::new().width())
                .flatten()
                .filter(|w| *w >= 40)
        })
        .or(Some(DEFAULT_WIDTH))
}

/// The folder a file is in (`.` for a bare file name).
fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `-` as `--output` (or `output`): standard output.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Links followed before giving up (the kernel's own limit, ELOOP).
const MAX_LINKS: usize = 40;

/// What writing to a path would touch.
#[derive(Debug, PartialEq)]
enum Destination {
    /// Something that is not a regular file (a device such as `/dev/null`, a FIFO, a
    /// descriptor such as `/dev/stdout`): opened and written, never replaced.
    Stream(PathBuf),
    /// A regular file, or none yet: written atomically at this path, the end of any chain
    /// of symbolic links, so a link stays a link and its target gets the report.
    File(PathBuf),
}

/// Follows `path` through its symbolic links to what a write would touch.
fn destination(path: &Path) -> Result<Destination, AppError> {
    let write_err = |source| AppError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut at = path.to_path_buf();
    let mut hops = 0;
    loop {
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let folder = parent_folder(&at);
                if !folder.is_dir() {
                    return Err(AppError::MissingFolder {
                        path: path.to_path_buf(),
                        folder,
                    });
                }
                return Ok(Destination::File(at));
            }
            Err(e) => return Err(write_err(e)),
        };
        let kind = meta.file_type();
        if kind.is_file() {
            return Ok(Destination::File(at));
        }
        if kind.is_dir() {
            return Err(AppError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        if !kind.is_symlink() {
            return Ok(Destination::Stream(at));
        }
        // A link under /proc (`/dev/stdout` → `/proc/self/fd/1`) is an open descriptor of
        // this process: a pipe, a terminal or the file the shell redirected to. It is written
        // through, never resolved to a path and replaced.
        if std::fs::canonicalize(parent_folder(&at)).is_ok_and(|f| f.starts_with("/proc")) {
            return Ok(Destination::Stream(path.to_path_buf()));
        }
        hops += 1;
        if hops > MAX_LINKS {
            return Err(write_err(std::io::Error::other(
                "too many levels of symbolic links",
            )));
        }
        let target = std::fs::read_link(&at).map_err(write_err)?;
        at = parent_folder(&at).join(target);
    }
}

/// Refuses an `output` that a config file found implicitly (`./eci-audit.toml`, not given
/// with `--config`) points outside the current directory: a cloned repository's config (or a
/// link it ships) must not make `eci-audit check` write over `~/.bashrc` or `/etc/...`.
fn check_implicit_output(output: &Setting<PathBuf>) -> Result<(), AppError> {
    let refuse = |resolved: &Path| AppError::OutputOutside {
        origin: output.origin.to_string(),
        path: output.value.clone(),
        resolved: resolved.to_path_buf(),
    };
    if is_stdout(&output.value) {
        return Ok(());
    }
    let here = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|source| AppError::Write {
            path: output.value.clone(),
            source,
        })?;
    match destination(&output.value)? {
        Destination::Stream(at) => Err(refuse(&at)),
        Destination::File(at) => {
            let folder =
                std::fs::canonicalize(parent_folder(&at)).map_err(|source| AppError::Write {
                    path: output.value.clone(),
                    source,
                })?;
            if folder.starts_with(&here) {
                Ok(())
            } else {
                Err(refuse(&folder.join(at.file_name().unwrap_or_default())))
            }
        }
    }
}

/// The mode a new file gets in `folder` under the process umask (0666 & !umask), learned by
/// creating and removing a probe file, since std has no umask call.
#[cfg(unix)]
fn default_file_mode(folder: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let probe = folder.join(format!(".eci-audit-mode-probe-{}", std::process::id()));
    let mode = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|f| f.metadata())
        .map_or(0o644, |m| m.permissions().mode() & 0o777);
    let _ = std::fs::remove_file(&probe);
    mode
}

/// Writes a report or snapshot to `path`. A regular file (or a new one) is written
/// atomically; a symbolic link is followed and its target written atomically in the target's
/// folder, the link left as it is; a device, FIFO or descriptor (`/dev/null`, `/dev/stdout`)
/// is opened and written, never replaced by a regular file.
fn write_output(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let write_err = |source| AppError::Write {
        path: path.to_path_buf(),
        source,
    };
    match destination(path)? {
        Destination::Stream(at) => {
            // Append: through `/dev/stdout` to a file the shell opened, the report goes after
            // what is there rather than over it; devices and FIFOs ignore the flag.
            let mut stream = std::fs::OpenOptions::new()
                .append(true)
                .open(&at)
                .map_err(write_err)?;
            stream
                .write_all(bytes)
                .and_then(|()| stream.flush())
                .map_err(write_err)
        }
        Destination::File(at) => write_atomically(&at, bytes).map_err(write_err),
    }
}

/// Writes through a temporary file in the same folder and renames it over `path`, so a
/// reader never sees a half-written report and a failure leaves the old file intact. `path`
/// is a regular file or none ([`destination`] decided).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = parent_folder(path);
    let mut tmp = tempfile::NamedTempFile::new_in(&folder)?;
    tmp.write_all(bytes)?;
    // A temporary file is private (0600); the report should keep the mode of the file it
    // replaces, or get the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(_) => default_file_mode(&folder),
        };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
