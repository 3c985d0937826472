//! Diagnostics that point into a text file: `file:line:column: message` plus a hint that says how
//! to fix it. Used for layout files and the configuration file.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::ui::{Lang, tr};

/// One problem found in a file, with its position (1-based line and column, columns in
/// characters so Vietnamese text does not shift them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The language the message is written in (for the "help" label).
    pub lang: Lang,
}

impl Diagnostic {
    pub fn at(
        lang: Lang,
        file: &Path,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(text, span.start);
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: None,
            lang,
        }
    }

    /// A problem with the file as a whole (reported at 1:1).
    pub fn file(
        lang: Lang,
        file: &Path,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
            message: message.into(),
            hint: Some(hint.into()),
            lang,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Turns a TOML (syntax or serde) error into a diagnostic, with a hint for the common cases.
    /// The parser's own message is English (it comes from the TOML library); the hint is in
    /// `lang`.
    pub fn from_toml(lang: Lang, file: &Path, text: &str, err: &toml::de::Error) -> Self {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().to_owned();
        let hint = toml_hint(lang, &message);
        let mut d = Diagnostic::at(lang, file, text, span, message);
        d.hint = hint;
        d
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  {}: {hint}", tr(self.lang, "layout.help"))?;
        }
        Ok(())
    }
}

/// 1-based line and character column of a byte offset (clamped into the text).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

fn toml_hint(lang: Lang, message: &str) -> Option<String> {
    let key = if message.starts_with("unknown field") {
        "layout.err.unknown_key_hint"
    } else if message.starts_with("missing field") {
        "layout.err.missing_key_hint"
    } else if message.starts_with("invalid type") {
        "layout.err.type_hint"
    } else if message.starts_with("unknown variant") {
        return None; // the caller knows which values are allowed and says so
    } else if message.starts_with("invalid")
        || message.contains("expected")
        || message.contains("duplicate")
    {
        "layout.err.syntax_hint"
    } else {
        return None;
    };
    Some(tr(lang, key).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "a = 1\ntên = \"Bến Tre\"\nx";
        let off = text.find("Tre").unwrap();
        assert_eq!(line_col(text, off), (2, 12));
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, text.len()), (3, 2));
        assert_eq!(line_col(text, 10_000), (3, 2));
    }
}
