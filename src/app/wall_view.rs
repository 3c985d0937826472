//! Drawing the wall: one monitor at its own size (wall mode, snapshots of one monitor) or the
//! whole wall scaled into a rect with bezels (preview, wall snapshots). The same code serves the
//! window, the headless snapshot and the tests, so what the technician previews is the wall.

use egui::{Align2, Rect, pos2, vec2};

use crate::context::tile_state::TileKey;
use crate::context::{Command, FrameCtx};
use crate::tiles::frame::{TileFrame, show_tile};
use crate::ui::theme;
use crate::wall::{WallLayout, geometry};

/// Draws monitor `index` of `layout` filling `screen` (which should have the monitor's aspect).
pub fn paint_monitor(
    ui: &mut egui::Ui,
    screen: Rect,
    layout: &WallLayout,
    index: usize,
    cx: &FrameCtx,
) {
    paint_monitor_with(ui, screen, layout, index, cx, false);
}

/// [`paint_monitor`], offering each tile's context menu when `menus` is set (the desk).
pub fn paint_monitor_with(
    ui: &mut egui::Ui,
    screen: Rect,
    layout: &WallLayout,
    index: usize,
    cx: &FrameCtx,
    menus: bool,
) {
    let Some(monitor) = layout.monitors.get(index) else {
        return;
    };
    let started = std::time::Instant::now();
    let scale = monitor_scale(screen);
    ui.painter_at(screen)
        .rect_filled(screen, 0.0, theme::colors::MONITOR_BACKGROUND);
    let (inner, _) = monitor_grid(screen);
    let enlarged = cx.view.enlarged_on(&monitor.name).and_then(|id| {
        layout
            .tiles_on(index)
            .find(|t| t.id == id && enlargeable(t))
    });
    // Keys for the wall only when no text field, list or pop-up of the desk has them.
    let keys_free = !ui.ctx().egui_wants_keyboard_input() && !egui::Popup::is_any_open(ui.ctx());
    let enlarge = |tile: Option<&crate::wall::Tile>| Command::Enlarge {
        monitor: monitor.name.clone(),
        tile: tile.map(|t| t.id.clone()),
    };
    match enlarged {
        Some(tile) => {
            if keys_free
                && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
            {
                cx.send(enlarge(None));
            }
            // One tile fills the monitor; double click or Esc puts it back.
            let r = enlarge_target(ui, inner, tile, true);
            // The tiles it covers keep their streams warm: going back shows them at once.
            for other in layout.tiles_on(index).filter(|t| t.id != tile.id) {
                let rect = geometry::cell_rect(monitor, other.cell, inner, theme::WALL.gap * scale);
                let ppp = ui.ctx().pixels_per_point();
                other
                    .options
                    .view()
                    .keep_warm(cx, [rect.width() * ppp, rect.height() * ppp]);
            }
            let cx = FrameCtx {
                enlarged: true,
                ..cx.clone()
            };
            paint_tile_on(ui, inner, tile, scale, &cx, &monitor.name);
            paint_enlarged_hint(ui, inner, scale, &cx);
            if r.double_clicked() {
                cx.send(enlarge(None));
            }
        }
        None => {
            for tile in layout.tiles_on(index) {
                let rect = geometry::cell_rect(monitor, tile.cell, inner, theme::WALL.gap * scale);
                if menus {
                    tile_menu(ui, rect, tile, cx);
                }
                if enlargeable(tile) {
                    let r = enlarge_target(ui, rect, tile, false);
                    if r.double_clicked()
                        || (r.hovered()
                            && keys_free
                            && ui.input_mut(|i| {
                                i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)
                            }))
                    {
                        cx.send(enlarge(Some(tile)));
                    }
                }
                paint_tile_on(ui, rect, tile, scale, cx, &monitor.name);
            }
        }
    }
    cx.profile
        .record(&monitor.name, None, "monitor", started.elapsed());
}

/// Token sizes are for a 1080-line monitor; a 4K panel of the same size needs twice the pixels.
fn monitor_scale(screen: Rect) -> f32 {
    screen.height() / theme::REFERENCE_LINES
}

/// Where a monitor drawn at `screen` puts its grid (the screen less half a gap all round) and
/// the gap between tiles: [`geometry::cell_rect`] of a tile's cells in that grid is where the
/// tile is drawn.
pub fn monitor_grid(screen: Rect) -> (Rect, f32) {
    let gap = theme::WALL.gap * monitor_scale(screen);
    (screen.shrink(gap / 2.0), gap)
}

/// How to get back from an enlarged tile, in the corner.
fn paint_enlarged_hint(ui: &egui::Ui, inner: Rect, scale: f32, cx: &FrameCtx) {
    let painter = ui.painter_at(inner);
    let pad = theme::WALL.padding * scale;
    let galley = painter.layout_no_wrap(
        cx.t("camera.enlarged_hint").to_owned(),
        theme::wall_font(theme::WALL.caption, scale, false),
        theme::colors::TEXT,
    );
    let at = inner.right_bottom() - galley.size() - vec2(pad * 1.5, pad * 1.2);
    painter.rect_filled(
        Rect::from_min_size(
            at - vec2(pad * 0.5, pad * 0.3),
            galley.size() + vec2(pad, pad * 0.6),
        ),
        pad * 0.3,
        egui::Color32::from_black_alpha(190),
    );
    painter.galley(at, galley, theme::colors::TEXT);
}

