//! Shaped test events: `data.amount.value=5000`-style overrides on an event's `data`, checked
//! against the object's type so a value the type refuses is an error naming its path. The CLI's
//! `send-test-event --set` and the emulator's `POST /_mock/events` (`"set"`) both use them.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::EventData;

/// One override: a path into `data` (`data.amount.value`, `data.fees.0.code`) and the value
/// to put there.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    path: String,
    value: Value,
}

/// An override that cannot be written or that the object's type refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideError {
    /// The path, as given or as the type check found it.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for OverrideError {}

impl Override {
    /// The override putting `value` at `path` (which starts with `data`).
    pub fn new(path: &str, value: Value) -> Result<Override, OverrideError> {
        let error = |message: &str| OverrideError {
            path: path.to_owned(),
            message: message.to_owned(),
        };
        let rest = path
            .strip_prefix("data.")
            .ok_or_else(|| error("a path into the event's data starts with `data.`"))?;
        if rest.split('.').any(str::is_empty) {
            return Err(error("a path has no empty segment"));
        }
        // Each level is a level of recursion when the data is decoded and dropped.
        if path.len() > 256 || rest.split('.').count() > 32 {
            return Err(error("a path has at most 32 segments and 256 bytes"));
        }
        Ok(Override {
            path: path.to_owned(),
            value,
        })
    }
}

impl FromStr for Override {
    type Err = OverrideError;

    /// `path=value`: the value is read as JSON when it is JSON (`5000`, `true`, `"5000"`,
    /// `{"currency":"SLE"}`), else as a string (`failed`).
    fn from_str(text: &str) -> Result<Override, OverrideError> {
        let (path, value) = text.split_once('=').ok_or_else(|| OverrideError {
            path: text.to_owned(),
            message: "write `data.path=value`".to_owned(),
        })?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        Override::new(path, value)
    }
}

/// `data` with every override applied in order (missing objects on the way are created, an
/// array element is named by its index), then checked as the object `object_type` names.
pub fn apply_overrides(
    object_type: &str,
    mut data: Value,
    overrides: &[Override],
) -> Result<Value, OverrideError> {
    // Data given as it is (a malformed object, to test a receiver's errors) stays unchecked.
    if overrides.is_empty() {
        return Ok(data);
    }
    for change in overrides {
        let segments: Vec<&str> = change.path["data.".len()..].split('.').collect();
        let mut at = &mut data;
        for (i, segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            at = match at {
                Value::Array(items) => {
                    let index: usize = segment.parse().map_err(|_| OverrideError {
                        path: change.path.clone(),
                        message: format!("`{segment}` names an element of a list: use its index"),
                    })?;
                    let len = items.len();
                    items.get_mut(index).ok_or_else(|| OverrideError {
                        path: change.path.clone(),
                        message: format!("the list has {len} elements"),
                    })?
                }
                Value::Object(map) => map.entry(segment.to_string()).or_insert_with(|| {
                    if last {
                        Value::Null
                    } else {
                        Value::Object(Map::new())
                    }
                }),
                other => {
                    *other = Value::Object(Map::new());
                    other
                        .as_object_mut()
                        .map(|map| map.entry(segment.to_string()).or_insert(Value::Null))
                        .ok_or_else(|| OverrideError {
                            path: change.path.clone(),
                            message: "cannot be written".to_owned(),
                        })?
                }
            };
        }
        *at = change.value.clone();
    }
    EventData::from_value(object_type, &data).map_err(|error| OverrideError {
        path: error.path().to_owned(),
        message: format!("the {object_type} type refuses it: {}", error.message()),
    })?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(text: &str) -> Override {
        text.parse().unwrap()
    }

    #[test]
    fn overrides_write_typed_values_and_refusals_name_the_path() {
        let data = serde_json::to_value(crate::sample("payment.completed", "pay-1")).unwrap();
        let shaped = apply_overrides(
            "payment",
            data.clone(),
            &[
                set("data.amount.value=5000"),
                set("data.status=failed"),
                set("data.metadata.order=\"17\""),
            ],
        )
        .unwrap();
        assert_eq!(shaped["amount"]["value"], json!(5000));
        assert_eq!(shaped["status"], json!("failed"));
        assert_eq!(shaped["metadata"]["order"], json!("17"));
        let refused = apply_overrides("payment", data.clone(), &[set("data.amount.value=lots")]);
        assert_eq!(refused.unwrap_err().path, "data.amount.value");
        let deep = format!("data.{}=1", ["a"; 40].join("."));
        for bad in [
            "amount.value=1",
            "data..value=1",
            "data.amount.value",
            &deep,
        ] {
            assert!(bad.parse::<Override>().is_err(), "{bad}");
        }
        // A list the sample lacks is not made up: the type check names where it broke.
        let indexed = apply_overrides("payment", data.clone(), &[set("data.fees.5.code=x")]);
        assert_eq!(indexed.unwrap_err().path, "data.fees");
        let with_fee = apply_overrides(
            "payment",
            data,
            &[
                set(r#"data.fees=[{"code":"a"}]"#),
                set("data.fees.0.code=b"),
                set("data.fees.3.code=c"),
            ],
        );
        assert!(with_fee.unwrap_err().message.contains("1 elements"));
    }
}
