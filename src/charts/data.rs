//! What a chart shows, extracted from the store ([`ChartData`]): periods, lines with gaps, bars,
//! target and threshold, missing values, annotations; and prepared for drawing (split at gaps,
//! decimated per pixel column).

use std::collections::HashMap;

use super::decimate;
use super::spec::{ChartSpec, ChartType, UnitGroup, UnitSelection};
use crate::format::{self, short_unit_name};
use crate::i18n::{Lang, tr, tr_args};
use crate::model::{Direction, Indicator, PeriodKey, Series, Threshold, Timestamp, Unit};
use crate::store::Store;
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
    /// The series (indicator, unit) read, present or not: what the data must be extracted
    /// again for when they change.
    pub series_read: Vec<(String, String)>,
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
    pub(super) fn axis_values(&self) -> Box<dyn Iterator<Item = f64> + '_> {
        match (self.prepared_for, self.value_range) {
            (c, Some((lo, hi))) if c > 0 => Box::new([lo, hi].into_iter()),
            _ => Box::new(
                self.lines
                    .iter()
                    .flat_map(|l| l.values.iter().flatten().copied()),
            ),
        }
    }

    pub(super) fn x_len(&self) -> usize {
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

pub(super) fn prepared_runs(lines: &[Line], n: usize, columns: usize) -> Vec<Vec<Vec<(f64, f64)>>> {
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
        // A unit that did not exist in the period asked for has no data there: said, not zeros.
        if let (Some(p), UnitSelection::Ids(_)) = (spec.period, &spec.units) {
            let start = p.previous().end();
            if let Some(u) = units
                .iter()
                .find(|u| u.valid_to.is_some_and(|to| to < start) || u.valid_from >= p.end())
            {
                data.problem = Some(
                    crate::text::Text::key("chart.unit_not_in_period")
                        .arg("unit", &u.name)
                        .arg("period", format::period(lang, p)),
                );
                return data;
            }
        }
        let first = indicators[0];
        data.unit_of_measure = first.unit_of_measure.clone();
        data.decimals = first.decimals;
        data.period_days = indicators
            .iter()
            .map(|i| i.period.days())
            .max()
            .unwrap_or(31);
        let x = Extraction {
            spec,
            series,
            lang,
            read: std::cell::RefCell::new(Vec::new()),
        };
        match spec.chart {
            ChartType::Line | ChartType::Stacked => x.lines(&mut data, &indicators, &units),
            ChartType::Bars => x.ranking(&mut data, first, &units),
            ChartType::Target => x.targets(&mut data, &indicators, units[0]),
        }
        let mut read = x.read.into_inner();
        read.sort();
        read.dedup();
        data.series_read = read;
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

/// One extraction from the store: the series it reads, and which.
struct Extraction<'a> {
    spec: &'a ChartSpec,
    series: &'a HashMap<(String, String), Series>,
    lang: Lang,
    read: std::cell::RefCell<Vec<(String, String)>>,
}

impl<'a> Extraction<'a> {
    /// Whether a period is shown: every one, or those up to the spec's period.
    fn within(&self, p: PeriodKey) -> bool {
        self.spec.period.is_none_or(|until| p.end() <= until.end())
    }

    fn get(&self, i: &Indicator, u: &Unit) -> Option<&'a Series> {
        let key = (i.id.clone(), u.id.clone());
        let s = self.series.get(&key);
        self.read.borrow_mut().push(key);
        s
    }

    /// Time series (one line per indicator and unit) or a composition by unit, over the latest
    /// periods.
    fn lines(&self, data: &mut ChartData, indicators: &[&Indicator], units: &[&Unit]) {
        let first = indicators[0];
        let chosen: Vec<(&Indicator, &Unit, Option<&Series>)> = indicators
            .iter()
            .flat_map(|i| units.iter().map(move |u| (*i, *u)))
            .map(|(i, u)| (i, u, self.get(i, u)))
            .take(if self.spec.chart == ChartType::Stacked {
                units.len()
            } else {
                8
            })
            .collect();
        let mut periods: Vec<PeriodKey> = chosen
            .iter()
            .flat_map(|(_, _, s)| {
                // Periods a source reports without a value are periods too: shown as missing.
                s.iter().flat_map(|s| {
                    s.points
                        .iter()
                        .map(|p| p.period)
                        .chain(s.missing.iter().map(|m| m.period))
                })
            })
            .filter(|p| self.within(*p))
            .collect();
        periods.sort();
        periods.dedup();
        let keep = self.spec.periods.max(1);
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
                indicator_name(i, self.lang).to_owned()
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
                        data.missing
                            .push((format::period(self.lang, *p), label.clone()));
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
                    if self.lang == Lang::Vi {
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
        if self.spec.chart == ChartType::Stacked {
            group_small_layers(&mut data.lines, 6, tr(self.lang, "chart.others"));
        }
        if self.spec.chart == ChartType::Line && indicators.len() == 1 {
            data.target = first.target;
            data.threshold = first.threshold;
        }
    }

    /// A ranking of the units for the first indicator at its newest well-reported period.
    fn ranking(&self, data: &mut ChartData, first: &Indicator, units: &[&Unit]) {
        // The newest period that at least half of the units have reported (a period
        // that has only just started would rank one unit against eight blanks).
        let mut periods: Vec<PeriodKey> = units
            .iter()
            .filter_map(|u| self.get(first, u))
            .flat_map(|s| s.points.iter().map(|p| p.period))
            .filter(|p| self.within(*p))
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
                    self.get(first, u)
                        .and_then(|s| s.points.iter().find(|x| x.period == p))
                });
                if let Some(pt) = point {
                    data.as_of = data.as_of.max(Some(pt.updated_at));
                } else {
                    data.missing.push((
                        short_unit_name(u),
                        indicator_name(first, self.lang).to_owned(),
                    ));
                }
                let value = point.map(|p| p.value);
                let text = value.map_or_else(
                    || tr(self.lang, "chart.not_updated").to_owned(),
                    |v| format::number(self.lang, v, first.decimals),
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

    /// Target versus actual for each indicator, at the unit `u`.
    fn targets(&self, data: &mut ChartData, indicators: &[&Indicator], u: &Unit) {
        for i in indicators {
            let latest = self.get(i, u).and_then(|s| {
                s.points
                    .iter()
                    .filter(|p| self.within(p.period))
                    .max_by_key(|p| p.period)
            });
            let (value, text, detail) = match (latest, i.target) {
                (Some(p), Some(t)) if t != 0.0 => {
                    data.as_of = data.as_of.max(Some(p.updated_at));
                    let pct = p.value / t * 100.0;
                    let detail = tr_args(
                        self.lang,
                        "chart.target_text",
                        &[
                            ("actual", &format::number(self.lang, p.value, i.decimals)),
                            ("target", &format::number(self.lang, t, i.decimals)),
                            ("unit", &i.unit_of_measure),
                            ("pct", &format::number(self.lang, pct, 1)),
                        ],
                    );
                    (
                        Some(pct),
                        format!("{}%", format::number(self.lang, pct, 1)),
                        detail,
                    )
                }
                (_, None) => (
                    None,
                    tr(self.lang, "chart.no_target").to_owned(),
                    String::new(),
                ),
                _ => {
                    data.missing
                        .push((short_unit_name(u), indicator_name(i, self.lang).to_owned()));
                    (
                        None,
                        tr(self.lang, "chart.not_updated").to_owned(),
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
                label: indicator_name(i, self.lang).to_owned(),
                value,
                text,
                detail,
            });
        }
        data.unit_of_measure = "%".into();
        data.target = Some(100.0);
    }
}

pub(super) fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
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
