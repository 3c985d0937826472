//! The in-memory model the UI reads. Every value knows its age and its source's state.
//!
//! This module owns the vocabulary of data freshness ([`SourceState`], [`DataStatus`]); the
//! backend datasets join it with the backend issue. It never does I/O.

use chrono::{DateTime, Utc};

/// The state of the source behind a value on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceState {
    /// Fresh data from a working source.
    Live,
    /// The last update is older than the data's update period.
    Stale,
    /// The source cannot be reached; the last good data is kept and shown with its age.
    Offline,
    /// The source answered with something unusable; the reason is shown.
    Error,
    /// The backend refused access for this console's credentials.
    NoPermission,
}

impl SourceState {
    pub const ALL: [SourceState; 5] = [
        SourceState::Live,
        SourceState::Stale,
        SourceState::Offline,
        SourceState::Error,
        SourceState::NoPermission,
    ];

    /// Catalogue key of the state's short label.
    pub fn label_key(self) -> &'static str {
        match self {
            SourceState::Live => "status.live",
            SourceState::Stale => "status.stale",
            SourceState::Offline => "status.offline",
            SourceState::Error => "status.error",
            SourceState::NoPermission => "status.no_permission",
        }
    }
}

/// What a tile knows about its data: the state, when the data was produced or fetched (None
/// when there is no data yet), and the reason in words when it is not live.
#[derive(Clone, Debug, PartialEq)]
pub struct DataStatus {
    pub state: SourceState,
    pub as_of: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

impl DataStatus {
    pub fn live(as_of: DateTime<Utc>) -> Self {
        DataStatus {
            state: SourceState::Live,
            as_of: Some(as_of),
            reason: None,
        }
    }

    pub fn with_reason(
        state: SourceState,
        as_of: Option<DateTime<Utc>>,
        reason: impl Into<String>,
    ) -> Self {
        DataStatus {
            state,
            as_of,
            reason: Some(reason.into()),
        }
    }

    /// Age of the data at `now`, never negative (clocks of other machines drift).
    pub fn age(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.as_of.map(|t| (now - t).max(chrono::Duration::zero()))
    }
}
