//! Ingest benchmark: 100,000 incidents and 1,000,000 indicator observations through the client's
//! parsers into the store, against a plain `serde_json::from_slice` of the same bytes (into
//! `serde_json::Value`) measured in the same run. Prints a Markdown table of times, ratios and
//! peak memory (counted by this binary's allocator).
//!
//! Run: `cargo bench --bench ingest` (release build). Targets: time within 1.5x of the baseline;
//! peak memory above the JSON bytes under 2x the JSON size.

use chrono::{TimeZone, Utc};
use ioc_console::model::*;
use ioc_console::sources::{Resource, Timing, Update, parse_payload};
use ioc_console::store::Store;

#[path = "common/alloc.rs"]
mod alloc_count;
use alloc_count::{Counting, mb, measure};

#[global_allocator]
static ALLOC: Counting = Counting;

fn incidents_json(n: usize) -> Vec<u8> {
    let t0 = Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap();
    let items: Vec<Incident> = (0..n)
        .map(|i| {
            let at = t0 + chrono::Duration::minutes(i as i64 * 5);
            let hist = |k: u32, action, status| HistoryEntry {
                at: at + chrono::Duration::minutes(k as i64 * 30),
                actor: "Trực ban Nguyễn Văn An".into(),
                action,
                status,
                unit_id: None,
                note: None,
            };
            Incident {
                id: format!("PA-20251201-{i:06}"),
                source: IncidentSource::Citizen,
                category: ["flooding", "traffic", "sanitation", "urban_order"][i % 4].into(),
                priority: Priority::Normal,
                status: IncidentStatus::Forwarded,
                unit_id: "bt-ba-tri".into(),
                location: GeoPoint { lat: 10.04 + (i % 100) as f64 * 1e-4, lon: 106.59 },
                address: Some("Quốc lộ 57, đoạn qua thị trấn".into()),
                title: format!("Ngập nước sau triều cường tại khu phố {}", i % 97),
                description: "Người dân phản ánh nước triều dâng cao gây ngập sâu khoảng 30 cm, xe máy đi lại khó khăn, đề nghị kiểm tra và xử lý.".into(),
                media: vec![MediaLink { kind: "image".into(), url: format!("https://ioc.example.gov.vn/media/{i}.jpg") }],
                received_at: at,
                due_at: at + chrono::Duration::hours(72),
                updated_at: at + chrono::Duration::minutes(60),
                version: 3,
                assigned_unit_id: Some("so-xay-dung".into()),
                history: vec![
                    hist(0, ActionKind::Receive, IncidentStatus::Received),
                    hist(1, ActionKind::Verify, IncidentStatus::Verified),
                    hist(2, ActionKind::Forward, IncidentStatus::Forwarded),
                ],
                origin: None,
            }
        })
        .collect();
    serde_json::to_vec(&ListResponse { items, as_of: t0 }).unwrap()
}

fn series_json(series: usize, points: usize) -> Vec<u8> {
    let t0 = Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap();
    let items: Vec<Series> = (0..series)
        .map(|s| Series {
            annotations: Vec::new(),
            indicator_id: format!("indicator_{:03}", s % 40),
            unit_id: format!("unit_{:04}", s / 40),
            points: (0..points)
                .map(|p| Point {
                    period: PeriodKey::month(1950 + (p / 12) as u16, (p % 12) as u8 + 1).unwrap(),
                    value: (s * 31 + p) as f64 * 0.37,
                    updated_at: t0,
                    status: None,
                })
                .collect(),
            missing: Vec::new(),
            origin: None,
        })
        .collect();
    serde_json::to_vec(&ListResponse { items, as_of: t0 }).unwrap()
}

fn row(name: &str, bytes: &[u8], resource: Resource) {
    let baseline = measure(3, || {
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        std::hint::black_box(&v);
    });
    let ours = measure(3, || {
        let (payload, as_of) = parse_payload(resource, bytes, false).unwrap();
        let mut store = Store::connected(Timing::default());
        store.apply(Update::Loaded {
            resource,
            payload,
            as_of,
            fetched_at: as_of,
        });
        std::hint::black_box(&store);
    });
    let ratio = ours.time.as_secs_f64() / baseline.time.as_secs_f64();
    let mem_ratio = ours.peak_extra as f64 / bytes.len() as f64;
    println!(
        "| {name} | {:.1} MB | {:.0} ms | {:.0} ms | **{ratio:.2}x** {} | {:.1} MB | {:.1} MB | **{mem_ratio:.2}x** {} |",
        mb(bytes.len()),
        baseline.time.as_secs_f64() * 1e3,
        ours.time.as_secs_f64() * 1e3,
        if ratio <= 1.5 { "✓" } else { "✗" },
        mb(baseline.peak_extra),
        mb(ours.peak_extra),
        if mem_ratio < 2.0 { "✓" } else { "✗" },
    );
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let incidents = incidents_json(100_000);
    let series = series_json(1_000, 1_000);
    println!(
        "| data | JSON | baseline: serde_json::from_slice → Value | ours: parse + validate + store | time ratio (≤ 1.5x) | baseline peak | ours peak | ours peak / JSON size (< 2x) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    row("100,000 incidents", &incidents, Resource::Incidents);
    row("1,000,000 observations", &series, Resource::Series);
}
