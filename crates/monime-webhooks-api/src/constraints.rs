//! Every constraint our spec puts on the create and update bodies, checked on JSON values and
//! reported with the field that breaks it.
//!
//! The generated types enforce string lengths and patterns only; counts, uniqueness, property
//! limits, enums and unknown fields are checked here. The client checks its bodies with this
//! module before sending, and the emulator checks what it receives with it, so both refuse
//! exactly what the spec forbids.
//!
//! ```
//! use monime_webhooks_api::constraints;
//! use serde_json::json;
//!
//! let body = json!({ "name": "", "url": "https://x", "apiRelease": "caph", "events": ["a.b"] });
//! let violation = constraints::create(&body).unwrap_err();
//! assert_eq!(violation.field, "name");
//! assert_eq!(violation.to_string(), "name: must be at least 1 characters long, got 0");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// A value that breaks the spec: the field (a JSON path such as `verificationMethod.secret`)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Violation {}

/// Builds a violation from `"<field>: <message>"`.
fn invalid(text: impl Into<String>) -> Violation {
    let text = text.into();
    match text.split_once(": ") {
        Some((field, message)) => Violation {
            field: field.to_owned(),
            message: message.to_owned(),
        },
        None => Violation {
            field: "body".to_owned(),
            message: text,
        },
    }
}

fn nested(parent: &str, violation: Violation) -> Violation {
    Violation {
        field: format!("{parent}.{}", violation.field),
        message: violation.message,
    }
}

pub const API_RELEASES: [&str; 2] = ["caph", "siriusb"];
pub const MONIME_VERSIONS: [&str; 2] = ["caph.2025-08-23", "caph.2025-06-20"];

/// A validated create body.
#[derive(Debug, Clone)]
pub struct CreateInput {
    pub name: String,
    pub url: String,
    pub enabled: bool,
    pub api_release: String,
    pub events: Option<Vec<String>>,
    pub headers: Option<BTreeMap<String, String>>,
    pub alert_emails: Option<Vec<String>>,
    pub method: Option<MethodInput>,
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Clone)]
pub enum MethodInput {
    Hs256 { secret: String },
    Es256,
}

/// What a PATCH does to one field.
#[derive(Debug, Clone, Default)]
pub enum Patch<T> {
    #[default]
    Unchanged,
    Clear,
    Set(T),
}

/// A validated update body.
#[derive(Debug, Clone, Default)]
pub struct UpdateInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub enabled: Option<bool>,
    pub api_release: Option<String>,
    pub events: Patch<Vec<String>>,
    pub headers: Patch<BTreeMap<String, String>>,
    pub alert_emails: Patch<Vec<String>>,
    pub metadata: Patch<Map<String, Value>>,
}

const CREATE_FIELDS: [&str; 9] = [
    "name",
    "url",
    "enabled",
    "apiRelease",
    "events",
    "headers",
    "alertEmails",
    "verificationMethod",
    "metadata",
];

/// The create fields less `verificationMethod`, which cannot be changed.
const UPDATE_FIELDS: [&str; 8] = [
    "name",
    "url",
    "enabled",
    "apiRelease",
    "events",
    "headers",
    "alertEmails",
    "metadata",
];

/// A field as present in the body: absent, explicitly null, or a value.
enum Field<'a> {
    Absent,
    Null,
    Value(&'a Value),
}

fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Field<'a> {
    match map.get(name) {
        None => Field::Absent,
        Some(Value::Null) => Field::Null,
        Some(value) => Field::Value(value),
    }
}

fn body_object(body: &Value) -> Result<&Map<String, Value>, Violation> {
    body.as_object()
        .ok_or_else(|| invalid("the request body must be a JSON object"))
}

