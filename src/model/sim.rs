//! The simulator's admin contract (`/sim/...` in `docs/api/openapi.yaml`): its status, the
//! trainer's controls and the faults it can inject. Shared by the simulator and the console's
//! trainer panel.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// Faults the simulator can be told to inject (for tests and trainings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Extra delay before every API answer.
    pub latency_ms: u64,
    /// Share of API requests answered with 500 (0 to 1).
    pub error_rate: f64,
    /// Answer list requests with bodies of the wrong shape.
    pub malformed: bool,
    /// Close SSE streams and refuse new ones.
    pub drop_sse: bool,
    /// Answer every API request with 403.
    pub forbidden: bool,
    /// Answer every API GET (the event stream too) with a body that never ends (a hostile or
    /// broken backend: the console's buffering must stay bounded).
    pub endless: bool,
    /// Demo cameras whose streams go off the air while the camera list still says they are
    /// online (a camera failing by itself; the trainer's scenarios take cameras dark openly).
    pub dark_cameras: Vec<String>,
}

/// Allowed speeds of simulated time.
pub const SPEEDS: std::ops::RangeInclusive<f64> = 1.0..=60.0;

/// What `/sim/status` reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimStatus {
    pub sim_time: Timestamp,
    pub speed: f64,
    pub paused: bool,
    pub scenario: Option<String>,
    /// Steps played and steps in the scenario.
    pub progress: Option<(usize, usize)>,
    pub scenarios: Vec<ScenarioInfo>,
    pub faults: Faults,
    pub incidents: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub id: String,
    pub title_vi: String,
    pub title_en: String,
    pub duration_minutes: u32,
}

/// `POST /sim/control` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub action: ControlAction,
    #[serde(default)]
    pub scenario: Option<String>,
    #[serde(default)]
    pub speed: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlAction {
    /// Start a scenario (or the plain background activity without one).
    Start,
    Pause,
    Resume,
    /// Start the current scenario again from its beginning.
    Restart,
    /// Change the speed only.
    Speed,
}
