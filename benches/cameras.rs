//! Camera decode: the console's CPU per stream against a bare GStreamer decode of the same
//! streams, frame age at upload and resident memory per stream, for 1, 4, 9 and 16 streams of
//! 720p and 1080p H.264 over RTSP. `cargo bench --bench cameras`.
//!
//! Three processes, so that each one's CPU and memory are its own:
//! - this process (not measured) pre-encodes one H.264 clip per resolution (once; kept in the
//!   target directory) and serves it over RTSP on loopback (gst-rtsp-server: file, demuxer,
//!   payloader, paced in real time; one media per client, so streams are not in step): encoding
//!   16 pictures of 1080p live is more than two cores can do;
//! - the **baseline**: `gst-launch-1.0` with N branches `rtspsrc protocols=tcp latency=200 !
//!   decodebin ! fpsdisplaysink video-sink=fakesink sync=false` (fpsdisplaysink only counts the
//!   frames, four times a second);
//! - the **console**: this benchmark run again as a child, with N `CameraStream`s (the console's
//!   own decode path: uridecodebin over TCP, an appsink keeping the newest frame, its planes
//!   copied out), measured in windows: decoding only; decoding with each stream's new frame
//!   uploaded into wgpu textures by `YuvRenderer::upload` (what the paint callback does) at the
//!   wall's pace; decoding with the wall drawn through `paint_video` (egui, the paint callbacks
//!   uploading, a render pass, submitted and waited for); and the uploads again at 60 Hz, for
//!   frame age only. Without a GPU, wgpu runs on lavapipe: uploads and drawing are CPU work here
//!   (drawing is a GPU's work on the wall, so the target is held against decoding + upload).
//!
//! CPU is utime + stime of the whole process over a window of the same length, after a
//! warm-up; frames are counted on both sides, so CPU per decoded frame compares paths that may
//! not keep up. Frame age is the time from the appsink handing a frame over
//! (`DecodedFrame::received_at`, right after the decoder) to the round's uploads being made.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_wgpu::wgpu;
use gstreamer::glib;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;
use ioc_console::video::paint::{VideoResources, paint_video};
use ioc_console::video::stream::{CameraStream, DecodedFrame, Recovery};
use ioc_console::video::yuv::{YuvRenderer, YuvTextures};
use ioc_console::video::{OpenOptions, Transport};

const COUNTS: [usize; 4] = [1, 4, 9, 16];
const FPS: u32 = 25;
/// Longer than a stream is watched (connecting, warm-ups and every window: some 40 s), so no
/// stream reaches the end of its clip.
const CLIP_SECS: u32 = 60;
const WARM_UP: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(8);
const LOOP_WARM_UP: Duration = Duration::from_millis(1500);
/// The wall redraws at twice the stream's rate (at most 60 Hz): a live camera tile asks for the
/// next repaint 1/(2 fps) after each one (`request_repaint_after` in `tiles/camera.rs`).
const DISPLAY_HZ: f64 = if 2.0 * (FPS as f64) < 60.0 {
    2.0 * FPS as f64
} else {
    60.0
};
/// The wall's render target: small, so that lavapipe's shading (a GPU's work) does not take the
/// decoders' CPU; the textures are uploaded at full size whatever the target.
const TARGET: [u32; 2] = [640, 360];
/// Frame age measured again with the wall redrawn at 60 Hz, for comparison.
const AGE_WINDOW: Duration = Duration::from_secs(5);
const CHILD_ENV: &str = "IOC_BENCH_CAMERAS_CONSOLE";

struct Resolution {
    name: &'static str,
    width: u32,
    height: u32,
    kbps: u32,
}

const RESOLUTIONS: [Resolution; 2] = [
    Resolution {
        name: "720p",
        width: 1280,
        height: 720,
        kbps: 2048,
    },
    Resolution {
        name: "1080p",
        width: 1920,
        height: 1080,
        kbps: 4096,
    },
];

// ---------------------------------------------------------------------------------------------
// /proc

#[path = "common/proc.rs"]
mod proc_info;
use proc_info::{clk_tck, cpu_ticks, rss_kb, ticks_of};

