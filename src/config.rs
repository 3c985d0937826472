//! The console's configuration file (TOML): backend URL, token file, language, default layout,
//! role. Found with `--config PATH`, else at `$XDG_CONFIG_HOME/ioc-console/config.toml`, else at
//! `/etc/ioc-console/config.toml` (the installed package's); none of them means defaults. A bad file is an error that names the key and says how to fix it. The token
//! itself never lives here (nor in layouts or logs): only the path of the file that holds it.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::i18n::Lang;
use crate::role::Role;
use crate::text::Text;
use crate::wall::diag::Diagnostic;

/// The configuration file's contents.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the IOC backend, e.g. "https://ioc.example.gov.vn/api/v1".
    #[serde(default)]
    pub backend_url: Option<String>,
    /// File holding the bearer token (the token is never written in this file).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Extra CA bundle (PEM) to trust, e.g. the government PKI root.
    #[serde(default)]
    pub ca_bundle: Option<PathBuf>,
    /// Language of the UI: "vi" (default) or "en".
    #[serde(default)]
    pub language: Lang,
    /// Layout shown when none is given on the command line.
    #[serde(default)]
    pub default_layout: Option<PathBuf>,
    /// Who uses this console: "operator" (default), "leader" or "technician".
    #[serde(default)]
    pub role: Role,
    /// Basemaps and GeoJSON layers of the map tiles.
    #[serde(default)]
    pub map: crate::map::MapConfig,
    /// Camera streams: decode budget, RTSP jitter buffer and transport, preferred decoders.
    #[serde(default)]
    pub video: crate::video::config::VideoConfig,
    /// Drawing that spares the processor: "auto" (default: on when the picture is drawn by the
    /// processor, without a GPU), "on" or "off".
    #[serde(default)]
    pub low_power: LowPower,
    /// Consoles in step through NATS: the wall shared by several PCs and desks (absent: this
    /// console works alone).
    #[serde(default)]
    pub sync: Option<crate::sync::SyncConfig>,
    /// The wall PC's kiosk (`run --kiosk`): the technician's PIN for leaving it.
    #[serde(default)]
    pub kiosk: KioskConfig,
    /// Health metrics for Prometheus or Zabbix, in the Prometheus text format (absent: no
    /// endpoint).
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    /// Sources beside the IOC backend (`[[source]]`): Open311 servers, SDMX and JSON-stat files
    /// or endpoints, PX-Web tables.
    #[serde(default)]
    pub source: Vec<crate::sources::external::SourceConfig>,
    /// Which sources give incidents, categories and indicator series ("backend" is the IOC
    /// backend, the default for each).
    #[serde(default)]
    pub feeds: crate::sources::external::Feeds,
    /// Sign-in through the province's identity server (OpenID Connect); absent: no sign-in,
    /// `role` says who uses the console, and on a real backend it is read-only.
    #[serde(default)]
    pub identity: Option<crate::auth::IdentityConfig>,
}

impl Config {
    /// The sources beside the backend, as the background tasks take them.
    pub fn external(&self) -> crate::sources::external::External {
        crate::sources::external::External {
            sources: self.source.clone(),
            feeds: self.feeds.clone(),
            ca_bundle: self.ca_bundle.clone(),
        }
    }
}

/// `[metrics]`
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address to serve `GET /metrics` on (default "127.0.0.1:9464": loopback, for a
    /// Prometheus or Zabbix agent on the same PC; another address only when the IT team's
    /// monitoring scrapes over the network).
    #[serde(default = "MetricsConfig::default_listen")]
    #[schemars(with = "String")]
    pub listen: std::net::SocketAddr,
}

impl MetricsConfig {
    fn default_listen() -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], 9464))
    }
}

/// `[kiosk]`
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KioskConfig {
    /// The technician's PIN as an Argon2id hash in the PHC format (`ioc-console kiosk hash-pin`
    /// makes one); never the PIN itself. Absent: a kiosk cannot be left from the wall (only by
    /// stopping its service).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub pin_hash: Option<crate::util::pin::PinHash>,
}

/// Whether the console draws as little as possible: clocks to the minute, no pulsing, a frame
/// only when something on screen changes. Drawing on the processor (no GPU) costs about a third
/// of a core per frame of a 1600×900 window, so a clock ticking seconds there would take a
/// third of a core all day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LowPower {
    /// On when the renderer is a software rasterizer (lavapipe, llvmpipe).
    #[default]
    Auto,
    On,
    Off,
}

