//! Map tile CPU time per frame with 100 / 10,000 / 100,000 incidents (clustered), against the same
//! map with no markers, measured in the same run. `cargo bench --bench map`.
//!
//! A frame is everything the CPU does for the tile: egui layout, the vector layers, units,
//! cameras, the incident markers and tessellation. Three kinds of frame:
//! - *steady*: the wall as it usually is, nothing moving: clusters (kept per data version and
//!   zoom level) and the prepared marker mesh are reused;
//! - *view moving*: the view changes every frame (an operator panning or zooming): the markers in
//!   view are shaped and tessellated again each frame;
//! - *one incident changes*: an event from the backend before every frame: the change is applied
//!   to the points, the clusters and the markers in view are rebuilt;
//! - *whole list replaced*: the backend's whole list before every frame: everything rebuilt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use egui::{Rect, pos2};
use ioc_console::context::{FrameCtx, TileState};
use ioc_console::i18n::Lang;
use ioc_console::model::{GeoPoint, Priority};
use ioc_console::store::Store;
use ioc_console::tiles::TileView;
use ioc_console::tiles::map::{Follow, MapLayer, MapOptions, MapTileState};
use ioc_console::ui::fonts;

const TILE: Rect = Rect {
    min: pos2(0.0, 0.0),
    max: pos2(960.0, 1080.0),
};

fn frames(
    ctx: &egui::Context,
    n: usize,
    mut before: impl FnMut(usize),
    mut paint: impl FnMut(&mut egui::Ui),
) -> Duration {
    let input = || egui::RawInput {
        screen_rect: Some(TILE),
        ..Default::default()
    };
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 3 {
        before(i);
        let t = Instant::now();
        let mut out = ctx.run_ui(input(), &mut paint);
        let prims = ctx.tessellate(std::mem::take(&mut out.shapes), 1.0);
        std::hint::black_box(prims);
        out.textures_delta.clear();
        if i >= 3 {
            times.push(t.elapsed());
        }
    }
    times.sort();
    times[times.len() / 2]
}

/// The demo store with its incidents replaced by `n` spread over the province.
fn store_with(base: &Store, n: usize) -> Store {
    let mut store = base.clone();
    let template = base
        .incidents
        .data
        .as_ref()
        .and_then(|m| {
            m.values()
                .filter(|i| !i.status.is_closed())
                .min_by(|a, b| a.id.cmp(&b.id))
        })
        .cloned()
        .expect("an open demo incident");
    let epoch = Utc.with_ymd_and_hms(2026, 11, 29, 2, 41, 7).unwrap();
    let mut x = 0x2607u64;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut map = std::collections::HashMap::with_capacity(n);
    for i in 0..n {
        let mut inc = template.clone();
        inc.id = format!("bench-{i:06}");
        inc.location = GeoPoint {
            lat: 9.85 + next() * 0.5,
            lon: 106.1 + next() * 0.65,
        };
        // Arrived within the last month, due a day later: some overdue, none new (a new one
        // pulses, which is animation, not markers).
        inc.received_at = epoch - chrono::Duration::minutes(10 + (next() * 43_000.0) as i64);
        inc.due_at = inc.received_at + chrono::Duration::days(1);
        inc.priority = match (next() * 4.0) as u8 {
            0 => Priority::Low,
            1 => Priority::Normal,
            2 => Priority::High,
            _ => Priority::Critical,
        };
        map.insert(inc.id.clone(), inc);
    }
    store.incidents.data = Some(Arc::new(map));
    store.generation += 1;
    store.incidents_reset = store.generation;
    store
}

