//! The durable path against a real PostgreSQL 15 server, on both drivers: accepting,
//! workers with retries and dead-letter, operator retries, pruning, and workers killed
//! mid-handler.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use monime_inbox::{Accepted, PgInbox, PgQueue, RETENTION_FLOOR, RetryPolicy, Status};

use crate::drivers::{Driver, Script, body, on_both_drivers};
use crate::server::PgServer;

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

const EFFECTS: &str =
    "CREATE TABLE IF NOT EXISTS effects (event_id text NOT NULL, worker int NOT NULL)";

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        first_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(40),
        lease: Duration::from_secs(30),
        batch: 16,
    }
}

pub(crate) async fn within<T>(limit: Duration, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .expect("a regression would hang here")
}

on_both_drivers!(
    workers_retry_with_backoff_and_set_aside_what_keeps_failing,
    a_job_whose_transaction_was_aborted_or_ended_is_retried_not_processed,
    a_lease_that_runs_out_is_recovered_or_set_aside,
    a_slow_batch_gives_its_unstarted_rows_back,
    prune_keeps_the_floor,
    the_migration_files_are_the_tables_the_library_uses,
    workers_killed_mid_handler_lose_and_repeat_nothing,
);

/// Accepting stores once; a handler failing twice is processed on its third attempt with
/// one effect; one failing always is set aside as dead with its error, and an operator's
/// retry processes it once the handler is fixed. A failed attempt's writes roll back.
fn workers_retry_with_backoff_and_set_aside_what_keeps_failing(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        conn.create_queue(&queue).await;
        conn.execute(EFFECTS).await;

        assert_eq!(conn.accept(&queue, "wkd-flaky").await, Accepted::Stored);
        assert_eq!(conn.accept(&queue, "wkd-flaky").await, Accepted::Duplicate);
        assert_eq!(conn.accept(&queue, "wkd-broken").await, Accepted::Stored);
        assert_eq!(
            conn.accept(&queue, "wkd-undecodable").await,
            Accepted::Stored
        );
        assert_eq!(
            conn.count("SELECT count(*) FROM monime_deliveries").await,
            3
        );

        let policy = quick();
        let mut outcomes = Vec::new();
        let started = Instant::now();
        let pending = "SELECT count(*) FROM monime_deliveries WHERE status = 'pending'";
        while conn.count(pending).await > 0 {
            let reports = conn
                .work(&queue, &policy, 0, Duration::ZERO, |job| {
                    match job.event_id.as_str() {
                        "wkd-flaky" if job.attempt < 3 => Some(format!("flaky {}", job.attempt)),
                        "wkd-broken" => Some("broken handler".to_owned()),
                        "wkd-undecodable" => {
                            job.set_aside();
                            Some("does not decode".to_owned())
                        }
                        _ => None,
                    }
                })
                .await;
            outcomes.extend(reports);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let of = |key: &str| -> Vec<String> {
            outcomes
                .iter()
                .filter(|(k, ..)| k == key)
                .map(|(_, attempt, outcome, _)| format!("{attempt}: {outcome}"))
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
        assert_eq!(conn.count(&format!("{effects}'wkd-flaky'")).await, 1);
        assert_eq!(conn.count(&format!("{effects}'wkd-broken'")).await, 0);

        // Set aside by its handler on the first failure, without retries.
        let undecodable = of("wkd-undecodable");
        assert_eq!(undecodable.len(), 1, "{undecodable:?}");
        assert!(undecodable[0].starts_with("1: failed on its last attempt, set aside"));
        assert_eq!(conn.count(&format!("{effects}'wkd-undecodable'")).await, 0);
        conn.execute("DELETE FROM monime_deliveries WHERE key = 'wkd-undecodable'")
            .await;

        let dead = conn.list(&queue, Some(Status::Dead)).await;
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].key, "wkd-broken");
        assert_eq!(dead[0].attempts, 3);
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("the handler failed, its writes were rolled back: broken handler")
        );
        assert_eq!(conn.list(&queue, Some(Status::Done)).await.len(), 1);
        assert_eq!(conn.list(&queue, None).await.len(), 2);
        let (shown, shown_body) = conn.show(&queue, "wkd-broken").await.unwrap();
        assert_eq!(shown.status, Status::Dead);
        assert_eq!(shown_body, body("wkd-broken"));
        assert_eq!(shown.body_len, shown_body.len());
        let age = shown.received_at.elapsed().unwrap_or_default();
        assert!(age < Duration::from_secs(60), "received just now: {age:?}");

        // Nothing is due while dead; the operator's retry makes it due, once fixed.
        let none = conn
            .work(&queue, &policy, 0, Duration::ZERO, |_| None)
            .await;
        assert!(none.is_empty(), "{none:?}");
        assert!(
            !conn.retry(&queue, "wkd-flaky").await,
            "done rows stay done"
        );
        assert!(!conn.retry(&queue, "wkd-unknown").await);
        assert!(conn.retry(&queue, "wkd-broken").await);
        let reports = conn
            .work(&queue, &policy, 1, Duration::ZERO, |_| None)
            .await;
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].1, 1, "a fresh count of attempts");
        assert!(reports[0].3, "{reports:?}");
        assert_eq!(conn.count(&format!("{effects}'wkd-broken'")).await, 1);
        assert!(conn.list(&queue, Some(Status::Dead)).await.is_empty());
    }));
}

