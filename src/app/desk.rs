//! The desk window's chrome: the top bar (mode switch, layout, cameras sent to the wall, language,
//! clock), the status bar, the banner of an invalid layout, the settings window.

use egui::RichText;

use super::{ConsoleApp, DisplayMode, WallState};
use crate::context::{Command, FrameCtx};
use crate::format;
use crate::i18n::Lang;
use crate::role::Mode;
use crate::ui::theme;
use crate::wall::LayoutErrors;

impl ConsoleApp {
    /// The top bar: the right-hand side (clock, language, cameras to give back, audit, who is
    /// signed in, settings) is laid out first at its natural width; the left-hand side (title,
    /// layout, modes, scene, scope) takes what is left and wraps onto a second line on a narrow
    /// desk instead of running under the right-hand side.
    pub(super) fn top_bar(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, state: &WallState) {
        egui::Panel::top("desk-top").show(ui, |ui| {
            let row = ui.available_rect_before_wrap();
            let row = egui::Rect::from_min_size(
                row.min,
                egui::vec2(row.width(), ui.spacing().interact_size.y),
            );
            let access = self.access();
            let right = ui
                .scope_builder(
                    egui::UiBuilder::new()
                        .max_rect(row)
                        .layout(egui::Layout::right_to_left(egui::Align::Center)),
                    |ui| self.top_bar_right(ui, cx, &access),
                )
                .response
                .rect;
            let left = egui::Rect::from_min_max(
                row.min,
                egui::pos2(
                    (right.min.x - ui.spacing().item_spacing.x * 2.0).max(row.min.x),
                    row.max.y,
                ),
            );
            ui.scope_builder(
                egui::UiBuilder::new()
                    .max_rect(left)
                    .layout(egui::Layout::left_to_right(egui::Align::Center).with_main_wrap(true)),
                |ui| self.top_bar_left(ui, cx, state, &access),
            );
        });
    }

    fn top_bar_left(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        state: &WallState,
        access: &super::sign_in::Access,
    ) {
        // A word never breaks: what does not fit goes whole onto the next line.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        ui.heading(cx.t("app.title"));
        ui.separator();
        ui.label(RichText::new(&state.layout.name).strong());
        ui.separator();
        ui.label(cx.t("mode.label"));
        let trainer = self.backend.as_ref().is_some_and(|b| b.trainer);
        for m in Mode::available_to(&access.roles, trainer) {
            if ui
                .selectable_label(self.mode == m, cx.t(m.label_key()))
                .clicked()
            {
                self.commands.push(Command::SetMode(m));
            }
        }
        self.scene_picker(ui, cx, state);
        // The wall's scope (operators drill down too); once the backend's units are in.
        if matches!(self.mode, Mode::Operate | Mode::Demo) && cx.store.units.data.is_some() {
            ui.separator();
            if ui
                .selectable_label(self.show_scope, super::scope::label(cx))
                .clicked()
            {
                self.show_scope = !self.show_scope;
            }
        }
    }

    /// Right to left.
    fn top_bar_right(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, access: &super::sign_in::Access) {
        if ui.button(cx.t("settings.open")).clicked() {
            self.commands.push(Command::ToggleSettings);
        }
        // Who is signed in and until when (with `[identity]`).
        self.sign_in.top_bar(ui, cx);
        // The audit trail, for technicians and leaders (an inspector's questions).
        let trail = self.backend.as_ref().is_some_and(|b| b.audit.is_some());
        if trail
            && access
                .roles
                .iter()
                .any(|r| matches!(r, crate::role::Role::Technician | crate::role::Role::Leader))
            && ui
                .selectable_label(self.audit_view.open, cx.t("audit_view.open"))
                .clicked()
        {
            self.audit_view.open = !self.audit_view.open;
        }
        // Cameras sent to the wall from the map can be given back from here too, whatever is
        // selected now.
        if cx.view.sent_cameras.is_some() && ui.button(cx.t("map.return_cameras")).clicked() {
            self.commands.push(Command::SendCameras(None));
        }
        language_picker(ui, cx, &mut self.commands, "lang-top");
        let vn = format::to_vietnam_time(cx.now);
        ui.label(
            RichText::new(format!(
                "{} {}",
                format::time(vn, !cx.low_power),
                format::date(vn)
            ))
            .monospace(),
        );
    }

    /// The scene in force and the layout's scenes to recall (keys 0–9 do the same); not in a
    /// briefing or while arranging, which have scenes of their own.
    fn scene_picker(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, state: &WallState) {
        let base = state.base.as_ref().unwrap_or(&state.layout);
        if base.scenes.is_empty() || self.mode == crate::role::Mode::Brief {
            return;
        }
        ui.separator();
        let l = ui.label(cx.t("scene.label"));
        let current = cx
            .view
            .scene
            .as_deref()
            .and_then(|n| base.scene(n))
            .map_or_else(|| cx.t("scene.base").to_owned(), |s| s.title.clone());
        egui::ComboBox::from_id_salt("scene-picker")
            .selected_text(RichText::new(current).strong())
            .show_ui(ui, |ui| {
                let base_label = format!("0 · {}", cx.t("scene.base"));
                if ui
                    .selectable_label(cx.view.scene.is_none(), base_label)
                    .clicked()
                {
                    self.commands.push(Command::RecallScene(None));
                }
                for (i, sc) in base.scenes.iter().enumerate() {
                    let label = if i < 9 {
                        format!("{} · {}", i + 1, sc.title)
                    } else {
                        sc.title.clone()
                    };
                    let on = cx.view.scene.as_deref() == Some(sc.name.as_str());
                    if ui.selectable_label(on, label).clicked() {
                        self.commands
                            .push(Command::RecallScene(Some(sc.name.clone())));
                    }
                }
            })
            .response
            .labelled_by(l.id);
    }

