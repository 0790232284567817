//! The one validator of the spec's constraints, shared by the client (before sending) and the
//! emulator (on receipt), so both refuse exactly what the spec forbids and name the field.
//!
//! It reads the tables `cargo xtask generate` writes from the spec ([`crate::spec`]); it holds
//! no limit, pattern or enum of its own. The generated types enforce string lengths and
//! patterns only; counts, uniqueness, property limits, enums, `oneOf` branches and unknown
//! fields are checked here.
//!
//! ```
//! use monime_webhooks_api::{constraints, spec};
//! use serde_json::json;
//!
//! let body = json!({ "name": "", "url": "https://x", "apiRelease": "caph", "events": ["a.b"] });
//! let schema = spec::operations::CREATE_WEBHOOK.body.unwrap();
//! let violation = constraints::check_body(schema, &body).unwrap_err();
//! assert_eq!(violation.field, "name");
//! assert_eq!(violation.to_string(), "name: must be at least 1 characters long, got 0");
//! ```

use std::fmt;

use serde_json::{Map, Value};

use crate::schema::{Additional, Kind, Object, Param, Schema};

/// A value that breaks the spec: the field (a JSON path such as `verificationMethod.secret`,
/// or a parameter name such as `Monime-Space-Id`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The JSON path or parameter name.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Violation {}

type Checked = Result<(), Violation>;

/// Checks a request body: it must be a JSON object that matches `schema`.
pub fn check_body(schema: &Schema, body: &Value) -> Checked {
    if !body.is_object() {
        return Err(Violation::new(
            "body",
            "the request body must be a JSON object",
        ));
    }
    check(schema, body, "")
}

/// Checks the fields of an object body against `schema` (an object schema) without building
/// a JSON value around them first.
pub fn check_fields(schema: &Schema, fields: &Map<String, Value>) -> Checked {
    match &schema.kind {
        Kind::Object(object) if schema.max_depth.is_none() && !schema.http_header_map => {
            check_object(object, fields, "")
        }
        _ => check(schema, &Value::Object(fields.clone()), ""),
    }
}

/// Checks one parameter as it travels: text, parsed as an integer where the schema says so.
pub fn check_param(param: &Param, text: &str) -> Checked {
    let value = match param.schema.kind {
        Kind::Integer { .. } => match text.trim().parse::<i64>() {
            Ok(number) => Value::from(number),
            Err(_) => {
                return Err(Violation::new(
                    param.name,
                    format!("{}, got `{text}`", integer_rule(param.schema)),
                ));
            }
        },
        _ => return check_text(param.schema, text, param.name),
    };
    check(param.schema, &value, param.name)
}

/// Checks `text` against `schema` without building a JSON value around it first; `at` names
/// it in the violation.
pub fn check_text(schema: &Schema, text: &str, at: &str) -> Checked {
    let Kind::String {
        min_length,
        max_length,
        pattern,
        values,
    } = &schema.kind
    else {
        return check(schema, &Value::String(text.to_owned()), at);
    };
    if !values.is_empty() && !values.contains(&text) {
        return Err(Violation::new(
            name(at),
            format!("must be one of {}, got `{text}`", values.join(", ")),
        ));
    }
    // A character is one to four bytes: the byte length alone settles most texts, and counting
    // characters is more code for every call with an id to bring in.
    let settled = max_length.is_none_or(|max| text.len() <= max)
        && min_length.is_none_or(|min| text.len().div_ceil(4) >= min);
    if !settled {
        let chars = text.chars().count();
        if let Some(min) = min_length
            && chars < *min
        {
            return Err(Violation::new(
                name(at),
                format!("must be at least {min} characters long, got {chars}"),
            ));
        }
        if let Some(max) = max_length
            && chars > *max
        {
            return Err(Violation::new(
                name(at),
                format!("must be at most {max} characters long, got {chars}"),
            ));
        }
    }
    if let Some(pattern) = pattern
        && !pattern.is_match(text)
    {
        return Err(Violation::new(
            name(at),
            format!("must match {}, got `{text}`", pattern.source),
        ));
    }
    Ok(())
}

