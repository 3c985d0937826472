//! The operator's incident workspace on the desk: the queue (search without diacritics,
//! filters, sorting; only visible rows laid out), the detail of the selected incident with its
//! history and nearby cameras, and the workflow actions, keyboard first:
//! j/k or arrows move, Enter opens, v verify, f forward (unit picker with type-ahead),
//! s start, r resolve, x reject, n note, / search, Esc back. Every action goes to the outbox
//! first (see `incidents::outbox`); leaders see the queue read-only.

use std::collections::HashSet;

use egui::{Key, RichText};

use super::Command;
use crate::incidents::outbox::EntryState;
use crate::incidents::queue::{QueueFilter, QueueIndex, SortBy, due_words};
use crate::incidents::{search, workflow};
use crate::model::{
    ActionKind, ActionRequest, Camera, GeoPoint, Incident, IncidentSource, IncidentStatus, Priority,
};
use crate::sources::Request;
use crate::tiles::incidents::{is_new_and_urgent, priority_key, status_key};
use crate::ui::{FrameCtx, format, theme};

/// What the operator is typing for an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    Forward,
    Reject,
    Note,
}

pub struct IncidentPanel {
    index: QueueIndex,
    cached: Option<(u64, QueueFilter, SortBy, std::sync::Arc<Vec<String>>)>,
    pub filter: QueueFilter,
    pub sort: SortBy,
    pub selected: Option<String>,
    pub open: bool,
    input: Option<Input>,
    /// The incident (and the version the operator saw) the open input belongs to: it closes
    /// when the selection moves, and the decision goes out against that version, so a change in
    /// between comes back as a conflict to look at instead of silently applying or vanishing.
    input_for: Option<(String, u64)>,
    /// (store generation, second) → overdue count, so a frame does not scan the queue.
    overdue: Option<(u64, i64, usize)>,
    /// The generation `alert_new` last looked at.
    alerted_at: Option<u64>,
    /// The refusal the operator dismissed.
    dismissed: Option<u64>,
    text: String,
    focus_search: bool,
    /// The action input was just opened: give it the keyboard once.
    focus_input: bool,
    seen_urgent: Option<HashSet<String>>,
    pub sound: bool,
    /// The generation of the console-wide selection this panel last followed.
    seen_selection: u64,
}

impl Default for IncidentPanel {
    fn default() -> Self {
        IncidentPanel {
            index: QueueIndex::default(),
            cached: None,
            filter: QueueFilter {
                open_only: true,
                ..Default::default()
            },
            sort: SortBy::Priority,
            selected: None,
            open: false,
            input: None,
            input_for: None,
            overdue: None,
            alerted_at: None,
            dismissed: None,
            text: String::new(),
            focus_search: false,
            focus_input: false,
            seen_urgent: None,
            sound: false,
            seen_selection: 0,
        }
    }
}

/// Cameras within `radius_m` of `at`, nearest first (the map tile lists the same).
pub fn nearby_cameras(cameras: &[Camera], at: GeoPoint, radius_m: f64) -> Vec<(&Camera, f64)> {
    crate::map::cameras_near(cameras, at, radius_m)
}

fn action_key(a: ActionKind) -> &'static str {
    match a {
        ActionKind::Receive => "action_kind.receive",
        ActionKind::Verify => "action_kind.verify",
        ActionKind::Forward => "action_kind.forward",
        ActionKind::Start => "action_kind.start",
        ActionKind::Resolve => "action_kind.resolve",
        ActionKind::Reject => "action_kind.reject",
        ActionKind::Note => "action_kind.note",
    }
}

fn action_shortcut(a: ActionKind) -> &'static str {
    match a {
        ActionKind::Verify => "V",
        ActionKind::Forward => "F",
        ActionKind::Start => "S",
        ActionKind::Resolve => "R",
        ActionKind::Reject => "X",
        ActionKind::Note => "N",
        ActionKind::Receive => "",
    }
}

