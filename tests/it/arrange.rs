//! Arrange mode's model: edits on the layout file's own document, undo and redo, and saving
//! (diff, checks, atomic write) on real files.

use std::path::{Path, PathBuf};

use ioc_console::tiles::TileKind;
use ioc_console::wall::CellRect;
use ioc_console::wall::edit::{Arrangement, Refusal};
use ioc_console::wall::save::{self, DiffLine, SaveProblem};

fn shipped() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("layouts")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "the shipped layouts: {v:?}");
    v
}

/// A copy of a shipped layout in a fresh folder (the `#:schema` line's relative path aside,
/// nothing reads the folder).
fn copy_of(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(Path::new("layouts").join(name), &path).unwrap();
    (dir, path)
}

fn changed(d: &[DiffLine]) -> Vec<String> {
    d.iter()
        .filter_map(|l| match l {
            DiffLine::Removed { line, .. } => Some(format!("-{line}")),
            DiffLine::Added { line, .. } => Some(format!("+{line}")),
            DiffLine::Same { .. } => None,
        })
        .collect()
}

#[test]
fn every_shipped_layout_opened_and_saved_without_edits_is_byte_identical() {
    for path in shipped() {
        let before = std::fs::read(&path).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(path.file_name().unwrap());
        std::fs::write(&copy, &before).unwrap();
        let mut a = Arrangement::open(&copy).unwrap();
        assert!(!a.is_modified(), "{}", path.display());
        let plan = save::plan(&a, None).unwrap();
        assert!(
            plan.diff.iter().all(|l| !l.is_change()),
            "{}",
            path.display()
        );
        save::commit(&mut a, &plan, false).unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), before, "{}", path.display());
    }
}

#[test]
fn a_move_changes_only_that_tiles_numbers_and_keeps_every_comment() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let before = std::fs::read_to_string(&path).unwrap();
    let mut a = Arrangement::open(&path).unwrap();
    let t = a.tile("duty-shift").unwrap();
    assert_eq!((t.monitor.as_str(), t.cell.x, t.cell.y), ("A1", 2, 0));
    // A1's row 1 holds the KPIs; move the shift notice down a row is refused (overlap), so
    // move it to C1's free place found by the layout itself.
    let (monitor, cell) = a.free_place(Some("duty-shift"), Some("C1"), 2, 1).unwrap();
    a.place("duty-shift", &monitor, cell).unwrap();
    let plan = save::plan(&a, None).unwrap();
    let lines = changed(&plan.diff);
    let mut expected = Vec::new();
    if monitor != "A1" {
        expected.push("-monitor = \"A1\"".to_owned());
        expected.push(format!("+monitor = \"{monitor}\""));
    }
    if cell.x != 2 {
        expected.push("-x = 2".to_owned());
        expected.push(format!("+x = {}", cell.x));
    }
    if cell.y != 0 {
        expected.push("-y = 0".to_owned());
        expected.push(format!("+y = {}", cell.y));
    }
    let mut sorted = lines.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "{lines:?}");
    save::commit(&mut a, &plan, false).unwrap();
    let after = std::fs::read_to_string(&path).unwrap();
    let comments = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(comments(&after), comments(&before));
    assert!(after.starts_with("#:schema ../docs/schema/layout.schema.json\n"));
    // What was saved is a valid layout with the tile where it was put.
    let l = ioc_console::wall::layout::load(&path).unwrap();
    let t = l.tiles.iter().find(|t| t.id == "duty-shift").unwrap();
    assert_eq!(l.monitors[t.monitor].name, monitor);
    assert_eq!(t.cell, cell);
}

#[test]
fn overlaps_and_places_outside_the_grid_are_refused_and_change_nothing() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let mut a = Arrangement::open(&path).unwrap();
    let text = a.text();
    let clock = a.tile("clock-main").unwrap_or_else(|| a.tiles()[0].clone());
    let other = a
        .tiles()
        .into_iter()
        .find(|t| t.monitor == clock.monitor && t.id != clock.id)
        .unwrap();
    let r = a.place(&clock.id, &clock.monitor, other.cell);
    assert!(
        matches!(&r, Err(Refusal::Overlap { other: o }) if *o == other.id),
        "{r:?}"
    );
    let r = a.place(
        &clock.id,
        &clock.monitor,
        CellRect {
            x: 3,
            y: 2,
            w: 2,
            h: 1,
        },
    );
    assert!(
        matches!(
            r,
            Err(Refusal::Outside {
                columns: 4,
                rows: 3,
                ..
            })
        ),
        "{r:?}"
    );
    let r = a.nudge(&clock.id, -1, 0);
    assert!(matches!(r, Err(Refusal::Outside { .. })), "{r:?}");
    assert_eq!(a.text(), text);
    assert!(!a.can_undo());
}

#[test]
fn undo_and_redo_go_back_to_the_opened_file_and_forward_again() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let opened = std::fs::read_to_string(&path).unwrap();
    let mut a = Arrangement::open(&path).unwrap();
    let m = a.add_monitor().unwrap();
    let id = a.add_tile(TileKind::Clock, Some(&m), "Giờ").unwrap();
    a.nudge(&id, 1, 0).unwrap();
    a.grow(&id, 1, 0).unwrap();
    let dup = a.duplicate_tile(&id).unwrap();
    a.remove_tile("duty-shift").unwrap();
    a.set_title(&dup, "Giờ Hà Nội").unwrap();
    let edited = a.text();
    assert_ne!(edited, opened);
    let mut n = 0;
    while a.undo() {
        n += 1;
    }
    assert_eq!(n, 7);
    assert_eq!(a.text(), opened);
    assert!(!a.is_modified());
    while a.redo() {}
    assert_eq!(a.text(), edited);
    // A new edit after an undo drops what could have been redone.
    a.undo();
    assert!(a.can_redo());
    a.set_title(&id, "Giờ Việt Nam").unwrap();
    assert!(!a.can_redo());
}

