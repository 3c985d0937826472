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

/// What was read of one data set, positions not yet resolved.
#[derive(Default)]
struct RawSet {
    structure: usize,
    delete: bool,
    /// Per series: its key positions, and its attribute indices.
    series_keys: Vec<Vec<u16>>,
    series_attrs: Vec<Vec<Option<u32>>>,
    /// Flat observations' keys, `ndims` positions each, one after another.
    flat_keys: Vec<u16>,
    obs: Vec<RawObs>,
    bad_values: Vec<(String, String)>,
}

const NONE16: u16 = u16::MAX;

struct RawObs {
    /// Series index, or `u32::MAX` for a flat observation.
    series: u32,
    /// Observation-level key: the first position (time series), or the flat key's start.
    key: u32,
    value: f64,
    missing: bool,
    attrs: [u16; 3],
}

// ---- the one-pass reader of `dataSets` -------------------------------------------------------

struct DataSetsSeed<'a>(&'a mut Vec<RawSet>);

impl<'de> DeserializeSeed<'de> for DataSetsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSetsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of data sets")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let mut set = RawSet::default();
            if seq.next_element_seed(DataSetSeed(&mut set))?.is_none() {
                return Ok(());
            }
            self.0.push(set);
        }
    }
}

struct DataSetSeed<'a>(&'a mut RawSet);

impl<'de> DeserializeSeed<'de> for DataSetSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSetSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a data set")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let set = self.0;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match k.as_ref() {
                "structure" => set.structure = map.next_value::<usize>()?,
                "action" => {
                    let a: String = map.next_value()?;
                    set.delete = a.eq_ignore_ascii_case("delete");
                }
                "series" => map.next_value_seed(SeriesMapSeed(set))?,
                "observations" => map.next_value_seed(ObsMapSeed { set, series: None })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

fn positions(key: &str) -> Option<Vec<u16>> {
    if key.is_empty() {
        return Some(Vec::new());
    }
    key.split(':').map(|p| p.parse::<u16>().ok()).collect()
}

struct SeriesMapSeed<'a>(&'a mut RawSet);

impl<'de> DeserializeSeed<'de> for SeriesMapSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SeriesMapSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("series keyed by \"0:1:2\"")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let set = self.0;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let Some(pos) = positions(&k) else {
                set.bad_values.push((
                    format!("series[\"{k}\"]"),
                    "a series key that is not positions".into(),
                ));
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let index = set.series_keys.len() as u32;
            set.series_keys.push(pos);
            set.series_attrs.push(Vec::new());
            map.next_value_seed(OneSeriesSeed { set, index })?;
        }
        Ok(())
    }
}

struct OneSeriesSeed<'a> {
    set: &'a mut RawSet,
    index: u32,
}

