//! The IOC backend contract as Rust types (`docs/api/openapi.yaml` describes the same shapes).
//!
//! Shared by the client (`sources`), the simulator (`sim`) and the store. Unknown *fields* are
//! ignored so a newer backend can add fields; unknown *enum values* are errors, because a status
//! or level the console does not understand must not be shown as something else.

mod period;
pub mod sim;
pub mod wall_share;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use period::{PeriodKey, PeriodKind};

pub type Timestamp = DateTime<Utc>;

/// A point on the map (WGS 84).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn is_valid(&self) -> bool {
        (-90.0..=90.0).contains(&self.lat) && (-180.0..=180.0).contains(&self.lon)
    }
}

/// Administrative level of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    District,
    Commune,
}

/// An administrative unit, versioned: units are merged and abolished (in 2025 Bến Tre joined
/// Vĩnh Long and the district level was abolished), so each has a validity period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub level: UnitLevel,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub valid_from: NaiveDate,
    /// Last day the unit existed; `None` while it exists.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub location: Option<GeoPoint>,
}

impl Unit {
    pub fn is_historical(&self, today: NaiveDate) -> bool {
        self.valid_to.is_some_and(|to| to < today)
    }
}

/// A department (sở, ban, ngành) or other body that provides indicators or handles incidents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Department {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
}

/// Which way an indicator is good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// A line that, when crossed in the bad direction, makes an indicator alert.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub value: f64,
    pub direction: Direction,
}

/// One indicator of the catalogue (Bộ chỉ số).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
    /// Unit of measure as shown, e.g. "%", "tỷ đồng", "triệu USD".
    pub unit_of_measure: String,
    pub sector: String,
    pub provider_id: String,
    pub period: PeriodKind,
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub threshold: Option<Threshold>,
    #[serde(default)]
    pub decimals: u8,
}

/// A category of incidents, with its handling deadline (SLA).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
    /// Hours from reception to the due time.
    pub sla_hours: u32,
    /// Groups the source puts the category in (Open311 services' `group`/`groups`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// One observation of an indicator for a unit and period.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub period: PeriodKey,
    pub value: f64,
    pub updated_at: Timestamp,
    /// The observation's status as its source wrote it (SDMX `OBS_STATUS` "P" provisional,
    /// "E" estimated; JSON-stat "e", "p"), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ObsStatus>,
}

/// An observation's status code as its source wrote it, up to 4 bytes (kept in the point
/// without growing it).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObsStatus([u8; 4]);

impl ObsStatus {
    /// A status code; `None` when empty or longer than 4 bytes.
    pub fn new(code: &str) -> Option<Self> {
        let code = code.trim();
        if code.is_empty() || code.len() > 4 {
            return None;
        }
        let mut b = [0u8; 4];
        b[..code.len()].copy_from_slice(code.as_bytes());
        Some(ObsStatus(b))
    }

    pub fn as_str(&self) -> &str {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(4);
        std::str::from_utf8(&self.0[..len]).unwrap_or("")
    }

    /// Catalogue key of what the code means, for the codes of SDMX's `CL_OBS_STATUS` and the
    /// usual JSON-stat symbols; other codes are shown as written.
    pub fn meaning_key(&self) -> Option<&'static str> {
        Some(match self.as_str() {
            "P" | "p" => "obs_status.provisional",
            "E" | "e" => "obs_status.estimated",
            "F" | "f" => "obs_status.forecast",
            "B" | "b" => "obs_status.break",
            "I" | "i" => "obs_status.imputed",
            "M" | ".." | "-" => "obs_status.missing",
            "C" | "c" => "obs_status.confidential",
            _ => return None,
        })
    }
}

impl std::fmt::Debug for ObsStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObsStatus({:?})", self.as_str())
    }
}

impl Serialize for ObsStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ObsStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObsStatus::new(&s).ok_or_else(|| serde::de::Error::custom("a status code of 1 to 4 bytes"))
    }
}

/// A period a source reports with no value ("na", "..", an empty cell): shown as missing,
/// never as zero.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MissingObs {
    pub period: PeriodKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ObsStatus>,
}

/// A note on a period of a series (an official figure, a change of boundaries, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub period: PeriodKey,
    pub text_vi: String,
    pub text_en: String,
}

/// The observations of one indicator for one unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub indicator_id: String,
    pub unit_id: String,
    pub points: Vec<Point>,
    /// Notes the backend attaches to periods of this series.
    #[serde(default)]
    pub annotations: Vec<Annotation>,
    /// Periods the source reports without a value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingObs>,
    /// The configured source it came from (absent: the IOC backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// One new or corrected observation (SSE `observation` event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObservationEvent {
    pub indicator_id: String,
    pub unit_id: String,
    #[serde(flatten)]
    pub point: Point,
}

/// Where an incident came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSource {
    /// A citizen's field report (phản ánh hiện trường).
    Citizen,
    /// The security operations centre.
    Soc,
    /// A camera analytics alert.
    Camera,
    /// The police.
    Police,
    /// The hotline.
    Hotline,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Critical,
}

/// Workflow status (regulation Điều 5.4, 16): received → verified → forwarded → in progress →
/// resolved, or rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Received,
    Verified,
    Forwarded,
    InProgress,
    Resolved,
    Rejected,
}

impl Incident {
    /// The id the incident's source gave it ("638344" of "phan-anh:638344"), or its own id
    /// when it is the IOC backend's.
    pub fn remote_id(&self) -> &str {
        match &self.origin {
            Some(o) => self
                .id
                .strip_prefix(o.source.as_str())
                .and_then(|r| r.strip_prefix(':'))
                .unwrap_or(&self.id),
            None => &self.id,
        }
    }
}

