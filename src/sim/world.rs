//! The simulated IOC's state and its deterministic evolution.
//!
//! `World` is a pure function of (demo data, seed, epoch, scenario, the actions it receives): it
//! is advanced in simulated time by [`World::advance_to`], which processes, in time order,
//! Poisson incident arrivals, the scheduled workflow progress of background incidents and the
//! scenario's steps. How fast simulated time runs (1x–60x, paused) is the server's business, so
//! the same seed and scenario always give the same event sequence.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use chrono::Duration;

use super::data::{CategorySpec, DemoData};
use super::history;
use super::scenario::{Scenario, StepAction};
use crate::incidents::workflow;
use crate::model::*;
use crate::util::rng::Rng;

/// How many past events are kept for SSE clients that reconnect with `Last-Event-ID`.
pub const EVENT_LOG: usize = 10_000;
/// Idempotency keys remembered (oldest forgotten first).
pub const IDEMPOTENCY_KEYS: usize = 100_000;
/// Months of incident history generated before the epoch.
pub const INCIDENT_HISTORY_DAYS: i64 = 365;

/// What happens to a background incident later, unless someone else changed it meanwhile.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    incident: usize,
    /// The version the step was planned on; a changed incident drops the plan.
    version: u64,
    action: ActionKind,
}

/// The outcome of an action request, remembered under its idempotency key.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionOutcome {
    pub status: u16,
    pub body: String,
}

pub struct World {
    data: Arc<DemoData>,
    pub epoch: Timestamp,
    now: Timestamp,
    rng: Rng,
    units: Vec<Unit>,
    categories: Vec<Category>,
    indicators: Vec<Indicator>,
    series: BTreeMap<(String, String), Series>,
    incidents: Vec<Incident>,
    index: HashMap<String, usize>,
    cameras: Vec<Camera>,
    providers: Vec<ProviderStatus>,
    events: VecDeque<(u64, Event)>,
    next_seq: u64,
    /// Events up to this sequence number have been handed out by `take_new_events`.
    handed_out: u64,
    pending: BinaryHeap<Reverse<(Timestamp, u64, Pending)>>,
    pending_seq: u64,
    next_arrival: Timestamp,
    /// Background arrivals at this many times the demo data's rates (a soak's busy day).
    arrival_factor: f64,
    scenario: Option<(Arc<Scenario>, usize)>,
    idempotency: HashMap<String, ActionOutcome>,
    idempotency_order: VecDeque<String>,
    recording: bool,
    camera_base: String,
}

impl World {
    /// Builds the world at `epoch` with its history: 24 months of indicators and 12 months of
    /// incidents (with their workflow histories) before the epoch.
    pub fn new(
        data: Arc<DemoData>,
        seed: u64,
        epoch: Timestamp,
        scenario: Option<Arc<Scenario>>,
        camera_base: &str,
    ) -> World {
        let mut rng = Rng::new(seed);
        let mut history_rng = rng.fork(1);
        let (series, providers) = history::indicator_history(&data, &mut history_rng, epoch);
        let start = epoch - Duration::days(INCIDENT_HISTORY_DAYS);
        let mut w = World {
            units: data.province.units.clone(),
            categories: data
                .categories
                .categories
                .iter()
                .map(CategorySpec::category)
                .collect(),
            indicators: data
                .indicators
                .indicators
                .iter()
                .map(|i| i.indicator())
                .collect(),
            cameras: Vec::new(),
            data,
            epoch,
            now: start,
            rng,
            series,
            incidents: Vec::new(),
            index: HashMap::new(),
            providers,
            events: VecDeque::new(),
            next_seq: 1,
            handed_out: 0,
            pending: BinaryHeap::new(),
            pending_seq: 0,
            next_arrival: start,
            arrival_factor: 1.0,
            scenario: None,
            idempotency: HashMap::new(),
            idempotency_order: VecDeque::new(),
            recording: false,
            camera_base: camera_base.trim_end_matches('/').to_owned(),
        };
        w.cameras = w.build_cameras();
        w.schedule_next_arrival();
        w.advance_to(epoch);
        w.recording = true;
        w.scenario = scenario.map(|s| (s, 0));
        w
    }

