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
        /// Sign-in through the identity server (`[identity]`); none: no sign-in.
        identity: Option<Box<crate::auth::IdentityConfig>>,
    },
    /// The built-in simulator, in-process on 127.0.0.1.
    Demo {
        scenario: Option<String>,
        speed: f64,
        seed: Option<u64>,
        /// Incidents from the simulator's Open311 server rather than its IOC API.
        open311: bool,
    },
}

/// The context to wake when data arrives; set once the window exists.
pub type WakeTarget = Arc<OnceLock<egui::Context>>;

/// The outbox of a backend: one file per backend URL, so that actions recorded for one backend
/// are never sent to another.
pub fn outbox_path_for(base_url: &str) -> PathBuf {
    if let Some(p) = std::env::var_os("IOC_CONSOLE_OUTBOX") {
        return PathBuf::from(p);
    }
    let hash = base_url.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    crate::outbox::Outbox::default_path().with_file_name(format!("outbox-{hash:016x}.sqlite"))
}

/// Starts the runtime, the simulator when asked, and the client tasks.
pub fn connect(spec: &BackendSpec, timing: Timing) -> Result<(Backend, WakeTarget), String> {
    connect_with(spec, timing, &sources::external::External::default())
}

/// [`connect`], with the sources beside the backend (`[[source]]`, `[feeds]`).
pub fn connect_with(
    spec: &BackendSpec,
    timing: Timing,
    external: &sources::external::External,
) -> Result<(Backend, WakeTarget), String> {
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
    let mut demo_external = None;
    let mut identity = None;
    let mut sessions = None;
    let (cfg, trainer) = match spec {
        BackendSpec::Url {
            url,
            token_file,
            ca_bundle,
            trainer,
            identity: id,
        } => {
            let token = read_token(token_file.as_deref())?;
            if let Some(id) = id {
                let s = crate::auth::session::Sessions::new(
                    crate::auth::secrets::SecretStore::open(&id.issuer, &id.client_id),
                );
                identity = Some((**id).clone());
                sessions = Some(s);
            }
            let cfg = ClientConfig {
                token,
                ca_bundle: ca_bundle.clone(),
                sessions: sessions.clone(),
                ..ClientConfig::new(url.clone())
            };
            (cfg, *trainer)
        }
        BackendSpec::Demo {
            scenario,
            speed,
            seed,
            open311,
        } => {
            let mut sc = SimConfig {
                scenario: scenario.clone(),
                speed: *speed,
                serve_cameras: true,
                ..SimConfig::default()
            };
            if let Some(seed) = seed {
                sc.seed = *seed;
            }
            let sim = rt
                .block_on(SimServer::start(sc))
                .map_err(|e| format!("cannot start the simulator: {e}"))?;
            let cfg = ClientConfig::new(sim.base_url());
            if *open311 {
                demo_external = Some(demo_open311(&sim));
            }
            keep_alive.push(Box::new(sim));
            (cfg, true)
        }
    };
    // The simulator (a trainer's, or a test bench's) is not a real backend: a console without
    // sign-in may act on it. A real backend has no `/sim/status`.
    let simulated = match spec {
        BackendSpec::Demo { .. } => true,
        BackendSpec::Url { .. } if trainer => true,
        BackendSpec::Url { .. } => rt.block_on(is_simulator(&cfg)),
    };
    // Without a usable outbox the console still shows everything; actions are refused with the
    // reason rather than sent unrecorded.
    // The demo's world is new at every start, so its actions live in a throw-away outbox.
    // A random name (two demos at once, or a reused process id, never share one), removed again
    // when the backend is dropped.
    let mut throwaway = None;
    let outbox_path = match spec {
        BackendSpec::Demo { .. } if std::env::var_os("IOC_CONSOLE_OUTBOX").is_none() => {
            let path = std::env::temp_dir().join(format!(
                "ioc-console-demo-outbox-{}.sqlite",
                crate::outbox::new_key()
            ));
            throwaway = Some(RemoveOnDrop(path.clone()));
            path
        }
        _ => outbox_path_for(&cfg.base_url),
    };
    let outbox = match crate::outbox::Outbox::open(&outbox_path) {
        Ok(o) => Some(std::sync::Arc::new(o)),
        Err(e) => {
            tracing::error!(%e, "the outbox cannot be opened; operator actions will be refused");
            None
        }
    };
    // Sign-in's keeper: the identity server, fresh tokens, and the sessions of people who left
    // retired once the outbox holds nothing of theirs.
    if let (Some(s), Some(id)) = (&sessions, &identity) {
        let ca = match spec {
            BackendSpec::Url { ca_bundle, .. } => ca_bundle.clone(),
            BackendSpec::Demo { .. } => None,
        };
        rt.spawn(super::sign_in::keep_sessions(
            Arc::clone(s),
            id.clone(),
            ca,
            outbox.clone(),
        ));
    }
    let external = demo_external.as_ref().unwrap_or(external);
    // The audit trail: the user's file; the demo's in a throw-away file like its outbox.
    let (audit_path, console) = match &throwaway {
        Some(RemoveOnDrop(p)) => (p.with_extension("audit.sqlite"), "demo".to_owned()),
        None => (
            std::env::var_os("IOC_CONSOLE_AUDIT")
                .map(PathBuf::from)
                .unwrap_or_else(crate::audit::Audit::default_path),
            crate::audit::console_name(),
        ),
    };
    let audit_guard = (console == "demo").then(|| RemoveOnDrop(audit_path.clone()));
    let audit = match crate::audit::Audit::open(&audit_path) {
        Ok(a) => Some(crate::audit::Writer::start(
            a,
            console,
            crate::audit::local_user(),
        )),
        Err(e) => {
            tracing::error!(%e, "the audit trail cannot be opened; nothing will be recorded");
            None
        }
    };
    // The backend's copy of the trail is sent from a connection of its own.
    let audit_reader = crate::audit::Audit::open(&audit_path).ok().map(Arc::new);
    let link = sources::start_with(
        rt.handle(),
        &cfg,
        timing,
        wake,
        outbox.clone(),
        external,
        audit_reader,
    )
    .map_err(|e| e.to_string())?;
    let handle = rt.handle().clone();
    // Dropped front to back: the simulator's handle first, then the runtime it runs on.
    keep_alive.push(Box::new(rt));
    // Last: the outbox is closed once the runtime and its tasks are gone.
    if let Some(guard) = throwaway {
        keep_alive.push(Box::new(guard));
    }
    if let Some(guard) = audit_guard {
        keep_alive.push(Box::new(guard));
    }
    Ok((
        Backend {
            link,
            trainer,
            keep_alive,
            outbox,
            audit,
            identity,
            sessions,
            simulated,
            handle: Some(handle),
            ca_bundle: match spec {
                BackendSpec::Url { ca_bundle, .. } => ca_bundle.clone(),
                BackendSpec::Demo { .. } => None,
            },
        },
        target,
    ))
}

