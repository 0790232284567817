//! The generated client's request hooks: everything a call needs beyond what the spec says.
//!
//! * `pre` adds the caller's credentials and defaults from [`Settings`]: `Authorization`,
//!   `Monime-Space-Id` and `Monime-Version` when the request has none, and removes the
//!   `api-version` header progenitor adds to every request.
//! * `exec` sends the request under the retry policy: transport errors and the retryable
//!   statuses are tried again with the same request (so a create keeps its `Idempotency-Key`),
//!   honouring `Retry-After` on 429 and 503, within the policy's deadline. One `monime.request`
//!   tracing span per attempt. Redirects are never followed by the client the caller builds
//!   (see `monime_webhooks::ClientBuilder`), and the body of the final answer is read up to
//!   [`Settings::body_limit`].
//! * What the final answer said (status, request id, rate-limit hints) is kept for the caller
//!   of [`observe`], because progenitor's errors do not always carry it.

use std::cell::Cell;
use std::future::Future;
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Method, StatusCode};
use tracing::Instrument;

use crate::retry::{RETRY_AFTER_STATUSES, RETRYABLE_STATUSES};
use crate::spec::response_headers;
use crate::{Client, Settings};

/// The header progenitor adds to every request, which Monime does not read.
const PROGENITOR_VERSION_HEADER: &str = "api-version";

/// The longest single wait between attempts, whatever a server's `Retry-After` says.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// What the last answer of a call said, for errors that lost it on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// Attempts made, the first included.
    pub attempts: u32,
    /// The final answer's HTTP status.
    pub status: Option<u16>,
    /// The final answer's `Monime-Request-Id`.
    pub request_id: Option<String>,
    /// `Retry-After` of a 429 or 503, as a wait.
    pub retry_after: Option<Duration>,
    /// `Monime-Rate-Limit` of a 429.
    pub rate_limit: Option<String>,
    /// `Location` of a 3xx answer.
    pub location: Option<String>,
    /// The body was larger than the limit and was not read.
    pub body_too_large: bool,
    /// The answer came from another URL than the request's: an HTTP client that follows
    /// redirects was used. `location` is that URL; the answer was not read.
    pub redirected: bool,
    /// The time the retry policy's deadline had left when the server asked for a longer
    /// wait (`Retry-After`): the call gave up at once instead of waiting past it.
    pub deadline_left: Option<Duration>,
}

/// Marks an answer that came from another URL than the request went to.
#[derive(Debug, Clone)]
struct Redirected {
    from: reqwest::Url,
}

tokio::task_local! {
    static EXCHANGE: Cell<Option<Exchange>>;
}

/// Runs `call` (one generated operation's `send()`) and returns its output with what the
/// final answer said.
pub async fn observe<F: Future>(call: F) -> (F::Output, Exchange) {
    // The hooks write the record from inside the call; it is read back in the same scope.
    EXCHANGE
        .scope(Cell::new(None), async {
            let output = call.await;
            (output, EXCHANGE.with(Cell::take).unwrap_or_default())
        })
        .await
}

fn record(exchange: Exchange) {
    // Outside `observe` (the generated client used directly) there is nobody to tell.
    let _ = EXCHANGE.try_with(|slot| slot.set(Some(exchange)));
}

impl ClientHooks<Settings> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let settings = self.inner();
        let headers = request.headers_mut();
        // progenitor stamps `api-version: <info.version>` on every request, with no setting
        // to turn it off. Monime reads the release from `Monime-Version` (a parameter of the
        // spec); an unread header of another name is one more thing to wonder about.
        headers.remove(PROGENITOR_VERSION_HEADER);
        let defaults = std::iter::once(&settings.version_header)
            .chain(&settings.space_header)
            .chain(&settings.authorization);
        for header in defaults {
            header.add_to(headers).map_err(Error::InvalidRequest)?;
        }
        Ok(())
    }

    // A client built by the caller (or progenitor's `Client::new`) may follow redirects,
    // which the hooks cannot turn off: the answer's final URL tells, and the call fails
    // before its body is read.
    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        match result {
            Ok(response) => match response.extensions().get::<Redirected>() {
                Some(redirected) => Err(Error::Custom(format!(
                    "the request to {} was redirected to {}; the client does not follow \
                     redirects (build the HTTP client with `redirect::Policy::none()`)",
                    redirected.from,
                    response.url()
                ))),
                None => Ok(()),
            },
            Err(_) => Ok(()),
        }
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        send_with_retries(self.client(), self.inner(), request, info.operation_id).await
    }
}

