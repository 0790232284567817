//! The PostgreSQL inbox against a real PostgreSQL 15 server started by the test.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use monime_inbox::{Outcome, PgInbox, PgProcessError};

use crate::drivers::{Driver, Failure, Script, on_both_drivers};
use crate::server::PgServer;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

const EFFECTS: &str = "CREATE TABLE effects (event_id text NOT NULL, receiver int NOT NULL)";

/// The building blocks, each on a fresh table of one server: table creation, the claim in
/// the handler's transaction, rollback on failure, and a racing duplicate waiting.
#[test]
fn claims_commit_and_roll_back_with_the_handlers_writes() {
    let server = PgServer::start();
    runtime().block_on(async {
        let mut client = server.connect().await.unwrap();
        let inbox = PgInbox::new("public.monime_inbox").unwrap();

        // Created if absent, by several replicas at once, and again later.
        let mut replicas = Vec::new();
        for _ in 0..4 {
            replicas.push(server.connect().await.unwrap());
        }
        let creations = replicas.iter().map(|c| inbox.create_table(c));
        for created in futures_util::future::join_all(creations).await {
            created.unwrap();
        }
        inbox.create_table(&client).await.unwrap();
        client.batch_execute(EFFECTS).await.unwrap();

        // Two replicas one step apart: the first has created the table in a transaction not
        // yet committed when the second creates it. The second waits its turn, then finds the
        // table (without the turn, it would fail on the catalog).
        let raced = PgInbox::new("public.raced").unwrap();
        let mut first = server.connect().await.unwrap();
        let first = first.transaction().await.unwrap();
        raced.create_table(&first).await.unwrap();
        let second = server.connect().await.unwrap();
        let late = raced.clone();
        let waiting = tokio::spawn(async move { late.create_table(&second).await });
        wait_for_a_lock_wait(&client).await;
        assert!(!waiting.is_finished(), "the second replica waits its turn");
        first.commit().await.unwrap();
        waiting.await.unwrap().unwrap();

        // A handler that writes, then fails: its write and the claim roll back.
        let failed = inbox
            .process(&mut client, "wkd-1", async |tx| {
                tx.execute("INSERT INTO effects VALUES ('wkd-1', 1)", &[])
                    .await?;
                Err::<(), _>(Box::<dyn std::error::Error + Send + Sync>::from("boom"))
            })
            .await;
        assert!(
            matches!(failed, Err(PgProcessError::Handler(_))),
            "{failed:?}"
        );
        assert_eq!(
            count(&client, "effects").await,
            0,
            "the handler's write rolled back"
        );
        assert_eq!(
            count(&client, "monime_inbox").await,
            0,
            "the claim rolled back"
        );

        // The redelivery is processed, once.
        for attempt in 0..2 {
            let outcome = inbox
                .process(&mut client, "wkd-1", async |tx| {
                    tx.execute("INSERT INTO effects VALUES ('wkd-1', 2)", &[])
                        .await?;
                    Ok::<_, tokio_postgres::Error>(attempt)
                })
                .await
                .unwrap();
            let expected = if attempt == 0 {
                Outcome::Processed(0)
            } else {
                Outcome::Duplicate
            };
            assert_eq!(outcome, expected);
        }
        assert_eq!(count(&client, "effects").await, 1);

        // Ids that would need escaping go as parameters, and are claimed once too.
        for id in ["wkd-'); DROP TABLE effects; --", "wkd-ünï", "wkd $1 \\ \""] {
            for attempt in 0..2 {
                let outcome = inbox
                    .process(&mut client, id, async |_tx| {
                        Ok::<_, tokio_postgres::Error>(())
                    })
                    .await
                    .unwrap();
                let expected = if attempt == 0 {
                    Outcome::Processed(())
                } else {
                    Outcome::Duplicate
                };
                assert_eq!(outcome, expected, "{id}");
            }
        }
        assert_eq!(count(&client, "effects").await, 1, "nothing was injected");
        assert_eq!(count(&client, "monime_inbox").await, 4);

        // Two deliveries at once: the second waits for the first transaction, then sees
        // the claim (after commit) or takes it (after rollback).
        for commit_first in [true, false] {
            let id = format!("wkd-race-{commit_first}");
            let mut first = server.connect().await.unwrap();
            let mut second = server.connect().await.unwrap();
            let tx1 = first.transaction().await.unwrap();
            assert!(inbox.claim(&tx1, &id).await.unwrap());
            let (inbox2, id2) = (inbox.clone(), id.clone());
            let waiting = tokio::spawn(async move {
                let tx2 = second.transaction().await.unwrap();
                let claimed = inbox2.claim(&tx2, &id2).await.unwrap();
                tx2.commit().await.unwrap();
                claimed
            });
            wait_for_a_lock_wait(&client).await;
            assert!(
                !waiting.is_finished(),
                "the second claim waits for the first transaction"
            );
            if commit_first {
                tx1.commit().await.unwrap();
            } else {
                tx1.rollback().await.unwrap();
            }
            let second_claimed = waiting.await.unwrap();
            assert_eq!(second_claimed, !commit_first);
        }
    });
}

