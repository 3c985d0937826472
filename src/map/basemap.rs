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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use egui::{ColorImage, Rect, TextureHandle, pos2};
use walkers::{Tile, TileId, TilePiece, Tiles, sources::Attribution};

/// What the configuration says about one basemap.
#[derive(Clone, Debug, PartialEq)]
pub enum BasemapSource {
    /// `url` with `{z}`, `{x}`, `{y}`; tiles cached under `cache_dir` (at most `cache_max_bytes`).
    Xyz {
        url: String,
        cache_dir: Option<PathBuf>,
        cache_max_bytes: u64,
    },
    PmTiles {
        path: PathBuf,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct BasemapSpec {
    pub name: String,
    pub source: BasemapSource,
    pub attribution: String,
    pub max_zoom: u8,
}

/// Tiles larger than this are refused (a tile is a few tens of kilobytes).
const MAX_TILE_BYTES: usize = 4 * 1024 * 1024;
/// Tile pictures larger than this on a side are refused (tiles are 256 or 512 pixels).
const MAX_TILE_SIDE: u32 = 1024;
/// Decoded tiles kept as textures (those drawn in the last frames are never dropped).
const MAX_TEXTURES: usize = 512;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);
/// A cached XYZ tile younger than this is used without asking the server.
const CACHE_FRESH: Duration = Duration::from_secs(7 * 24 * 3600);
/// A request still waiting for its turn after this long is dropped by the fetch thread (a tile
/// still in view is asked for again at the next frame).
const STALE_REQUEST: Duration = Duration::from_secs(10);
/// Slots of tiles not drawn for this long are forgotten (textures, failures, misses).
const FORGET_AFTER: Duration = Duration::from_secs(300);

/// Why a tile could not be had: a catalogue key (`map.reason.*`) and a detail that is not
/// translated (an HTTP status, an operating-system message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub key: &'static str,
    pub detail: String,
}

