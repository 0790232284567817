//! Event parsing: the delivery shape, open event names, timestamps as strings or numbers.

use monime_signature::{Error, Event, EventName, Signer, Verifier};
use serde_json::json;

const BODY: &str = r#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-example","name":"checkout_session.completed","timestamp":"1771803194"},"object":{"id":"scs-example","type":"checkout_session"},"data":{"id":"scs-example","status":"completed"}}"#;

#[test]
fn a_delivery_body_parses() {
    let event = Event::parse(BODY.as_bytes()).unwrap();
    assert_eq!(event.api_version, "caph.2025-08-23");
    assert_eq!(event.id, "wkd-example");
    assert_eq!(event.name, EventName::CheckoutSessionCompleted);
    assert_eq!(event.name.object_type(), "checkout_session");
    assert_eq!(event.timestamp, 1771803194);
    assert_eq!(event.object.id, "scs-example");
    assert_eq!(event.object.kind, "checkout_session");
    assert_eq!(event.data["status"], "completed");
    assert_eq!(
        event
            .occurred_at()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1771803194
    );
}

#[test]
fn to_json_gives_back_the_wire_shape() {
    let event = Event::parse(BODY.as_bytes()).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
    let original: serde_json::Value = serde_json::from_str(BODY).unwrap();
    assert_eq!(value, original);
}

#[test]
fn a_numeric_timestamp_is_accepted() {
    let body = BODY.replace(r#""timestamp":"1771803194""#, r#""timestamp":1771803194"#);
    assert_eq!(Event::parse(body.as_bytes()).unwrap().timestamp, 1771803194);
}

#[test]
fn data_decodes_into_the_callers_type() {
    #[derive(serde::Deserialize)]
    struct Session {
        status: String,
    }
    let event = Event::parse(BODY.as_bytes()).unwrap();
    assert_eq!(event.data_as::<Session>().unwrap().status, "completed");
    assert_eq!(
        event.data_as::<Vec<u8>>().unwrap_err().kind(),
        "invalid_body"
    );
}

#[test]
fn every_known_event_name_round_trips_and_unknown_names_survive() {
    for name in EventName::KNOWN {
        assert_eq!(&EventName::from(name.as_str()), name);
        let json = serde_json::to_string(name).unwrap();
        assert_eq!(&serde_json::from_str::<EventName>(&json).unwrap(), name);
    }
    assert_eq!(EventName::KNOWN.len(), 11);
    for text in [
        "refund.completed",
        "",
        "payment.completed.v2",
        "PAYMENT.COMPLETED",
        "ünïcode.x",
    ] {
        let name: EventName = serde_json::from_value(json!(text)).unwrap();
        assert_eq!(name, EventName::Unknown(text.to_owned()));
        assert_eq!(serde_json::to_value(&name).unwrap(), json!(text));
    }
}

#[test]
fn malformed_bodies_are_invalid_body_errors_with_a_location() {
    for body in [
        "",
        "{",
        "[]",
        r#"{"apiVersion":"x"}"#,
        r#"{"apiVersion":"x","event":{"id":"1","name":"a.b","timestamp":true},"object":{"id":"o","type":"t"}}"#,
    ] {
        match Event::parse(body.as_bytes()) {
            Err(Error::InvalidBody { problem }) => assert!(problem.contains("line"), "{problem}"),
            other => panic!("{body:?}: {other:?}"),
        }
    }
}

#[test]
fn verify_and_parse_does_both_in_order() {
    let secret = "test_secret_for_vector_0123456789abcdef";
    let header = Signer::hs256(secret)
        .unwrap()
        .sign(1771803194, BODY.as_bytes());
    let verifier = Verifier::hs256(secret).unwrap();
    let event = verifier
        .verify_and_parse_at(&header, BODY.as_bytes(), 1771803194)
        .unwrap();
    assert_eq!(event.id, "wkd-example");
    // A verified body that is not an event is an invalid body, not a signature error.
    let header = Signer::hs256(secret).unwrap().sign(1771803194, b"not json");
    let error = verifier
        .verify_and_parse_at(&header, b"not json", 1771803194)
        .unwrap_err();
    assert_eq!(error.kind(), "invalid_body");
    // A bad signature is reported before the body is looked at.
    let error = verifier
        .verify_and_parse_at("t=1771803194,v1=AAAA", b"not json", 1771803194)
        .unwrap_err();
    assert_eq!(error.kind(), "signature_mismatch");
}

#[test]
fn header_map_helper_reads_the_header_case_insensitively() {
    let secret = "test_secret_for_vector_0123456789abcdef";
    let header = Signer::hs256(secret)
        .unwrap()
        .sign(1771803194, BODY.as_bytes());
    let verifier = Verifier::hs256(secret).unwrap();
    let mut headers = monime_signature::http::HeaderMap::new();
    assert_eq!(
        verifier
            .verify_headers_at(&headers, BODY.as_bytes(), 1771803194)
            .unwrap_err(),
        Error::MissingHeader
    );
    headers.insert("Monime-Signature", header.parse().unwrap());
    assert!(
        verifier
            .verify_headers_at(&headers, BODY.as_bytes(), 1771803194)
            .is_ok()
    );
    headers.append("MONIME-SIGNATURE", header.parse().unwrap());
    assert_eq!(
        verifier
            .verify_headers_at(&headers, BODY.as_bytes(), 1771803194)
            .unwrap_err()
            .kind(),
        "malformed_header"
    );
}

#[test]
fn the_tolerance_is_configurable_and_can_be_skipped_explicitly() {
    let secret = "test_secret_for_vector_0123456789abcdef";
    let header = Signer::hs256(secret).unwrap().sign(1771803194, b"{}");
    let verifier = Verifier::hs256(secret).unwrap();
    let a_day_later = 1771803194 + 86_400;
    assert_eq!(
        verifier
            .verify_at(&header, b"{}", a_day_later)
            .unwrap_err()
            .kind(),
        "timestamp_out_of_tolerance"
    );
    let wide = verifier
        .clone()
        .with_tolerance(std::time::Duration::from_secs(86_400));
    assert!(wide.verify_at(&header, b"{}", a_day_later).is_ok());
    let skipping = verifier.insecure_skip_timestamp_check();
    assert!(skipping.verify_at(&header, b"{}", i64::MAX).is_ok());
    assert!(skipping.verify_at(&header, b"{}", i64::MIN).is_ok());
}

#[test]
fn keys_and_secrets_never_show_in_debug_output() {
    let secret = "test_secret_for_vector_0123456789abcdef";
    let verifier = Verifier::hs256(secret)
        .unwrap()
        .and_hs256("previous_secret_0123456789abcdef0123")
        .unwrap();
    let signer = Signer::hs256(secret).unwrap();
    let es = Signer::generate_es256();
    let printed = format!("{verifier:?} {signer:?} {es:?}");
    assert!(
        !printed.contains("test_secret") && !printed.contains("previous_secret"),
        "{printed}"
    );
    assert!(printed.contains("[redacted]"), "{printed}");
}

#[test]
fn empty_secrets_and_bad_keys_are_refused() {
    assert_eq!(Verifier::hs256("").unwrap_err().kind(), "invalid_key");
    assert_eq!(Signer::hs256("").unwrap_err().kind(), "invalid_key");
    assert_eq!(
        Verifier::es256("not a pem").unwrap_err().kind(),
        "invalid_key"
    );
    assert_eq!(
        Signer::es256("not a pem").unwrap_err().kind(),
        "invalid_key"
    );
}
