//! The marker shapes: incidents (fill by priority, shape by category, outline by status, an
//! overdue badge) and cameras (a pictogram with a wedge for the direction, crossed when dark).

use egui::{Color32, Pos2, Rect, Shape, Stroke, pos2, vec2};

use crate::model::{IncidentStatus, Priority};
use crate::tiles::incidents::priority_color;
use crate::ui::theme;

/// The shapes categories are told apart by (all convex, so they fill cleanly).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Glyph {
    Circle,
    Square,
    Diamond,
    TriangleUp,
    TriangleDown,
    Pentagon,
    Hexagon,
    Octagon,
    Bar,
    Column,
}

pub(super) const GLYPHS: [Glyph; 10] = [
    Glyph::Circle,
    Glyph::Square,
    Glyph::Diamond,
    Glyph::TriangleUp,
    Glyph::TriangleDown,
    Glyph::Pentagon,
    Glyph::Hexagon,
    Glyph::Octagon,
    Glyph::Bar,
    Glyph::Column,
];

pub(super) fn glyph_points(g: Glyph, c: Pos2, r: f32) -> Vec<Pos2> {
    let poly = |n: usize, start_deg: f32, rr: f32| -> Vec<Pos2> {
        (0..n)
            .map(|i| {
                let a = (start_deg + 360.0 * i as f32 / n as f32).to_radians();
                pos2(c.x + rr * a.cos(), c.y + rr * a.sin())
            })
            .collect()
    };
    match g {
        Glyph::Circle => poly(16, 0.0, r),
        Glyph::Square => poly(4, 45.0, r * 1.25),
        Glyph::Diamond => poly(4, 0.0, r * 1.25),
        Glyph::TriangleUp => poly(3, -90.0, r * 1.35),
        Glyph::TriangleDown => poly(3, 90.0, r * 1.35),
        Glyph::Pentagon => poly(5, -90.0, r * 1.15),
        Glyph::Hexagon => poly(6, 0.0, r * 1.1),
        Glyph::Octagon => poly(8, 22.5, r * 1.08),
        Glyph::Bar => vec![
            pos2(c.x - r * 1.35, c.y - r * 0.6),
            pos2(c.x + r * 1.35, c.y - r * 0.6),
            pos2(c.x + r * 1.35, c.y + r * 0.6),
            pos2(c.x - r * 1.35, c.y + r * 0.6),
        ],
        Glyph::Column => vec![
            pos2(c.x - r * 0.6, c.y - r * 1.35),
            pos2(c.x + r * 0.6, c.y - r * 1.35),
            pos2(c.x + r * 0.6, c.y + r * 1.35),
            pos2(c.x - r * 0.6, c.y + r * 1.35),
        ],
    }
}

/// Draws an incident marker: fill by priority, shape by category, outline by status.
pub fn paint_incident_marker(
    painter: &egui::Painter,
    c: Pos2,
    r: f32,
    glyph: Glyph,
    priority: Priority,
    status: IncidentStatus,
    overdue: bool,
) {
    let mut out = Vec::new();
    incident_marker_shapes(&mut out, c, r, glyph, priority, status, overdue);
    painter.extend(out);
}

/// A filled circle with an outline, as a polygon of a few sides: at marker sizes it looks as
/// round as egui's circle and tessellates into a third of the vertices (markers are many).
pub(super) fn disc(center: Pos2, radius: f32, fill: Color32, stroke: Stroke) -> Shape {
    let sides = if radius < 8.0 { 12 } else { 24 };
    let points = (0..sides)
        .map(|i| {
            let a = std::f32::consts::TAU * i as f32 / sides as f32;
            pos2(center.x + radius * a.cos(), center.y + radius * a.sin())
        })
        .collect();
    Shape::convex_polygon(points, fill, stroke)
}

