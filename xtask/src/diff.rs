//! `cargo xtask diff OLD NEW [--prefix PATH]`: every change between two OpenAPI documents,
//! classified for users of the generated client, and the semver bump it implies.
//!
//! Both documents are flattened into facts (see `upstream.rs`); each differing fact is judged
//! by the side it is on (request: parameters and bodies; response) and by what changed.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::failure::{Failure, Result};
use crate::upstream::{self, Difference};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    Compatible,
    Breaking,
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format!("{self:?}").to_lowercase())
    }
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub impact: Impact,
    pub fact: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// Why it is classified so, in a few words.
    pub why: &'static str,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (old, new) = (upstream::shown(&self.old), upstream::shown(&self.new));
        let (impact, fact, why) = (self.impact, &self.fact, self.why);
        write!(f, "{impact:<10} {fact}: {old} -> {new} ({why})")
    }
}

/// The schema keyword a fact is about (`maxLength`, `required`, ...), or `None` for a fact
/// that states a thing exists.
fn keyword(fact: &str) -> Option<&str> {
    let last = fact.rsplit(['.', ' ']).next()?;
    upstream::is_facet(last).then_some(last)
}

fn number(value: &Option<String>) -> Option<f64> {
    value.as_ref().and_then(|v| v.parse().ok())
}

fn list(value: &Option<String>) -> Vec<String> {
    let Some(text) = value else { return Vec::new() };
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) {
        return items.iter().map(|v| v.to_string()).collect();
    }
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Judges one difference.
pub fn classify(difference: &Difference) -> Change {
    use Impact::{Breaking, Compatible};
    let (old, new) = (&difference.ours, &difference.theirs);
    let fact = difference.fact.as_str();
    // Which side of the exchange the fact describes: the request (parameters and body), the
    // response, or neither (the operation itself).
    let (parameter, response) = (fact.contains(" parameter "), fact.contains(" response "));
    let request = !response && (parameter || fact.contains(" requestBody"));
    // For the list-valued keywords (`required`, `enum`): whether an entry came or went.
    let (before, after) = (list(old), list(new));
    let added = after.iter().any(|v| !before.contains(v));
    let dropped = before.iter().any(|v| !after.contains(v));
    let (impact, why) = match (keyword(fact), old.is_some(), new.is_some()) {
        // Something that exists (an operation, parameter, property, response) appeared or left.
        (None, true, false) => (Breaking, "removed"),
        (None, false, true) if request && parameter && !fact.ends_with(" required") => (
            Compatible,
            "new optional input (a required one shows as `required` too)",
        ),
        (None, false, true) if request => (Compatible, "new optional input"),
        (None, false, true) if response => (Compatible, "new response field or status"),
        (None, false, true) => (Compatible, "new operation"),
        (None, _, _) => (Breaking, "changed"),
        (Some("required"), _, true) if parameter && !fact.contains(" schema") => {
            (Breaking, "a parameter became required")
        }
        (Some("required"), _, false) if parameter && !fact.contains(" schema") => {
            (Compatible, "a parameter became optional")
        }
        (Some("required"), _, _) => match (request, added, dropped) {
            (true, true, _) => (Breaking, "a new required property"),
            (true, false, _) => (Compatible, "a property became optional"),
            (false, _, true) => (Breaking, "a response property is no longer guaranteed"),
            (false, _, false) => (Compatible, "a response property is now guaranteed"),
        },
        (Some("enum"), _, _) => match (request, dropped, added) {
            (true, true, _) => (Breaking, "request enum narrowed"),
            (true, false, _) => (Compatible, "request enum widened"),
            (false, _, true) => (Breaking, "new response value a closed enum cannot decode"),
            (false, _, false) => (Compatible, "response enum narrowed"),
        },
        (Some(limit), _, _)
            if limit == "uniqueItems"
                || ["max", "min", "exclusive"]
                    .iter()
                    .any(|s| limit.starts_with(s)) =>
        {
            // A smaller maximum or a larger minimum, or a new limit, accepts less.
            let narrower = match (number(old), number(new)) {
                _ if limit == "uniqueItems" => new.is_some(),
                (Some(a), Some(b)) if limit.to_lowercase().contains("max") => b < a,
                (Some(a), Some(b)) => b > a,
                (old, new) => old.is_none() && new.is_some(),
            };
            match (request, narrower) {
                (true, true) => (Breaking, "request constraint narrowed"),
                (true, false) => (Compatible, "request constraint widened"),
                (false, _) => (Compatible, "response constraint changed"),
            }
        }
        (Some("nullable"), _, nullable) => match (request, nullable) {
            (true, true) => (Compatible, "a request field now accepts null"),
            (true, false) => (Breaking, "a request field no longer accepts null"),
            (false, true) => (Breaking, "a response field made nullable"),
            (false, false) => (Compatible, "a response field is no longer nullable"),
        },
        (Some("additionalProperties"), _, _) => match (request, new.as_deref() == Some("false")) {
            (true, true) => (Breaking, "request object closed to extra properties"),
            (true, false) => (Compatible, "request object opened"),
            (false, _) => (Compatible, "response object openness changed"),
        },
        (Some("readOnly" | "writeOnly"), _, _) => (Compatible, "documentation of direction"),
        (Some("pattern"), _, _) if request => (Breaking, "request pattern changed"),
        (Some("pattern"), _, _) => (Compatible, "response pattern changed"),
        (Some("type" | "format"), _, _) => (Breaking, "a type changed"),
        (Some("default"), _, _) => (
            Breaking,
            "a default changed: omitted values behave differently",
        ),
        (Some(_), _, _) => (Breaking, "a schema combinator changed"),
    };
    Change {
        impact,
        fact: fact.to_owned(),
        old: old.clone(),
        new: new.clone(),
        why,
    }
}