/// A job whose handler swallows a failed statement, or rolls its transaction back itself, and
/// returns `Ok` is not processed: its row is not done, nothing it wrote is kept, the attempt is
/// recorded as failed, and the next attempt processes it once. The row's `done` is the job's
/// last statement, so this is what keeps it from committing on its own after a `ROLLBACK`.
fn a_job_whose_transaction_was_aborted_or_ended_is_retried_not_processed(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        conn.execute(EFFECTS).await;
        conn.execute(
            "CREATE TABLE audit (id text PRIMARY KEY); INSERT INTO audit VALUES ('wkd-a')",
        )
        .await;
        let cases = [
            (
                "wkd-a",
                Script::SwallowFailedStatement,
                "left its transaction aborted",
            ),
            (
                "wkd-b",
                Script::EndTransaction,
                "ended its transaction itself",
            ),
        ];
        for (id, script, why) in cases {
            conn.accept(&queue, id).await;
            let failed = conn.work_scripted(&queue, &quick(), script).await;
            assert_eq!(failed.len(), 1, "{failed:?}");
            let (key, attempt, outcome, processed) = &failed[0];
            assert_eq!((key.as_str(), *attempt, *processed), (id, 1, false));
            assert!(
                outcome.contains("retrying") && outcome.contains(why),
                "{outcome}"
            );
            let (stored, _) = conn.show(&queue, id).await.unwrap();
            assert_eq!(stored.status, Status::Failed, "not done: {stored:?}");
            assert!(stored.last_error.unwrap().contains(why));
            let effects = format!("SELECT count(*) FROM effects WHERE event_id = '{id}'");
            assert_eq!(conn.count(&effects).await, 0, "nothing it wrote is kept");

            // Due again after its backoff (at most 40 ms here).
            let retried = loop {
                let reports = conn
                    .work(&queue, &quick(), 1, Duration::ZERO, |_| None)
                    .await;
                if !reports.is_empty() {
                    break reports;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            };
            assert_eq!(retried.len(), 1, "{retried:?}");
            assert_eq!((retried[0].1, retried[0].3), (2, true), "{retried:?}");
            assert_eq!(conn.count(&effects).await, 1);
            assert_eq!(conn.show(&queue, id).await.unwrap().0.status, Status::Done);
        }
    }));
}

