//! Charts: described once ([`ChartSpec`] from the layout, [`ChartData`] from the store), drawn
//! once with plotters ([`draw`]) on any backend: the project's egui backend on the wall, plotters'
//! SVG backend for exports, and from SVG to PDF. PNG exports render the tile itself offscreen, so
//! what a leader sees on the wall is what lands in the file.

pub mod decimate;
pub mod egui_backend;
pub mod export;

use crate::format::short_unit_name;
use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::format;
use crate::i18n::{Lang, tr, tr_args};
use crate::model::{Direction, Indicator, PeriodKey, Series, Threshold, Timestamp, Unit};
use crate::store::Store;

/// What kind of chart a tile draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChartType {
    /// Time series: one line per indicator and unit.
    Line,
    /// Ranking of units for one indicator at its latest period.
    Bars,
    /// Target versus actual (kế hoạch / thực hiện) for indicators with a target.
    Target,
    /// Composition by unit, stacked per period.
    Stacked,
}

/// Named groups of units, resolved against the backend's units (never ids in code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitGroup {
    /// The province the data describes (the unit with children and no parent).
    Top,
    /// Its children (districts, or communes).
    Children,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UnitSelection {
    Group(UnitGroup),
    Ids(Vec<String>),
}

impl Default for UnitSelection {
    fn default() -> Self {
        UnitSelection::Group(UnitGroup::Top)
    }
}

/// Options of a `chart` tile.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    /// line | bars | target | stacked
    #[serde(rename = "type")]
    pub chart: ChartType,
    /// Indicator ids of the backend's catalogue.
    pub indicators: Vec<String>,
    /// "top" (default), "children", or a list of unit ids.
    #[serde(default)]
    pub units: UnitSelection,
    /// How many of the latest periods to show (default 12).
    #[serde(default = "twelve")]
    pub periods: usize,
}

fn twelve() -> usize {
    12
}

/// One line (or one stacked layer) of a chart, aligned with [`ChartData::periods`].
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// One bar of a ranking or target chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    /// The text written on the bar.
    pub text: String,
    /// The longer text shown when hovering (or the same).
    pub detail: String,
}

/// What a chart shows, extracted from the store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartData {
    pub chart: Option<ChartType>,
    pub periods: Vec<PeriodKey>,
    pub lines: Vec<Line>,
    pub bars: Vec<Bar>,
    pub unit_of_measure: String,
    pub decimals: u8,
    pub target: Option<f64>,
    pub threshold: Option<Threshold>,
    /// Newest update among the values shown.
    pub as_of: Option<Timestamp>,
    /// Missing values: (period or unit label, series label).
    pub missing: Vec<(String, String)>,
    /// Why there is nothing to draw (unknown indicator, no data yet).
    pub problem: Option<crate::text::Text>,
    /// The longest update period among the indicators (for "stale after one period").
    pub period_days: i64,
    /// Each line split at missing values and decimated for `prepared_for` pixel columns (see
    /// [`ChartData::prepare`]); empty until prepared.
    pub runs: Vec<Vec<Vec<(f64, f64)>>>,
    pub prepared_for: usize,
    /// Smallest and largest value of all lines, found while preparing.
    pub value_range: Option<(f64, f64)>,
    /// Notes from the backend: (period index, text).
    pub annotations: Vec<(usize, String)>,
}

impl ChartData {
    /// Splits the lines at missing values and decimates them per pixel column, once per data
    /// change: the result is what frames reuse (a million points draw like a few thousand).
    pub fn prepare(&mut self, columns: usize) {
        self.runs = prepared_runs(&self.lines, self.x_len(), columns);
        self.prepared_for = columns;
        self.value_range = self
            .lines
            .iter()
            .flat_map(|l| l.values.iter().flatten().copied())
            .fold(None, |r, v| match r {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            });
    }

