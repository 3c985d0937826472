//! Unattended briefing rotation for a week, compressed: the console (`ConsoleApp::show`, the
//! path of a real frame: the kiosk's scene with its tiles' statuses and bodies, then egui's
//! tessellation) presents `layouts/briefings/giao-ban-thang.toml` with `--rotate` on an
//! accelerated clock, fed by the built-in simulated IOC's world advancing with it (its own
//! incidents, workflow steps and observations) plus 50 incident changes before every frame (far
//! above the demo's rate), for 7 simulated days.
//!
//! Frames run when the console asks for one (its repaint delay: the next scene change or, with
//! `low_power` as on a software renderer, the next minute), at least 5 simulated seconds apart
//! (the camera tiles of the flooding scene ask for four a second while they connect; the bench
//! has no camera server) and at most 60 apart.
//!
//! Measured: resident memory every simulated hour (growth after the first hour); every scene
//! change against its schedule (late by how many frames); every scene shown once per round in
//! order; and the frozen scenes' frame time against the live wall's (the same layout in Operate
//! mode, every monitor, under the same changes) in the same run.
//!
//! Run: `cargo bench --bench briefing` (`IOC_BENCH_DAYS=1` for a shorter run,
//! `IOC_BENCH_CHURN=0` without the extra incident changes, `IOC_BENCH_WORLD_ONLY=1` for the memory
//! of the world, the feed and the store alone, without frames, `IOC_BENCH_HOURLY=1` for a line
//! every simulated hour).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use egui::{Rect, pos2};
use ioc_console::app::{Backend, ConsoleApp, DisplayChoice, LaunchOptions};
use ioc_console::i18n::Lang;
use ioc_console::model::{Event, Timestamp};
use ioc_console::role::Role;
use ioc_console::sim::data::DemoData;
use ioc_console::sim::world::World;
use ioc_console::sources::{BackendLink, Payload, Resource, Timing, Update};
use ioc_console::wall::layout;

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "common/proc.rs"]
mod proc_info;

fn rss_kb() -> u64 {
    proc_info::rss_kb("self")
}

/// glibc's allocator statistics (all arenas): `mallinfo2(3)`.
#[repr(C)]
#[derive(Default)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

unsafe extern "C" {
    fn mallinfo2() -> MallInfo2;
}

/// Bytes the program holds from the allocator (in use, mapped blocks included), in KiB: what
/// the heap holds apart from what the allocator keeps free.
fn heap_in_use_kb() -> u64 {
    // SAFETY: mallinfo2 only reads the allocator's statistics (glibc 2.33 and later).
    let m = unsafe { mallinfo2() };
    ((m.uordblks + m.hblkhd) / 1024) as u64
}

type Feed = tokio::sync::mpsc::Sender<Update>;

/// A console on the world's data through a link the bench feeds (no HTTP: the clock is
/// accelerated, and the data's arrival times follow it).
struct Rig {
    app: ConsoleApp,
    ctx: egui::Context,
    feed: Feed,
    world: World,
    clock: Arc<Mutex<Timestamp>>,
    _requests: tokio::sync::mpsc::Receiver<ioc_console::sources::Request>,
    churn: usize,
    /// Incident changes sent before every frame (`IOC_BENCH_CHURN`, default 50).
    churn_per_frame: usize,
}

