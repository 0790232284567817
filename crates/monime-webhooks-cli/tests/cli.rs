//! The `monime-webhooks` binary, end to end: every command against the emulator or a local
//! receiver, every `--help` and the table output under insta snapshots.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use monime_mock::{MockConfig, MonimeMock};

const BIN: &str = env!("CARGO_BIN_EXE_monime-webhooks");
const SECRET: &str = "test_secret_for_vector_0123456789abcdef";
const BODY: &str = r#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-example","name":"checkout_session.completed","timestamp":"1771803194"},"object":{"id":"scs-example","type":"checkout_session"},"data":{"id":"scs-example","status":"completed"}}"#;

fn cli(mock_url: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("MONIME_API_URL")
        .env_remove("MONIME_VERSION")
        .env("MONIME_ACCESS_TOKEN", "mon_test_cli")
        .env("MONIME_SPACE_ID", "spc-cli")
        .stdin(Stdio::null());
    if let Some(url) = mock_url {
        command.args(["--api-url", url]);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("monime-webhooks-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Hides what changes from run to run (ids, times, ports) so snapshots stay stable; ids keep
/// their length so table columns stay aligned.
fn stable(text: &str, mock: &MonimeMock) -> String {
    let mut out = text.replace(&mock.base_url(), "http://EMULATOR");
    for prefix in ["whk-", "wkd-"] {
        let starts: Vec<usize> = out
            .match_indices(prefix)
            .map(|(at, _)| at + prefix.len())
            .collect();
        for start in starts {
            let hex = out[start..]
                .chars()
                .take(32)
                .take_while(char::is_ascii_hexdigit)
                .count();
            if hex == 32 {
                out.replace_range(start..start + 32, &"x".repeat(32));
            }
        }
    }
    let lines: Vec<String> = out
        .lines()
        .map(|line| match line.split_once(' ') {
            Some((key @ ("createTime" | "updateTime"), value)) if value.trim() != "-" => {
                format!("{key:<19} <time>")
            }
            _ => line.to_owned(),
        })
        .collect();
    lines.join("\n")
}

#[test]
fn every_help_text() {
    for args in [
        vec!["--help"],
        vec!["list", "--help"],
        vec!["create", "--help"],
        vec!["get", "--help"],
        vec!["update", "--help"],
        vec!["delete", "--help"],
        vec!["verify", "--help"],
        vec!["sign", "--help"],
        vec!["send-test-event", "--help"],
        vec!["listen", "--help"],
        vec!["inbox", "--help"],
        vec!["replay", "--help"],
        vec!["deliveries", "--help"],
    ] {
        let output = cli(None, &args);
        assert!(output.status.success(), "{args:?}");
        let name = format!("help_{}", args[0].trim_start_matches('-'));
        insta::assert_snapshot!(name, stdout(&output));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn create_get_update_list_delete_with_the_table_view() {
    let mock = MonimeMock::start().await.unwrap();
    let url = mock.base_url();
    let created = cli(
        Some(&url),
        &[
            "--output",
            "table",
            "create",
            "--name",
            "Orders",
            "--url",
            "https://shop.example/hooks/monime",
            "--event",
            "payment.completed",
            "--event",
            "payout.failed",
            "--hs256-secret",
            SECRET,
            "--header",
            "X-Shop=main",
            "--alert-email",
            "ops@shop.example",
            "--metadata",
            "team=payments",
            "--idempotency-key",
            "cli-create-1",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let text = stdout(&created);
    assert!(!text.contains(SECRET), "secrets are masked: {text}");
    insta::assert_snapshot!("create_table", stable(&text, &mock));
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("id"))
        .unwrap()
        .trim()
        .to_owned();

    let shown = cli(
        Some(&url),
        &["--output", "json", "--show-secrets", "get", &id],
    );
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        json["verificationMethod"]["secret"], SECRET,
        "--show-secrets shows it"
    );

    let updated = cli(
        Some(&url),
        &[
            "--output",
            "json",
            "update",
            &id,
            "--name",
            "Orders v2",
            "--enabled",
            "false",
            "--clear-alert-emails",
            "--clear-headers",
        ],
    );
    assert!(updated.status.success(), "{}", stderr(&updated));
    let json: serde_json::Value = serde_json::from_slice(&updated.stdout).unwrap();
    assert_eq!(json["name"], "Orders v2");
    assert_eq!(json["enabled"], false);
    assert!(
        json.get("alertEmails")
            .is_none_or(serde_json::Value::is_null)
    );
    assert_eq!(json["verificationMethod"]["secret"], "********");
    assert!(
        json.get("headers").is_none_or(serde_json::Value::is_null),
        "--clear-headers cleared them: {json:#}"
    );

    let es = cli(
        Some(&url),
        &[
            "--output",
            "json",
            "create",
            "--name",
            "Refunds",
            "--url",
            "https://shop.example/r",
            "--event",
            "payout.failed",
            "--es256",
            "--enabled",
            "false",
        ],
    );
    assert!(es.status.success(), "{}", stderr(&es));

    let listed = cli(Some(&url), &["--output", "table", "list"]);
    assert!(listed.status.success());
    insta::assert_snapshot!("list_table", stable(&stdout(&listed), &mock));
    let lines = cli(Some(&url), &["--output", "json", "list"]);
    assert_eq!(
        stdout(&lines).lines().count(),
        2,
        "one JSON object per line"
    );

    let deleted = cli(Some(&url), &["--output", "table", "delete", &id]);
    assert!(
        deleted.status.success(),
        "stdin is not a terminal: no question asked"
    );
    assert_eq!(stdout(&deleted).trim(), format!("deleted {id}"));
    let missing = cli(Some(&url), &["get", &id]);
    assert_eq!(missing.status.code(), Some(1));
    let error = stderr(&missing);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.starts_with("error: Monime answered 404 not_found: ")
            && error.contains("(request req-"),
        "{error}"
    );
    mock.shutdown().await;
}

#[test]
fn usage_errors_and_invalid_values_exit_2_before_sending() {
    let usage = cli(None, &["create", "--name", "x"]);
    assert_eq!(usage.status.code(), Some(2));
    let bad_space = Command::new(BIN)
        .args(["list"])
        .env("MONIME_ACCESS_TOKEN", "mon_test_x")
        .env("MONIME_SPACE_ID", "space-1")
        .output()
        .unwrap();
    assert_eq!(bad_space.status.code(), Some(2));
    assert!(stderr(&bad_space).contains("MONIME_SPACE_ID must match ^spc-.*$"));
    let no_token = Command::new(BIN)
        .args(["list"])
        .env_remove("MONIME_ACCESS_TOKEN")
        .env_remove("MONIME_SPACE_ID")
        .output()
        .unwrap();
    assert_eq!(no_token.status.code(), Some(2));
    assert!(stderr(&no_token).contains("MONIME_ACCESS_TOKEN is not set"));
    // Refused by the client before anything is sent: no server at this address is needed.
    let short = cli(
        Some("http://127.0.0.1:9"),
        &[
            "create",
            "--name",
            "x",
            "--url",
            "u",
            "--event",
            "a.b",
            "--hs256-secret",
            "short",
        ],
    );
    assert_eq!(
        short.status.code(),
        Some(2),
        "a value the spec forbids is a usage error"
    );
    assert!(
        stderr(&short).contains("verificationMethod.secret"),
        "{}",
        stderr(&short)
    );
    let body = temp_file("usage.json", BODY.as_bytes());
    let empty_secret = cli(
        None,
        &[
            "verify",
            "--signature",
            "t=1,v1=x",
            "--body-file",
            body.to_str().unwrap(),
            "--secret",
            "",
        ],
    );
    assert_eq!(
        empty_secret.status.code(),
        Some(2),
        "an unusable key is a usage error"
    );
    let bad_target = cli(
        None,
        &[
            "send-test-event",
            "--to",
            "not a url",
            "--event",
            "payment.completed",
            "--secret",
            SECRET,
        ],
    );
    assert_eq!(bad_target.status.code(), Some(2));
}

/// Refused before any request: a cleartext or credential-carrying API URL, and delivery
/// headers that could not be sent or would smuggle a header of their own.
#[test]
fn unsafe_api_urls_and_header_values_exit_2_before_sending() {
    for url in [
        "http://api.monime.example",
        "https://user:hunter2@api.monime.example",
    ] {
        let refused = cli(Some(url), &["list"]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{url}: {}",
            stderr(&refused)
        );
        assert!(stderr(&refused).contains("api_url"), "{}", stderr(&refused));
        assert!(
            !stderr(&refused).contains("hunter2"),
            "{}",
            stderr(&refused)
        );
    }
    for (header, field) in [
        ("Bad Name=x", "headers"),
        ("X-Shop=a\nHost: evil", "headers.X-Shop"),
    ] {
        let refused = cli(
            Some("http://127.0.0.1:9"),
            &[
                "create", "--name", "x", "--url", "u", "--event", "a.b", "--header", header,
            ],
        );
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{header:?}: {}",
            stderr(&refused)
        );
        assert!(stderr(&refused).contains(field), "{}", stderr(&refused));
    }
}

#[test]
fn verify_says_valid_and_names_the_separator_mistake() {
    let body = temp_file("body.json", BODY.as_bytes());
    let body = body.to_str().unwrap();
    let check = |signature: &str, extra: &[&str]| {
        let mut args = vec!["verify", "--signature", signature, "--body-file", body];
        args.extend_from_slice(extra);
        if !extra.contains(&"--now") {
            args.extend_from_slice(&["--now", "1771803194"]);
        }
        cli(None, &args)
    };
    let valid = check(
        "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=",
        &["--secret", SECRET],
    );
    assert_eq!(valid.status.code(), Some(0));
    assert!(stdout(&valid).starts_with("valid"));
    let period = check(
        "t=1771803194,v1=mzpZLUL5DjSVlLjosG4R2IVaeOnzUbFAQYk1F+VYa7g=",
        &["--secret", SECRET],
    );
    assert_eq!(period.status.code(), Some(1));
    let text = stdout(&period);
    assert!(text.starts_with("invalid: signature mismatch"), "{text}");
    assert!(
        diagnosis(&text).contains("the signature matches `<t>.<body>`: a period separator"),
        "{text}"
    );
    let stale = check(
        "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=",
        &["--secret", SECRET, "--now", "1771809999"],
    );
    assert_eq!(stale.status.code(), Some(1));
    assert!(stdout(&stale).contains("beyond the 300 s tolerance"));
    let wide = check(
        "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=",
        &[
            "--secret",
            SECRET,
            "--now",
            "1771809999",
            "--tolerance",
            "99999",
        ],
    );
    assert_eq!(wide.status.code(), Some(0));
}

/// Each usual mistake, made on purpose, is named.
#[test]
fn verify_recognises_each_usual_mistake() {
    let sign = |key: &[u8], t: &str, body: &[u8]| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(t.as_bytes());
        mac.update(b"_");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    };
    let b64 =
        |bytes: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
    let value: serde_json::Value = serde_json::from_str(BODY).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    let spaced_body = BODY.replace(",\"", ", \"");
    // base64-decoded secret: the sender keyed HMAC with the decoded bytes.
    let encoded_secret = "c2VjcmV0X2J5dGVzX2Zvcl90aGVfdGVzdF8wMTIzNDU2Nzg5";
    let decoded =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded_secret).unwrap();
    let cases: Vec<(&str, Vec<u8>, String, String)> = vec![
        (
            "hex",
            BODY.as_bytes().to_vec(),
            SECRET.to_owned(),
            format!(
                "t=1771803194,v1={}",
                sign(SECRET.as_bytes(), "1771803194", BODY.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
        ),
        (
            "whitespace",
            BODY.as_bytes().to_vec(),
            format!("{SECRET}\n"),
            format!(
                "t=1771803194,v1={}",
                b64(&sign(SECRET.as_bytes(), "1771803194", BODY.as_bytes()))
            ),
        ),
        (
            "compact",
            spaced_body.clone().into_bytes(),
            SECRET.to_owned(),
            format!(
                "t=1771803194,v1={}",
                b64(&sign(
                    SECRET.as_bytes(),
                    "1771803194",
                    &serde_json::to_vec(&value).unwrap()
                ))
            ),
        ),
        (
            "pretty-printed",
            BODY.as_bytes().to_vec(),
            SECRET.to_owned(),
            format!(
                "t=1771803194,v1={}",
                b64(&sign(SECRET.as_bytes(), "1771803194", &pretty))
            ),
        ),
        (
            "milliseconds",
            BODY.as_bytes().to_vec(),
            SECRET.to_owned(),
            format!(
                "t=1771803194,v1={}",
                b64(&sign(SECRET.as_bytes(), "1771803194000", BODY.as_bytes()))
            ),
        ),
        (
            "base64-decoded secret",
            BODY.as_bytes().to_vec(),
            encoded_secret.to_owned(),
            format!(
                "t=1771803194,v1={}",
                b64(&sign(&decoded, "1771803194", BODY.as_bytes()))
            ),
        ),
    ];
    for (expected, body, secret, header) in cases {
        let path = temp_file(&format!("{expected}.json"), &body);
        let output = cli(
            None,
            &[
                "verify",
                "--signature",
                &header,
                "--body-file",
                path.to_str().unwrap(),
                "--secret",
                &secret,
                "--now",
                "1771803194",
            ],
        );
        assert_eq!(output.status.code(), Some(1), "{expected}");
        let text = stdout(&output);
        assert!(diagnosis(&text).contains(expected), "{expected}: {text}");
    }
}

/// The CLI's own diagnosis line, apart from the library's error text above it (which names
/// several mistakes in general terms).
fn diagnosis(text: &str) -> &str {
    text.lines()
        .find(|line| line.starts_with("likely mistake: "))
        .unwrap_or_else(|| panic!("no diagnosis line in {text}"))
}

#[test]
fn sign_prints_the_header_monime_would_send() {
    let body = temp_file("sign.json", BODY.as_bytes());
    let output = cli(
        None,
        &[
            "sign",
            "--secret",
            SECRET,
            "--body-file",
            body.to_str().unwrap(),
            "--timestamp",
            "1771803194",
        ],
    );
    assert!(output.status.success());
    assert_eq!(
        stdout(&output).trim(),
        "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM="
    );
}

type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

async fn receiver(dedupe: bool) -> (String, Received) {
    let received: Received = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let mut seen = seen.lock().unwrap();
                    let duplicate = seen.iter().any(|(_, b)| {
                        serde_json::from_slice::<serde_json::Value>(b).unwrap()["event"]["id"]
                            == event["event"]["id"]
                    });
                    seen.push((headers, body.to_vec()));
                    if dedupe && duplicate {
                        "duplicate, ignored"
                    } else {
                        "processed"
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_event_delivers_signed_realistic_events() {
    let (url, received) = receiver(true).await;
    let output = tokio::task::spawn_blocking(move || {
        cli(
            None,
            &[
                "send-test-event",
                "--to",
                &url,
                "--event",
                "payment.completed",
                "--secret",
                SECRET,
                "--repeat",
                "3",
            ],
        )
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("#1: 200") && text.contains("#3: 200"),
        "{text}"
    );
    assert!(text.contains("appears to de-duplicate"), "{text}");
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    let verifier = monime_signature::Verifier::hs256(SECRET).unwrap();
    for (headers, body) in &received {
        let event = verifier
            .verify_headers(headers, body)
            .and_then(|_| monime_signature::Event::parse(body))
            .unwrap();
        assert_eq!(event.name.as_str(), "payment.completed");
        assert_eq!(event.object.kind, "payment");
        assert!(event.object.id.starts_with("pay-test"));
        assert_eq!(event.data["status"], "completed");
    }

    let (url, received) = receiver(false).await;
    let key_path = temp_file("es256.pem", es256_private_pem().as_bytes());
    let output = tokio::task::spawn_blocking(move || {
        cli(
            None,
            &[
                "send-test-event",
                "--to",
                &url,
                "--event",
                "payout.failed",
                "--es256-key",
                key_path.to_str().unwrap(),
                "--repeat",
                "2",
            ],
        )
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("not visible from outside"));
    let public_key = monime_signature::Signer::es256(&es256_private_pem())
        .unwrap()
        .public_key_pem()
        .unwrap();
    let verifier = monime_signature::Verifier::es256(&public_key).unwrap();
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    for (headers, body) in &received {
        let event = verifier
            .verify_headers(headers, body)
            .and_then(|_| monime_signature::Event::parse(body))
            .expect("an ES256 delivery that verifies with the key's public half");
        assert_eq!(event.name.as_str(), "payout.failed");
    }
}

/// The private key of the signature crate's test vectors (tests/vectors.json).
fn es256_private_pem() -> String {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../../monime-signature/tests/vectors.json")).unwrap();
    vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c.get("private_key_pem"))
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// `list` over 10,000 webhooks prints its first row before the last page is fetched.
#[tokio::test(flavor = "multi_thread")]
async fn list_streams_rows_before_fetching_the_last_page() {
    let mock = MonimeMock::start_with(MockConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = monime_webhooks::Client::builder()
        .access_token("mon_test_cli")
        .space_id("spc-cli")
        .api_url(mock.base_url())
        .build()
        .unwrap();
    use futures_util::StreamExt;
    futures_util::stream::iter(0..10_000)
        .map(|i| {
            let client = client.clone();
            async move {
                client
                    .create()
                    .name(format!("hook {i}"))
                    .url("https://x.example")
                    .event("a.b")
                    .send()
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    let before = mock.counters().requests;
    let url = mock.base_url();
    let mut child = Command::new(BIN)
        .args(["--api-url", &url, "--output", "table", "list"])
        .env("MONIME_ACCESS_TOKEN", "mon_test_cli")
        .env("MONIME_SPACE_ID", "spc-cli")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = lines.next().unwrap().unwrap();
    assert!(header.starts_with("ID"));
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("whk-"));
    let pages_so_far = mock.counters().requests - before;
    assert!(
        pages_so_far < 200,
        "the first row came after {pages_so_far} of 200 pages"
    );
    let rest = lines.count();
    assert_eq!(rest, 9_999);
    assert!(child.wait().unwrap().success());
    assert_eq!(
        mock.counters().requests - before,
        200,
        "10,000 webhooks in pages of 50"
    );
    let _ = std::io::stderr().flush();
    mock.shutdown().await;
}

/// `send-test-event` for every event name the CLI knows: each delivery's default `data`
/// decodes, through the typed API, as the object its `object.type` names.
#[tokio::test(flavor = "multi_thread")]
async fn every_known_event_name_sends_data_the_typed_api_decodes() {
    let (url, received) = receiver(false).await;
    for name in monime_signature::EventName::KNOWN {
        let (url, name) = (url.clone(), name.as_str().to_owned());
        let output = tokio::task::spawn_blocking(move || {
            cli(
                None,
                &[
                    "send-test-event",
                    "--to",
                    &url,
                    "--event",
                    &name,
                    "--secret",
                    SECRET,
                ],
            )
        })
        .await
        .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), monime_signature::EventName::KNOWN.len());
    for ((_, body), name) in received.iter().zip(monime_signature::EventName::KNOWN) {
        let event = monime_signature::Event::parse(body).unwrap();
        assert_eq!(&event.name, name);
        let data = event.typed_data().unwrap();
        assert_eq!(data.object_type(), Some(name.object_type()), "{name}");
        assert!(
            !matches!(data, monime_signature::EventData::Unknown(_)),
            "{name}"
        );
        // Decoding straight from the bytes gives the same object.
        assert_eq!(
            monime_signature::TypedEvent::parse(body).unwrap().data,
            data
        );
    }
}

/// One JSON value per line, every line parsed.
fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// `--output json` on the commands that print results (the webhook commands, `verify`,
/// `sign`, `send-test-event`, `delete`): one JSON value per line, and what a receiver or the
/// API sent escaped where it could steer a terminal (C1, DEL, bidi), still valid JSON.
#[tokio::test(flavor = "multi_thread")]
async fn every_command_answers_in_json_with_what_could_steer_a_terminal_escaped() {
    let body = temp_file("json-body.json", BODY.as_bytes());
    let body = body.to_str().unwrap().to_owned();
    let run = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(None, &args)
        })
        .await
        .unwrap()
    };
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let valid = run(args(&[
        "--output",
        "json",
        "verify",
        "--signature",
        "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=",
        "--body-file",
        &body,
        "--secret",
        SECRET,
        "--now",
        "1771803194",
    ]))
    .await;
    assert_eq!(
        json_lines(&valid),
        [serde_json::json!({
            "valid": true, "timestamp": 1771803194, "now": 1771803194, "skewSecs": 0
        })]
    );
    let period = run(args(&[
        "--output",
        "json",
        "verify",
        "--signature",
        "t=1771803194,v1=mzpZLUL5DjSVlLjosG4R2IVaeOnzUbFAQYk1F+VYa7g=",
        "--body-file",
        &body,
        "--secret",
        SECRET,
        "--now",
        "1771803194",
    ]))
    .await;
    assert_eq!(period.status.code(), Some(1));
    let line = &json_lines(&period)[0];
    assert_eq!(line["valid"], false);
    assert_eq!(line["kind"], "signature_mismatch");
    assert_eq!(line["hints"], serde_json::json!(["period_separator"]));
    assert!(
        line["likelyMistake"]
            .as_str()
            .unwrap()
            .contains("period separator")
    );

    let signed = run(args(&[
        "--output",
        "json",
        "sign",
        "--secret",
        SECRET,
        "--body-file",
        &body,
        "--timestamp",
        "1771803194",
    ]))
    .await;
    assert_eq!(
        json_lines(&signed),
        [serde_json::json!({
            "header": "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=",
            "timestamp": 1771803194
        })]
    );

    // A receiver whose answer carries a bidi override, a C1 control and DEL.
    let hostile = "ok \u{202e}gnp.exe\u{85}\u{7f}";
    let app =
        axum::Router::new().route("/hook", axum::routing::post(move || async move { hostile }));
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = format!("http://{}/hook", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    let sent = run(args(&[
        "--output",
        "json",
        "send-test-event",
        "--to",
        &to,
        "--event",
        "payment.completed",
        "--secret",
        SECRET,
        "--repeat",
        "2",
    ]))
    .await;
    assert!(sent.status.success(), "{}", stderr(&sent));
    let text = stdout(&sent);
    assert!(!text.contains('\u{202e}') && !text.contains('\u{85}') && !text.contains('\u{7f}'));
    assert!(
        text.contains("\\u202e") && text.contains("\\u0085") && text.contains("\\u007f"),
        "{text}"
    );
    let lines = json_lines(&sent);
    assert_eq!(lines.len(), 3, "two attempts and the summary: {text}");
    assert_eq!(lines[0]["attempt"], 1);
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["answer"], hostile, "escaped, the same text");
    assert_eq!(lines[2]["copies"], 2);
    assert_eq!(lines[2]["answeredAlike"], true);

    let mock = MonimeMock::start_with(MockConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = mock.base_url();
    let created = run(args(&[
        "--api-url",
        &url,
        "--output",
        "json",
        "create",
        "--name",
        "json",
        "--url",
        "https://shop.example/hook",
        "--event",
        "payment.completed",
    ]))
    .await;
    assert!(created.status.success(), "{}", stderr(&created));
    // One webhook: one JSON document (pretty-printed).
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let deleted = run(args(&[
        "--api-url",
        &url,
        "--output",
        "json",
        "delete",
        &id,
    ]))
    .await;
    assert_eq!(json_lines(&deleted), [serde_json::json!({ "deleted": id })]);
}

/// `send-test-event --set` shapes the sample: the receiver gets the changed fields, typed; a
/// value the type refuses is a usage error naming the path, and nothing is sent.
#[tokio::test(flavor = "multi_thread")]
async fn send_test_event_shapes_the_data_with_set() {
    let (url, received) = receiver(false).await;
    let send = |sets: Vec<&'static str>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "send-test-event",
                "--to",
                &url,
                "--event",
                "payout.failed",
                "--secret",
                SECRET,
            ];
            for set in &sets {
                args.extend(["--set", set]);
            }
            cli(None, &args)
        })
    };
    let sent = send(vec![
        "data.amount.value=5000",
        "data.failureDetail.code=account_blocked",
    ])
    .await
    .unwrap();
    assert!(sent.status.success(), "{}", stderr(&sent));
    let refused = send(vec!["data.amount.value=lots"]).await.unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("data.amount.value"),
        "{}",
        stderr(&refused)
    );
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "nothing sent for the refused value");
    let event = monime_signature::Event::parse(&received[0].1).unwrap();
    let monime_signature::EventData::Payout(payout) = event.typed_data().unwrap() else {
        panic!("a payout");
    };
    assert_eq!(payout.amount.and_then(|a| a.value), Some(5000));
    let code = payout
        .failure_detail
        .and_then(|d| d.code)
        .map(|c| c.as_str().to_owned());
    assert_eq!(code.as_deref(), Some("account_blocked"));
}
