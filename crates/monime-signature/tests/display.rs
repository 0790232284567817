//! Every error's message, as users read it, guarded by snapshots.

use monime_signature::{Error, Hint};

#[test]
fn every_error_message() {
    let errors = [
        Error::MissingHeader,
        Error::MalformedHeader {
            problem: "`t=abc` is not a number of Unix seconds".to_owned(),
        },
        Error::MissingTimestamp,
        Error::MissingSignature,
        Error::TimestampOutOfTolerance {
            timestamp: 1771803194,
            now: 1771803600,
            tolerance_secs: 300,
        },
        Error::TimestampOutOfTolerance {
            timestamp: 1771803600,
            now: 1771803194,
            tolerance_secs: 300,
        },
        Error::SignatureMismatch { hints: vec![] },
        Error::SignatureMismatch {
            hints: vec![Hint::PeriodSeparator],
        },
        Error::SignatureMismatch {
            hints: vec![Hint::HexSignature],
        },
        Error::SignatureMismatch {
            hints: vec![Hint::UrlSafeBase64],
        },
        Error::SignatureMismatch {
            hints: vec![Hint::SecretWhitespace],
        },
        Error::InvalidKey {
            problem: "the HS256 secret is empty".to_owned(),
        },
        Error::InvalidBody {
            problem: "missing field `event` (line 1, column 2)".to_owned(),
        },
    ];
    let rendered: Vec<String> = errors
        .iter()
        .map(|e| format!("[{}] {e}", e.kind()))
        .collect();
    insta::assert_snapshot!(rendered.join("\n\n"));
}

#[test]
fn errors_from_real_inputs_read_well() {
    let verifier = monime_signature::Verifier::hs256("s".repeat(32)).unwrap();
    let messages: Vec<String> = [
        "",
        "t=1771803194",
        "v1=abc",
        "t=17718O3194,v1=abc",
        "t=1771803194,v1abc",
        "t=1,t=2,v1=abc",
    ]
    .iter()
    .map(|header| {
        format!(
            "{header:?} -> {}",
            verifier.verify_at(header, b"{}", 1771803194).unwrap_err()
        )
    })
    .collect();
    insta::assert_snapshot!(messages.join("\n"));
}
