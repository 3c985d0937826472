//! Measurements for `ioc-console bench` (the GPU benchmark, `benches/gpu.sh`): the whole wall
//! rendered offscreen the way the wall's viewports draw it, and the camera path's upload of a
//! decoded frame. Both run on the first high-performance adapter (a GPU where there is one,
//! lavapipe on the processor otherwise) and say which it was.
//!
//! The wall: per frame, for each monitor, one egui pass of `wall_view::paint_monitor` (tiles'
//! status and bodies from the store, camera tiles asking the hub for their streams), the
//! tessellation, the buffers' update (camera pictures uploaded by their paint callbacks) and one
//! render pass into that monitor's texture; then one submission. CPU time is the calling
//! thread's time from the frame's start to the submission; GPU time is from timestamp queries
//! around each monitor's render pass (summed), where the adapter has them; the frame rate counts
//! each frame to the end of its GPU work (frames are not overlapped, so it is a floor).

use std::time::{Duration, Instant};

use egui_wgpu::wgpu;

use crate::app::wall_view;
use crate::context::FrameCtx;
use crate::video::yuv::{Frame, Layout, Matrix, Range, YuvRenderer};
use crate::wall::WallLayout;

const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// The adapter and device a benchmark ran on.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The adapter's name and backend.
    pub adapter: String,
    /// Whether it draws on the processor (lavapipe, llvmpipe).
    pub software: bool,
    pub timestamps: bool,
}

/// The first high-performance adapter, with timestamp queries where it has them.
pub fn gpu() -> Result<Gpu, String> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .map_err(|e| format!("no Vulkan adapter: {e}"))?;
    let info = adapter.get_info();
    let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("ioc-console bench"),
        required_features: if timestamps {
            wgpu::Features::TIMESTAMP_QUERY
        } else {
            wgpu::Features::empty()
        },
        required_limits: adapter.limits(),
        ..Default::default()
    }))
    .map_err(|e| e.to_string())?;
    Ok(Gpu {
        device,
        queue,
        adapter: format!(
            "{} ({:?}, driver {})",
            info.name, info.backend, info.driver_info
        ),
        software: info.device_type == wgpu::DeviceType::Cpu,
        timestamps,
    })
}

/// What one wall run measured.
#[derive(Debug)]
pub struct WallRun {
    pub monitors: usize,
    pub size: [u32; 2],
    /// Per frame: CPU time to the submission, and the whole frame to the end of its GPU work.
    pub cpu_ms: Vec<f64>,
    pub frame_ms: Vec<f64>,
    /// Per frame, the GPU's time in the render passes (None without timestamp queries).
    pub gpu_ms: Option<Vec<f64>>,
    /// Camera pictures on the GPU in the last frame.
    pub camera_pictures: usize,
}

impl WallRun {
    pub fn fps(&self) -> f64 {
        let total: f64 = self.frame_ms.iter().sum();
        if total > 0.0 {
            self.frame_ms.len() as f64 * 1000.0 / total
        } else {
            0.0
        }
    }
}

/// The `q` quantile (0..=1) of `v`.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

fn read_u64s(gpu: &Gpu, buffer: &wgpu::Buffer) -> Result<Vec<u64>, String> {
    let slice = buffer.slice(..);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    gpu.device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(Duration::from_secs(60)),
        })
        .map_err(|e| e.to_string())?;
    rx.recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let data = slice.get_mapped_range().map_err(|e| e.to_string())?;
    let out = data
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    drop(data);
    buffer.unmap();
    Ok(out)
}

