//! SDMX-JSON data messages, 1.0 (`structure` and `dataSets` at the top) and 2.x
//! (`data.structures` and `data.dataSets`, each data set naming its structure). Observations are read in one pass
//! straight into compact records (series positions, value, the first three attribute indices),
//! without building a JSON tree, then resolved against the structure: TIME_PERIOD may sit on the
//! observation (time series), on the series (cross-section) or among all dimensions (flat).

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::number::{self, Cell};
use super::{Cube, ReadOptions, Unusable};
use crate::model::{ObsStatus, PeriodKey};

/// A name: a string, or localised `{"en": …}` (the first language is taken, English first).
#[derive(Clone, Debug, Default)]
struct Name(Option<String>);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N {
            S(String),
            M(std::collections::BTreeMap<String, String>),
            Other(IgnoredAny),
        }
        Ok(Name(match N::deserialize(d)? {
            N::S(s) => Some(s),
            N::M(m) => m
                .get("vi")
                .or_else(|| m.get("en"))
                .or_else(|| m.values().next())
                .cloned(),
            N::Other(_) => None,
        }))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
struct Value {
    #[serde(default, deserialize_with = "lenient_id")]
    id: String,
    #[serde(default)]
    name: Name,
}

fn lenient_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum I {
        S(String),
        N(serde_json::Number),
        Other(IgnoredAny),
    }
    Ok(match I::deserialize(d)? {
        I::S(s) => s,
        I::N(n) => n.to_string(),
        I::Other(_) => String::new(),
    })
}

#[derive(Clone, Debug, Default, Deserialize)]
struct Component {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: Name,
    /// Positions matter: a `null` (a sender's shortcut) keeps its place as an empty value.
    #[serde(default, deserialize_with = "values_keeping_places")]
    values: Vec<Value>,
    #[serde(default)]
    roles: Option<serde_json::Value>,
    #[serde(default)]
    role: Option<serde_json::Value>,
}

impl Component {
    fn is_time(&self, wanted: Option<&str>) -> bool {
        if let Some(w) = wanted {
            return self.id == w;
        }
        let role_time = |v: &Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => s.eq_ignore_ascii_case("time"),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .any(|r| r.as_str().is_some_and(|s| s.eq_ignore_ascii_case("time"))),
            _ => false,
        };
        self.id == "TIME_PERIOD"
            || self.id == "TIME"
            || role_time(&self.roles)
            || role_time(&self.role)
    }
}

