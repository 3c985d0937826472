//! Who is at the console: signing in through the identity server (the system browser and a
//! loopback redirect on a desk, a code and a QR code confirmed on a phone on a wall or kiosk),
//! the roles that follow, signing out, the desk locked when idle, and the handover of a shift.
//! The flows run on the backend's runtime; their outcomes come back to the UI by a channel.
//!
//! What the person may do ([`Access`]): with `[identity]`, the roles of their token (nobody
//! signed in: read-only); without it, the configuration's `role`, and on a real backend (not the
//! simulator) read-only whatever the role.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use chrono::Utc;
use egui::RichText;

use crate::auth::loopback::{Callback, Loopback};
use crate::auth::oidc::DeviceStart;
use crate::auth::session::{Sessions, Span};
use crate::auth::{AuthError, IdentityConfig, Person, Provider, SignedIn};
use crate::context::FrameCtx;
use crate::role::Role;
use crate::sources::Request;
use crate::text::Text;
use crate::ui::theme;

/// The background task of a console with sign-in: the identity server discovered (again after
/// a failure, with backoff), every live session's access token refreshed before it expires, and
/// the session of someone no longer at the console (a handover, a restart) ended and revoked
/// once the outbox holds nothing of theirs to send: no one's refresh token is kept for longer
/// than their actions need it.
pub async fn keep_sessions(
    sessions: Arc<Sessions>,
    cfg: IdentityConfig,
    ca: Option<PathBuf>,
    outbox: Option<Arc<crate::outbox::Outbox>>,
) {
    let mut wait = Duration::from_secs(2);
    loop {
        if sessions.provider().await.is_none() {
            match Provider::discover(&cfg, ca.as_deref()).await {
                Ok(p) => {
                    sessions.set_provider(p).await;
                    wait = Duration::from_secs(2);
                }
                Err(e) => {
                    tracing::warn!(%e, "the identity server cannot be read now");
                    wait = (wait * 2).min(Duration::from_secs(60));
                }
            }
        }
        sessions.keep_fresh().await;
        if let Some(o) = &outbox {
            retire_idle(&sessions, o).await;
        }
        let known = sessions.provider().await.is_some();
        tokio::time::sleep(if known { Duration::from_secs(15) } else { wait }).await;
    }
}

/// Ends (and revokes) the sessions of people not at the console with nothing pending in the
/// outbox.
async fn retire_idle(sessions: &Sessions, outbox: &Arc<crate::outbox::Outbox>) {
    let others = sessions.others();
    if others.is_empty() {
        return;
    }
    let o = Arc::clone(outbox);
    let Ok(Ok(pending)) = tokio::task::spawn_blocking(move || o.pending()).await else {
        return;
    };
    for (subject, serial) in others {
        if pending
            .iter()
            .any(|e| e.author.as_deref() == Some(subject.as_str()))
        {
            continue;
        }
        if let Some(ended) = sessions.end_because(
            &subject,
            Some(serial),
            "no longer at the console and nothing of theirs left to send".into(),
        ) {
            tracing::info!(
                "the session of someone no longer at the console is ended: nothing of theirs is left to send"
            );
            if let Some(p) = sessions.provider().await
                && let Err(e) = p.revoke(&ended.tokens).await
            {
                tracing::warn!(%e, "a retired session could not be revoked at the identity server");
            }
        }
    }
}

/// What the person at the console may do now.
#[derive(Clone, Debug, PartialEq)]
pub struct Access {
    /// The roles in force (the modes offered follow them); empty: nobody signed in.
    pub roles: Vec<Role>,
    /// Operator actions on incidents.
    pub may_act: bool,
    /// Why the desk is read-only, when it is for a reason other than a leader's role.
    pub read_only_why: Option<&'static str>,
}

impl Access {
    /// The role tiles and labels use: the first of operator, technician, leader held (nobody:
    /// leader's, the read-only one).
    pub fn primary(&self) -> Role {
        [Role::Operator, Role::Technician, Role::Leader]
            .into_iter()
            .find(|r| self.roles.contains(r))
            .unwrap_or(Role::Leader)
    }
}

