//! The durable path: accept a verified delivery by storing it, answer Monime at once, and
//! process it later with workers.
//!
//! A handler that runs inside Monime's HTTP request makes Monime wait; a slow one makes it
//! time out and deliver again. [`PgQueue::accept`] instead stores the raw delivery in one
//! INSERT keyed by its dedupe key, so the receiver answers 2xx in a few milliseconds and a
//! redelivery adds no second row. Workers, in any number of processes sharing the database,
//! then [`PgQueue::work`]:
//!
//! - a **lease** (one committed statement, `FOR UPDATE SKIP LOCKED`) takes a batch of due rows
//!   and counts an attempt on each;
//! - each row is then processed in **one transaction**: the handler runs in it, and its last
//!   statement marks the row done, so the handler's writes commit exactly when the row becomes
//!   done;
//! - a failure rolls both back and makes the row due again after an exponential backoff with
//!   jitter; after [`RetryPolicy::max_attempts`] the row is set aside as `dead`, keeping the
//!   last error, until an operator retries it ([`PgQueue::retry`]);
//! - a worker that dies mid-handler leaves its transaction to PostgreSQL, which rolls it
//!   back; its lease runs out after [`RetryPolicy::lease`] and another worker takes the row.
//!
//! Metrics go through `tracing` events (target `monime_inbox`) with fields named
//! `monotonic_counter.monime_inbox_<what>` and `histogram.monime_inbox_lag_seconds`, the
//! convention tracing-opentelemetry's metrics layer reads: accepted, duplicate and processed
//! (with the lag) at debug level, retried at info, dead_lettered at warn; enable the target's
//! debug level to count them all. Each job runs in a span `monime_inbox.process` with its
//! key, event id and attempt.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use monime_signature::Event;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient, Transaction};
use tracing::Instrument;

use crate::PgProcessError;
use crate::postgres::commit_if;
use crate::retention::{PruneError, checked_age};
use crate::rows::Columns;
use crate::schema::{self, InvalidTableName, QUEUE_MIGRATION, QUEUE_TABLE};

/// A job transaction's mark: set at its start and gone when it ends, so the statement that
/// marks the job's row done matches only inside the transaction the job began, and a handler
/// that ended it (a `ROLLBACK` of its own) cannot have the row marked done without its writes.
/// Random, so that no setting made elsewhere (`ALTER ROLE ... SET`) stands in for it.
pub(crate) struct JobMark(String);

impl JobMark {
    pub(crate) fn new() -> JobMark {
        JobMark(format!("{:016x}", fastrand::u64(..)))
    }

    /// The statement that sets it (hex digits: nothing to escape).
    pub(crate) fn set(&self) -> String {
        format!("SET LOCAL monime_inbox.job TO '{}'", self.0)
    }

    pub(crate) fn value(&self) -> &str {
        &self.0
    }
}

/// The deliveries table of one receiver application, as
/// [`QUEUE_MIGRATION`](crate::QUEUE_MIGRATION) creates it.
///
/// ```no_run
/// # async fn run(client: &mut tokio_postgres::Client, body: &[u8], header: &str) -> Result<(), Box<dyn std::error::Error>> {
/// use monime_inbox::{Delivery, PgQueue, RetryPolicy};
/// use monime_signature::Verifier;
///
/// let queue = PgQueue::new("monime_deliveries")?;
/// queue.create_table(&*client).await?;
///
/// // In the receiver: verify, store, answer 2xx.
/// let event = Verifier::hs256("whsec_...")?.verify_and_parse(header, body)?;
/// queue.accept(&*client, &Delivery::new(&event, body, header)).await?;
///
/// // In a worker: process what is due, each job in its own transaction.
/// let policy = RetryPolicy::default();
/// for job in queue
///     .work(client, &policy, async |tx, job| {
///         let event = job.event()?;
///         tx.execute("UPDATE orders SET paid = true WHERE payment = $1", &[&event.object.id])
///             .await?;
///         Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
///     })
///     .await?
/// {
///     println!("{}: {}", job.key, job.outcome);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PgQueue {
    pub(crate) create: String,
    pub(crate) accept: String,
    pub(crate) accept_many: String,
    pub(crate) lease: String,
    pub(crate) done: String,
    pub(crate) failed: String,
    pub(crate) release: String,
    pub(crate) list: String,
    pub(crate) show: String,
    pub(crate) retry: String,
    pub(crate) prune: String,
}