impl Reason {
    fn new(key: &'static str, detail: impl Into<String>) -> Reason {
        Reason {
            key,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.key)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

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

/// What the fetch thread hands back.
enum Outcome {
    Picture {
        image: ColorImage,
        /// From the network or file (true), or from the disk cache (false).
        fresh: bool,
        /// The server failed and an old cached copy stands in.
        stale: Option<Reason>,
    },
    Missing {
        from_source: bool,
    },
    Failed(Reason),
    /// Nobody wanted it any more: not fetched.
    Dropped,
}

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

/// The fetching side, on its own thread.
struct Fetcher {
    name: String,
    kind: FetchKind,
}

enum FetchKind {
    Xyz {
        url: String,
        cache: Option<DiskCache>,
        client: Option<reqwest::Client>,
    },
    PmTiles {
        path: PathBuf,
        reader: Box<tokio::sync::Mutex<Option<OpenPmTiles>>>,
    },
}

impl Fetcher {
    fn new(spec: &BasemapSpec) -> Fetcher {
        crate::util::tls::install_crypto_provider();
        let kind = match &spec.source {
            BasemapSource::Xyz {
                url,
                cache_dir,
                cache_max_bytes,
            } => FetchKind::Xyz {
                url: url.clone(),
                cache: cache_dir.as_ref().map(|d| DiskCache {
                    // The template is part of the folder's name: another style never reuses
                    // these tiles. Only a hash of it, since it may carry an API key.
                    dir: d.join(format!(
                        "{}-{:016x}",
                        sanitize(&spec.name),
                        crate::util::hash::fnv1a(url)
                    )),
                    max_bytes: *cache_max_bytes,
                    writes: std::sync::atomic::AtomicU64::new(0),
                }),
                client: reqwest::Client::builder()
                    .user_agent(concat!("ioc-console/", env!("CARGO_PKG_VERSION")))
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(15))
                    .build()
                    .map_err(|e| tracing::error!(basemap = %spec.name, "no HTTP client: {e}"))
                    .ok(),
            },
            BasemapSource::PmTiles { path } => FetchKind::PmTiles {
                path: path.clone(),
                reader: Box::new(tokio::sync::Mutex::new(None)),
            },
        };
        Fetcher {
            name: spec.name.clone(),
            kind,
        }
    }

    fn run(
        self,
        mut requests: tokio::sync::mpsc::UnboundedReceiver<(TileId, Instant)>,
        results: mpsc::Sender<(TileId, Outcome)>,
        wake: egui::Context,
    ) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!(basemap = %self.name, "no runtime for the fetch thread: {e}");
                return;
            }
        };
        let this = std::sync::Arc::new(self);
        // The whole tile cache (every basemap's, old templates' too) is kept under its limit,
        // from the start.
        if let FetchKind::Xyz { cache: Some(c), .. } = &this.kind {
            c.trim_all();
        }
        rt.block_on(async move {
            let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(6));
            // Newest first: after a pan or zoom, what is in view now goes out before what was.
            let mut stack: Vec<(TileId, Instant)> = Vec::new();
            loop {
                if stack.is_empty() {
                    match requests.recv().await {
                        Some(r) => stack.push(r),
                        None => break,
                    }
                }
                while let Ok(r) = requests.try_recv() {
                    stack.push(r);
                }
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                while let Ok(r) = requests.try_recv() {
                    stack.push(r);
                }
                let Some((id, asked)) = stack.pop() else {
                    continue;
                };
                let send = {
                    let (results, wake) = (results.clone(), wake.clone());
                    move |outcome: Outcome| {
                        if results.send((id, outcome)).is_ok() {
                            wake.request_repaint();
                        }
                    }
                };
                if asked.elapsed() > STALE_REQUEST {
                    send(Outcome::Dropped);
                    continue;
                }
                let this = this.clone();
                tokio::spawn(async move {
                    // A panic in a fetch must still give the tile an answer.
                    let task = tokio::spawn(async move { this.fetch(id).await });
                    let outcome = match task.await {
                        Ok(o) => o,
                        Err(e) => {
                            tracing::error!("tile fetch failed unexpectedly: {e}");
                            Outcome::Failed(Reason::new("map.reason.internal", ""))
                        }
                    };
                    drop(permit);
                    send(outcome);
                });
            }
        });
    }

    async fn fetch(&self, id: TileId) -> Outcome {
        match &self.kind {
            FetchKind::Xyz { url, cache, client } => {
                let Some(client) = client else {
                    return Outcome::Failed(Reason::new("map.reason.no_client", ""));
                };
                fetch_xyz(client, url, cache.as_ref(), id).await
            }
            FetchKind::PmTiles { path, reader } => match fetch_pmtiles(path, reader, id).await {
                Ok(None) => Outcome::Missing { from_source: true },
                Ok(Some(bytes)) => match decode(&bytes) {
                    Ok(image) => Outcome::Picture {
                        image,
                        fresh: true,
                        stale: None,
                    },
                    Err(r) => Outcome::Failed(r),
                },
                Err(r) => Outcome::Failed(r),
            },
        }
    }
}

/// A file or folder name made of the basemap's name (ASCII letters, digits, '-' and '_').
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "basemap".into() } else { s }
}

pub fn tile_url(template: &str, id: TileId) -> String {
    template
        .replace("{z}", &id.zoom.to_string())
        .replace("{x}", &id.x.to_string())
        .replace("{y}", &id.y.to_string())
}

/// The disk cache of one XYZ basemap, kept under a size limit.
struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    writes: std::sync::atomic::AtomicU64,
}

impl DiskCache {
    fn file(&self, id: TileId) -> PathBuf {
        self.dir
            .join(id.zoom.to_string())
            .join(id.x.to_string())
            .join(format!("{}.tile", id.y))
    }

