//! Arrange mode (Bố trí): a technician arranges the wall on its preview. The edits themselves
//! are `wall::edit` (on the layout file's own document, with undo) and saving is `wall::save`;
//! this module is their UI: the canvas (`canvas`: the live wall with each monitor's grid, drag to
//! move and resize, refusals drawn red), the side panel (`panel`: palette, the selected tile's
//! form, monitors, tiles that no longer fit) and the dialogs (`dialogs`: the diff before saving,
//! a file changed on disk, leaving with unsaved changes).

mod canvas;
mod dialogs;
mod panel;

use std::path::Path;

use crate::context::FrameCtx;
use crate::role::Mode;
use crate::text::Text;
use crate::wall::WallLayout;
use crate::wall::edit::{Arrangement, OpenError, Refusal};
use crate::wall::save::{self, SavePlan, SaveProblem};

/// A dialog over the canvas.
#[derive(Clone, Debug)]
enum Dialog {
    /// The diff of what saving would write; written when confirmed.
    Save(SavePlan),
    /// The file on disk changed since arranging began: both versions shown.
    Conflict { disk: String, plan: SavePlan },
    /// Leaving for `to` with unsaved changes: save, discard or stay.
    Leave { to: Mode },
}

/// What the mode asks of the app after a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Switch to this mode (changes saved or discarded).
    Leave(Mode),
}

/// Arrange mode's state: the arrangement (opened when the mode is entered), the selection and
/// what is being dragged.
#[derive(Default)]
pub struct ArrangeMode {
    /// The file just saved, for the audit trail (taken by the app).
    pub saved: Option<std::path::PathBuf>,
    doc: Option<Result<Arrangement, OpenError>>,
    selected: Option<String>,
    drag: Option<canvas::Drag>,
    /// The last refusal or result, said in the status line.
    message: Option<(Text, bool)>,
    dialog: Option<Dialog>,
    /// The "save as" file name being typed.
    save_as: String,
    form: panel::FormBuffers,
    outcome: Option<Outcome>,
    /// The mode to go to once the save asked for when leaving is written.
    leave_after_save: Option<Mode>,
    /// The scene being edited (None: the base layout).
    scene: Option<String>,
    /// The scene's title being typed.
    scene_title: Option<String>,
}

impl ArrangeMode {
    /// Opens `layout`'s file for arranging (again, if it was closed).
    pub fn open(&mut self, layout: &WallLayout) {
        if self.doc.is_some() {
            return;
        }
        self.doc = Some(match &layout.path {
            Some(p) => Arrangement::open(p),
            None => Err(OpenError::Unsupported("path")),
        });
        self.selected = None;
        self.drag = None;
        self.dialog = None;
        self.message = None;
        self.scene = None;
        self.scene_title = None;
        if let Some(Ok(a)) = &self.doc {
            self.save_as = suggested_name(a.path());
        }
    }

    /// Whether leaving now would lose edits.
    pub fn has_unsaved(&self) -> bool {
        matches!(&self.doc, Some(Ok(a)) if a.is_modified())
    }

    /// Asks to leave for `to`: at once when nothing is unsaved, else through the dialog.
    /// Returns whether the mode may change now.
    pub fn request_leave(&mut self, to: Mode) -> bool {
        if self.has_unsaved() {
            self.dialog = Some(Dialog::Leave { to });
            false
        } else {
            self.close();
            true
        }
    }

    /// Closes the arrangement (its edits are dropped).
    pub fn close(&mut self) {
        self.doc = None;
        self.selected = None;
        self.drag = None;
        self.dialog = None;
    }

    /// What the mode asked for in the last frame.
    pub fn take_outcome(&mut self) -> Option<Outcome> {
        self.outcome.take()
    }

