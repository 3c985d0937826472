//! Camera streams through GStreamer: opening a source (RTSP over TCP, or UDP with TCP fallback;
//! HTTP(S) MJPEG; HLS; local files) the way a camera tile will, with decoders chosen by the
//! registry's ranks (hardware `va` / `nvcodec` when present) or named in the configuration, and
//! frames delivered to an appsink that keeps only the newest one. `probe` connects once and
//! reports what it found; errors are classified (authentication, not found, unsupported codec,
//! network) and never carry the credentials of a camera URL.
//!
//! `stream` keeps one camera alive, `hub` shares streams between the tiles that show them and
//! plans their profiles, `yuv` and `paint` put the frames on the GPU, `rtsp_server` serves test
//! and demo cameras.

pub mod bench;
pub mod config;
pub mod hub;
pub mod paint;
pub mod plan;
pub mod rtsp_server;
pub mod stream;
pub mod yuv;

use std::time::{Duration, Instant};

use crate::util::redact::{redact, scrub};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;

/// How RTSP is carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// UDP first, TCP when UDP gets nothing through (rtspsrc's own fallback).
    #[default]
    Auto,
    Tcp,
}

/// How to open a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenOptions {
    pub transport: Transport,
    /// RTSP jitter buffer.
    pub latency: Duration,
    /// How long to wait for the first frame.
    pub first_frame_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            transport: Transport::Auto,
            latency: Duration::from_millis(200),
            first_frame_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a stream could not be had. `detail` never holds the URL's credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    #[error("authentication failed")]
    Auth,
    #[error("not found on the server")]
    NotFound,
    #[error("unsupported codec or missing decoder ({0})")]
    Unsupported(String),
    #[error("network unreachable ({0})")]
    Network(String),
    #[error("no picture within {0} s")]
    NoPicture(u64),
    #[error("the stream ended")]
    Ended,
    #[error("the URL cannot be used ({0})")]
    BadUrl(String),
    #[error("GStreamer is not usable ({0})")]
    Gstreamer(String),
    #[error("{0}")]
    Other(String),
}

impl VideoError {
    /// The catalogue key of the reason (`video.err.*`).
    pub fn key(&self) -> &'static str {
        match self {
            VideoError::Auth => "video.err.auth",
            VideoError::NotFound => "video.err.not_found",
            VideoError::Unsupported(_) => "video.err.unsupported",
            VideoError::Network(_) => "video.err.network",
            VideoError::NoPicture(_) => "video.err.no_picture",
            VideoError::Ended => "video.err.ended",
            VideoError::BadUrl(_) => "video.err.bad_url",
            VideoError::Gstreamer(_) => "video.err.gstreamer",
            VideoError::Other(_) => "video.err.other",
        }
    }

    /// The untranslated detail (an error text of GStreamer, seconds).
    pub fn detail(&self) -> String {
        match self {
            VideoError::Auth | VideoError::NotFound | VideoError::Ended => String::new(),
            VideoError::NoPicture(s) => s.to_string(),
            VideoError::Unsupported(d)
            | VideoError::Network(d)
            | VideoError::BadUrl(d)
            | VideoError::Gstreamer(d)
            | VideoError::Other(d) => d.clone(),
        }
    }
}

/// Seconds for a message, rounded up (a half-second watchdog is "1 s", not "0 s").
pub(crate) fn whole_seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil() as u64
}

/// Initialises GStreamer once.
pub fn init() -> Result<(), VideoError> {
    gst::init().map_err(|e| VideoError::Gstreamer(e.to_string()))
}

/// What `probe` found.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeReport {
    /// The URL without credentials.
    pub url: String,
    /// e.g. "H.264", "JPEG".
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Frames per second as the stream declares it (0 when it does not: RTP carries none).
    pub fps: f64,
    /// Frames per second as they arrived (after the first one).
    pub measured_fps: f64,
    /// The raw format decoded frames arrive in (NV12, I420, ...).
    pub format: String,
    /// The decoder element's factory name (avdec_h264, vah264dec, ...).
    pub decoder: String,
    pub first_frame: Duration,
    pub frames: u64,
    pub duration: Duration,
}

