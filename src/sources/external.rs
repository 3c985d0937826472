//! Sources beside the IOC backend: Open311 servers for incidents and categories, SDMX and
//! JSON-stat (PX-Web) for indicator series. Each configured source runs its own task like the
//! backend's resources: its poll interval, jittered backoff (an HTTP 429's `Retry-After`
//! respected), body limit, timeouts, TLS with the CA bundle; its loads and failures reach the
//! store as [`Update::SourceLoaded`] / [`Update::SourceFailed`], which keeps the last good data
//! and says the state with the reason. The store, tiles, queue, map and report do not know
//! where data came from, except that each item says its source.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::client::{Client, ClientConfig, FetchError};
use super::messages::SourcePayload;
use super::open311::mapping::Open311Mapping;
use super::resource::Resource;
use super::stats::mapping::StatsMapping;
use crate::model::Timestamp;

/// The kinds of source the console reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Open311 GeoReport v2: incidents (requests) and categories (services).
    Open311,
    /// An SDMX-JSON data message (URL or file).
    SdmxJson,
    /// An SDMX-CSV file (URL or file).
    SdmxCsv,
    /// An SDMX-ML 2.1 data message (URL or file), generic or structure-specific.
    SdmxMl,
    /// A JSON-stat document (URL or file).
    Jsonstat,
    /// A PX-Web table (API v1, or v2 with `pxweb_version = 2`): its query is POSTed, the answer
    /// is JSON-stat.
    Pxweb,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Open311 => "open311",
            SourceKind::SdmxJson => "sdmx-json",
            SourceKind::SdmxCsv => "sdmx-csv",
            SourceKind::SdmxMl => "sdmx-ml",
            SourceKind::Jsonstat => "jsonstat",
            SourceKind::Pxweb => "pxweb",
        }
    }

    /// The resources a source of this kind can feed.
    pub fn feeds(self) -> &'static [Resource] {
        match self {
            SourceKind::Open311 => &[Resource::Incidents, Resource::Categories],
            _ => &[Resource::Series, Resource::Indicators],
        }
    }

    pub fn stats_format(self) -> Option<super::stats::StatsFormat> {
        use super::stats::StatsFormat::*;
        Some(match self {
            SourceKind::SdmxJson => SdmxJson,
            SourceKind::SdmxCsv => SdmxCsv,
            SourceKind::SdmxMl => SdmxMl,
            SourceKind::Jsonstat | SourceKind::Pxweb => Jsonstat,
            SourceKind::Open311 => return None,
        })
    }
}

/// Whether an Open311 server's request updates are read, and whether operators' actions are
/// sent back to it as updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Updates {
    /// No updates: incidents have no history beyond their reception; read-only on the desk.
    #[default]
    None,
    /// Read `servicerequestupdates` for history; read-only on the desk.
    Read,
    /// Read them, and send operators' actions back as updates (POST `servicerequestupdates`).
    ReadWrite,
}

/// Which syntax an Open311 server is asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Open311Format {
    /// JSON, and XML from the first answer that shows the server has no JSON.
    #[default]
    Auto,
    Json,
    Xml,
}

/// `[[source]]`: one source beside the IOC backend.
#[derive(Clone, Debug, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Short id (letters, digits, `-`, `_`): `[feeds]` names it, incident ids start with it.
    pub id: String,
    /// The name operators see ("Phản ánh hiện trường (Open311)").
    pub name: String,
    pub kind: SourceKind,
    /// The endpoint (Open311: the base, e.g. ".../open311/v2"; PX-Web: the table's URL), or a
    /// file (SDMX, JSON-stat), as a path or `file://` URL.
    pub url: String,
    /// Seconds between polls (default: 60 for Open311, 3600 for statistics).
    #[serde(default)]
    pub poll_seconds: Option<u64>,
    /// Seconds a request may take (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// Largest answer accepted, in MB (default 32).
    #[serde(default)]
    pub body_limit_mb: Option<u64>,
    /// File holding the API key (Open311 `api_key`; never written here, never logged).
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// Send the API key on reads too (some servers want it; default: only on updates).
    #[serde(default)]
    pub key_on_reads: bool,
    /// Open311: JSON, XML or auto (default).
    #[serde(default)]
    pub format: Open311Format,
    /// Open311: the `jurisdiction_id` parameter, when the server serves several.
    #[serde(default)]
    pub jurisdiction_id: Option<String>,
    /// Open311: ask for pages of this size (`page`/`page_size`; servers that send
    /// `X-Next-Page-URL` are followed whatever this is).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Open311: at most this many pages per poll (default 50).
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// Open311: request updates (`servicerequestupdates`): none (default), read or read-write.
    #[serde(default)]
    pub updates: Updates,
    /// Open311: how the server's words map to the console's.
    #[serde(default)]
    pub open311: Option<Open311Mapping>,
    /// PX-Web: the query POSTed (API v1: `{"query": […], "response": {"format": "json-stat2"}}`;
    /// API v2: `{"selection": […]}`).
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, String>>")]
    pub query: Option<serde_json::Value>,
    /// PX-Web: the API version (1, default, or 2).
    #[serde(default)]
    pub pxweb_version: Option<u8>,
    /// PX-Web: the most cells one query may ask for (default 100000; v2 servers say theirs in
    /// `/config`).
    #[serde(default)]
    pub max_cells: Option<u64>,
    /// Statistics: which series are which indicators for which units.
    #[serde(default)]
    pub stats: Option<StatsMapping>,
}

