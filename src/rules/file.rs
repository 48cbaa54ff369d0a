//! The rule file format: parsed with `deny_unknown_fields`, then validated into [`Rule`], the
//! only type the evaluator accepts.

use std::ops::Range;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::{Severity, Step};
use crate::facts::FactPath;
use crate::facts::schema::{self, FactType, FieldSpec, RootSpec};
pub use crate::text::line_col;

/// A rule file as written (`rules/<area>/<ID>.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: Spanned<String>,
    title: String,
    step: Step,
    severity: Severity,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
    /// What the guide requires, one sentence.
    requirement: String,
    /// Why it matters.
    rationale: String,
    /// The expected value, in words.
    expected: String,
    /// The fix as a Setup click path.
    fix: String,
    /// Instructions for a person when no API exposes the fact.
    #[serde(default)]
    manual: Option<String>,
    /// When `manual` applies: `any` (default) — whenever the evidence is missing; `subject` —
    /// only when the subject itself was not collected (an optional check that was not run),
    /// while a check that ran and was inconclusive stays `unknown`.
    #[serde(default)]
    manual_on: ManualOn,
    check: CheckFile,
}

/// See `manual_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ManualOn {
    #[default]
    Any,
    Subject,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    subject: Spanned<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "match")]
    mode: MatchMode,
    #[serde(default)]
    also_look_in: Option<Spanned<String>>,
    #[serde(default, rename = "assert")]
    asserts: Vec<Spanned<AssertionFile>>,
    #[serde(default, rename = "hint")]
    hints: Vec<Spanned<HintFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssertionFile {
    field: String,
    #[serde(default)]
    label: Option<String>,
    op: OpSpelling,
    #[serde(default)]
    value: Option<toml::Value>,
    #[serde(default)]
    value_from: Option<String>,
    #[serde(default)]
    each: Option<Each>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    skip_if_absent_reference: bool,
    #[serde(default)]
    ignore_case: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HintFile {
    /// A regex tried on the actual value of a failing assertion.
    pattern: String,
    /// What to tell the person when it matches.
    text: String,
}

/// Pass when all assertions pass, or when any does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    #[default]
    All,
    Any,
}

/// How a scalar operator applies to a list value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Each {
    /// At least one element satisfies it.
    Any,
    /// Every element does (an empty list fails).
    All,
    /// No element does.
    None,
}

/// The operator as spelt in a rule file; old spellings stay accepted as aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum OpSpelling {
    Equals,
    /// Alias of `equals` with `ignore_case = true`.
    EqualsIgnoringCase,
    OneOf,
    ContainsAll,
    TokenSetEquals,
    NonEmpty,
    /// Alias of `equals` with a boolean value.
    Boolean,
    UrlEquals,
    HostEquals,
    Regex,
}

/// The closed operator set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal value (strings exactly after trimming; with `ignore_case`, also case and spacing
    /// folded). A boolean or integer value compares with a fact of that type.
    Equals,
    /// Equal to one of a list.
    OneOf,
    /// A list that holds every expected element.
    ContainsAll,
    /// A space- or comma-separated string whose token set equals the expected set.
    TokenSetEquals,
    /// A non-blank string, a non-empty list or a present record.
    NonEmpty,
    /// Same URL: scheme, host (any case), port, path (trailing `/` tolerated).
    UrlEquals,
    /// The URL's host equals the expected host (any case).
    HostEquals,
    /// The string matches the regex in `value`.
    Regex,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Equals => "equals",
            Op::OneOf => "one-of",
            Op::ContainsAll => "contains-all",
            Op::TokenSetEquals => "token-set-equals",
            Op::NonEmpty => "non-empty",
            Op::UrlEquals => "url-equals",
            Op::HostEquals => "host-equals",
            Op::Regex => "regex",
        }
    }

    fn needs_expected(self) -> bool {
        !matches!(self, Op::NonEmpty)
    }
}