pub fn changes(old: &serde_yaml::Value, new: &serde_yaml::Value, prefix: &str) -> Vec<Change> {
    let (old, new) = (upstream::facts(old, prefix), upstream::facts(new, prefix));
    let differences = upstream::compare(&old, &new);
    differences.iter().map(classify).collect()
}

/// The smallest version core for a new API release after `current`, given the worst change
/// (0.x: breaking bumps the minor). No change still bumps the patch: crates.io ignores build
/// metadata, so `+<release>` alone does not make a version new.
pub fn next_version(current: &str, worst: Option<Impact>) -> String {
    let (core, _metadata) = current.split_once('+').unwrap_or((current, ""));
    let parts: Vec<u64> = core.split('.').filter_map(|p| p.parse().ok()).collect();
    let [major, minor, patch] = parts[..] else {
        return current.to_owned();
    };
    match (worst, major) {
        (None | Some(Impact::Compatible), 0) => format!("0.{minor}.{}", patch + 1),
        (None, _) => format!("{major}.{minor}.{}", patch + 1),
        (Some(Impact::Breaking), 0) => format!("0.{}.0", minor + 1),
        (Some(Impact::Breaking), _) => format!("{}.0.0", major + 1),
        (Some(Impact::Compatible), _) => format!("{major}.{}.0", minor + 1),
    }
}

/// `cargo xtask diff OLD NEW [--prefix PATH]`.
pub fn run(old_path: &Path, new_path: &Path, prefix: &str, current_version: &str) -> Result<()> {
    let old = upstream::load_document(old_path)?;
    let new = upstream::load_document(new_path)?;
    if old.get("paths").is_none() || new.get("paths").is_none() {
        return Err(Failure::new(
            "both documents need a `paths` section: are they OpenAPI documents?",
        ));
    }
    let changes = changes(&old, &new, prefix);
    for change in &changes {
        println!("{change}");
    }
    let breaking = changes
        .iter()
        .filter(|c| c.impact == Impact::Breaking)
        .count();
    let worst = changes.iter().map(|c| c.impact).max();
    println!(
        "{} change(s) under `{}`: {breaking} breaking, {} compatible",
        changes.len(),
        if prefix.is_empty() { "/" } else { prefix },
        changes.len() - breaking
    );
    let next = next_version(current_version, worst);
    match worst {
        None => println!(
            "semver: no change: still bump {current_version} to {next}+<release> (crates.io \
             ignores build metadata, so every Monime release needs a new version core)"
        ),
        Some(impact) => println!("semver: {impact}: bump {current_version} to {next}+<release>"),
    }
    Ok(())
}
