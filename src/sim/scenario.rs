//! Training scenarios (`assets/scenarios/*.toml`): a scripted timeline of events on top of the
//! simulated IOC's background activity.

use serde::Deserialize;

use crate::model::{GeoPoint, Priority};

/// A scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short id, the file name without `.toml` (e.g. "tidal-flooding").
    pub id: String,
    pub title_vi: String,
    pub title_en: String,
    pub description_vi: String,
    pub description_en: String,
    /// Seed of the background activity (incidents, indicator noise) during the run.
    pub seed: u64,
    pub duration_minutes: u32,
    pub steps: Vec<Step>,
}

/// One scripted event, `at_minutes` after the scenario starts (scenario time, which runs at the
/// chosen speed).
#[derive(Clone, Debug, Deserialize)]
pub struct Step {
    pub at_minutes: f64,
    #[serde(flatten)]
    pub action: StepAction,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepAction {
    /// A new incident arrives.
    Incident {
        category: String,
        unit_id: String,
        priority: Priority,
        title: String,
        description: String,
        #[serde(default)]
        location: Option<GeoPoint>,
        #[serde(default)]
        address: Option<String>,
    },
    /// A camera loses its signal.
    CameraDark { camera_id: String },
    /// A camera comes back.
    CameraBack { camera_id: String },
    /// A new observation of an indicator (may cross its threshold).
    Indicator {
        indicator_id: String,
        unit_id: String,
        value: f64,
    },
    /// A department misses the update of an indicator.
    ProviderLate { indicator_id: String },
}
