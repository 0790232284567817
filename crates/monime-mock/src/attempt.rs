//! One delivery attempt as the emulator records it: kept by the server's shared state and
//! written by the deliveries, so it lives apart from both.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::outgoing::SkippedHeader;

/// One delivery attempt, as `GET /_mock/deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// This attempt's id (`dla-...`), for `POST /_mock/deliveries/{id}/resend`.
    pub id: String,
    /// The space of the webhook.
    pub space_id: String,
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
    /// The request's headers as sent, in order (the signature and the webhook's custom
    /// headers among them).
    pub request_headers: Vec<(String, String)>,
    /// The request body, exactly as sent (shared by the event's attempts).
    #[serde(serialize_with = "as_text")]
    pub body: Arc<str>,
    /// How long the receiver took to answer (or to fail), in milliseconds.
    pub latency_ms: f64,
    /// The start of the receiver's answer body (at most 200 characters).
    pub response_excerpt: Option<String>,
}

fn as_text<S: serde::Serializer>(text: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(text)
}
