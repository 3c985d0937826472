//! Decoded camera frames to the screen without touching their pixels on the CPU: the planes of an
//! NV12 or I420 frame are written into R8 / RG8 textures with their real strides and offsets
//! (decoders pad rows and pictures: 1080 visible rows may sit in 1088), and the WGSL shader in
//! `shaders/yuv_to_rgb.wgsl` converts to RGB with the stream's colorimetry while the GPU's
//! sampler scales the picture to the tile.

use egui_wgpu::wgpu;

/// The YCbCr -> RGB matrix of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matrix {
    Bt601,
    Bt709,
}

/// Whether luma spans 16-235 (limited, "TV") or 0-255 (full).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    Limited,
    Full,
}

/// How the chroma planes are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Y, then interleaved UV at half width and half height.
    Nv12,
    /// Y, U, V: three planes, chroma at half width and half height.
    I420,
}

/// One decoded frame as the decoder laid it out in memory.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub data: &'a [u8],
    /// Visible size.
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    /// Bytes per row of each plane (Y, U or UV, V).
    pub strides: [u32; 3],
    /// Where each plane starts in `data`.
    pub offsets: [usize; 3],
    pub matrix: Matrix,
    pub range: Range,
}

impl Frame<'_> {
    fn chroma_size(&self) -> (u32, u32) {
        (self.width.div_ceil(2), self.height.div_ceil(2))
    }
}

/// Why a frame could not be uploaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("plane {plane} needs {needed} bytes from offset {offset}, the frame has {len}")]
    Short {
        plane: usize,
        needed: usize,
        offset: usize,
        len: usize,
    },
    #[error("plane {plane}: a row of {stride} bytes is shorter than the picture ({row} bytes)")]
    Stride { plane: usize, stride: u32, row: u32 },
    #[error("the picture is empty")]
    Empty,
    #[error("{width}×{height} is larger than this GPU's textures ({max})")]
    TooLarge { width: u32, height: u32, max: u32 },
}

/// The uniform block of the shader (see `Params` there).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub coeff_r: [f32; 4],
    pub coeff_g: [f32; 4],
    pub coeff_b: [f32; 4],
    pub range: [f32; 4],
    pub layout: u32,
    pub linear_output: u32,
    pub pad: [u32; 2],
}

