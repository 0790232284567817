//! The emulator as a server facing slow, numerous or careless peers, over raw TCP on
//! 127.0.0.1 so the tests see exactly what goes over the wire.

mod common;

use std::time::Duration;

use common::{Api, SPACE, TOKEN};
use monime_mock::{MockConfig, MonimeMock};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound on waiting for something the server must do by itself; far above the configured
/// limits, so it only turns a hang into a failure (it measures nothing).
const HANG: Duration = Duration::from_secs(30);

async fn start(config: MockConfig) -> MonimeMock {
    MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(HANG, stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The JSON body of a raw HTTP/1.1 response.
fn body_of(response: &str) -> Value {
    let (_, body) = response.split_once("\r\n\r\n").unwrap_or(("", ""));
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_connection_whose_headers_never_complete_is_closed() {
    let mock = start(MockConfig {
        header_read_timeout: Duration::from_millis(200),
        ..MockConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(mock.addr()).await.unwrap();
    stream
        .write_all(b"GET /v1/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor")
        .await
        .unwrap();
    // Without a header-read timeout this read would wait forever; with hyper's default, 30 s.
    let started = std::time::Instant::now();
    let answer = read_to_close(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closed after {:?}, not within 2 s of the 200 ms setting",
        started.elapsed()
    );
    // The server still serves complete requests.
    assert_eq!(Api::new(&mock).list("").await.status, 200);
    mock.shutdown().await;
}

/// Peers that send their headers and stall mid-body take every slot unless the body has a
/// deadline of its own: the header timeout is over once the headers are in. With both set to
/// 200 ms, four such peers are closed within 2 s (hyper's own header timeout, 30 s, would not
/// do), and the server serves again.
#[tokio::test]
async fn peers_stalling_mid_body_are_closed_and_free_their_slots() {
    let mock = start(MockConfig {
        header_read_timeout: Duration::from_millis(200),
        body_read_timeout: Duration::from_millis(200),
        max_connections: 4,
        ..MockConfig::default()
    })
    .await;
    let request = format!(
        "POST /v1/webhooks HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Monime-Space-Id: {SPACE}\r\nIdempotency-Key: k\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"name\":",
        mock.addr()
    );
    let started = std::time::Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(mock.addr()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    for stream in &mut stalled {
        let answer = read_to_close(stream).await;
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "the stalled peers were closed after {elapsed:?}"
    );
    assert_eq!(Api::new(&mock).list("").await.status, 200, "slots are free");
    mock.shutdown().await;
}

/// A peer that keeps its connection busy with a cheap request now and then does not keep
/// its slot for good: the connection closes once its lifetime is over.
#[tokio::test]
async fn a_connection_closes_after_its_lifetime_however_busy() {
    let mock = start(MockConfig {
        connection_lifetime: Duration::from_millis(300),
        header_read_timeout: Duration::from_millis(200),
        ..MockConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(mock.addr()).await.unwrap();
    let request = format!(
        "GET /v1/webhooks HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Monime-Space-Id: {SPACE}\r\n\r\n",
        mock.addr()
    );
    let started = std::time::Instant::now();
    let mut buffer = vec![0u8; 64 * 1024];
    let closed = loop {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still open after 5 s"
        );
        if stream.write_all(request.as_bytes()).await.is_err() {
            break started.elapsed();
        }
        match tokio::time::timeout(HANG, stream.read(&mut buffer))
            .await
            .unwrap()
        {
            Ok(0) | Err(_) => break started.elapsed(),
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    assert!(closed < Duration::from_secs(2), "closed after {closed:?}");
    assert!(
        closed >= Duration::from_millis(250),
        "closed too early: {closed:?}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503_and_are_closed() {
    let mock = start(MockConfig {
        max_connections: 2,
        ..MockConfig::default()
    })
    .await;
    let first = TcpStream::connect(mock.addr()).await.unwrap();
    let mut second = TcpStream::connect(mock.addr()).await.unwrap();
    // A served request proves the second connection holds a slot.
    let request = format!(
        "GET /v1/webhooks HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Monime-Space-Id: {SPACE}\r\n\r\n",
        mock.addr()
    );
    second.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = [0u8; 12];
    second.read_exact(&mut buffer).await.unwrap();
    assert_eq!(&buffer, b"HTTP/1.1 200");

    let mut third = TcpStream::connect(mock.addr()).await.unwrap();
    let refused = read_to_close(&mut third).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    let envelope = body_of(&refused);
    assert_eq!(envelope["success"], false);
    assert_eq!(envelope["error"]["code"], 503);
    assert_eq!(envelope["error"]["reason"], "service_unavailable");

    // A slot frees when a connection closes.
    drop(first);
    let api = Api::new(&mock);
    let mut served = false;
    for _ in 0..300 {
        // A new client each time: a pooled connection refused earlier must not be reused.
        let attempt = reqwest::Client::new()
            .get(format!("{}/v1/webhooks", api.base))
            .bearer_auth(TOKEN)
            .header("Monime-Space-Id", SPACE);
        if attempt.send().await.is_ok_and(|r| r.status() == 200) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "a freed slot serves again");
    mock.shutdown().await;
}

#[tokio::test]
async fn authentication_comes_before_the_path_id() {
    let mock = MonimeMock::start().await.unwrap();
    let api = Api::new(&mock);
    let anonymous = Api {
        token: None,
        ..api.clone()
    };
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        // Not valid percent-encoded UTF-8: still the 401 envelope first.
        let reply = Api::send(anonymous.request(method.clone(), "/v1/webhooks/whk-%ff")).await;
        reply.assert_error(401, "unauthenticated");
        // Authenticated, the same id is a 400 envelope naming it.
        let reply = Api::send(api.request(method, "/v1/webhooks/whk-%ff")).await;
        reply.assert_error(400, "invalid_request");
        assert!(reply.message().starts_with("id:"), "{}", reply.message());
    }
    let patch = anonymous
        .request(reqwest::Method::PATCH, "/v1/webhooks/whk-%ff")
        .json(&serde_json::json!({}));
    Api::send(patch).await.assert_error(401, "unauthenticated");
    mock.shutdown().await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let mock = MonimeMock::start().await.unwrap();
    let api = Api::new(&mock);
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let request = reqwest::Client::new()
            .get(format!("{}/v1/webhooks", api.base))
            .header("Authorization", format!("{scheme} {TOKEN}"))
            .header("Monime-Space-Id", SPACE);
        assert_eq!(Api::send(request).await.status, 200, "{scheme}");
    }
    let basic = reqwest::Client::new()
        .get(format!("{}/v1/webhooks", api.base))
        .header("Authorization", format!("Basic {TOKEN}"))
        .header("Monime-Space-Id", SPACE);
    Api::send(basic).await.assert_error(401, "unauthenticated");
    mock.shutdown().await;
}

#[tokio::test]
async fn debug_output_never_shows_a_token_a_secret_or_a_header_value() {
    let token = "mon_test_debug_token_0123";
    let mock = start(MockConfig {
        tokens: vec![token.to_owned()],
        ..MockConfig::default()
    })
    .await;
    let api = Api {
        token: Some(token.to_owned()),
        ..Api::new(&mock)
    };
    let mut body = common::valid_body();
    body["headers"] = serde_json::json!({ "Authorization": "Bearer receiver-credential" });
    api.create_id(&body).await;
    for shown in [format!("{mock:?}"), format!("{:?}", mock.deliveries())] {
        assert!(!shown.contains(token), "{shown}");
        assert!(!shown.contains(common::SECRET), "{shown}");
        assert!(!shown.contains("receiver-credential"), "{shown}");
    }
    mock.shutdown().await;
}
