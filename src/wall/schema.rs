//! The JSON Schema of layout files, generated from the Rust types (so it cannot drift from what
//! the parser accepts), with per-kind `options` added as `if kind == … then options: …` rules.

use serde_json::{Value, json};

use super::layout::LayoutFile;
use crate::charts::ChartSpec;
use crate::tiles::{
    TileKind, clock::ClockOptions, kpi::KpiOptions, providers::ProvidersOptions,
    sources::SourcesOptions, text::TextOptions,
};

/// The layout schema as pretty JSON.
pub fn layout_schema_json() -> String {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut option_refs = Vec::new();
    for kind in TileKind::ALL {
        let schema = match kind {
            TileKind::Clock => generator.subschema_for::<ClockOptions>(),
            TileKind::Text => generator.subschema_for::<TextOptions>(),
            TileKind::Sources => generator.subschema_for::<SourcesOptions>(),
            TileKind::Chart => generator.subschema_for::<ChartSpec>(),
            TileKind::Kpi => generator.subschema_for::<KpiOptions>(),
            TileKind::Providers => generator.subschema_for::<ProvidersOptions>(),
            TileKind::Incidents => {
                generator.subschema_for::<crate::tiles::incidents::IncidentsOptions>()
            }
            TileKind::Map => generator.subschema_for::<crate::tiles::map::MapOptions>(),
            TileKind::Camera => generator.subschema_for::<crate::tiles::camera::CameraOptions>(),
        };
        option_refs.push((kind, schema.to_value()));
    }
    let mut root = generator.into_root_schema_for::<LayoutFile>().to_value();
    let rules: Vec<Value> = option_refs
        .into_iter()
        .map(|(kind, options)| {
            json!({
                "if": { "properties": { "kind": { "const": kind.as_str() } }, "required": ["kind"] },
                "then": { "properties": { "options": options } }
            })
        })
        .collect();
    if let Some(tile) = root
        .pointer_mut("/$defs/TileFile")
        .and_then(Value::as_object_mut)
    {
        tile.insert("allOf".into(), Value::Array(rules));
    }
    serde_json::to_string_pretty(&root).unwrap_or_else(|_| "{}".into())
}

/// What a form field of a kind's option takes, read from the layout schema (the same types
/// `layout check` deserializes into).
#[derive(Clone, Debug, PartialEq)]
pub enum FieldType {
    Bool,
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Number,
    /// One of these strings.
    Choice(Vec<String>),
    Text,
    /// Anything else (lists, tables, a choice or a list): written as a TOML value.
    Toml,
}

/// One option of a tile kind, as the schema describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionField {
    pub key: String,
    pub ty: FieldType,
    pub required: bool,
    /// The value the kind takes when the option is not written, as TOML (`true`, `12`, `"auto"`).
    pub default: Option<String>,
}

/// The options a tile of `kind` takes, in the schema's order (alphabetical), required first.
/// Read from the schema once per kind (the form asks every frame).
pub fn option_fields(kind: TileKind) -> &'static [OptionField] {
    static FIELDS: std::sync::OnceLock<Vec<Vec<OptionField>>> = std::sync::OnceLock::new();
    let all = FIELDS.get_or_init(|| TileKind::ALL.into_iter().map(read_option_fields).collect());
    TileKind::ALL
        .iter()
        .position(|k| *k == kind)
        .and_then(|i| all.get(i))
        .map_or(&[], Vec::as_slice)
}

fn read_option_fields(kind: TileKind) -> Vec<OptionField> {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let root =
        SCHEMA.get_or_init(|| serde_json::from_str(&layout_schema_json()).unwrap_or(Value::Null));
    let defs = root.pointer("/$defs");
    let resolve = |v: &Value| -> Value {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            Some(name) => defs
                .and_then(|d| d.get(name))
                .cloned()
                .unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let Some(rule) = root
        .pointer("/$defs/TileFile/allOf")
        .and_then(Value::as_array)
        .and_then(|rules| {
            rules.iter().find(|r| {
                r.pointer("/if/properties/kind/const")
                    .and_then(Value::as_str)
                    == Some(kind.as_str())
            })
        })
    else {
        return Vec::new();
    };
    let options = resolve(
        rule.pointer("/then/properties/options")
            .unwrap_or(&Value::Null),
    );
    let required: Vec<&str> = options
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<OptionField> = options
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(key, p)| OptionField {
                    key: key.clone(),
                    ty: field_type(&resolve(p)),
                    required: required.contains(&key.as_str()),
                    default: p.get("default").and_then(toml_literal),
                })
                .collect()
        })
        .unwrap_or_default();
    fields.sort_by_key(|f| !f.required);
    fields
}

