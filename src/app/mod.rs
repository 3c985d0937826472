//! The eframe application: the operator desk window, the wall (previewed in the desk window, or
//! one borderless fullscreen viewport per monitor), modes and roles, and the one place where
//! commands from the UI are applied.

pub mod arrange;
pub mod audit_view;
pub mod bench;
pub mod brief;
pub mod connect;
pub mod demo_panel;
mod desk;
pub mod export;
pub mod in_step;
pub mod incident_panel;
pub mod kiosk;
mod pace;
mod profile_window;
pub mod scope;
pub mod sign_in;
pub mod snapshot;
pub mod viewports;
pub mod wall_view;
mod watchdog;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use egui::{ViewportBuilder, ViewportId};

use crate::context::Command;
use crate::context::profile::FrameProfile;
use crate::context::{Caches, CommandSender, TileStates, ViewState};
use crate::role::{Mode, Role};

use crate::context::FrameCtx;
use crate::i18n::Lang;
use crate::sources::{BackendLink, Request};
use crate::store::Store;
use crate::ui::fonts;
use crate::wall::watch::{LayoutEvent, LayoutWatcher};
use crate::wall::{LayoutErrors, WallLayout};

/// The window's app id (Wayland) and class (X11): the desktop entry's `StartupWMClass` and icon
/// name (`packaging/deb/ioc-console.desktop`).
pub const APP_ID: &str = "ioc-console";

/// How the wall is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayMode {
    /// The whole wall scaled into the desk window, monitors drawn with bezels.
    Preview,
    /// One borderless fullscreen window per monitor, plus the desk window.
    Wall,
}

/// What the command line asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DisplayChoice {
    /// Wall when the machine has at least as many monitors as a multi-monitor layout, else preview.
    #[default]
    Auto,
    Wall,
    Preview,
}

impl DisplayChoice {
    /// Decides the display mode once the number of connected monitors is known.
    pub fn resolve(self, layout_monitors: usize, available: Option<usize>) -> DisplayMode {
        match self {
            DisplayChoice::Preview => DisplayMode::Preview,
            DisplayChoice::Wall => DisplayMode::Wall,
            DisplayChoice::Auto => match available {
                Some(n) if layout_monitors > 1 && n >= layout_monitors => DisplayMode::Wall,
                _ => DisplayMode::Preview,
            },
        }
    }
}

/// What the wall viewports read each frame (shared with the deferred viewport callbacks).
#[derive(Clone, Debug)]
pub struct WallState {
    /// The layout the wall shows: the base layout, or it with the scene in force.
    pub layout: Arc<WallLayout>,
    /// The base layout while a scene is in force.
    pub base: Option<Arc<WallLayout>>,
    pub loaded_at: DateTime<Utc>,
    pub lang: Lang,
    pub role: Role,
    /// The newest layout file on disk is invalid: why (the wall keeps the last good layout).
    pub error: Option<LayoutErrors>,
    /// The backend's data (replaced copy-on-write when updates arrive).
    pub store: Arc<Store>,
    /// Basemaps and map layers.
    pub map: Arc<crate::map::MapSetup>,
    /// Camera streams.
    pub cameras: Arc<crate::video::hub::CameraHub>,
    /// The selection, cameras sent to the wall, enlarged tiles (changed by commands only).
    pub view: Arc<ViewState>,
    /// Where the views' commands go (applied by the desk's frame).
    pub commands: CommandSender,
    /// Every tile's own state, by tile and viewport.
    pub tiles: Arc<std::sync::Mutex<TileStates>>,
    /// Derived data shared by the views.
    pub caches: Arc<Caches>,
    /// The technician's frame profile.
    pub profile: Arc<FrameProfile>,
    /// Drawing sparingly (see `config::LowPower`).
    pub low_power: bool,
    /// A briefing's data, frozen as of `view.briefing`'s instant (the live store goes on
    /// changing beside it).
    pub frozen: Option<Arc<Store>>,
    /// The storyboard of the briefing in progress (what the audience's viewports draw).
    pub storyboard: Option<Arc<crate::wall::storyboard::Storyboard>>,
    /// The monitors this console drives, by name, when it drives part of the wall (consoles in
    /// step); None: all of them.
    pub driven: Option<Vec<String>>,
}

/// The layout in force from the base layout, the scene in force and the cameras pushed to
/// tiles. `s.base` is set whenever the layout in force differs from the base.
pub(crate) fn compose_layout(s: &mut WallState) {
    let base = s.base.clone().unwrap_or_else(|| Arc::clone(&s.layout));
    if s.view.scene.is_none() && s.view.pushed.is_empty() {
        s.layout = base;
        s.base = None;
        return;
    }
    let mut layout = s
        .view
        .scene
        .as_deref()
        .and_then(|n| base.with_scene(n))
        .unwrap_or_else(|| (*base).clone());
    if !s.view.pushed.is_empty() {
        layout = layout.with_cameras(&s.view.pushed);
    }
    s.layout = Arc::new(layout);
    s.base = Some(base);
}

impl WallState {
    pub fn frame_ctx(&self, now: DateTime<Utc>) -> FrameCtx {
        FrameCtx {
            lang: self.lang,
            now,
            role: self.role,
            layout_loaded_at: self.loaded_at,
            store: Arc::clone(self.frozen.as_ref().unwrap_or(&self.store)),
            map: Arc::clone(&self.map),
            cameras: Arc::clone(&self.cameras),
            view: Arc::clone(&self.view),
            commands: self.commands.clone(),
            tiles: Arc::clone(&self.tiles),
            caches: Arc::clone(&self.caches),
            profile: Arc::clone(&self.profile),
            enlarged: false,
            low_power: self.low_power,
            as_of: self.view.briefing.as_ref().map(|b| b.as_of),
            type_scale: 1.0,
            print: false,
        }
    }
}