impl IncidentPanel {
    /// The ordered ids the queue shows (recomputed when the store or the filter changes).
    pub fn ids(&mut self, cx: &FrameCtx) -> std::sync::Arc<Vec<String>> {
        let generation = cx.store.generation;
        if let Some((g, f, s, ids)) = &self.cached
            && *g == generation
            && *f == self.filter
            && *s == self.sort
        {
            return std::sync::Arc::clone(ids);
        }
        self.index.sync_store(&cx.store);
        let ids: std::sync::Arc<Vec<String>> = std::sync::Arc::new(
            self.index
                .select(&self.filter, self.sort)
                .into_iter()
                .map(|r| r.id.clone())
                .collect(),
        );
        self.cached = Some((
            generation,
            self.filter.clone(),
            self.sort,
            std::sync::Arc::clone(&ids),
        ));
        ids
    }

    fn act(
        &mut self,
        cx: &FrameCtx,
        incident: &Incident,
        action: ActionKind,
        unit: Option<String>,
        note: Option<String>,
        commands: &mut Vec<Command>,
    ) {
        let version = match &self.input_for {
            Some((id, v)) if *id == incident.id && self.input.is_some() => *v,
            _ => incident.version,
        };
        let request = ActionRequest {
            action,
            unit_id: unit,
            note,
            expected_version: Some(version),
            actor: Some(cx.t(cx.role.label_key()).to_owned()),
        };
        commands.push(Command::Backend(Request::Act {
            incident_id: incident.id.clone(),
            request,
        }));
        self.input = None;
        self.text.clear();
    }

    /// Starts an action from a key or a button: those that need words open an input.
    fn begin(
        &mut self,
        cx: &FrameCtx,
        incident: &Incident,
        action: ActionKind,
        commands: &mut Vec<Command>,
    ) {
        if !workflow::allowed_actions(incident.status).contains(&action) {
            return;
        }
        match action {
            ActionKind::Forward => self.input = Some(Input::Forward),
            ActionKind::Reject => self.input = Some(Input::Reject),
            ActionKind::Note => self.input = Some(Input::Note),
            // Decided now, on what the operator sees now (not on an input left open).
            a => {
                self.input = None;
                self.act(cx, incident, a, None, None, commands)
            }
        }
        self.focus_input = self.input.is_some();
        self.input_for = self.input.map(|_| (incident.id.clone(), incident.version));
        self.text.clear();
    }

