//! `cargo bench -p monime-signature --bench typed`: decoding a realistic payment event from
//! its bytes into the typed objects, against `serde_json::from_slice::<serde_json::Value>` of
//! the same bytes, in the same run. Prints the ratio at the end; BENCHMARKS.md records runs.
//!
//! - `value_from_slice`: the baseline, what an untyped receiver does;
//! - `typed_event_parse`: `TypedEvent::parse`, envelope and typed `data` from the bytes;
//! - `parse_then_typed_data`: `Event::parse` then `Event::typed_data` (keeps the raw `data`
//!   too, so it does both; shown for scale).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::Criterion;
use monime_signature::{Event, TypedEvent};

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

fn main() {
    let dir = output_directory();
    let mut criterion = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    decode(&mut criterion);
    criterion.final_summary();
    println!("\nratios (median time, lower is better; same run):");
    let baseline = median(&dir, "value_from_slice");
    for ours in ["typed_event_parse", "parse_then_typed_data"] {
        match (median(&dir, ours), baseline) {
            (Some(a), Some(b)) => println!(
                "  {ours}: {a:.0} ns vs value_from_slice: {b:.0} ns = {:.3}x{}",
                a / b,
                if ours == "typed_event_parse" {
                    if a / b <= 1.0 {
                        " (meets goal <= 1.00x)"
                    } else {
                        " (MISSES goal <= 1.00x)"
                    }
                } else {
                    ""
                }
            ),
            _ => println!("  {ours}: not measured in this run"),
        }
    }
}
