//! The command line: global options, the commands and their flags.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::body_flags::{CreateBody, UpdateBody};

/// Manage Monime webhooks, and sign, verify and send test deliveries.
///
/// Credentials come from the environment: MONIME_ACCESS_TOKEN, MONIME_SPACE_ID, and optionally
/// MONIME_API_URL and MONIME_VERSION. Exit codes: 0 ok, 1 API error or signature not valid,
/// 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "monime-webhooks", version, max_term_width = 100)]
pub struct Cli {
    /// API base URL (overrides MONIME_API_URL; default https://api.monime.io).
    #[arg(long, global = true, value_name = "URL")]
    pub api_url: Option<String>,
    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, global = true, value_enum)]
    pub output: Option<Output>,
    /// Print webhook secrets and delivery header values instead of masking them.
    #[arg(long, global = true)]
    pub show_secrets: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every webhook of the space (all pages, streamed).
    List,
    /// Create a webhook.
    Create(CreateArgs),
    /// Show one webhook.
    Get {
        /// The webhook id (whk-...).
        id: String,
    },
    /// Change a webhook: set fields, or clear them with --clear-<field>.
    Update(UpdateArgs),
    /// Delete a webhook (asks first on a terminal, unless --yes).
    Delete {
        /// The webhook id (whk-...).
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Check a delivery's Monime-Signature; on a mismatch, find the usual mistake.
    Verify(VerifyArgs),
    /// Print the Monime-Signature header Monime would send for a body.
    Sign(SignArgs),
    /// Send a realistic, signed test delivery to a receiver.
    SendTestEvent(SendArgs),
    /// Receive deliveries on 127.0.0.1, verify each one and forward it to your app.
    Listen(ListenArgs),
    /// Send deliveries recorded by `listen --record` to a receiver again.
    Replay(ReplayArgs),
    /// The emulator's delivery log: list attempts, show one, resend one (needs --api-url).
    Deliveries(crate::deliveries::DeliveriesArgs),
    /// Inspect and repair a receiver's stored deliveries (PostgreSQL at DATABASE_URL).
    Inbox(crate::inbox::InboxArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one per command with --dir.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// One flag per property of the spec's create body.
    #[command(flatten)]
    pub body: CreateBody,
    /// Sign deliveries with HMAC-SHA256 and this secret (visible in `ps`: prefer
    /// --hs256-secret-file).
    #[arg(long, value_name = "SECRET", conflicts_with_all = ["es256", "hs256_secret_file"])]
    pub hs256_secret: Option<Secret>,
    /// Like --hs256-secret, read from a file (without one trailing newline), so the secret
    /// stays out of `ps` and the shell history.
    #[arg(long, value_name = "PATH", conflicts_with = "es256")]
    pub hs256_secret_file: Option<PathBuf>,
    /// Sign deliveries with ECDSA P-256; Monime generates the key pair.
    #[arg(long)]
    pub es256: bool,
    /// The Idempotency-Key (default: a fresh UUID).
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The webhook id (whk-...).
    pub id: String,
    /// One flag per property of the spec's update body, and --clear-<property> for each
    /// nullable one.
    #[command(flatten)]
    pub body: UpdateBody,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The Monime-Signature header value, e.g. 't=1771803194,v1=...'.
    #[arg(long, value_name = "HEADER")]
    pub signature: String,
    /// The raw request body, exactly as received.
    #[arg(long, value_name = "FILE")]
    pub body_file: PathBuf,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// A file holding the webhook's ES256 public key (PEM).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["secret", "secret_file"])]
    pub public_key: Option<PathBuf>,
    /// Check the timestamp as of this Unix time instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<i64>,
    /// Accepted distance between t and now, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub tolerance: u64,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub secret: SecretArgs,
    /// The body to sign, byte for byte.
    #[arg(long, value_name = "FILE")]
    pub body_file: PathBuf,
    /// The t to sign with (default: now), Unix seconds.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub timestamp: Option<i64>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The receiver's URL.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// The event name, e.g. payment.completed.
    #[arg(long, value_name = "NAME")]
    pub event: String,
    /// A JSON file to send as the event's data (default: a realistic object for the event).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Change one field of the data, checked against the object's type: `--set
    /// data.amount.value=5000 --set data.status=failed` (the value is JSON when it parses as
    /// JSON, else text).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub overrides: Vec<monime_signature::Override>,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Sign with ES256 and this private key (PKCS#8 PEM file).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["secret", "secret_file"])]
    pub es256_key: Option<PathBuf>,
    /// Give up on a receiver that has not answered within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Send the same event this many times, to see whether the receiver de-duplicates.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeat: u32,
}

/// A secret given on the command line; `Debug` (of the parsed arguments) never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(text.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The environment variable an HS256 secret is read from when no flag gives one.
pub const SECRET_ENV: &str = "MONIME_WEBHOOK_SECRET";

/// An HS256 secret: on the command line, in a file, or in `MONIME_WEBHOOK_SECRET`.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// The webhook's HS256 secret (visible in `ps`: prefer --secret-file or
    /// MONIME_WEBHOOK_SECRET).
    #[arg(long, value_name = "SECRET", conflicts_with = "secret_file")]
    pub secret: Option<Secret>,
    /// A file holding the HS256 secret (one trailing newline is ignored). Without --secret
    /// or --secret-file, MONIME_WEBHOOK_SECRET is used.
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
}

