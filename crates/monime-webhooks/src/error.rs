//! The one error type of the client, and how the generated client's failures map into it.

use std::fmt;
use std::time::Duration;

use monime_webhooks_api::hooks::Exchange;
use monime_webhooks_api::types::ErrorEnvelope;
use serde_json::Value;

/// Everything a call can fail with. `Display` is one line and never contains a token or a
/// webhook secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The client was configured with a missing or invalid value; `name` is the builder
    /// method or environment variable.
    Config {
        /// The builder method or environment variable.
        name: &'static str,
        /// What is wrong with its value (never the value itself).
        message: String,
    },
    /// A request value breaks the spec; nothing was sent.
    Validation {
        /// The JSON path or parameter name, as the spec spells it.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Monime answered with an error envelope.
    Api {
        /// The HTTP status.
        status: u16,
        /// Monime's `error.code` (mirrors the status).
        code: Option<i64>,
        /// Monime's stable snake_case cause, such as `idempotency_key_in_use`.
        reason: String,
        /// Monime's sentence for people.
        message: String,
        /// Monime's extra structured facts.
        details: Vec<Value>,
        /// Monime's id for the request.
        request_id: Option<String>,
    },
    /// Monime answered 429; `retry_after` is its `Retry-After`, `limit` its
    /// `Monime-Rate-Limit` (`token-limit`, `space-limit`, `endpoint-limit`).
    RateLimited {
        /// How long Monime asks to wait.
        retry_after: Option<Duration>,
        /// What the retry policy's deadline had left when that wait was asked for: longer,
        /// the call gave up at once rather than wait past the deadline.
        deadline_left: Option<Duration>,
        /// Which limit was hit.
        limit: Option<String>,
        /// Monime's sentence for people.
        message: String,
        /// Monime's id for the request.
        request_id: Option<String>,
    },
    /// The server answered with a redirect, which the client never follows: the request (and
    /// its token) stays with the host you named. With an HTTP client of your own that follows
    /// redirects, the answer that came from elsewhere is refused unread instead.
    Redirect {
        /// The 3xx status; with a client that followed the redirect, the status of the answer
        /// that came from elsewhere.
        status: u16,
        /// Where the server pointed (not followed), or where the answer came from.
        location: Option<String>,
        /// Monime's id for the request, if the answer had one.
        request_id: Option<String>,
    },
    /// The request did not complete: connection refused or reset, timeout, TLS.
    Transport(reqwest::Error),
    /// The response could not be decoded; `excerpt` is the start of the body, secrets masked.
    Decode {
        /// The HTTP status of the answer.
        status: u16,
        /// Why it could not be decoded.
        message: String,
        /// The start of the body, secrets masked.
        excerpt: String,
        /// Monime's id for the request, if the answer had one.
        request_id: Option<String>,
    },
}

impl Error {
    /// Whether trying the same request again may succeed. The client has already retried per
    /// its [`crate::RetryPolicy`] when it returns an error.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(error) => !error.is_builder() && !error.is_redirect(),
            Error::RateLimited { .. } => true,
            Error::Api { status, .. } | Error::Decode { status, .. } => {
                monime_webhooks_api::RETRYABLE_STATUSES.contains(status)
            }
            _ => false,
        }
    }

    /// Monime's `Monime-Request-Id` for the response this error came from, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::Redirect { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the response this error came from, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. }
            | Error::Decode { status, .. }
            | Error::Redirect { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            Error::Transport(error) => error.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// A response whose body was over the client's limit.
    pub(crate) fn too_large(exchange: &Exchange) -> Error {
        Error::Decode {
            status: exchange.status.unwrap_or_default(),
            message: "the response body is larger than the client's body limit; it was not read"
                .to_owned(),
            excerpt: String::new(),
            request_id: exchange.request_id.clone(),
        }
    }

    /// Maps a failure of a generated operation, with what its final answer said.
    pub(crate) async fn from_generated(
        error: monime_webhooks_api::Error<ErrorEnvelope>,
        exchange: &Exchange,
    ) -> Error {
        use monime_webhooks_api::Error as Generated;
        if exchange.body_too_large {
            return Error::too_large(exchange);
        }
        if exchange.redirected {
            return Error::Redirect {
                status: exchange.status.unwrap_or_default(),
                location: exchange.location.clone(),
                request_id: exchange.request_id.clone(),
            };
        }
        let request_id = exchange.request_id.clone();
        match error {
            Generated::InvalidRequest(message) => Error::Validation {
                field: "request".to_owned(),
                message,
            },
            Generated::CommunicationError(error) | Generated::ResponseBodyError(error) => {
                Error::Transport(error)
            }
            Generated::ErrorResponse(value) => {
                let status = value.status().as_u16();
                from_envelope(status, exchange, value.into_inner())
            }
            Generated::InvalidResponsePayload(bytes, error) => Error::Decode {
                status: exchange.status.unwrap_or_default(),
                message: error.to_string(),
                excerpt: excerpt(&bytes),
                request_id,
            },
            Generated::UnexpectedResponse(response) => {
                let status = response.status();
                if status.is_redirection() {
                    return Error::Redirect {
                        status: status.as_u16(),
                        location: exchange.location.clone(),
                        request_id,
                    };
                }
                let bytes = response.bytes().await.unwrap_or_default();
                match serde_json::from_slice::<ErrorEnvelope>(&bytes) {
                    Ok(envelope) if !status.is_success() => {
                        from_envelope(status.as_u16(), exchange, envelope)
                    }
                    _ => Error::Decode {
                        status: status.as_u16(),
                        message: if status.is_success() {
                            "a success status the spec does not declare".to_owned()
                        } else {
                            "not Monime's error envelope".to_owned()
                        },
                        excerpt: excerpt(&bytes),
                        request_id,
                    },
                }
            }
            Generated::InvalidUpgrade(error) => Error::Transport(error),
            Generated::Custom(message) => Error::Decode {
                status: exchange.status.unwrap_or_default(),
                message,
                excerpt: String::new(),
                request_id,
            },
        }
    }
}

/// [`Error::RateLimited`] for a 429, [`Error::Api`] otherwise.
fn from_envelope(status: u16, exchange: &Exchange, envelope: ErrorEnvelope) -> Error {
    let detail = envelope.error;
    if status == 429 {
        return Error::RateLimited {
            retry_after: exchange.retry_after,
            deadline_left: exchange.deadline_left,
            limit: exchange.rate_limit.clone(),
            message: detail.message,
            request_id: exchange.request_id.clone(),
        };
    }
    Error::Api {
        status,
        code: Some(detail.code),
        reason: detail.reason,
        message: detail.message,
        details: detail.details,
        request_id: exchange.request_id.clone(),
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
                deadline_left,
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
                if let Some(left) = deadline_left {
                    write!(
                        f,
                        ", past the retry deadline ({:.1} s left), so not retried",
                        left.as_secs_f64()
                    )?;
                }
                write!(f, ": {message}{}", request(request_id))
            }
            Error::Redirect {
                status,
                location,
                request_id,
            } => {
                write!(
                    f,
                    "Monime answered {status}, a redirect, which is not followed"
                )?;
                if let Some(location) = location {
                    write!(f, " (Location: {})", location.escape_debug())?;
                }
                write!(f, "{}", request(request_id))
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
/// secret here: the token travels in a header and user-info in the URL is refused.
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