/// The connection to a backend: the link, and what must live as long as it (the runtime that
/// runs the tasks, the in-process simulator of the demo).
pub struct Backend {
    pub link: BackendLink,
    /// The console may drive the simulator (`/sim` admin endpoints).
    pub trainer: bool,
    /// The runtime and the in-process simulator, dropped with the backend.
    pub keep_alive: Vec<Box<dyn std::any::Any>>,
    /// The actions' outbox (read by the metrics endpoint; the backend's tasks own the sending).
    pub outbox: Option<Arc<crate::outbox::Outbox>>,
    /// Who did what, when, from this console (`audit`); none when the file cannot be opened.
    pub audit: Option<crate::audit::Writer>,
    /// Sign-in through the identity server (`[identity]`); none: no sign-in.
    pub identity: Option<crate::auth::IdentityConfig>,
    /// The people signed in (shared with the backend's tasks), with `identity`.
    pub sessions: Option<Arc<crate::auth::session::Sessions>>,
    /// The backend is the simulator (the demo, a trainer's or a test bench's): a console
    /// without sign-in may act on it, never on a real backend.
    pub simulated: bool,
    /// The runtime of the backend's tasks (sign-in flows run there too).
    pub handle: Option<tokio::runtime::Handle>,
    /// The extra CA bundle the identity server is reached with too.
    pub ca_bundle: Option<PathBuf>,
}

/// Everything needed to start the console.
pub struct LaunchOptions {
    pub layout: WallLayout,
    pub layout_path: Option<PathBuf>,
    pub lang: Lang,
    pub role: Role,
    pub display: DisplayChoice,
    /// Watch the layout file and reload it when it changes.
    pub watch: bool,
    pub backend: Option<Backend>,
    /// Set to the window's context so that data arriving wakes it.
    pub wake: Option<connect::WakeTarget>,
    /// Basemaps and map layers (from the configuration's `[map]`).
    pub map: Arc<crate::map::MapSetup>,
    /// Camera streams (from the configuration's `[video]`).
    pub cameras: Arc<crate::video::hub::CameraHub>,
}

/// Where the console reads the time (tests fix it so snapshots are stable).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub struct ConsoleApp {
    clock: Clock,
    state: Arc<RwLock<WallState>>,
    watcher: Option<LayoutWatcher>,
    display_choice: DisplayChoice,
    display: Option<DisplayMode>,
    monitors_available: Option<usize>,
    mode: Mode,
    show_settings: bool,
    show_profile: bool,
    commands: Vec<Command>,
    /// Commands sent by the views of every viewport (tiles, the wall's monitors).
    sent: std::sync::mpsc::Receiver<Command>,
    backend: Option<Backend>,
    last_sim_poll: Option<std::time::Instant>,
    demo: demo_panel::DemoPanel,
    /// Results of exports running in the background: the message for the status bar.
    exports: (
        std::sync::mpsc::Sender<String>,
        std::sync::mpsc::Receiver<String>,
    ),
    notice: Option<String>,
    /// The notice of an action refused because the desk was read-only: it no longer holds once
    /// someone else (or nobody) is at the console, so it goes when the person changes.
    refused_notice: Option<String>,
    pub incidents: incident_panel::IncidentPanel,
    /// Arrange mode (technicians).
    pub arrange: arrange::ArrangeMode,
    /// Brief mode (briefings).
    pub brief: brief::BriefMode,
    /// The wall's scope: the picker and whether it is shown (Operate).
    scope_picker: scope::ScopePicker,
    show_scope: bool,
    /// The view stamp the wall viewports were last woken for.
    wall_view_seen: std::cell::Cell<u64>,
    /// Consoles in step (`[sync]`), when configured.
    sync: Option<in_step::InStep>,
    show_sync: bool,
    /// The audit view (technicians and leaders).
    pub audit_view: audit_view::AuditView,
    /// The desk's last frame, in milliseconds (for the heartbeat).
    last_frame_ms: f32,
    /// systemd's watchdog, pinged from this loop, when the console runs under it.
    watchdog: Option<watchdog::UiWatchdog>,
    /// `run --kiosk`: the wall alone, left only with the technician's PIN.
    kiosk: Option<kiosk::Kiosk>,
    /// Health metrics (`[metrics]`): frame times and the store's health go there.
    metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Who is at the console: sign-in, roles, lock (`sign_in`).
    pub sign_in: sign_in::SignIn,
    /// The configuration's role (what a console without sign-in is used as).
    config_role: Role,
    /// The store generation last handed to the metrics, and when.
    metrics_published: Option<(u64, std::time::Instant)>,
}

