//! Statistics from sources the IOC vendor did not write: SDMX (JSON, CSV, ML) and JSON-stat
//! (PX-Web). Every reader turns its bytes into one [`Cube`] (series keyed by their dimension
//! codes, observations with period, value or missing, and status); [`mapping`] then says which
//! series are which indicator for which unit. Readers never panic and never stop at the first
//! bad value: a value, period or code they cannot use is a [`Problem`] with its place in the
//! input, and the rest is kept.

pub mod fetch;
pub mod jsonstat;
pub mod mapping;
pub mod number;
pub mod period;
pub mod sdmx_csv;
pub mod sdmx_json;
pub mod sdmx_ml;

use std::collections::HashMap;

use crate::model::{ObsStatus, PeriodKey};

/// Something in the input that could not be used, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Where: "line 12", "byte 3071", "dataSets[0].series[\"0:1\"]", "value[17]".
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Why an input cannot be used at all.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct Unusable {
    pub place: String,
    pub message: String,
}

impl Unusable {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        Unusable {
            place: place.into(),
            message: message.into(),
        }
    }
}

/// One observation: its series, period, value (`None`: missing, never zero) and status.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Obs {
    pub series: u32,
    pub period: PeriodKey,
    pub value: Option<f64>,
    pub status: Option<ObsStatus>,
}

/// A series: one code per dimension of [`Cube::dims`] (interned in [`Cube::codes`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesKey {
    pub codes: Vec<u32>,
    /// Power of ten the values are in (SDMX `UNIT_MULT`), already applied to the values.
    pub unit_mult: Option<i32>,
    /// Unit of measure the source states for the series, when it does.
    pub unit: Option<String>,
}

/// What a reader understood: series and their observations, with names where the input has them.
#[derive(Clone, Debug, Default)]
pub struct Cube {
    /// The dataset's or dataflow's name or id, when the input says it.
    pub title: Option<String>,
    /// Dimension ids of the series keys (the time dimension is not among them).
    pub dims: Vec<String>,
    pub codes: Interner,
    pub series: Vec<SeriesKey>,
    pub obs: Vec<Obs>,
    /// Names of dimensions ("REF_AREA" → "Reference area") and of codes ((dim, code) → name).
    pub dim_names: HashMap<String, String>,
    pub code_names: HashMap<(String, String), String>,
    pub problems: Vec<Problem>,
}

/// Strings stored once (codes repeat over millions of observations).
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    strings: Vec<String>,
}

impl Interner {
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }
    pub fn get(&self, i: u32) -> &str {
        self.strings.get(i as usize).map_or("", String::as_str)
    }
}

/// Problems beyond this many are counted, not kept (a broken million-row file must not make a
/// million messages).
pub const MAX_PROBLEMS: usize = 200;

impl Cube {
    pub fn problem(&mut self, place: impl Into<String>, message: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                place: place.into(),
                message: message.into(),
            });
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems.push(Problem {
                place: "…".into(),
                message: "more problems not listed".into(),
            });
        }
    }

    /// The series with these codes (in `dims` order), added if new. `index` makes the lookup
    /// constant time for readers that see the same series many times.
    pub fn series_id(&mut self, codes: &[&str], index: &mut HashMap<Vec<u32>, u32>) -> u32 {
        let ids: Vec<u32> = codes.iter().map(|c| self.codes.id(c)).collect();
        if let Some(&s) = index.get(&ids) {
            return s;
        }
        let s = self.series.len() as u32;
        self.series.push(SeriesKey {
            codes: ids.clone(),
            ..Default::default()
        });
        index.insert(ids, s);
        s
    }

    /// A series' code of dimension `dim`.
    pub fn code(&self, series: u32, dim: usize) -> &str {
        self.series
            .get(series as usize)
            .and_then(|s| s.codes.get(dim))
            .map_or("", |&c| self.codes.get(c))
    }

    /// The series key as "A.VN.GDP" (codes in dimension order).
    pub fn key_text(&self, series: u32) -> String {
        (0..self.dims.len())
            .map(|d| self.code(series, d))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Applies each series' `UNIT_MULT` to its values (10^mult); a power beyond ±30 (no
    /// statistic is counted in those) is said and not applied.
    pub fn apply_unit_mult(&mut self) {
        let mut odd: Vec<String> = Vec::new();
        for s in 0..self.series.len() {
            if let Some(m) = self.series[s].unit_mult.filter(|m| !(-30..=30).contains(m)) {
                self.series[s].unit_mult = None;
                odd.push(format!(
                    "{}: UNIT_MULT {m} is not a power of ten a statistic uses: not applied",
                    self.key_text(s as u32)
                ));
            }
        }
        for p in odd {
            self.problem("UNIT_MULT", p);
        }
        for o in &mut self.obs {
            if let (Some(v), Some(m)) = (
                o.value,
                self.series.get(o.series as usize).and_then(|s| s.unit_mult),
            ) {
                o.value = Some(v * 10f64.powi(m));
            }
        }
    }

    /// Observations with a value, and missing ones.
    pub fn counts(&self) -> (usize, usize) {
        let present = self.obs.iter().filter(|o| o.value.is_some()).count();
        (present, self.obs.len() - present)
    }
}

