//! The per-frame context every view reads ([`FrameCtx`]) and the ways views change anything:
//! they read the store, the console's [`ViewState`] (selection, cameras sent to the wall,
//! enlarged tiles) and their own tile state, and send [`Command`]s, which the app applies in one
//! place. Derived data shared between views (the incident index, prepared charts) lives in
//! [`Caches`], driven by the store's changes.

pub mod caches;
pub mod command;
pub mod profile;
pub mod queue;
pub mod tile_state;
pub mod view;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use caches::Caches;
pub use command::{Command, CommandSender, ExportFormat};
pub use tile_state::{TileState, TileStates};
pub use view::ViewState;

use crate::i18n::{Lang, tr, tr_args};
use crate::role::Role;
use crate::store::Store;

/// What every view may read while drawing one frame. Views do not mutate shared state: they
/// send commands, and keep what is theirs in the tile state the wall hands them.
#[derive(Clone, Debug)]
pub struct FrameCtx {
    pub lang: Lang,
    pub now: DateTime<Utc>,
    pub role: Role,
    /// When the layout on the wall was loaded (the age of what a layout file says).
    pub layout_loaded_at: DateTime<Utc>,
    /// The data from the backend, as of this frame.
    pub store: Arc<Store>,
    /// Basemaps and map layers of this console.
    pub map: Arc<crate::map::MapSetup>,
    /// The camera streams (shared by every tile that shows a camera).
    pub cameras: Arc<crate::video::hub::CameraHub>,
    /// The selection, the cameras sent to the wall and the enlarged tiles, as last applied.
    pub view: Arc<ViewState>,
    /// Where views send what a person asked for.
    pub commands: CommandSender,
    /// Each tile's own state (a map's view, a queue's scroll), by tile and viewport.
    pub tiles: Arc<std::sync::Mutex<TileStates>>,
    /// Derived data shared by the views that need it.
    pub caches: Arc<Caches>,
    /// How long each monitor and tile took to draw, for the technician's frame profile.
    pub profile: Arc<profile::FrameProfile>,
    /// The tile being drawn fills its monitor (enlarged by the operator).
    pub enlarged: bool,
}

impl FrameCtx {
    /// A context on an empty store whose commands go nowhere (tests, exports).
    pub fn new(lang: Lang, now: DateTime<Utc>) -> Self {
        FrameCtx {
            lang,
            now,
            role: Role::default(),
            layout_loaded_at: now,
            store: Arc::new(Store::default()),
            map: Arc::new(crate::map::MapSetup::default()),
            cameras: Arc::new(crate::video::hub::CameraHub::default()),
            view: Arc::new(ViewState::default()),
            commands: CommandSender::detached(),
            tiles: Arc::default(),
            caches: Arc::default(),
            profile: Arc::default(),
            enlarged: false,
        }
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        tr(self.lang, key)
    }

    pub fn t_args(&self, key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        tr_args(self.lang, key, args)
    }

    /// Sends a command to the app (applied before the next frame).
    pub fn send(&self, command: Command) {
        self.commands.send(command);
    }
}
