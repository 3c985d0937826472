//! Arranging a layout file: the edits a technician makes in Arrange mode, made on the file's own
//! TOML document (`toml_edit`), so that what is saved is the file as a person would have edited
//! it: untouched tables, comments, key order and blank lines stay byte for byte, a moved tile
//! changes only its numbers, a new tile is appended in the style of the tiles before it.
//!
//! Every edit is checked before it is made (a place that overlaps another tile or leaves the grid
//! is refused, with the reason), recorded for undo, and followed by the same validation as
//! `layout check`. Changing a monitor's grid or removing a monitor may strand tiles: they are
//! listed ([`Arrangement::stranded`]) and the layout cannot be saved until each is placed or
//! removed. Saving is [`super::save`].

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use super::layout::{self, CellRect, LayoutErrors, WallLayout};
use crate::text::Text;
use crate::tiles::TileKind;

/// Undo steps kept (each is the file's text: a layout is at most 1 MiB, usually 20 KiB).
const UNDO_LIMIT: usize = 500;

/// Why an edit was not made, said when shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The place leaves the monitor's grid.
    Outside {
        monitor: String,
        columns: u32,
        rows: u32,
    },
    /// The place overlaps another tile.
    Overlap { other: String },
    /// No monitor of that name (or index).
    UnknownMonitor(String),
    /// No tile of that id.
    UnknownTile(String),
    /// No free place of that size on any monitor.
    NoRoom { w: u32, h: u32 },
    /// A monitor name that is empty or taken.
    BadMonitorName(String),
    /// A grid outside 1..=24 or a resolution outside the limits `layout check` sets.
    BadSize,
    /// The edit would make the layout invalid in another way: `layout check`'s words.
    Invalid(LayoutErrors),
    /// No scene of that name.
    UnknownScene(String),
    /// The file's tiles or monitors are written in a form arranging does not edit.
    Unsupported(&'static str),
}

impl Refusal {
    pub fn text(&self) -> Text {
        match self {
            Refusal::Outside {
                monitor,
                columns,
                rows,
            } => Text::key("arrange.refused.outside")
                .arg("monitor", monitor)
                .arg("columns", columns)
                .arg("rows", rows),
            Refusal::Overlap { other } => Text::key("arrange.refused.overlap").arg("other", other),
            Refusal::UnknownMonitor(m) => {
                Text::key("arrange.refused.unknown_monitor").arg("monitor", m)
            }
            Refusal::UnknownScene(n) => Text::key("arrange.refused.unknown_scene").arg("name", n),
            Refusal::UnknownTile(t) => Text::key("arrange.refused.unknown_tile").arg("id", t),
            Refusal::NoRoom { w, h } => {
                Text::key("arrange.refused.no_room").arg("w", w).arg("h", h)
            }
            Refusal::BadMonitorName(n) => Text::key("arrange.refused.monitor_name").arg("name", n),
            Refusal::BadSize => Text::key("arrange.refused.size"),
            Refusal::Invalid(e) => Text::key("arrange.refused.invalid").arg_text(
                "errors",
                e.0.first().map_or(Text::raw(""), |d| d.message.clone()),
            ),
            Refusal::Unsupported(what) => {
                Text::key("arrange.refused.unsupported").arg("what", what)
            }
        }
    }
}

/// A tile that no longer fits: its monitor is gone or its cells leave the monitor's grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Stranded {
    pub id: String,
    pub monitor: String,
    pub cell: CellRect,
}

/// A tile as the file says it (for the form and for placement), before validation.
#[derive(Clone, Debug, PartialEq)]
pub struct TileEntry {
    pub id: String,
    pub monitor: String,
    pub kind: String,
    pub title: String,
    pub cell: CellRect,
}

/// One recorded edit: the file's text before it, and what it was.
#[derive(Clone, Debug)]
struct Step {
    text: String,
    what: Text,
}

/// A layout file being arranged.
#[derive(Clone, Debug)]
pub struct Arrangement {
    path: PathBuf,
    /// The file's text when it was opened or last saved: what the disk should still hold.
    on_disk: String,
    doc: DocumentMut,
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// The layout drawn while arranging: the document, less stranded tiles, validated (shared
    /// with the canvas, which draws it every frame).
    layout: std::sync::Arc<WallLayout>,
    stranded: Vec<Stranded>,
}

/// Why a file cannot be arranged: it does not parse or validate (fix it in text first).
#[derive(Clone, Debug, PartialEq)]
pub enum OpenError {
    Layout(LayoutErrors),
    Unsupported(&'static str),
}

impl Arrangement {
    /// Opens a layout file for arranging. A file `layout check` refuses is not editable here.
    pub fn open(path: &Path) -> Result<Arrangement, OpenError> {
        // Read as the wall reads it (size limit, UTF-8), for the same errors.
        let text = layout::read_text(path).map_err(OpenError::Layout)?;
        Arrangement::from_text(path, &text).map_err(|e| match e {
            Refusal::Invalid(e) => OpenError::Layout(e),
            Refusal::Unsupported(w) => OpenError::Unsupported(w),
            _ => OpenError::Unsupported("layout"),
        })
    }

