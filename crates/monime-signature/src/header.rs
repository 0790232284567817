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
    pub timestamp_text: &'a str,
    pub timestamp: i64,
    pub signatures: Vec<&'a str>,
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
        if value.trim().is_empty() {
            return Err(Error::MissingHeader);
        }
        let mut timestamp_text = None;
        let mut signatures = Vec::new();
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((key, text)) = part.split_once('=') else {
                return Err(Error::malformed(format!(
                    "the part `{}` has no `=`",
                    excerpt(part)
                )));
            };
            match key.trim() {
                "t" if timestamp_text.is_some() => {
                    return Err(Error::malformed("it has more than one `t=` part"));
                }
                "t" => timestamp_text = Some(text.trim()),
                "v1" => {
                    if signatures.len() == MAX_SIGNATURES {
                        return Err(Error::malformed(format!(
                            "it has more than {MAX_SIGNATURES} `v1=` signatures"
                        )));
                    }
                    signatures.push(text.trim());
                }
                _ => {}
            }
        }
        let timestamp_text = timestamp_text.ok_or(Error::MissingTimestamp)?;
        let timestamp = parse_unix_seconds(timestamp_text)?;
        if signatures.is_empty() {
            return Err(Error::MissingSignature);
        }
        Ok(SignatureHeader {
            timestamp_text,
            timestamp,
            signatures,
        })
    }
}

fn parse_unix_seconds(text: &str) -> Result<i64, Error> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<i64>() {
        Ok(seconds) if digits_only => Ok(seconds),
        _ => Err(Error::malformed(format!(
            "`t={}` is not a number of Unix seconds",
            excerpt(text)
        ))),
    }
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
