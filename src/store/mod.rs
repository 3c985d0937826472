//! The in-memory model the UI reads. Every value knows its age and its source's state.
//!
//! The store is owned by the UI thread and changed only by [`Store::apply`] with updates from
//! the background (`sources`). A failed fetch never wipes the last good data: it is kept, shown
//! with its age, and the dataset's state says why it is not live.

use std::collections::HashMap;

pub mod incident_log;

use crate::model::sim::SimStatus;
use crate::model::*;
use crate::sources::{FetchError, Payload, Resource, SourcePayload, Timing, Update};
use crate::status::{DataStatus, SourceState};
use crate::text::Text;

/// One dataset: the last good data, when it was fetched, and the last failure if it is newer.
#[derive(Clone, Debug)]
pub struct Dataset<T> {
    pub data: Option<T>,
    /// When the last good data arrived (local clock).
    pub fetched_at: Option<Timestamp>,
    /// The backend's own time stamp of that data.
    pub as_of: Option<Timestamp>,
    pub error: Option<(FetchError, Timestamp)>,
}

impl<T> Default for Dataset<T> {
    fn default() -> Self {
        Dataset {
            data: None,
            fetched_at: None,
            as_of: None,
            error: None,
        }
    }
}

impl<T> Dataset<T> {
    fn loaded(&mut self, data: T, as_of: Timestamp, fetched_at: Timestamp) {
        self.data = Some(data);
        self.as_of = Some(as_of);
        self.fetched_at = Some(fetched_at);
        self.error = None;
    }

    /// The latest outcome is a failure.
    fn failing(&self) -> Option<&FetchError> {
        match (&self.error, self.fetched_at) {
            (Some((e, at)), Some(ok)) if *at >= ok => Some(e),
            (Some((e, _)), None) => Some(e),
            _ => None,
        }
    }
}

/// The SSE stream's health.
#[derive(Clone, Debug, Default)]
pub struct StreamState {
    pub up: bool,
    pub alive_at: Option<Timestamp>,
    pub error: Option<FetchError>,
}

#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Whether a backend is configured at all.
    pub configured: bool,
    /// Bumped by every update: views cache what they derive from the store against it.
    pub generation: u64,
    pub timing: Timing,
    pub units: Dataset<Vec<Unit>>,
    pub departments: Dataset<Vec<Department>>,
    pub categories: Dataset<Vec<Category>>,
    pub indicators: Dataset<Vec<Indicator>>,
    pub series: Dataset<HashMap<(String, String), Series>>,
    /// Shared (copy on write) so that a worker building an index from them holds the incidents
    /// alone, not the whole store (see `context::queue`).
    pub incidents: Dataset<std::sync::Arc<HashMap<String, Incident>>>,
    pub cameras: Dataset<Vec<Camera>>,
    pub providers: Dataset<Vec<ProviderStatus>>,
    pub stream: StreamState,
    pub sim: Option<Result<SimStatus, FetchError>>,
    /// The outbox's newest actions (pending, acknowledged, conflicting, refused).
    pub outbox: Vec<crate::outbox::Entry>,
    /// The last action that could not be recorded: a sequence number (so that the same refusal
    /// happening again is shown again after a dismissal), the incident and the reason.
    pub refused: Option<(u64, String, crate::outbox::Refusal)>,
    /// Which incidents changed at which generation (bounded), so that views refresh only those.
    pub incident_log: incident_log::IncidentLog,
    /// The newest generation whose change entries were dropped from the log.
    pub incident_log_evicted: u64,
    /// The generation at which the incident map was last replaced whole.
    pub incidents_reset: u64,
    /// The generation at which each resource's data last changed (a load or an event), by
    /// `Resource as usize`: what views of one dataset cache against, so that the event stream's
    /// heartbeat and other datasets' updates do not rebuild them.
    changed: [u64; Resource::ALL.len()],
    /// The generation at which the series were last loaded whole.
    series_loaded: u64,
    /// The generation of the last event of each series (indicator, unit).
    series_events: HashMap<(String, String), u64>,
    /// Sources beside the IOC backend, by id: their state and what they gave.
    pub origins: std::collections::BTreeMap<String, OriginState>,
    /// The resources the IOC backend gives (`None`: all of them; `[feeds]` may name others).
    pub backend_feeds: Option<Vec<Resource>>,
}

