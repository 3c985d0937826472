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
pub use command::{BriefStep, Command, CommandSender, ExportFormat, InkOp};
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
    /// Draw sparingly (see `config::LowPower`): clocks to the minute, ages from a minute on, no
    /// pulsing.
    pub low_power: bool,
    /// The data is frozen as it was at this instant (a briefing): every status, age and
    /// deadline is reckoned at it, so nothing moves under the audience's eyes. Clocks and live
    /// cameras still read `now`.
    pub as_of: Option<DateTime<Utc>>,
    /// Text and padding of the tiles are this many times their wall size (the briefing's
    /// large-type theme).
    pub type_scale: f32,
    /// Drawn for paper (a deck's page): nothing live, no stream is opened.
    pub print: bool,
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
            low_power: false,
            as_of: None,
            type_scale: 1.0,
            print: false,
        }
    }

    /// The instant the data is reckoned at: `as_of` while frozen, else `now`.
    pub fn data_now(&self) -> DateTime<Utc> {
        self.as_of.unwrap_or(self.now)
    }

    /// How old something is, in words; to the minute when drawing sparingly (the words then do
    /// not change every second).
    pub fn age_words(&self, age: chrono::Duration) -> String {
        // (An age of zero is the local clock's own: "just now" stays true.)
        if self.low_power && age > chrono::Duration::zero() && age < chrono::Duration::minutes(1) {
            return self.t("age.under_a_minute").to_owned();
        }
        crate::format::age(self.lang, age)
    }

    /// The brightness of a pulse (0 to 1) at this frame, and whether to keep animating: a steady
    /// highlight when drawing sparingly.
    pub fn pulse(&self, ui: &egui::Ui) -> (f32, bool) {
        if self.low_power {
            return (0.6, false);
        }
        ((ui.input(|i| i.time) * 3.0).sin() as f32 * 0.5 + 0.5, true)
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
