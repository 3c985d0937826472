//! Brief mode (Giao ban): a storyboard's scenes presented to leaders. The desk shows the
//! presenter view (current and next scene, notes, elapsed time, the scene list); the audience
//! sees the scene on the wall or the briefing screen in the large-type theme. The data is frozen
//! when the briefing starts ("as of"); R freezes it again as of now. Clicker keys step through
//! the scenes. Every step is a [`BriefStep`] command applied in the app's one place.

pub mod deck;
pub mod scene;
mod step;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use egui::{Key, Modifiers, RichText};

use crate::context::{BriefStep, Command, FrameCtx, InkOp};
use crate::wall::storyboard::{self, Storyboard};

/// How long a scene stays when rotating and the storyboard gives it no duration.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(30);

/// A storyboard offered to start, and what reading it said.
struct Offered {
    path: PathBuf,
    result: Result<Arc<Storyboard>, String>,
}

/// Brief mode's own state (where the briefing stands is the view's: `ViewState::briefing`).
#[derive(Default)]
pub struct BriefMode {
    /// The folder of layouts the storyboards name (`layouts/`).
    layouts: PathBuf,
    /// A storyboard named on the command line (offered first).
    named: Option<PathBuf>,
    offered: Option<Vec<Offered>>,
    /// The storyboard of the briefing in progress.
    pub storyboard: Option<Arc<Storyboard>>,
    started_at: Option<DateTime<Utc>>,
    /// When the scene shown was due to start (rotation keeps to the schedule).
    scene_at: Option<DateTime<Utc>>,
    /// When the step the rotation asked for this frame was due (its scene starts then).
    scheduled: Option<DateTime<Utc>>,
    /// Digits typed for a jump (number then Enter).
    typed: String,
    /// Step through the scenes by their durations, refreshing the data every round.
    pub rotate: bool,
    /// Rounds of the rotation completed.
    pub rounds: u64,
    /// The scope's type-ahead.
    scope: super::scope::ScopePicker,
    /// The tile states of the next scene's preview.
    preview_tiles: Arc<std::sync::Mutex<crate::context::TileStates>>,
    /// Until the backend's first loads are in, the frozen data follows them.
    pub(in crate::app) first_loads: bool,
    /// What the presenter's mouse or pen does on the scene.
    pub tool: Option<Tool>,
    /// Where the pointer was last sent (it is sent again only when it moves).
    pointer_sent: Option<egui::Pos2>,
}

/// The presenter's tools on the scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Ink of pen colour `n` (see `scene::INK`).
    Pen(usize),
    Eraser,
    /// A dot that fades after the mouse stops.
    Pointer,
}

/// The eraser's reach, in the scene's own coordinates.
const ERASER: f32 = 0.025;

impl BriefMode {
    /// Where storyboard `name` (a file name, as consoles in step share it) is on this console.
    pub fn storyboard_path(&self, name: &str) -> PathBuf {
        self.layouts.join("briefings").join(name)
    }

    pub fn new(layouts: PathBuf) -> Self {
        BriefMode {
            layouts,
            ..Default::default()
        }
    }

    /// Offers `path` first (`--storyboard`), and steps by durations when `rotate`.
    pub fn name(&mut self, path: PathBuf, rotate: bool) {
        self.named = Some(path);
        self.rotate = rotate;
        self.offered = None;
    }

    /// Reads the storyboards to offer (on entering the mode; again after a briefing ends).
    pub fn refresh_offers(&mut self) {
        let mut paths = storyboard::find(&self.layouts);
        if let Some(n) = &self.named {
            let same = |p: &Path| p.canonicalize().ok() == n.canonicalize().ok() || p == n;
            paths.retain(|p| !same(p));
            paths.insert(0, n.clone());
        }
        self.offered = Some(
            paths
                .into_iter()
                .map(|path| Offered {
                    result: storyboard::load(&path)
                        .map(Arc::new)
                        .map_err(|e| e.say(crate::i18n::Lang::Vi)),
                    path,
                })
                .collect(),
        );
    }

    /// The briefing started with `board` at `now`.
    pub(in crate::app) fn started(&mut self, board: Arc<Storyboard>, now: DateTime<Utc>) {
        self.storyboard = Some(board);
        self.started_at = Some(now);
        self.scene_at = Some(now);
        self.typed.clear();
        self.rounds = 0;
        self.first_loads = true;
    }

    /// The scene changed at `at`.
    pub(in crate::app) fn moved(&mut self, at: DateTime<Utc>) {
        self.scene_at = Some(self.scheduled.take().unwrap_or(at));
        self.typed.clear();
    }