/// A source beside the IOC backend as the store knows it.
#[derive(Clone, Debug)]
pub struct OriginState {
    pub name: String,
    pub feeds: Vec<Resource>,
    pub fetched_at: Option<Timestamp>,
    pub error: Option<(FetchError, Timestamp)>,
    /// What its last load could not use, with places.
    pub problems: Vec<String>,
    pub stale_after: std::time::Duration,
    /// Its categories and indicators (kept to add again after the backend's own lists).
    pub categories: Vec<Category>,
    pub indicators: Vec<Indicator>,
    /// How many incidents and series its last load gave.
    pub incidents: usize,
    pub series: usize,
}

impl OriginState {
    fn failing(&self) -> Option<&FetchError> {
        match (&self.error, self.fetched_at) {
            (Some((e, at)), Some(ok)) if *at >= ok => Some(e),
            (Some((e, _)), None) => Some(e),
            _ => None,
        }
    }

    /// Its state at `now`, with the reason naming it.
    pub fn status(&self, now: Timestamp) -> DataStatus {
        if let Some(e) = self.failing() {
            let (state, reason) = describe_external(&self.name, e);
            return DataStatus {
                state,
                as_of: self.fetched_at,
                reason: Some(reason),
            };
        }
        let Some(fetched) = self.fetched_at else {
            return DataStatus::with_reason(
                SourceState::Offline,
                None,
                Text::key("source.ext.loading").arg("source", &self.name),
            );
        };
        let after = chrono::Duration::from_std(self.stale_after).unwrap_or(chrono::Duration::MAX);
        if now - fetched > after {
            return DataStatus::with_reason(
                SourceState::Stale,
                Some(fetched),
                Text::key("source.ext.stale")
                    .arg("source", &self.name)
                    .arg_age("age", now - fetched),
            );
        }
        DataStatus::live(fetched)
    }

    fn stale_at(&self) -> Option<Timestamp> {
        if self.failing().is_some() {
            return None;
        }
        Some(self.fetched_at? + chrono::Duration::from_std(self.stale_after).ok()?)
    }
}

/// How bad a state is, to show the worst of several sources.
fn severity(s: SourceState) -> u8 {
    match s {
        SourceState::Live => 0,
        SourceState::Connecting => 1,
        SourceState::Stale => 2,
        SourceState::Offline => 3,
        SourceState::Error => 4,
        SourceState::NoPermission => 5,
    }
}

impl Store {
    /// Grows whenever an incident changes (or all are replaced): what views of the incidents
    /// alone cache against, so that other datasets' updates do not rebuild them.
    pub fn incidents_version(&self) -> u64 {
        let last = self.incident_log.newest().unwrap_or(0);
        self.incidents_reset
            .max(last)
            .max(self.incident_log_evicted)
    }

    /// When `r`'s data last changed (0: never loaded).
    pub fn data_version(&self, r: Resource) -> u64 {
        self.changed[r as usize]
    }

    /// When the series were last loaded whole.
    pub fn series_loaded_version(&self) -> u64 {
        self.series_loaded
    }

    /// When one series (indicator, unit) last changed: loaded whole, or an observation of it.
    pub fn series_version(&self, indicator: &str, unit: &str) -> u64 {
        let event = self
            .series_events
            .get(&(indicator.to_owned(), unit.to_owned()))
            .copied()
            .unwrap_or(0);
        self.series_loaded.max(event)
    }

    /// A store fed by a backend with these timings.
    pub fn connected(timing: Timing) -> Self {
        Store {
            configured: true,
            timing,
            ..Default::default()
        }
    }

