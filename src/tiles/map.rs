//! `map`: incidents, cameras and administrative units on a map (walkers widget, Web Mercator).
//!
//! Incidents: colour by priority, shape by category, status by outline (not by colour alone),
//! an exclamation badge when overdue, clustered with counts when zoomed out, a pulse for new
//! urgent ones. Cameras: a square with a wedge for the viewing direction; a dark camera is grey
//! and crossed out. Units: a dot and the name; historical units say until when they existed.
//! Selecting an incident (here, on the desk or in a queue) centres a following map on it and
//! lists the cameras within the tile's radius, nearest first; a camera opens in a pop-up with
//! its details. Layer toggles and a legend sit in the tile's corner. A basemap or data layer
//! that fails is named on the tile with the reason; the rest of the map keeps drawing.

use std::sync::Arc;

use egui::{Align2, Color32, Pos2, Rect, Shape, Stroke, UiBuilder, pos2, vec2};
use schemars::JsonSchema;
use serde::Deserialize;
use walkers::{Map, MapMemory, Tiles, lon_lat};

use super::TileView;
use super::incidents::{NEW_FOR, priority_color, priority_key, status_key};
use crate::context::command::SentCameras;
use crate::context::view::MAX_SENT;
use crate::context::{Command, FrameCtx, TileState};
use crate::format;
use crate::map::cluster::{Cluster, ClusterCache};
use crate::map::geo::{self, Bounds, Merc};
use crate::map::vector::{LayerState, LayerStyle, VectorLayer};
use crate::model::{Camera, Category, GeoPoint, Incident, IncidentStatus, Priority};
use crate::sources::Resource;
use crate::status::{DataStatus, SourceState};
use crate::store::Store;
use crate::ui::theme;

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

    fn key(self) -> &'static str {
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
}

fn all_layers() -> Vec<MapLayer> {
    MapLayer::ALL.to_vec()
}

fn default_radius() -> f64 {
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

/// Zoom levels at which incidents are no longer clustered.
const NO_CLUSTER_FROM: u8 = 17;
/// Cluster cell size in monitor pixels.
const CELL_PX: f64 = 56.0;
/// The zoom a following map goes to (at least) when it centres on an incident.
const FOLLOW_ZOOM: f64 = 14.0;
/// Most cameras listed next to a selected incident.
const NEAR_LIST_MAX: usize = 8;

/// The incidents of one store generation, as map points (sorted by id: stable clusters).
#[derive(Default)]
struct IncidentPoints {
    version: Option<(u64, bool)>,
    /// A stamp of the categories the glyphs were chosen from.
    categories: u64,
    /// The order: by (hash of the id, id).
    hashes: Vec<u64>,
    ids: Vec<String>,
    points: Vec<(Merc, u8)>,
    /// When each arrived (seconds), for the pulse of new ones.
    received: Vec<i64>,
    /// What drawing a lone marker needs, so that a frame does not look incidents up.
    info: Vec<PointInfo>,
    /// Whole rebuilds so far (changes are otherwise applied one by one).
    full_builds: u64,
}

struct PointInfo {
    glyph: Glyph,
    priority: Priority,
    status: IncidentStatus,
    due_at: crate::model::Timestamp,
    received_at: crate::model::Timestamp,
}

impl PointInfo {
    fn is_new(&self, now: crate::model::Timestamp) -> bool {
        now - self.received_at < NEW_FOR && !self.status.is_closed()
    }
}

/// What a map tile keeps between frames (one per viewport, kept by the wall).
pub struct MapTileState {
    memory: MapMemory,
    initialised: bool,
    /// The wall scale the memory's zoom was set for.
    scale: f32,
    seen_selection: u64,
    shown: Vec<MapLayer>,
    show_layers_menu: bool,
    show_legend: bool,
    popup_camera: Option<String>,
    /// Incidents on one spot the operator asked to choose from.
    popup_list: Option<Vec<String>>,
    points: IncidentPoints,
    clusters: ClusterCache,
    markers: MarkerCache,
}

/// Prepares the map points of the store's incidents from scratch and says how many there are:
/// the work done when the incidents are replaced whole; for benchmarks.
pub fn prepare_incident_points(store: &Store, include_closed: bool) -> usize {
    prepare_points(store, include_closed).ids.len()
}

/// A stamp of the category list (the glyphs follow its order).
fn categories_stamp(store: &Store) -> u64 {
    store
        .categories
        .data
        .iter()
        .flatten()
        .fold(0x9e37_79b9_7f4a_7c15, |h, c| {
            h.rotate_left(5) ^ crate::util::hash::fnv1a(&c.id)
        })
}

fn glyph_of(categories: &[Category], category: &str) -> Glyph {
    categories
        .iter()
        .position(|c| c.id == category)
        .map_or(GLYPHS[0], |k| GLYPHS[k % GLYPHS.len()])
}

/// When an incident arrived, for the pulse of new ones; a closed one never pulses.
fn pulse_stamp(i: &Incident) -> i64 {
    if i.status.is_closed() {
        i64::MIN
    } else {
        i.received_at.timestamp()
    }
}

/// Whether an incident is placed on a map that shows closed ones or not.
fn placed(i: &Incident, include_closed: bool) -> bool {
    (include_closed || !i.status.is_closed()) && i.location.is_valid()
}

impl IncidentPoints {
    fn push(&mut self, hash: u64, id: &str, i: &Incident, categories: &[Category]) {
        self.insert(self.ids.len(), hash, id, i, categories);
    }

    fn insert(&mut self, at: usize, hash: u64, id: &str, i: &Incident, categories: &[Category]) {
        self.hashes.insert(at, hash);
        self.ids.insert(at, id.to_owned());
        self.points
            .insert(at, (geo::project(i.location), rank(i.priority)));
        self.received.insert(at, pulse_stamp(i));
        self.info.insert(at, PointInfo::of(i, categories));
    }

    fn set(&mut self, at: usize, i: &Incident, categories: &[Category]) {
        self.points[at] = (geo::project(i.location), rank(i.priority));
        self.received[at] = pulse_stamp(i);
        self.info[at] = PointInfo::of(i, categories);
    }

    fn remove(&mut self, at: usize) {
        self.hashes.remove(at);
        self.ids.remove(at);
        self.points.remove(at);
        self.received.remove(at);
        self.info.remove(at);
    }

    /// Where `id` is, or would go, in the order.
    fn find(&self, hash: u64, id: &str) -> Result<usize, usize> {
        let mut lo = self.hashes.partition_point(|h| *h < hash);
        while lo < self.hashes.len() && self.hashes[lo] == hash {
            match self.ids[lo].as_str().cmp(id) {
                std::cmp::Ordering::Less => lo += 1,
                std::cmp::Ordering::Equal => return Ok(lo),
                std::cmp::Ordering::Greater => break,
            }
        }
        Err(lo)
    }
}

impl PointInfo {
    fn of(i: &Incident, categories: &[Category]) -> PointInfo {
        PointInfo {
            glyph: glyph_of(categories, &i.category),
            priority: i.priority,
            status: i.status,
            due_at: i.due_at,
            received_at: i.received_at,
        }
    }
}

/// Most changes applied one by one (each moves the tail of the vectors); more, and a rebuild
/// is cheaper.
const CHANGES_ONE_BY_ONE: usize = 64;

/// Applies the incidents changed since the points' version, from the store's change log; false
/// when that cannot be done (the map was replaced, the log lost entries, too many changes).
fn apply_changes(points: &mut IncidentPoints, store: &Store, include_closed: bool) -> bool {
    let Some((since, shown_closed)) = points.version else {
        return false;
    };
    if shown_closed != include_closed
        || store.incidents_reset > since
        || store.incident_log_evicted > since
    {
        return false;
    }
    let Some(map) = store.incidents.data.as_ref() else {
        return false;
    };
    let mut changed: Vec<&str> = store
        .incident_log
        .iter()
        .rev()
        .take_while(|(g, _)| *g > since)
        .map(|(_, id)| id.as_str())
        .collect();
    changed.sort_unstable();
    changed.dedup();
    if changed.len() > CHANGES_ONE_BY_ONE {
        return false;
    }
    let categories: &[Category] = store.categories.data.as_deref().unwrap_or(&[]);
    for id in changed {
        let hash = crate::util::hash::fnv1a(id);
        let now = map.get(id).filter(|i| placed(i, include_closed));
        match (points.find(hash, id), now) {
            (Ok(at), Some(i)) => points.set(at, i, categories),
            (Ok(at), None) => points.remove(at),
            (Err(at), Some(i)) => points.insert(at, hash, id, i, categories),
            (Err(_), None) => {}
        }
    }
    points.version = Some((store.incidents_version(), include_closed));
    true
}

/// The incidents of the store as map points, in a stable order (the same clusters in every run)
/// by a hash of the id: one pass over the map, no second lookup, no sort of 100,000 strings.
fn prepare_points(store: &Store, include_closed: bool) -> IncidentPoints {
    let mut p = IncidentPoints {
        version: Some((store.incidents_version(), include_closed)),
        categories: categories_stamp(store),
        ..Default::default()
    };
    let Some(map) = store.incidents.data.as_ref() else {
        return p;
    };
    let mut rows: Vec<(u64, &String, &Incident)> = map
        .iter()
        .filter(|(_, i)| placed(i, include_closed))
        .map(|(id, i)| (crate::util::hash::fnv1a(id), id, i))
        .collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let categories: &[Category] = store.categories.data.as_deref().unwrap_or(&[]);
    p.hashes.reserve(rows.len());
    p.ids.reserve(rows.len());
    p.points.reserve(rows.len());
    p.received.reserve(rows.len());
    p.info.reserve(rows.len());
    for (hash, id, i) in rows {
        p.push(hash, id, i, categories);
    }
    p
}

/// The incident markers of a view, tessellated once: a wall map that does not move redraws
/// them as one prepared mesh instead of shaping and tessellating every marker every frame.
#[derive(Default)]
struct MarkerCache {
    key: Option<MarkerKey>,
    mesh: Arc<egui::Mesh>,
    hits: Vec<(Pos2, f32, Hit)>,
    /// Rings of new incidents: centre, radius, colour, and until when (seconds).
    pulses: Vec<(Pos2, f32, Color32, i64)>,
    /// The earliest instant (seconds) at which a drawn marker turns overdue.
    valid_until: Option<i64>,
    builds: u64,
}

/// Everything the prepared markers depend on.
#[derive(Clone, Copy, Debug, PartialEq)]
struct MarkerKey {
    version: (u64, bool),
    level: u8,
    zoom: f64,
    center: (f64, f64),
    clip: [f32; 4],
    scale: f32,
    pixels_per_point: f32,
    font_texture: [usize; 2],
    lang: crate::i18n::Lang,
}

/// A marker drawn this frame, for clicks and hovers.
#[derive(Clone)]
enum Hit {
    /// A group; `unsplittable` when zooming in cannot split it (its members share one spot).
    Cluster {
        at: Merc,
        count: u32,
        unsplittable: bool,
    },
    /// An incident, by its index in the tile's points.
    Incident(u32),
    Camera(String),
}

fn rank(p: Priority) -> u8 {
    match p {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Critical => 3,
    }
}

fn priority_of(rank: u8) -> Priority {
    match rank {
        0 => Priority::Low,
        1 => Priority::Normal,
        2 => Priority::High,
        _ => Priority::Critical,
    }
}

fn to_pos(m: Merc, world: f64, center: Merc, clip: Rect) -> Pos2 {
    pos2(
        clip.center().x + ((m.x - center.x) * world) as f32,
        clip.center().y + ((m.y - center.y) * world) as f32,
    )
}

/// The shapes categories are told apart by (all convex, so they fill cleanly).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Glyph {
    Circle,
    Square,
    Diamond,
    TriangleUp,
    TriangleDown,
    Pentagon,
    Hexagon,
    Octagon,
    Bar,
    Column,
}

