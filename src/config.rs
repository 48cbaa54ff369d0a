//! `eci-audit.toml`: parsed with `deny_unknown_fields` into [`UnvalidatedConfig`], then
//! validated into [`Config`]. Keys mirror the command-line flags; flags win.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::audit::{FailOn, Waiver};
use crate::report::Format;
use crate::rules::file::{is_rule_id, line_col};

/// The config file name looked for in the current directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "eci-audit.toml";

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnvalidatedConfig {
    format: Option<Format>,
    output: Option<PathBuf>,
    fail_on: Option<FailOn>,
    #[serde(default)]
    select: Vec<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    integration_user: Option<String>,
    refresh_token_days: Option<Spanned<i64>>,
    allow_incomplete: Option<bool>,
    color: Option<ColorChoice>,
    my_domain: Option<Spanned<String>>,
    rules: Option<PathBuf>,
    full_retrieve: Option<bool>,
    #[serde(default)]
    permission_sets: PermissionSetNames,
    voice_connector_namespace: Option<String>,
    high_assurance_session_levels: Option<Vec<String>>,
    #[serde(default, rename = "waiver")]
    waivers: Vec<Spanned<WaiverFile>>,
}

/// `[permission_sets]`: names the guide leaves unconfirmed (reference §7 U3).
#[derive(Debug, Default, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetNames {
    /// Labels that count as an ECI access permission set (USR006); replaces the default list.
    pub eci_access_labels: Option<Vec<String>>,
    /// API names accepted for "Conversation Insights Integration User".
    #[serde(default)]
    pub integration_user_names: Vec<String>,
    /// API names accepted for "Voice Connector Permission".
    #[serde(default)]
    pub voice_connector_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    rule: String,
    reason: String,
    expires: Option<toml::value::Datetime>,
}

/// A validated config.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub format: Option<Format>,
    pub output: Option<PathBuf>,
    pub fail_on: Option<FailOn>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub integration_user: Option<String>,
    pub refresh_token_days: Option<u32>,
    pub allow_incomplete: Option<bool>,
    pub color: Option<ColorChoice>,
    pub my_domain: Option<String>,
    pub rules: Option<PathBuf>,
    pub full_retrieve: Option<bool>,
    pub permission_sets: PermissionSetNames,
    pub voice_connector_namespace: Option<String>,
    pub high_assurance_session_levels: Option<Vec<String>>,
    pub waivers: Vec<Waiver>,
    /// Where values stand in the file, for errors found after parsing (an unknown rule in
    /// `select`, `ignore` or a waiver): key `select:<value>`, `ignore:<value>`, `waiver:<rule>`.
    pub positions: std::collections::BTreeMap<String, (usize, usize)>,
}

impl Config {
    /// An error at the position of `key` in this config file.
    pub fn error_at(&self, key: &str, message: String) -> ConfigError {
        let (line, column) = self.positions.get(key).copied().unwrap_or((1, 1));
        ConfigError::Invalid {
            path: self.path.clone().unwrap_or_default(),
            line,
            column,
            message,
        }
    }
}

/// Why the config file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid config: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Loads `path`, or `./eci-audit.toml` when `path` is `None` and that file exists.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    let (path, explicit) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    if !explicit && !path.is_file() {
        return Ok(Config::default());
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    parse(&text, &path)
}

/// Parses and validates config text.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let invalid = |offset: usize, message: String| {
        let (line, column) = line_col(text, offset);
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let raw: UnvalidatedConfig = toml::from_str(text)
        .map_err(|e| invalid(e.span().map_or(0, |s| s.start), e.message().to_string()))?;
    let refresh_token_days = match raw.refresh_token_days {
        None => None,
        Some(n) => match u32::try_from(*n.get_ref()) {
            Ok(v) if v > 0 => Some(v),
            _ => {
                return Err(invalid(
                    n.span().start,
                    format!(
                        "refresh_token_days must be a positive number of days, not {}",
                        n.get_ref()
                    ),
                ));
            }
        },
    };
    let my_domain = match raw.my_domain {
        None => None,
        Some(d) => {
            if crate::urls::url_origin(d.get_ref()).is_none() {
                return Err(invalid(
                    d.span().start,
                    "my_domain is not a host or URL (give e.g. acme.my.salesforce.com)".to_string(),
                ));
            }
            Some(d.into_inner())
        }
    };
    let mut positions = std::collections::BTreeMap::new();
    let mut waivers = Vec::new();
    for w in raw.waivers {
        let span = w.span();
        positions.insert(
            format!("waiver:{}", w.get_ref().rule),
            line_col(text, span.start),
        );
        let w = w.into_inner();
        if !is_rule_id(&w.rule) {
            return Err(invalid(
                span.start,
                format!("waiver rule `{}` is not a rule id such as CAP013", w.rule),
            ));
        }
        if waivers.iter().any(|x: &Waiver| x.rule == w.rule) {
            return Err(invalid(
                span.start,
                format!("a second waiver for {}; keep one", w.rule),
            ));
        }
        if w.reason.trim().is_empty() {
            return Err(invalid(
                span.start,
                format!("waiver for {} needs a reason", w.rule),
            ));
        }
        let expires = match w.expires {
            None => None,
            Some(dt) => match dt.date {
                Some(d) if dt.time.is_none() => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                }
                _ => None,
            }
            .map(Some)
            .ok_or_else(|| {
                invalid(
                    span.start,
                    format!(
                        "waiver for {}: `expires` must be a date such as 2027-01-31",
                        w.rule
                    ),
                )
            })?,
        };
        waivers.push(Waiver {
            rule: w.rule,
            reason: w.reason,
            expires,
        });
    }
    Ok(Config {
        path: Some(path.to_path_buf()),
        format: raw.format,
        output: raw.output,
        fail_on: raw.fail_on,
        select: raw
            .select
            .into_iter()
            .map(|v| {
                positions.insert(
                    format!("select:{}", v.get_ref()),
                    line_col(text, v.span().start),
                );
                v.into_inner()
            })
            .collect(),
        ignore: raw
            .ignore
            .into_iter()
            .map(|v| {
                positions.insert(
                    format!("ignore:{}", v.get_ref()),
                    line_col(text, v.span().start),
                );
                v.into_inner()
            })
            .collect(),
        integration_user: raw.integration_user,
        refresh_token_days,
        allow_incomplete: raw.allow_incomplete,
        color: raw.color,
        my_domain,
        rules: raw.rules,
        full_retrieve: raw.full_retrieve,
        permission_sets: raw.permission_sets,
        voice_connector_namespace: raw.voice_connector_namespace,
        high_assurance_session_levels: raw.high_assurance_session_levels,
        waivers,
        positions,
    })
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
        .unwrap();
        assert_eq!(c.format, Some(Format::Sarif));
        assert_eq!(c.refresh_token_days, Some(30));
        assert_eq!(c.waivers[0].expires, NaiveDate::from_ymd_opt(2027, 1, 31));
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
}