fn values_keeping_places<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    let v: Option<Vec<Option<Value>>> = Deserialize::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Levels {
    #[serde(default)]
    data_set: Vec<Component>,
    #[serde(default)]
    series: Vec<Component>,
    #[serde(default)]
    observation: Vec<Component>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct Structure {
    #[serde(default)]
    name: Name,
    #[serde(default)]
    dimensions: Levels,
    #[serde(default)]
    attributes: Levels,
}

const NONE16: u16 = u16::MAX;

// ---- how a structure's positions become series and periods ------------------------------------

/// What resolving a data set of one structure needs, worked out once: every dimension in key
/// order (data-set level, series level, observation level), which is time, the periods of the
/// time dimension's values, where the attributes that matter are.
struct Resolve {
    /// Value ids of each dimension in key order.
    codes: Vec<Vec<String>>,
    n_set: usize,
    n_series: usize,
    time_at: Option<usize>,
    /// Dimension positions (in key order) that make the cube's series key.
    others: Vec<usize>,
    ids: Vec<String>,
    periods: Vec<Option<PeriodKey>>,
    /// Observation attribute slot of OBS_STATUS (first three) and its codes.
    status_at: Option<usize>,
    status_codes: Vec<Option<ObsStatus>>,
    mult_series: Option<usize>,
    mult_codes: Vec<Option<i32>>,
    mult_set: Option<i32>,
    unit_series: Option<usize>,
    unit_codes: Vec<String>,
    unit_set: Option<String>,
    /// The time dimension's id and values, for problems.
    time_id: String,
    bad_periods: Vec<(usize, String)>,
    no_time_dims: String,
}

impl Resolve {
    fn new(st: &Structure, want_time: Option<&str>) -> Resolve {
        let d = &st.dimensions;
        let all: Vec<&Component> = d
            .data_set
            .iter()
            .chain(d.series.iter())
            .chain(d.observation.iter())
            .collect();
        // The time dimension: named or with the time role, else the one whose values all read
        // as periods (observation level first).
        let time_at = all.iter().position(|c| c.is_time(want_time)).or_else(|| {
            all.iter().rposition(|c| {
                !c.values.is_empty()
                    && c.values
                        .iter()
                        .all(|v| super::period::parse(&v.id).is_some())
            })
        });
        let others: Vec<usize> = (0..all.len()).filter(|&i| Some(i) != time_at).collect();
        let periods: Vec<Option<PeriodKey>> = time_at.map_or_else(Vec::new, |t| {
            all[t]
                .values
                .iter()
                .map(|v| super::period::parse(&v.id))
                .collect()
        });
        let bad_periods = time_at.map_or_else(Vec::new, |t| {
            all[t]
                .values
                .iter()
                .enumerate()
                .filter(|(i, _)| periods[*i].is_none())
                .map(|(i, v)| (i, v.id.clone()))
                .collect()
        });
        let a = &st.attributes;
        let find = |list: &[Component], id: &str| list.iter().position(|c| c.id == id);
        let status_at = find(&a.observation, "OBS_STATUS").filter(|&i| i < 3);
        let mult_series = find(&a.series, "UNIT_MULT");
        let unit_series = find(&a.series, "UNIT_MEASURE");
        let name_or_id = |v: &Value| v.name.0.clone().unwrap_or_else(|| v.id.clone());
        Resolve {
            codes: all
                .iter()
                .map(|c| c.values.iter().map(|v| v.id.clone()).collect())
                .collect(),
            n_set: d.data_set.len(),
            n_series: d.series.len(),
            time_at,
            ids: others.iter().map(|&i| all[i].id.clone()).collect(),
            others,
            periods,
            status_codes: status_at.map_or_else(Vec::new, |i| {
                a.observation[i]
                    .values
                    .iter()
                    .map(|v| ObsStatus::new(&v.id))
                    .collect()
            }),
            status_at,
            mult_codes: mult_series.map_or_else(Vec::new, |i| {
                a.series[i]
                    .values
                    .iter()
                    .map(|v| v.id.parse().ok())
                    .collect()
            }),
            mult_series,
            mult_set: a
                .data_set
                .iter()
                .find(|c| c.id == "UNIT_MULT")
                .and_then(|c| c.values.first())
                .and_then(|v| v.id.parse::<i32>().ok()),
            unit_codes: unit_series.map_or_else(Vec::new, |i| {
                a.series[i].values.iter().map(name_or_id).collect()
            }),
            unit_series,
            unit_set: a
                .data_set
                .iter()
                .find(|c| c.id == "UNIT_MEASURE")
                .and_then(|c| c.values.first())
                .map(name_or_id),
            time_id: time_at.map_or_else(String::new, |t| all[t].id.clone()),
            bad_periods,
            no_time_dims: all
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Pass two's state: the cube being filled and the data set being read.
struct Filling<'a> {
    cube: Cube,
    resolves: &'a [Option<Resolve>],
    /// The cube's series by their key positions (of the current data set's structure).
    keyed: HashMap<Box<[u16]>, u32>,
    index: HashMap<Vec<u32>, u32>,
    dims_fixed: bool,
    set: usize,
    structure: usize,
    skip: bool,
    bad_keys: usize,
    full: Vec<u16>,
    key: Vec<u16>,
}

impl Filling<'_> {
    fn resolve(&self) -> Option<&Resolve> {
        self.resolves.get(self.structure).and_then(Option::as_ref)
    }

    /// Starts a data set: its structure must have time, and the same dimensions as the first.
    fn begin_set(&mut self) {
        self.keyed.clear();
        self.bad_keys = 0;
        self.skip = false;
        let si = self.set;
        let Some(r) = self.resolves.get(self.structure).and_then(Option::as_ref) else {
            self.cube.problem(
                format!("dataSets[{si}].structure"),
                "no structure describes this data set",
            );
            self.skip = true;
            return;
        };
        if r.time_at.is_none() {
            let dims = r.no_time_dims.clone();
            self.cube.problem(
                format!("dataSets[{si}]"),
                format!("no time dimension (its dimensions are {dims}): nothing to show over time"),
            );
            self.skip = true;
            return;
        }
        if !self.dims_fixed {
            self.cube.dims = r.ids.clone();
            self.dims_fixed = true;
            for (i, v) in r.bad_periods.clone() {
                let id = r.time_id.clone();
                self.cube.problem(
                    format!("{id}.values[{i}]"),
                    format!("period \"{v}\" cannot be read"),
                );
            }
        } else if self.cube.dims != r.ids {
            self.cube.problem(
                format!("dataSets[{si}]"),
                "its dimensions differ from the first data set's: skipped",
            );
            self.skip = true;
        }
        self.full = vec![0; r.codes.len()];
    }

    fn end_set(&mut self) {
        if self.bad_keys > 0 {
            let (si, n) = (self.set, self.bad_keys);
            self.cube.problem(
                format!("dataSets[{si}]"),
                format!(
                    "{n} observations with keys or periods the structure does not have: skipped"
                ),
            );
        }
    }

    /// The cube's series of the key now in `full` (creating it), or None when a position is
    /// outside its dimension's values.
    fn series(&mut self) -> Option<u32> {
        let r = self.resolves.get(self.structure)?.as_ref()?;
        self.key.clear();
        self.key.extend(r.others.iter().map(|&i| self.full[i]));
        if let Some(&s) = self.keyed.get(&self.key[..]) {
            return Some(s);
        }
        let mut codes: Vec<&str> = Vec::with_capacity(r.others.len());
        for &i in &r.others {
            codes.push(r.codes[i].get(self.full[i] as usize)?.as_str());
        }
        let s = self.cube.series_id(&codes, &mut self.index);
        let sk = &mut self.cube.series[s as usize];
        if sk.unit_mult.is_none() {
            sk.unit_mult = r.mult_set;
        }
        if sk.unit.is_none() {
            sk.unit = r.unit_set.clone();
        }
        self.keyed.insert(self.key.clone().into_boxed_slice(), s);
        Some(s)
    }

    /// One observation whose key is in `full`.
    fn observe(&mut self, value: f64, missing: bool, attrs: [u16; 3]) -> Option<u32> {
        let r = self.resolves.get(self.structure)?.as_ref()?;
        let t = r.time_at?;
        let period = r.periods.get(self.full[t] as usize).copied().flatten();
        let status = r
            .status_at
            .map(|i| attrs[i])
            .filter(|&x| x != NONE16)
            .and_then(|x| r.status_codes.get(x as usize).copied().flatten());
        let Some(period) = period else {
            self.bad_keys += 1;
            return None;
        };
        let Some(s) = self.series() else {
            self.bad_keys += 1;
            return None;
        };
        self.cube.obs.push(super::Obs {
            series: s,
            period,
            value: (!missing).then_some(value),
            status,
        });
        Some(s)
    }

    /// A series object's attributes (UNIT_MULT, the unit) on the cube's series it made.
    fn series_attrs(&mut self, attrs: &[Option<u32>], touched: &[u32]) {
        let Some(r) = self.resolves.get(self.structure).and_then(Option::as_ref) else {
            return;
        };
        let pick = |at: Option<usize>| attrs.get(at?).copied().flatten().map(|x| x as usize);
        let mult = pick(r.mult_series).and_then(|x| r.mult_codes.get(x).copied().flatten());
        let unit = pick(r.unit_series).and_then(|x| r.unit_codes.get(x).cloned());
        for &s in touched {
            let sk = &mut self.cube.series[s as usize];
            if mult.is_some() {
                sk.unit_mult = mult;
            }
            if unit.is_some() {
                sk.unit = unit.clone();
            }
        }
    }
}

// ---- reading `dataSets` (both passes) -----------------------------------------------------------

/// `dataSets`: counted in pass one, resolved as read in pass two.
struct DataSetsSeed<'a, 'b> {
    count: &'a mut usize,
    fill: Option<&'a mut Filling<'b>>,
}

impl<'de> DeserializeSeed<'de> for DataSetsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSetsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of data sets")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.fill {
            None => {
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    *self.count += 1;
                }
            }
            Some(fill) => {
                while seq.next_element_seed(DataSetSeed(&mut *fill))?.is_some() {
                    fill.end_set();
                    fill.set += 1;
                    *self.count += 1;
                }
            }
        }
        Ok(())
    }
}

