//! The demo's cameras, served for real over RTSP on loopback (gst-rtsp-server): every simulated
//! H.264 camera has a main (1280×720, 25 fps) and a sub stream (640×360, 15 fps), the MJPEG one a
//! single 640×480 stream, each with its name and a running clock burned in. A scenario that takes
//! a camera dark takes its streams off the air (watchers lose the picture, new ones get "not
//! found") until it comes back. Nothing is encoded for a stream nobody watches.

use std::collections::HashMap;
use std::sync::Mutex;

use super::data::CameraSpec;
use super::world::World;
use crate::video::VideoError;
use crate::video::rtsp_server::{Mount, Picture, RtspServer};

/// The mounts of the demo cameras: `/{id}/main` and `/{id}/sub` (MJPEG: `/{id}/main` only).
pub fn mounts(cameras: &[CameraSpec]) -> Vec<Mount> {
    // Test patterns, different per camera so that the wall tells them apart at a glance
    // (main and sub stream of one camera alike, so a profile switch keeps the picture).
    const PATTERNS: [&str; 8] = [
        "smpte", "ball", "pinwheel", "colors", "spokes", "circular", "smpte75", "gradient",
    ];
    let mut out = Vec::new();
    for (i, c) in cameras.iter().enumerate() {
        let pattern = PATTERNS[i % PATTERNS.len()];
        let label = Some(format!("{} · {}", c.id, c.name));
        if c.codec == "mjpeg" {
            out.push(Mount {
                path: format!("/{}/main", c.id),
                picture: Picture::Jpeg,
                width: 640,
                height: 480,
                fps: 10,
                label,
                pattern,
            });
        } else {
            out.push(Mount {
                path: format!("/{}/main", c.id),
                picture: Picture::H264,
                width: 1280,
                height: 720,
                fps: 25,
                label: label.clone(),
                pattern,
            });
            out.push(Mount {
                path: format!("/{}/sub", c.id),
                picture: Picture::H264,
                width: 640,
                height: 360,
                fps: 15,
                label,
                pattern,
            });
        }
    }
    out
}

/// The demo cameras' RTSP server and which cameras it has taken off the air.
pub struct DemoCameras {
    server: RtspServer,
    paths: HashMap<String, Vec<String>>,
    on_air: Mutex<HashMap<String, bool>>,
}

impl DemoCameras {
    pub fn start(cameras: &[CameraSpec]) -> Result<DemoCameras, VideoError> {
        let mounts = mounts(cameras);
        let server = RtspServer::start(&mounts, None)?;
        let mut paths: HashMap<String, Vec<String>> = HashMap::new();
        for c in cameras {
            paths.insert(
                c.id.clone(),
                mounts
                    .iter()
                    .filter(|m| m.path.starts_with(&format!("/{}/", c.id)))
                    .map(|m| m.path.clone())
                    .collect(),
            );
        }
        tracing::info!(
            port = server.port(),
            cameras = cameras.len(),
            "demo cameras on RTSP"
        );
        Ok(DemoCameras {
            server,
            paths,
            on_air: Mutex::new(HashMap::new()),
        })
    }

    /// What the simulated backend gives as the cameras' stream base URL.
    pub fn base(&self) -> String {
        format!("rtsp://127.0.0.1:{}", self.server.port())
    }

    /// Puts on or takes off the air each camera as the world says it is online; the cameras in
    /// `dark` (an injected fault) are off the air whatever the world says.
    pub fn follow(&self, world: &World, dark: &[String]) {
        for id in self.paths.keys() {
            let online = world.camera_online(id).unwrap_or(true) && !dark.contains(id);
            self.set_on_air(id, online);
        }
    }

    /// Waits until the server has done what it was asked.
    pub fn settle(&self) {
        self.server.sync();
    }

    /// Puts a camera's streams on (or takes them off) the air.
    pub fn set_on_air(&self, id: &str, online: bool) {
        let mut on_air = self.on_air.lock().unwrap_or_else(|p| p.into_inner());
        let Some(paths) = self.paths.get(id) else {
            return;
        };
        if on_air.get(id).copied().unwrap_or(true) != online {
            for p in paths {
                self.server.set_available(p, online);
            }
            tracing::info!(camera = %id, online, "demo camera");
            on_air.insert(id.to_owned(), online);
        }
    }
}