fn options(zoom: f64) -> MapOptions {
    MapOptions {
        center: Some(GeoPoint {
            lat: 10.15,
            lon: 106.42,
        }),
        zoom: Some(zoom),
        follow: Follow::Fixed,
        basemap: None,
        layers: MapLayer::ALL.to_vec(),
        camera_radius_m: 2000.0,
        include_closed: false,
        unit: None,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Frames {
    Steady,
    Moving,
    /// One incident changes before every frame (an event from the backend).
    OneChange,
    /// The whole incident list is replaced before every frame.
    ListReplaced,
}

fn measure(store: &Store, zoom: f64, kind: Frames) -> Duration {
    let ctx = egui::Context::default();
    fonts::install(&ctx);
    let epoch = Utc.with_ymd_and_hms(2026, 11, 29, 2, 41, 7).unwrap();
    let tile = options(zoom);
    let mut cx = FrameCtx::new(Lang::Vi, epoch);
    cx.store = Arc::new(store.clone());
    let expected = store.incidents.data.as_ref().map_or(0, |m| m.len());
    // Until every incident is placed: what is measured is the map with its markers.
    let until = Instant::now() + Duration::from_secs(30);
    let state = std::cell::RefCell::new(TileState::default());
    let placed = |state: &TileState| {
        state
            .get::<MapTileState>()
            .and_then(|m| m.placed_incidents())
    };
    while placed(&state.borrow()) != Some(expected) {
        assert!(Instant::now() < until, "the incidents were never placed");
        let input = egui::RawInput {
            screen_rect: Some(TILE),
            ..Default::default()
        };
        let _ = ctx.run_ui(input, |ui| {
            tile.paint_body(ui, TILE, 1.0, &cx, &mut state.borrow_mut())
        });
        std::thread::sleep(Duration::from_millis(5));
    }
    let cx = std::cell::RefCell::new(cx);
    let scale = std::cell::Cell::new(1.0f32);
    frames(
        &ctx,
        if matches!(kind, Frames::Steady | Frames::Moving) {
            40
        } else {
            15
        },
        |i| {
            if kind == Frames::Moving {
                // A hair of zoom each frame: the view moves, the picture hardly.
                scale.set(if i % 2 == 0 { 1.0 } else { 0.9999 });
            }
            if kind == Frames::ListReplaced {
                let mut s = (*cx.borrow().store).clone();
                s.generation += 1 + i as u64;
                s.incidents_reset = s.generation;
                cx.borrow_mut().store = Arc::new(s);
            }
            if kind == Frames::OneChange {
                let mut s = (*cx.borrow().store).clone();
                let mut inc = s
                    .incidents
                    .data
                    .as_ref()
                    .and_then(|m| m.values().next())
                    .cloned()
                    .expect("an incident");
                inc.version += 1;
                inc.location.lat += 0.0001;
                s.apply(ioc_console::sources::Update::Event(
                    ioc_console::model::Event::Incident(Box::new(inc)),
                ));
                cx.borrow_mut().store = Arc::new(s);
            }
        },
        |ui| {
            let cx = cx.borrow();
            tile.paint_body(ui, TILE, scale.get(), &cx, &mut state.borrow_mut())
        },
    )
}

fn main() {
    let epoch = Utc.with_ymd_and_hms(2026, 11, 29, 2, 41, 7).unwrap();
    let demo = ioc_console::sim::world_store(2607, epoch).unwrap();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    // Clustering alone, for one zoom level (what a data change or a new zoom level costs).
    println!();
    println!(
        "| incidents | clustering one zoom level | preparing the points from scratch (a whole new list) |"
    );
    println!("| --- | --- | --- |");
    for n in [10_000usize, 100_000] {
        let store = store_with(&demo, n);
        let pts: Vec<_> = store
            .incidents
            .data
            .as_ref()
            .unwrap()
            .values()
            .map(|i| (ioc_console::map::geo::project(i.location), 1u8))
            .collect();
        let mut times: Vec<Duration> = (0..7)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(ioc_console::map::cluster::cluster(&pts, 10, 56.0));
                t.elapsed()
            })
            .collect();
        times.sort();
        let mut prep: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(ioc_console::tiles::map::prepare_incident_points(
                    &store,
                    ioc_console::tiles::map::Placement::default(),
                ));
                t.elapsed()
            })
            .collect();
        prep.sort();
        println!("| {n} | {:.2} ms | {:.2} ms |", ms(times[3]), ms(prep[2]));
    }

    for (zoom, view) in [(10.0, "province (zoom 10)"), (14.0, "city (zoom 14)")] {
        println!();
        println!("View: {view}, tile 960x1080 px");
        println!();
        println!(
            "| incidents | steady frame | ratio to no markers (target ≤ 1.5x at 10,000) | view moving | ratio to no markers, moving | one incident changes every frame | whole list replaced every frame |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- |");
        let base_store = store_with(&demo, 0);
        let base = measure(&base_store, zoom, Frames::Steady);
        let base_moving = measure(&base_store, zoom, Frames::Moving);
        println!(
            "| 0 (baseline) | {:.3} ms | 1.00x | {:.3} ms | 1.00x | – | – |",
            ms(base),
            ms(base_moving)
        );
        for n in [100usize, 10_000, 100_000] {
            let store = store_with(&demo, n);
            let steady = measure(&store, zoom, Frames::Steady);
            let moving = measure(&store, zoom, Frames::Moving);
            let one = measure(&store, zoom, Frames::OneChange);
            let replaced = measure(&store, zoom, Frames::ListReplaced);
            let r = steady.as_secs_f64() / base.as_secs_f64();
            let rm = moving.as_secs_f64() / base_moving.as_secs_f64();
            // The target is about the clustered view.
            let mark = if n == 10_000 && zoom < 12.0 {
                if r <= 1.5 { " ✓" } else { " ✗" }
            } else {
                ""
            };
            println!(
                "| {n} | {:.3} ms | **{r:.2}x**{mark} | {:.3} ms | {rm:.2}x | {:.2} ms | {:.2} ms |",
                ms(steady),
                ms(moving),
                ms(one),
                ms(replaced)
            );
        }
    }
}