/// Input bytes as text: a UTF-8 byte-order mark and trailing NUL bytes (Viet Nam's PX-Web
/// exports end in one) are dropped; anything else that is not UTF-8 is unusable.
pub fn text(bytes: &[u8]) -> Result<&str, Unusable> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let end = bytes
        .iter()
        .rposition(|&b| b != 0 && !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    if bytes.is_empty() {
        return Err(Unusable::new("(body)", "empty"));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Unusable::new(
            format!("byte {}", e.valid_up_to()),
            "not UTF-8 text".to_string(),
        )
    })
}

/// An HTML page where data was expected (a login page, a proxy's error page) is said as such.
pub fn refuse_html(text: &str) -> Result<(), Unusable> {
    let head: String = text
        .trim_start()
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Err(Unusable::new(
            "(body)",
            "an HTML page, not data (a login or error page?)",
        ));
    }
    Ok(())
}

/// Lines and columns of offsets that only grow (a reader going through its input): counted
/// from where the last one was, so a place for every record costs one pass in all.
pub struct Lines<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        Lines {
            text,
            at: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// "line L, column C" of `offset` (an offset before the last one is counted from the start).
    pub fn place(&mut self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        if offset < self.at {
            return line_col(self.text, offset);
        }
        let bytes = &self.text.as_bytes()[self.at..offset];
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                self.line += 1;
                self.line_start = self.at + i + 1;
            }
        }
        self.at = offset;
        format!(
            "line {}, column {}",
            self.line,
            offset - self.line_start + 1
        )
    }
}

/// Line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    format!("line {line}, column {col}")
}

/// Which reader a file or URL needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StatsFormat {
    SdmxJson,
    SdmxCsv,
    SdmxMl,
    Jsonstat,
}

impl StatsFormat {
    pub fn name(self) -> &'static str {
        match self {
            StatsFormat::SdmxJson => "sdmx-json",
            StatsFormat::SdmxCsv => "sdmx-csv",
            StatsFormat::SdmxMl => "sdmx-ml",
            StatsFormat::Jsonstat => "jsonstat",
        }
    }

    /// Reads `bytes` in this format.
    pub fn read(self, bytes: &[u8], opts: &ReadOptions) -> Result<Cube, Unusable> {
        let mut cube = match self {
            StatsFormat::SdmxJson => sdmx_json::read(bytes, opts),
            StatsFormat::SdmxCsv => sdmx_csv::read(bytes, opts),
            StatsFormat::SdmxMl => sdmx_ml::read(bytes, opts),
            StatsFormat::Jsonstat => jsonstat::read(bytes, opts),
        }?;
        cube.apply_unit_mult();
        Ok(cube)
    }
}

/// How to read numbers and time where the input does not say.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    pub decimal: number::DecimalMark,
    /// The time dimension's id when it is not the standard one (JSON-stat, PX-Web).
    pub time_dimension: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_mult_no_statistic_uses_is_said_not_applied() {
        let csv = "DATAFLOW,REF_AREA,TIME_PERIOD,OBS_VALUE,UNIT_MULT\nX:Y(1.0),VN,2024,2,400\nX:Y(1.0),VN-1,2024,2,3\n";
        let c = StatsFormat::SdmxCsv
            .read(csv.as_bytes(), &ReadOptions::default())
            .unwrap();
        assert_eq!(c.obs[0].value, Some(2.0));
        assert_eq!(c.obs[1].value, Some(2000.0));
        assert!(
            c.problems
                .iter()
                .any(|p| p.message.contains("UNIT_MULT 400")),
            "{:?}",
            c.problems
        );
    }
}
