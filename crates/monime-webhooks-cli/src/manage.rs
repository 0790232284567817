//! The commands that call the API: list, create, get, update, delete.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use futures_util::StreamExt;
use monime_webhooks::{Client, ClientBuilder};
use serde_json::Value;

use crate::body_flags::Change;
use crate::cli::{Command, CreateArgs, Failure, Output, UpdateArgs};
use crate::output::View;

fn client(api_url: Option<String>) -> Result<Client, Failure> {
    let mut builder = ClientBuilder::from_env();
    if let Some(url) = api_url {
        builder = builder.api_url(url);
    }
    Ok(builder.build()?)
}

use crate::output::{errln, write_failed as io};

pub async fn run(
    command: Command,
    api_url: Option<String>,
    view: View,
) -> Result<ExitCode, Failure> {
    let client = client(api_url)?;
    let mut out = crate::output::stdout();
    match command {
        Command::List => {
            view.list_header(&mut out).map_err(io)?;
            let mut stream = std::pin::pin!(client.list_all());
            while let Some(webhook) = stream.next().await {
                view.list_row(&mut out, &webhook?).map_err(io)?;
                // Rows appear as pages arrive, even through a pipe.
                out.flush().map_err(io)?;
            }
        }
        Command::Create(args) => {
            let webhook = create(&client, args).await?;
            view.detail(&mut out, &webhook).map_err(io)?;
        }
        Command::Get { id } => {
            let webhook = client.get(&id).await?;
            view.detail(&mut out, &webhook).map_err(io)?;
        }
        Command::Update(args) => {
            let webhook = update(&client, args).await?;
            view.detail(&mut out, &webhook).map_err(io)?;
        }
        Command::Delete { id, yes } => {
            if !yes && std::io::stdin().is_terminal() && !confirm(&id)? {
                errln!("not deleted");
                return Ok(ExitCode::from(1));
            }
            client.delete(&id).await?;
            if view.output == Output::Json {
                writeln!(out, "{}", serde_json::json!({ "deleted": id })).map_err(io)?;
            } else {
                writeln!(out, "deleted {id}").map_err(io)?;
            }
        }
        Command::Verify(_)
        | Command::Sign(_)
        | Command::SendTestEvent(_)
        | Command::Listen(_)
        | Command::Inbox(_)
        | Command::Replay(_)
        | Command::Deliveries(_)
        | Command::Completions(_)
        | Command::Man(_) => {
            unreachable!("handled without the API")
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn create(client: &Client, args: CreateArgs) -> Result<monime_webhooks::Webhook, Failure> {
    let mut request = client.create();
    for change in args.body.0 {
        if let Change::Set(key, value) = change {
            request = request.property(key, value);
        }
    }
    let secret = match (args.hs256_secret, &args.hs256_secret_file) {
        (Some(secret), _) => Some(secret.0),
        (None, Some(path)) => Some(crate::cli::secret_from_file(path)?),
        (None, None) => None,
    };
    if let Some(secret) = secret {
        request = request.hs256(secret);
    } else if args.es256 {
        request = request.es256();
    }
    if let Some(key) = args.idempotency_key {
        request = request.idempotency_key(key);
    }
    Ok(request.send().await?.into_inner())
}

async fn update(client: &Client, args: UpdateArgs) -> Result<monime_webhooks::Webhook, Failure> {
    let mut request = client.update(&args.id);
    for change in args.body.0 {
        request = match change {
            Change::Set(key, value) => request.property(key, value),
            Change::Clear(key) => request.property(key, Value::Null),
        };
    }
    Ok(request.send().await?.into_inner())
}

fn confirm(id: &str) -> Result<bool, Failure> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "delete {id}? This cannot be undone. [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::Failed(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