    fn build_cameras(&self) -> Vec<Camera> {
        self.data
            .cameras
            .cameras
            .iter()
            .map(|c| {
                let url = |kind: &str| format!("{}/{}/{kind}", self.camera_base, c.id);
                let profiles = if c.codec == "mjpeg" {
                    vec![StreamProfile {
                        kind: StreamKind::Main,
                        url: url("main"),
                        codec: "mjpeg".into(),
                        width: 640,
                        height: 480,
                        fps: 10.0,
                    }]
                } else {
                    vec![
                        StreamProfile {
                            kind: StreamKind::Main,
                            url: url("main"),
                            codec: "h264".into(),
                            width: 1280,
                            height: 720,
                            fps: 25.0,
                        },
                        StreamProfile {
                            kind: StreamKind::Sub,
                            url: url("sub"),
                            codec: "h264".into(),
                            width: 640,
                            height: 360,
                            fps: 15.0,
                        },
                    ]
                };
                Camera {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    owner: c.owner.clone(),
                    unit_id: Some(c.unit_id.clone()),
                    location: c.location,
                    direction_deg: c.direction_deg,
                    ptz: c.ptz,
                    profiles,
                    online: true,
                }
            })
            .collect()
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn scenario(&self) -> Option<&Scenario> {
        self.scenario.as_ref().map(|(s, _)| s.as_ref())
    }

    /// Steps of the scenario already played.
    pub fn scenario_progress(&self) -> Option<(usize, usize)> {
        self.scenario.as_ref().map(|(s, i)| (*i, s.steps.len()))
    }

    // ------------------------------------------------------------------ reading

    pub fn units(&self) -> &[Unit] {
        &self.units
    }
    pub fn departments(&self) -> &[Department] {
        &self.data.province.departments
    }
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }
    pub fn series(&self) -> impl Iterator<Item = &Series> {
        self.series.values()
    }
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }
    pub fn incident(&self, id: &str) -> Option<&Incident> {
        self.index.get(id).map(|&i| &self.incidents[i])
    }
    pub fn cameras(&self) -> &[Camera] {
        &self.cameras
    }
    pub fn providers(&self) -> &[ProviderStatus] {
        &self.providers
    }

    /// Events after `seq` still in the log (for `Last-Event-ID`), and whether some were lost.
    pub fn events_after(&self, seq: u64) -> (Vec<(u64, Event)>, bool) {
        let oldest = self.events.front().map_or(self.next_seq, |(s, _)| *s);
        let lost = seq + 1 < oldest;
        (
            self.events
                .iter()
                .filter(|(s, _)| *s > seq)
                .cloned()
                .collect(),
            lost,
        )
    }

    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    // ------------------------------------------------------------------ time

    /// The events recorded since the last call (by time passing or by actions), for broadcast.
    pub fn take_new_events(&mut self) -> Vec<(u64, Event)> {
        let from = self.handed_out;
        self.handed_out = self.next_seq - 1;
        self.events
            .iter()
            .filter(|(s, _)| *s > from)
            .cloned()
            .collect()
    }

    /// Advances simulated time to `t`, processing everything due in time order. The events are
    /// kept in the log and handed out by [`World::take_new_events`].
    pub fn advance_to(&mut self, t: Timestamp) {
        loop {
            let step_at = self.next_step_time();
            let pending_at = self.pending.peek().map(|Reverse((at, _, _))| *at);
            let arrival_at = self.next_arrival;
            let next = [step_at, pending_at, Some(arrival_at)]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next.filter(|n| *n <= t) else {
                break;
            };
            self.now = next.max(self.now);
            if step_at == Some(next) {
                self.play_step();
            } else if pending_at == Some(next) {
                if let Some(Reverse((_, _, p))) = self.pending.pop() {
                    self.progress(p);
                }
            } else {
                self.background_arrival();
            }
        }
        self.now = t.max(self.now);
    }

    fn next_step_time(&self) -> Option<Timestamp> {
        let (s, i) = self.scenario.as_ref()?;
        let step = s.steps.get(*i)?;
        Some(self.epoch + Duration::milliseconds((step.at_minutes * 60_000.0) as i64))
    }

    fn emit(&mut self, event: Event) {
        if !self.recording {
            return;
        }
        self.events.push_back((self.next_seq, event));
        self.next_seq += 1;
        while self.events.len() > EVENT_LOG {
            self.events.pop_front();
        }
    }

    // ------------------------------------------------------------------ incidents

    /// Background incidents arrive `factor` times as often from now on (history unchanged).
    pub fn set_arrival_factor(&mut self, factor: f64) {
        let factor = if factor.is_finite() {
            factor.clamp(0.01, 10_000.0)
        } else {
            1.0
        };
        if factor != self.arrival_factor {
            self.arrival_factor = factor;
            self.schedule_next_arrival();
        }
    }

    fn schedule_next_arrival(&mut self) {
        let rate: f64 = self
            .data
            .categories
            .categories
            .iter()
            .map(|c| c.rate_per_day)
            .sum::<f64>()
            * self.arrival_factor;
        let mean_minutes = if rate > 0.0 {
            1440.0 / rate
        } else {
            f64::INFINITY
        };
        let gap = self.rng.exp(mean_minutes).min(1e7);
        self.next_arrival = self.now + Duration::milliseconds((gap * 60_000.0) as i64);
    }

    fn background_arrival(&mut self) {
        let data = Arc::clone(&self.data);
        let cats = &data.categories.categories;
        let weights: Vec<f64> = cats.iter().map(|c| c.rate_per_day).collect();
        let cat = &cats[self.rng.weighted(&weights)];
        let districts: Vec<&Unit> = data
            .province
            .units
            .iter()
            .filter(|u| u.level == UnitLevel::District)
            .collect();
        let Some(unit) = districts
            .get(self.rng.below(districts.len().max(1)))
            .copied()
        else {
            self.schedule_next_arrival();
            return;
        };
        let place = data
            .province
            .places
            .get(&unit.id)
            .filter(|p| !p.is_empty())
            .map(|p| self.rng.pick(p).clone())
            .unwrap_or_else(|| unit.name.clone());
        let fill = |s: &str| s.replace("{place}", &place).replace("{unit}", &unit.name);
        // Titles and descriptions written as pairs stay pairs.
        let ti = self.rng.below(cat.titles.len());
        let di = if cat.titles.len() == cat.descriptions.len() {
            ti
        } else {
            self.rng.below(cat.descriptions.len())
        };
        let title = fill(&cat.titles[ti]);
        let description = fill(&cat.descriptions[di]);
        let priority = cat.priorities.pick(self.rng.unit());
        let seat = unit.location.unwrap_or(GeoPoint {
            lat: 10.24,
            lon: 106.38,
        });
        let location = GeoPoint {
            lat: seat.lat + self.rng.normal() * 0.012,
            lon: seat.lon + self.rng.normal() * 0.012,
        };
        let idx = self.create_incident(
            cat.source,
            &cat.id,
            priority,
            &unit.id,
            location,
            Some(place.clone()),
            title,
            description,
        );
        let minutes = self.rng.exp(25.0).max(2.0);
        self.plan(idx, ActionKind::Verify, minutes);
        self.schedule_next_arrival();
    }

    #[allow(clippy::too_many_arguments)]
    fn create_incident(
        &mut self,
        source: IncidentSource,
        category: &str,
        priority: Priority,
        unit_id: &str,
        location: GeoPoint,
        address: Option<String>,
        title: String,
        description: String,
    ) -> usize {
        let sla = self
            .categories
            .iter()
            .find(|c| c.id == category)
            .map_or(72, |c| c.sla_hours);
        let id = format!(
            "PA-{}-{:05}",
            self.now.format("%Y%m%d"),
            self.incidents.len() + 1
        );
        let incident = Incident {
            id: id.clone(),
            source,
            category: category.to_owned(),
            priority,
            status: IncidentStatus::Received,
            unit_id: unit_id.to_owned(),
            location,
            address,
            title,
            description,
            media: Vec::new(),
            received_at: self.now,
            due_at: self.now + Duration::hours(sla as i64),
            updated_at: self.now,
            version: 1,
            assigned_unit_id: None,
            history: vec![HistoryEntry {
                at: self.now,
                actor: self
                    .data
                    .categories
                    .source_actors
                    .get(&source)
                    .cloned()
                    .unwrap_or_default(),
                action: ActionKind::Receive,
                status: IncidentStatus::Received,
                unit_id: None,
                note: None,
            }],
            origin: None,
        };
        let idx = self.incidents.len();
        self.index.insert(id, idx);
        self.incidents.push(incident);
        self.emit(Event::Incident(Box::new(self.incidents[idx].clone())));
        idx
    }

    /// Plans the next workflow step of a background incident `minutes` from now.
    fn plan(&mut self, incident: usize, action: ActionKind, minutes: f64) {
        let at = self.now + Duration::milliseconds((minutes * 60_000.0) as i64);
        let version = self.incidents[incident].version;
        self.pending_seq += 1;
        self.pending.push(Reverse((
            at,
            self.pending_seq,
            Pending {
                incident,
                version,
                action,
            },
        )));
    }

    /// Carries out a planned step, unless the incident changed since it was planned.
    fn progress(&mut self, p: Pending) {
        if self.incidents[p.incident].version != p.version {
            return;
        }
        let data = Arc::clone(&self.data);
        let cat = data
            .categories
            .categories
            .iter()
            .find(|c| c.id == self.incidents[p.incident].category);
        let operator = self.rng.pick(&data.categories.operators).clone();
        let (action, unit, note) = match p.action {
            ActionKind::Verify => {
                let reject = cat.is_some_and(|c| self.rng.unit() < c.reject_rate);
                if reject {
                    // check() guarantees reasons wherever the reject rate is above zero.
                    let reason = cat.map(|c| self.rng.pick(&c.reject_reasons).clone());
                    (ActionKind::Reject, None, reason)
                } else {
                    (ActionKind::Verify, None, None)
                }
            }
            ActionKind::Forward => {
                let handler = cat
                    .map(|c| self.rng.pick(&c.handlers).clone())
                    .unwrap_or_else(|| "{unit}".into());
                let unit = if handler == "{unit}" {
                    self.incidents[p.incident].unit_id.clone()
                } else {
                    handler
                };
                (ActionKind::Forward, Some(unit), None)
            }
            other => (other, None, None),
        };
        // Work on the ground is recorded by the unit it was forwarded to, under its name.
        let actor = match (
            action,
            self.incidents[p.incident].assigned_unit_id.as_deref(),
        ) {
            (ActionKind::Start | ActionKind::Resolve, Some(id)) => self
                .units
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.name.clone())
                .or_else(|| {
                    data.province
                        .departments
                        .iter()
                        .find(|d| d.id == id)
                        .map(|d| d.name_vi.clone())
                })
                .unwrap_or_else(|| id.to_owned()),
            _ => operator,
        };
        if self.apply(p.incident, action, unit, note, &actor).is_err() {
            return;
        }
        let sla_minutes = cat.map_or(4320.0, |c| c.sla_hours as f64 * 60.0);
        let next = match action {
            ActionKind::Verify => Some((ActionKind::Forward, self.rng.exp(30.0).max(3.0))),
            ActionKind::Forward => {
                Some((ActionKind::Start, self.rng.exp(sla_minutes * 0.1).max(10.0)))
            }
            // Most are resolved on time; about one in six runs past its deadline.
            ActionKind::Start => {
                Some((ActionKind::Resolve, sla_minutes * self.rng.range(0.2, 1.15)))
            }
            _ => None,
        };
        if let Some((action, minutes)) = next {
            self.plan(p.incident, action, minutes);
        }
    }

    /// Applies a workflow action to incident `idx` now.
    fn apply(
        &mut self,
        idx: usize,
        action: ActionKind,
        unit_id: Option<String>,
        note: Option<String>,
        actor: &str,
    ) -> Result<(), workflow::TransitionError> {
        let inc = &mut self.incidents[idx];
        let status =
            workflow::next_status(inc.status, action, unit_id.as_deref(), note.as_deref())?;
        inc.status = status;
        if action == ActionKind::Forward {
            inc.assigned_unit_id = unit_id.clone();
        }
        inc.version += 1;
        inc.updated_at = self.now;
        inc.history.push(HistoryEntry {
            at: self.now,
            actor: actor.to_owned(),
            action,
            status,
            unit_id,
            note,
        });
        let snapshot = inc.clone();
        self.emit(Event::Incident(Box::new(snapshot)));
        Ok(())
    }

    /// The action endpoint: idempotent under `key`, conflicts on a stale `expected_version`.
    pub fn act(
        &mut self,
        incident_id: &str,
        req: &ActionRequest,
        key: Option<&str>,
    ) -> ActionOutcome {
        if let Some(k) = key
            && let Some(done) = self.idempotency.get(k)
        {
            return done.clone();
        }
        let outcome = self.act_once(incident_id, req);
        if let Some(k) = key {
            self.idempotency.insert(k.to_owned(), outcome.clone());
            self.idempotency_order.push_back(k.to_owned());
            while self.idempotency_order.len() > IDEMPOTENCY_KEYS {
                if let Some(old) = self.idempotency_order.pop_front() {
                    self.idempotency.remove(&old);
                }
            }
        }
        outcome
    }

    fn act_once(&mut self, incident_id: &str, req: &ActionRequest) -> ActionOutcome {
        let error = |status: u16, code: &str, msg: String| ActionOutcome {
            status,
            body: serde_json::to_string(&ApiError::new(code, msg)).unwrap_or_default(),
        };
        let Some(&idx) = self.index.get(incident_id) else {
            return error(
                404,
                "not_found",
                format!("incident {incident_id} does not exist"),
            );
        };
        if req.action == ActionKind::Receive {
            return error(
                422,
                "invalid_transition",
                "incidents are received by the backend, not by an action".into(),
            );
        }
        if let Some(v) = req.expected_version
            && v != self.incidents[idx].version
        {
            return error(
                409,
                "conflict",
                format!(
                    "incident {incident_id} is at version {}, the action was decided on version {v}",
                    self.incidents[idx].version
                ),
            );
        }
        if req.action == ActionKind::Forward
            && let Some(u) = &req.unit_id
            && !self.units.iter().any(|x| &x.id == u)
            && !self.data.province.departments.iter().any(|d| &d.id == u)
        {
            return error(422, "bad_request", format!("unit {u} does not exist"));
        }
        let actor = req.actor.clone().unwrap_or_default();
        match self.apply(
            idx,
            req.action,
            req.unit_id.clone(),
            req.note.clone(),
            &actor,
        ) {
            Ok(()) => ActionOutcome {
                status: 200,
                body: serde_json::to_string(&self.incidents[idx]).unwrap_or_default(),
            },
            Err(e) => error(422, "invalid_transition", e.to_string()),
        }
    }

    // ------------------------------------------------------------------ scenario

    fn play_step(&mut self) {
        let Some((scenario, i)) = self.scenario.clone() else {
            return;
        };
        self.scenario = Some((Arc::clone(&scenario), i + 1));
        let Some(step) = scenario.steps.get(i) else {
            return;
        };
        match &step.action {
            StepAction::Incident {
                category,
                unit_id,
                priority,
                title,
                description,
                location,
                address,
            } => {
                let loc = location
                    .or_else(|| {
                        self.units
                            .iter()
                            .find(|u| &u.id == unit_id)
                            .and_then(|u| u.location)
                    })
                    .unwrap_or(GeoPoint {
                        lat: 10.24,
                        lon: 106.38,
                    });
                let source = self
                    .data
                    .categories
                    .categories
                    .iter()
                    .find(|c| &c.id == category)
                    .map_or(IncidentSource::Citizen, |c| c.source);
                // Scenario incidents wait for the trainees: nothing is planned for them.
                self.create_incident(
                    source,
                    category,
                    *priority,
                    unit_id,
                    loc,
                    address.clone(),
                    title.clone(),
                    description.clone(),
                );
            }
            StepAction::CameraDark { camera_id } => self.set_camera(camera_id, false),
            StepAction::CameraBack { camera_id } => self.set_camera(camera_id, true),
            StepAction::Indicator {
                indicator_id,
                unit_id,
                value,
            } => self.observe(indicator_id, unit_id, *value),
            StepAction::ProviderLate { indicator_id } => {
                let now = self.now;
                if let Some(p) = self
                    .providers
                    .iter_mut()
                    .find(|p| &p.indicator_id == indicator_id)
                {
                    p.due_at = now;
                    let p = p.clone();
                    self.emit(Event::Provider(p));
                }
            }
        }
    }

    /// Whether a camera is online (the RTSP server of the demo follows this).
    pub fn camera_online(&self, id: &str) -> Option<bool> {
        self.cameras.iter().find(|c| c.id == id).map(|c| c.online)
    }

    fn set_camera(&mut self, id: &str, online: bool) {
        let now = self.now;
        if let Some(c) = self.cameras.iter_mut().find(|c| c.id == id) {
            c.online = online;
            self.emit(Event::Camera(CameraStateEvent {
                id: id.to_owned(),
                online,
                at: now,
            }));
        }
    }

    /// A new observation for the current period of the indicator.
    fn observe(&mut self, indicator_id: &str, unit_id: &str, value: f64) {
        let Some(ind) = self.indicators.iter().find(|i| i.id == indicator_id) else {
            return;
        };
        let period = PeriodKey::containing(ind.period, self.now.date_naive());
        let point = Point {
            period,
            value,
            updated_at: self.now,
            status: None,
        };
        let series = self
            .series
            .entry((indicator_id.to_owned(), unit_id.to_owned()))
            .or_insert_with(|| Series {
                annotations: Vec::new(),
                indicator_id: indicator_id.to_owned(),
                unit_id: unit_id.to_owned(),
                points: Vec::new(),
                missing: Vec::new(),
                origin: None,
            });
        match series.points.iter_mut().find(|p| p.period == period) {
            Some(p) => *p = point,
            None => series.points.push(point),
        }
        let now = self.now;
        if let Some(p) = self
            .providers
            .iter_mut()
            .find(|p| p.indicator_id == indicator_id)
        {
            p.last_update = Some(now);
        }
        self.emit(Event::Observation(ObservationEvent {
            indicator_id: indicator_id.to_owned(),
            unit_id: unit_id.to_owned(),
            point,
        }));
    }
}
