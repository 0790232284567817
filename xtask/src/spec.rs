//! The one way the xtask reads an OpenAPI document: its YAML tree in the document's own order
//! (the tables follow it), errors a person can act on (the line and column of a syntax error,
//! a version not 3.0.x, an operation without an id), and the one `$ref` resolver.

use std::path::Path;

use openapiv3::OpenAPI;
use serde_yaml::Value;

use crate::failure::{Failure, Result};

/// A document as read, with the bytes it came from (generated headers stamp their sha256).
#[derive(Debug, Clone)]
pub struct Spec {
    pub display_path: String,
    pub text: String,
    pub raw: Value,
}

/// Reads any OpenAPI document (ours or Monime's), checking only that it is YAML or JSON.
pub fn read(path: &Path, display_path: &str) -> Result<Spec> {
    let text =
        std::fs::read_to_string(path).map_err(|e| fail!("cannot read {display_path}: {e}"))?;
    let raw = serde_yaml::from_str(&text).map_err(|e| syntax_failure(display_path, &e))?;
    let display_path = display_path.to_owned();
    Ok(Spec {
        display_path,
        text,
        raw,
    })
}

/// Reads a spec the client is generated from (see [`parse`]).
pub fn load(path: &Path, display_path: &str) -> Result<Spec> {
    let spec = read(path, display_path)?;
    check(&spec.raw, display_path).map(|()| spec)
}

/// Parses `text` as an OpenAPI 3.0.x document whose every operation has an `operationId`.
pub fn parse(text: &str, display_path: &str) -> Result<Spec> {
    let raw = serde_yaml::from_str(text).map_err(|e| syntax_failure(display_path, &e))?;
    check(&raw, display_path)?;
    let (display_path, text) = (display_path.to_owned(), text.to_owned());
    Ok(Spec {
        display_path,
        text,
        raw,
    })
}

impl Spec {
    /// The typed document progenitor reads; a wrong shape is reported where it is.
    pub fn openapi(&self) -> Result<OpenAPI> {
        serde_yaml::from_str(&self.text).map_err(|e| syntax_failure(&self.display_path, &e))
    }

    /// The release the document describes: its `info.version` (`caph.2025-08-23`).
    pub fn release(&self) -> Result<String> {
        let version = self.raw.get("info").and_then(|info| info.get("version"));
        version
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| fail!("{} has no info.version", self.display_path))
    }
}

/// Follows local `$ref`s from `node` until a value that is not one. `place` names where the
/// reference stands, for the error when it leaves the document, points nowhere or loops.
pub fn resolve<'a>(document: &'a Value, node: &'a Value, place: &str) -> Result<&'a Value> {
    let mut current = node;
    for _ in 0..24 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok(current);
        };
        current = lookup(document, reference, place)?;
    }
    Err(fail!("{place}: $ref chain too long"))
}

/// The value a local reference (`#/components/schemas/Webhook`) names, JSON Pointer escapes
/// (`~1` for `/`, `~0` for `~`) included.
pub fn lookup<'a>(document: &'a Value, reference: &str, place: &str) -> Result<&'a Value> {
    let path = reference.strip_prefix("#/").ok_or_else(|| {
        fail!("{place}: only local $refs (#/...) are supported, got `{reference}`")
    })?;
    path.split('/').try_fold(document, |current, part| {
        current
            .get(part.replace("~1", "/").replace("~0", "~"))
            .ok_or_else(|| fail!("{place}: $ref `{reference}` points nowhere"))
    })
}

/// The entries of a mapping (none for anything else), keys as text.
pub fn entries(value: Option<&Value>) -> Vec<(String, &Value)> {
    let map = value.and_then(Value::as_mapping).into_iter().flatten();
    map.map(|(key, value)| (key_text(key), value)).collect()
}

/// A mapping key as text: YAML reads an unquoted `200:` as a number.
pub fn key_text(key: &Value) -> String {
    let text = key.as_str().map(str::to_owned);
    text.unwrap_or_else(|| serde_json::to_string(key).unwrap_or_default())
}

/// The text items of a sequence (`enum`, `required`), others skipped.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    let texts = sequence(value).iter().filter_map(Value::as_str);
    texts.map(str::to_owned).collect()
}

/// The items of a sequence (none for anything else).
pub fn sequence(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_sequence)
        .map_or(&[], Vec::as_slice)
}

/// Whether `value` sets the boolean `key` to true.
pub fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// `components.schemas.<name>`, if the document has it.
pub fn component<'a>(document: &'a Value, name: &str) -> Option<&'a Value> {
    document.get("components")?.get("schemas")?.get(name)
}

/// A YAML value as compact JSON text, keys sorted (serde_json's maps are), so equal values
/// print equally.
pub fn json_text(value: &Value) -> String {
    serde_json::to_value(value).map_or_else(
        |_| serde_json::to_string(value).unwrap_or_default(),
        |v| v.to_string(),
    )
}

fn syntax_failure(display_path: &str, error: &serde_yaml::Error) -> Failure {
    let place = match error.location() {
        Some(at) => format!("{display_path}:{}:{}", at.line(), at.column()),
        None => display_path.to_owned(),
    };
    // serde_yaml puts "at line X column Y" into its message; the place already says it.
    let message = error.to_string();
    let message = match message.split_once(" at line ") {
        Some((head, tail)) => head.to_owned() + tail.find(',').map_or("", |at| &tail[at..]),
        None => message,
    };
    fail!(
        "{place}: not a valid OpenAPI document: {message}. Fix it at that line and column, \
         then run the command again."
    )
}

fn check(raw: &Value, display_path: &str) -> Result<()> {
    match raw.get("openapi").and_then(Value::as_str) {
        Some(v) if v.trim().starts_with("3.0.") => {}
        Some(v) => {
            return Err(fail!(
                "{display_path}: the spec declares `openapi: {v}`, but the generator \
                 (progenitor) reads only OpenAPI 3.0.x. Write the spec as OpenAPI 3.0.3."
            ));
        }
        None => {
            let hint = if raw.get("swagger").is_some() {
                " It looks like a Swagger 2.0 document; convert it to OpenAPI 3.0.3."
            } else {
                ""
            };
            return Err(fail!(
                "{display_path}: the spec has no `openapi` field, so it is not an OpenAPI 3.0.x \
                 document.{hint}"
            ));
        }
    }
    let mut missing = Vec::new();
    for (route, method, _, operation) in operations(raw) {
        let id = operation.get("operationId").and_then(Value::as_str);
        if id.is_none_or(|id| id.trim().is_empty()) {
            missing.push(format!("{} {route}", method.to_uppercase()));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(fail!(
        "{display_path}: every operation needs an `operationId` (it names the client method), \
         but {} has none. Add one to each.",
        missing.join(", ")
    ))
}

/// Every operation under `paths` as route, method, path item (its `$ref` followed) and
/// operation: the paths in the document's order, the methods in the order OpenAPI lists them.
pub fn operations(document: &Value) -> Vec<(String, &'static str, &Value, &Value)> {
    const METHODS: &str = "get put post delete options head patch trace";
    let mut out = Vec::new();
    for (route, item) in entries(document.get("paths")) {
        let item = resolve(document, item, &route).unwrap_or(item);
        for method in METHODS.split(' ') {
            if let Some(operation) = item.get(method) {
                out.push((route.clone(), method, item, operation));
            }
        }
    }
    out
}
