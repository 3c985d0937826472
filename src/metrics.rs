//! Health metrics for the IT team's monitoring (Prometheus, or Zabbix's Prometheus items): an
//! optional `GET /metrics` endpoint in the Prometheus text format, written by the `prometheus`
//! crate (its `TextEncoder` and its process collector), never by hand.
//!
//! Where each figure comes from, and when it is read:
//! - frame time: observed by the UI loop into a histogram, every frame it draws;
//! - datasets and the event stream: published by the UI loop whenever its store changed, as
//!   plain values (state, data time, when live data turns stale), so that a scrape never holds
//!   the store and a still wall (no frames) still reports the right state and age;
//! - cameras, decode budget, GStreamer pipelines, camera textures on the GPU, the outbox, the
//!   process (resident memory, threads, CPU, open files): read at scrape time from their owners.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use prometheus::{
    Encoder as _, Gauge, GaugeVec, Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::outbox::Outbox;
use crate::sources::Resource;
use crate::status::SourceState;
use crate::store::Store;
use crate::video::hub::{CameraHealth, CameraHub};

/// Cameras reported by name at most (label values come from the backend's camera list).
const MAX_CAMERAS: usize = 512;

/// A dataset's health as the UI last published it.
#[derive(Clone, Debug, PartialEq)]
struct DatasetHealth {
    resource: Resource,
    state: SourceState,
    /// When the data shown was produced or confirmed.
    as_of: Option<DateTime<Utc>>,
    /// When live data turns stale by itself (no new fetch by then).
    stale_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct StoreHealth {
    configured: bool,
    datasets: Vec<DatasetHealth>,
    stream_up: bool,
    stream_alive_at: Option<DateTime<Utc>>,
}

/// What the scrape reads from elsewhere.
#[derive(Default)]
struct Pull {
    store: StoreHealth,
    cameras: Option<Arc<CameraHub>>,
    outbox: Option<Arc<Outbox>>,
    egui_textures: i64,
}

/// The console's metrics.
pub struct Metrics {
    registry: Registry,
    frame_seconds: Histogram,
    dataset_state: IntGaugeVec,
    dataset_age: GaugeVec,
    stream_state: IntGaugeVec,
    stream_age: Gauge,
    camera_state: IntGaugeVec,
    camera_frames: IntCounterVec,
    camera_reconnects: IntCounterVec,
    decode_budget: Gauge,
    decode_in_use: Gauge,
    pipelines: IntGauge,
    textures: IntGaugeVec,
    outbox_pending: IntGauge,
    outbox_oldest: Gauge,
    outbox_readable: IntGauge,
    /// The process collector, in a registry of its own (its names carry no prefix).
    process: Registry,
    pull: Mutex<Pull>,
    /// One scrape at a time (a scrape sets counters from their owners' totals).
    scrape: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn state_id(s: SourceState) -> &'static str {
    match s {
        SourceState::Live => "live",
        SourceState::Stale => "stale",
        SourceState::Offline => "offline",
        SourceState::Error => "error",
        SourceState::NoPermission => "no_permission",
        SourceState::Connecting => "connecting",
    }
}

impl Metrics {
    /// Every family registered, the process collector included.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("ioc_console".into()), None)?;
        let frame_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "frame_seconds",
                "Time the UI loop took to build a frame of the desk and the wall (seconds)",
            )
            .buckets(vec![
                0.001, 0.002, 0.004, 0.008, 0.016, 0.033, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        )?;
        let dataset_state = IntGaugeVec::new(
            Opts::new(
                "dataset_state",
                "1 for the state each backend dataset is in, 0 for the others",
            ),
            &["dataset", "state"],
        )?;
        let dataset_age = GaugeVec::new(
            Opts::new(
                "dataset_age_seconds",
                "Age of each dataset's data (since it was produced or last confirmed)",
            ),
            &["dataset"],
        )?;
        let stream_state = IntGaugeVec::new(
            Opts::new(
                "event_stream_state",
                "1 for the event stream's state (up, down), 0 for the other",
            ),
            &["state"],
        )?;
        let stream_age = Gauge::new(
            "event_stream_age_seconds",
            "Seconds since the event stream last said anything (absent before it ever did)",
        )?;
        let camera_state = IntGaugeVec::new(
            Opts::new(
                "camera_state",
                "1 for the state of each camera stream the wall shows, 0 for the others",
            ),
            &["camera", "state"],
        )?;
        let camera_frames = IntCounterVec::new(
            Opts::new(
                "camera_frames_total",
                "Frames decoded per camera since its stream started",
            ),
            &["camera"],
        )?;
        let camera_reconnects = IntCounterVec::new(
            Opts::new(
                "camera_reconnects_total",
                "Pipelines built again per camera (reconnects) since its stream started",
            ),
            &["camera"],
        )?;
        let decode_budget = Gauge::new(
            "decode_budget_megapixels_per_second",
            "The wall's decode budget ([video] decode_budget_mpx_s)",
        )?;
        let decode_in_use = Gauge::new(
            "decode_in_use_megapixels_per_second",
            "Decoding planned for the camera streams running now",
        )?;
        let pipelines = IntGauge::new("gstreamer_pipelines", "GStreamer camera pipelines alive")?;
        let textures = IntGaugeVec::new(
            Opts::new(
                "gpu_textures",
                "Textures on the GPU: camera picture planes, and egui's own (fonts, images)",
            ),
            &["kind"],
        )?;
        let outbox_pending = IntGauge::new(
            "outbox_pending",
            "Operator actions recorded and not yet acknowledged by the backend",
        )?;
        let outbox_oldest = Gauge::new(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest action waiting in the outbox (0 when none waits)",
        )?;
        let outbox_readable = IntGauge::new(
            "outbox_readable",
            "1 when the outbox could be read for this scrape, 0 when it could not (or there is none)",
        )?;
        for c in [
            Box::new(frame_seconds.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(dataset_state.clone()),
            Box::new(dataset_age.clone()),
            Box::new(stream_state.clone()),
            Box::new(stream_age.clone()),
            Box::new(camera_state.clone()),
            Box::new(camera_frames.clone()),
            Box::new(camera_reconnects.clone()),
            Box::new(decode_budget.clone()),
            Box::new(decode_in_use.clone()),
            Box::new(pipelines.clone()),
            Box::new(textures.clone()),
            Box::new(outbox_pending.clone()),
            Box::new(outbox_oldest.clone()),
            Box::new(outbox_readable.clone()),
        ] {
            registry.register(c)?;
        }
        // The process's own figures (resident memory, threads, CPU, open files), under the
        // usual `process_` names, whatever the registry's prefix.
        let process = Registry::new();
        process.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Metrics {
            registry,
            process,
            frame_seconds,
            dataset_state,
            dataset_age,
            stream_state,
            stream_age,
            camera_state,
            camera_frames,
            camera_reconnects,
            decode_budget,
            decode_in_use,
            pipelines,
            textures,
            outbox_pending,
            outbox_oldest,
            outbox_readable,
            pull: Mutex::new(Pull::default()),
            scrape: Mutex::new(()),
        })
    }