const GLYPHS: [Glyph; 10] = [
    Glyph::Circle,
    Glyph::Square,
    Glyph::Diamond,
    Glyph::TriangleUp,
    Glyph::TriangleDown,
    Glyph::Pentagon,
    Glyph::Hexagon,
    Glyph::Octagon,
    Glyph::Bar,
    Glyph::Column,
];

fn glyph_points(g: Glyph, c: Pos2, r: f32) -> Vec<Pos2> {
    let poly = |n: usize, start_deg: f32, rr: f32| -> Vec<Pos2> {
        (0..n)
            .map(|i| {
                let a = (start_deg + 360.0 * i as f32 / n as f32).to_radians();
                pos2(c.x + rr * a.cos(), c.y + rr * a.sin())
            })
            .collect()
    };
    match g {
        Glyph::Circle => poly(16, 0.0, r),
        Glyph::Square => poly(4, 45.0, r * 1.25),
        Glyph::Diamond => poly(4, 0.0, r * 1.25),
        Glyph::TriangleUp => poly(3, -90.0, r * 1.35),
        Glyph::TriangleDown => poly(3, 90.0, r * 1.35),
        Glyph::Pentagon => poly(5, -90.0, r * 1.15),
        Glyph::Hexagon => poly(6, 0.0, r * 1.1),
        Glyph::Octagon => poly(8, 22.5, r * 1.08),
        Glyph::Bar => vec![
            pos2(c.x - r * 1.35, c.y - r * 0.6),
            pos2(c.x + r * 1.35, c.y - r * 0.6),
            pos2(c.x + r * 1.35, c.y + r * 0.6),
            pos2(c.x - r * 1.35, c.y + r * 0.6),
        ],
        Glyph::Column => vec![
            pos2(c.x - r * 0.6, c.y - r * 1.35),
            pos2(c.x + r * 0.6, c.y - r * 1.35),
            pos2(c.x + r * 0.6, c.y + r * 1.35),
            pos2(c.x - r * 0.6, c.y + r * 1.35),
        ],
    }
}

/// Draws an incident marker: fill by priority, shape by category, outline by status.
pub fn paint_incident_marker(
    painter: &egui::Painter,
    c: Pos2,
    r: f32,
    glyph: Glyph,
    priority: Priority,
    status: IncidentStatus,
    overdue: bool,
) {
    let mut out = Vec::new();
    incident_marker_shapes(&mut out, c, r, glyph, priority, status, overdue);
    painter.extend(out);
}

/// A filled circle with an outline, as a polygon of a few sides: at marker sizes it looks as
/// round as egui's circle and tessellates into a third of the vertices (markers are many).
fn disc(center: Pos2, radius: f32, fill: Color32, stroke: Stroke) -> Shape {
    let sides = if radius < 8.0 { 12 } else { 24 };
    let points = (0..sides)
        .map(|i| {
            let a = std::f32::consts::TAU * i as f32 / sides as f32;
            pos2(center.x + radius * a.cos(), center.y + radius * a.sin())
        })
        .collect();
    Shape::convex_polygon(points, fill, stroke)
}

