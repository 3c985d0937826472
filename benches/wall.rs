//! The path the wall really takes, with large data: one frame of a whole tile (its status, its
//! body and the tessellation eframe does next, through `app::wall_view::paint_tile`, with the
//! console's shared caches and tile states), for each kind in one run, baselines in the same
//! run.
//!
//! Run: `cargo bench --bench wall`. Targets: a chart tile over 1,000,000 points within 1.5x of
//! the same tile over 2,000 (steady); the queue tile and the desk's panel with 100,000
//! incidents while the event stream's heartbeat bumps the store every second: no frame above
//! 16.7 ms; a search keystroke under 2 ms; the whole `ioc-main` wall under 2 ms CPU a frame.
//!
//! Times are wall-clock times of the frame on the calling thread (the machine is otherwise idle
//! while it runs): the egui pass plus the tessellation. Rasterizing (the GPU's work) is not in
//! them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use egui::{Rect, pos2, vec2};
use ioc_console::app::incident_panel::IncidentPanel;
use ioc_console::app::wall_view;
use ioc_console::charts::{ChartSpec, ChartType, UnitSelection};
use ioc_console::context::FrameCtx;
use ioc_console::context::queue::QueueCache;
use ioc_console::i18n::Lang;
use ioc_console::incidents::queue::{QueueFilter, QueueIndex, SortBy};
use ioc_console::incidents::search;
use ioc_console::model::*;
use ioc_console::sources::{Payload, Resource, Timing, Update};
use ioc_console::store::Store;
use ioc_console::tiles::TileOptions;
use ioc_console::ui::fonts;
use ioc_console::wall::{CellRect, Tile};

#[path = "common/incidents.rs"]
mod fake;
use fake::incidents;

fn epoch() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 29, 2, 41, 7).unwrap()
}

/// Frame times of `n` frames (after two warm-up frames) of `paint` in a `size` screen; `before`
/// runs before each frame (a data change), outside the measured time.
fn frames(
    ctx: &egui::Context,
    size: egui::Vec2,
    n: usize,
    mut before: impl FnMut(usize),
    mut paint: impl FnMut(&mut egui::Ui),
) -> Vec<Duration> {
    let input = || egui::RawInput {
        screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), size)),
        ..Default::default()
    };
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 2 {
        before(i);
        let t = Instant::now();
        let mut out = ctx.run_ui(input(), &mut paint);
        let prims = ctx.tessellate(std::mem::take(&mut out.shapes), 1.0);
        std::hint::black_box(prims);
        out.textures_delta.clear();
        if i >= 2 {
            times.push(t.elapsed());
        }
    }
    times
}

/// The time of one frame, without warming up (what the first frame after a change costs).
fn first_frame(
    ctx: &egui::Context,
    size: egui::Vec2,
    mut paint: impl FnMut(&mut egui::Ui),
) -> Duration {
    let input = egui::RawInput {
        screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), size)),
        ..Default::default()
    };
    let t = Instant::now();
    let mut out = ctx.run_ui(input, &mut paint);
    std::hint::black_box(ctx.tessellate(std::mem::take(&mut out.shapes), 1.0));
    t.elapsed()
}

