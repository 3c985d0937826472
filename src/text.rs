//! Words not yet said. The data layers keep what they would tell a person as a [`Text`]: a
//! catalogue key with its arguments (or words a server or library already wrote); the edge that
//! shows it — a tile's frame, the desk, the command line — says it in the reader's language, so
//! switching language changes every reason on screen, old ones included.

use crate::i18n::{Lang, tr};

/// Something to tell a person, said in a language only when shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Text {
    /// A message of the catalogue and the values of its `{name}` placeholders.
    Key {
        key: &'static str,
        args: Vec<(&'static str, Arg)>,
    },
    /// Words already written by someone else (a server's message, a library's English error).
    Raw(String),
}

/// The value of a placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// Written the same in every language (a number, a name, a URL without credentials).
    Plain(String),
    /// Words of their own, said in the same language.
    Text(Box<Text>),
    /// An age, said in words ("3 phút trước").
    Age(chrono::Duration),
    /// A detail the message writes in parentheses, " ({name})"; an empty one leaves no empty
    /// parentheses behind.
    Detail(String),
}

impl Text {
    /// A message of the catalogue without placeholders (or with them filled by [`Text::arg`]).
    pub fn key(key: &'static str) -> Text {
        Text::Key {
            key,
            args: Vec::new(),
        }
    }

    pub fn raw(words: impl Into<String>) -> Text {
        Text::Raw(words.into())
    }

    fn push(mut self, name: &'static str, value: Arg) -> Text {
        if let Text::Key { args, .. } = &mut self {
            args.push((name, value));
        }
        self
    }

    /// Fills `{name}` with a value written the same in every language.
    pub fn arg(self, name: &'static str, value: impl std::fmt::Display) -> Text {
        self.push(name, Arg::Plain(value.to_string()))
    }

    /// Fills `{name}` with words of their own.
    pub fn arg_text(self, name: &'static str, value: Text) -> Text {
        self.push(name, Arg::Text(Box::new(value)))
    }

    /// Fills `{name}`, written as " ({name})" in the catalogue, with an optional detail.
    pub fn arg_detail(self, name: &'static str, detail: impl Into<String>) -> Text {
        self.push(name, Arg::Detail(detail.into()))
    }

    /// Fills `{name}` with an age in words.
    pub fn arg_age(self, name: &'static str, age: chrono::Duration) -> Text {
        self.push(name, Arg::Age(age))
    }

    /// The catalogue key, for tests and logs that must not depend on the language.
    pub fn catalogue_key(&self) -> Option<&'static str> {
        match self {
            Text::Key { key, .. } => Some(key),
            Text::Raw(_) => None,
        }
    }

    /// The words in `lang`.
    pub fn say(&self, lang: Lang) -> String {
        match self {
            Text::Raw(s) => s.clone(),
            Text::Key { key, args } => {
                let mut text = tr(lang, key).to_owned();
                for (name, value) in args {
                    let value = match value {
                        Arg::Plain(s) => s.clone(),
                        Arg::Text(t) => t.say(lang),
                        Arg::Age(d) => crate::format::age(lang, *d),
                        Arg::Detail(d) if d.is_empty() => {
                            text = text.replace(&format!(" ({{{name}}})"), "");
                            String::new()
                        }
                        Arg::Detail(d) => d.clone(),
                    };
                    text = text.replace(&format!("{{{name}}}"), &value);
                }
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn said_in_the_language_asked_for() {
        let t = Text::key("source.bad_status")
            .arg("status", 503)
            .arg("message", "busy");
        assert_eq!(t.catalogue_key(), Some("source.bad_status"));
        let vi = t.say(Lang::Vi);
        let en = t.say(Lang::En);
        assert!(vi.contains("503") && en.contains("503"), "{vi} / {en}");
        assert_ne!(vi, en);
        let nested = Text::key("source.stale").arg_age("age", chrono::Duration::minutes(3));
        assert!(
            nested.say(Lang::En).contains('3'),
            "{}",
            nested.say(Lang::En)
        );
        assert_eq!(Text::raw("as written").say(Lang::Vi), "as written");
    }
}
