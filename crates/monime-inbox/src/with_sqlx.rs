//! The same inbox and queue on sqlx (feature `sqlx`): the same SQL statements as the
//! tokio-postgres methods, the same outcomes, with `sqlx::Error` as the driver's error.
//!
//! Handlers get the transaction as a `&mut PgConnection`, so they run their own queries with
//! `&mut *conn`. Connections come from anywhere: `PgConnection::connect`, or
//! `pool.acquire().await?` on a `PgPool` (its `PoolConnection` dereferences to one).

use std::fmt;

use sqlx::postgres::{PgExecutor, PgRow};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Postgres, Transaction};
use tracing::Instrument;

use crate::queue::{
    DeliveryColumns, JobMark, Limits, expired_outcome, failed, out_of_time, settle,
};
use crate::retention::{PruneError, checked_age};
use crate::rows::Columns;
use crate::{
    Accepted, Delivery, Job, JobReport, Outcome, PgInbox, PgProcessError, PgQueue, RetryPolicy,
    Status, Stored, Worked,
};

/// The statement that names the transaction in progress, as in the tokio-postgres methods.
const CURRENT_TRANSACTION: &str = "SELECT pg_current_xact_id_if_assigned()::text";

/// SQLSTATE 25P02: the transaction is aborted, commands are ignored until its end.
const IN_FAILED_SQL_TRANSACTION: &str = "25P02";

fn sql(text: &str) -> AssertSqlSafe<String> {
    // Every statement of this crate is built from a checked table name and constants; all
    // values go as bind parameters.
    AssertSqlSafe(text.to_owned())
}

fn is_database_error(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(_))
}

