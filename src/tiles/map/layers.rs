//! The map's data layers (GeoJSON lines, points and names) and the administrative units, and
//! labels that never cover each other.

use std::sync::Arc;

use egui::{Align2, Color32, Pos2, Rect, Shape, Stroke, pos2, vec2};

use crate::context::FrameCtx;
use crate::map::geo::{self, Merc};
use crate::map::vector::{LayerState, LayerStyle, VectorLayer};
use crate::ui::theme;

pub(super) fn to_pos(m: Merc, world: f64, center: Merc, clip: Rect) -> Pos2 {
    pos2(
        clip.center().x + ((m.x - center.x) * world) as f32,
        clip.center().y + ((m.y - center.y) * world) as f32,
    )
}

pub(super) fn style_stroke(style: LayerStyle, scale: f32) -> Stroke {
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
pub(super) type LabelWish = (Pos2, String, egui::FontId, Color32);

/// Writes labels where they do not overlap labels already written (first come, first shown).
#[derive(Default)]
pub(super) struct LabelPlacer {
    pub(super) placed: Vec<Rect>,
}

impl LabelPlacer {
    pub(super) fn place(
        &mut self,
        painter: &egui::Painter,
        at: Pos2,
        align: Align2,
        wish: LabelWish,
    ) {
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

/// The data layers as drawn for one view: their lines projected, thinned to a pixel and
/// tessellated once into one mesh, their names found once; a still map (the wall) redraws them
/// without projecting every vertex again. Point features are few and drawn as they are.
#[derive(Default)]
pub(super) struct LayerLines {
    key: Option<LinesKey>,
    mesh: Arc<egui::Mesh>,
    labels: Vec<LabelWish>,
    /// How many times the lines were projected (tests and benchmarks).
    pub(super) builds: u64,
}

/// Everything the projected lines depend on.
#[derive(Clone, Debug, PartialEq)]
struct LinesKey {
    /// The ready layers, by identity (a layer read again is a new one).
    layers: Vec<usize>,
    world: f64,
    center: (f64, f64),
    clip: [f32; 4],
    scale: f32,
    zoom: f64,
    pixels_per_point: f32,
}

/// Where the map looks: the world's size in points, its centre, the clip and the zoom.
pub(super) type ViewArgs = (f64, Merc, Rect, f64);

impl LayerLines {
    /// Draws the layers that are ready, names the ones that failed in `notes`; returns when to
    /// look again for a layer still loading or failed (read again in the background).
    pub(super) fn paint(
        &mut self,
        painter: &egui::Painter,
        layers: &[Arc<LayerState>],
        (world, center, clip, zoom): ViewArgs,
        scale: f32,
        cx: &FrameCtx,
        notes: &mut super::Notes,
    ) -> Option<std::time::Duration> {
        let mut wake = None;
        let mut ready: Vec<&VectorLayer> = Vec::new();
        let mut ids = Vec::new();
        for layer in layers {
            match &**layer {
                LayerState::Ready(l) => {
                    ready.push(l);
                    ids.push(Arc::as_ptr(layer) as usize);
                    if let Some(a) = &l.attribution
                        && !notes.attribution.contains(a)
                    {
                        notes.attribution.push(a.clone());
                    }
                }
                LayerState::Loading { .. } => {
                    wake = Some(std::time::Duration::from_millis(200));
                }
                LayerState::Failed { name, error } => {
                    let (key, detail) = error.catalogue();
                    let error = cx.t_args(key, &[("detail", &detail)]);
                    notes
                        .problems
                        .push(cx.t_args("map.err.layer", &[("name", name), ("error", &error)]));
                    // It is read again in the background: show when it loads.
                    wake = wake.or(Some(std::time::Duration::from_secs(1)));
                }
            }
        }
        let key = LinesKey {
            layers: ids,
            world,
            center: (center.x, center.y),
            clip: [clip.min.x, clip.min.y, clip.max.x, clip.max.y],
            scale,
            zoom,
            pixels_per_point: painter.ctx().pixels_per_point(),
        };
        if self.key.as_ref() != Some(&key) {
            let mut shapes = Vec::new();
            self.labels.clear();
            for l in &ready {
                project_layer(
                    &mut shapes,
                    &mut self.labels,
                    l,
                    (world, center, clip, zoom),
                    scale,
                );
            }
            let ctx = painter.ctx();
            let mut tessellator = egui::epaint::Tessellator::new(
                ctx.pixels_per_point(),
                ctx.tessellation_options(|o| *o),
                ctx.fonts(|f| f.font_image_size()),
                Vec::new(),
            );
            tessellator.set_clip_rect(clip);
            let mut mesh = egui::Mesh::default();
            for shape in shapes {
                tessellator.tessellate_shape(shape, &mut mesh);
            }
            self.mesh = Arc::new(mesh);
            self.key = Some(key);
            self.builds += 1;
        }
        painter.add(Shape::mesh(Arc::clone(&self.mesh)));
        for l in &ready {
            let stroke = style_stroke(l.style, scale);
            for m in &l.points {
                painter.circle_filled(
                    to_pos(*m, world, center, clip),
                    3.0 * scale.max(0.5),
                    stroke.color,
                );
            }
        }
        wake
    }

    /// The layers' names to place in this view.
    pub(super) fn labels(&self) -> &[LabelWish] {
        &self.labels
    }
}

/// One layer's lines in view as screen shapes (vertices closer than a pixel to the last kept
/// one dropped) and its names in view.
fn project_layer(
    shapes: &mut Vec<Shape>,
    labels: &mut Vec<LabelWish>,
    layer: &VectorLayer,
    (world, center, clip, zoom): ViewArgs,
    scale: f32,
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
        let mut pts: Vec<Pos2> = Vec::with_capacity(line.points.len());
        for m in &line.points {
            let p = to_pos(*m, world, center, clip);
            if pts.last().is_none_or(|l: &Pos2| l.distance_sq(p) >= 1.0) {
                pts.push(p);
            }
        }
        if pts.len() >= 2 {
            shapes.push(Shape::line(pts, stroke));
        }
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

#[allow(clippy::too_many_arguments)]
pub(super) fn paint_units(
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
    let today = cx.data_now().date_naive();
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
