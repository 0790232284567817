//! The PostgreSQL inbox: a claim is a row inserted in the handler's own transaction.
//!
//! `INSERT ... ON CONFLICT DO NOTHING` on the event id's primary key decides who processes
//! an event. A second delivery racing the first waits on the key until the first transaction
//! ends: if it committed, the second sees a conflict (duplicate); if it rolled back, the
//! second inserts and processes the event. So exactly one committed transaction ever holds
//! the claim, and its writes are the event's only effects.

use std::fmt;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, GenericClient, SimpleQueryMessage, Transaction};

use crate::Outcome;
use crate::retention::{PruneError, checked_age};
use crate::schema::{self, INBOX_MIGRATION, INBOX_TABLE, InvalidTableName};

/// The inbox table of one receiver application: one row per processed event, `(event_id text
/// PRIMARY KEY, processed_at timestamptz)`, as [`INBOX_MIGRATION`](crate::INBOX_MIGRATION)
/// creates it (or [`PgInbox::create_table`], when absent). [`PgInbox::prune`] deletes old
/// rows.
///
/// ```no_run
/// # async fn run(client: &mut tokio_postgres::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use monime_inbox::{Outcome, PgInbox};
///
/// let inbox = PgInbox::new("monime_inbox")?;
/// inbox.create_table(&*client).await?;
/// let outcome = inbox
///     .process(client, "wkd-1", async |tx| {
///         tx.execute("UPDATE orders SET paid = true WHERE id = $1", &[&"ord-7"]).await?;
///         Ok::<_, tokio_postgres::Error>(())
///     })
///     .await?;
/// assert!(matches!(outcome, Outcome::Processed(()) | Outcome::Duplicate));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PgInbox {
    table: String,
    pub(crate) create: String,
    pub(crate) claim: String,
    pub(crate) prune: String,
}

/// Why [`PgInbox::process`] did not report the event processed.
///
/// In every case but [`OutcomeUnknown`](PgProcessError::OutcomeUnknown) nothing was
/// committed, so a redelivery processes the event. Answer Monime non-2xx for all of them.
///
/// `D` is the driver's error: `tokio_postgres::Error`, or `sqlx::Error` for the methods of
/// feature `sqlx`.
#[derive(Debug)]
pub enum PgProcessError<E, D = tokio_postgres::Error> {
    /// The database failed before anything was committed (connection lost, server
    /// restarting, ...).
    Database(D),
    /// The handler failed; its writes and the claim were rolled back.
    Handler(E),
    /// The handler returned `Ok` but left a transaction that cannot commit: a statement
    /// failed inside it and the handler went on (PostgreSQL then answers `COMMIT` with
    /// `ROLLBACK`; everything was rolled back, and the error is the one PostgreSQL gave), or
    /// it ended the transaction itself (`None`: with `ROLLBACK` nothing was kept; with its own
    /// `COMMIT` an inbox's claim was committed and the redelivery is a `Duplicate`, but a
    /// queue job's writes were committed without its row, so its next attempt runs again).
    /// Answer non-2xx either way: the redelivery settles it. Handlers must not end the
    /// transaction.
    Aborted(Option<D>),
    /// `COMMIT` was sent but its answer never came (the connection was lost): the claim and
    /// the handler's writes may or may not be committed. Answer non-2xx and let Monime
    /// deliver again; the redelivery settles it, as [`Outcome::Duplicate`] if the commit
    /// went through and as a normal processing if it did not.
    OutcomeUnknown(D),
}