/// The shapes of an incident marker (see [`paint_incident_marker`]).
fn incident_marker_shapes(
    out: &mut Vec<Shape>,
    c: Pos2,
    r: f32,
    glyph: Glyph,
    priority: Priority,
    status: IncidentStatus,
    overdue: bool,
) {
    let fill = priority_color(priority);
    let pts = glyph_points(glyph, c, r);
    let outline_w = (r * 0.18).max(1.0);
    if status.is_closed() {
        // Closed: hollow, in the priority colour.
        out.push(Shape::convex_polygon(
            pts,
            Color32::TRANSPARENT,
            Stroke::new(outline_w * 1.4, fill),
        ));
    } else if status == IncidentStatus::InProgress {
        // Being handled: a thick ring and a dark centre.
        out.push(Shape::convex_polygon(
            pts,
            fill,
            Stroke::new(outline_w * 2.0, Color32::WHITE),
        ));
        out.push(disc(
            c,
            r * 0.35,
            theme::colors::TILE_BACKGROUND,
            Stroke::NONE,
        ));
    } else {
        out.push(Shape::convex_polygon(
            pts,
            fill,
            Stroke::new(outline_w, Color32::WHITE),
        ));
    }
    if overdue {
        // A red badge with an exclamation mark, drawn (no font needed).
        let b = c + vec2(r * 0.95, -r * 0.95);
        let br = r * 0.5;
        out.push(disc(
            b,
            br,
            theme::colors::ERROR,
            Stroke::new(1.0, Color32::WHITE),
        ));
        let w = (br * 0.28).max(1.0);
        out.push(Shape::line_segment(
            [b - vec2(0.0, br * 0.6), b + vec2(0.0, br * 0.15)],
            Stroke::new(w, Color32::WHITE),
        ));
        out.push(disc(
            b + vec2(0.0, br * 0.5),
            w * 0.6,
            Color32::WHITE,
            Stroke::NONE,
        ));
    }
}

/// Draws a camera: a square with a wedge towards where it looks; dark ones grey and crossed.
pub fn paint_camera_marker(
    painter: &egui::Painter,
    c: Pos2,
    r: f32,
    direction_deg: Option<f32>,
    live: bool,
) {
    let color = if live {
        theme::colors::LIVE
    } else {
        theme::colors::OFFLINE
    };
    if let Some(d) = direction_deg {
        // 0° is north, clockwise; screen y grows down.
        let a = d.to_radians();
        let dir = vec2(a.sin(), -a.cos());
        let side = vec2(dir.y, -dir.x);
        let tip = c + dir * r * 2.3;
        painter.add(Shape::convex_polygon(
            vec![
                c + dir * r * 0.7 + side * r * 0.5,
                tip + side * r * 1.0,
                tip - side * r * 1.0,
                c + dir * r * 0.7 - side * r * 0.5,
            ],
            color.gamma_multiply(0.45),
            Stroke::NONE,
        ));
    }
    // A video-camera pictogram: a body and a lens hood, so it reads as a camera without colour
    // and is not taken for an incident.
    let body = Rect::from_center_size(c - vec2(r * 0.3, 0.0), vec2(r * 1.5, r * 1.1));
    let outline = Stroke::new(1.0, Color32::WHITE);
    painter.rect(body, r * 0.2, color, outline, egui::StrokeKind::Outside);
    painter.add(Shape::convex_polygon(
        vec![
            pos2(body.right(), c.y - r * 0.2),
            pos2(body.right() + r * 0.75, c.y - r * 0.55),
            pos2(body.right() + r * 0.75, c.y + r * 0.55),
            pos2(body.right(), c.y + r * 0.2),
        ],
        color,
        outline,
    ));
    if !live {
        let s = Stroke::new((r * 0.25).max(1.2), theme::colors::ERROR);
        let b = body.expand(r * 0.25);
        painter.line_segment([b.left_top(), pos2(b.right() + r * 0.6, b.bottom())], s);
        painter.line_segment([pos2(b.right() + r * 0.6, b.top()), b.left_bottom()], s);
    }
}

fn style_stroke(style: LayerStyle, scale: f32) -> Stroke {
    let w = |px: f32| (px * scale).max(0.6);
    match style {
        LayerStyle::Boundary => Stroke::new(w(2.0), Color32::from_rgb(150, 140, 190)),
        LayerStyle::Coast => Stroke::new(w(1.6), Color32::from_rgb(196, 178, 128)),
        LayerStyle::River => Stroke::new(w(2.2), Color32::from_rgb(70, 130, 200)),
        LayerStyle::Road => Stroke::new(w(1.6), Color32::from_rgb(200, 120, 80)),
        LayerStyle::Points => Stroke::new(w(1.0), theme::colors::TEXT_DIM),
    }
}

/// A name to write on the map, placed after the shapes so that it is not hidden by them.
type LabelWish = (Pos2, String, egui::FontId, Color32);

/// Writes labels where they do not overlap labels already written (first come, first shown).
#[derive(Default)]
struct LabelPlacer {
    placed: Vec<Rect>,
}

impl LabelPlacer {
    fn place(&mut self, painter: &egui::Painter, at: Pos2, align: Align2, wish: LabelWish) {
        let (_, text, font, color) = wish;
        let galley = painter.layout_no_wrap(text, font, color);
        let rect = align.anchor_size(at, galley.size());
        if self.placed.iter().any(|r| r.intersects(rect)) {
            return;
        }
        self.placed.push(rect.expand(2.0));
        painter.galley(rect.min, galley, color);
    }
}

#[allow(clippy::too_many_arguments)]
fn paint_vector_layer(
    painter: &egui::Painter,
    labels: &mut Vec<LabelWish>,
    layer: &VectorLayer,
    world: f64,
    center: Merc,
    clip: Rect,
    scale: f32,
    zoom: f64,
) {
    let stroke = style_stroke(layer.style, scale);
    let half = vec2(clip.width() / 2.0, clip.height() / 2.0);
    let view_min = Merc {
        x: center.x - f64::from(half.x) / world,
        y: center.y - f64::from(half.y) / world,
    };
    let view_max = Merc {
        x: center.x + f64::from(half.x) / world,
        y: center.y + f64::from(half.y) / world,
    };
    for line in &layer.lines {
        if line.max.x < view_min.x
            || line.min.x > view_max.x
            || line.max.y < view_min.y
            || line.min.y > view_max.y
        {
            continue;
        }
        // Drop vertices closer than a pixel to the last kept one.
        let mut pts: Vec<Pos2> = Vec::with_capacity(line.points.len());
        for m in &line.points {
            let p = to_pos(*m, world, center, clip);
            if pts.last().is_none_or(|l: &Pos2| l.distance_sq(p) >= 1.0) {
                pts.push(p);
            }
        }
        if pts.len() >= 2 {
            painter.add(Shape::line(pts, stroke));
        }
    }
    for m in &layer.points {
        painter.circle_filled(
            to_pos(*m, world, center, clip),
            3.0 * scale.max(0.5),
            stroke.color,
        );
    }
    // Names of boundaries from afar, of rivers and places from closer.
    let show_labels = match layer.style {
        LayerStyle::Boundary => (6.5..12.0).contains(&zoom),
        LayerStyle::River | LayerStyle::Road => zoom >= 10.0,
        LayerStyle::Points => zoom >= 9.0,
        LayerStyle::Coast => false,
    };
    if show_labels {
        let font = theme::wall_font(theme::WALL.caption * 0.9, scale, false);
        for (m, text) in &layer.labels {
            let p = to_pos(*m, world, center, clip);
            if clip.contains(p) {
                labels.push((
                    p,
                    text.clone(),
                    font.clone(),
                    stroke.color.gamma_multiply(1.3),
                ));
            }
        }
    }
}

