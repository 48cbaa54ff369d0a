//! The pure evaluator: rules × fact view → findings. No I/O, no printing.

use std::collections::{BTreeSet, HashMap};

use crate::facts::{
    Entry, Fact, FactView, Object, Resolved, Root, Value, normalize_label, resolve_in,
};
use crate::snapshot::model::Origin;
use crate::urls::{host_of, same_url};

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
    /// The actual value as read (lists as lists, booleans as booleans); `None` when no value
    /// was read or the fact is absent. For machines: the JSON report's `actual`.
    pub actual_value: Option<Value>,
    /// The value the deciding assertion compares with (a literal from the rule file, or the
    /// referenced fact); `None` when the rule has no operand (existence, `non-empty`). The
    /// JSON report's `expected`; `expected` above is the words.
    pub expected_value: Option<Value>,
    /// How the deciding assertion compares `actual_value` with `expected_value`; `None` for
    /// an existence check.
    pub comparison: Option<Comparison>,
    pub evidence: Evidence,
    pub fix: String,
    pub requires: Vec<String>,
    /// For `blocked`: the rule at the root of the chain, how it ended and its severity (a
    /// blocked rule whose root failed counts as a failure of that severity).
    pub root_cause: Option<String>,
    pub root_status: Option<Status>,
    pub root_severity: Option<Severity>,
    /// For `blocked`: the root rule's own message (why it did not pass).
    pub root_message: Option<String>,
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

/// An assertion's operator, as the rule file spells it, for machines reading `expected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    /// `equals`, `one-of`, `contains-all`, `regex`, ….
    pub operator: &'static str,
    /// Applied to the entries of a list: `any`, `all` or `none`.
    pub each: Option<&'static str>,
    pub negate: bool,
    pub ignore_case: bool,
}

impl Comparison {
    fn of(a: &Assertion) -> Comparison {
        Comparison {
            operator: a.op.as_str(),
            each: a.each.map(|e| match e {
                Each::Any => "any",
                Each::All => "all",
                Each::None => "none",
            }),
            negate: a.negate,
            ignore_case: a.ignore_case,
        }
    }
}

/// A waiver that turned a finding into `waived`.
#[derive(Debug, Clone, PartialEq)]
pub struct WaiverNote {
    pub reason: String,
    pub expires: Option<String>,
    pub original: Status,
}

/// What the run's source can hold: decides whether a rule whose data is missing is
/// `unknown` (the data could have been read and was not) or `skipped` (this kind of source
/// never holds it).
///
/// The fact schema marks what only an org holds ([`RootSpec::org_only`],
/// [`FieldSpec::org_only`](crate::facts::FieldSpec::org_only): users, assignments, org
/// records, installed packages). A source that holds no org data (a metadata directory read
/// without `--snapshot`) can never provide those facts, so a rule that ends without a value
/// because one of them is missing is not applicable to it, rather than a gap in the audit. A
/// rule that requires such a rule is not applicable either. Everything else that is missing
/// (a component folder not retrieved, My Domain not given, an API refusal) stays `unknown`:
/// the person can supply it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceReach {
    /// A live org, a snapshot file, or files merged with org data.
    #[default]
    Org,
    /// Files only: no org-only fact can ever be there.
    FilesOnly,
}

/// The message of a rule that does not apply to this source.
pub const NOT_APPLICABLE: &str =
    "not applicable to this source: check it live or merge a snapshot with --snapshot";

/// How to evaluate: what the source can hold and which rules were selected.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalContext<'a> {
    pub reach: SourceReach,
    /// The selected rule IDs; `None`: all. A rule whose required rule is not selected is still
    /// evaluated on its own facts.
    pub selected: Option<&'a BTreeSet<String>>,
}

/// Evaluates every rule of the catalogue (in dependency order) against the view.
pub fn evaluate(catalogue: &Catalogue, view: &FactView) -> Vec<Finding> {
    evaluate_with_waivers(catalogue, view, &|_| None, EvalContext::default())
}

/// An active waiver's `(reason, expires)`, looked up by rule ID.
pub type WaiverLookup<'a> = &'a dyn Fn(&str) -> Option<(String, Option<String>)>;

