//! A camera stream that keeps itself alive: a thread opens the source, keeps the newest decoded
//! frame (NV12 or I420, planes as the decoder laid them out), and watches it. No frame for a
//! while (the watchdog), a bus error or the end of the stream tears the pipeline down and builds
//! it again after a jittered, growing delay (1 s doubling to 30 s by default). Pipelines, threads
//! and memory do not grow across reconnects: one pipeline at a time, torn down to `Null` and
//! dropped before the next.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;

use super::yuv::{Layout, Matrix, Range};
use super::{OpenOptions, VideoError};
use crate::util::redact::redact;

/// Pipelines alive in this process (for tests and diagnostics).
static PIPELINES: AtomicUsize = AtomicUsize::new(0);

/// How many camera pipelines exist right now.
pub fn live_pipelines() -> usize {
    PIPELINES.load(Ordering::SeqCst)
}

/// A pipeline counted while it exists, taken to `Null` when dropped.
struct Counted(gst::Pipeline);

impl Counted {
    fn new(p: gst::Pipeline) -> Counted {
        PIPELINES.fetch_add(1, Ordering::SeqCst);
        Counted(p)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let _ = self.0.set_state(gst::State::Null);
        PIPELINES.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How a stream reconnects.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    /// No frame for this long: the pipeline is rebuilt.
    pub watchdog: Duration,
    /// How long the first frame may take after (re)connecting.
    pub first_frame: Duration,
    pub first_retry: Duration,
    pub last_retry: Duration,
}

impl Default for Recovery {
    fn default() -> Self {
        Recovery {
            watchdog: Duration::from_secs(5),
            first_frame: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            last_retry: Duration::from_secs(30),
        }
    }
}

/// Where a stream stands.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamState {
    Connecting,
    Live,
    /// No frame since `since` (the last frame is kept); the watchdog has not fired yet.
    Stalled {
        since: Instant,
    },
    /// Waiting to try again at `at`, after `attempts` failures in a row, because of `reason`.
    Reconnecting {
        at: Instant,
        attempts: u32,
        reason: VideoError,
    },
}

/// The newest decoded frame, planes as the decoder laid them out.
#[derive(Clone, Debug)]
pub struct DecodedFrame {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub strides: [u32; 3],
    pub offsets: [usize; 3],
    pub matrix: Matrix,
    pub range: Range,
    pub received_at: Instant,
    /// Counts frames since the stream was started.
    pub number: u64,
}

impl DecodedFrame {
    pub fn as_frame(&self) -> super::yuv::Frame<'_> {
        super::yuv::Frame {
            data: &self.data,
            width: self.width,
            height: self.height,
            layout: self.layout,
            strides: self.strides,
            offsets: self.offsets,
            matrix: self.matrix,
            range: self.range,
        }
    }
}

#[derive(Default)]
struct Shared {
    state: Option<StreamState>,
    frame: Option<Arc<DecodedFrame>>,
    frames: u64,
    /// Pipelines built so far (the first one and every rebuild).
    builds: u64,
}

/// A running camera stream; stopped (and its pipeline gone) when dropped.
pub struct CameraStream {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    url: String,
}