    pub fn apply(&mut self, update: Update) {
        self.generation += 1;
        match update {
            Update::Loaded {
                resource,
                payload,
                as_of,
                fetched_at,
            } => {
                self.changed[resource as usize] = self.generation;
                self.load(payload, as_of, fetched_at);
            }
            Update::Failed {
                resource,
                error,
                at,
            } => {
                let e = Some((error, at));
                match resource {
                    Resource::Units => self.units.error = e,
                    Resource::Departments => self.departments.error = e,
                    Resource::Categories => self.categories.error = e,
                    Resource::Indicators => self.indicators.error = e,
                    Resource::Series => self.series.error = e,
                    Resource::Incidents => self.incidents.error = e,
                    Resource::Cameras => self.cameras.error = e,
                    Resource::Providers => self.providers.error = e,
                }
            }
            Update::Event(e) => self.apply_event(e),
            Update::StreamAlive { at } => {
                self.stream.up = true;
                self.stream.alive_at = Some(at);
                self.stream.error = None;
            }
            Update::StreamDown { error, .. } => {
                self.stream.up = false;
                self.stream.error = Some(error);
            }
            Update::SourceLoaded {
                source,
                name,
                feeds,
                stale_after,
                payload,
                problems,
                as_of: _,
                fetched_at,
            } => self.source_loaded(
                source,
                name,
                feeds,
                stale_after,
                payload,
                problems,
                fetched_at,
            ),
            Update::SourceFailed {
                source,
                name,
                feeds,
                stale_after,
                error,
                at,
            } => {
                let o = self.origin(source, name, feeds, stale_after);
                o.error = Some((error, at));
            }
            Update::Feeds { backend } => self.backend_feeds = Some(backend),
            Update::SimStatus(s) => self.sim = Some(s),
            // A refusal stays until the operator dismisses it (the desk keeps that) or another
            // one replaces it.
            Update::Outbox(entries) => self.outbox = entries,
            Update::ActionRefused {
                incident_id,
                reason,
            } => {
                let seq = self.refused.as_ref().map_or(1, |r| r.0 + 1);
                self.refused = Some((seq, incident_id, reason));
            }
        }
    }

    fn load(&mut self, payload: Payload, as_of: Timestamp, fetched_at: Timestamp) {
        match payload {
            Payload::Units(v) => self.units.loaded(v, as_of, fetched_at),
            Payload::Departments(v) => self.departments.loaded(v, as_of, fetched_at),
            Payload::Categories(mut v) => {
                v.extend(
                    self.origins
                        .values()
                        .flat_map(|o| o.categories.iter().cloned()),
                );
                self.categories.loaded(v, as_of, fetched_at)
            }
            Payload::Indicators(mut v) => {
                v.extend(
                    self.origins
                        .values()
                        .flat_map(|o| o.indicators.iter().cloned()),
                );
                self.indicators.loaded(v, as_of, fetched_at)
            }
            Payload::Series(v) => {
                let mut map: HashMap<(String, String), Series> = v
                    .into_iter()
                    .map(|s| ((s.indicator_id.clone(), s.unit_id.clone()), s))
                    .collect();
                // The other sources' series stay.
                if let Some(old) = self.series.data.take() {
                    for (k, s) in old {
                        if s.origin.is_some() {
                            map.insert(k, s);
                        }
                    }
                }
                self.series.loaded(map, as_of, fetched_at);
                self.series_loaded = self.generation;
                self.series_events.clear();
            }
            Payload::Incidents { items, incremental } => {
                let mut map = if incremental {
                    self.incidents.data.take().unwrap_or_default()
                } else {
                    // A whole list replaces the backend's incidents (the other sources' stay):
                    // views rebuild from it.
                    self.incidents_reset = self.generation;
                    self.incident_log.clear();
                    let mut m = HashMap::with_capacity(items.len());
                    if let Some(old) = self.incidents.data.take() {
                        m.extend(
                            old.values()
                                .filter(|i| i.origin.is_some())
                                .map(|i| (i.id.clone(), i.clone())),
                        );
                    }
                    std::sync::Arc::new(m)
                };
                {
                    let m = std::sync::Arc::make_mut(&mut map);
                    for i in items {
                        if incremental {
                            self.log_incident(&i.id);
                        }
                        upsert_incident(m, i);
                    }
                }
                self.incidents.loaded(map, as_of, fetched_at);
            }
            Payload::Cameras(v) => self.cameras.loaded(v, as_of, fetched_at),
            Payload::Providers(v) => self.providers.loaded(v, as_of, fetched_at),
        }
    }

