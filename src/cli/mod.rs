//! The subcommands of `ioc-console`: one file per command (its arguments beside its body);
//! `src/main.rs` only parses the command line and calls them. Shared here: where data and the
//! layout come from, the runtime, logging.

pub mod audit;
pub mod bench;
pub mod export;
pub mod kiosk;
pub mod layout;
pub mod outbox;
pub mod probe;
pub mod run;
pub mod sim;
pub mod snapshot;
pub mod source;
pub mod wall;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::app::connect::{self, BackendSpec};
use crate::config;
use crate::i18n::{Lang, tr, tr_args};
use crate::sources::Timing;
use crate::wall::WallLayout;

/// Loads the backend's data once (for snapshots and exports); keeps the backend alive with it.
/// The camera streams of this console, with the configured decoders preferred.
pub fn camera_hub(cfg: &config::Config) -> std::sync::Arc<crate::video::hub::CameraHub> {
    crate::video::config::prefer_decoders(&cfg.video.decoders);
    std::sync::Arc::new(crate::video::hub::CameraHub::new(cfg.video.clone()))
}

pub fn load_store(
    data: &DataArgs,
    cfg: &config::Config,
    lang: Lang,
) -> Result<(crate::store::Store, Option<crate::app::Backend>), ExitCode> {
    match data_spec(data, cfg, false)
        .map(|s| connect::connect_with(&s, Timing::default(), &cfg.external()))
    {
        Some(Ok((mut b, _))) => {
            let mut store = crate::store::Store::connected(b.link.timing.clone());
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
        None => Ok((crate::store::Store::default(), None)),
    }
}

/// The backend a command reads from: `--demo`, `--backend URL`, else the configuration's.
pub fn data_spec(args: &DataArgs, cfg: &config::Config, trainer: bool) -> Option<BackendSpec> {
    if args.demo {
        return Some(BackendSpec::Demo {
            scenario: None,
            speed: 1.0,
            seed: None,
            open311: false,
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
            identity: cfg.identity.clone().map(Box::new),
        })
}

/// Where the Debian package puts the shipped layouts and storyboards.
pub const INSTALLED_LAYOUT_DIR: &str = "/usr/share/ioc-console/layouts";

/// The layout to show: the explicit one, the configured one, `layouts/ioc-main.toml` (in a
/// checkout), the installed package's, or the copy built into the binary (so a console started
/// anywhere still shows the wall).
pub fn resolve_layout(
    explicit: Option<&Path>,
    cfg: &config::Config,
    lang: Lang,
) -> Result<(WallLayout, Option<PathBuf>), ExitCode> {
    let candidate = explicit
        .map(Path::to_path_buf)
        .or_else(|| cfg.default_layout.clone())
        .or_else(|| {
            [INSTALLED_LAYOUT_DIR, "layouts"]
                .iter()
                .rev()
                .map(|dir| Path::new(dir).join("ioc-main.toml"))
                .find(|p| p.exists())
        });
    let result = match &candidate {
        Some(path) => crate::wall::layout::load(path),
        None => crate::wall::layout::parse(Path::new("<built-in ioc-main.toml>"), BUILTIN_LAYOUT),
    };
    match result {
        Ok(l) => Ok((l, candidate)),
        Err(errors) => {
            eprintln!("{}", tr(lang, "cli.layout_failed"));
            eprintln!("{}", errors.say(lang));
            Err(ExitCode::from(1))
        }
    }
}

/// A tokio runtime for a command (several workers for the simulator, one for a client command).
pub fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, ExitCode> {
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
pub fn export_outcome(lang: Lang, out: &Path, result: Result<(), String>) -> ExitCode {
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

/// Where backend data comes from (commands that read it).
#[derive(clap::Args, Default, Clone)]
pub struct DataArgs {
    /// IOC backend base URL (default: backend_url of the configuration).
    #[arg(long, conflicts_with = "demo")]
    pub backend: Option<String>,
    /// Use the built-in simulated IOC.
    #[arg(long)]
    pub demo: bool,
}

pub const BUILTIN_LAYOUT: &str = include_str!("../../layouts/ioc-main.toml");

/// Memory of large buffers goes back to the system when they are freed: an answer's body, a
/// decoded picture, a snapshot. glibc otherwise raises its threshold for such buffers after the
/// first few are freed and keeps later ones in its heaps, where a burst (a backend sending
/// endless bodies, a storm of events) stays resident for good: on a wall PC running for months
/// that is memory lost at every burst (seen in the soak: +25 MB kept after each flood).
/// Called first in `main`, before any thread exists.
pub fn release_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

/// Logs to standard error, or, when systemd connected standard error to the journal (a
/// service), to the journal in its own protocol: each line with its priority (error, warning,
/// info, debug), target and fields, under the identifier `ioc-console`.
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,wgpu_core=warn,wgpu_hal=warn,naga=warn,eframe=warn,egui_wgpu=warn",
            )
        })
    };
    let journal_stream = std::env::var("JOURNAL_STREAM").ok();
    if stderr_is_journal(journal_stream.as_deref()) {
        match tracing_journald::layer() {
            Ok(layer) => {
                tracing_subscriber::registry()
                    .with(filter())
                    .with(layer.with_syslog_identifier("ioc-console".into()))
                    .init();
                tracing::info!("logging to the systemd journal");
                return;
            }
            Err(e) => eprintln!("the systemd journal cannot be reached ({e}): logging to stderr"),
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .init();
}

/// Whether standard error is the stream systemd named in `JOURNAL_STREAM` ("device:inode"):
/// a service's output, not a shell's redirection of a console started from a service's shell.
fn stderr_is_journal(journal_stream: Option<&str>) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Some((dev, ino)) = journal_stream.and_then(|v| v.trim().split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    std::fs::metadata("/proc/self/fd/2").is_ok_and(|m| m.dev() == dev && m.ino() == ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stream_systemd_named_is_the_journal() {
        use std::os::unix::fs::MetadataExt as _;
        assert!(!stderr_is_journal(None));
        assert!(!stderr_is_journal(Some("")));
        assert!(!stderr_is_journal(Some("not:numbers")));
        assert!(!stderr_is_journal(Some("12")));
        let m = std::fs::metadata("/proc/self/fd/2").unwrap();
        let ours = format!("{}:{}", m.dev(), m.ino());
        assert!(stderr_is_journal(Some(&ours)));
        // Another stream (systemd's value inherited by a shell that redirected the output).
        let other = format!("{}:{}", m.dev(), m.ino() + 1);
        assert!(!stderr_is_journal(Some(&other)));
    }
}
