//! The dashboard at `GET /_mock/`: one self-contained page (no CDN, no build step) showing a
//! space's webhooks and the latest delivery attempts, refreshed every second; an attempt opens
//! to its request headers and pretty-printed body, and can be resent; a form triggers events.
//!
//! Bodies come from receivers and triggers, so the page writes every value with
//! `textContent`, never as HTML, and its Content-Security-Policy admits only its own script
//! (by hash) and requests to the emulator itself.

use std::sync::{Arc, OnceLock};

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::server::Shared;

const SCRIPT: &str = include_str!("dashboard.js");

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>monime-mock</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #ddd; }
tr.attempt { cursor: pointer; }
tr.attempt:hover { background: #f4f4f4; }
.bad { color: #b00; } .ok { color: #070; }
pre { background: #f6f6f6; padding: 1em; overflow: auto; max-height: 30em; }
form { margin-bottom: 1.5em; }
</style>
</head>
<body>
<h1>monime-mock</h1>
<form id="trigger">
  <label>Space <input id="space" required placeholder="spc-..."></label>
  <label>Event <select id="event-name">OPTIONS</select></label>
  <label>Object id <input id="object-id" placeholder="generated"></label>
  <button type="submit" id="trigger-button">Trigger</button>
  <span id="trigger-result"></span>
</form>
<h2>Webhooks</h2>
<table id="webhooks"><thead><tr><th>Space</th><th>Name</th><th>URL</th><th>Events</th><th>Enabled</th></tr></thead><tbody></tbody></table>
<h2>Delivery attempts</h2>
<table id="attempts"><thead><tr><th>Time</th><th>Event id</th><th>Event</th><th>Webhook</th><th>#</th><th>Status</th><th>Latency</th><th></th></tr></thead><tbody></tbody></table>
<section id="details" hidden>
  <h2 id="details-title"></h2>
  <h3>Request headers</h3>
  <pre id="details-headers"></pre>
  <h3>Body</h3>
  <pre id="details-body"></pre>
  <h3>Answer</h3>
  <pre id="details-answer"></pre>
</section>
<script>SCRIPT</script>
</body>
</html>
"#;

#[derive(Deserialize)]
pub(crate) struct SpaceFilter {
    space: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page, its form offering the event names the emulator knows (the spec names none: the
/// set is open, and `POST /_mock/events` takes any name).
pub(crate) async fn page() -> Response {
    static HTML: OnceLock<(String, String)> = OnceLock::new();
    let (html, policy) = HTML.get_or_init(|| {
        let options: String = monime_signature::EventName::KNOWN
            .iter()
            .map(|name| {
                let name = escape(name.as_str());
                format!("<option value=\"{name}\">{name}</option>")
            })
            .collect();
        let hash = STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
        let policy = format!(
            "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
             connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        );
        (
            PAGE.replace("OPTIONS", &options).replace("SCRIPT", SCRIPT),
            policy,
        )
    });
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, policy.as_str()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html.clone(),
    )
        .into_response()
}

/// `GET /_mock/webhooks?space=`: what the dashboard shows of the webhooks.
pub(crate) async fn webhooks(
    State(shared): State<Arc<Shared>>,
    Query(filter): Query<SpaceFilter>,
) -> Response {
    let webhooks = shared.lock_store().overview(filter.space.as_deref());
    axum::Json(crate::api::success(Value::Array(webhooks))).into_response()
}
