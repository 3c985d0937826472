//! Consoles in step (`[sync]`): what this console pushes to the wall and what it takes from it.
//!
//! With sync on, a command that changes the wall (a scene, an enlarged tile, cameras for an
//! incident, a camera pushed to a tile, the scope) is not applied here: it goes to the broker
//! as a [`WallChange`], and every console of the wall, this one too, applies it when the
//! watched value comes back, through the same code as a local click. A leader's desk, or a
//! console without its link, refuses it with the reason. The wall's consoles and the monitors
//! each drives are on the desk's sync window.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{ConsoleApp, WallState};
use crate::context::command::SentCameras;
use crate::context::{Command, FrameCtx};
use crate::model::wall_share::{
    BadValue, NearbyCameras, Presence, SharedBriefing, SharedWall, WallChange, driven_monitors,
};
use crate::role::Role;
use crate::sync::{LinkState, PushRefused, SyncLink, SyncRequest, SyncUpdate};

/// The app's side of the sync task.
pub struct InStep {
    pub link: SyncLink,
    pub state: LinkState,
    /// The revision of the value applied last.
    pub revision: u64,
    /// The value applied last (the wall's last good state).
    pub wall: Option<SharedWall>,
    /// The wall's consoles alive (this one included).
    pub consoles: Vec<Presence>,
    /// A value not applied: why, and its revision.
    pub bad: Option<(u64, BadValue)>,
    /// A value this console could not apply to its layout (another layout, unknown tiles).
    pub mismatch: Option<String>,
    /// Pushes waiting for the broker (their ids).
    pub pending: BTreeSet<u64>,
    next_id: u64,
    last_presence: Option<Instant>,
    /// The monitors this console drives now.
    pub driven: Vec<String>,
    /// The briefing shown was started by the wall's value (not by this console's presenter).
    pub briefing_from_wall: bool,
    /// The briefing this console's presenter shared last, and the push that carries it.
    shared_briefing: Option<Option<SharedBriefing>>,
    briefing_push: Option<u64>,
    /// Since when the link is up (None: it is not).
    up_since: Option<Instant>,
    /// The wall's value as received last (applied or not: applied again after a layout
    /// reload).
    pub received: Option<SharedWall>,
    /// The desk's "push a camera" form: the camera and the tile picked.
    pub form: (Option<String>, Option<String>),
    /// What is kept alive with the link (its runtime).
    _keep: Box<dyn std::any::Any>,
}

impl InStep {
    pub fn new(link: SyncLink, keep: Box<dyn std::any::Any>) -> InStep {
        let driven = link.monitors.clone();
        InStep {
            link,
            state: LinkState::Connecting,
            revision: 0,
            wall: None,
            consoles: Vec::new(),
            bad: None,
            mismatch: None,
            pending: Default::default(),
            next_id: 1,
            last_presence: None,
            driven,
            briefing_from_wall: false,
            shared_briefing: None,
            briefing_push: None,
            up_since: None,
            received: None,
            form: (None, None),
            _keep: keep,
        }
    }
}

