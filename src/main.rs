//! The `ioc-console` command line: a thin layer over the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ioc_console::app::connect::{self, BackendSpec};
use ioc_console::app::{self, DisplayChoice, LaunchOptions};
use ioc_console::sources::Timing;
use ioc_console::ui::{Lang, tr, tr_args};
use ioc_console::wall::{WallLayout, layout, schema};
use ioc_console::{config, snapshot};

#[derive(Parser)]
#[command(
    name = "ioc-console",
    version,
    about = "Video-wall and operator console of a provincial IOC"
)]
struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/ioc-console/config.toml).
    #[arg(long, global = true, env = "IOC_CONSOLE_CONFIG")]
    config: Option<PathBuf>,
    /// Language of the interface: vi (default) or en.
    #[arg(long, global = true)]
    lang: Option<Lang>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the console on a layout (the default command).
    Run(RunArgs),
    /// Work with layout files.
    Layout {
        #[command(subcommand)]
        command: LayoutCommand,
    },
    /// Render the wall (or one monitor) to a PNG without a display.
    Snapshot(SnapshotArgs),
    /// The offline demo: the simulated IOC in-process and the console connected to it.
    Demo(DemoArgs),
    /// Serve the simulated IOC over HTTP (for trainings on several consoles, and tests).
    Sim(SimArgs),
    /// Record an operator action in the outbox and send it (for scripts and technicians).
    Act(ActArgs),
    /// Connect to a camera stream like a camera tile would and report what arrives.
    Probe(ProbeArgs),
    /// The outbox of operator actions.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Export charts for briefings and reports.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// A chart tile of a layout as SVG, PNG or PDF (by the output's extension).
    Chart(ExportChartArgs),
    /// The quarterly report on received and handled incidents (Điều 6.5), as CSV or PDF.
    Report(ExportReportArgs),
}

#[derive(clap::Args)]
struct ExportReportArgs {
    /// The quarter, e.g. 2026Q3 (default: the last complete quarter).
    #[arg(long)]
    quarter: Option<String>,
    /// Output file: .csv or .pdf.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Send what the outbox still holds, then list its state.
    Flush(OutboxArgs),
}

#[derive(clap::Args)]
struct OutboxArgs {
    /// IOC backend base URL (default: backend_url of the configuration).
    #[arg(long)]
    backend: Option<String>,
    /// The outbox file (default: the backend's outbox in the XDG data directory).
    #[arg(long)]
    outbox: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ProbeArgs {
    /// The stream: rtsp://, http(s):// (MJPEG, HLS) or a local file. Credentials in it are
    /// never printed.
    url: String,
    /// How long to take frames after the first one.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// RTSP over TCP only (default: UDP, falling back to TCP).
    #[arg(long)]
    tcp: bool,
    /// RTSP jitter buffer in milliseconds.
    #[arg(long, default_value_t = 200)]
    latency_ms: u64,
}

#[derive(clap::Args)]
struct ActArgs {
    #[command(flatten)]
    target: OutboxArgs,
    /// The incident's id.
    #[arg(long)]
    incident: String,
    /// verify, forward, start, resolve, reject or note.
    #[arg(long)]
    action: String,
    /// The unit to forward to.
    #[arg(long)]
    unit: Option<String>,
    /// A note, or the reason of a rejection.
    #[arg(long)]
    note: Option<String>,
    /// The incident version the decision was taken on (a different one is a conflict).
    #[arg(long)]
    expected_version: Option<u64>,
}

#[derive(clap::Args)]
struct ExportChartArgs {
    /// Layout file (default as for `run`).
    #[arg(long)]
    layout: Option<PathBuf>,
    /// The chart tile's id.
    #[arg(long)]
    tile: String,
    /// Output file: .svg, .png or .pdf.
    #[arg(long)]
    out: PathBuf,
    /// Picture width in points.
    #[arg(long, default_value_t = 1200)]
    width: u32,
    /// Picture height in points.
    #[arg(long, default_value_t = 700)]
    height: u32,
    /// PNG pixels per point.
    #[arg(long, default_value_t = 1.0)]
    scale: f32,
    #[command(flatten)]
    data: DataArgs,
}

/// Where backend data comes from (commands that read it).
#[derive(clap::Args, Default, Clone)]
struct DataArgs {
    /// IOC backend base URL (default: backend_url of the configuration).
    #[arg(long, conflicts_with = "demo")]
    backend: Option<String>,
    /// Use the built-in simulated IOC.
    #[arg(long)]
    demo: bool,
}

#[derive(clap::Args)]
struct DemoArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Start a training scenario (tidal-flooding, traffic-accident, security-incident).
    #[arg(long)]
    scenario: Option<String>,
    /// Speed of simulated time, 1 to 60.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
}

