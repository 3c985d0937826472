//! The resources of the backend contract the console reads, and their poll intervals and
//! freshness periods.

use std::time::Duration;

/// The resources of the contract the console reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Units,
    Departments,
    Categories,
    Indicators,
    Series,
    Incidents,
    Cameras,
    Providers,
}

impl Resource {
    pub const ALL: [Resource; 8] = [
        Resource::Units,
        Resource::Departments,
        Resource::Categories,
        Resource::Indicators,
        Resource::Series,
        Resource::Incidents,
        Resource::Cameras,
        Resource::Providers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Resource::Units => "units",
            Resource::Departments => "departments",
            Resource::Categories => "categories",
            Resource::Indicators => "indicators",
            Resource::Series => "series",
            Resource::Incidents => "incidents",
            Resource::Cameras => "cameras",
            Resource::Providers => "providers",
        }
    }

    /// Catalogue key of the resource's name on screen.
    pub fn label_key(self) -> &'static str {
        match self {
            Resource::Units => "resource.units",
            Resource::Departments => "resource.departments",
            Resource::Categories => "resource.categories",
            Resource::Indicators => "resource.indicators",
            Resource::Series => "resource.series",
            Resource::Incidents => "resource.incidents",
            Resource::Cameras => "resource.cameras",
            Resource::Providers => "resource.providers",
        }
    }

    /// Whether the SSE stream keeps this resource current between polls.
    pub fn covered_by_events(self) -> bool {
        matches!(
            self,
            Resource::Series | Resource::Incidents | Resource::Cameras | Resource::Providers
        )
    }
}

/// Poll intervals and freshness periods. Production values by default; tests shrink them.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Multiplies every poll interval (tests use a small factor).
    pub poll_scale: f64,
    /// Multiplies every staleness period.
    pub stale_scale: f64,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_scale: 1.0,
            stale_scale: 1.0,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(60),
        }
    }
}

impl Timing {
    /// Poll interval: slow for catalogues, fast for live data, slower again while the SSE
    /// stream keeps live data current.
    pub fn poll(&self, r: Resource, stream_up: bool) -> Duration {
        let secs = match r {
            Resource::Units
            | Resource::Departments
            | Resource::Categories
            | Resource::Indicators => 600.0,
            Resource::Series => 300.0,
            Resource::Incidents | Resource::Cameras if stream_up => 120.0,
            Resource::Incidents => 10.0,
            Resource::Cameras => 30.0,
            Resource::Providers => 60.0,
        };
        Duration::from_secs_f64(secs * self.poll_scale)
    }

    /// Data older than this (with no event confirming it) is stale.
    pub fn stale_after(&self, r: Resource) -> Duration {
        let secs = match r {
            Resource::Units
            | Resource::Departments
            | Resource::Categories
            | Resource::Indicators => 3600.0,
            Resource::Series => 900.0,
            Resource::Incidents => 30.0,
            Resource::Cameras => 90.0,
            Resource::Providers => 180.0,
        };
        Duration::from_secs_f64(secs * self.stale_scale)
    }
}
