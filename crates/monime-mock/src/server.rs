//! The HTTP server: shared state, the middleware every response passes through (request ids,
//! counters, faults), and an accept loop that can close a connection without answering (the
//! "drop after commit" fault).

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

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
            http: reqwest::Client::new(),
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
    pub fn record_delivery(&self, attempt: DeliveryAttempt) {
        let mut log = self.lock_deliveries();
        log.push_back(attempt);
        while log.len() > self.config.delivery_log_limit {
            log.pop_front();
        }
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
pub(crate) struct ConnectionKiller(Arc<Notify>);

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

/// What keeps slow or numerous peers from holding the server: see [`MockConfig`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub fn of(config: &MockConfig) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: config.header_read_timeout,
            body_read_timeout: config.body_read_timeout,
            max_connections: config.max_connections,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` turns true. Each connection gets a
/// [`ConnectionKiller`] so a handler can end it without writing a response.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, _peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                // Out of file descriptors and the like: wait a moment instead of spinning.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(&stream);
            continue;
        };
        let app = app.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let killer = ConnectionKiller::default();
            let per_request = killer.clone();
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(per_request.clone());
                    let body = |body| Deadline::new(body, limits.body_read_timeout);
                    app.clone()
                        .oneshot(request.map(|b| axum::body::Body::new(body(b))))
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = killer.0.notified() => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

/// Answers a connection over the limit with a 503 envelope and closes it, without a task:
/// the response fits the socket's send buffer, and a peer that does not read it loses it.
fn refuse(stream: &tokio::net::TcpStream) {
    let body = ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "too many open connections; retry later",
    )
    .to_json()
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// A request body that fails once `expires` has passed: hyper's timer covers only the
/// headers, so without it a peer that stalls mid-body would hold its connection's slot.
struct Deadline {
    body: hyper::body::Incoming,
    expires: Pin<Box<tokio::time::Sleep>>,
}

impl Deadline {
    fn new(body: hyper::body::Incoming, limit: Duration) -> Deadline {
        Deadline {
            body,
            expires: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl hyper::body::Body for Deadline {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if self.body.is_end_stream() {
            return Poll::Ready(None);
        }
        if self.expires.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("the request body did not arrive in time".into())));
        }
        Pin::new(&mut self.body).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
