//! `eci-audit.toml`: parsed with `deny_unknown_fields` into [`UnvalidatedConfig`], then
//! validated into a [`Layer`] whose values keep their `file:line:column`, ready to be merged
//! under the flags. Keys mirror the command-line flags. Every problem in the file is reported
//! at once.

use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::facts::settings::ChangesWindow;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::audit::{FailOn, Waiver};
use crate::options::{
    ColorChoice, ConfigFile, InvalidSettings, Layer, Origin, Problem, Setting, no_problems,
    not_positive_days,
};
use crate::report::Format;
use crate::rules::file::is_rule_id;
use crate::text::LineIndex;

/// The config file name looked for in the current directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "eci-audit.toml";

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnvalidatedConfig {
    format: Option<Spanned<Format>>,
    output: Option<Spanned<PathBuf>>,
    fail_on: Option<Spanned<FailOn>>,
    #[serde(default)]
    select: Vec<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    integration_user: Option<Spanned<String>>,
    refresh_token_days: Option<Spanned<i64>>,
    allow_incomplete: Option<Spanned<bool>>,
    color: Option<Spanned<ColorChoice>>,
    show_passed: Option<Spanned<bool>>,
    my_domain: Option<Spanned<String>>,
    rules: Option<Spanned<PathBuf>>,
    full_retrieve: Option<Spanned<bool>>,
    #[serde(default)]
    permission_sets: PermissionSetNames,
    voice_connector_namespace: Option<Spanned<String>>,
    high_assurance_session_levels: Option<Spanned<Vec<String>>>,
    token_expiry_warning: Option<Spanned<i64>>,
    changes_since: Option<Spanned<toml::value::Datetime>>,
    changes_days: Option<Spanned<i64>>,
    #[serde(default, rename = "waiver")]
    waivers: Vec<Spanned<WaiverFile>>,
}

/// `[permission_sets]`: names the guide leaves unconfirmed (reference §7 U3).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionSetNames {
    /// Labels that count as an ECI access permission set (USR006); replaces the default list.
    eci_access_labels: Option<Spanned<Vec<String>>>,
    /// API names accepted for "Conversation Insights Integration User".
    integration_user_names: Option<Spanned<Vec<String>>>,
    /// API names accepted for "Voice Connector Permission".
    voice_connector_names: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    rule: String,
    reason: String,
    expires: Option<toml::value::Datetime>,
}

/// Why the config file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] InvalidSettings),
}