/// One verified delivery, as [`PgQueue::accept`] stores it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// What makes two deliveries the same event: the event id unless the receiver chose
    /// another key ([`crate::DedupeKey`]).
    pub key: &'a str,
    /// The event id (`wkd-...`).
    pub event_id: &'a str,
    /// The event name, e.g. `payment.completed`.
    pub event_name: &'a str,
    /// The body exactly as received.
    pub body: &'a [u8],
    /// The `Monime-Signature` header that covered the body, kept so a stored delivery can be
    /// verified again.
    pub signature: &'a str,
}

impl<'a> Delivery<'a> {
    /// The delivery of `event` (parsed from `body` after verifying `signature`), keyed by its
    /// event id.
    pub fn new(event: &'a Event, body: &'a [u8], signature: &'a str) -> Delivery<'a> {
        Delivery {
            key: &event.id,
            event_id: &event.id,
            event_name: event.name.as_str(),
            body,
            signature,
        }
    }

    /// The same delivery deduplicated by `key` instead of its event id.
    pub fn keyed_by(self, key: &'a str) -> Delivery<'a> {
        Delivery { key, ..self }
    }
}

/// Deliveries as the columns of [`PgQueue::accept_many`]'s INSERT.
pub(crate) struct DeliveryColumns<'a> {
    pub(crate) keys: Vec<&'a str>,
    pub(crate) event_ids: Vec<&'a str>,
    pub(crate) event_names: Vec<&'a str>,
    pub(crate) bodies: Vec<&'a [u8]>,
    pub(crate) signatures: Vec<&'a str>,
}

/// The types of [`DeliveryColumns::params`].
pub(crate) const ACCEPT_MANY_TYPES: [Type; 5] = [
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::BYTEA_ARRAY,
    Type::TEXT_ARRAY,
];

impl<'a> DeliveryColumns<'a> {
    /// The INSERT's parameters, in order.
    pub(crate) fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [
            &self.keys,
            &self.event_ids,
            &self.event_names,
            &self.bodies,
            &self.signatures,
        ]
    }

    /// The columns of `deliveries` in the order of their keys: two INSERTs sharing keys then
    /// take their locks in the same order, and neither waits for the other in a deadlock.
    pub(crate) fn of(deliveries: &[Delivery<'a>]) -> DeliveryColumns<'a> {
        let mut deliveries = deliveries.to_vec();
        deliveries.sort_by_key(|delivery| delivery.key);
        DeliveryColumns {
            keys: deliveries.iter().map(|d| d.key).collect(),
            event_ids: deliveries.iter().map(|d| d.event_id).collect(),
            event_names: deliveries.iter().map(|d| d.event_name).collect(),
            bodies: deliveries.iter().map(|d| d.body).collect(),
            signatures: deliveries.iter().map(|d| d.signature).collect(),
        }
    }
}

/// What [`PgQueue::accept`] did with a delivery. Answer Monime 2xx for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored: a worker will process it.
    Stored,
    /// A delivery with the same key was stored before; nothing was written.
    Duplicate,
}

/// How workers lease, retry and give up.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per delivery, the first included (at least 1). After the last failed one the
    /// row is `dead`.
    pub max_attempts: u32,
    /// The wait after the first failure, doubled after each later one.
    pub first_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
    /// How long a leased row stays with its worker. A worker that dies leaves its rows for
    /// this long. A batch's jobs run one after the other: once half the lease has gone by,
    /// [`PgQueue::work`] gives the batch's unstarted rows back instead of starting them, so a
    /// handler must finish well within half of it. A handler that outlives its lease may run
    /// alongside the next attempt's, and only one of them commits (the other ends as
    /// [`Worked::LeaseLost`]), but what they do outside the database happens twice; on the
    /// last attempt, the next lease sets the row aside as dead instead.
    pub lease: Duration,
    /// Rows leased at once by [`PgQueue::work`].
    pub batch: u32,
}

