//! Consoles in step through a real `nats-server` (JetStream key-value) on loopback: a push from
//! one desk applied by the other consoles, a wall split across two PCs, the broker stopped and
//! started, bad values in the bucket, a standby taking over and giving back, a cluster losing
//! its leader, wrong credentials, and `wall status` / `wall push`.
//!
//! The consoles are console cores (`ConsoleApp` without a window) in this process, each with its
//! own sync task, runtime and connection, polled as a frame would.

use std::collections::BTreeMap;
use std::time::Duration;

use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
use ioc_console::context::Command;
use ioc_console::i18n::Lang;
use ioc_console::model::wall_share::{BadValue, SharedWall, WallChange};
use ioc_console::role::Role;
use ioc_console::sync::{self, LinkState, SyncConfig, SyncLink, SyncRequest, SyncUpdate};
use ioc_console::tiles::TileOptions;

use crate::nats::{Nats, wait_for};
use crate::support::{Xvfb, load_layout, repo};

const LIMIT: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn config(servers: Vec<String>, wall: &str, console: &str) -> SyncConfig {
    let mut c = SyncConfig::new(servers, wall);
    c.console = Some(console.into());
    c.heartbeat_s = Some(0.25);
    c.expire_s = Some(1.0);
    c
}

/// A console core on the main wall, in step through `config`.
struct Console {
    app: ConsoleApp,
    rt: Option<tokio::runtime::Runtime>,
}

impl Console {
    fn new(config: &SyncConfig, role: Role) -> Console {
        Console::with_layout(config, role, "ioc-main.toml")
    }

    fn with_layout(config: &SyncConfig, role: Role, layout: &str) -> Console {
        let rt = runtime();
        let link = sync::start(rt.handle(), config, None, None);
        let app = ConsoleApp::new(
            &egui::Context::default(),
            LaunchOptions {
                layout: load_layout(layout),
                layout_path: None,
                lang: Lang::Vi,
                role,
                display: DisplayChoice::Preview,
                watch: false,
                backend: None,
                wake: None,
                map: Default::default(),
                cameras: Default::default(),
            },
        )
        .with_sync(link, Box::new(()));
        Console { app, rt: Some(rt) }
    }

    fn poll(&mut self) {
        self.app.poll_sync(1.0);
    }

    fn scene(&self) -> Option<String> {
        self.app.wall_state().view.scene.clone()
    }

    fn link(&self) -> LinkState {
        self.app.in_step().unwrap().state.clone()
    }

    fn up(&mut self) -> bool {
        self.poll();
        self.link().is_up()
    }