/// The URI GStreamer opens: URLs as they are, paths of local files as `file://` URIs.
pub(crate) fn uri_of(url: &str) -> Result<String, VideoError> {
    if url.contains("://") {
        return Ok(url.to_owned());
    }
    let path = std::path::Path::new(url);
    let abs = std::fs::canonicalize(path).map_err(|e| VideoError::NotFound.or_bad(e))?;
    gst::glib::filename_to_uri(&abs, None)
        .map(|u| u.to_string())
        .map_err(|e| VideoError::BadUrl(e.to_string()))
}

impl VideoError {
    fn or_bad(self, e: std::io::Error) -> VideoError {
        if e.kind() == std::io::ErrorKind::NotFound {
            self
        } else {
            VideoError::BadUrl(e.to_string())
        }
    }
}

/// GStreamer's error message in words only: its debug text (source files and lines, function
/// names, element paths) is for the log, never for a tile or the probe's reason.
pub(crate) fn words_only(message: &str) -> String {
    const CODE_MARKS: [&str; 7] = [
        "../",
        ".c(",
        ".c:",
        "/GstPipeline",
        "GstPipeline:",
        "():",
        "gst_",
    ];
    let cut = CODE_MARKS
        .iter()
        .filter_map(|m| message.find(m))
        .min()
        .unwrap_or(message.len());
    // Back to the start of the word the mark is in.
    let start = message[..cut]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let cut = if cut < message.len() { start } else { cut };
    let words = message[..cut]
        .trim()
        .trim_end_matches([':', '(', '-', ','])
        .trim();
    if words.is_empty() {
        "GStreamer".to_owned()
    } else {
        words.to_owned()
    }
}

/// Classifies a GStreamer error message.
pub(crate) fn classify(err: &gst::glib::Error, debug: Option<&str>, url: &str) -> VideoError {
    let text = scrub(&words_only(err.message()), url);
    if let Some(d) = debug {
        tracing::debug!(error = %scrub(err.message(), url), debug = %scrub(d, url), "GStreamer error");
    }
    // rtspsrc says which RTSP answer it got in its debug text; element names and source lines
    // there hold numbers too, so only that phrase is read.
    let rtsp_status = debug.and_then(|d| {
        let at = d.find("error response: ")? + "error response: ".len();
        d[at..].get(..3)?.parse::<u16>().ok()
    });
    match rtsp_status {
        Some(401 | 403) => return VideoError::Auth,
        Some(404) => return VideoError::NotFound,
        _ => {}
    }
    // souphttpsrc (GStreamer 1.22 with libsoup 3) posts nothing of its own when it cannot reach
    // the server (refused, unreachable, reset): only its base class's "Internal data stream
    // error", whose debug text ends with the element's path and the flow's reason. HTTP answers
    // (404, 401) come with their own errors, before that one.
    let http_unreachable = err.kind::<gst::StreamError>() == Some(gst::StreamError::Failed)
        && debug.is_some_and(|d| {
            d.find(":\nstreaming stopped, reason error")
                .and_then(|at| d[..at].rsplit('/').next())
                .is_some_and(|element| element.starts_with("GstSoupHTTPSrc:"))
        });
    if http_unreachable {
        return VideoError::Network(text);
    }
    if debug.is_some_and(|d| d.contains("not-negotiated")) {
        return VideoError::Unsupported(text);
    }
    if let Some(kind) = err.kind::<gst::ResourceError>() {
        return match kind {
            gst::ResourceError::NotAuthorized => VideoError::Auth,
            gst::ResourceError::NotFound => VideoError::NotFound,
            gst::ResourceError::OpenRead
            | gst::ResourceError::OpenReadWrite
            | gst::ResourceError::Read
            | gst::ResourceError::Failed => {
                // Some paths say it only in the message's words.
                let lower = err.message().to_lowercase();
                if lower.contains("unauthorized") {
                    VideoError::Auth
                } else if lower.contains("not found") {
                    VideoError::NotFound
                } else {
                    VideoError::Network(text)
                }
            }
            _ => VideoError::Other(text),
        };
    }
    if let Some(kind) = err.kind::<gst::StreamError>() {
        return match kind {
            gst::StreamError::CodecNotFound
            | gst::StreamError::Decode
            | gst::StreamError::WrongType
            | gst::StreamError::TypeNotFound
            | gst::StreamError::Format => VideoError::Unsupported(text),
            _ => VideoError::Other(text),
        };
    }
    if err.kind::<gst::CoreError>() == Some(gst::CoreError::MissingPlugin) {
        return VideoError::Unsupported(text);
    }
    VideoError::Other(text)
}

