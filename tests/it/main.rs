//! Integration tests: one binary, a module per area (each extra test binary would link the whole
//! stack again).

mod cli;
mod layout;
mod reload;
mod support;
mod ui;
