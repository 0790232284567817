//! `cargo xtask upstream-diff [<Monime's document>]`: compares our spec with Monime's, fact by
//! fact, for the webhook operations; without a document, with the facts committed under
//! `openapi/` (so CI needs nothing outside the repository). Both sides are flattened into
//! `fact path -> value` maps with every `$ref` resolved, so two layouts of the same thing
//! compare equal. Prose (descriptions, titles, examples) is not compared.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::failure::Result;
use crate::paths;
use crate::spec::{self, entries, sequence};

/// Paths whose operations are compared; the rest of a whole Monime document is ignored.
pub const WEBHOOK_PATH_PREFIX: &str = "/v1/webhooks";
/// Schema keywords compared as values.
const VALUE_FACETS: &str = "type format maxLength minLength pattern enum default minimum \
     maximum exclusiveMinimum exclusiveMaximum minItems maxItems maxProperties";
/// Booleans that default to false, recorded only when true, so an explicit `false` equals an
/// absent keyword.
const FLAG_FACETS: &str = "nullable uniqueItems readOnly writeOnly";
/// The keywords that hold schemas, recorded as their shape.
const SHAPE_FACETS: &str = "required additionalProperties oneOf anyOf allOf";
/// Nesting limit for recursive schemas.
const MAX_DEPTH: usize = 24;

/// Whether `word` is a schema keyword a fact can be about.
pub fn is_facet(word: &str) -> bool {
    [VALUE_FACETS, FLAG_FACETS, SHAPE_FACETS]
        .iter()
        .any(|list| list.split_whitespace().any(|facet| facet == word))
}

pub type Facts = BTreeMap<String, String>;

/// One fact on which the two documents disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub fact: String,
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

/// A fact's value for messages.
pub fn shown(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("(absent)")
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (ours, theirs) = (shown(&self.ours), shown(&self.theirs));
        write!(f, "{}: ours {ours}, Monime {theirs}", self.fact)
    }
}

/// Reads an OpenAPI document (YAML or JSON) for comparing.
pub fn load_document(path: &Path) -> Result<Value> {
    spec::read(path, &path.display().to_string()).map(|spec| spec.raw)
}

/// Flattens the operations of every path starting with `prefix` ("" for all) into facts.
pub fn facts(document: &Value, prefix: &str) -> Facts {
    let mut out = Facts::new();
    if let Some(security) = document.get("security") {
        out.insert("security".to_owned(), spec::json_text(security));
    }
    for (route, method, item, operation) in spec::operations(document) {
        if !route.starts_with(prefix) {
            continue;
        }
        let id = operation.get("operationId").and_then(Value::as_str);
        let id = id.unwrap_or("?");
        out.insert(id.to_owned(), format!("{} {route}", method.to_uppercase()));
        let mut parameters = BTreeMap::new();
        let own = sequence(operation.get("parameters"));
        for parameter in sequence(item.get("parameters")).iter().chain(own) {
            let parameter = resolve(document, parameter);
            let text = |key| parameter.get(key).and_then(Value::as_str).unwrap_or("?");
            let (name, place) = (text("name"), text("in"));
            // HTTP header names are case-insensitive.
            let key = match place {
                "header" => format!("{place} {}", name.to_lowercase()),
                _ => format!("{place} {name}"),
            };
            parameters.insert(key, parameter);
        }
        for (key, parameter) in parameters {
            let prefix = format!("{id} parameter {key}");
            declared(document, &mut out, &prefix, parameter);
        }
        if let Some(body) = operation.get("requestBody") {
            let body = resolve(document, body);
            declared(document, &mut out, &format!("{id} requestBody"), body);
        }
        for (status, response) in entries(operation.get("responses")) {
            let response = resolve(document, response);
            let prefix = format!("{id} response {status}");
            declared(document, &mut out, &prefix, response);
            for (name, header) in entries(response.get("headers")) {
                let prefix = format!("{prefix} header {}", name.to_lowercase());
                declared(document, &mut out, &prefix, resolve(document, header));
            }
        }
    }
    out
}

/// `node` with its references followed; one that cannot be followed stays as it is.
fn resolve<'a>(document: &'a Value, node: &'a Value) -> &'a Value {
    spec::resolve(document, node, "").unwrap_or(node)
}

