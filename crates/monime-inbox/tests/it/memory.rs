//! The in-memory inbox: once per id, releases on failure, bounded, concurrent tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use monime_inbox::{Claim, MemoryInbox, Outcome};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_redelivery_after_success_is_a_duplicate() {
    runtime().block_on(async {
        let inbox = MemoryInbox::new(100, Duration::from_secs(3600));
        let runs = AtomicUsize::new(0);
        for delivery in 0..3 {
            let outcome = inbox
                .process("wkd-1", async || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, String>(())
                })
                .await
                .unwrap();
            let expected = if delivery == 0 {
                Outcome::Processed(())
            } else {
                Outcome::Duplicate
            };
            assert_eq!(outcome, expected, "delivery {delivery}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(inbox.len(), 1);
    });
}

#[test]
fn a_failed_handler_releases_the_claim_and_the_redelivery_runs() {
    runtime().block_on(async {
        let inbox = MemoryInbox::new(100, Duration::from_secs(3600));
        let failed = inbox
            .process("wkd-1", async || Err::<(), _>("database down"))
            .await;
        assert_eq!(failed, Err("database down"));
        let retried = inbox.process("wkd-1", async || Ok::<_, &str>("done")).await;
        assert_eq!(retried, Ok(Outcome::Processed("done")));
    });
}

#[test]
fn a_claim_dropped_without_commit_is_released() {
    let inbox = MemoryInbox::new(100, Duration::from_secs(3600));
    {
        let Claim::Claimed(claim) = inbox.claim("wkd-1") else {
            panic!("first claim")
        };
        assert_eq!(claim.event_id(), "wkd-1");
        assert!(matches!(inbox.claim("wkd-1"), Claim::InProgress));
    }
    assert!(matches!(inbox.claim("wkd-1"), Claim::Claimed(_)));
}

#[test]
fn the_oldest_records_are_forgotten_beyond_the_capacity() {
    let inbox = MemoryInbox::new(3, Duration::from_secs(3600));
    for id in ["a", "b", "c", "d"] {
        let Claim::Claimed(claim) = inbox.claim(id) else {
            panic!("{id}")
        };
        claim.commit();
    }
    assert_eq!(inbox.len(), 3);
    assert!(
        matches!(inbox.claim("a"), Claim::Claimed(_)),
        "a was evicted"
    );
    for id in ["b", "c", "d"] {
        assert!(matches!(inbox.claim(id), Claim::Duplicate), "{id}");
    }
}

#[test]
fn records_expire_after_the_ttl() {
    let inbox = MemoryInbox::new(10, Duration::from_millis(50));
    let Claim::Claimed(claim) = inbox.claim("wkd-1") else {
        panic!()
    };
    claim.commit();
    assert!(matches!(inbox.claim("wkd-1"), Claim::Duplicate));
    std::thread::sleep(Duration::from_millis(80));
    assert!(inbox.is_empty());
    assert!(matches!(inbox.claim("wkd-1"), Claim::Claimed(_)));
}

/// Eight tasks, 300 events delivered three times each in shuffled order, one task failing
/// some events: every event runs exactly once to success, and none is lost.
#[test]
fn concurrent_deliveries_process_each_event_once() {
    runtime().block_on(async {
        let inbox = Arc::new(MemoryInbox::new(10_000, Duration::from_secs(3600)));
        let mut deliveries: Vec<u32> = (0..300).flat_map(|i| [i, i, i]).collect();
        fastrand::seed(7);
        fastrand::shuffle(&mut deliveries);
        let queue = Arc::new(std::sync::Mutex::new(deliveries));
        let successes: Arc<Vec<AtomicUsize>> =
            Arc::new((0..300).map(|_| AtomicUsize::new(0)).collect());
        let failures: Arc<Vec<AtomicUsize>> =
            Arc::new((0..300).map(|_| AtomicUsize::new(0)).collect());
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let (inbox, queue) = (inbox.clone(), queue.clone());
            let (successes, failures) = (successes.clone(), failures.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(event) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let id = format!("wkd-{event}");
                    let outcome = inbox
                        .process(&id, async || {
                            tokio::task::yield_now().await;
                            // Worker 0 fails the first time it handles one event in five.
                            if worker == 0
                                && event % 5 == 0
                                && failures[event as usize].fetch_add(1, Ordering::SeqCst) == 0
                            {
                                return Err("handler failed");
                            }
                            successes[event as usize].fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .await;
                    if matches!(outcome, Err(_) | Ok(Outcome::InProgress)) {
                        // Monime retries a delivery that was not answered 2xx, later.
                        queue.lock().unwrap().insert(0, event);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for (event, count) in successes.iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "event {event}");
        }
    });
}