impl Params {
    pub fn new(matrix: Matrix, range: Range, layout: Layout, linear_output: bool) -> Params {
        // From Kr and Kb: R = Y + 2(1-Kr) Cr; B = Y + 2(1-Kb) Cb; G from the luma equation.
        let (kr, kb) = match matrix {
            Matrix::Bt601 => (0.299f32, 0.114f32),
            Matrix::Bt709 => (0.2126f32, 0.0722f32),
        };
        let kg = 1.0 - kr - kb;
        let rv = 2.0 * (1.0 - kr);
        let bu = 2.0 * (1.0 - kb);
        let gu = -bu * kb / kg;
        let gv = -rv * kr / kg;
        let range = match range {
            Range::Limited => [16.0 / 255.0, 128.0 / 255.0, 255.0 / 219.0, 255.0 / 224.0],
            Range::Full => [0.0, 128.0 / 255.0, 1.0, 1.0],
        };
        Params {
            coeff_r: [1.0, 0.0, rv, 0.0],
            coeff_g: [1.0, gu, gv, 0.0],
            coeff_b: [1.0, bu, 0.0, 0.0],
            range,
            layout: match layout {
                Layout::Nv12 => 0,
                Layout::I420 => 1,
            },
            linear_output: u32::from(linear_output),
            pad: [0; 2],
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(80);
        for v in self
            .coeff_r
            .iter()
            .chain(&self.coeff_g)
            .chain(&self.coeff_b)
            .chain(&self.range)
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [self.layout, self.linear_output, 0, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }
}

/// The GPU side: the pipeline for one render-target format.
pub struct YuvRenderer {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    linear_output: bool,
}

/// A frame's planes on the GPU, reused while the size and layout stay the same.
pub struct YuvTextures {
    y: wgpu::Texture,
    u: wgpu::Texture,
    v: wgpu::Texture,
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    key: (u32, u32, Layout),
}

/// GPU textures of camera pictures alive in this process (three planes a stream).
static TEXTURES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many plane textures camera pictures hold on the GPU right now.
pub fn live_textures() -> usize {
    TEXTURES.load(std::sync::atomic::Ordering::Relaxed)
}

impl Drop for YuvTextures {
    fn drop(&mut self) {
        TEXTURES.fetch_sub(3, std::sync::atomic::Ordering::Relaxed);
    }
}

impl YuvRenderer {
    pub fn new(device: &wgpu::Device, target: wgpu::TextureFormat) -> YuvRenderer {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("yuv_to_rgb"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/yuv_to_rgb.wgsl").into()),
        });
        let texture_entry = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("yuv planes"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                texture_entry(1),
                texture_entry(2),
                texture_entry(3),
                wgpu::BindGroupLayoutEntry {
                    binding: 4,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("yuv_to_rgb"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("yuv_to_rgb"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &shader,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            fragment: Some(wgpu::FragmentState {
                module: &shader,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format: target,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleStrip,
                ..Default::default()
            },
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            multiview_mask: None,
            cache: None,
        });
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("yuv"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            ..Default::default()
        });
        YuvRenderer {
            pipeline,
            layout,
            sampler,
            linear_output: target.is_srgb(),
        }
    }

    /// Writes `frame`'s planes into `slot` (made or remade when the size or layout changed).
    pub fn upload(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        slot: &mut Option<YuvTextures>,
        frame: &Frame<'_>,
    ) -> Result<(), FrameError> {
        check(frame)?;
        let max = device.limits().max_texture_dimension_2d;
        if frame.width > max || frame.height > max {
            return Err(FrameError::TooLarge {
                width: frame.width,
                height: frame.height,
                max,
            });
        }
        let key = (frame.width, frame.height, frame.layout);
        if slot.as_ref().is_none_or(|t| t.key != key) {
            *slot = Some(self.textures(device, frame));
        }
        let Some(t) = slot.as_ref() else {
            return Ok(());
        };
        let (cw, ch) = frame.chroma_size();
        let write = |tex: &wgpu::Texture, plane: usize, w: u32, h: u32| {
            queue.write_texture(
                tex.as_image_copy(),
                &frame.data[frame.offsets[plane]..],
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(frame.strides[plane]),
                    rows_per_image: None,
                },
                wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
            );
        };
        write(&t.y, 0, frame.width, frame.height);
        write(&t.u, 1, cw, ch);
        if frame.layout == Layout::I420 {
            write(&t.v, 2, cw, ch);
        }
        let params = Params::new(frame.matrix, frame.range, frame.layout, self.linear_output);
        queue.write_buffer(&t.params, 0, &params.bytes());
        Ok(())
    }

    fn textures(&self, device: &wgpu::Device, frame: &Frame<'_>) -> YuvTextures {
        let tex = |label, w, h, format| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            })
        };
        let (cw, ch) = frame.chroma_size();
        let y = tex("y", frame.width, frame.height, wgpu::TextureFormat::R8Unorm);
        let (u, v) = match frame.layout {
            Layout::Nv12 => (
                tex("uv", cw, ch, wgpu::TextureFormat::Rg8Unorm),
                tex("unused", 1, 1, wgpu::TextureFormat::R8Unorm),
            ),
            Layout::I420 => (
                tex("u", cw, ch, wgpu::TextureFormat::R8Unorm),
                tex("v", cw, ch, wgpu::TextureFormat::R8Unorm),
            ),
        };
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("yuv params"),
            size: 80,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let view = |t: &wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor::default());
        let (vy, vu, vv) = (view(&y), view(&u), view(&v));
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("yuv planes"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&vy),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&vu),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(&vv),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: params.as_entire_binding(),
                },
            ],
        });
        TEXTURES.fetch_add(3, std::sync::atomic::Ordering::Relaxed);
        YuvTextures {
            y,
            u,
            v,
            params,
            bind_group,
            key: (frame.width, frame.height, frame.layout),
        }
    }

    /// Draws the uploaded frame over the pass's viewport (set it to the picture's rectangle).
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, textures: &YuvTextures) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &textures.bind_group, &[]);
        pass.draw(0..4, 0..1);
    }
}

/// Checks that every plane's rows fit in the frame's bytes (before the GPU sees them).
pub fn check(frame: &Frame<'_>) -> Result<(), FrameError> {
    if frame.width == 0 || frame.height == 0 {
        return Err(FrameError::Empty);
    }
    let (cw, ch) = frame.chroma_size();
    let (w, h, cw, ch) = (
        u64::from(frame.width),
        u64::from(frame.height),
        u64::from(cw),
        u64::from(ch),
    );
    let planes: &[(usize, u64, u64)] = match frame.layout {
        // (plane, width in bytes, rows)
        Layout::Nv12 => &[(0, w, h), (1, cw * 2, ch)],
        Layout::I420 => &[(0, w, h), (1, cw, ch), (2, cw, ch)],
    };
    for &(plane, row, rows) in planes {
        let stride = frame.strides[plane];
        if u64::from(stride) < row {
            return Err(FrameError::Stride {
                plane,
                stride,
                row: u32::try_from(row).unwrap_or(u32::MAX),
            });
        }
        let needed = usize::try_from((rows - 1) * u64::from(stride) + row).unwrap_or(usize::MAX);
        let offset = frame.offsets[plane];
        if offset
            .checked_add(needed)
            .is_none_or(|end| end > frame.data.len())
        {
            return Err(FrameError::Short {
                plane,
                needed,
                offset,
                len: frame.data.len(),
            });
        }
    }
    Ok(())
}
