//! The five webhook operations: typed builders over the one request pipeline. Bodies are
//! checked against the spec's constraints before anything is sent.

use std::collections::BTreeMap;
use std::fmt;

use monime_webhooks_api::constraints;
use monime_webhooks_api::types::{Webhook, WebhookEnvelope, WebhookPage};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Answer, Call, Client, Response, decode, new_idempotency_key};
use crate::error::Error;

/// The API release a webhook's events are shaped for (request side: only known releases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Release {
    #[default]
    Caph,
    Siriusb,
}

impl Release {
    pub fn as_str(self) -> &'static str {
        match self {
            Release::Caph => "caph",
            Release::Siriusb => "siriusb",
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A webhook secret on its way to Monime: `Debug` never prints it.
#[derive(Clone)]
struct SecretText(String);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone)]
enum Signing {
    Hs256(SecretText),
    Es256,
}

/// One page of webhooks and the cursor of the next one.
#[derive(Debug, Clone)]
pub struct Page {
    pub webhooks: Vec<Webhook>,
    /// Pass to [`ListWebhooks::after`] for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// What a PATCH does to a field that can be cleared.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Change<T> {
    /// Leave the field as it is (the field is not sent).
    #[default]
    Unchanged,
    /// Replace the value.
    Set(T),
    /// Clear the field (sent as JSON `null`).
    Clear,
}

impl<T: serde::Serialize> Change<T> {
    fn write(&self, body: &mut Map<String, Value>, key: &str) {
        match self {
            Change::Unchanged => {}
            Change::Set(value) => {
                body.insert(
                    key.to_owned(),
                    serde_json::to_value(value).unwrap_or(Value::Null),
                );
            }
            Change::Clear => {
                body.insert(key.to_owned(), Value::Null);
            }
        }
    }
}

impl Client {
    /// Starts a create request.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// let webhook = client
    ///     .create()
    ///     .name("Order notifications")
    ///     .url("https://shop.example/hooks/monime")
    ///     .event("payment.completed")
    ///     .hs256("whsec_0123456789abcdef0123456789abcdef")
    ///     .send()
    ///     .await?;
    /// assert!(webhook.id.as_deref().unwrap().starts_with("whk-"));
    /// # Ok(()) }
    /// ```
    pub fn create(&self) -> CreateWebhook<'_> {
        CreateWebhook {
            client: self,
            name: None,
            url: None,
            events: Vec::new(),
            enabled: None,
            headers: BTreeMap::new(),
            alert_emails: Vec::new(),
            signing: None,
            metadata: Map::new(),
            release: Release::default(),
            idempotency_key: None,
        }
    }

    /// One webhook by id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// # let id = client.create().name("a").url("https://x.example").event("payout.failed").send().await?.id.clone().unwrap();
    /// let webhook = client.get(&id).await?;
    /// println!("{:?} -> {:?} (request {:?})", webhook.name, webhook.url, webhook.request_id());
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &str) -> Result<Response<Webhook>, Error> {
        constraints::webhook_id(id)?;
        let answer = self
            .execute(&call("get_webhook", Method::GET, id, None))
            .await?;
        webhook_of(&answer)
    }

    /// Starts a partial update: only what is set (or cleared) is sent.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// # let id = client.create().name("a").url("https://x.example").event("payout.failed")
    /// #     .alert_email("ops@shop.example").send().await?.id.clone().unwrap();
    /// let webhook = client.update(&id).enabled(false).clear_alert_emails().send().await?;
    /// assert_eq!(webhook.enabled, Some(false));
    /// assert_eq!(webhook.alert_emails, None);
    /// # Ok(()) }
    /// ```
    pub fn update(&self, id: &str) -> UpdateWebhook<'_> {
        UpdateWebhook {
            client: self,
            id: id.to_owned(),
            name: None,
            url: None,
            enabled: None,
            release: None,
            events: Change::Unchanged,
            headers: Change::Unchanged,
            alert_emails: Change::Unchanged,
            metadata: Change::Unchanged,
        }
    }

    /// Deletes a webhook. A retry that finds it already gone counts as success.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// # let id = client.create().name("a").url("https://x.example").event("payout.failed").send().await?.id.clone().unwrap();
    /// client.delete(&id).await?;
    /// assert!(client.get(&id).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: &str) -> Result<Response<()>, Error> {
        constraints::webhook_id(id)?;
        let answer = self
            .execute(&call("delete_webhook", Method::DELETE, id, None))
            .await?;
        Ok(Response::new((), answer.request_id))
    }

    /// Starts a request for one page of webhooks.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// let first = client.list().limit(20).send().await?;
    /// if let Some(cursor) = &first.next {
    ///     let second = client.list().limit(20).after(cursor).send().await?;
    ///     println!("{} more", second.webhooks.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListWebhooks<'_> {
        ListWebhooks {
            client: self,
            limit: None,
            after: None,
        }
    }
}

