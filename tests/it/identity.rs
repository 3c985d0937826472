//! Who is at the console, against a real OpenID Connect provider on loopback (`oidc::Provider`):
//! the code flow with PKCE driven without a browser (the test follows the redirects and posts
//! the login form), the device flow confirmed "on a phone", refresh, revocation, roles from the
//! token; the simulator as a resource server refusing a leader's token, a tampered, expired or
//! wrong-audience one; bad servers and tokens said in words; and a desk signed in whose actions
//! go under the person's name, locked, handed over and signed out with actions still queued.

use std::time::Duration;

use egui_kittest::kittest::Queryable as _;

use ioc_console::auth::loopback::{Callback, Loopback};
use ioc_console::auth::oidc::IdTokenProblem;
use ioc_console::auth::{AuthError, IdentityConfig, Provider, SignedIn};
use ioc_console::i18n::Lang;
use ioc_console::role::Role;

use crate::oidc::{self, Browser, Stop, claims};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// Signs `user` in through the code flow, the test being the browser.
async fn code_flow(provider: &Provider, user: &str) -> Result<SignedIn, AuthError> {
    let lb = Loopback::bind().await.unwrap();
    let pending = provider.begin_code(&lb.redirect_uri()).unwrap();
    let url = pending.url.to_string();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains("nonce="), "{url}");
    // Every sign-in at a shared desk is a real one, not the browser's SSO of the one before.
    assert!(url.contains("prompt=login"), "{url}");
    let redirect = lb.redirect_uri();
    let user = user.to_owned();
    let browser = tokio::spawn(async move {
        match Browser::new().drive(&url, &user, &redirect).await {
            // The browser arrives at the console's loopback address.
            Stop::Redirect(u) => reqwest::get(u).await.unwrap().text().await.unwrap(),
            Stop::Page(status, body) => panic!("stopped at a page {status}: {body}"),
        }
    });
    let cb = lb.wait("signed in", "failed").await.unwrap();
    assert_eq!(browser.await.unwrap(), "signed in");
    let Callback::Code { code, state } = cb else {
        panic!("{cb:?}");
    };
    provider.finish_code(pending, &code, &state).await
}

