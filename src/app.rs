//! The commands: read inputs, call the library, hand back what to print and the exit code.
//! `main` does the printing.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::audit::{self, AuditOptions, FailOn};
use crate::cli::{CatalogueFormat, CheckArgs, Command, ExplainArgs, ReportArgs, RulesArgs};
use crate::config::{self, ColorChoice, Config, ConfigError};
use crate::report::{self, Format, RenderOptions};
use crate::rules::select::{UnknownSelector, select};
use crate::rules::{Catalogue, RuleError};
use crate::snapshot::view::Settings;
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
    Rules(#[from] RuleError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Selector(#[from] UnknownSelector),
    #[error("unknown rule `{id}`{}", suggest(.close))]
    UnknownRule { id: String, close: Vec<String> },
    #[error("waiver in {config} names rule {rule}, which is not in the catalogue")]
    UnknownWaiver { config: String, rule: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: the folder {} does not exist", path.display(), folder.display())]
    MissingFolder { path: PathBuf, folder: PathBuf },
    #[error("{0}")]
    Usage(String),
}

fn suggest(close: &[String]) -> String {
    if close.is_empty() {
        "; `eci-audit rules` lists them".to_string()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

/// What a command produced.
#[derive(Debug)]
pub struct Output {
    /// The text for standard output (empty when written to a file).
    pub stdout: String,
    /// A short line for standard error (e.g. "report written to …").
    pub stderr: Option<String>,
    pub exit_code: i32,
}

/// Runs one command.
pub fn run(command: Command) -> Result<Output, AppError> {
    match command {
        Command::Check(args) => check(args),
        Command::Collect(_) => Err(AppError::Usage(
            "`collect` needs the live-org collector, which this build does not include yet".to_string(),
        )),
        Command::Rules(args) => rules(args),
        Command::Explain(args) => explain(args),
        Command::Schema => {
            let mut s = serde_json::to_string_pretty(&snapshot::json_schema()).unwrap_or_default();
            s.push('\n');
            Ok(Output {
                stdout: s,
                stderr: None,
                exit_code: 0,
            })
        }
    }
}

fn rules(args: RulesArgs) -> Result<Output, AppError> {
    let catalogue = Catalogue::with_extra(args.rules.as_deref())?;
    let stdout = match args.format {
        CatalogueFormat::Table => report::catalogue::rules_table(&catalogue, terminal_width()),
        CatalogueFormat::Json => report::catalogue::rules_json(&catalogue),
        CatalogueFormat::Markdown => report::catalogue::rules_markdown(&catalogue),
    };
    Ok(Output {
        stdout,
        stderr: None,
        exit_code: 0,
    })
}

fn explain(args: ExplainArgs) -> Result<Output, AppError> {
    let catalogue = Catalogue::with_extra(args.rules.as_deref())?;
    let id = args.id.trim().to_ascii_uppercase();
    match catalogue.get(&id) {
        Some(rule) => Ok(Output {
            stdout: report::catalogue::explain(rule),
            stderr: None,
            exit_code: 0,
        }),
        None => Err(AppError::UnknownRule {
            close: close_ids(&catalogue, &id),
            id: args.id,
        }),
    }
}

fn close_ids(catalogue: &Catalogue, id: &str) -> Vec<String> {
    let mut close: Vec<(f64, &str)> = catalogue
        .ids()
        .map(|c| (strsim::normalized_levenshtein(c, id), c))
        .filter(|(s, _)| *s >= 0.6)
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    close.into_iter().take(3).map(|(_, c)| c.to_string()).collect()
}

/// Flags over config over defaults.
struct Effective {
    format: Format,
    output: Option<PathBuf>,
    fail_on: FailOn,
    allow_incomplete: bool,
    color: ColorChoice,
    rules_dir: Option<PathBuf>,
    select: Vec<String>,
    ignore: Vec<String>,
    settings: Settings,
    config: Config,
}

fn effective(args: &ReportArgs) -> Result<Effective, AppError> {
    let config = config::load(args.config.as_deref())?;
    if let Some(d) = &args.my_domain
        && crate::snapshot::view::url_origin(d).is_none()
    {
        return Err(AppError::Usage(format!("--my-domain `{d}` is not a host or URL")));
    }
    let mut settings = Settings {
        integration_user: args.integration_user.clone().or(config.integration_user.clone()),
        my_domain: args.my_domain.clone().or(config.my_domain.clone()),
        refresh_token_days: args.refresh_token_days.or(config.refresh_token_days),
        aircall_api_id: std::env::var("AIRCALL_API_ID").ok().filter(|s| !s.trim().is_empty()),
        integration_permission_set_names: config.permission_sets.integration_user_names.clone(),
        voice_connector_permission_set_names: config.permission_sets.voice_connector_names.clone(),
        voice_connector_namespace: config.voice_connector_namespace.clone(),
        ..Settings::default()
    };
    if let Some(labels) = &config.permission_sets.eci_access_labels {
        settings.eci_access_labels = labels.clone();
    }
    if settings.refresh_token_days == Some(0) {
        return Err(AppError::Usage("--refresh-token-days must be a positive number of days".to_string()));
    }
    Ok(Effective {
        format: args.format.or(config.format).unwrap_or_default(),
        output: args.output.clone().or(config.output.clone()),
        fail_on: args.fail_on.or(config.fail_on).unwrap_or_default(),
        allow_incomplete: args.allow_incomplete || config.allow_incomplete.unwrap_or(false),
        color: args.color.or(config.color).unwrap_or_default(),
        rules_dir: args.rules.clone().or(config.rules.clone()),
        select: if args.select.is_empty() { config.select.clone() } else { args.select.clone() },
        ignore: args.ignore.iter().chain(config.ignore.iter()).cloned().collect(),
        settings,
        config,
    })
}

/// Where the snapshot comes from.
enum Source {
    SnapshotFile(PathBuf),
    /// A metadata directory or retrieve zip, optionally merged with org data from a snapshot.
    Metadata { path: PathBuf, org: Option<PathBuf> },
}

/// Decides the source from the arguments: a directory or `.zip` is metadata, a file is a
/// snapshot.
fn source_of(args: &CheckArgs) -> Result<Source, AppError> {
    let is_metadata = |p: &Path| p.is_dir() || p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
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
        (None, None, None) => {
            return Err(AppError::Usage(
                "nothing to audit: give a snapshot file, a metadata directory (--metadata-dir) or a live org (--instance-url / --target-org)"
                    .to_string(),
            ));
        }
    };
    if args.full_retrieve && !matches!(source, Source::Metadata { .. }) {
        return Err(AppError::Usage("--full-retrieve only applies to a metadata directory".to_string()));
    }
    Ok(source)
}

fn check(args: CheckArgs) -> Result<Output, AppError> {
    let eff = effective(&args.report)?;
    let catalogue = Catalogue::with_extra(eff.rules_dir.as_deref())?;
    for w in &eff.config.waivers {
        if catalogue.get(&w.rule).is_none() {
            return Err(AppError::UnknownWaiver {
                config: eff.config.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                rule: w.rule.clone(),
            });
        }
    }
    let selected = select(&catalogue, &eff.select, &eff.ignore)?;
    // Check the output folder before doing any work.
    if let Some(out) = &eff.output {
        check_output_folder(out)?;
    }
    let full_retrieve = args.full_retrieve || eff.config.full_retrieve.unwrap_or(false);
    let (snapshot, input): (Snapshot, String) = match source_of(&args)? {
        Source::SnapshotFile(p) => (snapshot::load_snapshot_file(&p)?, p.display().to_string()),
        Source::Metadata { path, org } => {
            let files = load_metadata(&path, &MetadataOptions { full_retrieve })?;
            let snap = match org {
                Some(org) => merge_org_data(files, snapshot::load_snapshot_file(&org)?),
                None => files,
            };
            (snap, path.display().to_string())
        }
    };
    let opts = AuditOptions {
        settings: eff.settings,
        selected,
        waivers: eff.config.waivers.clone(),
        fail_on: eff.fail_on,
        allow_incomplete: eff.allow_incomplete,
    };
    let result = audit::run(&snapshot, &input, &catalogue, &opts);
    let color = match eff.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            eff.output.is_none() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
        }
    };
    let render_opts = RenderOptions {
        color,
        width: terminal_width(),
        base_dir: std::env::current_dir().ok(),
    };
    let text = report::render(eff.format, &result, &catalogue, &render_opts);
    let exit_code = result.summary.exit_code;
    match eff.output {
        Some(path) => {
            write_atomically(&path, text.as_bytes())?;
            Ok(Output {
                stdout: String::new(),
                stderr: Some(format!(
                    "eci-audit: report written to {} ({} rules, exit {exit_code})",
                    path.display(),
                    result.summary.total
                )),
                exit_code,
            })
        }
        None => Ok(Output {
            stdout: text,
            stderr: None,
            exit_code,
        }),
    }
}

/// Terminal width from `COLUMNS`, else 120 (stable output for logs and tests).
fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|w| *w >= 40)
        .or(Some(120))
}

fn check_output_folder(path: &Path) -> Result<(), AppError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(AppError::MissingFolder {
            path: path.to_path_buf(),
            folder,
        });
    }
    Ok(())
}

/// Writes through a temporary file in the same folder and renames it over `path`, so a
/// reader never sees a half-written report and a failure leaves the old file intact.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    check_output_folder(path)?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let write_err = |source| AppError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&folder).map_err(write_err)?;
    tmp.write_all(bytes).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}
