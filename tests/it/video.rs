//! Camera streams (issue 4, first part): `probe` against a real RTSP server on loopback.

use std::time::Duration;

use ioc_console::util::redact::redact;
use ioc_console::video::rtsp_server::{Mount, Picture, RtspServer};
use ioc_console::video::{OpenOptions, Transport, VideoError, probe};

fn mount(path: &str, picture: Picture) -> Mount {
    Mount {
        path: path.into(),
        picture,
        width: 320,
        height: 240,
        fps: 15,
        label: None,
        pattern: "ball",
    }
}

/// Tests that run pipelines take turns: some count the process's pipelines and threads (and
/// under plain `cargo test` all tests share one process).
static PIPELINE_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn turn() -> std::sync::MutexGuard<'static, ()> {
    PIPELINE_TESTS.lock().unwrap_or_else(|p| p.into_inner())
}

fn opts() -> OpenOptions {
    OpenOptions {
        transport: Transport::Tcp,
        latency: Duration::from_millis(200),
        first_frame_timeout: Duration::from_secs(20),
    }
}

#[test]
fn probe_reads_h264_and_jpeg_cameras_over_rtsp() {
    let _turn = turn();
    let server = RtspServer::start(
        &[
            mount("/cam/main", Picture::H264),
            mount("/cam/mjpeg", Picture::Jpeg),
        ],
        None,
    )
    .unwrap();
    let r = probe(&server.url("/cam/main", None), 1.0, &opts()).unwrap();
    assert_eq!(r.codec, "H.264");
    assert_eq!((r.width, r.height), (320, 240));
    // RTP declares no frame rate: it is measured.
    assert!((8.0..=20.0).contains(&r.measured_fps), "{}", r.measured_fps);
    assert!(r.frames >= 5, "{} frames in a second", r.frames);
    assert!(!r.decoder.is_empty());
    let j = probe(&server.url("/cam/mjpeg", None), 0.5, &opts()).unwrap();
    assert_eq!(j.codec, "JPEG");
    assert!(j.frames >= 2);
    // UDP first (falling back to TCP where UDP is blocked).
    let auto = OpenOptions {
        transport: Transport::Auto,
        ..opts()
    };
    assert!(
        probe(&server.url("/cam/main", None), 0.5, &auto)
            .unwrap()
            .frames
            > 0
    );
}

#[test]
fn wrong_path_credentials_and_dead_servers_are_told_apart() {
    let _turn = turn();
    let server =
        RtspServer::start(&[mount("/secure", Picture::H264)], Some(("op", "s3cret!"))).unwrap();
    let ok = probe(
        &server.url("/secure", Some(("op", "s3cret!"))),
        0.5,
        &opts(),
    )
    .unwrap();
    assert!(ok.frames > 0);
    assert!(!ok.url.contains("s3cret"), "{}", ok.url);

    let bad = probe(&server.url("/secure", Some(("op", "wrong"))), 0.5, &opts()).unwrap_err();
    assert_eq!(bad, VideoError::Auth);
    let missing = probe(
        &server.url("/nowhere", Some(("op", "s3cret!"))),
        0.5,
        &opts(),
    )
    .unwrap_err();
    assert_eq!(missing, VideoError::NotFound);

    let port = server.port();
    drop(server);
    let dead = probe(
        &format!("rtsp://op:s3cret!@127.0.0.1:{port}/secure"),
        0.5,
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(dead, VideoError::Network(_)), "{dead:?}");
    assert!(!dead.to_string().contains("s3cret"), "{dead}");
}

#[test]
fn credentials_never_leave_a_url() {
    assert_eq!(
        redact("rtsp://admin:p@ss@10.0.0.5:554/Streaming/101"),
        "rtsp://***@10.0.0.5:554/Streaming/101"
    );
    assert_eq!(redact("rtsp://10.0.0.5/x"), "rtsp://10.0.0.5/x");
    // Passwords with '#', '/', '?' or an encoded '@'; secrets in the query of MJPEG CGIs.
    assert_eq!(
        redact("rtsp://admin:Pass#123@10.0.0.5/ch1"),
        "rtsp://***@10.0.0.5/ch1"
    );
    assert_eq!(
        redact("rtsp://admin:a/b?c@10.0.0.5/ch1"),
        "rtsp://***@10.0.0.5/ch1"
    );
    assert_eq!(
        redact("rtsp://admin:p%40ss@10.0.0.5/ch1"),
        "rtsp://***@10.0.0.5/ch1"
    );
    assert_eq!(
        redact("http://10.0.0.7/videostream.cgi?user=admin&pwd=bi-mat&rate=0"),
        "http://10.0.0.7/videostream.cgi?user=***&pwd=***&rate=0"
    );
    assert_eq!(redact("/srv/video/cam.mp4"), "/srv/video/cam.mp4");
}

