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
        Error::SignatureMismatch {
            hints: vec![Hint::Base64DecodedSecret],
        },
        Error::SignatureMismatch {
            hints: vec![Hint::ReserializedBody, Hint::PrettyPrintedBody],
        },
        Error::SignatureMismatch {
            hints: vec![Hint::EventTimestamp],
        },
        Error::SignatureMismatch {
            hints: vec![Hint::MillisecondTimestamp],
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

/// Each usual mistake, made by a sender, is named by the diagnosis (the one the CLI prints
/// and the axum extractor logs), and only that one.
#[test]
fn the_diagnosis_names_each_usual_mistake() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::Mac;

    const SECRET: &str = "test_secret_for_vector_0123456789abcdef";
    const T: &str = "1771803194";
    let body = br#"{"apiVersion":"caph.2025-08-23", "event":{"id":"wkd-1","name":"payment.completed","timestamp":"1771800000"},"object":{"id":"pay-1","type":"payment"},"data":{}}"#;
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    let mac = |key: &[u8], t: &str, separator: &str, body: &[u8]| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(t.as_bytes());
        mac.update(separator.as_bytes());
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    };
    let b64 = |tag: Vec<u8>| STANDARD.encode(tag);
    let encoded_secret = STANDARD.encode(b"the raw secret bytes, 32 of them");
    let cases: Vec<(Hint, String, String)> = vec![
        (
            Hint::PeriodSeparator,
            SECRET.into(),
            b64(mac(SECRET.as_bytes(), T, ".", body)),
        ),
        (
            Hint::HexSignature,
            SECRET.into(),
            mac(SECRET.as_bytes(), T, "_", body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        ),
        (
            Hint::UrlSafeBase64,
            SECRET.into(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac(
                SECRET.as_bytes(),
                T,
                "_",
                body,
            )),
        ),
        (
            Hint::SecretWhitespace,
            format!("{SECRET}\n"),
            b64(mac(SECRET.as_bytes(), T, "_", body)),
        ),
        (
            Hint::Base64DecodedSecret,
            encoded_secret.clone(),
            b64(mac(b"the raw secret bytes, 32 of them", T, "_", body)),
        ),
        (
            Hint::ReserializedBody,
            SECRET.into(),
            b64(mac(
                SECRET.as_bytes(),
                T,
                "_",
                &serde_json::to_vec(&value).unwrap(),
            )),
        ),
        (
            Hint::PrettyPrintedBody,
            SECRET.into(),
            b64(mac(
                SECRET.as_bytes(),
                T,
                "_",
                &serde_json::to_vec_pretty(&value).unwrap(),
            )),
        ),
        (
            Hint::EventTimestamp,
            SECRET.into(),
            b64(mac(SECRET.as_bytes(), "1771800000", "_", body)),
        ),
        (
            Hint::MillisecondTimestamp,
            SECRET.into(),
            b64(mac(SECRET.as_bytes(), "1771803194000", "_", body)),
        ),
    ];
    for (hint, secret, v1) in cases {
        let verifier = monime_signature::Verifier::hs256(secret).unwrap();
        let error = verifier
            .verify_explained_at(&format!("t={T},v1={v1}"), body, 1771803194)
            .unwrap_err();
        assert_eq!(
            error,
            Error::SignatureMismatch { hints: vec![hint] },
            "{}",
            hint.kind()
        );
        assert!(error.to_string().contains(hint.explanation()));
    }
    // A wrong key matches no mistake.
    let wrong = monime_signature::Verifier::hs256("another_secret_0123456789abcdef0123").unwrap();
    let v1 = b64(mac(SECRET.as_bytes(), T, "_", body));
    assert_eq!(
        wrong.verify_explained_at(&format!("t={T},v1={v1}"), body, 1771803194),
        Err(Error::SignatureMismatch { hints: vec![] })
    );
}
