//! `providers`: the data-provider board (regulation Điều 5.2): per department, which indicators
//! are up to date, due soon or overdue, worst first. Overdue is visible across the room: its own
//! colour, a triangle, the word and the number of days.

use egui::{Align2, Rect, pos2};
use schemars::JsonSchema;
use serde::Deserialize;

use super::TileView;
use crate::context::{FrameCtx, TileState};
use crate::i18n::Lang;
use crate::model::{Department, Indicator, ProviderStatus, Timestamp};
use crate::sources::Resource;
use crate::status::{DataStatus, SourceState};
use crate::ui::{theme, widgets};

/// Options of a `providers` tile.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvidersOptions {}

/// Where one indicator's update stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Past its due time by this many whole days.
    Overdue(i64),
    /// Due within this many days.
    DueSoon(i64),
    UpToDate,
}

/// Classifies a provider status at `now`: due soon within a fifth of the update period (at least
/// two days).
pub fn standing(p: &ProviderStatus, period_days: i64, now: Timestamp) -> Standing {
    let left = p.due_at - now;
    if left < chrono::Duration::zero() {
        Standing::Overdue((-left).num_days())
    } else if left < chrono::Duration::days((period_days / 5).max(2)) {
        Standing::DueSoon(left.num_days())
    } else {
        Standing::UpToDate
    }
}

/// One department's row.
#[derive(Clone, Debug, PartialEq)]
pub struct DepartmentRow {
    pub name: String,
    pub overdue: Vec<(String, i64)>,
    pub due_soon: usize,
    pub up_to_date: usize,
}

/// The board's rows, worst first (most overdue, then longest overdue, then due soon).
pub fn rows(
    providers: &[ProviderStatus],
    indicators: &[Indicator],
    departments: &[Department],
    now: Timestamp,
    lang: Lang,
) -> Vec<DepartmentRow> {
    let mut by_dept: std::collections::BTreeMap<&str, DepartmentRow> = Default::default();
    for p in providers {
        let ind = indicators.iter().find(|i| i.id == p.indicator_id);
        let period_days = ind.map_or(31, |i| i.period.days());
        let name = departments
            .iter()
            .find(|d| d.id == p.department_id)
            .map(|d| {
                if lang == Lang::Vi {
                    d.name_vi.clone()
                } else {
                    d.name_en.clone()
                }
            })
            .unwrap_or_else(|| p.department_id.clone());
        let row = by_dept
            .entry(&p.department_id)
            .or_insert_with(|| DepartmentRow {
                name,
                overdue: vec![],
                due_soon: 0,
                up_to_date: 0,
            });
        match standing(p, period_days, now) {
            Standing::Overdue(days) => {
                let n = ind.map_or(p.indicator_id.clone(), |i| {
                    crate::charts::indicator_name(i, lang).to_owned()
                });
                row.overdue.push((n, days));
            }
            Standing::DueSoon(_) => row.due_soon += 1,
            Standing::UpToDate => row.up_to_date += 1,
        }
    }
    let mut rows: Vec<DepartmentRow> = by_dept.into_values().collect();
    for r in &mut rows {
        r.overdue.sort_by_key(|o| std::cmp::Reverse(o.1));
    }
    rows.sort_by(|a, b| {
        b.overdue
            .len()
            .cmp(&a.overdue.len())
            .then(
                b.overdue
                    .first()
                    .map(|o| o.1)
                    .cmp(&a.overdue.first().map(|o| o.1)),
            )
            .then(b.due_soon.cmp(&a.due_soon))
            .then(a.name.cmp(&b.name))
    });
    rows
}

impl ProvidersOptions {
    fn rows(cx: &FrameCtx) -> Option<Vec<DepartmentRow>> {
        let s = &cx.store;
        Some(rows(
            s.providers.data.as_ref()?,
            s.indicators.data.as_ref()?,
            s.departments.data.as_ref()?,
            cx.data_now(),
            cx.lang,
        ))
    }
}

