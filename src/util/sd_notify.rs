//! systemd's service notification protocol (`sd_notify(3)`): one datagram per message to the
//! socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace), and the
//! watchdog's interval from `WATCHDOG_USEC` (for this process only when `WATCHDOG_PID`, if set,
//! is its own). Without `NOTIFY_SOCKET` (not started by systemd with `Type=notify`) there is no
//! notifier and nothing is sent.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

/// A connection to systemd's notification socket.
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
    watchdog: Option<Duration>,
    last_ping: Option<Instant>,
    ready: bool,
    /// A failed send is logged once, not at every frame.
    failed: bool,
}

/// What the environment says, read without side effects (for tests).
#[derive(Debug, PartialEq)]
pub struct NotifyEnv {
    pub socket: String,
    pub watchdog: Option<Duration>,
}

impl NotifyEnv {
    /// `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` as given, for the process `pid`.
    pub fn parse(
        socket: Option<&str>,
        usec: Option<&str>,
        watchdog_pid: Option<&str>,
        pid: u32,
    ) -> Option<NotifyEnv> {
        let socket = socket.filter(|s| !s.is_empty())?.to_owned();
        let ours = watchdog_pid.is_none_or(|p| p.trim().parse::<u32>().ok() == Some(pid));
        let watchdog = usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|u| *u > 0 && ours)
            .map(Duration::from_micros);
        Some(NotifyEnv { socket, watchdog })
    }

    pub fn from_process() -> Option<NotifyEnv> {
        let var = |k| std::env::var(k).ok();
        Self::parse(
            var("NOTIFY_SOCKET").as_deref(),
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
            std::process::id(),
        )
    }
}

impl Notifier {
    /// The notifier systemd asked for, if any. A socket that cannot be opened is logged and
    /// there is no notifier (the console runs on; systemd's start timeout says the rest).
    pub fn from_env() -> Option<Notifier> {
        let env = NotifyEnv::from_process()?;
        match Self::open(&env) {
            Ok(n) => {
                tracing::info!(
                    watchdog_s = env.watchdog.map(|w| w.as_secs_f64()),
                    "systemd notification socket"
                );
                Some(n)
            }
            Err(e) => {
                tracing::error!(socket = %env.socket, error = %e, "cannot use NOTIFY_SOCKET");
                None
            }
        }
    }

    pub fn open(env: &NotifyEnv) -> std::io::Result<Notifier> {
        let addr = if let Some(name) = env.socket.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name.as_bytes())?
        } else {
            SocketAddr::from_pathname(&env.socket)?
        };
        Ok(Notifier {
            socket: UnixDatagram::unbound()?,
            addr,
            watchdog: env.watchdog,
            last_ping: None,
            ready: false,
            failed: false,
        })
    }

    /// The watchdog's interval, when systemd keeps one for this process.
    pub fn watchdog(&self) -> Option<Duration> {
        self.watchdog
    }

    /// How often to ping: a quarter of the interval, so a late frame or two is not a restart.
    pub fn ping_every(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 4)
    }

    /// `READY=1`, once.
    pub fn ready(&mut self, status: &str) {
        if !self.ready {
            self.ready = true;
            self.send(&format!("READY=1\nSTATUS={status}"));
        }
    }

    /// `WATCHDOG=1` when a quarter of the interval has passed since the last one.
    pub fn ping(&mut self, now: Instant) {
        let Some(every) = self.ping_every() else {
            return;
        };
        if self
            .last_ping
            .is_none_or(|last| now.saturating_duration_since(last) >= every)
        {
            self.last_ping = Some(now);
            self.send("WATCHDOG=1");
        }
    }

    /// `STOPPING=1` (the console is closing on purpose).
    pub fn stopping(&mut self) {
        self.send("STOPPING=1");
    }

    fn send(&mut self, message: &str) {
        match self.socket.send_to_addr(message.as_bytes(), &self.addr) {
            Ok(_) => self.failed = false,
            Err(e) if !self.failed => {
                self.failed = true;
                tracing::warn!(error = %e, "cannot notify systemd");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_says_socket_and_watchdog_for_this_process_only() {
        assert_eq!(NotifyEnv::parse(None, Some("1000000"), None, 7), None);
        assert_eq!(NotifyEnv::parse(Some(""), None, None, 7), None);
        let env = NotifyEnv::parse(Some("/run/n"), Some("2000000"), None, 7).unwrap();
        assert_eq!(env.watchdog, Some(Duration::from_secs(2)));
        let ours = NotifyEnv::parse(Some("@n"), Some("2000000"), Some("7"), 7).unwrap();
        assert_eq!(ours.watchdog, Some(Duration::from_secs(2)));
        // Another process's watchdog (inherited), a zero or unreadable interval: no watchdog.
        for (usec, pid) in [("2000000", Some("8")), ("0", None), ("soon", None)] {
            let env = NotifyEnv::parse(Some("/run/n"), Some(usec), pid, 7).unwrap();
            assert_eq!(env.watchdog, None, "{usec} {pid:?}");
        }
    }

    #[test]
    fn ready_once_and_pings_a_quarter_interval_apart_reach_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let env = NotifyEnv {
            socket: path.to_str().unwrap().to_owned(),
            watchdog: Some(Duration::from_secs(4)),
        };
        let mut n = Notifier::open(&env).unwrap();
        let t0 = Instant::now();
        n.ready("drawn");
        n.ready("drawn");
        n.ping(t0);
        n.ping(t0 + Duration::from_millis(500)); // too soon: not sent
        n.ping(t0 + Duration::from_secs(1));
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(len) = listener.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..len]).into_owned());
        }
        assert_eq!(got, ["READY=1\nSTATUS=drawn", "WATCHDOG=1", "WATCHDOG=1"]);
    }

    #[test]
    fn a_socket_nobody_listens_on_is_not_an_error_for_the_console() {
        let env = NotifyEnv {
            socket: "/nonexistent/notify".into(),
            watchdog: Some(Duration::from_secs(1)),
        };
        let mut n = Notifier::open(&env).unwrap();
        n.ready("x");
        n.ping(Instant::now());
        assert!(n.failed);
    }
}