fn call(operation: &'static str, method: Method, id: &str, body: Option<Value>) -> Call {
    Call {
        operation,
        method,
        path: format!("/v1/webhooks/{}", path_segment(id)),
        query: Vec::new(),
        body,
        idempotency_key: None,
    }
}

/// `id` as one URL path segment: anything outside the unreserved characters is
/// percent-encoded, so an id cannot add segments, a query or a fragment.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn webhook_of(answer: &Answer) -> Result<Response<Webhook>, Error> {
    let envelope: WebhookEnvelope = decode(answer)?;
    let webhook = envelope.result.ok_or_else(|| Error::Decode {
        status: answer.status.as_u16(),
        message: "the envelope has no `result`".to_owned(),
        excerpt: crate::error::excerpt(&answer.body),
        request_id: answer.request_id.clone(),
    })?;
    Ok(Response::new(webhook, answer.request_id.clone()))
}

/// A create request; see [`Client::create`]. Nothing is sent before [`CreateWebhook::send`].
#[derive(Debug)]
#[must_use = "nothing is sent until .send() is awaited"]
pub struct CreateWebhook<'a> {
    client: &'a Client,
    name: Option<String>,
    url: Option<String>,
    events: Vec<String>,
    enabled: Option<bool>,
    headers: BTreeMap<String, String>,
    alert_emails: Vec<String>,
    signing: Option<Signing>,
    metadata: Map<String, Value>,
    release: Release,
    idempotency_key: Option<String>,
}

impl CreateWebhook<'_> {
    /// A label people recognise the webhook by (1 to 100 characters).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Where Monime POSTs the events (at most 255 characters).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Subscribes to one more event name (1 to 100 distinct names in all).
    pub fn event(mut self, name: impl Into<String>) -> Self {
        self.events.push(name.into());
        self
    }

    /// Subscribes to these event names.
    pub fn events<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.events.extend(names.into_iter().map(Into::into));
        self
    }

    /// Whether deliveries start right away (default true).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// An extra HTTP header Monime adds to every delivery (at most 10).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// An address told when deliveries keep failing (at most 2, distinct).
    pub fn alert_email(mut self, email: impl Into<String>) -> Self {
        self.alert_emails.push(email.into());
        self
    }

    /// Signs deliveries with HMAC-SHA256 and this secret (32 to 256 characters).
    pub fn hs256(mut self, secret: impl Into<String>) -> Self {
        self.signing = Some(Signing::Hs256(SecretText(secret.into())));
        self
    }

    /// Signs deliveries with ECDSA P-256; Monime generates the key pair and returns the
    /// public key in `verification_method`.
    pub fn es256(mut self) -> Self {
        self.signing = Some(Signing::Es256);
        self
    }

    /// A free-form label kept with the webhook (at most 64 keys).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The API release of the delivered events (default [`Release::Caph`]).
    pub fn api_release(mut self, release: Release) -> Self {
        self.release = release;
        self
    }

    /// The `Idempotency-Key` (at most 64 characters). Default: a fresh UUID v4 per call,
    /// reused by every retry of that call.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The JSON body this request sends.
    fn body(&self) -> Value {
        let mut body = Map::new();
        if let Some(name) = &self.name {
            body.insert("name".into(), json!(name));
        }
        if let Some(url) = &self.url {
            body.insert("url".into(), json!(url));
        }
        body.insert("apiRelease".into(), json!(self.release.as_str()));
        body.insert("events".into(), json!(self.events));
        if let Some(enabled) = self.enabled {
            body.insert("enabled".into(), json!(enabled));
        }
        if !self.headers.is_empty() {
            body.insert("headers".into(), json!(self.headers));
        }
        if !self.alert_emails.is_empty() {
            body.insert("alertEmails".into(), json!(self.alert_emails));
        }
        if let Some(signing) = &self.signing {
            let method = match signing {
                Signing::Hs256(secret) => json!({ "type": "HS256", "secret": secret.0 }),
                Signing::Es256 => json!({ "type": "ES256" }),
            };
            body.insert("verificationMethod".into(), method);
        }
        if !self.metadata.is_empty() {
            body.insert("metadata".into(), Value::Object(self.metadata.clone()));
        }
        Value::Object(body)
    }

    /// Checks the request against the spec, then creates the webhook.
    pub async fn send(self) -> Result<Response<Webhook>, Error> {
        let body = self.body();
        constraints::create(&body)?;
        let key = self
            .idempotency_key
            .clone()
            .unwrap_or_else(new_idempotency_key);
        constraints::idempotency_key(&key)?;
        let call = Call {
            operation: "create_webhook",
            method: Method::POST,
            path: "/v1/webhooks".to_owned(),
            query: Vec::new(),
            body: Some(body),
            idempotency_key: Some(key),
        };
        let answer = self.client.execute(&call).await?;
        webhook_of(&answer)
    }
}

