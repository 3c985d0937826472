//! Layout parsing and validation: every rule, good and bad files, exact error positions.

use std::path::Path;

use ioc_console::i18n::Lang;
use ioc_console::tiles::{TileKind, TileOptions, text::Severity};
use ioc_console::wall::diag::Diagnostic;
use ioc_console::wall::layout::{self, LayoutErrors};

use crate::support::repo;

const MONITORS: &str = r#"name = "Test wall"

[[monitors]]
name = "A1"
display = 0
resolution = [1920, 1080]
grid = { columns = 4, rows = 3 }
wall_position = { column = 0, row = 0 }

[[monitors]]
name = "B1"
display = 1
resolution = [1920, 1080]
grid = { columns = 2, rows = 2 }
wall_position = { column = 1, row = 0 }
"#;

/// Lines 1-15 are the monitors above; tiles appended start at line 16.
fn with_tiles(tiles: &str) -> String {
    format!("{MONITORS}{tiles}")
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match layout::parse(Path::new("wall.toml"), text) {
        Ok(l) => panic!("expected errors, got a valid layout: {l:?}"),
        Err(LayoutErrors(e)) => e,
    }
}

fn single(text: &str) -> Diagnostic {
    let e = errors(text);
    assert_eq!(e.len(), 1, "expected one error, got: {e:#?}");
    e.into_iter().next().unwrap()
}

fn at(d: &Diagnostic) -> (usize, usize) {
    (d.line, d.column)
}

#[test]
fn shipped_layouts_are_valid() {
    for name in ["ioc-main.toml", "desk.toml", "briefing.toml"] {
        let l = layout::load(&repo().join("layouts").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!l.monitors.is_empty() && !l.tiles.is_empty(), "{name}");
        assert!(l.tiles.iter().all(|t| !t.id.is_empty()));
    }
}

#[test]
fn main_wall_is_3_by_2_full_hd_and_shows_every_kind() {
    let l = layout::load(&repo().join("layouts/ioc-main.toml")).unwrap();
    assert_eq!(l.monitors.len(), 6);
    assert_eq!(l.wall_extent(), (3, 2));
    assert!(l.monitors.iter().all(|m| m.resolution == [1920, 1080]));
    for kind in TileKind::ALL {
        assert!(
            l.tiles.iter().any(|t| t.kind() == kind),
            "ioc-main.toml lacks a `{}` tile",
            kind.as_str()
        );
    }
}

#[test]
fn a_valid_file_becomes_the_model() {
    let text = with_tiles(
        r#"
[[tiles]]
id = "clock"
monitor = "B1"
kind = "clock"
title = "Giờ"
x = 1
y = 1

[[tiles]]
id = "notice"
monitor = "A1"
kind = "text"
title = "Thông báo"
x = 0
y = 0
w = 4
h = 2
options = { body = "Xin chào", severity = "critical" }
"#,
    );
    let l = layout::parse(Path::new("w.toml"), &text).unwrap();
    assert_eq!(l.tiles.len(), 2);
    assert_eq!(l.tiles[0].monitor, 1);
    assert_eq!(
        (l.tiles[0].cell.w, l.tiles[0].cell.h),
        (1, 1),
        "spans default to 1"
    );
    match &l.tiles[1].options {
        TileOptions::Text(t) => {
            assert_eq!(t.body, "Xin chào");
            assert_eq!(t.severity, Severity::Critical);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn toml_syntax_error_has_its_position() {
    let d = single("name = \"x\n");
    assert_eq!(d.line, 1);
    assert!(d.hint.is_some());
}

#[test]
fn unknown_top_level_key() {
    let d = single(&format!("{MONITORS}colour = \"red\"\n"));
    assert_eq!(at(&d), (16, 1));
    assert!(
        d.message_in(Lang::En).contains("unknown field `colour`"),
        "{d}"
    );
    assert!(d.hint.as_ref().unwrap().say(Lang::En).contains("spelling"));
}

#[test]
fn unknown_key_in_a_tile() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\nwidth = 2\n",
    ));
    assert_eq!(at(&d), (23, 1));
    assert!(d.message_in(Lang::En).contains("`width`"), "{d}");
}

#[test]
fn unknown_option_of_a_kind_points_at_the_key() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"text\"\ntitle = \"t\"\nx = 0\ny = 0\n[tiles.options]\nbody = \"x\"\ncolor = \"red\"\n",
    ));
    assert_eq!(at(&d), (25, 1));
    assert!(
        d.message_in(Lang::En).contains("tile `a` (text)")
            && d.message_in(Lang::En).contains("`color`"),
        "{d}"
    );
}

#[test]
fn missing_required_option() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"text\"\ntitle = \"t\"\nx = 0\ny = 0\n",
    ));
    assert!(
        d.message_in(Lang::En).contains("missing field `body`"),
        "{d}"
    );
    assert_eq!(
        d.line, 19,
        "points at the kind when there is no options table: {d}"
    );
}

