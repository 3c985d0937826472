//! The simulated IOC over real HTTP (axum): the whole `/api/v1` contract, the SSE stream, the
//! trainer's admin endpoints under `/sim`, fault injection and optional bearer authentication.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::data::DemoData;
use super::scenario::Scenario;
use super::world::World;
use crate::model::sim::*;
use crate::model::*;

/// How simulated time relates to real time.
#[derive(Clone, Debug)]
pub struct SimClock {
    anchor_real: Instant,
    anchor_sim: Timestamp,
    speed: f64,
    paused: bool,
}

impl SimClock {
    pub fn new(start: Timestamp, speed: f64, paused: bool) -> Self {
        SimClock {
            anchor_real: Instant::now(),
            anchor_sim: start,
            speed,
            paused,
        }
    }

    pub fn now(&self) -> Timestamp {
        if self.paused {
            return self.anchor_sim;
        }
        let elapsed = self.anchor_real.elapsed().as_secs_f64() * self.speed;
        self.anchor_sim + chrono::Duration::milliseconds((elapsed * 1000.0) as i64)
    }

    fn reanchor(&mut self) {
        self.anchor_sim = self.now();
        self.anchor_real = Instant::now();
    }

    pub fn set_speed(&mut self, speed: f64) {
        self.reanchor();
        self.speed = speed;
    }

    pub fn pause(&mut self) {
        self.reanchor();
        self.paused = true;
    }

    pub fn resume(&mut self) {
        self.anchor_real = Instant::now();
        self.paused = false;
    }
}

/// How the simulator starts.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub listen: SocketAddr,
    pub seed: u64,
    /// Simulated time at start (default: now). Fixing it makes runs byte-identical.
    pub epoch: Option<Timestamp>,
    pub scenario: Option<String>,
    pub speed: f64,
    pub paused: bool,
    /// Bearer token the API requires (none: open).
    pub token: Option<crate::sources::Token>,
    /// Base URL of the simulated cameras' streams.
    pub camera_base: String,
    /// Serve the demo cameras over RTSP on loopback (the base URL is then the server's).
    pub serve_cameras: bool,
    /// Background incidents arrive this many times as often as the demo data's rates (1: as
    /// they are; a soak runs a busy day).
    pub arrivals: f64,
    /// The API key Open311 updates must carry (`/open311/v2`; none: any is taken).
    pub open311_key: Option<String>,
    /// `--issuer`: actions must carry an operator's access token from that identity server.
    pub resource: Option<super::resource::ResourceConfig>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 2607,
            epoch: None,
            scenario: None,
            speed: 1.0,
            paused: false,
            token: None,
            camera_base: "rtsp://127.0.0.1:8554".into(),
            serve_cameras: false,
            arrivals: 1.0,
            open311_key: None,
            resource: None,
        }
    }
}

/// What the SSE streams hear.
#[derive(Clone, Debug)]
enum Broadcast {
    Event {
        run: u64,
        seq: u64,
        event: Event,
    },
    /// A new run started: streams end, clients reconnect and refetch.
    Restart,
}

pub struct Shared {
    pub world: Mutex<World>,
    pub clock: Mutex<SimClock>,
    pub faults: RwLock<Faults>,
    /// Bumped at every restart, so SSE ids of an old run are recognised.
    pub run: Mutex<u64>,
    events: broadcast::Sender<Broadcast>,
    data: Arc<DemoData>,
    scenarios: Vec<Arc<Scenario>>,
    config: SimConfig,
    fault_counter: Mutex<u64>,
    /// The consoles' audit rows sent to `POST /audit`, by (console, seq).
    audit: Mutex<std::collections::BTreeMap<(String, i64), AuditRecord>>,
    /// Set when the server stops: injected delays end at once so shutdown is not held up.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The demo cameras' RTSP server, when served.
    cameras: Option<super::cameras::DemoCameras>,
    /// `--issuer`: the checks of an action's access token.
    resource: Option<Arc<super::resource::Resource>>,
}

impl super::open311::Host for Shared {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.lock_world()
    }
    fn tick(&self) {
        Shared::tick(self)
    }
    fn open311_key(&self) -> Option<String> {
        self.config.open311_key.clone()
    }
}

