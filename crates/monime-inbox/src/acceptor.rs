//! Group accept: the deliveries of concurrent requests stored together.
//!
//! With [`PgQueue::accept`] each delivery costs a round trip, a statement and a commit of its
//! own, and under load those are most of a receiver's database time. An [`Acceptor`] runs one
//! task that stores what is waiting with one [`PgQueue::accept_many`]: the deliveries that
//! arrive while an INSERT is on its way go in the next one. A delivery that arrives alone is
//! stored at once, so nothing waits for a timer. Each caller learns its own delivery's fate,
//! once that is durable.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

#[cfg(feature = "deadpool")]
use crate::queue::{ACCEPT_MANY_TYPES, DeliveryColumns};
use crate::{Accepted, Delivery, PgQueue};

/// Deliveries stored by one INSERT at most.
const MOST_AT_ONCE: usize = 64;

/// Body bytes one INSERT carries at most (but always one delivery): far below the 1 GiB a
/// PostgreSQL message may hold, whatever the receiver's body limit.
const MOST_BYTES: usize = 16 << 20;

/// How long a delivery may wait for its INSERT to be answered, from [`Acceptor::accept`]. The
/// task stores for every request of the receiver, so a database that does not answer (a lost
/// network, a pool kept busy) must not hold them all: past this a delivery fails, and Monime
/// delivers it again.
pub const STORE_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Deliveries waiting for their INSERT at most; callers beyond wait to be queued.
const WAITING: usize = 4 * MOST_AT_ONCE;

/// Stores verified deliveries for the requests of a receiver, together when they arrive
/// together. Cheap to clone; the task ends when the last clone is dropped.
///
/// Make one at start-up, inside the Tokio runtime, with [`PgQueue::acceptor`] (a
/// deadpool-postgres pool, feature `deadpool`) or `PgQueue::acceptor_sqlx` (a `PgPool`,
/// feature `sqlx`), and call [`Acceptor::accept`] from each request:
///
/// ```no_run
/// # async fn receive(acceptor: &monime_inbox::Acceptor<sqlx::Error>, delivery: monime_signature::axum::VerifiedEvent) {
/// use monime_inbox::Delivery;
///
/// let stored = Delivery::new(&delivery.event, &delivery.raw, &delivery.signature);
/// let status = match acceptor.accept(&stored).await {
///     Ok(_) => 200,  // stored, or stored before
///     Err(_) => 503, // not known to be stored: Monime delivers it again
/// };
/// # }
/// ```
pub struct Acceptor<D> {
    waiting: mpsc::Sender<Waiting<D>>,
}

impl<D> Clone for Acceptor<D> {
    fn clone(&self) -> Acceptor<D> {
        Acceptor {
            waiting: self.waiting.clone(),
        }
    }
}

impl<D> fmt::Debug for Acceptor<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acceptor").finish_non_exhaustive()
    }
}

/// Why [`Acceptor::accept`] cannot say the delivery is stored. Answer Monime non-2xx: it
/// delivers again, and a redelivery of one that was stored after all is a duplicate.
#[derive(Debug)]
#[non_exhaustive]
pub enum AcceptError<D> {
    /// The database failed. Shared by the deliveries of one INSERT when it failed as a whole
    /// (the connection, say); a delivery the server refused on its own (one of several) gets
    /// the server's answer to it alone.
    Database(Arc<D>),
    /// The delivery waited [`STORE_TIME_LIMIT`] without an answer from the database.
    TimedOut,
    /// The acceptor's task is gone: its runtime shut down, or it panicked.
    Stopped,
}

impl<D: fmt::Display> fmt::Display for AcceptError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcceptError::Database(error) => {
                write!(f, "the delivery is not known to be stored: {error}")
            }
            AcceptError::TimedOut => write!(
                f,
                "the delivery is not known to be stored: the database did not answer within {} s",
                STORE_TIME_LIMIT.as_secs()
            ),
            AcceptError::Stopped => write!(f, "the acceptor's task has stopped"),
        }
    }
}

