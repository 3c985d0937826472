//! The `ioc-console` command line: a thin layer over the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ioc_console::app::{self, DisplayChoice, LaunchOptions};
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
}

#[derive(clap::Args, Default)]
struct RunArgs {
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
}

const BUILTIN_LAYOUT: &str = include_str!("../layouts/ioc-main.toml");

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let pre_lang = cli.lang.unwrap_or_default();
    let (cfg, _cfg_path) = match config::load(cli.config.as_deref(), pre_lang) {
        Ok(c) => c,
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
    }
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
    let opts = LaunchOptions {
        watch: layout_path.is_some(),
        layout,
        layout_path,
        lang,
        role: cfg.role,
        display,
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
    let mut cx = ioc_console::ui::FrameCtx::new(lang, chrono::Utc::now());
    cx.role = cfg.role;
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