/// Like [`evaluate`], applying waivers as it goes: a waived `fail`, `unknown` or `blocked`
/// result becomes `waived`; rules that require it stay `blocked` with the waived rule as their
/// root, which counts neither as a failure nor as incompleteness.
/// `waiver_for(rule)` gives `(reason, expires)` of an active waiver.
///
/// A rule whose required rule did not pass is `blocked` behind it, except when that rule was
/// not selected (`ctx.selected`): then the rule is evaluated on its own facts, and stays
/// blocked only when those are missing too (so a failure of the unselected rule still shows).
pub fn evaluate_with_waivers(
    catalogue: &Catalogue,
    view: &FactView,
    waiver_for: WaiverLookup<'_>,
    ctx: EvalContext<'_>,
) -> Vec<Finding> {
    let mut done: HashMap<String, usize> = HashMap::new();
    let mut findings: Vec<Finding> = Vec::with_capacity(catalogue.rules().len());
    let is_selected = |id: &str| ctx.selected.is_none_or(|s| s.contains(id));
    for rule in catalogue.rules() {
        let mut finding = match blocked_by(rule, &done, &findings) {
            // The rule it waits on was not selected: its own facts decide, when it has them.
            Some(held) if !is_selected(&held.blocking) => {
                let own = evaluate_rule(rule, view, ctx.reach);
                if own.status == Status::Unknown {
                    held.finding
                } else {
                    own
                }
            }
            // Waiting on a rule that could not be evaluated: the rule's own data may still say
            // something the root's reason does not (CAP012's policy read from SOQL when
            // readMetadata is refused), so its own reason joins the message.
            Some(mut held) if held.finding.root_status == Some(Status::Unknown) => {
                let own = evaluate_rule(rule, view, ctx.reach);
                if own.status == Status::Unknown
                    && held.finding.root_message.as_deref().is_none_or(|root| {
                        !own.message.contains(root) && !root.contains(&own.message)
                    })
                {
                    held.finding.message =
                        format!("{}; its own data: {}", held.finding.message, own.message);
                }
                held.finding
            }
            Some(held) => held.finding,
            None => evaluate_rule(rule, view, ctx.reach),
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
        actual_value: None,
        expected_value: literal_operand(rule),
        comparison: rule.check.asserts.first().map(Comparison::of),
        evidence: Evidence {
            logical: Some(logical_location(rule)),
            ..Evidence::default()
        },
        fix: rule.fix.clone(),
        requires: rule.requires.clone(),
        root_cause: None,
        root_status: None,
        root_severity: None,
        root_message: None,
        waiver: None,
    }
}

/// The first assertion's literal, as a value: what a finding that never reached a
/// comparison (unknown, blocked) still expects.
fn literal_operand(rule: &Rule) -> Option<Value> {
    match &rule.check.asserts.first()?.expected {
        Expected::Literal(l) => operand_of(l).value(),
        Expected::None | Expected::From(_) => None,
    }
}

fn operand_of(l: &Literal) -> Operand {
    match l {
        Literal::Bool(b) => Operand::Bool(*b),
        Literal::Int(i) => Operand::Int(*i),
        Literal::Str(s) => Operand::Str(s.clone()),
        Literal::List(l) => Operand::List(l.clone()),
    }
}

/// `ConnectedApp/ECIConnectedApp`, `User/integration user`, ….
pub fn logical_location(rule: &Rule) -> String {
    rule.check
        .subject
        .logical_location(rule.check.name.as_deref())
}

/// A rule held up by a required rule that did not pass.
struct Held {
    finding: Finding,
    /// The required rule it waits on directly.
    blocking: String,
}

/// `Some(held)` when a required rule did not pass: `blocked` behind it, or `skipped` when it
/// does not apply to this source (then neither does this rule, which needs it to pass).
fn blocked_by(rule: &Rule, done: &HashMap<String, usize>, findings: &[Finding]) -> Option<Held> {
    for req in &rule.requires {
        let f = &findings[*done.get(req)?];
        if f.status == Status::Skipped {
            let mut out = base(
                rule,
                Status::Skipped,
                format!(
                    "{NOT_APPLICABLE} (requires {}, which does not apply to this source)",
                    f.rule
                ),
            );
            out.root_cause = Some(f.root_cause.clone().unwrap_or_else(|| f.rule.clone()));
            out.root_status = Some(Status::Skipped);
            return Some(Held {
                finding: out,
                blocking: f.rule.clone(),
            });
        }
        if f.status != Status::Pass {
            let root_id = f.root_cause.clone().unwrap_or_else(|| f.rule.clone());
            let root = done.get(&root_id).map_or(f, |&i| &findings[i]);
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
            out.root_message = Some(root.message.clone());
            out.evidence.origin.clone_from(&root.evidence.origin);
            return Some(Held {
                finding: out,
                blocking: f.rule.clone(),
            });
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
    actual_value: Option<Value>,
    expected_value: Option<Value>,
    comparison: Comparison,
    origin: Option<&'v Origin>,
    note: Option<String>,
    fact: String,
    /// Failed only because the fact it compares with is absent.
    missing_reference: bool,
    /// Unknown because a fact only an org holds is missing.
    org_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AStatus {
    Pass,
    Fail,
    Unknown,
    Skipped,
}

fn evaluate_rule(rule: &Rule, view: &FactView, reach: SourceReach) -> Finding {
    let check = &rule.check;
    let label = check.subject.label;
    let subject_path = match &check.name {
        Some(name) => format!("{}[{}]", check.subject.name, name),
        None => check.subject.name.to_string(),
    };
    // `org_only`: the missing fact is one only an org holds (see [`SourceReach`]).
    let unknown_or_manual = |reason: String, origin: Option<Origin>, org_only: bool| {
        let mut f = if let Some(text) = &rule.manual {
            base(rule, Status::Manual, format!("manual check: {text}"))
        } else {
            let mut f = base(rule, Status::Unknown, reason.clone());
            out_of_reach(&mut f, org_only, reach);
            f
        };
        if rule.manual.is_some() {
            f.evidence.note = Some(reason);
        }
        f.evidence.origin = origin;
        f.evidence.fact = Some(subject_path.clone());
        f
    };
    let fail = |message: String, origin: Option<Origin>| {
        let mut f = base(rule, Status::Fail, message);
        f.evidence.origin = origin;
        f.evidence.fact = Some(subject_path.clone());
        f
    };

    // Select the subject.
    let object: &Object = match view.root(check.subject) {
        Root::Set(set) => {
            let name = check.name.as_deref().unwrap_or_default();
            match &set.records {
                Err(reason) => {
                    return unknown_or_manual(
                        format!("{label} not collected: {reason}"),
                        set.origin.clone(),
                        check.subject.org_only,
                    );
                }
                Ok(_) => match set.find(name) {
                    Some(obj) => obj,
                    None if !set.uncertain.is_empty() => {
                        let (shown, reason) = &set.uncertain[0];
                        return unknown_or_manual(
                            format!(
                                "no {label} is known to be named `{name}`, but the API name of `{shown}` was not collected: {reason}"
                            ),
                            set.origin.clone(),
                            false,
                        );
                    }
                    None => {
                        let mut message = format!("no {label} named `{name}`");
                        let near = near_misses(name, &set.names());
                        if !near.is_empty() {
                            let found: Vec<String> =
                                near.iter().map(|n| format!("`{n}`")).collect();
                            message.push_str(&format!(
                                "; found {}: the API name must be exactly `{name}`",
                                found.join(", ")
                            ));
                        }
                        if let Some(alt) = check.also_look_in
                            && let Root::Set(alt_set) = view.root(alt)
                        {
                            let names = alt_set.names();
                            if !names.is_empty() {
                                let list: Vec<String> =
                                    names.iter().map(|n| format!("`{n}`")).collect();
                                message.push_str(&format!(
                                    "; found {} {} instead: the guide is written for a {label}, not an {}",
                                    alt.label,
                                    list.join(", "),
                                    alt.label
                                ));
                            }
                        }
                        // Where to look: the near miss's file or record, when there is one.
                        let origin = near
                            .first()
                            .and_then(|n| set.find(n))
                            .and_then(|o| o.origin.clone())
                            .or_else(|| set.origin.clone());
                        return fail(message, origin);
                    }
                },
            }
        }
        Root::Single(Entry::Found { object, .. }) => object,
        Root::Single(Entry::Absent { detail, origin }) => {
            return fail(
                detail
                    .clone()
                    .unwrap_or_else(|| format!("`{}` is absent", check.subject.name)),
                origin.clone(),
            );
        }
        Root::Single(Entry::NotCollected { reason }) => {
            return unknown_or_manual(reason.clone(), None, check.subject.org_only);
        }
    };

    if check.asserts.is_empty() {
        let name = object
            .name
            .clone()
            .unwrap_or_else(|| check.subject.name.to_string());
        let mut message = format!("{label} `{name}` exists");
        if let Some(note) = &object.note {
            message.push_str(&format!(" ({note})"));
        }
        let mut f = base(rule, Status::Pass, message);
        f.actual_value = Some(Value::Str(name.clone()));
        f.actual = Some(name);
        f.evidence.origin.clone_from(&object.origin);
        f.evidence.fact = Some(subject_path);
        return f;
    }

    let outcomes: Vec<Outcome<'_>> = check
        .asserts
        .iter()
        .map(|a| evaluate_assertion(a, object, view, &subject_path, check.subject.org_only))
        .collect();
    let counted: Vec<&Outcome<'_>> = outcomes
        .iter()
        .filter(|o| o.status != AStatus::Skipped)
        .collect();
    let pick = |s: AStatus| counted.iter().copied().filter(move |o| o.status == s);
    // `all`: one failure decides, else one unknown, else all pass; `any`: the other way round.
    let (decisive, otherwise) = match check.mode {
        MatchMode::All => ((AStatus::Fail, Status::Fail), Status::Pass),
        MatchMode::Any => ((AStatus::Pass, Status::Pass), Status::Fail),
    };
    let (status, chosen): (Status, Vec<&Outcome<'_>>) = if let Some(o) = pick(decisive.0).next() {
        (decisive.1, vec![o])
    } else if let Some(o) = pick(AStatus::Unknown).next() {
        (Status::Unknown, vec![o])
    } else {
        (otherwise, counted.clone())
    };
    if chosen.is_empty() {
        // Every assertion was skipped (their references are not configured).
        let mut f = base(
            rule,
            Status::Pass,
            "nothing to check: the references it compares with are not configured".to_string(),
        );
        f.evidence.origin.clone_from(&object.origin);
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
        return unknown_or_manual(o.message.clone(), o.origin.cloned(), o.org_only);
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
    f.actual.clone_from(&lead.actual);
    f.actual_value.clone_from(&lead.actual_value);
    f.expected_value.clone_from(&lead.expected_value);
    f.comparison = Some(lead.comparison);
    f.evidence.origin = lead.origin.cloned().or(object.origin.clone());
    f.evidence.fact = Some(lead.fact.clone());
    f.evidence.note.clone_from(&lead.note);
    out_of_reach(&mut f, lead.org_only, reach);
    f
}

/// An unknown finding whose missing fact only an org holds is skipped when only files were
/// read: it is out of their reach, not unknown.
fn out_of_reach(f: &mut Finding, org_only: bool, reach: SourceReach) {
    if f.status == Status::Unknown && org_only && reach == SourceReach::FilesOnly {
        f.status = Status::Skipped;
        f.message = format!("{NOT_APPLICABLE} ({})", f.message);
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
    /// The operand as a list: a list's elements, a string as a list of one.
    fn items(&self) -> Vec<String> {
        match self {
            Operand::List(l) => l.clone(),
            Operand::Str(s) => vec![s.clone()],
            Operand::None | Operand::Bool(_) | Operand::Int(_) => Vec::new(),
        }
    }

    fn render(&self) -> String {
        match self {
            Operand::None => String::new(),
            Operand::Bool(b) => b.to_string(),
            Operand::Int(i) => i.to_string(),
            Operand::Str(s) => s.clone(),
            Operand::List(l) => format!("[{}]", l.join(", ")),
        }
    }

    /// The operand as a typed value; `None` when there is none.
    fn value(&self) -> Option<Value> {
        match self {
            Operand::None => None,
            Operand::Bool(b) => Some(Value::Bool(*b)),
            Operand::Int(i) => Some(Value::Int(*i)),
            Operand::Str(s) => Some(Value::Str(s.clone())),
            Operand::List(l) => Some(Value::strs(l.iter().cloned())),
        }
    }

    /// A referenced value as an operand. Rule validation never lets a reference name a
    /// record, so a record only ever stands for its name here.
    fn from_value(v: &Value) -> Operand {
        match v {
            Value::Bool(b) => Operand::Bool(*b),
            Value::Int(i) => Operand::Int(*i),
            Value::Str(s) => Operand::Str(s.clone()),
            Value::List(items) => Operand::List(items.iter().map(Value::render).collect()),
            Value::Object(o) => Operand::Str(o.name.clone().unwrap_or_default()),
        }
    }
}

fn evaluate_assertion<'v>(
    a: &Assertion,
    object: &'v Object,
    view: &'v FactView,
    subject_path: &str,
    object_root_org_only: bool,
) -> Outcome<'v> {
    let label = a
        .label
        .clone()
        .unwrap_or_else(|| format!("`{}`", a.field.path));
    let fact_path = format!("{subject_path}.{}", a.field.path);
    let outcome = |status, message: String, resolved: Option<&Resolved<'v>>| Outcome {
        status,
        message,
        actual: None,
        actual_value: None,
        expected_value: None,
        comparison: Comparison::of(a),
        origin: resolved.and_then(|r| r.origin),
        note: resolved.and_then(|r| r.note.map(String::from)),
        fact: fact_path.clone(),
        missing_reference: false,
        org_only: false,
    };
    let actual = resolve_in(object, a.field);
    // The expected operand.
    let operand = match &a.expected {
        Expected::None => Operand::None,
        Expected::Literal(l) => operand_of(l),
        Expected::From(path) => {
            let r = view.resolve(path);
            match r.fact.as_ref() {
                Fact::NotCollected { reason } => {
                    let mut o = outcome(
                        AStatus::Unknown,
                        format!("{label}: cannot compare, `{path}` was not collected: {reason}"),
                        Some(&actual),
                    );
                    o.org_only = path.root.org_only || path.field.is_some_and(|f| f.org_only);
                    return o;
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
                Fact::Value(v) => Operand::from_value(v),
            }
        }
    };
    let expected_text = describe(a, &operand);
    let note_suffix = actual.note.map(|n| format!(" ({n})")).unwrap_or_default();
    match actual.fact.as_ref() {
        Fact::NotCollected { reason } => {
            let mut o = outcome(
                AStatus::Unknown,
                format!("{label}: not collected: {reason}"),
                Some(&actual),
            );
            o.expected_value = operand.value();
            o.org_only = a.field.org_only || object_root_org_only;
            o
        }
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
            o.expected_value = operand.value();
            o
        }
        Fact::Value(value) => {
            let rendered = value.render();
            let (raw, detail) = apply(a, value, &operand);
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
            o.actual_value = Some(value.clone());
            o.expected_value = operand.value();
            o
        }
    }
}

/// The expected value in words, for messages.
fn describe(a: &Assertion, operand: &Operand) -> String {
    let e = operand.render();
    // `equals` folds case and spacing; the other operators say "any case" as they always did.
    let case = match (a.ignore_case, a.op) {
        (false, _) => "",
        (true, Op::Equals) => " (case and spacing ignored)",
        (true, _) => " (any case)",
    };
    let text = match a.each {
        None => match a.op {
            Op::Equals | Op::UrlEquals => format!("`{e}`{case}"),
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

/// Applies the operator: `(holds, detail)`. Rule validation has checked that the operator
/// fits the fact's type and the operand's, so every combination here has a meaning: a scalar
/// where a list is expected counts as a list of one, a value of another type is not equal.
fn apply(a: &Assertion, actual: &Value, operand: &Operand) -> (bool, Option<String>) {
    if let Some(each) = a.each {
        let items = as_items(actual);
        let hits: Vec<String> = items
            .iter()
            .filter(|item| scalar(a, item, operand))
            .map(super::super::facts::value::Value::render)
            .collect();
        return match each {
            Each::Any => (!hits.is_empty(), None),
            Each::All => (!items.is_empty() && hits.len() == items.len(), None),
            Each::None => (
                hits.is_empty(),
                (!hits.is_empty()).then(|| format!("offending: {}", hits.join(", "))),
            ),
        };
    }
    match a.op {
        Op::NonEmpty => (
            match actual {
                Value::Str(s) => !s.trim().is_empty(),
                Value::List(l) => !l.is_empty(),
                Value::Bool(_) | Value::Int(_) | Value::Object(_) => true,
            },
            None,
        ),
        Op::ContainsAll => {
            let have: Vec<String> = as_items(actual)
                .iter()
                .map(|v| fold(&v.render(), a.ignore_case))
                .collect();
            let want = operand.items();
            let missing: Vec<&str> = want
                .iter()
                .filter(|w| !have.contains(&fold(w, a.ignore_case)))
                .map(String::as_str)
                .collect();
            listed(missing.is_empty(), "missing", &missing)
        }
        Op::TokenSetEquals => {
            let text = actual.render();
            let have: BTreeSet<String> = text
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|t| !t.is_empty())
                .map(str::to_lowercase)
                .collect();
            let want: BTreeSet<String> = operand.items().iter().map(|t| t.to_lowercase()).collect();
            let missing: Vec<&str> = want.difference(&have).map(String::as_str).collect();
            let extra: Vec<&str> = have.difference(&want).map(String::as_str).collect();
            let detail: Vec<String> = [("missing", &missing), ("extra", &extra)]
                .into_iter()
                .filter(|(_, l)| !l.is_empty())
                .map(|(what, l)| format!("{what}: {}", l.join(", ")))
                .collect();
            (
                have == want,
                (!detail.is_empty()).then(|| detail.join("; ")),
            )
        }
        _ => (scalar(a, actual, operand), None),
    }
}

/// `(holds, "what: a, b")` with the detail only when something is listed.
fn listed(holds: bool, what: &str, items: &[&str]) -> (bool, Option<String>) {
    (
        holds,
        (!items.is_empty()).then(|| format!("{what}: {}", items.join(", "))),
    )
}

/// The elements of a list, or the value itself as a list of one.
fn as_items(v: &Value) -> Vec<Value> {
    match v {
        Value::List(items) => items.clone(),
        other => vec![other.clone()],
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
fn scalar(a: &Assertion, v: &Value, operand: &Operand) -> bool {
    let text = || v.render();
    match (a.op, operand) {
        (Op::Equals, Operand::Bool(e)) => matches!(v, Value::Bool(b) if b == e),
        (Op::Equals, Operand::Int(e)) => match v {
            Value::Int(i) => i == e,
            Value::Str(s) => s.trim().parse::<i64>().ok() == Some(*e),
            _ => false,
        },
        (Op::OneOf, Operand::List(list)) => {
            let t = fold(&text(), a.ignore_case);
            list.iter().any(|e| fold(e, a.ignore_case) == t)
        }
        (Op::UrlEquals, _) => same_url(&text(), &operand.render()),
        (Op::HostEquals, _) => {
            host_of(&text()).is_some_and(|h| h.eq_ignore_ascii_case(operand.render().trim()))
        }
        // Like every other operator, surrounding whitespace (an indented XML value) is ignored.
        (Op::Regex, _) => match &a.regex {
            Some(re) => re.is_match(text().trim()),
            // A pattern from a reference is compiled here; an invalid one matches nothing.
            None => regex::Regex::new(&operand.render()).is_ok_and(|re| re.is_match(text().trim())),
        },
        // `equals` and `one-of` with a single string; nothing else has a scalar meaning.
        (Op::Equals | Op::OneOf, Operand::Str(e)) => {
            fold(&text(), a.ignore_case) == fold(e, a.ignore_case)
        }
        _ => false,
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
}
