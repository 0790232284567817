//! `cargo bench -p monime-signature --bench typed`: decoding a realistic payment event from
//! its bytes into the typed objects, against a plain `#[derive(Deserialize)]` of the same
//! shape (closed enums, no unknown-value handling: what a hand-written receiver would
//! declare), in the same run. The goal is judged on an interleaved comparison printed at the
//! end; BENCHMARKS.md records runs.
//!
//! - `plain_derive`: the floor, the same fields as `monime-events` declares for a payment;
//! - `typed_event_parse`: `TypedEvent::parse`, envelope and typed `data` from the bytes;
//! - `value_from_slice`: `serde_json::Value`, what an untyped receiver does (for scale);
//! - `parse_then_typed_data`: `Event::parse` then `Event::typed_data` (keeps the raw `data`
//!   too, so it does both; for scale).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;
use monime_signature::{Event, TypedEvent};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The floor: the payment event as a plain derive of the same shape.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainEvent {
    api_version: String,
    event: PlainMeta,
    object: PlainObject,
    data: PlainPayment,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainMeta {
    id: String,
    name: String,
    timestamp: String,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainObject {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainPayment {
    id: Option<String>,
    status: Option<PlainStatus>,
    amount: Option<PlainMoney>,
    channel: Option<PlainChannel>,
    name: Option<String>,
    reference: Option<String>,
    order_number: Option<String>,
    financial_account_id: Option<String>,
    financial_transaction_reference: Option<String>,
    fees: Option<Vec<PlainFee>>,
    create_time: Option<String>,
    update_time: Option<String>,
    ownership_graph: Option<PlainOwnershipGraph>,
    metadata: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code, reason = "decoded, never read")]
enum PlainStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    Expired,
    Cancelled,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainMoney {
    currency: Option<String>,
    value: Option<i64>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code, reason = "decoded, never read")]
enum PlainChannel {
    #[serde(rename_all = "camelCase")]
    Momo {
        provider: Option<String>,
        reference: Option<String>,
        phone_number: Option<String>,
        fingerprint: Option<String>,
        metadata: Option<Map<String, Value>>,
    },
    Card {
        fingerprint: Option<String>,
    },
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainFee {
    code: Option<String>,
    amount: Option<PlainMoney>,
    metadata: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainOwnershipGraph {
    owner: Option<PlainOwner>,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "decoded, never read")]
struct PlainOwner {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    metadata: Option<Map<String, Value>>,
    owner: Option<Box<PlainOwner>>,
}

/// A payment as Monime documents it: every field, a mobile money channel, a fee, an
/// ownership chain, metadata.
const BODY: &str = r##"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-2ZxWq4a7fN3kTmXbV9","name":"payment.completed","timestamp":"1771803194"},"object":{"id":"pay-2ZxWq4a7fN3kTmXb","type":"payment"},"data":{"id":"pay-2ZxWq4a7fN3kTmXb","status":"completed","amount":{"currency":"SLE","value":125000},"channel":{"type":"momo","provider":"m17","reference":"MP250823.1015.C12345","phoneNumber":"+23276123456","fingerprint":"fp-76c1b3","metadata":{"network":"orange"}},"name":"Order 1001","reference":"order-1001","orderNumber":"ORD-1001","financialAccountId":"fac-main","financialTransactionReference":"ftx-88f1","fees":[{"code":"momo_collection","amount":{"currency":"SLE","value":1250},"metadata":{"rate":"1%"}}],"createTime":"2025-08-23T10:15:00Z","updateTime":"2025-08-23T10:15:42.123456Z","ownershipGraph":{"owner":{"id":"scs-7Qw","type":"checkout_session","metadata":{"cart":"c-17"},"owner":{"id":"pmc-1","type":"payment_code"}}},"metadata":{"customer":"c-42","items":3}}}"##;

fn decode(c: &mut Criterion) {
    let body = BODY.as_bytes();
    // The bench measures a decode that succeeds into the typed variant.
    assert!(matches!(
        TypedEvent::parse(body).unwrap().data,
        monime_signature::EventData::Payment(_)
    ));
    let mut group = c.benchmark_group("typed_decode");
    group.bench_function("plain_derive", |b| {
        b.iter(|| serde_json::from_slice::<PlainEvent>(black_box(body)).unwrap())
    });
    group.bench_function("value_from_slice", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).unwrap())
    });
    group.bench_function("typed_event_parse", |b| {
        b.iter(|| TypedEvent::parse(black_box(body)).unwrap())
    });
    group.bench_function("parse_then_typed_data", |b| {
        b.iter(|| {
            let event = Event::parse(black_box(body)).unwrap();
            event.typed_data().unwrap()
        })
    });
    group.finish();
}

fn output_directory() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("criterion")
}

fn median(dir: &std::path::Path, id: &str) -> Option<f64> {
    let path = dir.join("typed_decode").join(id).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// The goal's comparison: batches of each side alternating (order swapped every round), so
/// the machine's drift hits both; medians per decode.
fn interleaved(rounds: usize) -> (f64, f64) {
    const BATCH: u32 = 200;
    let body = BODY.as_bytes();
    let time = |decode: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..BATCH {
            decode();
        }
        started.elapsed() / BATCH
    };
    let ours = || {
        black_box(TypedEvent::parse(black_box(body)).unwrap());
    };
    let floor = || {
        black_box(serde_json::from_slice::<PlainEvent>(black_box(body)).unwrap());
    };
    let (mut a, mut b): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            a.push(time(&ours));
            b.push(time(&floor));
        } else {
            b.push(time(&floor));
            a.push(time(&ours));
        }
    }
    a.sort_unstable();
    b.sort_unstable();
    let ns = |d: Duration| d.as_secs_f64() * 1e9;
    (ns(a[rounds / 2]), ns(b[rounds / 2]))
}

fn main() {
    let dir = output_directory();
    let mut criterion = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    decode(&mut criterion);
    criterion.final_summary();
    println!("\ncriterion, sequential (median time; for scale):");
    let baseline = median(&dir, "plain_derive");
    for ours in [
        "typed_event_parse",
        "value_from_slice",
        "parse_then_typed_data",
    ] {
        match (median(&dir, ours), baseline) {
            (Some(a), Some(b)) => {
                println!(
                    "  {ours}: {a:.0} ns vs plain_derive: {b:.0} ns = {:.3}x",
                    a / b
                )
            }
            _ => println!("  {ours}: not measured in this run"),
        }
    }
    let rounds = if std::env::args().any(|arg| arg == "--bench") {
        301
    } else {
        3
    };
    let (ours, floor) = interleaved(rounds);
    let ratio = ours / floor;
    println!(
        "\ninterleaved ({rounds} rounds, medians per decode): typed_event_parse {ours:.0} ns vs \
         plain_derive {floor:.0} ns = {ratio:.3}x ({}; goal <= 1.30x)",
        if ratio <= 1.30 { "meets" } else { "MISSES" }
    );
}
