//! `act` and `outbox flush`: operator actions from scripts, through the same outbox as the desk.

use std::path::PathBuf;
use std::process::ExitCode;

use super::runtime;
use crate::app::connect;
use crate::config;

#[derive(clap::Subcommand)]
pub enum OutboxCommand {
    /// Send what the outbox still holds, then list its state.
    Flush(OutboxArgs),
}

#[derive(clap::Args)]
pub struct OutboxArgs {
    /// IOC backend base URL (default: backend_url of the configuration).
    #[arg(long)]
    pub backend: Option<String>,
    /// The outbox file (default: the backend's outbox in the XDG data directory).
    #[arg(long)]
    pub outbox: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ActArgs {
    #[command(flatten)]
    pub target: OutboxArgs,
    /// The incident's id.
    #[arg(long)]
    pub incident: String,
    /// verify, forward, start, resolve, reject or note.
    #[arg(long)]
    pub action: String,
    /// The unit to forward to.
    #[arg(long)]
    pub unit: Option<String>,
    /// A note, or the reason of a rejection.
    #[arg(long)]
    pub note: Option<String>,
    /// The incident version the decision was taken on (a different one is a conflict).
    #[arg(long)]
    pub expected_version: Option<u64>,
}

/// The outbox and client for `act` / `outbox flush`.
pub fn outbox_target(
    args: &OutboxArgs,
    cfg: &config::Config,
) -> Result<(crate::outbox::Outbox, crate::sources::Client), String> {
    let url = args
        .backend
        .clone()
        .or_else(|| cfg.backend_url.clone())
        .ok_or("no backend: give --backend URL or set backend_url in the configuration")?;
    let path = args
        .outbox
        .clone()
        .unwrap_or_else(|| connect::outbox_path_for(&url));
    let outbox = crate::outbox::Outbox::open(&path).map_err(|e| e.to_string())?;
    let token = crate::sources::client::read_token(cfg.token_file.as_deref())?;
    let client = crate::sources::Client::new(&crate::sources::ClientConfig {
        token,
        ca_bundle: cfg.ca_bundle.clone(),
        ..crate::sources::ClientConfig::new(url)
    })
    .map_err(|e| e.to_string())?;
    Ok((outbox, client))
}

/// Test hook: `IOC_CONSOLE_OUTBOX_PAUSE=after-write|after-send` stops the process at that point
/// (it says so on stdout) so that tests can kill it there.
pub fn pause_at(point: &str) {
    if std::env::var("IOC_CONSOLE_OUTBOX_PAUSE").is_ok_and(|p| p == point) {
        println!("paused {point}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

pub fn act(args: ActArgs, cfg: &config::Config) -> ExitCode {
    let (ob, client) = match outbox_target(&args.target, cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let action: crate::model::ActionKind =
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
    let request = crate::model::ActionRequest {
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
    let outcome = rt.block_on(crate::sources::actions::send(&client, &entry));
    pause_at("after-send");
    if let Err(e) = ob.record(&key, &outcome) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    report_outcome(&key, &outcome)
}

pub fn report_outcome(key: &str, outcome: &crate::outbox::Outcome) -> ExitCode {
    use crate::outbox::Outcome;
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
        Outcome::Held(m) => {
            println!("held {key}: {m}");
            ExitCode::from(4)
        }
    }
}

pub fn flush(args: OutboxArgs, cfg: &config::Config) -> ExitCode {
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
    match rt.block_on(crate::sources::actions::flush(&ob, &client)) {
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