/// CPU ticks per thread name (digits dropped: "llvmpipe-0" and "llvmpipe-1" are one group).
fn thread_ticks(pid: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in dir.flatten() {
        let p = task.path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(p.join("comm")),
            std::fs::read_to_string(p.join("stat")),
        ) else {
            continue;
        };
        let name: String = comm
            .trim()
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let name = name.trim_end_matches(['-', ':', '_', ' ']).to_owned();
        *out.entry(name).or_default() += ticks_of(&stat).unwrap_or(0);
    }
    out
}

/// What a group of threads does.
fn label(name: &str) -> &str {
    match name {
        // libav's threads are named after the thread that opened the decoder.
        "rtpjitterbuffer" => "decoding (jitterbuffer thread + libav threads)",
        "task" => "rtspsrc (TCP)",
        "camera" => "camera threads (frame copy)",
        "llvmpipe" => "lavapipe",
        // This benchmark's main thread (and threads it started that were not renamed).
        n if n.starts_with("cameras") => "main (uploads, drawing)",
        n if n.starts_with("gst-launch") => "main",
        n => n,
    }
}

/// Where the CPU went between two looks at the threads: the largest groups, in % of the total.
fn breakdown(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> String {
    let mut d: Vec<(String, u64)> = after
        .iter()
        .map(|(k, v)| (k.clone(), v.saturating_sub(*before.get(k).unwrap_or(&0))))
        .filter(|(_, v)| *v > 0)
        .collect();
    let total: u64 = d.iter().map(|(_, v)| v).sum::<u64>().max(1);
    d.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    d.iter()
        .take(5)
        .map(|(k, v)| format!("{} {:.0} %", label(k), *v as f64 * 100.0 / total as f64))
        .collect::<Vec<_>>()
        .join(", ")
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// A child process killed when dropped (a panic leaves nothing running).
struct Running(Child);

impl Running {
    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The streams: clips and the RTSP server (in this process, not measured)

/// The clip of `r`, encoded once (H.264 main profile, a key frame a second, no B-frames, as
/// cameras send; a scrolling test card with a running clock).
fn clip(r: &Resolution) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cameras");
    std::fs::create_dir_all(&dir).expect("a directory for the clips");
    let path = dir.join(format!("{}-{}kbps-{CLIP_SECS}s-v1.mp4", r.name, r.kbps));
    if path.exists() {
        return path;
    }
    let part = path.with_extension("part");
    let t = Instant::now();
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args([
            "videotestsrc",
            &format!("num-buffers={}", FPS * CLIP_SECS),
            "pattern=smpte",
            "horizontal-speed=3",
            "!",
            &format!(
                "video/x-raw,width={},height={},framerate={FPS}/1",
                r.width, r.height
            ),
            "!",
            "timeoverlay",
            &format!("font-desc=Sans {}", r.height / 20),
            "!",
            "x264enc",
            "speed-preset=veryfast",
            "bframes=0",
            &format!("key-int-max={FPS}"),
            &format!("bitrate={}", r.kbps),
            "!",
            "video/x-h264,profile=main",
            "!",
            "h264parse",
            "!",
            "mp4mux",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", part.display()))
        .status()
        .expect("gst-launch-1.0 (GStreamer's tools) to encode the clips");
    assert!(status.success(), "encoding the {} clip failed", r.name);
    std::fs::rename(&part, &path).expect("the clip in place");
    eprintln!(
        "encoded the {} clip in {:.1} s: {}",
        r.name,
        t.elapsed().as_secs_f64(),
        path.display()
    );
    path
}

/// An RTSP server on loopback serving each clip at `/<name>` (one media per client).
struct Server {
    port: u16,
    main_loop: glib::MainLoop,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(clips: &[(String, PathBuf)]) -> Server {
        gstreamer::init().expect("GStreamer");
        let clips = clips.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let ctx = glib::MainContext::new();
            let main_loop = glib::MainLoop::new(Some(&ctx), false);
            let port = ctx
                .with_thread_default(|| {
                    let server = rtsp::RTSPServer::new();
                    server.set_address("127.0.0.1");
                    server.set_service("0");
                    let points = server.mount_points().expect("mount points");
                    for (name, path) in &clips {
                        let factory = rtsp::RTSPMediaFactory::new();
                        factory.set_launch(&format!(
                            "( filesrc location=\"{}\" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )",
                            path.display()
                        ));
                        factory.set_shared(false);
                        points.add_factory(&format!("/{name}"), factory);
                    }
                    let source = server.attach(Some(&ctx)).expect("the RTSP server attached");
                    (server.bound_port(), server, source)
                })
                .expect("the server's context");
            let (port, _server, _source) = port;
            let _ = tx.send((port, main_loop.clone()));
            main_loop.run();
        });
        let (port, main_loop) = rx.recv().expect("the RTSP server started");
        Server {
            port: u16::try_from(port).expect("a port"),
            main_loop,
            thread: Some(thread),
        }
    }

    fn url(&self, name: &str) -> String {
        format!("rtsp://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.main_loop.quit();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Baseline: gst-launch-1.0 ... decodebin ! fakesink

struct Measured {
    /// CPU seconds over the window.
    cpu: f64,
    window: f64,
    /// Frames decoded per second, all streams together.
    fps: f64,
    rss_kb: u64,
    threads: String,
}

/// Frame counts of each sink as they were reported: (when, frames so far).
type Counts = Arc<Mutex<Vec<Vec<(Instant, u64)>>>>;

/// Frames per second of all sinks together between `t0` and `t1`, from the counts reported
/// inside the window.
fn rate(counts: &Counts, t0: Instant, t1: Instant) -> f64 {
    let counts = counts.lock().unwrap();
    counts
        .iter()
        .map(|c| {
            let inside: Vec<_> = c.iter().filter(|(t, _)| *t >= t0 && *t <= t1).collect();
            match (inside.first(), inside.last()) {
                (Some(a), Some(b)) if b.0 > a.0 => {
                    (b.1 - a.1) as f64 / b.0.duration_since(a.0).as_secs_f64()
                }
                _ => 0.0,
            }
        })
        .sum()
}

fn gst_launch(args: &[String]) -> Command {
    // Line-buffered, so that counts arrive when they are printed.
    let mut cmd = if Path::new("/usr/bin/stdbuf").exists() {
        let mut c = Command::new("/usr/bin/stdbuf");
        c.args(["-oL", "gst-launch-1.0"]);
        c
    } else {
        Command::new("gst-launch-1.0")
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

/// The resident memory of gst-launch-1.0 with GStreamer initialised and no stream.
fn bare_idle_rss() -> u64 {
    let args: Vec<String> = ["fakesrc", "is-live=true", "!", "fakesink"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let child = Running(gst_launch(&args).spawn().expect("gst-launch-1.0"));
    std::thread::sleep(Duration::from_secs(1));
    rss_kb(&child.pid())
}

fn bare_decode(url: &str, n: usize, decoder: &Mutex<String>) -> Measured {
    let mut args = vec!["-v".to_owned()];
    for i in 0..n {
        args.extend(
            [
                "rtspsrc",
                &format!("location={url}"),
                "protocols=tcp",
                "latency=200",
                "!",
                "decodebin",
                "!",
                "fpsdisplaysink",
                &format!("name=s{i}"),
                "video-sink=fakesink",
                "text-overlay=false",
                "sync=false",
                "fps-update-interval=250",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
    }
    let mut child = Running(gst_launch(&args).spawn().expect("gst-launch-1.0"));
    let pid = child.pid();
    let counts: Counts = Arc::new(Mutex::new(vec![Vec::new(); n]));
    let stdout = child.0.stdout.take().expect("gst-launch's output");
    let (c, dec) = (Arc::clone(&counts), decoder);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                for name in ["avdec_h264", "openh264dec", "vah264dec", "nvh264dec"] {
                    if line.contains(&format!("/{name}:")) {
                        *dec.lock().unwrap() = name.to_owned();
                    }
                }
                // /GstPipeline:pipeline0/GstFPSDisplaySink:s3: last-message = rendered: 51, ...
                let Some(at) = line.find("GstFPSDisplaySink:s") else {
                    continue;
                };
                let rest = &line[at + "GstFPSDisplaySink:s".len()..];
                let Some((i, rest)) = rest.split_once(':') else {
                    continue;
                };
                let Some(r) = rest.split("rendered: ").nth(1) else {
                    continue;
                };
                let frames = r.split(',').next().and_then(|v| v.trim().parse().ok());
                if let (Ok(i), Some(frames)) = (i.parse::<usize>(), frames)
                    && let Some(v) = c.lock().unwrap().get_mut(i)
                {
                    v.push((Instant::now(), frames));
                }
            }
        });
        let until = Instant::now() + Duration::from_secs(30);
        while !counts
            .lock()
            .unwrap()
            .iter()
            .all(|c| c.last().is_some_and(|l| l.1 > 0))
        {
            assert!(
                Instant::now() < until,
                "the baseline's streams did not all start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(WARM_UP);
        let (t0, c0, th0) = (Instant::now(), cpu_ticks(&pid), thread_ticks(&pid));
        std::thread::sleep(WINDOW);
        let (t1, c1, th1) = (Instant::now(), cpu_ticks(&pid), thread_ticks(&pid));
        let m = Measured {
            cpu: (c1 - c0) as f64 / clk_tck(),
            window: t1.duration_since(t0).as_secs_f64(),
            fps: rate(&counts, t0, t1),
            rss_kb: rss_kb(&pid),
            threads: breakdown(&th0, &th1),
        };
        // Ends the reader too (its pipe closes).
        drop(child);
        m
    })
}

// ---------------------------------------------------------------------------------------------
// The console, in a child process

/// Frame age percentiles (p50, p95), ms.
type Ages = [f64; 2];

struct ConsoleResult {
    /// Streams only.
    decode: Measured,
    /// Streams, and each new frame uploaded at the wall's pace (what the paint callback does,
    /// without lavapipe drawing the wall).
    upload: Option<Measured>,
    /// Streams, and the wall drawn through `paint_video` on lavapipe.
    wall: Option<Measured>,
    rss_before_kb: u64,
    /// Frames uploaded per second, all streams: uploads only, with the wall drawn, uploads
    /// only at 60 Hz.
    uploaded_fps: [f64; 3],
    /// Redraws per second with the wall drawn.
    wall_hz: f64,
    /// Frame age at upload: uploads only, with the wall drawn, uploads only at 60 Hz.
    age: [Ages; 3],
    /// Wall time of one upload call, ms (uploads only).
    upload_ms: f64,
    rebuilds: u64,
}

fn console(url: &str, n: usize) -> Option<ConsoleResult> {
    let exe = std::env::current_exe().expect("this benchmark's path");
    let out = Command::new(exe)
        .env(CHILD_ENV, format!("{n} {url}"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the console child");
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
        eprintln!("the console child gave no result ({}): {text}", out.status);
        return None;
    };
    let kv: HashMap<&str, &str> = line.split('\t').filter_map(|f| f.split_once('=')).collect();
    let f = |k: &str| kv.get(k).and_then(|v| v.parse::<f64>().ok());
    let nan = |k: &str| f(k).unwrap_or(f64::NAN);
    let window = |w: &str| {
        Some(Measured {
            cpu: f(&format!("cpu_{w}"))?,
            window: f(&format!("window_{w}"))?,
            fps: f(&format!("fps_{w}"))?,
            rss_kb: f(&format!("rss_{w}"))? as u64,
            threads: kv
                .get(format!("threads_{w}").as_str())
                .map_or(String::new(), |v| v.to_string()),
        })
    };
    let ages = |w: &str| [nan(&format!("age_{w}_p50")), nan(&format!("age_{w}_p95"))];
    Some(ConsoleResult {
        decode: window("decode")?,
        upload: window("upload"),
        wall: window("wall"),
        rss_before_kb: f("rss_before")? as u64,
        uploaded_fps: [
            nan("uploaded_fps_upload"),
            nan("uploaded_fps_wall"),
            nan("uploaded_fps_upload60"),
        ],
        wall_hz: nan("hz_wall"),
        age: [ages("upload"), ages("wall"), ages("upload60")],
        upload_ms: nan("upload_ms"),
        rebuilds: f("rebuilds").unwrap_or(0.0) as u64,
    })
}

/// The GPU side of the console for N camera tiles, on wgpu (lavapipe without a GPU).
struct Display {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// The wall: egui with the camera paint callbacks.
    renderer: egui_wgpu::Renderer,
    ctx: egui::Context,
    view: wgpu::TextureView,
    /// Uploads alone: the renderer the paint callback uses, and each stream's textures.
    yuv: YuvRenderer,
    slots: Vec<Option<YuvTextures>>,
    /// The number of the frame last uploaded for each stream.
    last: Vec<u64>,
}

#[derive(Default)]
struct Record {
    ages: Vec<f64>,
    uploads: u64,
    loops: u64,
    upload_time: Duration,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Each stream's new frame uploaded, nothing drawn (a GPU would draw).
    Upload,
    /// The wall drawn through `paint_video`, whose paint callbacks upload the new frames.
    Wall,
}

const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

impl Display {
    fn new(n: usize) -> Result<Display, String> {
        let (device, queue, _) = ioc_console::ui::offscreen::gpu().map_err(|e| e.to_string())?;
        let mut renderer =
            egui_wgpu::Renderer::new(&device, FORMAT, egui_wgpu::RendererOptions::PREDICTABLE);
        VideoResources::install(&mut renderer, &device, FORMAT);
        let target = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("wall"),
            size: wgpu::Extent3d {
                width: TARGET[0],
                height: TARGET[1],
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        let view = target.create_view(&wgpu::TextureViewDescriptor::default());
        let yuv = YuvRenderer::new(&device, FORMAT);
        Ok(Display {
            device,
            queue,
            renderer,
            ctx: egui::Context::default(),
            view,
            yuv,
            slots: (0..n).map(|_| None).collect(),
            last: vec![0; n],
        })
    }

    fn wait(&self) {
        let _ = self.device.poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(Duration::from_secs(10)),
        });
    }

    /// Uploads each stream's new frame into its textures (`YuvRenderer::upload`, as the paint
    /// callback's `prepare` does), submits and waits for the copies; records each frame's age
    /// when its upload call was made.
    fn upload(&mut self, frames: &[Option<Arc<DecodedFrame>>], rec: &mut Record) {
        let mut fresh = Vec::new();
        let t = Instant::now();
        for (i, f) in frames.iter().enumerate() {
            let Some(f) = f else { continue };
            if f.number == self.last[i] {
                continue;
            }
            self.yuv
                .upload(&self.device, &self.queue, &mut self.slots[i], &f.as_frame())
                .expect("an upload");
            self.last[i] = f.number;
            fresh.push(f.received_at);
        }
        let uploaded_at = Instant::now();
        rec.upload_time += uploaded_at - t;
        self.queue.submit(std::iter::empty());
        self.wait();
        rec.uploads += fresh.len() as u64;
        rec.ages.extend(
            fresh
                .iter()
                .map(|r| uploaded_at.saturating_duration_since(*r).as_secs_f64() * 1e3),
        );
    }

    /// One frame of the wall: every stream's newest frame drawn as a tile (the paint callback
    /// uploads the new ones), submitted and waited for (as presenting would).
    fn wall(&mut self, frames: &[Option<Arc<DecodedFrame>>], rec: &mut Record) {
        let n = frames.len();
        let cols = (n as f64).sqrt().ceil() as usize;
        let rows = n.div_ceil(cols);
        let (w, h) = (
            TARGET[0] as f32 / cols as f32,
            TARGET[1] as f32 / rows as f32,
        );
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(TARGET[0] as f32, TARGET[1] as f32),
            )),
            ..Default::default()
        };
        let mut out = self.ctx.run_ui(input, |ui| {
            for (i, f) in frames.iter().enumerate() {
                if let Some(f) = f {
                    let min = egui::pos2((i % cols) as f32 * w, (i / cols) as f32 * h);
                    let rect = egui::Rect::from_min_size(min, egui::vec2(w, h));
                    paint_video(ui.painter(), rect, i as u64, Arc::clone(f));
                }
            }
        });
        for (id, images) in out.textures_delta.set.drain() {
            for image in &images {
                self.renderer
                    .update_texture(&self.device, &self.queue, id, image);
            }
        }
        let primitives = self.ctx.tessellate(std::mem::take(&mut out.shapes), 1.0);
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: TARGET,
            pixels_per_point: 1.0,
        };
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wall"),
            });
        // The paint callbacks' `prepare`: new frames are uploaded here.
        let user = self.renderer.update_buffers(
            &self.device,
            &self.queue,
            &mut encoder,
            &primitives,
            &screen,
        );
        let uploaded_at = Instant::now();
        for (i, f) in frames.iter().enumerate() {
            let Some(f) = f else { continue };
            let now = VideoResources::uploaded(&self.renderer, i as u64);
            if now == Some(f.number) && f.number != self.last[i] {
                self.last[i] = f.number;
                rec.uploads += 1;
                rec.ages.push(
                    uploaded_at
                        .saturating_duration_since(f.received_at)
                        .as_secs_f64()
                        * 1e3,
                );
            }
        }
        {
            let mut pass = ioc_console::ui::offscreen::clear_pass(&mut encoder, &self.view, "wall");
            self.renderer.render(&mut pass, &primitives, &screen);
        }
        self.queue
            .submit(user.into_iter().chain(std::iter::once(encoder.finish())));
        self.wait();
        for id in &out.textures_delta.free {
            self.renderer.free_texture(id);
        }
    }

    /// Runs `mode` at `hz` for `dur` (as fast as it can when a round takes longer).
    fn run(&mut self, streams: &[CameraStream], mode: Mode, hz: f64, dur: Duration) -> Record {
        let mut rec = Record::default();
        let period = Duration::from_secs_f64(1.0 / hz);
        let start = Instant::now();
        let mut next = start;
        while start.elapsed() < dur {
            let frames: Vec<Option<Arc<DecodedFrame>>> =
                streams.iter().map(|s| s.frame()).collect();
            match mode {
                Mode::Upload => self.upload(&frames, &mut rec),
                Mode::Wall => self.wall(&frames, &mut rec),
            }
            rec.loops += 1;
            next += period;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                next = now;
            }
        }
        rec
    }
}

