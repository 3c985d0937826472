//! Chart and wall frame benchmark (CPU time per frame: the egui pass that draws through plotters
//! and the tessellation eframe does next). Baselines are measured in the same run.
//!
//! Run: `cargo bench --bench charts`. Targets: a 1,000,000-point series within 2x of the
//! 2,000-point one; the whole `layouts/ioc-main.toml` wall under 4 ms a frame.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use egui::{Rect, pos2};
use ioc_console::charts::egui_backend::{EguiBackend, SUPERSAMPLE};
use ioc_console::charts::{ChartData, ChartStyle, ChartType, Line, draw};
use ioc_console::context::FrameCtx;
use ioc_console::i18n::Lang;
use ioc_console::ui::fonts;
use plotters::prelude::IntoDrawingArea;

const TILE: Rect = Rect {
    min: pos2(0.0, 0.0),
    max: pos2(960.0, 720.0),
};

/// Median CPU time of `frames` frames of `paint`.
fn frames(
    ctx: &egui::Context,
    size: egui::Vec2,
    n: usize,
    mut paint: impl FnMut(&mut egui::Ui),
) -> Duration {
    let input = || egui::RawInput {
        screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), size)),
        ..Default::default()
    };
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 2 {
        let t = Instant::now();
        let mut out = ctx.run_ui(input(), &mut paint);
        let prims = ctx.tessellate(std::mem::take(&mut out.shapes), 1.0);
        std::hint::black_box(prims);
        out.textures_delta.clear();
        if i >= 2 {
            times.push(t.elapsed());
        }
    }
    times.sort();
    times[times.len() / 2]
}

fn series(n: usize) -> ChartData {
    let mut x = 0u64;
    let values = (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (x >> 40) as f64 / (1u64 << 24) as f64;
            let spike = if i % 99_991 == 500 { 40.0 } else { 0.0 };
            Some(50.0 + 10.0 * (i as f64 / n as f64 * 12.0).sin() + noise * 4.0 + spike)
        })
        .collect();
    ChartData {
        chart: Some(ChartType::Line),
        lines: vec![Line {
            label: "Bến Tre".into(),
            values,
        }],
        unit_of_measure: "%".into(),
        decimals: 1,
        period_days: 31,
        ..Default::default()
    }
}

fn chart_frame(ctx: &egui::Context, data: &ChartData) -> Duration {
    let style = ChartStyle::wall(
        Lang::Vi,
        (22.0 * SUPERSAMPLE) as f64,
        (3.0 * SUPERSAMPLE) as u32,
        TILE.width() as usize,
    );
    frames(ctx, TILE.size(), 30, |ui| {
        let painter = ui.painter_at(TILE);
        let root = EguiBackend::new(&painter, TILE).into_drawing_area();
        draw(&root, data, &style).unwrap();
    })
}

fn main() {
    let ctx = egui::Context::default();
    fonts::install(&ctx);
    let columns = TILE.width() as usize;
    println!(
        "| points | cold frame (decimation in the frame) | ratio to 2,000 | steady frame (prepared once per data change) | ratio to 2,000 (≤ 2x) |"
    );
    println!("| --- | --- | --- | --- | --- |");
    let mut base = None;
    for n in [2_000usize, 100_000, 1_000_000] {
        let cold = series(n);
        let mut warm = cold.clone();
        warm.prepare(columns);
        let c = chart_frame(&ctx, &cold);
        let w = chart_frame(&ctx, &warm);
        let (bc, bw) = *base.get_or_insert((c, w));
        let rw = w.as_secs_f64() / bw.as_secs_f64();
        println!(
            "| {n} | {:.2} ms | {:.2}x | {:.2} ms | **{rw:.2}x** {} |",
            c.as_secs_f64() * 1e3,
            c.as_secs_f64() / bc.as_secs_f64(),
            w.as_secs_f64() * 1e3,
            if rw <= 2.0 { "✓" } else { "✗" }
        );
    }

    // The whole provincial wall: 6 monitors of 1920x1080 with every chart, KPI and board tile.
    let epoch = Utc.with_ymd_and_hms(2026, 11, 29, 2, 41, 7).unwrap();
    let store = std::sync::Arc::new(ioc_console::sim::world_store(2607, epoch).unwrap());
    let layout =
        ioc_console::wall::layout::load(std::path::Path::new("layouts/ioc-main.toml")).unwrap();
    let mut cx = FrameCtx::new(Lang::Vi, epoch);
    cx.store = store;
    let (rects, total) = ioc_console::wall::geometry::wall_pixels(&layout);
    let wall = frames(&ctx, total, 20, |ui| {
        for (i, r) in rects.iter().enumerate() {
            ioc_console::app::wall_view::paint_monitor(ui, *r, &layout, i, &cx);
        }
    });
    let tiles = layout.tiles.len();
    println!();
    println!("| wall | tiles | CPU per frame (target < 4 ms) |");
    println!("| --- | --- | --- |");
    println!(
        "| ioc-main.toml, {} monitors, {:.0}x{:.0} px | {tiles} | **{:.2} ms** {} |",
        layout.monitors.len(),
        total.x,
        total.y,
        wall.as_secs_f64() * 1e3,
        if wall < Duration::from_millis(4) {
            "✓"
        } else {
            "✗"
        }
    );
}
