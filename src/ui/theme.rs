//! Design tokens: colours, sizes and spacing, in one place.
//!
//! Wall sizes are in monitor pixels for a 1920x1080 monitor seen from about 5 m (a 55" panel:
//! 25 mm letters are about 40 px) and are multiplied by the drawing scale (points per monitor
//! pixel), so the preview wall is a faithful miniature. Status colours come from the Okabe-Ito
//! colour-blind-safe palette and are always paired with a shape and a word.

use egui::{Color32, FontFamily, FontId};

use crate::status::SourceState;

/// The monitor height (in lines) that the wall tokens are written for.
pub const REFERENCE_LINES: f32 = 1080.0;

/// Sizes of wall elements in pixels of a 1080-line monitor.
#[derive(Clone, Copy, Debug)]
pub struct WallTokens {
    pub title: f32,
    pub body: f32,
    pub caption: f32,
    pub badge: f32,
    pub huge: f32,
    pub padding: f32,
    pub gap: f32,
    pub radius: f32,
    pub title_bar: f32,
    pub bezel: f32,
}

pub const WALL: WallTokens = WallTokens {
    title: 30.0,
    body: 34.0,
    caption: 22.0,
    badge: 20.0,
    huge: 150.0,
    padding: 16.0,
    gap: 8.0,
    radius: 8.0,
    title_bar: 52.0,
    bezel: 18.0,
};

/// Name of the bold font family (`fonts` fills it with Noto Sans Bold).
pub const BOLD: &str = "bold";

/// The font family of bold text (titles, badges, big numbers).
pub fn bold_family() -> FontFamily {
    FontFamily::Name(BOLD.into())
}

/// A wall font: `size` in monitor pixels at drawing `scale`.
pub fn wall_font(size: f32, scale: f32, bold: bool) -> FontId {
    let family = if bold {
        bold_family()
    } else {
        FontFamily::Proportional
    };
    font(size * scale, family)
}

/// A font of `size` points snapped down to the type ladder (see [`snap_size`]).
pub fn font(size: f32, family: FontFamily) -> FontId {
    FontId::new(snap_size(size), family)
}

/// A regular font of about `size` points on the type ladder.
pub fn prop_font(size: f32) -> FontId {
    font(size, FontFamily::Proportional)
}

/// A bold font of about `size` points on the type ladder.
pub fn bold_font(size: f32) -> FontId {
    font(size, bold_family())
}

/// Snaps a text size down to the type ladder: 16 sizes an octave, evenly spaced within it
/// (… 8, 8.5 … 15.5, 16, 17 … 31, 32, 34 … 62, 64, 68 …), never below 4 points.
///
/// Sizes come from the tile's share of its monitor, so without the ladder every scene, enlarged
/// tile and window size asks for sizes of its own, and egui keeps each glyph once per size in its
/// font atlas: a wall that has drawn its text once then draws it again from the atlas instead of
/// growing it (docs/benchmarks.md, briefing rotation). Snapping down keeps text that was sized to
/// fit a box inside it; the step is at most 1/16 (6 %) of the size.
pub fn snap_size(size: f32) -> f32 {
    if !size.is_finite() || size <= 4.0 {
        return 4.0;
    }
    let step = 2f32.powi(size.log2().floor() as i32 - 4);
    ((size / step).floor() * step).max(4.0)
}

