//! `listen`: a local receiver that verifies each delivery, prints one line per event and
//! passes the delivery on, unchanged, to the app being written.
//!
//! It is an inspector, not a gate: a delivery that fails verification is still forwarded (the
//! app must verify it too, and will see the same failure), and its line says why it failed
//! with the same diagnosis `verify` gives.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use monime_mock::serve::ServerLimits;
use monime_signature::{Event, SIGNATURE_HEADER};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::cli::{Failure, ListenArgs, Output, read_file};
use crate::diagnose::{Key, likely_mistake, missing_secret, unix_now, without_hints};
use crate::output::{errln, json_text, printable};
use crate::record::{Recorder, Recording};

/// Deliveries larger than this are refused with 413; Monime's events are a few kilobytes.
const BODY_LIMIT: usize = 1024 * 1024;

/// How long one sender's connection may stay open (then it closes after its current
/// delivery; senders reconnect).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// How long the app may take to answer a forwarded delivery.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// Headers that describe one connection, not the delivery, so they are not forwarded (nor
/// replayed).
pub(crate) const HOP_BY_HOP: [&str; 6] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
];

/// What every request handler shares.
struct Listener {
    key: Key,
    tolerance: Duration,
    forward_to: Option<reqwest::Url>,
    http: reqwest::Client,
    output: Output,
    received: AtomicU64,
    invalid: AtomicU64,
    max_events: Option<u64>,
    done: Notify,
    lines: Lines,
    recorder: Option<Recorder>,
    include_body: bool,
}

/// The event lines, written to stdout by a thread of their own: a reader that stops reading
/// (`listen | less`, not scrolled) blocks that thread, never the receiver or its shutdown.
/// Lines beyond what it holds are dropped, and counted at the end.
struct Lines {
    queue: std::sync::Mutex<Option<std::sync::mpsc::SyncSender<String>>>,
    written: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    dropped: AtomicU64,
}

impl Lines {
    fn start() -> Lines {
        let (queue, lines) = std::sync::mpsc::sync_channel::<String>(4096);
        let (done, written) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines {
                // A reader that went away is fine (see output::stdout).
                let _ = writeln!(crate::output::stdout(), "{line}");
            }
            let _ = done.send(());
        });
        Lines {
            queue: std::sync::Mutex::new(Some(queue)),
            written: std::sync::Mutex::new(written),
            dropped: AtomicU64::new(0),
        }
    }

    fn print(&self, line: String) {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue
            .as_ref()
            .is_none_or(|queue| queue.try_send(line).is_err())
        {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Waits up to `limit` for the queued lines to be written.
    fn finish(&self, limit: Duration) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let _ = written.recv_timeout(limit);
    }
}

/// The key from `--public-key`, or the secret from `--secret`, `--secret-file` or the
/// environment, as `verify` reads them.
fn key(args: &ListenArgs) -> Result<Key, Failure> {
    let key = match &args.public_key {
        Some(path) => Key::PublicKey(String::from_utf8_lossy(&read_file(path)?).into_owned()),
        None => Key::Secret(args.secret.resolve()?.ok_or_else(missing_secret)?),
    };
    // An unusable secret or key is a usage error, found before listening.
    key.verifier().map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(key)
}