    fn pull(&self) -> std::sync::MutexGuard<'_, Pull> {
        self.pull.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The camera streams and the outbox to read at each scrape.
    pub fn watch(&self, cameras: Option<Arc<CameraHub>>, outbox: Option<Arc<Outbox>>) {
        let mut p = self.pull();
        p.cameras = cameras;
        p.outbox = outbox;
    }

    /// A frame of the UI loop took `seconds`.
    pub fn observe_frame(&self, seconds: f64) {
        if seconds.is_finite() && seconds >= 0.0 {
            self.frame_seconds.observe(seconds);
        }
    }

    /// egui's textures (font atlas, images) alive now.
    pub fn set_egui_textures(&self, n: usize) {
        self.pull().egui_textures = i64::try_from(n).unwrap_or(i64::MAX);
    }

    /// The store's datasets and event stream as of `now` (called by the UI when it changed).
    pub fn publish_store(&self, store: &Store, now: DateTime<Utc>) {
        let datasets = Resource::ALL
            .iter()
            .map(|&r| {
                let status = store.status(r, now);
                DatasetHealth {
                    resource: r,
                    state: status.state,
                    as_of: status.as_of,
                    stale_at: store.stale_at(r),
                }
            })
            .collect();
        let health = StoreHealth {
            configured: store.configured,
            datasets,
            stream_up: store.stream.up,
            stream_alive_at: store.stream.alive_at,
        };
        self.pull().store = health;
    }