#[test]
fn the_code_flow_with_pkce_signs_in_refreshes_and_signs_out() {
    let idp = oidc::Provider::start();
    runtime().block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let s = code_flow(&provider, "op1").await.unwrap();
        assert_eq!(s.person.name, "Nguyễn Văn An");
        assert_eq!(s.person.username.as_deref(), Some("op1"));
        assert_eq!(s.person.roles, vec![Role::Operator]);
        assert!(
            s.tokens.refresh.is_some(),
            "offline_access gives a refresh token"
        );
        let at = claims(s.tokens.access.expose());
        assert_eq!(at["aud"], "ioc-backend");
        assert_eq!(at["sub"], "op1");
        // Tokens never show in what may be logged.
        let shown = format!("{s:?}");
        assert!(!shown.contains(s.tokens.access.expose()), "{shown}");
        assert!(!shown.contains(s.tokens.refresh.as_ref().unwrap().expose()));

        // Refresh: a new access token (and a rotated refresh token), the same person.
        let r = provider.refresh(&s).await.unwrap();
        assert_ne!(r.tokens.access, s.tokens.access);
        assert_ne!(r.tokens.refresh, s.tokens.refresh);
        assert_eq!(r.person, s.person);

        // Sign-out: the refresh token is revoked at the server and refreshes no more.
        provider.revoke(&r.tokens).await.unwrap();
        match provider.refresh(&r).await {
            Err(AuthError::Refused { code, .. }) => assert_eq!(code, "invalid_grant"),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn roles_come_from_the_token_and_a_token_without_them_is_refused() {
    let idp = oidc::Provider::start();
    runtime().block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let multi = code_flow(&provider, "multi").await.unwrap();
        assert_eq!(multi.person.roles, vec![Role::Operator, Role::Technician]);
        let lead = code_flow(&provider, "lead1").await.unwrap();
        assert_eq!(lead.person.roles, vec![Role::Leader]);
        let e = code_flow(&provider, "norole").await.unwrap_err();
        assert_eq!(
            e,
            AuthError::NoRoleClaim {
                claim: "realm_access.roles".into()
            }
        );
        let said = e.text().say(Lang::Vi);
        assert!(said.contains("realm_access.roles"), "{said}");

        // A mapping of the province's own group names.
        let mut cfg = idp.identity();
        cfg.roles.operator = vec!["ioc-technician".into()];
        cfg.roles.technician = vec![];
        let p2 = Provider::discover(&cfg, None).await.unwrap();
        let tech = code_flow(&p2, "tech1").await.unwrap();
        assert_eq!(tech.person.roles, vec![Role::Operator]);
        let e = code_flow(&p2, "lead1").await;
        assert!(e.is_ok(), "leader still maps: {e:?}");
        cfg.roles.leader = vec![];
        let p3 = Provider::discover(&cfg, None).await.unwrap();
        match code_flow(&p3, "lead1").await {
            Err(AuthError::NoRole { values }) => assert_eq!(values, vec!["ioc-leader"]),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn the_device_flow_signs_in_from_a_phone() {
    let idp = oidc::Provider::start();
    runtime().block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        assert!(provider.has_device_flow());
        let start = provider.start_device().await.unwrap();
        assert!(!start.user_code.is_empty());
        assert!(start.verification_uri.ends_with("/device"));
        let complete = start.verification_uri_complete.clone().unwrap();
        assert!(complete.contains(&start.user_code));
        // The technician's phone: opens the QR code's address, confirms, signs in.
        let phone = tokio::spawn(async move {
            Browser::new()
                .drive(&complete, "tech1", "http://never.invalid")
                .await
        });
        let s = provider.finish_device(&start).await.unwrap();
        match phone.await.unwrap() {
            Stop::Page(200, body) => assert!(body.contains("device-success"), "{body}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.person.name, "Lê Văn Cường");
        assert_eq!(s.person.roles, vec![Role::Technician]);
        assert!(s.tokens.refresh.is_some());
    });
}

#[test]
fn bad_servers_and_tokens_are_refused_with_reasons() {
    let idp = oidc::Provider::start();
    let other_idp = oidc::Provider::start();
    runtime().block_on(async {
        // The identity server down.
        let down = IdentityConfig::new("http://127.0.0.1:9", "ioc-console");
        let e = Provider::discover(&down, None).await.err().unwrap();
        assert!(matches!(e, AuthError::Unreachable { .. }), "{e:?}");
        assert!(e.transient());
        let said = e.text().say(Lang::Vi);
        assert!(
            said.starts_with("Không kết nối được máy chủ định danh"),
            "{said}"
        );

        // A wrong client id.
        let mut wrong = idp.identity();
        wrong.client_id = "khong-co".into();
        let p = Provider::discover(&wrong, None).await.unwrap();
        let e = p.start_device().await.unwrap_err();
        assert!(
            matches!(&e, AuthError::Refused { code, .. } if code == "invalid_client"),
            "{e:?}"
        );
        let said = e.text().say(Lang::En);
        assert!(said.contains("client id"), "{said}");

        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let s = code_flow(&provider, "op1").await.unwrap();
        let id_token = s.tokens.id_token.clone().unwrap();
        let nonce = claims(id_token.expose())["nonce"]
            .as_str()
            .unwrap()
            .to_owned();
        provider
            .validate_id_token_str(id_token.expose(), Some(&nonce))
            .unwrap();
        let problem = |r: Result<serde_json::Value, AuthError>| match r {
            Err(AuthError::IdToken(p)) => p,
            other => panic!("{other:?}"),
        };
        // Another nonce than the one sent.
        assert_eq!(
            problem(provider.validate_id_token_str(id_token.expose(), Some("x"))),
            IdTokenProblem::Nonce
        );
        // A tampered signature (a character well inside it: the last one's low bits are
        // padding), and tampered claims under the real signature.
        assert_eq!(
            problem(provider.validate_id_token_str(&flip_signature(id_token.expose()), None)),
            IdTokenProblem::Signature
        );
        assert_eq!(
            problem(provider.validate_id_token_str(
                &with_claims(id_token.expose(), |c| c["name"] = "Người khác".into()),
                None
            )),
            IdTokenProblem::Signature
        );
        // A token for another application.
        let mut other_app = idp.identity();
        other_app.client_id = "other-app".into();
        let other = Provider::discover(&other_app, None).await.unwrap();
        let theirs = code_flow(&other, "op1").await.unwrap();
        let e = problem(
            provider.validate_id_token_str(theirs.tokens.id_token.as_ref().unwrap().expose(), None),
        );
        assert!(matches!(e, IdTokenProblem::Audience(_)), "{e:?}");
        // A token from another identity server.
        let stranger = Provider::discover(&other_idp.identity(), None)
            .await
            .unwrap();
        let s2 = code_flow(&stranger, "op1").await.unwrap();
        let e = problem(
            provider.validate_id_token_str(s2.tokens.id_token.as_ref().unwrap().expose(), None),
        );
        assert!(matches!(e, IdTokenProblem::Issuer(_)), "{e:?}");
        let said = AuthError::IdToken(e).text().say(Lang::Vi);
        assert!(said.contains("máy chủ khác"), "{said}");

        // This PC's clock ten minutes behind: the token seems issued in the future.
        let mut behind = provider.clone();
        behind.set_clock_offset(chrono::Duration::minutes(-10));
        let e = problem(behind.validate_id_token_str(id_token.expose(), None));
        assert!(matches!(e, IdTokenProblem::Clock(_)), "{e:?}");
        // …accepted with a skew allowed that covers it.
        let mut lenient = idp.identity();
        lenient.clock_skew_seconds = 900;
        let mut lenient = Provider::discover(&lenient, None).await.unwrap();
        lenient.set_clock_offset(chrono::Duration::minutes(-10));
        lenient
            .validate_id_token_str(id_token.expose(), None)
            .unwrap();
        // …and ten minutes ahead past a 5-minute token's expiry: expired.
        let mut ahead = provider.clone();
        ahead.set_clock_offset(chrono::Duration::minutes(10));
        let e = problem(ahead.validate_id_token_str(id_token.expose(), None));
        assert!(matches!(e, IdTokenProblem::Expired(_)), "{e:?}");
        let said = AuthError::IdToken(e).text().say(Lang::En);
        assert!(said.contains("expired"), "{said}");
    });
}

/// The JWT with one character of its signature changed.
fn flip_signature(jwt: &str) -> String {
    let mut chars: Vec<char> = jwt.chars().collect();
    let i = chars.len() - 20;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The JWT with its claims changed and its signature kept.
fn with_claims(jwt: &str, change: impl FnOnce(&mut serde_json::Value)) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut c = claims(jwt);
    change(&mut c);
    let payload = b64.encode(serde_json::to_vec(&c).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// An action's HTTP request to the simulator with `token`.
async fn act(base: &str, id: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/incidents/{id}/actions"))
        .header("Idempotency-Key", ioc_console::outbox::new_key())
        .json(&serde_json::json!({"action": "note", "note": "kiểm tra"}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[test]
fn the_simulator_as_a_resource_server_refuses_what_may_not_act() {
    let idp = oidc::Provider::start_with(oidc::Ttl {
        access: 2,
        ..Default::default()
    });
    runtime().block_on(async {
        let mut rc = ioc_console::sim::resource::ResourceConfig::new(idp.issuer.clone());
        rc.leeway = 0;
        let sim = ioc_console::sim::SimServer::start(ioc_console::sim::SimConfig {
            resource: Some(rc),
            ..crate::backend::sim_config("127.0.0.1:0".parse().unwrap())
        })
        .await
        .unwrap();
        let base = sim.base_url();
        let id = crate::support::open_incidents(&sim, 1).remove(0);
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let op = code_flow(&provider, "op1").await.unwrap();
        let lead = code_flow(&provider, "lead1").await.unwrap();

        let (status, body) = act(&base, &id, Some(op.tokens.access.expose())).await;
        assert_eq!(status, 200, "{body}");
        let history = body["history"].as_array().unwrap();
        assert_eq!(
            history.last().unwrap()["actor"],
            "Nguyễn Văn An",
            "recorded under the token's name"
        );

        let (status, body) = act(&base, &id, Some(lead.tokens.access.expose())).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "insufficient_role");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no operator role"),
            "{body}"
        );

        let (status, body) = act(&base, &id, None).await;
        assert_eq!(status, 401, "{body}");

        // A leader who writes himself the operator role into his token.
        let promoted = with_claims(lead.tokens.access.expose(), |c| {
            c["realm_access"]["roles"] = serde_json::json!(["ioc-operator"])
        });
        let (status, body) = act(&base, &id, Some(&promoted)).await;
        assert_eq!(status, 401, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("signature"),
            "{body}"
        );
        let (status, _) = act(&base, &id, Some(&flip_signature(op.tokens.access.expose()))).await;
        assert_eq!(status, 401);

        // An ID token is for the console, not for the API.
        let (status, body) = act(
            &base,
            &id,
            Some(op.tokens.id_token.as_ref().unwrap().expose()),
        )
        .await;
        assert_eq!(status, 401);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not for ioc-backend"),
            "{body}"
        );

        // Expired (two-second access tokens, no leeway).
        tokio::time::sleep(Duration::from_millis(3100)).await;
        let (status, body) = act(&base, &id, Some(op.tokens.access.expose())).await;
        assert_eq!(status, 401);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("expired"),
            "{body}"
        );
        // A refreshed one is taken again.
        let fresh = provider.refresh(&op).await.unwrap();
        let (status, _) = act(&base, &id, Some(fresh.tokens.access.expose())).await;
        assert_eq!(status, 200);
        sim.stop().await;
    });
}

/// A simulator (checking actions' tokens against the identity server `checks`, when given) on
/// a runtime of its own, and a throw-away folder for a desk's outbox and trail, named to the
/// console through the environment, with refresh tokens in memory only.
fn desk_world(
    checks: Option<&str>,
) -> (
    tokio::runtime::Runtime,
    ioc_console::sim::SimServer,
    tempfile::TempDir,
) {
    let rt = runtime();
    let sim = rt
        .block_on(ioc_console::sim::SimServer::start(
            ioc_console::sim::SimConfig {
                resource: checks
                    .map(|i| ioc_console::sim::resource::ResourceConfig::new(i.to_owned())),
                ..crate::backend::sim_config("127.0.0.1:0".parse().unwrap())
            },
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // SAFETY of the environment: nextest runs every test in its own process.
    unsafe {
        std::env::set_var("IOC_CONSOLE_AUDIT", dir.path().join("audit.sqlite"));
        std::env::set_var("IOC_CONSOLE_OUTBOX", dir.path().join("outbox.sqlite"));
        std::env::set_var("IOC_CONSOLE_SECRETS", "memory");
    }
    (rt, sim, dir)
}

/// A desk connected to `sim` with sign-in through `idp`; the browser it opens is the test's,
/// signing in as whoever `user` names at the time.
fn desk(
    sim: &ioc_console::sim::SimServer,
    identity: IdentityConfig,
    user: std::sync::Arc<std::sync::Mutex<String>>,
) -> std::rc::Rc<std::cell::RefCell<ioc_console::app::ConsoleApp>> {
    use ioc_console::app::connect::{BackendSpec, connect};
    use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
    let spec = BackendSpec::Url {
        url: sim.base_url(),
        token_file: None,
        ca_bundle: None,
        trainer: false,
        identity: Some(Box::new(identity)),
    };
    let (backend, wake) = connect(&spec, crate::backend::fast_timing()).unwrap();
    let mut app = ConsoleApp::new(
        &egui::Context::default(),
        LaunchOptions {
            layout: crate::support::load_layout("desk.toml"),
            layout_path: None,
            lang: Lang::Vi,
            // The configuration's role does not count once people sign in.
            role: Role::Operator,
            display: DisplayChoice::Preview,
            watch: false,
            backend: Some(backend),
            wake: Some(wake),
            map: Default::default(),
            cameras: Default::default(),
        },
    );
    app.sign_in
        .set_opener(std::sync::Arc::new(move |url: &str| {
            let url = url.to_owned();
            let user = user.lock().unwrap().clone();
            // The browser stops where the provider sends it back to the console: the
            // loopback redirect the authorization request names (the provider is on
            // 127.0.0.1 too, so the host alone does not tell them apart).
            let back = reqwest::Url::parse(&url)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "redirect_uri")
                .map(|(_, v)| v.into_owned())
                .expect("the request names its redirect");
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    match Browser::new().drive(&url, &user, &back).await {
                        Stop::Redirect(u) => {
                            reqwest::get(u).await.unwrap();
                        }
                        Stop::Page(s, body) => panic!("the sign-in stopped at {s}: {body}"),
                    }
                });
            });
        }));
    std::rc::Rc::new(std::cell::RefCell::new(app))
}

/// The harness rendered; also saved as NAME.png under `IOC_TEST_SHOTS` when set (to look at).
fn shot(h: &mut egui_kittest::Harness<'_>, name: &str) -> image::RgbaImage {
    let picture = h.render().unwrap();
    if let Ok(dir) = std::env::var("IOC_TEST_SHOTS") {
        picture.save(format!("{dir}/{name}.png")).unwrap();
    }
    picture
}

/// Steps the harness (the flows run on other threads) until `done`, a minute at most.
fn step_until(h: &mut egui_kittest::Harness<'_>, what: &str, done: &dyn Fn() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out: {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    h.step();
}

#[test]
fn a_desk_signs_in_acts_under_the_name_locks_hands_over_and_signs_out() {
    use ioc_console::context::Command;
    use ioc_console::model::{ActionKind, ActionRequest};
    use ioc_console::outbox::EntryState;
    use ioc_console::sources::Request;
    use std::rc::Rc;
    use std::time::Instant;

    let idp = oidc::Provider::start();
    let (_rt, sim, dir) = desk_world(Some(&idp.issuer));
    let trail = dir.path().join("audit.sqlite");
    let ids = crate::support::open_incidents(&sim, 4);
    let history = |id: &str| crate::support::actors(&sim, id);
    // Everything the console and the libraries under it log, to look for tokens at the end.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "info,ioc_console=trace,openidconnect=trace,oauth2=trace,reqwest=trace,hyper_util=debug",
        ))
        .with_writer({
            let log = std::sync::Arc::clone(&log);
            move || Capture(std::sync::Arc::clone(&log))
        })
        .init();
    let user = std::sync::Arc::new(std::sync::Mutex::new("op1".to_owned()));
    let app = desk(&sim, idp.identity(), std::sync::Arc::clone(&user));
    // Every token the console held, gathered as people sign in.
    let tokens = std::cell::RefCell::new(Vec::<String>::new());
    let keep_tokens = || {
        let a = app.borrow();
        let sessions = a.sign_in.sessions().unwrap();
        let (person, _) = sessions.current().unwrap();
        let mut t = tokens.borrow_mut();
        t.push(sessions.current_access().unwrap().expose().to_owned());
        t.push(
            sessions
                .secrets()
                .get(&person.subject)
                .unwrap()
                .expose()
                .to_owned(),
        );
    };
    let mut h = crate::support::harness([1500.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let wait = |h: &mut egui_kittest::Harness<'_>, what: &str, done: &dyn Fn() -> bool| {
        step_until(h, what, done);
        h.run();
    };
    let note = |id: &str, words: &str| {
        Command::Backend(Request::Act {
            incident_id: id.to_owned(),
            request: ActionRequest {
                action: ActionKind::Note,
                unit_id: None,
                note: Some(words.to_owned()),
                expected_version: None,
                actor: None,
            },
            author: None,
        })
    };
    let outbox = |key_of: &str| {
        app.borrow()
            .wall_state()
            .store
            .outbox
            .iter()
            .find(|e| e.request.note.as_deref() == Some(key_of))
            .cloned()
    };

    // Nobody signed in: read-only, and an action is refused here (not queued).
    h.run();
    let access = app.borrow().access();
    assert!(!access.may_act && access.roles.is_empty());
    assert_eq!(access.read_only_why, Some("auth.signed_out"));
    // Said in the status bar, and on the incident panel once the queue has arrived.
    assert!(
        h.query_all_by_label("Chưa ai đăng nhập: bàn này chỉ xem.")
            .next()
            .is_some()
    );
    app.borrow_mut().apply(note(&ids[0], "trước khi đăng nhập"));
    h.run();
    assert!(outbox("trước khi đăng nhập").is_none());

    // The operator signs in through "the browser".
    h.get_by_label("Đăng nhập").click();
    wait(&mut h, "op1 signed in", &|| {
        app.borrow().sign_in.person().is_some()
    });
    keep_tokens();
    h.get_by_label("Nguyễn Văn An · Trực vận hành");
    // oidc-provider's refresh tokens are opaque: the bar says since when, not the access
    // token's few minutes (renewed silently) as if the session ended then.
    h.get_by_label_contains("đăng nhập lúc ");
    assert!(h.query_by_label_contains("phiên đến").is_none());
    assert!(app.borrow().access().may_act);
    // The refusal of before is not said any more: someone who may act is at the desk.
    assert!(
        h.query_by_label("Chưa ai đăng nhập: bàn này chỉ xem.")
            .is_none()
    );
    shot(&mut h, "desk-signed-in");

    // An action goes with their token and is recorded under their name by the backend.
    app.borrow_mut().apply(note(&ids[0], "op1 ghi chú"));
    wait(&mut h, "op1's note applied", &|| {
        outbox("op1 ghi chú").is_some_and(|e| e.state == EntryState::Acked)
    });
    assert_eq!(
        outbox("op1 ghi chú").unwrap().author.as_deref(),
        Some("op1")
    );
    assert_eq!(history(&ids[0]).last().unwrap(), "Nguyễn Văn An");

    // An action queued while the backend fails, then the desk locks when idle: the lock
    // screen; the queued action still goes under op1's name once the backend is back, even
    // after another operator took over the desk (a handover).
    sim.set_faults(ioc_console::model::sim::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    app.borrow_mut().apply(note(&ids[1], "op1 trước giao ca"));
    wait(&mut h, "queued", &|| {
        outbox("op1 trước giao ca").is_some_and(|e| e.attempts > 0)
    });
    app.borrow_mut()
        .sign_in
        .pretend_idle_for(Duration::from_secs(16 * 60));
    h.run();
    assert!(app.borrow().sign_in.locked());
    h.get_by_label("Bàn điều khiển đã khoá");
    shot(&mut h, "desk-locked");
    assert!(!app.borrow().access().may_act);
    *user.lock().unwrap() = "multi".into();
    h.get_by_label("Giao ca: người khác đăng nhập").click();
    wait(&mut h, "multi signed in", &|| {
        app.borrow()
            .sign_in
            .person()
            .is_some_and(|(p, _)| p.subject == "multi")
    });
    keep_tokens();
    assert!(!app.borrow().sign_in.locked());
    h.get_by_label("Phạm Thị Dung · Trực vận hành, Kỹ thuật viên");
    sim.set_faults(Default::default());
    wait(&mut h, "op1's queued note sent", &|| {
        outbox("op1 trước giao ca").is_some_and(|e| e.state == EntryState::Acked)
    });
    assert_eq!(history(&ids[1]).last().unwrap(), "Nguyễn Văn An");
    // op1 is no longer at the console and nothing of theirs is left to send: the keeper ends
    // (and revokes) their session rather than keep their token for the rest of the shift.
    let sessions = app.borrow().sign_in.sessions().cloned().unwrap();
    wait(&mut h, "op1's session retired", &|| {
        !sessions.is_live("op1")
    });
    assert!(sessions.is_live("multi"));

    // The new operator queues an action and signs out while the backend fails: it is held,
    // not sent under anyone's name, and said.
    sim.set_faults(ioc_console::model::sim::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    app.borrow_mut()
        .apply(note(&ids[2], "multi trước khi đăng xuất"));
    wait(&mut h, "queued", &|| {
        outbox("multi trước khi đăng xuất").is_some_and(|e| e.attempts > 0)
    });
    h.get_by_label("Đăng xuất").click();
    h.run();
    assert!(app.borrow().sign_in.person().is_none(), "read-only at once");
    wait(&mut h, "held", &|| {
        outbox("multi trước khi đăng xuất").is_some_and(|e| e.state == EntryState::Held)
    });
    wait(&mut h, "the notice", &|| {
        app.borrow()
            .notice()
            .is_some_and(|n| n.contains("1 thao tác của Phạm Thị Dung"))
    });
    // And the status bar keeps saying it until someone resends it.
    h.get_by_label("Đang giữ 1 thao tác chờ gửi lại dưới tên người trực (xem chi tiết sự cố).");
    sim.set_faults(Default::default());
    // op1 signs in again: the held action stays held until they choose to resend it.
    *user.lock().unwrap() = "op1".into();
    h.get_by_label("Đăng nhập").click();
    wait(&mut h, "op1 again", &|| {
        app.borrow()
            .sign_in
            .person()
            .is_some_and(|(p, _)| p.subject == "op1")
    });
    keep_tokens();
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    let held = outbox("multi trước khi đăng xuất").unwrap();
    assert_eq!(held.state, EntryState::Held);
    assert!(!history(&ids[2]).contains(&"Phạm Thị Dung".to_owned()));
    app.borrow_mut().apply(Command::Backend(Request::ResendAs {
        key: held.key.clone(),
    }));
    wait(&mut h, "resent", &|| {
        outbox("multi trước khi đăng xuất").is_some_and(|e| e.state == EntryState::Acked)
    });
    h.run();
    assert!(h.query_by_label_contains("Đang giữ").is_none());
    let resent = outbox("multi trước khi đăng xuất").unwrap();
    assert_eq!(resent.author.as_deref(), Some("op1"));
    assert_eq!(resent.request.actor.as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(history(&ids[2]).last().unwrap(), "Nguyễn Văn An");

    // A leader: read-only, said why.
    h.get_by_label("Đăng xuất").click();
    wait(&mut h, "signed out", &|| {
        app.borrow().sign_in.person().is_none()
    });
    *user.lock().unwrap() = "lead1".into();
    h.get_by_label("Đăng nhập").click();
    wait(&mut h, "lead1", &|| app.borrow().sign_in.person().is_some());
    keep_tokens();
    let access = app.borrow().access();
    assert_eq!(access.roles, vec![Role::Leader]);
    assert_eq!(access.read_only_why, Some("auth.no_operator_role"));
    app.borrow_mut().apply(note(&ids[3], "lãnh đạo"));
    h.run();
    assert!(outbox("lãnh đạo").is_none());
    // Nor does a leader drop, resend or apply again someone's action: refused before it is
    // done or recorded (the trail below has no `incident.discarded` or `incident.resent` of
    // the leader's).
    app.borrow_mut().apply(Command::Backend(Request::Discard {
        key: resent.key.clone(),
    }));
    app.borrow_mut().apply(Command::Backend(Request::ResendAs {
        key: resent.key.clone(),
    }));
    h.run();

    // The trail: who signed in, locked, took over, acted, resent and signed out, by name.
    let rows = {
        let start = Instant::now();
        loop {
            let rows = ioc_console::audit::Audit::open(&trail)
                .unwrap()
                .rows(&Default::default())
                .unwrap();
            if rows
                .iter()
                .filter(|r| r.event.action == "session.signed_in")
                .count()
                >= 4
                || start.elapsed() > Duration::from_secs(10)
            {
                break rows;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let seen: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.event.who.clone(),
                r.event.role.clone(),
                r.event.action.clone(),
            )
        })
        .collect();
    let expect = [
        ("Nguyễn Văn An (op1)", "operator", "session.signed_in"),
        ("Nguyễn Văn An (op1)", "operator", "incident.note"),
        ("Nguyễn Văn An (op1)", "operator", "incident.note"),
        ("Nguyễn Văn An (op1)", "operator", "session.locked"),
        (
            "Phạm Thị Dung (multi)",
            "operator+technician",
            "session.signed_in",
        ),
        (
            "Phạm Thị Dung (multi)",
            "operator+technician",
            "session.handover",
        ),
        // Retired by the console, not by anyone at the desk: the trail says so too.
        ("Nguyễn Văn An (op1)", "operator", "session.ended"),
        (
            "Phạm Thị Dung (multi)",
            "operator+technician",
            "incident.note",
        ),
        (
            "Phạm Thị Dung (multi)",
            "operator+technician",
            "session.signed_out",
        ),
        ("Nguyễn Văn An (op1)", "operator", "session.signed_in"),
        ("Nguyễn Văn An (op1)", "operator", "incident.resent"),
        ("Nguyễn Văn An (op1)", "operator", "session.signed_out"),
        ("Trần Thị Bình (lead1)", "leader", "session.signed_in"),
    ];
    let expect: Vec<(String, String, String)> = expect
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(seen, expect);
    // The audit view finds a person by the user name as well as by the whole of it.
    let by = |who: &str| {
        let f = ioc_console::audit::Filter {
            who: Some(who.into()),
            ..Default::default()
        };
        rows.iter().filter(|r| f.keeps(r)).count()
    };
    assert_eq!(by("op1"), 8);
    assert_eq!(by("Nguyễn Văn An (op1)"), 8);
    assert_eq!(by("multi"), 4);
    let retired = rows
        .iter()
        .find(|r| r.event.action == "session.ended")
        .unwrap();
    assert_eq!(retired.event.subject, "op1");
    assert!(
        retired.event.detail.contains("no longer at the console"),
        "{}",
        retired.event.detail
    );
    drop(h);
    drop(app);

    // No token in any log line, nor in the trail's or the outbox's files.
    let tokens = tokens.into_inner();
    assert_eq!(tokens.len(), 8);
    let log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(log.contains("signed in"), "the log was captured");
    assert!(!log.contains("eyJ"), "a JWT in the log");
    let mut files = vec![log.into_bytes()];
    for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
        files.push(std::fs::read(e.path()).unwrap());
    }
    for bytes in &files {
        let text = String::from_utf8_lossy(bytes);
        for t in &tokens {
            assert!(!text.contains(t.as_str()), "a token was written down");
        }
    }
}

/// A log writer into a shared buffer.
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A real Secret Service for one test: its own D-Bus session bus and gnome-keyring's secrets
/// component with a login keyring under a throw-away home, both stopped on drop.
struct SecretService {
    home: tempfile::TempDir,
    bus: std::process::Child,
    keyring: std::process::Child,
}

impl SecretService {
    fn start() -> SecretService {
        use std::io::{BufRead, Write};
        use std::process::{Command, Stdio};
        let home = tempfile::tempdir().unwrap();
        let run = home.path().join("run");
        std::fs::create_dir(&run).unwrap();
        // A session bus without service activation: a client asking for the Secret Service
        // before gnome-keyring is up must not get another one started by the bus (with the
        // machine's home and a locked keyring).
        let config = home.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                run.display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon (packaging/dev.sh installs it)");
        let mut address = String::new();
        std::io::BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "{address}");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", &run)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(home.path().join("keyring.log")).unwrap())
            .spawn()
            .expect("gnome-keyring-daemon (packaging/dev.sh installs it)");
        // The login keyring's password, then end of input.
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"mat-khau-thu")
            .unwrap();
        // The console looks for the Secret Service once (the `keyring` crate connects once a
        // process): only after gnome-keyring holds its name on the bus.
        let owned = || {
            Command::new("dbus-send")
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
        };
        let start = std::time::Instant::now();
        while !owned() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "gnome-keyring did not come up on the bus: {}",
                std::fs::read_to_string(home.path().join("keyring.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY of the environment: nextest runs every test in its own process.
        unsafe {
            std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
            std::env::remove_var("IOC_CONSOLE_SECRETS");
        }
        SecretService { home, bus, keyring }
    }

    /// Every byte of every file under the keyring's home.
    fn files(&self) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.is_file() {
                    out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.home.path(), &mut out);
        out
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

#[test]
fn refresh_tokens_live_in_the_secret_service_and_a_restart_takes_up_queued_authors_again() {
    use ioc_console::auth::secrets::{SecretStore, StoreKind};
    use ioc_console::auth::session::{Sessions, Unavailable};

    let idp = oidc::Provider::start();
    let service = SecretService::start();
    let cfg = idp.identity();
    let open = || SecretStore::open(&cfg.issuer, &cfg.client_id);
    // The service takes writes once its login keyring is made (before that it answers reads and
    // refuses writes: the console keeps a token it could not store in memory, which is not what
    // this test is about).
    let start = std::time::Instant::now();
    let writable = || {
        keyring::Entry::new("ioc-console-test", "ready")
            .and_then(|e| e.set_password("ready").and_then(|()| e.delete_credential()))
            .is_ok()
    };
    while open().kind() != StoreKind::SecretService || !writable() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no Secret Service: {:?}; gnome-keyring said: {}",
            open().why_memory(),
            std::fs::read_to_string(service.home.path().join("keyring.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    runtime().block_on(async {
        let provider = Provider::discover(&cfg, None).await.unwrap();
        let op1 = code_flow(&provider, "op1").await.unwrap();
        let refresh = op1.tokens.refresh.clone().unwrap();

        // Signed in: the refresh token is in the Secret Service, in no file in plain text.
        let first = Sessions::new(open());
        first.set_provider(provider.clone()).await;
        first.signed_in(op1.clone());
        // Written on the store's own thread (the desk never waits on D-Bus): there once flushed.
        assert!(first.secrets().flush());
        assert_eq!(open().get("op1").as_ref(), Some(&refresh));
        for (path, bytes) in service.files() {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(refresh.expose()) && !text.contains(op1.tokens.access.expose()),
                "a token in plain text in {}",
                path.display()
            );
        }
        // The desk handed over (op1 still has actions queued), then the console stops.
        first.leave();
        drop(first);

        // Started again: nobody at the desk, but op1's queued actions get a token of op1's
        // from the kept refresh token, and the server's rotated one replaces it in the store.
        let second = Sessions::new(open());
        second.set_provider(provider.clone()).await;
        assert!(second.current().is_none());
        let token = second.token_for("op1").await.unwrap();
        assert_eq!(claims(token.expose())["sub"], "op1");
        assert!(second.is_live("op1"));
        assert!(second.current().is_none(), "a restart signs nobody in");
        assert!(second.secrets().flush());
        let rotated = open().get("op1").unwrap();
        assert_ne!(rotated, refresh);
        // The audit trail is told the console took op1's session up by itself.
        let events = second.take_events();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            (events[0].action, events[0].person.name.as_str()),
            ("session.resumed", "Nguyễn Văn An")
        );
        assert!(second.take_events().is_empty(), "taken once");
        // Someone never signed in here has nothing to take up.
        assert!(matches!(
            second.token_for("lead1").await,
            Err(Unavailable::Ended(_))
        ));

        // Signed out: the token leaves the store and is revoked; a later start cannot act
        // under op1's name.
        let ended = second.end("op1").unwrap();
        provider.revoke(&ended.tokens).await.unwrap();
        assert!(second.secrets().flush());
        assert!(open().get("op1").is_none());
        let third = Sessions::new(open());
        third.set_provider(provider.clone()).await;
        assert!(matches!(
            third.token_for("op1").await,
            Err(Unavailable::Ended(_))
        ));

        // A kept token the server no longer honours (revoked elsewhere): ended, and removed.
        let multi = code_flow(&provider, "multi").await.unwrap();
        let fourth = Sessions::new(open());
        fourth.set_provider(provider.clone()).await;
        fourth.signed_in(multi.clone());
        drop(fourth);
        provider.revoke(&multi.tokens).await.unwrap();
        let fifth = Sessions::new(open());
        fifth.set_provider(provider.clone()).await;
        assert!(matches!(
            fifth.token_for("multi").await,
            Err(Unavailable::Ended(_))
        ));
        assert!(fifth.secrets().flush());
        assert!(open().get("multi").is_none());
        // The trail says the session a restart would have taken up has ended, and why (by
        // subject: the name was in a token the server no longer gives).
        let events = fifth.take_events();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            (events[0].action, events[0].person.who().as_str()),
            ("session.ended", "multi")
        );
        assert!(
            events[0].why.starts_with("not taken up after a restart (")
                && events[0].why.contains("invalid_grant"),
            "{}",
            events[0].why
        );

        // With memory only, a restart keeps nothing.
        let memory = Sessions::new(SecretStore::memory());
        memory.signed_in(code_flow(&provider, "tech1").await.unwrap());
        drop(memory);
        let after = Sessions::new(SecretStore::memory());
        after.set_provider(provider.clone()).await;
        assert!(matches!(
            after.token_for("tech1").await,
            Err(Unavailable::Ended(_))
        ));
    });
    drop(service);
}

/// A wall PC's kiosk (no keyboard at the wall) on the simulator, signing in through
/// `identity`, its outbox and trail in a throw-away folder. Taken apart as `_rt, _sim, _dir,
/// app, h` so that the harness and the console go before the simulator and its runtime.
struct Wall {
    h: egui_kittest::Harness<'static>,
    app: std::rc::Rc<std::cell::RefCell<ioc_console::app::ConsoleApp>>,
    _dir: tempfile::TempDir,
    _sim: ioc_console::sim::SimServer,
    _rt: tokio::runtime::Runtime,
}

impl Wall {
    fn start(identity: IdentityConfig) -> Wall {
        let (rt, sim, dir) = desk_world(None);
        let user = std::sync::Arc::new(std::sync::Mutex::new("tech1".to_owned()));
        let app = std::rc::Rc::try_unwrap(desk(&sim, identity, user))
            .ok()
            .unwrap()
            .into_inner()
            .with_kiosk(ioc_console::app::kiosk::Kiosk::new(None));
        let app = std::rc::Rc::new(std::cell::RefCell::new(app));
        let h = crate::support::harness([1200.0, 900.0], {
            let app = std::rc::Rc::clone(&app);
            move |ui| app.borrow_mut().show(ui)
        });
        Wall {
            h,
            app,
            _dir: dir,
            _sim: sim,
            _rt: rt,
        }
    }
}

/// tech1 opens the wall's address on a phone, signs in and confirms; the wall signs in.
fn confirm_on_a_phone(
    h: &mut egui_kittest::Harness<'_>,
    app: &std::cell::RefCell<ioc_console::app::ConsoleApp>,
    complete: String,
) {
    let phone = std::thread::spawn(move || {
        runtime().block_on(async {
            Browser::new()
                .drive(&complete, "tech1", "http://never.invalid")
                .await
        })
    });
    step_until(h, "tech1 signed in", &|| {
        app.borrow().sign_in.person().is_some()
    });
    match phone.join().unwrap() {
        Stop::Page(200, body) => assert!(body.contains("device-success"), "{body}"),
        other => panic!("{other:?}"),
    }
}

/// The texts of the QR codes in a rendered picture.
fn qr_texts(img: &image::RgbaImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| {
            let p = img.get_pixel(x as u32, y as u32).0;
            ((u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3) as u8
        },
    );
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

#[test]
fn a_kiosk_wall_signs_in_with_a_code_and_a_qr_code_confirmed_on_a_phone() {
    let idp = oidc::Provider::start();
    let Wall {
        _rt,
        _sim,
        _dir,
        app,
        mut h,
    } = Wall::start(idp.identity());

    // Nobody signed in: the wall asks by itself, with the code and the QR code.
    step_until(&mut h, "the device code", &|| {
        app.borrow().sign_in.device().is_some()
    });
    let start = app.borrow().sign_in.device().cloned().unwrap();
    h.get_by_label("Đăng nhập bằng điện thoại");
    h.get_by_label(&start.user_code);
    let complete = start.verification_uri_complete.clone().unwrap();
    // The QR code drawn on the wall reads back as the address with the code.
    let picture = shot(&mut h, "kiosk-sign-in");
    assert_eq!(qr_texts(&picture), vec![complete.clone()]);

    // The technician's phone: scans it, signs in, confirms.
    confirm_on_a_phone(&mut h, &app, complete);
    let (person, _) = app.borrow().sign_in.person().unwrap();
    assert_eq!(person.name, "Lê Văn Cường");
    assert_eq!(app.borrow().access().roles, vec![Role::Technician]);
    // The card is gone from the wall.
    h.run();
    assert!(h.query_by_label("Đăng nhập bằng điện thoại").is_none());
    assert!(qr_texts(&h.render().unwrap()).is_empty());
}

#[test]
fn sessions_refresh_an_access_token_before_it_expires() {
    use ioc_console::auth::secrets::SecretStore;
    use ioc_console::auth::session::Sessions;
    // Access tokens that live 50 s: within the minute before expiry from the start.
    let idp = oidc::Provider::start_with(oidc::Ttl {
        access: 50,
        ..Default::default()
    });
    runtime().block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let op1 = code_flow(&provider, "op1").await.unwrap();
        let first = op1.tokens.access.clone();
        let first_exp = claims(first.expose())["exp"].as_i64().unwrap();
        let sessions = Sessions::new(SecretStore::memory());
        sessions.set_provider(provider.clone()).await;
        sessions.signed_in(op1);
        assert_eq!(sessions.current_access().as_ref(), Some(&first));

        // The keeper's tick: refreshed while the first token is still valid.
        sessions.keep_fresh().await;
        assert!(chrono::Utc::now().timestamp() < first_exp, "before expiry");
        let second = sessions.current_access().unwrap();
        assert_ne!(second, first);
        let c = claims(second.expose());
        assert_eq!(c["sub"], "op1");
        assert!(c["exp"].as_i64().unwrap() >= first_exp);
        // An action asking for op1's token gets the fresh one.
        let for_action = sessions.token_for("op1").await.unwrap();
        assert_eq!(claims(for_action.expose())["sub"], "op1");
        assert_eq!(sessions.current().unwrap().0.name, "Nguyễn Văn An");
        assert!(sessions.take_events().is_empty(), "a refresh is no event");

        // The server ends the session (its refresh token revoked elsewhere): the next refresh
        // is refused, the session ends, and the audit trail is told why, without the token.
        let refresh = sessions.secrets().get("op1").unwrap();
        let tokens = ioc_console::auth::Tokens {
            access: refresh.clone(),
            access_expires: chrono::Utc::now(),
            refresh: Some(refresh.clone()),
            id_token: None,
            session_ends: None,
        };
        provider.revoke(&tokens).await.unwrap();
        sessions.keep_fresh().await;
        assert!(!sessions.is_live("op1"));
        assert!(sessions.current().is_none());
        let events = sessions.take_events();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].action, "session.ended");
        assert_eq!(events[0].person.subject, "op1");
        assert!(events[0].why.contains("invalid_grant"), "{}", events[0].why);
        assert!(!events[0].why.contains(refresh.expose()));
    });
}

