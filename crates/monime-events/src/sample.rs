//! Realistic `data` for test events, built from the generated types so that whatever the
//! emulator and `send-test-event` send is what [`EventData`] decodes.

use crate::*;

/// A plausible object for the event `event_name` (`payment.completed`), about the object
/// `object_id`. The object type is the part of the name before the dot; the status follows
/// the part after it when the object has such a status. An object type this release does not
/// describe gives `Unknown({"id": object_id})`.
///
/// ```
/// use monime_events::{EventData, PayoutStatus, sample};
///
/// let data = sample("payout.failed", "pyt-test1");
/// let EventData::Payout(payout) = &data else { panic!("a payout") };
/// assert_eq!(payout.status, Some(PayoutStatus::Failed));
/// assert!(payout.failure_detail.is_some());
/// let json = serde_json::to_value(&data).unwrap();
/// assert_eq!(EventData::from_value("payout", &json).unwrap(), data);
/// ```
pub fn sample(event_name: &str, object_id: &str) -> EventData {
    let (object_type, transition) = event_name.split_once('.').unwrap_or((event_name, ""));
    let id = Some(object_id.to_owned());
    let now = Some(Timestamp::from(chrono::DateTime::<chrono::Utc>::from(
        std::time::SystemTime::now(),
    )));
    let amount = Some(Money {
        currency: Some("SLE".to_owned()),
        value: Some(1500),
    });
    match object_type {
        "payment" => EventData::Payment(Payment {
            id,
            status: Some(status(
                PaymentStatus::KNOWN,
                transition,
                PaymentStatus::Completed,
            )),
            amount,
            channel: Some(PaymentChannel::Momo(PaymentChannelMomo {
                provider: Some("m17".to_owned()),
                phone_number: Some("+23276123456".to_owned()),
                reference: Some("MP250823.1015.A00001".to_owned()),
                ..Default::default()
            })),
            order_number: Some("ORD-1001".to_owned()),
            create_time: now.clone(),
            update_time: now,
            ..Default::default()
        }),
        "payout" => {
            let status = status(PayoutStatus::KNOWN, transition, PayoutStatus::Completed);
            let failure_detail = (status == PayoutStatus::Failed).then(|| PayoutFailureDetail {
                code: Some(PayoutFailureDetailCode::FundInsufficient),
                message: Some("the source account cannot cover the payout".to_owned()),
            });
            EventData::Payout(Payout {
                id,
                status: Some(status),
                amount,
                source: Some(PayoutSource {
                    financial_account_id: Some("fac-test-main".to_owned()),
                    ..Default::default()
                }),
                destination: Some(PayoutDestination::Momo(PayoutDestinationMomo {
                    provider_id: Some(PayoutDestinationMomoProviderId::M17),
                    phone_number: Some("+23276123456".to_owned()),
                    ..Default::default()
                })),
                failure_detail,
                create_time: now.clone(),
                update_time: now,
                ..Default::default()
            })
        }
        "checkout_session" => EventData::CheckoutSession(CheckoutSession {
            id,
            name: Some("Order 1001".to_owned()),
            status: Some(status(
                CheckoutSessionStatus::KNOWN,
                transition,
                CheckoutSessionStatus::Completed,
            )),
            order_number: Some("ORD-1001".to_owned()),
            line_items: Some(CheckoutSessionLineItems {
                data: Some(vec![LineItem::Custom(LineItemCustom {
                    name: Some("Test item".to_owned()),
                    price: amount,
                    quantity: Some(1),
                    ..Default::default()
                })]),
            }),
            create_time: now.clone(),
            expire_time: now,
            ..Default::default()
        }),
        "payment_code" => EventData::PaymentCode(PaymentCode {
            id,
            mode: Some(PaymentCodeMode::OneTime),
            status: Some(status(
                PaymentCodeStatus::KNOWN,
                transition,
                PaymentCodeStatus::Completed,
            )),
            amount,
            enable: Some(true),
            ussd_code: Some("*715*1*123456#".to_owned()),
            authorized_providers: Some(vec![PaymentCodeAuthorizedProvider::M17]),
            create_time: now.clone(),
            expire_time: now,
            ..Default::default()
        }),
        "internal_transfer" => EventData::InternalTransfer(InternalTransfer {
            id,
            status: Some(status(
                InternalTransferStatus::KNOWN,
                transition,
                InternalTransferStatus::Completed,
            )),
            amount,
            create_time: now,
            ..Default::default()
        }),
        "financial_account" => EventData::FinancialAccount(FinancialAccount {
            id,
            name: Some("Main".to_owned()),
            currency: Some("SLE".to_owned()),
            balance: Some(FinancialAccountBalance { available: amount }),
            create_time: now,
            ..Default::default()
        }),
        "financial_transaction" => EventData::FinancialTransaction(FinancialTransaction {
            id,
            type_: Some(FinancialTransactionType::Credit),
            amount,
            timestamp: now,
            ..Default::default()
        }),
        "receipt" => EventData::Receipt(Receipt {
            status: Some(ReceiptStatus::NotRedeemed),
            order_number: id,
            order_amount: amount,
            create_time: now,
            ..Default::default()
        }),
        "ussd_otp" => EventData::UssdOtp(UssdOtp {
            id,
            status: Some(status(
                UssdOtpStatus::KNOWN,
                transition,
                UssdOtpStatus::Verified,
            )),
            dial_code: Some("*715*12345#".to_owned()),
            create_time: now,
            ..Default::default()
        }),
        _ => EventData::Unknown(serde_json::json!({ "id": object_id })),
    }
}

/// The listed status named like the event's transition (`failed` in `payout.failed`), or
/// `default` (`created` is no status).
fn status<T: Clone + AsRef<str>>(known: &[T], transition: &str, default: T) -> T {
    known
        .iter()
        .find(|status| status.as_ref() == transition)
        .cloned()
        .unwrap_or(default)
}
