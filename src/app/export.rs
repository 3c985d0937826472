//! Exports from the console: a chart tile as SVG, PDF (the chart drawn by plotters, `charts::export`)
//! or PNG (the tile itself, rendered offscreen exactly as on the wall), and the quarterly report
//! as CSV and PDF. The desk's buttons and the command line share these.

use std::path::{Path, PathBuf};

use crate::charts::export::{ExportInfo, pdf, svg, svg_to_pdf};
use crate::context::ExportFormat as Format;
use crate::i18n::{Lang, tr};
use crate::incidents::report;
use crate::store::Store;
use std::sync::Arc;

use super::ConsoleApp;

/// Exports a chart tile of the layout to `out` (format from its extension). `size` is the
/// picture's size in points; PNG is rendered at `scale` pixels per point.
pub fn export_tile(
    tile: &crate::wall::Tile,
    store: std::sync::Arc<crate::store::Store>,
    lang: Lang,
    now: crate::model::Timestamp,
    out: &Path,
    size: (u32, u32),
    scale: f32,
) -> Result<(), String> {
    let crate::tiles::TileOptions::Chart(spec) = &tile.options else {
        return Err(crate::i18n::tr_args(
            lang,
            "export.not_a_chart",
            &[("id", &tile.id), ("kind", &tile.kind().as_str())],
        ));
    };
    let format = Format::from_path(out)
        .ok_or_else(|| crate::i18n::tr(lang, "export.bad_extension").to_owned())?;
    let data = crate::charts::ChartData::from_store(spec, &store, lang);
    let info = ExportInfo {
        title: &tile.title,
        lang,
        now,
    };
    let write =
        |bytes: &[u8]| std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()));
    match format {
        Format::Svg => write(svg(&data, &info, size)?.as_bytes()),
        Format::Pdf => write(&pdf(&data, &info, size)?),
        Format::Png => {
            let mut cx = crate::context::FrameCtx::new(lang, now);
            cx.store = store;
            let mut renderer =
                crate::ui::offscreen::OffscreenRenderer::new().map_err(|e| e.to_string())?;
            let image = renderer
                .render_scaled([size.0, size.1], scale, |ui| {
                    paint_tile_for_export(ui, tile, &cx)
                })
                .map_err(|e| e.to_string())?;
            image
                .save_with_format(out, image::ImageFormat::Png)
                .map_err(|e| format!("{}: {e}", out.display()))
        }
    }
}

/// The tile exactly as on the wall (frame, badge, chart), filling the picture. Sizes follow the
/// wall's tokens for a tile of this height on a 1080-line monitor.
pub fn paint_tile_for_export(
    ui: &mut egui::Ui,
    tile: &crate::wall::Tile,
    cx: &crate::context::FrameCtx,
) {
    let rect = ui.max_rect();
    ui.painter()
        .rect_filled(rect, 0.0, crate::ui::theme::colors::MONITOR_BACKGROUND);
    // A two-row tile on a three-row 1080p grid is 720 px tall: scale the tokens to match.
    let scale = (rect.height() / 720.0).min(rect.width() / 960.0).max(0.3);
    crate::app::wall_view::paint_tile(ui, rect.shrink(4.0 * scale), tile, scale, cx);
}

/// The quarterly report on the store's incidents.
pub fn build_report(
    store: &Store,
    quarter: report::Quarter,
    now: crate::model::Timestamp,
    lang: Lang,
) -> Result<report::Report, String> {
    let incidents = store
        .incidents
        .data
        .as_ref()
        .ok_or_else(|| tr(lang, "report.no_data").to_owned())?;
    Ok(report::build(
        incidents.values(),
        store.units.data.as_deref().unwrap_or(&[]),
        store.categories.data.as_deref().unwrap_or(&[]),
        quarter,
        now,
        lang,
    ))
}

/// Writes a report to `out`: CSV or PDF by the extension.
pub fn write_report(r: &report::Report, lang: Lang, out: &Path) -> Result<(), String> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("csv") => report::csv(r, lang).into_bytes(),
        Some("pdf") => svg_to_pdf(&report::svg(r, lang))?,
        _ => return Err(tr(lang, "report.bad_extension").to_owned()),
    };
    std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))
}

/// The desk's report button: the last complete quarter as CSV and PDF side by side in `dir`;
/// returns the PDF's path.
pub fn report_files(
    store: &Store,
    now: crate::model::Timestamp,
    lang: Lang,
    dir: &Path,
) -> Result<PathBuf, String> {
    let quarter = report::Quarter::last_complete(crate::format::to_vietnam_time(now).date_naive());
    let r = build_report(store, quarter, now, lang)?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let base = dir.join(format!("bao-cao-{}Q{}", quarter.year, quarter.q));
    write_report(&r, lang, &base.with_extension("csv"))?;
    write_report(&r, lang, &base.with_extension("pdf"))?;
    Ok(base.with_extension("pdf"))
}

impl ConsoleApp {
    /// Where exports from the desk are written.
    pub fn exports_dir() -> std::path::PathBuf {
        directories::ProjectDirs::from("", "", "ioc-console")
            .map(|d| d.data_dir().join("exports"))
            .unwrap_or_else(|| std::env::temp_dir().join("ioc-console-exports"))
    }

    /// Writes the quarterly report (last complete quarter) off the UI thread.
    pub(super) fn export_report(&self) {
        let state = self.wall_state();
        let now = (self.clock)();
        let lang = state.lang;
        let store = Arc::clone(&state.store);
        let tx = self.exports.0.clone();
        let dir = Self::exports_dir();
        let spawned = std::thread::Builder::new()
            .name("report".into())
            .spawn(move || {
                let msg = match report_files(&store, now, lang, &dir) {
                    Ok(p) => crate::i18n::tr_args(lang, "export.written", &[("out", &p.display())]),
                    Err(error) => crate::i18n::tr_args(lang, "export.failed", &[("error", &error)]),
                };
                let _ = tx.send(msg);
            });
        if let Err(e) = spawned {
            tracing::error!(%e, "cannot start the report thread");
        }
    }

    /// Runs an export off the UI thread; its outcome reaches the status bar.
    pub(super) fn export(&self, tile_id: &str, format: crate::context::ExportFormat) {
        let state = self.wall_state();
        let Some(tile) = state.layout.tiles.iter().find(|t| t.id == tile_id).cloned() else {
            return;
        };
        let now = (self.clock)();
        let lang = state.lang;
        let store = Arc::clone(&state.store);
        let tx = self.exports.0.clone();
        let dir = Self::exports_dir();
        let stamp = crate::format::to_vietnam_time(now).format("%Y%m%d-%H%M%S");
        let out = dir.join(format!("{tile_id}-{stamp}.{}", format.extension()));
        let spawned = std::thread::Builder::new()
            .name("export".into())
            .spawn(move || {
                let result = std::fs::create_dir_all(&dir)
                    .map_err(|e| e.to_string())
                    .and_then(|_| export_tile(&tile, store, lang, now, &out, (1600, 900), 1.0));
                let msg = match result {
                    Ok(()) => {
                        tracing::info!(path = %out.display(), "chart exported");
                        crate::i18n::tr_args(lang, "export.written", &[("out", &out.display())])
                    }
                    Err(error) => {
                        tracing::warn!(%error, "chart export failed");
                        crate::i18n::tr_args(lang, "export.failed", &[("error", &error)])
                    }
                };
                let _ = tx.send(msg);
            });
        if let Err(e) = spawned {
            tracing::error!(%e, "cannot start the export thread");
        }
    }
}
