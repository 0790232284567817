//! A stateful, in-memory emulator of Monime's Webhooks API that also delivers signed events.
//!
//! Start it inside a test, point a client at [`MonimeMock::base_url`], and drive deliveries
//! through `POST /_mock/events`:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let mock = monime_mock::MonimeMock::start().await?;
//! let response = reqwest::Client::new()
//!     .get(format!("{}/v1/webhooks", mock.base_url()))
//!     .bearer_auth("mon_test_example")
//!     .header("Monime-Space-Id", "spc-example")
//!     .send()
//!     .await
//!     .unwrap();
//! assert_eq!(response.status(), 200);
//! mock.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See the crate README for the binary, the `/_mock` controls and fault injection.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod api;
mod attempt;
mod clock;
mod dashboard;
mod delivery;
mod error;
mod faults;
mod outgoing;
mod process;
mod random;
pub mod serve;
mod server;
mod store;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::{DeliveryAttempt, DeliveryPolicy, ScheduledDelivery};
pub use error::ApiError;
pub use faults::Faults;
pub use outgoing::SkippedHeader;
pub use process::{LISTENING_LINE_PREFIX, MockProcess};
pub use server::CounterSnapshot;
pub use store::IDEMPOTENCY_WINDOW;

/// Everything the emulator can be configured with. `Debug` shows how many tokens are
/// accepted, never the tokens.
#[derive(Clone)]
pub struct MockConfig {
    /// Accepted bearer tokens; empty accepts any token starting `mon_` (test and live).
    pub tokens: Vec<String>,
    /// Injected errors, rate limits, drops and latency (none by default).
    pub faults: Faults,
    /// How events are delivered and retried.
    pub delivery: DeliveryPolicy,
    /// The time the emulator stamps and signs with.
    pub clock: Arc<dyn Clock>,
    /// Request bodies above this many bytes get 413.
    pub body_limit: usize,
    /// A connection whose request headers are not complete this long after it opened (or
    /// after its previous response) is closed.
    pub header_read_timeout: Duration,
    /// A request body not complete this long after its headers fails the request (400), and
    /// the connection is closed: a peer that stalls mid-body cannot hold a slot.
    pub body_read_timeout: Duration,
    /// A connection open this long finishes its request in progress and closes, so no peer
    /// keeps a slot for good.
    pub connection_lifetime: Duration,
    /// Open connections at most; one more is answered 503 `service_unavailable` and closed.
    pub max_connections: usize,
    /// Delivery attempts kept for [`MonimeMock::deliveries`] and `GET /_mock/deliveries`;
    /// beyond it the oldest are dropped first, so a long run stays bounded.
    pub delivery_log_limit: usize,
}

impl std::fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockConfig")
            .field("tokens", &format_args!("[{} redacted]", self.tokens.len()))
            .field("faults", &self.faults)
            .field("delivery", &self.delivery)
            .field("clock", &self.clock)
            .field("body_limit", &self.body_limit)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("connection_lifetime", &self.connection_lifetime)
            .field("max_connections", &self.max_connections)
            .field("delivery_log_limit", &self.delivery_log_limit)
            .finish()
    }
}

impl Default for MockConfig {
    fn default() -> MockConfig {
        MockConfig {
            tokens: Vec::new(),
            faults: Faults::none(),
            delivery: DeliveryPolicy::default(),
            clock: Arc::new(SystemClock),
            body_limit: 256 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(60),
            max_connections: 512,
            delivery_log_limit: 10_000,
        }
    }
}

/// A running emulator. Dropping it stops the server and closes its connections;
/// [`MonimeMock::shutdown`] does the same and waits until the server has stopped.
#[derive(Debug)]
pub struct MonimeMock {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MonimeMock {
    /// Starts an emulator with the default configuration on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<MonimeMock> {
        MonimeMock::start_with(MockConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts an emulator with `config` on `addr` (port 0 picks a free port).
    pub async fn start_with(config: MockConfig, addr: SocketAddr) -> std::io::Result<MonimeMock> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(server::Shared::new(config));
        let app = api::router(shared.clone());
        let (shutdown, stop) = watch::channel(false);
        let limits = serve::ServerLimits::of(&shared.config);
        let task = tokio::spawn(serve::serve(listener, app, limits, stop));
        Ok(MonimeMock {
            addr,
            shared,
            shutdown,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`: use it as the client's API URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters as of now, as `GET /_mock/stats` reports them.
    pub fn counters(&self) -> CounterSnapshot {
        self.shared.counters.snapshot()
    }

    /// How many webhooks exist now, in all spaces.
    pub fn webhook_count(&self) -> usize {
        self.shared.lock_store().webhook_count()
    }

    /// The delivery attempts kept (the latest [`MockConfig::delivery_log_limit`]), in the
    /// order they finished.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.shared.lock_deliveries().iter().cloned().collect()
    }

    /// Waits until no delivery is in flight (retries included), or `timeout` passes; returns
    /// whether the deliveries settled.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.shared.deliveries_in_flight.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Stops accepting connections and closes the open ones.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}
