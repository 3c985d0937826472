//! Arrange mode's dialogs: the diff of what saving writes (old → new lines), a file changed on
//! disk since arranging began (both versions shown; overwrite only when asked), and leaving with
//! unsaved changes (save, discard or stay).

use egui::RichText;

use super::{ArrangeMode, Dialog, Outcome};
use crate::context::FrameCtx;
use crate::ui::theme;
use crate::wall::save::{self, DiffLine};

/// Draws a diff's changed lines with two lines of context, numbered, removed in red and added
/// in green.
fn show_diff(ui: &mut egui::Ui, lines: &[DiffLine]) {
    egui::ScrollArea::vertical()
        .max_height(360.0)
        .id_salt("arrange-diff")
        .show(ui, |ui| {
            for l in save::hunks(lines, 2) {
                let (text, color) = match l {
                    None => ("…".to_owned(), theme::colors::TEXT_DIM),
                    Some(DiffLine::Same { old, line, .. }) => {
                        (format!("{old:>4}   {line}"), theme::colors::TEXT_DIM)
                    }
                    Some(DiffLine::Removed { old, line }) => {
                        (format!("{old:>4} - {line}"), theme::colors::REFUSED)
                    }
                    Some(DiffLine::Added { new, line }) => {
                        (format!("{new:>4} + {line}"), theme::colors::LIVE)
                    }
                };
                ui.label(RichText::new(text).monospace().color(color));
            }
        });
}

impl ArrangeMode {
    pub(super) fn dialogs(&mut self, ctx: &egui::Context, cx: &FrameCtx) {
        let Some(dialog) = self.dialog.clone() else {
            return;
        };
        let mut close = false;
        match &dialog {
            Dialog::Save(plan) => {
                egui::Window::new(cx.t("arrange.save_title"))
                    .collapsible(false)
                    .default_width(720.0)
                    .show(ctx, |ui| {
                        ui.label(RichText::new(plan.path.display().to_string()).monospace());
                        if plan.new_file {
                            ui.label(cx.t("arrange.save_new_file"));
                        }
                        if plan.diff.iter().any(DiffLine::is_change) {
                            show_diff(ui, &plan.diff);
                        } else {
                            ui.label(cx.t("arrange.no_changes"));
                        }
                        ui.horizontal(|ui| {
                            if ui.button(cx.t("arrange.write")).clicked() {
                                // Written, or refused (said in the status line); a change on
                                // disk opened the conflict dialog instead.
                                let written = self.commit(plan, false);
                                close = written || matches!(self.dialog, Some(Dialog::Save(_)));
                            }
                            if ui.button(cx.t("arrange.cancel")).clicked() {
                                // Not saved: a leave that waited for this save waits no more.
                                self.leave_after_save = None;
                                close = true;
                            }
                        });
                    });
            }
            Dialog::Conflict { disk, plan } => {
                egui::Window::new(cx.t("arrange.conflict_title"))
                    .collapsible(false)
                    .default_width(720.0)
                    .show(ctx, |ui| {
                        ui.label(
                            RichText::new(cx.t("arrange.save.changed_on_disk"))
                                .color(theme::colors::ERROR),
                        );
                        ui.label(cx.t("arrange.conflict_diff"));
                        show_diff(ui, &plan.diff);
                        ui.collapsing(cx.t("arrange.conflict_disk"), |ui| {
                            egui::ScrollArea::vertical()
                                .max_height(200.0)
                                .id_salt("arrange-disk")
                                .show(ui, |ui| {
                                    ui.label(RichText::new(disk).monospace());
                                });
                        });
                        ui.horizontal(|ui| {
                            if ui.button(cx.t("arrange.save_as")).clicked() {
                                let to = plan.path.with_file_name(self.save_as.trim());
                                close = true;
                                self.dialog = None;
                                self.begin_save(Some(&to), cx);
                            }
                            if ui.button(cx.t("arrange.overwrite")).clicked()
                                && self.commit(plan, true)
                            {
                                close = true;
                            }
                            if ui.button(cx.t("arrange.cancel")).clicked() {
                                // Not saved: a leave that waited for this save waits no more.
                                self.leave_after_save = None;
                                close = true;
                            }
                        });
                    });
                // "Save as" opened its own dialog.
                if close
                    && self
                        .dialog
                        .as_ref()
                        .is_some_and(|d| !matches!(d, Dialog::Conflict { .. }))
                {
                    return;
                }
            }
            Dialog::Leave { to } => {
                let to = *to;
                egui::Window::new(cx.t("arrange.leave_title"))
                    .collapsible(false)
                    .show(ctx, |ui| {
                        ui.label(cx.t("arrange.leave_question"));
                        ui.horizontal(|ui| {
                            if ui.button(cx.t("arrange.save_and_leave")).clicked() {
                                close = true;
                                self.dialog = None;
                                self.leave_after_save = Some(to);
                                self.begin_save(None, cx);
                            }
                            if ui.button(cx.t("arrange.discard")).clicked() {
                                close = true;
                                self.close();
                                self.outcome = Some(Outcome::Leave(to));
                            }
                            if ui.button(cx.t("arrange.stay")).clicked() {
                                close = true;
                            }
                        });
                    });
                if close
                    && self.dialog.is_some()
                    && !matches!(self.dialog, Some(Dialog::Leave { .. }))
                {
                    return;
                }
            }
        }
        if close {
            self.dialog = None;
        }
    }
}