fn pct(times: &[Duration], p: f64) -> Duration {
    let mut v = times.to_vec();
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn tile(id: &str, options: TileOptions) -> Tile {
    Tile {
        id: id.into(),
        monitor: 0,
        title: "Tỷ lệ lấp đầy giường bệnh".into(),
        source: Some("backend".into()),
        cell: CellRect {
            x: 0,
            y: 0,
            w: 1,
            h: 1,
        },
        options,
    }
}

fn new_ctx() -> egui::Context {
    let ctx = egui::Context::default();
    fonts::install(&ctx);
    ctx
}

// ---------------------------------------------------------------------------------------------
// Charts

/// A store with one monthly indicator and `lines` series of `points` months each (a period key
/// spans years 0 to 65535, so a million points are two lines of 500,000 months).
fn chart_store(lines: usize, points: usize) -> Store {
    let now = epoch();
    let mut store = Store::connected(Timing::default());
    let unit = |id: &str, parent: Option<&str>| Unit {
        id: id.into(),
        name: format!("Huyện {id}"),
        level: UnitLevel::District,
        parent_id: parent.map(str::to_owned),
        valid_from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        valid_to: None,
        location: None,
    };
    let mut units = vec![unit("p", None)];
    units.extend((0..lines).map(|l| unit(&format!("u{l}"), Some("p"))));
    let load = |store: &mut Store, resource, payload| {
        store.apply(Update::Loaded {
            resource,
            payload,
            as_of: now,
            fetched_at: now,
        })
    };
    load(&mut store, Resource::Units, Payload::Units(units));
    load(
        &mut store,
        Resource::Indicators,
        Payload::Indicators(vec![Indicator {
            id: "beds".into(),
            name_vi: "Tỷ lệ lấp đầy giường bệnh".into(),
            name_en: "Hospital bed occupancy".into(),
            unit_of_measure: "%".into(),
            sector: "health".into(),
            provider_id: "so-y-te".into(),
            period: PeriodKind::Monthly,
            target: None,
            threshold: None,
            decimals: 1,
        }]),
    );
    let mut x = 0x2607u64;
    let series = (0..lines)
        .map(|l| Series {
            indicator_id: "beds".into(),
            unit_id: format!("u{l}"),
            annotations: Vec::new(),
            points: (0..points)
                .map(|i| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let noise = (x >> 40) as f64 / (1u64 << 24) as f64;
                    let spike = if i % 99_991 == 500 { 40.0 } else { 0.0 };
                    let year = 2026 - (points - 1 - i) as i64 / 12;
                    let month = 12 - ((points - 1 - i) % 12) as u8;
                    Point {
                        period: PeriodKey::month(year.max(0) as u16, month).unwrap(),
                        value: 50.0
                            + 10.0 * (i as f64 / points as f64 * 12.0).sin()
                            + noise * 4.0
                            + spike,
                        updated_at: now,
                        status: None,
                    }
                })
                .collect(),
            missing: Vec::new(),
            origin: None,
        })
        .collect();
    load(&mut store, Resource::Series, Payload::Series(series));
    store
}

fn chart_tile(points: usize) -> Tile {
    tile(
        "chart",
        TileOptions::Chart(ChartSpec {
            chart: ChartType::Line,
            indicators: vec!["beds".into()],
            units: UnitSelection::Ids(vec!["u0".into(), "u1".into()]),
            periods: points,
            period: None,
        }),
    )
}

/// Steady frames of the chart tile, and the first frame after its data changed.
fn chart_frames(lines: usize, points: usize, old_status: bool) -> (Duration, Duration) {
    let ctx = new_ctx();
    let mut cx = FrameCtx::new(Lang::Vi, epoch());
    cx.store = Arc::new(chart_store(lines, points));
    let t = chart_tile(points);
    let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(960.0, 720.0));
    let TileOptions::Chart(spec) = &t.options else {
        unreachable!()
    };
    let steady = frames(
        &ctx,
        rect.size(),
        30,
        |_| {},
        |ui| {
            if old_status {
                // What the status did before the shared cache: a whole extraction every frame.
                std::hint::black_box(ioc_console::charts::ChartData::from_store(
                    spec, &cx.store, cx.lang,
                ));
            }
            wall_view::paint_tile(ui, rect, &t, 0.67, &cx)
        },
    );
    // The cold frame: a fresh cache (what a data change of this chart costs once: extraction
    // and decimation), the median of three.
    let mut cold: Vec<Duration> = (0..3)
        .map(|_| {
            cx.caches = Arc::default();
            first_frame(&ctx, rect.size(), |ui| {
                wall_view::paint_tile(ui, rect, &t, 0.67, &cx)
            })
        })
        .collect();
    cold.sort();
    (pct(&steady, 0.5), cold[1])
}