pub mod colors {
    use super::Color32;
    pub const WALL_BACKGROUND: Color32 = Color32::from_rgb(8, 10, 14);
    pub const BEZEL: Color32 = Color32::from_rgb(28, 30, 34);
    pub const MONITOR_BACKGROUND: Color32 = Color32::from_rgb(14, 18, 26);
    pub const TILE_BACKGROUND: Color32 = Color32::from_rgb(22, 28, 40);
    pub const TILE_TITLE_BAR: Color32 = Color32::from_rgb(30, 38, 54);
    pub const TILE_BORDER: Color32 = Color32::from_rgb(46, 56, 76);
    pub const TEXT: Color32 = Color32::from_rgb(236, 240, 245);
    pub const TEXT_DIM: Color32 = Color32::from_rgb(160, 170, 186);
    pub const ACCENT: Color32 = Color32::from_rgb(86, 180, 233); // Okabe-Ito sky blue
    // Okabe-Ito: bluish green, orange, grey, vermillion, reddish purple.
    pub const LIVE: Color32 = Color32::from_rgb(0, 158, 115);
    pub const STALE: Color32 = Color32::from_rgb(230, 159, 0);
    pub const OFFLINE: Color32 = Color32::from_rgb(140, 140, 140);
    pub const ERROR: Color32 = Color32::from_rgb(213, 94, 0);
    /// A place Arrange mode refuses (overlap, outside the grid), while dragging.
    pub const REFUSED: Color32 = Color32::from_rgb(220, 38, 38);
    pub const NO_PERMISSION: Color32 = Color32::from_rgb(204, 121, 167);
    pub const CONNECTING: Color32 = Color32::from_rgb(0, 114, 178); // Okabe-Ito blue
    pub const BANNER_ERROR_BG: Color32 = Color32::from_rgb(120, 40, 10);
    pub const WARNING_BG: Color32 = Color32::from_rgb(110, 76, 0);
    pub const CRITICAL_BG: Color32 = Color32::from_rgb(130, 30, 20);
}

pub fn status_color(state: SourceState) -> Color32 {
    match state {
        SourceState::Live => colors::LIVE,
        SourceState::Stale => colors::STALE,
        SourceState::Offline => colors::OFFLINE,
        SourceState::Error => colors::ERROR,
        SourceState::NoPermission => colors::NO_PERMISSION,
        SourceState::Connecting => colors::CONNECTING,
    }
}

/// The desk (operator window) style: dark, larger than egui's default text.
pub fn apply_desk_style(ctx: &egui::Context) {
    ctx.set_theme(egui::Theme::Dark);
    ctx.all_styles_mut(|style| {
        use egui::TextStyle;
        // One bitmap per glyph and size in egui's font atlas instead of up to four (sub-pixel
        // positions): half the atlas for the wall's large type, where a quarter-pixel shift of
        // a letter cannot be seen (docs/benchmarks.md, briefing rotation).
        style.visuals.text_options.subpixel_binning = false;
        style
            .text_styles
            .insert(TextStyle::Body, FontId::proportional(15.0));
        style
            .text_styles
            .insert(TextStyle::Button, FontId::proportional(15.0));
        style
            .text_styles
            .insert(TextStyle::Heading, FontId::new(20.0, bold_family()));
        style
            .text_styles
            .insert(TextStyle::Small, FontId::proportional(12.0));
        style
            .text_styles
            .insert(TextStyle::Monospace, FontId::monospace(14.0));
    });
}

#[cfg(test)]
mod tests {
    use super::snap_size;

    #[test]
    fn sizes_snap_down_to_sixteen_steps_an_octave() {
        // The desk's own sizes are on the ladder already.
        for size in [11.5, 12.0, 14.0, 15.0, 16.0, 18.0, 20.0, 34.0, 144.0] {
            assert_eq!(snap_size(size), size, "{size}");
        }
        assert_eq!(snap_size(26.19), 26.0);
        assert_eq!(snap_size(33.9), 32.0);
        assert_eq!(snap_size(101.0), 100.0);
        assert_eq!(snap_size(150.0), 144.0);
        assert_eq!(snap_size(9.74), 9.5);
        assert_eq!(snap_size(3.0), 4.0);
        assert_eq!(snap_size(f32::NAN), 4.0);
        assert_eq!(snap_size(f32::INFINITY), 4.0);
        // Never larger than asked (text sized to fit a box still fits), at most 1/16 smaller,
        // and a snapped size stays where it is.
        let mut size = 4.0f32;
        while size < 400.0 {
            let snapped = snap_size(size);
            assert!(
                snapped <= size && snapped >= size * (15.0 / 16.0),
                "{size} -> {snapped}"
            );
            assert_eq!(snap_size(snapped), snapped);
            size += 0.37;
        }
    }
}
