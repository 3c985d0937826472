//! The client against the simulated IOC over real HTTP on loopback: every resource, SSE
//! updates, recovery after the simulator stops and restarts on the same port, each injected
//! fault shown as the right state with the last good data kept, credentials, idempotent actions.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::Utc;
use ioc_console::i18n::Lang;
use ioc_console::incidents::workflow;
use ioc_console::model::sim::Faults;
use ioc_console::model::{ActionKind, ActionRequest, IncidentStatus};
use ioc_console::sim::{SimConfig, SimServer};
use ioc_console::sources::{
    self, BackendLink, Client, ClientConfig, FetchError, Resource, Timing, Token,
};
use ioc_console::status::SourceState;
use ioc_console::store::Store;

/// Short intervals so that states change within seconds.
pub fn fast_timing() -> Timing {
    Timing {
        poll_scale: 0.02,
        stale_scale: 0.1,
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_millis(500),
    }
}

pub fn sim_config(listen: SocketAddr) -> SimConfig {
    SimConfig {
        listen,
        epoch: Some(crate::support::fixed_now()),
        ..SimConfig::default()
    }
}

pub struct Rig {
    pub sim: Option<SimServer>,
    pub addr: SocketAddr,
    pub link: BackendLink,
    pub store: Store,
}

impl Rig {
    pub async fn start(
        timing: Timing,
        cfg: impl FnOnce(ClientConfig) -> ClientConfig,
        sim: SimConfig,
    ) -> Rig {
        let server = SimServer::start(sim).await.expect("simulator starts");
        let addr = server.addr;
        let client_cfg = cfg(ClientConfig::new(server.base_url()));
        let link = sources::start(
            &tokio::runtime::Handle::current(),
            &client_cfg,
            timing.clone(),
            std::sync::Arc::new(|| {}),
            None,
        )
        .unwrap();
        Rig {
            sim: Some(server),
            addr,
            link,
            store: Store::connected(timing),
        }
    }

    pub fn state(&self, r: Resource) -> SourceState {
        self.store.status(r, Utc::now()).state
    }

    /// Applies updates until `pred` holds; fails the test after `limit` with what it saw.
    pub async fn until(&mut self, what: &str, limit: Duration, pred: impl Fn(&Rig) -> bool) {
        let start = Instant::now();
        while !pred(self) {
            if start.elapsed() > limit {
                let states: Vec<_> = Resource::ALL
                    .iter()
                    .map(|&r| (r, self.store.status(r, Utc::now())))
                    .collect();
                panic!("timed out waiting for {what}; states: {states:#?}");
            }
            match tokio::time::timeout(Duration::from_millis(50), self.link.updates.recv()).await {
                Ok(Some(u)) => self.store.apply(u),
                Ok(None) => panic!("the backend tasks stopped"),
                Err(_) => {}
            }
        }
    }

    pub fn all(&self, s: SourceState) -> bool {
        Resource::ALL.iter().all(|&r| self.state(r) == s)
    }

