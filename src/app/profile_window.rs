//! The technician's frame profile (F12 on the desk): how long the last frames took on the CPU,
//! per monitor and per tile, slowest first, so a slow tile on a real wall can be named.

use crate::context::profile::{FRAMES, ProfileRow};
use crate::context::{Command, FrameCtx};
use crate::format;
use crate::wall::WallLayout;

fn ms(d: std::time::Duration, cx: &FrameCtx) -> String {
    format::number(cx.lang, d.as_secs_f64() * 1000.0, 2)
}

fn row_name(row: &ProfileRow, layout: &WallLayout, cx: &FrameCtx) -> String {
    match &row.tile {
        None => cx.t_args("profile.monitor", &[("name", &row.monitor)]),
        Some(id) => {
            let title = layout
                .tiles
                .iter()
                .find(|t| &t.id == id)
                .map_or(id.as_str(), |t| t.title.as_str());
            cx.t_args(
                "profile.tile",
                &[
                    ("title", &title),
                    ("id", id),
                    ("kind", &row.kind),
                    ("monitor", &row.monitor),
                ],
            )
        }
    }
}

/// The profile's window; closing it sends the command that turns recording off.
pub fn show(ctx: &egui::Context, cx: &FrameCtx, layout: &WallLayout, commands: &mut Vec<Command>) {
    let mut open = true;
    egui::Window::new(cx.t("profile.title"))
        .id(egui::Id::NULL.with("frame-profile"))
        .open(&mut open)
        .default_width(620.0)
        .show(ctx, |ui| {
            ui.label(cx.t_args("profile.explain", &[("frames", &FRAMES)]));
            let rows = cx.profile.rows();
            if rows.is_empty() {
                ui.label(cx.t("profile.empty"));
                return;
            }
            egui::ScrollArea::vertical()
                .max_height(420.0)
                .show(ui, |ui| {
                    egui::Grid::new("frame-profile-rows")
                        .striped(true)
                        .num_columns(4)
                        .show(ui, |ui| {
                            ui.strong(cx.t("profile.what"));
                            ui.strong(cx.t("profile.mean"));
                            ui.strong(cx.t("profile.max"));
                            ui.strong(cx.t("profile.last"));
                            ui.end_row();
                            for row in &rows {
                                ui.label(row_name(row, layout, cx));
                                ui.monospace(ms(row.mean, cx));
                                ui.monospace(ms(row.max, cx));
                                ui.monospace(ms(row.last, cx));
                                ui.end_row();
                            }
                        });
                });
        });
    if !open {
        commands.push(Command::ToggleProfile);
    }
    // While it is open the numbers move: redraw a few times a second.
    ctx.request_repaint_after(std::time::Duration::from_millis(500));
}
