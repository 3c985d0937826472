//! What a basemap tile comes to: a picture (decoded, its size checked), missing, or a failure with
//! its reason in words (for the map tile's footer).

use egui::ColorImage;

/// Tiles larger than this are refused (a tile is a few tens of kilobytes).
pub(super) const MAX_TILE_BYTES: usize = 4 * 1024 * 1024;
/// Tile pictures larger than this on a side are refused (tiles are 256 or 512 pixels).
pub(super) const MAX_TILE_SIDE: u32 = 1024;
/// Why a tile could not be had: a catalogue key (`map.reason.*`) and a detail that is not
/// translated (an HTTP status, an operating-system message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub key: &'static str,
    pub detail: String,
}

impl Reason {
    pub(super) fn new(key: &'static str, detail: impl Into<String>) -> Reason {
        Reason {
            key,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.key)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// What the fetch thread hands back.
pub(super) enum Outcome {
    Picture {
        image: ColorImage,
        /// From the network or file (true), or from the disk cache (false).
        fresh: bool,
        /// The server failed and an old cached copy stands in.
        stale: Option<Reason>,
    },
    Missing {
        from_source: bool,
    },
    Failed(Reason),
    /// Nobody wanted it any more: not fetched.
    Dropped,
}

/// Decodes a tile picture, refusing pictures larger than a tile could be.
pub(super) fn decode(bytes: &[u8]) -> Result<ColorImage, Reason> {
    let not_picture = |e: image::ImageError| Reason::new("map.reason.not_picture", e.to_string());
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Reason::new("map.reason.not_picture", e.to_string()))?;
    let (w, h) = reader.into_dimensions().map_err(not_picture)?;
    if w > MAX_TILE_SIDE || h > MAX_TILE_SIDE || w == 0 || h == 0 {
        return Err(Reason::new("map.reason.picture_size", format!("{w}×{h}")));
    }
    let img = image::load_from_memory(bytes).map_err(not_picture)?;
    let rgba = img.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    Ok(ColorImage::from_rgba_unmultiplied(size, rgba.as_raw()))
}
