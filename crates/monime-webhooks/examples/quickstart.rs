//! `cargo run --example quickstart`: the toolkit end to end.
//!
//! With no environment set, it starts the Monime emulator and a webhook receiver in this
//! process, then: creates an HS256 and an ES256 webhook pointing at the receiver, lists them,
//! updates one (clearing a field), triggers an event, receives both signed deliveries and
//! verifies them with monime-signature, and deletes both.
//!
//! With `MONIME_ACCESS_TOKEN` and `MONIME_SPACE_ID` set (and `MONIME_API_URL` if not
//! Monime's production API), it runs against that API instead, doing only what works
//! there: create, list, get, update, delete.

use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use futures_util::TryStreamExt;
use monime_mock::{DeliveryPolicy, MockConfig, MonimeMock};
use monime_webhooks::signature::{Event, Verifier};
use monime_webhooks::{Client, Error, Method, WebhookVerificationMethod};
use serde_json::json;
use tokio::sync::mpsc;

/// The HS256 secret of the demo webhook (what you would keep in a secret store).
const DEMO_SECRET: &str = "quickstart_secret_0123456789abcdef0123";

type Delivery = (String, HeaderMap, Bytes);

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = if std::env::var_os("MONIME_ACCESS_TOKEN").is_some()
        && std::env::var_os("MONIME_SPACE_ID").is_some()
    {
        against_an_api().await
    } else {
        against_the_emulator().await
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn against_the_emulator() -> Result<(), Box<dyn std::error::Error>> {
    let config = MockConfig {
        delivery: DeliveryPolicy::fast(),
        ..MockConfig::default()
    };
    let mock = MonimeMock::start_with(config, "127.0.0.1:0".parse()?).await?;
    println!(
        "emulator     {} (no Monime account needed)",
        mock.base_url()
    );
    let (receiver_url, mut deliveries) = start_receiver().await?;
    println!("receiver     {receiver_url}/hooks/<name>");

    let client = Client::builder()
        .access_token("mon_test_quickstart")
        .space_id("spc-quickstart")
        .api_url(mock.base_url())
        .build()?;

    let hs = client
        .create()
        .name("Orders (HS256)")
        .url(format!("{receiver_url}/hooks/hs256"))
        .event("payment.completed")
        .alert_email("ops@shop.example")
        .hs256(DEMO_SECRET)
        .send()
        .await?;
    let hs_id = hs.id.to_string();
    println!(
        "created      {hs_id} HS256 (request {})",
        hs.request_id().unwrap_or("-")
    );
    let es = client
        .create()
        .name("Orders (ES256)")
        .url(format!("{receiver_url}/hooks/es256"))
        .event("payment.completed")
        .es256()
        .send()
        .await?;
    let es_id = es.id.to_string();
    let Some(WebhookVerificationMethod::Es256 {
        public_key: Some(public_key),
    }) = &es.verification_method
    else {
        return Err("the ES256 webhook came back without its public key".into());
    };
    println!("created      {es_id} ES256, Monime generated its key pair");

    let all: Vec<_> = client.list_all().try_collect().await?;
    for webhook in &all {
        println!(
            "listed       {} {:?} -> {}",
            webhook.id.as_str(),
            webhook.name.as_str(),
            webhook.url.as_str()
        );
    }

    let updated = client
        .update(&hs_id)
        .name("Orders")
        .clear_alert_emails()
        .send()
        .await?;
    println!(
        "updated      {hs_id}: name {:?}, alert emails {:?} (cleared)",
        updated.name.as_str(),
        updated.alert_emails
    );

    let trigger = json!({
        "name": "payment.completed",
        "object": { "id": "pay-quickstart", "type": "payment" },
        "data": { "id": "pay-quickstart", "status": "completed", "amount": { "currency": "SLE", "value": 1500 } }
    });
    client
        .raw(Method::POST, "/_mock/events", Some(trigger))
        .await?;
    println!("triggered    payment.completed through the emulator");

    let hs_verifier = Verifier::hs256(DEMO_SECRET)?;
    let es_verifier = Verifier::es256(public_key)?;
    // One delivery of each kind, each verified with its own key: two of one kind (a retry)
    // and none of the other is a failure.
    let mut kinds = std::collections::BTreeSet::new();
    while kinds.len() < 2 {
        let (name, headers, body) =
            tokio::time::timeout(Duration::from_secs(10), deliveries.recv())
                .await?
                .ok_or("the receiver stopped")?;
        let verifier = match name.as_str() {
            "hs256" => &hs_verifier,
            "es256" => &es_verifier,
            other => return Err(format!("a delivery to an unknown hook `{other}`").into()),
        };
        if !kinds.insert(name.clone()) {
            return Err(format!("a second {name} delivery before the other kind arrived").into());
        }
        let verified = verifier.verify_headers(&headers, &body)?;
        let event = Event::parse(&body)?;
        println!(
            "received     {name}: {} {} on {} {}, signature valid (t={})",
            event.id, event.name, event.object.kind, event.object.id, verified.timestamp
        );
    }

    for id in [&hs_id, &es_id] {
        client.delete(id).await?;
        println!("deleted      {id}");
    }
    mock.shutdown().await;
    println!("done");
    Ok(())
}

async fn start_receiver() -> Result<(String, mpsc::Receiver<Delivery>), Box<dyn std::error::Error>>
{
    let (sender, receiver) = mpsc::channel::<Delivery>(8);
    async fn receive(
        State(sender): State<mpsc::Sender<Delivery>>,
        Path(name): Path<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> &'static str {
        let _ = sender.send((name, headers, body)).await;
        "ok"
    }
    let app = Router::new()
        .route("/hooks/{name}", post(receive))
        .with_state(sender);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, receiver))
}

/// Create, list, get, update and delete against the API the environment names.
async fn against_an_api() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    println!(
        "api          {} (space {})",
        client.api_url(),
        client.space_id()
    );
    let created = client
        .create()
        .name("monime-webhooks quickstart")
        .url("https://example.com/monime-webhooks-quickstart")
        .event("payment.completed")
        .alert_email("ops@example.com")
        .hs256(DEMO_SECRET)
        .send()
        .await?;
    let id = created.id.clone();
    println!(
        "created      {id} (request {})",
        created.request_id().unwrap_or("-")
    );
    let result = async {
        let count = client
            .list_all()
            .try_fold(0usize, |n, _| async move { Ok(n + 1) })
            .await?;
        println!("listed       {count} webhook(s) in the space");
        let got = client.get(&id).await?;
        println!("got          {id}: {:?}", got.name.as_str());
        let updated = client
            .update(&id)
            .enabled(false)
            .clear_alert_emails()
            .send()
            .await?;
        println!(
            "updated      {id}: enabled {:?}, alert emails {:?} (cleared)",
            updated.enabled, updated.alert_emails
        );
        Ok::<(), Error>(())
    }
    .await;
    // Delete even when a step above failed, so the quickstart leaves nothing behind.
    client.delete(&id).await?;
    println!("deleted      {id}");
    result?;
    println!("done");
    Ok(())
}
