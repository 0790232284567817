//! `cargo xtask upstream-diff [<Monime's document>]`: compares our spec with Monime's, fact by
//! fact (parameter by parameter, property by property), for the webhook operations. Without a
//! document it compares with the facts committed under `openapi/` (what CI does, so CI needs
//! nothing outside the repository); `--refresh <document>` rewrites those facts.
//!
//! Both documents are flattened into `fact path -> value` maps with every `$ref` resolved, so
//! two documents that say the same thing in a different layout compare equal. Descriptions,
//! titles and examples are prose and are not compared.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::failure::{Failure, Result};
use crate::paths;

/// Paths whose operations are compared; the rest of a whole Monime document is ignored.
pub const WEBHOOK_PATH_PREFIX: &str = "/v1/webhooks";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// Schema keywords compared as facts. Booleans that default to false are recorded only when
/// true, so an explicit `false` equals an absent keyword.
const VALUE_FACETS: [&str; 14] = [
    "type",
    "format",
    "maxLength",
    "minLength",
    "pattern",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "maxProperties",
];
const FLAG_FACETS: [&str; 4] = ["nullable", "uniqueItems", "readOnly", "writeOnly"];
/// Nesting limit for recursive schemas.
const MAX_DEPTH: usize = 24;

pub type Facts = BTreeMap<String, String>;

/// One fact on which the two documents disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub fact: String,
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".to_owned());
        write!(
            f,
            "{}: ours {}, Monime {}",
            self.fact,
            show(&self.ours),
            show(&self.theirs)
        )
    }
}

pub fn load_document(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    serde_yaml::from_str(&text).map_err(|e| {
        let place = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        Failure::new(format!(
            "{}{place}: not a YAML document: {e}",
            path.display()
        ))
    })
}

/// Flattens the webhook operations of `document` into facts.
pub fn facts(document: &Value) -> Facts {
    facts_under(document, WEBHOOK_PATH_PREFIX)
}

/// Flattens the operations of every path starting with `prefix` ("" for all) into facts.
pub fn facts_under(document: &Value, prefix: &str) -> Facts {
    let mut out = Facts::new();
    let resolver = Resolver { document };
    if let Some(security) = document.get("security") {
        out.insert("security".to_owned(), canonical(security));
    }
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (route, item) in paths {
        if !route.starts_with(prefix) {
            continue;
        }
        let item = resolver.resolve(item);
        let shared_parameters = item.get("parameters").and_then(Value::as_array);
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or("?");
            out.insert(id.to_owned(), format!("{} {route}", method.to_uppercase()));
            let mut parameters = BTreeMap::new();
            let own = operation.get("parameters").and_then(Value::as_array);
            for parameter in shared_parameters.into_iter().chain(own).flatten() {
                let parameter = resolver.resolve(parameter);
                let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
                let place = parameter.get("in").and_then(Value::as_str).unwrap_or("?");
                // HTTP header names are case-insensitive.
                let name = if place == "header" {
                    name.to_lowercase()
                } else {
                    name.to_owned()
                };
                parameters.insert(format!("{place} {name}"), parameter);
            }
            for (key, parameter) in parameters {
                let prefix = format!("{id} parameter {key}");
                out.insert(prefix.clone(), "declared".to_owned());
                flag(&mut out, &prefix, "required", parameter.get("required"));
                if let Some(schema) = parameter.get("schema") {
                    resolver.schema(&mut out, &format!("{prefix} schema"), schema, 0);
                }
            }
            if let Some(body) = operation.get("requestBody") {
                let body = resolver.resolve(body);
                let prefix = format!("{id} requestBody");
                out.insert(prefix.clone(), "declared".to_owned());
                flag(&mut out, &prefix, "required", body.get("required"));
                resolver.content(&mut out, &prefix, body);
            }
            if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
                for (status, response) in responses {
                    let response = resolver.resolve(response);
                    let prefix = format!("{id} response {status}");
                    out.insert(prefix.clone(), "declared".to_owned());
                    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
                        for (name, header) in headers {
                            let header = resolver.resolve(header);
                            let prefix = format!("{prefix} header {}", name.to_lowercase());
                            out.insert(prefix.clone(), "declared".to_owned());
                            if let Some(schema) = header.get("schema") {
                                resolver.schema(&mut out, &format!("{prefix} schema"), schema, 0);
                            }
                        }
                    }
                    resolver.content(&mut out, &prefix, response);
                }
            }
        }
    }
    out
}