/// A row whose worker vanished without an answer comes back when its lease runs out; on its
/// last attempt it is set aside instead, naming why.
fn a_lease_that_runs_out_is_recovered_or_set_aside(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("app_deliveries").unwrap();
        conn.create_queue(&queue).await;
        conn.execute(EFFECTS).await;
        conn.accept(&queue, "wkd-1").await;
        let policy = RetryPolicy {
            max_attempts: 2,
            lease: Duration::from_millis(600),
            ..quick()
        };
        // A worker that leases, starts the job and vanishes: its connection closes with the
        // job's transaction open, which PostgreSQL rolls back.
        for _ in 0..2 {
            let mut doomed = driver.connect(&server).await;
            let work = doomed.work(&queue, &policy, 9, Duration::from_secs(30), |_| None);
            assert!(
                tokio::time::timeout(Duration::from_millis(200), work)
                    .await
                    .is_err()
            );
            drop(doomed);
            // Leased: nothing is due until the lease runs out.
            let none = conn
                .work(&queue, &policy, 0, Duration::ZERO, |_| None)
                .await;
            assert!(none.is_empty(), "{none:?}");
            tokio::time::sleep(Duration::from_millis(650)).await;
        }
        let reports = conn
            .work(&queue, &policy, 0, Duration::ZERO, |_| None)
            .await;
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].2, "its last lease ran out, set aside");
        let (stored, _) = conn.show(&queue, "wkd-1").await.unwrap();
        assert_eq!(stored.status, Status::Dead);
        assert_eq!(stored.attempts, 2);
        assert_eq!(
            stored.last_error.as_deref(),
            Some("attempt 2 ended without an answer: its worker stopped, or outlived its lease")
        );
        assert_eq!(conn.count("SELECT count(*) FROM effects").await, 0);
    }));
}

/// A batch whose first job takes more than half the lease gives the rest back unstarted,
/// without spending their attempts; the next call processes them.
fn a_slow_batch_gives_its_unstarted_rows_back(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        conn.execute(EFFECTS).await;
        for id in ["wkd-1", "wkd-2", "wkd-3"] {
            conn.accept(&queue, id).await;
        }
        let policy = RetryPolicy {
            lease: Duration::from_millis(400),
            batch: 3,
            ..quick()
        };
        let slow = conn
            .work(&queue, &policy, 0, Duration::from_millis(250), |_| None)
            .await;
        assert_eq!(slow.len(), 1, "one job ran, the rest went back: {slow:?}");
        assert!(slow[0].3);
        let back = "SELECT count(*) FROM monime_deliveries \
                    WHERE status = 'pending' AND attempts = 0 AND leased_until IS NULL";
        assert_eq!(
            conn.count(back).await,
            2,
            "unstarted, unleased, no attempt spent"
        );
        let rest = conn
            .work(&queue, &policy, 0, Duration::ZERO, |_| None)
            .await;
        assert_eq!(rest.len(), 2);
        assert!(rest.iter().all(|r| r.1 == 1 && r.3), "{rest:?}");
        assert_eq!(conn.count("SELECT count(*) FROM effects").await, 3);
    }));
}

/// Pruning refuses an age below the floor, deletes only done rows past it, and keeps dead
/// and pending rows; the inbox's claims likewise.
fn prune_keeps_the_floor(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        for id in ["wkd-old", "wkd-recent", "wkd-dead", "wkd-pending"] {
            conn.accept(&queue, id).await;
        }
        conn.execute(
            "UPDATE monime_deliveries SET status = 'done', done_at = now() - interval '8 days' \
               WHERE key = 'wkd-old'; \
             UPDATE monime_deliveries SET status = 'done', done_at = now() - interval '6 days' \
               WHERE key = 'wkd-recent'; \
             UPDATE monime_deliveries SET status = 'dead', received_at = now() - interval '30 days' \
               WHERE key = 'wkd-dead'; \
             UPDATE monime_deliveries SET received_at = now() - interval '30 days' \
               WHERE key = 'wkd-pending'",
        )
        .await;
        let below = conn.prune(&queue, Duration::from_secs(3600)).await;
        assert!(below.unwrap_err().contains("floor"));
        assert_eq!(conn.prune(&queue, RETENTION_FLOOR).await, Ok(1));
        let left: Vec<String> = conn.list(&queue, None).await.into_iter().map(|s| s.key).collect();
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(!left.contains(&"wkd-old".to_owned()));
        // The pruned event, delivered again, is new to the queue: hence the floor.
        assert_eq!(conn.accept(&queue, "wkd-old").await, Accepted::Stored);

        let inbox = PgInbox::new("monime_inbox").unwrap();
        conn.create_inbox(&inbox).await;
        conn.execute(
            "INSERT INTO monime_inbox VALUES ('wkd-a', now() - interval '8 days'), ('wkd-b', now())",
        )
        .await;
        assert!(conn.prune_inbox(&inbox, Duration::ZERO).await.is_err());
        assert_eq!(conn.prune_inbox(&inbox, RETENTION_FLOOR).await, Ok(1));
        assert_eq!(conn.count("SELECT count(*) FROM monime_inbox").await, 1);
    }));
}