    /// The values to scale the value axis by: the prepared range (two values) or every value.
    fn axis_values(&self) -> Box<dyn Iterator<Item = f64> + '_> {
        match (self.prepared_for, self.value_range) {
            (c, Some((lo, hi))) if c > 0 => Box::new([lo, hi].into_iter()),
            _ => Box::new(
                self.lines
                    .iter()
                    .flat_map(|l| l.values.iter().flatten().copied()),
            ),
        }
    }

    fn x_len(&self) -> usize {
        self.periods
            .len()
            .max(self.lines.iter().map(|l| l.values.len()).max().unwrap_or(0))
            .max(1)
    }
}

/// Keeps the `keep` largest layers of a composition and sums the rest into one "others" layer,
/// so that every layer keeps a colour of the colour-blind-safe palette.
fn group_small_layers(lines: &mut Vec<Line>, keep: usize, others: &str) {
    if lines.len() <= keep + 1 {
        return;
    }
    let total = |l: &Line| l.values.iter().flatten().sum::<f64>();
    lines.sort_by(|a, b| total(b).total_cmp(&total(a)));
    let rest = lines.split_off(keep);
    let n = rest.iter().map(|l| l.values.len()).max().unwrap_or(0);
    let values = (0..n)
        .map(|i| {
            let vs: Vec<f64> = rest
                .iter()
                .filter_map(|l| l.values.get(i).copied().flatten())
                .collect();
            (!vs.is_empty()).then(|| vs.iter().sum())
        })
        .collect();
    lines.push(Line {
        label: others.to_owned(),
        values,
    });
}

fn prepared_runs(lines: &[Line], n: usize, columns: usize) -> Vec<Vec<Vec<(f64, f64)>>> {
    lines
        .iter()
        .map(|l| {
            runs(&l.values)
                .into_iter()
                .map(|r| decimate::min_max(&r, -1.0, n as f64, columns))
                .collect()
        })
        .collect()
}

fn resolve_units<'a>(sel: &UnitSelection, units: &'a [Unit]) -> Vec<&'a Unit> {
    let top = units
        .iter()
        .filter(|u| u.parent_id.is_none())
        .max_by_key(|u| {
            units
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(u.id.as_str()))
                .count()
        });
    match sel {
        UnitSelection::Group(UnitGroup::Top) => top.into_iter().collect(),
        UnitSelection::Group(UnitGroup::Children) => {
            let Some(top) = top else { return Vec::new() };
            units
                .iter()
                .filter(|u| u.parent_id.as_deref() == Some(top.id.as_str()))
                .collect()
        }
        UnitSelection::Ids(ids) => ids
            .iter()
            .filter_map(|id| units.iter().find(|u| &u.id == id))
            .collect(),
    }
}

pub fn indicator_name(i: &Indicator, lang: Lang) -> &str {
    match lang {
        Lang::Vi => &i.name_vi,
        Lang::En => &i.name_en,
    }
}

