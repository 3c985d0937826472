//! The wall in wall mode: one borderless fullscreen viewport per monitor, deferred (each repaints
//! on its own), reading the shared wall state and woken when the view changes.

use std::sync::Arc;

use egui::{ViewportBuilder, ViewportId};

use super::{ConsoleApp, WallState, wall_view};

impl ConsoleApp {
    pub(super) fn show_wall_viewports(&self, ctx: &egui::Context, state: &WallState) {
        // The wall repaints once a second; a selection made on the desk shows at once.
        let stamp = state.view.stamp();
        let selection_changed = self.wall_view_seen.replace(stamp) != stamp;
        // A console driving part of the wall (consoles in step) opens its monitors only, on
        // this PC's displays in the order it drives them.
        // A kiosk shows the monitor on the first display in its root window.
        let in_root = self
            .kiosk
            .as_ref()
            .and_then(|_| first_display_monitor(state));
        let kiosk = self.kiosk.as_ref().map(|k| Arc::clone(&k.shared));
        for (index, monitor) in state.layout.monitors.iter().enumerate() {
            let Some(display) = display_of(state, index) else {
                continue;
            };
            if in_root == Some(index) {
                continue;
            }
            let id = ViewportId::from_hash_of(("wall-monitor", &monitor.name));
            if selection_changed {
                ctx.request_repaint_of(id);
            }
            let builder = ViewportBuilder::default()
                .with_title(crate::i18n::tr_args(
                    state.lang,
                    "wall.window_title",
                    &[("name", &monitor.name)],
                ))
                // Its own app id, so a compositor (the wall session's sway) can put each
                // monitor's window on its output.
                .with_app_id(wall_app_id(&monitor.name))
                .with_monitor(display)
                .with_fullscreen(true)
                .with_decorations(false);
            let shared = Arc::clone(&self.state);
            let clock = Arc::clone(&self.clock);
            let kiosk = kiosk.clone();
            ctx.show_viewport_deferred(id, builder, move |ui, _class| {
                let Ok(state) = shared.read().map(|s| s.clone()) else {
                    return;
                };
                let now = clock();
                if let Some(k) = &kiosk {
                    k.pass(ui.ctx(), now, false);
                }
                let cx = state.frame_ctx(now);
                egui::CentralPanel::no_frame().show(ui, |ui| {
                    let rect = ui.max_rect();
                    // A briefing: the first monitor is the audience's screen, the others dark.
                    match (&state.view.briefing, &state.storyboard) {
                        (Some(b), Some(board)) => match board.scenes.get(b.scene) {
                            Some(scene) if index == 0 && !b.black => {
                                let marks = super::brief::scene::Marks::of(b);
                                super::brief::scene::paint_scene(ui, rect, scene, &cx, marks);
                            }
                            _ => {
                                ui.painter().rect_filled(rect, 0.0, egui::Color32::BLACK);
                            }
                        },
                        _ => {
                            let layout = super::scope::scoped(&state.layout, &cx);
                            wall_view::paint_monitor(ui, rect, &layout, index, &cx);
                        }
                    }
                });
                ui.ctx().request_repaint_after(super::pace::next_frame(
                    now,
                    &state.store,
                    state.low_power,
                ));
            });
        }
    }
}

/// The app id (Wayland) and class (X11) of a wall monitor's window: `ioc-console-wall-A1`.
pub fn wall_app_id(monitor: &str) -> String {
    format!("{}-wall-{monitor}", super::APP_ID)
}

/// The display (in the OS's order) monitor `index` of the layout goes on, or none when this
/// console does not drive it (consoles in step).
fn display_of(state: &WallState, index: usize) -> Option<usize> {
    let monitor = state.layout.monitors.get(index)?;
    match &state.driven {
        Some(driven) => driven.iter().position(|m| *m == monitor.name),
        None => Some(monitor.display as usize),
    }
}

/// The layout's monitor that goes on the first display, the lowest one this console drives (a
/// kiosk's root window shows it).
pub fn first_display_monitor(state: &WallState) -> Option<usize> {
    (0..state.layout.monitors.len())
        .filter_map(|i| display_of(state, i).map(|d| (d, i)))
        .min()
        .map(|(_, i)| i)
}