impl SecretArgs {
    /// The secret from the flag, the file or the environment, in that order; `None` when
    /// none gives one.
    pub fn resolve(&self) -> Result<Option<String>, Failure> {
        if let Some(secret) = &self.secret {
            return Ok(Some(secret.0.clone()));
        }
        if let Some(path) = &self.secret_file {
            return secret_from_file(path).map(Some);
        }
        match std::env::var(SECRET_ENV) {
            Ok(secret) => Ok(Some(secret)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(Failure::Usage(format!("{SECRET_ENV} is not valid UTF-8")))
            }
        }
    }
}

/// A secret kept in a file: its text without one trailing line ending (editors add one; a
/// secret never ends with one).
pub fn secret_from_file(path: &PathBuf) -> Result<String, Failure> {
    let bytes = read_file(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::Usage(format!("{} is not UTF-8 text", path.display())))?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    Ok(text.to_owned())
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub enum Failure {
    /// An API, transport or I/O error: exit 1.
    Failed(String),
    /// A usage error found after parsing (a file that is not there): exit 2.
    Usage(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Failed(_) => 1,
            Failure::Usage(_) => 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Failed(message) | Failure::Usage(message) => f.write_str(message),
        }
    }
}

impl From<monime_webhooks::Error> for Failure {
    fn from(error: monime_webhooks::Error) -> Failure {
        match error {
            // Bad configuration or a value the spec forbids: nothing was sent, a usage error.
            monime_webhooks::Error::Config { .. } | monime_webhooks::Error::Validation { .. } => {
                Failure::Usage(error.to_string())
            }
            other => Failure::Failed(other.to_string()),
        }
    }
}

pub fn read_file(path: &PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))
}

/// `listen` flags.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// The port to listen on, on 127.0.0.1 (0 picks a free one; the address is printed).
    #[arg(long, value_name = "PORT")]
    pub port: u16,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// A file holding the webhook's ES256 public key (PEM).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["secret", "secret_file"])]
    pub public_key: Option<PathBuf>,
    /// Forward each delivery, unchanged, to this URL and answer with the app's response.
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,
    /// Accepted distance between a delivery's t and now, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub tolerance: u64,
    /// Stop after this many deliveries (default: run until Ctrl-C).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: Option<u64>,
    /// Close a connection whose request headers, or whose body, take longer than this.
    #[arg(long, value_name = "MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout_ms: u64,
    /// Open connections at most; one more is answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_connections: u64,
    /// On stopping, how long deliveries in progress may take to finish (a second Ctrl-C
    /// stops at once).
    #[arg(long, value_name = "MS", default_value_t = 2_000)]
    pub shutdown_grace_ms: u64,
    /// With --output json, add each delivery's raw body to its line, as text.
    #[arg(long)]
    pub include_body: bool,
    /// Write each delivery (raw body, headers, receive time, verdict) to its own file in this
    /// folder, for `replay`. The files hold header values: they are readable by you only.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

/// `replay` flags.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The folder `listen --record` wrote.
    pub dir: PathBuf,
    /// The receiver's URL: every delivery goes there, and nowhere else.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Re-sign each delivery with this secret and a fresh timestamp (without a secret, the
    /// recorded Monime-Signature goes as it is, and may be past the receiver's tolerance).
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Send this fraction of extra copies of recordings picked at random (0.5: half as many
    /// again), to test the receiver's deduplication.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub duplicates: f64,
    /// Send in random order.
    #[arg(long)]
    pub shuffle: bool,
    /// The seed of --duplicates and --shuffle, to repeat a run exactly.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Deliveries in flight at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Send every recording this many times.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: u32,
    /// Also send the recordings whose signature did not verify when recorded (re-signed, they
    /// would reach the app as genuine: only for deliveries you made yourself).
    #[arg(long)]
    pub include_invalid: bool,
}

fn parse_override(text: &str) -> Result<monime_signature::Override, String> {
    text.parse()
        .map_err(|e: monime_signature::OverrideError| e.to_string())
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=10.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a rate between 0 and 10")),
    }
}

/// `completions` flags.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `man` flags.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write a page per command (monime-webhooks.1, monime-webhooks-list.1, ...) into this
    /// folder instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    #[test]
    fn parsed_arguments_never_show_a_secret_in_debug() {
        let secret = "test_secret_for_vector_0123456789abcdef";
        for args in [
            vec![
                "monime-webhooks",
                "sign",
                "--secret",
                secret,
                "--body-file",
                "b",
            ],
            vec![
                "monime-webhooks",
                "create",
                "--name",
                "n",
                "--url",
                "u",
                "--event",
                "a.b",
                "--hs256-secret",
                secret,
            ],
        ] {
            let shown = format!("{:?}", Cli::parse_from(args));
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
    }
}