impl ChartData {
    /// Extracts what `spec` shows from `store`.
    pub fn from_store(spec: &ChartSpec, store: &Store, lang: Lang) -> ChartData {
        let mut data = ChartData {
            chart: Some(spec.chart),
            ..Default::default()
        };
        let (Some(catalogue), Some(series), Some(units)) = (
            &store.indicators.data,
            &store.series.data,
            &store.units.data,
        ) else {
            data.problem = Some(crate::text::Text::key("chart.waiting"));
            return data;
        };
        let indicators: Vec<&Indicator> = spec
            .indicators
            .iter()
            .filter_map(|id| catalogue.iter().find(|i| &i.id == id))
            .collect();
        if let Some(unknown) = spec
            .indicators
            .iter()
            .find(|id| !catalogue.iter().any(|i| &i.id == *id))
        {
            data.problem =
                Some(crate::text::Text::key("chart.unknown_indicator").arg("id", unknown));
            return data;
        }
        let units = resolve_units(&spec.units, units);
        if indicators.is_empty() || units.is_empty() {
            data.problem = Some(crate::text::Text::key("chart.nothing"));
            return data;
        }
        let first = indicators[0];
        data.unit_of_measure = first.unit_of_measure.clone();
        data.decimals = first.decimals;
        data.period_days = indicators
            .iter()
            .map(|i| i.period.days())
            .max()
            .unwrap_or(31);
        let get = |i: &Indicator, u: &Unit| series.get(&(i.id.clone(), u.id.clone()));
        match spec.chart {
            ChartType::Line | ChartType::Stacked => {
                let chosen: Vec<(&Indicator, &Unit, Option<&Series>)> = indicators
                    .iter()
                    .flat_map(|i| units.iter().map(move |u| (*i, *u)))
                    .map(|(i, u)| (i, u, get(i, u)))
                    .take(if spec.chart == ChartType::Stacked {
                        units.len()
                    } else {
                        8
                    })
                    .collect();
                let mut periods: Vec<PeriodKey> = chosen
                    .iter()
                    .flat_map(|(_, _, s)| s.iter().flat_map(|s| s.points.iter().map(|p| p.period)))
                    .collect();
                periods.sort();
                periods.dedup();
                let keep = spec.periods.max(1);
                if periods.len() > keep {
                    periods.drain(..periods.len() - keep);
                }
                let many_indicators = indicators.len() > 1;
                for (i, u, s) in &chosen {
                    let by_period: HashMap<PeriodKey, (f64, Timestamp)> = s
                        .map(|s| {
                            s.points
                                .iter()
                                .map(|p| (p.period, (p.value, p.updated_at)))
                                .collect()
                        })
                        .unwrap_or_default();
                    let label = if many_indicators {
                        indicator_name(i, lang).to_owned()
                    } else {
                        short_unit_name(u)
                    };
                    let values = periods
                        .iter()
                        .map(|p| {
                            let v = by_period.get(p);
                            if let Some((_, at)) = v {
                                data.as_of = data.as_of.max(Some(*at));
                            } else {
                                data.missing.push((format::period(lang, *p), label.clone()));
                            }
                            v.map(|(v, _)| *v)
                        })
                        .collect();
                    data.lines.push(Line { label, values });
                }
                let mut notes: Vec<(usize, String)> = chosen
                    .iter()
                    .flat_map(|(_, _, s)| s.iter().flat_map(|s| s.annotations.iter()))
                    .filter_map(|a| {
                        let i = periods.iter().position(|p| *p == a.period)?;
                        Some((
                            i,
                            if lang == Lang::Vi {
                                a.text_vi.clone()
                            } else {
                                a.text_en.clone()
                            },
                        ))
                    })
                    .collect();
                notes.sort();
                notes.dedup();
                data.annotations = notes;
                data.periods = periods;
                if spec.chart == ChartType::Stacked {
                    group_small_layers(&mut data.lines, 6, tr(lang, "chart.others"));
                }
                if spec.chart == ChartType::Line && indicators.len() == 1 {
                    data.target = first.target;
                    data.threshold = first.threshold;
                }
            }
            ChartType::Bars => {
                // The newest period that at least half of the units have reported (a period
                // that has only just started would rank one unit against eight blanks).
                let mut periods: Vec<PeriodKey> = units
                    .iter()
                    .filter_map(|u| get(first, u))
                    .flat_map(|s| s.points.iter().map(|p| p.period))
                    .collect();
                periods.sort();
                let latest = periods
                    .iter()
                    .rev()
                    .copied()
                    .find(|p| periods.iter().filter(|q| *q == p).count() * 2 >= units.len())
                    .or(periods.last().copied());
                let mut bars: Vec<Bar> = units
                    .iter()
                    .map(|u| {
                        let point = latest.and_then(|p| {
                            get(first, u).and_then(|s| s.points.iter().find(|x| x.period == p))
                        });
                        if let Some(pt) = point {
                            data.as_of = data.as_of.max(Some(pt.updated_at));
                        } else {
                            data.missing
                                .push((short_unit_name(u), indicator_name(first, lang).to_owned()));
                        }
                        let value = point.map(|p| p.value);
                        let text = value.map_or_else(
                            || tr(lang, "chart.not_updated").to_owned(),
                            |v| format::number(lang, v, first.decimals),
                        );
                        Bar {
                            label: short_unit_name(u),
                            value,
                            detail: format!("{text} {}", first.unit_of_measure),
                            text,
                        }
                    })
                    .collect();
                let better_high = first
                    .threshold
                    .is_none_or(|t| t.direction == Direction::HigherIsBetter);
                bars.sort_by(|a, b| match (a.value, b.value) {
                    (Some(x), Some(y)) if better_high => y.total_cmp(&x),
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                });
                data.periods = latest.into_iter().collect();
                data.bars = bars;
                // An indicator's threshold is set for the whole province; comparing units against
                // it would mislead, so a ranking draws none.
            }
            ChartType::Target => {
                let u = units[0];
                for i in &indicators {
                    let latest = get(i, u).and_then(|s| s.points.iter().max_by_key(|p| p.period));
                    let (value, text, detail) = match (latest, i.target) {
                        (Some(p), Some(t)) if t != 0.0 => {
                            data.as_of = data.as_of.max(Some(p.updated_at));
                            let pct = p.value / t * 100.0;
                            let detail = tr_args(
                                lang,
                                "chart.target_text",
                                &[
                                    ("actual", &format::number(lang, p.value, i.decimals)),
                                    ("target", &format::number(lang, t, i.decimals)),
                                    ("unit", &i.unit_of_measure),
                                    ("pct", &format::number(lang, pct, 1)),
                                ],
                            );
                            (
                                Some(pct),
                                format!("{}%", format::number(lang, pct, 1)),
                                detail,
                            )
                        }
                        (_, None) => (None, tr(lang, "chart.no_target").to_owned(), String::new()),
                        _ => {
                            data.missing
                                .push((short_unit_name(u), indicator_name(i, lang).to_owned()));
                            (
                                None,
                                tr(lang, "chart.not_updated").to_owned(),
                                String::new(),
                            )
                        }
                    };
                    let detail = if detail.is_empty() {
                        text.clone()
                    } else {
                        detail
                    };
                    data.bars.push(Bar {
                        label: indicator_name(i, lang).to_owned(),
                        value,
                        text,
                        detail,
                    });
                }
                data.unit_of_measure = "%".into();
                data.target = Some(100.0);
            }
        }
        if data
            .lines
            .iter()
            .all(|l| l.values.iter().all(Option::is_none))
            && data.bars.iter().all(|b| b.value.is_none())
        {
            data.problem = Some(crate::text::Text::key("chart.no_data"));
        }
        data
    }
}