impl MapTileState {
    fn new(options: &MapOptions) -> MapTileState {
        MapTileState {
            memory: MapMemory::default(),
            initialised: false,
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
}

impl MapOptions {
    /// The view of the layout: its centre and zoom, else everything the map knows of.
    fn home(&self, cx: &FrameCtx, size: (f32, f32), scale: f32) -> (GeoPoint, f64) {
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

impl TileView for MapOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        let incidents = cx.store.status(Resource::Incidents, cx.now);
        let cameras = cx.store.status(Resource::Cameras, cx.now);
        // The worse of the two speaks for the tile.
        let bad = |s: &DataStatus| !matches!(s.state, SourceState::Live);
        if bad(&cameras) && !bad(&incidents) {
            cameras
        } else {
            incidents
        }
    }

    fn paint_body(
        &self,
        ui: &mut egui::Ui,
        rect: Rect,
        scale: f32,
        cx: &FrameCtx,
        state: &mut TileState,
    ) {
        let st = state.get_or_insert_with(|| MapTileState::new(self));
        let ctx = ui.ctx().clone();

        if !st.initialised {
            let (c, z) = self.home(cx, (rect.width(), rect.height()), scale);
            st.memory.center_at(lon_lat(c.lon, c.lat));
            let _ = st.memory.set_zoom(z);
            st.scale = scale;
            st.initialised = true;
            // A selection made before the tile appeared is followed too.
            st.seen_selection = 0;
        } else if (scale - st.scale).abs() > 1e-4 && scale > 0.0 {
            let dz = f64::from(scale / st.scale).log2();
            let _ = st.memory.set_zoom((st.memory.zoom() + dz).clamp(0.0, 20.0));
            st.scale = scale;
        }

        let incidents = cx.store.incidents.data.as_ref();
        let sel = &cx.view;
        let selected: Option<&Incident> = sel
            .incident
            .as_ref()
            .and_then(|id| incidents.and_then(|m| m.get(id)));
        if sel.generation != st.seen_selection {
            st.seen_selection = sel.generation;
            if self.follow == Follow::Selection
                && let Some(inc) = selected
                && inc.location.is_valid()
            {
                st.memory
                    .center_at(lon_lat(inc.location.lon, inc.location.lat));
                let z = FOLLOW_ZOOM + f64::from(scale.max(1e-3)).log2();
                if st.memory.zoom() < z {
                    let _ = st.memory.set_zoom(z);
                }
            }
        }

        let painter = ui.painter().with_clip_rect(rect);
        painter.rect_filled(rect, 0.0, Color32::from_rgb(12, 22, 36));

        // The basemap, when one is configured and shown.
        let basemap = if st.shown.contains(&MapLayer::Basemap) {
            cx.map.basemap(&ctx, self.basemap.as_deref())
        } else {
            Ok(None)
        };
        let mut problems: Vec<String> = Vec::new();
        let mut attribution: Vec<String> = Vec::new();
        let basemap = match basemap {
            Ok(b) => b,
            Err(unknown) => {
                problems.push(cx.t_args("map.err.unknown_basemap", &[("name", &unknown.0)]));
                None
            }
        };
        let mut guard = basemap
            .as_ref()
            .map(|b| b.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(b) = guard.as_mut() {
            b.pump(std::time::Instant::now());
            let h = b.health();
            if let Some(err) = &h.error {
                let error = cx.t_args(err.key, &[("detail", &err.detail)]);
                let name = &b.spec().name;
                let wait = h.retry_at.map(|t| {
                    t.saturating_duration_since(std::time::Instant::now())
                        .as_secs()
                        + 1
                });
                let line = match wait {
                    Some(s) if h.stale_in_view > 0 => cx.t_args(
                        "map.err.basemap_stale",
                        &[("name", name), ("error", &error), ("s", &s)],
                    ),
                    Some(s) => cx.t_args(
                        "map.err.basemap",
                        &[("name", name), ("error", &error), ("s", &s)],
                    ),
                    None => cx.t_args(
                        "map.err.basemap_retrying",
                        &[("name", name), ("error", &error)],
                    ),
                };
                problems.push(line);
                // Retries are timed: wake up to make them.
                ctx.request_repaint_after(std::time::Duration::from_millis(500));
            }
            if !b.spec().attribution.is_empty() {
                attribution.push(b.spec().attribution.clone());
            }
        }

        let mut child = ui.new_child(
            UiBuilder::new()
                .max_rect(rect)
                .id_salt(("map-tile", self as *const Self as usize)),
        );
        let tiles: Option<&mut dyn Tiles> = guard.as_deref_mut().map(|b| b as &mut dyn Tiles);
        let home = st.memory.detached().unwrap_or(lon_lat(106.0, 16.0));
        let map = Map::new(tiles, &mut st.memory, home)
            .double_click_to_zoom(true)
            .zoom_with_ctrl(false);
        let mut hits: Vec<(Pos2, f32, Hit)> = Vec::new();
        let shown = st.shown.clone();
        let points = &mut st.points;
        let clusters = &mut st.clusters;
        let markers = &mut st.markers;
        let inner = map.show(&mut child, |ui, response, projector, _memory| {
            let clip = projector.clip_rect();
            let zoom = projector.zoom();
            let world = geo::world_px(zoom);
            let c = projector.unproject(clip.center().to_vec2());
            let center = geo::project(GeoPoint {
                lat: c.y(),
                lon: c.x(),
            });
            let painter = ui.painter().with_clip_rect(clip);
            let r = (theme::WALL.caption * 0.55 * scale).max(4.0);
            let mut placer = LabelPlacer::default();
            let mut layer_labels: Vec<LabelWish> = Vec::new();

            if shown.contains(&MapLayer::Data) {
                for layer in cx.map.layers() {
                    match &*layer {
                        LayerState::Ready(l) => {
                            paint_vector_layer(
                                &painter,
                                &mut layer_labels,
                                l,
                                world,
                                center,
                                clip,
                                scale,
                                zoom,
                            );
                            if let Some(a) = &l.attribution
                                && !attribution.contains(a)
                            {
                                attribution.push(a.clone());
                            }
                        }
                        LayerState::Loading { .. } => {
                            ui.ctx()
                                .request_repaint_after(std::time::Duration::from_millis(200));
                        }
                        LayerState::Failed { name, error } => {
                            let (key, detail) = error.catalogue();
                            let error = cx.t_args(key, &[("detail", &detail)]);
                            problems.push(
                                cx.t_args("map.err.layer", &[("name", name), ("error", &error)]),
                            );
                            // It is read again in the background: show when it loads.
                            ui.ctx()
                                .request_repaint_after(std::time::Duration::from_secs(1));
                        }
                    }
                }
            }
            if shown.contains(&MapLayer::Units) {
                paint_units(&painter, &mut placer, cx, world, center, clip, scale, zoom);
            }
            for wish in layer_labels {
                placer.place(&painter, wish.0, Align2::CENTER_CENTER, wish);
            }
            if shown.contains(&MapLayer::Cameras)
                && let Some(cams) = cx.store.cameras.data.as_ref()
            {
                for cam in cams {
                    let p = to_pos(geo::project(cam.location), world, center, clip);
                    if clip.expand(r * 3.0).contains(p) {
                        paint_camera_marker(&painter, p, r, cam.direction_deg, cam.online);
                        hits.push((p, r * 1.3, Hit::Camera(cam.id.clone())));
                    }
                }
            }
            let mut pulsing = false;
            if shown.contains(&MapLayer::Incidents) && incidents.is_some() {
                pulsing = paint_incidents(
                    &painter,
                    cx,
                    (points, clusters, markers),
                    self.include_closed,
                    (world, center, clip, zoom),
                    r,
                    scale,
                    &mut hits,
                );
            }
            if let Some(inc) = selected {
                let p = to_pos(geo::project(inc.location), world, center, clip);
                if shown.contains(&MapLayer::Cameras) {
                    // The search circle around the selected incident.
                    let radius_px =
                        (self.camera_radius_m * projector.scale_pixel_per_meter(c) as f64) as f32;
                    painter.circle_stroke(
                        p,
                        radius_px,
                        Stroke::new(
                            1.5 * scale.max(0.5),
                            theme::colors::ACCENT.gamma_multiply(0.7),
                        ),
                    );
                }
                painter.circle_stroke(
                    p,
                    r * 2.2,
                    Stroke::new(2.5 * scale.max(0.5), Color32::WHITE),
                );
            }
            (handle_pointer(ui, response, &hits, &*points, cx), pulsing)
        });
        drop(guard);
        let (action, pulsing) = inner.inner;
        match action {
            Some(PointerAction::Select(id)) => {
                st.popup_list = None;
                cx.send(Command::SelectIncident(Some(id)));
            }
            Some(PointerAction::OpenCamera(id)) => st.popup_camera = Some(id),
            Some(PointerAction::ZoomTo(at)) => {
                let at = geo::unproject(at);
                st.memory.center_at(lon_lat(at.lon, at.lat));
                let z = st.memory.zoom();
                let _ = st.memory.set_zoom((z + 2.0).min(19.0).max(z));
            }
            Some(PointerAction::List(ids)) => st.popup_list = Some(ids),
            None => {}
        }
        if pulsing {
            // New incidents pulse: keep the animation going.
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }

        // Overlays: nearby cameras, pop-up, controls, legend, problems, attribution.
        let nearby = selected.map(|inc| nearby_cameras(cx, inc.location, self.camera_radius_m));
        if let (Some(inc), Some(near)) = (selected, nearby.as_ref())
            && let Some(id) = paint_nearby(ui, rect, scale, cx, inc, near, self.camera_radius_m)
        {
            st.popup_camera = Some(id);
        }
        if let Some(ids) = st.popup_list.clone() {
            match paint_incident_list(ui, rect, scale, cx, &ids) {
                ListOutcome::Open => {}
                ListOutcome::Closed => st.popup_list = None,
                ListOutcome::Chosen(id) => {
                    st.popup_list = None;
                    cx.send(Command::SelectIncident(Some(id)));
                }
            }
        }
        if let Some(cam_id) = st.popup_camera.clone() {
            let cam = cx
                .store
                .cameras
                .data
                .as_ref()
                .and_then(|c| c.iter().find(|c| c.id == cam_id));
            match cam {
                Some(cam) => {
                    if !paint_camera_popup(ui, rect, scale, cx, cam, selected) {
                        st.popup_camera = None;
                    }
                }
                None => st.popup_camera = None,
            }
        }
        paint_controls(ui, rect, scale, cx, st);
        paint_footer(ui, rect, scale, &problems, &attribution);
    }
}

/// Problems (named layers and basemaps, with the reason) and the attribution, bottom left and
/// right, as labels: readable by screen readers and tests.
fn paint_footer(
    ui: &mut egui::Ui,
    rect: Rect,
    scale: f32,
    problems: &[String],
    attribution: &[String],
) {
    let pad = theme::WALL.padding * scale * 0.5;
    let area = rect.shrink(pad);
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(area)
            .layout(egui::Layout::bottom_up(egui::Align::Min))
            .id_salt(("map-footer", rect.min.x as i32, rect.min.y as i32)),
    );
    if !attribution.is_empty() {
        let font = theme::wall_font(theme::WALL.caption * 0.7, scale, false);
        child.with_layout(egui::Layout::bottom_up(egui::Align::Max), |ui| {
            egui::Frame::new()
                .fill(Color32::from_black_alpha(160))
                .inner_margin(2.0)
                .show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(attribution.join(" · "))
                            .font(font)
                            .color(theme::colors::TEXT_DIM),
                    );
                });
        });
    }
    let font = theme::wall_font(theme::WALL.caption * 0.85, scale, true);
    for p in problems.iter().rev() {
        egui::Frame::new()
            .fill(theme::colors::BANNER_ERROR_BG)
            .corner_radius(4.0)
            .inner_margin(4.0)
            .show(&mut child, |ui| {
                ui.set_max_width(area.width() - 8.0);
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(p)
                            .font(font.clone())
                            .color(theme::colors::TEXT),
                    )
                    .wrap(),
                );
            });
    }
}

