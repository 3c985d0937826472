//! Raster basemaps: XYZ tile servers (online, with a disk cache) and offline PMTiles files.
//!
//! Each basemap fetches on a thread of its own (a small tokio runtime, at most six tiles at a
//! time, newest requests first, requests nobody has looked at for ten seconds dropped) and hands
//! decoded pictures back to the UI thread, which turns them into textures. A tile that fails is
//! retried with a growing delay (1 s doubling to 30 s), and so is an old cached copy standing in
//! for a failing server (the copy stays drawn until a new picture arrives). The basemap keeps its *health* from what
//! the network or the file said (a tile read back from the disk cache says nothing about the
//! server): the failure in words, since when, and when the next retry goes out, so the map tile
//! can say which basemap is broken and why. A missing tile (HTTP 404, or absent from a sparse
//! PMTiles archive) is not a failure: that part of the map is blank.
//!
//! PMTiles files are read with positioned reads, not memory-mapped: a file cut short under a
//! mapping kills the process with SIGBUS, while a short read is an error. A file that changes on
//! disk (replaced, rewritten) is opened again.

mod disk;
mod fetch;
mod pmtiles_file;
mod spec;
mod tile;

pub use disk::trim;
use fetch::Fetcher;
pub use fetch::tile_url;
pub use spec::{BasemapSource, BasemapSpec};
use tile::Outcome;
pub use tile::Reason;

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use egui::{Rect, TextureHandle, pos2};
use walkers::{Tile, TileId, TilePiece, Tiles, sources::Attribution};

/// Decoded tiles kept as textures (those drawn in the last frames are never dropped).
const MAX_TEXTURES: usize = 512;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);
/// Slots of tiles not drawn for this long are forgotten (textures, failures, misses).
const FORGET_AFTER: Duration = Duration::from_secs(300);

/// How a basemap is doing, for the tile to show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    /// The last failure of the network or the file, while it lasts.
    pub error: Option<Reason>,
    pub failing_since: Option<Instant>,
    /// When the next retry of a tile in view goes out (none: nothing in view is waiting).
    pub retry_at: Option<Instant>,
    /// Tiles in view shown from an old copy in the disk cache because the server failed.
    pub stale_in_view: usize,
    /// Tiles that arrived.
    pub loaded: u64,
    /// Tiles asked for and not answered yet.
    pub in_flight: usize,
}

enum Slot {
    /// Asked for; the old picture (if any) is drawn until the new one arrives.
    Pending {
        keep: Option<TextureHandle>,
    },
    Ready {
        texture: TextureHandle,
        /// An old copy from the disk cache standing in for a failing server: asked again then.
        stale_retry: Option<Instant>,
    },
    /// Not in the source: drawn blank, asked again only after a long while.
    Missing {
        until: Instant,
    },
    Failed {
        retry_at: Instant,
    },
}

struct Entry {
    slot: Slot,
    /// When the tile was last wanted (by any window: the wall repaints once a second, the desk
    /// more often, so frames of different windows cannot be compared).
    touched_at: Instant,
}

/// A tile wanted within this time is "in view".
const IN_VIEW: Duration = Duration::from_secs(2);

/// One basemap: a [`walkers::Tiles`] source with a fetch thread and a health record.
pub struct Basemap {
    spec: BasemapSpec,
    ctx: egui::Context,
    requests: tokio::sync::mpsc::UnboundedSender<(TileId, Instant)>,
    fetched: mpsc::Receiver<(TileId, Outcome)>,
    entries: HashMap<TileId, Entry>,
    health: Health,
    /// Failures in a row of each failing tile, for its retry delay.
    attempts: HashMap<TileId, u32>,
    _worker: Option<std::thread::JoinHandle<()>>,
}

impl Basemap {
    pub fn new(spec: BasemapSpec, ctx: egui::Context) -> Basemap {
        let (req_tx, req_rx) = tokio::sync::mpsc::unbounded_channel();
        let (res_tx, res_rx) = mpsc::channel();
        let fetcher = Fetcher::new(&spec);
        let wake = ctx.clone();
        let name = spec.name.clone();
        let worker = std::thread::Builder::new()
            .name(format!("basemap-{name}"))
            .spawn(move || fetcher.run(req_rx, res_tx, wake))
            .map_err(|e| tracing::error!(basemap = %name, "cannot start the fetch thread: {e}"))
            .ok();
        let mut health = Health::default();
        if worker.is_none() {
            health.error = Some(Reason::new("map.reason.worker_stopped", ""));
            health.failing_since = Some(Instant::now());
        }
        Basemap {
            spec,
            ctx,
            requests: req_tx,
            fetched: res_rx,
            entries: HashMap::new(),
            health,
            attempts: HashMap::new(),
            _worker: worker,
        }
    }