/// Sends `request` under the retry policy.
async fn send_with_retries(
    http: &reqwest::Client,
    settings: &Settings,
    request: reqwest::Request,
    operation: &'static str,
) -> reqwest::Result<reqwest::Response> {
    let method = request.method().clone();
    let mut pending = Some(request);
    let policy = &settings.retry;
    // Only a deadline needs the start time.
    let started = policy.deadline.map(|_| Instant::now());
    let mut attempt = 0u32;
    // Whether an earlier attempt may have taken effect without us seeing its answer.
    let mut outcome_unknown = false;
    loop {
        attempt += 1;
        let span = tracing::info_span!(
            "monime.request",
            operation,
            method = %method,
            attempt,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let Some(mut request) = pending.take() else {
            unreachable!("the loop continues only with a request left to send");
        };
        // A copy for the next attempt, when there can be one; a body that cannot be copied
        // (a stream) is sent once.
        pending = if attempt < policy.max_attempts {
            request.try_clone()
        } else {
            None
        };
        if request.timeout().is_none() {
            *request.timeout_mut() = settings.timeout;
        }
        let requested = request.url().clone();
        let may_retry = |attempt: u32, wait: Duration| {
            attempt < policy.max_attempts
                && policy
                    .deadline
                    .zip(started)
                    .is_none_or(|(deadline, started)| {
                        started.elapsed().saturating_add(wait) <= deadline
                    })
        };
        match http.execute(request).instrument(span.clone()).await {
            Err(error) => {
                let retryable = !error.is_builder() && !error.is_redirect();
                let wait = policy.delay(attempt, None).min(MAX_WAIT);
                if !retryable || pending.is_none() || !may_retry(attempt, wait) {
                    record(Exchange {
                        attempts: attempt,
                        ..Exchange::default()
                    });
                    return Err(error);
                }
                outcome_unknown |= !error.is_connect();
                tracing::debug!(parent: &span, wait_ms = wait.as_millis() as u64, "retrying: {error}");
                tokio::time::sleep(wait).await;
            }
            Ok(mut response) => {
                let status = response.status();
                let mut exchange = exchange_of(attempt, status, response.headers());
                if response.url() != &requested {
                    record(Exchange {
                        location: Some(response.url().to_string()),
                        redirected: true,
                        ..exchange
                    });
                    response
                        .extensions_mut()
                        .insert(Redirected { from: requested });
                    return Ok(response);
                }
                span.record("status", status.as_u16());
                if let Some(id) = &exchange.request_id {
                    span.record("request_id", id.as_str());
                }
                if RETRYABLE_STATUSES.contains(&status.as_u16()) && pending.is_some() {
                    let wait = policy.delay(attempt, exchange.retry_after).min(MAX_WAIT);
                    if may_retry(attempt, wait) {
                        tracing::debug!(parent: &span, wait_ms = wait.as_millis() as u64, "retrying after {status}");
                        drop(response);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    exchange.deadline_left = policy
                        .deadline
                        .zip(started)
                        .map(|(deadline, started)| deadline.saturating_sub(started.elapsed()))
                        .filter(|left| wait > *left);
                }
                // A retried DELETE that finds nothing after an attempt whose outcome is
                // unknown: that attempt deleted it and its answer was lost. The webhook is
                // gone, as asked.
                if method == Method::DELETE && status == StatusCode::NOT_FOUND && outcome_unknown {
                    let mut done = exchange.clone();
                    done.status = Some(StatusCode::OK.as_u16());
                    record(done);
                    return Ok(deleted(response.headers().clone()));
                }
                let (response, too_large) = match response.content_length() {
                    // A declared length within the limit is enforced by the HTTP layer
                    // itself: the body is left for the generated code to read.
                    Some(length) if length <= settings.body_limit as u64 => (response, false),
                    _ => read_capped(response, settings.body_limit).await?,
                };
                record(Exchange {
                    body_too_large: too_large,
                    ..exchange
                });
                return Ok(response);
            }
        }
    }
}

/// The spec's response headers read from every answer, their names parsed once: a name given
/// as text is parsed and lower-cased on each lookup.
static REQUEST_ID: LazyLock<Option<HeaderName>> =
    LazyLock::new(|| parsed(response_headers::MONIME_REQUEST_ID));
static RATE_LIMIT: LazyLock<Option<HeaderName>> =
    LazyLock::new(|| parsed(response_headers::MONIME_RATE_LIMIT));

fn parsed(name: &str) -> Option<HeaderName> {
    HeaderName::from_bytes(name.as_bytes()).ok()
}

fn exchange_of(attempts: u32, status: StatusCode, headers: &HeaderMap) -> Exchange {
    let text = |name: Option<&HeaderName>| headers.get(name?)?.to_str().ok().map(str::to_owned);
    let retry_after = RETRY_AFTER_STATUSES
        .contains(&status.as_u16())
        .then(|| headers.get(response_headers::RETRY_AFTER)?.to_str().ok())
        .flatten()
        .and_then(|value| parse_retry_after(value, SystemTime::now()));
    Exchange {
        attempts,
        status: Some(status.as_u16()),
        request_id: text(REQUEST_ID.as_ref()),
        retry_after,
        rate_limit: text(RATE_LIMIT.as_ref()),
        location: status
            .is_redirection()
            .then(|| text(Some(&reqwest::header::LOCATION)))
            .flatten(),
        body_too_large: false,
        redirected: false,
        deadline_left: None,
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 section 10.2.3) in any of the
/// three forms recipients must accept (IMF-fixdate, RFC 850, asctime); a date in the past
/// means no wait.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The answer a DELETE would have had: the spec's empty envelope.
fn deleted(headers: HeaderMap) -> reqwest::Response {
    let envelope = crate::types::EmptyEnvelope {
        success: Some(true),
        messages: Vec::new(),
    };
    let body = serde_json::to_vec(&envelope).unwrap_or_default();
    let mut response = http::Response::new(body);
    *response.headers_mut() = headers;
    response
        .headers_mut()
        .remove(reqwest::header::CONTENT_LENGTH);
    reqwest::Response::from(response)
}

/// The response with its body read, up to `limit` bytes, for an answer that does not declare
/// a length within the limit; a longer body is dropped unread (the second value says so)
/// rather than held in memory.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> reqwest::Result<(reqwest::Response, bool)> {
    let declared_too_large = response
        .content_length()
        .is_some_and(|length| length > limit as u64);
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    let mut too_large = declared_too_large;
    while !too_large && let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            too_large = true;
            body.clear();
        } else {
            body.extend_from_slice(&chunk);
        }
    }
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    rebuilt
        .headers_mut()
        .remove(reqwest::header::CONTENT_LENGTH);
    Ok((reqwest::Response::from(rebuilt), too_large))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::parse_retry_after;

    #[test]
    fn retry_after_is_seconds_or_an_http_date_in_any_of_its_three_forms() {
        // Mon, 30 Nov 2026 06:00:00 GMT
        let now = UNIX_EPOCH + Duration::from_secs(1_796_018_400);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        for date in [
            "Mon, 30 Nov 2026 06:00:30 GMT",
            "Monday, 30-Nov-26 06:00:30 GMT",
            "Mon Nov 30 06:00:30 2026",
        ] {
            assert_eq!(
                parse_retry_after(date, now),
                Some(Duration::from_secs(30)),
                "{date}"
            );
        }
        assert_eq!(
            parse_retry_after("Mon, 30 Nov 2026 05:59:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means no wait"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
