//! What the console shows, rendered with wgpu on lavapipe and compared with stored snapshots
//! (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change; look at the PNGs before
//! committing).

use std::cell::RefCell;
use std::rc::Rc;

use chrono::Duration;
use egui::{Rect, pos2, vec2};
use egui_kittest::kittest::Queryable as _;
use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions, wall_view};
use ioc_console::context::TileState;
use ioc_console::i18n;
use ioc_console::i18n::Lang;
use ioc_console::role::Role;
use ioc_console::status::{DataStatus, SourceState};
use ioc_console::tiles::frame::{TileFrame, show_tile};
use ioc_console::tiles::{TileView, clock::ClockOptions};
use ioc_console::ui::fonts;

use crate::support::{cx, fixed_clock, fixed_now, harness, load_layout, snapshot};

#[test]
fn preview_wall_of_the_main_layout() {
    let layout = load_layout("ioc-main.toml");
    let cx = cx(Lang::Vi);
    let mut h = harness([1600.0, 620.0], |ui| {
        let rect = ui.max_rect();
        wall_view::paint_wall(ui, rect, &layout, &cx);
    });
    h.run();
    snapshot(&mut h, "preview_wall_ioc_main");
}

#[test]
fn preview_keeps_the_wall_aspect_and_bezels() {
    let layout = load_layout("ioc-main.toml");
    let avail = Rect::from_min_size(pos2(0.0, 0.0), vec2(1600.0, 1600.0));
    let (screens, scale) = wall_view::wall_screens(&layout, avail);
    assert_eq!(screens.len(), 6);
    for s in &screens {
        assert!((s.width() / s.height() - 16.0 / 9.0).abs() < 1e-3);
        assert!(avail.contains_rect(*s));
    }
    // Neighbours are separated by two bezels.
    let gap = screens[1].left() - screens[0].right();
    assert!(
        (gap - 2.0 * ioc_console::ui::theme::WALL.bezel * scale).abs() < 1e-3,
        "{gap}"
    );
}

fn statuses(lang: Lang) -> Vec<(String, DataStatus)> {
    let now = fixed_now();
    let old = now - Duration::minutes(42);
    let reason =
        |vi: &str, en: &str| ioc_console::text::Text::raw(if lang == Lang::Vi { vi } else { en });
    vec![
        (
            "Trực tuyến".into(),
            DataStatus::live(now - Duration::seconds(12)),
        ),
        (
            "Dữ liệu cũ".into(),
            DataStatus::with_reason(
                SourceState::Stale,
                Some(old),
                reason(
                    "Chỉ số chưa cập nhật đúng kỳ.",
                    "The indicator missed its update period.",
                ),
            ),
        ),
        (
            "Mất kết nối".into(),
            DataStatus::with_reason(
                SourceState::Offline,
                Some(old),
                reason(
                    "Không kết nối được máy chủ IOC; đang thử lại.",
                    "Cannot reach the IOC backend; retrying.",
                ),
            ),
        ),
        (
            "Lỗi".into(),
            DataStatus::with_reason(
                SourceState::Error,
                Some(old),
                reason(
                    "Dữ liệu trả về sai định dạng (trường value).",
                    "The response is malformed (field value).",
                ),
            ),
        ),
        (
            "Không có quyền".into(),
            DataStatus::with_reason(
                SourceState::NoPermission,
                None,
                reason(
                    "Tài khoản không được xem dữ liệu này.",
                    "This account may not read this data.",
                ),
            ),
        ),
        (
            "Chưa có dữ liệu".into(),
            DataStatus::with_reason(
                SourceState::Offline,
                None,
                reason("Đang chờ lần tải đầu tiên.", "Waiting for the first load."),
            ),
        ),
    ]
}

fn tile_statuses(lang: Lang, name: &str) {
    let cx = cx(lang);
    let tiles = statuses(lang);
    let clock = ClockOptions::default();
    let mut h = harness([1500.0, 520.0], |ui| {
        let area = ui.max_rect();
        for (i, (title, status)) in tiles.iter().enumerate() {
            let col = (i % 3) as f32;
            let row = (i / 3) as f32;
            let rect = Rect::from_min_size(
                pos2(area.left() + col * 500.0, area.top() + row * 260.0),
                vec2(490.0, 250.0),
            )
            .shrink(4.0);
            let frame = TileFrame {
                title,
                status,
                scale: 0.8,
                grey_old: true,
                own_state: false,
            };
            show_tile(ui, rect, frame, &cx, |ui, body| {
                clock.paint_body(ui, body, 0.8, &cx, &mut TileState::default())
            });
        }
    });
    h.run();
    snapshot(&mut h, name);
}

