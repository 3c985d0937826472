//! `chart`: an indicator chart (time series, ranking of units, target versus actual, stacked
//! composition) drawn with plotters through the project's egui backend. Hovering shows the values
//! at that point; missing values are gaps and footnotes, never zeros.

use egui::{Rect, Sense};

use super::TileView;
use crate::charts::cache::ChartCache;
use crate::charts::egui_backend::{EguiBackend, SUPERSAMPLE};
use crate::charts::{ChartData, ChartSpec, ChartStyle, ChartType, draw};
use crate::context::{FrameCtx, TileState};
use crate::format;
use crate::sources::Resource;
use crate::status::{DataStatus, SourceState};
use crate::text::Text;
use crate::ui::theme;
use plotters::prelude::IntoDrawingArea;

/// The status of a tile showing indicator data: the dataset's state, then the indicator's own
/// freshness (stale when the newest value is older than one and a half update periods).
pub fn indicator_status(
    cx: &FrameCtx,
    as_of: Option<crate::model::Timestamp>,
    period_days: i64,
    problem: Option<&Text>,
) -> DataStatus {
    let base = cx.store.status(Resource::Series, cx.data_now());
    if base.state != SourceState::Live {
        return DataStatus {
            as_of: as_of.or(base.as_of),
            ..base
        };
    }
    if let Some(p) = problem {
        return DataStatus::with_reason(SourceState::Error, None, p.clone());
    }
    match as_of {
        Some(t) if cx.data_now() - t > chrono::Duration::days(period_days * 3 / 2) => {
            let vn = format::to_vietnam_time(t);
            DataStatus::with_reason(
                SourceState::Stale,
                Some(t),
                Text::key("chart.stale").arg("date", format::date(vn)),
            )
        }
        Some(t) => DataStatus::live(t),
        None => DataStatus::with_reason(SourceState::Stale, None, Text::key("chart.no_data")),
    }
}

/// What `spec` shows, from the console's shared chart cache (extracted once per change of
/// what it reads).
pub fn chart_data(spec: &ChartSpec, cx: &FrameCtx) -> std::sync::Arc<ChartData> {
    cx.caches
        .get::<ChartCache>()
        .data(spec, &cx.store, cx.lang, cx.caches.frame())
}

/// The status of a tile drawn from `data`: not configured, the dataset's state, a problem of
/// the tile's options, or the indicator's own freshness.
pub fn chart_status(cx: &FrameCtx, data: &ChartData) -> DataStatus {
    if !cx.store.configured {
        return DataStatus::with_reason(
            SourceState::Offline,
            None,
            Text::key("source.not_configured"),
        );
    }
    // "Waiting" is not an error: the dataset's own state says it.
    let loaded = cx.store.series.data.is_some() && cx.store.indicators.data.is_some();
    let problem = data.problem.as_ref().filter(|_| loaded);
    indicator_status(cx, data.as_of, data.period_days.max(1), problem)
}

impl TileView for ChartSpec {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        chart_status(cx, &chart_data(self, cx))
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
        let inner = rect.shrink(pad * 0.5);
        let columns = inner.width().max(1.0) as usize;
        let data = prepared(self, cx, columns);
        let style = ChartStyle::wall(
            cx.lang,
            (theme::WALL.caption * scale * SUPERSAMPLE) as f64,
            (3.0 * scale * SUPERSAMPLE).max(2.0) as u32,
            columns,
        );
        let root = EguiBackend::new(&painter, inner).into_drawing_area();
        if let Err(err) = draw(&root, &data, &style) {
            tracing::warn!(%err, "chart drawing failed");
        }
        hover(ui, inner, &data, cx);
    }
}

/// The chart's data, prepared for `columns` pixel columns once per change of what it reads
/// (shared by every tile and viewport drawing the same chart): steady frames only draw.
fn prepared(spec: &ChartSpec, cx: &FrameCtx, columns: usize) -> std::sync::Arc<ChartData> {
    cx.caches
        .get::<ChartCache>()
        .prepared(spec, &cx.store, cx.lang, columns, cx.caches.frame())
}

/// On the desk: hovering a time chart shows every series' value at that period.
fn hover(ui: &mut egui::Ui, rect: Rect, data: &ChartData, cx: &FrameCtx) {
    if data.problem.is_some() {
        return;
    }
    let response = ui.interact(
        rect,
        ui.make_persistent_id(("chart-hover", rect.min.x as i32, rect.min.y as i32)),
        Sense::hover(),
    );
    let Some(pos) = response.hover_pos() else {
        return;
    };
    let lines: Vec<String> = match data.chart {
        Some(ChartType::Line | ChartType::Stacked) if !data.periods.is_empty() => {
            // The plot spans the periods evenly across the area right of the y labels.
            let left = rect.left() + (rect.width() * 0.12);
            let t = ((pos.x - left) / (rect.right() - left)).clamp(0.0, 1.0);
            let i = ((t * data.periods.len() as f32) as usize).min(data.periods.len() - 1);
            std::iter::once(format::period(cx.lang, data.periods[i]))
                .chain(data.lines.iter().map(|l| {
                    let v = l.values.get(i).copied().flatten();
                    let v = v.map_or_else(
                        || cx.t("chart.not_updated").to_owned(),
                        |v| {
                            format!(
                                "{} {}",
                                format::number(cx.lang, v, data.decimals),
                                data.unit_of_measure
                            )
                        },
                    );
                    format!("{}: {v}", l.label)
                }))
                .collect()
        }
        _ => data
            .bars
            .iter()
            .map(|b| format!("{}: {}", b.label, b.detail))
            .collect(),
    };
    response.on_hover_ui_at_pointer(|ui| {
        for (k, l) in lines.iter().enumerate() {
            if k == 0 {
                ui.strong(l);
            } else {
                ui.label(l);
            }
        }
    });
}
