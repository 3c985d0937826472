//! GeoJSON (RFC 7946) data layers drawn as vectors: unit boundaries, rivers, roads, coastlines
//! and labelled points. A layer that cannot be read is kept as a failed layer with its name and
//! the reason, so the map says which layer is missing while the others still draw.

use serde::Deserialize;

use super::geo::{Merc, project};
use crate::model::GeoPoint;

/// Files larger than this are refused rather than parsed (a configured path could point at a
/// whole planet extract by mistake).
pub const MAX_LAYER_BYTES: u64 = 64 * 1024 * 1024;

/// How a layer is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LayerStyle {
    /// Administrative boundaries: outlines, names at their centres.
    Boundary,
    /// Coastlines and land outlines.
    Coast,
    /// Rivers and canals.
    River,
    /// Roads.
    Road,
    /// Labelled points (places, seats of units).
    Points,
}

/// One line of a layer, with its bounding box for culling.
#[derive(Clone, Debug)]
pub struct Line {
    pub points: Vec<Merc>,
    pub min: Merc,
    pub max: Merc,
}

impl Line {
    fn new(points: Vec<Merc>) -> Option<Line> {
        if points.len() < 2 {
            return None;
        }
        let mut min = points[0];
        let mut max = points[0];
        for p in &points {
            min.x = min.x.min(p.x);
            min.y = min.y.min(p.y);
            max.x = max.x.max(p.x);
            max.y = max.y.max(p.y);
        }
        Some(Line { points, min, max })
    }
}

/// A GeoJSON layer ready to draw.
#[derive(Clone, Debug)]
pub struct VectorLayer {
    pub name: String,
    pub style: LayerStyle,
    pub lines: Vec<Line>,
    /// Labels: at points, and at the centre of each polygon's largest ring.
    pub labels: Vec<(Merc, String)>,
    /// Point features (drawn as dots).
    pub points: Vec<Merc>,
    pub attribution: Option<String>,
}

/// Why a layer could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the file is {bytes} bytes, more than the {max} a layer may have")]
    TooLarge { bytes: u64, max: u64 },
    #[error("not valid GeoJSON: {0}")]
    Invalid(String),
    #[error(
        "coordinate out of range (longitude {lon}, latitude {lat}): GeoJSON is [longitude, latitude] in WGS 84"
    )]
    OutOfRange { lon: f64, lat: f64 },
    #[error("the layer holds no geometry")]
    Empty,
}

impl LayerError {
    /// The catalogue key (`map.reason.layer_*`) of the reason and its untranslated detail.
    pub fn catalogue(&self) -> (&'static str, String) {
        match self {
            LayerError::Read { path, reason } => {
                ("map.reason.layer_read", format!("{path}: {reason}"))
            }
            LayerError::TooLarge { bytes, max } => {
                ("map.reason.layer_too_large", format!("{bytes} B > {max} B"))
            }
            LayerError::Invalid(e) => ("map.reason.layer_invalid", e.clone()),
            LayerError::OutOfRange { lon, lat } => {
                ("map.reason.layer_out_of_range", format!("{lon}, {lat}"))
            }
            LayerError::Empty => ("map.reason.layer_empty", String::new()),
        }
    }
}

/// A configured or shipped layer: loaded, or failed with the reason.
#[derive(Clone, Debug)]
pub enum LayerState {
    /// Being read for the first time.
    Loading {
        name: String,
    },
    Ready(VectorLayer),
    Failed {
        name: String,
        error: LayerError,
    },
}

impl LayerState {
    pub fn name(&self) -> &str {
        match self {
            LayerState::Ready(l) => &l.name,
            LayerState::Loading { name } => name,
            LayerState::Failed { name, .. } => name,
        }
    }
}

