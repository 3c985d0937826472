//! egui's shapes as SVG: what a pass of the console's drawing code painted (rectangles, circles,
//! paths, lines, curves, solid meshes and text with every glyph at egui's own position), so a
//! page of a deck is the screen's drawing in vector form. Text keeps the console's Noto fonts
//! (usvg and svg2pdf embed them). Textured meshes (pictures, map tiles) and paint callbacks
//! (camera frames) have no vector form and are left out; the caller says so where it matters.

use std::fmt::Write as _;

use egui::epaint::{ClippedShape, ColorMode, Shape, TextShape};
use egui::{Color32, Pos2, Rect};

/// The SVG of `shapes` on a page of `size` points, on `background`.
pub fn from_shapes(shapes: &[ClippedShape], size: egui::Vec2, background: Color32) -> String {
    let mut out = Svg {
        body: String::new(),
        defs: String::new(),
        clips: Vec::new(),
    };
    let _ = write!(
        out.body,
        r#"<rect x="0" y="0" width="{}" height="{}" {}/>"#,
        size.x,
        size.y,
        fill(background)
    );
    let mut open: Option<usize> = None;
    for cs in shapes {
        let clip = out.clip_id(cs.clip_rect);
        if open != Some(clip) {
            if open.is_some() {
                out.body.push_str("</g>");
            }
            let _ = write!(out.body, r#"<g clip-path="url(#c{clip})">"#);
            open = Some(clip);
        }
        out.shape(&cs.shape);
    }
    if open.is_some() {
        out.body.push_str("</g>");
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><defs>{defs}</defs>{body}</svg>"#,
        w = size.x,
        h = size.y,
        defs = out.defs,
        body = out.body
    )
}

struct Svg {
    body: String,
    defs: String,
    clips: Vec<Rect>,
}

fn rgb(c: Color32) -> (String, f32) {
    let [r, g, b, a] = c.to_srgba_unmultiplied();
    (format!("#{r:02x}{g:02x}{b:02x}"), a as f32 / 255.0)
}

fn fill(c: Color32) -> String {
    if c.a() == 0 {
        return r#"fill="none""#.into();
    }
    let (hex, a) = rgb(c);
    if a >= 1.0 {
        format!(r#"fill="{hex}""#)
    } else {
        format!(r#"fill="{hex}" fill-opacity="{a:.3}""#)
    }
}

fn stroke(width: f32, c: Color32) -> String {
    if width <= 0.0 || c.a() == 0 {
        return String::new();
    }
    let (hex, a) = rgb(c);
    format!(
        r#" stroke="{hex}" stroke-opacity="{a:.3}" stroke-width="{width:.2}" stroke-linejoin="round" stroke-linecap="round""#
    )
}

fn path_stroke_colour(c: &ColorMode) -> Color32 {
    match c {
        ColorMode::Solid(c) => *c,
        // A colour computed per point has no single value: its middle stands for it.
        ColorMode::UV(f) => f(
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Pos2::new(0.5, 0.5),
        ),
    }
}

fn points(ps: &[Pos2]) -> String {
    let mut s = String::with_capacity(ps.len() * 14);
    for p in ps {
        let _ = write!(s, "{:.2},{:.2} ", p.x, p.y);
    }
    s
}

/// Escapes text for XML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Kept as a space: its position is already in the x list.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Svg {
    fn clip_id(&mut self, rect: Rect) -> usize {
        if let Some(i) = self.clips.iter().position(|r| *r == rect) {
            return i;
        }
        let i = self.clips.len();
        self.clips.push(rect);
        let r = rect.intersect(Rect::from_min_max(Pos2::ZERO, Pos2::new(1e5, 1e5)));
        let _ = write!(
            self.defs,
            r#"<clipPath id="c{i}"><rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}"/></clipPath>"#,
            r.min.x,
            r.min.y,
            r.width().max(0.0),
            r.height().max(0.0)
        );
        i
    }

    fn shape(&mut self, shape: &Shape) {
        let b = &mut self.body;
        match shape {
            Shape::Noop | Shape::Callback(_) => {}
            Shape::Vec(shapes) => {
                for s in shapes {
                    self.shape(s);
                }
            }
            Shape::Circle(c) => {
                let _ = write!(
                    b,
                    r#"<circle cx="{:.2}" cy="{:.2}" r="{:.2}" {}{}/>"#,
                    c.center.x,
                    c.center.y,
                    c.radius,
                    fill(c.fill),
                    stroke(c.stroke.width, c.stroke.color)
                );
            }
            Shape::Ellipse(e) => {
                let _ = write!(
                    b,
                    r#"<ellipse cx="{:.2}" cy="{:.2}" rx="{:.2}" ry="{:.2}" transform="rotate({:.2} {:.2} {:.2})" {}{}/>"#,
                    e.center.x,
                    e.center.y,
                    e.radius.x,
                    e.radius.y,
                    e.angle.to_degrees(),
                    e.center.x,
                    e.center.y,
                    fill(e.fill),
                    stroke(e.stroke.width, e.stroke.color)
                );
            }
            Shape::LineSegment {
                points: p,
                stroke: s,
            } => {
                let _ = write!(
                    b,
                    r#"<line x1="{:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}"{}/>"#,
                    p[0].x,
                    p[0].y,
                    p[1].x,
                    p[1].y,
                    stroke(s.width, s.color)
                );
            }
            Shape::Path(p) => {
                if p.points.is_empty() {
                    return;
                }
                let tag = if p.closed { "polygon" } else { "polyline" };
                let f = if p.closed {
                    fill(p.fill)
                } else {
                    r#"fill="none""#.into()
                };
                let _ = write!(
                    b,
                    r#"<{tag} points="{}" {f}{}/>"#,
                    points(&p.points),
                    stroke(p.stroke.width, path_stroke_colour(&p.stroke.color))
                );
            }
            Shape::Band(band) => {
                let upper = band.points.iter().map(|p| Pos2::new(p.x, p.y.min));
                let lower = band.points.iter().rev().map(|p| Pos2::new(p.x, p.y.max));
                let ps: Vec<Pos2> = upper.chain(lower).collect();
                let _ = write!(
                    b,
                    r#"<polygon points="{}" {}{}/>"#,
                    points(&ps),
                    fill(band.fill),
                    stroke(band.stroke.width, band.stroke.color)
                );
            }
            Shape::Rect(r) => {
                if r.brush.is_some() {
                    // A textured rectangle (a picture): no vector form.
                    return;
                }
                let rx = f32::from(r.corner_radius.nw.max(r.corner_radius.se));
                let _ = write!(
                    b,
                    r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" rx="{rx}" {}{}/>"#,
                    r.rect.min.x,
                    r.rect.min.y,
                    r.rect.width().max(0.0),
                    r.rect.height().max(0.0),
                    fill(r.fill),
                    stroke(r.stroke.width, r.stroke.color)
                );
            }
            Shape::QuadraticBezier(q) => curve(b, "Q", &q.points, q.closed, q.fill, &q.stroke),
            Shape::CubicBezier(c) => curve(b, "C", &c.points, c.closed, c.fill, &c.stroke),
            Shape::Mesh(m) => {
                // Solid meshes only (shapes egui tessellated for us, plotted areas); a texture
                // is a picture.
                if m.texture_id != egui::TextureId::default() {
                    return;
                }
                for t in m.indices.chunks_exact(3) {
                    let v: Vec<_> = t
                        .iter()
                        .filter_map(|&i| m.vertices.get(i as usize))
                        .collect();
                    // Glyph quads of the font atlas (a marker's count) are not solid, and the
                    // anti-aliasing fringe (a transparent vertex) would widen every shape.
                    if v.len() != 3
                        || v.iter()
                            .any(|v| v.color.a() == 0 || v.uv != egui::epaint::WHITE_UV)
                    {
                        continue;
                    }
                    let ps: Vec<Pos2> = v.iter().map(|v| v.pos).collect();
                    let _ = write!(
                        b,
                        r#"<polygon points="{}" {}/>"#,
                        points(&ps),
                        fill(v[0].color)
                    );
                }
            }
            Shape::Text(t) => text(b, t),
        }
    }
}

/// A Bézier curve (`Q` quadratic or `C` cubic): its start, then its control and end points.
fn curve(
    b: &mut String,
    command: &str,
    ps: &[Pos2],
    closed: bool,
    fill_colour: Color32,
    s: &egui::epaint::PathStroke,
) {
    let Some((first, rest)) = ps.split_first() else {
        return;
    };
    let f = if closed {
        fill(fill_colour)
    } else {
        r#"fill="none""#.into()
    };
    let _ = write!(
        b,
        r#"<path d="M{:.2},{:.2} {command}{}{}" {f}{}/>"#,
        first.x,
        first.y,
        points(rest).trim_end(),
        if closed { " Z" } else { "" },
        stroke(s.width, path_stroke_colour(&s.color))
    );
}

/// A line-height of the Noto fonts is 1.362 of their size (ascender 1.069 + descender 0.293).
const NOTO_LINE: f32 = 1.362;

/// Text: a `<text>` per run of one colour and font on a row, each cluster at egui's position (a
/// ligature or a letter with combining marks is one glyph followed by glyphs that take no room:
/// their characters go with it, without a position of their own). Rotated text keeps its angle.
fn text(b: &mut String, t: &TextShape) {
    let galley = &t.galley;
    let sections = &galley.job.sections;
    let single = (sections.len() == 1).then(|| &sections[0].format);
    if t.angle != 0.0 {
        let _ = write!(
            b,
            r#"<g transform="rotate({:.3} {:.2} {:.2})">"#,
            t.angle.to_degrees(),
            t.pos.x,
            t.pos.y
        );
    }
    let bold = single.is_some_and(|f| f.font_id.family == crate::ui::theme::bold_family());
    let mono = single.is_some_and(|f| f.font_id.family == egui::FontFamily::Monospace);
    for placed in &galley.rows {
        let row = &placed.row;
        let verts = &row.visuals.mesh.vertices;
        let mut run: Option<Run> = None;
        for g in &row.glyphs {
            let continuation =
                g.uv_rect.is_nothing() && !g.chr.is_whitespace() && g.advance_width == 0.0;
            if continuation && let Some(r) = run.as_mut() {
                // Part of the previous cluster: drawn by the font with it.
                r.chars.push(g.chr);
                r.positioned.push(false);
                continue;
            }
            let vertex_colour = (!g.uv_rect.is_nothing())
                .then(|| verts.get(g.first_vertex as usize).map(|v| v.color))
                .flatten();
            let mut colour = t
                .override_text_color
                .or(vertex_colour)
                .unwrap_or(t.fallback_color);
            if colour == Color32::PLACEHOLDER {
                colour = t.fallback_color;
            }
            if t.opacity_factor < 1.0 {
                colour = colour.gamma_multiply(t.opacity_factor);
            }
            let size = single.map_or(g.font_height / NOTO_LINE, |f| f.font_id.size);
            let x = t.pos.x + placed.pos.x + g.pos.x;
            let y = t.pos.y + placed.pos.y + g.pos.y;
            // A space takes no colour: it joins the run it is in.
            let same = run.as_ref().is_some_and(|r| {
                (r.colour == colour || g.chr.is_whitespace())
                    && (r.size - size).abs() < 0.01
                    && (r.y - y).abs() < 0.01
            });
            if !same {
                if let Some(r) = run.take() {
                    r.write(b, mono, bold);
                }
                run = Some(Run {
                    colour,
                    size,
                    y,
                    xs: Vec::new(),
                    chars: String::new(),
                    positioned: Vec::new(),
                });
            }
            if let Some(r) = run.as_mut() {
                r.xs.push(x);
                r.chars.push(g.chr);
                r.positioned.push(true);
            }
        }
        if let Some(r) = run.take() {
            r.write(b, mono, bold);
        }
    }
    if t.angle != 0.0 {
        b.push_str("</g>");
    }
}

/// Glyphs of one colour, size and baseline on a row.
struct Run {
    colour: Color32,
    size: f32,
    y: f32,
    /// The x of each positioned character.
    xs: Vec<f32>,
    chars: String,
    /// Whether each character has its own x (continuations of a cluster do not).
    positioned: Vec<bool>,
}

impl Run {
    fn write(&self, b: &mut String, mono: bool, bold: bool) {
        if self.chars.trim().is_empty() {
            return;
        }
        let family = if mono { "Noto Sans Mono" } else { "Noto Sans" };
        let weight = if bold { r#" font-weight="bold""# } else { "" };
        let _ = write!(
            b,
            r#"<text y="{:.2}" font-family="{family}" font-size="{:.2}"{weight} {} xml:space="preserve">"#,
            self.y,
            self.size,
            fill(self.colour)
        );
        // A <tspan> per cluster: its x, then its characters.
        let mut xs = self.xs.iter();
        let mut open = false;
        for (c, positioned) in self.chars.chars().zip(&self.positioned) {
            if *positioned {
                if open {
                    b.push_str("</tspan>");
                }
                let x = xs.next().copied().unwrap_or_default();
                let _ = write!(b, r#"<tspan x="{x:.2}">"#);
                open = true;
            }
            b.push_str(&escape(&c.to_string()));
        }
        if open {
            b.push_str("</tspan>");
        }
        b.push_str("</text>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_shapes_become_svg_elements_with_their_places() {
        let ctx = egui::Context::default();
        crate::ui::fonts::install(&ctx);
        let input = || egui::RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, egui::vec2(400.0, 200.0))),
            ..Default::default()
        };
        let draw = |ui: &mut egui::Ui| {
            let p = ui.painter();
            p.rect_filled(
                Rect::from_min_size(Pos2::new(10.0, 10.0), egui::vec2(50.0, 20.0)),
                2.0,
                Color32::RED,
            );
            p.circle_filled(Pos2::new(100.0, 100.0), 5.0, Color32::BLUE);
            p.text(
                Pos2::new(20.0, 150.0),
                egui::Align2::LEFT_TOP,
                "Số liệu & <dữ liệu>",
                egui::FontId::proportional(20.0),
                Color32::WHITE,
            );
            p.text(
                Pos2::new(200.0, 20.0),
                egui::Align2::LEFT_TOP,
                "traffic offline",
                egui::FontId::proportional(16.0),
                Color32::WHITE,
            );
            let galley = p.layout_no_wrap(
                "trục".into(),
                egui::FontId::proportional(14.0),
                Color32::WHITE,
            );
            p.add(
                egui::epaint::TextShape::new(Pos2::new(300.0, 180.0), galley, Color32::WHITE)
                    .with_angle(-std::f32::consts::FRAC_PI_2),
            );
        };
        ctx.run_ui(input(), draw).textures_delta.clear();
        let mut out = ctx.run_ui(input(), draw);
        out.textures_delta.clear();
        let svg = from_shapes(&out.shapes, egui::vec2(400.0, 200.0), Color32::BLACK);
        assert!(
            svg.contains(
                r##"<rect x="10.00" y="10.00" width="50.00" height="20.00" rx="2" fill="#ff0000""##
            ),
            "{svg}"
        );
        assert!(
            svg.contains(r##"<circle cx="100.00" cy="100.00" r="5.00" fill="#0000ff""##),
            "{svg}"
        );
        // The text, tags taken away, is the text drawn (each cluster at its place).
        let mut plain = String::new();
        let mut in_tag = false;
        for c in svg.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => plain.push(c),
                _ => {}
            }
        }
        assert!(plain.contains("Số liệu &amp; &lt;dữ liệu&gt;"), "{plain}");
        assert!(
            plain.contains("traffic offline"),
            "ligatures keep their letters: {plain}"
        );
        assert!(
            svg.contains(r#"<g transform="rotate(-90.000 300.00 180.00)">"#),
            "rotated text keeps its angle: {svg}"
        );
        assert!(svg.contains(r#"font-size="20.00""#), "{svg}");
        // The first glyph starts where egui put it.
        assert!(svg.contains(r#"<tspan x="20.00">S</tspan>"#), "{svg}");
        // It parses as SVG.
        let tree = svg2pdf::usvg::Tree::from_str(&svg, &svg2pdf::usvg::Options::default());
        assert!(tree.is_ok(), "{:?}", tree.err());
    }
}
