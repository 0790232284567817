//! `replay`: send recorded deliveries to a receiver again, bodies unchanged, re-signed with a
//! fresh timestamp when given the secret; with duplicates, shuffling, concurrency and repeats
//! it is an idempotency test for the receiver's own exactly-once path.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use monime_signature::{Event, SIGNATURE_HEADER, Signer};
use serde_json::json;

use crate::cli::{Failure, Output, ReplayArgs};
use crate::diagnose::unix_now;
use crate::listen::HOP_BY_HOP;
use crate::output::{errln, json_text, outln, printable};
use crate::record::{Recording, read_all};

/// How long the receiver may take to answer one delivery.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The order deliveries go in: every recording `repeat` times, plus `duplicates` times that
/// many extra copies of recordings picked at random, shuffled if asked.
pub fn plan(
    count: usize,
    repeat: u32,
    duplicates: f64,
    shuffle: bool,
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..repeat).flat_map(|_| 0..count).collect();
    // Truncation is the rule: 0.5 of 5 deliveries is 2 extra copies.
    let extra = (order.len() as f64 * duplicates).floor() as usize;
    for _ in 0..extra {
        order.push(rng.usize(..count));
    }
    if shuffle {
        rng.shuffle(&mut order);
    }
    order
}

pub async fn replay(args: &ReplayArgs, output: Output) -> Result<ExitCode, Failure> {
    let to = crate::http::http_url(&args.to, "--to")?;
    let signer = match args.secret.resolve()? {
        Some(secret) => Some(Signer::hs256(&secret).map_err(|e| Failure::Usage(e.to_string()))?),
        None => None,
    };
    let mut recordings = read_all(&args.dir)?;
    // Anyone who reached `listen` could have recorded a body: one that did not verify is not
    // replayed, least of all re-signed with the real secret, unless asked for.
    let recorded = recordings.len();
    if !args.include_invalid {
        recordings.retain(|(_, recording)| recording.valid);
    }
    if recordings.len() < recorded {
        errln!(
            "{} recordings did not verify when recorded and are not sent (--include-invalid sends them)",
            recorded - recordings.len()
        );
    }
    if recordings.is_empty() {
        return Err(Failure::Usage("no recording to send".to_owned()));
    }
    let mut rng = args
        .seed
        .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
    let order = plan(
        recordings.len(),
        args.repeat,
        args.duplicates,
        args.shuffle,
        &mut rng,
    );
    let http = crate::http::client(TIMEOUT)?;
    let sends = order.iter().map(|&index| {
        let (http, to, signer) = (&http, &to, signer.as_ref());
        let recording = &recordings[index].1;
        async move { (index, send(http, to, signer, recording).await) }
    });
    let mut answers =
        futures_util::stream::iter(sends).buffer_unordered(usize::from(args.concurrency));
    let (mut sent, mut failed) = (0usize, 0usize);
    while let Some((index, answer)) = answers.next().await {
        sent += 1;
        let recording = &recordings[index].1;
        let id = Event::parse(&recording.body)
            .map(|e| e.id)
            .unwrap_or_default();
        let ok = matches!(answer.status, Some(status) if (200..300).contains(&status));
        failed += usize::from(!ok);
        let millis = answer.latency.as_secs_f64() * 1000.0;
        match output {
            Output::Json => outln!(
                "{}",
                json_text(
                    &json!({
                        "file": recordings[index].0.file_name().map(|n| n.to_string_lossy()),
                        "id": id,
                        "status": answer.status,
                        "error": answer.error,
                        "latencyMs": (millis * 10.0).round() / 10.0,
                    }),
                    false
                )
            )?,
            Output::Table => outln!(
                "{} {:>8.1} ms  {}",
                answer.status.map_or("---".to_owned(), |s| s.to_string()),
                millis,
                printable(&match &answer.error {
                    Some(error) => format!("{id}: {error}"),
                    None => id,
                })
            )?,
        }
    }
    errln!(
        "{sent} deliveries sent to {}, {failed} not answered 2xx",
        printable(to.host_str().unwrap_or(""))
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

struct Answer {
    status: Option<u16>,
    error: Option<String>,
    latency: Duration,
}

/// Sends one recording: its body unchanged, its headers as recorded, or re-signed now.
async fn send(
    http: &reqwest::Client,
    to: &reqwest::Url,
    signer: Option<&Signer>,
    recording: &Recording,
) -> Answer {
    let mut request = http.post(to.clone()).body(recording.body.clone());
    for (name, value) in &recording.headers {
        let name_lower = name.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&name_lower.as_str())
            || (signer.is_some() && name_lower == SIGNATURE_HEADER)
        {
            continue;
        }
        request = request.header(name, value);
    }
    if let Some(signer) = signer {
        request = request.header(SIGNATURE_HEADER, signer.sign(unix_now(), &recording.body));
    }
    let started = Instant::now();
    let result = request.send().await;
    let latency = started.elapsed();
    match result {
        Ok(response) => Answer {
            status: Some(response.status().as_u16()),
            error: None,
            latency,
        },
        Err(error) => Answer {
            status: None,
            error: Some(error.without_url().to_string()),
            latency,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_every_recording_repeat_times_plus_the_duplicates() {
        let mut rng = fastrand::Rng::with_seed(7);
        let plain = plan(4, 1, 0.0, false, &mut rng);
        assert_eq!(plain, [0, 1, 2, 3]);
        let planned = plan(4, 2, 0.5, true, &mut rng);
        assert_eq!(planned.len(), 8 + 4);
        for index in 0..4 {
            assert!(planned.iter().filter(|&&i| i == index).count() >= 2);
        }
    }
}
