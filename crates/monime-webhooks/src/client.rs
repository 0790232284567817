//! The client and its one request pipeline: every operation, the raw escape hatch included,
//! goes through [`Client::execute`], which adds auth and Monime's headers, retries, maps
//! errors and traces.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;

use crate::config::ClientBuilder;
use crate::error::{Error, excerpt};
use crate::retry::RetryPolicy;

pub(crate) struct Config {
    pub token: String,
    pub space_id: String,
    pub api_url: String,
    pub version: String,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub http: reqwest::Client,
}

/// A client of Monime's Webhooks API for one space. Cheap to clone; clones share the
/// connection pool.
#[derive(Clone)]
pub struct Client {
    config: Arc<Config>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_url", &self.config.api_url)
            .field("space_id", &self.config.space_id)
            .field("version", &self.config.version)
            .field("access_token", &"[redacted]")
            .field("retry", &self.config.retry)
            .field("timeout", &self.config.timeout)
            .finish()
    }
}

/// A successful result with the `Monime-Request-Id` of the response that carried it.
/// Dereferences to the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    value: T,
    request_id: Option<String>,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, request_id: Option<String>) -> Response<T> {
        Response { value, request_id }
    }

    /// Monime's id for the request; quote it when asking Monime for support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// The longest single wait between attempts, whatever a server's Retry-After says.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// One request as the operations describe it.
pub(crate) struct Call {
    pub operation: &'static str,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub idempotency_key: Option<String>,
}

/// A 2xx answer, body not yet decoded.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `MONIME_ACCESS_TOKEN`, `MONIME_SPACE_ID` and, when set,
    /// `MONIME_API_URL` and `MONIME_VERSION`.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env().build()
    }

    pub(crate) fn new(config: Config) -> Client {
        Client {
            config: Arc::new(config),
        }
    }

    /// The space this client acts on.
    pub fn space_id(&self) -> &str {
        &self.config.space_id
    }

    /// The API base URL.
    pub fn api_url(&self) -> &str {
        &self.config.api_url
    }

    /// Sends `call`, retrying per the policy, and returns the first 2xx answer.
    pub(crate) async fn execute(&self, call: &Call) -> Result<Answer, Error> {
        let policy = &self.config.retry;
        let started = Instant::now();
        let mut attempt = 0u32;
        // Whether an earlier attempt may have taken effect without us seeing the answer.
        let mut outcome_unknown = false;
        loop {
            attempt += 1;
            let span = tracing::info_span!(
                "monime.request",
                operation = call.operation,
                method = %call.method,
                attempt,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
            );
            let outcome = self.attempt(call).instrument(span.clone()).await;
            let error = match outcome {
                Ok(answer) => {
                    span.record("status", answer.status.as_u16());
                    if let Some(id) = &answer.request_id {
                        span.record("request_id", id.as_str());
                    }
                    return Ok(answer);
                }
                // A retried DELETE answered 404 after an attempt whose outcome is unknown: that
                // attempt deleted it and lost its response. The webhook is gone, as asked.
                Err(Error::Api {
                    status: 404,
                    request_id,
                    ..
                }) if call.method == Method::DELETE && outcome_unknown => {
                    return Ok(Answer {
                        status: StatusCode::OK,
                        body: Vec::new(),
                        request_id,
                    });
                }
                Err(error) => error,
            };
            if let Some(status) = error.status() {
                span.record("status", status);
            }
            if let Some(id) = error.request_id() {
                span.record("request_id", id);
            }
            if !error.is_retryable() || attempt >= policy.max_attempts {
                return Err(error);
            }
            outcome_unknown |= error.outcome_unknown();
            // A server's Retry-After is honoured, within the deadline (or an hour without one).
            let wait = policy.delay(attempt, error.retry_after()).min(MAX_WAIT);
            if policy
                .deadline
                .is_some_and(|deadline| started.elapsed().saturating_add(wait) > deadline)
            {
                return Err(error);
            }
            tracing::debug!(parent: &span, wait_ms = wait.as_millis() as u64, "retrying: {error}");
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: &Call) -> Result<Answer, Error> {
        let config = &self.config;
        let mut request = config
            .http
            .request(
                call.method.clone(),
                format!("{}{}", config.api_url, call.path),
            )
            .timeout(config.timeout)
            .bearer_auth(&config.token)
            .header("monime-space-id", &config.space_id)
            .header("monime-version", &config.version)
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(Error::Transport)?;
        let status = response.status();
        let request_id = header_text(response.headers(), "monime-request-id");
        if status.is_success() {
            let body = response.bytes().await.map_err(Error::Transport)?.to_vec();
            return Ok(Answer {
                status,
                body,
                request_id,
            });
        }
        // Only failures need the other headers (Retry-After, Monime-Rate-Limit).
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(Error::Transport)?;
        Err(error_from(status, &headers, &body, request_id))
    }

    /// Sends any request to the API with this client's auth, headers, retries and errors:
    /// the escape hatch for endpoints or fields our spec does not have yet. A `POST` gets a
    /// fresh `Idempotency-Key`, reused on every retry. Returns the parsed JSON body (`null`
    /// for an empty one).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// use reqwest::Method;
    ///
    /// let page = client.raw(Method::GET, "/v1/webhooks?limit=5", None).await?;
    /// assert_eq!(page["success"], true);
    /// # Ok(()) }
    /// ```
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Response<Value>, Error> {
        // The path is appended to the API URL: anything but an absolute path could send the
        // token elsewhere (`@host/...`).
        if !path.starts_with('/') {
            return Err(Error::Validation {
                field: "path".to_owned(),
                message: format!("must start with `/`, got `{path}`"),
            });
        }
        let idempotency_key = (method == Method::POST).then(new_idempotency_key);
        // The path may carry its own query string; it is used as given.
        let call = Call {
            operation: "raw",
            method,
            path: path.to_owned(),
            query: Vec::new(),
            body,
            idempotency_key,
        };
        let answer = self.execute(&call).await?;
        let value = if answer.body.is_empty() {
            Value::Null
        } else {
            decode(&answer)?
        };
        Ok(Response::new(value, answer.request_id))
    }
}

