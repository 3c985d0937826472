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
