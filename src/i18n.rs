//! The message catalogue: every user-facing string goes through here.
//!
//! Catalogues live in `assets/i18n/{vi,en}.toml` (nested tables, flattened to dotted keys) and are
//! embedded in the binary. Vietnamese is the default language; English is the second. Text is
//! normalised to NFC on load so that what the fonts see is precomposed.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

/// A language the console speaks.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Tiếng Việt (default).
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The language's own name, for the language picker.
    pub fn native_name(self) -> &'static str {
        tr(self, "lang.native_name")
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "vi" | "vi-vn" | "vi_vn" => Some(Lang::Vi),
            "en" | "en-us" | "en-gb" | "en_us" => Some(Lang::En),
            _ => None,
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::from_code(s).ok_or_else(|| format!("unknown language `{s}`; use `vi` or `en`"))
    }
}

/// One language's messages, flattened to dotted keys.
#[derive(Debug)]
pub struct Catalogue {
    messages: HashMap<String, String>,
}

impl Catalogue {
    /// Parses a catalogue file. Errors are for the catalogue's authors (tests catch them).
    pub fn parse(text: &str) -> Result<Catalogue, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut messages = HashMap::new();
        flatten("", &table, &mut messages)?;
        Ok(Catalogue { messages })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.messages.get(key).map(String::as_str)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut HashMap<String, String>,
) -> Result<(), String> {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(full, s.nfc().collect());
            }
            toml::Value::Table(t) => flatten(&full, t, out)?,
            other => {
                return Err(format!(
                    "`{full}` must be a string, found {}",
                    other.type_str()
                ));
            }
        }
    }
    Ok(())
}

const VI_SOURCE: &str = include_str!("../assets/i18n/vi.toml");
const EN_SOURCE: &str = include_str!("../assets/i18n/en.toml");

/// The embedded catalogue of a language.
pub fn catalogue(lang: Lang) -> &'static Catalogue {
    static VI: OnceLock<Catalogue> = OnceLock::new();
    static EN: OnceLock<Catalogue> = OnceLock::new();
    let (cell, source) = match lang {
        Lang::Vi => (&VI, VI_SOURCE),
        Lang::En => (&EN, EN_SOURCE),
    };
    cell.get_or_init(|| {
        Catalogue::parse(source).unwrap_or_else(|err| {
            // The catalogue is compiled in and checked by tests; a broken one must still not take
            // the wall down, so fall back to showing keys.
            tracing::error!(lang = lang.code(), %err, "message catalogue is invalid");
            Catalogue {
                messages: HashMap::new(),
            }
        })
    })
}

/// Looks up a message. A missing key shows the key itself (and logs once per call site's key),
/// so a gap in a catalogue is visible instead of blank.
pub fn tr(lang: Lang, key: &'static str) -> &'static str {
    match catalogue(lang).get(key) {
        Some(s) => s,
        None => {
            tracing::warn!(lang = lang.code(), key, "missing message");
            key
        }
    }
}

/// Looks up a message and fills its `{name}` placeholders.
pub fn tr_args(lang: Lang, key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut text = tr(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_and_have_the_same_keys() {
        let vi = Catalogue::parse(VI_SOURCE).expect("vi catalogue parses");
        let en = Catalogue::parse(EN_SOURCE).expect("en catalogue parses");
        let mut only_vi: Vec<_> = vi.keys().filter(|k| en.get(k).is_none()).collect();
        let mut only_en: Vec<_> = en.keys().filter(|k| vi.get(k).is_none()).collect();
        only_vi.sort();
        only_en.sort();
        assert!(only_vi.is_empty(), "keys missing in en.toml: {only_vi:?}");
        assert!(only_en.is_empty(), "keys missing in vi.toml: {only_en:?}");
        assert!(vi.keys().count() > 20);
    }

    #[test]
    fn placeholders_are_filled() {
        let s = tr_args(Lang::En, "tile.age_seconds", &[("n", &5)]);
        assert!(s.contains('5') && !s.contains("{n}"), "{s}");
    }

    #[test]
    fn catalogue_text_is_nfc() {
        // "ề" written decomposed (e + U+0302 + U+0300) must come out precomposed.
        let c = Catalogue::parse("k = \"Thi\u{65}\u{302}\u{300}u\"").unwrap();
        assert_eq!(c.get("k"), Some("Thiều"));
    }

    #[test]
    fn every_key_used_in_the_source_exists() {
        // Scan the crate's sources for tr(.., "key") / tr_args(.., "key", ..) literals.
        let vi = catalogue(Lang::Vi);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut seen = 0;
        visit(&root, &mut |text| {
            for key in used_keys(text) {
                seen += 1;
                if vi.get(&key).is_none() {
                    missing.push(key);
                }
            }
        });
        assert!(
            seen > 20,
            "the scan found only {seen} keys: the scanner is broken"
        );
        assert!(
            missing.is_empty(),
            "keys used in code but not in the catalogue: {missing:?}"
        );
    }

    fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&str)) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, f);
            } else if path.extension().is_some_and(|e| e == "rs") {
                f(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }

    /// Finds string literals that follow `tr(` / `tr_args(` / `.t(` / `.t_args(` and a first
    /// argument, e.g. `tr(lang, "status.live")` or `cx.t("status.live")`.
    fn used_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for pat in ["tr(", "tr_args(", ".t(", ".t_args("] {
            let mut rest = text;
            while let Some(pos) = rest.find(pat) {
                rest = &rest[pos + pat.len()..];
                let window: String = rest.chars().take(80).collect();
                if let Some(q) = window.find('"') {
                    let before = &window[..q];
                    // Only a first argument (lang / nothing) may stand before the key.
                    if before.len() < 24 && !before.contains(')') && !before.contains(';') {
                        let after = &window[q + 1..];
                        if let Some(end) = after.find('"') {
                            let key = &after[..end];
                            if key.contains('.') && !key.contains(' ') && !key.contains('{') {
                                keys.push(key.to_owned());
                            }
                        }
                    }
                }
            }
        }
        keys
    }
}