#[test]
fn a_wall_says_its_identity_server_is_down_and_signs_in_by_itself_once_it_is_back() {
    // A port with nothing on it yet: the identity server comes up there later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let identity = IdentityConfig::new(format!("http://127.0.0.1:{port}"), "ioc-console");
    let Wall {
        _rt,
        _sim,
        _dir,
        app,
        mut h,
    } = Wall::start(identity);

    // Down: said on the wall in words, nobody signed in, nothing may act.
    step_until(&mut h, "the failure said", &|| {
        app.borrow().sign_in.error.is_some()
    });
    h.get_by_label_contains("Không kết nối được máy chủ định danh");
    assert!(!app.borrow().access().may_act);
    assert!(app.borrow().sign_in.device().is_none());

    // Up again on the same address: the wall tries again by itself and shows a code.
    let _idp = oidc::Provider::start_on(port, oidc::Ttl::default());
    step_until(&mut h, "a code once the server is back", &|| {
        app.borrow().sign_in.device().is_some()
    });
    assert!(app.borrow().sign_in.error.is_none());
    assert!(
        h.query_by_label_contains("Không kết nối được máy chủ định danh")
            .is_none()
    );
    let complete = app
        .borrow()
        .sign_in
        .device()
        .unwrap()
        .verification_uri_complete
        .clone()
        .unwrap();
    confirm_on_a_phone(&mut h, &app, complete);
    assert_eq!(app.borrow().access().roles, vec![Role::Technician]);
}

