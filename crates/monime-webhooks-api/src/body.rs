//! Request bodies as the generated setters build them: a JSON object checked against the
//! operation's schema from the spec tables before anything is sent.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::constraints::{self, Violation};
use crate::schema::Schema;

/// A body under construction for one operation. The setters `cargo xtask generate` writes
/// into `monime-webhooks` fill it; a value that cannot be turned into JSON is remembered and
/// reported by [`RequestBody::validated`].
///
/// `Debug` shows the keys only: values can be secrets or credentials.
#[derive(Clone)]
pub struct RequestBody {
    schema: &'static Schema,
    map: Map<String, Value>,
    deferred: Option<Violation>,
}

impl RequestBody {
    /// An empty body for `schema`, with the spec's `default` filled in for required properties
    /// (so a required property with a default need not be set).
    pub fn new(schema: &'static Schema) -> RequestBody {
        let mut map = Map::new();
        if let Some(object) = schema.object() {
            for name in object.required {
                let default = object
                    .property(name)
                    .and_then(|p| p.schema.default)
                    .and_then(|text| serde_json::from_str(text).ok());
                if let Some(default) = default {
                    map.insert((*name).to_owned(), default);
                }
            }
        }
        RequestBody {
            schema,
            map,
            deferred: None,
        }
    }

    /// Sets `key` to a JSON value.
    pub fn set_value(&mut self, key: &str, value: Value) {
        self.map.insert(key.to_owned(), value);
    }

    /// Sets `key` to a string.
    pub fn set_text(&mut self, key: &str, value: impl Into<String>) {
        self.set_value(key, Value::String(value.into()));
    }

    /// Sets `key` to a boolean.
    pub fn set_bool(&mut self, key: &str, value: bool) {
        self.set_value(key, Value::Bool(value));
    }

    /// Sets `key` to an integer.
    pub fn set_integer(&mut self, key: &str, value: i64) {
        self.set_value(key, Value::from(value));
    }

    /// Sets `key` to an array of strings.
    pub fn set_texts(&mut self, key: &str, values: impl IntoIterator<Item = String>) {
        self.set_value(key, values.into_iter().map(Value::String).collect());
    }

    /// Sets `key` to an object of strings.
    pub fn set_text_map(&mut self, key: &str, entries: impl IntoIterator<Item = (String, String)>) {
        let map = entries
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        self.set_value(key, Value::Object(map));
    }

    /// Sets `key` to `value` as serde serializes it.
    pub fn set_serialized(&mut self, key: &str, value: &impl Serialize) {
        match serde_json::to_value(value) {
            Ok(json) => self.set_value(key, json),
            Err(error) => self.fail(key, format!("cannot be sent as JSON: {error}")),
        }
    }

    /// Sends `key` as JSON `null` (a PATCH clears the field).
    pub fn clear(&mut self, key: &str) {
        self.set_value(key, Value::Null);
    }

    /// Appends `value` to the array at `key` (created when absent or null).
    pub fn push_text(&mut self, key: &str, value: impl Into<String>) {
        let slot = self.map.entry(key).or_insert(Value::Null);
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            items.push(Value::String(value.into()));
        }
    }

    /// Inserts `name: value` into the object at `key` (created when absent or null).
    pub fn insert_text(&mut self, key: &str, name: impl Into<String>, value: impl Into<String>) {
        self.insert_value(key, name, Value::String(value.into()));
    }

    /// Inserts `name: value` into the object at `key` (created when absent or null).
    pub fn insert_value(&mut self, key: &str, name: impl Into<String>, value: Value) {
        let slot = self.map.entry(key).or_insert(Value::Null);
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Value::Object(map) = slot {
            map.insert(name.into(), value);
        }
    }

    /// Remembers that `key` got an unusable value; the first one is reported.
    pub fn fail(&mut self, key: &str, message: impl Into<String>) {
        self.deferred
            .get_or_insert_with(|| Violation::new(key, message.into()));
    }

    /// The body, if every value could be set and it matches the schema.
    pub fn validated(&self) -> Result<&Map<String, Value>, Violation> {
        if let Some(violation) = &self.deferred {
            return Err(violation.clone());
        }
        constraints::check_fields(self.schema, &self.map)?;
        Ok(&self.map)
    }

    /// The body as built.
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBody")
            .field("keys", &self.map.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A JSON object sent exactly as built, `null`s included: the generated client's PATCH body,
/// so clearing a field reaches the wire. `Debug` shows the keys only.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonObject(pub Map<String, Value>);

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JsonObject")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl From<Map<String, Value>> for JsonObject {
    fn from(map: Map<String, Value>) -> JsonObject {
        JsonObject(map)
    }
}

#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
impl schemars::JsonSchema for JsonObject {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JsonObject".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "object" })
    }
}
