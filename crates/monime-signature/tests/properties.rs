//! Properties over arbitrary inputs: signing then verifying round-trips, and any single-byte
//! change of the body, the timestamp or the signature is rejected.

use monime_signature::{Signer, Verifier};
use proptest::prelude::*;

const NOW: i64 = 1_771_803_194;

fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    Verifier::hs256(secret)
        .unwrap()
        .verify_at(header, body, NOW)
        .is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sign_then_verify_round_trips(secret in "\\PC{1,64}", body in proptest::collection::vec(any::<u8>(), 0..2048), skew in -300i64..=300) {
        let header = Signer::hs256(&secret).unwrap().sign(NOW + skew, &body);
        prop_assert!(verify(&secret, &header, &body));
    }

    #[test]
    fn a_changed_body_byte_fails(secret in "[ -~]{32,64}", body in proptest::collection::vec(any::<u8>(), 1..512), index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let header = Signer::hs256(&secret).unwrap().sign(NOW, &body);
        let mut changed = body.clone();
        let at = index.index(changed.len());
        changed[at] ^= flip;
        prop_assert!(!verify(&secret, &header, &changed));
    }

    #[test]
    fn a_changed_header_byte_fails(secret in "[ -~]{32,64}", body in proptest::collection::vec(any::<u8>(), 0..256), index in any::<prop::sample::Index>(), replacement in any::<u8>()) {
        let header = Signer::hs256(&secret).unwrap().sign(NOW, &body);
        let mut bytes = header.clone().into_bytes();
        let at = index.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        // Only bytes of `t` and `v1` matter; a change that leaves both intact cannot exist here
        // because the header is exactly `t=<digits>,v1=<base64>`.
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert!(!verify(&secret, &changed, &body), "accepted {changed:?}");
    }

    #[test]
    fn the_header_parser_never_panics(header in "\\PC{0,200}") {
        let _ = Verifier::hs256("s".repeat(32)).unwrap().verify_at(&header, b"{}", NOW);
    }

    #[test]
    fn es256_sign_then_verify_round_trips(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let signer = Signer::generate_es256();
        let verifier = Verifier::es256(&signer.public_key_pem().unwrap()).unwrap();
        prop_assert!(verifier.verify_at(&signer.sign(NOW, &body), &body, NOW).is_ok());
    }
}