#[derive(clap::Args)]
struct SimArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    #[arg(long, default_value_t = 2607)]
    seed: u64,
    /// Start a training scenario.
    #[arg(long)]
    scenario: Option<String>,
    /// Speed of simulated time, 1 to 60.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Require this bearer token (read from the file).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Fixed simulated start time (RFC 3339), for identical runs.
    #[arg(long)]
    epoch: Option<chrono::DateTime<chrono::Utc>>,
    /// Base URL of the simulated cameras' streams (ignored with --serve-cameras).
    #[arg(long, default_value = "rtsp://127.0.0.1:8554")]
    camera_base: String,
    /// Serve the demo cameras over RTSP on loopback (H.264 main and sub streams, one MJPEG).
    #[arg(long)]
    serve_cameras: bool,
    /// Start with simulated time stopped (resume with POST /sim/control).
    #[arg(long)]
    paused: bool,
}

#[derive(clap::Args, Default)]
struct RunArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Show the trainer's panel for a simulator started with `ioc-console sim`.
    #[arg(long)]
    trainer: bool,
    /// Layout file (default: the configuration's default_layout, else layouts/ioc-main.toml).
    #[arg(long)]
    layout: Option<PathBuf>,
    /// One borderless fullscreen window per monitor, plus the desk window.
    #[arg(long, conflicts_with = "preview")]
    wall: bool,
    /// The whole wall scaled into one window.
    #[arg(long)]
    preview: bool,
}

#[derive(Subcommand)]
enum LayoutCommand {
    /// Validate layout files; exits non-zero when any is invalid.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of layout files.
    Schema,
}

#[derive(clap::Args)]
struct SnapshotArgs {
    /// Layout file (default as for `run`).
    #[arg(long)]
    layout: Option<PathBuf>,
    /// Output PNG file.
    #[arg(long)]
    out: PathBuf,
    /// Render only this monitor.
    #[arg(long)]
    monitor: Option<String>,
    /// Pixels per monitor pixel (default 1 for one monitor, 0.5 for the whole wall).
    #[arg(long)]
    scale: Option<f32>,
    #[command(flatten)]
    data: DataArgs,
}

const BUILTIN_LAYOUT: &str = include_str!("../layouts/ioc-main.toml");

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let pre_lang = cli.lang.unwrap_or_default();
    let (cfg, _cfg_path) = match config::load(cli.config.as_deref(), pre_lang) {
        Ok((mut c, path)) => {
            // Map files named in the configuration are read from its folder.
            let base = path.as_deref().and_then(std::path::Path::parent);
            c.map = c.map.resolved(base);
            (c, path)
        }
        Err(e) => {
            eprintln!("{}", tr_args(pre_lang, "config.error", &[("error", &e)]));
            return ExitCode::from(2);
        }
    };
    let lang = cli.lang.unwrap_or(cfg.language);
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(args, &cfg, lang),
        Command::Layout {
            command: LayoutCommand::Check { files },
        } => layout_check(&files, lang),
        Command::Layout {
            command: LayoutCommand::Schema,
        } => {
            println!("{}", schema::layout_schema_json());
            ExitCode::SUCCESS
        }
        Command::Snapshot(args) => snapshot_cmd(args, &cfg, lang),
        Command::Demo(args) => {
            let spec = BackendSpec::Demo {
                scenario: args.scenario,
                speed: args.speed.clamp(1.0, 60.0),
                seed: None,
            };
            launch(args.run, &cfg, lang, Some(spec))
        }
        Command::Sim(args) => sim(args),
        Command::Export {
            command: ExportCommand::Chart(args),
        } => export_chart(args, &cfg, lang),
        Command::Export {
            command: ExportCommand::Report(args),
        } => export_report(args, &cfg, lang),
        Command::Act(args) => act(args, &cfg),
        Command::Probe(args) => probe(args, &cfg, lang),
        Command::Outbox {
            command: OutboxCommand::Flush(args),
        } => outbox_flush(args, &cfg),
    }
}

