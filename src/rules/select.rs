//! `--select` / `--ignore`: rule IDs or area prefixes such as `CAP`.

use std::collections::BTreeSet;

use super::Catalogue;

/// A selector that matches no rule.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{flag} `{given}` matches no rule{}", suggestion(.close))]
pub struct UnknownSelector {
    pub flag: &'static str,
    pub given: String,
    pub close: Vec<String>,
}

/// "; did you mean …?" for a rule ID that matches nothing.
pub fn suggestion(close: &[String]) -> String {
    if close.is_empty() {
        "; `eci-audit rules` lists them".to_string()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

/// Up to three rule IDs close to `id` (typos such as `CAP06`, `cap006`), closest first.
pub fn close_ids(catalogue: &Catalogue, id: &str) -> Vec<String> {
    let id = id.trim().to_ascii_uppercase();
    let mut close: Vec<(f64, &str)> = catalogue
        .ids()
        .map(|c| (strsim::normalized_levenshtein(c, &id), c))
        .filter(|(score, _)| *score >= 0.6)
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    close
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// The IDs to report: all, or those matching `select`, minus those matching `ignore`.
pub fn select(
    catalogue: &Catalogue,
    select: &[String],
    ignore: &[String],
) -> Result<BTreeSet<String>, UnknownSelector> {
    let all: Vec<&str> = catalogue.ids().collect();
    let matching = |flag: &'static str, sel: &str| -> Result<Vec<String>, UnknownSelector> {
        let sel_up = sel.trim().to_ascii_uppercase();
        let hits: Vec<String> = all
            .iter()
            // A whole ID, or a three-letter area such as CAP: a shorter prefix (`A`, `CAP01`)
            // would silently widen the selection.
            .filter(|id| {
                **id == sel_up || (sel_up.len() == 3 && id.get(..3) == Some(sel_up.as_str()))
            })
            .map(std::string::ToString::to_string)
            .collect();
        if hits.is_empty() {
            return Err(UnknownSelector {
                flag,
                given: sel.to_string(),
                close: close_ids(catalogue, &sel_up),
            });
        }
        Ok(hits)
    };
    let mut chosen: BTreeSet<String> = if select.is_empty() {
        all.iter().map(std::string::ToString::to_string).collect()
    } else {
        let mut set = BTreeSet::new();
        for s in select {
            set.extend(matching("--select", s)?);
        }
        set
    };
    for s in ignore {
        for id in matching("--ignore", s)? {
            chosen.remove(&id);
        }
    }
    Ok(chosen)
}
