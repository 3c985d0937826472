//! Search that matches with or without Vietnamese diacritics: "ngap" finds "ngập", "dong khoi"
//! finds "Đồng Khởi". Text is folded once (per incident version) and queries are folded the same
//! way.

use unicode_normalization::UnicodeNormalization as _;

/// Lower case, without combining marks, đ→d. Whitespace runs become one space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c if c.is_whitespace() => {
                if !space && !out.is_empty() {
                    out.push(' ');
                }
                space = true;
                continue;
            }
            c => c,
        };
        space = false;
        out.extend(c.to_lowercase());
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
