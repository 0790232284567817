//! The retry strategy: which failures are retried, how long to wait, and when to give up.

use std::time::Duration;

/// How a call is retried. Transport errors and 408, 429, 500, 502, 503 and 504 are retried;
/// other 4xx never are. A create keeps its `Idempotency-Key` across retries, so a retried
/// create never makes a second webhook.
///
/// ```
/// use std::time::Duration;
/// use monime_webhooks_api::RetryPolicy;
///
/// let patient = RetryPolicy { max_attempts: 6, deadline: Some(Duration::from_secs(120)), ..RetryPolicy::default() };
/// let never = RetryPolicy::none();
/// assert_eq!(never.max_attempts, 1);
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each later one.
    pub base_delay: Duration,
    /// Upper bound of a computed wait (a server's `Retry-After` is honoured even if longer).
    pub max_delay: Duration,
    /// Spread waits randomly over [half, full] so clients do not retry in lockstep.
    pub jitter: bool,
    /// No retry starts after this much time since the call began.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            jitter: true,
            deadline: Some(Duration::from_secs(60)),
        }
    }
}

/// Statuses worth retrying: timeouts, rate limits and server-side failures.
pub const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Statuses whose `Retry-After` is honoured.
pub(crate) const RETRY_AFTER_STATUSES: [u16; 2] = [429, 503];

impl RetryPolicy {
    /// Every call is tried once.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait after failed attempt number `attempt` (1-based): the server's `Retry-After`
    /// when it sent one, else exponential backoff.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait;
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        if self.jitter {
            let half = full / 2;
            half + full.saturating_sub(half).mul_f64(fastrand::f64())
        } else {
            full
        }
    }
}
