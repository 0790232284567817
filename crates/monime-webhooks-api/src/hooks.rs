//! Request hooks for the generated client.
//!
//! progenitor stamps every request with `api-version: <info.version>`, a header Monime does not
//! read; Monime reads `Monime-Version`. The hook swaps one for the other and leaves a version
//! the caller chose on the builder untouched.

use progenitor_client::{ClientHooks, Error, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};

use crate::{API_VERSION, Client};

const MONIME_VERSION: HeaderName = HeaderName::from_static("monime-version");
const PROGENITOR_VERSION_HEADER: &str = "api-version";

impl ClientHooks<()> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let headers = request.headers_mut();
        headers.remove(PROGENITOR_VERSION_HEADER);
        if !headers.contains_key(&MONIME_VERSION) {
            headers.insert(MONIME_VERSION, HeaderValue::from_static(API_VERSION));
        }
        Ok(())
    }
}
