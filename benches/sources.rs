//! Sources benchmark: 100,000 Open311 requests (JSON and XML) and an SDMX message of 1,000,000
//! observations (SDMX-JSON and SDMX-ML structure-specific), each through the path a poll really
//! takes (read, map to incidents or series, load into the store), against a generic parse of the
//! same bytes measured in the same run: `serde_json::from_slice` into `Value` for JSON; for XML
//! both a bare quick-xml event scan (every attribute unescaped, nothing kept) and a roxmltree
//! document. Prints a Markdown table of times, ratios and peak memory (counted by this binary's
//! allocator).
//!
//! Run: `cargo bench --bench sources` (release build). Targets: time within 1.5x of the
//! baseline; peak memory under 2x the input size.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ioc_console::model::PeriodKind;
use ioc_console::sources::open311::{mapping, parse};
use ioc_console::sources::stats::mapping::{IndicatorMap, StatsMapping};
use ioc_console::sources::stats::{ReadOptions, StatsFormat};
use ioc_console::sources::{Resource, SourcePayload, Timing, Update};
use ioc_console::store::Store;

#[path = "common/alloc.rs"]
mod alloc_count;
use alloc_count::{Counting, mb, measure};

#[global_allocator]
static ALLOC: Counting = Counting;

const STATUSES: [&str; 6] = [
    "open",
    "IN_PROGRESS",
    "closed",
    "investigating",
    "FIXED",
    "CONFIRMED",
];
const WARDS: [&str; 8] = [
    "UBND phường 1",
    "UBND phường Phước Hậu",
    "UBND xã Tân Hạnh",
    "UBND xã Long Hồ",
    "UBND phường Trường An",
    "Sở Xây dựng",
    "Công an tỉnh",
    "Công ty Công trình đô thị",
];

fn request(i: usize) -> (String, Vec<(&'static str, String)>) {
    let t0 = Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap();
    let at = t0 + chrono::Duration::minutes(i as i64);
    let id = if i.is_multiple_of(3) {
        format!("{}", 202_600_000_000u64 + i as u64)
    } else {
        format!("PA-{i:07}")
    };
    (
        id.clone(),
        vec![
            ("service_request_id", id),
            ("status", STATUSES[i % STATUSES.len()].to_owned()),
            // The spec's other fields, as servers send them (mostly empty).
            ("status_notes", String::new()),
            ("service_notice", String::new()),
            ("expected_datetime", String::new()),
            ("address_id", String::new()),
            ("zipcode", String::new()),
            ("service_name", "Ổ gà, hư hỏng mặt đường".to_owned()),
            ("service_code", format!("{:03}", i % 12)),
            (
                "description",
                format!(
                    "Người dân phản ánh ổ gà và nước đọng trên tuyến đường số {}, đề nghị kiểm tra, xử lý.",
                    i % 97
                ),
            ),
            ("agency_responsible", WARDS[i % WARDS.len()].to_owned()),
            (
                "requested_datetime",
                at.format("%Y-%m-%dT%H:%M:%S+07:00").to_string(),
            ),
            (
                "updated_datetime",
                (at + chrono::Duration::hours(2))
                    .format("%Y-%m-%dT%H:%M:%S.000+0700")
                    .to_string(),
            ),
            (
                "address",
                format!("Số {} đường Phạm Thái Bường, phường 4", i % 300),
            ),
            ("lat", format!("{:.6}", 10.24 + (i % 1000) as f64 * 1e-5)),
            ("long", format!("{:.6}", 105.96 + (i % 777) as f64 * 1e-5)),
            (
                "media_url",
                format!("https://phananh.example.gov.vn/media/{i}.jpg"),
            ),
        ],
    )
}

fn open311_json(n: usize) -> Vec<u8> {
    let list: Vec<serde_json::Map<String, serde_json::Value>> = (0..n)
        .map(|i| {
            let (_, fields) = request(i);
            fields
                .into_iter()
                .map(|(k, v)| {
                    let v = match k {
                        // Empty fields are null in JSON, as the spec's examples have them.
                        _ if v.is_empty() => serde_json::Value::Null,
                        // Numbers where the spec's examples have numbers.
                        "lat" | "long" => serde_json::Value::from(v.parse::<f64>().unwrap()),
                        "service_request_id" if v.bytes().all(|b| b.is_ascii_digit()) => {
                            serde_json::Value::from(v.parse::<u64>().unwrap())
                        }
                        _ => serde_json::Value::String(v),
                    };
                    (k.to_owned(), v)
                })
                .collect()
        })
        .collect();
    serde_json::to_vec(&list).unwrap()
}

fn open311_xml(n: usize) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests>\n");
    for i in 0..n {
        let (_, fields) = request(i);
        s.push_str("  <request>\n");
        for (k, v) in fields {
            let v = v.replace('&', "&amp;").replace('<', "&lt;");
            let _ = writeln!(s, "    <{k}>{v}</{k}>");
        }
        s.push_str("  </request>\n");
    }
    s.push_str("</service_requests>\n");
    s.into_bytes()
}

