//! One incident index for every view of the queue (the wall's queue tiles, the desk's panel):
//! brought up to date from the store's change log only when incidents changed (not on every
//! store update: the event stream's heartbeat changes nothing here), with each view's selection
//! (filter and order) kept until then. A whole build of a large index (a first load, a full
//! reload) runs off the UI thread; meanwhile the views show the index they had and say it is
//! being prepared.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use super::caches::Cache;
use crate::incidents::queue::{QueueFilter, QueueIndex, SortBy};
use crate::model::Timestamp;
use crate::store::Store;

/// Above this many incidents a whole build goes to a worker thread.
pub const BUILD_OFF_THREAD: usize = 20_000;

/// Selections kept at most (each view's filter and order; unused ones go first).
const SELECTIONS: usize = 32;

/// The rows a view shows, in order: positions in the index (`QueueIndex::row_at`).
#[derive(Clone, Debug)]
pub struct Selection {
    pub rows: Arc<Vec<u32>>,
    /// The index is being built whole off the UI thread: these ids are of the previous one.
    pub preparing: bool,
}

struct Selected {
    filter: QueueFilter,
    sort: SortBy,
    version: Option<u64>,
    rows: Arc<Vec<u32>>,
    /// The second the overdue count is for, and the count.
    overdue: Option<(i64, usize)>,
    used: u64,
}

#[derive(Default)]
pub struct QueueState {
    index: QueueIndex,
    /// A whole build running on a worker, for this store version.
    building: Option<(u64, mpsc::Receiver<QueueIndex>)>,
    selections: Vec<Selected>,
    /// Whole builds so far (for tests and benchmarks).
    pub builds: u64,
}

impl QueueState {
    pub fn index(&self) -> &QueueIndex {
        &self.index
    }

    pub fn preparing(&self) -> bool {
        self.building.is_some()
    }

    /// Brings the index up to `store`: a few changes here, a whole build of a large store on a
    /// worker (its result is taken when ready, then the changes since are applied).
    pub fn sync(&mut self, store: &Arc<Store>) {
        let Some(map) = store.incidents.data.as_ref() else {
            return;
        };
        let version = store.incidents_version();
        if let Some((_, rx)) = &self.building {
            match rx.try_recv() {
                Ok(built) => {
                    self.index = built;
                    self.building = None;
                    self.builds += 1;
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    tracing::error!("the incident index worker stopped; building here");
                    self.building = None;
                }
            }
        }
        if self.index.version() == Some(version) {
            return;
        }
        if self.index.needs_rebuild(store) {
            if self
                .building
                .as_ref()
                .is_some_and(|(v, _)| *v >= store.incidents_reset.max(store.incident_log_evicted))
            {
                // The running build covers this reload; changes since come after it.
                return;
            }
            if map.len() > BUILD_OFF_THREAD {
                let (tx, rx) = mpsc::sync_channel(1);
                // The worker holds the incidents alone (shared, copy on write), not the store:
                // updates of other datasets meanwhile copy nothing large.
                let map = Arc::clone(map);
                let spawned = std::thread::Builder::new()
                    .name("incident-index".into())
                    .spawn(move || {
                        let _ = tx.send(QueueIndex::build(&map, version));
                    });
                match spawned {
                    Ok(_) => {
                        self.building = Some((version, rx));
                        return;
                    }
                    Err(e) => tracing::error!(%e, "cannot start the incident index worker"),
                }
            }
            self.builds += 1;
        }
        self.index.sync_store(store);
    }

    /// The rows that pass `filter` in `sort` order, kept until the incidents change.
    pub fn select(&mut self, filter: &QueueFilter, sort: SortBy, frame: u64) -> Selection {
        let version = self.index.version();
        let preparing = self.building.is_some();
        if let Some(s) = self
            .selections
            .iter_mut()
            .find(|s| s.sort == sort && s.filter == *filter)
        {
            s.used = frame;
            if s.version == version {
                return Selection {
                    rows: Arc::clone(&s.rows),
                    preparing,
                };
            }
        }
        let rows = Arc::new(self.index.select_positions(filter, sort));
        match self
            .selections
            .iter_mut()
            .find(|s| s.sort == sort && s.filter == *filter)
        {
            Some(s) => {
                s.version = version;
                s.rows = Arc::clone(&rows);
                s.overdue = None;
            }
            None => {
                if self.selections.len() >= SELECTIONS
                    && let Some(oldest) =
                        (0..self.selections.len()).min_by_key(|&i| self.selections[i].used)
                {
                    self.selections.swap_remove(oldest);
                }
                self.selections.push(Selected {
                    filter: filter.clone(),
                    sort,
                    version,
                    rows: Arc::clone(&rows),
                    overdue: None,
                    used: frame,
                });
            }
        }
        Selection { rows, preparing }
    }

    /// How many of a selection's incidents are overdue at `now` (counted once a second, since
    /// "overdue" moves with the clock).
    pub fn overdue(&mut self, filter: &QueueFilter, sort: SortBy, now: Timestamp) -> usize {
        let second = now.timestamp();
        let Some(s) = self
            .selections
            .iter_mut()
            .find(|s| s.sort == sort && s.filter == *filter)
        else {
            return 0;
        };
        if let Some((at, n)) = s.overdue
            && at == second
        {
            return n;
        }
        let n = self.index.overdue(&s.rows, now);
        s.overdue = Some((second, n));
        n
    }
}

/// The shared incident index (a [`Cache`] of the console's [`super::Caches`]).
#[derive(Default)]
pub struct QueueCache(Mutex<QueueState>);

impl QueueCache {
    /// The index brought up to `store`, locked for one view's frame.
    pub fn lock(&self, store: &Arc<Store>) -> MutexGuard<'_, QueueState> {
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        st.sync(store);
        st
    }
}

impl Cache for QueueCache {
    fn begin_frame(&self, frame: u64) {
        // Selections no view asked for in the last minute or so go.
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        st.selections
            .retain(|s| frame.saturating_sub(s.used) < 3_600);
    }
}
