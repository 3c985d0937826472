//! Each tile's own state between frames (a map's view and caches, a queue's scroll), kept by the
//! wall and handed to the tile while it draws, keyed by (tile id, viewport): the desk's preview
//! and the wall monitor showing the same tile keep their own. A reloaded layout keeps the states
//! of the tiles whose id is still there and drops the rest.

use std::any::Any;
use std::collections::HashMap;

/// Which tile, drawn where.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub tile: String,
    pub viewport: egui::ViewportId,
}

/// One tile's state in one viewport, of the type its kind keeps (or none yet).
#[derive(Default)]
pub struct TileState(Option<Box<dyn Any + Send>>);

impl std::fmt::Debug for TileState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "TileState(..)"
        } else {
            "TileState(empty)"
        })
    }
}

impl TileState {
    /// The state as a `T`, made with `init` the first time (or when the tile changed kind).
    pub fn get_or_insert_with<T: Any + Send>(&mut self, init: impl FnOnce() -> T) -> &mut T {
        if !self.0.as_ref().is_some_and(|b| b.is::<T>()) {
            self.0 = Some(Box::new(init()));
        }
        self.0
            .as_mut()
            .and_then(|b| b.downcast_mut::<T>())
            .expect("just stored as T")
    }

    /// The state as a `T`, if it is one.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_ref()?.downcast_ref()
    }

    /// The state as a `T` to change, if it is one.
    pub fn get_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.0.as_mut()?.downcast_mut()
    }
}

/// Every tile's state, owned by the wall (the app keeps one for all its viewports).
#[derive(Debug, Default)]
pub struct TileStates {
    states: HashMap<TileKey, TileState>,
}

impl TileStates {
    /// Takes a tile's state out to hand it to the tile while it draws (an empty one the first
    /// time); [`TileStates::put`] returns it. Nothing is locked while the tile draws.
    pub fn take(&mut self, key: &TileKey) -> TileState {
        self.states.remove(key).unwrap_or_default()
    }

    pub fn put(&mut self, key: TileKey, state: TileState) {
        self.states.insert(key, state);
    }

    /// A tile's state, to read (tests, the frame profile).
    pub fn get(&self, key: &TileKey) -> Option<&TileState> {
        self.states.get(key)
    }

    /// Keeps the states of the tiles `keep` says are still there; drops the rest.
    pub fn retain_tiles(&mut self, keep: impl Fn(&str) -> bool) {
        self.states.retain(|k, _| keep(&k.tile));
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_by_tile_and_viewport_survive_a_reload_of_their_tile() {
        let key = |t: &str, v: egui::ViewportId| TileKey {
            tile: t.into(),
            viewport: v,
        };
        let wall = egui::ViewportId::from_hash_of("wall");
        let mut states = TileStates::default();
        for (t, v, n) in [
            ("map", egui::ViewportId::ROOT, 1u32),
            ("map", wall, 2),
            ("gone", wall, 3),
        ] {
            let mut s = states.take(&key(t, v));
            *s.get_or_insert_with(|| 0u32) = n;
            states.put(key(t, v), s);
        }
        states.retain_tiles(|t| t != "gone");
        assert_eq!(states.len(), 2);
        let root = states.take(&key("map", egui::ViewportId::ROOT));
        assert_eq!(root.get::<u32>(), Some(&1));
        assert_eq!(
            states.get(&key("map", wall)).and_then(|s| s.get::<u32>()),
            Some(&2)
        );
        // A tile whose kind changed gets a fresh state of its new type.
        let mut s = root;
        assert_eq!(*s.get_or_insert_with(|| String::from("x")), "x");
    }
}
