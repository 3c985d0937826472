//! Which incidents changed at which generation, bounded: what views of the incidents read to
//! refresh only those (a queue's index, a map's placed points).
//!
//! A ring of fixed size, allocated and written whole on first use, of (generation, number)
//! pairs; the numbers name interned ids (one shared `Arc<str>` per incident changed since the
//! incidents were last loaded whole, so they grow with the incidents, not with the changes).
//! The ring's memory is what it will be from the first change on, whatever the rate of changes,
//! and a copy of the store (a briefing's frozen data) copies 16 bytes an entry and shares the
//! ids.

use std::collections::HashMap;
use std::sync::Arc;

/// How many incident changes the log keeps.
pub const CAPACITY: usize = 50_000;

#[derive(Clone, Debug, Default)]
pub struct IncidentLog {
    /// (generation, id number); the slot at `next` is the oldest once the ring is full.
    ring: Vec<(u64, u32)>,
    next: usize,
    len: usize,
    ids: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
}

impl IncidentLog {
    /// Logs that incident `id` changed at `generation` (generations grow); the generation of the
    /// entry that made room, if one did.
    pub fn push(&mut self, generation: u64, id: &str) -> Option<u64> {
        if self.ring.is_empty() {
            // Written whole now (not zero pages the system hands out later).
            self.ring = vec![(u64::MAX, u32::MAX); CAPACITY];
        }
        let number = match self.numbers.get(id) {
            Some(n) => *n,
            None => {
                let id: Arc<str> = Arc::from(id);
                let n = self.ids.len() as u32;
                self.ids.push(Arc::clone(&id));
                self.numbers.insert(id, n);
                n
            }
        };
        let evicted = (self.len == CAPACITY).then(|| self.ring[self.next].0);
        self.ring[self.next] = (generation, number);
        self.next = (self.next + 1) % CAPACITY;
        self.len = (self.len + 1).min(CAPACITY);
        evicted
    }

    /// Forgets everything (the incidents were replaced whole).
    pub fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
        self.ids.clear();
        self.numbers.clear();
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The newest entry's generation.
    pub fn newest(&self) -> Option<u64> {
        (self.len > 0).then(|| self.ring[(self.next + CAPACITY - 1) % CAPACITY].0)
    }

    /// The ids logged after generation `since`, newest first (an id as often as it changed).
    pub fn since(&self, since: u64) -> impl Iterator<Item = &str> {
        (0..self.len)
            .map(move |k| self.ring[(self.next + CAPACITY - 1 - k) % CAPACITY])
            .take_while(move |(g, _)| *g > since)
            .map(|(_, n)| &*self.ids[n as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_and_says_what_it_dropped() {
        let mut log = IncidentLog::default();
        assert!(log.is_empty() && log.newest().is_none());
        for g in 1..=CAPACITY as u64 {
            assert_eq!(log.push(g, if g % 2 == 0 { "a" } else { "b" }), None);
        }
        assert_eq!(log.len(), CAPACITY);
        assert_eq!(log.push(CAPACITY as u64 + 1, "c"), Some(1));
        assert_eq!(log.push(CAPACITY as u64 + 2, "a"), Some(2));
        assert_eq!(log.newest(), Some(CAPACITY as u64 + 2));
        let recent: Vec<&str> = log.since(CAPACITY as u64 - 2).collect();
        assert_eq!(recent, ["a", "c", "a", "b"]);
        assert_eq!(log.ids.len(), 3, "ids are interned");
        let copy = log.clone();
        assert_eq!(copy.since(CAPACITY as u64).collect::<Vec<_>>(), ["a", "c"]);
        log.clear();
        assert!(log.is_empty() && log.since(0).next().is_none());
        assert_eq!(copy.len(), CAPACITY, "a copy keeps its own");
    }
}
