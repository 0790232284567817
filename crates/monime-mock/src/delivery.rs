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
    let body = event.to_json();
    let policy = &shared.config.delivery;
    for attempt in 1..=policy.max_attempts.max(1) {
        let now = shared.clock.now();
        let signature = webhook
            .signer()
            .map(|signer| signer.sign(unix_seconds(now), &body));
        let (headers, skipped_headers) = delivery_headers(webhook.headers.as_ref(), signature);
        let outcome = shared
            .http
            .post(&webhook.url)
            .timeout(policy.timeout)
            .headers(headers)
            .body(body.clone())
            .send()
            .await;
        let (status, error) = match &outcome {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let location = outcome.as_ref().ok().and_then(|response| {
            let location = response.headers().get(reqwest::header::LOCATION)?;
            Some(String::from_utf8_lossy(location.as_bytes()).into_owned())
        });
        shared
            .counters
            .delivery_attempts
            .fetch_add(1, Ordering::Relaxed);
        shared.record_delivery(DeliveryAttempt {
            webhook_id: webhook.id.clone(),
            event_id: event.id.clone(),
            event_name: event.name.to_string(),
            url: webhook.url.clone(),
            attempt,
            status,
            error,
            location,
            skipped_headers,
            time: DateTime::<Utc>::from(now),
        });
        if status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        if attempt < policy.max_attempts {
            tokio::time::sleep(policy.delay_after(attempt)).await;
        }
    }
}
