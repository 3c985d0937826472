//! When the console draws the next frame by itself. Data arriving, a command, the pointer or a
//! tile's own animation (a live camera, a pulse) wake it sooner; this is only the clock's part:
//! the next second while clocks show seconds, or, drawing sparingly, the next minute or the
//! moment a dataset turns stale (so a stale badge is never late), whichever comes first.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};

use crate::store::Store;

/// How long until the screen changes by itself.
pub fn next_frame(now: DateTime<Utc>, store: &Store, low_power: bool) -> Duration {
    let to_next_second = 1000 - u64::from(now.timestamp_subsec_millis().min(999));
    if !low_power {
        return Duration::from_millis(to_next_second);
    }
    let to_next_minute = u64::from(59 - now.second().min(59)) * 1000 + to_next_second;
    let mut next = Duration::from_millis(to_next_minute);
    if let Some(at) = store.next_status_change(now)
        && let Ok(d) = (at - now).to_std()
    {
        // A hair after the deadline, so that the frame finds the dataset stale.
        next = next.min(d + Duration::from_millis(50));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn seconds_or_minutes_and_never_late_for_a_stale_badge() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 42).unwrap()
            + chrono::Duration::milliseconds(300);
        let store = Store::default();
        assert_eq!(next_frame(now, &store, false), Duration::from_millis(700));
        assert_eq!(next_frame(now, &store, true), Duration::from_millis(17_700));
    }
}
