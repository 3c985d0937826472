//! The arranging canvas: the wall drawn live as in preview, each monitor's grid over it, and the
//! tiles' handles: drag a tile to move it (to another monitor too), drag an edge or a corner to
//! resize it. Positions and spans snap to whole cells; a place that overlaps another tile or
//! leaves the grid is drawn red while dragging and refused on drop (the tile stays where it was).

use egui::{Color32, CursorIcon, Rect, Sense, Stroke, StrokeKind, pos2};

use super::ArrangeMode;
use crate::app::wall_view;
use crate::context::FrameCtx;
use crate::text::Text;
use crate::ui::theme;
use crate::wall::edit::Refusal;
use crate::wall::{CellRect, WallLayout};

/// Points from a tile's border within which a drag resizes instead of moving.
const EDGE: f32 = 8.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Grab {
    /// Moving: the grabbed cell's offset from the tile's top left cell.
    Move { dx: i64, dy: i64 },
    /// Resizing by the edges held.
    Resize {
        left: bool,
        right: bool,
        top: bool,
        bottom: bool,
    },
}

/// A drag in progress.
#[derive(Clone, Debug)]
pub(super) struct Drag {
    id: String,
    grab: Grab,
    monitor: usize,
    from: CellRect,
    /// Where the tile would land now (monitor index, cells as signed numbers) and whether it may.
    target: Option<(usize, [i64; 4], Result<(), Refusal>)>,
}

/// The grid of monitor `m` drawn at `screen`: its inner rect and a cell's size.
fn grid_of(layout: &WallLayout, m: usize, screen: Rect) -> Option<(Rect, f32, f32, f32)> {
    let mon = layout.monitors.get(m)?;
    let (inner, gap) = wall_view::monitor_grid(screen);
    Some((
        inner,
        inner.width() / mon.columns as f32,
        inner.height() / mon.rows as f32,
        gap,
    ))
}

/// The screen rect of signed cells `[x, y, w, h]` in a grid (they may lie outside it).
fn cells_rect(inner: Rect, cw: f32, ch: f32, gap: f32, c: [i64; 4]) -> Rect {
    let min = pos2(
        inner.left() + c[0] as f32 * cw,
        inner.top() + c[1] as f32 * ch,
    );
    Rect::from_min_size(min, egui::vec2(c[2] as f32 * cw, c[3] as f32 * ch)).shrink(gap / 2.0)
}

/// Where a tile of `layout` is drawn when its monitors are at `screens` (as the wall draws it).
fn tile_rect(layout: &WallLayout, screens: &[Rect], tile: &crate::wall::Tile) -> Rect {
    let (inner, gap) = wall_view::monitor_grid(screens[tile.monitor]);
    crate::wall::geometry::cell_rect(&layout.monitors[tile.monitor], tile.cell, inner, gap)
}

/// Which edges of `rect` the pointer at `p` holds.
fn edges_at(rect: Rect, p: egui::Pos2) -> (bool, bool, bool, bool) {
    let e = EDGE.min(rect.width() / 4.0).min(rect.height() / 4.0);
    (
        p.x - rect.left() < e,
        rect.right() - p.x < e,
        p.y - rect.top() < e,
        rect.bottom() - p.y < e,
    )
}

fn cursor_for(left: bool, right: bool, top: bool, bottom: bool) -> CursorIcon {
    match (left || right, top || bottom) {
        (true, true) if (left && top) || (right && bottom) => CursorIcon::ResizeNwSe,
        (true, true) => CursorIcon::ResizeNeSw,
        (true, false) => CursorIcon::ResizeHorizontal,
        (false, true) => CursorIcon::ResizeVertical,
        _ => CursorIcon::Grab,
    }
}