/// `monime-webhooks listen`: exit 0 when every delivery verified, 1 when one did not.
pub async fn listen(args: &ListenArgs, output: Option<Output>) -> Result<ExitCode, Failure> {
    let key = key(args)?;
    let forward_to = args
        .forward_to
        .as_deref()
        .map(|url| crate::http::http_url(url, "--forward-to"))
        .transpose()?;
    let http = crate::http::client(FORWARD_TIMEOUT)?;
    let output = output.unwrap_or(if std::io::stdout().is_terminal() {
        Output::Table
    } else {
        Output::Json
    });
    let address = SocketAddr::from(([127, 0, 0, 1], args.port));
    let socket = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {address}: {e}")))?;
    let bound = socket
        .local_addr()
        .map_err(|e| Failure::Failed(format!("cannot read the bound address: {e}")))?;
    let state = Arc::new(Listener {
        key,
        tolerance: Duration::from_secs(args.tolerance),
        forward_to,
        http,
        output,
        received: AtomicU64::new(0),
        invalid: AtomicU64::new(0),
        max_events: args.max_events,
        done: Notify::new(),
        lines: Lines::start(),
        recorder: args.record.as_deref().map(Recorder::create).transpose()?,
        include_body: args.include_body,
    });
    // On stderr, so stdout holds only event lines (one JSON object each with --output json).
    match &state.forward_to {
        Some(url) => errln!("listening on http://{bound}, forwarding to {}", masked(url)),
        None => errln!("listening on http://{bound}"),
    }
    let app = Router::new()
        .fallback(receive)
        .with_state(Arc::clone(&state));
    let limits = ServerLimits {
        header_read_timeout: Duration::from_millis(args.read_timeout_ms),
        body_read_timeout: Duration::from_millis(args.read_timeout_ms),
        max_connections: usize::try_from(args.max_connections).unwrap_or(64),
        shutdown_grace: Duration::from_millis(args.shutdown_grace_ms),
        connection_lifetime: CONNECTION_LIFETIME,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(monime_mock::serve::serve(socket, app, limits, stopped));
    tokio::select! {
        () = state.done.notified() => {}
        () = interrupted() => {
            errln!("stopping (press Ctrl-C again to stop at once)");
            tokio::spawn(async {
                interrupted().await;
                std::process::exit(130);
            });
        }
    }
    let _ = stop.send(true);
    let _ = server.await;
    let (received, invalid) = (
        state.received.load(Ordering::SeqCst),
        state.invalid.load(Ordering::SeqCst),
    );
    state
        .lines
        .finish(limits.shutdown_grace.max(Duration::from_millis(200)));
    errln!("{received} deliveries, {invalid} not valid");
    let dropped = state.lines.dropped.load(Ordering::SeqCst);
    if dropped > 0 {
        errln!("{dropped} lines not printed: standard output was not being read");
    }
    Ok(if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `url` as it may be shown: any user-info and query replaced by `***`.
fn masked(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        let _ = shown.set_username("***");
        let _ = shown.set_password(None);
    }
    if shown.query().is_some() {
        shown.set_query(Some("***"));
    }
    printable(shown.as_str()).into_owned()
}

/// Ctrl-C, or SIGTERM on Unix.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The verdict on one delivery.
struct Verdict {
    valid: bool,
    /// Why it failed, and the likely mistake when the diagnosis finds one.
    reason: Option<String>,
    mistake: Option<String>,
}

fn judge(listener: &Listener, headers: &HeaderMap, body: &[u8]) -> Verdict {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let outcome = listener.key.verifier().and_then(|verifier| {
        verifier
            .with_tolerance(listener.tolerance)
            .verify_explained_at(signature, body, unix_now())
    });
    match outcome {
        Ok(_) => Verdict {
            valid: true,
            reason: None,
            mistake: None,
        },
        Err(error) => Verdict {
            valid: false,
            mistake: likely_mistake(&error),
            reason: Some(without_hints(&error).to_string()),
        },
    }
}

/// What the app answered, or why it could not be reached.
enum Forwarded {
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        latency: Duration,
    },
    Failed {
        error: String,
        latency: Duration,
    },
}

async fn forward(
    listener: &Listener,
    url: &reqwest::Url,
    method: Method,
    headers: &HeaderMap,
    body: Bytes,
) -> Forwarded {
    let mut request = listener.http.request(method, url.clone()).body(body);
    for (name, value) in headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            request = request.header(name, value);
        }
    }
    let started = Instant::now();
    let outcome = async {
        let response = request.send().await?;
        let status = response.status();
        let mut headers = response.headers().clone();
        for name in HOP_BY_HOP {
            headers.remove(name);
        }
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, headers, body))
    }
    .await;
    let latency = started.elapsed();
    match outcome {
        Ok((status, headers, body)) => Forwarded::Answered {
            status,
            headers,
            body,
            latency,
        },
        // Without the URL: it can hold credentials or a query the output must not show.
        Err(error) => Forwarded::Failed {
            error: error.without_url().to_string(),
            latency,
        },
    }
}

