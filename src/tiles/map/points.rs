//! The incidents as map points: projected once per incidents version (changes applied one by one
//! from the store's change log), in a stable order, with what drawing a lone marker needs.

use super::glyphs::{GLYPHS, Glyph};
use crate::map::geo::{self, Merc};
use crate::model::{Category, Incident, IncidentStatus, Priority};
use crate::store::Store;
use crate::tiles::incidents::NEW_FOR;

/// Which incidents a map places: open ones or all, of every unit or one (a scope).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placement<'a> {
    pub include_closed: bool,
    pub unit: Option<&'a str>,
}

/// A placement as a key of the caches built for it.
pub(super) type PlacementKey = (bool, u64);

impl Placement<'_> {
    pub(super) fn key(&self) -> PlacementKey {
        (
            self.include_closed,
            self.unit.map_or(0, crate::util::hash::fnv1a),
        )
    }

    /// Whether an incident is placed.
    pub(super) fn places(&self, i: &Incident) -> bool {
        (self.include_closed || !i.status.is_closed())
            && i.location.is_valid()
            && self.unit.is_none_or(|u| i.unit_id == u)
    }
}

/// The incidents of one store generation, as map points (sorted by id: stable clusters).
#[derive(Default)]
pub(super) struct IncidentPoints {
    pub(super) version: Option<(u64, PlacementKey)>,
    /// A stamp of the categories the glyphs were chosen from.
    pub(super) categories: u64,
    /// The order: by (hash of the id, id).
    pub(super) hashes: Vec<u64>,
    pub(super) ids: Vec<String>,
    pub(super) points: Vec<(Merc, u8)>,
    /// When each arrived (seconds), for the pulse of new ones.
    pub(super) received: Vec<i64>,
    /// What drawing a lone marker needs, so that a frame does not look incidents up.
    pub(super) info: Vec<PointInfo>,
    /// Whole rebuilds so far (changes are otherwise applied one by one).
    pub(super) full_builds: u64,
}

pub(super) struct PointInfo {
    pub(super) glyph: Glyph,
    pub(super) priority: Priority,
    pub(super) status: IncidentStatus,
    pub(super) due_at: crate::model::Timestamp,
    pub(super) received_at: crate::model::Timestamp,
}

impl PointInfo {
    pub(super) fn is_new(&self, now: crate::model::Timestamp) -> bool {
        now - self.received_at < NEW_FOR && !self.status.is_closed()
    }
}

/// Prepares the map points of the store's incidents from scratch and says how many there are:
/// the work done when the incidents are replaced whole; for benchmarks.
pub fn prepare_incident_points(store: &Store, placement: Placement<'_>) -> usize {
    prepare_points(store, placement).ids.len()
}

/// A stamp of the category list (the glyphs follow its order).
pub(super) fn categories_stamp(store: &Store) -> u64 {
    store
        .categories
        .data
        .iter()
        .flatten()
        .fold(0x9e37_79b9_7f4a_7c15, |h, c| {
            h.rotate_left(5) ^ crate::util::hash::fnv1a(&c.id)
        })
}

pub(super) fn glyph_of(categories: &[Category], category: &str) -> Glyph {
    categories
        .iter()
        .position(|c| c.id == category)
        .map_or(GLYPHS[0], |k| GLYPHS[k % GLYPHS.len()])
}

/// When an incident arrived, for the pulse of new ones; a closed one never pulses.
pub(super) fn pulse_stamp(i: &Incident) -> i64 {
    if i.status.is_closed() {
        i64::MIN
    } else {
        i.received_at.timestamp()
    }
}

impl IncidentPoints {
    pub(super) fn push(&mut self, hash: u64, id: &str, i: &Incident, categories: &[Category]) {
        self.insert(self.ids.len(), hash, id, i, categories);
    }

    pub(super) fn insert(
        &mut self,
        at: usize,
        hash: u64,
        id: &str,
        i: &Incident,
        categories: &[Category],
    ) {
        self.hashes.insert(at, hash);
        self.ids.insert(at, id.to_owned());
        self.points
            .insert(at, (geo::project(i.location), rank(i.priority)));
        self.received.insert(at, pulse_stamp(i));
        self.info.insert(at, PointInfo::of(i, categories));
    }