/// The facts of a parameter, body, response or header at `prefix`: that it exists,
/// whether it is required, its schema and its content's schemas.
fn declared(document: &Value, out: &mut Facts, prefix: &str, holder: &Value) {
    out.insert(prefix.to_owned(), "declared".to_owned());
    if spec::flag(holder, "required") {
        out.insert(format!("{prefix} required"), "true".to_owned());
    }
    if let Some(schema) = holder.get("schema") {
        schema_facts(document, out, &format!("{prefix} schema"), schema, 0);
    }
    for (media_type, media) in entries(holder.get("content")) {
        let prefix = format!("{prefix} content {media_type}");
        out.insert(prefix.clone(), "declared".to_owned());
        if let Some(schema) = media.get("schema") {
            schema_facts(document, out, &format!("{prefix} schema"), schema, 0);
        }
    }
}

fn schema_facts(document: &Value, out: &mut Facts, prefix: &str, schema: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        out.insert(format!("{prefix} (nesting limit)"), "reached".to_owned());
        return;
    }
    let schema = resolve(document, schema);
    for facet in VALUE_FACETS.split_whitespace() {
        if let Some(value) = schema.get(facet) {
            out.insert(format!("{prefix}.{facet}"), spec::json_text(value));
        }
    }
    for facet in FLAG_FACETS.split_whitespace() {
        if spec::flag(schema, facet) {
            out.insert(format!("{prefix}.{facet}"), "true".to_owned());
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_sequence) {
        let names: BTreeSet<&str> = required.iter().filter_map(Value::as_str).collect();
        let names: Vec<&str> = names.into_iter().collect();
        out.insert(format!("{prefix}.required"), names.join(","));
    }
    let additional = format!("{prefix}.additionalProperties");
    match schema.get("additionalProperties") {
        Some(Value::Bool(allowed)) => {
            out.insert(additional, allowed.to_string());
        }
        Some(inner @ Value::Mapping(_)) => {
            out.insert(additional, "schema".to_owned());
            schema_facts(document, out, &format!("{prefix}{{*}}"), inner, depth + 1);
        }
        _ => {}
    }
    for (name, property) in entries(schema.get("properties")) {
        let path = format!("{prefix}.{name}");
        out.insert(path.clone(), "declared".to_owned());
        schema_facts(document, out, &path, property, depth + 1);
    }
    if let Some(items) = schema.get("items") {
        schema_facts(document, out, &format!("{prefix}[]"), items, depth + 1);
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(branches) = schema.get(combinator).and_then(Value::as_sequence) {
            out.insert(format!("{prefix}.{combinator}"), branches.len().to_string());
            for (index, branch) in branches.iter().enumerate() {
                let path = format!("{prefix}.{combinator}[{index}]");
                schema_facts(document, out, &path, branch, depth + 1);
            }
        }
    }
}

/// Every fact on which `ours` and `theirs` disagree, in fact order. Where a whole subtree
/// exists on one side only (a response, a property), only its root is listed.
pub fn compare(ours: &Facts, theirs: &Facts) -> Vec<Difference> {
    let keys: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    let mut out: Vec<Difference> = Vec::new();
    let mut one_sided_roots: Vec<&String> = Vec::new();
    for key in keys {
        let (a, b) = (ours.get(key), theirs.get(key));
        if a == b {
            continue;
        }
        if a.is_none() || b.is_none() {
            if one_sided_roots.iter().any(|root| is_below(key, root)) {
                continue;
            }
            one_sided_roots.push(key);
        }
        out.push(Difference {
            fact: key.clone(),
            ours: a.cloned(),
            theirs: b.cloned(),
        });
    }
    out
}

/// Whether `fact` lies inside the subtree rooted at `root`.
fn is_below(fact: &str, root: &str) -> bool {
    fact.strip_prefix(root)
        .and_then(|rest| rest.chars().next())
        .is_some_and(|next| matches!(next, ' ' | '.' | '[' | '{'))
}

/// One allow-list line: `<fact pattern> | <reason>`; `*` in the pattern matches any text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub pattern: String,
    pub reason: String,
    pub line: usize,
}

