//! `text`: an announcement written in the layout (e.g. the duty roster or a notice for the room).

use egui::{Rect, pos2};
use schemars::JsonSchema;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization as _;

use super::TileView;
use crate::context::{FrameCtx, TileState};
use crate::status::DataStatus;
use crate::ui::theme;

/// How urgent an announcement is; shown as a word and a background, not by colour alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

/// Options of a `text` tile.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextOptions {
    /// The announcement. Line breaks are kept.
    #[serde(deserialize_with = "nfc")]
    pub body: String,
    /// info (default), warning or critical.
    #[serde(default)]
    pub severity: Severity,
}

fn nfc<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    Ok(s.nfc().collect())
}

impl TileView for TextOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        // The text comes from the layout file; its age is the layout's.
        DataStatus::live(cx.layout_loaded_at)
    }

    fn paint_body(
        &self,
        ui: &mut egui::Ui,
        rect: Rect,
        scale: f32,
        cx: &FrameCtx,
        _state: &mut TileState,
    ) {
        let painter = ui.painter_at(rect);
        let pad = theme::WALL.padding * scale;
        let inner = rect.shrink(pad);
        let (label_key, bg) = match self.severity {
            Severity::Info => ("text.severity.info", None),
            Severity::Warning => ("text.severity.warning", Some(theme::colors::WARNING_BG)),
            Severity::Critical => ("text.severity.critical", Some(theme::colors::CRITICAL_BG)),
        };
        if let Some(bg) = bg {
            painter.rect_filled(rect, 0.0, bg);
        }
        let label_font = theme::wall_font(theme::WALL.caption, scale, true);
        let label = painter.text(
            inner.left_top(),
            egui::Align2::LEFT_TOP,
            cx.t(label_key).to_uppercase(),
            label_font,
            theme::colors::TEXT_DIM,
        );
        let body_rect =
            Rect::from_min_max(pos2(inner.left(), label.bottom() + pad * 0.5), inner.max);
        // Start a little above the body size (big tiles in a briefing read better) and shrink
        // until the text fits the tile, so nothing is cut off silently.
        let mut size = theme::WALL.body * scale * 1.5;
        let min = theme::WALL.caption * scale * 0.6;
        loop {
            let galley = painter.layout(
                self.body.clone(),
                theme::prop_font(size),
                theme::colors::TEXT,
                body_rect.width().max(1.0),
            );
            if galley.size().y <= body_rect.height() || size <= min {
                painter.galley(body_rect.min, galley, theme::colors::TEXT);
                break;
            }
            size *= 0.9;
        }
    }
}
