//! Who is at the console, against a real OpenID Connect provider on loopback (`oidc::Provider`):
//! the code flow with PKCE driven without a browser (the test follows the redirects and posts
//! the login form), the device flow confirmed "on a phone", refresh, revocation, roles from the
//! token; the simulator as a resource server refusing a leader's token, a tampered, expired or
//! wrong-audience one; bad servers and tokens said in words; and a desk signed in whose actions
//! go under the person's name, locked, handed over and signed out with actions still queued.

use std::time::Duration;

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
        let id = sim
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

/// A desk connected to `sim` with sign-in through `idp`; the browser it opens is the test's,
/// signing in as whoever `user` names at the time.
fn desk(
    sim: &ioc_console::sim::SimServer,
    idp: &oidc::Provider,
    user: std::sync::Arc<std::sync::Mutex<String>>,
) -> std::rc::Rc<std::cell::RefCell<ioc_console::app::ConsoleApp>> {
    use ioc_console::app::connect::{BackendSpec, connect};
    use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
    let spec = BackendSpec::Url {
        url: sim.base_url(),
        token_file: None,
        ca_bundle: None,
        trainer: false,
        identity: Some(Box::new(idp.identity())),
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
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    match Browser::new().drive(&url, &user, "http://127.0.0.1:").await {
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

#[test]
fn a_desk_signs_in_acts_under_the_name_locks_hands_over_and_signs_out() {
    use ioc_console::context::Command;
    use ioc_console::model::{ActionKind, ActionRequest};
    use ioc_console::outbox::EntryState;
    use ioc_console::sources::Request;
    use std::rc::Rc;
    use std::time::Instant;

    let idp = oidc::Provider::start();
    let rt = runtime();
    let sim = rt
        .block_on(ioc_console::sim::SimServer::start(
            ioc_console::sim::SimConfig {
                resource: Some(ioc_console::sim::resource::ResourceConfig::new(
                    idp.issuer.clone(),
                )),
                ..crate::backend::sim_config("127.0.0.1:0".parse().unwrap())
            },
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("audit.sqlite");
    // SAFETY of the environment: nextest runs every test in its own process.
    unsafe {
        std::env::set_var("IOC_CONSOLE_AUDIT", &trail);
        std::env::set_var("IOC_CONSOLE_OUTBOX", dir.path().join("outbox.sqlite"));
        std::env::set_var("IOC_CONSOLE_SECRETS", "memory");
    }
    let ids: Vec<String> = sim
        .shared
        .world
        .lock()
        .unwrap()
        .incidents()
        .iter()
        .filter(|i| !i.status.is_closed())
        .take(4)
        .map(|i| i.id.clone())
        .collect();
    let history = |id: &str| -> Vec<String> {
        sim.shared
            .world
            .lock()
            .unwrap()
            .incident(id)
            .unwrap()
            .history
            .iter()
            .map(|h| h.actor.clone())
            .collect()
    };
    let user = std::sync::Arc::new(std::sync::Mutex::new("op1".to_owned()));
    let app = desk(&sim, &idp, std::sync::Arc::clone(&user));
    let mut h = crate::support::harness([1500.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let wait = |h: &mut egui_kittest::Harness<'_>, what: &str, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out: {what}"
            );
            h.step();
            std::thread::sleep(Duration::from_millis(30));
        }
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
    h.get_by_label("Chưa ai đăng nhập: bàn này chỉ xem.");
    app.borrow_mut().apply(note(&ids[0], "trước khi đăng nhập"));
    h.run();
    assert!(outbox("trước khi đăng nhập").is_none());

    // The operator signs in through "the browser".
    h.get_by_label("Đăng nhập").click();
    wait(&mut h, "op1 signed in", &|| {
        app.borrow().sign_in.person().is_some()
    });
    h.get_by_label("Nguyễn Văn An · Trực vận hành");
    assert!(app.borrow().access().may_act);

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
    assert!(!app.borrow().access().may_act);
    *user.lock().unwrap() = "multi".into();
    h.get_by_label("Giao ca: người khác đăng nhập").click();
    wait(&mut h, "multi signed in", &|| {
        app.borrow()
            .sign_in
            .person()
            .is_some_and(|(p, _)| p.subject == "multi")
    });
    assert!(!app.borrow().sign_in.locked());
    h.get_by_label("Phạm Thị Dung · Trực vận hành, Kỹ thuật viên");
    sim.set_faults(Default::default());
    wait(&mut h, "op1's queued note sent", &|| {
        outbox("op1 trước giao ca").is_some_and(|e| e.state == EntryState::Acked)
    });
    assert_eq!(history(&ids[1]).last().unwrap(), "Nguyễn Văn An");

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
    let access = app.borrow().access();
    assert_eq!(access.roles, vec![Role::Leader]);
    assert_eq!(access.read_only_why, Some("auth.no_operator_role"));
    app.borrow_mut().apply(note(&ids[3], "lãnh đạo"));
    h.run();
    assert!(outbox("lãnh đạo").is_none());

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
        ("Nguyễn Văn An", "operator", "session.signed_in"),
        ("Nguyễn Văn An", "operator", "incident.note"),
        ("Nguyễn Văn An", "operator", "incident.note"),
        ("Nguyễn Văn An", "operator", "session.locked"),
        ("Phạm Thị Dung", "operator+technician", "session.signed_in"),
        ("Phạm Thị Dung", "operator+technician", "session.handover"),
        ("Phạm Thị Dung", "operator+technician", "incident.note"),
        ("Phạm Thị Dung", "operator+technician", "session.signed_out"),
        ("Nguyễn Văn An", "operator", "session.signed_in"),
        ("Nguyễn Văn An", "operator", "incident.resent"),
        ("Nguyễn Văn An", "operator", "session.signed_out"),
        ("Trần Thị Bình", "leader", "session.signed_in"),
    ];
    let expect: Vec<(String, String, String)> = expect
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(seen, expect);
    drop(h);
    drop(app);
}