pub fn parse_allow_list(text: &str, display_path: &str) -> Result<Vec<Allowance>> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{display_path}:{}", index + 1);
        let Some((pattern, reason)) = line.split_once(" | ") else {
            let expected = "expected `<fact pattern> | <reason>`";
            return Err(fail!("{at}: {expected}, found `{line}`"));
        };
        if reason.trim().is_empty() {
            let problem = format!("the allowance for `{pattern}` gives no reason");
            return Err(fail!("{at}: {problem}"));
        }
        out.push(Allowance {
            pattern: pattern.trim().to_owned(),
            reason: reason.trim().to_owned(),
            line: index + 1,
        });
    }
    Ok(out)
}

/// Glob match where `*` stands for any run of characters.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let Some((head, tail)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(rest) = text.strip_prefix(head) else {
        return false;
    };
    let cuts = (0..=rest.len()).filter(|&at| rest.is_char_boundary(at));
    cuts.into_iter().any(|at| glob_matches(tail, &rest[at..]))
}

/// The outcome of a comparison against an allow-list.
#[derive(Debug, Default)]
pub struct Verdict {
    pub allowed: Vec<(Difference, String)>,
    pub unexplained: Vec<Difference>,
    pub unused: Vec<Allowance>,
}

pub fn judge(differences: Vec<Difference>, allow: &[Allowance]) -> Verdict {
    let mut verdict = Verdict::default();
    let mut used = vec![false; allow.len()];
    for difference in differences {
        let fact = &difference.fact;
        match allow.iter().position(|a| glob_matches(&a.pattern, fact)) {
            Some(index) => {
                used[index] = true;
                let reason = allow[index].reason.clone();
                verdict.allowed.push((difference, reason));
            }
            None => verdict.unexplained.push(difference),
        }
    }
    let unused = allow.iter().zip(used).filter(|(_, used)| !used);
    verdict.unused = unused.map(|(a, _)| a.clone()).collect();
    verdict
}

/// Where Monime's side of a comparison comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Theirs {
    /// The facts committed under `openapi/` for our spec's release (what CI uses).
    Committed,
    /// Monime's OpenAPI document itself.
    Document(PathBuf),
}

/// The facts of our specs for the release they describe: the webhook operations, and the
/// event objects of `openapi/monime-objects.<release>.yaml` when that file exists.
pub fn our_facts(root: &Path) -> Result<(Facts, String, PathBuf)> {
    let path = paths::current_spec(root)?;
    let spec = spec::read(&path, &paths::display_relative(root, &path))?;
    let release = spec.release()?;
    let mut out = facts(&spec.raw, WEBHOOK_PATH_PREFIX);
    let objects = paths::objects_spec(root, &release);
    if objects.exists() {
        out.extend(object_facts(&load_document(&objects)?, true));
    }
    Ok((out, release, path))
}

/// The facts of Monime's document that we compare and commit: its webhook operations and
/// every object schema it defines.
pub fn document_facts(document: &Value) -> Facts {
    let mut out = facts(document, WEBHOOK_PATH_PREFIX);
    out.extend(object_facts(document, false));
    out
}

/// Our extension naming the `object.type` of events that carry a schema as their `data`.
pub const OBJECT_TYPE_EXTENSION: &str = "x-monime-object-type";

/// One subtree `object <Name>...` per schema under `components.schemas`; with `events_only`,
/// only those marked [`OBJECT_TYPE_EXTENSION`] (helpers such as `Money` are reached through them).
pub fn object_facts(document: &Value, events_only: bool) -> Facts {
    let mut out = Facts::new();
    let schemas = document.get("components").and_then(|c| c.get("schemas"));
    for (name, schema) in entries(schemas) {
        if events_only && schema.get(OBJECT_TYPE_EXTENSION).is_none() {
            continue;
        }
        let prefix = format!("object {name}");
        out.insert(prefix.clone(), "declared".to_owned());
        schema_facts(document, &mut out, &prefix, schema, 0);
    }
    out
}

/// Reads a committed facts file (`{"release": ..., "facts": {fact: value}}`).
pub fn load_facts(path: &Path) -> Result<Facts> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail!(
            "cannot read {}: {e}. Write it with `cargo xtask upstream-diff --refresh <Monime's \
             document>`",
            path.display()
        )
    })?;
    let file: FactsFile = serde_json::from_str(&text)
        .map_err(|e| fail!("{}: not a facts file: {e}", path.display()))?;
    Ok(file.facts)
}

