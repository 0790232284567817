//! Bodies built from Monime's documented shapes decode into the right variants and fields;
//! values Monime may add later decode too.

use monime_events::*;
use serde_json::{Value, json};

use crate::fixture;

fn payment(data: &Value) -> Payment {
    match EventData::from_value("payment", data).unwrap() {
        EventData::Payment(payment) => payment,
        other => panic!("not a payment: {other:?}"),
    }
}

fn payout(data: &Value) -> Payout {
    match EventData::from_value("payout", data).unwrap() {
        EventData::Payout(payout) => payout,
        other => panic!("not a payout: {other:?}"),
    }
}

#[test]
fn a_mobile_money_payment_decodes_every_field() {
    let p = payment(&fixture("payment-momo.json"));
    assert_eq!(p.id.as_deref(), Some("pay-2ZxWq4a7fN3kTmXb"));
    assert_eq!(p.status, Some(PaymentStatus::Completed));
    assert_eq!(
        p.amount,
        Some(Money {
            currency: Some("SLE".into()),
            value: Some(125_000)
        })
    );
    let Some(PaymentChannel::Momo(momo)) = &p.channel else {
        panic!("{:?}", p.channel)
    };
    assert_eq!(momo.provider.as_deref(), Some("m17"));
    assert_eq!(momo.phone_number.as_deref(), Some("+23276123456"));
    assert_eq!(p.channel.as_ref().unwrap().type_name(), Some("momo"));
    let fees = p.fees.as_ref().unwrap();
    assert_eq!(fees[0].code.as_deref(), Some("momo_collection"));
    assert_eq!(fees[0].amount.as_ref().unwrap().value, Some(1250));
    assert_eq!(
        p.update_time
            .as_ref()
            .unwrap()
            .to_datetime()
            .unwrap()
            .timestamp(),
        1_755_944_142
    );
    let owner = p.ownership_graph.unwrap().owner.unwrap();
    assert_eq!(owner.type_.as_deref(), Some("checkout_session"));
    let grand = (*owner.owner).clone().unwrap();
    assert_eq!(grand.id.as_deref(), Some("pmc-1"));
    assert_eq!(p.metadata.unwrap()["items"], json!(3));
}

#[test]
fn every_payment_channel_variant_decodes() {
    let channels = [
        json!({ "type": "bank", "provider": "slb004", "reference": "r", "accountNumber": "001", "fingerprint": "f" }),
        json!({ "type": "card", "scheme": "visa", "last4": "4242", "fingerprint": "f" }),
        json!({ "type": "wallet", "provider": "dw001", "reference": "r", "walletId": "w-1" }),
        json!({ "type": "momo", "provider": "m18", "reference": "r", "phoneNumber": "+23277" }),
    ];
    let mut seen = Vec::new();
    for channel in channels {
        let p = payment(&json!({ "id": "pay-1", "channel": channel }));
        match p.channel.unwrap() {
            PaymentChannel::Bank(bank) => {
                assert_eq!(bank.account_number.as_deref(), Some("001"));
                seen.push("bank");
            }
            PaymentChannel::Card(card) => {
                assert_eq!(card.scheme, Some(PaymentChannelCardScheme::Visa));
                assert_eq!(card.last4.as_deref(), Some("4242"));
                seen.push("card");
            }
            PaymentChannel::Wallet(wallet) => {
                assert_eq!(wallet.wallet_id.as_deref(), Some("w-1"));
                seen.push("wallet");
            }
            PaymentChannel::Momo(momo) => {
                assert_eq!(momo.provider.as_deref(), Some("m18"));
                seen.push("momo");
            }
            PaymentChannel::Unknown(other) => panic!("known channel decoded as Unknown: {other}"),
        }
    }
    assert_eq!(seen, ["bank", "card", "wallet", "momo"]);
}

