//! Arrange mode's side panel: the file and its undo/redo/save, the palette of tile kinds, the
//! selected tile's form (title, place, source and the kind's options, with pickers that read
//! the backend's own lists), the tiles that no longer fit, and the monitors.

use egui::RichText;

use super::ArrangeMode;
use crate::context::FrameCtx;
use crate::incidents::search;
use crate::tiles::TileKind;
use crate::ui::theme;
use crate::wall::edit::{Arrangement, OpenError};
use crate::wall::schema::{self, FieldType, OptionField};

/// Text being typed in the form, kept between frames until it is committed (Enter or leaving
/// the field).
#[derive(Default)]
pub(super) struct FormBuffers {
    /// The tile the buffers belong to.
    for_id: Option<String>,
    title: String,
    /// Option key → the TOML value being typed.
    options: Vec<(String, String)>,
    /// What is being typed in the text fields, by option key.
    typed: Vec<(String, String)>,
    /// In a scene: the keys the scene changes (only those can be dropped from it).
    changed: Vec<String>,
    /// Whether the form edits a scene.
    in_scene: bool,
    /// The pickers' search texts (the list of the kind, then units).
    find: [String; 2],
    /// Monitor renames being typed, by monitor.
    renames: Vec<(String, String)>,
}

impl FormBuffers {
    /// Whether an option's "drop" button is offered: a written option of the base layout, or
    /// a change the scene makes.
    fn clearable(&self, key: &str, written: bool) -> bool {
        if self.in_scene {
            self.changed.iter().any(|k| k == key)
        } else {
            written
        }
    }

    /// The text being typed for option `key`, started from its written value (a string's
    /// words without quotes when `text`).
    fn buffer(&mut self, key: &str, written: Option<&str>, text: bool) -> &mut String {
        let i = match self.typed.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                let start = written.map(|w| if text { unquote(w) } else { w.to_owned() });
                self.typed.push((key.to_owned(), start.unwrap_or_default()));
                self.typed.len() - 1
            }
        };
        &mut self.typed[i].1
    }
}

/// A TOML string's words (other values as written).
fn unquote(v: &str) -> String {
    v.parse::<toml_edit::Value>()
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| v.to_owned())
}

/// The input of one option by its type, showing the written value or else the kind's default;
/// returns the value to write (as TOML) when the technician changed it.
fn field_input(
    ui: &mut egui::Ui,
    f: &OptionField,
    written: Option<&str>,
    form: &mut FormBuffers,
) -> (egui::Response, Option<String>) {
    let shown = written.map(str::to_owned).or_else(|| f.default.clone());
    let parsed = |d| shown.as_deref().and_then(|c| c.parse().ok()).unwrap_or(d);
    let settled = |r: &egui::Response| r.drag_stopped() || (r.changed() && !r.dragged());
    match &f.ty {
        FieldType::Bool => {
            let mut v = shown.as_deref() == Some("true");
            let r = ui.add(egui::Checkbox::without_text(&mut v));
            let out = r.changed().then(|| v.to_string());
            (r, out)
        }
        FieldType::Integer { min, max } => {
            let mut v: i64 = parsed(min.unwrap_or(0));
            let range = min.unwrap_or(i64::MIN)..=max.unwrap_or(i64::MAX);
            let r = ui.add(egui::DragValue::new(&mut v).range(range));
            let out = settled(&r).then(|| v.to_string());
            (r, out)
        }
        FieldType::Number => {
            let mut v: f64 = shown.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0.0);
            let r = ui.add(egui::DragValue::new(&mut v).speed(0.1));
            let out = settled(&r).then(|| toml_edit::Value::from(v).to_string());
            (r, out)
        }
        FieldType::Choice(choices) => {
            let now = shown
                .as_deref()
                .map(unquote)
                .unwrap_or_else(|| "—".to_owned());
            let mut picked = None;
            let r = egui::ComboBox::from_id_salt(("arrange-choice", &f.key))
                .selected_text(now.clone())
                .show_ui(ui, |ui| {
                    for c in choices {
                        if ui.selectable_label(*c == now, c).clicked() {
                            picked = Some(toml_edit::Value::from(c.as_str()).to_string());
                        }
                    }
                })
                .response;
            (r, picked)
        }
        FieldType::Text | FieldType::Toml => {
            let text = f.ty == FieldType::Text;
            let buf = form.buffer(&f.key, written, text);
            let r = ui.add(
                egui::TextEdit::singleline(buf)
                    .code_editor()
                    .desired_width(200.0),
            );
            let out = (r.lost_focus() && !buf.trim().is_empty()).then(|| {
                if text {
                    toml_edit::Value::from(buf.as_str()).to_string()
                } else {
                    buf.clone()
                }
            });
            (r, out)
        }
    }
}