/// Colour-blind-safe series colours (Okabe-Ito, without black), and a marker shape per series so
/// that series are told apart without colour too.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(240, 228, 66),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
];

/// How a chart is drawn (sizes in backend pixels).
#[derive(Clone, Debug)]
pub struct ChartStyle {
    pub lang: Lang,
    pub font: f64,
    pub line: u32,
    pub text: RGBColor,
    pub grid: RGBColor,
    pub background: Option<RGBColor>,
    /// Title and "as of" line drawn by the chart itself (exports; the wall's frame draws them).
    pub header: Option<(String, String)>,
    /// Pixel columns available, for decimation.
    pub columns: usize,
}

fn rgb(c: egui::Color32) -> RGBColor {
    RGBColor(c.r(), c.g(), c.b())
}

impl ChartStyle {
    pub fn wall(lang: Lang, font: f64, line: u32, columns: usize) -> ChartStyle {
        ChartStyle {
            lang,
            font,
            line,
            text: rgb(crate::ui::theme::colors::TEXT),
            grid: rgb(crate::ui::theme::colors::TILE_BORDER),
            background: None,
            header: None,
            columns,
        }
    }
}

type DrawResult = Result<(), String>;

fn e<E: std::fmt::Debug>(err: E) -> String {
    format!("{err:?}")
}