impl SourceConfig {
    pub fn poll(&self) -> Duration {
        Duration::from_secs(self.poll_seconds.unwrap_or(match self.kind {
            SourceKind::Open311 => 60,
            _ => 3600,
        }))
    }

    /// Data older than three polls is stale.
    pub fn stale_after(&self) -> Duration {
        self.poll() * 3
    }

    pub fn is_file(&self) -> bool {
        !(self.url.starts_with("http://") || self.url.starts_with("https://"))
    }

    pub fn file_path(&self) -> PathBuf {
        PathBuf::from(self.url.strip_prefix("file://").unwrap_or(&self.url))
    }

    pub fn client_config(&self, ca_bundle: Option<&PathBuf>) -> ClientConfig {
        let mut c = ClientConfig::new(self.url.clone());
        c.ca_bundle = ca_bundle.cloned();
        c.request_timeout = Duration::from_secs(self.timeout_seconds.unwrap_or(30));
        c.body_limit = (self.body_limit_mb.unwrap_or(32) as usize).saturating_mul(1024 * 1024);
        c
    }

    /// Checks what serde cannot; the message names the key.
    pub fn check(&self) -> Result<(), (String, String)> {
        let bad_id = self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if bad_id || self.id == BACKEND {
            return Err((
                "id".into(),
                format!(
                    "\"{}\": letters, digits, - and _ only, and not \"backend\"",
                    self.id
                ),
            ));
        }
        match self.kind {
            SourceKind::Open311 => {
                if self.is_file() {
                    return Err((
                        "url".into(),
                        "an Open311 source is a server: http:// or https://".into(),
                    ));
                }
                if self
                    .open311
                    .as_ref()
                    .is_none_or(|m| m.default_unit.is_empty())
                {
                    return Err((
                        "open311.default_unit".into(),
                        "the unit of requests whose agency has no mapping".into(),
                    ));
                }
            }
            SourceKind::Pxweb => {
                if self.is_file() {
                    return Err((
                        "url".into(),
                        "a PX-Web table is on a server: http:// or https://".into(),
                    ));
                }
                if self.query.is_none() {
                    return Err((
                        "query".into(),
                        "the query to POST (which values of each variable)".into(),
                    ));
                }
                if self.stats.is_none() {
                    return Err(("stats".into(), "which series are which indicators".into()));
                }
            }
            _ => {
                if self.stats.is_none() {
                    return Err(("stats".into(), "which series are which indicators".into()));
                }
            }
        }
        Ok(())
    }
}

/// The IOC backend's name in `[feeds]`.
pub const BACKEND: &str = "backend";

fn backend_only() -> Vec<String> {
    vec![BACKEND.to_owned()]
}

/// `[feeds]`: which sources give each resource ("backend" is the IOC backend).
#[derive(Clone, Debug, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Feeds {
    #[serde(default = "backend_only")]
    pub incidents: Vec<String>,
    #[serde(default = "backend_only")]
    pub categories: Vec<String>,
    /// Indicator series (the indicators' descriptions come with them).
    #[serde(default = "backend_only")]
    pub series: Vec<String>,
}

impl Default for Feeds {
    fn default() -> Self {
        Feeds {
            incidents: backend_only(),
            categories: backend_only(),
            series: backend_only(),
        }
    }
}

impl Feeds {
    /// Whether the IOC backend gives `r`.
    pub fn backend_feeds(&self, r: Resource) -> bool {
        let list = match r {
            Resource::Incidents => &self.incidents,
            Resource::Categories => &self.categories,
            Resource::Series | Resource::Indicators => &self.series,
            _ => return true,
        };
        list.iter().any(|s| s == BACKEND)
    }

    /// The resources source `id` gives.
    pub fn of(&self, id: &str) -> Vec<Resource> {
        let mut out = Vec::new();
        if self.incidents.iter().any(|s| s == id) {
            out.push(Resource::Incidents);
        }
        if self.categories.iter().any(|s| s == id) {
            out.push(Resource::Categories);
        }
        if self.series.iter().any(|s| s == id) {
            out.extend([Resource::Series, Resource::Indicators]);
        }
        out
    }

