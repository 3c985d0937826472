//! The incident workflow end to end: the desk's keyboard flow against the simulator over HTTP,
//! the outbox surviving SIGKILL at both dangerous moments, conflicts, refusals, roles, and the
//! quarterly report's figures on a known data set.

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use egui::Key;
use egui_kittest::kittest::Queryable as _;
use ioc_console::app::ConsoleApp;
use ioc_console::context::TileState;
use ioc_console::i18n::Lang;
use ioc_console::incidents::report::{self, Quarter};
use ioc_console::incidents::workflow;
use ioc_console::model::sim::Faults;
use ioc_console::model::*;
use ioc_console::outbox;
use ioc_console::outbox::{EntryState, Outbox, Outcome};
use ioc_console::role::Role;
use ioc_console::sim::{SimConfig, SimServer};
use ioc_console::sources::{Client, ClientConfig};

use crate::backend::fast_timing;
use crate::support::{connected_desk, fixed_now, harness, repo};

const LIMIT: Duration = Duration::from_secs(30);

fn paused_sim(rt: &tokio::runtime::Runtime, scenario: Option<&str>) -> SimServer {
    let cfg = SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        epoch: Some(fixed_now()),
        paused: true,
        scenario: scenario.map(str::to_owned),
        ..SimConfig::default()
    };
    rt.block_on(SimServer::start(cfg)).unwrap()
}

/// Lets the paused world run `minutes` ahead (scenario steps happen) and broadcasts the events.
fn advance(sim: &SimServer, minutes: i64) {
    let t = fixed_now() + chrono::Duration::minutes(minutes);
    sim.shared.world.lock().unwrap().advance_to(t);
    sim.shared.tick();
}

fn incident(sim: &SimServer, id: &str) -> Incident {
    sim.shared
        .world
        .lock()
        .unwrap()
        .incident(id)
        .unwrap()
        .clone()
}

/// The status the desk's store has for an incident.
fn desk_status(app: &RefCell<ConsoleApp>, id: &str) -> Option<IncidentStatus> {
    app.borrow()
        .wall_state()
        .store
        .incidents
        .data
        .as_ref()?
        .get(id)
        .map(|i| i.status)
}

/// The newest open incident of the (paused) simulator.
fn open_incident(sim: &SimServer) -> Incident {
    sim.shared
        .world
        .lock()
        .unwrap()
        .incidents()
        .iter()
        .rev()
        .find(|i| !i.status.is_closed())
        .unwrap()
        .clone()
}

fn count(i: &Incident, a: ActionKind) -> usize {
    i.history.iter().filter(|h| h.action == a).count()
}

