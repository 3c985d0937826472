//! Decoding for `ioc-console bench decode` (the GPU benchmark): `streams` copies of one clip
//! decoded at once through a named decoder (`nvh264dec`, `avdec_h264`, ...) into the camera
//! path's memory and formats (NV12 or I420 in system memory), played in real time as a camera
//! sends. Reported: frames shown against the frames the clip held for that time (the rest were
//! dropped, late or never decoded), and the process's CPU time per stream. The clip must last
//! longer than the measured time (`benches/gpu.sh` makes 15 s clips and measures 12 s).

use std::path::Path;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;

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
    let mut pipelines = Vec::new();
    let mut sinks = Vec::new();
    for _ in 0..streams {
        // The camera path's memory and formats (NV12 or I420 in system memory: a hardware
        // decoder's pictures come down from the GPU), played against the clock as a camera
        // sends; the sink counts what it showed and what came too late.
        let launch = format!(
            "filesrc location=\"{location}\" ! matroskademux ! {parser} ! {decoder} name=dec ! capsfilter caps=\"video/x-raw,format={{NV12,I420}}\" ! fakesink name=sink sync=true qos=true"
        );
        let pipeline = gst::parse::launch(&launch)
            .map_err(|e| VideoError::Gstreamer(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| VideoError::Gstreamer("not a pipeline".into()))?;
        let sink = pipeline
            .by_name("sink")
            .ok_or_else(|| VideoError::Gstreamer("no sink".into()))?;
        sinks.push(sink);
        pipelines.push(pipeline);
    }
    let stop_all = |pipelines: &[gst::Pipeline]| {
        for p in pipelines {
            let _ = p.set_state(gst::State::Null);
        }
    };
    let rendered = |sink: &gst::Element| -> u64 {
        sink.property::<gst::Structure>("stats")
            .get::<u64>("rendered")
            .unwrap_or(0)
    };
    for p in &pipelines {
        if let Err(e) = p.set_state(gst::State::Playing) {
            stop_all(&pipelines);
            return Err(VideoError::Gstreamer(format!("{decoder}: {e}")));
        }
    }
    // Wait until every stream showed its first frame (decoders start at different speeds),
    // then count from there.
    let start_wait = Instant::now();
    while sinks.iter().any(|s| rendered(s) == 0) {
        let error = pipelines.iter().find_map(|p| {
            p.bus()
                .and_then(|b| b.pop_filtered(&[gst::MessageType::Error]))
        });
        if let Some(err) = error
            && let gst::MessageView::Error(e) = err.view()
        {
            stop_all(&pipelines);
            return Err(VideoError::Unsupported(format!(
                "{decoder}: {}",
                super::words_only(e.error().message())
            )));
        }
        if start_wait.elapsed() > Duration::from_secs(30) {
            stop_all(&pipelines);
            return Err(VideoError::NoPicture(30));
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
    let before: Vec<u64> = sinks.iter().map(rendered).collect();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let frames = sinks
        .iter()
        .zip(before)
        .map(|(s, b)| rendered(s).saturating_sub(b))
        .collect();
    stop_all(&pipelines);
    Ok(DecodeRun {
        decoder: decoder.to_owned(),
        streams,
        seconds: elapsed,
        fps,
        frames,
        cpu_s: cpu,
    })
}
