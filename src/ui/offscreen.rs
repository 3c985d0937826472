//! An offscreen egui renderer on wgpu: egui drawn into a texture and read back as an RGBA image,
//! with no window and no display (lavapipe renders it on the CPU). Snapshots of the wall, PNG
//! exports of tiles, benchmarks and tests use it, so they draw with exactly the code the window
//! uses (camera pictures included: the video paint callback is installed).

use egui_wgpu::wgpu;

use crate::ui::fonts;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("monitor `{0}` is not in this layout (monitors: {1})")]
    UnknownMonitor(String, String),
    #[error(
        "the image would be {0}x{1} pixels; the GPU allows at most {2} per side: lower --scale"
    )]
    TooLarge(u32, u32, u32),
    #[error("--scale must be between 0.05 and 4 (got {0})")]
    BadScale(f32),
    #[error(
        "no GPU adapter: {0}. On a machine without a GPU install mesa-vulkan-drivers (lavapipe)"
    )]
    NoAdapter(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: image::ImageError,
    },
}

/// An offscreen egui renderer on wgpu.
pub struct OffscreenRenderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    renderer: egui_wgpu::Renderer,
    max_side: u32,
}

const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// A wgpu device for offscreen work: Vulkan (lavapipe on a machine without a GPU) first, OpenGL
/// only when nothing else is there. Also its largest texture side.
pub fn gpu() -> Result<(wgpu::Device, wgpu::Queue, u32), SnapshotError> {
    {
        let adapter = [wgpu::Backends::PRIMARY, wgpu::Backends::GL]
            .into_iter()
            .find_map(|backends| {
                let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
                    backends,
                    ..wgpu::InstanceDescriptor::new_without_display_handle()
                });
                pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::HighPerformance,
                    ..Default::default()
                }))
                .ok()
            })
            .ok_or_else(|| {
                SnapshotError::NoAdapter("no Vulkan, Metal, DX12 or OpenGL adapter".into())
            })?;
        let info = adapter.get_info();
        tracing::info!(adapter = %info.name, backend = ?info.backend, "offscreen renderer");
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("ioc-console offscreen"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| SnapshotError::Gpu(e.to_string()))?;
        Ok((device, queue, limits.max_texture_dimension_2d))
    }
}

/// Submits `encoder` (after `before`), copies `texture` (RGBA, 4 bytes a pixel) back and returns
/// it as an image.
pub fn read_back(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    mut encoder: wgpu::CommandEncoder,
    before: Vec<wgpu::CommandBuffer>,
    texture: &wgpu::Texture,
) -> Result<image::RgbaImage, SnapshotError> {
    let size = [texture.width(), texture.height()];
    // Rows are padded to wgpu's copy alignment.
    let bytes_per_row = size[0] * 4;
    let align = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let padded = bytes_per_row.div_ceil(align) * align;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("read-back"),
        size: u64::from(padded) * u64::from(size[1]),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: None,
            },
        },
        texture.size(),
    );
    queue.submit(before.into_iter().chain(std::iter::once(encoder.finish())));
    let slice = buffer.slice(..);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(std::time::Duration::from_secs(60)),
        })
        .map_err(|e| SnapshotError::Gpu(e.to_string()))?;
    rx.recv()
        .map_err(|e| SnapshotError::Gpu(e.to_string()))?
        .map_err(|e| SnapshotError::Gpu(e.to_string()))?;
    let data = slice
        .get_mapped_range()
        .map_err(|e| SnapshotError::Gpu(e.to_string()))?;
    let mut pixels = Vec::with_capacity((bytes_per_row * size[1]) as usize);
    for row in data.chunks_exact(padded as usize) {
        pixels.extend_from_slice(&row[..bytes_per_row as usize]);
    }
    drop(data);
    buffer.unmap();
    image::RgbaImage::from_raw(size[0], size[1], pixels)
        .ok_or_else(|| SnapshotError::Gpu("read-back size mismatch".into()))
}

impl OffscreenRenderer {
    pub fn new() -> Result<Self, SnapshotError> {
        let (device, queue, max_side) = gpu()?;
        let mut renderer =
            egui_wgpu::Renderer::new(&device, FORMAT, egui_wgpu::RendererOptions::PREDICTABLE);
        crate::video::paint::VideoResources::install(&mut renderer, &device, FORMAT);
        Ok(OffscreenRenderer {
            device,
            queue,
            renderer,
            max_side,
        })
    }

    /// The egui renderer (its callback resources hold the camera textures).
    pub fn renderer(&self) -> &egui_wgpu::Renderer {
        &self.renderer
    }

    /// Runs `draw` in a fresh egui context of `size` points (1 point = 1 pixel) and returns the
    /// rendered RGBA image.
    pub fn render(
        &mut self,
        size: [u32; 2],
        draw: impl FnMut(&mut egui::Ui),
    ) -> Result<image::RgbaImage, SnapshotError> {
        self.render_scaled(size, 1.0, draw)
    }

    /// Like [`Self::render`], with `pixels_per_point` pixels per point: the image is
    /// `size * pixels_per_point` pixels.
    pub fn render_scaled(
        &mut self,
        points: [u32; 2],
        pixels_per_point: f32,
        mut draw: impl FnMut(&mut egui::Ui),
    ) -> Result<image::RgbaImage, SnapshotError> {
        let px = |v: u32| (v as f32 * pixels_per_point).round().max(1.0) as u32;
        let size = [px(points[0]), px(points[1])];
        if size[0] > self.max_side || size[1] > self.max_side {
            return Err(SnapshotError::TooLarge(size[0], size[1], self.max_side));
        }
        let ctx = egui::Context::default();
        fonts::install(&ctx);
        let input = || {
            let mut raw = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(points[0] as f32, points[1] as f32),
                )),
                ..Default::default()
            };
            raw.viewports
                .entry(egui::ViewportId::ROOT)
                .or_default()
                .native_pixels_per_point = Some(pixels_per_point);
            raw
        };
        // The first pass loads fonts and measures; the second is the picture.
        let mut first = ctx.run_ui(input(), &mut draw);
        let mut second = ctx.run_ui(input(), &mut draw);
        let mut to_free = Vec::new();
        for delta in [&mut first.textures_delta, &mut second.textures_delta] {
            for (id, images) in delta.set.drain() {
                for image in &images {
                    self.renderer
                        .update_texture(&self.device, &self.queue, id, image);
                }
            }
            to_free.extend(delta.free.drain());
        }
        let primitives = ctx.tessellate(second.shapes, pixels_per_point);
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: size,
            pixels_per_point,
        };
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("snapshot"),
            size: wgpu::Extent3d {
                width: size[0],
                height: size[1],
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("snapshot"),
            });
        let user = self.renderer.update_buffers(
            &self.device,
            &self.queue,
            &mut encoder,
            &primitives,
            &screen,
        );
        {
            let mut pass = clear_pass(&mut encoder, &view, "snapshot");
            self.renderer.render(&mut pass, &primitives, &screen);
        }
        let image = read_back(&self.device, &self.queue, encoder, user, &texture);
        for id in &to_free {
            self.renderer.free_texture(id);
        }
        image
    }
}

/// A render pass into `view`, cleared to black first (snapshots, benchmarks, shader tests).
pub fn clear_pass(
    encoder: &mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
    label: &str,
) -> wgpu::RenderPass<'static> {
    encoder
        .begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some(label),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
                depth_slice: None,
            })],
            ..Default::default()
        })
        .forget_lifetime()
}