    /// The metrics in the Prometheus text format, read as of `now`.
    pub fn render(&self, now: DateTime<Utc>) -> Result<String, prometheus::Error> {
        let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        let (store, cameras, outbox, egui_textures) = {
            let p = self.pull();
            (
                p.store.clone(),
                p.cameras.clone(),
                p.outbox.clone(),
                p.egui_textures,
            )
        };
        self.set_datasets(&store, now);
        self.set_cameras(cameras.as_deref());
        self.set_outbox(outbox.as_deref(), now);
        self.pipelines
            .set(i64::try_from(crate::video::stream::live_pipelines()).unwrap_or(i64::MAX));
        self.textures
            .with_label_values(&["camera"])
            .set(i64::try_from(crate::video::yuv::live_textures()).unwrap_or(i64::MAX));
        self.textures
            .with_label_values(&["egui"])
            .set(egui_textures);
        let mut families = self.registry.gather();
        families.extend(self.process.gather());
        let mut out = Vec::new();
        TextEncoder::new().encode(&families, &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }

    fn set_datasets(&self, store: &StoreHealth, now: DateTime<Utc>) {
        for d in &store.datasets {
            let name = d.resource.name();
            // Live data past its period turns stale without anything new arriving.
            let state = match (d.state, d.stale_at) {
                (SourceState::Live, Some(at)) if now > at => SourceState::Stale,
                (s, _) => s,
            };
            for s in SourceState::ALL {
                self.dataset_state
                    .with_label_values(&[name, state_id(s)])
                    .set(i64::from(s == state));
            }
            match d.as_of {
                Some(t) => self
                    .dataset_age
                    .with_label_values(&[name])
                    .set(seconds_between(t, now)),
                None => {
                    let _ = self.dataset_age.remove_label_values(&[name]);
                }
            }
        }
        let up = store.configured && store.stream_up;
        self.stream_state
            .with_label_values(&["up"])
            .set(i64::from(up));
        self.stream_state
            .with_label_values(&["down"])
            .set(i64::from(!up));
        self.stream_age.set(
            store
                .stream_alive_at
                .map_or(f64::NAN, |t| seconds_between(t, now)),
        );
    }

    fn set_cameras(&self, hub: Option<&CameraHub>) {
        let (health, in_use, budget) = match hub {
            Some(h) => {
                let (health, in_use) = h.health();
                (health, in_use, h.decode_budget_mpx_s())
            }
            None => (Vec::new(), 0.0, 0.0),
        };
        self.decode_budget.set(budget);
        self.decode_in_use.set(in_use);
        // Cameras no longer shown leave the output (their series end); the counters are set to
        // their owners' totals (one scrape at a time).
        self.camera_state.reset();
        self.camera_frames.reset();
        self.camera_reconnects.reset();
        for c in health.iter().take(MAX_CAMERAS) {
            let camera = c.camera.as_str();
            for s in CameraHealth::STATES {
                self.camera_state
                    .with_label_values(&[camera, s])
                    .set(i64::from(s == c.state));
            }
            self.camera_frames
                .with_label_values(&[camera])
                .inc_by(c.frames);
            self.camera_reconnects
                .with_label_values(&[camera])
                .inc_by(c.reconnects);
        }
    }

    fn set_outbox(&self, outbox: Option<&Outbox>, now: DateTime<Utc>) {
        let Some(outbox) = outbox else {
            self.outbox_readable.set(0);
            self.outbox_pending.set(0);
            self.outbox_oldest.set(0.0);
            return;
        };
        match outbox.pending_summary() {
            Ok((n, oldest)) => {
                self.outbox_readable.set(1);
                self.outbox_pending
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
                let age = oldest
                    .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                    .map_or(0.0, |t| seconds_between(t.with_timezone(&Utc), now));
                self.outbox_oldest.set(age);
            }
            Err(e) => {
                tracing::warn!(%e, "metrics: the outbox cannot be read");
                self.outbox_readable.set(0);
            }
        }
    }
}

fn seconds_between(then: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    ((now - then).num_milliseconds() as f64 / 1000.0).max(0.0)
}

/// The running endpoint; stops when dropped.
pub struct Endpoint {
    pub addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("addr", &self.addr)
            .finish()
    }
}

/// Serves `GET /metrics` on `addr` (port 0: any free port) from a small runtime of its own.
/// The address is bound before this returns, so a taken port is an error here, not later.
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<Endpoint, String> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("ioc-metrics")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the metrics runtime: {e}"))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = Arc::clone(&metrics);
            async move { answer(&metrics) }
        }),
    );
    runtime.spawn(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(%e, "the metrics endpoint cannot accept connections");
                return;
            }
        };
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(%e, "the metrics endpoint stopped");
        }
    });
    tracing::info!(addr = %bound, "metrics endpoint: http://{bound}/metrics");
    Ok(Endpoint {
        addr: bound,
        _runtime: runtime,
    })
}

