//! The wall layout model: what a `layouts/*.toml` file says, and the validated form the UI draws.
//!
//! A layout is a wall of named monitors; each monitor is a grid of columns x rows; tiles sit on
//! a monitor's cells at (x, y) with spans (w, h). Parsing keeps source spans so that every
//! problem is reported as `file:line:column` with a hint; validation collects all problems
//! instead of stopping at the first.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::diag::Diagnostic;
use crate::text::Text;
use crate::tiles::{TileKind, TileOptions};

/// Largest grid a monitor may have in either direction.
pub const MAX_GRID: u32 = 24;
/// A layout file larger than this is refused before parsing.
pub const MAX_LAYOUT_BYTES: u64 = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The file format (serde + JSON Schema). Spanned fields carry positions for diagnostics.

/// A wall layout file (`layouts/*.toml`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ioc-console wall layout")]
pub struct LayoutFile {
    /// Name of the wall, shown in the desk window (e.g. "Tường màn hình IOC tỉnh").
    pub name: String,
    /// Optional notes for technicians.
    #[serde(default)]
    pub description: Option<String>,
    /// The monitors of the wall.
    pub monitors: Vec<MonitorFile>,
    /// The tiles placed on the monitors.
    #[serde(default)]
    pub tiles: Vec<TileFile>,
    /// Named scenes: changes to the tiles above that operators recall with keys 1–9.
    #[serde(default)]
    pub scenes: Vec<SceneFile>,
}

/// A scene: a set of changes to the base layout (which tile shows which camera, indicator or
/// unit, which tiles are enlarged), recalled on the desk.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SceneFile {
    /// Unique name (letters, digits, `-` and `_`), e.g. "lu-lut".
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Shown on the desk, e.g. "Ứng phó lũ lụt".
    pub title: String,
    /// Camera tiles that fill their monitor while the scene is in force (one per monitor).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub enlarge: Vec<Spanned<String>>,
    /// Option changes by tile id: `[scenes.tiles.camera-01]` `camera = "cam-05"`; the tile's
    /// other options stay as the base layout says.
    #[serde(default)]
    #[schemars(
        with = "std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde_json::Value>>"
    )]
    pub tiles: Option<Spanned<toml::Table>>,
}

/// One monitor of the wall.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorFile {
    /// Unique name, referenced by tiles (e.g. "A1").
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Index of the physical display (as the OS orders them) used in `--wall` mode.
    #[schemars(with = "u32")]
    pub display: Spanned<u32>,
    /// Resolution in pixels: [width, height].
    #[schemars(with = "[u32; 2]")]
    pub resolution: Spanned<[u32; 2]>,
    /// The grid that tiles snap to.
    pub grid: GridFile,
    /// Where this monitor hangs on the wall (column and row of monitors, from the top left).
    #[schemars(with = "WallPositionFile")]
    pub wall_position: Spanned<WallPositionFile>,
}

/// Columns and rows of a monitor's grid.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GridFile {
    /// Number of columns (1 to 24).
    #[schemars(with = "u32", range(min = 1, max = 24))]
    pub columns: Spanned<u32>,
    /// Number of rows (1 to 24).
    #[schemars(with = "u32", range(min = 1, max = 24))]
    pub rows: Spanned<u32>,
}

/// Position of a monitor on the wall.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct WallPositionFile {
    pub column: u32,
    pub row: u32,
}

/// One tile on a monitor.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TileFile {
    /// Unique id of the tile in this layout (letters, digits, `-` and `_`).
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// Name of the monitor the tile sits on.
    #[schemars(with = "String")]
    pub monitor: Spanned<String>,
    /// What the tile shows.
    #[schemars(with = "TileKind")]
    pub kind: Spanned<TileKind>,
    /// Title shown in the tile's frame.
    pub title: String,
    /// Where the tile's data comes from (kinds that read data only).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub source: Option<Spanned<String>>,
    /// Left column (0-based).
    #[schemars(with = "u32")]
    pub x: Spanned<u32>,
    /// Top row (0-based).
    #[schemars(with = "u32")]
    pub y: Spanned<u32>,
    /// Width in columns (at least 1).
    #[serde(default = "one")]
    #[schemars(with = "u32", range(min = 1))]
    pub w: Spanned<u32>,
    /// Height in rows (at least 1).
    #[serde(default = "one")]
    #[schemars(with = "u32", range(min = 1))]
    pub h: Spanned<u32>,
    /// Options of the tile's kind; see the schema's per-kind definitions.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub options: Option<Spanned<toml::Table>>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

