//! Tile kinds: one file per kind, one small trait they share.
//!
//! A kind exists here only when it is built; a layout naming any other kind is a validation
//! error, never a placeholder tile. Every tile is drawn inside the shared [`frame`] (title,
//! status badge, age of its data, and words when there is nothing to show).

pub mod camera;
pub mod chart;
pub mod clock;
pub mod frame;
pub mod incidents;
pub mod kpi;
pub mod map;
pub mod providers;
pub mod sources;
pub mod text;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::context::{FrameCtx, TileState};
use crate::status::DataStatus;

/// The kinds of tile this console can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TileKind {
    /// Date and time in Vietnam's time zone.
    Clock,
    /// An announcement written in the layout.
    Text,
    /// The console's connection to the IOC backend, dataset by dataset.
    Sources,
    /// An indicator chart (time series, ranking, target vs actual, stacked).
    Chart,
    /// One indicator as a big number with its changes and a sparkline.
    Kpi,
    /// The data-provider board: who updated which indicator, who is overdue.
    Providers,
    /// The incident queue (read-only on the wall; operators act from the desk).
    Incidents,
    /// Incidents, cameras and units on a map.
    Map,
    /// One live camera.
    Camera,
}

impl TileKind {
    pub const ALL: [TileKind; 9] = [
        TileKind::Clock,
        TileKind::Text,
        TileKind::Sources,
        TileKind::Chart,
        TileKind::Kpi,
        TileKind::Providers,
        TileKind::Incidents,
        TileKind::Map,
        TileKind::Camera,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TileKind::Clock => "clock",
            TileKind::Text => "text",
            TileKind::Sources => "sources",
            TileKind::Chart => "chart",
            TileKind::Kpi => "kpi",
            TileKind::Providers => "providers",
            TileKind::Incidents => "incidents",
            TileKind::Map => "map",
            TileKind::Camera => "camera",
        }
    }

    /// The `source` values the kind accepts (empty: it takes no source).
    /// Whether a tile of this kind can fill its monitor (double click, Enter, a scene).
    pub fn enlargeable(self) -> bool {
        self == TileKind::Camera
    }

    pub fn sources(self) -> &'static [&'static str] {
        match self {
            TileKind::Clock | TileKind::Text => &[],
            TileKind::Sources
            | TileKind::Chart
            | TileKind::Kpi
            | TileKind::Providers
            | TileKind::Incidents
            | TileKind::Map
            | TileKind::Camera => &["backend"],
        }
    }
}

/// A kind's options, validated.
#[derive(Clone, Debug, PartialEq)]
pub enum TileOptions {
    Clock(clock::ClockOptions),
    Text(text::TextOptions),
    Sources(sources::SourcesOptions),
    Chart(crate::charts::ChartSpec),
    Kpi(kpi::KpiOptions),
    Providers(providers::ProvidersOptions),
    Incidents(incidents::IncidentsOptions),
    Map(map::MapOptions),
    Camera(camera::CameraOptions),
}

impl TileOptions {
    /// These options for one unit (a briefing's or the desk's scope): a chart shows the unit's
    /// series, a KPI its value, a queue and a map its incidents (the map looks at it). None for
    /// tiles that cannot follow a unit.
    pub fn scoped(&self, unit: &crate::model::Unit) -> Option<TileOptions> {
        let id = unit.id.clone();
        match self {
            TileOptions::Chart(spec) => Some(TileOptions::Chart(crate::charts::ChartSpec {
                units: crate::charts::UnitSelection::Ids(vec![id]),
                ..spec.clone()
            })),
            TileOptions::Kpi(o) => Some(TileOptions::Kpi(kpi::KpiOptions {
                unit: Some(id),
                ..o.clone()
            })),
            TileOptions::Incidents(o) => {
                let mut o = o.clone();
                o.filter.units = vec![id];
                Some(TileOptions::Incidents(o))
            }
            TileOptions::Map(o) => {
                let mut o = o.clone();
                o.unit = Some(id);
                if let Some(at) = unit.location.filter(|l| l.is_valid()) {
                    o.center = Some(at);
                    o.zoom = Some(SCOPE_ZOOM);
                    o.follow = map::Follow::Fixed;
                }
                Some(TileOptions::Map(o))
            }
            TileOptions::Clock(_)
            | TileOptions::Text(_)
            | TileOptions::Sources(_)
            | TileOptions::Providers(_)
            | TileOptions::Camera(_) => None,
        }
    }

    /// These options up to period `p` (a briefing scene's period): charts and KPIs; None for
    /// tiles without periods.
    pub fn in_period(&self, p: crate::model::PeriodKey) -> Option<TileOptions> {
        match self {
            TileOptions::Chart(spec) => Some(TileOptions::Chart(crate::charts::ChartSpec {
                period: Some(p),
                ..spec.clone()
            })),
            TileOptions::Kpi(o) => Some(TileOptions::Kpi(kpi::KpiOptions {
                period: Some(p),
                ..o.clone()
            })),
            _ => None,
        }
    }

    /// Whether the tile shows the whole province's data and cannot follow a unit (its title
    /// then says so under a scope). Providers report per department, not per unit.
    pub fn province_wide(&self) -> bool {
        matches!(self, TileOptions::Sources(_) | TileOptions::Providers(_))
    }
}

