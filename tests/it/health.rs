//! A console on a wall PC for months (issue 17): the health metrics scraped from a real console
//! window, the journal under systemd, and the whole console's buffering bounded under a backend
//! that answers every resource with an endless body.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use ioc_console::model::sim::Faults;
use ioc_console::sim::server::{SimConfig, SimServer};

use crate::nats::{free_port, wait_for};
use crate::support::{Xvfb, repo, write};

/// `GET /metrics` over a plain TCP connection; the answer's head and body.
fn scrape(port: u16) -> Option<(String, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    Some((head.to_owned(), body.to_owned()))
}

fn parse(body: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("not the Prometheus text format: {e}\n{body}"))
}

fn sample(s: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .and_then(|x| match x.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
}

const CAMERA_LAYOUT: &str = r#"
name = "Metrics test"

[[monitors]]
name = "M"
display = 0
resolution = [1280, 720]
grid = { columns = 3, rows = 1 }
wall_position = { column = 0, row = 0 }

[[tiles]]
id = "sources"
monitor = "M"
kind = "sources"
title = "Nguồn"
source = "backend"
x = 0
y = 0

[[tiles]]
id = "cam-a"
monitor = "M"
kind = "camera"
title = "Camera 1"
source = "backend"
x = 1
y = 0
[tiles.options]
camera = "cam-01"

[[tiles]]
id = "cam-b"
monitor = "M"
kind = "camera"
title = "Camera 2"
source = "backend"
x = 2
y = 0
[tiles.options]
camera = "cam-02"
"#;

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn metrics_scraped_from_a_running_console_have_every_family_and_a_failing_camera_counts() {
    let _turn = crate::video::turn();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(SimServer::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            serve_cameras: true,
            ..SimConfig::default()
        }))
        .unwrap();
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("cams.toml");
    write(&layout, CAMERA_LAYOUT);
    let runtime_dir = dir.path().join("xdg");
    std::fs::create_dir_all(&runtime_dir).unwrap();
    let port = free_port();
    let _console = Kill(
        std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
            .args(["--config", "/dev/null", "run", "--preview", "--backend"])
            .arg(sim.base_url())
            .arg("--layout")
            .arg(&layout)
            .args(["--metrics", &format!("127.0.0.1:{port}")])
            .env("DISPLAY", &x.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("IOC_CONSOLE_OUTBOX", dir.path().join("outbox.sqlite"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );

    // Both cameras live with frames, the datasets loaded.
    let mut last = String::new();
    let live = |s: &prometheus_parse::Scrape, cam: &str| {
        sample(
            s,
            "ioc_console_camera_state",
            &[("camera", cam), ("state", "live")],
        ) == Some(1.0)
            && sample(s, "ioc_console_camera_frames_total", &[("camera", cam)])
                .is_some_and(|n| n > 0.0)
    };
    wait_for(
        Duration::from_secs(120),
        "two live cameras in the metrics",
        || {
            let Some((head, body)) = scrape(port) else {
                return false;
            };
            assert!(
                head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
                "{head}"
            );
            assert!(
                head.to_ascii_lowercase()
                    .contains("text/plain; version=0.0.4"),
                "{head}"
            );
            let s = parse(&body);
            last = body;
            live(&s, "cam-01")
                && live(&s, "cam-02")
                && sample(
                    &s,
                    "ioc_console_dataset_state",
                    &[("dataset", "units"), ("state", "live")],
                ) == Some(1.0)
        },
    );
    let s = parse(&last);
    for family in [
        "ioc_console_frame_seconds",
        "ioc_console_dataset_state",
        "ioc_console_dataset_age_seconds",
        "ioc_console_event_stream_state",
        "ioc_console_event_stream_age_seconds",
        "ioc_console_camera_state",
        "ioc_console_camera_frames_total",
        "ioc_console_camera_reconnects_total",
        "ioc_console_decode_budget_megapixels_per_second",
        "ioc_console_decode_in_use_megapixels_per_second",
        "ioc_console_outbox_pending",
        "ioc_console_outbox_oldest_pending_age_seconds",
        "process_resident_memory_bytes",
        "process_threads",
        "ioc_console_gstreamer_pipelines",
        "ioc_console_gpu_textures",
    ] {
        assert!(
            last.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{last}"
        );
    }
    assert!(
        sample(&s, "ioc_console_frame_seconds_count", &[]).is_some_and(|n| n > 0.0),
        "no frame timed"
    );
    assert!(sample(&s, "ioc_console_gstreamer_pipelines", &[]).unwrap() >= 2.0);
    assert!(sample(&s, "ioc_console_decode_in_use_megapixels_per_second", &[]).unwrap() > 0.0);
    assert_eq!(sample(&s, "ioc_console_outbox_readable", &[]), Some(1.0));
    assert!(sample(&s, "process_resident_memory_bytes", &[]).unwrap() > 10e6);
    assert!(
        sample(
            &s,
            "ioc_console_dataset_age_seconds",
            &[("dataset", "units")]
        )
        .is_some()
    );

    // Camera 2 goes off the air while the camera list still says it is online: its state leaves
    // "live" and its reconnects are counted; camera 1 goes on.
    sim.set_faults(Faults {
        dark_cameras: vec!["cam-02".into()],
        ..Faults::default()
    });
    wait_for(
        Duration::from_secs(90),
        "the dark camera's reconnects",
        || {
            let Some((_, body)) = scrape(port) else {
                return false;
            };
            let s = parse(&body);
            last = body;
            sample(
                &s,
                "ioc_console_camera_state",
                &[("camera", "cam-02"), ("state", "live")],
            ) == Some(0.0)
                && sample(
                    &s,
                    "ioc_console_camera_reconnects_total",
                    &[("camera", "cam-02")],
                )
                .is_some_and(|n| n >= 1.0)
        },
    );
    let s = parse(&last);
    assert_eq!(
        sample(
            &s,
            "ioc_console_camera_state",
            &[("camera", "cam-01"), ("state", "live")]
        ),
        Some(1.0),
        "{last}"
    );
    assert_eq!(
        sample(
            &s,
            "ioc_console_camera_reconnects_total",
            &[("camera", "cam-01")]
        ),
        Some(0.0)
    );

    // The backend answers 500s: the datasets leave "live" in the metrics as on the tiles.
    sim.set_faults(Faults {
        error_rate: 1.0,
        drop_sse: true,
        ..Faults::default()
    });
    // Incidents are polled every 10 s while the event stream is down.
    wait_for(Duration::from_secs(60), "the datasets failing", || {
        scrape(port).is_some_and(|(_, body)| {
            let s = parse(&body);
            sample(
                &s,
                "ioc_console_dataset_state",
                &[("dataset", "incidents"), ("state", "error")],
            ) == Some(1.0)
                && sample(&s, "ioc_console_event_stream_state", &[("state", "down")]) == Some(1.0)
        })
    });
    rt.block_on(sim.stop());
}

#[test]
fn a_taken_metrics_port_stops_the_console_with_the_reason() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(["--config", "/dev/null", "--lang", "en", "run", "--metrics"])
        .arg(format!("127.0.0.1:{port}"))
        .env("DISPLAY", ":0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Cannot serve the health metrics") && err.contains(&port.to_string()),
        "{err}"
    );
}

