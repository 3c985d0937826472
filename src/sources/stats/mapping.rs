//! Which series of a [`Cube`] are which indicator for which unit: the technician's mapping.
//! The area dimension's codes become unit ids through a table (a code with no unit is said once
//! and its series skipped); each indicator picks its series by dimension codes; names, units and
//! sectors come from the mapping, else from the message. Missing values stay missing (the
//! series' `missing` periods), never zero; observation status is kept on each point.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::number::DecimalMark;
use super::{Cube, Problem, ReadOptions};
use crate::model::*;

/// `[source.stats]`
#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsMapping {
    /// The dimension whose codes are areas ("REF_AREA", "Địa phương").
    #[serde(default)]
    pub area_dimension: Option<String>,
    /// Area codes → unit ids.
    #[serde(default)]
    pub areas: BTreeMap<String, String>,
    /// Unit of series without an area dimension (a national or provincial file).
    #[serde(default)]
    pub default_unit: Option<String>,
    /// The time dimension when it is not TIME_PERIOD or JSON-stat's `role.time`.
    #[serde(default)]
    pub time_dimension: Option<String>,
    /// The decimal mark of the source's numbers: "auto" (default), "point" or "comma".
    #[serde(default)]
    pub decimal: DecimalMark,
    /// The indicators this source gives.
    #[serde(default)]
    pub indicators: Vec<IndicatorMap>,
}

/// `[[source.stats.indicators]]`
#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorMap {
    /// The indicator's id on the console (layouts name it).
    pub id: String,
    /// Dimension → code a series must have to be this indicator (e.g. INDICATOR = "FID_PA").
    #[serde(default, rename = "where")]
    pub select: BTreeMap<String, String>,
    #[serde(default)]
    pub name_vi: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub unit_of_measure: Option<String>,
    #[serde(default)]
    pub sector: Option<String>,
    /// The period kind shown (default: the most common in the data); observations of other
    /// kinds (years among quarters) are counted and said, not mixed into the line.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub period: Option<PeriodKind>,
    #[serde(default)]
    pub decimals: Option<u8>,
    /// Multiplies values after `UNIT_MULT` (0.001 to show thousands).
    #[serde(default)]
    pub scale: Option<f64>,
}

impl StatsMapping {
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            decimal: self.decimal,
            time_dimension: self.time_dimension.clone(),
        }
    }
}

/// What a mapped cube gives the console.
#[derive(Clone, Debug, Default)]
pub struct Mapped {
    pub indicators: Vec<Indicator>,
    pub series: Vec<Series>,
    pub problems: Vec<Problem>,
}

