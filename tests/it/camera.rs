//! The camera tile (issue 4): real streams from an RTSP server on loopback, through the camera
//! hub, into the tile's textures and the picture the offscreen renderer draws.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use egui::{Rect, pos2, vec2};
use egui_kittest::kittest::Queryable;
use ioc_console::context::FrameCtx;
use ioc_console::i18n::Lang;
use ioc_console::model::{Camera, GeoPoint, StreamKind, StreamProfile};
use ioc_console::sources::{Payload, Resource, Update};
use ioc_console::status::SourceState;
use ioc_console::store::Store;
use ioc_console::tiles::TileView;
use ioc_console::tiles::camera::{CameraOptions, ProfileChoice};
use ioc_console::ui::offscreen::OffscreenRenderer;
use ioc_console::video::config::VideoConfig;
use ioc_console::video::hub::CameraHub;
use ioc_console::video::paint::VideoResources;
use ioc_console::video::rtsp_server::{Mount, Picture, RtspServer};
use ioc_console::wall::{Tile, layout};

use crate::video::turn;

/// A camera whose main stream is white and whose sub stream is red, so that the picture says
/// which profile a tile shows.
fn mounts(id: &str) -> Vec<Mount> {
    let m = |kind: &str, w, h, pattern| Mount {
        path: format!("/{id}/{kind}"),
        picture: Picture::H264,
        width: w,
        height: h,
        fps: 15,
        label: None,
        pattern,
    };
    vec![m("main", 640, 360, "white"), m("sub", 320, 180, "red")]
}

fn camera(id: &str, base: &str) -> Camera {
    let p = |kind, w, h, path: &str| StreamProfile {
        kind,
        url: format!("{base}/{id}/{path}"),
        codec: "h264".into(),
        width: w,
        height: h,
        fps: 15.0,
    };
    Camera {
        id: id.into(),
        name: format!("Camera {id}"),
        owner: "Công an tỉnh".into(),
        unit_id: None,
        location: GeoPoint {
            lat: 10.24,
            lon: 106.37,
        },
        direction_deg: None,
        ptz: false,
        profiles: vec![
            p(StreamKind::Main, 640, 360, "main"),
            p(StreamKind::Sub, 320, 180, "sub"),
        ],
        online: true,
    }
}

fn cx_with(cameras: Vec<Camera>, hub: Arc<CameraHub>) -> FrameCtx {
    let mut store = Store::default();
    let now = Utc::now();
    store.apply(Update::Loaded {
        resource: Resource::Cameras,
        payload: Payload::Cameras(cameras),
        as_of: now,
        fetched_at: now,
    });
    let mut cx = FrameCtx::new(Lang::En, now);
    cx.store = Arc::new(store);
    cx.cameras = hub;
    cx
}

fn hub(budget: f64) -> Arc<CameraHub> {
    hub_with(budget, 3.0)
}

fn hub_with(budget: f64, watchdog_s: f64) -> Arc<CameraHub> {
    Arc::new(CameraHub::new(VideoConfig {
        decode_budget_mpx_s: budget,
        watchdog_s,
        ..VideoConfig::default()
    }))
}

