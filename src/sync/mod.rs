//! Consoles in step: the wall's state in a NATS JetStream key-value bucket (one key per wall,
//! written under compare-and-swap on its revision, watched by every console of the wall), and
//! every console's heartbeat in a second bucket whose entries age out.
//!
//! The task (`task`) owns the connection and reconnects by itself; the app sees it through a
//! [`SyncLink`]: updates in (the link's state, the wall's value, the consoles alive, the outcome
//! of each push), requests out (pushes, its own presence). No broker configured: no task, and the
//! console works alone as before.

mod config;
mod task;

use std::time::Duration;

pub use config::{Credentials, SyncConfig, host_name};
pub use task::{one_shot_push, one_shot_status};

use crate::model::Timestamp;
use crate::model::wall_share::{BadValue, Presence, SharedWall, WallChange};

/// Called after each update is sent (the app passes a repaint of its window).
pub type Waker = std::sync::Arc<dyn Fn() + Send + Sync>;

/// The bucket of the walls' states (a key per wall).
pub const WALL_BUCKET: &str = "ioc_walls";
/// The bucket of the consoles' heartbeats (a key `<wall>.<console>` per console).
pub const PRESENCE_BUCKET: &str = "ioc_presence";

/// The connection to the broker, as the desk says it.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkState {
    /// Connecting for the first time.
    Connecting,
    /// Connected, the wall's value taken and watched.
    Up,
    /// Lost (or never made) since `since`: why, in the client's words (credentials never in
    /// them).
    Down { since: Timestamp, why: String },
    /// The broker refuses this console: wrong credentials or no permission on the wall's
    /// subjects.
    Refused { since: Timestamp, why: String },
}

impl LinkState {
    pub fn is_up(&self) -> bool {
        matches!(self, LinkState::Up)
    }
}

/// Why a push did not land.
#[derive(Clone, Debug, PartialEq)]
pub enum PushRefused {
    /// No connection to the broker (since when).
    NoLink(Timestamp),
    /// The broker did not take it: its words.
    Broker(String),
    /// Other consoles kept changing the value (compare-and-swap lost this many times).
    Contended(usize),
    /// The wall shows another layout (its name) than the pushing console.
    OtherLayout(String),
    /// The wall's value cannot be read here (newer, malformed): only clearing it replaces it.
    Unreadable(crate::model::wall_share::BadValue),
}

/// What the task tells the app.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncUpdate {
    Link(LinkState),
    /// The wall's value at `revision` (0: no value yet).
    Wall {
        revision: u64,
        wall: Box<SharedWall>,
    },
    /// A value at `revision` that is not applied, and why.
    Bad {
        revision: u64,
        why: BadValue,
    },
    /// The consoles of the wall whose heartbeat has not expired (this one included).
    Consoles(Vec<Presence>),
    /// Push `id` landed at `revision`, or was refused.
    Pushed {
        id: u64,
        outcome: Result<u64, PushRefused>,
    },
}

/// What the app asks of the task.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncRequest {
    /// A change of the wall; `layout` is the pushing console's layout (its name): written into
    /// a value that has none, and a push onto a wall showing another layout is refused.
    Push {
        id: u64,
        change: WallChange,
        layout: Option<String>,
    },
    /// This console's heartbeat from now on.
    Presence(Box<Presence>),
}

/// The app's end of the task.
pub struct SyncLink {
    pub updates: tokio::sync::mpsc::Receiver<SyncUpdate>,
    pub requests: tokio::sync::mpsc::Sender<SyncRequest>,
    /// This console's name on the wall.
    pub console: String,
    /// The wall's name (the key).
    pub wall: String,
    /// The monitors this console drives (its own) and those it stands by for.
    pub monitors: Vec<String>,
    pub standby: Vec<String>,
    /// How long a heartbeat lives.
    pub expire: Duration,
}

/// Starts the task on `runtime`. `ca_bundle` is the configuration's (TLS to the broker trusts
/// it as the backend's client does).
pub fn start(
    runtime: &tokio::runtime::Handle,
    config: &SyncConfig,
    ca_bundle: Option<std::path::PathBuf>,
    wake: Option<Waker>,
) -> SyncLink {
    let (up_tx, up_rx) = tokio::sync::mpsc::channel(1024);
    let (req_tx, req_rx) = tokio::sync::mpsc::channel(256);
    let console = config.console_name();
    let task = task::Task::new(
        config.clone(),
        ca_bundle,
        console.clone(),
        up_tx,
        req_rx,
        wake,
    );
    runtime.spawn(task.run());
    SyncLink {
        updates: up_rx,
        requests: req_tx,
        console,
        wall: config.wall.clone(),
        monitors: config.monitors.clone(),
        standby: config.standby.clone(),
        expire: config.expire(),
    }
}

/// The key of a console's heartbeat.
pub fn presence_key(wall: &str, console: &str) -> String {
    format!("{}.{}", key_token(wall), key_token(console))
}

/// A name as one token of a key (keys take `[-_=a-zA-Z0-9]` between dots).
pub fn key_token(name: &str) -> String {
    let t: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() { "_".into() } else { t }
}