#[test]
fn a_sign_out_forgets_the_token_at_once_and_never_ends_a_later_sign_in() {
    use ioc_console::auth::secrets::SecretStore;
    use ioc_console::auth::session::Sessions;
    // Access tokens within the minute before expiry: every token asked for is refreshed.
    let idp = oidc::Provider::start_with(oidc::Ttl {
        access: 50,
        ..Default::default()
    });
    runtime().block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let sessions = Sessions::new(SecretStore::memory());
        sessions.set_provider(provider.clone()).await;
        sessions.signed_in(code_flow(&provider, "op1").await.unwrap());
        assert!(sessions.secrets().get("op1").is_some());

        // Signing out: nobody at the console, the token out of the store at once; the session
        // still sends op1's pending actions during the grace period, refreshing without
        // storing anything again.
        let serial = sessions.signing_out("op1");
        assert!(sessions.current().is_none());
        assert!(sessions.secrets().get("op1").is_none());
        let t = sessions.token_for("op1").await.unwrap();
        assert_eq!(claims(t.expose())["sub"], "op1");
        assert!(sessions.secrets().get("op1").is_none(), "not stored back");

        // op1 signs in again before the grace period ends: the old sign-out's end leaves the
        // new session alone.
        sessions.signed_in(code_flow(&provider, "op1").await.unwrap());
        assert!(sessions.end_if("op1", serial).is_none());
        assert!(sessions.is_live("op1"));
        assert_eq!(sessions.current().unwrap().0.subject, "op1");
        assert!(sessions.secrets().get("op1").is_some());
        // The new sign-in's own end does end it.
        let now = sessions.signing_out("op1");
        assert!(sessions.end_if("op1", now).is_some());
        assert!(!sessions.is_live("op1"));
    });
}

