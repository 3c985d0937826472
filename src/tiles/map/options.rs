//! The map tile's options (from the layout): what it follows, which layers it shows, where it
//! looks by itself, the camera radius; and the view it starts from.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::context::FrameCtx;
use crate::map::geo::{self, Bounds};
use crate::model::GeoPoint;

/// What a map tile does when an incident is selected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Follow {
    /// Centre on the selected incident (default).
    #[default]
    Selection,
    /// Keep the view of the layout.
    Fixed,
}

/// The layers a map tile can show (and the operator toggle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MapLayer {
    Incidents,
    Cameras,
    Units,
    /// The GeoJSON layers (boundaries, coast, rivers, configured ones).
    Data,
    /// The raster basemap, when one is configured.
    Basemap,
}

impl MapLayer {
    pub const ALL: [MapLayer; 5] = [
        MapLayer::Incidents,
        MapLayer::Cameras,
        MapLayer::Units,
        MapLayer::Data,
        MapLayer::Basemap,
    ];

    pub(super) fn key(self) -> &'static str {
        match self {
            MapLayer::Incidents => "map.layer.incidents",
            MapLayer::Cameras => "map.layer.cameras",
            MapLayer::Units => "map.layer.units",
            MapLayer::Data => "map.layer.data",
            MapLayer::Basemap => "map.layer.basemap",
        }
    }
}

/// Options of a `map` tile.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapOptions {
    /// Centre of the view, e.g. `{ lat = 10.24, lon = 106.38 }` (default: all the units and
    /// cameras).
    #[serde(default)]
    pub center: Option<GeoPoint>,
    /// Zoom level of the view on a 1080-line monitor (0 = the world, 19 = a street).
    #[serde(default)]
    pub zoom: Option<f64>,
    /// "selection" (default): centre on the selected incident; "fixed": keep the view.
    #[serde(default)]
    pub follow: Follow,
    /// A basemap of the configuration's `[map]` (default: its first; none: vectors only).
    #[serde(default)]
    pub basemap: Option<String>,
    /// Layers shown at start (default: all).
    #[serde(default = "all_layers")]
    pub layers: Vec<MapLayer>,
    /// Cameras within this distance of the selected incident are listed (metres, default 2000).
    #[serde(default = "default_radius")]
    pub camera_radius_m: f64,
    /// Show resolved and rejected incidents too (default: open ones only).
    #[serde(default)]
    pub include_closed: bool,
    /// Only this unit's incidents (a unit id; default: every unit's).
    #[serde(default)]
    pub unit: Option<String>,
}

pub(super) fn all_layers() -> Vec<MapLayer> {
    MapLayer::ALL.to_vec()
}

pub(super) fn default_radius() -> f64 {
    2000.0
}

impl MapOptions {
    /// Checks what serde cannot: ranges. The error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(c) = self.center
            && !(c.is_valid() && c.lat.abs() <= geo::MAX_LAT)
        {
            return Err((
                "center",
                format!(
                    "center {{ lat = {}, lon = {} }} is not a position on the map",
                    c.lat, c.lon
                ),
            ));
        }
        if let Some(z) = self.zoom
            && !(0.0..=20.0).contains(&z)
        {
            return Err(("zoom", format!("zoom {z} is outside 0..20")));
        }
        if !(self.camera_radius_m.is_finite() && self.camera_radius_m > 0.0) {
            return Err((
                "camera_radius_m",
                format!(
                    "camera_radius_m {} must be a positive number of metres",
                    self.camera_radius_m
                ),
            ));
        }
        Ok(())
    }
}

impl MapOptions {
    /// The view of the layout: its centre and zoom, else everything the map knows of.
    pub(super) fn home(&self, cx: &FrameCtx, size: (f32, f32), scale: f32) -> (GeoPoint, f64) {
        let store = &cx.store;
        let known = || {
            let units = store.units.data.iter().flatten().filter_map(|u| u.location);
            let cams = store.cameras.data.iter().flatten().map(|c| c.location);
            Bounds::of(units.chain(cams))
        };
        let bounds = known();
        let center = self
            .center
            .or(bounds.map(|b| b.center()))
            .unwrap_or(GeoPoint {
                lat: 16.0,
                lon: 106.0,
            });
        // The layout's zoom is for a 1080-line monitor; a smaller drawing scale shows the same
        // area in fewer points.
        let zoom = match self.zoom {
            Some(z) => z + f64::from(scale.max(1e-3)).log2(),
            None => bounds
                .map(|b| b.fit_zoom((size.0 * 0.85, size.1 * 0.85), 15.0))
                .unwrap_or(5.0),
        };
        (center, zoom.clamp(0.0, 20.0))
    }
}