/// Runs `cmd` to its end and returns its peak resident memory (kB), read by `wait4`.
fn peak_rss_kb(mut cmd: std::process::Command) -> (i64, std::process::ExitStatus) {
    use std::os::unix::process::ExitStatusExt as _;
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data filled by the kernel; `pid` is our own child, waited once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    std::mem::forget(child);
    (usage.ru_maxrss, std::process::ExitStatus::from_raw(status))
}

fn snapshot_cmd(base_url: &str, out: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"));
    c.args([
        "--config",
        "/dev/null",
        "snapshot",
        "--backend",
        base_url,
        "--layout",
    ])
    .arg(repo().join("layouts/desk.toml"))
    .arg("--out")
    .arg(out);
    c
}

#[test]
fn an_endless_body_on_every_resource_at_once_stays_within_the_buffering_bound() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(SimServer::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            paused: true,
            ..SimConfig::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // The usual level: the same console and layout against a backend that answers normally.
    let (usual, status) = peak_rss_kb(snapshot_cmd(&sim.base_url(), &dir.path().join("a.png")));
    assert!(status.success(), "{status:?}");

    // Every resource (and the event stream) answers with a body that never ends.
    sim.set_faults(Faults {
        endless: true,
        ..Faults::default()
    });
    let started = Instant::now();
    let (flooded, status) = peak_rss_kb(snapshot_cmd(&sim.base_url(), &dir.path().join("b.png")));
    assert!(status.success(), "{status:?}");
    let over_mb = (flooded - usual) as f64 / 1024.0;
    println!(
        "peak resident: usual {} MB, flooded {} MB (+{over_mb:.0} MB) in {:.0} s",
        usual / 1024,
        flooded / 1024,
        started.elapsed().as_secs_f64()
    );
    // Each of the eight resources alone may buffer up to its 64 MB limit (eight at once were
    // 512 MB); the whole console stays under 128 MB above its usual level.
    assert!(over_mb < 128.0, "+{over_mb:.0} MB over the usual level");
    rt.block_on(sim.stop());
}

