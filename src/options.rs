//! The settings of `check` and `collect`, layered: the flags and the config file each give a
//! [`Layer`] (every value optional, each carrying its [`Origin`]), and [`Options::merge`]
//! lays flags over the config over the defaults in one step. Rule IDs are resolved against
//! the catalogue afterwards ([`Options::resolve`]), since `rules` in the config may add rules.
//!
//! Every problem names the setting the way its origin spells it (`--fail-on` for a flag,
//! `fail_on` at `file:line:column` for the config), and all problems are reported together.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::audit::{FailOn, Waiver};
use crate::cli::{CheckArgs, CollectArgs, SettingsArgs};
use crate::facts::Settings;
use crate::facts::settings::ChangesWindow;
use crate::report::Format;
use crate::rules::Catalogue;
use crate::rules::select::select;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, by its name (`--fail-on`).
    Flag(&'static str),
    /// A key of the config file, at the position of its value.
    Config {
        key: &'static str,
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// Nobody set it.
    Default(&'static str),
    /// Nobody set it, and another setting implies it (the format from `--output`'s extension).
    Inferred(&'static str),
}

impl Origin {
    /// The setting as this origin spells it: `--fail-on` or `fail_on`.
    pub fn setting(&self) -> &'static str {
        match self {
            Origin::Flag(name) => name,
            Origin::Config { key, .. } | Origin::Default(key) | Origin::Inferred(key) => key,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => f.write_str(name),
            Origin::Config {
                path, line, column, ..
            } => write!(f, "{}:{line}:{column}", path.display()),
            Origin::Default(_) => f.write_str("default"),
            Origin::Inferred(_) => f.write_str("from the output file's extension"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Setting { value, origin }
    }

    fn flag(name: &'static str, value: T) -> Self {
        Setting::new(value, Origin::Flag(name))
    }

    fn default(key: &'static str, value: T) -> Self {
        Setting::new(value, Origin::Default(key))
    }
}

/// What one source says. Flags and the config file give the same type, so one merge serves
/// both; fields a source cannot set stay `None` (or empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    pub format: Option<Setting<Format>>,
    pub output: Option<Setting<PathBuf>>,
    pub fail_on: Option<Setting<FailOn>>,
    /// Empty: not set. A non-empty list replaces a lower layer's.
    pub select: Vec<Setting<String>>,
    /// Adds to a lower layer's.
    pub ignore: Vec<Setting<String>>,
    pub integration_user: Option<Setting<String>>,
    pub refresh_token_days: Option<Setting<u32>>,
    pub my_domain: Option<Setting<String>>,
    pub allow_incomplete: Option<Setting<bool>>,
    pub color: Option<Setting<ColorChoice>>,
    /// The table lists every rule, passing ones included.
    pub show_passed: Option<Setting<bool>>,
    pub rules: Option<Setting<PathBuf>>,
    pub full_retrieve: Option<Setting<bool>>,
    pub eci_access_labels: Option<Setting<Vec<String>>>,
    pub integration_user_names: Option<Setting<Vec<String>>>,
    pub voice_connector_names: Option<Setting<Vec<String>>>,
    pub voice_connector_namespace: Option<Setting<String>>,
    pub high_assurance_session_levels: Option<Setting<Vec<String>>>,
    /// Adds to a lower layer's.
    pub waivers: Vec<Setting<Waiver>>,
    /// `--token-expiry-warning` / `token_expiry_warning` (days).
    pub token_expiry_warning: Option<Setting<u32>>,
    /// `--changes-since` / `--changes-days` (one setting: the later layer's wins whole).
    pub changes: Option<Setting<ChangesWindow>>,
}

/// A switch given on the command line: a flag that is absent leaves the lower layer's value
/// (a flag cannot switch off what the config switched on).
fn switch(name: &'static str, on: bool) -> Option<Setting<bool>> {
    on.then(|| Setting::flag(name, true))
}

fn flag<T>(name: &'static str, value: Option<T>) -> Option<Setting<T>> {
    value.map(|v| Setting::flag(name, v))
}

fn flag_list(name: &'static str, values: &[String]) -> Vec<Setting<String>> {
    values
        .iter()
        .map(|v| Setting::flag(name, v.clone()))
        .collect()
}

impl Layer {
    /// The settings `check` takes from its flags.
    pub fn from_check_flags(args: &CheckArgs) -> Layer {
        let r = &args.report;
        Layer {
            format: flag("--format", r.format),
            output: flag("--output", r.output.clone()),
            allow_incomplete: switch("--allow-incomplete", r.allow_incomplete),
            color: flag("--color", r.color),
            show_passed: switch("--show-passed", r.show_passed),
            full_retrieve: switch("--full-retrieve", args.full_retrieve),
            token_expiry_warning: flag("--token-expiry-warning", r.token_expiry_warning),
            changes: match (r.changes_since, r.changes_days) {
                (Some(date), _) => {
                    Some(Setting::flag("--changes-since", ChangesWindow::Since(date)))
                }
                (None, Some(days)) => {
                    Some(Setting::flag("--changes-days", ChangesWindow::Days(days)))
                }
                (None, None) => None,
            },
            ..Layer::from_settings_flags(&r.settings)
        }
    }

    /// The settings `check` and `diff` share, from their flags.
    pub fn from_settings_flags(s: &SettingsArgs) -> Layer {
        Layer {
            fail_on: flag("--fail-on", s.fail_on),
            select: flag_list("--select", &s.select),
            ignore: flag_list("--ignore", &s.ignore),
            integration_user: flag("--integration-user", s.integration_user.clone()),
            refresh_token_days: flag("--refresh-token-days", s.refresh_token_days),
            my_domain: flag("--my-domain", s.my_domain.clone()),
            rules: flag("--rules", s.rules.clone()),
            ..Layer::default()
        }
    }

    /// The settings `collect` takes from its flags.
    pub fn from_collect_flags(args: &CollectArgs) -> Layer {
        Layer {
            integration_user: flag("--integration-user", args.integration_user.clone()),
            my_domain: flag("--my-domain", args.my_domain.clone()),
            ..Layer::default()
        }
    }

    /// `self` over `lower`.
    fn over(self, lower: Layer) -> Layer {
        Layer {
            format: self.format.or(lower.format),
            output: self.output.or(lower.output),
            fail_on: self.fail_on.or(lower.fail_on),
            select: if self.select.is_empty() {
                lower.select
            } else {
                self.select
            },
            ignore: self.ignore.into_iter().chain(lower.ignore).collect(),
            integration_user: self.integration_user.or(lower.integration_user),
            refresh_token_days: self.refresh_token_days.or(lower.refresh_token_days),
            my_domain: self.my_domain.or(lower.my_domain),
            allow_incomplete: self.allow_incomplete.or(lower.allow_incomplete),
            color: self.color.or(lower.color),
            show_passed: self.show_passed.or(lower.show_passed),
            rules: self.rules.or(lower.rules),
            full_retrieve: self.full_retrieve.or(lower.full_retrieve),
            eci_access_labels: self.eci_access_labels.or(lower.eci_access_labels),
            integration_user_names: self.integration_user_names.or(lower.integration_user_names),
            voice_connector_names: self.voice_connector_names.or(lower.voice_connector_names),
            voice_connector_namespace: self
                .voice_connector_namespace
                .or(lower.voice_connector_namespace),
            high_assurance_session_levels: self
                .high_assurance_session_levels
                .or(lower.high_assurance_session_levels),
            waivers: self.waivers.into_iter().chain(lower.waivers).collect(),
            token_expiry_warning: self.token_expiry_warning.or(lower.token_expiry_warning),
            changes: self.changes.or(lower.changes),
        }
    }

    /// Problems with single values, whichever source gave them.
    pub fn problems(&self) -> Vec<Problem> {
        value_problems(
            self.my_domain.as_ref(),
            self.integration_user.as_ref(),
            self.refresh_token_days.as_ref(),
            self.token_expiry_warning.as_ref(),
            self.changes.as_ref(),
        )
    }
}

/// The checks a single value gets wherever it was set: the config file's when it is read,
/// the effective ones (then only the flags' can fail) before they are used.
fn value_problems(
    my_domain: Option<&Setting<String>>,
    integration_user: Option<&Setting<String>>,
    refresh_token_days: Option<&Setting<u32>>,
    token_expiry_warning: Option<&Setting<u32>>,
    changes: Option<&Setting<ChangesWindow>>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(d) = my_domain {
        match crate::urls::host_of(&d.value) {
            // Never echo the value: it may carry credentials (user:password@host).
            None => problems.push(Problem::new(
                &d.origin,
                format!(
                    "{} is not a host or URL (give e.g. acme.my.salesforce.com)",
                    d.origin.setting()
                ),
            )),
            Some(host) => {
                if let Some(instead) = crate::urls::my_domain_instead_of(&host) {
                    problems.push(Problem::new(
                        &d.origin,
                        format!(
                            "{} is a Lightning or Visualforce host, not the My Domain; use {instead}",
                            d.origin.setting()
                        ),
                    ));
                }
            }
        }
    }
    // An empty username (an unset CI variable) is a mistake, not a user to look for.
    if let Some(u) = integration_user
        && u.value.trim().is_empty()
    {
        problems.push(Problem::new(
            &u.origin,
            format!("{} is empty", u.origin.setting()),
        ));
    }
    if let Some(days) = refresh_token_days
        && days.value == 0
    {
        problems.push(not_positive_days(&days.origin, 0));
    }
    // The run-time windows hold at least one day and at most MAX_WINDOW_DAYS.
    if let Some(days) = token_expiry_warning {
        if days.value == 0 {
            problems.push(not_positive_days(&days.origin, 0));
        } else if days.value > MAX_WINDOW_DAYS {
            problems.push(too_many_days(&days.origin, days.value));
        }
    }
    if let Some(c) = changes {
        match c.value {
            ChangesWindow::Days(0) => problems.push(not_positive_days(&c.origin, 0)),
            ChangesWindow::Days(n) if n > MAX_WINDOW_DAYS => {
                problems.push(too_many_days(&c.origin, n));
            }
            _ => {}
        }
    }
    problems
}

/// The longest window of days a run-time setting takes (`token_expiry_warning`,
/// `changes_days`): a hundred years, far beyond any token or audit trail, and far below what
/// date arithmetic overflows on.
pub const MAX_WINDOW_DAYS: u32 = 36_500;

fn too_many_days(origin: &Origin, given: u32) -> Problem {
    Problem::new(
        origin,
        format!(
            "{} must be at most {MAX_WINDOW_DAYS} days (the limit), not {given}",
            origin.setting()
        ),
    )
}

/// `refresh_token_days` / `--refresh-token-days` that is not a positive number of days.
pub fn not_positive_days(origin: &Origin, given: i64) -> Problem {
    Problem::new(
        origin,
        format!(
            "{} must be a positive number of days, not {given}",
            origin.setting()
        ),
    )
}

/// One thing wrong with the settings, where it was set.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub origin: Origin,
    /// Names the setting as the origin spells it.
    pub message: String,
}

impl Problem {
    pub fn new(origin: &Origin, message: String) -> Problem {
        Problem {
            origin: origin.clone(),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Config { .. } => write!(f, "{}: invalid config: {}", self.origin, self.message),
            Origin::Flag(_) | Origin::Default(_) | Origin::Inferred(_) => {
                f.write_str(&self.message)
            }
        }
    }
}

/// Everything wrong with the settings, reported at once.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct InvalidSettings(pub Vec<Problem>);

impl InvalidSettings {
    /// The layout of the list, each problem's text passed through `each` (the terminal escapes
    /// every problem on its own line).
    pub fn layout(&self, each: impl Fn(String) -> String) -> String {
        match self.0.as_slice() {
            [one] => each(one.to_string()),
            many => {
                let mut text = format!("{} problems with the settings:", many.len());
                for p in many {
                    text.push_str("\n  ");
                    text.push_str(&each(p.to_string()));
                }
                text
            }
        }
    }
}

impl fmt::Display for InvalidSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.layout(|p| p))
    }
}

