//! Prepared charts, shared: one extraction per chart description and language, made again only
//! when what it read changed (the indicator catalogue, the units, or one of its series — not the
//! event stream's heartbeat, not another indicator's observation), used by the tile's status and
//! its body alike, and decimated once per pixel width (the desk's preview and the wall monitor
//! draw the same chart at different widths). A million-point series costs one pass when it
//! changes; frames only look it up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::data::ChartData;
use super::spec::ChartSpec;
use crate::context::caches::Cache;
use crate::i18n::Lang;
use crate::sources::Resource;
use crate::store::Store;

/// Entries no view asked for in this many frames are dropped.
const UNUSED_FRAMES: u64 = 600;
/// Widths kept per chart.
const WIDTHS: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    spec: ChartSpec,
    lang: Lang,
}

/// What an extraction depends on, as versions of the store.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    indicators: u64,
    units: u64,
    series_loaded: u64,
    series: Vec<u64>,
}

fn stamp(store: &Store, read: &[(String, String)]) -> Stamp {
    Stamp {
        indicators: store.data_version(Resource::Indicators),
        units: store.data_version(Resource::Units),
        series_loaded: store.series_loaded_version(),
        series: read
            .iter()
            .map(|(i, u)| store.series_version(i, u))
            .collect(),
    }
}

struct Entry {
    stamp: Stamp,
    /// The store generation the stamp was last checked at (checked again only after an update).
    checked_at: u64,
    data: Arc<ChartData>,
    prepared: Vec<(usize, Arc<ChartData>)>,
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    extractions: u64,
    preparations: u64,
}

/// The shared prepared charts (a [`Cache`] of the console's `context::Caches`).
#[derive(Default)]
pub struct ChartCache(Mutex<Inner>);

impl Inner {
    fn entry(&mut self, spec: &ChartSpec, store: &Store, lang: Lang, frame: u64) -> &mut Entry {
        let key = Key {
            spec: spec.clone(),
            lang,
        };
        let fresh = match self.entries.get_mut(&key) {
            Some(e) if e.checked_at == store.generation => true,
            Some(e) => {
                let now = stamp(store, &e.data.series_read);
                e.checked_at = store.generation;
                now == e.stamp
            }
            None => false,
        };
        if !fresh {
            let data = ChartData::from_store(spec, store, lang);
            self.extractions += 1;
            let entry = Entry {
                stamp: stamp(store, &data.series_read),
                checked_at: store.generation,
                data: Arc::new(data),
                prepared: Vec::new(),
                used: frame,
            };
            self.entries.insert(key.clone(), entry);
        }
        let e = self.entries.get_mut(&key).expect("just made");
        e.used = frame;
        e
    }
}

impl ChartCache {
    /// What `spec` shows (not decimated): for the status, the hover and exports.
    pub fn data(&self, spec: &ChartSpec, store: &Store, lang: Lang, frame: u64) -> Arc<ChartData> {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(&inner.entry(spec, store, lang, frame).data)
    }

    /// What `spec` shows, prepared for `columns` pixel columns: for drawing.
    pub fn prepared(
        &self,
        spec: &ChartSpec,
        store: &Store,
        lang: Lang,
        columns: usize,
        frame: u64,
    ) -> Arc<ChartData> {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let e = inner.entry(spec, store, lang, frame);
        if let Some((_, p)) = e.prepared.iter().find(|(c, _)| *c == columns) {
            return Arc::clone(p);
        }
        let mut data = (*e.data).clone();
        data.prepare(columns);
        let data = Arc::new(data);
        if e.prepared.len() >= WIDTHS {
            e.prepared.remove(0);
        }
        e.prepared.push((columns, Arc::clone(&data)));
        inner.preparations += 1;
        data
    }

    /// Extractions and preparations made so far (for tests and benchmarks).
    pub fn work_done(&self) -> (u64, u64) {
        let inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        (inner.extractions, inner.preparations)
    }
}

impl Cache for ChartCache {
    fn begin_frame(&self, frame: u64) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .retain(|_, e| frame.saturating_sub(e.used) < UNUSED_FRAMES);
    }
}
