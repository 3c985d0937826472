//! The operator's incident workspace on the desk: the queue (search without diacritics,
//! filters, sorting; only visible rows laid out), the detail of the selected incident with its
//! history and nearby cameras, and the workflow actions, keyboard first:
//! j/k or arrows move, Enter opens, v verify, f forward (unit picker with type-ahead),
//! s start, r resolve, x reject, n note, / search, Esc back. Every action goes to the outbox
//! first (see `outbox`); leaders see the queue read-only. The queue's index is the console's
//! one (`context::queue`), shared with the wall's queue tiles; the selection is the console's
//! too, changed by commands.

mod actions;
mod detail;
mod filters;
mod keys;
mod list;

use std::collections::HashSet;

use egui::RichText;

use super::Command;
use crate::context::FrameCtx;
use crate::context::queue::{QueueCache, QueueState};
use crate::format;
use crate::incidents::queue::{QueueFilter, SortBy};
use crate::tiles::incidents::is_new_and_urgent;
use crate::ui::theme;

/// What the operator is typing for an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    Forward,
    Reject,
    Note,
}

pub struct IncidentPanel {
    pub filter: QueueFilter,
    pub sort: SortBy,
    pub selected: Option<String>,
    pub open: bool,
    input: Option<Input>,
    /// The incident (and the version the operator saw) the open input belongs to: it closes
    /// when the selection moves, and the decision goes out against that version, so a change in
    /// between comes back as a conflict to look at instead of silently applying or vanishing.
    input_for: Option<(String, u64)>,
    /// The incidents version `alert_new` last looked at.
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
    /// The cameras near the open incident: (where it is, the camera list it came from) and
    /// (index in the camera list, distance), nearest first.
    nearby: Option<(NearbyKey, Vec<(usize, f64)>)>,
    /// Why the desk is read-only when it is not a leader's role (nobody signed in, no operator
    /// role, no sign-in on a real backend): a catalogue key.
    pub read_only_why: Option<&'static str>,
}

/// What the nearby cameras of the open incident depend on.
type NearbyKey = (String, [u64; 2], Option<crate::model::Timestamp>, usize);

impl Default for IncidentPanel {
    fn default() -> Self {
        IncidentPanel {
            filter: QueueFilter {
                open_only: true,
                ..Default::default()
            },
            sort: SortBy::Priority,
            selected: None,
            open: false,
            input: None,
            input_for: None,
            alerted_at: None,
            dismissed: None,
            text: String::new(),
            focus_search: false,
            focus_input: false,
            seen_urgent: None,
            sound: false,
            seen_selection: 0,
            nearby: None,
            read_only_why: None,
        }
    }
}

impl IncidentPanel {
    /// The ordered ids the queue shows with the panel's filter and order (from the console's
    /// shared index).
    pub fn ids(&self, cx: &FrameCtx) -> std::sync::Arc<Vec<String>> {
        let cache = cx.caches.get::<QueueCache>();
        let mut queue = cache.lock(&cx.store);
        let rows = queue
            .select(&self.filter, self.sort, cx.caches.frame())
            .rows;
        std::sync::Arc::new(
            rows.iter()
                .filter_map(|&p| queue.index().row_at(p).map(|r| r.id.clone()))
                .collect(),
        )
    }

    /// Draws the panel. The selection is the console's: a choice made elsewhere (a map tile)
    /// shows here, and a choice made here is sent as a command for every view.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        read_only: bool,
        commands: &mut Vec<Command>,
    ) {
        let shared = &cx.view;
        if shared.generation != self.seen_selection {
            // Chosen elsewhere since this panel last looked (or our own choice, applied): follow.
            self.seen_selection = shared.generation;
            self.selected.clone_from(&shared.incident);
        }
        self.show_inner(ui, cx, read_only, commands);
        // Chosen here (this frame, or in code between frames): every view is told.
        if self.selected != shared.incident {
            commands.push(Command::SelectIncident(self.selected.clone()));
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
            let s = cx.store.status(crate::sources::Resource::Incidents, cx.now);
            ui.label(s.reason_in(cx.lang).unwrap_or_default());
            return;
        };
        let cache = cx.caches.get::<QueueCache>();
        let mut queue = cache.lock(&cx.store);
        let selection = queue.select(&self.filter, self.sort, cx.caches.frame());
        let rows = selection.rows;
        self.alert_new(cx, &queue, &rows);
        if self.input.is_some()
            && self.input_for.as_ref().map(|(id, _)| id) != self.selected.as_ref()
        {
            self.input = None;
            self.text.clear();
        }
        let overdue = queue.overdue(&self.filter, self.sort, cx.now);
        self.header(ui, cx, rows.len(), overdue, selection.preparing, commands);
        if read_only {
            // Why: a leader's role, or the desk's sign-in (set by the app).
            let why = self.read_only_why.unwrap_or("panel.read_only");
            ui.label(RichText::new(cx.t(why)).italics());
        }
        self.refusal(ui, cx);
        self.filters(ui, cx);
        self.keyboard(ui, cx, (&rows, queue.index()), map, read_only, commands);
        let list_height = if self.open {
            (ui.available_height() * 0.38).max(120.0)
        } else {
            ui.available_height()
        };
        self.list(ui, cx, &rows, map, &queue, list_height);
        drop(queue);
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

    fn header(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        n: usize,
        overdue: usize,
        preparing: bool,
        commands: &mut Vec<Command>,
    ) {
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
                    ("n", &format::integer(cx.lang, n as i64)),
                    ("overdue", &overdue),
                ],
            ));
            if preparing {
                ui.label(RichText::new(cx.t("queue.preparing")).italics());
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            }
        });
    }

    /// The last action the outbox could not record, until dismissed.
    fn refusal(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some((seq, id, reason)) = cx
            .store
            .refused
            .as_ref()
            .filter(|r| self.dismissed != Some(r.0))
        else {
            return;
        };
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

    /// A new urgent incident plays the alert once (when enabled); those present at start are
    /// not new.
    fn alert_new(&mut self, cx: &FrameCtx, queue: &QueueState, rows: &[u32]) {
        // Only a change of the incidents can bring a new one.
        let version = cx.store.incidents_version();
        if self.alerted_at == Some(version) {
            return;
        }
        self.alerted_at = Some(version);
        let urgent: Vec<&String> = rows
            .iter()
            .filter_map(|&p| queue.index().row_at(p))
            .filter(|r| is_new_and_urgent(r, cx.now))
            .map(|r| &r.id)
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
