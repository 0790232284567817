//! `cargo bench -p monime-webhooks --bench get`: what the client adds to one call.
//!
//! `Client::get` against a local server returning a canned envelope, against the generated
//! operation it wraps (`client.api().get_webhook()`, the same hooks, HTTP client and
//! settings), interleaved in one run. Goal: the client's median at most 1.05x the generated
//! operation's.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use criterion::{BenchmarkId, Criterion};
use monime_webhooks::{Client, RetryPolicy};

const TOKEN: &str = "mon_test_bench";
const SPACE: &str = "spc-bench";
const ID: &str = "whk-0123456789abcdef0123456789abcdef";

fn canned_body() -> String {
    serde_json::json!({
        "success": true,
        "messages": [],
        "result": {
            "id": ID, "name": "Orders", "url": "https://shop.example/hooks/monime", "enabled": true,
            "events": ["payment.completed", "payout.failed"], "apiRelease": "caph",
            "verificationMethod": { "type": "ES256", "publicKey": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfEkg4GpVjH9lWZpq79k9e/DQ9qQg\ny2wTBbQBo9ZqtwBlmpHMBp2IR5W/JhdC8xqKNuDJxdIKKX7OiGaL/kbbJg==\n-----END PUBLIC KEY-----\n" },
            "headers": { "X-Shop": "main" }, "alertEmails": ["ops@shop.example"],
            "createTime": "2026-11-27T00:00:00Z", "updateTime": null, "metadata": { "team": "payments" }
        }
    })
    .to_string()
}

/// The kinds of call, in the order of the samples.
const KINDS: [&str; 2] = ["generated", "client"];

fn start(runtime: &tokio::runtime::Runtime) -> Client {
    let body = canned_body();
    let base = runtime.block_on(async move {
        let app = Router::new().route(
            "/v1/webhooks/{id}",
            get(move || {
                let body = body.clone();
                async move {
                    (
                        [
                            ("content-type", "application/json"),
                            ("monime-request-id", "req-bench"),
                        ],
                        body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    });
    Client::builder()
        .access_token(TOKEN)
        .space_id(SPACE)
        .api_url(&base)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// One call of kind `KINDS[kind]`.
async fn call(client: &Client, kind: usize) {
    if kind == 0 {
        let answer = client
            .api()
            .get_webhook()
            .id(ID)
            .monime_space_id(SPACE)
            .send()
            .await
            .unwrap();
        black_box(answer);
    } else {
        black_box(client.get(ID).await.unwrap());
    }
}

fn median_of(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn get_overhead(c: &mut Criterion, runtime: &tokio::runtime::Runtime, interleaved_calls: usize) {
    let client = start(runtime);
    let mut group = c.benchmark_group("get");
    for (kind, name) in KINDS.iter().enumerate() {
        group.bench_function(BenchmarkId::new(*name, "canned"), |b| {
            b.to_async(runtime).iter(|| call(&client, kind))
        });
    }
    group.finish();

    // Criterion measures one function after the other, so drift on a shared machine skews
    // their ratio; interleaving in batches gives both the same conditions.
    let [generated, ours] = runtime.block_on(async {
        const BATCH: usize = 50;
        let mut samples = [const { Vec::new() }; KINDS.len()];
        for round in 0..interleaved_calls.div_ceil(BATCH) {
            for turn in 0..KINDS.len() {
                let kind = (round + turn) % KINDS.len();
                for _ in 0..BATCH {
                    let t = Instant::now();
                    call(&client, kind).await;
                    samples[kind].push(t.elapsed());
                }
            }
        }
        samples.map(median_of)
    });
    let ratio = ours.as_secs_f64() / generated.as_secs_f64();
    println!(
        "\nget, {interleaved_calls} calls each, interleaved in batches of 50: client median \
         {:.1} µs vs the generated operation {:.1} µs = {ratio:.3}x ({}; goal <= 1.05x)",
        ours.as_secs_f64() * 1e6,
        generated.as_secs_f64() * 1e6,
        if ratio <= 1.05 { "meets" } else { "MISSES" }
    );
}

/// `cargo bench` passes `--bench` and measures; `cargo test --all-targets` runs the same code
/// as a smoke test (criterion runs each function once).
fn main() {
    let interleaved_calls = if std::env::args().any(|arg| arg == "--bench") {
        20_000
    } else {
        20
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
        });
    let mut criterion = Criterion::default()
        .output_directory(&target.join("criterion"))
        .configure_from_args();
    get_overhead(&mut criterion, &runtime, interleaved_calls);
    criterion.final_summary();
}
