//! The serde plumbing the generated open unions call, written once here.

use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A union variant on the wire: its `type` first, then the variant's own fields.
pub(crate) fn serialize_tagged<T: Serialize, S: Serializer>(
    tag: &str,
    inner: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Tagged<'a, T> {
        #[serde(rename = "type")]
        tag: &'a str,
        #[serde(flatten)]
        inner: &'a T,
    }
    Tagged { tag, inner }.serialize(serializer)
}

/// A union's object, whole, with its `type` if it has a string one.
pub(crate) fn tagged_object<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<(Option<String>, Value), D::Error> {
    let value = Value::deserialize(deserializer)?;
    if !value.is_object() {
        return Err(de::Error::invalid_type(unexpected(&value), &"an object"));
    }
    let tag = value.get("type").and_then(Value::as_str).map(str::to_owned);
    Ok((tag, value))
}

/// Decodes a union variant from its object, naming the field inside it that failed.
pub(crate) fn from_value<T: DeserializeOwned, E: de::Error>(value: Value) -> Result<T, E> {
    // Fast path without tracking; the path is worked out only for an error to explain.
    if let Ok(decoded) = T::deserialize(&value) {
        return Ok(decoded);
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        E::custom(format_args!("{path}: {}", error.into_inner()))
    })
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("a number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

/// `skip_serializing_if` for the boxed optional fields of recursive types.
#[allow(
    clippy::borrowed_box,
    reason = "serde passes the field as it is declared"
)]
pub(crate) fn boxed_none<T>(value: &Box<Option<T>>) -> bool {
    value.is_none()
}
