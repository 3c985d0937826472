//! Raster basemaps: XYZ tile servers (online, with a disk cache) and offline PMTiles files.
//!
//! Each basemap fetches on a thread of its own (a small tokio runtime, at most six tiles at a
//! time) and hands decoded pictures back to the UI thread, which turns them into textures. A
//! tile that fails is retried with a growing delay (1 s doubling to 30 s), and the basemap keeps
//! its *health*: the last failure, since when it has been failing, and when it will try again,
//! so the map tile can say in words which basemap is broken and why. The first success after a
//! failure clears it. A missing tile (HTTP 404, or absent from a sparse PMTiles archive) is not
//! a failure: that part of the map is simply blank.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use egui::{ColorImage, Rect, TextureHandle, pos2};
use walkers::{Tile, TileId, TilePiece, Tiles, sources::Attribution};

/// What the configuration says about one basemap.
#[derive(Clone, Debug, PartialEq)]
pub enum BasemapSource {
    /// `url` with `{z}`, `{x}`, `{y}`.
    Xyz {
        url: String,
        cache_dir: Option<PathBuf>,
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
/// Decoded tiles kept as textures.
const MAX_TEXTURES: usize = 384;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);
/// A cached XYZ tile younger than this is used without asking the server.
const CACHE_FRESH: Duration = Duration::from_secs(7 * 24 * 3600);

/// How a basemap is doing, for the tile to show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    /// The last failure, while the basemap is failing.
    pub error: Option<String>,
    pub failing_since: Option<Instant>,
    /// When the next retry goes out.
    pub retry_at: Option<Instant>,
    /// Tiles that arrived.
    pub loaded: u64,
    /// Tiles being fetched now.
    pub in_flight: usize,
}

enum Slot {
    Pending,
    Ready {
        texture: TextureHandle,
        used: u64,
    },
    /// Not in the source: drawn blank, asked again only after a long while.
    Missing {
        until: Instant,
    },
    Failed {
        retry_at: Instant,
    },
}

type Fetched = (TileId, Result<Option<ColorImage>, String>);

/// One basemap: a [`walkers::Tiles`] source with a fetch thread and a health record.
pub struct Basemap {
    spec: BasemapSpec,
    ctx: egui::Context,
    requests: tokio::sync::mpsc::UnboundedSender<TileId>,
    fetched: mpsc::Receiver<Fetched>,
    slots: HashMap<TileId, Slot>,
    health: Health,
    /// Failures in a row of each failing tile, for its retry delay.
    attempts: HashMap<TileId, u32>,
    frame: u64,
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
        Basemap {
            spec,
            ctx,
            requests: req_tx,
            fetched: res_rx,
            slots: HashMap::new(),
            health: Health::default(),
            attempts: HashMap::new(),
            frame: 0,
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
        self.slots
            .values()
            .filter(|s| matches!(s, Slot::Failed { .. }))
            .count()
    }

    /// Takes in what the fetch thread delivered; call once per frame before drawing.
    pub fn pump(&mut self, now: Instant) {
        self.frame += 1;
        while let Ok((id, result)) = self.fetched.try_recv() {
            self.health.in_flight = self.health.in_flight.saturating_sub(1);
            let slot = match result {
                Ok(Some(image)) => {
                    self.attempts.remove(&id);
                    self.health.error = None;
                    self.health.failing_since = None;
                    self.health.retry_at = None;
                    self.health.loaded += 1;
                    let texture = self.ctx.load_texture(
                        format!("basemap/{}/{}/{}/{}", self.spec.name, id.zoom, id.x, id.y),
                        image,
                        egui::TextureOptions::LINEAR,
                    );
                    Slot::Ready {
                        texture,
                        used: self.frame,
                    }
                }
                Ok(None) => {
                    // The source answered: it is reachable, that part is just empty.
                    self.attempts.remove(&id);
                    self.health.error = None;
                    self.health.failing_since = None;
                    self.health.retry_at = None;
                    Slot::Missing {
                        until: now + Duration::from_secs(600),
                    }
                }
                Err(reason) => {
                    let n = self.attempts.entry(id).or_insert(0);
                    *n = n.saturating_add(1);
                    let delay = FIRST_RETRY
                        .saturating_mul(1 << (*n - 1).min(5))
                        .min(LAST_RETRY);
                    if self.health.error.as_deref() != Some(reason.as_str()) {
                        tracing::warn!(basemap = %self.spec.name, z = id.zoom, x = id.x, y = id.y,
                            "basemap tile failed: {reason}");
                    }
                    self.health.failing_since.get_or_insert(now);
                    self.health.error = Some(reason);
                    self.health.retry_at = Some(
                        self.health
                            .retry_at
                            .filter(|t| *t > now)
                            .map_or(now + delay, |t| t.min(now + delay)),
                    );
                    Slot::Failed {
                        retry_at: now + delay,
                    }
                }
            };
            self.slots.insert(id, slot);
        }
        self.evict();
    }