fn frames_total(streams: &[CameraStream]) -> u64 {
    streams.iter().map(|s| s.frames()).sum()
}

/// The console child: N streams, measured decoding only, then with each new frame uploaded at
/// the wall's pace, then with the wall drawn (lavapipe); frame age again at 60 Hz. Prints one
/// RESULT line.
fn console_child(spec: &str) {
    let (n, url) = spec.split_once(' ').expect("`N URL`");
    let n: usize = n.parse().expect("N");
    ioc_console::video::init().expect("GStreamer");
    let tck = clk_tck();
    // The GPU (lavapipe) before the streams: its memory is not the streams'.
    let display = Display::new(n);
    if let Err(e) = &display {
        eprintln!("no uploads (no wgpu adapter): {e}");
    }
    let mut kv: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| kv.push((k.to_owned(), v));
    put("rss_before", rss_kb("self").to_string());
    let open = OpenOptions {
        transport: Transport::Tcp,
        latency: Duration::from_millis(200),
        first_frame_timeout: Duration::from_secs(20),
    };
    let streams: Vec<CameraStream> = (0..n)
        .map(|_| CameraStream::start(url, open.clone(), Recovery::default()).expect("a stream"))
        .collect();
    for s in &streams {
        assert!(
            s.wait_for(Duration::from_secs(30), |_, frames| frames > 0),
            "a stream gave no frame"
        );
    }
    std::thread::sleep(WARM_UP);

    // Runs `body` and puts what the window cost under `name`.
    let window = |name: &str,
                  put: &mut dyn FnMut(&str, String),
                  body: &mut dyn FnMut() -> Option<Record>| {
        let (t0, c0, f0, th0) = (
            Instant::now(),
            cpu_ticks("self"),
            frames_total(&streams),
            thread_ticks("self"),
        );
        let rec = body();
        let (t1, c1, f1, th1) = (
            Instant::now(),
            cpu_ticks("self"),
            frames_total(&streams),
            thread_ticks("self"),
        );
        let secs = t1.duration_since(t0).as_secs_f64();
        put(
            &format!("cpu_{name}"),
            format!("{}", (c1 - c0) as f64 / tck),
        );
        put(&format!("window_{name}"), format!("{secs}"));
        put(
            &format!("fps_{name}"),
            format!("{}", (f1 - f0) as f64 / secs),
        );
        put(&format!("rss_{name}"), rss_kb("self").to_string());
        put(&format!("threads_{name}"), breakdown(&th0, &th1));
        if let Some(mut rec) = rec {
            put(
                &format!("uploaded_fps_{name}"),
                format!("{}", rec.uploads as f64 / secs),
            );
            put(
                &format!("hz_{name}"),
                format!("{}", rec.loops as f64 / secs),
            );
            put(
                &format!("age_{name}_p50"),
                format!("{}", percentile(&mut rec.ages, 0.5)),
            );
            put(
                &format!("age_{name}_p95"),
                format!("{}", percentile(&mut rec.ages, 0.95)),
            );
            if name == "upload" {
                put(
                    "upload_ms",
                    format!(
                        "{}",
                        rec.upload_time.as_secs_f64() * 1e3 / rec.uploads.max(1) as f64
                    ),
                );
            }
        }
    };
    window("decode", &mut put, &mut || {
        std::thread::sleep(WINDOW);
        None
    });
    if let Ok(mut display) = display {
        display.run(&streams, Mode::Upload, DISPLAY_HZ, LOOP_WARM_UP);
        window("upload", &mut put, &mut || {
            Some(display.run(&streams, Mode::Upload, DISPLAY_HZ, WINDOW))
        });
        display.run(&streams, Mode::Wall, DISPLAY_HZ, LOOP_WARM_UP);
        window("wall", &mut put, &mut || {
            Some(display.run(&streams, Mode::Wall, DISPLAY_HZ, WINDOW))
        });
        window("upload60", &mut put, &mut || {
            Some(display.run(&streams, Mode::Upload, 60.0, AGE_WINDOW))
        });
    }
    let builds: u64 = streams.iter().map(|s| s.builds()).sum();
    put("rebuilds", (builds - n as u64).to_string());
    drop(streams);
    let line: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", line.join("\t"));
}

