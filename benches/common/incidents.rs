//! Demo incidents for the benchmarks that need many (the queue, the wall): Vietnamese titles and
//! places, every status and priority, one every 20 seconds from 1 November 2026.

use chrono::{TimeZone, Utc};
use ioc_console::model::*;

pub const WORDS: [&str; 8] = [
    "Ngập nước",
    "Rác thải",
    "Lấn chiếm vỉa hè",
    "Tai nạn giao thông",
    "Đèn tín hiệu hỏng",
    "Cây xanh gãy đổ",
    "Gia súc thả rông",
    "Mất an ninh trật tự",
];
pub const PLACES: [&str; 6] = [
    "đường Đồng Khởi",
    "Quốc lộ 60",
    "chợ Ba Tri",
    "ấp Phú Hòa",
    "bến phà Hàm Luông",
    "khu phố 3",
];

pub fn incidents(n: usize) -> Vec<Incident> {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    (0..n)
        .map(|i| {
            let at = t0 + chrono::Duration::seconds(i as i64 * 20);
            Incident {
                id: format!("PA-{i:07}"),
                source: IncidentSource::Citizen,
                category: ["flooding", "traffic", "sanitation", "urban_order"][i % 4].into(),
                priority: [
                    Priority::Low,
                    Priority::Normal,
                    Priority::Normal,
                    Priority::High,
                    Priority::Critical,
                ][i % 5],
                status: [
                    IncidentStatus::Received,
                    IncidentStatus::Verified,
                    IncidentStatus::InProgress,
                    IncidentStatus::Resolved,
                ][i % 4],
                unit_id: format!("u{}", i % 9),
                location: GeoPoint {
                    lat: 10.2,
                    lon: 106.4,
                },
                address: Some(PLACES[i % PLACES.len()].into()),
                title: format!(
                    "{} tại {}",
                    WORDS[i % WORDS.len()],
                    PLACES[(i / 7) % PLACES.len()]
                ),
                description:
                    "Người dân phản ánh sự việc, đề nghị cơ quan chức năng kiểm tra, xử lý.".into(),
                media: vec![],
                received_at: at,
                due_at: at + chrono::Duration::hours(72),
                updated_at: at,
                version: 1,
                assigned_unit_id: None,
                history: vec![],
                origin: None,
            }
        })
        .collect()
}