#[test]
fn an_action_without_an_author_never_goes_with_the_signed_in_persons_token() {
    use ioc_console::auth::secrets::SecretStore;
    use ioc_console::auth::session::Sessions;
    use ioc_console::model::{ActionKind, ActionRequest};
    use ioc_console::sources::{Client, ClientConfig, FetchError};
    let idp = oidc::Provider::start();
    runtime().block_on(async {
        let sim = ioc_console::sim::SimServer::start(ioc_console::sim::SimConfig {
            resource: Some(ioc_console::sim::resource::ResourceConfig::new(
                idp.issuer.clone(),
            )),
            ..crate::backend::sim_config("127.0.0.1:0".parse().unwrap())
        })
        .await
        .unwrap();
        let id = crate::support::open_incidents(&sim, 1).remove(0);
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let sessions = Sessions::new(SecretStore::memory());
        sessions.set_provider(provider.clone()).await;
        sessions.signed_in(code_flow(&provider, "op1").await.unwrap());
        let client = Client::new(&ClientConfig {
            sessions: Some(std::sync::Arc::clone(&sessions)),
            ..ClientConfig::new(sim.base_url())
        })
        .unwrap();
        let note = ActionRequest {
            action: ActionKind::Note,
            unit_id: None,
            note: Some("không tác giả".into()),
            expected_version: None,
            actor: None,
        };
        // Reads go with op1's token; an action without an author goes with the console's own
        // (none here): refused by the backend, not recorded under op1's name.
        let r = client.post_action_raw(&id, &note, "k-1").await;
        assert!(matches!(r, Err(FetchError::Unauthorized(_))), "{r:?}");
        let actors = crate::support::actors(&sim, &id);
        assert!(!actors.contains(&"Nguyễn Văn An".to_owned()), "{actors:?}");

        // `outbox flush` (another process, the console's token) leaves op1's action to the
        // desk: not attempted, still pending.
        let dir = tempfile::tempdir().unwrap();
        let outbox = ioc_console::outbox::Outbox::open(&dir.path().join("o.sqlite")).unwrap();
        let key = outbox.enqueue_by(&id, &note, Some("op1")).unwrap();
        let plain = Client::new(&ClientConfig::new(sim.base_url())).unwrap();
        let done = ioc_console::sources::actions::flush(&outbox, &plain)
            .await
            .unwrap();
        assert!(done.is_empty(), "{done:?}");
        let left = outbox.pending().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].key.as_str(), left[0].attempts), (key.as_str(), 0));
        sim.stop().await;
    });
}