#[test]
fn a_new_tile_is_appended_in_the_files_style_and_passes_the_check() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let before = std::fs::read_to_string(&path).unwrap();
    let mut a = Arrangement::open(&path).unwrap();
    // The main wall is full: a tile has no place until a monitor is added.
    assert!(matches!(
        a.add_tile(TileKind::Kpi, None, "x"),
        Err(Refusal::NoRoom { .. })
    ));
    let name = a.add_monitor().unwrap();
    let with_monitor = a.text();
    // The new monitor is written after the last one, before the tiles, like the others.
    let block = format!(
        "\n[[monitors]]\nname = \"{name}\"\ndisplay = 6\nresolution = [1920, 1080]\ngrid = {{ columns = 4, rows = 3 }}\nwall_position = {{ column = 3, row = 0 }}\n"
    );
    let at = with_monitor.find(&block).expect(&with_monitor);
    assert!(at < with_monitor.find("[[tiles]]").unwrap());
    assert_eq!(with_monitor.replacen(&block, "", 1), before);
    let id = a
        .add_tile(TileKind::Kpi, Some(&name), "Chỉ số mới")
        .unwrap();
    let text = a.text();
    let tile = format!(
        "\n[[tiles]]\nid = \"{id}\"\nmonitor = \"{name}\"\nkind = \"kpi\"\ntitle = \"Chỉ số mới\"\nsource = \"backend\"\nx = 0\ny = 0\noptions = {{ indicator = \"grdp_growth\" }}\n"
    );
    // After the last tile, before the scenes; nothing else changes.
    let at = text.find(&tile).expect(&text);
    assert!(text[..at].ends_with("importance = 3\n"), "{}", &text[..at]);
    assert!(text[at + tile.len()..].starts_with("\n# --- Scenes"));
    assert_eq!(text.replacen(&tile, "", 1), with_monitor);
    ioc_console::wall::layout::parse(&path, &text).unwrap();
    // Every kind of the palette can be added and checks.
    for kind in TileKind::ALL {
        match a.add_tile(kind, None, "x") {
            Ok(_) | Err(Refusal::NoRoom { .. }) => {}
            Err(e) => panic!("{kind:?}: {e:?}"),
        }
    }
    ioc_console::wall::layout::parse(&path, &a.text()).unwrap();
}

#[test]
fn a_removed_tile_leaves_the_comments_above_it_for_the_next() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let mut a = Arrangement::open(&path).unwrap();
    let before = a.text();
    assert!(before.contains("# --- Cameras"));
    a.remove_tile("camera-01").unwrap();
    let after = a.text();
    assert!(!after.contains("id = \"camera-01\""));
    assert!(after.contains("# --- Cameras"));
    let i = after.find("# --- Cameras").unwrap();
    assert!(after[i..].contains("id = \"camera-02\""));
}

#[test]
fn a_grid_that_strands_tiles_lists_them_and_saving_waits_until_they_are_placed() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let mut a = Arrangement::open(&path).unwrap();
    a.set_grid("A1", 2, 2).unwrap();
    let stranded: Vec<String> = a.stranded().iter().map(|s| s.id.clone()).collect();
    assert!(!stranded.is_empty());
    // The drawable layout leaves them out; the others are drawn.
    assert!(a.layout().tiles.iter().all(|t| !stranded.contains(&t.id)));
    let r = save::plan(&a, None);
    assert!(
        matches!(&r, Err(SaveProblem::Stranded(ids)) if *ids == stranded),
        "{r:?}"
    );
    for id in &stranded {
        if a.place_stranded(id).is_err() {
            a.remove_tile(id).unwrap();
        }
    }
    assert!(a.stranded().is_empty());
    let plan = save::plan(&a, None).unwrap();
    save::commit(&mut a, &plan, false).unwrap();
    ioc_console::wall::layout::load(&path).unwrap();
    // Removing a monitor strands its tiles the same way.
    a.remove_monitor("B2").unwrap();
    assert!(a.stranded().iter().any(|s| s.id == "camera-01"));
    a.undo();
    assert!(a.stranded().is_empty());
}

#[test]
fn monitors_are_added_renamed_reordered_and_resized() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let mut a = Arrangement::open(&path).unwrap();
    let name = a.add_monitor().unwrap();
    assert_eq!(a.layout().monitors.len(), 7);
    a.rename_monitor("A1", "A1-trai").unwrap();
    assert!(a.tiles().iter().filter(|t| t.monitor == "A1-trai").count() > 0);
    assert!(a.tiles().iter().all(|t| t.monitor != "A1"));
    assert!(matches!(
        a.rename_monitor("B1", "C1"),
        Err(Refusal::BadMonitorName(_))
    ));
    a.reorder_monitor(&name, -1).unwrap();
    let names = a.monitor_names();
    assert_eq!(names[5], name);
    assert_eq!(names[6], "C2");
    a.set_resolution("C2", 3840, 2160).unwrap();
    assert_eq!(a.layout().monitors[6].resolution, [3840, 2160]);
    assert!(matches!(
        a.set_resolution("C2", 10, 10),
        Err(Refusal::BadSize)
    ));
    assert!(matches!(a.set_grid("C2", 0, 3), Err(Refusal::BadSize)));
    let plan = save::plan(&a, None).unwrap();
    save::commit(&mut a, &plan, false).unwrap();
    let l = ioc_console::wall::layout::load(&path).unwrap();
    assert_eq!(l.monitors[5].name, name);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("resolution = [3840, 2160]")
    );
}

