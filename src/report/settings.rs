//! `--dump-config`: the effective settings as TOML a config file could hold, each value
//! followed by where it came from (a flag, `file:line:column`, or the default), so a person
//! can see why the audit behaves as it does without running it.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::options::{Options, Setting};

/// Which command's settings to show: `collect` uses only a few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Check,
    Collect,
}

/// Renders the effective settings.
pub fn render(options: &Options, scope: Scope) -> String {
    let command = match scope {
        Scope::Check => "check",
        Scope::Collect => "collect",
    };
    let mut out = format!(
        "# eci-audit {command}: effective settings (flags over {} over defaults)\n",
        options
            .config_path
            .as_ref()
            .map_or("no config file".to_string(), |p| p.display().to_string())
    );
    let o = options;
    if scope == Scope::Check {
        out.push_str(&one("format", Some(&o.format)));
        out.push_str(&one("output", o.output.as_ref()));
        out.push_str(&one("fail_on", Some(&o.fail_on)));
        out.push_str(&list("select", &o.select));
        out.push_str(&list("ignore", &o.ignore));
    }
    out.push_str(&one("integration_user", o.integration_user.as_ref()));
    if scope == Scope::Check {
        out.push_str(&one("refresh_token_days", o.refresh_token_days.as_ref()));
    }
    out.push_str(&one("my_domain", o.my_domain.as_ref()));
    if scope == Scope::Check {
        out.push_str(&one("allow_incomplete", Some(&o.allow_incomplete)));
        out.push_str(&one("color", Some(&o.color)));
        out.push_str(&one("show_passed", Some(&o.show_passed)));
        out.push_str(&one("rules", o.rules.as_ref()));
        out.push_str(&one("full_retrieve", Some(&o.full_retrieve)));
        out.push_str(&one(
            "voice_connector_namespace",
            o.voice_connector_namespace.as_ref(),
        ));
        out.push_str(&one(
            "high_assurance_session_levels",
            Some(&o.high_assurance_session_levels),
        ));
        out.push_str(&one("token_expiry_warning", Some(&o.token_expiry_warning)));
        out.push_str(&changes(&o.changes));
    }
    out.push_str("\n[permission_sets]\n");
    if scope == Scope::Check {
        out.push_str(&one("eci_access_labels", Some(&o.eci_access_labels)));
    }
    out.push_str(&one(
        "integration_user_names",
        Some(&o.integration_user_names),
    ));
    if scope == Scope::Check {
        out.push_str(&one(
            "voice_connector_names",
            Some(&o.voice_connector_names),
        ));
        for w in &o.waivers {
            out.push_str(&commented(
                "\n[[waiver]]".to_string(),
                &w.origin.to_string(),
            ));
            out.push_str(&format!("rule = {}\n", toml_text(&w.value.rule)));
            out.push_str(&format!("reason = {}\n", toml_text(&w.value.reason)));
            if let Some(expires) = w.value.expires {
                out.push_str(&format!("expires = {expires}\n"));
            }
        }
    }
    out
}

/// A value as TOML text. JSON strings, numbers, booleans and arrays of them are valid TOML,
/// and control characters come out escaped.
fn toml_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Array(items)) => {
            let items: Vec<String> = items.iter().map(toml_text).collect();
            format!("[{}]", items.join(", "))
        }
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn commented(line: String, origin: &str) -> String {
    format!("{line:<50} # {origin}\n")
}

/// One setting; an unset one is a comment, as there is no TOML for "none".
fn one<T: Serialize>(key: &str, setting: Option<&Setting<T>>) -> String {
    match setting {
        Some(s) => commented(
            format!("{key} = {}", toml_text(&s.value)),
            &s.origin.to_string(),
        ),
        None => commented(format!("# {key} is not set"), "default"),
    }
}

/// A list whose entries may come from several places.
fn list(key: &str, entries: &[Setting<String>]) -> String {
    let values: Vec<&String> = entries.iter().map(|s| &s.value).collect();
    let mut seen = BTreeSet::new();
    let origins: Vec<String> = entries
        .iter()
        .map(|s| s.origin.to_string())
        .filter(|o| seen.insert(o.clone()))
        .collect();
    let origin = if origins.is_empty() {
        "default".to_string()
    } else {
        origins.join(", ")
    };
    commented(format!("{key} = {}", toml_text(&values)), &origin)
}

/// `changes_days = N` or `changes_since = DATE`, whichever the window is.
fn changes(setting: &Setting<crate::facts::settings::ChangesWindow>) -> String {
    use crate::facts::settings::ChangesWindow;
    let line = match setting.value {
        ChangesWindow::Days(n) => format!("changes_days = {n}"),
        ChangesWindow::Since(d) => format!("changes_since = {d}"),
    };
    commented(line, &setting.origin.to_string())
}
