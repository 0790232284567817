//! Reading the tables' rows the same way whichever driver fetched them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The column types the queries of this crate return, by position. Times are selected as
/// `extract(epoch FROM ...)::float8`, a type both drivers decode without extra features.
pub(crate) trait Columns {
    fn text(&self, index: usize) -> String;
    fn maybe_text(&self, index: usize) -> Option<String>;
    fn int(&self, index: usize) -> i32;
    fn float(&self, index: usize) -> f64;
    fn bytes(&self, index: usize) -> Vec<u8>;

    fn time(&self, index: usize) -> SystemTime {
        let seconds = self.float(index);
        if seconds.is_finite() && seconds > 0.0 {
            UNIX_EPOCH + Duration::from_secs_f64(seconds)
        } else {
            UNIX_EPOCH
        }
    }
}

impl Columns for tokio_postgres::Row {
    fn text(&self, index: usize) -> String {
        self.get(index)
    }
    fn maybe_text(&self, index: usize) -> Option<String> {
        self.get(index)
    }
    fn int(&self, index: usize) -> i32 {
        self.get(index)
    }
    fn float(&self, index: usize) -> f64 {
        self.get(index)
    }
    fn bytes(&self, index: usize) -> Vec<u8> {
        self.get(index)
    }
}

#[cfg(feature = "sqlx")]
impl Columns for sqlx::postgres::PgRow {
    fn text(&self, index: usize) -> String {
        sqlx::Row::get(self, index)
    }
    fn maybe_text(&self, index: usize) -> Option<String> {
        sqlx::Row::get(self, index)
    }
    fn int(&self, index: usize) -> i32 {
        sqlx::Row::get(self, index)
    }
    fn float(&self, index: usize) -> f64 {
        sqlx::Row::get(self, index)
    }
    fn bytes(&self, index: usize) -> Vec<u8> {
        sqlx::Row::get(self, index)
    }
}
