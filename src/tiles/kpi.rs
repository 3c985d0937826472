//! `kpi`: one indicator as a big number with its unit, the change against the previous period and
//! against the target (arrow shape, sign and words, not colour alone), and a sparkline.

use egui::{Align2, Color32, Pos2, Rect, Shape, Stroke, pos2, vec2};
use schemars::JsonSchema;
use serde::Deserialize;

use super::TileView;
use crate::charts::{ChartData, ChartSpec, ChartType, UnitSelection};
use crate::context::{FrameCtx, TileState};
use crate::format;
use crate::model::Direction;
use crate::status::{DataStatus, SourceState};
use crate::ui::theme;

/// Options of a `kpi` tile.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiOptions {
    /// The indicator id.
    pub indicator: String,
    /// "top" (default) or a unit id.
    #[serde(default)]
    pub unit: Option<String>,
    /// Up to this period only (a briefing scene's period; not written in layout files).
    #[serde(skip)]
    #[schemars(skip)]
    pub period: Option<crate::model::PeriodKey>,
    /// Periods in the sparkline (default 12).
    #[serde(default = "twelve")]
    pub sparkline: usize,
}

fn twelve() -> usize {
    12
}

impl KpiOptions {
    /// The chart the KPI reads its values from.
    pub fn spec(&self) -> ChartSpec {
        ChartSpec {
            chart: ChartType::Line,
            indicators: vec![self.indicator.clone()],
            units: match &self.unit {
                Some(u) => UnitSelection::Ids(vec![u.clone()]),
                None => UnitSelection::default(),
            },
            periods: self.sparkline.max(2),
            period: self.period,
        }
    }

    fn data(&self, cx: &FrameCtx) -> std::sync::Arc<ChartData> {
        super::chart::chart_data(&self.spec(), cx)
    }
}

impl TileView for KpiOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        super::chart::chart_status(cx, &self.data(cx))
    }

    fn paint_body(
        &self,
        ui: &mut egui::Ui,
        rect: Rect,
        scale: f32,
        cx: &FrameCtx,
        _state: &mut TileState,
    ) {
        let data = self.data(cx);
        let painter = ui.painter_at(rect);
        let t = theme::WALL;
        let pad = t.padding * scale;
        let inner = rect.shrink(pad);
        let Some(line) = data.lines.first() else {
            return;
        };
        let indicator = cx
            .store
            .indicators
            .data
            .as_ref()
            .and_then(|v| v.iter().find(|i| i.id == self.indicator));
        let Some(indicator) = indicator else { return };
        let last = line.values.iter().rposition(Option::is_some);
        let Some(last) = last else {
            crate::ui::widgets::paint_centered_text(
                &painter,
                inner,
                cx.t("chart.not_updated"),
                theme::wall_font(t.body, scale, false),
                theme::colors::TEXT_DIM,
            );
            return;
        };
        let value = line.values[last].unwrap_or_default();
        let period = data.periods[last];

        // Big number and unit.
        let big = (t.huge * scale * 0.55).min(inner.height() * 0.36).max(6.0);
        let number = format::number(cx.lang, value, indicator.decimals);
        let g = painter.text(
            inner.left_top(),
            Align2::LEFT_TOP,
            &number,
            theme::bold_font(big),
            theme::colors::TEXT,
        );
        painter.text(
            pos2(g.right() + pad * 0.5, g.bottom() - big * 0.18),
            Align2::LEFT_BOTTOM,
            &indicator.unit_of_measure,
            theme::prop_font(big * 0.38),
            theme::colors::TEXT_DIM,
        );
        let small = theme::prop_font((t.caption * scale).max(5.0));
        let mut y = g.bottom() + pad * 0.3;
        painter.text(
            pos2(inner.left(), y),
            Align2::LEFT_TOP,
            cx.t_args(
                "kpi.period",
                &[("period", &format::period(cx.lang, period))],
            ),
            small.clone(),
            theme::colors::TEXT_DIM,
        );
        y += small.size * 1.4;
        // The value's status as its source wrote it (provisional, estimated…), and a newer
        // period the source reports without a value: said, never shown as zero nor hidden.
        let status = data
            .series_read
            .first()
            .and_then(|k| cx.store.series.data.as_ref()?.get(k))
            .and_then(|s| s.points.iter().find(|p| p.period == period))
            .and_then(|p| p.status);
        if let Some(key) = status.and_then(|s| s.meaning_key()) {
            painter.text(
                pos2(inner.left(), y),
                Align2::LEFT_TOP,
                cx.t_args("kpi.status", &[("status", &cx.t(key))]),
                small.clone(),
                theme::colors::STALE,
            );
            y += small.size * 1.4;
        }
        if last + 1 < data.periods.len() {
            let newest = data.periods[data.periods.len() - 1];
            painter.text(
                pos2(inner.left(), y),
                Align2::LEFT_TOP,
                cx.t_args(
                    "kpi.missing_latest",
                    &[("period", &format::period(cx.lang, newest))],
                ),
                small.clone(),
                theme::colors::STALE,
            );
            y += small.size * 1.4;
        }

        let good_up = indicator
            .threshold
            .is_none_or(|th| th.direction == Direction::HigherIsBetter);
        let lines = Lines {
            painter: &painter,
            cx,
            left: inner.left(),
            right: inner.right(),
            small: &small,
        };
        if let Some(prev) = last.checked_sub(1).and_then(|i| line.values[i]) {
            y = lines.change(y, (value, prev), data.periods[last - 1], indicator, good_up);
        }
        if let Some(target) = indicator.target {
            y = lines.target(y, value, target, indicator, good_up);
        }
        // Sparkline in what is left.
        let spark = Rect::from_min_max(pos2(inner.left(), y + pad * 0.3), inner.max);
        if spark.height() > 8.0 * scale {
            paint_sparkline(&painter, spark, &line.values, (2.5 * scale).max(1.0));
        }
    }
}

