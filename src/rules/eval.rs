//! The pure evaluator: rules × fact view → findings. No I/O, no printing.

use std::collections::HashMap;

use crate::snapshot::model::Origin;
use crate::snapshot::view::{
    Fact, FactView, Object, Resolved, Root, Value, normalize_label, resolve_in, url_origin,
};

use super::file::{Assertion, Each, Expected, Literal, ManualOn, MatchMode, Op, Rule};
use super::{Catalogue, Severity, Status, Step};

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub step: Step,
    pub severity: Severity,
    pub status: Status,
    /// One line naming the actual value and the expected one, or the reason.
    pub message: String,
    /// The expected value, in words (from the rule file).
    pub expected: String,
    /// The actual value, rendered, when one was read.
    pub actual: Option<String>,
    pub evidence: Evidence,
    pub fix: String,
    pub requires: Vec<String>,
    /// For `blocked`: the rule at the root of the chain, how it ended and its severity (a
    /// blocked rule whose root failed counts as a failure of that severity).
    pub root_cause: Option<String>,
    pub root_status: Option<Status>,
    pub root_severity: Option<Severity>,
    /// For `waived`: the waiver's reason and expiry, and the status it hid.
    pub waiver: Option<WaiverNote>,
}

/// What proved a finding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence {
    /// Where the deciding value stands (file and line, record, endpoint, input).
    pub origin: Option<Origin>,
    /// The fact's path, e.g. `connected_apps[ECIConnectedApp].oauth_config.scopes`.
    pub fact: Option<String>,
    /// How a derived or defaulted value came about.
    pub note: Option<String>,
    /// The logical location, e.g. `ConnectedApp/ECIConnectedApp`.
    pub logical: Option<String>,
}

/// A waiver that turned a finding into `waived`.
#[derive(Debug, Clone, PartialEq)]
pub struct WaiverNote {
    pub reason: String,
    pub expires: Option<String>,
    pub original: Status,
}

/// Evaluates every rule of the catalogue (in dependency order) against the view.
pub fn evaluate(catalogue: &Catalogue, view: &FactView) -> Vec<Finding> {
    evaluate_with_waivers(catalogue, view, &|_| None)
}

/// An active waiver's `(reason, expires)`, looked up by rule ID.
pub type WaiverLookup<'a> = &'a dyn Fn(&str) -> Option<(String, Option<String>)>;

/// Like [`evaluate`], applying waivers as it goes: a waived `fail`, `unknown` or `blocked`
/// result becomes `waived`; rules that require it stay `blocked` with the waived rule as their
/// root, which counts neither as a failure nor as incompleteness.
/// `waiver_for(rule)` gives `(reason, expires)` of an active waiver.
pub fn evaluate_with_waivers(
    catalogue: &Catalogue,
    view: &FactView,
    waiver_for: WaiverLookup<'_>,
) -> Vec<Finding> {
    let mut done: HashMap<String, usize> = HashMap::new();
    let mut findings: Vec<Finding> = Vec::with_capacity(catalogue.rules().len());
    for rule in catalogue.rules() {
        let mut finding = match blocked_by(rule, &done, &findings) {
            Some(finding) => finding,
            None => evaluate_rule(rule, view),
        };
        if matches!(
            finding.status,
            Status::Fail | Status::Unknown | Status::Blocked
        ) && let Some((reason, expires)) = waiver_for(&rule.id)
        {
            finding.waiver = Some(WaiverNote {
                reason,
                expires,
                original: finding.status,
            });
            finding.status = Status::Waived;
        }
        done.insert(rule.id.clone(), findings.len());
        findings.push(finding);
    }
    findings
}

fn base(rule: &Rule, status: Status, message: String) -> Finding {
    Finding {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        step: rule.step,
        severity: rule.severity,
        status,
        message,
        expected: rule.expected.clone(),
        actual: None,
        evidence: Evidence {
            logical: Some(logical_location(rule)),
            ..Evidence::default()
        },
        fix: rule.fix.clone(),
        requires: rule.requires.clone(),
        root_cause: None,
        root_status: None,
        root_severity: None,
        waiver: None,
    }
}