#[test]
fn every_payout_destination_variant_decodes() {
    let p = payout(&fixture("payout-bank.json"));
    assert_eq!(p.status, Some(PayoutStatus::Failed));
    let Some(PayoutDestination::Bank(bank)) = &p.destination else {
        panic!("{:?}", p.destination)
    };
    assert_eq!(
        bank.provider_id,
        Some(PayoutDestinationBankProviderId::Slb004)
    );
    assert_eq!(bank.account_number.as_deref(), Some("0012345678"));
    assert_eq!(
        p.failure_detail.unwrap().code,
        Some(PayoutFailureDetailCode::ProviderAccountBlocked)
    );
    assert_eq!(
        p.source.unwrap().transaction_reference.as_deref(),
        Some("ftx-19")
    );

    let momo = payout(
        &json!({ "destination": { "type": "momo", "providerId": "m18", "phoneNumber": "+23277" } }),
    );
    let Some(PayoutDestination::Momo(momo)) = momo.destination else {
        panic!()
    };
    assert_eq!(momo.provider_id, Some(PayoutDestinationMomoProviderId::M18));
    let wallet = payout(
        &json!({ "destination": { "type": "wallet", "providerId": "dw001", "walletId": "w-9" } }),
    );
    let Some(PayoutDestination::Wallet(wallet)) = wallet.destination else {
        panic!()
    };
    assert_eq!(
        wallet.provider_id,
        Some(PayoutDestinationWalletProviderId::Dw001)
    );
    assert_eq!(wallet.wallet_id.as_deref(), Some("w-9"));
}

#[test]
fn a_checkout_session_and_its_line_items_decode() {
    let data = fixture("checkout-session.json");
    let EventData::CheckoutSession(s) = EventData::from_value("checkout_session", &data).unwrap()
    else {
        panic!()
    };
    assert_eq!(s.status, Some(CheckoutSessionStatus::Expired));
    let items = s.line_items.unwrap().data.unwrap();
    let LineItem::Custom(item) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(item.quantity, Some(2));
    assert_eq!(item.price.as_ref().unwrap().value, Some(50_000));
    assert_eq!(item.images.as_ref().unwrap().len(), 1);
    assert_eq!(
        s.branding_options.unwrap().primary_color.as_deref(),
        Some("#00FF00")
    );
}

#[test]
fn a_payment_code_decodes() {
    let data = fixture("payment-code.json");
    let EventData::PaymentCode(c) = EventData::from_value("payment_code", &data).unwrap() else {
        panic!()
    };
    assert_eq!(c.mode, Some(PaymentCodeMode::Recurrent));
    assert_eq!(c.status, Some(PaymentCodeStatus::Processing));
    assert_eq!(
        c.authorized_providers,
        Some(vec![
            PaymentCodeAuthorizedProvider::M17,
            PaymentCodeAuthorizedProvider::M18
        ])
    );
    let target = c.recurrent_payment_target.unwrap();
    assert_eq!(target.expected_payment_count, Some(4));
    let processed = c.processed_payment_data.unwrap();
    assert_eq!(
        processed.channel_data.unwrap().provider_id.as_deref(),
        Some("m17")
    );
}

#[test]
fn the_other_modelled_objects_decode_into_their_variants() {
    let others = fixture("others.json");
    for (object_type, data) in others.as_object().unwrap() {
        let decoded = EventData::from_value(object_type, data).unwrap();
        assert_eq!(decoded.object_type(), Some(object_type.as_str()));
        match &decoded {
            EventData::InternalTransfer(t) => {
                assert_eq!(t.status, Some(InternalTransferStatus::Completed));
                assert_eq!(
                    t.failure_detail.as_ref().unwrap().code,
                    Some(InternalTransferFailureDetailCode::FundInsufficient)
                );
            }
            EventData::FinancialAccount(a) => {
                assert_eq!(
                    a.balance
                        .as_ref()
                        .unwrap()
                        .available
                        .as_ref()
                        .unwrap()
                        .value,
                    Some(99_000)
                );
            }
            EventData::FinancialTransaction(t) => {
                assert_eq!(t.type_, Some(FinancialTransactionType::Debit));
                assert_eq!(t.amount.as_ref().unwrap().value, Some(-700));
            }
            EventData::Receipt(r) => {
                assert_eq!(r.status, Some(ReceiptStatus::PartiallyRedeemed));
                assert_eq!(r.entitlements.as_ref().unwrap()[0].remaining, Some(1));
            }
            EventData::UssdOtp(o) => assert_eq!(o.status, Some(UssdOtpStatus::Verified)),
            other => panic!("{object_type} decoded as {other:?}"),
        }
    }
    assert_eq!(EventData::OBJECT_TYPES.len(), 9);
}