/// The human name of a compressed format's caps.
fn codec_name(caps_name: &str) -> String {
    match caps_name {
        "video/x-h264" => "H.264".into(),
        "video/x-h265" => "H.265".into(),
        "image/jpeg" => "JPEG".into(),
        "video/x-vp8" => "VP8".into(),
        "video/x-vp9" => "VP9".into(),
        "video/x-av1" => "AV1".into(),
        "video/mpeg" => "MPEG".into(),
        other => other.into(),
    }
}

/// The video decoder the pipeline ended up with, and the format it decodes.
fn decoder_of(pipeline: &gst::Pipeline) -> Option<(String, String)> {
    let mut it = pipeline.iterate_recurse();
    while let Ok(Some(e)) = it.next() {
        let Some(factory) = e.factory() else { continue };
        let klass = factory.metadata(gst::ELEMENT_METADATA_KLASS).unwrap_or("");
        // jpegdec is an image decoder.
        if klass.contains("Decoder") && (klass.contains("Video") || klass.contains("Image")) {
            let codec = e
                .static_pad("sink")
                .and_then(|p| p.current_caps())
                .and_then(|c| c.structure(0).map(|s| codec_name(s.name())))
                .unwrap_or_default();
            return Some((factory.name().to_string(), codec));
        }
    }
    None
}

/// A pipeline that opens `uri` (decoders chosen by rank) and hands decoded video matching
/// `caps` to an appsink that keeps only the newest frame (one buffer, older ones dropped, no
/// clock sync). RTSP gets the jitter buffer of `open` and its transport: TCP only, or UDP falling
/// back to TCP after 2 s (rtspsrc waits 5 s by default).
pub(crate) fn decoding_pipeline(
    name: &str,
    uri: &str,
    open: &OpenOptions,
    caps: &gst::Caps,
) -> Result<(gst::Pipeline, gst_app::AppSink), VideoError> {
    let pipeline = gst::Pipeline::with_name(name);
    let source = gst::ElementFactory::make("uridecodebin")
        .property("uri", uri)
        .build()
        .map_err(|e| VideoError::Gstreamer(e.to_string()))?;
    let sink = gst_app::AppSink::builder()
        .caps(caps)
        .sync(false)
        .max_buffers(1)
        .drop(true)
        .build();
    pipeline
        .add_many([&source, sink.upcast_ref()])
        .map_err(|e| VideoError::Gstreamer(e.to_string()))?;
    let latency_ms = u32::try_from(open.latency.as_millis()).unwrap_or(u32::MAX);
    let transport = open.transport;
    source.connect("source-setup", false, move |args| {
        let src = args.get(1).and_then(|v| v.get::<gst::Element>().ok())?;
        if src.find_property("latency").is_some() && src.find_property("protocols").is_some() {
            src.set_property("latency", latency_ms);
            match transport {
                Transport::Tcp => src.set_property_from_str("protocols", "tcp"),
                Transport::Auto => {
                    if src.find_property("timeout").is_some() {
                        src.set_property("timeout", 2_000_000u64);
                    }
                }
            }
        }
        None
    });
    // MJPEG over HTTP (`multipart/x-mixed-replace`): multipartdemux cannot know that no other
    // part type will come, so decodebin would hold the decoded pad back until its queue
    // overflows (megabytes of pictures: minutes for a small camera). A camera sends one stream.
    source
        .downcast_ref::<gst::Bin>()
        .ok_or_else(|| VideoError::Gstreamer("uridecodebin is not a bin".into()))?
        .connect_deep_element_added(|_, _, element| {
            if element
                .factory()
                .is_some_and(|f| f.name() == "multipartdemux")
                && element.find_property("single-stream").is_some()
            {
                element.set_property("single-stream", true);
            }
        });
    let sink_pad = sink.static_pad("sink");
    let accepted = caps.clone();
    let bin = pipeline.downgrade();
    let sink_element = sink.clone().upcast::<gst::Element>();
    source.connect_pad_added(move |_, pad| {
        let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
        let is_video = caps
            .structure(0)
            .is_some_and(|s| s.name().starts_with("video/"));
        let Some(sink_pad) = &sink_pad else { return };
        if !is_video || sink_pad.is_linked() {
            return;
        }
        match needs_conversion(&caps, &accepted) {
            None => {
                let _ = pad.link(sink_pad);
            }
            Some(format) => {
                // A format the GPU path does not take (4:4:4, 10 or 12 bits): converted to what
                // it takes on the processor, on the way to the sink.
                let converted = bin.upgrade().and_then(|bin| {
                    let convert = gst::ElementFactory::make("videoconvert").build().ok()?;
                    bin.add(&convert).ok()?;
                    convert.link(&sink_element).ok()?;
                    convert.sync_state_with_parent().ok()?;
                    pad.link(&convert.static_pad("sink")?).ok()?;
                    Some(())
                });
                match converted {
                    Some(()) => tracing::info!(
                        %format,
                        "the camera's decoded format is converted to 8-bit 4:2:0 on the processor"
                    ),
                    None => {
                        tracing::warn!(%format, "cannot convert the camera's decoded format");
                        let _ = pad.link(sink_pad);
                    }
                }
            }
        }
    });
    Ok((pipeline, sink))
}

