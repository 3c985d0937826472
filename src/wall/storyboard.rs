//! Briefing storyboards (`layouts/briefings/*.toml`): an ordered list of scenes, each a layout of
//! `layouts/` (with one of its scenes in force, if named), one monitor of it or one tile of it
//! filling the screen, with a title, presenter notes and a duration for unattended rotation.
//! Validated like layouts, with `file:line:column` and how to fix it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::diag::Diagnostic;
use super::layout::{self, LayoutErrors, WallLayout};
use crate::text::Text;

/// The shortest duration a rotating scene may have (a screen that changes faster cannot be read).
pub const MIN_DURATION_S: u64 = 5;
/// The longest (a day): longer is surely a mistake, and keeps the schedule's arithmetic in range.
pub const MAX_DURATION_S: u64 = 86_400;

/// A storyboard file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ioc-console briefing storyboard")]
pub struct StoryboardFile {
    /// The briefing's title, shown to the presenter (e.g. "Giao ban tháng 11/2026").
    pub title: String,
    /// Optional notes for whoever prepares the briefing.
    #[serde(default)]
    pub description: Option<String>,
    /// The scenes, in the order they are presented.
    #[schemars(with = "Vec<StorySceneFile>")]
    pub scenes: Spanned<Vec<StorySceneFile>>,
}

/// One scene of a storyboard.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorySceneFile {
    /// Shown above the scene (e.g. "Kinh tế: tăng trưởng GRDP").
    pub title: String,
    /// The layout it shows: a file name of `layouts/` without `.toml` (e.g. "ioc-main").
    #[schemars(with = "String")]
    pub layout: Spanned<String>,
    /// A scene of that layout to put in force (its options and enlarged tiles).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub scene: Option<Spanned<String>>,
    /// Only this monitor of the layout (by name).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub monitor: Option<Spanned<String>>,
    /// Only this tile of the layout, filling the screen (by id).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tile: Option<Spanned<String>>,
    /// The unit the scene is scoped to (an id of the backend's unit list, e.g. "bt-ba-tri");
    /// default: the province.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub scope: Option<Spanned<String>>,
    /// The period its charts and KPIs show, up to and including it: "2025" (a year),
    /// "2025-Q2" (a quarter) or "2025-06" (a month). Default: the latest data.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub period: Option<Spanned<String>>,
    /// What the presenter reads beside the scene (never shown to the audience).
    #[serde(default)]
    pub notes: Option<String>,
    /// Seconds the scene stays when the storyboard rotates unattended (at least 5).
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    pub duration: Option<Spanned<u64>>,
}

/// What a scene puts on the screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Show {
    /// The whole layout, every monitor.
    Wall,
    /// One monitor of it (index into the layout's monitors).
    Monitor(usize),
    /// One tile filling the screen (its id).
    Tile(String),
}

/// A validated scene.
#[derive(Clone, Debug)]
pub struct StoryScene {
    pub title: String,
    /// The layout's name (its file stem) and the layout, with the named scene in force.
    pub layout_name: String,
    pub layout: Arc<WallLayout>,
    pub show: Show,
    /// Tiles that fill their monitor (monitor name, tile id): the named layout scene's.
    pub enlarged: Vec<(String, String)>,
    pub notes: Option<String>,
    pub duration: Option<Duration>,
    /// The period its tiles show (up to and including), when one is named.
    pub period: Option<crate::model::PeriodKey>,
    /// The unit it is scoped to (an id), and where the file says so (line, column).
    pub scope: Option<(String, usize, usize)>,
}

/// A validated storyboard.
#[derive(Clone, Debug)]
pub struct Storyboard {
    pub title: String,
    pub path: PathBuf,
    pub scenes: Vec<StoryScene>,
}

impl Storyboard {
    /// The duration of a scene when rotating (the storyboard's own, or `default`).
    pub fn duration_of(&self, scene: usize, default: Duration) -> Duration {
        self.scenes
            .get(scene)
            .and_then(|s| s.duration)
            .unwrap_or(default)
    }
}