/// Whether the backend is the simulator (it answers `/sim/status`); asked once, briefly.
async fn is_simulator(cfg: &ClientConfig) -> bool {
    let Ok(client) = sources::Client::new(cfg) else {
        return false;
    };
    let Ok(url) = client.sim_url("status") else {
        return false;
    };
    let req = client
        .http()
        .get(url)
        .timeout(Duration::from_secs(2))
        .send();
    // The simulator's own answer, not any 200 (a proxy or a web app answering every path).
    let Ok(r) = req.await else {
        return false;
    };
    if !r.status().is_success() {
        return false;
    }
    match r.bytes().await {
        Ok(body) if body.len() < 1024 * 1024 => {
            serde_json::from_slice::<crate::model::sim::SimStatus>(&body).is_ok()
        }
        _ => false,
    }
}

/// The demo's incidents from the simulator's Open311 server: its agencies (unit names) mapped
/// to units, its services to the IOC's own categories, updates read and written.
pub fn demo_open311(sim: &SimServer) -> sources::external::External {
    use sources::external::*;
    use sources::open311::mapping::Open311Mapping;
    let (units, categories, province) = sim.with_world(|w| {
        (
            w.units()
                .iter()
                .map(|u| (u.name.clone(), u.id.clone()))
                .collect::<Vec<_>>(),
            w.categories()
                .iter()
                .map(|c| c.id.clone())
                .collect::<Vec<_>>(),
            w.units()
                .iter()
                .find(|u| u.level == crate::model::UnitLevel::Province && u.valid_to.is_none())
                .map(|u| u.id.clone())
                .unwrap_or_default(),
        )
    });
    let source = SourceConfig {
        id: "phan-anh".into(),
        name: "Phản ánh hiện trường (Open311)".into(),
        kind: SourceKind::Open311,
        url: sim.open311_url(),
        poll_seconds: Some(10),
        timeout_seconds: None,
        body_limit_mb: None,
        api_key_file: None,
        key_on_reads: false,
        format: Open311Format::Auto,
        jurisdiction_id: None,
        page_size: Some(500),
        max_pages: None,
        updates: Updates::ReadWrite,
        open311: Some(Open311Mapping {
            agencies: units.into_iter().collect(),
            services: categories.iter().map(|c| (c.clone(), c.clone())).collect(),
            default_unit: province,
            ..Open311Mapping::default()
        }),
        query: None,
        pxweb_version: None,
        max_cells: None,
        stats: None,
    };
    External {
        feeds: Feeds {
            incidents: vec![source.id.clone()],
            ..Feeds::default()
        },
        sources: vec![source],
        ca_bundle: None,
    }
}

/// Removes a throw-away SQLite file (and its journal files) when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
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
            let s = store.status(r, chrono::Utc::now());
            s.as_of.is_some()
                || s.reason.as_ref().and_then(|r| r.catalogue_key()) != Some("source.loading")
        }) && backend.link.external.iter().all(|id| {
            store
                .origins
                .get(id)
                .is_some_and(|o| o.fetched_at.is_some() || o.error.is_some())
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
