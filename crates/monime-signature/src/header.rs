//! Parsing the `Monime-Signature` header value: `t=<unix seconds>,v1=<signature>[,...]`.

use crate::error::Error;

/// Longer headers are refused before any work: a real one is under 200 bytes, even with a
/// few rotated signatures.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// At most this many `v1` values are checked, so a hostile header cannot multiply the work.
pub const MAX_SIGNATURES: usize = 8;

/// A parsed header. `timestamp_text` is `t` exactly as sent: it is part of the signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    /// `t` exactly as sent.
    pub timestamp_text: &'a str,
    /// `t` as Unix seconds.
    pub timestamp: i64,
    // A fixed array: verification sits on every delivery's hot path, and a heap allocation
    // per header costs a measurable share of verifying a small body.
    signatures: [&'a str; MAX_SIGNATURES],
    signature_count: usize,
}

impl<'a> SignatureHeader<'a> {
    /// Splits parts at `,` and each part at its first `=`, trimming whitespace around both.
    /// Unknown keys are ignored; every `v1` is kept (any may match).
    pub fn parse(value: &'a str) -> Result<SignatureHeader<'a>, Error> {
        if value.len() > MAX_HEADER_BYTES {
            return Err(Error::malformed(format!(
                "it is {} bytes long, more than the {MAX_HEADER_BYTES} bytes allowed",
                value.len()
            )));
        }
        if value.trim_ascii().is_empty() {
            return Err(Error::MissingHeader);
        }
        let mut timestamp_text = None;
        let mut signatures = [""; MAX_SIGNATURES];
        let mut signature_count = 0;
        for part in value.split(',') {
            let part = part.trim_ascii();
            if part.is_empty() {
                continue;
            }
            let Some((key, text)) = part.split_once('=') else {
                return Err(Error::malformed(format!(
                    "the part `{}` has no `=`",
                    excerpt(part)
                )));
            };
            match key.trim_ascii() {
                "t" if timestamp_text.is_some() => {
                    return Err(Error::malformed("it has more than one `t=` part"));
                }
                "t" => timestamp_text = Some(text.trim_ascii()),
                "v1" => {
                    let slot = signatures.get_mut(signature_count).ok_or_else(|| {
                        Error::malformed(format!(
                            "it has more than {MAX_SIGNATURES} `v1=` signatures"
                        ))
                    })?;
                    *slot = text.trim_ascii();
                    signature_count += 1;
                }
                _ => {}
            }
        }
        let timestamp_text = timestamp_text.ok_or(Error::MissingTimestamp)?;
        let timestamp = parse_unix_seconds(timestamp_text)?;
        if signature_count == 0 {
            return Err(Error::MissingSignature);
        }
        Ok(SignatureHeader {
            timestamp_text,
            timestamp,
            signatures,
            signature_count,
        })
    }

    /// Every `v1` value, in header order.
    pub fn signatures(&self) -> &[&'a str] {
        &self.signatures[..self.signature_count]
    }
}

fn parse_unix_seconds(text: &str) -> Result<i64, Error> {
    let malformed = || {
        Error::malformed(format!(
            "`t={}` is not a number of Unix seconds",
            excerpt(text)
        ))
    };
    if text.is_empty() {
        return Err(malformed());
    }
    // Digits only: no sign, no spaces, no `+`, which `str::parse` would accept.
    text.bytes().try_fold(0i64, |value, byte| {
        let digit = byte
            .checked_sub(b'0')
            .filter(|d| *d <= 9)
            .ok_or_else(malformed)?;
        value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(digit)))
            .ok_or_else(malformed)
    })
}

/// At most 40 characters of attacker-controlled text in an error message.
fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}
