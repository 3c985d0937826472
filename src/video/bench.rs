//! Decoding for `ioc-console bench decode` (the GPU benchmark): `streams` copies of one clip
//! decoded at once through a named decoder (`nvh264dec`, `avdec_h264`, ...) into the camera
//! path's sink (NV12 or I420 in system memory, the newest frame kept, older ones dropped),
//! played in real time as a camera sends. Reported: frames taken against the frames the clip
//! held for that time (the rest were dropped or late), and the process's CPU time per stream.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use super::VideoError;

/// What one decode run measured.
#[derive(Debug)]
pub struct DecodeRun {
    pub decoder: String,
    pub streams: usize,
    pub seconds: f64,
    /// The clip's frame rate.
    pub fps: f64,
    /// Frames taken by the sinks, per stream.
    pub frames: Vec<u64>,
    /// Processor time of the whole process while it ran (user + system), seconds.
    pub cpu_s: f64,
}

impl DecodeRun {
    /// Frames each stream should have given in the time.
    pub fn expected(&self) -> f64 {
        self.fps * self.seconds
    }

    /// Share of the expected frames not taken (dropped, late or never decoded), over all streams.
    pub fn dropped_share(&self) -> f64 {
        let want = self.expected() * self.streams as f64;
        let got: u64 = self.frames.iter().sum();
        if want > 0.0 {
            (1.0 - got as f64 / want).max(0.0)
        } else {
            0.0
        }
    }

    /// One stream's share of a processor core.
    pub fn cpu_per_stream(&self) -> f64 {
        self.cpu_s / self.seconds / self.streams.max(1) as f64
    }
}

/// Whether GStreamer has an element named `factory` (a decoder the machine can use).
pub fn has_element(factory: &str) -> bool {
    super::init().is_ok() && gst::ElementFactory::find(factory).is_some()
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given; nothing else is touched.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return f64::NAN;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Decodes `streams` copies of `clip` (Matroska, H.264 or H.265) through `decoder` for
/// `seconds` of real time.
pub fn decode(
    clip: &Path,
    decoder: &str,
    streams: usize,
    seconds: f64,
) -> Result<DecodeRun, VideoError> {
    super::init()?;
    if gst::ElementFactory::find(decoder).is_none() {
        return Err(VideoError::Unsupported(format!(
            "no element {decoder} on this machine"
        )));
    }
    let parser = if decoder.contains("265") || decoder.contains("hevc") {
        "h265parse"
    } else {
        "h264parse"
    };
    let location = clip.display().to_string().replace('"', "");
    let stop = Arc::new(AtomicBool::new(false));
    let mut pipelines = Vec::new();
    let mut counters = Vec::new();
    let mut threads = Vec::new();
    for i in 0..streams {
        let launch = format!(
            "filesrc location=\"{location}\" ! matroskademux ! {parser} ! {decoder} name=dec ! appsink name=sink sync=true max-buffers=1 drop=true caps=video/x-raw,format={{NV12,I420}}"
        );
        let pipeline = gst::parse::launch(&launch)
            .map_err(|e| VideoError::Gstreamer(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| VideoError::Gstreamer("not a pipeline".into()))?;
        let sink = pipeline
            .by_name("sink")
            .and_then(|s| s.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| VideoError::Gstreamer("no appsink".into()))?;
        let count = Arc::new(AtomicU64::new(0));
        let (c, st) = (Arc::clone(&count), Arc::clone(&stop));
        threads.push(
            std::thread::Builder::new()
                .name(format!("bench-decode-{i}"))
                .spawn(move || {
                    while !st.load(Ordering::Relaxed) {
                        if sink
                            .try_pull_sample(gst::ClockTime::from_mseconds(100))
                            .is_some()
                        {
                            c.fetch_add(1, Ordering::Relaxed);
                        } else if sink.is_eos() {
                            break;
                        }
                    }
                })
                .map_err(|e| VideoError::Gstreamer(e.to_string()))?,
        );
        counters.push(count);
        pipelines.push(pipeline);
    }
    for p in &pipelines {
        p.set_state(gst::State::Playing)
            .map_err(|e| VideoError::Gstreamer(format!("{decoder}: {e}")))?;
    }
    // Wait until every stream gave its first frame (decoders start at different speeds), then
    // count from there.
    let start_wait = Instant::now();
    while counters.iter().any(|c| c.load(Ordering::Relaxed) == 0) {
        if start_wait.elapsed() > Duration::from_secs(30) {
            break;
        }
        if let Some(err) = pipelines.iter().find_map(|p| {
            p.bus()
                .and_then(|b| b.pop_filtered(&[gst::MessageType::Error]))
        }) && let gst::MessageView::Error(e) = err.view()
        {
            stop.store(true, Ordering::Relaxed);
            for p in &pipelines {
                let _ = p.set_state(gst::State::Null);
            }
            return Err(VideoError::Unsupported(format!(
                "{decoder}: {}",
                super::words_only(e.error().message())
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let fps = pipelines
        .first()
        .and_then(|p| p.by_name("dec"))
        .and_then(|d| d.static_pad("src"))
        .and_then(|p| p.current_caps())
        .and_then(|c| gstreamer_video::VideoInfo::from_caps(&c).ok())
        .map(|i| i.fps())
        .filter(|f| f.denom() > 0 && f.numer() > 0)
        .map_or(25.0, |f| f64::from(f.numer()) / f64::from(f.denom()));
    let before: Vec<u64> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let frames = counters
        .iter()
        .zip(before)
        .map(|(c, b)| c.load(Ordering::Relaxed) - b)
        .collect();
    stop.store(true, Ordering::Relaxed);
    for p in &pipelines {
        let _ = p.set_state(gst::State::Null);
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(DecodeRun {
        decoder: decoder.to_owned(),
        streams,
        seconds: elapsed,
        fps,
        frames,
        cpu_s: cpu,
    })
}