/// A partial update; see [`Client::update`].
#[derive(Debug)]
#[must_use = "nothing is sent until .send() is awaited"]
pub struct UpdateWebhook<'a> {
    client: &'a Client,
    id: String,
    name: Option<String>,
    url: Option<String>,
    enabled: Option<bool>,
    release: Option<Release>,
    events: Change<Vec<String>>,
    headers: Change<BTreeMap<String, String>>,
    alert_emails: Change<Vec<String>>,
    metadata: Change<Map<String, Value>>,
}

impl UpdateWebhook<'_> {
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    pub fn api_release(mut self, release: Release) -> Self {
        self.release = Some(release);
        self
    }

    /// Replaces the subscribed event names.
    pub fn events<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.events = Change::Set(names.into_iter().map(Into::into).collect());
        self
    }

    /// Clears the subscribed event names (`"events": null`).
    pub fn clear_events(mut self) -> Self {
        self.events = Change::Clear;
        self
    }

    /// Replaces the extra delivery headers.
    pub fn headers<I, K, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.headers = Change::Set(
            headers
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    pub fn clear_headers(mut self) -> Self {
        self.headers = Change::Clear;
        self
    }

    /// Replaces the alert addresses.
    pub fn alert_emails<I, S>(mut self, emails: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.alert_emails = Change::Set(emails.into_iter().map(Into::into).collect());
        self
    }

    pub fn clear_alert_emails(mut self) -> Self {
        self.alert_emails = Change::Clear;
        self
    }

    /// Replaces the metadata.
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = Change::Set(metadata);
        self
    }

    pub fn clear_metadata(mut self) -> Self {
        self.metadata = Change::Clear;
        self
    }

    fn body(&self) -> Value {
        let mut body = Map::new();
        if let Some(name) = &self.name {
            body.insert("name".into(), json!(name));
        }
        if let Some(url) = &self.url {
            body.insert("url".into(), json!(url));
        }
        if let Some(enabled) = self.enabled {
            body.insert("enabled".into(), json!(enabled));
        }
        if let Some(release) = self.release {
            body.insert("apiRelease".into(), json!(release.as_str()));
        }
        self.events.write(&mut body, "events");
        self.headers.write(&mut body, "headers");
        self.alert_emails.write(&mut body, "alertEmails");
        self.metadata.write(&mut body, "metadata");
        Value::Object(body)
    }

    /// Checks the change against the spec, then applies it.
    pub async fn send(self) -> Result<Response<Webhook>, Error> {
        constraints::webhook_id(&self.id)?;
        let body = self.body();
        constraints::update(Some(&body))?;
        let answer = self
            .client
            .execute(&call("update_webhook", Method::PATCH, &self.id, Some(body)))
            .await?;
        webhook_of(&answer)
    }
}

/// A request for one page; see [`Client::list`].
#[derive(Debug)]
#[must_use = "nothing is sent until .send() is awaited"]
pub struct ListWebhooks<'a> {
    client: &'a Client,
    limit: Option<u64>,
    after: Option<String>,
}

impl ListWebhooks<'_> {
    /// Page size, 1 to 50 (Monime's default is 10).
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continue after this cursor (a previous page's `next`).
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }

    pub async fn send(self) -> Result<Response<Page>, Error> {
        fetch_page(self.client, self.limit, self.after.as_deref()).await
    }
}

pub(crate) async fn fetch_page(
    client: &Client,
    limit: Option<u64>,
    after: Option<&str>,
) -> Result<Response<Page>, Error> {
    let mut query = Vec::new();
    if let Some(limit) = limit {
        constraints::list_limit(limit)?;
        query.push(("limit".to_owned(), limit.to_string()));
    }
    if let Some(after) = after {
        constraints::list_after(after)?;
        query.push(("after".to_owned(), after.to_owned()));
    }
    let call = Call {
        operation: "list_webhooks",
        method: Method::GET,
        path: "/v1/webhooks".to_owned(),
        query,
        body: None,
        idempotency_key: None,
    };
    let answer = client.execute(&call).await?;
    let page: WebhookPage = decode(&answer)?;
    let next = page.pagination.and_then(|p| p.next);
    Ok(Response::new(
        Page {
            webhooks: page.result.unwrap_or_default(),
            next,
        },
        answer.request_id,
    ))
}
