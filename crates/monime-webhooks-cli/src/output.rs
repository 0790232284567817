//! How results are printed: a table for people, JSON for scripts; secrets masked unless asked.

use std::io::Write;

use monime_webhooks::Webhook;
use monime_webhooks::api::schema::Kind;
use monime_webhooks::api::spec::schemas;
use serde_json::Value;

use crate::cli::Output;

/// What a masked secret prints as.
pub const MASK: &str = "********";

#[derive(Debug, Clone, Copy)]
pub struct View {
    pub output: Output,
    pub show_secrets: bool,
}

/// Column widths of the list table; fixed, so rows print as they stream in.
const COLUMNS: [(&str, usize); 5] = [
    ("ID", 36),
    ("NAME", 24),
    ("URL", 40),
    ("EVENTS", 32),
    ("ENABLED", 7),
];

impl View {
    /// The webhook as JSON, its HS256 secret masked unless `--show-secrets`.
    pub fn json(&self, webhook: &Webhook) -> Value {
        let mut value = serde_json::to_value(webhook).unwrap_or(Value::Null);
        if !self.show_secrets
            && let Some(secret) = value.pointer_mut("/verificationMethod/secret")
            && secret.is_string()
        {
            *secret = Value::String(MASK.to_owned());
        }
        value
    }

    pub fn list_header(&self, out: &mut impl Write) -> std::io::Result<()> {
        if self.output == Output::Table {
            let cells: Vec<String> = COLUMNS
                .iter()
                .map(|(name, width)| pad(name, *width))
                .collect();
            writeln!(out, "{}", cells.join("  ").trim_end())?;
        }
        Ok(())
    }

    /// One webhook of a list: a table row, or one JSON object per line.
    pub fn list_row(&self, out: &mut impl Write, webhook: &Webhook) -> std::io::Result<()> {
        match self.output {
            Output::Json => writeln!(out, "{}", self.json(webhook)),
            Output::Table => {
                let events = webhook
                    .events
                    .as_ref()
                    .map(|e| e.join(","))
                    .unwrap_or_default();
                let enabled = match webhook.enabled {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "?",
                };
                let values = [
                    webhook.id.as_deref().unwrap_or(""),
                    webhook.name.as_deref().unwrap_or(""),
                    webhook.url.as_deref().unwrap_or(""),
                    events.as_str(),
                    enabled,
                ];
                let cells: Vec<String> = values
                    .iter()
                    .zip(COLUMNS)
                    .map(|(value, (_, width))| pad(value, width))
                    .collect();
                writeln!(out, "{}", cells.join("  ").trim_end())
            }
        }
    }

    /// One webhook in full: `field  value` lines, or pretty JSON.
    pub fn detail(&self, out: &mut impl Write, webhook: &Webhook) -> std::io::Result<()> {
        let json = self.json(webhook);
        match self.output {
            Output::Json => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            ),
            Output::Table => {
                let Value::Object(fields) = json else {
                    return Ok(());
                };
                // The spec's order of the Webhook's properties, then anything newer.
                let order: Vec<&str> = match &schemas::WEBHOOK.kind {
                    Kind::Object(object) => object.properties.iter().map(|p| p.name).collect(),
                    _ => Vec::new(),
                };
                let rest = fields.keys().filter(|k| !order.contains(&k.as_str()));
                for key in order.iter().copied().chain(rest.map(String::as_str)) {
                    let value = match fields.get(key) {
                        None | Some(Value::Null) => "-".to_owned(),
                        Some(Value::String(text)) => text.replace('\n', "\\n"),
                        Some(other) => other.to_string(),
                    };
                    writeln!(out, "{key:<19} {value}")?;
                }
                Ok(())
            }
        }
    }
}

/// `text` cut or padded to exactly `width` characters.
fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}
