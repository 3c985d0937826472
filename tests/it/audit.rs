//! The audit trail: what a console's operator does is recorded with who, when and from which
//! console (a desk connected to the simulator over HTTP: an action, a scene, a briefing); the
//! chain holds; `ioc-console audit verify` finds a row edited or deleted in the SQLite file (even
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
    let incident = sim
        .shared
        .world
        .lock()
        .unwrap()
        .incidents()
        .iter()
        .find(|i| !i.status.is_closed())
        .unwrap()
        .id
        .clone();
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
    assert!(text.starts_with("seq,at,console,who,role,action,subject,detail,hash\n"));
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
