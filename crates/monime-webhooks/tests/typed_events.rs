//! The `signature` re-export reaches the typed event API.

use monime_webhooks::signature::{Event, EventData, PayoutStatus};

#[test]
fn the_signature_re_export_reaches_the_typed_data() {
    let body = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"payout.completed","timestamp":"1771803194"},"object":{"id":"pyt-1","type":"payout"},"data":{"id":"pyt-1","status":"completed","amount":{"currency":"SLE","value":2500}}}"#;
    let event = Event::parse(body).unwrap();
    let EventData::Payout(payout) = event.typed_data().unwrap() else {
        panic!("a payout")
    };
    assert_eq!(payout.status, Some(PayoutStatus::Completed));
    assert_eq!(payout.amount.and_then(|a| a.value), Some(2500));
}
