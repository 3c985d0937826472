//! Shared UI pieces: the per-frame context every view reads, the theme (design tokens), the
//! fonts, the message catalogue, formatting and small widgets.

pub mod fonts;
pub mod format;
pub mod i18n;
pub mod selection;
pub mod sound;
pub mod theme;
pub mod widgets;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::app::Role;
use crate::store::Store;
pub use i18n::{Lang, tr, tr_args};

/// What every view may read while drawing one frame. Read-only; views emit commands instead of
/// mutating shared state.
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
    /// The tile being drawn fills its monitor (enlarged by the operator).
    pub enlarged: bool,
    /// Cameras an operator sent to the wall (nearest first; see `ui::selection`).
    pub sent_cameras: Vec<String>,
}

impl FrameCtx {
    pub fn new(lang: Lang, now: DateTime<Utc>) -> Self {
        FrameCtx {
            lang,
            now,
            role: Role::default(),
            layout_loaded_at: now,
            store: Arc::new(Store::default()),
            map: Arc::new(crate::map::MapSetup::default()),
            cameras: Arc::new(crate::video::hub::CameraHub::default()),
            enlarged: false,
            sent_cameras: Vec::new(),
        }
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        tr(self.lang, key)
    }

    pub fn t_args(&self, key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        tr_args(self.lang, key, args)
    }
}
