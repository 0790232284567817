//! The JSON body Monime POSTs: `{apiVersion, event {id, name, timestamp}, object {id, type},
//! data}`. Parse it only after the signature is verified.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::Error;
use monime_events::{DecodeError, EventData};

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

    /// `data` decoded as the object `object.type` names: [`EventData::Payment`] for
    /// `payment`, [`EventData::Payout`] for `payout`, ..., and [`EventData::Unknown`] with `data`
    /// as received for an object type this release does not describe. The untyped
    /// [`Event::data`] stays available.
    ///
    /// ```
    /// # let body = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"payout.failed","timestamp":"1771803194"},"object":{"id":"pyt-1","type":"payout"},"data":{"id":"pyt-1","status":"failed","failureDetail":{"code":"fund_insufficient"}}}"#;
    /// use monime_signature::{Event, EventData, PayoutFailureDetailCode};
    ///
    /// let event = Event::parse(body)?;
    /// let EventData::Payout(payout) = event.typed_data()? else { panic!("a payout") };
    /// let code = payout.failure_detail.and_then(|d| d.code);
    /// assert_eq!(code, Some(PayoutFailureDetailCode::FundInsufficient));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typed_data(&self) -> Result<EventData, DecodeError> {
        EventData::from_value(&self.object.kind, &self.data)
    }

    /// When the event happened.
    pub fn occurred_at(&self) -> SystemTime {
        let seconds = u64::try_from(self.timestamp).unwrap_or(0);
        UNIX_EPOCH + Duration::from_secs(seconds)
    }
}

/// One delivered event with its `data` decoded straight from the body into its type, with no
/// `serde_json::Value` in between: the fast path when the typed object is all you need.
/// [`Event::parse`] then [`Event::typed_data`] gives the same `data` and keeps the raw one.
///
/// ```
/// # let body = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"payment.completed","timestamp":"1771803194"},"object":{"id":"pay-1","type":"payment"},"data":{"id":"pay-1","amount":{"currency":"SLE","value":1500}}}"#;
/// use monime_signature::{EventData, TypedEvent};
///
/// let event = TypedEvent::parse(body)?;
/// let EventData::Payment(payment) = &event.data else { panic!("a payment") };
/// assert_eq!(payment.amount.as_ref().and_then(|a| a.value), Some(1500));
/// # Ok::<(), monime_signature::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TypedEvent {
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
    /// The object itself, decoded by `object.type`.
    pub data: EventData,
}

impl TypedEvent {
    /// Parses a delivery body and decodes its `data`. Verify the signature first. A `data`
    /// that does not fit its type is an [`Error::InvalidBody`] naming the JSON path.
    pub fn parse(body: &[u8]) -> Result<TypedEvent, Error> {
        // One pass when `object` comes before `data` (Monime's order); any failure is decoded
        // again the careful way, which names the JSON path.
        match serde_json::from_slice::<OnePass>(body) {
            Ok(OnePass(event)) => Ok(event),
            Err(_) => TypedEvent::parse_in_two_passes(body),
        }
    }

    fn parse_in_two_passes(body: &[u8]) -> Result<TypedEvent, Error> {
        let wire: WireEventRaw<'_> =
            serde_json::from_slice(body).map_err(|e| Error::InvalidBody {
                problem: format!("{e} (line {}, column {})", e.line(), e.column()),
            })?;
        let raw = wire.data.map_or("null", |raw| raw.get());
        let data =
            EventData::from_json(&wire.object.kind, raw).map_err(|e| Error::InvalidBody {
                problem: e.to_string(),
            })?;
        Ok(TypedEvent {
            api_version: wire.api_version,
            id: wire.event.id,
            name: wire.event.name,
            timestamp: wire.event.timestamp.0,
            object: wire.object,
            data,
        })
    }
}

/// The envelope read in one pass: `data` is decoded as its type as soon as it is reached if
/// `object` came first, and kept as raw text to decode at the end otherwise.
struct OnePass(TypedEvent);

impl<'de> Deserialize<'de> for OnePass {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OnePassVisitor)
    }
}

struct OnePassVisitor;

#[allow(
    clippy::large_enum_variant,
    reason = "one short-lived value per parse; boxing it would add an allocation"
)]
enum Data<'a> {
    Typed(EventData),
    Raw(&'a serde_json::value::RawValue),
}

impl<'de> serde::de::Visitor<'de> for OnePassVisitor {
    type Value = OnePass;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Monime event")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OnePass, A::Error> {
        use serde::de::Error as _;
        let (mut api_version, mut header, mut object, mut data) = (None, None, None, None);
        while let Some(key) = map.next_key::<&str>()? {
            match key {
                "apiVersion" => api_version = Some(map.next_value::<String>()?),
                "event" => header = Some(map.next_value::<WireEventHeader>()?),
                "object" => object = Some(map.next_value::<ObjectRef>()?),
                "data" => {
                    data = Some(match &object {
                        Some(ObjectRef { kind, .. }) => {
                            Data::Typed(map.next_value_seed(monime_events::EventDataSeed(kind))?)
                        }
                        None => Data::Raw(map.next_value()?),
                    })
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let api_version = api_version.ok_or_else(|| A::Error::missing_field("apiVersion"))?;
        let header: WireEventHeader = header.ok_or_else(|| A::Error::missing_field("event"))?;
        let object = object.ok_or_else(|| A::Error::missing_field("object"))?;
        let data = match data {
            Some(Data::Typed(data)) => data,
            Some(Data::Raw(raw)) => EventData::from_json(&object.kind, raw.get())
                .map_err(|e| A::Error::custom(e.to_string()))?,
            None => EventData::from_json(&object.kind, "null")
                .map_err(|e| A::Error::custom(e.to_string()))?,
        };
        Ok(OnePass(TypedEvent {
            api_version,
            id: header.id,
            name: header.name,
            timestamp: header.timestamp.0,
            object,
            data,
        }))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEventRaw<'a> {
    api_version: String,
    event: WireEventHeader,
    object: ObjectRef,
    #[serde(borrow, default)]
    data: Option<&'a serde_json::value::RawValue>,
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
        deserializer.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl serde::de::Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Timestamp, E> {
        Ok(Timestamp(n))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Timestamp, E> {
        i64::try_from(n)
            .map(Timestamp)
            .map_err(|_| E::custom("event.timestamp must be whole Unix seconds"))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Timestamp, E> {
        Err(E::custom("event.timestamp must be whole Unix seconds"))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
        s.trim()
            .parse()
            .map(Timestamp)
            .map_err(|_| E::custom("event.timestamp must be a string of Unix seconds"))
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