    /// The arrangement, when the file could be opened.
    pub fn arrangement(&self) -> Option<&Arrangement> {
        self.doc.as_ref().and_then(|d| d.as_ref().ok())
    }

    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// Draws the mode: the side panel and the canvas in `ui`, the dialogs over them.
    pub fn show(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some(doc) = &self.doc else {
            return;
        };
        if let Err(e) = doc {
            let e = e.clone();
            egui::CentralPanel::default().show(ui, |ui| panel::not_editable(ui, cx, &e));
            return;
        }
        self.keys(ui, cx);
        egui::Panel::right("arrange-panel")
            .resizable(true)
            .default_size(380.0)
            .show(ui, |ui| self.panel(ui, cx));
        egui::Panel::bottom("arrange-status").show(ui, |ui| self.status_line(ui, cx));
        egui::CentralPanel::no_frame().show(ui, |ui| self.canvas(ui, cx));
        self.dialogs(ui.ctx(), cx);
    }

    fn status_line(&self, ui: &mut egui::Ui, cx: &FrameCtx) {
        ui.horizontal(|ui| {
            match &self.message {
                Some((t, true)) => {
                    ui.colored_label(crate::ui::theme::colors::ERROR, t.say(cx.lang));
                }
                Some((t, false)) => {
                    ui.label(t.say(cx.lang));
                }
                None => {
                    ui.label(cx.t("arrange.mode_hint"));
                }
            };
        });
    }

    /// Makes an edit and says a refusal.
    fn try_edit(&mut self, f: impl FnOnce(&mut Arrangement) -> Result<(), Refusal>) -> bool {
        let Some(Ok(a)) = self.doc.as_mut() else {
            return false;
        };
        match f(a) {
            Ok(()) => {
                self.message = None;
                true
            }
            Err(r) => {
                tracing::info!(refusal = ?r, "arrange: edit refused");
                self.message = Some((r.text(), true));
                false
            }
        }
    }