pub(crate) fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Decodes a 2xx body into `T`.
pub(crate) fn decode<T: DeserializeOwned>(answer: &Answer) -> Result<T, Error> {
    serde_json::from_slice(&answer.body).map_err(|e| Error::Decode {
        status: answer.status.as_u16(),
        message: e.to_string(),
        excerpt: excerpt(&answer.body),
        request_id: answer.request_id.clone(),
    })
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(str::to_owned)
}

/// Maps a non-2xx answer to [`Error::RateLimited`], [`Error::Api`] or, when the body is not
/// Monime's error envelope, [`Error::Decode`].
fn error_from(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    request_id: Option<String>,
) -> Error {
    let envelope: Option<Value> = serde_json::from_slice(body).ok();
    let error = envelope
        .as_ref()
        .and_then(|v| v.get("error"))
        .filter(|e| e.is_object());
    let text = |key: &str| {
        error
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Error::RateLimited {
            retry_after: header_text(headers, "retry-after")
                .and_then(|v| v.trim().parse().ok())
                .map(Duration::from_secs),
            limit: header_text(headers, "monime-rate-limit"),
            message: text("message").unwrap_or_else(|| "too many requests".to_owned()),
            request_id,
        };
    }
    match error {
        Some(error) => Error::Api {
            status: status.as_u16(),
            code: error.get("code").and_then(Value::as_i64),
            reason: text("reason").unwrap_or_else(|| "unknown".to_owned()),
            message: text("message").unwrap_or_default(),
            details: error
                .get("details")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            request_id,
        },
        None => Error::Decode {
            status: status.as_u16(),
            message: "not Monime's error envelope".to_owned(),
            excerpt: excerpt(body),
            request_id,
        },
    }
}