#[test]
fn the_desk_keyboard_flow_verifies_forwards_starts_and_resolves_once_each() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt, Some("tidal-flooding"));
    advance(&sim, 6);
    let target = {
        let w = sim.shared.world.lock().unwrap();
        w.incidents()
            .iter()
            .rev()
            .find(|i| i.status == IncidentStatus::Received && i.priority >= Priority::High)
            .unwrap()
            .clone()
    };
    let dir = tempfile::tempdir().unwrap();
    // SAFETY of the environment: nextest runs every test in its own process.
    unsafe { std::env::set_var("IOC_CONSOLE_OUTBOX", dir.path().join("outbox.sqlite")) };
    let app = connected_desk(sim.base_url(), Lang::Vi, Role::Operator);
    let mut h = harness([1500.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let wait = |h: &mut egui_kittest::Harness<'_>, what: &str, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < LIMIT, "timed out: {what}");
            h.step();
            std::thread::sleep(Duration::from_millis(30));
        }
        h.run();
    };
    wait(&mut h, "the incident reaches the desk", &|| {
        app.borrow()
            .wall_state()
            .store
            .incidents
            .data
            .as_ref()
            .is_some_and(|m| m.contains_key(&target.id))
    });
    assert_eq!(
        app.borrow().display_mode(),
        Some(ioc_console::app::DisplayMode::Preview)
    );
    // Search by words without diacritics, then the keyboard: j selects the first row, Enter opens.
    app.borrow_mut().incidents.filter.query =
        ioc_console::incidents::search::fold(&target.title).replace(['đ', 'ư'], "");
    h.run();
    h.key_press(Key::J);
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(
        app.borrow().incidents.selected.as_deref(),
        Some(target.id.as_str()),
        "the search found the incident"
    );

    let before_notes = incident(&sim, &target.id);
    h.key_press(Key::V);
    wait(&mut h, "verified", &|| {
        incident(&sim, &target.id).status == IncidentStatus::Verified
    });
    wait(&mut h, "the desk sees it", &|| {
        desk_status(&app, &target.id) == Some(IncidentStatus::Verified)
    });

    h.key_press(Key::F);
    h.run();
    h.event(egui::Event::Text("ba tri".into()));
    h.run();
    h.key_press(Key::Enter);
    wait(&mut h, "forwarded", &|| {
        incident(&sim, &target.id).status == IncidentStatus::Forwarded
    });
    assert_eq!(
        incident(&sim, &target.id).assigned_unit_id.as_deref(),
        Some("bt-ba-tri"),
        "type-ahead picked Ba Tri"
    );
    wait(&mut h, "the desk sees the forward", &|| {
        desk_status(&app, &target.id) == Some(IncidentStatus::Forwarded)
    });

    h.key_press(Key::S);
    wait(&mut h, "in progress", &|| {
        incident(&sim, &target.id).status == IncidentStatus::InProgress
    });
    wait(&mut h, "the desk sees it in progress", &|| {
        desk_status(&app, &target.id) == Some(IncidentStatus::InProgress)
    });
    h.key_press(Key::R);
    wait(&mut h, "resolved", &|| {
        incident(&sim, &target.id).status == IncidentStatus::Resolved
    });

    // A note typed while someone else changes the incident goes out against the version the
    // operator saw: a conflict kept for them, not an overwrite and not a silent drop.
    wait(&mut h, "the desk sees it resolved", &|| {
        desk_status(&app, &target.id) == Some(IncidentStatus::Resolved)
    });
    h.key_press(Key::N);
    h.run();
    let other = Client::new(&ClientConfig::new(sim.base_url())).unwrap();
    let theirs = ActionRequest {
        action: ActionKind::Note,
        unit_id: None,
        note: Some("người khác ghi trước".into()),
        expected_version: None,
        actor: None,
    };
    rt.block_on(other.post_action(&target.id, &theirs, "someone-else"))
        .unwrap();
    let newest = incident(&sim, &target.id).version;
    wait(&mut h, "the desk sees their note", &|| {
        app.borrow()
            .wall_state()
            .store
            .incidents
            .data
            .as_ref()
            .and_then(|m| m.get(&target.id).map(|i| i.version))
            == Some(newest)
    });
    h.event(egui::Event::Text("ghi chú của tôi".into()));
    h.run();
    h.key_press(Key::Enter);
    wait(&mut h, "our late note is a conflict", &|| {
        app.borrow().wall_state().store.outbox.iter().any(|e| {
            e.incident_id == target.id
                && e.request.action == ActionKind::Note
                && e.state == EntryState::Conflict
        })
    });
    assert_eq!(
        count(&incident(&sim, &target.id), ActionKind::Note),
        count(&before_notes, ActionKind::Note) + 1,
        "only their note was applied"
    );

    let done = incident(&sim, &target.id);
    for a in [
        ActionKind::Verify,
        ActionKind::Forward,
        ActionKind::Start,
        ActionKind::Resolve,
    ] {
        assert_eq!(
            count(&done, a),
            1,
            "{a:?} applied exactly once: {:#?}",
            done.history
        );
    }
    drop(h);
    rt.block_on(sim.stop());
}