/// `Ok` when there is no problem.
pub fn no_problems(problems: Vec<Problem>) -> Result<(), InvalidSettings> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InvalidSettings(problems))
    }
}

/// The config file a command read, as a layer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFile {
    /// `None` when there was no config file.
    pub path: Option<PathBuf>,
    pub layer: Layer,
}

/// The effective settings: flags over the config file over the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The config file that was read, if any.
    pub config_path: Option<PathBuf>,
    pub format: Setting<Format>,
    pub output: Option<Setting<PathBuf>>,
    pub fail_on: Setting<FailOn>,
    pub select: Vec<Setting<String>>,
    pub ignore: Vec<Setting<String>>,
    /// Trimmed.
    pub integration_user: Option<Setting<String>>,
    pub refresh_token_days: Option<Setting<u32>>,
    pub my_domain: Option<Setting<String>>,
    pub allow_incomplete: Setting<bool>,
    pub color: Setting<ColorChoice>,
    pub show_passed: Setting<bool>,
    pub rules: Option<Setting<PathBuf>>,
    pub full_retrieve: Setting<bool>,
    pub eci_access_labels: Setting<Vec<String>>,
    pub integration_user_names: Setting<Vec<String>>,
    pub voice_connector_names: Setting<Vec<String>>,
    pub voice_connector_namespace: Option<Setting<String>>,
    pub high_assurance_session_levels: Setting<Vec<String>>,
    pub waivers: Vec<Setting<Waiver>>,
    pub token_expiry_warning: Setting<u32>,
    pub changes: Setting<ChangesWindow>,
}

