//! The quarterly report (regulation Điều 6.5): incidents received in a quarter, by unit and by
//! category: received, resolved, resolved on time and the on-time rate, rejected, overdue, and the
//! median and 90th-percentile handling time. Written as CSV (every unit × category) and as a
//! one-page PDF (totals by unit and by category) for the province.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::format;
use crate::i18n::{Lang, tr, tr_args};
use crate::model::{ActionKind, Category, Incident, IncidentStatus, Timestamp, Unit};

/// A calendar quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quarter {
    pub year: i32,
    pub q: u32,
}

impl Quarter {
    /// "2026Q3", "2026-Q3" or "2026-q3".
    pub fn parse(s: &str) -> Option<Quarter> {
        let s = s.trim().to_ascii_uppercase().replace('-', "");
        let (y, q) = s.split_once('Q')?;
        let q: u32 = q.parse().ok()?;
        let year: i32 = y.parse().ok()?;
        ((1..=4).contains(&q) && (1970..=9999).contains(&year)).then_some(Quarter { year, q })
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.q - 1) * 3 + 1, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn end(self) -> NaiveDate {
        if self.q == 4 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.q * 3 + 1, 1)
        }
        .unwrap_or(NaiveDate::MAX)
    }

    /// The quarter before the one containing `date` (the last complete quarter).
    pub fn last_complete(date: NaiveDate) -> Quarter {
        let q = date.month0() / 3 + 1;
        if q == 1 {
            Quarter {
                year: date.year() - 1,
                q: 4,
            }
        } else {
            Quarter {
                year: date.year(),
                q: q - 1,
            }
        }
    }

    pub fn label(self, lang: Lang) -> String {
        format::quarter(lang, self.q, self.year)
    }
}

/// Figures for one group of incidents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub received: usize,
    pub resolved: usize,
    pub on_time: usize,
    pub rejected: usize,
    pub overdue: usize,
    /// Hours from reception to resolution, per resolved incident.
    handling: Vec<f64>,
}

impl Figures {
    fn add(&mut self, i: &Incident, now: Timestamp) {
        self.received += 1;
        let resolved_at = i
            .history
            .iter()
            .rev()
            .find(|h| h.action == ActionKind::Resolve)
            .map(|h| h.at);
        match (i.status, resolved_at) {
            (IncidentStatus::Resolved, Some(at)) => {
                self.resolved += 1;
                self.handling
                    .push((at - i.received_at).num_seconds() as f64 / 3600.0);
                if at <= i.due_at {
                    self.on_time += 1;
                } else {
                    self.overdue += 1;
                }
            }
            (IncidentStatus::Rejected, _) => self.rejected += 1,
            (s, _) if !s.is_closed() && now > i.due_at => self.overdue += 1,
            _ => {}
        }
    }

    fn merge(&mut self, o: &Figures) {
        self.received += o.received;
        self.resolved += o.resolved;
        self.on_time += o.on_time;
        self.rejected += o.rejected;
        self.overdue += o.overdue;
        self.handling.extend_from_slice(&o.handling);
    }

    /// Resolved on time over resolved, in percent.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.on_time as f64 * 100.0 / self.resolved as f64)
    }

    /// The `p`-quantile (0..=1) of the handling time in hours (nearest rank).
    pub fn handling_quantile(&self, p: f64) -> Option<f64> {
        if self.handling.is_empty() {
            return None;
        }
        let mut v = self.handling.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[rank - 1])
    }
}

/// The quarterly report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub quarter: Quarter,
    pub generated: Timestamp,
    /// (unit name, category name) → figures, for the CSV.
    pub cells: BTreeMap<(String, String), Figures>,
    pub by_unit: BTreeMap<String, Figures>,
    pub by_category: BTreeMap<String, Figures>,
    pub total: Figures,
}