enum PointerAction {
    Select(String),
    OpenCamera(String),
    ZoomTo(Merc),
    /// Incidents on one spot, to choose from.
    List(Vec<String>),
}

fn handle_pointer(
    ui: &egui::Ui,
    response: &egui::Response,
    hits: &[(Pos2, f32, Hit)],
    points: &IncidentPoints,
    cx: &FrameCtx,
) -> Option<PointerAction> {
    let pointer = response.hover_pos()?;
    let (_, _, hit) = hits
        .iter()
        .filter(|(p, r, _)| p.distance(pointer) <= *r)
        .min_by(|a, b| a.0.distance(pointer).total_cmp(&b.0.distance(pointer)))?;
    let tip = match hit {
        Hit::Cluster {
            count,
            unsplittable: false,
            ..
        } => cx.t_args("map.cluster_tip", &[("n", count)]),
        Hit::Cluster { count, .. } => cx.t_args("map.same_spot_tip", &[("n", count)]),
        Hit::Incident(i) => cx
            .store
            .incidents
            .data
            .as_ref()
            .zip(points.ids.get(*i as usize))
            .and_then(|(m, id)| m.get(id))
            .map(|i| {
                format!(
                    "{}\n{} · {}",
                    i.title,
                    cx.t(priority_key(i.priority)),
                    cx.t(status_key(i.status))
                )
            })
            .unwrap_or_default(),
        Hit::Camera(id) => cx
            .store
            .cameras
            .data
            .as_ref()
            .and_then(|c| c.iter().find(|c| &c.id == id))
            .map(|c| format!("{}\n{}", c.name, cx.t(camera_state_key(c.online))))
            .unwrap_or_default(),
    };
    if !tip.is_empty() {
        egui::Tooltip::always_open(
            ui.ctx().clone(),
            ui.layer_id(),
            ui.scope_id().with("map-tip"),
            egui::PopupAnchor::Pointer,
        )
        .show(|ui| ui.label(tip));
    }
    if !response.clicked() {
        return None;
    }
    match hit {
        Hit::Cluster {
            at,
            unsplittable: false,
            ..
        } => Some(PointerAction::ZoomTo(*at)),
        Hit::Cluster { at, .. } => {
            // Its members: the markers in its one-pixel cell at the finest level.
            let world = geo::world_px(22.0);
            let cell = |m: &Merc| ((m.x * world).floor(), (m.y * world).floor());
            let here = cell(at);
            Some(PointerAction::List(
                points
                    .points
                    .iter()
                    .zip(&points.ids)
                    .filter(|((m, _), _)| cell(m) == here)
                    .map(|(_, id)| id.clone())
                    .collect(),
            ))
        }
        Hit::Incident(i) => points
            .ids
            .get(*i as usize)
            .map(|id| PointerAction::Select(id.clone())),
        Hit::Camera(id) => Some(PointerAction::OpenCamera(id.clone())),
    }
}

pub fn camera_state_key(online: bool) -> &'static str {
    if online {
        "map.camera_live"
    } else {
        "map.camera_dark"
    }
}

