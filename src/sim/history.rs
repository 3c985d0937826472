//! Generates the indicator history of the demo: 24 months (8 quarters, the years since the first
//! published value) before the epoch, at province level and per district where the indicator is
//! reported by unit. Published values are kept exactly; the rest is trend × season × noise.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};

use super::data::{Aggregate, DemoData, IndicatorSpec};
use crate::model::*;
use crate::util::rng::Rng;

/// Days after a period ends by which its value is due.
pub fn grace_days(kind: PeriodKind) -> i64 {
    match kind {
        PeriodKind::Daily => 1,
        PeriodKind::Weekly => 3,
        PeriodKind::Monthly => 10,
        PeriodKind::Quarterly => 20,
        PeriodKind::HalfYearly => 30,
        PeriodKind::Yearly => 60,
    }
}

/// The periods of the history of `kind`, oldest first, the last one being the newest period
/// that ended before `epoch`.
pub fn periods(kind: PeriodKind, epoch: NaiveDate, first_year: Option<u16>) -> Vec<PeriodKey> {
    let current = PeriodKey::containing(kind, epoch);
    let count = match kind {
        PeriodKind::Daily => 730,
        PeriodKind::Weekly => 104,
        PeriodKind::Monthly => 24,
        PeriodKind::Quarterly => 8,
        PeriodKind::HalfYearly => 4,
        PeriodKind::Yearly => {
            let last = current.previous().year_number();
            first_year.map_or(3, |f| (last.saturating_sub(f) + 1).clamp(2, 10)) as usize
        }
    };
    let mut out = Vec::with_capacity(count);
    let mut p = current.previous();
    for _ in 0..count {
        out.push(p);
        p = p.previous();
    }
    out.reverse();
    out
}

fn top_unit(data: &DemoData) -> Option<&Unit> {
    // The province whose districts the demo describes: the one with district children.
    data.province.units.iter().find(|u| {
        u.level == UnitLevel::Province
            && data
                .province
                .units
                .iter()
                .any(|c| c.parent_id.as_deref() == Some(u.id.as_str()))
    })
}

/// Builds every series and the provider status of every indicator.
pub fn indicator_history(
    data: &DemoData,
    rng: &mut Rng,
    epoch: Timestamp,
) -> (BTreeMap<(String, String), Series>, Vec<ProviderStatus>) {
    let mut series = BTreeMap::new();
    let mut providers = Vec::new();
    let Some(top) = top_unit(data) else {
        return (series, providers);
    };
    let districts: Vec<&Unit> = data
        .province
        .units
        .iter()
        .filter(|u| u.parent_id.as_deref() == Some(top.id.as_str()))
        .collect();
    let today = epoch.date_naive();
    for spec in &data.indicators.indicators {
        let mut r = rng.fork(hash(&spec.id));
        let first_year = spec
            .published
            .keys()
            .filter_map(|k| PeriodKey::parse(k))
            .map(|k| k.year_number())
            .min();
        let periods = periods(spec.period, today, first_year);
        let province_values = province_values(spec, &periods, &mut r);
        // The newest period may be late: its value is not there yet.
        let late = r.unit() < spec.late_probability;
        let last_shown = if late {
            periods.len().saturating_sub(1)
        } else {
            periods.len()
        };
        let updated = |p: PeriodKey, r: &mut Rng| -> Timestamp {
            let end = p.end().and_hms_opt(8, 0, 0).unwrap_or_default().and_utc();
            end + Duration::hours((r.range(1.0, grace_days(p.kind()) as f64 * 0.9) * 24.0) as i64)
        };
        let mut push = |unit: &str, values: &[f64], r: &mut Rng| {
            let points = periods[..last_shown]
                .iter()
                .zip(values)
                .map(|(p, v)| Point {
                    period: *p,
                    value: round(*v, spec.decimals),
                    updated_at: updated(*p, r),
                    status: None,
                })
                .filter(|pt| pt.updated_at <= epoch)
                .collect();
            let annotations = annotations(data, spec, &periods[..last_shown], unit == top.id);
            series.insert(
                (spec.id.clone(), unit.to_owned()),
                Series {
                    indicator_id: spec.id.clone(),
                    unit_id: unit.to_owned(),
                    points,
                    annotations,
                    missing: Vec::new(),
                    origin: None,
                },
            );
        };
        push(&top.id, &province_values, &mut r);
        if spec.by_unit && !districts.is_empty() {
            let weights: Vec<f64> = districts.iter().map(|_| r.range(0.5, 1.5)).collect();
            let total: f64 = weights.iter().sum();
            for (d, w) in districts.iter().zip(&weights) {
                let values: Vec<f64> = province_values
                    .iter()
                    .map(|v| {
                        let jitter = 1.0 + spec.noise * 0.5 * r.normal();
                        let v = match spec.aggregate {
                            Aggregate::Sum => v * w / total * jitter,
                            Aggregate::Mean => v * (1.0 + (w - 1.0) * 0.2) * jitter,
                        };
                        clamp(spec, v)
                    })
                    .collect();
                push(&d.id, &values, &mut r);
            }
        }
        let last_update = series
            .get(&(spec.id.clone(), top.id.clone()))
            .and_then(|s| s.points.last())
            .map(|p| p.updated_at);
        let next_due = periods.get(last_shown).copied().unwrap_or_else(|| {
            periods
                .last()
                .copied()
                .unwrap_or(PeriodKey::year(today.year() as u16))
                .next_after()
        });
        let due_at = next_due
            .end()
            .and_hms_opt(17, 0, 0)
            .unwrap_or_default()
            .and_utc()
            + Duration::days(grace_days(spec.period));
        providers.push(ProviderStatus {
            department_id: spec.provider_id.clone(),
            indicator_id: spec.id.clone(),
            last_update,
            due_at,
        });
    }
    (series, providers)
}

