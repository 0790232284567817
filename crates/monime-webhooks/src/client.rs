//! The client: the generated client with this crate's settings, and the one place where a
//! generated operation's outcome becomes a [`Response`] or an [`Error`].

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use monime_webhooks_api::SpaceId;
use monime_webhooks_api::hooks;
use monime_webhooks_api::spec::{params, response_headers};
use monime_webhooks_api::types::ErrorEnvelope;
use monime_webhooks_api::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;

use crate::error::{Error, excerpt};

/// A client of Monime's Webhooks API for one space. Cheap to clone; clones share the
/// connection pool.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

struct Shared {
    api: monime_webhooks_api::Client,
    /// Checked once when the client is built; every operation sends it as is.
    space: SpaceId,
}

/// What a generated operation's `send()` gives.
type Outcome<T> = Result<ResponseValue<T>, monime_webhooks_api::Error<ErrorEnvelope>>;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_url", &self.api_url())
            .field("settings", self.api().inner())
            .finish()
    }
}

/// A successful result with the `Monime-Request-Id` of the response that carried it.
/// Dereferences to the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    value: T,
    request_id: Option<String>,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, request_id: Option<String>) -> Response<T> {
        Response { value, request_id }
    }

    /// Monime's id for the request; quote it when asking Monime for support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The value, without the request id.
    pub fn into_inner(self) -> T {
        self.value
    }

    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            request_id: self.request_id,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl Client {
    pub(crate) fn new(api: monime_webhooks_api::Client, space: SpaceId) -> Client {
        Client {
            shared: Arc::new(Shared { api, space }),
        }
    }

    /// The generated client underneath, with the same settings and hooks: every operation of
    /// the spec, exactly as the spec shapes it.
    pub fn api(&self) -> &monime_webhooks_api::Client {
        &self.shared.api
    }

    /// The space this client acts on.
    pub fn space_id(&self) -> &str {
        self.shared.space.as_str()
    }

    /// The space as the generated operations take it.
    pub(crate) fn space(&self) -> SpaceId {
        self.shared.space.clone()
    }

    /// The API base URL.
    pub fn api_url(&self) -> &str {
        self.api().baseurl()
    }

    /// Runs one generated operation: its value with the answer's request id, or the
    /// [`Error`] its failure means.
    pub(crate) async fn run<T>(
        &self,
        call: impl Future<Output = Outcome<T>>,
    ) -> Result<Response<T>, Error> {
        let (outcome, exchange) = hooks::observe(call).await;
        match outcome {
            Ok(value) => Ok(Response::new(value.into_inner(), exchange.request_id)),
            Err(error) => Err(Error::from_generated(error, &exchange).await),
        }
    }

    /// Sends any request to the API with this client's auth, headers, retries and errors
    /// (the generated client's own hooks): the escape hatch for endpoints or fields our spec
    /// does not have yet. A `POST` gets a fresh `Idempotency-Key`, reused on every retry.
    /// Returns the parsed JSON body (`null` for an empty one).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// use monime_webhooks::api::spec::operations;
    /// use reqwest::Method;
    ///
    /// let path = format!("{}?limit=5", operations::LIST_WEBHOOKS.path);
    /// let page = client.raw(Method::GET, &path, None).await?;
    /// assert_eq!(page["success"], true);
    /// # Ok(()) }
    /// ```
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Response<Value>, Error> {
        // The path is appended to the API URL: anything but an absolute path could send the
        // token elsewhere (`@host/...`).
        if !path.starts_with('/') {
            return Err(Error::Validation {
                field: "path".to_owned(),
                message: format!("must start with `/`, got `{path}`"),
            });
        }
        let mut request = self
            .api()
            .client()
            .request(method.clone(), format!("{}{path}", self.api_url()))
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if method == Method::POST {
            request = request.header(params::IDEMPOTENCY_KEY.name, new_idempotency_key());
        }
        if let Some(body) = &body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let mut request = request.build().map_err(Error::Transport)?;
        let info = OperationInfo {
            operation_id: "raw",
        };
        let call = async {
            self.api()
                .pre::<ErrorEnvelope>(&mut request, &info)
                .await
                .map_err(Some)?;
            self.api().exec(request, &info).await.map_err(|e| {
                Some(monime_webhooks_api::Error::<ErrorEnvelope>::CommunicationError(e))
            })
        };
        let (outcome, exchange) = hooks::observe(call).await;
        let response = match outcome {
            Ok(response) => response,
            Err(Some(error)) => return Err(Error::from_generated(error, &exchange).await),
            Err(None) => unreachable!("raw maps every failure"),
        };
        // What the post hook refuses for the generated operations (an HTTP client of the
        // caller's that followed a redirect): raw calls no post hook.
        if !response.status().is_success() || exchange.redirected {
            let error = monime_webhooks_api::Error::UnexpectedResponse(response);
            return Err(Error::from_generated(error, &exchange).await);
        }
        let status = response.status().as_u16();
        let request_id = header_text(response.headers(), response_headers::MONIME_REQUEST_ID);
        let bytes = response.bytes().await.map_err(Error::Transport)?;
        if exchange.body_too_large {
            return Err(Error::too_large(&exchange));
        }
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                status,
                message: e.to_string(),
                excerpt: excerpt(&bytes),
                request_id: request_id.clone(),
            })?
        };
        Ok(Response::new(value, request_id))
    }
}

pub(crate) fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(str::to_owned)
}