#[test]
fn a_leader_sees_the_queue_read_only() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt, None);
    let dir = tempfile::tempdir().unwrap();
    unsafe { std::env::set_var("IOC_CONSOLE_OUTBOX", dir.path().join("outbox.sqlite")) };
    let app = connected_desk(sim.base_url(), Lang::En, Role::Leader);
    let mut h = harness([1500.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let start = Instant::now();
    while app.borrow().wall_state().store.incidents.data.is_none() {
        assert!(start.elapsed() < LIMIT);
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    h.key_press(Key::J);
    h.key_press(Key::Enter);
    h.run();
    let id = app
        .borrow()
        .incidents
        .selected
        .clone()
        .expect("a row is selected");
    let before = incident(&sim, &id);
    h.key_press(Key::V);
    h.key_press(Key::S);
    h.run();
    h.get_by_label("Read-only: the leader role does not act on incidents.");
    assert!(
        h.query_by_label("Verify [V]").is_none() && h.query_by_label("Note [N]").is_none(),
        "no action is offered"
    );
    // Give anything that was sent time to arrive and come back, frames running meanwhile.
    for _ in 0..10 {
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    assert_eq!(
        incident(&sim, &id).version,
        before.version,
        "nothing was sent"
    );
    assert!(app.borrow().wall_state().store.outbox.is_empty());
    drop(h);
    rt.block_on(sim.stop());
}

/// Runs `ioc-console act` paused at `point`, kills it with SIGKILL there, and returns.
fn act_and_kill(url: &str, outbox: &std::path::Path, id: &str, action: &str, point: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args([
            "act",
            "--backend",
            url,
            "--outbox",
            outbox.to_str().unwrap(),
            "--incident",
            id,
            "--action",
            action,
            "--note",
            "ghi chú kiểm thử",
        ])
        .env("IOC_CONSOLE_OUTBOX_PAUSE", point)
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let start = Instant::now();
    loop {
        let line = lines
            .next()
            .expect("the process printed where it paused")
            .unwrap();
        if line == format!("paused {point}") {
            break;
        }
        assert!(start.elapsed() < LIMIT);
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn flush(url: &str, outbox: &std::path::Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args([
            "outbox",
            "flush",
            "--backend",
            url,
            "--outbox",
            outbox.to_str().unwrap(),
        ])
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn killed_between_writing_and_sending_the_action_is_sent_once_after_restart() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt, None);
    let id = open_incident(&sim).id;
    let dir = tempfile::tempdir().unwrap();
    let ob = dir.path().join("outbox.sqlite");
    let before = incident(&sim, &id);

    act_and_kill(&sim.base_url(), &ob, &id, "note", "after-write");
    assert_eq!(
        incident(&sim, &id).version,
        before.version,
        "nothing reached the backend before the kill"
    );
    assert_eq!(
        Outbox::open(&ob).unwrap().pending().unwrap().len(),
        1,
        "the action survived the kill"
    );

    let out = flush(&sim.base_url(), &ob);
    assert!(out.lines().any(|l| l.starts_with("acked ")), "{out}");
    assert_eq!(
        count(&incident(&sim, &id), ActionKind::Note),
        count(&before, ActionKind::Note) + 1
    );
    let out = flush(&sim.base_url(), &ob);
    assert!(out.contains("0 sent, 0 still pending"), "{out}");
    assert_eq!(
        count(&incident(&sim, &id), ActionKind::Note),
        count(&before, ActionKind::Note) + 1,
        "exactly once"
    );
    rt.block_on(sim.stop());
}

#[test]
fn killed_between_sending_and_the_acknowledgement_the_action_still_happens_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt, None);
    let id = open_incident(&sim).id;
    let dir = tempfile::tempdir().unwrap();
    let ob = dir.path().join("outbox.sqlite");
    let before = incident(&sim, &id);

    act_and_kill(&sim.base_url(), &ob, &id, "note", "after-send");
    assert_eq!(
        count(&incident(&sim, &id), ActionKind::Note),
        count(&before, ActionKind::Note) + 1,
        "the backend applied it"
    );
    assert_eq!(
        Outbox::open(&ob).unwrap().pending().unwrap().len(),
        1,
        "but the acknowledgement was never recorded"
    );

    let out = flush(&sim.base_url(), &ob);
    assert!(out.lines().any(|l| l.starts_with("acked ")), "{out}");
    assert_eq!(
        count(&incident(&sim, &id), ActionKind::Note),
        count(&before, ActionKind::Note) + 1,
        "resent with the same key: applied once"
    );
    rt.block_on(sim.stop());
}

#[test]
fn conflicts_are_kept_for_the_operator_and_403s_are_not_retried() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt, None);
    let inc = open_incident(&sim);
    let dir = tempfile::tempdir().unwrap();
    let ob = Outbox::open(&dir.path().join("o.sqlite")).unwrap();
    let client = Client::new(&ClientConfig::new(sim.base_url())).unwrap();

    // Someone else adds a note first; our decision was taken on the old version.
    let theirs = ActionRequest {
        action: ActionKind::Note,
        unit_id: None,
        note: Some("người khác".into()),
        expected_version: Some(inc.version),
        actor: None,
    };
    rt.block_on(client.post_action(&inc.id, &theirs, "someone-else"))
        .unwrap();
    let action = workflow::allowed_actions(inc.status)[0];
    let ours = ActionRequest {
        action,
        unit_id: Some("bt-ba-tri".into()),
        note: Some("lý do".into()),
        expected_version: Some(inc.version),
        actor: None,
    };
    let key = ob.enqueue(&inc.id, &ours).unwrap();
    let done = rt
        .block_on(ioc_console::sources::actions::flush(&ob, &client))
        .unwrap();
    assert!(matches!(done[0].1, Outcome::Conflict(_)), "{:?}", done[0].1);
    assert_eq!(
        incident(&sim, &inc.id).status,
        inc.status,
        "nothing was overwritten"
    );
    assert!(
        ob.recent(5)
            .unwrap()
            .iter()
            .any(|e| e.key == key && e.state == EntryState::Conflict)
    );

    // The operator looks again and applies it on the current version.
    let current = incident(&sim, &inc.id).version;
    ob.reapply(&key, current).unwrap();
    let done = rt
        .block_on(ioc_console::sources::actions::flush(&ob, &client))
        .unwrap();
    assert!(matches!(done[0].1, Outcome::Acked(_)), "{:?}", done[0].1);

    // A 403 is the backend's final word: refused, not retried.
    sim.set_faults(Faults {
        forbidden: true,
        ..Faults::default()
    });
    ob.enqueue(
        &inc.id,
        &ActionRequest {
            action: ActionKind::Note,
            unit_id: None,
            note: Some("x".into()),
            expected_version: None,
            actor: None,
        },
    )
    .unwrap();
    let done = rt
        .block_on(ioc_console::sources::actions::flush(&ob, &client))
        .unwrap();
    assert!(matches!(done[0].1, Outcome::Refused(_)));
    assert!(ob.pending().unwrap().is_empty());
    rt.block_on(sim.stop());
}