// ---------------------------------------------------------------------------------------------
// The validated model the console draws.

/// A validated wall layout.
#[derive(Clone, Debug, PartialEq)]
pub struct WallLayout {
    pub name: String,
    pub description: Option<String>,
    pub monitors: Vec<Monitor>,
    pub tiles: Vec<Tile>,
    /// The file it came from (None for layouts built in code).
    pub path: Option<PathBuf>,
    /// Named scenes, in file order (keys 1–9 recall the first nine).
    pub scenes: Vec<Scene>,
}

/// A validated scene: the options each changed tile has while it is in force (the base options
/// with the scene's changes over them) and the tiles it enlarges.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub name: String,
    pub title: String,
    /// Tile ids that fill their monitor.
    pub enlarge: Vec<String>,
    /// Tile id → its options in this scene.
    pub options: Vec<(String, TileOptions)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Monitor {
    pub name: String,
    pub display: u32,
    pub resolution: [u32; 2],
    pub columns: u32,
    pub rows: u32,
    pub wall_column: u32,
    pub wall_row: u32,
}

/// A rectangle of grid cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl CellRect {
    pub fn overlaps(&self, other: &CellRect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }

    /// The first cell (column, row) both rectangles cover; only meaningful when they overlap.
    pub fn first_shared_cell(&self, other: &CellRect) -> (u32, u32) {
        (self.x.max(other.x), self.y.max(other.y))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub id: String,
    /// Index into [`WallLayout::monitors`].
    pub monitor: usize,
    pub title: String,
    pub source: Option<String>,
    pub cell: CellRect,
    pub options: TileOptions,
}

impl Tile {
    pub fn kind(&self) -> TileKind {
        self.options.kind()
    }
}

impl WallLayout {
    /// Tiles on one monitor.
    pub fn tiles_on(&self, monitor: usize) -> impl Iterator<Item = &Tile> {
        self.tiles.iter().filter(move |t| t.monitor == monitor)
    }

    pub fn monitor_index(&self, name: &str) -> Option<usize> {
        self.monitors.iter().position(|m| m.name == name)
    }

    pub fn scene(&self, name: &str) -> Option<&Scene> {
        self.scenes.iter().find(|s| s.name == name)
    }

    /// This layout with scene `name` in force: the tiles it changes take its options. (Which
    /// tiles it enlarges is the view's part: [`Scene::enlarge`].)
    pub fn with_scene(&self, name: &str) -> Option<WallLayout> {
        let scene = self.scene(name)?;
        let mut out = self.clone();
        for (id, options) in &scene.options {
            if let Some(t) = out.tiles.iter_mut().find(|t| &t.id == id) {
                t.options = options.clone();
            }
        }
        Some(out)
    }