impl Shared {
    pub(super) fn lock_world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_clock(&self) -> std::sync::MutexGuard<'_, SimClock> {
        self.clock.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn faults(&self) -> Faults {
        self.faults.read().map(|f| f.clone()).unwrap_or_default()
    }
    fn run(&self) -> u64 {
        *self.run.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the world to the clock's time and broadcasts what happened.
    pub fn tick(&self) {
        let t = self.lock_clock().now();
        let events = {
            let mut w = self.lock_world();
            w.advance_to(t);
            if let Some(c) = &self.cameras {
                c.follow(&w, &self.faults().dark_cameras);
            }
            w.take_new_events()
        };
        let run = self.run();
        for (seq, event) in events {
            let _ = self.events.send(Broadcast::Event { run, seq, event });
        }
    }

    fn scenario(&self, id: &str) -> Option<Arc<Scenario>> {
        self.scenarios.iter().find(|s| s.id == id).cloned()
    }

    /// Starts (or restarts) a run: a fresh world at "now" with the scenario's seed.
    fn start_run(&self, scenario: Option<Arc<Scenario>>, speed: f64) {
        let epoch = self.config.epoch.unwrap_or_else(Utc::now);
        let seed = scenario.as_ref().map_or(self.config.seed, |s| s.seed);
        let world = World::new(
            Arc::clone(&self.data),
            seed,
            epoch,
            scenario,
            &self.config.camera_base,
        );
        let mut world = world;
        world.set_arrival_factor(self.config.arrivals);
        *self.lock_world() = world;
        *self.lock_clock() = SimClock::new(epoch, speed, false);
        *self.run.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let _ = self.events.send(Broadcast::Restart);
    }
}

/// A running simulator.
pub struct SimServer {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimServer {
    /// Binds and serves on the current tokio runtime.
    pub async fn start(mut config: SimConfig) -> std::io::Result<SimServer> {
        let data = Arc::new(DemoData::embedded().map_err(std::io::Error::other)?);
        let cameras = if config.serve_cameras {
            match super::cameras::DemoCameras::start(&data.cameras.cameras) {
                Ok(c) => {
                    config.camera_base = c.base();
                    Some(c)
                }
                Err(e) => {
                    tracing::error!("the demo cameras cannot be served: {e}");
                    None
                }
            }
        } else {
            None
        };
        let scenarios = super::scenarios()
            .map_err(std::io::Error::other)?
            .into_iter()
            .map(Arc::new)
            .collect::<Vec<_>>();
        let scenario = match &config.scenario {
            Some(id) => Some(
                scenarios
                    .iter()
                    .find(|s| &s.id == id)
                    .cloned()
                    .ok_or_else(|| std::io::Error::other(format!("unknown scenario `{id}`")))?,
            ),
            None => None,
        };
        let epoch = config.epoch.unwrap_or_else(Utc::now);
        let seed = scenario.as_ref().map_or(config.seed, |s| s.seed);
        let world = World::new(
            Arc::clone(&data),
            seed,
            epoch,
            scenario,
            &config.camera_base,
        );
        let mut world = world;
        world.set_arrival_factor(config.arrivals);
        let (tx, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            clock: Mutex::new(SimClock::new(
                epoch,
                config.speed.clamp(*SPEEDS.start(), *SPEEDS.end()),
                config.paused,
            )),
            faults: RwLock::new(Faults::default()),
            // Unique per process start, so that a client of an earlier process is told to refetch.
            // Random (std's per-instance hasher keys), not the clock: two simulators started in
            // the same millisecond must still differ.
            run: Mutex::new({
                use std::hash::BuildHasher as _;
                std::collections::hash_map::RandomState::new().hash_one(std::process::id()) | 1
            }),
            events: tx,
            data,
            scenarios,
            config: config.clone(),
            fault_counter: Mutex::new(0),
            audit: Mutex::new(Default::default()),
            resource: config.resource.clone().map(super::resource::Resource::new),
            stopping: tokio::sync::watch::channel(false).0,
            cameras,
        });
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let app = router(Arc::clone(&shared));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let ticker_shared = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            let ticker = tokio::spawn(async move {
                let mut interval = tokio::time::interval(Duration::from_millis(200));
                loop {
                    interval.tick().await;
                    ticker_shared.tick();
                }
            });
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stop_rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(%e, "simulator server stopped");
            }
            ticker.abort();
        });
        tracing::info!(%addr, "simulated IOC listening");
        Ok(SimServer {
            addr,
            shared,
            shutdown: Some(stop_tx),
            task: Some(task),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// The same world as an Open311 GeoReport v2 server.
    pub fn open311_url(&self) -> String {
        format!("http://{}/open311/v2", self.addr)
    }

    /// The audit rows consoles sent (`POST /audit`), by console and number.
    pub fn audit_rows(&self) -> Vec<AuditRecord> {
        self.shared
            .audit
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Reads the simulated world.
    pub fn with_world<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        f(&self.shared.lock_world())
    }

    /// Stops serving and waits until the port is released.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // End SSE streams and injected delays so graceful shutdown does not wait for them.
        if let Ok(mut f) = self.shared.faults.write() {
            f.drop_sse = true;
        }
        self.shared.stopping.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.shared.faults.write() {
            *f = faults;
        }
        // Cameras taken off the air (or back) at once, not at the next tick.
        self.shared.tick();
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/units", get(units))
        .route("/departments", get(departments))
        .route("/categories", get(categories))
        .route("/indicators", get(indicators))
        .route("/series", get(series))
        .route("/incidents", get(incidents))
        .route("/incidents/{id}", get(incident))
        .route("/incidents/{id}/actions", post(action))
        .route("/cameras", get(cameras))
        .route("/providers", get(providers))
        .route("/events", get(events))
        .route("/audit", get(audit_rows).post(audit_append))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), guard));
    Router::new()
        .nest("/api/v1", api)
        .nest("/open311/v2", super::open311::router::<Shared>())
        .route("/sim/status", get(sim_status))
        .route("/sim/control", post(sim_control))
        .route("/sim/faults", get(get_faults).post(set_faults))
        .fallback(not_found)
        .with_state(shared)
}