/// Draws the incidents, clustered; returns whether a new one is pulsing (the caller keeps the
/// animation going).
#[allow(clippy::too_many_arguments)]
fn paint_incidents(
    painter: &egui::Painter,
    cx: &FrameCtx,
    (points, clusters, markers): (&mut IncidentPoints, &mut ClusterCache, &mut MarkerCache),
    include_closed: bool,
    (world, center, clip, zoom): (f64, Merc, Rect, f64),
    r: f32,
    scale: f32,
    hits: &mut Vec<(Pos2, f32, Hit)>,
) -> bool {
    // Kept in step with the incidents (not with other datasets): changes one by one from the
    // store's change log, a whole rebuild when the map was replaced or many changed.
    let categories = categories_stamp(&cx.store);
    let wanted = (cx.store.incidents_version(), include_closed);
    let stale = points.version != Some(wanted) || points.categories != categories;
    if stale
        && (points.categories != categories || !apply_changes(points, &cx.store, include_closed))
    {
        let builds = points.full_builds;
        *points = prepare_points(&cx.store, include_closed);
        points.full_builds = builds + 1;
    }
    let Some(version) = points.version else {
        return false;
    };
    // Clusters are made for the zoom level as a 1080-line monitor shows it, in cells of
    // CELL_PX monitor pixels; from NO_CLUSTER_FROM on, only markers on the same spot merge.
    let level = (zoom - f64::from(scale.max(1e-3)).log2())
        .round()
        .clamp(0.0, 22.0) as u8;
    let cluster_key = version.0 ^ (u64::from(include_closed) << 63);
    let unsplittable = level >= NO_CLUSTER_FROM;
    let stamps = Some(points.received.as_slice());
    let list: &[Cluster] = if unsplittable {
        clusters.get(cluster_key, 22, 1.0, &points.points, stamps)
    } else {
        clusters.get(cluster_key, level, CELL_PX, &points.points, stamps)
    };
    let ctx = painter.ctx();
    let key = MarkerKey {
        version,
        level,
        zoom,
        center: (center.x, center.y),
        clip: [clip.min.x, clip.min.y, clip.max.x, clip.max.y],
        scale,
        pixels_per_point: ctx.pixels_per_point(),
        font_texture: ctx.fonts(|f| f.font_image_size()),
        lang: cx.lang,
    };
    let now_s = cx.now.timestamp();
    let fresh = markers.key == Some(key) && markers.valid_until.is_none_or(|t| now_s < t);
    if !fresh {
        build_markers(
            markers,
            painter,
            cx,
            points,
            (list, unsplittable),
            (world, center, clip),
            r,
            scale,
        );
        markers.key = Some(key);
    }
    painter.add(Shape::mesh(Arc::clone(&markers.mesh)));
    hits.extend(markers.hits.iter().cloned());
    // New incidents pulse: drawn every frame over the prepared markers.
    let pulse_t = (cx.now.timestamp_subsec_millis() as f32 / 1000.0).fract();
    let mut pulsing = false;
    for (p, radius, color, until) in &markers.pulses {
        if now_s < *until {
            painter.circle_stroke(
                *p,
                radius * (1.15 + 0.9 * pulse_t),
                Stroke::new(2.0 * scale.max(0.5), color.gamma_multiply(1.0 - pulse_t)),
            );
            pulsing = true;
        }
    }
    pulsing
}

/// Shapes and tessellates the markers of the clusters in view, with their hit areas.
#[allow(clippy::too_many_arguments)]
fn build_markers(
    markers: &mut MarkerCache,
    painter: &egui::Painter,
    cx: &FrameCtx,
    points: &IncidentPoints,
    (list, unsplittable): (&[Cluster], bool),
    (world, center, clip): (f64, Merc, Rect),
    r: f32,
    scale: f32,
) {
    let now_s = cx.now.timestamp();
    let new_for = NEW_FOR.num_seconds();
    let count_font = theme::wall_font(theme::WALL.caption * 0.8, scale, true);
    let near_clip = clip.expand(r * 4.0);
    let mut shapes: Vec<Shape> = Vec::new();
    markers.hits.clear();
    markers.pulses.clear();
    markers.valid_until = None;
    let mut until = |t: i64| {
        if t > now_s {
            markers.valid_until = Some(markers.valid_until.map_or(t, |u| u.min(t)));
        }
    };
    for c in list {
        let p = to_pos(c.at, world, center, clip);
        if !near_clip.contains(p) {
            continue;
        }
        if c.count == 1 {
            let Some(info) = points.info.get(c.top as usize) else {
                continue;
            };
            if info.is_new(cx.now) {
                markers.pulses.push((
                    p,
                    r * 1.4,
                    priority_color(info.priority),
                    info.received_at.timestamp() + new_for,
                ));
            }
            let overdue = !info.status.is_closed() && cx.now > info.due_at;
            if !info.status.is_closed() {
                // Turns overdue later: the prepared markers are good until then.
                until(info.due_at.timestamp() + 1);
            }
            incident_marker_shapes(
                &mut shapes,
                p,
                r,
                info.glyph,
                info.priority,
                info.status,
                overdue,
            );
            markers.hits.push((p, r * 1.4, Hit::Incident(c.top)));
        } else {
            let rr = r * (1.3 + (c.count as f32).log10() * 0.45);
            let color = priority_color(priority_of(c.max_rank));
            if let Some(t) = c.newest
                && now_s.saturating_sub(t) < new_for
            {
                markers.pulses.push((p, rr, color, t + new_for));
            }
            shapes.push(disc(
                p,
                rr,
                color,
                Stroke::new(2.0 * scale.max(0.5), Color32::WHITE),
            ));
            let galley = painter.layout_no_wrap(
                format::integer(cx.lang, i64::from(c.count)),
                count_font.clone(),
                Color32::BLACK,
            );
            let at = Align2::CENTER_CENTER.anchor_size(p, galley.size()).min;
            shapes.push(Shape::galley(at, galley, Color32::BLACK));
            markers.hits.push((
                p,
                rr,
                Hit::Cluster {
                    at: c.at,
                    count: c.count,
                    unsplittable,
                },
            ));
        }
    }
    let ctx = painter.ctx();
    let mut tessellator = egui::epaint::Tessellator::new(
        ctx.pixels_per_point(),
        ctx.tessellation_options(|o| *o),
        ctx.fonts(|f| f.font_image_size()),
        Vec::new(),
    );
    tessellator.set_clip_rect(clip.expand(r * 4.0));
    let mut mesh = egui::Mesh::default();
    for shape in shapes {
        tessellator.tessellate_shape(shape, &mut mesh);
    }
    markers.mesh = Arc::new(mesh);
    markers.builds += 1;
}

#[allow(clippy::too_many_arguments)]
fn paint_units(
    painter: &egui::Painter,
    placer: &mut LabelPlacer,
    cx: &FrameCtx,
    world: f64,
    center: Merc,
    clip: Rect,
    scale: f32,
    zoom: f64,
) {
    let Some(units) = cx.store.units.data.as_ref() else {
        return;
    };
    let today = cx.now.date_naive();
    let font = theme::wall_font(theme::WALL.caption * 0.8, scale, false);
    let labels = zoom - f64::from(scale.max(1e-3)).log2() >= 8.5;
    for u in units {
        let Some(loc) = u.location else { continue };
        let p = to_pos(geo::project(loc), world, center, clip);
        if !clip.contains(p) {
            continue;
        }
        let color = if u.is_historical(today) {
            theme::colors::TEXT_DIM
        } else {
            theme::colors::TEXT
        };
        painter.rect_filled(
            Rect::from_center_size(p, vec2(5.0, 5.0) * scale.max(0.6)),
            0.0,
            color,
        );
        if labels {
            let text = match u.valid_to {
                Some(to) if to < today => cx.t_args(
                    "map.historical_unit",
                    &[("name", &u.name), ("year", &to.format("%Y"))],
                ),
                _ => u.name.clone(),
            };
            let at = p + vec2(0.0, 6.0 * scale.max(0.6));
            placer.place(
                painter,
                at,
                Align2::CENTER_TOP,
                (at, text, font.clone(), color),
            );
        }
    }
}

