//! Periods as statistics sources write them, read into [`PeriodKey`]: SDMX's "2024", "2024-S1",
//! "2024-Q3", "2024-M03", "2024-03", "2024-W05", "2024-D045", "2024-03-15", "2024-A1", a range
//! "2024-01-01/P1M"; PX-Web's "2024M03", "2024K1", "2024Q1", "2024H1"; labels such as
//! "Prel. 2024", "Sơ bộ 2024", "Quý 3/2024".

use chrono::NaiveDate;

use crate::model::PeriodKey;

/// Reads a period; `None` when it is none of the known spellings.
pub fn parse(s: &str) -> Option<PeriodKey> {
    let s = s.trim();
    if let Some(p) = PeriodKey::parse(s) {
        return Some(p);
    }
    // An interval: its start and duration.
    if let Some((start, dur)) = s
        .split_once('/')
        .filter(|(_, d)| d.trim_start().starts_with('P'))
    {
        let date = NaiveDate::parse_from_str(start.get(..10)?, "%Y-%m-%d").ok()?;
        let kind = match dur.trim() {
            "P1Y" => crate::model::PeriodKind::Yearly,
            "P6M" => crate::model::PeriodKind::HalfYearly,
            "P3M" => crate::model::PeriodKind::Quarterly,
            "P1M" => crate::model::PeriodKind::Monthly,
            "P7D" | "P1W" => crate::model::PeriodKind::Weekly,
            "P1D" => crate::model::PeriodKind::Daily,
            _ => return None,
        };
        return Some(PeriodKey::containing(kind, date));
    }
    if s.len() >= 5 && s.is_char_boundary(4) && s[..4].bytes().all(|b| b.is_ascii_digit()) {
        let year: u16 = s[..4].parse().ok()?;
        let rest = s[4..].strip_prefix('-').unwrap_or(&s[4..]);
        let (tag, num) = rest.split_at(rest.find(|c: char| c.is_ascii_digit())?);
        let n: u32 = num.parse().ok()?;
        return match tag.to_ascii_uppercase().as_str() {
            "A" if n == 1 => Some(PeriodKey::year(year)),
            "S" | "H" => PeriodKey::half(year, u8::try_from(n).ok()?),
            "Q" | "K" => PeriodKey::quarter(year, u8::try_from(n).ok()?),
            "M" => PeriodKey::month(year, u8::try_from(n).ok()?),
            "W" => PeriodKey::week(year, u8::try_from(n).ok()?),
            "D" => PeriodKey::day(NaiveDate::from_yo_opt(year as i32, n)?),
            _ => None,
        };
    }
    label(s)
}

/// A label with one year and words around it ("Prel. 2024", "Sơ bộ 2024", "Năm 2023"), or
/// "Quý 3/2024", "Q3 2024", "T3/2024".
fn label(s: &str) -> Option<PeriodKey> {
    let lower = s.to_lowercase();
    let digits: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .collect();
    match digits.as_slice() {
        [y] if y.len() == 4 => Some(PeriodKey::year(y.parse().ok()?)),
        [n, y] if y.len() == 4 && n.len() <= 2 => {
            let year: u16 = y.parse().ok()?;
            let n: u8 = n.parse().ok()?;
            if lower.starts_with("quý") || lower.starts_with('q') {
                PeriodKey::quarter(year, n)
            } else if lower.starts_with('t') || lower.starts_with("tháng") || lower.starts_with('m')
            {
                PeriodKey::month(year, n)
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_period() {
        for (s, want) in [
            ("2024", "2024"),
            ("2024-A1", "2024"),
            ("2023-S1", "2023-S1"),
            ("2024-Q3", "2024-Q3"),
            ("2024-M03", "2024-03"),
            ("2024M03", "2024-03"),
            ("2024K1", "2024-Q1"),
            ("2024Q2", "2024-Q2"),
            ("2024H2", "2024-S2"),
            ("2024-W05", "2024-W05"),
            ("2024-D045", "2024-02-14"),
            ("2024-03-15", "2024-03-15"),
            ("2024-01-01/P1M", "2024-01"),
            ("2024-07-01/P3M", "2024-Q3"),
            ("Prel. 2024", "2024"),
            ("Sơ bộ 2024", "2024"),
            ("Quý 3/2024", "2024-Q3"),
            ("T3/2024", "2024-03"),
        ] {
            assert_eq!(
                parse(s).map(|p| p.to_string()).as_deref(),
                Some(want),
                "{s}"
            );
        }
        for bad in [
            "",
            "2024-Q257",
            "2024H258",
            "2024-W300",
            "abc",
            "2024-Q9",
            "2024-M13",
            "24",
            "2024-X1",
            "2024-01-01/P2Y",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
