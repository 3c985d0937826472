//! The incident markers of a view: clustered, shaped and tessellated once into one mesh, reused
//! until the view, the data or an overdue time changes; new incidents pulse over them.

use std::sync::Arc;

use egui::{Align2, Color32, Pos2, Rect, Shape, Stroke};

use super::glyphs::{disc, incident_marker_shapes};
use super::layers::to_pos;
use super::points::{IncidentPoints, apply_changes, categories_stamp, prepare_points, priority_of};
use crate::context::FrameCtx;
use crate::format;
use crate::map::cluster::{Cluster, ClusterCache};
use crate::map::geo::Merc;
use crate::tiles::incidents::{NEW_FOR, priority_color};
use crate::ui::theme;

/// Zoom levels at which incidents are no longer clustered.
pub(super) const NO_CLUSTER_FROM: u8 = 17;
/// Cluster cell size in monitor pixels.
pub(super) const CELL_PX: f64 = 56.0;
/// The incident markers of a view, tessellated once: a wall map that does not move redraws
/// them as one prepared mesh instead of shaping and tessellating every marker every frame.
#[derive(Default)]
pub(super) struct MarkerCache {
    pub(super) key: Option<MarkerKey>,
    pub(super) mesh: Arc<egui::Mesh>,
    pub(super) hits: Vec<(Pos2, f32, Hit)>,
    /// Rings of new incidents: centre, radius, colour, and until when (seconds).
    pub(super) pulses: Vec<(Pos2, f32, Color32, i64)>,
    /// The earliest instant (seconds) at which a drawn marker turns overdue.
    pub(super) valid_until: Option<i64>,
    pub(super) builds: u64,
}

/// Everything the prepared markers depend on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct MarkerKey {
    pub(super) version: (u64, super::points::PlacementKey),
    pub(super) level: u8,
    pub(super) zoom: f64,
    pub(super) center: (f64, f64),
    pub(super) clip: [f32; 4],
    pub(super) scale: f32,
    pub(super) pixels_per_point: f32,
    pub(super) font_texture: [usize; 2],
    pub(super) lang: crate::i18n::Lang,
}

/// A marker drawn this frame, for clicks and hovers.
#[derive(Clone)]
pub(super) enum Hit {
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

/// Draws the incidents, clustered; returns whether a new one is pulsing (the caller keeps the
/// animation going).
#[allow(clippy::too_many_arguments)]
pub(super) fn paint_incidents(
    painter: &egui::Painter,
    cx: &FrameCtx,
    (points, clusters, markers): (&mut IncidentPoints, &mut ClusterCache, &mut MarkerCache),
    placement: super::points::Placement<'_>,
    (world, center, clip, zoom): (f64, Merc, Rect, f64),
    r: f32,
    scale: f32,
    hits: &mut Vec<(Pos2, f32, Hit)>,
) -> bool {
    // Kept in step with the incidents (not with other datasets): changes one by one from the
    // store's change log, a whole rebuild when the map was replaced or many changed.
    let categories = categories_stamp(&cx.store);
    let wanted = (cx.store.incidents_version(), placement.key());
    let stale = points.version != Some(wanted) || points.categories != categories;
    if stale && (points.categories != categories || !apply_changes(points, &cx.store, placement)) {
        let builds = points.full_builds;
        *points = prepare_points(&cx.store, placement);
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
    let cluster_key = version.0 ^ (u64::from(version.1.0) << 63) ^ version.1.1.rotate_left(17);
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
    let now_s = cx.data_now().timestamp();
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
    let pulse_t = if cx.low_power {
        // A steady ring: no animation when drawing sparingly.
        0.3
    } else {
        (cx.now.timestamp_subsec_millis() as f32 / 1000.0).fract()
    };
    let mut pulsing = false;
    for (p, radius, color, until) in &markers.pulses {
        if now_s < *until {
            painter.circle_stroke(
                *p,
                radius * (1.15 + 0.9 * pulse_t),
                Stroke::new(2.0 * scale.max(0.5), color.gamma_multiply(1.0 - pulse_t)),
            );
            pulsing = !cx.low_power;
        }
    }
    pulsing
}

/// Shapes and tessellates the markers of the clusters in view, with their hit areas.
#[allow(clippy::too_many_arguments)]
pub(super) fn build_markers(
    markers: &mut MarkerCache,
    painter: &egui::Painter,
    cx: &FrameCtx,
    points: &IncidentPoints,
    (list, unsplittable): (&[Cluster], bool),
    (world, center, clip): (f64, Merc, Rect),
    r: f32,
    scale: f32,
) {
    let now_s = cx.data_now().timestamp();
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
            if info.is_new(cx.data_now()) {
                markers.pulses.push((
                    p,
                    r * 1.4,
                    priority_color(info.priority),
                    info.received_at.timestamp() + new_for,
                ));
            }
            let overdue = !info.status.is_closed() && cx.data_now() > info.due_at;
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