    /// The keyboard: arrows move the selected tile a cell, Shift+arrows resize, Delete removes,
    /// Ctrl+D duplicates, Tab selects the next tile, Ctrl+Z undoes, Ctrl+Shift+Z / Ctrl+Y redo,
    /// Ctrl+S saves. Not while a text field has the keyboard; these keys do not move egui's
    /// focus between the panel's widgets meanwhile.
    fn keys(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        use egui::{Key, Modifiers};
        if ui.ctx().text_edit_focused() || self.dialog.is_some() {
            return;
        }
        let mut took = false;
        let mut take = |ui: &mut egui::Ui, m: Modifiers, k: Key| {
            let t = ui.input_mut(|i| i.consume_key(m, k));
            if t {
                // egui would also move the keyboard focus between widgets with these keys.
                ui.memory_mut(|mem| {
                    if let Some(id) = mem.focused() {
                        mem.surrender_focus(id);
                    }
                    mem.move_focus(egui::FocusDirection::None);
                });
            }
            took |= t;
            t
        };
        if take(ui, Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
            || take(ui, Modifiers::COMMAND, Key::Y)
        {
            self.redo();
        } else if take(ui, Modifiers::COMMAND, Key::Z) {
            self.undo();
        }
        if take(ui, Modifiers::COMMAND, Key::S) {
            self.begin_save(None, cx);
        }
        if take(ui, Modifiers::NONE, Key::Tab) {
            self.select_next();
        }
        let Some(id) = self.selected.clone() else {
            return;
        };
        if self.scene.is_some() {
            let moves = [
                Key::ArrowLeft,
                Key::ArrowRight,
                Key::ArrowUp,
                Key::ArrowDown,
                Key::Delete,
            ];
            if ui.input(|i| moves.iter().any(|k| i.key_pressed(*k)))
                || ui.input(|i| i.modifiers.command && i.key_pressed(Key::D))
            {
                self.message = Some((Text::key("arrange.scene_no_moves"), true));
            }
            return;
        }
        for (key, dx, dy) in [
            (Key::ArrowLeft, -1, 0),
            (Key::ArrowRight, 1, 0),
            (Key::ArrowUp, 0, -1),
            (Key::ArrowDown, 0, 1),
        ] {
            if take(ui, Modifiers::SHIFT, key) {
                self.try_edit(|a| a.grow(&id, dx, dy));
            } else if take(ui, Modifiers::NONE, key) {
                self.try_edit(|a| a.nudge(&id, dx, dy));
            }
        }
        if take(ui, Modifiers::NONE, Key::Delete) && self.try_edit(|a| a.remove_tile(&id)) {
            self.selected = None;
        }
        if take(ui, Modifiers::COMMAND, Key::D) {
            let mut new = None;
            self.try_edit(|a| a.duplicate_tile(&id).map(|n| new = Some(n)));
            if new.is_some() {
                self.selected = new;
            }
        }
    }

    fn undo(&mut self) {
        if let Some(Ok(a)) = self.doc.as_mut() {
            let what = a.undo_label().cloned();
            if a.undo() {
                self.message =
                    what.map(|w| (Text::key("arrange.undone").arg_text("what", w), false));
            }
            self.keep_selection();
        }
    }

    fn redo(&mut self) {
        if let Some(Ok(a)) = self.doc.as_mut() {
            let what = a.redo_label().cloned();
            if a.redo() {
                self.message =
                    what.map(|w| (Text::key("arrange.redone").arg_text("what", w), false));
            }
            self.keep_selection();
        }
    }

    /// Drops a selection whose tile is gone.
    fn keep_selection(&mut self) {
        if let (Some(id), Some(a)) = (&self.selected, self.arrangement())
            && a.tile(id).is_none()
        {
            self.selected = None;
        }
    }

    fn select_next(&mut self) {
        let Some(a) = self.arrangement() else {
            return;
        };
        let ids: Vec<String> = a.tiles().into_iter().map(|t| t.id).collect();
        if ids.is_empty() {
            return;
        }
        let next = match self
            .selected
            .as_ref()
            .and_then(|s| ids.iter().position(|i| i == s))
        {
            Some(i) => ids[(i + 1) % ids.len()].clone(),
            None => ids[0].clone(),
        };
        self.selected = Some(next);
    }

    /// Prepares a save (to the file, or `to` a new file) and opens its dialog.
    fn begin_save(&mut self, to: Option<&Path>, _cx: &FrameCtx) {
        let Some(Ok(a)) = self.doc.as_ref() else {
            return;
        };
        match save::plan(a, to) {
            Ok(plan) => self.dialog = Some(Dialog::Save(plan)),
            Err(SaveProblem::ChangedOnDisk { disk }) => {
                let plan = SavePlan {
                    path: a.path().to_path_buf(),
                    new_file: false,
                    text: a.text(),
                    diff: save::diff(&disk, &a.text()),
                };
                tracing::warn!(path = %a.path().display(), "arrange: the layout file changed on disk");
                self.dialog = Some(Dialog::Conflict { disk, plan });
            }
            Err(p) => {
                tracing::warn!(problem = ?p, "arrange: not saved");
                self.message = Some((p.text(), true));
            }
        }
    }

    /// Writes a plan the technician confirmed.
    fn commit(&mut self, plan: &SavePlan, overwrite: bool) -> bool {
        let Some(Ok(a)) = self.doc.as_mut() else {
            return false;
        };
        match save::commit(a, plan, overwrite) {
            Ok(()) => {
                self.message = Some((
                    Text::key("arrange.saved").arg("path", plan.path.display()),
                    false,
                ));
                self.save_as = suggested_name(&plan.path);
                self.saved = Some(plan.path.clone());
                if let Some(to) = self.leave_after_save.take() {
                    self.close();
                    self.outcome = Some(Outcome::Leave(to));
                }
                true
            }
            Err(SaveProblem::ChangedOnDisk { disk }) => {
                self.dialog = Some(Dialog::Conflict {
                    disk: disk.clone(),
                    plan: SavePlan {
                        diff: save::diff(&disk, &plan.text),
                        ..plan.clone()
                    },
                });
                false
            }
            Err(p) => {
                tracing::error!(problem = ?p, "arrange: the layout was not written");
                self.message = Some((p.text(), true));
                // Not written: stay in Arrange mode with the changes.
                self.leave_after_save = None;
                false
            }
        }
    }
}

/// A new file's name next to `path`: `name-2.toml`, `name-3.toml`…
fn suggested_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    (2..100)
        .map(|n| format!("{stem}-{n}.toml"))
        .find(|n| !dir.join(n).exists())
        .unwrap_or_else(|| format!("{stem}-copy.toml"))
}