fn charts() {
    println!("## Chart tile (status + body + tessellation), 960×720 px, line chart of two series");
    println!();
    println!(
        "| points | steady frame | ratio to 2,000 (≤ 1.5x) | steady, status extracting every frame (before) | first frame after a change |"
    );
    println!("| --- | --- | --- | --- | --- |");
    let mut base = None;
    for total in [2_000usize, 100_000, 1_000_000] {
        let per_line = total / 2;
        let (steady, cold) = chart_frames(2, per_line, false);
        let (before, _) = if total <= 100_000 {
            chart_frames(2, per_line, true)
        } else {
            // A million points: the old status path costs about a second a frame; two frames.
            let ctx = new_ctx();
            let mut cx = FrameCtx::new(Lang::Vi, epoch());
            cx.store = Arc::new(chart_store(2, per_line));
            let t = chart_tile(per_line);
            let TileOptions::Chart(spec) = &t.options else {
                unreachable!()
            };
            let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(960.0, 720.0));
            let v = frames(
                &ctx,
                rect.size(),
                2,
                |_| {},
                |ui| {
                    std::hint::black_box(ioc_console::charts::ChartData::from_store(
                        spec, &cx.store, cx.lang,
                    ));
                    wall_view::paint_tile(ui, rect, &t, 0.67, &cx)
                },
            );
            (pct(&v, 0.5), Duration::ZERO)
        };
        let b = *base.get_or_insert(steady);
        let r = steady.as_secs_f64() / b.as_secs_f64();
        println!(
            "| {total} | {:.3} ms | **{r:.2}x** {} | {:.2} ms | {:.1} ms |",
            ms(steady),
            if r <= 1.5 { "✓" } else { "✗" },
            ms(before),
            ms(cold)
        );
    }
    println!();
}

// ---------------------------------------------------------------------------------------------
// The queue, the desk and search

fn incident_store(n: usize) -> Store {
    let now = epoch();
    let mut store = Store::connected(Timing::default());
    store.apply(Update::Loaded {
        resource: Resource::Incidents,
        payload: Payload::Incidents {
            items: incidents(n),
            incremental: false,
        },
        as_of: now,
        fetched_at: now,
    });
    store
}

fn open_filter() -> QueueFilter {
    QueueFilter {
        open_only: true,
        ..Default::default()
    }
}

/// Waits for the shared index (built off the UI thread above 20,000 incidents); returns how long
/// the build took and the frames drawn meanwhile.
fn prepare_index(ctx: &egui::Context, cx: &FrameCtx, t: &Tile) -> (Duration, Vec<Duration>) {
    let cache = cx.caches.get::<QueueCache>();
    let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(960.0, 1080.0));
    let start = Instant::now();
    let mut during = Vec::new();
    loop {
        let times = frames(
            ctx,
            rect.size(),
            1,
            |_| {},
            |ui| wall_view::paint_tile(ui, rect, t, 1.0, cx),
        );
        let q = cache.lock(&cx.store);
        if !q.preparing() && !q.index().is_empty() {
            break;
        }
        during.extend(times);
        drop(q);
        std::thread::sleep(Duration::from_millis(2));
    }
    (start.elapsed(), during)
}