    fn apply_event(&mut self, e: Event) {
        let touched = match &e {
            Event::Incident(_) => Resource::Incidents,
            Event::Observation(_) => Resource::Series,
            Event::Camera(_) => Resource::Cameras,
            Event::Provider(_) => Resource::Providers,
        };
        // The backend's events about what other sources give are not shown (an incident
        // that says its source came from that source: an action's answer).
        let from_other = matches!(&e, Event::Incident(i) if i.origin.is_some());
        if !self.backend_gives(touched) && !from_other {
            return;
        }
        self.changed[touched as usize] = self.generation;
        match e {
            Event::Incident(i) => {
                if self.incidents.data.is_some() {
                    self.log_incident(&i.id);
                }
                if let Some(map) = self.incidents.data.as_mut() {
                    upsert_incident(std::sync::Arc::make_mut(map), *i);
                }
            }
            Event::Observation(o) => {
                self.series_events
                    .insert((o.indicator_id.clone(), o.unit_id.clone()), self.generation);
                if let Some(map) = self.series.data.as_mut() {
                    let s = map
                        .entry((o.indicator_id.clone(), o.unit_id.clone()))
                        .or_insert_with(|| Series {
                            annotations: Vec::new(),
                            indicator_id: o.indicator_id.clone(),
                            unit_id: o.unit_id.clone(),
                            points: Vec::new(),
                            missing: Vec::new(),
                            origin: None,
                        });
                    match s.points.iter_mut().find(|p| p.period == o.point.period) {
                        Some(p) => *p = o.point,
                        None => {
                            s.points.push(o.point);
                            s.points.sort_by_key(|p| p.period);
                        }
                    }
                }
            }
            Event::Camera(c) => {
                if let Some(cam) = self
                    .cameras
                    .data
                    .as_mut()
                    .and_then(|v| v.iter_mut().find(|x| x.id == c.id))
                {
                    cam.online = c.online;
                }
            }
            Event::Provider(p) => {
                if let Some(v) = self.providers.data.as_mut() {
                    match v.iter_mut().find(|x| x.indicator_id == p.indicator_id) {
                        Some(x) => *x = p,
                        None => v.push(p),
                    }
                }
            }
        }
    }

    fn log_incident(&mut self, id: &str) {
        if let Some(g) = self.incident_log.push(self.generation, id) {
            self.incident_log_evicted = g;
        }
    }

    fn meta(&self, r: Resource) -> (Option<Timestamp>, Option<&FetchError>, bool) {
        fn m<T>(d: &Dataset<T>) -> (Option<Timestamp>, Option<&FetchError>, bool) {
            (d.fetched_at, d.failing(), d.data.is_some())
        }
        match r {
            Resource::Units => m(&self.units),
            Resource::Departments => m(&self.departments),
            Resource::Categories => m(&self.categories),
            Resource::Indicators => m(&self.indicators),
            Resource::Series => m(&self.series),
            Resource::Incidents => m(&self.incidents),
            Resource::Cameras => m(&self.cameras),
            Resource::Providers => m(&self.providers),
        }
    }

    /// Number of items of a resource, when loaded.
    pub fn count(&self, r: Resource) -> Option<usize> {
        match r {
            Resource::Units => self.units.data.as_ref().map(Vec::len),
            Resource::Departments => self.departments.data.as_ref().map(Vec::len),
            Resource::Categories => self.categories.data.as_ref().map(Vec::len),
            Resource::Indicators => self.indicators.data.as_ref().map(Vec::len),
            Resource::Series => self
                .series
                .data
                .as_ref()
                .map(|m| m.values().map(|s| s.points.len()).sum()),
            Resource::Incidents => self.incidents.data.as_ref().map(|m| m.len()),
            Resource::Cameras => self.cameras.data.as_ref().map(Vec::len),
            Resource::Providers => self.providers.data.as_ref().map(Vec::len),
        }
    }