/// A connection already inside a transaction would turn `begin` into a savepoint, and its
/// "commit" into a release that commits nothing: refused.
fn outside_a_transaction(conn: &PgConnection) -> Result<(), sqlx::Error> {
    if conn.is_in_transaction() {
        return Err(sqlx::Error::InvalidArgument(
            "the connection is inside a transaction: pass a connection of its own, so the \
             inbox's COMMIT is a real one"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Commits `tx` if it is still transaction `holder`, as `commit_if_holder` does for
/// tokio-postgres.
async fn commit_if_holder<E>(
    mut tx: Transaction<'_, Postgres>,
    holder: &str,
) -> Result<(), PgProcessError<E, sqlx::Error>> {
    let current: Result<Option<String>, sqlx::Error> = sqlx::query_scalar(CURRENT_TRANSACTION)
        .fetch_one(&mut *tx)
        .await;
    let still_held = current.map(|current| current.as_deref() == Some(holder));
    commit_if(tx, still_held).await
}

/// Commits `tx` when the statement it ran after the handler answered that it may, as
/// `commit_if` does for tokio-postgres.
async fn commit_if<E>(
    tx: Transaction<'_, Postgres>,
    may_commit: Result<bool, sqlx::Error>,
) -> Result<(), PgProcessError<E, sqlx::Error>> {
    match may_commit {
        Ok(true) => {}
        Ok(false) => {
            let _ = tx.rollback().await;
            return Err(PgProcessError::Aborted(None));
        }
        Err(error) if sqlstate(&error).as_deref() == Some(IN_FAILED_SQL_TRANSACTION) => {
            let _ = tx.rollback().await;
            return Err(PgProcessError::Aborted(Some(error)));
        }
        Err(error) => return Err(PgProcessError::Database(error)),
    }
    match tx.commit().await {
        Ok(()) => Ok(()),
        // The server answered, refusing the commit: nothing was committed.
        Err(error) if is_database_error(&error) => Err(PgProcessError::Database(error)),
        Err(error) => Err(PgProcessError::OutcomeUnknown(error)),
    }
}

fn sqlstate(error: &sqlx::Error) -> Option<std::borrow::Cow<'_, str>> {
    error.as_database_error().and_then(|e| e.code())
}

/// Runs a prune statement, once `older_than` is checked against the floor.
async fn prune(
    statement: &str,
    executor: impl PgExecutor<'_>,
    older_than: std::time::Duration,
) -> Result<u64, PruneError<sqlx::Error>> {
    let seconds = checked_age(older_than)?;
    let done = sqlx::query(sql(statement))
        .bind(seconds)
        .execute(executor)
        .await
        .map_err(PruneError::Database)?;
    Ok(done.rows_affected())
}

impl PgInbox {
    /// [`PgInbox::create_table`] on sqlx.
    pub async fn create_table_sqlx(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sql(&self.create)).execute(conn).await?;
        Ok(())
    }

    /// [`PgInbox::process`] on sqlx: claims `event_id` in a transaction on `conn`, runs
    /// `handler` with the same transaction, and commits both; the same outcomes and errors.
    pub async fn process_sqlx<T, E>(
        &self,
        conn: &mut PgConnection,
        event_id: &str,
        handler: impl AsyncFnOnce(&mut PgConnection) -> Result<T, E>,
    ) -> Result<Outcome<T>, PgProcessError<E, sqlx::Error>> {
        outside_a_transaction(conn).map_err(PgProcessError::Database)?;
        let mut tx = conn.begin().await.map_err(PgProcessError::Database)?;
        let holder: Option<String> = sqlx::query_scalar(sql(&self.claim))
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(PgProcessError::Database)?;
        let Some(holder) = holder else {
            tx.rollback().await.map_err(PgProcessError::Database)?;
            return Ok(Outcome::Duplicate);
        };
        let value = match handler(&mut tx).await {
            Ok(value) => value,
            Err(error) => {
                let _ = tx.rollback().await;
                return Err(PgProcessError::Handler(error));
            }
        };
        commit_if_holder(tx, &holder).await?;
        Ok(Outcome::Processed(value))
    }

    /// [`PgInbox::prune`] on sqlx.
    pub async fn prune_sqlx(
        &self,
        executor: impl PgExecutor<'_>,
        older_than: std::time::Duration,
    ) -> Result<u64, PruneError<sqlx::Error>> {
        prune(&self.prune, executor, older_than).await
    }
}

impl PgQueue {
    /// [`PgQueue::create_table`] on sqlx.
    pub async fn create_table_sqlx(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sql(&self.create)).execute(conn).await?;
        Ok(())
    }

    /// [`PgQueue::accept`] on sqlx; `executor` may be a `&PgPool`.
    pub async fn accept_sqlx(
        &self,
        executor: impl PgExecutor<'_>,
        delivery: &Delivery<'_>,
    ) -> Result<Accepted, sqlx::Error> {
        let stored = sqlx::query(sql(&self.accept))
            .bind(delivery.key)
            .bind(delivery.event_id)
            .bind(delivery.event_name)
            .bind(delivery.body)
            .bind(delivery.signature)
            .fetch_optional(executor)
            .await?
            .is_some();
        Ok(self.counted(stored, delivery.key))
    }

    /// [`PgQueue::accept_many`] on sqlx; `executor` may be a `&PgPool`.
    pub async fn accept_many_sqlx(
        &self,
        executor: impl PgExecutor<'_>,
        deliveries: &[Delivery<'_>],
    ) -> Result<Vec<Accepted>, sqlx::Error> {
        let columns = DeliveryColumns::of(deliveries);
        let stored: Vec<PgRow> = sqlx::query(sql(&self.accept_many))
            .bind(&columns.keys)
            .bind(&columns.event_ids)
            .bind(&columns.event_names)
            .bind(&columns.bodies)
            .bind(&columns.signatures)
            .fetch_all(executor)
            .await?;
        Ok(self.accepted(deliveries, &stored))
    }

    /// [`PgQueue::work`] on sqlx: the handler runs with the job's transaction.
    pub async fn work_sqlx<T, E: fmt::Display>(
        &self,
        conn: &mut PgConnection,
        policy: &RetryPolicy,
        mut handler: impl AsyncFnMut(&mut PgConnection, &Job) -> Result<T, E>,
    ) -> Result<Vec<JobReport<T, E, sqlx::Error>>, sqlx::Error> {
        outside_a_transaction(conn)?;
        let limits = Limits::of(policy);
        let leased: Vec<PgRow> = sqlx::query(sql(&self.lease))
            .bind(limits.batch)
            .bind(limits.lease_secs)
            .bind(limits.max_attempts)
            .fetch_all(&mut *conn)
            .await?;
        let leased_at = std::time::Instant::now();
        let mut reports = Vec::with_capacity(leased.len());
        for row in leased {
            let (job, expired) = Job::from_lease(&row);
            if !expired && out_of_time(leased_at, policy) {
                sqlx::query(sql(&self.release))
                    .bind(&job.key)
                    .bind(job.token())
                    .execute(&mut *conn)
                    .await?;
                continue;
            }
            let outcome = if expired {
                expired_outcome(&job)
            } else {
                self.run_job_sqlx(conn, policy, &limits, &job, &mut handler)
                    .instrument(job.span())
                    .await?
            };
            reports.push(job.report(outcome));
        }
        Ok(reports)
    }

    async fn run_job_sqlx<T, E: fmt::Display>(
        &self,
        conn: &mut PgConnection,
        policy: &RetryPolicy,
        limits: &Limits,
        job: &Job,
        handler: &mut impl AsyncFnMut(&mut PgConnection, &Job) -> Result<T, E>,
    ) -> Result<Worked<T, E, sqlx::Error>, sqlx::Error> {
        // The mark goes with the BEGIN: one round trip.
        let mark = JobMark::new();
        let mut tx = conn
            .begin_with(sql(&format!("BEGIN; {}", mark.set())))
            .await?;
        let ended = match handler(&mut tx, job).await {
            Ok(value) => self.finish_sqlx(tx, job, &mark).await.map(|()| value),
            Err(error) => {
                let _ = tx.rollback().await;
                Err(PgProcessError::Handler(error))
            }
        };
        let error = match settle(job, ended, is_database_error)? {
            Ok(worked) => return Ok(worked),
            Err(error) => error,
        };
        let after = policy.backoff(job.attempt);
        let status: Option<String> = sqlx::query_scalar(sql(&self.failed))
            .bind(&job.key)
            .bind(job.token())
            .bind(error.to_string())
            .bind(after.as_secs_f64())
            .bind(job.max_attempts(limits))
            .fetch_optional(&mut *conn)
            .await?;
        Ok(failed(job, status, error, after))
    }

    /// `PgQueue::finish` on sqlx.
    async fn finish_sqlx<E>(
        &self,
        mut tx: Transaction<'_, Postgres>,
        job: &Job,
        mark: &JobMark,
    ) -> Result<(), PgProcessError<E, sqlx::Error>> {
        let done = sqlx::query(sql(&self.done))
            .bind(&job.key)
            .bind(job.token())
            .bind(mark.value())
            .fetch_optional(&mut *tx)
            .await;
        commit_if(tx, done.map(|row| row.is_some())).await
    }

    /// [`PgQueue::list`] on sqlx.
    pub async fn list_sqlx(
        &self,
        executor: impl PgExecutor<'_>,
        status: Option<Status>,
        limit: u32,
    ) -> Result<Vec<Stored>, sqlx::Error> {
        let rows = sqlx::query(sql(&self.list))
            .bind(status.map(Status::as_str))
            .bind(i64::from(limit))
            .fetch_all(executor)
            .await?;
        Ok(rows.iter().map(Stored::from_row).collect())
    }

    /// [`PgQueue::show`] on sqlx.
    pub async fn show_sqlx(
        &self,
        executor: impl PgExecutor<'_>,
        key: &str,
    ) -> Result<Option<(Stored, Vec<u8>)>, sqlx::Error> {
        let row = sqlx::query(sql(&self.show))
            .bind(key)
            .fetch_optional(executor)
            .await?;
        Ok(row.map(|row| (Stored::from_row(&row), row.bytes(9))))
    }

    /// [`PgQueue::retry`] on sqlx.
    pub async fn retry_sqlx(
        &self,
        executor: impl PgExecutor<'_>,
        key: &str,
    ) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(sql(&self.retry))
            .bind(key)
            .fetch_optional(executor)
            .await?;
        Ok(row.is_some())
    }

    /// [`PgQueue::prune`] on sqlx.
    pub async fn prune_sqlx(
        &self,
        executor: impl PgExecutor<'_>,
        older_than: std::time::Duration,
    ) -> Result<u64, PruneError<sqlx::Error>> {
        prune(&self.prune, executor, older_than).await
    }
}
