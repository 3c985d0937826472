//! Drawing one scene of a storyboard: what the audience sees, the presenter's current and next
//! scene, with the same code. The data is the frozen store of the frame's context; a strip at
//! the bottom says the scene's title and "as of".

use egui::{Align2, Color32, Rect, vec2};

use crate::context::FrameCtx;
use crate::context::view::{BriefingView, INK_COLOURS, InkStroke};
use crate::format;
use crate::ui::theme;
use crate::wall::storyboard::{Show, StoryScene};

use super::super::wall_view;

/// How much larger than on the wall the audience's text is (read from the back of a meeting
/// room: a 4K screen of 3 × 2 tiles seen from 8–10 m).
pub const LARGE_TYPE: f32 = 1.3;

/// The "as of" line: "Số liệu tính đến HH:mm dd/MM/yyyy" in Vietnam time.
pub fn as_of_line(cx: &FrameCtx) -> Option<String> {
    let at = format::to_vietnam_time(cx.as_of?);
    Some(cx.t_args(
        "brief.as_of",
        &[("time", &at.format("%H:%M %d/%m/%Y").to_string())],
    ))
}

/// The context a scene's tiles draw with: its enlarged tiles and the large type.
pub fn scene_ctx(scene: &StoryScene, cx: &FrameCtx) -> FrameCtx {
    // The view (with the briefing's ink) is copied only when the scene enlarges other tiles
    // than the view does: most scenes enlarge none, and this runs for every scene drawn.
    let enlarged: std::collections::BTreeMap<String, String> =
        scene.enlarged.iter().cloned().collect();
    let view = if cx.view.enlarged == enlarged {
        std::sync::Arc::clone(&cx.view)
    } else {
        let mut view = (*cx.view).clone();
        view.enlarged = enlarged;
        std::sync::Arc::new(view)
    };
    FrameCtx {
        view,
        type_scale: match scene.show {
            Show::Wall => 1.0,
            Show::Monitor(_) | Show::Tile(_) => LARGE_TYPE,
        },
        ..cx.clone()
    }
}

/// What the presenter put on a scene: ink and the pointer.
#[derive(Clone, Copy, Default)]
pub struct Marks<'a> {
    pub ink: &'a [InkStroke],
    pub pointer: Option<([f32; 2], chrono::DateTime<chrono::Utc>)>,
}

impl<'a> Marks<'a> {
    /// The marks of the scene shown in a briefing.
    pub fn of(b: &'a BriefingView) -> Self {
        Marks {
            ink: b.ink_here(),
            pointer: b.pointer,
        }
    }
}

/// The pens' colours (Okabe-Ito vermillion, yellow, sky blue: seen on any tile's background).
pub const INK: [Color32; INK_COLOURS] = [
    Color32::from_rgb(230, 60, 20),
    Color32::from_rgb(240, 228, 66),
    Color32::from_rgb(86, 180, 233),
];

/// How long the pointer stays after it last moved (it fades meanwhile).
pub const POINTER_FADE: chrono::Duration = chrono::Duration::milliseconds(1500);

/// Where a point of the screen is in a scene drawn at `rect` (0–1 across and down).
pub fn to_scene(rect: Rect, p: egui::Pos2) -> [f32; 2] {
    [
        (p.x - rect.left()) / rect.width().max(1.0),
        (p.y - rect.top()) / rect.height().max(1.0),
    ]
}

fn from_scene(rect: Rect, p: [f32; 2]) -> egui::Pos2 {
    rect.min + vec2(p[0] * rect.width(), p[1] * rect.height())
}

/// Every screen and page draws a scene in a 16:9 frame (the briefing screen's shape), centred in
/// what it has: the presenter's panel, the audience's monitor and a deck page then put ink, which
/// is kept in the frame's own coordinates, on the same place of the scene.
pub const ASPECT: f32 = 16.0 / 9.0;

/// The scene's frame in `rect`.
pub fn frame(rect: Rect) -> Rect {
    let (_, fitted) = crate::wall::geometry::fit(vec2(ASPECT, 1.0), rect);
    fitted
}

/// Draws `scene` in its frame in `rect` (black around it): its body, then the strip with the
/// title and "as of", then the presenter's marks.
pub fn paint_scene(
    ui: &mut egui::Ui,
    rect: Rect,
    scene: &StoryScene,
    cx: &FrameCtx,
    marks: Marks<'_>,
) {
    if rect.width() < 2.0 || rect.height() < 2.0 {
        return;
    }
    ui.painter_at(rect).rect_filled(rect, 0.0, Color32::BLACK);
    let rect = frame(rect);
    let rows = if cx.view.scope.is_some() { 2.0 } else { 1.0 };
    let strip_h = (rect.height() * 0.055).max(10.0) * rows;
    let body = Rect::from_min_max(rect.min, egui::pos2(rect.max.x, rect.max.y - strip_h));
    let strip = Rect::from_min_max(egui::pos2(rect.min.x, body.max.y), rect.max);
    let scx = scene_ctx(scene, cx);
    let layout = &super::super::scope::scoped(&scene.layout, cx);
    match &scene.show {
        Show::Wall => wall_view::paint_wall(ui, body, layout, &scx),
        Show::Monitor(i) => {
            let m = &layout.monitors[*i];
            let size = vec2(m.resolution[0] as f32, m.resolution[1] as f32);
            let (_, fitted) = crate::wall::geometry::fit(size, body);
            wall_view::paint_monitor(ui, fitted, layout, *i, &scx);
        }
        Show::Tile(id) => {
            if let Some(tile) = layout.tiles.iter().find(|t| &t.id == id) {
                let scale = body.height() / theme::REFERENCE_LINES;
                let inner = body.shrink(theme::WALL.gap * scale);
                let tcx = FrameCtx {
                    enlarged: true,
                    ..scx.clone()
                };
                wall_view::paint_tile(ui, inner, tile, scale, &tcx);
            }
        }
    }
    paint_strip(ui, strip, scene, cx);
    paint_marks(ui, rect, marks, cx);
}