#[test]
fn unknown_monitor() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"Z9\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\n",
    ));
    assert_eq!(at(&d), (18, 11));
    assert!(
        d.message_in(Lang::En).contains("unknown monitor `Z9`"),
        "{d}"
    );
    assert!(
        d.hint.as_ref().unwrap().say(Lang::En).contains("A1, B1"),
        "the hint lists the monitors: {d}"
    );
}

#[test]
fn unknown_tile_kind_is_an_error_not_a_placeholder() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"weather\"\ntitle = \"t\"\nx = 0\ny = 0\n",
    ));
    assert_eq!(at(&d), (19, 8));
    assert!(d.message_in(Lang::En).contains("`weather`"), "{d}");
    assert!(
        d.hint
            .as_ref()
            .unwrap()
            .say(Lang::En)
            .contains("clock, text"),
        "{d}"
    );
}

#[test]
fn tile_outside_the_grid() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"B1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 1\ny = 0\nw = 2\n",
    ));
    assert_eq!(at(&d), (21, 5));
    assert!(
        d.message_in(Lang::En).contains("reaches column 2")
            && d.message_in(Lang::En).contains("2 columns"),
        "{d}"
    );

    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 2\nh = 2\n",
    ));
    assert_eq!(at(&d), (22, 5));
    assert!(d.message_in(Lang::En).contains("reaches row 3"), "{d}");

    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\nw = 0\n",
    ));
    assert_eq!(at(&d), (23, 5));
    assert!(d.message_in(Lang::En).contains("w = 0"), "{d}");
}

#[test]
fn overlapping_tiles_name_both_and_the_cell() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\nw = 2\nh = 2\n\n[[tiles]]\nid = \"b\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 1\ny = 1\n",
    ));
    assert_eq!(at(&d), (31, 5));
    assert!(
        d.message_in(Lang::En)
            .contains("`b` overlaps tile `a` (line 17)")
            && d.message_in(Lang::En).contains("cell (1, 1)"),
        "{d}"
    );
}

#[test]
fn same_cells_on_different_monitors_do_not_overlap() {
    let text = with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\n\n[[tiles]]\nid = \"b\"\nmonitor = \"B1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\n",
    );
    assert!(layout::parse(Path::new("w.toml"), &text).is_ok());
}

#[test]
fn duplicate_tile_ids() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\n\n[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 1\ny = 0\n",
    ));
    assert_eq!(at(&d), (25, 6));
    assert!(
        d.message_in(Lang::En)
            .contains("`a` is used twice (first at line 17)"),
        "{d}"
    );
}

#[test]
fn monitor_rules() {
    let dup = MONITORS
        .replace("name = \"B1\"\ndisplay = 1", "name = \"A1\"\ndisplay = 0")
        .replace("column = 1", "column = 0");
    let e = errors(&dup);
    let msgs: Vec<_> = e.iter().map(|d| (d.line, d.message_in(Lang::En))).collect();
    assert_eq!(e.len(), 3, "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|(l, m)| *l == 11
                && m.contains("monitor name `A1` is used twice (first at line 4)"))
    );
    assert!(
        msgs.iter()
            .any(|(l, m)| *l == 12 && m.contains("display 0"))
    );
    assert!(
        msgs.iter()
            .any(|(l, m)| *l == 15 && m.contains("wall position"))
    );

    let d = single(&MONITORS.replace("columns = 2", "columns = 0"));
    assert_eq!(at(&d), (14, 20));
    let d = single(&MONITORS.replace(
        "[1920, 1080]\ngrid = { columns = 2",
        "[19, 1080]\ngrid = { columns = 2",
    ));
    assert!(d.message_in(Lang::En).contains("19x1080"), "{d}");
    let d = single("name = \"x\"\nmonitors = []\n");
    assert!(d.message_in(Lang::En).contains("no monitors"), "{d}");
}

#[test]
fn clock_and_text_take_no_source() {
    let d = single(&with_tiles(
        "[[tiles]]\nid = \"a\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nsource = \"ntp\"\nx = 0\ny = 0\n",
    ));
    assert_eq!(at(&d), (21, 10));
}

#[test]
fn all_errors_are_reported_at_once() {
    let e = errors(&with_tiles(
        "[[tiles]]\nid = \"bad id\"\nmonitor = \"Z\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\n\n[[tiles]]\nid = \"b\"\nmonitor = \"A1\"\nkind = \"clock\"\ntitle = \"t\"\nx = 9\ny = 0\n",
    ));
    assert_eq!(e.len(), 3, "{e:#?}");
}

#[test]
fn messages_are_vietnamese_by_default() {
    let e = layout::parse(Path::new("w.toml"), &with_tiles("[[tiles]]\nid = \"a\"\nmonitor = \"Z9\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\n"))
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("màn hình không tồn tại") && text.contains("cách sửa"),
        "{text}"
    );
}

