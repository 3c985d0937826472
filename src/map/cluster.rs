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
}

/// Clusters `points` (position and rank, in input order) in cells of `cell_px` pixels at zoom
/// level `z`. The counts always add up to `points.len()`; invalid (non-finite) positions are
/// skipped and not counted.
pub fn cluster(points: &[(Merc, u8)], z: u8, cell_px: f64) -> Vec<Cluster> {
    let cells_across = (world_px(f64::from(z)) / cell_px).max(1.0);
    let mut index: HashMap<(u32, u32), usize> = HashMap::with_capacity(points.len().min(4096));
    let mut out: Vec<Cluster> = Vec::new();
    let mut sums: Vec<(f64, f64)> = Vec::new();
    for (i, (m, rank)) in points.iter().enumerate() {
        if !(m.x.is_finite() && m.y.is_finite()) {
            continue;
        }
        let cell = |v: f64| (v.clamp(0.0, 1.0) * cells_across).min(cells_across - 1.0) as u32;
        let key = (cell(m.x), cell(m.y));
        let slot = *index.entry(key).or_insert_with(|| {
            out.push(Cluster {
                at: *m,
                count: 0,
                top: i as u32,
                max_rank: *rank,
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
}

impl ClusterCache {
    /// The clusters of `points` at level `z`, rebuilt only when `generation` or `z` changed.
    pub fn get(
        &mut self,
        generation: u64,
        z: u8,
        cell_px: f64,
        points: impl FnOnce() -> Vec<(Merc, u8)>,
    ) -> &[Cluster] {
        if self.key != Some((generation, z)) {
            self.clusters = cluster(&points(), z, cell_px);
            self.key = Some((generation, z));
        }
        &self.clusters
    }
}
