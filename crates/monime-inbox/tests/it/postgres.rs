//! The PostgreSQL inbox against a real PostgreSQL 15 server started by the test.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use monime_inbox::{Outcome, PgInbox, PgProcessError};

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
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
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
            tokio::time::sleep(Duration::from_millis(200)).await;
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
                        Err(PgProcessError::Database(_)) => {
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