/// `ConnectedApp/ECIConnectedApp`, `User/integration user`, ….
pub fn logical_location(rule: &Rule) -> String {
    let kind = match rule.check.subject.as_str() {
        "connected_apps" => "ConnectedApp",
        "external_client_apps" => "ExternalClientApplication",
        "auth_providers" => "AuthProvider",
        "named_credentials" => "NamedCredential",
        "sites" => "CustomSite",
        "org" => "Organization",
        "config" => "Config",
        "integration_user" => "User",
        "guest_user" => "User",
        "aircall" => "Aircall",
        other => other,
    };
    match (&rule.check.name, rule.check.subject.as_str()) {
        (Some(name), _) => format!("{kind}/{name}"),
        (None, "integration_user") => "User/integration user".to_string(),
        (None, "guest_user") => "User/VoiceConnector guest user".to_string(),
        (None, _) => kind.to_string(),
    }
}

/// `Some(blocked finding)` when a required rule did not pass.
fn blocked_by(rule: &Rule, done: &HashMap<String, usize>, findings: &[Finding]) -> Option<Finding> {
    for req in &rule.requires {
        let f = &findings[*done.get(req)?];
        if f.status != Status::Pass {
            let root_id = f.root_cause.clone().unwrap_or_else(|| f.rule.clone());
            let root = done.get(&root_id).map(|&i| &findings[i]).unwrap_or(f);
            let message = if root.rule == f.rule {
                format!(
                    "blocked: requires {} ({}), which is {}: {}",
                    f.rule, f.title, f.status, f.message
                )
            } else {
                format!(
                    "blocked: requires {}, blocked by {} ({}), which is {}: {}",
                    f.rule, root.rule, root.title, root.status, root.message
                )
            };
            let mut out = base(rule, Status::Blocked, message);
            out.root_cause = Some(root.rule.clone());
            out.root_status = Some(root.status);
            out.root_severity = Some(root.severity);
            out.evidence.origin = root.evidence.origin.clone();
            return Some(out);
        }
    }
    None
}

/// Per-assertion result.
#[derive(Debug)]
struct Outcome<'v> {
    status: AStatus,
    message: String,
    actual: Option<String>,
    origin: Option<&'v Origin>,
    note: Option<String>,
    fact: String,
    /// Failed only because the fact it compares with is absent.
    missing_reference: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AStatus {
    Pass,
    Fail,
    Unknown,
    Skipped,
}

