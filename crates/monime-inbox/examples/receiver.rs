//! A webhook receiver worth copying: axum, signature verification, durable accept, typed
//! events processed exactly once by workers, and nothing lost.
//!
//! ```sh
//! DATABASE_URL=postgres://app@127.0.0.1/shop cargo run -p monime-inbox --example receiver
//! ```
//!
//! The receiver verifies each delivery, stores it in `monime_deliveries` (deliveries that
//! arrive together share one INSERT) and answers 200 once it is stored; two workers (in this process here, in as many processes as you like in
//! production) process the stored deliveries, each in a transaction that also writes the
//! shop's own rows. The example then plays Monime: a `payment.completed` delivered twice, a
//! `payout.failed`, a delivery with a bad signature, and one whose object does not decode,
//! which is kept as `dead` for an operator (`monime-webhooks inbox list --status dead`).

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use monime_inbox::{Accepted, Acceptor, Delivery, Job, PgQueue, RetryPolicy, Status, Worked};
use monime_signature::axum::{VerifiedEvent, WebhookVerifier};
use monime_signature::{EventData, Signer, Verifier};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// In production the secret comes from your configuration (the webhook's HS256 secret).
const SECRET: &str = "example_secret_0123456789abcdef_0123";

#[derive(Clone)]
struct App {
    verifier: WebhookVerifier,
    acceptor: Acceptor<sqlx::Error>,
}

impl FromRef<App> for WebhookVerifier {
    fn from_ref(app: &App) -> WebhookVerifier {
        app.verifier.clone()
    }
}

/// The receiver: what Monime should see for each outcome.
/// - 401 (from the extractor): the signature does not verify. Monime retries; the extractor
///   logs why (`tracing`, target `monime_signature`).
/// - 200: stored, or stored before (a redelivery). A worker does the rest.
/// - 503: the database did not take it. Nothing was stored, so Monime must retry.
async fn receive(State(app): State<App>, delivery: VerifiedEvent) -> (StatusCode, String) {
    let stored = Delivery::new(&delivery.event, &delivery.raw, &delivery.signature);
    match app.acceptor.accept(&stored).await {
        Ok(Accepted::Stored) => (StatusCode::OK, "stored".to_owned()),
        Ok(Accepted::Duplicate) => (StatusCode::OK, "stored before".to_owned()),
        Err(error) => {
            eprintln!("{}: not stored: {error}", delivery.event.id);
            (StatusCode::SERVICE_UNAVAILABLE, "try again".to_owned())
        }
    }
}

/// What this shop does with one event, in the job's transaction: its writes commit exactly
/// when the delivery is marked done. An error rolls them back and the delivery is retried;
/// one that can never succeed is set aside at once.
async fn handle(tx: &mut sqlx::PgConnection, job: &Job) -> Result<String, String> {
    let event = job.event().map_err(|e| e.to_string())?;
    let data = match event.typed_data() {
        Ok(data) => data,
        Err(error) => {
            // Retrying will not make it decode: keep it for a person, do not drop it.
            job.set_aside();
            return Err(format!("does not decode: {error}"));
        }
    };
    match data {
        EventData::Payment(payment) => {
            let amount = payment.amount.as_ref().and_then(|a| a.value).unwrap_or(0);
            sqlx::query("INSERT INTO paid_orders (payment_id, amount) VALUES ($1, $2)")
                .bind(&event.object.id)
                .bind(amount)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!(
                "payment of {amount} minor units: order marked paid"
            ))
        }
        EventData::Payout(payout) => {
            let code = payout.failure_detail.as_ref().and_then(|d| d.code.as_ref());
            Ok(format!(
                "payout {}: {}",
                payout.status.as_ref().map_or("?", |s| s.as_str()),
                code.map_or("no failure", |c| c.as_str())
            ))
        }
        other => Ok(format!("{:?}: nothing to do", other.object_type())),
    }
}

