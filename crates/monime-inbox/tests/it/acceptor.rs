//! `Acceptor`: deliveries arriving together are stored together, each exactly once, each
//! caller told its own delivery's fate; on a deadpool pool (tokio-postgres) and a `PgPool`.

use std::time::Duration;

use monime_inbox::{AcceptError, Accepted, Acceptor, Delivery, PgQueue, STORE_TIME_LIMIT};

use crate::drivers::{Driver, body, on_both_drivers};
use crate::queue::{runtime, within};
use crate::server::PgServer;

/// An acceptor of either driver, with its errors reduced to their text and whether the
/// server gave them (its SQLSTATE).
enum Either {
    Deadpool(Acceptor<deadpool_postgres::PoolError>),
    Sqlx(Acceptor<sqlx::Error>),
}

type Fate = Result<Accepted, (String, Option<String>)>;

impl Either {
    async fn on_port(driver: Driver, queue: &PgQueue, port: u16) -> Either {
        match driver {
            Driver::TokioPostgres => {
                let manager = deadpool_postgres::Manager::new(
                    PgServer::config_for(port),
                    tokio_postgres::NoTls,
                );
                let pool = deadpool_postgres::Pool::builder(manager)
                    .max_size(4)
                    .build()
                    .unwrap();
                Either::Deadpool(queue.acceptor(pool))
            }
            Driver::Sqlx => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(2))
                    .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))
                    .unwrap();
                Either::Sqlx(queue.acceptor_sqlx(pool))
            }
        }
    }

    async fn accept(&self, delivery: &Delivery<'_>) -> Fate {
        match self {
            Either::Deadpool(acceptor) => acceptor.accept(delivery).await.map_err(|e| {
                let code = match &e {
                    AcceptError::Database(error) => match &**error {
                        deadpool_postgres::PoolError::Backend(error) => {
                            error.code().map(|c| c.code().to_owned())
                        }
                        _ => None,
                    },
                    _ => None,
                };
                (e.to_string(), code)
            }),
            Either::Sqlx(acceptor) => acceptor.accept(delivery).await.map_err(|e| {
                let code = match &e {
                    AcceptError::Database(error) => error
                        .as_database_error()
                        .and_then(|e| e.code())
                        .map(|c| c.into_owned()),
                    _ => None,
                };
                (e.to_string(), code)
            }),
        }
    }
}

/// The delivery of event `id`: each column its own value, so columns that went into the
/// wrong places would show.
fn delivery<'a>(id: &'a str, name: &'a str, body: &'a [u8]) -> Delivery<'a> {
    Delivery {
        key: id,
        event_id: &id[4..],
        event_name: name,
        body,
        signature: "t=1771803194,v1=AAAA",
    }
}

/// Every delivery of `ids` (the one ending in `-bad` named `bad_name`), all sent at once.
async fn accept_all(acceptor: &Either, ids: &[String], bad_name: &str) -> Vec<Fate> {
    let bodies: Vec<Vec<u8>> = ids.iter().map(|id| body(id)).collect();
    let sends = ids.iter().zip(&bodies).map(|(id, body)| async move {
        let name = if id.ends_with("-bad") {
            bad_name
        } else {
            "payment.completed"
        };
        acceptor.accept(&delivery(id, name, body)).await
    });
    futures_util::future::join_all(sends).await
}

/// `accept_all` while another transaction holds the table: the first INSERT waits on it and
/// every other delivery queues behind, so the batches that follow are full ones.
async fn accept_all_held(
    server: &PgServer,
    acceptor: Either,
    ids: Vec<String>,
    bad_name: &'static str,
) -> Vec<Fate> {
    let holder = server.connect().await.unwrap();
    holder
        .batch_execute("BEGIN; LOCK TABLE monime_deliveries IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let sends = tokio::spawn(async move { accept_all(&acceptor, &ids, bad_name).await });
    // Another connection: within the holder's transaction the view would not change.
    let watcher = server.connect().await.unwrap();
    let waiting = "SELECT count(*) FROM pg_stat_activity \
                   WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO %monime_deliveries%'";
    while watcher
        .query_one(waiting, &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The sends (no more than the acceptor queues) were all queued by their first poll.
    holder.batch_execute("COMMIT").await.unwrap();
    sends.await.unwrap()
}

on_both_drivers!(
    deliveries_arriving_together_are_stored_together_each_once,
    accept_many_stores_each_key_once_or_nothing,
    a_delivery_the_server_refuses_fails_alone,
    a_database_that_cannot_be_reached_fails_every_delivery_promptly,
    a_database_that_does_not_answer_fails_every_delivery_within_the_limit,
);

/// 240 deliveries at once, 80 events each delivered three times in a row (redeliveries mostly
/// in the same INSERT as the first): each event stored once with its own columns, exactly one
/// caller per event told `Stored` and the others `Duplicate`; the deliveries queued behind a
/// held table go in full INSERTs (the rows of one INSERT share a transaction id).
fn deliveries_arriving_together_are_stored_together_each_once(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        let acceptor = Either::on_port(driver, &queue, server.port).await;
        let ids: Vec<String> = (0..240).map(|i| format!("wkd-{:03}", i / 3)).collect();
        let fates = accept_all_held(&server, acceptor, ids.clone(), "").await;
        for (event, copies) in fates.chunks(3).enumerate() {
            let stored = copies
                .iter()
                .filter(|f| **f == Ok(Accepted::Stored))
                .count();
            let duplicates = copies
                .iter()
                .filter(|f| **f == Ok(Accepted::Duplicate))
                .count();
            assert_eq!((stored, duplicates), (1, 2), "event {event}: {copies:?}");
        }
        assert_eq!(
            conn.count("SELECT count(*) FROM monime_deliveries").await,
            80
        );
        let aligned = "SELECT count(*) FROM monime_deliveries WHERE event_id = substr(key, 5) \
                       AND event_name = 'payment.completed' AND signature LIKE 't=%' \
                       AND convert_from(body, 'UTF8') LIKE '%\"id\":\"' || key || '\"%'";
        assert_eq!(conn.count(aligned).await, 80, "every column in its place");
        let inserts = conn
            .count("SELECT count(DISTINCT xmin::text) FROM monime_deliveries")
            .await;
        assert!(
            inserts <= 5,
            "{inserts} INSERTs for 240 deliveries: the held one, then 64 at most each"
        );

        // Stored before: a later delivery of any of them is a duplicate.
        let acceptor = Either::on_port(driver, &queue, server.port).await;
        let again = accept_all(&acceptor, &ids[..1], "").await;
        assert_eq!(again, vec![Ok(Accepted::Duplicate)]);
        let fresh = accept_all(&acceptor, &["wkd-new".to_owned()], "").await;
        assert_eq!(fresh, vec![Ok(Accepted::Stored)]);
    }));
}

