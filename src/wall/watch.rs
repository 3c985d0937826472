//! Hot reload: a background thread reads the layout file and posts the newest result (a valid
//! layout, or the reasons it is invalid) into a latest-wins slot, then wakes the UI. The UI keeps
//! the last good layout on the wall when a new one is invalid.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::layout::{self, LayoutErrors, WallLayout};

/// How often the file's metadata is checked: well inside the one second the wall promises.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The outcome of reading the layout file after it changed.
#[derive(Clone, Debug)]
pub enum LayoutEvent {
    Reloaded(Box<WallLayout>),
    Invalid(LayoutErrors),
}

type Waker = Box<dyn Fn() + Send + Sync>;

/// Watches one layout file until dropped.
pub struct LayoutWatcher {
    slot: Arc<Mutex<Option<LayoutEvent>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LayoutWatcher {
    /// Starts watching `path`. The file's current state counts as seen, so the first event is
    /// the first change. `wake` is called after each event (the app passes a repaint request).
    pub fn start(path: &Path, wake: Waker) -> std::io::Result<Self> {
        let slot = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let path = path.to_path_buf();
        // Taken here, not in the thread: a change made right after start (a save) is a change,
        // however late the thread runs.
        let seen = stamp(&path);
        let thread = std::thread::Builder::new()
            .name("layout-watch".into())
            .spawn({
                let slot = Arc::clone(&slot);
                let stop = Arc::clone(&stop);
                move || watch_loop(&path, seen, &slot, &stop, &wake)
            })?;
        Ok(LayoutWatcher {
            slot,
            stop,
            thread: Some(thread),
        })
    }

    /// Takes the newest event, if any arrived since the last call.
    pub fn poll(&self) -> Option<LayoutEvent> {
        self.slot.lock().map(|mut s| s.take()).unwrap_or(None)
    }
}

impl Drop for LayoutWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the file was when last read: its bytes' digest, or `None` when it could not be read.
/// The bytes, not the metadata: a save can land within the file system's timestamp tick with the
/// same length (seen on CI: a tile moved from monitor A to B at the same digits), and an atomic
/// rename may reuse the inode number just freed. A layout file is a few kilobytes; reading it
/// five times a second costs microseconds.
type Stamp = Option<u64>;

fn stamp(path: &Path) -> Stamp {
    use std::hash::{Hash, Hasher};
    let bytes = std::fs::read(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}

fn watch_loop(
    path: &Path,
    seen: Stamp,
    slot: &Mutex<Option<LayoutEvent>>,
    stop: &AtomicBool,
    wake: &Waker,
) {
    let mut last = seen;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL_INTERVAL);
        let now = stamp(path);
        if now == last {
            continue;
        }
        last = now;
        let event = match layout::load(path) {
            Ok(l) => {
                tracing::info!(path = %path.display(), "layout reloaded");
                LayoutEvent::Reloaded(Box::new(l))
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), errors = %e.say(crate::i18n::Lang::En), "layout changed but is invalid; keeping the last good layout");
                LayoutEvent::Invalid(e)
            }
        };
        if let Ok(mut s) = slot.lock() {
            *s = Some(event);
        }
        wake();
    }
}
