//! The console's camera streams, shared by every tile that shows a camera: one stream per URL
//! however many tiles (desk preview and wall monitor) show it, started when a tile first asks,
//! stopped a few seconds after the last one stopped asking.
//!
//! Each camera's profile (main or sub stream) is planned from what its tiles asked for in the
//! last moment: the smallest profile that covers the largest tile's pixel size, then a wall-wide
//! decode budget (decoded pixels per second) lowers the least important cameras first. A tile
//! whose profile changes keeps showing the old stream's picture until the new one has its first
//! frame, so switching never blanks a tile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::VideoError;
use super::config::VideoConfig;
use super::plan::{Choice, Demand, Lowered, Want, by_size, plan};
use super::stream::{CameraStream, DecodedFrame, StreamState};
use crate::model::{Camera, StreamKind, StreamProfile};

/// What a tile draws of a camera this frame.
#[derive(Clone, Debug)]
pub struct CameraView {
    pub state: StreamState,
    /// The newest picture: of the planned stream, or of the previous one while the planned one
    /// is still connecting.
    pub frame: Option<Arc<DecodedFrame>>,
    /// Identifies the stream whose picture `frame` is (for the GPU's textures).
    pub key: u64,
    pub profile: StreamProfile,
    pub lowered: Option<Lowered>,
    /// The picture is the previous profile's while the planned one connects.
    pub switching: bool,
    /// The planned profile fails (why); the picture and state are of the previous profile,
    /// which still works.
    pub fallback: Option<VideoError>,
}

/// How long a stream nobody shows is kept (a layout reload or a tile being enlarged must not
/// reconnect it).
const LINGER: Duration = Duration::from_secs(5);
/// How often the plan is made again (a demand counts for one to two of these).
const REPLAN: Duration = Duration::from_millis(400);
/// A stream that could not even be started is tried again after this long.
const START_RETRY: Duration = Duration::from_secs(5);

/// The URL schemes a camera list may name. Anything else (a local path, `file://`) is refused:
/// the list comes from the network and must not make the console read its own files.
const SCHEMES: &[&str] = &["rtsp", "rtsps", "rtspt", "http", "https"];

/// Whether a camera list may ask for `url`.
pub fn allowed_url(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

struct Running {
    stream: Result<CameraStream, VideoError>,
    key: u64,
    used: Instant,
    started: Instant,
}

impl Running {
    fn state(&self) -> StreamState {
        match &self.stream {
            Ok(s) => s.state(),
            Err(e) => StreamState::Reconnecting {
                at: self.started + START_RETRY,
                attempts: 1,
                reason: e.clone(),
            },
        }
    }

    fn frame(&self) -> Option<Arc<DecodedFrame>> {
        self.stream.as_ref().ok().and_then(CameraStream::frame)
    }
}

/// Adds a tile's demand for a camera: the larger size, the higher importance and the larger
/// pinned profile count (the same whatever order the tiles are drawn in).
fn merge(into: &mut HashMap<String, Demand>, d: Demand) {
    match into.get_mut(&d.camera) {
        Some(m) => {
            let w = &mut m.want;
            w.pixels = [
                w.pixels[0].max(d.want.pixels[0]),
                w.pixels[1].max(d.want.pixels[1]),
            ];
            w.importance = w.importance.max(d.want.importance);
            w.pinned = match (w.pinned, d.want.pinned) {
                (Some(StreamKind::Main), _) | (_, Some(StreamKind::Main)) => Some(StreamKind::Main),
                (Some(k), _) | (None, Some(k)) => Some(k),
                (None, None) => None,
            };
            m.profiles = d.profiles;
        }
        None => {
            into.insert(d.camera.clone(), d);
        }
    }
}

#[derive(Default)]
struct Inner {
    streams: HashMap<String, Running>,
    /// What tiles asked since the last plan, and in the window before.
    window: HashMap<String, Demand>,
    previous: HashMap<String, Demand>,
    plan: HashMap<String, Choice>,
    /// Per camera, the URL whose picture was last shown (kept while a new profile connects).
    shown: HashMap<String, String>,
    /// Why a stream's last attempt failed, until it has a picture (a failing stream between
    /// two attempts is "connecting" again, and still failing).
    failures: HashMap<String, VideoError>,
    planned_at: Option<Instant>,
}

/// One camera's stream, for the metrics endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraHealth {
    pub camera: String,
    /// One of [`CameraHealth::STATES`].
    pub state: &'static str,
    /// Frames received since its stream started (a stream closed and opened again starts at 0).
    pub frames: u64,
    /// Pipelines built again after the first.
    pub reconnects: u64,
}

impl CameraHealth {
    pub const STATES: [&'static str; 5] =
        ["connecting", "live", "stalled", "reconnecting", "failed"];
}

/// The console's camera streams.
pub struct CameraHub {
    config: VideoConfig,
    inner: Mutex<Inner>,
}

impl Default for CameraHub {
    fn default() -> Self {
        CameraHub::new(VideoConfig::default())
    }
}

impl std::fmt::Debug for CameraHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraHub")
            .field("streams", &self.stream_count())
            .finish()
    }
}

