//! Camera streams over HTTP: MJPEG (`multipart/x-mixed-replace`) and HLS served by a real HTTP
//! server on loopback, read by `probe` and by a `CameraStream` the way a camera tile reads them.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use ioc_console::video::stream::{
    CameraStream, DecodedFrame, Recovery, StreamState, live_pipelines,
};
use ioc_console::video::yuv::{Layout, Matrix, Range};
use ioc_console::video::{OpenOptions, Transport, VideoError, probe};

use crate::video::turn;

const BOUNDARY: &str = "ioc-frame";
const USER: &str = "op";
const PASSWORD: &str = "s3cret-pw";
/// `Basic` credentials of USER:PASSWORD (base64 of "op:s3cret-pw").
const BASIC: &str = "Basic b3A6czNjcmV0LXB3";

fn opts() -> OpenOptions {
    OpenOptions {
        transport: Transport::Tcp,
        latency: Duration::from_millis(200),
        first_frame_timeout: Duration::from_secs(20),
    }
}

/// Ten JPEG pictures of a red 320×240 test picture, made by GStreamer's encoder as a camera
/// makes them: 4:2:0, full-range BT.601 (JPEG's colorimetry) converted from R'G'B'.
fn red_jpegs() -> Vec<Bytes> {
    ioc_console::video::init().unwrap();
    let pipeline = gst::parse::launch(
        "videotestsrc num-buffers=10 pattern=red ! video/x-raw,format=RGB,width=320,height=240 \
         ! videoconvert ! video/x-raw,format=I420,colorimetry=1:4:0:0 ! jpegenc ! appsink name=sink sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut jpegs = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(20)) {
        let map = sample.buffer().unwrap().map_readable().unwrap();
        jpegs.push(Bytes::copy_from_slice(map.as_slice()));
    }
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(jpegs.len(), 10, "the pictures are encoded");
    assert!(jpegs.iter().all(|j| j.starts_with(&[0xFF, 0xD8])));
    jpegs
}

/// A four-second H.264 clip cut into one-second MPEG-TS segments, with a finished playlist
/// (`#EXT-X-ENDLIST`), in `dir`.
fn hls_clip(dir: &std::path::Path) {
    ioc_console::video::init().unwrap();
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc num-buffers=60 pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 \
         ! openh264enc gop-size=15 ! h264parse \
         ! hlssink2 target-duration=1 playlist-length=0 max-files=0 location={}/seg%05d.ts playlist-location={}/playlist.m3u8",
        dir.display(),
        dir.display()
    ))
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let msg = pipeline
        .bus()
        .unwrap()
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(30),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the clip is written");
    assert!(matches!(msg.view(), gst::MessageView::Eos(_)), "{msg:?}");
    pipeline.set_state(gst::State::Null).unwrap();
    let playlist = std::fs::read_to_string(dir.join("playlist.m3u8")).unwrap();
    assert!(playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
    assert!(playlist.matches(".ts").count() >= 3, "{playlist}");
}

/// An HTTP server on loopback, on its own runtime: dropping it closes the listener and every
/// connection at once (an endless MJPEG answer would hold up a graceful shutdown).
struct HttpServer {
    runtime: Option<tokio::runtime::Runtime>,
    port: u16,
}

impl HttpServer {
    /// Serves `app` on 127.0.0.1:`port` (0: any free port).
    fn start(app: Router, port: u16) -> HttpServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move { axum::serve(listener, app).await });
        HttpServer {
            runtime: Some(runtime),
            port,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // Drops every task, the listener's and the connections', before returning.
        drop(self.runtime.take());
    }
}

/// An endless `multipart/x-mixed-replace` answer: the pictures in turn at 10 per second, until
/// the client goes.
fn mjpeg_answer(jpegs: Arc<Vec<Bytes>>) -> Response {
    let parts = futures_util::stream::unfold(0usize, move |i| {
        let jpegs = Arc::clone(&jpegs);
        async move {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let jpeg = &jpegs[i % jpegs.len()];
            let mut part = format!(
                "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                jpeg.len()
            )
            .into_bytes();
            part.extend_from_slice(jpeg);
            part.extend_from_slice(b"\r\n");
            Some((Ok::<_, Infallible>(Bytes::from(part)), i + 1))
        }
    });
    (
        [(
            header::CONTENT_TYPE,
            format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
        )],
        Body::from_stream(parts),
    )
        .into_response()
}

type Jpegs = Arc<Vec<Bytes>>;

