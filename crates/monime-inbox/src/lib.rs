//! Process each Monime webhook event exactly once, even with several receivers.
//!
//! Monime delivers every event at least once and retries until your endpoint answers 2xx, so
//! the same event can arrive twice, on two replicas at the same time, or again after your
//! handler failed half-way. An inbox records the `event.id`s already processed:
//!
//! - [`MemoryInbox`]: one process, bounded and with a TTL. Enough for a single replica.
//! - `PgInbox` (feature `postgres`): a table in the PostgreSQL database the replicas share.
//!   The claim is a row inserted in the *same transaction* as the handler's own writes, so
//!   either both commit (processed once) or both roll back (the retry processes it).
//! - `PgQueue` (feature `postgres`): the durable path. The receiver stores each verified
//!   delivery and answers at once; workers in any number of processes process the stored
//!   deliveries later, with retries, backoff and a dead-letter status. An `Acceptor`
//!   (feature `sqlx` or `deadpool`) stores the deliveries of concurrent requests together.
//!
//! The tables' DDL ships as plain SQL migrations ([`INBOX_MIGRATION`], [`QUEUE_MIGRATION`],
//! the files under `migrations/`) for your own migration tool.
//!
//! ```
//! use std::time::Duration;
//! use monime_inbox::{MemoryInbox, Outcome};
//!
//! # tokio_test_block_on(async {
//! let inbox = MemoryInbox::new(10_000, Duration::from_secs(24 * 3600));
//! let first = inbox.process("wkd-1", async || Ok::<_, std::io::Error>("shipped")).await?;
//! let again = inbox.process("wkd-1", async || Ok::<_, std::io::Error>("shipped")).await?;
//! assert_eq!(first, Outcome::Processed("shipped"));
//! assert_eq!(again, Outcome::Duplicate);
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! Answer Monime 2xx for [`Outcome::Processed`] and [`Outcome::Duplicate`], and a non-2xx
//! status (so Monime retries) when the handler failed or for [`Outcome::InProgress`].

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "deadpool", feature = "sqlx"))]
mod acceptor;
mod dedupe;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod queue;
#[cfg(feature = "postgres")]
mod retention;
#[cfg(feature = "postgres")]
mod rows;
mod schema;
#[cfg(feature = "sqlx")]
mod with_sqlx;

#[cfg(any(feature = "deadpool", feature = "sqlx"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "deadpool", feature = "sqlx"))))]
pub use acceptor::{AcceptError, Acceptor, STORE_TIME_LIMIT};
pub use dedupe::DedupeKey;
pub use memory::{Claim, MemoryClaim, MemoryInbox};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{PgInbox, PgProcessError};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use queue::{Accepted, Delivery, Job, JobReport, PgQueue, RetryPolicy, Status, Stored, Worked};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use retention::{MONIME_RETRY_WINDOW, PruneError, RETENTION_FLOOR};
pub use schema::{INBOX_MIGRATION, InvalidTableName, QUEUE_MIGRATION};

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// This delivery was the one that processed the event; the handler's result.
    Processed(T),
    /// The event was processed before: nothing ran. Answer 2xx so Monime stops retrying.
    Duplicate,
    /// Another delivery of the event is being processed right now ([`MemoryInbox`] only; the
    /// PostgreSQL inbox waits for the other transaction instead). Answer non-2xx: if that
    /// delivery fails, Monime's retry of this one processes the event.
    InProgress,
}
