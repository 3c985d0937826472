//! The frame profile for technicians: how long the last frames took on the CPU per monitor and
//! per tile, so that a slow tile on a real wall can be named (F12 on the desk shows it, slowest
//! first). Drawing records into it; nothing else reads the clock for it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How many frames of each monitor and tile are kept.
pub const FRAMES: usize = 120;

/// Recent times of one monitor or tile (newest last).
#[derive(Clone, Debug, Default)]
pub struct Times {
    pub recent: std::collections::VecDeque<Duration>,
}

impl Times {
    fn push(&mut self, d: Duration) {
        if self.recent.len() == FRAMES {
            self.recent.pop_front();
        }
        self.recent.push_back(d);
    }

    pub fn last(&self) -> Duration {
        self.recent.back().copied().unwrap_or_default()
    }

    pub fn mean(&self) -> Duration {
        if self.recent.is_empty() {
            return Duration::ZERO;
        }
        self.recent.iter().sum::<Duration>() / self.recent.len() as u32
    }

    pub fn max(&self) -> Duration {
        self.recent.iter().copied().max().unwrap_or_default()
    }
}

/// One row of the profile: a monitor, or a tile on a monitor.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileRow {
    pub monitor: String,
    /// None: the whole monitor.
    pub tile: Option<String>,
    pub kind: &'static str,
    pub last: Duration,
    pub mean: Duration,
    pub max: Duration,
}

/// (monitor, tile) → the tile's kind and its times.
type Table = HashMap<(String, Option<String>), (&'static str, Times)>;

#[derive(Debug, Default)]
pub struct FrameProfile {
    /// Off unless the technician shows it: drawing records nothing then.
    on: std::sync::atomic::AtomicBool,
    times: Mutex<Table>,
}

impl FrameProfile {
    pub fn enabled(&self) -> bool {
        self.on.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_enabled(&self, on: bool) {
        self.on.store(on, std::sync::atomic::Ordering::Relaxed);
        if !on {
            self.times.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// Records how long a monitor (`tile` None) or a tile took to draw.
    pub fn record(&self, monitor: &str, tile: Option<&str>, kind: &'static str, d: Duration) {
        if !self.enabled() {
            return;
        }
        let mut times = self.times.lock().unwrap_or_else(|p| p.into_inner());
        times
            .entry((monitor.to_owned(), tile.map(str::to_owned)))
            .or_insert_with(|| (kind, Times::default()))
            .1
            .push(d);
    }

    /// Monitors and tiles, slowest (by mean) first.
    pub fn rows(&self) -> Vec<ProfileRow> {
        let times = self.times.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<ProfileRow> = times
            .iter()
            .map(|((monitor, tile), (kind, t))| ProfileRow {
                monitor: monitor.clone(),
                tile: tile.clone(),
                kind,
                last: t.last(),
                mean: t.mean(),
                max: t.max(),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.mean
                .cmp(&a.mean)
                .then_with(|| a.monitor.cmp(&b.monitor))
                .then_with(|| a.tile.cmp(&b.tile))
        });
        rows
    }

    /// Forgets tiles a new layout no longer has.
    pub fn retain(&self, keep: impl Fn(&str, Option<&str>) -> bool) {
        self.times
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(m, t), _| keep(m, t.as_deref()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slowest_first_and_only_when_on() {
        let p = FrameProfile::default();
        p.record("A1", Some("map"), "map", Duration::from_millis(9));
        assert!(p.rows().is_empty(), "off: nothing recorded");
        p.set_enabled(true);
        for ms in [1, 2, 3] {
            p.record("A1", Some("clock"), "clock", Duration::from_micros(ms * 10));
            p.record("A1", Some("map"), "map", Duration::from_millis(ms * 4));
            p.record("A1", None, "monitor", Duration::from_millis(ms * 5));
        }
        let rows = p.rows();
        assert_eq!(rows[0].tile, None);
        assert_eq!(rows[1].tile.as_deref(), Some("map"));
        assert_eq!(rows[1].max, Duration::from_millis(12));
        assert_eq!(rows[1].mean, Duration::from_millis(8));
        assert_eq!(rows.last().unwrap().tile.as_deref(), Some("clock"));
        for _ in 0..FRAMES + 5 {
            p.record("A1", Some("clock"), "clock", Duration::ZERO);
        }
        let clock = p.rows().into_iter().find(|r| r.kind == "clock").unwrap();
        assert_eq!(
            clock.max,
            Duration::ZERO,
            "only the last {FRAMES} frames count"
        );
    }
}
