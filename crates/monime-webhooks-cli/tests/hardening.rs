//! The binary against hostile or careless surroundings: secrets kept off the command line,
//! receivers that redirect, stall or never stop talking, readers that go away, and text
//! from the API or a receiver that tries to steer the terminal. Everything on 127.0.0.1.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use monime_mock::MonimeMock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_monime-webhooks");
const SECRET: &str = "test_secret_for_vector_0123456789abcdef";
const BODY: &str = r#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-example","name":"checkout_session.completed","timestamp":"1771803194"},"object":{"id":"scs-example","type":"checkout_session"},"data":{"id":"scs-example","status":"completed"}}"#;
/// The facts' check vector: `BODY` signed with `SECRET` at t=1771803194.
const SIGNED: &str = "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=";

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("MONIME_API_URL")
        .env_remove("MONIME_VERSION")
        .env_remove("MONIME_WEBHOOK_SECRET")
        .env("MONIME_ACCESS_TOKEN", "mon_test_cli")
        .env("MONIME_SPACE_ID", "spc-cli")
        .stdin(Stdio::null());
    command
}

fn run(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// Runs the binary off the async runtime, so a receiver in this test can answer it.
async fn run_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    })
    .await
    .unwrap()
}

/// `get --show-secrets` of one webhook, as the JSON the CLI prints.
async fn get_revealed(url: &str, id: &str) -> serde_json::Value {
    let args = [
        "--api-url",
        url,
        "--output",
        "json",
        "--show-secrets",
        "get",
        id,
    ];
    let shown = run_async(args.map(str::to_owned).to_vec()).await;
    serde_json::from_slice(&shown.stdout).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_file(name: &str, contents: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!(
        "monime-webhooks-cli-hardening-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn secrets_come_from_a_file_or_the_environment() {
    let body = temp_file("body.json", BODY.as_bytes());
    // A file as editors save it: one trailing newline, which is not part of the secret.
    let secret_file = temp_file("secret.txt", format!("{SECRET}\n").as_bytes());
    let sign = ["sign", "--body-file", &body, "--timestamp", "1771803194"];

    let from_file = run(&[&sign[..], &["--secret-file", &secret_file]].concat());
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "{}",
        text(&from_file.stderr)
    );
    assert_eq!(text(&from_file.stdout).trim(), SIGNED);

    let from_env = command(&sign)
        .env("MONIME_WEBHOOK_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(text(&from_env.stdout).trim(), SIGNED);

    // The flag wins over the environment.
    let flag_first = command(&[&sign[..], &["--secret", SECRET]].concat())
        .env(
            "MONIME_WEBHOOK_SECRET",
            "another_secret_0123456789abcdef0123",
        )
        .output()
        .unwrap();
    assert_eq!(text(&flag_first.stdout).trim(), SIGNED);

    let verify = [
        "verify",
        "--signature",
        SIGNED,
        "--body-file",
        &body,
        "--now",
        "1771803194",
    ];
    let verified = run(&[&verify[..], &["--secret-file", &secret_file]].concat());
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stdout)
    );
    let verified = command(&verify)
        .env("MONIME_WEBHOOK_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stdout)
    );

    // No secret anywhere, a missing file, both flags: usage errors.
    let none = run(&verify);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        text(&none.stderr).contains("MONIME_WEBHOOK_SECRET"),
        "{}",
        text(&none.stderr)
    );
    let missing = run(&[&verify[..], &["--secret-file", "/nonexistent/secret"]].concat());
    assert_eq!(missing.status.code(), Some(2));
    let both = run(&[
        &verify[..],
        &["--secret", SECRET, "--secret-file", &secret_file],
    ]
    .concat());
    assert_eq!(both.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_reads_the_hs256_secret_from_a_file() {
    let mock = MonimeMock::start().await.unwrap();
    let url = mock.base_url();
    let secret_file = temp_file("create-secret.txt", format!("{SECRET}\r\n").as_bytes());
    let created = run_async(
        [
            "--api-url",
            &url,
            "--output",
            "json",
            "create",
            "--name",
            "Orders",
            "--url",
            "https://shop.example/hooks",
            "--event",
            "payment.completed",
            "--hs256-secret-file",
            &secret_file,
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let id = serde_json::from_slice::<serde_json::Value>(&created.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let json = get_revealed(&url, &id).await;
    assert_eq!(json["verificationMethod"]["secret"], SECRET);
    mock.shutdown().await;
}

/// An id that would leave its path segment is a usage error (exit 2) naming the id, and no
/// request goes out: `get 'whk-\\..\\..\\payouts\\pyt-1'` once sent `GET /v1/payouts/pyt-1`
/// with the token, and `delete` the same with `DELETE`.
#[tokio::test(flavor = "multi_thread")]
async fn ids_that_would_leave_their_path_are_refused_before_sending() {
    let mock = MonimeMock::start().await.unwrap();
    let url = mock.base_url();
    for id in [
        "whk-\\..\\..\\payouts\\pyt-1",
        "whk-../../payouts/pyt-1",
        "whk-%2e%2e",
        "whk-a?b",
        "whk-a#b",
    ] {
        for args in [
            vec!["get", id],
            vec!["delete", id, "--yes"],
            vec!["update", id, "--name", "x"],
        ] {
            let mut full = vec!["--api-url", url.as_str()];
            full.extend(args.iter().copied());
            let output = run_async(full.iter().map(|a| (*a).to_owned()).collect()).await;
            assert_eq!(
                output.status.code(),
                Some(2),
                "{args:?}: {}",
                text(&output.stderr)
            );
            assert!(
                text(&output.stderr).contains("id: must match"),
                "{args:?}: {}",
                text(&output.stderr)
            );
        }
    }
    assert_eq!(mock.counters().requests, 0, "nothing was sent");
    mock.shutdown().await;
}

/// A raw receiver: answers every request with `answer` (or never, when `None`) and counts
/// the requests it saw.
async fn raw_receiver(answer: Option<Vec<u8>>) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                *count.lock().unwrap() += 1;
                match answer {
                    Some(answer) => {
                        let _ = stream.write_all(&answer).await;
                        let _ = stream.shutdown().await;
                    }
                    // Hold the connection open without a word.
                    None => tokio::time::sleep(std::time::Duration::from_secs(60)).await,
                }
            });
        }
    });
    (url, seen)
}

