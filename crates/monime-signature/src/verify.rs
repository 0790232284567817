//! Checking a delivery: parse the header, check the timestamp, then look for one `v1` that
//! is a valid signature of `<t>_<body>` under any configured key.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
#[cfg(feature = "es256")]
use p256::ecdsa::signature::DigestVerifier;
#[cfg(feature = "es256")]
use p256::ecdsa::{Signature, VerifyingKey};
#[cfg(feature = "es256")]
use p256::pkcs8::DecodePublicKey;
#[cfg(feature = "es256")]
use sha2::Digest;
use sha2::Sha256;

use crate::error::Error;
use crate::event::Event;
use crate::header::SignatureHeader;

/// The header Monime puts its signature in (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "monime-signature";
/// The tolerance Monime's own integrations use between `t` and the receiver's clock.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Separator between the timestamp and the body in the signed bytes.
pub(crate) const SEPARATOR: &[u8] = b"_";
/// The separator integrators wrongly use; only tried to explain a mismatch.
pub(crate) const WRONG_SEPARATOR: &[u8] = b".";

/// Verifies `Monime-Signature` headers against one or more keys.
///
/// Several keys may be configured at once (the current and the previous secret while rotating):
/// a delivery is valid when any `v1` value matches any key.
///
/// ```
/// use monime_signature::{Signer, Verifier};
///
/// let secret = "whsec_test_0123456789abcdef0123456789";
/// let body = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-1","name":"payment.completed","timestamp":"1771803194"},"object":{"id":"pay-1","type":"payment"},"data":{}}"#;
/// let header = Signer::hs256(secret)?.sign(1771803194, body);
///
/// let verifier = Verifier::hs256(secret)?;
/// let verified = verifier.verify_at(&header, body, 1771803194 + 10)?;
/// assert_eq!(verified.timestamp, 1771803194);
///
/// let event = verifier.verify_and_parse_at(&header, body, 1771803194)?;
/// assert_eq!(event.name.as_str(), "payment.completed");
/// # Ok::<(), monime_signature::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    pub(crate) keys: Vec<VerifyKey>,
    tolerance: Option<Duration>,
}

#[derive(Clone)]
pub(crate) enum VerifyKey {
    Hs256 {
        secret: String,
        keyed: Hmac<Sha256>,
    },
    #[cfg(feature = "es256")]
    Es256(VerifyingKey),
}