/// The text of a facts file: structure only (no description, title or example is a fact),
/// one fact per line in sorted order so reviews show exactly what moved.
pub fn render_facts(release: &str, facts: &Facts) -> String {
    let file = FactsFile {
        about: "Facts of Monime's published OpenAPI document that `cargo xtask upstream-diff` \
                compares with our spec. Written by `cargo xtask upstream-diff --refresh \
                <document>`; do not edit by hand."
            .to_owned(),
        release: release.to_owned(),
        facts: facts.clone(),
    };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FactsFile {
    #[serde(rename = "_about", default)]
    about: String,
    release: String,
    facts: Facts,
}

/// Monime's side must hold operations: facts without any mean the wrong document.
fn has_operations(theirs: &Facts, name: &str) -> Result<()> {
    if theirs.keys().any(|k| !k.starts_with("security")) {
        return Ok(());
    }
    Err(fail!(
        "{name} has no operation under {WEBHOOK_PATH_PREFIX}: is it Monime's API document?"
    ))
}

/// `cargo xtask upstream-diff --refresh <document>`: rewrites the committed facts of our
/// spec's release from Monime's document and prints every fact that moved.
pub fn refresh(root: &Path, document_path: &Path) -> Result<()> {
    let theirs = document_facts(&load_document(document_path)?);
    has_operations(&theirs, &document_path.display().to_string())?;
    let (_, release, _) = our_facts(root)?;
    let target = paths::upstream_facts(root, &release);
    let before = target.exists().then(|| load_facts(&target)).transpose()?;
    let before = before.unwrap_or_default();
    let moved = compare(&before, &theirs);
    for change in &moved {
        let (was, now) = (shown(&change.ours), shown(&change.theirs));
        println!("{}: was {was}, now {now}", change.fact);
    }
    std::fs::write(&target, render_facts(&release, &theirs))
        .map_err(|e| fail!("cannot write {}: {e}", target.display()))?;
    println!(
        "{} fact(s) moved; wrote {} ({} facts) from {}",
        moved.len(),
        paths::display_relative(root, &target),
        theirs.len(),
        document_path.display()
    );
    Ok(())
}

/// `cargo xtask upstream-diff [<Monime's document>] [--allow <file>]`: prints every difference
/// between our spec and Monime's side (its document, or the committed facts); with an
/// allow-list, fails on a difference it does not explain or an entry nothing matches.
pub fn run(root: &Path, theirs: &Theirs, allow_path: Option<&Path>) -> Result<()> {
    let (ours, release, ours_path) = our_facts(root)?;
    let ours_name = paths::display_relative(root, &ours_path);
    let (theirs, theirs_name) = match theirs {
        Theirs::Committed => {
            let path = paths::upstream_facts(root, &release);
            (load_facts(&path)?, paths::display_relative(root, &path))
        }
        Theirs::Document(path) => {
            let facts = document_facts(&load_document(path)?);
            (facts, path.display().to_string())
        }
    };
    has_operations(&theirs, &theirs_name)?;
    let differences = compare(&ours, &theirs);
    let Some(allow_path) = allow_path else {
        for difference in &differences {
            println!("{difference}");
        }
        let count = differences.len();
        println!("{count} difference(s) between {ours_name} and {theirs_name}");
        return Ok(());
    };
    let allow_name = allow_path.display().to_string();
    let allow_text =
        std::fs::read_to_string(allow_path).map_err(|e| fail!("cannot read {allow_name}: {e}"))?;
    let verdict = judge(differences, &parse_allow_list(&allow_text, &allow_name)?);
    println!(
        "upstream-diff: {} fact(s) compared with {theirs_name}, {} difference(s) explained by \
         {allow_name}",
        ours.len().max(theirs.len()),
        verdict.allowed.len(),
    );
    let unexplained = verdict.unexplained.iter();
    let mut problems: Vec<String> = unexplained
        .map(|difference| format!("  not in the allow-list: {difference}"))
        .collect();
    problems.extend(verdict.unused.iter().map(|allowance| {
        let (line, pattern) = (allowance.line, &allowance.pattern);
        format!("  allow-list line {line} (`{pattern}`) matches no difference any more: remove it")
    }));
    if problems.is_empty() {
        return Ok(());
    }
    Err(fail!(
        "our spec {ours_name} and Monime's {theirs_name} differ in ways {allow_name} does not \
         explain. Fix the spec, or add `<fact> | <reason>` lines to the allow-list:\n{}",
        problems.join("\n")
    ))
}