#[test]
fn a_tile_in_each_status_vi() {
    tile_statuses(Lang::Vi, "tile_statuses_vi");
}

#[test]
fn a_tile_in_each_status_en() {
    tile_statuses(Lang::En, "tile_statuses_en");
}

#[test]
fn every_status_has_its_own_words_in_both_languages() {
    for lang in Lang::ALL {
        let mut labels: Vec<_> = SourceState::ALL
            .iter()
            .map(|s| i18n::tr(lang, s.label_key()))
            .collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), SourceState::ALL.len(), "{lang:?}");
    }
}

#[test]
fn the_project_fonts_alone_cover_all_134_vietnamese_letters() {
    assert_eq!(fonts::VIETNAMESE_LETTERS.chars().count(), 134);
    let ctx = egui::Context::default();
    ctx.set_fonts(fonts::definitions(false));
    ctx.run_ui(Default::default(), |_| {})
        .textures_delta
        .clear();
    let families = [
        egui::FontFamily::Proportional,
        egui::FontFamily::Monospace,
        ioc_console::ui::theme::bold_family(),
    ];
    ctx.fonts_mut(|f| {
        for family in &families {
            let id = egui::FontId::new(20.0, family.clone());
            let missing: String = fonts::VIETNAMESE_LETTERS
                .chars()
                .filter(|c| !f.has_glyph(&id, *c))
                .collect();
            assert!(missing.is_empty(), "{family:?} lacks: {missing}");
        }
    });
}

#[test]
fn vietnamese_letters_render_in_every_family() {
    // kittest panics on any glyph the fonts lack; the snapshot shows they are real letters.
    let mut h = harness([1400.0, 300.0], |ui| {
        let (lower, upper) = fonts::VIETNAMESE_LETTERS
            .split_at(fonts::VIETNAMESE_LETTERS.char_indices().nth(67).unwrap().0);
        for family in [
            egui::FontFamily::Proportional,
            ioc_console::ui::theme::bold_family(),
            egui::FontFamily::Monospace,
        ] {
            for line in [lower, upper] {
                ui.label(egui::RichText::new(line).font(egui::FontId::new(18.0, family.clone())));
            }
        }
    });
    h.run();
    snapshot(&mut h, "vietnamese_letters");
}

#[test]
fn every_catalogue_message_and_layout_text_has_glyphs() {
    let ctx = egui::Context::default();
    fonts::install(&ctx);
    ctx.run_ui(Default::default(), |_| {})
        .textures_delta
        .clear();
    let mut texts: Vec<String> = Vec::new();
    for lang in Lang::ALL {
        let c = i18n::catalogue(lang);
        texts.extend(c.keys().map(|k| c.get(k).unwrap().to_owned()));
    }
    for name in ["ioc-main.toml", "desk.toml", "briefing.toml"] {
        let l = load_layout(name);
        texts.push(l.name.clone());
        for t in &l.tiles {
            texts.push(t.title.clone());
            if let ioc_console::tiles::TileOptions::Text(o) = &t.options {
                texts.push(o.body.clone());
            }
        }
    }
    let id = egui::FontId::proportional(20.0);
    ctx.fonts_mut(|f| {
        for t in &texts {
            let missing: String = t
                .chars()
                .filter(|c| !c.is_control() && !f.has_glyph(&id, *c))
                .collect();
            assert!(missing.is_empty(), "no glyph for {missing:?} in {t:?}");
        }
    });
}

fn desk_app(lang: Lang) -> ConsoleApp {
    let mut layout = load_layout("ioc-main.toml");
    layout.path = Some("layouts/ioc-main.toml".into());
    ConsoleApp::new(
        &egui::Context::default(),
        LaunchOptions {
            layout,
            layout_path: None,
            lang,
            role: Role::Operator,
            display: DisplayChoice::Auto,
            watch: false,
            backend: None,
            map: Default::default(),
            cameras: Default::default(),
            wake: None,
        },
    )
    .with_clock(fixed_clock())
}