on_both_drivers!(
    a_handler_that_swallows_a_failed_statement_is_not_processed,
    a_lost_commit_answer_is_reported_as_unknown_and_settled_by_the_redelivery,
    eight_receivers_racing_on_every_event_process_each_exactly_once,
);

/// A handler that catches a failed statement (a best-effort audit insert hitting a duplicate
/// key) and returns `Ok` leaves the transaction aborted; PostgreSQL answers its `COMMIT` with
/// `ROLLBACK`. That must not read as `Processed`: the claim and the writes are gone, and only
/// a non-2xx answer makes Monime deliver again.
fn a_handler_that_swallows_a_failed_statement_is_not_processed(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let inbox = PgInbox::new("monime_inbox").unwrap();
        conn.create_inbox(&inbox).await;
        conn.execute(EFFECTS).await;
        conn.execute(
            "CREATE TABLE audit (id text PRIMARY KEY); INSERT INTO audit VALUES ('wkd-a')",
        )
        .await;

        let outcome = conn
            .process(&inbox, "wkd-a", Script::SwallowFailedStatement)
            .await;
        let (failure, message) = outcome.unwrap_err();
        assert_eq!(
            failure,
            Failure::Aborted(Some("25P02".to_owned())),
            "in_failed_sql_transaction"
        );
        assert!(
            message.contains("rolled back"),
            "the message says nothing was kept: {message}"
        );
        assert_eq!(
            conn.count("SELECT count(*) FROM monime_inbox").await,
            0,
            "no claim remains"
        );
        assert_eq!(
            conn.count("SELECT count(*) FROM effects").await,
            0,
            "no effect remains"
        );

        // The same connection serves the redelivery, which runs the handler and commits.
        let outcome = conn.process(&inbox, "wkd-a", Script::Effect(2)).await;
        assert_eq!(outcome, Ok(Outcome::Processed(())));
        assert_eq!(conn.count("SELECT count(*) FROM monime_inbox").await, 1);
        assert_eq!(conn.count("SELECT count(*) FROM effects").await, 1);

        // A handler that ends the transaction itself loses the claim with it.
        let outcome = conn.process(&inbox, "wkd-b", Script::EndTransaction).await;
        assert_eq!(outcome.unwrap_err().0, Failure::Aborted(None));
        assert_eq!(
            conn.count("SELECT count(*) FROM monime_inbox").await,
            1,
            "wkd-b holds no claim"
        );
        let outcome = conn.process(&inbox, "wkd-b", Script::Effect(3)).await;
        assert_eq!(outcome, Ok(Outcome::Processed(())));
    }));
}

