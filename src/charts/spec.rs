//! What a chart tile asks for ([`ChartSpec`], from the layout's options): which indicators, which
//! units, which kind of chart, how many periods.

use schemars::JsonSchema;
use serde::Deserialize;

/// What kind of chart a tile draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChartType {
    /// Time series: one line per indicator and unit.
    Line,
    /// Ranking of units for one indicator at its latest period.
    Bars,
    /// Target versus actual (kế hoạch / thực hiện) for indicators with a target.
    Target,
    /// Composition by unit, stacked per period.
    Stacked,
}

/// Named groups of units, resolved against the backend's units (never ids in code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitGroup {
    /// The province the data describes (the unit with children and no parent).
    Top,
    /// Its children (districts, or communes).
    Children,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UnitSelection {
    Group(UnitGroup),
    Ids(Vec<String>),
}

impl Default for UnitSelection {
    fn default() -> Self {
        UnitSelection::Group(UnitGroup::Top)
    }
}

/// Options of a `chart` tile.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    /// line | bars | target | stacked
    #[serde(rename = "type")]
    pub chart: ChartType,
    /// Indicator ids of the backend's catalogue.
    pub indicators: Vec<String>,
    /// "top" (default), "children", or a list of unit ids.
    #[serde(default)]
    pub units: UnitSelection,
    /// How many of the latest periods to show (default 12).
    #[serde(default = "twelve")]
    pub periods: usize,
    /// Up to this period only (a briefing scene's period; not written in layout files).
    #[serde(skip)]
    #[schemars(skip)]
    pub period: Option<crate::model::PeriodKey>,
}

fn twelve() -> usize {
    12
}
