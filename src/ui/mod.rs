//! The UI kit: the theme (design tokens), the fonts, small widgets and sounds, and egui's drawing
//! turned into SVG and PDF pages. It knows nothing of tiles or of the wall; the per-frame context
//! every view reads is `context`.

pub mod fonts;
pub mod offscreen;
pub mod pdf;
pub mod sound;
pub mod svg;
pub mod theme;
pub mod widgets;