    /// Writes a tile atomically (a half-written tile is never read back); every 200 writes,
    /// trims the cache to its size limit, oldest first.
    fn store(&self, id: TileId, bytes: &[u8]) {
        let file = self.file(id);
        let Some(dir) = file.parent() else { return };
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let ok = std::fs::create_dir_all(dir).is_ok()
            && std::fs::write(&tmp, bytes).is_ok()
            && std::fs::rename(&tmp, &file).is_ok();
        if !ok {
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!(path = %file.display(), "tile not cached");
        }
        let n = self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 200 == 199 {
            self.trim_all();
        }
    }

    /// Trims the cache folder all basemaps share (the parent of this one's).
    fn trim_all(&self) {
        trim(self.dir.parent().unwrap_or(&self.dir), self.max_bytes);
    }
}

/// Deletes the oldest files under `dir` until it holds at most `max_bytes`.
pub fn trim(dir: &Path, max_bytes: u64) {
    fn walk(dir: &Path, out: &mut Vec<(SystemTime, u64, PathBuf)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => walk(&p, out),
                Ok(m) => out.push((m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len(), p)),
                Err(_) => {}
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    if total <= max_bytes {
        return;
    }
    files.sort_unstable_by_key(|f| f.0);
    for (_, len, path) in files {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
        }
    }
}

async fn fetch_xyz(
    client: &reqwest::Client,
    template: &str,
    cache: Option<&DiskCache>,
    id: TileId,
) -> Outcome {
    let file = cache.map(|c| c.file(id));
    let cached_age = file
        .as_ref()
        .and_then(|f| std::fs::metadata(f).ok()?.modified().ok()?.elapsed().ok());
    let read_cached = |f: &Path| -> Option<ColorImage> {
        let bytes = std::fs::read(f).ok()?;
        match decode(&bytes) {
            Ok(img) => Some(img),
            Err(_) => {
                // A bad copy is never used again.
                let _ = std::fs::remove_file(f);
                None
            }
        }
    };
    if let (Some(age), Some(f)) = (cached_age, file.as_ref())
        && age < CACHE_FRESH
        && let Some(image) = read_cached(f)
    {
        return Outcome::Picture {
            image,
            fresh: false,
            stale: None,
        };
    }
    let fetched = get_tile(client, &tile_url(template, id)).await;
    let failure = match fetched {
        Ok(None) => return Outcome::Missing { from_source: true },
        Ok(Some(bytes)) => match decode(&bytes) {
            // Only a picture that decodes is cached: an error page answered with 200 is not.
            Ok(image) => {
                if let Some(c) = cache {
                    c.store(id, &bytes);
                }
                return Outcome::Picture {
                    image,
                    fresh: true,
                    stale: None,
                };
            }
            Err(r) => r,
        },
        Err(r) => r,
    };
    // The server failed: an old copy is better than nothing, and says so.
    match file.as_deref().and_then(read_cached) {
        Some(image) => Outcome::Picture {
            image,
            fresh: false,
            stale: Some(failure),
        },
        None => Outcome::Failed(failure),
    }
}

async fn get_tile(client: &reqwest::Client, url: &str) -> Result<Option<Vec<u8>>, Reason> {
    let mut resp = client.get(url).send().await.map_err(|e| describe(&e))?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::NO_CONTENT {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(Reason::new("map.reason.http", status.to_string()));
    }
    let too_large = || Reason::new("map.reason.too_large", format!("{MAX_TILE_BYTES} B"));
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_TILE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > MAX_TILE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

fn describe(e: &reqwest::Error) -> Reason {
    if e.is_timeout() {
        Reason::new("map.reason.timeout", "")
    } else if e.is_connect() {
        Reason::new("map.reason.connect", "")
    } else if e.is_body() || e.is_decode() {
        Reason::new("map.reason.broken_answer", "")
    } else {
        // Without the URL: a tile URL may carry an API key.
        match std::error::Error::source(e) {
            Some(s) => Reason::new("map.reason.request", s.to_string()),
            None => Reason::new("map.reason.request_plain", ""),
        }
    }
}

/// An open PMTiles archive and what its file looked like when it was opened.
struct OpenPmTiles {
    reader: pmtiles::AsyncPmTilesReader<FileBackend>,
    stamp: FileStamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> std::io::Result<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok(FileStamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode: m.ino(),
    })
}