/// `POST /audit`: a console's rows, kept by (console, seq) so that a batch sent twice is kept once.
async fn audit_append(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let batch: AuditBatch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    let mut kept = s.audit.lock().unwrap_or_else(|p| p.into_inner());
    let n = batch.rows.len();
    for r in batch.rows {
        kept.insert((r.event.console.clone(), r.seq), r);
    }
    axum::Json(serde_json::json!({ "accepted": n })).into_response()
}

/// `GET /audit`: every console's rows, by console and number.
async fn audit_rows(State(s): State<Arc<Shared>>) -> Response {
    let rows: Vec<AuditRecord> = s
        .audit
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .cloned()
        .collect();
    let now = s.lock_world().now();
    list(rows, now)
}

fn api_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(ApiError::new(code, message))).into_response()
}

async fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "not_found", "no such resource")
}

/// A 200 answer whose body never ends: a list that keeps opening items, in 64 KiB chunks as
/// fast as the reader takes them (the connection ends when the reader gives up).
fn endless_body() -> Response {
    let chunk = bytes::Bytes::from(r#"{"id":"x","name":"endless"},"#.repeat(2048));
    let head = bytes::Bytes::from_static(br#"{"as_of":"2026-01-01T00:00:00Z","items":["#);
    let stream = stream::iter(
        std::iter::once(head)
            .chain(std::iter::repeat(chunk))
            .map(Ok::<_, Infallible>),
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// Authentication and injected faults, in front of every API route.
async fn guard(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if let Some(token) = &s.config.token {
        let ok = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t == token.expose());
        if !ok {
            return api_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong bearer token",
            );
        }
    }
    let f = s.faults();
    if f.latency_ms > 0 {
        let mut stopping = s.stopping.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(f.latency_ms)) => {}
            _ = stopping.wait_for(|stop| *stop) => {
                return api_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the simulator is stopping");
            }
        }
    }
    if f.forbidden {
        return api_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this account may not read this resource",
        );
    }
    if f.error_rate > 0.0 {
        let n = {
            let mut c = s.fault_counter.lock().unwrap_or_else(|p| p.into_inner());
            *c += 1;
            *c
        };
        // Deterministic spread: request n fails when the running share falls behind the rate.
        let failed_before = ((n - 1) as f64 * f.error_rate).floor();
        if (n as f64 * f.error_rate).floor() > failed_before {
            return api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "injected fault",
            );
        }
    }
    if f.endless && req.method() == axum::http::Method::GET {
        return endless_body();
    }
    let is_events = req.uri().path().ends_with("/events");
    if f.malformed && req.method() == axum::http::Method::GET && !is_events {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"items":[{"id":42,"name":null}],"as_of":"yesterday"}"#,
        )
            .into_response();
    }
    next.run(req).await
}

