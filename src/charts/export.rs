//! Chart exports for briefings and reports: SVG (plotters' SVG backend, the same drawing code as
//! the wall), PDF (that SVG through usvg and svg2pdf, with the embedded Noto fonts) and PNG (the
//! tile itself rendered offscreen, exactly as on the wall).

use std::path::Path;

use plotters::prelude::*;

use super::{ChartData, ChartStyle, draw};
use crate::ui::{Lang, format, tr_args};

/// What an export needs besides the data.
pub struct ExportInfo<'a> {
    pub title: &'a str,
    pub lang: Lang,
    pub now: crate::model::Timestamp,
}

fn style_for(info: &ExportInfo<'_>, data: &ChartData, width: u32) -> ChartStyle {
    let as_of = data.as_of.map(|t| {
        let vn = format::to_vietnam_time(t);
        format!("{} {}", format::time(vn, false), format::date(vn))
    });
    let vn_now = format::to_vietnam_time(info.now);
    let subtitle = tr_args(
        info.lang,
        "chart.export_subtitle",
        &[
            ("as_of", &as_of.unwrap_or_else(|| "—".into())),
            (
                "made",
                &format!("{} {}", format::time(vn_now, false), format::date(vn_now)),
            ),
        ],
    );
    let font = (width as f64 / 55.0).clamp(11.0, 40.0);
    ChartStyle {
        header: Some((info.title.to_owned(), subtitle)),
        background: Some(RGBColor(22, 28, 40)),
        columns: width as usize,
        ..ChartStyle::wall(
            info.lang,
            font,
            (font / 6.0).max(2.0) as u32,
            width as usize,
        )
    }
}

/// The chart as an SVG document.
pub fn svg(data: &ChartData, info: &ExportInfo<'_>, size: (u32, u32)) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root, data, &style_for(info, data, size.0))?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The chart as a one-page PDF (vector, fonts embedded).
pub fn pdf(data: &ChartData, info: &ExportInfo<'_>, size: (u32, u32)) -> Result<Vec<u8>, String> {
    svg_to_pdf(&svg(data, info, size)?)
}

/// Any SVG of ours to PDF, with the console's fonts available to it.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>, String> {
    use svg2pdf::usvg;
    let mut options = usvg::Options::default();
    let db = options.fontdb_mut();
    for bytes in crate::ui::fonts::font_files() {
        db.load_font_data(bytes.to_vec());
    }
    db.set_sans_serif_family("Noto Sans");
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| e.to_string())
}

/// Which file to write, from the extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
    Pdf,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "svg" => Some(Format::Svg),
            "png" => Some(Format::Png),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Pdf => "pdf",
        }
    }
}

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
        return Err(crate::ui::tr_args(
            lang,
            "export.not_a_chart",
            &[("id", &tile.id), ("kind", &tile.kind().as_str())],
        ));
    };
    let format = Format::from_path(out)
        .ok_or_else(|| crate::ui::tr(lang, "export.bad_extension").to_owned())?;
    let data = ChartData::from_store(spec, &store, lang);
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
            let mut cx = crate::ui::FrameCtx::new(lang, now);
            cx.store = store;
            let mut renderer =
                crate::snapshot::OffscreenRenderer::new().map_err(|e| e.to_string())?;
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
    cx: &crate::ui::FrameCtx,
) {
    let rect = ui.max_rect();
    ui.painter()
        .rect_filled(rect, 0.0, crate::ui::theme::colors::MONITOR_BACKGROUND);
    // A two-row tile on a three-row 1080p grid is 720 px tall: scale the tokens to match.
    let scale = (rect.height() / 720.0).min(rect.width() / 960.0).max(0.3);
    crate::app::wall_view::paint_tile(ui, rect.shrink(4.0 * scale), tile, scale, cx);
}