fn only_known_fields(map: &Map<String, Value>, known: &[&str]) -> Result<(), Violation> {
    match map.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(invalid(format!(
            "{unknown}: unknown field; allowed fields are {}",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

fn string(value: &Value, name: &str, min: usize, max: usize) -> Result<String, Violation> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(format!("{name}: must be a string")))?;
    let chars = text.chars().count();
    if chars < min {
        return Err(invalid(format!(
            "{name}: must be at least {min} characters long, got {chars}"
        )));
    }
    if chars > max {
        return Err(invalid(format!(
            "{name}: must be at most {max} characters long, got {chars}"
        )));
    }
    Ok(text.to_owned())
}

fn boolean(value: &Value, name: &str) -> Result<bool, Violation> {
    value
        .as_bool()
        .ok_or_else(|| invalid(format!("{name}: must be true or false")))
}

fn one_of(value: &Value, name: &str, allowed: &[&str]) -> Result<String, Violation> {
    match value.as_str() {
        Some(text) if allowed.contains(&text) => Ok(text.to_owned()),
        _ => Err(invalid(format!(
            "{name}: must be one of {}, got {value}",
            allowed.join(", ")
        ))),
    }
}

fn string_list(
    value: &Value,
    name: &str,
    min_items: usize,
    max_items: usize,
) -> Result<Vec<String>, Violation> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid(format!("{name}: must be an array of strings")))?;
    if items.len() < min_items {
        return Err(invalid(format!(
            "{name}: must hold at least {min_items} item(s), got {}",
            items.len()
        )));
    }
    if items.len() > max_items {
        return Err(invalid(format!(
            "{name}: must hold at most {max_items} items, got {}",
            items.len()
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let text = item
            .as_str()
            .ok_or_else(|| invalid(format!("{name}[{index}]: must be a string")))?;
        if out.iter().any(|seen| seen == text) {
            return Err(invalid(format!(
                "{name}: items must be unique, `{text}` appears twice"
            )));
        }
        out.push(text.to_owned());
    }
    Ok(out)
}

fn string_map(
    value: &Value,
    name: &str,
    max: usize,
) -> Result<BTreeMap<String, String>, Violation> {
    let map = value
        .as_object()
        .ok_or_else(|| invalid(format!("{name}: must be an object of strings")))?;
    if map.len() > max {
        return Err(invalid(format!(
            "{name}: must hold at most {max} entries, got {}",
            map.len()
        )));
    }
    map.iter()
        .map(|(key, value)| match value.as_str() {
            Some(text) => Ok((key.clone(), text.to_owned())),
            None => Err(invalid(format!("{name}.{key}: must be a string"))),
        })
        .collect()
}

fn metadata(value: &Value) -> Result<Map<String, Value>, Violation> {
    let map = value
        .as_object()
        .ok_or_else(|| invalid("metadata: must be an object"))?;
    if map.len() > 64 {
        return Err(invalid(format!(
            "metadata: must hold at most 64 properties, got {}",
            map.len()
        )));
    }
    Ok(map.clone())
}

fn verification_method(value: &Value) -> Result<MethodInput, Violation> {
    let map = value
        .as_object()
        .ok_or_else(|| invalid("verificationMethod: must be an object"))?;
    let kind = match map.get("type") {
        Some(kind) => one_of(kind, "verificationMethod.type", &["HS256", "ES256"])?,
        None => return Err(invalid("verificationMethod.type: is required")),
    };
    if kind == "HS256" {
        only_known_fields(map, &["type", "secret"]).map_err(|e| nested("verificationMethod", e))?;
        let secret = match map.get("secret") {
            Some(secret) => string(secret, "verificationMethod.secret", 32, 256)?,
            None => {
                return Err(invalid("verificationMethod.secret: is required for HS256"));
            }
        };
        Ok(MethodInput::Hs256 { secret })
    } else {
        only_known_fields(map, &["type", "publicKey"])
            .map_err(|e| nested("verificationMethod", e))?;
        if let Some(key) = map.get("publicKey") {
            // Read-only: Monime generates the key pair; a sent value is ignored.
            key.as_str()
                .ok_or_else(|| invalid("verificationMethod.publicKey: must be a string"))?;
        }
        Ok(MethodInput::Es256)
    }
}

pub fn create(body: &Value) -> Result<CreateInput, Violation> {
    let map = body_object(body)?;
    only_known_fields(map, &CREATE_FIELDS)?;
    let required = |name: &str| -> Result<&Value, Violation> {
        match field(map, name) {
            Field::Value(value) => Ok(value),
            Field::Null => Err(invalid(format!("{name}: must not be null"))),
            Field::Absent => Err(invalid(format!("{name}: is required"))),
        }
    };
    let name = string(required("name")?, "name", 1, 100)?;
    let url = string(required("url")?, "url", 0, 255)?;
    let api_release = one_of(required("apiRelease")?, "apiRelease", &API_RELEASES)?;
    let events = match field(map, "events") {
        Field::Absent => return Err(invalid("events: is required")),
        Field::Null => None,
        Field::Value(value) => Some(string_list(value, "events", 1, 100)?),
    };
    let enabled = match field(map, "enabled") {
        Field::Absent => true,
        Field::Null => return Err(invalid("enabled: must not be null")),
        Field::Value(value) => boolean(value, "enabled")?,
    };
    let optional = |name: &str| match field(map, name) {
        Field::Value(value) => Some(value),
        Field::Absent | Field::Null => None,
    };
    Ok(CreateInput {
        name,
        url,
        enabled,
        api_release,
        events,
        headers: optional("headers")
            .map(|v| string_map(v, "headers", 10))
            .transpose()?,
        alert_emails: optional("alertEmails")
            .map(|v| string_list(v, "alertEmails", 0, 2))
            .transpose()?,
        method: optional("verificationMethod")
            .map(verification_method)
            .transpose()?,
        metadata: optional("metadata").map(metadata).transpose()?,
    })
}

/// A missing PATCH body is an empty change.
pub fn update(body: Option<&Value>) -> Result<UpdateInput, Violation> {
    let Some(body) = body else {
        return Ok(UpdateInput::default());
    };
    let map = body_object(body)?;
    if map.contains_key("verificationMethod") {
        return Err(invalid(
            "verificationMethod: cannot be changed after creation; create a new webhook instead",
        ));
    }
    only_known_fields(map, &UPDATE_FIELDS)?;
    // Fields the Webhook cannot hold as null (name, url, enabled, apiRelease): null leaves
    // them unchanged. Nullable ones (events, headers, alertEmails, metadata): null clears.
    let value = |name: &str| match field(map, name) {
        Field::Value(value) => Some(value),
        Field::Absent | Field::Null => None,
    };
    let patch = |name: &str| match field(map, name) {
        Field::Absent => Patch::Unchanged,
        Field::Null => Patch::Clear,
        Field::Value(value) => Patch::Set(value),
    };
    Ok(UpdateInput {
        name: value("name")
            .map(|v| string(v, "name", 1, 100))
            .transpose()?,
        url: value("url").map(|v| string(v, "url", 0, 255)).transpose()?,
        enabled: value("enabled")
            .map(|v| boolean(v, "enabled"))
            .transpose()?,
        api_release: value("apiRelease")
            .map(|v| one_of(v, "apiRelease", &API_RELEASES))
            .transpose()?,
        events: map_patch(patch("events"), |v| string_list(v, "events", 1, 100))?,
        headers: map_patch(patch("headers"), |v| string_map(v, "headers", 10))?,
        alert_emails: map_patch(patch("alertEmails"), |v| {
            string_list(v, "alertEmails", 0, 2)
        })?,
        metadata: map_patch(patch("metadata"), metadata)?,
    })
}

fn map_patch<T>(
    patch: Patch<&Value>,
    parse: impl FnOnce(&Value) -> Result<T, Violation>,
) -> Result<Patch<T>, Violation> {
    Ok(match patch {
        Patch::Unchanged => Patch::Unchanged,
        Patch::Clear => Patch::Clear,
        Patch::Set(value) => Patch::Set(parse(value)?),
    })
}

/// `Monime-Space-Id`: at most 64 characters, `spc-` prefix.
pub fn space_id(value: &str) -> Result<(), Violation> {
    if value.chars().count() > 64 {
        return Err(invalid(
            "Monime-Space-Id: must be at most 64 characters long",
        ));
    }
    if !value.starts_with("spc-") {
        return Err(invalid("Monime-Space-Id: must match ^spc-.*$"));
    }
    Ok(())
}

/// `Monime-Version`: one of the versions the spec lists.
pub fn monime_version(value: &str) -> Result<(), Violation> {
    if MONIME_VERSIONS.contains(&value) {
        Ok(())
    } else {
        Err(invalid(format!(
            "Monime-Version: must be one of {}, got `{value}`",
            MONIME_VERSIONS.join(", ")
        )))
    }
}

/// `Idempotency-Key`: at most 64 characters.
pub fn idempotency_key(value: &str) -> Result<(), Violation> {
    let chars = value.chars().count();
    if chars > 64 {
        return Err(invalid(format!(
            "Idempotency-Key: must be at most 64 characters long, got {chars}"
        )));
    }
    Ok(())
}

/// A webhook id: must match `^whk-.*$`.
pub fn webhook_id(value: &str) -> Result<(), Violation> {
    if value.starts_with("whk-") {
        Ok(())
    } else {
        Err(invalid(format!("id: must match ^whk-.*$, got `{value}`")))
    }
}

/// The list `limit`: 1 to 50.
pub fn list_limit(value: u64) -> Result<(), Violation> {
    if (1..=50).contains(&value) {
        Ok(())
    } else {
        Err(invalid(format!(
            "limit: must be an integer from 1 to 50, got {value}"
        )))
    }
}

/// The list `after` cursor: at most 2000 characters.
pub fn list_after(value: &str) -> Result<(), Violation> {
    if value.chars().count() > 2000 {
        Err(invalid("after: must be at most 2000 characters long"))
    } else {
        Ok(())
    }
}