    /// The tiles scene `name` enlarges, by the monitor each fills (monitor name → tile id).
    pub fn scene_enlargements(&self, name: &str) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        if let Some(scene) = self.scene(name) {
            for id in &scene.enlarge {
                if let Some(t) = self.tiles.iter().find(|t| &t.id == id)
                    && let Some(m) = self.monitors.get(t.monitor)
                {
                    out.insert(m.name.clone(), id.clone());
                }
            }
        }
        out
    }

    /// This layout with cameras pushed to its camera tiles (tile id → camera id); a pushed tile
    /// shows that camera instead of its own (its `nearby` slot, if any, gives way to it).
    pub fn with_cameras(&self, pushed: &std::collections::BTreeMap<String, String>) -> WallLayout {
        let mut out = self.clone();
        for t in &mut out.tiles {
            if let (Some(camera), crate::tiles::TileOptions::Camera(o)) =
                (pushed.get(&t.id), &mut t.options)
            {
                o.camera.clone_from(camera);
                o.nearby = None;
            }
        }
        out
    }

    /// This layout up to period `p`: the tiles that have periods show none after it.
    pub fn in_period(&self, p: crate::model::PeriodKey) -> WallLayout {
        let mut out = self.clone();
        for t in &mut out.tiles {
            if let Some(o) = t.options.in_period(p) {
                t.options = o;
            }
        }
        out
    }

    /// This layout scoped to `unit`: every tile that can follow it does and says the unit after
    /// its title; tiles of the whole province's data get `whole_province` there ("toàn tỉnh").
    pub fn scoped(&self, unit: &crate::model::Unit, whole_province: &str) -> WallLayout {
        let mut out = self.clone();
        let name = crate::format::short_unit_name(unit);
        for t in &mut out.tiles {
            if let Some(o) = t.options.scoped(unit) {
                t.options = o;
                t.title = format!("{} · {name}", t.title);
            } else if t.options.province_wide() {
                t.title = format!("{} · {whole_province}", t.title);
            }
        }
        out
    }

    /// Columns and rows of monitors the wall spans.
    pub fn wall_extent(&self) -> (u32, u32) {
        let cols = self
            .monitors
            .iter()
            .map(|m| m.wall_column + 1)
            .max()
            .unwrap_or(1);
        let rows = self
            .monitors
            .iter()
            .map(|m| m.wall_row + 1)
            .max()
            .unwrap_or(1);
        (cols, rows)
    }
}

/// Why a layout could not be loaded: one or more diagnostics (`Display` says them in
/// Vietnamese, the console's default; [`LayoutErrors::say`] in any language).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct LayoutErrors(pub Vec<Diagnostic>);

impl LayoutErrors {
    /// Every diagnostic in `lang`, one after the other.
    pub fn say(&self, lang: crate::i18n::Lang) -> String {
        self.0
            .iter()
            .map(|d| d.say(lang))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn single(d: Diagnostic) -> Self {
        LayoutErrors(vec![d])
    }
}

/// Reads and validates a layout file.
pub fn load(path: &Path) -> Result<WallLayout, LayoutErrors> {
    let text = read_text(path)?;
    let mut layout = parse(path, &text)?;
    layout.path = Some(path.to_path_buf());
    Ok(layout)
}

/// A layout file's text: refused when it cannot be read, is larger than [`MAX_LAYOUT_BYTES`]
/// or is not UTF-8.
pub fn read_text(path: &Path) -> Result<String, LayoutErrors> {
    let read_error = |e: std::io::Error| {
        LayoutErrors::single(Diagnostic::file(
            path,
            Text::key("layout.read_failed").arg("reason", e),
            Text::key("layout.read_failed_hint"),
        ))
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if meta.len() > MAX_LAYOUT_BYTES {
        return Err(LayoutErrors::single(Diagnostic::file(
            path,
            Text::key("layout.too_large")
                .arg("size", meta.len())
                .arg("max", MAX_LAYOUT_BYTES),
            Text::key("layout.too_large_hint"),
        )));
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        LayoutErrors::single(Diagnostic::file(
            path,
            Text::key("layout.not_utf8").arg("at", e.utf8_error().valid_up_to()),
            Text::key("layout.not_utf8_hint"),
        ))
    })?;
    Ok(text)
}

/// Parses and validates layout text; `path` is used in diagnostics only.
pub fn parse(path: &Path, text: &str) -> Result<WallLayout, LayoutErrors> {
    let file: LayoutFile = toml::from_str(text).map_err(|e| {
        let mut d = Diagnostic::from_toml(path, text, &e);
        if e.message().trim().starts_with("unknown variant") && is_kind_value(text, e.span()) {
            let kinds: Vec<_> = TileKind::ALL.iter().map(|k| k.as_str()).collect();
            d.hint = Some(Text::key("layout.err.unknown_kind_hint").arg("kinds", kinds.join(", ")));
        }
        LayoutErrors::single(d)
    })?;
    Validator {
        path,
        text,
        errors: Vec::new(),
    }
    .validate(file)
}

/// Whether an error span sits on the value of a `kind = ...` line.
fn is_kind_value(text: &str, span: Option<Range<usize>>) -> bool {
    let Some(span) = span else { return false };
    let line_start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    text[line_start..].trim_start().starts_with("kind")
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<Diagnostic>,
}

type Args<'a> = &'a [(&'static str, &'a dyn std::fmt::Display)];

impl Validator<'_> {
    /// Records a problem: `key` and `key`_hint come from the catalogue.
    fn error(
        &mut self,
        span: Range<usize>,
        key: &'static str,
        hint_key: &'static str,
        args: Args<'_>,
    ) {
        let fill = |t: Text| args.iter().fold(t, |t, (name, value)| t.arg(name, value));
        let message = fill(Text::key(key));
        let hint = fill(Text::key(hint_key));
        self.errors
            .push(Diagnostic::at(self.path, self.text, span, message).with_hint(hint));
    }

