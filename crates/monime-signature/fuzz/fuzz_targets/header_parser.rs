//! Any header text with any body: parsing and verification never panic, and a header the
//! verifier accepts must really carry the signature of that body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use monime_signature::{SignatureHeader, Signer, Verifier};

const SECRET: &str = "fuzz_secret_0123456789abcdef0123456789";
const NOW: i64 = 1_771_803_194;

fuzz_target!(|input: (&str, &[u8])| {
    let (header, body) = input;
    let _ = SignatureHeader::parse(header);
    let verifier = Verifier::hs256(SECRET).unwrap();
    if verifier.verify_at(header, body, NOW).is_ok() {
        // Accepting is only possible with the real signature of this body somewhere in it.
        let parsed = SignatureHeader::parse(header).unwrap();
        let expected = Signer::hs256(SECRET).unwrap().sign(parsed.timestamp, body);
        let v1 = expected.split_once(",v1=").unwrap().1;
        assert!(parsed.signatures().contains(&v1), "accepted a forged header {header:?}");
    }
});