/// The zoom a map scoped to a unit shows it at (a district on a 1080-line monitor).
pub const SCOPE_ZOOM: f64 = 10.5;

/// A problem with a tile's options: the key it concerns (when known), the message and a hint.
#[derive(Debug)]
pub struct OptionsProblem {
    pub key: Option<String>,
    pub message: String,
    /// Catalogue key of the hint.
    pub hint_key: &'static str,
}

impl TileOptions {
    pub fn kind(&self) -> TileKind {
        match self {
            TileOptions::Clock(_) => TileKind::Clock,
            TileOptions::Text(_) => TileKind::Text,
            TileOptions::Sources(_) => TileKind::Sources,
            TileOptions::Chart(_) => TileKind::Chart,
            TileOptions::Kpi(_) => TileKind::Kpi,
            TileOptions::Providers(_) => TileKind::Providers,
            TileOptions::Incidents(_) => TileKind::Incidents,
            TileOptions::Map(_) => TileKind::Map,
            TileOptions::Camera(_) => TileKind::Camera,
        }
    }

    /// Validates the `[tiles.options]` table of a tile of `kind`.
    pub fn from_table(kind: TileKind, table: Option<&toml::Table>) -> Result<Self, OptionsProblem> {
        let table = table.cloned().unwrap_or_default();
        match kind {
            TileKind::Clock => deserialize_options(table).map(TileOptions::Clock),
            TileKind::Text => deserialize_options(table).map(TileOptions::Text),
            TileKind::Sources => deserialize_options(table).map(TileOptions::Sources),
            TileKind::Chart => deserialize_options(table).map(TileOptions::Chart),
            TileKind::Kpi => deserialize_options(table).map(TileOptions::Kpi),
            TileKind::Providers => deserialize_options(table).map(TileOptions::Providers),
            TileKind::Incidents => deserialize_options(table).map(TileOptions::Incidents),
            TileKind::Map => {
                let o: map::MapOptions = deserialize_options(table)?;
                o.validate().map_err(|(key, message)| OptionsProblem {
                    key: Some(key.to_owned()),
                    message,
                    hint_key: "layout.err.options_hint",
                })?;
                Ok(TileOptions::Map(o))
            }
            TileKind::Camera => {
                let o: camera::CameraOptions = deserialize_options(table)?;
                o.validate().map_err(|(key, message)| OptionsProblem {
                    key: Some(key.to_owned()),
                    message,
                    hint_key: "layout.err.options_hint",
                })?;
                Ok(TileOptions::Camera(o))
            }
        }
    }

    /// Builds the tile's view.
    pub fn view(&self) -> &dyn TileView {
        match self {
            TileOptions::Clock(o) => o,
            TileOptions::Text(o) => o,
            TileOptions::Sources(o) => o,
            TileOptions::Chart(o) => o,
            TileOptions::Kpi(o) => o,
            TileOptions::Providers(o) => o,
            TileOptions::Incidents(o) => o,
            TileOptions::Map(o) => o,
            TileOptions::Camera(o) => o,
        }
    }
}

fn deserialize_options<T: serde::de::DeserializeOwned>(
    table: toml::Table,
) -> Result<T, OptionsProblem> {
    T::deserialize(toml::Value::Table(table)).map_err(|e| {
        let message = e.message().trim().to_owned();
        // serde names the key in backticks for unknown and missing fields.
        let key = message
            .split('`')
            .nth(1)
            .filter(|_| message.starts_with("unknown field"))
            .map(str::to_owned);
        let hint_key = if message.starts_with("unknown field") {
            "layout.err.unknown_key_hint"
        } else if message.starts_with("missing field") {
            "layout.err.missing_key_hint"
        } else {
            "layout.err.options_hint"
        };
        OptionsProblem {
            key,
            message,
            hint_key,
        }
    })
}

/// What a tile kind does: report the state of its data and draw its body.
pub trait TileView {
    /// The state and age of what the tile shows.
    fn status(&self, cx: &FrameCtx) -> DataStatus;
    /// Draws the body into `rect`. `scale` is points per monitor pixel (see `ui::theme`).
    /// `state` is the tile's own between frames in this viewport, kept by the wall.
    fn paint_body(
        &self,
        ui: &mut egui::Ui,
        rect: egui::Rect,
        scale: f32,
        cx: &FrameCtx,
        state: &mut TileState,
    );

    /// Whether the frame greys the body when the data is not live. A tile whose body *is* the
    /// state of its sources (the `sources` tile) keeps it readable.
    fn greys_old_data(&self) -> bool {
        true
    }

    /// Whether the body draws its own states (connecting, no picture, errors) and is drawn even
    /// without data: the frame then only gives the title, badge and border.
    fn paints_own_state(&self, _cx: &FrameCtx) -> bool {
        false
    }

    /// A title to show instead of the layout's (a camera tile showing a camera sent to it).
    fn title(&self, _cx: &FrameCtx) -> Option<String> {
        None
    }

    /// The tile is hidden for a while (another tile fills its monitor): keep what it needs
    /// ready, as if drawn at `pixels`. Most kinds need nothing.
    fn keep_warm(&self, _cx: &FrameCtx, _pixels: [f32; 2]) {}
}