/// The cameras within `radius_m` of `at`, nearest first, with their distances.
pub fn nearby_cameras(cx: &FrameCtx, at: GeoPoint, radius_m: f64) -> Vec<(Camera, f64)> {
    let Some(cams) = cx.store.cameras.data.as_ref() else {
        return Vec::new();
    };
    crate::map::cameras_near(cams, at, radius_m)
        .into_iter()
        .map(|(c, d)| (c.clone(), d))
        .collect()
}

fn distance_words(m: f64, cx: &FrameCtx) -> String {
    if m < 1000.0 {
        cx.t_args(
            "map.metres",
            &[("n", &format!("{:.0}", (m / 10.0).round() * 10.0))],
        )
    } else {
        let km = m / 1000.0;
        let decimals = if (km - km.round()).abs() < 0.05 { 0 } else { 1 };
        cx.t_args("map.km", &[("n", &format::number(cx.lang, km, decimals))])
    }
}

/// The list of cameras near the selected incident; returns a camera the operator clicked.
fn paint_nearby(
    ui: &mut egui::Ui,
    rect: Rect,
    scale: f32,
    cx: &FrameCtx,
    inc: &Incident,
    near: &[(Camera, f64)],
    radius_m: f64,
) -> Option<String> {
    let pad = theme::WALL.padding * scale;
    let w = (rect.width() * 0.36).clamp(120.0, 520.0 * scale.max(0.5));
    let area = Rect::from_min_size(
        rect.min + vec2(pad * 0.5, pad * 0.5),
        vec2(w, rect.height()),
    );
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(area)
            .id_salt(("map-near", inc.id.as_str())),
    );
    let body = theme::wall_font(theme::WALL.caption * 0.8, scale, false);
    let bold = theme::wall_font(theme::WALL.caption * 0.85, scale, true);
    let mut clicked = None;
    egui::Frame::new()
        .fill(Color32::from_black_alpha(200))
        .corner_radius(4.0)
        .inner_margin(6.0 * scale.max(0.5))
        .show(&mut child, |ui| {
            ui.set_max_width(w);
            ui.label(
                egui::RichText::new(&inc.title)
                    .font(bold.clone())
                    .color(theme::colors::TEXT),
            );
            let radius = distance_words(radius_m, cx);
            if near.is_empty() {
                ui.label(
                    egui::RichText::new(cx.t_args("map.no_cameras_near", &[("r", &radius)]))
                        .font(body.clone())
                        .color(theme::colors::TEXT_DIM),
                );
                return;
            }
            ui.label(
                egui::RichText::new(
                    cx.t_args("map.cameras_near", &[("n", &near.len()), ("r", &radius)]),
                )
                .font(body.clone())
                .color(theme::colors::TEXT_DIM),
            );
            for (cam, d) in near.iter().take(NEAR_LIST_MAX) {
                let text = format!(
                    "{} · {} · {}",
                    distance_words(*d, cx),
                    cam.name,
                    cx.t(camera_state_key(cam.online))
                );
                let color = if cam.online {
                    theme::colors::TEXT
                } else {
                    theme::colors::TEXT_DIM
                };
                let r = ui.add(
                    egui::Label::new(egui::RichText::new(text).font(body.clone()).color(color))
                        .sense(egui::Sense::click())
                        .truncate(),
                );
                if r.clicked() {
                    clicked = Some(cam.id.clone());
                }
            }
            if near.len() > NEAR_LIST_MAX {
                ui.label(
                    egui::RichText::new(
                        cx.t_args("map.more_cameras", &[("n", &(near.len() - NEAR_LIST_MAX))]),
                    )
                    .font(body.clone())
                    .color(theme::colors::TEXT_DIM),
                );
            }
            send_cameras_buttons(ui, cx, inc, near, &body);
        });
    clicked
}

/// One action puts the cameras near an incident on the wall's camera tiles that take them
/// (`nearby` slots, nearest first); another gives those tiles back their own cameras.
fn send_cameras_buttons(
    ui: &mut egui::Ui,
    cx: &FrameCtx,
    inc: &Incident,
    near: &[(Camera, f64)],
    font: &egui::FontId,
) {
    let sent = &cx.view.sent_cameras;
    ui.horizontal_wrapped(|ui| {
        let n = near.len().min(MAX_SENT);
        let send = egui::Button::new(
            egui::RichText::new(cx.t_args("map.send_cameras", &[("n", &n)])).font(font.clone()),
        );
        if ui.add(send).clicked() {
            cx.send(Command::SendCameras(Some(SentCameras {
                incident: inc.id.clone(),
                cameras: near.iter().map(|(c, _)| c.id.clone()).collect(),
            })));
        }
        if sent.is_some() {
            let back = egui::Button::new(
                egui::RichText::new(cx.t("map.return_cameras")).font(font.clone()),
            );
            if ui.add(back).clicked() {
                cx.send(Command::SendCameras(None));
            }
        }
    });
}

/// The frame of the tile's pop-ups (a camera, incidents on one spot).
fn popup_frame(scale: f32) -> egui::Frame {
    egui::Frame::new()
        .fill(theme::colors::TILE_TITLE_BAR)
        .stroke(Stroke::new(1.0, theme::colors::TILE_BORDER))
        .corner_radius(6.0)
        .inner_margin(8.0 * scale.max(0.5))
}

enum ListOutcome {
    Open,
    Closed,
    Chosen(String),
}

/// The incidents on one spot (zooming in cannot split them), to choose one from.
fn paint_incident_list(
    ui: &mut egui::Ui,
    rect: Rect,
    scale: f32,
    cx: &FrameCtx,
    ids: &[String],
) -> ListOutcome {
    let w = (rect.width() * 0.5).clamp(160.0, 640.0 * scale.max(0.5));
    let pad = theme::WALL.padding * scale * 0.5;
    let area = Rect::from_min_max(
        pos2(rect.right() - pad - w, rect.top() + rect.height() * 0.25),
        pos2(
            rect.right() - pad,
            rect.bottom() - pad - 24.0 * scale.max(0.5),
        ),
    );
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(area)
            .layout(egui::Layout::top_down(egui::Align::Max))
            .id_salt(("map-same-spot", ids.first().map(String::as_str))),
    );
    let body = theme::wall_font(theme::WALL.caption * 0.8, scale, false);
    let bold = theme::wall_font(theme::WALL.caption * 0.9, scale, true);
    let incidents = cx.store.incidents.data.as_ref();
    let mut outcome = ListOutcome::Open;
    popup_frame(scale).show(&mut child, |ui| {
        ui.set_max_width(w);
        ui.vertical(|ui| {
            ui.label(
                egui::RichText::new(cx.t_args("map.same_spot_title", &[("n", &ids.len())]))
                    .font(bold.clone())
                    .color(theme::colors::TEXT),
            );
            egui::ScrollArea::vertical()
                .max_height(area.height() * 0.7)
                .show(ui, |ui| {
                    for id in ids {
                        let Some(i) = incidents.and_then(|m| m.get(id)) else {
                            continue;
                        };
                        let text = format!(
                            "{} · {} · {}",
                            i.title,
                            cx.t(priority_key(i.priority)),
                            cx.t(status_key(i.status))
                        );
                        let r = ui.add(
                            egui::Label::new(
                                egui::RichText::new(text)
                                    .font(body.clone())
                                    .color(theme::colors::TEXT),
                            )
                            .sense(egui::Sense::click())
                            .wrap(),
                        );
                        if r.clicked() {
                            outcome = ListOutcome::Chosen(id.clone());
                        }
                    }
                });
            if ui
                .button(egui::RichText::new(cx.t("map.close")).font(body.clone()))
                .clicked()
            {
                outcome = ListOutcome::Closed;
            }
        });
    });
    outcome
}