    pub(in crate::app) fn ended(&mut self) {
        self.storyboard = None;
        self.started_at = None;
        self.scene_at = None;
        self.typed.clear();
    }

    /// The presenter's keys (clicker keys too), consumed before any widget sees them; focus is
    /// given up so arrows and Space never move or press a button instead.
    fn keys(&mut self, ui: &mut egui::Ui, scoped: bool, out: &mut Vec<Command>) {
        if ui.ctx().text_edit_focused() || egui::Popup::is_any_open(ui.ctx()) {
            return;
        }
        let pressed = |key: Key| ui.input_mut(|i| i.consume_key(Modifiers::NONE, key));
        let step = |s: BriefStep| Command::Brief(s);
        if pressed(Key::ArrowRight) | pressed(Key::Space) | pressed(Key::PageDown) {
            out.push(step(BriefStep::Next));
        }
        if pressed(Key::ArrowLeft) | pressed(Key::PageUp) {
            out.push(step(BriefStep::Previous));
        }
        use Key::*;
        for (d, key) in [Num0, Num1, Num2, Num3, Num4, Num5, Num6, Num7, Num8, Num9]
            .into_iter()
            .enumerate()
        {
            if pressed(key) && self.typed.len() < 3 {
                self.typed.push(char::from(b'0' + d as u8));
            }
        }
        if pressed(Backspace) {
            self.typed.pop();
        }
        if pressed(Enter)
            && let Ok(n) = std::mem::take(&mut self.typed).parse::<usize>()
        {
            out.push(step(BriefStep::Go(n)));
        }
        if pressed(B) {
            out.push(step(BriefStep::Black));
        }
        if pressed(R) {
            out.push(step(BriefStep::Refresh));
        }
        if pressed(Escape) {
            if !self.typed.is_empty() {
                self.typed.clear();
            } else if scoped {
                // Esc goes back to the province first.
                out.push(Command::Scope(None));
            } else {
                out.push(step(BriefStep::End));
            }
        }
        ui.ctx().memory_mut(|m| {
            if let Some(id) = m.focused() {
                m.surrender_focus(id);
            }
        });
    }

    /// The pen, the eraser or the pointer on the scene drawn at `rect`.
    fn marking(&mut self, ui: &mut egui::Ui, rect: egui::Rect, out: &mut Vec<Command>) {
        let Some(tool) = self.tool else {
            return;
        };
        let r = ui.interact(
            rect,
            ui.make_persistent_id("brief-ink"),
            egui::Sense::click_and_drag(),
        );
        let r = r.on_hover_cursor(egui::CursorIcon::Crosshair);
        let ink = |op| Command::Brief(BriefStep::Ink(op));
        match tool {
            Tool::Pen(colour) => {
                if let Some(p) = r.interact_pointer_pos() {
                    let at = scene::to_scene(rect, p);
                    if r.drag_started() {
                        // The stroke begins where the pen went down, not where the drag was
                        // recognised a few points later.
                        let from = ui.input(|i| i.pointer.press_origin()).unwrap_or(p);
                        out.push(ink(InkOp::Begin {
                            colour,
                            at: scene::to_scene(rect, from),
                        }));
                        if from != p {
                            out.push(ink(InkOp::Extend(at)));
                        }
                    } else if r.clicked() {
                        out.push(ink(InkOp::Begin { colour, at }));
                    } else if r.dragged() && r.drag_delta() != egui::Vec2::ZERO {
                        out.push(ink(InkOp::Extend(at)));
                    }
                }
            }
            Tool::Eraser => {
                if let Some(p) = r.interact_pointer_pos()
                    && (r.dragged() || r.clicked())
                {
                    out.push(ink(InkOp::Erase {
                        at: scene::to_scene(rect, p),
                        radius: ERASER,
                    }));
                }
            }
            Tool::Pointer => {
                if let Some(p) = r.hover_pos()
                    && self.pointer_sent.is_none_or(|q| q.distance(p) > 1.0)
                {
                    self.pointer_sent = Some(p);
                    out.push(ink(InkOp::Point(scene::to_scene(rect, p))));
                }
            }
        }
    }

