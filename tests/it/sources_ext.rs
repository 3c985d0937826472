//! Sources beside the IOC backend, over real HTTP on loopback: Open311 servers that speak only
//! JSON (paginated) or only XML (with request updates), an error list and recovery, an SDMX
//! endpoint, a PX-Web server taking POST queries that answers 429 once, bad input kept out with
//! the last good data shown, operators' actions sent back as Open311 updates (or refused for a
//! read-only source), and the demo wall with its incidents from the simulator's Open311 server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use ioc_console::model::{IncidentStatus, PeriodKind};
use ioc_console::sim::{SimConfig, SimServer};
use ioc_console::sources::external::{External, Feeds, SourceConfig, SourceKind, Updates};
use ioc_console::sources::open311::mapping::Open311Mapping;
use ioc_console::sources::stats::mapping::{IndicatorMap, StatsMapping};
use ioc_console::sources::{self, BackendLink, ClientConfig, Resource, Timing, Update};
use ioc_console::status::SourceState;
use ioc_console::store::Store;

use crate::backend::fast_timing;

fn data(path: &str) -> Vec<u8> {
    std::fs::read(crate::support::repo().join("tests/data/sources").join(path)).expect("fixture")
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

fn body(ct: &'static str, bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, ct)], bytes).into_response()
}

/// The simulator on a free loopback port at the fixed instant.
async fn sim() -> SimServer {
    SimServer::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        epoch: Some(crate::support::fixed_now()),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// The simulator as the backend of everything the sources do not give, the sources beside it.
struct Rig {
    _sim: SimServer,
    link: BackendLink,
    store: Store,
    seen: Vec<String>,
}

impl Rig {
    async fn start(ext: External, outbox: Option<Arc<ioc_console::outbox::Outbox>>) -> Rig {
        Self::start_on(sim().await, ext, outbox)
    }

    fn start_on(
        sim: SimServer,
        ext: External,
        outbox: Option<Arc<ioc_console::outbox::Outbox>>,
    ) -> Rig {
        let timing: Timing = fast_timing();
        let link = sources::start_with(
            &tokio::runtime::Handle::current(),
            &ClientConfig::new(sim.base_url()),
            timing.clone(),
            Arc::new(|| {}),
            outbox,
            &ext,
            None,
        )
        .unwrap();
        Rig {
            _sim: sim,
            link,
            store: Store::connected(timing),
            seen: Vec::new(),
        }
    }

    async fn until(&mut self, what: &str, pred: impl Fn(&Store) -> bool) {
        let start = Instant::now();
        while !pred(&self.store) {
            if start.elapsed() > Duration::from_secs(30) {
                let states: Vec<_> = Resource::ALL
                    .iter()
                    .map(|&r| (r, self.store.status(r, Utc::now())))
                    .collect();
                panic!(
                    "timed out waiting for {what}; origins {:#?}; states {states:#?}; seen {:?}",
                    self.store.origins, self.seen
                );
            }
            if let Ok(Some(u)) =
                tokio::time::timeout(Duration::from_millis(50), self.link.updates.recv()).await
            {
                if let Update::SourceFailed { error, .. } = &u {
                    self.seen.push(error.to_string());
                }
                self.store.apply(u);
            }
        }
    }
}

fn open311(id: &str, url: String, updates: Updates, page_size: Option<u32>) -> SourceConfig {
    SourceConfig {
        id: id.into(),
        name: format!("Phản ánh {id}"),
        kind: SourceKind::Open311,
        url,
        poll_seconds: Some(2),
        timeout_seconds: Some(5),
        body_limit_mb: None,
        api_key_file: None,
        key_on_reads: false,
        format: Default::default(),
        jurisdiction_id: None,
        page_size,
        max_pages: None,
        updates,
        open311: Some(Open311Mapping {
            default_unit: "vl".into(),
            agencies: BTreeMap::from([("Sở Xây dựng".to_owned(), "so-xd".to_owned())]),
            ..Open311Mapping::default()
        }),
        query: None,
        pxweb_version: None,
        max_cells: None,
        stats: None,
    }
}

fn stats(id: &str, kind: SourceKind, url: String, m: StatsMapping) -> SourceConfig {
    SourceConfig {
        kind,
        stats: Some(m),
        poll_seconds: Some(2),
        open311: None,
        ..open311(id, url, Updates::None, None)
    }
}

fn ext(sources: Vec<SourceConfig>, incidents: bool, series: bool) -> External {
    let ids = |want: bool, k: SourceKind| -> Vec<String> {
        let mut v = vec!["backend".to_owned()];
        if want {
            v.extend(
                sources
                    .iter()
                    .filter(|s| (s.kind == SourceKind::Open311) == (k == SourceKind::Open311))
                    .map(|s| s.id.clone()),
            );
        }
        v
    };
    External {
        feeds: Feeds {
            incidents: ids(incidents, SourceKind::Open311),
            categories: vec!["backend".into()],
            series: ids(series, SourceKind::SdmxMl),
        },
        sources,
        ca_bundle: None,
    }
}

/// A JSON-only Open311 server with `page`/`page_size` over 25 generated requests.
#[derive(Default)]
struct Paged {
    pages: AtomicUsize,
}

#[derive(serde::Deserialize)]
struct PageQ {
    page: Option<usize>,
    page_size: Option<usize>,
}

async fn paged_requests(State(s): State<Arc<Paged>>, Query(q): Query<PageQ>) -> Response {
    s.pages.fetch_add(1, Ordering::SeqCst);
    let size = q.page_size.unwrap_or(1000);
    let page = q.page.unwrap_or(1);
    let all: Vec<serde_json::Value> = (1..=25)
        .map(|i| {
            let status = ["open", "IN_PROGRESS", "closed", "investigating", "FIXED"][i as usize % 5];
            serde_json::json!({
                "service_request_id": if i % 2 == 0 { serde_json::json!(1_000_000_000_000u64 + i) } else { serde_json::json!(format!("{i:04}")) },
                "status": status,
                "service_code": "001",
                "service_name": "Ổ gà",
                "agency_responsible": "Sở Xây dựng",
                "requested_datetime": format!("2026-11-{:02}T08:00:00+0700", 1 + i % 28),
                "lat": format!("{}", 10.2 + i as f64 * 0.001),
                "long": 105.97
            })
        })
        .collect();
    let chunk: Vec<_> = all.into_iter().skip((page - 1) * size).take(size).collect();
    axum::Json(chunk).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_only_server_is_read_page_by_page_and_an_xml_only_one_with_its_updates() {
    let paged = Arc::new(Paged::default());
    let json_only = Router::new()
        .route("/v2/requests.json", get(paged_requests))
        .route(
            "/v2/services.json",
            get(|| async { body("application/json", data("open311/services.json")) }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such format").into_response() })
        .with_state(Arc::clone(&paged));
    let xml_only = Router::new()
        .route("/georeport/v2/requests.xml", get(|| async { body("text/xml", data("open311/requests.xml")) }))
        .route("/georeport/v2/services.xml", get(|| async { body("text/xml", data("open311/services.xml")) }))
        .route("/georeport/v2/servicerequestupdates.xml", get(|| async { body("text/xml", data("open311/updates.xml")) }))
        // An XML-only server answers its JSON URLs with an XML error list.
        .fallback(|| async {
            (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/xml")], "<errors><error><code>400</code><description>format json not supported</description></error></errors>").into_response()
        });
    let a = serve(json_only).await;
    let b = serve(xml_only).await;
    let sources = vec![
        open311("pa", format!("http://{a}/v2"), Updates::None, Some(10)),
        open311(
            "fms",
            format!("http://{b}/georeport/v2/"),
            Updates::Read,
            None,
        ),
    ];
    let mut rig = Rig::start(ext(sources, true, false), None).await;
    rig.until("both sources and the backend loaded", |s| {
        s.incidents.fetched_at.is_some()
            && s.categories.fetched_at.is_some()
            && s.origins.get("pa").is_some_and(|o| o.fetched_at.is_some())
            && s.origins.get("fms").is_some_and(|o| o.fetched_at.is_some())
    })
    .await;
    let incidents = rig.store.incidents.data.clone().unwrap();
    // Every page read (3 of 10), ids kept as strings, statuses through the table.
    let from_pa: Vec<_> = incidents
        .values()
        .filter(|i| i.origin.as_ref().is_some_and(|o| o.source == "pa"))
        .collect();
    assert_eq!(from_pa.len(), 25);
    assert!(paged.pages.load(Ordering::SeqCst) >= 3);
    assert!(incidents.contains_key("pa:0001"));
    assert!(incidents.contains_key("pa:1000000000002"));
    assert_eq!(incidents["pa:0001"].status, IncidentStatus::InProgress);
    assert_eq!(incidents["pa:0001"].unit_id, "so-xd");
    assert_eq!(
        incidents["pa:0003"].status,
        IncidentStatus::Verified,
        "investigating"
    );
    assert_eq!(
        incidents["pa:1000000000002"].status,
        IncidentStatus::Resolved,
        "closed"
    );
    // The XML-only server: JSON refused, XML read; its updates are the incident's history.
    let fms = &incidents["fms:638344"];
    assert_eq!(fms.description, "Ổ gà & nước đọng trên đường 3/2 <gần chợ>");
    assert_eq!(fms.unit_id, "so-xd", "agency inside <recipient>");
    let steps: Vec<_> = fms.history.iter().map(|h| h.status).collect();
    assert_eq!(
        steps,
        [
            IncidentStatus::Received,
            IncidentStatus::InProgress,
            IncidentStatus::Resolved
        ]
    );
    assert!(fms.history[2].note.as_deref().unwrap().contains("DA_XU_LY"));
    assert!(
        !incidents["fms:0043"].location.is_valid(),
        "empty coordinates: off the map"
    );
    assert_eq!(incidents["fms:0043"].status, IncidentStatus::Resolved);
    // The backend's incidents are there too, and the services became categories.
    assert!(incidents.values().any(|i| i.origin.is_none()));
    let cats = rig.store.categories.data.clone().unwrap();
    assert!(
        cats.iter()
            .any(|c| c.id == "fms:001" && c.name_vi == "Ổ gà, hư hỏng mặt đường")
    );
    // Groups kept, however the server wrote them.
    let fms_001 = cats.iter().find(|c| c.id == "fms:001").unwrap();
    assert_eq!(fms_001.groups, ["Giao thông", "Hạ tầng"]);
    assert_eq!(
        cats.iter().find(|c| c.id == "pa:002").unwrap().groups,
        ["Hạ tầng"]
    );
    assert!(cats.iter().any(|c| c.id == "pa:HIGH_HI88"));
    assert_eq!(
        rig.store.status(Resource::Incidents, Utc::now()).state,
        SourceState::Live
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_list_is_said_with_its_code_the_data_is_kept_and_the_source_recovers() {
    let broken = Arc::new(AtomicBool::new(false));
    let app = Router::new()
        .route(
            "/v2/requests.json",
            get(|State(b): State<Arc<AtomicBool>>| async move {
                if b.load(Ordering::SeqCst) {
                    (
                        StatusCode::FORBIDDEN,
                        [(header::CONTENT_TYPE, "application/json")],
                        data("open311/errors.json"),
                    )
                        .into_response()
                } else {
                    body("application/json", data("open311/requests.json"))
                }
            }),
        )
        .route(
            "/v2/services.json",
            get(|| async { body("application/json", data("open311/services.json")) }),
        )
        .with_state(Arc::clone(&broken));
    let a = serve(app).await;
    let mut rig = Rig::start(
        ext(
            vec![open311("pa", format!("http://{a}/v2"), Updates::None, None)],
            true,
            false,
        ),
        None,
    )
    .await;
    rig.until("loaded", |s| {
        s.origins.get("pa").is_some_and(|o| o.fetched_at.is_some())
    })
    .await;
    let origin = &rig.store.origins["pa"];
    assert_eq!(
        origin.incidents, 5,
        "the record with neither id nor token is skipped"
    );
    assert!(
        origin
            .problems
            .iter()
            .any(|p| p.contains("neither service_request_id nor token")),
        "{:?}",
        origin.problems
    );
    assert!(
        origin.problems.iter().any(|p| p.contains("swapped")),
        "{:?}",
        origin.problems
    );
    broken.store(true, Ordering::SeqCst);
    rig.until("the error list shown", |s| {
        s.status(Resource::Incidents, Utc::now()).state == SourceState::NoPermission
    })
    .await;
    let st = rig.store.status(Resource::Incidents, Utc::now());
    let vi = st.reason_in(ioc_console::i18n::Lang::Vi).unwrap();
    assert!(
        vi.contains("Phản ánh pa") && vi.contains("Invalid api_key") && vi.contains("1021"),
        "{vi}"
    );
    let en = st.reason_in(ioc_console::i18n::Lang::En).unwrap();
    assert!(en.contains("does not allow access"), "{en}");
    let kept = rig
        .store
        .incidents
        .data
        .as_ref()
        .unwrap()
        .values()
        .filter(|i| i.origin.is_some())
        .count();
    assert_eq!(kept, 5, "the last good data stays");
    broken.store(false, Ordering::SeqCst);
    rig.until("recovered", |s| {
        s.status(Resource::Incidents, Utc::now()).state == SourceState::Live
    })
    .await;
}

fn gdp_mapping() -> StatsMapping {
    StatsMapping {
        default_unit: Some("vl".into()),
        indicators: vec![
            IndicatorMap {
                id: "gdp_nominal".into(),
                select: BTreeMap::from([("INDICATOR".to_owned(), "NGDP_XDC".to_owned())]),
                name_vi: Some("GDP danh nghĩa".into()),
                unit_of_measure: Some("tỷ đồng".into()),
                period: Some(PeriodKind::Quarterly),
                scale: Some(1e-9),
                ..Default::default()
            },
            IndicatorMap {
                id: "gdp_growth".into(),
                select: BTreeMap::from([("INDICATOR".to_owned(), "NGDP_R_PC_CP_A_PT".to_owned())]),
                unit_of_measure: Some("%".into()),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdmx_endpoint_gives_series_and_a_login_page_is_an_error_until_fixed() {
    let html = Arc::new(AtomicBool::new(false));
    let app = Router::new()
        .route(
            "/sdmx/data/GDP",
            get(|State(h): State<Arc<AtomicBool>>| async move {
                if h.load(Ordering::SeqCst) {
                    body(
                        "text/html",
                        b"<!DOCTYPE html><html><body>Dang nhap</body></html>".to_vec(),
                    )
                } else {
                    body(
                        "application/vnd.sdmx.structurespecificdata+xml",
                        data("sdmx/nsdp-gdp.xml"),
                    )
                }
            }),
        )
        .with_state(Arc::clone(&html));
    let a = serve(app).await;
    let src = stats(
        "gso",
        SourceKind::SdmxMl,
        format!("http://{a}/sdmx/data/GDP"),
        gdp_mapping(),
    );
    let mut rig = Rig::start(ext(vec![src], false, true), None).await;
    rig.until("loaded", |s| {
        s.series.fetched_at.is_some()
            && s.origins.get("gso").is_some_and(|o| o.fetched_at.is_some())
    })
    .await;
    let series = rig.store.series.data.clone().unwrap();
    let gdp = &series[&("gdp_nominal".to_owned(), "vl".to_owned())];
    assert_eq!(gdp.origin.as_deref(), Some("gso"));
    let values: Vec<_> = gdp
        .points
        .iter()
        .map(|p| (p.period.to_string(), (p.value * 100.0).round() / 100.0))
        .collect();
    assert_eq!(
        values,
        [
            ("2024-Q1".to_owned(), 2_324_117.08),
            ("2024-Q2".to_owned(), 2_635_380.55),
            ("2024-Q3".to_owned(), 2_767_229.12)
        ]
    );
    assert_eq!(gdp.points[1].status.unwrap().as_str(), "P");
    assert_eq!(gdp.missing.len(), 1, "na is missing, not zero");
    assert_eq!(gdp.missing[0].period.to_string(), "2024-Q4");
    let ind = rig.store.indicators.data.clone().unwrap();
    assert!(ind.iter().any(|i| i.id == "gdp_nominal"
        && i.unit_of_measure == "tỷ đồng"
        && i.provider_id == "gso"));
    let origin = &rig.store.origins["gso"];
    assert!(
        origin.problems.iter().any(|p| p.contains("2024-Q13")),
        "{:?}",
        origin.problems
    );
    assert!(
        origin
            .problems
            .iter()
            .any(|p| p.contains("other period kinds")),
        "{:?}",
        origin.problems
    );
    // The backend's series are still there.
    assert!(series.values().any(|s| s.origin.is_none()));
    html.store(true, Ordering::SeqCst);
    rig.until("an error", |s| {
        s.status(Resource::Series, Utc::now()).state == SourceState::Error
    })
    .await;
    let reason = rig
        .store
        .status(Resource::Series, Utc::now())
        .reason_in(ioc_console::i18n::Lang::Vi)
        .unwrap();
    assert!(
        reason.contains("HTML") && reason.contains("Phản ánh gso"),
        "{reason}"
    );
    assert!(
        rig.store
            .series
            .data
            .as_ref()
            .unwrap()
            .contains_key(&("gdp_nominal".to_owned(), "vl".to_owned()))
    );
    html.store(false, Ordering::SeqCst);
    rig.until("recovered", |s| {
        s.status(Resource::Series, Utc::now()).state == SourceState::Live
    })
    .await;
}

#[derive(Default)]
struct Px {
    posts: AtomicUsize,
    bodies: std::sync::Mutex<Vec<serde_json::Value>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_px_web_table_is_posted_its_query_and_a_429_is_waited_out() {
    let px = Arc::new(Px::default());
    // The table's path is Vietnamese: the console sends it percent-encoded as UTF-8.
    const TABLE: &str = "/api/v1/vi/D%C3%A2n%20s%E1%BB%91/V02.01.px";
    let app = Router::new()
        .fallback(
            |State(px): State<Arc<Px>>,
             method: axum::http::Method,
             uri: axum::http::Uri,
             b: axum::body::Bytes| async move {
                if uri.path() != TABLE {
                    return (StatusCode::NOT_FOUND, format!("no table {}", uri.path()))
                        .into_response();
                }
                if method == axum::http::Method::GET {
                    return body("application/json", data("pxweb/table-meta.json"));
                }
                let n = px.posts.fetch_add(1, Ordering::SeqCst);
                px.bodies
                    .lock()
                    .unwrap()
                    .push(serde_json::from_slice(&b).unwrap_or_default());
                if n == 0 {
                    let mut h = HeaderMap::new();
                    h.insert(header::RETRY_AFTER, "1".parse().unwrap());
                    return (StatusCode::TOO_MANY_REQUESTS, h, "slow down").into_response();
                }
                body("application/json", data("jsonstat/gso-population.json"))
            },
        )
        .with_state(Arc::clone(&px));
    let a = serve(app).await;
    let mapping = StatsMapping {
        area_dimension: Some("Địa phương".into()),
        areas: BTreeMap::from([
            ("0".to_owned(), "vl".to_owned()),
            ("1".to_owned(), "bt".to_owned()),
        ]),
        indicators: vec![IndicatorMap {
            id: "population".into(),
            name_vi: Some("Dân số trung bình".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut src = stats(
        "px",
        SourceKind::Pxweb,
        format!("http://{a}/api/v1/vi/Dân số/V02.01.px"),
        mapping,
    );
    src.query = Some(
        serde_json::json!({"query":[{"code":"Địa phương","selection":{"filter":"item","values":["0","1","2"]}}],"response":{"format":"json-stat2"}}),
    );
    let mut rig = Rig::start(ext(vec![src], false, true), None).await;
    rig.until("loaded", |s| {
        s.origins.get("px").is_some_and(|o| o.fetched_at.is_some())
    })
    .await;
    assert_eq!(px.posts.load(Ordering::SeqCst), 2, "one 429, one answer");
    assert!(rig.seen.iter().any(|e| e.contains("429")), "{:?}", rig.seen);
    let sent = px.bodies.lock().unwrap()[1].clone();
    assert_eq!(sent["query"][0]["code"], "Địa phương");
    let series = rig.store.series.data.clone().unwrap();
    let bt = &series[&("population".to_owned(), "bt".to_owned())];
    // "..": missing; "Sơ bộ 2024" read as 2024; Trà Vinh (code 2) has no unit: said.
    assert_eq!(
        bt.points
            .iter()
            .map(|p| p.period.to_string())
            .collect::<Vec<_>>(),
        ["2022", "2024"]
    );
    assert_eq!(bt.missing.len(), 1);
    assert_eq!(bt.missing[0].status.unwrap().as_str(), "..");
    assert!(
        rig.store.origins["px"]
            .problems
            .iter()
            .any(|p| p.contains("area code 2")),
        "{:?}",
        rig.store.origins["px"].problems
    );
    // The metadata's time variable was used (the answer's role is empty).
    assert_eq!(
        rig.store
            .indicators
            .data
            .as_ref()
            .unwrap()
            .iter()
            .find(|i| i.id == "population")
            .unwrap()
            .period,
        PeriodKind::Yearly
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_go_back_as_updates_and_a_read_only_source_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let outbox =
        Arc::new(ioc_console::outbox::Outbox::open(&dir.path().join("outbox.sqlite")).unwrap());
    let sim = sim().await;
    let mut demo = ioc_console::app::connect::demo_open311(&sim);
    demo.sources[0].poll_seconds = Some(2);
    let mut readonly = demo.sources[0].clone();
    readonly.id = "ro".into();
    readonly.updates = Updates::Read;
    demo.sources.push(readonly);
    demo.feeds.incidents.push("ro".into());
    // An open incident and the step its status allows (sent as the matching Open311 status).
    use ioc_console::model::ActionKind;
    let (target, action, after) = sim.with_world(|w| {
        w.incidents()
            .iter()
            .find_map(|i| match i.status {
                IncidentStatus::Received => {
                    Some((i.id.clone(), ActionKind::Verify, IncidentStatus::Verified))
                }
                IncidentStatus::Forwarded => {
                    Some((i.id.clone(), ActionKind::Start, IncidentStatus::InProgress))
                }
                IncidentStatus::InProgress => {
                    Some((i.id.clone(), ActionKind::Resolve, IncidentStatus::Resolved))
                }
                _ => None,
            })
            .expect("an open incident")
    });
    let mut rig = Rig::start_on(sim, demo, Some(Arc::clone(&outbox)));
    rig.until("loaded", |s| {
        s.origins.values().all(|o| o.fetched_at.is_some()) && s.origins.len() == 2
    })
    .await;
    let id = format!("phan-anh:{target}");
    assert!(
        rig.store.incidents.data.as_ref().unwrap()[&id]
            .origin
            .as_ref()
            .unwrap()
            .writable
    );
    let act = |incident_id: String| sources::Request::Act {
        incident_id,
        request: ioc_console::model::ActionRequest {
            action,
            unit_id: None,
            note: Some("Đã xác minh qua camera".into()),
            expected_version: None,
            actor: Some("Trực ban".into()),
        },
        author: None,
    };
    rig.link.requests.send(act(id.clone())).await.unwrap();
    rig.until("the update applied", |s| {
        s.incidents.data.as_ref().unwrap()[&id].status == after
    })
    .await;
    let w = rig
        ._sim
        .with_world(|w| w.incident(&target).unwrap().clone());
    assert_eq!(w.status, after);
    assert_eq!(
        w.history.last().unwrap().note.as_deref(),
        Some("Đã xác minh qua camera")
    );
    // The read-only source's copy: refused with the reason, nothing sent.
    let ro = format!("ro:{target}");
    rig.link.requests.send(act(ro.clone())).await.unwrap();
    rig.until("the refusal recorded", |s| {
        s.outbox.iter().any(|e| {
            e.incident_id == ro
                && e.last_error
                    .as_deref()
                    .is_some_and(|m| m.contains("read-only"))
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_wall_shows_incidents_from_an_open311_server_on_queue_map_and_report() {
    let sim = sim().await;
    let demo = ioc_console::app::connect::demo_open311(&sim);
    let world: Vec<_> = sim.with_world(|w| w.incidents().to_vec());
    let mut rig = Rig::start_on(sim, demo, None);
    rig.until("every resource live", |s| {
        Resource::ALL
            .iter()
            .all(|&r| s.status(r, Utc::now()).state == SourceState::Live)
    })
    .await;
    let map = rig.store.incidents.data.clone().unwrap();
    assert_eq!(
        map.len(),
        world.len(),
        "only the Open311 server's incidents: the backend's are not fed"
    );
    assert!(
        map.values()
            .all(|i| i.origin.as_ref().is_some_and(|o| o.source == "phan-anh"))
    );
    for w in &world {
        let i = &map[&format!("phan-anh:{}", w.id)];
        assert_eq!(
            (i.status, &i.unit_id, &i.category),
            (w.status, &w.unit_id, &w.category),
            "{}",
            w.id
        );
    }
    // Queue, map and quarterly report take them like any incident.
    let queue = ioc_console::incidents::queue::QueueIndex::build(&map, 1);
    assert_eq!(queue.len(), world.len());
    let placed = ioc_console::tiles::map::prepare_incident_points(
        &rig.store,
        ioc_console::tiles::map::Placement {
            include_closed: true,
            unit: None,
        },
    );
    assert_eq!(
        placed,
        world.iter().filter(|i| i.location.is_valid()).count()
    );
    let now = crate::support::fixed_now();
    let quarter = ioc_console::incidents::report::Quarter {
        year: 2026,
        q: ((chrono::Datelike::month(&now) - 1) / 3) + 1,
    };
    let report = ioc_console::incidents::report::build(
        map.values(),
        rig.store.units.data.as_deref().unwrap(),
        rig.store.categories.data.as_deref().unwrap(),
        quarter,
        now,
        ioc_console::i18n::Lang::Vi,
    );
    // The same figures as the simulator's own incidents give (resolutions came as updates).
    let own = ioc_console::incidents::report::build(
        world.iter(),
        rig.store.units.data.as_deref().unwrap(),
        rig.store.categories.data.as_deref().unwrap(),
        quarter,
        now,
        ioc_console::i18n::Lang::Vi,
    );
    assert!(own.total.received > 0 && own.total.resolved > 0);
    assert_eq!(report.total.received, own.total.received);
    assert_eq!(report.total.resolved, own.total.resolved);
    assert_eq!(report.total.rejected, own.total.rejected);
}

/// The API key from its file goes with the requests but never into a state, a reason or an error
/// (a refused connection's words carry the URL; a server may echo its query); an unreadable key
/// file is said and the source starts once the file is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_never_shows_and_a_missing_key_file_is_said_until_it_is_there() {
    // A base64-like key: percent-encoded in URLs (and so in reqwest's words).
    const KEY: &str = "s3cr3t+open311/key=2607";
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("phan-anh.key");
    let echo = Router::new().fallback(|uri: axum::http::Uri| async move {
        // A careless server: its error page repeats the request's query.
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed: {}", uri.query().unwrap_or("")),
        )
            .into_response()
    });
    let a = serve(echo).await;
    let mut dead = open311("dead", "http://127.0.0.1:9/v2".into(), Updates::None, None);
    let mut echoing = open311("echo", format!("http://{a}/v2"), Updates::None, None);
    let mut later = open311("later", format!("http://{a}/v2"), Updates::None, None);
    for s in [&mut dead, &mut echoing, &mut later] {
        s.api_key_file = Some(key_file.clone());
        s.key_on_reads = true;
    }
    later.api_key_file = Some(dir.path().join("later.key"));
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let mut rig = Rig::start(ext(vec![dead, echoing, later], true, false), None).await;
    rig.until("three failures", |s| {
        ["dead", "echo", "later"]
            .iter()
            .all(|id| s.origins.get(*id).is_some_and(|o| o.error.is_some()))
    })
    .await;
    let everything = format!("{:?} {:?}", rig.store.origins, rig.seen);
    assert!(!everything.contains(KEY), "the key shows: {everything}");
    assert!(
        !everything.contains("s3cr3t%2Bopen311%2Fkey%3D2607"),
        "the key shows percent-encoded: {everything}"
    );
    assert!(
        everything.contains("api_key=***"),
        "the echo was redacted, not lost: {everything}"
    );
    let st = rig.store.status(Resource::Incidents, Utc::now());
    for lang in [ioc_console::i18n::Lang::Vi, ioc_console::i18n::Lang::En] {
        assert!(!st.reason_in(lang).unwrap().contains(KEY));
    }
    let later = rig.store.origins["later"]
        .status(Utc::now())
        .reason_in(ioc_console::i18n::Lang::En)
        .unwrap();
    assert!(later.contains("cannot read the API key file"), "{later}");
    // The file appears: the source starts (and meets the server's 500s).
    std::fs::write(dir.path().join("later.key"), "k2").unwrap();
    rig.until("the later source started", |s| {
        s.origins["later"].error.as_ref().is_some_and(|(e, _)| {
            matches!(
                e,
                ioc_console::sources::FetchError::Status { status: 500, .. }
            )
        })
    })
    .await;
}

/// A source answering more than its body limit: the tiles say so naming the source, the last
/// good data stays, and a normal answer again makes it live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_sources_limit_is_an_error_and_the_data_is_kept() {
    let huge = Arc::new(AtomicBool::new(false));
    let app = Router::new()
        .route(
            "/v2/requests.json",
            get(|State(h): State<Arc<AtomicBool>>| async move {
                if h.load(Ordering::SeqCst) {
                    // Two megabytes of a list that never ends well.
                    let mut b = b"[".to_vec();
                    b.extend(br#"{"service_request_id":"1","status":"open"},"#.repeat(50_000));
                    body("application/json", b)
                } else {
                    body("application/json", data("open311/requests.json"))
                }
            }),
        )
        .route(
            "/v2/services.json",
            get(|| async { body("application/json", data("open311/services.json")) }),
        )
        .with_state(Arc::clone(&huge));
    let a = serve(app).await;
    let mut src = open311("pa", format!("http://{a}/v2"), Updates::None, None);
    src.body_limit_mb = Some(1);
    let mut rig = Rig::start(ext(vec![src], true, false), None).await;
    rig.until("loaded", |s| {
        s.origins.get("pa").is_some_and(|o| o.fetched_at.is_some())
    })
    .await;
    huge.store(true, Ordering::SeqCst);
    rig.until("too large", |s| {
        s.status(Resource::Incidents, Utc::now()).state == SourceState::Error
    })
    .await;
    let reason = rig
        .store
        .status(Resource::Incidents, Utc::now())
        .reason_in(ioc_console::i18n::Lang::Vi)
        .unwrap();
    assert!(
        reason.contains("Phản ánh pa") && reason.contains("1 MB"),
        "{reason}"
    );
    assert_eq!(
        rig.store.origins["pa"].incidents, 5,
        "the last good data stays"
    );
    huge.store(false, Ordering::SeqCst);
    rig.until("live again", |s| {
        s.status(Resource::Incidents, Utc::now()).state == SourceState::Live
    })
    .await;
}
