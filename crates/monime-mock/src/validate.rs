//! The emulator's checks of what it receives, all through the spec tables and the one
//! validator the client uses too (`monime_webhooks_api::constraints`).

use axum::http::HeaderMap;
use monime_webhooks_api::constraints::{self, Violation};
use monime_webhooks_api::schema::{Operation, Param};
use monime_webhooks_api::spec::params;
use serde_json::Value;

use crate::error::ApiError;

impl From<Violation> for ApiError {
    fn from(violation: Violation) -> ApiError {
        ApiError::invalid(violation.to_string())
    }
}

/// The body of `operation`, checked against its schema.
pub fn body(operation: &Operation, body: &Value) -> Result<(), ApiError> {
    match operation.body {
        Some(schema) => Ok(constraints::check_body(schema, body)?),
        None => Ok(()),
    }
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

/// A header parameter: checked, and present when the spec requires it.
fn header_param(headers: &HeaderMap, param: &Param) -> Result<Option<String>, ApiError> {
    let value = header(headers, param.name)?;
    constraints::check_required_param(param, value)?;
    Ok(value.map(str::to_owned))
}

/// `Monime-Space-Id`, which every operation requires.
pub fn space_id(headers: &HeaderMap) -> Result<String, ApiError> {
    header_param(headers, &params::MONIME_SPACE_ID)?
        .ok_or_else(|| Violation::new(params::MONIME_SPACE_ID.name, "is required").into())
}

/// `Monime-Version`, when sent.
pub fn monime_version(headers: &HeaderMap) -> Result<(), ApiError> {
    header_param(headers, &params::MONIME_VERSION).map(|_| ())
}

/// `Idempotency-Key`, which create requires.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    header_param(headers, &params::IDEMPOTENCY_KEY)?
        .ok_or_else(|| Violation::new(params::IDEMPOTENCY_KEY.name, "is required").into())
}

/// A path `id`.
pub fn webhook_id(id: &str) -> Result<(), ApiError> {
    Ok(constraints::check_param(&params::ID, id)?)
}

/// A query parameter's text, checked.
pub fn query(param: &Param, value: &str) -> Result<(), ApiError> {
    Ok(constraints::check_param(param, value)?)
}