impl<D: std::error::Error + 'static> std::error::Error for AcceptError<D> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AcceptError::Database(error) => Some(&**error),
            AcceptError::TimedOut | AcceptError::Stopped => None,
        }
    }
}

/// A delivery waiting for its INSERT, owned, and where its fate goes.
struct Waiting<D> {
    key: String,
    event_id: String,
    event_name: String,
    body: Vec<u8>,
    signature: String,
    /// When its wait ends: [`STORE_TIME_LIMIT`] after its `accept` began.
    deadline: Instant,
    answer: oneshot::Sender<Result<Accepted, AcceptError<D>>>,
}

impl<D> Waiting<D> {
    fn delivery(&self) -> Delivery<'_> {
        Delivery {
            key: &self.key,
            event_id: &self.event_id,
            event_name: &self.event_name,
            body: &self.body,
            signature: &self.signature,
        }
    }
}

/// Where an [`Acceptor`] stores: a pool of one of the drivers.
pub(crate) trait Store: Send + Sync + 'static {
    type Error: Send + Sync + 'static;

    fn store(
        &self,
        queue: &PgQueue,
        deliveries: &[Delivery<'_>],
    ) -> impl Future<Output = Result<Vec<Accepted>, Self::Error>> + Send;

    /// Whether the server answered with this error, refusing the statement; then each
    /// delivery is tried on its own, so one the server refuses fails alone.
    fn answered(error: &Self::Error) -> bool;
}

impl<D: Send + Sync + 'static> Acceptor<D> {
    /// Spawns the task that stores into `queue` through `store`.
    pub(crate) fn spawn(queue: PgQueue, store: impl Store<Error = D>) -> Acceptor<D> {
        let (waiting, received) = mpsc::channel(WAITING);
        tokio::spawn(run(queue, store, received));
        Acceptor { waiting }
    }

    /// Stores `delivery` (with the deliveries waiting with it) and says what became of it, once
    /// that is durable: answer Monime 2xx for both [`Accepted`]s.
    pub async fn accept(&self, delivery: &Delivery<'_>) -> Result<Accepted, AcceptError<D>> {
        let (answer, fate) = oneshot::channel();
        let waiting = Waiting {
            key: delivery.key.to_owned(),
            event_id: delivery.event_id.to_owned(),
            event_name: delivery.event_name.to_owned(),
            body: delivery.body.to_vec(),
            signature: delivery.signature.to_owned(),
            deadline: Instant::now() + STORE_TIME_LIMIT,
            answer,
        };
        self.waiting
            .send(waiting)
            .await
            .map_err(|_| AcceptError::Stopped)?;
        fate.await.unwrap_or(Err(AcceptError::Stopped))
    }
}

async fn run<S: Store>(queue: PgQueue, store: S, mut received: mpsc::Receiver<Waiting<S::Error>>) {
    let mut waiting = Vec::with_capacity(MOST_AT_ONCE);
    while received.recv_many(&mut waiting, MOST_AT_ONCE).await > 0 {
        while !waiting.is_empty() {
            let batch: Vec<Waiting<S::Error>> = waiting.drain(..within_bytes(&waiting)).collect();
            store_batch(&queue, &store, batch).await;
        }
    }
}

/// How many of the first deliveries of `waiting` one INSERT takes: at least one, and no more
/// than [`MOST_BYTES`] of bodies.
fn within_bytes<D>(waiting: &[Waiting<D>]) -> usize {
    let mut bytes = 0;
    let fitting = waiting
        .iter()
        .take_while(|w| {
            bytes += w.body.len();
            bytes <= MOST_BYTES
        })
        .count();
    fitting.max(1)
}

