//! Push to the wall, consoles in step: from a desk's command (`ConsoleApp::apply`, the path of a
//! click) to each wall console applying the value it watches (`ConsoleApp::poll_sync`, what its
//! next frame does), with 1, 4 and 16 wall consoles on a real `nats-server` on loopback, each
//! with its own connection and sync task.
//!
//! Baseline in the same run: the broker alone, a raw key-value `put` seen by as many raw
//! watchers (async-nats without the console), so the console's own share shows as the ratio.
//! CPU per push: the broker process's and this process's (all consoles) utime + stime over the
//! pushes, divided by their number.
//!
//! Run: `cargo bench --bench sync` (the server from `packaging/dev.sh`, or `IOC_NATS_SERVER`).
//! The wall consoles are polled every 0.2 ms here; a real console wakes on the task's waker
//! (a repaint request) instead, which adds the time to the next frame.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
use ioc_console::context::Command as Cmd;
use ioc_console::i18n::Lang;
use ioc_console::role::Role;
use ioc_console::sync::{self, SyncConfig};
use ioc_console::wall::layout;

#[path = "common/proc.rs"]
mod proc_info;

const PUSHES: usize = 200;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("IOC_NATS_SERVER") {
        return PathBuf::from(p);
    }
    std::fs::read_dir(repo().join("target/tools"))
        .ok()
        .and_then(|d| {
            d.flatten()
                .map(|e| e.path().join("nats-server"))
                .filter(|p| p.exists())
                .max()
        })
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(server_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (bash packaging/dev.sh test fetches it)");
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn console(rt: &tokio::runtime::Runtime, url: &str, wall: &str, name: &str) -> ConsoleApp {
    let mut c = SyncConfig::new(vec![url.into()], wall);
    c.console = Some(name.into());
    let link = sync::start(rt.handle(), &c, None, None);
    ConsoleApp::new(
        &egui::Context::default(),
        LaunchOptions {
            layout: layout::load(&repo().join("layouts/ioc-main.toml")).unwrap(),
            layout_path: None,
            lang: Lang::Vi,
            role: Role::Operator,
            display: DisplayChoice::Preview,
            watch: false,
            backend: None,
            wake: None,
            map: Default::default(),
            cameras: Default::default(),
        },
    )
    .with_sync(link, Box::new(()))
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Run {
    p50: Duration,
    p95: Duration,
    broker_cpu_ms: f64,
    self_cpu_ms: f64,
}

/// The console path: a desk's command to every wall console's applied value.
fn consoles(server: &Server, walls: usize) -> Run {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let wall = format!("bench-{walls}");
    let mut desk = console(&rt, &server.url(), &wall, "desk");
    let mut screens: Vec<ConsoleApp> = (0..walls)
        .map(|i| console(&rt, &server.url(), &wall, &format!("wall-{i}")))
        .collect();
    let until = Instant::now() + Duration::from_secs(20);
    while !std::iter::once(&mut desk)
        .chain(screens.iter_mut())
        .all(|c| {
            c.poll_sync(1.0);
            c.in_step().is_some_and(|s| s.state.is_up())
        })
    {
        assert!(Instant::now() < until, "consoles connect");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut lat = Vec::with_capacity(PUSHES * walls);
    let tck = proc_info::clk_tck();
    let (b0, s0) = (
        proc_info::cpu_ticks(&server.pid()),
        proc_info::cpu_ticks("self"),
    );
    for i in 0..PUSHES {
        let camera = format!("CAM-{i}");
        let t0 = Instant::now();
        desk.apply(Cmd::PushCamera {
            tile: "camera-01".into(),
            camera: Some(camera.clone()),
        });
        let mut seen = vec![false; walls];
        let deadline = t0 + Duration::from_secs(5);
        while seen.iter().any(|s| !s) {
            for (k, c) in screens.iter_mut().enumerate() {
                if seen[k] {
                    continue;
                }
                c.poll_sync(1.0);
                if c.wall_state().view.pushed.get("camera-01") == Some(&camera) {
                    seen[k] = true;
                    lat.push(t0.elapsed());
                }
            }
            assert!(Instant::now() < deadline, "push {i} not applied everywhere");
            std::thread::sleep(Duration::from_micros(200));
        }
        desk.poll_sync(1.0);
    }
    let (b1, s1) = (
        proc_info::cpu_ticks(&server.pid()),
        proc_info::cpu_ticks("self"),
    );
    Run {
        p50: pct(&mut lat, 0.5),
        p95: pct(&mut lat, 0.95),
        broker_cpu_ms: (b1 - b0) as f64 / tck * 1000.0 / PUSHES as f64,
        self_cpu_ms: (s1 - s0) as f64 / tck * 1000.0 / PUSHES as f64,
    }
}

/// The broker alone: a raw put, seen by `walls` raw watchers.
fn raw(server: &Server, walls: usize) -> Run {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = server.url();
    let tck = proc_info::clk_tck();
    let pid = server.pid();
    rt.block_on(async move {
        let client = async_nats::connect(url.as_str()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let kv = match js.get_key_value("bench_raw").await {
            Ok(kv) => kv,
            Err(_) => js
                .create_key_value(async_nats::jetstream::kv::Config {
                    bucket: "bench_raw".into(),
                    history: 10,
                    ..Default::default()
                })
                .await
                .unwrap(),
        };
        let key = format!("w{walls}");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Vec<u8>, Instant)>();
        for k in 0..walls {
            let c = async_nats::connect(url.as_str()).await.unwrap();
            let w = async_nats::jetstream::new(c)
                .get_key_value("bench_raw")
                .await
                .unwrap();
            let mut watch = w.watch(&key).await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(Ok(e)) = watch.next().await {
                    let _ = tx.send((k, e.value.to_vec(), Instant::now()));
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut lat = Vec::with_capacity(PUSHES * walls);
        let (b0, s0) = (proc_info::cpu_ticks(&pid), proc_info::cpu_ticks("self"));
        for i in 0..PUSHES {
            let value = format!("v{i}").into_bytes();
            let t0 = Instant::now();
            kv.put(&key, value.clone().into()).await.unwrap();
            let mut seen = 0;
            while seen < walls {
                let (_, v, at) = rx.recv().await.unwrap();
                if v == value {
                    seen += 1;
                    lat.push(at - t0);
                }
            }
        }
        let (b1, s1) = (proc_info::cpu_ticks(&pid), proc_info::cpu_ticks("self"));
        Run {
            p50: pct(&mut lat, 0.5),
            p95: pct(&mut lat, 0.95),
            broker_cpu_ms: (b1 - b0) as f64 / tck * 1000.0 / PUSHES as f64,
            self_cpu_ms: (s1 - s0) as f64 / tck * 1000.0 / PUSHES as f64,
        }
    })
}

fn main() {
    let server = Server::start();
    println!(
        "push to the wall: {PUSHES} pushes, a desk's command to every wall console applying it (nats-server {})",
        server_binary().display()
    );
    println!(
        "| wall consoles | console p50 | console p95 | broker alone p50 / p95 | p95 ratio | broker CPU / push | consoles' CPU / push |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for walls in [1usize, 4, 16] {
        let base = raw(&server, walls);
        let run = consoles(&server, walls);
        println!(
            "| {walls} | {:.2} ms | {:.2} ms | {:.2} / {:.2} ms | {:.2}x | {:.3} ms | {:.3} ms |",
            ms(run.p50),
            ms(run.p95),
            ms(base.p50),
            ms(base.p95),
            ms(run.p95) / ms(base.p95).max(0.001),
            run.broker_cpu_ms,
            run.self_cpu_ms,
        );
    }
    println!("target: p95 under 200 ms (the aim: under 50 ms)");
}