impl CameraStream {
    /// Starts streaming `url` (credentials in it are used, never shown).
    pub fn start(
        url: &str,
        open: OpenOptions,
        recovery: Recovery,
    ) -> Result<CameraStream, VideoError> {
        super::init()?;
        let uri = super::uri_of(url)?;
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, u) = (Arc::clone(&shared), Arc::clone(&stop), url.to_owned());
        let thread = std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || run(&uri, &u, &open, &recovery, &s, &st))
            .map_err(|e| VideoError::Gstreamer(e.to_string()))?;
        Ok(CameraStream {
            shared,
            stop,
            thread: Some(thread),
            url: redact(url),
        })
    }

    /// The URL without credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn state(&self) -> StreamState {
        self.lock().state.clone().unwrap_or(StreamState::Connecting)
    }

    /// The newest frame (kept while stalled or reconnecting).
    pub fn frame(&self) -> Option<Arc<DecodedFrame>> {
        self.lock().frame.clone()
    }

    /// Frames received since the start.
    pub fn frames(&self) -> u64 {
        self.lock().frames
    }

    /// Pipelines built since the start.
    pub fn builds(&self) -> u64 {
        self.lock().builds
    }

    /// Waits until `done` holds for the stream (or `timeout` passes); true when it held.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&StreamState, u64) -> bool,
    ) -> bool {
        let (lock, cvar) = &*self.shared;
        let until = Instant::now() + timeout;
        let mut g = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let state = g.state.clone().unwrap_or(StreamState::Connecting);
            if done(&state, g.frames) {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            g = cvar
                .wait_timeout(g, left.min(Duration::from_millis(50)))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for CameraStream {
    fn drop(&mut self) {
        // Under the lock: the thread cannot be between its check and its wait.
        let guard = self.lock();
        self.stop.store(true, Ordering::SeqCst);
        drop(guard);
        self.shared.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set(shared: &(Mutex<Shared>, Condvar), f: impl FnOnce(&mut Shared)) {
    let mut g = shared.0.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut g);
    drop(g);
    shared.1.notify_all();
}

/// The stream's thread: build, watch, tear down, wait, again, until stopped.
fn run(
    uri: &str,
    url: &str,
    open: &OpenOptions,
    recovery: &Recovery,
    shared: &(Mutex<Shared>, Condvar),
    stop: &AtomicBool,
) {
    let mut attempts = 0u32;
    // Per process and start time too: consoles watching one camera do not retry in step.
    let seed = crate::util::hash::fnv1a(url)
        ^ u64::from(std::process::id()).rotate_left(32)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = crate::util::rng::Rng::new(seed);
    while !stop.load(Ordering::SeqCst) {
        set(shared, |s| {
            s.builds += 1;
            s.state = Some(StreamState::Connecting);
        });
        let reason = match build(uri, open) {
            Ok((pipeline, sink)) => {
                let r = watch(&pipeline, &sink, url, recovery, shared, stop, &mut attempts);
                drop(pipeline);
                r
            }
            Err(e) => e,
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        attempts = attempts.saturating_add(1);
        let base = recovery
            .first_retry
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
            .min(recovery.last_retry);
        // Jitter: 75 % to 125 %, so that a wall of cameras does not knock all at once.
        let delay = base.mul_f64(0.75 + 0.5 * rng.unit());
        tracing::warn!(url = %redact(url), attempts, "camera stream lost: {reason}; again in {delay:?}");
        let at = Instant::now() + delay;
        set(shared, |s| {
            s.state = Some(StreamState::Reconnecting {
                at,
                attempts,
                reason,
            })
        });
        // Sleep until the retry, waking for a stop.
        let (lock, cvar) = shared;
        let mut g = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !stop.load(Ordering::SeqCst) && Instant::now() < at {
            let left = at.saturating_duration_since(Instant::now());
            g = cvar
                .wait_timeout(g, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

fn build(uri: &str, open: &OpenOptions) -> Result<(Counted, gst_app::AppSink), VideoError> {
    // What the GPU path takes: NV12 or I420, never converted on the CPU.
    let caps = gst_video::VideoCapsBuilder::new()
        .format_list([gst_video::VideoFormat::Nv12, gst_video::VideoFormat::I420])
        .build();
    let (pipeline, sink) = super::decoding_pipeline("camera", uri, open, &caps)?;
    Ok((Counted::new(pipeline), sink))
}

/// Plays the pipeline and takes frames until it fails, stalls past the watchdog or is stopped;
/// returns why it ended.
fn watch(
    pipeline: &Counted,
    sink: &gst_app::AppSink,
    url: &str,
    recovery: &Recovery,
    shared: &(Mutex<Shared>, Condvar),
    stop: &AtomicBool,
    attempts: &mut u32,
) -> VideoError {
    let Some(bus) = pipeline.0.bus() else {
        return VideoError::Gstreamer("no bus".into());
    };
    if pipeline.0.set_state(gst::State::Playing).is_err() {
        return super::first_error(&bus, url)
            .unwrap_or_else(|| VideoError::Other("the pipeline did not start".into()));
    }
    let started = Instant::now();
    let mut first_frame: Option<Instant> = None;
    let mut last_frame: Option<Instant> = None;
    // The first picture may take longer than the watchdog (a long group of pictures, UDP
    // falling back to TCP).
    let first_wait = recovery.watchdog.max(open_first_frame_timeout(recovery));
    loop {
        if stop.load(Ordering::SeqCst) {
            return VideoError::Other("stopped".into());
        }
        // Errors and the end of the stream in one look, so neither is thrown away.
        if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error, gst::MessageType::Eos]) {
            return match msg.view() {
                gst::MessageView::Error(e) => {
                    let debug = e.debug();
                    super::classify(&e.error(), debug.as_deref(), url)
                }
                _ => VideoError::Ended,
            };
        }
        if sink.is_eos() {
            return VideoError::Ended;
        }
        match last_frame {
            None if started.elapsed() > first_wait => {
                return VideoError::NoPicture(super::whole_seconds(first_wait));
            }
            Some(t) if t.elapsed() > recovery.watchdog => {
                return VideoError::NoPicture(super::whole_seconds(recovery.watchdog));
            }
            _ => {}
        }
        match sink.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
            Some(sample) => {
                let now = Instant::now();
                let frame = decoded(&sample, now);
                if frame.is_some() {
                    last_frame = Some(now);
                    // Back off afresh only after being live a while: a flapping camera keeps
                    // backing off.
                    let live_since = *first_frame.get_or_insert(now);
                    if now - live_since > Duration::from_secs(5) {
                        *attempts = 0;
                    }
                }
                set(shared, |s| {
                    s.frames += 1;
                    // Live only with a picture to show: a buffer that cannot be read as a
                    // frame leaves the state as it was (the watchdog acts if none can).
                    if let Some(mut f) = frame {
                        f.number = s.frames;
                        s.frame = Some(Arc::new(f));
                        s.state = Some(StreamState::Live);
                    }
                });
            }
            None => {
                if let Some(t) = last_frame
                    && t.elapsed() > Duration::from_secs(2).min(recovery.watchdog / 2)
                {
                    set(shared, |s| {
                        if matches!(s.state, Some(StreamState::Live)) {
                            s.state = Some(StreamState::Stalled { since: t });
                        }
                    });
                }
            }
        }
    }
}

/// How long a first picture may take, at least.
fn open_first_frame_timeout(recovery: &Recovery) -> Duration {
    recovery.first_frame.max(Duration::from_secs(1))
}

/// The frame of a sample: planes copied as they are (strides and offsets kept), colorimetry
/// read from the caps.
fn decoded(sample: &gst::Sample, now: Instant) -> Option<DecodedFrame> {
    let caps = sample.caps()?;
    let info = gst_video::VideoInfo::from_caps(caps).ok()?;
    let buffer = sample.buffer()?;
    let layout = match info.format() {
        gst_video::VideoFormat::Nv12 => Layout::Nv12,
        gst_video::VideoFormat::I420 => Layout::I420,
        _ => return None,
    };
    // The buffer's own layout (a decoder may pad differently from the caps' default).
    let (strides, offsets) = match buffer.meta::<gst_video::VideoMeta>() {
        Some(m) => (m.stride().to_vec(), m.offset().to_vec()),
        None => (info.stride().to_vec(), info.offset().to_vec()),
    };
    let map = buffer.map_readable().ok()?;
    let stride = |i: usize| strides.get(i).map_or(0, |s| (*s).max(0) as u32);
    let offset = |i: usize| offsets.get(i).copied().unwrap_or(0);
    let colorimetry = info.colorimetry();
    let matrix = match colorimetry.matrix() {
        gst_video::VideoColorMatrix::Bt601 => Matrix::Bt601,
        gst_video::VideoColorMatrix::Bt709 => Matrix::Bt709,
        // Unknown: SD pictures are BT.601, HD ones BT.709.
        _ if info.height() <= 576 => Matrix::Bt601,
        _ => Matrix::Bt709,
    };
    let range = match colorimetry.range() {
        gst_video::VideoColorRange::Range0_255 => Range::Full,
        _ => Range::Limited,
    };
    Some(DecodedFrame {
        data: map.as_slice().to_vec(),
        width: info.width(),
        height: info.height(),
        layout,
        strides: [stride(0), stride(1), stride(2)],
        offsets: [offset(0), offset(1), offset(2)],
        matrix,
        range,
        received_at: now,
        number: 0,
    })
}