/// Positioned reads of a PMTiles file: a file cut short gives a short read (an error), never a
/// signal.
struct FileBackend {
    file: std::fs::File,
}

impl pmtiles::AsyncBackend for FileBackend {
    fn read(
        &self,
        offset: u64,
        length: usize,
    ) -> impl std::future::Future<Output = pmtiles::PmtResult<pmtiles::BackendResponse>> + Send
    {
        use std::os::unix::fs::FileExt;
        // A corrupt header may ask for gigabytes: never more than the file holds.
        let available = self
            .file
            .metadata()
            .map(|m| m.len().saturating_sub(offset))
            .unwrap_or(0);
        let length = length.min(usize::try_from(available).unwrap_or(usize::MAX));
        let mut buf = vec![0u8; length];
        let mut filled = 0;
        let result = loop {
            if filled == length {
                break Ok(());
            }
            match self
                .file
                .read_at(&mut buf[filled..], offset + filled as u64)
            {
                Ok(0) => break Ok(()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        std::future::ready(result.map_err(pmtiles::PmtError::from).map(|()| {
            buf.truncate(filled);
            pmtiles::BackendResponse::new(bytes::Bytes::from(buf))
        }))
    }
}

async fn fetch_pmtiles(
    path: &Path,
    reader: &tokio::sync::Mutex<Option<OpenPmTiles>>,
    id: TileId,
) -> Result<Option<Vec<u8>>, Reason> {
    let mut guard = reader.lock().await;
    let now = stamp(path).map_err(|e| Reason::new("map.reason.pmtiles_open", e.to_string()))?;
    if guard.as_ref().is_some_and(|o| o.stamp != now) {
        tracing::info!(path = %path.display(), "PMTiles file changed: opening it again");
        *guard = None;
    }
    if guard.is_none() {
        let file = std::fs::File::open(path)
            .map_err(|e| Reason::new("map.reason.pmtiles_open", e.to_string()))?;
        let r = pmtiles::AsyncPmTilesReader::try_from_source(FileBackend { file })
            .await
            .map_err(|e| Reason::new("map.reason.pmtiles_open", e.to_string()))?;
        use pmtiles::TileType as T;
        match r.get_header().tile_type {
            T::Png | T::Jpeg | T::Webp => {}
            other => {
                return Err(Reason::new(
                    "map.reason.pmtiles_vector",
                    format!("{other:?}"),
                ));
            }
        }
        *guard = Some(OpenPmTiles {
            reader: r,
            stamp: now,
        });
    }
    let Some(open) = guard.as_ref() else {
        return Err(Reason::new("map.reason.internal", ""));
    };
    let coord = pmtiles::TileCoord::new(id.zoom, id.x, id.y)
        .map_err(|e| Reason::new("map.reason.pmtiles_read", e.to_string()))?;
    match open.reader.get_tile_decompressed(coord).await {
        Ok(t) => Ok(t.map(|b| b.to_vec())),
        Err(e) => {
            // Open it again next time: the file may be being replaced.
            *guard = None;
            Err(Reason::new("map.reason.pmtiles_read", e.to_string()))
        }
    }
}

/// Decodes a tile picture, refusing pictures larger than a tile could be.
fn decode(bytes: &[u8]) -> Result<ColorImage, Reason> {
    let not_picture = |e: image::ImageError| Reason::new("map.reason.not_picture", e.to_string());
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Reason::new("map.reason.not_picture", e.to_string()))?;
    let (w, h) = reader.into_dimensions().map_err(not_picture)?;
    if w > MAX_TILE_SIDE || h > MAX_TILE_SIDE || w == 0 || h == 0 {
        return Err(Reason::new("map.reason.picture_size", format!("{w}×{h}")));
    }
    let img = image::load_from_memory(bytes).map_err(not_picture)?;
    let rgba = img.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    Ok(ColorImage::from_rgba_unmultiplied(size, rgba.as_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
