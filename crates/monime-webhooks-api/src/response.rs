//! Reading an answer's body into progenitor's `ResponseValue`, for every generated operation:
//! `cargo xtask generate` puts [`read`] where progenitor's output calls
//! `ResponseValue::from_response`.

use std::future::Future;
use std::pin::Pin;

use progenitor_client::{Error, ResponseValue};
use serde::de::DeserializeOwned;

/// What `ResponseValue::from_response` does (the body read whole, then decoded from JSON),
/// with two differences that make each call lighter: the answer's headers are moved into the
/// value, not copied, and the reading is boxed, so that its state, the largest part of a
/// call's, is neither kept in every operation's future nor moved with the futures around it.
pub(crate) fn read<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> Pin<Box<impl Future<Output = Result<ResponseValue<T>, Error<E>>>>> {
    Box::pin(async move {
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let full = response.bytes().await.map_err(Error::ResponseBodyError)?;
        let inner = serde_json::from_slice(&full)
            .map_err(|error| Error::InvalidResponsePayload(full, error))?;
        Ok(ResponseValue::new(inner, status, headers))
    })
}
