//! `incidents`: the incident queue on the wall (read-only: the operator acts from the desk).
//! Only the rows that fit are laid out, so it stays smooth with 100,000 incidents. Each row says
//! its priority with a shape and a word, the due time in words, and "overdue" with a triangle;
//! a new high-priority incident pulses for two minutes.

use egui::{Align2, Color32, Rect, Shape, Stroke, pos2, vec2};
use schemars::JsonSchema;
use serde::Deserialize;

use super::TileView;
use crate::context::queue::QueueCache;
use crate::context::{FrameCtx, TileState};
use crate::i18n::{Lang, tr};
use crate::incidents::queue::{QueueFilter, Row, SortBy, due_words};
use crate::model::{IncidentStatus, Priority, Timestamp};
use crate::sources::Resource;
use crate::status::DataStatus;
use crate::ui::theme;

/// Options of an `incidents` tile.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentsOptions {
    /// priority (default), due or arrival.
    #[serde(default)]
    pub sort: SortBy,
    /// Which incidents to show (default: the open ones).
    #[serde(default = "open_filter")]
    pub filter: QueueFilter,
}

fn open_filter() -> QueueFilter {
    QueueFilter {
        open_only: true,
        ..Default::default()
    }
}

/// How long a new high-priority incident pulses.
pub const NEW_FOR: chrono::Duration = chrono::Duration::minutes(2);

pub fn is_new_and_urgent(row: &Row, now: Timestamp) -> bool {
    row.priority >= Priority::High && now - row.received_at < NEW_FOR && !row.status.is_closed()
}

pub fn priority_key(p: Priority) -> &'static str {
    match p {
        Priority::Critical => "priority.critical",
        Priority::High => "priority.high",
        Priority::Normal => "priority.normal",
        Priority::Low => "priority.low",
    }
}

pub fn status_key(s: IncidentStatus) -> &'static str {
    match s {
        IncidentStatus::Received => "incident_status.received",
        IncidentStatus::Verified => "incident_status.verified",
        IncidentStatus::Forwarded => "incident_status.forwarded",
        IncidentStatus::InProgress => "incident_status.in_progress",
        IncidentStatus::Resolved => "incident_status.resolved",
        IncidentStatus::Rejected => "incident_status.rejected",
    }
}

pub fn priority_color(p: Priority) -> Color32 {
    match p {
        Priority::Critical => theme::colors::ERROR,
        Priority::High => theme::colors::STALE,
        Priority::Normal => theme::colors::ACCENT,
        Priority::Low => theme::colors::OFFLINE,
    }
}

/// A priority mark: more bars for more urgency (shape, not colour alone).
pub fn paint_priority(painter: &egui::Painter, left_center: egui::Pos2, h: f32, p: Priority) {
    let bars = match p {
        Priority::Critical => 4,
        Priority::High => 3,
        Priority::Normal => 2,
        Priority::Low => 1,
    };
    let w = h * 0.16;
    for b in 0..4 {
        let bh = h * (0.3 + 0.17 * b as f32);
        let r = Rect::from_min_size(
            pos2(
                left_center.x + b as f32 * w * 1.5,
                left_center.y + h * 0.5 - bh,
            ),
            vec2(w, bh),
        );
        if b < bars {
            painter.rect_filled(r, 0.0, priority_color(p));
        } else {
            painter.rect_stroke(
                r,
                0.0,
                Stroke::new(1.0, theme::colors::TILE_BORDER),
                egui::StrokeKind::Inside,
            );
        }
    }
}

/// The overdue mark: a triangle with the word.
pub fn overdue_label(lang: Lang) -> String {
    tr(lang, "queue.overdue").to_uppercase()
}

/// How the rows of the queue are drawn this frame.
struct Rows<'a> {
    painter: &'a egui::Painter,
    cx: &'a FrameCtx,
    font: &'a egui::FontId,
    small: &'a egui::FontId,
    pad: f32,
    pulse: f32,
}