/// The shapes of an incident marker (see [`paint_incident_marker`]).
pub(super) fn incident_marker_shapes(
    out: &mut Vec<Shape>,
    c: Pos2,
    r: f32,
    glyph: Glyph,
    priority: Priority,
    status: IncidentStatus,
    overdue: bool,
) {
    let fill = priority_color(priority);
    let pts = glyph_points(glyph, c, r);
    let outline_w = (r * 0.18).max(1.0);
    if status.is_closed() {
        // Closed: hollow, in the priority colour.
        out.push(Shape::convex_polygon(
            pts,
            Color32::TRANSPARENT,
            Stroke::new(outline_w * 1.4, fill),
        ));
    } else if status == IncidentStatus::InProgress {
        // Being handled: a thick ring and a dark centre.
        out.push(Shape::convex_polygon(
            pts,
            fill,
            Stroke::new(outline_w * 2.0, Color32::WHITE),
        ));
        out.push(disc(
            c,
            r * 0.35,
            theme::colors::TILE_BACKGROUND,
            Stroke::NONE,
        ));
    } else {
        out.push(Shape::convex_polygon(
            pts,
            fill,
            Stroke::new(outline_w, Color32::WHITE),
        ));
    }
    if overdue {
        // A red badge with an exclamation mark, drawn (no font needed).
        let b = c + vec2(r * 0.95, -r * 0.95);
        let br = r * 0.5;
        out.push(disc(
            b,
            br,
            theme::colors::ERROR,
            Stroke::new(1.0, Color32::WHITE),
        ));
        let w = (br * 0.28).max(1.0);
        out.push(Shape::line_segment(
            [b - vec2(0.0, br * 0.6), b + vec2(0.0, br * 0.15)],
            Stroke::new(w, Color32::WHITE),
        ));
        out.push(disc(
            b + vec2(0.0, br * 0.5),
            w * 0.6,
            Color32::WHITE,
            Stroke::NONE,
        ));
    }
}

/// Draws a camera: a square with a wedge towards where it looks; dark ones grey and crossed.
pub fn paint_camera_marker(
    painter: &egui::Painter,
    c: Pos2,
    r: f32,
    direction_deg: Option<f32>,
    live: bool,
) {
    let color = if live {
        theme::colors::LIVE
    } else {
        theme::colors::OFFLINE
    };
    if let Some(d) = direction_deg {
        // 0° is north, clockwise; screen y grows down.
        let a = d.to_radians();
        let dir = vec2(a.sin(), -a.cos());
        let side = vec2(dir.y, -dir.x);
        let tip = c + dir * r * 2.3;
        painter.add(Shape::convex_polygon(
            vec![
                c + dir * r * 0.7 + side * r * 0.5,
                tip + side * r * 1.0,
                tip - side * r * 1.0,
                c + dir * r * 0.7 - side * r * 0.5,
            ],
            color.gamma_multiply(0.45),
            Stroke::NONE,
        ));
    }
    // A video-camera pictogram: a body and a lens hood, so it reads as a camera without colour
    // and is not taken for an incident.
    let body = Rect::from_center_size(c - vec2(r * 0.3, 0.0), vec2(r * 1.5, r * 1.1));
    let outline = Stroke::new(1.0, Color32::WHITE);
    painter.rect(body, r * 0.2, color, outline, egui::StrokeKind::Outside);
    painter.add(Shape::convex_polygon(
        vec![
            pos2(body.right(), c.y - r * 0.2),
            pos2(body.right() + r * 0.75, c.y - r * 0.55),
            pos2(body.right() + r * 0.75, c.y + r * 0.55),
            pos2(body.right(), c.y + r * 0.2),
        ],
        color,
        outline,
    ));
    if !live {
        let s = Stroke::new((r * 0.25).max(1.2), theme::colors::ERROR);
        let b = body.expand(r * 0.25);
        painter.line_segment([b.left_top(), pos2(b.right() + r * 0.6, b.bottom())], s);
        painter.line_segment([pos2(b.right() + r * 0.6, b.top()), b.left_bottom()], s);
    }
}

pub fn camera_state_key(online: bool) -> &'static str {
    if online {
        "map.camera_live"
    } else {
        "map.camera_dark"
    }
}