fn rig(epoch: Timestamp, brief: Option<std::path::PathBuf>) -> Rig {
    let data = Arc::new(DemoData::embedded().expect("demo data"));
    let world = World::new(data, 7, epoch, None, "rtsp://127.0.0.1:9");
    let (feed, updates) = tokio::sync::mpsc::channel(200_000);
    let (req_tx, req_rx) = tokio::sync::mpsc::channel(1024);
    let link = BackendLink {
        updates,
        requests: req_tx,
        timing: Timing::default(),
        base_url: "http://bench.invalid".into(),
        external: Vec::new(),
    };
    let load = |resource, payload| Update::Loaded {
        resource,
        payload,
        as_of: epoch,
        fetched_at: epoch,
    };
    for u in [
        load(Resource::Units, Payload::Units(world.units().to_vec())),
        load(
            Resource::Departments,
            Payload::Departments(world.departments().to_vec()),
        ),
        load(
            Resource::Categories,
            Payload::Categories(world.categories().to_vec()),
        ),
        load(
            Resource::Indicators,
            Payload::Indicators(world.indicators().to_vec()),
        ),
        load(
            Resource::Series,
            Payload::Series(world.series().cloned().collect()),
        ),
        load(
            Resource::Incidents,
            Payload::Incidents {
                items: world.incidents().to_vec(),
                incremental: false,
            },
        ),
        load(
            Resource::Cameras,
            Payload::Cameras(world.cameras().to_vec()),
        ),
        load(
            Resource::Providers,
            Payload::Providers(world.providers().to_vec()),
        ),
    ] {
        feed.try_send(u).expect("room for the first load");
    }
    let clock = Arc::new(Mutex::new(epoch));
    let c = Arc::clone(&clock);
    let ctx = egui::Context::default();
    let path = repo().join("layouts/ioc-main.toml");
    let mut app = ConsoleApp::new(
        &ctx,
        LaunchOptions {
            layout: layout::load(&path).expect("layout"),
            layout_path: Some(path),
            lang: Lang::Vi,
            role: Role::Leader,
            display: DisplayChoice::Preview,
            watch: false,
            backend: Some(Backend {
                audit: None,
                link,
                trainer: false,
                keep_alive: Vec::new(),
                outbox: None,
                identity: None,
                sessions: None,
                simulated: true,
                handle: None,
                ca_bundle: None,
            }),
            map: Default::default(),
            cameras: Default::default(),
            wake: None,
        },
    )
    .with_clock(Arc::new(move || *c.lock().unwrap()))
    .with_low_power(true);
    if let Some(board) = brief {
        app = app.with_storyboard(board, true);
    }
    Rig {
        app,
        ctx,
        feed,
        world,
        clock,
        _requests: req_rx,
        churn: 0,
        churn_per_frame: std::env::var("IOC_BENCH_CHURN")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(50),
    }
}

impl Rig {
    fn now(&self) -> Timestamp {
        *self.clock.lock().unwrap()
    }

    /// One frame: its time, and the delay the console asked for before the next.
    fn frame(&mut self) -> (Duration, Duration) {
        let input = egui::RawInput {
            screen_rect: Some(Rect::from_min_size(
                pos2(0.0, 0.0),
                egui::vec2(1920.0, 1080.0),
            )),
            ..Default::default()
        };
        let t = Instant::now();
        let app = &mut self.app;
        let mut out = self.ctx.run_ui(input, |ui| app.show(ui));
        let prims = self.ctx.tessellate(std::mem::take(&mut out.shapes), 1.0);
        std::hint::black_box(prims);
        let took = t.elapsed();
        out.textures_delta.clear();
        let delay = out
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map_or(Duration::from_secs(60), |v| v.repaint_delay);
        (took, delay)
    }

    /// Moves the clock and the world on by `dt`, and sends what changed (the world's events and
    /// `churn_per_frame` incident changes).
    fn advance(&mut self, dt: Duration) {
        let now = self.now() + chrono::Duration::from_std(dt).unwrap();
        *self.clock.lock().unwrap() = now;
        self.world.advance_to(now);
        for (_, e) in self.world.take_new_events() {
            let _ = self.feed.try_send(Update::Event(e));
        }
        let n = self.world.incidents().len();
        for _ in 0..self.churn_per_frame {
            let mut i = self.world.incidents()[self.churn % n].clone();
            self.churn += 1;
            i.version += 1_000_000 + self.churn as u64;
            i.updated_at = now;
            let _ = self
                .feed
                .try_send(Update::Event(Event::Incident(Box::new(i))));
        }
    }
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let days: f64 = std::env::var("IOC_BENCH_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(7.0);
    let epoch: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 29, 1, 0, 0).unwrap();
    let end = epoch + chrono::Duration::seconds((days * 86_400.0) as i64);
    let started = Instant::now();