/// Frames of the queue tile and the desk's panel while a heartbeat (or, with `old`, the work
/// the old per-view caches did on every store generation) comes every 60th frame.
fn queue_frames(n: usize, old: bool) -> (Vec<Duration>, Vec<Duration>, Duration, Vec<Duration>) {
    let ctx = new_ctx();
    let mut cx = FrameCtx::new(Lang::Vi, epoch());
    cx.store = Arc::new(incident_store(n));
    let t = tile(
        "queue",
        TileOptions::Incidents(ioc_console::tiles::incidents::IncidentsOptions {
            sort: SortBy::Priority,
            filter: open_filter(),
        }),
    );
    let (build, during) = prepare_index(&ctx, &cx, &t);
    let cx = std::cell::RefCell::new(cx);
    let mut old_index = QueueIndex::default();
    if old {
        old_index.sync_store(&cx.borrow().store);
    }
    let heartbeat = |i: usize, cx: &std::cell::RefCell<FrameCtx>| {
        if i.is_multiple_of(60) {
            let mut c = cx.borrow_mut();
            Arc::make_mut(&mut c.store).apply(Update::StreamAlive { at: epoch() });
        }
    };
    let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(960.0, 1080.0));
    let tile_times = frames(
        &ctx,
        rect.size(),
        600,
        |i| heartbeat(i, &cx),
        |ui| {
            let cx = cx.borrow();
            if old && ui.ctx().cumulative_pass_nr().is_multiple_of(60) {
                // The old tile re-selected and cloned every id on any generation bump.
                let ids: Vec<String> = old_index
                    .select(&open_filter(), SortBy::Priority)
                    .into_iter()
                    .map(|r| r.id.clone())
                    .collect();
                std::hint::black_box(ids);
            }
            wall_view::paint_tile(ui, rect, &t, 1.0, &cx)
        },
    );
    let mut panel = IncidentPanel::default();
    let mut commands = Vec::new();
    let desk = frames(
        &ctx,
        vec2(560.0, 1000.0),
        600,
        |i| heartbeat(i, &cx),
        |ui| {
            let cx = cx.borrow();
            if old && ui.ctx().cumulative_pass_nr().is_multiple_of(60) {
                let ids: Vec<String> = old_index
                    .select(&open_filter(), SortBy::Priority)
                    .into_iter()
                    .map(|r| r.id.clone())
                    .collect();
                std::hint::black_box(ids);
            }
            panel.show(ui, &cx, false, &mut commands);
            commands.clear();
        },
    );
    (tile_times, desk, build, during)
}

fn queues() {
    let n = 100_000;
    let (tile, desk, build, during) = queue_frames(n, false);
    let (old_tile, old_desk, _, _) = queue_frames(n, true);
    println!(
        "## Queue tile and desk panel, {n} incidents, a heartbeat of the event stream every 60th frame (600 frames each)"
    );
    println!();
    println!("| view | p50 | p99 | max (target ≤ 16.7 ms) | before: p99 | before: max |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, now, before) in [
        ("queue tile 960×1080", &tile, &old_tile),
        ("desk panel 560×1000", &desk, &old_desk),
    ] {
        let max = pct(now, 1.0);
        println!(
            "| {name} | {:.2} ms | {:.2} ms | **{:.2} ms** {} | {:.2} ms | {:.2} ms |",
            ms(pct(now, 0.5)),
            ms(pct(now, 0.99)),
            ms(max),
            if max.as_secs_f64() <= 1.0 / 60.0 {
                "✓"
            } else {
                "✗"
            },
            ms(pct(before, 0.99)),
            ms(pct(before, 1.0)),
        );
    }
    println!();
    println!(
        "First build of the shared index off the UI thread: {:.0} ms; {} frames drawn meanwhile, the slowest {:.2} ms.",
        ms(build),
        during.len(),
        during.iter().max().copied().map_or(0.0, ms)
    );
    println!();

    // Search, per keystroke: the word index against the linear scan it replaced, same rows.
    let map: HashMap<String, Incident> = incidents(n)
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let mut index = QueueIndex::build(&map, 1);
    let folded: Vec<String> = map
        .values()
        .map(|i| {
            search::fold(&format!(
                "{} {} {} {} {}",
                i.id,
                i.title,
                i.description,
                i.address.as_deref().unwrap_or(""),
                i.category
            ))
        })
        .collect();
    let typing = [
        "n",
        "ng",
        "nga",
        "ngap",
        "ngap ",
        "ngap n",
        "ngap nu",
        "ngap nuo",
        "ngap nuoc",
        "d",
        "do",
        "don",
        "dong",
        "dong k",
        "dong kh",
        "dong kho",
        "dong khoi",
        "p",
        "pa",
        "pa-",
        "pa-00",
        "pa-0001",
        "pa-00012",
        "0",
        "00",
        "000",
        "xu ly",
        "ba tri cho",
    ];
    let mut ours = Vec::new();
    let mut scan = Vec::new();
    // The panel shows its list before anyone types: that selection (the filter, the order)
    // is made when it opens, not on the first keystroke.
    std::hint::black_box(
        index
            .select_positions(
                &QueueFilter {
                    open_only: true,
                    ..Default::default()
                },
                SortBy::Priority,
            )
            .len(),
    );
    for _ in 0..5 {
        for q in typing {
            let f = QueueFilter {
                query: q.into(),
                open_only: true,
                ..Default::default()
            };
            let t = Instant::now();
            std::hint::black_box(index.select_positions(&f, SortBy::Priority).len());
            ours.push(t.elapsed());
            if std::env::var_os("IOC_BENCH_TRACE").is_some() {
                eprintln!("{q:?}: {:.2} ms", ms(*ours.last().unwrap()));
            }
            let fq = search::fold(q);
            let t = Instant::now();
            std::hint::black_box(folded.iter().filter(|f| search::matches(f, &fq)).count());
            scan.push(t.elapsed());
        }
    }
    println!(
        "## Search per keystroke, {n} incidents ({} queries typed letter by letter, 5 rounds)",
        typing.len()
    );
    println!();
    println!("| | p50 | max (target < 2 ms) |");
    println!("| --- | --- | --- |");
    println!(
        "| linear scan of the folded texts (before, search only) | {:.2} ms | {:.2} ms |",
        ms(pct(&scan, 0.5)),
        ms(pct(&scan, 1.0))
    );
    let max = pct(&ours, 1.0);
    println!(
        "| word index + filter + order (now, the whole selection) | {:.2} ms | **{:.2} ms** {} |",
        ms(pct(&ours, 0.5)),
        ms(max),
        if max < Duration::from_millis(2) {
            "✓"
        } else {
            "✗"
        }
    );
    println!();
}

