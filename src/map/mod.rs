//! The map: Web Mercator geometry, marker clustering, GeoJSON data layers and raster basemaps
//! (XYZ servers with a disk cache, offline PMTiles). The `map` tile (`tiles::map`) draws them with
//! the walkers widget.
//!
//! With no basemap configured, the map is drawn from vectors only: the layers shipped in
//! `assets/map/` (real public data, licences in `assets/map/SOURCES.md`) and any GeoJSON layers
//! the configuration names. A layer or basemap that fails is reported by name on the tile; the
//! rest of the map keeps working.

pub mod basemap;
pub mod cluster;
pub mod geo;
pub mod vector;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use schemars::JsonSchema;
use serde::Deserialize;

use basemap::{Basemap, BasemapSource, BasemapSpec};
use vector::{LayerState, LayerStyle};

/// `[map]` of the configuration file.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapConfig {
    /// Basemaps a map tile can name (`basemap = "..."` in its options); the first is the
    /// default. None: the map is drawn from vector layers only.
    #[serde(default)]
    pub basemaps: Vec<BasemapConfig>,
    /// GeoJSON layers drawn on every map tile, above the shipped ones.
    #[serde(default)]
    pub layers: Vec<LayerConfig>,
    /// Where tiles of XYZ servers are cached (default: the user's cache folder).
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Most megabytes the tile cache may hold; the oldest tiles go first (default 1024).
    #[serde(default = "cache_max_mb")]
    pub cache_max_mb: u64,
    /// Draw the layers shipped with the console (`assets/map`): boundaries, coast and rivers of
    /// the demo province. Default true.
    #[serde(default = "yes")]
    pub shipped_layers: bool,
}

fn yes() -> bool {
    true
}

fn cache_max_mb() -> u64 {
    1024
}

impl MapConfig {
    /// The same configuration with relative file paths taken from `base` (the configuration
    /// file's folder).
    pub fn resolved(mut self, base: Option<&Path>) -> MapConfig {
        for l in &mut self.layers {
            l.path = resolve(base, &l.path);
        }
        for b in &mut self.basemaps {
            if let BasemapConfig::Pmtiles { path, .. } = b {
                *path = resolve(base, path);
            }
        }
        if let Some(c) = &self.cache_dir {
            self.cache_dir = Some(resolve(base, c));
        }
        self
    }
}

impl Default for MapConfig {
    fn default() -> Self {
        MapConfig {
            basemaps: Vec::new(),
            layers: Vec::new(),
            cache_dir: None,
            cache_max_mb: cache_max_mb(),
            shipped_layers: true,
        }
    }
}

/// A basemap of the configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BasemapConfig {
    /// An XYZ tile server, e.g. `https://tile.example.vn/{z}/{x}/{y}.png`.
    Xyz {
        name: String,
        url: String,
        /// Shown on the map, e.g. "© OpenStreetMap contributors".
        attribution: String,
        #[serde(default = "xyz_max_zoom")]
        max_zoom: u8,
    },
    /// An offline PMTiles v3 file of raster (PNG, JPEG or WebP) tiles.
    Pmtiles {
        name: String,
        path: PathBuf,
        #[serde(default)]
        attribution: String,
        #[serde(default = "pmtiles_max_zoom")]
        max_zoom: u8,
    },
}

fn xyz_max_zoom() -> u8 {
    19
}

fn pmtiles_max_zoom() -> u8 {
    15
}

impl BasemapConfig {
    pub fn name(&self) -> &str {
        match self {
            BasemapConfig::Xyz { name, .. } | BasemapConfig::Pmtiles { name, .. } => name,
        }
    }

    fn spec(&self, cache_dir: Option<&Path>, cache_max_mb: u64) -> BasemapSpec {
        match self {
            BasemapConfig::Xyz {
                name,
                url,
                attribution,
                max_zoom,
            } => BasemapSpec {
                name: name.clone(),
                source: BasemapSource::Xyz {
                    url: url.clone(),
                    cache_dir: cache_dir.map(Path::to_path_buf),
                    cache_max_bytes: cache_max_mb.saturating_mul(1024 * 1024),
                },
                attribution: attribution.clone(),
                max_zoom: (*max_zoom).min(22),
            },
            BasemapConfig::Pmtiles {
                name,
                path,
                attribution,
                max_zoom,
            } => BasemapSpec {
                name: name.clone(),
                source: BasemapSource::PmTiles { path: path.clone() },
                attribution: attribution.clone(),
                max_zoom: (*max_zoom).min(22),
            },
        }
    }
}