/// Loads the backend's data once (for snapshots and exports); keeps the backend alive with it.
/// The camera streams of this console, with the configured decoders preferred.
fn camera_hub(cfg: &config::Config) -> std::sync::Arc<ioc_console::video::hub::CameraHub> {
    ioc_console::video::hub::prefer_decoders(&cfg.video.decoders);
    std::sync::Arc::new(ioc_console::video::hub::CameraHub::new(cfg.video.clone()))
}

fn load_store(
    data: &DataArgs,
    cfg: &config::Config,
    lang: Lang,
) -> Result<(ioc_console::store::Store, Option<ioc_console::app::Backend>), ExitCode> {
    match data_spec(data, cfg, false).map(|s| connect::connect(&s, Timing::default())) {
        Some(Ok((mut b, _))) => {
            let mut store = ioc_console::store::Store::connected(b.link.timing.clone());
            if !connect::wait_for_first_load(&mut b, &mut store, std::time::Duration::from_secs(30))
            {
                eprintln!("{}", tr(lang, "cli.snapshot_partial"));
            }
            Ok((store, Some(b)))
        }
        Some(Err(e)) => {
            eprintln!("{e}");
            Err(ExitCode::from(2))
        }
        None => Ok((ioc_console::store::Store::default(), None)),
    }
}

fn export_chart(args: ExportChartArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let (layout, _) = match resolve_layout(args.layout.as_deref(), cfg, lang) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let Some(tile) = layout.tiles.iter().find(|t| t.id == args.tile) else {
        eprintln!(
            "{}",
            tr_args(lang, "export.unknown_tile", &[("id", &args.tile)])
        );
        return ExitCode::from(2);
    };
    let (store, _backend) = match load_store(&args.data, cfg, lang) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let size = (args.width.clamp(200, 8000), args.height.clamp(150, 8000));
    let result = ioc_console::charts::export::export_tile(
        tile,
        std::sync::Arc::new(store),
        lang,
        chrono::Utc::now(),
        &args.out,
        size,
        args.scale.clamp(0.25, 4.0),
    );
    export_outcome(lang, &args.out, result)
}

/// The backend a command reads from: `--demo`, `--backend URL`, else the configuration's.
fn data_spec(args: &DataArgs, cfg: &config::Config, trainer: bool) -> Option<BackendSpec> {
    if args.demo {
        return Some(BackendSpec::Demo {
            scenario: None,
            speed: 1.0,
            seed: None,
        });
    }
    args.backend
        .clone()
        .or_else(|| cfg.backend_url.clone())
        .map(|url| BackendSpec::Url {
            url,
            token_file: cfg.token_file.clone(),
            ca_bundle: cfg.ca_bundle.clone(),
            trainer,
        })
}

