//! What the generated client carries besides its base URL and `reqwest::Client`: the caller's
//! credentials and how calls are retried. progenitor stores it as the client's inner value
//! (`Client::inner()`), where the hooks read it on every request.

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::retry::RetryPolicy;

/// The largest response body the hooks read by default (bytes). Monime's largest answer, a
/// page of 50 webhooks, is far smaller.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Per-client settings read by the request hooks. `Debug` never shows the token.
#[derive(Clone)]
pub struct Settings {
    /// `Bearer <token>`, built once (marked sensitive); `Err` when the token cannot be a
    /// header value, reported on the first request.
    pub(crate) authorization: Option<Result<HeaderValue, ()>>,
    pub(crate) space_id: Option<String>,
    pub(crate) version: Option<String>,
    /// How failed attempts are retried.
    pub retry: RetryPolicy,
    /// The limit of one attempt, connection to last byte.
    pub timeout: Option<Duration>,
    /// Larger response bodies are refused, not read.
    pub body_limit: usize,
}

impl Settings {
    /// Settings that add nothing: no token, no retries, the default body limit.
    pub fn none() -> Settings {
        Settings {
            authorization: None,
            space_id: None,
            version: None,
            retry: RetryPolicy::none(),
            timeout: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Sends `Authorization: Bearer <token>` on every request that has none.
    pub fn with_token(mut self, token: impl Into<String>) -> Settings {
        let value = HeaderValue::from_str(&format!("Bearer {}", token.into()))
            .map(|mut value| {
                value.set_sensitive(true);
                value
            })
            .map_err(|_| ());
        self.authorization = Some(value);
        self
    }

    /// Sends this `Monime-Space-Id` on every request that has none.
    pub fn with_space_id(mut self, space_id: impl Into<String>) -> Settings {
        self.space_id = Some(space_id.into());
        self
    }

    /// Sends this `Monime-Version` on every request that has none (default
    /// [`crate::API_VERSION`]).
    pub fn with_version(mut self, version: impl Into<String>) -> Settings {
        self.version = Some(version.into());
        self
    }

    /// Retries failed attempts per `retry`.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Settings {
        self.retry = retry;
        self
    }

    /// Limits each attempt to `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Settings {
        self.timeout = Some(timeout);
        self
    }

    /// Refuses response bodies larger than `bytes`.
    pub fn with_body_limit(mut self, bytes: usize) -> Settings {
        self.body_limit = bytes;
        self
    }

    /// The space requests act on, when set.
    pub fn space_id(&self) -> Option<&str> {
        self.space_id.as_deref()
    }

    /// The `Monime-Version` requests carry.
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or(crate::API_VERSION)
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::none()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("token", &self.authorization.as_ref().map(|_| "[redacted]"))
            .field("space_id", &self.space_id)
            .field("version", &self.version())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}