async fn receive(
    State(listener): State<Arc<Listener>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let received_at = chrono::Utc::now();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a delivery is at most {BODY_LIMIT} bytes"),
            )
                .into_response();
        }
    };
    let verdict = judge(&listener, &headers, &body);
    if let Some(recorder) = &listener.recorder {
        record(
            recorder,
            &received_at,
            uri.path(),
            &headers,
            &body,
            &verdict,
        );
    }
    let forwarded = match &listener.forward_to {
        Some(url) => Some(forward(&listener, url, method, &headers, body.clone()).await),
        None => None,
    };
    let line = Line {
        time: received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        path: uri.path(),
        event: Event::parse(&body).ok(),
        verdict: &verdict,
        forwarded: forwarded.as_ref(),
        body: listener
            .include_body
            .then(|| String::from_utf8_lossy(&body)),
    };
    listener.lines.print(line.render(listener.output));
    if !verdict.valid {
        listener.invalid.fetch_add(1, Ordering::SeqCst);
    }
    let count = listener.received.fetch_add(1, Ordering::SeqCst) + 1;
    if listener.max_events.is_some_and(|max| count >= max) {
        listener.done.notify_one();
    }
    match forwarded {
        Some(Forwarded::Answered {
            status,
            headers,
            body,
            ..
        }) => (status, headers, body).into_response(),
        // The reason is in this listener's output; the sender learns nothing of the app.
        Some(Forwarded::Failed { .. }) => (
            StatusCode::BAD_GATEWAY,
            "monime-webhooks listen could not reach the app",
        )
            .into_response(),
        // No app: acknowledge, so Monime does not retry; the verdict is in the output.
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "received": true, "valid": verdict.valid }).to_string(),
        )
            .into_response(),
    }
}

/// Writes the delivery for `replay`; a failure to write is reported, not fatal.
fn record(
    recorder: &Recorder,
    received_at: &chrono::DateTime<chrono::Utc>,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
    verdict: &Verdict,
) {
    let recording = Recording {
        received_at: received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        path: path.to_owned(),
        headers: headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
        valid: verdict.valid,
        reason: verdict.reason.clone(),
    };
    let id = Event::parse(body).ok().map(|event| event.id);
    if let Err(error) = recorder.write(&recording, id.as_deref()) {
        errln!("could not record a delivery: {error}");
    }
}

/// One printed line: a delivery, its verdict and what the app answered.
struct Line<'a> {
    time: String,
    path: &'a str,
    /// The event, when the body parses as one (whether or not it verified).
    event: Option<Event>,
    verdict: &'a Verdict,
    forwarded: Option<&'a Forwarded>,
    /// The raw body, with `--include-body` (JSON lines only).
    body: Option<std::borrow::Cow<'a, str>>,
}

impl Line<'_> {
    fn render(&self, output: Output) -> String {
        match output {
            Output::Json => json_text(&self.json(), false),
            // The event's fields come from an unverified body: no terminal control characters.
            Output::Table => printable(&self.text()).into_owned(),
        }
    }

    fn json(&self) -> Value {
        let mut line = json!({
            "time": self.time,
            "path": self.path,
            "event": self.event.as_ref().map(|e| e.name.to_string()),
            "id": self.event.as_ref().map(|e| e.id.clone()),
            "object": self.event.as_ref().map(|e| json!({ "type": e.object.kind, "id": e.object.id })),
            "valid": self.verdict.valid,
        });
        if let Some(reason) = &self.verdict.reason {
            line["reason"] = json!(reason);
        }
        if let Some(mistake) = &self.verdict.mistake {
            line["likelyMistake"] = json!(mistake);
        }
        match self.forwarded {
            Some(Forwarded::Answered {
                status, latency, ..
            }) => {
                line["forward"] =
                    json!({ "status": status.as_u16(), "latencyMs": millis(*latency) });
            }
            Some(Forwarded::Failed { error, latency }) => {
                line["forward"] = json!({ "error": error, "latencyMs": millis(*latency) });
            }
            None => {}
        }
        if let Some(body) = &self.body {
            line["body"] = json!(body);
        }
        line
    }

    fn text(&self) -> String {
        let (name, id, object) = match &self.event {
            Some(event) => (
                event.name.to_string(),
                event.id.clone(),
                format!("{} {}", event.object.kind, event.object.id),
            ),
            None => (
                "(not an event)".to_owned(),
                "-".to_owned(),
                self.path.to_owned(),
            ),
        };
        let mut line = format!("{}  {name}  {id}  {object}  ", self.time);
        if self.verdict.valid {
            line.push_str("valid");
        } else {
            line.push_str("invalid: ");
            line.push_str(self.verdict.reason.as_deref().unwrap_or("not valid"));
            if let Some(mistake) = &self.verdict.mistake {
                line.push_str("; ");
                line.push_str(mistake);
            }
        }
        match self.forwarded {
            Some(Forwarded::Answered {
                status, latency, ..
            }) => line.push_str(&format!(
                "  -> {} in {:.1} ms",
                status.as_u16(),
                millis(*latency)
            )),
            Some(Forwarded::Failed { error, latency }) => line.push_str(&format!(
                "  -> app unreachable after {:.1} ms: {error}",
                millis(*latency)
            )),
            None => {}
        }
        line
    }
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}
