//! The client generated from our OpenAPI spec of Monime's Webhooks API, release
//! `caph.2025-08-23`, plus the few hand-written pieces it needs.
//!
//! Most users want the `monime-webhooks` crate, which wraps this one with retries,
//! idempotency keys and friendlier builders. This crate is the exact, typed surface of the spec:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use monime_webhooks_api::Client;
//!
//! let mut headers = reqwest::header::HeaderMap::new();
//! headers.insert(reqwest::header::AUTHORIZATION, "Bearer mon_test_123".parse()?);
//! let http = reqwest::Client::builder().default_headers(headers).build()?;
//! let client = Client::new_with_client("https://api.monime.io", http);
//!
//! let page = client.list_webhooks().monime_space_id("spc-example").limit(20).send().await?;
//! for webhook in page.into_inner().result.unwrap_or_default() {
//!     println!("{:?} {:?}", webhook.id, webhook.url);
//! }
//! # Ok(()) }
//! ```
//!
//! * Every request carries `Monime-Version: caph.2025-08-23` ([`API_VERSION`]) unless the
//!   caller sets another version on the builder.
//! * Values Monime may add later (an `apiRelease`, a verification method type) decode into
//!   [`ApiRelease::Unknown`] and [`WebhookVerificationMethod::Unknown`] instead of failing the
//!   whole response. Request types stay closed and reject unknown values.
//! * TLS: the `rustls` feature (default) or `native-tls`, passed through to reqwest.

pub mod constraints;
mod hooks;
mod open;
mod secret;

// The generated module is excluded from lints we hold hand-written code to.
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_debug_implementations,
    unused_qualifications
)]
mod generated;

pub use generated::*;
pub use open::{ApiRelease, WebhookVerificationMethod};
pub use secret::{Hs256, InvalidSecret, WebhookSecret};

/// The Monime API version this crate was generated for, sent as `Monime-Version`.
pub const API_VERSION: &str = "caph.2025-08-23";
