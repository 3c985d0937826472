//! `snapshot`: the wall (or one monitor) to a PNG without a display.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{DataArgs, camera_hub, load_store, resolve_layout};
use crate::app::snapshot;
use crate::config;
use crate::i18n::{Lang, tr_args};

#[derive(clap::Args)]
pub struct SnapshotArgs {
    /// Layout file (default as for `run`).
    #[arg(long)]
    pub layout: Option<PathBuf>,
    /// Output PNG file.
    #[arg(long)]
    pub out: PathBuf,
    /// Render only this monitor.
    #[arg(long)]
    pub monitor: Option<String>,
    /// Pixels per monitor pixel (default 1 for one monitor, 0.5 for the whole wall).
    #[arg(long)]
    pub scale: Option<f32>,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn snapshot(args: SnapshotArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let (layout, _) = match resolve_layout(args.layout.as_deref(), cfg, lang) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let scale = args
        .scale
        .unwrap_or(if args.monitor.is_some() { 1.0 } else { 0.5 });
    let (store, _backend) = match load_store(&args.data, cfg, lang) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut cx = crate::context::FrameCtx::new(lang, chrono::Utc::now());
    cx.role = cfg.role;
    cx.store = std::sync::Arc::new(store);
    cx.map = std::sync::Arc::new(crate::map::MapSetup::new(cfg.map.clone()));
    cx.cameras = camera_hub(cfg);
    let req = snapshot::SnapshotRequest {
        layout: &layout,
        monitor: args.monitor.as_deref(),
        scale,
        cx,
    };
    match snapshot::write_png(&req, &args.out) {
        Ok([w, h]) => {
            println!(
                "{}",
                tr_args(
                    lang,
                    "cli.snapshot_written",
                    &[("out", &args.out.display()), ("w", &w), ("h", &h)]
                )
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", tr_args(lang, "cli.snapshot_failed", &[("error", &e)]));
            ExitCode::from(1)
        }
    }
}
