//! The JSON body Monime POSTs: `{apiVersion, event {id, name, timestamp}, object {id, type},
//! data}`. Parse it only after the signature is verified.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::Error;

/// One delivered event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The API version the payload is shaped for, e.g. `caph.2025-08-23`.
    pub api_version: String,
    /// The event id (`wkd-...`): de-duplicate deliveries by it.
    pub id: String,
    /// The event name, e.g. `payment.completed`.
    pub name: EventName,
    /// When the event happened, in Unix seconds.
    pub timestamp: i64,
    /// The object the event is about.
    pub object: ObjectRef,
    /// The object itself, as Monime serialized it.
    pub data: Value,
}

/// The id and type of the object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The object's id, e.g. `pay-...`.
    pub id: String,
    /// The object type, e.g. `checkout_session` (`type` on the wire).
    #[serde(rename = "type")]
    pub kind: String,
}

impl Event {
    /// Parses a delivery body. Verify the signature first (see [`crate::Verifier`]).
    pub fn parse(body: &[u8]) -> Result<Event, Error> {
        let wire: WireEvent = serde_json::from_slice(body).map_err(|e| Error::InvalidBody {
            problem: format!("{e} (line {}, column {})", e.line(), e.column()),
        })?;
        Ok(Event {
            api_version: wire.api_version,
            id: wire.event.id,
            name: wire.event.name,
            timestamp: wire.event.timestamp.0,
            object: wire.object,
            data: wire.data,
        })
    }

    /// The body as Monime sends it (`event.timestamp` as a string of Unix seconds).
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireEventRef {
            api_version: &self.api_version,
            event: WireEventHeaderRef {
                id: &self.id,
                name: &self.name,
                timestamp: self.timestamp,
            },
            object: &self.object,
            data: &self.data,
        };
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// `data` decoded into the caller's own type for this event's object.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        T::deserialize(&self.data).map_err(|e| Error::InvalidBody {
            problem: format!("`data` does not fit the requested type: {e}"),
        })
    }

    /// When the event happened.
    pub fn occurred_at(&self) -> SystemTime {
        let seconds = u64::try_from(self.timestamp).unwrap_or(0);
        UNIX_EPOCH + Duration::from_secs(seconds)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEvent {
    api_version: String,
    event: WireEventHeader,
    object: ObjectRef,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
struct WireEventHeader {
    id: String,
    name: EventName,
    timestamp: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireEventRef<'a> {
    api_version: &'a str,
    event: WireEventHeaderRef<'a>,
    object: &'a ObjectRef,
    data: &'a Value,
}

#[derive(Serialize)]
struct WireEventHeaderRef<'a> {
    id: &'a str,
    name: &'a EventName,
    #[serde(serialize_with = "timestamp_as_string")]
    timestamp: i64,
}

fn timestamp_as_string<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Unix seconds sent as a string (what Monime does) or as a number.
struct Timestamp(i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n
                .as_i64()
                .map(Timestamp)
                .ok_or_else(|| D::Error::custom("event.timestamp must be whole Unix seconds")),
            Value::String(s) => {
                s.trim().parse().map(Timestamp).map_err(|_| {
                    D::Error::custom("event.timestamp must be a string of Unix seconds")
                })
            }
            _ => Err(D::Error::custom(
                "event.timestamp must be a string or a number",
            )),
        }
    }
}

macro_rules! event_names {
    ($($variant:ident => $text:literal,)*) => {
        /// An event name, `<object>.<transition>`. The set is open: names this crate does not
        /// know arrive as [`EventName::Unknown`] and round-trip unchanged.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventName {
            $(#[doc = concat!("`", $text, "`")] $variant,)*
            /// A name this crate does not know yet, kept verbatim.
            Unknown(String),
        }

        impl EventName {
            /// Every name this crate knows.
            pub const KNOWN: &'static [EventName] = &[$(EventName::$variant,)*];

            /// The name as Monime spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(EventName::$variant => $text,)*
                    EventName::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for EventName {
            fn from(text: &str) -> EventName {
                match text {
                    $($text => EventName::$variant,)*
                    other => EventName::Unknown(other.to_owned()),
                }
            }
        }
    };
}

event_names! {
    PaymentCreated => "payment.created",
    PaymentCompleted => "payment.completed",
    PaymentProcessingCompleted => "payment.processing_completed",
    PayoutCompleted => "payout.completed",
    PayoutFailed => "payout.failed",
    CheckoutSessionCompleted => "checkout_session.completed",
    CheckoutSessionExpired => "checkout_session.expired",
    CheckoutSessionCancelled => "checkout_session.cancelled",
    PaymentCodeProcessed => "payment_code.processed",
    PaymentCodeCompleted => "payment_code.completed",
    PaymentCodeExpired => "payment_code.expired",
}

impl EventName {
    /// The object part of the name (`payment` for `payment.completed`).
    pub fn object_type(&self) -> &str {
        let text = self.as_str();
        text.split_once('.').map_or(text, |(object, _)| object)
    }
}

impl From<String> for EventName {
    fn from(text: String) -> EventName {
        match EventName::from(text.as_str()) {
            EventName::Unknown(_) => EventName::Unknown(text),
            known => known,
        }
    }
}

impl std::str::FromStr for EventName {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<EventName, Self::Err> {
        Ok(EventName::from(text))
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(EventName::from(String::deserialize(deserializer)?))
    }
}
