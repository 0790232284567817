//! Fault injection for reliability tests: a seeded share of requests fails with 500/502/503,
//! is rate limited (429), is slowed down, or takes effect and then loses its response.

use std::time::Duration;

/// What to inject, as fractions of `/v1` requests (each in 0.0..=1.0; together at most 1.0).
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// The seed: the same seed and request order give the same faults.
    pub seed: u64,
    /// Share answered 500, 502 or 503 (in turn) before anything happens.
    pub server_error_rate: f64,
    /// Share answered 429 with `Retry-After` and `Monime-Rate-Limit`.
    pub rate_limit_rate: f64,
    /// `Retry-After` seconds sent with injected 429s.
    pub retry_after_secs: u64,
    /// Share that takes effect, then has its connection closed before the response.
    pub drop_after_commit_rate: f64,
    /// Latency added to every `/v1` request.
    pub latency: Duration,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            seed: 0,
            server_error_rate: 0.0,
            rate_limit_rate: 0.0,
            retry_after_secs: 1,
            drop_after_commit_rate: 0.0,
            latency: Duration::ZERO,
        }
    }
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Faults {
        Faults::default()
    }

    pub(crate) fn is_active(&self) -> bool {
        self.server_error_rate > 0.0
            || self.rate_limit_rate > 0.0
            || self.drop_after_commit_rate > 0.0
            || !self.latency.is_zero()
    }

    /// Which fault (if any) a roll in [0, 1) selects.
    pub(crate) fn decide(&self, roll: f64, turn: u64) -> Fault {
        let mut edge = self.server_error_rate;
        if roll < edge {
            return Fault::ServerError([500, 502, 503][(turn % 3) as usize]);
        }
        edge += self.rate_limit_rate;
        if roll < edge {
            return Fault::RateLimited;
        }
        edge += self.drop_after_commit_rate;
        if roll < edge {
            return Fault::DropAfterCommit;
        }
        Fault::None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    ServerError(u16),
    RateLimited,
    DropAfterCommit,
}