/// Tiles an operator may enlarge to fill their monitor.
fn enlargeable(tile: &crate::wall::Tile) -> bool {
    tile.kind().enlargeable()
}

/// The click target of an enlargeable tile, named for screen readers and tests.
fn enlarge_target(
    ui: &mut egui::Ui,
    rect: Rect,
    tile: &crate::wall::Tile,
    enlarged: bool,
) -> egui::Response {
    let r = ui.interact(
        rect,
        ui.make_persistent_id(("enlarge", &tile.id, enlarged)),
        egui::Sense::click(),
    );
    let title = tile.title.clone();
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &title));
    r
}

/// One tile in its frame at `rect` (the wall, the preview, snapshots and PNG exports), with its
/// own state for this viewport handed to it.
pub fn paint_tile(
    ui: &mut egui::Ui,
    rect: Rect,
    tile: &crate::wall::Tile,
    scale: f32,
    cx: &FrameCtx,
) {
    let scale = scale * cx.type_scale;
    let view = tile.options.view();
    let status = view.status(cx);
    let title = view.title(cx);
    let frame = TileFrame {
        title: title.as_deref().unwrap_or(&tile.title),
        status: &status,
        scale,
        grey_old: view.greys_old_data(),
        own_state: view.paints_own_state(cx),
    };
    let key = TileKey {
        tile: tile.id.clone(),
        viewport: ui.ctx().viewport_id(),
    };
    // Taken out while the tile draws: nothing stays locked meanwhile.
    let mut state = cx
        .tiles
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take(&key);
    show_tile(ui, rect, frame, cx, |ui, body| {
        view.paint_body(ui, body, scale, cx, &mut state)
    });
    cx.tiles
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .put(key, state);
}

/// [`paint_tile`] on monitor `monitor`, its time recorded for the frame profile.
fn paint_tile_on(
    ui: &mut egui::Ui,
    rect: Rect,
    tile: &crate::wall::Tile,
    scale: f32,
    cx: &FrameCtx,
    monitor: &str,
) {
    let started = std::time::Instant::now();
    paint_tile(ui, rect, tile, scale, cx);
    cx.profile.record(
        monitor,
        Some(&tile.id),
        tile.kind().as_str(),
        started.elapsed(),
    );
}

/// The right-click menu of a tile (registered before the body so the body's hover stays on top).
fn tile_menu(ui: &mut egui::Ui, rect: Rect, tile: &crate::wall::Tile, cx: &FrameCtx) {
    use crate::context::ExportFormat as Format;
    if tile.kind() != crate::tiles::TileKind::Chart {
        return;
    }
    let response = ui.interact(
        rect,
        ui.make_persistent_id(("tile-menu", &tile.id)),
        egui::Sense::click(),
    );
    response.context_menu(|ui| {
        ui.label(egui::RichText::new(cx.t("export.menu")).strong());
        for (format, key) in [
            (Format::Svg, "export.svg"),
            (Format::Png, "export.png"),
            (Format::Pdf, "export.pdf"),
        ] {
            if ui.button(cx.t(key)).clicked() {
                cx.send(Command::Export {
                    tile_id: tile.id.clone(),
                    format,
                });
                ui.close();
            }
        }
    });
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
    paint_wall_with(ui, avail, layout, cx, false);
}

/// [`paint_wall`] with the tiles' context menus (the desk's preview).
pub fn paint_wall_with(
    ui: &mut egui::Ui,
    avail: Rect,
    layout: &WallLayout,
    cx: &FrameCtx,
    menus: bool,
) {
    // No room (a window shrunk to nothing, a panel squeezed out): nothing to draw.
    if avail.width() < 1.0 || avail.height() < 1.0 {
        return;
    }
    let painter = ui.painter_at(avail);
    painter.rect_filled(avail, 0.0, theme::colors::WALL_BACKGROUND);
    let (screens, scale) = wall_screens(layout, avail);
    let bezel = theme::WALL.bezel * scale;
    for (i, screen) in screens.iter().enumerate() {
        painter.rect_filled(screen.expand(bezel), bezel * 0.4, theme::colors::BEZEL);
        paint_monitor_with(ui, *screen, layout, i, cx, menus);
        let m = &layout.monitors[i];
        let label = cx.t_args(
            "wall.monitor_label",
            &[("name", &m.name), ("display", &m.display)],
        );
        painter.text(
            pos2(screen.left() + bezel, screen.bottom() + bezel * 0.5),
            Align2::LEFT_CENTER,
            label,
            theme::prop_font((bezel * 0.75).max(5.0)),
            theme::colors::TEXT_DIM,
        );
    }
}