impl Rows<'_> {
    /// Row `k` at `r`: priority, title (cut with "…"), due time, overdue, new; returns whether
    /// it pulses as new.
    fn paint(
        &self,
        r: Rect,
        k: usize,
        row: &Row,
        inc: &crate::model::Incident,
        row_h: f32,
    ) -> bool {
        let overdue = row.is_overdue(self.cx.data_now());
        let new = is_new_and_urgent(row, self.cx.data_now());
        let bg = if new {
            theme::colors::ERROR.gamma_multiply(0.15 + 0.35 * self.pulse)
        } else if k.is_multiple_of(2) {
            theme::colors::TILE_TITLE_BAR.gamma_multiply(0.6)
        } else {
            Color32::TRANSPARENT
        };
        self.painter.rect_filled(r, 2.0, bg);
        paint_priority(
            self.painter,
            pos2(r.left() + self.pad * 0.3, r.top() + row_h * 0.32),
            self.font.size * 0.9,
            row.priority,
        );
        let x = r.left() + self.pad * 0.3 + self.font.size * 1.3;
        let line2 = format!(
            "{} · {} · {}",
            self.cx.t(priority_key(row.priority)),
            self.cx.t(status_key(row.status)),
            crate::format::short_unit_name_of(
                &inc.unit_id,
                self.cx.store.units.data.as_deref().unwrap_or(&[])
            )
        );
        let due = due_words(
            self.cx.lang,
            row.due_at,
            self.cx.data_now(),
            row.status.is_closed(),
        );
        let right = self.painter.text(
            pos2(r.right() - self.pad * 0.3, r.top() + row_h * 0.28),
            Align2::RIGHT_CENTER,
            &due,
            self.small.clone(),
            if overdue {
                theme::colors::ERROR
            } else {
                theme::colors::TEXT_DIM
            },
        );
        let mut title_right = right.left() - self.pad * 0.4;
        if overdue {
            let word = overdue_label(self.cx.lang);
            let w = self.painter.text(
                pos2(title_right, r.top() + row_h * 0.28),
                Align2::RIGHT_CENTER,
                &word,
                theme::bold_font(self.small.size),
                theme::colors::ERROR,
            );
            let c = pos2(w.left() - self.small.size * 0.7, r.top() + row_h * 0.28);
            let s = self.small.size * 0.45;
            self.painter.add(Shape::convex_polygon(
                vec![
                    c + vec2(0.0, -s),
                    c + vec2(s, s * 0.8),
                    c + vec2(-s, s * 0.8),
                ],
                theme::colors::ERROR,
                Stroke::NONE,
            ));
            title_right = c.x - s - self.pad * 0.3;
        }
        if new {
            self.painter.text(
                pos2(r.right() - self.pad * 0.3, r.top() + row_h * 0.72),
                Align2::RIGHT_CENTER,
                self.cx.t("queue.new").to_uppercase(),
                theme::bold_font(self.small.size),
                theme::colors::TEXT,
            );
        }
        // Cut with "…" where it does not fit, never mid-word without a sign.
        let (title, _) = crate::ui::widgets::elided(
            self.painter,
            &inc.title,
            self.font.clone(),
            theme::colors::TEXT,
            (title_right - x).max(0.0),
        );
        self.painter.galley(
            pos2(x, r.top() + row_h * 0.28 - title.size().y / 2.0),
            title,
            theme::colors::TEXT,
        );
        self.painter
            .with_clip_rect(Rect::from_min_max(
                pos2(x, r.top()),
                pos2(r.right(), r.bottom()),
            ))
            .text(
                pos2(x, r.top() + row_h * 0.72),
                Align2::LEFT_CENTER,
                line2,
                self.small.clone(),
                theme::colors::TEXT_DIM,
            );
        new
    }
}

impl TileView for IncidentsOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        cx.store.status(Resource::Incidents, cx.data_now())
    }

    fn paint_body(
        &self,
        ui: &mut egui::Ui,
        rect: Rect,
        scale: f32,
        cx: &FrameCtx,
        _state: &mut TileState,
    ) {
        let Some(map) = cx.store.incidents.data.as_ref() else {
            return;
        };
        let cache = cx.caches.get::<QueueCache>();
        let mut queue = cache.lock(&cx.store);
        let selection = queue.select(&self.filter, self.sort, cx.caches.frame());
        let rows = selection.rows;
        let overdue_count = queue.overdue(&self.filter, self.sort, cx.data_now());
        let painter = ui.painter_at(rect);
        let t = theme::WALL;
        let pad = t.padding * scale;
        let inner = rect.shrink(pad * 0.6);
        let font = theme::prop_font((t.caption * scale * 1.05).max(5.0));
        let small = theme::prop_font((t.caption * scale * 0.85).max(4.0));
        let row_h = font.size * 2.5;
        let header = cx.t_args(
            "queue.summary",
            &[
                ("n", &crate::format::integer(cx.lang, rows.len() as i64)),
                ("overdue", &overdue_count),
            ],
        );
        painter.text(
            inner.left_top(),
            Align2::LEFT_TOP,
            header,
            small.clone(),
            theme::colors::TEXT_DIM,
        );
        let top = inner.top() + small.size * 1.5;
        let visible = ((inner.bottom() - top) / row_h).floor().max(0.0) as usize;
        let (pulse, animate) = cx.pulse(ui);
        let mut any_new = false;
        // Only the rows that fit are looked at and laid out.
        let draw = Rows {
            painter: &painter,
            cx,
            font: &font,
            small: &small,
            pad,
            pulse,
        };
        for (k, &p) in rows.iter().take(visible).enumerate() {
            let Some((row, inc)) = queue
                .index()
                .row_at(p)
                .and_then(|row| Some((row, map.get(&row.id)?)))
            else {
                continue;
            };
            let y = top + k as f32 * row_h;
            let r = Rect::from_min_size(
                pos2(inner.left(), y),
                vec2(inner.width(), row_h - 2.0 * scale),
            );
            any_new |= draw.paint(r, k, row, inc, row_h);
        }
        if any_new && animate {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
        if selection.preparing {
            // The index is built off the UI thread: look again soon.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        if rows.is_empty() {
            crate::ui::widgets::paint_centered_text(
                &painter,
                inner,
                cx.t(if selection.preparing {
                    "queue.preparing"
                } else {
                    "queue.empty"
                }),
                font,
                theme::colors::TEXT_DIM,
            );
        }
    }
}
