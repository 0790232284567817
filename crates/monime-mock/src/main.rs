//! `monime-mock`: the emulator as a process, for demos, other languages and contract tests.

#![warn(missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use monime_mock::{Faults, MockConfig, MonimeMock};

/// A local emulator of Monime's Webhooks API that also delivers signed events.
#[derive(Debug, Parser)]
#[command(name = "monime-mock", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Accept only this bearer token (repeatable). Default: any token starting `mon_`.
    #[arg(long = "token")]
    tokens: Vec<String>,
    /// Seed for fault injection.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Share of /v1 requests answered 500/502/503 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share of /v1 requests answered 429.
    #[arg(long, default_value_t = 0.0)]
    rate_limit_rate: f64,
    /// Retry-After seconds on injected 429s.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Share of /v1 requests that take effect and then lose their response.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Latency added to every /v1 request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    body_limit: usize,
    /// Close a connection whose request headers take longer than this, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    header_read_timeout_ms: u64,
    /// Fail a request whose body takes longer than this after its headers, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    body_read_timeout_ms: u64,
    /// Open connections at most; more are answered 503 and closed.
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Delivery attempts kept in the log (/_mock/deliveries); the oldest go first.
    #[arg(long, default_value_t = 10_000)]
    delivery_log_limit: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rates = [args.error_rate, args.rate_limit_rate, args.drop_rate];
    if rates.iter().any(|r| !(0.0..=1.0).contains(r)) || rates.iter().sum::<f64>() > 1.0 {
        eprintln!("error: fault rates must each be within 0.0..=1.0 and add up to at most 1.0");
        return std::process::ExitCode::from(2);
    }
    let config = MockConfig {
        tokens: args.tokens,
        faults: Faults {
            seed: args.seed,
            server_error_rate: args.error_rate,
            rate_limit_rate: args.rate_limit_rate,
            retry_after_secs: args.retry_after,
            drop_after_commit_rate: args.drop_rate,
            latency: Duration::from_millis(args.latency_ms),
        },
        body_limit: args.body_limit,
        header_read_timeout: Duration::from_millis(args.header_read_timeout_ms),
        body_read_timeout: Duration::from_millis(args.body_read_timeout_ms),
        max_connections: args.max_connections,
        delivery_log_limit: args.delivery_log_limit,
        ..MockConfig::default()
    };
    if !args.addr.ip().is_loopback() {
        // The emulator has no TLS, accepts any `mon_` token by default and serves the
        // unauthenticated `/_mock` controls on this same address.
        eprintln!(
            "warning: {} is not a loopback address; monime-mock is a local test tool, do not \
             expose it beyond this machine",
            args.addr
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let mock = match MonimeMock::start_with(config, args.addr).await {
            Ok(mock) => mock,
            Err(error) => {
                eprintln!("error: cannot listen on {}: {error}", args.addr);
                return std::process::ExitCode::FAILURE;
            }
        };
        println!("{}{}", monime_mock::LISTENING_LINE_PREFIX, mock.base_url());
        // On stderr: stdout's first line is what scripts read the address from.
        eprintln!("dashboard: {}/_mock/", mock.base_url());
        wait_for_stop_signal().await;
        mock.shutdown().await;
        std::process::ExitCode::SUCCESS
    })
}

async fn wait_for_stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
