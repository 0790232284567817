//! A webhook receiver: axum, signature verification, typed event data, and an inbox so each
//! event is processed exactly once however often Monime delivers it.
//!
//! ```sh
//! cargo run -p monime-inbox --example receiver
//! ```
//!
//! runs the receiver on a free loopback port with an in-memory inbox, then plays Monime: it
//! signs a `payment.completed` delivery and POSTs it twice, then a `payout.failed` one. With
//! `DATABASE_URL` set (a tokio-postgres connection string, e.g. `host=127.0.0.1 user=app
//! dbname=shop`), the inbox is a table in that database, and the handler's own write (a row in
//! `paid_orders`) commits in the same transaction as the claim.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use monime_inbox::{MemoryInbox, Outcome, PgInbox, PgProcessError};
use monime_signature::axum::{VerifiedEvent, WebhookVerifier};
use monime_signature::{EventData, PaymentChannel, Signer, Verifier};

/// In production the secret comes from your configuration (the webhook's HS256 secret).
const SECRET: &str = "example_secret_0123456789abcdef_0123";

enum Inbox {
    Memory(MemoryInbox),
    /// One connection keeps the example short; use a pool (deadpool-postgres, bb8) in a
    /// real service: each delivery needs its own connection for its transaction.
    Postgres(PgInbox, tokio::sync::Mutex<tokio_postgres::Client>),
}

#[derive(Clone)]
struct App {
    verifier: WebhookVerifier,
    inbox: Arc<Inbox>,
}

impl FromRef<App> for WebhookVerifier {
    fn from_ref(app: &App) -> WebhookVerifier {
        app.verifier.clone()
    }
}

/// What this shop does with an event; returns a line for the log.
fn describe(data: &EventData) -> String {
    match data {
        EventData::Payment(payment) => {
            let amount = payment.amount.as_ref().and_then(|a| a.value).unwrap_or(0);
            let via = match &payment.channel {
                Some(PaymentChannel::Momo(momo)) => {
                    format!("mobile money ({})", momo.provider.as_deref().unwrap_or("?"))
                }
                Some(PaymentChannel::Card(_)) => "card".to_owned(),
                Some(other) => other.type_name().unwrap_or("an unknown channel").to_owned(),
                None => "an unnamed channel".to_owned(),
            };
            format!("payment of {amount} minor units via {via}: mark the order paid")
        }
        EventData::Payout(payout) => {
            let code = payout.failure_detail.as_ref().and_then(|d| d.code.as_ref());
            format!(
                "payout {}: {}",
                payout.status.as_ref().map_or("?", |s| s.as_str()),
                code.map_or("no failure", |c| c.as_str())
            )
        }
        EventData::Unknown(_) => {
            "an object this release does not describe: stored as is".to_owned()
        }
        other => format!("{:?} event: nothing to do", other.object_type()),
    }
}

/// Answers 200 for processed and duplicate events, and a retryable status otherwise, so
/// Monime delivers again and the retry processes the event.
async fn receive(State(app): State<App>, delivery: VerifiedEvent) -> (StatusCode, String) {
    let id = delivery.event.id.clone();
    let data = match delivery.typed_data() {
        Ok(data) => data,
        // A body that verified but does not fit its type: keep the raw event for a person to
        // look at, and do not make Monime retry something that will never decode.
        Err(error) => return (StatusCode::OK, format!("{id}: kept for review ({error})")),
    };
    let outcome = match &*app.inbox {
        Inbox::Memory(inbox) => inbox
            .process(&id, async || Ok::<_, String>(describe(&data)))
            .await
            .map_err(|e| e.to_string()),
        Inbox::Postgres(inbox, client) => {
            let mut client = client.lock().await;
            inbox
                .process(&mut client, &id, async |tx| {
                    tx.execute(
                        "INSERT INTO paid_orders (event_id, object_id) VALUES ($1, $2)",
                        &[&id, &delivery.event.object.id],
                    )
                    .await?;
                    Ok::<_, tokio_postgres::Error>(describe(&data))
                })
                .await
                .map_err(|e: PgProcessError<_>| e.to_string())
        }
    };
    match outcome {
        Ok(Outcome::Processed(what)) => (StatusCode::OK, format!("{id}: processed, {what}")),
        Ok(Outcome::Duplicate) => (StatusCode::OK, format!("{id}: duplicate, ignored")),
        Ok(Outcome::InProgress) => (StatusCode::CONFLICT, format!("{id}: in progress")),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, format!("{id}: {error}")),
    }
}

async fn inbox() -> Result<Inbox, Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        let day = std::time::Duration::from_secs(24 * 3600);
        return Ok(Inbox::Memory(MemoryInbox::new(100_000, day)));
    };
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let inbox = PgInbox::new("monime_inbox")?;
    inbox.create_table(&client).await?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS paid_orders (event_id text PRIMARY KEY, object_id text)",
        )
        .await?;
    Ok(Inbox::Postgres(inbox, tokio::sync::Mutex::new(client)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = App {
        verifier: WebhookVerifier::new(Verifier::hs256(SECRET)?),
        inbox: Arc::new(inbox().await?),
    };
    let router = Router::new()
        .route("/hooks/monime", post(receive))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/monime", listener.local_addr()?);
    println!("receiver     {url}");
    tokio::spawn(async move { axum::serve(listener, router).await });

    // Play Monime: the same payment event twice (a retry), then a failed payout.
    let signer = Signer::hs256(SECRET)?;
    let http = reqwest::Client::new();
    let payment = delivery("wkd-example-1", "payment.completed", "pay-example");
    let payout = delivery("wkd-example-2", "payout.failed", "pyt-example");
    for body in [&payment, &payment, &payout] {
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