fn open311_mapping() -> mapping::Open311Mapping {
    mapping::Open311Mapping {
        default_unit: "vl".into(),
        agencies: WARDS
            .iter()
            .enumerate()
            .map(|(i, w)| ((*w).to_owned(), format!("u{i}")))
            .collect(),
        ..Default::default()
    }
}

/// Open311 read and mapped as a poll does (each request mapped as it is read): the incidents in
/// batches.
fn open311_read(
    bytes: &[u8],
    m: &mapping::Open311Mapping,
) -> (Vec<Vec<ioc_console::model::Incident>>, usize) {
    let from = mapping::From {
        source: "pa",
        name: "Phản ánh",
        writable: false,
    };
    let mut history = HashMap::new();
    let none = |_: &str| None;
    let mut mapper = mapping::Mapper::new(&from, m, &none, &mut history);
    let read = parse::read_each(bytes, &mut |r| mapper.push(r)).unwrap();
    assert!(matches!(read, parse::Read::Records(_)));
    let (batches, _) = mapper.finish_batches();
    let n = batches.iter().map(Vec::len).sum();
    (batches, n)
}

/// Open311 the way a poll takes it: read, map, load into the store.
fn open311_path(bytes: &[u8], m: &mapping::Open311Mapping) -> usize {
    let (incidents, n) = open311_read(bytes, m);
    let mut store = Store::connected(Timing::default());
    store.apply(Update::SourceLoaded {
        source: "pa".into(),
        name: "Phản ánh".into(),
        feeds: vec![Resource::Incidents],
        stale_after: Duration::from_secs(180),
        payload: SourcePayload::Incidents {
            incidents,
            categories: None,
        },
        problems: Vec::new(),
        as_of: Utc::now(),
        fetched_at: Utc::now(),
    });
    std::hint::black_box(&store);
    n
}

/// 1,000 series (250 areas × 4 indicators) of 1,000 months each.
const AREAS: usize = 250;
const INDICATORS: [&str; 4] = ["POP", "CPI", "GRDP", "EXPORT"];
const MONTHS: usize = 1000;

fn month(k: usize) -> String {
    format!("{}-{:02}", 1940 + k / 12, k % 12 + 1)
}