/// Reads a layer file; any failure is kept in the returned state, named by `name`.
pub fn load_file(
    name: &str,
    path: &std::path::Path,
    style: LayerStyle,
    label_property: &str,
    attribution: Option<String>,
) -> LayerState {
    let failed = |error: LayerError| {
        // The caller logs (once per change of the error, not at every retry).
        LayerState::Failed {
            name: name.to_owned(),
            error,
        }
    };
    let read = |reason: std::io::Error| LayerError::Read {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    match std::fs::metadata(path) {
        Err(e) => return failed(read(e)),
        Ok(m) if m.len() > MAX_LAYER_BYTES => {
            return failed(LayerError::TooLarge {
                bytes: m.len(),
                max: MAX_LAYER_BYTES,
            });
        }
        Ok(_) => {}
    }
    match std::fs::read_to_string(path) {
        Err(e) => failed(read(e)),
        Ok(text) => match parse(name, &text, style, label_property, attribution) {
            Ok(layer) => LayerState::Ready(layer),
            Err(e) => failed(e),
        },
    }
}

/// Parses GeoJSON text (a FeatureCollection, a Feature or a bare geometry).
pub fn parse(
    name: &str,
    text: &str,
    style: LayerStyle,
    label_property: &str,
    attribution: Option<String>,
) -> Result<VectorLayer, LayerError> {
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| LayerError::Invalid(e.to_string()))?;
    let mut layer = VectorLayer {
        name: name.to_owned(),
        style,
        lines: Vec::new(),
        labels: Vec::new(),
        points: Vec::new(),
        attribution,
    };
    let features: Vec<(Option<geojson::Geometry>, Option<String>)> = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc
            .features
            .into_iter()
            .map(|f| {
                let label = f
                    .property(label_property)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                (f.geometry, label)
            })
            .collect(),
        geojson::GeoJson::Feature(f) => {
            let label = f
                .property(label_property)
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            vec![(f.geometry, label)]
        }
        geojson::GeoJson::Geometry(g) => vec![(Some(g), None)],
    };
    for (geometry, label) in features {
        if let Some(g) = geometry {
            add_geometry(&mut layer, &g.value, label.as_deref())?;
        }
    }
    if layer.lines.is_empty() && layer.points.is_empty() {
        return Err(LayerError::Empty);
    }
    Ok(layer)
}

fn position(p: &geojson::Position) -> Result<Merc, LayerError> {
    let (lon, lat) = match p.as_slice() {
        [lon, lat, ..] => (*lon, *lat),
        _ => {
            return Err(LayerError::Invalid(
                "a position has fewer than two numbers".into(),
            ));
        }
    };
    let g = GeoPoint { lat, lon };
    if !g.is_valid() || !lat.is_finite() || !lon.is_finite() {
        return Err(LayerError::OutOfRange { lon, lat });
    }
    Ok(project(g))
}

fn line(coords: &[geojson::Position]) -> Result<Option<Line>, LayerError> {
    let points = coords.iter().map(position).collect::<Result<Vec<_>, _>>()?;
    Ok(Line::new(points))
}

/// Area-weighted centre of a closed ring (shoelace), and its absolute area; the mean of the
/// vertices for a degenerate ring.
fn ring_centre(ring: &[Merc]) -> (Merc, f64) {
    let mut a2 = 0.0;
    let (mut cx, mut cy) = (0.0, 0.0);
    for w in ring.windows(2) {
        let cross = w[0].x * w[1].y - w[1].x * w[0].y;
        a2 += cross;
        cx += (w[0].x + w[1].x) * cross;
        cy += (w[0].y + w[1].y) * cross;
    }
    if a2.abs() < 1e-18 {
        let n = ring.len().max(1) as f64;
        let sx: f64 = ring.iter().map(|p| p.x).sum();
        let sy: f64 = ring.iter().map(|p| p.y).sum();
        return (
            Merc {
                x: sx / n,
                y: sy / n,
            },
            0.0,
        );
    }
    (
        Merc {
            x: cx / (3.0 * a2),
            y: cy / (3.0 * a2),
        },
        a2.abs() / 2.0,
    )
}