/// Stores `batch` in one INSERT and tells each caller its delivery's fate. When the server
/// refuses the INSERT, each delivery is stored on its own, so one it refuses fails alone.
async fn store_batch<S: Store>(queue: &PgQueue, store: &S, batch: Vec<Waiting<S::Error>>) {
    let deadline = batch
        .iter()
        .map(|w| w.deadline)
        .min()
        .unwrap_or_else(Instant::now);
    let deliveries: Vec<Delivery<'_>> = batch.iter().map(Waiting::delivery).collect();
    let stored = store_until(deadline, queue, store, &deliveries).await;
    drop(deliveries);
    match stored {
        Ok(accepted) => {
            for (waiting, accepted) in batch.into_iter().zip(accepted) {
                let _ = waiting.answer.send(Ok(accepted));
            }
        }
        Err(AcceptError::Database(error)) if S::answered(&error) && batch.len() > 1 => {
            for waiting in batch {
                let alone =
                    store_until(waiting.deadline, queue, store, &[waiting.delivery()]).await;
                let _ = waiting.answer.send(alone.map(|accepted| accepted[0]));
            }
        }
        Err(error) => {
            for waiting in batch {
                let _ = waiting.answer.send(Err(error.shared()));
            }
        }
    }
}

async fn store_until<S: Store>(
    deadline: Instant,
    queue: &PgQueue,
    store: &S,
    deliveries: &[Delivery<'_>],
) -> Result<Vec<Accepted>, AcceptError<S::Error>> {
    match tokio::time::timeout_at(deadline, store.store(queue, deliveries)).await {
        Ok(Ok(accepted)) => Ok(accepted),
        Ok(Err(error)) => Err(AcceptError::Database(Arc::new(error))),
        Err(_) => Err(AcceptError::TimedOut),
    }
}

impl<D> AcceptError<D> {
    /// The same error, for another delivery of the same INSERT.
    fn shared(&self) -> AcceptError<D> {
        match self {
            AcceptError::Database(error) => AcceptError::Database(error.clone()),
            AcceptError::TimedOut => AcceptError::TimedOut,
            AcceptError::Stopped => AcceptError::Stopped,
        }
    }
}

#[cfg(feature = "deadpool")]
impl Store for deadpool_postgres::Pool {
    type Error = deadpool_postgres::PoolError;

    async fn store(
        &self,
        queue: &PgQueue,
        deliveries: &[Delivery<'_>],
    ) -> Result<Vec<Accepted>, deadpool_postgres::PoolError> {
        // The pool's statement cache keeps the INSERT prepared on each connection.
        let conn = self.get().await?;
        let insert = conn
            .prepare_typed_cached(&queue.accept_many, &ACCEPT_MANY_TYPES)
            .await?;
        let columns = DeliveryColumns::of(deliveries);
        let stored = conn.query(&insert, &columns.params()).await?;
        Ok(queue.accepted(deliveries, &stored))
    }

    fn answered(error: &deadpool_postgres::PoolError) -> bool {
        matches!(error, deadpool_postgres::PoolError::Backend(e) if e.as_db_error().is_some())
    }
}

#[cfg(feature = "sqlx")]
impl Store for sqlx::PgPool {
    type Error = sqlx::Error;

    async fn store(
        &self,
        queue: &PgQueue,
        deliveries: &[Delivery<'_>],
    ) -> Result<Vec<Accepted>, sqlx::Error> {
        queue.accept_many_sqlx(self, deliveries).await
    }

    fn answered(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(_))
    }
}

impl PgQueue {
    /// An [`Acceptor`] storing into this queue through a deadpool-postgres pool.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, like `tokio::spawn`; its time driver must be on (the
    /// acceptor keeps [`STORE_TIME_LIMIT`] with it).
    #[cfg(feature = "deadpool")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deadpool")))]
    pub fn acceptor(
        &self,
        pool: deadpool_postgres::Pool,
    ) -> Acceptor<deadpool_postgres::PoolError> {
        Acceptor::spawn(self.clone(), pool)
    }

    /// [`PgQueue::acceptor`] through a sqlx `PgPool`.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, like `tokio::spawn`; its time driver must be on (the
    /// acceptor keeps [`STORE_TIME_LIMIT`] with it).
    #[cfg(feature = "sqlx")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
    pub fn acceptor_sqlx(&self, pool: sqlx::PgPool) -> Acceptor<sqlx::Error> {
        Acceptor::spawn(self.clone(), pool)
    }
}
