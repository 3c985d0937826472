//! Web Mercator (EPSG:3857) as the XYZ tile grid uses it, great-circle distances and the
//! nearest-camera search.
//!
//! Positions are projected once into *normalised* Mercator coordinates (0..1 across the world,
//! y growing southwards); a zoom level only multiplies them by the world's size in pixels, so
//! panning and zooming never re-project the data.

use crate::model::GeoPoint;

/// Pixels of one tile at its own zoom level: the world is `TILE_PX * 2^zoom` pixels wide.
pub const TILE_PX: f64 = 256.0;

/// Web Mercator stops here (the square world of the tile grid).
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A position in normalised Web Mercator: x and y in 0..1, (0, 0) the north-west corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Merc {
    pub x: f64,
    pub y: f64,
}

/// Projects a WGS 84 position (latitudes beyond ±85.05° are clamped to the grid's edge).
pub fn project(p: GeoPoint) -> Merc {
    let lat = p.lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (p.lon + 180.0) / 360.0;
    let y = (1.0 - lat.tan().asinh() / std::f64::consts::PI) / 2.0;
    Merc { x, y }
}

/// The inverse of [`project`].
pub fn unproject(m: Merc) -> GeoPoint {
    let lon = m.x * 360.0 - 180.0;
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * m.y))
        .sinh()
        .atan()
        .to_degrees();
    GeoPoint { lat, lon }
}

/// Size of the world in pixels at `zoom` (fractional zooms allowed).
pub fn world_px(zoom: f64) -> f64 {
    TILE_PX * zoom.exp2()
}

/// The XYZ tile that holds `p` at integer zoom `z` (at most 30, the deepest tile grid).
pub fn tile_of(p: GeoPoint, z: u8) -> (u32, u32) {
    let m = project(p);
    let n = (1u64 << z.min(30)) as f64;
    let clamp = |v: f64| (v * n).floor().clamp(0.0, n - 1.0) as u32;
    (clamp(m.x), clamp(m.y))
}

/// Great-circle distance in metres (haversine on the mean Earth radius).
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Indices of the `points` within `radius_m` of `from`, nearest first, with their distances.
/// Ties keep the input order, so the answer does not flicker between frames.
pub fn nearest_within(
    from: GeoPoint,
    points: impl IntoIterator<Item = GeoPoint>,
    radius_m: f64,
) -> Vec<(usize, f64)> {
    let mut near: Vec<(usize, f64)> = points
        .into_iter()
        .enumerate()
        .filter(|(_, p)| p.is_valid())
        .map(|(i, p)| (i, distance_m(from, p)))
        .filter(|(_, d)| *d <= radius_m)
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    near
}

/// A lat/lon bounding box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min: GeoPoint,
    pub max: GeoPoint,
}

impl Bounds {
    pub fn of(points: impl IntoIterator<Item = GeoPoint>) -> Option<Bounds> {
        let mut it = points.into_iter().filter(GeoPoint::is_valid);
        let first = it.next()?;
        let mut b = Bounds {
            min: first,
            max: first,
        };
        for p in it {
            b.min.lat = b.min.lat.min(p.lat);
            b.min.lon = b.min.lon.min(p.lon);
            b.max.lat = b.max.lat.max(p.lat);
            b.max.lon = b.max.lon.max(p.lon);
        }
        Some(b)
    }

    pub fn center(&self) -> GeoPoint {
        let (a, b) = (project(self.min), project(self.max));
        unproject(Merc {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        })
    }

    /// The largest zoom (at most `max_zoom`) at which the box fits in `size` pixels.
    pub fn fit_zoom(&self, size: (f32, f32), max_zoom: f64) -> f64 {
        let (a, b) = (project(self.min), project(self.max));
        let (w, h) = ((b.x - a.x).abs().max(1e-9), (a.y - b.y).abs().max(1e-9));
        let zx = (size.0 as f64 / (w * TILE_PX)).log2();
        let zy = (size.1 as f64 / (h * TILE_PX)).log2();
        zx.min(zy).clamp(0.0, max_zoom)
    }
}