impl<'de> DeserializeSeed<'de> for OneSeriesSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneSeriesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a series")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match k.as_ref() {
                "attributes" => {
                    // Indices; anything else a sender put there (objects) is no index.
                    let a: Vec<Option<Scalar>> = map.next_value()?;
                    self.set.series_attrs[self.index as usize] = a
                        .into_iter()
                        .map(|x| match x {
                            Some(Scalar::Num(n)) if n >= 0.0 && n < u32::MAX as f64 => {
                                Some(n as u32)
                            }
                            _ => None,
                        })
                        .collect();
                }
                "observations" => map.next_value_seed(ObsMapSeed {
                    set: self.set,
                    series: Some(self.index),
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct ObsMapSeed<'a> {
    set: &'a mut RawSet,
    series: Option<u32>,
}

impl<'de> DeserializeSeed<'de> for ObsMapSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObsMapSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("observations keyed by position")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let set = self.set;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let key = match self.series {
                Some(_) => k.parse::<u32>().ok(),
                None => positions(&k).map(|p| {
                    let start = set.flat_keys.len() as u32;
                    set.flat_keys.extend(p);
                    set.flat_keys.push(NONE16); // end marker
                    start
                }),
            };
            let Some(key) = key else {
                set.bad_values.push((
                    format!("observations[\"{k}\"]"),
                    "a key that is not positions".into(),
                ));
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let (value, missing, attrs, bad) = map.next_value::<ObsArray>()?.0;
            if let Some(bad) = bad {
                set.bad_values.push((
                    format!("observations[\"{k}\"]"),
                    format!("\"{bad}\" is not a number"),
                ));
            }
            set.obs.push(RawObs {
                series: self.series.unwrap_or(u32::MAX),
                key,
                value,
                missing,
                attrs,
            });
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

// ---- the message's frame (1.0 and 2.x) --------------------------------------------------------

#[derive(Default)]
struct Message {
    structures: Vec<Structure>,
    sets: Vec<RawSet>,
    errors: Vec<String>,
    saw_frame: bool,
}

struct MessageSeed<'a>(&'a mut Message);

impl<'de> DeserializeSeed<'de> for MessageSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MessageSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an SDMX-JSON data message (an object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let m = self.0;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match k.as_ref() {
                // 1.0
                "structure" => {
                    m.saw_frame = true;
                    m.structures.push(map.next_value()?);
                }
                "dataSets" => {
                    m.saw_frame = true;
                    map.next_value_seed(DataSetsSeed(&mut m.sets))?;
                }
                // 2.x
                "data" => {
                    m.saw_frame = true;
                    map.next_value_seed(MessageSeed(&mut *m))?;
                }
                "structures" => {
                    let s: Vec<Structure> = map.next_value()?;
                    m.structures.extend(s);
                }
                "errors" => {
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

/// Reads an SDMX-JSON data message.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Cube, Unusable> {
    let text = super::text(bytes)?;
    super::refuse_html(text)?;
    let mut m = Message::default();
    let mut de = serde_json::Deserializer::from_str(text);
    MessageSeed(&mut m)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            Unusable::new(
                format!("line {}, column {}", e.line(), e.column()),
                clean(&e),
            )
        })?;
    if !m.errors.is_empty() && m.sets.is_empty() {
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
    resolve(m, opts)
}

fn clean(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

fn resolve(m: Message, opts: &ReadOptions) -> Result<Cube, Unusable> {
    let mut cube = Cube::default();
    let want_time = opts.time_dimension.as_deref();
    let mut index: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut dims_fixed = false;
    for (si, set) in m.sets.into_iter().enumerate() {
        for (place, message) in &set.bad_values {
            cube.problem(format!("dataSets[{si}].{place}"), message.clone());
        }
        if set.delete {
            cube.problem(
                format!("dataSets[{si}]"),
                "a Delete action: nothing to show",
            );
            continue;
        }
        let Some(st) = m.structures.get(set.structure).or(m.structures.first()) else {
            return Err(Unusable::new(
                format!("dataSets[{si}].structure"),
                "no structure describes this data set",
            ));
        };
        if cube.title.is_none() {
            cube.title = st.name.0.clone();
        }
        let d = &st.dimensions;
        // Every dimension in key order, with the level it sits at.
        let all: Vec<(&Component, u8)> = d
            .data_set
            .iter()
            .map(|c| (c, 0))
            .chain(d.series.iter().map(|c| (c, 1)))
            .chain(d.observation.iter().map(|c| (c, 2)))
            .collect();
        // The time dimension: named or with the time role, else the one whose values all read
        // as periods (observation level first).
        let by_values = || {
            all.iter().rposition(|(c, _)| {
                !c.values.is_empty()
                    && c.values
                        .iter()
                        .all(|v| super::period::parse(&v.id).is_some())
            })
        };
        let Some(time_at) = all
            .iter()
            .position(|(c, _)| c.is_time(want_time))
            .or_else(by_values)
        else {
            cube.problem(
                format!("dataSets[{si}]"),
                format!(
                    "no time dimension (its dimensions are {}): nothing to show over time",
                    all.iter()
                        .map(|(c, _)| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        let others: Vec<usize> = (0..all.len()).filter(|&i| i != time_at).collect();
        let ids: Vec<String> = others.iter().map(|&i| all[i].0.id.clone()).collect();
        if !dims_fixed {
            cube.dims = ids.clone();
            dims_fixed = true;
            for &i in &others {
                let c = all[i].0;
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
        } else if cube.dims != ids {
            cube.problem(
                format!("dataSets[{si}]"),
                "its dimensions differ from the first data set's: skipped",
            );
            continue;
        }
        let periods: Vec<Option<PeriodKey>> = all[time_at]
            .0
            .values
            .iter()
            .map(|v| super::period::parse(&v.id))
            .collect();
        for (i, p) in periods.iter().enumerate() {
            if p.is_none() {
                cube.problem(
                    format!("{}.values[{i}]", all[time_at].0.id),
                    format!("period \"{}\" cannot be read", all[time_at].0.values[i].id),
                );
            }
        }
        // Attribute positions that matter.
        let a = &st.attributes;
        let find = |list: &[Component], id: &str| list.iter().position(|c| c.id == id);
        let status_at = find(&a.observation, "OBS_STATUS").filter(|&i| i < 3);
        let mult_series = find(&a.series, "UNIT_MULT");
        let mult_set = a
            .data_set
            .iter()
            .find(|c| c.id == "UNIT_MULT")
            .and_then(|c| c.values.first())
            .and_then(|v| v.id.parse::<i32>().ok());
        let unit_series = find(&a.series, "UNIT_MEASURE");
        let unit_set = a
            .data_set
            .iter()
            .find(|c| c.id == "UNIT_MEASURE")
            .and_then(|c| c.values.first())
            .map(|v| v.name.0.clone().unwrap_or_else(|| v.id.clone()));
        let code_of = |level_pos: usize, pos: u16| -> Option<&str> {
            all[level_pos]
                .0
                .values
                .get(pos as usize)
                .map(|v| v.id.as_str())
        };
        let n_set = d.data_set.len();
        let n_series = d.series.len();
        let mut full: Vec<u16> = vec![0; all.len()];
        let mut keyed: HashMap<Vec<u16>, u32> = HashMap::new();
        let mut series_of_raw: Vec<Option<u32>> = vec![None; set.series_keys.len()];
        let mut bad_keys = 0usize;
        for o in &set.obs {
            // Fill the full key: data-set level (single value), series level, observation level.
            for slot in full.iter_mut().take(n_set) {
                *slot = 0;
            }
            if o.series != u32::MAX {
                let Some(sk) = set.series_keys.get(o.series as usize) else {
                    continue;
                };
                if sk.len() != n_series {
                    bad_keys += 1;
                    continue;
                }
                full[n_set..n_set + n_series].copy_from_slice(sk);
                if all.len() > n_set + n_series {
                    full[n_set + n_series] = o.key.min(u16::MAX as u32) as u16;
                }
            } else {
                let start = o.key as usize;
                let key = &set.flat_keys[start..];
                let len = key.iter().position(|&p| p == NONE16).unwrap_or(key.len());
                if len != all.len() - n_set {
                    bad_keys += 1;
                    continue;
                }
                full[n_set..].copy_from_slice(&key[..len]);
            }
            let Some(Some(period)) = periods.get(full[time_at] as usize) else {
                bad_keys += 1;
                continue;
            };
            let other_key: Vec<u16> = others.iter().map(|&i| full[i]).collect();
            let s = if let Some(&s) = keyed.get(&other_key) {
                s
            } else {
                let mut codes: Vec<&str> = Vec::with_capacity(others.len());
                let mut ok = true;
                for &i in &others {
                    match code_of(i, full[i]) {
                        Some(c) => codes.push(c),
                        None => ok = false,
                    }
                }
                if !ok {
                    bad_keys += 1;
                    continue;
                }
                let s = cube.series_id(&codes, &mut index);
                // Series attributes: UNIT_MULT and the unit of measure.
                let attrs = (o.series != u32::MAX)
                    .then(|| set.series_attrs.get(o.series as usize))
                    .flatten();
                let attr = |at: Option<usize>| -> Option<&Value> {
                    let at = at?;
                    let idx = (*attrs?.get(at)?)?;
                    a.series.get(at)?.values.get(idx as usize)
                };
                let sk = &mut cube.series[s as usize];
                sk.unit_mult = attr(mult_series)
                    .and_then(|v| v.id.parse().ok())
                    .or(mult_set)
                    .or(sk.unit_mult);
                sk.unit = attr(unit_series)
                    .map(|v| v.name.0.clone().unwrap_or_else(|| v.id.clone()))
                    .or_else(|| unit_set.clone())
                    .or(sk.unit.take());
                keyed.insert(other_key, s);
                if o.series != u32::MAX {
                    series_of_raw[o.series as usize] = Some(s);
                }
                s
            };
            let status = status_at
                .map(|i| o.attrs[i])
                .filter(|&x| x != NONE16)
                .and_then(|x| a.observation[status_at?].values.get(x as usize))
                .and_then(|v| ObsStatus::new(&v.id));
            cube.obs.push(super::Obs {
                series: s,
                period: *period,
                value: (!o.missing).then_some(o.value),
                status,
            });
        }
        if bad_keys > 0 {
            cube.problem(
                format!("dataSets[{si}]"),
                format!("{bad_keys} observations with keys or periods the structure does not have: skipped"),
            );
        }
    }
    Ok(cube)
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