    pub fn spec(&self) -> &BasemapSpec {
        &self.spec
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Tiles that failed and wait for their retry.
    pub fn failed_tiles(&self) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e.slot, Slot::Failed { .. }))
            .count()
    }

    fn network_ok(&mut self) {
        if self.health.error.is_some() {
            tracing::info!(basemap = %self.spec.name, "basemap answers again");
        }
        self.health.error = None;
        self.health.failing_since = None;
    }

    fn network_failed(&mut self, reason: Reason, now: Instant) {
        if self.health.error.as_ref() != Some(&reason) {
            tracing::warn!(basemap = %self.spec.name, "basemap failing: {reason}");
        }
        self.health.failing_since.get_or_insert(now);
        self.health.error = Some(reason);
    }

    /// Takes in what the fetch thread delivered and works out the health; call once per frame
    /// before drawing.
    pub fn pump(&mut self, now: Instant) {
        while let Ok((id, outcome)) = self.fetched.try_recv() {
            self.health.in_flight = self.health.in_flight.saturating_sub(1);
            let slot = match outcome {
                Outcome::Picture {
                    image,
                    fresh,
                    stale,
                } => {
                    if stale.is_none() {
                        self.attempts.remove(&id);
                    }
                    match &stale {
                        Some(reason) => self.network_failed(reason.clone(), now),
                        None if fresh => self.network_ok(),
                        None => {}
                    }
                    self.health.loaded += 1;
                    let texture = self.ctx.load_texture(
                        format!("basemap/{}/{}/{}/{}", self.spec.name, id.zoom, id.x, id.y),
                        image,
                        egui::TextureOptions::LINEAR,
                    );
                    let stale_retry = stale.is_some().then(|| {
                        let n = self.attempts.entry(id).or_insert(0);
                        *n = n.saturating_add(1);
                        now + retry_delay(*n)
                    });
                    Slot::Ready {
                        texture,
                        stale_retry,
                    }
                }
                Outcome::Missing { from_source } => {
                    self.attempts.remove(&id);
                    if from_source {
                        self.network_ok();
                    }
                    Slot::Missing {
                        until: now + Duration::from_secs(600),
                    }
                }
                Outcome::Failed(reason) => {
                    let n = self.attempts.entry(id).or_insert(0);
                    *n = n.saturating_add(1);
                    let retry_at = now + retry_delay(*n);
                    self.network_failed(reason, now);
                    // A picture already drawn stays drawn while the server fails.
                    match self.entries.get_mut(&id).map(|e| &mut e.slot) {
                        Some(Slot::Pending { keep: Some(t) }) => Slot::Ready {
                            texture: t.clone(),
                            stale_retry: Some(retry_at),
                        },
                        _ => Slot::Failed { retry_at },
                    }
                }
                Outcome::Dropped => {
                    // Not fetched: back to what it was drawn with (asked again when in view).
                    match self.entries.get(&id).map(|e| &e.slot) {
                        Some(Slot::Pending { keep: Some(t) }) => Slot::Ready {
                            texture: t.clone(),
                            stale_retry: Some(now),
                        },
                        _ => {
                            self.entries.remove(&id);
                            continue;
                        }
                    }
                }
            };
            let e = self.entries.entry(id).or_insert(Entry {
                slot: Slot::Pending { keep: None },
                touched_at: now,
            });
            e.slot = slot;
        }
        self.forget(now);
        self.evict(now);
        // Health as of the tiles in view.
        let in_view = || {
            self.entries
                .values()
                .filter(move |e| now.saturating_duration_since(e.touched_at) <= IN_VIEW)
        };
        self.health.retry_at = in_view()
            .filter_map(|e| match e.slot {
                Slot::Failed { retry_at } => Some(retry_at),
                Slot::Ready {
                    stale_retry: Some(t),
                    ..
                } => Some(t),
                _ => None,
            })
            .min();
        self.health.stale_in_view = in_view()
            .filter(|e| {
                matches!(
                    e.slot,
                    Slot::Ready {
                        stale_retry: Some(_),
                        ..
                    }
                )
            })
            .count();
        // Nothing in view is failing any more, nothing is being asked: the trouble is over as
        // far as this map can tell (the tiles that failed are out of view).
        if self.health.error.is_some()
            && self.health.retry_at.is_none()
            && self.health.in_flight == 0
        {
            self.network_ok();
        }
    }

    /// Forgets what has not been drawn for a while (keeps the maps from growing).
    fn forget(&mut self, now: Instant) {
        let old = |e: &Entry| now.saturating_duration_since(e.touched_at) > FORGET_AFTER;
        if self.entries.values().any(old) {
            self.entries
                .retain(|_, e| matches!(e.slot, Slot::Pending { .. }) || !old(e));
            let entries = &self.entries;
            self.attempts.retain(|id, _| entries.contains_key(id));
        }
    }

    fn evict(&mut self, now: Instant) {
        let ready = self
            .entries
            .values()
            .filter(|e| matches!(e.slot, Slot::Ready { .. }))
            .count();
        if ready <= MAX_TEXTURES {
            return;
        }
        // Never what is in view in any window.
        let mut ages: Vec<(Instant, TileId)> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                matches!(e.slot, Slot::Ready { .. })
                    && now.saturating_duration_since(e.touched_at) > IN_VIEW
            })
            .map(|(id, e)| (e.touched_at, *id))
            .collect();
        ages.sort_unstable_by_key(|(touched, _)| *touched);
        for (_, id) in ages.into_iter().take(ready - MAX_TEXTURES) {
            self.entries.remove(&id);
        }
    }

    fn touch(&mut self, id: TileId, now: Instant) -> Option<&Entry> {
        let e = self.entries.get_mut(&id)?;
        e.touched_at = now;
        Some(e)
    }

    fn request(&mut self, id: TileId, now: Instant) {
        let due = match self.touch(id, now).map(|e| &e.slot) {
            None => true,
            Some(Slot::Failed { retry_at }) => now >= *retry_at,
            Some(Slot::Missing { until }) => now >= *until,
            Some(Slot::Ready {
                stale_retry: Some(t),
                ..
            }) => now >= *t,
            Some(Slot::Pending { .. } | Slot::Ready { .. }) => false,
        };
        if !due {
            return;
        }
        if self.requests.send((id, now)).is_ok() {
            self.health.in_flight += 1;
            let keep = match self.entries.get(&id).map(|e| &e.slot) {
                Some(Slot::Ready { texture, .. }) => Some(texture.clone()),
                _ => None,
            };
            self.entries.insert(
                id,
                Entry {
                    slot: Slot::Pending { keep },
                    touched_at: now,
                },
            );
        } else if self.health.error.is_none() {
            self.network_failed(Reason::new("map.reason.worker_stopped", ""), now);
        }
    }

    fn texture(&mut self, id: TileId, now: Instant) -> Option<TextureHandle> {
        match self.touch(id, now).map(|e| &e.slot) {
            Some(
                Slot::Ready { texture, .. }
                | Slot::Pending {
                    keep: Some(texture),
                },
            ) => Some(texture.clone()),
            _ => None,
        }
    }
}