#[test]
fn desk_window_in_preview_mode() {
    let app = Rc::new(RefCell::new(desk_app(Lang::Vi)));
    let mut h = harness([1600.0, 800.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    assert_eq!(
        app.borrow().display_mode(),
        Some(ioc_console::app::DisplayMode::Preview),
        "no monitors known: preview"
    );
    h.get_by_label("Vận hành");
    snapshot(&mut h, "desk_preview_vi");
}

#[test]
fn the_language_can_be_switched_in_settings() {
    let app = Rc::new(RefCell::new(desk_app(Lang::Vi)));
    let mut h = harness([1600.0, 800.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    h.get_by_label("Cài đặt").click();
    h.run();
    h.get_by_label("Ngôn ngữ giao diện");
    // Open the picker in the settings window and choose English.
    let pickers = h.get_all_by_label("Ngôn ngữ").count();
    assert_eq!(
        pickers, 2,
        "the top bar and the settings window each have a language picker"
    );
    h.get_all_by_label("Ngôn ngữ").last().unwrap().click();
    h.run();
    h.get_by_label("English").click();
    h.run();
    assert_eq!(app.borrow().wall_state().lang, Lang::En);
    h.get_by_label("Interface language");
    h.get_by_label("Operate");
}

#[test]
fn sources_tile_with_mixed_states_vi() {
    sources_tile_with_mixed_states(Lang::Vi);
}

#[test]
fn sources_tile_with_mixed_states_en() {
    sources_tile_with_mixed_states(Lang::En);
}

fn sources_tile_with_mixed_states(lang: Lang) {
    use ioc_console::sources::{FetchError, Payload, Resource, Timing, Update};
    use ioc_console::store::Store;
    use ioc_console::tiles::sources::SourcesOptions;
    let now = fixed_now();
    let mut store = Store::connected(Timing::default());
    let loaded = |payload, secs| Update::Loaded {
        resource: Resource::Units,
        payload,
        as_of: now,
        fetched_at: now - Duration::seconds(secs),
    };
    store.apply(loaded(Payload::Units(vec![]), 20));
    store.apply(loaded(Payload::Departments(vec![]), 20));
    store.apply(loaded(Payload::Categories(vec![]), 20));
    store.apply(loaded(Payload::Indicators(vec![]), 20));
    store.apply(loaded(Payload::Series(vec![]), 2000)); // older than its 15 minutes: stale
    store.apply(loaded(
        Payload::Incidents {
            items: vec![],
            incremental: false,
        },
        5,
    ));
    store.apply(Update::Failed {
        resource: Resource::Incidents,
        error: FetchError::Unreachable("connection refused".into()),
        at: now,
    });
    store.apply(Update::Failed {
        resource: Resource::Cameras,
        error: FetchError::Status {
            status: 500,
            code: "internal".into(),
            message: "database unavailable".into(),
        },
        at: now,
    });
    store.apply(Update::Failed {
        resource: Resource::Providers,
        error: FetchError::Forbidden("no".into()),
        at: now,
    });
    {
        let mut cx = cx(lang);
        cx.store = std::sync::Arc::new(store.clone());
        let tile = SourcesOptions::default();
        let status = tile.status(&cx);
        assert_eq!(
            status.state,
            SourceState::NoPermission,
            "the worst state wins"
        );
        let mut h = harness([760.0, 560.0], |ui| {
            let rect = ui.max_rect().shrink(4.0);
            let frame = TileFrame {
                title: "Kết nối hệ thống IOC",
                status: &status,
                scale: 0.7,
                grey_old: tile.greys_old_data(),
                own_state: tile.paints_own_state(&cx),
            };
            show_tile(ui, rect, frame, &cx, |ui, body| {
                tile.paint_body(ui, body, 0.7, &cx, &mut TileState::default())
            });
        });
        h.run();
        snapshot(&mut h, &format!("sources_tile_{}", lang.code()));
    }
}

/// F12 on the desk shows how long each monitor and tile took to draw, slowest first; F12 again
/// (or closing the window) hides it and stops recording.
#[test]
fn f12_shows_the_frame_profile_of_monitors_and_tiles() {
    let app = Rc::new(RefCell::new(desk_app(Lang::Vi)));
    let mut h = harness([1600.0, 800.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    assert!(h.query_by_label("Hồ sơ khung hình (F12)").is_none());
    h.key_press(egui::Key::F12);
    h.run_steps(4);
    h.get_by_label("Hồ sơ khung hình (F12)");
    let profile = app.borrow().wall_state().profile;
    let rows = profile.rows();
    let layout = load_layout("ioc-main.toml");
    // Every monitor and every tile of the wall has a row, and the slowest comes first.
    assert_eq!(
        rows.len(),
        layout.monitors.len() + layout.tiles.len(),
        "{rows:#?}"
    );
    assert!(rows.windows(2).all(|w| w[0].mean >= w[1].mean));
    for t in &layout.tiles {
        assert!(
            rows.iter()
                .any(|r| r.tile.as_deref() == Some(t.id.as_str())),
            "{} has no row",
            t.id
        );
    }
    h.get_by_label_contains("Màn hình A1 (toàn bộ)");
    h.key_press(egui::Key::F12);
    h.run_steps(2);
    assert!(h.query_by_label("Hồ sơ khung hình (F12)").is_none());
    assert!(profile.rows().is_empty(), "recording stops when hidden");
}

/// A layout error is kept as data: switching the language says the banner's diagnostics in the
/// new language.
#[test]
fn switching_language_changes_the_words_of_a_reload_error() {
    use ioc_console::wall::watch::LayoutEvent;
    let app = Rc::new(RefCell::new(desk_app(Lang::Vi)));
    let text = "name = \"x\"\n[[monitors]]\nname = \"A1\"\ndisplay = 0\nresolution = [1920, 1080]\ngrid = { columns = 2, rows = 2 }\nwall_position = { column = 0, row = 0 }\n[[tiles]]\nid = \"t\"\nmonitor = \"Z9\"\nkind = \"clock\"\ntitle = \"t\"\nx = 0\ny = 0\n";
    let errors =
        ioc_console::wall::layout::parse(std::path::Path::new("w.toml"), text).unwrap_err();
    app.borrow_mut()
        .apply_layout_event(LayoutEvent::Invalid(errors));
    let mut h = harness([1600.0, 800.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    h.get_by_label_contains("màn hình không tồn tại");
    app.borrow_mut()
        .apply(ioc_console::context::Command::SetLanguage(Lang::En));
    h.run();
    h.get_by_label_contains("unknown monitor `Z9`");
    assert!(
        h.query_by_label_contains("màn hình không tồn tại")
            .is_none()
    );
}

/// Drawing sparingly (no GPU): the desk says so, its clock shows minutes, ages under a minute do
/// not count seconds, and the next frame is due at the next minute rather than the next second.
#[test]
fn low_power_drawing_is_said_and_ticks_by_the_minute() {
    let app = Rc::new(RefCell::new(desk_app(Lang::Vi).with_low_power(true)));
    let mut h = harness([1600.0, 800.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    h.get_by_label("Chế độ vẽ tiết kiệm");
    // 29/11/2026 09:41:07 in Vietnam.
    h.get_by_label("09:41 29/11/2026");
    assert!(h.query_by_label("09:41:07 29/11/2026").is_none());
    let cx = app.borrow().wall_state().frame_ctx(fixed_now());
    assert!(cx.low_power);
    assert_eq!(cx.age_words(Duration::seconds(34)), "chưa tới 1 phút trước");
    assert_eq!(cx.age_words(Duration::zero()), "vừa xong");
    assert_eq!(cx.age_words(Duration::minutes(3)), "3 phút trước");
    let plain = desk_app(Lang::Vi);
    h = harness([1600.0, 800.0], {
        let app = Rc::new(RefCell::new(plain));
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    h.get_by_label("09:41:07 29/11/2026");
    assert!(h.query_by_label("Chế độ vẽ tiết kiệm").is_none());
}

#[test]
fn low_power_follows_the_renderer_unless_configured() {
    use ioc_console::config::LowPower;
    assert!(LowPower::Auto.resolve(true));
    assert!(!LowPower::Auto.resolve(false));
    assert!(LowPower::On.resolve(false));
    assert!(!LowPower::Off.resolve(true));
}