struct DataSetSeed<'a, 'b>(&'a mut Filling<'b>);

impl<'de> DeserializeSeed<'de> for DataSetSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSetSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a data set")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fill = self.0;
        fill.structure = 0;
        let mut begun = false;
        let obs_before = fill.cube.obs.len();
        let mut delete = false;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match k.as_ref() {
                "structure" => {
                    let s = map.next_value::<usize>()?;
                    if begun && s != fill.structure {
                        let si = fill.set;
                        fill.cube.problem(
                            format!("dataSets[{si}].structure"),
                            "named after the data set's observations: read with the first structure",
                        );
                    } else {
                        fill.structure = s;
                    }
                }
                "action" => {
                    let a: String = map.next_value()?;
                    delete = a.eq_ignore_ascii_case("delete");
                }
                "series" | "observations" if delete => {
                    map.next_value::<IgnoredAny>()?;
                }
                "series" | "observations" => {
                    if !begun {
                        fill.begin_set();
                        begun = true;
                    }
                    if fill.skip {
                        map.next_value::<IgnoredAny>()?;
                    } else if k.as_ref() == "series" {
                        map.next_value_seed(SeriesMapSeed(&mut *fill))?;
                    } else {
                        map.next_value_seed(ObsMapSeed {
                            fill: &mut *fill,
                            series: false,
                        })?;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if delete {
            // A Delete action said after its data: what was read of it is not data.
            fill.cube.obs.truncate(obs_before);
            let si = fill.set;
            fill.cube.problem(
                format!("dataSets[{si}]"),
                "a Delete action: nothing to show",
            );
        }
        Ok(())
    }
}

/// Parses "0:1:2" into `out` (cleared first); false when it is not positions.
fn positions_into(key: &str, out: &mut Vec<u16>) -> bool {
    out.clear();
    if key.is_empty() {
        return true;
    }
    for p in key.split(':') {
        match p.parse::<u16>() {
            Ok(v) => out.push(v),
            Err(_) => return false,
        }
    }
    true
}

struct SeriesMapSeed<'a, 'b>(&'a mut Filling<'b>);

impl<'de> DeserializeSeed<'de> for SeriesMapSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SeriesMapSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("series keyed by \"0:1:2\"")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fill = self.0;
        let mut pos = Vec::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let (n_set, n_series) = fill.resolve().map_or((0, 0), |r| (r.n_set, r.n_series));
            if !positions_into(&k, &mut pos) || pos.len() != n_series {
                fill.bad_keys += 1;
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            fill.full[n_set..n_set + n_series].copy_from_slice(&pos);
            map.next_value_seed(OneSeriesSeed(&mut *fill))?;
        }
        Ok(())
    }
}

