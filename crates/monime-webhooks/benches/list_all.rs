//! `cargo bench -p monime-webhooks --bench list_all`: the client's streaming behaviour.
//!
//! `list_all` over 1,000 and 10,000 webhooks served by a monime-mock process: wall time
//! (linear growth expected) and this process's peak heap during each walk (flat expected: one
//! page in memory at a time), counted by a global allocator.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use monime_mock::MockProcess;
use monime_webhooks::Client;
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

const TOKEN: &str = "mon_test_bench";

fn start_emulator() -> MockProcess {
    let binary = target_dir().join("release/monime-mock");
    let binary = if binary.exists() {
        binary
    } else {
        target_dir().join("debug/monime-mock")
    };
    MockProcess::spawn(&binary, &[]).unwrap_or_else(|e| {
        panic!(
            "start {} (build it with cargo build -p monime-mock): {e}",
            binary.display()
        )
    })
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn client_for(url: &str, space: &str) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .space_id(space)
        .api_url(url)
        .build()
        .unwrap()
}

async fn seed(client: &Client, count: usize) {
    futures_util::stream::iter(0..count)
        .map(|i| {
            let client = client.clone();
            async move {
                client
                    .create()
                    .name(format!("hook {i}"))
                    .url("https://shop.example/hooks/monime")
                    .events(["payment.completed", "payout.failed"])
                    .metadata_entry("team", "payments")
                    .send()
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
}

/// Walks every webhook once; returns the count, the time and the peak heap growth.
async fn walk(client: &Client) -> (usize, Duration, usize) {
    let baseline = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let started = Instant::now();
    let mut stream = std::pin::pin!(client.list_all());
    let mut count = 0;
    while let Some(webhook) = stream.next().await {
        black_box(webhook.unwrap());
        count += 1;
    }
    (
        count,
        started.elapsed(),
        HEAP.peak_usage().saturating_sub(baseline),
    )
}

fn list_all_scaling(runtime: &tokio::runtime::Runtime, scale: Scale) {
    let (small_size, large_size) = scale.sizes;
    let emulator = start_emulator();
    let small = client_for(emulator.url(), "spc-small");
    let large = client_for(emulator.url(), "spc-large");
    runtime.block_on(async {
        seed(&small, small_size).await;
        seed(&large, large_size).await;
        // Warm up the connection pool, its buffers and the allocator before measuring.
        walk(&small).await;
        walk(&large).await;
        let mut small_runs = Vec::new();
        let mut large_runs = Vec::new();
        for _ in 0..scale.walks {
            small_runs.push(walk(&small).await);
            large_runs.push(walk(&large).await);
        }
        let best = |runs: &[(usize, Duration, usize)]| {
            let mut times: Vec<Duration> = runs.iter().map(|r| r.1).collect();
            times.sort_unstable();
            times[times.len() / 2]
        };
        println!("\nper walk (ms, peak KiB): 1k {:?}, 10k {:?}",
            small_runs.iter().map(|r| (r.1.as_millis(), r.2 / 1024)).collect::<Vec<_>>(),
            large_runs.iter().map(|r| (r.1.as_millis(), r.2 / 1024)).collect::<Vec<_>>());
        // The median walk's peak: a rare spike (a new pooled connection's buffers, ~33 KiB)
        // lands in either size at random and says nothing about how memory scales.
        let peak = |runs: &[(usize, Duration, usize)]| {
            let mut peaks: Vec<usize> = runs.iter().map(|r| r.2).collect();
            peaks.sort_unstable();
            peaks[peaks.len() / 2]
        };
        let largest = |runs: &[(usize, Duration, usize)]| runs.iter().map(|r| r.2).max().unwrap();
        assert!(small_runs.iter().all(|r| r.0 == small_size) && large_runs.iter().all(|r| r.0 == large_size));
        let (t1, t10) = (best(&small_runs), best(&large_runs));
        let (m1, m10) = (peak(&small_runs), peak(&large_runs));
        let time_ratio = t10.as_secs_f64() / t1.as_secs_f64();
        let memory_ratio = m10 as f64 / m1.max(1) as f64;
        println!(
            "\nlist_all (medians of {} walks: time, and peak heap growth of this process):",
            scale.walks
        );
        println!(
            "  {small_size} webhooks: {:>8.1} ms, peak heap +{:>7.1} KiB (largest: +{:.1} KiB)",
            t1.as_secs_f64() * 1e3,
            m1 as f64 / 1024.0,
            largest(&small_runs) as f64 / 1024.0
        );
        println!(
            "  {large_size} webhooks: {:>7.1} ms, peak heap +{:>7.1} KiB (largest: +{:.1} KiB)",
            t10.as_secs_f64() * 1e3,
            m10 as f64 / 1024.0,
            largest(&large_runs) as f64 / 1024.0
        );
        println!(
            "  time 10k/1k = {time_ratio:.2}x ({}; goal <= 11x); peak heap 10k/1k = {memory_ratio:.2}x ({}; goal <= 1.2x)",
            if time_ratio <= 11.0 { "meets" } else { "MISSES" },
            if memory_ratio <= 1.2 { "meets" } else { "MISSES" },
        );
    });
}

/// How much each part does: `cargo bench` passes `--bench` and measures; `cargo test
/// --all-targets` runs the same code as a smoke test (criterion runs each function once).
#[derive(Clone, Copy)]
struct Scale {
    /// Webhooks in the small and the large space.
    sizes: (usize, usize),
    walks: usize,
}

const FULL: Scale = Scale {
    sizes: (1_000, 10_000),
    walks: 7,
};
const SMOKE: Scale = Scale {
    sizes: (60, 120),
    walks: 1,
};

fn main() {
    let scale = if std::env::args().any(|arg| arg == "--bench") {
        FULL
    } else {
        SMOKE
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    list_all_scaling(&runtime, scale);
}
