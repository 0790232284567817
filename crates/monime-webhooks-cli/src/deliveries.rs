//! `deliveries`: the emulator's delivery log (`/_mock/deliveries`): list the attempts, show
//! one with its request, resend one. Only for the emulator, so its URL must be named.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::cli::{Failure, Output};
use crate::output::{MASK, json_text, outln, printable};

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    #[command(subcommand)]
    pub command: DeliveriesCommand,
}

#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// List the logged delivery attempts, oldest first.
    List,
    /// Show one attempt: its request headers and body, and the receiver's answer.
    Show {
        /// The attempt's id (dla-...).
        id: String,
    },
    /// Send an attempt's body to its webhook again, signed now, as a new attempt.
    Resend {
        /// The attempt's id (dla-...).
        id: String,
    },
}

/// Headers whose values are not secrets; every other value is masked unless
/// `--show-secrets` (a webhook's custom headers often carry the receiver's credentials).
const SHOWN_HEADERS: [&str; 2] = ["content-type", "monime-signature"];

pub async fn run(
    args: &DeliveriesArgs,
    api_url: Option<String>,
    output: Output,
    show_secrets: bool,
) -> Result<ExitCode, Failure> {
    let base = api_url
        .or_else(|| std::env::var("MONIME_API_URL").ok())
        .ok_or_else(|| {
            Failure::Usage(
                "name the emulator with --api-url or MONIME_API_URL: the delivery log is the \
                 emulator's, Monime has none at this address"
                    .to_owned(),
            )
        })?;
    let base = crate::http::http_url(&base, "the emulator's URL")?;
    let http = crate::http::client(Duration::from_secs(30))?;
    let url = |path: &str| base.join(path).map_err(|e| Failure::Usage(e.to_string()));
    match &args.command {
        DeliveriesCommand::List => {
            let attempts = call(http.get(url("/_mock/deliveries")?)).await?;
            let attempts = attempts.as_array().cloned().unwrap_or_default();
            if output == Output::Table {
                outln!(
                    "{:<30}  {:<36}  {:>2}  {:>6}  {:>9}  {:<36}  EVENT",
                    "TIME",
                    "ATTEMPT",
                    "#",
                    "STATUS",
                    "LATENCY",
                    "EVENT ID"
                )?;
            }
            for attempt in &attempts {
                print_attempt(attempt, output, show_secrets)?;
            }
        }
        DeliveriesCommand::Show { id } => {
            let attempts = call(http.get(url("/_mock/deliveries")?)).await?;
            let attempt = attempts
                .as_array()
                .and_then(|all| all.iter().find(|a| a["id"] == id.as_str()))
                .ok_or_else(|| {
                    Failure::Failed(format!("no attempt {} in the log", printable(id)))
                })?;
            let attempt = masked(attempt, show_secrets);
            if output == Output::Json {
                outln!("{}", json_text(&attempt, true))?;
                return Ok(ExitCode::SUCCESS);
            }
            print_attempt(&attempt, Output::Table, show_secrets)?;
            outln!("POST {}", printable(attempt["url"].as_str().unwrap_or("")))?;
            for pair in attempt["requestHeaders"].as_array().into_iter().flatten() {
                let (name, value) = (
                    pair[0].as_str().unwrap_or(""),
                    pair[1].as_str().unwrap_or(""),
                );
                outln!("{}: {}", printable(name), printable(value))?;
            }
            let body = attempt["body"].as_str().unwrap_or("");
            let pretty = serde_json::from_str::<Value>(body)
                .map(|value| json_text(&value, true))
                .unwrap_or_else(|_| printable(body).into_owned());
            outln!("\n{pretty}")?;
            if let Some(answer) = attempt["responseExcerpt"].as_str() {
                outln!("\nanswer: {}", printable(answer))?;
            }
        }
        DeliveriesCommand::Resend { id } => {
            let path = format!("/_mock/deliveries/{}/resend", path_segment(id)?);
            let attempt = call(http.post(url(&path)?)).await?;
            print_attempt(&attempt, output, show_secrets)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An attempt id as a path segment: `dla-` and letters or digits only, so it cannot leave
/// its segment.
fn path_segment(id: &str) -> Result<&str, Failure> {
    let plain = id.strip_prefix("dla-").is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if plain {
        Ok(id)
    } else {
        Err(Failure::Usage(format!(
            "`{}` is not an attempt id (dla-...)",
            printable(id)
        )))
    }
}

/// The emulator's answer's `result`, or its error message.
async fn call(request: reqwest::RequestBuilder) -> Result<Value, Failure> {
    let response = request.send().await.map_err(|e| {
        Failure::Failed(format!("the emulator did not answer: {}", e.without_url()))
    })?;
    let status = response.status();
    let envelope: Value = response
        .json()
        .await
        .map_err(|e| Failure::Failed(format!("the emulator's answer is not JSON: {e}")))?;
    if !status.is_success() {
        let message = envelope["error"]["message"]
            .as_str()
            .unwrap_or("no message");
        return Err(Failure::Failed(format!("{status}: {}", printable(message))));
    }
    Ok(envelope["result"].clone())
}

/// `attempt` with its request header values masked, unless `show_secrets`.
fn masked(attempt: &Value, show_secrets: bool) -> Value {
    let mut attempt = attempt.clone();
    if show_secrets {
        return attempt;
    }
    let headers = attempt
        .get_mut("requestHeaders")
        .and_then(Value::as_array_mut);
    for pair in headers.into_iter().flatten() {
        let shown = pair
            .get(0)
            .and_then(Value::as_str)
            .is_some_and(|name| SHOWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()));
        if let Some(value) = pair.get_mut(1).filter(|_| !shown) {
            *value = Value::String(MASK.to_owned());
        }
    }
    attempt
}

fn print_attempt(attempt: &Value, output: Output, show_secrets: bool) -> Result<(), Failure> {
    if output == Output::Json {
        return outln!("{}", json_text(&masked(attempt, show_secrets), false));
    }
    let text = |key: &str| attempt[key].as_str().unwrap_or("").to_owned();
    let status = attempt["status"]
        .as_u64()
        .map_or_else(|| "---".to_owned(), |s| s.to_string());
    outln!(
        "{:<30}  {:<36}  {:>2}  {:>6}  {:>6.1} ms  {:<36}  {}",
        printable(&text("time")),
        printable(&text("id")),
        attempt["attempt"].as_u64().unwrap_or(0),
        status,
        attempt["latencyMs"].as_f64().unwrap_or(0.0),
        printable(&text("eventId")),
        printable(&text("eventName")),
    )
}
