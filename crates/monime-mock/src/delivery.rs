//! Event deliveries: for each enabled webhook subscribed to an event, a signed POST to its URL,
//! retried with bounded backoff, every attempt recorded.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use monime_signature::{Event, EventName, ObjectRef};
use serde::Serialize;
use serde_json::Value;

pub use crate::attempt::DeliveryAttempt;
use crate::clock::unix_seconds;
use crate::outgoing::delivery_headers;
use crate::server::Shared;
use crate::store::StoredWebhook;

/// How deliveries are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Attempts per delivery, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each later one.
    pub first_retry_delay: Duration,
    /// Upper bound of any wait.
    pub max_retry_delay: Duration,
    /// Per-attempt HTTP timeout.
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> DeliveryPolicy {
        DeliveryPolicy {
            max_attempts: 4,
            first_retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryPolicy {
    /// Quick retries for tests: 3 attempts, 20 ms apart at first.
    pub fn fast() -> DeliveryPolicy {
        DeliveryPolicy {
            max_attempts: 3,
            first_retry_delay: Duration::from_millis(20),
            max_retry_delay: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
        }
    }

    fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_retry_delay
            .saturating_mul(factor)
            .min(self.max_retry_delay)
    }
}

/// What `POST /_mock/events` accepted: one delivery per subscribed webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledDelivery {
    /// The subscribed webhook.
    pub webhook_id: String,
    /// The event's id (`wkd-...`).
    pub event_id: String,
}

/// Starts one delivery per subscriber and returns at once.
pub(crate) fn schedule(
    shared: &Arc<Shared>,
    subscribers: Vec<StoredWebhook>,
    name: &str,
    object: ObjectRef,
    data: Value,
) -> Vec<ScheduledDelivery> {
    let timestamp = unix_seconds(shared.clock.now());
    subscribers
        .into_iter()
        .map(|webhook| {
            let event = Event {
                api_version: monime_webhooks_api::API_VERSION.to_owned(),
                id: format!("wkd-{}", uuid::Uuid::new_v4().simple()),
                name: EventName::from(name),
                timestamp,
                object: object.clone(),
                data: data.clone(),
            };
            let scheduled = ScheduledDelivery {
                webhook_id: webhook.id.clone(),
                event_id: event.id.clone(),
            };
            shared.deliveries_in_flight.fetch_add(1, Ordering::SeqCst);
            let shared = shared.clone();
            tokio::spawn(async move {
                deliver(&shared, &webhook, &event).await;
                shared.deliveries_in_flight.fetch_sub(1, Ordering::SeqCst);
            });
            scheduled
        })
        .collect()
}

async fn deliver(shared: &Shared, webhook: &StoredWebhook, event: &Event) {
    // One copy of the body for every attempt the log keeps.
    let body: Arc<str> = String::from_utf8_lossy(&event.to_json()).into();
    let policy = &shared.config.delivery;
    for attempt in 1..=policy.max_attempts.max(1) {
        let sent = Sent {
            event_id: &event.id,
            event_name: event.name.as_str(),
            body: body.clone(),
            attempt,
        };
        let status = attempt_once(shared, webhook, &sent).await.status;
        if status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        if attempt < policy.max_attempts {
            tokio::time::sleep(policy.delay_after(attempt)).await;
        }
    }
}

/// What one attempt sends: the event's body, unchanged from attempt to attempt.
pub(crate) struct Sent<'a> {
    pub event_id: &'a str,
    pub event_name: &'a str,
    pub body: Arc<str>,
    /// The attempt's number; 0 to number it when it is logged (a resend).
    pub attempt: u32,
}

/// Makes one attempt, signed now, and records it in the delivery log.
pub(crate) async fn attempt_once(
    shared: &Shared,
    webhook: &StoredWebhook,
    sent: &Sent<'_>,
) -> DeliveryAttempt {
    let policy = &shared.config.delivery;
    let now = shared.clock.now();
    let signature = webhook
        .signer()
        .map(|signer| signer.sign(unix_seconds(now), sent.body.as_bytes()));
    let (headers, skipped_headers) = delivery_headers(webhook.headers.as_ref(), signature);
    let request_headers = headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.to_string(), value)
        })
        .collect();
    let started = std::time::Instant::now();
    let outcome = shared
        .http
        .post(&webhook.url)
        .timeout(policy.timeout)
        .headers(headers)
        .body(sent.body.as_bytes().to_vec())
        .send()
        .await;
    let (status, error, location, response_excerpt) = match outcome {
        Ok(response) => {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
            let status = response.status().as_u16();
            (Some(status), None, location, Some(excerpt(response).await))
        }
        Err(error) => (None, Some(error.to_string()), None, None),
    };
    shared
        .counters
        .delivery_attempts
        .fetch_add(1, Ordering::Relaxed);
    let record = DeliveryAttempt {
        id: format!("dla-{}", uuid::Uuid::new_v4().simple()),
        space_id: webhook.space_id.clone(),
        webhook_id: webhook.id.clone(),
        event_id: sent.event_id.to_owned(),
        event_name: sent.event_name.to_owned(),
        url: webhook.url.clone(),
        attempt: sent.attempt,
        status,
        error,
        location,
        skipped_headers,
        time: DateTime::<Utc>::from(now),
        request_headers,
        body: sent.body.clone(),
        latency_ms: (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0,
        response_excerpt,
    };
    shared.record_delivery(record)
}

/// The first 200 characters of an answer body, reading at most 4 KiB of it.
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < 4096 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes).chars().take(200).collect()
}