impl IncidentStatus {
    pub fn is_closed(self) -> bool {
        matches!(self, IncidentStatus::Resolved | IncidentStatus::Rejected)
    }
}

/// What an operator or unit does to an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Receive,
    Verify,
    Forward,
    Start,
    Resolve,
    Reject,
    Note,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaLink {
    /// "image", "video" or "document".
    pub kind: String,
    pub url: String,
}

/// One step of an incident's history: who did what, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: ActionKind,
    pub status: IncidentStatus,
    #[serde(default)]
    pub unit_id: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub source: IncidentSource,
    pub category: String,
    pub priority: Priority,
    pub status: IncidentStatus,
    pub unit_id: String,
    pub location: GeoPoint,
    #[serde(default)]
    pub address: Option<String>,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub media: Vec<MediaLink>,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub updated_at: Timestamp,
    /// Increases with every change; actions may name the version they were decided on.
    pub version: u64,
    /// The unit the incident was forwarded to.
    #[serde(default)]
    pub assigned_unit_id: Option<String>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// The configured source it came from, when not the IOC backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// Where an incident from a source other than the IOC backend came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The source's id in the configuration (the incident's id is "{source}:{the source's own
    /// id}", see [`Incident::remote_id`]; its name is the store's, `Store::origins`).
    pub source: String,
    /// The status as the source wrote it ("open", "IN_PROGRESS", "investigating").
    #[serde(default)]
    pub raw_status: Option<String>,
    /// Whether operators' actions go back to the source (as updates); when not, the desk shows
    /// the incident read-only and says why.
    pub writable: bool,
}

/// What was done at a console, by whom and where (a row of the audit trail without its place in
/// the chain).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: Timestamp,
    /// The console (host name, or "demo").
    pub console: String,
    /// The person (their sign-in name; the desktop user where there is no sign-in).
    pub who: String,
    /// Their role on this console ("operator", "leader", "technician").
    pub role: String,
    /// What: "incident.verify", "layout.saved", "scene.recalled", "wall.pushed",
    /// "briefing.started", …
    pub action: String,
    /// What it was done to: an incident id, a layout file, a scene, a storyboard.
    pub subject: String,
    /// Anything else worth keeping (a note, a unit), short.
    pub detail: String,
}

/// One row of a console's audit trail, as the console keeps it and the backend receives it
/// (`POST /audit`, in order, with the chain, so the backend's copy anchors the console's file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub event: AuditEvent,
    pub prev: String,
    pub hash: String,
}

/// `POST /audit` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditBatch {
    pub rows: Vec<AuditRecord>,
}

/// `POST /incidents/{id}/actions` body (with an `Idempotency-Key` header).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub action: ActionKind,
    #[serde(default)]
    pub unit_id: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The version the operator saw; a different current version is a conflict (409).
    #[serde(default)]
    pub expected_version: Option<u64>,
    #[serde(default)]
    pub actor: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    Main,
    Sub,
}

/// One stream of a camera. Its `Debug` hides the URL's credentials (a view or a plan printed in
/// a log line or a panic must not carry a camera's password).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamProfile {
    pub kind: StreamKind,
    pub url: String,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub fps: f32,
}

impl std::fmt::Debug for StreamProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamProfile")
            .field("kind", &self.kind)
            .field("url", &crate::util::redact::redact(&self.url))
            .field("codec", &self.codec)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("fps", &self.fps)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    pub id: String,
    pub name: String,
    /// Who operates it, e.g. "Công an tỉnh".
    pub owner: String,
    #[serde(default)]
    pub unit_id: Option<String>,
    pub location: GeoPoint,
    /// Viewing direction in degrees from north, when known.
    #[serde(default)]
    pub direction_deg: Option<f32>,
    #[serde(default)]
    pub ptz: bool,
    pub profiles: Vec<StreamProfile>,
    /// Whether the backend currently sees the camera online.
    #[serde(default = "yes")]
    pub online: bool,
}

fn yes() -> bool {
    true
}

/// SSE `camera` event: a camera went dark or came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CameraStateEvent {
    pub id: String,
    pub online: bool,
    pub at: Timestamp,
}

/// Data-provider health (regulation Điều 5.2): when a department last updated an indicator and
/// when the next update is due.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderStatus {
    pub department_id: String,
    pub indicator_id: String,
    #[serde(default)]
    pub last_update: Option<Timestamp>,
    pub due_at: Timestamp,
}

/// A list response: the items and when the backend produced them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub as_of: Timestamp,
}

/// The one error shape of the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Machine code: `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid_transition`,
    /// `bad_request`, `internal`, `unavailable`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            error: ApiErrorBody {
                code: code.to_owned(),
                message: message.into(),
            },
        }
    }
}

/// One change announced on the SSE stream `/events`.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Incident(Box<Incident>),
    Observation(ObservationEvent),
    Camera(CameraStateEvent),
    Provider(ProviderStatus),
}

impl Event {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Incident(_) => "incident",
            Event::Observation(_) => "observation",
            Event::Camera(_) => "camera",
            Event::Provider(_) => "provider",
        }
    }

    pub fn to_json(&self) -> String {
        let r = match self {
            Event::Incident(i) => serde_json::to_string(i),
            Event::Observation(o) => serde_json::to_string(o),
            Event::Camera(c) => serde_json::to_string(c),
            Event::Provider(p) => serde_json::to_string(p),
        };
        r.unwrap_or_else(|_| "{}".into())
    }
}