fn list<T: Serialize>(items: Vec<T>, as_of: Timestamp) -> Response {
    axum::Json(ListResponse { items, as_of }).into_response()
}

async fn units(State(s): State<Arc<Shared>>) -> Response {
    let w = s.lock_world();
    list(w.units().to_vec(), w.now())
}

async fn departments(State(s): State<Arc<Shared>>) -> Response {
    let w = s.lock_world();
    list(w.departments().to_vec(), w.now())
}

async fn categories(State(s): State<Arc<Shared>>) -> Response {
    let w = s.lock_world();
    list(w.categories().to_vec(), w.now())
}

async fn indicators(State(s): State<Arc<Shared>>) -> Response {
    let w = s.lock_world();
    list(w.indicators().to_vec(), w.now())
}

#[derive(Deserialize)]
struct SeriesQuery {
    indicator: Option<String>,
    unit: Option<String>,
}

async fn series(State(s): State<Arc<Shared>>, Query(q): Query<SeriesQuery>) -> Response {
    let w = s.lock_world();
    let items = w
        .series()
        .filter(|x| q.indicator.as_ref().is_none_or(|i| &x.indicator_id == i))
        .filter(|x| q.unit.as_ref().is_none_or(|u| &x.unit_id == u))
        .cloned()
        .collect();
    list(items, w.now())
}

#[derive(Deserialize)]
struct IncidentsQuery {
    updated_since: Option<String>,
}

async fn incidents(State(s): State<Arc<Shared>>, Query(q): Query<IncidentsQuery>) -> Response {
    let since = match q
        .updated_since
        .as_deref()
        .map(chrono::DateTime::parse_from_rfc3339)
    {
        Some(Ok(t)) => Some(t.with_timezone(&Utc)),
        Some(Err(e)) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("updated_since: {e}"),
            );
        }
        None => None,
    };
    let w = s.lock_world();
    let items = w
        .incidents()
        .iter()
        .filter(|i| since.is_none_or(|t| i.updated_at > t))
        .cloned()
        .collect();
    list(items, w.now())
}

async fn incident(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match s.lock_world().incident(&id) {
        Some(i) => axum::Json(i.clone()).into_response(),
        None => api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("incident {id} does not exist"),
        ),
    }
}

async fn action(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut req: ActionRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    if let Some(rs) = &s.resource {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match rs.check_operator(auth).await {
            // The backend's authority on who acted is the token, not what the console sent.
            Ok(claims) => req.actor = Some(super::resource::actor(&claims)),
            Err(r) => {
                tracing::info!(status = r.status, reason = %r.message, incident = %id, "action refused");
                let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNAUTHORIZED);
                let mut resp = api_error(status, r.code, r.message);
                if r.status == 401 {
                    resp.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
                    );
                }
                return resp;
            }
        }
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.tick();
    let outcome = s.lock_world().act(&id, &req, key.as_deref());
    // Broadcast the change right away rather than at the next tick.
    s.tick();
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        outcome.body,
    )
        .into_response()
}

async fn cameras(State(s): State<Arc<Shared>>) -> Response {
    let w = s.lock_world();
    list(w.cameras().to_vec(), w.now())
}

async fn providers(State(s): State<Arc<Shared>>) -> Response {
    let w = s.lock_world();
    list(w.providers().to_vec(), w.now())
}

/// Parses `Last-Event-ID: <run>-<seq>`.
fn last_event_id(headers: &HeaderMap) -> Option<(u64, u64)> {
    let v = headers.get("last-event-id")?.to_str().ok()?;
    let (run, seq) = v.split_once('-')?;
    Some((run.parse().ok()?, seq.parse().ok()?))
}