    pub(super) fn bottom_bar(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        state: &WallState,
        display: DisplayMode,
    ) {
        egui::Panel::bottom("desk-bottom").show(ui, |ui| {
            ui.horizontal(|ui| {
                let n = state.layout.monitors.len();
                let display_text = match display {
                    DisplayMode::Preview => cx.t_args("display.preview", &[("n", &n)]),
                    DisplayMode::Wall => cx.t_args("display.wall", &[("n", &n)]),
                };
                ui.label(display_text);
                ui.separator();
                // Consoles in step: the link in a few words (red when lost), the wall's
                // consoles on a click.
                if let Some(step) = &self.sync {
                    let (words, good) = super::in_step::link_words(cx, step);
                    let colour = if good {
                        theme::colors::LIVE
                    } else {
                        theme::colors::ERROR
                    };
                    if ui
                        .selectable_label(self.show_sync, RichText::new(words).color(colour))
                        .clicked()
                    {
                        self.show_sync = !self.show_sync;
                    }
                    ui.separator();
                }
                let path = state.layout.path.as_ref().map_or_else(
                    || cx.t("layout.builtin").to_owned(),
                    |p| p.display().to_string(),
                );
                ui.label(cx.t_args(
                    "layout.loaded",
                    &[
                        ("path", &path),
                        ("age", &cx.age_words(cx.now - state.loaded_at)),
                    ],
                ));
                ui.separator();
                let access = self.access();
                if !self.sign_in.configured() {
                    ui.label(cx.t_args("role.current", &[("role", &cx.t(state.role.label_key()))]));
                }
                // Why the desk cannot act (nobody signed in, no operator role, no sign-in on a
                // real backend), said where the operator looks for the state of things.
                if let Some(why) = access.read_only_why {
                    ui.separator();
                    ui.label(RichText::new(cx.t(why)).color(theme::colors::STALE));
                }
                // Actions whose author's session ended: waiting for someone to resend them.
                let held = cx
                    .store
                    .outbox
                    .iter()
                    .filter(|e| e.state == crate::outbox::EntryState::Held)
                    .count();
                if held > 0 {
                    ui.separator();
                    ui.label(
                        RichText::new(cx.t_args("auth.held_count", &[("n", &held)]))
                            .color(theme::colors::STALE),
                    );
                }
                if cx.low_power {
                    ui.separator();
                    ui.label(cx.t("display.low_power"))
                        .on_hover_text(cx.t("display.low_power_hint"));
                }
                if let Some(n) = &self.notice {
                    ui.separator();
                    ui.label(n);
                }
            });
        });
    }

    pub(super) fn error_banner(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, errors: &LayoutErrors) {
        egui::Panel::top("layout-error")
            .frame(
                egui::Frame::new()
                    .fill(theme::colors::BANNER_ERROR_BG)
                    .inner_margin(8.0),
            )
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(cx.t("layout.invalid_kept"))
                            .strong()
                            .color(theme::colors::TEXT),
                    );
                    if ui.button(cx.t("action.dismiss")).clicked() {
                        self.commands.push(Command::DismissLayoutError);
                    }
                });
                for d in errors.0.iter().take(5) {
                    ui.label(
                        RichText::new(d.say(cx.lang))
                            .monospace()
                            .color(theme::colors::TEXT),
                    );
                }
                if errors.0.len() > 5 {
                    ui.label(cx.t_args("layout.more_errors", &[("n", &(errors.0.len() - 5))]));
                }
            });
    }

    pub(super) fn settings_window(&mut self, ctx: &egui::Context, cx: &FrameCtx) {
        let mut open = true;
        egui::Window::new(cx.t("settings.title"))
            .open(&mut open)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(cx.t("settings.language"));
                language_picker(ui, cx, &mut self.commands, "lang-settings");
                ui.separator();
                ui.label(cx.t_args("role.current", &[("role", &cx.t(cx.role.label_key()))]));
                ui.label(RichText::new(cx.t("settings.role_from_config")).small());
                ui.separator();
                ui.checkbox(&mut self.incidents.sound, cx.t("panel.sound"));
            });
        if !open {
            self.commands.push(Command::ToggleSettings);
        }
    }
}

fn language_picker(ui: &mut egui::Ui, cx: &FrameCtx, commands: &mut Vec<Command>, id: &str) {
    // The visible label is also the picker's accessible name.
    egui::ComboBox::new(id, cx.t("settings.language_short"))
        .selected_text(cx.lang.native_name())
        .show_ui(ui, |ui| {
            for lang in Lang::ALL {
                if ui
                    .selectable_label(cx.lang == lang, lang.native_name())
                    .clicked()
                {
                    commands.push(Command::SetLanguage(lang));
                }
            }
        });
}