impl TileView for ProvidersOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        let mut s = cx.store.status(Resource::Providers, cx.data_now());
        if s.state == SourceState::Live && Self::rows(cx).is_none() {
            s = cx.store.status(Resource::Departments, cx.data_now());
        }
        s
    }

    fn greys_old_data(&self) -> bool {
        // Who is late stays readable even when the board itself is not live.
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
        let Some(rows) = Self::rows(cx) else { return };
        let painter = ui.painter_at(rect);
        let t = theme::WALL;
        let pad = t.padding * scale;
        let inner = rect.shrink(pad);
        let total_overdue: usize = rows.iter().map(|r| r.overdue.len()).sum();
        let head = theme::bold_font((t.body * scale).max(6.0));
        let summary = cx.t_args(
            "providers.summary",
            &[
                ("overdue", &total_overdue),
                (
                    "departments",
                    &rows.iter().filter(|r| !r.overdue.is_empty()).count(),
                ),
            ],
        );
        let color = if total_overdue > 0 {
            theme::colors::ERROR
        } else {
            theme::colors::LIVE
        };
        let state = if total_overdue > 0 {
            SourceState::Error
        } else {
            SourceState::Live
        };
        widgets::paint_status_icon(
            &painter,
            pos2(
                inner.left() + head.size * 0.45,
                inner.top() + head.size * 0.6,
            ),
            head.size * 0.42,
            state,
        );
        painter.text(
            pos2(inner.left() + head.size * 1.2, inner.top()),
            Align2::LEFT_TOP,
            summary,
            head.clone(),
            color,
        );
        let row_font = theme::prop_font((t.caption * scale * 1.1).max(5.0));
        let small = theme::prop_font((t.caption * scale * 0.9).max(4.0));
        let mut y = inner.top() + head.size * 1.7;
        for r in rows {
            if y + row_font.size * 1.3 > inner.bottom() {
                break;
            }
            painter.text(
                pos2(inner.left(), y),
                Align2::LEFT_TOP,
                &r.name,
                row_font.clone(),
                theme::colors::TEXT,
            );
            let mut x = inner.right();
            let chips: [(usize, &str, SourceState); 3] = [
                (r.up_to_date, "providers.on_time", SourceState::Live),
                (r.due_soon, "providers.due_soon", SourceState::Stale),
                (r.overdue.len(), "providers.overdue", SourceState::Error),
            ];
            for (n, key, st) in chips {
                if n == 0 {
                    continue;
                }
                let label = format!("{} {n}", cx.t(key));
                let rc = widgets::paint_status_badge(
                    &painter,
                    pos2(x, y + row_font.size * 0.65),
                    st,
                    &label,
                    small.size,
                );
                x = rc.left() - pad * 0.4;
            }
            y += row_font.size * 1.45;
            for (name, days) in r.overdue.iter().take(3) {
                if y + small.size * 1.2 > inner.bottom() {
                    break;
                }
                let line = cx.t_args(
                    "providers.overdue_line",
                    &[("indicator", name), ("days", days)],
                );
                painter.text(
                    pos2(inner.left() + pad, y),
                    Align2::LEFT_TOP,
                    line,
                    small.clone(),
                    theme::colors::ERROR,
                );
                y += small.size * 1.3;
            }
            y += small.size * 0.3;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn standing_by_due_time() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        let p = |due: Duration| ProviderStatus {
            department_id: "d".into(),
            indicator_id: "i".into(),
            last_update: None,
            due_at: now + due,
        };
        assert_eq!(
            standing(&p(Duration::days(-3) - Duration::hours(2)), 31, now),
            Standing::Overdue(3)
        );
        assert_eq!(
            standing(&p(Duration::days(3)), 31, now),
            Standing::DueSoon(3)
        );
        assert_eq!(
            standing(&p(Duration::days(10)), 31, now),
            Standing::UpToDate
        );
        assert_eq!(
            standing(&p(Duration::days(10)), 366, now),
            Standing::DueSoon(10)
        );
    }
}