/// What a successful verification established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The signed `t` of the delivery, in Unix seconds.
    pub timestamp: i64,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .keys
            .iter()
            .map(|k| match k {
                VerifyKey::Hs256 { .. } => "HS256([redacted])",
                #[cfg(feature = "es256")]
                VerifyKey::Es256(_) => "ES256(public key)",
            })
            .collect();
        f.debug_struct("Verifier")
            .field("keys", &keys)
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Verifier {
    /// A verifier for HS256 deliveries signed with `secret` (used verbatim: not trimmed, not
    /// base64-decoded).
    pub fn hs256(secret: impl Into<String>) -> Result<Verifier, Error> {
        Verifier::empty().and_hs256(secret)
    }

    /// A verifier for ES256 deliveries, from the webhook's `publicKey` (PEM, SPKI, P-256).
    #[cfg(feature = "es256")]
    #[cfg_attr(docsrs, doc(cfg(feature = "es256")))]
    pub fn es256(public_key_pem: &str) -> Result<Verifier, Error> {
        Verifier::empty().and_es256(public_key_pem)
    }

    fn empty() -> Verifier {
        Verifier {
            keys: Vec::new(),
            tolerance: Some(DEFAULT_TOLERANCE),
        }
    }

    /// Also accepts deliveries signed with `secret`, e.g. the previous secret during rotation.
    pub fn and_hs256(mut self, secret: impl Into<String>) -> Result<Verifier, Error> {
        let secret = secret.into();
        self.keys.push(VerifyKey::Hs256 {
            keyed: hmac_key(&secret)?,
            secret,
        });
        Ok(self)
    }

    /// Also accepts deliveries signed by the key matching `public_key_pem`.
    #[cfg(feature = "es256")]
    #[cfg_attr(docsrs, doc(cfg(feature = "es256")))]
    pub fn and_es256(mut self, public_key_pem: &str) -> Result<Verifier, Error> {
        let key = VerifyingKey::from_public_key_pem(public_key_pem.trim()).map_err(|e| {
            Error::invalid_key(format!(
                "the ES256 public key is not a PEM-encoded P-256 SPKI key ({e})"
            ))
        })?;
        self.keys.push(VerifyKey::Es256(key));
        Ok(self)
    }

    /// How far `t` may be from the receiver's clock, either way (default 300 s).
    pub fn with_tolerance(mut self, tolerance: Duration) -> Verifier {
        self.tolerance = Some(tolerance);
        self
    }

    /// Turns the timestamp check off, so a captured delivery can be replayed forever.
    /// Only for tests and for re-processing stored deliveries.
    pub fn insecure_skip_timestamp_check(mut self) -> Verifier {
        self.tolerance = None;
        self
    }

    /// Verifies `header` (the `Monime-Signature` value) over the raw `body` bytes, now.
    pub fn verify(&self, header: &str, body: &[u8]) -> Result<Verified, Error> {
        self.verify_at(header, body, unix_now())
    }

    /// Verifies as of `now` (Unix seconds): the injectable clock.
    ///
    /// A mismatch comes back with no [`Hint`](crate::Hint)s: finding them costs a JSON parse
    /// and up to ten more HMACs, which a receiver answering 401 has no use for. Ask with
    /// [`Verifier::verify_explained_at`].
    pub fn verify_at(&self, header: &str, body: &[u8], now: i64) -> Result<Verified, Error> {
        let parsed = self.check_header_at(header, now)?;
        let t = parsed.timestamp_text.as_bytes();
        if self
            .keys
            .iter()
            .any(|key| key.matches(t, SEPARATOR, body, parsed.signatures()))
        {
            Ok(Verified {
                timestamp: parsed.timestamp,
            })
        } else {
            Err(Error::SignatureMismatch { hints: Vec::new() })
        }
    }

    /// [`Verifier::verify_at`], and on a mismatch the likely mistakes, as
    /// [`Error::SignatureMismatch`]'s hints: for tools and logs that explain a failure.
    pub fn verify_explained_at(
        &self,
        header: &str,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, Error> {
        match self.verify_at(header, body, now) {
            Err(Error::SignatureMismatch { .. }) => {
                let parsed = SignatureHeader::parse(header)?;
                Err(Error::SignatureMismatch {
                    hints: self.explain_mismatch(&parsed, body),
                })
            }
            other => other,
        }
    }

    /// [`Verifier::verify_explained_at`], now.
    pub fn verify_explained(&self, header: &str, body: &[u8]) -> Result<Verified, Error> {
        self.verify_explained_at(header, body, unix_now())
    }

    /// The checks that need no body: the header parses and its `t` is within the tolerance
    /// at `now`. A receiver can run them before reading the body, as the axum extractor does.
    #[inline]
    pub fn check_header_at<'h>(
        &self,
        header: &'h str,
        now: i64,
    ) -> Result<SignatureHeader<'h>, Error> {
        let parsed = SignatureHeader::parse(header)?;
        if let Some(tolerance) = self.tolerance {
            let tolerance_secs = tolerance.as_secs();
            let distance = parsed.timestamp.abs_diff(now);
            if distance > tolerance_secs {
                return Err(Error::TimestampOutOfTolerance {
                    timestamp: parsed.timestamp,
                    now,
                    tolerance_secs,
                });
            }
        }
        Ok(parsed)
    }

    /// Verifies the `Monime-Signature` header of `headers` over `body`, now.
    pub fn verify_headers(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Verified, Error> {
        self.verify_headers_at(headers, body, unix_now())
    }

    /// [`Verifier::verify_headers`] as of `now` (Unix seconds).
    pub fn verify_headers_at(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, Error> {
        self.verify_at(signature_header(headers)?, body, now)
    }

    /// Verifies, then parses the body as an [`Event`].
    pub fn verify_and_parse(&self, header: &str, body: &[u8]) -> Result<Event, Error> {
        self.verify_and_parse_at(header, body, unix_now())
    }

    /// [`Verifier::verify_and_parse`] as of `now` (Unix seconds).
    pub fn verify_and_parse_at(&self, header: &str, body: &[u8], now: i64) -> Result<Event, Error> {
        self.verify_at(header, body, now)?;
        Event::parse(body)
    }
}

impl VerifyKey {
    #[inline]
    pub(crate) fn matches(
        &self,
        t: &[u8],
        separator: &[u8],
        body: &[u8],
        signatures: &[&str],
    ) -> bool {
        match self {
            VerifyKey::Hs256 { keyed, .. } => {
                let mut mac = keyed.clone();
                mac.update(t);
                mac.update(separator);
                mac.update(body);
                // Each candidate is decoded (standard base64 with padding, canonical only) and
                // checked by the hmac crate's constant-time comparison; every candidate is
                // checked, whatever the earlier results.
                signatures.iter().fold(false, |found, candidate| {
                    let verified = STANDARD
                        .decode(candidate)
                        .is_ok_and(|tag| mac.clone().verify_slice(&tag).is_ok());
                    found | verified
                })
            }
            #[cfg(feature = "es256")]
            VerifyKey::Es256(key) => {
                let digest = Sha256::new()
                    .chain_update(t)
                    .chain_update(separator)
                    .chain_update(body);
                signatures.iter().any(|candidate| {
                    decode_es256(candidate).is_some_and(|signature| {
                        key.verify_digest(digest.clone(), &signature).is_ok()
                    })
                })
            }
        }
    }
}

/// The one `Monime-Signature` value of `headers`, as text.
pub(crate) fn signature_header(headers: &http::HeaderMap) -> Result<&str, Error> {
    let mut values = headers.get_all(SIGNATURE_HEADER).iter();
    let value = values.next().ok_or(Error::MissingHeader)?;
    if values.next().is_some() {
        return Err(Error::malformed(
            "the request carries more than one Monime-Signature header",
        ));
    }
    value
        .to_str()
        .map_err(|_| Error::malformed("the value is not visible ASCII"))
}

pub(crate) fn hmac_key(secret: &str) -> Result<Hmac<Sha256>, Error> {
    if secret.is_empty() {
        return Err(Error::invalid_key("the HS256 secret is empty"));
    }
    Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| Error::invalid_key("the HS256 secret cannot key HMAC-SHA256"))
}

