//! What the configuration says about one basemap: an XYZ server or a PMTiles file, its name and
//! attribution.

use std::path::PathBuf;

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