impl OpSpelling {
    fn as_str(self) -> &'static str {
        match self {
            OpSpelling::EqualsIgnoringCase => "equals-ignoring-case",
            OpSpelling::Boolean => "boolean",
            other => other.op().as_str(),
        }
    }

    fn op(self) -> Op {
        match self {
            OpSpelling::Equals | OpSpelling::EqualsIgnoringCase | OpSpelling::Boolean => Op::Equals,
            OpSpelling::OneOf => Op::OneOf,
            OpSpelling::ContainsAll => Op::ContainsAll,
            OpSpelling::TokenSetEquals => Op::TokenSetEquals,
            OpSpelling::NonEmpty => Op::NonEmpty,
            OpSpelling::UrlEquals => Op::UrlEquals,
            OpSpelling::HostEquals => Op::HostEquals,
            OpSpelling::Regex => Op::Regex,
        }
    }
}

/// The expected operand of an assertion.
#[derive(Debug, Clone)]
pub enum Expected {
    None,
    /// A literal from the rule file.
    Literal(Literal),
    /// Another fact of the view, by path.
    From(FactPath),
}

/// A literal operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl Literal {
    /// The fact type a literal compares with.
    pub fn ty(&self) -> FactType {
        match self {
            Literal::Bool(_) => FactType::Bool,
            Literal::Int(_) => FactType::Int,
            Literal::Str(_) => FactType::Str,
            Literal::List(_) => FactType::List,
        }
    }

    pub fn render(&self) -> String {
        match self {
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Str(s) => s.clone(),
            Literal::List(l) => format!("[{}]", l.join(", ")),
        }
    }
}

/// A validated assertion.
#[derive(Debug, Clone)]
pub struct Assertion {
    pub field: &'static FieldSpec,
    pub label: Option<String>,
    pub op: Op,
    pub expected: Expected,
    pub each: Option<Each>,
    pub negate: bool,
    pub skip_if_absent_reference: bool,
    pub ignore_case: bool,
    /// Compiled when `op = "regex"` with a literal pattern.
    pub regex: Option<Regex>,
}

/// A hint shown with a failure whose actual value matches.
#[derive(Debug, Clone)]
pub struct Hint {
    pub pattern: Regex,
    pub text: String,
}

/// A validated check.
#[derive(Debug, Clone)]
pub struct Check {
    pub subject: &'static RootSpec,
    pub name: Option<String>,
    pub mode: MatchMode,
    pub also_look_in: Option<&'static RootSpec>,
    pub asserts: Vec<Assertion>,
    pub hints: Vec<Hint>,
}

/// A validated rule: what the evaluator, `explain`, the docs and SARIF help render from.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub step: Step,
    pub severity: Severity,
    pub requires: Vec<String>,
    pub requirement: String,
    pub rationale: String,
    pub expected: String,
    pub fix: String,
    pub manual: Option<String>,
    pub manual_on: ManualOn,
    pub check: Check,
    /// Where the rule came from: `rules/cap/CAP001.toml` (embedded) or a file path.
    pub origin: String,
}

impl Rule {
    /// The area prefix: `CAP` of `CAP001`.
    pub fn area(&self) -> &str {
        self.id.get(..3).unwrap_or(&self.id)
    }
}

