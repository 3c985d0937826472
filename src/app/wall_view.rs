//! Drawing the wall: one monitor at its own size (wall mode, snapshots of one monitor) or the
//! whole wall scaled into a rect with bezels (preview, wall snapshots). The same code serves the
//! window, the headless snapshot and the tests, so what the technician previews is the wall.

use egui::{Align2, Rect, pos2, vec2};

use crate::tiles::frame::{TileFrame, show_tile};
use crate::ui::{FrameCtx, theme};
use crate::wall::{WallLayout, geometry};

/// What a person asked of a tile with the mouse (on the desk).
#[derive(Clone, Debug, PartialEq)]
pub enum TileAction {
    Export {
        tile_id: String,
        format: crate::charts::export::Format,
    },
}

/// Draws monitor `index` of `layout` filling `screen` (which should have the monitor's aspect).
pub fn paint_monitor(
    ui: &mut egui::Ui,
    screen: Rect,
    layout: &WallLayout,
    index: usize,
    cx: &FrameCtx,
) {
    paint_monitor_with(ui, screen, layout, index, cx, None);
}

/// [`paint_monitor`], offering each tile's context menu when `actions` is given (the desk).
pub fn paint_monitor_with(
    ui: &mut egui::Ui,
    screen: Rect,
    layout: &WallLayout,
    index: usize,
    cx: &FrameCtx,
    mut actions: Option<&mut Vec<TileAction>>,
) {
    let Some(monitor) = layout.monitors.get(index) else {
        return;
    };
    // Token sizes are for a 1080-line monitor; a 4K panel of the same size needs twice the pixels.
    let scale = screen.height() / theme::REFERENCE_LINES;
    // Cameras an operator sent to the wall reach the camera tiles that take them.
    let sent = crate::ui::selection::get(ui.ctx()).sent_cameras;
    let cx = &FrameCtx {
        sent_cameras: sent.map(|s| s.cameras).unwrap_or_default(),
        ..cx.clone()
    };
    ui.painter_at(screen)
        .rect_filled(screen, 0.0, theme::colors::MONITOR_BACKGROUND);
    let inner = screen.shrink(theme::WALL.gap * scale / 2.0);
    let mut enlarged = enlarged_tile(ui.ctx(), index).filter(|id| {
        layout
            .tiles_on(index)
            .any(|t| &t.id == id && enlargeable(t))
    });
    // Keys for the wall only when no text field, list or pop-up of the desk has them.
    let keys_free = !ui.ctx().egui_wants_keyboard_input() && !egui::Popup::is_any_open(ui.ctx());
    if enlarged.is_some()
        && keys_free
        && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
    {
        enlarged = None;
    }
    match enlarged
        .as_ref()
        .and_then(|id| layout.tiles_on(index).find(|t| &t.id == id))
    {
        Some(tile) => {
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
            paint_tile(ui, inner, tile, scale, &cx);
            // How to get back, in the corner.
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
            if r.double_clicked() {
                enlarged = None;
            }
        }
        None => {
            for tile in layout.tiles_on(index) {
                let rect = geometry::cell_rect(monitor, tile.cell, inner, theme::WALL.gap * scale);
                if let Some(actions) = actions.as_deref_mut() {
                    tile_menu(ui, rect, tile, cx, actions);
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
                        enlarged = Some(tile.id.clone());
                    }
                }
                paint_tile(ui, rect, tile, scale, cx);
            }
        }
    }
    set_enlarged_tile(ui.ctx(), index, enlarged);
}

/// Tiles an operator may enlarge to fill their monitor.
fn enlargeable(tile: &crate::wall::Tile) -> bool {
    tile.kind() == crate::tiles::TileKind::Camera
}

fn enlarged_key(index: usize) -> egui::Id {
    egui::Id::NULL.with(("enlarged-tile", index))
}

/// The tile enlarged to fill monitor `index`, if any.
pub fn enlarged_tile(ctx: &egui::Context, index: usize) -> Option<String> {
    ctx.data(|d| d.get_temp::<Option<String>>(enlarged_key(index)))
        .flatten()
}

/// Enlarges a tile to fill monitor `index` (`None`: back to the layout).
pub fn set_enlarged_tile(ctx: &egui::Context, index: usize, tile: Option<String>) {
    ctx.data_mut(|d| d.insert_temp(enlarged_key(index), tile));
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

/// One tile in its frame at `rect` (the wall, the preview, snapshots and PNG exports).
pub fn paint_tile(
    ui: &mut egui::Ui,
    rect: Rect,
    tile: &crate::wall::Tile,
    scale: f32,
    cx: &FrameCtx,
) {
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
    show_tile(ui, rect, frame, cx, |ui, body| {
        view.paint_body(ui, body, scale, cx)
    });
}

/// The right-click menu of a tile (registered before the body so the body's hover stays on top).
fn tile_menu(
    ui: &mut egui::Ui,
    rect: Rect,
    tile: &crate::wall::Tile,
    cx: &FrameCtx,
    actions: &mut Vec<TileAction>,
) {
    use crate::charts::export::Format;
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
                actions.push(TileAction::Export {
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
    paint_wall_with(ui, avail, layout, cx, None);
}

/// [`paint_wall`] with the tiles' context menus (the desk's preview).
pub fn paint_wall_with(
    ui: &mut egui::Ui,
    avail: Rect,
    layout: &WallLayout,
    cx: &FrameCtx,
    mut actions: Option<&mut Vec<TileAction>>,
) {
    let painter = ui.painter_at(avail);
    painter.rect_filled(avail, 0.0, theme::colors::WALL_BACKGROUND);
    let (screens, scale) = wall_screens(layout, avail);
    let bezel = theme::WALL.bezel * scale;
    for (i, screen) in screens.iter().enumerate() {
        painter.rect_filled(screen.expand(bezel), bezel * 0.4, theme::colors::BEZEL);
        paint_monitor_with(ui, *screen, layout, i, cx, actions.as_deref_mut());
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
