//! `Event::typed_data`, `TypedEvent::parse` and the axum extractor reach the typed objects.

use monime_signature::axum::{VerifiedEvent, WebhookVerifier};
use monime_signature::{
    Error, Event, EventData, EventName, ObjectRef, PaymentChannel, PaymentStatus, Signer,
    TypedEvent, Verifier,
};
use serde_json::json;

const SECRET: &str = "test_secret_for_vector_0123456789abcdef";

fn body(object_type: &str, data: serde_json::Value) -> Vec<u8> {
    Event {
        api_version: "caph.2025-08-23".into(),
        id: "wkd-typed".into(),
        name: EventName::from(format!("{object_type}.completed")),
        timestamp: 1_771_803_194,
        object: ObjectRef {
            id: "obj-1".into(),
            kind: object_type.into(),
        },
        data,
    }
    .to_json()
}

#[test]
fn typed_data_decodes_by_object_type_and_keeps_the_raw_data() {
    let raw = json!({ "id": "pay-1", "status": "completed", "amount": { "currency": "SLE", "value": 1500 },
        "channel": { "type": "momo", "provider": "m17" } });
    let event = Event::parse(&body("payment", raw.clone())).unwrap();
    let EventData::Payment(payment) = event.typed_data().unwrap() else {
        panic!()
    };
    assert_eq!(payment.status, Some(PaymentStatus::Completed));
    assert!(matches!(payment.channel, Some(PaymentChannel::Momo(_))));
    assert_eq!(event.data, raw, "the untyped data stays available");
}

#[test]
fn typed_event_parse_matches_parse_then_typed_data() {
    for name in EventName::KNOWN {
        let data = monime_signature::sample(name.as_str(), "obj-1");
        let bytes = body(name.object_type(), serde_json::to_value(&data).unwrap());
        let event = Event::parse(&bytes).unwrap();
        let typed = TypedEvent::parse(&bytes).unwrap();
        assert_eq!(typed.data, event.typed_data().unwrap(), "{name}");
        assert_eq!(typed.data, data, "{name}");
        assert_eq!(
            (typed.id, typed.name, typed.timestamp, typed.object),
            (event.id, event.name, event.timestamp, event.object)
        );
    }
}

#[test]
fn data_that_does_not_fit_names_the_json_path() {
    let bytes = body("payout", json!({ "amount": { "value": "fifty" } }));
    let event = Event::parse(&bytes).unwrap();
    let error = event.typed_data().unwrap_err();
    assert_eq!(error.path(), "data.amount.value");
    let Err(Error::InvalidBody { problem }) = TypedEvent::parse(&bytes) else {
        panic!("an invalid body")
    };
    assert!(problem.contains("`data.amount.value`"), "{problem}");
    // An unknown object type is not an error.
    let event = Event::parse(&body("subscription", json!({ "id": "sub-1" }))).unwrap();
    assert_eq!(
        event.typed_data().unwrap(),
        EventData::Unknown(json!({ "id": "sub-1" }))
    );
}

#[test]
fn an_absent_data_reads_as_null() {
    let bytes = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"x.y","timestamp":"1"},"object":{"id":"o","type":"subscription"}}"#;
    assert_eq!(
        TypedEvent::parse(bytes).unwrap().data,
        EventData::Unknown(serde_json::Value::Null)
    );
}

#[derive(Clone)]
struct App {
    verifier: WebhookVerifier,
    seen: tokio::sync::mpsc::UnboundedSender<EventData>,
}

impl axum::extract::FromRef<App> for WebhookVerifier {
    fn from_ref(app: &App) -> WebhookVerifier {
        app.verifier.clone()
    }
}

async fn receive(
    axum::extract::State(app): axum::extract::State<App>,
    delivery: VerifiedEvent,
) -> &'static str {
    let _ = app.seen.send(delivery.typed_data().unwrap());
    "ok"
}

#[tokio::test]
async fn the_axum_extractor_reaches_the_typed_data() {
    let (sender, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let app = App {
        verifier: WebhookVerifier::new(Verifier::hs256(SECRET).unwrap()),
        seen: sender,
    };
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let data = monime_signature::sample("payout.failed", "pyt-1");
    let bytes = body("payout", serde_json::to_value(&data).unwrap());
    let header = Signer::hs256(SECRET).unwrap().sign_now(&bytes);
    let response = reqwest::Client::new()
        .post(&url)
        .header("Monime-Signature", header)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(seen.recv().await.unwrap(), data);
}

#[test]
fn data_before_object_decodes_the_same() {
    let data = json!({ "id": "pay-1", "status": "processing", "amount": { "currency": "SLE", "value": 7 } });
    let object_first = body("payment", data.clone());
    let data_first = format!(
        r#"{{"data":{data},"object":{{"id":"obj-1","type":"payment"}},"apiVersion":"caph.2025-08-23","event":{{"id":"wkd-typed","name":"payment.completed","timestamp":"1771803194"}},"extra":[1,2]}}"#
    );
    assert_eq!(
        TypedEvent::parse(data_first.as_bytes()).unwrap(),
        TypedEvent::parse(&object_first).unwrap()
    );
    let Err(Error::InvalidBody { problem }) =
        TypedEvent::parse(br#"{"apiVersion":"x","object":{"id":"o","type":"payment"}}"#)
    else {
        panic!("the event header is missing")
    };
    assert!(problem.contains("event"), "{problem}");
}