    fn line_of(&self, offset: usize) -> usize {
        super::diag::line_col(self.text, offset).0
    }

    fn validate(mut self, file: LayoutFile) -> Result<WallLayout, LayoutErrors> {
        if file.monitors.is_empty() {
            self.error(
                0..0,
                "layout.err.no_monitors",
                "layout.err.no_monitors_hint",
                &[],
            );
        }
        let monitors = self.monitors(&file.monitors);
        let tiles = self.tiles(&file.tiles, &file.monitors);
        let scenes = self.scenes(&file.scenes, &file.tiles);
        if self.errors.is_empty() {
            Ok(WallLayout {
                name: file.name,
                description: file.description,
                monitors,
                tiles,
                path: None,
                scenes,
            })
        } else {
            Err(LayoutErrors(self.errors))
        }
    }

    fn monitors(&mut self, files: &[MonitorFile]) -> Vec<Monitor> {
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut displays: HashMap<u32, &str> = HashMap::new();
        let mut positions: HashMap<WallPositionFile, &str> = HashMap::new();
        let mut out = Vec::with_capacity(files.len());
        for m in files {
            let name = m.name.get_ref().as_str();
            if name.trim().is_empty() {
                self.error(
                    m.name.span(),
                    "layout.err.monitor_name_empty",
                    "layout.err.monitor_name_empty_hint",
                    &[],
                );
            }
            if let Some(first) = names.insert(name, m.name.span().start) {
                let line = self.line_of(first);
                self.error(
                    m.name.span(),
                    "layout.err.monitor_dup",
                    "layout.err.monitor_dup_hint",
                    &[("name", &name), ("line", &line)],
                );
            }
            let display = *m.display.get_ref();
            if let Some(other) = displays.insert(display, name) {
                self.error(
                    m.display.span(),
                    "layout.err.display_dup",
                    "layout.err.display_dup_hint",
                    &[("display", &display), ("other", &other)],
                );
            }
            let pos = *m.wall_position.get_ref();
            if let Some(other) = positions.insert(pos, name) {
                self.error(
                    m.wall_position.span(),
                    "layout.err.position_dup",
                    "layout.err.position_dup_hint",
                    &[
                        ("column", &pos.column),
                        ("row", &pos.row),
                        ("other", &other),
                    ],
                );
            }
            let [w, h] = *m.resolution.get_ref();
            if !(320..=16384).contains(&w) || !(200..=16384).contains(&h) {
                self.error(
                    m.resolution.span(),
                    "layout.err.resolution",
                    "layout.err.resolution_hint",
                    &[("w", &w), ("h", &h)],
                );
            }
            for (value, what) in [(&m.grid.columns, "columns"), (&m.grid.rows, "rows")] {
                let v = *value.get_ref();
                if v == 0 || v > MAX_GRID {
                    self.error(
                        value.span(),
                        "layout.err.grid_range",
                        "layout.err.grid_range_hint",
                        &[("what", &what), ("value", &v), ("max", &MAX_GRID)],
                    );
                }
            }
            out.push(Monitor {
                name: name.to_owned(),
                display,
                resolution: [w, h],
                columns: *m.grid.columns.get_ref(),
                rows: *m.grid.rows.get_ref(),
                wall_column: pos.column,
                wall_row: pos.row,
            });
        }
        out
    }

