//! Why a signature did not match: the delivery is checked again under each mistake
//! integrators make, and every mistake under which it verifies becomes a [`Hint`]. This is
//! the one diagnosis engine: the axum extractor logs its hints and the CLI prints them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::error::Hint;
use crate::header::SignatureHeader;
use crate::verify::{SEPARATOR, Verifier, VerifyKey, WRONG_SEPARATOR, decode_any};

impl Verifier {
    /// Re-checks a mismatching delivery against the usual integration mistakes, in the order
    /// of [`Hint`]'s variants. Each check that computes a signature compares it in constant
    /// time, like verification itself.
    pub(crate) fn explain_mismatch(&self, parsed: &SignatureHeader<'_>, body: &[u8]) -> Vec<Hint> {
        let t = parsed.timestamp_text.as_bytes();
        let signatures = parsed.signatures();
        let verifies = |t: &[u8], separator: &[u8], body: &[u8]| {
            self.keys
                .iter()
                .any(|key| key.matches(t, separator, body, signatures))
        };
        let verifies_with_secret = |secret: &dyn Fn(&str) -> Option<Vec<u8>>| {
            self.keys.iter().any(|key| match key {
                VerifyKey::Hs256 { secret: text, .. } => secret(text)
                    .and_then(|bytes| Hmac::<Sha256>::new_from_slice(&bytes).ok())
                    .is_some_and(|keyed| {
                        VerifyKey::Hs256 {
                            secret: String::new(),
                            keyed,
                        }
                        .matches(t, SEPARATOR, body, signatures)
                    }),
                #[cfg(feature = "es256")]
                VerifyKey::Es256(_) => false,
            })
        };
        let has_hs256 = self
            .keys
            .iter()
            .any(|k| matches!(k, VerifyKey::Hs256 { .. }));
        let mut hints = Vec::new();

        if verifies(t, WRONG_SEPARATOR, body) {
            hints.push(Hint::PeriodSeparator);
        }
        if has_hs256
            && signatures
                .iter()
                .any(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            hints.push(Hint::HexSignature);
        }
        let url_safe = |s: &&str| {
            (s.contains(['-', '_']) || !s.ends_with('='))
                && decode_any(s).is_some_and(|bytes| bytes.len() == 32)
        };
        if has_hs256 && signatures.iter().any(url_safe) {
            hints.push(Hint::UrlSafeBase64);
        }
        let trimmed = |secret: &str| {
            let trimmed = secret.trim();
            (trimmed != secret && !trimmed.is_empty()).then(|| trimmed.as_bytes().to_vec())
        };
        if verifies_with_secret(&trimmed) {
            hints.push(Hint::SecretWhitespace);
        }
        if verifies_with_secret(&|secret: &str| STANDARD.decode(secret.trim()).ok()) {
            hints.push(Hint::Base64DecodedSecret);
        }
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            let compact = serde_json::to_vec(&value).unwrap_or_default();
            if compact != body && verifies(t, SEPARATOR, &compact) {
                hints.push(Hint::ReserializedBody);
            }
            let pretty = serde_json::to_vec_pretty(&value).unwrap_or_default();
            if pretty != body && verifies(t, SEPARATOR, &pretty) {
                hints.push(Hint::PrettyPrintedBody);
            }
            let event_time = match value.pointer("/event/timestamp") {
                Some(Value::String(text)) => Some(text.clone()),
                Some(Value::Number(number)) => Some(number.to_string()),
                _ => None,
            };
            if event_time.is_some_and(|other| {
                other.as_bytes() != t && verifies(other.as_bytes(), SEPARATOR, body)
            }) {
                hints.push(Hint::EventTimestamp);
            }
        }
        let scaled = [
            parsed
                .timestamp
                .checked_mul(1000)
                .map(|milliseconds| milliseconds.to_string()),
            parsed.timestamp_text.strip_suffix("000").map(str::to_owned),
        ];
        if scaled
            .iter()
            .flatten()
            .any(|other| verifies(other.as_bytes(), SEPARATOR, body))
        {
            hints.push(Hint::MillisecondTimestamp);
        }
        hints
    }
}
