//! `Acceptor`: deliveries arriving together are stored together, each exactly once, each
//! caller told its own delivery's fate; on a deadpool pool (tokio-postgres) and a `PgPool`.

use std::time::Duration;

use monime_inbox::{AcceptError, Accepted, Acceptor, Delivery, PgQueue};

use crate::drivers::{Driver, body, on_both_drivers};
use crate::server::PgServer;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn within<T>(limit: Duration, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .expect("a regression would hang here")
}

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
                    AcceptError::Stopped => None,
                };
                (e.to_string(), code)
            }),
            Either::Sqlx(acceptor) => acceptor.accept(delivery).await.map_err(|e| {
                let code = match &e {
                    AcceptError::Database(error) => error
                        .as_database_error()
                        .and_then(|e| e.code())
                        .map(|c| c.into_owned()),
                    AcceptError::Stopped => None,
                };
                (e.to_string(), code)
            }),
        }
    }
}

/// Every delivery of `ids` (with `name` as its event name), all sent at once.
async fn accept_all(acceptor: &Either, ids: &[String], name: &str) -> Vec<Fate> {
    let bodies: Vec<Vec<u8>> = ids.iter().map(|id| body(id)).collect();
    let sends = ids.iter().zip(&bodies).map(|(id, body)| async move {
        let delivery = Delivery {
            key: id,
            event_id: id,
            event_name: if id.ends_with("-bad") {
                name
            } else {
                "payment.completed"
            },
            body,
            signature: "t=1771803194,v1=AAAA",
        };
        acceptor.accept(&delivery).await
    });
    futures_util::future::join_all(sends).await
}

on_both_drivers!(
    deliveries_arriving_together_are_stored_together_each_once,
    a_delivery_the_server_refuses_fails_alone,
    a_database_that_cannot_be_reached_fails_every_delivery_promptly,
);

/// 300 deliveries at once, 100 events each delivered three times (a redelivery racing the
/// first): each event stored once, exactly one caller per event told `Stored`, the others
/// `Duplicate`; and fewer INSERTs than deliveries (rows of one INSERT share a transaction id).
fn deliveries_arriving_together_are_stored_together_each_once(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        let acceptor = Either::on_port(driver, &queue, server.port).await;
        let ids: Vec<String> = (0..300).map(|i| format!("wkd-{:03}", i % 100)).collect();
        let fates = accept_all(&acceptor, &ids, "").await;
        for event in 0..100 {
            let of_event: Vec<&Fate> = (0..3).map(|copy| &fates[event + 100 * copy]).collect();
            let stored = of_event
                .iter()
                .filter(|fate| ***fate == Ok(Accepted::Stored))
                .count();
            let duplicates = of_event
                .iter()
                .filter(|fate| ***fate == Ok(Accepted::Duplicate))
                .count();
            assert_eq!((stored, duplicates), (1, 2), "event {event}: {of_event:?}");
        }
        let rows = "SELECT count(*) FROM monime_deliveries";
        assert_eq!(conn.count(rows).await, 100);
        let inserts = conn
            .count("SELECT count(DISTINCT xmin::text) FROM monime_deliveries")
            .await;
        assert!(inserts < 100, "{inserts} INSERTs for 100 rows: none shared");

        // Stored before: a later delivery of any of them is a duplicate.
        let again = accept_all(&acceptor, &ids[..1], "").await;
        assert_eq!(again, vec![Ok(Accepted::Duplicate)]);
        let fresh = accept_all(&acceptor, &["wkd-new".to_owned()], "").await;
        assert_eq!(fresh, vec![Ok(Accepted::Stored)]);
    }));
}

/// A delivery the server refuses (an event name holding a NUL, which no text column takes)
/// among others: it alone fails, with the server's answer; the others are stored.
fn a_delivery_the_server_refuses_fails_alone(driver: Driver) {
    let server = PgServer::start();
    runtime().block_on(within(Duration::from_secs(60), async {
        let mut conn = driver.connect(&server).await;
        let queue = PgQueue::new("monime_deliveries").unwrap();
        conn.create_queue(&queue).await;
        let acceptor = Either::on_port(driver, &queue, server.port).await;
        let mut ids: Vec<String> = (0..20).map(|i| format!("wkd-{i:02}")).collect();
        ids.insert(7, "wkd-07-bad".to_owned());
        let fates = accept_all(&acceptor, &ids, "payment\0completed").await;
        for (id, fate) in ids.iter().zip(&fates) {
            if id.ends_with("-bad") {
                let (message, code) = fate.clone().unwrap_err();
                assert_eq!(code.as_deref(), Some("22021"), "{message}");
                assert!(
                    message.starts_with("the delivery was not stored"),
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
        let fates = accept_all(&acceptor, &ids, "").await;
        for fate in fates {
            let (message, code) = fate.unwrap_err();
            assert!(
                message.starts_with("the delivery was not stored"),
                "{message}"
            );
            assert_eq!(code, None, "no server answered: {message}");
        }
    }));
}
