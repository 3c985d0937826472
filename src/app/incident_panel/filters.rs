//! The queue's search box and filters. Each filter's label comes before its drop-down, in a grid
//! of two label and drop-down pairs a row, so a label never reads as the next field's; the label
//! also names the drop-down for screen readers.

use super::IncidentPanel;
use crate::context::FrameCtx;
use crate::incidents::queue::SortBy;
use crate::model::{IncidentSource, IncidentStatus, Priority};
use crate::tiles::incidents::{priority_key, status_key};

/// Width of a filter's drop-down (its choice is cut with "…" when longer).
const COMBO_WIDTH: f32 = 130.0;

/// A label and its drop-down: two cells of the filter grid.
fn labelled_combo(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    selected: String,
    add: impl FnOnce(&mut egui::Ui),
) {
    let name = ui.label(label);
    egui::ComboBox::from_id_salt(id)
        .width(COMBO_WIDTH)
        .truncate()
        .selected_text(selected)
        .show_ui(ui, add)
        .response
        .labelled_by(name.id);
}

/// A filter that keeps one value of `options` or all of them (an empty list).
fn one_or_all<T: PartialEq + Clone>(
    ui: &mut egui::Ui,
    cx: &FrameCtx,
    (id, label): (&str, &str),
    chosen: &mut Vec<T>,
    options: &[(T, String)],
) {
    let selected = chosen
        .first()
        .and_then(|c| options.iter().find(|(v, _)| v == c))
        .map_or_else(|| cx.t("panel.all").to_owned(), |(_, n)| n.clone());
    labelled_combo(ui, id, label, selected, |ui| {
        if ui
            .selectable_label(chosen.is_empty(), cx.t("panel.all"))
            .clicked()
        {
            chosen.clear();
        }
        for (value, name) in options {
            if ui
                .selectable_label(chosen.len() == 1 && chosen[0] == *value, name)
                .clicked()
            {
                *chosen = vec![value.clone()];
            }
        }
    });
}

fn source_key(s: IncidentSource) -> &'static str {
    match s {
        IncidentSource::Citizen => "source_kind.citizen",
        IncidentSource::Soc => "source_kind.soc",
        IncidentSource::Camera => "source_kind.camera",
        IncidentSource::Police => "source_kind.police",
        IncidentSource::Hotline => "source_kind.hotline",
    }
}

fn sort_key(s: SortBy) -> &'static str {
    match s {
        SortBy::Priority => "panel.sort_priority",
        SortBy::Due => "panel.sort_due",
        SortBy::Arrival => "panel.sort_arrival",
    }
}

impl IncidentPanel {
    pub(super) fn filters(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let search = egui::TextEdit::singleline(&mut self.filter.query)
            .hint_text(cx.t("panel.search_hint"))
            .desired_width(f32::INFINITY);
        let r = ui.add(search);
        if self.focus_search {
            r.request_focus();
            self.focus_search = false;
        }
        egui::Grid::new("queue-filters")
            .num_columns(4)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                self.status_filter(ui, cx);
                let priorities: Vec<(Priority, String)> = [
                    Priority::Critical,
                    Priority::High,
                    Priority::Normal,
                    Priority::Low,
                ]
                .into_iter()
                .map(|p| (p, cx.t(priority_key(p)).to_owned()))
                .collect();
                one_or_all(
                    ui,
                    cx,
                    ("f-priority", cx.t("panel.priority")),
                    &mut self.filter.priorities,
                    &priorities,
                );
                ui.end_row();
                let categories: Vec<(String, String)> = cx
                    .store
                    .categories
                    .data
                    .iter()
                    .flatten()
                    .map(|c| {
                        let name = if cx.lang == crate::i18n::Lang::Vi {
                            &c.name_vi
                        } else {
                            &c.name_en
                        };
                        (c.id.clone(), name.clone())
                    })
                    .collect();
                one_or_all(
                    ui,
                    cx,
                    ("f-category", cx.t("panel.category")),
                    &mut self.filter.categories,
                    &categories,
                );
                let units: Vec<(String, String)> = cx
                    .store
                    .units
                    .data
                    .iter()
                    .flatten()
                    .filter(|u| u.parent_id.is_some())
                    .map(|u| (u.id.clone(), u.name.clone()))
                    .collect();
                one_or_all(
                    ui,
                    cx,
                    ("f-unit", cx.t("panel.unit")),
                    &mut self.filter.units,
                    &units,
                );
                ui.end_row();
                let sources: Vec<(IncidentSource, String)> = [
                    IncidentSource::Citizen,
                    IncidentSource::Soc,
                    IncidentSource::Camera,
                    IncidentSource::Police,
                    IncidentSource::Hotline,
                ]
                .into_iter()
                .map(|s| (s, cx.t(source_key(s)).to_owned()))
                .collect();
                one_or_all(
                    ui,
                    cx,
                    ("f-source", cx.t("panel.source")),
                    &mut self.filter.sources,
                    &sources,
                );
                let sort = &mut self.sort;
                labelled_combo(
                    ui,
                    "f-sort",
                    cx.t("panel.sort"),
                    cx.t(sort_key(*sort)).to_owned(),
                    |ui| {
                        for s in [SortBy::Priority, SortBy::Due, SortBy::Arrival] {
                            ui.selectable_value(sort, s, cx.t(sort_key(s)));
                        }
                    },
                );
                ui.end_row();
            });
    }

    /// Open ones (the default), all, or one status.
    fn status_filter(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let f = &mut self.filter;
        let current = match (f.open_only, f.statuses.first()) {
            (true, _) => cx.t("panel.open_only").to_owned(),
            (false, Some(s)) => cx.t(status_key(*s)).to_owned(),
            (false, None) => cx.t("panel.all").to_owned(),
        };
        labelled_combo(ui, "f-status", cx.t("panel.status"), current, |ui| {
            if ui
                .selectable_label(f.open_only, cx.t("panel.open_only"))
                .clicked()
            {
                f.open_only = true;
                f.statuses.clear();
            }
            if ui
                .selectable_label(!f.open_only && f.statuses.is_empty(), cx.t("panel.all"))
                .clicked()
            {
                f.open_only = false;
                f.statuses.clear();
            }
            for s in [
                IncidentStatus::Received,
                IncidentStatus::Verified,
                IncidentStatus::Forwarded,
                IncidentStatus::InProgress,
                IncidentStatus::Resolved,
                IncidentStatus::Rejected,
            ] {
                if ui
                    .selectable_label(f.statuses == [s], cx.t(status_key(s)))
                    .clicked()
                {
                    f.open_only = false;
                    f.statuses = vec![s];
                }
            }
        });
    }
}
