//! What goes between the UI and the background: updates (loaded, failed, events, the stream's
//! health, the outbox), and requests (actions, refreshes, trainer controls).

use super::client::FetchError;
use super::resource::Resource;
use crate::model::sim::{Control, Faults, SimStatus};
use crate::model::*;

/// A successfully fetched resource.
#[derive(Clone, Debug)]
pub enum Payload {
    Units(Vec<Unit>),
    Departments(Vec<Department>),
    Categories(Vec<Category>),
    Indicators(Vec<Indicator>),
    Series(Vec<Series>),
    /// `incremental`: only incidents changed since the previous fetch.
    Incidents {
        items: Vec<Incident>,
        incremental: bool,
    },
    Cameras(Vec<Camera>),
    Providers(Vec<ProviderStatus>),
}

/// What a source beside the IOC backend gave (whole: it replaces that source's last load).
#[derive(Clone, Debug)]
pub enum SourcePayload {
    /// Open311: requests as incidents (in batches, so that loading a hundred thousand never
    /// holds them twice), services as categories.
    Incidents {
        incidents: Vec<Vec<Incident>>,
        /// `None`: the services could not be read this time; the last ones stay.
        categories: Option<Vec<Category>>,
    },
    /// Statistics: indicators and their series.
    Stats {
        indicators: Vec<Indicator>,
        series: Vec<Series>,
    },
}

/// What the background sends to the UI.
#[derive(Clone, Debug)]
pub enum Update {
    Loaded {
        resource: Resource,
        payload: Payload,
        as_of: Timestamp,
        fetched_at: Timestamp,
    },
    Failed {
        resource: Resource,
        error: FetchError,
        at: Timestamp,
    },
    Event(Event),
    /// The event stream is connected (sent on connect and at most once a second after).
    StreamAlive {
        at: Timestamp,
    },
    StreamDown {
        error: FetchError,
        at: Timestamp,
    },
    /// Which resources the IOC backend gives (sent first; `[feeds]` may give others to other
    /// sources).
    Feeds {
        backend: Vec<Resource>,
    },
    /// A source beside the IOC backend loaded (see `sources::external`).
    SourceLoaded {
        source: String,
        name: String,
        feeds: Vec<Resource>,
        stale_after: std::time::Duration,
        payload: SourcePayload,
        /// What could not be used, with its place ("line 12: period \"2024-13\"…").
        problems: Vec<String>,
        as_of: Timestamp,
        fetched_at: Timestamp,
    },
    SourceFailed {
        source: String,
        name: String,
        feeds: Vec<Resource>,
        stale_after: std::time::Duration,
        error: FetchError,
        at: Timestamp,
    },
    SimStatus(Result<SimStatus, FetchError>),
    /// The outbox's newest entries (after every change).
    Outbox(Vec<crate::outbox::Entry>),
    /// An action could not even be recorded: it was refused, with the reason.
    ActionRefused {
        incident_id: String,
        reason: crate::outbox::Refusal,
    },
}

/// A request from the UI to the background.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Refetch everything now.
    Refresh,
    /// Record an operator's action in the outbox, then send it.
    Act {
        incident_id: String,
        request: ActionRequest,
        /// The subject of the person signed in who made it (their token sends it); none on a
        /// console without sign-in.
        author: Option<String>,
    },
    /// Send what the outbox holds now (a sign-out sends its person's actions first).
    WakeOutbox,
    /// Resend a held action (its author signed out) under the name of the person signed in
    /// now.
    ResendAs {
        key: String,
    },
    /// Drop an action that conflicted.
    Discard {
        key: String,
    },
    /// Apply a conflicting action again on the incident's current version.
    Reapply {
        key: String,
        version: u64,
    },
    SimControl(Control),
    SimFaults(Faults),
    SimStatus,
    /// Answered once every request before it is done (a closing console waits on it to know
    /// the outbox has every action made).
    Barrier(Reply),
}

/// A one-time answer to a [`Request::Barrier`].
#[derive(Clone)]
pub struct Reply(std::sync::Arc<std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>>);

impl Reply {
    pub fn new() -> (Reply, std::sync::mpsc::Receiver<()>) {
        let (tx, rx) = std::sync::mpsc::channel();
        (
            Reply(std::sync::Arc::new(std::sync::Mutex::new(Some(tx)))),
            rx,
        )
    }

    pub fn answer(&self) {
        if let Some(tx) = self.0.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(());
        }
    }
}

impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reply")
    }
}
