//! The workflow actions on the selected incident: the buttons and keys start them, those that
//! need words (forward: a unit picked with type-ahead; reject: a reason; note) open an input, and
//! every decision goes out as a command against the version the operator saw.

use egui::Key;

use super::{Command, IncidentPanel, Input};
use crate::context::FrameCtx;
use crate::incidents::{search, workflow};
use crate::model::{ActionKind, ActionRequest, Incident};
use crate::sources::Request;

pub(super) fn action_key(a: ActionKind) -> &'static str {
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
    pub(super) fn act(
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
        // Who made it (the person signed in) is stamped by the app when it applies the command.
        commands.push(Command::Backend(Request::Act {
            incident_id: incident.id.clone(),
            request,
            author: None,
        }));
        self.input = None;
        self.text.clear();
    }

    /// Starts an action from a key or a button: those that need words open an input.
    pub(super) fn begin(
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

    pub(super) fn actions(
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
                        if cx.lang == crate::i18n::Lang::Vi {
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
}
