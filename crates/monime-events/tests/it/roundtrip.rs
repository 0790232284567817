//! Serializing a decoded object gives back the known fields as received, unknown enum
//! strings and unknown union variants included.

use monime_events::*;
use proptest::prelude::*;
use serde_json::json;

use crate::{fixture, without_nulls};

#[test]
fn documented_bodies_serialize_back_as_received() {
    let mut cases = vec![
        ("payment", fixture("payment-momo.json")),
        ("payout", fixture("payout-bank.json")),
        ("checkout_session", fixture("checkout-session.json")),
        ("payment_code", fixture("payment-code.json")),
    ];
    for (object_type, data) in fixture("others.json").as_object().unwrap() {
        cases.push((object_type.as_str().to_owned().leak(), data.clone()));
    }
    for (object_type, data) in cases {
        let decoded = EventData::from_value(object_type, &data).unwrap();
        assert!(!matches!(decoded, EventData::Unknown(_)), "{object_type}");
        let back = serde_json::to_value(&decoded).unwrap();
        assert_eq!(back, data, "{object_type}");
    }
}

#[test]
fn unknown_values_serialize_back_unchanged() {
    let data = json!({
        "status": "refunded",
        "channel": { "type": "crypto", "network": "lightning", "nested": { "a": [1, 2] } },
        "fees": [{ "code": "x", "amount": { "currency": "SLE", "value": 1 } }]
    });
    let decoded = EventData::from_value("payment", &data).unwrap();
    assert_eq!(serde_json::to_value(&decoded).unwrap(), data);
    let data =
        json!({ "destination": { "type": "momo", "providerId": "m99", "phoneNumber": "+1" } });
    let decoded = EventData::from_value("payout", &data).unwrap();
    assert_eq!(serde_json::to_value(&decoded).unwrap(), data);
}

#[test]
fn nulls_are_left_out_and_unknown_fields_dropped() {
    let data = json!({ "id": "pay-1", "name": null, "riskScore": 0.3, "amount": { "value": 5, "precision": 2 } });
    let decoded = EventData::from_value("payment", &data).unwrap();
    assert_eq!(
        serde_json::to_value(&decoded).unwrap(),
        json!({ "id": "pay-1", "amount": { "value": 5 } })
    );
    assert_eq!(
        without_nulls(&json!({ "a": null, "b": [ { "c": null } ] })),
        json!({ "b": [{}] })
    );
}

#[test]
fn typed_values_are_clone_debug_and_comparable() {
    let decoded = EventData::from_value("payment", &fixture("payment-momo.json")).unwrap();
    let copy = decoded.clone();
    assert_eq!(copy, decoded);
    assert!(format!("{decoded:?}").contains("pay-2ZxWq4a7fN3kTmXb"));
}

proptest! {
    /// Any string is a value of an open enum, and comes back as the same string.
    #[test]
    fn any_enum_string_round_trips(text in ".{0,24}") {
        let status: PaymentStatus = serde_json::from_value(json!(text)).unwrap();
        prop_assert_eq!(serde_json::to_value(&status).unwrap(), json!(text));
        prop_assert_eq!(status.to_string(), text.clone());
        let code: PayoutFailureDetailCode = text.parse().unwrap();
        prop_assert_eq!(code.as_str(), text.as_str());
    }

    /// Any `type` a union does not list is kept whole.
    #[test]
    fn any_unknown_union_type_is_kept(kind in "[a-z_]{1,12}", extra in any::<i64>()) {
        prop_assume!(!["bank", "card", "momo", "wallet"].contains(&kind.as_str()));
        let data = json!({ "channel": { "type": kind, "extra": extra } });
        let decoded = EventData::from_value("payment", &data).unwrap();
        prop_assert_eq!(serde_json::to_value(&decoded).unwrap(), data);
    }
}