#[test]
fn a_console_closing_ends_and_revokes_the_sessions_with_nothing_queued() {
    use ioc_console::context::Command;
    use ioc_console::model::{ActionKind, ActionRequest};
    use ioc_console::sources::Request;
    use std::rc::Rc;
    let idp = oidc::Provider::start();
    let (rt, sim, dir) = desk_world(None);
    let trail = dir.path().join("audit.sqlite");
    let outbox_file = dir.path().join("outbox.sqlite");
    let id = crate::support::open_incidents(&sim, 1).remove(0);
    let user = std::sync::Arc::new(std::sync::Mutex::new("op1".to_owned()));
    let app = desk(&sim, idp.identity(), std::sync::Arc::clone(&user));
    let mut h = crate::support::harness([1500.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let sessions = app.borrow().sign_in.sessions().cloned().unwrap();
    let signed_in = |h: &mut egui_kittest::Harness<'_>, who: &str| {
        step_until(h, who, &|| {
            app.borrow()
                .sign_in
                .person()
                .is_some_and(|(p, _)| p.subject == who)
        });
        h.run();
    };

    // op1 signs in and queues an action the failing backend does not take.
    h.get_by_label("Đăng nhập").click();
    signed_in(&mut h, "op1");
    let op1 = sessions.secrets().get("op1").unwrap();
    sim.set_faults(ioc_console::model::sim::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    app.borrow_mut().apply(Command::Backend(Request::Act {
        incident_id: id.clone(),
        request: ActionRequest {
            action: ActionKind::Note,
            unit_id: None,
            note: Some("chờ gửi".into()),
            expected_version: None,
            actor: None,
        },
        author: None,
    }));
    let outbox = ioc_console::outbox::Outbox::open(&outbox_file).unwrap();
    step_until(&mut h, "op1's note queued", &|| {
        outbox
            .pending()
            .unwrap()
            .iter()
            .any(|e| e.author.as_deref() == Some("op1") && e.attempts > 0)
    });
    // Handed over to multi, who queues nothing; then the console is closed.
    h.get_by_label("Khoá").click();
    h.run();
    *user.lock().unwrap() = "multi".into();
    h.get_by_label("Giao ca: người khác đăng nhập").click();
    signed_in(&mut h, "multi");
    let multi = sessions.secrets().get("multi").unwrap();
    eframe::App::on_exit(&mut *app.borrow_mut());

    // multi's session is over: out of the store and revoked at the identity server. op1's
    // stays for the next start to send the queued note under op1's name.
    assert!(!sessions.is_live("multi"));
    assert!(sessions.secrets().get("multi").is_none());
    assert!(sessions.is_live("op1"));
    assert_eq!(sessions.secrets().get("op1"), Some(op1.clone()));
    rt.block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let r = provider.resume("multi", multi).await;
        assert!(
            matches!(&r, Err(AuthError::Refused { code, .. }) if code == "invalid_grant"),
            "{r:?}"
        );
        let again = provider.resume("op1", op1).await.unwrap();
        assert_eq!(again.person.subject, "op1");
    });
    // And the trail, written before the console went, says so.
    let rows = ioc_console::audit::Audit::open(&trail)
        .unwrap()
        .rows(&Default::default())
        .unwrap();
    let ended: Vec<_> = rows
        .iter()
        .filter(|r| r.event.action == "session.ended")
        .map(|r| (r.event.who.as_str(), r.event.detail.as_str()))
        .collect();
    assert_eq!(
        ended,
        [(
            "Phạm Thị Dung (multi)",
            "the console closed with nothing of theirs queued"
        )]
    );
}

