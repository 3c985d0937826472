//! Vietnamese-first formatting of times, dates and ages.

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};

use crate::i18n::{Lang, tr, tr_args};

/// Vietnam's time zone: Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving since 1975).
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

pub fn to_vietnam_time(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&vietnam_offset())
}

/// dd/mm/yyyy, the Vietnamese date order (used in both languages for one wall, one format).
pub fn date(t: DateTime<FixedOffset>) -> String {
    format!("{:02}/{:02}/{:04}", t.day(), t.month(), t.year())
}

/// HH:MM or HH:MM:SS, 24-hour.
pub fn time(t: DateTime<FixedOffset>, seconds: bool) -> String {
    if seconds {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

/// The weekday's name ("Chủ nhật", "Thứ hai", …).
pub fn weekday(lang: Lang, t: DateTime<FixedOffset>) -> &'static str {
    use chrono::Weekday::*;
    let key = match t.weekday() {
        Mon => "weekday.mon",
        Tue => "weekday.tue",
        Wed => "weekday.wed",
        Thu => "weekday.thu",
        Fri => "weekday.fri",
        Sat => "weekday.sat",
        Sun => "weekday.sun",
    };
    tr(lang, key)
}

/// An integer with thousands grouped the way the language writes them: 4.628 (vi), 4,628 (en).
pub fn integer(lang: Lang, n: i64) -> String {
    let sep = match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A number with `decimals` decimals, grouped and with the language's decimal mark:
/// 1.234,5 (vi), 1,234.5 (en).
pub fn number(lang: Lang, value: f64, decimals: u8) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    let decimals = decimals.min(6) as usize;
    let s = format!("{:.*}", decimals, value.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int: i64 = int.parse().unwrap_or(0);
    // Round-trip through integer() for the grouping; keep the sign of values that round to 0.
    let negative = value < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = if negative {
        "-".to_owned()
    } else {
        String::new()
    };
    out.push_str(&integer(lang, int));
    if !frac.is_empty() {
        out.push(match lang {
            Lang::Vi => ',',
            Lang::En => '.',
        });
        out.push_str(frac);
    }
    out
}

/// A number shortened for an axis: 1,2 nghìn / 3,4 triệu (vi), 1.2k / 3.4M (en).
pub fn compact(lang: Lang, value: f64) -> String {
    let a = value.abs();
    let (div, suffix_key) = if a >= 1e9 {
        (1e9, Some("number.billion"))
    } else if a >= 1e6 {
        (1e6, Some("number.million"))
    } else if a >= 1e4 {
        (1e3, Some("number.thousand"))
    } else {
        (1.0, None)
    };
    let v = value / div;
    let decimals = if div == 1.0 {
        if a >= 100.0 || a == a.round() {
            0
        } else if a >= 10.0 {
            1
        } else {
            2
        }
    } else if v.abs() >= 100.0 {
        0
    } else {
        1
    };
    let suffix = suffix_key.map_or("", |k| tr(lang, k));
    format!("{}{suffix}", number(lang, v, decimals))
}

/// A reporting period as people write it: "T3/2024", "Quý I/2024", "2024" (vi);
/// "Mar 2024", "Q1 2024", "2024" (en).
pub fn period(lang: Lang, p: crate::model::PeriodKey) -> String {
    use crate::model::PeriodKind;
    let text = p.to_string();
    let year = p.year_number();
    match p.kind() {
        PeriodKind::Yearly => text,
        PeriodKind::Monthly => {
            let m: usize = text[5..].parse().unwrap_or(1);
            tr_args(
                lang,
                "period.month",
                &[
                    ("m", &m),
                    ("name", &tr(lang, MONTHS[m.clamp(1, 12) - 1])),
                    ("year", &year),
                ],
            )
        }
        PeriodKind::Quarterly => quarter(lang, text[6..].parse().unwrap_or(1), year as i32),
        PeriodKind::HalfYearly if text.ends_with('1') => {
            tr_args(lang, "period.half1", &[("year", &year)])
        }
        PeriodKind::HalfYearly => tr_args(lang, "period.half2", &[("year", &year)]),
        PeriodKind::Weekly => tr_args(
            lang,
            "period.week",
            &[
                ("w", &text[6..].parse::<u8>().unwrap_or(1)),
                ("year", &year),
            ],
        ),
        PeriodKind::Daily => p.start().format("%d/%m/%Y").to_string(),
    }
}

const MONTHS: [&str; 12] = [
    "month.jan",
    "month.feb",
    "month.mar",
    "month.apr",
    "month.may",
    "month.jun",
    "month.jul",
    "month.aug",
    "month.sep",
    "month.oct",
    "month.nov",
    "month.dec",
];

/// "Quý III/2026" (vi), "Q3 2026" (en).
pub fn quarter(lang: Lang, q: u32, year: i32) -> String {
    let q = q.clamp(1, 4);
    let roman = ["I", "II", "III", "IV"][(q - 1) as usize];
    tr_args(
        lang,
        "period.quarter",
        &[("q", &q), ("roman", &roman), ("year", &year)],
    )
}

/// How old data is, in words: "vừa xong", "12 giây trước", "3 phút trước", …
pub fn age(lang: Lang, age: chrono::Duration) -> String {
    let s = age.num_seconds().max(0);
    if s < 5 {
        tr(lang, "age.just_now").to_owned()
    } else if s < 60 {
        tr_args(lang, "age.seconds", &[("n", &s)])
    } else if s < 3600 {
        tr_args(lang, "age.minutes", &[("n", &(s / 60))])
    } else if s < 86_400 {
        tr_args(lang, "age.hours", &[("n", &(s / 3600))])
    } else {
        tr_args(lang, "age.days", &[("n", &(s / 86_400))])
    }
}

/// A unit's short name: "Huyện Ba Tri" → "Ba Tri" keeps labels short on the wall.
pub fn short_unit_name(u: &crate::model::Unit) -> String {
    for prefix in [
        "Thành phố ",
        "Huyện ",
        "Thị xã ",
        "Tỉnh ",
        "Quận ",
        "Xã ",
        "Phường ",
        "Thị trấn ",
    ] {
        if let Some(rest) = u.name.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    u.name.clone()
}

/// The short name of the unit with `id`, or the id when the unit is unknown.
pub fn short_unit_name_of(id: &str, units: &[crate::model::Unit]) -> String {
    units
        .iter()
        .find(|u| u.id == id)
        .map_or_else(|| id.to_owned(), short_unit_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn vietnam_time_is_utc_plus_7_and_dates_are_dd_mm_yyyy() {
        let t = Utc.with_ymd_and_hms(2026, 11, 28, 18, 5, 9).unwrap();
        let vn = to_vietnam_time(t);
        assert_eq!(date(vn), "29/11/2026");
        assert_eq!(time(vn, true), "01:05:09");
        assert_eq!(time(vn, false), "01:05");
        assert_eq!(weekday(Lang::Vi, vn), "Chủ nhật");
        assert_eq!(weekday(Lang::En, vn), "Sunday");
    }

    #[test]
    fn integers_are_grouped_per_language() {
        assert_eq!(integer(Lang::Vi, 4628), "4.628");
        assert_eq!(integer(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(integer(Lang::Vi, -1000), "-1.000");
        assert_eq!(integer(Lang::Vi, 999), "999");
        assert_eq!(integer(Lang::Vi, 0), "0");
    }

    #[test]
    fn numbers_and_periods_per_language() {
        assert_eq!(number(Lang::Vi, 1234.5, 1), "1.234,5");
        assert_eq!(number(Lang::En, 1234.5, 1), "1,234.5");
        assert_eq!(number(Lang::Vi, 4856.0, 0), "4.856");
        assert_eq!(number(Lang::Vi, -2.64, 2), "-2,64");
        assert_eq!(number(Lang::Vi, -0.001, 1), "0,0");
        assert_eq!(number(Lang::Vi, 1_000_000.25, 2), "1.000.000,25");
        assert_eq!(number(Lang::En, f64::NAN, 1), "—");
        assert_eq!(compact(Lang::Vi, 1_750_000.0), "1,8 tr");
        assert_eq!(compact(Lang::En, 25_000.0), "25.0k");
        assert_eq!(compact(Lang::Vi, 7.33), "7,33");
        use crate::model::PeriodKey;
        let p = |s| PeriodKey::parse(s).unwrap();
        assert_eq!(period(Lang::Vi, p("2024-03")), "T3/2024");
        assert_eq!(period(Lang::En, p("2024-03")), "Mar 2024");
        assert_eq!(period(Lang::Vi, p("2024-Q2")), "Quý II/2024");
        assert_eq!(period(Lang::En, p("2024-Q2")), "Q2 2024");
        assert_eq!(period(Lang::Vi, p("2023")), "2023");
    }

    #[test]
    fn ages_in_words() {
        let d = chrono::Duration::seconds;
        assert_eq!(age(Lang::Vi, d(2)), "vừa xong");
        assert_eq!(age(Lang::Vi, d(42)), "42 giây trước");
        assert_eq!(age(Lang::Vi, d(185)), "3 phút trước");
        assert_eq!(age(Lang::En, d(7200)), "2 h ago");
        assert_eq!(age(Lang::En, d(200_000)), "2 d ago");
        assert_eq!(age(Lang::En, d(-30)), "just now");
    }
}