    pub fn faults(&self, f: Faults) {
        self.sim.as_ref().unwrap().set_faults(f);
    }
}

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_arrives_and_matches_the_simulator() {
    let mut rig = Rig::start(
        fast_timing(),
        |c| c,
        sim_config("127.0.0.1:0".parse().unwrap()),
    )
    .await;
    rig.until("every resource live", LIMIT, |r| r.all(SourceState::Live))
        .await;
    let (incidents, cameras, units) = {
        let w = rig.sim.as_ref().unwrap().shared.world.lock().unwrap();
        (w.incidents().len(), w.cameras().len(), w.units().len())
    };
    assert_eq!(rig.store.count(Resource::Incidents), Some(incidents));
    assert_eq!(rig.store.count(Resource::Cameras), Some(cameras));
    assert_eq!(rig.store.count(Resource::Units), Some(units));
    assert!(incidents > 2000, "12 months of incidents: {incidents}");
    assert!(cameras >= 10);
    let series = rig.store.series.data.as_ref().unwrap();
    let grdp = series.values().find(|s| {
        s.indicator_id.contains("grdp") && s.points.iter().any(|p| p.period.to_string() == "2023")
    });
    let grdp = grdp.expect("a GRDP series with 2023");
    let v2023 = grdp
        .points
        .iter()
        .find(|p| p.period.to_string() == "2023")
        .unwrap()
        .value;
    assert!(
        (v2023 - 5.16).abs() < 1e-9,
        "the published 2023 GRDP growth is kept: {v2023}"
    );
    // Monthly series have 24 months of history (the newest may be late).
    let monthly = rig
        .store
        .indicators
        .data
        .as_ref()
        .unwrap()
        .iter()
        .find(|i| i.period == ioc_console::model::PeriodKind::Monthly)
        .unwrap();
    let longest = series
        .values()
        .filter(|s| s.indicator_id == monthly.id)
        .map(|s| s.points.len())
        .max()
        .unwrap();
    assert!((23..=24).contains(&longest), "{longest}");
    // Units of the former province are labelled historical.
    let today = Utc::now().date_naive();
    assert!(
        rig.store
            .units
            .data
            .as_ref()
            .unwrap()
            .iter()
            .filter(|u| u.is_historical(today))
            .count()
            >= 10
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_delivers_changes_without_polling() {
    // Polls almost never: a change must come through the event stream.
    let timing = Timing {
        poll_scale: 1000.0,
        ..fast_timing()
    };
    let mut rig = Rig::start(timing, |c| c, sim_config("127.0.0.1:0".parse().unwrap())).await;
    rig.until("incidents loaded and the stream up", LIMIT, |r| {
        r.store.incidents.data.is_some() && r.store.stream.up
    })
    .await;
    let (id, version) = {
        let map = rig.store.incidents.data.as_ref().unwrap();
        let i = map
            .values()
            .find(|i| i.status == IncidentStatus::Received)
            .or_else(|| map.values().next())
            .unwrap();
        (i.id.clone(), i.version)
    };
    let client = Client::new(&ClientConfig::new(rig.sim.as_ref().unwrap().base_url())).unwrap();
    let note = ActionRequest {
        action: ActionKind::Note,
        unit_id: None,
        note: Some("Đã gọi điện xác minh".into()),
        expected_version: None,
        actor: Some("test".into()),
    };
    client.post_action(&id, &note, "sse-test-1").await.unwrap();
    rig.until("the note to arrive by SSE", LIMIT, |r| {
        r.store.incidents.data.as_ref().unwrap()[&id].version > version
    })
    .await;
    let inc = &rig.store.incidents.data.as_ref().unwrap()[&id];
    assert_eq!(
        inc.history.last().unwrap().note.as_deref(),
        Some("Đã gọi điện xác minh")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_after_the_simulator_stops_and_restarts_on_the_same_port() {
    let mut rig = Rig::start(
        fast_timing(),
        |c| c,
        sim_config("127.0.0.1:0".parse().unwrap()),
    )
    .await;
    rig.until("live", LIMIT, |r| r.all(SourceState::Live)).await;
    let incidents_before = rig.store.count(Resource::Incidents);
    let reset_before = rig.store.incidents_reset;

    rig.sim.take().unwrap().stop().await;
    rig.until("offline", LIMIT, |r| {
        r.state(Resource::Incidents) == SourceState::Offline
            && r.state(Resource::Cameras) == SourceState::Offline
    })
    .await;
    // The last good data stays, with its age.
    assert_eq!(rig.store.count(Resource::Incidents), incidents_before);
    let s = rig.store.status(Resource::Incidents, Utc::now());
    assert!(
        s.as_of.is_some() && s.reason_in(Lang::En).unwrap().contains("Cannot reach"),
        "{s:?}"
    );

    let server = SimServer::start(sim_config(rig.addr))
        .await
        .expect("restart on the same port");
    rig.sim = Some(server);
    rig.until("live again", LIMIT, |r| {
        r.all(SourceState::Live) && r.store.stream.up
    })
    .await;
    // A new simulator is a new world: the console noticed and fetched the whole list again
    // rather than merging the new world's changes into the old one.
    rig.until("whole list refetched", LIMIT, |r| {
        r.store.incidents_reset > reset_before
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_show_as_states_and_keep_the_last_good_data() {
    let mut rig = Rig::start(
        fast_timing(),
        |c| c,
        sim_config("127.0.0.1:0".parse().unwrap()),
    )
    .await;
    rig.until("live", LIMIT, |r| r.all(SourceState::Live)).await;
    let cameras = rig.store.count(Resource::Cameras);

    // 500s: error with the status in words.
    rig.faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    rig.until("error", LIMIT, |r| {
        r.state(Resource::Cameras) == SourceState::Error
    })
    .await;
    let s = rig.store.status(Resource::Cameras, Utc::now());
    assert!(s.reason_in(Lang::En).unwrap().contains("500"), "{s:?}");
    assert_eq!(rig.store.count(Resource::Cameras), cameras, "data kept");

    // Malformed bodies: error naming the resource and the field.
    rig.faults(Faults {
        malformed: true,
        ..Faults::default()
    });
    rig.until("malformed", LIMIT, |r| {
        r.store
            .status(Resource::Cameras, Utc::now())
            .reason_in(Lang::En)
            .is_some_and(|m| m.contains("cameras") && m.contains("items[0]"))
    })
    .await;
    assert_eq!(rig.state(Resource::Cameras), SourceState::Error);
    assert_eq!(rig.store.count(Resource::Cameras), cameras, "data kept");

    // 403: no permission.
    rig.faults(Faults {
        forbidden: true,
        ..Faults::default()
    });
    rig.until("no permission", LIMIT, |r| {
        r.state(Resource::Cameras) == SourceState::NoPermission
    })
    .await;

    // Slow answers: the data ages past its period and turns stale, still kept.
    rig.faults(Faults {
        latency_ms: 20_000,
        drop_sse: true,
        ..Faults::default()
    });
    rig.until("stale", LIMIT, |r| {
        r.state(Resource::Incidents) == SourceState::Stale
    })
    .await;
    assert!(!rig.store.stream.up, "the dropped stream is noticed");

    // Back to normal: live again.
    rig.faults(Faults::default());
    rig.until("live again", LIMIT, |r| r.all(SourceState::Live))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_and_huge_bodies_are_errors_in_words() {
    let token_sim = SimConfig {
        token: Some(Token::new("right")),
        ..sim_config("127.0.0.1:0".parse().unwrap())
    };
    let mut rig = Rig::start(
        fast_timing(),
        |c| ClientConfig {
            token: Some(Token::new("wrong")),
            ..c
        },
        token_sim,
    )
    .await;
    rig.until("auth error", LIMIT, |r| {
        r.state(Resource::Units) == SourceState::Error
    })
    .await;
    let s = rig.store.status(Resource::Units, Utc::now());
    assert!(
        s.reason_in(Lang::Vi).unwrap().contains("Xác thực thất bại"),
        "{s:?}"
    );

    let mut rig = Rig::start(
        fast_timing(),
        |c| ClientConfig {
            body_limit: 4096,
            ..c
        },
        sim_config("127.0.0.1:0".parse().unwrap()),
    )
    .await;
    rig.until("too large", LIMIT, |r| {
        r.state(Resource::Incidents) == SourceState::Error
    })
    .await;
    assert!(matches!(
        rig.store.incidents.error,
        Some((FetchError::TooLarge { limit: 4096 }, _))
    ));
    // Small resources still load.
    rig.until("departments live", LIMIT, |r| {
        r.state(Resource::Departments) == SourceState::Live
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_are_idempotent_and_follow_the_workflow() {
    // Paused: no background progress races with the test's actions.
    let sim = SimServer::start(SimConfig {
        paused: true,
        ..sim_config("127.0.0.1:0".parse().unwrap())
    })
    .await
    .unwrap();
    let client = Client::new(&ClientConfig::new(sim.base_url())).unwrap();
    let (id, status) = {
        let w = sim.shared.world.lock().unwrap();
        let i = w
            .incidents()
            .iter()
            .rev()
            .find(|i| !i.status.is_closed())
            .expect("an open incident");
        (i.id.clone(), i.status)
    };
    let action = workflow::allowed_actions(status)[0];
    let req = ActionRequest {
        action,
        unit_id: Some("bt-ba-tri".into()),
        note: Some("Đã xác minh qua điện thoại".into()),
        expected_version: None,
        actor: Some("test".into()),
    };
    let a = client.post_action(&id, &req, "key-1").await.unwrap();
    let b = client.post_action(&id, &req, "key-1").await.unwrap();
    assert_eq!(a, b, "the same key twice has one effect");
    assert_eq!(
        a.status,
        workflow::next_status(status, action, Some("bt-ba-tri"), Some("x")).unwrap()
    );
    let server_side = sim
        .shared
        .world
        .lock()
        .unwrap()
        .incident(&id)
        .unwrap()
        .clone();
    assert_eq!(
        server_side
            .history
            .iter()
            .filter(|h| h.action == action)
            .count(),
        1,
        "applied once on the server"
    );

    // The same action with a new key is a new request, and the workflow refuses it.
    match client.post_action(&id, &req, "key-2").await {
        Err(FetchError::Status {
            status: 422, code, ..
        }) => assert_eq!(code, "invalid_transition"),
        other => panic!("{other:?}"),
    }
    // A decision taken on an old version is a conflict, not an overwrite.
    let note = ActionRequest {
        action: ActionKind::Note,
        expected_version: Some(a.version - 1),
        ..req.clone()
    };
    match client.post_action(&id, &note, "key-3").await {
        Err(FetchError::Status {
            status: 409, code, ..
        }) => assert_eq!(code, "conflict"),
        other => panic!("{other:?}"),
    }
    let note = ActionRequest {
        expected_version: Some(a.version),
        ..note
    };
    let c = client.post_action(&id, &note, "key-4").await.unwrap();
    assert_eq!(c.version, a.version + 1);
    assert_eq!(c.status, a.status, "a note does not change the status");
    sim.stop().await;
}

/// kittest: the `sources` tile on the desk layout follows the simulator: live, stale (answers
/// too slow, stream dropped), offline (simulator stopped), live again (restarted on its port).
#[test]
fn a_tile_turns_stale_then_offline_then_live_again() {
    use ioc_console::app::ConsoleApp;
    use ioc_console::role::Role;
    use ioc_console::tiles::TileKind;
    use std::rc::Rc;

    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(SimServer::start(sim_config("127.0.0.1:0".parse().unwrap())))
        .unwrap();
    let addr = sim.addr;
    let app = crate::support::connected_desk(sim.base_url(), Lang::Vi, Role::Operator);
    let mut h = crate::support::harness([1200.0, 700.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    // The state the tile's frame draws, computed exactly as the wall does.
    let tile_state = |app: &ConsoleApp| {
        let state = app.wall_state();
        let cx = state.frame_ctx(Utc::now());
        let tile = state
            .layout
            .tiles
            .iter()
            .find(|t| t.kind() == TileKind::Sources)
            .unwrap();
        tile.options.view().status(&cx)
    };
    let mut wait_for = |want: SourceState, what: &str| {
        let start = Instant::now();
        loop {
            h.step();
            let s = tile_state(&app.borrow());
            if s.state == want {
                return s;
            }
            assert!(
                start.elapsed() < LIMIT,
                "the tile never turned {what}: {s:?}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    };

    let live = wait_for(SourceState::Live, "live");
    assert!(live.reason.is_none());

    sim.set_faults(Faults {
        latency_ms: 60_000,
        drop_sse: true,
        ..Faults::default()
    });
    let stale = wait_for(SourceState::Stale, "stale");
    assert!(
        stale
            .reason_in(Lang::Vi)
            .unwrap()
            .contains("nguồn dữ liệu có vấn đề")
    );

    rt.block_on(sim.stop());
    wait_for(SourceState::Offline, "offline");
    assert!(
        app.borrow()
            .wall_state()
            .store
            .count(Resource::Incidents)
            .unwrap()
            > 0,
        "the last good data is kept"
    );

    let sim = rt
        .block_on(SimServer::start(sim_config(addr)))
        .expect("restart on the same port");
    wait_for(SourceState::Live, "live again");
    drop(h);
    rt.block_on(sim.stop());
}