/// Builds the report of `quarter` from `incidents` (those received in the quarter).
pub fn build<'a>(
    incidents: impl IntoIterator<Item = &'a Incident>,
    units: &[Unit],
    categories: &[Category],
    quarter: Quarter,
    now: Timestamp,
    lang: Lang,
) -> Report {
    let (start, end) = (quarter.start(), quarter.end());
    let unit_name = |id: &str| {
        units
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_owned(), |u| u.name.clone())
    };
    let cat_name = |id: &str| {
        categories.iter().find(|c| c.id == id).map_or_else(
            || id.to_owned(),
            |c| {
                if lang == Lang::Vi {
                    c.name_vi.clone()
                } else {
                    c.name_en.clone()
                }
            },
        )
    };
    let mut report = Report {
        quarter,
        generated: now,
        cells: BTreeMap::new(),
        by_unit: BTreeMap::new(),
        by_category: BTreeMap::new(),
        total: Figures::default(),
    };
    for i in incidents {
        let day = format::to_vietnam_time(i.received_at).date_naive();
        if day < start || day >= end {
            continue;
        }
        let mut f = Figures::default();
        f.add(i, now);
        let (u, c) = (unit_name(&i.unit_id), cat_name(&i.category));
        report
            .cells
            .entry((u.clone(), c.clone()))
            .or_default()
            .merge(&f);
        report.by_unit.entry(u).or_default().merge(&f);
        report.by_category.entry(c).or_default().merge(&f);
        report.total.merge(&f);
    }
    report
}

fn opt(lang: Lang, v: Option<f64>, decimals: u8) -> String {
    v.map(|v| format::number(lang, v, decimals))
        .unwrap_or_default()
}

use crate::util::csv::field as csv_field;

