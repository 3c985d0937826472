//! ioc-console: the GPU-accelerated video-wall and operator console of a provincial Intelligent
//! Operations Center. Everything lives in this library; `src/main.rs` is a thin CLI over it, and
//! tests and benchmarks use the same code.

pub mod app;
pub mod charts;
pub mod config;
pub mod incidents;
pub mod map;
pub mod model;
pub mod rng;
pub mod sim;
pub mod snapshot;
pub mod sources;
pub mod store;
pub mod tiles;
pub mod ui;
pub mod video;
pub mod wall;