    /// How many resources have data (a briefing frozen before the first loads arrived is
    /// frozen again as they do).
    pub fn resources_with_data(&self) -> usize {
        Resource::ALL.iter().filter(|r| self.meta(**r).2).count()
    }

    /// Whether the IOC backend gives `r` (`[feeds]` may give it to other sources only).
    pub fn backend_gives(&self, r: Resource) -> bool {
        self.backend_feeds.as_ref().is_none_or(|f| f.contains(&r))
    }

    /// The state of a resource at `now`, with the reason when it is not live: the worst of the
    /// IOC backend's and the other sources' that give it (their reasons name them).
    pub fn status(&self, r: Resource, now: Timestamp) -> DataStatus {
        let mut worst = self.backend_gives(r).then(|| self.backend_status(r, now));
        for o in self.origins.values().filter(|o| o.feeds.contains(&r)) {
            let s = o.status(now);
            worst = Some(match worst {
                Some(w) if severity(w.state) >= severity(s.state) => DataStatus {
                    as_of: match (w.as_of, s.as_of) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    },
                    ..w
                },
                Some(w) => DataStatus {
                    as_of: match (w.as_of, s.as_of) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    },
                    ..s
                },
                None => s,
            });
        }
        worst.unwrap_or_else(|| {
            DataStatus::with_reason(SourceState::Offline, None, Text::key("source.loading"))
        })
    }

    fn backend_status(&self, r: Resource, now: Timestamp) -> DataStatus {
        if !self.configured {
            return DataStatus::with_reason(
                SourceState::Offline,
                None,
                Text::key("source.not_configured"),
            );
        }
        let (fetched_at, failing, has_data) = self.meta(r);
        let confirmed = self.confirmed(r, fetched_at);
        if let Some(e) = failing {
            let (state, reason) = describe(e);
            return DataStatus {
                state,
                as_of: fetched_at,
                reason: Some(reason),
            };
        }
        let Some(fresh) = confirmed.filter(|_| has_data) else {
            return DataStatus::with_reason(
                SourceState::Offline,
                None,
                Text::key("source.loading"),
            );
        };
        let stale_after =
            chrono::Duration::from_std(self.timing.stale_after(r)).unwrap_or(chrono::Duration::MAX);
        if now - fresh > stale_after {
            return DataStatus::with_reason(
                SourceState::Stale,
                fetched_at,
                Text::key("source.stale").arg_age("age", now - fresh),
            );
        }
        DataStatus::live(fresh)
    }
}

impl Store {
    /// When `r`'s data was last confirmed: fetched, or, while the event stream is up, kept
    /// current by it between polls.
    fn confirmed(&self, r: Resource, fetched_at: Option<Timestamp>) -> Option<Timestamp> {
        match (
            r.covered_by_events() && self.stream.up,
            self.stream.alive_at,
        ) {
            (true, Some(alive)) => fetched_at.map(|f| f.max(alive)),
            _ => fetched_at,
        }
    }

    /// The next instant a resource's state changes by itself (live data turning stale), after
    /// `now`; None when nothing is due to.
    pub fn next_status_change(&self, now: Timestamp) -> Option<Timestamp> {
        if !self.configured {
            return None;
        }
        Resource::ALL
            .iter()
            .filter_map(|&r| self.stale_at(r).filter(|t| *t > now))
            .chain(
                self.origins
                    .values()
                    .filter_map(OriginState::stale_at)
                    .filter(|t| *t > now),
            )
            .min()
    }

    fn origin(
        &mut self,
        source: String,
        name: String,
        feeds: Vec<Resource>,
        stale_after: std::time::Duration,
    ) -> &mut OriginState {
        let o = self.origins.entry(source).or_insert_with(|| OriginState {
            name: name.clone(),
            feeds: feeds.clone(),
            fetched_at: None,
            error: None,
            problems: Vec::new(),
            stale_after,
            categories: Vec::new(),
            indicators: Vec::new(),
            incidents: 0,
            series: 0,
        });
        o.name = name;
        o.feeds = feeds;
        o.stale_after = stale_after;
        o
    }