// ---------------------------------------------------------------------------------------------
// The map and the whole wall

/// The steady frame of the map tile over `store`; with `project_each_frame`, the projected layer
/// lines are forgotten before every frame (as before they were kept per view).
fn map_frames(store: &Store, project_each_frame: bool) -> Duration {
    use ioc_console::tiles::map::{Follow, MapLayer, MapOptions};
    let ctx = new_ctx();
    let mut cx = FrameCtx::new(Lang::Vi, epoch());
    cx.store = Arc::new(store.clone());
    let t = tile(
        "map",
        TileOptions::Map(MapOptions {
            center: Some(GeoPoint {
                lat: 10.15,
                lon: 106.42,
            }),
            zoom: Some(10.0),
            follow: Follow::Fixed,
            basemap: None,
            layers: MapLayer::ALL.to_vec(),
            camera_radius_m: 2000.0,
            include_closed: false,
            unit: None,
        }),
    );
    let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(960.0, 1080.0));
    // Until the incidents are placed (above 20,000 they are projected on a worker).
    for _ in 0..200 {
        frames(
            &ctx,
            rect.size(),
            1,
            |_| {},
            |ui| wall_view::paint_tile(ui, rect, &t, 1.0, &cx),
        );
        std::thread::sleep(Duration::from_millis(5));
        let placed = cx
            .tiles
            .lock()
            .unwrap()
            .get(&ioc_console::context::tile_state::TileKey {
                tile: "map".into(),
                viewport: egui::ViewportId::ROOT,
            })
            .and_then(|s| s.get::<ioc_console::tiles::map::MapTileState>())
            .and_then(|m| m.placed_incidents());
        if placed.is_some() {
            break;
        }
    }
    let key = ioc_console::context::tile_state::TileKey {
        tile: "map".into(),
        viewport: egui::ViewportId::ROOT,
    };
    pct(
        &frames(
            &ctx,
            rect.size(),
            40,
            |_| {
                if project_each_frame {
                    let mut tiles = cx.tiles.lock().unwrap();
                    let mut state = tiles.take(&key);
                    if let Some(m) = state.get_mut::<ioc_console::tiles::map::MapTileState>() {
                        m.forget_projected_lines();
                    }
                    tiles.put(key.clone(), state);
                }
            },
            |ui| wall_view::paint_tile(ui, rect, &t, 1.0, &cx),
        ),
        0.5,
    )
}

