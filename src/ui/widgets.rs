//! Small shared widgets drawn with the painter: status icons and badges.

use egui::{Align2, Color32, Painter, Pos2, Rect, Shape, Stroke, pos2, vec2};

use super::theme::{self, colors};
use crate::status::SourceState;

/// A shape per state, so that state never depends on colour alone:
/// live = filled disc, stale = clock face, offline = crossed-out ring, error = triangle,
/// no permission = padlock.
pub fn paint_status_icon(painter: &Painter, center: Pos2, radius: f32, state: SourceState) {
    let color = theme::status_color(state);
    let stroke = Stroke::new((radius * 0.28).max(1.0), color);
    match state {
        SourceState::Live => {
            painter.circle_filled(center, radius, color);
        }
        SourceState::Stale => {
            painter.circle_stroke(center, radius * 0.85, stroke);
            painter.line_segment([center, center + vec2(0.0, -radius * 0.6)], stroke);
            painter.line_segment([center, center + vec2(radius * 0.45, 0.0)], stroke);
        }
        SourceState::Offline => {
            painter.circle_stroke(center, radius * 0.85, stroke);
            let d = radius * 0.85 * std::f32::consts::FRAC_1_SQRT_2;
            painter.line_segment([center + vec2(-d, d), center + vec2(d, -d)], stroke);
        }
        SourceState::Error => {
            let pts = vec![
                center + vec2(0.0, -radius),
                center + vec2(radius * 0.95, radius * 0.8),
                center + vec2(-radius * 0.95, radius * 0.8),
            ];
            painter.add(Shape::convex_polygon(pts, color, Stroke::NONE));
            painter.line_segment(
                [
                    center + vec2(0.0, -radius * 0.45),
                    center + vec2(0.0, radius * 0.3),
                ],
                Stroke::new(stroke.width * 0.8, colors::TILE_BACKGROUND),
            );
        }
        SourceState::Connecting => {
            // Three dots: on its way.
            for dx in [-0.6, 0.0, 0.6] {
                painter.circle_filled(center + vec2(radius * dx, 0.0), radius * 0.22, color);
            }
        }
        SourceState::NoPermission => {
            let body = Rect::from_center_size(
                center + vec2(0.0, radius * 0.3),
                vec2(radius * 1.5, radius * 1.1),
            );
            painter.rect_filled(body, radius * 0.15, color);
            painter.circle_stroke(center + vec2(0.0, -radius * 0.3), radius * 0.45, stroke);
        }
    }
}

/// A status badge (icon + word) whose right edge is at `right_center`. Returns its rect.
pub fn paint_status_badge(
    painter: &Painter,
    right_center: Pos2,
    state: SourceState,
    label: &str,
    font_size: f32,
) -> Rect {
    let font = theme::bold_font(font_size);
    let color = theme::status_color(state);
    let galley = painter.layout_no_wrap(label.to_uppercase(), font, colors::TEXT);
    let pad = font_size * 0.45;
    let icon_r = font_size * 0.42;
    let size = vec2(
        pad + icon_r * 2.0 + pad * 0.8 + galley.size().x + pad,
        galley.size().y + pad * 0.6,
    );
    let rect = Rect::from_min_size(
        pos2(right_center.x - size.x, right_center.y - size.y / 2.0),
        size,
    );
    painter.rect(
        rect,
        size.y / 2.0,
        color.gamma_multiply(0.22),
        Stroke::new((font_size * 0.08).max(1.0), color),
        egui::StrokeKind::Inside,
    );
    paint_status_icon(
        painter,
        pos2(rect.left() + pad + icon_r, rect.center().y),
        icon_r,
        state,
    );
    painter.galley(
        pos2(
            rect.left() + pad + icon_r * 2.0 + pad * 0.8,
            rect.center().y - galley.size().y / 2.0,
        ),
        galley,
        colors::TEXT,
    );
    rect
}