/// Loads `path`, or `./eci-audit.toml` when `path` is `None` and that file exists.
pub fn load(path: Option<&Path>) -> Result<ConfigFile, ConfigError> {
    let (path, explicit) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    if !explicit && !path.is_file() {
        return Ok(ConfigFile::default());
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(parse(&text, &path)?)
}

/// Parses and validates config text into a layer whose values carry their positions.
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, InvalidSettings> {
    let file = Positions {
        lines: LineIndex::new(text.as_bytes()),
        path,
    };
    let at = |key, span| file.at(key, span);
    let raw: UnvalidatedConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            return Err(InvalidSettings(
                every_deserialize_error(text, e)
                    .into_iter()
                    .map(|(span, message)| Problem::new(&at("", span), message))
                    .collect(),
            ));
        }
    };
    let mut problems = Vec::new();
    // A negative or huge number is refused here; zero and the upper bound are the settings'
    // own checks (`Options::problems`), shared with the flags.
    let mut days_setting = |key: &'static str, n: Option<Spanned<i64>>| {
        n.and_then(|n| {
            let origin = at(key, n.span());
            if let Ok(days) = u32::try_from(*n.get_ref()) {
                Some(Setting::new(days, origin))
            } else {
                problems.push(not_positive_days(&origin, *n.get_ref()));
                None
            }
        })
    };
    let refresh_token_days = days_setting("refresh_token_days", raw.refresh_token_days);
    let token_expiry_warning = days_setting("token_expiry_warning", raw.token_expiry_warning);
    let changes_days = days_setting("changes_days", raw.changes_days);
    let changes_since = match raw.changes_since {
        None => None,
        Some(v) => {
            let origin = at("changes_since", v.span());
            if let Some(d) = date(*v.get_ref()) {
                Some(Setting::new(ChangesWindow::Since(d), origin))
            } else {
                problems.push(Problem::new(
                    &origin,
                    "changes_since must be a date such as 2026-11-01".to_string(),
                ));
                None
            }
        }
    };
    let changes = match (changes_since, changes_days) {
        (Some(since), Some(days)) => {
            problems.push(Problem::new(
                &days.origin,
                "give changes_since or changes_days, not both".to_string(),
            ));
            Some(since)
        }
        (Some(since), None) => Some(since),
        (None, days) => days.map(|d| Setting::new(ChangesWindow::Days(d.value), d.origin)),
    };
    let mut waivers: Vec<Setting<Waiver>> = Vec::new();
    for w in raw.waivers {
        let origin = at("waiver", w.span());
        let w = w.into_inner();
        let mut problem = |message: String| problems.push(Problem::new(&origin, message));
        if !is_rule_id(&w.rule) {
            problem(format!(
                "waiver rule `{}` is not a rule id such as CAP013",
                w.rule
            ));
            continue;
        }
        if waivers.iter().any(|x| x.value.rule == w.rule) {
            problem(format!("a second waiver for {}; keep one", w.rule));
            continue;
        }
        if w.reason.trim().is_empty() {
            problem(format!("waiver for {} needs a reason", w.rule));
            continue;
        }
        let expires = match w.expires.map(date) {
            None => None,
            Some(Some(d)) => Some(d),
            Some(None) => {
                problem(format!(
                    "waiver for {}: `expires` must be a date such as 2027-01-31",
                    w.rule
                ));
                continue;
            }
        };
        waivers.push(Setting::new(
            Waiver {
                rule: w.rule,
                reason: w.reason,
                expires,
            },
            origin,
        ));
    }
    let ps = raw.permission_sets;
    let layer = Layer {
        format: raw.format.map(|v| file.setting("format", v)),
        output: raw.output.map(|v| file.setting("output", v)),
        fail_on: raw.fail_on.map(|v| file.setting("fail_on", v)),
        select: raw
            .select
            .into_iter()
            .map(|v| file.setting("select", v))
            .collect(),
        ignore: raw
            .ignore
            .into_iter()
            .map(|v| file.setting("ignore", v))
            .collect(),
        integration_user: raw
            .integration_user
            .map(|v| file.setting("integration_user", v)),
        refresh_token_days,
        my_domain: raw.my_domain.map(|v| file.setting("my_domain", v)),
        allow_incomplete: raw
            .allow_incomplete
            .map(|v| file.setting("allow_incomplete", v)),
        color: raw.color.map(|v| file.setting("color", v)),
        show_passed: raw.show_passed.map(|v| file.setting("show_passed", v)),
        rules: raw.rules.map(|v| file.setting("rules", v)),
        full_retrieve: raw.full_retrieve.map(|v| file.setting("full_retrieve", v)),
        eci_access_labels: ps
            .eci_access_labels
            .map(|v| file.setting("permission_sets.eci_access_labels", v)),
        integration_user_names: ps
            .integration_user_names
            .map(|v| file.setting("permission_sets.integration_user_names", v)),
        voice_connector_names: ps
            .voice_connector_names
            .map(|v| file.setting("permission_sets.voice_connector_names", v)),
        voice_connector_namespace: raw
            .voice_connector_namespace
            .map(|v| file.setting("voice_connector_namespace", v)),
        high_assurance_session_levels: raw
            .high_assurance_session_levels
            .map(|v| file.setting("high_assurance_session_levels", v)),
        waivers,
        token_expiry_warning,
        changes,
    };
    problems.extend(layer.problems());
    problems.sort_by_key(|p| match &p.origin {
        Origin::Config { line, column, .. } => (*line, *column),
        _ => (0, 0),
    });
    no_problems(problems)?;
    Ok(ConfigFile {
        path: Some(path.to_path_buf()),
        layer,
    })
}

