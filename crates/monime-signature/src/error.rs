//! What can go wrong when checking a delivery, worded to tell the integrator what to check.

use std::fmt;

/// Why a delivery was not accepted. [`Error::kind`] gives a stable snake_case name (the same
/// names the test vectors use).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The request carries no `Monime-Signature` header, or an empty one.
    MissingHeader,
    /// The header is not `t=<unix seconds>,v1=<signature>`; `problem` says what is wrong.
    MalformedHeader {
        /// What is wrong with the header.
        problem: String,
    },
    /// The header has no `t=` part.
    MissingTimestamp,
    /// The header has no `v1=` part.
    MissingSignature,
    /// `t` is further from `now` than the tolerance allows (a replay, or a skewed clock).
    TimestampOutOfTolerance {
        /// The header's `t`, Unix seconds.
        timestamp: i64,
        /// The time verification ran at, Unix seconds.
        now: i64,
        /// The accepted distance between `t` and `now`, in seconds.
        tolerance_secs: u64,
    },
    /// No `v1` value is a valid signature of the body with any configured key.
    SignatureMismatch {
        /// The usual mistakes the signature was found to match, if any.
        hints: Vec<Hint>,
    },
    /// A secret or key could not be used; `problem` names the reason (never the key).
    InvalidKey {
        /// Why the secret or key is unusable.
        problem: String,
    },
    /// The body passed verification but is not a Monime event.
    InvalidBody {
        /// What is missing or wrong in the body.
        problem: String,
    },
}

/// A likely cause of a [`Error::SignatureMismatch`], found by re-checking the delivery with
/// the mistakes integrators make. Computed only after a mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Hint {
    /// A `v1` matches `<t>.<body>`: a period separator where Monime uses `_`.
    PeriodSeparator,
    /// A `v1` is 64 hex digits; Monime sends base64.
    HexSignature,
    /// A `v1` is URL-safe base64; HS256 signatures are standard base64 with padding.
    UrlSafeBase64,
    /// A configured secret has surrounding whitespace, and the trimmed secret matches.
    SecretWhitespace,
    /// The signature matches the configured secret's base64-decoded bytes as the key.
    Base64DecodedSecret,
    /// The signature matches the body re-serialized as compact JSON: something between
    /// Monime and the verifier (a proxy, a framework's JSON extractor) re-encoded it.
    ReserializedBody,
    /// The signature matches the body re-serialized as pretty-printed JSON.
    PrettyPrintedBody,
    /// The signature matches with the body's `event.timestamp` in place of the header's `t`.
    EventTimestamp,
    /// The signature matches with `t` in milliseconds (or the header's `t` divided by 1000).
    MillisecondTimestamp,
}

impl Hint {
    /// A stable snake_case name, for logs and metrics.
    pub fn kind(self) -> &'static str {
        match self {
            Hint::PeriodSeparator => "period_separator",
            Hint::HexSignature => "hex_signature",
            Hint::UrlSafeBase64 => "url_safe_base64",
            Hint::SecretWhitespace => "secret_whitespace",
            Hint::Base64DecodedSecret => "base64_decoded_secret",
            Hint::ReserializedBody => "reserialized_body",
            Hint::PrettyPrintedBody => "pretty_printed_body",
            Hint::EventTimestamp => "event_timestamp",
            Hint::MillisecondTimestamp => "millisecond_timestamp",
        }
    }

    /// The mistake, said to the integrator: what matched and what to do instead.
    pub fn explanation(self) -> &'static str {
        match self {
            Hint::PeriodSeparator => {
                "the signature matches `<t>.<body>`: a period separator; Monime signs \
                 `<t>_<body>` with an underscore"
            }
            Hint::HexSignature => {
                "v1 is hex-encoded; Monime's v1 is standard base64 (44 characters)"
            }
            Hint::UrlSafeBase64 => {
                "v1 is URL-safe base64 (`-`, `_`, or no padding); HS256 v1 is standard base64 \
                 with padding"
            }
            Hint::SecretWhitespace => {
                "the signature matches the secret without its surrounding whitespace (a \
                 trailing newline from a file or environment variable?): trim the configured \
                 secret"
            }
            Hint::Base64DecodedSecret => {
                "the signature matches the base64-decoded secret: Monime keys HMAC with the \
                 secret's UTF-8 text as is"
            }
            Hint::ReserializedBody => {
                "the signature matches a re-serialized (compact) JSON body: verify the raw \
                 bytes received, not re-encoded JSON"
            }
            Hint::PrettyPrintedBody => {
                "the signature matches a pretty-printed JSON body: verify the raw bytes \
                 received, not re-encoded JSON"
            }
            Hint::EventTimestamp => {
                "the signature matches the body's event.timestamp as t, not the header's t: \
                 sign and verify with `t` from the header"
            }
            Hint::MillisecondTimestamp => {
                "the signature matches t in milliseconds: t is in seconds, not milliseconds"
            }
        }
    }
}

