//! `monime-webhooks listen` end to end, all on 127.0.0.1: the emulator delivers real signed
//! events to the `listen` process, which forwards them to a test app; a proxy that tampers with
//! deliveries on the way; a sender that makes the usual mistake; the exit codes.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use monime_mock::{DeliveryPolicy, MockConfig, MonimeMock};
use monime_signature::Verifier;
use serde_json::{Value, json};
use sha2::Sha256;

const BIN: &str = env!("CARGO_BIN_EXE_monime-webhooks");
const SECRET: &str = "test_secret_for_vector_0123456789abcdef";
const TOKEN: &str = "mon_test_listen";
const SPACE: &str = "spc-listen";

/// A running `listen` process and the URL it announced.
struct Listen {
    child: Child,
    url: String,
    stderr: std::thread::JoinHandle<String>,
}

/// Starts `monime-webhooks listen --port 0 ARGS` and waits for its "listening on" line.
fn listen(args: &[&str]) -> Listen {
    let mut child = Command::new(BIN)
        .args(["listen", "--port", "0"])
        .args(args)
        .env_remove("MONIME_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .split([',', '\n'])
        .next()
        .unwrap()
        .to_owned();
    let stderr = std::thread::spawn(move || {
        let mut rest = first;
        stderr.read_to_string(&mut rest).unwrap();
        rest
    });
    Listen { child, url, stderr }
}

impl Listen {
    /// Waits for the process to stop by itself (`--max-events`): exit code, stdout, stderr.
    fn finish(mut self) -> (i32, String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("listen did not stop after its deliveries");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let stderr = self.stderr.join().unwrap();
        (status.code().unwrap(), stdout, stderr)
    }
}

/// What a test server received: path, headers, body.
type Received = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

/// The app being written: records each request and answers 202.
async fn start_app() -> (String, Received) {
    start_app_answering(StatusCode::ACCEPTED, "queued").await
}

/// An app that records each request and answers `status` with `text`.
async fn start_app_answering(status: StatusCode, text: &'static str) -> (String, Received) {
    type App = (Received, StatusCode, &'static str);
    async fn receive(
        State((received, status, text)): State<App>,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, &'static str) {
        received
            .lock()
            .unwrap()
            .push((uri.path().to_owned(), headers, body));
        (status, text)
    }
    let received = Received::default();
    let app = Router::new()
        .fallback(receive)
        .with_state((received.clone(), status, text));
    (serve(app).await, received)
}

/// A proxy between Monime and `listen` that changes the amount in every body it passes on.
async fn start_tampering_proxy(listen_url: String) -> String {
    async fn tamper(State(target): State<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("\"value\":1500"), "{text}");
        let tampered = text.replace("\"value\":1500", "\"value\":9500");
        let mut request = reqwest::Client::new().post(&target).body(tampered);
        for name in ["content-type", "monime-signature"] {
            request = request.header(name, headers.get(name).unwrap());
        }
        let status = request.send().await.unwrap().status().as_u16();
        StatusCode::from_u16(status).unwrap()
    }
    serve(Router::new().fallback(tamper).with_state(listen_url)).await
}

async fn serve(app: Router) -> String {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    url
}

async fn emulator() -> MonimeMock {
    let config = MockConfig {
        delivery: DeliveryPolicy::fast(),
        ..MockConfig::default()
    };
    MonimeMock::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn call(mock: &MonimeMock, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", mock.base_url()))
        .bearer_auth(TOKEN)
        .header("Monime-Space-Id", SPACE)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let reply: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {reply}");
    reply
}

/// Registers a webhook on the emulator; returns its result object.
async fn create_webhook(mock: &MonimeMock, url: &str, verification: Value) -> Value {
    let body = json!({
        "name": "listen test",
        "url": url,
        "apiRelease": "caph",
        "events": ["payment.completed", "payout.failed"],
        "headers": { "X-Shop": "main" },
        "verificationMethod": verification,
    });
    call(mock, "/v1/webhooks", body).await["result"].clone()
}

async fn trigger(mock: &MonimeMock, name: &str, object_type: &str, id: &str) {
    let body = json!({
        "name": name,
        "object": { "id": id, "type": object_type },
        "data": { "id": id, "status": "completed", "amount": { "currency": "SLE", "value": 1500 } },
    });
    call(mock, "/_mock/events", body).await;
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("monime-webhooks-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_delivers_to_listen_which_forwards_to_the_app() {
    let (app_url, app) = start_app().await;
    let forward_to = format!("{app_url}/hooks/monime");
    let listener = listen(&[
        "--secret",
        SECRET,
        "--forward-to",
        &forward_to,
        "--output",
        "json",
        "--max-events",
        "2",
    ]);
    let mock = emulator().await;
    create_webhook(
        &mock,
        &format!("{}/monime", listener.url),
        json!({ "type": "HS256", "secret": SECRET }),
    )
    .await;
    trigger(&mock, "payment.completed", "payment", "pay-listen-1").await;
    trigger(&mock, "payout.failed", "payout", "pyt-listen-1").await;
    assert!(mock.settle(Duration::from_secs(30)).await);

    let (code, stdout, stderr) = listener.finish();
    assert_eq!(code, 0, "every delivery verified: {stdout}{stderr}");
    let mut lines = json_lines(&stdout);
    lines.sort_by_key(|line| line["event"].as_str().unwrap().to_owned());
    assert_eq!(lines.len(), 2, "one line per event: {stdout}");
    for (line, (name, object_type, id)) in lines.iter().zip([
        ("payment.completed", "payment", "pay-listen-1"),
        ("payout.failed", "payout", "pyt-listen-1"),
    ]) {
        assert_eq!(line["valid"], json!(true), "{line}");
        assert_eq!(line["event"], json!(name));
        assert!(line["id"].as_str().unwrap().starts_with("wkd-"), "{line}");
        assert_eq!(line["object"], json!({ "type": object_type, "id": id }));
        assert_eq!(line["forward"]["status"], json!(202), "{line}");
        assert!(line["forward"]["latencyMs"].is_number(), "{line}");
        assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");
        assert!(line.get("reason").is_none(), "{line}");
    }

    // The app got each delivery unchanged: same body bytes, signature and extra headers, so
    // it verifies them itself.
    let received = app.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    let verifier = Verifier::hs256(SECRET).unwrap();
    for (path, headers, body) in &received {
        assert_eq!(path, "/hooks/monime");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-shop"], "main");
        let signature = headers["monime-signature"].to_str().unwrap();
        let event = verifier.verify_and_parse(signature, body).unwrap();
        assert!(lines.iter().any(|line| line["id"] == json!(event.id)));
    }
    // Monime was answered with the app's status.
    let deliveries = mock.deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert!(
        deliveries.iter().all(|d| d.status == Some(202)),
        "{deliveries:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_tampered_on_the_way_shows_invalid_with_its_reason() {
    let listener = listen(&["--secret", SECRET, "--output", "table", "--max-events", "2"]);
    let proxy = start_tampering_proxy(format!("{}/tampered", listener.url)).await;
    let mock = emulator().await;
    let verification = json!({ "type": "HS256", "secret": SECRET });
    create_webhook(
        &mock,
        &format!("{}/direct", listener.url),
        verification.clone(),
    )
    .await;
    create_webhook(&mock, &format!("{proxy}/via-proxy"), verification).await;
    trigger(&mock, "payment.completed", "payment", "pay-tamper-1").await;
    assert!(mock.settle(Duration::from_secs(30)).await);

    let (code, stdout, stderr) = listener.finish();
    assert_eq!(code, 1, "a delivery did not verify: {stdout}{stderr}");
    assert!(stderr.contains("2 deliveries, 1 not valid"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one line per event: {stdout}");
    let valid: Vec<&&str> = lines.iter().filter(|l| l.ends_with("  valid")).collect();
    let invalid: Vec<&&str> = lines.iter().filter(|l| l.contains("  invalid: ")).collect();
    assert_eq!((valid.len(), invalid.len()), (1, 1), "{stdout}");
    for line in [valid[0], invalid[0]] {
        assert!(line.contains("  payment.completed  wkd-"), "{line}");
        assert!(line.contains("  payment pay-tamper-1  "), "{line}");
    }
    assert!(
        invalid[0].contains("invalid: signature mismatch"),
        "{}",
        invalid[0]
    );
    // Nothing usual explains a changed body: the diagnosis says so.
    assert!(
        invalid[0].contains("none of the usual mistakes matches"),
        "{}",
        invalid[0]
    );
    // Without an app, listen acknowledges every delivery.
    assert!(mock.deliveries().iter().all(|d| d.status == Some(200)));
}

/// A sender that joined `t` and the body with a period, as some integrations do.
fn period_signed(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_verification_names_the_likely_mistake_as_verify_does() {
    // The secret from a file that ends with a newline, as editors write them.
    let secret_file = temp_file("secret.txt", format!("{SECRET}\n").as_bytes());
    let listener = listen(&[
        "--secret-file",
        secret_file.to_str().unwrap(),
        "--output",
        "json",
        "--max-events",
        "1",
    ]);
    let body = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-period","name":"payout.failed","timestamp":"1771803194"},"object":{"id":"pyt-1","type":"payout"},"data":{"id":"pyt-1"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signature = period_signed(SECRET, now, body);
    let answer = reqwest::Client::new()
        .post(format!("{}/hooks", listener.url))
        .header("content-type", "application/json")
        .header("monime-signature", &signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let (code, stdout, _) = listener.finish();
    assert_eq!(code, 1);
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["valid"], json!(false));
    assert_eq!(line["id"], json!("wkd-period"));
    assert!(
        line["reason"]
            .as_str()
            .unwrap()
            .starts_with("signature mismatch"),
        "{line}"
    );
    // The same words `verify` prints for the same delivery.
    let body_file = temp_file("period-body.json", body);
    let verify = Command::new(BIN)
        .args(["verify", "--signature", &signature, "--secret", SECRET])
        .arg("--body-file")
        .arg(&body_file)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(1));
    let verify_text = String::from_utf8(verify.stdout).unwrap();
    let mistake = line["likelyMistake"].as_str().unwrap();
    assert!(
        mistake.starts_with("likely mistake: the signature matches `<t>.<body>`"),
        "{mistake}"
    );
    assert!(verify_text.lines().any(|l| l == mistake), "{verify_text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn es256_deliveries_verify_with_the_public_key() {
    let mock = emulator().await;
    // Create first, with a placeholder URL: the public key is needed to start listen.
    let created = create_webhook(
        &mock,
        "https://placeholder.example/hooks",
        json!({ "type": "ES256" }),
    )
    .await;
    let pem = created["verificationMethod"]["publicKey"].as_str().unwrap();
    let key_file = temp_file("es256.pem", pem.as_bytes());
    let listener = listen(&[
        "--public-key",
        key_file.to_str().unwrap(),
        "--output",
        "json",
        "--max-events",
        "1",
    ]);
    let id = created["id"].as_str().unwrap();
    let response = reqwest::Client::new()
        .patch(format!("{}/v1/webhooks/{id}", mock.base_url()))
        .bearer_auth(TOKEN)
        .header("Monime-Space-Id", SPACE)
        .json(&json!({ "url": format!("{}/es256", listener.url) }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    trigger(&mock, "payment.completed", "payment", "pay-es256").await;
    assert!(mock.settle(Duration::from_secs(30)).await);

    let (code, stdout, _) = listener.finish();
    assert_eq!(code, 0, "{stdout}");
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["valid"], json!(true), "{}", lines[0]);
    assert_eq!(lines[0]["object"]["id"], json!("pay-es256"));
}

#[test]
fn usage_errors_exit_2_before_listening() {
    let missing = std::env::temp_dir().join("monime-webhooks-listen-no-such-file");
    let occupied = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = occupied.local_addr().unwrap().port().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["listen", "--port", "0"], "--secret"),
        (
            vec![
                "listen",
                "--port",
                "0",
                "--secret",
                SECRET,
                "--public-key",
                "k.pem",
            ],
            "cannot be used with",
        ),
        (
            vec![
                "listen",
                "--port",
                "0",
                "--secret",
                SECRET,
                "--forward-to",
                "not a url",
            ],
            "--forward-to is not a URL",
        ),
        (
            vec![
                "listen",
                "--port",
                "0",
                "--secret",
                SECRET,
                "--forward-to",
                "ftp://127.0.0.1/x",
            ],
            "http or https",
        ),
        (
            vec![
                "listen",
                "--port",
                "0",
                "--secret-file",
                missing.to_str().unwrap(),
            ],
            "cannot read",
        ),
        (vec!["listen", "--port", "0", "--secret", ""], "secret"),
        (
            vec!["listen", "--port", &port, "--secret", SECRET],
            "cannot listen on",
        ),
    ];
    for (args, expected) in cases {
        let output = Command::new(BIN)
            .args(&args)
            .env_remove("MONIME_WEBHOOK_SECRET")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    drop(occupied);
}

/// A delivery signed now, as Monime sends it, with `name` as the event's name.
fn signed_delivery(name: &str) -> (String, String) {
    let body = json!({
        "apiVersion": "caph.2025-08-23",
        "event": { "id": "wkd-slow", "name": name, "timestamp": "1771803194" },
        "object": { "id": "pay-1", "type": "payment" },
        "data": { "id": "pay-1" }
    })
    .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let header = monime_signature::Signer::hs256(SECRET)
        .unwrap()
        .sign(now, body.as_bytes());
    (body, header)
}

/// A peer that sends a delivery's headers and part of its body, then stalls.
fn stall_mid_body(url: &str) -> std::net::TcpStream {
    use std::io::Write;
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST /hooks HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: 500\r\n\r\n{{\"apiVersion\":"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// Slow peers cannot hold `listen`: a peer stalling mid-body is closed within 2 s of a 200 ms
/// read timeout, and one more connection than `--max-connections` is refused.
#[test]
fn listen_closes_peers_that_stall_and_caps_its_connections() {
    let listen = listen(&[
        "--secret",
        SECRET,
        "--read-timeout-ms",
        "200",
        "--max-connections",
        "2",
        "--max-events",
        "1",
    ]);
    let started = Instant::now();
    let mut stalled = stall_mid_body(&listen.url);
    stalled
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stalled.read_to_end(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closed after {:?}",
        started.elapsed()
    );
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));

    let (body, header) = signed_delivery("payment.completed");
    assert_eq!(post_delivery(&listen.url, &body, &header), 200);
    let (code, stdout, _) = listen.finish();
    assert_eq!(code, 0, "{stdout}");

    // The cap, on a listener whose read timeout cannot close the held connections first
    // however slow the machine is.
    let capped = listen_capped();
    let (first, second) = (stall_mid_body(&capped.url), stall_mid_body(&capped.url));
    std::thread::sleep(Duration::from_millis(50));
    let mut third = stall_mid_body(&capped.url);
    let mut refused = String::new();
    let _ = third.read_to_string(&mut refused);
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    // Once they go, a delivery is served and ends the run.
    drop((first, second));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (body, header) = signed_delivery("payment.completed");
        if post_delivery(&capped.url, &body, &header) == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed slots were never reused"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, stdout, _) = capped.finish();
    assert_eq!(code, 0, "{stdout}");
}

fn listen_capped() -> Listen {
    listen(&[
        "--secret",
        SECRET,
        "--read-timeout-ms",
        "30000",
        "--max-connections",
        "2",
        "--max-events",
        "1",
    ])
}

/// With a half-sent request still open, `listen` stops on `--max-events` within its shutdown
/// grace, and on Ctrl-C; a second Ctrl-C stops it at once.
#[test]
fn a_half_sent_request_does_not_keep_listen_from_stopping() {
    // --max-events: the run ends within 2 s of the last delivery, with a stalled peer open.
    let listen_one = listen(&[
        "--secret",
        SECRET,
        "--max-events",
        "1",
        "--shutdown-grace-ms",
        "200",
    ]);
    let _stalled = stall_mid_body(&listen_one.url);
    let (body, header) = signed_delivery("payment.completed");
    assert_eq!(post_delivery(&listen_one.url, &body, &header), 200);
    let started = Instant::now();
    let (code, _, _) = listen_one.finish();
    assert_eq!(code, 0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Ctrl-C with a stalled peer: stops within the grace.
    let mut interrupted = listen(&["--secret", SECRET, "--shutdown-grace-ms", "200"]);
    let _stalled = stall_mid_body(&interrupted.url);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    signal(&interrupted.child, "INT");
    wait_exit(&mut interrupted.child, Duration::from_secs(10));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A long grace, cut short by a second Ctrl-C.
    let mut patient = listen(&["--secret", SECRET, "--shutdown-grace-ms", "60000"]);
    let _stalled = stall_mid_body(&patient.url);
    std::thread::sleep(Duration::from_millis(100));
    signal(&patient.child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        patient.child.try_wait().unwrap().is_none(),
        "the grace is still running"
    );
    let started = Instant::now();
    signal(&patient.child, "INT");
    let status = wait_exit(&mut patient.child, Duration::from_secs(10));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(130));
}

/// A failed forward answers the sender a generic 502, and what `listen` prints masks the
/// forward URL's user-info and query; JSON lines escape what could steer a terminal.
#[test]
fn listen_leaks_nothing_of_the_forward_url_and_escapes_its_json() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let forward = format!("http://user:hunter2@127.0.0.1:{port}/hooks?token=s3cret");
    let listen = listen(&[
        "--secret",
        SECRET,
        "--forward-to",
        &forward,
        "--max-events",
        "1",
        "--output",
        "json",
        "--include-body",
    ]);
    let (body, header) = signed_delivery("payment.\u{202e}completed\u{85}");
    let answer = send_delivery(&listen.url, &body, &header);
    assert_eq!(answer.0, 502);
    assert_eq!(answer.1, "monime-webhooks listen could not reach the app");
    let (_, stdout, stderr) = listen.finish();
    for shown in [&stdout, &stderr] {
        for secret in ["hunter2", "user:", "s3cret", "token="] {
            assert!(!shown.contains(secret), "{secret} shown in: {shown}");
        }
    }
    assert!(stderr.contains("http://***@127.0.0.1"), "{stderr}");
    assert!(
        stdout.contains("\\u202e") && stdout.contains("\\u0085"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\u{202e}') && !stdout.contains('\u{85}'),
        "{stdout}"
    );
    // --include-body: the raw body, escaped in the text, the same once parsed.
    let line: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["body"], json!(body));
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("listen did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A signed delivery's status.
fn post_delivery(url: &str, body: &str, header: &str) -> u16 {
    send_delivery(url, body, header).0
}

/// A POST of a signed delivery from a thread of its own: status and body.
fn send_delivery(url: &str, body: &str, header: &str) -> (u16, String) {
    let (url, body, header) = (url.to_owned(), body.to_owned(), header.to_owned());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let response = reqwest::Client::new()
                    .post(format!("{url}/hooks"))
                    .header("content-type", "application/json")
                    .header("monime-signature", header)
                    .body(body)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            })
    })
    .join()
    .unwrap()
}

/// A reader that stops reading `listen`'s output (`listen | less`, not scrolled) blocks
/// neither the deliveries nor the stop: each delivery is still answered at once, and Ctrl-C
/// ends the run within 2 s of a 200 ms grace.
#[test]
fn a_stalled_output_reader_blocks_neither_deliveries_nor_the_stop() {
    // stdout is a pipe that is never read: it fills after about 64 KiB of lines.
    let mut stalled = listen(&[
        "--secret",
        SECRET,
        "--output",
        "json",
        "--shutdown-grace-ms",
        "200",
    ]);
    let (body, header) = signed_delivery(&format!("payment.{}", "x".repeat(2000)));
    for delivery in 0..120 {
        let started = Instant::now();
        assert_eq!(
            post_delivery(&stalled.url, &body, &header),
            200,
            "#{delivery}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "delivery #{delivery} waited for the output: {:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    signal(&stalled.child, "INT");
    wait_exit(&mut stalled.child, Duration::from_secs(10));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// Starts `listen` with `args` (the secret and JSON output added), points an emulator webhook
/// at it and triggers `event` (name, object type, id); returns once the emulator has settled
/// and `listen` stopped on its `--max-events`: the emulator, and listen's exit code, stdout
/// and stderr.
async fn through_listen(
    args: &[&str],
    (name, object_type, id): (&str, &str, &str),
) -> (MonimeMock, (i32, String, String)) {
    let mut all = vec!["--secret", SECRET, "--output", "json"];
    all.extend_from_slice(args);
    let listener = listen(&all);
    let mock = emulator().await;
    create_webhook(
        &mock,
        &format!("{}/monime", listener.url),
        json!({ "type": "HS256", "secret": SECRET }),
    )
    .await;
    trigger(&mock, name, object_type, id).await;
    assert!(mock.settle(Duration::from_secs(30)).await);
    (mock, listener.finish())
}

/// An app that answers 500: `listen` passes the 500 back, the emulator records it and
/// retries, and every attempt reaches the app. A regression that answered 200 would make
/// Monime stop retrying and lose the event.
#[tokio::test(flavor = "multi_thread")]
async fn an_app_failing_with_500_is_passed_back_and_the_emulator_retries() {
    let (app_url, received) =
        start_app_answering(StatusCode::INTERNAL_SERVER_ERROR, "handler crashed").await;
    let attempts = DeliveryPolicy::fast().max_attempts;
    let forward = format!("{app_url}/hooks");
    let max = attempts.to_string();
    let event = ("payment.completed", "payment", "pay-500");
    let (mock, (code, stdout, stderr)) =
        through_listen(&["--forward-to", &forward, "--max-events", &max], event).await;
    assert_eq!(code, 0, "the deliveries verified: {stdout}{stderr}");

    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), attempts as usize, "{stdout}");
    for line in &lines {
        assert_eq!(line["valid"], json!(true), "{line}");
        assert_eq!(line["forward"]["status"], json!(500), "{line}");
    }
    assert_eq!(
        received.lock().unwrap().len(),
        attempts as usize,
        "every attempt reached the app"
    );
    let deliveries = mock.deliveries();
    assert_eq!(deliveries.len(), attempts as usize, "{deliveries:?}");
    assert!(
        deliveries.iter().all(|d| d.status == Some(500)),
        "{deliveries:?}"
    );
    let numbers: Vec<u32> = deliveries.iter().map(|d| d.attempt).collect();
    assert_eq!(
        numbers,
        (1..=attempts).collect::<Vec<_>>(),
        "retried in order"
    );
}

/// An app that is down: `listen` answers 502 with a generic body, and the emulator records
/// the 502 and retries.
#[tokio::test(flavor = "multi_thread")]
async fn an_app_that_is_down_gets_502_and_the_emulator_retries() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let attempts = DeliveryPolicy::fast().max_attempts;
    let forward = format!("http://127.0.0.1:{port}/hooks");
    let max = attempts.to_string();
    let event = ("payout.failed", "payout", "pyt-502");
    let (mock, (_, stdout, stderr)) =
        through_listen(&["--forward-to", &forward, "--max-events", &max], event).await;
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), attempts as usize, "{stdout}{stderr}");
    for line in &lines {
        assert_eq!(line["valid"], json!(true), "{line}");
        assert!(line["forward"]["error"].is_string(), "{line}");
    }
    let deliveries = mock.deliveries();
    assert_eq!(deliveries.len(), attempts as usize, "{deliveries:?}");
    assert!(
        deliveries.iter().all(|d| d.status == Some(502)),
        "{deliveries:?}"
    );
}

/// The bodies a test app received, in order, with their Monime-Signature.
fn bodies(received: &Received) -> Vec<(Bytes, String)> {
    received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, headers, body)| {
            let signature = headers["monime-signature"].to_str().unwrap().to_owned();
            (body.clone(), signature)
        })
        .collect()
}

/// `monime-webhooks replay DIR --to TO --output json ARGS`, run on a blocking thread.
async fn replay(dir: &std::path::Path, to: &str, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command
        .arg("replay")
        .arg(dir)
        .args(["--to", to, "--output", "json"])
        .args(args)
        .env_remove("MONIME_WEBHOOK_SECRET");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// The emulator delivers to `listen --record`, which forwards to the app; `replay` sends the
/// recordings to a second app: the bodies match the first app's byte for byte, re-signed with
/// a fresh timestamp that verifies with the secret, or with the recorded signature when no
/// secret is given. Duplicates and shuffling change the count and the order, not the bodies.
#[tokio::test(flavor = "multi_thread")]
async fn recorded_deliveries_replay_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("monime-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (first_url, first) = start_app().await;
    let listener = listen(&[
        "--secret",
        SECRET,
        "--forward-to",
        &first_url,
        "--record",
        dir.to_str().unwrap(),
        "--max-events",
        "4",
    ]);
    let mock = emulator().await;
    create_webhook(
        &mock,
        &format!("{}/monime", listener.url),
        json!({ "type": "HS256", "secret": SECRET }),
    )
    .await;
    for (name, object, id) in [
        ("payment.completed", "payment", "pay-r1"),
        ("payout.failed", "payout", "pyt-r2"),
        ("payment.completed", "payment", "pay-r3"),
        ("payout.failed", "payout", "pyt-r4"),
    ] {
        trigger(&mock, name, object, id).await;
    }
    assert!(mock.settle(Duration::from_secs(30)).await);
    let (code, stdout, stderr) = listener.finish();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let recorded = bodies(&first);
    assert_eq!(recorded.len(), 4);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        4,
        "one file per delivery"
    );

    // Re-signed: the same bytes, a fresh signature that verifies.
    let (second_url, second) = start_app().await;
    let output = replay(&dir, &second_url, &["--secret", SECRET]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let replayed = bodies(&second);
    assert_eq!(replayed.len(), 4);
    let verifier = Verifier::hs256(SECRET).unwrap();
    let mut originals: Vec<&Bytes> = recorded.iter().map(|(body, _)| body).collect();
    for (body, signature) in &replayed {
        assert!(
            originals.contains(&body),
            "a replayed body is one received, byte for byte"
        );
        verifier.verify(signature, body).unwrap();
    }
    let order =
        |sent: &[(Bytes, String)]| -> Vec<Bytes> { sent.iter().map(|(b, _)| b.clone()).collect() };
    // In the order of the recordings' files (the app may have seen them in another).
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let file_bodies: Vec<Bytes> = files
        .iter()
        .map(|path| {
            let file: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            Bytes::from(file["body"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(order(&replayed), file_bodies, "in recorded order");
    let lines = json_lines(&String::from_utf8(output.stdout).unwrap());
    assert!(
        lines.iter().all(|line| line["status"] == json!(202)),
        "{lines:?}"
    );

    // Not re-signed: the recorded signature goes as it is.
    let (third_url, third) = start_app().await;
    let output = replay(&dir, &third_url, &[]).await;
    assert!(output.status.success());
    assert_eq!(
        bodies(&third),
        recorded,
        "bodies and signatures as recorded"
    );

    // Duplicates and shuffling: half as many again, in another order.
    let (fourth_url, fourth) = start_app().await;
    let hammer = [
        "--secret",
        SECRET,
        "--duplicates",
        "0.5",
        "--shuffle",
        "--seed",
        "3",
    ];
    let output = replay(&dir, &fourth_url, &hammer).await;
    assert!(output.status.success());
    let hammered = order(&bodies(&fourth));
    assert_eq!(hammered.len(), 6, "4 recordings and 2 duplicates");
    originals.sort();
    let mut distinct = hammered.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.iter().collect::<Vec<_>>(),
        originals,
        "every recording, nothing else"
    );
    assert_ne!(hammered[..4], order(&recorded)[..], "shuffled");

    // A recording that did not verify is not sent (re-signed, it would pass as genuine),
    // unless asked for.
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    forged["verdict"]["valid"] = json!(false);
    std::fs::write(&files[0], forged.to_string()).unwrap();
    let (fifth_url, fifth) = start_app().await;
    let output = replay(&dir, &fifth_url, &["--secret", SECRET]).await;
    assert!(output.status.success());
    assert_eq!(bodies(&fifth).len(), 3, "the unverified one left out");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--include-invalid"));
    let output = replay(&dir, &fifth_url, &["--secret", SECRET, "--include-invalid"]).await;
    assert!(output.status.success());
    assert_eq!(bodies(&fifth).len(), 3 + 4);

    // A receiver that fails makes replay fail.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let output = replay(&dir, &format!("http://127.0.0.1:{port}/"), &[]).await;
    assert_eq!(output.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The emulator's delivery log through `deliveries`: each attempt with its request (custom
/// header values masked unless --show-secrets), latency and the start of the answer; an
/// attempt resent goes to the same receiver with the same body, as the next attempt.
#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_log_lists_shows_and_resends_attempts() {
    let (app, received) =
        start_app_answering(StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").await;
    let mock = emulator().await;
    create_webhook(
        &mock,
        &format!("{app}/hook"),
        json!({ "type": "HS256", "secret": SECRET }),
    )
    .await;
    trigger(&mock, "payment.completed", "payment", "pay-log").await;
    assert!(mock.settle(Duration::from_secs(30)).await);
    let attempts = DeliveryPolicy::fast().max_attempts as usize;

    let url = mock.base_url();
    let listed = deliveries(&url, &["list", "--output", "json"]).await;
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let lines = json_lines(&String::from_utf8(listed.stdout).unwrap());
    assert_eq!(lines.len(), attempts);
    let first = &lines[0];
    assert_eq!(first["status"], json!(503));
    assert_eq!(first["responseExcerpt"], json!("down for maintenance"));
    assert!(first["latencyMs"].as_f64().unwrap() >= 0.0);
    let sent = received.lock().unwrap()[0].2.clone();
    assert_eq!(
        first["body"].as_str().unwrap().as_bytes(),
        &sent[..],
        "the body as sent"
    );
    let header = |line: &Value, name: &str| {
        line["requestHeaders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|pair| pair[0] == json!(name))
            .map(|pair| pair[1].as_str().unwrap().to_owned())
    };
    assert_eq!(
        header(first, "x-shop").as_deref(),
        Some("********"),
        "masked"
    );
    assert!(header(first, "monime-signature").unwrap().starts_with("t="));

    let id = first["id"].as_str().unwrap().to_owned();
    let shown = deliveries(&url, &["show", &id, "--output", "json", "--show-secrets"]).await;
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        header(&shown, "x-shop").as_deref(),
        Some("main"),
        "--show-secrets"
    );

    let resent = deliveries(&url, &["resend", &id, "--output", "json"]).await;
    assert!(
        resent.status.success(),
        "{}",
        String::from_utf8_lossy(&resent.stderr)
    );
    let resent = &json_lines(&String::from_utf8(resent.stdout).unwrap())[0];
    assert_eq!(resent["attempt"], json!(attempts + 1), "the next attempt");
    assert_ne!(resent["id"], json!(id));
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), attempts + 1);
    assert_eq!(received[attempts].2, sent, "the same body again");
    Verifier::hs256(SECRET)
        .unwrap()
        .verify(
            received[attempts].1["monime-signature"].to_str().unwrap(),
            &sent,
        )
        .unwrap();
    assert_eq!(mock.deliveries().len(), attempts + 1, "logged too");

    // Only the emulator has a delivery log: its URL must be named; ids stay in their segment.
    let unnamed = Command::new(BIN)
        .args(["deliveries", "list"])
        .env_remove("MONIME_API_URL")
        .output()
        .unwrap();
    assert_eq!(unnamed.status.code(), Some(2));
    let escaping = deliveries(&url, &["resend", "dla-../../v1/webhooks"]).await;
    assert_eq!(escaping.status.code(), Some(2));
}

/// `monime-webhooks --api-url URL deliveries ARGS`, run on a blocking thread.
async fn deliveries(url: &str, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command
        .args(["--api-url", url, "deliveries"])
        .args(args)
        .env_remove("MONIME_API_URL");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}
