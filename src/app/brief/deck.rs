//! The briefing's deck: a cover and one page per scene, drawn by the scene's own drawing code
//! (`scene::paint_scene`) in a pass of egui, then written as vector PDF (egui's shapes as SVG
//! through svg2pdf, the Noto fonts embedded) or as one PNG per page (the offscreen renderer).
//! Every page carries the frozen "as of", the ink of its scene and its number.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use egui::{Align2, Color32, Rect, pos2, vec2};

use crate::context::view::{BriefingView, InkStroke};
use crate::context::{FrameCtx, ViewState};
use crate::format;
use crate::i18n::Lang;
use crate::model::UnitLevel;
use crate::store::Store;
use crate::ui::theme;
use crate::wall::storyboard::Storyboard;

use super::scene::{self, Marks};

/// A deck page in points (16:9, 1 point = 1 PDF point; 1600 × 900 pt reads as a slide).
pub const PAGE: [u32; 2] = [1600, 900];

/// What a deck is made of.
pub struct Deck<'a> {
    pub board: &'a Storyboard,
    /// The data, frozen.
    pub store: Arc<Store>,
    pub as_of: DateTime<Utc>,
    pub lang: Lang,
    /// The ink of each scene (none when exported from the command line).
    pub ink: &'a [Vec<InkStroke>],
}