/// Checks a present required parameter, or reports it missing.
pub fn check_required_param(param: &Param, text: Option<&str>) -> Checked {
    match text {
        Some(text) => check_param(param, text),
        None if param.required => Err(Violation::new(param.name, "is required")),
        None => Ok(()),
    }
}

/// Checks `value` against `schema`; `at` is the value's path (empty for a body's root).
pub fn check(schema: &Schema, value: &Value, at: &str) -> Checked {
    if let Some(max) = schema.max_depth
        && exceeds_depth(value, max)
    {
        return Err(Violation::new(
            name(at),
            format!("must nest at most {max} levels of objects and arrays"),
        ));
    }
    if schema.http_header_map
        && let Some(map) = value.as_object()
    {
        check_header_map(map, at)?;
    }
    if value.is_null() {
        return if schema.nullable || matches!(schema.kind, Kind::Any) {
            Ok(())
        } else {
            Err(Violation::new(name(at), "must not be null"))
        };
    }
    match &schema.kind {
        Kind::Any => Ok(()),
        Kind::Boolean => value
            .is_boolean()
            .then_some(())
            .ok_or_else(|| Violation::new(name(at), "must be true or false")),
        Kind::Integer { minimum, maximum } => {
            let number = value.as_i64();
            let fits = number.is_some_and(|n| {
                minimum.is_none_or(|min| n >= min) && maximum.is_none_or(|max| n <= max)
            });
            if fits {
                Ok(())
            } else {
                Err(Violation::new(
                    name(at),
                    format!("{}, got {value}", integer_rule(schema)),
                ))
            }
        }
        Kind::String { .. } => {
            let text = value
                .as_str()
                .ok_or_else(|| Violation::new(name(at), "must be a string"))?;
            check_text(schema, text, at)
        }
        Kind::Array {
            items,
            min_items,
            max_items,
            unique_items,
        } => {
            let list = value
                .as_array()
                .ok_or_else(|| Violation::new(name(at), "must be an array"))?;
            if let Some(min) = min_items
                && list.len() < *min
            {
                return Err(Violation::new(
                    name(at),
                    format!("must hold at least {min} item(s), got {}", list.len()),
                ));
            }
            if let Some(max) = max_items
                && list.len() > *max
            {
                return Err(Violation::new(
                    name(at),
                    format!("must hold at most {max} items, got {}", list.len()),
                ));
            }
            for (index, item) in list.iter().enumerate() {
                check(items, item, &format!("{}[{index}]", name(at)))?;
                if *unique_items && list[..index].contains(item) {
                    let shown = item
                        .as_str()
                        .map_or_else(|| item.to_string(), str::to_owned);
                    return Err(Violation::new(
                        name(at),
                        format!("items must be unique, `{shown}` appears twice"),
                    ));
                }
            }
            Ok(())
        }
        Kind::Object(object) => {
            let map = value
                .as_object()
                .ok_or_else(|| Violation::new(name(at), "must be an object"))?;
            check_object(object, map, at)
        }
    }
}

fn check_object(object: &Object, map: &Map<String, Value>, at: &str) -> Checked {
    if let Some(max) = object.max_properties
        && map.len() > max
    {
        return Err(Violation::new(
            name(at),
            format!("must hold at most {max} properties, got {}", map.len()),
        ));
    }
    for required in object.required {
        if !map.contains_key(*required) {
            return Err(Violation::new(join(at, required), "is required"));
        }
    }
    for (key, value) in map {
        match (object.property(key), &object.additional) {
            (Some(property), _) => check(property.schema, value, &join(at, key))?,
            (None, Additional::Any) => {}
            (None, Additional::Schema(extra)) => check(extra, value, &join(at, key))?,
            (None, Additional::Denied) => {
                let allowed: Vec<&str> = object.properties.iter().map(|p| p.name).collect();
                return Err(Violation::new(
                    join(at, key),
                    format!("unknown field; allowed fields are {}", allowed.join(", ")),
                ));
            }
        }
    }
    if object.one_of.is_empty() {
        return Ok(());
    }
    let value = Value::Object(map.clone());
    let mut first_failure = None;
    for branch in object.one_of {
        match check(branch, &value, at) {
            Ok(()) => return Ok(()),
            // The branch whose single-value enums the value matches (`type: HS256`) is the
            // one the caller meant: its complaint is the useful one.
            Err(violation) if selects(branch, map) => return Err(violation),
            Err(violation) => {
                first_failure.get_or_insert(violation);
            }
        }
    }
    Err(first_failure.unwrap_or_else(|| Violation::new(name(at), "matches no allowed shape")))
}