fn flag(out: &mut Facts, prefix: &str, name: &str, value: Option<&Value>) {
    if value.and_then(Value::as_bool) == Some(true) {
        out.insert(format!("{prefix} {name}"), "true".to_owned());
    }
}

/// JSON text with sorted keys, so equal values print equally.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<_, _> =
                map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            let inner: Vec<String> = sorted.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

struct Resolver<'a> {
    document: &'a Value,
}

impl<'a> Resolver<'a> {
    /// Follows local `$ref`s (`#/components/...`) until it reaches a value.
    fn resolve(&self, mut value: &'a Value) -> &'a Value {
        for _ in 0..MAX_DEPTH {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return value;
            };
            let Some(pointer) = reference.strip_prefix('#') else {
                return value;
            };
            match self.document.pointer(pointer) {
                Some(target) => value = target,
                None => return value,
            }
        }
        value
    }

    fn content(&self, out: &mut Facts, prefix: &str, holder: &Value) {
        let Some(content) = holder.get("content").and_then(Value::as_object) else {
            return;
        };
        for (media_type, media) in content {
            let prefix = format!("{prefix} content {media_type}");
            out.insert(prefix.clone(), "declared".to_owned());
            if let Some(schema) = media.get("schema") {
                self.schema(out, &format!("{prefix} schema"), schema, 0);
            }
        }
    }

    fn schema(&self, out: &mut Facts, prefix: &str, schema: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            out.insert(format!("{prefix} (nesting limit)"), "reached".to_owned());
            return;
        }
        let schema = self.resolve(schema);
        for facet in VALUE_FACETS {
            if let Some(value) = schema.get(facet) {
                out.insert(format!("{prefix}.{facet}"), canonical(value));
            }
        }
        for facet in FLAG_FACETS {
            if schema.get(facet).and_then(Value::as_bool) == Some(true) {
                out.insert(format!("{prefix}.{facet}"), "true".to_owned());
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            let names: BTreeSet<&str> = required.iter().filter_map(Value::as_str).collect();
            out.insert(
                format!("{prefix}.required"),
                names.into_iter().collect::<Vec<_>>().join(","),
            );
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(allowed)) => {
                out.insert(
                    format!("{prefix}.additionalProperties"),
                    allowed.to_string(),
                );
            }
            Some(inner @ Value::Object(_)) => {
                out.insert(
                    format!("{prefix}.additionalProperties"),
                    "schema".to_owned(),
                );
                self.schema(out, &format!("{prefix}{{*}}"), inner, depth + 1);
            }
            _ => {}
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let path = format!("{prefix}.{name}");
                out.insert(path.clone(), "declared".to_owned());
                self.schema(out, &path, property, depth + 1);
            }
        }
        if let Some(items) = schema.get("items") {
            self.schema(out, &format!("{prefix}[]"), items, depth + 1);
        }
        for combinator in ["oneOf", "anyOf", "allOf"] {
            if let Some(branches) = schema.get(combinator).and_then(Value::as_array) {
                out.insert(format!("{prefix}.{combinator}"), branches.len().to_string());
                for (index, branch) in branches.iter().enumerate() {
                    self.schema(
                        out,
                        &format!("{prefix}.{combinator}[{index}]"),
                        branch,
                        depth + 1,
                    );
                }
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
        let Some((pattern, reason)) = line.split_once(" | ") else {
            return Err(Failure::new(format!(
                "{display_path}:{}: expected `<fact pattern> | <reason>`, found `{line}`",
                index + 1
            )));
        };
        if reason.trim().is_empty() {
            return Err(Failure::new(format!(
                "{display_path}:{}: the allowance for `{pattern}` gives no reason",
                index + 1
            )));
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
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
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
        match allow
            .iter()
            .position(|a| glob_matches(&a.pattern, &difference.fact))
        {
            Some(index) => {
                used[index] = true;
                verdict
                    .allowed
                    .push((difference, allow[index].reason.clone()));
            }
            None => verdict.unexplained.push(difference),
        }
    }
    verdict.unused = allow
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(a, _)| a.clone())
        .collect();
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
    let spec = paths::current_spec(root)?;
    let document = load_document(&spec)?;
    let release = paths::spec_release(&document, &spec)?;
    let mut out = facts(&document);
    let objects = paths::objects_spec(root, &release);
    if objects.exists() {
        out.extend(object_facts(&load_document(&objects)?, true));
    }
    Ok((out, release, spec))
}

