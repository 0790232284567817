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
    // A fixed array: verification sits on every delivery's hot path, and a heap allocation
    // per header costs a measurable share of verifying a small body.
    signatures: [&'a str; MAX_SIGNATURES],
    signature_count: usize,
}

impl<'a> SignatureHeader<'a> {
    /// Splits parts at `,` and each part at its first `=`, trimming whitespace around both.
    /// Unknown keys are ignored; every `v1` is kept (any may match).
    #[inline]
    pub fn parse(value: &'a str) -> Result<SignatureHeader<'a>, Error> {
        if value.len() > MAX_HEADER_BYTES {
            return Err(Error::malformed(format!(
                "it is {} bytes long, more than the {MAX_HEADER_BYTES} bytes allowed",
                value.len()
            )));
        }
        if let Some(canonical) = parse_canonical(value) {
            return Ok(canonical);
        }
        if value.trim_ascii().is_empty() {
            return Err(Error::MissingHeader);
        }
        let mut timestamp_text = None;
        let mut signatures = [""; MAX_SIGNATURES];
        let mut signature_count = 0;
        // One pass over the bytes (`,` and `=` are ASCII, so every cut is a char boundary):
        // this runs on every delivery, and `str::split` costs a measurable share of verifying
        // a small body.
        let mut rest = value;
        while !rest.is_empty() {
            let (part, after) = match rest.find(',') {
                Some(comma) => (&rest[..comma], &rest[comma + 1..]),
                None => (rest, ""),
            };
            rest = after;
            let part = part.trim_ascii();
            if part.is_empty() {
                continue;
            }
            let Some(equals) = part.find('=') else {
                return Err(Error::malformed(format!(
                    "the part `{}` has no `=`",
                    excerpt(part)
                )));
            };
            let text = part[equals + 1..].trim_ascii();
            match part[..equals].trim_ascii().as_bytes() {
                b"t" if timestamp_text.is_some() => {
                    return Err(Error::malformed("it has more than one `t=` part"));
                }
                b"t" => timestamp_text = Some(text),
                b"v1" => {
                    let slot = signatures.get_mut(signature_count).ok_or_else(|| {
                        Error::malformed(format!(
                            "it has more than {MAX_SIGNATURES} `v1=` signatures"
                        ))
                    })?;
                    *slot = text;
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

/// The shape Monime sends, `t=<digits>,v1=<signature>` with nothing around the parts, read
/// without the general splitting (which costs a measurable share of verifying a small body).
/// `None` for anything else, which the general parser then reads: for the inputs this
/// accepts, both give the same result.
#[inline]
fn parse_canonical(value: &str) -> Option<SignatureHeader<'_>> {
    let rest = value.strip_prefix("t=")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    // Up to 18 digits cannot overflow an i64; longer ones go the general way.
    if digits == 0 || digits > 18 {
        return None;
    }
    let (timestamp_text, after) = rest.split_at(digits);
    let signature = after.strip_prefix(",v1=")?;
    if signature.is_empty() || signature.contains(',') || signature.trim_ascii() != signature {
        return None;
    }
    let timestamp = timestamp_text
        .bytes()
        .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
    let mut signatures = [""; MAX_SIGNATURES];
    signatures[0] = signature;
    Some(SignatureHeader {
        timestamp_text,
        timestamp,
        signatures,
        signature_count: 1,
    })
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
    // Digits only: no sign, no spaces, no `+`, which `str::parse` would accept. A plain loop:
    // folding with a `Result<i64, Error>` accumulator moves the large error type each step.
    let mut value: i64 = 0;
    for byte in text.bytes() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return Err(malformed());
        }
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(digit)))
        {
            Some(next) => next,
            None => return Err(malformed()),
        };
    }
    Ok(value)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_fast_path_agrees_with_the_general_parser() {
        let v1 = "o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM=";
        for value in [
            format!("t=1771803194,v1={v1}"),
            format!("t=0,v1={v1}"),
            format!("t=999999999999999999,v1={v1}"),
            "t=1771803194,v1=x".to_owned(),
            "t=1771803194,v1=a b".to_owned(),
        ] {
            let fast = parse_canonical(&value).expect("canonical");
            // A leading space keeps the fast path out; the general parser trims it.
            let padded = format!(" {value}");
            let slow = SignatureHeader::parse(&padded).expect("valid");
            assert_eq!(fast.timestamp, slow.timestamp, "{value}");
            assert_eq!(fast.timestamp_text, slow.timestamp_text, "{value}");
            assert_eq!(fast.signatures(), slow.signatures(), "{value}");
        }
        for value in [
            format!("t=1771803194,v1={v1},v1={v1}"),
            format!("t=1771803194,v1={v1} "),
            format!("t=1771803194 ,v1={v1}"),
            format!("t=9999999999999999999,v1={v1}"),
            format!("t=,v1={v1}"),
            format!("t=-1,v1={v1}"),
            format!("v1={v1},t=1771803194"),
            "t=1771803194,v1=".to_owned(),
            "t=1771803194".to_owned(),
        ] {
            assert!(parse_canonical(&value).is_none(), "{value}");
        }
    }
}
