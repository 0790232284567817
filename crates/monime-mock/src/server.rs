//! The emulator's shared state and the middleware every response passes through (request
//! ids, counters, faults, and closing a connection without answering: the "drop after commit"
//! fault). The accept loop is in `serve`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::Notify;

use monime_webhooks_api::spec::response_headers;

use crate::MockConfig;
use crate::attempt::DeliveryAttempt;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::random::SplitMix64;
use crate::store::Store;

pub(crate) struct Shared {
    pub config: MockConfig,
    pub clock: Arc<dyn Clock>,
    pub store: Mutex<Store>,
    pub counters: Counters,
    /// The latest `config.delivery_log_limit` attempts, oldest first.
    pub deliveries: Mutex<VecDeque<DeliveryAttempt>>,
    pub deliveries_in_flight: AtomicUsize,
    pub http: reqwest::Client,
    rng: Mutex<SplitMix64>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub fn new(config: MockConfig) -> Shared {
        Shared {
            clock: config.clock.clone(),
            rng: Mutex::new(SplitMix64::new(config.faults.seed)),
            config,
            store: Mutex::new(Store::default()),
            counters: Counters::default(),
            deliveries: Mutex::new(VecDeque::new()),
            deliveries_in_flight: AtomicUsize::new(0),
            // Monime does not follow a receiver's redirect: the attempt records the 3xx.
            // Following it would re-send the body and its signature to another host.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                // Building fails only where TLS cannot start, which `Client::new` would hit too.
                .unwrap_or_default(),
        }
    }

    /// The store; a panic elsewhere cannot leave it half-written (each change is one call),
    /// so a poisoned lock is still safe to use.
    pub fn lock_store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn lock_deliveries(&self) -> MutexGuard<'_, VecDeque<DeliveryAttempt>> {
        self.deliveries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends to the delivery log, dropping the oldest attempts beyond the configured limit.
    /// An attempt numbered 0 (a resend) is numbered here, under the log's lock, after the
    /// latest logged attempt of its event to its webhook: two resends at once get two numbers.
    pub fn record_delivery(&self, mut attempt: DeliveryAttempt) -> DeliveryAttempt {
        let mut log = self.lock_deliveries();
        if attempt.attempt == 0 {
            attempt.attempt = log
                .iter()
                .filter(|a| a.event_id == attempt.event_id && a.webhook_id == attempt.webhook_id)
                .map(|a| a.attempt)
                .max()
                .unwrap_or(0)
                + 1;
        }
        log.push_back(attempt.clone());
        while log.len() > self.config.delivery_log_limit {
            log.pop_front();
        }
        attempt
    }

    fn roll_fault(&self) -> Fault {
        let faults = &self.config.faults;
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let roll = rng.next_unit();
        let turn = rng.next_u64();
        faults.decide(roll, turn)
    }
}

/// Running totals, for tests that check the state against what happened.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub creates: AtomicU64,
    pub idempotent_replays: AtomicU64,
    pub injected_server_errors: AtomicU64,
    pub injected_rate_limits: AtomicU64,
    pub dropped_after_commit: AtomicU64,
    pub delivery_attempts: AtomicU64,
}

/// A copy of the emulator's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CounterSnapshot {
    /// Every request received, `/_mock` ones included.
    /// Requests to `/v1`.
    pub requests: u64,
    /// Webhooks created (replays excluded).
    pub creates: u64,
    /// Creates answered from the idempotency record.
    pub idempotent_replays: u64,
    /// Requests answered with an injected 500, 502 or 503.
    pub injected_server_errors: u64,
    /// Requests answered with an injected 429.
    pub injected_rate_limits: u64,
    /// Requests whose handler ran (a valid one took effect) and whose response was then
    /// dropped with the connection.
    pub dropped_after_commit: u64,
    /// Delivery attempts made to receivers, retries included.
    pub delivery_attempts: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CounterSnapshot {
        let read = |c: &AtomicU64| c.load(Ordering::SeqCst);
        CounterSnapshot {
            requests: read(&self.requests),
            creates: read(&self.creates),
            idempotent_replays: read(&self.idempotent_replays),
            injected_server_errors: read(&self.injected_server_errors),
            injected_rate_limits: read(&self.injected_rate_limits),
            dropped_after_commit: read(&self.dropped_after_commit),
            delivery_attempts: read(&self.delivery_attempts),
        }
    }
}

/// Closes the connection a request came on, without a response.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnectionKiller(pub(crate) Arc<Notify>);

/// Counts the request and stamps `Monime-Request-Id` on its response.
pub(crate) async fn stamp(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let number = shared.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let mut response = next.run(request).await;
    let id = format!(
        "req-{number:08}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(response_headers::MONIME_REQUEST_ID, value);
    }
    response
}

/// Applies the configured faults to `/v1` requests.
pub(crate) async fn inject_faults(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let faults = &shared.config.faults;
    if !faults.is_active() {
        return next.run(request).await;
    }
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    match shared.roll_fault() {
        Fault::None => next.run(request).await,
        Fault::ServerError(status) => {
            shared
                .counters
                .injected_server_errors
                .fetch_add(1, Ordering::SeqCst);
            let status = axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            let reason = match status.as_u16() {
                502 => "bad_gateway",
                503 => "service_unavailable",
                _ => "internal_error",
            };
            ApiError::new(
                status,
                reason,
                "injected fault: the emulator failed on purpose",
            )
            .into_response()
        }
        Fault::RateLimited => {
            shared
                .counters
                .injected_rate_limits
                .fetch_add(1, Ordering::SeqCst);
            let mut error = ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "injected fault: too many requests",
            );
            error.headers.push((
                response_headers::RETRY_AFTER,
                faults.retry_after_secs.to_string(),
            ));
            error.headers.push((
                response_headers::MONIME_RATE_LIMIT,
                "space-limit".to_owned(),
            ));
            error.into_response()
        }
        Fault::DropAfterCommit => {
            let killer = request.extensions().get::<ConnectionKiller>().cloned();
            let _committed = next.run(request).await;
            shared
                .counters
                .dropped_after_commit
                .fetch_add(1, Ordering::SeqCst);
            if let Some(killer) = killer {
                killer.0.notify_one();
            }
            // The connection task drops this future together with the connection.
            std::future::pending().await
        }
    }
}