/// The facts of Monime's document that we compare and commit: its webhook operations and
/// every object schema it defines.
pub fn document_facts(document: &Value) -> Facts {
    let mut out = facts(document);
    out.extend(object_facts(document, false));
    out
}

/// Our extension naming the `object.type` of events that carry a schema as their `data`.
pub const OBJECT_TYPE_EXTENSION: &str = "x-monime-object-type";

/// One subtree per object schema under `components.schemas`: `object <Name>...`. With
/// `events_only`, only the schemas marked with [`OBJECT_TYPE_EXTENSION`] (our own helper
/// schemas such as `Money` are reached through the objects that use them).
pub fn object_facts(document: &Value, events_only: bool) -> Facts {
    let mut out = Facts::new();
    let resolver = Resolver { document };
    let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return out;
    };
    for (name, schema) in schemas {
        if events_only && schema.get(OBJECT_TYPE_EXTENSION).is_none() {
            continue;
        }
        let prefix = format!("object {name}");
        out.insert(prefix.clone(), "declared".to_owned());
        resolver.schema(&mut out, &prefix, schema, 0);
    }
    out
}

/// Reads a committed facts file (`{"release": ..., "facts": {fact: value}}`).
pub fn load_facts(path: &Path) -> Result<Facts> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(format!(
            "cannot read {}: {e}. Write it with `cargo xtask upstream-diff --refresh <Monime's \
             document>`",
            path.display()
        ))
    })?;
    let file: FactsFile = serde_json::from_str(&text)
        .map_err(|e| Failure::new(format!("{}: not a facts file: {e}", path.display())))?;
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

/// `cargo xtask upstream-diff --refresh <document>`: rewrites the committed facts of our
/// spec's release from Monime's document and prints every fact that moved.
pub fn refresh(root: &Path, document_path: &Path) -> Result<()> {
    let theirs = document_facts(&load_document(document_path)?);
    if !theirs.keys().any(|k| !k.starts_with("security")) {
        return Err(Failure::new(format!(
            "{} has no operation under {WEBHOOK_PATH_PREFIX}: is it Monime's API document?",
            document_path.display()
        )));
    }
    let (_, release, _) = our_facts(root)?;
    let target = paths::upstream_facts(root, &release);
    let before = if target.exists() {
        load_facts(&target)?
    } else {
        Facts::new()
    };
    let moved = compare(&before, &theirs);
    for change in &moved {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".to_owned());
        println!(
            "{}: was {}, now {}",
            change.fact,
            show(&change.ours),
            show(&change.theirs)
        );
    }
    std::fs::write(&target, render_facts(&release, &theirs))
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", target.display())))?;
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
    let (theirs, theirs_name) = match theirs {
        Theirs::Committed => {
            let path = paths::upstream_facts(root, &release);
            (load_facts(&path)?, paths::display_relative(root, &path))
        }
        Theirs::Document(path) => (
            document_facts(&load_document(path)?),
            path.display().to_string(),
        ),
    };
    if !theirs.keys().any(|k| !k.starts_with("security")) {
        return Err(Failure::new(format!(
            "{theirs_name} has no operation under {WEBHOOK_PATH_PREFIX}: is it Monime's API \
             document?"
        )));
    }
    let ours_name = paths::display_relative(root, &ours_path);
    let differences = compare(&ours, &theirs);
    let Some(allow_path) = allow_path else {
        for difference in &differences {
            println!("{difference}");
        }
        println!(
            "{} difference(s) between {ours_name} and {theirs_name}",
            differences.len(),
        );
        return Ok(());
    };
    let allow_text = std::fs::read_to_string(allow_path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", allow_path.display())))?;
    let allow = parse_allow_list(&allow_text, &allow_path.display().to_string())?;
    let verdict = judge(differences, &allow);
    println!(
        "upstream-diff: {} fact(s) compared with {theirs_name}, {} difference(s) explained by {}",
        ours.len().max(theirs.len()),
        verdict.allowed.len(),
        allow_path.display()
    );
    let mut problems = Vec::new();
    for difference in &verdict.unexplained {
        problems.push(format!("  not in the allow-list: {difference}"));
    }
    for allowance in &verdict.unused {
        problems.push(format!(
            "  allow-list line {} (`{}`) matches no difference any more: remove it",
            allowance.line, allowance.pattern
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "our spec {ours_name} and Monime's {theirs_name} differ in ways {} does not \
             explain. Fix the spec, or add `<fact> | <reason>` lines to the allow-list:\n{}",
            allow_path.display(),
            problems.join("\n")
        )))
    }
}
