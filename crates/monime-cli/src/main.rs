//! `monime-webhooks`: manage Monime webhooks from a terminal or a script, and debug receivers
//! (verify a delivery's signature, sign a body, send signed test events).
//!
//! Exit codes: 0 success; 1 an API error or a signature that does not verify; 2 a usage error.

mod cli;
mod diagnose;
mod manage;
mod output;
mod send;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output::errln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(failure) => {
            // The message may quote the API or a receiver: escape what could steer a terminal.
            output::errln!("error: {}", output::printable(&failure.to_string()));
            ExitCode::from(failure.exit_code())
        }
    }
}
