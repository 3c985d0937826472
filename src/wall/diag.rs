//! Diagnostics that point into a text file: `file:line:column: message` plus a hint that says how
//! to fix it. Used for layout files and the configuration file.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::i18n::{Lang, tr};
use crate::text::Text;

/// One problem found in a file, with its position (1-based line and column, columns in
/// characters so Vietnamese text does not shift them). The message and hint are said in the
/// reader's language when shown ([`Diagnostic::say`]); `Display` says them in Vietnamese, the
/// console's default.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: Text,
    pub hint: Option<Text>,
}

impl Diagnostic {
    pub fn at(file: &Path, text: &str, span: Range<usize>, message: Text) -> Self {
        let (line, column) = line_col(text, span.start);
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message,
            hint: None,
        }
    }

    /// A problem with the file as a whole (reported at 1:1).
    pub fn file(file: &Path, message: Text, hint: Text) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
            message,
            hint: Some(hint),
        }
    }

    pub fn with_hint(mut self, hint: Text) -> Self {
        self.hint = Some(hint);
        self
    }

    /// Turns a TOML (syntax or serde) error into a diagnostic, with a hint for the common cases.
    /// The parser's own message is English (it comes from the TOML library); the hint is said in
    /// the reader's language.
    pub fn from_toml(file: &Path, text: &str, err: &toml::de::Error) -> Self {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().to_owned();
        let hint = toml_hint(&message);
        let mut d = Diagnostic::at(file, text, span, Text::raw(message));
        d.hint = hint;
        d
    }

    /// The message alone, in `lang`.
    pub fn message_in(&self, lang: Lang) -> String {
        self.message.say(lang)
    }

    /// `file:line:column: message` and the hint on the next line, in `lang`.
    pub fn say(&self, lang: Lang) -> String {
        let mut s = format!(
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message.say(lang)
        );
        if let Some(hint) = &self.hint {
            s.push_str(&format!(
                "\n  {}: {}",
                tr(lang, "layout.help"),
                hint.say(lang)
            ));
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.say(Lang::default()))
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

fn toml_hint(message: &str) -> Option<Text> {
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
    Some(Text::key(key))
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