/// `/mjpeg`, and `/secure/mjpeg` behind Basic authentication; anything else is 404.
fn mjpeg_camera(jpegs: Arc<Vec<Bytes>>) -> Router {
    Router::new()
        .route(
            "/mjpeg",
            get(|State(j): State<Jpegs>| async move { mjpeg_answer(j) }),
        )
        .route(
            "/secure/mjpeg",
            get(|State(j): State<Jpegs>, headers: HeaderMap| async move {
                let authorised = headers
                    .get(header::AUTHORIZATION)
                    .is_some_and(|v| v.as_bytes() == BASIC.as_bytes());
                if authorised {
                    mjpeg_answer(j)
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Basic realm=\"camera\"")],
                    )
                        .into_response()
                }
            }),
        )
        .with_state(jpegs)
}

/// The files of `dir` under `/live/`, with the types HLS servers give them.
fn hls_server(dir: PathBuf) -> Router {
    Router::new()
        .route(
            "/live/{file}",
            get(
                |State(dir): State<Arc<PathBuf>>, Path(file): Path<String>| async move {
                    let kind = if file.ends_with(".m3u8") {
                        "application/vnd.apple.mpegurl"
                    } else {
                        "video/mp2t"
                    };
                    let body = (!file.contains("..")).then(|| std::fs::read(dir.join(&file)));
                    match body {
                        Some(Ok(body)) => ([(header::CONTENT_TYPE, kind)], body).into_response(),
                        _ => StatusCode::NOT_FOUND.into_response(),
                    }
                },
            ),
        )
        .with_state(Arc::new(dir))
}

/// The Y, Cb and Cr codes at (x, y) of a decoded frame, read through its strides and offsets.
fn ycbcr_at(f: &DecodedFrame, x: u32, y: u32) -> [u8; 3] {
    let at = |plane: usize, col: u32, row: u32| {
        f.data[f.offsets[plane] + (row * f.strides[plane] + col) as usize]
    };
    let (cx, cy) = (x / 2, y / 2);
    match f.layout {
        Layout::I420 => [at(0, x, y), at(1, cx, cy), at(2, cx, cy)],
        Layout::Nv12 => [at(0, x, y), at(1, 2 * cx, cy), at(1, 2 * cx + 1, cy)],
    }
}

/// R'G'B' (0-255) of Y'CbCr codes under the frame's declared matrix and range.
fn rgb_of(f: &DecodedFrame, [y, cb, cr]: [u8; 3]) -> [f64; 3] {
    let (kr, kb) = match f.matrix {
        Matrix::Bt601 => (0.299, 0.114),
        Matrix::Bt709 => (0.2126, 0.0722),
    };
    let (y, cb, cr) = (f64::from(y), f64::from(cb) - 128.0, f64::from(cr) - 128.0);
    let (y, cb, cr) = match f.range {
        Range::Limited => (
            (y - 16.0) * 255.0 / 219.0,
            cb * 255.0 / 224.0,
            cr * 255.0 / 224.0,
        ),
        Range::Full => (y, cb, cr),
    };
    let r = y + 2.0 * (1.0 - kr) * cr;
    let b = y + 2.0 * (1.0 - kb) * cb;
    let g = (y - kr * r - kb * b) / (1.0 - kr - kb);
    [r, g, b]
}

/// The frame's planes are where its strides and offsets say, and hold a 320×240 picture.
fn assert_planes_of_320x240(f: &DecodedFrame) {
    assert_eq!((f.width, f.height), (320, 240));
    assert!(f.strides[0] >= 320, "{:?}", f.strides);
    let chroma_planes: &[usize] = match f.layout {
        Layout::I420 => {
            assert!(
                f.strides[1] >= 160 && f.strides[2] >= 160,
                "{:?}",
                f.strides
            );
            &[1, 2]
        }
        Layout::Nv12 => {
            assert!(f.strides[1] >= 320, "{:?}", f.strides);
            &[1]
        }
    };
    assert!(
        f.offsets[1] >= f.offsets[0] + (f.strides[0] * 240) as usize,
        "{:?} {:?}",
        f.offsets,
        f.strides
    );
    for &p in chroma_planes {
        let end = f.offsets[p] + (f.strides[p] * 120) as usize;
        assert!(
            f.data.len() >= end,
            "plane {p} ends at {end}, the frame holds {} bytes",
            f.data.len()
        );
    }
}