    fn tiles(&mut self, files: &[TileFile], monitors: &[MonitorFile]) -> Vec<Tile> {
        let mut ids: HashMap<&str, usize> = HashMap::new();
        // Tiles placed so far on each monitor, to find overlaps: (cells, id, line).
        let mut placed: HashMap<usize, Vec<(CellRect, &str, usize)>> = HashMap::new();
        let mut out = Vec::with_capacity(files.len());
        for t in files {
            let id = t.id.get_ref().as_str();
            self.name_rule(
                &mut ids,
                &t.id,
                "id",
                ["layout.err.tile_id", "layout.err.tile_id_hint"],
                ["layout.err.tile_dup", "layout.err.tile_dup_hint"],
            );
            let kind = *t.kind.get_ref();
            let options = self.options(t, id, kind);
            self.source_rule(t, kind);

            let monitor_name = t.monitor.get_ref().as_str();
            let Some(monitor) = monitors
                .iter()
                .position(|m| m.name.get_ref() == monitor_name)
            else {
                let known: Vec<_> = monitors.iter().map(|m| m.name.get_ref().as_str()).collect();
                self.error(
                    t.monitor.span(),
                    "layout.err.unknown_monitor",
                    "layout.err.unknown_monitor_hint",
                    &[
                        ("id", &id),
                        ("monitor", &monitor_name),
                        ("known", &known.join(", ")),
                    ],
                );
                continue;
            };
            let m = &monitors[monitor];
            let (cols, rows) = (*m.grid.columns.get_ref(), *m.grid.rows.get_ref());
            let cell = CellRect {
                x: *t.x.get_ref(),
                y: *t.y.get_ref(),
                w: *t.w.get_ref(),
                h: *t.h.get_ref(),
            };
            if !self.in_grid(t, id, monitor_name, cell, cols, rows) {
                continue;
            }
            let line = self.line_of(t.id.span().start);
            let others = placed.entry(monitor).or_default();
            if let Some((other, other_id, other_line)) =
                others.iter().find(|(c, _, _)| c.overlaps(&cell)).copied()
            {
                let (cx, cy) = cell.first_shared_cell(&other);
                self.error(
                    t.x.span(),
                    "layout.err.overlap",
                    "layout.err.overlap_hint",
                    &[
                        ("id", &id),
                        ("other", &other_id),
                        ("line", &other_line),
                        ("monitor", &monitor_name),
                        ("x", &cx),
                        ("y", &cy),
                    ],
                );
                continue;
            }
            others.push((cell, id, line));
            if let Some(options) = options {
                out.push(Tile {
                    id: id.to_owned(),
                    monitor,
                    title: t.title.clone(),
                    source: t.source.as_ref().map(|s| s.get_ref().clone()),
                    cell,
                    options,
                });
            }
        }
        out
    }

    /// A tile id or a scene name: letters, digits, `-` and `_`, and not used before (`seen`
    /// holds where each was first written). `arg` is the messages' placeholder for it.
    fn name_rule<'f>(
        &mut self,
        seen: &mut HashMap<&'f str, usize>,
        name: &'f Spanned<String>,
        arg: &'static str,
        invalid: [&'static str; 2],
        repeated: [&'static str; 2],
    ) {
        let text = name.get_ref().as_str();
        let valid = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            self.error(name.span(), invalid[0], invalid[1], &[(arg, &text)]);
        }
        if let Some(first) = seen.insert(text, name.span().start) {
            let line = self.line_of(first);
            self.error(
                name.span(),
                repeated[0],
                repeated[1],
                &[(arg, &text), ("line", &line)],
            );
        }
    }

