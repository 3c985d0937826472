//! Planning each camera's profile: the smallest stream that covers its largest tile, then the
//! wall-wide decode budget (decoded pixels per second) lowers the least important cameras first,
//! one profile at a time, and says so.

use std::collections::HashMap;

use crate::model::{StreamKind, StreamProfile};

/// How a tile asks for a camera.
#[derive(Clone, Debug, PartialEq)]
pub struct Want {
    /// The tile's picture area in physical pixels.
    pub pixels: [f32; 2],
    /// Higher is kept at its profile longer when the budget is short.
    pub importance: i32,
    /// A profile the layout fixed, instead of the one that covers the tile.
    pub pinned: Option<StreamKind>,
}

/// Why a camera shows a smaller profile than its tiles asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Lowered {
    pub wanted: StreamKind,
    /// What all cameras wanted, in megapixels per second.
    pub demand_mpx_s: f64,
    pub budget_mpx_s: f64,
}

/// One camera's demand as the planner sees it.
#[derive(Clone, Debug)]
pub struct Demand {
    pub camera: String,
    /// The camera's profiles, any order.
    pub profiles: Vec<StreamProfile>,
    pub want: Want,
}

/// The planner's choice for one camera.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub profile: StreamProfile,
    pub lowered: Option<Lowered>,
}

pub(super) fn cost(p: &StreamProfile) -> f64 {
    let fps = if p.fps > 0.0 { f64::from(p.fps) } else { 25.0 };
    f64::from(p.width) * f64::from(p.height) * fps
}

pub(super) fn by_size(profiles: &[StreamProfile]) -> Vec<StreamProfile> {
    let mut v = profiles.to_vec();
    v.sort_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.url.clone()));
    v
}

/// The smallest profile that covers `pixels` (shown letterboxed at most 10 % enlarged), else
/// the largest. `profiles` sorted by size, not empty.
pub(super) fn covering(profiles: &[StreamProfile], pixels: [f32; 2]) -> usize {
    profiles
        .iter()
        .position(|p| {
            let fit = (pixels[0] / p.width.max(1) as f32).min(pixels[1] / p.height.max(1) as f32);
            fit <= 1.1
        })
        .unwrap_or(profiles.len() - 1)
}

