//! Headless rendering of the wall (or one monitor) to a PNG, no window and no display needed.
//! Docs, CI and briefings use it; it draws with exactly the code the window uses.

use std::path::Path;

use crate::app::wall_view;
use crate::context::FrameCtx;
use crate::ui::offscreen::{OffscreenRenderer, SnapshotError};
use crate::wall::WallLayout;

/// What to draw.
pub struct SnapshotRequest<'a> {
    pub layout: &'a WallLayout,
    pub monitor: Option<&'a str>,
    pub scale: f32,
    pub cx: FrameCtx,
}

/// The pixel size of a snapshot.
pub fn snapshot_size(req: &SnapshotRequest<'_>) -> Result<[u32; 2], SnapshotError> {
    if !(0.05..=4.0).contains(&req.scale) {
        return Err(SnapshotError::BadScale(req.scale));
    }
    let base = match req.monitor {
        Some(name) => {
            let i = monitor_index(req.layout, name)?;
            let [w, h] = req.layout.monitors[i].resolution;
            egui::vec2(w as f32, h as f32)
        }
        None => wall_view::wall_size_with_bezels(req.layout),
    };
    Ok([
        (base.x * req.scale).round().max(1.0) as u32,
        (base.y * req.scale).round().max(1.0) as u32,
    ])
}

fn monitor_index(layout: &WallLayout, name: &str) -> Result<usize, SnapshotError> {
    layout.monitor_index(name).ok_or_else(|| {
        let names: Vec<_> = layout.monitors.iter().map(|m| m.name.as_str()).collect();
        SnapshotError::UnknownMonitor(name.to_owned(), names.join(", "))
    })
}

/// Renders the request to an image.
pub fn render(req: &SnapshotRequest<'_>) -> Result<image::RgbaImage, SnapshotError> {
    let size = snapshot_size(req)?;
    let monitor = req
        .monitor
        .map(|n| monitor_index(req.layout, n))
        .transpose()?;
    let mut renderer = OffscreenRenderer::new()?;
    let mut draw = |ui: &mut egui::Ui| {
        let rect = ui.max_rect();
        match monitor {
            Some(i) => wall_view::paint_monitor(ui, rect, req.layout, i, &req.cx),
            None => wall_view::paint_wall(ui, rect, req.layout, &req.cx),
        }
    };
    let image = renderer.render(size, &mut draw)?;
    if req.cx.cameras.stream_count() == 0 {
        return Ok(image);
    }
    // Camera tiles started their streams while drawing: the picture waits for their first
    // frames (or their errors), as the wall would show them a moment later.
    if !req.cx.cameras.settle(std::time::Duration::from_secs(20)) {
        tracing::warn!("some cameras gave no picture for the snapshot within 20 s");
    }
    renderer.render(size, &mut draw)
}

/// Renders the request and writes a PNG.
pub fn write_png(req: &SnapshotRequest<'_>, out: &Path) -> Result<[u32; 2], SnapshotError> {
    let image = render(req)?;
    let size = [image.width(), image.height()];
    image
        .save_with_format(out, image::ImageFormat::Png)
        .map_err(|source| SnapshotError::Write {
            path: out.display().to_string(),
            source,
        })?;
    Ok(size)
}
