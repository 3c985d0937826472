//! Vietnamese-first formatting of times, dates and ages.

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};

use super::{Lang, tr, tr_args};

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