/// The connection is cut right after `COMMIT` reached the server, so the commit happened but
/// its answer never arrives. The inbox cannot know, and says so; the redelivery finds the
/// claim, and the effect exists exactly once.
fn a_lost_commit_answer_is_reported_as_unknown_and_settled_by_the_redelivery(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut direct = driver.connect(&server).await;
        let inbox = PgInbox::new("monime_inbox").unwrap();
        direct.create_inbox(&inbox).await;
        direct.execute(EFFECTS).await;

        let (proxy_port, proxy) = proxy_cutting_after_commit(server.port).await;
        let mut cut = driver.connect_on(proxy_port).await;
        let outcome = cut.process(&inbox, "wkd-lost", Script::Effect(1)).await;
        let (failure, message) = outcome.unwrap_err();
        assert_eq!(failure, Failure::OutcomeUnknown, "{message}");
        assert!(message.contains("unknown"), "{message}");
        assert!(
            proxy.await.unwrap(),
            "the proxy saw COMMIT and cut the answer"
        );

        let outcome = direct.process(&inbox, "wkd-lost", Script::Effect(2)).await;
        assert_eq!(
            outcome,
            Ok(Outcome::Duplicate),
            "the redelivery runs nothing"
        );
        assert_eq!(
            direct.count("SELECT count(*) FROM effects").await,
            1,
            "exactly one effect"
        );
    }));
}

/// 8 receivers, 1,000 events, 3 deliveries of each, on 3 different receivers released
/// together through the event's barrier: every effect is committed exactly once, and the
/// copies really conflicted. The winner holds its transaction open for `HOLD`; a duplicate
/// whose call lasted that long waited on the winner's claim (PostgreSQL makes a conflicting
/// INSERT wait for the other transaction), which is the conflict the inbox exists to settle.
fn eight_receivers_racing_on_every_event_process_each_exactly_once(driver: Driver) {
    const EVENTS: usize = 1000;
    const RECEIVERS: usize = 8;
    const HOLD: Duration = Duration::from_millis(3);
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(120), async {
        let mut setup = driver.connect(&server).await;
        let inbox = PgInbox::new("monime_inbox").unwrap();
        setup.create_inbox(&inbox).await;
        setup.execute(EFFECTS).await;
        let barriers: Arc<Vec<tokio::sync::Barrier>> =
            Arc::new((0..EVENTS).map(|_| tokio::sync::Barrier::new(3)).collect());
        let waited = Arc::new(AtomicUsize::new(0));
        let mut receivers = Vec::new();
        for receiver in 0..RECEIVERS {
            let (barriers, inbox, waited) = (barriers.clone(), inbox.clone(), waited.clone());
            let mut conn = driver.connect(&server).await;
            receivers.push(tokio::spawn(async move {
                // Event i goes to receivers i, i+1 and i+2 (mod 8), each in event order, so the
                // barriers are met in one global order.
                let mine =
                    (0..EVENTS).filter(|i| (receiver + RECEIVERS - i % RECEIVERS) % RECEIVERS < 3);
                let mut counts = (0usize, 0usize);
                for event in mine {
                    barriers[event].wait().await;
                    let began = Instant::now();
                    let id = format!("wkd-{event:04}");
                    let script = Script::EffectThenPause(receiver as i32, HOLD);
                    match conn.process(&inbox, &id, script).await {
                        Ok(Outcome::Processed(())) => counts.0 += 1,
                        Ok(Outcome::Duplicate) => {
                            if began.elapsed() >= HOLD {
                                waited.fetch_add(1, Ordering::SeqCst);
                            }
                            counts.1 += 1;
                        }
                        other => panic!("{id}: {other:?}"),
                    }
                }
                counts
            }));
        }
        let mut processed = 0;
        let mut duplicates = 0;
        for receiver in receivers {
            let (p, d) = receiver.await.unwrap();
            processed += p;
            duplicates += d;
        }
        assert_eq!(processed, EVENTS, "one delivery of each event processed it");
        assert_eq!(duplicates, 2 * EVENTS, "the other two were duplicates");
        assert_eq!(
            setup.count("SELECT count(*) FROM effects").await,
            EVENTS as i64
        );
        assert_eq!(
            setup
                .count("SELECT count(DISTINCT event_id) FROM effects")
                .await,
            EVENTS as i64,
            "every effect exactly once"
        );
        let waited = waited.load(Ordering::SeqCst);
        assert!(
            waited >= EVENTS / 4,
            "only {waited} of {duplicates} duplicates waited on a claim in flight"
        );
        println!("{driver:?}: {waited} of {duplicates} duplicates waited on a claim in flight");
    }));
}