#[test]
fn the_probe_command_reports_a_camera_and_fails_clearly() {
    let _turn = turn();
    let server = RtspServer::start(
        &[mount("/cam/main", Picture::H264)],
        Some(("kt", "matkhau")),
    )
    .unwrap();
    let run = |url: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
            .args(["--lang", "vi", "probe", &url, "--seconds", "1", "--tcp"])
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .unwrap()
    };
    let ok = run(server.url("/cam/main", Some(("kt", "matkhau"))));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.contains("Mã hóa: H.264 · 320×240"), "{out}");
    assert!(out.contains("Bộ giải mã: "), "{out}");
    assert!(out.contains("Khung hình đầu tiên sau: "), "{out}");
    assert!(!out.contains("matkhau"), "{out}");

    let bad = run(server.url("/cam/sub", Some(("kt", "matkhau"))));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(5), "{err}");
    assert!(err.contains("sai đường dẫn"), "{err}");
    assert!(!err.contains("matkhau"), "{err}");
    let denied = run(server.url("/cam/main", Some(("kt", "sai"))));
    assert_eq!(denied.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("xác thực thất bại"));
}

#[test]
fn probe_reads_a_local_file() {
    let _turn = turn();
    use gstreamer::prelude::*;
    ioc_console::video::init().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clip.mkv");
    let pipeline = gstreamer::parse::launch(&format!(
        "videotestsrc num-buffers=45 ! video/x-raw,format=I420,width=352,height=288,framerate=15/1 ! openh264enc ! h264parse ! matroskamux ! filesink location={}",
        file.display()
    ))
    .unwrap();
    pipeline.set_state(gstreamer::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gstreamer::ClockTime::from_seconds(30),
            &[gstreamer::MessageType::Eos, gstreamer::MessageType::Error],
        )
        .expect("the clip is written");
    assert!(matches!(msg.view(), gstreamer::MessageView::Eos(_)));
    pipeline.set_state(gstreamer::State::Null).unwrap();

    let r = probe(file.to_str().unwrap(), 0.5, &opts()).unwrap();
    assert_eq!(r.codec, "H.264");
    assert_eq!((r.width, r.height), (352, 288));
    assert!(
        (r.fps - 15.0).abs() < 0.01,
        "a file declares its frame rate: {}",
        r.fps
    );
    assert_eq!(
        probe("/no/such/clip.mkv", 0.5, &opts()).unwrap_err(),
        VideoError::NotFound
    );
}

// --- YUV to RGB on the GPU ------------------------------------------------------------------

use ioc_console::video::yuv::{Frame, Layout, Matrix, Range, YuvRenderer};

/// 100 % colour bars.
const BARS: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

/// R'G'B' (0-255) to Y'CbCr codes, written here from the standards' formulas (not the shader's).
fn ycbcr(rgb: [u8; 3], matrix: Matrix, range: Range) -> [u8; 3] {
    let (kr, kb) = match matrix {
        Matrix::Bt601 => (0.299, 0.114),
        Matrix::Bt709 => (0.2126, 0.0722),
    };
    let [r, g, b] = rgb.map(|c| f64::from(c) / 255.0);
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let cb = (b - y) / (2.0 * (1.0 - kb));
    let cr = (r - y) / (2.0 * (1.0 - kr));
    let q = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    match range {
        Range::Limited => [
            q(16.0 + 219.0 * y),
            q(128.0 + 224.0 * cb),
            q(128.0 + 224.0 * cr),
        ],
        Range::Full => [q(255.0 * y), q(128.0 + 255.0 * cb), q(128.0 + 255.0 * cr)],
    }
}

