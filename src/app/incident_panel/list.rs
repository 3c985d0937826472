//! The queue's list: only the visible rows are laid out; each row says its priority with a
//! shape and a word, the due time in words, "overdue" with a triangle, whether an action is
//! being sent, and its title cut with "…" when it does not fit (the whole title on hover).

use std::collections::HashMap;

use super::IncidentPanel;
use crate::context::FrameCtx;
use crate::context::queue::QueueState;
use crate::incidents::queue::{Row, due_words};
use crate::model::Incident;
use crate::outbox::EntryState;
use crate::tiles::incidents::{is_new_and_urgent, priority_key, status_key};
use crate::ui::{theme, widgets};

const ROW_H: f32 = 44.0;

impl IncidentPanel {
    pub(super) fn list(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        rows: &[u32],
        map: &HashMap<String, Incident>,
        queue: &QueueState,
        height: f32,
    ) {
        let selected = self.selected.clone();
        egui::ScrollArea::vertical()
            .id_salt("queue-list")
            .max_height(height)
            .auto_shrink([false, false])
            .show_rows(ui, ROW_H, rows.len(), |ui, range| {
                for &p in &rows[range] {
                    let Some(row) = queue.index().row_at(p) else {
                        continue;
                    };
                    let Some(inc) = map.get(&row.id) else {
                        continue;
                    };
                    let id = &row.id;
                    let is_sel = selected.as_deref() == Some(id.as_str());
                    let resp = paint_row(ui, cx, row, inc, is_sel);
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
    }
}

/// One row of the queue; its response (clicks, and the whole title on hover when it was cut).
fn paint_row(
    ui: &mut egui::Ui,
    cx: &FrameCtx,
    row: &Row,
    inc: &Incident,
    selected: bool,
) -> egui::Response {
    let pending = cx
        .store
        .outbox
        .iter()
        .any(|e| e.incident_id == inc.id && e.state == EntryState::Pending);
    let (rect, resp) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), ROW_H - 2.0),
        egui::Sense::click(),
    );
    let painter = ui.painter_at(rect);
    let bg = if selected {
        theme::colors::ACCENT.gamma_multiply(0.35)
    } else if is_new_and_urgent(row, cx.now) {
        let (pulse, animate) = cx.pulse(ui);
        if animate {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
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
    let limit = paint_due(&painter, cx, row, rect);
    let (title, cut) = widgets::elided(
        &painter,
        &inc.title,
        egui::FontId::proportional(14.0),
        theme::colors::TEXT,
        (limit - x).max(0.0),
    );
    painter.galley(egui::pos2(x, rect.top() + 3.0), title, theme::colors::TEXT);
    let mut line2 = format!(
        "{} · {} · {} · {}",
        inc.id,
        cx.t(priority_key(row.priority)),
        cx.t(status_key(row.status)),
        crate::format::short_unit_name_of(
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
    if cut {
        resp.on_hover_text(&inc.title)
    } else {
        resp
    }
}

/// The due time (and "overdue" with its triangle) at the row's right; returns where the title
/// must end.
fn paint_due(painter: &egui::Painter, cx: &FrameCtx, row: &Row, rect: egui::Rect) -> f32 {
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
    limit
}