impl Error {
    /// A stable snake_case name for the error, for logs, metrics and test vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::MissingHeader => "missing_header",
            Error::MalformedHeader { .. } => "malformed_header",
            Error::MissingTimestamp => "missing_timestamp",
            Error::MissingSignature => "missing_signature",
            Error::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
            Error::SignatureMismatch { .. } => "signature_mismatch",
            Error::InvalidKey { .. } => "invalid_key",
            Error::InvalidBody { .. } => "invalid_body",
        }
    }

    pub(crate) fn malformed(problem: impl Into<String>) -> Error {
        Error::MalformedHeader {
            problem: problem.into(),
        }
    }

    pub(crate) fn invalid_key(problem: impl Into<String>) -> Error {
        Error::InvalidKey {
            problem: problem.into(),
        }
    }
}

const EXPECTED_FORM: &str = "expected `t=<unix seconds>,v1=<signature>`";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingHeader => write!(
                f,
                "no Monime-Signature header: Monime signs every delivery, so check that the \
                 request came from Monime and that no proxy dropped the header"
            ),
            Error::MalformedHeader { problem } => {
                write!(
                    f,
                    "malformed Monime-Signature header: {problem}; {EXPECTED_FORM}"
                )
            }
            Error::MissingTimestamp => {
                write!(
                    f,
                    "the Monime-Signature header has no `t=` timestamp; {EXPECTED_FORM}"
                )
            }
            Error::MissingSignature => {
                write!(
                    f,
                    "the Monime-Signature header has no `v1=` signature; {EXPECTED_FORM}"
                )
            }
            Error::TimestampOutOfTolerance {
                timestamp,
                now,
                tolerance_secs,
            } => {
                let (distance, direction) = if timestamp <= now {
                    (now.saturating_sub(*timestamp), "old")
                } else {
                    (timestamp.saturating_sub(*now), "in the future")
                };
                write!(
                    f,
                    "the delivery timestamp t={timestamp} is {distance} s {direction} at \
                     now={now}, beyond the {tolerance_secs} s tolerance: a replayed delivery, \
                     or a clock out of sync (check NTP on the receiving host)"
                )
            }
            Error::SignatureMismatch { hints } => {
                write!(
                    f,
                    "signature mismatch: no v1 signature matches the body. Verify the raw \
                     request bytes exactly as received (not re-serialized JSON), over \
                     `<t>_<body>` with an underscore separator, with HMAC-SHA256 keyed by the \
                     secret's UTF-8 bytes, and compare with v1 as standard base64"
                )?;
                for hint in hints {
                    write!(f, ". Likely cause: {}", hint.explanation())?;
                }
                Ok(())
            }
            Error::InvalidKey { problem } => write!(f, "invalid key: {problem}"),
            Error::InvalidBody { problem } => {
                write!(f, "the delivery body is not a Monime event: {problem}")
            }
        }
    }
}

impl std::error::Error for Error {}
