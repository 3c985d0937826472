//! Camera pictures inside egui: a paint callback uploads the newest frame of a stream into its
//! textures (once per new frame) and draws it with the YUV shader into the callback's rectangle,
//! in the same render pass as the rest of the wall. The renderer must have [`VideoResources`]
//! installed (once, with its target format); without them nothing is drawn.

use std::collections::HashMap;
use std::sync::Arc;

use egui::Rect;
use egui_wgpu::wgpu;

use super::stream::DecodedFrame;
use super::yuv::{YuvRenderer, YuvTextures};

/// What the GPU keeps for camera pictures: the pipeline and each stream's textures.
pub struct VideoResources {
    renderer: YuvRenderer,
    /// Per stream: its textures and the frame in them (held, so that "the same frame" is an
    /// identity, not a number another stream may share).
    streams: HashMap<u64, Shown>,
    /// When streams not drawn for a while were last looked for.
    pruned: std::time::Instant,
}

/// A stream's textures, the frame in them and when it was last drawn.
struct Shown {
    textures: Option<YuvTextures>,
    frame: Option<Arc<DecodedFrame>>,
    drawn: std::time::Instant,
    /// When a frame that cannot be shown was last logged (once in a while, not every frame).
    warned: Option<std::time::Instant>,
}

/// Textures of a stream not drawn for this long are freed.
const UNUSED: std::time::Duration = std::time::Duration::from_secs(10);

impl VideoResources {
    /// Installs the camera picture pipeline into an egui-wgpu renderer drawing to `format`.
    pub fn install(
        renderer: &mut egui_wgpu::Renderer,
        device: &wgpu::Device,
        format: wgpu::TextureFormat,
    ) {
        renderer.callback_resources.insert(VideoResources {
            renderer: YuvRenderer::new(device, format),
            streams: HashMap::new(),
            pruned: std::time::Instant::now(),
        });
    }
}

impl VideoResources {
    /// The number of the frame of stream `key` now in its textures (uploaded to the GPU).
    pub fn uploaded(renderer: &egui_wgpu::Renderer, key: u64) -> Option<u64> {
        let r = renderer.callback_resources.get::<VideoResources>()?;
        let shown = r.streams.get(&key)?;
        shown.textures.as_ref()?;
        shown.frame.as_ref().map(|f| f.number)
    }
}

/// The newest frame of the stream `key`, to be drawn in the callback's rectangle.
struct VideoCallback {
    key: u64,
    frame: Arc<DecodedFrame>,
}

impl egui_wgpu::CallbackTrait for VideoCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(r) = resources.get_mut::<VideoResources>() {
            let now = std::time::Instant::now();
            if now.duration_since(r.pruned) > UNUSED {
                r.streams
                    .retain(|_, s| now.duration_since(s.drawn) < UNUSED);
                r.pruned = now;
            }
            let entry = r.streams.entry(self.key).or_insert(Shown {
                textures: None,
                frame: None,
                drawn: now,
                warned: None,
            });
            entry.drawn = now;
            let same = entry
                .frame
                .as_ref()
                .is_some_and(|f| Arc::ptr_eq(f, &self.frame));
            if !same {
                match r
                    .renderer
                    .upload(device, queue, &mut entry.textures, &self.frame.as_frame())
                {
                    Ok(()) => entry.frame = Some(Arc::clone(&self.frame)),
                    Err(e) => {
                        // Not tried again for this frame; said once a minute.
                        entry.frame = Some(Arc::clone(&self.frame));
                        entry.textures = None;
                        if entry.warned.is_none_or(|t| {
                            now.duration_since(t) > std::time::Duration::from_secs(60)
                        }) {
                            entry.warned = Some(now);
                            tracing::warn!(stream = self.key, "camera frame not shown: {e}");
                        }
                    }
                }
            }
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(r) = resources.get::<VideoResources>()
            && let Some(Shown {
                textures: Some(textures),
                ..
            }) = r.streams.get(&self.key)
        {
            r.renderer.draw(pass, textures);
        }
    }
}

/// The largest rectangle of the frame's aspect ratio centred in `rect`.
pub fn fit(rect: Rect, width: u32, height: u32) -> Rect {
    if width == 0 || height == 0 {
        return rect;
    }
    let aspect = width as f32 / height as f32;
    let size = if rect.width() / rect.height().max(1e-3) > aspect {
        egui::vec2(rect.height() * aspect, rect.height())
    } else {
        egui::vec2(rect.width(), rect.width() / aspect)
    };
    Rect::from_center_size(rect.center(), size)
}

/// Draws the newest frame of stream `key` into `rect` (letterboxed to its aspect ratio).
pub fn paint_video(painter: &egui::Painter, rect: Rect, key: u64, frame: Arc<DecodedFrame>) {
    let at = fit(rect, frame.width, frame.height);
    painter.add(egui_wgpu::Callback::new_paint_callback(
        at,
        VideoCallback { key, frame },
    ));
}
