//! Drawing a chart with plotters on any backend (the egui backend on the wall, SVG for exports):
//! lines with gaps and markers, rankings, target versus actual, stacked compositions, the
//! colour-blind-safe palette, the footnote of missing values.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{ChartData, prepared_runs};
use super::spec::ChartType;
use crate::format;
use crate::i18n::{Lang, tr, tr_args};
use crate::model::PeriodKey;
/// Colour-blind-safe series colours (Okabe-Ito, without black), and a marker shape per series so
/// that series are told apart without colour too.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(240, 228, 66),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
];

/// How a chart is drawn (sizes in backend pixels).
#[derive(Clone, Debug)]
pub struct ChartStyle {
    pub lang: Lang,
    pub font: f64,
    pub line: u32,
    pub text: RGBColor,
    pub grid: RGBColor,
    pub background: Option<RGBColor>,
    /// Title and "as of" line drawn by the chart itself (exports; the wall's frame draws them).
    pub header: Option<(String, String)>,
    /// Pixel columns available, for decimation.
    pub columns: usize,
}

fn rgb(c: egui::Color32) -> RGBColor {
    RGBColor(c.r(), c.g(), c.b())
}

impl ChartStyle {
    pub fn wall(lang: Lang, font: f64, line: u32, columns: usize) -> ChartStyle {
        ChartStyle {
            lang,
            font,
            line,
            text: rgb(crate::ui::theme::colors::TEXT),
            grid: rgb(crate::ui::theme::colors::TILE_BORDER),
            background: None,
            header: None,
            columns,
        }
    }
}

type DrawResult = Result<(), String>;

fn e<E: std::fmt::Debug>(err: E) -> String {
    format!("{err:?}")
}

/// Draws `data` on `root`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    if let Some(bg) = style.background {
        root.fill(&bg).map_err(e)?;
    }
    let mut area = root.clone();
    if let Some((title, subtitle)) = &style.header {
        let (_, h) = root.dim_in_pixel();
        let head = (style.font * 3.4) as u32;
        let (top, rest) = root.split_vertically(head.min(h / 3));
        top.draw(&Text::new(
            title.clone(),
            (style.font as i32, (style.font * 0.4) as i32),
            font(style, 1.5, true),
        ))
        .map_err(e)?;
        top.draw(&Text::new(
            subtitle.clone(),
            (style.font as i32, (style.font * 2.2) as i32),
            font(style, 0.85, false),
        ))
        .map_err(e)?;
        area = rest;
    }
    if let Some(problem) = &data.problem {
        let style_lang = style.lang;
        let (w, h) = area.dim_in_pixel();
        let pos = ((w / 2) as i32, (h / 2) as i32);
        let style = font(style, 1.0, false).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ));
        return area
            .draw(&Text::new(problem.say(style_lang), pos, style))
            .map_err(e);
    }
    // A footnote for what is missing: never drawn as zero.
    let area = if data.missing.is_empty() {
        area
    } else {
        let (_, h) = area.dim_in_pixel();
        let foot = (style.font * 1.6) as u32;
        let (chart_area, foot_area) = area.split_vertically(h.saturating_sub(foot));
        let mut names: Vec<String> = data
            .missing
            .iter()
            .take(3)
            .map(|(a, b)| format!("{a} ({b})"))
            .collect();
        if data.missing.len() > 3 {
            names.push(tr_args(
                style.lang,
                "chart.and_more",
                &[("n", &(data.missing.len() - 3))],
            ));
        }
        let text = tr_args(style.lang, "chart.missing", &[("list", &names.join(", "))]);
        foot_area
            .draw(&Text::new(
                text,
                (style.font as i32, (style.font * 0.3) as i32),
                font(style, 0.8, false),
            ))
            .map_err(e)?;
        chart_area
    };
    match data.chart {
        Some(ChartType::Line) | None => draw_lines(&area, data, style),
        Some(ChartType::Stacked) => draw_stacked(&area, data, style),
        Some(ChartType::Bars) | Some(ChartType::Target) => draw_bars(&area, data, style),
    }
}

fn font(style: &ChartStyle, factor: f64, bold: bool) -> TextStyle<'static> {
    let f: FontDesc<'static> = ("Noto Sans", style.font * factor).into_font();
    let f = if bold { f.style(FontStyle::Bold) } else { f };
    f.color(&style.text)
}