/// The selection and waivers, checked against the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub selected: BTreeSet<String>,
    pub waivers: Vec<Waiver>,
}

impl Options {
    /// Lays the flags over the config file over the defaults. Nothing is checked yet, so
    /// that even with a bad flag the config's `format` and `output` say where an error
    /// document goes: [`Options::check`] or [`Options::resolve`] follow.
    pub fn merge(flags: Layer, config: ConfigFile) -> Options {
        let l = flags.over(config.layer);
        // Only the default lists are read here; the date is the caller's (view_settings).
        let defaults = Settings::new(chrono::NaiveDate::MIN);
        let or_default = |s: Option<Setting<Vec<String>>>, key, value| {
            s.unwrap_or_else(|| Setting::default(key, value))
        };
        Options {
            config_path: config.path,
            format: l.format.unwrap_or_else(|| {
                // `--output report.sarif` means SARIF: a table in a .sarif file helps nobody.
                // `.xml` is JUnit, the one XML report CI systems read.
                let inferred = l
                    .output
                    .as_ref()
                    .and_then(|o| o.value.extension())
                    .and_then(|e| match e.to_ascii_lowercase().to_str() {
                        Some("sarif") => Some(Format::Sarif),
                        Some("json") => Some(Format::Json),
                        Some("md" | "markdown") => Some(Format::Markdown),
                        Some("xml") => Some(Format::Junit),
                        _ => None,
                    });
                match inferred {
                    Some(format) => Setting::new(format, Origin::Inferred("format")),
                    None => Setting::default("format", Format::default()),
                }
            }),
            output: l.output,
            fail_on: l
                .fail_on
                .unwrap_or_else(|| Setting::default("fail_on", FailOn::default())),
            select: l.select,
            ignore: l.ignore,
            integration_user: l.integration_user.map(|u| Setting {
                value: u.value.trim().to_string(),
                origin: u.origin,
            }),
            refresh_token_days: l.refresh_token_days,
            my_domain: l.my_domain,
            allow_incomplete: l
                .allow_incomplete
                .unwrap_or_else(|| Setting::default("allow_incomplete", false)),
            color: l
                .color
                .unwrap_or_else(|| Setting::default("color", ColorChoice::default())),
            show_passed: l
                .show_passed
                .unwrap_or_else(|| Setting::default("show_passed", false)),
            rules: l.rules,
            full_retrieve: l
                .full_retrieve
                .unwrap_or_else(|| Setting::default("full_retrieve", false)),
            eci_access_labels: or_default(
                l.eci_access_labels,
                "permission_sets.eci_access_labels",
                defaults.eci_access_labels,
            ),
            integration_user_names: or_default(
                l.integration_user_names,
                "permission_sets.integration_user_names",
                defaults.integration_permission_set_names,
            ),
            voice_connector_names: or_default(
                l.voice_connector_names,
                "permission_sets.voice_connector_names",
                defaults.voice_connector_permission_set_names,
            ),
            voice_connector_namespace: l.voice_connector_namespace,
            high_assurance_session_levels: or_default(
                l.high_assurance_session_levels,
                "high_assurance_session_levels",
                defaults.high_assurance_session_levels,
            ),
            waivers: l.waivers,
            token_expiry_warning: l.token_expiry_warning.unwrap_or_else(|| {
                Setting::default("token_expiry_warning", defaults.token_expiry_warning_days)
            }),
            changes: l
                .changes
                .unwrap_or_else(|| Setting::default("changes_days", defaults.changes)),
        }
    }

