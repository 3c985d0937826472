//! Numbers as statistics files write them: "1234.5", "1,234.5", Viet Nam's "2.767.229,12",
//! "1336167. 72" (a stray space), "1e6"; and the words for "no value": "na", "NaN", "..", "-",
//! "", "NULL".

/// Which character separates decimals, when the file or server says (or the technician does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecimalMark {
    /// Guess from the number itself: with both marks the last one is decimal; several of one
    /// mark are thousands; one mark alone is decimal.
    #[default]
    Auto,
    /// "1,234.5"
    Point,
    /// "1.234,5" (Vietnamese, French)
    Comma,
}

/// A value as written: a number, or missing, or not a number at all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Value(f64),
    Missing,
    Bad,
}

/// Whether a cell's text means "no value".
pub fn is_missing(s: &str) -> bool {
    let s = s.trim();
    s.is_empty()
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "na" | "n/a" | "nan" | "null" | ".." | "..." | "-" | "–" | "x" | ":" | "nd"
        )
}

/// Reads a number written in any of the usual ways.
pub fn parse(s: &str, mark: DecimalMark) -> Cell {
    let t = s.trim();
    if is_missing(t) {
        return Cell::Missing;
    }
    // Fast path: a plain number (unless the point is a thousands mark here).
    let plain = !(mark == DecimalMark::Comma && t.contains('.'));
    if let Ok(v) = t
        .parse::<f64>()
        .map_err(|_| ())
        .and_then(|v| if plain { Ok(v) } else { Err(()) })
    {
        return if v.is_finite() {
            Cell::Value(v)
        } else {
            Cell::Missing
        };
    }
    let mut cleaned = String::with_capacity(t.len());
    for c in t.chars() {
        if !(c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}' || c == '\'') {
            cleaned.push(c);
        }
    }
    let dots = cleaned.matches('.').count();
    let commas = cleaned.matches(',').count();
    let decimal = match mark {
        DecimalMark::Point => Some('.'),
        DecimalMark::Comma => Some(','),
        DecimalMark::Auto => match (dots, commas) {
            (0, 0) => None,
            (_, 0) if dots > 1 => None,
            (0, _) if commas > 1 => None,
            (_, 0) => Some('.'),
            (0, _) => Some(','),
            _ => {
                if cleaned.rfind('.') > cleaned.rfind(',') {
                    Some('.')
                } else {
                    Some(',')
                }
            }
        },
    };
    let mut normal = String::with_capacity(cleaned.len());
    for c in cleaned.chars() {
        match c {
            '.' | ',' if Some(c) == decimal => normal.push('.'),
            '.' | ',' => {}
            other => normal.push(other),
        }
    }
    match normal.parse::<f64>() {
        Ok(v) if v.is_finite() => Cell::Value(v),
        _ => Cell::Bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecimalMark::*;

    #[test]
    fn numbers_as_statistics_offices_write_them() {
        for (s, mark, want) in [
            ("1234.5", Auto, 1234.5),
            ("2.767.229,12", Auto, 2_767_229.12),
            ("1336167. 72", Auto, 1_336_167.72),
            ("1,234.5", Auto, 1234.5),
            ("12,5", Auto, 12.5),
            ("12,5", Comma, 12.5),
            ("1.234", Comma, 1234.0),
            ("1.234", Auto, 1.234),
            ("1 234 567", Auto, 1_234_567.0),
            ("-3.5e2", Auto, -350.0),
            ("1.234.567", Auto, 1_234_567.0),
        ] {
            assert_eq!(parse(s, mark), Cell::Value(want), "{s} {mark:?}");
        }
        for s in ["na", "NaN", "..", "-", "", "  ", "NULL"] {
            assert_eq!(parse(s, Auto), Cell::Missing, "{s:?}");
        }
        for s in ["abc", "1.2.3,4,5", "12x"] {
            assert_eq!(parse(s, Auto), Cell::Bad, "{s:?}");
        }
    }
}
