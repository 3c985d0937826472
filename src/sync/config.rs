//! The configuration's `[sync]` section, and the credentials file it names.

use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

/// Consoles in step through NATS (absent: this console works alone).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// NATS server URLs, several for a cluster, e.g. ["nats://10.0.0.5:4222",
    /// "tls://10.0.0.6:4222"].
    pub servers: Vec<String>,
    /// File holding the credentials (never the credentials themselves): a NATS `.creds` file,
    /// an NKey seed (a line starting with "SU"), "user:password" on one line, or a token.
    #[serde(default)]
    pub credentials: Option<PathBuf>,
    /// The wall's name: consoles with the same name show one wall.
    pub wall: String,
    /// This console's name on the wall (default: the host's name).
    #[serde(default)]
    pub console: Option<String>,
    /// The layout's monitors this console drives (all when empty). `--monitors A1,B1` on the
    /// command line overrides it.
    #[serde(default)]
    pub monitors: Vec<String>,
    /// Monitors this console takes over when no live console has them as its own (a standby).
    #[serde(default)]
    pub standby: Vec<String>,
    /// Seconds between heartbeats (default 2).
    #[serde(default)]
    pub heartbeat_s: Option<f64>,
    /// Seconds after which a console without a heartbeat is gone (default 3 heartbeats).
    #[serde(default)]
    pub expire_s: Option<f64>,
    /// Copies of the buckets kept by a cluster (default 1; 3 on a 3-node cluster).
    #[serde(default)]
    pub replicas: Option<usize>,
}

impl SyncConfig {
    /// A configuration for `servers` and wall `wall`, everything else by default.
    pub fn new(servers: Vec<String>, wall: &str) -> SyncConfig {
        SyncConfig {
            servers,
            credentials: None,
            wall: wall.into(),
            console: None,
            monitors: Vec::new(),
            standby: Vec::new(),
            heartbeat_s: None,
            expire_s: None,
            replicas: None,
        }
    }

    /// The first mistake, as (key, what is wrong), in English (the configuration's words).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.servers.is_empty() {
            return Err((
                "sync.servers",
                "name at least one NATS server, e.g. \"nats://10.0.0.5:4222\"".into(),
            ));
        }
        for s in &self.servers {
            let scheme_ok = ["nats://", "tls://"].iter().any(|p| s.starts_with(p));
            let has_port = s
                .rsplit(':')
                .next()
                .is_some_and(|p| p.trim_end_matches('/').parse::<u16>().is_ok());
            if !scheme_ok || !has_port {
                return Err((
                    "sync.servers",
                    format!(
                        "`{}` is not a nats:// or tls:// address with a port",
                        crate::util::redact::redact(s)
                    ),
                ));
            }
        }
        for (key, v) in [
            ("sync.heartbeat_s", self.heartbeat_s),
            ("sync.expire_s", self.expire_s),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v <= 0.0) {
                return Err((key, "a number of seconds above 0".into()));
            }
        }
        if self.wall.trim().is_empty() {
            return Err((
                "sync.wall",
                "name the wall (consoles with the same name show one wall)".into(),
            ));
        }
        if self.monitors.iter().any(|m| self.standby.contains(m)) {
            return Err((
                "sync.standby",
                "a monitor cannot be both driven and stood by for".into(),
            ));
        }
        Ok(())
    }

    pub fn heartbeat(&self) -> Duration {
        let s = self.heartbeat_s.filter(|s| s.is_finite()).unwrap_or(2.0);
        Duration::from_secs_f64(s.clamp(0.2, 60.0))
    }

    pub fn expire(&self) -> Duration {
        let h = self.heartbeat();
        match self.expire_s {
            Some(s) if s.is_finite() => {
                Duration::from_secs_f64(s.clamp(h.as_secs_f64() * 2.0, 600.0))
            }
            _ => h * 3,
        }
    }

    pub fn console_name(&self) -> String {
        self.console.clone().unwrap_or_else(host_name)
    }
}

/// The host's name (`/etc/hostname`, else "console").
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "console".into())
}

/// What a credentials file holds.
#[derive(Clone, PartialEq)]
pub enum Credentials {
    /// A NATS `.creds` file (JWT and NKey seed): read by the client from its path.
    CredsFile(PathBuf),
    Nkey(String),
    UserPassword(String, String),
    Token(String),
}

impl std::fmt::Debug for Credentials {
    // Never the secret itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::CredsFile(p) => write!(f, "CredsFile({})", p.display()),
            Credentials::Nkey(_) => write!(f, "Nkey(…)"),
            Credentials::UserPassword(u, _) => write!(f, "UserPassword({u}, …)"),
            Credentials::Token(_) => write!(f, "Token(…)"),
        }
    }
}

impl Credentials {
    /// Reads the file at `path` (the message names the file, never its contents).
    pub fn read(path: &Path) -> Result<Credentials, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the credentials file {}: {e}", path.display()))?;
        if text.contains("-----BEGIN NATS USER JWT-----") {
            return Ok(Credentials::CredsFile(path.to_path_buf()));
        }
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'));
        let Some(line) = line else {
            return Err(format!("the credentials file {} is empty", path.display()));
        };
        if line.starts_with("SU") && line.len() > 50 && !line.contains(':') {
            return Ok(Credentials::Nkey(line.to_string()));
        }
        if let Some((user, pass)) = line.split_once(':') {
            return Ok(Credentials::UserPassword(
                user.to_string(),
                pass.to_string(),
            ));
        }
        Ok(Credentials::Token(line.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_told_apart_and_never_printed() {
        let dir = std::env::temp_dir().join(format!("ioc-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let up = Credentials::read(&write("up", "# wall user\nwall:s3cret\n")).unwrap();
        assert_eq!(
            up,
            Credentials::UserPassword("wall".into(), "s3cret".into())
        );
        assert!(!format!("{up:?}").contains("s3cret"));
        let token = Credentials::read(&write("t", "abc123token\n")).unwrap();
        assert!(!format!("{token:?}").contains("abc123"));
        let seed = format!("SU{}", "A".repeat(56));
        assert!(matches!(
            Credentials::read(&write("nk", &seed)).unwrap(),
            Credentials::Nkey(_)
        ));
        assert!(Credentials::read(&write("empty", "\n\n")).is_err());
        let missing = Credentials::read(&dir.join("nope")).unwrap_err();
        assert!(missing.contains("nope"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn heartbeats_expire_after_a_few_of_them() {
        let mut c = SyncConfig::new(vec!["nats://127.0.0.1:4222".into()], "w");
        assert_eq!(c.expire(), Duration::from_secs(6));
        c.heartbeat_s = Some(0.5);
        c.expire_s = Some(0.1);
        assert_eq!(
            c.expire(),
            Duration::from_secs(1),
            "at least two heartbeats"
        );
    }
}