/// 1 s doubling to 30 s.
fn retry_delay(attempts: u32) -> Duration {
    FIRST_RETRY
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(5))
        .min(LAST_RETRY)
}

fn valid(id: TileId) -> bool {
    id.zoom <= 30 && u64::from(id.x) < (1u64 << id.zoom) && u64::from(id.y) < (1u64 << id.zoom)
}

/// The ancestor of `id` at `zoom` and the part of it that covers `id`.
pub fn ancestor(id: TileId, zoom: u8) -> (TileId, Rect) {
    let dz = id.zoom.saturating_sub(zoom).min(30);
    let n = 1u32 << dz;
    let parent = TileId {
        x: id.x >> dz,
        y: id.y >> dz,
        zoom: id.zoom - dz,
    };
    let s = 1.0 / n as f32;
    let (ox, oy) = ((id.x % n) as f32 * s, (id.y % n) as f32 * s);
    (
        parent,
        Rect::from_min_max(pos2(ox, oy), pos2(ox + s, oy + s)),
    )
}

impl Tiles for Basemap {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        if !valid(tile_id) {
            return None;
        }
        let now = Instant::now();
        let mut wanted = ancestor(tile_id, self.spec.max_zoom).0;
        self.request(wanted, now);
        // A sparse source lacks some tiles: ask for the nearest coarser one it may have.
        while wanted.zoom > 0
            && matches!(
                self.entries.get(&wanted).map(|e| &e.slot),
                Some(Slot::Missing { .. })
            )
        {
            wanted = ancestor(wanted, wanted.zoom - 1).0;
            self.request(wanted, now);
        }
        // The best tile there is: the wanted one, else a coarser one stretched.
        (0..=wanted.zoom).rev().find_map(|z| {
            let (parent, uv) = ancestor(tile_id, z);
            self.texture(parent, now)
                .map(|t| TilePiece::new(Tile::Raster(t), uv))
        })
    }

    fn attribution(&self) -> Attribution {
        // The map tile writes the configured attribution itself (walkers wants a 'static text).
        Attribution {
            text: "",
            url: "",
            logo_light: None,
            logo_dark: None,
        }
    }

    fn tile_size(&self) -> u32 {
        256
    }
}

