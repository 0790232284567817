//! An axum extractor that only lets verified deliveries reach the handler.
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use monime_signature::{Verifier, axum::{VerifiedEvent, WebhookVerifier}};
//!
//! async fn receive(delivery: VerifiedEvent) -> &'static str {
//!     println!("{} {}", delivery.event.id, delivery.event.name);
//!     "ok"
//! }
//!
//! # fn app() -> Result<Router, monime_signature::Error> {
//! let verifier = WebhookVerifier::new(Verifier::hs256(std::env::var("MONIME_WEBHOOK_SECRET").unwrap())?);
//! let app = Router::new().route("/monime/webhook", post(receive)).with_state(verifier);
//! # Ok(app) }
//! ```
//!
//! With your own state type, implement `FromRef<YourState> for WebhookVerifier`.

use std::sync::Arc;

use axum::RequestExt;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::verify::{signature_header, unix_now};
use crate::{Error, Event, Verifier};

/// The extractor's configuration: the verifier and the body size limit. Cheap to clone.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    inner: Arc<Settings>,
}

#[derive(Debug)]
struct Settings {
    verifier: Verifier,
    /// `None`: the app's `DefaultBodyLimit` alone (axum's 2 MB when the app sets none).
    body_limit: Option<usize>,
}

impl WebhookVerifier {
    /// Bodies are limited by the app's `DefaultBodyLimit` layer, like axum's own extractors
    /// (2 MB when the app sets none).
    pub fn new(verifier: Verifier) -> WebhookVerifier {
        WebhookVerifier::settings(verifier, None)
    }

    /// Bodies above `body_limit` bytes are refused with 413; the app's `DefaultBodyLimit`,
    /// when smaller, still applies.
    pub fn with_body_limit(verifier: Verifier, body_limit: usize) -> WebhookVerifier {
        WebhookVerifier::settings(verifier, Some(body_limit))
    }

    fn settings(verifier: Verifier, body_limit: Option<usize>) -> WebhookVerifier {
        WebhookVerifier {
            inner: Arc::new(Settings {
                verifier,
                body_limit,
            }),
        }
    }
}

/// A delivery whose signature was verified: the parsed event and the exact bytes received.
#[derive(Debug, Clone)]
pub struct VerifiedEvent {
    /// The parsed event.
    pub event: Event,
    /// The body exactly as received, the bytes the signature covers.
    pub raw: Bytes,
    /// The signed `t`, in Unix seconds.
    pub timestamp: i64,
}

impl VerifiedEvent {
    /// The event's `data` decoded as the object `object.type` names (see
    /// [`Event::typed_data`]).
    pub fn typed_data(&self) -> Result<crate::EventData, crate::DecodeError> {
        self.event.typed_data()
    }
}

/// Why a delivery was refused; the response is short and names the failed check.
#[derive(Debug)]
pub enum Rejection {
    /// 413: the body is larger than the limit (the extractor's or the app's).
    TooLarge,
    /// 400: the body could not be read.
    Unreadable,
    /// 401 when the signature or timestamp fails, 400 when a verified body is not an event.
    Invalid(Error),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "body larger than the limit").into_response()
            }
            Rejection::Unreadable => (StatusCode::BAD_REQUEST, "unreadable body").into_response(),
            Rejection::Invalid(error @ Error::InvalidBody { .. }) => (
                StatusCode::BAD_REQUEST,
                format!("invalid event: {}", error.kind()),
            )
                .into_response(),
            Rejection::Invalid(error) => (
                StatusCode::UNAUTHORIZED,
                format!("invalid Monime signature: {}", error.kind()),
            )
                .into_response(),
        }
    }
}

impl<S> FromRequest<S> for VerifiedEvent
where
    S: Send + Sync,
    WebhookVerifier: FromRef<S>,
{
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let settings = WebhookVerifier::from_ref(state).inner;
        // What needs no body is checked first, so a request without a usable header is
        // answered at once instead of after reading up to the limit.
        let now = unix_now();
        signature_header(request.headers())
            .and_then(|header| settings.verifier.check_header_at(header, now))
            .map_err(Rejection::Invalid)?;
        let (parts, body) = request.with_limited_body().into_parts();
        let raw = read_limited(body, settings.body_limit).await?;
        let verified = settings
            .verifier
            .verify_headers_at(&parts.headers, &raw, now)
            .map_err(Rejection::Invalid)?;
        let event = Event::parse(&raw).map_err(Rejection::Invalid)?;
        Ok(VerifiedEvent {
            event,
            raw,
            timestamp: verified.timestamp,
        })
    }
}

/// The body, within the app's limit (already applied to `body`) and the extractor's own.
async fn read_limited(body: Body, limit: Option<usize>) -> Result<Bytes, Rejection> {
    axum::body::to_bytes(body, limit.unwrap_or(usize::MAX))
        .await
        .map_err(|error| {
            // The app's limit arrives wrapped in one or two more `axum::Error`s: walk the chain.
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
            while let Some(current) = cause {
                if current.is::<http_body_util::LengthLimitError>() {
                    return Rejection::TooLarge;
                }
                cause = current.source();
            }
            Rejection::Unreadable
        })
}