impl LowPower {
    /// Whether to draw sparingly, given whether the renderer draws on the processor.
    pub fn resolve(self, software_renderer: bool) -> bool {
        match self {
            LowPower::Auto => software_renderer,
            LowPower::On => true,
            LowPower::Off => false,
        }
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(Diagnostic),
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ConfigError {
    /// The error in `lang` (the command line's `--lang`, else Vietnamese).
    pub fn say(&self, lang: Lang) -> String {
        match self {
            ConfigError::Invalid(d) => d.say(lang),
            other => other.to_string(),
        }
    }
}

/// The user's configuration, looked for first when `--config` is not given.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ioc-console")
        .map(|d| d.config_dir().join("config.toml"))
}

/// The machine's configuration (a conffile of the package), looked for after the user's.
pub const SYSTEM_PATH: &str = "/etc/ioc-console/config.toml";

/// The first of the places to look that holds a file: the user's, then the machine's.
pub fn search(user: Option<PathBuf>, system: &Path) -> Option<PathBuf> {
    user.into_iter()
        .chain(std::iter::once(system.to_path_buf()))
        .find(|p| p.is_file())
}

/// Loads the configuration: the given file (which must exist), or the first found of the user's
/// and the machine's (neither means defaults).
pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match search(default_path(), Path::new(SYSTEM_PATH)) {
            Some(p) => p,
            None => return Ok((Config::default(), None)),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let config = parse(&path, &text).map_err(ConfigError::Invalid)?;
    Ok((config, Some(path)))
}

/// Parses and checks configuration text; `path` is for messages only.
pub fn parse(path: &Path, text: &str) -> Result<Config, Diagnostic> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let mut d = Diagnostic::from_toml(path, text, &e);
        if let Some(key) = e.span().and_then(|s| key_at(text, s.start)) {
            let message = e.message().trim();
            if !message.contains(&format!("`{key}`")) {
                d.message = Text::key("config.key")
                    .arg("key", &key)
                    .arg("message", message);
            }
            if key == "token" {
                d.hint = Some(Text::key("config.token_hint"));
            }
        }
        d
    })?;
    if let Some(url) = &config.backend_url {
        let ok = reqwest::Url::parse(url)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
        if !ok {
            let span = value_span(text, "backend_url").unwrap_or(0..0);
            return Err(Diagnostic::at(
                path,
                text,
                span,
                Text::key("config.bad_url").arg("url", url),
            )
            .with_hint(Text::key("config.bad_url_hint")));
        }
    }
    // Map tiles name basemaps and layers: each name must be there and be one thing.
    let names = config
        .map
        .basemaps
        .iter()
        .map(|b| ("basemaps", b.name()))
        .chain(
            config
                .map
                .layers
                .iter()
                .map(|l| ("layers", l.name.as_str())),
        );
    let mut seen = std::collections::HashSet::new();
    for (list, name) in names {
        let problem = if name.trim().is_empty() {
            Some(Text::key("config.map_empty_name").arg("list", list))
        } else if !seen.insert((list, name)) {
            Some(
                Text::key("config.map_duplicate_name")
                    .arg("list", list)
                    .arg("name", name),
            )
        } else {
            None
        };
        if let Some(message) = problem {
            let span = value_span(text, "map").unwrap_or(0..0);
            return Err(Diagnostic::at(path, text, span, message));
        }
    }
    // A section's own checks: the first mistake, at the section.
    let section = |name: &str, key: &str, message: String| {
        let span = value_span(text, name).unwrap_or(0..0);
        Diagnostic::at(
            path,
            text,
            span,
            Text::key("config.key")
                .arg("key", key)
                .arg("message", message),
        )
    };
    if let Some(sync) = &config.sync
        && let Err((key, message)) = sync.validate()
    {
        return Err(section("sync", key, message));
    }
    if let Some(identity) = &config.identity
        && let Err((key, message)) = identity.validate()
    {
        return Err(section("identity", key, message));
    }
    if let Err((key, message)) = config.video.validate() {
        return Err(section("video", key, message));
    }
    let mut ids = std::collections::HashSet::new();
    for s in &config.source {
        if let Err((key, message)) = s.check() {
            return Err(section(
                "source",
                &format!("source.{key} ({})", s.id),
                message,
            ));
        }
        if !ids.insert(s.id.as_str()) {
            return Err(section(
                "source",
                "source.id",
                format!("\"{}\" is used twice", s.id),
            ));
        }
    }
    if let Err((key, message)) = config.feeds.check(&config.source) {
        return Err(section("feeds", &key, message));
    }
    Ok(config)
}

/// The top-level key whose line holds byte `offset` (the configuration is a flat table).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let table = toml::de::DeTable::parse(text).ok()?;
    let table = table.into_inner();
    let mut best: Option<(usize, String)> = None;
    for (key, value) in table.iter() {
        let start = key.span().start;
        let end = value.span().end.max(key.span().end);
        if (start..=end).contains(&offset) {
            return Some(key.get_ref().to_string());
        }
        if start <= offset && best.as_ref().is_none_or(|(s, _)| *s < start) {
            best = Some((start, key.get_ref().to_string()));
        }
    }
    // An unknown key's error points at the key, which this loop covers; anything else points
    // inside the value of the nearest key before it.
    best.map(|(_, k)| k)
}

