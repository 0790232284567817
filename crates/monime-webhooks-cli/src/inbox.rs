//! `inbox`: the operator's view of a receiver's stored deliveries (monime-inbox's `PgQueue`)
//! in the database named by `DATABASE_URL`: list, show, retry, prune.

use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use monime_inbox::{PgQueue, PruneError, Status, Stored};
use serde_json::{Value, json};

use crate::cli::{Failure, Output};
use crate::output::{json_text, outln, printable};

/// The variable holding the connection string (a URL or `key=value` pairs).
pub const DATABASE_URL: &str = "DATABASE_URL";

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// The deliveries table (`name` or `schema.name`).
    #[arg(
        long,
        global = true,
        value_name = "TABLE",
        default_value = "monime_deliveries"
    )]
    pub table: String,
    #[command(subcommand)]
    pub command: InboxCommand,
}

#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// List stored deliveries, newest first.
    List {
        /// Only those with this status.
        #[arg(long, value_parser = parse_status)]
        status: Option<Status>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one stored delivery with its body.
    Show {
        /// The delivery's dedupe key (its event id unless the receiver chose another).
        key: String,
    },
    /// Make a dead or failed delivery due now, with a fresh count of attempts.
    Retry {
        /// The delivery's dedupe key.
        key: String,
    },
    /// Delete processed deliveries older than an age (at least the retention floor).
    Prune {
        /// The age, e.g. `8d`, `200h` (units s, m, h, d).
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        older_than: Duration,
    },
}

fn parse_status(text: &str) -> Result<Status, String> {
    Status::from_str(text)
}

fn parse_age(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{text}` is not an age: write a number and s, m, h or d"
            ));
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is not an age: write a number and s, m, h or d"))
}

pub async fn run(args: &InboxArgs, output: Output) -> Result<ExitCode, Failure> {
    let queue = PgQueue::new(&args.table).map_err(|e| Failure::Usage(e.to_string()))?;
    let client = connect().await?;
    let database = |e: tokio_postgres::Error| Failure::Failed(format!("the database failed: {e}"));
    match &args.command {
        InboxCommand::List { status, limit } => {
            let rows = queue
                .list(&client, *status, *limit)
                .await
                .map_err(database)?;
            if output == Output::Json {
                let rows: Vec<Value> = rows.iter().map(row_json).collect();
                outln!("{}", json_text(&Value::Array(rows), true))?;
                return Ok(ExitCode::SUCCESS);
            }
            outln!(
                "{:<28}  {:<8}  {:>8}  {:<20}  {:<26}  LAST ERROR",
                "KEY",
                "STATUS",
                "ATTEMPTS",
                "RECEIVED",
                "EVENT"
            )?;
            for row in &rows {
                outln!(
                    "{:<28}  {:<8}  {:>8}  {:<20}  {:<26}  {}",
                    printable(&row.key),
                    row.status.as_str(),
                    row.attempts,
                    time(row.received_at),
                    printable(&row.event_name),
                    printable(row.last_error.as_deref().unwrap_or("")),
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        InboxCommand::Show { key } => {
            let Some((row, body)) = queue.show(&client, key).await.map_err(database)? else {
                return Err(Failure::Failed(format!(
                    "no stored delivery has key {}",
                    printable(key)
                )));
            };
            let body_text = String::from_utf8_lossy(&body);
            if output == Output::Json {
                let mut value = row_json(&row);
                value["body"] = Value::String(body_text.into_owned());
                outln!("{}", json_text(&value, true))?;
                return Ok(ExitCode::SUCCESS);
            }
            outln!("key:         {}", printable(&row.key))?;
            outln!(
                "event:       {} {}",
                printable(&row.event_id),
                printable(&row.event_name)
            )?;
            outln!(
                "status:      {} after {} attempt(s)",
                row.status.as_str(),
                row.attempts
            )?;
            outln!("received:    {}", time(row.received_at))?;
            outln!("due:         {}", time(row.due_at))?;
            outln!(
                "last error:  {}",
                printable(row.last_error.as_deref().unwrap_or("-"))
            )?;
            outln!("body ({} bytes):\n{}", row.body_len, printable(&body_text))?;
            Ok(ExitCode::SUCCESS)
        }
        InboxCommand::Retry { key } => {
            if queue.retry(&client, key).await.map_err(database)? {
                outln!("{} is due now", printable(key))?;
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Failure::Failed(format!(
                    "no dead or waiting delivery has key {}: unknown, processed already, or \
                     held by a worker right now",
                    printable(key)
                )))
            }
        }
        InboxCommand::Prune { older_than } => match queue.prune(&client, *older_than).await {
            Ok(deleted) => {
                outln!("deleted {deleted} processed deliveries")?;
                Ok(ExitCode::SUCCESS)
            }
            Err(error @ PruneError::BelowFloor { .. }) => Err(Failure::Usage(error.to_string())),
            Err(error) => Err(Failure::Failed(error.to_string())),
        },
    }
}

/// A connection to `DATABASE_URL`. Its text (which may hold a password) is never printed.
async fn connect() -> Result<tokio_postgres::Client, Failure> {
    let url = std::env::var(DATABASE_URL).map_err(|_| {
        Failure::Usage(format!(
            "set {DATABASE_URL} to the receiver's database, e.g. postgres://app@127.0.0.1/shop"
        ))
    })?;
    let config = tokio_postgres::Config::from_str(&url).map_err(|_| {
        Failure::Usage(format!(
            "{DATABASE_URL} is not a PostgreSQL connection string"
        ))
    })?;
    // These commands speak PostgreSQL without TLS: payment bodies must not cross a network in
    // cleartext unless the user said so.
    let local = |host: &tokio_postgres::config::Host| match host {
        tokio_postgres::config::Host::Tcp(name) => {
            matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
        }
        tokio_postgres::config::Host::Unix(_) => true,
    };
    if !config.get_hosts().iter().all(local)
        && config.get_ssl_mode() != tokio_postgres::config::SslMode::Disable
    {
        return Err(Failure::Usage(format!(
            "{DATABASE_URL} names a host other than this machine, and these commands do not \
             speak TLS: connect through a local tunnel (ssh -L), or add sslmode=disable to \
             accept cleartext"
        )));
    }
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| Failure::Failed(format!("cannot connect to {DATABASE_URL}: {e}")))?;
    tokio::spawn(connection);
    Ok(client)
}

fn time(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn row_json(row: &Stored) -> Value {
    json!({
        "key": row.key,
        "eventId": row.event_id,
        "eventName": row.event_name,
        "status": row.status.as_str(),
        "attempts": row.attempts,
        "receivedAt": time(row.received_at),
        "dueAt": time(row.due_at),
        "lastError": row.last_error,
        "bodyBytes": row.body_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_take_a_unit_and_refuse_anything_else() {
        assert_eq!(parse_age("8d"), Ok(Duration::from_secs(8 * 86_400)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "8", "d", "8w", "-1d", "1.5d", "99999999999999999999d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
