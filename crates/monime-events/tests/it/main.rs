//! monime-events: decoding bodies built from Monime's documented shapes, what Monime may add
//! later, round trips, errors with paths, the samples, and the generated surface.

mod decode;
mod errors;
mod roundtrip;
mod samples;
mod surface;

use serde_json::Value;

/// A fixture from `tests/it/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// `value` with every `null` member removed (absent and null read the same).
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