/// The SQL migrations under `migrations/` build the same tables `create_table` does: a
/// user's migration tool and the library agree.
fn the_migration_files_are_the_tables_the_library_uses(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        conn.execute(&format!(
            "{}\n{}\n{EFFECTS}",
            monime_inbox::INBOX_MIGRATION,
            monime_inbox::QUEUE_MIGRATION
        ))
        .await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.accept(&queue, "wkd-1").await;
        let reports = conn.work(&queue, &quick(), 0, Duration::ZERO, |_| None).await;
        assert!(reports[0].3, "{reports:?}");
        let inbox = PgInbox::new("monime_inbox").unwrap();
        let outcome = conn.process(&inbox, "wkd-1", crate::drivers::Script::Effect(1)).await;
        assert_eq!(outcome, Ok(monime_inbox::Outcome::Processed(())));
        // A schema-qualified name gets the same tables, with its indexes in its schema.
        conn.execute("CREATE SCHEMA app").await;
        conn.create_queue(&PgQueue::new("app.deliveries").unwrap()).await;
        let indexes = conn
            .count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'app' AND tablename = 'deliveries'")
            .await;
        assert_eq!(indexes, 2, "the key and the partial due index");
    }));
}

const CHILD: &str = "MONIME_QUEUE_TEST_WORKER_PORT";
const CHILD_DRIVER: &str = "MONIME_QUEUE_TEST_WORKER_DRIVER";
/// A file the child appends each job's event id to when its handler starts.
const CHILD_STARTED: &str = "MONIME_QUEUE_TEST_WORKER_STARTED";

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
    let driver = match std::env::var(CHILD_DRIVER).as_deref() {
        Ok("sqlx") => Driver::Sqlx,
        _ => Driver::TokioPostgres,
    };
    let worker: i32 = std::process::id().try_into().unwrap_or(0);
    runtime().block_on(async {
        let mut conn = driver.connect_on(port).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        let policy = RetryPolicy {
            max_attempts: 100,
            lease: Duration::from_millis(500),
            batch: 4,
            ..quick()
        };
        let started_file = std::env::var(CHILD_STARTED).unwrap();
        let started = |job: &monime_inbox::Job| {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&started_file)
                .unwrap();
            writeln!(file, "{}", job.event_id).unwrap();
            None
        };
        loop {
            // The handler's time, during which the parent's SIGKILL usually lands.
            let pause = Duration::from_millis(fastrand::u64(2..12));
            let reports = conn.work(&queue, &policy, worker, pause, started).await;
            if reports.is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
}

/// Three worker processes work through deliveries accepted while the test kills one with
/// SIGKILL every 100 ms (12 times, 40 new deliveries each time) and starts another. Every
/// event is processed exactly once, and leases had to be recovered from killed workers.
fn workers_killed_mid_handler_lose_and_repeat_nothing(driver: Driver) {
    const KILLS: usize = 12;
    const PER_KILL: usize = 40;
    const EVENTS: usize = 100 + KILLS * PER_KILL;
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(120), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        conn.execute(EFFECTS).await;
        let started_file = std::env::temp_dir().join(format!(
            "monime-queue-started-{}-{driver:?}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&started_file);
        let mut accepted = 0;
        while accepted < 100 {
            conn.accept(&queue, &format!("wkd-{accepted:04}")).await;
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
                .env(CHILD_STARTED, &started_file)
                .env(
                    CHILD_DRIVER,
                    if driver == Driver::Sqlx {
                        "sqlx"
                    } else {
                        "tokio-postgres"
                    },
                )
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
                conn.accept(&queue, &format!("wkd-{accepted:04}")).await;
                accepted += 1;
            }
        }
        let pending = "SELECT count(*) FROM monime_deliveries WHERE status <> 'done'";
        while conn.count(pending).await > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for worker in &mut workers {
            worker.kill().unwrap();
            worker.wait().unwrap();
        }
        let processed = "SELECT count(DISTINCT event_id) FROM effects";
        assert_eq!(
            conn.count(processed).await,
            EVENTS as i64,
            "every accepted event was processed"
        );
        let effects = conn.count("SELECT count(*) FROM effects").await;
        assert_eq!(effects, EVENTS as i64, "and each one once");
        let recovered = conn
            .count("SELECT count(*) FROM monime_deliveries WHERE attempts > 1")
            .await;
        assert!(
            recovered > 0,
            "some leases were recovered from killed workers"
        );
        // A job whose handler started more often than it committed was cut mid-handler, and
        // its writes rolled back.
        let starts = std::fs::read_to_string(&started_file)
            .unwrap()
            .lines()
            .count();
        let _ = std::fs::remove_file(&started_file);
        assert!(
            starts > EVENTS,
            "{starts} handler starts for {EVENTS} events: no kill landed mid-handler"
        );
        let workers_seen = conn
            .count("SELECT count(DISTINCT worker) FROM effects")
            .await;
        assert!(
            workers_seen > 3,
            "restarted workers took over: {workers_seen}"
        );
        println!("{EVENTS} events, {KILLS} workers killed, {recovered} leases recovered");
    }));
}