impl Deck<'_> {
    /// Cover + scenes.
    pub fn pages(&self) -> usize {
        self.board.scenes.len() + 1
    }

    /// The frame context page `page` draws with.
    fn cx(&self) -> FrameCtx {
        let view = ViewState {
            briefing: Some(BriefingView {
                storyboard: self.board.path.clone(),
                scene: 0,
                scenes: self.board.scenes.len(),
                as_of: self.as_of,
                black: false,
                ink: self.ink.to_vec(),
                pointer: None,
                ink_generation: 0,
            }),
            ..Default::default()
        };
        FrameCtx {
            store: Arc::clone(&self.store),
            view: Arc::new(view),
            as_of: Some(self.as_of),
            // Nothing animates on paper, and no camera is live on it.
            low_power: true,
            print: true,
            ..FrameCtx::new(self.lang, self.as_of)
        }
    }

    /// Draws page `page` (0: the cover) filling `rect`.
    pub fn paint_page(&self, ui: &mut egui::Ui, rect: Rect, page: usize, cx: &FrameCtx) {
        ui.painter()
            .rect_filled(rect, 0.0, theme::colors::WALL_BACKGROUND);
        let footer_h = rect.height() * 0.04;
        let body = Rect::from_min_max(rect.min, pos2(rect.max.x, rect.max.y - footer_h));
        if page == 0 {
            self.paint_cover(ui, body, cx);
        } else if let Some(s) = self.board.scenes.get(page - 1) {
            let ink = self.ink.get(page - 1).map_or(&[][..], Vec::as_slice);
            // Each page in its scene's own scope.
            let mut view = (*cx.view).clone();
            view.scope = s.scope.as_ref().map(|u| u.0.clone());
            let cx = FrameCtx {
                view: Arc::new(view),
                ..cx.clone()
            };
            scene::paint_scene(ui, body, s, &cx, Marks { ink, pointer: None });
        }
        let number = cx.t_args(
            "brief.deck.page",
            &[("n", &(page + 1)), ("total", &self.pages())],
        );
        ui.painter().text(
            pos2(rect.max.x - footer_h * 0.6, rect.max.y - footer_h / 2.0),
            Align2::RIGHT_CENTER,
            number,
            theme::prop_font(footer_h * 0.5),
            theme::colors::TEXT_DIM,
        );
        ui.painter().text(
            pos2(rect.min.x + footer_h * 0.6, rect.max.y - footer_h / 2.0),
            Align2::LEFT_CENTER,
            &self.board.title,
            theme::prop_font(footer_h * 0.5),
            theme::colors::TEXT_DIM,
        );
    }

    fn paint_cover(&self, ui: &mut egui::Ui, rect: Rect, cx: &FrameCtx) {
        let p = ui.painter_at(rect);
        let h = rect.height();
        let left = rect.min.x + rect.width() * 0.08;
        let mut y = rect.min.y + h * 0.28;
        let mut line = |text: &str, size: f32, bold: bool, colour: Color32| {
            let font = theme::font(
                size,
                if bold {
                    theme::bold_family()
                } else {
                    egui::FontFamily::Proportional
                },
            );
            let galley = p.layout(text.to_owned(), font, colour, rect.width() * 0.84);
            let height = galley.size().y;
            p.galley(pos2(left, y), galley, colour);
            y += height + size * 0.5;
        };
        if let Some(province) = self.province() {
            line(
                &province.to_uppercase(),
                h * 0.035,
                true,
                theme::colors::ACCENT,
            );
        }
        line(cx.t("app.title"), h * 0.03, false, theme::colors::TEXT_DIM);
        line(&self.board.title, h * 0.065, true, theme::colors::TEXT);
        let vn = format::to_vietnam_time(self.as_of);
        line(
            &cx.t_args("brief.deck.date", &[("date", &format::date(vn))]),
            h * 0.035,
            false,
            theme::colors::TEXT,
        );
        if let Some(as_of) = scene::as_of_line(cx) {
            line(&as_of, h * 0.03, false, theme::colors::TEXT_DIM);
        }
        line(
            &cx.t_args("brief.scene_count", &[("n", &self.board.scenes.len())]),
            h * 0.03,
            false,
            theme::colors::TEXT_DIM,
        );
        p.rect_filled(
            Rect::from_min_size(pos2(left, rect.min.y + h * 0.2), vec2(h * 0.12, h * 0.008)),
            0.0,
            theme::colors::ACCENT,
        );
    }

    /// The province the data is about: its unit in force on the "as of" day.
    fn province(&self) -> Option<String> {
        let day = format::to_vietnam_time(self.as_of).date_naive();
        let units = self.store.units.data.as_ref()?;
        units
            .iter()
            .filter(|u| u.level == UnitLevel::Province && u.valid_from <= day)
            .find(|u| u.valid_to.is_none_or(|to| to >= day))
            .map(|u| u.name.clone())
    }

    /// Every page's drawing as SVG.
    pub fn svgs(&self) -> Vec<String> {
        let size = vec2(PAGE[0] as f32, PAGE[1] as f32);
        let cx = self.cx();
        (0..self.pages())
            .map(|page| {
                let shapes = shapes_of(size, |ui| {
                    let rect = Rect::from_min_size(egui::Pos2::ZERO, size);
                    self.paint_page(ui, rect, page, &cx);
                });
                crate::ui::svg::from_shapes(&shapes, size, theme::colors::WALL_BACKGROUND)
            })
            .collect()
    }

    /// The deck as one PDF.
    pub fn pdf(&self) -> Result<Vec<u8>, String> {
        crate::ui::pdf::from_svgs(&self.svgs(), (PAGE[0] as f32, PAGE[1] as f32))
    }

    /// The deck as one PNG per page in `dir` (`00-cover.png`, `01-scene.png` …), rendered offscreen.
    pub fn pngs(&self, dir: &Path) -> Result<Vec<PathBuf>, String> {
        let mut renderer =
            crate::ui::offscreen::OffscreenRenderer::new().map_err(|e| e.to_string())?;
        let cx = self.cx();
        let mut images = Vec::new();
        for page in 0..self.pages() {
            let image = renderer
                .render(PAGE, |ui| {
                    let rect = ui.max_rect();
                    self.paint_page(ui, rect, page, &cx);
                })
                .map_err(|e| e.to_string())?;
            images.push(image);
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let mut written = Vec::new();
        for (page, image) in images.iter().enumerate() {
            let name = match page {
                0 => "00-cover.png".to_owned(),
                n => format!("{n:02}-scene.png"),
            };
            let path = dir.join(name);
            let mut bytes = Vec::new();
            image
                .write_to(
                    &mut std::io::Cursor::new(&mut bytes),
                    image::ImageFormat::Png,
                )
                .map_err(|e| e.to_string())?;
            crate::wall::save::write_atomic(&path, &bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// What one pass of egui paints in a window of `size` points (the second pass: the first loads
/// fonts and measures).
pub fn shapes_of(
    size: egui::Vec2,
    mut draw: impl FnMut(&mut egui::Ui),
) -> Vec<egui::epaint::ClippedShape> {
    let ctx = egui::Context::default();
    crate::ui::fonts::install(&ctx);
    let input = || egui::RawInput {
        screen_rect: Some(Rect::from_min_size(egui::Pos2::ZERO, size)),
        ..Default::default()
    };
    let mut paint = |ui: &mut egui::Ui| {
        egui::CentralPanel::no_frame().show(ui, |ui| draw(ui));
    };
    // No texture is uploaded anywhere: the deltas are dropped on purpose.
    ctx.run_ui(input(), &mut paint).textures_delta.clear();
    let mut out = ctx.run_ui(input(), &mut paint);
    out.textures_delta.clear();
    out.shapes
}