#[test]
fn values_monime_may_add_later_decode() {
    let data = json!({
        "id": "pay-1",
        "status": "refunded",
        "amount": { "currency": "GMD", "value": 10, "precision": 2 },
        "channel": { "type": "crypto", "network": "lightning", "invoice": "lnbc1" },
        "fees": [{ "code": "new_fee", "amount": { "currency": "SLE", "value": 1 }, "tax": true }],
        "riskScore": 0.2,
        "ownershipGraph": { "owner": { "id": "x", "type": "subscription", "source": "api" } }
    });
    let p = payment(&data);
    assert_eq!(p.status, Some(PaymentStatus::Unknown("refunded".into())));
    assert_eq!(p.status.as_ref().unwrap().as_str(), "refunded");
    let Some(PaymentChannel::Unknown(channel)) = &p.channel else {
        panic!("{:?}", p.channel)
    };
    assert_eq!(
        channel["invoice"], "lnbc1",
        "the unknown variant is kept whole"
    );
    assert_eq!(p.channel.as_ref().unwrap().type_name(), Some("crypto"));
    assert_eq!(p.amount.unwrap().currency.as_deref(), Some("GMD"));

    // A new payout provider and a new failure code.
    let p = payout(&json!({
        "destination": { "type": "momo", "providerId": "m99", "phoneNumber": "+1" },
        "failureDetail": { "code": "provider_timeout" }
    }));
    let Some(PayoutDestination::Momo(momo)) = p.destination else {
        panic!()
    };
    assert_eq!(
        momo.provider_id,
        Some(PayoutDestinationMomoProviderId::Unknown("m99".into()))
    );
    assert_eq!(
        p.failure_detail.unwrap().code,
        Some(PayoutFailureDetailCode::Unknown("provider_timeout".into()))
    );

    // A new line item type, a new card scheme, a new payment code provider.
    let EventData::CheckoutSession(s) = EventData::from_value(
        "checkout_session",
        &json!({ "lineItems": { "data": [{ "type": "catalog", "productId": "p-1" }] } }),
    )
    .unwrap() else {
        panic!()
    };
    assert!(
        matches!(&s.line_items.unwrap().data.unwrap()[0], LineItem::Unknown(v) if v["productId"] == "p-1")
    );
    let p = payment(&json!({ "channel": { "type": "card", "scheme": "amex" } }));
    let Some(PaymentChannel::Card(card)) = p.channel else {
        panic!()
    };
    assert_eq!(
        card.scheme,
        Some(PaymentChannelCardScheme::Unknown("amex".into()))
    );
    let EventData::PaymentCode(c) = EventData::from_value(
        "payment_code",
        &json!({ "authorizedProviders": ["m17", "m20"] }),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(
        c.authorized_providers.unwrap()[1],
        PaymentCodeAuthorizedProvider::Unknown("m20".into())
    );
}

#[test]
fn an_unknown_object_type_or_a_union_without_type_is_kept_as_received() {
    let data = json!({ "id": "sub-1", "plan": "gold" });
    assert_eq!(
        EventData::from_value("subscription", &data).unwrap(),
        EventData::Unknown(data.clone())
    );
    assert_eq!(
        EventData::from_value("subscription", &data)
            .unwrap()
            .object_type(),
        None
    );
    let p = payment(&json!({ "channel": { "provider": "m17" } }));
    assert_eq!(
        p.channel,
        Some(PaymentChannel::Unknown(json!({ "provider": "m17" })))
    );
}

#[test]
fn null_and_absent_fields_read_as_none() {
    let p = payment(&json!({
        "id": "pay-1", "name": null, "fees": null, "metadata": null, "ownershipGraph": null,
        "updateTime": null, "channel": null, "status": null
    }));
    assert_eq!(
        p,
        Payment {
            id: Some("pay-1".into()),
            ..Default::default()
        }
    );
    assert_eq!(payment(&json!({})), Payment::default());
}

#[test]
fn amounts_are_whole_minor_units_of_any_size() {
    let p =
        payment(&json!({ "amount": { "currency": "SLE", "value": 9_007_199_254_740_993_i64 } }));
    assert_eq!(p.amount.unwrap().value, Some(9_007_199_254_740_993));
    let p = payment(&json!({ "amount": { "currency": "SLE", "value": -250 } }));
    assert_eq!(p.amount.unwrap().value, Some(-250));
}

#[test]
fn from_json_text_gives_the_same_as_from_a_value() {
    for (object_type, name) in [
        ("payment", "payment-momo.json"),
        ("payout", "payout-bank.json"),
        ("checkout_session", "checkout-session.json"),
        ("payment_code", "payment-code.json"),
    ] {
        let value = fixture(name);
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(
            EventData::from_json(object_type, &text).unwrap(),
            EventData::from_value(object_type, &value).unwrap(),
            "{name}"
        );
    }
}