/// A problem in one rule file, with the position when one is known.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFileProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses and validates one rule file.
pub fn parse_rule(text: &str, origin: &str) -> Result<Rule, RuleFileProblem> {
    let file: RuleFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        RuleFileProblem {
            line,
            column,
            message: e.message().to_string(),
        }
    })?;
    let at = |span: Range<usize>, message: String| {
        let (line, column) = line_col(text, span.start);
        RuleFileProblem {
            line,
            column,
            message,
        }
    };

    let id = file.id.get_ref().clone();
    if !is_rule_id(&id) {
        return Err(at(
            file.id.span(),
            format!("rule id `{id}` must be three capital letters and three digits, e.g. CAP001"),
        ));
    }
    let stem = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
    let stem = stem.strip_suffix(".toml").unwrap_or(stem);
    if stem != id {
        return Err(at(
            file.id.span(),
            format!("rule id `{id}` does not match its file name `{stem}.toml`"),
        ));
    }
    let mut requires = Vec::new();
    for r in &file.requires {
        if !is_rule_id(r.get_ref()) {
            return Err(at(
                r.span(),
                format!("`requires` entry `{}` is not a rule id", r.get_ref()),
            ));
        }
        if r.get_ref() == &id {
            return Err(at(r.span(), "a rule cannot require itself".to_string()));
        }
        requires.push(r.get_ref().clone());
    }
    for (name, value) in [
        ("title", &file.title),
        ("requirement", &file.requirement),
        ("rationale", &file.rationale),
        ("expected", &file.expected),
        ("fix", &file.fix),
    ] {
        if value.trim().is_empty() {
            return Err(at(file.id.span(), format!("`{name}` must not be empty")));
        }
    }

    let subject_name = file.check.subject.get_ref();
    let Some(subject) = schema::root(subject_name) else {
        return Err(at(
            file.check.subject.span(),
            format!(
                "unknown subject `{subject_name}`; one of {} (see docs/facts.md)",
                schema::root_names().join(", ")
            ),
        ));
    };
    let is_set = subject.is_collection();
    if is_set != file.check.name.is_some() {
        return Err(at(
            file.check.subject.span(),
            if is_set {
                format!("subject `{subject_name}` is a collection: give the record's exact `name`")
            } else {
                format!("subject `{subject_name}` is a single fact: it takes no `name`")
            },
        ));
    }
    let also_look_in = match &file.check.also_look_in {
        None => None,
        Some(also) => match schema::root(also.get_ref()) {
            Some(root) if root.is_collection() => Some(root),
            _ => {
                return Err(at(
                    also.span(),
                    format!(
                        "`also_look_in` must be a collection, not `{}`",
                        also.get_ref()
                    ),
                ));
            }
        },
    };

    let mut asserts = Vec::new();
    for spanned in &file.check.asserts {
        let span = spanned.span();
        asserts.push(assertion(subject, spanned.get_ref()).map_err(|m| at(span, m))?);
    }
    if asserts.is_empty() && !is_set && subject.logical_name.is_none() {
        return Err(at(
            file.check.subject.span(),
            "a check on a single fact needs at least one [[check.assert]]".to_string(),
        ));
    }
    let mut hints = Vec::new();
    for h in &file.check.hints {
        let pattern = Regex::new(&h.get_ref().pattern)
            .map_err(|e| at(h.span(), format!("invalid hint regex: {e}")))?;
        hints.push(Hint {
            pattern,
            text: h.get_ref().text.clone(),
        });
    }

    Ok(Rule {
        id,
        title: file.title,
        step: file.step,
        severity: file.severity,
        requires,
        requirement: file.requirement,
        rationale: file.rationale,
        expected: file.expected,
        fix: file.fix,
        manual: file.manual,
        manual_on: file.manual_on,
        check: Check {
            subject,
            name: file.check.name,
            mode: file.check.mode,
            also_look_in,
            asserts,
            hints,
        },
        origin: origin.to_string(),
    })
}

