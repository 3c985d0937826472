//! Getting data from the IOC backend, off the UI thread: one task per resource (fetch, then poll
//! at the resource's interval, retrying with jittered backoff), one task for the SSE stream, and
//! one for commands (trainer controls). Results reach the UI as [`Update`]s through a bounded
//! channel, and each one wakes the UI (coalesced by egui).

pub mod actions;
pub mod backoff;
pub mod client;
pub mod parse;
pub mod sse;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, mpsc};

use crate::model::sim::{Control, Faults, SimStatus};
use crate::model::*;
use backoff::Backoff;
pub use client::{Client, ClientConfig, FetchError, Token};

/// The resources of the contract the console reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Units,
    Departments,
    Categories,
    Indicators,
    Series,
    Incidents,
    Cameras,
    Providers,
}

impl Resource {
    pub const ALL: [Resource; 8] = [
        Resource::Units,
        Resource::Departments,
        Resource::Categories,
        Resource::Indicators,
        Resource::Series,
        Resource::Incidents,
        Resource::Cameras,
        Resource::Providers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Resource::Units => "units",
            Resource::Departments => "departments",
            Resource::Categories => "categories",
            Resource::Indicators => "indicators",
            Resource::Series => "series",
            Resource::Incidents => "incidents",
            Resource::Cameras => "cameras",
            Resource::Providers => "providers",
        }
    }

    /// Catalogue key of the resource's name on screen.
    pub fn label_key(self) -> &'static str {
        match self {
            Resource::Units => "resource.units",
            Resource::Departments => "resource.departments",
            Resource::Categories => "resource.categories",
            Resource::Indicators => "resource.indicators",
            Resource::Series => "resource.series",
            Resource::Incidents => "resource.incidents",
            Resource::Cameras => "resource.cameras",
            Resource::Providers => "resource.providers",
        }
    }

    /// Whether the SSE stream keeps this resource current between polls.
    pub fn covered_by_events(self) -> bool {
        matches!(
            self,
            Resource::Series | Resource::Incidents | Resource::Cameras | Resource::Providers
        )
    }
}

/// Poll intervals and freshness periods. Production values by default; tests shrink them.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Multiplies every poll interval (tests use a small factor).
    pub poll_scale: f64,
    /// Multiplies every staleness period.
    pub stale_scale: f64,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_scale: 1.0,
            stale_scale: 1.0,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(60),
        }
    }
}

impl Timing {
    /// Poll interval: slow for catalogues, fast for live data, slower again while the SSE
    /// stream keeps live data current.
    pub fn poll(&self, r: Resource, stream_up: bool) -> Duration {
        let secs = match r {
            Resource::Units
            | Resource::Departments
            | Resource::Categories
            | Resource::Indicators => 600.0,
            Resource::Series => 300.0,
            Resource::Incidents | Resource::Cameras if stream_up => 120.0,
            Resource::Incidents => 10.0,
            Resource::Cameras => 30.0,
            Resource::Providers => 60.0,
        };
        Duration::from_secs_f64(secs * self.poll_scale)
    }

    /// Data older than this (with no event confirming it) is stale.
    pub fn stale_after(&self, r: Resource) -> Duration {
        let secs = match r {
            Resource::Units
            | Resource::Departments
            | Resource::Categories
            | Resource::Indicators => 3600.0,
            Resource::Series => 900.0,
            Resource::Incidents => 30.0,
            Resource::Cameras => 90.0,
            Resource::Providers => 180.0,
        };
        Duration::from_secs_f64(secs * self.stale_scale)
    }
}

/// A successfully fetched resource.
#[derive(Clone, Debug)]
pub enum Payload {
    Units(Vec<Unit>),
    Departments(Vec<Department>),
    Categories(Vec<Category>),
    Indicators(Vec<Indicator>),
    Series(Vec<Series>),
    /// `incremental`: only incidents changed since the previous fetch.
    Incidents {
        items: Vec<Incident>,
        incremental: bool,
    },
    Cameras(Vec<Camera>),
    Providers(Vec<ProviderStatus>),
}