/// A worker: leases due deliveries and runs `handle` on each, until `stop` says so.
async fn worker(
    queue: PgQueue,
    pool: PgPool,
    name: &'static str,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let policy = RetryPolicy::default();
    while !*stop.borrow() {
        let reports = match pool.acquire().await {
            Ok(mut conn) => queue.work_sqlx(&mut conn, &policy, handle).await,
            Err(error) => Err(error),
        };
        match reports {
            Ok(reports) if reports.is_empty() => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(reports) => {
                for report in reports {
                    let outcome = match &report.outcome {
                        Worked::Processed(what) => what.clone(),
                        other => other.to_string(),
                    };
                    println!("{name}     {} {}", report.event_id, outcome);
                }
            }
            Err(error) => {
                eprintln!("{name}: the database failed, trying again: {error}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "set DATABASE_URL to a PostgreSQL database, e.g. \
             DATABASE_URL=postgres://app@127.0.0.1/shop"
        );
        std::process::exit(2);
    };
    // One pool for the receiver and the workers: the acceptor takes a connection for each
    // INSERT, each job gets its own, so nothing waits on a single one.
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await?;
    let queue = PgQueue::new("monime_deliveries")?;
    queue.create_table_sqlx(&mut *pool.acquire().await?).await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS paid_orders (payment_id text PRIMARY KEY, amount bigint)",
    )
    .execute(&pool)
    .await?;

    let app = App {
        verifier: WebhookVerifier::new(Verifier::hs256(SECRET)?),
        acceptor: queue.acceptor_sqlx(pool.clone()),
    };
    let router = Router::new()
        .route("/hooks/monime", post(receive))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/monime", listener.local_addr()?);
    println!("receiver     {url}");
    tokio::spawn(async move { axum::serve(listener, router).await });
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = ["worker-1", "worker-2"]
        .into_iter()
        .map(|name| tokio::spawn(worker(queue.clone(), pool.clone(), name, stopping.clone())))
        .collect();

    // Play Monime.
    let signer = Signer::hs256(SECRET)?;
    let http = reqwest::Client::new();
    let payment = delivery("wkd-example-1", "payment.completed", "pay-example");
    let payout = delivery("wkd-example-2", "payout.failed", "pyt-example");
    let undecodable = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-example-3","name":"payment.completed","timestamp":"1771803194"},"object":{"id":"pay-odd","type":"payment"},"data":{"id":"pay-odd","amount":"a lot"}}"#.to_vec();
    let forged = Signer::hs256("not_the_secret_0123456789abcdef_0123")?;
    let sends = [
        (&payment, &signer),
        (&payment, &signer),
        (&payout, &signer),
        (&payout, &forged),
        (&undecodable, &signer),
    ];
    for (body, signer) in sends {
        let response = http
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Monime-Signature", signer.sign_now(body))
            .body(body.clone())
            .send()
            .await?;
        println!(
            "delivered    {} {}",
            response.status().as_u16(),
            response.text().await?
        );
    }

    // Wait for the workers to finish what is due, stop them (each ends its batch and prints
    // it first), then show what an operator would see.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !queue
        .list_sqlx(&pool, Some(Status::Pending), 10)
        .await?
        .is_empty()
    {
        if tokio::time::Instant::now() > deadline {
            return Err("the workers did not finish within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    for worker in workers {
        worker.await?;
    }
    for dead in queue.list_sqlx(&pool, Some(Status::Dead), 10).await? {
        println!(
            "dead         {} {}",
            dead.key,
            dead.last_error.unwrap_or_default()
        );
    }
    Ok(())
}

/// A delivery body as Monime sends it, with realistic data for the event.
fn delivery(id: &str, name: &str, object_id: &str) -> Vec<u8> {
    let name = monime_signature::EventName::from(name);
    monime_signature::Event {
        api_version: "caph.2025-08-23".to_owned(),
        id: id.to_owned(),
        timestamp: 1_771_803_194,
        object: monime_signature::ObjectRef {
            id: object_id.to_owned(),
            kind: name.object_type().to_owned(),
        },
        data: serde_json::to_value(monime_signature::sample(name.as_str(), object_id))
            .unwrap_or_default(),
        name,
    }
    .to_json()
}
