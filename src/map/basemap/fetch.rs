//! Fetching tiles on the basemap's own thread: from an XYZ server (through the disk cache, with
//! a body limit) or a PMTiles file, newest requests first, at most six at a time.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::disk::{DiskCache, sanitize};
use super::pmtiles_file::{OpenPmTiles, fetch_pmtiles};
use super::spec::{BasemapSource, BasemapSpec};
use super::tile::{MAX_TILE_BYTES, Outcome, Reason, decode};
use egui::ColorImage;
use walkers::TileId;

/// A cached XYZ tile younger than this is used without asking the server.
pub(super) const CACHE_FRESH: Duration = Duration::from_secs(7 * 24 * 3600);
/// A request still waiting for its turn after this long is dropped by the fetch thread (a tile
/// still in view is asked for again at the next frame).
pub(super) const STALE_REQUEST: Duration = Duration::from_secs(10);
/// The fetching side, on its own thread.
pub(super) struct Fetcher {
    pub(super) name: String,
    pub(super) kind: FetchKind,
}

pub(super) enum FetchKind {
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
    pub(super) fn new(spec: &BasemapSpec) -> Fetcher {
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

    pub(super) fn run(
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

pub fn tile_url(template: &str, id: TileId) -> String {
    template
        .replace("{z}", &id.zoom.to_string())
        .replace("{x}", &id.x.to_string())
        .replace("{y}", &id.y.to_string())
}

pub(super) async fn fetch_xyz(
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

pub(super) async fn get_tile(
    client: &reqwest::Client,
    url: &str,
) -> Result<Option<Vec<u8>>, Reason> {
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

pub(super) fn describe(e: &reqwest::Error) -> Reason {
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