/// The lines under the big number, written one below the other.
struct Lines<'a> {
    painter: &'a egui::Painter,
    cx: &'a FrameCtx,
    left: f32,
    /// The tile's inner right edge: a line narrower than its words gets smaller type.
    right: f32,
    small: &'a egui::FontId,
}

impl Lines<'_> {
    /// The small font, or smaller where `text` (after its icon) would run past the right edge.
    fn fit(&self, text: &str) -> egui::FontId {
        let width = self.right - (self.left + self.small.size * 1.2);
        crate::ui::widgets::font_to_fit(
            self.painter,
            text,
            self.small.clone(),
            width,
            self.small.size * 0.6,
        )
    }

    /// The change against the previous period (arrow shape, sign and words); returns the next
    /// line's top.
    fn change(
        &self,
        y: f32,
        (value, prev): (f64, f64),
        previous: crate::model::PeriodKey,
        indicator: &crate::model::Indicator,
        good_up: bool,
    ) -> f32 {
        let diff = value - prev;
        let percent_unit = indicator.unit_of_measure.trim() == "%";
        let amount = if percent_unit {
            self.cx.t_args(
                "kpi.points",
                &[(
                    "n",
                    &format::number(self.cx.lang, diff.abs(), indicator.decimals.max(1)),
                )],
            )
        } else if prev != 0.0 {
            format!(
                "{}%",
                format::number(self.cx.lang, (diff / prev * 100.0).abs(), 1)
            )
        } else {
            format::number(self.cx.lang, diff.abs(), indicator.decimals)
        };
        let key = if diff > 0.0 {
            "kpi.up"
        } else if diff < 0.0 {
            "kpi.down"
        } else {
            "kpi.same"
        };
        let good = (diff > 0.0) == good_up || diff == 0.0;
        let color = if good {
            theme::colors::LIVE
        } else {
            theme::colors::ERROR
        };
        let arrow_c = pos2(self.left + self.small.size * 0.5, y + self.small.size * 0.6);
        paint_arrow(self.painter, arrow_c, self.small.size * 0.45, diff, color);
        let text = self.cx.t_args(
            key,
            &[
                ("amount", &amount),
                ("period", &format::period(self.cx.lang, previous)),
            ],
        );
        self.painter.text(
            pos2(self.left + self.small.size * 1.2, y),
            Align2::LEFT_TOP,
            &text,
            self.fit(&text),
            theme::colors::TEXT,
        );
        y + self.small.size * 1.4
    }

    /// Whether the target is reached (icon and words); returns the next line's top.
    fn target(
        &self,
        y: f32,
        value: f64,
        target: f64,
        indicator: &crate::model::Indicator,
        good_up: bool,
    ) -> f32 {
        let reached = if good_up {
            value >= target
        } else {
            value <= target
        };
        let text = self.cx.t_args(
            if reached {
                "kpi.target_reached"
            } else {
                "kpi.target_missed"
            },
            &[(
                "target",
                &format!(
                    "{} {}",
                    format::number(self.cx.lang, target, indicator.decimals),
                    indicator.unit_of_measure
                ),
            )],
        );
        let color = if reached {
            theme::colors::LIVE
        } else {
            theme::colors::STALE
        };
        crate::ui::widgets::paint_status_icon(
            self.painter,
            pos2(self.left + self.small.size * 0.5, y + self.small.size * 0.6),
            self.small.size * 0.4,
            if reached {
                SourceState::Live
            } else {
                SourceState::Stale
            },
        );
        let font = self.fit(&text);
        self.painter.text(
            pos2(self.left + self.small.size * 1.2, y),
            Align2::LEFT_TOP,
            text,
            font,
            color,
        );
        y + self.small.size * 1.4
    }
}

fn paint_arrow(painter: &egui::Painter, c: Pos2, r: f32, diff: f64, color: Color32) {
    let pts = if diff > 0.0 {
        vec![
            c + vec2(0.0, -r),
            c + vec2(r, r * 0.8),
            c + vec2(-r, r * 0.8),
        ]
    } else if diff < 0.0 {
        vec![
            c + vec2(0.0, r),
            c + vec2(r, -r * 0.8),
            c + vec2(-r, -r * 0.8),
        ]
    } else {
        painter.line_segment(
            [c + vec2(-r, 0.0), c + vec2(r, 0.0)],
            Stroke::new(r * 0.5, color),
        );
        return;
    };
    painter.add(Shape::convex_polygon(pts, color, Stroke::NONE));
}

fn paint_sparkline(painter: &egui::Painter, rect: Rect, values: &[Option<f64>], width: f32) {
    let vals: Vec<f64> = values.iter().flatten().copied().collect();
    let (lo, hi) = vals
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    if vals.len() < 2 || !lo.is_finite() {
        return;
    }
    let span = (hi - lo).max(1e-9);
    let n = values.len().max(2) - 1;
    let point = |i: usize, v: f64| {
        pos2(
            rect.left() + rect.width() * i as f32 / n as f32,
            rect.bottom() - rect.height() * ((v - lo) / span) as f32,
        )
    };
    let mut run: Vec<Pos2> = Vec::new();
    let stroke = Stroke::new(width, theme::colors::ACCENT);
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push(point(i, *v)),
            None => {
                if run.len() > 1 {
                    painter.add(Shape::line(std::mem::take(&mut run), stroke));
                }
                run.clear();
            }
        }
    }
    if let Some(last) = run.last().copied() {
        painter.circle_filled(last, width * 1.6, theme::colors::ACCENT);
    }
    if run.len() > 1 {
        painter.add(Shape::line(run, stroke));
    }
}
