//! Reporting periods: a year ("2024"), a half ("2024-S1"), a quarter ("2024-Q1"), a month
//! ("2024-03"), an ISO week ("2024-W05") or a day ("2024-03-15"), stored in four bytes because
//! the store holds millions of observations.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How often an indicator is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    HalfYearly,
    Yearly,
}

impl PeriodKind {
    /// Nominal length in days (used for "stale after one period").
    pub fn days(self) -> i64 {
        match self {
            PeriodKind::Daily => 1,
            PeriodKind::Weekly => 7,
            PeriodKind::Monthly => 31,
            PeriodKind::Quarterly => 92,
            PeriodKind::HalfYearly => 184,
            PeriodKind::Yearly => 366,
        }
    }
}

/// A reporting period. Ordered in time within one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeriodKey {
    year: u16,
    /// 0: the whole year; 1..=12: a month; 101..=104: a quarter; 111..=112: a half;
    /// 201..=253: an ISO week (of the ISO year `year`); 1001..=1366: a day of the year.
    sub: u16,
}

const QUARTER: u16 = 100;
const HALF: u16 = 110;
const WEEK: u16 = 200;
const DAY: u16 = 1000;

impl PeriodKey {
    pub fn year(year: u16) -> Self {
        PeriodKey { year, sub: 0 }
    }

    pub fn month(year: u16, month: u8) -> Option<Self> {
        (1..=12).contains(&month).then_some(PeriodKey {
            year,
            sub: month as u16,
        })
    }

    pub fn quarter(year: u16, quarter: u8) -> Option<Self> {
        (1..=4).contains(&quarter).then_some(PeriodKey {
            year,
            sub: QUARTER + quarter as u16,
        })
    }

    pub fn half(year: u16, half: u8) -> Option<Self> {
        (1..=2).contains(&half).then_some(PeriodKey {
            year,
            sub: HALF + half as u16,
        })
    }

    /// ISO week `week` of ISO year `year` (a week 53 only where that year has one).
    pub fn week(year: u16, week: u8) -> Option<Self> {
        NaiveDate::from_isoywd_opt(year as i32, week as u32, chrono::Weekday::Mon)?;
        Some(PeriodKey {
            year,
            sub: WEEK + week as u16,
        })
    }

    pub fn day(date: NaiveDate) -> Option<Self> {
        let year = u16::try_from(date.year()).ok()?;
        Some(PeriodKey {
            year,
            sub: DAY + date.ordinal() as u16,
        })
    }

    pub fn kind(self) -> PeriodKind {
        match self.sub {
            0 => PeriodKind::Yearly,
            1..=12 => PeriodKind::Monthly,
            101..=104 => PeriodKind::Quarterly,
            111..=112 => PeriodKind::HalfYearly,
            201..=253 => PeriodKind::Weekly,
            _ => PeriodKind::Daily,
        }
    }

    pub fn year_number(self) -> u16 {
        self.year
    }

    /// The period's first day.
    pub fn start(self) -> NaiveDate {
        let y = self.year as i32;
        let first = |m: u32| NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN);
        match self.kind() {
            PeriodKind::Yearly => first(1),
            PeriodKind::Monthly => first(self.sub as u32),
            PeriodKind::Quarterly => first((self.sub - QUARTER - 1) as u32 * 3 + 1),
            PeriodKind::HalfYearly => first((self.sub - HALF - 1) as u32 * 6 + 1),
            PeriodKind::Weekly => {
                NaiveDate::from_isoywd_opt(y, (self.sub - WEEK) as u32, chrono::Weekday::Mon)
                    .unwrap_or(NaiveDate::MIN)
            }
            PeriodKind::Daily => {
                NaiveDate::from_yo_opt(y, (self.sub - DAY) as u32).unwrap_or(NaiveDate::MIN)
            }
        }
    }

    /// The period of `kind` that contains `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Self {
        let year = date.year().clamp(0, u16::MAX as i32) as u16;
        let sub = match kind {
            PeriodKind::Yearly => 0,
            PeriodKind::Monthly => date.month() as u16,
            PeriodKind::Quarterly => QUARTER + (date.month0() / 3) as u16 + 1,
            PeriodKind::HalfYearly => HALF + (date.month0() / 6) as u16 + 1,
            PeriodKind::Weekly => {
                let w = date.iso_week();
                return PeriodKey {
                    year: w.year().clamp(0, u16::MAX as i32) as u16,
                    sub: WEEK + w.week() as u16,
                };
            }
            PeriodKind::Daily => DAY + date.ordinal() as u16,
        };
        PeriodKey { year, sub }
    }

    /// The period just before this one (same kind).
    pub fn previous(self) -> Self {
        let before = self.start().pred_opt().unwrap_or(NaiveDate::MIN);
        PeriodKey::containing(self.kind(), before)
    }

    /// The period after this one (same kind).
    pub fn next_after(self) -> PeriodKey {
        PeriodKey::containing(self.kind(), self.end())
    }

    /// The first day after the period ends.
    pub fn end(self) -> NaiveDate {
        let start = self.start();
        let next = match self.kind() {
            PeriodKind::Yearly => start.checked_add_months(chrono::Months::new(12)),
            PeriodKind::HalfYearly => start.checked_add_months(chrono::Months::new(6)),
            PeriodKind::Quarterly => start.checked_add_months(chrono::Months::new(3)),
            PeriodKind::Monthly => start.checked_add_months(chrono::Months::new(1)),
            PeriodKind::Weekly => start.checked_add_days(chrono::Days::new(7)),
            PeriodKind::Daily => start.succ_opt(),
        };
        next.unwrap_or(NaiveDate::MAX)
    }

    /// The canonical forms ("2024", "2024-S1", "2024-Q1", "2024-03", "2024-W05",
    /// "2024-03-15"); sources with other spellings read theirs in `sources::stats::period`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let year: u16 = s.get(..4)?.parse().ok()?;
        if !s.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let rest = s.get(4..)?;
        if rest.is_empty() {
            return Some(PeriodKey::year(year));
        }
        let rest = rest.strip_prefix('-')?;
        let num = |t: &str, len: usize| -> Option<u8> {
            (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
        };
        if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
            PeriodKey::quarter(year, num(q, 1)?)
        } else if let Some(h) = rest.strip_prefix('S').or_else(|| rest.strip_prefix('s')) {
            PeriodKey::half(year, num(h, 1)?)
        } else if let Some(w) = rest.strip_prefix('W').or_else(|| rest.strip_prefix('w')) {
            PeriodKey::week(year, num(w, 2)?)
        } else if rest.len() == 2 {
            PeriodKey::month(year, num(rest, 2)?)
        } else if rest.len() == 5 && rest.as_bytes()[2] == b'-' {
            let m = num(&rest[..2], 2)?;
            let d = num(&rest[3..], 2)?;
            PeriodKey::day(NaiveDate::from_ymd_opt(year as i32, m as u32, d as u32)?)
        } else {
            None
        }
    }
}