fn y_range(
    values: impl Iterator<Item = f64>,
    extra: &[Option<f64>],
    include_zero: bool,
) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values.chain(extra.iter().flatten().copied()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-9);
    (
        if include_zero && lo >= 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + pad,
    )
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    let n = data
        .periods
        .len()
        .max(data.lines.iter().map(|l| l.values.len()).max().unwrap_or(0))
        .max(1);
    let all = data.axis_values();
    let (y0, y1) = y_range(all, &[data.target, data.threshold.map(|t| t.value)], false);
    let mut chart = time_grid(
        area,
        style,
        &data.periods,
        -0.3f64..(n as f64 - 0.7),
        y0..y1,
        n.min(6),
        style.line.max(1) / 2 + 1,
    )?;
    let lang = style.lang;
    let fresh;
    let prepared = if data.prepared_for == style.columns && data.runs.len() == data.lines.len() {
        &data.runs
    } else {
        fresh = prepared_runs(&data.lines, data.x_len(), style.columns);
        &fresh
    };
    for (k, line) in data.lines.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let stroke = color.stroke_width(style.line);
        // Contiguous runs only: a missing period is a gap, never a zero.
        let mut first = true;
        for run in &prepared[k] {
            let pts = run.clone();
            let series = chart.draw_series(LineSeries::new(pts, stroke)).map_err(e)?;
            if first {
                let legend_stroke = color.stroke_width(style.line * 2);
                let size = style.font as i32;
                series.label(line.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + size, y)], legend_stroke)
                });
                first = false;
            }
        }
        if n <= 60 {
            let size = (style.line * 2 + 2) as i32;
            let pts: Vec<(f64, f64)> = line
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
                .collect();
            draw_markers(&mut chart, k, &pts, size, color)?;
        }
    }
    // The backend's notes: a dotted line at the period and the note beside it.
    for (i, text) in &data.annotations {
        let x = *i as f64;
        let s = style.text.mix(0.55).stroke_width(1.max(style.line / 2));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, y0), (x, y1)],
                (style.font * 0.25) as u32,
                (style.font * 0.25) as u32,
                s,
            ))
            .map_err(e)?;
        let dim = style.text.mix(0.8);
        let t = font(style, 0.65, false).color(&dim);
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, y1))
                    + Text::new(text.clone(), (4, (style.font * 0.2) as i32), t),
            ))
            .map_err(e)?;
    }
    if let Some(t) = data.threshold {
        let dash = (style.font * 0.6) as u32;
        let s = RGBColor(213, 94, 0).stroke_width(style.line.max(2));
        let size = style.font as i32;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(-0.3, t.value), (n as f64 - 0.7, t.value)],
                dash,
                dash,
                s,
            ))
            .map_err(e)?
            .label(tr(lang, "chart.threshold"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + size, y)], s));
    }
    if let Some(t) = data.target {
        let s = style.text.mix(0.8).stroke_width(style.line.max(2));
        let size = style.font as i32;
        chart
            .draw_series(LineSeries::new(vec![(-0.3, t), (n as f64 - 0.7, t)], s))
            .map_err(e)?
            .label(tr(lang, "chart.target"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + size, y)], s));
    }
    chart
        .configure_series_labels()
        .legend_area_size((style.font * 1.6) as u32)
        .label_font(font(style, 0.8, false))
        .background_style(RGBColor(22, 28, 40).mix(0.85))
        .border_style(style.grid)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(e)
}

/// Markers of a distinct shape per series (circle, triangle, square, cross), so series are told
/// apart without colour.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    k: usize,
    pts: &[(f64, f64)],
    size: i32,
    color: RGBColor,
) -> DrawResult {
    let fill = color.filled();
    let r = match k % 4 {
        0 => chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, size, fill)))
            .map(|_| ()),
        1 => chart
            .draw_series(pts.iter().map(|p| TriangleMarker::new(*p, size + 1, fill)))
            .map(|_| ()),
        2 => chart
            .draw_series(pts.iter().map(|p| {
                EmptyElement::at(*p) + Rectangle::new([(-size, -size), (size, size)], fill)
            }))
            .map(|_| ()),
        _ => chart
            .draw_series(
                pts.iter()
                    .map(|p| Cross::new(*p, size, color.stroke_width(2))),
            )
            .map(|_| ()),
    };
    r.map_err(e)
}

/// The label of the period at axis position `x` (only at whole positions).
fn period_at(periods: &[PeriodKey], lang: Lang, x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < periods.len() {
        format::period(lang, periods[i as usize])
    } else {
        String::new()
    }
}

/// The frame of a chart over time: margins and label areas sized from the font.
fn time_chart<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    style: &ChartStyle,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin((style.font * 0.6) as u32)
        .x_label_area_size((style.font * 1.8) as u32)
        .y_label_area_size((style.font * 3.6) as u32);
    b
}