/// What the background sends to the UI.
#[derive(Clone, Debug)]
pub enum Update {
    Loaded {
        resource: Resource,
        payload: Payload,
        as_of: Timestamp,
        fetched_at: Timestamp,
    },
    Failed {
        resource: Resource,
        error: FetchError,
        at: Timestamp,
    },
    Event(Event),
    /// The event stream is connected (sent on connect and at most once a second after).
    StreamAlive {
        at: Timestamp,
    },
    StreamDown {
        error: FetchError,
        at: Timestamp,
    },
    SimStatus(Result<SimStatus, FetchError>),
    /// The outbox's newest entries (after every change).
    Outbox(Vec<crate::outbox::Entry>),
    /// An action could not even be recorded: it was refused, with the reason.
    ActionRefused {
        incident_id: String,
        reason: crate::outbox::Refusal,
    },
}

/// A request from the UI to the background.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Refetch everything now.
    Refresh,
    /// Record an operator's action in the outbox, then send it.
    Act {
        incident_id: String,
        request: ActionRequest,
    },
    /// Drop an action that conflicted.
    Discard {
        key: String,
    },
    /// Apply a conflicting action again on the incident's current version.
    Reapply {
        key: String,
        version: u64,
    },
    SimControl(Control),
    SimFaults(Faults),
    SimStatus,
}

/// The UI's end of the backend connection.
pub struct BackendLink {
    pub updates: mpsc::Receiver<Update>,
    pub requests: mpsc::Sender<Request>,
    pub timing: Timing,
    pub base_url: String,
}

type Waker = Arc<dyn Fn() + Send + Sync>;

struct Ctx {
    client: Client,
    outbox: Option<Arc<crate::outbox::Outbox>>,
    outbox_wake: Notify,
    tx: mpsc::Sender<Update>,
    wake: Waker,
    timing: Timing,
    /// Bumped to make every poller fetch now (a watch keeps the news for a poller that is busy
    /// fetching, unlike a notification).
    refresh: tokio::sync::watch::Sender<u64>,
    /// Wakes the pollers of event-covered resources when the stream goes down, so that they
    /// switch to their fast interval now rather than after the slow one.
    stream_lost: tokio::sync::watch::Sender<u64>,
    stream_up: std::sync::atomic::AtomicBool,
}

impl Ctx {
    fn refresh_all(&self) {
        self.refresh.send_modify(|g| *g += 1);
    }

    async fn send(&self, u: Update) -> bool {
        let ok = self.tx.send(u).await.is_ok();
        (self.wake)();
        ok
    }
}

/// Starts the background tasks on `rt`. `wake` is called after every update. Actions go through
/// `outbox` (without one, they are refused with the reason).
pub fn start(
    rt: &tokio::runtime::Handle,
    cfg: &ClientConfig,
    timing: Timing,
    wake: Waker,
    outbox: Option<Arc<crate::outbox::Outbox>>,
) -> Result<BackendLink, client::ClientError> {
    let client = Client::new(cfg)?;
    let (tx, rx) = mpsc::channel(1024);
    let (req_tx, req_rx) = mpsc::channel(64);
    let ctx = Arc::new(Ctx {
        client,
        outbox,
        outbox_wake: Notify::new(),
        tx,
        wake,
        timing: timing.clone(),
        refresh: tokio::sync::watch::channel(0).0,
        stream_lost: tokio::sync::watch::channel(0).0,
        stream_up: false.into(),
    });
    for (i, r) in Resource::ALL.into_iter().enumerate() {
        rt.spawn(poll_loop(Arc::clone(&ctx), r, i as u64));
    }
    rt.spawn(stream_loop(Arc::clone(&ctx)));
    rt.spawn(request_loop(Arc::clone(&ctx), req_rx));
    rt.spawn(outbox_loop(Arc::clone(&ctx)));
    Ok(BackendLink {
        updates: rx,
        requests: req_tx,
        timing,
        base_url: cfg.base_url.clone(),
    })
}