// ---------------------------------------------------------------------------------------------

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        console_child(&spec);
        return;
    }
    let started = Instant::now();
    let clips: Vec<(String, PathBuf)> = RESOLUTIONS
        .iter()
        .map(|r| (r.name.to_owned(), clip(r)))
        .collect();
    let server = Server::start(&clips);
    let idle_rss = bare_idle_rss();
    let decoder = Mutex::new(String::new());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "{cores} cores; clips: H.264 main, {FPS} fps, a key frame a second; windows of {} s after {} s of warm-up; uploads and the wall at {DISPLAY_HZ} Hz (as a live camera tile redraws), the wall {}x{} px",
        WINDOW.as_secs(),
        WARM_UP.as_secs(),
        TARGET[0],
        TARGET[1]
    );
    // CPU per stream in % of one core.
    let pct = |m: &Measured, n: usize| m.cpu / m.window / n as f64 * 100.0;
    let mark = |ok: bool| if ok { " ✓" } else { " ✗" };
    let mut details = Vec::new();
    for (r, (name, path)) in RESOLUTIONS.iter().zip(&clips) {
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let mbps = bytes as f64 * 8.0 / f64::from(CLIP_SECS) / 1e6;
        let url = server.url(name);
        let mut cpu_rows = Vec::new();
        let mut age_rows = Vec::new();
        // Resident memory of 1 and 16 streams: (bare, console decoding, console decoding + upload).
        let mut rss: HashMap<usize, [u64; 3]> = HashMap::new();
        for n in COUNTS {
            eprintln!("{} × {n} ...", r.name);
            let bare = bare_decode(&url, n, &decoder);
            let Some(con) = console(&url, n) else {
                cpu_rows.push(format!("| {n} | console failed | | | | | | | | | | | |"));
                age_rows.push(format!("| {n} | console failed | | | | | | | | | | | |"));
                continue;
            };
            let bare_pct = pct(&bare, n);
            let bare_fps = bare.fps / n as f64;
            let (Some(up), Some(wall)) = (&con.upload, &con.wall) else {
                cpu_rows.push(format!("| {n} | no wgpu adapter | | | | | | | | | | | |"));
                age_rows.push(format!("| {n} | no wgpu adapter | | | | | | | | | | | |"));
                continue;
            };
            let dec = &con.decode;
            let dec_pct = pct(dec, n);
            let up_pct = pct(up, n);
            let r_up = up_pct / bare_pct;
            let r_frame = (up_pct / (up.fps / n as f64)) / (bare_pct / bare_fps);
            let wall_pct = pct(wall, n);
            cpu_rows.push(format!(
                "| {n} | {bare_pct:.1} % | {bare_fps:.1} | {dec_pct:.1} % | {:.1} | {:.2}x | {up_pct:.1} % | {:.1} | **{r_up:.2}x**{} | {r_frame:.2}x | {wall_pct:.1} % | {:.2}x | {:.1} |",
                dec.fps / n as f64,
                dec_pct / bare_pct,
                con.uploaded_fps[0] / n as f64,
                mark(r_up <= 1.25),
                wall_pct / bare_pct,
                con.uploaded_fps[1] / n as f64,
            ));
            rss.insert(n, [bare.rss_kb, dec.rss_kb, up.rss_kb]);
            let per = |kb: u64, before: u64| kb.saturating_sub(before) as f64 / 1024.0 / n as f64;
            let [a, b, c] = con.age;
            age_rows.push(format!(
                "| {n} | {:.1} ms | **{:.1} ms**{} | {:.2} ms | {:.1} ms | {:.1} ms | {:.0} Hz | {:.1} ms | {:.1} ms | {:.1} | {:.1} MB | {:.1} MB | {:.1} MB |",
                a[0],
                a[1],
                mark(a[1] < 50.0),
                con.upload_ms,
                b[0],
                b[1],
                con.wall_hz,
                c[0],
                c[1],
                con.uploaded_fps[2] / n as f64,
                per(bare.rss_kb, idle_rss),
                per(dec.rss_kb, con.rss_before_kb),
                per(up.rss_kb, con.rss_before_kb),
            ));
            details.push(format!(
                "- {} × {n}: bare decode: {}; console, decoding + upload: {}; console with the wall drawn: {}{}",
                r.name,
                bare.threads,
                up.threads,
                wall.threads,
                if con.rebuilds > 0 {
                    format!(" (**{} stream rebuilds**: numbers suspect)", con.rebuilds)
                } else {
                    String::new()
                }
            ));
        }
        println!();
        println!(
            "{}: {}x{}, {mbps:.1} Mbit/s. CPU per stream in % of one core, frames per second per stream, ratios to the bare decode.",
            r.name, r.width, r.height
        );
        println!();
        println!(
            "| streams | bare decode: CPU | fps | console, decoding: CPU | fps | ratio | console, decoding + upload: CPU | fps uploaded | ratio (≤ 1.25x) | per decoded frame | console with lavapipe drawing the wall: CPU | ratio | fps uploaded |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for row in &cpu_rows {
            println!("{row}");
        }
        println!();
        println!(
            "| streams | frame age at upload p50 | p95 (< 50 ms) | one upload | with lavapipe drawing the wall: age p50 | p95 | wall redraws | uploads at 60 Hz: age p50 | p95 | fps uploaded | RSS per stream: bare decode | console, decoding | console, decoding + upload (textures in RAM on lavapipe) |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for row in &age_rows {
            println!("{row}");
        }
        if let (Some(one), Some(all)) = (rss.get(&1), rss.get(&16)) {
            let slope = |i: usize| all[i].saturating_sub(one[i]) as f64 / 1024.0 / 15.0;
            println!();
            println!(
                "Memory per added stream (1 to 16 streams): bare decode {:.1} MB, console decoding {:.1} MB, console decoding + upload {:.1} MB.",
                slope(0),
                slope(1),
                slope(2)
            );
        }
    }
    println!();
    println!(
        "Decoder: {}. Where the CPU went (threads by what they do, % of the process):",
        decoder.lock().unwrap()
    );
    println!();
    for d in &details {
        println!("{d}");
    }

    println!();
    println!("({:.0} s in all)", started.elapsed().as_secs_f64());
}
