//! Chart exports for briefings and reports: SVG (plotters' SVG backend, the same drawing code as
//! the wall), PDF (that SVG through usvg and svg2pdf, with the embedded Noto fonts) and PNG (the
//! tile itself rendered offscreen, exactly as on the wall).

use plotters::prelude::*;

use super::{ChartData, ChartStyle, draw};
use crate::format;
use crate::i18n::{Lang, tr_args};

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
