//! The simulated IOC backend: the whole API contract over real HTTP on loopback, driven by a
//! deterministic world (seeded demo data, Poisson incidents, scripted training scenarios) and
//! able to inject faults. `ioc-console sim` serves it; `ioc-console demo` runs it in-process and
//! connects the console to it through the same client as production.

pub mod data;
pub mod history;
pub mod scenario;
pub mod server;
pub mod world;

pub use server::{Faults, SimConfig, SimServer};

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
