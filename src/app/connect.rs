//! Connecting the console to a backend: a real one by URL, or the built-in simulator started
//! in-process on a loopback port (the demo), both through the same client.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::Backend;
use crate::sim::{SimConfig, SimServer};
use crate::sources::{self, ClientConfig, Resource, Timing, client::read_token};
use crate::store::Store;

/// Where the data comes from.
#[derive(Clone, Debug)]
pub enum BackendSpec {
    /// A real (or separately started) IOC backend.
    Url {
        url: String,
        token_file: Option<PathBuf>,
        ca_bundle: Option<PathBuf>,
        trainer: bool,
    },
    /// The built-in simulator, in-process on 127.0.0.1.
    Demo {
        scenario: Option<String>,
        speed: f64,
        seed: Option<u64>,
    },
}

/// The context to wake when data arrives; set once the window exists.
pub type WakeTarget = Arc<OnceLock<egui::Context>>;

/// Starts the runtime, the simulator when asked, and the client tasks.
pub fn connect(spec: &BackendSpec, timing: Timing) -> Result<(Backend, WakeTarget), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ioc-backend")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the background runtime: {e}"))?;
    let target: WakeTarget = Arc::new(OnceLock::new());
    let wake = {
        let target = Arc::clone(&target);
        Arc::new(move || {
            if let Some(ctx) = target.get() {
                ctx.request_repaint_after(Duration::from_millis(10));
            }
        })
    };
    let mut keep_alive: Vec<Box<dyn std::any::Any>> = Vec::new();
    let (cfg, trainer) = match spec {
        BackendSpec::Url {
            url,
            token_file,
            ca_bundle,
            trainer,
        } => {
            let token = read_token(token_file.as_deref())?;
            let cfg = ClientConfig {
                token,
                ca_bundle: ca_bundle.clone(),
                ..ClientConfig::new(url.clone())
            };
            (cfg, *trainer)
        }
        BackendSpec::Demo {
            scenario,
            speed,
            seed,
        } => {
            let mut sc = SimConfig {
                scenario: scenario.clone(),
                speed: *speed,
                ..SimConfig::default()
            };
            if let Some(seed) = seed {
                sc.seed = *seed;
            }
            let sim = rt
                .block_on(SimServer::start(sc))
                .map_err(|e| format!("cannot start the simulator: {e}"))?;
            let cfg = ClientConfig::new(sim.base_url());
            keep_alive.push(Box::new(sim));
            (cfg, true)
        }
    };
    let link = sources::start(rt.handle(), &cfg, timing, wake).map_err(|e| e.to_string())?;
    keep_alive.push(Box::new(rt));
    // The runtime must be dropped last (the simulator's server runs on it).
    keep_alive.reverse();
    Ok((
        Backend {
            link,
            trainer,
            keep_alive,
        },
        target,
    ))
}

/// Waits until every resource has been loaded or has failed once (for `snapshot` and exports),
/// applying updates to `store`. Gives up after `limit`.
pub fn wait_for_first_load(backend: &mut Backend, store: &mut Store, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        while let Ok(u) = backend.link.updates.try_recv() {
            store.apply(u);
        }
        let done = Resource::ALL.iter().all(|&r| {
            let s = store.status(r, chrono::Utc::now(), crate::ui::Lang::En);
            s.as_of.is_some()
                || s.reason.as_deref() != Some(crate::ui::tr(crate::ui::Lang::En, "source.loading"))
        });
        if done {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
