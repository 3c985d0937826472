// YUV (NV12 or I420) to RGB for camera tiles, with the stream's colorimetry.
//
// The planes are R8 (Y; U and V of I420) and RG8 (the interleaved UV of NV12) textures of the
// picture's visible size; the sampler scales them to the tile on the GPU. `coeff_*` hold the
// rows of the YCbCr -> R'G'B' matrix (BT.601 or BT.709), `range` the offset and scales of limited
// ("TV", 16-235 / 16-240) or full range. With `linear_output` the result is made linear for an
// sRGB render target (which encodes it again on store).

struct Params {
    // R = Y + r.z * Cr; G = Y + g.y * Cb + g.z * Cr; B = Y + b.y * Cb.
    coeff_r: vec4<f32>,
    coeff_g: vec4<f32>,
    coeff_b: vec4<f32>,
    // x: Y offset, y: chroma centre, z: Y scale, w: chroma scale.
    range: vec4<f32>,
    // 0: NV12 (U and V interleaved in one RG texture), 1: I420 (three planes).
    plane_layout: u32,
    linear_output: u32,
    _pad0: u32,
    _pad1: u32,
};

@group(0) @binding(0) var samp: sampler;
@group(0) @binding(1) var tex_y: texture_2d<f32>;
@group(0) @binding(2) var tex_u: texture_2d<f32>;
@group(0) @binding(3) var tex_v: texture_2d<f32>;
@group(0) @binding(4) var<uniform> p: Params;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

// A quad over the whole viewport (the caller sets the viewport to the tile's picture rect).
@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VertexOut {
    let x = f32(i & 1u);
    let y = f32((i >> 1u) & 1u);
    var out: VertexOut;
    out.position = vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    out.uv = vec2<f32>(x, y);
    return out;
}

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let low = c / 12.92;
    let high = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let luma = textureSample(tex_y, samp, in.uv).r;
    let u_sample = textureSample(tex_u, samp, in.uv);
    let v_sample = textureSample(tex_v, samp, in.uv);
    var cb = u_sample.r;
    var cr = v_sample.r;
    if (p.plane_layout == 0u) {
        cr = u_sample.g;
    }
    let y = (luma - p.range.x) * p.range.z;
    let u = (cb - p.range.y) * p.range.w;
    let v = (cr - p.range.y) * p.range.w;
    var rgb = vec3<f32>(
        y + p.coeff_r.z * v,
        y + p.coeff_g.y * u + p.coeff_g.z * v,
        y + p.coeff_b.y * u,
    );
    rgb = clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0));
    if (p.linear_output == 1u) {
        rgb = srgb_to_linear(rgb);
    }
    return vec4<f32>(rgb, 1.0);
}
