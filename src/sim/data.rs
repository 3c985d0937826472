//! The demo data set of the simulated IOC, read from `assets/demo/*.toml` (embedded in the
//! binary). Domain facts live in those files, never in Rust: units and departments, the indicator
//! catalogue with the parameters that generate its history, incident categories with their SLA,
//! rates and Vietnamese text templates, and the simulated cameras.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{Category, Department, GeoPoint, IncidentSource, Indicator, Priority, Unit};

/// `assets/demo/province.toml`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceFile {
    /// Where the data comes from and what is synthetic (shown nowhere, read by people).
    pub provenance: String,
    pub units: Vec<Unit>,
    pub departments: Vec<Department>,
    /// Place names per unit id, used to write incident texts ("đường Đồng Khởi", "ấp Phú Hòa").
    pub places: BTreeMap<String, Vec<String>>,
}

/// How district values relate to the province value of an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Districts add up to the province (revenue, exports, enterprises …).
    Sum,
    /// Districts scatter around the province value (growth rates, CPI, on-time rates …).
    Mean,
}

/// One indicator of the catalogue plus the parameters that generate its 24-month history.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
    pub unit_of_measure: String,
    pub sector: String,
    pub provider_id: String,
    pub period: crate::model::PeriodKind,
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub threshold: Option<crate::model::Threshold>,
    #[serde(default)]
    pub decimals: u8,
    /// Province value per period at the start of the history.
    pub base: f64,
    /// Relative change per year (0.05 = +5 %/year).
    #[serde(default)]
    pub trend_per_year: f64,
    /// Relative standard deviation of period-to-period noise.
    #[serde(default)]
    pub noise: f64,
    /// Relative amplitude of the yearly seasonal swing (monthly and quarterly indicators).
    #[serde(default)]
    pub seasonal: f64,
    /// Published province values that the history must show as they are: period → value
    /// (e.g. "2023" = 5.16).
    #[serde(default)]
    pub published: BTreeMap<String, f64>,
    /// Whether each district has its own series (else the province only).
    #[serde(default)]
    pub by_unit: bool,
    #[serde(default = "default_aggregate")]
    pub aggregate: Aggregate,
    /// Lower and upper bound of any value (e.g. 0..100 for a percentage).
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Probability that the provider misses a period's deadline.
    #[serde(default)]
    pub late_probability: f64,
}

fn default_aggregate() -> Aggregate {
    Aggregate::Mean
}

impl IndicatorSpec {
    pub fn indicator(&self) -> Indicator {
        Indicator {
            id: self.id.clone(),
            name_vi: self.name_vi.clone(),
            name_en: self.name_en.clone(),
            unit_of_measure: self.unit_of_measure.clone(),
            sector: self.sector.clone(),
            provider_id: self.provider_id.clone(),
            period: self.period,
            target: self.target,
            threshold: self.threshold,
            decimals: self.decimals,
        }
    }
}

/// A dated event noted on the series whose periods include it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventNote {
    pub date: chrono::NaiveDate,
    pub text_vi: String,
    pub text_en: String,
}

/// `assets/demo/indicators.toml`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsFile {
    pub provenance: String,
    #[serde(default)]
    pub events: Vec<EventNote>,
    pub published_note_vi: String,
    pub published_note_en: String,
    /// Sector ids with their names, in the order the regulation lists them.
    pub sectors: Vec<SectorSpec>,
    pub indicators: Vec<IndicatorSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectorSpec {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
}

/// Weights of the four priorities (they need not add up to 1).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityWeights {
    pub low: f64,
    pub normal: f64,
    pub high: f64,
    pub critical: f64,
}

impl PriorityWeights {
    pub fn pick(&self, u: f64) -> Priority {
        let total = self.low + self.normal + self.high + self.critical;
        let x = u * total;
        if x < self.low {
            Priority::Low
        } else if x < self.low + self.normal {
            Priority::Normal
        } else if x < self.low + self.normal + self.high {
            Priority::High
        } else {
            Priority::Critical
        }
    }
}

/// One incident category with what the simulator needs to generate its incidents.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySpec {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
    pub sla_hours: u32,
    /// Mean arrivals per day across the province (Poisson process).
    pub rate_per_day: f64,
    pub source: IncidentSource,
    pub priorities: PriorityWeights,
    /// Title templates; `{place}` and `{unit}` are filled in.
    pub titles: Vec<String>,
    /// Description templates; `{place}` and `{unit}` are filled in.
    pub descriptions: Vec<String>,
    /// Share of incidents that end rejected (duplicate, not within competence …).
    #[serde(default)]
    pub reject_rate: f64,
    /// Reasons used when rejecting.
    #[serde(default)]
    pub reject_reasons: Vec<String>,
    /// Department or unit ids this category is forwarded to ("{unit}" = the district itself).
    pub handlers: Vec<String>,
}