/// A JSON default as a TOML value (none for null, lists and tables).
fn toml_literal(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(toml_edit::Value::from(s.as_str()).to_string()),
        _ => None,
    }
}

fn field_type(p: &Value) -> FieldType {
    // A choice of strings: `enum`, or `oneOf` of consts and enums.
    let mut choices = Vec::new();
    let mut only_strings = true;
    let mut collect = |v: &Value| {
        if let Some(c) = v.get("const").and_then(Value::as_str) {
            choices.push(c.to_owned());
        } else if let Some(e) = v.get("enum").and_then(Value::as_array) {
            choices.extend(e.iter().filter_map(Value::as_str).map(str::to_owned));
        } else {
            only_strings = false;
        }
    };
    if let Some(one_of) = p.get("oneOf").and_then(Value::as_array) {
        one_of.iter().for_each(&mut collect);
        if only_strings && !choices.is_empty() {
            return FieldType::Choice(choices);
        }
        return FieldType::Toml;
    }
    if p.get("enum").is_some() {
        collect(p);
        return FieldType::Choice(choices);
    }
    let ty = match p.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        // `["integer", "null"]`: an optional value, left out for none.
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    match ty {
        Some("boolean") => FieldType::Bool,
        Some("integer") => FieldType::Integer {
            min: p.get("minimum").and_then(Value::as_i64),
            max: p.get("maximum").and_then(Value::as_i64),
        },
        Some("number") => FieldType::Number,
        Some("string") => FieldType::Text,
        _ => FieldType::Toml,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_every_kind_and_their_options() {
        let text = layout_schema_json();
        let v: Value = serde_json::from_str(&text).unwrap();
        let tile = v.pointer("/$defs/TileFile").expect("TileFile definition");
        assert_eq!(tile["additionalProperties"], json!(false));
        let rules = tile["allOf"].as_array().unwrap();
        assert_eq!(rules.len(), TileKind::ALL.len());
        assert!(text.contains("\"body\""), "text options are described");
        assert!(text.contains("\"seconds\""), "clock options are described");
        for kind in TileKind::ALL {
            assert!(text.contains(&format!("\"{}\"", kind.as_str())));
        }
    }

    #[test]
    fn the_form_reads_each_kinds_options_from_the_schema() {
        let camera = option_fields(TileKind::Camera);
        assert_eq!(
            camera[0],
            OptionField {
                key: "camera".into(),
                ty: FieldType::Text,
                required: true,
                default: None,
            }
        );
        let clock = option_fields(TileKind::Clock);
        assert_eq!(clock.len(), 2);
        assert!(
            clock
                .iter()
                .all(|f| f.ty == FieldType::Bool && f.default.as_deref() == Some("true"))
        );
        let importance = camera.iter().find(|f| f.key == "importance").unwrap();
        assert_eq!(
            importance.ty,
            FieldType::Integer {
                min: Some(0),
                max: Some(255)
            }
        );
        let profile = camera.iter().find(|f| f.key == "profile").unwrap();
        assert_eq!(
            profile.ty,
            FieldType::Choice(vec!["main".into(), "sub".into(), "auto".into()])
        );
        assert_eq!(
            camera.iter().find(|f| f.key == "show_info").unwrap().ty,
            FieldType::Bool
        );
        let chart = option_fields(TileKind::Chart);
        let ty = chart.iter().find(|f| f.key == "type").unwrap();
        assert!(ty.required);
        assert_eq!(
            ty.ty,
            FieldType::Choice(vec![
                "line".into(),
                "bars".into(),
                "target".into(),
                "stacked".into()
            ])
        );
        assert_eq!(
            chart.iter().find(|f| f.key == "indicators").unwrap().ty,
            FieldType::Toml
        );
        assert_eq!(
            chart.iter().find(|f| f.key == "units").unwrap().ty,
            FieldType::Toml
        );
        assert!(
            option_fields(TileKind::Map)
                .iter()
                .any(|f| f.key == "zoom" && f.ty == FieldType::Number)
        );
    }

    #[test]
    fn the_published_schema_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/layout.schema.json");
        let published = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            published.trim() == layout_schema_json().trim(),
            "docs/schema/layout.schema.json is out of date: run `cargo run -- layout schema > docs/schema/layout.schema.json`"
        );
    }
}
