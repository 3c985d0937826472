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

mod glyphs;
mod layers;
mod markers;
mod options;
mod overlays;
mod pointer;
mod points;
mod state;

pub use glyphs::{Glyph, camera_state_key, paint_camera_marker, paint_incident_marker};
pub use options::{Follow, MapLayer, MapOptions};
pub use overlays::nearby_cameras;
pub use points::{Placement, prepare_incident_points};
pub use state::MapTileState;

use std::sync::{Arc, Mutex};

use egui::{Align2, Color32, Pos2, Rect, Stroke, UiBuilder};
use walkers::{Map, Projector, Tiles, lon_lat};

use super::TileView;
use crate::context::{Command, FrameCtx, TileState};
use crate::map::basemap::Basemap;
use crate::map::geo::{self, Merc};
use crate::model::{GeoPoint, Incident};
use crate::sources::Resource;
use crate::status::{DataStatus, SourceState};
use crate::ui::theme;
use layers::{LabelPlacer, paint_units, to_pos};
use markers::{Hit, paint_incidents};
use overlays::{
    ListOutcome, paint_camera_popup, paint_controls, paint_footer, paint_incident_list,
    paint_nearby,
};
use pointer::{PointerAction, handle_pointer};

/// The zoom a following map goes to (at least) when it centres on an incident.
const FOLLOW_ZOOM: f64 = 14.0;

/// What the map under the markers says in words: problems (layers, basemaps) and attribution.
#[derive(Default)]
struct Notes {
    problems: Vec<String>,
    attribution: Vec<String>,
}

/// Where the map looks this frame: the world's size in points, its centre, the clip.
#[derive(Clone, Copy)]
struct View {
    world: f64,
    center: Merc,
    clip: Rect,
}

impl TileView for MapOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        let incidents = cx.store.status(Resource::Incidents, cx.data_now());
        let cameras = cx.store.status(Resource::Cameras, cx.data_now());
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
        let incidents = cx.store.incidents.data.as_ref();
        let selected: Option<&Incident> = cx
            .view
            .incident
            .as_ref()
            .and_then(|id| incidents.and_then(|m| m.get(id)));
        self.sync_view(st, cx, rect, scale, selected);
        let painter = ui.painter().with_clip_rect(rect);
        painter.rect_filled(rect, 0.0, Color32::from_rgb(12, 22, 36));
        let mut notes = Notes::default();
        let basemap = self.basemap(st, cx, ui.ctx(), &mut notes);
        let mut guard = basemap
            .as_ref()
            .map(|b| b.lock().unwrap_or_else(|p| p.into_inner()));
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
        let content = Content {
            options: self,
            cx,
            scale,
            selected,
            shown: &st.shown,
        };
        let (points, clusters, markers, lines) = (
            &mut st.points,
            &mut st.clusters,
            &mut st.markers,
            &mut st.lines,
        );
        let inner = map.show(&mut child, |ui, response, projector, _memory| {
            content.paint(
                ui,
                response,
                projector,
                (points, clusters, markers, lines),
                &mut notes,
            )
        });
        drop(guard);
        let (action, pulsing) = inner.inner;
        apply_pointer(st, action, cx);
        if pulsing {
            // New incidents pulse: keep the animation going.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
        self.overlays(ui, rect, scale, cx, st, selected);
        paint_footer(ui, rect, scale, &notes.problems, &notes.attribution);
    }
}

impl MapOptions {
    /// The view on the first frame, after a change of the drawing scale, and when the selection
    /// moves to an incident this map follows.
    fn sync_view(
        &self,
        st: &mut MapTileState,
        cx: &FrameCtx,
        rect: Rect,
        scale: f32,
        selected: Option<&Incident>,
    ) {
        let home = [
            self.center.map_or(u64::MAX, |c| c.lat.to_bits()),
            self.center.map_or(u64::MAX, |c| c.lon.to_bits()),
            self.zoom.map_or(u64::MAX, f64::to_bits),
        ];
        if st.home != Some(home) {
            st.home = Some(home);
            st.initialised = false;
        }
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
        if cx.view.generation != st.seen_selection {
            st.seen_selection = cx.view.generation;
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
    }

    /// The basemap, when one is configured and shown, with its health in words.
    fn basemap(
        &self,
        st: &MapTileState,
        cx: &FrameCtx,
        ctx: &egui::Context,
        notes: &mut Notes,
    ) -> Option<Arc<Mutex<Basemap>>> {
        let basemap = if st.shown.contains(&MapLayer::Basemap) {
            cx.map.basemap(ctx, self.basemap.as_deref())
        } else {
            Ok(None)
        };
        let basemap = match basemap {
            Ok(b) => b?,
            Err(unknown) => {
                notes
                    .problems
                    .push(cx.t_args("map.err.unknown_basemap", &[("name", &unknown.0)]));
                return None;
            }
        };
        {
            let mut b = basemap.lock().unwrap_or_else(|p| p.into_inner());
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
                notes.problems.push(line);
                // Retries are timed: wake up to make them.
                ctx.request_repaint_after(std::time::Duration::from_millis(500));
            }
            if !b.spec().attribution.is_empty() {
                notes.attribution.push(b.spec().attribution.clone());
            }
        }
        Some(basemap)
    }