impl Default for RetryPolicy {
    /// 8 attempts over about 4 hours (10 s, then doubling up to 1 h), 5-minute leases,
    /// batches of 16.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
            batch: 16,
        }
    }
}

impl RetryPolicy {
    /// The wait before the attempt after failed attempt `attempt` (1 for the first):
    /// `first_delay * 2^(attempt-1)`, capped at `max_delay`, of which a random half is taken
    /// off so that rows failing together do not come back together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .first_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(31));
        let full = doubled.min(self.max_delay);
        full / 2 + full.mul_f64(fastrand::f64() / 2.0)
    }
}

/// A leased delivery, handed to the handler.
#[derive(Debug)]
pub struct Job {
    /// The dedupe key the delivery was stored under.
    pub key: String,
    /// The event id.
    pub event_id: String,
    /// The event name.
    pub event_name: String,
    /// The body exactly as received.
    pub body: Vec<u8>,
    /// The `Monime-Signature` header it came with.
    pub signature: String,
    /// This attempt's number, 1 for the first.
    pub attempt: u32,
    /// When the receiver stored it.
    pub received_at: SystemTime,
    /// Set by [`Job::set_aside`].
    give_up: std::sync::atomic::AtomicBool,
}

impl Job {
    /// Asks that this job be set aside as `dead` at once if the handler fails, instead of
    /// retried: for a delivery that can never succeed, such as one whose object does not
    /// decode. It stays in the table for an operator, like any dead delivery.
    pub fn set_aside(&self) {
        self.give_up
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The most attempts this job may take: its own number once set aside.
    pub(crate) fn max_attempts(&self, limits: &Limits) -> i32 {
        if self.give_up.load(std::sync::atomic::Ordering::Relaxed) {
            self.token()
        } else {
            limits.max_attempts
        }
    }

    /// A leased row, and whether the lease set it aside as dead instead.
    pub(crate) fn from_lease(row: &impl Columns) -> (Job, bool) {
        let job = Job {
            key: row.text(0),
            event_id: row.text(1),
            event_name: row.text(2),
            body: row.bytes(3),
            signature: row.text(4),
            attempt: row.int(5).unsigned_abs(),
            received_at: row.time(7),
            give_up: std::sync::atomic::AtomicBool::new(false),
        };
        (job, row.text(6) == "dead")
    }

    /// The attempt number as the row stores it: the lease's token.
    pub(crate) fn token(&self) -> i32 {
        i32::try_from(self.attempt).unwrap_or(i32::MAX)
    }

    /// The body parsed as an event; [`Event::typed_data`] then decodes its object.
    pub fn event(&self) -> Result<Event, monime_signature::Error> {
        Event::parse(&self.body)
    }
}

/// What became of one leased job in [`PgQueue::work`].
#[derive(Debug)]
pub enum Worked<T, E, D = tokio_postgres::Error> {
    /// The handler's writes and the row's `done` committed together; the handler's result.
    Processed(T),
    /// The attempt failed and was rolled back; the row is due again after `after`.
    Retrying {
        /// Why.
        error: PgProcessError<E, D>,
        /// The wait before the next attempt.
        after: Duration,
    },
    /// The last attempt failed: the row is `dead`, with this error as its `last_error`.
    Dead(PgProcessError<E, D>),
    /// The row's last lease ran out without an answer (its worker died, or its handler
    /// outlived the lease) and no attempt is left: it was set aside as `dead`.
    Expired,
    /// The row is no longer this lease's (the lease ran out and another worker took it, or an
    /// operator changed the row): nothing of this attempt was committed, and its failure, if
    /// it failed, could not be recorded on the row.
    LeaseLost,
    /// `COMMIT` was sent but its answer never came: the row is either `done` with the
    /// handler's writes or, when the lease runs out, processed again.
    OutcomeUnknown(D),
}

impl<T, E: fmt::Display, D: fmt::Display> fmt::Display for Worked<T, E, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Worked::Processed(_) => write!(f, "processed"),
            Worked::Retrying { error, after } => {
                write!(f, "failed, retrying in {} ms: {error}", after.as_millis())
            }
            Worked::Dead(error) => write!(f, "failed on its last attempt, set aside: {error}"),
            Worked::Expired => write!(f, "its last lease ran out, set aside"),
            Worked::LeaseLost => {
                write!(
                    f,
                    "lease lost to another worker, nothing of this attempt was committed"
                )
            }
            Worked::OutcomeUnknown(error) => write!(f, "commit outcome unknown: {error}"),
        }
    }
}