/// Renders every monitor of `layout` at `size` (None: each monitor's own resolution) for
/// `frames` frames after `warmup` frames (fonts, first camera pictures), with `cx`'s data.
pub fn wall(
    gpu: &Gpu,
    layout: &WallLayout,
    cx: &FrameCtx,
    size: Option<[u32; 2]>,
    warmup: usize,
    frames: usize,
) -> Result<WallRun, String> {
    let mut renderer =
        egui_wgpu::Renderer::new(&gpu.device, FORMAT, egui_wgpu::RendererOptions::default());
    crate::video::paint::VideoResources::install(&mut renderer, &gpu.device, FORMAT);
    let ctx = egui::Context::default();
    crate::ui::fonts::install(&ctx);
    let monitors: Vec<(usize, [u32; 2], egui::ViewportId)> = layout
        .monitors
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                i,
                size.unwrap_or(m.resolution),
                egui::ViewportId::from_hash_of(("bench-monitor", &m.name)),
            )
        })
        .collect();
    let max = gpu.device.limits().max_texture_dimension_2d;
    let targets: Vec<wgpu::TextureView> = monitors
        .iter()
        .map(|&(_, [w, h], _)| {
            if w > max || h > max {
                return Err(format!("{w}×{h} is more than the GPU's {max} a side"));
            }
            Ok(gpu
                .device
                .create_texture(&wgpu::TextureDescriptor {
                    label: Some("monitor"),
                    size: wgpu::Extent3d {
                        width: w,
                        height: h,
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: FORMAT,
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                    view_formats: &[],
                })
                .create_view(&wgpu::TextureViewDescriptor::default()))
        })
        .collect::<Result<_, _>>()?;
    let n_queries = (monitors.len() * 2) as u32;
    let queries = gpu.timestamps.then(|| {
        let set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("monitor passes"),
            ty: wgpu::QueryType::Timestamp,
            count: n_queries,
        });
        let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamps"),
            size: u64::from(n_queries) * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamps read"),
            size: u64::from(n_queries) * 8,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        (set, resolve, read)
    });
    let period = f64::from(gpu.queue.get_timestamp_period());
    let mut run = WallRun {
        monitors: monitors.len(),
        size: size.unwrap_or_else(|| layout.monitors.first().map_or([0, 0], |m| m.resolution)),
        cpu_ms: Vec::with_capacity(frames),
        frame_ms: Vec::with_capacity(frames),
        gpu_ms: queries.as_ref().map(|_| Vec::with_capacity(frames)),
        camera_pictures: 0,
    };
    for frame in 0..warmup + frames {
        let started = Instant::now();
        cx.caches.begin_frame();
        cx.cameras.maintain();
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wall frame"),
            });
        let mut user = Vec::new();
        let mut to_free = Vec::new();
        for (k, &(index, [w, h], viewport)) in monitors.iter().enumerate() {
            let mut raw = egui::RawInput {
                viewport_id: viewport,
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(w as f32, h as f32),
                )),
                ..Default::default()
            };
            raw.viewports
                .entry(viewport)
                .or_default()
                .native_pixels_per_point = Some(1.0);
            let mut out = ctx.run_ui(raw, |ui| {
                let rect = ui.max_rect();
                wall_view::paint_monitor(ui, rect, layout, index, cx);
            });
            for (id, images) in out.textures_delta.set.drain() {
                for image in &images {
                    renderer.update_texture(&gpu.device, &gpu.queue, id, image);
                }
            }
            to_free.extend(out.textures_delta.free.drain());
            let primitives = ctx.tessellate(out.shapes, 1.0);
            let screen = egui_wgpu::ScreenDescriptor {
                size_in_pixels: [w, h],
                pixels_per_point: 1.0,
            };
            user.extend(renderer.update_buffers(
                &gpu.device,
                &gpu.queue,
                &mut encoder,
                &primitives,
                &screen,
            ));
            let timestamp_writes =
                queries
                    .as_ref()
                    .map(|(set, _, _)| wgpu::RenderPassTimestampWrites {
                        query_set: set,
                        beginning_of_pass_write_index: Some(2 * k as u32),
                        end_of_pass_write_index: Some(2 * k as u32 + 1),
                    });
            let mut pass = encoder
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("monitor"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: &targets[k],
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                            store: wgpu::StoreOp::Store,
                        },
                        depth_slice: None,
                    })],
                    timestamp_writes,
                    ..Default::default()
                })
                .forget_lifetime();
            renderer.render(&mut pass, &primitives, &screen);
        }
        if let Some((set, resolve, read)) = &queries {
            encoder.resolve_query_set(set, 0..n_queries, resolve, 0);
            encoder.copy_buffer_to_buffer(resolve, 0, read, 0, u64::from(n_queries) * 8);
        }
        gpu.queue
            .submit(user.into_iter().chain(std::iter::once(encoder.finish())));
        let cpu = started.elapsed();
        let gpu_time = match &queries {
            Some((_, _, read)) => {
                let t = read_u64s(gpu, read)?;
                Some(
                    t.chunks_exact(2)
                        .map(|p| p[1].saturating_sub(p[0]) as f64 * period / 1e6)
                        .sum::<f64>(),
                )
            }
            None => {
                gpu.device
                    .poll(wgpu::PollType::Wait {
                        submission_index: None,
                        timeout: Some(Duration::from_secs(60)),
                    })
                    .map_err(|e| e.to_string())?;
                None
            }
        };
        let whole = started.elapsed();
        for id in &to_free {
            renderer.free_texture(id);
        }
        if frame == 0 && cx.cameras.stream_count() > 0 {
            // The first frame started the camera streams: wait for their first pictures (or
            // their errors), as the wall shows them a moment later.
            if !cx.cameras.settle(Duration::from_secs(30)) {
                tracing::warn!("some cameras gave no picture within 30 s");
            }
        }
        if frame < warmup {
            continue;
        }
        run.camera_pictures = crate::video::yuv::live_textures() / 3;
        run.cpu_ms.push(cpu.as_secs_f64() * 1000.0);
        run.frame_ms.push(whole.as_secs_f64() * 1000.0);
        if let (Some(v), Some(g)) = (run.gpu_ms.as_mut(), gpu_time) {
            v.push(g);
        }
    }
    Ok(run)
}

