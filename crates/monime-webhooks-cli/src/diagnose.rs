//! `verify` and `sign`: check a delivery like a receiver must, and when it fails, print the
//! mistake monime-signature's diagnosis found.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use monime_signature::{Error, Signer, Verifier};

use serde_json::json;

use crate::cli::{Failure, Output, SECRET_ENV, SignArgs, VerifyArgs, read_file};
use crate::output::{json_text, outln};

pub(crate) fn unix_now() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// The key a delivery is checked with.
pub(crate) enum Key {
    Secret(String),
    PublicKey(String),
}

impl Key {
    pub(crate) fn verifier(&self) -> Result<Verifier, Error> {
        match self {
            Key::Secret(secret) => Verifier::hs256(secret.as_str()),
            Key::PublicKey(pem) => Verifier::es256(pem),
        }
    }
}

pub fn verify(args: &VerifyArgs, output: Option<Output>) -> Result<ExitCode, Failure> {
    let body = read_file(&args.body_file)?;
    let key = match &args.public_key {
        Some(path) => Key::PublicKey(String::from_utf8_lossy(&read_file(path)?).into_owned()),
        None => Key::Secret(args.secret.resolve()?.ok_or_else(missing_secret)?),
    };
    let now = args.now.unwrap_or_else(unix_now);
    // An unusable secret or key is a usage error (exit 2), not a failed verification.
    let verifier = key.verifier().map_err(|e| Failure::Usage(e.to_string()))?;
    let outcome = verifier
        .with_tolerance(Duration::from_secs(args.tolerance))
        .verify_explained_at(&args.signature, &body, now);
    let json = output == Some(Output::Json);
    match outcome {
        Ok(verified) if json => {
            let line = json!({
                "valid": true,
                "timestamp": verified.timestamp,
                "now": now,
                "skewSecs": verified.timestamp.abs_diff(now),
            });
            outln!("{}", json_text(&line, false))?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(verified) => {
            outln!(
                "valid (t={}, {} s from now={now})",
                verified.timestamp,
                verified.timestamp.abs_diff(now)
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) if json => {
            let hints: Vec<&str> = match &error {
                Error::SignatureMismatch { hints } => hints.iter().map(|h| h.kind()).collect(),
                _ => Vec::new(),
            };
            let line = json!({
                "valid": false,
                "kind": error.kind(),
                "reason": without_hints(&error).to_string(),
                "hints": hints,
                "likelyMistake": likely_mistake(&error),
            });
            outln!("{}", json_text(&line, false))?;
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            outln!("invalid: {}", without_hints(&error))?;
            if let Some(mistake) = likely_mistake(&error) {
                outln!("{mistake}")?;
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// For a signature mismatch, the line that names the likely mistake found by
/// monime-signature's diagnosis (or says none of the usual ones matches); `None` for the other
/// errors, whose message already says what to check. `verify` and `listen` both report
/// failures with it.
pub(crate) fn likely_mistake(error: &Error) -> Option<String> {
    let Error::SignatureMismatch { hints } = error else {
        return None;
    };
    Some(match hints.first() {
        Some(hint) => format!("likely mistake: {}", hint.explanation()),
        None => "none of the usual mistakes matches: check that the secret or key belongs to \
                 this webhook and that the body holds the request bytes exactly as received"
            .to_owned(),
    })
}

/// `error` without the hints its text would repeat: they are printed on their own line.
pub(crate) fn without_hints(error: &Error) -> Error {
    match error {
        Error::SignatureMismatch { .. } => Error::SignatureMismatch { hints: Vec::new() },
        other => other.clone(),
    }
}

pub(crate) fn missing_secret() -> Failure {
    Failure::Usage(format!(
        "give --secret, --secret-file or --public-key, or set {SECRET_ENV}"
    ))
}

pub fn sign(args: &SignArgs, output: Option<Output>) -> Result<ExitCode, Failure> {
    let body = read_file(&args.body_file)?;
    let secret = args.secret.resolve()?.ok_or_else(|| {
        Failure::Usage(format!(
            "give --secret or --secret-file, or set {SECRET_ENV}"
        ))
    })?;
    let signer = Signer::hs256(&secret).map_err(|e| Failure::Usage(e.to_string()))?;
    let timestamp = args.timestamp.unwrap_or_else(unix_now);
    let header = signer.sign(timestamp, &body);
    if output == Some(Output::Json) {
        let line = json!({ "header": header, "timestamp": timestamp });
        outln!("{}", json_text(&line, false))?;
    } else {
        outln!("{header}")?;
    }
    Ok(ExitCode::SUCCESS)
}