/// A bar frame of odd width whose planes are padded like a decoder pads them: rows longer than
/// the picture, more rows than the picture, garbage in the padding.
fn bar_frame(
    width: u32,
    height: u32,
    layout: Layout,
    matrix: Matrix,
    range: Range,
) -> (Vec<u8>, [u32; 3], [usize; 3]) {
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let y_stride = width.next_multiple_of(64) + 16;
    let c_stride = match layout {
        Layout::Nv12 => y_stride,
        Layout::I420 => (cw + 40).next_multiple_of(16),
    };
    let padded_rows = height.next_multiple_of(16) + 16;
    let y_size = (y_stride * padded_rows) as usize;
    let c_size = (c_stride * padded_rows.div_ceil(2)) as usize;
    let mut data = vec![0xAAu8; y_size + 2 * c_size + 7];
    let offsets = [3, 3 + y_size, 3 + y_size + c_size];
    let bar = |x: u32| BARS[(x * 8 / width) as usize];
    for row in 0..height {
        for x in 0..width {
            data[offsets[0] + (row * y_stride + x) as usize] = ycbcr(bar(x), matrix, range)[0];
        }
    }
    for row in 0..ch {
        for x in 0..cw {
            let [_, cb, cr] = ycbcr(bar((2 * x).min(width - 1)), matrix, range);
            match layout {
                Layout::Nv12 => {
                    let at = offsets[1] + (row * c_stride + 2 * x) as usize;
                    data[at] = cb;
                    data[at + 1] = cr;
                }
                Layout::I420 => {
                    data[offsets[1] + (row * c_stride + x) as usize] = cb;
                    data[offsets[2] + (row * c_stride + x) as usize] = cr;
                }
            }
        }
    }
    (data, [y_stride, c_stride, c_stride], offsets)
}

#[test]
fn the_yuv_shader_renders_colour_bars_for_bt601_and_bt709() {
    use egui_wgpu::wgpu;
    let (device, queue, _) = ioc_console::ui::offscreen::gpu().expect("a GPU or lavapipe");
    let renderer = YuvRenderer::new(&device, wgpu::TextureFormat::Rgba8Unorm);
    let (width, height) = (321u32, 181u32);
    for (layout, matrix, range) in [
        (Layout::I420, Matrix::Bt601, Range::Limited),
        (Layout::Nv12, Matrix::Bt601, Range::Limited),
        (Layout::Nv12, Matrix::Bt709, Range::Limited),
        (Layout::I420, Matrix::Bt709, Range::Full),
    ] {
        let (data, strides, offsets) = bar_frame(width, height, layout, matrix, range);
        let frame = Frame {
            data: &data,
            width,
            height,
            layout,
            strides,
            offsets,
            matrix,
            range,
        };
        let mut slot = None;
        renderer.upload(&device, &queue, &mut slot, &frame).unwrap();
        let target = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("bars"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = target.create_view(&wgpu::TextureViewDescriptor::default());
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = ioc_console::ui::offscreen::clear_pass(&mut encoder, &view, "bars");
            renderer.draw(&mut pass, slot.as_ref().unwrap());
        }
        let image =
            ioc_console::ui::offscreen::read_back(&device, &queue, encoder, Vec::new(), &target)
                .unwrap();
        for (i, want) in BARS.iter().enumerate() {
            // The middle of the bar, on a middle row.
            let x = (width * (2 * i as u32 + 1)) / 16;
            let got = image.get_pixel(x, height / 2).0;
            for c in 0..3 {
                assert!(
                    (i32::from(got[c]) - i32::from(want[c])).abs() <= 3,
                    "{layout:?} {matrix:?} {range:?}: bar {i} at x={x}: got {got:?}, want {want:?}"
                );
            }
        }
        // The last column and row come from the picture, not from the padding (0xAA).
        let edge = image.get_pixel(width - 1, height - 1).0;
        assert!(edge[..3].iter().all(|c| *c <= 3), "{layout:?}: {edge:?}");
    }
}

#[test]
fn frames_that_do_not_hold_their_planes_are_refused() {
    use ioc_console::video::yuv::FrameError;
    let (data, strides, offsets) = bar_frame(64, 32, Layout::I420, Matrix::Bt709, Range::Limited);
    let frame = Frame {
        data: &data[..data.len() / 2],
        width: 64,
        height: 32,
        layout: Layout::I420,
        strides,
        offsets,
        matrix: Matrix::Bt709,
        range: Range::Limited,
    };
    let (device, queue, _) = ioc_console::ui::offscreen::gpu().expect("a GPU or lavapipe");
    let renderer = YuvRenderer::new(&device, egui_wgpu::wgpu::TextureFormat::Rgba8Unorm);
    let mut slot = None;
    assert!(matches!(
        renderer.upload(&device, &queue, &mut slot, &frame),
        Err(FrameError::Short { .. })
    ));
    let narrow = Frame {
        data: &data,
        strides: [8, 8, 8],
        ..frame
    };
    assert!(matches!(
        renderer.upload(&device, &queue, &mut slot, &narrow),
        Err(FrameError::Stride { plane: 0, .. })
    ));
}

