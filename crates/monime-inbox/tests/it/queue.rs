//! The durable path against a real PostgreSQL 15 server: accepting, workers with retries and
//! dead-letter, operator retries, pruning, and workers killed mid-handler.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use monime_inbox::{
    Accepted, Delivery, PgInbox, PgQueue, PruneError, RETENTION_FLOOR, RetryPolicy, Status, Worked,
};

use crate::server::PgServer;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

const EFFECTS: &str =
    "CREATE TABLE IF NOT EXISTS effects (event_id text NOT NULL, worker int NOT NULL)";

fn body(id: &str) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"caph.2025-08-23","event":{{"id":"{id}","name":"payment.completed","timestamp":"1771803194"}},"object":{{"id":"pay-{id}","type":"payment"}},"data":{{"id":"pay-{id}"}}}}"#
    )
    .into_bytes()
}

async fn accept(queue: &PgQueue, client: &tokio_postgres::Client, id: &str) -> Accepted {
    let body = body(id);
    let delivery = Delivery {
        key: id,
        event_id: id,
        event_name: "payment.completed",
        body: &body,
        signature: "t=1771803194,v1=AAAA",
    };
    queue.accept(client, &delivery).await.unwrap()
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        first_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(40),
        lease: Duration::from_secs(30),
        batch: 16,
    }
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

async fn within<T>(limit: Duration, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .expect("a regression would hang here")
}

/// Accepting stores once; a handler failing twice is processed on its third attempt with
/// one effect; one failing always is set aside as dead with its error, and an operator's
/// retry processes it once the handler is fixed. A failed attempt's writes roll back.
#[test]
fn workers_retry_with_backoff_and_set_aside_what_keeps_failing() {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut client = server.connect().await.unwrap();
        let queue = PgQueue::new("monime_deliveries").unwrap();
        queue.create_table(&client).await.unwrap();
        queue.create_table(&client).await.unwrap();
        client.batch_execute(EFFECTS).await.unwrap();

        assert_eq!(accept(&queue, &client, "wkd-flaky").await, Accepted::Stored);
        assert_eq!(
            accept(&queue, &client, "wkd-flaky").await,
            Accepted::Duplicate
        );
        assert_eq!(
            accept(&queue, &client, "wkd-broken").await,
            Accepted::Stored
        );
        assert_eq!(
            count(&client, "SELECT count(*) FROM monime_deliveries").await,
            2
        );

        let policy = quick();
        let mut fixed = false;
        let mut outcomes: Vec<(String, u32, String)> = Vec::new();
        let started = Instant::now();
        while count(
            &client,
            "SELECT count(*) FROM monime_deliveries WHERE status = 'pending'",
        )
        .await
            > 0
        {
            let reports = queue
                .work(&mut client, &policy, async |tx, job| {
                    tx.execute("INSERT INTO effects VALUES ($1, 0)", &[&job.event_id])
                        .await
                        .map_err(|e| e.to_string())?;
                    assert_eq!(job.event().unwrap().id, job.event_id);
                    match job.event_id.as_str() {
                        "wkd-flaky" if job.attempt < 3 => Err(format!("flaky {}", job.attempt)),
                        "wkd-broken" if !fixed => Err("broken handler".to_owned()),
                        _ => Ok(job.attempt),
                    }
                })
                .await
                .unwrap();
            for report in reports {
                outcomes.push((report.key, report.attempt, report.outcome.to_string()));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let of = |key: &str| -> Vec<String> {
            outcomes
                .iter()
                .filter(|(k, _, _)| k == key)
                .map(|(_, attempt, outcome)| format!("{attempt}: {outcome}"))
                .collect()
        };
        let flaky = of("wkd-flaky");
        assert_eq!(flaky.len(), 3, "{flaky:?}");
        assert!(flaky[0].starts_with("1: failed, retrying in"), "{flaky:?}");
        assert!(flaky[0].contains("flaky 1"), "{flaky:?}");
        assert!(flaky[1].starts_with("2: failed, retrying in"), "{flaky:?}");
        assert_eq!(flaky[2], "3: processed");
        let broken = of("wkd-broken");
        assert_eq!(broken.len(), 3, "{broken:?}");
        assert!(
            broken[2].starts_with("3: failed on its last attempt, set aside"),
            "{broken:?}"
        );
        // Backoff: at least half of 20 ms, then of 40 ms, between the attempts.
        assert!(started.elapsed() >= Duration::from_millis(30));

        let effects = "SELECT count(*) FROM effects WHERE event_id = ";
        assert_eq!(count(&client, &format!("{effects}'wkd-flaky'")).await, 1);
        assert_eq!(count(&client, &format!("{effects}'wkd-broken'")).await, 0);

        let dead = queue.list(&client, Some(Status::Dead), 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].key, "wkd-broken");
        assert_eq!(dead[0].attempts, 3);
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("the handler failed, its writes were rolled back: broken handler")
        );
        assert_eq!(
            queue
                .list(&client, Some(Status::Done), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(queue.list(&client, None, 10).await.unwrap().len(), 2);
        let (shown, shown_body) = queue.show(&client, "wkd-broken").await.unwrap().unwrap();
        assert_eq!(shown.status, Status::Dead);
        assert_eq!(shown_body, body("wkd-broken"));
        assert_eq!(shown.body_len, shown_body.len());

        // Nothing is due while dead; the operator's retry makes it due, once fixed.
        assert!(
            queue
                .work(&mut client, &policy, async |_, _| Ok::<_, String>(0))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            !queue.retry(&client, "wkd-flaky").await.unwrap(),
            "done rows stay done"
        );
        assert!(!queue.retry(&client, "wkd-unknown").await.unwrap());
        assert!(queue.retry(&client, "wkd-broken").await.unwrap());
        fixed = true;
        let reports = queue
            .work(&mut client, &policy, async |tx, job| {
                tx.execute("INSERT INTO effects VALUES ($1, 1)", &[&job.event_id])
                    .await
                    .map_err(|e| e.to_string())?;
                if fixed {
                    Ok(job.attempt)
                } else {
                    Err("still broken".to_owned())
                }
            })
            .await
            .unwrap();
        assert_eq!(reports.len(), 1);
        assert!(
            matches!(reports[0].outcome, Worked::Processed(1)),
            "{}",
            reports[0].outcome
        );
        assert_eq!(count(&client, &format!("{effects}'wkd-broken'")).await, 1);
        assert_eq!(
            queue
                .list(&client, Some(Status::Dead), 10)
                .await
                .unwrap()
                .len(),
            0
        );
    }));
}

