//! The console under systemd's watchdog: READY once the first frame has been drawn, and
//! WATCHDOG pings from the UI loop itself (never from a background thread), so a frozen UI or a
//! stuck GPU stops the pings and systemd restarts the console (`Type=notify`, `WatchdogSec`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::util::sd_notify::Notifier;

pub struct UiWatchdog {
    notifier: Notifier,
    frames: u64,
    /// Test hook (`IOC_TEST_STALL_FILE`): while this file exists the UI loop stands still, as a
    /// frozen UI would, so a test can see the pings stop.
    stall_file: Option<PathBuf>,
}

impl UiWatchdog {
    /// The watchdog systemd asked for (`NOTIFY_SOCKET`), if any.
    pub fn from_env() -> Option<UiWatchdog> {
        let notifier = Notifier::from_env()?;
        Some(UiWatchdog {
            notifier,
            frames: 0,
            stall_file: std::env::var_os("IOC_TEST_STALL_FILE").map(PathBuf::from),
        })
    }

    /// At the start of a frame: the previous frame has been painted, so the call after the first
    /// frame says READY, and from then on every call pings when due.
    pub fn frame_begins(&mut self) {
        if let Some(file) = &self.stall_file {
            while file.exists() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if self.frames > 0 {
            self.notifier.ready("drawing");
            self.notifier.ping(Instant::now());
        }
        self.frames += 1;
    }

    /// The longest a frame may wait for the next one: the ping interval (frames are otherwise
    /// as sparse as a minute when drawing sparingly). Before READY, the next frame at once.
    pub fn next_frame_within(&self) -> Option<Duration> {
        if self.frames < 2 {
            return Some(Duration::ZERO);
        }
        self.notifier.ping_every()
    }

    pub fn stopping(&mut self) {
        self.notifier.stopping();
    }
}