/// Validates one assertion against the subject's schema: the field exists, the operand has
/// the operator's shape, and the operator fits the types on both sides.
fn assertion(subject: &'static RootSpec, a: &AssertionFile) -> Result<Assertion, String> {
    let op = a.op.op();
    let field = subject.field(&a.field).ok_or_else(|| {
        format!(
            "`{}` is not a fact of `{}`; known: {} (see docs/facts.md)",
            a.field,
            subject.name,
            subject
                .fields
                .iter()
                .map(|f| f.path)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let expected = match (&a.value, &a.value_from) {
        (Some(_), Some(_)) => return Err("give either `value` or `value_from`, not both".into()),
        (None, None) if op.needs_expected() => {
            return Err(format!(
                "operator `{}` needs `value` or `value_from`",
                a.op.as_str()
            ));
        }
        (None, None) => Expected::None,
        (Some(_), None) if !op.needs_expected() => {
            return Err(format!("operator `{}` takes no value", a.op.as_str()));
        }
        (Some(v), None) => Expected::Literal(literal(v)?),
        (None, Some(path)) => {
            let path =
                FactPath::parse(path).map_err(|e| format!("`value_from = \"{path}\"`: {e}"))?;
            if path.ty() == FactType::Object {
                return Err(format!(
                    "`value_from` `{path}` is a record; name one of its fields"
                ));
            }
            Expected::From(path)
        }
    };
    if op == Op::Regex && matches!(expected, Expected::From(_)) {
        return Err("`regex` takes its pattern as a literal `value`, not `value_from`".to_string());
    }
    if a.skip_if_absent_reference && !matches!(expected, Expected::From(_)) {
        return Err("`skip_if_absent_reference` needs `value_from`".to_string());
    }
    // Operand shapes per spelling.
    if let Expected::Literal(lit) = &expected {
        let ok = match a.op {
            OpSpelling::OneOf | OpSpelling::ContainsAll | OpSpelling::TokenSetEquals => {
                matches!(lit, Literal::List(_))
            }
            OpSpelling::Boolean => matches!(lit, Literal::Bool(_)),
            OpSpelling::Regex
            | OpSpelling::UrlEquals
            | OpSpelling::HostEquals
            | OpSpelling::EqualsIgnoringCase => matches!(lit, Literal::Str(_)),
            OpSpelling::Equals => !matches!(lit, Literal::List(_)),
            OpSpelling::NonEmpty => true,
        };
        if !ok {
            return Err(format!(
                "operator `{}` cannot take the value {}",
                a.op.as_str(),
                lit.render()
            ));
        }
    }
    let operand = match &expected {
        Expected::None => None,
        Expected::Literal(l) => Some(l.ty()),
        Expected::From(path) => Some(path.ty()),
    };
    check_types(op, a.each, field, operand).map_err(|e| format!("{}: {e}", a.op.as_str()))?;
    let regex = match (op, &expected) {
        (Op::Regex, Expected::Literal(Literal::Str(p))) => {
            Some(Regex::new(p).map_err(|e| format!("invalid regex: {e}"))?)
        }
        _ => None,
    };
    Ok(Assertion {
        field,
        label: a.label.clone(),
        op,
        expected,
        each: a.each,
        negate: a.negate,
        skip_if_absent_reference: a.skip_if_absent_reference,
        ignore_case: a.ignore_case || a.op == OpSpelling::EqualsIgnoringCase,
        regex,
    })
}

/// The operator fits the fact's type (each element's, with `each`) and the operand's.
fn check_types(
    op: Op,
    each: Option<Each>,
    field: &FieldSpec,
    operand: Option<FactType>,
) -> Result<(), String> {
    use FactType::{Bool, Int, List, Object, Str};
    let fact = match (each, field.ty) {
        (Some(_), List) if matches!(op, Op::ContainsAll | Op::NonEmpty | Op::TokenSetEquals) => {
            return Err("applies to the whole list; drop `each`".to_string());
        }
        // List elements are strings.
        (Some(_), List) => Str,
        (Some(_), other) => {
            return Err(format!(
                "`each` needs a list, but `{}` is a {other}",
                field.path
            ));
        }
        (None, List) if !matches!(op, Op::ContainsAll | Op::NonEmpty) => {
            return Err(format!(
                "compares one value but `{}` is a list; the rule needs `each`",
                field.path
            ));
        }
        (None, ty) => ty,
    };
    let ok = matches!(
        (op, fact, operand),
        (Op::NonEmpty, Str | List | Object, None)
            | (Op::ContainsAll, List, Some(List))
            | (Op::TokenSetEquals, Str, Some(List))
            | (Op::Equals, Bool, Some(Bool))
            | (Op::Equals, Int | Str, Some(Int))
            | (
                Op::Equals | Op::UrlEquals | Op::HostEquals | Op::Regex,
                Str,
                Some(Str)
            )
            | (Op::OneOf, Str, Some(List | Str))
    );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "cannot compare `{}` ({fact}{}) with {}",
            field.path,
            if each.is_some() { " entries" } else { "" },
            operand.map_or("nothing".to_string(), |t| format!("a {t}"))
        ))
    }
}

fn literal(v: &toml::Value) -> Result<Literal, String> {
    Ok(match v {
        toml::Value::Boolean(b) => Literal::Bool(*b),
        toml::Value::Integer(i) => Literal::Int(*i),
        toml::Value::String(s) => Literal::Str(s.clone()),
        toml::Value::Array(items) => Literal::List(
            items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(format!("list values must be strings, found {other}")),
                })
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unsupported value {other}")),
    })
}