fn evaluate_rule(rule: &Rule, view: &FactView) -> Finding {
    let check = &rule.check;
    let subject_path = match &check.name {
        Some(name) => format!("{}[{}]", check.subject, name),
        None => check.subject.clone(),
    };
    let unknown_or_manual = |reason: String, origin: Option<Origin>| {
        let mut f = match &rule.manual {
            Some(text) => base(rule, Status::Manual, format!("manual check: {text}")),
            None => base(rule, Status::Unknown, reason.clone()),
        };
        if rule.manual.is_some() {
            f.evidence.note = Some(reason);
        }
        f.evidence.origin = origin;
        f.evidence.fact = Some(subject_path.clone());
        f
    };

    // Select the subject.
    let object: &Object = match view.root(&check.subject) {
        None => {
            return unknown_or_manual(
                format!("rule error: unknown subject `{}`", check.subject),
                None,
            );
        }
        Some(Root::Set(set)) => {
            let name = check.name.as_deref().unwrap_or_default();
            match &set.records {
                Err(reason) => {
                    return unknown_or_manual(
                        format!("{} not collected: {reason}", kind_label(&check.subject)),
                        set.origin.clone(),
                    );
                }
                Ok(_) => match set.find(name) {
                    Some(obj) => obj,
                    None if !set.uncertain.is_empty() => {
                        let (shown, reason) = &set.uncertain[0];
                        return unknown_or_manual(
                            format!(
                                "no {} is known to be named `{name}`, but the API name of `{shown}` was not collected: {reason}",
                                kind_label(&check.subject)
                            ),
                            set.origin.clone(),
                        );
                    }
                    None => {
                        let mut message =
                            format!("no {} named `{name}`", kind_label(&check.subject));
                        let near = near_misses(name, &set.names());
                        if !near.is_empty() {
                            let found: Vec<String> =
                                near.iter().map(|n| format!("`{n}`")).collect();
                            message.push_str(&format!(
                                "; found {}: the API name must be exactly `{name}`",
                                found.join(", ")
                            ));
                        }
                        if let Some(alt) = &check.also_look_in
                            && let Some(Root::Set(alt_set)) = view.root(alt)
                        {
                            let names = alt_set.names();
                            if !names.is_empty() {
                                let list: Vec<String> =
                                    names.iter().map(|n| format!("`{n}`")).collect();
                                message.push_str(&format!(
                                    "; found {} {} instead: the guide is written for a {}, not an {}",
                                    kind_label(alt),
                                    list.join(", "),
                                    kind_label(&check.subject),
                                    kind_label(alt)
                                ));
                            }
                        }
                        let mut f = base(rule, Status::Fail, message);
                        f.evidence.origin = set.origin.clone();
                        f.evidence.fact = Some(subject_path);
                        return f;
                    }
                },
            }
        }
        Some(Root::Single(field)) => match &field.fact {
            Fact::NotCollected { reason } => {
                return unknown_or_manual(reason.clone(), field.origin.clone());
            }
            Fact::Absent { detail } => {
                let message = detail
                    .clone()
                    .unwrap_or_else(|| format!("`{}` is absent", check.subject));
                let mut f = base(rule, Status::Fail, message);
                f.evidence.origin = field.origin.clone();
                f.evidence.fact = Some(subject_path);
                return f;
            }
            Fact::Value(Value::Object(obj)) => obj,
            Fact::Value(_) => {
                return unknown_or_manual(
                    format!("rule error: subject `{}` is not a record", check.subject),
                    None,
                );
            }
        },
    };

    if check.asserts.is_empty() {
        let name = object.name.clone().unwrap_or_else(|| check.subject.clone());
        let mut f = base(
            rule,
            Status::Pass,
            format!("{} `{name}` exists", kind_label(&check.subject)),
        );
        f.actual = Some(name);
        f.evidence.origin = object.origin.clone();
        f.evidence.fact = Some(subject_path);
        return f;
    }

    let outcomes: Vec<Outcome<'_>> = check
        .asserts
        .iter()
        .map(|a| evaluate_assertion(a, object, view, &subject_path))
        .collect();
    let counted: Vec<&Outcome<'_>> = outcomes
        .iter()
        .filter(|o| o.status != AStatus::Skipped)
        .collect();
    let pick = |s: AStatus| counted.iter().copied().filter(move |o| o.status == s);
    let (status, chosen): (Status, Vec<&Outcome<'_>>) = match check.mode {
        MatchMode::All => {
            if let Some(o) = pick(AStatus::Fail).next() {
                (Status::Fail, vec![o])
            } else if let Some(o) = pick(AStatus::Unknown).next() {
                (Status::Unknown, vec![o])
            } else {
                (Status::Pass, counted.clone())
            }
        }
        MatchMode::Any => {
            if let Some(o) = pick(AStatus::Pass).next() {
                (Status::Pass, vec![o])
            } else if let Some(o) = pick(AStatus::Unknown).next() {
                (Status::Unknown, vec![o])
            } else {
                (Status::Fail, counted.clone())
            }
        }
    };
    if chosen.is_empty() {
        // Every assertion was skipped (their references are not configured).
        let mut f = base(
            rule,
            Status::Pass,
            "nothing to check: the references it compares with are not configured".to_string(),
        );
        f.evidence.origin = object.origin.clone();
        f.evidence.fact = Some(subject_path);
        return f;
    }
    // A manual rule that cannot compare (the evidence or what it should equal is missing)
    // stays manual rather than failing on a root cause reported elsewhere.
    let cannot_compare = status == Status::Fail && chosen.iter().all(|o| o.missing_reference);
    if rule.manual.is_some()
        && rule.manual_on == ManualOn::Any
        && (status == Status::Unknown || cannot_compare)
    {
        let o = chosen[0];
        return unknown_or_manual(o.message.clone(), o.origin.cloned());
    }
    let joiner = if check.mode == MatchMode::Any && status == Status::Fail {
        " and "
    } else {
        "; "
    };
    let mut message = chosen
        .iter()
        .map(|o| o.message.as_str())
        .collect::<Vec<_>>()
        .join(joiner);
    if status == Status::Fail {
        // The first matching hint only: hints go from specific to general.
        let matches = |h: &&super::file::Hint| {
            chosen.iter().any(|o| {
                o.actual
                    .as_deref()
                    .is_some_and(|a| h.pattern.is_match(a.trim()))
            })
        };
        if let Some(hint) = check.hints.iter().find(matches) {
            message.push_str(" — ");
            message.push_str(&hint.text);
        }
    }
    let lead = chosen[0];
    let mut f = base(rule, status, message);
    f.actual = lead.actual.clone();
    f.evidence.origin = lead.origin.cloned().or(object.origin.clone());
    f.evidence.fact = Some(lead.fact.clone());
    f.evidence.note = lead.note.clone();
    f
}