#[test]
fn an_option_the_kind_does_not_take_is_refused_with_the_checks_words_and_unknown_keys_stay() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let mut a = Arrangement::open(&path).unwrap();
    a.set_option("camera-02", "camera", "\"cam-05\"").unwrap();
    assert!(a.text().contains("camera = \"cam-05\""));
    // The other options of the tile stay as written.
    let opts = a.options_of("camera-02");
    assert_eq!(
        opts,
        vec![
            ("camera".to_owned(), "\"cam-05\"".to_owned()),
            ("nearby".to_owned(), "2".to_owned()),
            ("importance".to_owned(), "7".to_owned())
        ]
    );
    let r = a.set_option("camera-02", "zoom_level", "3");
    let Err(Refusal::Invalid(e)) = r else {
        panic!("{r:?}")
    };
    let said = e.say(ioc_console::i18n::Lang::En);
    assert!(said.contains("zoom_level"), "{said}");
    assert!(matches!(
        a.set_option("camera-02", "camera", "cam-05"),
        Err(Refusal::Invalid(_))
    ));
}

#[test]
fn a_file_changed_on_disk_during_editing_is_not_overwritten() {
    let (_dir, path) = copy_of("desk.toml");
    let mut a = Arrangement::open(&path).unwrap();
    let t = a.tiles()[0].clone();
    a.set_title(&t.id, "Tiêu đề mới").unwrap();
    let someone_else = std::fs::read_to_string(&path)
        .unwrap()
        .replace("name = ", "name  = ");
    std::fs::write(&path, &someone_else).unwrap();
    let r = save::plan(&a, None);
    assert!(
        matches!(&r, Err(SaveProblem::ChangedOnDisk { disk }) if *disk == someone_else),
        "{r:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), someone_else);
    // A plan made before the change is checked again when written.
    std::fs::write(&path, a.on_disk()).unwrap();
    let plan = save::plan(&a, None).unwrap();
    std::fs::write(&path, &someone_else).unwrap();
    assert!(matches!(
        save::commit(&mut a, &plan, false),
        Err(SaveProblem::ChangedOnDisk { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), someone_else);
    // Saving as a new file keeps both.
    let other = path.with_file_name("desk-2.toml");
    let plan = save::plan(&a, Some(&other)).unwrap();
    assert!(plan.new_file);
    save::commit(&mut a, &plan, false).unwrap();
    assert!(
        std::fs::read_to_string(&other)
            .unwrap()
            .contains("Tiêu đề mới")
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), someone_else);
    assert_eq!(a.path(), other.as_path());
    assert!(matches!(
        save::plan(&a, Some(&path)),
        Err(SaveProblem::Exists(_))
    ));
}

#[test]
fn a_failed_write_leaves_the_old_file() {
    let (dir, path) = copy_of("desk.toml");
    let before = std::fs::read_to_string(&path).unwrap();
    let mut a = Arrangement::open(&path).unwrap();
    let t = a.tiles()[0].clone();
    a.set_title(&t.id, "Khác").unwrap();
    // The temporary file's place is taken (as a full disk or a failing write would stop it).
    let blocker = dir
        .path()
        .join(format!(".desk.toml.{}.tmp", std::process::id()));
    std::fs::create_dir(&blocker).unwrap();
    let plan = save::plan(&a, None).unwrap();
    let r = save::commit(&mut a, &plan, false);
    assert!(matches!(r, Err(SaveProblem::Io { .. })), "{r:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    std::fs::remove_dir(&blocker).unwrap();
    // A read-only file is refused as such.
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).unwrap();
    let r = save::commit(&mut a, &plan, false);
    let Err(SaveProblem::Io { reason, .. }) = r else {
        panic!("{r:?}")
    };
    assert!(reason.contains("read-only"), "{reason}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_invalid_layout_is_not_editable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "name = \"x\"\n[[monitors]]\nname = \"A\"\n").unwrap();
    assert!(Arrangement::open(&path).is_err());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "name = \"x\"\n[[monitors]]\nname = \"A\"\n"
    );
}

#[test]
fn the_diff_shows_only_what_changed_with_context() {
    let d = save::diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\nh\n");
    assert_eq!(changed(&d), vec!["-d", "+D", "+h"]);
    let h = save::hunks(&d, 1);
    let shown: Vec<String> = h
        .iter()
        .map(|l| match l {
            None => "…".into(),
            Some(DiffLine::Same { line, .. }) => format!(" {line}"),
            Some(DiffLine::Removed { line, .. }) => format!("-{line}"),
            Some(DiffLine::Added { line, .. }) => format!("+{line}"),
        })
        .collect();
    assert_eq!(shown, vec![" c", "-d", "+D", " e", "…", " g", "+h"]);
}

#[test]
fn a_scene_is_made_from_the_base_layout_and_saved_as_the_difference() {
    let (_dir, path) = copy_of("ioc-main.toml");
    let mut a = Arrangement::open(&path).unwrap();
    let before = a.text();
    let n = a.scenes().len();
    let name = a.add_scene("Lũ lụt").unwrap();
    a.set_scene_option(&name, "camera-02", "camera", "\"cam-05\"")
        .unwrap();
    a.toggle_scene_enlarge(&name, "camera-02").unwrap();
    // The base layout is untouched; the scene is appended after the last table.
    let text = a.text();
    assert!(
        text.starts_with(&before),
        "the base layout stays as written"
    );
    assert_eq!(
        &text[before.len()..],
        format!(
            "\n[[scenes]]\nname = \"{name}\"\ntitle = \"Lũ lụt\"\nenlarge = [\"camera-02\"]\n[scenes.tiles.camera-02]\ncamera = \"cam-05\"\n"
        )
    );
    let (opts, changed) = a.scene_options_of(&name, "camera-02");
    assert_eq!(changed, vec!["camera".to_owned()]);
    assert!(opts.contains(&("camera".into(), "\"cam-05\"".into())));
    assert!(
        opts.contains(&("importance".into(), "7".into())),
        "the base options show through"
    );
    assert_eq!(
        a.options_of("camera-02")[0],
        ("camera".into(), "\"cam-02\"".into())
    );
    // What layout check refuses is refused: a KPI cannot be enlarged.
    let kpi = a.tiles().into_iter().find(|t| t.kind == "kpi").unwrap().id;
    assert!(matches!(
        a.toggle_scene_enlarge(&name, &kpi),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        a.set_scene_option(&name, "camera-02", "zoom_level", "3"),
        Err(Refusal::Invalid(_))
    ));
    let plan = save::plan(&a, None).unwrap();
    save::commit(&mut a, &plan, false).unwrap();
    let l = ioc_console::wall::layout::load(&path).unwrap();
    assert_eq!(l.scenes.len(), n + 1);
    assert_eq!(
        l.scene(&name).unwrap().enlarge,
        vec!["camera-02".to_owned()]
    );
    // Taking the changes back leaves no empty tables behind.
    a.clear_scene_option(&name, "camera-02", "camera").unwrap();
    a.toggle_scene_enlarge(&name, "camera-02").unwrap();
    assert!(
        a.text().ends_with(&format!(
            "[[scenes]]\nname = \"{name}\"\ntitle = \"Lũ lụt\"\n"
        )),
        "{}",
        a.text()
    );
    a.remove_scene(&name).unwrap();
    assert_eq!(a.text(), before);
}

// ---------------------------------------------------------------------------------------------
// The mode itself, driven as a technician would: on the desk window, with the pointer and keys.

mod ui {
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};
    use std::rc::Rc;

    use egui::{Key, Modifiers, Pos2, vec2};
    use egui_kittest::kittest::Queryable as _;
    use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
    use ioc_console::context::Command;
    use ioc_console::i18n::Lang;
    use ioc_console::role::{Mode, Role};
    use ioc_console::wall::CellRect;

    use crate::support::{fixed_clock, harness, snapshot};

    const WALL: &str = r#"#:schema ../docs/schema/layout.schema.json
# A wall of two monitors for arranging.
name = "Tường thử"

[[monitors]]
name = "A"
display = 0
resolution = [1920, 1080]
grid = { columns = 4, rows = 3 }
wall_position = { column = 0, row = 0 }

[[monitors]]
name = "B"
display = 1
resolution = [1920, 1080]
grid = { columns = 4, rows = 3 }
wall_position = { column = 1, row = 0 }

# The clock goes where the technician wants it.
[[tiles]]
id = "clock"
monitor = "A"
kind = "clock"
title = "Giờ"
x = 0
y = 0

[[tiles]]
id = "note"
monitor = "A"
kind = "text"
title = "Ghi chú"
x = 1
y = 0
w = 2
[tiles.options]
body = "Ca trực"  # shown to the duty operators

[[tiles]]
id = "b-note"
monitor = "B"
kind = "text"
title = "Màn hình B"
x = 0
y = 0
[tiles.options]
body = "B"
"#;

    fn app(path: &Path, role: Role) -> ConsoleApp {
        app_watching(path, role, false)
    }

    /// The console on the layout at `path`, watching the file for changes when `watch`.
    fn app_watching(path: &Path, role: Role, watch: bool) -> ConsoleApp {
        let layout = ioc_console::wall::layout::load(path).unwrap();
        ConsoleApp::new(
            &egui::Context::default(),
            LaunchOptions {
                layout,
                layout_path: Some(path.to_path_buf()),
                lang: Lang::Vi,
                role,
                display: DisplayChoice::Preview,
                watch,
                backend: None,
                map: Default::default(),
                cameras: Default::default(),
                wake: None,
            },
        )
        .with_clock(fixed_clock())
    }

    fn wall_file() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("thu.toml");
        std::fs::write(&path, WALL).unwrap();
        (dir, path)
    }

    fn cell_of(app: &Rc<RefCell<ConsoleApp>>, id: &str) -> (String, CellRect) {
        let t = app
            .borrow()
            .arrange
            .arrangement()
            .unwrap()
            .tile(id)
            .unwrap();
        (t.monitor, t.cell)
    }

    /// The desk window of `app` in a harness, after its first frame.
    fn desk(app: &Rc<RefCell<ConsoleApp>>, size: [f32; 2]) -> egui_kittest::Harness<'static> {
        let app = Rc::clone(app);
        let mut h = harness(size, move |ui| app.borrow_mut().show(ui));
        h.run();
        h
    }

    /// Enters Arrange mode and moves the first tile a row down by key (an unsaved change).
    fn arrange_and_move_the_first_tile(
        h: &mut egui_kittest::Harness<'_>,
        app: &Rc<RefCell<ConsoleApp>>,
    ) {
        app.borrow_mut().apply(Command::SetMode(Mode::Arrange));
        h.run();
        h.key_press(Key::Tab);
        h.run();
        h.key_press(Key::ArrowDown);
        h.run();
    }

    fn drag(h: &mut egui_kittest::Harness<'_>, from: Pos2, to: Pos2) {
        h.drag_at(from);
        h.run();
        h.hover_at(from + (to - from) * 0.5);
        h.run();
        h.hover_at(to);
        h.run();
        h.drop_at(to);
        h.run();
    }

    #[test]
    fn operators_and_leaders_are_not_offered_arrange_and_the_command_is_refused() {
        for role in [Role::Operator, Role::Leader] {
            let (_dir, path) = wall_file();
            let app = Rc::new(RefCell::new(app(&path, role)));
            let mut h = desk(&app, [1400.0, 700.0]);
            h.get_by_label("Vận hành");
            assert!(h.query_by_label("Bố trí").is_none(), "{role:?}");
            app.borrow_mut().apply(Command::SetMode(Mode::Arrange));
            h.run();
            assert_eq!(app.borrow().mode(), Mode::Operate, "{role:?}");
            h.get_by_label_contains("Chế độ Bố trí không dành cho vai trò");
        }
    }

    #[test]
    fn a_technician_drags_resizes_and_moves_tiles_by_keys_undoes_everything_and_saves() {
        // A folder of this test alone, named the same on every machine: the snapshot shows the
        // file's path.
        let dir = PathBuf::from("target/tmp/arrange-ui-snapshot");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("thu.toml");
        std::fs::write(&path, WALL).unwrap();
        let app = Rc::new(RefCell::new(app(&path, Role::Technician)));
        let mut h = desk(&app, [1400.0, 700.0]);
        h.get_by_label("Bố trí").click();
        h.run();
        assert_eq!(app.borrow().mode(), Mode::Arrange);
        let clock = h.get_by_label("clock").rect();
        let note = h.get_by_label("note").rect();
        // One cell: from the clock's left edge to the note's (the gap included).
        let cw = note.left() - clock.left();
        let ch = cw * 9.0 / 16.0 * (4.0 / 3.0);

        // Drag the clock to column 3, row 2 of monitor A.
        let c = clock.center();
        drag(&mut h, c, c + vec2(3.0 * cw, 2.0 * ch));
        assert_eq!(
            cell_of(&app, "clock"),
            (
                "A".into(),
                CellRect {
                    x: 3,
                    y: 2,
                    w: 1,
                    h: 1
                }
            )
        );

        // Drag it to monitor B, right of B's note.
        let clock = h.get_by_label("clock").rect();
        let b = h.get_by_label("b-note").rect();
        drag(&mut h, clock.center(), b.center() + vec2(cw, 0.0));
        assert_eq!(
            cell_of(&app, "clock"),
            (
                "B".into(),
                CellRect {
                    x: 1,
                    y: 0,
                    w: 1,
                    h: 1
                }
            )
        );

        // Resize it across two cells by its right edge, and one down by its bottom right corner.
        let clock = h.get_by_label("clock").rect();
        let edge = egui::pos2(clock.right() - 2.0, clock.center().y);
        drag(&mut h, edge, edge + vec2(cw, 0.0));
        assert_eq!(
            cell_of(&app, "clock").1,
            CellRect {
                x: 1,
                y: 0,
                w: 2,
                h: 1
            }
        );
        let clock = h.get_by_label("clock").rect();
        let corner = clock.right_bottom() - vec2(2.0, 2.0);
        drag(&mut h, corner, corner + vec2(0.0, ch));
        assert_eq!(
            cell_of(&app, "clock").1,
            CellRect {
                x: 1,
                y: 0,
                w: 2,
                h: 2
            }
        );

        // Onto B's note: drawn red while dragging, refused on drop, the clock back in its place.
        let clock = h.get_by_label("clock").rect();
        let b = h.get_by_label("b-note").rect();
        let grip = clock.left_top() + vec2(cw * 0.5, ch * 0.5);
        h.drag_at(grip);
        h.run();
        h.hover_at(grip + (b.center() - grip) * 0.5);
        h.run();
        h.hover_at(b.center());
        h.run();
        // The clock's options are not written: the form shows the kind's defaults.
        {
            use egui_kittest::kittest::NodeT as _;
            let date = h.get_by_label("date").accesskit_node().toggled();
            assert_eq!(date, Some(egui::accesskit::Toggled::True));
        }
        snapshot(&mut h, "arrange_refused_drag_vi");
        h.drop_at(b.center());
        h.run();
        assert_eq!(
            cell_of(&app, "clock"),
            (
                "B".into(),
                CellRect {
                    x: 1,
                    y: 0,
                    w: 2,
                    h: 2
                }
            )
        );
        h.get_by_label_contains(
            "Ô được trả về chỗ cũ. Không đặt được: vị trí chồng lên ô `b-note`",
        );

        // Keys: the clock is selected; down a row, then one column narrower.
        h.key_press(Key::ArrowDown);
        h.run();
        assert_eq!(
            cell_of(&app, "clock").1,
            CellRect {
                x: 1,
                y: 1,
                w: 2,
                h: 2
            }
        );
        h.key_press_modifiers(Modifiers::SHIFT, Key::ArrowLeft);
        h.run();
        assert_eq!(
            cell_of(&app, "clock").1,
            CellRect {
                x: 1,
                y: 1,
                w: 1,
                h: 2
            }
        );
        // Ctrl+D duplicates, Tab selects the next tile, Delete removes it.
        h.key_press_modifiers(Modifiers::COMMAND, Key::D);
        h.run();
        let copy = app.borrow().arrange.selected().unwrap().to_owned();
        assert_ne!(copy, "clock");
        assert!(
            app.borrow()
                .arrange
                .arrangement()
                .unwrap()
                .tile(&copy)
                .is_some()
        );
        h.key_press(Key::Delete);
        h.run();
        assert!(
            app.borrow()
                .arrange
                .arrangement()
                .unwrap()
                .tile(&copy)
                .is_none()
        );
        h.key_press(Key::Tab);
        h.run();
        assert_eq!(app.borrow().arrange.selected(), Some("clock"));
        h.key_press(Key::Tab);
        h.run();
        assert_eq!(app.borrow().arrange.selected(), Some("note"));

        // Undo everything: back to the opened file; redo everything.
        let arranged = app.borrow().arrange.arrangement().unwrap().text();
        for _ in 0..9 {
            h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
            h.run();
        }
        assert_eq!(app.borrow().arrange.arrangement().unwrap().text(), WALL);
        for i in 0..9 {
            if i % 2 == 0 {
                h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
            } else {
                h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
            }
            h.run();
        }
        assert_eq!(app.borrow().arrange.arrangement().unwrap().text(), arranged);

        // Save: the diff first, then the file.
        h.key_press_modifiers(Modifiers::COMMAND, Key::S);
        h.run();
        h.get_by_label("Lưu bố cục: các dòng thay đổi");
        h.get_by_label_contains("- monitor = \"A\"");
        h.get_by_label_contains("+ monitor = \"B\"");
        h.get_by_label("Ghi tệp").click();
        h.run();
        let saved = std::fs::read_to_string(&path).unwrap();
        assert_eq!(saved, arranged);
        let l = ioc_console::wall::layout::load(&path).unwrap();
        let t = l.tiles.iter().find(|t| t.id == "clock").unwrap();
        assert_eq!(l.monitors[t.monitor].name, "B");
        assert_eq!(
            t.cell,
            CellRect {
                x: 1,
                y: 1,
                w: 1,
                h: 2
            }
        );
        assert!(saved.contains("# The clock goes where the technician wants it.\n[[tiles]]\nid = \"clock\"\nmonitor = \"B\"\nkind = \"clock\"\ntitle = \"Giờ\"\nx = 1\ny = 1\nw = 1\nh = 2\n"), "{saved}");
        assert!(saved.contains("body = \"Ca trực\"  # shown to the duty operators\n"));
        h.get_by_label_contains("Đã lưu");
        // Nothing unsaved: leaving is at once.
        app.borrow_mut().apply(Command::SetMode(Mode::Operate));
        h.run();
        assert_eq!(app.borrow().mode(), Mode::Operate);
    }

    #[test]
    fn leaving_with_unsaved_changes_asks_to_save_discard_or_stay() {
        let (_dir, path) = wall_file();
        let app = Rc::new(RefCell::new(app(&path, Role::Technician)));
        let mut h = desk(&app, [1400.0, 700.0]);
        arrange_and_move_the_first_tile(&mut h, &app);
        assert!(app.borrow().arrange.has_unsaved());
        h.get_by_label("Vận hành").click();
        h.run();
        assert_eq!(app.borrow().mode(), Mode::Arrange);
        h.get_by_label("Ở lại").click();
        h.run();
        assert_eq!(app.borrow().mode(), Mode::Arrange);
        h.get_by_label("Vận hành").click();
        h.run();
        h.get_by_label("Bỏ thay đổi").click();
        h.run();
        assert_eq!(app.borrow().mode(), Mode::Operate);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), WALL);
        // Again, and save this time: the diff, then written, then the mode changes.
        arrange_and_move_the_first_tile(&mut h, &app);
        h.get_by_label("Vận hành").click();
        h.run();
        h.get_by_label("Lưu rồi rời").click();
        h.run();
        h.get_by_label("Ghi tệp").click();
        h.run();
        assert_eq!(app.borrow().mode(), Mode::Operate);
        assert!(std::fs::read_to_string(&path).unwrap().contains(
            "id = \"clock\"\nmonitor = \"A\"\nkind = \"clock\"\ntitle = \"Giờ\"\nx = 0\ny = 1\n"
        ));
    }

    #[test]
    fn an_invalid_layout_shows_its_errors_and_is_not_editable() {
        let (_dir, path) = wall_file();
        let app = Rc::new(RefCell::new(app(&path, Role::Technician)));
        // The file goes bad after the console loaded it.
        std::fs::write(
            &path,
            WALL.replace("x = 1\ny = 0\nw = 2", "x = 0\ny = 0\nw = 2"),
        )
        .unwrap();
        let mut h = desk(&app, [1400.0, 700.0]);
        app.borrow_mut().apply(Command::SetMode(Mode::Arrange));
        h.run();
        h.get_by_label("Tệp bố cục này chưa bố trí được");
        h.get_by_label_contains("chồng lên ô `clock`");
        assert!(app.borrow().arrange.arrangement().is_none());
    }

    const PICKERS: &str = r#"name = "Tường thử"