fn value_span(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let table = toml::de::DeTable::parse(text).ok()?.into_inner();
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v.span())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_file_comes_before_the_machines_and_neither_means_none() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("user/config.toml");
        let system = dir.path().join("etc/config.toml");
        assert_eq!(search(Some(user.clone()), &system), None);
        std::fs::create_dir_all(system.parent().unwrap()).unwrap();
        std::fs::write(&system, "").unwrap();
        assert_eq!(search(Some(user.clone()), &system), Some(system.clone()));
        assert_eq!(search(None, &system), Some(system.clone()));
        std::fs::create_dir_all(user.parent().unwrap()).unwrap();
        std::fs::write(&user, "").unwrap();
        assert_eq!(search(Some(user.clone()), &system), Some(user));
        // A directory where the file should be is not a configuration.
        let odd = dir.path().join("odd");
        std::fs::create_dir_all(&odd).unwrap();
        assert_eq!(search(Some(odd), &dir.path().join("none")), None);
    }

    /// The package's example (`/etc/ioc-console/config.toml`) as shipped is all defaults, and
    /// every setting it shows, uncommented, is one the console accepts.
    #[test]
    fn the_packages_example_is_defaults_and_every_key_it_shows_is_accepted() {
        let text = include_str!("../packaging/deb/config.toml");
        assert_eq!(
            parse(Path::new("config.toml"), text).unwrap(),
            Config::default()
        );
        let hash = crate::util::pin::PinHash::new("2468").unwrap();
        let mut keys = 0;
        let uncommented: String = text
            .lines()
            .map(|l| {
                let body = l.strip_prefix("# ").unwrap_or("");
                let is_key = body
                    .split_once(" = ")
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                if body.starts_with('[') && body.ends_with(']') {
                    body.to_owned()
                } else if is_key {
                    keys += 1;
                    if body.starts_with("pin_hash = ") {
                        format!("pin_hash = '{}'", hash.as_str())
                    } else {
                        body.to_owned()
                    }
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(keys >= 9, "{keys} settings shown");
        let c = parse(Path::new("config.toml"), &uncommented).unwrap();
        assert_eq!(
            c.backend_url.as_deref(),
            Some("https://ioc.example.gov.vn/api/v1")
        );
        assert!(c.kiosk.pin_hash.as_ref().is_some_and(|h| h.verify("2468")));
        assert_eq!(
            c.metrics.map(|m| m.listen.to_string()).as_deref(),
            Some("127.0.0.1:9464")
        );
    }

    #[test]
    fn a_pin_written_in_clear_is_refused_at_its_key() {
        let e = err("[kiosk]\npin_hash = \"2468\"\n");
        let said = e.say(Lang::En);
        assert!(said.contains("kiosk") && said.contains("PHC"), "{said}");
        assert_eq!(e.line, 2, "{said}");
    }

    fn err(text: &str) -> Diagnostic {
        parse(Path::new("config.toml"), text).unwrap_err()
    }

    #[test]
    fn a_good_config_parses() {
        let c = parse(
            Path::new("c.toml"),
            "backend_url = \"https://ioc.example.gov.vn/api/v1\"\ntoken_file = \"/run/secrets/ioc\"\nlanguage = \"en\"\nrole = \"leader\"\ndefault_layout = \"layouts/desk.toml\"\n")
        .unwrap();
        assert_eq!(c.language, Lang::En);
        assert_eq!(c.role, Role::Leader);
        assert_eq!(c.token_file.as_deref(), Some(Path::new("/run/secrets/ioc")));
        assert_eq!(parse(Path::new("c.toml"), "").unwrap(), Config::default());
    }

    #[test]
    fn wrong_type_names_the_key_and_position() {
        let d = err("language = \"vi\"\nrole = 5\n");
        assert_eq!((d.line, d.column), (2, 8));
        assert!(d.message_in(Lang::En).contains("`role`"), "{d}");
    }

    #[test]
    fn unknown_value_names_the_key() {
        let d = err("language = \"fr\"\n");
        assert_eq!((d.line, d.column), (1, 12));
        assert!(
            d.message_in(Lang::En).contains("`language`") && d.message_in(Lang::En).contains("vi"),
            "{d}"
        );
    }

    #[test]
    fn unknown_key_names_the_key() {
        let d = err("backend_url = \"https://a.example/api/v1\"\nlangage = \"vi\"\n");
        assert_eq!((d.line, d.column), (2, 1));
        assert!(d.message_in(Lang::En).contains("langage"), "{d}");
    }

    #[test]
    fn a_token_in_the_config_is_refused_without_echoing_it() {
        let d = err("token = \"s3cr3t-value\"\n");
        assert!(
            d.hint
                .as_ref()
                .map(|h| h.say(Lang::En))
                .unwrap_or_default()
                .contains("token_file"),
            "{d}"
        );
        assert!(
            !d.to_string().contains("s3cr3t-value"),
            "the token leaked into the message: {d}"
        );
    }

    #[test]
    fn a_bad_url_is_an_error_at_the_value() {
        let d = err("backend_url = \"ftp:/nowhere\"\n");
        assert_eq!((d.line, d.column), (1, 15));
        assert!(d.message_in(Lang::En).contains("backend_url"), "{d}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let d = err("language = \"vi\n");
        assert_eq!(d.line, 1);
    }

    #[test]
    fn an_explicit_missing_file_is_an_error() {
        let e = load(Some(Path::new("/nonexistent/ioc.toml"))).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ioc.toml"));
    }
}
