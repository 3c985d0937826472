//! Small helpers over quick-xml shared by the XML readers (SDMX-ML, Open311): elements matched by
//! local name whatever prefix a server chose, attribute values unescaped, text with entity
//! references resolved.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart};

/// An element's local name ("Series" for `<message:Series>` or `<m:Series>`).
pub fn local(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

/// The element's attributes: (local name, unescaped value); a malformed attribute is skipped.
pub fn attrs(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .filter(|a| {
            // Namespace declarations are not data.
            let k = a.key.as_ref();
            !(k == b"xmlns" || k.starts_with(b"xmlns:"))
        })
        .map(|a| {
            let k = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(Cow::into_owned)
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
            (k, v)
        })
        .collect()
}

/// The one attribute named `name` (local name).
pub fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    attrs(e)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The text an entity reference stands for (`&amp;`, `&#39;`, `&#x1F600;`); unknown entities
/// are kept as written.
pub fn reference(r: &BytesRef<'_>) -> String {
    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
    let ch = match name.as_str() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
            .ok()
            .and_then(char::from_u32),
        n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
        _ => None,
    };
    ch.map_or_else(|| format!("&{name};"), String::from)
}