struct OneSeriesSeed<'a, 'b>(&'a mut Filling<'b>);

impl<'de> DeserializeSeed<'de> for OneSeriesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneSeriesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a series")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fill = self.0;
        let mut attrs: Vec<Option<u32>> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match k.as_ref() {
                "attributes" => {
                    // Indices; anything else a sender put there (objects) is no index.
                    let a: Vec<Option<Scalar>> = map.next_value()?;
                    attrs = a
                        .into_iter()
                        .map(|x| match x {
                            Some(Scalar::Num(n)) if n >= 0.0 && n < u32::MAX as f64 => {
                                Some(n as u32)
                            }
                            _ => None,
                        })
                        .collect();
                }
                "observations" => {
                    let before = fill.cube.series.len();
                    map.next_value_seed(ObsMapSeed {
                        fill: &mut *fill,
                        series: true,
                    })?;
                    touched.extend(before as u32..fill.cube.series.len() as u32);
                    // A series already known (another data set) is touched too.
                    if let Some(s) = fill.series()
                        && !touched.contains(&s)
                    {
                        touched.push(s);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !attrs.is_empty() {
            fill.series_attrs(&attrs, &touched);
        }
        Ok(())
    }
}

struct ObsMapSeed<'a, 'b> {
    fill: &'a mut Filling<'b>,
    /// Inside a series (the key holds the observation-level positions) or flat (all of them).
    series: bool,
}

impl<'de> DeserializeSeed<'de> for ObsMapSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObsMapSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("observations keyed by position")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fill = self.fill;
        let mut pos = Vec::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let (n_set, n_series, n_all) = fill
                .resolve()
                .map_or((0, 0, 0), |r| (r.n_set, r.n_series, r.codes.len()));
            let (start, want) = if self.series {
                (n_set + n_series, n_all - n_set - n_series)
            } else {
                (n_set, n_all - n_set)
            };
            if !positions_into(&k, &mut pos) || pos.len() != want {
                fill.bad_keys += 1;
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            fill.full[start..start + want].copy_from_slice(&pos);
            let (value, missing, attrs, bad) = map.next_value::<ObsArray>()?.0;
            if let Some(bad) = bad {
                let si = fill.set;
                fill.cube.problem(
                    format!("dataSets[{si}].observations[\"{k}\"]"),
                    format!("\"{bad}\" is not a number"),
                );
                continue;
            }
            fill.observe(value, missing, attrs);
        }
        Ok(())
    }
}