fn sim(args: SimArgs) -> ExitCode {
    let token = match ioc_console::sources::client::read_token(args.token_file.as_deref()) {
        Ok(t) if args.token_file.is_some() => t,
        Ok(_) => None,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match runtime(true) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let config = ioc_console::sim::SimConfig {
        listen: args.listen,
        seed: args.seed,
        epoch: args.epoch,
        scenario: args.scenario,
        speed: args.speed.clamp(1.0, 60.0),
        paused: args.paused,
        token,
        camera_base: args.camera_base,
        serve_cameras: args.serve_cameras,
    };
    rt.block_on(async {
        match ioc_console::sim::SimServer::start(config).await {
            Ok(server) => {
                println!("{}", server.base_url());
                let _ = tokio::signal::ctrl_c().await;
                server.stop().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot start the simulator: {e}");
                ExitCode::from(1)
            }
        }
    })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "info,wgpu_core=warn,wgpu_hal=warn,naga=warn,eframe=warn,egui_wgpu=warn",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The layout to show: the explicit one, the configured one, `layouts/ioc-main.toml`, or the
/// copy built into the binary (so a console started anywhere still shows the wall).
fn resolve_layout(
    explicit: Option<&Path>,
    cfg: &config::Config,
    lang: Lang,
) -> Result<(WallLayout, Option<PathBuf>), ExitCode> {
    let candidate = explicit
        .map(Path::to_path_buf)
        .or_else(|| cfg.default_layout.clone())
        .or_else(|| Some(PathBuf::from("layouts/ioc-main.toml")).filter(|p| p.exists()));
    let result = match &candidate {
        Some(path) => layout::load(path, lang),
        None => layout::parse(Path::new("<built-in ioc-main.toml>"), BUILTIN_LAYOUT, lang),
    };
    match result {
        Ok(l) => Ok((l, candidate)),
        Err(errors) => {
            eprintln!("{}", tr(lang, "cli.layout_failed"));
            eprintln!("{errors}");
            Err(ExitCode::from(1))
        }
    }
}

fn run(args: RunArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let spec = data_spec(&args.data, cfg, args.trainer);
    launch(args, cfg, lang, spec)
}

fn launch(args: RunArgs, cfg: &config::Config, lang: Lang, spec: Option<BackendSpec>) -> ExitCode {
    let (layout, layout_path) = match resolve_layout(args.layout.as_deref(), cfg, lang) {
        Ok(l) => l,
        Err(code) => return code,
    };
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
    let (backend, wake) = match spec.map(|s| connect::connect(&s, Timing::default())) {
        Some(Ok((b, w))) => (Some(b), Some(w)),
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        None => (None, None),
    };
    let opts = LaunchOptions {
        backend,
        wake,
        watch: layout_path.is_some(),
        layout,
        layout_path,
        lang,
        role: cfg.role,
        display,
        map: std::sync::Arc::new(ioc_console::map::MapSetup::new(cfg.map.clone())),
        cameras: camera_hub(cfg),
    };
    match app::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", tr_args(lang, "cli.window_failed", &[("error", &e)]));
            eprintln!("{}", tr(lang, "cli.no_display_hint"));
            ExitCode::from(3)
        }
    }
}

