//! `clock`: the date and time in Vietnam's time zone, readable across the room.

use egui::{Align2, Rect, pos2};
use schemars::JsonSchema;
use serde::Deserialize;

use super::TileView;
use crate::context::{FrameCtx, TileState};
use crate::format;
use crate::status::DataStatus;
use crate::ui::theme;

/// Options of a `clock` tile.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockOptions {
    /// Show seconds (default true).
    #[serde(default = "yes")]
    pub seconds: bool,
    /// Show the weekday and date under the time (default true).
    #[serde(default = "yes")]
    pub date: bool,
}

fn yes() -> bool {
    true
}

impl Default for ClockOptions {
    fn default() -> Self {
        ClockOptions {
            seconds: true,
            date: true,
        }
    }
}

impl TileView for ClockOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        // The clock's source is this machine's clock: always live, never old.
        DataStatus::live(cx.now)
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
        let vn = format::to_vietnam_time(cx.now);
        // Drawing sparingly, a clock changes once a minute.
        let time = format::time(vn, self.seconds && !cx.low_power);
        let pad = theme::WALL.padding * scale;
        let inner = rect.shrink(pad * 0.5);
        let caption = theme::WALL.caption * scale;
        // Stack: time (size), date (0.3 size, never below the caption size), caption. Digits of
        // Noto Sans Bold are about 0.6 em wide, so the time fits 90 % of the width.
        let chars = time.chars().count() as f32;
        let date_ratio = if self.date { 0.3 } else { 0.0 };
        let size = (theme::WALL.huge * scale)
            .min(inner.width() * 0.9 / (chars * 0.6))
            .min((inner.height() - caption * 1.3) / (1.15 + date_ratio * 1.3))
            .max(4.0);
        let date_size = (size * date_ratio).max(caption);
        let stack = size * 1.15 + if self.date { date_size * 1.3 } else { 0.0 } + caption * 1.3;
        let mut y = inner.center().y - stack / 2.0;
        let x = inner.center().x;
        painter.text(
            pos2(x, y),
            Align2::CENTER_TOP,
            &time,
            theme::bold_font(size),
            theme::colors::TEXT,
        );
        y += size * 1.15;
        if self.date {
            let line = format!("{}, {}", format::weekday(cx.lang, vn), format::date(vn));
            painter.text(
                pos2(x, y),
                Align2::CENTER_TOP,
                line,
                theme::prop_font(date_size),
                theme::colors::TEXT,
            );
            y += date_size * 1.3;
        }
        painter.text(
            pos2(x, y),
            Align2::CENTER_TOP,
            cx.t("clock.zone"),
            theme::prop_font(caption),
            theme::colors::TEXT_DIM,
        );
    }
}