/// One job of a [`PgQueue::work`] batch.
#[derive(Debug)]
pub struct JobReport<T, E, D = tokio_postgres::Error> {
    /// The row's key.
    pub key: String,
    /// The event id.
    pub event_id: String,
    /// This attempt's number.
    pub attempt: u32,
    /// What became of it.
    pub outcome: Worked<T, E, D>,
}

/// Where a stored delivery stands, as [`PgQueue::list`] filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a worker: never tried, or failed and due again later.
    Pending,
    /// Pending after at least one attempt (a subset of `Pending`, including a row whose
    /// attempt is running now).
    Failed,
    /// Set aside after its last attempt; only [`PgQueue::retry`] brings it back.
    Dead,
    /// Processed.
    Done,
}

impl Status {
    /// The name used in the table and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Failed => "failed",
            Status::Dead => "dead",
            Status::Done => "done",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Status, String> {
        [Status::Pending, Status::Failed, Status::Dead, Status::Done]
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not a status: use pending, failed, dead or done"))
    }
}

/// A stored delivery as an operator sees it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The dedupe key.
    pub key: String,
    /// The event id.
    pub event_id: String,
    /// The event name.
    pub event_name: String,
    /// `pending`, `failed`, `dead` or `done`.
    pub status: Status,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was stored.
    pub received_at: SystemTime,
    /// When it is due (pending rows).
    pub due_at: SystemTime,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// The body's length in bytes.
    pub body_len: usize,
}

const STORED_COLUMNS: &str = "key, event_id, event_name, status, attempts, \
                              extract(epoch FROM received_at)::float8, \
                              extract(epoch FROM due_at)::float8, last_error, octet_length(body)";

impl Stored {
    pub(crate) fn from_row(row: &impl Columns) -> Stored {
        let attempts = row.int(4);
        let status = match row.text(3).as_str() {
            "done" => Status::Done,
            "dead" => Status::Dead,
            _ if attempts > 0 => Status::Failed,
            _ => Status::Pending,
        };
        Stored {
            key: row.text(0),
            event_id: row.text(1),
            event_name: row.text(2),
            status,
            attempts: attempts.unsigned_abs(),
            received_at: row.time(5),
            due_at: row.time(6),
            last_error: row.maybe_text(7),
            body_len: usize::try_from(row.int(8)).unwrap_or(0),
        }
    }
}

/// The counters [`PgQueue`] reports through `tracing`.
#[derive(Clone, Copy)]
enum Count {
    Accepted,
    Duplicate,
    Retried,
    DeadLettered,
}

impl Count {
    fn record(self, key: &str) {
        match self {
            Count::Accepted => tracing::debug!(
                target: "monime_inbox",
                key,
                monotonic_counter.monime_inbox_accepted = 1u64,
            ),
            Count::Duplicate => tracing::debug!(
                target: "monime_inbox",
                key,
                monotonic_counter.monime_inbox_duplicate = 1u64,
            ),
            Count::Retried => tracing::info!(
                target: "monime_inbox",
                key,
                monotonic_counter.monime_inbox_retried = 1u64,
            ),
            Count::DeadLettered => tracing::warn!(
                target: "monime_inbox",
                key,
                monotonic_counter.monime_inbox_dead_lettered = 1u64,
            ),
        }
    }
}

