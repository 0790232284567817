//! Retries, idempotency, validation before sending, error mapping and tracing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use monime_mock::{Faults, MockConfig, MonimeMock};
use monime_webhooks::{Client, Error, RetryPolicy, Webhook};
use serde_json::{Value, json};

async fn mock_with(faults: Faults) -> MonimeMock {
    let config = MockConfig {
        faults,
        ..MockConfig::default()
    };
    MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(url: &str, retry: RetryPolicy) -> Client {
    Client::builder()
        .access_token("mon_test_behaviour")
        .space_id("spc-behaviour")
        .api_url(url)
        .retry(retry)
        .build()
        .unwrap()
}

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 12,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
        jitter: true,
        deadline: None,
    }
}

/// 200 creates, one call each, under 30% faults (5xx, 429, drop-after-commit): exactly 200
/// webhooks, none twice, no error for the caller.
#[tokio::test]
async fn creates_survive_thirty_percent_faults_without_duplicates() {
    let faults = Faults {
        seed: 2025,
        server_error_rate: 0.1,
        rate_limit_rate: 0.1,
        retry_after_secs: 1,
        drop_after_commit_rate: 0.1,
        ..Faults::none()
    };
    let mock = mock_with(faults).await;
    let client = client(&mock.base_url(), patient());
    let results: Vec<Result<String, Error>> = futures_util::stream::iter(0..200)
        .map(|i| {
            let client = client.clone();
            async move {
                let webhook = client
                    .create()
                    .name(format!("hook {i}"))
                    .url("https://x.example")
                    .event("payment.completed")
                    .send()
                    .await?;
                Ok(webhook.id.to_string())
            }
        })
        .buffer_unordered(25)
        .collect()
        .await;
    let ids: Vec<String> = results
        .into_iter()
        .map(|r| r.expect("no error reaches the caller"))
        .collect();
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 200);
    assert_eq!(mock.webhook_count(), 200, "no duplicate webhook");
    let counters = mock.counters();
    assert_eq!(counters.creates, 200);
    assert!(
        counters.dropped_after_commit > 0 && counters.idempotent_replays > 0,
        "{counters:?}"
    );
    assert!(
        counters.injected_rate_limits > 0 && counters.injected_server_errors > 0,
        "{counters:?}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn a_429_with_retry_after_1_waits_at_least_a_second() {
    let mock = mock_with(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 1,
        ..Faults::none()
    })
    .await;
    let client = client(
        &mock.base_url(),
        RetryPolicy {
            max_attempts: 2,
            ..patient()
        },
    );
    let started = Instant::now();
    let error = client.list().send().await.unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    match &error {
        Error::RateLimited {
            retry_after,
            limit,
            request_id,
            ..
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(1)));
            assert_eq!(limit.as_deref(), Some("space-limit"));
            assert!(request_id.is_some());
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(error.is_retryable());
    assert_eq!(
        mock.counters().requests,
        2,
        "the first attempt and one retry"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn invalid_input_is_refused_naming_the_field_with_nothing_sent() {
    let mock = MonimeMock::start().await.unwrap();
    let client = client(&mock.base_url(), RetryPolicy::default());
    let base = || {
        client
            .create()
            .name("Orders")
            .url("https://x.example")
            .event("payment.completed")
    };
    let many = |n: usize| (0..n).map(|i| format!("e.{i}")).collect::<Vec<_>>();
    let mut outcomes: Vec<(&str, Result<(), Error>)> = Vec::new();
    macro_rules! case {
        ($label:expr, $field:expr, $future:expr) => {
            outcomes.push((
                $field,
                $future.await.map(|_| ()).map_err(|e| {
                    assert!(matches!(e, Error::Validation { .. }), "{}: {e:?}", $label);
                    e
                }),
            ));
        };
    }
    case!("name empty", "name", base().name("").send());
    case!("name 101", "name", base().name("n".repeat(101)).send());
    case!(
        "name missing",
        "name",
        client.create().url("https://x").event("a.b").send()
    );
    case!("url 256", "url", base().url("u".repeat(256)).send());
    case!(
        "url missing",
        "url",
        client.create().name("a").event("a.b").send()
    );
    case!(
        "no events",
        "events",
        client.create().name("a").url("https://x").send()
    );
    case!("101 events", "events", base().events(many(101)).send());
    case!(
        "duplicate events",
        "events",
        base().event("payment.completed").send()
    );
    case!(
        "11 headers",
        "headers",
        (0..11)
            .fold(base(), |b, i| b.header(format!("X-{i}"), "v"))
            .send()
    );
    case!(
        "3 alert emails",
        "alertEmails",
        base()
            .alert_email("a@x")
            .alert_email("b@x")
            .alert_email("c@x")
            .send()
    );
    case!(
        "duplicate alert emails",
        "alertEmails",
        base().alert_email("a@x").alert_email("a@x").send()
    );
    case!(
        "65 metadata",
        "metadata",
        (0..65)
            .fold(base(), |b, i| b.metadata_entry(format!("k{i}"), i))
            .send()
    );
    case!(
        "header name with a space",
        "headers",
        base().header("X Shop", "1").send()
    );
    case!(
        "header value with a line break",
        "headers.X-Shop",
        base().header("X-Shop", "1\r\nX-Injected: yes").send()
    );
    case!(
        "metadata 17 levels deep",
        "metadata",
        base()
            .metadata_entry(
                "deep",
                (0..16).fold(json!("leaf"), |inner, _| json!({ "k": inner }))
            )
            .send()
    );
    case!(
        "update header name with a colon",
        "headers",
        client.update("whk-1").headers([("X:Shop", "1")]).send()
    );
    case!(
        "secret 31",
        "verificationMethod.secret",
        base().hs256("s".repeat(31)).send()
    );
    case!(
        "secret 257",
        "verificationMethod.secret",
        base().hs256("s".repeat(257)).send()
    );
    case!(
        "key 65",
        "Idempotency-Key",
        base().idempotency_key("k".repeat(65)).send()
    );
    case!("get bad id", "id", client.get("hook-1"));
    case!("delete bad id", "id", client.delete("hook-1"));
    case!(
        "update bad id",
        "id",
        client.update("hook-1").enabled(true).send()
    );
    case!(
        "update name empty",
        "name",
        client.update("whk-1").name("").send()
    );
    case!(
        "update name 101",
        "name",
        client.update("whk-1").name("n".repeat(101)).send()
    );
    case!(
        "update url 256",
        "url",
        client.update("whk-1").url("u".repeat(256)).send()
    );
    case!(
        "update events empty",
        "events",
        client.update("whk-1").events(Vec::<String>::new()).send()
    );
    case!(
        "update 101 events",
        "events",
        client.update("whk-1").events(many(101)).send()
    );
    case!(
        "update duplicate events",
        "events",
        client.update("whk-1").events(["a.b", "a.b"]).send()
    );
    case!(
        "update 11 headers",
        "headers",
        client
            .update("whk-1")
            .headers((0..11).map(|i| (format!("X-{i}"), "v")))
            .send()
    );
    case!(
        "update 3 emails",
        "alertEmails",
        client.update("whk-1").alert_emails(["a", "b", "c"]).send()
    );
    case!(
        "update 65 metadata",
        "metadata",
        client
            .update("whk-1")
            .metadata((0..65).map(|i| (format!("k{i}"), json!(i))).collect())
            .send()
    );
    case!("limit 0", "limit", client.list().limit(0).send());
    case!("limit 51", "limit", client.list().limit(51).send());
    case!(
        "after 2001",
        "after",
        client.list().after("a".repeat(2001)).send()
    );
    assert!(outcomes.len() >= 25);
    for (field, outcome) in &outcomes {
        match outcome {
            Err(Error::Validation { field: named, .. }) => assert_eq!(named, field),
            other => panic!("expected a validation error on {field}, got {other:?}"),
        }
    }
    let first = outcomes[0].1.as_ref().unwrap_err().to_string();
    assert_eq!(
        first,
        "invalid request, nothing sent: name: must be at least 1 characters long, got 0"
    );
    assert_eq!(
        mock.counters().requests,
        0,
        "no request may reach the emulator"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn server_errors_map_to_the_right_variant_with_the_request_id() {
    let mock = MonimeMock::start().await.unwrap();
    let client = client(&mock.base_url(), RetryPolicy::none());
    let created = client
        .create()
        .name("a")
        .url("https://x")
        .event("a.b")
        .idempotency_key("same-key")
        .send()
        .await
        .unwrap();
    let conflict = client
        .create()
        .name("b")
        .url("https://x")
        .event("a.b")
        .idempotency_key("same-key")
        .send()
        .await
        .unwrap_err();
    match &conflict {
        Error::Api {
            status: 409,
            reason,
            message,
            request_id: Some(_),
            code: Some(409),
            ..
        } => {
            assert_eq!(reason, "idempotency_key_in_use");
            assert!(message.contains("same-key"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!conflict.is_retryable());
    assert!(
        conflict
            .to_string()
            .starts_with("Monime answered 409 idempotency_key_in_use: ")
    );
    let replay = client
        .create()
        .name("a")
        .url("https://x")
        .event("a.b")
        .idempotency_key("same-key")
        .send()
        .await
        .unwrap();
    assert_eq!(replay.id, created.id);

    let wrong_token = Client::builder()
        .access_token("sk_nope")
        .space_id("spc-behaviour")
        .api_url(mock.base_url())
        .build()
        .unwrap();
    match wrong_token.list().send().await.unwrap_err() {
        Error::Api {
            status: 401,
            reason,
            request_id: Some(_),
            ..
        } => assert_eq!(reason, "unauthenticated"),
        other => panic!("{other:?}"),
    }
    mock.shutdown().await;

    let failing = mock_with(Faults {
        server_error_rate: 1.0,
        ..Faults::none()
    })
    .await;
    let error = client_for_url(&failing.base_url())
        .list()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Api {
                status: 500 | 502 | 503,
                request_id: Some(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    failing.shutdown().await;

    // Nothing listens there: a transport error, retryable.
    let closed = client_for_url("http://127.0.0.1:9")
        .list()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(closed, Error::Transport(_)), "{closed:?}");
    assert!(closed.is_retryable());
    assert!(closed.to_string().starts_with("request to Monime failed: "));
}

fn client_for_url(url: &str) -> Client {
    client(url, RetryPolicy::none())
}

/// A tiny scripted server: records each request's idempotency key and answers from a list.
async fn scripted(
    answers: Vec<(u16, &'static str, Value)>,
) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let keys = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(answers));
    let seen = keys.clone();
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let seen = seen.clone();
        let script = script.clone();
        async move {
            seen.lock().unwrap().push(
                headers
                    .get("idempotency-key")
                    .map(|v| v.to_str().unwrap().to_owned()),
            );
            let (status, content_type, body) = script.lock().unwrap().remove(0);
            let mut response =
                (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
            response
                .headers_mut()
                .insert("content-type", content_type.parse().unwrap());
            response.headers_mut().insert(
                "monime-request-id",
                format!("req-scripted-{status}").parse().unwrap(),
            );
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, keys)
}

/// A webhook as Monime returns it: every field it always carries.
fn webhook(id: &str, name: &str) -> serde_json::Value {
    json!({
        "id": id, "name": name, "url": "https://shop.example/hooks", "enabled": true,
        "events": ["payment.completed"], "apiRelease": "caph",
        "createTime": "2026-12-06T00:00:00Z"
    })
}

#[tokio::test]
async fn a_create_keeps_its_generated_key_across_retries() {
    let envelope = json!({ "success": true, "messages": [], "result": webhook("whk-1", "a") });
    let unavailable = json!({ "success": false, "messages": [], "error": { "code": 503, "reason": "service_unavailable", "message": "try later" } });
    let (url, keys) = scripted(vec![
        (503, "application/json", unavailable.clone()),
        (503, "application/json", unavailable),
        (200, "application/json", envelope),
    ])
    .await;
    let webhook = client(&url, patient())
        .create()
        .name("a")
        .url("https://x")
        .event("a.b")
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.id.as_str(), "whk-1");
    assert_eq!(webhook.request_id(), Some("req-scripted-200"));
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 3);
    let first = keys[0].clone().expect("an Idempotency-Key is sent");
    assert!(
        keys.iter().all(|k| k.as_deref() == Some(first.as_str())),
        "{keys:?}"
    );
    let parsed = uuid::Uuid::parse_str(&first).unwrap();
    assert_eq!(parsed.get_version_num(), 4);
}

#[tokio::test]
async fn four_xx_is_never_retried_and_undecodable_bodies_are_decode_errors() {
    let bad = json!({ "success": false, "messages": [], "error": { "code": 400, "reason": "invalid_request", "message": "no" } });
    let (url, keys) = scripted(vec![(400, "application/json", bad)]).await;
    let error = client(&url, patient()).list().send().await.unwrap_err();
    assert!(matches!(error, Error::Api { status: 400, .. }));
    assert_eq!(keys.lock().unwrap().len(), 1, "no retry of a 400");

    let html = Value::String("<html>bad gateway</html>".into());
    let (url, _) = scripted(vec![(502, "text/html", html)]).await;
    let error = client(&url, RetryPolicy::none())
        .list()
        .send()
        .await
        .unwrap_err();
    match &error {
        Error::Decode {
            status: 502,
            excerpt,
            request_id,
            ..
        } => {
            assert!(excerpt.contains("bad gateway"));
            assert_eq!(request_id.as_deref(), Some("req-scripted-502"));
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_retryable());

    // A 200 that is not an envelope, echoing a secret: the excerpt masks it.
    let odd = json!({ "result": { "verificationMethod": { "type": "HS256", "secret": "test_secret_for_vector_0123456789abcdef" } }, "success": "maybe" });
    let (url, _) = scripted(vec![(200, "application/json", odd)]).await;
    let error = client(&url, RetryPolicy::none())
        .get("whk-1")
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, Error::Decode { status: 200, .. }),
        "{error:?}"
    );
    assert!(!text.contains("test_secret_for_vector"), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
}

/// A server whose first connection reads the request and closes without answering (the
/// request may have taken effect), and whose later connections answer `answer`.
async fn drops_first_then(answer: (u16, Value)) -> (String, Arc<Mutex<u32>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(Mutex::new(0u32));
    let count = served.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let seen = {
                let mut count = count.lock().unwrap();
                *count += 1;
                *count
            };
            if seen == 1 {
                drop(socket);
                continue;
            }
            let body = answer.1.to_string();
            let head = format!(
                "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nmonime-request-id: req-after-drop\r\nconnection: close\r\n\r\n",
                answer.0,
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        }
    });
    (url, served)
}

#[tokio::test]
async fn a_retried_delete_that_finds_nothing_after_a_lost_answer_succeeds() {
    let gone = json!({ "success": false, "messages": [], "error": { "code": 404, "reason": "not_found", "message": "gone" } });
    let (url, served) = drops_first_then((404, gone.clone())).await;
    let deleted = client(&url, patient())
        .delete("whk-1")
        .await
        .expect("the first attempt deleted it and its answer was lost");
    assert_eq!(deleted.request_id(), Some("req-after-drop"));
    assert_eq!(*served.lock().unwrap(), 2);

    // Without an earlier attempt whose outcome is unknown, 404 is 404.
    let (url, _) = scripted(vec![(404, "application/json", gone.clone())]).await;
    assert!(matches!(
        client(&url, patient()).delete("whk-1").await.unwrap_err(),
        Error::Api { status: 404, .. }
    ));
    // A 500 or 502 is an answer, not a lost one: the 404 after it is reported, even for an id
    // that never existed.
    for status in [500u16, 502] {
        let failed = json!({ "success": false, "messages": [], "error": { "code": status, "reason": "failed", "message": "failed" } });
        let (url, keys) = scripted(vec![
            (status, "application/json", failed),
            (404, "application/json", gone.clone()),
        ])
        .await;
        assert!(
            matches!(
                client(&url, patient()).delete("whk-1").await.unwrap_err(),
                Error::Api { status: 404, .. }
            ),
            "after {status}"
        );
        assert_eq!(keys.lock().unwrap().len(), 2);
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_attempt_is_a_traced_span_without_bodies() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    // Global, not scoped to this thread: callsites other tests of this binary meet first on
    // their threads would otherwise stay silent here. Their spans are captured too, and held
    // to the same rule (no secret, no token).
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    let mock = MonimeMock::start().await.unwrap();
    let client = client(&mock.base_url(), RetryPolicy::none());
    let secret = "test_secret_for_vector_0123456789abcdef";
    client
        .create()
        .name("traced")
        .url("https://x")
        .event("a.b")
        .hs256(secret)
        .send()
        .await
        .unwrap();
    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("monime.request"), "{output}");
    assert!(output.contains("operation=\"create_webhook\""), "{output}");
    assert!(output.contains("attempt=1"), "{output}");
    assert!(output.contains("status=200"), "{output}");
    assert!(output.contains("request_id=\"req-"), "{output}");
    assert!(
        !output.contains(secret) && !output.contains("mon_test_behaviour"),
        "{output}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn a_delete_refused_before_processing_then_404_is_an_error() {
    let gone = json!({ "success": false, "messages": [], "error": { "code": 404, "reason": "not_found", "message": "gone" } });
    let busy = json!({ "success": false, "messages": [], "error": { "code": 503, "reason": "service_unavailable", "message": "busy" } });
    let (url, keys) = scripted(vec![
        (503, "application/json", busy),
        (404, "application/json", gone),
    ])
    .await;
    let error = client(&url, patient())
        .delete("whk-typo")
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Api { status: 404, .. }),
        "a 503 was not processed: {error:?}"
    );
    assert_eq!(keys.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn list_all_ends_when_a_server_repeats_its_cursor() {
    let page = json!({ "success": true, "messages": [], "result": [webhook("whk-1", "a")], "pagination": { "count": 1, "next": "same" } });
    let (url, keys) = scripted(vec![
        (200, "application/json", page.clone()),
        (200, "application/json", page),
    ])
    .await;
    // A regression that followed the cursor for ever fails here instead of hanging the suite.
    let walk = client(&url, RetryPolicy::none())
        .list_all()
        .collect::<Vec<_>>();
    let items = tokio::time::timeout(Duration::from_secs(10), walk)
        .await
        .expect("the walk ends");
    assert_eq!(
        items.len(),
        2,
        "one webhook, then the repeated cursor ends the walk"
    );
    assert!(items[0].is_ok(), "{:?}", items[0]);
    match &items[1] {
        Err(Error::Decode { message, .. }) => assert!(message.contains("cursor"), "{message}"),
        other => panic!("expected the walk to end with an error, got {other:?}"),
    }
    assert_eq!(keys.lock().unwrap().len(), 2);
}

/// Ids that leave their path segment once in a URL: `\` counts as `/` in http(s) URLs and
/// `..` segments are resolved, so the first reached `GET /v1/payouts/pyt-1` with the app's
/// token.
const HOSTILE_IDS: [&str; 9] = [
    "whk-\\..\\..\\payouts\\pyt-1",
    "whk-a/../../x?y#z",
    "whk-..",
    "whk-%2e%2e",
    "whk-%2E%2E/payouts",
    "whk-a/b",
    "whk-a?b",
    "whk-a#b",
    "whk-a\\b",
];

#[tokio::test]
async fn ids_and_raw_paths_cannot_escape_their_url() {
    let mock = MonimeMock::start().await.unwrap();
    let client = client(&mock.base_url(), RetryPolicy::none());
    // Ids that would add, remove or resolve a path segment are refused before sending, by
    // every operation that puts an id in the path.
    for id in HOSTILE_IDS {
        let refusals = [
            client.get(id).await.map(drop).unwrap_err(),
            client.delete(id).await.map(drop).unwrap_err(),
            client
                .update(id)
                .name("x")
                .send()
                .await
                .map(drop)
                .unwrap_err(),
        ];
        for refused in refusals {
            match &refused {
                Error::Validation { field, message } => {
                    assert_eq!(field, "id", "{id}: {refused:?}");
                    assert!(message.contains("must match"), "{id}: {message}");
                }
                other => panic!("{id}: expected a validation error, got {other:?}"),
            }
        }
    }
    assert_eq!(mock.counters().requests, 0, "no hostile id was sent");
    let refused = client
        .raw(monime_webhooks::Method::GET, "@evil.example/x", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::Validation { field, .. } if field == "path"),
        "{refused:?}"
    );
    assert_eq!(
        mock.counters().requests,
        0,
        "the raw call was refused before sending"
    );
    mock.shutdown().await;
}

type Answers = Vec<(u16, Vec<(&'static str, String)>, String)>;

/// A server that gives `answers` in turn (the last one again when they run out) and counts the
/// requests it gets.
async fn answering(answers: Answers) -> (String, Arc<Mutex<u32>>) {
    let hits = Arc::new(Mutex::new(0u32));
    let count = hits.clone();
    let script = Arc::new(Mutex::new(answers));
    let app = Router::new().fallback(move || {
        let count = count.clone();
        let script = script.clone();
        async move {
            *count.lock().unwrap() += 1;
            let (status, headers, body) = {
                let mut script = script.lock().unwrap();
                if script.len() > 1 {
                    script.remove(0)
                } else {
                    script[0].clone()
                }
            };
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}

const SECRET: &str = "whsec_0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn redirects_are_refused_naming_the_status_and_location() {
    let (elsewhere, elsewhere_hits) = answering(vec![(200, vec![], "{}".to_owned())]).await;
    let location = format!("{elsewhere}/v1/webhooks");
    let (url, hits) = answering(vec![(
        307,
        vec![("location", location.clone())],
        String::new(),
    )])
    .await;
    let error = client(&url, patient())
        .create()
        .name("a")
        .url("https://x.example")
        .event("a.b")
        .hs256(SECRET)
        .send()
        .await
        .unwrap_err();
    match &error {
        Error::Redirect {
            status: 307,
            location: Some(to),
            ..
        } => assert_eq!(to, &location),
        other => panic!("expected a redirect error, got {other:?}"),
    }
    let text = error.to_string();
    assert!(text.contains("307") && text.contains(&location), "{text}");
    assert_eq!(*hits.lock().unwrap(), 1, "a redirect is not retried");
    assert_eq!(
        *elsewhere_hits.lock().unwrap(),
        0,
        "the body and its secret never reach the other host"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_unread() {
    let big = json!({ "success": true, "messages": [], "result": webhook("whk-1", &"n".repeat(64 * 1024)) })
        .to_string();
    let (url, _) = answering(vec![(200, vec![], big)]).await;
    let small = Client::builder()
        .access_token("mon_test_behaviour")
        .space_id("spc-behaviour")
        .api_url(&url)
        .retry(RetryPolicy::none())
        .body_limit(1024)
        .build()
        .unwrap();
    match small.get("whk-1").await.unwrap_err() {
        Error::Decode {
            status: 200,
            message,
            ..
        } => assert!(message.contains("body limit"), "{message}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    // The same answer under the default limit decodes.
    let webhook = client(&url, RetryPolicy::none())
        .get("whk-1")
        .await
        .unwrap();
    assert_eq!(webhook.name.len(), 64 * 1024);
}

#[tokio::test]
async fn a_503_with_an_http_date_retry_after_is_honoured() {
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let unavailable = json!({ "success": false, "messages": [], "error": { "code": 503, "reason": "unavailable", "message": "later" } });
    let ok = json!({ "success": true, "messages": [], "result": webhook("whk-1", "a") });
    let (url, hits) = answering(vec![
        (503, vec![("retry-after", date)], unavailable.to_string()),
        (200, vec![], ok.to_string()),
    ])
    .await;
    let started = Instant::now();
    client(&url, patient()).get("whk-1").await.unwrap();
    assert_eq!(*hits.lock().unwrap(), 2);
    // The policy alone would wait milliseconds; the date asks for one to two seconds.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn list_all_ends_with_an_error_when_a_cursor_comes_back() {
    let page = |id: &str, next: &str| {
        json!({ "success": true, "messages": [], "result": [webhook(id, "a")], "pagination": { "count": 1, "next": next } })
            .to_string()
    };
    let (url, hits) = answering(vec![
        (200, vec![], page("whk-1", "A")),
        (200, vec![], page("whk-2", "B")),
        (200, vec![], page("whk-3", "A")),
    ])
    .await;
    let walk = client(&url, RetryPolicy::none())
        .list_all()
        .collect::<Vec<_>>();
    let items: Vec<Result<Webhook, Error>> = tokio::time::timeout(Duration::from_secs(10), walk)
        .await
        .expect("the walk ends");
    let ids: Vec<_> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().map(|w| w.id.to_string()))
        .collect();
    assert_eq!(ids, ["whk-1", "whk-2"]);
    match items.last() {
        Some(Err(Error::Decode { message, .. })) => {
            assert!(message.contains("cursor"), "{message}")
        }
        other => panic!("expected the walk to end with an error, got {other:?}"),
    }
    assert_eq!(
        *hits.lock().unwrap(),
        3,
        "the walk stops at the repeated cursor"
    );
}

#[test]
fn api_urls_must_be_https_except_loopback_and_carry_no_user_info() {
    let build = |url: &str| {
        Client::builder()
            .access_token("mon_test_behaviour")
            .space_id("spc-behaviour")
            .api_url(url)
            .build()
    };
    for refused in [
        "http://api.monime.example",
        "http://10.0.0.1:8080",
        "https://user:hunter2@api.monime.example",
    ] {
        match build(refused) {
            Err(Error::Config {
                name: "api_url",
                message,
            }) => {
                assert!(!message.contains("hunter2"), "{message}")
            }
            other => panic!("{refused} should be refused, got {other:?}"),
        }
    }
    for accepted in [
        "https://api.monime.example",
        "http://127.0.0.1:9",
        "http://localhost:9",
        "http://[::1]:9",
    ] {
        assert!(build(accepted).is_ok(), "{accepted}");
    }
    let builder = Client::builder().api_url("https://user:secret-pass@api.monime.example");
    assert!(!format!("{builder:?}").contains("secret-pass"));
}

/// The limits are this project's own (Monime documents none), so the client refuses only what
/// cannot work: a standard header name and metadata 16 levels deep go through, and the webhook
/// the emulator keeps decodes.
#[tokio::test]
async fn valid_header_tokens_and_metadata_at_the_depth_limit_go_through() {
    let mock = MonimeMock::start().await.unwrap();
    let client = client(&mock.base_url(), RetryPolicy::none());
    let deepest = (0..15).fold(json!("leaf"), |inner, _| json!({ "k": inner }));
    let created = client
        .create()
        .name("limits")
        .url("https://x.example")
        .event("a.b")
        .header("Content-Type", "text/plain")
        .header("X-Tab", "a\tb")
        .metadata_entry("deep", deepest.clone())
        .send()
        .await
        .expect("accepted by client and emulator");
    let got = client.get(created.id.as_str()).await.unwrap();
    assert_eq!(got.metadata.as_ref().unwrap()["deep"], deepest);
    let listed: Vec<Webhook> = client.list_all().map(Result::unwrap).collect().await;
    assert_eq!(listed.len(), 1);
    mock.shutdown().await;
}

/// A webhook answer missing a field Monime always sends is a decode error naming the field,
/// not a webhook with a hole in it.
#[tokio::test]
async fn a_webhook_without_a_field_monime_always_sends_names_the_field() {
    for missing in [
        "id",
        "name",
        "url",
        "enabled",
        "events",
        "apiRelease",
        "createTime",
    ] {
        let mut result = webhook("whk-1", "a");
        result.as_object_mut().unwrap().remove(missing);
        let body = json!({ "success": true, "messages": [], "result": result }).to_string();
        let (url, _) = answering(vec![(200, vec![], body)]).await;
        match client(&url, RetryPolicy::none()).get("whk-1").await {
            Err(Error::Decode { message, .. }) => {
                assert!(message.contains(missing), "{missing}: {message}")
            }
            other => panic!("{missing}: expected a decode error, got {other:?}"),
        }
    }
}

/// An HTTP client of the caller's own follows redirects (reqwest's default), and the hooks
/// cannot turn that off: the answer that came from another URL is refused unread, as a
/// redirect naming where it came from, and not retried.
#[tokio::test]
async fn an_answer_from_elsewhere_is_a_redirect_whoever_built_the_http_client() {
    let found = json!({ "success": true, "messages": [], "result": webhook("whk-1", "a") });
    let (elsewhere, elsewhere_hits) = answering(vec![
        (200, vec![], found.to_string()),
        (200, vec![], found.to_string()),
    ])
    .await;
    let location = format!("{elsewhere}/v1/webhooks/whk-1");
    let redirect = (307, vec![("location", location.clone())], String::new());
    let (url, hits) = answering(vec![redirect.clone(), redirect]).await;
    let client = Client::builder()
        .access_token("mon_test_behaviour")
        .space_id("spc-behaviour")
        .api_url(&url)
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    match client.get("whk-1").await.unwrap_err() {
        Error::Redirect {
            status: 200,
            location: Some(to),
            ..
        } => assert_eq!(to, location),
        other => panic!("expected a redirect error, got {other:?}"),
    }
    // The raw escape hatch, which calls no post hook, refuses it too.
    let raw = client
        .raw(monime_webhooks::Method::GET, "/v1/webhooks/whk-1", None)
        .await;
    assert!(matches!(raw, Err(Error::Redirect { .. })), "{raw:?}");
    assert_eq!(*hits.lock().unwrap(), 2, "not retried");
    assert_eq!(*elsewhere_hits.lock().unwrap(), 2);
}

/// The body limit holds when the answer declares no length (chunked): the client stops
/// reading past the limit instead of buffering whatever arrives.
#[tokio::test]
async fn a_chunked_answer_over_the_limit_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 16 * 1024];
        let _ = stream.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    transfer-encoding: chunked\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("400\r\n{}\r\n", " ".repeat(0x400));
        // Endless: only the client's limit ends it.
        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
    });
    let client = Client::builder()
        .access_token("mon_test_behaviour")
        .space_id("spc-behaviour")
        .api_url(&url)
        .retry(RetryPolicy::none())
        .body_limit(4096)
        .build()
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), client.get("whk-1"))
        .await
        .expect("the read stops at the limit");
    match outcome {
        Err(Error::Decode { message, .. }) => assert!(message.contains("body limit"), "{message}"),
        other => panic!("expected the body limit, got {other:?}"),
    }
}

/// A `Retry-After` longer than what the retry deadline has left fails at once, naming both
/// times, instead of sleeping past the deadline.
#[tokio::test]
async fn a_retry_after_past_the_deadline_fails_promptly_naming_both_times() {
    let limited = json!({ "success": false, "messages": [], "error": { "code": 429, "reason": "rate_limited", "message": "slow down" } });
    let (url, hits) = answering(vec![(
        429,
        vec![("retry-after", "3600".to_owned())],
        limited.to_string(),
    )])
    .await;
    let policy = RetryPolicy {
        deadline: Some(Duration::from_secs(5)),
        ..patient()
    };
    let started = Instant::now();
    let error = tokio::time::timeout(Duration::from_secs(10), client(&url, policy).get("whk-1"))
        .await
        .expect("no sleep past the deadline")
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match &error {
        Error::RateLimited {
            retry_after: Some(after),
            deadline_left: Some(left),
            ..
        } => {
            assert_eq!(*after, Duration::from_secs(3600));
            assert!(*left <= Duration::from_secs(5), "{left:?}");
        }
        other => panic!("expected a rate limit past the deadline, got {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("retry after 3600 s") && text.contains("past the retry deadline"),
        "{text}"
    );
    assert_eq!(*hits.lock().unwrap(), 1, "not retried");
}
