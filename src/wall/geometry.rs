//! Geometry of the wall: where monitors hang (in wall pixels) and where a tile's cells are.

use egui::{Rect, pos2, vec2};

use super::layout::{CellRect, Monitor, WallLayout};

/// Rects of each monitor in wall pixels (monitor pixels, bezels not included), and the wall's
/// total size. Columns are as wide as their widest monitor and rows as tall as their tallest,
/// so a wall of mixed monitors still lines up.
pub fn wall_pixels(layout: &WallLayout) -> (Vec<Rect>, egui::Vec2) {
    let (cols, rows) = layout.wall_extent();
    let mut col_w = vec![0.0f32; cols as usize];
    let mut row_h = vec![0.0f32; rows as usize];
    for m in &layout.monitors {
        let c = m.wall_column as usize;
        let r = m.wall_row as usize;
        col_w[c] = col_w[c].max(m.resolution[0] as f32);
        row_h[r] = row_h[r].max(m.resolution[1] as f32);
    }
    let x0: Vec<f32> = prefix_sums(&col_w);
    let y0: Vec<f32> = prefix_sums(&row_h);
    let rects = layout
        .monitors
        .iter()
        .map(|m| {
            Rect::from_min_size(
                pos2(x0[m.wall_column as usize], y0[m.wall_row as usize]),
                vec2(m.resolution[0] as f32, m.resolution[1] as f32),
            )
        })
        .collect();
    (rects, vec2(col_w.iter().sum(), row_h.iter().sum()))
}

fn prefix_sums(v: &[f32]) -> Vec<f32> {
    let mut acc = 0.0;
    v.iter()
        .map(|x| {
            let start = acc;
            acc += x;
            start
        })
        .collect()
}

/// The rect of a tile's cells inside a monitor drawn at `screen` (a rect of the monitor's
/// aspect), with `gap` points between tiles and around the edge.
pub fn cell_rect(monitor: &Monitor, cell: CellRect, screen: Rect, gap: f32) -> Rect {
    let cw = screen.width() / monitor.columns as f32;
    let ch = screen.height() / monitor.rows as f32;
    let min = pos2(
        screen.left() + cell.x as f32 * cw,
        screen.top() + cell.y as f32 * ch,
    );
    let max = pos2(min.x + cell.w as f32 * cw, min.y + cell.h as f32 * ch);
    Rect::from_min_max(min, max).shrink(gap / 2.0)
}

/// Fits a size into `avail` keeping its aspect; returns the scale and the centred rect.
pub fn fit(size: egui::Vec2, avail: Rect) -> (f32, Rect) {
    let s = (avail.width() / size.x)
        .min(avail.height() / size.y)
        .max(0.0);
    (s, Rect::from_center_size(avail.center(), size * s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor(col: u32, row: u32, w: u32, h: u32) -> Monitor {
        Monitor {
            name: format!("{col}-{row}"),
            display: col + row * 10,
            resolution: [w, h],
            columns: 4,
            rows: 3,
            wall_column: col,
            wall_row: row,
        }
    }

    #[test]
    fn mixed_monitors_line_up_in_columns_and_rows() {
        let layout = WallLayout {
            name: "w".into(),
            description: None,
            monitors: vec![
                monitor(0, 0, 1920, 1080),
                monitor(1, 0, 1280, 720),
                monitor(1, 1, 1920, 1080),
            ],
            tiles: vec![],
            path: None,
            scenes: vec![],
        };
        let (rects, total) = wall_pixels(&layout);
        assert_eq!(total, vec2(3840.0, 2160.0));
        assert_eq!(rects[1].min, pos2(1920.0, 0.0));
        assert_eq!(rects[2].min, pos2(1920.0, 1080.0));
    }

    #[test]
    fn cells_divide_the_screen() {
        let m = monitor(0, 0, 1920, 1080);
        let screen = Rect::from_min_size(pos2(0.0, 0.0), vec2(1920.0, 1080.0));
        let r = cell_rect(
            &m,
            CellRect {
                x: 1,
                y: 1,
                w: 2,
                h: 2,
            },
            screen,
            0.0,
        );
        assert_eq!(
            r,
            Rect::from_min_max(pos2(480.0, 360.0), pos2(1440.0, 1080.0))
        );
        let (s, fitted) = fit(
            vec2(200.0, 100.0),
            Rect::from_min_size(pos2(0.0, 0.0), vec2(100.0, 100.0)),
        );
        assert_eq!(s, 0.5);
        assert_eq!(fitted.size(), vec2(100.0, 50.0));
    }
}