impl fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            PeriodKind::Yearly => write!(f, "{:04}", self.year),
            PeriodKind::Monthly => write!(f, "{:04}-{:02}", self.year, self.sub),
            PeriodKind::Quarterly => write!(f, "{:04}-Q{}", self.year, self.sub - QUARTER),
            PeriodKind::HalfYearly => write!(f, "{:04}-S{}", self.year, self.sub - HALF),
            PeriodKind::Weekly => write!(f, "{:04}-W{:02}", self.year, self.sub - WEEK),
            PeriodKind::Daily => write!(f, "{}", self.start().format("%Y-%m-%d")),
        }
    }
}

impl Serialize for PeriodKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PeriodKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PeriodKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a period like \"2024\", \"2024-S1\", \"2024-Q1\", \"2024-03\", \"2024-W05\" or \"2024-03-15\"",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PeriodKey, E> {
                PeriodKey::parse(v)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_round_trip_and_order() {
        for s in ["2024", "2024-Q1", "2024-Q4", "2024-01", "2024-12"] {
            assert_eq!(PeriodKey::parse(s).unwrap().to_string(), s);
        }
        for s in [
            "2024-S1",
            "2024-S2",
            "2024-W01",
            "2020-W53",
            "2024-02-29",
            "2024-12-31",
        ] {
            assert_eq!(PeriodKey::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "",
            "24",
            "2024-13",
            "2024-Q5",
            "2024-1",
            "2024/01",
            "abcd",
            "2024-S3",
            "2021-W53",
            "2023-02-29",
            "+024",
            "2024-Q+1",
        ] {
            assert!(PeriodKey::parse(bad).is_none(), "{bad}");
        }
        assert!(PeriodKey::parse("2023-12").unwrap() < PeriodKey::parse("2024-01").unwrap());
        assert_eq!(
            PeriodKey::parse("2024-01").unwrap().previous().to_string(),
            "2023-12"
        );
        assert_eq!(
            PeriodKey::parse("2024-Q1").unwrap().previous().to_string(),
            "2023-Q4"
        );
        assert_eq!(
            PeriodKey::parse("2024-Q2").unwrap().end(),
            NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()
        );
        let d = NaiveDate::from_ymd_opt(2025, 8, 15).unwrap();
        assert_eq!(
            PeriodKey::containing(PeriodKind::Quarterly, d).to_string(),
            "2025-Q3"
        );
        assert_eq!(
            PeriodKey::containing(PeriodKind::Monthly, d).to_string(),
            "2025-08"
        );
        assert_eq!(
            PeriodKey::containing(PeriodKind::HalfYearly, d).to_string(),
            "2025-S2"
        );
        assert_eq!(
            PeriodKey::containing(PeriodKind::Weekly, d).to_string(),
            "2025-W33"
        );
        // ISO weeks belong to the ISO year: 2021-01-01 is in 2020's week 53.
        let newyear = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
        assert_eq!(
            PeriodKey::containing(PeriodKind::Weekly, newyear).to_string(),
            "2020-W53"
        );
        assert_eq!(
            PeriodKey::parse("2021-W01").unwrap().previous().to_string(),
            "2020-W53"
        );
        assert_eq!(
            PeriodKey::parse("2024-S1").unwrap().previous().to_string(),
            "2023-S2"
        );
        assert_eq!(
            PeriodKey::parse("2024-01-01")
                .unwrap()
                .previous()
                .to_string(),
            "2023-12-31"
        );
        assert_eq!(
            PeriodKey::parse("2024-S1").unwrap().end(),
            NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()
        );
        assert!(PeriodKey::parse("2024-S1").unwrap() < PeriodKey::parse("2024-S2").unwrap());
        assert!(PeriodKey::parse("2024-03-09").unwrap() < PeriodKey::parse("2024-03-10").unwrap());
        assert_eq!(std::mem::size_of::<PeriodKey>(), 4);
    }
}