/// A GeoJSON layer of the configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    pub name: String,
    /// The GeoJSON file (relative paths are read from the configuration file's folder).
    pub path: PathBuf,
    /// boundary, coast, river, road or points.
    pub style: LayerStyle,
    /// The feature property that holds the label (default "name").
    #[serde(default = "name_property")]
    pub label_property: String,
    #[serde(default)]
    pub attribution: Option<String>,
}

fn name_property() -> String {
    "name".into()
}

fn resolve(base: Option<&Path>, p: &Path) -> PathBuf {
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p.to_path_buf(),
    }
}

/// The layers shipped in `assets/map`, read once.
struct Shipped {
    file: &'static str,
    name: &'static str,
    style: LayerStyle,
    attribution: &'static str,
    text: &'static str,
}

const NATURAL_EARTH: &str = "Natural Earth";
const GSHHG: &str = "GSHHG © P. Wessel & W. H. F. Smith (LGPL-3.0)";

const SHIPPED: &[Shipped] = &[
    Shipped {
        file: "provinces.geojson",
        name: "provinces",
        style: LayerStyle::Boundary,
        attribution: NATURAL_EARTH,
        text: include_str!("../../assets/map/provinces.geojson"),
    },
    Shipped {
        file: "coastline.geojson",
        name: "coastline",
        style: LayerStyle::Coast,
        attribution: GSHHG,
        text: include_str!("../../assets/map/coastline.geojson"),
    },
    Shipped {
        file: "rivers.geojson",
        name: "rivers",
        style: LayerStyle::River,
        attribution: GSHHG,
        text: include_str!("../../assets/map/rivers.geojson"),
    },
];

fn shipped_layers() -> &'static [Arc<LayerState>] {
    static LAYERS: OnceLock<Vec<Arc<LayerState>>> = OnceLock::new();
    LAYERS.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|s| {
                Arc::new(
                    match vector::parse(s.name, s.text, s.style, "name", Some(s.attribution.into()))
                    {
                        // Cut out of world data sets: the cut is not a border.
                        Ok(l) => LayerState::Ready(vector::without_cut_edges(l)),
                        Err(error) => {
                            tracing::error!(file = s.file, %error, "shipped map layer is broken");
                            LayerState::Failed {
                                name: s.name.into(),
                                error,
                            }
                        }
                    },
                )
            })
            .collect()
    })
}

/// A failed configured layer is read again this often (the technician may fix the file).
const LAYER_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

/// A configured GeoJSON layer: what was read last, and when a failed one was last tried.
struct Configured {
    config: LayerConfig,
    state: Mutex<Arc<LayerState>>,
    tried: Mutex<std::time::Instant>,
    reading: Arc<std::sync::atomic::AtomicBool>,
}

impl Configured {
    fn read(config: &LayerConfig) -> LayerState {
        vector::load_file(
            &config.name,
            &config.path,
            config.style,
            &config.label_property,
            config.attribution.clone(),
        )
    }
}