/// A row whose worker vanished without an answer comes back when its lease runs out; on its
/// last attempt it is set aside instead, naming why.
#[test]
fn a_lease_that_runs_out_is_recovered_or_set_aside() {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut client = server.connect().await.unwrap();
        let queue = PgQueue::new("app_deliveries").unwrap();
        queue.create_table(&client).await.unwrap();
        accept(&queue, &client, "wkd-1").await;
        let policy = RetryPolicy {
            max_attempts: 2,
            lease: Duration::from_millis(300),
            ..quick()
        };
        // A worker that leases and dies: its connection closes mid-transaction.
        for _ in 0..2 {
            let mut doomed = server.connect().await.unwrap();
            let work = queue.work(&mut doomed, &policy, async |_, _| {
                // Idle in its transaction, as a worker is when its process dies.
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok::<_, String>(())
            });
            assert!(
                tokio::time::timeout(Duration::from_millis(200), work)
                    .await
                    .is_err()
            );
            drop(doomed);
            // Leased: nothing is due until the lease runs out.
            assert!(
                queue
                    .work(&mut client, &policy, async |_, _| Ok::<_, String>(()))
                    .await
                    .unwrap()
                    .is_empty()
            );
            tokio::time::sleep(Duration::from_millis(350)).await;
        }
        let reports = queue
            .work(&mut client, &policy, async |_, _| Ok::<_, String>(()))
            .await
            .unwrap();
        assert_eq!(reports.len(), 1);
        assert!(
            matches!(reports[0].outcome, Worked::Expired),
            "{}",
            reports[0].outcome
        );
        let (stored, _) = queue.show(&client, "wkd-1").await.unwrap().unwrap();
        assert_eq!(stored.status, Status::Dead);
        assert_eq!(stored.attempts, 2);
        assert_eq!(
            stored.last_error.as_deref(),
            Some("attempt 2 ended without an answer: its worker stopped, or outlived its lease")
        );
    }));
}