    /// A whole load of one source: it replaces that source's items, and only those.
    #[allow(clippy::too_many_arguments)]
    fn source_loaded(
        &mut self,
        source: String,
        name: String,
        feeds: Vec<Resource>,
        stale_after: std::time::Duration,
        payload: SourcePayload,
        problems: Vec<String>,
        fetched_at: Timestamp,
    ) {
        let generation = self.generation;
        let gives = |r: Resource| feeds.contains(&r);
        let (give_incidents, give_categories, give_series) = (
            gives(Resource::Incidents),
            gives(Resource::Categories),
            gives(Resource::Series),
        );
        let of_source = |o: &Option<Origin>| o.as_ref().is_some_and(|o| o.source == source);
        match payload {
            SourcePayload::Incidents {
                incidents,
                categories,
            } => {
                if give_incidents {
                    let mut map = self.incidents.data.take().unwrap_or_default();
                    let m = std::sync::Arc::make_mut(&mut map);
                    m.retain(|_, i| !of_source(&i.origin));
                    let n: usize = incidents.iter().map(Vec::len).sum();
                    m.reserve(n);
                    // Batch by batch, each freed once in the map.
                    for batch in incidents {
                        for i in batch {
                            m.insert(i.id.clone(), i);
                        }
                    }
                    self.incidents.data = Some(map);
                    self.incidents_reset = generation;
                    self.incident_log.clear();
                    self.changed[Resource::Incidents as usize] = generation;
                    self.origin(source.clone(), name.clone(), feeds.clone(), stale_after)
                        .incidents = n;
                }
                // Categories come with incidents (their names): given whenever incidents are
                // (and kept when the services could not be read this time).
                if let Some(categories) = categories.filter(|_| give_incidents || give_categories) {
                    let o = self.origin(source.clone(), name.clone(), feeds.clone(), stale_after);
                    let old = std::mem::replace(&mut o.categories, categories.clone());
                    let list = self.categories.data.get_or_insert_with(Vec::new);
                    list.retain(|c| !old.iter().any(|x| x.id == c.id));
                    list.extend(categories);
                    self.changed[Resource::Categories as usize] = generation;
                }
            }
            SourcePayload::Stats { indicators, series } => {
                if give_series {
                    let map = self.series.data.get_or_insert_with(HashMap::new);
                    map.retain(|_, s| s.origin.as_deref() != Some(source.as_str()));
                    let n = series.len();
                    for s in series {
                        map.insert((s.indicator_id.clone(), s.unit_id.clone()), s);
                    }
                    self.series_loaded = generation;
                    self.changed[Resource::Series as usize] = generation;
                    let o = self.origin(source.clone(), name.clone(), feeds.clone(), stale_after);
                    o.series = n;
                    let old = std::mem::replace(&mut o.indicators, indicators.clone());
                    let list = self.indicators.data.get_or_insert_with(Vec::new);
                    list.retain(|i| !old.iter().any(|x| x.id == i.id));
                    list.extend(indicators);
                    self.changed[Resource::Indicators as usize] = generation;
                }
            }
        }
        let o = self.origin(source, name, feeds, stale_after);
        o.fetched_at = Some(fetched_at);
        o.error = None;
        o.problems = problems;
    }

    /// When `r`'s data, live now, turns stale unless something new arrives; None when it has no
    /// data or is failing.
    pub fn stale_at(&self, r: Resource) -> Option<Timestamp> {
        if !self.configured {
            return None;
        }
        let (fetched_at, failing, has_data) = self.meta(r);
        if failing.is_some() || !has_data {
            return None;
        }
        let confirmed = self.confirmed(r, fetched_at)?;
        let after = chrono::Duration::from_std(self.timing.stale_after(r)).ok()?;
        Some(confirmed + after)
    }
}

/// The state and words for a failure of the IOC backend.
pub fn describe(e: &FetchError) -> (SourceState, Text) {
    describe_from(None, e)
}

/// The state and words for a failure of a source beside the IOC backend (its name said).
pub fn describe_external(name: &str, e: &FetchError) -> (SourceState, Text) {
    describe_from(Some(name), e)
}

