//! Shared test helpers: the harness factory (fonts and theme installed, wgpu renderer), a fixed
//! clock, and paths.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use egui_kittest::{Harness, SnapshotOptions};
use ioc_console::context::FrameCtx;
use ioc_console::i18n::Lang;
use ioc_console::ui::fonts;
use ioc_console::wall::{WallLayout, layout};

/// 29/11/2026 09:41:07 in Vietnam: every snapshot is drawn at this instant.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 2, 41, 7).unwrap()
}

pub fn fixed_clock() -> ioc_console::app::Clock {
    Arc::new(fixed_now)
}

pub fn cx(lang: Lang) -> FrameCtx {
    FrameCtx::new(lang, fixed_now())
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load_layout(name: &str) -> WallLayout {
    layout::load(&repo().join("layouts").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A harness with the console's fonts and style, rendering with wgpu (lavapipe here), camera
/// pictures included (as in the console's window).
pub fn harness<'a>(size: [f32; 2], app: impl FnMut(&mut egui::Ui) + 'a) -> Harness<'a> {
    use egui_kittest::wgpu as kw;
    let rs = kw::create_render_state(
        kw::default_wgpu_setup(),
        egui_wgpu::RendererOptions::PREDICTABLE,
    );
    ioc_console::video::paint::VideoResources::install(
        &mut rs.renderer.write(),
        &rs.device,
        rs.target_format,
    );
    Harness::builder()
        .with_size(egui::vec2(size[0], size[1]))
        .with_context_setup(fonts::install)
        .renderer(kw::WgpuTestRenderer::from_render_state(rs))
        .build_ui(app)
}

/// Snapshot comparison tolerant of tiny rasteriser differences between CPU builds of mesa, not
/// of visible changes.
pub fn snapshot(h: &mut Harness<'_>, name: &str) {
    let opts = SnapshotOptions::new().threshold(2.0).max_failed_pixels(40);
    h.snapshot_options(name, &opts);
}

/// The example configuration file of the README.
pub fn readme_config() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("backend_url = \"https://ioc.example").unwrap();
    let text = &readme[start..];
    text[..text.find("```").unwrap()].to_owned()
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// The desk layout as a console app connected over HTTP to the backend at `url` (fast timings),
/// ready to be driven by a harness.
pub fn connected_desk(
    url: String,
    lang: Lang,
    role: ioc_console::role::Role,
) -> std::rc::Rc<std::cell::RefCell<ioc_console::app::ConsoleApp>> {
    connected(url, lang, role, load_layout("desk.toml"))
}

/// `layout` as a console app connected over HTTP to the backend at `url` (fast timings).
pub fn connected(
    url: String,
    lang: Lang,
    role: ioc_console::role::Role,
    layout: WallLayout,
) -> std::rc::Rc<std::cell::RefCell<ioc_console::app::ConsoleApp>> {
    use ioc_console::app::connect::{BackendSpec, connect};
    use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
    let spec = BackendSpec::Url {
        url,
        token_file: None,
        ca_bundle: None,
        trainer: false,
        identity: None,
    };
    let (backend, wake) = connect(&spec, crate::backend::fast_timing()).unwrap();
    std::rc::Rc::new(std::cell::RefCell::new(ConsoleApp::new(
        &egui::Context::default(),
        LaunchOptions {
            layout,
            layout_path: None,
            lang,
            role,
            display: DisplayChoice::Preview,
            watch: false,
            backend: Some(backend),
            wake: Some(wake),
            map: Default::default(),
            cameras: Default::default(),
        },
    )))
}

/// The console's view (selection, cameras sent to the wall, enlarged tiles) and its command
/// channel, for tests that draw tiles without the app: what the views sent is applied before
/// each frame, as the app does.
pub struct ViewRig {
    view: std::cell::RefCell<ioc_console::context::ViewState>,
    sender: ioc_console::context::CommandSender,
    sent: std::sync::mpsc::Receiver<ioc_console::context::Command>,
}

impl ViewRig {
    pub fn new() -> ViewRig {
        let (sender, sent) = ioc_console::context::CommandSender::channel(None);
        ViewRig {
            view: Default::default(),
            sender,
            sent,
        }
    }

    /// Applies what was sent, then `base` with the current view and this rig's sender.
    pub fn frame(&self, base: &FrameCtx) -> FrameCtx {
        while let Ok(c) = self.sent.try_recv() {
            self.view.borrow_mut().apply(&c);
        }
        FrameCtx {
            view: Arc::new(self.view.borrow().clone()),
            commands: self.sender.clone(),
            ..base.clone()
        }
    }

    /// A command applied now (as if a view had sent it and the app applied it).
    pub fn apply(&self, c: ioc_console::context::Command) {
        self.view.borrow_mut().apply(&c);
    }

    /// The view as last applied (after the sent commands).
    pub fn view(&self) -> ioc_console::context::ViewState {
        while let Ok(c) = self.sent.try_recv() {
            self.view.borrow_mut().apply(&c);
        }
        self.view.borrow().clone()
    }
}

/// An X server of its own for a console window (`Xvfb`), stopped when dropped.
pub struct Xvfb {
    child: std::process::Child,
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        // A display number no other test or session uses.
        let n = 200 + (std::process::id() % 500);
        let child = std::process::Command::new("Xvfb")
            .args([
                &format!(":{n}"),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Xvfb (packaging/dev.sh installs it)");
        let socket = format!("/tmp/.X11-unix/X{n}");
        crate::nats::wait_for(std::time::Duration::from_secs(20), "Xvfb", || {
            std::path::Path::new(&socket).exists()
        });
        Xvfb {
            child,
            display: format!(":{n}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `n` incidents still open in the simulator.
pub fn open_incidents(sim: &ioc_console::sim::SimServer, n: usize) -> Vec<String> {
    sim.shared
        .world
        .lock()
        .unwrap()
        .incidents()
        .iter()
        .filter(|i| !i.status.is_closed())
        .take(n)
        .map(|i| i.id.clone())
        .collect()
}

/// Who the simulator's history of incident `id` names, oldest first.
pub fn actors(sim: &ioc_console::sim::SimServer, id: &str) -> Vec<String> {
    sim.shared
        .world
        .lock()
        .unwrap()
        .incident(id)
        .unwrap()
        .history
        .iter()
        .map(|h| h.actor.clone())
        .collect()
}
