//! Fuzzes the response parsers of the backend client: list bodies of every resource and SSE
//! event payloads. Any panic is a bug; errors are the expected outcome for garbage.
//! Run: `cargo fuzz run responses` (see docs/testing.md).
#![no_main]

use ioc_console::sources::{Resource, parse, parse_payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let resource = Resource::ALL[selector as usize % Resource::ALL.len()];
    let _ = parse_payload(resource, body, selector & 0x80 != 0);
    if let Ok(text) = std::str::from_utf8(body) {
        let name = ["incident", "observation", "camera", "provider", "reset"][selector as usize % 5];
        let _ = parse::event(name, text);
    }
});