/// `[value, attr0, attr1, …]`: the value (number, string, null) and attribute indices.
struct ObsArray((f64, bool, [u16; 3], Option<String>));

impl<'de> Deserialize<'de> for ObsArray {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ObsArray;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[value, attribute indices…]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ObsArray, A::Error> {
                let first: Option<Scalar> = seq.next_element()?;
                let (value, missing, bad) = match first {
                    None | Some(Scalar::Null) => (f64::NAN, true, None),
                    Some(Scalar::Num(v)) => (v, false, None),
                    Some(Scalar::Str(s)) => match number::parse(&s, number::DecimalMark::Auto) {
                        Cell::Value(v) => (v, false, None),
                        Cell::Missing => (f64::NAN, true, None),
                        Cell::Bad => (f64::NAN, true, Some(s)),
                    },
                };
                let mut attrs = [NONE16; 3];
                let mut i = 0;
                while let Some(a) = seq.next_element::<Option<Scalar>>()? {
                    if i < 3 {
                        attrs[i] = match a {
                            Some(Scalar::Num(n)) if n >= 0.0 && n < NONE16 as f64 => n as u16,
                            _ => NONE16,
                        };
                    }
                    i += 1;
                }
                Ok(ObsArray((value, missing, attrs, bad)))
            }
        }
        d.deserialize_seq(V)
    }
}

enum Scalar {
    Null,
    Num(f64),
    Str(String),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, a string or null")
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_owned()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Null)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Null)
            }
        }
        d.deserialize_any(V)
    }
}

// ---- the message's frame (1.0 and 2.x), in two passes ------------------------------------------

#[derive(Default)]
struct Message {
    structures: Vec<Structure>,
    sets: usize,
    errors: Vec<String>,
    saw_frame: bool,
}

/// Pass one (`fill` None): the structures, data sets counted not read. Pass two: the data sets
/// read into the cube, the structures skipped.
struct MessageSeed<'a, 'b> {
    m: &'a mut Message,
    fill: Option<&'a mut Filling<'b>>,
}

