//! `monime-webhooks`: manage Monime webhooks from a terminal or a script, and debug receivers
//! (verify a delivery's signature, sign a body, send signed test events).
//!
//! Exit codes: 0 success; 1 an API error or a signature that does not verify; 2 a usage error.

#![warn(missing_docs)]

mod body_flags;
mod cli;
mod completions;
mod deliveries;
mod diagnose;
mod http;
mod inbox;
mod listen;
mod manage;
mod output;
mod record;
mod replay;
mod send;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, Failure, Output};

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
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(failure) => {
            // The message may quote the API or a receiver: escape what could steer a terminal.
            output::errln!("error: {}", output::printable(&failure.to_string()));
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Runs the parsed command.
async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let output = cli.output.unwrap_or(if std::io::stdout().is_terminal() {
        Output::Table
    } else {
        Output::Json
    });
    let view = output::View {
        output,
        show_secrets: cli.show_secrets,
    };
    match cli.command {
        // Text unless `--output json` is given: their lines are read by people first.
        Command::Verify(args) => diagnose::verify(&args, cli.output),
        Command::Sign(args) => diagnose::sign(&args, cli.output),
        Command::SendTestEvent(args) => send::send_test_event(&args, cli.output).await,
        Command::Listen(args) => listen::listen(&args, cli.output).await,
        Command::Inbox(args) => inbox::run(&args, output).await,
        Command::Replay(args) => replay::replay(&args, output).await,
        Command::Deliveries(args) => {
            deliveries::run(&args, cli.api_url, output, cli.show_secrets).await
        }
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
        command => manage::run(command, cli.api_url, view).await,
    }
}
