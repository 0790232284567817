//! `cargo bench -p monime-inbox --bench queue`: the durable path against its floors, both
//! sides in the same run, rounds interleaved (order swapped each round), medians compared. The
//! bench starts its own PostgreSQL 15 on 127.0.0.1 (see `tests/it/server.rs`).
//!
//! - **Accept**: 16 senders POST signed deliveries to an axum receiver at once. Ours verifies
//!   the signature (the axum extractor) and stores with an `Acceptor` (deliveries arriving
//!   together share an INSERT); the floor is an axum handler doing one bare prepared INSERT of
//!   the body. Per driver, both on one pool of 16 connections (deadpool-postgres, sqlx's
//!   `PgPool`). Goal: at least 0.85x the floor's throughput.
//! - **Processing**: 4 workers drain the same number of stored deliveries. Ours is
//!   `PgQueue::work` with a handler that writes nothing; the floor is the bare loop (BEGIN,
//!   `SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1`, UPDATE, COMMIT). Goal: at least 0.85x.

#[path = "../tests/it/server.rs"]
#[allow(dead_code, reason = "the tests use all of it, the bench a part")]
mod server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use deadpool_postgres::{Manager, Pool};
use monime_inbox::{Acceptor, Delivery, PgQueue, RetryPolicy};
use monime_signature::axum::{VerifiedEvent, WebhookVerifier};
use monime_signature::{Signer, Verifier};

const SECRET: &str = "bench_secret_0123456789abcdef_0123456";
const SENDERS: usize = 16;
const PER_SENDER: usize = 25;
const WORKERS: usize = 4;
const JOBS: usize = 400;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn body() -> Vec<u8> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    format!(
        r#"{{"apiVersion":"caph.2025-08-23","event":{{"id":"wkd-{id:012}","name":"payment.completed","timestamp":"1771803194"}},"object":{{"id":"pay-{id}","type":"payment"}},"data":{{"id":"pay-{id}","status":"completed","amount":{{"currency":"SLE","value":1500}}}}}}"#
    )
    .into_bytes()
}

#[derive(Clone)]
struct App {
    verifier: WebhookVerifier,
    acceptor: Acceptor<deadpool_postgres::PoolError>,
    acceptor_sqlx: Acceptor<sqlx::Error>,
    pool: Pool,
    sqlx: sqlx::PgPool,
}

impl axum::extract::FromRef<App> for WebhookVerifier {
    fn from_ref(app: &App) -> WebhookVerifier {
        app.verifier.clone()
    }
}

async fn ours(State(app): State<App>, delivery: VerifiedEvent) -> StatusCode {
    let stored = Delivery::new(&delivery.event, &delivery.raw, &delivery.signature);
    app.acceptor.accept(&stored).await.unwrap();
    StatusCode::OK
}

async fn ours_sqlx(State(app): State<App>, delivery: VerifiedEvent) -> StatusCode {
    let stored = Delivery::new(&delivery.event, &delivery.raw, &delivery.signature);
    app.acceptor_sqlx.accept(&stored).await.unwrap();
    StatusCode::OK
}

async fn floor_sqlx(State(app): State<App>, body: axum::body::Bytes) -> StatusCode {
    sqlx::query("INSERT INTO bare_accept (body) VALUES ($1)")
        .bind(&body[..])
        .execute(&app.sqlx)
        .await
        .unwrap();
    StatusCode::OK
}

async fn floor(State(app): State<App>, body: axum::body::Bytes) -> StatusCode {
    let conn = app.pool.get().await.unwrap();
    let insert = conn
        .prepare_cached("INSERT INTO bare_accept (body) VALUES ($1)")
        .await
        .unwrap();
    conn.execute(&insert, &[&&body[..]]).await.unwrap();
    StatusCode::OK
}