async fn fetch(
    client: &Client,
    r: Resource,
    since: Option<Timestamp>,
) -> Result<(Payload, Timestamp), FetchError> {
    let path = match (r, since) {
        // A few seconds of overlap: a row committed late with an earlier time stamp is not
        // skipped (seeing a row twice is harmless, upserts go by version).
        (Resource::Incidents, Some(t)) => format!(
            "incidents?updated_since={}",
            urlencode(
                &t.checked_sub_signed(chrono::Duration::seconds(5))
                    .unwrap_or(t)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            )
        ),
        _ => r.name().to_owned(),
    };
    let bytes = client.get_bytes(&path).await?;
    // Parsing megabytes of JSON is CPU work: keep it off the async workers' hot path.
    tokio::task::spawn_blocking(move || parse_payload(r, &bytes, since.is_some()))
        .await
        .map_err(|e| FetchError::Unreachable(e.to_string()))?
}

/// Parses a resource's body into its payload (used by the client and the ingest benchmark).
pub fn parse_payload(
    r: Resource,
    bytes: &[u8],
    incremental: bool,
) -> Result<(Payload, Timestamp), FetchError> {
    Ok(match r {
        Resource::Units => {
            let l = parse::list(r, bytes)?;
            (Payload::Units(l.items), l.as_of)
        }
        Resource::Departments => {
            let l = parse::list(r, bytes)?;
            (Payload::Departments(l.items), l.as_of)
        }
        Resource::Categories => {
            let l = parse::list(r, bytes)?;
            (Payload::Categories(l.items), l.as_of)
        }
        Resource::Indicators => {
            let l = parse::list(r, bytes)?;
            (Payload::Indicators(l.items), l.as_of)
        }
        Resource::Series => {
            let l = parse::list(r, bytes)?;
            (Payload::Series(l.items), l.as_of)
        }
        Resource::Incidents => {
            let l = parse::list(r, bytes)?;
            (
                Payload::Incidents {
                    items: l.items,
                    incremental,
                },
                l.as_of,
            )
        }
        Resource::Cameras => {
            let l = parse::list(r, bytes)?;
            (Payload::Cameras(l.items), l.as_of)
        }
        Resource::Providers => {
            let l = parse::list(r, bytes)?;
            (Payload::Providers(l.items), l.as_of)
        }
    })
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn poll_loop(ctx: Arc<Ctx>, r: Resource, salt: u64) {
    let mut refresh = ctx.refresh.subscribe();
    let mut stream_lost = ctx.stream_lost.subscribe();
    let mut backoff = Backoff::new(
        ctx.timing.backoff_base,
        ctx.timing.backoff_cap,
        salt.wrapping_mul(7919) ^ std::process::id() as u64,
    );
    // Incidents are fetched whole once, then incrementally (changed since the newest seen).
    let mut newest: Option<Timestamp> = None;
    loop {
        let since = if r == Resource::Incidents {
            newest
        } else {
            None
        };
        let delay = match fetch(&ctx.client, r, since).await {
            Ok((payload, as_of)) => {
                backoff.reset();
                if let Payload::Incidents { items, .. } = &payload {
                    newest = items.iter().map(|i| i.updated_at).chain(newest).max();
                }
                if !ctx
                    .send(Update::Loaded {
                        resource: r,
                        payload,
                        as_of,
                        fetched_at: Utc::now(),
                    })
                    .await
                {
                    return;
                }
                ctx.timing
                    .poll(r, ctx.stream_up.load(std::sync::atomic::Ordering::Relaxed))
            }
            Err(error) => {
                let delay = backoff.next_delay();
                tracing::warn!(resource = r.name(), %error, retry_in = ?delay, "fetch failed");
                if matches!(error, FetchError::Parse(_)) {
                    // A bad incremental answer: start again from a whole list.
                    newest = None;
                }
                if !ctx
                    .send(Update::Failed {
                        resource: r,
                        error,
                        at: Utc::now(),
                    })
                    .await
                {
                    return;
                }
                delay
            }
        };
        // Only the resources whose interval depends on the stream poll again at once when it
        // drops (incidents and cameras); the others keep their own pace.
        let follows_stream = matches!(r, Resource::Incidents | Resource::Cameras);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = refresh.changed() => {
                if r == Resource::Incidents { newest = None; }
            }
            _ = stream_lost.changed(), if follows_stream => {}
        }
    }
}