/// What the upload run measured: per frame, the CPU time of the upload call, and the time to
/// the end of the GPU's copy; the baseline, a plain copy of the same bytes in memory.
#[derive(Debug)]
pub struct UploadRun {
    pub size: [u32; 2],
    pub bytes: usize,
    pub cpu_us: Vec<f64>,
    pub done_us: Vec<f64>,
    pub memcpy_us: Vec<f64>,
}

/// Uploads `frames` different 4:2:0 frames of `size` (NV12) through the camera path's
/// [`YuvRenderer::upload`], each waited for.
pub fn upload(gpu: &Gpu, size: [u32; 2], frames: usize) -> Result<UploadRun, String> {
    let [w, h] = size;
    let renderer = YuvRenderer::new(&gpu.device, FORMAT);
    let y = (w * h) as usize;
    let bytes = y + y / 2;
    let mut data = vec![16u8; bytes];
    let mut copy = vec![0u8; bytes];
    let mut slot = None;
    let mut run = UploadRun {
        size,
        bytes,
        cpu_us: Vec::with_capacity(frames),
        done_us: Vec::with_capacity(frames),
        memcpy_us: Vec::with_capacity(frames),
    };
    for i in 0..frames + 3 {
        // A different picture each time (a moving bar), as a camera sends.
        let row = (i * 7) % h as usize;
        data[row * w as usize..(row + 1) * w as usize].fill((i % 200) as u8 + 30);
        let frame = Frame {
            data: &data,
            width: w,
            height: h,
            layout: Layout::Nv12,
            strides: [w, w, 0],
            offsets: [0, y, 0],
            matrix: Matrix::Bt709,
            range: Range::Limited,
        };
        let t = Instant::now();
        renderer
            .upload(&gpu.device, &gpu.queue, &mut slot, &frame)
            .map_err(|e| e.to_string())?;
        gpu.queue.submit([]);
        let cpu = t.elapsed();
        gpu.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: Some(Duration::from_secs(60)),
            })
            .map_err(|e| e.to_string())?;
        let done = t.elapsed();
        let t = Instant::now();
        copy.copy_from_slice(std::hint::black_box(&data));
        std::hint::black_box(&copy);
        let memcpy = t.elapsed();
        if i >= 3 {
            run.cpu_us.push(cpu.as_secs_f64() * 1e6);
            run.done_us.push(done.as_secs_f64() * 1e6);
            run.memcpy_us.push(memcpy.as_secs_f64() * 1e6);
        }
    }
    Ok(run)
}