    fn evict(&mut self) {
        let ready = self
            .slots
            .values()
            .filter(|s| matches!(s, Slot::Ready { .. }))
            .count();
        if ready <= MAX_TEXTURES {
            return;
        }
        let mut ages: Vec<(u64, TileId)> = self
            .slots
            .iter()
            .filter_map(|(id, s)| match s {
                Slot::Ready { used, .. } => Some((*used, *id)),
                _ => None,
            })
            .collect();
        ages.sort_unstable_by_key(|(used, _)| *used);
        for (_, id) in ages.into_iter().take(ready - MAX_TEXTURES) {
            self.slots.remove(&id);
        }
    }

    fn request(&mut self, id: TileId, now: Instant) {
        let due = match self.slots.get(&id) {
            None => true,
            Some(Slot::Failed { retry_at }) => now >= *retry_at,
            Some(Slot::Missing { until }) => now >= *until,
            Some(Slot::Pending | Slot::Ready { .. }) => false,
        };
        if due && self.requests.send(id).is_ok() {
            self.health.in_flight += 1;
            self.slots.insert(id, Slot::Pending);
        }
    }

    fn texture(&mut self, id: TileId) -> Option<TextureHandle> {
        match self.slots.get_mut(&id) {
            Some(Slot::Ready { texture, used }) => {
                *used = self.frame;
                Some(texture.clone())
            }
            _ => None,
        }
    }
}

fn valid(id: TileId) -> bool {
    id.zoom <= 30 && u64::from(id.x) < (1u64 << id.zoom) && u64::from(id.y) < (1u64 << id.zoom)
}

/// The ancestor of `id` at `zoom` and the part of it that covers `id`.
pub fn ancestor(id: TileId, zoom: u8) -> (TileId, Rect) {
    let dz = id.zoom.saturating_sub(zoom);
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
        let wanted = ancestor(tile_id, self.spec.max_zoom).0;
        self.request(wanted, now);
        // The best tile there is: the wanted one, else a coarser one stretched.
        (0..=wanted.zoom).rev().find_map(|z| {
            let (parent, uv) = ancestor(tile_id, z);
            self.texture(parent)
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
        cache: Option<PathBuf>,
        client: Option<reqwest::Client>,
    },
    PmTiles {
        path: PathBuf,
    },
}

impl Fetcher {
    fn new(spec: &BasemapSpec) -> Fetcher {
        crate::sources::client::install_crypto_provider();
        let kind = match &spec.source {
            BasemapSource::Xyz { url, cache_dir } => FetchKind::Xyz {
                url: url.clone(),
                cache: cache_dir.as_ref().map(|d| d.join(sanitize(&spec.name))),
                client: reqwest::Client::builder()
                    .user_agent(concat!("ioc-console/", env!("CARGO_PKG_VERSION")))
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(15))
                    .build()
                    .map_err(|e| tracing::error!(basemap = %spec.name, "no HTTP client: {e}"))
                    .ok(),
            },
            BasemapSource::PmTiles { path } => FetchKind::PmTiles { path: path.clone() },
        };
        Fetcher {
            name: spec.name.clone(),
            kind,
        }
    }

    fn run(
        self,
        mut requests: tokio::sync::mpsc::UnboundedReceiver<TileId>,
        results: mpsc::Sender<Fetched>,
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
        rt.block_on(async move {
            let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(6));
            let reader = std::sync::Arc::new(tokio::sync::Mutex::new(None));
            while let Some(id) = requests.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let (this, results, wake, reader) =
                    (this.clone(), results.clone(), wake.clone(), reader.clone());
                tokio::spawn(async move {
                    let result = this.fetch(id, &reader).await;
                    drop(permit);
                    if results.send((id, result)).is_ok() {
                        wake.request_repaint();
                    }
                });
            }
        });
    }

    async fn fetch(
        &self,
        id: TileId,
        reader: &tokio::sync::Mutex<Option<PmReader>>,
    ) -> Result<Option<ColorImage>, String> {
        let bytes = match &self.kind {
            FetchKind::Xyz { url, cache, client } => {
                let Some(client) = client else {
                    return Err("no HTTP client".into());
                };
                fetch_xyz(client, url, cache.as_deref(), id).await?
            }
            FetchKind::PmTiles { path } => fetch_pmtiles(path, reader, id).await?,
        };
        match bytes {
            None => Ok(None),
            Some(b) => decode(&b).map(Some),
        }
    }
}