/// Chooses each camera's profile: the one that covers its tile (or the pinned one), then,
/// while the total decode exceeds `budget_mpx_s`, the least important camera (the smaller tile
/// first among equals) is lowered one profile.
pub fn plan(demands: &[Demand], budget_mpx_s: f64) -> HashMap<String, Choice> {
    let mut rows: Vec<(Vec<StreamProfile>, usize, usize, &Demand)> = demands
        .iter()
        .filter(|d| !d.profiles.is_empty())
        .map(|d| {
            let sorted = by_size(&d.profiles);
            let i = match d.want.pinned {
                Some(kind) => sorted
                    .iter()
                    .position(|p| p.kind == kind)
                    .unwrap_or_else(|| covering(&sorted, d.want.pixels)),
                None => covering(&sorted, d.want.pixels),
            };
            (sorted, i, i, d)
        })
        .collect();
    let total = |rows: &[(Vec<StreamProfile>, usize, usize, &Demand)]| -> f64 {
        rows.iter().map(|(p, i, _, _)| cost(&p[*i])).sum::<f64>() / 1e6
    };
    let demand = total(&rows);
    while total(&rows) > budget_mpx_s {
        let victim = rows
            .iter_mut()
            .filter(|(_, i, _, _)| *i > 0)
            .min_by(|a, b| {
                let area = |d: &Demand| d.want.pixels[0] * d.want.pixels[1];
                (a.3.want.importance, area(a.3), &a.3.camera)
                    .partial_cmp(&(b.3.want.importance, area(b.3), &b.3.camera))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        match victim {
            Some(row) => row.1 -= 1,
            None => break,
        }
    }
    rows.into_iter()
        .map(|(profiles, i, wanted, d)| {
            let lowered = (i < wanted).then(|| Lowered {
                wanted: profiles[wanted].kind,
                demand_mpx_s: demand,
                budget_mpx_s,
            });
            (
                d.camera.clone(),
                Choice {
                    profile: profiles[i].clone(),
                    lowered,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(kind: StreamKind, w: u32, h: u32, fps: f32, url: &str) -> StreamProfile {
        StreamProfile {
            kind,
            url: url.into(),
            codec: "h264".into(),
            width: w,
            height: h,
            fps,
        }
    }

    fn cam(id: &str) -> Vec<StreamProfile> {
        vec![
            profile(StreamKind::Main, 1920, 1080, 25.0, &format!("{id}/main")),
            profile(StreamKind::Sub, 640, 360, 15.0, &format!("{id}/sub")),
        ]
    }

    fn demand(id: &str, pixels: [f32; 2], importance: i32) -> Demand {
        Demand {
            camera: id.into(),
            profiles: cam(id),
            want: Want {
                pixels,
                importance,
                pinned: None,
            },
        }
    }

    #[test]
    fn the_smallest_profile_that_covers_the_tile() {
        let p = plan(
            &[
                demand("small", [480.0, 270.0], 5),
                demand("exact", [640.0, 360.0], 5),
                demand("bit-larger", [700.0, 390.0], 5),
                demand("large", [960.0, 540.0], 5),
                demand("huge", [3840.0, 2160.0], 5),
            ],
            f64::INFINITY,
        );
        let kind = |id: &str| p[id].profile.kind;
        assert_eq!(kind("small"), StreamKind::Sub);
        assert_eq!(kind("exact"), StreamKind::Sub);
        // 700 / 640 = 1.09: enlarged less than 10 %, still the sub stream.
        assert_eq!(kind("bit-larger"), StreamKind::Sub);
        assert_eq!(kind("large"), StreamKind::Main);
        assert_eq!(kind("huge"), StreamKind::Main);
        assert!(p.values().all(|c| c.lowered.is_none()));
    }

    #[test]
    fn a_pinned_profile_wins_over_the_tile_size() {
        let mut d = demand("a", [200.0, 100.0], 5);
        d.want.pinned = Some(StreamKind::Main);
        assert_eq!(plan(&[d], 1e9)["a"].profile.kind, StreamKind::Main);
    }

    #[test]
    fn the_budget_lowers_the_least_important_first_and_says_so() {
        // Main 1920×1080×25 = 51.8 Mpx/s, sub 640×360×15 = 3.5 Mpx/s.
        let demands = [
            demand("low", [1920.0, 1080.0], 1),
            demand("mid", [1920.0, 1080.0], 5),
            demand("high", [1920.0, 1080.0], 9),
        ];
        let all = plan(&demands, 200.0);
        assert!(all.values().all(|c| c.profile.kind == StreamKind::Main));
        let p = plan(&demands, 110.0);
        assert_eq!(p["low"].profile.kind, StreamKind::Sub);
        assert_eq!(p["mid"].profile.kind, StreamKind::Main);
        assert_eq!(p["high"].profile.kind, StreamKind::Main);
        let l = p["low"].lowered.as_ref().expect("says it was lowered");
        assert_eq!(l.wanted, StreamKind::Main);
        assert!((l.demand_mpx_s - 3.0 * 51.84).abs() < 0.01, "{l:?}");
        assert_eq!(l.budget_mpx_s, 110.0);
        assert!(p["mid"].lowered.is_none());
        let p = plan(&demands, 60.0);
        assert_eq!(p["mid"].profile.kind, StreamKind::Sub);
        assert_eq!(p["high"].profile.kind, StreamKind::Main);
        // Nothing left to lower: everything at its smallest, over budget.
        let p = plan(&demands, 1.0);
        assert!(p.values().all(|c| c.profile.kind == StreamKind::Sub));
    }

    #[test]
    fn among_equals_the_smaller_tile_is_lowered_first() {
        let demands = [
            demand("big", [1920.0, 1080.0], 5),
            demand("smaller", [1000.0, 560.0], 5),
        ];
        let p = plan(&demands, 60.0);
        assert_eq!(p["smaller"].profile.kind, StreamKind::Sub);
        assert_eq!(p["big"].profile.kind, StreamKind::Main);
    }

    #[test]
    fn a_camera_with_one_profile_is_never_lowered() {
        let d = Demand {
            camera: "mjpeg".into(),
            profiles: vec![profile(StreamKind::Main, 640, 480, 10.0, "m")],
            want: Want {
                pixels: [1920.0, 1080.0],
                importance: 0,
                pinned: Some(StreamKind::Sub),
            },
        };
        let p = plan(&[d], 0.001);
        assert_eq!(p["mjpeg"].profile.url, "m");
        assert!(p["mjpeg"].lowered.is_none());
    }
}
