//! Scope drill-down (regulation Điều 15: district and commune IOCs, feedback per locality): the
//! wall or a briefing scoped to one unit of the backend's versioned list. Tiles that can follow
//! a unit do (`TileOptions::scoped`); tiles of the whole province's data say "toàn tỉnh" in
//! their title. The unit is picked by typing part of its name, with or without diacritics.

use std::sync::Arc;

use egui::RichText;

use crate::context::{Command, FrameCtx};
use crate::format;
use crate::incidents::search::fold;
use crate::model::Unit;
use crate::wall::WallLayout;

/// The unit the frame is scoped to, if it is in the backend's list.
pub fn unit(cx: &FrameCtx) -> Option<&Unit> {
    let id = cx.view.scope.as_deref()?;
    cx.store.units.data.as_deref()?.iter().find(|u| u.id == id)
}

/// A unit's name as the scope says it: historical units (the districts until 30/06/2025) with
/// their last day.
pub fn unit_label(cx: &FrameCtx, u: &Unit) -> String {
    let today = format::to_vietnam_time(cx.data_now()).date_naive();
    match u.valid_to {
        Some(to) if to < today => cx.t_args(
            "scope.historical",
            &[("name", &u.name), ("date", &to.format("%d/%m/%Y"))],
        ),
        _ => u.name.clone(),
    }
}

/// "Phạm vi: …" for the scope in force (the province when none; a unit the backend's list does
/// not have, or not yet, is said so).
pub fn label(cx: &FrameCtx) -> String {
    let name = match (cx.view.scope.as_deref(), unit(cx)) {
        (_, Some(u)) => unit_label(cx, u),
        (Some(id), None) => cx.t_args("scope.unknown", &[("unit", &id)]),
        (None, None) => cx.t("scope.province").to_owned(),
    };
    cx.t_args("scope.label", &[("name", &name)])
}

/// `layout` as the frame's scope has it. Made once per layout, unit and language and kept while
/// it is drawn: tiles keep the same options from frame to frame (a map's widgets are known by
/// them, and caches by their contents).
pub fn scoped(layout: &Arc<WallLayout>, cx: &FrameCtx) -> Arc<WallLayout> {
    let Some(u) = unit(cx) else {
        return Arc::clone(layout);
    };
    let cache = cx.caches.get::<ScopedLayouts>();
    let mut entries = cache.0.lock().unwrap_or_else(|p| p.into_inner());
    let frame = cx.caches.frame();
    let key = (Arc::as_ptr(layout) as usize, u.clone(), cx.lang);
    if let Some(e) = entries
        .iter_mut()
        .find(|e| e.key == key && Arc::ptr_eq(&e.base, layout))
    {
        e.used = frame;
        return Arc::clone(&e.scoped);
    }
    let scoped = Arc::new(layout.scoped(u, cx.t("scope.whole_province")));
    entries.push(ScopedEntry {
        key,
        base: Arc::clone(layout),
        scoped: Arc::clone(&scoped),
        used: frame,
    });
    scoped
}

struct ScopedEntry {
    key: (usize, Unit, crate::i18n::Lang),
    /// Kept so that the address in the key is not reused by another layout meanwhile.
    base: Arc<WallLayout>,
    scoped: Arc<WallLayout>,
    used: u64,
}

/// Scoped layouts made lately (the wall's, a briefing's scenes).
#[derive(Default)]
struct ScopedLayouts(std::sync::Mutex<Vec<ScopedEntry>>);

impl crate::context::caches::Cache for ScopedLayouts {
    fn begin_frame(&self, frame: u64) {
        let mut entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|e| frame.saturating_sub(e.used) < 120);
    }
}

/// The type-ahead that picks a unit.
#[derive(Default)]
pub struct ScopePicker {
    typed: String,
}

/// At most this many units are offered for what was typed.
const OFFERED: usize = 8;

impl ScopePicker {
    /// The field and the units matching it; picking one sends [`Command::Scope`].
    pub fn show(&mut self, ui: &mut egui::Ui, cx: &FrameCtx, out: &mut Vec<Command>) {
        ui.label(RichText::new(label(cx)).strong());
        let named = ui.label(cx.t("scope.field"));
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut self.typed)
                    .hint_text(cx.t("scope.type"))
                    .desired_width(ui.available_width().min(320.0)),
            )
            .labelled_by(named.id);
        let units = cx.store.units.data.as_deref().unwrap_or(&[]);
        let wanted = fold(self.typed.trim());
        let found: Vec<&Unit> = if wanted.is_empty() {
            Vec::new()
        } else {
            units
                .iter()
                .filter(|u| fold(&u.name).contains(&wanted) || u.id == self.typed.trim())
                .take(OFFERED)
                .collect()
        };
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let mut pick = None;
        for u in &found {
            if ui.button(unit_label(cx, u)).clicked() {
                pick = Some(u.id.clone());
            }
        }
        if enter && let Some(first) = found.first() {
            pick = Some(first.id.clone());
        }
        if !wanted.is_empty() && found.is_empty() {
            ui.label(RichText::new(cx.t("scope.no_match")).italics());
        }
        if cx.view.scope.is_some() && ui.button(cx.t("scope.back")).clicked() {
            out.push(Command::Scope(None));
        }
        if let Some(id) = pick {
            tracing::info!(unit = %id, "scoped to a unit");
            self.typed.clear();
            out.push(Command::Scope(Some(id)));
        }
    }
}