async fn events(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if s.faults().drop_sse {
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the event stream is down (injected fault)",
        );
    }
    let rx = s.events.subscribe();
    let run = s.run();
    let (replay, reset) = match last_event_id(&headers) {
        Some((r, seq)) if r == run => {
            let w = s.lock_world();
            let (events, lost) = w.events_after(seq);
            // An id from the future means another world: refetch.
            (events, lost || seq > w.last_seq())
        }
        // Another run, or a first connection: nothing to replay; a reconnecting client refetches.
        Some(_) => (Vec::new(), true),
        None => (Vec::new(), false),
    };
    let mut first: Vec<SseEvent> = Vec::new();
    if reset {
        first.push(
            SseEvent::default()
                .event("reset")
                .data("{}")
                .id(format!("{run}-{}", s.lock_world().last_seq())),
        );
    }
    first.extend(replay.into_iter().map(|(seq, e)| sse_event(run, seq, &e)));
    let stream = event_stream(Arc::clone(&s), run, first, rx);
    Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(5))
                .text("keep-alive"),
        )
        .into_response()
}

fn sse_event(run: u64, seq: u64, e: &Event) -> SseEvent {
    SseEvent::default()
        .event(e.name())
        .data(e.to_json())
        .id(format!("{run}-{seq}"))
}

fn event_stream(
    s: Arc<Shared>,
    run: u64,
    first: Vec<SseEvent>,
    rx: broadcast::Receiver<Broadcast>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let state = (s, run, std::collections::VecDeque::from(first), rx);
    stream::unfold(state, |(s, run, mut queue, mut rx)| async move {
        if let Some(e) = queue.pop_front() {
            return Some((Ok(e), (s, run, queue, rx)));
        }
        loop {
            if s.faults().drop_sse {
                return None;
            }
            tokio::select! {
                msg = rx.recv() => match msg {
                    Ok(Broadcast::Event { run: r, seq, event }) if r == run => {
                        return Some((Ok(sse_event(run, seq, &event)), (s, run, queue, rx)));
                    }
                    Ok(Broadcast::Event { .. }) => continue,
                    // A restart ends the stream: the client reconnects and refetches.
                    Ok(Broadcast::Restart) => return None,
                    // Too slow to keep up: end; the client reconnects with Last-Event-ID.
                    Err(_) => return None,
                },
                _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
            }
        }
    })
}

fn status_of(s: &Shared) -> SimStatus {
    let clock = s.lock_clock().clone();
    let w = s.lock_world();
    SimStatus {
        sim_time: clock.now(),
        speed: clock.speed,
        paused: clock.paused,
        scenario: w.scenario().map(|x| x.id.clone()),
        progress: w.scenario_progress(),
        scenarios: s
            .scenarios
            .iter()
            .map(|x| ScenarioInfo {
                id: x.id.clone(),
                title_vi: x.title_vi.clone(),
                title_en: x.title_en.clone(),
                duration_minutes: x.duration_minutes,
            })
            .collect(),
        faults: s.faults(),
        incidents: w.incidents().len(),
    }
}

async fn sim_status(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(status_of(&s)).into_response()
}

async fn sim_control(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let c: Control = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    if let Some(speed) = c.speed
        && !SPEEDS.contains(&speed)
    {
        return api_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("speed {speed} is outside 1 to 60"),
        );
    }
    let speed = c.speed.unwrap_or_else(|| s.lock_clock().speed);
    match c.action {
        ControlAction::Start => {
            let scenario = match c.scenario.as_deref() {
                Some(id) => match s.scenario(id) {
                    Some(x) => Some(x),
                    None => {
                        return api_error(
                            StatusCode::NOT_FOUND,
                            "not_found",
                            format!("unknown scenario `{id}`"),
                        );
                    }
                },
                None => None,
            };
            s.start_run(scenario, speed);
        }
        ControlAction::Restart => {
            let current = s.lock_world().scenario().map(|x| x.id.clone());
            s.start_run(current.and_then(|id| s.scenario(&id)), speed);
        }
        ControlAction::Pause => {
            s.tick();
            s.lock_clock().pause();
        }
        ControlAction::Resume => s.lock_clock().resume(),
        ControlAction::Speed => s.lock_clock().set_speed(speed),
    }
    s.tick();
    axum::Json(status_of(&s)).into_response()
}

async fn get_faults(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.faults()).into_response()
}

async fn set_faults(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) if (0.0..=1.0).contains(&f.error_rate) => {
            tracing::info!(faults = ?f, "simulator faults changed");
            if let Ok(mut cur) = s.faults.write() {
                *cur = f.clone();
            }
            axum::Json(f).into_response()
        }
        Ok(f) => api_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("error_rate {} is outside 0 to 1", f.error_rate),
        ),
        Err(e) => api_error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    }
}