/// CSV (UTF-8 with a byte-order mark so spreadsheet programs read Vietnamese correctly).
/// Numbers are written plainly (a dot for decimals) so that they stay numbers.
pub fn csv(r: &Report, lang: Lang) -> String {
    let mut out = String::from("\u{feff}");
    let header = [
        tr(lang, "report.unit"),
        tr(lang, "report.category"),
        tr(lang, "report.received"),
        tr(lang, "report.resolved"),
        tr(lang, "report.on_time"),
        tr(lang, "report.on_time_rate"),
        tr(lang, "report.rejected"),
        tr(lang, "report.overdue"),
        tr(lang, "report.median_hours"),
        tr(lang, "report.p90_hours"),
    ];
    out.push_str(&header.map(csv_field).join(","));
    out.push('\n');
    let num = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let mut line = |unit: &str, cat: &str, f: &Figures| {
        let cols = [
            csv_field(unit),
            csv_field(cat),
            f.received.to_string(),
            f.resolved.to_string(),
            f.on_time.to_string(),
            num(f.on_time_rate()),
            f.rejected.to_string(),
            f.overdue.to_string(),
            num(f.handling_quantile(0.5)),
            num(f.handling_quantile(0.9)),
        ];
        out.push_str(&cols.join(","));
        out.push('\n');
    };
    let all = tr(lang, "report.all");
    for ((u, c), f) in &r.cells {
        line(u, c, f);
    }
    for (u, f) in &r.by_unit {
        line(u, all, f);
    }
    for (c, f) in &r.by_category {
        line(all, c, f);
    }
    line(all, all, &r.total);
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one A4 landscape page (SVG, turned into PDF by `charts::export::svg_to_pdf`).
pub fn svg(r: &Report, lang: Lang) -> String {
    let (w, h) = (1123.0, 794.0);
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Noto Sans"><rect width="{w}" height="{h}" fill="#ffffff"/>"##
    );
    let text = |s: &mut String, x: f64, y: f64, size: f64, bold: bool, anchor: &str, t: &str| {
        s.push_str(&format!(
            r##"<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="#111827"{}>{}</text>"##,
            if bold { r#" font-weight="bold""# } else { "" },
            esc(t)
        ));
    };
    let vn = format::to_vietnam_time(r.generated);
    text(
        &mut s,
        40.0,
        48.0,
        22.0,
        true,
        "start",
        &tr_args(lang, "report.title", &[("quarter", &r.quarter.label(lang))]),
    );
    text(
        &mut s,
        40.0,
        72.0,
        12.0,
        false,
        "start",
        &tr_args(
            lang,
            "report.subtitle",
            &[(
                "date",
                &format!("{} {}", format::time(vn, false), format::date(vn)),
            )],
        ),
    );
    let t = &r.total;
    let summary = tr_args(
        lang,
        "report.summary",
        &[
            ("received", &format::integer(lang, t.received as i64)),
            ("resolved", &format::integer(lang, t.resolved as i64)),
            ("rate", &opt(lang, t.on_time_rate(), 1)),
            ("rejected", &format::integer(lang, t.rejected as i64)),
            ("overdue", &format::integer(lang, t.overdue as i64)),
            ("median", &opt(lang, t.handling_quantile(0.5), 1)),
            ("p90", &opt(lang, t.handling_quantile(0.9), 1)),
        ],
    );
    text(&mut s, 40.0, 100.0, 13.0, false, "start", &summary);
    // Column heads of the page: short, on two lines.
    let cols = [
        tr(lang, "report.col_received"),
        tr(lang, "report.col_resolved"),
        tr(lang, "report.col_rate"),
        tr(lang, "report.col_rejected"),
        tr(lang, "report.col_overdue"),
        tr(lang, "report.col_median"),
        tr(lang, "report.col_p90"),
    ];
    let table =
        |s: &mut String, x0: f64, y0: f64, title: &str, rows: &BTreeMap<String, Figures>| {
            text(s, x0, y0, 14.0, true, "start", title);
            let name_w = 160.0;
            let col_w = 52.0;
            let mut y = y0 + 22.0;
            for (k, c) in cols.iter().enumerate() {
                let x = x0 + name_w + col_w * (k as f64 + 1.0);
                for (line, part) in c.split('|').enumerate() {
                    text(s, x, y + line as f64 * 11.0, 8.5, true, "end", part);
                }
            }
            y += 11.0;
            for (i, (name, f)) in rows.iter().enumerate() {
                y += 19.0;
                if i % 2 == 0 {
                    s.push_str(&format!(
                        r##"<rect x="{}" y="{}" width="{}" height="19" fill="#f1f5f9"/>"##,
                        x0 - 4.0,
                        y - 13.0,
                        name_w + col_w * cols.len() as f64 + 8.0
                    ));
                }
                let short: String = if name.chars().count() > 27 {
                    name.chars().take(26).collect::<String>() + "…"
                } else {
                    name.clone()
                };
                text(s, x0, y, 10.0, false, "start", &short);
                let values = [
                    format::integer(lang, f.received as i64),
                    format::integer(lang, f.resolved as i64),
                    opt(lang, f.on_time_rate(), 1),
                    format::integer(lang, f.rejected as i64),
                    format::integer(lang, f.overdue as i64),
                    opt(lang, f.handling_quantile(0.5), 1),
                    opt(lang, f.handling_quantile(0.9), 1),
                ];
                for (k, v) in values.iter().enumerate() {
                    text(
                        s,
                        x0 + name_w + col_w * (k as f64 + 1.0),
                        y,
                        10.0,
                        false,
                        "end",
                        v,
                    );
                }
            }
        };
    table(&mut s, 40.0, 140.0, tr(lang, "report.by_unit"), &r.by_unit);
    table(
        &mut s,
        580.0,
        140.0,
        tr(lang, "report.by_category"),
        &r.by_category,
    );
    text(
        &mut s,
        40.0,
        h - 30.0,
        9.0,
        false,
        "start",
        tr(lang, "report.footnote"),
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_parse_and_bound() {
        let q = Quarter::parse("2026Q3").unwrap();
        assert_eq!(
            (q.start().to_string(), q.end().to_string()),
            ("2026-07-01".into(), "2026-10-01".into())
        );
        assert_eq!(
            Quarter::parse("2026-q4").unwrap().end().to_string(),
            "2027-01-01"
        );
        assert!(Quarter::parse("2026Q5").is_none() && Quarter::parse("Q3").is_none());
        assert_eq!(
            Quarter::last_complete(NaiveDate::from_ymd_opt(2026, 2, 3).unwrap()),
            Quarter { year: 2025, q: 4 }
        );
        assert_eq!(q.label(Lang::Vi), "Quý III/2026");
    }
}