impl CategorySpec {
    pub fn category(&self) -> Category {
        Category {
            id: self.id.clone(),
            name_vi: self.name_vi.clone(),
            name_en: self.name_en.clone(),
            sla_hours: self.sla_hours,
            groups: Vec::new(),
        }
    }
}

/// `assets/demo/categories.toml`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoriesFile {
    pub provenance: String,
    pub categories: Vec<CategorySpec>,
    /// Names of the duty operators who act in generated histories.
    pub operators: Vec<String>,
    /// Who records the reception of an incident, by source.
    pub source_actors: BTreeMap<IncidentSource, String>,
}

/// One simulated camera.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSpec {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub unit_id: String,
    pub location: GeoPoint,
    #[serde(default)]
    pub direction_deg: Option<f32>,
    #[serde(default)]
    pub ptz: bool,
    /// "h264" (main and sub streams) or "mjpeg" (one stream).
    pub codec: String,
}

/// `assets/demo/cameras.toml`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CamerasFile {
    pub provenance: String,
    pub cameras: Vec<CameraSpec>,
}

/// The whole demo data set.
#[derive(Clone, Debug)]
pub struct DemoData {
    pub province: ProvinceFile,
    pub indicators: IndicatorsFile,
    pub categories: CategoriesFile,
    pub cameras: CamerasFile,
}

const PROVINCE: &str = include_str!("../../assets/demo/province.toml");
const INDICATORS: &str = include_str!("../../assets/demo/indicators.toml");
const CATEGORIES: &str = include_str!("../../assets/demo/categories.toml");
const CAMERAS: &str = include_str!("../../assets/demo/cameras.toml");

impl DemoData {
    /// The embedded data set. Errors name the file and position (tests keep them valid).
    pub fn embedded() -> Result<DemoData, String> {
        fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
            toml::from_str(text).map_err(|e| format!("assets/demo/{name}: {e}"))
        }
        let data = DemoData {
            province: parse("province.toml", PROVINCE)?,
            indicators: parse("indicators.toml", INDICATORS)?,
            categories: parse("categories.toml", CATEGORIES)?,
            cameras: parse("cameras.toml", CAMERAS)?,
        };
        data.check()?;
        Ok(data)
    }

    /// Cross-file consistency: every reference points at something that exists.
    pub fn check(&self) -> Result<(), String> {
        let unit = |id: &str| self.province.units.iter().any(|u| u.id == id);
        let dept = |id: &str| self.province.departments.iter().any(|d| d.id == id);
        let mut problems = Vec::new();
        for u in &self.province.units {
            if let Some(p) = &u.parent_id
                && !unit(p)
            {
                problems.push(format!("unit {} has unknown parent {p}", u.id));
            }
        }
        for id in self.province.places.keys() {
            if !unit(id) {
                problems.push(format!("places for unknown unit {id}"));
            }
        }
        for i in &self.indicators.indicators {
            if !dept(&i.provider_id) {
                problems.push(format!(
                    "indicator {} has unknown provider {}",
                    i.id, i.provider_id
                ));
            }
            if !self.indicators.sectors.iter().any(|s| s.id == i.sector) {
                problems.push(format!(
                    "indicator {} has unknown sector {}",
                    i.id, i.sector
                ));
            }
            for p in i.published.keys() {
                match crate::model::PeriodKey::parse(p) {
                    Some(k)
                        if k.kind() == i.period || k.kind() == crate::model::PeriodKind::Yearly => {
                    }
                    _ => {
                        problems.push(format!("indicator {} has a bad published period {p}", i.id))
                    }
                }
            }
        }
        for c in &self.categories.categories {
            if c.titles.is_empty() || c.descriptions.is_empty() {
                problems.push(format!("category {} needs titles and descriptions", c.id));
            }
            for h in &c.handlers {
                if h != "{unit}" && !dept(h) && !unit(h) {
                    problems.push(format!("category {} has unknown handler {h}", c.id));
                }
            }
        }
        if self.categories.operators.is_empty() {
            problems.push("categories.toml needs at least one operator".into());
        }
        for c in &self.categories.categories {
            if !self.categories.source_actors.contains_key(&c.source) {
                problems.push(format!(
                    "category {} has source {:?} without a source_actors entry",
                    c.id, c.source
                ));
            }
            if c.reject_rate > 0.0 && c.reject_reasons.is_empty() {
                problems.push(format!(
                    "category {} rejects but has no reject_reasons",
                    c.id
                ));
            }
        }
        for cam in &self.cameras.cameras {
            if !unit(&cam.unit_id) {
                problems.push(format!(
                    "camera {} has unknown unit {}",
                    cam.id, cam.unit_id
                ));
            }
            if cam.codec != "h264" && cam.codec != "mjpeg" {
                problems.push(format!(
                    "camera {} has codec {} (h264 or mjpeg)",
                    cam.id, cam.codec
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}