async fn stream_loop(ctx: Arc<Ctx>) {
    let mut backoff = Backoff::new(
        ctx.timing.backoff_base,
        ctx.timing.backoff_cap,
        0x55E ^ std::process::id() as u64,
    );
    let mut last_id: Option<String> = None;
    let mut connected_before = false;
    loop {
        let error = match ctx.client.open_events(last_id.as_deref()).await {
            Ok(resp) => {
                ctx.stream_up
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                backoff.reset();
                // Back without an event id to resume from (none had come yet): the backend
                // cannot tell us what we missed, perhaps a whole restart, so fetch everything.
                if connected_before && last_id.is_none() {
                    ctx.refresh_all();
                }
                connected_before = true;
                if !ctx.send(Update::StreamAlive { at: Utc::now() }).await {
                    return;
                }
                let e = read_stream(&ctx, resp, &mut last_id).await;
                ctx.stream_up
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                ctx.stream_lost.send_modify(|g| *g += 1);
                e
            }
            Err(e) => e,
        };
        let delay = backoff.next_delay();
        tracing::info!(%error, retry_in = ?delay, "event stream down");
        if !ctx
            .send(Update::StreamDown {
                error,
                at: Utc::now(),
            })
            .await
        {
            return;
        }
        tokio::time::sleep(delay).await;
    }
}

