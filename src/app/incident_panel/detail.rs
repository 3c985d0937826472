//! The selected incident: its facts, description and media, the state of its actions in the
//! outbox (pending, conflict with discard or apply again, refused, unconfirmed), the actions,
//! the cameras near it and its history.

use egui::RichText;

use super::actions::action_key;
use super::{Command, IncidentPanel};
use crate::context::FrameCtx;
use crate::format;
use crate::incidents::queue::due_words;
use crate::incidents::workflow;
use crate::model::Incident;
use crate::outbox::EntryState;
use crate::sources::Request;
use crate::tiles::incidents::{priority_key, status_key};
use crate::ui::theme;

impl IncidentPanel {
    pub(super) fn detail(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        inc: &Incident,
        read_only: bool,
        commands: &mut Vec<Command>,
    ) {
        let vn = |t| {
            let v = format::to_vietnam_time(t);
            format!("{} {}", format::time(v, false), format::date(v))
        };
        // An incident from a source that takes no updates is read-only here, and says why.
        let from_read_only = inc.origin.as_ref().filter(|o| !o.writable);
        let read_only = read_only || from_read_only.is_some();
        let source_name = |o: &crate::model::Origin| {
            cx.store
                .origins
                .get(&o.source)
                .map_or_else(|| o.source.clone(), |s| s.name.clone())
        };
        ui.label(RichText::new(&inc.title).heading());
        if let Some(o) = &inc.origin {
            ui.label(cx.t_args(
                "panel.origin",
                &[
                    ("source", &source_name(o)),
                    ("id", &inc.remote_id()),
                    ("status", &o.raw_status.as_deref().unwrap_or("—")),
                ],
            ));
        }
        if let Some(o) = from_read_only {
            ui.label(
                RichText::new(cx.t_args("panel.origin_read_only", &[("source", &source_name(o))]))
                    .italics()
                    .color(theme::colors::STALE),
            );
        }
        ui.label(format!(
            "{} · {} · {} · v{}",
            inc.id,
            cx.t(status_key(inc.status)),
            cx.t(priority_key(inc.priority)),
            inc.version
        ));
        let units = cx.store.units.data.as_deref().unwrap_or(&[]);
        let unit_name = |id: &str| {
            units
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.name.clone())
                .or_else(|| {
                    cx.store
                        .departments
                        .data
                        .as_ref()
                        .and_then(|d| d.iter().find(|x| x.id == id))
                        .map(|d| {
                            if cx.lang == crate::i18n::Lang::Vi {
                                d.name_vi.clone()
                            } else {
                                d.name_en.clone()
                            }
                        })
                })
                .unwrap_or(id.to_owned())
        };
        egui::Grid::new("incident-facts")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label(cx.t("panel.unit"));
                ui.label(unit_name(&inc.unit_id));
                ui.end_row();
                ui.label(cx.t("panel.received"));
                ui.label(vn(inc.received_at));
                ui.end_row();
                ui.label(cx.t("panel.due"));
                ui.label(format!(
                    "{} ({})",
                    vn(inc.due_at),
                    due_words(cx.lang, inc.due_at, cx.now, inc.status.is_closed())
                ));
                ui.end_row();
                if let Some(a) = &inc.address {
                    ui.label(cx.t("panel.address"));
                    ui.label(a);
                    ui.end_row();
                }
                ui.label(cx.t("panel.location"));
                if inc.location.is_valid() {
                    ui.label(format!("{:.5}, {:.5}", inc.location.lat, inc.location.lon));
                } else {
                    ui.label(cx.t("panel.no_location"));
                }
                ui.end_row();
                if let Some(u) = &inc.assigned_unit_id {
                    ui.label(cx.t("panel.assigned"));
                    ui.label(unit_name(u));
                    ui.end_row();
                }
            });
        ui.label(&inc.description);
        for m in &inc.media {
            ui.hyperlink_to(format!("{} ({})", m.url, m.kind), &m.url);
        }
        self.outbox_states(ui, cx, inc, read_only, commands);
        if !read_only {
            self.actions(ui, cx, inc, commands);
        }
        ui.separator();
        self.cameras(ui, cx, inc);
        ui.separator();
        history(ui, cx, inc, &unit_name);
    }

    /// The state of this incident's actions in the outbox.
    fn outbox_states(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        inc: &Incident,
        read_only: bool,
        commands: &mut Vec<Command>,
    ) {
        for e in cx.store.outbox.iter().filter(|e| e.incident_id == inc.id) {
            let what = cx.t(action_key(e.request.action));
            let reason = e.last_error.clone().unwrap_or_default();
            // An action that did not go through says why, in its state's colour.
            let said = |key: &'static str, color| {
                RichText::new(cx.t_args(key, &[("action", &what), ("reason", &reason)]))
                    .color(color)
            };
            match e.state {
                EntryState::Pending => {
                    ui.label(
                        RichText::new(
                            cx.t_args("panel.pending", &[("action", &what), ("n", &e.attempts)]),
                        )
                        .color(theme::colors::STALE),
                    );
                }
                EntryState::Conflict => {
                    ui.label(said("panel.conflict", theme::colors::ERROR));
                    ui.horizontal(|ui| {
                        if !read_only && ui.button(cx.t("panel.discard")).clicked() {
                            commands
                                .push(Command::Backend(Request::Discard { key: e.key.clone() }));
                        }
                        if !read_only
                            && workflow::allowed_actions(inc.status).contains(&e.request.action)
                            && ui.button(cx.t("panel.reapply")).clicked()
                        {
                            commands.push(Command::Backend(Request::Reapply {
                                key: e.key.clone(),
                                version: inc.version,
                            }));
                        }
                    });
                }
                EntryState::Refused => {
                    ui.label(said("panel.refused_action", theme::colors::ERROR));
                }
                EntryState::Unconfirmed => {
                    ui.label(said("panel.unconfirmed", theme::colors::STALE));
                }
                EntryState::Held => {
                    // Its author signed out before it went: someone resends it as their own.
                    let by = e.request.actor.clone().unwrap_or_default();
                    ui.label(
                        RichText::new(cx.t_args(
                            "panel.held",
                            &[("action", &what), ("by", &by), ("reason", &reason)],
                        ))
                        .color(theme::colors::STALE),
                    );
                    if !read_only {
                        ui.horizontal(|ui| {
                            if ui
                                .button(cx.t("panel.resend_as_me"))
                                .on_hover_text(cx.t("panel.resend_as_me_hint"))
                                .clicked()
                            {
                                commands.push(Command::Backend(Request::ResendAs {
                                    key: e.key.clone(),
                                }));
                            }
                            // Nobody will send it: dropped on purpose (the trail says who).
                            if ui.button(cx.t("panel.discard")).clicked() {
                                commands.push(Command::Backend(Request::Discard {
                                    key: e.key.clone(),
                                }));
                            }
                        });
                    }
                }
                EntryState::Acked | EntryState::Discarded => {}
            }
        }
    }

    /// The cameras near the incident, nearest first: searched when the incident moves or the
    /// camera list is replaced, not every frame (a camera's live or dark state is read as drawn).
    fn cameras(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, inc: &Incident) {
        ui.label(RichText::new(cx.t("panel.cameras")).strong());
        let cams = cx.store.cameras.data.as_deref().unwrap_or(&[]);
        let key: super::NearbyKey = (
            inc.id.clone(),
            [inc.location.lat.to_bits(), inc.location.lon.to_bits()],
            cx.store.cameras.fetched_at,
            cams.len(),
        );
        if self.nearby.as_ref().is_none_or(|(k, _)| *k != key) {
            let near = crate::map::geo::nearest_within(
                inc.location,
                cams.iter().map(|c| c.location),
                5_000.0,
            );
            self.nearby = Some((key, near));
        }
        let near = self.nearby.as_ref().map_or(&[][..], |(_, n)| n.as_slice());
        if near.is_empty() {
            ui.label(cx.t("panel.no_cameras"));
        }
        for (c, d) in near
            .iter()
            .take(5)
            .filter_map(|(i, d)| Some((cams.get(*i)?, d)))
        {
            let state = if c.online {
                cx.t("panel.camera_live")
            } else {
                cx.t("panel.camera_dark")
            };
            ui.label(format!(
                "{} · {} {} · {state}",
                c.name,
                format::number(cx.lang, d / 1000.0, 1),
                cx.t("unit.km")
            ));
        }
    }
}

/// The incident's history, newest first.
fn history(ui: &mut egui::Ui, cx: &FrameCtx, inc: &Incident, unit_name: &dyn Fn(&str) -> String) {
    let vn = |t| {
        let v = format::to_vietnam_time(t);
        format!("{} {}", format::time(v, false), format::date(v))
    };
    ui.label(RichText::new(cx.t("panel.history")).strong());
    for h in inc.history.iter().rev() {
        let mut line = format!(
            "{} · {} · {} › {}",
            vn(h.at),
            h.actor,
            cx.t(action_key(h.action)),
            cx.t(status_key(h.status))
        );
        if let Some(u) = &h.unit_id {
            line.push_str(&format!(" · {}", unit_name(u)));
        }
        ui.label(line);
        if let Some(n) = &h.note {
            ui.label(RichText::new(format!("    “{n}”")).italics());
        }
    }
}
