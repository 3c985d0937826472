//! Brief mode: storyboards validated with positions, a briefing on the simulator stepped with
//! the clicker's keys, data frozen "as of" while the simulator changes, refresh, and unattended
//! rotation on an accelerated clock.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use egui::Key;
use egui_kittest::kittest::Queryable as _;
use ioc_console::app::ConsoleApp;
use ioc_console::i18n::Lang;
use ioc_console::role::{Mode, Role};
use ioc_console::sim::{SimConfig, SimServer};
use ioc_console::wall::storyboard::{self, Show};

use crate::support::{connected, fixed_now, harness, load_layout, repo};

const LIMIT: Duration = Duration::from_secs(30);

fn shipped() -> PathBuf {
    repo().join("layouts/briefings/giao-ban-thang.toml")
}

#[test]
fn the_shipped_storyboard_is_a_monthly_briefing_on_the_main_wall() {
    let b = storyboard::load(&shipped()).unwrap_or_else(|e| panic!("{e}"));
    let titles: Vec<&str> = b.scenes.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(b.scenes.len(), 7, "{titles:?}");
    assert!(b.scenes.iter().all(|s| s.layout_name == "ioc-main"));
    assert_eq!(b.scenes[0].show, Show::Monitor(0), "economy: monitor A1");
    assert_eq!(b.scenes[1].show, Show::Tile("chart-budget-monthly".into()));
    // The flooding scene puts the layout's scene in force: its enlarged camera on B2.
    let flood = &b.scenes[6];
    assert_eq!(
        flood.enlarged,
        vec![("B2".to_owned(), "camera-07".to_owned())]
    );
    assert!(flood.duration.is_some() && flood.notes.is_some());
    // The economy scene's layout has the "giao-ban" scene's options (12 months of exports).
    let exports = b.scenes[0]
        .layout
        .tiles
        .iter()
        .find(|t| t.id == "chart-exports")
        .unwrap();
    let base = load_layout("ioc-main.toml");
    let base_exports = base.tiles.iter().find(|t| t.id == "chart-exports").unwrap();
    assert_ne!(exports.options, base_exports.options);
}

/// Two scenes of monitor C2: the province, then Ba Tri. (Its title does not say "Phạm vi": the
/// deck's footer repeats the title on every page.)
const SCOPED_BOARD: &str = r#"title = "Kiểm tra"

[[scenes]]
title = "Toàn tỉnh"
layout = "ioc-main"
monitor = "C2"

[[scenes]]
title = "Ba Tri"
layout = "ioc-main"
monitor = "C2"
scope = "bt-ba-tri"
"#;

fn write_board(dir: &Path, text: &str) -> PathBuf {
    let briefings = dir.join("briefings");
    std::fs::create_dir_all(&briefings).unwrap();
    std::fs::copy(
        repo().join("layouts/ioc-main.toml"),
        dir.join("ioc-main.toml"),
    )
    .unwrap();
    let p = briefings.join("thu.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn storyboard_mistakes_are_named_with_their_place_and_how_to_fix_them() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"title = "Thử"

[[scenes]]
title = "Không có bố cục"
layout = "khong-co"

[[scenes]]
title = "Màn hình sai"
layout = "ioc-main"
monitor = "Z9"

[[scenes]]
title = "Ô sai"
layout = "ioc-main"
tile = "khong-co-o"

[[scenes]]
title = "Cảnh sai"
layout = "ioc-main"
scene = "bao"

[[scenes]]
title = "Cả hai"
layout = "ioc-main"
monitor = "A1"
tile = "kpi-grdp"

[[scenes]]
title = "Quá nhanh"
layout = "ioc-main"
duration = 2

[[scenes]]
title = "Kỳ sai"
layout = "ioc-main"
period = "quy 3"

[[scenes]]
title = "Quá lâu"
layout = "ioc-main"
duration = 100000000000000
"#;
    let p = write_board(dir.path(), text);
    let e = storyboard::load(&p).unwrap_err();
    let said = e.say(Lang::En);
    let at = |line: usize, col: usize, words: &str| {
        assert!(
            e.0.iter().any(|d| d.line == line
                && d.column == col
                && d.say(Lang::En).contains(words)
                && d.hint.is_some()),
            "no {line}:{col} '{words}' in:\n{said}"
        );
    };
    at(5, 10, "there is no layout `khong-co`");
    at(10, 11, "has no monitor `Z9`");
    at(15, 8, "has no tile `khong-co-o`");
    at(20, 9, "has no scene `bao`");
    at(26, 8, "one monitor or one tile, not both");
    at(31, 12, "under 5 seconds");
    at(36, 10, "period `quy 3` cannot be read");
    at(41, 12, "over 86400 seconds");
    assert_eq!(e.0.len(), 8, "{said}");
    assert!(
        said.contains("ioc-main"),
        "the hint lists the layouts: {said}"
    );
    // The command line says the same and exits non-zero; the shipped one is valid.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(["--lang", "en", "layout", "check"])
        .arg(&p)
        .arg(shipped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("thu.toml:10:11"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("giao-ban-thang.toml: valid (7 scenes)"),
        "{out}"
    );
}

#[test]
fn a_storyboard_naming_an_invalid_layout_points_at_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_board(
        dir.path(),
        "title = \"x\"\n[[scenes]]\ntitle = \"a\"\nlayout = \"hong\"\n",
    );
    std::fs::write(
        dir.path().join("hong.toml"),
        "name = \"h\"\nmonitors = []\n",
    )
    .unwrap();
    let e = storyboard::load(&p).unwrap_err();
    let said = e.say(Lang::En);
    assert_eq!((e.0[0].line, e.0[0].column), (4, 10), "{said}");
    assert!(
        said.contains("layout `hong` is invalid") && said.contains("hong.toml:1:1"),
        "{said}"
    );
    assert!(storyboard::parse(&p, "title = \"x\"\nscenes = []\n", dir.path()).is_err());
}

/// A clock the test moves: real time plus an offset.
#[derive(Clone, Default)]
struct TestClock(Arc<Mutex<chrono::Duration>>);

impl TestClock {
    fn clock(&self) -> ioc_console::app::Clock {
        let offset = Arc::clone(&self.0);
        Arc::new(move || Utc::now() + *offset.lock().unwrap())
    }
    fn advance(&self, d: chrono::Duration) {
        *self.0.lock().unwrap() += d;
    }
}

fn paused_sim(rt: &tokio::runtime::Runtime) -> SimServer {
    let cfg = SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        epoch: Some(fixed_now()),
        paused: true,
        ..SimConfig::default()
    };
    rt.block_on(SimServer::start(cfg)).unwrap()
}