/// Draws `data` on `root`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    if let Some(bg) = style.background {
        root.fill(&bg).map_err(e)?;
    }
    let mut area = root.clone();
    if let Some((title, subtitle)) = &style.header {
        let (_, h) = root.dim_in_pixel();
        let head = (style.font * 3.4) as u32;
        let (top, rest) = root.split_vertically(head.min(h / 3));
        top.draw(&Text::new(
            title.clone(),
            (style.font as i32, (style.font * 0.4) as i32),
            font(style, 1.5, true),
        ))
        .map_err(e)?;
        top.draw(&Text::new(
            subtitle.clone(),
            (style.font as i32, (style.font * 2.2) as i32),
            font(style, 0.85, false),
        ))
        .map_err(e)?;
        area = rest;
    }
    if let Some(problem) = &data.problem {
        let style_lang = style.lang;
        let (w, h) = area.dim_in_pixel();
        let pos = ((w / 2) as i32, (h / 2) as i32);
        let style = font(style, 1.0, false).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ));
        return area
            .draw(&Text::new(problem.say(style_lang), pos, style))
            .map_err(e);
    }
    // A footnote for what is missing: never drawn as zero.
    let area = if data.missing.is_empty() {
        area
    } else {
        let (_, h) = area.dim_in_pixel();
        let foot = (style.font * 1.6) as u32;
        let (chart_area, foot_area) = area.split_vertically(h.saturating_sub(foot));
        let mut names: Vec<String> = data
            .missing
            .iter()
            .take(3)
            .map(|(a, b)| format!("{a} ({b})"))
            .collect();
        if data.missing.len() > 3 {
            names.push(tr_args(
                style.lang,
                "chart.and_more",
                &[("n", &(data.missing.len() - 3))],
            ));
        }
        let text = tr_args(style.lang, "chart.missing", &[("list", &names.join(", "))]);
        foot_area
            .draw(&Text::new(
                text,
                (style.font as i32, (style.font * 0.3) as i32),
                font(style, 0.8, false),
            ))
            .map_err(e)?;
        chart_area
    };
    match data.chart {
        Some(ChartType::Line) | None => draw_lines(&area, data, style),
        Some(ChartType::Stacked) => draw_stacked(&area, data, style),
        Some(ChartType::Bars) | Some(ChartType::Target) => draw_bars(&area, data, style),
    }
}

fn font(style: &ChartStyle, factor: f64, bold: bool) -> TextStyle<'static> {
    let f: FontDesc<'static> = ("Noto Sans", style.font * factor).into_font();
    let f = if bold { f.style(FontStyle::Bold) } else { f };
    f.color(&style.text)
}

fn y_range(
    values: impl Iterator<Item = f64>,
    extra: &[Option<f64>],
    include_zero: bool,
) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values.chain(extra.iter().flatten().copied()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-9);
    (
        if include_zero && lo >= 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + pad,
    )
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    let n = data
        .periods
        .len()
        .max(data.lines.iter().map(|l| l.values.len()).max().unwrap_or(0))
        .max(1);
    let all = data.axis_values();
    let (y0, y1) = y_range(all, &[data.target, data.threshold.map(|t| t.value)], false);
    let mut chart = time_grid(
        area,
        style,
        &data.periods,
        -0.3f64..(n as f64 - 0.7),
        y0..y1,
        n.min(6),
        style.line.max(1) / 2 + 1,
    )?;
    let lang = style.lang;
    let fresh;
    let prepared = if data.prepared_for == style.columns && data.runs.len() == data.lines.len() {
        &data.runs
    } else {
        fresh = prepared_runs(&data.lines, data.x_len(), style.columns);
        &fresh
    };
    for (k, line) in data.lines.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let stroke = color.stroke_width(style.line);
        // Contiguous runs only: a missing period is a gap, never a zero.
        let mut first = true;
        for run in &prepared[k] {
            let pts = run.clone();
            let series = chart.draw_series(LineSeries::new(pts, stroke)).map_err(e)?;
            if first {
                let legend_stroke = color.stroke_width(style.line * 2);
                let size = style.font as i32;
                series.label(line.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + size, y)], legend_stroke)
                });
                first = false;
            }
        }
        if n <= 60 {
            let size = (style.line * 2 + 2) as i32;
            let pts: Vec<(f64, f64)> = line
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
                .collect();
            draw_markers(&mut chart, k, &pts, size, color)?;
        }
    }
    // The backend's notes: a dotted line at the period and the note beside it.
    for (i, text) in &data.annotations {
        let x = *i as f64;
        let s = style.text.mix(0.55).stroke_width(1.max(style.line / 2));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, y0), (x, y1)],
                (style.font * 0.25) as u32,
                (style.font * 0.25) as u32,
                s,
            ))
            .map_err(e)?;
        let dim = style.text.mix(0.8);
        let t = font(style, 0.65, false).color(&dim);
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, y1))
                    + Text::new(text.clone(), (4, (style.font * 0.2) as i32), t),
            ))
            .map_err(e)?;
    }
    if let Some(t) = data.threshold {
        let dash = (style.font * 0.6) as u32;
        let s = RGBColor(213, 94, 0).stroke_width(style.line.max(2));
        let size = style.font as i32;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(-0.3, t.value), (n as f64 - 0.7, t.value)],
                dash,
                dash,
                s,
            ))
            .map_err(e)?
            .label(tr(lang, "chart.threshold"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + size, y)], s));
    }
    if let Some(t) = data.target {
        let s = style.text.mix(0.8).stroke_width(style.line.max(2));
        let size = style.font as i32;
        chart
            .draw_series(LineSeries::new(vec![(-0.3, t), (n as f64 - 0.7, t)], s))
            .map_err(e)?
            .label(tr(lang, "chart.target"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + size, y)], s));
    }
    chart
        .configure_series_labels()
        .legend_area_size((style.font * 1.6) as u32)
        .label_font(font(style, 0.8, false))
        .background_style(RGBColor(22, 28, 40).mix(0.85))
        .border_style(style.grid)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(e)
}