#[test]
fn bad_files_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let missing = layout::load(&dir.path().join("nope.toml")).unwrap_err();
    assert!(
        missing.say(Lang::En).contains("cannot read"),
        "{}",
        missing.say(Lang::En)
    );

    let binary = dir.path().join("bin.toml");
    std::fs::write(&binary, [0x6e, 0x61, 0xff, 0xfe]).unwrap();
    let e = layout::load(&binary).unwrap_err();
    assert!(e.say(Lang::En).contains("UTF-8"), "{}", e.say(Lang::En));

    let huge = dir.path().join("huge.toml");
    std::fs::write(&huge, "#".repeat(layout::MAX_LAYOUT_BYTES as usize + 1)).unwrap();
    let e = layout::load(&huge).unwrap_err();
    assert!(e.say(Lang::En).contains("more than"), "{}", e.say(Lang::En));
}

// ---------------------------------------------------------------------------------------------
// Scenes

/// Two camera tiles on A1 and a chart on B1, then the scenes given.
fn with_scenes(scenes: &str) -> String {
    with_tiles(&format!(
        r#"
[[tiles]]
id = "cam-a"
monitor = "A1"
kind = "camera"
title = "Camera A"
source = "backend"
x = 0
y = 0
[tiles.options]
camera = "cam-01"
importance = 8

[[tiles]]
id = "cam-b"
monitor = "A1"
kind = "camera"
title = "Camera B"
source = "backend"
x = 1
y = 0
[tiles.options]
camera = "cam-02"

[[tiles]]
id = "grdp"
monitor = "B1"
kind = "kpi"
title = "GRDP"
source = "backend"
x = 0
y = 0
options = {{ indicator = "grdp_growth" }}
{scenes}"#
    ))
}

#[test]
fn a_scene_changes_the_options_it_names_and_keeps_the_others() {
    let text = with_scenes(
        r#"
[[scenes]]
name = "lu-lut"
title = "Ứng phó lũ lụt"
enlarge = ["cam-b"]
[scenes.tiles.cam-a]
camera = "cam-05"
[scenes.tiles.grdp]
indicator = "exports_yearly"
"#,
    );
    let l = layout::parse(Path::new("wall.toml"), &text).unwrap();
    assert_eq!(l.scenes.len(), 1);
    let s = l.scene("lu-lut").unwrap();
    assert_eq!(s.title, "Ứng phó lũ lụt");
    assert_eq!(s.enlarge, vec!["cam-b".to_owned()]);
    let scened = l.with_scene("lu-lut").unwrap();
    let cam = |l: &layout::WallLayout, id: &str| match &l
        .tiles
        .iter()
        .find(|t| t.id == id)
        .unwrap()
        .options
    {
        TileOptions::Camera(o) => (o.camera.clone(), o.importance),
        o => panic!("{o:?}"),
    };
    assert_eq!(cam(&l, "cam-a"), ("cam-01".to_owned(), 8));
    // The scene's camera, the base layout's importance.
    assert_eq!(cam(&scened, "cam-a"), ("cam-05".to_owned(), 8));
    assert_eq!(cam(&scened, "cam-b"), ("cam-02".to_owned(), 5));
    assert!(l.with_scene("nope").is_none());
}

#[test]
fn layout_check_names_a_scene_that_refers_to_an_unknown_tile() {
    let text = with_scenes(
        r#"
[[scenes]]
name = "giao-ban"
title = "Giao ban"
[scenes.tiles.camera-99]
camera = "cam-05"
"#,
    );
    let d = single(&text);
    let line = text.lines().position(|l| l.contains("camera-99")).unwrap() + 1;
    assert_eq!(d.line, line);
    assert_eq!(
        d.message.say(Lang::En),
        "scene `giao-ban` names tile `camera-99`, which the layout does not have"
    );
    assert!(
        d.say(Lang::Vi)
            .contains("cảnh `giao-ban` nhắc tới ô `camera-99`")
    );
}

#[test]
fn layout_check_refuses_bad_scenes_all_at_once() {
    let text = with_scenes(
        r#"
[[scenes]]
name = "a"
title = "A"
enlarge = ["grdp", "ghost"]

[[scenes]]
name = "a"
title = "A again"
enlarge = ["cam-a", "cam-b"]
[scenes.tiles.cam-a]
zoom_level = 3
"#,
    );
    let said: Vec<String> = errors(&text)
        .iter()
        .map(|d| d.message.say(Lang::En))
        .collect();
    assert_eq!(said.len(), 5, "{said:#?}");
    assert!(
        said[0].contains("tile `grdp` (kpi) cannot be enlarged"),
        "{said:#?}"
    );
    assert!(said[1].contains("names tile `ghost`"), "{said:#?}");
    assert!(said[2].contains("scene `a` already exists"), "{said:#?}");
    assert!(
        said[3].contains("enlarges both `cam-b` and `cam-a` on monitor `A1`"),
        "{said:#?}"
    );
    assert!(
        said[4].starts_with("scene `a`, tile `cam-a` (camera): unknown field `zoom_level`"),
        "{said:#?}"
    );
}