/// One item of a picker: id, name, group (a sector, an owner).
type Choice = (String, String, String);

/// A file that cannot be arranged: its errors, and how to go on.
pub(super) fn not_editable(ui: &mut egui::Ui, cx: &FrameCtx, e: &OpenError) {
    ui.heading(cx.t("arrange.not_editable"));
    match e {
        OpenError::Layout(errors) => {
            for d in &errors.0 {
                ui.label(
                    RichText::new(d.say(cx.lang))
                        .monospace()
                        .color(theme::colors::ERROR),
                );
            }
        }
        OpenError::Unsupported(what) => {
            ui.label(
                crate::text::Text::key("arrange.refused.unsupported")
                    .arg("what", what)
                    .say(cx.lang),
            );
        }
    }
    ui.label(cx.t("arrange.not_editable_hint"));
}

fn kind_label(cx: &FrameCtx, k: TileKind) -> &'static str {
    cx.t(match k {
        TileKind::Clock => "arrange.kind.clock",
        TileKind::Text => "arrange.kind.text",
        TileKind::Sources => "arrange.kind.sources",
        TileKind::Chart => "arrange.kind.chart",
        TileKind::Kpi => "arrange.kind.kpi",
        TileKind::Providers => "arrange.kind.providers",
        TileKind::Incidents => "arrange.kind.incidents",
        TileKind::Map => "arrange.kind.map",
        TileKind::Camera => "arrange.kind.camera",
    })
}