/// Reads events until the stream ends; returns why it ended.
async fn read_stream(
    ctx: &Ctx,
    resp: reqwest::Response,
    last_id: &mut Option<String>,
) -> FetchError {
    use futures_util::StreamExt as _;
    let mut parser = sse::SseParser::new(4 * 1024 * 1024);
    let mut body = resp.bytes_stream();
    let mut last_alive = std::time::Instant::now() - Duration::from_secs(10);
    let alive_every = Duration::from_secs_f64(ctx.timing.stale_scale.clamp(0.05, 1.0));
    loop {
        let chunk = match body.next().await {
            Some(Ok(c)) => c,
            Some(Err(e)) => return FetchError::Unreachable(e.to_string()),
            None => return FetchError::Unreachable("the event stream was closed".into()),
        };
        let parsed = parser.feed(&chunk);
        if parsed.dropped > 0 {
            tracing::warn!(
                dropped = parsed.dropped,
                "events larger than the limit were dropped; refetching what they may have carried"
            );
            // The dropped change is not lost: a full fetch brings the current state.
            ctx.refresh_all();
        }
        if last_alive.elapsed() >= alive_every {
            last_alive = std::time::Instant::now();
            if !ctx.send(Update::StreamAlive { at: Utc::now() }).await {
                return FetchError::Unreachable("the console is closing".into());
            }
        }
        for msg in parsed.messages {
            if msg.id.is_some() {
                last_id.clone_from(&msg.id);
            }
            if msg.event == "reset" {
                // The backend restarted or lost our place: fetch everything again.
                ctx.refresh_all();
                continue;
            }
            match parse::event(&msg.event, &msg.data) {
                Ok(Some(e)) => {
                    if !ctx.send(Update::Event(e)).await {
                        return FetchError::Unreachable("the console is closing".into());
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(%e, "skipping a malformed event"),
            }
        }
    }
}

/// Runs an outbox operation off the async workers (SQLite writes and fsyncs).
async fn with_outbox<T: Send + 'static>(
    ctx: &Ctx,
    f: impl FnOnce(&crate::outbox::Outbox) -> Result<T, crate::outbox::OutboxError> + Send + 'static,
) -> Result<T, crate::outbox::Refusal> {
    use crate::outbox::Refusal;
    let Some(outbox) = ctx.outbox.clone() else {
        return Err(Refusal::NoOutbox);
    };
    tokio::task::spawn_blocking(move || f(&outbox))
        .await
        .map_err(|e| Refusal::Write(e.to_string()))?
        .map_err(|e| Refusal::from(&e))
}

async fn send_outbox_state(ctx: &Ctx) {
    if let Ok(entries) = with_outbox(ctx, |o| o.recent(200)).await {
        ctx.send(Update::Outbox(entries)).await;
    }
}

/// Sends what the outbox holds, retrying with backoff while the backend is away.
async fn outbox_loop(ctx: Arc<Ctx>) {
    if ctx.outbox.is_none() {
        return;
    }
    send_outbox_state(&ctx).await;
    let mut backoff = Backoff::new(
        ctx.timing.backoff_base,
        ctx.timing.backoff_cap,
        0x0B0 ^ std::process::id() as u64,
    );
    loop {
        let pending = with_outbox(&ctx, |o| o.pending()).await.unwrap_or_default();
        let mut retry = false;
        for entry in pending {
            let outcome = actions::send(&ctx.client, &entry).await;
            let key = entry.key.clone();
            let recorded = {
                let outcome = outcome.clone();
                with_outbox(&ctx, move |o| o.record(&key, &outcome)).await
            };
            if let Err(e) = recorded {
                tracing::error!(?e, "cannot record an action's outcome");
            }
            match outcome {
                crate::outbox::Outcome::AckedUnread(_) => ctx.refresh_all(),
                crate::outbox::Outcome::Acked(incident) => {
                    ctx.send(Update::Event(Event::Incident(incident))).await;
                }
                crate::outbox::Outcome::Retry(reason) => {
                    tracing::warn!(%reason, key = %entry.key, "action not sent; will retry");
                    retry = true;
                }
                other => tracing::warn!(outcome = ?other, key = %entry.key, "action not applied"),
            }
            send_outbox_state(&ctx).await;
            if retry {
                break;
            }
        }
        let delay = if retry {
            backoff.next_delay()
        } else {
            backoff.reset();
            Duration::from_secs(30)
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = ctx.outbox_wake.notified() => {}
        }
    }
}

async fn request_loop(ctx: Arc<Ctx>, mut rx: mpsc::Receiver<Request>) {
    while let Some(req) = rx.recv().await {
        match req {
            Request::Refresh => ctx.refresh_all(),
            Request::Act {
                incident_id,
                request,
            } => {
                let id = incident_id.clone();
                match with_outbox(&ctx, move |o| o.enqueue(&id, &request)).await {
                    Ok(_) => {
                        send_outbox_state(&ctx).await;
                        ctx.outbox_wake.notify_one();
                    }
                    Err(reason) => {
                        tracing::error!(?reason, incident = %incident_id, "action refused: the outbox cannot record it");
                        ctx.send(Update::ActionRefused {
                            incident_id,
                            reason,
                        })
                        .await;
                    }
                }
            }
            Request::Discard { key } => {
                if let Err(e) = with_outbox(&ctx, move |o| o.discard(&key)).await {
                    tracing::error!(?e, "cannot discard an action");
                }
                send_outbox_state(&ctx).await;
            }
            Request::Reapply { key, version } => {
                if let Err(e) = with_outbox(&ctx, move |o| o.reapply(&key, version)).await {
                    tracing::error!(?e, "cannot apply an action again");
                }
                send_outbox_state(&ctx).await;
                ctx.outbox_wake.notify_one();
            }
            Request::SimStatus => {
                let r = sim_get(&ctx.client).await;
                ctx.send(Update::SimStatus(r)).await;
            }
            Request::SimControl(c) => {
                let r = sim_post(&ctx.client, "control", &c).await;
                ctx.send(Update::SimStatus(r)).await;
            }
            Request::SimFaults(f) => {
                let r = match sim_post_raw(&ctx.client, "faults", &f).await {
                    Ok(_) => sim_get(&ctx.client).await,
                    Err(e) => Err(e),
                };
                ctx.send(Update::SimStatus(r)).await;
            }
        }
    }
}

async fn sim_get(client: &Client) -> Result<SimStatus, FetchError> {
    let url = client.sim_url("status")?;
    let body = client.send(client.http().get(url)).await?;
    serde_json::from_slice(&body).map_err(|e| {
        FetchError::Parse(parse::ParseError {
            resource: "sim/status",
            path: "(body)".into(),
            message: e.to_string(),
        })
    })
}

async fn sim_post_raw<T: serde::Serialize>(
    client: &Client,
    path: &str,
    body: &T,
) -> Result<Vec<u8>, FetchError> {
    let url = client.sim_url(path)?;
    client.send(client.http().post(url).json(body)).await
}

async fn sim_post<T: serde::Serialize>(
    client: &Client,
    path: &str,
    body: &T,
) -> Result<SimStatus, FetchError> {
    let body = sim_post_raw(client, path, body).await?;
    serde_json::from_slice(&body).map_err(|e| {
        FetchError::Parse(parse::ParseError {
            resource: "sim/control",
            path: "(body)".into(),
            message: e.to_string(),
        })
    })
}
