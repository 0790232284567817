//! The shared vectors in `vectors.json` (computed independently, in Python): every case
//! verifies to its expected verdict, and every signable case is reproduced by `Signer`.

use base64::Engine;
use monime_signature::{Error, Hint, Signer, Verifier};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = include_str!("vectors.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no {field}", case["name"]))
}

fn body(case: &Value) -> Vec<u8> {
    match case.get("body_base64") {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap(),
        None => text(case, "body").as_bytes().to_vec(),
    }
}

fn header(case: &Value) -> String {
    match case.get("header_fill") {
        Some(fill) => {
            let mut header = fill["prefix"].as_str().unwrap().to_owned();
            let length = usize::try_from(fill["length"].as_u64().unwrap()).unwrap();
            let filler = fill["fill"].as_str().unwrap();
            while header.len() < length {
                header.push_str(filler);
            }
            header
        }
        None => text(case, "header").to_owned(),
    }
}

fn verifier(case: &Value) -> Result<Verifier, Error> {
    let tolerance = std::time::Duration::from_secs(case["tolerance"].as_u64().unwrap());
    let verifier = match text(case, "scheme") {
        "HS256" => {
            let mut secrets = case["secrets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap());
            let mut verifier = Verifier::hs256(secrets.next().unwrap())?;
            for secret in secrets {
                verifier = verifier.and_hs256(secret)?;
            }
            verifier
        }
        "ES256" => Verifier::es256(text(case, "public_key_pem"))?,
        other => panic!("unknown scheme {other}"),
    };
    Ok(verifier.with_tolerance(tolerance))
}

fn verdict(case: &Value) -> Result<(), Error> {
    let now = case["now"].as_i64().unwrap();
    verifier(case)?
        .verify_explained_at(&header(case), &body(case), now)
        .map(|_| ())
}

/// The plain verdict: what `verify_at` (and the axum extractor) returns, hints not computed.
fn plain_verdict(case: &Value) -> Result<(), Error> {
    let now = case["now"].as_i64().unwrap();
    verifier(case)?
        .verify_at(&header(case), &body(case), now)
        .map(|_| ())
}

#[test]
fn there_are_enough_cases_and_the_required_ones() {
    let cases = cases();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for required in [
        "facts_check_vector",
        "period_separator",
        "hex_v1",
        "base64url_v1",
        "changed_body_byte",
        "changed_t",
        "wrong_secret",
        "configured_secret_has_trailing_newline",
        "two_v1_one_valid",
        "unknown_extra_parts",
        "missing_t",
        "missing_v1",
        "empty_header",
        "non_numeric_t",
        "stale_t",
        "future_t",
        "one_mib_header",
        "non_utf8_body",
        "es256_der_standard_base64",
        "es256_raw_rs_standard_base64",
        "es256_wrong_key",
        "es256_malformed_pem",
    ] {
        assert!(names.contains(&required), "missing vector {required}");
    }
}

#[test]
fn every_case_verifies_to_its_expected_verdict() {
    let mut failures = Vec::new();
    for case in cases() {
        let expected = text(&case, "expect");
        let got = match verdict(&case) {
            Ok(()) => "valid",
            Err(error) => error.kind(),
        };
        if got != expected {
            failures.push(format!("{}: expected {expected}, got {got}", case["name"]));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn signable_cases_are_reproduced_exactly_by_the_signer() {
    let mut checked = 0;
    for case in cases().iter().filter(|c| c["reproduced_by_sign"] == true) {
        let signer = match text(case, "scheme") {
            "HS256" => {
                let secret = case
                    .get("signing_secret")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| case["secrets"][0].as_str().unwrap());
                Signer::hs256(secret).unwrap()
            }
            _ => Signer::es256(text(case, "private_key_pem")).unwrap(),
        };
        let t: i64 = text(case, "t").parse().unwrap();
        assert_eq!(
            signer.sign(t, &body(case)),
            header(case),
            "{}",
            case["name"]
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} signable cases");
}

#[test]
fn the_facts_check_vector_verifies_and_its_period_twin_names_the_separator() {
    let cases = cases();
    let find = |name: &str| cases.iter().find(|c| c["name"] == name).unwrap().clone();
    verdict(&find("facts_check_vector")).expect("the check vector verifies");
    let error = verdict(&find("period_separator")).unwrap_err();
    assert_eq!(
        error,
        Error::SignatureMismatch {
            hints: vec![Hint::PeriodSeparator]
        }
    );
    let message = error.to_string();
    assert!(message.contains("period separator"), "{message}");
    assert!(message.contains("underscore"), "{message}");
}

#[test]
fn mismatches_explain_the_mistake_when_they_can() {
    let cases = cases();
    let hints = |name: &str| match verdict(cases.iter().find(|c| c["name"] == name).unwrap()) {
        Err(Error::SignatureMismatch { hints }) => hints,
        other => panic!("{name}: expected a mismatch, got {other:?}"),
    };
    assert_eq!(hints("hex_v1"), [Hint::HexSignature]);
    assert_eq!(hints("base64url_v1"), [Hint::UrlSafeBase64]);
    assert_eq!(
        hints("configured_secret_has_trailing_newline"),
        [Hint::SecretWhitespace]
    );
    assert_eq!(hints("es256_period_separator"), [Hint::PeriodSeparator]);
    assert!(hints("wrong_secret").is_empty());
    assert!(hints("changed_body_byte").is_empty());
}

#[test]
fn plain_verification_leaves_the_hints_to_whoever_asks() {
    // Every case gets the same verdict either way; only the hints differ, and `verify_at`
    // never computes them (they cost extra HMACs a receiver answering 401 has no use for).
    for case in cases() {
        let explained = verdict(&case);
        let plain = plain_verdict(&case);
        match (&explained, &plain) {
            (Err(Error::SignatureMismatch { .. }), Err(Error::SignatureMismatch { hints })) => {
                assert!(hints.is_empty(), "{}: {hints:?}", case["name"]);
            }
            _ => assert_eq!(explained, plain, "{}", case["name"]),
        }
    }
    let period = cases()
        .into_iter()
        .find(|c| c["name"] == "period_separator")
        .unwrap();
    assert_eq!(
        plain_verdict(&period),
        Err(Error::SignatureMismatch { hints: vec![] })
    );
}