/// Reads a configured layer on a thread of its own (a failed one only when its retry time has
/// come, unless `now`); logs when the outcome changes, not at every retry.
fn read_in_background(c: &Arc<Configured>, now: bool) {
    use std::sync::atomic::Ordering;
    {
        let mut tried = c.tried.lock().unwrap_or_else(|p| p.into_inner());
        if (!now && tried.elapsed() < LAYER_RETRY) || c.reading.swap(true, Ordering::SeqCst) {
            return;
        }
        *tried = std::time::Instant::now();
    }
    let reading = Arc::clone(&c.reading);
    let c = Arc::clone(c);
    let spawned = std::thread::Builder::new()
        .name("map-layer".into())
        .spawn(move || {
            let state = Configured::read(&c.config);
            let mut slot = c.state.lock().unwrap_or_else(|p| p.into_inner());
            match (&**slot, &state) {
                (LayerState::Failed { error: old, .. }, LayerState::Failed { error, .. })
                    if old == error => {}
                (_, LayerState::Failed { error, .. }) => {
                    tracing::warn!(layer = %c.config.name, path = %c.config.path.display(),
                        %error, "map layer not loaded");
                }
                (LayerState::Failed { .. }, LayerState::Ready(_)) => {
                    tracing::info!(layer = %c.config.name, "map layer loaded after a failure");
                }
                _ => {}
            }
            *slot = Arc::new(state);
            drop(slot);
            *c.tried.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
            c.reading.store(false, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start a thread to read a map layer: {e}");
        reading.store(false, Ordering::SeqCst);
    }
}

/// A basemap a tile asked for and could not get.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownBasemap(pub String);

/// The map resources of one console: its configuration, the GeoJSON layers (read at start) and
/// the basemaps (started on first use, shared by every map tile).
pub struct MapSetup {
    config: MapConfig,
    configured: Vec<Arc<Configured>>,
    basemaps: Mutex<Vec<Arc<Mutex<Basemap>>>>,
    /// Unknown basemap names already logged (logged once, shown on the tile always).
    unknown_logged: Mutex<std::collections::HashSet<String>>,
}

impl Default for MapSetup {
    fn default() -> Self {
        MapSetup::new(MapConfig::default())
    }
}

impl std::fmt::Debug for MapSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapSetup")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MapSetup {
    /// Reads the configured layers. Failures are kept as failed layers (and read again every
    /// ten seconds in the background until they load), not returned.
    pub fn new(config: MapConfig) -> MapSetup {
        let configured = config
            .layers
            .iter()
            .map(|l| {
                Arc::new(Configured {
                    config: l.clone(),
                    state: Mutex::new(Arc::new(LayerState::Loading {
                        name: l.name.clone(),
                    })),
                    tried: Mutex::new(std::time::Instant::now()),
                    reading: Arc::new(std::sync::atomic::AtomicBool::new(false)),
                })
            })
            .collect();
        let setup = MapSetup {
            config,
            configured,
            basemaps: Mutex::new(Vec::new()),
            unknown_logged: Mutex::new(std::collections::HashSet::new()),
        };
        // Read in the background: a large file or a slow network share must not hold up the
        // window.
        for c in &setup.configured {
            read_in_background(c, true);
        }
        setup
    }

    pub fn config(&self) -> &MapConfig {
        &self.config
    }

    /// The vector layers to draw, bottom first: shipped, then configured. A configured layer
    /// that failed is read again in the background when its retry time has come.
    pub fn layers(&self) -> Vec<Arc<LayerState>> {
        let mut out: Vec<Arc<LayerState>> = if self.config.shipped_layers {
            shipped_layers().to_vec()
        } else {
            Vec::new()
        };
        for c in &self.configured {
            let state = Arc::clone(&c.state.lock().unwrap_or_else(|p| p.into_inner()));
            if matches!(*state, LayerState::Failed { .. }) {
                read_in_background(c, false);
            }
            out.push(state);
        }
        out
    }

    /// The basemap called `name` (the first configured one when `None`), started on first use;
    /// `Ok(None)` when none is configured and none was asked for.
    pub fn basemap(
        &self,
        ctx: &egui::Context,
        name: Option<&str>,
    ) -> Result<Option<Arc<Mutex<Basemap>>>, UnknownBasemap> {
        let cfg = match name {
            Some(n) => match self.config.basemaps.iter().find(|b| b.name() == n) {
                Some(b) => b,
                None => {
                    let mut logged = self
                        .unknown_logged
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    if logged.insert(n.to_owned()) {
                        tracing::warn!(
                            basemap = n,
                            "a map tile names a basemap the configuration does not have"
                        );
                    }
                    return Err(UnknownBasemap(n.to_owned()));
                }
            },
            None => match self.config.basemaps.first() {
                Some(b) => b,
                None => return Ok(None),
            },
        };
        let mut started = self.basemaps.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = started.iter().find(|b| {
            b.lock()
                .unwrap_or_else(|p| p.into_inner())
                .spec()
                .name
                .as_str()
                == cfg.name()
        }) {
            return Ok(Some(Arc::clone(b)));
        }
        let cache = self.config.cache_dir.clone().or_else(default_cache_dir);
        let spec = cfg.spec(cache.as_deref(), self.config.cache_max_mb);
        let b = Arc::new(Mutex::new(Basemap::new(spec, ctx.clone())));
        started.push(Arc::clone(&b));
        Ok(Some(b))
    }
}

/// The cameras within `radius_m` of `at`, nearest first, with their distances in metres.
pub fn cameras_near(
    cameras: &[crate::model::Camera],
    at: crate::model::GeoPoint,
    radius_m: f64,
) -> Vec<(&crate::model::Camera, f64)> {
    geo::nearest_within(at, cameras.iter().map(|c| c.location), radius_m)
        .into_iter()
        .map(|(i, d)| (&cameras[i], d))
        .collect()
}

fn default_cache_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ioc-console").map(|d| d.cache_dir().join("tiles"))
}