/// A [`RetryPolicy`] as the statements' parameters.
pub(crate) struct Limits {
    pub(crate) batch: i64,
    pub(crate) lease_secs: f64,
    pub(crate) max_attempts: i32,
}

impl Limits {
    pub(crate) fn of(policy: &RetryPolicy) -> Limits {
        Limits {
            batch: i64::from(policy.batch.max(1)),
            lease_secs: policy.lease.as_secs_f64(),
            max_attempts: i32::try_from(policy.max_attempts.max(1)).unwrap_or(i32::MAX),
        }
    }
}

impl Job {
    /// The span a job runs in.
    pub(crate) fn span(&self) -> tracing::Span {
        tracing::info_span!(
            target: "monime_inbox",
            "monime_inbox.process",
            key = self.key,
            event_id = self.event_id,
            attempt = self.attempt
        )
    }

    pub(crate) fn report<T, E, D>(self, outcome: Worked<T, E, D>) -> JobReport<T, E, D> {
        JobReport {
            key: self.key,
            event_id: self.event_id,
            attempt: self.attempt,
            outcome,
        }
    }
}

/// Whether a batch leased at `leased_at` has used half its lease: its unstarted rows are then
/// given back rather than started late, so a slow batch does not spend their attempts.
pub(crate) fn out_of_time(leased_at: Instant, policy: &RetryPolicy) -> bool {
    leased_at.elapsed() > policy.lease / 2
}

/// A job whose lease set it aside: counted as dead-lettered.
pub(crate) fn expired_outcome<T, E, D>(job: &Job) -> Worked<T, E, D> {
    Count::DeadLettered.record(&job.key);
    Worked::Expired
}

/// A job that committed: counted, with its lag since it was accepted.
pub(crate) fn processed<T, E, D>(job: &Job, value: T) -> Worked<T, E, D> {
    let lag = SystemTime::now()
        .duration_since(job.received_at)
        .unwrap_or_default();
    tracing::debug!(
        target: "monime_inbox",
        key = job.key,
        monotonic_counter.monime_inbox_processed = 1u64,
        histogram.monime_inbox_lag_seconds = lag.as_secs_f64(),
    );
    Worked::Processed(value)
}

/// What a job whose handler and commit have ended comes to: `Ok(Ok(outcome))` to report now
/// (processed, or a commit whose answer was lost), `Ok(Err(failure))` to record on the row as
/// a failed attempt (the handler failed, the transaction was aborted, or the server refused
/// the COMMIT), `Err` when the connection failed (the lease brings the row back).
/// `answered` tells a driver error the server sent from a failed connection.
#[allow(
    clippy::type_complexity,
    reason = "the three ends of a job, in the driver's types"
)]
pub(crate) fn settle<T, E, D>(
    job: &Job,
    ended: Result<T, PgProcessError<E, D>>,
    answered: impl Fn(&D) -> bool,
) -> Result<Result<Worked<T, E, D>, PgProcessError<E, D>>, D> {
    match ended {
        Ok(value) => Ok(Ok(processed(job, value))),
        Err(PgProcessError::OutcomeUnknown(error)) => Ok(Ok(Worked::OutcomeUnknown(error))),
        Err(PgProcessError::Database(error)) if !answered(&error) => Err(error),
        Err(failure) => Ok(Err(failure)),
    }
}

/// A failed job, once its failure was recorded: `status` is the row's status after the
/// record, `None` when the row was no longer this lease's.
pub(crate) fn failed<T, E, D>(
    job: &Job,
    status: Option<String>,
    error: PgProcessError<E, D>,
    after: Duration,
) -> Worked<T, E, D> {
    match status.as_deref() {
        Some("dead") => {
            Count::DeadLettered.record(&job.key);
            Worked::Dead(error)
        }
        Some(_) => {
            Count::Retried.record(&job.key);
            Worked::Retrying { error, after }
        }
        None => Worked::LeaseLost,
    }
}

