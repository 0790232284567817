//! Event deliveries to a real receiver on 127.0.0.1. Signatures are checked here with plain
//! hmac/p256 calls, independently of monime-signature, which the emulator signs with.

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Api, SECRET, fast_mock, start_receiver, valid_body};
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::{Value, json};

async fn trigger(api: &Api, name: &str) -> Value {
    let request = api
        .request(reqwest::Method::POST, "/_mock/events")
        .json(&json!({
            "name": name,
            "object": { "id": "scs-1", "type": "checkout_session" },
            "data": { "id": "scs-1", "status": "completed" }
        }));
    let reply = Api::send(request).await;
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    reply.body["result"].clone()
}

fn signature_parts(headers: &HeaderMap) -> (String, String) {
    let header = headers.get("monime-signature").unwrap().to_str().unwrap();
    let (t, v1) = header.split_once(',').unwrap();
    (
        t.strip_prefix("t=").unwrap().to_owned(),
        v1.strip_prefix("v1=").unwrap().to_owned(),
    )
}

#[tokio::test]
async fn hs256_and_es256_deliveries_arrive_signed() {
    let (mock, api) = fast_mock().await;
    let (url, receiver) = start_receiver(vec![]).await;
    let mut hs = valid_body();
    hs["url"] = json!(format!("{url}/hs"));
    hs["events"] = json!(["checkout_session.completed"]);
    hs["headers"] = json!({ "X-Shop": "main" });
    api.create_id(&hs).await;
    let mut es = hs.clone();
    es["url"] = json!(format!("{url}/es"));
    es["verificationMethod"] = json!({ "type": "ES256" });
    let es_id = api.create_id(&es).await;
    let public_pem = api.get(&es_id).await.body["result"]["verificationMethod"]["publicKey"]
        .as_str()
        .unwrap()
        .to_owned();

    let result = trigger(&api, "checkout_session.completed").await;
    assert_eq!(result["deliveries"].as_array().unwrap().len(), 2);
    assert!(mock.settle(Duration::from_secs(10)).await);

    let received = receiver.received.lock().unwrap().clone();
    let mut paths: Vec<&str> = received.iter().map(|(p, _, _)| p.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/es", "/hs"], "one delivery of each kind");
    for (path, headers, body) in &received {
        assert_eq!(headers.get("content-type").unwrap(), "application/json");
        assert_eq!(headers.get("x-shop").unwrap(), "main");
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["apiVersion"], "caph.2025-08-23");
        assert!(event["event"]["id"].as_str().unwrap().starts_with("wkd-"));
        assert_eq!(event["event"]["name"], "checkout_session.completed");
        let timestamp = event["event"]["timestamp"]
            .as_str()
            .expect("a string of Unix seconds");
        assert!(timestamp.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(
            event["object"],
            json!({ "id": "scs-1", "type": "checkout_session" })
        );
        assert_eq!(event["data"]["status"], "completed");

        let (t, v1) = signature_parts(headers);
        assert_eq!(t, timestamp);
        let mut signed = format!("{t}_").into_bytes();
        signed.extend_from_slice(body);
        if path == "/hs" {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(&signed);
            assert_eq!(
                v1,
                STANDARD.encode(mac.finalize().into_bytes()),
                "HS256 per the facts"
            );
        } else {
            let key = VerifyingKey::from_public_key_pem(&public_pem).unwrap();
            let der = STANDARD.decode(&v1).expect("standard base64");
            let signature = Signature::from_der(&der).expect("DER");
            key.verify(&signed, &signature)
                .expect("ES256 verifies with the webhook's publicKey");
        }
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_every_attempt_listed() {
    let (mock, api) = fast_mock().await;
    let (url, receiver) = start_receiver(vec![500, 503]).await;
    let mut body = valid_body();
    body["url"] = json!(format!("{url}/flaky"));
    let id = api.create_id(&body).await;
    trigger(&api, "payment.completed").await;
    assert!(mock.settle(Duration::from_secs(10)).await);
    let attempts = mock.deliveries();
    let summary: Vec<(u32, Option<u16>)> = attempts.iter().map(|a| (a.attempt, a.status)).collect();
    assert_eq!(summary, [(1, Some(500)), (2, Some(503)), (3, Some(200))]);
    assert!(attempts.iter().all(|a| a.webhook_id == id));
    let event_ids: std::collections::BTreeSet<_> =
        attempts.iter().map(|a| a.event_id.clone()).collect();
    assert_eq!(event_ids.len(), 1, "retries keep the event id");
    assert_eq!(receiver.received.lock().unwrap().len(), 3);

    let listed = Api::send(api.request(reqwest::Method::GET, "/_mock/deliveries")).await;
    let listed = listed.body["result"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[2]["attempt"], 3);
    assert_eq!(listed[2]["status"], 200);
    assert_eq!(listed[0]["webhookId"], json!(id));
    mock.shutdown().await;
}

#[tokio::test]
async fn unreachable_targets_give_up_after_the_attempt_limit() {
    let (mock, api) = fast_mock().await;
    let mut body = valid_body();
    body["url"] = json!("http://127.0.0.1:9/closed");
    api.create_id(&body).await;
    trigger(&api, "payment.completed").await;
    assert!(mock.settle(Duration::from_secs(10)).await);
    let attempts = mock.deliveries();
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts
            .iter()
            .all(|a| a.status.is_none() && a.error.is_some())
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn only_enabled_subscribed_webhooks_of_the_space_receive_events() {
    let (mock, api) = fast_mock().await;
    let (url, receiver) = start_receiver(vec![]).await;
    let mut subscribed = valid_body();
    subscribed["url"] = json!(format!("{url}/yes"));
    api.create_id(&subscribed).await;
    let mut disabled = subscribed.clone();
    disabled["url"] = json!(format!("{url}/disabled"));
    disabled["enabled"] = json!(false);
    api.create_id(&disabled).await;
    let mut other_event = subscribed.clone();
    other_event["url"] = json!(format!("{url}/other-event"));
    other_event["events"] = json!(["payout.failed"]);
    api.create_id(&other_event).await;
    let mut other_space = subscribed.clone();
    other_space["url"] = json!(format!("{url}/other-space"));
    api.in_space("spc-elsewhere").create_id(&other_space).await;

    let result = trigger(&api, "payment.completed").await;
    assert_eq!(result["deliveries"].as_array().unwrap().len(), 1);
    assert!(mock.settle(Duration::from_secs(10)).await);
    let paths: Vec<String> = receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(p, _, _)| p.clone())
        .collect();
    assert_eq!(paths, ["/yes"]);
    let bad = Api::send(
        api.request(reqwest::Method::POST, "/_mock/events")
            .json(&json!({ "object": {} })),
    )
    .await;
    bad.assert_error(400, "invalid_request");
    mock.shutdown().await;
}

/// `/_mock/events` without `data` sends a realistic object built from the typed objects, so
/// what the emulator sends is what a receiver's typed API decodes.
#[tokio::test]
async fn default_data_decodes_through_the_typed_api() {
    let (mock, api) = fast_mock().await;
    let (url, receiver) = start_receiver(vec![]).await;
    let names = [
        ("payment.completed", "payment", "pay-1"),
        ("payout.failed", "payout", "pyt-1"),
        ("checkout_session.expired", "checkout_session", "scs-1"),
        ("payment_code.completed", "payment_code", "pmc-1"),
    ];
    let mut body = valid_body();
    body["url"] = json!(format!("{url}/typed"));
    body["events"] = json!(names.iter().map(|(name, _, _)| *name).collect::<Vec<_>>());
    api.create_id(&body).await;
    for (name, kind, id) in names {
        let request = api
            .request(reqwest::Method::POST, "/_mock/events")
            .json(&json!({ "name": name, "object": { "id": id, "type": kind } }));
        let reply = Api::send(request).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
    }
    assert!(mock.settle(Duration::from_secs(10)).await);
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), names.len());
    for (_, _, bytes) in &received {
        let event = monime_signature::Event::parse(bytes).unwrap();
        let data = event.typed_data().unwrap();
        assert_eq!(data.object_type(), Some(event.object.kind.as_str()));
        assert_eq!(event.data["id"], json!(event.object.id));
        let status = event.name.as_str().split_once('.').unwrap().1;
        assert_eq!(event.data["status"], status, "{}", event.name);
    }
    mock.shutdown().await;
}

/// A receiver that redirects is not followed: the body and its signature never reach the
/// other host, and each attempt records the 3xx and where it pointed, as a failure retried.
#[tokio::test]
async fn a_redirecting_receiver_is_not_followed() {
    let (mock, api) = fast_mock().await;
    let (elsewhere, other_host) = start_receiver(vec![]).await;
    let location = format!("{elsewhere}/stolen");
    let redirecting = Router::new().route(
        "/{*path}",
        post({
            let location = location.clone();
            move || async move { (StatusCode::TEMPORARY_REDIRECT, [("location", location)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirecting).await.unwrap() });
    let mut body = valid_body();
    body["url"] = json!(url);
    api.create_id(&body).await;
    trigger(&api, "payment.completed").await;
    assert!(mock.settle(Duration::from_secs(10)).await);
    let attempts = mock.deliveries();
    assert!(!attempts.is_empty());
    for attempt in &attempts {
        assert_eq!(attempt.status, Some(307), "{attempt:?}");
        assert_eq!(attempt.location.as_deref(), Some(location.as_str()));
    }
    assert!(
        attempts.len() > 1,
        "a redirect is a failed attempt, retried"
    );
    assert!(
        other_host.received.lock().unwrap().is_empty(),
        "nothing reached the Location host"
    );
    let listed = Api::send(api.request(reqwest::Method::GET, "/_mock/deliveries")).await;
    assert_eq!(listed.body["result"][0]["location"], json!(location));
    mock.shutdown().await;
}

/// `/_mock/events` with `set` changes fields of the sample, checked against the object's
/// type: the receiver gets the shaped object, and a value the type refuses is a 400 naming
/// its path, with nothing delivered.
#[tokio::test]
async fn events_are_shaped_with_set_and_checked_against_the_type() {
    let (mock, api) = fast_mock().await;
    let (url, receiver) = start_receiver(vec![]).await;
    let mut body = valid_body();
    body["url"] = json!(format!("{url}/shaped"));
    body["events"] = json!(["payment.completed"]);
    api.create_id(&body).await;
    let shaped = json!({
        "name": "payment.completed",
        "object": { "id": "pay-9", "type": "payment" },
        "set": { "data.amount.value": 5000, "data.status": "failed" },
    });
    let reply = Api::send(
        api.request(reqwest::Method::POST, "/_mock/events")
            .json(&shaped),
    )
    .await;
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    let refused = json!({
        "name": "payment.completed",
        "object": { "id": "pay-10", "type": "payment" },
        "set": { "data.amount.value": "lots" },
    });
    let reply = Api::send(
        api.request(reqwest::Method::POST, "/_mock/events")
            .json(&refused),
    )
    .await;
    reply.assert_error(400, "invalid_request");
    assert!(
        reply.body.to_string().contains("data.amount.value"),
        "{:#}",
        reply.body
    );
    assert!(mock.settle(Duration::from_secs(10)).await);
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "the refused event was not delivered");
    let event = monime_signature::Event::parse(&received[0].2).unwrap();
    let monime_signature::EventData::Payment(payment) = event.typed_data().unwrap() else {
        panic!("a payment");
    };
    assert_eq!(payment.amount.and_then(|a| a.value), Some(5000));
    assert_eq!(
        payment.status.map(|s| s.as_str().to_owned()).as_deref(),
        Some("failed")
    );
    mock.shutdown().await;
}
