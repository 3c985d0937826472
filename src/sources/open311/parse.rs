//! Open311 GeoReport v2 documents, JSON and XML, read into flat records of strings: every id
//! stays a string whatever its JSON type ("001" keeps its zeros, Toronto's 12-digit ids do not
//! overflow), coordinates stay text until mapped (numbers, numeric strings, empty, missing), and
//! a document that is an error list (`[{code, description}]`, `<errors>`) is said as one.
//! JSON roots may be bare arrays (the spec) or wrapped (`{"service_requests": […]}`,
//! FixMyStreet). XML fields may hold elements (`<agency_responsible><recipient>…`), groups may
//! be `<groups><group>`, and foreign elements are ignored.

use std::fmt;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::sources::stats::{Lines, Unusable, line_col, refuse_html, text as body_text};
use crate::sources::xml::{local, reference};

/// One record of any Open311 list: the union of the fields of services, requests, updates and
/// errors (each kind uses its own).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Record {
    // requests
    #[serde(deserialize_with = "lenient")]
    pub service_request_id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub token: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub status_notes: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub service_name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub service_code: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub agency_responsible: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub requested_datetime: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub updated_datetime: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub expected_datetime: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub address: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub lat: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub long: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub media_url: Option<String>,
    // services
    #[serde(deserialize_with = "lenient")]
    pub group: Option<String>,
    #[serde(deserialize_with = "lenient_list")]
    pub groups: Vec<String>,
    #[serde(deserialize_with = "lenient")]
    pub keywords: Option<String>,
    // updates (FixMyStreet `servicerequestupdates`)
    #[serde(deserialize_with = "lenient")]
    pub update_id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub external_status_code: Option<String>,
    // errors
    #[serde(deserialize_with = "lenient")]
    pub code: Option<String>,
    /// Where the record starts in the input ("[3]", "line 12, column 3").
    #[serde(skip)]
    pub place: String,
}

impl Record {
    fn set(&mut self, field: &str, value: String) {
        let v = Some(value);
        match field {
            "service_request_id" => self.service_request_id = v,
            "token" => self.token = v,
            "status" => self.status = v,
            "status_notes" => self.status_notes = v,
            "service_name" => self.service_name = v,
            "service_code" => self.service_code = v,
            "description" => self.description = v,
            "agency_responsible" => self.agency_responsible = v,
            "requested_datetime" => self.requested_datetime = v,
            "updated_datetime" => self.updated_datetime = v,
            "expected_datetime" => self.expected_datetime = v,
            "address" => self.address = v,
            "lat" => self.lat = v,
            "long" => self.long = v,
            "media_url" => self.media_url = v,
            "group" => self.group = v,
            "keywords" => self.keywords = v,
            "update_id" => self.update_id = v,
            "external_status_code" => self.external_status_code = v,
            "code" => self.code = v,
            _ => {}
        }
    }

    fn is_error(&self) -> bool {
        self.code.is_some()
            && self.service_request_id.is_none()
            && self.token.is_none()
            && self.service_code.is_none()
            && self.update_id.is_none()
    }

    /// Groups of a service, however the server wrote them.
    pub fn all_groups(&self) -> Vec<String> {
        let mut g = self.groups.clone();
        if let Some(one) = &self.group
            && !g.contains(one)
        {
            g.insert(0, one.clone());
        }
        g
    }
}

/// A field's text, or `None` when empty: strings, numbers and booleans are all text here.
fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("text, a number or null")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            let v = v.trim();
            Ok((!v.is_empty()).then(|| v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            if v.trim().len() == v.len() {
                Ok((!v.is_empty()).then_some(v))
            } else {
                let t = v.trim();
                Ok((!t.is_empty()).then(|| t.to_owned()))
            }
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            // A list where one value was expected (several media URLs): the first.
            let mut first = None;
            while let Some(v) = seq.next_element::<Lenient>()? {
                if first.is_none() {
                    first = v.0;
                }
            }
            Ok(first)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

struct Lenient(Option<String>);
impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d).map(Lenient)
    }
}

fn lenient_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum L {
        Many(Vec<Lenient>),
        One(Lenient),
    }
    Ok(match L::deserialize(d)? {
        L::Many(v) => v.into_iter().filter_map(|l| l.0).collect(),
        L::One(l) => l.0.into_iter().collect(),
    })
}