impl Drop for InStep {
    /// The console closes: its task purges its heartbeat (the wall's other consoles see it go
    /// at once rather than after an expiry) before the runtime goes; waited for at most 1 s.
    fn drop(&mut self) {
        let (closed, _) = tokio::sync::mpsc::channel(1);
        drop(std::mem::replace(&mut self.link.requests, closed));
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until {
            match self.link.updates.try_recv() {
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => break,
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

impl ConsoleApp {
    /// Puts this console in step with its wall's other consoles.
    pub fn with_sync(mut self, link: SyncLink, keep: Box<dyn std::any::Any>) -> Self {
        let step = InStep::new(link, keep);
        if let Ok(mut s) = self.state.write() {
            s.driven = (!step.driven.is_empty()).then(|| step.driven.clone());
        }
        self.sync = Some(step);
        self
    }

    /// The sync state, if sync is on.
    pub fn in_step(&self) -> Option<&InStep> {
        self.sync.as_ref()
    }

    /// The change `command` asks of the wall, when it is one.
    fn wall_change(&self, command: &Command) -> Option<WallChange> {
        let state = self.wall_state();
        Some(match command {
            Command::RecallScene(scene) => {
                // The scene's own enlargements go with it, so every console shows the same.
                let base = state
                    .base
                    .clone()
                    .unwrap_or_else(|| Arc::clone(&state.layout));
                WallChange::Scene {
                    scene: scene.clone(),
                    enlarged: scene
                        .as_deref()
                        .map(|n| base.scene_enlargements(n))
                        .unwrap_or_default(),
                }
            }
            Command::Enlarge { monitor, tile } => WallChange::Enlarge {
                monitor: monitor.clone(),
                tile: tile.clone(),
            },
            Command::SendCameras(sent) => WallChange::Nearby {
                nearby: sent.as_ref().map(|s| NearbyCameras {
                    incident: s.incident.clone(),
                    cameras: s.cameras.clone(),
                }),
            },
            Command::PushCamera { tile, camera } => WallChange::Camera {
                tile: tile.clone(),
                camera: camera.clone(),
            },
            // A briefing's scope goes with its position (`share_briefing`).
            Command::Scope(_) if state.view.briefing.is_some() => return None,
            Command::Scope(unit) => WallChange::Scope { unit: unit.clone() },
            Command::WallPush(change) => change.clone(),
            _ => return None,
        })
    }

    /// With sync on, a command that changes the wall goes to the broker (or is refused with the
    /// reason); true when it was taken here and must not be applied locally.
    pub(super) fn push_to_wall(&mut self, command: &Command) -> bool {
        if self.sync.is_none() {
            return false;
        }
        let Some(change) = self.wall_change(command) else {
            return false;
        };
        let state = self.wall_state();
        let lang = state.lang;
        let Some(step) = self.sync.as_mut() else {
            return false;
        };
        if state.role == Role::Leader {
            tracing::warn!(?change, "a leader's desk does not change the wall");
            self.notice = Some(crate::i18n::tr(lang, "sync.refused_leader").to_string());
            return true;
        }
        if let LinkState::Down { since, .. } | LinkState::Refused { since, .. } = &step.state {
            tracing::warn!(?change, "no link to the broker: the push is refused");
            self.notice = Some(refusal(lang, &PushRefused::NoLink(*since), Utc::now()));
            return true;
        }
        let id = step.next_id;
        step.next_id += 1;
        let said = format!("{change:?}");
        match step.link.requests.try_send(SyncRequest::Push {
            id,
            change,
            layout: Some(state.base.as_ref().unwrap_or(&state.layout).name.clone()),
        }) {
            Ok(()) => {
                step.pending.insert(id);
                self.audit("wall.pushed", &said, "");
            }
            Err(_) => {
                tracing::warn!("the sync task is busy; a push is refused");
                self.notice = Some(crate::i18n::tr(lang, "sync.busy").to_string());
            }
        }
        true
    }

    /// With sync on, a presenter's briefing (where it stands, its "as of", its scope) goes to
    /// the wall after each step. A leader presenting on their own desk keeps it there.
    pub(super) fn share_briefing(&mut self) {
        let state = self.wall_state();
        let Some(step) = self.sync.as_mut() else {
            return;
        };
        if state.role == Role::Leader {
            return;
        }
        let briefing = state.view.briefing.as_ref().map(|b| SharedBriefing {
            storyboard: b
                .storyboard
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            scene: b.scene,
            as_of: b.as_of,
            black: b.black,
            scope: state.view.scope.clone(),
        });
        // Unchanged since this console last shared it (or as the wall has it, for a console
        // that has not presented).
        let known = match &step.shared_briefing {
            Some(b) => b.as_ref(),
            None => step.wall.as_ref().and_then(|w| w.briefing.as_ref()),
        };
        if known == briefing.as_ref() {
            return;
        }
        if let LinkState::Down { since, .. } | LinkState::Refused { since, .. } = &step.state {
            self.notice = Some(refusal(
                state.lang,
                &PushRefused::NoLink(*since),
                Utc::now(),
            ));
            return;
        }
        let id = step.next_id;
        step.next_id += 1;
        step.shared_briefing = Some(briefing.clone());
        step.briefing_push = Some(id);
        let change = WallChange::Briefing { briefing };
        if step
            .link
            .requests
            .try_send(SyncRequest::Push {
                id,
                change,
                layout: Some(state.base.as_ref().unwrap_or(&state.layout).name.clone()),
            })
            .is_ok()
        {
            step.pending.insert(id);
        }
    }

    /// The wall's briefing on this console: started from the same storyboard (found in this
    /// console's `briefings/` folder), at the same scene, black or not, scoped alike, with the
    /// presenter's "as of".
    fn apply_shared_briefing(&mut self, wall: &SharedWall) {
        use crate::context::BriefStep;
        let state = self.wall_state();
        let local = state.view.briefing.clone();
        // A briefing presented here (not one shown from the wall) is this console's own: the
        // wall's value does not move it (its own pushes still on their way, a leader presenting
        // on their desk).
        if local.is_some() && !self.sync.as_ref().is_some_and(|s| s.briefing_from_wall) {
            return;
        }
        let Some(remote) = &wall.briefing else {
            if local.is_some() && self.sync.as_ref().is_some_and(|s| s.briefing_from_wall) {
                self.brief_step(BriefStep::End);
                if let Some(s) = self.sync.as_mut() {
                    s.briefing_from_wall = false;
                }
            }
            return;
        };
        let same_board = local.as_ref().is_some_and(|b| {
            b.storyboard
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                == Some(remote.storyboard.clone())
        });
        if !same_board {
            let path = self.brief.storyboard_path(&remote.storyboard);
            self.brief_step(BriefStep::Start(path));
            if let Some(s) = self.sync.as_mut() {
                s.briefing_from_wall = true;
            }
        }
        let Some(local) = self.wall_state().view.briefing.clone() else {
            // The storyboard is not on this console: the notice says so.
            return;
        };
        if local.as_of != remote.as_of {
            self.brief_step(BriefStep::Refresh);
        }
        if local.scene != remote.scene {
            self.brief_step(BriefStep::Go(remote.scene.saturating_add(1)));
        }
        if local.black != remote.black {
            self.brief_step(BriefStep::Black);
        }
        if let Ok(mut s) = self.state.write() {
            let mut view = (*s.view).clone();
            if let Some(b) = view.briefing.as_mut() {
                b.as_of = remote.as_of;
            }
            view.scope.clone_from(&remote.scope);
            s.view = Arc::new(view);
        }
    }

    /// Takes what the sync task sent since the last frame: the wall's value applied, the
    /// consoles, the outcome of pushes; and sends this console's heartbeat.
    pub fn poll_sync(&mut self, frame_ms: f32) {
        let Some(step) = self.sync.as_mut() else {
            return;
        };
        let mut updates = Vec::new();
        while let Ok(u) = step.link.updates.try_recv() {
            updates.push(u);
        }
        let lang = self.wall_state().lang;
        let mut wall_value = None;
        for u in updates {
            let Some(step) = self.sync.as_mut() else {
                return;
            };
            match u {
                SyncUpdate::Link(l) => {
                    step.up_since = match (&l, step.up_since) {
                        (LinkState::Up, Some(t)) => Some(t),
                        (LinkState::Up, None) => Some(Instant::now()),
                        _ => None,
                    };
                    step.state = l;
                }
                SyncUpdate::Wall { revision, wall } => {
                    step.revision = revision;
                    step.bad = None;
                    step.received = Some((*wall).clone());
                    wall_value = Some(*wall);
                }
                SyncUpdate::Bad { revision, why } => step.bad = Some((revision, why)),
                SyncUpdate::Consoles(c) => step.consoles = c,
                SyncUpdate::Pushed { id, outcome } => {
                    step.pending.remove(&id);
                    if outcome.is_err() && step.briefing_push == Some(id) {
                        step.shared_briefing = None;
                    }
                    if let Err(why) = outcome {
                        self.notice = Some(refusal(lang, &why, Utc::now()));
                    }
                }
            }
        }
        if let Some(wall) = wall_value {
            self.apply_shared(wall);
        }
        self.update_driven();
        let state = self.wall_state();
        let Some(step) = self.sync.as_mut() else {
            return;
        };
        if step
            .last_presence
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(500))
        {
            step.last_presence = Some(Instant::now());
            let health = match state
                .store
                .status(crate::sources::Resource::Incidents, Utc::now())
                .state
            {
                crate::status::SourceState::Live => "ok",
                crate::status::SourceState::Offline => "offline",
                _ => "degraded",
            };
            let p = Presence {
                console: step.link.console.clone(),
                host: crate::sync::host_name(),
                version: env!("CARGO_PKG_VERSION").into(),
                layout: Some(state.layout.name.clone()),
                // A desk (no monitors named, no standby) drives none of the wall's monitors.
                monitors: step.driven.clone(),
                primary: step.link.monitors.clone(),
                standby: step.link.standby.clone(),
                frame_ms,
                health: health.into(),
                role: format!("{:?}", state.role).to_lowercase(),
                at: Utc::now(),
            };
            let _ = step
                .link
                .requests
                .try_send(SyncRequest::Presence(Box::new(p)));
        }
    }

    /// The monitors this console drives, from its own, its standby set and the live consoles.
    fn update_driven(&mut self) {
        let Some(step) = self.sync.as_mut() else {
            return;
        };
        if step.link.monitors.is_empty() && step.link.standby.is_empty() {
            return;
        }
        let others: Vec<Presence> = step
            .consoles
            .iter()
            .filter(|p| p.console != step.link.console)
            .cloned()
            .collect();
        // Without the link, a standby keeps what it drives (it cannot know better); with it,
        // only once the link has been up for one expiry (the other consoles' heartbeats have
        // had time to arrive: a standby starting beside a live primary does not grab its
        // monitors for a moment).
        let settled = step
            .up_since
            .is_some_and(|t| t.elapsed() >= step.link.expire);
        let driven = if step.state.is_up() && settled {
            driven_monitors(&step.link.monitors, &step.link.standby, &others)
        } else {
            step.driven.clone()
        };
        if driven != step.driven {
            tracing::info!(?driven, "sync: the monitors this console drives changed");
            step.driven = driven.clone();
        }
        if let Ok(mut s) = self.state.write()
            && s.driven.as_ref() != Some(&driven)
        {
            s.driven = Some(driven);
            self.display = None;
        }
    }

    /// After a layout reload: the wall's last value again (it may name tiles the new layout
    /// has, or not have what the old one lacked).
    pub(super) fn reapply_shared(&mut self) {
        if let Some(wall) = self.sync.as_ref().and_then(|s| s.received.clone()) {
            self.apply_shared(wall);
        }
    }

    /// Applies the wall's value: the same commands as a local click, for what differs.
    fn apply_shared(&mut self, wall: SharedWall) {
        let state = self.wall_state();
        let base = state
            .base
            .clone()
            .unwrap_or_else(|| Arc::clone(&state.layout));
        let mismatch =
            match wall.layout.as_deref() {
                Some(name) if name != base.name => Some(crate::i18n::tr_args(
                    state.lang,
                    "sync.other_layout",
                    &[("wall", &name), ("here", &base.name)],
                )),
                _ => {
                    let unknown = wall.unknown(
                        |t| base.tiles.iter().any(|x| x.id == t),
                        |m| base.monitors.iter().any(|x| x.name == m),
                    );
                    let scene_unknown = wall
                        .scene
                        .as_deref()
                        .filter(|s| base.scene(s).is_none())
                        .map(str::to_string);
                    unknown.first().cloned().or(scene_unknown).map(|id| {
                        crate::i18n::tr_args(state.lang, "sync.unknown_tile", &[("id", &id)])
                    })
                }
            };
        if let Some(why) = mismatch {
            tracing::warn!(%why, "sync: the wall's value is not applied here");
            if let Some(step) = self.sync.as_mut() {
                step.mismatch = Some(why);
            }
            return;
        }
        if state.view.scene != wall.scene {
            self.recall_scene(wall.scene.clone());
        }
        if let Ok(mut s) = self.state.write() {
            let mut view = (*s.view).clone();
            view.enlarged = wall.enlarged.clone();
            let sent = wall.nearby.as_ref().map(|n| SentCameras {
                incident: n.incident.clone(),
                cameras: n.cameras.clone(),
            });
            view.apply(&Command::SendCameras(sent));
            if wall.briefing.is_none() {
                view.scope.clone_from(&wall.scope);
            }
            let cameras_changed = view.pushed != wall.cameras;
            view.pushed = wall.cameras.clone();
            s.view = Arc::new(view);
            if cameras_changed {
                super::compose_layout(&mut s);
            }
        }
        self.apply_shared_briefing(&wall);
        if let Some(step) = self.sync.as_mut() {
            step.mismatch = None;
            step.wall = Some(wall);
        }
    }
}

/// A refused push, in words.
pub fn refusal(lang: crate::i18n::Lang, why: &PushRefused, now: DateTime<Utc>) -> String {
    match why {
        PushRefused::NoLink(since) => crate::i18n::tr_args(
            lang,
            "sync.refused_no_link",
            &[("age", &crate::format::age(lang, now - *since))],
        ),
        PushRefused::Broker(w) => crate::i18n::tr_args(lang, "sync.refused_broker", &[("why", w)]),
        PushRefused::Contended(n) => {
            crate::i18n::tr_args(lang, "sync.refused_contended", &[("n", &n.to_string())])
        }
        PushRefused::OtherLayout(l) => {
            crate::i18n::tr_args(lang, "sync.refused_other_layout", &[("layout", l)])
        }
        PushRefused::Unreadable(_) => crate::i18n::tr(lang, "sync.refused_unreadable").to_string(),
    }
}

/// The sync state in a few words for the top bar, and whether it is good.
pub fn link_words(cx: &FrameCtx, step: &InStep) -> (String, bool) {
    match &step.state {
        LinkState::Connecting => (cx.t("sync.connecting").to_string(), false),
        LinkState::Up => (
            cx.t_args("sync.up", &[("n", &step.consoles.len().to_string())]),
            step.bad.is_none() && step.mismatch.is_none(),
        ),
        LinkState::Down { since, .. } => (
            cx.t_args(
                "sync.down",
                &[("age", &crate::format::age(cx.lang, cx.now - *since))],
            ),
            false,
        ),
        LinkState::Refused { why, .. } => (cx.t_args("sync.refused", &[("why", why)]), false),
    }
}

/// The desk's sync window: the wall's consoles, the monitors they drive, the monitors none
/// drives, and what was not applied.
pub fn sync_window(
    ui: &mut egui::Ui,
    cx: &FrameCtx,
    step: &mut InStep,
    state: &WallState,
    commands: &mut Vec<Command>,
) {
    let (words, good) = link_words(cx, step);
    let colour = if good {
        crate::ui::theme::colors::LIVE
    } else {
        crate::ui::theme::colors::ERROR
    };
    ui.colored_label(colour, words);
    if let LinkState::Down { why, .. } = &step.state {
        ui.label(cx.t_args("sync.down_why", &[("why", why)]));
    }
    ui.label(cx.t_args(
        "sync.wall_name",
        &[("wall", &step.link.wall), ("console", &step.link.console)],
    ));
    if let Some((rev, why)) = &step.bad {
        let why = match why {
            BadValue::Malformed(m) => cx.t_args("sync.bad_malformed", &[("why", m)]),
            BadValue::Newer(f) => cx.t_args("sync.bad_newer", &[("format", &f.to_string())]),
            BadValue::TooLarge(n) => cx.t_args("sync.bad_large", &[("bytes", &n.to_string())]),
        };
        ui.colored_label(
            crate::ui::theme::colors::STALE,
            cx.t_args("sync.bad", &[("rev", &rev.to_string()), ("why", &why)]),
        );
    }
    if let Some(m) = &step.mismatch {
        ui.colored_label(crate::ui::theme::colors::STALE, m);
    }
    ui.separator();
    egui::Grid::new("sync-consoles")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "sync.col_console",
                "sync.col_monitors",
                "sync.col_frame",
                "sync.col_health",
            ] {
                ui.strong(cx.t(h));
            }
            ui.end_row();
            for p in &step.consoles {
                let me = p.console == step.link.console;
                let name = if me {
                    cx.t_args("sync.this_console", &[("name", &p.console)])
                } else {
                    format!("{} ({})", p.console, p.host)
                };
                ui.label(name);
                ui.label(p.monitors.join(", "));
                ui.label(format!("{:.1} ms", p.frame_ms));
                ui.label(&p.health);
                ui.end_row();
            }
        });
    let base = state.base.as_deref().unwrap_or(&state.layout);
    let wall_pcs = wall_pcs(&step.consoles);
    let undriven = crate::model::wall_share::undriven(
        base.monitors.iter().map(|m| m.name.as_str()),
        &wall_pcs,
    );
    if step.state.is_up() && !wall_pcs.is_empty() && !undriven.is_empty() {
        ui.colored_label(
            crate::ui::theme::colors::ERROR,
            cx.t_args("sync.undriven", &[("monitors", &undriven.join(", "))]),
        );
    }
    ui.separator();
    push_camera_form(ui, cx, step, base, commands);
}