    /// Over the map: the cameras near the selected incident, the list of incidents on one spot,
    /// the camera pop-up, the controls.
    fn overlays(
        &self,
        ui: &mut egui::Ui,
        rect: Rect,
        scale: f32,
        cx: &FrameCtx,
        st: &mut MapTileState,
        selected: Option<&Incident>,
    ) {
        if let Some(inc) = selected {
            let near = st.nearby.get(cx, inc, self.camera_radius_m);
            if let Some(id) = paint_nearby(ui, rect, scale, cx, inc, &near, self.camera_radius_m) {
                st.popup_camera = Some(id);
            }
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
            let open =
                cam.is_some_and(|cam| paint_camera_popup(ui, rect, scale, cx, cam, selected));
            if !open {
                st.popup_camera = None;
            }
        }
        paint_controls(ui, rect, scale, cx, st);
    }
}

/// What the pointer asked for on the map.
fn apply_pointer(st: &mut MapTileState, action: Option<PointerAction>, cx: &FrameCtx) {
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
}

/// What the map's content needs to draw one frame.
struct Content<'a> {
    options: &'a MapOptions,
    cx: &'a FrameCtx,
    scale: f32,
    selected: Option<&'a Incident>,
    shown: &'a [MapLayer],
}

type Prepared<'a> = (
    &'a mut points::IncidentPoints,
    &'a mut crate::map::cluster::ClusterCache,
    &'a mut markers::MarkerCache,
    &'a mut layers::LayerLines,
);

impl Content<'_> {
    /// Inside the slippy map: layers, units, cameras, incidents, the selection; returns what the
    /// pointer asked for and whether a new incident pulses.
    fn paint(
        &self,
        ui: &mut egui::Ui,
        response: &egui::Response,
        projector: &Projector,
        (points, clusters, markers, lines): Prepared<'_>,
        notes: &mut Notes,
    ) -> (Option<PointerAction>, bool) {
        let (cx, scale) = (self.cx, self.scale);
        let clip = projector.clip_rect();
        let zoom = projector.zoom();
        let c = projector.unproject(clip.center().to_vec2());
        let view = View {
            world: geo::world_px(zoom),
            center: geo::project(GeoPoint {
                lat: c.y(),
                lon: c.x(),
            }),
            clip,
        };
        let (world, center) = (view.world, view.center);
        let painter = ui.painter().with_clip_rect(clip);
        let r = (theme::WALL.caption * 0.55 * scale).max(4.0);
        let mut placer = LabelPlacer::default();
        let mut hits: Vec<(Pos2, f32, Hit)> = Vec::new();
        if self.shown.contains(&MapLayer::Data) {
            let layers = cx.map.layers();
            let wake = lines.paint(
                &painter,
                &layers,
                (world, center, clip, zoom),
                scale,
                cx,
                notes,
            );
            if let Some(after) = wake {
                ui.ctx().request_repaint_after(after);
            }
        }
        if self.shown.contains(&MapLayer::Units) {
            paint_units(&painter, &mut placer, cx, world, center, clip, scale, zoom);
        }
        for wish in lines.labels() {
            placer.place(&painter, wish.0, Align2::CENTER_CENTER, wish.clone());
        }
        if self.shown.contains(&MapLayer::Cameras)
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
        if self.shown.contains(&MapLayer::Incidents) && cx.store.incidents.data.is_some() {
            pulsing = paint_incidents(
                &painter,
                cx,
                (points, clusters, markers),
                points::Placement {
                    include_closed: self.options.include_closed,
                    unit: self.options.unit.as_deref(),
                },
                (world, center, clip, zoom),
                r,
                scale,
                &mut hits,
            );
        }
        if let Some(inc) = self.selected {
            self.paint_selection(&painter, projector, view, inc, r);
        }
        (handle_pointer(ui, response, &hits, &*points, cx), pulsing)
    }

    /// The selected incident: a ring, and the camera search circle around it.
    fn paint_selection(
        &self,
        painter: &egui::Painter,
        projector: &Projector,
        view: View,
        inc: &Incident,
        r: f32,
    ) {
        let scale = self.scale;
        let p = to_pos(
            geo::project(inc.location),
            view.world,
            view.center,
            view.clip,
        );
        if self.shown.contains(&MapLayer::Cameras) {
            let c = projector.unproject(view.clip.center().to_vec2());
            let radius_px =
                (self.options.camera_radius_m * projector.scale_pixel_per_meter(c) as f64) as f32;
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
}