/// Whether frames decoded in `format` (as the probe reports it) are converted on the processor
/// before a camera tile shows them: the GPU path takes 8-bit 4:2:0 (NV12, I420) only.
pub fn converted_on_the_way(format: &str) -> bool {
    !format.is_empty() && !matches!(format, "NV12" | "I420")
}

/// The decoded format when raw video in system memory arrives in a format `accepted` does not
/// take (so a converter goes between); None when it fits, or when it is in another memory (a
/// hardware decoder's surfaces negotiate with the sink themselves).
fn needs_conversion(caps: &gst::Caps, accepted: &gst::Caps) -> Option<String> {
    let s = caps.structure(0)?;
    if s.name() != "video/x-raw" {
        return None;
    }
    let system_memory = caps.features(0).is_none_or(|f| {
        f.is_any() || f.contains(gst::CAPS_FEATURE_MEMORY_SYSTEM_MEMORY) || f.is_empty()
    });
    if !system_memory || caps.can_intersect(accepted) {
        return None;
    }
    Some(s.get::<&str>("format").unwrap_or("?").to_owned())
}

/// Connects to `url` like a camera tile would, takes frames for `seconds` and reports.
pub fn probe(url: &str, seconds: f64, opts: &OpenOptions) -> Result<ProbeReport, VideoError> {
    init()?;
    let uri = uri_of(url)?;
    // Decoded video in whatever raw format the decoder gives: no conversion on the CPU.
    let (pipeline, sink) = decoding_pipeline(
        "probe",
        &uri,
        opts,
        &gst::Caps::builder("video/x-raw").build(),
    )?;
    let started = Instant::now();
    let result = run_probe(&pipeline, &sink, url, seconds, opts, started);
    let _ = pipeline.set_state(gst::State::Null);
    result
}