    /// Unattended rotation: the next scene when this one's duration is over (the first again,
    /// with the data refreshed, after the last). One step a frame at most: a scene is never
    /// skipped, and the schedule is kept from when each scene was due, not when it was drawn.
    fn rotation(
        &mut self,
        now: DateTime<Utc>,
        scene: usize,
        scenes: usize,
        out: &mut Vec<Command>,
    ) {
        let (Some(board), Some(at)) = (&self.storyboard, self.scene_at) else {
            return;
        };
        let due = at
            + chrono::Duration::from_std(board.duration_of(scene, DEFAULT_DURATION))
                .unwrap_or_default();
        if now < due {
            return;
        }
        if scene + 1 >= scenes {
            out.push(Command::Brief(BriefStep::Go(1)));
            out.push(Command::Brief(BriefStep::Refresh));
            self.rounds += 1;
        } else {
            out.push(Command::Brief(BriefStep::Next));
        }
        // A console that fell behind by more than a scene starts the schedule again from now.
        let next_due = board.duration_of((scene + 1) % scenes, DEFAULT_DURATION);
        let behind = now - due > chrono::Duration::from_std(next_due).unwrap_or_default();
        let at = if behind { now } else { due };
        self.scene_at = Some(at);
        self.scheduled = Some(at);
    }

    /// When the rotation next changes the scene (to wake the frame then).
    pub fn next_change(&self, scene: usize) -> Option<DateTime<Utc>> {
        let board = self.storyboard.as_ref()?;
        if !self.rotate {
            return None;
        }
        Some(
            self.scene_at?
                + chrono::Duration::from_std(board.duration_of(scene, DEFAULT_DURATION))
                    .unwrap_or_default(),
        )
    }