impl PgQueue {
    /// The queue in table `table` (`name` or `schema.name`, lowercase).
    pub fn new(table: &str) -> Result<PgQueue, InvalidTableName> {
        let t = schema::table_name(table)?;
        Ok(PgQueue {
            create: schema::create(QUEUE_MIGRATION, QUEUE_TABLE, &t),
            accept: format!(
                "INSERT INTO {t} (key, event_id, event_name, body, signature) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING RETURNING 1"
            ),
            accept_many: format!(
                "INSERT INTO {t} (key, event_id, event_name, body, signature) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], \
                   $5::text[]) \
                 ON CONFLICT (key) DO NOTHING RETURNING key"
            ),
            // A row whose lease ran out with no attempt left is set aside here; any other
            // due row gets a lease and an attempt. The attempt count is the lease's token.
            lease: format!(
                "WITH due AS (SELECT key FROM {t} WHERE status = 'pending' AND due_at <= now() \
                   AND (leased_until IS NULL OR leased_until <= now()) \
                   ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 UPDATE {t} AS d SET \
                   status = CASE WHEN d.attempts >= $3 THEN 'dead' ELSE 'pending' END, \
                   attempts = CASE WHEN d.attempts >= $3 THEN d.attempts ELSE d.attempts + 1 END, \
                   leased_until = CASE WHEN d.attempts >= $3 THEN NULL \
                     ELSE now() + make_interval(secs => $2) END, \
                   last_error = CASE WHEN d.leased_until IS NULL THEN d.last_error \
                     ELSE 'attempt ' || d.attempts || ' ended without an answer: its worker \
                     stopped, or outlived its lease' END \
                 FROM due WHERE d.key = due.key \
                 RETURNING d.key, d.event_id, d.event_name, d.body, d.signature, d.attempts, \
                   d.status, extract(epoch FROM d.received_at)::float8"
            ),
            // The job's last statement: it fails in an aborted transaction, and matches
            // nothing once the lease is no longer this one or outside the job's transaction
            // (the handler ended it, and its [`JobMark`] with it).
            done: format!(
                "UPDATE {t} SET status = 'done', done_at = now(), leased_until = NULL \
                 WHERE key = $1 AND attempts = $2 AND status = 'pending' \
                 AND current_setting('monime_inbox.job', true) = $3 RETURNING 1"
            ),
            failed: format!(
                "UPDATE {t} SET leased_until = NULL, last_error = $3, \
                   due_at = now() + make_interval(secs => $4), \
                   status = CASE WHEN attempts >= $5 THEN 'dead' ELSE 'pending' END \
                 WHERE key = $1 AND attempts = $2 AND status = 'pending' RETURNING status"
            ),
            // Gives a leased, unstarted row back, and the attempt it was counted.
            release: format!(
                "UPDATE {t} SET leased_until = NULL, attempts = attempts - 1 \
                 WHERE key = $1 AND attempts = $2 AND status = 'pending'"
            ),
            list: format!(
                "SELECT {STORED_COLUMNS} FROM {t} \
                 WHERE $1::text IS NULL OR status = $1 OR ($1 = 'failed' AND status = 'pending' \
                   AND attempts > 0) \
                 ORDER BY received_at DESC LIMIT $2"
            ),
            show: format!("SELECT {STORED_COLUMNS}, body FROM {t} WHERE key = $1"),
            // Not while a worker holds the row: the attempt count is its lease's token.
            retry: format!(
                "UPDATE {t} SET status = 'pending', attempts = 0, due_at = now(), \
                 leased_until = NULL WHERE key = $1 AND status <> 'done' \
                 AND (leased_until IS NULL OR leased_until <= now()) RETURNING 1"
            ),
            prune: format!(
                "DELETE FROM {t} WHERE status = 'done' \
                 AND done_at < now() - make_interval(secs => $1)"
            ),
        })
    }

    /// Creates the table and its indexes if they do not exist ([`crate::QUEUE_MIGRATION`]);
    /// safe to call from every replica at start.
    pub async fn create_table(
        &self,
        client: &impl GenericClient,
    ) -> Result<(), tokio_postgres::Error> {
        client.batch_execute(&self.create).await
    }

