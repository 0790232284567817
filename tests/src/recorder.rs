//! A tiny HTTP server on 127.0.0.1 that records every request and answers from a queue of
//! canned responses, so tests can assert exactly what the client put on the wire.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: serde_json::Value,
}

impl Canned {
    pub fn ok(body: serde_json::Value) -> Self {
        Canned {
            status: 200,
            headers: vec![("monime-request-id", "req-ok".into())],
            body,
        }
    }

    pub fn error(status: u16, reason: &str, message: &str) -> Self {
        Canned {
            status,
            headers: vec![("monime-request-id", format!("req-{status}"))],
            body: serde_json::json!({
                "success": false,
                "messages": [],
                "error": { "code": status, "reason": reason, "message": message, "details": [] }
            }),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    answers: Mutex<VecDeque<Canned>>,
}

/// The running server; it stops when the test's runtime ends.
#[derive(Debug)]
pub struct Recorder {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Recorder {
    pub async fn start() -> Recorder {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(record).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Recorder { addr, shared }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn answer(&self, canned: Canned) {
        self.shared.answers.lock().unwrap().push_back(canned);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.lock().unwrap().push(Recorded {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    });
    let Some(canned) = shared.answers.lock().unwrap().pop_front() else {
        return (StatusCode::IM_A_TEAPOT, "no canned answer queued").into_response();
    };
    let mut response = (
        StatusCode::from_u16(canned.status).expect("valid status"),
        axum::Json(canned.body),
    )
        .into_response();
    for (name, value) in canned.headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    response
}