/// The camera pop-up; false when the operator closed it.
fn paint_camera_popup(
    ui: &mut egui::Ui,
    rect: Rect,
    scale: f32,
    cx: &FrameCtx,
    cam: &Camera,
    selected: Option<&Incident>,
) -> bool {
    let w = (rect.width() * 0.45).clamp(160.0, 600.0 * scale.max(0.5));
    // Bottom left, clear of the centre where the selected incident is.
    let pad = theme::WALL.padding * scale * 0.5;
    let area = Rect::from_min_max(
        pos2(rect.left() + pad, rect.top() + rect.height() * 0.3),
        pos2(
            rect.left() + pad + w,
            rect.bottom() - pad - 24.0 * scale.max(0.5),
        ),
    );
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(area)
            .layout(egui::Layout::bottom_up(egui::Align::Min))
            .id_salt(("map-camera", cam.id.as_str())),
    );
    let body = theme::wall_font(theme::WALL.caption * 0.8, scale, false);
    let bold = theme::wall_font(theme::WALL.caption * 0.9, scale, true);
    let mut open = true;
    popup_frame(scale).show(&mut child, |ui| {
        ui.set_max_width(w);
        ui.vertical(|ui| {
            let line = |ui: &mut egui::Ui, text: String| {
                ui.label(
                    egui::RichText::new(text)
                        .font(body.clone())
                        .color(theme::colors::TEXT),
                );
            };
            ui.label(
                egui::RichText::new(&cam.name)
                    .font(bold.clone())
                    .color(theme::colors::TEXT),
            );
            line(ui, format!("{}: {}", cx.t("map.camera_owner"), cam.owner));
            line(ui, cx.t(camera_state_key(cam.online)).to_owned());
            if let Some(d) = cam.direction_deg {
                line(
                    ui,
                    cx.t_args("map.camera_direction", &[("deg", &format!("{d:.0}"))]),
                );
            }
            for p in &cam.profiles {
                let kind = match p.kind {
                    crate::model::StreamKind::Main => cx.t("map.stream_main"),
                    crate::model::StreamKind::Sub => cx.t("map.stream_sub"),
                };
                line(
                    ui,
                    format!(
                        "{kind}: {}×{} · {} · {} fps",
                        p.width,
                        p.height,
                        p.codec.to_uppercase(),
                        format::number(cx.lang, f64::from(p.fps), 0)
                    ),
                );
            }
            if let Some(inc) = selected {
                let d = geo::distance_m(inc.location, cam.location);
                line(
                    ui,
                    cx.t_args("map.camera_distance", &[("d", &distance_words(d, cx))]),
                );
            }
            if ui
                .button(egui::RichText::new(cx.t("map.close")).font(body.clone()))
                .clicked()
            {
                open = false;
            }
        });
    });
    open
}

/// The layer toggles and the legend, top right.
fn paint_controls(ui: &mut egui::Ui, rect: Rect, scale: f32, cx: &FrameCtx, st: &mut MapTileState) {
    let pad = theme::WALL.padding * scale * 0.5;
    let body = theme::wall_font(theme::WALL.caption * 0.8, scale, false);
    let w = (rect.width() * 0.32).clamp(110.0, 460.0 * scale.max(0.5));
    let area = Rect::from_min_max(
        pos2(rect.right() - w - pad, rect.top() + pad),
        rect.right_bottom(),
    );
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(area)
            .layout(egui::Layout::top_down(egui::Align::Max))
            .id_salt(("map-controls", rect.min.x as i32, rect.min.y as i32)),
    );
    child.horizontal(|ui| {
        for (on, key) in [
            (&mut st.show_legend, "map.legend"),
            (&mut st.show_layers_menu, "map.layers"),
        ] {
            let label = egui::RichText::new(cx.t(key)).font(body.clone());
            if ui.selectable_label(*on, label).clicked() {
                *on = !*on;
            }
        }
    });
    if st.show_layers_menu {
        egui::Frame::new()
            .fill(Color32::from_black_alpha(210))
            .corner_radius(4.0)
            .inner_margin(6.0)
            .show(&mut child, |ui| {
                for layer in MapLayer::ALL {
                    let mut on = st.shown.contains(&layer);
                    if ui
                        .checkbox(
                            &mut on,
                            egui::RichText::new(cx.t(layer.key())).font(body.clone()),
                        )
                        .changed()
                    {
                        if on {
                            st.shown.push(layer);
                        } else {
                            st.shown.retain(|l| *l != layer);
                        }
                    }
                }
            });
    }
    if st.show_legend {
        egui::Frame::new()
            .fill(Color32::from_black_alpha(210))
            .corner_radius(4.0)
            .inner_margin(6.0)
            .show(&mut child, |ui| {
                ui.vertical(|ui| paint_legend(ui, scale, cx))
            });
    }
}

fn legend_row(
    ui: &mut egui::Ui,
    scale: f32,
    text: String,
    draw: impl FnOnce(&egui::Painter, Pos2, f32),
) {
    let body = theme::wall_font(theme::WALL.caption * 0.75, scale, false);
    ui.horizontal(|ui| {
        let s = body.size * 1.3;
        let (r, _) = ui.allocate_exact_size(vec2(s * 1.8, s), egui::Sense::hover());
        draw(ui.painter(), r.center(), s * 0.4);
        ui.label(
            egui::RichText::new(text)
                .font(body)
                .color(theme::colors::TEXT),
        );
    });
}

fn paint_legend(ui: &mut egui::Ui, scale: f32, cx: &FrameCtx) {
    let head = theme::wall_font(theme::WALL.caption * 0.8, scale, true);
    let title = |ui: &mut egui::Ui, key: &'static str| {
        ui.label(
            egui::RichText::new(cx.t(key))
                .font(head.clone())
                .color(theme::colors::TEXT),
        );
    };
    title(ui, "map.legend_priority");
    for p in [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ] {
        legend_row(ui, scale, cx.t(priority_key(p)).to_owned(), |pt, c, r| {
            paint_incident_marker(pt, c, r, Glyph::Circle, p, IncidentStatus::Received, false)
        });
    }
    title(ui, "map.legend_status");
    let rows = [
        ("map.status_open", IncidentStatus::Received, false),
        ("map.status_in_progress", IncidentStatus::InProgress, false),
        ("map.status_closed", IncidentStatus::Resolved, false),
        ("map.status_overdue", IncidentStatus::Received, true),
    ];
    for (key, s, overdue) in rows {
        legend_row(ui, scale, cx.t(key).to_owned(), |pt, c, r| {
            paint_incident_marker(pt, c, r, Glyph::Circle, Priority::Normal, s, overdue)
        });
    }
    if let Some(cats) = cx.store.categories.data.as_ref() {
        title(ui, "map.legend_category");
        for (i, c) in cats.iter().enumerate() {
            let name = match cx.lang {
                crate::i18n::Lang::Vi => c.name_vi.clone(),
                crate::i18n::Lang::En => c.name_en.clone(),
            };
            let g = GLYPHS[i % GLYPHS.len()];
            legend_row(ui, scale, name, |pt, c, r| {
                pt.add(Shape::convex_polygon(
                    glyph_points(g, c, r),
                    theme::colors::TEXT_DIM,
                    Stroke::NONE,
                ));
            });
        }
    }
    title(ui, "map.legend_cameras");
    legend_row(ui, scale, cx.t("map.camera_live").to_owned(), |pt, c, r| {
        paint_camera_marker(pt, c, r * 0.8, None, true)
    });
    legend_row(ui, scale, cx.t("map.camera_dark").to_owned(), |pt, c, r| {
        paint_camera_marker(pt, c, r * 0.8, None, false)
    });
    legend_row(
        ui,
        scale,
        cx.t("map.legend_cluster").to_owned(),
        |pt, c, r| {
            pt.circle(
                c,
                r * 1.2,
                theme::colors::STALE,
                Stroke::new(1.0, Color32::WHITE),
            );
        },
    );
}