/// `font`, made smaller (on the type ladder, not below `min` points) until `text` fits `width` on
/// one line: a line of a tile that is narrower than its words is not cut off at the edge.
pub fn font_to_fit(
    painter: &Painter,
    text: &str,
    font: egui::FontId,
    width: f32,
    min: f32,
) -> egui::FontId {
    let mut size = font.size;
    loop {
        let candidate = egui::FontId::new(
            theme::snap_size(size).max(min).min(font.size),
            font.family.clone(),
        );
        let wide = painter
            .layout_no_wrap(text.to_owned(), candidate.clone(), colors::TEXT)
            .size()
            .x;
        if wide <= width || candidate.size <= min {
            return candidate;
        }
        // The next step of the ladder down, or the size that would fit if width is linear.
        size = (candidate.size * (width / wide).max(0.5)).min(candidate.size * 0.97);
    }
}

/// Text centred in a rect, wrapped to its width (the words a tile shows when it has no data).
pub fn paint_centered_text(
    painter: &Painter,
    rect: Rect,
    text: &str,
    font: egui::FontId,
    color: Color32,
) {
    let galley = painter.layout(text.to_owned(), font, color, rect.width().max(1.0));
    let pos = Align2::CENTER_CENTER
        .anchor_size(rect.center(), galley.size())
        .min;
    painter.galley(pos, galley, color);
}

/// Size of text on one line, for layout decisions.
pub fn text_width(painter: &Painter, text: &str, font: egui::FontId) -> f32 {
    painter
        .layout_no_wrap(text.to_owned(), font, Color32::WHITE)
        .size()
        .x
}

/// `text` on one line, cut to fit `width` and ended with "…" when it does not: the longest cut
/// that fits (found by halving, so a long title costs a few layouts, not one per character).
/// Returns the galley and whether it was cut (the caller then shows the whole text on hover).
pub fn elided(
    painter: &Painter,
    text: &str,
    font: egui::FontId,
    color: Color32,
    width: f32,
) -> (std::sync::Arc<egui::Galley>, bool) {
    let whole = painter.layout_no_wrap(text.to_owned(), font.clone(), color);
    if whole.size().x <= width {
        return (whole, false);
    }
    let chars: Vec<char> = text.chars().collect();
    let cut = |n: usize| -> std::sync::Arc<egui::Galley> {
        let candidate: String = chars[..n].iter().collect::<String>() + "…";
        painter.layout_no_wrap(candidate, font.clone(), color)
    };
    // The largest n < len whose cut fits (widths grow with n), or nothing when even "…" alone
    // does not fit.
    let fits = |g: &std::sync::Arc<egui::Galley>| g.size().x <= width;
    let first = cut(0);
    if !fits(&first) {
        return (painter.layout_no_wrap(String::new(), font, color), true);
    }
    let (mut lo, mut hi) = (0usize, chars.len() - 1);
    let mut best = first;
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let g = cut(mid);
        if fits(&g) {
            lo = mid;
            best = g;
        } else {
            hi = mid - 1;
        }
    }
    (best, true)
}

#[cfg(test)]
mod fit_tests {
    use super::*;

    #[test]
    fn a_line_too_wide_for_its_tile_gets_smaller_type_until_it_fits() {
        let ctx = egui::Context::default();
        crate::ui::fonts::install(&ctx);
        let text = "Tăng 0,06 điểm % so với T10/2026";
        let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
            let painter = ui.painter().clone();
            let font = theme::prop_font(22.0);
            let width = |f: &egui::FontId| {
                painter
                    .layout_no_wrap(text.to_owned(), f.clone(), colors::TEXT)
                    .size()
                    .x
            };
            let full = width(&font);
            // Room enough: the same font.
            assert_eq!(
                font_to_fit(&painter, text, font.clone(), full + 1.0, 8.0),
                font
            );
            // Three quarters of the room: smaller, on the ladder, and it fits.
            let fitted = font_to_fit(&painter, text, font.clone(), full * 0.75, 8.0);
            assert!(fitted.size < font.size, "{fitted:?}");
            assert_eq!(theme::snap_size(fitted.size), fitted.size);
            assert!(
                width(&fitted) <= full * 0.75,
                "{} > {}",
                width(&fitted),
                full * 0.75
            );
            // No room at all: down to the minimum, never below it.
            let least = font_to_fit(&painter, text, font.clone(), 1.0, 8.0);
            assert_eq!(least.size, 8.0);
        });
        out.textures_delta.clear();
    }
}