fn briefing_app(url: String, clock: &TestClock) -> Rc<RefCell<ConsoleApp>> {
    let app = connected(url, Lang::Vi, Role::Leader, load_layout("ioc-main.toml"));
    let app = Rc::try_unwrap(app).ok().unwrap().into_inner();
    Rc::new(RefCell::new(
        app.with_clock(clock.clock())
            .with_storyboard(shipped(), false),
    ))
}

fn scene(app: &Rc<RefCell<ConsoleApp>>) -> Option<usize> {
    app.borrow()
        .wall_state()
        .view
        .briefing
        .as_ref()
        .map(|b| b.scene)
}

fn as_of_label(at: DateTime<Utc>) -> String {
    let vn = ioc_console::format::to_vietnam_time(at);
    format!("Số liệu tính đến {}", vn.format("%H:%M %d/%m/%Y"))
}

#[test]
fn a_briefing_steps_with_the_clicker_keys_and_shows_frozen_data_until_refreshed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt);
    let clock = TestClock::default();
    let app = briefing_app(sim.base_url(), &clock);
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let start = Instant::now();
    while app.borrow().wall_state().store.resources_with_data() < 8 {
        assert!(start.elapsed() < LIMIT, "the simulator's data arrives");
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    // A leader switches to Giao ban and starts the storyboard named on the command line.
    h.get_by_label("Giao ban").click();
    h.run();
    assert_eq!(app.borrow().mode(), Mode::Brief);
    h.get_by_label("Bắt đầu giao ban").click();
    h.run();
    assert_eq!(scene(&app), Some(0));
    let as_of = app
        .borrow()
        .wall_state()
        .view
        .briefing
        .clone()
        .unwrap()
        .as_of;
    h.get_by_label(&as_of_label(as_of));
    h.get_by_label("Cảnh 1/7");
    h.get_by_label("Kinh tế: tăng trưởng, xuất khẩu, giá tiêu dùng");
    h.get_by_label("Thu ngân sách nhà nước theo tháng"); // the next scene, beside
    // The clicker: forward with →, Space and PageDown, back with ← and PageUp.
    for (key, want) in [
        (Key::ArrowRight, 1),
        (Key::Space, 2),
        (Key::PageDown, 3),
        (Key::ArrowLeft, 2),
        (Key::PageUp, 1),
        (Key::PageUp, 0),
        (Key::PageUp, 0),
    ] {
        h.key_press(key);
        h.run();
        assert_eq!(scene(&app), Some(want), "after {key:?}");
    }
    // A number and Enter jumps; a number that is no scene says so and stays.
    h.key_press(Key::Num5);
    h.run();
    h.get_by_label("Đến cảnh số: 5 (Enter)");
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(scene(&app), Some(4));
    h.get_by_label("Phản ánh khẩn cấp và sắp quá hạn");
    h.key_press(Key::Num9);
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(scene(&app), Some(4));
    h.get_by_label("Không có cảnh số 9");
    // Security: the incident queue and the map of C2, drawn from the frozen incidents.
    h.key_press(Key::Space);
    h.run();
    assert_eq!(scene(&app), Some(5));
    let frozen_before = app.borrow().wall_state().frame_ctx(Utc::now()).store;
    let count = |s: &ioc_console::store::Store| s.incidents.data.as_ref().map_or(0, |d| d.len());
    let frozen_count = count(&frozen_before);
    // The simulator runs on: new incidents arrive in the live store, not in the scene.
    clock.advance(chrono::Duration::minutes(3));
    {
        let t = fixed_now() + chrono::Duration::hours(6);
        sim.shared.world.lock().unwrap().advance_to(t);
        sim.shared.tick();
    }
    let start = Instant::now();
    while count(&app.borrow().wall_state().store) == frozen_count {
        assert!(
            start.elapsed() < LIMIT,
            "the live store gets the new incidents"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    h.run();
    let state = app.borrow().wall_state();
    let cx = state.frame_ctx(Utc::now());
    assert!(
        Arc::ptr_eq(&cx.store, &frozen_before),
        "the scene draws the frozen data"
    );
    assert_eq!(count(&cx.store), frozen_count);
    assert_eq!(
        cx.as_of,
        Some(as_of),
        "statuses and ages are reckoned as of the freeze"
    );
    assert!(count(&state.store) > frozen_count);
    h.get_by_label(&as_of_label(as_of));
    // R: the data as of now, and the new "as of" said.
    h.key_press(Key::R);
    h.run();
    let state = app.borrow().wall_state();
    let b = state.view.briefing.clone().unwrap();
    assert!(b.as_of >= as_of + chrono::Duration::minutes(3));
    let cx = state.frame_ctx(Utc::now());
    assert_eq!(
        count(&cx.store),
        count(&state.store),
        "refreshed to the live data"
    );
    h.get_by_label(&as_of_label(b.as_of));
    assert!(h.query_by_label(&as_of_label(as_of)).is_none());
    // B blacks the audience's screen out and brings it back.
    h.key_press(Key::B);
    h.run();
    assert!(
        app.borrow()
            .wall_state()
            .view
            .briefing
            .clone()
            .unwrap()
            .black
    );
    h.get_by_label("Bật màn hình (B)");
    h.key_press(Key::B);
    h.run();
    assert!(
        !app.borrow()
            .wall_state()
            .view
            .briefing
            .clone()
            .unwrap()
            .black
    );
    // Esc ends the briefing: live data, Operate mode.
    h.key_press(Key::Escape);
    h.run();
    let state = app.borrow().wall_state();
    assert!(state.view.briefing.is_none() && state.frozen.is_none());
    assert_eq!(app.borrow().mode(), Mode::Operate);
    drop(h);
    rt.block_on(sim.stop());
}

#[test]
fn unattended_rotation_shows_every_scene_once_a_round_in_order_and_refreshes_each_round() {
    let clock = TestClock::default();
    let app = offline_app(&clock).with_storyboard(shipped(), true);
    let app = Rc::new(RefCell::new(app));
    assert_eq!(app.borrow().mode(), Mode::Brief);
    let durations: Vec<i64> = app
        .borrow()
        .brief
        .storyboard
        .as_ref()
        .unwrap()
        .scenes
        .iter()
        .map(|s| s.duration.unwrap().as_secs() as i64)
        .collect();
    let round: i64 = durations.iter().sum();
    let mut h = harness([1280.0, 720.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.step();
    let started = app
        .borrow()
        .wall_state()
        .view
        .briefing
        .clone()
        .unwrap()
        .as_of;
    // Frames every 5 simulated seconds (a scene lasts 30 s or more) for three rounds.
    let mut shown: Vec<(usize, DateTime<Utc>)> = vec![(0, started)];
    let mut as_ofs = vec![started];
    let mut t = 0;
    while t < 3 * round + 1 {
        clock.advance(chrono::Duration::seconds(5));
        t += 5;
        h.step();
        let b = app.borrow().wall_state().view.briefing.clone().unwrap();
        if shown.last().unwrap().0 != b.scene {
            shown.push((b.scene, b.as_of));
        }
        if *as_ofs.last().unwrap() != b.as_of {
            as_ofs.push(b.as_of);
        }
        // Esc never leaves an unattended screen.
        if t == 60 {
            h.key_press(Key::Escape);
            h.step();
            assert_eq!(app.borrow().mode(), Mode::Brief);
            assert!(
                app.borrow().wall_state().view.briefing.is_some(),
                "still briefing"
            );
        }
    }
    let order: Vec<usize> = shown.iter().map(|(s, _)| *s).collect();
    let want: Vec<usize> = (0..3).flat_map(|_| 0..7).chain([0]).collect();
    assert_eq!(order, want, "every scene once a round, in order");
    assert_eq!(
        as_ofs.len(),
        4,
        "the data refreshed at the start of each round"
    );
    assert_eq!(app.borrow().brief.rounds, 3);
}

fn offline_app(clock: &TestClock) -> ConsoleApp {
    ConsoleApp::new(
        &egui::Context::default(),
        ioc_console::app::LaunchOptions {
            layout: load_layout("ioc-main.toml"),
            layout_path: Some(repo().join("layouts/ioc-main.toml")),
            lang: Lang::Vi,
            role: Role::Leader,
            display: ioc_console::app::DisplayChoice::Preview,
            watch: false,
            backend: None,
            map: Default::default(),
            cameras: Default::default(),
            wake: None,
        },
    )
    .with_clock(clock.clock())
}

/// Whether the pixel at `p` (or one beside it) is the red pen's colour.
fn red_at(h: &mut egui_kittest::Harness<'_>, p: egui::Pos2) -> bool {
    let img = h.render().unwrap();
    let [r, g, b] = [230i32, 60, 20];
    (-2..=2).any(|dx| {
        (-2..=2).any(|dy| {
            let px = img.get_pixel((p.x as i32 + dx) as u32, (p.y as i32 + dy) as u32);
            (px[0] as i32 - r).abs() < 30
                && (px[1] as i32 - g).abs() < 30
                && (px[2] as i32 - b).abs() < 30
        })
    })
}

#[test]
fn ink_belongs_to_its_scene_and_the_pointer_follows_the_presenter() {
    let clock = TestClock::default();
    let app = Rc::new(RefCell::new(
        offline_app(&clock).with_storyboard(shipped(), false),
    ));
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    h.get_by_label("Giao ban").click();
    h.run();
    h.get_by_label("Bắt đầu giao ban").click();
    h.run();
    let ink = |app: &Rc<RefCell<ConsoleApp>>, scene: usize| {
        app.borrow().wall_state().view.briefing.clone().unwrap().ink[scene].clone()
    };
    // The red pen, a stroke across the scene.
    h.get_by_label("Bút đỏ").click();
    h.run();
    let (a, b, c) = (
        egui::pos2(600.0, 400.0),
        egui::pos2(700.0, 420.0),
        egui::pos2(850.0, 450.0),
    );
    let on_stroke = egui::pos2(650.0, 410.0);
    assert!(
        !red_at(&mut h, on_stroke),
        "nothing red there before the pen"
    );
    h.hover_at(a);
    h.run();
    h.drag_at(a);
    h.run();
    h.hover_at(b);
    h.run();
    h.hover_at(c);
    h.run();
    h.drop_at(c);
    h.run();
    let strokes = ink(&app, 0);
    assert_eq!(strokes.len(), 1, "{strokes:?}");
    assert_eq!(strokes[0].colour, 0);
    assert!(strokes[0].points.len() >= 3, "{strokes:?}");
    assert!(
        red_at(&mut h, on_stroke),
        "the stroke is drawn on the scene"
    );
    // Forward: the next scene has no ink; back: the stroke is there again.
    h.key_press(Key::ArrowRight);
    h.run();
    assert_eq!(scene(&app), Some(1));
    assert!(ink(&app, 1).is_empty());
    h.key_press(Key::ArrowLeft);
    h.run();
    assert_eq!(ink(&app, 0), strokes);
    assert!(red_at(&mut h, on_stroke), "the ink stays with its scene");
    // The eraser takes the stroke it touches away.
    h.get_by_label("Tẩy").click();
    h.run();
    h.hover_at(on_stroke);
    h.run();
    h.drag_at(on_stroke);
    h.run();
    h.drop_at(on_stroke);
    h.run();
    assert!(ink(&app, 0).is_empty(), "erased");
    // Two strokes, then clear.
    h.get_by_label("Bút xanh").click();
    h.run();
    for y in [300.0, 500.0] {
        h.hover_at(egui::pos2(600.0, y));
        h.run();
        h.drag_at(egui::pos2(600.0, y));
        h.run();
        h.hover_at(egui::pos2(800.0, y));
        h.run();
        h.drop_at(egui::pos2(800.0, y));
        h.run();
    }
    assert_eq!(ink(&app, 0).len(), 2);
    assert!(ink(&app, 0).iter().all(|s| s.colour == 2));
    h.get_by_label("Xóa hết nét vẽ").click();
    h.run();
    assert!(ink(&app, 0).is_empty());
    // The pointer: where the mouse is, and it fades.
    h.get_by_label("Con trỏ").click();
    h.run();
    h.hover_at(egui::pos2(700.0, 400.0));
    h.run();
    let (at, since) = app
        .borrow()
        .wall_state()
        .view
        .briefing
        .clone()
        .unwrap()
        .pointer
        .unwrap();
    assert!(
        at[0] > 0.0 && at[0] < 1.0 && at[1] > 0.0 && at[1] < 1.0,
        "{at:?}"
    );
    assert!(since <= Utc::now() + chrono::Duration::seconds(1));
}

fn console(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .current_dir(repo())
        .args(args)
        .output()
        .unwrap()
}

/// Pages of a PDF rendered by poppler (pdftoppm) at a low resolution.
fn pdf_pages(pdf: &Path, dir: &Path) -> Vec<image::RgbaImage> {
    let prefix = dir.join("page");
    let o = std::process::Command::new("pdftoppm")
        .args(["-r", "24", "-png"])
        .arg(pdf)
        .arg(&prefix)
        .output()
        .expect("pdftoppm (poppler-utils) is installed by packaging/dev.sh");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| image::open(f).unwrap().to_rgba8())
        .collect()
}

/// A page with drawing on it: many distinct colours (a blank page has one or two).
fn not_blank(img: &image::RgbaImage) -> bool {
    let colours: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    colours.len() > 40
}

fn page_text(pdf: &Path, page: usize) -> String {
    let n = page.to_string();
    let o = std::process::Command::new("pdftotext")
        .args(["-f", &n, "-l", &n, "-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_deck_has_a_cover_and_a_page_per_scene_with_the_as_of_line_or_pictures_in_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("deck.pdf");
    let o = console(&[
        "export",
        "briefing",
        "--storyboard",
        "layouts/briefings/giao-ban-thang.toml",
        "--out",
        pdf.to_str().unwrap(),
        "--demo",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pages = pdf_pages(&pdf, dir.path());
    assert_eq!(pages.len(), 8, "cover + 7 scenes");
    for (i, p) in pages.iter().enumerate() {
        assert!(not_blank(p), "page {} is blank", i + 1);
    }
    let cover = page_text(&pdf, 1);
    assert!(
        cover.contains("Giao ban tháng: tình hình kinh tế"),
        "{cover}"
    );
    assert!(
        cover.contains("TỈNH VĨNH LONG"),
        "the province in force today: {cover}"
    );
    assert!(cover.contains("Số liệu tính đến"), "{cover}");
    let board = storyboard::load(&shipped()).unwrap();
    for (i, s) in board.scenes.iter().enumerate() {
        let text = page_text(&pdf, i + 2);
        assert!(text.contains("Số liệu tính đến"), "page {}: {text}", i + 2);
        assert!(
            text.contains(&format!("Trang {}/8", i + 2)),
            "page {}: {text}",
            i + 2
        );
        let head: String = s.title.chars().take(12).collect();
        assert!(
            text.contains(&head),
            "page {} names its scene: {text}",
            i + 2
        );
    }
    // The camera page says why there is no picture instead of a black box.
    assert!(page_text(&pdf, 8).contains("không có trong bản in"));
    // A folder: one picture per page.
    let pngs = dir.path().join("anh/");
    let o = console(&[
        "export",
        "briefing",
        "--storyboard",
        "layouts/briefings/giao-ban-thang.toml",
        "--out",
        pngs.to_str().unwrap(),
        "--demo",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut files: Vec<_> = std::fs::read_dir(&pngs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 8);
    let first = image::open(&files[1]).unwrap().to_rgba8();
    assert_eq!(first.dimensions(), (1600, 900));
    assert!(not_blank(&first));
}

#[test]
fn a_deck_that_cannot_be_written_says_why_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    // The folder is a file (refused even to root).
    let not_a_dir = dir.path().join("khong-phai-thu-muc");
    std::fs::write(&not_a_dir, "x").unwrap();
    let out = not_a_dir.join("deck.pdf");
    let o = console(&[
        "--lang",
        "en",
        "export",
        "briefing",
        "--storyboard",
        "layouts/briefings/giao-ban-thang.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("deck.pdf") && err.contains("Not a directory"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left.len(),
        1,
        "nothing but the file that was there: {left:?}"
    );
    // A wrong kind of output is refused before anything is drawn.
    let o = console(&[
        "--lang",
        "en",
        "export",
        "briefing",
        "--storyboard",
        "layouts/briefings/giao-ban-thang.toml",
        "--out",
        "deck.svg",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(".pdf file or a folder"));
    // A storyboard with mistakes: named, exit 1.
    let bad = dir.path().join("briefings");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("x.toml"), "title = \"x\"\nscenes = []\n").unwrap();
    let o = console(&[
        "--lang",
        "en",
        "export",
        "briefing",
        "--storyboard",
        bad.join("x.toml").to_str().unwrap(),
        "--out",
        "x.pdf",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no scenes"));
}

fn reddish(img: &image::RgbaImage) -> usize {
    img.pixels()
        .filter(|p| p[0] > 190 && p[1] < 110 && p[2] < 70)
        .count()
}

#[test]
fn the_presenters_deck_button_writes_the_scenes_with_their_ink() {
    let data = tempfile::tempdir().unwrap();
    // The exports folder is under the user's data folder (XDG): a temporary one here.
    unsafe { std::env::set_var("XDG_DATA_HOME", data.path()) };
    let clock = TestClock::default();
    let app = Rc::new(RefCell::new(
        offline_app(&clock).with_storyboard(shipped(), false),
    ));
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    h.get_by_label("Giao ban").click();
    h.run();
    h.get_by_label("Bắt đầu giao ban").click();
    h.run();
    h.get_by_label("Bút đỏ").click();
    h.run();
    for p in [
        egui::pos2(600.0, 300.0),
        egui::pos2(700.0, 500.0),
        egui::pos2(800.0, 300.0),
    ] {
        if p.x == 600.0 {
            h.hover_at(p);
            h.run();
            h.drag_at(p);
        } else {
            h.hover_at(p);
        }
        h.run();
    }
    h.drop_at(egui::pos2(800.0, 300.0));
    h.run();
    assert_eq!(
        app.borrow().wall_state().view.briefing.clone().unwrap().ink[0].len(),
        1
    );
    h.get_by_label("Xuất bản trình chiếu (PDF)").click();
    h.run();
    let exports = ConsoleApp::exports_dir();
    assert!(exports.starts_with(data.path()), "{}", exports.display());
    let start = Instant::now();
    let pdf = loop {
        let found = std::fs::read_dir(&exports).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "pdf"))
        });
        if let Some(p) = found {
            break p;
        }
        assert!(start.elapsed() < LIMIT, "the deck is written");
        h.step();
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        pdf.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("giao-ban-thang-")
    );
    // The status bar says where it went.
    let start = Instant::now();
    while h.query_by_label_contains("Đã xuất").is_none() {
        assert!(start.elapsed() < LIMIT);
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    let pages = pdf_pages(&pdf, data.path());
    assert_eq!(pages.len(), 8);
    assert!(
        reddish(&pages[1]) > 20,
        "the first scene's page has its ink"
    );
    assert!(
        reddish(&pages[2]) < reddish(&pages[1]) / 4,
        "the next one has none"
    );
}

#[test]
fn a_scope_drills_the_scene_down_to_one_unit_and_esc_returns_to_the_province() {
    use ioc_console::charts::{ChartData, UnitSelection};
    use ioc_console::incidents::queue::QueueIndex;
    use ioc_console::tiles::TileOptions;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt);
    let clock = TestClock::default();
    let app = briefing_app(sim.base_url(), &clock);
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let start = Instant::now();
    while app.borrow().wall_state().store.resources_with_data() < 8 {
        assert!(start.elapsed() < LIMIT, "the simulator's data arrives");
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    h.get_by_label("Giao ban").click();
    h.run();
    h.get_by_label("Bắt đầu giao ban").click();
    h.run();
    h.get_by_label("Phạm vi: Toàn tỉnh");
    // Typed without diacritics, the historical district is offered with its last day.
    let field = h.get_by_label("Tìm đơn vị");
    field.focus();
    field.type_text("ba tri");
    h.run();
    h.get_by_label("Huyện Ba Tri (đơn vị cũ, đến 30/06/2025)")
        .click();
    h.run();
    assert_eq!(
        app.borrow().wall_state().view.scope.as_deref(),
        Some("bt-ba-tri")
    );
    h.get_by_label("Phạm vi: Huyện Ba Tri (đơn vị cũ, đến 30/06/2025)");
    // What each kind of tile of the storyboard's scenes shows under the scope.
    let state = app.borrow().wall_state();
    let cx = state.frame_ctx(Utc::now());
    let board = app.borrow().brief.storyboard.clone().unwrap();
    let layout = ioc_console::app::scope::scoped(&board.scenes[0].layout, &cx);
    let tile = |id: &str| layout.tiles.iter().find(|t| t.id == id).unwrap().clone();
    // The chart by unit shows Ba Tri alone.
    let chart = tile("chart-reports-ontime");
    assert!(chart.title.ends_with("· Ba Tri"), "{}", chart.title);
    let TileOptions::Chart(spec) = &chart.options else {
        panic!()
    };
    assert_eq!(spec.units, UnitSelection::Ids(vec!["bt-ba-tri".into()]));
    let data = ChartData::from_store(spec, &cx.store, Lang::Vi);
    let labels: Vec<&str> = data
        .bars
        .iter()
        .map(|b| b.label.as_str())
        .chain(data.lines.iter().map(|l| l.label.as_str()))
        .collect();
    assert!(
        !labels.is_empty() && labels.iter().all(|l| l.contains("Ba Tri")),
        "{labels:?}"
    );
    // The KPI reads Ba Tri's value.
    let TileOptions::Kpi(k) = tile("kpi-grdp").options else {
        panic!()
    };
    assert_eq!(k.unit.as_deref(), Some("bt-ba-tri"));
    // The queue lists Ba Tri's incidents only, all of them.
    let TileOptions::Incidents(q) = tile("incident-queue").options else {
        panic!()
    };
    let incidents = cx.store.incidents.data.clone().unwrap();
    let mut index = QueueIndex::build(&incidents, 1);
    let rows = index.select(&q.filter, q.sort);
    let open_here = incidents
        .values()
        .filter(|i| i.unit_id == "bt-ba-tri" && !i.status.is_closed())
        .count();
    assert!(open_here > 0, "the demo has open incidents in Ba Tri");
    assert_eq!(rows.len(), open_here);
    assert!(rows.iter().all(|r| r.unit_id == "bt-ba-tri"));
    // The map shows Ba Tri's incidents, looking at Ba Tri.
    let TileOptions::Map(m) = tile("incident-map").options else {
        panic!()
    };
    let ba_tri = unit(&cx.store, "bt-ba-tri");
    assert_eq!(m.center, ba_tri.location);
    assert_eq!(m.zoom, Some(ioc_console::tiles::SCOPE_ZOOM));
    let placed = ioc_console::tiles::map::prepare_incident_points(
        &cx.store,
        ioc_console::tiles::map::Placement {
            include_closed: false,
            unit: Some("bt-ba-tri"),
        },
    );
    let all = ioc_console::tiles::map::prepare_incident_points(&cx.store, Default::default());
    assert!(placed > 0 && placed < all, "{placed} of {all}");
    // Tiles of the whole province's data say so.
    assert!(tile("providers-board").title.ends_with("· toàn tỉnh"));
    assert!(tile("backend-sources").title.ends_with("· toàn tỉnh"));
    // The clock and the cameras are neither.
    assert_eq!(tile("clock-main").title, "Giờ Việt Nam");
    // Esc: back to the province, the briefing goes on.
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(app.borrow().wall_state().view.scope, None);
    assert_eq!(app.borrow().mode(), Mode::Brief);
    assert!(app.borrow().wall_state().view.briefing.is_some());
    h.get_by_label("Phạm vi: Toàn tỉnh");
    drop(h);
    rt.block_on(sim.stop());
}

#[test]
fn operators_scope_the_wall_from_the_desk() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt);
    let app = connected(
        sim.base_url(),
        Lang::Vi,
        Role::Operator,
        load_layout("ioc-main.toml"),
    );
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let start = Instant::now();
    while h.query_by_label("Phạm vi: Toàn tỉnh").is_none() {
        assert!(
            start.elapsed() < LIMIT,
            "the scope switch appears once the units are in"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    h.get_by_label("Phạm vi: Toàn tỉnh").click();
    h.run();
    let field = h.get_by_label("Tìm đơn vị");
    field.focus();
    field.type_text("cho lach");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(
        app.borrow().wall_state().view.scope.as_deref(),
        Some("bt-cho-lach")
    );
    h.get_by_label("Về toàn tỉnh (Esc)").click();
    h.run();
    assert_eq!(app.borrow().wall_state().view.scope, None);
    drop(h);
    rt.block_on(sim.stop());
}

#[test]
fn a_briefing_started_before_the_data_arrives_freezes_it_as_it_comes_in() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt);
    let clock = TestClock::default();
    let app = connected(
        sim.base_url(),
        Lang::Vi,
        Role::Leader,
        load_layout("ioc-main.toml"),
    );
    let app = Rc::try_unwrap(app).ok().unwrap().into_inner();
    // Rotating from the start, as `run --storyboard … --rotate` does: nothing has loaded yet.
    let app = Rc::new(RefCell::new(
        app.with_clock(clock.clock())
            .with_storyboard(shipped(), true),
    ));
    let first = app
        .borrow()
        .wall_state()
        .view
        .briefing
        .clone()
        .unwrap()
        .as_of;
    assert_eq!(
        app.borrow()
            .wall_state()
            .frozen
            .as_ref()
            .unwrap()
            .resources_with_data(),
        0
    );
    let mut h = harness([1280.0, 720.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let start = Instant::now();
    while app
        .borrow()
        .wall_state()
        .frozen
        .as_ref()
        .unwrap()
        .resources_with_data()
        < 8
    {
        assert!(
            start.elapsed() < LIMIT,
            "the frozen data follows the first loads"
        );
        clock.advance(chrono::Duration::milliseconds(100));
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    let state = app.borrow().wall_state();
    assert!(
        state.view.briefing.clone().unwrap().as_of > first,
        "a new as of"
    );
    assert_eq!(
        state.view.briefing.clone().unwrap().scene,
        0,
        "the scene did not move"
    );
    drop(h);
    rt.block_on(sim.stop());
}

#[test]
fn a_scene_with_a_period_shows_its_tiles_up_to_it_and_a_unit_that_did_not_exist_then_says_so() {
    use ioc_console::charts::ChartData;
    use ioc_console::model::PeriodKey;
    use ioc_console::tiles::TileOptions;
    let dir = tempfile::tempdir().unwrap();
    let p = write_board(
        dir.path(),
        r#"title = "Kỳ"

[[scenes]]
title = "Thu ngân sách đến tháng 6/2025"
layout = "ioc-main"
tile = "chart-budget-monthly"
period = "2025-06"

[[scenes]]
title = "Quý 3/2026"
layout = "ioc-main"
monitor = "A1"
period = "2026-Q3"
"#,
    );
    let board = storyboard::load(&p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(board.scenes[0].period, PeriodKey::parse("2025-06"));
    let store = ioc_console::sim::world_store(7, fixed_now()).unwrap();
    let options = |scene: usize, id: &str, layout: &ioc_console::wall::WallLayout| {
        let _ = scene;
        layout
            .tiles
            .iter()
            .find(|t| t.id == id)
            .unwrap()
            .options
            .clone()
    };
    // Up to June 2025: the last period drawn is June 2025, not the newest month.
    let TileOptions::Chart(spec) = options(0, "chart-budget-monthly", &board.scenes[0].layout)
    else {
        panic!()
    };
    let data = ChartData::from_store(&spec, &store, Lang::Vi);
    assert_eq!(
        data.periods.last().copied(),
        PeriodKey::parse("2025-06"),
        "{:?}",
        data.periods
    );
    assert!(data.problem.is_none());
    let TileOptions::Chart(live) =
        options(0, "chart-budget-monthly", &load_layout("ioc-main.toml"))
    else {
        panic!()
    };
    assert!(
        ChartData::from_store(&live, &store, Lang::Vi)
            .periods
            .last()
            > data.periods.last()
    );
    // The KPI of Q3 2026 reads that quarter or before.
    let TileOptions::Kpi(k) = options(1, "kpi-cpi", &board.scenes[1].layout) else {
        panic!()
    };
    assert_eq!(k.period, PeriodKey::parse("2026-Q3"));
    // Scoped to Ba Tri, which ended on 30/06/2025: in Q3 2026 it did not exist, and says so.
    let ba_tri = unit(&store, "bt-ba-tri");
    let scoped = board.scenes[1].layout.scoped(&ba_tri, "toàn tỉnh");
    let TileOptions::Chart(spec) = options(1, "chart-exports", &scoped) else {
        panic!()
    };
    let data = ChartData::from_store(&spec, &store, Lang::Vi);
    let said = data
        .problem
        .as_ref()
        .map(|p| p.say(Lang::Vi))
        .unwrap_or_default();
    assert!(
        said.contains("Huyện Ba Tri không tồn tại trong kỳ"),
        "{said}"
    );
    assert!(
        data.lines.is_empty() && data.bars.is_empty(),
        "no zeros drawn"
    );
    // In June 2025 it did.
    let scoped = board.scenes[0].layout.scoped(&ba_tri, "toàn tỉnh");
    let TileOptions::Chart(spec) = options(0, "chart-budget-monthly", &scoped) else {
        panic!()
    };
    assert!(
        ChartData::from_store(&spec, &store, Lang::Vi)
            .problem
            .is_none()
    );
}

#[test]
fn a_scene_may_bring_its_scope_and_an_unknown_unit_is_named_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_board(dir.path(), SCOPED_BOARD);
    let bad = dir.path().join("briefings/sai.toml");
    std::fs::write(
        &bad,
        "title = \"x\"\n[[scenes]]\ntitle = \"a\"\nlayout = \"ioc-main\"\nscope = \"khong-co\"\n",
    )
    .unwrap();
    // Without a unit list, scopes are not checked; with the demo's, the unknown one is named.
    let o = console(&[
        "--lang",
        "en",
        "layout",
        "check",
        p.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = console(&[
        "--lang",
        "en",
        "layout",
        "check",
        "--demo",
        p.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("sai.toml:5:9: there is no unit `khong-co`") && err.contains("bt-ba-tri"),
        "{err}"
    );
    // In the console: the scene's scope comes with it, the next scene's too (the province).
    let clock = TestClock::default();
    let app = offline_app(&clock).with_storyboard(p.clone(), false);
    let app = Rc::new(RefCell::new(app));
    app.borrow_mut()
        .apply(ioc_console::context::Command::SetMode(Mode::Brief));
    app.borrow_mut().apply(ioc_console::context::Command::Brief(
        ioc_console::context::BriefStep::Start(p),
    ));
    let scope = |app: &Rc<RefCell<ConsoleApp>>| app.borrow().wall_state().view.scope.clone();
    assert_eq!(scope(&app), None);
    app.borrow_mut().apply(ioc_console::context::Command::Brief(
        ioc_console::context::BriefStep::Next,
    ));
    assert_eq!(scope(&app).as_deref(), Some("bt-ba-tri"));
    // Units not loaded (no backend): the scene says the unit is not in the list, not a silent province.
    let cx = app.borrow().wall_state().frame_ctx(Utc::now());
    assert!(
        ioc_console::app::scope::label(&cx).contains("bt-ba-tri (không có trong danh sách đơn vị")
    );
    app.borrow_mut().apply(ioc_console::context::Command::Brief(
        ioc_console::context::BriefStep::Previous,
    ));
    assert_eq!(scope(&app), None);
}

#[test]
fn a_deck_page_of_a_scoped_scene_says_its_scope() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_board(dir.path(), SCOPED_BOARD);
    let pdf = dir.path().join("deck.pdf");
    let o = console(&[
        "export",
        "briefing",
        "--storyboard",
        p.to_str().unwrap(),
        "--out",
        pdf.to_str().unwrap(),
        "--demo",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let province = page_text(&pdf, 2);
    let ba_tri = page_text(&pdf, 3);
    assert!(!province.contains("Phạm vi"), "{province}");
    assert!(
        ba_tri.contains("Phạm vi: Huyện Ba Tri (đơn vị cũ, đến 30/06/2025)"),
        "{ba_tri}"
    );
    assert!(ba_tri.contains("Số liệu tính đến"), "{ba_tri}");
    assert!(
        ba_tri.contains("· Ba Tri"),
        "the scoped tiles say the unit: {ba_tri}"
    );
}

#[test]
fn frozen_tiles_say_their_state_as_of_the_freeze_stale_included() {
    use ioc_console::tiles::TileOptions;
    let epoch = fixed_now();
    let store = Arc::new(ioc_console::sim::world_store(7, epoch).unwrap());
    let kpi = load_layout("ioc-main.toml")
        .tiles
        .into_iter()
        .find(|t| t.id == "kpi-cpi")
        .unwrap();
    let status = |now: DateTime<Utc>, as_of: Option<DateTime<Utc>>| {
        let mut cx = ioc_console::context::FrameCtx::new(Lang::Vi, now);
        cx.store = Arc::clone(&store);
        cx.as_of = as_of;
        let TileOptions::Kpi(_) = &kpi.options else {
            panic!()
        };
        kpi.options.view().status(&cx).state
    };
    use ioc_console::status::SourceState::*;
    let later = epoch + chrono::Duration::days(30);
    assert_eq!(status(epoch + chrono::Duration::minutes(1), None), Live);
    assert_eq!(
        status(later, None),
        Stale,
        "left alone for a month, the data is old"
    );
    // Frozen a minute after it arrived: still live a month later, nothing moves.
    assert_eq!(
        status(later, Some(epoch + chrono::Duration::minutes(1))),
        Live
    );
    // Frozen when it was already old: still said to be old.
    assert_eq!(
        status(epoch + chrono::Duration::minutes(1), Some(later)),
        Stale
    );
}

/// The backend's unit `id` from `store` (the test fails when it is not there).
fn unit(store: &ioc_console::store::Store, id: &str) -> ioc_console::model::Unit {
    store
        .units
        .data
        .as_deref()
        .and_then(|units| units.iter().find(|u| u.id == id))
        .unwrap_or_else(|| panic!("no unit {id}"))
        .clone()
}