/// A chart over time with its grid drawn: periods along x (at most six labels), compact numbers
/// along y, horizontal grid lines only.
fn time_grid<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    style: &ChartStyle,
    periods: &[PeriodKey],
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    labels: usize,
    axis_width: u32,
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    String,
> {
    let lang = style.lang;
    let x_fmt = |v: &f64| period_at(periods, lang, *v);
    let y_fmt = |v: &f64| format::compact(lang, *v);
    let mut chart = time_chart(area, style)
        .build_cartesian_2d(x, y)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(labels)
        .y_labels(5)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(font(style, 0.8, false))
        .axis_style(style.grid.stroke_width(axis_width))
        .bold_line_style(style.grid.mix(0.5))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    Ok(chart)
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    let k = data.bars.len().max(1);
    let (x0, x1) = y_range(
        data.bars.iter().filter_map(|b| b.value),
        &[data.target, data.threshold.map(|t| t.value)],
        true,
    );
    let x1 = x1 * 1.25; // room for the value written after each bar
    let lang = style.lang;
    let bars = &data.bars;
    let x_fmt = |v: &f64| format::compact(lang, *v);
    // Labels take at most 40 % of the width; longer ones are cut with "…".
    let (w, _) = area.dim_in_pixel();
    let max_chars = ((w as f64 * 0.4) / (style.font * 0.8 * 0.52)).max(4.0) as usize;
    let cut: Vec<String> = bars
        .iter()
        .map(|b| {
            if b.label.chars().count() > max_chars {
                b.label.chars().take(max_chars - 1).collect::<String>() + "…"
            } else {
                b.label.clone()
            }
        })
        .collect();
    let label_width =
        cut.iter().map(|l| l.chars().count()).max().unwrap_or(8) as f64 * style.font * 0.8 * 0.52;
    let mut chart = ChartBuilder::on(area)
        .margin((style.font * 0.6) as u32)
        .x_label_area_size((style.font * 1.8) as u32)
        .y_label_area_size(label_width as u32 + (style.font * 0.8) as u32)
        .build_cartesian_2d(x0..x1, (k as f64 - 0.5)..-0.5f64)
        .map_err(e)?;
    let y_fmt = |y: &f64| {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < cut.len() {
            cut[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(k)
        .x_labels(5)
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&x_fmt)
        .label_style(font(style, 0.8, false))
        .axis_style(style.grid.stroke_width(2))
        .bold_line_style(style.grid.mix(0.5))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    let color = PALETTE[0];
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            b.value.map(|v| {
                Rectangle::new(
                    [(0.0f64.max(x0), i as f64 - 0.32), (v, i as f64 + 0.32)],
                    color.filled(),
                )
            })
        }))
        .map_err(e)?;
    let text_style = font(style, 0.75, false);
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let at = b.value.unwrap_or(0.0).max(0.0);
            EmptyElement::at((at, i as f64))
                + Text::new(
                    format!(" {}", b.text),
                    (4, -(style.font * 0.45) as i32),
                    text_style.clone(),
                )
        }))
        .map_err(e)?;
    if let Some(t) = data.target {
        let s = RGBColor(213, 94, 0).stroke_width(style.line.max(2));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(t, k as f64 - 0.5), (t, -0.5)],
                8,
                6,
                s,
            ))
            .map_err(e)?;
    }
    Ok(())
}

fn draw_stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
    style: &ChartStyle,
) -> DrawResult {
    // The legend goes to the right of the bars, not over them.
    let (w, _) = area.dim_in_pixel();
    let (area, legend) = area.split_horizontally((w as f64 * 0.74) as u32);
    let row = (style.font * 1.15) as i32;
    // Listed top layer first, as the stack reads.
    for (pos, (k, line)) in data.lines.iter().enumerate().rev().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let y = (style.font * 1.2) as i32 + row * pos as i32;
        let s = (style.font * 0.7) as i32;
        legend
            .draw(&Rectangle::new(
                [(0, y - s / 2), (s, y + s / 2)],
                color.filled(),
            ))
            .map_err(e)?;
        let t = font(style, 0.75, false).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        legend
            .draw(&Text::new(line.label.clone(), (s + s / 2, y), t))
            .map_err(e)?;
    }
    let area = &area;
    let n = data.periods.len().max(1);
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            data.lines
                .iter()
                .filter_map(|l| l.values.get(i).copied().flatten())
                .filter(|v| *v > 0.0)
                .sum()
        })
        .collect();
    let (_, y1) = y_range(totals.iter().copied(), &[], true);
    let mut chart = time_grid(
        area,
        style,
        &data.periods,
        -0.6f64..(n as f64 - 0.4),
        0.0..y1,
        n.min(6),
        2,
    )?;
    let mut base = vec![0.0; n];
    for (k, line) in data.lines.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let rects: Vec<Rectangle<(f64, f64)>> = line
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let v = (*v)?.max(0.0);
                let r = Rectangle::new(
                    [(i as f64 - 0.35, base[i]), (i as f64 + 0.35, base[i] + v)],
                    color.filled(),
                );
                base[i] += v;
                Some(r)
            })
            .collect();
        chart.draw_series(rects).map_err(e)?;
    }
    Ok(())
}
