//! `sources`: the console's connection to the IOC backend, dataset by dataset: state (shape and
//! word), age, how many items, and the reason in words when a dataset is not live. The tile a
//! duty operator looks at first when something on the wall seems wrong.

use egui::{Align2, Rect, pos2};
use schemars::JsonSchema;
use serde::Deserialize;

use super::TileView;
use crate::context::{FrameCtx, TileState};
use crate::format;
use crate::sources::Resource;
use crate::status::{DataStatus, SourceState};
use crate::text::Text;
use crate::ui::{theme, widgets};

/// Options of a `sources` tile.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcesOptions {}

/// One row: a dataset of the IOC backend (the worst of the sources that give it), or a source
/// beside the backend by its name.
enum Row {
    Dataset(Resource),
    Source(String),
}

impl SourcesOptions {
    fn rows(cx: &FrameCtx) -> Vec<(Row, DataStatus)> {
        let now = cx.data_now();
        Resource::ALL
            .iter()
            .map(|&r| (Row::Dataset(r), cx.store.status(r, now)))
            .chain(
                cx.store
                    .origins
                    .iter()
                    .map(|(id, o)| (Row::Source(id.clone()), o.status(now))),
            )
            .collect()
    }
}

impl TileView for SourcesOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        if !cx.store.configured {
            return DataStatus::with_reason(
                SourceState::Offline,
                None,
                Text::key("source.not_configured"),
            );
        }
        let rows = Self::rows(cx);
        let worst = rows
            .iter()
            .map(|(_, s)| s.state)
            .max()
            .unwrap_or(SourceState::Live);
        let newest = rows.iter().filter_map(|(_, s)| s.as_of).max();
        if worst == SourceState::Live {
            return DataStatus {
                state: worst,
                as_of: newest,
                reason: None,
            };
        }
        let bad = rows
            .iter()
            .filter(|(_, s)| s.state != SourceState::Live)
            .count();
        DataStatus {
            state: worst,
            // The tile's own content is the list: keep showing it, the rows say what is wrong.
            as_of: newest.or(Some(cx.data_now())),
            reason: Some(
                Text::key("sources.summary")
                    .arg("bad", bad)
                    .arg("total", rows.len()),
            ),
        }
    }

    fn greys_old_data(&self) -> bool {
        false
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
        let t = theme::WALL;
        let pad = t.padding * scale;
        let rows = Self::rows(cx);
        let inner = rect.shrink(pad);
        // Two lines a row (name and state; then counts and age, or the reason), leaving room for
        // the stream line and the frame's reason strip.
        let row_h = (inner.height() / (rows.len() as f32 + 2.0)).min(t.body * scale * 2.0);
        let font = theme::prop_font((row_h * 0.42).max(5.0));
        let small = theme::prop_font((row_h * 0.32).max(4.0));
        for (i, (row, status)) in rows.iter().enumerate() {
            let top = inner.top() + row_h * i as f32;
            let y1 = top + row_h * 0.3;
            let y2 = top + row_h * 0.72;
            let icon_r = row_h * 0.16;
            widgets::paint_status_icon(
                &painter,
                pos2(inner.left() + icon_r, y1),
                icon_r,
                status.state,
            );
            let text_left = inner.left() + icon_r * 3.0;
            let origin = match row {
                Row::Source(id) => cx.store.origins.get(id),
                Row::Dataset(_) => None,
            };
            let label = match (row, origin) {
                (Row::Dataset(r), _) => cx.t(r.label_key()).to_owned(),
                (Row::Source(_), Some(o)) => o.name.clone(),
                (Row::Source(id), None) => id.clone(),
            };
            painter.text(
                pos2(text_left, y1),
                Align2::LEFT_CENTER,
                label,
                font.clone(),
                theme::colors::TEXT,
            );
            painter.text(
                pos2(inner.right(), y1),
                Align2::RIGHT_CENTER,
                cx.t(status.state.label_key()),
                small.clone(),
                theme::status_color(status.state),
            );
            let age = status
                .age(cx.data_now())
                .map(|a| cx.age_words(a))
                .unwrap_or_default();
            let count = match (row, origin) {
                (Row::Dataset(r), _) => cx.store.count(*r),
                (Row::Source(_), Some(o)) => Some(o.incidents + o.series),
                (Row::Source(_), None) => None,
            }
            .map(|n| {
                cx.t_args(
                    "sources.count",
                    &[("n", &format::integer(cx.lang, n as i64))],
                )
            })
            .unwrap_or_default();
            // What a source's last load could not use, counted (the log has each with its place).
            let unused = origin
                .filter(|o| !o.problems.is_empty())
                .map(|o| cx.t_args("sources.unused", &[("n", &o.problems.len())]))
                .unwrap_or_default();
            let detail = match (&status.reason, status.state) {
                (Some(reason), s) if s != SourceState::Live => reason.say(cx.lang),
                _ => [count, unused, age]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
            };
            let line = Rect::from_min_max(
                pos2(text_left, y2 - row_h * 0.2),
                pos2(inner.right(), y2 + row_h * 0.2),
            );
            let galley = painter.layout_no_wrap(detail, small.clone(), theme::colors::TEXT_DIM);
            painter.with_clip_rect(line).galley(
                pos2(line.left(), y2 - galley.size().y / 2.0),
                galley,
                theme::colors::TEXT_DIM,
            );
        }
        let stream = if cx.store.stream.up {
            cx.t("sources.stream_up")
        } else {
            cx.t("sources.stream_down")
        };
        painter.text(
            pos2(
                inner.left(),
                inner.top() + row_h * (rows.len() as f32 + 0.4),
            ),
            Align2::LEFT_CENTER,
            stream,
            small,
            theme::colors::TEXT_DIM,
        );
    }
}