/// A one-connection proxy to `server_port` that passes everything through until the client
/// sends `COMMIT`; then it waits for the server's first byte of answer (the commit is done by
/// then) and closes both sides without passing it on. Resolves to whether it cut.
async fn proxy_cutting_after_commit(server_port: u16) -> (u16, tokio::task::JoinHandle<bool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = tokio::net::TcpStream::connect(("127.0.0.1", server_port))
            .await
            .unwrap();
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        let (mut up, mut down) = ([0u8; 8192], [0u8; 8192]);
        let mut committing = false;
        loop {
            tokio::select! {
                read = client_read.read(&mut up), if !committing => {
                    let n = read.unwrap();
                    if n == 0 {
                        return false;
                    }
                    server_write.write_all(&up[..n]).await.unwrap();
                    committing = up[..n].windows(7).any(|w| w == b"COMMIT\0");
                }
                read = server_read.read(&mut down) => {
                    let n = read.unwrap();
                    if n == 0 {
                        return false;
                    }
                    if committing {
                        return true;
                    }
                    client_write.write_all(&down[..n]).await.unwrap();
                }
            }
        }
    });
    (port, task)
}

/// Fails the test instead of hanging it when `work` does not finish in `limit`.
async fn within<T>(limit: Duration, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

#[test]
fn table_names_are_plain_identifiers() {
    assert!(PgInbox::new("monime_inbox").is_ok());
    assert!(PgInbox::new("app.monime_inbox").is_ok());
    for bad in [
        "",
        "Inbox",
        "a;drop table x",
        "a.b.c",
        "1abc",
        "a b",
        &"x".repeat(64),
    ] {
        let error = PgInbox::new(bad).unwrap_err();
        assert!(error.to_string().contains("lowercase"), "{bad}: {error}");
    }
}

/// The scenario: 8 receivers with their own connections get 1,000 events, each
/// delivered 3 times in shuffled order; one receiver fails mid-transaction (after writing) on
/// some events; the server restarts while they work. Every event's effect is committed exactly
/// once, and no event is lost.
#[test]
fn eight_receivers_process_each_event_exactly_once_across_a_restart() {
    const EVENTS: usize = 1000;
    const RECEIVERS: usize = 8;
    let server = Arc::new(PgServer::start());
    let started = Instant::now();
    runtime().block_on(async {
        let setup = server.connect().await.unwrap();
        let inbox = PgInbox::new("monime_inbox").unwrap();
        inbox.create_table(&setup).await.unwrap();
        setup.batch_execute(EFFECTS).await.unwrap();
        drop(setup);

        let mut deliveries: Vec<usize> = (0..EVENTS).flat_map(|i| [i, i, i]).collect();
        fastrand::seed(20250823);
        fastrand::shuffle(&mut deliveries);
        let total = deliveries.len();
        let queue = Arc::new(Mutex::new(VecDeque::from(deliveries)));
        let answered = Arc::new(AtomicUsize::new(0));
        let injected = Arc::new(AtomicUsize::new(0));
        let database_errors = Arc::new(AtomicUsize::new(0));
        let restarted = Arc::new(AtomicBool::new(false));
        let failed_once: Arc<Vec<AtomicBool>> =
            Arc::new((0..EVENTS).map(|_| AtomicBool::new(false)).collect());

        // Restart the server once a third of the deliveries are answered.
        let restarter = {
            let (server, answered, restarted) =
                (server.clone(), answered.clone(), restarted.clone());
            tokio::spawn(async move {
                while answered.load(Ordering::SeqCst) < total / 3 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tokio::task::spawn_blocking(move || server.restart())
                    .await
                    .unwrap();
                restarted.store(true, Ordering::SeqCst);
            })
        };

        let mut receivers = Vec::new();
        for receiver in 0..RECEIVERS {
            let (server, inbox, queue) = (server.clone(), inbox.clone(), queue.clone());
            let (answered, injected) = (answered.clone(), injected.clone());
            let (database_errors, failed_once) = (database_errors.clone(), failed_once.clone());
            receivers.push(tokio::spawn(async move {
                let mut client = reconnect(&server).await;
                while answered.load(Ordering::SeqCst) < total {
                    let Some(event) = queue.lock().unwrap().pop_front() else {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        continue;
                    };
                    let id = format!("wkd-{event:04}");
                    let outcome = inbox
                        .process(&mut client, &id, async |tx| {
                            tx.execute(
                                "INSERT INTO effects VALUES ($1, $2)",
                                &[&id, &(receiver as i32)],
                            )
                            .await
                            .map_err(|e| e.to_string())?;
                            // Receiver 3 fails after its write on one event in seven, the
                            // first time it meets it.
                            if receiver == 3
                                && event % 7 == 0
                                && !failed_once[event].swap(true, Ordering::SeqCst)
                            {
                                injected.fetch_add(1, Ordering::SeqCst);
                                return Err("injected failure".to_owned());
                            }
                            Ok(())
                        })
                        .await;
                    match outcome {
                        Ok(Outcome::Processed(()) | Outcome::Duplicate) => {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(Outcome::InProgress) => unreachable!("PostgreSQL waits instead"),
                        Err(PgProcessError::Handler(_)) => {
                            // Answered non-2xx: Monime delivers it again later.
                            queue.lock().unwrap().push_back(event);
                        }
                        Err(PgProcessError::Aborted(error)) => {
                            panic!("no handler here swallows a failure: {error:?}")
                        }
                        Err(PgProcessError::Database(_) | PgProcessError::OutcomeUnknown(_)) => {
                            database_errors.fetch_add(1, Ordering::SeqCst);
                            queue.lock().unwrap().push_back(event);
                            client = reconnect(&server).await;
                        }
                    }
                }
            }));
        }
        for receiver in receivers {
            receiver.await.unwrap();
        }
        restarter.await.unwrap();

        assert!(
            restarted.load(Ordering::SeqCst),
            "the server was restarted mid-run"
        );
        assert!(
            injected.load(Ordering::SeqCst) > 0,
            "failures were injected"
        );
        let check = server.connect().await.unwrap();
        let rows = check
            .query(
                "SELECT event_id, count(*) FROM effects GROUP BY event_id",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            rows.len(),
            EVENTS,
            "every event has committed effects: none lost"
        );
        for row in &rows {
            let (id, n): (String, i64) = (row.get(0), row.get(1));
            assert_eq!(n, 1, "{id} was processed {n} times");
        }
        assert_eq!(count(&check, "monime_inbox").await, EVENTS as i64);
        println!(
            "{EVENTS} events x3 by {RECEIVERS} receivers in {:.1?}: {} injected failures, {} \
             deliveries cut by the restart",
            started.elapsed(),
            injected.load(Ordering::SeqCst),
            database_errors.load(Ordering::SeqCst)
        );
    });
}

async fn reconnect(server: &PgServer) -> tokio_postgres::Client {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match server.connect().await {
            Ok(client) => return client,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("the server did not come back within 60 s: {error}"),
        }
    }
}

async fn count(client: &tokio_postgres::Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

/// Returns once some backend of the server waits for a lock: the race it set up is on.
async fn wait_for_a_lock_wait(client: &tokio_postgres::Client) {
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'";
    within(Duration::from_secs(10), async {
        while client
            .query_one(waiting, &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 0
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
}
