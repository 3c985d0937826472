//! ioc-console: the GPU-accelerated video-wall and operator console of a provincial Intelligent
//! Operations Center. Everything lives in this library; `src/main.rs` only parses the command
//! line, and tests and benchmarks use the same code.
//!
//! The modules stand in layers, each importing only from the layers below it (the table in
//! `docs/architecture.md`, held against the code by `tests/it/architecture.rs`): core (`util`,
//! `i18n`, `model`, `format`, `text`, `status`, `role`) ← data and media (`outbox`, `sources`,
//! `store`, `incidents`, `map`, `video`, `sim`) ← the UI kit (`ui`) ← `context` ← `charts` ←
//! `tiles` ← `wall` ← app (`config`, `app`) ← `cli`.

pub mod app;
pub mod audit;
pub mod auth;
pub mod charts;
pub mod cli;
pub mod config;
pub mod context;
pub mod format;
pub mod i18n;
pub mod incidents;
pub mod map;
pub mod metrics;
pub mod model;
pub mod outbox;
pub mod role;
pub mod sim;
pub mod sources;
pub mod status;
pub mod store;
pub mod sync;
pub mod text;
pub mod tiles;
pub mod ui;
pub mod util;
pub mod video;
pub mod wall;