impl ArrangeMode {
    pub(super) fn panel(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some(Ok(a)) = &self.doc else {
            return;
        };
        let modified = a.is_modified();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(a.path().display().to_string()).monospace());
            if modified {
                ui.label(RichText::new(cx.t("arrange.modified")).color(theme::colors::STALE));
            }
        });
        let (can_undo, can_redo) = (a.can_undo(), a.can_redo());
        let undo_tip = a.undo_label().map(|t| t.say(cx.lang)).unwrap_or_default();
        let redo_tip = a.redo_label().map(|t| t.say(cx.lang)).unwrap_or_default();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(can_undo, egui::Button::new(cx.t("arrange.undo")))
                .on_hover_text(&undo_tip)
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(can_redo, egui::Button::new(cx.t("arrange.redo")))
                .on_hover_text(&redo_tip)
                .clicked()
            {
                self.redo();
            }
            if ui
                .add_enabled(modified, egui::Button::new(cx.t("arrange.save_button")))
                .clicked()
            {
                self.begin_save(None, cx);
            }
        });
        ui.horizontal(|ui| {
            let l = ui.label(cx.t("arrange.save_as_name"));
            ui.add(egui::TextEdit::singleline(&mut self.save_as).desired_width(160.0))
                .labelled_by(l.id);
            if ui.button(cx.t("arrange.save_as")).clicked() {
                let to = self
                    .arrangement()
                    .map(|a| a.path().with_file_name(self.save_as.trim()));
                if let Some(to) = to {
                    self.begin_save(Some(&to), cx);
                }
            }
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.palette(ui, cx);
                ui.separator();
                self.stranded_list(ui, cx);
                self.scenes_section(ui, cx);
                ui.separator();
                self.tile_form(ui, cx);
                ui.separator();
                self.monitors(ui, cx);
            });
    }

    fn palette(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        ui.label(RichText::new(cx.t("arrange.palette")).strong());
        let prefer = self
            .selected
            .as_ref()
            .and_then(|id| self.arrangement()?.tile(id))
            .map(|t| t.monitor);
        ui.horizontal_wrapped(|ui| {
            for kind in TileKind::ALL {
                if ui.button(kind_label(cx, kind)).clicked() {
                    let mut new = None;
                    let title = kind_label(cx, kind).to_owned();
                    self.try_edit(|a| {
                        a.add_tile(kind, prefer.as_deref(), &title)
                            .map(|id| new = Some(id))
                    });
                    if new.is_some() {
                        self.selected = new;
                    }
                }
            }
        });
    }

    /// Which scene is being edited (or the base layout), and the scenes' own fields.
    fn scenes_section(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some(a) = self.arrangement() else {
            return;
        };
        let scenes = a.scenes();
        if self
            .scene
            .as_ref()
            .is_some_and(|s| !scenes.iter().any(|(n, _)| n == s))
        {
            self.scene = None;
        }
        ui.label(RichText::new(cx.t("arrange.scenes")).strong());
        let mut pick = None;
        ui.horizontal(|ui| {
            let l = ui.label(cx.t("arrange.editing"));
            let shown = self
                .scene
                .as_ref()
                .and_then(|n| scenes.iter().find(|(sn, _)| sn == n))
                .map_or_else(|| cx.t("scene.base").to_owned(), |(_, t)| t.clone());
            egui::ComboBox::from_id_salt("arrange-scene")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(self.scene.is_none(), cx.t("scene.base"))
                        .clicked()
                    {
                        pick = Some(None);
                    }
                    for (n, t) in &scenes {
                        let on = self.scene.as_deref() == Some(n.as_str());
                        if ui.selectable_label(on, format!("{t} · {n}")).clicked() {
                            pick = Some(Some(n.clone()));
                        }
                    }
                })
                .response
                .labelled_by(l.id);
            if ui.button(cx.t("arrange.scene_add")).clicked() {
                let mut made = None;
                let title = cx.t("arrange.scene_new_title").to_owned();
                self.try_edit(|a| a.add_scene(&title).map(|n| made = Some(n)));
                if made.is_some() {
                    pick = Some(made);
                }
            }
        });
        if let Some(p) = pick {
            self.scene = p;
            self.form.for_id = None;
            self.scene_title = None;
        }
        let Some(name) = self.scene.clone() else {
            return;
        };
        let title = scenes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        ui.horizontal(|ui| {
            let l = ui.label(cx.t("arrange.scene_title"));
            let buf = self.scene_title.get_or_insert_with(|| title.clone());
            let r = ui
                .add(egui::TextEdit::singleline(buf).desired_width(180.0))
                .labelled_by(l.id);
            if r.lost_focus() && *buf != title {
                let t = buf.clone();
                self.try_edit(|a| a.set_scene_title(&name, &t));
            }
            if ui.button(cx.t("arrange.scene_remove")).clicked()
                && self.try_edit(|a| a.remove_scene(&name))
            {
                self.scene = None;
                self.scene_title = None;
                self.form.for_id = None;
            }
        });
        ui.label(RichText::new(cx.t("arrange.scene_hint")).color(theme::colors::TEXT_DIM));
    }

    fn stranded_list(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some(a) = self.arrangement() else {
            return;
        };
        let stranded: Vec<String> = a.stranded().iter().map(|s| s.id.clone()).collect();
        if stranded.is_empty() {
            return;
        }
        ui.label(
            RichText::new(cx.t("arrange.stranded"))
                .strong()
                .color(theme::colors::ERROR),
        );
        for id in stranded {
            ui.horizontal(|ui| {
                ui.label(RichText::new(&id).monospace());
                if ui.button(cx.t("arrange.place_free")).clicked() {
                    self.try_edit(|a| a.place_stranded(&id));
                }
                if ui.button(cx.t("arrange.remove")).clicked() {
                    self.try_edit(|a| a.remove_tile(&id));
                }
            });
        }
        ui.separator();
    }

    /// The selected tile's form. Numbers and choices apply at once; text applies on Enter or
    /// when the field is left.
    fn tile_form(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some(a) = self.arrangement() else {
            return;
        };
        let Some(t) = self.selected.as_ref().and_then(|id| a.tile(id)) else {
            ui.label(RichText::new(cx.t("arrange.select_hint")).color(theme::colors::TEXT_DIM));
            return;
        };
        let monitors = a.monitor_names();
        let scene = self.scene.clone();
        let (options, changed) = match &scene {
            Some(sc) => a.scene_options_of(sc, &t.id),
            None => (a.options_of(&t.id), Vec::new()),
        };
        let enlargeable = TileKind::ALL
            .into_iter()
            .any(|k| k.as_str() == t.kind && k.enlargeable());
        let enlarged = scene.as_ref().is_some_and(|sc| a.scene_enlarges(sc, &t.id));
        if self.form.for_id.as_deref() != Some(&t.id) {
            self.form = FormBuffers {
                for_id: Some(t.id.clone()),
                title: t.title.clone(),
                options,
                renames: std::mem::take(&mut self.form.renames),
                ..Default::default()
            };
        }
        ui.label(
            RichText::new(cx.t_args("arrange.tile", &[("id", &t.id), ("kind", &t.kind)])).strong(),
        );
        let id = t.id.clone();
        if let Some(sc) = &scene {
            // A scene changes options and enlarging only; places are the base layout's.
            ui.label(RichText::new(cx.t("arrange.scene_form_hint")).color(theme::colors::TEXT_DIM));
            if enlargeable {
                let mut on = enlarged;
                if ui
                    .checkbox(&mut on, cx.t("arrange.scene_enlarge"))
                    .changed()
                {
                    self.try_edit(|a| a.toggle_scene_enlarge(sc, &id));
                }
            }
            ui.label(RichText::new(cx.t("arrange.options")).strong());
            self.form.changed = changed;
            self.form.in_scene = true;
            self.option_fields(ui, cx, &id, &t.kind);
            return;
        }
        self.form.in_scene = false;
        egui::Grid::new("arrange-tile-form")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label(cx.t("arrange.field.title"));
                let r = ui
                    .text_edit_singleline(&mut self.form.title)
                    .labelled_by(l.id);
                if r.lost_focus() && self.form.title != t.title {
                    let title = self.form.title.clone();
                    self.try_edit(|a| a.set_title(&id, &title));
                }
                ui.end_row();
                let l = ui.label(cx.t("arrange.field.monitor"));
                let mut monitor = t.monitor.clone();
                egui::ComboBox::from_id_salt("arrange-monitor")
                    .selected_text(&monitor)
                    .show_ui(ui, |ui| {
                        for m in &monitors {
                            ui.selectable_value(&mut monitor, m.clone(), m);
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let mut cell = t.cell;
                for (label, v) in [
                    ("arrange.field.x", &mut cell.x),
                    ("arrange.field.y", &mut cell.y),
                    ("arrange.field.w", &mut cell.w),
                    ("arrange.field.h", &mut cell.h),
                ] {
                    let l = ui.label(cx.t(label));
                    ui.add(egui::DragValue::new(v).range(0..=crate::wall::layout::MAX_GRID))
                        .labelled_by(l.id);
                    ui.end_row();
                }
                if monitor != t.monitor || cell != t.cell {
                    let cell = if monitor != t.monitor {
                        // To another monitor: where it fits there, at its size if it can.
                        self.arrangement()
                            .and_then(|a| a.free_place(Some(&id), Some(&monitor), cell.w, cell.h))
                            .filter(|(m, _)| *m == monitor)
                            .map_or(cell, |(_, c)| c)
                    } else {
                        cell
                    };
                    self.try_edit(|a| a.place(&id, &monitor, cell));
                }
            });
        ui.add_space(4.0);
        ui.label(RichText::new(cx.t("arrange.options")).strong());
        self.option_fields(ui, cx, &id, &t.kind);
    }

    /// The kind's options as the layout schema describes them, each with a field of its type
    /// (a check box, a number with the schema's limits, a choice, text, or a TOML value for
    /// lists and tables), then options the schema does not know, kept as written. A value the
    /// kind refuses is refused with `layout check`'s words.
    fn option_fields(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, id: &str, kind: &str) {
        let Some(tile_kind) = TileKind::ALL.into_iter().find(|k| k.as_str() == kind) else {
            return;
        };
        let fields = schema::option_fields(tile_kind);
        let mut commit: Option<(String, String)> = None;
        let mut clear: Option<String> = None;
        let written = |form: &FormBuffers, key: &str| {
            form.options
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        egui::Grid::new("arrange-options")
            .num_columns(3)
            .show(ui, |ui| {
                for f in fields {
                    let name = if f.required {
                        format!("{} *", f.key)
                    } else {
                        f.key.clone()
                    };
                    let l = ui.label(RichText::new(name).monospace());
                    let current = written(&self.form, &f.key);
                    let (r, value) = field_input(ui, f, current.as_deref(), &mut self.form);
                    if let Some(v) = value {
                        commit = Some((f.key.clone(), v));
                    }
                    r.labelled_by(l.id);
                    if self.form.clearable(&f.key, current.is_some())
                        && ui.small_button(cx.t("arrange.option_clear")).clicked()
                    {
                        clear = Some(f.key.clone());
                    }
                    ui.end_row();
                }
                // Written options the schema does not know: kept as they are unless edited here
                // (`layout check` then says what is wrong with them).
                let unknown: Vec<String> = self
                    .form
                    .options
                    .iter()
                    .filter(|(k, _)| !fields.iter().any(|f| f.key == *k))
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in unknown {
                    let l = ui.label(
                        RichText::new(format!("{k} ?"))
                            .monospace()
                            .color(theme::colors::STALE),
                    );
                    let current = written(&self.form, &k);
                    let buf = self.form.buffer(&k, current.as_deref(), false);
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(buf)
                                .code_editor()
                                .desired_width(200.0),
                        )
                        .labelled_by(l.id);
                    if r.lost_focus() {
                        commit = Some((k.clone(), buf.clone()));
                    }
                    if ui.small_button(cx.t("arrange.option_clear")).clicked() {
                        clear = Some(k.clone());
                    }
                    ui.end_row();
                }
            });
        if let Some(picked) = self.pickers(ui, cx, kind) {
            commit = Some(picked);
        }
        let id = id.to_owned();
        // In a scene the change goes into the scene; the base layout keeps its own.
        let scene = self.scene.clone();
        if let Some((k, v)) = commit {
            let was = self
                .form
                .options
                .iter()
                .any(|(wk, wv)| *wk == k && *wv == v);
            let done = !was
                && match &scene {
                    Some(sc) => self.try_edit(|a| a.set_scene_option(sc, &id, &k, &v)),
                    None => self.try_edit(|a| a.set_option(&id, &k, &v)),
                };
            if done {
                self.form.for_id = None;
            }
        }
        if let Some(k) = clear {
            let done = match &scene {
                Some(sc) => self.try_edit(|a| a.clear_scene_option(sc, &id, &k)),
                None => self.try_edit(|a| a.clear_option(&id, &k)),
            };
            if done {
                self.form.for_id = None;
            }
        }
    }

    /// Pickers over the backend's lists: cameras for a camera tile; indicators (by sector) and
    /// units (historical ones marked) for a KPI or a chart. Searching ignores diacritics.
    /// Returns an option to set.
    fn pickers(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        kind: &str,
    ) -> Option<(String, String)> {
        let store = &cx.store;
        let cameras = || -> Vec<Choice> {
            store
                .cameras
                .data
                .iter()
                .flatten()
                .map(|c| (c.id.clone(), c.name.clone(), c.owner.clone()))
                .collect()
        };
        let indicators = || -> Vec<Choice> {
            store
                .indicators
                .data
                .iter()
                .flatten()
                .map(|i| {
                    let name = if cx.lang == crate::i18n::Lang::Vi {
                        &i.name_vi
                    } else {
                        &i.name_en
                    };
                    (i.id.clone(), name.clone(), i.sector.clone())
                })
                .collect()
        };
        let today = crate::format::to_vietnam_time(cx.now).date_naive();
        let units = || -> Vec<Choice> {
            store
                .units
                .data
                .iter()
                .flatten()
                .map(|u| {
                    let name = if u.valid_to.is_some_and(|d| d < today) {
                        format!("{} ({})", u.name, cx.t("arrange.unit_historical"))
                    } else {
                        u.name.clone()
                    };
                    (u.id.clone(), name, String::new())
                })
                .collect()
        };
        match kind {
            "camera" => self.list_picker(ui, cx, "camera", &cameras(), false, 0),
            "kpi" => {
                let a = self.list_picker(ui, cx, "indicator", &indicators(), false, 0);
                let b = self.list_picker(ui, cx, "unit", &units(), false, 1);
                a.or(b)
            }
            "chart" => {
                let a = self.list_picker(ui, cx, "indicators", &indicators(), true, 0);
                let b = self.list_picker(ui, cx, "units", &units(), true, 1);
                a.or(b)
            }
            _ => None,
        }
    }

    /// One picker: a search field and the list, grouped; the picked id is written as a string
    /// or, for an option that takes a list, as a list of it.
    fn list_picker(
        &mut self,
        ui: &mut egui::Ui,
        cx: &FrameCtx,
        key: &str,
        list: &[Choice],
        as_list: bool,
        slot: usize,
    ) -> Option<(String, String)> {
        if list.is_empty() {
            ui.label(
                RichText::new(cx.t_args("arrange.picker_empty", &[("key", &key)]))
                    .color(theme::colors::TEXT_DIM),
            );
            return None;
        }
        let mut picked = None;
        ui.collapsing(cx.t_args("arrange.picker", &[("key", &key)]), |ui| {
            let find = &mut self.form.find[slot];
            let f = ui.add(egui::TextEdit::singleline(find).hint_text(cx.t("arrange.picker_find")));
            f.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::TextInput, true, cx.t("arrange.picker_find"))
            });
            let q = search::fold(find);
            let mut groups: Vec<(&str, Vec<&Choice>)> = Vec::new();
            for item in list.iter().filter(|(id, name, _)| {
                q.is_empty() || search::matches(&search::fold(&format!("{id} {name}")), &q)
            }) {
                match groups.iter_mut().find(|(g, _)| *g == item.2) {
                    Some((_, v)) => v.push(item),
                    None => groups.push((&item.2, vec![item])),
                }
            }
            egui::ScrollArea::vertical()
                .max_height(220.0)
                .id_salt(("arrange-picker", key))
                .show(ui, |ui| {
                    for (group, items) in groups {
                        if !group.is_empty() {
                            ui.label(RichText::new(group).color(theme::colors::TEXT_DIM));
                        }
                        for (id, name, _) in items {
                            if ui
                                .selectable_label(false, format!("{name}  ·  {id}"))
                                .clicked()
                            {
                                let one = toml_edit::Value::from(id.as_str()).to_string();
                                let value = if as_list { format!("[{one}]") } else { one };
                                picked = Some((key.to_owned(), value));
                            }
                        }
                    }
                });
        });
        picked
    }

    fn monitors(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let Some(a) = self.arrangement() else {
            return;
        };
        ui.label(RichText::new(cx.t("arrange.monitors")).strong());
        let monitors = a.layout().monitors.clone();
        let names = a.monitor_names();
        for name in names {
            let m = monitors.iter().find(|m| m.name == name).cloned();
            let buf = match self.form.renames.iter().position(|(n, _)| *n == name) {
                Some(i) => i,
                None => {
                    self.form.renames.push((name.clone(), name.clone()));
                    self.form.renames.len() - 1
                }
            };
            ui.horizontal(|ui| {
                let l = ui.label(cx.t("arrange.monitor_name"));
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.form.renames[buf].1)
                            .desired_width(70.0),
                    )
                    .labelled_by(l.id);
                let typed = self.form.renames[buf].1.clone();
                if r.lost_focus() && typed != name {
                    if !self.try_edit(|a| a.rename_monitor(&name, &typed)) {
                        self.form.renames[buf].1 = name.clone();
                    } else {
                        self.form.renames.clear();
                        self.form.for_id = None;
                    }
                }
                if ui.small_button(cx.t("arrange.monitor_up")).clicked() {
                    self.try_edit(|a| a.reorder_monitor(&name, -1));
                }
                if ui.small_button(cx.t("arrange.monitor_down")).clicked() {
                    self.try_edit(|a| a.reorder_monitor(&name, 1));
                }
                if ui.small_button(cx.t("arrange.monitor_remove")).clicked() {
                    self.try_edit(|a| a.remove_monitor(&name));
                    self.form.renames.clear();
                }
            });
            let Some(m) = m else {
                continue;
            };
            ui.horizontal(|ui| {
                let number = |ui: &mut egui::Ui, label: &str, v: &mut u32, range| {
                    let l = ui.label(label);
                    ui.add(egui::DragValue::new(v).range(range))
                        .labelled_by(l.id)
                        .changed()
                };
                let (mut c, mut r) = (m.columns, m.rows);
                let max = crate::wall::layout::MAX_GRID;
                let grid = number(ui, cx.t("arrange.columns"), &mut c, 1..=max)
                    | number(ui, cx.t("arrange.rows"), &mut r, 1..=max);
                if grid && (c, r) != (m.columns, m.rows) {
                    self.try_edit(|a| a.set_grid(&name, c, r));
                }
                let [mut w, mut h] = m.resolution;
                let res = number(ui, cx.t("arrange.width_px"), &mut w, 320..=16384)
                    | number(ui, cx.t("arrange.height_px"), &mut h, 200..=16384);
                if res && [w, h] != m.resolution {
                    self.try_edit(|a| a.set_resolution(&name, w, h));
                }
            });
        }
        if ui.button(cx.t("arrange.monitor_add")).clicked() {
            let mut added = false;
            self.try_edit(|a: &mut Arrangement| a.add_monitor().map(|_| added = true));
            if added {
                self.form.renames.clear();
            }
        }
    }
}