#[test]
fn without_an_outbox_the_action_is_refused_with_a_reason() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt, None);
    let mut link = ioc_console::sources::start(
        rt.handle(),
        &ClientConfig::new(sim.base_url()),
        fast_timing(),
        Arc::new(|| {}),
        None,
    )
    .unwrap();
    let req = ActionRequest {
        action: ActionKind::Note,
        unit_id: None,
        note: Some("x".into()),
        expected_version: None,
        actor: None,
    };
    link.requests
        .try_send(ioc_console::sources::Request::Act {
            incident_id: "PA-1".into(),
            request: req,
            author: None,
        })
        .unwrap();
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < LIMIT, "no refusal arrived");
        match rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(100), link.updates.recv()).await
        }) {
            Ok(Some(ioc_console::sources::Update::ActionRefused {
                incident_id,
                reason,
            })) => {
                assert_eq!(incident_id, "PA-1");
                assert_eq!(reason, ioc_console::outbox::Refusal::NoOutbox);
                assert!(reason.words(Lang::En).contains("outbox"));
                break;
            }
            _ => continue,
        }
    }
    rt.block_on(sim.stop());
}

fn known(
    id: &str,
    unit: &str,
    cat: &str,
    received: i64,
    due: i64,
    resolved: Option<i64>,
    status: IncidentStatus,
) -> Incident {
    let t0 = Utc.with_ymd_and_hms(2026, 7, 10, 1, 0, 0).unwrap();
    let h = |x: i64| t0 + chrono::Duration::hours(x);
    let mut history = vec![HistoryEntry {
        at: h(received),
        actor: "t".into(),
        action: ActionKind::Receive,
        status: IncidentStatus::Received,
        unit_id: None,
        note: None,
    }];
    if let Some(r) = resolved {
        history.push(HistoryEntry {
            at: h(r),
            actor: "t".into(),
            action: ActionKind::Resolve,
            status: IncidentStatus::Resolved,
            unit_id: None,
            note: None,
        });
    }
    Incident {
        id: id.into(),
        source: IncidentSource::Citizen,
        category: cat.into(),
        priority: Priority::Normal,
        status,
        unit_id: unit.into(),
        location: GeoPoint {
            lat: 10.0,
            lon: 106.0,
        },
        address: None,
        title: id.into(),
        description: String::new(),
        media: vec![],
        received_at: h(received),
        due_at: h(due),
        updated_at: h(received),
        version: 1,
        assigned_unit_id: None,
        history,
        origin: None,
    }
}