fn map_and_wall() {
    let demo = ioc_console::sim::world_store(2607, epoch()).unwrap();
    let template = demo
        .incidents
        .data
        .as_ref()
        .and_then(|m| m.values().find(|i| !i.status.is_closed()))
        .cloned()
        .expect("an open demo incident");
    let with = |n: usize| {
        let mut store = demo.clone();
        let mut x = 0x2607u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut map = HashMap::with_capacity(n);
        for i in 0..n {
            let mut inc = template.clone();
            inc.id = format!("bench-{i:06}");
            inc.location = GeoPoint {
                lat: 9.85 + next() * 0.5,
                lon: 106.1 + next() * 0.65,
            };
            inc.received_at = epoch() - chrono::Duration::minutes(10 + (next() * 43_000.0) as i64);
            inc.due_at = inc.received_at + chrono::Duration::days(1);
            map.insert(inc.id.clone(), inc);
        }
        store.apply(Update::Loaded {
            resource: Resource::Incidents,
            payload: Payload::Incidents {
                items: map.into_values().collect(),
                incremental: false,
            },
            as_of: epoch(),
            fetched_at: epoch(),
        });
        store
    };
    let (none, tenk) = (with(0), with(10_000));
    let base = map_frames(&none, false);
    let now = map_frames(&tenk, false);
    let before = map_frames(&tenk, true);
    println!(
        "## Map tile (status + body + tessellation), 960×1080 px, province view, vector-only demo map"
    );
    println!();
    println!(
        "| incidents | steady frame | ratio to none (≤ 1.5x) | layers projected every frame (before) |"
    );
    println!("| --- | --- | --- | --- |");
    println!("| 0 | {:.3} ms | 1.00x | |", ms(base));
    let r = now.as_secs_f64() / base.as_secs_f64();
    println!(
        "| 10,000 | {:.3} ms | **{r:.2}x** {} | {:.3} ms |",
        ms(now),
        if r <= 1.5 { "✓" } else { "✗" },
        ms(before)
    );
    println!();

    // The whole provincial wall, every monitor at full size, with the demo's data.
    let layout =
        ioc_console::wall::layout::load(std::path::Path::new("layouts/ioc-main.toml")).unwrap();
    let ctx = new_ctx();
    let mut cx = FrameCtx::new(Lang::Vi, epoch());
    cx.store = Arc::new(demo);
    let (rects, total) = ioc_console::wall::geometry::wall_pixels(&layout);
    let paint = |ui: &mut egui::Ui| {
        for (i, r) in rects.iter().enumerate() {
            wall_view::paint_monitor(ui, *r, &layout, i, &cx);
        }
    };
    let _ = frames(&ctx, total, 20, |_| {}, paint);
    let wall = frames(&ctx, total, 60, |_| {}, paint);
    println!("## The whole wall");
    println!();
    println!("| wall | tiles | p50 | p99 | target: ≤ 2 ms a steady frame |");
    println!("| --- | --- | --- | --- | --- |");
    let p50 = pct(&wall, 0.5);
    println!(
        "| ioc-main.toml, {} monitors, {:.0}×{:.0} px | {} | **{:.2} ms** | {:.2} ms | {} |",
        layout.monitors.len(),
        total.x,
        total.y,
        layout.tiles.len(),
        ms(p50),
        ms(pct(&wall, 0.99)),
        if p50 <= Duration::from_millis(2) {
            "✓"
        } else {
            "✗"
        }
    );
}

fn main() {
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if run("charts") {
        charts();
    }
    if run("queues") {
        queues();
    }
    if run("map") {
        map_and_wall();
    }
}