impl ConsoleApp {
    pub fn new(ctx: &egui::Context, opts: LaunchOptions) -> Self {
        fonts::install(ctx);
        if let Some(target) = &opts.wake {
            let _ = target.set(ctx.clone());
        }
        let watcher = match (&opts.layout_path, opts.watch) {
            (Some(path), true) => {
                let wake_ctx = ctx.clone();
                match LayoutWatcher::start(path, Box::new(move || wake_ctx.request_repaint())) {
                    Ok(w) => Some(w),
                    Err(e) => {
                        tracing::error!(%e, "cannot start the layout watcher; hot reload is off");
                        None
                    }
                }
            }
            _ => None,
        };
        let clock: Clock = Arc::new(Utc::now);
        let store = match &opts.backend {
            Some(b) => Store::connected(b.link.timing.clone()),
            None => Store::default(),
        };
        let trainer = opts.backend.as_ref().is_some_and(|b| b.trainer);
        let wake_ctx = ctx.clone();
        let (commands, sent) = CommandSender::channel(Some(Arc::new(move || {
            wake_ctx.request_repaint_of(ViewportId::ROOT)
        })));
        let sign_in = sign_in::SignIn::for_backend(
            opts.backend.as_ref(),
            opts.backend.as_ref().and_then(|b| b.ca_bundle.clone()),
        );
        // A console that signs people in starts with nobody: read-only until someone does.
        let role = sign_in.access(opts.role).primary();
        ConsoleApp {
            state: Arc::new(RwLock::new(WallState {
                layout: Arc::new(opts.layout),
                base: None,
                loaded_at: clock(),
                lang: opts.lang,
                role,
                error: None,
                store: Arc::new(store),
                map: opts.map,
                cameras: opts.cameras,
                view: Arc::default(),
                commands,
                tiles: Arc::default(),
                caches: Arc::default(),
                profile: Arc::default(),
                low_power: false,
                frozen: None,
                storyboard: None,
                driven: None,
            })),
            clock,
            watcher,
            display_choice: opts.display,
            display: None,
            monitors_available: None,
            show_settings: false,
            show_profile: false,
            commands: Vec::new(),
            sent,
            backend: opts.backend,
            last_sim_poll: None,
            mode: if trainer { Mode::Demo } else { Mode::Operate },
            demo: demo_panel::DemoPanel::default(),
            exports: std::sync::mpsc::channel(),
            notice: None,
            refused_notice: None,
            wall_view_seen: std::cell::Cell::new(0),
            sync: None,
            show_sync: false,
            audit_view: Default::default(),
            last_frame_ms: 0.0,
            watchdog: None,
            kiosk: None,
            metrics: None,
            metrics_published: None,
            sign_in,
            config_role: opts.role,
            incidents: incident_panel::IncidentPanel::default(),
            arrange: arrange::ArrangeMode::default(),
            scope_picker: scope::ScopePicker::default(),
            show_scope: false,
            brief: brief::BriefMode::new(
                opts.layout_path
                    .as_deref()
                    .and_then(std::path::Path::parent)
                    .map_or_else(|| PathBuf::from("layouts"), std::path::Path::to_path_buf),
            ),
        }
    }

    /// Notifies systemd (READY, watchdog pings from the UI loop) when started by it.
    pub fn with_systemd_watchdog(mut self) -> Self {
        self.watchdog = watchdog::UiWatchdog::from_env();
        self
    }