/// `accept_many` on its own: one fate per delivery in order, the first of two with one key
/// stored; a batch the server refuses (a NUL in a text column) stores none of its deliveries.
fn accept_many_stores_each_key_once_or_nothing(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        let body = body("wkd-x");
        let at = |id: &'static str| delivery(id, "payment.completed", &body);
        let batch = [at("wkd-b"), at("wkd-a"), at("wkd-b"), at("wkd-c")];
        let fates = conn.accept_many(&queue, &batch).await.unwrap();
        use Accepted::{Duplicate, Stored};
        assert_eq!(fates, vec![Stored, Stored, Duplicate, Stored]);
        let refused = [at("wkd-d"), delivery("wkd-e", "pay\0ment", &body)];
        let error = conn.accept_many(&queue, &refused).await.unwrap_err();
        assert_eq!(error.as_deref(), Some("22021"));
        assert_eq!(
            conn.count("SELECT count(*) FROM monime_deliveries").await,
            3
        );
        let fates = conn.accept_many(&queue, &[at("wkd-c"), at("wkd-d")]).await;
        assert_eq!(fates, Ok(vec![Duplicate, Stored]));
        let columns = "SELECT count(*) FROM monime_deliveries WHERE event_id = substr(key, 5)";
        assert_eq!(conn.count(columns).await, 4);
    }));
}

/// A delivery the server refuses (an event name holding a NUL, which no text column takes)
/// in an INSERT with others: it alone fails, with the server's answer; the others are stored.
fn a_delivery_the_server_refuses_fails_alone(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        let acceptor = Either::on_port(driver, &queue, server.port).await;
        let mut ids: Vec<String> = (0..20).map(|i| format!("wkd-{i:02}")).collect();
        ids.insert(7, "wkd-07-bad".to_owned());
        let fates = accept_all_held(&server, acceptor, ids.clone(), "payment\0completed").await;
        for (id, fate) in ids.iter().zip(&fates) {
            if id.ends_with("-bad") {
                let (message, code) = fate.clone().unwrap_err();
                assert_eq!(code.as_deref(), Some("22021"), "{message}");
                assert!(
                    message.starts_with("the delivery is not known to be stored"),
                    "{message}"
                );
            } else {
                assert_eq!(fate, &Ok(Accepted::Stored), "{id}");
            }
        }
        assert_eq!(
            conn.count("SELECT count(*) FROM monime_deliveries").await,
            20
        );
    }));
}

/// With nothing listening where the pool points, every waiting delivery gets the error, soon:
/// none is reported stored, none waits forever.
fn a_database_that_cannot_be_reached_fails_every_delivery_promptly(driver: Driver) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    runtime().block_on(within(Duration::from_secs(30), async {
        let queue = PgQueue::new("monime_deliveries").unwrap();
        let acceptor = Either::on_port(driver, &queue, closed).await;
        let ids: Vec<String> = (0..10).map(|i| format!("wkd-{i}")).collect();
        for fate in accept_all(&acceptor, &ids, "").await {
            let (message, code) = fate.unwrap_err();
            assert!(
                message.starts_with("the delivery is not known to be stored"),
                "{message}"
            );
            assert_eq!(code, None, "no server answered: {message}");
        }
    }));
}

/// A server that takes the connection and never answers: past `STORE_TIME_LIMIT` (or the
/// pool's own wait, if shorter) every waiting delivery fails instead of holding its request.
fn a_database_that_does_not_answer_fails_every_delivery_within_the_limit(driver: Driver) {
    runtime().block_on(within(Duration::from_secs(30), async {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((peer, _)) = silent.accept().await {
                held.push(peer);
            }
        });
        let queue = PgQueue::new("monime_deliveries").unwrap();
        let acceptor = Either::on_port(driver, &queue, port).await;
        let ids: Vec<String> = (0..10).map(|i| format!("wkd-{i}")).collect();
        let started = std::time::Instant::now();
        for fate in accept_all(&acceptor, &ids, "").await {
            let (message, _) = fate.unwrap_err();
            assert!(
                message.starts_with("the delivery is not known to be stored"),
                "{message}"
            );
        }
        let waited = started.elapsed();
        assert!(
            waited <= STORE_TIME_LIMIT + Duration::from_secs(5),
            "{waited:?}"
        );
    }));
}