/// "Đưa lên tường": a camera onto one of the layout's camera tiles, and those pushed, each with
/// a button to give the tile its own camera back.
fn push_camera_form(
    ui: &mut egui::Ui,
    cx: &FrameCtx,
    step: &mut InStep,
    layout: &crate::wall::WallLayout,
    commands: &mut Vec<Command>,
) {
    use crate::tiles::TileOptions;
    ui.strong(cx.t("sync.push_camera"));
    let cameras = cx.store.cameras.data.as_deref().unwrap_or(&[]);
    let tiles: Vec<&crate::wall::layout::Tile> = layout
        .tiles
        .iter()
        .filter(|t| matches!(t.options, TileOptions::Camera(_)))
        .collect();
    if cameras.is_empty() || tiles.is_empty() {
        ui.label(cx.t("sync.push_camera_none"));
        return;
    }
    let (camera, tile) = &mut step.form;
    ui.horizontal(|ui| {
        let camera_names: Vec<(&str, &str)> = cameras
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str()))
            .collect();
        pick(
            ui,
            cx,
            "sync-push-camera",
            "sync.push_camera_which",
            camera,
            &camera_names,
        );
        let tile_names: Vec<(&str, &str)> = tiles
            .iter()
            .map(|t| (t.id.as_str(), t.title.as_str()))
            .collect();
        pick(
            ui,
            cx,
            "sync-push-tile",
            "sync.push_camera_to",
            tile,
            &tile_names,
        );
        let ready = camera.is_some() && tile.is_some();
        if ui
            .add_enabled(ready, egui::Button::new(cx.t("sync.push")))
            .clicked()
            && let (Some(c), Some(t)) = (camera.clone(), tile.clone())
        {
            commands.push(Command::PushCamera {
                tile: t,
                camera: Some(c),
            });
        }
    });
    for (t, c) in &cx.view.pushed {
        ui.horizontal(|ui| {
            let title = tiles
                .iter()
                .find(|x| &x.id == t)
                .map_or(t.as_str(), |x| x.title.as_str());
            let name = cameras
                .iter()
                .find(|x| &x.id == c)
                .map_or(c.as_str(), |x| x.name.as_str());
            ui.label(format!("{title}: {name}"));
            if ui.small_button(cx.t("sync.give_back")).clicked() {
                commands.push(Command::PushCamera {
                    tile: t.clone(),
                    camera: None,
                });
            }
        });
    }
}