// --- A stream that keeps itself alive --------------------------------------------------------

use ioc_console::video::stream::{CameraStream, Recovery, StreamState, live_pipelines};

#[path = "../../benches/common/proc.rs"]
mod proc_info;

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    proc_info::rss_kb("self")
}

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

#[test]
fn a_camera_goes_live_loses_its_server_reconnects_and_comes_back() {
    let _turn = turn();
    let server = RtspServer::start(&[mount("/cam/main", Picture::H264)], None).unwrap();
    let port = server.port();
    let url = server.url("/cam/main", None);
    let stream = CameraStream::start(
        &url,
        opts(),
        Recovery {
            first_frame: Duration::from_secs(15),
            watchdog: Duration::from_secs(3),
            first_retry: Duration::from_millis(200),
            last_retry: Duration::from_secs(1),
        },
    )
    .unwrap();
    assert!(
        stream.wait_for(Duration::from_secs(20), |s, n| *s == StreamState::Live
            && n >= 3),
        "live: {:?}",
        stream.state()
    );
    let frame = stream.frame().unwrap();
    assert_eq!((frame.width, frame.height), (320, 240));
    assert!(frame.strides[0] >= 320);
    let before = stream.frames();

    drop(server);
    let mut seen = Vec::new();
    assert!(
        stream.wait_for(Duration::from_secs(20), |s, _| {
            if seen.last().map(std::mem::discriminant) != Some(std::mem::discriminant(s)) {
                seen.push(s.clone());
            }
            matches!(s, StreamState::Reconnecting { .. })
        }),
        "reconnecting: {seen:?}"
    );
    // The last picture is kept while the camera is away.
    assert!(stream.frame().is_some());

    let _server = RtspServer::start_on(&[mount("/cam/main", Picture::H264)], None, port).unwrap();
    assert!(
        stream.wait_for(Duration::from_secs(30), |s, n| *s == StreamState::Live
            && n > before + 3),
        "back: {:?}",
        stream.state()
    );
    assert!(stream.builds() >= 2);
    drop(stream);
    assert_eq!(live_pipelines(), 0);
}

#[test]
fn two_hundred_reconnects_leave_no_pipelines_or_threads_behind() {
    let _turn = turn();
    // A port nobody listens on: every attempt fails at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    ioc_console::video::init().unwrap();
    let stream = CameraStream::start(
        &format!("rtsp://user:pw@127.0.0.1:{port}/cam"),
        opts(),
        Recovery {
            first_frame: Duration::from_secs(15),
            watchdog: Duration::from_secs(2),
            first_retry: Duration::from_millis(1),
            last_retry: Duration::from_millis(2),
        },
    )
    .unwrap();
    let mut counts = Vec::new();
    let mut next = 10;
    assert!(
        stream.wait_for(Duration::from_secs(120), |s, _| {
            if let StreamState::Reconnecting { attempts, .. } = s
                && *attempts >= next
            {
                counts.push((live_pipelines(), threads(), rss_kib()));
                next += 10;
            }
            next > 200
        }),
        "200 reconnects: {:?}",
        stream.state()
    );
    // Between attempts: no pipeline left, and the threads do not pile up.
    assert!(counts.iter().all(|(p, _, _)| *p == 0), "{counts:?}");
    let settled = counts[2].1;
    assert!(
        counts
            .iter()
            .skip(2)
            .all(|(_, t, _)| t.abs_diff(settled) <= 2),
        "threads across reconnects: {counts:?}"
    );
    // Nor does memory: a pipeline (uridecodebin, rtspsrc) left behind per attempt would add
    // megabytes over these 170 attempts.
    let (from, to) = (counts[2].2, counts[counts.len() - 1].2);
    assert!(from > 0, "resident memory could not be read");
    assert!(
        to.saturating_sub(from) < 16 * 1024,
        "resident memory grew from {from} KiB to {to} KiB across reconnects"
    );
    drop(stream);
    assert_eq!(live_pipelines(), 0);
    // The stream's own thread is gone. (GStreamer's process-wide threads, the system clock's
    // and the task pool's, appear with the first pipeline and stay: they are not per stream.)
    assert!(
        threads() < settled,
        "{} after, {settled} while running",
        threads()
    );
}

// --- The demo's cameras ----------------------------------------------------------------------