/// How a flow ended, sent back to the UI.
enum Done {
    BrowserUrl(String),
    DeviceStarted(DeviceStart),
    SignedIn(Result<SignedIn, AuthError>, &'static str),
    SignedOut { name: String, not_sent: usize },
}

/// A sign-in under way.
enum Flow {
    Idle,
    Browser {
        url: Option<String>,
        task: tokio::task::AbortHandle,
    },
    Device {
        start: Option<Box<DeviceStart>>,
        qr: Option<(usize, Vec<bool>)>,
        task: tokio::task::AbortHandle,
    },
}

/// Why the desk is locked.
#[derive(Clone, Debug, PartialEq)]
enum Locked {
    Idle,
    Manual,
}

/// Opens a URL in the person's browser.
pub type Opener = Arc<dyn Fn(&str) + Send + Sync>;

fn xdg_open() -> Opener {
    Arc::new(|url: &str| {
        let spawned = std::process::Command::new("xdg-open")
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            tracing::warn!(%e, "no browser could be opened; the desk shows the address to open");
        }
    })
}

/// An event for the audit trail: (who, roles, action, subject, detail).
pub type AuditRow = (String, String, &'static str, String, String);

pub struct SignIn {
    cfg: Option<IdentityConfig>,
    ca_bundle: Option<PathBuf>,
    sessions: Option<Arc<Sessions>>,
    handle: Option<tokio::runtime::Handle>,
    requests: Option<tokio::sync::mpsc::Sender<Request>>,
    outbox: Option<Arc<crate::outbox::Outbox>>,
    /// The backend is the simulator (a console without sign-in may act there).
    simulated: bool,
    flow: Flow,
    done: (Sender<Done>, Receiver<Done>),
    /// The last problem, said until the next attempt.
    pub error: Option<Text>,
    /// When it happened (a wall tries again by itself after a while).
    failed_at: Option<Instant>,
    /// A word for the status bar (signed out, actions held).
    pub notice: Option<String>,
    locked: Option<Locked>,
    last_input: Instant,
    opener: Opener,
    /// The person at the console as last seen (to notice a change).
    seen: Option<String>,
    /// Rows for the audit trail, taken by the app.
    pub audit: Vec<AuditRow>,
    /// The sign-in window is open.
    pub window: bool,
    /// Drawn on a wall or kiosk: sign in with a code (no keyboard).
    pub wall: bool,
}

impl Default for SignIn {
    fn default() -> Self {
        SignIn {
            cfg: None,
            ca_bundle: None,
            sessions: None,
            handle: None,
            requests: None,
            outbox: None,
            simulated: true,
            flow: Flow::Idle,
            done: channel(),
            error: None,
            failed_at: None,
            notice: None,
            locked: None,
            last_input: Instant::now(),
            opener: xdg_open(),
            seen: None,
            audit: Vec::new(),
            window: false,
            wall: false,
        }
    }
}

fn roles_words(lang: crate::i18n::Lang, roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| crate::i18n::tr(lang, r.label_key()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn roles_code(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.label_key().trim_start_matches("role."))
        .collect::<Vec<_>>()
        .join("+")
}

impl SignIn {
    /// Sign-in for the console connected to `backend`.
    pub fn for_backend(backend: Option<&super::Backend>, ca_bundle: Option<PathBuf>) -> SignIn {
        let Some(b) = backend else {
            return SignIn::default();
        };
        SignIn {
            cfg: b.identity.clone(),
            ca_bundle,
            sessions: b.sessions.clone(),
            handle: b.handle.clone(),
            requests: Some(b.link.requests.clone()),
            outbox: b.outbox.clone(),
            simulated: b.simulated,
            ..SignIn::default()
        }
    }

    /// The sessions of the people signed in here (with `[identity]`).
    pub fn sessions(&self) -> Option<&Arc<Sessions>> {
        self.sessions.as_ref()
    }

    /// Whether this console signs people in.
    pub fn configured(&self) -> bool {
        self.cfg.is_some()
    }

    /// Replaces how URLs are opened (tests drive the identity server's pages themselves).
    pub fn set_opener(&mut self, opener: Opener) {
        self.opener = opener;
    }

    /// The person at the console and their session's times.
    pub fn person(&self) -> Option<(Person, Span)> {
        self.sessions.as_ref()?.current()
    }

    pub fn locked(&self) -> bool {
        self.locked.is_some()
    }

    /// The address the browser sign-in opened (shown on the desk, for a browser that did not
    /// open).
    pub fn browser_url(&self) -> Option<&str> {
        match &self.flow {
            Flow::Browser { url, .. } => url.as_deref(),
            _ => None,
        }
    }

    /// The device sign-in's code and addresses, while it runs.
    pub fn device(&self) -> Option<&DeviceStart> {
        match &self.flow {
            Flow::Device { start, .. } => start.as_deref(),
            _ => None,
        }
    }

    /// What the person may do, with `config_role` the configuration's.
    pub fn access(&self, config_role: Role) -> Access {
        if self.cfg.is_none() {
            let may_act = config_role != Role::Leader && self.simulated;
            return Access {
                roles: vec![config_role],
                may_act,
                read_only_why: (!self.simulated && config_role != Role::Leader)
                    .then_some("auth.no_identity_read_only"),
            };
        }
        match self.person() {
            Some((p, _)) if !self.locked() => Access {
                may_act: p.has(Role::Operator),
                read_only_why: (!p.has(Role::Operator)).then_some("auth.no_operator_role"),
                roles: p.roles,
            },
            _ => Access {
                roles: Vec::new(),
                may_act: false,
                read_only_why: Some("auth.signed_out"),
            },
        }
    }

    /// Marks input (the idle lock counts from the last).
    pub fn touched(&mut self) {
        self.last_input = Instant::now();
    }

    /// Locks the desk (the person's session goes on: the wall keeps its data, their queued
    /// actions keep going under their name).
    pub fn lock(&mut self, idle: bool) {
        if self.locked.is_some() {
            return;
        }
        let Some((p, _)) = self.person() else {
            return;
        };
        self.locked = Some(if idle { Locked::Idle } else { Locked::Manual });
        self.audit.push((
            p.who(),
            roles_code(&p.roles),
            "session.locked",
            p.subject.clone(),
            if idle { "idle" } else { "manual" }.into(),
        ));
        tracing::info!(idle, "the desk is locked");
    }

    /// Locks the desk when nobody has touched it for the configured time (desks only).
    pub fn check_idle(&mut self) {
        let Some(minutes) = self.cfg.as_ref().map(|c| c.idle_lock_minutes) else {
            return;
        };
        if minutes == 0 || self.wall || self.locked() || self.person().is_none() {
            return;
        }
        if self.last_input.elapsed() >= Duration::from_secs(u64::from(minutes) * 60) {
            self.lock(true);
        }
    }

    /// Locks after `idle` without input instead of the configured minutes (tests).
    pub fn pretend_idle_for(&mut self, idle: Duration) {
        self.last_input = Instant::now().checked_sub(idle).unwrap_or(self.last_input);
    }

    fn spawn<F>(&self, ctx: &egui::Context, f: F) -> Option<tokio::task::AbortHandle>
    where
        F: std::future::Future<Output = Done> + Send + 'static,
    {
        let handle = self.handle.as_ref()?;
        let tx = self.done.0.clone();
        let ctx = ctx.clone();
        let task = handle.spawn(async move {
            let d = f.await;
            let _ = tx.send(d);
            ctx.request_repaint();
        });
        Some(task.abort_handle())
    }

    fn cancel_flow(&mut self) {
        match std::mem::replace(&mut self.flow, Flow::Idle) {
            Flow::Browser { task, .. } | Flow::Device { task, .. } => task.abort(),
            Flow::Idle => {}
        }
    }

    /// Starts signing in through the system browser (RFC 8252: PKCE, loopback redirect).
    pub fn start_browser(&mut self, ctx: &egui::Context, lang: crate::i18n::Lang) {
        let (Some(cfg), Some(sessions)) = (self.cfg.clone(), self.sessions.clone()) else {
            return;
        };
        self.cancel_flow();
        self.error = None;
        let ca = self.ca_bundle.clone();
        let opener = Arc::clone(&self.opener);
        let tx = self.done.0.clone();
        let wake = ctx.clone();
        let pages = (
            page(crate::i18n::tr(lang, "auth.page_done")),
            page(crate::i18n::tr(lang, "auth.page_failed")),
        );
        let task = self.spawn(ctx, async move {
            let r = async {
                let provider = Provider::discover(&cfg, ca.as_deref()).await?;
                sessions.set_provider(provider.clone()).await;
                let lb = Loopback::bind()
                    .await
                    .map_err(|e| AuthError::Other(e.to_string()))?;
                let pending = provider.begin_code(&lb.redirect_uri())?;
                let url = pending.url.to_string();
                let _ = tx.send(Done::BrowserUrl(url.clone()));
                wake.request_repaint();
                opener(&url);
                let cb = tokio::time::timeout(
                    Duration::from_secs(600),
                    lb.wait_for(Some(pending.state()), &pages.0, &pages.1),
                )
                .await
                .map_err(|_| AuthError::TimedOut)?
                .map_err(|e| AuthError::Other(e.to_string()))?;
                match cb {
                    Callback::Code { code, state } => {
                        provider.finish_code(pending, &code, &state).await
                    }
                    Callback::Error {
                        error, description, ..
                    } => Err(AuthError::Refused {
                        code: error,
                        description,
                    }),
                }
            }
            .await;
            Done::SignedIn(r, "browser")
        });
        if let Some(task) = task {
            self.flow = Flow::Browser { url: None, task };
        }
    }

    /// Starts signing in with a code confirmed on another device (RFC 8628).
    pub fn start_device(&mut self, ctx: &egui::Context) {
        let (Some(cfg), Some(sessions)) = (self.cfg.clone(), self.sessions.clone()) else {
            return;
        };
        self.cancel_flow();
        self.error = None;
        let ca = self.ca_bundle.clone();
        let tx = self.done.0.clone();
        let wake = ctx.clone();
        let task = self.spawn(ctx, async move {
            let r = async {
                let provider = Provider::discover(&cfg, ca.as_deref()).await?;
                sessions.set_provider(provider.clone()).await;
                let start = provider.start_device().await?;
                let _ = tx.send(Done::DeviceStarted(start.clone()));
                wake.request_repaint();
                provider.finish_device(&start).await
            }
            .await;
            Done::SignedIn(r, "device")
        });
        if let Some(task) = task {
            self.flow = Flow::Device {
                start: None,
                qr: None,
                task,
            };
        }
    }

    /// Starts the way configured: the device flow on a wall or kiosk (or when asked for), else
    /// the browser.
    pub fn start(&mut self, ctx: &egui::Context, lang: crate::i18n::Lang) {
        use crate::auth::config::SignInWay;
        let way = self.cfg.as_ref().map(|c| c.sign_in).unwrap_or_default();
        match (way, self.wall) {
            (SignInWay::Device, _) | (SignInWay::Auto, true) => self.start_device(ctx),
            _ => self.start_browser(ctx, lang),
        }
        self.window = true;
    }

    pub fn cancel(&mut self) {
        self.cancel_flow();
        self.window = false;
    }

    /// Signs the person at the console out: the desk is read-only at once; their actions still
    /// pending are given a few seconds to go under their name, then their session is revoked at
    /// the server and forgotten here. What is left is held (see `auth::session`).
    pub fn sign_out(&mut self, ctx: &egui::Context) {
        let Some(sessions) = self.sessions.clone() else {
            return;
        };
        let Some((person, _)) = sessions.current() else {
            return;
        };
        self.cancel_flow();
        self.locked = None;
        let serial = sessions.signing_out(&person.subject);
        self.audit.push((
            person.who(),
            roles_code(&person.roles),
            "session.signed_out",
            person.subject.clone(),
            String::new(),
        ));
        let requests = self.requests.clone();
        let outbox = self.outbox.clone();
        let subject = person.subject.clone();
        let name = person.name.clone();
        self.spawn(ctx, async move {
            let wake_outbox = || {
                if let Some(r) = &requests {
                    let _ = r.try_send(Request::WakeOutbox);
                }
            };
            let theirs = |states: &'static [crate::outbox::EntryState]| {
                let outbox = outbox.clone();
                let subject = subject.clone();
                async move {
                    let Some(o) = outbox else { return 0 };
                    tokio::task::spawn_blocking(move || {
                        o.recent(10_000)
                            .map(|es| {
                                es.iter()
                                    .filter(|e| {
                                        e.author.as_deref() == Some(subject.as_str())
                                            && states.contains(&e.state)
                                    })
                                    .count()
                            })
                            .unwrap_or(0)
                    })
                    .await
                    .unwrap_or(0)
                }
            };
            use crate::outbox::EntryState::{Held, Pending};
            wake_outbox();
            let deadline = Instant::now() + Duration::from_secs(10);
            while theirs(&[Pending]).await > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let provider = sessions.provider().await;
            if let Some(ended) = sessions.end_if(&subject, serial)
                && let Some(p) = provider
                && let Err(e) = p.revoke(&ended.tokens).await
            {
                tracing::warn!(%e, "the session could not be revoked at the identity server");
            }
            // What is left is held by the sender now (no token of theirs can be had).
            wake_outbox();
            let deadline = Instant::now() + Duration::from_secs(5);
            while theirs(&[Pending]).await > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Done::SignedOut {
                name,
                not_sent: theirs(&[Pending, Held]).await,
            }
        });
    }

    /// What the sessions did by themselves (resumed, ended), as rows for the audit trail.
    fn take_session_events(&mut self) {
        let Some(sessions) = &self.sessions else {
            return;
        };
        for e in sessions.take_events() {
            self.audit.push((
                e.person.who(),
                roles_code(&e.person.roles),
                e.action,
                e.person.subject.clone(),
                e.why,
            ));
        }
    }

    /// Takes the flows' outcomes (each frame).
    pub fn poll(&mut self, lang: crate::i18n::Lang) {
        self.take_session_events();
        while let Ok(d) = self.done.1.try_recv() {
            match d {
                Done::BrowserUrl(u) => {
                    if let Flow::Browser { url, .. } = &mut self.flow {
                        *url = Some(u);
                    }
                }
                Done::DeviceStarted(s) => {
                    self.error = None;
                    if let Flow::Device { start, qr, .. } = &mut self.flow {
                        let text = s
                            .verification_uri_complete
                            .clone()
                            .unwrap_or_else(|| s.verification_uri.clone());
                        *qr = qrcode::QrCode::new(text.as_bytes()).ok().map(|c| {
                            let w = c.width();
                            let dark = c
                                .to_colors()
                                .into_iter()
                                .map(|m| m == qrcode::Color::Dark)
                                .collect();
                            (w, dark)
                        });
                        *start = Some(Box::new(s));
                    }
                }
                Done::SignedIn(Ok(s), way) => self.signed_in(s, way),
                Done::SignedIn(Err(e), way) => {
                    tracing::warn!(error = %e, way, "sign-in failed");
                    self.flow = Flow::Idle;
                    self.error = Some(e.text());
                    self.failed_at = Some(Instant::now());
                }
                Done::SignedOut { name, not_sent } => {
                    self.notice = Some(if not_sent > 0 {
                        crate::i18n::tr_args(
                            lang,
                            "auth.held_notice",
                            &[("n", &not_sent), ("name", &name)],
                        )
                    } else {
                        crate::i18n::tr_args(lang, "auth.signed_out_done", &[("name", &name)])
                    });
                }
            }
        }
    }

    fn signed_in(&mut self, s: SignedIn, way: &'static str) {
        let Some(sessions) = &self.sessions else {
            return;
        };
        let before = sessions.current().map(|(p, _)| p);
        let person = s.person.clone();
        sessions.signed_in(s);
        self.flow = Flow::Idle;
        self.window = false;
        self.error = None;
        self.locked = None;
        self.touched();
        tracing::info!(roles = %roles_code(&person.roles), way, "signed in");
        self.audit.push((
            person.who(),
            roles_code(&person.roles),
            "session.signed_in",
            person.subject.clone(),
            way.to_owned(),
        ));
        if let Some(b) = before.filter(|b| b.subject != person.subject) {
            self.audit.push((
                person.who(),
                roles_code(&person.roles),
                "session.handover",
                person.subject.clone(),
                b.who(),
            ));
        }
        // Their earlier actions held at a sign-out are theirs to resend: nothing moves by itself.
        if let Some(r) = &self.requests {
            let _ = r.try_send(Request::WakeOutbox);
        }
    }

    /// The console is closing: the sessions of people with nothing queued are ended, out of
    /// the secret store, and revoked at the identity server (a few seconds at most; a server
    /// that does not answer lets the token expire by itself). Those with actions queued stay
    /// for the next start to send them.
    pub fn closing(&mut self) {
        let Some(sessions) = self.sessions.clone() else {
            return;
        };
        // Every action made is in the outbox first (they reach it through the backend's
        // request queue); not knowing, every session is kept for the next start.
        if let Some(r) = &self.requests {
            let (reply, answered) = crate::sources::Reply::new();
            if r.try_send(Request::Barrier(reply)).is_err()
                || answered.recv_timeout(Duration::from_secs(3)).is_err()
            {
                tracing::warn!("the outbox was not reached at close; sessions are kept");
                return;
            }
        }
        let authors: std::collections::HashSet<String> = match &self.outbox {
            Some(o) => match o.pending() {
                Ok(rows) => rows.into_iter().filter_map(|e| e.author).collect(),
                Err(e) => {
                    tracing::warn!(%e, "the outbox cannot be read at close; sessions are kept");
                    return;
                }
            },
            None => Default::default(),
        };
        let ended: Vec<SignedIn> = sessions
            .closing(|s| authors.contains(s))
            .into_iter()
            .filter_map(|subject| {
                sessions.end_because(
                    &subject,
                    None,
                    "the console closed with nothing of theirs queued".into(),
                )
            })
            .collect();
        self.take_session_events();
        if ended.is_empty() {
            return;
        }
        tracing::info!(
            count = ended.len(),
            "sessions with nothing queued are ended as the console closes"
        );
        let Some(handle) = &self.handle else {
            return;
        };
        // On the runtime, waited for here (never `block_on`: the UI thread may be inside it).
        let (tx, rx) = channel();
        let s2 = Arc::clone(&sessions);
        handle.spawn(async move {
            if let Some(p) = s2.provider().await {
                for s in &ended {
                    if let Err(e) = p.revoke(&s.tokens).await {
                        tracing::warn!(%e, "a session could not be revoked as the console closed");
                    }
                }
            }
            let _ = tx.send(());
        });
        if rx.recv_timeout(Duration::from_secs(3)).is_err() {
            tracing::warn!("the identity server did not answer the revocations in time");
        }
        sessions.secrets().flush();
    }

    /// Whether the person at the console changed since the last call (the app updates the
    /// roles it shows).
    pub fn changed(&mut self) -> bool {
        let now = self
            .person()
            .map(|(p, _)| format!("{}|{:?}|{}", p.subject, p.roles, self.locked()));
        let changed = now != self.seen;
        self.seen = now;
        changed
    }

    /// The top bar's part: who is signed in and until when, lock and sign out; or the
    /// sign-in button; or why the desk is read-only.
    pub fn top_bar(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        if !self.configured() {
            return;
        }
        match self.person() {
            Some((p, span)) => {
                if ui.button(cx.t("auth.sign_out")).clicked() {
                    self.sign_out(ui.ctx());
                }
                if ui.button(cx.t("auth.lock")).clicked() {
                    self.lock(false);
                }
                // Until when, where the server lets the console know; else since when (an
                // access token's few minutes, renewed silently, are not the session's end).
                let (key, at) = match span.ends {
                    Some(ends) => ("auth.until", ends),
                    None => ("auth.since", span.since),
                };
                let vn = crate::format::to_vietnam_time(at);
                ui.label(
                    RichText::new(cx.t_args(key, &[("time", &crate::format::time(vn, false))]))
                        .small(),
                );
                ui.label(
                    RichText::new(cx.t_args(
                        "auth.signed_in_as",
                        &[
                            ("name", &p.name),
                            ("roles", &roles_words(cx.lang, &p.roles)),
                        ],
                    ))
                    .strong(),
                );
            }
            None => {
                if ui.button(cx.t("auth.sign_in")).clicked() {
                    self.start(ui.ctx(), cx.lang);
                }
            }
        }
    }

    /// The sign-in window (desk) while a flow runs or failed.
    pub fn show_window(&mut self, ctx: &egui::Context, cx: &FrameCtx) {
        if !self.window {
            return;
        }
        let mut open = true;
        egui::Window::new(cx.t("auth.sign_in"))
            .open(&mut open)
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| self.flow_body(ui, cx));
        if !open {
            self.cancel();
        }
    }

    /// What the flow shows: the browser's address, or the code and QR code; the error; the
    /// buttons to try again either way.
    fn flow_body(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        if let Some(e) = &self.error {
            ui.label(RichText::new(e.say(cx.lang)).color(theme::colors::ERROR));
            ui.separator();
        }
        match &self.flow {
            Flow::Browser { url, .. } => {
                ui.label(cx.t("auth.waiting_browser"));
                if let Some(u) = url.clone() {
                    ui.add(egui::Label::new(RichText::new(&u).monospace().small()).wrap());
                    ui.horizontal(|ui| {
                        if ui.button(cx.t("auth.copy_url")).clicked() {
                            ui.ctx().copy_text(u.clone());
                        }
                        if ui.button(cx.t("auth.open_browser")).clicked() {
                            (self.opener)(&u);
                        }
                    });
                }
            }
            Flow::Device { start, qr, .. } => {
                if let Some(s) = start {
                    device_card(ui, cx, s, qr.as_ref());
                } else {
                    ui.spinner();
                }
            }
            Flow::Idle => {}
        }
        ui.separator();
        ui.horizontal(|ui| {
            if !matches!(self.flow, Flow::Idle) {
                if ui.button(cx.t("auth.cancel")).clicked() {
                    self.cancel();
                }
            } else {
                if ui.button(cx.t("auth.sign_in")).clicked() {
                    self.start_browser(ui.ctx(), cx.lang);
                }
                if ui.button(cx.t("auth.device_start")).clicked() {
                    self.start_device(ui.ctx());
                }
            }
        });
        if let Some(why) = self
            .sessions
            .as_ref()
            .and_then(|s| s.secrets().why_memory())
        {
            ui.label(RichText::new(cx.t("auth.memory_only")).small())
                .on_hover_text(why);
        }
    }

    /// The lock screen, in place of the desk: who locked it, unlock (the same person signs in
    /// again), or the handover to the next person of the shift.
    pub fn lock_screen(&mut self, ui: &mut egui::Ui, cx: &FrameCtx) {
        let name = self.person().map(|(p, _)| p.name).unwrap_or_default();
        let minutes = self.cfg.as_ref().map(|c| c.idle_lock_minutes).unwrap_or(0);
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() * 0.2);
                ui.heading(cx.t("auth.locked_title"));
                let why = match self.locked {
                    Some(Locked::Idle) => {
                        cx.t_args("auth.locked_by", &[("name", &name), ("minutes", &minutes)])
                    }
                    _ => cx.t_args("auth.locked_manual", &[("name", &name)]),
                };
                ui.label(why);
                ui.add_space(16.0);
                if matches!(self.flow, Flow::Idle) {
                    if ui.button(cx.t("auth.unlock")).clicked() {
                        self.start(ui.ctx(), cx.lang);
                    }
                    if ui.button(cx.t("auth.handover")).clicked() {
                        self.start(ui.ctx(), cx.lang);
                    }
                    ui.label(
                        RichText::new(cx.t_args("auth.handover_note", &[("name", &name)])).small(),
                    );
                    if let Some(e) = &self.error {
                        ui.label(RichText::new(e.say(cx.lang)).color(theme::colors::ERROR));
                    }
                } else {
                    self.flow_body(ui, cx);
                }
            });
        });
    }

    /// On a wall or kiosk nobody is signed in to: the device flow runs by itself (again when
    /// its code expires, and a while after a failure: nobody at a wall can press a button)
    /// and its code and QR code are shown over the wall.
    pub fn wall_card(&mut self, ctx: &egui::Context, cx: &FrameCtx) {
        if !self.configured() || self.person().is_some() {
            return;
        }
        let expired = self.device().is_some_and(|d| d.expires_at <= Utc::now());
        let retry = self.failed_at.is_none_or(|t| t.elapsed() >= WALL_RETRY);
        if matches!(self.flow, Flow::Idle) && (self.error.is_none() || retry) || expired {
            // The failure stays said until the new attempt shows a code or fails again.
            let said = self.error.take();
            self.start_device(ctx);
            self.error = said;
        }
        egui::Area::new(egui::Id::unique("wall-sign-in"))
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style())
                    .inner_margin(16.0)
                    .show(ui, |ui| {
                        ui.heading(cx.t("auth.device_title"));
                        if let Some(e) = &self.error {
                            ui.label(RichText::new(e.say(cx.lang)).color(theme::colors::ERROR));
                            if ui.button(cx.t("auth.device_start")).clicked() {
                                self.start_device(ui.ctx());
                            }
                        }
                        if let Flow::Device {
                            start: Some(s), qr, ..
                        } = &self.flow
                        {
                            device_card(ui, cx, s, qr.as_ref());
                        }
                    });
            });
        ctx.request_repaint_after(Duration::from_secs(1));
    }
}

