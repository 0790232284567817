//! A time as Monime sent it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A `date-time` value, kept as the text received so it serializes back unchanged and a
/// format Monime may change never fails decoding. [`Timestamp::to_datetime`] parses it.
///
/// ```
/// let t = monime_events::Timestamp::from("2025-08-23T10:15:00Z");
/// assert_eq!(t.to_datetime()?.timestamp(), 1755944100);
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// The text as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The time, read as RFC 3339 (what Monime sends).
    pub fn to_datetime(&self) -> Result<chrono::DateTime<chrono::FixedOffset>, chrono::ParseError> {
        chrono::DateTime::parse_from_rfc3339(&self.0)
    }
}

impl From<&str> for Timestamp {
    fn from(text: &str) -> Self {
        Timestamp(text.to_owned())
    }
}

impl From<String> for Timestamp {
    fn from(text: String) -> Self {
        Timestamp(text)
    }
}

impl<Tz: chrono::TimeZone> From<chrono::DateTime<Tz>> for Timestamp
where
    Tz::Offset: fmt::Display,
{
    fn from(time: chrono::DateTime<Tz>) -> Self {
        Timestamp(time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