/// Where a storyboard's layouts are: `layouts/` for `layouts/briefings/x.toml`.
pub fn layouts_dir(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    if dir.file_name().is_some_and(|n| n == "briefings") {
        dir.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Whether a file is a storyboard (it sits in a `briefings` folder).
pub fn is_storyboard_path(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "briefings")
}

/// The storyboards of `layouts/briefings/` beside a layouts folder, sorted by file name.
pub fn find(layouts: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(layouts.join("briefings"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Reads and validates a storyboard and the layouts it names.
pub fn load(path: &Path) -> Result<Storyboard, LayoutErrors> {
    let text = layout::read_text(path)?;
    parse(path, &text, &layouts_dir(path))
}

/// Parses and validates storyboard text; layouts are read from `layouts`.
pub fn parse(path: &Path, text: &str, layouts: &Path) -> Result<Storyboard, LayoutErrors> {
    let file: StoryboardFile = toml::from_str(text)
        .map_err(|e| LayoutErrors(vec![Diagnostic::from_toml(path, text, &e)]))?;
    let mut errors: Vec<Diagnostic> = Vec::new();
    if file.scenes.get_ref().is_empty() {
        errors.push(problem(
            path,
            text,
            file.scenes.span(),
            "brief.err.no_scenes",
            &[],
        ));
    }
    // Each layout read once: Err(None) when there is no such file, Err(Some(first problem)).
    let mut loaded: HashMap<String, Result<Arc<WallLayout>, Option<Diagnostic>>> = HashMap::new();
    let mut scenes = Vec::new();
    for sc in file.scenes.get_ref() {
        let name = sc.layout.get_ref().clone();
        let entry = loaded.entry(name.clone()).or_insert_with(|| {
            let p = layouts.join(format!("{name}.toml"));
            if !p.is_file() {
                return Err(None);
            }
            layout::load(&p)
                .map(Arc::new)
                .map_err(|e| e.0.into_iter().next())
        });
        let base = match entry {
            Ok(l) => Arc::clone(l),
            Err(None) => {
                let known = layout_names(layouts).join(", ");
                errors.push(problem(
                    path,
                    text,
                    sc.layout.span(),
                    "brief.err.unknown_layout",
                    &[("layout", &name), ("known", &known)],
                ));
                continue;
            }
            Err(Some(first)) => {
                let at = format!("{}:{}:{}", first.file.display(), first.line, first.column);
                let d = Diagnostic::at(
                    path,
                    text,
                    sc.layout.span(),
                    Text::key("brief.err.invalid_layout")
                        .arg("layout", &name)
                        .arg("at", at)
                        .arg_text("why", first.message.clone()),
                )
                .with_hint(Text::key("brief.err.invalid_layout_hint"));
                errors.push(d);
                continue;
            }
        };
        let mut ok = true;
        let mut layout = Arc::clone(&base);
        let mut enlarged = Vec::new();
        if let Some(s) = &sc.scene {
            match (base.scene(s.get_ref()), base.with_scene(s.get_ref())) {
                (Some(scene), Some(with)) => {
                    for id in &scene.enlarge {
                        if let Some(t) = base.tiles.iter().find(|t| &t.id == id) {
                            enlarged.push((base.monitors[t.monitor].name.clone(), id.clone()));
                        }
                    }
                    layout = Arc::new(with);
                }
                _ => {
                    let known: Vec<_> = base.scenes.iter().map(|s| s.name.as_str()).collect();
                    errors.push(problem(
                        path,
                        text,
                        s.span(),
                        "brief.err.unknown_scene",
                        &[
                            ("layout", &name),
                            ("scene", s.get_ref()),
                            ("known", &known.join(", ")),
                        ],
                    ));
                    ok = false;
                }
            }
        }
        let show = match (&sc.monitor, &sc.tile) {
            (Some(_), Some(t)) => {
                errors.push(problem(
                    path,
                    text,
                    t.span(),
                    "brief.err.monitor_and_tile",
                    &[],
                ));
                ok = false;
                Show::Wall
            }
            (Some(m), None) => match base.monitor_index(m.get_ref()) {
                Some(i) => Show::Monitor(i),
                None => {
                    let known: Vec<_> = base.monitors.iter().map(|m| m.name.as_str()).collect();
                    errors.push(problem(
                        path,
                        text,
                        m.span(),
                        "brief.err.unknown_monitor",
                        &[
                            ("layout", &name),
                            ("monitor", m.get_ref()),
                            ("known", &known.join(", ")),
                        ],
                    ));
                    ok = false;
                    Show::Wall
                }
            },
            (None, Some(t)) => {
                if base.tiles.iter().any(|x| &x.id == t.get_ref()) {
                    Show::Tile(t.get_ref().clone())
                } else {
                    errors.push(problem(
                        path,
                        text,
                        t.span(),
                        "brief.err.unknown_tile",
                        &[("layout", &name), ("tile", t.get_ref())],
                    ));
                    ok = false;
                    Show::Wall
                }
            }
            (None, None) => Show::Wall,
        };
        let period = match &sc.period {
            Some(p) => match crate::model::PeriodKey::parse(p.get_ref()) {
                Some(k) => {
                    layout = Arc::new(layout.in_period(k));
                    Some(k)
                }
                None => {
                    errors.push(problem(
                        path,
                        text,
                        p.span(),
                        "brief.err.bad_period",
                        &[("period", p.get_ref())],
                    ));
                    ok = false;
                    None
                }
            },
            None => None,
        };
        let duration = match &sc.duration {
            Some(d) if *d.get_ref() < MIN_DURATION_S => {
                errors.push(problem(
                    path,
                    text,
                    d.span(),
                    "brief.err.short_duration",
                    &[("min", &MIN_DURATION_S.to_string())],
                ));
                ok = false;
                None
            }
            Some(d) if *d.get_ref() > MAX_DURATION_S => {
                errors.push(problem(
                    path,
                    text,
                    d.span(),
                    "brief.err.long_duration",
                    &[("max", &MAX_DURATION_S.to_string())],
                ));
                ok = false;
                None
            }
            Some(d) => Some(Duration::from_secs(*d.get_ref())),
            None => None,
        };
        if ok {
            scenes.push(StoryScene {
                title: sc.title.clone(),
                layout_name: name,
                layout,
                show,
                enlarged,
                notes: sc.notes.clone(),
                duration,
                period,
                scope: sc.scope.as_ref().map(|u| {
                    let (line, column) = super::diag::line_col(text, u.span().start);
                    (u.get_ref().clone(), line, column)
                }),
            });
        }
    }
    if errors.is_empty() {
        Ok(Storyboard {
            title: file.title,
            path: path.to_path_buf(),
            scenes,
        })
    } else {
        Err(LayoutErrors(errors))
    }
}

/// A problem at `span`, with the hint of its message.
fn problem(
    path: &Path,
    text: &str,
    span: std::ops::Range<usize>,
    key: &'static str,
    args: &[(&'static str, &str)],
) -> Diagnostic {
    let hint_key = HINTS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, h)| *h);
    let fill = |t: Text| args.iter().fold(t, |t, (n, v)| t.arg(n, v));
    Diagnostic::at(path, text, span, fill(Text::key(key))).with_hint(fill(Text::key(hint_key)))
}

/// Checks the scenes' scopes against the backend's unit list: an unknown unit is an error at
/// its place in the file.
pub fn check_units(board: &Storyboard, units: &[crate::model::Unit]) -> Result<(), LayoutErrors> {
    let known: Vec<&str> = units.iter().map(|u| u.id.as_str()).collect();
    let errors: Vec<Diagnostic> = board
        .scenes
        .iter()
        .filter_map(|s| s.scope.as_ref())
        .filter(|(id, _, _)| !known.contains(&id.as_str()))
        .map(|(id, line, column)| Diagnostic {
            file: board.path.clone(),
            line: *line,
            column: *column,
            message: Text::key("brief.err.unknown_unit").arg("unit", id),
            hint: Some(Text::key("brief.err.unknown_unit_hint").arg("known", known.join(", "))),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(LayoutErrors(errors))
    }
}

/// Each message's hint key.
const HINTS: &[(&str, &str)] = &[
    ("brief.err.no_scenes", "brief.err.no_scenes_hint"),
    ("brief.err.unknown_layout", "brief.err.unknown_layout_hint"),
    ("brief.err.invalid_layout", "brief.err.invalid_layout_hint"),
    ("brief.err.unknown_scene", "brief.err.unknown_scene_hint"),
    (
        "brief.err.unknown_monitor",
        "brief.err.unknown_monitor_hint",
    ),
    ("brief.err.unknown_tile", "brief.err.unknown_tile_hint"),
    (
        "brief.err.monitor_and_tile",
        "brief.err.monitor_and_tile_hint",
    ),
    ("brief.err.short_duration", "brief.err.short_duration_hint"),
    ("brief.err.bad_period", "brief.err.bad_period_hint"),
    ("brief.err.long_duration", "brief.err.long_duration_hint"),
];

/// The layouts a storyboard may name (file stems of `layouts/*.toml`).
fn layout_names(layouts: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(layouts)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The JSON Schema of storyboard files.
pub fn schema_json() -> String {
    let root = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<StoryboardFile>()
        .to_value();
    serde_json::to_string_pretty(&root).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/storyboard.schema.json");
        let published = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            published.trim() == schema_json().trim(),
            "docs/schema/storyboard.schema.json is out of date: run `cargo run -- layout schema --storyboard > docs/schema/storyboard.schema.json`"
        );
    }

    #[test]
    fn a_storyboard_is_told_by_its_folder_and_finds_its_layouts_above_it() {
        let p = Path::new("layouts/briefings/x.toml");
        assert!(is_storyboard_path(p));
        assert!(!is_storyboard_path(Path::new("layouts/ioc-main.toml")));
        assert_eq!(layouts_dir(p), Path::new("layouts"));
        assert_eq!(layouts_dir(Path::new("/tmp/b.toml")), Path::new("/tmp"));
    }
}
