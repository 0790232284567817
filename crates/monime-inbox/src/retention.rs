//! How long the dedupe records must be kept: a record pruned too early lets a redelivery of
//! its event be processed a second time.

use std::fmt;
use std::time::Duration;

use monime_signature::DEFAULT_TOLERANCE;

/// How long Monime may keep delivering one event. Monime has not published its retry
/// schedule; a week is a generous reading of the schedules payment platforms use (hours to a
/// few days), so that a record outlives every redelivery.
pub const MONIME_RETRY_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// The least age [`PgInbox::prune`](crate::PgInbox::prune) and
/// [`PgQueue::prune`](crate::PgQueue::prune) accept: Monime's retry window plus the signature
/// tolerance, the longest a delivery of an event can arrive after its record was written.
pub const RETENTION_FLOOR: Duration =
    Duration::from_secs(MONIME_RETRY_WINDOW.as_secs() + DEFAULT_TOLERANCE.as_secs());

/// Why a prune deleted nothing.
///
/// `D` is the driver's error: `tokio_postgres::Error`, or `sqlx::Error` for the methods of
/// feature `sqlx`.
#[derive(Debug)]
pub enum PruneError<D = tokio_postgres::Error> {
    /// `older_than` is below [`RETENTION_FLOOR`]: a redelivery could still come for the
    /// records it would delete.
    BelowFloor {
        /// The age asked for.
        older_than: Duration,
        /// The least age accepted.
        floor: Duration,
    },
    /// The database failed; nothing was deleted.
    Database(D),
}

impl<D: fmt::Display> fmt::Display for PruneError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PruneError::BelowFloor { older_than, floor } => write!(
                f,
                "refusing to prune records younger than {} s: Monime may still redeliver their \
                 events, which would then be processed again; the floor is {} s",
                older_than.as_secs(),
                floor.as_secs()
            ),
            PruneError::Database(e) => write!(f, "pruning failed, nothing was deleted: {e}"),
        }
    }
}

impl<D: std::error::Error + 'static> std::error::Error for PruneError<D> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PruneError::BelowFloor { .. } => None,
            PruneError::Database(e) => Some(e),
        }
    }
}

impl From<tokio_postgres::Error> for PruneError {
    fn from(error: tokio_postgres::Error) -> Self {
        PruneError::Database(error)
    }
}

/// `older_than` in whole seconds, once checked against the floor.
pub(crate) fn checked_age<D>(older_than: Duration) -> Result<f64, PruneError<D>> {
    if older_than < RETENTION_FLOOR {
        return Err(PruneError::BelowFloor {
            older_than,
            floor: RETENTION_FLOOR,
        });
    }
    Ok(older_than.as_secs_f64())
}
