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
//!
//! Each rejection is logged as a `tracing` warning (target `monime_signature`), at most once a
//! second per verifier: its kind, for a signature mismatch the likely mistake (a re-serialized
//! body, a period separator, a base64-decoded secret, ... see [`crate::Hint`]), the clock skew
//! and the body's length. The secret, the signature and the body are never logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use axum::RequestExt;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::header::SignatureHeader;
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
    /// The Unix second of the last rejection warning, and the rejections not logged since.
    last_warning: AtomicI64,
    unlogged: AtomicU64,
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
                last_warning: AtomicI64::new(i64::MIN),
                unlogged: AtomicU64::new(0),
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
    /// The `Monime-Signature` header that covered the body, as received: kept with a stored
    /// delivery, it lets the delivery be verified again.
    pub signature: String,
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
        let now = unix_now();
        let verified = verify_request(&settings, request, now).await;
        if let Err((rejection, header, body)) = &verified {
            settings.warn(rejection, header.as_deref(), body, now);
        }
        verified.map_err(|(rejection, _, _)| rejection)
    }
}

/// A rejection, with the signature header and the body when they were read, for the warning.
type Rejected = (Rejection, Option<String>, Bytes);

async fn verify_request(
    settings: &Settings,
    request: Request,
    now: i64,
) -> Result<VerifiedEvent, Rejected> {
    // For a rejection's warning; a verified delivery keeps the header in `VerifiedEvent`.
    let header_text = |headers| signature_header(headers).ok().map(str::to_owned);
    // What needs no body is checked first, so a request without a usable header is
    // answered at once instead of after reading up to the limit.
    let checked = signature_header(request.headers())
        .and_then(|header| settings.verifier.check_header_at(header, now).map(|_| ()));
    if let Err(error) = checked {
        let header = header_text(request.headers());
        return Err((Rejection::Invalid(error), header, Bytes::new()));
    }
    let (parts, body) = request.with_limited_body().into_parts();
    let raw = match read_limited(body, settings.body_limit).await {
        Ok(raw) => raw,
        Err(rejection) => return Err((rejection, header_text(&parts.headers), Bytes::new())),
    };
    let invalid = |error, raw| (Rejection::Invalid(error), header_text(&parts.headers), raw);
    let verified = match settings
        .verifier
        .verify_headers_at(&parts.headers, &raw, now)
    {
        Ok(verified) => verified,
        Err(error) => return Err(invalid(error, raw)),
    };
    match Event::parse(&raw) {
        Ok(event) => Ok(VerifiedEvent {
            event,
            raw,
            timestamp: verified.timestamp,
            signature: signature_header(&parts.headers)
                .unwrap_or_default()
                .to_owned(),
        }),
        Err(error) => Err(invalid(error, raw)),
    }
}

impl Settings {
    /// Logs a rejection as a `tracing` warning (target `monime_signature`): its kind, the
    /// likely mistakes for a signature mismatch, the clock skew and the body's length; never
    /// the secret, the signature or the body. At most one warning a second per verifier, so
    /// a flood of forged deliveries neither floods the logs nor pays for a diagnosis each;
    /// the next warning counts the rejections left out.
    fn warn(&self, rejection: &Rejection, header: Option<&str>, body: &[u8], now: i64) {
        let last = self.last_warning.load(Ordering::Relaxed);
        if last >= now
            || self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let unlogged = self.unlogged.swap(0, Ordering::Relaxed);
        let parsed = header.and_then(|header| SignatureHeader::parse(header).ok());
        let clock_skew_secs = parsed
            .as_ref()
            .map(|parsed| now.saturating_sub(parsed.timestamp));
        let (kind, hints) = match rejection {
            Rejection::TooLarge => ("too_large", Vec::new()),
            Rejection::Unreadable => ("unreadable", Vec::new()),
            Rejection::Invalid(error @ Error::SignatureMismatch { .. }) => (
                error.kind(),
                parsed
                    .as_ref()
                    .map(|parsed| self.verifier.explain_mismatch(parsed, body))
                    .unwrap_or_default(),
            ),
            Rejection::Invalid(error) => (error.kind(), Vec::new()),
        };
        let hint: Vec<&str> = hints.iter().map(|hint| hint.kind()).collect();
        let explanation = hints.first().map_or("", |hint| hint.explanation());
        tracing::warn!(
            target: "monime_signature",
            kind,
            hint = hint.join(","),
            clock_skew_secs,
            body_len = body.len(),
            unlogged,
            "rejected a delivery: {kind}. {explanation}"
        );
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