fn kind_label(subject: &str) -> &str {
    match subject {
        "connected_apps" => "connected app",
        "external_client_apps" => "External Client App",
        "auth_providers" => "auth provider",
        "named_credentials" => "named credential",
        "sites" => "site",
        "integration_user" => "integration user",
        "guest_user" => "guest user",
        other => other,
    }
}

/// Names close to `wanted`: same letters ignoring case and punctuation, one containing the
/// other, or a high Jaro-Winkler similarity.
pub fn near_misses<'a>(wanted: &str, names: &[&'a str]) -> Vec<&'a str> {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let w = squash(wanted);
    let mut scored: Vec<(f64, &str)> = names
        .iter()
        .filter(|n| **n != wanted)
        .filter_map(|n| {
            let s = squash(n);
            let score = if s == w {
                2.0
            } else if !s.is_empty() && (s.contains(&w) || w.contains(&s)) {
                1.5
            } else {
                strsim::jaro_winkler(&s, &w)
            };
            (score >= 0.88).then_some((score, *n))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// The right-hand operand, after resolving a reference.
#[derive(Debug, Clone)]
enum Operand {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl Operand {
    fn render(&self) -> String {
        match self {
            Operand::None => String::new(),
            Operand::Bool(b) => b.to_string(),
            Operand::Int(i) => i.to_string(),
            Operand::Str(s) => s.clone(),
            Operand::List(l) => format!("[{}]", l.join(", ")),
        }
    }

    fn from_value(v: &Value) -> Option<Operand> {
        Some(match v {
            Value::Bool(b) => Operand::Bool(*b),
            Value::Int(i) => Operand::Int(*i),
            Value::Str(s) => Operand::Str(s.clone()),
            Value::List(items) => Operand::List(items.iter().map(Value::render).collect()),
            Value::Object(o) => Operand::Str(o.name.clone()?),
        })
    }
}

fn evaluate_assertion<'v>(
    a: &Assertion,
    object: &'v Object,
    view: &'v FactView,
    subject_path: &str,
) -> Outcome<'v> {
    let label = a.label.clone().unwrap_or_else(|| format!("`{}`", a.field));
    let fact_path = format!("{subject_path}.{}", a.field);
    let outcome = |status, message: String, resolved: Option<&Resolved<'v>>| Outcome {
        status,
        message,
        actual: None,
        origin: resolved.and_then(|r| r.origin),
        note: resolved.and_then(|r| r.note.map(String::from)),
        fact: fact_path.clone(),
        missing_reference: false,
    };
    let Some(actual) = resolve_in(object, &a.field) else {
        return outcome(
            AStatus::Unknown,
            format!(
                "rule error: `{}` is not a fact of `{subject_path}`",
                a.field
            ),
            None,
        );
    };
    // The expected operand.
    let operand = match &a.expected {
        Expected::None => Operand::None,
        Expected::Literal(l) => match l {
            Literal::Bool(b) => Operand::Bool(*b),
            Literal::Int(i) => Operand::Int(*i),
            Literal::Str(s) => Operand::Str(s.clone()),
            Literal::List(l) => Operand::List(l.clone()),
        },
        Expected::From(path) => match view.resolve(path) {
            None => {
                return outcome(
                    AStatus::Unknown,
                    format!("rule error: `{path}` is not a fact"),
                    Some(&actual),
                );
            }
            Some(r) => match r.fact.as_ref() {
                Fact::NotCollected { reason } => {
                    return outcome(
                        AStatus::Unknown,
                        format!("{label}: cannot compare, `{path}` was not collected: {reason}"),
                        Some(&actual),
                    );
                }
                Fact::Absent { detail } => {
                    if a.skip_if_absent_reference {
                        return outcome(AStatus::Skipped, String::new(), Some(&actual));
                    }
                    let why = detail
                        .clone()
                        .unwrap_or_else(|| format!("`{path}` is absent"));
                    let mut o = outcome(
                        AStatus::Fail,
                        format!("{label}: nothing to compare with: {why}"),
                        Some(&actual),
                    );
                    o.missing_reference = true;
                    return o;
                }
                Fact::Value(v) => match Operand::from_value(v) {
                    Some(op) => op,
                    None => {
                        return outcome(
                            AStatus::Unknown,
                            format!("rule error: `{path}` has no comparable value"),
                            Some(&actual),
                        );
                    }
                },
            },
        },
    };
    let expected_text = describe(a, &operand);
    let note_suffix = actual.note.map(|n| format!(" ({n})")).unwrap_or_default();
    match actual.fact.as_ref() {
        Fact::NotCollected { reason } => outcome(
            AStatus::Unknown,
            format!("{label}: not collected: {reason}"),
            Some(&actual),
        ),
        Fact::Absent { detail } => {
            // Absent satisfies nothing, except "no entry …" of an absent list; a negated
            // assertion passes.
            let passed = (a.each == Some(Each::None)) != a.negate;
            let why = detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let mut o = outcome(
                if passed { AStatus::Pass } else { AStatus::Fail },
                if passed {
                    format!("{label} is absent{why}")
                } else {
                    format!("{label} is absent{why}; expected {expected_text}")
                },
                Some(&actual),
            );
            o.actual = Some("(absent)".to_string());
            o
        }
        Fact::Value(value) => {
            let rendered = value.render();
            match apply(a, value, &operand) {
                Err(e) => outcome(
                    AStatus::Unknown,
                    format!("rule error: {label}: {e}"),
                    Some(&actual),
                ),
                Ok((raw, detail)) => {
                    let passed = raw != a.negate;
                    let mut message = if passed {
                        format!("{label} is `{rendered}`{note_suffix}")
                    } else {
                        format!("{label} is `{rendered}`{note_suffix}; expected {expected_text}")
                    };
                    if !passed && let Some(d) = detail {
                        message.push_str(&format!(" ({d})"));
                    }
                    let mut o = outcome(
                        if passed { AStatus::Pass } else { AStatus::Fail },
                        message,
                        Some(&actual),
                    );
                    o.actual = Some(rendered);
                    o
                }
            }
        }
    }
}

