//! Incident queue benchmark with 100,000 incidents: filter + sort + search per keystroke, and the
//! CPU time of one frame of the queue tile, against a 100-incident queue in the same run.
//!
//! Run: `cargo bench --bench queue`. Target: within 2x of the 100-incident baseline per frame.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use egui::{Rect, pos2};
use ioc_console::context::FrameCtx;
use ioc_console::i18n::Lang;
use ioc_console::incidents::queue::{QueueFilter, QueueIndex, SortBy};
use ioc_console::model::*;
use ioc_console::sources::{Payload, Resource, Timing, Update};
use ioc_console::store::Store;
use ioc_console::tiles::TileView;
use ioc_console::tiles::incidents::IncidentsOptions;
use ioc_console::ui::fonts;

#[path = "common/incidents.rs"]
mod fake;
use fake::incidents;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn keystrokes(index: &mut QueueIndex) -> Duration {
    let typed = ["n", "ng", "nga", "ngap", "ngap n", "ngap nu"];
    let mut times = Vec::new();
    for _ in 0..5 {
        for q in typed {
            let f = QueueFilter {
                query: q.into(),
                open_only: true,
                ..Default::default()
            };
            let t = Instant::now();
            std::hint::black_box(index.select(&f, SortBy::Priority).len());
            times.push(t.elapsed());
        }
    }
    median(times)
}

fn tile_frame(n: usize) -> Duration {
    let ctx = egui::Context::default();
    fonts::install(&ctx);
    let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
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
    let mut cx = FrameCtx::new(Lang::Vi, now);
    cx.store = Arc::new(store);
    let tile = IncidentsOptions {
        sort: SortBy::Priority,
        filter: QueueFilter {
            open_only: true,
            ..Default::default()
        },
    };
    let rect = Rect::from_min_size(pos2(0.0, 0.0), egui::vec2(960.0, 1080.0));
    let input = || egui::RawInput {
        screen_rect: Some(rect),
        ..Default::default()
    };
    // The shared index is built off the UI thread first: wait for it.
    let cache = cx.caches.get::<ioc_console::context::queue::QueueCache>();
    while {
        let q = cache.lock(&cx.store);
        q.preparing() || q.index().len() < n
    } {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut state = ioc_console::context::TileState::default();
    let mut times = Vec::new();
    for i in 0..32 {
        let t = Instant::now();
        let mut out = ctx.run_ui(input(), |ui| {
            tile.paint_body(ui, rect, 1.0, &cx, &mut state)
        });
        std::hint::black_box(ctx.tessellate(std::mem::take(&mut out.shapes), 1.0));
        out.textures_delta.clear();
        if i >= 2 {
            times.push(t.elapsed());
        }
    }
    median(times)
}

fn main() {
    let mut rows = Vec::new();
    for n in [100usize, 100_000] {
        let map: HashMap<String, Incident> = incidents(n)
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        let mut index = QueueIndex::default();
        let t = Instant::now();
        index.sync(&map, 1);
        let build = t.elapsed();
        // A change of one incident arriving as an event: the index visits only that one.
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        let mut store = Store::connected(Timing::default());
        store.apply(Update::Loaded {
            resource: Resource::Incidents,
            payload: Payload::Incidents {
                items: map.values().cloned().collect(),
                incremental: false,
            },
            as_of: now,
            fetched_at: now,
        });
        let mut index = QueueIndex::default();
        let t = Instant::now();
        index.sync_store(&store);
        let build = build.min(t.elapsed());
        let mut one = map.values().next().unwrap().clone();
        one.version += 1;
        one.title.push_str(" (cập nhật)");
        store.apply(Update::Event(Event::Incident(Box::new(one))));
        let t = Instant::now();
        index.sync_store(&store);
        let resync = t.elapsed();
        rows.push((n, build, resync, keystrokes(&mut index), tile_frame(n)));
    }
    let (_, _, _, base_key, base_frame) = rows[0];
    println!(
        "| incidents | index build (once) | re-sync after one change | filter + sort + search per keystroke | ratio | queue tile frame | ratio (≤ 2x) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (n, build, resync, key, frame) in rows {
        let r = frame.as_secs_f64() / base_frame.as_secs_f64();
        println!(
            "| {n} | {:.1} ms | {:.2} ms | {:.2} ms | {:.0}x | {:.3} ms | **{r:.2}x** {} |",
            build.as_secs_f64() * 1e3,
            resync.as_secs_f64() * 1e3,
            key.as_secs_f64() * 1e3,
            key.as_secs_f64() / base_key.as_secs_f64(),
            frame.as_secs_f64() * 1e3,
            if r <= 2.0 { "✓" } else { "✗" }
        );
    }
}