#[test]
fn report_figures_on_a_known_data_set() {
    use IncidentStatus::*;
    let incidents = [
        known("a", "u1", "flooding", 0, 24, Some(10), Resolved), // on time, 10 h
        known("b", "u1", "flooding", 0, 24, Some(30), Resolved), // late, 30 h
        known("c", "u1", "traffic", 0, 24, Some(20), Resolved),  // on time, 20 h
        known("d", "u2", "traffic", 0, 24, None, Rejected),      // rejected
        known("e", "u2", "traffic", 0, 24, None, InProgress),    // open, overdue at report time
        known("f", "u2", "traffic", 0, 9999, None, Received),    // open, not due
        known("z", "u2", "traffic", -24 * 20, 24, Some(1), Resolved), // received in Q2: not counted
    ];
    let units = vec![
        Unit {
            id: "u1".into(),
            name: "Huyện A".into(),
            level: UnitLevel::District,
            parent_id: None,
            valid_from: chrono::NaiveDate::MIN,
            valid_to: None,
            location: None,
        },
        Unit {
            id: "u2".into(),
            name: "Huyện B".into(),
            level: UnitLevel::District,
            parent_id: None,
            valid_from: chrono::NaiveDate::MIN,
            valid_to: None,
            location: None,
        },
    ];
    let cats = vec![
        Category {
            id: "flooding".into(),
            name_vi: "Ngập".into(),
            name_en: "Flooding".into(),
            sla_hours: 24,
            groups: Vec::new(),
        },
        Category {
            id: "traffic".into(),
            name_vi: "Giao thông".into(),
            name_en: "Traffic".into(),
            sla_hours: 24,
            groups: Vec::new(),
        },
    ];
    let now = Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap();
    let r = report::build(
        incidents.iter(),
        &units,
        &cats,
        Quarter::parse("2026Q3").unwrap(),
        now,
        Lang::Vi,
    );
    let t = &r.total;
    assert_eq!(
        (t.received, t.resolved, t.on_time, t.rejected, t.overdue),
        (6, 3, 2, 1, 2)
    );
    assert!((t.on_time_rate().unwrap() - 66.666).abs() < 0.01);
    assert_eq!(t.handling_quantile(0.5), Some(20.0));
    assert_eq!(t.handling_quantile(0.9), Some(30.0));
    let u1 = &r.by_unit["Huyện A"];
    assert_eq!((u1.received, u1.resolved, u1.on_time), (3, 3, 2));
    assert_eq!(r.by_category["Giao thông"].received, 4);
    let csv = report::csv(&r, Lang::Vi);
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.lines()
            .any(|l| l == "Tất cả,Tất cả,6,3,2,66.7,1,2,20.0,30.0"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("Huyện A,Ngập,2,2,1,50.0")),
        "{csv}"
    );
    let pdf = ioc_console::charts::export::svg_to_pdf(&report::svg(&r, Lang::Vi)).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}

#[test]
fn export_report_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args([
            "export",
            "report",
            "--demo",
            "--quarter",
            "2026Q3",
            "--out",
            out.to_str().unwrap(),
        ])
        .current_dir(repo())
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .env("XDG_DATA_HOME", dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let total = csv.lines().last().unwrap();
    assert!(total.starts_with("Tất cả,Tất cả,"), "{total}");
    let received: usize = total.split(',').nth(2).unwrap().parse().unwrap();
    assert!(
        received > 500,
        "a quarter of the demo has hundreds of incidents: {received}"
    );
}

fn demo_cx(lang: Lang) -> ioc_console::context::FrameCtx {
    let mut cx = ioc_console::context::FrameCtx::new(lang, fixed_now());
    cx.store = Arc::new(crate::charts::demo_store());
    cx
}

#[test]
fn queue_tile_on_the_wall_vi() {
    use ioc_console::tiles::TileView;
    use ioc_console::tiles::frame::{TileFrame, show_tile};
    let cx = demo_cx(Lang::Vi);
    let tile = ioc_console::tiles::incidents::IncidentsOptions {
        sort: ioc_console::incidents::queue::SortBy::Due,
        filter: Default::default(),
    };
    let status = tile.status(&cx);
    let mut h = harness([700.0, 620.0], |ui| {
        let rect = ui.max_rect().shrink(4.0);
        let frame = TileFrame {
            title: "Phản ánh, sự cố",
            status: &status,
            scale: 0.7,
            grey_old: true,
            own_state: false,
        };
        show_tile(ui, rect, frame, &cx, |ui, body| {
            tile.paint_body(ui, body, 0.7, &cx, &mut TileState::default())
        });
    });
    h.run();
    crate::support::snapshot(&mut h, "queue_tile_vi");
}

#[test]
fn desk_panel_with_an_open_incident_vi() {
    let cx = demo_cx(Lang::Vi);
    let mut panel = ioc_console::app::incident_panel::IncidentPanel::default();
    let ids = panel.ids(&cx);
    let overdue = ids
        .iter()
        .find(|id| {
            let i = &cx.store.incidents.data.as_ref().unwrap()[*id];
            !i.status.is_closed() && i.due_at < fixed_now() && i.history.len() > 2
        })
        .or(ids.first())
        .cloned();
    panel.selected = overdue;
    panel.open = true;
    let mut commands = Vec::new();
    let mut h = harness([560.0, 900.0], |ui| {
        panel.show(ui, &cx, false, &mut commands)
    });
    h.run();
    crate::support::snapshot(&mut h, "desk_incident_panel_vi");
}

