//! The response parsers on damaged input: real bodies from the simulator, mutated thousands of
//! times (flipped bytes, cuts, insertions, wrong types). Nothing may panic; damage must be
//! reported as an error, and the intact bodies must parse. (`fuzz/` runs the same parsers under
//! libFuzzer for longer.)

use std::sync::Arc;

use ioc_console::model::ListResponse;
use ioc_console::sim::data::DemoData;
use ioc_console::sim::world::World;
use ioc_console::sources::{Resource, parse, parse_payload};
use ioc_console::util::rng::Rng;

fn bodies() -> Vec<(Resource, Vec<u8>)> {
    let data = Arc::new(DemoData::embedded().unwrap());
    let w = World::new(data, 7, crate::support::fixed_now(), None, "rtsp://x");
    let as_of = w.now();
    let take = |n: usize| n.min(25);
    fn json<T: serde::Serialize>(items: Vec<T>, as_of: ioc_console::model::Timestamp) -> Vec<u8> {
        serde_json::to_vec(&ListResponse { items, as_of }).unwrap()
    }
    vec![
        (Resource::Units, json(w.units().to_vec(), as_of)),
        (Resource::Departments, json(w.departments().to_vec(), as_of)),
        (Resource::Categories, json(w.categories().to_vec(), as_of)),
        (Resource::Indicators, json(w.indicators().to_vec(), as_of)),
        (
            Resource::Series,
            json(w.series().take(take(50)).cloned().collect(), as_of),
        ),
        (
            Resource::Incidents,
            json(w.incidents()[..take(w.incidents().len())].to_vec(), as_of),
        ),
        (Resource::Cameras, json(w.cameras().to_vec(), as_of)),
        (Resource::Providers, json(w.providers().to_vec(), as_of)),
    ]
}

fn mutate(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    let i = rng.below(b.len());
    match rng.below(7) {
        0 => b[i] ^= 1 << rng.below(8),
        1 => b.truncate(i),
        2 => b
            .splice(i..i, (0..rng.below(8) + 1).map(|_| rng.next_u64() as u8))
            .for_each(drop),
        3 => {
            // A number where a string was, or the other way round.
            if let Some(q) = b[i..].iter().position(|&c| c == b'"') {
                b[i + q] = b'7';
            }
        }
        4 => b[i] = 0xff, // invalid UTF-8
        5 => {
            let j = rng.below(b.len());
            let (a, c) = (i.min(j), i.max(j));
            b.drain(a..c);
        }
        _ => {
            // A large number, a negative size, a null.
            let s: &[u8] = [&b"1e999"[..], b"-1", b"null", b"{}", b"[]"][rng.below(5)];
            b.splice(i..(i + 1).min(b.len()), s.iter().copied())
                .for_each(drop);
        }
    }
    b
}

#[test]
fn intact_bodies_parse_and_mutated_ones_never_panic() {
    let mut rng = Rng::new(2607);
    let mut errors = 0;
    let mut total = 0;
    for (resource, body) in bodies() {
        assert!(
            parse_payload(resource, &body, false).is_ok(),
            "{resource:?} intact body must parse"
        );
        for _ in 0..400 {
            let damaged = mutate(&mut rng, &body);
            let r = std::panic::catch_unwind(|| parse_payload(resource, &damaged, false));
            let outcome = r.unwrap_or_else(|_| {
                panic!(
                    "{resource:?}: the parser panicked on {}",
                    String::from_utf8_lossy(&damaged)
                )
            });
            total += 1;
            if outcome.is_err() {
                errors += 1;
            }
            if let Ok(text) = std::str::from_utf8(&damaged) {
                let r = std::panic::catch_unwind(|| parse::event("incident", text));
                assert!(r.is_ok(), "the event parser panicked");
            }
        }
    }
    // Most damage must be caught (some mutations, e.g. inside a description, are still valid).
    assert!(
        errors * 2 > total,
        "only {errors} of {total} damaged bodies were refused"
    );
}
