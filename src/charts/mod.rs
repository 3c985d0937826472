//! Charts: described once ([`ChartSpec`] from the layout, `spec`), extracted once per data change
//! ([`ChartData`] from the store, `data`; kept in the shared [`cache::ChartCache`] for the tile's
//! status and body alike), drawn with plotters ([`draw`], `draw`) on any backend: the project's
//! egui backend on the wall, plotters' SVG backend for exports, and from SVG to PDF. PNG exports
//! render the tile itself offscreen (`app::export`), so what a leader sees on the wall is what
//! lands in the file.

pub mod cache;
pub mod data;
pub mod decimate;
pub mod draw;
pub mod egui_backend;
pub mod export;
pub mod spec;

pub use data::{Bar, ChartData, Line, indicator_name};
pub use draw::{ChartStyle, PALETTE, draw};
pub use spec::{ChartSpec, ChartType, UnitGroup, UnitSelection};