[[monitors]]
name = "A"
display = 0
resolution = [1920, 1080]
grid = { columns = 4, rows = 3 }
wall_position = { column = 0, row = 0 }

[[tiles]]
id = "cam"
monitor = "A"
kind = "camera"
title = "Camera"
source = "backend"
x = 0
y = 0
[tiles.options]
camera = "cam-01"
importance = 8 # kept high

[[tiles]]
id = "gdp"
monitor = "A"
kind = "kpi"
title = "GRDP"
source = "backend"
x = 1
y = 0
options = { indicator = "grdp_growth" }
"#;

    #[test]
    fn the_form_has_a_field_per_option_of_the_schema_and_pickers_read_the_backends_lists() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sim = rt
            .block_on(ioc_console::sim::server::SimServer::start(
                ioc_console::sim::server::SimConfig {
                    listen: "127.0.0.1:0".parse().unwrap(),
                    paused: true,
                    ..Default::default()
                },
            ))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pickers.toml");
        std::fs::write(&path, PICKERS).unwrap();
        let layout = ioc_console::wall::layout::load(&path).unwrap();
        let app = crate::support::connected(sim.base_url(), Lang::Vi, Role::Technician, layout);
        let mut h = harness([1500.0, 900.0], {
            let app = Rc::clone(&app);
            move |ui| app.borrow_mut().show(ui)
        });
        let start = std::time::Instant::now();
        while {
            let s = app.borrow().wall_state().store;
            s.cameras.data.is_none() || s.indicators.data.is_none() || s.units.data.is_none()
        } {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "the lists arrive"
            );
            h.step();
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        app.borrow_mut().apply(Command::SetMode(Mode::Arrange));
        h.run();
        h.get_by_label("cam").click();
        h.run();
        // A field per option of the camera kind: `camera` (required), then the others.
        h.get_by_label("camera *");
        h.get_by_label("importance");
        h.get_by_label("profile");
        h.get_by_label("show_info").click();
        h.run();
        let opts = |app: &Rc<RefCell<ConsoleApp>>, id: &str| {
            app.borrow().arrange.arrangement().unwrap().options_of(id)
        };
        assert!(opts(&app, "cam").contains(&("show_info".into(), "true".into())));
        // The camera picker lists the backend's cameras; searching needs no diacritics.
        h.get_by_label("Chọn camera từ danh sách của máy chủ")
            .click();
        h.run();
        h.get_by_label("Tìm (gõ không dấu cũng được)").focus();
        h.run();
        h.get_by_label("Tìm (gõ không dấu cũng được)")
            .type_text("rach mieu");
        h.run();
        assert!(
            h.query_by_label_contains("·  cam-01").is_none(),
            "filtered out"
        );
        h.get_by_label_contains("·  cam-02").click();
        h.run();
        assert_eq!(
            opts(&app, "cam"),
            vec![
                ("camera".to_owned(), "\"cam-02\"".to_owned()),
                ("importance".to_owned(), "8".to_owned()),
                ("show_info".to_owned(), "true".to_owned())
            ]
        );
        let text = app.borrow().arrange.arrangement().unwrap().text();
        assert!(text.contains("[tiles.options]\ncamera = \"cam-02\"\nimportance = 8 # kept high\nshow_info = true\n"), "{text}");
        // The KPI's indicator picker groups the catalogue by sector.
        h.get_by_label("gdp").click();
        h.run();
        h.get_by_label("Chọn indicator từ danh sách của máy chủ")
            .click();
        h.run();
        h.get_by_label("statistics");
        h.get_by_label("Tìm (gõ không dấu cũng được)").focus();
        h.run();
        h.get_by_label("Tìm (gõ không dấu cũng được)")
            .type_text("xuat khau hang hoa trong nam");
        h.run();
        h.get_by_label_contains("·  exports_yearly").click();
        h.run();
        assert_eq!(
            opts(&app, "gdp"),
            vec![("indicator".to_owned(), "\"exports_yearly\"".to_owned())]
        );
        assert!(
            app.borrow()
                .arrange
                .arrangement()
                .unwrap()
                .text()
                .contains("options = { indicator = \"exports_yearly\" }\n")
        );
        // Its unit: the backend's units, the historical ones marked.
        h.get_by_label("Chọn indicator từ danh sách của máy chủ")
            .click();
        h.run();
        h.get_by_label("Chọn unit từ danh sách của máy chủ").click();
        h.run();
        h.get_by_label("Tìm (gõ không dấu cũng được)").focus();
        h.run();
        h.get_by_label("Tìm (gõ không dấu cũng được)")
            .type_text("cho lach");
        h.run();
        h.get_by_label("Huyện Chợ Lách (đơn vị cũ)  ·  bt-cho-lach")
            .click();
        h.run();
        assert_eq!(
            opts(&app, "gdp"),
            vec![
                ("indicator".to_owned(), "\"exports_yearly\"".to_owned()),
                ("unit".to_owned(), "\"bt-cho-lach\"".to_owned())
            ]
        );
        drop(sim);
    }

    const SCENES: &str = r#"name = "Tường thử"