    /// Checks the scenes: unique names, tiles that exist, camera tiles to enlarge (one per
    /// monitor), and option changes the tile's kind takes (with the base options under them).
    fn scenes(&mut self, files: &[SceneFile], tiles: &[TileFile]) -> Vec<Scene> {
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(files.len());
        for sc in files {
            let name = sc.name.get_ref().as_str();
            self.name_rule(
                &mut names,
                &sc.name,
                "name",
                ["layout.err.scene_name", "layout.err.tile_id_hint"],
                ["layout.err.scene_dup", "layout.err.scene_dup_hint"],
            );
            let known = |id: &str| tiles.iter().find(|t| t.id.get_ref() == id);
            let mut enlarged_on: HashMap<&str, &str> = HashMap::new();
            for e in &sc.enlarge {
                let id = e.get_ref().as_str();
                match known(id) {
                    None => self.error(
                        e.span(),
                        "layout.err.scene_unknown_tile",
                        "layout.err.scene_unknown_tile_hint",
                        &[("scene", &name), ("id", &id)],
                    ),
                    Some(t) if !t.kind.get_ref().enlargeable() => self.error(
                        e.span(),
                        "layout.err.scene_not_enlargeable",
                        "layout.err.scene_not_enlargeable_hint",
                        &[
                            ("scene", &name),
                            ("id", &id),
                            ("kind", &t.kind.get_ref().as_str()),
                        ],
                    ),
                    Some(t) => {
                        let monitor = t.monitor.get_ref().as_str();
                        if let Some(other) = enlarged_on.insert(monitor, id) {
                            self.error(
                                e.span(),
                                "layout.err.scene_two_enlarged",
                                "layout.err.scene_two_enlarged_hint",
                                &[
                                    ("scene", &name),
                                    ("id", &id),
                                    ("other", &other),
                                    ("monitor", &monitor),
                                ],
                            );
                        }
                    }
                }
            }
            let mut options = Vec::new();
            if let Some(changes) = &sc.tiles {
                for (id, change) in changes.get_ref() {
                    // `[scenes.tiles.<id>]` headers, or `<id> = { … }` keys.
                    let from = sc.name.span().start.min(self.text.len());
                    let header = format!(".{id}]");
                    let span = self.text[from..]
                        .find(&header)
                        .map(|i| from + i + 1..from + i + 1 + id.len())
                        .or_else(|| key_span(self.text, changes.span(), id))
                        .unwrap_or(changes.span());
                    let Some(t) = known(id) else {
                        self.error(
                            span,
                            "layout.err.scene_unknown_tile",
                            "layout.err.scene_unknown_tile_hint",
                            &[("scene", &name), ("id", id)],
                        );
                        continue;
                    };
                    let Some(change) = change.as_table() else {
                        self.error(
                            span,
                            "layout.err.scene_not_table",
                            "layout.err.scene_not_table_hint",
                            &[("scene", &name), ("id", id)],
                        );
                        continue;
                    };
                    let mut merged = t
                        .options
                        .as_ref()
                        .map(|o| o.get_ref().clone())
                        .unwrap_or_default();
                    for (k, v) in change {
                        merged.insert(k.clone(), v.clone());
                    }
                    let kind = *t.kind.get_ref();
                    match TileOptions::from_table(kind, Some(&merged)) {
                        Ok(o) => options.push((id.clone(), o)),
                        Err(problem) => {
                            let message = Text::key("layout.err.scene_options")
                                .arg("scene", name)
                                .arg("id", id)
                                .arg("kind", kind.as_str())
                                .arg("message", &problem.message);
                            self.errors.push(
                                Diagnostic::at(self.path, self.text, span, message)
                                    .with_hint(Text::key(problem.hint_key)),
                            );
                        }
                    }
                }
            }
            out.push(Scene {
                name: name.to_owned(),
                title: sc.title.clone(),
                enlarge: sc.enlarge.iter().map(|e| e.get_ref().clone()).collect(),
                options,
            });
        }
        out
    }

