//! A thin HTTP helper for the emulator's tests: raw requests, so the tests see exactly what
//! the emulator answers.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use monime_mock::{DeliveryPolicy, MockConfig, MonimeMock};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const TOKEN: &str = "mon_test_emulator";
pub const SPACE: &str = "spc-emulator";
pub const SECRET: &str = "test_secret_for_vector_0123456789abcdef";

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn reason(&self) -> &str {
        self.body["error"]["reason"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts Monime's error envelope with this status and reason.
    pub fn assert_error(&self, status: u16, reason: &str) {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(self.body["success"], json!(false), "{:#}", self.body);
        assert_eq!(self.body["error"]["code"], json!(status), "{:#}", self.body);
        assert_eq!(self.reason(), reason, "{:#}", self.body);
        assert!(self.body["error"]["message"].is_string());
        assert!(self.header("monime-request-id").is_some());
    }
}

#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub space: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(mock: &MonimeMock) -> Api {
        Api {
            base: mock.base_url(),
            space: SPACE.to_owned(),
            token: Some(TOKEN.to_owned()),
            http: reqwest::Client::new(),
        }
    }

    pub fn in_space(&self, space: &str) -> Api {
        Api {
            space: space.to_owned(),
            ..self.clone()
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request.header("Monime-Space-Id", &self.space)
    }

    pub async fn send(request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn create_with_key(&self, key: &str, body: &Value) -> Reply {
        let request = self
            .request(reqwest::Method::POST, "/v1/webhooks")
            .header("Idempotency-Key", key)
            .json(body);
        Api::send(request).await
    }

    pub async fn create(&self, body: &Value) -> Reply {
        self.create_with_key(&uuid_key(), body).await
    }

    /// Creates and returns the new webhook's id.
    pub async fn create_id(&self, body: &Value) -> String {
        let reply = self.create(body).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
        reply.body["result"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, id: &str) -> Reply {
        Api::send(self.request(reqwest::Method::GET, &format!("/v1/webhooks/{id}"))).await
    }

    pub async fn patch(&self, id: &str, body: &Value) -> Reply {
        Api::send(
            self.request(reqwest::Method::PATCH, &format!("/v1/webhooks/{id}"))
                .json(body),
        )
        .await
    }

    pub async fn delete(&self, id: &str) -> Reply {
        Api::send(self.request(reqwest::Method::DELETE, &format!("/v1/webhooks/{id}"))).await
    }

    pub async fn list(&self, query: &str) -> Reply {
        Api::send(self.request(reqwest::Method::GET, &format!("/v1/webhooks{query}"))).await
    }

    /// Every webhook id, walking all pages with `limit`.
    pub async fn all_ids(&self, limit: usize) -> Vec<String> {
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = match &after {
                Some(cursor) => format!("?limit={limit}&after={cursor}"),
                None => format!("?limit={limit}"),
            };
            let page = self.list(&query).await;
            assert_eq!(page.status, 200, "{:#}", page.body);
            for webhook in page.body["result"].as_array().unwrap() {
                ids.push(webhook["id"].as_str().unwrap().to_owned());
            }
            match page.body["pagination"]["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => return ids,
            }
        }
    }
}

pub fn uuid_key() -> String {
    format!("key-{}", uuid::Uuid::new_v4().simple())
}

/// A valid create body; tests change one thing at a time.
pub fn valid_body() -> Value {
    json!({
        "name": "Orders",
        "url": "https://shop.example/hooks/monime",
        "apiRelease": "caph",
        "events": ["payment.completed", "payout.failed"],
        "verificationMethod": { "type": "HS256", "secret": SECRET },
    })
}

/// A receiver on 127.0.0.1 that records what it gets and answers scripted statuses.
#[derive(Clone, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>,
    /// Statuses to answer, in order; 200 once exhausted.
    pub script: Arc<Mutex<Vec<u16>>>,
}

async fn receive(
    State(receiver): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    receiver
        .received
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), headers, body));
    let mut script = receiver.script.lock().unwrap();
    let status = if script.is_empty() {
        200
    } else {
        script.remove(0)
    };
    StatusCode::from_u16(status).unwrap()
}

pub async fn start_receiver(script: Vec<u16>) -> (String, Receiver) {
    let receiver = Receiver {
        script: Arc::new(Mutex::new(script)),
        ..Receiver::default()
    };
    let app = Router::new()
        .route("/{*path}", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receiver)
}

/// An emulator on 127.0.0.1 retrying deliveries quickly, and its API.
pub async fn fast_mock() -> (MonimeMock, Api) {
    let config = MockConfig {
        delivery: DeliveryPolicy::fast(),
        ..MockConfig::default()
    };
    let mock = MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let api = Api::new(&mock);
    (mock, api)
}
