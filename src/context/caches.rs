//! Derived data shared by every view that needs it, made once per change of what it derives
//! from (the store's change log, the language), not once per view or per frame: one incident
//! index for all queue tiles and the desk, one prepared chart per chart description. Each cache
//! is its own type, created on first use; [`Caches::begin_frame`] lets them drop what no view
//! asked for lately.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A cache kept in [`Caches`].
pub trait Cache: Any + Send + Sync {
    /// Called once per desk frame with its number: drop entries unused for a while.
    fn begin_frame(&self, _frame: u64) {}
}

#[derive(Default)]
pub struct Caches {
    caches: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    hooks: Mutex<Vec<Arc<dyn Cache>>>,
    frame: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.caches.lock().map_or(0, |c| c.len());
        write!(f, "Caches({n})")
    }
}

impl Caches {
    /// The cache of type `T`, created the first time.
    pub fn get<T: Cache + Default>(&self) -> Arc<T> {
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = caches.get(&TypeId::of::<T>())
            && let Ok(t) = Arc::clone(c).downcast::<T>()
        {
            return t;
        }
        let t = Arc::new(T::default());
        caches.insert(
            TypeId::of::<T>(),
            Arc::clone(&t) as Arc<dyn Any + Send + Sync>,
        );
        self.hooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&t) as Arc<dyn Cache>);
        t
    }

    /// The number of the current frame (grows with each [`Caches::begin_frame`]).
    pub fn frame(&self) -> u64 {
        self.frame.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Starts a frame of the desk: caches forget what has not been used for a while.
    pub fn begin_frame(&self) {
        let frame = self
            .frame
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let hooks: Vec<Arc<dyn Cache>> =
            self.hooks.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for h in hooks {
            h.begin_frame(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Counter(std::sync::atomic::AtomicU64);
    impl Cache for Counter {
        fn begin_frame(&self, frame: u64) {
            self.0.store(frame, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[test]
    fn one_cache_per_type_shared_and_told_of_frames() {
        let caches = Caches::default();
        let a = caches.get::<Counter>();
        let b = caches.get::<Counter>();
        assert!(Arc::ptr_eq(&a, &b));
        caches.begin_frame();
        caches.begin_frame();
        assert_eq!(a.0.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(caches.frame(), 2);
    }
}