impl ArrangeMode {
    pub(super) fn canvas(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some(Ok(a)) = &self.doc else {
            return;
        };
        // Editing a scene: the wall as the scene shows it.
        let layout: std::sync::Arc<WallLayout> = match &self.scene {
            Some(sc) => a
                .layout()
                .with_scene(sc)
                .map_or_else(|| std::sync::Arc::clone(a.layout()), std::sync::Arc::new),
            None => std::sync::Arc::clone(a.layout()),
        };
        let enlarged: Vec<String> = self
            .scene
            .as_ref()
            .and_then(|sc| a.layout().scene(sc))
            .map(|s| s.enlarge.clone())
            .unwrap_or_default();
        let avail = ui.max_rect();
        // The real tiles keep drawing live data; none is enlarged while arranging.
        let live = FrameCtx {
            view: std::sync::Arc::new(crate::context::ViewState::default()),
            ..cx.clone()
        };
        wall_view::paint_wall(ui, avail, &layout, &live);
        let (screens, _) = wall_view::wall_screens(&layout, avail);
        let painter = ui.painter_at(avail);
        for (i, screen) in screens.iter().enumerate() {
            paint_grid(&painter, &layout, i, *screen);
        }
        let pointer = ui.input(|i| i.pointer.interact_pos().or(i.pointer.hover_pos()));
        for tile in &layout.tiles {
            let Some((inner, cw, ch, _)) = grid_of(&layout, tile.monitor, screens[tile.monitor])
            else {
                continue;
            };
            let c = tile.cell;
            let rect = tile_rect(&layout, &screens, tile);
            let r = ui.interact(
                rect,
                ui.make_persistent_id(("arrange-tile", &tile.id)),
                Sense::click_and_drag(),
            );
            let label = tile.id.clone();
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
            if let Some(p) = pointer.filter(|_| r.hovered() && self.drag.is_none()) {
                let (l, rt, t, b) = edges_at(rect, p);
                ui.ctx().set_cursor_icon(cursor_for(l, rt, t, b));
            }
            if r.clicked() {
                self.selected = Some(tile.id.clone());
            }
            if enlarged.contains(&tile.id) {
                paint_enlarged_mark(&painter, rect, cx);
            }
            if r.drag_started() && self.scene.is_some() {
                self.selected = Some(tile.id.clone());
                self.message = Some((Text::key("arrange.scene_no_moves"), true));
            } else if r.drag_started()
                && let Some(p) = ui.input(|i| i.pointer.press_origin())
            {
                let (left, right, top, bottom) = edges_at(rect, p);
                let grab = if left || right || top || bottom {
                    Grab::Resize {
                        left,
                        right,
                        top,
                        bottom,
                    }
                } else {
                    Grab::Move {
                        dx: ((p.x - inner.left()) / cw).floor() as i64 - c.x as i64,
                        dy: ((p.y - inner.top()) / ch).floor() as i64 - c.y as i64,
                    }
                };
                self.selected = Some(tile.id.clone());
                self.drag = Some(Drag {
                    id: tile.id.clone(),
                    grab,
                    monitor: tile.monitor,
                    from: c,
                    target: None,
                });
            }
        }
        self.follow_drag(ui, &layout, &screens, pointer);
        // The selected tile's outline.
        if let Some(sel) = &self.selected
            && let Some(tile) = layout.tiles.iter().find(|t| &t.id == sel)
        {
            let rect = tile_rect(&layout, &screens, tile);
            painter.rect_stroke(
                rect,
                2.0,
                Stroke::new(2.5, theme::colors::ACCENT),
                StrokeKind::Outside,
            );
        }
    }