    // `IOC_BENCH_WORLD_ONLY=1`: the simulated world, the feed and the console's store taking it,
    // no frame drawn, one step a minute: what the process holds besides the drawing.
    if std::env::var_os("IOC_BENCH_WORLD_ONLY").is_some() {
        let mut r = rig(epoch, None);
        let mut rss = Vec::new();
        let mut minutes = 0u64;
        while r.now() < end {
            if minutes.is_multiple_of(60) {
                rss.push(rss_kb());
            }
            r.advance(Duration::from_secs(60));
            r.app.poll_backend();
            minutes += 1;
        }
        let at = |h: usize| rss.get(h).copied().unwrap_or(0);
        println!(
            "world and store only: after 1 h {} KiB, day 1 {} KiB, day 6 {} KiB, end {} KiB",
            at(1),
            at(24),
            at(144),
            rss.last().copied().unwrap_or(0)
        );
        return;
    }

    // The rotation.
    let mut r = rig(
        epoch,
        Some(repo().join("layouts/briefings/giao-ban-thang.toml")),
    );
    let board = r
        .app
        .brief
        .storyboard
        .clone()
        .expect("the storyboard started");
    let durations: Vec<i64> = board
        .scenes
        .iter()
        .map(|s| s.duration.map_or(30, |d| d.as_secs() as i64))
        .collect();
    let scenes = durations.len();
    // The bench's own records are allocated and written once before the first sample (frames
    // are at least 5 simulated seconds apart), so what grows is the console, not the records.
    let max_frames = (days * 86_400.0 / 5.0) as usize + 2;
    let mut times = vec![Duration::from_nanos(1); max_frames];
    let mut rss = Vec::with_capacity(days as usize * 24 + 2);
    let mut heap = Vec::with_capacity(days as usize * 24 + 2);
    let mut next_sample = epoch;
    let mut frames = 0u64;
    let mut last_shown: Option<(usize, Timestamp)> = None;
    let mut changes = 0usize;
    let mut last_interval = Duration::ZERO;
    let mut late_frames_max = 0.0f64;
    let mut late_max = chrono::Duration::zero();
    let mut order_ok = true;
    while r.now() < end {
        let (took, delay) = r.frame();
        times[frames as usize] = took;
        frames += 1;
        let now = r.now();
        let b = r
            .app
            .wall_state()
            .view
            .briefing
            .clone()
            .expect("still briefing");
        if last_shown.is_none_or(|(s, _)| s != b.scene) {
            if let Some((prev, at)) = &last_shown {
                changes += 1;
                if b.scene != (prev + 1) % scenes {
                    order_ok = false;
                }
                let due = *at + chrono::Duration::seconds(durations[*prev]);
                let late = now - due;
                if late > late_max {
                    late_max = late;
                }
                if !last_interval.is_zero() {
                    let f = late.num_milliseconds() as f64 / last_interval.as_millis() as f64;
                    late_frames_max = late_frames_max.max(f);
                }
            }
            last_shown = Some((b.scene, now));
        }
        if now >= next_sample {
            rss.push(rss_kb());
            heap.push(heap_in_use_kb());
            let hour = rss.len() - 1;
            if hour % 24 == 0
                || [1, 2, 4, 8, 12].contains(&hour)
                || std::env::var_os("IOC_BENCH_HOURLY").is_some()
            {
                let state = r.app.wall_state();
                let count = |s: &ioc_console::store::Store| {
                    s.incidents.data.as_ref().map_or(0, |d| d.len())
                };
                let egui_ids = r.ctx.memory(|m| m.data.len());
                let atlas = r.ctx.fonts(|f| f.font_image_size());
                let rows =
                    r.ctx.fonts(|f| f.font_atlas_fill_ratio()) * atlas[0].max(atlas[1]) as f32;
                println!(
                    "  hour {:>3}: {} KiB resident, {} KiB in use on the heap; incidents live {}, frozen {}, in the world {}; egui state {} ids, font atlas {}x{} ({rows:.0} rows used)",
                    rss.len() - 1,
                    rss.last().unwrap(),
                    heap_in_use_kb(),
                    count(&state.store),
                    state.frozen.as_deref().map_or(0, count),
                    r.world.incidents().len(),
                    egui_ids,
                    atlas[0],
                    atlas[1]
                );
            }
            next_sample += chrono::Duration::hours(1);
        }
        let dt = delay.clamp(Duration::from_secs(5), Duration::from_secs(60));
        last_interval = dt;
        r.advance(dt);
    }
    let rounds = r.app.brief.rounds;
    let hours = rss.len();
    let after_first_hour = rss.get(1).copied().unwrap_or(0);
    let max_after = rss.iter().skip(1).copied().max().unwrap_or(0);
    let last = rss.last().copied().unwrap_or(0);
    let growth =
        (max_after as f64 - after_first_hour as f64) / after_first_hour.max(1) as f64 * 100.0;
    let heap_first = heap.get(1).copied().unwrap_or(0);
    let heap_max = heap.iter().skip(1).copied().max().unwrap_or(0);
    let heap_growth = (heap_max as f64 - heap_first as f64) / heap_first.max(1) as f64 * 100.0;
    times.truncate(frames as usize);
    let mut frozen = times.clone();
    let frozen_p50 = pct(&mut frozen, 0.5);
    let frozen_p99 = pct(&mut frozen, 0.99);