/// ES256 `v1`: DER or 64-byte r||s, in standard or URL-safe base64, padded or not. Monime has
/// not published its ES256 format, so every reasonable reading is accepted.
#[cfg(feature = "es256")]
fn decode_es256(text: &str) -> Option<Signature> {
    let bytes = decode_any(text)?;
    if bytes.len() == 64 {
        Signature::from_slice(&bytes).ok()
    } else {
        Signature::from_der(&bytes).ok()
    }
}

pub(crate) fn decode_any(text: &str) -> Option<Vec<u8>> {
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(text).ok())
}

pub(crate) fn unix_now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the one canonical text of the MAC verifies: not the same bytes with other trailing
    /// bits, without padding, or URL-safe.
    #[test]
    fn an_hs256_v1_is_the_macs_canonical_standard_base64() {
        let verifier = Verifier::hs256("test_secret_for_vector_0123456789abcdef")
            .unwrap()
            .insecure_skip_timestamp_check();
        let body = b"{}";
        let mut mac = hmac_key("test_secret_for_vector_0123456789abcdef").unwrap();
        mac.update(b"1_{}");
        let tag = mac.finalize().into_bytes();
        let canonical = STANDARD.encode(tag);
        assert!(
            verifier
                .verify_at(&format!("t=1,v1={canonical}"), body, 0)
                .is_ok()
        );
        // The last symbol before the padding carries 2 unused bits.
        let mut other_bits = canonical.clone().into_bytes();
        let at = other_bits.len() - 2;
        other_bits[at] = if other_bits[at] == b'A' { b'B' } else { b'A' };
        let other_bits = String::from_utf8(other_bits).unwrap();
        for forged in [
            other_bits.as_str(),
            canonical.trim_end_matches('='),
            &URL_SAFE.encode(tag),
            &STANDARD.encode(&tag[..31]),
        ] {
            if forged == canonical {
                continue;
            }
            let header = format!("t=1,v1={forged}");
            assert!(verifier.verify_at(&header, body, 0).is_err(), "{forged}");
        }
    }
}