/// An action the backend answered without confirming is shown on the desk, in words, with what
/// to do.
#[test]
fn desk_panel_shows_an_unconfirmed_action_vi() {
    let mut cx = demo_cx(Lang::Vi);
    let mut panel = ioc_console::app::incident_panel::IncidentPanel::default();
    let id = panel.ids(&cx).first().cloned().unwrap();
    let store = Arc::make_mut(&mut cx.store);
    store.outbox = vec![outbox::Entry {
        key: "k1".into(),
        incident_id: id.clone(),
        request: ActionRequest {
            action: ActionKind::Note,
            unit_id: None,
            note: Some("ghi chú".into()),
            expected_version: None,
            actor: None,
        },
        created_at: fixed_now().to_rfc3339(),
        state: EntryState::Unconfirmed,
        attempts: 1,
        last_error: Some("the answer is incident SV-9, not SV-1".into()),
        author: None,
    }];
    panel.selected = Some(id);
    panel.open = true;
    let mut commands = Vec::new();
    let mut h = harness([560.0, 900.0], |ui| {
        panel.show(ui, &cx, false, &mut commands)
    });
    h.run();
    h.get_by_label_contains("máy chủ đã trả lời nhưng không xác nhận (the answer is incident SV-9");
    crate::support::snapshot(&mut h, "desk_unconfirmed_action_vi");
}

/// The queue follows the store's changes incrementally and agrees with a full rebuild.
#[test]
fn the_queue_index_follows_changes_incrementally() {
    use ioc_console::incidents::queue::{QueueFilter, QueueIndex, SortBy};
    use ioc_console::sources::Update;
    let mut store = crate::charts::demo_store();
    let mut idx = QueueIndex::default();
    idx.sync_store(&store);
    let open = QueueFilter {
        open_only: true,
        ..Default::default()
    };
    let before: Vec<String> = idx
        .select(&open, SortBy::Priority)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    let first = store.incidents.data.as_ref().unwrap()[&before[0]].clone();
    // It gets resolved (an SSE event), and a new critical one arrives.
    let mut done = first.clone();
    done.status = IncidentStatus::Resolved;
    done.version += 1;
    store.apply(Update::Event(Event::Incident(Box::new(done))));
    let mut fresh = first.clone();
    fresh.id = "PA-NEW".into();
    fresh.title = "Sạt lở bờ sông nghiêm trọng".into();
    fresh.priority = Priority::Critical;
    fresh.status = IncidentStatus::Received;
    store.apply(Update::Event(Event::Incident(Box::new(fresh))));
    idx.sync_store(&store);
    let after: Vec<String> = idx
        .select(&open, SortBy::Priority)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert!(
        !after.contains(&first.id),
        "the resolved one left the open queue"
    );
    assert_eq!(after[0], "PA-NEW", "the new critical one leads");
    let found: Vec<String> = idx
        .select(
            &QueueFilter {
                query: "sat lo bo song".into(),
                ..Default::default()
            },
            SortBy::Arrival,
        )
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert!(found.contains(&"PA-NEW".to_owned()), "{found:?}");
    let map = store.incidents.data.as_ref().unwrap();
    assert!(
        found
            .iter()
            .all(|id| ioc_console::incidents::search::fold(&map[id].title).contains("sat lo")),
        "only matching incidents"
    );
    // Changes that arrive by polling (the stream is down) reach the queue too.
    let mut polled = store.incidents.data.as_ref().unwrap()["PA-NEW"].clone();
    polled.status = IncidentStatus::Rejected;
    polled.version += 1;
    let now = polled.updated_at;
    store.apply(Update::Loaded {
        resource: ioc_console::sources::Resource::Incidents,
        payload: ioc_console::sources::Payload::Incidents {
            items: vec![polled],
            incremental: true,
        },
        as_of: now,
        fetched_at: now,
    });
    idx.sync_store(&store);
    let after: Vec<String> = idx
        .select(&open, SortBy::Priority)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert!(
        !after.contains(&"PA-NEW".to_owned()),
        "the polled rejection left the open queue"
    );
    // A whole reload that drops an incident removes it from the queue.
    let mut items: Vec<Incident> = store
        .incidents
        .data
        .as_ref()
        .unwrap()
        .values()
        .cloned()
        .collect();
    items.retain(|i| i.id != after[0]);
    let gone = after[0].clone();
    store.apply(Update::Loaded {
        resource: ioc_console::sources::Resource::Incidents,
        payload: ioc_console::sources::Payload::Incidents {
            items,
            incremental: false,
        },
        as_of: now,
        fetched_at: now,
    });
    idx.sync_store(&store);
    let after: Vec<String> = idx
        .select(&open, SortBy::Priority)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert!(!after.contains(&gone));
    let mut full = QueueIndex::default();
    full.sync(store.incidents.data.as_ref().unwrap(), store.generation);
    let rebuilt: Vec<String> = full
        .select(&open, SortBy::Priority)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(after, rebuilt);
}