    /// Checks every name against the sources and what each kind can give.
    pub fn check(&self, sources: &[SourceConfig]) -> Result<(), (String, String)> {
        for (key, list, r) in [
            ("incidents", &self.incidents, Resource::Incidents),
            ("categories", &self.categories, Resource::Categories),
            ("series", &self.series, Resource::Series),
        ] {
            for id in list {
                if id == BACKEND {
                    continue;
                }
                let Some(s) = sources.iter().find(|s| &s.id == id) else {
                    return Err((
                        format!("feeds.{key}"),
                        format!("no [[source]] has id \"{id}\""),
                    ));
                };
                if !s.kind.feeds().contains(&r) {
                    return Err((
                        format!("feeds.{key}"),
                        format!("source \"{id}\" is {} and cannot give {key}", s.kind.name()),
                    ));
                }
            }
        }
        for s in sources {
            if self.of(&s.id).is_empty() {
                return Err((
                    "feeds".into(),
                    format!(
                        "source \"{}\" is configured but gives nothing: name it in [feeds]",
                        s.id
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Reads an API key file (trimmed; never logged).
pub fn read_key(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the API key file {}: {e}", path.display()))?;
    let k = text.trim();
    if k.is_empty() {
        return Err(format!("the API key file {} is empty", path.display()));
    }
    Ok(k.to_owned())
}

/// A running source: its configuration, client and key.
pub(super) struct Running {
    pub(super) cfg: SourceConfig,
    pub(super) client: Client,
    pub(super) key: Option<String>,
    pub(super) feeds: Vec<Resource>,
    /// Open311: the syntax settled on (auto turns to XML when the server has no JSON).
    pub(super) xml: std::sync::atomic::AtomicBool,
}

impl Running {
    pub(super) fn new(
        cfg: &SourceConfig,
        feeds: Vec<Resource>,
        ca_bundle: Option<&PathBuf>,
    ) -> Result<Running, String> {
        let key = match &cfg.api_key_file {
            Some(p) => Some(read_key(p)?),
            None => None,
        };
        let client = Client::new(&cfg.client_config(ca_bundle)).map_err(|e| e.to_string())?;
        Ok(Running {
            xml: (cfg.format == Open311Format::Xml).into(),
            cfg: cfg.clone(),
            client,
            key,
            feeds,
        })
    }

    /// An error's words with the API key taken out (reqwest's messages carry the URL, where the
    /// key stands percent-encoded).
    pub(super) fn redact(&self, e: FetchError) -> FetchError {
        let Some(key) = &self.key else { return e };
        let encoded = {
            let mut u = reqwest::Url::parse("http://x/").expect("a valid URL");
            u.query_pairs_mut().append_pair("k", key);
            u.query()
                .unwrap_or_default()
                .trim_start_matches("k=")
                .to_owned()
        };
        let clean = |s: String| {
            s.replace(key.as_str(), "***")
                .replace(encoded.as_str(), "***")
        };
        match e {
            FetchError::Unreachable(m) => FetchError::Unreachable(clean(m)),
            FetchError::Unauthorized(m) => FetchError::Unauthorized(clean(m)),
            FetchError::Forbidden(m) => FetchError::Forbidden(clean(m)),
            FetchError::Status {
                status,
                code,
                message,
            } => FetchError::Status {
                status,
                code,
                message: clean(message),
            },
            other => other,
        }
    }
}

/// What one poll gives.
pub(super) struct Polled {
    pub(super) payload: SourcePayload,
    pub(super) problems: Vec<String>,
    /// The server's own time stamp when it gives one.
    pub(super) as_of: Option<Timestamp>,
}

/// A failure, with how long the server asked us to wait (HTTP 429 `Retry-After`).
pub(super) struct Failure {
    pub(super) error: FetchError,
    pub(super) retry_after: Option<Duration>,
}

impl From<FetchError> for Failure {
    fn from(error: FetchError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// An error status with the first words of its body (a source's own error page or text).
pub(super) fn status_error(status: u16, body: &[u8]) -> FetchError {
    let snippet = String::from_utf8_lossy(&body[..body.len().min(200)])
        .trim()
        .to_owned();
    match status {
        401 => FetchError::Unauthorized(snippet),
        403 => FetchError::Forbidden(snippet),
        s => FetchError::Status {
            status: s,
            code: String::new(),
            message: snippet,
        },
    }
}

/// An HTTP 429: too many requests, to be tried again no sooner than the server's `Retry-After`
/// (ten seconds when it gives none).
pub(super) fn too_many(headers: &reqwest::header::HeaderMap) -> Failure {
    Failure {
        error: FetchError::Status {
            status: 429,
            code: String::new(),
            message: "too many requests".into(),
        },
        retry_after: retry_after(headers).or(Some(Duration::from_secs(10))),
    }
}

/// The `Retry-After` of an answer, in seconds (dates are not followed: a minute then).
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    Some(Duration::from_secs(
        v.trim().parse::<u64>().unwrap_or(60).min(3600),
    ))
}

/// Sources beside the backend and what each gives: the `[[source]]` and `[feeds]` of the
/// configuration.
#[derive(Clone, Debug, Default)]
pub struct External {
    pub sources: Vec<SourceConfig>,
    pub feeds: Feeds,
    pub ca_bundle: Option<PathBuf>,
}

/// Sources by id, for the outbox sender (which sends an action to the source of its incident).
pub(super) type Registry = HashMap<String, Arc<Running>>;
