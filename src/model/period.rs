//! Reporting periods: a year ("2024"), a quarter ("2024-Q1") or a month ("2024-03"), stored in
//! four bytes because the store holds millions of observations.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How often an indicator is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Monthly,
    Quarterly,
    Yearly,
}

impl PeriodKind {
    /// Nominal length in days (used for "stale after one period").
    pub fn days(self) -> i64 {
        match self {
            PeriodKind::Monthly => 31,
            PeriodKind::Quarterly => 92,
            PeriodKind::Yearly => 366,
        }
    }
}

/// A reporting period. Ordered in time within one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeriodKey {
    year: u16,
    /// 0: the whole year; 1..=12: a month; 101..=104: a quarter.
    sub: u8,
}

impl PeriodKey {
    pub fn year(year: u16) -> Self {
        PeriodKey { year, sub: 0 }
    }

    pub fn month(year: u16, month: u8) -> Option<Self> {
        (1..=12)
            .contains(&month)
            .then_some(PeriodKey { year, sub: month })
    }

    pub fn quarter(year: u16, quarter: u8) -> Option<Self> {
        (1..=4).contains(&quarter).then_some(PeriodKey {
            year,
            sub: 100 + quarter,
        })
    }

    pub fn kind(self) -> PeriodKind {
        match self.sub {
            0 => PeriodKind::Yearly,
            1..=12 => PeriodKind::Monthly,
            _ => PeriodKind::Quarterly,
        }
    }

    pub fn year_number(self) -> u16 {
        self.year
    }

    /// The period of `kind` that contains `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Self {
        let year = date.year().clamp(0, u16::MAX as i32) as u16;
        match kind {
            PeriodKind::Yearly => PeriodKey::year(year),
            PeriodKind::Monthly => PeriodKey {
                year,
                sub: date.month() as u8,
            },
            PeriodKind::Quarterly => PeriodKey {
                year,
                sub: 100 + (date.month0() / 3) as u8 + 1,
            },
        }
    }

    /// The period just before this one (same kind).
    pub fn previous(self) -> Self {
        match self.kind() {
            PeriodKind::Yearly => PeriodKey::year(self.year.saturating_sub(1)),
            PeriodKind::Monthly if self.sub == 1 => PeriodKey {
                year: self.year.saturating_sub(1),
                sub: 12,
            },
            PeriodKind::Monthly => PeriodKey {
                year: self.year,
                sub: self.sub - 1,
            },
            PeriodKind::Quarterly if self.sub == 101 => PeriodKey {
                year: self.year.saturating_sub(1),
                sub: 104,
            },
            PeriodKind::Quarterly => PeriodKey {
                year: self.year,
                sub: self.sub - 1,
            },
        }
    }

    /// The period after this one (same kind).
    pub fn next_after(self) -> PeriodKey {
        PeriodKey::containing(self.kind(), self.end())
    }

    /// The first day after the period ends.
    pub fn end(self) -> NaiveDate {
        let y = self.year as i32;
        let first = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN);
        match self.kind() {
            PeriodKind::Yearly => first(y + 1, 1),
            PeriodKind::Monthly if self.sub == 12 => first(y + 1, 1),
            PeriodKind::Monthly => first(y, self.sub as u32 + 1),
            PeriodKind::Quarterly if self.sub == 104 => first(y + 1, 1),
            PeriodKind::Quarterly => first(y, (self.sub as u32 - 100) * 3 + 1),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let year: u16 = s.get(..4)?.parse().ok()?;
        match s.get(4..)? {
            "" => Some(PeriodKey::year(year)),
            rest => {
                let rest = rest.strip_prefix('-')?;
                if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
                    PeriodKey::quarter(year, q.parse().ok()?)
                } else if rest.len() == 2 {
                    PeriodKey::month(year, rest.parse().ok()?)
                } else {
                    None
                }
            }
        }
    }
}

impl fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            PeriodKind::Yearly => write!(f, "{:04}", self.year),
            PeriodKind::Monthly => write!(f, "{:04}-{:02}", self.year, self.sub),
            PeriodKind::Quarterly => write!(f, "{:04}-Q{}", self.year, self.sub - 100),
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
                f.write_str("a period like \"2024\", \"2024-Q1\" or \"2024-03\"")
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
        for bad in ["", "24", "2024-13", "2024-Q5", "2024-1", "2024/01", "abcd"] {
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
    }
}