/// A loopback HTTP server that gives every request the same raw answer (for answers the
/// simulator never gives). Returns its base URL.
fn canned_server(rt: &tokio::runtime::Runtime, answer: String) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                // Read the request's head and body (it is small), then answer and close.
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = 0;
                loop {
                    let Ok(n) = sock.read(&mut buf[got..]).await else {
                        return;
                    };
                    got += n;
                    let text = String::from_utf8_lossy(&buf[..got]);
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if got >= head_end + 4 + len {
                            break;
                        }
                    }
                    if n == 0 {
                        return;
                    }
                }
                let _ = sock.write_all(answer.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}/api/v1/")
}

fn http_answer(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
}

#[test]
fn odd_answers_to_an_action_are_neither_acknowledged_nor_lost() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = paused_sim(&rt, None);
    let inc = open_incident(&sim);
    let mut other = inc.clone();
    other.id = format!("{}-other", inc.id);
    rt.block_on(sim.stop());
    let dir = tempfile::tempdir().unwrap();
    let ob = Outbox::open(&dir.path().join("o.sqlite")).unwrap();
    let note = ActionRequest {
        action: ActionKind::Note,
        unit_id: None,
        note: Some("ghi chú".into()),
        expected_version: None,
        actor: None,
    };

    // A 200 that carries another incident: perhaps applied, so not resent; kept as unconfirmed.
    let url = canned_server(
        &rt,
        http_answer("200 OK", "", &serde_json::to_string(&other).unwrap()),
    );
    let client = Client::new(&ClientConfig::new(url)).unwrap();
    let key = ob.enqueue(&inc.id, &note).unwrap();
    let done = rt
        .block_on(ioc_console::sources::actions::flush(&ob, &client))
        .unwrap();
    assert!(
        matches!(&done[0].1, Outcome::AckedUnread(m) if m.contains(&other.id)),
        "{:?}",
        done[0].1
    );
    let entry = ob.recent(5).unwrap().into_iter().find(|e| e.key == key);
    assert_eq!(entry.map(|e| e.state), Some(EntryState::Unconfirmed));
    assert!(ob.pending().unwrap().is_empty(), "not resent");

    // A redirect (an SSO page) is not followed and not taken as an answer: still pending.
    let url = canned_server(
        &rt,
        http_answer("302 Found", "Location: http://127.0.0.1:9/login\r\n", ""),
    );
    let client = Client::new(&ClientConfig::new(url)).unwrap();
    let key = ob.enqueue(&inc.id, &note).unwrap();
    let done = rt
        .block_on(ioc_console::sources::actions::flush(&ob, &client))
        .unwrap();
    assert!(
        matches!(&done[0].1, Outcome::Retry(m) if m.contains("302")),
        "{:?}",
        done[0].1
    );
    assert_eq!(
        ob.pending()
            .unwrap()
            .iter()
            .map(|e| e.key.clone())
            .collect::<Vec<_>>(),
        vec![key.clone()],
        "kept for another try"
    );
    ob.record(&key, &Outcome::Refused("test done".into()))
        .unwrap();

    // An id that would be normalised out of the URL is refused before anything is sent.
    for bad in ["..", "."] {
        ob.enqueue(bad, &note).unwrap();
        let done = rt
            .block_on(ioc_console::sources::actions::flush(&ob, &client))
            .unwrap();
        assert!(
            matches!(&done[0].1, Outcome::Refused(m) if m.contains("not an incident id")),
            "{:?}",
            done[0].1
        );
    }
}