    pub(super) fn set(&mut self, at: usize, i: &Incident, categories: &[Category]) {
        self.points[at] = (geo::project(i.location), rank(i.priority));
        self.received[at] = pulse_stamp(i);
        self.info[at] = PointInfo::of(i, categories);
    }

    pub(super) fn remove(&mut self, at: usize) {
        self.hashes.remove(at);
        self.ids.remove(at);
        self.points.remove(at);
        self.received.remove(at);
        self.info.remove(at);
    }

    /// Where `id` is, or would go, in the order.
    pub(super) fn find(&self, hash: u64, id: &str) -> Result<usize, usize> {
        let mut lo = self.hashes.partition_point(|h| *h < hash);
        while lo < self.hashes.len() && self.hashes[lo] == hash {
            match self.ids[lo].as_str().cmp(id) {
                std::cmp::Ordering::Less => lo += 1,
                std::cmp::Ordering::Equal => return Ok(lo),
                std::cmp::Ordering::Greater => break,
            }
        }
        Err(lo)
    }
}

impl PointInfo {
    pub(super) fn of(i: &Incident, categories: &[Category]) -> PointInfo {
        PointInfo {
            glyph: glyph_of(categories, &i.category),
            priority: i.priority,
            status: i.status,
            due_at: i.due_at,
            received_at: i.received_at,
        }
    }
}

/// Most changes applied one by one (each moves the tail of the vectors); more, and a rebuild
/// is cheaper.
pub(super) const CHANGES_ONE_BY_ONE: usize = 64;

/// Applies the incidents changed since the points' version, from the store's change log; false
/// when that cannot be done (the map was replaced, the log lost entries, too many changes).
pub(super) fn apply_changes(
    points: &mut IncidentPoints,
    store: &Store,
    placement: Placement<'_>,
) -> bool {
    let Some((since, shown)) = points.version else {
        return false;
    };
    if shown != placement.key()
        || store.incidents_reset > since
        || store.incident_log_evicted > since
    {
        return false;
    }
    let Some(map) = store.incidents.data.as_ref() else {
        return false;
    };
    let mut changed: Vec<&str> = store.incident_log.since(since).collect();
    changed.sort_unstable();
    changed.dedup();
    if changed.len() > CHANGES_ONE_BY_ONE {
        return false;
    }
    let categories: &[Category] = store.categories.data.as_deref().unwrap_or(&[]);
    for id in changed {
        let hash = crate::util::hash::fnv1a(id);
        let now = map.get(id).filter(|i| placement.places(i));
        match (points.find(hash, id), now) {
            (Ok(at), Some(i)) => points.set(at, i, categories),
            (Ok(at), None) => points.remove(at),
            (Err(at), Some(i)) => points.insert(at, hash, id, i, categories),
            (Err(_), None) => {}
        }
    }
    points.version = Some((store.incidents_version(), placement.key()));
    true
}

/// The incidents of the store as map points, in a stable order (the same clusters in every run)
/// by a hash of the id: one pass over the map, no second lookup, no sort of 100,000 strings.
pub(super) fn prepare_points(store: &Store, placement: Placement<'_>) -> IncidentPoints {
    let mut p = IncidentPoints {
        version: Some((store.incidents_version(), placement.key())),
        categories: categories_stamp(store),
        ..Default::default()
    };
    let Some(map) = store.incidents.data.as_ref() else {
        return p;
    };
    let mut rows: Vec<(u64, &String, &Incident)> = map
        .iter()
        .filter(|(_, i)| placement.places(i))
        .map(|(id, i)| (crate::util::hash::fnv1a(id), id, i))
        .collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let categories: &[Category] = store.categories.data.as_deref().unwrap_or(&[]);
    p.hashes.reserve(rows.len());
    p.ids.reserve(rows.len());
    p.points.reserve(rows.len());
    p.received.reserve(rows.len());
    p.info.reserve(rows.len());
    for (hash, id, i) in rows {
        p.push(hash, id, i, categories);
    }
    p
}

pub(super) fn rank(p: Priority) -> u8 {
    match p {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Critical => 3,
    }
}

pub(super) fn priority_of(rank: u8) -> Priority {
    match rank {
        0 => Priority::Low,
        1 => Priority::Normal,
        2 => Priority::High,
        _ => Priority::Critical,
    }
}
