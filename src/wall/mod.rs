//! Wall layouts: the model and its files, validation with positions, the JSON Schema, hot
//! reload, the geometry of monitors and cells, and arranging (`edit`: edits on the file's own
//! TOML document with undo; `save`: diff, checks and the atomic write). No drawing here (that is `app::wall_view`).

pub mod diag;
pub mod edit;
pub mod geometry;
pub mod layout;
pub mod save;
pub mod schema;
pub mod storyboard;
pub mod watch;

pub use layout::{CellRect, LayoutErrors, Monitor, Tile, WallLayout};