    // Like for like: the whole wall frozen (a one-scene storyboard of every monitor) against the
    // same wall live in Operate mode, under the same changes, 300 frames each.
    let dir = std::env::temp_dir().join(format!("ioc-bench-briefing-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("briefings")).unwrap();
    std::fs::copy(
        repo().join("layouts/ioc-main.toml"),
        dir.join("ioc-main.toml"),
    )
    .unwrap();
    let whole = dir.join("briefings/wall.toml");
    std::fs::write(
        &whole,
        "title = \"Tường\"\n[[scenes]]\ntitle = \"Cả tường\"\nlayout = \"ioc-main\"\nduration = 3600\n",
    )
    .unwrap();
    let measure = |mut rig: Rig| {
        let mut times = Vec::new();
        for _ in 0..300 {
            let (took, _) = rig.frame();
            times.push(took);
            rig.advance(Duration::from_secs(5));
        }
        (pct(&mut times, 0.5), pct(&mut times, 0.99))
    };
    let (wall_frozen_p50, wall_frozen_p99) = measure(rig(epoch, Some(whole)));
    let (live_p50, live_p99) = measure(rig(epoch, None));
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "briefing rotation, {days} simulated days, {frames} frames, {:.0} s of run time",
        started.elapsed().as_secs_f64()
    );
    println!("  rounds completed: {rounds} (scenes shown in order, each once a round: {order_ok})");
    println!(
        "  scene changes: {} , latest {} ms after its schedule ({:.2} frames)",
        changes,
        late_max.num_milliseconds(),
        late_frames_max
    );
    println!(
        "  resident memory: after 1 h {} KiB, max after {} KiB, at the end {} KiB ({hours} samples): growth {growth:.2} % (target < 5 %)",
        after_first_hour, max_after, last
    );
    let atlas = r.ctx.fonts(|f| f.font_image_size());
    println!(
        "  heap in use: after 1 h {heap_first} KiB, max after {heap_max} KiB, at the end {} KiB: growth {heap_growth:.2} %; font atlas at the end {}x{}",
        heap.last().copied().unwrap_or(0),
        atlas[0],
        atlas[1]
    );
    println!(
        "  frame (kiosk, the storyboard's frozen scenes): p50 {:.3} ms, p99 {:.3} ms",
        ms(frozen_p50),
        ms(frozen_p99)
    );
    println!(
        "  frame (the whole wall frozen, 6 monitors): p50 {:.3} ms, p99 {:.3} ms",
        ms(wall_frozen_p50),
        ms(wall_frozen_p99)
    );
    println!(
        "  frame (the whole wall live, Operate): p50 {:.3} ms, p99 {:.3} ms",
        ms(live_p50),
        ms(live_p99)
    );
    println!(
        "  ratio frozen / live wall (p50): {:.2}x (target <= 1.2x)",
        ms(wall_frozen_p50) / ms(live_p50)
    );
}
