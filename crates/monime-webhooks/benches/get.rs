//! `cargo bench -p monime-webhooks --bench get`: the client's overhead on one call.
//!
//! `get` against a local server returning a canned envelope, against a bare reqwest GET of the
//! same id (its URL built on each call, as any `get(id)` must) with the same headers plus a
//! serde_json decode of the same bytes (criterion, same run). The goal is judged against that
//! bare call; the same bare call bounded by the client's per-attempt timeout is shown beside it
//! (a timer per request is part of the client's cost that the bare call goes without). The
//! process uses the system allocator, as a user's program does: the heap-counting allocator
//! of the `list_all` bench charges every allocation a shared atomic update, which would weigh
//! on whichever side allocates more rather than on what users run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use criterion::{BenchmarkId, Criterion};
use monime_webhooks::{Client, RetryPolicy};
use monime_webhooks_api::types::WebhookEnvelope;
use monime_webhooks_api::{ClientInfo, Settings};

const TOKEN: &str = "mon_test_bench";
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

/// The canned server and the ways of calling it ([`KINDS`]).
struct Setup {
    base: String,
    http: reqwest::Client,
    client: Client,
    /// The generated operation called directly, with the same hooks and a space-less
    /// `Settings`: tells the generated request path apart from our layer on it.
    generated: monime_webhooks_api::Client,
    /// The client's per-attempt timeout, which the generated kind and `bare_timeout` share.
    timeout: Option<Duration>,
}

/// The kinds of call, in the order of the samples.
const KINDS: [&str; 4] = ["bare", "client", "generated", "bare_timeout"];

impl Setup {
    fn start(runtime: &tokio::runtime::Runtime) -> Setup {
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
        let http = reqwest::Client::new();
        let client = Client::builder()
            .access_token(TOKEN)
            .space_id("spc-bench")
            .api_url(&base)
            .http_client(http.clone())
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let timeout = client.api().inner().timeout;
        let mut settings = Settings::none().with_token(TOKEN);
        if let Some(timeout) = timeout {
            settings = settings.with_timeout(timeout);
        }
        let generated = monime_webhooks_api::Client::new_with_client(&base, http.clone(), settings);
        Setup {
            base,
            http,
            client,
            generated,
            timeout,
        }
    }

    /// One call of kind `KINDS[kind]`.
    async fn call(&self, kind: usize) {
        match kind {
            0 => {
                black_box(bare_get(&self.http, &self.base, ID, None).await);
            }
            1 => {
                black_box(self.client.get(ID).await.unwrap());
            }
            2 => {
                black_box(
                    self.generated
                        .get_webhook()
                        .id(ID)
                        .monime_space_id("spc-bench")
                        .send()
                        .await
                        .unwrap(),
                );
            }
            _ => {
                black_box(bare_get(&self.http, &self.base, ID, self.timeout).await);
            }
        }
    }
}

fn get_overhead(c: &mut Criterion, runtime: &tokio::runtime::Runtime, alternating_calls: usize) {
    let setup = Setup::start(runtime);
    let (http, base, client) = (&setup.http, &setup.base, &setup.client);
    let mut group = c.benchmark_group("get");
    group.bench_function(BenchmarkId::new("bare_reqwest_serde", "canned"), |b| {
        b.to_async(runtime).iter(|| bare_get(http, base, ID, None))
    });
    group.bench_function(BenchmarkId::new("monime_client", "canned"), |b| {
        b.to_async(runtime)
            .iter(|| async { black_box(client.get(ID).await.unwrap()) })
    });
    group.finish();

    // Criterion measures one function after the other, so drift on shared vCPUs skews their
    // ratio; interleaving gives both the same conditions. Interleaved in batches of 50, not
    // call by call: a call directly after a bare reqwest call on the same pooled connection
    // measured 5 to 7 µs slower, whichever client made it, so strict alternation charged that
    // to whichever side came second. In a batch, each call follows one of its own kind.
    let (ours, bare, generated, bare_timeout) = runtime.block_on(async {
        const BATCH: usize = 50;
        let mut samples = [const { Vec::new() }; KINDS.len()];
        for round in 0..alternating_calls.div_ceil(BATCH) {
            for turn in 0..KINDS.len() {
                let kind = (round + turn) % KINDS.len();
                for _ in 0..BATCH {
                    let t = Instant::now();
                    setup.call(kind).await;
                    samples[kind].push(t.elapsed());
                }
            }
        }
        let [bare, ours, generated, bare_timeout] = samples.map(median_of);
        (ours, bare, generated, bare_timeout)
    });
    let ratio = ours.as_secs_f64() / bare.as_secs_f64();
    println!(
        "\nget, the generated operation alone: median {:.1} µs = {:.3}x bare",
        generated.as_secs_f64() * 1e6,
        generated.as_secs_f64() / bare.as_secs_f64()
    );
    println!(
        "\nget, bare reqwest + serde_json bounded by the client's timeout: median {:.1} µs; \
         client {:.3}x of it",
        bare_timeout.as_secs_f64() * 1e6,
        ours.as_secs_f64() / bare_timeout.as_secs_f64()
    );
    println!(
        "\nget, {} calls each, interleaved in batches of 50: client median {:.1} µs vs bare reqwest + serde_json {:.1} µs = {ratio:.3}x ({}; goal <= 1.10x)",
        alternating_calls,
        ours.as_secs_f64() * 1e6,
        bare.as_secs_f64() * 1e6,
        if ratio <= 1.10 { "meets" } else { "MISSES" }
    );
}

async fn bare_get(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    timeout: Option<Duration>,
) -> WebhookEnvelope {
    let mut request = http.get(format!("{base}/v1/webhooks/{id}"));
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    let response = request
        .bearer_auth(TOKEN)
        .header("monime-space-id", "spc-bench")
        .header("monime-version", monime_webhooks::API_VERSION)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn median_of(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// `--instructions KIND CALLS [--cold]`: one warm-up call and `CALLS` calls of one kind (one
/// of [`KINDS`]) on a single thread, nothing else; `cargo xtask bench-instructions` counts runs
/// of two lengths under valgrind, and their difference per call is the cost of one call, free
/// of the machine's noise. With `--cold`, every cache line of an 8 MiB buffer is written after
/// each call, so that the next call finds none of its data cached and of its code only what the
/// first-level code cache kept, as a call on a busy machine often does after waiting for its
/// answer.
fn instructions(kind: &str, calls: usize, cold: bool) {
    let Some(kind) = KINDS.iter().position(|known| *known == kind) else {
        panic!("unknown kind `{kind}`: one of {KINDS:?}");
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let setup = Setup::start(&runtime);
    let mut evictor = if cold { vec![0u8; 8 << 20] } else { Vec::new() };
    runtime.block_on(async {
        for call in 0..=calls {
            setup.call(kind).await;
            for line in evictor.iter_mut().step_by(64) {
                *line = call as u8;
            }
            black_box(&evictor);
        }
    });
}

/// `cargo bench` passes `--bench` and measures; `cargo test --all-targets` runs the same code
/// as a smoke test (criterion runs each function once).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--instructions") {
        let (Some(kind), Some(calls)) = (args.get(at + 1), args.get(at + 2)) else {
            panic!("usage: --instructions KIND CALLS [--cold]");
        };
        let cold = args.iter().any(|arg| arg == "--cold");
        return instructions(kind, calls.parse().expect("CALLS is a number"), cold);
    }
    let alternating_calls = if std::env::args().any(|arg| arg == "--bench") {
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
    get_overhead(&mut criterion, &runtime, alternating_calls);
    criterion.final_summary();
}
