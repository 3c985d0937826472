//! The console under systemd's watchdog: READY once the first frame has been drawn, and
//! WATCHDOG pings from the UI loop itself (`App::logic`, never from a background thread), so a frozen UI or a
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

    /// Every pass of the UI loop (`App::logic`: eframe runs it even while the window is hidden
    /// or minimized and no frame is drawn, so a desk out of sight is not restarted). After the
    /// first frame has been painted: READY once, then pings when due; and the next pass asked
    /// for within the ping interval (frames are otherwise as sparse as a minute when drawing
    /// sparingly).
    pub fn pass(&mut self, ctx: &egui::Context) {
        if let Some(file) = &self.stall_file {
            while file.exists() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if self.frames > 0 {
            self.notifier.ready("drawing");
            self.notifier.ping(Instant::now());
        }
        // Before READY, the next pass at once.
        let within = if self.frames < 2 {
            Some(Duration::ZERO)
        } else {
            self.notifier.ping_every()
        };
        if let Some(within) = within {
            ctx.request_repaint_after(within);
        }
    }

    /// A frame was drawn (`App::ui`); it is painted before the next pass.
    pub fn frame_drawn(&mut self) {
        self.frames += 1;
    }

    pub fn stopping(&mut self) {
        self.notifier.stopping();
    }
}
