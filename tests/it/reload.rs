//! Hot reload: a changed layout file reaches the wall; an invalid one leaves the last good layout
//! on the wall and raises the banner.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable as _;
use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
use ioc_console::i18n::Lang;
use ioc_console::role::Role;
use ioc_console::wall::layout;
use ioc_console::wall::watch::{LayoutEvent, LayoutWatcher};

use crate::support::{fixed_clock, harness, repo, write};

fn desk_text() -> String {
    std::fs::read_to_string(repo().join("layouts/desk.toml")).unwrap()
}

/// Waits for the watcher's next event. The generous limit is for loaded CI machines; the
/// watcher itself polls every 200 ms.
fn next_event(w: &LayoutWatcher) -> LayoutEvent {
    let start = Instant::now();
    loop {
        if let Some(e) = w.poll() {
            return e;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no layout event arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Rewrites a file so that its modification stamp surely changes (size changes too).
fn rewrite(path: &Path, text: &str) {
    std::thread::sleep(Duration::from_millis(20));
    write(path, text);
}

#[test]
fn the_watcher_reports_valid_invalid_and_fixed_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wall.toml");
    write(&path, &desk_text());
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = {
        let wakes = Arc::clone(&wakes);
        LayoutWatcher::start(
            &path,
            Box::new(move || {
                wakes.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap()
    };

    rewrite(
        &path,
        &desk_text().replace("Bàn trực vận hành", "Bàn trực số 2"),
    );
    match next_event(&w) {
        LayoutEvent::Reloaded(l) => assert_eq!(l.name, "Bàn trực số 2"),
        LayoutEvent::Invalid(e) => panic!("{e}"),
    }

    rewrite(
        &path,
        &desk_text().replace("kind = \"text\"", "kind = \"radar\""),
    );
    match next_event(&w) {
        LayoutEvent::Invalid(e) => assert!(e.to_string().contains("radar"), "{e}"),
        LayoutEvent::Reloaded(_) => panic!("an invalid file was accepted"),
    }

    std::fs::remove_file(&path).unwrap();
    assert!(
        matches!(next_event(&w), LayoutEvent::Invalid(_)),
        "a deleted file is reported"
    );

    rewrite(&path, &desk_text());
    assert!(
        matches!(next_event(&w), LayoutEvent::Reloaded(_)),
        "the wall recovers when the file is fixed"
    );
    assert!(
        wakes.load(Ordering::SeqCst) >= 4,
        "the UI is woken for each event"
    );
}

fn app_on(path: &Path) -> ConsoleApp {
    let ctx = egui::Context::default();
    ConsoleApp::new(
        &ctx,
        LaunchOptions {
            layout: layout::load(path).unwrap(),
            layout_path: Some(path.to_path_buf()),
            lang: Lang::En,
            role: Role::Operator,
            display: DisplayChoice::Preview,
            watch: true,
            backend: None,
            wake: None,
            map: Default::default(),
            cameras: Default::default(),
        },
    )
    .with_clock(fixed_clock())
}

#[test]
fn an_invalid_layout_keeps_the_last_good_one_on_the_wall_with_a_banner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wall.toml");
    write(&path, &desk_text());
    let app = Rc::new(RefCell::new(app_on(&path)));
    let mut h = harness([1200.0, 700.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    let before = app.borrow().wall_state().layout;

    rewrite(&path, &desk_text().replacen("x = 2", "x = 3", 1));
    let start = Instant::now();
    while app.borrow().wall_state().error.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the banner never came up"
        );
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.run();
    let state = app.borrow().wall_state();
    assert_eq!(
        state.layout, before,
        "the last good layout stays on the wall"
    );
    h.get_by_label_contains("The new layout file is invalid");
    h.get_by_label_contains("reaches column 4");

    // Fixing the file clears the banner and shows the new layout.
    rewrite(
        &path,
        &desk_text().replace("Bàn trực vận hành", "Bàn trực đã sửa"),
    );
    let start = Instant::now();
    while app.borrow().wall_state().error.is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the fixed layout never arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.run();
    assert_eq!(app.borrow().wall_state().layout.name, "Bàn trực đã sửa");
    assert!(
        h.query_by_label_contains("The new layout file is invalid")
            .is_none()
    );
}

const MAP_LAYOUT: &str = r#"name = "state"
[[monitors]]
name = "A1"
display = 0
resolution = [1920, 1080]
grid = { columns = 2, rows = 1 }
wall_position = { column = 0, row = 0 }

[[tiles]]
id = "map"
monitor = "A1"
kind = "map"
title = "Bản đồ"
source = "backend"
x = 0
y = 0
[tiles.options]
follow = "fixed"
center = [10.24, 106.37]
zoom = 9

[[tiles]]
id = "OTHER"
monitor = "A1"
kind = "clock"
title = "Giờ"
x = 1
y = 0
"#;

/// A reloaded layout keeps the state of the tiles whose id is still there (the map keeps the
/// view the operator zoomed to) and drops the states of the tiles that are gone.
#[test]
fn a_reload_keeps_the_state_of_tiles_still_there_and_drops_the_rest() {
    use ioc_console::context::tile_state::TileKey;
    use ioc_console::tiles::map::MapTileState;
    let path = std::path::PathBuf::from("state.toml");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(ioc_console::sim::SimServer::start(
            crate::backend::sim_config("127.0.0.1:0".parse().unwrap()),
        ))
        .unwrap();
    let app = crate::support::connected(
        sim.base_url(),
        Lang::En,
        Role::Operator,
        layout::parse(&path, MAP_LAYOUT).unwrap(),
    );
    let mut h = harness([1200.0, 700.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let key = |tile: &str| TileKey {
        tile: tile.into(),
        viewport: egui::ViewportId::ROOT,
    };
    let view_of = |app: &Rc<RefCell<ConsoleApp>>| {
        let tiles = app.borrow().wall_state().tiles;
        let states = tiles.lock().unwrap();
        states
            .get(&key("map"))
            .and_then(|s| s.get::<MapTileState>())
            .and_then(|m| m.current_view())
    };
    // Until the data is there and the map has drawn its body.
    let start = Instant::now();
    while view_of(&app).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the map never drew"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    h.run_steps(2);
    let (_, zoom0) = view_of(&app).unwrap();
    // The operator zooms in with the wheel over the map.
    let map_centre = egui::pos2(300.0, 350.0);
    h.hover_at(map_centre);
    for _ in 0..6 {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Line,
            delta: egui::vec2(0.0, 3.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(5);
    let (at, zoomed) = view_of(&app).unwrap();
    assert!(
        (zoomed - zoom0).abs() > 0.2,
        "the wheel zoomed the map: {zoom0} → {zoomed}"
    );
    assert!(
        app.borrow()
            .wall_state()
            .tiles
            .lock()
            .unwrap()
            .get(&key("OTHER"))
            .is_some(),
        "every tile drawn has its state"
    );
    // The clock is replaced by a text tile; the map stays.
    let changed = MAP_LAYOUT.replace(
        "id = \"OTHER\"\nmonitor = \"A1\"\nkind = \"clock\"",
        "id = \"note\"\nmonitor = \"A1\"\nkind = \"text\"",
    ) + "[tiles.options]\nbody = \"Ca trực đêm\"\n";
    app.borrow_mut()
        .apply_layout_event(LayoutEvent::Reloaded(Box::new(
            layout::parse(&path, &changed).unwrap(),
        )));
    h.run_steps(3);
    let (at2, zoom2) = view_of(&app).unwrap();
    assert!(
        (zoom2 - zoomed).abs() < 1e-9 && (at2.lat - at.lat).abs() < 1e-9,
        "the map kept its view across the reload: {zoomed} → {zoom2}"
    );
    let tiles = app.borrow().wall_state().tiles;
    let states = tiles.lock().unwrap();
    assert!(
        states.get(&key("OTHER")).is_none(),
        "the gone tile's state is dropped"
    );
    assert!(states.get(&key("note")).is_some());
    drop(states);
    rt.block_on(sim.stop());
}
