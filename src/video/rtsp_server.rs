//! A real RTSP server on loopback (gst-rtsp-server) serving test pictures: what tests and the
//! probe's checks connect to. Streams are built when a client first asks (nothing is encoded for
//! a mount nobody watches) and shared by all its clients.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, mpsc};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;

use super::VideoError;

/// What a mount serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Picture {
    /// H.264 (openh264enc).
    H264,
    /// Motion JPEG.
    Jpeg,
    /// H.264 High 4:4:4 (x264enc from 8-bit 4:4:4): decoders give Y444, which the GPU path does
    /// not take as it is (some cameras and encoders send it).
    H264Yuv444,
    /// H.265 Main 10 (x265enc from 10-bit 4:2:0): decoders give I420_10LE.
    H265Main10,
    /// H.265 Main 4:4:4 12 (x265enc from 12-bit 4:4:4): decoders give Y444_12LE.
    H265Yuv444Bit12,
}

/// A path on the server and the picture it serves.
#[derive(Clone, Debug, PartialEq)]
pub struct Mount {
    /// e.g. "/cam-01/main".
    pub path: String,
    pub picture: Picture,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Burned into the picture (top left) with a running clock (bottom right), when given.
    pub label: Option<String>,
    /// videotestsrc's pattern: "ball" (moving), "white", "red", "smpte", ...
    pub pattern: &'static str,
}

impl Mount {
    /// The gst-rtsp-server launch line of the mount.
    pub fn launch(&self) -> String {
        let mut raw = format!(
            "videotestsrc is-live=true pattern={} ! video/x-raw,format=I420,width={},height={},framerate={}/1 ! valve name=gate drop=false",
            self.pattern, self.width, self.height, self.fps
        );
        if let Some(label) = &self.label {
            // Quotes and backslashes cannot break out of the launch line's quoted string.
            let text: String = label.chars().filter(|c| !matches!(c, '"' | '\\')).collect();
            let size = (self.height / 40).max(8);
            raw.push_str(&format!(
                " ! textoverlay text=\"{text}\" valignment=top halignment=left shaded-background=true font-desc=\"Sans {size}\" ! clockoverlay time-format=\"%d/%m/%Y %H:%M:%S\" valignment=bottom halignment=right shaded-background=true font-desc=\"Sans {size}\""
            ));
        }
        match self.picture {
            // A key frame every second: a viewer joining mid-stream sees a picture soon.
            Picture::H264 => format!(
                "( {raw} ! openh264enc gop-size={} ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )",
                self.fps.max(1)
            ),
            Picture::Jpeg => format!("( {raw} ! jpegenc ! rtpjpegpay name=pay0 pt=26 )"),
            Picture::H264Yuv444 => format!(
                "( {raw} ! videoconvert ! video/x-raw,format=Y444 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={} ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )",
                self.fps.max(1)
            ),
            Picture::H265Main10 => format!(
                "( {raw} ! videoconvert ! video/x-raw,format=I420_10LE ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max={} ! h265parse ! rtph265pay name=pay0 pt=96 config-interval=1 )",
                self.fps.max(1)
            ),
            Picture::H265Yuv444Bit12 => format!(
                "( {raw} ! videoconvert ! video/x-raw,format=Y444_12LE ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max={} ! h265parse ! rtph265pay name=pay0 pt=96 config-interval=1 )",
                self.fps.max(1)
            ),
        }
    }
}

/// A running server; stopped when dropped.
/// Mounts whose picture is frozen, and the media serving each mount (to freeze them).
#[derive(Clone, Default)]
struct Freezer {
    frozen: Arc<Mutex<HashSet<String>>>,
    media: Arc<Mutex<Vec<MountMedia>>>,
}

/// A mount's path and a media serving it.
type MountMedia = (String, glib::WeakRef<gst::Element>);

