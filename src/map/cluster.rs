//! Grid clustering of map markers. Cells are fixed on the world's pixel grid of an integer zoom
//! level, so a cluster set depends only on the data and that level: panning and fractional
//! zooming reuse it, and it is rebuilt only when the data or the level changes.

use std::collections::HashMap;

use super::geo::{Merc, world_px};

/// A group of markers that share a grid cell at one zoom level.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Mean position of the members.
    pub at: Merc,
    /// How many markers it holds (at least one).
    pub count: u32,
    /// The member with the highest rank (the first such one in input order): what a lone
    /// marker is, and what colours a cluster.
    pub top: u32,
    /// Highest rank among the members (e.g. the incident priority).
    pub max_rank: u8,
    /// The newest member's stamp, when stamps were given (e.g. when it arrived, in seconds).
    pub newest: Option<i64>,
}

/// Clusters `points` (position and rank, in input order) in cells of `cell_px` pixels at zoom
/// level `z`. The counts always add up to `points.len()`; invalid (non-finite) positions are
/// skipped and not counted.
pub fn cluster(points: &[(Merc, u8)], z: u8, cell_px: f64) -> Vec<Cluster> {
    cluster_stamped(points, None, z, cell_px)
}

/// [`cluster`], also keeping each cluster's newest `stamps` entry (a slice parallel to
/// `points`).
pub fn cluster_stamped(
    points: &[(Merc, u8)],
    stamps: Option<&[i64]>,
    z: u8,
    cell_px: f64,
) -> Vec<Cluster> {
    let cells_across = (world_px(f64::from(z.min(40))) / cell_px).max(1.0);
    let mut index: HashMap<(u64, u64), usize> = HashMap::with_capacity(points.len().min(4096));
    let mut out: Vec<Cluster> = Vec::new();
    let mut sums: Vec<(f64, f64)> = Vec::new();
    for (i, (m, rank)) in points.iter().enumerate() {
        if !(m.x.is_finite() && m.y.is_finite()) {
            continue;
        }
        let cell = |v: f64| (v.clamp(0.0, 1.0) * cells_across).min(cells_across - 1.0) as u64;
        let key = (cell(m.x), cell(m.y));
        let slot = *index.entry(key).or_insert_with(|| {
            out.push(Cluster {
                at: *m,
                count: 0,
                top: i as u32,
                max_rank: *rank,
                newest: None,
            });
            sums.push((0.0, 0.0));
            out.len() - 1
        });
        let c = &mut out[slot];
        c.count += 1;
        if *rank > c.max_rank {
            c.max_rank = *rank;
            c.top = i as u32;
        }
        if let Some(t) = stamps.and_then(|s| s.get(i)) {
            c.newest = Some(c.newest.map_or(*t, |n| n.max(*t)));
        }
        sums[slot].0 += m.x;
        sums[slot].1 += m.y;
    }
    for (c, (sx, sy)) in out.iter_mut().zip(sums) {
        c.at = Merc {
            x: sx / f64::from(c.count),
            y: sy / f64::from(c.count),
        };
    }
    out
}

/// The cluster set of one data generation at one zoom level, kept between frames.
#[derive(Default)]
pub struct ClusterCache {
    key: Option<(u64, u8)>,
    clusters: Vec<Cluster>,
    builds: u64,
}

impl ClusterCache {
    /// The clusters of `points` (and their `stamps`) at level `z`, rebuilt only when
    /// `generation` or `z` changed.
    pub fn get(
        &mut self,
        generation: u64,
        z: u8,
        cell_px: f64,
        points: &[(Merc, u8)],
        stamps: Option<&[i64]>,
    ) -> &[Cluster] {
        if self.key != Some((generation, z)) {
            self.clusters = cluster_stamped(points, stamps, z, cell_px);
            self.key = Some((generation, z));
            self.builds += 1;
        }
        &self.clusters
    }

    /// How many times the clusters were built.
    pub fn builds(&self) -> u64 {
        self.builds
    }
}
