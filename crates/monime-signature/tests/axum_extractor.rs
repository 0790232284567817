//! The axum extractor on a real server on 127.0.0.1: verified deliveries reach the handler
//! with their raw bytes; everything else is answered before it.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use monime_signature::axum::{VerifiedEvent, WebhookVerifier};
use monime_signature::{Signer, Verifier};

const SECRET: &str = "test_secret_for_vector_0123456789abcdef";
const BODY: &str = r#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"payment.completed","timestamp":"1771803194"},"object":{"id":"pay-1","type":"payment"},"data":{"id":"pay-1"}}"#;

/// (event id, raw body) of every delivery the handler saw.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

#[derive(Clone)]
struct App {
    verifier: WebhookVerifier,
    seen: Seen,
}

impl axum::extract::FromRef<App> for WebhookVerifier {
    fn from_ref(app: &App) -> WebhookVerifier {
        app.verifier.clone()
    }
}

async fn receive(State(app): State<App>, delivery: VerifiedEvent) -> &'static str {
    app.seen
        .lock()
        .unwrap()
        .push((delivery.event.id.clone(), delivery.raw.to_vec()));
    "ok"
}

async fn start(verifier: Verifier, body_limit: usize) -> (String, Seen) {
    serve(WebhookVerifier::with_body_limit(verifier, body_limit), None).await
}

