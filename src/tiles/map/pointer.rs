//! Hovering and clicking on the map: tooltips, selecting an incident, zooming into a cluster,
//! choosing among incidents on one spot, opening a camera.

use egui::Pos2;

use super::glyphs::camera_state_key;
use super::markers::Hit;
use super::points::IncidentPoints;
use crate::context::FrameCtx;
use crate::map::geo::{self, Merc};
use crate::tiles::incidents::{priority_key, status_key};

pub(super) enum PointerAction {
    Select(String),
    OpenCamera(String),
    ZoomTo(Merc),
    /// Incidents on one spot, to choose from.
    List(Vec<String>),
}

pub(super) fn handle_pointer(
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