#[cfg(test)]
mod tests {
    use super::disk::sanitize;
    use super::pmtiles_file::fetch_pmtiles;
    use super::tile::decode;
    use super::*;
    use std::path::Path;
    use std::time::SystemTime;

    fn png(side: u32, shade: u8) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(side, side, image::Rgba([shade, 0, 0, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn write_pmtiles(path: &Path, shade: u8) {
        let file = std::fs::File::create(path).unwrap();
        let mut w = pmtiles::PmTilesWriter::new(pmtiles::TileType::Png)
            .create(file)
            .unwrap();
        w.add_tile(pmtiles::TileCoord::new(0, 0, 0).unwrap(), &png(256, shade))
            .unwrap();
        w.finalize().unwrap();
    }

    fn first_pixel(bytes: &[u8]) -> u8 {
        decode(bytes).unwrap().pixels[0].r()
    }

    #[test]
    fn a_pmtiles_file_replaced_or_cut_short_is_opened_again_or_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.pmtiles");
        write_pmtiles(&path, 200);
        let reader = tokio::sync::Mutex::new(None);
        let root = TileId {
            x: 0,
            y: 0,
            zoom: 0,
        };
        let fetch = |id| rt.block_on(fetch_pmtiles(&path, &reader, id));
        assert_eq!(first_pixel(&fetch(root).unwrap().unwrap()), 200);
        // Absent from the archive: missing, not failed.
        assert_eq!(
            fetch(TileId {
                x: 1,
                y: 1,
                zoom: 1
            })
            .unwrap(),
            None
        );

        // Replaced atomically (mv): the new file is read.
        let next = dir.path().join("next.pmtiles");
        write_pmtiles(&next, 90);
        std::fs::rename(&next, &path).unwrap();
        assert_eq!(first_pixel(&fetch(root).unwrap().unwrap()), 90);

        // Cut short in place: an error with a reason, never a crash.
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
        let e = fetch(root).unwrap_err();
        assert!(
            matches!(e.key, "map.reason.pmtiles_open" | "map.reason.pmtiles_read"),
            "{e}"
        );
        // Gone: said so.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(fetch(root).unwrap_err().key, "map.reason.pmtiles_open");
    }

    #[test]
    fn pictures_that_cannot_be_tiles_are_refused() {
        assert_eq!(decode(&png(256, 1)).unwrap().size, [256, 256]);
        assert_eq!(
            decode(&png(2048, 1)).unwrap_err().key,
            "map.reason.picture_size"
        );
        assert_eq!(
            decode(b"<html>proxy login</html>").unwrap_err().key,
            "map.reason.not_picture"
        );
    }

    #[test]
    fn the_tile_cache_is_trimmed_oldest_first_and_named_by_name_and_template() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5u64 {
            let f = dir.path().join(format!("z/{i}.tile"));
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, vec![0u8; 1000]).unwrap();
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + i);
            std::fs::File::options()
                .write(true)
                .open(&f)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        trim(dir.path(), 2500);
        let left: Vec<bool> = (0..5)
            .map(|i| dir.path().join(format!("z/{i}.tile")).exists())
            .collect();
        assert_eq!(left, vec![false, false, false, true, true]);

        assert_eq!(sanitize("Vệ tinh"), "V__tinh");
        assert_eq!(sanitize(""), "basemap");
        assert_ne!(
            crate::util::hash::fnv1a("https://a/{z}/{x}/{y}.png"),
            crate::util::hash::fnv1a("https://b/{z}/{x}/{y}.png")
        );
    }

    #[test]
    fn ancestors_cover_their_children() {
        let id = TileId {
            x: 5,
            y: 6,
            zoom: 3,
        };
        let (p, uv) = ancestor(id, 1);
        assert_eq!(
            p,
            TileId {
                x: 1,
                y: 1,
                zoom: 1
            }
        );
        assert_eq!(uv, Rect::from_min_max(pos2(0.25, 0.5), pos2(0.5, 0.75)));
        assert_eq!(ancestor(id, 3).0, id);
        assert_eq!(ancestor(id, 9).0, id, "no finer ancestor");
        assert!(!valid(TileId {
            x: 8,
            y: 0,
            zoom: 3
        }));
        assert!(!valid(TileId {
            x: 0,
            y: 0,
            zoom: 31
        }));
    }
}