type PmReader = pmtiles::AsyncPmTilesReader<pmtiles::MmapBackend>;

/// A file name made of the basemap's name (letters, digits, '-' and '_' only).
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn tile_url(template: &str, id: TileId) -> String {
    template
        .replace("{z}", &id.zoom.to_string())
        .replace("{x}", &id.x.to_string())
        .replace("{y}", &id.y.to_string())
}

async fn fetch_xyz(
    client: &reqwest::Client,
    template: &str,
    cache: Option<&Path>,
    id: TileId,
) -> Result<Option<Vec<u8>>, String> {
    let file = cache.map(|d| {
        d.join(id.zoom.to_string())
            .join(id.x.to_string())
            .join(format!("{}.tile", id.y))
    });
    let cached = file.as_ref().and_then(|f| {
        let age = std::fs::metadata(f).ok()?.modified().ok()?.elapsed().ok()?;
        Some((age, f))
    });
    if let Some((age, f)) = &cached
        && *age < CACHE_FRESH
        && let Ok(bytes) = std::fs::read(f)
    {
        return Ok(Some(bytes));
    }
    let fetched = async {
        let resp = client
            .get(tile_url(template, id))
            .send()
            .await
            .map_err(|e| describe_reqwest(&e))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_TILE_BYTES as u64)
        {
            return Err(format!("tile larger than {MAX_TILE_BYTES} bytes"));
        }
        let bytes = resp.bytes().await.map_err(|e| describe_reqwest(&e))?;
        if bytes.len() > MAX_TILE_BYTES {
            return Err(format!("tile larger than {MAX_TILE_BYTES} bytes"));
        }
        Ok(Some(bytes.to_vec()))
    }
    .await;
    match fetched {
        Ok(Some(bytes)) => {
            if let Some(f) = &file {
                store(f, &bytes);
            }
            Ok(Some(bytes))
        }
        Ok(None) => Ok(None),
        // Offline with an old copy: the old copy is better than nothing.
        Err(e) => match cached.and_then(|(_, f)| std::fs::read(f).ok()) {
            Some(bytes) => Ok(Some(bytes)),
            None => Err(e),
        },
    }
}

/// Writes a cache file atomically (a half-written tile is never read back).
fn store(file: &Path, bytes: &[u8]) {
    let Some(dir) = file.parent() else { return };
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let ok = std::fs::create_dir_all(dir).is_ok()
        && std::fs::write(&tmp, bytes).is_ok()
        && std::fs::rename(&tmp, file).is_ok();
    if !ok {
        let _ = std::fs::remove_file(&tmp);
        tracing::debug!(path = %file.display(), "tile not cached");
    }
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect to the tile server".into()
    } else if e.is_body() || e.is_decode() {
        "the answer broke off".into()
    } else {
        // Without the URL: a tile URL may carry an API key.
        match std::error::Error::source(e) {
            Some(s) => format!("request failed: {s}"),
            None => "request failed".into(),
        }
    }
}

async fn fetch_pmtiles(
    path: &Path,
    reader: &tokio::sync::Mutex<Option<PmReader>>,
    id: TileId,
) -> Result<Option<Vec<u8>>, String> {
    let mut guard = reader.lock().await;
    if guard.is_none() {
        let r = PmReader::new_with_path(path)
            .await
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        use pmtiles::TileType as T;
        match r.get_header().tile_type {
            T::Png | T::Jpeg | T::Webp => {}
            other => {
                return Err(format!(
                    "{}: tile type {other:?} is not a raster picture; vector PMTiles are not drawn yet",
                    path.display()
                ));
            }
        }
        *guard = Some(r);
    }
    let Some(r) = guard.as_ref() else {
        return Err("no reader".into());
    };
    let coord = pmtiles::TileCoord::new(id.zoom, id.x, id.y).map_err(|e| e.to_string())?;
    match r.get_tile_decompressed(coord).await {
        Ok(t) => Ok(t.map(|b| b.to_vec())),
        Err(e) => {
            // Reopen next time: the file may have been replaced.
            *guard = None;
            Err(format!("{}: {e}", path.display()))
        }
    }
}

fn decode(bytes: &[u8]) -> Result<ColorImage, String> {
    let img = image::load_from_memory(bytes).map_err(|e| format!("not a picture: {e}"))?;
    let rgba = img.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    Ok(ColorImage::from_rgba_unmultiplied(size, rgba.as_raw()))
}
