//! The rule catalogue: the embedded rule files plus any `--rules DIR`, checked as a whole
//! (unique IDs, known `requires`, no cycles) and ordered so requirements come first.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::file::{Rule, parse_rule};

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// Why the catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}:{line}:{column}: invalid rule file: {message}")]
    File {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot read rules from {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: rule {id} requires {missing}, which is not in the catalogue")]
    MissingRequirement {
        path: String,
        id: String,
        missing: String,
    },
    #[error("rules {cycle} require each other in a cycle")]
    Cycle { cycle: String },
    #[error("{path}: rule {id} is defined twice in the same rules directory (also in {other})")]
    Duplicate {
        path: String,
        id: String,
        other: String,
    },
}

/// All rules, in evaluation order (every rule after the rules it requires).
#[derive(Debug, Clone)]
pub struct Catalogue {
    rules: Vec<Rule>,
    index: HashMap<String, usize>,
}

impl Catalogue {
    /// The rules shipped in the binary.
    pub fn embedded() -> Result<Catalogue, RuleError> {
        Self::with_extra(None)
    }

    /// The shipped rules, with rules from `dir` (searched recursively for `*.toml`) added or
    /// overriding shipped ones of the same ID.
    pub fn with_extra(dir: Option<&Path>) -> Result<Catalogue, RuleError> {
        let mut by_id: BTreeMap<String, Rule> = BTreeMap::new();
        for (origin, text) in EMBEDDED_RULES {
            let rule = parse_rule(text, origin).map_err(|p| RuleError::File {
                path: (*origin).to_string(),
                line: p.line,
                column: p.column,
                message: p.message,
            })?;
            if let Some(other) = by_id.get(&rule.id) {
                return Err(RuleError::Duplicate {
                    path: rule.origin.clone(),
                    id: rule.id.clone(),
                    other: other.origin.clone(),
                });
            }
            by_id.insert(rule.id.clone(), rule);
        }
        if let Some(dir) = dir {
            let mut files = Vec::new();
            walk(dir, &mut files)?;
            files.sort();
            let mut seen: HashMap<String, String> = HashMap::new();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| RuleError::Read {
                    path: path.clone(),
                    source,
                })?;
                let shown = path.display().to_string();
                let rule = parse_rule(&text, &shown).map_err(|p| RuleError::File {
                    path: shown.clone(),
                    line: p.line,
                    column: p.column,
                    message: p.message,
                })?;
                if let Some(other) = seen.insert(rule.id.clone(), shown.clone()) {
                    return Err(RuleError::Duplicate {
                        path: shown,
                        id: rule.id,
                        other,
                    });
                }
                by_id.insert(rule.id.clone(), rule);
            }
        }
        Self::from_rules(by_id.into_values().collect())
    }

    /// Checks cross-rule consistency and orders the rules.
    pub fn from_rules(rules: Vec<Rule>) -> Result<Catalogue, RuleError> {
        let ids: HashMap<&str, usize> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        for r in &rules {
            for req in &r.requires {
                if !ids.contains_key(req.as_str()) {
                    return Err(RuleError::MissingRequirement {
                        path: r.origin.clone(),
                        id: r.id.clone(),
                        missing: req.clone(),
                    });
                }
            }
        }
        // Depth-first topological order; rules sorted by ID keep the output stable.
        let mut state = vec![0u8; rules.len()]; // 0 new, 1 visiting, 2 done
        let mut order = Vec::with_capacity(rules.len());
        fn visit(
            i: usize,
            rules: &[Rule],
            ids: &HashMap<&str, usize>,
            state: &mut [u8],
            order: &mut Vec<usize>,
            stack: &mut Vec<usize>,
        ) -> Result<(), RuleError> {
            match state[i] {
                2 => return Ok(()),
                1 => {
                    let start = stack.iter().position(|&s| s == i).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[start..]
                        .iter()
                        .map(|&s| rules[s].id.as_str())
                        .collect();
                    cycle.push(&rules[i].id);
                    return Err(RuleError::Cycle {
                        cycle: cycle.join(" → "),
                    });
                }
                _ => {}
            }
            state[i] = 1;
            stack.push(i);
            for req in &rules[i].requires {
                if let Some(&j) = ids.get(req.as_str()) {
                    visit(j, rules, ids, state, order, stack)?;
                }
            }
            stack.pop();
            state[i] = 2;
            order.push(i);
            Ok(())
        }
        let mut stack = Vec::new();
        for i in 0..rules.len() {
            visit(i, &rules, &ids, &mut state, &mut order, &mut stack)?;
        }
        let mut slots: Vec<Option<Rule>> = rules.into_iter().map(Some).collect();
        let ordered: Vec<Rule> = order.into_iter().filter_map(|i| slots[i].take()).collect();
        let index = ordered
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Ok(Catalogue {
            rules: ordered,
            index,
        })
    }

    /// Rules in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rules sorted for display: guide step, then ID.
    pub fn in_guide_order(&self) -> Vec<&Rule> {
        let mut v: Vec<&Rule> = self.rules.iter().collect();
        v.sort_by(|a, b| (a.step, &a.id).cmp(&(b.step, &b.id)));
        v
    }

    /// A rule by ID.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.index.get(id).map(|&i| &self.rules[i])
    }

    /// All IDs.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RuleError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RuleError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| RuleError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        // file_type() does not follow symlinks: a linked folder (or a link cycle) is skipped.
        let kind = entry.file_type().map_err(|source| RuleError::Read {
            path: path.clone(),
            source,
        })?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml")
            && (kind.is_file() || path.is_file())
        {
            out.push(path);
        }
    }
    Ok(())
}