    /// Reports to `metrics`: frame times, the store's health, the camera streams and the outbox.
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        let cameras = Arc::clone(&self.wall_state().cameras);
        let outbox = self.backend.as_ref().and_then(|b| b.outbox.clone());
        metrics.watch(Some(cameras), outbox);
        self.metrics = Some(metrics);
        self
    }

    /// Hands the frame time and, when it changed (or a second passed), the store's health to the
    /// metrics.
    fn report_metrics(&mut self, ctx: &egui::Context, frame_seconds: f64) {
        let Some(m) = &self.metrics else {
            return;
        };
        m.observe_frame(frame_seconds);
        let store = match self.state.read() {
            Ok(s) => Arc::clone(&s.store),
            Err(p) => Arc::clone(&p.into_inner().store),
        };
        let due = self.metrics_published.is_none_or(|(generation, at)| {
            generation != store.generation || at.elapsed() >= std::time::Duration::from_secs(1)
        });
        if due {
            m.publish_store(&store, (self.clock)());
            m.set_egui_textures(ctx.tex_manager().read().num_allocated());
            self.metrics_published = Some((store.generation, std::time::Instant::now()));
        }
    }

    /// A kiosk: no bars or panels, the wall alone (the root window shows the monitor on the
    /// first display, or the whole wall when the PC has fewer monitors than the layout), the
    /// cursor hidden at rest, closing only with the technician's PIN.
    pub fn with_kiosk(mut self, kiosk: kiosk::Kiosk) -> Self {
        self.kiosk = Some(kiosk);
        self
    }

    /// Whether this console is a kiosk whose technician has typed the PIN (it is closing).
    pub fn kiosk_leaving(&self) -> bool {
        self.kiosk.as_ref().is_some_and(kiosk::Kiosk::leaving)
    }

    /// Offers storyboard `path` first in Brief mode; with `rotate`, starts it at once and steps
    /// through its scenes by their durations (unattended rotation).
    pub fn with_storyboard(mut self, path: PathBuf, rotate: bool) -> Self {
        self.brief.name(path.clone(), rotate);
        if rotate {
            self.mode = Mode::Brief;
            self.apply(Command::Brief(crate::context::BriefStep::Start(path)));
        }
        self
    }

    /// Applies what the backend sent since the last frame (bounded per frame so a flood of
    /// events cannot stall drawing; the rest waits for the next frame).
    pub fn poll_backend(&mut self) {
        let Some(b) = self.backend.as_mut() else {
            return;
        };
        let mut updates = Vec::new();
        while updates.len() < 5_000 {
            match b.link.updates.try_recv() {
                Ok(u) => updates.push(u),
                Err(_) => break,
            }
        }
        if updates.is_empty() {
            return;
        }
        if let Ok(mut s) = self.state.write() {
            let store = Arc::make_mut(&mut s.store);
            for u in updates {
                store.apply(u);
            }
        }
    }

    fn send(&self, r: Request) {
        if let Some(b) = &self.backend
            && b.link.requests.try_send(r).is_err()
        {
            tracing::warn!("the backend task is busy; a request was dropped");
        }
    }

    /// Draws sparingly (clocks to the minute, no pulsing, a frame only when something changes).
    pub fn with_low_power(self, on: bool) -> Self {
        if let Ok(mut s) = self.state.write() {
            s.low_power = on;
        }
        self
    }

    /// Replaces the clock (and restamps the layout's load time with it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        if let Ok(mut s) = self.state.write() {
            s.loaded_at = clock();
        }
        self.clock = clock;
        self
    }

    /// A snapshot of what the wall shows now.
    pub fn wall_state(&self) -> WallState {
        self.state
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn display_mode(&self) -> Option<DisplayMode> {
        self.display
    }

    /// Applies the newest layout event, if any (called every frame, before drawing).
    pub fn poll_layout(&mut self) {
        let Some(event) = self.watcher.as_ref().and_then(LayoutWatcher::poll) else {
            return;
        };
        let reloaded = matches!(event, LayoutEvent::Reloaded(_));
        self.apply_layout_event(event);
        if reloaded {
            self.reapply_shared();
        }
    }

    /// A reloaded layout replaces the wall; an invalid one leaves the wall alone and raises the
    /// banner.
    pub fn apply_layout_event(&mut self, event: LayoutEvent) {
        let Ok(mut s) = self.state.write() else {
            return;
        };
        match event {
            LayoutEvent::Reloaded(layout) => {
                // Tiles whose id is still there keep their state (a map's view); enlargements
                // of tiles that are gone are dropped.
                let ids: std::collections::HashSet<String> =
                    layout.tiles.iter().map(|t| t.id.clone()).collect();
                s.tiles
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain_tiles(|t| ids.contains(t));
                s.profile.retain(|_, t| t.is_none_or(|t| ids.contains(t)));
                let mut view = (*s.view).clone();
                view.retain_layout(|m, t| {
                    layout.tiles.iter().any(|x| {
                        x.id == t
                            && layout
                                .monitors
                                .get(x.monitor)
                                .is_some_and(|mm| mm.name == m)
                    })
                });
                // The scene in force stays if the new layout still has it.
                let layout = Arc::new(*layout);
                match view.scene.as_deref().and_then(|n| layout.with_scene(n)) {
                    Some(scened) => {
                        s.layout = Arc::new(scened);
                        s.base = Some(layout);
                    }
                    None => {
                        view.scene = None;
                        s.layout = layout;
                        s.base = None;
                    }
                }
                view.pushed
                    .retain(|t, _| s.layout.tiles.iter().any(|x| x.id == *t));
                let pushed = !view.pushed.is_empty();
                s.view = Arc::new(view);
                if pushed {
                    compose_layout(&mut s);
                }
                s.loaded_at = (self.clock)();
                s.error = None;
                // A changed monitor count may change the display mode.
                self.display = None;
            }
            LayoutEvent::Invalid(errors) => s.error = Some(errors),
        }
    }

    /// Writes the sign-in's rows (sessions begun, locked, handed over, ended) to the trail.
    fn record_sign_in_audit(&mut self) {
        for (who, roles, action, subject, detail) in std::mem::take(&mut self.sign_in.audit) {
            if let Some(w) = self.backend.as_ref().and_then(|b| b.audit.as_ref()) {
                w.did_as(&who, &roles, action, &subject, &detail);
            }
        }
    }

    /// An action refused because the desk is read-only: said, and logged.
    fn refuse_read_only(&mut self, incident_id: &str) {
        let access = self.access();
        let lang = self.wall_state().lang;
        let why = access.read_only_why.unwrap_or("auth.no_operator_role");
        tracing::warn!(incident = %incident_id, why, "action refused: the desk is read-only");
        let said = crate::i18n::tr(lang, why).to_owned();
        self.notice = Some(said.clone());
        self.refused_notice = Some(said);
    }

    /// The one place commands take effect.
    pub fn apply(&mut self, command: Command) {
        // An action goes under the name of the person signed in, or not at all when the desk is
        // read-only (nobody signed in, no operator role, no sign-in on a real backend).
        let command = match command {
            // Applying again, resending or dropping an action is acting too.
            Command::Backend(
                Request::Reapply { .. } | Request::ResendAs { .. } | Request::Discard { .. },
            ) if !self.access().may_act => {
                self.refuse_read_only("-");
                return;
            }
            Command::Backend(Request::Act {
                incident_id,
                mut request,
                ..
            }) => {
                if !self.access().may_act {
                    self.refuse_read_only(&incident_id);
                    return;
                }
                let author = self.sign_in.person().map(|(p, _)| {
                    request.actor = Some(p.name.clone());
                    p.subject
                });
                Command::Backend(Request::Act {
                    incident_id,
                    request,
                    author,
                })
            }
            other => other,
        };
        // Consoles in step: what changes the wall goes to the broker, and comes back.
        if self.push_to_wall(&command) {
            return;
        }
        // A briefing's position (and its scope) is the presenter's: applied here at once, then
        // shared with the wall's other consoles.
        let briefing = match &command {
            Command::Brief(step) => !matches!(
                step,
                crate::context::BriefStep::Ink(_) | crate::context::BriefStep::ExportDeck
            ),
            // Leaving Brief mode ends the briefing.
            Command::Scope(_) | Command::SetMode(_) => self.wall_state().view.briefing.is_some(),
            _ => false,
        };
        // A step taken here makes this console the briefing's presenter.
        if matches!(command, Command::Brief(_))
            && briefing
            && let Some(step) = self.sync.as_mut()
        {
            step.briefing_from_wall = false;
        }
        self.apply_here(command);
        if briefing {
            self.share_briefing();
        }
    }

    /// Records what the person at this console did (the audit trail, written off the UI
    /// thread).
    pub(super) fn audit(&self, action: &str, subject: &str, detail: &str) {
        let Some(w) = self.backend.as_ref().and_then(|b| b.audit.as_ref()) else {
            return;
        };
        // The person signed in, when the console signs people in; else the desktop user.
        if let Some((p, _)) = self.sign_in.person() {
            let roles = p
                .roles
                .iter()
                .map(|r| r.label_key().trim_start_matches("role."))
                .collect::<Vec<_>>()
                .join("+");
            w.did_as(&p.who(), &roles, action, subject, detail);
            return;
        }
        let role = self
            .state
            .read()
            .map(|s| s.role.label_key().trim_start_matches("role."))
            .unwrap_or("unknown");
        w.did(role, action, subject, detail);
    }

    /// What the person at the console may do now.
    pub fn access(&self) -> sign_in::Access {
        self.sign_in.access(self.config_role)
    }

    /// The sign-in's news: its audit rows written, the roles in force updated when the person
    /// changed (a mode they may not use is left).
    fn poll_sign_in(&mut self, ui: &egui::Ui) {
        let lang = self.wall_state().lang;
        self.sign_in.wall = self.kiosk.is_some();
        self.sign_in.poll(lang);
        if ui.input(|i| !i.events.is_empty()) {
            self.sign_in.touched();
        }
        self.sign_in.check_idle();
        self.record_sign_in_audit();
        if let Some(n) = self.sign_in.notice.take() {
            self.notice = Some(n);
        }
        if self.sign_in.changed() {
            if self
                .refused_notice
                .take()
                .is_some_and(|r| self.notice.as_ref() == Some(&r))
            {
                self.notice = None;
            }
            let access = self.access();
            if let Ok(mut s) = self.state.write() {
                s.role = access.primary();
            }
            let trainer = self.backend.as_ref().is_some_and(|b| b.trainer);
            if !Mode::available_to(&access.roles, trainer).contains(&self.mode) {
                if self.mode == Mode::Brief {
                    self.brief_step(crate::context::BriefStep::End);
                }
                self.mode = Mode::Operate;
            }
        }
    }

    /// The commands that go into the audit trail, and how.
    fn audit_command(&self, command: &Command) {
        match command {
            Command::Backend(crate::sources::Request::Act {
                incident_id,
                request,
                ..
            }) => {
                let kind = serde_json::to_value(request.action)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let detail = [request.unit_id.as_deref(), request.note.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                self.audit(&format!("incident.{kind}"), incident_id, &detail);
            }
            // A scene the layout has (an unknown one changes nothing: said, not recorded).
            Command::RecallScene(Some(scene))
                if self
                    .state
                    .read()
                    .is_ok_and(|s| s.base.as_ref().unwrap_or(&s.layout).scene(scene).is_some()) =>
            {
                self.audit("scene.recalled", scene, "")
            }
            Command::Brief(crate::context::BriefStep::Start(path)) => {
                self.audit("briefing.started", &path.display().to_string(), "")
            }
            Command::Brief(crate::context::BriefStep::End) => self.audit("briefing.ended", "", ""),
            Command::WallPush(change) => self.audit("wall.pushed", &format!("{change:?}"), ""),
            // A held action resent under the name of the person at the console (whose name it
            // was is in the outbox and in the row of its first recording).
            Command::Backend(crate::sources::Request::ResendAs { key }) => {
                self.audit("incident.resent", key, "")
            }
            // An action dropped (a conflict or a held one) and one applied again on a new
            // version: decisions too.
            Command::Backend(crate::sources::Request::Discard { key }) => {
                self.audit("incident.discarded", key, "")
            }
            Command::Backend(crate::sources::Request::Reapply { key, version }) => {
                self.audit("incident.reapplied", key, &format!("version {version}"))
            }
            _ => {}
        }
    }

    fn apply_here(&mut self, command: Command) {
        self.audit_command(&command);
        if let Ok(mut s) = self.state.write() {
            let mut view = (*s.view).clone();
            if view.apply(&command) {
                s.view = Arc::new(view);
                return;
            }
        }
        match command {
            Command::SetLanguage(lang) => {
                if let Ok(mut s) = self.state.write() {
                    s.lang = lang;
                }
            }
            Command::SetMode(mode) => self.set_mode(mode),
            Command::ToggleSettings => self.show_settings = !self.show_settings,
            Command::DismissLayoutError => {
                if let Ok(mut s) = self.state.write() {
                    s.error = None;
                }
            }
            Command::Backend(r) => self.send(r),
            Command::Export { tile_id, format } => self.export(&tile_id, format),
            Command::ExportReport => self.export_report(),
            Command::RecallScene(name) => self.recall_scene(name),
            Command::Brief(step) => self.brief_step(step),
            Command::ToggleProfile => {
                self.show_profile = !self.show_profile;
                if let Ok(s) = self.state.read() {
                    s.profile.set_enabled(self.show_profile);
                }
            }
            Command::PushCamera { tile, camera } => {
                if let Ok(mut s) = self.state.write() {
                    let mut view = (*s.view).clone();
                    match camera {
                        Some(c) => view.pushed.insert(tile, c),
                        None => view.pushed.remove(&tile),
                    };
                    s.view = Arc::new(view);
                    compose_layout(&mut s);
                }
            }
            Command::WallPush(change) => self.apply_wall_change(change),
            // Applied to the view above.
            Command::SelectIncident(_)
            | Command::SendCameras(_)
            | Command::Enlarge { .. }
            | Command::Scope(_) => {}
        }
    }

    /// A wall change (`wall push`'s kind) on a console alone: the matching commands.
    fn apply_wall_change(&mut self, change: crate::model::wall_share::WallChange) {
        use crate::model::wall_share::WallChange;
        match change {
            WallChange::Scene { scene, .. } => self.apply(Command::RecallScene(scene)),
            WallChange::Camera { tile, camera } => self.apply(Command::PushCamera { tile, camera }),
            WallChange::Nearby { nearby } => self.apply(Command::SendCameras(nearby.map(|n| {
                crate::context::command::SentCameras {
                    incident: n.incident,
                    cameras: n.cameras,
                }
            }))),
            WallChange::Enlarge { monitor, tile } => self.apply(Command::Enlarge { monitor, tile }),
            WallChange::Scope { unit } => self.apply(Command::Scope(unit)),
            WallChange::Clear => {
                self.apply(Command::RecallScene(None));
                self.apply(Command::SendCameras(None));
                self.apply(Command::Scope(None));
                if let Ok(mut s) = self.state.write() {
                    let mut view = (*s.view).clone();
                    view.pushed.clear();
                    view.enlarged.clear();
                    s.view = Arc::new(view);
                    compose_layout(&mut s);
                }
            }
            WallChange::Layout { .. } | WallChange::Briefing { .. } => {
                tracing::info!(?change, "a wall change that only consoles in step apply");
            }
        }
    }

    /// Puts a scene of the layout in force (its tiles' options, its enlarged tiles), or goes
    /// back to the base layout.
    fn recall_scene(&mut self, name: Option<String>) {
        let Ok(mut s) = self.state.write() else {
            return;
        };
        let base = s.base.clone().unwrap_or_else(|| Arc::clone(&s.layout));
        let mut view = (*s.view).clone();
        view.enlarged.clear();
        match name
            .as_deref()
            .and_then(|n| Some((base.scene(n)?, base.with_scene(n)?)))
        {
            Some((scene, scened)) => {
                view.enlarged = base.scene_enlargements(&scene.name);
                tracing::info!(scene = %scene.name, "scene recalled");
                view.scene = Some(scene.name.clone());
                s.layout = Arc::new(scened);
                s.base = Some(base);
            }
            None => {
                if let Some(n) = &name {
                    tracing::warn!(scene = %n, "no such scene in the layout");
                    self.notice = Some(crate::i18n::tr_args(
                        s.lang,
                        "scene.unknown",
                        &[("name", n)],
                    ));
                }
                view.scene = None;
                s.layout = base;
                s.base = None;
            }
        }
        let pushed = !view.pushed.is_empty();
        s.view = Arc::new(view);
        if pushed {
            compose_layout(&mut s);
        }
    }

    /// The message of the status bar (a refusal, an export written), if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The mode in force.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switches mode if the role may use it (a refusal is said in the status bar); leaving
    /// Arrange with unsaved changes asks first.
    fn set_mode(&mut self, mode: Mode) {
        let trainer = self.backend.as_ref().is_some_and(|b| b.trainer);
        let state = self.wall_state();
        if !Mode::available_to(&self.access().roles, trainer).contains(&mode) {
            tracing::warn!(?mode, role = ?state.role, "mode refused for this role");
            self.notice = Some(crate::i18n::tr_args(
                state.lang,
                "mode.refused",
                &[
                    ("mode", &crate::i18n::tr(state.lang, mode.label_key())),
                    ("role", &crate::i18n::tr(state.lang, state.role.label_key())),
                ],
            ));
            return;
        }
        if self.mode == Mode::Arrange && mode != Mode::Arrange && !self.arrange.request_leave(mode)
        {
            return;
        }
        if mode == Mode::Arrange {
            self.arrange.open(&state.layout);
        }
        if self.mode == Mode::Brief && mode != Mode::Brief {
            self.brief_step(crate::context::BriefStep::End);
        }
        if mode == Mode::Brief && self.mode != Mode::Brief {
            self.brief.refresh_offers();
        }
        self.mode = mode;
    }

    /// Applies what the views sent since the last frame, in the order they sent it.
    pub fn apply_sent(&mut self) {
        while let Ok(c) = self.sent.try_recv() {
            self.apply(c);
        }
    }

    /// Draws the desk window (and opens the wall viewports in wall mode).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        // `RUST_LOG=ioc_console::frames=trace` logs every frame of the desk (to count them).
        tracing::trace!(target: "ioc_console::frames", pass = ui.ctx().cumulative_pass_nr(), "desk frame");
        let frame_started = std::time::Instant::now();
        self.poll_layout();
        self.poll_backend();
        self.poll_sync(self.last_frame_ms);
        self.poll_sign_in(ui);
        self.apply_sent();
        let trainer = self.backend.as_ref().is_some_and(|b| b.trainer);
        if trainer
            && self
                .last_sim_poll
                .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1))
        {
            self.last_sim_poll = Some(std::time::Instant::now());
            self.send(Request::SimStatus);
        }
        let now = (self.clock)();
        self.freeze_first_loads(now);
        let state = self.wall_state();
        let display = *self.display.get_or_insert_with(|| {
            self.display_choice
                .resolve(state.layout.monitors.len(), self.monitors_available)
        });
        let cx = state.frame_ctx(now);
        // Camera streams no tile asks for any more (a layout without them, a tile enlarged and
        // back) are closed after a few seconds, even when nothing else redraws.
        state.cameras.maintain();
        if state.cameras.stream_count() > 0 {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs(1));
        }

        // A locked desk shows the lock screen alone (the wall goes on).
        if self.sign_in.locked() && self.kiosk.is_none() {
            self.sign_in.lock_screen(ui, &cx);
            if display == DisplayMode::Wall {
                self.show_wall_viewports(ui.ctx(), &state);
            }
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs(1));
            self.last_frame_ms = frame_started.elapsed().as_secs_f32() * 1000.0;
            return;
        }
        // An unattended rotation shows nothing but its scenes; a kiosk nothing but the wall.
        let bare = (self.mode == Mode::Brief && self.brief.rotate) || self.kiosk.is_some();
        if !bare {
            self.top_bar(ui, &cx, &state);
            self.bottom_bar(ui, &cx, &state, display);
        }
        if let Some(errors) = &state.error {
            self.error_banner(ui, &cx, errors);
        }
        if self.mode == Mode::Arrange {
            self.arrange.show(ui, &cx);
        }
        if self.mode == Mode::Operate && self.backend.is_some() && self.kiosk.is_none() {
            let access = self.access();
            let read_only = !access.may_act;
            self.incidents.read_only_why = access.read_only_why;
            egui::Panel::right("incident-panel")
                .resizable(true)
                .default_size(480.0)
                .show(ui, |ui| {
                    self.incidents.show(ui, &cx, read_only, &mut self.commands);
                });
        }
        if self.mode == Mode::Demo && self.kiosk.is_none() {
            egui::Panel::right("demo-panel")
                .resizable(false)
                .show(ui, |ui| {
                    self.demo.show(ui, &cx, &mut self.commands);
                });
        }
        state.caches.begin_frame();
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F12)) {
            self.commands.push(Command::ToggleProfile);
        }
        if self.mode == Mode::Brief {
            self.brief.show(ui, &cx, &mut self.commands);
        }
        if !matches!(self.mode, Mode::Arrange | Mode::Brief) {
            self.scene_keys(ui, &state);
        }
        if !matches!(self.mode, Mode::Arrange | Mode::Brief) {
            let kiosk_monitor = match (&self.kiosk, display) {
                (Some(_), DisplayMode::Wall) => viewports::first_display_monitor(&state),
                _ => None,
            };
            egui::CentralPanel::no_frame().show(ui, |ui| {
                let avail = ui.max_rect();
                let layout = scope::scoped(&state.layout, &cx);
                match (&self.kiosk, kiosk_monitor) {
                    (Some(_), Some(index)) => {
                        wall_view::paint_monitor(ui, avail, &layout, index, &cx)
                    }
                    (Some(_), None) => wall_view::paint_wall_with(ui, avail, &layout, &cx, false),
                    (None, _) => wall_view::paint_wall_with(ui, avail, &layout, &cx, true),
                }
                if let Some(step) = &self.sync {
                    in_step::mark_undriven(ui, avail, &layout, &cx, step);
                }
            });
            if self.show_scope {
                let mut open = true;
                egui::Window::new(cx.t("scope.title"))
                    .open(&mut open)
                    .resizable(false)
                    .show(ui.ctx(), |ui| {
                        self.scope_picker.show(ui, &cx, &mut self.commands);
                    });
                self.show_scope = open;
            }
        }
        while let Ok(msg) = self.exports.1.try_recv() {
            self.notice = Some(msg);
        }
        if self.show_settings {
            self.settings_window(ui.ctx(), &cx);
        }
        if self.show_sync
            && let Some(step) = &mut self.sync
        {
            let mut open = true;
            egui::Window::new(cx.t("sync.title"))
                .open(&mut open)
                .resizable(false)
                .show(ui.ctx(), |ui| {
                    in_step::sync_window(ui, &cx, step, &state, &mut self.commands)
                });
            self.show_sync = open;
        }
        if self.show_profile {
            profile_window::show(ui.ctx(), &cx, &state.layout, &mut self.commands);
        }
        if self.audit_view.open {
            let trail = self
                .backend
                .as_ref()
                .and_then(|b| b.audit.as_ref())
                .map(|w| w.path.clone());
            self.audit_view.show(ui.ctx(), &cx, trail);
        }
        if display == DisplayMode::Wall {
            self.show_wall_viewports(ui.ctx(), &state);
        }
        if let Some(k) = &mut self.kiosk {
            k.show(ui.ctx(), &cx, now);
            // A wall nobody is signed in to shows the code and QR code to sign in with.
            self.sign_in.wall_card(ui.ctx(), &cx);
        } else {
            self.sign_in.show_window(ui.ctx(), &cx);
        }
        // Arrange mode asked to leave (its changes saved or discarded): from the next frame.
        if let Some(path) = self.arrange.saved.take() {
            self.audit("layout.saved", &path.display().to_string(), "");
        }
        if let Some(arrange::Outcome::Leave(to)) = self.arrange.take_outcome() {
            self.mode = to;
        }
        for c in std::mem::take(&mut self.commands) {
            self.apply(c);
        }
        // The next instant the screen changes by itself: the next second (clocks), or when drawing
        // sparingly the next minute or a dataset turning stale; data arriving wakes it sooner.
        let mut next = pace::next_frame(now, &state.store, state.low_power);
        if let Some(b) = &state.view.briefing
            && let Some(at) = self.brief.next_change(b.scene)
        {
            next = next.min((at - now).to_std().unwrap_or_default());
        }
        ui.ctx().request_repaint_after(next);
        self.last_frame_ms = frame_started.elapsed().as_secs_f32() * 1000.0;
    }
}
impl ConsoleApp {
    /// A briefing started before the backend's first loads arrived (a rotation started with the
    /// console) would show nothing for a whole round: while the live store has data the frozen
    /// one lacks, the briefing is frozen again as of now.
    fn freeze_first_loads(&mut self, now: DateTime<Utc>) {
        if !self.brief.first_loads {
            return;
        }
        let Ok(mut s) = self.state.write() else {
            return;
        };
        let Some(frozen) = &s.frozen else {
            return;
        };
        // Only while the first loads come in (a dataset that recovers later waits for R).
        if frozen.resources_with_data() == crate::sources::Resource::ALL.len() {
            self.brief.first_loads = false;
            return;
        }
        if s.store.resources_with_data() <= frozen.resources_with_data() {
            return;
        }
        // The units have come: the storyboard's scopes are checked against them now.
        if frozen.units.data.is_none()
            && let (Some(units), Some(board)) = (s.store.units.data.as_deref(), &s.storyboard)
            && let Err(e) = crate::wall::storyboard::check_units(board, units)
        {
            tracing::warn!(errors = %e.say(Lang::En), "a scene's scope is not among the backend's units");
            self.notice = Some(e.say(s.lang));
        }
        let mut view = (*s.view).clone();
        if let Some(b) = view.briefing.as_mut() {
            b.as_of = now;
        }
        s.frozen = Some(Arc::clone(&s.store));
        s.view = Arc::new(view);
        tracing::info!("briefing frozen again: the backend's first data arrived");
    }