fn run_probe(
    pipeline: &gst::Pipeline,
    sink: &gst_app::AppSink,
    url: &str,
    seconds: f64,
    opts: &OpenOptions,
    started: Instant,
) -> Result<ProbeReport, VideoError> {
    let bus = pipeline
        .bus()
        .ok_or_else(|| VideoError::Gstreamer("no bus".into()))?;
    if pipeline.set_state(gst::State::Playing).is_err() {
        // The reason is on the bus.
        if let Some(e) = first_error(&bus, url) {
            return Err(e);
        }
        return Err(VideoError::Other("the pipeline did not start".into()));
    }
    let mut first: Option<(Duration, gst::Caps)> = None;
    let mut frames = 0u64;
    let window =
        Duration::try_from_secs_f64(seconds.clamp(0.1, 86_400.0)).unwrap_or(Duration::from_secs(5));
    loop {
        if let Some(e) = first_error(&bus, url) {
            return Err(e);
        }
        let now = started.elapsed();
        match &first {
            None if now > opts.first_frame_timeout => {
                return Err(VideoError::NoPicture(whole_seconds(
                    opts.first_frame_timeout,
                )));
            }
            Some((t, _)) if now > *t + window => break,
            _ => {}
        }
        if let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(50)) {
            frames += 1;
            if first.is_none() {
                let caps = sample
                    .caps()
                    .map(|c| c.to_owned())
                    .unwrap_or_else(gst::Caps::new_empty);
                first = Some((started.elapsed(), caps));
            }
        } else if sink.is_eos() {
            break;
        }
    }
    let Some((first_frame, caps)) = first else {
        return Err(VideoError::NoPicture(whole_seconds(
            opts.first_frame_timeout,
        )));
    };
    let info = gst_video::VideoInfo::from_caps(&caps).ok();
    let (decoder, codec) = decoder_of(pipeline).unwrap_or_default();
    Ok(ProbeReport {
        url: redact(url),
        codec,
        width: info.as_ref().map_or(0, |i| i.width()),
        height: info.as_ref().map_or(0, |i| i.height()),
        fps: info
            .as_ref()
            .map(|i| {
                let f = i.fps();
                if f.denom() == 0 {
                    0.0
                } else {
                    f64::from(f.numer()) / f64::from(f.denom())
                }
            })
            .unwrap_or(0.0),
        format: info
            .as_ref()
            .map(|i| i.format().to_str().to_string())
            .unwrap_or_default(),
        decoder,
        first_frame,
        frames,
        measured_fps: {
            let d = started.elapsed().saturating_sub(first_frame).as_secs_f64();
            if d > 0.0 {
                (frames.saturating_sub(1)) as f64 / d
            } else {
                0.0
            }
        },
        duration: started.elapsed().saturating_sub(first_frame),
    })
}

/// The first error waiting on the bus, classified.
pub(crate) fn first_error(bus: &gst::Bus, url: &str) -> Option<VideoError> {
    while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        if let gst::MessageView::Error(e) = msg.view() {
            let debug = e.debug();
            let err = classify(&e.error(), debug.as_deref(), url);
            tracing::warn!(url = %redact(url), "stream error: {err}");
            return Some(err);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_text_never_reaches_the_words() {
        assert_eq!(
            words_only("Internal data stream error."),
            "Internal data stream error."
        );
        assert_eq!(
            words_only(
                "Could not open resource ../gst/rtsp/gstrtspsrc.c(6427): gst_rtspsrc_send (): /GstPipeline:camera"
            ),
            "Could not open resource"
        );
        assert_eq!(
            words_only("gst_rtspsrc_send (): /GstPipeline:camera/GstURIDecodeBin:uridecodebin0"),
            "GStreamer"
        );
        assert_eq!(words_only("Lỗi\u{3000}../x.c(1)"), "Lỗi");
    }

    #[test]
    fn a_gstreamer_error_is_said_without_files_functions_or_element_paths() {
        init().unwrap();
        let err = gst::glib::Error::new(
            gst::StreamError::Failed,
            "Internal data stream error. ../libs/gst/base/gstbasesrc.c(3132): gst_base_src_loop (): /GstPipeline:camera",
        );
        let debug = "../libs/gst/base/gstbasesrc.c(3132): gst_base_src_loop (): /GstPipeline:camera/GstURIDecodeBin:uridecodebin0:\nstreaming stopped, reason not-negotiated (-4)";
        let e = classify(&err, Some(debug), "rtsp://u:p@127.0.0.1/x");
        assert!(matches!(e, VideoError::Unsupported(_)), "{e:?}");
        let shown = e.detail();
        for code in [
            ".c(",
            "gst_",
            "GstPipeline",
            "uridecodebin",
            "not-negotiated",
        ] {
            assert!(!shown.contains(code), "{shown}");
        }
    }
}
