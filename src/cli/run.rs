//! `run` and `demo`: the console's window on a layout.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{DataArgs, camera_hub, data_spec, resolve_layout};
use crate::app::connect::{self, BackendSpec};
use crate::app::{self, DisplayChoice, LaunchOptions};
use crate::config;
use crate::i18n::{Lang, tr, tr_args};
use crate::sources::Timing;

#[derive(clap::Args, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Show the trainer's panel for a simulator started with `ioc-console sim`.
    #[arg(long)]
    pub trainer: bool,
    /// Layout file (default: the configuration's default_layout, else layouts/ioc-main.toml).
    #[arg(long)]
    pub layout: Option<PathBuf>,
    /// One borderless fullscreen window per monitor, plus the desk window.
    #[arg(long, conflicts_with = "preview")]
    pub wall: bool,
    /// The whole wall scaled into one window.
    #[arg(long)]
    pub preview: bool,
    /// A briefing storyboard (layouts/briefings/*.toml), offered first in Brief mode.
    #[arg(long)]
    pub storyboard: Option<PathBuf>,
    /// Present the storyboard unattended, full screen: its scenes by their durations, the data
    /// refreshed every round (a lobby or a leader's office screen).
    #[arg(long, requires = "storyboard")]
    pub rotate: bool,
    /// The layout's monitors this console drives, e.g. A1,B1,C1 (consoles in step; overrides
    /// the configuration's [sync] monitors).
    #[arg(long, value_delimiter = ',')]
    pub monitors: Vec<String>,
    /// The wall PC's kiosk: the wall alone, full screen without decorations, the cursor hidden
    /// at rest, screen blanking held off, closed only with the technician's PIN
    /// (`[kiosk] pin_hash`; Ctrl+Shift+Q or a close request asks for it).
    #[arg(long, conflicts_with = "rotate")]
    pub kiosk: bool,
    /// Serve health metrics (Prometheus text format) on this address, e.g. 127.0.0.1:9464
    /// (overrides the configuration's [metrics] listen).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Start a training scenario (tidal-flooding, traffic-accident, security-incident).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Speed of simulated time, 1 to 60.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Incidents from the simulator's Open311 GeoReport v2 server (as from a citizen-report
    /// system the IOC vendor did not write), everything else from its IOC API.
    #[arg(long)]
    pub open311: bool,
}

pub fn run(args: RunArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let spec = data_spec(&args.data, cfg, args.trainer);
    launch(args, cfg, lang, spec)
}

pub fn launch(
    args: RunArgs,
    cfg: &config::Config,
    lang: Lang,
    spec: Option<BackendSpec>,
) -> ExitCode {
    let (layout, layout_path) = match resolve_layout(args.layout.as_deref(), cfg, lang) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if !args.monitors.is_empty() && cfg.sync.is_none() {
        eprintln!("{}", tr(lang, "cli.monitors_need_sync"));
        return ExitCode::from(2);
    }
    // A storyboard is checked before any window opens.
    if let Some(path) = &args.storyboard
        && let Err(e) = crate::wall::storyboard::load(path)
    {
        eprintln!("{}", e.say(lang));
        return ExitCode::from(1);
    }
    if !app::display_available() {
        eprintln!("{}", tr(lang, "cli.no_display"));
        eprintln!("{}", tr(lang, "cli.no_display_hint"));
        return ExitCode::from(3);
    }
    let display = if args.wall {
        DisplayChoice::Wall
    } else if args.preview {
        DisplayChoice::Preview
    } else {
        DisplayChoice::Auto
    };
    let (backend, wake) =
        match spec.map(|s| connect::connect_with(&s, Timing::default(), &cfg.external())) {
            Some(Ok((b, w))) => (Some(b), Some(w)),
            Some(Err(e)) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
            None => (None, None),
        };
    // Consoles in step: the sync task on its own small runtime, waking the window as data does.
    let wake = wake.unwrap_or_default();
    let sync = cfg.sync.clone().map(|mut sc| {
        if !args.monitors.is_empty() {
            sc.monitors.clone_from(&args.monitors);
        }
        start_sync(&sc, cfg, &wake)
    });
    let sync = match sync {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let wake = Some(wake);
    let opts = LaunchOptions {
        backend,
        wake,
        watch: layout_path.is_some(),
        layout,
        layout_path,
        lang,
        role: cfg.role,
        display,
        map: std::sync::Arc::new(crate::map::MapSetup::new(cfg.map.clone())),
        cameras: camera_hub(cfg),
    };
    // Health metrics: the endpoint is up before the window opens (a taken port stops here).
    let metrics_addr = args
        .metrics
        .or_else(|| cfg.metrics.as_ref().map(|m| m.listen));
    let metrics = match metrics_addr.map(start_metrics) {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            eprintln!("{}", tr_args(lang, "cli.metrics_failed", &[("error", &e)]));
            return ExitCode::from(2);
        }
        None => None,
    };
    let brief = args.storyboard.map(|p| (p, args.rotate));
    let kiosk = args
        .kiosk
        .then(|| app::kiosk::Kiosk::new(cfg.kiosk.pin_hash.clone()));
    let (metrics, _endpoint) = metrics.unzip();
    match app::run(opts, cfg.low_power, brief, sync, kiosk, metrics) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", tr_args(lang, "cli.window_failed", &[("error", &e)]));
            eprintln!("{}", tr(lang, "cli.no_display_hint"));
            ExitCode::from(3)
        }
    }
}

/// The metrics and their endpoint on `addr` (kept alive with the returned endpoint).
fn start_metrics(
    addr: std::net::SocketAddr,
) -> Result<
    (
        std::sync::Arc<crate::metrics::Metrics>,
        crate::metrics::Endpoint,
    ),
    String,
> {
    let metrics = std::sync::Arc::new(
        crate::metrics::Metrics::new().map_err(|e| format!("cannot set up the metrics: {e}"))?,
    );
    let endpoint = crate::metrics::serve(addr, std::sync::Arc::clone(&metrics))?;
    Ok((metrics, endpoint))
}

/// Starts the sync task of `[sync]` on a runtime of its own (kept alive with the link).
fn start_sync(
    sc: &crate::sync::SyncConfig,
    cfg: &config::Config,
    wake: &connect::WakeTarget,
) -> Result<(crate::sync::SyncLink, Box<dyn std::any::Any>), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("ioc-sync")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the sync runtime: {e}"))?;
    let target = std::sync::Arc::clone(wake);
    let waker: crate::sync::Waker = std::sync::Arc::new(move || {
        if let Some(ctx) = target.get() {
            ctx.request_repaint_after(std::time::Duration::from_millis(5));
        }
    });
    let link = crate::sync::start(rt.handle(), sc, cfg.ca_bundle.clone(), Some(waker));
    Ok((link, Box::new(rt)))
}

/// `demo`: the simulated IOC in-process and the console connected to it.
pub fn demo(args: DemoArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let spec = BackendSpec::Demo {
        scenario: args.scenario,
        speed: args.speed.clamp(1.0, 60.0),
        seed: None,
        open311: args.open311,
    };
    launch(args.run, cfg, lang, Some(spec))
}
