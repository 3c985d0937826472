//! What every background task of one backend connection shares: the client, the outbox, the
//! channel to the UI and its waker, and the signals that make pollers fetch now.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use super::client::Client;
use super::messages::Update;
use super::resource::Timing;

pub(super) type Waker = Arc<dyn Fn() + Send + Sync>;

pub(super) struct Ctx {
    pub(super) client: Client,
    pub(super) outbox: Option<Arc<crate::outbox::Outbox>>,
    pub(super) outbox_wake: Notify,
    pub(super) tx: mpsc::Sender<Update>,
    pub(super) wake: Waker,
    pub(super) timing: Timing,
    /// Bumped to make every poller fetch now (a watch keeps the news for a poller that is busy
    /// fetching, unlike a notification).
    pub(super) refresh: tokio::sync::watch::Sender<u64>,
    /// Wakes the pollers of event-covered resources when the stream goes down, so that they
    /// switch to their fast interval now rather than after the slow one.
    pub(super) stream_lost: tokio::sync::watch::Sender<u64>,
    pub(super) stream_up: std::sync::atomic::AtomicBool,
    /// The ids of the sources beside the backend, and those running (for the outbox sender).
    pub(super) external_ids: Vec<String>,
    pub(super) externals: std::sync::Mutex<super::external::Registry>,
    /// The people signed in (their actions go with their tokens); none without sign-in.
    pub(super) sessions: Option<Arc<crate::auth::session::Sessions>>,
}

impl Ctx {
    pub(super) fn refresh_all(&self) {
        self.refresh.send_modify(|g| *g += 1);
    }

    pub(super) async fn send(&self, u: Update) -> bool {
        let ok = self.tx.send(u).await.is_ok();
        (self.wake)();
        ok
    }

    /// Sends without waking the UI: the event stream's heartbeat changes nothing on screen by
    /// itself (it confirms data as fresh); the next frame applies it. Waking for it would draw a
    /// frame every few seconds on a still wall.
    pub(super) async fn send_quietly(&self, u: Update) -> bool {
        self.tx.send(u).await.is_ok()
    }
}