/// Whether `map` carries every single-value enum property of `branch` with that value.
fn selects(branch: &Schema, map: &Map<String, Value>) -> bool {
    let Kind::Object(object) = &branch.kind else {
        return false;
    };
    let mut any = false;
    for property in object.properties {
        if let Kind::String { values: [only], .. } = property.schema.kind {
            any = true;
            if map.get(property.name).and_then(Value::as_str) != Some(only) {
                return false;
            }
        }
    }
    any
}

/// Whether objects and arrays nest deeper than `max` levels in `value` (itself level 1).
/// Iterative, so a hostile document cannot exhaust the stack.
fn exceeds_depth(value: &Value, max: usize) -> bool {
    let mut pending = vec![(value, 1usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(map) => Box::new(map.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

/// RFC 9110 `tchar`: what an HTTP header name is made of.
fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Header names must be tokens and values free of control characters (tab aside), or every
/// delivery carrying them would fail, or smuggle a header of its own.
fn check_header_map(map: &Map<String, Value>, at: &str) -> Checked {
    for (header, value) in map {
        if header.is_empty() || !header.bytes().all(is_token_char) {
            return Err(Violation::new(
                name(at),
                format!(
                    "`{}` is not an HTTP header name: use letters, digits and \
                     !#$%&'*+-.^_`|~ only",
                    header.escape_debug()
                ),
            ));
        }
        if let Some(text) = value.as_str()
            && text.chars().any(|c| c.is_control() && c != '\t')
        {
            return Err(Violation::new(
                join(at, header),
                "must not contain control characters (such as a line break)",
            ));
        }
    }
    Ok(())
}

fn integer_rule(schema: &Schema) -> String {
    match schema.kind {
        Kind::Integer {
            minimum: Some(min),
            maximum: Some(max),
        } => format!("must be an integer from {min} to {max}"),
        Kind::Integer {
            minimum: Some(min),
            maximum: None,
        } => format!("must be an integer of at least {min}"),
        Kind::Integer {
            minimum: None,
            maximum: Some(max),
        } => format!("must be an integer of at most {max}"),
        _ => "must be an integer".to_owned(),
    }
}

fn name(at: &str) -> &str {
    if at.is_empty() { "body" } else { at }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::check_text;
    use crate::schema::{Kind, Schema};

    /// Lengths are in characters, whether the byte length settles them or not: every text of
    /// up to six characters of one to four bytes, against every pair of limits up to seven.
    #[test]
    fn lengths_count_characters_whatever_their_bytes() {
        let pieces = ["a", "é", "€", "𝄞"];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts
                .iter()
                .filter(|text| text.chars().count() == texts.last().unwrap().chars().count())
                .flat_map(|text| pieces.iter().map(move |piece| format!("{text}{piece}")))
                .collect();
            texts.extend(longer);
        }
        let limits = [None, Some(0), Some(1), Some(2), Some(3), Some(5), Some(7)];
        for min_length in limits {
            for max_length in limits {
                let schema = Schema {
                    nullable: false,
                    read_only: false,
                    default: None,
                    max_depth: None,
                    http_header_map: false,
                    kind: Kind::String {
                        min_length,
                        max_length,
                        pattern: None,
                        values: &[],
                    },
                };
                for text in &texts {
                    let chars = text.chars().count();
                    let allowed = min_length.is_none_or(|min| chars >= min)
                        && max_length.is_none_or(|max| chars <= max);
                    assert_eq!(
                        check_text(&schema, text, "name").is_ok(),
                        allowed,
                        "{text:?} with {min_length:?}..{max_length:?}"
                    );
                }
            }
        }
    }
}