    /// Updates the dragged tile's target from the pointer, draws it, and applies it on release.
    fn follow_drag(
        &mut self,
        ui: &egui::Ui,
        layout: &WallLayout,
        screens: &[Rect],
        pointer: Option<egui::Pos2>,
    ) {
        let Some(drag) = self.drag.as_mut() else {
            return;
        };
        let Some(a) = self.doc.as_ref().and_then(|d| d.as_ref().ok()) else {
            return;
        };
        if let Some(p) = pointer {
            // The monitor under the pointer (the nearest one over a bezel).
            let m = match drag.grab {
                Grab::Resize { .. } => drag.monitor,
                Grab::Move { .. } => screens
                    .iter()
                    .enumerate()
                    .min_by(|(_, x), (_, y)| x.distance_to_pos(p).total_cmp(&y.distance_to_pos(p)))
                    .map_or(drag.monitor, |(i, _)| i),
            };
            if let Some((inner, cw, ch, _)) = grid_of(layout, m, screens[m]) {
                let col = |x: f32| ((x - inner.left()) / cw) as f64;
                let row = |y: f32| ((y - inner.top()) / ch) as f64;
                let f = drag.from;
                let cells = match drag.grab {
                    Grab::Move { dx, dy } => [
                        col(p.x).floor() as i64 - dx,
                        row(p.y).floor() as i64 - dy,
                        f.w as i64,
                        f.h as i64,
                    ],
                    Grab::Resize {
                        left,
                        right,
                        top,
                        bottom,
                    } => {
                        let (mut x0, mut y0) = (f.x as i64, f.y as i64);
                        let (mut x1, mut y1) = (x0 + f.w as i64, y0 + f.h as i64);
                        if left {
                            x0 = (col(p.x).round() as i64).min(x1 - 1);
                        }
                        if right {
                            x1 = (col(p.x).round() as i64).max(x0 + 1);
                        }
                        if top {
                            y0 = (row(p.y).round() as i64).min(y1 - 1);
                        }
                        if bottom {
                            y1 = (row(p.y).round() as i64).max(y0 + 1);
                        }
                        [x0, y0, x1 - x0, y1 - y0]
                    }
                };
                let name = &layout.monitors[m].name;
                let ok = if cells[0] < 0 || cells[1] < 0 {
                    Err(Refusal::Outside {
                        monitor: name.clone(),
                        columns: layout.monitors[m].columns,
                        rows: layout.monitors[m].rows,
                    })
                } else {
                    a.check_place(Some(&drag.id), name, to_cell(cells))
                };
                drag.target = Some((m, cells, ok));
            }
        }
        if let Some((m, cells, ok)) = &drag.target
            && let Some((inner, cw, ch, gap)) = grid_of(layout, *m, screens[*m])
        {
            let rect = cells_rect(inner, cw, ch, gap, *cells);
            let painter = ui.painter_at(ui.max_rect());
            let (fill, stroke) = match ok {
                Ok(()) => (
                    theme::colors::ACCENT.gamma_multiply(0.25),
                    theme::colors::ACCENT,
                ),
                Err(_) => (
                    theme::colors::REFUSED.gamma_multiply(0.45),
                    theme::colors::REFUSED,
                ),
            };
            painter.rect_filled(rect, 2.0, fill);
            painter.rect_stroke(rect, 2.0, Stroke::new(3.0, stroke), StrokeKind::Inside);
            ui.ctx().set_cursor_icon(match drag.grab {
                Grab::Move { .. } if ok.is_err() => CursorIcon::NotAllowed,
                Grab::Move { .. } => CursorIcon::Grabbing,
                Grab::Resize {
                    left,
                    right,
                    top,
                    bottom,
                } => cursor_for(left, right, top, bottom),
            });
        }
        if ui.input(|i| i.pointer.any_released() || !i.pointer.any_down()) {
            let Some(drag) = self.drag.take() else {
                return;
            };
            match drag.target {
                Some((m, cells, Ok(()))) => {
                    let name = layout.monitors[m].name.clone();
                    let cell = to_cell(cells);
                    if (m, cell) != (drag.monitor, drag.from) {
                        self.try_edit(|a| a.place(&drag.id, &name, cell));
                    }
                }
                Some((_, _, Err(r))) => {
                    tracing::info!(tile = %drag.id, refusal = ?r, "arrange: drop refused");
                    self.message = Some((
                        Text::key("arrange.drop_refused").arg_text("why", r.text()),
                        true,
                    ));
                }
                None => {}
            }
        }
    }
}

/// Marks a tile the scene being edited enlarges.
fn paint_enlarged_mark(painter: &egui::Painter, rect: Rect, cx: &FrameCtx) {
    painter.rect_stroke(
        rect,
        2.0,
        Stroke::new(3.0, theme::colors::STALE),
        StrokeKind::Inside,
    );
    let galley = painter.layout_no_wrap(
        cx.t("arrange.scene_enlarged_mark").to_owned(),
        egui::FontId::proportional(12.0),
        theme::colors::TEXT,
    );
    let at = rect.left_bottom() + egui::vec2(6.0, -galley.size().y - 6.0);
    painter.rect_filled(
        Rect::from_min_size(
            at - egui::vec2(3.0, 2.0),
            galley.size() + egui::vec2(6.0, 4.0),
        ),
        2.0,
        theme::colors::WARNING_BG,
    );
    painter.galley(at, galley, theme::colors::TEXT);
}

fn to_cell(c: [i64; 4]) -> CellRect {
    let u = |v: i64| v.clamp(0, u32::MAX as i64) as u32;
    CellRect {
        x: u(c[0]),
        y: u(c[1]),
        w: u(c[2]),
        h: u(c[3]),
    }
}

/// The grid lines of monitor `m`, over its tiles, faint.
fn paint_grid(painter: &egui::Painter, layout: &WallLayout, m: usize, screen: Rect) {
    let Some((inner, cw, ch, _)) = grid_of(layout, m, screen) else {
        return;
    };
    let mon = &layout.monitors[m];
    let stroke = Stroke::new(1.0, Color32::from_rgba_unmultiplied(255, 255, 255, 40));
    for i in 0..=mon.columns {
        let x = inner.left() + i as f32 * cw;
        painter.line_segment([pos2(x, inner.top()), pos2(x, inner.bottom())], stroke);
    }
    for j in 0..=mon.rows {
        let y = inner.top() + j as f32 * ch;
        painter.line_segment([pos2(inner.left(), y), pos2(inner.right(), y)], stroke);
    }
}