/// How long a wall shows a failed sign-in before it tries again by itself.
const WALL_RETRY: Duration = Duration::from_secs(10);

/// The code, the address and the QR code of a device sign-in.
fn device_card(ui: &mut egui::Ui, cx: &FrameCtx, s: &DeviceStart, qr: Option<&(usize, Vec<bool>)>) {
    ui.label(cx.t_args("auth.device_steps", &[("uri", &s.verification_uri)]));
    ui.label(RichText::new(&s.user_code).monospace().size(36.0).strong());
    if let Some((w, dark)) = qr {
        let module = 6.0;
        let quiet = 4.0 * module;
        let side = *w as f32 * module + 2.0 * quiet;
        let (rect, _) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, egui::Color32::WHITE);
        for (i, &d) in dark.iter().enumerate() {
            if d {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let min = rect.min + egui::vec2(quiet + x * module, quiet + y * module);
                painter.rect_filled(
                    egui::Rect::from_min_size(min, egui::vec2(module, module)),
                    0.0,
                    egui::Color32::BLACK,
                );
            }
        }
    }
    let vn = crate::format::to_vietnam_time(s.expires_at);
    ui.label(
        RichText::new(cx.t_args(
            "auth.device_expires",
            &[("time", &crate::format::time(vn, false))],
        ))
        .small(),
    );
}

