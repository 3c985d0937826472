//! A plotters `DrawingBackend` that paints with egui's `Painter` (tessellated and drawn on the
//! GPU with the rest of the wall). Text uses the console's embedded fonts through egui, so charts
//! read in Vietnamese like everything else.
//!
//! Plotters works in integer pixels; this backend gives it `SUPERSAMPLE` units per point so that
//! small tiles (a preview wall) keep sub-point precision.

use egui::{Color32, Painter, Pos2, Rect, Shape, Stroke, pos2};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle, FontTransform,
};

use crate::ui::theme;

pub const SUPERSAMPLE: f32 = 4.0;

#[derive(Debug)]
pub struct EguiError;

impl std::fmt::Display for EguiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("egui drawing error")
    }
}
impl std::error::Error for EguiError {}

pub struct EguiBackend<'a> {
    painter: &'a Painter,
    rect: Rect,
}

impl<'a> EguiBackend<'a> {
    pub fn new(painter: &'a Painter, rect: Rect) -> Self {
        EguiBackend { painter, rect }
    }

    fn pos(&self, (x, y): BackendCoord) -> Pos2 {
        pos2(
            self.rect.left() + x as f32 / SUPERSAMPLE,
            self.rect.top() + y as f32 / SUPERSAMPLE,
        )
    }

    fn font(style: &impl BackendTextStyle) -> egui::FontId {
        let size = (style.size() as f32 / SUPERSAMPLE).max(3.0);
        let bold = matches!(style.style(), FontStyle::Bold);
        if bold {
            theme::bold_font(size)
        } else {
            theme::prop_font(size)
        }
    }
}

pub fn color(c: BackendColor) -> Color32 {
    Color32::from_rgba_unmultiplied(c.rgb.0, c.rgb.1, c.rgb.2, (c.alpha * 255.0).round() as u8)
}

fn stroke(style: &impl BackendStyle) -> Stroke {
    Stroke::new(
        (style.stroke_width() as f32 / SUPERSAMPLE).max(0.5),
        color(style.color()),
    )
}

type R = Result<(), DrawingErrorKind<EguiError>>;

impl DrawingBackend for EguiBackend<'_> {
    type ErrorType = EguiError;

    fn get_size(&self) -> (u32, u32) {
        (
            (self.rect.width() * SUPERSAMPLE).max(1.0) as u32,
            (self.rect.height() * SUPERSAMPLE).max(1.0) as u32,
        )
    }

    fn ensure_prepared(&mut self) -> R {
        Ok(())
    }

    fn present(&mut self) -> R {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, c: BackendColor) -> R {
        let p = self.pos(point);
        self.painter.rect_filled(
            Rect::from_min_size(p, egui::vec2(1.0 / SUPERSAMPLE, 1.0 / SUPERSAMPLE)),
            0.0,
            color(c),
        );
        Ok(())
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> R {
        self.painter
            .line_segment([self.pos(from), self.pos(to)], stroke(style));
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> R {
        let r = Rect::from_two_pos(self.pos(upper_left), self.pos(bottom_right));
        if fill {
            self.painter.rect_filled(r, 0.0, color(style.color()));
        } else {
            self.painter
                .rect_stroke(r, 0.0, stroke(style), egui::StrokeKind::Middle);
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> R {
        let points: Vec<Pos2> = path.into_iter().map(|p| self.pos(p)).collect();
        if points.len() >= 2 {
            self.painter.add(Shape::line(points, stroke(style)));
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> R {
        let r = radius as f32 / SUPERSAMPLE;
        if fill {
            self.painter
                .circle_filled(self.pos(center), r, color(style.color()));
        } else {
            self.painter
                .circle_stroke(self.pos(center), r, stroke(style));
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> R {
        let points: Vec<Pos2> = vert.into_iter().map(|p| self.pos(p)).collect();
        if points.len() >= 3 {
            self.painter.add(Shape::convex_polygon(
                points,
                color(style.color()),
                Stroke::NONE,
            ));
        }
        Ok(())
    }

    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, style: &T, pos: BackendCoord) -> R {
        let c = color(style.color());
        let galley = self
            .painter
            .layout_no_wrap(text.to_owned(), Self::font(style), c);
        let size = galley.size();
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -size.x / 2.0,
            HPos::Right => -size.x,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -size.y / 2.0,
            VPos::Bottom => -size.y,
        };
        let p = self.pos(pos);
        let angle = match style.transform() {
            FontTransform::Rotate90 => std::f32::consts::FRAC_PI_2,
            FontTransform::Rotate180 => std::f32::consts::PI,
            FontTransform::Rotate270 => -std::f32::consts::FRAC_PI_2,
            _ => 0.0,
        };
        if angle == 0.0 {
            self.painter.galley(p + egui::vec2(dx, dy), galley, c);
        } else {
            // Rotate the anchored box about the anchor point.
            let rot = egui::emath::Rot2::from_angle(angle);
            let offset = rot * egui::vec2(dx, dy);
            self.painter
                .add(egui::epaint::TextShape::new(p + offset, galley, c).with_angle(angle));
        }
        Ok(())
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<EguiError>> {
        let size = self
            .painter
            .layout_no_wrap(text.to_owned(), Self::font(style), Color32::WHITE)
            .size();
        Ok(((size.x * SUPERSAMPLE) as u32, (size.y * SUPERSAMPLE) as u32))
    }
}
