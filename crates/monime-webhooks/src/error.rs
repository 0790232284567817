//! The one error type of the client.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// Everything a call can fail with. `Display` is one line and never contains a token or a
/// webhook secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The client was configured with a missing or invalid value; `name` is the builder
    /// method or environment variable.
    Config { name: &'static str, message: String },
    /// A request value breaks the spec; nothing was sent.
    Validation { field: String, message: String },
    /// Monime answered with an error envelope.
    Api {
        status: u16,
        code: Option<i64>,
        reason: String,
        message: String,
        details: Vec<Value>,
        request_id: Option<String>,
    },
    /// Monime answered 429; `retry_after` is its `Retry-After`, `limit` its
    /// `Monime-Rate-Limit` (`token-limit`, `space-limit`, `endpoint-limit`).
    RateLimited {
        retry_after: Option<Duration>,
        limit: Option<String>,
        message: String,
        request_id: Option<String>,
    },
    /// The request did not complete: connection refused or reset, timeout, TLS.
    Transport(reqwest::Error),
    /// The response could not be decoded; `excerpt` is the start of the body, secrets masked.
    Decode {
        status: u16,
        message: String,
        excerpt: String,
        request_id: Option<String>,
    },
}

/// Statuses worth retrying: timeouts, rate limits and server-side failures.
pub(crate) const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

impl Error {
    /// Whether trying the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(error) => !error.is_builder() && !error.is_redirect(),
            Error::RateLimited { .. } => true,
            Error::Api { status, .. } | Error::Decode { status, .. } => {
                RETRYABLE_STATUSES.contains(status)
            }
            Error::Config { .. } | Error::Validation { .. } => false,
        }
    }

    /// Whether the request may have taken effect although no answer says so: the connection
    /// failed after the request could have been sent, or a gateway-side failure.
    pub(crate) fn outcome_unknown(&self) -> bool {
        match self {
            Error::Transport(error) => !error.is_connect() && !error.is_builder(),
            Error::Api { status, .. } | Error::Decode { status, .. } => {
                matches!(status, 408 | 500 | 502 | 504)
            }
            _ => false,
        }
    }

    /// Monime's `Monime-Request-Id` for the response this error came from, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the response this error came from, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            Error::Transport(error) => error.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let request = |id: &Option<String>| {
            id.as_ref()
                .map(|id| format!(" (request {id})"))
                .unwrap_or_default()
        };
        match self {
            Error::Config { name, message } => write!(f, "invalid configuration: {name} {message}"),
            Error::Validation { field, message } => {
                write!(f, "invalid request, nothing sent: {field}: {message}")
            }
            Error::Api {
                status,
                reason,
                message,
                request_id,
                ..
            } => {
                write!(
                    f,
                    "Monime answered {status} {reason}: {message}{}",
                    request(request_id)
                )
            }
            Error::RateLimited {
                retry_after,
                limit,
                message,
                request_id,
            } => {
                write!(f, "rate limited by Monime")?;
                if let Some(limit) = limit {
                    write!(f, " ({limit})")?;
                }
                if let Some(after) = retry_after {
                    write!(f, ", retry after {} s", after.as_secs())?;
                }
                write!(f, ": {message}{}", request(request_id))
            }
            Error::Transport(error) => write!(f, "request to Monime failed: {}", one_line(error)),
            Error::Decode {
                status,
                message,
                excerpt,
                request_id,
            } => write!(
                f,
                "cannot decode Monime's {status} response: {message}; body starts {excerpt:?}{}",
                request(request_id)
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport(error) => Some(error),
            _ => None,
        }
    }
}

impl From<monime_webhooks_api::constraints::Violation> for Error {
    fn from(violation: monime_webhooks_api::constraints::Violation) -> Error {
        Error::Validation {
            field: violation.field,
            message: violation.message,
        }
    }
}

/// reqwest's error with its causes, on one line. reqwest errors print the URL, which holds no
/// secret here: the token travels in a header.
fn one_line(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace('\n', " ")
}

/// The first 200 characters of a body, with the values of `"secret"` keys masked.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let masked = mask_secrets(&text);
    let mut chars = masked.chars();
    let head: String = chars.by_ref().take(200).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}

/// Replaces the string value of every `"secret"` key with `[redacted]`, without parsing (the
/// body may not be valid JSON).
pub(crate) fn mask_secrets(text: &str) -> String {
    const KEY: &str = "\"secret\"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (before, after_key) = rest.split_at(at + KEY.len());
        out.push_str(before);
        let trimmed = after_key.trim_start();
        let Some(after_colon) = trimmed.strip_prefix(':') else {
            rest = after_key;
            continue;
        };
        let value = after_colon.trim_start();
        let Some(inner) = value.strip_prefix('"') else {
            rest = after_key;
            continue;
        };
        out.push_str(":\"[redacted]\"");
        // Skip to the closing quote, honouring escapes; an unterminated value is dropped.
        let mut escaped = false;
        let mut end = inner.len();
        for (index, ch) in inner.char_indices() {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = index + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &inner[end.min(inner.len())..];
    }
    out.push_str(rest);
    out
}
