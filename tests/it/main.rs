//! Integration tests: one binary, a module per area (each extra test binary would link the whole
//! stack again).

mod architecture;
mod arrange;
mod audit;
mod backend;
mod brief;
mod camera;
mod charts;
mod cli;
mod health;
mod http_video;
mod identity;
mod incidents;
mod kiosk;
mod layout;
mod map;
mod nats;
mod oidc;
mod parsers;
mod reload;
mod sim;
mod source_check;
mod sources_ext;
mod support;
mod sync;
mod tls;
mod ui;
mod video;
mod watchdog;
