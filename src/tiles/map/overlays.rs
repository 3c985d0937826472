//! What is drawn over the map: the cameras near the selected incident (and sending them to the
//! wall), the list of incidents on one spot, the camera pop-up, the layer and legend controls,
//! the problems and the attribution.

use egui::{Color32, Pos2, Rect, Shape, Stroke, UiBuilder, pos2, vec2};

use super::glyphs::glyph_points;
use super::glyphs::{GLYPHS, Glyph, camera_state_key, paint_camera_marker, paint_incident_marker};
use super::options::MapLayer;
use super::state::MapTileState;
use crate::context::command::SentCameras;
use crate::context::view::MAX_SENT;
use crate::context::{Command, FrameCtx};
use crate::format;
use crate::map::geo::{self};
use crate::model::{Camera, GeoPoint, Incident, IncidentStatus, Priority};
use crate::tiles::incidents::{priority_key, status_key};
use crate::ui::theme;

/// Most cameras listed next to a selected incident.
pub(super) const NEAR_LIST_MAX: usize = 8;

/// Problems (named layers and basemaps, with the reason) and the attribution, bottom left and
/// right, as labels: readable by screen readers and tests.
pub(super) fn paint_footer(
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

pub(super) fn distance_words(m: f64, cx: &FrameCtx) -> String {
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
pub(super) fn paint_nearby(
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
pub(super) fn send_cameras_buttons(
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
pub(super) fn popup_frame(scale: f32) -> egui::Frame {
    egui::Frame::new()
        .fill(theme::colors::TILE_TITLE_BAR)
        .stroke(Stroke::new(1.0, theme::colors::TILE_BORDER))
        .corner_radius(6.0)
        .inner_margin(8.0 * scale.max(0.5))
}

pub(super) enum ListOutcome {
    Open,
    Closed,
    Chosen(String),
}

/// The incidents on one spot (zooming in cannot split them), to choose one from.
pub(super) fn paint_incident_list(
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
pub(super) fn paint_camera_popup(
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
pub(super) fn paint_controls(
    ui: &mut egui::Ui,
    rect: Rect,
    scale: f32,
    cx: &FrameCtx,
    st: &mut MapTileState,
) {
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

pub(super) fn legend_row(
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

pub(super) fn paint_legend(ui: &mut egui::Ui, scale: f32, cx: &FrameCtx) {
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