impl<E: fmt::Display, D: fmt::Display> fmt::Display for PgProcessError<E, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgProcessError::Database(e) => {
                write!(f, "the inbox's database failed, nothing was committed: {e}")
            }
            PgProcessError::Handler(e) => {
                write!(f, "the handler failed, its writes were rolled back: {e}")
            }
            PgProcessError::Aborted(Some(e)) => write!(
                f,
                "the handler left its transaction aborted (a statement failed inside it), \
                 everything was rolled back: {e}"
            ),
            PgProcessError::Aborted(None) => write!(
                f,
                "the handler ended its transaction itself, so the event was not marked \
                 processed with its writes; a redelivery, or the queue's next attempt, settles it"
            ),
            PgProcessError::OutcomeUnknown(e) => write!(
                f,
                "the connection was lost after COMMIT was sent, so whether the event was \
                 committed is unknown; a redelivery settles it: {e}"
            ),
        }
    }
}

impl<E, D> std::error::Error for PgProcessError<E, D>
where
    E: std::error::Error + 'static,
    D: std::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PgProcessError::Database(e) => Some(e),
            PgProcessError::Handler(e) => Some(e),
            PgProcessError::Aborted(e) => e.as_ref().map(|e| e as _),
            PgProcessError::OutcomeUnknown(e) => Some(e),
        }
    }
}

impl<E> From<tokio_postgres::Error> for PgProcessError<E> {
    fn from(error: tokio_postgres::Error) -> Self {
        PgProcessError::Database(error)
    }
}

/// What ends a claim's INSERT: nothing on a conflict, else the id of the claiming transaction.
const CLAIMED: &str = "ON CONFLICT (event_id) DO NOTHING RETURNING pg_current_xact_id()::text";

/// The id of the transaction in progress, if it has one.
const CURRENT_TRANSACTION: &str = "SELECT pg_current_xact_id_if_assigned()::text";

/// The first column of the first row of a simple query's answer.
fn first_text(messages: &[SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|message| match message {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
        _ => None,
    })
}

