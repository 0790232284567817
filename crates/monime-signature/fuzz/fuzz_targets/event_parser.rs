//! Any bytes as a delivery body: parsing never panics, and what parses survives a round trip
//! through `to_json`. `data` is compared from the first re-parse on: a float read from the
//! fuzzer's text may land one ulp off, but once written by `to_json` it reads back exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use monime_signature::Event;

fuzz_target!(|body: &[u8]| {
    if let Ok(event) = Event::parse(body) {
        let again = Event::parse(&event.to_json()).expect("to_json output parses");
        assert_eq!(again.api_version, event.api_version);
        assert_eq!(again.id, event.id);
        assert_eq!(again.name, event.name);
        assert_eq!(again.timestamp, event.timestamp);
        assert_eq!(again.object, event.object);
        let third = Event::parse(&again.to_json()).expect("to_json output parses");
        assert_eq!(third.data, again.data, "data survives the round trip");
        assert_eq!(third, again);
    }
});