impl Freezer {
    fn apply(&self, path: &str, element: &gst::Element) {
        let frozen = lock(&self.frozen).contains(path);
        if let Some(gate) = element
            .downcast_ref::<gst::Bin>()
            .and_then(|b| b.by_name("gate"))
        {
            gate.set_property("drop", frozen);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub struct RtspServer {
    freezer: Freezer,
    port: u16,
    main_loop: glib::MainLoop,
    ctx: glib::MainContext,
    server: rtsp::RTSPServer,
    mounts: Vec<Mount>,
    with_auth: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RtspServer {
    /// Starts a server on a free loopback port, with basic authentication when `credentials`
    /// are given.
    pub fn start(
        mounts: &[Mount],
        credentials: Option<(&str, &str)>,
    ) -> Result<RtspServer, VideoError> {
        Self::start_on(mounts, credentials, 0)
    }

    /// Like [`Self::start`] on a given port (0: any free one), e.g. to bring a server back where
    /// its cameras expect it.
    pub fn start_on(
        mounts: &[Mount],
        credentials: Option<(&str, &str)>,
        port: u16,
    ) -> Result<RtspServer, VideoError> {
        super::init()?;
        let mounts = mounts.to_vec();
        let kept = mounts.clone();
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        let with_auth = credentials.is_some();
        let freezer = Freezer::default();
        let freezer_t = freezer.clone();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rtsp-server".into())
            .spawn(move || {
                let ctx = glib::MainContext::new();
                let main_loop = glib::MainLoop::new(Some(&ctx), false);
                let started =
                    ctx.with_thread_default(|| serve(&ctx, &mounts, credentials, port, &freezer_t));
                match started {
                    Ok(Ok((port, server, source))) => {
                        let _ = tx.send(Ok((port, main_loop.clone(), ctx.clone(), server.clone())));
                        main_loop.run();
                        // Stopped: no new clients (the port is released), and a hang-up for
                        // every client, so that their streams end as when a camera's server
                        // goes away.
                        if let Some(s) = ctx.find_source_by_id(&source) {
                            s.destroy();
                        }
                        server.client_filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
                        for _ in 0..1000 {
                            if !ctx.iteration(false) {
                                break;
                            }
                        }
                    }
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(e));
                    }
                    Err(e) => {
                        let _ = tx.send(Err(VideoError::Gstreamer(e.to_string())));
                    }
                }
            })
            .map_err(|e| VideoError::Gstreamer(e.to_string()))?;
        let (port, main_loop, ctx, server) = rx
            .recv()
            .map_err(|e| VideoError::Gstreamer(e.to_string()))??;
        Ok(RtspServer {
            port,
            main_loop,
            ctx,
            server,
            mounts: kept,
            with_auth,
            freezer,
            thread: Some(thread),
        })
    }

    /// Takes a mount off the air (its watchers lose the stream, new ones get "not found") or
    /// puts it back: a camera going dark and coming back.
    pub fn set_available(&self, path: &str, available: bool) {
        let Some(mount) = self.mounts.iter().find(|m| m.path == path).cloned() else {
            return;
        };
        let (server, with_auth) = (self.server.clone(), self.with_auth);
        let freezer = self.freezer.clone();
        let (tx, rx) = mpsc::channel();
        self.ctx.invoke(move || {
            if let Some(points) = server.mount_points() {
                if available {
                    points.add_factory(&mount.path, factory(&mount, with_auth, &freezer));
                } else {
                    points.remove_factory(&mount.path);
                    if let Some(pool) = server.session_pool() {
                        pool.filter(Some(&mut |_, session| {
                            if session.media(&mount.path).0.is_some() {
                                rtsp::RTSPFilterResult::Remove
                            } else {
                                rtsp::RTSPFilterResult::Keep
                            }
                        }));
                    }
                }
            }
            let _ = tx.send(());
        });
        // Done on the server's thread, not waited for (callers may hold locks).
        drop(rx);
    }

    /// Freezes a mount's picture (`true`) or lets it run again: the connection stays up and no
    /// frame arrives, as when a camera hangs or a link drops without a word.
    pub fn set_frozen(&self, path: &str, frozen: bool) {
        {
            let mut f = lock(&self.freezer.frozen);
            if frozen {
                f.insert(path.to_owned());
            } else {
                f.remove(path);
            }
        }
        let media: Vec<gst::Element> = lock(&self.freezer.media)
            .iter()
            .filter(|(p, _)| p == path)
            .filter_map(|(_, w)| w.upgrade())
            .collect();
        for element in media {
            self.freezer.apply(path, &element);
        }
    }

    /// Waits (up to 5 s) until the server has done what it was asked before.
    pub fn sync(&self) {
        let (tx, rx) = mpsc::channel();
        self.ctx.invoke(move || {
            let _ = tx.send(());
        });
        let _ = rx.recv_timeout(std::time::Duration::from_secs(5));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of a mount, with `credentials` when given.
    pub fn url(&self, path: &str, credentials: Option<(&str, &str)>) -> String {
        match credentials {
            Some((u, p)) => format!("rtsp://{u}:{p}@127.0.0.1:{}{path}", self.port),
            None => format!("rtsp://127.0.0.1:{}{path}", self.port),
        }
    }
}

type Served = (u16, rtsp::RTSPServer, glib::SourceId);

const ROLE: &str = "operator";

fn factory(m: &Mount, with_auth: bool, freezer: &Freezer) -> rtsp::RTSPMediaFactory {
    let factory = rtsp::RTSPMediaFactory::new();
    factory.set_launch(&m.launch());
    factory.set_shared(true);
    let (f, path) = (freezer.clone(), m.path.clone());
    factory.connect_media_configure(move |_, media| {
        let element = media.element();
        f.apply(&path, &element);
        let mut all = lock(&f.media);
        all.retain(|(_, w)| w.upgrade().is_some());
        all.push((path.clone(), element.downgrade()));
    });
    if with_auth {
        factory.add_role_from_structure(
            &gst::Structure::builder(ROLE)
                .field(rtsp::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
                .field(rtsp::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
                .build(),
        );
    }
    factory
}

fn serve(
    ctx: &glib::MainContext,
    mounts: &[Mount],
    credentials: Option<(String, String)>,
    port: u16,
    freezer: &Freezer,
) -> Result<Served, VideoError> {
    let server = rtsp::RTSPServer::new();
    server.set_address("127.0.0.1");
    server.set_service(&port.to_string());
    let points = server
        .mount_points()
        .ok_or_else(|| VideoError::Gstreamer("the RTSP server has no mount points".into()))?;
    if let Some((user, pass)) = &credentials {
        let auth = rtsp::RTSPAuth::new();
        let token = rtsp::RTSPToken::builder()
            .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
            .build();
        auth.add_basic(&rtsp::RTSPAuth::make_basic(user, pass), &token);
        server.set_auth(Some(&auth));
    }
    for m in mounts {
        points.add_factory(&m.path, factory(m, credentials.is_some(), freezer));
    }
    let source = server
        .attach(Some(ctx))
        .map_err(|e| VideoError::Gstreamer(e.to_string()))?;
    let port = u16::try_from(server.bound_port())
        .map_err(|_| VideoError::Gstreamer("the RTSP server has no port".into()))?;
    Ok((port, server, source))
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        // Also through the context: a quit before the loop runs would be lost.
        let main_loop = self.main_loop.clone();
        self.ctx.invoke(move || main_loop.quit());
        self.main_loop.quit();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
