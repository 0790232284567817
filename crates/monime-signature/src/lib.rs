//! Verify, and produce, the signatures on Monime's webhook deliveries.
//!
//! Monime POSTs each event to your webhook's URL with a `Monime-Signature` header:
//!
//! ```text
//! Monime-Signature: t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=
//! ```
//!
//! * **HS256**: `v1` is `base64(HMAC-SHA256(secret, "<t>_<raw body>"))`: the `t` text exactly
//!   as sent, an **underscore**, then the request body **bytes exactly as received**. The key is
//!   the secret's UTF-8 bytes (not base64-decoded, not trimmed); `v1` is standard base64 with
//!   padding. Monime has not published this scheme; it is what Monime's own integrations do.
//! * **ES256**: Monime has **not published** this format. This crate reads it as the same
//!   header over the same bytes, signed with ECDSA P-256 / SHA-256 by the key whose public half
//!   is the webhook's `publicKey` (PEM). It accepts DER or 64-byte `r||s` signatures, in
//!   standard or URL-safe base64, padded or not, and signs DER in standard base64.
//!
//! Verify first, at the edge, with the raw bytes; parse later:
//!
//! ```
//! use monime_signature::{Event, Signer, Verifier};
//!
//! # let secret = "test_secret_for_vector_0123456789abcdef";
//! # let body: &[u8] = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"payout.failed","timestamp":"1771803194"},"object":{"id":"pyt-1","type":"payout"},"data":{"id":"pyt-1"}}"#;
//! # let header = Signer::hs256(secret)?.sign(1771803194, body);
//! let verifier = Verifier::hs256(secret)?; // .and_hs256(previous_secret)? while rotating
//! verifier.verify_at(&header, body, 1771803194)?; // verify(&header, body) uses the clock
//! let event = Event::parse(body)?;
//! assert_eq!(event.id, "wkd-1");
//! assert_eq!(event.object.kind, "payout");
//! # Ok::<(), monime_signature::Error>(())
//! ```
//!
//! [`Event::typed_data`] decodes `data` as the object `object.type` names ([`EventData`]:
//! `Payment`, `Payout`, `CheckoutSession`, `PaymentCode`, ... or `Unknown`), with types that
//! never break on a field, status, provider or channel type Monime adds later.
//!
//! Errors say what to check: a mismatch explains the usual mistakes and, when it can tell,
//! which one was made (a period separator, hex `v1`, a secret with a trailing newline).
//!
//! Features: `es256` (default) for ES256 verification and signing, which brings in the P-256
//! stack; without it the crate verifies HS256 only. `axum` adds an extractor,
//! `axum::VerifiedEvent`, that reads the raw body with a size limit, verifies it and answers
//! 401 when verification fails.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod diagnose;
mod error;
mod event;
mod header;
mod sign;
mod verify;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

pub use error::{Error, Hint};
pub use event::{Event, EventName, ObjectRef, TypedEvent};
pub use header::{MAX_HEADER_BYTES, MAX_SIGNATURES, SignatureHeader};
/// The typed objects events carry (`Payment`, `Payout`, `CheckoutSession`, `PaymentCode`, ...),
/// from the `monime-events` crate: [`Event::typed_data`] returns an [`EventData`].
pub use monime_events::*;
pub use sign::Signer;
pub use verify::{DEFAULT_TOLERANCE, SIGNATURE_HEADER, Verified, Verifier};

/// The `http` crate this crate's [`Verifier::verify_headers`] takes a `HeaderMap` of; use it to
/// avoid two `http` versions in one build.
pub use http;
