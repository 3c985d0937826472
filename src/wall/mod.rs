//! Wall layouts: the model and its files, validation with positions, the JSON Schema, hot
//! reload, and the geometry of monitors and cells. No drawing here (that is `app::wall_view`).

pub mod diag;
pub mod geometry;
pub mod layout;
pub mod schema;
pub mod watch;

pub use layout::{CellRect, LayoutErrors, Monitor, Tile, WallLayout};