/// Turns byte spans of the file into origins.
struct Positions<'a> {
    /// Built once: a config with thousands of `select` entries asks for thousands of positions.
    lines: LineIndex<'a>,
    path: &'a Path,
}

impl Positions<'_> {
    fn at(&self, key: &'static str, span: Range<usize>) -> Origin {
        let (line, column) = self.lines.position_usize(span.start);
        Origin::Config {
            key,
            path: self.path.to_path_buf(),
            line,
            column,
        }
    }

    fn setting<T>(&self, key: &'static str, value: Spanned<T>) -> Setting<T> {
        let origin = self.at(key, value.span());
        Setting::new(value.into_inner(), origin)
    }
}

/// A TOML date without a time.
fn date(dt: toml::value::Datetime) -> Option<NaiveDate> {
    match dt.date {
        Some(d) if dt.time.is_none() => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        _ => None,
    }
}

/// serde stops at the first bad key; to report them all, each top-level entry is tried on
/// its own. Falls back to `first` when the text does not parse as TOML at all.
fn every_deserialize_error(text: &str, first: toml::de::Error) -> Vec<(Range<usize>, String)> {
    let located = |e: &toml::de::Error| (e.span().unwrap_or(0..0), e.message().to_string());
    let Ok(root) = DeTable::parse(text) else {
        return vec![located(&first)];
    };
    let span = root.span();
    let mut errors: Vec<(Range<usize>, String)> = root
        .into_inner()
        .into_iter()
        .filter_map(|(key, value)| {
            let mut one = DeTable::new();
            one.insert(key, value);
            let table = Spanned::new(span.clone(), DeValue::Table(one));
            UnvalidatedConfig::deserialize(ValueDeserializer::from(table))
                .err()
                .map(|e| located(&e))
        })
        .collect();
    if errors.is_empty() {
        errors.push(located(&first));
    }
    // The table is keyed in name order; the file's order reads better.
    errors.sort_by_key(|(span, _)| span.start);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"
format = "sarif"
fail_on = "warning"
select = ["CAP"]
refresh_token_days = 30
my_domain = "acme.my.salesforce.com"

[permission_sets]
integration_user_names = ["CI_Integration_User"]

[[waiver]]
rule = "CAP013"
reason = "security team accepted"
expires = 2027-01-31
"#,
            Path::new("eci-audit.toml"),
        )
        .unwrap()
        .layer;
        let format = c.format.unwrap();
        assert_eq!(format.value, Format::Sarif);
        assert_eq!(format.origin.to_string(), "eci-audit.toml:2:10");
        assert_eq!(format.origin.setting(), "format");
        assert_eq!(c.refresh_token_days.unwrap().value, 30);
        assert_eq!(
            c.waivers[0].value.expires,
            NaiveDate::from_ymd_opt(2027, 1, 31)
        );
        assert_eq!(c.waivers[0].origin.to_string(), "eci-audit.toml:11:1");
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let e = parse(
            "format = \"json\"\nfail-on = \"error\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("c.toml:2:1:"), "{text}");
        assert!(text.contains("fail-on"), "{text}");
    }

    #[test]
    fn bad_values_are_located() {
        let e = parse("refresh_token_days = -3\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:1:22:"), "{e}");
        let e = parse(
            "[[waiver]]\nrule = \"cap13\"\nreason = \"x\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("cap13"), "{e}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = parse(
            "fail-on = \"error\"\nformat = \"xml\"\ncolour = \"never\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        let at: Vec<String> = e.0.iter().map(|p| p.origin.to_string()).collect();
        assert_eq!(at, ["c.toml:1:1", "c.toml:2:10", "c.toml:3:1"], "{e}");
        let text = e.to_string();
        assert!(text.starts_with("3 problems with the settings:"), "{text}");
        let e = parse(
            "refresh_token_days = 0\nmy_domain = \"https://\"\n\n[[waiver]]\nrule = \"CAP013\"\nreason = \" \"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        let messages: Vec<&str> = e.0.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "refresh_token_days must be a positive number of days, not 0",
                "my_domain is not a host or URL (give e.g. acme.my.salesforce.com)",
                "waiver for CAP013 needs a reason",
            ]
        );
    }
}