/// Stops streams off the caller's thread: stopping joins the stream's thread and takes its
/// pipeline down (an RTSP teardown, a source still connecting), which must not hold up drawing.
fn close(streams: Vec<Running>) {
    if streams.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("camera-close".into())
        .spawn(move || drop(streams));
    if let Err(e) = spawned {
        tracing::warn!("cannot start a thread to close camera streams: {e}");
    }
}

impl CameraHub {
    pub fn new(config: VideoConfig) -> CameraHub {
        CameraHub {
            config,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A tile asks to show `camera`; returns what to draw. Several tiles may ask for the same
    /// camera in one frame: the larger size and the higher importance count.
    pub fn request(&self, camera: &Camera, want: Want) -> Option<CameraView> {
        if camera.profiles.is_empty() {
            return None;
        }
        let now = Instant::now();
        let mut closing = Vec::new();
        let view = {
            let mut g = self.lock();
            merge(
                &mut g.window,
                Demand {
                    camera: camera.id.clone(),
                    profiles: camera.profiles.clone(),
                    want,
                },
            );
            match g.planned_at {
                // The first window starts: its plan weighs every tile that asks in it.
                None => g.planned_at = Some(now),
                Some(t) if now.duration_since(t) >= REPLAN => closing = self.replan(&mut g, now),
                Some(_) => {}
            }
            if !g.plan.contains_key(&camera.id) {
                // New since the last plan: it starts on its smallest profile (a picture soon,
                // nothing opened that the budget would take back); the next plan, with every
                // tile's demand of the moment, raises it where the budget allows.
                let smallest = by_size(&camera.profiles).swap_remove(0);
                g.plan.insert(
                    camera.id.clone(),
                    Choice {
                        profile: smallest,
                        lowered: None,
                    },
                );
            }
            let choice = g.plan.get(&camera.id).cloned();
            choice.map(|c| self.view_of(&mut g, &camera.id, c, now))
        };
        close(closing);
        view
    }

    /// Plans from what was asked in this window and the one before (every tile that drew in
    /// that time counts, whichever viewport drew it and when), and starts a new window.
    /// Returns the streams to close (closed by the caller, after the lock).
    fn replan(&self, g: &mut Inner, now: Instant) -> Vec<Running> {
        let mut merged = std::mem::take(&mut g.previous);
        for d in g.window.values() {
            merge(&mut merged, d.clone());
        }
        g.previous = std::mem::take(&mut g.window);
        g.planned_at = Some(now);
        let demands: Vec<Demand> = merged.into_values().collect();
        let new = plan(&demands, self.config.decode_budget_mpx_s);
        for (id, c) in &new {
            let before = g.plan.get(id);
            if before.map(|b| &b.profile.url) != Some(&c.profile.url) {
                match &c.lowered {
                    Some(l) => tracing::info!(
                        camera = %id, profile = ?c.profile.kind, wanted = ?l.wanted,
                        demand_mpx_s = l.demand_mpx_s, budget_mpx_s = l.budget_mpx_s,
                        "camera lowered to keep within the decode budget"
                    ),
                    None => {
                        tracing::debug!(camera = %id, profile = ?c.profile.kind, "camera profile")
                    }
                }
            }
        }
        g.plan = new;
        let planned = g.plan.clone();
        g.shown.retain(|id, _| planned.contains_key(id));
        let streams: std::collections::HashSet<&String> = g.streams.keys().collect();
        let failures = std::mem::take(&mut g.failures)
            .into_iter()
            .filter(|(url, _)| streams.contains(url))
            .collect();
        g.failures = failures;
        // Streams nobody planned or showed for a while go; so do streams that could not be
        // started, to be started again.
        let keep: std::collections::HashSet<String> = g
            .plan
            .values()
            .map(|c| c.profile.url.clone())
            .chain(g.shown.values().cloned())
            .collect();
        let gone: Vec<String> = g
            .streams
            .iter()
            .filter(|(url, r)| {
                (!keep.contains(*url) && now.duration_since(r.used) >= LINGER)
                    || (r.stream.is_err() && now.duration_since(r.started) >= START_RETRY)
            })
            .map(|(url, _)| url.clone())
            .collect();
        gone.iter()
            .filter_map(|url| g.streams.remove(url))
            .collect()
    }

    fn view_of(&self, g: &mut Inner, id: &str, choice: Choice, now: Instant) -> CameraView {
        let url = choice.profile.url.clone();
        let (state, frame, key) = self.touch(g, &url, now);
        let mut view = CameraView {
            state,
            frame,
            key,
            profile: choice.profile,
            lowered: choice.lowered,
            switching: false,
            fallback: None,
        };
        if view.frame.is_some() {
            g.shown.insert(id.to_owned(), url);
        } else if let Some(old) = g.shown.get(id).cloned().filter(|u| *u != url) {
            let (old_state, frame, key) = self.touch(g, &old, now);
            if frame.is_some() {
                view.frame = frame;
                view.key = key;
                match g.failures.get(&url) {
                    // The planned profile fails: the one that works stays on, said so.
                    Some(reason) => {
                        view.fallback = Some(reason.clone());
                        view.state = old_state;
                    }
                    // The new profile is connecting: the old picture stays meanwhile.
                    None => view.switching = true,
                }
            }
        }
        view
    }

    /// The stream of `url` (started when missing): its state, newest frame and key.
    fn touch(
        &self,
        g: &mut Inner,
        url: &str,
        now: Instant,
    ) -> (StreamState, Option<Arc<DecodedFrame>>, u64) {
        let r = g.streams.entry(url.to_owned()).or_insert_with(|| {
            let stream = if allowed_url(url) {
                CameraStream::start(url, self.config.open_options(), self.config.recovery())
            } else {
                Err(VideoError::BadUrl(format!(
                    "only {} are accepted from the camera list",
                    SCHEMES.join(", ")
                )))
            };
            if let Err(e) = &stream {
                tracing::warn!(url = %crate::util::redact::redact(url), "camera stream not started: {e}");
            }
            Running {
                stream,
                key: crate::util::hash::fnv1a(url),
                used: now,
                started: now,
            }
        });
        r.used = now;
        let (state, frame, key) = (r.state(), r.frame(), r.key);
        match (&state, &frame) {
            (StreamState::Reconnecting { reason, .. }, _) => {
                g.failures.insert(url.to_owned(), reason.clone());
            }
            (StreamState::Live, Some(_)) => {
                g.failures.remove(url);
            }
            _ => {}
        }
        (state, frame, key)
    }

    /// What a tile would draw of `camera` without asking for it (the tile's status).
    pub fn peek(&self, camera_id: &str) -> Option<CameraView> {
        let g = self.lock();
        let choice = g.plan.get(camera_id)?.clone();
        let planned = g.streams.get(&choice.profile.url);
        let old = g
            .shown
            .get(camera_id)
            .filter(|u| **u != choice.profile.url)
            .and_then(|u| g.streams.get(u));
        let mut view = CameraView {
            state: StreamState::Connecting,
            frame: None,
            key: 0,
            profile: choice.profile.clone(),
            lowered: choice.lowered.clone(),
            switching: false,
            fallback: None,
        };
        if let Some(r) = planned {
            view.state = r.state();
            view.frame = r.frame();
            view.key = r.key;
        }
        if view.frame.is_none()
            && let Some(o) = old
            && let Some(frame) = o.frame()
        {
            view.frame = Some(frame);
            view.key = o.key;
            match g.failures.get(&choice.profile.url) {
                Some(reason) => {
                    view.fallback = Some(reason.clone());
                    view.state = o.state();
                }
                None => view.switching = true,
            }
        }
        if planned.is_none() && view.frame.is_none() {
            return None;
        }
        Some(view)
    }

    /// Plans again and closes streams nobody asked for lately (the console calls it every
    /// frame; asking does it too).
    pub fn maintain(&self) {
        let now = Instant::now();
        let closing = {
            let mut g = self.lock();
            if g.planned_at.is_none_or(|t| now.duration_since(t) >= REPLAN) {
                self.replan(&mut g, now)
            } else {
                Vec::new()
            }
        };
        close(closing);
    }

    /// Each planned camera's stream as the metrics endpoint reports it, and the decode in use
    /// (megapixels per second of the planned profiles whose streams run).
    pub fn health(&self) -> (Vec<CameraHealth>, f64) {
        let g = self.lock();
        let mut out = Vec::with_capacity(g.plan.len());
        let mut in_use = 0.0;
        for (camera, choice) in &g.plan {
            let Some(running) = g.streams.get(&choice.profile.url) else {
                continue;
            };
            in_use += super::plan::cost(&choice.profile) / 1e6;
            let (frames, builds) = match &running.stream {
                Ok(s) => (s.frames(), s.builds()),
                Err(_) => (0, 0),
            };
            let state = match (&running.stream, running.state()) {
                (Err(_), _) => "failed",
                (_, StreamState::Connecting) => "connecting",
                (_, StreamState::Live) => "live",
                (_, StreamState::Stalled { .. }) => "stalled",
                (_, StreamState::Reconnecting { .. }) => "reconnecting",
            };
            out.push(CameraHealth {
                camera: camera.clone(),
                state,
                frames,
                reconnects: builds.saturating_sub(1),
            });
        }
        out.sort_by(|a, b| a.camera.cmp(&b.camera));
        (out, in_use)
    }

    /// The configured decode budget, megapixels per second.
    pub fn decode_budget_mpx_s(&self) -> f64 {
        self.config.decode_budget_mpx_s
    }

    /// Streams running now.
    pub fn stream_count(&self) -> usize {
        self.lock().streams.len()
    }

    /// The planned profile of each camera asked for lately.
    pub fn plan_now(&self) -> HashMap<String, Choice> {
        self.lock().plan.clone()
    }

    /// Waits until every running stream has a picture or has failed (snapshots of the wall
    /// with cameras); false when `timeout` passed first.
    pub fn settle(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            let done = self.lock().streams.values().all(|r| {
                r.frame().is_some() || matches!(r.state(), StreamState::Reconnecting { .. })
            });
            if done {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