/// One accept round: every sender posts its deliveries one after the other, all at once.
async fn accept_round(http: &reqwest::Client, url: &str, signer: &Signer) -> Duration {
    let bodies: Vec<Vec<(Vec<u8>, String)>> = (0..SENDERS)
        .map(|_| {
            (0..PER_SENDER)
                .map(|_| {
                    let body = body();
                    let header = signer.sign_now(&body);
                    (body, header)
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    let senders = bodies.into_iter().map(|deliveries| async move {
        for (body, header) in deliveries {
            let status = http
                .post(url)
                .header("Content-Type", "application/json")
                .header("Monime-Signature", header)
                .body(body)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 200);
        }
    });
    futures_util::future::join_all(senders).await;
    started.elapsed()
}

async fn noop(
    _tx: &tokio_postgres::Transaction<'_>,
    _job: &monime_inbox::Job,
) -> Result<(), String> {
    Ok(())
}

/// One processing round: fill, then time `WORKERS` workers draining it, on tokio-postgres
/// (`sqlx` = None) or on sqlx.
async fn work_round(
    pool: &Pool,
    sqlx: Option<&sqlx::PgPool>,
    queue: &PgQueue,
    ours: bool,
) -> Duration {
    let conn = pool.get().await.unwrap();
    if ours {
        for _ in 0..JOBS {
            let body = body();
            let event = monime_signature::Event::parse(&body).unwrap();
            queue
                .accept(&**conn, &Delivery::new(&event, &body, "t=1,v1=AAAA"))
                .await
                .unwrap();
        }
    } else {
        conn.execute(
            "INSERT INTO bare_jobs (id, body, status) SELECT 'j' || g || '-' || $1::text, \
             convert_to(repeat('x', 300), 'UTF8'), 'pending' FROM generate_series(1, $2::int) g",
            &[
                &NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string(),
                &(JOBS as i32),
            ],
        )
        .await
        .unwrap();
    }
    drop(conn);
    let policy = RetryPolicy::default();
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (pool, queue, policy) = (pool.clone(), queue.clone(), policy.clone());
            let sqlx = sqlx.cloned();
            tokio::spawn(async move {
                match sqlx {
                    None => drain(&pool, &queue, &policy, ours).await,
                    Some(sqlx) => drain_sqlx(&sqlx, &queue, &policy, ours).await,
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    started.elapsed()
}

async fn drain(pool: &Pool, queue: &PgQueue, policy: &RetryPolicy, ours: bool) {
    let mut conn = pool.get().await.unwrap();
    loop {
        if ours {
            if queue
                .work(&mut conn, policy, noop)
                .await
                .unwrap()
                .is_empty()
            {
                return;
            }
            continue;
        }
        let tx = conn.transaction().await.unwrap();
        let leased = tx
            .query_opt(
                "SELECT id FROM bare_jobs WHERE status = 'pending' LIMIT 1 FOR UPDATE SKIP LOCKED",
                &[],
            )
            .await
            .unwrap();
        let Some(row) = leased else { return };
        let id: String = row.get(0);
        tx.execute("UPDATE bare_jobs SET status = 'done' WHERE id = $1", &[&id])
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn noop_sqlx(_tx: &mut sqlx::PgConnection, _job: &monime_inbox::Job) -> Result<(), String> {
    Ok(())
}

async fn drain_sqlx(pool: &sqlx::PgPool, queue: &PgQueue, policy: &RetryPolicy, ours: bool) {
    let mut conn = pool.acquire().await.unwrap();
    loop {
        if ours {
            if queue
                .work_sqlx(&mut conn, policy, noop_sqlx)
                .await
                .unwrap()
                .is_empty()
            {
                return;
            }
            continue;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        let leased: Option<String> = sqlx::query_scalar(
            "SELECT id FROM bare_jobs WHERE status = 'pending' LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
        let Some(id) = leased else { return };
        sqlx::query("UPDATE bare_jobs SET status = 'done' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() {
    let rounds = if std::env::args().any(|arg| arg == "--bench") {
        21
    } else {
        2
    };
    let server = server::PgServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let manager = Manager::new(server.config(), tokio_postgres::NoTls);
        let pool = Pool::builder(manager).max_size(SENDERS).build().unwrap();
        // The receiver stores into a queue of its own, so the processing rounds see only the
        // deliveries they filled.
        let queue = PgQueue::new("monime_deliveries").unwrap();
        let accepting = PgQueue::new("accepted_deliveries").unwrap();
        let setup = pool.get().await.unwrap();
        queue.create_table(&**setup).await.unwrap();
        accepting.create_table(&**setup).await.unwrap();
        setup
            .batch_execute(
                "CREATE TABLE bare_accept (id bigserial PRIMARY KEY, body bytea NOT NULL); \
                 CREATE TABLE bare_jobs (id text PRIMARY KEY, body bytea NOT NULL, \
                 status text NOT NULL); \
                 CREATE INDEX ON bare_jobs (id) WHERE status = 'pending'",
            )
            .await
            .unwrap();
        drop(setup);
        let sqlx_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(SENDERS as u32)
            .connect(&format!("postgres://postgres@127.0.0.1:{}/postgres", server.port))
            .await
            .unwrap();
        let app = App {
            verifier: WebhookVerifier::new(Verifier::hs256(SECRET).unwrap()),
            acceptor: accepting.acceptor(pool.clone()),
            acceptor_sqlx: accepting.acceptor_sqlx(sqlx_pool.clone()),
            pool: pool.clone(),
            sqlx: sqlx_pool.clone(),
        };
        let router = axum::Router::new()
            .route("/ours", post(ours))
            .route("/floor", post(floor))
            .route("/ours_sqlx", post(ours_sqlx))
            .route("/floor_sqlx", post(floor_sqlx))
            .with_state(app);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        let http = reqwest::Client::new();
        let signer = Signer::hs256(SECRET).unwrap();
        let url = |path: &str| format!("{base}/{path}");

        // Per driver: accept rounds (ours, floor) and processing rounds (ours, floor).
        let drivers: [(&str, Option<&sqlx::PgPool>, [String; 2]); 2] = [
            ("tokio-postgres", None, [url("ours"), url("floor")]),
            ("sqlx", Some(&sqlx_pool), [url("ours_sqlx"), url("floor_sqlx")]),
        ];
        for (_, _, urls) in &drivers {
            for url in urls {
                accept_round(&http, url, &signer).await;
            }
        }
        let mut times = vec![[Vec::new(), Vec::new(), Vec::new(), Vec::new()]; drivers.len()];
        for round in 0..rounds {
            for (d, (_, sqlx, urls)) in drivers.iter().enumerate() {
                let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
                for side in order {
                    times[d][side].push(accept_round(&http, &urls[side], &signer).await);
                    let ours = side == 0;
                    times[d][2 + side].push(work_round(&pool, *sqlx, &queue, ours).await);
                }
            }
        }
        let rate = |times: &mut Vec<Duration>, n: usize| n as f64 / median(times).as_secs_f64();
        let verdict = |ratio: f64| if ratio >= 0.85 { "meets" } else { "MISSES" };
        println!("\nDurable path, interleaved ({rounds} rounds of each side, medians; goal >= 0.85x):");
        for (d, (name, _, _)) in drivers.iter().enumerate() {
            let [accept_ours, accept_floor, work_ours, work_floor] = &mut times[d];
            let (a, af) = (rate(accept_ours, SENDERS * PER_SENDER), rate(accept_floor, SENDERS * PER_SENDER));
            let (w, wf) = (rate(work_ours, JOBS), rate(work_floor, JOBS));
            println!(
                "  {name:<14} accept ({SENDERS} senders)   {a:6.0}/s vs bare INSERT {af:6.0}/s = {:.3}x ({})",
                a / af,
                verdict(a / af)
            );
            println!(
                "  {name:<14} processing ({WORKERS} workers) {w:6.0}/s vs bare SKIP LOCKED loop {wf:6.0}/s = {:.3}x ({})",
                w / wf,
                verdict(w / wf)
            );
        }
    });
}