#[test]
fn the_demo_serves_its_cameras_and_a_dark_camera_goes_off_the_air() {
    let _turn = turn();
    use ioc_console::sim::cameras::{DemoCameras, mounts};
    use ioc_console::sim::data::DemoData;
    let data = DemoData::embedded().unwrap();
    let specs = &data.cameras.cameras;
    let all = mounts(specs);
    let h264 = specs.iter().filter(|c| c.codec == "h264").count();
    let mjpeg = specs.iter().filter(|c| c.codec == "mjpeg").count();
    assert!(
        h264 >= 9 && mjpeg >= 1,
        "{h264} H.264 and {mjpeg} MJPEG cameras"
    );
    assert_eq!(all.len(), 2 * h264 + mjpeg);
    // Each carries its name and a clock.
    assert!(all.iter().all(|m| m.launch().contains("clockoverlay")));

    let cams = DemoCameras::start(specs).unwrap();
    let h = specs.iter().find(|c| c.codec == "h264").unwrap();
    let j = specs.iter().find(|c| c.codec == "mjpeg").unwrap();
    let sub = probe(&format!("{}/{}/sub", cams.base(), h.id), 0.5, &opts()).unwrap();
    assert_eq!(
        (sub.codec.as_str(), sub.width, sub.height),
        ("H.264", 640, 360)
    );
    let main = probe(&format!("{}/{}/main", cams.base(), h.id), 0.3, &opts()).unwrap();
    assert_eq!((main.width, main.height), (1280, 720));
    let jpeg = probe(&format!("{}/{}/main", cams.base(), j.id), 0.3, &opts()).unwrap();
    assert_eq!(jpeg.codec, "JPEG");

    // Dark: a watcher loses the picture, a new viewer is told it is not there; back: live.
    let url = format!("{}/{}/sub", cams.base(), h.id);
    let stream = CameraStream::start(
        &url,
        opts(),
        Recovery {
            first_frame: Duration::from_secs(15),
            watchdog: Duration::from_secs(2),
            first_retry: Duration::from_millis(200),
            last_retry: Duration::from_millis(500),
        },
    )
    .unwrap();
    assert!(
        stream.wait_for(Duration::from_secs(20), |s, n| *s == StreamState::Live
            && n > 2)
    );
    cams.set_on_air(&h.id, false);
    cams.settle();
    assert!(
        stream.wait_for(Duration::from_secs(20), |s, _| matches!(
            s,
            StreamState::Reconnecting { .. }
        )),
        "{:?}",
        stream.state()
    );
    assert_eq!(probe(&url, 0.3, &opts()).unwrap_err(), VideoError::NotFound);
    let before = stream.frames();
    cams.set_on_air(&h.id, true);
    cams.settle();
    assert!(
        stream.wait_for(Duration::from_secs(30), |s, n| *s == StreamState::Live
            && n > before),
        "{:?}",
        stream.state()
    );
}

#[test]
fn frames_from_a_camera_reach_the_picture_drawn_in_egui() {
    let _turn = turn();
    let coloured = |path: &str, pattern: &'static str| Mount {
        pattern,
        ..mount(path, Picture::H264)
    };
    let server = RtspServer::start(
        &[coloured("/white", "white"), coloured("/red", "red")],
        None,
    )
    .unwrap();
    let mut offscreen =
        ioc_console::ui::offscreen::OffscreenRenderer::new().expect("a GPU or lavapipe");
    for (path, want) in [("/white", [255u8, 255, 255]), ("/red", [255, 0, 0])] {
        let stream =
            CameraStream::start(&server.url(path, None), opts(), Recovery::default()).unwrap();
        assert!(
            stream.wait_for(Duration::from_secs(20), |s, n| *s == StreamState::Live
                && n >= 2),
            "{path}: {:?}",
            stream.state()
        );
        let frame = stream.frame().unwrap();
        // A 4:3 picture letterboxed into a wide tile on a black wall.
        let tile = egui::Rect::from_min_size(egui::pos2(20.0, 10.0), egui::vec2(240.0, 120.0));
        let image = offscreen
            .render([280, 140], |ui| {
                ui.painter()
                    .rect_filled(ui.max_rect(), 0.0, egui::Color32::BLACK);
                ioc_console::video::paint::paint_video(ui.painter(), tile, 7, frame.clone());
            })
            .unwrap();
        let centre = image.get_pixel(140, 70).0;
        for c in 0..3 {
            assert!(
                (i32::from(centre[c]) - i32::from(want[c])).abs() <= 6,
                "{path}: {centre:?}, want {want:?}"
            );
        }
        // Letterboxed: the picture is 160 wide in the 240-wide tile; beside it, the wall.
        let fitted = ioc_console::video::paint::fit(tile, frame.width, frame.height);
        assert!((fitted.width() - 160.0).abs() < 0.5, "{fitted:?}");
        let beside = image.get_pixel(30, 70).0;
        assert!(beside[..3].iter().all(|c| *c < 10), "{path}: {beside:?}");
    }
}

