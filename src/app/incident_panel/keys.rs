//! The queue's keyboard: j/k or arrows move, Enter opens, / searches, Esc goes back, and the
//! action keys (v verify, f forward, s start, r resolve, x reject, n note). Keys act only when no
//! text field has the keyboard (a clicked row may hold the focus).

use egui::Key;

use super::{Command, IncidentPanel};
use crate::context::FrameCtx;
use crate::incidents::queue::QueueIndex;
use crate::model::{ActionKind, Incident};

impl IncidentPanel {
    pub(super) fn keyboard(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        (rows, index): (&[u32], &QueueIndex),
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
            .and_then(|s| index.position(s))
            .and_then(|p| rows.iter().position(|&x| x == p));
        let id_at = |k: usize| {
            rows.get(k)
                .and_then(|&p| index.row_at(p))
                .map(|r| r.id.clone())
        };
        let pressed = |k: Key| ui.input(|i| i.key_pressed(k));
        if pressed(Key::J) || pressed(Key::ArrowDown) {
            let next = pos.map_or(0, |p| (p + 1).min(rows.len().saturating_sub(1)));
            self.selected = id_at(next);
        }
        if pressed(Key::K) || pressed(Key::ArrowUp) {
            let prev = pos.map_or(0, |p| p.saturating_sub(1));
            self.selected = id_at(prev);
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
        if inc.origin.as_ref().is_some_and(|o| !o.writable) {
            return;
        }
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
}
