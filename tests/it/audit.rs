//! The audit trail: what a console's operator does is recorded with who, when and from which
//! console (a desk connected to the simulator over HTTP: an action, a scene, a briefing) and sent
//! to the backend's audit endpoint with its chain; the chain holds; `ioc-console audit verify` finds a row edited or deleted in the SQLite file (even
//! with the triggers dropped) and `audit export` writes the rows a filter keeps as CSV.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ioc_console::audit::{self, Audit, Filter, Verdict};
use ioc_console::i18n::Lang;
use ioc_console::model::{ActionKind, ActionRequest};
use ioc_console::role::Role;

use crate::support::{connected, load_layout, repo};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(args)
        .current_dir(repo())
        .env_remove("IOC_CONSOLE_AUDIT")
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn rows(path: &Path, want: usize) -> Vec<audit::Row> {
    let start = Instant::now();
    loop {
        let rows = Audit::open(path).unwrap().rows(&Filter::default()).unwrap();
        if rows.len() >= want {
            return rows;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "only {} rows: {rows:#?}",
            rows.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_desks_actions_are_recorded_chained_and_tampering_is_found() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(ioc_console::sim::SimServer::start(
            crate::backend::sim_config("127.0.0.1:0".parse().unwrap()),
        ))
        .unwrap();
    let incident = crate::support::open_incidents(&sim, 1).remove(0);
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("audit.sqlite");
    // SAFETY of the environment: nextest runs every test in its own process.
    unsafe {
        std::env::set_var("IOC_CONSOLE_AUDIT", &trail);
        std::env::set_var("IOC_CONSOLE_OUTBOX", dir.path().join("outbox.sqlite"));
    }
    let app = connected(
        sim.base_url(),
        Lang::Vi,
        Role::Operator,
        load_layout("ioc-main.toml"),
    );
    {
        let mut a = app.borrow_mut();
        a.apply(ioc_console::context::Command::Backend(
            ioc_console::sources::Request::Act {
                incident_id: incident.clone(),
                request: ActionRequest {
                    action: ActionKind::Note,
                    unit_id: None,
                    note: Some("Đã gọi điện cho người phản ánh".into()),
                    expected_version: None,
                    actor: None,
                },
                author: None,
            },
        ));
        a.apply(ioc_console::context::Command::RecallScene(Some(
            "lu-lut".into(),
        )));
        // An unknown scene changes nothing and is not recorded.
        a.apply(ioc_console::context::Command::RecallScene(Some(
            "khong-co".into(),
        )));
        a.apply(ioc_console::context::Command::Brief(
            ioc_console::context::BriefStep::Start(
                repo().join("layouts/briefings/giao-ban-thang.toml"),
            ),
        ));
    }
    let rows = rows(&trail, 3);
    let actions: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.event.action.as_str(), r.event.subject.as_str()))
        .collect();
    assert_eq!(actions[0], ("incident.note", incident.as_str()));
    assert_eq!(actions[1], ("scene.recalled", "lu-lut"));
    assert_eq!(actions[2].0, "briefing.started");
    assert!(actions[2].1.ends_with("giao-ban-thang.toml"));
    assert_eq!(rows.len(), 3, "{actions:?}");
    let first = &rows[0].event;
    assert_eq!(first.role, "operator");
    assert_eq!(first.detail, "Đã gọi điện cho người phản ánh");
    assert_eq!(first.who, audit::local_user());
    assert_eq!(first.console, audit::console_name());
    assert_eq!(rows[1].prev, rows[0].hash);
    // The backend's copy: the same rows with the same chain.
    let start = Instant::now();
    while sim.audit_rows().len() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the backend has {:?}",
            sim.audit_rows()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let copy = sim.audit_rows();
    assert_eq!(
        copy.iter().map(|r| &r.hash).collect::<Vec<_>>(),
        rows.iter().map(|r| &r.hash).collect::<Vec<_>>()
    );
    assert_eq!(copy[0], rows[0]);
    drop(app);

    // The command line: intact, then a row edited, then one deleted (triggers dropped first).
    let file = trail.to_str().unwrap();
    let o = cli(&["audit", "verify", "--file", file]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("nguyên vẹn, 3 dòng"), "{}", out(&o));
    let csv = dir.path().join("incidents.csv");
    let o = cli(&[
        "--lang",
        "en",
        "audit",
        "export",
        "--file",
        file,
        "--action",
        "incident",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("Wrote 1 audit rows"), "{}", out(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("seq,at,console,who,role,action,subject,detail,prev,hash\n"));
    assert!(
        text.contains(&format!(",incident.note,{incident},")),
        "{text}"
    );
    let c = rusqlite::Connection::open(&trail).unwrap();
    assert!(
        c.execute("UPDATE audit SET who = 'ai-do' WHERE seq = 1", [])
            .is_err(),
        "append-only"
    );
    c.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        .unwrap();
    c.execute("UPDATE audit SET detail = 'không gọi' WHERE seq = 1", [])
        .unwrap();
    let o = cli(&["audit", "verify", "--file", file]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("dòng 1 đã bị sửa"), "{}", out(&o));
    assert_eq!(
        audit::verify(&trail).unwrap(),
        Verdict::Broken {
            seq: 1,
            why: audit::Broken::Edited
        }
    );
    c.execute(
        "UPDATE audit SET detail = 'Đã gọi điện cho người phản ánh' WHERE seq = 1",
        [],
    )
    .unwrap();
    c.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
    let o = cli(&["--lang", "en", "audit", "verify", "--file", file]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("row 3 does not follow the row before"),
        "{}",
        out(&o)
    );
    let o = cli(&[
        "audit",
        "verify",
        "--file",
        dir.path().join("none.sqlite").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
}

/// The desk's audit view: the trail newest first, and the CSV export of what the filter keeps
/// (written by the view's worker into the exports folder).
#[test]
fn the_desks_audit_view_lists_the_trail_and_exports_what_the_filter_keeps() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let dir = tempfile::tempdir().unwrap();
    // SAFETY of the environment: nextest runs every test in its own process.
    unsafe { std::env::set_var("XDG_DATA_HOME", dir.path().join("data")) };
    let trail = dir.path().join("audit.sqlite");
    let a = Audit::open(&trail).unwrap();
    let t0 = crate::support::fixed_now();
    for (i, (who, role, action, subject, detail)) in [
        (
            "nguyen.van.an",
            "operator",
            "incident.verify",
            "PA-20261128-04438",
            "Đã xác minh qua camera",
        ),
        (
            "tran.thi.binh",
            "technician",
            "layout.saved",
            "layouts/ioc-main.toml",
            "",
        ),
        (
            "nguyen.van.an",
            "operator",
            "incident.forward",
            "PA-20261128-04438",
            "so-xay-dung",
        ),
        (
            "le.van.cuong",
            "leader",
            "briefing.started",
            "layouts/briefings/giao-ban-thang.toml",
            "",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        a.record(&audit::Event {
            at: t0 + chrono::Duration::minutes(i as i64 * 7),
            console: "ban-truc-1".into(),
            who: who.into(),
            role: role.into(),
            action: action.into(),
            subject: subject.into(),
            detail: detail.into(),
        })
        .unwrap();
    }
    let view = Rc::new(RefCell::new(
        ioc_console::app::audit_view::AuditView::default(),
    ));
    view.borrow_mut().open = true;
    let cx = ioc_console::context::FrameCtx::new(Lang::Vi, t0 + chrono::Duration::hours(1));
    let mut h = crate::support::harness([900.0, 520.0], {
        let view = Rc::clone(&view);
        let trail = trail.clone();
        move |ui| view.borrow_mut().show(ui.ctx(), &cx, Some(trail.clone()))
    });
    let start = Instant::now();
    while view.borrow().rows.len() < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the rows never came"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run();
    assert_eq!(
        view.borrow().rows[0].event.action,
        "briefing.started",
        "newest first"
    );
    crate::support::snapshot(&mut h, "audit_view_vi");
    // Only the operator's actions on incidents, exported.
    view.borrow_mut().action = "incident".into();
    view.borrow_mut().who = "nguyen.van.an".into();
    {
        use egui_kittest::kittest::Queryable;
        h.get_by_label("Xuất CSV").click();
    }
    let start = Instant::now();
    let exported = loop {
        h.step();
        match view.borrow().message.clone() {
            Some((m, false)) => break m,
            Some((m, true)) => panic!("the export failed: {m}"),
            None => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing exported"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exported.contains("Đã ghi 2 dòng"), "{exported}");
    let folder = dir.path().join("data/ioc-console/exports");
    let file = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("incident.verify")
            && text.contains("incident.forward")
            && !text.contains("layout.saved"),
        "{text}"
    );
}