/// Pruning refuses an age below the floor, deletes only done rows past it, and keeps dead
/// and pending rows; the inbox's claims likewise.
#[test]
fn prune_keeps_the_floor() {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut client = server.connect().await.unwrap();
        let queue = PgQueue::new("monime_deliveries").unwrap();
        queue.create_table(&client).await.unwrap();
        for id in ["wkd-old", "wkd-recent", "wkd-dead", "wkd-pending"] {
            accept(&queue, &client, id).await;
        }
        client
            .batch_execute(
                "UPDATE monime_deliveries SET status = 'done', done_at = now() - interval '8 days' \
                   WHERE key = 'wkd-old'; \
                 UPDATE monime_deliveries SET status = 'done', done_at = now() - interval '6 days' \
                   WHERE key = 'wkd-recent'; \
                 UPDATE monime_deliveries SET status = 'dead', received_at = now() - interval '30 days' \
                   WHERE key = 'wkd-dead'; \
                 UPDATE monime_deliveries SET received_at = now() - interval '30 days' \
                   WHERE key = 'wkd-pending'",
            )
            .await
            .unwrap();
        let below = queue.prune(&client, Duration::from_secs(3600)).await;
        assert!(matches!(below, Err(PruneError::BelowFloor { .. })), "{below:?}");
        assert!(below.unwrap_err().to_string().contains("floor"));
        assert_eq!(queue.prune(&client, RETENTION_FLOOR).await.unwrap(), 1);
        let left: Vec<String> = queue
            .list(&client, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.key)
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(!left.contains(&"wkd-old".to_owned()));
        // The pruned event, delivered again, is new to the queue: hence the floor.
        assert_eq!(accept(&queue, &client, "wkd-old").await, Accepted::Stored);

        let inbox = PgInbox::new("monime_inbox").unwrap();
        inbox.create_table(&client).await.unwrap();
        for id in ["wkd-a", "wkd-b"] {
            inbox.process(&mut client, id, async |_| Ok::<_, String>(())).await.unwrap();
        }
        client
            .batch_execute("UPDATE monime_inbox SET processed_at = now() - interval '8 days' WHERE event_id = 'wkd-a'")
            .await
            .unwrap();
        assert!(inbox.prune(&client, Duration::ZERO).await.is_err());
        assert_eq!(inbox.prune(&client, RETENTION_FLOOR).await.unwrap(), 1);
        assert_eq!(count(&client, "SELECT count(*) FROM monime_inbox").await, 1);
    }));
}

/// The SQL migrations under `migrations/` build the same tables `create_table` does: a
/// user's migration tool and the library agree.
#[test]
fn the_migration_files_are_the_tables_the_library_uses() {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut client = server.connect().await.unwrap();
        client
            .batch_execute(&format!(
                "{}\n{}",
                monime_inbox::INBOX_MIGRATION,
                monime_inbox::QUEUE_MIGRATION
            ))
            .await
            .unwrap();
        let queue = PgQueue::new("monime_deliveries").unwrap();
        accept(&queue, &client, "wkd-1").await;
        let reports = queue
            .work(&mut client, &quick(), async |_, _| Ok::<_, String>(()))
            .await
            .unwrap();
        assert!(matches!(reports[0].outcome, Worked::Processed(())));
        let inbox = PgInbox::new("monime_inbox").unwrap();
        let outcome = inbox
            .process(&mut client, "wkd-1", async |_| Ok::<_, String>(()))
            .await;
        assert!(outcome.is_ok(), "{outcome:?}");
        // A schema-qualified name gets the same tables, with its indexes in its schema.
        client.batch_execute("CREATE SCHEMA app").await.unwrap();
        PgQueue::new("app.deliveries")
            .unwrap()
            .create_table(&client)
            .await
            .unwrap();
        let indexes = count(
            &client,
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'app' AND tablename = 'deliveries'",
        )
        .await;
        assert_eq!(indexes, 3, "the key and two partial indexes");
    }));
}

