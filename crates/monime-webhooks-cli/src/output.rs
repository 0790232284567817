//! How results are printed: a table for people, JSON for scripts; secrets and header values
//! masked unless asked; control characters from the API or a receiver escaped on the
//! terminal; a closed pipe ends the output quietly.

use std::borrow::Cow;
use std::io::{self, Write};

use monime_webhooks::Webhook;
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
    /// The webhook as JSON, its HS256 secret and its delivery header values (often
    /// credentials for the receiver) masked unless `--show-secrets`.
    pub fn json(&self, webhook: &Webhook) -> Value {
        let mut value = serde_json::to_value(webhook).unwrap_or(Value::Null);
        if self.show_secrets {
            return value;
        }
        if let Some(secret) = value.pointer_mut("/verificationMethod/secret")
            && secret.is_string()
        {
            *secret = Value::String(MASK.to_owned());
        }
        if let Some(Value::Object(headers)) = value.get_mut("headers") {
            for header_value in headers.values_mut() {
                *header_value = Value::String(MASK.to_owned());
            }
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
            Output::Json => writeln!(out, "{}", json_text(&self.json(webhook), false)),
            Output::Table => {
                let events = webhook.events.join(",");
                let enabled = if webhook.enabled { "yes" } else { "no" };
                let values = [
                    webhook.id.as_str(),
                    webhook.name.as_str(),
                    webhook.url.as_str(),
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
            Output::Json => writeln!(out, "{}", json_text(&json, true)),
            Output::Table => {
                let Value::Object(fields) = json else {
                    return Ok(());
                };
                // The spec's order of the Webhook's properties, then anything newer.
                let order: Vec<&str> = schemas::WEBHOOK
                    .object()
                    .map(|object| object.properties.iter().map(|p| p.name).collect())
                    .unwrap_or_default();
                let rest = fields.keys().filter(|k| !order.contains(&k.as_str()));
                for key in order.iter().copied().chain(rest.map(String::as_str)) {
                    let value = match fields.get(key) {
                        None | Some(Value::Null) => "-".to_owned(),
                        Some(Value::String(text)) => printable(text).into_owned(),
                        // JSON escapes C0 controls but not DEL, C1 or bidi overrides.
                        Some(other) => printable(&other.to_string()).into_owned(),
                    };
                    writeln!(out, "{key:<19} {value}")?;
                }
                Ok(())
            }
        }
    }
}

/// `text` with every character that could steer a terminal (C0 and C1 controls, DEL, bidi
/// overrides) written as an escape instead, so text from the API or a receiver cannot move
/// the cursor, recolour or hide output.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(steers) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if steers(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `c` could steer a terminal: C0 and C1 controls, DEL, line and paragraph separators,
/// the Arabic letter mark and the bidi marks, embeddings, overrides and isolates.
fn steers(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `value` as JSON text (pretty or on one line) with every character that could steer a
/// terminal escaped (`\u0085`): serde_json escapes only C0 controls, so DEL, C1 controls and
/// bidi overrides from an API answer or a delivery would reach the terminal raw. Still valid
/// JSON, with the same value.
pub fn json_text(value: &serde_json::Value, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(value).unwrap_or_default()
    } else {
        value.to_string()
    };
    // serde_json writes C0 controls only as escapes (and pretty output needs its newlines).
    let escaped = |c: char| c > '\u{1f}' && steers(c);
    if !text.chars().any(escaped) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escaped(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Standard output for the commands: a reader that went away (`| head -c 1`) ends the
/// output, not the command, which still exits with its own code. Other write errors are
/// reported as usual.
#[derive(Debug)]
pub struct Stdout(io::Stdout);

pub fn stdout() -> Stdout {
    Stdout(io::stdout())
}

fn closed_pipe_is_fine<T>(result: io::Result<T>, done: T) -> io::Result<T> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(done),
        other => other,
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        closed_pipe_is_fine(self.0.write(buf), buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        closed_pipe_is_fine(self.0.flush(), ())
    }
}

/// Why a line could not be written, as a command failure.
pub fn write_failed(error: io::Error) -> crate::cli::Failure {
    crate::cli::Failure::Failed(format!("cannot write the output: {error}"))
}

/// `println!` through [`Stdout`]: `outln!(...)?` in a function returning `Result<_, Failure>`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::output::stdout(), $($arg)*).map_err($crate::output::write_failed)
    }};
}
pub(crate) use outln;

/// `eprintln!` that never panics: with stderr closed there is nowhere left to complain.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use errln;

/// `text` cut or padded to exactly `width` characters, control characters escaped.
fn pad(text: &str, width: usize) -> String {
    let text = printable(text);
    let count = text.chars().count();
    if count > width {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}

#[cfg(test)]
mod json_tests {
    use super::json_text;

    #[test]
    fn json_output_escapes_what_could_steer_a_terminal() {
        let value =
            serde_json::json!({ "name": "a\u{7f}b\u{85}c\u{202e}d\u{1b}e\u{2028}f\u{61c}" });
        let text = json_text(&value, false);
        assert_eq!(
            text,
            r#"{"name":"a\u007fb\u0085c\u202ed\u001be\u2028f\u061c"}"#
        );
        let pretty = json_text(&value, true);
        assert!(
            pretty.contains('\n') && !pretty.contains('\u{2028}'),
            "{pretty}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }
}
