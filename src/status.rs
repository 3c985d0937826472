//! The state of what is on screen: where a value's source stands (live, stale, offline, error,
//! no permission, connecting), how old the value is, and why it is not live — as data, said in
//! words only by the frame that shows it.

use chrono::{DateTime, Utc};

use crate::text::Text;

/// The state of the source behind a value on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Opening the source for the first time (a camera stream before its first picture).
    Connecting,
}

impl SourceState {
    pub const ALL: [SourceState; 6] = [
        SourceState::Live,
        SourceState::Stale,
        SourceState::Offline,
        SourceState::Error,
        SourceState::NoPermission,
        SourceState::Connecting,
    ];

    /// Catalogue key of the state's short label.
    pub fn label_key(self) -> &'static str {
        match self {
            SourceState::Live => "status.live",
            SourceState::Stale => "status.stale",
            SourceState::Offline => "status.offline",
            SourceState::Error => "status.error",
            SourceState::NoPermission => "status.no_permission",
            SourceState::Connecting => "status.connecting",
        }
    }
}

/// What a tile knows about its data: the state, when the data was produced or fetched (None
/// when there is no data yet), and why it is not live (said in the viewer's language when
/// shown).
#[derive(Clone, Debug, PartialEq)]
pub struct DataStatus {
    pub state: SourceState,
    pub as_of: Option<DateTime<Utc>>,
    pub reason: Option<Text>,
}

impl DataStatus {
    pub fn live(as_of: DateTime<Utc>) -> Self {
        DataStatus {
            state: SourceState::Live,
            as_of: Some(as_of),
            reason: None,
        }
    }

    pub fn with_reason(state: SourceState, as_of: Option<DateTime<Utc>>, reason: Text) -> Self {
        DataStatus {
            state,
            as_of,
            reason: Some(reason),
        }
    }

    /// The reason in `lang`, when there is one.
    pub fn reason_in(&self, lang: crate::i18n::Lang) -> Option<String> {
        self.reason.as_ref().map(|r| r.say(lang))
    }

    /// Age of the data at `now`, never negative (clocks of other machines drift).
    pub fn age(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.as_of.map(|t| (now - t).max(chrono::Duration::zero()))
    }
}