/// Monime's event ids (`wkd-...`) are letters, digits and dashes; such an id can be written
/// into SQL as a literal with nothing to escape.
fn is_plain_id(id: &str) -> bool {
    (1..=200).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

impl PgInbox {
    /// The inbox in table `table` (`name` or `schema.name`, lowercase).
    pub fn new(table: &str) -> Result<PgInbox, InvalidTableName> {
        let table = schema::table_name(table)?;
        Ok(PgInbox {
            create: schema::create(INBOX_MIGRATION, INBOX_TABLE, &table),
            claim: format!("INSERT INTO {table} (event_id) VALUES ($1) {CLAIMED}"),
            prune: format!(
                "DELETE FROM {table} WHERE processed_at < now() - make_interval(secs => $1)"
            ),
            table: table.to_string(),
        })
    }

    /// Creates the table if it does not exist (safe to call from every replica at start:
    /// concurrent calls take turns). Called inside a transaction, the turn lasts until that
    /// transaction ends.
    pub async fn create_table(
        &self,
        client: &impl GenericClient,
    ) -> Result<(), tokio_postgres::Error> {
        client.batch_execute(&self.create).await
    }

    /// Claims `event_id` inside `tx`: `true` if this transaction now holds it (process the
    /// event, then commit), `false` if a committed transaction processed it already. Waits
    /// while another open transaction holds the same claim.
    pub async fn claim(
        &self,
        tx: &Transaction<'_>,
        event_id: &str,
    ) -> Result<bool, tokio_postgres::Error> {
        Ok(self.claim_in(tx, event_id).await?.is_some())
    }

    /// [`PgInbox::claim`], returning the id of the transaction that now holds the claim.
    async fn claim_in(
        &self,
        tx: &Transaction<'_>,
        event_id: &str,
    ) -> Result<Option<String>, tokio_postgres::Error> {
        if is_plain_id(event_id) {
            // One round trip through the simple query protocol: one message, no statement to
            // parse and describe. Only for ids that need no escaping at all.
            let sql = format!(
                "INSERT INTO {} (event_id) VALUES ('{event_id}') {CLAIMED}",
                self.table
            );
            return Ok(first_text(&tx.simple_query(&sql).await?));
        }
        // Any other id goes as a parameter: an unnamed statement with its type given.
        let rows = tx
            .query_typed(&self.claim, &[(&event_id, Type::TEXT)])
            .await?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    /// Deletes the claims older than `older_than`, which must be at least
    /// [`RETENTION_FLOOR`](crate::RETENTION_FLOOR); returns how many were deleted. Run it
    /// from time to time (daily, say): without it the table grows with every event.
    pub async fn prune(
        &self,
        client: &impl GenericClient,
        older_than: std::time::Duration,
    ) -> Result<u64, PruneError> {
        let seconds = checked_age(older_than)?;
        Ok(client.execute(&self.prune, &[&seconds]).await?)
    }

    /// Opens a transaction on `client`, claims `event_id` in it, runs `handler` with the same
    /// transaction for its own writes, and commits both. A duplicate runs nothing; a failing
    /// handler or database rolls everything back, so the redelivery processes the event.
    ///
    /// `Processed` is returned only once PostgreSQL confirmed the commit of a transaction
    /// that still held the claim. A handler that swallows a failed statement gets
    /// [`PgProcessError::Aborted`], not `Processed`: PostgreSQL answers `COMMIT` on an
    /// aborted transaction with `ROLLBACK`, which the driver reports as success.
    pub async fn process<T, E>(
        &self,
        client: &mut Client,
        event_id: &str,
        handler: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<Outcome<T>, PgProcessError<E>> {
        let tx = client.transaction().await?;
        let Some(holder) = self.claim_in(&tx, event_id).await? else {
            tx.rollback().await?;
            return Ok(Outcome::Duplicate);
        };
        let value = match handler(&tx).await {
            Ok(value) => value,
            Err(error) => {
                // Dropping the transaction would roll back too; rolling back here returns the
                // connection ready for the next event. Its own failure changes nothing: the
                // claim was not committed either way.
                let _ = tx.rollback().await;
                return Err(PgProcessError::Handler(error));
            }
        };
        commit_if_holder(tx, &holder).await?;
        Ok(Outcome::Processed(value))
    }
}

/// Commits `tx` if it is still transaction `holder`, the one that took the claim, with
/// everything it wrote.
pub(crate) async fn commit_if_holder<E>(
    tx: Transaction<'_>,
    holder: &str,
) -> Result<(), PgProcessError<E>> {
    // This statement fails in an aborted transaction, and answers another id (or none) once
    // the handler ended the transaction itself.
    let current = tx.simple_query(CURRENT_TRANSACTION).await;
    let still_held = current.map(|messages| first_text(&messages).as_deref() == Some(holder));
    commit_if(tx, still_held).await
}

/// Commits `tx` when the statement it ran after the handler answered that it may
/// (`Ok(true)`). That statement fails in an aborted transaction, and answers `false` once the
/// handler ended the transaction itself: both roll back and are [`PgProcessError::Aborted`].
/// `Processed` means committed: PostgreSQL answers `COMMIT` on an aborted transaction with
/// `ROLLBACK`, which the driver reports as success, so the statement asks first.
pub(crate) async fn commit_if<E>(
    tx: Transaction<'_>,
    may_commit: Result<bool, tokio_postgres::Error>,
) -> Result<(), PgProcessError<E>> {
    match may_commit {
        Ok(true) => {}
        Ok(false) => {
            let _ = tx.rollback().await;
            return Err(PgProcessError::Aborted(None));
        }
        Err(error) if error.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => {
            let _ = tx.rollback().await;
            return Err(PgProcessError::Aborted(Some(error)));
        }
        Err(error) => return Err(PgProcessError::Database(error)),
    }
    match tx.commit().await {
        Ok(()) => Ok(()),
        // The server answered, refusing the commit: nothing was committed.
        Err(error) if error.as_db_error().is_some() => Err(PgProcessError::Database(error)),
        Err(error) => Err(PgProcessError::OutcomeUnknown(error)),
    }
}