/// A GeoReport error: its code and description.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerError {
    pub code: String,
    pub description: String,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.description)
    }
}

/// What a document holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    Records(Vec<Record>),
    Errors(Vec<ServerError>),
    /// A service discovery document: where the endpoints are.
    Discovery(Vec<Endpoint>),
}

/// One endpoint of a discovery document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoint {
    pub specification: String,
    pub url: String,
    pub kind: String,
    pub formats: Vec<String>,
}

/// A discovery document's endpoints (`{"endpoints": […]}` or `<discovery>`), if it is one.
fn discovery(text: &str) -> Option<Vec<Endpoint>> {
    let t = text.trim_start();
    if t.starts_with('{') {
        if !t.contains("\"endpoints\"") {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(t).ok()?;
        let list = v.get("endpoints")?.as_array()?;
        let s = |e: &serde_json::Value, k: &str| {
            e.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        return Some(
            list.iter()
                .map(|e| Endpoint {
                    specification: s(e, "specification"),
                    url: s(e, "url"),
                    kind: s(e, "type"),
                    formats: e
                        .get("formats")
                        .and_then(|f| f.as_array())
                        .map(|f| {
                            f.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect(),
        );
    }
    if !t.starts_with('<') {
        return None;
    }
    let mut reader = Reader::from_str(t);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = local(&e);
                if path.is_empty() && name != "discovery" {
                    return None;
                }
                if name == "endpoint" {
                    out.push(Endpoint::default());
                }
                path.push(name);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(x) => {
                let v = x
                    .xml10_content()
                    .map(|c| c.trim().to_owned())
                    .unwrap_or_default();
                if let (Some(ep), Some(field)) = (out.last_mut(), path.last()) {
                    match field.as_str() {
                        "specification" => ep.specification = v,
                        "url" => ep.url = v,
                        "type" => ep.kind = v,
                        "format" => ep.formats.push(v),
                        _ => {}
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(out)
}

/// Which syntax a body is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Xml,
}

/// The syntax of a body by its first character.
pub fn sniff(text: &str) -> Option<Syntax> {
    match text.trim_start().as_bytes().first()? {
        b'[' | b'{' => Some(Syntax::Json),
        b'<' => Some(Syntax::Xml),
        _ => None,
    }
}

/// Reads a GeoReport list document (services, requests, updates or errors) in either syntax.
pub fn read(bytes: &[u8]) -> Result<Document, Unusable> {
    let mut records = Vec::new();
    Ok(match read_each(bytes, &mut |r| records.push(r))? {
        Read::Records(_) => Document::Records(records),
        Read::Errors(e) => Document::Errors(e),
        Read::Discovery(e) => Document::Discovery(e),
    })
}

/// What [`read_each`] found: how many records it gave, or an error list, or a discovery
/// document.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    Records(usize),
    Errors(Vec<ServerError>),
    Discovery(Vec<Endpoint>),
}

/// Reads a document giving each record to `each` as soon as it is read (a hundred thousand
/// requests are never all held as records). A list whose first record is an error is an error
/// list.
pub fn read_each(bytes: &[u8], each: &mut dyn FnMut(Record)) -> Result<Read, Unusable> {
    let text = body_text(bytes)?;
    refuse_html(text)?;
    if let Some(endpoints) = discovery(text) {
        return Ok(Read::Discovery(endpoints));
    }
    let mut sink = Sink {
        each,
        errors: None,
        count: 0,
    };
    match sniff(text) {
        Some(Syntax::Json) => json(text, &mut sink)?,
        Some(Syntax::Xml) => xml(text, &mut sink)?,
        None => {
            let first: String = text.chars().take(80).collect();
            return Err(Unusable::new(
                "line 1",
                format!("neither JSON nor XML: \"{}\"", first.trim()),
            ));
        }
    }
    Ok(match sink.errors {
        Some(e) => Read::Errors(e),
        None => Read::Records(sink.count),
    })
}

/// Where the records go.
struct Sink<'a> {
    each: &'a mut dyn FnMut(Record),
    errors: Option<Vec<ServerError>>,
    count: usize,
}

impl Sink<'_> {
    fn push(&mut self, r: Record) {
        if self.count == 0 && self.errors.is_none() && r.is_error() {
            self.errors = Some(Vec::new());
        }
        if let Some(errors) = self.errors.as_mut() {
            if r.is_error() {
                errors.push(ServerError {
                    code: r.code.unwrap_or_default(),
                    description: r.description.unwrap_or_default(),
                });
            }
            return;
        }
        self.count += 1;
        (self.each)(r);
    }
}

const WRAPPERS: &[&str] = &[
    "service_requests",
    "requests",
    "services",
    "service_requests_updates",
    "request_updates",
    "errors",
];

fn json(text: &str, sink: &mut Sink<'_>) -> Result<(), Unusable> {
    use serde::de::DeserializeSeed;
    struct Root<'a, 'b>(&'a mut Sink<'b>);
    impl<'de> DeserializeSeed<'de> for Root<'_, '_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Root<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of records, or an object wrapping one")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(mut r) = seq.next_element::<Record>()? {
                r.place = format!("[{}]", self.0.count);
                self.0.push(r);
            }
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            // A wrapped list (`{"service_requests": […]}`), or one record alone.
            let mut wrapped = false;
            let mut one = Record::default();
            let mut fields = 0;
            while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if WRAPPERS.contains(&k.as_ref()) && !wrapped {
                    wrapped = true;
                    map.next_value_seed(Root(&mut *self.0))?;
                } else if let Some(v) = map.next_value::<Lenient>()?.0 {
                    let before = one.clone();
                    one.set(&k, v);
                    fields += usize::from(one != before);
                }
            }
            if wrapped {
                Ok(())
            } else if fields > 0 {
                one.place = "[0]".into();
                self.0.push(one);
                Ok(())
            } else {
                Err(serde::de::Error::custom(
                    "an object without service_requests, requests, services or errors",
                ))
            }
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    Root(sink)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            let m = e.to_string();
            let m = m
                .rfind(" at line ")
                .map_or(m.clone(), |i| m[..i].to_owned());
            Unusable::new(format!("line {}, column {}", e.line(), e.column()), m)
        })
}

/// Text with its runs of white space made one space and its ends trimmed; borrowed when it
/// already is.
fn squeeze(v: &str) -> std::borrow::Cow<'_, str> {
    let t = v.trim();
    let tidy = !t
        .as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_whitespace() && (w[1].is_ascii_whitespace() || w[0] != b' '));
    if tidy {
        std::borrow::Cow::Borrowed(t)
    } else {
        std::borrow::Cow::Owned(t.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

fn xml(text: &str, sink: &mut Sink<'_>) -> Result<(), Unusable> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut lines = Lines::new(text);
    let mut depth = 0usize;
    let mut current: Option<Record> = None;
    let mut field: Option<String> = None;
    let mut value = String::new();
    // A record holding a list of its own (`<groups><group>`): the list's name.
    let mut list = false;
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| {
            Unusable::new(
                line_col(text, reader.error_position() as usize),
                format!("not well-formed XML: {e}"),
            )
        })?;
        match ev {
            Event::Start(e) => {
                depth += 1;
                match depth {
                    2 => {
                        current = Some(Record {
                            place: lines.place(pos),
                            ..Default::default()
                        })
                    }
                    3 => {
                        let name = e.local_name();
                        let name = std::str::from_utf8(name.as_ref()).unwrap_or_default();
                        match field.as_mut() {
                            Some(f) => {
                                f.clear();
                                f.push_str(name);
                            }
                            None => field = Some(name.to_owned()),
                        }
                        value.clear();
                    }
                    4 if field.as_deref() == Some("groups") => list = true,
                    _ => {}
                }
            }
            Event::Empty(_) if depth == 1 => sink.push(Record {
                place: lines.place(pos),
                ..Default::default()
            }),
            Event::End(_) => {
                match depth {
                    2 => {
                        if let Some(r) = current.take() {
                            sink.push(r);
                        }
                    }
                    3 => {
                        if let (Some(r), Some(f)) = (current.as_mut(), field.as_deref()) {
                            let v = squeeze(&value);
                            if f != "groups" && !v.is_empty() {
                                r.set(f, v.into_owned());
                            }
                        }
                        value.clear();
                    }
                    4 if list => {
                        if let Some(r) = current.as_mut() {
                            let v = squeeze(&value);
                            if !v.is_empty() {
                                r.groups.push(v.into_owned());
                            }
                        }
                        value.clear();
                        list = false;
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if depth >= 3 => {
                if let Ok(s) = t.xml10_content() {
                    if !value.is_empty() && depth > 3 {
                        value.push(' ');
                    }
                    value.push_str(&s);
                }
            }
            Event::CData(t) if depth >= 3 => {
                value.push_str(&String::from_utf8_lossy(&t));
            }
            Event::GeneralRef(r) if depth >= 3 => value.push_str(&reference(&r)),
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(Unusable::new(
            line_col(text, text.len()),
            "the XML ends inside an element",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_strings_in_json_whatever_their_type() {
        let doc = r#"[{"service_request_id":638344,"status":"open","service_code":"001","lat":37.76,"long":"-122.41","requested_datetime":"2010-04-14T06:37:38-08:00"},
                      {"service_request_id":"14-01100669","status":"closed","lat":"","service_code":"HIGH_HI88"},
                      {"service_request_id":123456789012,"status":"open","media_url":["a.jpg","b.jpg"]}]"#;
        let Document::Records(r) = read(doc.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(r[0].service_request_id.as_deref(), Some("638344"));
        assert_eq!(r[0].service_code.as_deref(), Some("001"));
        assert_eq!(r[0].lat.as_deref(), Some("37.76"));
        assert_eq!(r[1].lat, None);
        assert_eq!(r[2].service_request_id.as_deref(), Some("123456789012"));
        assert_eq!(r[2].media_url.as_deref(), Some("a.jpg"));
        assert_eq!(r[1].place, "[1]");
    }

    #[test]
    fn wrapped_json_and_errors() {
        let doc = r#"{"service_requests":[{"service_request_id":"1","status":"open"}]}"#;
        let Document::Records(r) = read(doc.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(r.len(), 1);
        let doc =
            r#"[{"code":403,"description":"Invalid api_key"},{"code":404,"description":"x"}]"#;
        assert_eq!(
            read(doc.as_bytes()).unwrap(),
            Document::Errors(vec![
                ServerError {
                    code: "403".into(),
                    description: "Invalid api_key".into()
                },
                ServerError {
                    code: "404".into(),
                    description: "x".into()
                }
            ])
        );
    }

    #[test]
    fn xml_with_nested_fields_groups_and_entities() {
        let doc = r#"<?xml version="1.0" encoding="utf-8"?>
<service_requests xmlns:foo="urn:x" is_array="true">
  <request>
    <service_request_id> 638344 </service_request_id>
    <status>open</status>
    <agency_responsible><recipient>Sở Xây dựng</recipient></agency_responsible>
    <description>Ổ gà &amp; nước đọng &lt;đường 3/2&gt;</description>
    <updated_datetime/>
    <non_public>1</non_public>
    <lat>10.3</lat><long></long>
  </request>
  <request><service_request_id>2</service_request_id></request>
</service_requests>"#;
        let Document::Records(r) = read(doc.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].service_request_id.as_deref(), Some("638344"));
        assert_eq!(r[0].agency_responsible.as_deref(), Some("Sở Xây dựng"));
        assert_eq!(
            r[0].description.as_deref(),
            Some("Ổ gà & nước đọng <đường 3/2>")
        );
        assert_eq!(r[0].updated_datetime, None);
        assert_eq!(r[0].long, None);
        assert_eq!(r[0].place, "line 3, column 3");
        let services = r#"<services><service><service_code>A</service_code><groups><group>Roads</group><group>Lights</group></groups></service></services>"#;
        let Document::Records(s) = read(services.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(s[0].all_groups(), ["Roads", "Lights"]);
        let errors = "<errors><error><code>403</code><description>Invalid api_key</description></error></errors>";
        assert!(
            matches!(read(errors.as_bytes()).unwrap(), Document::Errors(e) if e[0].code == "403")
        );
    }

    #[test]
    fn bad_bodies() {
        for (body, words) in [
            (
                &b"<service_requests><request><status>open</request>"[..],
                "XML",
            ),
            (b"Internal error", "neither JSON nor XML"),
            (b"<!DOCTYPE html><html>login</html>", "HTML"),
            (b"{\"foo\": 1}", "without service_requests"),
            (b"[{\"service_request_id\": }]", ""),
            (b"", "empty"),
        ] {
            let e = read(body).unwrap_err();
            assert!(e.to_string().contains(words), "{e}");
        }
    }
}
