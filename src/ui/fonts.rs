//! The embedded fonts. egui's own fonts lack most Vietnamese letters (and egui panics on a
//! missing glyph in tests), so Noto Sans / Noto Sans Mono (OFL-1.1, `assets/fonts/OFL.txt`) come
//! first in every family; egui's defaults stay behind them only for symbols and emoji.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

const NOTO_SANS: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
const NOTO_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");
const NOTO_SANS_MONO: &[u8] = include_bytes!("../../assets/fonts/NotoSansMono-Regular.ttf");

/// The embedded font files (for exports that embed fonts, e.g. PDF).
pub fn font_files() -> [&'static [u8]; 3] {
    [NOTO_SANS, NOTO_SANS_BOLD, NOTO_SANS_MONO]
}

/// The console's font definitions. `with_fallbacks` keeps egui's default fonts behind the
/// project's (for symbols); tests switch it off to prove the project's fonts alone suffice.
pub fn definitions(with_fallbacks: bool) -> FontDefinitions {
    let mut defs = if with_fallbacks {
        FontDefinitions::default()
    } else {
        FontDefinitions::empty()
    };
    let fallbacks_prop = defs
        .families
        .get(&FontFamily::Proportional)
        .cloned()
        .unwrap_or_default();
    let fallbacks_mono = defs
        .families
        .get(&FontFamily::Monospace)
        .cloned()
        .unwrap_or_default();

    for (name, bytes) in [
        ("NotoSans", NOTO_SANS),
        ("NotoSans-Bold", NOTO_SANS_BOLD),
        ("NotoSansMono", NOTO_SANS_MONO),
    ] {
        defs.font_data
            .insert(name.to_owned(), Arc::new(FontData::from_static(bytes)));
    }
    let family = |first: &str, rest: &[String]| {
        std::iter::once(first.to_owned())
            .chain(rest.iter().cloned())
            .collect::<Vec<_>>()
    };
    defs.families.insert(
        FontFamily::Proportional,
        family("NotoSans", &fallbacks_prop),
    );
    defs.families.insert(
        FontFamily::Monospace,
        family("NotoSansMono", &fallbacks_mono),
    );
    defs.families.insert(
        FontFamily::Name(super::theme::BOLD.into()),
        family("NotoSans-Bold", &fallbacks_prop),
    );
    defs
}

/// Installs the fonts and the console's style into a context (the app and every test harness).
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(definitions(true));
    super::theme::apply_desk_style(ctx);
}

/// The 134 precomposed Vietnamese letters (67 lower case and their capitals).
pub const VIETNAMESE_LETTERS: &str = concat!(
    "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ",
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ",
);
