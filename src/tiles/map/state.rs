//! What a map tile keeps between frames, one per viewport, kept by the wall: the slippy map's
//! memory, the layers shown, pop-ups, the prepared points, clusters, markers and layer lines.

use walkers::MapMemory;

use super::layers::LayerLines;
use super::markers::MarkerCache;
use super::options::MapLayer;
use super::options::MapOptions;
use super::points::IncidentPoints;
use crate::context::FrameCtx;
use crate::map::cluster::ClusterCache;
use crate::model::GeoPoint;
use crate::model::{Camera, Incident};

/// What a map tile keeps between frames (one per viewport, kept by the wall).
pub struct MapTileState {
    pub(super) memory: MapMemory,
    pub(super) initialised: bool,
    /// The options' own view (centre, zoom) the memory was set from: a scene or a scope that
    /// changes them moves the map there.
    pub(super) home: Option<[u64; 3]>,
    /// The wall scale the memory's zoom was set for.
    pub(super) scale: f32,
    pub(super) seen_selection: u64,
    pub(super) shown: Vec<MapLayer>,
    pub(super) show_layers_menu: bool,
    pub(super) show_legend: bool,
    pub(super) popup_camera: Option<String>,
    /// Incidents on one spot the operator asked to choose from.
    pub(super) popup_list: Option<Vec<String>>,
    pub(super) points: IncidentPoints,
    pub(super) clusters: ClusterCache,
    pub(super) markers: MarkerCache,
    pub(super) lines: LayerLines,
    pub(super) nearby: Nearby,
}

/// The cameras near the selected incident, searched when the incident moves, the radius changes
/// or the camera list is replaced, not every frame (a camera's live or dark state, which events
/// change in place, is read as drawn).
#[derive(Default)]
pub(super) struct Nearby {
    key: Option<(String, [u64; 3], Option<crate::model::Timestamp>, usize)>,
    /// (index in the camera list, distance), nearest first.
    found: Vec<(usize, f64)>,
    pub(super) searches: u64,
}

impl Nearby {
    pub(super) fn get(
        &mut self,
        cx: &FrameCtx,
        inc: &Incident,
        radius_m: f64,
    ) -> Vec<(Camera, f64)> {
        let cams = cx.store.cameras.data.as_deref().unwrap_or(&[]);
        let key = (
            inc.id.clone(),
            [
                inc.location.lat.to_bits(),
                inc.location.lon.to_bits(),
                radius_m.to_bits(),
            ],
            cx.store.cameras.fetched_at,
            cams.len(),
        );
        if self.key.as_ref() != Some(&key) {
            self.found = crate::map::geo::nearest_within(
                inc.location,
                cams.iter().map(|c| c.location),
                radius_m,
            );
            self.key = Some(key);
            self.searches += 1;
        }
        self.found
            .iter()
            .filter_map(|(i, d)| Some((cams.get(*i)?.clone(), *d)))
            .collect()
    }
}

impl MapTileState {
    pub(super) fn new(options: &MapOptions) -> MapTileState {
        MapTileState {
            memory: MapMemory::default(),
            initialised: false,
            home: None,
            scale: 1.0,
            seen_selection: 0,
            shown: options.layers.clone(),
            show_layers_menu: false,
            show_legend: false,
            popup_camera: None,
            popup_list: None,
            points: IncidentPoints::default(),
            clusters: ClusterCache::default(),
            markers: MarkerCache::default(),
            lines: LayerLines::default(),
            nearby: Nearby::default(),
        }
    }

    /// Where the tile looks (centre and zoom as drawn), once it has been drawn.
    pub fn current_view(&self) -> Option<(GeoPoint, f64)> {
        let c = self.memory.detached()?;
        Some((
            GeoPoint {
                lat: c.y(),
                lon: c.x(),
            },
            self.memory.zoom(),
        ))
    }

    /// How many times the tile rebuilt its incident points whole (changes are otherwise applied
    /// one by one).
    pub fn points_rebuilds(&self) -> u64 {
        self.points.full_builds
    }

    /// How many incidents the tile has placed on its map.
    pub fn placed_incidents(&self) -> Option<usize> {
        self.points.version.map(|_| self.points.ids.len())
    }

    /// How many times the tile prepared its incident markers.
    pub fn marker_builds(&self) -> u64 {
        self.markers.builds
    }

    /// How many times the tile projected its data layers' lines.
    pub fn line_builds(&self) -> u64 {
        self.lines.builds
    }

    /// Forgets the projected layer lines, as if the view had moved: the next frame projects and
    /// tessellates them again (what every frame did before they were kept; for benchmarks).
    pub fn forget_projected_lines(&mut self) {
        self.lines = LayerLines::default();
    }

    /// How many times the tile searched the cameras near the selected incident.
    pub fn nearby_searches(&self) -> u64 {
        self.nearby.searches
    }
}
