//! Search that matches with or without Vietnamese diacritics: "ngap" finds "ngập", "dong khoi"
//! finds "Đồng Khởi". Text is folded once (per incident version) and queries are folded the same
//! way.

use unicode_normalization::UnicodeNormalization as _;

/// The folded form of every character below U+2000 (Latin, Vietnamese letters included), so
/// that folding is a table lookup; other characters go through NFD.
fn table() -> &'static [char] {
    static TABLE: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0u32..0x2000)
            .map(|u| {
                let c = char::from_u32(u).unwrap_or('\0');
                slow_fold_char(c)
            })
            .collect()
    })
}

/// '\0' means "drop" (a combining mark).
fn slow_fold_char(c: char) -> char {
    if unicode_normalization::char::is_combining_mark(c) {
        return '\0';
    }
    let base = c.nfd().next().unwrap_or(c);
    match base {
        'đ' | 'Đ' => 'd',
        b => b.to_lowercase().next().unwrap_or(b),
    }
}

/// Lower case, without combining marks, đ→d. Whitespace runs become one space.
pub fn fold(text: &str) -> String {
    let table = table();
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        let f = match table.get(c as usize) {
            Some(&f) => f,
            None => slow_fold_char(c),
        };
        if f != '\0' {
            out.push(f);
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether every word of the (folded) query occurs in the folded text.
pub fn matches(folded_text: &str, folded_query: &str) -> bool {
    folded_query
        .split(' ')
        .filter(|w| !w.is_empty())
        .all(|w| folded_text.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_or_without_diacritics() {
        let text = fold("Ngập nước sau triều cường tại đường Đồng Khởi, TP Bến Tre");
        for q in [
            "ngap",
            "ngập",
            "NGẬP",
            "dong khoi",
            "Đồng  Khởi",
            "trieu cuong ben tre",
            "ben tre ngap",
        ] {
            assert!(matches(&text, &fold(q)), "{q}");
        }
        for q in ["ngop", "dong khai", "ba tri"] {
            assert!(!matches(&text, &fold(q)), "{q}");
        }
        // Precomposed and decomposed input fold alike.
        assert_eq!(fold("Thi\u{65}\u{302}\u{300}u"), fold("Thiều"));
        assert_eq!(fold("  Ấp   Phú Hòa "), "ap phu hoa");
        assert!(matches(&text, ""));
    }
}
