//! Manage Monime webhooks, and verify the events Monime delivers to them.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = monime_mock::MonimeMock::start().await?;
//! use monime_webhooks::Client;
//!
//! // Client::from_env() reads MONIME_ACCESS_TOKEN, MONIME_SPACE_ID (and MONIME_API_URL).
//! let client = Client::builder()
//!     .access_token("mon_test_example")
//!     .space_id("spc-example")
//!     .api_url(mock.base_url()) // omit for https://api.monime.io
//!     .build()?;
//!
//! let webhook = client
//!     .create()
//!     .name("Order notifications")
//!     .url("https://shop.example/hooks/monime")
//!     .events(["payment.completed", "payout.failed"])
//!     .es256()
//!     .send()
//!     .await?;
//! println!("created {:?} (request {:?})", webhook.id, webhook.request_id());
//! # Ok(()) }
//! ```
//!
//! What the client does for you:
//! * **The spec's own client**: every operation goes through the client `cargo xtask generate`
//!   makes from our OpenAPI spec ([`Client::api`]); the create and update builders have one
//!   setter per body property of the spec, so a property added to the spec is settable after
//!   regeneration alone.
//! * **Validation**: every constraint of the spec is checked before a request is sent
//!   ([`Error::Validation`] names the field), from tables generated from the spec.
//! * **Idempotency**: a create carries a fresh UUID v4 `Idempotency-Key` (or yours), the same
//!   on every retry, so a retried create never makes a second webhook.
//! * **Retries** ([`RetryPolicy`], default 3 attempts): transport errors, 408, 429, 500, 502,
//!   503 and 504, honouring `Retry-After` (seconds or a date) on 429 and 503; never other 4xx.
//! * **Safety**: redirects are never followed ([`Error::Redirect`]); the API URL must be https
//!   (plain http only for loopback hosts) without user-info; response bodies are read up to a
//!   limit.
//! * **Versions**: every request sends `Monime-Version` ([`API_VERSION`] unless configured).
//! * **Errors**: one [`Error`] type with Monime's reason, message and `Monime-Request-Id`.
//! * **Tracing**: a `monime.request` span per attempt (operation, attempt, status, request
//!   id); bodies are never logged.
//! * **Forward compatibility**: unknown fields and unknown enum values in responses decode.
//! * **Secrets**: `Debug` and `Display` never show the access token or a webhook secret.
//!
//! Receiving deliveries: [`signature`] is the `monime-signature` crate (verify the
//! `Monime-Signature` header over the raw body, then parse the [`signature::Event`]).
//!
//! Features: `rustls` (default) or `native-tls` for TLS; `axum` for
//! `signature::axum::VerifiedEvent`. MSRV: Rust 1.95.

#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod stream;
mod webhooks;

pub use client::{Client, Response};
pub use config::{ClientBuilder, DEFAULT_API_URL, DEFAULT_TIMEOUT};
pub use error::Error;
pub use stream::list_all_page_size;
pub use webhooks::{CreateWebhook, ListWebhooks, Page, UpdateWebhook};

pub use monime_signature as signature;
/// The generated client and the spec tables this crate is layered on.
pub use monime_webhooks_api as api;
pub use monime_webhooks_api::types::Webhook;
pub use monime_webhooks_api::{API_VERSION, ApiRelease, RetryPolicy, WebhookVerificationMethod};
/// reqwest's `Method`, for [`Client::raw`].
pub use reqwest::Method;