fn paint_marks(ui: &egui::Ui, rect: Rect, marks: Marks<'_>, cx: &FrameCtx) {
    let painter = ui.painter_at(rect);
    let width = (rect.height() / 200.0).max(1.5);
    for s in marks.ink {
        let colour = INK[s.colour.min(INK_COLOURS - 1)];
        let points: Vec<egui::Pos2> = s.points.iter().map(|p| from_scene(rect, *p)).collect();
        match points.as_slice() {
            [one] => {
                painter.circle_filled(*one, width, colour);
            }
            _ => {
                painter.add(egui::Shape::line(
                    points,
                    egui::Stroke::new(width * 2.0, colour),
                ));
            }
        }
    }
    if let Some((at, since)) = marks.pointer {
        let age = cx.now - since;
        if age < POINTER_FADE {
            let left = 1.0 - age.num_milliseconds() as f32 / POINTER_FADE.num_milliseconds() as f32;
            let p = from_scene(rect, at);
            let r = (rect.height() / 60.0).max(4.0);
            let a = (left * 255.0) as u8;
            painter.circle_filled(
                p,
                r * 1.8,
                Color32::from_rgba_unmultiplied(230, 60, 20, a / 3),
            );
            painter.circle_filled(p, r, Color32::from_rgba_unmultiplied(255, 80, 40, a));
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(33));
        }
    }
}

fn paint_strip(ui: &egui::Ui, strip: Rect, scene: &StoryScene, cx: &FrameCtx) {
    let painter = ui.painter_at(strip);
    painter.rect_filled(strip, 0.0, theme::colors::TILE_TITLE_BAR);
    // One row (title, "as of"), and a second for the scope when there is one.
    let scoped = cx.view.scope.is_some();
    let row_h = if scoped {
        strip.height() / 2.0
    } else {
        strip.height()
    };
    let row = Rect::from_min_size(strip.min, vec2(strip.width(), row_h));
    let size = row_h * 0.5;
    let pad = row_h * 0.4;
    let title_font = theme::bold_font(size);
    let font = theme::prop_font(size * 0.9);
    let mut right = as_of_line(cx).unwrap_or_default();
    if !right.is_empty() && has_cameras(scene) {
        right = format!("{right} · {}", cx.t("brief.as_of_live_cameras"));
    }
    if let Some(p) = scene.period {
        let period = cx.t_args(
            "brief.period",
            &[("period", &crate::format::period(cx.lang, p))],
        );
        right = if right.is_empty() {
            period
        } else {
            format!("{period} · {right}")
        };
    }
    let r = painter.text(
        row.right_center() - vec2(pad, 0.0),
        Align2::RIGHT_CENTER,
        right,
        font,
        theme::colors::TEXT,
    );
    let room = (r.left() - row.left() - 2.0 * pad).max(0.0);
    let (title, _) = crate::ui::widgets::elided(
        &painter,
        &scene.title,
        title_font.clone(),
        theme::colors::TEXT,
        room,
    );
    let at = row.left_center() + vec2(pad, -title.size().y / 2.0);
    painter.galley(at, title, theme::colors::TEXT);
    if scoped {
        let second = row.translate(vec2(0.0, row_h));
        let (scope, _) = crate::ui::widgets::elided(
            &painter,
            &super::super::scope::label(cx),
            title_font,
            theme::colors::ACCENT,
            (second.width() - 2.0 * pad).max(0.0),
        );
        let at = second.left_center() + vec2(pad, -scope.size().y / 2.0);
        painter.galley(at, scope, theme::colors::ACCENT);
    }
}

/// Whether the scene shows a camera (live while the rest is frozen).
fn has_cameras(scene: &StoryScene) -> bool {
    let camera = |t: &crate::wall::Tile| t.kind() == crate::tiles::TileKind::Camera;
    match &scene.show {
        Show::Wall => scene.layout.tiles.iter().any(camera),
        Show::Monitor(i) => scene.layout.tiles_on(*i).any(camera),
        Show::Tile(id) => scene.layout.tiles.iter().any(|t| &t.id == id && camera(t)),
    }
}