fn layout_check(files: &[PathBuf], lang: Lang) -> ExitCode {
    let mut failed = false;
    for file in files {
        let name = file.display();
        match layout::load(file, lang) {
            Ok(l) => println!(
                "{}",
                tr_args(
                    lang,
                    "layout.check_ok",
                    &[
                        ("file", &name),
                        ("monitors", &l.monitors.len()),
                        ("tiles", &l.tiles.len())
                    ]
                )
            ),
            Err(errors) => {
                failed = true;
                eprintln!("{errors}");
                eprintln!(
                    "{}",
                    tr_args(
                        lang,
                        "layout.check_failed",
                        &[("file", &name), ("n", &errors.0.len())]
                    )
                );
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn snapshot_cmd(args: SnapshotArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
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
    let mut cx = ioc_console::ui::FrameCtx::new(lang, chrono::Utc::now());
    cx.role = cfg.role;
    cx.store = std::sync::Arc::new(store);
    cx.map = std::sync::Arc::new(ioc_console::map::MapSetup::new(cfg.map.clone()));
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

fn export_report(args: ExportReportArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    use ioc_console::incidents::report;
    let quarter = match args.quarter.as_deref() {
        Some(q) => match report::Quarter::parse(q) {
            Some(q) => q,
            None => {
                eprintln!(
                    "{}",
                    tr_args(lang, "report.bad_quarter", &[("quarter", &q)])
                );
                return ExitCode::from(2);
            }
        },
        None => report::Quarter::last_complete(
            ioc_console::ui::format::to_vietnam_time(chrono::Utc::now()).date_naive(),
        ),
    };
    let (store, _backend) = match load_store(&args.data, cfg, lang) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(incidents) = store.incidents.data.as_ref() else {
        eprintln!("{}", tr(lang, "report.no_data"));
        return ExitCode::from(1);
    };
    let units = store.units.data.clone().unwrap_or_default();
    let categories = store.categories.data.clone().unwrap_or_default();
    let r = report::build(
        incidents.values(),
        &units,
        &categories,
        quarter,
        chrono::Utc::now(),
        lang,
    );
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let written = match ext.as_deref() {
        Some("csv") => std::fs::write(&args.out, report::csv(&r, lang)).map_err(|e| e.to_string()),
        Some("pdf") => ioc_console::charts::export::svg_to_pdf(&report::svg(&r, lang))
            .and_then(|pdf| std::fs::write(&args.out, pdf).map_err(|e| e.to_string())),
        _ => Err(tr(lang, "report.bad_extension").to_owned()),
    };
    export_outcome(lang, &args.out, written)
}

/// The outbox and client for `act` / `outbox flush`.
fn outbox_target(
    args: &OutboxArgs,
    cfg: &config::Config,
) -> Result<
    (
        ioc_console::incidents::outbox::Outbox,
        ioc_console::sources::Client,
    ),
    String,
> {
    let url = args
        .backend
        .clone()
        .or_else(|| cfg.backend_url.clone())
        .ok_or("no backend: give --backend URL or set backend_url in the configuration")?;
    let path = args
        .outbox
        .clone()
        .unwrap_or_else(|| connect::outbox_path_for(&url));
    let outbox = ioc_console::incidents::outbox::Outbox::open(&path).map_err(|e| e.to_string())?;
    let token = ioc_console::sources::client::read_token(cfg.token_file.as_deref())?;
    let client = ioc_console::sources::Client::new(&ioc_console::sources::ClientConfig {
        token,
        ca_bundle: cfg.ca_bundle.clone(),
        ..ioc_console::sources::ClientConfig::new(url)
    })
    .map_err(|e| e.to_string())?;
    Ok((outbox, client))
}

/// Test hook: `IOC_CONSOLE_OUTBOX_PAUSE=after-write|after-send` stops the process at that point
/// (it says so on stdout) so that tests can kill it there.
fn pause_at(point: &str) {
    if std::env::var("IOC_CONSOLE_OUTBOX_PAUSE").is_ok_and(|p| p == point) {
        println!("paused {point}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// `probe`: exits 0 with a report, 5 when the stream cannot be had (the reason in words).
fn probe(args: ProbeArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    use ioc_console::video;
    for name in video::hub::prefer_decoders(&cfg.video.decoders) {
        eprintln!(
            "{}",
            tr_args(lang, "video.probe.decoder_missing", &[("name", &name)])
        );
    }
    let opts = video::OpenOptions {
        transport: if args.tcp {
            video::Transport::Tcp
        } else {
            video::Transport::Auto
        },
        latency: std::time::Duration::from_millis(args.latency_ms),
        ..Default::default()
    };
    let url = video::redact(&args.url);
    match video::probe(&args.url, args.seconds, &opts) {
        Ok(r) => {
            let fps = if r.fps > 0.0 { r.fps } else { r.measured_fps };
            let fps = ioc_console::ui::format::number(lang, fps, 1);
            let lines = [
                tr_args(lang, "video.probe.url", &[("url", &r.url)]),
                tr_args(
                    lang,
                    "video.probe.stream",
                    &[
                        ("codec", &r.codec),
                        ("w", &r.width),
                        ("h", &r.height),
                        ("fps", &fps),
                        ("format", &r.format),
                    ],
                ),
                tr_args(lang, "video.probe.decoder", &[("decoder", &r.decoder)]),
                tr_args(
                    lang,
                    "video.probe.first_frame",
                    &[("ms", &r.first_frame.as_millis())],
                ),
                tr_args(
                    lang,
                    "video.probe.frames",
                    &[
                        ("n", &r.frames),
                        (
                            "s",
                            &ioc_console::ui::format::number(lang, r.duration.as_secs_f64(), 1),
                        ),
                    ],
                ),
            ];
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let reason = tr_args(lang, e.key(), &[("detail", &e.detail())]);
            eprintln!(
                "{}",
                tr_args(
                    lang,
                    "video.probe.failed",
                    &[("url", &url), ("reason", &reason)]
                )
            );
            ExitCode::from(5)
        }
    }
}

fn act(args: ActArgs, cfg: &config::Config) -> ExitCode {
    use ioc_console::incidents::outbox;
    let (ob, client) = match outbox_target(&args.target, cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let action: ioc_console::model::ActionKind =
        match serde_json::from_value(serde_json::Value::String(args.action.clone())) {
            Ok(a) => a,
            Err(_) => {
                eprintln!(
                    "unknown action `{}`: use verify, forward, start, resolve, reject or note",
                    args.action
                );
                return ExitCode::from(2);
            }
        };
    let request = ioc_console::model::ActionRequest {
        action,
        unit_id: args.unit,
        note: args.note,
        expected_version: args.expected_version,
        actor: None,
    };
    let key = match ob.enqueue(&args.incident, &request) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    println!("recorded {key}");
    pause_at("after-write");
    let rt = match runtime(false) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let entry = ob
        .pending()
        .ok()
        .and_then(|p| p.into_iter().find(|e| e.key == key));
    let Some(entry) = entry else {
        eprintln!("the recorded action is not pending any more");
        return ExitCode::from(1);
    };
    let outcome = rt.block_on(outbox::send(&client, &entry));
    pause_at("after-send");
    if let Err(e) = ob.record(&key, &outcome) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    report_outcome(&key, &outcome)
}

fn report_outcome(key: &str, outcome: &ioc_console::incidents::outbox::Outcome) -> ExitCode {
    use ioc_console::incidents::outbox::Outcome;
    match outcome {
        Outcome::Acked(i) => {
            println!(
                "acked {key}: {} is {:?} (version {})",
                i.id, i.status, i.version
            );
            ExitCode::SUCCESS
        }
        Outcome::AckedUnread(m) => {
            println!("unconfirmed {key}: {m}");
            ExitCode::from(4)
        }
        Outcome::Conflict(m) => {
            println!("conflict {key}: {m}");
            ExitCode::from(4)
        }
        Outcome::Refused(m) => {
            println!("refused {key}: {m}");
            ExitCode::from(4)
        }
        Outcome::Retry(m) => {
            println!("pending {key}: {m}");
            ExitCode::from(5)
        }
    }
}

fn outbox_flush(args: OutboxArgs, cfg: &config::Config) -> ExitCode {
    let (ob, client) = match outbox_target(&args, cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match runtime(false) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(ioc_console::incidents::outbox::flush(&ob, &client)) {
        Ok(done) => {
            let mut code = ExitCode::SUCCESS;
            for (entry, outcome) in &done {
                let c = report_outcome(&entry.key, outcome);
                if c != ExitCode::SUCCESS {
                    code = c;
                }
            }
            println!(
                "{} sent, {} still pending",
                done.len(),
                ob.pending().map(|p| p.len()).unwrap_or(0)
            );
            code
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

/// A tokio runtime for a command (several workers for the simulator, one for a client command).
fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut b = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all().build().map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(1)
    })
}

/// Says where an export went, or why it failed.
fn export_outcome(lang: Lang, out: &Path, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => {
            println!(
                "{}",
                tr_args(lang, "export.written", &[("out", &out.display())])
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", tr_args(lang, "export.failed", &[("error", &e)]));
            ExitCode::from(1)
        }
    }
}
