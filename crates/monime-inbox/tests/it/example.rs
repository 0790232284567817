//! The example receiver, run as a user runs it, against a PostgreSQL server this test starts:
//! every outcome gets the status Monime should see, each event is processed once, and what
//! does not decode is kept as dead.

use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use crate::server::PgServer;

/// The example's binary, built next to this test binary (`cargo test` builds examples); built
/// here when this test binary was built alone.
fn receiver_binary() -> PathBuf {
    let this = std::env::current_exe().unwrap();
    let profile_dir = this.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile_dir.join("examples").join("receiver");
    if !binary.exists() {
        let built = Command::new(env!("CARGO"))
            .args([
                "build",
                "-p",
                "monime-inbox",
                "--features",
                "sqlx",
                "--example",
                "receiver",
            ])
            .status()
            .unwrap();
        assert!(built.success(), "the example receiver does not build");
    }
    binary
}

#[test]
fn the_example_receiver_stores_processes_and_keeps_what_does_not_decode() {
    let server = PgServer::start();
    let run = || {
        let child = Command::new(receiver_binary())
            .env(
                "DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:{}/postgres", server.port),
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let output = output_within(child, Duration::from_secs(90));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let first = run();
    let delivered: Vec<&str> = first
        .lines()
        .filter_map(|line| line.strip_prefix("delivered    "))
        .collect();
    assert_eq!(
        delivered,
        [
            "200 stored",
            "200 stored before",
            "200 stored",
            "401 invalid Monime signature: signature_mismatch",
            "200 stored"
        ],
        "{first}"
    );
    let worked = |text: &str, what: &str| {
        text.lines()
            .filter(|l| l.starts_with("worker-") && l.contains(what))
            .count()
    };
    assert_eq!(
        worked(&first, "wkd-example-1 payment of 1500 minor units"),
        1,
        "{first}"
    );
    assert_eq!(worked(&first, "wkd-example-2 payout failed"), 1, "{first}");
    assert_eq!(
        worked(
            &first,
            "wkd-example-3 failed on its last attempt, set aside"
        ),
        1,
        "{first}"
    );
    assert!(first.contains("dead         wkd-example-3"), "{first}");

    // Run again: Monime's redeliveries of the same events change nothing.
    let second = run();
    assert_eq!(second.matches("200 stored before").count(), 4, "{second}");
    assert_eq!(
        worked(&second, "wkd-"),
        0,
        "nothing processed twice: {second}"
    );
}

/// The child's output once it exits; killed, and the test failed, if it takes over `limit`.
pub fn output_within(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