/// Some H.264 and H.265 cameras send 4:4:4 or 10/12-bit video, which the YUV shader does not
/// take as it is: converted on the way and shown, the probe says so.
#[test]
fn streams_in_formats_the_shader_cannot_take_are_converted_and_shown() {
    use ioc_console::video::converted_on_the_way;
    use ioc_console::video::yuv::{Layout, check};
    let _turn = turn();
    let server = RtspServer::start(
        &[
            mount("/h264-444", Picture::H264Yuv444),
            mount("/h265-10", Picture::H265Main10),
            mount("/h265-444-12", Picture::H265Yuv444Bit12),
        ],
        None,
    )
    .unwrap();
    for (path, codec, decoded) in [
        ("/h264-444", "H.264", "Y444"),
        ("/h265-10", "H.265", "I420_10LE"),
        ("/h265-444-12", "H.265", "Y444_12LE"),
    ] {
        let url = server.url(path, None);
        let r = probe(&url, 0.5, &opts()).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            (r.codec.as_str(), r.format.as_str()),
            (codec, decoded),
            "{path}"
        );
        assert!(converted_on_the_way(&r.format));

        let stream = CameraStream::start(&url, opts(), Recovery::default()).unwrap();
        assert!(
            stream.wait_for(Duration::from_secs(30), |s, n| *s == StreamState::Live
                && n >= 3),
            "{path}: {:?}",
            stream.state()
        );
        let f = stream.frame().unwrap();
        assert_eq!((f.width, f.height), (320, 240), "{path}");
        assert!(matches!(f.layout, Layout::I420 | Layout::Nv12), "{path}");
        check(&f.as_frame()).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        // The test pattern (a white ball on black), not noise: dark and bright luma, little
        // in between.
        let y: Vec<u8> = (0..f.height as usize)
            .flat_map(|row| {
                let start = f.offsets[0] + row * f.strides[0] as usize;
                f.data[start..start + f.width as usize].to_vec()
            })
            .collect();
        let dark = y.iter().filter(|&&v| v < 40).count();
        let bright = y.iter().filter(|&&v| v > 200).count();
        let middle = y.len() - dark - bright;
        assert!(dark > y.len() / 2, "{path}: {dark} dark of {}", y.len());
        assert!(bright > 100, "{path}: {bright} bright");
        assert!(middle < y.len() / 10, "{path}: {middle} in between");
        drop(stream);
    }
    assert_eq!(live_pipelines(), 0);
}

#[test]
fn the_probe_command_says_a_converted_format_in_words() {
    let _turn = turn();
    let server = RtspServer::start(&[mount("/h265-10", Picture::H265Main10)], None).unwrap();
    for (lang, words) in [("vi", "trên CPU"), ("en", "on the processor")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
            .args(["--config", "/dev/null", "--lang", lang, "probe"])
            .arg(server.url("/h265-10", None))
            .args(["--seconds", "0.5", "--tcp"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("I420_10LE") && said.contains(words), "{said}");
    }
}

/// A stream that cannot be had says why in words, in Vietnamese and English, without
/// GStreamer's debug text (source files, functions, element paths).
#[test]
fn failing_streams_are_said_without_gstreamer_debug_text_in_either_language() {
    let dir = tempfile::tempdir().unwrap();
    let not_video = dir.path().join("not-video.mp4");
    std::fs::write(&not_video, "this is not a video file\n".repeat(100)).unwrap();
    let dead = format!("rtsp://127.0.0.1:{}/cam", crate::nats::free_port());
    for url in [dead, not_video.display().to_string()] {
        for lang in ["vi", "en"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
                .args(["--config", "/dev/null", "--lang", lang, "probe", &url])
                .args(["--seconds", "1", "--tcp"])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(5), "{url} {lang}: {err}");
            for code in [".c(", ".c:", "gst_", "GstPipeline", "/Gst", "():", "../"] {
                assert!(!err.contains(code), "{url} {lang}: {err}");
            }
        }
    }
}