const CHILD: &str = "MONIME_QUEUE_TEST_WORKER_PORT";

/// Not a test of its own: the worker process that
/// `workers_killed_mid_handler_lose_and_repeat_nothing` starts (this binary again, with
/// `CHILD` set) and kills. Without `CHILD` it returns at once.
#[test]
fn queue_worker_child_process() {
    let Some(port) = std::env::var(CHILD)
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
    else {
        return;
    };
    let worker: i32 = std::process::id().try_into().unwrap_or(0);
    runtime().block_on(async {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(port)
            .user("postgres")
            .dbname("postgres");
        let (mut client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let queue = PgQueue::new("monime_deliveries").unwrap();
        let policy = RetryPolicy {
            max_attempts: 100,
            lease: Duration::from_millis(500),
            batch: 4,
            ..quick()
        };
        loop {
            let reports = queue
                .work(&mut client, &policy, async |tx, job| {
                    tx.execute(
                        "INSERT INTO effects VALUES ($1, $2)",
                        &[&job.event_id, &worker],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    // The handler's time, during which the parent's SIGKILL usually lands.
                    tokio::time::sleep(Duration::from_millis(fastrand::u64(2..12))).await;
                    Ok::<_, String>(())
                })
                .await
                .unwrap();
            if reports.is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
}

/// Three worker processes work through deliveries accepted while the test kills one with
/// SIGKILL every 100 ms (12 times, 40 new deliveries each time) and starts another. Every
/// event is processed exactly once, and leases had to be recovered from killed workers.
#[test]
fn workers_killed_mid_handler_lose_and_repeat_nothing() {
    const KILLS: usize = 12;
    const PER_KILL: usize = 40;
    const EVENTS: usize = 100 + KILLS * PER_KILL;
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(120), async {
        let client = server.connect().await.unwrap();
        let queue = PgQueue::new("monime_deliveries").unwrap();
        queue.create_table(&client).await.unwrap();
        client.batch_execute(EFFECTS).await.unwrap();
        let mut accepted = 0;
        while accepted < 100 {
            accept(&queue, &client, &format!("wkd-{accepted:04}")).await;
            accepted += 1;
        }
        let spawn = || -> Child {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "queue::queue_worker_child_process",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD, server.port.to_string())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut workers: Vec<Child> = (0..3).map(|_| spawn()).collect();
        for kill in 0..KILLS {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let victim = kill % workers.len();
            workers[victim].kill().unwrap();
            workers[victim].wait().unwrap();
            workers[victim] = spawn();
            for _ in 0..PER_KILL {
                accept(&queue, &client, &format!("wkd-{accepted:04}")).await;
                accepted += 1;
            }
        }
        let pending = "SELECT count(*) FROM monime_deliveries WHERE status <> 'done'";
        while count(&client, pending).await > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for worker in &mut workers {
            worker.kill().unwrap();
            worker.wait().unwrap();
        }
        let rows = client
            .query(
                "SELECT event_id, count(*) FROM effects GROUP BY event_id",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), EVENTS, "every accepted event was processed");
        for row in &rows {
            let (id, n): (String, i64) = (row.get(0), row.get(1));
            assert_eq!(n, 1, "{id} was processed {n} times");
        }
        let recovered = count(
            &client,
            "SELECT count(*) FROM monime_deliveries WHERE attempts > 1",
        )
        .await;
        assert!(
            recovered > 0,
            "some leases were recovered from killed workers"
        );
        let workers_seen = count(&client, "SELECT count(DISTINCT worker) FROM effects").await;
        assert!(
            workers_seen > 3,
            "restarted workers took over: {workers_seen}"
        );
        println!("{EVENTS} events, {KILLS} workers killed, {recovered} leases recovered");
    }));
}
