//! The trainer's panel (Demo mode): pick a scenario, start, pause, restart, change the speed of
//! simulated time (1x–60x), and inject faults, all through the simulator's `/sim` endpoints.

use egui::RichText;

use super::Command;
use crate::context::FrameCtx;
use crate::format;
use crate::i18n::Lang;
use crate::model::sim::{Control, ControlAction, Faults, SPEEDS};
use crate::sources::Request;

/// The panel's own widget state (what is being chosen, before it is sent).
#[derive(Debug, Default)]
pub struct DemoPanel {
    scenario: Option<String>,
    speed: Option<f64>,
}

impl DemoPanel {
    pub fn show(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, commands: &mut Vec<Command>) {
        ui.set_width(300.0);
        ui.heading(cx.t("demo.title"));
        let status = match &cx.store.sim {
            None => {
                ui.label(cx.t("demo.connecting"));
                return;
            }
            Some(Err(e)) => {
                ui.label(
                    RichText::new(cx.t_args(
                        "demo.unreachable",
                        &[("error", &crate::store::describe(e).1.say(cx.lang))],
                    ))
                    .color(crate::ui::theme::colors::ERROR),
                );
                return;
            }
            Some(Ok(s)) => s.clone(),
        };
        let vn = format::to_vietnam_time(status.sim_time);
        ui.label(cx.t_args(
            "demo.sim_time",
            &[(
                "time",
                &format!("{} {}", format::time(vn, true), format::date(vn)),
            )],
        ));
        let state = if status.paused {
            cx.t("demo.paused")
        } else {
            cx.t("demo.running")
        };
        ui.label(format!("{state} · {}x", status.speed));
        if let Some((done, total)) = status.progress {
            ui.label(cx.t_args("demo.progress", &[("done", &done), ("total", &total)]));
        }
        ui.separator();

        let current = self.scenario.clone().or_else(|| status.scenario.clone());
        let title = |id: &Option<String>| -> String {
            match id {
                None => cx.t("demo.no_scenario").to_owned(),
                Some(id) => status
                    .scenarios
                    .iter()
                    .find(|s| &s.id == id)
                    .map(|s| {
                        if cx.lang == Lang::Vi {
                            s.title_vi.clone()
                        } else {
                            s.title_en.clone()
                        }
                    })
                    .unwrap_or_else(|| id.clone()),
            }
        };
        ui.label(cx.t("demo.scenario"));
        egui::ComboBox::new("demo-scenario", "")
            .selected_text(title(&current))
            .width(280.0)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(current.is_none(), cx.t("demo.no_scenario"))
                    .clicked()
                {
                    self.scenario = None;
                }
                for s in &status.scenarios {
                    let label = format!(
                        "{} ({} {})",
                        title(&Some(s.id.clone())),
                        s.duration_minutes,
                        cx.t("demo.minutes")
                    );
                    if ui
                        .selectable_label(current.as_deref() == Some(&s.id), label)
                        .clicked()
                    {
                        self.scenario = Some(s.id.clone());
                    }
                }
            });
        let mut speed = self.speed.unwrap_or(status.speed);
        let slider = ui.add(
            egui::Slider::new(&mut speed, SPEEDS)
                .logarithmic(true)
                .suffix("x")
                .text(cx.t("demo.speed")),
        );
        if slider.changed() {
            self.speed = Some(speed.round());
        }
        if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
            commands.push(Command::Backend(Request::SimControl(Control {
                action: ControlAction::Speed,
                scenario: None,
                speed: self.speed,
            })));
        }
        ui.horizontal_wrapped(|ui| {
            if ui.button(cx.t("demo.start")).clicked() {
                commands.push(Command::Backend(Request::SimControl(Control {
                    action: ControlAction::Start,
                    scenario: current.clone(),
                    speed: self.speed,
                })));
                commands.push(Command::Backend(Request::Refresh));
            }
            let (key, action) = if status.paused {
                ("demo.resume", ControlAction::Resume)
            } else {
                ("demo.pause", ControlAction::Pause)
            };
            if ui.button(cx.t(key)).clicked() {
                commands.push(Command::Backend(Request::SimControl(Control {
                    action,
                    scenario: None,
                    speed: None,
                })));
            }
            if ui.button(cx.t("demo.restart")).clicked() {
                commands.push(Command::Backend(Request::SimControl(Control {
                    action: ControlAction::Restart,
                    scenario: None,
                    speed: self.speed,
                })));
                commands.push(Command::Backend(Request::Refresh));
            }
        });
        ui.separator();
        faults(ui, cx, &status.faults, commands);
    }
}

/// The faults the trainer injects: slow answers, 500s, malformed bodies, a dropped event stream,
/// no permission.
fn faults(ui: &mut egui::Ui, cx: &FrameCtx, current: &Faults, commands: &mut Vec<Command>) {
    ui.label(RichText::new(cx.t("demo.faults")).strong());
    let mut f = current.clone();
    let before = f.clone();
    let mut slow = f.latency_ms > 0;
    let mut errors = f.error_rate > 0.0;
    ui.checkbox(&mut slow, cx.t("demo.fault_slow"));
    ui.checkbox(&mut errors, cx.t("demo.fault_errors"));
    ui.checkbox(&mut f.malformed, cx.t("demo.fault_malformed"));
    ui.checkbox(&mut f.drop_sse, cx.t("demo.fault_drop_sse"));
    ui.checkbox(&mut f.forbidden, cx.t("demo.fault_forbidden"));
    f.latency_ms = if slow { before.latency_ms.max(3000) } else { 0 };
    f.error_rate = if errors {
        before.error_rate.max(1.0)
    } else {
        0.0
    };
    if f != before {
        commands.push(Command::Backend(Request::SimFaults(Faults { ..f })));
    }
}