/// A labelled drop-down of (id, name) choices.
fn pick(
    ui: &mut egui::Ui,
    cx: &FrameCtx,
    salt: &str,
    label: &'static str,
    choice: &mut Option<String>,
    options: &[(&str, &str)],
) {
    let l = ui.label(cx.t(label));
    let shown = choice
        .as_deref()
        .and_then(|id| options.iter().find(|(i, _)| *i == id))
        .map_or_else(|| cx.t("sync.pick").to_string(), |(_, n)| n.to_string());
    egui::ComboBox::from_id_salt(salt)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (id, name) in options {
                ui.selectable_value(choice, Some(id.to_string()), *name);
            }
        })
        .response
        .labelled_by(l.id);
}

/// The wall's own PCs: consoles that name monitors or stand by for some (a desk names none).
fn wall_pcs(consoles: &[Presence]) -> Vec<Presence> {
    consoles
        .iter()
        .filter(|p| !p.primary.is_empty() || !p.standby.is_empty())
        .cloned()
        .collect()
}

/// On the desk's picture of the wall, the monitors no console of the wall drives.
pub fn mark_undriven(
    ui: &egui::Ui,
    avail: egui::Rect,
    layout: &crate::wall::WallLayout,
    cx: &FrameCtx,
    step: &InStep,
) {
    if !step.state.is_up() {
        return;
    }
    let wall_pcs = wall_pcs(&step.consoles);
    if wall_pcs.is_empty() {
        return;
    }
    let undriven = crate::model::wall_share::undriven(
        layout.monitors.iter().map(|m| m.name.as_str()),
        &wall_pcs,
    );
    let (screens, _) = super::wall_view::wall_screens(layout, avail);
    let painter = ui.painter_at(avail);
    for (i, m) in layout.monitors.iter().enumerate() {
        if !undriven.contains(&m.name) {
            continue;
        }
        let Some(r) = screens.get(i) else { continue };
        painter.rect_filled(*r, 0.0, egui::Color32::from_black_alpha(170));
        painter.rect_stroke(
            *r,
            0.0,
            egui::Stroke::new(3.0, crate::ui::theme::colors::ERROR),
            egui::StrokeKind::Inside,
        );
        painter.text(
            r.center(),
            egui::Align2::CENTER_CENTER,
            cx.t_args("sync.monitor_undriven", &[("name", &m.name)]),
            crate::ui::theme::prop_font((r.height() / 12.0).clamp(10.0, 28.0)),
            crate::ui::theme::colors::TEXT,
        );
    }
}
