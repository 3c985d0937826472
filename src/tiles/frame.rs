//! The frame every tile is drawn in: title, status badge (shape + word), the age of the data,
//! and, when the tile has nothing to show or its source is in trouble, the reason in words.

use egui::{Rect, Stroke, StrokeKind, pos2, vec2};

use crate::context::FrameCtx;
use crate::status::{DataStatus, SourceState};
use crate::ui::{theme, widgets};

/// How a tile is framed.
pub struct TileFrame<'a> {
    pub title: &'a str,
    pub status: &'a DataStatus,
    /// Points per monitor pixel.
    pub scale: f32,
    /// Grey the body when the data is not live (see `TileView::greys_old_data`).
    pub grey_old: bool,
    /// The body draws its own states (see `TileView::paints_own_state`).
    pub own_state: bool,
}

/// Draws a tile's frame in `rect` and calls `body` for its content area when there is data.
pub fn show_tile(
    ui: &mut egui::Ui,
    rect: Rect,
    frame: TileFrame<'_>,
    cx: &FrameCtx,
    body: impl FnOnce(&mut egui::Ui, Rect),
) {
    let TileFrame {
        title,
        status,
        scale,
        grey_old,
        own_state,
    } = frame;
    let t = theme::WALL;
    let painter = ui.painter_at(rect);
    let radius = t.radius * scale;
    painter.rect_filled(rect, radius, theme::colors::TILE_BACKGROUND);

    let bar = Rect::from_min_size(rect.min, vec2(rect.width(), t.title_bar * scale));
    painter.rect_filled(
        bar,
        egui::CornerRadius {
            nw: radius as u8,
            ne: radius as u8,
            sw: 0,
            se: 0,
        },
        theme::colors::TILE_TITLE_BAR,
    );
    let pad = t.padding * scale;

    // Badge on the right, then the age to its left, then the title in what is left.
    let badge = widgets::paint_status_badge(
        &painter,
        pos2(bar.right() - pad, bar.center().y),
        status.state,
        cx.t(status.state.label_key()),
        t.badge * scale,
    );
    let mut right = badge.left() - pad * 0.6;
    // The age goes only where the title keeps at least 45 % of the bar; on small tiles the
    // badge's word says the state and the reason strip says the rest.
    if let Some(age) = status.age(cx.data_now()) {
        let galley = painter.layout_no_wrap(
            cx.age_words(age),
            theme::wall_font(t.caption, scale, false),
            theme::colors::TEXT_DIM,
        );
        let left = right - galley.size().x;
        if left - bar.left() > bar.width() * 0.45 {
            painter.galley(
                pos2(left, bar.center().y - galley.size().y / 2.0),
                galley,
                theme::colors::TEXT_DIM,
            );
            right = left - pad * 0.6;
        }
    }
    let title_rect = Rect::from_min_max(
        pos2(bar.left() + pad, bar.top()),
        pos2(right.max(bar.left() + pad), bar.bottom()),
    );
    let (title_galley, _) = widgets::elided(
        ui.painter(),
        title,
        theme::wall_font(t.title, scale, true),
        theme::colors::TEXT,
        title_rect.width(),
    );
    painter.with_clip_rect(title_rect).galley(
        pos2(
            title_rect.left(),
            bar.center().y - title_galley.size().y / 2.0,
        ),
        title_galley,
        theme::colors::TEXT,
    );

    let content = Rect::from_min_max(pos2(rect.left(), bar.bottom()), rect.max);
    let has_data = status.as_of.is_some();
    if own_state {
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(content));
        child.set_clip_rect(content.intersect(ui.clip_rect()));
        body(&mut child, content);
    } else if has_data {
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(content));
        child.set_clip_rect(content.intersect(ui.clip_rect()));
        body(&mut child, content);
        if status.state != SourceState::Live && grey_old {
            // Old data stays visible but greyed, so nobody mistakes it for live.
            painter.rect_filled(
                content,
                0.0,
                theme::colors::TILE_BACKGROUND.gamma_multiply(0.55),
            );
        }
    }
    if own_state {
        // The body said it.
    } else if let Some(reason) = status
        .reason_in(cx.lang)
        .filter(|_| status.state != SourceState::Live)
    {
        paint_reason(&painter, content, pad, scale, status, &reason, has_data);
    } else if !has_data {
        paint_reason(
            &painter,
            content,
            pad,
            scale,
            status,
            cx.t("tile.no_data"),
            false,
        );
    }

    let border = Stroke::new(
        (2.0 * scale).max(1.0),
        if status.state == SourceState::Live {
            theme::colors::TILE_BORDER
        } else {
            theme::status_color(status.state)
        },
    );
    painter.rect_stroke(rect, radius, border, StrokeKind::Inside);
}

fn paint_reason(
    painter: &egui::Painter,
    content: Rect,
    pad: f32,
    scale: f32,
    status: &DataStatus,
    reason: &str,
    has_data: bool,
) {
    let t = theme::WALL;
    let font = theme::wall_font(t.body * 0.8, scale, false);
    if has_data {
        // A strip at the bottom: the data above is old, here is why.
        let galley = painter.layout(
            reason.to_owned(),
            font.clone(),
            theme::colors::TEXT,
            (content.width() - 2.0 * pad).max(1.0),
        );
        let strip = Rect::from_min_max(
            pos2(content.left(), content.bottom() - galley.size().y - pad),
            content.max,
        );
        painter.rect_filled(strip, 0.0, theme::colors::TILE_TITLE_BAR);
        let accent = Rect::from_min_size(strip.min, vec2(pad * 0.4, strip.height()));
        painter.rect_filled(accent, 0.0, theme::status_color(status.state));
        painter.galley(
            pos2(strip.left() + pad, strip.top() + pad * 0.5),
            galley,
            theme::colors::TEXT,
        );
    } else {
        let icon_r = t.body * scale * 0.9;
        let c = content.center() - vec2(0.0, icon_r * 1.4);
        widgets::paint_status_icon(painter, c, icon_r, status.state);
        let text_rect = Rect::from_min_max(
            pos2(content.left() + pad, c.y + icon_r * 1.6),
            pos2(content.right() - pad, content.bottom() - pad),
        );
        let galley = painter.layout(
            reason.to_owned(),
            font,
            theme::colors::TEXT,
            text_rect.width().max(1.0),
        );
        let pos = pos2(
            text_rect.center().x - galley.size().x / 2.0,
            text_rect.top(),
        );
        painter
            .with_clip_rect(text_rect)
            .galley(pos, galley, theme::colors::TEXT);
    }
}
