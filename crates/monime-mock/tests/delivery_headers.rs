//! What a delivery carries on the wire, seen by a raw TCP receiver on 127.0.0.1 that records
//! every header line as sent: the emulator's own headers exactly once, whatever the webhook's
//! custom headers say; and a delivery log that stays bounded.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Api, SECRET, valid_body};
use monime_mock::{DeliveryPolicy, MockConfig, MonimeMock, SkippedHeader};
use monime_signature::Verifier;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received: its header lines (name lower-cased, value) and its body.
#[derive(Debug, Clone)]
struct RawRequest {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

type Received = Arc<Mutex<Vec<RawRequest>>>;

/// A receiver that reads each request byte by byte as sent, answers 200 and closes.
async fn raw_receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let sink = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                if let Some(request) = read_request(stream).await {
                    sink.lock().unwrap().push(request);
                }
            });
        }
    });
    (url, received)
}

async fn read_request(mut stream: TcpStream) -> Option<RawRequest> {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        data.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&data).into_owned();
    let headers: Vec<(String, String)> = head
        .split("\r\n")
        .skip(1)
        .filter(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    // Read what the last Content-Length announces (there must be one), and no more.
    let length: usize = headers
        .iter()
        .rev()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    let _ = stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .await;
    Some(RawRequest { headers, body })
}

async fn mock(config: MockConfig) -> (MonimeMock, Api) {
    let mock = MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let api = Api::new(&mock);
    (mock, api)
}

async fn trigger(api: &Api) {
    let request = api
        .request(reqwest::Method::POST, "/_mock/events")
        .json(&json!({
            "name": "payment.completed",
            "object": { "id": "pay-1", "type": "payment" },
            "data": { "id": "pay-1" }
        }));
    assert_eq!(Api::send(request).await.status, 200);
}

#[tokio::test]
async fn custom_headers_never_replace_duplicate_or_reframe_the_emulators_own() {
    let (mock, api) = mock(MockConfig {
        delivery: DeliveryPolicy::fast(),
        ..MockConfig::default()
    })
    .await;
    let (url, received) = raw_receiver().await;
    let mut body = valid_body();
    body["url"] = json!(url);
    body["events"] = json!(["payment.completed"]);
    body["headers"] = json!({
        "Content-Length": "5",
        "Content-Type": "text/plain",
        "Monime-Signature": "t=1,v1=forged",
        "Host": "attacker.example",
        "Transfer-Encoding": "chunked",
        "X-Tenant": "acme",
    });
    api.create_id(&body).await;
    trigger(&api).await;
    assert!(mock.settle(Duration::from_secs(10)).await);

    let requests = received.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "one delivery, accepted at once");
    let request = &requests[0];
    let length = request.all("content-length");
    assert_eq!(length.len(), 1, "{:?}", request.headers);
    assert_eq!(length[0], request.body.len().to_string());
    assert!(request.all("transfer-encoding").is_empty());
    assert_eq!(request.all("content-type"), ["application/json"]);
    assert_eq!(
        request.all("host"),
        [url.trim_start_matches("http://").trim_end_matches("/hook")]
    );
    assert_eq!(request.all("x-tenant"), ["acme"]);
    let signatures = request.all("monime-signature");
    assert_eq!(signatures.len(), 1);
    // The whole body arrived and the toolkit's own verifier accepts it.
    Verifier::hs256(SECRET)
        .unwrap()
        .verify(signatures[0], &request.body)
        .expect("the delivery verifies");

    // What was left out, and why, is in the delivery log.
    let attempts = mock.deliveries();
    assert_eq!(attempts.len(), 1);
    let skipped: Vec<&str> = attempts[0]
        .skipped_headers
        .iter()
        .map(|SkippedHeader { name, .. }| name.as_str())
        .collect();
    assert_eq!(
        skipped,
        [
            "Content-Length",
            "Content-Type",
            "Host",
            "Monime-Signature",
            "Transfer-Encoding"
        ]
    );
    let listed = Api::send(api.request(reqwest::Method::GET, "/_mock/deliveries")).await;
    let reason = &listed.body["result"][0]["skippedHeaders"][0]["reason"];
    assert!(reason.as_str().is_some_and(|r| !r.is_empty()), "{reason}");
    mock.shutdown().await;
}

#[tokio::test]
async fn the_delivery_log_keeps_the_latest_attempts_only() {
    let (mock, api) = mock(MockConfig {
        delivery: DeliveryPolicy::fast(),
        delivery_log_limit: 3,
        ..MockConfig::default()
    })
    .await;
    let (url, _received) = raw_receiver().await;
    let mut body = valid_body();
    body["url"] = json!(url);
    body["events"] = json!(["payment.completed"]);
    api.create_id(&body).await;
    let mut event_ids = Vec::new();
    for _ in 0..5 {
        let request = api
            .request(reqwest::Method::POST, "/_mock/events")
            .json(&json!({
                "name": "payment.completed",
                "object": { "id": "pay-1", "type": "payment" },
            }));
        let reply = Api::send(request).await;
        event_ids.push(
            reply.body["result"]["deliveries"][0]["eventId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        // One at a time, so the log order is the trigger order.
        assert!(mock.settle(Duration::from_secs(10)).await);
    }
    let kept: Vec<String> = mock.deliveries().into_iter().map(|a| a.event_id).collect();
    assert_eq!(kept, event_ids[2..], "the oldest are dropped first");
    let listed = Api::send(api.request(reqwest::Method::GET, "/_mock/deliveries")).await;
    assert_eq!(listed.body["result"].as_array().unwrap().len(), 3);
    assert_eq!(
        mock.counters().delivery_attempts,
        5,
        "counters still count all"
    );
    mock.shutdown().await;
}
