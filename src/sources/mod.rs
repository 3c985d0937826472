//! Getting data from the IOC backend, off the UI thread: one task per resource (fetch, then poll
//! at the resource's interval, retrying with jittered backoff), one task for the SSE stream, and
//! one for commands (trainer controls). Results reach the UI as [`Update`]s through a bounded
//! channel, and each one wakes the UI (coalesced by egui).

pub mod actions;
pub mod backoff;
pub mod client;
mod ctx;
mod events;
mod messages;
pub mod parse;
mod poll;
mod requests;
mod resource;
pub mod sse;

pub use messages::{Payload, Request, Update};
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
    let client = Client::new(cfg)?;
    let (tx, rx) = mpsc::channel(1024);
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
    });
    for (i, r) in Resource::ALL.into_iter().enumerate() {
        rt.spawn(poll_loop(Arc::clone(&ctx), r, i as u64));
    }
    rt.spawn(stream_loop(Arc::clone(&ctx)));
    rt.spawn(request_loop(Arc::clone(&ctx), req_rx));
    rt.spawn(outbox_loop(Arc::clone(&ctx)));
    Ok(BackendLink {
        updates: rx,
        requests: req_tx,
        timing,
        base_url: cfg.base_url.clone(),
    })
}