    /// Keys 1–9 recall the layout's first nine scenes, 0 the base layout (not while a text
    /// field or a pop-up has the keyboard).
    fn scene_keys(&mut self, ui: &mut egui::Ui, state: &WallState) {
        let base = state.base.as_ref().unwrap_or(&state.layout);
        if base.scenes.is_empty()
            || ui.ctx().text_edit_focused()
            || egui::Popup::is_any_open(ui.ctx())
        {
            return;
        }
        use egui::Key::*;
        for (i, key) in [Num0, Num1, Num2, Num3, Num4, Num5, Num6, Num7, Num8, Num9]
            .into_iter()
            .enumerate()
        {
            if ui.input_mut(|inp| inp.consume_key(egui::Modifiers::NONE, key)) {
                let scene = match i {
                    0 => None,
                    n => match base.scenes.get(n - 1) {
                        Some(s) => Some(s.name.clone()),
                        None => continue,
                    },
                };
                self.commands.push(Command::RecallScene(scene));
            }
        }
    }
}

impl eframe::App for ConsoleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if let Some(w) = &mut self.watchdog {
            w.pass(ctx);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if self.monitors_available.is_none() {
            self.monitors_available = frame.winit_window().map(|w| w.available_monitors().count());
            if let Some(n) = self.monitors_available {
                tracing::info!(monitors = n, "monitors detected");
            }
        }
        let started = std::time::Instant::now();
        self.show(ui);
        if let Some(w) = &mut self.watchdog {
            w.frame_drawn();
        }
        // The whole frame of the previous pass (building, tessellating, painting) when eframe
        // measured it; else this pass's building.
        let seconds = frame
            .info()
            .cpu_usage
            .map_or_else(|| started.elapsed().as_secs_f64(), f64::from);
        self.report_metrics(ui.ctx(), seconds);
    }

    fn on_exit(&mut self) {
        if let Some(w) = &mut self.watchdog {
            w.stopping();
        }
        self.sign_in.closing();
        self.record_sign_in_audit();
        if let Some(w) = self.backend.as_ref().and_then(|b| b.audit.as_ref())
            && !w.flush(std::time::Duration::from_secs(5))
        {
            tracing::warn!(
                "the audit trail's last rows were not written before the console closed"
            );
        }
    }
}

