//! The simulated IOC backend: the whole API contract over real HTTP on loopback, driven by a
//! deterministic world (seeded demo data, Poisson incidents, scripted training scenarios) and
//! able to inject faults. `ioc-console sim` serves it; `ioc-console demo` runs it in-process and
//! connects the console to it through the same client as production.

pub mod cameras;
pub mod data;
pub mod history;
pub mod open311;
pub mod resource;
pub mod scenario;
pub mod server;
pub mod world;

pub use server::{SimConfig, SimServer};

const SCENARIOS: &[(&str, &str)] = &[
    (
        "tidal-flooding",
        include_str!("../../assets/scenarios/tidal-flooding.toml"),
    ),
    (
        "traffic-accident",
        include_str!("../../assets/scenarios/traffic-accident.toml"),
    ),
    (
        "security-incident",
        include_str!("../../assets/scenarios/security-incident.toml"),
    ),
];

/// The training scenarios shipped in `assets/scenarios/`.
pub fn scenarios() -> Result<Vec<scenario::Scenario>, String> {
    SCENARIOS
        .iter()
        .map(|(name, text)| {
            let s: scenario::Scenario =
                toml::from_str(text).map_err(|e| format!("assets/scenarios/{name}.toml: {e}"))?;
            if s.id != *name {
                return Err(format!(
                    "assets/scenarios/{name}.toml: id `{}` differs from the file name",
                    s.id
                ));
            }
            if s.steps
                .windows(2)
                .any(|w| w[0].at_minutes > w[1].at_minutes)
            {
                return Err(format!(
                    "assets/scenarios/{name}.toml: steps are not in time order"
                ));
            }
            Ok(s)
        })
        .collect()
}

/// The simulated world's datasets at `epoch`, loaded into a store exactly as the client would
/// (serialised, parsed, applied): for tests, benchmarks and offline exports.
pub fn world_store(
    seed: u64,
    epoch: crate::model::Timestamp,
) -> Result<crate::store::Store, String> {
    use crate::model::ListResponse;
    use crate::sources::{Resource, Timing, Update, parse_payload};
    fn body<T: serde::Serialize>(items: Vec<T>, as_of: crate::model::Timestamp) -> Vec<u8> {
        serde_json::to_vec(&ListResponse { items, as_of }).unwrap_or_default()
    }
    let data = std::sync::Arc::new(data::DemoData::embedded()?);
    let w = world::World::new(data, seed, epoch, None, "rtsp://127.0.0.1:8554");
    let mut store = crate::store::Store::connected(Timing::default());
    let bodies = [
        (Resource::Units, body(w.units().to_vec(), epoch)),
        (Resource::Departments, body(w.departments().to_vec(), epoch)),
        (Resource::Categories, body(w.categories().to_vec(), epoch)),
        (Resource::Indicators, body(w.indicators().to_vec(), epoch)),
        (Resource::Series, body(w.series().cloned().collect(), epoch)),
        (Resource::Incidents, body(w.incidents().to_vec(), epoch)),
        (Resource::Cameras, body(w.cameras().to_vec(), epoch)),
        (Resource::Providers, body(w.providers().to_vec(), epoch)),
    ];
    for (resource, bytes) in bodies {
        let (payload, as_of) = parse_payload(resource, &bytes, false).map_err(|e| e.to_string())?;
        store.apply(Update::Loaded {
            resource,
            payload,
            as_of,
            fetched_at: epoch,
        });
    }
    Ok(store)
}
