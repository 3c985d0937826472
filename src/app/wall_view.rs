//! Drawing the wall: one monitor at its own size (wall mode, snapshots of one monitor) or the
//! whole wall scaled into a rect with bezels (preview, wall snapshots). The same code serves the
//! window, the headless snapshot and the tests, so what the technician previews is the wall.

use egui::{Align2, Rect, pos2, vec2};

use crate::tiles::frame::{TileFrame, show_tile};
use crate::ui::{FrameCtx, theme};
use crate::wall::{WallLayout, geometry};

/// Draws monitor `index` of `layout` filling `screen` (which should have the monitor's aspect).
pub fn paint_monitor(
    ui: &mut egui::Ui,
    screen: Rect,
    layout: &WallLayout,
    index: usize,
    cx: &FrameCtx,
) {
    let Some(monitor) = layout.monitors.get(index) else {
        return;
    };
    // Token sizes are for a 1080-line monitor; a 4K panel of the same size needs twice the pixels.
    let scale = screen.height() / theme::REFERENCE_LINES;
    ui.painter_at(screen)
        .rect_filled(screen, 0.0, theme::colors::MONITOR_BACKGROUND);
    let inner = screen.shrink(theme::WALL.gap * scale / 2.0);
    for tile in layout.tiles_on(index) {
        let rect = geometry::cell_rect(monitor, tile.cell, inner, theme::WALL.gap * scale);
        let view = tile.options.view();
        let status = view.status(cx);
        let frame = TileFrame {
            title: &tile.title,
            status: &status,
            scale,
            grey_old: view.greys_old_data(),
        };
        show_tile(ui, rect, frame, cx, |ui, body| {
            view.paint_body(ui, body, scale, cx);
        });
    }
}

/// Where each monitor's screen lands when the whole wall is fitted into `avail` with bezels,
/// and the drawing scale (points per monitor pixel).
pub fn wall_screens(layout: &WallLayout, avail: Rect) -> (Vec<Rect>, f32) {
    let (rects, total) = geometry::wall_pixels(layout);
    let (cols, rows) = layout.wall_extent();
    let bezel = theme::WALL.bezel;
    let with_bezels = total + vec2(2.0 * bezel * cols as f32, 2.0 * bezel * rows as f32);
    let (scale, fitted) = geometry::fit(with_bezels, avail);
    let screens = layout
        .monitors
        .iter()
        .zip(rects)
        .map(|(m, r)| {
            let offset = vec2(
                bezel * (2 * m.wall_column + 1) as f32,
                bezel * (2 * m.wall_row + 1) as f32,
            );
            let min = fitted.min + (r.min.to_vec2() + offset) * scale;
            Rect::from_min_size(min, r.size() * scale)
        })
        .collect();
    (screens, scale)
}

/// The pixel size of the whole wall with bezels at scale 1.
pub fn wall_size_with_bezels(layout: &WallLayout) -> egui::Vec2 {
    let (_, total) = geometry::wall_pixels(layout);
    let (cols, rows) = layout.wall_extent();
    total
        + vec2(
            2.0 * theme::WALL.bezel * cols as f32,
            2.0 * theme::WALL.bezel * rows as f32,
        )
}

/// Draws the whole wall fitted into `avail`: bezels, monitor labels, tiles.
pub fn paint_wall(ui: &mut egui::Ui, avail: Rect, layout: &WallLayout, cx: &FrameCtx) {
    let painter = ui.painter_at(avail);
    painter.rect_filled(avail, 0.0, theme::colors::WALL_BACKGROUND);
    let (screens, scale) = wall_screens(layout, avail);
    let bezel = theme::WALL.bezel * scale;
    for (i, screen) in screens.iter().enumerate() {
        painter.rect_filled(screen.expand(bezel), bezel * 0.4, theme::colors::BEZEL);
        paint_monitor(ui, *screen, layout, i, cx);
        let m = &layout.monitors[i];
        let label = cx.t_args(
            "wall.monitor_label",
            &[("name", &m.name), ("display", &m.display)],
        );
        painter.text(
            pos2(screen.left() + bezel, screen.bottom() + bezel * 0.5),
            Align2::LEFT_CENTER,
            label,
            egui::FontId::proportional((bezel * 0.75).max(5.0)),
            theme::colors::TEXT_DIM,
        );
    }
}