/// One mapping of failures to states and words: the backend's keys, or the `source.ext.` ones
/// that name the source (an HTTP 429 is said as such for those).
fn describe_from(source: Option<&str>, e: &FetchError) -> (SourceState, Text) {
    let key = |backend: &'static str, ext: &'static str| match source {
        Some(name) => Text::key(ext).arg("source", name),
        None => Text::key(backend),
    };
    match e {
        FetchError::Unreachable(m) => (
            SourceState::Offline,
            key("source.unreachable", "source.ext.unreachable").arg("detail", m),
        ),
        FetchError::Unauthorized(m) => (
            SourceState::Error,
            key("source.unauthorized", "source.ext.unauthorized").arg("detail", m),
        ),
        FetchError::Forbidden(m) => (
            SourceState::NoPermission,
            key("source.forbidden", "source.ext.forbidden").arg("detail", m),
        ),
        FetchError::Status { status: 429, .. } if source.is_some() => (
            SourceState::Offline,
            key("source.bad_status", "source.ext.too_many"),
        ),
        FetchError::Status {
            status, message, ..
        } => (
            SourceState::Error,
            key("source.bad_status", "source.ext.bad_status")
                .arg("status", status)
                .arg("message", message),
        ),
        FetchError::Busy { budget } => (
            SourceState::Offline,
            Text::key("source.busy").arg("mb", budget / (1024 * 1024)),
        ),
        FetchError::TooLarge { limit } => (
            SourceState::Error,
            key("source.too_large", "source.ext.too_large").arg("mb", limit / (1024 * 1024)),
        ),
        FetchError::Parse(p) => (
            SourceState::Error,
            key("source.malformed", "source.ext.malformed")
                .arg("resource", p.resource)
                .arg("path", &p.path)
                .arg("message", &p.message),
        ),
    }
}

/// Keeps the newest version of an incident (events and polls may arrive in any order).
fn upsert_incident(map: &mut HashMap<String, Incident>, i: Incident) {
    match map.get(&i.id) {
        Some(old) if old.version > i.version => {}
        _ => {
            map.insert(i.id.clone(), i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Refusal;

    #[test]
    fn the_next_status_change_is_the_first_dataset_to_turn_stale() {
        use chrono::TimeZone;
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
        let mut store = Store::connected(Timing::default());
        assert_eq!(store.next_status_change(t0), None, "nothing loaded");
        store.apply(Update::Loaded {
            resource: Resource::Units,
            payload: Payload::Units(Vec::new()),
            as_of: t0,
            fetched_at: t0,
        });
        store.apply(Update::Loaded {
            resource: Resource::Incidents,
            payload: Payload::Incidents {
                items: Vec::new(),
                incremental: false,
            },
            as_of: t0,
            fetched_at: t0,
        });
        // Incidents turn stale after 30 s, units after an hour.
        let next = store.next_status_change(t0).unwrap();
        assert_eq!(next, t0 + chrono::Duration::seconds(30));
        assert_eq!(
            store.status(Resource::Incidents, next).state,
            SourceState::Live
        );
        assert_eq!(
            store
                .status(
                    Resource::Incidents,
                    next + chrono::Duration::milliseconds(1)
                )
                .state,
            SourceState::Stale
        );
        assert_eq!(
            store.next_status_change(next + chrono::Duration::seconds(1)),
            Some(t0 + chrono::Duration::hours(1))
        );
        // A heartbeat of the event stream confirms the incidents further.
        store.apply(Update::StreamAlive {
            at: t0 + chrono::Duration::seconds(20),
        });
        assert_eq!(
            store.next_status_change(t0),
            Some(t0 + chrono::Duration::seconds(50))
        );
    }

    #[test]
    fn the_same_refusal_again_is_a_new_one() {
        let mut store = Store::default();
        let refuse = || Update::ActionRefused {
            incident_id: "SV-1".into(),
            reason: Refusal::Full,
        };
        store.apply(refuse());
        let first = store.refused.clone().expect("recorded");
        store.apply(refuse());
        let second = store.refused.clone().expect("recorded");
        // Same incident and reason, but a dismissal of the first must not hide the second.
        assert_eq!((&first.1, &first.2), (&second.1, &second.2));
        assert_ne!(first.0, second.0);
    }
}
