//! One delivery attempt as the emulator records it: kept by the server's shared state and
//! written by the deliveries, so it lives apart from both.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::outgoing::SkippedHeader;

/// One delivery attempt, as `GET /_mock/deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// The webhook delivered to.
    pub webhook_id: String,
    /// The event's id (`wkd-...`), the same on every attempt.
    pub event_id: String,
    /// The event name, e.g. `payment.completed`.
    pub event_name: String,
    /// The receiver's URL.
    pub url: String,
    /// 1 for the first try.
    pub attempt: u32,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why no status was received (connection refused, timeout).
    pub error: Option<String>,
    /// Where a 3xx answer pointed (not followed: a redirect is a failed attempt).
    pub location: Option<String>,
    /// The webhook's custom headers left out of this attempt, and why.
    pub skipped_headers: Vec<SkippedHeader>,
    /// When the attempt was made.
    pub time: DateTime<Utc>,
}