/// Whether a display server is reachable (X11 or Wayland).
pub fn display_available() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Opens the console window and runs until it is closed. `low_power` is resolved against the
/// renderer found (a software rasterizer draws on the processor).
/// `brief`: a storyboard to offer first, and whether to rotate it unattended (full screen).
pub fn run(
    opts: LaunchOptions,
    low_power: crate::config::LowPower,
    brief: Option<(PathBuf, bool)>,
    sync: Option<(crate::sync::SyncLink, Box<dyn std::any::Any>)>,
    kiosk: Option<kiosk::Kiosk>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
) -> Result<(), String> {
    let rotate = brief.as_ref().is_some_and(|(_, rotate)| *rotate);
    let bare = kiosk.is_some();
    let title = format!(
        "{} — {}",
        crate::i18n::tr(opts.lang, "app.title"),
        opts.layout.name
    );
    let native = eframe::NativeOptions {
        viewport: ViewportBuilder::default()
            .with_title(title)
            .with_inner_size([1600.0, 900.0])
            .with_min_inner_size([640.0, 400.0])
            .with_fullscreen(rotate || bare)
            .with_decorations(!bare),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    let mut native = native;
    if bare {
        // The kiosk's own window is the monitor on the first display.
        native.viewport = native.viewport.with_monitor(0);
    }
    eframe::run_native(
        APP_ID,
        native,
        Box::new(move |cc| {
            let mut software = false;
            match &cc.wgpu_render_state {
                Some(rs) => {
                    crate::video::paint::VideoResources::install(
                        &mut rs.renderer.write(),
                        &rs.device,
                        rs.target_format,
                    );
                    software =
                        rs.adapter.get_info().device_type == egui_wgpu::wgpu::DeviceType::Cpu;
                }
                None => tracing::error!("no wgpu renderer: camera pictures cannot be drawn"),
            }
            let low_power = low_power.resolve(software);
            tracing::info!(software, low_power, "renderer");
            let mut app = ConsoleApp::new(&cc.egui_ctx, opts)
                .with_low_power(low_power)
                .with_systemd_watchdog();
            if let Some((link, keep)) = sync {
                app = app.with_sync(link, keep);
            }
            if let Some((path, rotate)) = brief {
                app = app.with_storyboard(path, rotate);
            }
            if let Some(k) = kiosk {
                app = app.with_kiosk(k.with_blanking_inhibited());
            }
            if let Some(m) = metrics {
                app = app.with_metrics(m);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_display_needs_enough_monitors_for_a_multi_monitor_layout() {
        assert_eq!(
            DisplayChoice::Auto.resolve(6, Some(1)),
            DisplayMode::Preview
        );
        assert_eq!(DisplayChoice::Auto.resolve(6, None), DisplayMode::Preview);
        assert_eq!(DisplayChoice::Auto.resolve(6, Some(6)), DisplayMode::Wall);
        assert_eq!(
            DisplayChoice::Auto.resolve(1, Some(3)),
            DisplayMode::Preview
        );
        assert_eq!(DisplayChoice::Wall.resolve(6, Some(1)), DisplayMode::Wall);
        assert_eq!(
            DisplayChoice::Preview.resolve(6, Some(6)),
            DisplayMode::Preview
        );
    }
}