/// The expected value in words, for messages.
fn describe(a: &Assertion, operand: &Operand) -> String {
    let e = operand.render();
    let case = if a.ignore_case { " (any case)" } else { "" };
    let text = match a.each {
        None => match a.op {
            Op::Equals | Op::Boolean | Op::UrlEquals => format!("`{e}`{case}"),
            Op::EqualsIgnoringCase => format!("`{e}` (case and spacing ignored)"),
            Op::OneOf => format!("one of {e}{case}"),
            Op::ContainsAll => format!("all of {e}{case}"),
            Op::TokenSetEquals => format!("exactly the tokens {e} in any order"),
            Op::NonEmpty => "a non-empty value".to_string(),
            Op::HostEquals => format!("host `{e}`"),
            Op::Regex => format!("a value matching `{e}`"),
        },
        Some(each) => {
            let clause = match a.op {
                Op::OneOf => format!("that is one of {e}{case}"),
                Op::HostEquals => format!("with host `{e}`"),
                Op::Regex => format!("matching `{e}`"),
                Op::EqualsIgnoringCase => format!("equal to `{e}` (case and spacing ignored)"),
                _ => format!("equal to `{e}`{case}"),
            };
            let quantifier = match each {
                Each::Any => "an entry",
                Each::All => "every entry",
                Each::None => "no entry",
            };
            format!("{quantifier} {clause}")
        }
    };
    if a.negate {
        format!("not {text}")
    } else {
        text
    }
}

