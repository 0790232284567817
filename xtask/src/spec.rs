//! Reading an OpenAPI document with errors a person can act on: the file, the line and column
//! of a syntax error, the version that is not 3.0.x, the operation without an id.

use std::path::Path;

use openapiv3::OpenAPI;

use crate::failure::{Failure, Result};

/// A parsed spec together with the bytes it came from (the header stamps their sha256).
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub display_path: String,
    pub text: String,
    pub document: OpenAPI,
}

pub fn load(path: &Path, display_path: &str) -> Result<LoadedSpec> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("cannot read the spec {display_path}: {e}")))?;
    parse(&text, display_path)
}

/// Parses `text` as an OpenAPI 3.0.x document whose every operation has an `operationId`.
pub fn parse(text: &str, display_path: &str) -> Result<LoadedSpec> {
    let raw: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| syntax_failure(display_path, &e))?;
    check_version(&raw, display_path)?;
    check_operation_ids(&raw, display_path)?;
    let document: OpenAPI =
        serde_yaml::from_str(text).map_err(|e| syntax_failure(display_path, &e))?;
    Ok(LoadedSpec {
        display_path: display_path.to_owned(),
        text: text.to_owned(),
        document,
    })
}

fn syntax_failure(display_path: &str, error: &serde_yaml::Error) -> Failure {
    let place = match error.location() {
        Some(at) => format!("{display_path}:{}:{}", at.line(), at.column()),
        None => display_path.to_owned(),
    };
    // serde_yaml puts "at line X column Y" into its message; the place already says it.
    let mut message = error.to_string();
    if let Some(start) = message.find(" at line ") {
        let rest = &message[start + 1..];
        let end = rest
            .find(',')
            .map_or(message.len(), |comma| start + 1 + comma);
        message.replace_range(start..end, "");
    }
    Failure::new(format!(
        "{place}: the spec is not a valid OpenAPI document: {message}. Fix the YAML at that \
         line and column, then run `cargo xtask generate` again."
    ))
}

fn check_version(raw: &serde_yaml::Value, display_path: &str) -> Result<()> {
    let found = raw.get("openapi").and_then(serde_yaml::Value::as_str);
    match found {
        Some(v) if v.trim().starts_with("3.0.") => Ok(()),
        Some(v) => Err(Failure::new(format!(
            "{display_path}: the spec declares `openapi: {v}`, but the generator (progenitor) \
             reads only OpenAPI 3.0.x. Write the spec as OpenAPI 3.0.3."
        ))),
        None => {
            let hint = if raw.get("swagger").is_some() {
                " It looks like a Swagger 2.0 document; convert it to OpenAPI 3.0.3."
            } else {
                ""
            };
            Err(Failure::new(format!(
                "{display_path}: the spec has no `openapi` field, so it is not an OpenAPI 3.0.x \
                 document.{hint}"
            )))
        }
    }
}

/// The HTTP methods a path item can hold, as OpenAPI spells them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn check_operation_ids(raw: &serde_yaml::Value, display_path: &str) -> Result<()> {
    let Some(paths) = raw.get("paths").and_then(serde_yaml::Value::as_mapping) else {
        return Ok(());
    };
    let mut missing = Vec::new();
    for (route, item) in paths {
        let route = route.as_str().unwrap_or("?");
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let id = operation
                    .get("operationId")
                    .and_then(serde_yaml::Value::as_str);
                if id.is_none_or(|id| id.trim().is_empty()) {
                    missing.push(format!("{} {route}", method.to_uppercase()));
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "{display_path}: every operation needs an `operationId` (it names the client \
             method), but {} has none. Add one to each.",
            missing.join(", ")
        )))
    }
}