/// Serves the extractor on 127.0.0.1, under the app's `DefaultBodyLimit` when given.
async fn serve(verifier: WebhookVerifier, app_limit: Option<usize>) -> (String, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = App {
        verifier,
        seen: seen.clone(),
    };
    let mut router = Router::new().route("/hook", post(receive)).with_state(app);
    if let Some(limit) = app_limit {
        router = router.layer(DefaultBodyLimit::max(limit));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

async fn post_delivery(url: &str, header: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(header) = header {
        request = request.header("Monime-Signature", header);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_signed_delivery_reaches_the_handler_with_its_raw_bytes() {
    let (url, seen) = start(Verifier::hs256(SECRET).unwrap(), 64 * 1024).await;
    let header = Signer::hs256(SECRET).unwrap().sign_now(BODY.as_bytes());
    assert_eq!(
        post_delivery(&url, Some(&header), BODY.as_bytes()).await,
        (200, "ok".to_owned())
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "wkd-1");
    assert_eq!(seen[0].1, BODY.as_bytes());
}

#[tokio::test]
async fn an_es256_delivery_is_verified_with_the_public_key() {
    let signer = Signer::generate_es256();
    let (url, seen) = start(
        Verifier::es256(&signer.public_key_pem().unwrap()).unwrap(),
        64 * 1024,
    )
    .await;
    let header = signer.sign_now(BODY.as_bytes());
    assert_eq!(
        post_delivery(&url, Some(&header), BODY.as_bytes()).await.0,
        200
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn failures_are_answered_before_the_handler() {
    let (url, seen) = start(Verifier::hs256(SECRET).unwrap(), 1024).await;
    let good = Signer::hs256(SECRET).unwrap().sign_now(BODY.as_bytes());
    let wrong_key = Signer::hs256("another_secret_0123456789abcdef0123")
        .unwrap()
        .sign_now(BODY.as_bytes());
    let stale = Signer::hs256(SECRET)
        .unwrap()
        .sign(1_000_000_000, BODY.as_bytes());
    let not_event = Signer::hs256(SECRET).unwrap().sign_now(b"[1,2,3]");
    let big = vec![b' '; 2048];
    let big_header = Signer::hs256(SECRET).unwrap().sign_now(&big);

    assert_eq!(
        post_delivery(&url, None, BODY.as_bytes()).await,
        (401, "invalid Monime signature: missing_header".to_owned())
    );
    assert_eq!(
        post_delivery(&url, Some(&wrong_key), BODY.as_bytes()).await,
        (
            401,
            "invalid Monime signature: signature_mismatch".to_owned()
        )
    );
    assert_eq!(
        post_delivery(&url, Some(&stale), BODY.as_bytes()).await,
        (
            401,
            "invalid Monime signature: timestamp_out_of_tolerance".to_owned()
        )
    );
    assert_eq!(
        post_delivery(&url, Some("garbage"), BODY.as_bytes())
            .await
            .0,
        401
    );
    let tampered = BODY.replace("pay-1", "pay-2");
    assert_eq!(
        post_delivery(&url, Some(&good), tampered.as_bytes())
            .await
            .0,
        401
    );
    assert_eq!(
        post_delivery(&url, Some(&not_event), b"[1,2,3]").await,
        (400, "invalid event: invalid_body".to_owned())
    );
    assert_eq!(
        post_delivery(&url, Some(&big_header), &big).await,
        (413, "body larger than the limit".to_owned())
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "no invalid delivery may reach the handler"
    );
}

/// A padded event body of about `size` bytes, signed now.
fn big_delivery(size: usize) -> (String, Vec<u8>) {
    let mut body = BODY.strip_suffix('}').unwrap().to_owned();
    body.push_str(",\"pad\":\"");
    body.push_str(&"x".repeat(size));
    body.push_str("\"}");
    let header = Signer::hs256(SECRET).unwrap().sign_now(body.as_bytes());
    (header, body.into_bytes())
}

#[tokio::test]
async fn the_apps_default_body_limit_applies() {
    let verifier = || WebhookVerifier::new(Verifier::hs256(SECRET).unwrap());
    let (header, body) = big_delivery(4096);
    // Under the app's 1 KiB limit, a valid 4 KiB delivery is refused...
    let (small_app, seen) = serve(verifier(), Some(1024)).await;
    assert_eq!(
        post_delivery(&small_app, Some(&header), &body).await,
        (413, "body larger than the limit".to_owned())
    );
    assert!(seen.lock().unwrap().is_empty());
    // ...and under a 64 KiB one it is accepted.
    let (large_app, seen) = serve(verifier(), Some(64 * 1024)).await;
    assert_eq!(post_delivery(&large_app, Some(&header), &body).await.0, 200);
    assert_eq!(seen.lock().unwrap().len(), 1);
    // The smaller of the extractor's limit and the app's wins.
    let (both, _) = serve(
        WebhookVerifier::with_body_limit(Verifier::hs256(SECRET).unwrap(), 1024),
        Some(64 * 1024),
    )
    .await;
    assert_eq!(post_delivery(&both, Some(&header), &body).await.0, 413);
}

#[tokio::test]
async fn the_header_is_checked_before_the_body_is_read() {
    let (url, seen) = start(Verifier::hs256(SECRET).unwrap(), 1024).await;
    // A body over the limit without a usable header is a 401 about the header, not a 413:
    // the body was never read.
    let (_, big) = big_delivery(4096);
    assert_eq!(
        post_delivery(&url, None, &big).await,
        (401, "invalid Monime signature: missing_header".to_owned())
    );
    assert_eq!(
        post_delivery(&url, Some("t=abc,v1=x"), &big).await,
        (401, "invalid Monime signature: malformed_header".to_owned())
    );
    // A request that announces a body and never sends it is answered all the same.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://").trim_end_matches("/hook");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /hook HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
                 Content-Length: 1000\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(seen.lock().unwrap().is_empty());
}

/// The log lines the extractor wrote, from a subscriber this binary installs once.
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static Mutex<Vec<u8>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct Sink(&'static Mutex<Vec<u8>>);
        impl std::io::Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(logs))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
}

/// A rejected delivery is logged with its kind, the diagnosis's hint, the clock skew and the
/// body length, never the secret, signature or body; at most once a second per verifier, the
/// next line counting the ones left out.
#[tokio::test]
async fn rejections_are_logged_with_the_likely_mistake_at_most_once_a_second() {
    let logs = logs();
    let (url, _) = start(Verifier::hs256(SECRET).unwrap(), 64 * 1024).await;
    // A body of its own length, to find this test's lines among the others'.
    let body = format!("{}{}", BODY, " ".repeat(777 - BODY.len()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    // Start just after a second begins, so the first three fall in one second.
    tokio::time::sleep(std::time::Duration::from_nanos(
        1_000_000_000 - u64::from(now.subsec_nanos()) + 20_000_000,
    ))
    .await;
    let t = now.as_secs() + 1;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    hmac::Mac::update(&mut mac, format!("{t}.{body}").as_bytes());
    let v1 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        hmac::Mac::finalize(mac).into_bytes(),
    );
    let period = format!("t={t},v1={v1}");
    for _ in 0..3 {
        assert_eq!(
            post_delivery(&url, Some(&period), body.as_bytes()).await.0,
            401
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        post_delivery(&url, Some(&period), body.as_bytes()).await.0,
        401
    );

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("body_len=777"))
        .collect();
    // Each line counts itself and the rejections left out before it: all four are
    // accounted for, in fewer lines (the first three normally share one second; a stalled
    // machine may split them, which moves the counts, not the sum).
    let unlogged = |line: &str| -> usize {
        let at = line.find("unlogged=").expect("a count") + "unlogged=".len();
        line[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let accounted: usize = lines.iter().map(|line| 1 + unlogged(line)).sum();
    assert_eq!(accounted, 4, "{text}");
    assert!(lines.len() < 4, "at most one line a second: {text}");
    assert_eq!(
        unlogged(lines[0]),
        0,
        "the first rejection is logged: {text}"
    );
    for line in &lines {
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains(r#"kind="signature_mismatch""#), "{line}");
        assert!(line.contains(r#"hint="period_separator""#), "{line}");
        assert!(line.contains("a period separator"), "{line}");
        assert!(line.contains("clock_skew_secs="), "{line}");
        assert!(
            !line.contains(SECRET) && !line.contains(&v1) && !line.contains("wkd-1"),
            "{line}"
        );
    }
}