fn send_args(to: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "send-test-event",
        "--to",
        to,
        "--event",
        "payment.completed",
        "--secret",
        SECRET,
    ];
    args.extend_from_slice(extra);
    args.into_iter().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_event_does_not_follow_redirects() {
    let (elsewhere, elsewhere_seen) = raw_receiver(Some(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
    ))
    .await;
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}\r\ncontent-length: 0\r\n\r\n"
    );
    let (url, seen) = raw_receiver(Some(redirect.into_bytes())).await;
    let output = run_async(send_args(&url, &[])).await;
    assert_eq!(output.status.code(), Some(1), "a 307 is not a success");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("#1: 307"), "{stdout}");
    assert!(
        stdout.contains(&format!("redirect to {elsewhere}, not followed")),
        "{stdout}"
    );
    assert_eq!(*seen.lock().unwrap(), 1);
    assert_eq!(
        *elsewhere_seen.lock().unwrap(),
        0,
        "the signed body went nowhere else"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_event_gives_up_on_a_silent_receiver() {
    let (url, seen) = raw_receiver(None).await;
    let output = run_async(send_args(&url, &["--timeout", "1"])).await;
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("no answer within 1 s"), "{stdout}");
    assert_eq!(*seen.lock().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_event_reads_a_bounded_part_of_an_endless_answer() {
    // A receiver that streams a chunked answer that never ends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let sent = Arc::new(Mutex::new(0usize));
    let total = sent.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let total = total.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head).await.is_err() {
                    return;
                }
                let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
                while stream.write_all(chunk.as_bytes()).await.is_ok() {
                    *total.lock().unwrap() += 0x4000;
                }
            });
        }
    });
    let output = run_async(send_args(&url, &["--timeout", "600"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("#1: 200"));
    // The CLI reads 64 KiB and closes; what else was written only filled socket buffers.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = *sent.lock().unwrap();
    assert!(
        written < 16 << 20,
        "the receiver wrote {written} bytes before the CLI closed the connection"
    );
}

/// Runs the binary with its standard output on a pipe whose reader is already gone.
fn with_closed_stdout(mut command: Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command.stdout(writer).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(command);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_pipe_ends_the_output_quietly_with_the_commands_own_exit_code() {
    let body = temp_file("pipe.json", BODY.as_bytes());
    let invalid = with_closed_stdout(command(&[
        "verify",
        "--signature",
        "t=1771803194,v1=mzpZLUL5DjSVlLjosG4R2IVaeOnzUbFAQYk1F+VYa7g=",
        "--body-file",
        &body,
        "--secret",
        SECRET,
        "--now",
        "1771803194",
    ]));
    assert_eq!(invalid.status.code(), Some(1), "{}", text(&invalid.stderr));
    assert!(
        text(&invalid.stderr).is_empty(),
        "{}",
        text(&invalid.stderr)
    );

    let signed = with_closed_stdout(command(&[
        "sign",
        "--secret",
        SECRET,
        "--body-file",
        &body,
        "--timestamp",
        "1771803194",
    ]));
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed.stderr));
    assert!(text(&signed.stderr).is_empty(), "{}", text(&signed.stderr));

    let mock = MonimeMock::start().await.unwrap();
    let url = mock.base_url();
    for i in 0..3 {
        let created = run_async(
            [
                "--api-url",
                &url,
                "create",
                "--name",
                &format!("hook {i}"),
                "--url",
                "https://shop.example/h",
                "--event",
                "a.b",
            ]
            .map(str::to_owned)
            .to_vec(),
        )
        .await;
        assert!(created.status.success(), "{}", text(&created.stderr));
    }
    let listed = tokio::task::spawn_blocking(move || {
        with_closed_stdout(command(&["--api-url", &url, "--output", "table", "list"]))
    })
    .await
    .unwrap();
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    assert!(text(&listed.stderr).is_empty(), "{}", text(&listed.stderr));
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn header_values_are_masked_and_control_characters_escaped() {
    let mock = MonimeMock::start().await.unwrap();
    let url = mock.base_url();
    let credential = "Bearer receiver-credential-0123";
    let name = "Orders\u{1b}[2J\u{9b}31m\u{202e}";
    let created = run_async(
        [
            "--api-url",
            &url,
            "--output",
            "json",
            "create",
            "--name",
            name,
            "--url",
            "https://shop.example/hooks",
            "--event",
            "payment.completed",
            "--header",
            &format!("Authorization={credential}"),
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let created_text = text(&created.stdout);
    assert!(!created_text.contains(credential), "{created_text}");
    let json: serde_json::Value = serde_json::from_str(&created_text).unwrap();
    assert_eq!(json["headers"]["Authorization"], "********");
    let id = json["id"].as_str().unwrap().to_owned();

    for args in [
        vec!["--output", "table", "get", &id],
        vec!["--output", "table", "list"],
        vec!["--output", "json", "list"],
    ] {
        let output = run_async(
            [&["--api-url", url.as_str()][..], &args]
                .concat()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        )
        .await;
        let shown = text(&output.stdout);
        assert!(!shown.contains(credential), "{args:?}: {shown}");
        if args[1] == "table" {
            for raw in ['\u{1b}', '\u{9b}', '\u{202e}'] {
                assert!(
                    !shown.contains(raw),
                    "{args:?} printed {raw:?} raw: {shown:?}"
                );
            }
            assert!(shown.contains("Orders\\u{1b}[2J"), "{args:?}: {shown}");
        }
    }
    let json = get_revealed(&url, &id).await;
    assert_eq!(json["headers"]["Authorization"], credential);
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receivers_answer_cannot_steer_the_terminal() {
    let (url, _) = raw_receiver(Some(
        b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nok\x1b[2Jbye".to_vec(),
    ))
    .await;
    let output = run_async(send_args(&url, &[])).await;
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(stdout.contains("ok\\u{1b}[2Jbye"), "{stdout}");
}
