//! A `data` that does not fit its type gives an error naming the JSON path; never a panic.

use monime_events::EventData;
use proptest::prelude::*;
use serde_json::json;

fn error(object_type: &str, data: serde_json::Value) -> monime_events::DecodeError {
    EventData::from_value(object_type, &data).unwrap_err()
}

#[test]
fn errors_name_the_json_path() {
    let cases = [
        (
            "payment",
            json!({ "amount": { "value": 15.5 } }),
            "data.amount.value",
        ),
        ("payment", json!({ "amount": "15.00" }), "data.amount"),
        ("payment", json!({ "channel": "momo" }), "data.channel"),
        (
            "payment",
            json!({ "channel": { "type": "card", "last4": 4242 } }),
            "data.channel.last4",
        ),
        (
            "payment",
            json!({ "fees": [{ "code": "a" }, { "amount": { "value": "1" } }] }),
            "data.fees[1].amount.value",
        ),
        ("payout", json!({ "status": 3 }), "data.status"),
        (
            "checkout_session",
            json!({ "lineItems": { "data": [{ "type": "custom", "quantity": "2" }] } }),
            "data.lineItems.data[0].quantity",
        ),
        (
            "payment_code",
            json!({ "authorizedProviders": "m17" }),
            "data.authorizedProviders",
        ),
        (
            "receipt",
            json!({ "createTime": 1755944100 }),
            "data.createTime",
        ),
        (
            "payment",
            json!("a string where the payment belongs"),
            "data",
        ),
    ];
    for (object_type, data, path) in cases {
        let e = error(object_type, data.clone());
        assert_eq!(e.path(), path, "{data}: {e}");
        assert_eq!(e.object_type(), object_type);
        assert!(e.to_string().contains(&format!("`{path}`")), "{e}");
        // The text form decodes the same way and names the same place.
        let text = serde_json::to_string(&data).unwrap();
        let from_text = EventData::from_json(object_type, &text).unwrap_err();
        assert_eq!(from_text.path(), path, "{text}: {from_text}");
    }
}

#[test]
fn error_messages_read_well() {
    let e = error("payment", json!({ "amount": { "value": 15.5 } }));
    assert_eq!(
        e.to_string(),
        "the `data` of a `payment` event does not decode at `data.amount.value`: invalid type: floating point `15.5`, expected i64"
    );
    let e = error(
        "payment",
        json!({ "channel": { "type": "card", "last4": 4242 } }),
    );
    assert_eq!(
        e.to_string(),
        "the `data` of a `payment` event does not decode at `data.channel.last4`: invalid type: integer `4242`, expected a string"
    );
}

#[test]
fn invalid_json_text_is_an_error() {
    let e = EventData::from_json("payment", "{\"id\": ").unwrap_err();
    assert_eq!(e.path(), "data.id");
    assert!(EventData::from_json("payment", "{} trailing").is_err());
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-z_]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("status".to_owned()),
                    Just("amount".to_owned()),
                    Just("value".to_owned()),
                    Just("channel".to_owned()),
                    Just("destination".to_owned()),
                    Just("lineItems".to_owned()),
                    Just("data".to_owned()),
                    Just("owner".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any JSON under any object type decodes or errors; never panics.
    #[test]
    fn arbitrary_data_never_panics(data in json_value(), object_type in prop_oneof![
        Just("payment"), Just("payout"), Just("checkout_session"), Just("payment_code"),
        Just("internal_transfer"), Just("financial_account"), Just("financial_transaction"),
        Just("receipt"), Just("ussd_otp"), Just("unknown")
    ]) {
        let from_value = EventData::from_value(object_type, &data);
        let from_text = EventData::from_json(object_type, &data.to_string());
        prop_assert_eq!(from_value.is_ok(), from_text.is_ok());
    }
}