#[test]
fn an_endless_body_is_refused_and_its_room_in_the_budget_given_back() {
    use ioc_console::sources::client::{BODY_BUDGET, body_budget_free};
    use ioc_console::sources::{Client, ClientConfig, FetchError};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sim = SimServer::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            paused: true,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        sim.set_faults(Faults {
            endless: true,
            ..Faults::default()
        });
        let client = Client::new(&ClientConfig::new(sim.base_url())).unwrap();
        // Eight bodies at once: together they cannot take more than the budget; each ends
        // refused (too large for its own limit, or no room left in the budget), none hangs.
        let fetches = [
            "units",
            "departments",
            "categories",
            "indicators",
            "series",
            "incidents",
            "cameras",
            "providers",
        ]
        .map(|p| {
            let c = client.clone();
            tokio::spawn(async move { c.get_bytes(p).await.map(|b| b.len()) })
        });
        let mut lowest = usize::MAX;
        let watch = async {
            loop {
                lowest = lowest.min(body_budget_free());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let all = futures_util::future::join_all(fetches);
        let results = tokio::select! {
            r = all => r,
            _ = watch => unreachable!(),
        };
        for r in results {
            match r.unwrap() {
                Err(FetchError::TooLarge { .. } | FetchError::Busy { .. }) => {}
                other => panic!("an endless body was not refused: {other:?}"),
            }
        }
        assert!(
            lowest < BODY_BUDGET / 2,
            "the bodies never filled the budget: {lowest}"
        );
        assert_eq!(body_budget_free(), BODY_BUDGET, "room not given back");

        // The backend is fixed: the same client reads it again.
        sim.set_faults(Faults::default());
        let units = client.get_bytes("units").await.unwrap();
        assert!(units.len() > 100);
        assert!(body_budget_free() < BODY_BUDGET);
        drop(units);
        assert_eq!(body_budget_free(), BODY_BUDGET);
        sim.stop().await;
    });
}

/// Under systemd, standard error is the journal's stream (`JOURNAL_STREAM` names it): the
/// console then writes to the journal in its native protocol. The test stands in for journald:
/// its own datagram socket, mounted where the journal's socket lives inside a mount namespace
/// of the console's own (`unshare`, as root), and a socket pair as standard error.
#[test]
fn under_systemd_the_console_logs_to_the_journal_with_priorities() {
    use std::os::fd::{AsRawFd as _, OwnedFd};
    use std::os::unix::fs::MetadataExt as _;
    use std::os::unix::net::{UnixDatagram, UnixStream};
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let unshare = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !(root && unshare) {
        // CI runs as root; a developer's desktop may not.
        eprintln!("SKIPPED: needs root and unshare to stand in for journald");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("systemd/journal");
    std::fs::create_dir_all(&journal).unwrap();
    let socket = UnixDatagram::bind(journal.join("socket")).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let meta = std::fs::metadata(format!("/proc/self/fd/{}", theirs.as_raw_fd())).unwrap();
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    let layout = repo().join("layouts/desk.toml");
    let status = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$1" /run && exec "$2" --config /dev/null layout check "$3""#)
        .arg("sh")
        .arg(dir.path())
        .arg(env!("CARGO_BIN_EXE_ioc-console"))
        .arg(&layout)
        .env("JOURNAL_STREAM", &stream)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(OwnedFd::from(theirs)))
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    // The layer first sends an empty datagram (to see that the journal is there).
    let mut buf = vec![0u8; 64 * 1024];
    let mut entry = std::collections::HashMap::new();
    while entry.is_empty() {
        let n = socket
            .recv(&mut buf)
            .expect("an entry on the journal's socket");
        entry = journal_fields(&buf[..n]);
    }
    assert_eq!(
        entry.get("MESSAGE").map(String::as_str),
        Some("logging to the systemd journal"),
        "{entry:?}"
    );
    // tracing-journald's priorities: error 3, warning 4, info 5 (notice), debug 6, trace 7.
    assert_eq!(
        entry.get("PRIORITY").map(String::as_str),
        Some("5"),
        "{entry:?}"
    );
    assert_eq!(
        entry.get("SYSLOG_IDENTIFIER").map(String::as_str),
        Some("ioc-console")
    );
    assert_eq!(
        entry.get("TARGET").map(String::as_str),
        Some("ioc_console::cli")
    );
    // Nothing of it went to standard error as well.
    drop(socket);
    ours.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut err = String::new();
    let _ = (&ours).read_to_string(&mut err);
    assert!(!err.contains("logging to the systemd journal"), "{err}");

    // Standard error that is not the journal's stream (a shell redirected it): plain lines.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(["--config", "/dev/null", "layout", "check"])
        .arg(&layout)
        .env("JOURNAL_STREAM", &stream)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("systemd journal"));
}

/// The fields of one entry in journald's native protocol: `KEY=value` lines, or `KEY`, a
/// newline, the value's length (64-bit little-endian), the value and a newline.
fn journal_fields(mut b: &[u8]) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    while !b.is_empty() {
        let Some(end) = b.iter().position(|&c| c == b'=' || c == b'\n') else {
            break;
        };
        let key = String::from_utf8_lossy(&b[..end]).into_owned();
        if b[end] == b'=' {
            let rest = &b[end + 1..];
            let stop = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            out.insert(key, String::from_utf8_lossy(&rest[..stop]).into_owned());
            b = rest.get(stop + 1..).unwrap_or_default();
        } else {
            let len = u64::from_le_bytes(b[end + 1..end + 9].try_into().unwrap()) as usize;
            let value = &b[end + 9..end + 9 + len];
            out.insert(key, String::from_utf8_lossy(value).into_owned());
            b = b.get(end + 9 + len + 1..).unwrap_or_default();
        }
    }
    out
}
