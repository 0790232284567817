//! Header and path checks of the emulator; body checks live in
//! `monime_webhooks_api::constraints`, shared with the client.

use axum::http::HeaderMap;
use monime_webhooks_api::constraints::{self, Violation};
pub use monime_webhooks_api::constraints::{CreateInput, MethodInput, Patch, UpdateInput};
use serde_json::Value;

use crate::error::ApiError;

impl From<Violation> for ApiError {
    fn from(violation: Violation) -> ApiError {
        ApiError::invalid(violation.to_string())
    }
}

pub fn create(body: &Value) -> Result<CreateInput, ApiError> {
    Ok(constraints::create(body)?)
}

pub fn update(body: Option<&Value>) -> Result<UpdateInput, ApiError> {
    Ok(constraints::update(body)?)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("{name}: must be visible ASCII"))),
    }
}

/// `Monime-Space-Id`: required, at most 64 characters, `spc-` prefix.
pub fn space_id(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = header(headers, "monime-space-id")?
        .ok_or_else(|| ApiError::invalid("Monime-Space-Id: header is required"))?;
    constraints::space_id(value)?;
    Ok(value.to_owned())
}

/// `Monime-Version`: optional, one of the versions the spec lists.
pub fn monime_version(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(version) = header(headers, "monime-version")? {
        constraints::monime_version(version)?;
    }
    Ok(())
}

/// `Idempotency-Key`: required on create, at most 64 characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = header(headers, "idempotency-key")?
        .ok_or_else(|| ApiError::invalid("Idempotency-Key: header is required"))?;
    constraints::idempotency_key(key)?;
    Ok(key.to_owned())
}

/// A path `id`: must match `^whk-.*$`.
pub fn webhook_id(id: &str) -> Result<(), ApiError> {
    Ok(constraints::webhook_id(id)?)
}