#[test]
fn an_author_with_no_token_now_holds_up_only_their_own_actions() {
    use ioc_console::context::Command;
    use ioc_console::model::{ActionKind, ActionRequest};
    use ioc_console::outbox::{Entry, EntryState, Outbox};
    use ioc_console::sources::Request;
    let idp = oidc::Provider::start();
    let port = reqwest::Url::parse(&idp.issuer).unwrap().port().unwrap();
    let (rt, sim, dir) = desk_world(None);
    let outbox_file = dir.path().join("outbox.sqlite");
    let ids = crate::support::open_incidents(&sim, 2);
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let user = std::sync::Arc::new(std::sync::Mutex::new("op1".to_owned()));
    let app = desk(&sim, idp.identity(), user);
    let sessions = app.borrow().sign_in.sessions().cloned().unwrap();

    // op1's session (its access token run out: a refresh is needed) handed over to multi's
    // (fresh); then the identity server goes away.
    rt.block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let mut op1 = code_flow(&provider, "op1").await.unwrap();
        op1.tokens.access_expires = chrono::Utc::now() - chrono::Duration::minutes(1);
        let multi = code_flow(&provider, "multi").await.unwrap();
        sessions.set_provider(provider).await;
        sessions.signed_in(op1);
        sessions.signed_in(multi);
    });
    drop(idp);

    // Queued in this order: op1's on A, multi's on A, multi's on B.
    let outbox = Outbox::open(&outbox_file).unwrap();
    let note = |words: &str| ActionRequest {
        action: ActionKind::Note,
        unit_id: None,
        note: Some(words.into()),
        expected_version: None,
        actor: None,
    };
    let op1_a = outbox.enqueue_by(&a, &note("op1 A"), Some("op1")).unwrap();
    let multi_a = outbox
        .enqueue_by(&a, &note("multi A"), Some("multi"))
        .unwrap();
    let multi_b = outbox
        .enqueue_by(&b, &note("multi B"), Some("multi"))
        .unwrap();
    let entry = |key: &str| -> Entry {
        outbox
            .recent(50)
            .unwrap()
            .into_iter()
            .find(|e| e.key == key)
            .unwrap()
    };
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{what}: {:?}",
                outbox.recent(50).unwrap()
            );
            app.borrow_mut()
                .apply(Command::Backend(Request::WakeOutbox));
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    // multi's action on B goes: op1's, waiting for a token, holds up only op1's and what
    // follows it on A (multi's on A, never sent ahead of it).
    wait("multi's action on B sent", &|| {
        entry(&multi_b).state == EntryState::Acked
    });
    let first = entry(&op1_a);
    assert_eq!(first.state, EntryState::Pending);
    assert!(first.attempts > 0);
    let behind = entry(&multi_a);
    assert_eq!((behind.state, behind.attempts), (EntryState::Pending, 0));

    // The identity server back (without op1's grant, lost with it): op1's is held for someone
    // to resend, and multi's on A goes after it.
    let _idp = oidc::Provider::start_on(port, Default::default());
    wait("multi's action on A sent", &|| {
        entry(&multi_a).state == EntryState::Acked
    });
    assert_eq!(entry(&op1_a).state, EntryState::Held);
}