fn sdmx_json() -> Vec<u8> {
    let mut s = String::new();
    s.push_str(r#"{"header":{"id":"BENCH","prepared":"2026-11-01T00:00:00Z"},"structure":{"name":"Bench","dimensions":{"dataSet":[],"series":["#);
    s.push_str(r#"{"id":"FREQ","values":[{"id":"M"}]},{"id":"REF_AREA","values":["#);
    for a in 0..AREAS {
        let _ = write!(
            s,
            r#"{}{{"id":"VN-{a:03}","name":"Tỉnh {a}"}}"#,
            if a > 0 { "," } else { "" }
        );
    }
    s.push_str(r#"]},{"id":"INDICATOR","values":["#);
    for (k, i) in INDICATORS.iter().enumerate() {
        let _ = write!(s, r#"{}{{"id":"{i}"}}"#, if k > 0 { "," } else { "" });
    }
    s.push_str(r#"]}],"observation":[{"id":"TIME_PERIOD","values":["#);
    for k in 0..MONTHS {
        let _ = write!(
            s,
            r#"{}{{"id":"{}"}}"#,
            if k > 0 { "," } else { "" },
            month(k)
        );
    }
    s.push_str(r#"]}]},"attributes":{"dataSet":[],"series":[{"id":"UNIT_MULT","values":[{"id":"0"},{"id":"3"}]}],"observation":[{"id":"OBS_STATUS","values":[{"id":"A"},{"id":"P"},{"id":"M"}]}]}},"dataSets":[{"action":"Information","series":{"#);
    for a in 0..AREAS {
        for (k, _) in INDICATORS.iter().enumerate() {
            let _ = write!(
                s,
                r#"{}"0:{a}:{k}":{{"attributes":[{}],"observations":{{"#,
                if a + k > 0 { "," } else { "" },
                k % 2
            );
            for m in 0..MONTHS {
                let comma = if m > 0 { "," } else { "" };
                if (a + m).is_multiple_of(97) {
                    let _ = write!(s, r#"{comma}"{m}":[null,2]"#);
                } else {
                    let v = ((a * 31 + k * 7 + m) % 10_000) as f64 / 7.0;
                    let _ = write!(
                        s,
                        r#"{comma}"{m}":[{v:.3},{}]"#,
                        usize::from(m + 1 == MONTHS)
                    );
                }
            }
            s.push_str("}}");
        }
    }
    s.push_str("}}]}");
    s.into_bytes()
}

fn sdmx_ml() -> Vec<u8> {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><message:StructureSpecificData xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"><message:Header><message:ID>BENCH</message:ID><message:Structure structureID="X" dimensionAtObservation="TIME_PERIOD"/></message:Header><message:DataSet ss:structureRef="X">
"#,
    );
    for a in 0..AREAS {
        for (k, ind) in INDICATORS.iter().enumerate() {
            let _ = writeln!(
                s,
                r#"<Series FREQ="M" REF_AREA="VN-{a:03}" INDICATOR="{ind}" UNIT_MULT="{}">"#,
                (k % 2) * 3
            );
            for m in 0..MONTHS {
                if (a + m).is_multiple_of(97) {
                    let _ = writeln!(
                        s,
                        r#"<Obs TIME_PERIOD="{}" OBS_VALUE="na" OBS_STATUS="M"/>"#,
                        month(m)
                    );
                } else {
                    let v = ((a * 31 + k * 7 + m) % 10_000) as f64 / 7.0;
                    let _ = writeln!(s, r#"<Obs TIME_PERIOD="{}" OBS_VALUE="{v:.3}"/>"#, month(m));
                }
            }
            s.push_str("</Series>\n");
        }
    }
    s.push_str("</message:DataSet></message:StructureSpecificData>\n");
    s.into_bytes()
}

fn stats_mapping() -> StatsMapping {
    StatsMapping {
        area_dimension: Some("REF_AREA".into()),
        areas: (0..AREAS)
            .map(|a| (format!("VN-{a:03}"), format!("u{a}")))
            .collect(),
        indicators: INDICATORS
            .iter()
            .map(|i| IndicatorMap {
                id: i.to_lowercase(),
                select: [("INDICATOR".to_owned(), (*i).to_owned())].into(),
                period: Some(PeriodKind::Monthly),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// Statistics the way a poll takes them: read, map, load into the store.
fn stats_path(bytes: &[u8], format: StatsFormat, m: &StatsMapping) -> usize {
    let cube = format.read(bytes, &ReadOptions::default()).unwrap();
    let n = cube.obs.len();
    let mapped = ioc_console::sources::stats::mapping::map(&cube, m, "gso", Utc::now());
    drop(cube);
    let mut store = Store::connected(Timing::default());
    store.apply(Update::SourceLoaded {
        source: "gso".into(),
        name: "GSO".into(),
        feeds: vec![Resource::Series, Resource::Indicators],
        stale_after: Duration::from_secs(3600),
        payload: SourcePayload::Stats {
            indicators: mapped.indicators,
            series: mapped.series,
        },
        problems: Vec::new(),
        as_of: Utc::now(),
        fetched_at: Utc::now(),
    });
    std::hint::black_box(&store);
    n
}

fn json_baseline(bytes: &[u8]) {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    std::hint::black_box(&v);
}

/// Every event and every attribute value unescaped, nothing kept.
fn quick_xml_scan(bytes: &[u8]) {
    let mut r = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                for a in e.attributes().flatten() {
                    n += a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_or(0, |v| v.len());
                }
            }
            quick_xml::events::Event::Text(t) => n += t.len(),
            _ => {}
        }
        buf.clear();
    }
    std::hint::black_box(n);
}

fn roxmltree_baseline(bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap();
    let doc = roxmltree::Document::parse(text).unwrap();
    std::hint::black_box(doc.descendants().count());
}

fn row(name: &str, bytes: &[u8], baseline_name: &str, baseline: impl FnMut(), ours: impl FnMut()) {
    let b = measure(3, baseline);
    let o = measure(3, ours);
    let ratio = o.time.as_secs_f64() / b.time.as_secs_f64();
    let mem_ratio = o.peak_extra as f64 / bytes.len() as f64;
    println!(
        "| {name} | {:.1} MB | {baseline_name}: {:.0} ms, {:.1} MB | {:.0} ms | **{ratio:.2}x** {} | {:.1} MB | **{mem_ratio:.2}x** {} |",
        mb(bytes.len()),
        b.time.as_secs_f64() * 1e3,
        mb(b.peak_extra),
        o.time.as_secs_f64() * 1e3,
        if ratio <= 1.5 { "✓" } else { "✗" },
        mb(o.peak_extra),
        if mem_ratio < 2.0 { "✓" } else { "✗" },
    );
}

fn main() {
    let json = open311_json(100_000);
    let xml = open311_xml(100_000);
    let sj = sdmx_json();
    let sm = sdmx_ml();
    let om = open311_mapping();
    let st = stats_mapping();
    // The paths give what they should before they are timed.
    assert_eq!(open311_path(&json, &om), 100_000);
    assert_eq!(open311_path(&xml, &om), 100_000);
    assert_eq!(
        stats_path(&sj, StatsFormat::SdmxJson, &st),
        AREAS * INDICATORS.len() * MONTHS
    );
    assert_eq!(
        stats_path(&sm, StatsFormat::SdmxMl, &st),
        AREAS * INDICATORS.len() * MONTHS
    );
    println!(
        "| input, and the path of ours | size | generic parse of the same bytes (time, peak) | ours | time ratio (≤ 1.5x) | ours peak | ours peak / input (< 2x) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    row(
        "100,000 Open311 requests, JSON: read + map + store",
        &json,
        "serde_json → Value",
        || json_baseline(&json),
        || {
            open311_path(&json, &om);
        },
    );
    row(
        "100,000 Open311 requests, JSON: read + map only",
        &json,
        "serde_json → Value",
        || json_baseline(&json),
        || {
            std::hint::black_box(open311_read(&json, &om));
        },
    );
    row(
        "100,000 Open311 requests, XML: read + map + store",
        &xml,
        "quick-xml event scan",
        || quick_xml_scan(&xml),
        || {
            open311_path(&xml, &om);
        },
    );
    row(
        "100,000 Open311 requests, XML: read + map + store",
        &xml,
        "roxmltree document",
        || roxmltree_baseline(&xml),
        || {
            open311_path(&xml, &om);
        },
    );
    row(
        "SDMX-JSON 1.0, 1,000,000 observations: read + map + store",
        &sj,
        "serde_json → Value",
        || json_baseline(&sj),
        || {
            stats_path(&sj, StatsFormat::SdmxJson, &st);
        },
    );
    row(
        "SDMX-ML 2.1 structure-specific, 1,000,000 observations: read + map + store",
        &sm,
        "quick-xml event scan",
        || quick_xml_scan(&sm),
        || {
            stats_path(&sm, StatsFormat::SdmxMl, &st);
        },
    );
    row(
        "SDMX-ML 2.1 structure-specific, 1,000,000 observations: read + map + store",
        &sm,
        "roxmltree document",
        || roxmltree_baseline(&sm),
        || {
            stats_path(&sm, StatsFormat::SdmxMl, &st);
        },
    );
    row(
        "100,000 Open311 requests, XML: read + map only",
        &xml,
        "roxmltree document",
        || roxmltree_baseline(&xml),
        || {
            std::hint::black_box(open311_read(&xml, &om));
        },
    );
    row(
        "SDMX-JSON 1.0, 1,000,000 observations: read only",
        &sj,
        "serde_json → Value",
        || json_baseline(&sj),
        || {
            std::hint::black_box(
                StatsFormat::SdmxJson
                    .read(&sj, &ReadOptions::default())
                    .unwrap(),
            );
        },
    );
    row(
        "SDMX-ML 2.1 structure-specific, 1,000,000 observations: read only",
        &sm,
        "roxmltree document",
        || roxmltree_baseline(&sm),
        || {
            std::hint::black_box(
                StatsFormat::SdmxMl
                    .read(&sm, &ReadOptions::default())
                    .unwrap(),
            );
        },
    );
}