/// Applies the operator. `Ok((holds, detail))`, `Err` on a type mismatch.
fn apply(
    a: &Assertion,
    actual: &Value,
    operand: &Operand,
) -> Result<(bool, Option<String>), String> {
    if let Some(each) = a.each {
        let Value::List(items) = actual else {
            return Err(format!("`each` needs a list, found `{}`", actual.render()));
        };
        let mut hits = Vec::new();
        for item in items {
            if scalar(a, item, operand)? {
                hits.push(item.render());
            }
        }
        return Ok(match each {
            Each::Any => (!hits.is_empty(), None),
            Each::All => (!items.is_empty() && hits.len() == items.len(), None),
            Each::None => (
                hits.is_empty(),
                (!hits.is_empty()).then(|| format!("offending: {}", hits.join(", "))),
            ),
        });
    }
    match (a.op, actual) {
        (Op::NonEmpty, Value::Str(s)) => Ok((!s.trim().is_empty(), None)),
        (Op::NonEmpty, Value::List(l)) => Ok((!l.is_empty(), None)),
        (Op::NonEmpty, Value::Object(_)) => Ok((true, None)),
        (Op::ContainsAll, Value::List(items)) => {
            let Operand::List(want) = operand else {
                return Err("contains-all needs a list to compare with".to_string());
            };
            let have: Vec<String> = items
                .iter()
                .map(|v| fold(&v.render(), a.ignore_case))
                .collect();
            let missing: Vec<&String> = want
                .iter()
                .filter(|w| !have.contains(&fold(w, a.ignore_case)))
                .collect();
            Ok((
                missing.is_empty(),
                (!missing.is_empty()).then(|| {
                    format!(
                        "missing: {}",
                        missing
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            ))
        }
        (Op::TokenSetEquals, Value::Str(s)) => {
            let Operand::List(want) = operand else {
                return Err("token-set-equals needs a list to compare with".to_string());
            };
            let have: std::collections::BTreeSet<String> = s
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|t| !t.is_empty())
                .map(|t| t.to_lowercase())
                .collect();
            let want: std::collections::BTreeSet<String> =
                want.iter().map(|t| t.to_lowercase()).collect();
            let missing: Vec<&String> = want.difference(&have).collect();
            let extra: Vec<&String> = have.difference(&want).collect();
            let mut detail = Vec::new();
            if !missing.is_empty() {
                detail.push(format!(
                    "missing: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !extra.is_empty() {
                detail.push(format!(
                    "extra: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Ok((
                have == want,
                (!detail.is_empty()).then(|| detail.join("; ")),
            ))
        }
        (Op::ContainsAll | Op::NonEmpty | Op::TokenSetEquals, other) => Err(format!(
            "operator `{}` cannot apply to `{}`",
            a.op.as_str(),
            other.render()
        )),
        (_, Value::List(_)) => Err(format!(
            "operator `{}` compares one value but the fact is a list; the rule needs `each`",
            a.op.as_str()
        )),
        (_, v) => Ok((scalar(a, v, operand)?, None)),
    }
}

fn fold(s: &str, ignore_case: bool) -> String {
    if ignore_case {
        normalize_label(s)
    } else {
        s.trim().to_string()
    }
}

/// A scalar operator on one value.
fn scalar(a: &Assertion, v: &Value, operand: &Operand) -> Result<bool, String> {
    let text = || v.render();
    Ok(match (a.op, operand) {
        (Op::Equals, Operand::Str(e)) => fold(&text(), a.ignore_case) == fold(e, a.ignore_case),
        (Op::Equals, Operand::Bool(e)) => matches!(v, Value::Bool(b) if b == e),
        (Op::Equals, Operand::Int(e)) => match v {
            Value::Int(i) => i == e,
            Value::Str(s) => s.trim().parse::<i64>().ok() == Some(*e),
            _ => false,
        },
        (Op::EqualsIgnoringCase, Operand::Str(e)) => normalize_label(&text()) == normalize_label(e),
        (Op::OneOf, Operand::List(list)) => {
            let t = fold(&text(), a.ignore_case);
            list.iter().any(|e| fold(e, a.ignore_case) == t)
        }
        (Op::OneOf, Operand::Str(e)) => fold(&text(), a.ignore_case) == fold(e, a.ignore_case),
        (Op::Boolean, Operand::Bool(e)) => match v {
            Value::Bool(b) => b == e,
            other => return Err(format!("expected a boolean, found `{}`", other.render())),
        },
        (Op::UrlEquals, Operand::Str(e)) => same_url(&text(), e),
        (Op::HostEquals, Operand::Str(e)) => {
            host_of(&text()).is_some_and(|h| h.eq_ignore_ascii_case(e.trim()))
        }
        // Like every other operator, surrounding whitespace (an indented XML value) is ignored.
        (Op::Regex, Operand::Str(p)) => match &a.regex {
            Some(re) => re.is_match(text().trim()),
            None => regex::Regex::new(p)
                .map_err(|e| format!("invalid regex: {e}"))?
                .is_match(text().trim()),
        },
        (op, operand) => {
            return Err(format!(
                "operator `{}` cannot compare with `{}`",
                op.as_str(),
                operand.render()
            ));
        }
    })
}

/// The host of a URL (a bare host is taken as https).
fn host_of(raw: &str) -> Option<String> {
    let origin = url_origin(raw)?;
    let host = origin.split("://").nth(1)?;
    Some(
        host.rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
            .to_string(),
    )
}

/// Same scheme, host (any case), port, path (trailing `/` ignored), query.
fn same_url(actual: &str, expected: &str) -> bool {
    let parse = |s: &str| url::Url::parse(s.trim()).ok();
    match (parse(actual), parse(expected)) {
        (Some(a), Some(e)) => {
            a.scheme() == e.scheme()
                && a.host_str().map(str::to_lowercase) == e.host_str().map(str::to_lowercase)
                && a.port_or_known_default() == e.port_or_known_default()
                && a.path().trim_end_matches('/') == e.path().trim_end_matches('/')
                && a.query() == e.query()
        }
        _ => actual.trim() == expected.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_miss_names() {
        let names = [
            "ECI_Connected_App",
            "Other",
            "eciconnectedapp2",
            "Aircall_API",
        ];
        let near = near_misses("ECIConnectedApp", &names);
        assert_eq!(near[0], "ECI_Connected_App");
        assert!(!near.contains(&"Other"));
        assert_eq!(near_misses("Aircall", &names), vec!["Aircall_API"]);
    }

    #[test]
    fn urls() {
        assert!(same_url(
            "https://ACME.my.salesforce.com/",
            "https://acme.my.salesforce.com"
        ));
        assert!(!same_url(
            "http://acme.my.salesforce.com",
            "https://acme.my.salesforce.com"
        ));
        assert!(!same_url(
            "https://api.aircall.io/v1",
            "https://api.aircall.io"
        ));
        assert_eq!(
            host_of("https://dummyurl/services/authcallback/X").as_deref(),
            Some("dummyurl")
        );
        assert_eq!(
            host_of("http://127.0.0.1:9000").as_deref(),
            Some("127.0.0.1")
        );
    }
}
