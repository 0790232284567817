//! `send-test-event`: a realistic delivery, signed as Monime signs, POSTed to a receiver.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use monime_signature::{Event, EventName, ObjectRef, Signer};
use serde_json::{Value, json};

use crate::cli::{Failure, Output, SECRET_ENV, SendArgs, read_file};
use crate::output::{json_text, outln, printable};

/// The most of a receiver's answer read: enough for the excerpt and the de-duplication
/// comparison, and a receiver that streams forever cannot hold the command.
const RESPONSE_CAP: usize = 64 * 1024;

/// The client deliveries go out on: a receiver's redirect is reported, never followed (the
/// signed body would go to another host), and a silent receiver times out.
fn redirect_target(response: &reqwest::Response) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get(reqwest::header::LOCATION);
    Some(location.map_or_else(
        || "nowhere (no Location)".to_owned(),
        |value| String::from_utf8_lossy(value.as_bytes()).into_owned(),
    ))
}

/// Up to [`RESPONSE_CAP`] bytes of the answer, as text; the rest is never read.
async fn read_capped(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < RESPONSE_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(RESPONSE_CAP);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A plausible object for the event, built from the typed objects the receiver decodes.
fn sample_data(event_name: &str, object_id: &str) -> Value {
    serde_json::to_value(monime_signature::sample(event_name, object_id))
        .unwrap_or_else(|_| json!({ "id": object_id }))
}

fn id_prefix(object_type: &str) -> &str {
    match object_type {
        "payment" => "pay",
        "payout" => "pyt",
        "checkout_session" => "scs",
        "payment_code" => "pmc",
        _ => "obj",
    }
}

pub async fn send_test_event(args: &SendArgs, output: Option<Output>) -> Result<ExitCode, Failure> {
    crate::http::http_url(&args.to, "--to")?;
    let signer = match &args.es256_key {
        Some(path) => Signer::es256(&String::from_utf8_lossy(&read_file(path)?)),
        None => match args.secret.resolve()? {
            Some(secret) => Signer::hs256(&secret),
            None => {
                return Err(Failure::Usage(format!(
                    "give --secret, --secret-file or --es256-key, or set {SECRET_ENV}"
                )));
            }
        },
    }
    .map_err(|e| Failure::Usage(e.to_string()))?;
    let name = EventName::from(args.event.as_str());
    let object_type = name.object_type().to_owned();
    let object_id = format!(
        "{}-test{}",
        id_prefix(&object_type),
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let data = match &args.data {
        Some(path) => serde_json::from_slice(&read_file(path)?)
            .map_err(|e| Failure::Usage(format!("{} is not JSON: {e}", path.display())))?,
        None => sample_data(name.as_str(), &object_id),
    };
    let data = monime_signature::apply_overrides(&object_type, data, &args.overrides)
        .map_err(|e| Failure::Usage(format!("--set {e}")))?;
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
    )
    .unwrap_or(0);
    let event = Event {
        api_version: monime_webhooks::API_VERSION.to_owned(),
        id: format!("wkd-{}", uuid::Uuid::new_v4().simple()),
        name,
        timestamp: now,
        object: ObjectRef {
            id: object_id,
            kind: object_type,
        },
        data,
    };
    let body = event.to_json();
    let http = crate::http::client(Duration::from_secs(args.timeout))?;
    let json = output == Some(Output::Json);
    if !json {
        outln!("event {} {} to {}", event.id, event.name, args.to)?;
    }
    let mut answers = Vec::new();
    for attempt in 1..=args.repeat {
        let header = signer.sign_now(&body);
        let started = Instant::now();
        let outcome = http
            .post(&args.to)
            .header("content-type", "application/json")
            .header("monime-signature", header)
            .body(body.clone())
            .send()
            .await;
        let elapsed = started.elapsed();
        match outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                let location = redirect_target(&response);
                let text = read_capped(response).await;
                let excerpt: String = text.chars().take(80).collect::<String>().replace('\n', " ");
                let excerpt = match location {
                    Some(to) => format!("(a redirect to {to}, not followed) {excerpt}"),
                    None => excerpt,
                };
                if json {
                    let line = json!({
                        "event": event.id,
                        "name": event.name.to_string(),
                        "attempt": attempt,
                        "status": status,
                        "latencyMs": (elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
                        "answer": excerpt,
                    });
                    outln!("{}", json_text(&line, false))?;
                } else {
                    let excerpt = printable(&excerpt);
                    outln!(
                        "#{attempt}: {status} in {:.1} ms {excerpt}",
                        elapsed.as_secs_f64() * 1000.0
                    )?;
                }
                answers.push((status, text));
            }
            Err(error) => {
                let error = if error.is_timeout() {
                    format!("no answer within {} s (--timeout)", args.timeout)
                } else {
                    error.to_string()
                };
                if json {
                    let line = json!({
                        "event": event.id,
                        "name": event.name.to_string(),
                        "attempt": attempt,
                        "error": error,
                        "latencyMs": (elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
                    });
                    outln!("{}", json_text(&line, false))?;
                } else {
                    outln!(
                        "#{attempt}: failed after {:.1} ms: {}",
                        elapsed.as_secs_f64() * 1000.0,
                        printable(&error)
                    )?;
                }
                return Ok(ExitCode::from(1));
            }
        }
    }
    if args.repeat > 1 && json {
        let first = &answers[0];
        let line = json!({
            "event": event.id,
            "copies": args.repeat,
            "answeredAlike": answers.iter().skip(1).all(|answer| answer == first),
        });
        outln!("{}", json_text(&line, false))?;
    } else if args.repeat > 1 {
        let first = &answers[0];
        if answers.iter().skip(1).all(|answer| answer == first) {
            outln!(
                "the receiver answered all {} copies of {} the same way: de-duplication by event id is not visible from outside; make sure each event id is processed once",
                args.repeat,
                event.id
            )?;
        } else {
            outln!(
                "later copies of {} were answered differently: the receiver appears to de-duplicate by event id",
                event.id
            )?;
        }
    }
    let all_ok = answers
        .iter()
        .all(|(status, _)| (200..300).contains(status));
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