fn add_polygon(
    layer: &mut VectorLayer,
    rings: &[Vec<geojson::Position>],
    best: &mut Option<(Merc, f64)>,
) -> Result<(), LayerError> {
    for (i, ring) in rings.iter().enumerate() {
        if let Some(l) = line(ring)? {
            if i == 0 {
                let (c, area) = ring_centre(&l.points);
                if best.is_none_or(|(_, a)| area > a) {
                    *best = Some((c, area));
                }
            }
            layer.lines.push(l);
        }
    }
    Ok(())
}

/// Splits the lines of a layer cut out of a larger data set where they run straight along the
/// edge of the layer's extent: there the extract was clipped, those are not borders, and
/// stroking them would frame the data.
pub fn without_cut_edges(mut layer: VectorLayer) -> VectorLayer {
    layer.lines = drop_cut_edges(std::mem::take(&mut layer.lines));
    layer
}

fn drop_cut_edges(rings: Vec<Line>) -> Vec<Line> {
    let Some(first) = rings.first() else {
        return rings;
    };
    let (mut min, mut max) = (first.min, first.max);
    for r in &rings {
        min.x = min.x.min(r.min.x);
        min.y = min.y.min(r.min.y);
        max.x = max.x.max(r.max.x);
        max.y = max.y.max(r.max.y);
    }
    let on_cut = |a: &Merc, b: &Merc| {
        (a.x == b.x && (a.x == min.x || a.x == max.x))
            || (a.y == b.y && (a.y == min.y || a.y == max.y))
    };
    let mut out = Vec::with_capacity(rings.len());
    for r in rings {
        let mut run: Vec<Merc> = Vec::new();
        for (i, p) in r.points.iter().enumerate() {
            if i > 0 && on_cut(&r.points[i - 1], p) {
                out.extend(Line::new(std::mem::take(&mut run)));
            }
            run.push(*p);
        }
        out.extend(Line::new(run));
    }
    out
}

fn add_geometry(
    layer: &mut VectorLayer,
    value: &geojson::GeometryValue,
    label: Option<&str>,
) -> Result<(), LayerError> {
    use geojson::GeometryValue as G;
    let mut best: Option<(Merc, f64)> = None;
    match value {
        G::Point { coordinates } => {
            let m = position(coordinates)?;
            layer.points.push(m);
            if let Some(l) = label {
                layer.labels.push((m, l.to_owned()));
            }
        }
        G::MultiPoint { coordinates } => {
            for c in coordinates {
                layer.points.push(position(c)?);
            }
        }
        G::LineString { coordinates } => {
            if let Some(l) = line(coordinates)? {
                if let Some(text) = label {
                    layer
                        .labels
                        .push((l.points[l.points.len() / 2], text.to_owned()));
                }
                layer.lines.push(l);
            }
        }
        G::MultiLineString { coordinates } => {
            let mut longest: Option<Merc> = None;
            let mut longest_n = 0;
            for c in coordinates {
                if let Some(l) = line(c)? {
                    if l.points.len() > longest_n {
                        longest_n = l.points.len();
                        longest = Some(l.points[l.points.len() / 2]);
                    }
                    layer.lines.push(l);
                }
            }
            if let (Some(m), Some(text)) = (longest, label) {
                layer.labels.push((m, text.to_owned()));
            }
        }
        G::Polygon { coordinates } => add_polygon(layer, coordinates, &mut best)?,
        G::MultiPolygon { coordinates } => {
            for p in coordinates {
                add_polygon(layer, p, &mut best)?;
            }
        }
        G::GeometryCollection { geometries } => {
            for g in geometries {
                add_geometry(layer, &g.value, label)?;
            }
        }
    }
    if let (Some((c, _)), Some(text)) = (best, label) {
        layer.labels.push((c, text.to_owned()));
    }
    Ok(())
}