    /// Draws the panel. The selection is shared with the rest of the console (map tiles): a
    /// choice made elsewhere shows here, and a choice made here is published.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        read_only: bool,
        commands: &mut Vec<Command>,
    ) {
        use crate::ui::selection;
        let shared = selection::get(ui.ctx());
        if shared.generation != self.seen_selection {
            // Chosen elsewhere since this panel last looked: follow it.
            self.seen_selection = shared.generation;
            self.selected = shared.incident;
        } else if self.selected != shared.incident {
            // Chosen here (in code, between frames): publish it.
            self.seen_selection = selection::select_incident(ui.ctx(), self.selected.clone());
        }
        self.show_inner(ui, cx, read_only, commands);
        if self.selected != selection::get(ui.ctx()).incident {
            self.seen_selection = selection::select_incident(ui.ctx(), self.selected.clone());
        }
    }

    fn show_inner(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        read_only: bool,
        commands: &mut Vec<Command>,
    ) {
        let Some(map) = cx.store.incidents.data.as_ref() else {
            ui.heading(cx.t("panel.title"));
            let s = cx
                .store
                .status(crate::sources::Resource::Incidents, cx.now, cx.lang);
            ui.label(s.reason.unwrap_or_default());
            return;
        };
        let ids = self.ids(cx);
        self.alert_new(cx, &ids);
        if self.input.is_some()
            && self.input_for.as_ref().map(|(id, _)| id) != self.selected.as_ref()
        {
            self.input = None;
            self.text.clear();
        }
        let second = cx.now.timestamp();
        let overdue = match self.overdue {
            Some((g, s, n)) if g == cx.store.generation && s == second => n,
            _ => {
                let n = ids
                    .iter()
                    .filter(|id| self.index.row(id).is_some_and(|r| r.is_overdue(cx.now)))
                    .count();
                self.overdue = Some((cx.store.generation, second, n));
                n
            }
        };
        ui.horizontal(|ui| {
            if ui
                .button(cx.t("panel.report"))
                .on_hover_text(cx.t("panel.report_hint"))
                .clicked()
            {
                commands.push(Command::ExportReport);
            }
            ui.heading(cx.t("panel.title"));
            ui.label(cx.t_args(
                "queue.summary",
                &[
                    ("n", &format::integer(cx.lang, ids.len() as i64)),
                    ("overdue", &overdue),
                ],
            ));
        });
        if read_only {
            ui.label(RichText::new(cx.t("panel.read_only")).italics());
        }
        if let Some(refused) = cx
            .store
            .refused
            .as_ref()
            .filter(|r| self.dismissed != Some(r.0))
        {
            let (seq, id, reason) = refused;
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(cx.t_args(
                        "panel.refused",
                        &[("id", id), ("reason", &reason.words(cx.lang))],
                    ))
                    .color(theme::colors::ERROR),
                );
                if ui.button(cx.t("action.dismiss")).clicked() {
                    self.dismissed = Some(*seq);
                }
            });
        }
        self.filters(ui, cx);
        self.keyboard(ui, cx, &ids, map, read_only, commands);

        let list_height = if self.open {
            (ui.available_height() * 0.38).max(120.0)
        } else {
            ui.available_height()
        };
        let row_h = 44.0;
        let selected = self.selected.clone();
        egui::ScrollArea::vertical()
            .id_salt("queue-list")
            .max_height(list_height)
            .auto_shrink([false, false])
            .show_rows(ui, row_h, ids.len(), |ui, range| {
                for id in &ids[range] {
                    let (Some(row), Some(inc)) = (self.index.row(id), map.get(id)) else {
                        continue;
                    };
                    let is_sel = selected.as_deref() == Some(id.as_str());
                    let pending = cx
                        .store
                        .outbox
                        .iter()
                        .any(|e| e.incident_id == *id && e.state == EntryState::Pending);
                    let (rect, resp) = ui.allocate_exact_size(
                        egui::vec2(ui.available_width(), row_h - 2.0),
                        egui::Sense::click(),
                    );
                    let painter = ui.painter_at(rect);
                    let bg = if is_sel {
                        theme::colors::ACCENT.gamma_multiply(0.35)
                    } else if is_new_and_urgent(row, cx.now) {
                        let pulse = (ui.input(|i| i.time) * 3.0).sin() as f32 * 0.5 + 0.5;
                        ui.ctx()
                            .request_repaint_after(std::time::Duration::from_millis(50));
                        theme::colors::ERROR.gamma_multiply(0.15 + 0.3 * pulse)
                    } else if resp.hovered() {
                        theme::colors::TILE_TITLE_BAR
                    } else {
                        egui::Color32::TRANSPARENT
                    };
                    painter.rect_filled(rect, 3.0, bg);
                    crate::tiles::incidents::paint_priority(
                        &painter,
                        egui::pos2(rect.left() + 4.0, rect.top() + 14.0),
                        16.0,
                        row.priority,
                    );
                    let x = rect.left() + 34.0;
                    let overdue = row.is_overdue(cx.now);
                    let due = due_words(cx.lang, row.due_at, cx.now, row.status.is_closed());
                    let right = painter.text(
                        egui::pos2(rect.right() - 4.0, rect.top() + 12.0),
                        egui::Align2::RIGHT_CENTER,
                        &due,
                        egui::FontId::proportional(12.0),
                        if overdue {
                            theme::colors::ERROR
                        } else {
                            theme::colors::TEXT_DIM
                        },
                    );
                    let mut limit = right.left() - 6.0;
                    if overdue {
                        let w = painter.text(
                            egui::pos2(limit, rect.top() + 12.0),
                            egui::Align2::RIGHT_CENTER,
                            cx.t("queue.overdue").to_uppercase(),
                            egui::FontId::new(12.0, theme::bold_family()),
                            theme::colors::ERROR,
                        );
                        let c = egui::pos2(w.left() - 8.0, rect.top() + 12.0);
                        painter.add(egui::Shape::convex_polygon(
                            vec![
                                c + egui::vec2(0.0, -5.5),
                                c + egui::vec2(5.5, 4.5),
                                c + egui::vec2(-5.5, 4.5),
                            ],
                            theme::colors::ERROR,
                            egui::Stroke::NONE,
                        ));
                        limit = c.x - 10.0;
                    }
                    let title = painter.layout_no_wrap(
                        inc.title.clone(),
                        egui::FontId::proportional(14.0),
                        theme::colors::TEXT,
                    );
                    painter
                        .with_clip_rect(egui::Rect::from_min_max(
                            rect.min,
                            egui::pos2(limit, rect.bottom()),
                        ))
                        .galley(egui::pos2(x, rect.top() + 3.0), title, theme::colors::TEXT);
                    let mut line2 = format!(
                        "{} · {} · {} · {}",
                        inc.id,
                        cx.t(priority_key(row.priority)),
                        cx.t(status_key(row.status)),
                        crate::charts::short_unit_name_of(
                            &inc.unit_id,
                            cx.store.units.data.as_deref().unwrap_or(&[])
                        )
                    );
                    if pending {
                        line2.push_str(&format!(" · {}", cx.t("panel.sending")));
                    }
                    painter.text(
                        egui::pos2(x, rect.bottom() - 11.0),
                        egui::Align2::LEFT_CENTER,
                        line2,
                        egui::FontId::proportional(11.5),
                        theme::colors::TEXT_DIM,
                    );
                    if resp.clicked() {
                        self.selected = Some(id.clone());
                    }
                    if resp.double_clicked() {
                        self.selected = Some(id.clone());
                        self.open = true;
                    }
                    if is_sel && resp.gained_focus() {
                        resp.scroll_to_me(None);
                    }
                }
            });
        if self.open
            && let Some(inc) = self.selected.as_ref().and_then(|id| map.get(id))
        {
            ui.separator();
            egui::ScrollArea::vertical()
                .id_salt("incident-detail")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    self.detail(ui, cx, inc, read_only, commands);
                });
        }
    }

    fn filters(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let search = egui::TextEdit::singleline(&mut self.filter.query)
            .hint_text(cx.t("panel.search_hint"))
            .desired_width(f32::INFINITY);
        let r = ui.add(search);
        if self.focus_search {
            r.request_focus();
            self.focus_search = false;
        }
        ui.horizontal_wrapped(|ui| {
            let statuses = [
                IncidentStatus::Received,
                IncidentStatus::Verified,
                IncidentStatus::Forwarded,
                IncidentStatus::InProgress,
                IncidentStatus::Resolved,
                IncidentStatus::Rejected,
            ];
            let current = match (self.filter.open_only, self.filter.statuses.first()) {
                (true, _) => cx.t("panel.open_only").to_owned(),
                (false, Some(s)) => cx.t(status_key(*s)).to_owned(),
                (false, None) => cx.t("panel.all").to_owned(),
            };
            egui::ComboBox::new("f-status", cx.t("panel.status"))
                .selected_text(current)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(self.filter.open_only, cx.t("panel.open_only"))
                        .clicked()
                    {
                        self.filter.open_only = true;
                        self.filter.statuses.clear();
                    }
                    if ui
                        .selectable_label(
                            !self.filter.open_only && self.filter.statuses.is_empty(),
                            cx.t("panel.all"),
                        )
                        .clicked()
                    {
                        self.filter.open_only = false;
                        self.filter.statuses.clear();
                    }
                    for s in statuses {
                        if ui
                            .selectable_label(self.filter.statuses == [s], cx.t(status_key(s)))
                            .clicked()
                        {
                            self.filter.open_only = false;
                            self.filter.statuses = vec![s];
                        }
                    }
                });
            let prio = self
                .filter
                .priorities
                .first()
                .map_or(cx.t("panel.all"), |p| cx.t(priority_key(*p)));
            egui::ComboBox::new("f-priority", cx.t("panel.priority"))
                .selected_text(prio)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(self.filter.priorities.is_empty(), cx.t("panel.all"))
                        .clicked()
                    {
                        self.filter.priorities.clear();
                    }
                    for p in [
                        Priority::Critical,
                        Priority::High,
                        Priority::Normal,
                        Priority::Low,
                    ] {
                        if ui
                            .selectable_label(self.filter.priorities == [p], cx.t(priority_key(p)))
                            .clicked()
                        {
                            self.filter.priorities = vec![p];
                        }
                    }
                });
            let cats = cx.store.categories.data.clone().unwrap_or_default();
            let cat_name = |id: &str| {
                cats.iter().find(|c| c.id == id).map_or(id.to_owned(), |c| {
                    if cx.lang == crate::ui::Lang::Vi {
                        c.name_vi.clone()
                    } else {
                        c.name_en.clone()
                    }
                })
            };
            let cat = self
                .filter
                .categories
                .first()
                .map_or(cx.t("panel.all").to_owned(), |c| cat_name(c));
            egui::ComboBox::new("f-category", cx.t("panel.category"))
                .selected_text(cat)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(self.filter.categories.is_empty(), cx.t("panel.all"))
                        .clicked()
                    {
                        self.filter.categories.clear();
                    }
                    for c in &cats {
                        if ui
                            .selectable_label(
                                self.filter.categories == [c.id.clone()],
                                cat_name(&c.id),
                            )
                            .clicked()
                        {
                            self.filter.categories = vec![c.id.clone()];
                        }
                    }
                });
            let units = cx.store.units.data.clone().unwrap_or_default();
            let unit = self
                .filter
                .units
                .first()
                .map_or(cx.t("panel.all").to_owned(), |u| {
                    crate::charts::short_unit_name_of(u, &units)
                });
            egui::ComboBox::new("f-unit", cx.t("panel.unit"))
                .selected_text(unit)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(self.filter.units.is_empty(), cx.t("panel.all"))
                        .clicked()
                    {
                        self.filter.units.clear();
                    }
                    for u in units.iter().filter(|u| u.parent_id.is_some()) {
                        if ui
                            .selectable_label(self.filter.units == [u.id.clone()], &u.name)
                            .clicked()
                        {
                            self.filter.units = vec![u.id.clone()];
                        }
                    }
                });
            let sources = [
                IncidentSource::Citizen,
                IncidentSource::Soc,
                IncidentSource::Camera,
                IncidentSource::Police,
                IncidentSource::Hotline,
            ];
            let src_key = |s: IncidentSource| match s {
                IncidentSource::Citizen => "source_kind.citizen",
                IncidentSource::Soc => "source_kind.soc",
                IncidentSource::Camera => "source_kind.camera",
                IncidentSource::Police => "source_kind.police",
                IncidentSource::Hotline => "source_kind.hotline",
            };
            let src = self
                .filter
                .sources
                .first()
                .map_or(cx.t("panel.all"), |s| cx.t(src_key(*s)));
            egui::ComboBox::new("f-source", cx.t("panel.source"))
                .selected_text(src)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(self.filter.sources.is_empty(), cx.t("panel.all"))
                        .clicked()
                    {
                        self.filter.sources.clear();
                    }
                    for s in sources {
                        if ui
                            .selectable_label(self.filter.sources == [s], cx.t(src_key(s)))
                            .clicked()
                        {
                            self.filter.sources = vec![s];
                        }
                    }
                });
            let sort_key = |s: SortBy| match s {
                SortBy::Priority => "panel.sort_priority",
                SortBy::Due => "panel.sort_due",
                SortBy::Arrival => "panel.sort_arrival",
            };
            egui::ComboBox::new("f-sort", cx.t("panel.sort"))
                .selected_text(cx.t(sort_key(self.sort)))
                .show_ui(ui, |ui| {
                    for s in [SortBy::Priority, SortBy::Due, SortBy::Arrival] {
                        ui.selectable_value(&mut self.sort, s, cx.t(sort_key(s)));
                    }
                });
        });
    }

    /// Keys act only when no text field has the keyboard (a clicked row may hold the focus).
    fn keyboard(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        ids: &[String],
        map: &std::collections::HashMap<String, Incident>,
        read_only: bool,
        commands: &mut Vec<Command>,
    ) {
        let typing = ui.ctx().egui_wants_keyboard_input();
        if ui.input(|i| i.key_pressed(Key::Escape)) {
            if self.input.is_some() {
                self.input = None;
            } else if typing {
                ui.ctx().memory_mut(|m| m.request_focus(egui::Id::NULL));
            } else if self.open {
                self.open = false;
            } else {
                self.filter.query.clear();
            }
            return;
        }
        if typing || self.input.is_some() {
            return;
        }
        let pos = self
            .selected
            .as_ref()
            .and_then(|s| ids.iter().position(|i| i == s));
        let pressed = |k: Key| ui.input(|i| i.key_pressed(k));
        if pressed(Key::J) || pressed(Key::ArrowDown) {
            let next = pos.map_or(0, |p| (p + 1).min(ids.len().saturating_sub(1)));
            self.selected = ids.get(next).cloned();
        }
        if pressed(Key::K) || pressed(Key::ArrowUp) {
            let prev = pos.map_or(0, |p| p.saturating_sub(1));
            self.selected = ids.get(prev).cloned();
        }
        if pressed(Key::Enter) && self.selected.is_some() {
            self.open = true;
        }
        if pressed(Key::Slash) {
            self.focus_search = true;
        }
        if read_only {
            return;
        }
        let Some(inc) = self.selected.as_ref().and_then(|id| map.get(id)).cloned() else {
            return;
        };
        for (key, action) in [
            (Key::V, ActionKind::Verify),
            (Key::F, ActionKind::Forward),
            (Key::S, ActionKind::Start),
            (Key::R, ActionKind::Resolve),
            (Key::X, ActionKind::Reject),
            (Key::N, ActionKind::Note),
        ] {
            if pressed(key) {
                self.open = true;
                self.begin(cx, &inc, action, commands);
            }
        }
    }

    fn detail(
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
        ui.label(RichText::new(&inc.title).heading());
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
                            if cx.lang == crate::ui::Lang::Vi {
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
                ui.label(format!("{:.5}, {:.5}", inc.location.lat, inc.location.lon));
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
        // Outbox state of this incident's actions.
        for e in cx.store.outbox.iter().filter(|e| e.incident_id == inc.id) {
            let what = cx.t(action_key(e.request.action));
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
                    ui.label(
                        RichText::new(cx.t_args(
                            "panel.conflict",
                            &[
                                ("action", &what),
                                ("reason", &e.last_error.clone().unwrap_or_default()),
                            ],
                        ))
                        .color(theme::colors::ERROR),
                    );
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
                    ui.label(
                        RichText::new(cx.t_args(
                            "panel.refused_action",
                            &[
                                ("action", &what),
                                ("reason", &e.last_error.clone().unwrap_or_default()),
                            ],
                        ))
                        .color(theme::colors::ERROR),
                    );
                }
                EntryState::Unconfirmed => {
                    ui.label(
                        RichText::new(cx.t_args(
                            "panel.unconfirmed",
                            &[
                                ("action", &what),
                                ("reason", &e.last_error.clone().unwrap_or_default()),
                            ],
                        ))
                        .color(theme::colors::STALE),
                    );
                }
                EntryState::Acked | EntryState::Discarded => {}
            }
        }
        if !read_only {
            self.actions(ui, cx, inc, commands);
        }
        ui.separator();
        ui.label(RichText::new(cx.t("panel.cameras")).strong());
        let cams = cx.store.cameras.data.as_deref().unwrap_or(&[]);
        let near = nearby_cameras(cams, inc.location, 5_000.0);
        if near.is_empty() {
            ui.label(cx.t("panel.no_cameras"));
        }
        for (c, d) in near.iter().take(5) {
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
        ui.separator();
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

    fn actions(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        inc: &Incident,
        commands: &mut Vec<Command>,
    ) {
        ui.horizontal_wrapped(|ui| {
            for &a in workflow::allowed_actions(inc.status) {
                let label = format!("{} [{}]", cx.t(action_key(a)), action_shortcut(a));
                if ui.button(label).clicked() {
                    self.begin(cx, inc, a, commands);
                }
            }
        });
        let Some(input) = self.input else { return };
        match input {
            Input::Forward => {
                ui.label(cx.t("panel.forward_to"));
                let r = ui.add(
                    egui::TextEdit::singleline(&mut self.text)
                        .hint_text(cx.t("panel.type_unit"))
                        .id_salt("forward-unit"),
                );
                if std::mem::take(&mut self.focus_input) {
                    r.request_focus();
                }
                let q = search::fold(&self.text);
                let mut choices: Vec<(String, String)> = Vec::new();
                for u in cx
                    .store
                    .units
                    .data
                    .as_deref()
                    .unwrap_or(&[])
                    .iter()
                    .filter(|u| u.parent_id.is_some())
                {
                    choices.push((u.id.clone(), u.name.clone()));
                }
                for d in cx.store.departments.data.as_deref().unwrap_or(&[]) {
                    choices.push((
                        d.id.clone(),
                        if cx.lang == crate::ui::Lang::Vi {
                            d.name_vi.clone()
                        } else {
                            d.name_en.clone()
                        },
                    ));
                }
                let matching: Vec<&(String, String)> = choices
                    .iter()
                    .filter(|(_, n)| search::matches(&search::fold(n), &q))
                    .take(8)
                    .collect();
                // Enter counts only in this field, not in the search box.
                let enter =
                    (r.has_focus() || r.lost_focus()) && ui.input(|i| i.key_pressed(Key::Enter));
                let mut pick = None;
                for (id, name) in &matching {
                    if ui.selectable_label(false, name).clicked() {
                        pick = Some(id.clone());
                    }
                }
                if enter {
                    pick = matching.first().map(|(id, _)| id.clone());
                }
                if let Some(unit) = pick {
                    self.act(cx, inc, ActionKind::Forward, Some(unit), None, commands);
                }
            }
            Input::Reject | Input::Note => {
                let (label, action) = if input == Input::Reject {
                    (cx.t("panel.reject_reason"), ActionKind::Reject)
                } else {
                    (cx.t("panel.note_text"), ActionKind::Note)
                };
                let name = ui.label(label);
                // Named by its label, for screen readers.
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.text)
                            .id_salt("action-text")
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(name.id);
                if std::mem::take(&mut self.focus_input) {
                    r.request_focus();
                }
                let enter =
                    (r.has_focus() || r.lost_focus()) && ui.input(|i| i.key_pressed(Key::Enter));
                let ok = ui
                    .add_enabled(
                        !self.text.trim().is_empty(),
                        egui::Button::new(cx.t("panel.confirm")),
                    )
                    .clicked();
                if (enter || ok) && !self.text.trim().is_empty() {
                    let note = self.text.trim().to_owned();
                    self.act(cx, inc, action, None, Some(note), commands);
                }
            }
        }
    }

    /// A new urgent incident plays the alert once (when enabled); those present at start are not new.
    fn alert_new(&mut self, cx: &FrameCtx, ids: &[String]) {
        // Only a store change can bring a new incident.
        if self.alerted_at == Some(cx.store.generation) {
            return;
        }
        self.alerted_at = Some(cx.store.generation);
        let urgent: Vec<&String> = ids
            .iter()
            .filter(|id| {
                self.index
                    .row(id)
                    .is_some_and(|r| is_new_and_urgent(r, cx.now))
            })
            .collect();
        match &mut self.seen_urgent {
            None => self.seen_urgent = Some(urgent.into_iter().cloned().collect()),
            Some(seen) => {
                let mut fresh = false;
                for id in urgent {
                    fresh |= seen.insert(id.clone());
                }
                if fresh && self.sound {
                    crate::ui::sound::alert();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_nearest_cameras() {
        let a = GeoPoint {
            lat: 10.236,
            lon: 106.376,
        };
        let b = GeoPoint {
            lat: 10.042,
            lon: 106.594,
        };
        let d = crate::map::geo::distance_m(a, b);
        assert!((31_000.0..33_000.0).contains(&d), "{d}");
        assert!(crate::map::geo::distance_m(a, a) < 1e-6);
    }
}