/// Above 20,000 incidents the shared index is built on a worker: the views keep drawing (and say
/// the list is being prepared), then get every incident, the changes that came meanwhile
/// included; a heartbeat of the event stream changes nothing in the index.
#[test]
fn a_large_index_is_built_off_the_ui_thread_and_catches_up() {
    use ioc_console::context::queue::{BUILD_OFF_THREAD, QueueCache};
    use ioc_console::incidents::queue::{QueueFilter, SortBy};
    use ioc_console::sources::{Payload, Resource, Timing, Update};
    let n = BUILD_OFF_THREAD + 5_000;
    let template = crate::charts::demo_store()
        .incidents
        .data
        .as_ref()
        .unwrap()
        .values()
        .find(|i| !i.status.is_closed())
        .cloned()
        .unwrap();
    let items: Vec<Incident> = (0..n)
        .map(|k| Incident {
            id: format!("BIG-{k:06}"),
            ..template.clone()
        })
        .collect();
    let mut store = ioc_console::store::Store::connected(Timing::default());
    store.apply(Update::Loaded {
        resource: Resource::Incidents,
        payload: Payload::Incidents {
            items,
            incremental: false,
        },
        as_of: fixed_now(),
        fetched_at: fixed_now(),
    });
    let mut store = Arc::new(store);
    let cache = QueueCache::default();
    let all = QueueFilter::default();
    let first = cache.lock(&store).select(&all, SortBy::Priority, 0);
    assert!(first.preparing, "a large first build goes to the worker");
    assert!(first.rows.is_empty());
    // Meanwhile one more incident arrives, and the heartbeat.
    {
        let s = Arc::make_mut(&mut store);
        s.apply(Update::Event(Event::Incident(Box::new(Incident {
            id: "BIG-LATE".into(),
            ..template.clone()
        }))));
        s.apply(Update::StreamAlive { at: fixed_now() });
    }
    let start = Instant::now();
    let ids = loop {
        let sel = cache.lock(&store).select(&all, SortBy::Priority, 1);
        if !sel.preparing {
            break sel.rows;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the worker never finished"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(ids.len(), n + 1, "every incident, the late one included");
    let late = cache.lock(&store).index().position("BIG-LATE").unwrap();
    assert!(ids.contains(&late));
    let builds = cache.lock(&store).builds;
    Arc::make_mut(&mut store).apply(Update::StreamAlive { at: fixed_now() });
    let again = cache.lock(&store).select(&all, SortBy::Priority, 2);
    assert!(
        Arc::ptr_eq(&again.rows, &ids),
        "a heartbeat keeps the selection as it is"
    );
    assert_eq!(cache.lock(&store).builds, builds);
}

/// An incident from an Open311 source that takes no updates: the desk says where it came from,
/// its own status, that it is read-only and why; no action button, and the action keys do nothing.
#[test]
fn desk_panel_shows_an_open311_incident_read_only_with_the_reason_vi() {
    let mut cx = demo_cx(Lang::Vi);
    let mut panel = ioc_console::app::incident_panel::IncidentPanel::default();
    let store = Arc::make_mut(&mut cx.store);
    let mut i = store
        .incidents
        .data
        .as_ref()
        .unwrap()
        .values()
        .filter(|i| !i.status.is_closed())
        .min_by_key(|i| i.id.clone())
        .cloned()
        .unwrap();
    i.origin = Some(ioc_console::model::Origin {
        source: "phan-anh".into(),
        raw_status: Some("open".into()),
        writable: false,
    });
    i.id = "phan-anh:638344".into();
    i.location = ioc_console::model::GeoPoint {
        lat: f64::NAN,
        lon: f64::NAN,
    };
    store.apply(ioc_console::sources::Update::SourceLoaded {
        source: "phan-anh".into(),
        name: "Phản ánh hiện trường (Open311)".into(),
        feeds: vec![ioc_console::sources::Resource::Incidents],
        stale_after: std::time::Duration::from_secs(180),
        payload: ioc_console::sources::SourcePayload::Incidents {
            incidents: vec![vec![i]],
            categories: None,
        },
        problems: Vec::new(),
        as_of: fixed_now(),
        fetched_at: fixed_now(),
    });
    panel.selected = Some("phan-anh:638344".into());
    panel.open = true;
    let mut commands = Vec::new();
    let mut h = harness([560.0, 900.0], |ui| {
        panel.show(ui, &cx, false, &mut commands)
    });
    h.run();
    h.get_by_label_contains(
        "Từ nguồn «Phản ánh hiện trường (Open311)», mã 638344, trạng thái gốc «open»",
    );
    h.get_by_label_contains("Chỉ xem: nguồn «Phản ánh hiện trường (Open311)» không nhận cập nhật");
    h.get_by_label_contains("không có toạ độ");
    assert!(
        h.query_by_label_contains("Xác minh [").is_none(),
        "no action button on a read-only incident"
    );
    h.key_press(egui::Key::V);
    h.run();
    crate::support::snapshot(&mut h, "desk_open311_read_only_vi");
    drop(h);
    assert!(
        commands
            .iter()
            .all(|c| matches!(c, ioc_console::context::Command::SelectIncident(_))),
        "the V key did nothing but keep the selection: {commands:?}"
    );
}