/// Notes on a series: dated events inside its periods, and published figures (province level).
fn annotations(
    data: &DemoData,
    spec: &IndicatorSpec,
    periods: &[PeriodKey],
    province: bool,
) -> Vec<Annotation> {
    let ind = &data.indicators;
    let mut out: Vec<Annotation> = ind
        .events
        .iter()
        .filter_map(|e| {
            let p = PeriodKey::containing(spec.period, e.date);
            periods.contains(&p).then(|| Annotation {
                period: p,
                text_vi: e.text_vi.clone(),
                text_en: e.text_en.clone(),
            })
        })
        .collect();
    if province {
        out.extend(
            spec.published
                .keys()
                .filter_map(|k| PeriodKey::parse(k))
                .filter(|p| periods.contains(p))
                .map(|p| Annotation {
                    period: p,
                    text_vi: ind.published_note_vi.clone(),
                    text_en: ind.published_note_en.clone(),
                }),
        );
    }
    out.sort_by_key(|a| a.period);
    out
}

fn province_values(spec: &IndicatorSpec, periods: &[PeriodKey], r: &mut Rng) -> Vec<f64> {
    let per_year = match spec.period {
        PeriodKind::Daily => 365.0,
        PeriodKind::Weekly => 52.0,
        PeriodKind::Monthly => 12.0,
        PeriodKind::Quarterly => 4.0,
        PeriodKind::HalfYearly => 2.0,
        PeriodKind::Yearly => 1.0,
    };
    let mut values: Vec<f64> = periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let years = i as f64 / per_year;
            let season = match p.kind() {
                PeriodKind::Yearly => 0.0,
                _ => {
                    let month = p.end().pred_opt().map_or(1, |d| d.month()) as f64;
                    (2.0 * std::f64::consts::PI * (month - 1.0) / 12.0).sin()
                }
            };
            let v = spec.base
                * (1.0 + spec.trend_per_year).powf(years)
                * (1.0 + spec.seasonal * season)
                * (1.0 + spec.noise * r.normal());
            clamp(spec, v)
        })
        .collect();
    // Published values: exact at their own period; a published year of a monthly or quarterly
    // indicator rescales that year's periods so they add up (or average) to it.
    for (key, published) in &spec.published {
        let Some(k) = PeriodKey::parse(key) else {
            continue;
        };
        if k.kind() == spec.period {
            if let Some(i) = periods.iter().position(|p| *p == k) {
                values[i] = *published;
            }
        } else if k.kind() == PeriodKind::Yearly {
            let idx: Vec<usize> = periods
                .iter()
                .enumerate()
                .filter(|(_, p)| p.year_number() == k.year_number())
                .map(|(i, _)| i)
                .collect();
            if idx.len() as f64 == per_year {
                let sum: f64 = idx.iter().map(|&i| values[i]).sum();
                let current = match spec.aggregate {
                    Aggregate::Sum => sum,
                    Aggregate::Mean => sum / per_year,
                };
                if current.abs() > f64::EPSILON {
                    for i in idx {
                        values[i] *= published / current;
                    }
                }
            }
        }
    }
    values
}

fn clamp(spec: &IndicatorSpec, v: f64) -> f64 {
    let v = spec.min.map_or(v, |m| v.max(m));
    spec.max.map_or(v, |m| v.min(m))
}

fn round(v: f64, decimals: u8) -> f64 {
    let f = 10f64.powi(decimals as i32);
    (v * f).round() / f
}

fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_end_before_the_epoch() {
        let epoch = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let m = periods(PeriodKind::Monthly, epoch, None);
        assert_eq!(m.len(), 24);
        assert_eq!(m.last().unwrap().to_string(), "2026-10");
        assert_eq!(m.first().unwrap().to_string(), "2024-11");
        let q = periods(PeriodKind::Quarterly, epoch, None);
        assert_eq!(q.last().unwrap().to_string(), "2026-Q3");
        let y = periods(PeriodKind::Yearly, epoch, Some(2021));
        assert_eq!(y.first().unwrap().to_string(), "2021");
        assert_eq!(y.last().unwrap().to_string(), "2025");
        assert_eq!(
            PeriodKey::parse("2025-12")
                .unwrap()
                .next_after()
                .to_string(),
            "2026-01"
        );
    }
}