    /// The process dies without a goodbye (as under SIGKILL): its runtime and connection go,
    /// its heartbeat stays in the bucket until it expires.
    fn crash(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Polls every console until `f` holds for them all.
fn until_all(consoles: &mut [&mut Console], what: &str, f: impl Fn(&Console) -> bool) {
    wait_for(LIMIT, what, || {
        // Every console is polled (its heartbeat goes out from its frames), then checked.
        for c in consoles.iter_mut() {
            c.poll();
        }
        consoles.iter().all(|c| f(c))
    });
}

/// The sync layer alone (no console): its link on its own runtime.
fn link(config: &SyncConfig) -> (tokio::runtime::Runtime, SyncLink) {
    let rt = runtime();
    let l = sync::start(rt.handle(), config, None, None);
    (rt, l)
}

/// A raw client's put of `bytes` as the wall's value (another program writing the bucket).
fn put_raw(url: &str, wall: &str, bytes: &'static [u8]) {
    let rt = runtime();
    // Right after a restart the server may still be recovering its streams: tried for a while.
    let until = std::time::Instant::now() + LIMIT;
    loop {
        let done = rt.block_on(async {
            let client = async_nats::connect(url).await.ok()?;
            let js = async_nats::jetstream::new(client);
            let kv = js.get_key_value(sync::WALL_BUCKET).await.ok()?;
            kv.put(sync::key_token(wall), bytes.into()).await.ok()
        });
        if done.is_some() {
            return;
        }
        assert!(std::time::Instant::now() < until, "cannot write the bucket");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ioc_console() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
}

#[test]
fn a_push_from_one_desk_is_applied_by_every_console_and_a_leader_cannot_push() {
    let nats = Nats::start();
    let wall = "hall";
    let mut desk = Console::new(&config(vec![nats.url()], wall, "desk-1"), Role::Operator);
    let mut screen = Console::new(&config(vec![nats.url()], wall, "wall-pc"), Role::Operator);
    let mut leader = Console::new(&config(vec![nats.url()], wall, "leader"), Role::Leader);
    until_all(
        &mut [&mut desk, &mut screen, &mut leader],
        "links up",
        |c| c.link().is_up(),
    );

    // A scene from the desk: not applied there until the broker has it, then everywhere with
    // its enlarged tile.
    desk.app.apply(Command::RecallScene(Some("lu-lut".into())));
    until_all(
        &mut [&mut desk, &mut screen, &mut leader],
        "the scene everywhere",
        |c| c.scene().as_deref() == Some("lu-lut"),
    );
    let view = screen.app.wall_state().view;
    assert_eq!(view.enlarged_on("B2"), Some("camera-07"), "{view:?}");

    // A camera pushed to a tile: the wall console's layout shows it there.
    desk.app.apply(Command::PushCamera {
        tile: "camera-01".into(),
        camera: Some("CAM-BT-09".into()),
    });
    until_all(&mut [&mut screen], "the camera on the tile", |c| {
        c.app.wall_state().layout.tiles.iter().any(|t| {
            t.id == "camera-01"
                && matches!(&t.options, TileOptions::Camera(o) if o.camera == "CAM-BT-09")
        })
    });

    // The map's "send the cameras nearest an incident" goes to the wall the same way.
    desk.app.apply(Command::SendCameras(Some(
        ioc_console::context::command::SentCameras {
            incident: "PA-1".into(),
            cameras: vec!["CAM-A".into(), "CAM-B".into()],
        },
    )));
    until_all(&mut [&mut screen], "the nearby cameras on the wall", |c| {
        c.app.wall_state().view.sent() == ["CAM-A", "CAM-B"]
    });

    // The leader's desk sees the wall but its push is refused, with the reason, and nothing
    // reaches the bucket.
    let before = screen.app.in_step().unwrap().revision;
    leader.app.apply(Command::RecallScene(None));
    let notice = leader.app.notice().unwrap_or_default().to_string();
    assert!(notice.contains("lãnh đạo"), "{notice}");
    std::thread::sleep(Duration::from_millis(300));
    screen.poll();
    assert_eq!(screen.app.in_step().unwrap().revision, before);
    assert_eq!(screen.scene().as_deref(), Some("lu-lut"));

    // Every console's heartbeat is seen.
    until_all(&mut [&mut desk], "three consoles", |c| {
        c.app.in_step().unwrap().consoles.len() == 3
    });
    // A console that closes takes its heartbeat with it (no waiting for it to expire).
    drop(leader);
    let gone = runtime().block_on(async {
        let client = async_nats::connect(nats.url().as_str()).await.unwrap();
        let kv = async_nats::jetstream::new(client)
            .get_key_value(sync::PRESENCE_BUCKET)
            .await
            .unwrap();
        kv.get(sync::presence_key(wall, "leader")).await.unwrap()
    });
    assert_eq!(gone, None, "the closed console's heartbeat is purged");

    // A console of another layout does not push onto this wall: refused, with the reason.
    let mut other = Console::with_layout(
        &config(vec![nats.url()], wall, "other"),
        Role::Operator,
        "desk.toml",
    );
    until_all(&mut [&mut other], "the other console up", |c| {
        c.link().is_up()
    });
    other.app.apply(Command::RecallScene(None));
    wait_for(LIMIT, "the refusal", || {
        other.poll();
        other.app.notice().is_some_and(|n| n.contains("bố cục"))
    });
    assert_eq!(screen.scene().as_deref(), Some("lu-lut"));
}

#[test]
fn a_wall_split_across_two_pcs_shows_one_scene_and_says_which_pc_drives_what() {
    let nats = Nats::start();
    let wall = "split";
    let mut left_cfg = config(vec![nats.url()], wall, "pc-left");
    left_cfg.monitors = vec!["A1".into(), "B1".into(), "C1".into()];
    let mut right_cfg = config(vec![nats.url()], wall, "pc-right");
    right_cfg.monitors = vec!["A2".into(), "B2".into(), "C2".into()];
    let mut left = Console::new(&left_cfg, Role::Operator);
    let mut right = Console::new(&right_cfg, Role::Operator);
    let mut desk = Console::new(&config(vec![nats.url()], wall, "desk"), Role::Operator);
    until_all(
        &mut [&mut left, &mut right, &mut desk],
        "all see three",
        |c| c.app.in_step().is_some_and(|s| s.consoles.len() == 3),
    );
    assert_eq!(
        left.app.wall_state().driven,
        Some(vec!["A1".into(), "B1".into(), "C1".into()])
    );
    assert_eq!(
        right.app.wall_state().driven,
        Some(vec!["A2".into(), "B2".into(), "C2".into()])
    );
    desk.app.apply(Command::RecallScene(Some("lu-lut".into())));
    desk.app.apply(Command::Enlarge {
        monitor: "A1".into(),
        tile: Some("chart-grdp".into()),
    });
    until_all(
        &mut [&mut left, &mut right],
        "one scene on both halves",
        |c| {
            let v = c.app.wall_state().view;
            v.scene.as_deref() == Some("lu-lut") && v.enlarged_on("A1") == Some("chart-grdp")
        },
    );
    assert_eq!(left.app.wall_state().view, right.app.wall_state().view);
    assert_eq!(
        left.app.wall_state().layout.tiles,
        right.app.wall_state().layout.tiles,
        "both halves have the same layout in force"
    );

    // `wall status` sees both halves and the desk.
    let out = ioc_console()
        .args([
            "--lang",
            "en",
            "wall",
            "status",
            "--server",
            &nats.url(),
            "--wall",
            wall,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("scene: lu-lut"), "{text}");
    assert!(
        text.contains("pc-left") && text.contains("A1,B1,C1"),
        "{text}"
    );
    assert!(
        text.contains("pc-right") && text.contains("A2,B2,C2"),
        "{text}"
    );

    // The right PC stops: its monitors are driven by no console, and the desk says which.
    right.crash();
    until_all(&mut [&mut desk], "the right half undriven", |c| {
        let s = c.app.in_step().unwrap();
        let all = ["A1", "B1", "C1", "A2", "B2", "C2"];
        // The desk drives every monitor in its preview; the wall PCs' monitors are what count.
        let wall_pcs: Vec<_> = s
            .consoles
            .iter()
            .filter(|p| p.console.starts_with("pc-"))
            .cloned()
            .collect();
        ioc_console::model::wall_share::undriven(all, &wall_pcs) == ["A2", "B2", "C2"]
    });
}

#[test]
fn the_broker_stopped_keeps_the_last_state_refuses_pushes_and_catches_up_after() {
    let mut nats = Nats::start();
    let wall = "restart";
    let mut a = Console::new(&config(vec![nats.url()], wall, "a"), Role::Operator);
    let mut b = Console::new(&config(vec![nats.url()], wall, "b"), Role::Operator);
    until_all(&mut [&mut a, &mut b], "links up", |c| c.link().is_up());
    a.app.apply(Command::RecallScene(Some("lu-lut".into())));
    until_all(&mut [&mut a, &mut b], "the scene", |c| {
        c.scene().as_deref() == Some("lu-lut")
    });

    nats.kill();
    until_all(&mut [&mut a, &mut b], "the link lost", |c| {
        matches!(c.link(), LinkState::Down { .. })
    });
    // The last state stays; a push meanwhile is refused with the reason, visibly.
    assert_eq!(b.scene().as_deref(), Some("lu-lut"));
    a.app
        .apply(Command::RecallScene(Some("binh-thuong".into())));
    let notice = a.app.notice().unwrap_or_default().to_string();
    assert!(notice.contains("mất kết nối đồng bộ"), "{notice}");
    assert_eq!(
        a.scene().as_deref(),
        Some("lu-lut"),
        "not applied locally either"
    );

    nats.restart();
    // The state written while the consoles were away is what they take when they come back.
    put_raw(
        &nats.url(),
        wall,
        br#"{"format":1,"scene":"giao-ban","by":"another"}"#,
    );
    until_all(
        &mut [&mut a, &mut b],
        "back in step with the new state",
        |c| c.link().is_up() && c.scene().as_deref() == Some("giao-ban"),
    );
    a.app
        .apply(Command::RecallScene(Some("binh-thuong".into())));
    until_all(&mut [&mut a, &mut b], "a push after the outage", |c| {
        c.scene().as_deref() == Some("binh-thuong")
    });
}

#[test]
fn malformed_newer_and_foreign_values_are_ignored_and_the_wall_keeps_its_state() {
    let nats = Nats::start();
    let wall = "bad";
    let mut a = Console::new(&config(vec![nats.url()], wall, "a"), Role::Operator);
    until_all(&mut [&mut a], "link up", |c| c.link().is_up());
    a.app.apply(Command::RecallScene(Some("lu-lut".into())));
    until_all(&mut [&mut a], "the scene", |c| {
        c.scene().as_deref() == Some("lu-lut")
    });

    put_raw(&nats.url(), wall, b"{not json at all");
    until_all(&mut [&mut a], "a malformed value said", |c| {
        matches!(
            c.app.in_step().unwrap().bad,
            Some((_, BadValue::Malformed(_)))
        )
    });
    assert_eq!(a.scene().as_deref(), Some("lu-lut"));

    put_raw(&nats.url(), wall, br#"{"format":7,"scene":"binh-thuong"}"#);
    until_all(&mut [&mut a], "a newer value said", |c| {
        matches!(c.app.in_step().unwrap().bad, Some((_, BadValue::Newer(7))))
    });
    assert_eq!(a.scene().as_deref(), Some("lu-lut"));
    // A change pushed onto a value this console cannot read would drop what the newer one
    // wrote: refused, and the value stays as it was.
    a.app.apply(Command::RecallScene(Some("giao-ban".into())));
    wait_for(LIMIT, "the push refused", || {
        a.poll();
        a.app.in_step().unwrap().pending.is_empty()
            && a.app.notice().is_some_and(|n| n.contains("không đọc được"))
    });
    let (_, value, _) = runtime()
        .block_on(sync::one_shot_status(
            &config(vec![nats.url()], wall, "check"),
            None,
        ))
        .unwrap();
    assert_eq!(value, Err(BadValue::Newer(7)));

    put_raw(
        &nats.url(),
        wall,
        br#"{"format":1,"scene":"lu-lut","enlarged":{"A1":"no-such-tile"}}"#,
    );
    until_all(&mut [&mut a], "an unknown tile said", |c| {
        c.app
            .in_step()
            .unwrap()
            .mismatch
            .as_deref()
            .is_some_and(|m| m.contains("no-such-tile"))
    });
    assert_eq!(a.app.wall_state().view.enlarged_on("A1"), None);

    put_raw(
        &nats.url(),
        wall,
        br#"{"format":1,"layout":"another wall","scene":"x"}"#,
    );
    until_all(&mut [&mut a], "another layout said", |c| {
        c.app
            .in_step()
            .unwrap()
            .mismatch
            .as_deref()
            .is_some_and(|m| m.contains("another wall"))
    });
    assert_eq!(a.scene().as_deref(), Some("lu-lut"));

    // A good value again is applied, and the notices go: the wall back on this layout.
    let name = a.app.wall_state().layout.name.clone();
    a.app
        .apply(Command::WallPush(WallChange::Layout { layout: name }));
    until_all(&mut [&mut a], "cleared", |c| {
        let s = c.app.in_step().unwrap();
        c.scene().is_none() && s.bad.is_none() && s.mismatch.is_none()
    });
}

#[test]
fn a_standby_takes_the_monitors_of_a_dead_primary_and_gives_them_back() {
    let nats = Nats::start();
    let wall = "standby";
    let mut primary_cfg = config(vec![nats.url()], wall, "primary");
    primary_cfg.monitors = vec!["A1".into(), "B1".into()];
    let mut standby_cfg = config(vec![nats.url()], wall, "standby");
    standby_cfg.monitors = vec!["C1".into()];
    standby_cfg.standby = vec!["A1".into(), "B1".into()];
    let mut primary = Console::new(&primary_cfg, Role::Operator);
    let mut standby = Console::new(&standby_cfg, Role::Operator);
    until_all(&mut [&mut primary, &mut standby], "both seen", |c| {
        c.app.in_step().is_some_and(|s| s.consoles.len() == 2)
    });
    assert_eq!(standby.app.wall_state().driven, Some(vec!["C1".into()]));

    primary.crash();
    until_all(&mut [&mut standby], "the standby taking over", |c| {
        c.app.wall_state().driven == Some(vec!["C1".into(), "A1".into(), "B1".into()])
    });
    // Its heartbeat says so: the monitors are driven.
    until_all(
        &mut [&mut standby],
        "the heartbeat with the monitors",
        |c| {
            c.app
                .in_step()
                .unwrap()
                .consoles
                .iter()
                .any(|p| p.console == "standby" && p.monitors == ["C1", "A1", "B1"])
        },
    );

    let mut back = Console::new(&primary_cfg, Role::Operator);
    until_all(&mut [&mut back, &mut standby], "given back", |c| {
        c.app.wall_state().driven
            == Some(if c.app.in_step().unwrap().link.console == "standby" {
                vec!["C1".into()]
            } else {
                vec!["A1".into(), "B1".into()]
            })
    });
}

#[test]
fn a_cluster_losing_its_leader_loses_no_acknowledged_push() {
    let mut nodes = Nats::cluster();
    let urls: Vec<String> = nodes.iter().map(Nats::url).collect();
    let wall = "cluster";
    let mut cfg = config(urls.clone(), wall, "pusher");
    cfg.replicas = Some(3);
    let (_rt, mut pusher) = link(&cfg);
    let mut watcher_cfg = config(vec![urls[2].clone(), urls[1].clone()], wall, "watcher");
    watcher_cfg.replicas = Some(3);
    let (_rt2, mut watcher) = link(&watcher_cfg);

    // Pushes go one at a time, each waiting for its outcome, as an operator's would.
    let push = |l: &mut SyncLink, id: u64| -> Result<u64, String> {
        l.requests
            .blocking_send(SyncRequest::Push {
                layout: None,
                id,
                change: WallChange::Camera {
                    tile: format!("t{id:03}"),
                    camera: Some(format!("c{id}")),
                },
            })
            .unwrap();
        let until = std::time::Instant::now() + LIMIT;
        loop {
            match l.updates.try_recv() {
                Ok(SyncUpdate::Pushed { id: got, outcome }) if got == id => {
                    return outcome.map_err(|e| format!("{e:?}"));
                }
                Ok(_) => {}
                Err(_) => {
                    assert!(
                        std::time::Instant::now() < until,
                        "no outcome for push {id}"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    };
    wait_for(LIMIT, "the first push lands", || {
        push(&mut pusher, 0).is_ok()
    });

    // The leader of the wall's bucket, from the broker.
    let leader = runtime().block_on(async {
        let client = async_nats::connect(urls[0].as_str()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("KV_ioc_walls").await.unwrap();
        let info = stream.info().await.unwrap();
        info.cluster
            .as_ref()
            .and_then(|c| c.leader.clone())
            .unwrap()
    });
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    let mut after_kill = 0;
    let started = std::time::Instant::now();
    let mut id = 1u64;
    // Pushes before the leader goes, then until 20 have been acknowledged after (a push
    // meanwhile may be refused, visibly: while the client reconnects or the cluster elects).
    while after_kill < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{refused} refused"
        );
        if id == 20 {
            let node = nodes.iter_mut().find(|n| n.name() == leader).unwrap();
            node.kill();
        }
        match push(&mut pusher, id) {
            Ok(_) => {
                acknowledged.push(id);
                if id > 20 {
                    after_kill += 1;
                }
            }
            Err(_) => refused += 1,
        }
        id += 1;
    }
    // Every acknowledged push is in the wall's value, as the watcher sees it.
    let mut last: Option<SharedWall> = None;
    wait_for(LIMIT, "the watcher in step", || {
        while let Ok(u) = watcher.updates.try_recv() {
            if let SyncUpdate::Wall { wall, .. } = u {
                last = Some(*wall);
            }
        }
        last.as_ref().is_some_and(|w| {
            acknowledged
                .iter()
                .all(|i| w.cameras.get(&format!("t{i:03}")) == Some(&format!("c{i}")))
        })
    });
}

#[test]
fn wrong_credentials_are_said_and_never_shown() {
    let nats = Nats::start_with(vec![
        "--user".into(),
        "wall".into(),
        "--pass".into(),
        "right-pass".into(),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("nats.creds");
    std::fs::write(&creds, "wall:Wr0ngSecret\n").unwrap();
    let mut cfg = config(vec![nats.url()], "creds", "a");
    cfg.credentials = Some(creds.clone());
    let mut a = Console::new(&cfg, Role::Operator);
    wait_for(LIMIT, "refused", || {
        a.poll();
        matches!(a.link(), LinkState::Refused { .. })
    });
    let LinkState::Refused { why, .. } = a.link() else {
        unreachable!()
    };
    assert!(!why.contains("Wr0ngSecret"), "{why}");
    // With the right ones it connects.
    std::fs::write(&creds, "wall:right-pass\n").unwrap();
    let mut b = Console::new(&cfg, Role::Operator);
    wait_for(LIMIT, "connected", || b.up());

    // `wall status` with the wrong ones: an error, no secret in what it prints or logs.
    std::fs::write(&creds, "wall:Wr0ngSecret\n").unwrap();
    let conf = dir.path().join("config.toml");
    std::fs::write(
        &conf,
        format!(
            "[sync]\nservers = [\"{}\"]\nwall = \"creds\"\ncredentials = \"{}\"\n",
            nats.url(),
            creds.display()
        ),
    )
    .unwrap();
    let out = ioc_console()
        .args(["--lang", "en", "--config"])
        .arg(&conf)
        .args(["wall", "status"])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{all}");
    assert!(all.to_lowercase().contains("authorization"), "{all}");
    assert!(!all.contains("Wr0ngSecret"), "{all}");
}

#[test]
fn no_permission_on_the_walls_subjects_is_said_and_the_push_refused() {
    // A user who may use JetStream but not write the walls' bucket.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nats.conf");
    std::fs::write(
        &conf,
        r#"authorization {
  users = [
    { user: "viewer", password: "viewer-pass",
      permissions: { publish: { allow: [">"], deny: ["$KV.ioc_walls.>"] } } }
  ]
}
"#,
    )
    .unwrap();
    let nats = Nats::start_with(vec!["-c".into(), conf.to_string_lossy().into_owned()]);
    // The buckets exist (made by a console with full rights would be the usual case; here the
    // viewer may make them: only writing a wall's key is denied).
    let creds = dir.path().join("creds");
    std::fs::write(&creds, "viewer:viewer-pass\n").unwrap();
    let mut cfg = config(vec![nats.url()], "perm", "viewer");
    cfg.credentials = Some(creds);
    let mut a = Console::new(&cfg, Role::Operator);
    until_all(&mut [&mut a], "link up", |c| c.link().is_up());
    a.app.apply(Command::RecallScene(Some("lu-lut".into())));
    wait_for(LIMIT, "the refusal said", || {
        a.poll();
        a.app.in_step().unwrap().pending.is_empty()
    });
    let notice = a.app.notice().unwrap_or_default().to_string();
    assert!(notice.contains("Không đưa được lên tường"), "{notice}");
    assert!(notice.to_lowercase().contains("permission"), "{notice}");
    assert!(a.link().is_up(), "reading the wall still works");
    assert_eq!(a.scene(), None, "nothing applied");
}

#[test]
fn wall_push_and_status_from_the_command_line() {
    let nats = Nats::start();
    let wall = "cli";
    let mut a = Console::new(&config(vec![nats.url()], wall, "a"), Role::Operator);
    until_all(&mut [&mut a], "link up", |c| c.link().is_up());
    let layout = repo().join("layouts/ioc-main.toml");
    let run = |args: &[&str]| {
        let out = ioc_console()
            .args(["--lang", "en", "wall"])
            .args(args)
            .args(["--server", &nats.url(), "--wall", wall])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let l = layout.to_str().unwrap();
    let (code, out, err) = run(&["push", "--scene", "lu-lut", "--layout", l]);
    assert_eq!(code, Some(0), "{out}{err}");
    until_all(&mut [&mut a], "the scene from the command line", |c| {
        c.scene().as_deref() == Some("lu-lut")
            && c.app.wall_state().view.enlarged_on("B2") == Some("camera-07")
    });
    let (code, _, _) = run(&["push", "--camera", "CAM-X", "--tile", "camera-02"]);
    assert_eq!(code, Some(0));
    until_all(&mut [&mut a], "the camera", |c| {
        c.app.wall_state().view.pushed
            == BTreeMap::from([("camera-02".to_string(), "CAM-X".to_string())])
    });
    let (code, out, _) = run(&["status", "--json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["state"]["scene"], "lu-lut");
    assert_eq!(v["state"]["cameras"]["camera-02"], "CAM-X");
    assert_eq!(v["consoles"][0]["console"], "a");
    let (code, _, err) = run(&["push", "--scene", "no-such-scene", "--layout", l]);
    assert_eq!(
        code,
        Some(2),
        "an unknown scene is refused before it is pushed: {err}"
    );
    let (code, _, _) = run(&["push", "--clear"]);
    assert_eq!(code, Some(0));
    until_all(&mut [&mut a], "cleared", |c| {
        c.scene().is_none() && c.app.wall_state().view.pushed.is_empty()
    });
}

#[test]
fn a_briefing_on_the_presenter_desk_is_shown_by_the_wall_console_in_step() {
    use ioc_console::context::BriefStep;
    let nats = Nats::start();
    let wall = "brief";
    let mut presenter = Console::new(&config(vec![nats.url()], wall, "presenter"), Role::Operator);
    let mut screen = Console::new(&config(vec![nats.url()], wall, "screen"), Role::Operator);
    until_all(&mut [&mut presenter, &mut screen], "links up", |c| {
        c.link().is_up()
    });
    let board = repo().join("layouts/briefings/giao-ban-thang.toml");
    presenter.app.apply(Command::Brief(BriefStep::Start(board)));
    presenter.app.apply(Command::Brief(BriefStep::Next));
    presenter.app.apply(Command::Brief(BriefStep::Next));
    let as_of = presenter
        .app
        .wall_state()
        .view
        .briefing
        .as_ref()
        .unwrap()
        .as_of;
    until_all(
        &mut [&mut screen],
        "the wall at the presenter's scene",
        |c| {
            c.app
                .wall_state()
                .view
                .briefing
                .as_ref()
                .is_some_and(|b| b.scene == 2 && b.as_of == as_of)
        },
    );
    let state = screen.app.wall_state();
    assert!(state.frozen.is_some(), "the wall's data is frozen too");
    assert_eq!(state.storyboard.as_ref().unwrap().scenes.len(), 7);

    // The presenter's scope and black screen follow; the end of the briefing too.
    presenter
        .app
        .apply(Command::Scope(Some("xa-an-thuy".into())));
    presenter.app.apply(Command::Brief(BriefStep::Black));
    until_all(&mut [&mut screen], "scope and black", |c| {
        let v = c.app.wall_state().view;
        v.scope.as_deref() == Some("xa-an-thuy") && v.briefing.as_ref().is_some_and(|b| b.black)
    });
    // A leader presenting their own storyboard on their desk keeps it: the wall's briefing
    // does not take it over.
    let mut leader = Console::new(&config(vec![nats.url()], wall, "leader"), Role::Leader);
    until_all(&mut [&mut leader], "the leader up", |c| c.link().is_up());
    leader
        .app
        .apply(Command::SetMode(ioc_console::role::Mode::Brief));
    leader.app.apply(Command::Brief(BriefStep::Start(
        repo().join("layouts/briefings/giao-ban-thang.toml"),
    )));
    presenter.app.apply(Command::Brief(BriefStep::Go(5)));
    until_all(&mut [&mut screen], "the wall at scene 5", |c| {
        c.app
            .wall_state()
            .view
            .briefing
            .as_ref()
            .is_some_and(|b| b.scene == 4)
    });
    leader.poll();
    assert_eq!(
        leader
            .app
            .wall_state()
            .view
            .briefing
            .as_ref()
            .map(|b| b.scene),
        Some(0),
        "the leader's own briefing stays where the leader is"
    );

    presenter.app.apply(Command::Brief(BriefStep::End));
    until_all(&mut [&mut screen], "the briefing ended on the wall", |c| {
        let s = c.app.wall_state();
        s.view.briefing.is_none() && s.frozen.is_none()
    });

    // Leaving Brief mode by another mode ends it on the wall too.
    presenter
        .app
        .apply(Command::SetMode(ioc_console::role::Mode::Brief));
    presenter.app.apply(Command::Brief(BriefStep::Start(
        repo().join("layouts/briefings/giao-ban-thang.toml"),
    )));
    until_all(&mut [&mut screen], "a second briefing on the wall", |c| {
        c.app.wall_state().view.briefing.is_some()
    });
    presenter
        .app
        .apply(Command::SetMode(ioc_console::role::Mode::Operate));
    until_all(&mut [&mut screen], "ended by leaving the mode", |c| {
        c.app.wall_state().view.briefing.is_none()
    });
}

#[test]
fn a_desk_puts_a_camera_on_the_wall_from_its_sync_window_and_sees_the_undriven_monitors() {
    use egui_kittest::kittest::Queryable as _;
    use ioc_console::sim::{SimConfig, SimServer};
    let rt = runtime();
    let sim = rt
        .block_on(SimServer::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            epoch: Some(crate::support::fixed_now()),
            paused: true,
            ..SimConfig::default()
        }))
        .unwrap();
    let nats = Nats::start();
    let wall = "desk-ui";
    let desk_rt = runtime();
    let link = sync::start(
        desk_rt.handle(),
        &config(vec![nats.url()], wall, "desk"),
        None,
        None,
    );
    let desk = crate::support::connected(
        sim.base_url(),
        Lang::Vi,
        Role::Operator,
        load_layout("ioc-main.toml"),
    );
    let desk = std::rc::Rc::new(std::cell::RefCell::new(
        std::rc::Rc::try_unwrap(desk)
            .ok()
            .unwrap()
            .into_inner()
            .with_sync(link, Box::new(desk_rt)),
    ));
    let mut left_cfg = config(vec![nats.url()], wall, "pc-left");
    left_cfg.monitors = vec!["A1".into(), "B1".into(), "C1".into()];
    let mut left = Console::new(&left_cfg, Role::Operator);
    let mut h = crate::support::harness([1600.0, 900.0], {
        let desk = std::rc::Rc::clone(&desk);
        move |ui| desk.borrow_mut().show(ui)
    });
    wait_for(LIMIT, "data and both consoles", || {
        left.poll();
        h.step();
        let d = desk.borrow();
        d.wall_state().store.cameras.data.is_some()
            && d.in_step().is_some_and(|s| s.consoles.len() == 2)
    });
    h.run();
    h.get_by_label("Đồng bộ: 2 máy").click();
    h.run();
    let camera = desk
        .borrow()
        .wall_state()
        .store
        .cameras
        .data
        .as_ref()
        .unwrap()[3]
        .clone();
    let tile_title = load_layout("ioc-main.toml")
        .tiles
        .iter()
        .find(|t| t.id == "camera-02")
        .unwrap()
        .title
        .clone();
    use egui::accesskit::Role as A11y;
    h.get_by_role_and_label(A11y::ComboBox, "Camera").click();
    h.run();
    // The name is on the wall's picture too: the drop-down's entry is the last one.
    h.get_all_by_label(&camera.name).last().unwrap().click();
    h.run();
    h.get_by_role_and_label(A11y::ComboBox, "vào ô").click();
    h.run();
    h.get_all_by_label(&tile_title).last().unwrap().click();
    h.run();
    h.get_by_label("Đưa lên tường").click();
    h.run();
    until_all(&mut [&mut left], "the camera on the wall PC's tile", |c| {
        c.app.wall_state().view.pushed.get("camera-02") == Some(&camera.id)
    });
    // The desk shows it pushed, with a button to give it back.
    wait_for(LIMIT, "the desk's list of pushed cameras", || {
        h.step();
        h.query_by_label("Trả lại").is_some()
    });
    h.run();
    let img = h.render().unwrap();
    let out = std::env::temp_dir().join("ioc-sync-desk.png");
    img.save(&out).unwrap();
    h.get_by_label("Trả lại").click();
    h.run();
    until_all(&mut [&mut left], "the tile's own camera again", |c| {
        c.app.wall_state().view.pushed.is_empty()
    });
}

#[test]
fn the_readme_sync_configuration_parses_and_mistakes_are_named() {
    use std::path::Path;
    let text = &crate::support::readme_config();
    let cfg = ioc_console::config::parse(Path::new("config.toml"), text).unwrap();
    let s = cfg.sync.unwrap();
    assert_eq!(s.servers.len(), 3);
    assert_eq!(s.monitors, ["A1", "B1", "C1"]);
    assert_eq!(s.replicas, Some(3));
    for (bad, says) in [
        ("[sync]\nservers = []\nwall = \"w\"", "sync.servers"),
        (
            "[sync]\nservers = [\"http://x:80\"]\nwall = \"w\"",
            "nats://",
        ),
        (
            "[sync]\nservers = [\"nats://u:secret@x:4222\"]\nwall = \" \"",
            "sync.wall",
        ),
        (
            "[sync]\nservers = [\"nats://x:4222\"]\nwall = \"w\"\nmonitors = [\"A1\"]\nstandby = [\"A1\"]",
            "sync.standby",
        ),
        (
            "[sync]\nserver = [\"nats://x:4222\"]\nwall = \"w\"",
            "server",
        ),
        (
            "[sync]\nservers = [\"nats://x:4222\"]\nwall = \"w\"\nheartbeat_s = nan",
            "sync.heartbeat_s",
        ),
    ] {
        let e = ioc_console::config::parse(Path::new("config.toml"), bad)
            .expect_err(bad)
            .say(Lang::En);
        assert!(e.contains(says), "{bad}: {e}");
        assert!(!e.contains("secret"), "{e}");
    }
}

#[test]
fn a_standby_takes_over_from_a_console_process_killed_with_sigkill() {
    let nats = Nats::start();
    let x = Xvfb::start();
    let wall = "sigkill";
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("config.toml");
    std::fs::write(
        &conf,
        format!(
            "[sync]\nservers = [\"{}\"]\nwall = \"{wall}\"\nconsole = \"primary-pc\"\nmonitors = [\"A1\", \"B1\"]\nheartbeat_s = 0.25\nexpire_s = 1.0\n",
            nats.url()
        ),
    )
    .unwrap();
    let runtime_dir = dir.path().join("xdg");
    std::fs::create_dir_all(&runtime_dir).unwrap();
    let primary = || {
        ioc_console()
            .arg("--config")
            .arg(&conf)
            .args(["run", "--preview", "--layout"])
            .arg(repo().join("layouts/ioc-main.toml"))
            .env("DISPLAY", &x.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut standby_cfg = config(vec![nats.url()], wall, "standby");
    standby_cfg.monitors = vec!["C1".into()];
    standby_cfg.standby = vec!["A1".into(), "B1".into()];
    let mut standby = Console::new(&standby_cfg, Role::Operator);

    let mut child = primary();
    until_all(&mut [&mut standby], "the primary's heartbeat", |c| {
        c.app
            .in_step()
            .unwrap()
            .consoles
            .iter()
            .any(|p| p.console == "primary-pc" && p.monitors == ["A1", "B1"])
    });
    assert_eq!(standby.app.wall_state().driven, Some(vec!["C1".into()]));

    // SIGKILL: no goodbye, the heartbeat stops.
    child.kill().unwrap();
    child.wait().unwrap();
    until_all(&mut [&mut standby], "the standby taking over", |c| {
        c.app.wall_state().driven == Some(vec!["C1".into(), "A1".into(), "B1".into()])
    });

    let mut child = primary();
    until_all(&mut [&mut standby], "given back to the primary", |c| {
        c.app.wall_state().driven == Some(vec!["C1".into()])
    });
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn tls_with_the_configured_ca_bundle_and_a_token_from_the_credentials_file() {
    let dir = tempfile::tempdir().unwrap();
    // A test CA, and the server's certificate for 127.0.0.1 signed by it.
    let (ca, cert, key) = crate::tls::test_ca_and_server_cert("Test control room CA");
    let (ca_pem, cert_pem, key_pem) = (
        dir.path().join("ca.pem"),
        dir.path().join("server.pem"),
        dir.path().join("server-key.pem"),
    );
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    let arg = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let nats = Nats::start_with(vec![
        "--tls".into(),
        "--tlscert".into(),
        arg(&cert_pem),
        "--tlskey".into(),
        arg(&key_pem),
        "--auth".into(),
        "s3cret-token".into(),
    ]);
    let creds = dir.path().join("token");
    std::fs::write(&creds, "s3cret-token\n").unwrap();
    let mut cfg = config(
        vec![format!("tls://127.0.0.1:{}", nats.port)],
        "tls",
        "tls-console",
    );
    cfg.credentials = Some(creds);

    // With the bundle: in step.
    let rt = runtime();
    let mut up = sync::start(rt.handle(), &cfg, Some(ca_pem), None);
    wait_for(LIMIT, "connected over TLS", || {
        matches!(up.updates.try_recv(), Ok(SyncUpdate::Link(LinkState::Up)))
    });
    // Without it the server's certificate is not trusted: the link says why, and never
    // comes up.
    let rt2 = runtime();
    let mut down = sync::start(rt2.handle(), &cfg, None, None);
    let mut why = String::new();
    wait_for(LIMIT, "refused without the bundle", || {
        while let Ok(u) = down.updates.try_recv() {
            match u {
                SyncUpdate::Link(LinkState::Down { why: w, .. })
                | SyncUpdate::Link(LinkState::Refused { why: w, .. }) => why = w,
                SyncUpdate::Link(LinkState::Up) => panic!("an untrusted server was accepted"),
                _ => {}
            }
        }
        !why.is_empty()
    });
    assert!(!why.contains("s3cret"), "{why}");
}

#[test]
fn monitors_without_sync_is_an_error_that_says_what_to_add() {
    // No configuration (an empty configuration folder): no [sync], so --monitors is refused
    // before any window would open.
    let config_home = tempfile::tempdir().unwrap();
    let out = ioc_console()
        .args(["--lang", "en", "run", "--monitors", "A1,B1"])
        .env_remove("IOC_CONSOLE_CONFIG")
        .env("XDG_CONFIG_HOME", config_home.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("[sync]"), "{err}");
}
