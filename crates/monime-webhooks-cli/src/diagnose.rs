//! `verify` and `sign`: check a delivery like a receiver must, and when it fails, try the
//! mistakes integrators make to say which one was made.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use monime_signature::{Error, SignatureHeader, Signer, Verifier};
use sha2::Sha256;

use crate::cli::{Failure, SECRET_ENV, SignArgs, VerifyArgs, read_file};
use crate::output::outln;

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

pub fn verify(args: &VerifyArgs) -> Result<ExitCode, Failure> {
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
    match outcome {
        Ok(verified) => {
            outln!(
                "valid (t={}, {} s from now={now})",
                verified.timestamp,
                verified.timestamp.abs_diff(now)
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            outln!("invalid: {error}")?;
            if let Some(mistake) = likely_mistake(&key, &error, &args.signature, &body) {
                outln!("{mistake}")?;
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// For a signature mismatch, the line that names the likely mistake (or says none of the usual
/// ones matches); `None` for the other errors, whose message already says what to check.
/// `verify` and `listen` both report failures with it.
pub(crate) fn likely_mistake(
    key: &Key,
    error: &Error,
    header: &str,
    body: &[u8],
) -> Option<String> {
    if !matches!(error, Error::SignatureMismatch { .. }) {
        return None;
    }
    Some(match explain(key, header, body) {
        Some(mistake) => format!("likely mistake: the signature matches {mistake}"),
        None => "none of the usual mistakes matches: check that the secret or key belongs to \
                 this webhook and that the body holds the request bytes exactly as received"
            .to_owned(),
    })
}

/// The first usual mistake under which the signature verifies, described.
fn explain(key: &Key, header: &str, body: &[u8]) -> Option<String> {
    let parsed = SignatureHeader::parse(header).ok()?;
    let t = parsed.timestamp_text;
    let signatures = parsed.signatures();
    let matches = |key: &Key, t: &str, body: &[u8]| {
        key.verifier().is_ok_and(|v| {
            v.insecure_skip_timestamp_check()
                .verify_at(&header_for(t, signatures), body, 0)
                .is_ok()
        })
    };
    let mac_matches = |key_bytes: &[u8], message: &[u8]| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key_bytes) else {
            return false;
        };
        mac.update(message);
        // Each reading of each v1 is checked with the hmac crate's constant-time comparison.
        signatures.iter().any(|v1| {
            [STANDARD.decode(v1).ok(), from_hex(v1)]
                .into_iter()
                .flatten()
                .any(|tag| mac.clone().verify_slice(&tag).is_ok())
        })
    };
    let joined = |separator: &str| [t.as_bytes(), separator.as_bytes(), body].concat();

    if let Key::Secret(secret) = key {
        if mac_matches(secret.as_bytes(), &joined(".")) {
            return Some(
                "`<t>.<body>`: a period separator; Monime signs `<t>_<body>` with an underscore"
                    .into(),
            );
        }
        if mac_matches(secret.as_bytes(), &joined("_")) {
            return Some(
                "when v1 is read as hex: the sender hex-encoded it; Monime's v1 is standard base64"
                    .into(),
            );
        }
        if secret.trim() != secret && matches(&Key::Secret(secret.trim().to_owned()), t, body) {
            return Some(
                "the secret without its surrounding whitespace: trim the configured secret".into(),
            );
        }
        if let Ok(decoded) = STANDARD.decode(secret.trim())
            && mac_matches(&decoded, &joined("_"))
        {
            return Some(
                "the base64-decoded secret: Monime keys HMAC with the secret's UTF-8 text as is"
                    .into(),
            );
        }
    } else if matches_es256_period(key, t, body, signatures) {
        return Some(
            "`<t>.<body>`: a period separator; Monime signs `<t>_<body>` with an underscore".into(),
        );
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let compact = serde_json::to_vec(&value).unwrap_or_default();
        if compact != body && matches(key, t, &compact) {
            return Some("a re-serialized (compact) JSON body: verify the raw bytes received, not re-encoded JSON".into());
        }
        let pretty = serde_json::to_vec_pretty(&value).unwrap_or_default();
        if pretty != body && matches(key, t, &pretty) {
            return Some(
                "a pretty-printed JSON body: verify the raw bytes received, not re-encoded JSON"
                    .into(),
            );
        }
        let event_time = value.pointer("/event/timestamp").and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        if let Some(other) = event_time.filter(|other| other != t)
            && matches(key, &other, body)
        {
            return Some(format!(
                "timestamp {other} (the body's event.timestamp), not the header's t={t}: sign and verify with `t` from the header"
            ));
        }
    }
    for other in [
        t.parse::<i64>()
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .map(|ms| ms.to_string()),
        t.strip_suffix("000").map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    {
        if matches(key, &other, body) {
            return Some(format!(
                "timestamp {other}, not t={t}: t is in seconds, not milliseconds"
            ));
        }
    }
    None
}

/// A header carrying the delivery's `v1` values with timestamp text `t`.
fn header_for(t: &str, signatures: &[&str]) -> String {
    let parts: Vec<String> = signatures.iter().map(|v1| format!("v1={v1}")).collect();
    format!("t={t},{}", parts.join(","))
}

/// ES256 with a period separator, reported by the verifier's own hints.
fn matches_es256_period(key: &Key, t: &str, body: &[u8], signatures: &[&str]) -> bool {
    let header = header_for(t, signatures);
    match key.verifier().map(|v| {
        v.insecure_skip_timestamp_check()
            .verify_explained_at(&header, body, 0)
    }) {
        Ok(Err(Error::SignatureMismatch { hints })) => {
            hints.contains(&monime_signature::Hint::PeriodSeparator)
        }
        _ => false,
    }
}

/// Hex text (either case) as bytes; `None` for anything else.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

pub(crate) fn missing_secret() -> Failure {
    Failure::Usage(format!(
        "give --secret, --secret-file or --public-key, or set {SECRET_ENV}"
    ))
}

pub fn sign(args: &SignArgs) -> Result<ExitCode, Failure> {
    let body = read_file(&args.body_file)?;
    let secret = args.secret.resolve()?.ok_or_else(|| {
        Failure::Usage(format!(
            "give --secret or --secret-file, or set {SECRET_ENV}"
        ))
    })?;
    let signer = Signer::hs256(&secret).map_err(|e| Failure::Usage(e.to_string()))?;
    outln!(
        "{}",
        signer.sign(args.timestamp.unwrap_or_else(unix_now), &body)
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::from_hex;

    #[test]
    fn hex_reads_both_cases_and_nothing_else() {
        assert_eq!(from_hex("00aBff"), Some(vec![0, 0xab, 0xff]));
        for bad in ["0", "0g", "+1", "é0"] {
            assert_eq!(from_hex(bad), None, "{bad}");
        }
    }
}