    /// The desk in Brief mode: the storyboards to start, or the presenter view.
    pub fn show(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, out: &mut Vec<Command>) {
        let (Some(b), Some(board)) = (cx.view.briefing.clone(), self.storyboard.clone()) else {
            self.picker(ui, cx, out);
            return;
        };
        self.scheduled = None;
        self.keys(ui, cx.view.scope.is_some(), out);
        if self.rotate {
            self.rotation(cx.now, b.scene, board.scenes.len(), out);
        }
        let Some(current) = board.scenes.get(b.scene) else {
            return;
        };
        if self.rotate {
            // Unattended: the audience's view alone, on the whole window.
            egui::CentralPanel::no_frame().show(ui, |ui| {
                let rect = ui.max_rect();
                if b.black {
                    ui.painter().rect_filled(rect, 0.0, egui::Color32::BLACK);
                } else {
                    scene::paint_scene(ui, rect, current, cx, scene::Marks::of(&b));
                }
            });
            return;
        }
        egui::Panel::left("brief-scenes")
            .resizable(true)
            .default_size(280.0)
            .show(ui, |ui| {
                ui.heading(cx.t("brief.scenes"));
                ui.label(RichText::new(&board.title).strong());
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for (i, s) in board.scenes.iter().enumerate() {
                        let label = format!("{}. {}", i + 1, s.title);
                        if ui.selectable_label(i == b.scene, label).clicked() {
                            out.push(Command::Brief(BriefStep::Go(i + 1)));
                        }
                    }
                });
            });
        egui::Panel::right("brief-presenter")
            .resizable(true)
            .default_size(420.0)
            .show(ui, |ui| {
                self.presenter(ui, cx, &board, &b, out);
            });
        egui::CentralPanel::no_frame().show(ui, |ui| {
            let rect = ui.max_rect();
            if b.black {
                ui.painter().rect_filled(rect, 0.0, egui::Color32::BLACK);
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    cx.t("brief.blacked"),
                    crate::ui::theme::prop_font(18.0),
                    crate::ui::theme::colors::TEXT_DIM,
                );
            } else {
                scene::paint_scene(ui, rect, current, cx, scene::Marks::of(&b));
                self.marking(ui, scene::frame(rect), out);
            }
        });
    }

    fn presenter(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        board: &Storyboard,
        b: &crate::context::view::BriefingView,
        out: &mut Vec<Command>,
    ) {
        let current = &board.scenes[b.scene];
        ui.label(cx.t_args(
            "brief.current",
            &[("n", &(b.scene + 1)), ("total", &board.scenes.len())],
        ));
        ui.heading(&current.title);
        if let Some(line) = scene::as_of_line(cx) {
            ui.label(RichText::new(line).strong());
        }
        let since = |t: Option<DateTime<Utc>>| {
            clock_words(t.map_or(chrono::Duration::zero(), |t| cx.now - t))
        };
        ui.label(cx.t_args(
            "brief.elapsed",
            &[
                ("total", &since(self.started_at)),
                ("scene", &since(self.scene_at)),
            ],
        ));
        if self.rotate {
            ui.label(RichText::new(cx.t("brief.rotating")).italics());
        }
        if !self.typed.is_empty() {
            ui.label(RichText::new(cx.t_args("brief.jump", &[("n", &self.typed)])).strong());
        }
        ui.horizontal_wrapped(|ui| {
            let step = |s| Command::Brief(s);
            if ui.button(cx.t("brief.previous")).clicked() {
                out.push(step(BriefStep::Previous));
            }
            if ui.button(cx.t("brief.next")).clicked() {
                out.push(step(BriefStep::Next));
            }
            if ui.button(cx.t("brief.refresh")).clicked() {
                out.push(step(BriefStep::Refresh));
            }
            let black = if b.black {
                "brief.unblack"
            } else {
                "brief.black"
            };
            if ui.button(cx.t(black)).clicked() {
                out.push(step(BriefStep::Black));
            }
            if ui.button(cx.t("brief.end")).clicked() {
                out.push(step(BriefStep::End));
            }
            if ui.button(cx.t("brief.deck.button")).clicked() {
                out.push(step(BriefStep::ExportDeck));
            }
        });
        ui.horizontal_wrapped(|ui| {
            let tools = [
                (None, "brief.tool.none"),
                (Some(Tool::Pen(0)), "brief.tool.pen_red"),
                (Some(Tool::Pen(1)), "brief.tool.pen_yellow"),
                (Some(Tool::Pen(2)), "brief.tool.pen_blue"),
                (Some(Tool::Eraser), "brief.tool.eraser"),
                (Some(Tool::Pointer), "brief.tool.pointer"),
            ];
            for (tool, key) in tools {
                if ui.selectable_label(self.tool == tool, cx.t(key)).clicked() {
                    self.tool = tool;
                }
            }
            if ui.button(cx.t("brief.tool.clear")).clicked() {
                out.push(Command::Brief(BriefStep::Ink(InkOp::Clear)));
            }
        });
        ui.separator();
        self.scope.show(ui, cx, out);
        ui.separator();
        ui.label(RichText::new(cx.t("brief.next_scene")).strong());
        match board.scenes.get(b.scene + 1) {
            Some(next) => {
                ui.label(&next.title);
                let w = ui.available_width();
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(w, w * 9.0 / 16.0), egui::Sense::hover());
                // The next scene in its own scope, with tile states of its own (a map's view is
                // not shared with the scene shown).
                let mut view = (*cx.view).clone();
                view.scope = next.scope.as_ref().map(|u| u.0.clone());
                let ncx = FrameCtx {
                    view: Arc::new(view),
                    tiles: Arc::clone(&self.preview_tiles),
                    ..cx.clone()
                };
                scene::paint_scene(ui, rect, next, &ncx, scene::Marks::default());
            }
            None => {
                ui.label(cx.t("brief.last"));
            }
        }
        ui.separator();
        ui.label(RichText::new(cx.t("brief.notes")).strong());
        egui::ScrollArea::vertical()
            .id_salt("brief-notes")
            .show(ui, |ui| match &current.notes {
                Some(n) => {
                    ui.label(RichText::new(n).size(17.0));
                }
                None => {
                    ui.label(RichText::new(cx.t("brief.no_notes")).italics());
                }
            });
        ui.separator();
        ui.small(cx.t("brief.keys"));
    }

    /// The storyboards to start (and why one cannot be used).
    fn picker(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, out: &mut Vec<Command>) {
        if self.offered.is_none() {
            self.refresh_offers();
        }
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading(cx.t("brief.pick"));
            let offered = self.offered.as_deref().unwrap_or_default();
            if offered.is_empty() {
                let dir = self.layouts.join("briefings");
                ui.label(cx.t_args("brief.none_found", &[("dir", &dir.display())]));
            }
            for o in offered {
                ui.separator();
                match &o.result {
                    Ok(board) => {
                        ui.label(RichText::new(&board.title).strong().size(18.0));
                        ui.label(format!(
                            "{} · {}",
                            o.path.display(),
                            cx.t_args("brief.scene_count", &[("n", &board.scenes.len())])
                        ));
                        if ui.button(cx.t("brief.start")).clicked() {
                            out.push(Command::Brief(BriefStep::Start(o.path.clone())));
                        }
                    }
                    Err(why) => {
                        ui.label(cx.t_args("brief.load_failed", &[("file", &o.path.display())]));
                        ui.label(
                            RichText::new(why)
                                .monospace()
                                .color(crate::ui::theme::colors::ERROR),
                        );
                    }
                }
            }
        });
    }
}

/// Minutes and seconds (hours when there are any): "05:07", "1:02:09".
fn clock_words(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}