#[test]
fn an_mjpeg_camera_over_http_is_probed_and_streamed_in_colour() {
    let _turn = turn();
    let server = HttpServer::start(mjpeg_camera(Arc::new(red_jpegs())), 0);
    let url = server.url("/mjpeg");

    let r = probe(&url, 1.0, &opts()).unwrap();
    assert_eq!(r.codec, "JPEG");
    assert_eq!((r.width, r.height), (320, 240));
    assert!(r.frames >= 3, "{} frames in a second", r.frames);
    // Sent at 10 a second: they arrive paced, not in one burst.
    assert!((3.0..=20.0).contains(&r.measured_fps), "{}", r.measured_fps);
    assert!(!r.decoder.is_empty());

    let stream = CameraStream::start(&url, opts(), Recovery::default()).unwrap();
    assert!(
        stream.wait_for(Duration::from_secs(20), |s, n| *s == StreamState::Live
            && n >= 3),
        "live: {:?}",
        stream.state()
    );
    let frame = stream.frame().unwrap();
    assert_planes_of_320x240(&frame);
    // The centre of a red picture: strong Cr, weak Cb, the luma of red; red again in R'G'B'
    // under the colorimetry the frame declares.
    let yuv = ycbcr_at(&frame, 160, 120);
    let [y, cb, cr] = yuv;
    assert!((60..=100).contains(&y), "Y'CbCr {yuv:?}");
    assert!(cb < 110, "Y'CbCr {yuv:?}");
    assert!(cr > 200, "Y'CbCr {yuv:?}");
    let rgb = rgb_of(&frame, yuv);
    assert!(
        rgb[0] > 200.0 && rgb[1] < 50.0 && rgb[2] < 50.0,
        "{rgb:?} from {yuv:?} ({:?}, {:?})",
        frame.matrix,
        frame.range
    );
    drop(stream);
    assert_eq!(live_pipelines(), 0);
}

#[test]
fn an_mjpeg_camera_over_http_goes_away_and_comes_back() {
    let _turn = turn();
    let jpegs = Arc::new(red_jpegs());
    let server = HttpServer::start(mjpeg_camera(Arc::clone(&jpegs)), 0);
    let port = server.port;
    let stream = CameraStream::start(
        &server.url("/mjpeg"),
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

    let _server = HttpServer::start(mjpeg_camera(jpegs), port);
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
fn http_answers_are_told_apart_and_credentials_never_show() {
    let _turn = turn();
    let server = HttpServer::start(mjpeg_camera(Arc::new(red_jpegs())), 0);
    let with = |user: &str, password: &str, path: &str| {
        format!("http://{user}:{password}@127.0.0.1:{}{path}", server.port)
    };

    // The right credentials in the URL open the camera, and stay out of the report.
    let ok = probe(&with(USER, PASSWORD, "/secure/mjpeg"), 0.5, &opts()).unwrap();
    assert!(ok.frames > 0);
    assert!(!ok.url.contains(PASSWORD), "{}", ok.url);

    let wrong = probe(&with(USER, "wrong-pw", "/secure/mjpeg"), 0.5, &opts()).unwrap_err();
    assert_eq!(wrong, VideoError::Auth);
    let none = probe(&server.url("/secure/mjpeg"), 0.5, &opts()).unwrap_err();
    assert_eq!(none, VideoError::Auth);
    let missing = probe(&with(USER, PASSWORD, "/nowhere"), 0.5, &opts()).unwrap_err();
    assert_eq!(missing, VideoError::NotFound);

    let port = server.port;
    drop(server);
    let dead = probe(
        &format!("http://{USER}:{PASSWORD}@127.0.0.1:{port}/secure/mjpeg"),
        0.5,
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(dead, VideoError::Network(_)), "{dead:?}");
    assert!(!dead.detail().contains(PASSWORD), "{}", dead.detail());
    assert!(!dead.to_string().contains(PASSWORD), "{dead}");
}

#[test]
fn an_hls_stream_over_http_is_probed_and_goes_live() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    hls_clip(dir.path());
    let server = HttpServer::start(hls_server(dir.path().to_owned()), 0);
    let url = server.url("/live/playlist.m3u8");

    let r = probe(&url, 1.0, &opts()).unwrap();
    assert_eq!(r.codec, "H.264");
    assert_eq!((r.width, r.height), (320, 240));
    assert!(r.frames > 0);
    assert!(!r.decoder.is_empty());

    // The playlist is finished: the stream ends and reconnects, after going live.
    let stream = CameraStream::start(&url, opts(), Recovery::default()).unwrap();
    assert!(
        stream.wait_for(Duration::from_secs(20), |_, n| n >= 1),
        "live: {:?}",
        stream.state()
    );
    let frame = stream.frame().unwrap();
    assert_planes_of_320x240(&frame);
    drop(stream);
    assert_eq!(live_pipelines(), 0);
}