fn tile(id: &str, camera: &str, importance: u8) -> Tile {
    let text = format!(
        r#"
name = "t"
[[monitors]]
name = "M"
display = 0
resolution = [1920, 1080]
grid = {{ columns = 1, rows = 1 }}
wall_position = {{ column = 0, row = 0 }}
[[tiles]]
id = "{id}"
monitor = "M"
kind = "camera"
title = "Camera {camera}"
source = "backend"
x = 0
y = 0
[tiles.options]
camera = "{camera}"
importance = {importance}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.toml");
    std::fs::write(&path, text).unwrap();
    layout::load(&path).unwrap().tiles.remove(0)
}

/// What a tile of about 300 × 200 pixels asks of the hub.
fn small_tile() -> ioc_console::video::plan::Want {
    ioc_console::video::plan::Want {
        pixels: [300.0, 200.0],
        importance: 5,
        pinned: None,
    }
}

/// Draws `tiles` side by side (each `size` points) and returns the picture.
fn draw(
    r: &mut OffscreenRenderer,
    tiles: &[&Tile],
    size: [f32; 2],
    cx: &FrameCtx,
) -> image::RgbaImage {
    let n = tiles.len() as f32;
    r.render([(size[0] * n) as u32, size[1] as u32], |ui| {
        for (i, t) in tiles.iter().enumerate() {
            let rect = Rect::from_min_size(pos2(size[0] * i as f32, 0.0), vec2(size[0], size[1]));
            ioc_console::app::wall_view::paint_tile(ui, rect, t, 0.5, cx);
        }
    })
    .unwrap()
}

/// Redraws until `done` holds for the picture and the tile's status (or panics after `secs`).
fn until(
    secs: u64,
    what: &str,
    mut step: impl FnMut() -> (image::RgbaImage, SourceState),
    mut done: impl FnMut(&image::RgbaImage, SourceState) -> bool,
) -> image::RgbaImage {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    loop {
        let (img, state) = step();
        if seen.last() != Some(&state) {
            seen.push(state);
        }
        if done(&img, state) {
            return img;
        }
        assert!(Instant::now() < end, "{what}: states seen {seen:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn near(px: image::Rgba<u8>, want: [u8; 3]) -> bool {
    (0..3).all(|c| (i32::from(px.0[c]) - i32::from(want[c])).abs() <= 12)
}

const WHITE: [u8; 3] = [255, 255, 255];
const RED: [u8; 3] = [255, 0, 0];

#[test]
fn a_camera_tile_shows_its_stream_loses_it_and_gets_it_back() {
    let _turn = turn();
    let server = RtspServer::start(&mounts("c1"), None).unwrap();
    let port = server.port();
    let base = format!("rtsp://127.0.0.1:{port}");
    // "No signal" after 3 s without frames, reconnecting after 6 s: 3 s to see the former.
    let hub = hub_with(1000.0, 6.0);
    let cx = cx_with(vec![camera("c1", &base)], Arc::clone(&hub));
    let t = tile("cam-tile", "c1", 5);
    let opts = match &t.options {
        ioc_console::tiles::TileOptions::Camera(o) => o.clone(),
        other => panic!("{other:?}"),
    };
    let mut r = OffscreenRenderer::new().unwrap();
    // A tile about the sub stream's size: the sub stream (red) covers it.
    let size = [340.0, 230.0];
    // The state first, then the picture: a stream only moves on from "stalled" to states that
    // are drawn greyed too, so a picture drawn after a state read "stalled" is greyed.
    // The reason is kept from the same read as the state (a second read may find the stream
    // already moved on).
    let reason = std::cell::RefCell::new(None::<String>);
    let step = |r: &mut OffscreenRenderer| {
        let status = opts.status(&cx);
        reason.replace(status.reason_in(Lang::En));
        (draw(r, &[&t], size, &cx), status.state)
    };
    let centre = |img: &image::RgbaImage| *img.get_pixel(170, 127);
    // Top left of the picture, clear of the words in the middle.
    let corner = |img: &image::RgbaImage| *img.get_pixel(20, 45);
    let img = until(
        30,
        "live on the sub stream",
        || step(&mut r),
        |img, s| s == SourceState::Live && near(centre(img), RED),
    );
    assert!(near(centre(&img), RED));
    let view = hub.peek("c1").unwrap();
    assert_eq!(view.profile.kind, StreamKind::Sub);
    // The frames reach the tile's textures, one after another.
    let first = VideoResources::uploaded(r.renderer(), view.key).expect("uploaded");
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        step(&mut r);
        let now = VideoResources::uploaded(r.renderer(), view.key).unwrap_or(0);
        if now > first + 2 {
            break;
        }
        assert!(
            Instant::now() < end,
            "no newer frame uploaded after {first}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The camera freezes (the connection stays, no frame comes): the last picture stays,
    // greyed, "no signal"; then the watchdog rebuilds the stream: reconnecting.
    server.set_frozen("/c1/sub", true);
    let mut states = Vec::new();
    let img = until(
        30,
        "reconnecting after the picture froze",
        || step(&mut r),
        |img, s| {
            if states.last() != Some(&s) {
                states.push(s);
            }
            if s == SourceState::Stale {
                // Said in words, not "switching streams" or nothing.
                let reason = reason.borrow().clone();
                assert!(
                    reason.as_deref().is_none_or(|r| r == "NO SIGNAL"),
                    "{reason:?}"
                );
                // Greyed: the red picture is still there, darker.
                let p = corner(img);
                assert!(
                    p.0[0] > 40 && p.0[0] < 200 && p.0[1] < 40,
                    "greyed picture: {p:?}"
                );
            }
            matches!(s, SourceState::Offline | SourceState::Error)
        },
    );
    assert!(
        states.contains(&SourceState::Stale),
        "stalled before reconnecting: {states:?}"
    );
    let said = reason.borrow().clone().expect("a reason in words");
    assert!(said.starts_with("Stream lost:"), "{said}");
    assert!(
        opts.status(&cx).as_of.is_some(),
        "the last picture's time is kept"
    );
    // Not a black tile: the last picture is still drawn under the words.
    let p = corner(&img);
    assert!(p.0[0] > 40 && p.0[1] < 40, "{p:?}");

    server.set_frozen("/c1/sub", false);
    until(
        40,
        "live again after the freeze",
        || step(&mut r),
        |img, s| s == SourceState::Live && near(centre(img), RED),
    );

    // The server goes away and comes back on its port.
    drop(server);
    until(
        30,
        "reconnecting after the server went away",
        || step(&mut r),
        |_, s| matches!(s, SourceState::Offline | SourceState::Error),
    );
    let _server = RtspServer::start_on(&mounts("c1"), None, port).unwrap();
    until(
        40,
        "live again",
        || step(&mut r),
        |img, s| s == SourceState::Live && near(centre(img), RED),
    );
    drop(r);
    drop(cx);
    drop(hub);
    assert_eq!(ioc_console::video::stream::live_pipelines(), 0);
}

#[test]
fn an_enlarged_tile_switches_to_the_main_stream_and_back() {
    let _turn = turn();
    let server = RtspServer::start(&mounts("c2"), None).unwrap();
    let base = format!("rtsp://127.0.0.1:{}", server.port());
    let hub = hub(1000.0);
    let cx = cx_with(vec![camera("c2", &base)], Arc::clone(&hub));
    let t = tile("cam-tile", "c2", 5);
    let mut r = OffscreenRenderer::new().unwrap();
    let small = [340.0, 230.0];
    let big = [900.0, 560.0];
    let kind = |hub: &CameraHub| hub.peek("c2").map(|v| v.profile.kind);
    until(
        30,
        "small: sub",
        || (draw(&mut r, &[&t], small, &cx), SourceState::Live),
        |img, _| near(*img.get_pixel(170, 127), RED),
    );
    assert_eq!(kind(&hub), Some(StreamKind::Sub));
    // Enlarged: the main stream (white) takes over; meanwhile the sub picture stays (never a
    // black tile while switching).
    until(
        30,
        "big: main",
        || (draw(&mut r, &[&t], big, &cx), SourceState::Live),
        |img, _| {
            // Clear of the words in the middle ("switching to the main stream").
            let p = *img.get_pixel(60, 60);
            assert!(p.0[0] > 80, "a picture all along: {p:?}");
            near(p, WHITE)
        },
    );
    assert_eq!(kind(&hub), Some(StreamKind::Main));
    until(
        30,
        "small again: sub",
        || (draw(&mut r, &[&t], small, &cx), SourceState::Live),
        |img, _| near(*img.get_pixel(170, 127), RED),
    );
    // The main stream nobody shows any more is closed after a while.
    let end = Instant::now() + Duration::from_secs(20);
    while hub.stream_count() > 1 {
        assert!(Instant::now() < end, "main stream still open");
        draw(&mut r, &[&t], small, &cx);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_decode_budget_lowers_the_least_important_tile_and_says_so() {
    let _turn = turn();
    let mut m = mounts("lo");
    m.extend(mounts("hi"));
    let server = RtspServer::start(&m, None).unwrap();
    let base = format!("rtsp://127.0.0.1:{}", server.port());
    // Main 640×360×15 = 3.5 Mpx/s, sub 0.9: room for one main and one sub.
    let hub = hub(5.0);
    let cx = cx_with(
        vec![camera("lo", &base), camera("hi", &base)],
        Arc::clone(&hub),
    );
    let lo = tile("t-lo", "lo", 2);
    let hi = tile("t-hi", "hi", 8);
    let mut r = OffscreenRenderer::new().unwrap();
    let size = [900.0, 560.0];
    until(
        40,
        "hi on main (white), lo lowered to sub (red)",
        || (draw(&mut r, &[&lo, &hi], size, &cx), SourceState::Live),
        |img, _| near(*img.get_pixel(450, 300), RED) && near(*img.get_pixel(1350, 300), WHITE),
    );
    // Both started small; only "hi" was raised: "lo"'s main stream was never opened (hi's sub
    // stream lingers a few seconds after its main one took over).
    assert!(hub.stream_count() <= 3, "{} streams", hub.stream_count());
    let plan = hub.plan_now();
    assert_eq!(plan["lo"].profile.kind, StreamKind::Sub);
    let lowered = plan["lo"].lowered.as_ref().expect("lo says it was lowered");
    assert_eq!(lowered.wanted, StreamKind::Main);
    assert_eq!(lowered.budget_mpx_s, 5.0);
    assert!(plan["hi"].lowered.is_none());
    assert_eq!(plan["hi"].profile.kind, StreamKind::Main);
    // The words are on the picture: a dark strip at the bottom left of the lowered tile only
    // (the red picture darkened under it; the white one has nothing of the kind).
    let img = draw(&mut r, &[&lo, &hi], size, &cx);
    let strip = |x0: u32| {
        let mut n = 0;
        for y in 520..556 {
            for x in x0 + 8..x0 + 300 {
                let p = img.get_pixel(x, y).0;
                if (30..150).contains(&p[0]) && p[1] < 60 {
                    n += 1;
                }
            }
        }
        n
    };
    assert!(strip(0) > 1500, "lowered tile has its strip: {}", strip(0));
    assert!(strip(900) < 50, "the other has none: {}", strip(900));
}

#[test]
fn wrong_credentials_and_a_wrong_path_are_said_in_words() {
    let _turn = turn();
    let server = RtspServer::start(&mounts("c3"), Some(("ioc", "dung-mat-khau"))).unwrap();
    let port = server.port();
    let mut bad_password = camera(
        "bad-pass",
        &format!("rtsp://ioc:s3cret-wrong@127.0.0.1:{port}"),
    );
    for p in &mut bad_password.profiles {
        p.url = p.url.replace("bad-pass", "c3");
    }
    let wrong_path = camera(
        "wrong-path",
        &format!("rtsp://ioc:dung-mat-khau@127.0.0.1:{port}"),
    );
    let hub = hub(1000.0);
    let cx = cx_with(vec![bad_password, wrong_path], Arc::clone(&hub));
    let a = tile("a", "bad-pass", 5);
    let b = tile("b", "wrong-path", 5);
    let status = |t: &Tile| t.options.view().status(&cx);
    let mut r = OffscreenRenderer::new().unwrap();
    let size = [340.0, 230.0];
    let (said_a, said_b) = (
        std::cell::RefCell::new(None::<String>),
        std::cell::RefCell::new(None::<String>),
    );
    until(
        40,
        "both in error",
        || (draw(&mut r, &[&a, &b], size, &cx), status(&a).state),
        |_, _| {
            // Each tile's words are kept from the read that found it in error (between two
            // attempts it is "connecting" again).
            for (t, said) in [(&a, &said_a), (&b, &said_b)] {
                let s = status(t);
                if s.state == SourceState::Error {
                    said.replace(s.reason_in(Lang::En));
                }
            }
            said_a.borrow().is_some() && said_b.borrow().is_some()
        },
    );
    let ra = said_a.take().unwrap();
    let rb = said_b.take().unwrap();
    assert!(ra.contains("authentication failed"), "{ra}");
    assert!(rb.contains("no such stream"), "{rb}");
    // Never had a picture: not "lost" but "cannot show".
    assert!(ra.starts_with("Cannot show the camera:"), "{ra}");
    assert!(
        !ra.contains("s3cret") && !rb.contains("dung-mat"),
        "no credentials in {ra} / {rb}"
    );
}

#[test]
fn unknown_cameras_and_a_missing_list_are_errors_in_words() {
    let hub = hub(1000.0);
    let cx = cx_with(vec![], Arc::clone(&hub));
    let t = CameraOptions {
        camera: "nowhere".into(),
        profile: ProfileChoice::Auto,
        importance: 5,
        show_info: false,
        nearby: None,
    };
    let s = t.status(&cx);
    assert_eq!(s.state, SourceState::Error);
    assert!(s.reason_in(Lang::En).unwrap().contains("nowhere"));
    // Before the backend sent its camera list, the tile says what the list's source says.
    let empty = FrameCtx::new(Lang::En, Utc::now());
    assert_ne!(t.status(&empty).state, SourceState::Live);
    assert_eq!(hub.stream_count(), 0);
}

/// A one-monitor layout (2 × 1) of camera tiles: (id, camera, nearby slot).
fn camera_layout(tiles: &[(&str, &str, Option<u8>)]) -> ioc_console::wall::WallLayout {
    let mut text = String::from(
        r#"
name = "t"
[[monitors]]
name = "M"
display = 0
resolution = [1920, 1080]
grid = { columns = 2, rows = 1 }
wall_position = { column = 0, row = 0 }
"#,
    );
    for (i, (id, cam, nearby)) in tiles.iter().enumerate() {
        text.push_str(&format!(
            "[[tiles]]\nid = \"{id}\"\nmonitor = \"M\"\nkind = \"camera\"\ntitle = \"{id}\"\nsource = \"backend\"\nx = {i}\ny = 0\n[tiles.options]\ncamera = \"{cam}\"\n"
        ));
        if let Some(n) = nearby {
            text.push_str(&format!("nearby = {n}\n"));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.toml");
    std::fs::write(&path, text).unwrap();
    layout::load(&path).unwrap()
}

#[test]
fn cameras_near_an_incident_go_to_the_wall_from_the_map_and_back() {
    use ioc_console::context::{Command, TileState};
    use ioc_console::tiles::frame::{TileFrame, show_tile};
    use ioc_console::tiles::map::{Follow, MapLayer, MapOptions};
    let _turn = turn();
    let mut cx = FrameCtx::new(Lang::Vi, crate::support::fixed_now());
    cx.store = Arc::new(crate::charts::demo_store());
    let hub = hub(1000.0);
    cx.cameras = Arc::clone(&hub);
    let incidents = cx.store.incidents.data.as_ref().unwrap();
    let mut open: Vec<_> = incidents
        .values()
        .filter(|i| !i.status.is_closed() && i.unit_id == "bt-tp-ben-tre")
        .collect();
    open.sort_by(|a, b| a.id.cmp(&b.id));
    let inc = open[0].clone();
    let near = ioc_console::tiles::map::nearby_cameras(&cx, inc.location, 15_000.0);
    assert!(near.len() >= 2, "{near:?}");
    let map = MapOptions {
        center: None,
        zoom: None,
        follow: Follow::Selection,
        basemap: None,
        layers: MapLayer::ALL.to_vec(),
        camera_radius_m: 15_000.0,
        include_closed: false,
        unit: None,
    };
    // Two camera tiles of their own (the far cameras 9 and 10), taking slots 1 and 2.
    let wall = camera_layout(&[("slot-1", "cam-10", Some(1)), ("slot-2", "cam-09", Some(2))]);
    let shown = |cx: &FrameCtx| -> Vec<String> {
        wall.tiles
            .iter()
            .map(|t| match &t.options {
                ioc_console::tiles::TileOptions::Camera(o) => o.camera_id(cx).to_owned(),
                _ => unreachable!(),
            })
            .collect()
    };
    assert_eq!(shown(&cx), ["cam-10", "cam-09"]);
    let status = map.status(&cx);
    let rig = crate::support::ViewRig::new();
    let state = std::cell::RefCell::new(TileState::default());
    let mut h = crate::support::harness([1400.0, 700.0], |ui| {
        let cx = rig.frame(&cx);
        let left = Rect::from_min_size(pos2(0.0, 0.0), vec2(800.0, 700.0));
        let frame = TileFrame {
            title: "Bản đồ",
            status: &status,
            scale: 0.7,
            grey_old: true,
            own_state: false,
        };
        show_tile(ui, left, frame, &cx, |ui, body| {
            map.paint_body(ui, body, 0.7, &cx, &mut state.borrow_mut())
        });
        let right = Rect::from_min_size(pos2(800.0, 0.0), vec2(600.0, 338.0));
        ioc_console::app::wall_view::paint_monitor(ui, right, &wall, 0, &cx);
    });
    h.run_steps(2);
    rig.apply(Command::SelectIncident(Some(inc.id.clone())));
    h.run_steps(3);
    h.get_by_label_contains("camera lên tường").click();
    h.run_steps(2);
    let sent = rig.view().sent_cameras.expect("sent");
    assert_eq!(sent.incident, inc.id);
    let ids: Vec<String> = near.iter().map(|(c, _)| c.id.clone()).collect();
    assert_eq!(sent.cameras, ids);
    // The wall's tiles with slots now ask for the nearest cameras.
    let wait_plan = |h: &mut egui_kittest::Harness<'_>, want: &[&str]| {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            h.run_steps(1);
            let plan = hub.plan_now();
            if want.iter().all(|w| plan.contains_key(*w))
                && plan.keys().all(|k| want.contains(&k.as_str()))
            {
                return;
            }
            assert!(
                Instant::now() < end,
                "plan {:?}, want {want:?}",
                plan.keys()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_plan(&mut h, &[&ids[0], &ids[1]]);
    let with_sent = rig.frame(&cx);
    assert_eq!(shown(&with_sent), [ids[0].clone(), ids[1].clone()]);
    // Given back: the tiles show their own cameras again.
    h.get_by_label("Trả lại camera mặc định").click();
    h.run_steps(2);
    assert!(rig.view().sent_cameras.is_none());
    wait_plan(&mut h, &["cam-10", "cam-09"]);
}

#[test]
fn a_camera_tile_is_enlarged_by_double_click_or_enter_and_put_back_with_esc() {
    use ioc_console::app::wall_view::paint_monitor;
    let wall = camera_layout(&[("left", "cam-a", None), ("right", "cam-b", None)]);
    let mut cx = FrameCtx::new(Lang::Vi, crate::support::fixed_now());
    cx.cameras = hub(1000.0);
    let rig = crate::support::ViewRig::new();
    let monitor = wall.monitors[0].name.clone();
    let enlarged = || rig.view().enlarged_on(&monitor).map(str::to_owned);
    let mut h = crate::support::harness([960.0, 540.0], |ui| {
        let cx = rig.frame(&cx);
        let rect = ui.max_rect();
        paint_monitor(ui, rect, &wall, 0, &cx);
    });
    h.run();
    assert_eq!(enlarged(), None);
    let right = h.get_by_label("right").rect();
    assert!(right.width() < 500.0, "{right:?}");
    // Double click: the tile fills the monitor.
    // (The harness steps a quarter of a second a frame; egui's double-click window is 0.3 s.)
    h.ctx
        .options_mut(|o| o.input_options.max_double_click_delay = 2.0);
    h.get_by_label("right").click();
    h.step();
    h.get_by_label("right").click();
    h.run();
    assert_eq!(enlarged().as_deref(), Some("right"));
    let big = h.get_by_label("right").rect();
    assert!(big.width() > 900.0, "{big:?}");
    assert!(
        h.query_by_label("left").is_none(),
        "only the enlarged tile is drawn"
    );
    crate::support::snapshot(&mut h, "camera_enlarged_vi");
    h.key_press(egui::Key::Escape);
    h.run();
    assert_eq!(enlarged(), None);
    assert!(h.query_by_label("left").is_some());
    // Enter on the tile under the pointer does the same.
    h.get_by_label("left").hover();
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(enlarged().as_deref(), Some("left"));
    h.key_press(egui::Key::Escape);
    h.run();
    assert_eq!(enlarged(), None);
}

#[test]
fn the_readme_video_configuration_is_the_default_and_mistakes_are_named() {
    use std::path::Path;
    let text = &crate::support::readme_config();
    let cfg = ioc_console::config::parse(Path::new("config.toml"), text).unwrap();
    assert!(text.contains("[video]"));
    assert_eq!(cfg.video, VideoConfig::default());
    for (bad, says) in [
        (
            "[video]\ndecode_budget_mpx_s = 0",
            "video.decode_budget_mpx_s",
        ),
        ("[video]\nwatchdog_s = 0.1", "video.watchdog_s"),
        ("[video]\ntransport = \"udp\"", "udp"),
        ("[video]\ndecoder = \"x\"", "decoder"),
    ] {
        let e = ioc_console::config::parse(Path::new("config.toml"), bad)
            .expect_err(bad)
            .say(Lang::En);
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn a_decoder_named_in_the_configuration_is_preferred() {
    use ioc_console::video::config::prefer_decoders;
    use ioc_console::video::{OpenOptions, Transport, probe};
    let _turn = turn();
    let server = RtspServer::start(&mounts("dec"), None).unwrap();
    let opts = OpenOptions {
        transport: Transport::Tcp,
        latency: Duration::from_millis(200),
        first_frame_timeout: Duration::from_secs(20),
    };
    let url = server.url("/dec/sub", None);
    // By rank, libav's decoder (primary) wins over openh264's (marginal).
    let by_rank = probe(&url, 0.3, &opts).unwrap();
    assert_eq!(by_rank.decoder, "avdec_h264", "{by_rank:?}");
    // Named in [video] decoders: openh264's is used; a name not installed is reported.
    use gstreamer::prelude::*;
    let rank = |name: &str| gstreamer::ElementFactory::find(name).map(|f| f.rank());
    let before = (rank("avdec_h264"), rank("openh264dec"));
    let missing = prefer_decoders(&["no-such-decoder".into(), "openh264dec".into()]);
    assert_eq!(missing, ["no-such-decoder"]);
    let named = probe(&url, 0.3, &opts).unwrap();
    assert_eq!(named.decoder, "openh264dec", "{named:?}");
    assert!(named.frames > 0);
    // (Ranks are process-wide: put them back for whatever runs next in this process.)
    for (name, r) in [("avdec_h264", before.0), ("openh264dec", before.1)] {
        if let (Some(f), Some(r)) = (gstreamer::ElementFactory::find(name), r) {
            f.set_rank(r);
        }
    }
}

#[test]
fn a_stream_no_tile_asks_for_is_closed() {
    let _turn = turn();
    let server = RtspServer::start(&mounts("gone"), None).unwrap();
    let base = format!("rtsp://127.0.0.1:{}", server.port());
    let hub = hub(1000.0);
    let cam = camera("gone", &base);
    let view = hub.request(&cam, small_tile()).unwrap();
    assert_eq!(view.profile.kind, StreamKind::Sub);
    assert_eq!(hub.stream_count(), 1);
    // Nobody asks again (the layout changed): the console's frames only maintain the hub.
    let asked = Instant::now();
    while hub.stream_count() > 0 {
        assert!(
            asked.elapsed() < Duration::from_secs(20),
            "still open after 20 s"
        );
        hub.maintain();
        std::thread::sleep(Duration::from_millis(100));
    }
    // Not before the grace period: a tile enlarged and back must not reconnect.
    assert!(
        asked.elapsed() >= Duration::from_secs(4),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(ioc_console::video::stream::live_pipelines(), 0);
}

#[test]
fn a_profile_that_fails_keeps_the_one_that_works_on_and_says_so() {
    let _turn = turn();
    let server = RtspServer::start(&mounts("fb"), None).unwrap();
    let base = format!("rtsp://127.0.0.1:{}", server.port());
    let mut cam = camera("fb", &base);
    // The sub stream's path is wrong on this camera.
    cam.profiles[1].url = format!("{base}/fb/missing");
    let hub = hub(1000.0);
    let cx = cx_with(vec![cam], Arc::clone(&hub));
    let t = tile("t", "fb", 5);
    let mut r = OffscreenRenderer::new().unwrap();
    let (small, big) = ([340.0, 230.0], [900.0, 560.0]);
    // Big: the main stream (white).
    until(
        30,
        "main",
        || (draw(&mut r, &[&t], big, &cx), SourceState::Live),
        |img, _| near(*img.get_pixel(60, 60), WHITE),
    );
    // Small: the sub stream is planned, fails; the main picture stays, live, and the tile says
    // why it is not on the sub stream.
    until(
        30,
        "fallback to main",
        || (draw(&mut r, &[&t], small, &cx), SourceState::Live),
        |img, _| {
            hub.peek("fb").is_some_and(|v| v.fallback.is_some())
                && near(*img.get_pixel(170, 127), WHITE)
        },
    );
    let v = hub.peek("fb").unwrap();
    assert_eq!(v.profile.kind, StreamKind::Sub);
    assert_eq!(v.fallback, Some(ioc_console::video::VideoError::NotFound));
    assert_eq!(v.state, ioc_console::video::stream::StreamState::Live);
    assert_eq!(t.options.view().status(&cx).state, SourceState::Live);
}

#[test]
fn camera_lists_may_name_only_network_streams() {
    use ioc_console::video::hub::allowed_url;
    assert!(allowed_url("rtsp://10.0.0.5/Streaming/101"));
    assert!(allowed_url("RTSP://10.0.0.5/a"));
    assert!(allowed_url("https://cam.example/mjpeg"));
    assert!(!allowed_url("file:///etc/passwd"));
    assert!(!allowed_url("/etc/passwd"));
    assert!(!allowed_url("udp://0.0.0.0:5000"));
    // A profile printed in a log line or a panic hides its credentials.
    let p = camera("x", "rtsp://admin:S3cr3t-pw@10.0.0.5")
        .profiles
        .remove(0);
    let shown = format!("{p:?}");
    assert!(
        !shown.contains("S3cr3t-pw") && shown.contains("10.0.0.5"),
        "{shown}"
    );
    // And the tile says so rather than opening it.
    let mut cam = camera("local", "rtsp://127.0.0.1:1");
    for p in &mut cam.profiles {
        p.url = "file:///etc/hostname".into();
    }
    let hub = hub(1000.0);
    let v = hub.request(&cam, small_tile()).unwrap();
    match v.state {
        ioc_console::video::stream::StreamState::Reconnecting { reason, .. } => {
            assert!(
                matches!(reason, ioc_console::video::VideoError::BadUrl(_)),
                "{reason:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ioc_console::video::stream::live_pipelines(), 0);
}
