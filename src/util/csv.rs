//! A CSV field as RFC 4180 writes it: quoted (quotes doubled) when it holds a separator (`,` or
//! the `;` of spreadsheet programs in Vietnamese and French locales), a quote or a line break.

pub fn field(s: &str) -> String {
    if s.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(super::field("PA-1"), "PA-1");
        assert_eq!(
            super::field("Đã xác minh, qua camera"),
            "\"Đã xác minh, qua camera\""
        );
        assert_eq!(super::field("a \"b\"\nc"), "\"a \"\"b\"\"\nc\"");
        assert_eq!(super::field("x;y"), "\"x;y\"");
    }
}
