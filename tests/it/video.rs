//! Camera streams (issue 4, first part): `probe` against a real RTSP server on loopback.

use std::time::Duration;

use ioc_console::video::rtsp_server::{Mount, Picture, RtspServer};
use ioc_console::video::{OpenOptions, Transport, VideoError, probe, redact};

fn mount(path: &str, picture: Picture) -> Mount {
    Mount {
        path: path.into(),
        picture,
        width: 320,
        height: 240,
        fps: 15,
    }
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
    assert_eq!(redact("/srv/video/cam.mp4"), "/srv/video/cam.mp4");
}

#[test]
fn the_probe_command_reports_a_camera_and_fails_clearly() {
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