/// Maps `cube` for `source` (its id names the provider of the indicators).
pub fn map(cube: &Cube, m: &StatsMapping, source: &str, as_of: Timestamp) -> Mapped {
    let mut out = Mapped::default();
    let dim = |name: &str| cube.dims.iter().position(|d| d == name);
    let area = match &m.area_dimension {
        Some(a) => match dim(a) {
            Some(i) => Some(i),
            None => {
                out.problems.push(Problem {
                    place: "area_dimension".into(),
                    message: format!(
                        "the data has no dimension {a} (it has {})",
                        cube.dims.join(", ")
                    ),
                });
                return out;
            }
        },
        None => None,
    };
    if area.is_none() && m.default_unit.is_none() {
        out.problems.push(Problem {
            place: "default_unit".into(),
            message: "no area_dimension and no default_unit: the series belong to no unit".into(),
        });
        return out;
    }
    let mut unmapped_areas: HashSet<String> = HashSet::new();
    // Observations of each series, in input order.
    let mut by_series: Vec<Vec<usize>> = vec![Vec::new(); cube.series.len()];
    for (i, o) in cube.obs.iter().enumerate() {
        if let Some(v) = by_series.get_mut(o.series as usize) {
            v.push(i);
        }
    }
    for im in &m.indicators {
        let mut conditions = Vec::new();
        let mut bad = false;
        for (d, code) in &im.select {
            match dim(d) {
                Some(i) => conditions.push((i, code.as_str())),
                None => {
                    out.problems.push(Problem {
                        place: format!("indicators.{}.where", im.id),
                        message: format!("the data has no dimension {d}"),
                    });
                    bad = true;
                }
            }
        }
        if bad {
            continue;
        }
        let chosen: Vec<u32> = (0..cube.series.len() as u32)
            .filter(|&s| conditions.iter().all(|&(d, c)| cube.code(s, d) == c))
            .collect();
        if chosen.is_empty() {
            out.problems.push(Problem {
                place: format!("indicators.{}", im.id),
                message: "no series matches its conditions".into(),
            });
            continue;
        }
        // The period kind shown.
        let kind = im.period.unwrap_or_else(|| {
            let mut counts: HashMap<PeriodKind, usize> = HashMap::new();
            for &s in &chosen {
                for &o in &by_series[s as usize] {
                    *counts.entry(cube.obs[o].period.kind()).or_default() += 1;
                }
            }
            counts
                .into_iter()
                .max_by_key(|(k, n)| (*n, k.days()))
                .map_or(PeriodKind::Yearly, |(k, _)| k)
        });
        let mut other_kinds = 0usize;
        let mut unit_of_measure = im.unit_of_measure.clone();
        let mut seen_units: HashSet<String> = HashSet::new();
        for &s in &chosen {
            let unit = match area {
                Some(a) => {
                    let code = cube.code(s, a);
                    match m.areas.get(code) {
                        Some(u) => u.clone(),
                        None => {
                            if unmapped_areas.insert(code.to_owned()) {
                                out.problems.push(Problem {
                                    place: format!("{}={code}", cube.dims[a]),
                                    message: format!("area code {code} has no unit in the mapping: its series are not shown"),
                                });
                            }
                            continue;
                        }
                    }
                }
                None => m.default_unit.clone().unwrap_or_default(),
            };
            if !seen_units.insert(unit.clone()) {
                out.problems.push(Problem {
                    place: format!("indicators.{}", im.id),
                    message: format!("several series for unit {unit} (series {}): the first is shown; add a condition", cube.key_text(s)),
                });
                continue;
            }
            if unit_of_measure.is_none() {
                unit_of_measure = cube.series[s as usize].unit.clone();
            }
            let scale = im.scale.unwrap_or(1.0);
            let mut points = Vec::new();
            let mut missing = Vec::new();
            for &o in &by_series[s as usize] {
                let ob = cube.obs[o];
                if ob.period.kind() != kind {
                    other_kinds += 1;
                    continue;
                }
                match ob.value {
                    Some(v) => points.push(Point {
                        period: ob.period,
                        value: v * scale,
                        updated_at: as_of,
                        status: ob.status,
                    }),
                    None => missing.push(MissingObs {
                        period: ob.period,
                        status: ob.status,
                    }),
                }
            }
            points.sort_by_key(|p| p.period);
            points.dedup_by_key(|p| p.period);
            missing.sort_by_key(|p| p.period);
            missing.retain(|mo| {
                points
                    .binary_search_by_key(&mo.period, |p| p.period)
                    .is_err()
            });
            out.series.push(Series {
                indicator_id: im.id.clone(),
                unit_id: unit,
                points,
                annotations: Vec::new(),
                missing,
                origin: Some(source.to_owned()),
            });
        }
        if other_kinds > 0 {
            out.problems.push(Problem {
                place: format!("indicators.{}", im.id),
                message: format!("{other_kinds} observations of other period kinds than {kind:?} not shown (set the indicator's period to choose)"),
            });
        }
        let from_codes = || {
            im.select
                .iter()
                .filter_map(|(d, c)| cube.code_names.get(&(d.clone(), c.clone())))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let message_name = {
            let n = from_codes();
            if n.is_empty() {
                cube.title.clone().unwrap_or_else(|| im.id.clone())
            } else {
                n
            }
        };
        out.indicators.push(Indicator {
            id: im.id.clone(),
            name_vi: im.name_vi.clone().unwrap_or_else(|| message_name.clone()),
            name_en: im
                .name_en
                .clone()
                .or_else(|| im.name_vi.clone())
                .unwrap_or(message_name),
            unit_of_measure: unit_of_measure.unwrap_or_default(),
            sector: im.sector.clone().unwrap_or_default(),
            provider_id: source.to_owned(),
            period: kind,
            target: None,
            threshold: None,
            decimals: im.decimals.unwrap_or(1),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::stats::StatsFormat;

    #[test]
    fn series_to_indicators_and_units() {
        let csv = "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS\n\
                   GSO:X(1.0),VN-70,POP,2023,1500,A\n\
                   GSO:X(1.0),VN-70,POP,2024,na,M\n\
                   GSO:X(1.0),VN-70,POP,2024-Q1,1,A\n\
                   GSO:X(1.0),VN-99,POP,2024,7,A\n\
                   GSO:X(1.0),VN-70,GDP,2024,3,P\n";
        let cube = StatsFormat::SdmxCsv
            .read(csv.as_bytes(), &ReadOptions::default())
            .unwrap();
        let m = StatsMapping {
            area_dimension: Some("REF_AREA".into()),
            areas: [("VN-70".to_owned(), "vl".to_owned())].into(),
            indicators: vec![
                IndicatorMap {
                    id: "pop".into(),
                    select: [("INDICATOR".to_owned(), "POP".to_owned())].into(),
                    name_vi: Some("Dân số".into()),
                    ..Default::default()
                },
                IndicatorMap {
                    id: "gdp".into(),
                    select: [("INDICATOR".to_owned(), "GDP".to_owned())].into(),
                    ..Default::default()
                },
                IndicatorMap {
                    id: "none".into(),
                    select: [("FOO".to_owned(), "x".to_owned())].into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let now = chrono::Utc::now();
        let out = map(&cube, &m, "gso", now);
        assert_eq!(out.indicators.len(), 2);
        let pop = out.series.iter().find(|s| s.indicator_id == "pop").unwrap();
        assert_eq!(pop.unit_id, "vl");
        assert_eq!(pop.points.len(), 1);
        assert_eq!(pop.points[0].value, 1500.0);
        assert_eq!(pop.missing.len(), 1, "2024 is missing, not zero");
        assert_eq!(pop.missing[0].status.unwrap().as_str(), "M");
        assert_eq!(pop.origin.as_deref(), Some("gso"));
        assert_eq!(out.indicators[0].period, PeriodKind::Yearly);
        let said: Vec<String> = out.problems.iter().map(ToString::to_string).collect();
        assert!(said.iter().any(|p| p.contains("VN-99")), "{said:?}");
        assert!(said.iter().any(|p| p.contains("FOO")), "{said:?}");
        assert!(
            said.iter()
                .any(|p| p.contains("1 observations of other period kinds")),
            "{said:?}"
        );
        assert_eq!(
            out.series
                .iter()
                .find(|s| s.indicator_id == "gdp")
                .unwrap()
                .points[0]
                .status
                .unwrap()
                .as_str(),
            "P"
        );
    }
}
