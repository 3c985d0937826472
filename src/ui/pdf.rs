//! Pages of SVG (egui's drawing, see `svg`) as one PDF: each page an SVG converted by svg2pdf
//! into a form, placed on a page of the SVG's size, fonts embedded.

use std::collections::HashMap;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref};
use svg2pdf::usvg;

/// The options every page's SVG is read with: the console's fonts.
fn options() -> usvg::Options<'static> {
    let mut options = usvg::Options::default();
    let db = options.fontdb_mut();
    for bytes in crate::ui::fonts::font_files() {
        db.load_font_data(bytes.to_vec());
    }
    db.set_sans_serif_family("Noto Sans");
    options
}

/// One PDF of `pages` (SVG text), each page `size` points (1 point of the SVG = 1 PDF point).
pub fn from_svgs(pages: &[String], size: (f32, f32)) -> Result<Vec<u8>, String> {
    let options = options();
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let tree_id = alloc.bump();
    let page_ids: Vec<Ref> = pages.iter().map(|_| alloc.bump()).collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    let name = Name(b"S1");
    for (svg, page_id) in pages.iter().zip(&page_ids) {
        let tree = usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
        let (chunk, form) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default())
            .map_err(|e| e.to_string())?;
        let mut map = HashMap::new();
        let chunk = chunk.renumber(|old| *map.entry(old).or_insert_with(|| alloc.bump()));
        let form = *map
            .get(&form)
            .ok_or("the page's drawing was lost in conversion")?;
        let content_id = alloc.bump();
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, size.0, size.1));
        page.parent(tree_id);
        page.contents(content_id);
        page.resources().x_objects().pair(name, form);
        page.finish();
        let mut content = Content::new();
        // The form is one point square: scale it to the page.
        content
            .transform([size.0, 0.0, 0.0, size.1, 0.0, 0.0])
            .x_object(name);
        pdf.stream(content_id, &content.finish());
        pdf.extend(&chunk);
    }
    Ok(pdf.finish())
}