[[monitors]]
name = "A"
display = 0
resolution = [1920, 1080]
grid = { columns = 4, rows = 3 }
wall_position = { column = 0, row = 0 }

[[tiles]]
id = "cam-1"
monitor = "A"
kind = "camera"
title = "Camera 1"
source = "backend"
x = 0
y = 0
[tiles.options]
camera = "cam-01"

[[tiles]]
id = "cam-2"
monitor = "A"
kind = "camera"
title = "Camera 2"
source = "backend"
x = 1
y = 0
[tiles.options]
camera = "cam-02"

[[scenes]]
name = "binh-thuong"
title = "Bình thường"

[[scenes]]
name = "lu-lut"
title = "Ứng phó lũ lụt"
enlarge = ["cam-2"]
[scenes.tiles.cam-1]
camera = "cam-07"
"#;

    fn camera_of(app: &Rc<RefCell<ConsoleApp>>, id: &str) -> String {
        let l = app.borrow().wall_state().layout;
        match &l.tiles.iter().find(|t| t.id == id).unwrap().options {
            ioc_console::tiles::TileOptions::Camera(o) => o.camera.clone(),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn operators_recall_scenes_by_key_and_list_and_the_top_bar_says_which() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenes.toml");
        std::fs::write(&path, SCENES).unwrap();
        let app = Rc::new(RefCell::new(app(&path, Role::Operator)));
        let mut h = desk(&app, [1400.0, 700.0]);
        let shown = |h: &egui_kittest::Harness<'_>| h.get_by_label("Cảnh:").value();
        assert_eq!(shown(&h).as_deref(), Some("Bố cục gốc"));
        h.key_press(Key::Num2);
        h.run();
        let view = app.borrow().wall_state().view;
        assert_eq!(view.scene.as_deref(), Some("lu-lut"));
        assert_eq!(view.enlarged.get("A").map(String::as_str), Some("cam-2"));
        assert_eq!(camera_of(&app, "cam-1"), "cam-07");
        assert_eq!(camera_of(&app, "cam-2"), "cam-02");
        assert_eq!(shown(&h).as_deref(), Some("Ứng phó lũ lụt"));
        // A reload of the file keeps the scene in force while the file still has it.
        let reloaded = ioc_console::wall::layout::load(&path).unwrap();
        app.borrow_mut()
            .apply_layout_event(ioc_console::wall::watch::LayoutEvent::Reloaded(Box::new(
                reloaded,
            )));
        h.run();
        assert_eq!(camera_of(&app, "cam-1"), "cam-07");
        // 0 goes back to the base layout.
        h.key_press(Key::Num0);
        h.run();
        let view = app.borrow().wall_state().view;
        assert_eq!(view.scene, None);
        assert!(view.enlarged.is_empty());
        assert_eq!(camera_of(&app, "cam-1"), "cam-01");
        // The list in the top bar recalls them too.
        h.get_by_label("Cảnh:").click();
        h.run();
        h.get_by_label("1 · Bình thường").click();
        h.run();
        assert_eq!(
            app.borrow().wall_state().view.scene.as_deref(),
            Some("binh-thuong")
        );
        assert_eq!(shown(&h).as_deref(), Some("Bình thường"));
        // A key without a scene does nothing.
        h.key_press(Key::Num7);
        h.run();
        assert_eq!(
            app.borrow().wall_state().view.scene.as_deref(),
            Some("binh-thuong")
        );
    }

    #[test]
    fn a_technician_edits_a_scene_from_the_base_layout_and_the_difference_is_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenes.toml");
        std::fs::write(&path, SCENES).unwrap();
        let app = Rc::new(RefCell::new(app(&path, Role::Technician)));
        let mut h = desk(&app, [1400.0, 800.0]);
        app.borrow_mut().apply(Command::SetMode(Mode::Arrange));
        h.run();
        h.get_by_label("Đang sửa:").click();
        h.run();
        h.get_by_label("Ứng phó lũ lụt · lu-lut").click();
        h.run();
        h.get_by_label("cam-1").click();
        h.run();
        // The scene's camera shows in the form; moving is not a scene's business.
        assert_eq!(
            h.get_by_label("camera *").value().as_deref(),
            Some("cam-07")
        );
        h.key_press(Key::ArrowRight);
        h.run();
        h.get_by_label_contains("Đang sửa một cảnh: cảnh không di chuyển ô");
        // Enlarge cam-1 in the scene: refused, the scene enlarges cam-2 on the same monitor.
        h.get_by_label("Phóng to trong cảnh này").click();
        h.run();
        h.get_by_label_contains(
            "Không thay đổi được: cảnh `lu-lut` phóng to cả `cam-1` và `cam-2`",
        );
        // Take cam-2's enlarging off, then enlarge cam-1.
        h.get_by_label("cam-2").click();
        h.run();
        h.get_by_label("Phóng to trong cảnh này").click();
        h.run();
        h.get_by_label("cam-1").click();
        h.run();
        h.get_by_label("Phóng to trong cảnh này").click();
        h.run();
        let text = app.borrow().arrange.arrangement().unwrap().text();
        let base_end = SCENES.find("[[scenes]]").unwrap();
        assert_eq!(
            &text[..base_end],
            &SCENES[..base_end],
            "the base layout is untouched"
        );
        assert!(
            text.ends_with("title = \"Ứng phó lũ lụt\"\nenlarge = [\"cam-1\"]\n[scenes.tiles.cam-1]\ncamera = \"cam-07\"\n"),
            "{text}"
        );
        // A new scene, saved with the file.
        h.get_by_label("Thêm cảnh").click();
        h.run();
        assert_eq!(
            app.borrow().arrange.arrangement().unwrap().scenes().len(),
            3
        );
        h.key_press_modifiers(Modifiers::COMMAND, Key::S);
        h.run();
        h.get_by_label("Ghi tệp").click();
        h.run();
        let l = ioc_console::wall::layout::load(&path).unwrap();
        assert_eq!(l.scenes.len(), 3);
        assert_eq!(l.scene("lu-lut").unwrap().enlarge, vec!["cam-1".to_owned()]);
        assert_eq!(l.scenes[2].title, "Cảnh mới");
    }

    #[test]
    fn a_saved_layout_is_what_every_console_watching_the_file_shows() {
        let (_dir, path) = wall_file();
        let mut wall = app_watching(&path, Role::Operator, true);
        let mut a = ioc_console::wall::edit::Arrangement::open(&path).unwrap();
        a.place(
            "clock",
            "B",
            CellRect {
                x: 3,
                y: 2,
                w: 1,
                h: 1,
            },
        )
        .unwrap();
        let plan = ioc_console::wall::save::plan(&a, None).unwrap();
        ioc_console::wall::save::commit(&mut a, &plan, false).unwrap();
        let start = std::time::Instant::now();
        loop {
            wall.poll_layout();
            let l = wall.wall_state().layout;
            let t = l.tiles.iter().find(|t| t.id == "clock").unwrap();
            if l.monitors[t.monitor].name == "B" {
                assert_eq!(
                    t.cell,
                    CellRect {
                        x: 3,
                        y: 2,
                        w: 1,
                        h: 1
                    }
                );
                break;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "the watching console reloads"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn a_file_changed_on_disk_is_shown_beside_the_arrangement_and_overwritten_only_when_asked() {
        let (_dir, path) = wall_file();
        let app = Rc::new(RefCell::new(app(&path, Role::Technician)));
        let mut h = desk(&app, [1400.0, 800.0]);
        arrange_and_move_the_first_tile(&mut h, &app);
        let theirs = WALL.replace("title = \"Ghi chú\"", "title = \"Ghi chú của ca đêm\"");
        std::fs::write(&path, &theirs).unwrap();
        h.key_press_modifiers(Modifiers::COMMAND, Key::S);
        h.run();
        h.get_by_label("Tệp đã bị thay đổi trên đĩa");
        h.get_by_label_contains("không ghi đè");
        // Both versions: the lines from theirs to mine, and theirs whole.
        h.get_by_label_contains("- title = \"Ghi chú của ca đêm\"");
        h.get_by_label_contains("+ title = \"Ghi chú\"");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
        h.get_by_label("Huỷ").click();
        h.run();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
        // Asked again, and told to overwrite: mine is written.
        h.key_press_modifiers(Modifiers::COMMAND, Key::S);
        h.run();
        h.get_by_label("Ghi đè bằng bản của tôi").click();
        h.run();
        let mine = app.borrow().arrange.arrangement().unwrap().text();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), mine);
        assert!(mine.contains("title = \"Ghi chú\""));
    }
}