impl<'de> DeserializeSeed<'de> for MessageSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MessageSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an SDMX-JSON data message (an object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let m = self.m;
        let mut fill = self.fill;
        let first = fill.is_none();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match k.as_ref() {
                // 1.0
                "structure" if first => {
                    m.saw_frame = true;
                    m.structures.push(map.next_value()?);
                }
                "dataSets" => {
                    m.saw_frame = true;
                    map.next_value_seed(DataSetsSeed {
                        count: &mut m.sets,
                        fill: fill.as_deref_mut(),
                    })?;
                }
                // 2.x
                "data" => {
                    m.saw_frame = true;
                    map.next_value_seed(MessageSeed {
                        m: &mut *m,
                        fill: fill.as_deref_mut(),
                    })?;
                }
                "structures" if first => {
                    let s: Vec<Structure> = map.next_value()?;
                    m.structures.extend(s);
                }
                "errors" if first => {
                    let e: Vec<serde_json::Value> = map.next_value()?;
                    m.errors.extend(e.iter().map(|e| {
                        let code = e.get("code").map(|c| c.to_string()).unwrap_or_default();
                        let title = e
                            .get("title")
                            .or_else(|| e.get("detail"))
                            .map(|t| match t {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .unwrap_or_default();
                        format!("{code} {title}").trim().to_owned()
                    }));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

fn pass(text: &str, seed: MessageSeed<'_, '_>) -> Result<(), Unusable> {
    let mut de = serde_json::Deserializer::from_str(text);
    seed.deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            Unusable::new(
                format!("line {}, column {}", e.line(), e.column()),
                clean(&e),
            )
        })
}

/// Reads an SDMX-JSON data message: the structures first (data sets skipped), then the data
/// sets, each observation resolved as it is read (no list of raw positions is held).
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Cube, Unusable> {
    let text = super::text(bytes)?;
    super::refuse_html(text)?;
    let mut m = Message::default();
    pass(
        text,
        MessageSeed {
            m: &mut m,
            fill: None,
        },
    )?;
    if !m.errors.is_empty() && m.sets == 0 {
        return Err(Unusable::new(
            "errors",
            format!("the server answered with errors: {}", m.errors.join("; ")),
        ));
    }
    if !m.saw_frame {
        return Err(Unusable::new(
            "(body)",
            "no \"dataSets\" nor \"data\": not an SDMX-JSON data message",
        ));
    }
    let want = opts.time_dimension.as_deref();
    let resolves: Vec<Option<Resolve>> = m
        .structures
        .iter()
        .map(|s| Some(Resolve::new(s, want)))
        .collect();
    let mut cube = Cube {
        title: m.structures.first().and_then(|s| s.name.0.clone()),
        ..Default::default()
    };
    if let Some(st) = m.structures.first() {
        let d = &st.dimensions;
        for c in d.data_set.iter().chain(&d.series).chain(&d.observation) {
            if c.is_time(want) {
                continue;
            }
            if let Some(n) = &c.name.0 {
                cube.dim_names.insert(c.id.clone(), n.clone());
            }
            for v in &c.values {
                if let Some(n) = &v.name.0 {
                    cube.code_names
                        .insert((c.id.clone(), v.id.clone()), n.clone());
                }
            }
        }
    }
    let mut fill = Filling {
        cube,
        resolves: &resolves,
        keyed: HashMap::new(),
        index: HashMap::new(),
        dims_fixed: false,
        set: 0,
        structure: 0,
        skip: false,
        bad_keys: 0,
        full: Vec::new(),
        key: Vec::new(),
    };
    let mut again = Message::default();
    pass(
        text,
        MessageSeed {
            m: &mut again,
            fill: Some(&mut fill),
        },
    )?;
    Ok(fill.cube)
}

fn clean(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"{"header":{"id":"x"},
      "structure":{"name":"Exchange rates","dimensions":{"dataSet":[],
        "series":[{"id":"FREQ","values":[{"id":"M","name":"Monthly"}]},{"id":"CURRENCY","name":"Currency","values":[{"id":"USD","name":"US dollar"},{"id":"JPY","name":"Yen"}]}],
        "observation":[{"id":"TIME_PERIOD","values":[{"id":"2024-01"},{"id":"2024-02"},{"id":"2024-M03"}]}]},
        "attributes":{"dataSet":[],"series":[{"id":"UNIT_MULT","values":[{"id":"3"}]}],
          "observation":[{"id":"OBS_STATUS","values":[{"id":"A"},{"id":"P"}]}]}},
      "dataSets":[{"action":"Information","series":{
        "0:0":{"attributes":[0],"observations":{"0":[1.5,0],"1":[null,0],"2":["2,5",1]}},
        "0:1":{"attributes":[null],"observations":{"0":[150],"9":[1]}}}}]}"#;

    #[test]
    fn version_1_time_series() {
        let c = super::super::StatsFormat::SdmxJson
            .read(V1.as_bytes(), &ReadOptions::default())
            .unwrap();
        assert_eq!(c.dims, ["FREQ", "CURRENCY"]);
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.key_text(0), "M.USD");
        // UNIT_MULT 3 applied; null is missing; "2,5" read; status kept.
        let usd: Vec<_> = c.obs.iter().filter(|o| o.series == 0).collect();
        assert_eq!(usd[0].value, Some(1500.0));
        assert_eq!(usd[1].value, None);
        assert_eq!(usd[2].value, Some(2500.0));
        assert_eq!(usd[2].status.unwrap().as_str(), "P");
        assert_eq!(usd[2].period.to_string(), "2024-03");
        assert_eq!(c.code_names[&("CURRENCY".into(), "JPY".into())], "Yen");
        // The observation at position 9 has no period: a problem, the rest kept.
        assert_eq!(c.obs.iter().filter(|o| o.series == 1).count(), 1);
        assert!(
            c.problems
                .iter()
                .any(|p| p.message.contains("1 observations")),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn version_2_flat_with_time_among_all_dimensions() {
        let doc = r#"{"meta":{"schema":"x"},"data":{"structures":[{"name":{"en":"GDP"},
          "dimensions":{"observation":[{"id":"REF_AREA","values":[{"id":"VN-HN"},{"id":"VN-SG"}]},
             {"id":"TIME_PERIOD","roles":["TIME_PERIOD"],"values":[{"id":"2023"},{"id":"2024-Q1"}]},
             {"id":"MEASURE","values":[{"id":"GDP"}]}]},
          "attributes":{"observation":[]},"measures":{"observation":[{"id":"OBS_VALUE"}]}}],
          "dataSets":[{"structure":0,"action":"Replace","observations":{"0:0:0":[10],"1:1:0":["na"],"1:0:0":[3]}}]}}"#;
        let c = super::super::StatsFormat::SdmxJson
            .read(doc.as_bytes(), &ReadOptions::default())
            .unwrap();
        assert_eq!(c.dims, ["REF_AREA", "MEASURE"]);
        assert_eq!(c.title.as_deref(), Some("GDP"));
        assert_eq!(c.obs.len(), 3);
        assert_eq!(c.counts(), (2, 1));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
    }

    #[test]
    fn bad_messages_say_where() {
        let opts = ReadOptions::default();
        let e = read(
            b"{\"dataSets\":[{\"series\":{\"0\":{\"observations\":{\"0\":[1,}}}}]}",
            &opts,
        )
        .unwrap_err();
        assert!(e.place.starts_with("line 1"), "{e}");
        let e = read(b"<!DOCTYPE html><html><body>Login</body></html>", &opts).unwrap_err();
        assert!(e.message.contains("HTML"), "{e}");
        let e = read(b"{\"foo\":1}", &opts).unwrap_err();
        assert!(e.message.contains("not an SDMX-JSON"), "{e}");
        // A trailing NUL byte is not an error.
        let mut v = V1.as_bytes().to_vec();
        v.push(0);
        assert!(read(&v, &opts).is_ok());
    }
}