/// Markers of a distinct shape per series (circle, triangle, square, cross), so series are told
/// apart without colour.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    k: usize,
    pts: &[(f64, f64)],
    size: i32,
    color: RGBColor,
) -> DrawResult {
    let fill = color.filled();
    let r = match k % 4 {
        0 => chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, size, fill)))
            .map(|_| ()),
        1 => chart
            .draw_series(pts.iter().map(|p| TriangleMarker::new(*p, size + 1, fill)))
            .map(|_| ()),
        2 => chart
            .draw_series(pts.iter().map(|p| {
                EmptyElement::at(*p) + Rectangle::new([(-size, -size), (size, size)], fill)
            }))
            .map(|_| ()),
        _ => chart
            .draw_series(
                pts.iter()
                    .map(|p| Cross::new(*p, size, color.stroke_width(2))),
            )
            .map(|_| ()),
    };
    r.map_err(e)
}

/// The label of the period at axis position `x` (only at whole positions).
fn period_at(periods: &[PeriodKey], lang: Lang, x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < periods.len() {
        format::period(lang, periods[i as usize])
    } else {
        String::new()
    }
}

/// The frame of a chart over time: margins and label areas sized from the font.
fn time_chart<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    style: &ChartStyle,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin((style.font * 0.6) as u32)
        .x_label_area_size((style.font * 1.8) as u32)
        .y_label_area_size((style.font * 3.6) as u32);
    b
}

/// A chart over time with its grid drawn: periods along x (at most six labels), compact numbers
/// along y, horizontal grid lines only.
fn time_grid<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    style: &ChartStyle,
    periods: &[PeriodKey],
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    labels: usize,
    axis_width: u32,
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    String,
> {
    let lang = style.lang;
    let x_fmt = |v: &f64| period_at(periods, lang, *v);
    let y_fmt = |v: &f64| format::compact(lang, *v);
    let mut chart = time_chart(area, style)
        .build_cartesian_2d(x, y)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(labels)
        .y_labels(5)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(font(style, 0.8, false))
        .axis_style(style.grid.stroke_width(axis_width))
        .bold_line_style(style.grid.mix(0.5))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    Ok(chart)
}

fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => cur.push((i as f64, *v)),
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    let k = data.bars.len().max(1);
    let (x0, x1) = y_range(
        data.bars.iter().filter_map(|b| b.value),
        &[data.target, data.threshold.map(|t| t.value)],
        true,
    );
    let x1 = x1 * 1.25; // room for the value written after each bar
    let lang = style.lang;
    let bars = &data.bars;
    let x_fmt = |v: &f64| format::compact(lang, *v);
    // Labels take at most 40 % of the width; longer ones are cut with "…".
    let (w, _) = area.dim_in_pixel();
    let max_chars = ((w as f64 * 0.4) / (style.font * 0.8 * 0.52)).max(4.0) as usize;
    let cut: Vec<String> = bars
        .iter()
        .map(|b| {
            if b.label.chars().count() > max_chars {
                b.label.chars().take(max_chars - 1).collect::<String>() + "…"
            } else {
                b.label.clone()
            }
        })
        .collect();
    let label_width =
        cut.iter().map(|l| l.chars().count()).max().unwrap_or(8) as f64 * style.font * 0.8 * 0.52;
    let mut chart = ChartBuilder::on(area)
        .margin((style.font * 0.6) as u32)
        .x_label_area_size((style.font * 1.8) as u32)
        .y_label_area_size(label_width as u32 + (style.font * 0.8) as u32)
        .build_cartesian_2d(x0..x1, (k as f64 - 0.5)..-0.5f64)
        .map_err(e)?;
    let y_fmt = |y: &f64| {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < cut.len() {
            cut[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(k)
        .x_labels(5)
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&x_fmt)
        .label_style(font(style, 0.8, false))
        .axis_style(style.grid.stroke_width(2))
        .bold_line_style(style.grid.mix(0.5))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    let color = PALETTE[0];
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            b.value.map(|v| {
                Rectangle::new(
                    [(0.0f64.max(x0), i as f64 - 0.32), (v, i as f64 + 0.32)],
                    color.filled(),
                )
            })
        }))
        .map_err(e)?;
    let text_style = font(style, 0.75, false);
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let at = b.value.unwrap_or(0.0).max(0.0);
            EmptyElement::at((at, i as f64))
                + Text::new(
                    format!(" {}", b.text),
                    (4, -(style.font * 0.45) as i32),
                    text_style.clone(),
                )
        }))
        .map_err(e)?;
    if let Some(t) = data.target {
        let s = RGBColor(213, 94, 0).stroke_width(style.line.max(2));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(t, k as f64 - 0.5), (t, -0.5)],
                8,
                6,
                s,
            ))
            .map_err(e)?;
    }
    Ok(())
}

fn draw_stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    // The legend goes to the right of the bars, not over them.
    let (w, _) = area.dim_in_pixel();
    let (area, legend) = area.split_horizontally((w as f64 * 0.74) as u32);
    let row = (style.font * 1.15) as i32;
    // Listed top layer first, as the stack reads.
    for (pos, (k, line)) in data.lines.iter().enumerate().rev().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let y = (style.font * 1.2) as i32 + row * pos as i32;
        let s = (style.font * 0.7) as i32;
        legend
            .draw(&Rectangle::new(
                [(0, y - s / 2), (s, y + s / 2)],
                color.filled(),
            ))
            .map_err(e)?;
        let t = font(style, 0.75, false).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        legend
            .draw(&Text::new(line.label.clone(), (s + s / 2, y), t))
            .map_err(e)?;
    }
    let area = &area;
    let n = data.periods.len().max(1);
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            data.lines
                .iter()
                .filter_map(|l| l.values.get(i).copied().flatten())
                .filter(|v| *v > 0.0)
                .sum()
        })
        .collect();
    let (_, y1) = y_range(totals.iter().copied(), &[], true);
    let mut chart = time_grid(
        area,
        style,
        &data.periods,
        -0.6f64..(n as f64 - 0.4),
        0.0..y1,
        n.min(6),
        2,
    )?;
    let mut base = vec![0.0; n];
    for (k, line) in data.lines.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let rects: Vec<Rectangle<(f64, f64)>> = line
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let v = (*v)?.max(0.0);
                let r = Rectangle::new(
                    [(i as f64 - 0.35, base[i]), (i as f64 + 0.35, base[i] + v)],
                    color.filled(),
                );
                base[i] += v;
                Some(r)
            })
            .collect();
        chart.draw_series(rects).map_err(e)?;
    }
    Ok(())
}