    /// Stores a verified delivery in one INSERT, unless one with the same key is stored
    /// already. Once this returns, answer Monime 2xx: the delivery is durable. On an error
    /// answer non-2xx, so Monime delivers it again.
    pub async fn accept(
        &self,
        client: &impl GenericClient,
        delivery: &Delivery<'_>,
    ) -> Result<Accepted, tokio_postgres::Error> {
        let params: [(&(dyn ToSql + Sync), Type); 5] = [
            (&delivery.key, Type::TEXT),
            (&delivery.event_id, Type::TEXT),
            (&delivery.event_name, Type::TEXT),
            (&delivery.body, Type::BYTEA),
            (&delivery.signature, Type::TEXT),
        ];
        let stored = !client.query_typed(&self.accept, &params).await?.is_empty();
        Ok(self.counted(stored, delivery.key))
    }

    /// Stores verified deliveries in one INSERT, each unless one with the same key is stored
    /// already (or comes earlier in `deliveries`): what an `Acceptor` (feature `sqlx` or
    /// `deadpool`) does with the deliveries that arrive together. One [`Accepted`] per
    /// delivery, in order.
    pub async fn accept_many(
        &self,
        client: &impl GenericClient,
        deliveries: &[Delivery<'_>],
    ) -> Result<Vec<Accepted>, tokio_postgres::Error> {
        let columns = DeliveryColumns::of(deliveries);
        let params: Vec<_> = columns
            .params()
            .into_iter()
            .zip(ACCEPT_MANY_TYPES)
            .collect();
        let rows = client.query_typed(&self.accept_many, &params).await?;
        Ok(self.accepted(deliveries, &rows))
    }

    /// One [`Accepted`] per delivery, from the keys an INSERT stored: of the deliveries with
    /// a stored key, the first is the one stored.
    pub(crate) fn accepted(
        &self,
        deliveries: &[Delivery<'_>],
        stored: &[impl Columns],
    ) -> Vec<Accepted> {
        let mut stored: std::collections::HashSet<String> =
            stored.iter().map(|row| row.text(0)).collect();
        deliveries
            .iter()
            .map(|delivery| self.counted(stored.remove(delivery.key), delivery.key))
            .collect()
    }

    /// What an accept did, counted.
    pub(crate) fn counted(&self, stored: bool, key: &str) -> Accepted {
        if stored {
            Count::Accepted.record(key);
            Accepted::Stored
        } else {
            Count::Duplicate.record(key);
            Accepted::Duplicate
        }
    }

    /// Leases up to [`RetryPolicy::batch`] due rows and processes them one after the other,
    /// each in its own transaction on `client`: `handler` runs with the transaction that marks
    /// the row done, so its writes commit exactly when the row does. Returns what became of
    /// each (empty when nothing is due); rows given back unstarted when half the lease has
    /// gone by are not reported.
    ///
    /// An `Err` is the database failing outside any job's outcome; the rows still leased then
    /// come back when their lease runs out.
    ///
    /// To run workers with `tokio::spawn`, pass the handler as an `async fn`: rustc cannot yet
    /// prove that an async closure's future over borrowed arguments is `Send`. Any pool works:
    /// pass `&mut conn` for a deadpool-postgres or bb8 connection.
    pub async fn work<T, E: fmt::Display>(
        &self,
        client: &mut Client,
        policy: &RetryPolicy,
        mut handler: impl AsyncFnMut(&Transaction<'_>, &Job) -> Result<T, E>,
    ) -> Result<Vec<JobReport<T, E>>, tokio_postgres::Error> {
        let limits = Limits::of(policy);
        let leased = client
            .query(
                &self.lease,
                &[&limits.batch, &limits.lease_secs, &limits.max_attempts],
            )
            .await?;
        let leased_at = Instant::now();
        let mut reports = Vec::with_capacity(leased.len());
        for row in leased {
            let (job, expired) = Job::from_lease(&row);
            if !expired && out_of_time(leased_at, policy) {
                client
                    .execute(&self.release, &[&job.key, &job.token()])
                    .await?;
                continue;
            }
            let outcome = if expired {
                expired_outcome(&job)
            } else {
                self.run_job(client, policy, &limits, &job, &mut handler)
                    .instrument(job.span())
                    .await?
            };
            reports.push(job.report(outcome));
        }
        Ok(reports)
    }

    async fn run_job<T, E: fmt::Display>(
        &self,
        client: &mut Client,
        policy: &RetryPolicy,
        limits: &Limits,
        job: &Job,
        handler: &mut impl AsyncFnMut(&Transaction<'_>, &Job) -> Result<T, E>,
    ) -> Result<Worked<T, E>, tokio_postgres::Error> {
        let mark = JobMark::new();
        let tx = client.transaction().await?;
        tx.batch_execute(&mark.set()).await?;
        let ended = match handler(&tx, job).await {
            Ok(value) => self.finish(tx, job, &mark).await.map(|()| value),
            Err(error) => {
                let _ = tx.rollback().await;
                Err(PgProcessError::Handler(error))
            }
        };
        let error = match settle(job, ended, |e| e.as_db_error().is_some())? {
            Ok(worked) => return Ok(worked),
            Err(error) => error,
        };
        let after = policy.backoff(job.attempt);
        let recorded = client
            .query_opt(
                &self.failed,
                &[
                    &job.key,
                    &job.token(),
                    &error.to_string(),
                    &after.as_secs_f64(),
                    &job.max_attempts(limits),
                ],
            )
            .await?;
        Ok(failed(job, recorded.map(|row| row.text(0)), error, after))
    }

    /// Marks the job's row done and commits, everything the handler wrote with it. The
    /// done-UPDATE matches nothing once the handler ended the transaction (its mark went with
    /// it) or the lease is no longer this one: then nothing commits, and the failure is
    /// recorded as a failed attempt, or as the lease lost.
    async fn finish<E>(
        &self,
        tx: Transaction<'_>,
        job: &Job,
        mark: &JobMark,
    ) -> Result<(), PgProcessError<E>> {
        let params: [(&(dyn ToSql + Sync), Type); 3] = [
            (&job.key, Type::TEXT),
            (&job.token(), Type::INT4),
            (&mark.value(), Type::TEXT),
        ];
        let done = tx.query_typed(&self.done, &params).await;
        commit_if(tx, done.map(|rows| !rows.is_empty())).await
    }

    /// The stored deliveries with `status` (all when `None`), newest first, at most `limit`.
    pub async fn list(
        &self,
        client: &impl GenericClient,
        status: Option<Status>,
        limit: u32,
    ) -> Result<Vec<Stored>, tokio_postgres::Error> {
        let status = status.map(Status::as_str);
        let rows = client
            .query(&self.list, &[&status, &i64::from(limit)])
            .await?;
        Ok(rows.iter().map(Stored::from_row).collect())
    }

    /// The stored delivery with dedupe key `key`, and its body.
    pub async fn show(
        &self,
        client: &impl GenericClient,
        key: &str,
    ) -> Result<Option<(Stored, Vec<u8>)>, tokio_postgres::Error> {
        let row = client.query_opt(&self.show, &[&key]).await?;
        Ok(row.map(|row| (Stored::from_row(&row), row.bytes(9))))
    }

    /// Makes a dead or waiting delivery due now, with a fresh count of attempts (its last error
    /// stays until it succeeds). `false` if there is no such row: unknown, done, or held by a
    /// worker right now.
    pub async fn retry(
        &self,
        client: &impl GenericClient,
        key: &str,
    ) -> Result<bool, tokio_postgres::Error> {
        Ok(client.query_opt(&self.retry, &[&key]).await?.is_some())
    }

    /// Deletes the done rows processed more than `older_than` ago, which must be at least
    /// [`RETENTION_FLOOR`](crate::RETENTION_FLOOR): a stored row is also what makes a
    /// redelivery a duplicate. Dead and pending rows are never pruned.
    pub async fn prune(
        &self,
        client: &impl GenericClient,
        older_than: Duration,
    ) -> Result<u64, PruneError> {
        let seconds = checked_age(older_than)?;
        Ok(client.execute(&self.prune, &[&seconds]).await?)
    }
}
