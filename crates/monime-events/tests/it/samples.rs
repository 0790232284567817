//! The samples the emulator and `send-test-event` send are what the typed API decodes.

use monime_events::{EventData, sample};

#[test]
fn every_modelled_object_has_a_sample_that_decodes_back() {
    for object_type in EventData::OBJECT_TYPES {
        let data = sample(&format!("{object_type}.completed"), "obj-1");
        assert_eq!(data.object_type(), Some(*object_type));
        let json = serde_json::to_value(&data).unwrap();
        assert_eq!(EventData::from_value(object_type, &json).unwrap(), data);
    }
}

#[test]
fn the_status_follows_the_event_name() {
    let json = |name: &str| serde_json::to_value(sample(name, "x")).unwrap();
    assert_eq!(json("payout.failed")["status"], "failed");
    assert_eq!(
        json("payout.failed")["failureDetail"]["code"],
        "fund_insufficient"
    );
    assert_eq!(json("checkout_session.expired")["status"], "expired");
    assert_eq!(json("checkout_session.cancelled")["status"], "cancelled");
    assert_eq!(json("payment_code.expired")["status"], "expired");
    // `created` is no payment status: the sample is a completed payment.
    assert_eq!(json("payment.created")["status"], "completed");
    assert_eq!(json("payment.completed")["amount"]["value"], 1500);
    assert_eq!(json("payment.completed")["channel"]["type"], "momo");
    assert_eq!(
        json("subscription.renewed"),
        serde_json::json!({ "id": "x" })
    );
}
