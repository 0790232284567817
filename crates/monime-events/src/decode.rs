//! Decoding an event's `data` as the object its `object.type` names, with errors that say
//! where in `data` the problem is.

use std::fmt;

use serde_json::Value;

use crate::EventData;

/// `data` that does not decode as its object: where, and why. Never a panic.
///
/// ```
/// let data = serde_json::json!({ "id": "pay-1", "amount": { "value": "15.00" } });
/// let error = monime_events::EventData::from_value("payment", &data).unwrap_err();
/// assert_eq!(error.path(), "data.amount.value");
/// assert!(error.to_string().contains("`data.amount.value`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    object_type: String,
    path: String,
    message: String,
}

impl DecodeError {
    /// The `object.type` `data` was decoded as.
    pub fn object_type(&self) -> &str {
        &self.object_type
    }

    /// Where decoding failed, as a JSON path from `data` (`data.channel.last4`, `data.fees[0]`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong there.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `positions`: whether the text decoded is the caller's (a line and column in it mean
    /// something) or one written from their value (they would not).
    fn new(
        object_type: &str,
        error: serde_path_to_error::Error<serde_json::Error>,
        positions: bool,
    ) -> Self {
        let inner = error.path().to_string();
        let path = if inner == "." {
            "data".to_owned()
        } else {
            format!("data.{inner}")
        };
        let error = error.into_inner();
        let mut message = error.to_string();
        let place = format!(" at line {} column {}", error.line(), error.column());
        if !positions && let Some(without) = message.strip_suffix(&place) {
            message = without.to_owned();
        }
        // A union variant reports the path inside it first: `last4: invalid type ...`.
        let mut path = path;
        if let Some((inside, rest)) = message.split_once(": ")
            && !inside.contains(' ')
            && !inside.is_empty()
        {
            if inside != "." {
                path = format!("{path}.{inside}");
            }
            message = rest.to_owned();
        }
        DecodeError {
            object_type: object_type.to_owned(),
            path,
            message,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the `data` of a `{}` event does not decode at `{}`: {}",
            self.object_type, self.path, self.message
        )
    }
}

impl std::error::Error for DecodeError {}

impl EventData {
    /// Decodes `data` (already parsed) as the object `object_type` names; an `object_type`
    /// this release does not describe gives [`EventData::Unknown`].
    pub fn from_value(object_type: &str, data: &Value) -> Result<EventData, DecodeError> {
        match EventData::deserialize_as(object_type, data) {
            Ok(decoded) => Ok(decoded),
            // The error is explained by decoding the text again, tracking the path: one
            // tracking decoder for both entry points keeps the crate's build smaller.
            Err(_) => tracked(object_type, data.to_string().as_bytes(), false),
        }
    }

    /// Decodes `data` from its JSON text, without building a `serde_json::Value` first.
    pub fn from_json(object_type: &str, data: &str) -> Result<EventData, DecodeError> {
        // From bytes, like the one-pass envelope decoder of monime-signature: the same
        // deserializer type, so debug builds compile each object's decoder once for both.
        let mut deserializer = serde_json::Deserializer::from_slice(data.as_bytes());
        let decoded = EventData::deserialize_as(object_type, &mut deserializer)
            .and_then(|decoded| deserializer.end().map(|()| decoded));
        match decoded {
            Ok(decoded) => Ok(decoded),
            Err(_) => tracked(object_type, data.as_bytes(), true),
        }
    }
}

/// Decodes `data` again, tracking the path, to explain an error.
fn tracked(object_type: &str, data: &[u8], positions: bool) -> Result<EventData, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let mut track = serde_path_to_error::Track::new();
    EventData::deserialize_as(
        object_type,
        serde_path_to_error::Deserializer::new(&mut deserializer, &mut track),
    )
    .and_then(|decoded| deserializer.end().map(|()| decoded))
    .map_err(|error| {
        DecodeError::new(
            object_type,
            serde_path_to_error::Error::new(track.path(), error),
            positions,
        )
    })
}

/// Decodes `data` as the object `object_type` names inside a larger document, through any
/// serde deserializer (for an envelope parsed in one pass). Errors carry no path; decode
/// again with [`EventData::from_json`] to explain one.
#[derive(Debug, Clone, Copy)]
pub struct EventDataSeed<'a>(pub &'a str);

impl<'de> serde::de::DeserializeSeed<'de> for EventDataSeed<'_> {
    type Value = EventData;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<EventData, D::Error> {
        EventData::deserialize_as(self.0, deserializer)
    }
}