fn answer(metrics: &Metrics) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    match metrics.render(Utc::now()) {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                TextEncoder::new().format_type().to_owned(),
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(%e, "metrics could not be written");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("metrics could not be written: {e}\n"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> prometheus_parse::Scrape {
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
    }

    fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("{name} {labels:?} missing"));
        match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name}: {other:?}"),
        }
    }

    fn ds(scrape: &prometheus_parse::Scrape, dataset: &str, state: &str) -> f64 {
        value(
            scrape,
            "ioc_console_dataset_state",
            &[("dataset", dataset), ("state", state)],
        )
    }

    #[test]
    fn a_store_without_backend_reads_offline_and_live_data_turns_stale_by_itself() {
        let m = Metrics::new().unwrap();
        let now = Utc::now();
        m.publish_store(&Store::default(), now);
        let s = parse(&m.render(now).unwrap());
        assert_eq!(ds(&s, "units", "offline"), 1.0);
        assert_eq!(ds(&s, "units", "live"), 0.0);
        assert_eq!(
            value(&s, "ioc_console_event_stream_state", &[("state", "down")]),
            1.0
        );

        // A live dataset whose staleness time has passed is reported stale at scrape time.
        let as_of = now - chrono::Duration::seconds(100);
        m.pull().store = StoreHealth {
            configured: true,
            datasets: vec![DatasetHealth {
                resource: Resource::Units,
                state: SourceState::Live,
                as_of: Some(as_of),
                stale_at: Some(now + chrono::Duration::seconds(10)),
            }],
            stream_up: true,
            stream_alive_at: Some(now),
        };
        let s = parse(&m.render(now).unwrap());
        assert_eq!(ds(&s, "units", "live"), 1.0);
        assert_eq!(
            value(
                &s,
                "ioc_console_dataset_age_seconds",
                &[("dataset", "units")]
            ),
            100.0
        );
        let later = now + chrono::Duration::seconds(11);
        let s = parse(&m.render(later).unwrap());
        assert_eq!(ds(&s, "units", "stale"), 1.0);
        assert_eq!(ds(&s, "units", "live"), 0.0);
        assert_eq!(value(&s, "ioc_console_event_stream_age_seconds", &[]), 11.0);
    }

    #[test]
    fn frame_times_fill_the_histogram_and_nonsense_is_ignored() {
        let m = Metrics::new().unwrap();
        m.observe_frame(0.003);
        m.observe_frame(0.2);
        m.observe_frame(f64::NAN);
        m.observe_frame(-1.0);
        let text = m.render(Utc::now()).unwrap();
        assert!(
            text.contains("# TYPE ioc_console_frame_seconds histogram"),
            "{text}"
        );
        assert!(text.contains("ioc_console_frame_seconds_count 2"), "{text}");
        assert!(
            text.contains("ioc_console_frame_seconds_bucket{le=\"0.004\"} 1"),
            "{text}"
        );
        let s = parse(&text);
        assert!(value(&s, "process_resident_memory_bytes", &[]) > 0.0);
        assert!(value(&s, "process_threads", &[]) >= 1.0);
    }

    #[test]
    fn the_outbox_reports_pending_actions_and_the_oldest_age() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Arc::new(Outbox::open(&dir.path().join("o.sqlite")).unwrap());
        let m = Metrics::new().unwrap();
        m.watch(None, Some(Arc::clone(&outbox)));
        let s = parse(&m.render(Utc::now()).unwrap());
        assert_eq!(value(&s, "ioc_console_outbox_pending", &[]), 0.0);
        assert_eq!(value(&s, "ioc_console_outbox_readable", &[]), 1.0);
        let req = crate::model::ActionRequest {
            action: crate::model::ActionKind::Verify,
            unit_id: None,
            note: None,
            expected_version: Some(1),
            actor: None,
        };
        outbox.enqueue("inc-1", &req).unwrap();
        outbox.enqueue("inc-2", &req).unwrap();
        let s = parse(
            &m.render(Utc::now() + chrono::Duration::seconds(30))
                .unwrap(),
        );
        assert_eq!(value(&s, "ioc_console_outbox_pending", &[]), 2.0);
        let age = value(&s, "ioc_console_outbox_oldest_pending_age_seconds", &[]);
        assert!((29.0..=40.0).contains(&age), "{age}");
    }
}