#[test]
fn a_console_closing_keeps_the_session_of_an_action_still_on_its_way_to_the_outbox() {
    use ioc_console::context::Command;
    use ioc_console::model::{ActionKind, ActionRequest};
    use ioc_console::sources::Request;
    use std::rc::Rc;
    let idp = oidc::Provider::start();
    let (_rt, sim, dir) = desk_world(None);
    let outbox_file = dir.path().join("outbox.sqlite");
    let id = crate::support::open_incidents(&sim, 1).remove(0);
    let user = std::sync::Arc::new(std::sync::Mutex::new("op1".to_owned()));
    // The server's sessions last 10 hours: the bar says until when.
    let identity = IdentityConfig {
        session_max_hours: Some(10),
        ..idp.identity()
    };
    let app = desk(&sim, identity, user);
    let mut h = crate::support::harness([1500.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.get_by_label("Đăng nhập").click();
    step_until(&mut h, "op1 signed in", &|| {
        app.borrow().sign_in.person().is_some()
    });
    h.run();
    let (_, span) = app.borrow().sign_in.person().unwrap();
    assert_eq!(span.ends, Some(span.since + chrono::Duration::hours(10)));
    h.get_by_label_contains("phiên đến ");
    assert!(h.query_by_label_contains("đăng nhập lúc").is_none());
    shot(&mut h, "desk-session-until");
    let sessions = app.borrow().sign_in.sessions().cloned().unwrap();

    // The outbox busy (another writer holds it): op1's action waits in the backend's queue on
    // its way there as the console is closed.
    let blocker = rusqlite::Connection::open(&outbox_file).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    app.borrow_mut().apply(Command::Backend(Request::Act {
        incident_id: id,
        request: ActionRequest {
            action: ActionKind::Note,
            unit_id: None,
            note: Some("trên đường vào hộp thư đi".into()),
            expected_version: None,
            actor: None,
        },
        author: None,
    }));
    eframe::App::on_exit(&mut *app.borrow_mut());
    // Not knowing whether op1 has something queued, the closing console keeps op1's session
    // (and token) for the next start rather than end it under an action of theirs.
    assert!(sessions.is_live("op1"));
    assert!(sessions.secrets().get("op1").is_some());
    blocker.execute_batch("COMMIT").unwrap();
}

#[test]
fn a_token_not_to_be_had_is_not_asked_for_again_at_once_and_one_in_hand_still_serves() {
    use ioc_console::auth::secrets::SecretStore;
    use ioc_console::auth::session::{Sessions, Unavailable};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let idp = oidc::Provider::start();
    let port = reqwest::Url::parse(&idp.issuer).unwrap().port().unwrap();
    runtime().block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        // op1's access token has run out (a refresh is needed); multi's is within the minute
        // before expiry (a refresh is wanted) but still good.
        let mut op1 = code_flow(&provider, "op1").await.unwrap();
        op1.tokens.access_expires = chrono::Utc::now() - chrono::Duration::minutes(1);
        let mut multi = code_flow(&provider, "multi").await.unwrap();
        multi.tokens.access_expires = chrono::Utc::now() + chrono::Duration::seconds(40);
        let held = multi.tokens.access.clone();
        let sessions = Sessions::new(SecretStore::memory());
        sessions.set_provider(provider).await;
        sessions.signed_in(op1);
        sessions.signed_in(multi);

        // The identity server away; in its place something that takes connections and closes
        // them at once, counting them.
        drop(idp);
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let asked = std::sync::Arc::new(AtomicUsize::new(0));
        {
            let asked = std::sync::Arc::clone(&asked);
            std::thread::spawn(move || {
                for s in listener.incoming() {
                    asked.fetch_add(1, Ordering::SeqCst);
                    drop(s);
                }
            });
        }
        let r = sessions.token_for("op1").await;
        assert!(matches!(r, Err(Unavailable::Retry(_))), "{r:?}");
        let first = asked.load(Ordering::SeqCst);
        assert!(first >= 1, "the server was asked");
        // Asked again at once (the next action of op1's): not sent to the server again.
        let r = sessions.token_for("op1").await;
        assert!(matches!(r, Err(Unavailable::Retry(_))), "{r:?}");
        assert_eq!(asked.load(Ordering::SeqCst), first);
        assert!(sessions.is_live("op1"), "a server away ends no session");

        // multi's refresh fails the same way, but the token in hand is still good: it serves.
        assert_eq!(sessions.token_for("multi").await.unwrap(), held);
        // The backend refused it though (revoked, keys rotated): no longer given out; the
        // server is asked for a new one once it answers.
        sessions.distrust("multi");
        let r = sessions.token_for("multi").await;
        assert!(matches!(r, Err(Unavailable::Retry(_))), "{r:?}");
    });
}

#[test]
fn a_token_the_backend_refuses_holds_up_only_its_authors_actions() {
    use ioc_console::model::{ActionKind, ActionRequest};
    use ioc_console::outbox::{EntryState, Outbox};
    let idp = oidc::Provider::start();
    let (rt, sim, dir) = desk_world(Some(&idp.issuer));
    let outbox_file = dir.path().join("outbox.sqlite");
    let ids = crate::support::open_incidents(&sim, 2);
    let user = std::sync::Arc::new(std::sync::Mutex::new("op1".to_owned()));
    let app = desk(&sim, idp.identity(), user);
    let sessions = app.borrow().sign_in.sessions().cloned().unwrap();
    // multi's access token, not expired by the console's clock, is one the backend refuses
    // (its signature broken: as a revoked or re-keyed one would be); op1's is good.
    rt.block_on(async {
        let provider = Provider::discover(&idp.identity(), None).await.unwrap();
        let mut multi = code_flow(&provider, "multi").await.unwrap();
        multi.tokens.access =
            ioc_console::auth::Secret::new(flip_signature(multi.tokens.access.expose()));
        let op1 = code_flow(&provider, "op1").await.unwrap();
        sessions.set_provider(provider).await;
        sessions.signed_in(multi);
        sessions.signed_in(op1);
    });
    let outbox = Outbox::open(&outbox_file).unwrap();
    let note = |words: &str| ActionRequest {
        action: ActionKind::Note,
        unit_id: None,
        note: Some(words.into()),
        expected_version: None,
        actor: None,
    };
    let state = |key: &str| {
        outbox
            .recent(10)
            .unwrap()
            .into_iter()
            .find(|e| e.key == key)
            .unwrap()
    };
    let sent = |key: &str| {
        let start = std::time::Instant::now();
        while state(key).state != EntryState::Acked {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{:?}",
                outbox.recent(10).unwrap()
            );
            app.borrow_mut()
                .apply(ioc_console::context::Command::Backend(
                    ioc_console::sources::Request::WakeOutbox,
                ));
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    // One action of op1's first, while the identity server is up: the backend has its keys.
    sent(
        &outbox
            .enqueue_by(&ids[1], &note("op1 trước"), Some("op1"))
            .unwrap(),
    );
    // Then the identity server goes away: multi cannot get a new token.
    drop(idp);
    let theirs = outbox
        .enqueue_by(&ids[0], &note("multi"), Some("multi"))
        .unwrap();
    let ours = outbox
        .enqueue_by(&ids[1], &note("op1"), Some("op1"))
        .unwrap();
    sent(&ours);
    // op1's went under op1's name; multi's waits (not under anyone else's name), and the token
    // the backend refused is not given out again.
    assert_eq!(
        crate::support::actors(&sim, &ids[1]).last().unwrap(),
        "Nguyễn Văn An"
    );
    let waiting = state(&theirs);
    assert_eq!(waiting.state, EntryState::Pending);
    assert!(waiting.attempts >= 1);
    assert!(!crate::support::actors(&sim, &ids[0]).contains(&"Nguyễn Văn An".to_owned()));
    let r = rt.block_on(sessions.token_for("multi"));
    assert!(
        matches!(r, Err(ioc_console::auth::session::Unavailable::Retry(_))),
        "{r:?}"
    );
}
