//! Producing `Monime-Signature` headers, as Monime does: for tests, the emulator, the CLI and
//! the quickstart.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
#[cfg(feature = "es256")]
use p256::ecdsa::signature::DigestSigner;
#[cfg(feature = "es256")]
use p256::ecdsa::{Signature, SigningKey};
#[cfg(feature = "es256")]
use p256::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
#[cfg(feature = "es256")]
use sha2::Digest;
use sha2::Sha256;

use crate::error::Error;
use crate::verify::{SEPARATOR, hmac_key, unix_now};

/// Signs delivery bodies. `Debug` never shows the key.
///
/// ```
/// use monime_signature::Signer;
///
/// let signer = Signer::hs256("test_secret_for_vector_0123456789abcdef")?;
/// let body = br#"{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-example","name":"checkout_session.completed","timestamp":"1771803194"},"object":{"id":"scs-example","type":"checkout_session"},"data":{"id":"scs-example","status":"completed"}}"#;
/// assert_eq!(
///     signer.sign(1771803194, body),
///     "t=1771803194,v1=o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM="
/// );
/// # Ok::<(), monime_signature::Error>(())
/// ```
#[derive(Clone)]
pub struct Signer {
    key: SignKey,
}

#[derive(Clone)]
enum SignKey {
    Hs256(Hmac<Sha256>),
    #[cfg(feature = "es256")]
    Es256(SigningKey),
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.key {
            SignKey::Hs256(_) => "HS256([redacted])",
            #[cfg(feature = "es256")]
            SignKey::Es256(_) => "ES256([redacted])",
        };
        f.debug_tuple("Signer")
            .field(&format_args!("{kind}"))
            .finish()
    }
}

impl Signer {
    /// HS256 with `secret`, used verbatim as UTF-8 bytes.
    pub fn hs256(secret: &str) -> Result<Signer, Error> {
        Ok(Signer {
            key: SignKey::Hs256(hmac_key(secret)?),
        })
    }

    /// ES256 with a P-256 private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    #[cfg(feature = "es256")]
    #[cfg_attr(docsrs, doc(cfg(feature = "es256")))]
    pub fn es256(private_key_pem: &str) -> Result<Signer, Error> {
        let key = SigningKey::from_pkcs8_pem(private_key_pem.trim()).map_err(|e| {
            Error::invalid_key(format!(
                "the ES256 private key is not a PKCS#8 PEM P-256 key ({e})"
            ))
        })?;
        Ok(Signer {
            key: SignKey::Es256(key),
        })
    }

    /// A fresh ES256 key pair from the operating system's randomness, as Monime creates for
    /// each ES256 webhook.
    #[cfg(feature = "es256")]
    #[cfg_attr(docsrs, doc(cfg(feature = "es256")))]
    pub fn generate_es256() -> Signer {
        Signer {
            key: SignKey::Es256(SigningKey::random(&mut rand_core::OsRng)),
        }
    }

    /// The public key (PEM, SPKI) receivers verify with; `None` for HS256.
    pub fn public_key_pem(&self) -> Option<String> {
        match &self.key {
            SignKey::Hs256(_) => None,
            #[cfg(feature = "es256")]
            SignKey::Es256(key) => key.verifying_key().to_public_key_pem(LineEnding::LF).ok(),
        }
    }

    /// The header value for `body` sent at `timestamp` (Unix seconds):
    /// `t=<timestamp>,v1=<base64 signature of "<timestamp>_<body>">`. ES256 signatures are
    /// deterministic (RFC 6979), DER-encoded.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let t = timestamp.to_string();
        let signature = match &self.key {
            SignKey::Hs256(keyed) => {
                let mut mac = keyed.clone();
                mac.update(t.as_bytes());
                mac.update(SEPARATOR);
                mac.update(body);
                STANDARD.encode(mac.finalize().into_bytes())
            }
            #[cfg(feature = "es256")]
            SignKey::Es256(key) => {
                let digest = Sha256::new()
                    .chain_update(&t)
                    .chain_update(SEPARATOR)
                    .chain_update(body);
                let signature: Signature = key.sign_digest(digest);
                STANDARD.encode(signature.to_der().as_bytes())
            }
        };
        format!("t={t},v1={signature}")
    }

    /// [`Signer::sign`] at the current time.
    pub fn sign_now(&self, body: &[u8]) -> String {
        self.sign(unix_now(), body)
    }
}
