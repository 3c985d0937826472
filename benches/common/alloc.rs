//! A global allocator that counts the bytes live and their peak, and the best-of-N measurement
//! the parsing benchmarks take with it (`ingest`, `sources`).

// Each benchmark takes what it needs of these.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Counting;

pub static CURRENT: AtomicUsize = AtomicUsize::new(0);
pub static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

pub struct Measured {
    pub time: Duration,
    pub peak_extra: usize,
}

/// Best of `runs` for time; peak memory above what was live before the run.
pub fn measure(runs: usize, mut f: impl FnMut()) -> Measured {
    let mut best = Duration::MAX;
    let mut peak_extra = 0;
    for _ in 0..runs {
        let before = CURRENT.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        peak_extra = peak_extra.max(PEAK.load(Ordering::Relaxed) - before);
    }
    Measured {
        time: best,
        peak_extra,
    }
}

pub fn mb(n: usize) -> f64 {
    n as f64 / (1024.0 * 1024.0)
}