/// Pools work as they are: deliveries accepted through a deadpool-postgres pool, then four
/// workers on the same pool, each event processed once.
#[test]
fn workers_and_receivers_share_a_deadpool_pool() {
    const EVENTS: usize = 200;
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let manager = deadpool_postgres::Manager::new(
            PgServer::config_for(server.port),
            tokio_postgres::NoTls,
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(6)
            .build()
            .unwrap();
        let queue = PgQueue::new("monime_deliveries").unwrap();
        let setup = pool.get().await.unwrap();
        queue.create_table(&**setup).await.unwrap();
        setup.batch_execute(EFFECTS).await.unwrap();
        drop(setup);
        for i in 0..EVENTS {
            let id = format!("wkd-{i:04}");
            let body = body(&id);
            let delivery = monime_inbox::Delivery {
                key: &id,
                event_id: &id,
                event_name: "payment.completed",
                body: &body,
                signature: "t=1,v1=AAAA",
            };
            let conn = pool.get().await.unwrap();
            queue.accept(&**conn, &delivery).await.unwrap();
        }
        let mut workers = Vec::new();
        // An `async fn`, not an async closure: rustc cannot yet tell that an async closure's
        // future, over borrowed arguments, is `Send`, which `tokio::spawn` requires.
        async fn record(
            tx: &tokio_postgres::Transaction<'_>,
            job: &monime_inbox::Job,
        ) -> Result<u64, tokio_postgres::Error> {
            let worker = i32::try_from(std::process::id() % 1000).unwrap_or(0);
            tx.execute(
                "INSERT INTO effects VALUES ($1, $2)",
                &[&job.event_id, &worker],
            )
            .await
        }
        for _ in 0..4 {
            let (pool, queue) = (pool.clone(), queue.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let mut conn = pool.get().await.unwrap();
                    let reports = queue.work(&mut conn, &quick(), record).await.unwrap();
                    if reports.is_empty() {
                        break;
                    }
                }
            }));
        }
        for worker in workers {
            worker.await.unwrap();
        }
        let conn = pool.get().await.unwrap();
        let effects: i64 = conn
            .query_one("SELECT count(*) FROM effects", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(effects, EVENTS as i64);
        let distinct: i64 = conn
            .query_one("SELECT count(DISTINCT event_id) FROM effects", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(distinct, EVENTS as i64);
    }));
}