    /// Arranges layout text that `path` names (used for diagnostics and saving).
    pub fn from_text(path: &Path, text: &str) -> Result<Arrangement, Refusal> {
        let layout = layout::parse(path, text).map_err(Refusal::Invalid)?;
        let doc: DocumentMut = text.parse().map_err(|_| Refusal::Unsupported("toml"))?;
        for key in ["monitors", "tiles", "scenes"] {
            if doc.get(key).is_some_and(|i| !i.is_array_of_tables()) {
                return Err(Refusal::Unsupported(key));
            }
        }
        let mut layout = layout;
        layout.path = Some(path.to_path_buf());
        Ok(Arrangement {
            path: path.to_path_buf(),
            on_disk: text.to_owned(),
            doc,
            undo: Vec::new(),
            redo: Vec::new(),
            layout: std::sync::Arc::new(layout),
            stranded: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The layout as arranged so far (stranded tiles left out), for drawing.
    pub fn layout(&self) -> &std::sync::Arc<WallLayout> {
        &self.layout
    }

    /// Tiles that must be placed or removed before the layout can be saved.
    pub fn stranded(&self) -> &[Stranded] {
        &self.stranded
    }

    /// The file's text as arranged.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The text the file held when opened or last saved.
    pub fn on_disk(&self) -> &str {
        &self.on_disk
    }

    /// Whether there is anything to save.
    pub fn is_modified(&self) -> bool {
        self.text() != self.on_disk
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// What the next undo would take back.
    pub fn undo_label(&self) -> Option<&Text> {
        self.undo.last().map(|s| &s.what)
    }

    pub fn redo_label(&self) -> Option<&Text> {
        self.redo.last().map(|s| &s.what)
    }

    /// Takes back the last edit.
    pub fn undo(&mut self) -> bool {
        let (mut from, mut to) = (
            std::mem::take(&mut self.undo),
            std::mem::take(&mut self.redo),
        );
        let done = self.step(&mut from, &mut to);
        (self.undo, self.redo) = (from, to);
        done
    }

    /// Makes the last edit taken back again.
    pub fn redo(&mut self) -> bool {
        let (mut from, mut to) = (
            std::mem::take(&mut self.redo),
            std::mem::take(&mut self.undo),
        );
        let done = self.step(&mut from, &mut to);
        (self.redo, self.undo) = (from, to);
        done
    }

    /// Goes back to the newest text of `from`, keeping today's text on `to`.
    fn step(&mut self, from: &mut Vec<Step>, to: &mut Vec<Step>) -> bool {
        let Some(step) = from.pop() else {
            return false;
        };
        to.push(Step {
            text: self.text(),
            what: step.what,
        });
        self.restore(&step.text);
        true
    }

    fn restore(&mut self, text: &str) {
        if let Ok(doc) = text.parse::<DocumentMut>() {
            self.doc = doc;
        }
        // Every recorded text was a state this arrangement held, so it derives again.
        let _ = self.derive_into();
    }

    /// The saved file is the new starting point for "is it modified" and the disk check.
    pub fn saved_as(&mut self, path: &Path, text: String) {
        self.path = path.to_path_buf();
        std::sync::Arc::make_mut(&mut self.layout).path = Some(path.to_path_buf());
        self.on_disk = text;
    }

    // -----------------------------------------------------------------------------------------
    // Reading the document

    fn tiles_aot(&self) -> Option<&toml_edit::ArrayOfTables> {
        self.doc.get("tiles").and_then(Item::as_array_of_tables)
    }

    /// Every tile as the file says it, in file order.
    pub fn tiles(&self) -> Vec<TileEntry> {
        self.tiles_aot()
            .map(|aot| aot.iter().map(entry).collect())
            .unwrap_or_default()
    }

    pub fn tile(&self, id: &str) -> Option<TileEntry> {
        self.tiles().into_iter().find(|t| t.id == id)
    }

    /// The names of the monitors in file order.
    pub fn monitor_names(&self) -> Vec<String> {
        self.doc
            .get("monitors")
            .and_then(Item::as_array_of_tables)
            .map(|aot| aot.iter().map(|t| str_of(t, "name")).collect())
            .unwrap_or_default()
    }

    /// Whether `cell` on monitor `monitor` is free and inside its grid, `except` the tile
    /// being moved.
    pub fn check_place(
        &self,
        except: Option<&str>,
        monitor: &str,
        cell: CellRect,
    ) -> Result<(), Refusal> {
        let m = self
            .layout
            .monitors
            .iter()
            .find(|m| m.name == monitor)
            .ok_or_else(|| Refusal::UnknownMonitor(monitor.to_owned()))?;
        if cell.w == 0
            || cell.h == 0
            || cell.x.saturating_add(cell.w) > m.columns
            || cell.y.saturating_add(cell.h) > m.rows
        {
            return Err(Refusal::Outside {
                monitor: monitor.to_owned(),
                columns: m.columns,
                rows: m.rows,
            });
        }
        let stranded: Vec<&str> = self.stranded.iter().map(|s| s.id.as_str()).collect();
        if let Some(other) = self.tiles().into_iter().find(|t| {
            Some(t.id.as_str()) != except
                && t.monitor == monitor
                && !stranded.contains(&t.id.as_str())
                && t.cell.overlaps(&cell)
        }) {
            return Err(Refusal::Overlap { other: other.id });
        }
        Ok(())
    }

    /// The first free place of `w`×`h` cells, on `prefer` first (reading order), then on the
    /// other monitors in file order.
    pub fn free_place(
        &self,
        except: Option<&str>,
        prefer: Option<&str>,
        w: u32,
        h: u32,
    ) -> Option<(String, CellRect)> {
        let mut order: Vec<&layout::Monitor> = self.layout.monitors.iter().collect();
        if let Some(p) = prefer
            && let Some(i) = order.iter().position(|m| m.name == p)
        {
            let m = order.remove(i);
            order.insert(0, m);
        }
        for m in order {
            for y in 0..m.rows {
                for x in 0..m.columns {
                    let cell = CellRect { x, y, w, h };
                    if self.check_place(except, &m.name, cell).is_ok() {
                        return Some((m.name.clone(), cell));
                    }
                }
            }
        }
        None
    }

    // -----------------------------------------------------------------------------------------
    // Edits

    /// Makes an edit on a copy of the document; keeps it (recorded for undo) if the result
    /// still validates (stranded tiles aside, when `may_strand`).
    fn edit(
        &mut self,
        what: Text,
        may_strand: bool,
        change: impl FnOnce(&mut DocumentMut) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let before = self.text();
        let mut doc = self.doc.clone();
        change(&mut doc)?;
        let (layout, stranded) = derive(&self.path, &doc)?;
        if !may_strand && stranded.len() > self.stranded.len() {
            // Only monitor edits may strand tiles; a tile edit never does (it is checked).
            return Err(Refusal::NoRoom { w: 1, h: 1 });
        }
        if doc.to_string() == before {
            return Ok(());
        }
        self.doc = doc;
        self.layout = std::sync::Arc::new(layout);
        self.stranded = stranded;
        self.undo.push(Step { text: before, what });
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
        Ok(())
    }

    fn derive_into(&mut self) -> Result<(), Refusal> {
        let (layout, stranded) = derive(&self.path, &self.doc)?;
        self.layout = std::sync::Arc::new(layout);
        self.stranded = stranded;
        Ok(())
    }

    /// Puts tile `id` on `monitor` at `cell` (a move, a resize, or both), if the place is free.
    pub fn place(&mut self, id: &str, monitor: &str, cell: CellRect) -> Result<(), Refusal> {
        let tile = self
            .tile(id)
            .ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
        self.check_place(Some(id), monitor, cell)?;
        let key = if tile.monitor == monitor && (tile.cell.w, tile.cell.h) == (cell.w, cell.h) {
            "arrange.did.move"
        } else if tile.monitor == monitor && (tile.cell.x, tile.cell.y) == (cell.x, cell.y) {
            "arrange.did.resize"
        } else {
            "arrange.did.place"
        };
        let what = Text::key(key).arg("id", id).arg("monitor", monitor);
        self.edit(what, false, |doc| {
            let t = tile_mut(doc, id)?;
            if str_of(t, "monitor") != monitor {
                set_str(t, "monitor", monitor);
            }
            set_int(t, "x", cell.x, None);
            set_int(t, "y", cell.y, None);
            set_int(t, "w", cell.w, Some(1));
            set_int(t, "h", cell.h, Some(1));
            Ok(())
        })
    }

    /// Moves tile `id` by whole cells on its monitor.
    pub fn nudge(&mut self, id: &str, dx: i32, dy: i32) -> Result<(), Refusal> {
        let t = self
            .tile(id)
            .ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
        let cell = CellRect {
            x: shift(t.cell.x, dx),
            y: shift(t.cell.y, dy),
            ..t.cell
        };
        self.outside_if_clamped(
            &t,
            cell,
            t.cell.x as i64 + dx as i64,
            t.cell.y as i64 + dy as i64,
        )?;
        self.place(id, &t.monitor, cell)
    }

    /// Grows or shrinks tile `id` by whole cells (its top left corner stays).
    pub fn grow(&mut self, id: &str, dw: i32, dh: i32) -> Result<(), Refusal> {
        let t = self
            .tile(id)
            .ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
        let (w, h) = (t.cell.w as i64 + dw as i64, t.cell.h as i64 + dh as i64);
        if w < 1 || h < 1 {
            return Err(Refusal::BadSize);
        }
        self.place(
            id,
            &t.monitor,
            CellRect {
                w: w as u32,
                h: h as u32,
                ..t.cell
            },
        )
    }

    fn outside_if_clamped(
        &self,
        t: &TileEntry,
        cell: CellRect,
        x: i64,
        y: i64,
    ) -> Result<(), Refusal> {
        if x < 0 || y < 0 || (x as u32, y as u32) != (cell.x, cell.y) {
            let m = self.layout.monitors.iter().find(|m| m.name == t.monitor);
            return Err(Refusal::Outside {
                monitor: t.monitor.clone(),
                columns: m.map_or(0, |m| m.columns),
                rows: m.map_or(0, |m| m.rows),
            });
        }
        Ok(())
    }

    /// Removes tile `id`, and what the scenes say of it. Comments written above it stay, above
    /// the next table.
    pub fn remove_tile(&mut self, id: &str) -> Result<(), Refusal> {
        let what = Text::key("arrange.did.remove").arg("id", id);
        self.edit(what, true, |doc| {
            forget_in_scenes(doc, id);
            let aot = tiles_mut(doc)?;
            let i = index_of(aot, id).ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
            let comments = comment_lines(aot.get(i).and_then(|t| t.decor().prefix()));
            aot.remove(i);
            if !comments.is_empty()
                && let Some(next) = aot.get_mut(i)
            {
                let prefix = next
                    .decor()
                    .prefix()
                    .and_then(|p| p.as_str())
                    .unwrap_or("")
                    .to_owned();
                next.decor_mut().set_prefix(format!("{comments}{prefix}"));
            }
            Ok(())
        })
    }

    /// Copies tile `id` (its options and comments inside it) to the first free place of its
    /// size, on its monitor first; returns the new tile's id.
    pub fn duplicate_tile(&mut self, id: &str) -> Result<String, Refusal> {
        let t = self
            .tile(id)
            .ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
        let (monitor, cell) = self
            .free_place(None, Some(&t.monitor), t.cell.w, t.cell.h)
            .ok_or(Refusal::NoRoom {
                w: t.cell.w,
                h: t.cell.h,
            })?;
        let new_id = self.fresh_id(id);
        let what = Text::key("arrange.did.duplicate")
            .arg("id", id)
            .arg("new", &new_id);
        let nid = new_id.clone();
        self.edit(what, false, |doc| {
            let aot = tiles_mut(doc)?;
            let i = index_of(aot, id).ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
            let mut copy = aot
                .get(i)
                .cloned()
                .ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
            unposition(&mut copy);
            // A section comment above the original belongs to it, not to its copy.
            let blank = if copy
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .is_some_and(|p| p.starts_with('\n'))
            {
                "\n"
            } else {
                ""
            };
            copy.decor_mut().set_prefix(blank);
            set_str(&mut copy, "id", &nid);
            if str_of(&copy, "monitor") != monitor {
                set_str(&mut copy, "monitor", &monitor);
            }
            set_int(&mut copy, "x", cell.x, None);
            set_int(&mut copy, "y", cell.y, None);
            aot.push(copy);
            Ok(())
        })?;
        Ok(new_id)
    }

    /// Adds a tile of `kind` at the first free cell (on `prefer` first), written in the style of
    /// the file's tiles; returns its id.
    pub fn add_tile(
        &mut self,
        kind: TileKind,
        prefer: Option<&str>,
        title: &str,
    ) -> Result<String, Refusal> {
        let (monitor, cell) = self
            .free_place(None, prefer, 1, 1)
            .ok_or(Refusal::NoRoom { w: 1, h: 1 })?;
        let id = self.fresh_id(kind.as_str());
        let what = Text::key("arrange.did.add")
            .arg("id", &id)
            .arg("monitor", &monitor);
        let starter = self.starter_options(kind);
        let tid = id.clone();
        let title = title.to_owned();
        self.edit(what, false, |doc| {
            let blank = doc
                .get("tiles")
                .and_then(Item::as_array_of_tables)
                .and_then(|a| a.iter().last())
                .is_none_or(|t| {
                    t.decor()
                        .prefix()
                        .and_then(|p| p.as_str())
                        .is_some_and(|p| p.starts_with('\n'))
                });
            if doc.get("tiles").is_none() {
                doc.insert("tiles", Item::ArrayOfTables(Default::default()));
            }
            let aot = tiles_mut(doc)?;
            let mut t = Table::new();
            t.decor_mut().set_prefix(if blank { "\n" } else { "" });
            t.insert("id", toml_edit::value(tid.as_str()));
            t.insert("monitor", toml_edit::value(monitor.as_str()));
            t.insert("kind", toml_edit::value(kind.as_str()));
            t.insert("title", toml_edit::value(title.as_str()));
            if let Some(s) = kind.sources().first() {
                t.insert("source", toml_edit::value(*s));
            }
            t.insert("x", toml_edit::value(cell.x as i64));
            t.insert("y", toml_edit::value(cell.y as i64));
            if let Some(options) = starter {
                t.insert("options", options);
            }
            aot.push(t);
            Ok(())
        })?;
        Ok(id)
    }

    /// Options a new tile of `kind` starts with: those of the file's first tile of that kind
    /// (a chart's indicators, a camera's camera), else the kind's own starter, so the new tile
    /// is valid at once and the form changes it.
    fn starter_options(&self, kind: TileKind) -> Option<Item> {
        let from_file = self.tiles_aot().and_then(|aot| {
            aot.iter()
                .find(|t| str_of(t, "kind") == kind.as_str())
                .and_then(|t| t.get("options").cloned())
        });
        if let Some(mut item) = from_file {
            if let Some(t) = item.as_table_mut() {
                t.set_position(None);
                t.decor_mut().clear();
            }
            return Some(item);
        }
        let starter = match kind {
            TileKind::Chart => {
                r#"type = "line"
indicators = ["grdp_growth"]"#
            }
            TileKind::Kpi => r#"indicator = "grdp_growth""#,
            TileKind::Camera => r#"camera = "cam-01""#,
            TileKind::Text => r#"body = """#,
            _ => return None,
        };
        let doc: DocumentMut = starter.parse().ok()?;
        let t: Table = doc.as_table().clone();
        let mut inline = t.into_inline_table();
        inline.fmt();
        Some(Item::Value(Value::InlineTable(inline)))
    }

    /// An id not yet used: `base`, then `base-2`, `base-3`…
    pub fn fresh_id(&self, base: &str) -> String {
        let ids: std::collections::HashSet<String> =
            self.tiles().into_iter().map(|t| t.id).collect();
        let stem = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        let stem = if stem.is_empty() { "tile" } else { stem };
        std::iter::once(stem.to_owned())
            .chain((2..).map(|n| format!("{stem}-{n}")))
            .find(|c| !ids.contains(c))
            .unwrap_or_else(|| format!("{stem}-x"))
    }

    /// Sets the tile's title (any text).
    pub fn set_title(&mut self, id: &str, title: &str) -> Result<(), Refusal> {
        let what = Text::key("arrange.did.title").arg("id", id);
        self.edit(what, false, |doc| {
            set_str(tile_mut(doc, id)?, "title", title);
            Ok(())
        })
    }

    /// Sets one option of the tile, written as a TOML value (`"cam-02"`, `24`, `["a", "b"]`);
    /// refused with `layout check`'s words when the kind does not take it. Other options, and
    /// keys the form does not know, stay as they are.
    pub fn set_option(&mut self, id: &str, key: &str, toml_value: &str) -> Result<(), Refusal> {
        let value = self.parse_value(toml_value)?;
        let what = Text::key("arrange.did.option")
            .arg("id", id)
            .arg("key", key);
        self.edit(what, false, |doc| {
            let t = tile_mut(doc, id)?;
            if !t.contains_key("options") {
                t.insert(
                    "options",
                    Item::Value(Value::InlineTable(Default::default())),
                );
            }
            let opts = t
                .get_mut("options")
                .and_then(Item::as_table_like_mut)
                .ok_or(Refusal::Unsupported("options"))?;
            match opts.get_mut(key) {
                Some(item) => replace_value(item, value),
                None => {
                    opts.insert(key, Item::Value(value));
                }
            }
            if let Some(it) = t.get_mut("options").and_then(Item::as_inline_table_mut) {
                it.fmt();
            }
            Ok(())
        })
    }

    /// Removes one option of the tile (the kind's default applies).
    pub fn clear_option(&mut self, id: &str, key: &str) -> Result<(), Refusal> {
        let what = Text::key("arrange.did.option")
            .arg("id", id)
            .arg("key", key);
        self.edit(what, false, |doc| {
            let t = tile_mut(doc, id)?;
            if let Some(opts) = t.get_mut("options").and_then(Item::as_table_like_mut) {
                opts.remove(key);
            }
            Ok(())
        })
    }

    /// The tile's options as written: key and TOML value text, in file order.
    pub fn options_of(&self, id: &str) -> Vec<(String, String)> {
        let Some(aot) = self.tiles_aot() else {
            return Vec::new();
        };
        aot.iter()
            .find(|t| str_of(t, "id") == id)
            .and_then(|t| t.get("options"))
            .and_then(Item::as_table_like)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| {
                        Some((
                            k.to_owned(),
                            v.as_value()?.clone().decorated("", "").to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    // -----------------------------------------------------------------------------------------
    // Scenes: changes to the base layout, saved as `[[scenes]]` with `[scenes.tiles.<id>]`.

    /// The scenes' names and titles, in file order.
    pub fn scenes(&self) -> Vec<(String, String)> {
        self.layout
            .scenes
            .iter()
            .map(|s| (s.name.clone(), s.title.clone()))
            .collect()
    }

    /// Adds a scene (no changes yet) after the others; returns its name.
    pub fn add_scene(&mut self, title: &str) -> Result<String, Refusal> {
        let names: Vec<String> = self.scenes().into_iter().map(|(n, _)| n).collect();
        let name = (1..)
            .map(|n| format!("canh-{n}"))
            .find(|n| !names.contains(n))
            .unwrap_or_else(|| "canh".into());
        let what = Text::key("arrange.did.add_scene").arg("name", &name);
        let (n, title) = (name.clone(), title.to_owned());
        self.edit(what, false, |doc| {
            if doc.get("scenes").is_none() {
                doc.insert("scenes", Item::ArrayOfTables(Default::default()));
            }
            let aot = scenes_mut(doc)?;
            let mut t = Table::new();
            t.decor_mut().set_prefix("\n");
            t.insert("name", toml_edit::value(n.as_str()));
            t.insert("title", toml_edit::value(title.as_str()));
            aot.push(t);
            Ok(())
        })?;
        Ok(name)
    }

    pub fn remove_scene(&mut self, name: &str) -> Result<(), Refusal> {
        let what = Text::key("arrange.did.remove_scene").arg("name", name);
        self.edit(what, false, |doc| {
            let aot = scenes_mut(doc)?;
            let i = aot
                .iter()
                .position(|t| str_of(t, "name") == name)
                .ok_or_else(|| Refusal::UnknownScene(name.to_owned()))?;
            aot.remove(i);
            if aot.is_empty() {
                doc.remove("scenes");
            }
            Ok(())
        })
    }

    pub fn set_scene_title(&mut self, name: &str, title: &str) -> Result<(), Refusal> {
        let what = Text::key("arrange.did.scene_title").arg("name", name);
        self.edit(what, false, |doc| {
            set_str(scene_mut(doc, name)?, "title", title);
            Ok(())
        })
    }

    /// The tile's options in scene `scene`: the base options with the scene's changes over them
    /// (as written), and which keys the scene changes.
    pub fn scene_options_of(&self, scene: &str, id: &str) -> (Vec<(String, String)>, Vec<String>) {
        let mut opts = self.options_of(id);
        let changes: Vec<(String, String)> = self
            .doc
            .get("scenes")
            .and_then(Item::as_array_of_tables)
            .and_then(|aot| aot.iter().find(|t| str_of(t, "name") == scene))
            .and_then(|t| t.get("tiles"))
            .and_then(Item::as_table_like)
            .and_then(|tiles| tiles.get(id))
            .and_then(Item::as_table_like)
            .map(|c| {
                c.iter()
                    .filter_map(|(k, v)| {
                        Some((
                            k.to_owned(),
                            v.as_value()?.clone().decorated("", "").to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (k, v) in &changes {
            match opts.iter_mut().find(|(ok, _)| ok == k) {
                Some(slot) => slot.1 = v.clone(),
                None => opts.push((k.clone(), v.clone())),
            }
        }
        (opts, changes.into_iter().map(|(k, _)| k).collect())
    }

    /// Sets an option of tile `id` in scene `scene` (the base layout keeps its own).
    pub fn set_scene_option(
        &mut self,
        scene: &str,
        id: &str,
        key: &str,
        toml_value: &str,
    ) -> Result<(), Refusal> {
        let value = self.parse_value(toml_value)?;
        if self.tile(id).is_none() {
            return Err(Refusal::UnknownTile(id.to_owned()));
        }
        let what = Text::key("arrange.did.scene_option")
            .arg("name", scene)
            .arg("id", id)
            .arg("key", key);
        self.edit(what, false, |doc| {
            let t = scene_mut(doc, scene)?;
            if !t.contains_key("tiles") {
                let mut tiles = Table::new();
                tiles.set_implicit(true);
                t.insert("tiles", Item::Table(tiles));
            }
            let tiles = t
                .get_mut("tiles")
                .and_then(Item::as_table_mut)
                .ok_or(Refusal::Unsupported("scenes"))?;
            if !tiles.contains_key(id) {
                // Right under the scene, as `[tiles.options]` stands under its tile.
                let mut changes = Table::new();
                changes.decor_mut().set_prefix("");
                tiles.insert(id, Item::Table(changes));
            }
            let changes = tiles
                .get_mut(id)
                .and_then(Item::as_table_like_mut)
                .ok_or(Refusal::Unsupported("scenes"))?;
            match changes.get_mut(key) {
                Some(item) => replace_value(item, value),
                None => {
                    changes.insert(key, Item::Value(value));
                }
            }
            Ok(())
        })
    }

    /// Drops a scene's change of an option (the base layout's value shows again).
    pub fn clear_scene_option(&mut self, scene: &str, id: &str, key: &str) -> Result<(), Refusal> {
        let what = Text::key("arrange.did.scene_option")
            .arg("name", scene)
            .arg("id", id)
            .arg("key", key);
        self.edit(what, false, |doc| {
            let t = scene_mut(doc, scene)?;
            if let Some(tiles) = t.get_mut("tiles").and_then(Item::as_table_like_mut) {
                let empty = match tiles.get_mut(id).and_then(Item::as_table_like_mut) {
                    Some(c) => {
                        c.remove(key);
                        c.is_empty()
                    }
                    None => false,
                };
                if empty {
                    tiles.remove(id);
                }
                if tiles.is_empty() {
                    t.remove("tiles");
                }
            }
            Ok(())
        })
    }

    /// Whether scene `scene` enlarges tile `id`.
    pub fn scene_enlarges(&self, scene: &str, id: &str) -> bool {
        self.layout
            .scene(scene)
            .is_some_and(|s| s.enlarge.iter().any(|e| e == id))
    }

    /// Enlarges tile `id` in the scene, or stops enlarging it; refused with `layout check`'s
    /// words for a tile that cannot be enlarged or a monitor that already has one.
    pub fn toggle_scene_enlarge(&mut self, scene: &str, id: &str) -> Result<(), Refusal> {
        let on = self.scene_enlarges(scene, id);
        let what = Text::key("arrange.did.scene_enlarge")
            .arg("name", scene)
            .arg("id", id);
        self.edit(what, false, |doc| {
            let t = scene_mut(doc, scene)?;
            if !t.contains_key("enlarge") {
                t.insert("enlarge", toml_edit::value(toml_edit::Array::new()));
            }
            let arr = t
                .get_mut("enlarge")
                .and_then(Item::as_array_mut)
                .ok_or(Refusal::Unsupported("enlarge"))?;
            if on {
                arr.retain(|v| v.as_str() != Some(id));
            } else {
                arr.push(id);
            }
            if arr.is_empty() {
                t.remove("enlarge");
            }
            Ok(())
        })
    }

    fn parse_value(&self, toml_value: &str) -> Result<Value, Refusal> {
        toml_value.trim().parse().map_err(|_| {
            Refusal::Invalid(LayoutErrors(vec![super::diag::Diagnostic::file(
                &self.path,
                Text::key("arrange.refused.value").arg("value", toml_value),
                Text::key("layout.err.options_hint"),
            )]))
        })
    }

    // -----------------------------------------------------------------------------------------
    // Monitors

    /// Adds a monitor to the right of the wall's top row (same resolution and grid as the last
    /// monitor); returns its name.
    pub fn add_monitor(&mut self) -> Result<String, Refusal> {
        let last = self
            .layout
            .monitors
            .last()
            .cloned()
            .ok_or(Refusal::Unsupported("monitors"))?;
        let names = self.monitor_names();
        let name = (1..)
            .map(|n| format!("M{n}"))
            .find(|n| !names.contains(n))
            .unwrap_or_else(|| "M".into());
        let display = self
            .layout
            .monitors
            .iter()
            .map(|m| m.display + 1)
            .max()
            .unwrap_or(0);
        let column = self
            .layout
            .monitors
            .iter()
            .filter(|m| m.wall_row == 0)
            .map(|m| m.wall_column + 1)
            .max()
            .unwrap_or(0);
        let what = Text::key("arrange.did.add_monitor").arg("name", &name);
        let n = name.clone();
        self.edit(what, false, |doc| {
            let aot = doc
                .get_mut("monitors")
                .and_then(Item::as_array_of_tables_mut)
                .ok_or(Refusal::Unsupported("monitors"))?;
            let mut t = Table::new();
            t.decor_mut().set_prefix("\n");
            t.insert("name", toml_edit::value(n.as_str()));
            t.insert("display", toml_edit::value(display as i64));
            let mut res = toml_edit::Array::new();
            res.push(last.resolution[0] as i64);
            res.push(last.resolution[1] as i64);
            t.insert("resolution", toml_edit::value(res));
            t.insert(
                "grid",
                inline(&[("columns", last.columns as i64), ("rows", last.rows as i64)]),
            );
            t.insert(
                "wall_position",
                inline(&[("column", column as i64), ("row", 0)]),
            );
            aot.push(t);
            Ok(())
        })?;
        Ok(name)
    }

    /// Removes a monitor; its tiles are stranded until placed elsewhere or removed.
    pub fn remove_monitor(&mut self, name: &str) -> Result<(), Refusal> {
        if self.layout.monitors.len() <= 1 {
            return Err(Refusal::Unsupported("monitors"));
        }
        let what = Text::key("arrange.did.remove_monitor").arg("name", name);
        self.edit(what, true, |doc| {
            let aot = monitors_mut(doc)?;
            let i = monitor_index(aot, name)?;
            aot.remove(i);
            Ok(())
        })
    }

    /// Renames a monitor, and every tile on it follows.
    pub fn rename_monitor(&mut self, name: &str, new: &str) -> Result<(), Refusal> {
        let new = new.trim();
        if new.is_empty() || (new != name && self.monitor_names().iter().any(|n| n == new)) {
            return Err(Refusal::BadMonitorName(new.to_owned()));
        }
        let what = Text::key("arrange.did.rename_monitor")
            .arg("name", name)
            .arg("new", new);
        self.edit(what, false, |doc| {
            let aot = monitors_mut(doc)?;
            let i = monitor_index(aot, name)?;
            if let Some(t) = aot.get_mut(i) {
                set_str(t, "name", new);
            }
            if let Ok(tiles) = tiles_mut(doc) {
                for t in tiles.iter_mut().filter(|t| str_of(t, "monitor") == name) {
                    set_str(t, "monitor", new);
                }
            }
            Ok(())
        })
    }

    /// Moves a monitor one place earlier (`-1`) or later (`+1`) in the file's order (the
    /// order the desk lists them and `--monitors` counts them).
    pub fn reorder_monitor(&mut self, name: &str, by: i32) -> Result<(), Refusal> {
        let what = Text::key("arrange.did.reorder_monitor").arg("name", name);
        self.edit(what, false, |doc| {
            let aot = monitors_mut(doc)?;
            let i = monitor_index(aot, name)?;
            let j = i as i64 + by as i64;
            if j < 0 || j as usize >= aot.len() {
                return Ok(());
            }
            let j = j as usize;
            let (a, b) = (aot.get(i).cloned(), aot.get(j).cloned());
            if let (Some(mut a), Some(mut b)) = (a, b) {
                // Contents swap; positions stay, so the file's order of tables changes.
                let (pa, pb) = (a.position(), b.position());
                a.set_position(pb);
                b.set_position(pa);
                if let Some(t) = aot.get_mut(i) {
                    *t = b;
                }
                if let Some(t) = aot.get_mut(j) {
                    *t = a;
                }
            }
            Ok(())
        })
    }

    /// Changes a monitor's grid; tiles that no longer fit are stranded.
    pub fn set_grid(&mut self, name: &str, columns: u32, rows: u32) -> Result<(), Refusal> {
        if !(1..=layout::MAX_GRID).contains(&columns) || !(1..=layout::MAX_GRID).contains(&rows) {
            return Err(Refusal::BadSize);
        }
        let what = Text::key("arrange.did.grid")
            .arg("name", name)
            .arg("columns", columns)
            .arg("rows", rows);
        self.edit(what, true, |doc| {
            let t = monitor_mut(doc, name)?;
            let grid = t
                .get_mut("grid")
                .and_then(Item::as_table_like_mut)
                .ok_or(Refusal::Unsupported("grid"))?;
            for (k, v) in [("columns", columns), ("rows", rows)] {
                match grid.get_mut(k) {
                    Some(item) => replace_value(item, Value::from(v as i64)),
                    None => {
                        grid.insert(k, toml_edit::value(v as i64));
                    }
                }
            }
            Ok(())
        })
    }

    /// Changes a monitor's resolution (320×200 to 16384×16384, as `layout check` says).
    pub fn set_resolution(&mut self, name: &str, w: u32, h: u32) -> Result<(), Refusal> {
        if !(320..=16384).contains(&w) || !(200..=16384).contains(&h) {
            return Err(Refusal::BadSize);
        }
        let what = Text::key("arrange.did.resolution")
            .arg("name", name)
            .arg("w", w)
            .arg("h", h);
        self.edit(what, false, |doc| {
            let t = monitor_mut(doc, name)?;
            let item = t
                .get_mut("resolution")
                .ok_or(Refusal::Unsupported("resolution"))?;
            let arr = item
                .as_array_mut()
                .ok_or(Refusal::Unsupported("resolution"))?;
            for (k, v) in [(0, w), (1, h)] {
                if let Some(slot) = arr.get_mut(k) {
                    let decor = slot.decor().clone();
                    *slot = Value::from(v as i64);
                    *slot.decor_mut() = decor;
                }
            }
            Ok(())
        })
    }

    /// Puts a stranded tile at the first free place of its size (or 1×1), on its monitor if
    /// it still exists.
    pub fn place_stranded(&mut self, id: &str) -> Result<(), Refusal> {
        let s = self
            .stranded
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
        let (monitor, cell) = self
            .free_place(Some(id), Some(&s.monitor), s.cell.w, s.cell.h)
            .or_else(|| self.free_place(Some(id), Some(&s.monitor), 1, 1))
            .ok_or(Refusal::NoRoom {
                w: s.cell.w,
                h: s.cell.h,
            })?;
        let what = Text::key("arrange.did.place")
            .arg("id", id)
            .arg("monitor", &monitor);
        self.edit(what, true, |doc| {
            let t = tile_mut(doc, id)?;
            if str_of(t, "monitor") != monitor {
                set_str(t, "monitor", &monitor);
            }
            set_int(t, "x", cell.x, None);
            set_int(t, "y", cell.y, None);
            set_int(t, "w", cell.w, Some(1));
            set_int(t, "h", cell.h, Some(1));
            Ok(())
        })
    }
}

/// Drops a tile from every scene: its option changes and its enlarging.
fn forget_in_scenes(doc: &mut DocumentMut, id: &str) {
    let Some(aot) = doc.get_mut("scenes").and_then(Item::as_array_of_tables_mut) else {
        return;
    };
    for sc in aot.iter_mut() {
        let mut empty_tiles = false;
        if let Some(tiles) = sc.get_mut("tiles").and_then(Item::as_table_like_mut) {
            tiles.remove(id);
            empty_tiles = tiles.is_empty();
        }
        if empty_tiles {
            sc.remove("tiles");
        }
        let mut empty_enlarge = false;
        if let Some(e) = sc.get_mut("enlarge").and_then(Item::as_array_mut) {
            e.retain(|v| v.as_str() != Some(id));
            empty_enlarge = e.is_empty();
        }
        if empty_enlarge {
            sc.remove("enlarge");
        }
    }
}

/// The drawable layout of a document: validated, without the tiles that do not fit; errors of
/// any other kind refuse the edit.
fn derive(path: &Path, doc: &DocumentMut) -> Result<(WallLayout, Vec<Stranded>), Refusal> {
    let text = doc.to_string();
    match layout::parse(path, &text) {
        Ok(mut l) => {
            l.path = Some(path.to_path_buf());
            Ok((l, Vec::new()))
        }
        Err(errors) => {
            let monitors: Vec<(String, u32, u32)> = doc
                .get("monitors")
                .and_then(Item::as_array_of_tables)
                .map(|aot| {
                    aot.iter()
                        .map(|t| {
                            let grid = t.get("grid").and_then(Item::as_table_like);
                            let n = |k| {
                                grid.and_then(|g| g.get(k))
                                    .and_then(Item::as_integer)
                                    .unwrap_or(0) as u32
                            };
                            (str_of(t, "name"), n("columns"), n("rows"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let stranded: Vec<Stranded> = doc
                .get("tiles")
                .and_then(Item::as_array_of_tables)
                .map(|aot| aot.iter().map(entry).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .filter(|t| {
                    monitors
                        .iter()
                        .find(|(n, _, _)| *n == t.monitor)
                        .is_none_or(|(_, c, r)| {
                            t.cell.x.saturating_add(t.cell.w) > *c
                                || t.cell.y.saturating_add(t.cell.h) > *r
                        })
                })
                .map(|t| Stranded {
                    id: t.id,
                    monitor: t.monitor,
                    cell: t.cell,
                })
                .collect();
            if stranded.is_empty() {
                return Err(Refusal::Invalid(errors));
            }
            let mut rest = doc.clone();
            let gone = |id: &str| stranded.iter().any(|s| s.id == id);
            if let Some(aot) = rest.get_mut("tiles").and_then(Item::as_array_of_tables_mut) {
                aot.retain(|t| !gone(&str_of(t, "id")));
            }
            // Scenes that name a stranded tile name it in the drawn layout no more either.
            if let Some(aot) = rest
                .get_mut("scenes")
                .and_then(Item::as_array_of_tables_mut)
            {
                for sc in aot.iter_mut() {
                    if let Some(tiles) = sc.get_mut("tiles").and_then(Item::as_table_like_mut) {
                        let named: Vec<String> = tiles.iter().map(|(k, _)| k.to_owned()).collect();
                        for id in named.iter().filter(|id| gone(id)) {
                            tiles.remove(id);
                        }
                    }
                    if let Some(e) = sc.get_mut("enlarge").and_then(Item::as_array_mut) {
                        e.retain(|v| !v.as_str().is_some_and(gone));
                    }
                }
            }
            let mut l =
                layout::parse(path, &rest.to_string()).map_err(|_| Refusal::Invalid(errors))?;
            l.path = Some(path.to_path_buf());
            Ok((l, stranded))
        }
    }
}

fn entry(t: &Table) -> TileEntry {
    let n = |k: &str, default: u32| {
        t.get(k)
            .and_then(Item::as_integer)
            .map_or(default, |v| v.max(0) as u32)
    };
    TileEntry {
        id: str_of(t, "id"),
        monitor: str_of(t, "monitor"),
        kind: str_of(t, "kind"),
        title: str_of(t, "title"),
        cell: CellRect {
            x: n("x", 0),
            y: n("y", 0),
            w: n("w", 1),
            h: n("h", 1),
        },
    }
}

fn str_of(t: &Table, key: &str) -> String {
    t.get(key)
        .and_then(Item::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn tiles_mut(doc: &mut DocumentMut) -> Result<&mut toml_edit::ArrayOfTables, Refusal> {
    doc.get_mut("tiles")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or(Refusal::Unsupported("tiles"))
}

fn monitors_mut(doc: &mut DocumentMut) -> Result<&mut toml_edit::ArrayOfTables, Refusal> {
    doc.get_mut("monitors")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or(Refusal::Unsupported("monitors"))
}

fn index_of(aot: &toml_edit::ArrayOfTables, id: &str) -> Option<usize> {
    aot.iter().position(|t| str_of(t, "id") == id)
}

fn monitor_index(aot: &toml_edit::ArrayOfTables, name: &str) -> Result<usize, Refusal> {
    aot.iter()
        .position(|t| str_of(t, "name") == name)
        .ok_or_else(|| Refusal::UnknownMonitor(name.to_owned()))
}

fn scenes_mut(doc: &mut DocumentMut) -> Result<&mut toml_edit::ArrayOfTables, Refusal> {
    doc.get_mut("scenes")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or(Refusal::Unsupported("scenes"))
}

fn scene_mut<'a>(doc: &'a mut DocumentMut, name: &str) -> Result<&'a mut Table, Refusal> {
    let aot = scenes_mut(doc)?;
    let i = aot
        .iter()
        .position(|t| str_of(t, "name") == name)
        .ok_or_else(|| Refusal::UnknownScene(name.to_owned()))?;
    aot.get_mut(i)
        .ok_or_else(|| Refusal::UnknownScene(name.to_owned()))
}

fn monitor_mut<'a>(doc: &'a mut DocumentMut, name: &str) -> Result<&'a mut Table, Refusal> {
    let aot = monitors_mut(doc)?;
    let i = monitor_index(aot, name)?;
    aot.get_mut(i)
        .ok_or_else(|| Refusal::UnknownMonitor(name.to_owned()))
}

fn tile_mut<'a>(doc: &'a mut DocumentMut, id: &str) -> Result<&'a mut Table, Refusal> {
    let aot = tiles_mut(doc)?;
    let i = index_of(aot, id).ok_or_else(|| Refusal::UnknownTile(id.to_owned()))?;
    aot.get_mut(i)
        .ok_or_else(|| Refusal::UnknownTile(id.to_owned()))
}

/// Replaces a value keeping what is written around it (spaces, a comment at the end of the line).
fn replace_value(item: &mut Item, new: Value) {
    match item.as_value_mut() {
        Some(v) => {
            let decor = v.decor().clone();
            *v = new;
            *v.decor_mut() = decor;
        }
        None => *item = Item::Value(new),
    }
}

fn set_str(t: &mut Table, key: &str, value: &str) {
    match t.get_mut(key) {
        Some(item) => replace_value(item, Value::from(value)),
        None => {
            t.insert(key, toml_edit::value(value));
        }
    }
}

/// Sets an integer key; a key not written whose value would be `default` stays unwritten, and an
/// unchanged value is not touched (so its spelling stays).
fn set_int(t: &mut Table, key: &str, value: u32, default: Option<u32>) {
    match t.get_mut(key) {
        Some(item) => {
            if item.as_integer() != Some(value as i64) {
                replace_value(item, Value::from(value as i64));
            }
        }
        None if default == Some(value) => {}
        None => {
            // Written after the other numbers of the tile, as a person would.
            t.insert(key, toml_edit::value(value as i64));
        }
    }
}

fn inline(pairs: &[(&str, i64)]) -> Item {
    let mut t = toml_edit::InlineTable::new();
    for (k, v) in pairs {
        t.insert(*k, Value::from(*v));
    }
    t.fmt();
    Item::Value(Value::InlineTable(t))
}

/// Forgets where a copied table stood in the file, so it is written where it is pushed.
fn unposition(t: &mut Table) {
    t.set_position(None);
    for (_, item) in t.iter_mut() {
        if let Some(sub) = item.as_table_mut() {
            unposition(sub);
        }
    }
}

/// The comment lines of a table's prefix (blank lines dropped, each line kept whole).
fn comment_lines(prefix: Option<&toml_edit::RawString>) -> String {
    let Some(p) = prefix.and_then(|p| p.as_str()) else {
        return String::new();
    };
    let kept: String = p
        .split_inclusive('\n')
        .filter(|l| l.trim_start().starts_with('#'))
        .collect();
    if kept.is_empty() {
        kept
    } else {
        format!("\n{kept}")
    }
}

fn shift(v: u32, d: i32) -> u32 {
    (v as i64 + d as i64).max(0) as u32
}
