//! `cargo xtask bench-mock`: create-then-get throughput on loopback, monime-mock against
//! Stoplight Prism's mock server of the same spec, in the same run, with the same load
//! generator (this file). Both servers run as separate processes; the generator keeps a
//! fixed number of requests in flight for a fixed time and records every latency.
//!
//! Environment: `PRISM_BIN` (set by `cargo xtask bench-mock`), `BENCH_SECONDS` (default 10),
//! `BENCH_CONCURRENCY` (default 16).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

struct Server {
    name: &'static str,
    url: String,
    _process: Process,
}

/// The server process, stopped when dropped (monime-mock's handle kills it itself).
enum Process {
    Mock { _handle: monime_mock::MockProcess },
    Prism(Child),
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Process::Prism(child) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_monime_mock() -> Server {
    let process = monime_mock::MockProcess::spawn(env!("CARGO_BIN_EXE_monime-mock").as_ref(), &[])
        .expect("start monime-mock");
    Server {
        name: "monime-mock",
        url: process.url().to_owned(),
        _process: Process::Mock { _handle: process },
    }
}

fn start_prism(spec: &str) -> Option<Server> {
    let prism = std::env::var("PRISM_BIN").ok()?;
    let port = free_port();
    let child = Command::new(prism)
        .args([
            "mock",
            spec,
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prism");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "prism did not start within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Server {
        name: "prism mock",
        url,
        _process: Process::Prism(child),
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Outcome {
    name: &'static str,
    completed: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Outcome {
    fn rps(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }
}

/// Keeps `concurrency` create-then-get loops busy for `duration`.
async fn load(server: &Server, concurrency: usize, duration: Duration) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let client = client.clone();
        let base = server.url.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0usize;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({
                    "name": "bench", "url": "http://127.0.0.1:9/hook", "apiRelease": "caph",
                    "events": ["payment.completed"]
                });
                let t = Instant::now();
                let created = client
                    .post(format!("{base}/v1/webhooks"))
                    .bearer_auth("mon_test_bench")
                    .header("Monime-Space-Id", "spc-bench")
                    .header("Idempotency-Key", format!("bench-{worker}-{n}"))
                    .json(&body)
                    .send()
                    .await;
                let id = match created {
                    Ok(response) if response.status().is_success() => {
                        let value: serde_json::Value = response.json().await.unwrap_or_default();
                        latencies.push(t.elapsed());
                        value["result"]["id"]
                            .as_str()
                            .filter(|id| id.starts_with("whk-"))
                            .map(str::to_owned)
                    }
                    _ => {
                        failed += 1;
                        None
                    }
                };
                // Prism's mock invents ids that may not fit `^whk-`: fall back to a valid one.
                let id = id.unwrap_or_else(|| "whk-bench".to_owned());
                let t = Instant::now();
                let got = client
                    .get(format!("{base}/v1/webhooks/{id}"))
                    .bearer_auth("mon_test_bench")
                    .header("Monime-Space-Id", "spc-bench")
                    .send()
                    .await;
                match got {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => failed += 1,
                }
            }
            (latencies, failed)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut failed = 0;
    for worker in workers {
        let (mut l, f) = worker.await.unwrap();
        latencies.append(&mut l);
        failed += f;
    }
    let elapsed = started.elapsed();
    Outcome {
        name: server.name,
        completed: latencies.len(),
        failed,
        elapsed,
        latencies,
    }
}

fn report(outcome: &Outcome) {
    println!(
        "{:<12} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} ok, {} failed, {:.1} s)",
        outcome.name,
        outcome.rps(),
        outcome.percentile(0.50).as_secs_f64() * 1000.0,
        outcome.percentile(0.99).as_secs_f64() * 1000.0,
        outcome.completed,
        outcome.failed,
        outcome.elapsed.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this without it, and
    // then a short smoke run checks that the load generator and the emulator work together,
    // without spending the benchmark's seconds of load.
    if !std::env::args().any(|arg| arg == "--bench") {
        smoke();
        return;
    }
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/monime-webhooks.caph.2025-08-23.yaml"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let duration = Duration::from_secs(seconds);
    println!("create-then-get, {concurrency} loops in flight, {seconds} s per server\n");

    let mock = start_monime_mock();
    let ours = runtime.block_on(load(&mock, concurrency, duration));
    drop(mock);
    report(&ours);

    let Some(prism) = start_prism(spec) else {
        println!("prism mock   not measured: set PRISM_BIN (cargo xtask bench-mock does)");
        return;
    };
    let theirs = runtime.block_on(load(&prism, concurrency, duration));
    drop(prism);
    report(&theirs);

    let ratio = ours.rps() / theirs.rps().max(f64::MIN_POSITIVE);
    let p99_ms = ours.percentile(0.99).as_secs_f64() * 1000.0;
    println!(
        "\nmonime-mock / prism throughput: {ratio:.1}x ({}; goal >= 10x); monime-mock p99 {p99_ms:.2} ms ({}; goal < 5 ms)",
        if ratio >= 10.0 { "meets" } else { "MISSES" },
        if p99_ms < 5.0 { "meets" } else { "MISSES" },
    );
}

fn smoke() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mock = start_monime_mock();
    let outcome = runtime.block_on(load(&mock, 2, Duration::from_millis(300)));
    assert!(outcome.completed > 0, "smoke run: no request completed");
    assert_eq!(outcome.failed, 0, "smoke run: requests failed");
    println!(
        "throughput smoke run: {} create-then-get loops completed, none failed (`cargo bench` measures)",
        outcome.completed
    );
}