/// `ABC123`.
pub fn is_rule_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "CAP007"
title = "OAuth scopes"
step = "connected-app"
severity = "error"
requires = ["CAP004"]
requirement = "r"
rationale = "r"
expected = "e"
fix = "f"

[check]
subject = "connected_apps"
name = "ECIConnectedApp"

[[check.assert]]
field = "oauth_config.scopes"
op = "contains-all"
value = ["Api"]
"#;

    #[test]
    fn parses_a_good_rule() {
        let r = parse_rule(GOOD, "rules/cap/CAP007.toml").unwrap();
        assert_eq!(r.id, "CAP007");
        assert_eq!(r.check.asserts.len(), 1);
    }

    #[test]
    fn unknown_key_is_located() {
        let text = GOOD.replace("op = \"contains-all\"", "op = \"contains-all\"\nvalu = 1");
        let e = parse_rule(&text, "rules/cap/CAP007.toml").unwrap_err();
        assert!(e.message.contains("valu"), "{e:?}");
        assert_eq!(e.line, 19);
    }

    #[test]
    fn bad_operand_is_located() {
        let text = GOOD.replace("value = [\"Api\"]", "value = true");
        let e = parse_rule(&text, "rules/cap/CAP007.toml").unwrap_err();
        assert!(e.message.contains("contains-all"), "{e:?}");
        assert_eq!(e.line, 16, "the assertion table starts at line 16");
    }

    #[test]
    fn id_must_match_file() {
        let e = parse_rule(GOOD, "rules/cap/CAP008.toml").unwrap_err();
        assert!(e.message.contains("CAP008"), "{e:?}");
    }

    /// A rule with one assertion on a connected app.
    fn with_assert(assert: &str) -> Result<Rule, RuleFileProblem> {
        let text = GOOD.replace(
            "field = \"oauth_config.scopes\"\nop = \"contains-all\"\nvalue = [\"Api\"]",
            assert,
        );
        parse_rule(&text, "rules/cap/CAP007.toml")
    }

    #[test]
    fn operators_are_checked_against_the_fact_types() {
        for (assert, wanted) in [
            (
                "field = \"label\"\nop = \"equals\"\nvalue = \"x\"\neach = \"any\"",
                "`each` needs a list",
            ),
            (
                "field = \"label\"\nop = \"boolean\"\nvalue = true",
                "cannot compare `label` (string) with a boolean",
            ),
            (
                "field = \"oauth_config.scopes\"\nop = \"equals\"\nvalue = \"Api\"",
                "the rule needs `each`",
            ),
            (
                "field = \"oauth_config.scopes\"\nop = \"contains-all\"\nvalue = [\"Api\"]\neach = \"any\"",
                "drop `each`",
            ),
            (
                "field = \"high_assurance_required\"\nop = \"regex\"\nvalue = \"x\"",
                "cannot compare",
            ),
            (
                "field = \"label\"\nop = \"equals\"\nvalue_from = \"org.eci_enabled\"",
                "with a boolean",
            ),
            (
                "field = \"label\"\nop = \"equals\"\nvalue_from = \"connected_apps[X].oauth_config\"",
                "is a record",
            ),
        ] {
            let e = with_assert(assert).unwrap_err();
            assert!(e.message.contains(wanted), "{assert}: {e:?}");
            assert_eq!(e.line, 16, "{assert}");
        }
    }

    #[test]
    fn old_operator_spellings_are_aliases() {
        let r =
            with_assert("field = \"label\"\nop = \"equals-ignoring-case\"\nvalue = \"x\"").unwrap();
        assert_eq!(r.check.asserts[0].op, Op::Equals);
        assert!(r.check.asserts[0].ignore_case);
        let r = with_assert(
            "field = \"oauth_config.is_admin_approved\"\nop = \"boolean\"\nvalue = true",
        )
        .unwrap();
        assert_eq!(r.check.asserts[0].op, Op::Equals);
        // `boolean` still demands a boolean value.
        let e = with_assert("field = \"label\"\nop = \"boolean\"\nvalue = \"x\"").unwrap_err();
        assert!(e.message.contains("`boolean` cannot take"), "{e:?}");
    }
}
