//! Getting data from the IOC backend, off the UI thread: one task per resource (fetch, then poll
//! at the resource's interval, retrying with jittered backoff), one task for the SSE stream, and
//! one for commands (trainer controls). Results reach the UI as [`Update`]s through a bounded
//! channel, and each one wakes the UI (coalesced by egui).

pub mod actions;
mod audit_sender;
pub mod backoff;
pub mod client;
mod ctx;
mod events;
pub mod external;
mod feed;
mod messages;
pub mod open311;
pub mod parse;
mod poll;
mod requests;
mod resource;
pub mod sse;
pub mod stats;
mod xml;

pub use messages::{Payload, Reply, Request, SourcePayload, Update};
pub use poll::parse_payload;
pub use resource::{Resource, Timing};

use ctx::{Ctx, Waker};
use events::stream_loop;
use poll::poll_loop;
use requests::{outbox_loop, request_loop};

use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

pub use client::{Client, ClientConfig, FetchError, Token};

/// The UI's end of the backend connection.
pub struct BackendLink {
    pub updates: mpsc::Receiver<Update>,
    pub requests: mpsc::Sender<Request>,
    pub timing: Timing,
    pub base_url: String,
    /// The ids of the sources beside the backend (`[[source]]`).
    pub external: Vec<String>,
}

/// Starts the background tasks on `rt`. `wake` is called after every update. Actions go through
/// `outbox` (without one, they are refused with the reason).
pub fn start(
    rt: &tokio::runtime::Handle,
    cfg: &ClientConfig,
    timing: Timing,
    wake: Waker,
    outbox: Option<Arc<crate::outbox::Outbox>>,
) -> Result<BackendLink, client::ClientError> {
    start_with(
        rt,
        cfg,
        timing,
        wake,
        outbox,
        &external::External::default(),
        None,
    )
}

/// [`start`], with sources beside the backend and which resources each gives.
pub fn start_with(
    rt: &tokio::runtime::Handle,
    cfg: &ClientConfig,
    timing: Timing,
    wake: Waker,
    outbox: Option<Arc<crate::outbox::Outbox>>,
    ext: &external::External,
    audit: Option<Arc<crate::audit::Audit>>,
) -> Result<BackendLink, client::ClientError> {
    let client = Client::new(cfg)?;
    let (tx, rx) = mpsc::channel(1024);
    let backend_feeds: Vec<Resource> = Resource::ALL
        .into_iter()
        .filter(|&r| ext.feeds.backend_feeds(r))
        .collect();
    // The store learns first which resources the backend gives (the channel is empty).
    let _ = tx.try_send(Update::Feeds {
        backend: backend_feeds.clone(),
    });
    let (req_tx, req_rx) = mpsc::channel(64);
    let ctx = Arc::new(Ctx {
        client,
        outbox,
        outbox_wake: Notify::new(),
        tx,
        wake,
        timing: timing.clone(),
        refresh: tokio::sync::watch::channel(0).0,
        stream_lost: tokio::sync::watch::channel(0).0,
        stream_up: false.into(),
        external_ids: ext.sources.iter().map(|s| s.id.clone()).collect(),
        externals: Default::default(),
        sessions: cfg.sessions.clone(),
    });
    for (i, r) in Resource::ALL.into_iter().enumerate() {
        if backend_feeds.contains(&r) {
            rt.spawn(poll_loop(Arc::clone(&ctx), r, i as u64));
        }
    }
    for (i, s) in ext.sources.iter().enumerate() {
        rt.spawn(feed::run(
            Arc::clone(&ctx),
            s.clone(),
            ext.feeds.of(&s.id),
            ext.ca_bundle.clone(),
            1000 + i as u64,
        ));
    }
    rt.spawn(stream_loop(Arc::clone(&ctx)));
    rt.spawn(request_loop(Arc::clone(&ctx), req_rx));
    rt.spawn(outbox_loop(Arc::clone(&ctx)));
    if let Some(a) = audit {
        rt.spawn(audit_sender::audit_loop(Arc::clone(&ctx), a));
    }
    Ok(BackendLink {
        updates: rx,
        requests: req_tx,
        timing,
        base_url: cfg.base_url.clone(),
        external: ext.sources.iter().map(|s| s.id.clone()).collect(),
    })
}
