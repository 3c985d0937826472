//! A real `nats-server` with JetStream on loopback, for the tests of consoles in step: one server,
//! or a cluster of three with routes. `packaging/dev.sh` fetches the pinned server into
//! `target/tools/` and names it in `IOC_NATS_SERVER`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary: `IOC_NATS_SERVER`, else the one `packaging/dev.sh` unpacked, else PATH.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("IOC_NATS_SERVER") {
        return PathBuf::from(p);
    }
    let tools = crate::support::repo().join("target/tools");
    if let Ok(dirs) = std::fs::read_dir(&tools) {
        let mut found: Vec<PathBuf> = dirs
            .flatten()
            .map(|d| d.path().join("nats-server"))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        if let Some(p) = found.pop() {
            return p;
        }
    }
    PathBuf::from("nats-server")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `nats-server -js` process (a cluster's node when `routes` are given).
pub struct Nats {
    pub port: u16,
    cluster_port: Option<u16>,
    routes: Vec<u16>,
    name: String,
    pub dir: tempfile::TempDir,
    extra: Vec<String>,
    child: Option<Child>,
}

impl Nats {
    /// A single server with JetStream, started.
    pub fn start() -> Nats {
        Nats::start_with(Vec::new())
    }

    /// A single server with extra arguments (e.g. `--user`, `--pass`), started.
    pub fn start_with(extra: Vec<String>) -> Nats {
        let mut n = Nats {
            port: free_port(),
            cluster_port: None,
            routes: Vec::new(),
            name: "n1".into(),
            dir: tempfile::tempdir().unwrap(),
            extra,
            child: None,
        };
        n.run();
        n
    }

    /// Three servers in a cluster, started.
    pub fn cluster() -> Vec<Nats> {
        let cluster_ports = [free_port(), free_port(), free_port()];
        let mut nodes: Vec<Nats> = (0..3)
            .map(|i| Nats {
                port: free_port(),
                cluster_port: Some(cluster_ports[i]),
                routes: cluster_ports
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, p)| *p)
                    .collect(),
                name: format!("n{}", i + 1),
                dir: tempfile::tempdir().unwrap(),
                extra: Vec::new(),
                child: None,
            })
            .collect();
        for n in &mut nodes {
            n.spawn();
        }
        for n in &nodes {
            n.wait_ready();
        }
        nodes
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(binary());
        cmd.args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-n", &self.name, "-sd"])
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(cp) = self.cluster_port {
            let routes: Vec<String> = self
                .routes
                .iter()
                .map(|p| format!("nats://127.0.0.1:{p}"))
                .collect();
            cmd.args(["--cluster_name", "ioc"])
                .args(["--cluster", &format!("nats://127.0.0.1:{cp}")])
                .args(["--routes", &routes.join(",")]);
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}): run `bash packaging/dev.sh test`, which fetches nats-server",
                binary().display()
            )
        });
        self.child = Some(child);
    }

    fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < until,
                "nats-server did not start on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn run(&mut self) {
        self.spawn();
        self.wait_ready();
    }

    /// Killed with SIGKILL (no goodbye to its clients or the cluster).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Started again on the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `f` is true (polled every 20 ms), or panics with `what` after `limit`.
pub fn wait_for(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