    /// Checks that the tile's cells lie inside its monitor's grid.
    fn in_grid(
        &mut self,
        t: &TileFile,
        id: &str,
        monitor: &str,
        cell: CellRect,
        cols: u32,
        rows: u32,
    ) -> bool {
        let mut ok = true;
        for (value, what) in [(&t.w, "w"), (&t.h, "h")] {
            if *value.get_ref() == 0 {
                ok = false;
                // A defaulted span has no position; point at the tile's id instead.
                let span = if value.span() == (0..0) {
                    t.id.span()
                } else {
                    value.span()
                };
                self.error(
                    span,
                    "layout.err.zero_span",
                    "layout.err.zero_span_hint",
                    &[("id", &id), ("what", &what)],
                );
            }
        }
        if !ok || cols == 0 || rows == 0 {
            return false;
        }
        if cell.x.saturating_add(cell.w) > cols {
            self.error(
                t.x.span(),
                "layout.err.outside_columns",
                "layout.err.outside_columns_hint",
                &[
                    ("id", &id),
                    ("reach", &(cell.x.saturating_add(cell.w) - 1)),
                    ("monitor", &monitor),
                    ("count", &cols),
                    ("last", &(cols - 1)),
                ],
            );
            ok = false;
        }
        if cell.y.saturating_add(cell.h) > rows {
            self.error(
                t.y.span(),
                "layout.err.outside_rows",
                "layout.err.outside_rows_hint",
                &[
                    ("id", &id),
                    ("reach", &(cell.y.saturating_add(cell.h) - 1)),
                    ("monitor", &monitor),
                    ("count", &rows),
                    ("last", &(rows - 1)),
                ],
            );
            ok = false;
        }
        ok
    }

    fn options(&mut self, t: &TileFile, id: &str, kind: TileKind) -> Option<TileOptions> {
        match TileOptions::from_table(kind, t.options.as_ref().map(|o| o.get_ref())) {
            Ok(o) => Some(o),
            Err(problem) => {
                let table_span = t.options.as_ref().map_or(t.kind.span(), |o| o.span());
                let span = problem
                    .key
                    .as_deref()
                    .and_then(|k| key_span(self.text, table_span.clone(), k))
                    .unwrap_or(table_span);
                let message = Text::key("layout.err.options")
                    .arg("id", id)
                    .arg("kind", kind.as_str())
                    .arg("message", &problem.message);
                self.errors.push(
                    Diagnostic::at(self.path, self.text, span, message)
                        .with_hint(Text::key(problem.hint_key)),
                );
                None
            }
        }
    }

    fn source_rule(&mut self, t: &TileFile, kind: TileKind) {
        let allowed = kind.sources();
        match (&t.source, allowed.is_empty()) {
            (Some(src), true) => {
                self.error(
                    src.span(),
                    "layout.err.no_source",
                    "layout.err.no_source_hint",
                    &[("kind", &kind.as_str())],
                );
            }
            (None, false) => {
                self.error(
                    t.kind.span(),
                    "layout.err.needs_source",
                    "layout.err.needs_source_hint",
                    &[("kind", &kind.as_str()), ("sources", &allowed.join(", "))],
                );
            }
            (Some(src), false) if !allowed.contains(&src.get_ref().as_str()) => {
                self.error(
                    src.span(),
                    "layout.err.unknown_source",
                    "layout.err.needs_source_hint",
                    &[
                        ("kind", &kind.as_str()),
                        ("source", src.get_ref()),
                        ("sources", &allowed.join(", ")),
                    ],
                );
            }
            _ => {}
        }
    }
}

/// Finds where `key` is written inside a table, to point at the exact key. A `[tiles.options]`
/// header's span may cover only the header, so the search runs on to the next table header.
fn key_span(text: &str, table: Range<usize>, key: &str) -> Option<Range<usize>> {
    let after_start = text.get(table.start..)?;
    let first_line_end = after_start.find('\n').map_or(after_start.len(), |i| i + 1);
    let section_end = after_start[first_line_end..]
        .find("\n[")
        .map_or(after_start.len(), |i| first_line_end + i);
    let end = section_end
        .max(table.end.saturating_sub(table.start))
        .min(after_start.len());
    let region = &after_start[..end];
    let mut search_from = 0;
    while let Some(pos) = region[search_from..].find(key) {
        let start = search_from + pos;
        let end = start + key.len();
        let before_ok = start == 0
            || region[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_whitespace() || c == '{' || c == ',' || c == '"');
        let after = region[end..].trim_start_matches('"').trim_start();
        if before_ok && after.starts_with('=') {
            return Some(table.start + start..table.start + end);
        }
        search_from = end;
    }
    None
}
