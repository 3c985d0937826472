//! The `ioc-console` command line: parses the arguments and calls the subcommand's body in
//! `ioc_console::cli`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ioc_console::cli::{
    self, audit, bench, export, kiosk, layout, outbox, probe, run, sim, snapshot, source, wall,
};
use ioc_console::config;
use ioc_console::i18n::{Lang, tr_args};

#[derive(Parser)]
#[command(
    name = "ioc-console",
    version,
    about = "Video-wall and operator console of a provincial IOC"
)]
struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/ioc-console/config.toml, else /etc/ioc-console/config.toml).
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
    Run(run::RunArgs),
    /// Work with layout files.
    Layout {
        #[command(subcommand)]
        command: layout::LayoutCommand,
    },
    /// Render the wall (or one monitor) to a PNG without a display.
    Snapshot(snapshot::SnapshotArgs),
    /// The offline demo: the simulated IOC in-process and the console connected to it.
    Demo(run::DemoArgs),
    /// Serve the simulated IOC over HTTP (for trainings on several consoles, and tests).
    Sim(sim::SimArgs),
    /// Record an operator action in the outbox and send it (for scripts and technicians).
    Act(outbox::ActArgs),
    /// Connect to a camera stream like a camera tile would and report what arrives.
    Probe(probe::ProbeArgs),
    /// The outbox of operator actions.
    Outbox {
        #[command(subcommand)]
        command: outbox::OutboxCommand,
    },
    /// Export charts for briefings and reports.
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// Setting up a dedicated wall PC: the technician's PIN hash, the wall session's sway
    /// configuration.
    Kiosk {
        #[command(subcommand)]
        command: kiosk::KioskCommand,
    },
    /// The wall shared by consoles in step (NATS): its state and consoles, and pushes to it.
    Wall {
        #[command(subcommand)]
        command: wall::WallCommand,
    },
    /// The audit trail of this PC: check its chain, export it as CSV.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Sources beside the IOC backend (Open311, SDMX, JSON-stat): check what the console
    /// understands of a file or URL.
    Source {
        #[command(subcommand)]
        command: source::SourceCommand,
    },
    /// Measurements of the GPU benchmark (benches/gpu.sh): the wall rendered offscreen, camera
    /// uploads, decoders (for developers and the IT team).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

fn main() -> ExitCode {
    cli::release_large_buffers();
    cli::init_logging();
    let args = Cli::parse();
    let pre_lang = args.lang.unwrap_or_default();
    let cfg = match config::load(args.config.as_deref()) {
        Ok((mut c, path)) => {
            // Map files named in the configuration are read from its folder.
            let base = path.as_deref().and_then(std::path::Path::parent);
            c.map = c.map.resolved(base);
            c
        }
        Err(e) => {
            eprintln!(
                "{}",
                tr_args(pre_lang, "config.error", &[("error", &e.say(pre_lang))])
            );
            return ExitCode::from(2);
        }
    };
    let lang = args.lang.unwrap_or(cfg.language);
    match args
        .command
        .unwrap_or(Command::Run(run::RunArgs::default()))
    {
        Command::Run(a) => run::run(a, &cfg, lang),
        Command::Layout {
            command:
                layout::LayoutCommand::Check {
                    files,
                    demo,
                    backend,
                },
        } => {
            let units = match (demo, backend) {
                (false, None) => None,
                (demo, backend) => {
                    let data = cli::DataArgs { backend, demo };
                    match cli::load_store(&data, &cfg, lang) {
                        Ok((store, _backend)) => Some(store.units.data.unwrap_or_default()),
                        Err(code) => return code,
                    }
                }
            };
            layout::check(&files, units.as_deref(), lang)
        }
        Command::Layout {
            command: layout::LayoutCommand::Schema { storyboard },
        } => layout::schema(storyboard),
        Command::Snapshot(a) => snapshot::snapshot(a, &cfg, lang),
        Command::Demo(a) => run::demo(a, &cfg, lang),
        Command::Sim(a) => sim::sim(a),
        Command::Export {
            command: export::ExportCommand::Chart(a),
        } => export::export_chart(a, &cfg, lang),
        Command::Export {
            command: export::ExportCommand::Report(a),
        } => export::export_report(a, &cfg, lang),
        Command::Export {
            command: export::ExportCommand::Briefing(a),
        } => export::export_briefing(a, &cfg, lang),
        Command::Wall {
            command: wall::WallCommand::Status(a),
        } => wall::status(a, &cfg, lang),
        Command::Wall {
            command: wall::WallCommand::Push(a),
        } => wall::push(a, &cfg, lang),
        Command::Kiosk {
            command: kiosk::KioskCommand::HashPin,
        } => kiosk::hash_pin(lang),
        Command::Kiosk {
            command: kiosk::KioskCommand::SwayConfig(a),
        } => kiosk::sway_config(a, &cfg, lang),
        Command::Act(a) => outbox::act(a, &cfg),
        Command::Bench { command } => bench::bench(command, &cfg, lang),
        Command::Audit { command } => audit::audit(command, lang),
        Command::Source {
            command: source::SourceCommand::Check(a),
        } => source::check(a, &cfg, lang),
        Command::Probe(a) => probe::probe(a, &cfg, lang),
        Command::Outbox {
            command: outbox::OutboxCommand::Flush(a),
        } => outbox::flush(a, &cfg),
    }
}
