//! The simulated IOC's world: determinism of scenarios, the training timeline, demo data.

use std::sync::Arc;

use chrono::Duration;
use ioc_console::model::{Event, IncidentStatus};
use ioc_console::sim::data::DemoData;
use ioc_console::sim::scenario::StepAction;
use ioc_console::sim::scenarios;
use ioc_console::sim::world::World;

use crate::support::fixed_now;

fn run(seed: u64, scenario: &str, steps_s: &[i64]) -> Vec<(u64, &'static str, String)> {
    let data = Arc::new(DemoData::embedded().unwrap());
    let sc = scenarios()
        .unwrap()
        .into_iter()
        .find(|s| s.id == scenario)
        .unwrap();
    let epoch = fixed_now();
    let mut w = World::new(
        data,
        seed,
        epoch,
        Some(Arc::new(sc)),
        "rtsp://127.0.0.1:8554",
    );
    let mut t = epoch;
    let mut out = Vec::new();
    for s in steps_s {
        t += Duration::seconds(*s);
        w.advance_to(t);
        out.extend(
            w.take_new_events()
                .into_iter()
                .map(|(seq, e)| (seq, e.name(), e.to_json())),
        );
    }
    out
}

#[test]
fn same_seed_and_scenario_give_the_same_events_whatever_the_tick() {
    let sc = scenarios()
        .unwrap()
        .into_iter()
        .find(|s| s.id == "tidal-flooding")
        .unwrap();
    let total = sc.duration_minutes as i64 * 60;
    let fine = run(sc.seed, &sc.id, &vec![30; (total / 30) as usize]);
    let coarse = run(sc.seed, &sc.id, &[7, 301, total - 7 - 301 - 1, 1]);
    assert!(!fine.is_empty());
    assert_eq!(fine, coarse);
    let other_seed = run(sc.seed + 1, &sc.id, &[total]);
    assert_ne!(fine, other_seed, "another seed gives another background");
}

#[test]
fn every_scenario_plays_all_its_steps() {
    let data = Arc::new(DemoData::embedded().unwrap());
    let all = scenarios().unwrap();
    assert!(all.len() >= 3);
    for sc in all {
        let epoch = fixed_now();
        let steps = sc.steps.clone();
        let mut w = World::new(
            Arc::clone(&data),
            sc.seed,
            epoch,
            Some(Arc::new(sc.clone())),
            "rtsp://x",
        );
        w.advance_to(epoch + Duration::minutes(sc.duration_minutes as i64));
        let events = w.take_new_events();
        assert_eq!(
            w.scenario_progress(),
            Some((steps.len(), steps.len())),
            "{}",
            sc.id
        );
        for step in &steps {
            let seen = events.iter().any(|(_, e)| match (&step.action, e) {
                (StepAction::Incident { title, .. }, Event::Incident(i)) => {
                    &i.title == title && i.status == IncidentStatus::Received
                }
                (StepAction::CameraDark { camera_id }, Event::Camera(c)) => {
                    &c.id == camera_id && !c.online
                }
                (StepAction::CameraBack { camera_id }, Event::Camera(c)) => {
                    &c.id == camera_id && c.online
                }
                (
                    StepAction::Indicator {
                        indicator_id,
                        value,
                        ..
                    },
                    Event::Observation(o),
                ) => &o.indicator_id == indicator_id && o.point.value == *value,
                (StepAction::ProviderLate { indicator_id }, Event::Provider(p)) => {
                    &p.indicator_id == indicator_id
                }
                _ => false,
            });
            assert!(
                seen,
                "{}: step at {} min not seen: {:?}",
                sc.id, step.at_minutes, step.action
            );
        }
    }
}

#[test]
fn the_demo_data_is_consistent_and_historical_units_are_labelled() {
    let data = DemoData::embedded().unwrap();
    data.check().unwrap();
    let districts: Vec<_> = data
        .province
        .units
        .iter()
        .filter(|u| u.level == ioc_console::model::UnitLevel::District)
        .collect();
    assert_eq!(districts.len(), 9);
    let merger = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    assert!(
        districts.iter().all(|u| u.valid_to == Some(merger)),
        "districts end with the 2025 reform"
    );
    let sectors: Vec<_> = data
        .indicators
        .indicators
        .iter()
        .map(|i| i.sector.as_str())
        .collect();
    for s in &data.indicators.sectors {
        assert!(
            sectors.contains(&s.id.as_str()),
            "sector {} has no indicator",
            s.id
        );
    }
    let h264 = data
        .cameras
        .cameras
        .iter()
        .filter(|c| c.codec == "h264")
        .count();
    let mjpeg = data
        .cameras
        .cameras
        .iter()
        .filter(|c| c.codec == "mjpeg")
        .count();
    assert!(h264 >= 9 && mjpeg >= 1);
}

/// The published contract names every route the simulator serves and every enum value the
/// client accepts, so the document cannot drift from the code unnoticed.
#[test]
fn the_openapi_document_matches_the_code() {
    use ioc_console::model::*;
    let doc =
        std::fs::read_to_string(crate::support::repo().join("docs/api/openapi.yaml")).unwrap();
    assert!(doc.starts_with("openapi: 3.1"));
    for path in [
        "/units:",
        "/departments:",
        "/categories:",
        "/indicators:",
        "/series:",
        "/incidents:",
        "/incidents/{id}:",
        "/incidents/{id}/actions:",
        "/cameras:",
        "/providers:",
        "/events:",
        "/audit:",
    ] {
        assert!(
            doc.contains(&format!("\n  {path}\n")),
            "path {path} is not in the document"
        );
    }
    let values: Vec<String> = [
        serde_json::to_value([
            IncidentStatus::Received,
            IncidentStatus::Verified,
            IncidentStatus::Forwarded,
            IncidentStatus::InProgress,
            IncidentStatus::Resolved,
            IncidentStatus::Rejected,
        ])
        .unwrap(),
        serde_json::to_value([
            ActionKind::Receive,
            ActionKind::Verify,
            ActionKind::Forward,
            ActionKind::Start,
            ActionKind::Resolve,
            ActionKind::Reject,
            ActionKind::Note,
        ])
        .unwrap(),
        serde_json::to_value([
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Critical,
        ])
        .unwrap(),
        serde_json::to_value([
            IncidentSource::Citizen,
            IncidentSource::Soc,
            IncidentSource::Camera,
            IncidentSource::Police,
            IncidentSource::Hotline,
        ])
        .unwrap(),
        serde_json::to_value([UnitLevel::Province, UnitLevel::District, UnitLevel::Commune])
            .unwrap(),
        serde_json::to_value([
            PeriodKind::Monthly,
            PeriodKind::Quarterly,
            PeriodKind::Yearly,
        ])
        .unwrap(),
        serde_json::to_value([StreamKind::Main, StreamKind::Sub]).unwrap(),
        serde_json::to_value([Direction::HigherIsBetter, Direction::LowerIsBetter]).unwrap(),
    ]
    .iter()
    .flat_map(|v| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    })
    .collect();
    for v in values {
        assert!(doc.contains(&v), "enum value `{v}` is not in the document");
    }
}