/// The loopback redirect's page (the person's language).
fn page(words: &str) -> String {
    let escaped = words
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>IOC</title></head><body style=\"font-family:sans-serif;margin:3em\"><p>{escaped}</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn without_identity(simulated: bool) -> SignIn {
        SignIn {
            simulated,
            ..SignIn::default()
        }
    }

    #[test]
    fn without_an_identity_server_the_configured_role_acts_only_on_a_simulator() {
        let sim = without_identity(true).access(Role::Operator);
        assert!(sim.may_act);
        assert_eq!(sim.read_only_why, None);
        // A real backend: read-only whatever the role, and why.
        for role in [Role::Operator, Role::Technician] {
            let real = without_identity(false).access(role);
            assert!(!real.may_act, "{role:?}");
            assert_eq!(real.read_only_why, Some("auth.no_identity_read_only"));
            assert_eq!(real.roles, vec![role]);
        }
        // A leader never acts (the queue says so in its own words).
        assert!(!without_identity(false).access(Role::Leader).may_act);
        assert!(!without_identity(true).access(Role::Leader).may_act);
    }

    #[test]
    fn with_an_identity_server_nobody_signed_in_may_not_act() {
        let s = SignIn {
            cfg: Some(IdentityConfig::new(
                "https://sso.example.gov.vn/realms/ioc",
                "ioc-console",
            )),
            sessions: Some(Sessions::new(crate::auth::secrets::SecretStore::memory())),
            ..SignIn::default()
        };
        // The configuration's role does not count.
        let a = s.access(Role::Operator);
        assert!(!a.may_act);
        assert!(a.roles.is_empty());
        assert_eq!(a.read_only_why, Some("auth.signed_out"));
    }
}
