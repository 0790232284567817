//! `monime-webhooks inbox` against a real PostgreSQL 15 server the test starts (the same
//! throwaway server as monime-inbox's tests): a delivery that keeps failing is visible as
//! dead, an operator's retry gets it processed once the handler is fixed, and the prune
//! floor holds.

// Not every helper of the shared server is used here.
#[allow(dead_code)]
#[path = "../../monime-inbox/tests/it/server.rs"]
mod server;

use std::process::Output;
use std::time::Duration;

use monime_inbox::{Delivery, PgQueue, RetryPolicy, Worked};

fn cli(database_url: &str, args: &[&str]) -> Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_monime-webhooks"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A regression that hangs (a connection that never answers) fails instead.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("`{}` still running after 30 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn dead_deliveries_are_listed_retried_and_processed_once() {
    let server = server::PgServer::start();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let queue = PgQueue::new("monime_deliveries").unwrap();
    let policy = RetryPolicy {
        max_attempts: 2,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    // A worker pass with a handler that fails on `wkd-broken` unless `fixed`; returns the
    // number of jobs processed.
    let work = |fixed: bool| {
        runtime.block_on(async {
            let mut client = server.connect().await.unwrap();
            let mut processed = 0;
            for _ in 0..50 {
                let reports = queue
                    .work(&mut client, &policy, async |tx, job| {
                        tx.execute("INSERT INTO effects VALUES ($1)", &[&job.event_id])
                            .await
                            .map_err(|e| e.to_string())?;
                        if job.event_id == "wkd-broken" && !fixed {
                            return Err("the shop's API said 503\u{1b}[2J".to_owned());
                        }
                        Ok(())
                    })
                    .await
                    .unwrap();
                processed += reports
                    .iter()
                    .filter(|r| matches!(r.outcome, Worked::Processed(())))
                    .count();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            processed
        })
    };
    runtime.block_on(async {
        let client = server.connect().await.unwrap();
        queue.create_table(&client).await.unwrap();
        client
            .batch_execute("CREATE TABLE effects (event_id text NOT NULL)")
            .await
            .unwrap();
        for id in ["wkd-broken", "wkd-fine"] {
            let body = format!(r#"{{"event":{{"id":"{id}"}}}}"#);
            let delivery = Delivery {
                key: id,
                event_id: id,
                event_name: "payment.completed",
                body: body.as_bytes(),
                signature: "t=1,v1=AAAA",
            };
            queue.accept(&client, &delivery).await.unwrap();
        }
    });
    assert_eq!(work(false), 1, "wkd-fine only");

    let listed = cli(
        &url,
        &["inbox", "list", "--status", "dead", "--output", "json"],
    );
    assert!(listed.status.success(), "{}", text(&listed));
    let dead: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["key"], "wkd-broken");
    assert_eq!(dead[0]["attempts"], 2);
    assert!(
        dead[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("the shop's API said 503")
    );

    let table = cli(&url, &["inbox", "list", "--output", "table"]);
    let table_text = text(&table);
    assert!(table.status.success(), "{table_text}");
    assert!(table_text.contains("wkd-fine") && table_text.contains("done"));
    assert!(
        !table_text.contains('\u{1b}'),
        "the error's escape is escaped: {table_text}"
    );

    let shown = cli(&url, &["inbox", "show", "wkd-broken", "--output", "table"]);
    assert!(shown.status.success(), "{}", text(&shown));
    assert!(text(&shown).contains("status:      dead after 2 attempt(s)"));
    assert!(text(&shown).contains(r#"{"event":{"id":"wkd-broken"}}"#));

    let refused = cli(&url, &["inbox", "retry", "wkd-fine"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let retried = cli(&url, &["inbox", "retry", "wkd-broken"]);
    assert!(retried.status.success(), "{}", text(&retried));
    assert_eq!(work(true), 1, "the retried delivery, once");
    runtime.block_on(async {
        let client = server.connect().await.unwrap();
        let effects: i64 = client
            .query_one("SELECT count(*) FROM effects", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(effects, 2, "one committed effect per event");
    });
    let dead_now = cli(
        &url,
        &["inbox", "list", "--status", "dead", "--output", "json"],
    );
    assert_eq!(String::from_utf8_lossy(&dead_now.stdout).trim(), "[]");

    let below = cli(&url, &["inbox", "prune", "--older-than", "1h"]);
    assert_eq!(below.status.code(), Some(2), "{}", text(&below));
    assert!(text(&below).contains("floor"));
    let pruned = cli(&url, &["inbox", "prune", "--older-than", "8d"]);
    assert!(pruned.status.success(), "{}", text(&pruned));
    assert!(text(&pruned).contains("deleted 0"));
}

#[test]
fn the_database_url_is_required_and_never_printed() {
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_monime-webhooks"))
        .args(["inbox", "list"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap(); // exits at once: nothing to connect to
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("DATABASE_URL"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = cli(
        &format!("postgres://app:hunter2-secret@127.0.0.1:{port}/shop"),
        &["inbox", "list"],
    );
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(text(&unreachable).contains("cannot connect to DATABASE_URL"));
    assert!(
        !text(&unreachable).contains("hunter2"),
        "{}",
        text(&unreachable)
    );
    let remote = cli(
        // Loopback, but not a name the guard accepts: a regression connects to nothing.
        "postgres://app:hunter2@127.0.0.2/shop",
        &["inbox", "list"],
    );
    assert_eq!(remote.status.code(), Some(2), "{}", text(&remote));
    assert!(text(&remote).contains("TLS") && !text(&remote).contains("hunter2"));
    let garbage = cli("postgres://[", &["inbox", "list"]);
    assert_eq!(garbage.status.code(), Some(2), "{}", text(&garbage));
    assert!(!text(&garbage).contains("postgres://["));
}