    /// The effective single values (the config file's were checked when it was read, so
    /// only a flag's can fail here).
    fn value_problems(&self) -> Vec<Problem> {
        value_problems(
            self.my_domain.as_ref(),
            self.integration_user.as_ref(),
            self.refresh_token_days.as_ref(),
            Some(&self.token_expiry_warning),
            Some(&self.changes),
        )
    }

    /// Checks the single values.
    pub fn check(&self) -> Result<(), InvalidSettings> {
        no_problems(self.value_problems())
    }

    /// Checks the single values and every selector and waiver against the catalogue,
    /// reporting all problems at once.
    pub fn resolve(&self, catalogue: &Catalogue) -> Result<Resolved, InvalidSettings> {
        let mut problems = self.value_problems();
        let unknown_selector = |s: &Setting<String>, as_ignore: bool| {
            let one = std::slice::from_ref(&s.value);
            let (sel, ign): (&[String], &[String]) =
                if as_ignore { (&[], one) } else { (one, &[]) };
            select(catalogue, sel, ign).err().map(|e| {
                Problem::new(
                    &s.origin,
                    format!(
                        "{} `{}` matches no rule{}",
                        s.origin.setting(),
                        e.given,
                        crate::rules::select::suggestion(&e.close)
                    ),
                )
            })
        };
        problems.extend(
            self.select
                .iter()
                .filter_map(|s| unknown_selector(s, false)),
        );
        problems.extend(self.ignore.iter().filter_map(|s| unknown_selector(s, true)));
        for w in &self.waivers {
            if catalogue.get(&w.value.rule).is_none() {
                problems.push(Problem::new(
                    &w.origin,
                    format!(
                        "waiver names rule {}, which is not in the catalogue",
                        w.value.rule
                    ),
                ));
            }
        }
        no_problems(problems)?;
        let values = |list: &[Setting<String>]| -> Vec<String> {
            list.iter().map(|s| s.value.clone()).collect()
        };
        // Every selector matched on its own above, so the whole selection cannot fail.
        let selected =
            select(catalogue, &values(&self.select), &values(&self.ignore)).map_err(|e| {
                InvalidSettings(vec![Problem::new(&Origin::Flag(e.flag), e.to_string())])
            })?;
        Ok(Resolved {
            selected,
            waivers: self.waivers.iter().map(|w| w.value.clone()).collect(),
        })
    }

    /// The settings the fact view needs, as of `today` (the environment's `AIRCALL_API_ID`
    /// and the clock are the caller's).
    pub fn view_settings(&self, today: chrono::NaiveDate) -> Settings {
        Settings {
            integration_user: self.integration_user.as_ref().map(|s| s.value.clone()),
            my_domain: self.my_domain.as_ref().map(|s| s.value.clone()),
            refresh_token_days: self.refresh_token_days.as_ref().map(|s| s.value),
            eci_access_labels: self.eci_access_labels.value.clone(),
            integration_permission_set_names: self.integration_user_names.value.clone(),
            voice_connector_permission_set_names: self.voice_connector_names.value.clone(),
            voice_connector_namespace: self
                .voice_connector_namespace
                .as_ref()
                .map(|s| s.value.clone()),
            high_assurance_session_levels: self.high_assurance_session_levels.value.clone(),
            token_expiry_warning_days: self.token_expiry_warning.value,
            changes: self.changes.value,
            ..Settings::new(today)
        }
    }
}
