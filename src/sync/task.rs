//! The sync task: one NATS connection, the wall's key watched, pushes under compare-and-swap,
//! heartbeats out and the wall's consoles in.
//!
//! A session is what lives on one connection: the buckets, the watch, the heartbeat. It ends
//! when the connection drops (the client's `Disconnected` event) or a call fails; the task then
//! waits for the client to reconnect (it does by itself, across the configured servers) and
//! starts a new session, which takes the wall's current value first. Between sessions every
//! push is refused at once, with the time the link was lost.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{
    Credentials, LinkState, PRESENCE_BUCKET, PushRefused, SyncConfig, SyncRequest, SyncUpdate,
    WALL_BUCKET, key_token, presence_key,
};
use crate::model::wall_share::{Presence, SharedWall, WallChange};

/// The broker's last "permissions violation" and when: a publish it denies gets no answer, only
/// this error on the connection, so a push looks here before it waits any longer.
type Violation = std::sync::Arc<std::sync::Mutex<Option<(Instant, String)>>>;

/// How many times a push re-reads the value when another console wrote between its read and
/// its write.
const CAS_TRIES: usize = 16;

pub(super) struct Task {
    config: SyncConfig,
    ca_bundle: Option<std::path::PathBuf>,
    console: String,
    up: mpsc::Sender<SyncUpdate>,
    requests: mpsc::Receiver<SyncRequest>,
    presence: Option<Presence>,
    /// The wall's last good value (shared with the session's pusher).
    last_good: std::sync::Arc<std::sync::Mutex<SharedWall>>,
    link: LinkState,
    wake: Option<super::Waker>,
    violation: Violation,
}

/// How a session ended.
enum Ended {
    /// The app is gone: the task stops.
    Closed,
    /// The connection or a call failed: why.
    Lost(String),
}

impl Task {
    pub(super) fn new(
        config: SyncConfig,
        ca_bundle: Option<std::path::PathBuf>,
        console: String,
        up: mpsc::Sender<SyncUpdate>,
        requests: mpsc::Receiver<SyncRequest>,
        wake: Option<super::Waker>,
    ) -> Task {
        Task {
            config,
            ca_bundle,
            console,
            up,
            requests,
            presence: None,
            last_good: Default::default(),
            link: LinkState::Connecting,
            wake,
            violation: Violation::default(),
        }
    }

    async fn tell(&self, u: SyncUpdate) {
        let _ = self.up.send(u).await;
        if let Some(w) = &self.wake {
            w();
        }
    }

    async fn say(&mut self, u: SyncUpdate) {
        if let SyncUpdate::Link(l) = &u {
            if *l == self.link {
                return;
            }
            self.link = l.clone();
        }
        self.tell(u).await;
    }

    fn since(&self) -> crate::model::Timestamp {
        match &self.link {
            LinkState::Down { since, .. } | LinkState::Refused { since, .. } => *since,
            _ => chrono::Utc::now(),
        }
    }

    async fn lost(&mut self, why: String, refused: bool) {
        let since = self.since();
        tracing::warn!(wall = %self.config.wall, %why, "sync: link to the broker lost");
        let state = if refused {
            LinkState::Refused { since, why }
        } else {
            LinkState::Down { since, why }
        };
        self.say(SyncUpdate::Link(state)).await;
    }

    /// Waits `d`, refusing pushes meanwhile; false when the app is gone.
    async fn wait_refusing(&mut self, d: Duration) -> bool {
        let until = tokio::time::Instant::now() + d;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return true,
                r = self.requests.recv() => match r {
                    None => return false,
                    Some(SyncRequest::Presence(p)) => self.presence = Some(*p),
                    Some(SyncRequest::Push { id, .. }) => {
                        let outcome = Err(PushRefused::NoLink(self.since()));
                        self.tell(SyncUpdate::Pushed { id, outcome }).await;
                    }
                },
            }
        }
    }

    pub(super) async fn run(mut self) {
        let mut backoff = Duration::from_millis(250);
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let client = loop {
            match connect(
                &self.config,
                self.ca_bundle.as_deref(),
                &self.console,
                events_tx.clone(),
                self.violation.clone(),
            )
            .await
            {
                Ok(c) => break c,
                Err((why, refused)) => {
                    self.lost(why, refused).await;
                    if !self.wait_refusing(jitter(backoff)).await {
                        return;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        loop {
            // The client reconnects by itself; a session starts once it has.
            while client.connection_state() != async_nats::connection::State::Connected {
                while events.try_recv().is_ok() {}
                if !self.wait_refusing(Duration::from_millis(100)).await {
                    return;
                }
            }
            while events.try_recv().is_ok() {}
            match self.session(&client, &mut events).await {
                Ended::Closed => {
                    // Say goodbye: the heartbeat goes at once rather than expiring.
                    let js = jetstream::new(client.clone());
                    if let Ok(p) = js.get_key_value(PRESENCE_BUCKET).await {
                        let _ = tokio::time::timeout(
                            Duration::from_secs(1),
                            p.purge(presence_key(&self.config.wall, &self.console)),
                        )
                        .await;
                    }
                    return;
                }
                Ended::Lost(why) => {
                    let refused = is_refusal(&why);
                    self.lost(why, refused).await;
                    if !self.wait_refusing(jitter(Duration::from_millis(200))).await {
                        return;
                    }
                }
            }
        }
    }

    async fn session(
        &mut self,
        client: &async_nats::Client,
        events: &mut mpsc::UnboundedReceiver<async_nats::Event>,
    ) -> Ended {
        let js = jetstream::new(client.clone());
        let replicas = self.config.replicas.unwrap_or(1).clamp(1, 5);
        let expire = self.config.expire();
        let walls = match bucket(&js, WALL_BUCKET, 10, Duration::ZERO, replicas).await {
            Ok(b) => b,
            Err(e) => return Ended::Lost(e),
        };
        let presence_age = (expire * 5).max(Duration::from_secs(30));
        let heartbeats = match bucket(&js, PRESENCE_BUCKET, 1, presence_age, replicas).await {
            Ok(b) => b,
            Err(e) => return Ended::Lost(e),
        };
        let key = key_token(&self.config.wall);
        // The watch starts with the stream's latest value (the direct read below may come from a
        // replica that lags), then brings what changes.
        let mut watch = match walls.watch_with_history(&key).await {
            Ok(w) => w,
            Err(e) => return Ended::Lost(format!("watch: {e}")),
        };
        // The value now, at once.
        let mut revision = match walls.entry(&key).await {
            Ok(Some(e)) => {
                let r = e.revision;
                self.take(e).await;
                r
            }
            Ok(None) => {
                *self.last_good.lock().unwrap_or_else(|p| p.into_inner()) = SharedWall::default();
                self.tell(SyncUpdate::Wall {
                    revision: 0,
                    wall: Box::default(),
                })
                .await;
                0
            }
            Err(e) => return Ended::Lost(format!("read the wall: {e}")),
        };
        let pattern = format!("{key}.>");
        let mut consoles = match heartbeats.watch_with_history(&pattern).await {
            Ok(w) => w,
            Err(e) => return Ended::Lost(format!("watch the consoles: {e}")),
        };
        self.say(SyncUpdate::Link(LinkState::Up)).await;
        tracing::info!(wall = %self.config.wall, console = %self.console, "sync: in step");
        let own_key = presence_key(&self.config.wall, &self.console);
        // Pushes go one after another on a task of their own, so that a slow one (a cluster
        // electing its leader) holds up neither the heartbeat nor the watch. When the session
        // ends, what is still queued there is refused (the connection is not up).
        let (push_tx, mut push_rx) = mpsc::channel::<(u64, WallChange, Option<String>)>(256);
        {
            let walls = walls.clone();
            let key = key.clone();
            let console = self.console.clone();
            let up = self.up.clone();
            let wake = self.wake.clone();
            let violation = self.violation.clone();
            let last_good = std::sync::Arc::clone(&self.last_good);
            let client = client.clone();
            tokio::spawn(async move {
                while let Some((id, change, layout)) = push_rx.recv().await {
                    let base = last_good.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    let outcome = push(
                        &client,
                        &walls,
                        &key,
                        &change,
                        layout.as_deref(),
                        &base,
                        &console,
                        &violation,
                    )
                    .await;
                    if let Err(why) = &outcome {
                        tracing::warn!(?why, "sync: a push was refused");
                    }
                    let _ = up.send(SyncUpdate::Pushed { id, outcome }).await;
                    if let Some(w) = &wake {
                        w();
                    }
                }
            });
        }
        let mut seen: HashMap<String, (Presence, Instant)> = HashMap::new();
        let mut last_sent: Vec<Presence> = Vec::new();
        let mut beat = tokio::time::interval(self.config.heartbeat());
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut scan = tokio::time::interval(self.config.heartbeat() / 4);
        loop {
            tokio::select! {
                e = events.recv() => match e {
                    Some(async_nats::Event::Disconnected) => return Ended::Lost("disconnected from the broker".into()),
                    Some(async_nats::Event::Closed) => return Ended::Lost("the connection was closed".into()),
                    Some(async_nats::Event::ServerError(err)) => {
                        let why = err.to_string();
                        tracing::warn!(%why, "sync: the broker says");
                        // Credentials refused end the session; a denied subject does not (the
                        // push that met it says so).
                        let w = why.to_ascii_lowercase();
                        if w.contains("authorization") || w.contains("authentication") {
                            return Ended::Lost(why);
                        }
                    }
                    _ => {}
                },
                entry = watch.next() => match entry {
                    Some(Ok(e)) => {
                        if e.revision > revision {
                            revision = e.revision;
                            self.take(e).await;
                        }
                    }
                    Some(Err(e)) => return Ended::Lost(format!("watch: {e}")),
                    None => return Ended::Lost("the watch ended".into()),
                },
                entry = consoles.next() => match entry {
                    Some(Ok(e)) => {
                        if e.operation == kv::Operation::Put
                            && let Some(p) = Presence::decode(&e.value)
                        {
                            // Alive as of now by this console's clock (never the other PCs' or
                            // the broker's): a console dead just before this one started looks
                            // alive for one expiry.
                            seen.insert(e.key.clone(), (p, Instant::now()));
                        } else {
                            seen.remove(&e.key);
                        }
                    }
                    Some(Err(e)) => return Ended::Lost(format!("watch the consoles: {e}")),
                    None => return Ended::Lost("the consoles' watch ended".into()),
                },
                r = self.requests.recv() => match r {
                    None => return Ended::Closed,
                    Some(SyncRequest::Presence(p)) => self.presence = Some(*p),
                    Some(SyncRequest::Push { id, change, layout }) => {
                        if push_tx.try_send((id, change, layout)).is_err() {
                            let outcome = Err(PushRefused::Broker("too many pushes waiting".into()));
                            self.tell(SyncUpdate::Pushed { id, outcome }).await;
                        }
                    }
                },
                _ = beat.tick() => {
                    if let Some(p) = &mut self.presence {
                        p.at = chrono::Utc::now();
                        let bytes = p.encode();
                        match tokio::time::timeout(Duration::from_secs(2), heartbeats.put(&own_key, bytes.into())).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => return Ended::Lost(format!("heartbeat: {e}")),
                            Err(_) => tracing::warn!("sync: a heartbeat timed out"),
                        }
                    }
                },
                _ = scan.tick() => {
                    let mut alive: Vec<Presence> = seen
                        .values()
                        .filter(|(_, at)| at.elapsed() < expire)
                        .map(|(p, _)| p.clone())
                        .collect();
                    alive.sort_by(|a, b| a.console.cmp(&b.console));
                    // Sent when anything but the heartbeat's own time changed.
                    let same = alive.len() == last_sent.len()
                        && alive.iter().zip(&last_sent).all(|(a, b)| Presence { at: b.at, ..a.clone() } == *b);
                    if !same {
                        last_sent = alive.clone();
                        self.tell(SyncUpdate::Consoles(alive)).await;
                    }
                },
            }
        }
    }

    /// A value from the bucket: applied, or said to be bad (the last good one stays).
    async fn take(&mut self, e: kv::Entry) {
        let revision = e.revision;
        if e.operation != kv::Operation::Put {
            *self.last_good.lock().unwrap_or_else(|p| p.into_inner()) = SharedWall::default();
            self.tell(SyncUpdate::Wall {
                revision,
                wall: Box::default(),
            })
            .await;
            return;
        }
        match SharedWall::decode(&e.value) {
            Ok(wall) => {
                *self.last_good.lock().unwrap_or_else(|p| p.into_inner()) = wall.clone();
                self.tell(SyncUpdate::Wall {
                    revision,
                    wall: Box::new(wall),
                })
                .await;
            }
            Err(why) => {
                tracing::warn!(revision, ?why, wall = %self.config.wall, "sync: a value in the bucket is not applied");
                self.tell(SyncUpdate::Bad { revision, why }).await;
            }
        }
    }
}

/// A little randomness so consoles do not all come back in the same instant.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    d + d.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

/// Whether the broker's words say this console may not (credentials, permissions).
fn is_refusal(why: &str) -> bool {
    let w = why.to_ascii_lowercase();
    w.contains("authorization") || w.contains("permission") || w.contains("authentication")
}

async fn connect(
    config: &SyncConfig,
    ca_bundle: Option<&std::path::Path>,
    console: &str,
    events: mpsc::UnboundedSender<async_nats::Event>,
    violation: Violation,
) -> Result<async_nats::Client, (String, bool)> {
    let mut opts = match &config.credentials {
        None => async_nats::ConnectOptions::new(),
        Some(path) => match Credentials::read(path).map_err(|e| (e, true))? {
            Credentials::CredsFile(p) => async_nats::ConnectOptions::with_credentials_file(&p)
                .await
                .map_err(|e| (format!("the credentials file {}: {e}", p.display()), true))?,
            Credentials::Nkey(seed) => async_nats::ConnectOptions::with_nkey(seed),
            Credentials::UserPassword(u, p) => {
                async_nats::ConnectOptions::with_user_and_password(u, p)
            }
            Credentials::Token(t) => async_nats::ConnectOptions::with_token(t),
        },
    };
    if let Some(ca) = ca_bundle {
        opts = opts.add_root_certificates(ca.to_path_buf());
    }
    if config.servers.iter().any(|s| s.starts_with("tls://")) {
        opts = opts.require_tls(true);
    }
    opts = opts
        .name(format!("ioc-console {console}"))
        .connection_timeout(Duration::from_secs(3))
        .request_timeout(Some(Duration::from_secs(3)))
        .ping_interval(Duration::from_secs(2))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100 * attempts.min(20) as u64).max(100))
        })
        .event_callback(move |event| {
            if let async_nats::Event::ServerError(e) = &event {
                let text = e.to_string();
                if text.to_ascii_lowercase().contains("permission") {
                    *violation.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((Instant::now(), text));
                }
            }
            let events = events.clone();
            async move {
                let _ = events.send(event);
            }
        });
    let servers: Vec<async_nats::ServerAddr> = config
        .servers
        .iter()
        .map(|s| {
            s.parse().map_err(|e| {
                let s = crate::util::redact::redact(s);
                (format!("server address {s}: {e}"), false)
            })
        })
        .collect::<Result<_, _>>()?;
    if servers.is_empty() {
        return Err((
            "no NATS server is configured ([sync] servers)".into(),
            false,
        ));
    }
    opts.connect(servers).await.map_err(|e| {
        let refused = matches!(
            e.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation
                | async_nats::ConnectErrorKind::Authentication
        );
        let why = config
            .servers
            .iter()
            .fold(e.to_string(), |w, s| crate::util::redact::scrub(&w, s));
        (why, refused)
    })
}

/// The bucket `name`, made when it is not there yet.
async fn bucket(
    js: &jetstream::Context,
    name: &str,
    history: i64,
    max_age: Duration,
    replicas: usize,
) -> Result<kv::Store, String> {
    match js.get_key_value(name).await {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == jetstream::context::KeyValueErrorKind::GetBucket => {
            let made = js
                .create_key_value(kv::Config {
                    bucket: name.into(),
                    history,
                    max_age,
                    num_replicas: replicas,
                    max_value_size: crate::model::wall_share::MAX_VALUE_BYTES as i32,
                    ..Default::default()
                })
                .await;
            match made {
                Ok(b) => Ok(b),
                // Another console made it meanwhile.
                Err(e) => js
                    .get_key_value(name)
                    .await
                    .map_err(|_| format!("make the bucket {name}: {e}")),
            }
        }
        Err(e) => Err(format!("the bucket {name}: {e}")),
    }
}

/// Applies `change` to the wall's value under compare-and-swap: read, change, write if no other
/// console wrote meanwhile, else again. A timeout (a cluster electing a leader) is tried again
/// for a few seconds; the push is acknowledged only when the broker has stored it.
#[allow(clippy::too_many_arguments)]
async fn push(
    client: &async_nats::Client,
    walls: &kv::Store,
    key: &str,
    change: &WallChange,
    layout: Option<&str>,
    last_good: &SharedWall,
    console: &str,
    violation: &Violation,
) -> Result<u64, PushRefused> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(8);
    let mut lost = 0;
    loop {
        if client.connection_state() != async_nats::connection::State::Connected {
            return Err(PushRefused::NoLink(chrono::Utc::now()));
        }
        let attempt = async {
            let (mut wall, revision) = match walls.entry(key).await {
                Ok(Some(e)) if e.operation == kv::Operation::Put => {
                    match SharedWall::decode(&e.value) {
                        Ok(w) => (w, e.revision),
                        // A value this console cannot read is not overwritten by a change of
                        // it (a newer console's fields would be lost); clearing it or putting a
                        // layout replaces it whole.
                        Err(why) => match change {
                            WallChange::Clear | WallChange::Layout { .. } => {
                                (last_good.clone(), e.revision)
                            }
                            _ => return Err(Ok(Err(why))),
                        },
                    }
                }
                Ok(Some(e)) => (SharedWall::default(), e.revision),
                Ok(None) => (SharedWall::default(), 0),
                Err(e) => return Err(Err((format!("{e}"), false))),
            };
            if let Some(here) = layout {
                match &wall.layout {
                    Some(there)
                        if there != here && !matches!(change, WallChange::Layout { .. }) =>
                    {
                        return Err(Ok(Ok(there.clone())));
                    }
                    Some(_) => {}
                    None => wall.layout = Some(here.to_string()),
                }
            }
            wall.apply(change);
            wall.by = console.to_string();
            wall.at = Some(chrono::Utc::now());
            let bytes: bytes::Bytes = wall.encode().into();
            if revision == 0 {
                walls.create(key, bytes).await.map_err(|e| {
                    let again = e.kind() == kv::CreateErrorKind::AlreadyExists;
                    Err((format!("{e}"), again))
                })
            } else {
                walls.update(key, bytes, revision).await.map_err(|e| {
                    let again = e.kind() == kv::UpdateErrorKind::WrongLastRevision;
                    Err((format!("{e}"), again))
                })
            }
        };
        match attempt.await {
            Ok(rev) => return Ok(rev),
            Err(Ok(Ok(there))) => return Err(PushRefused::OtherLayout(there)),
            Err(Ok(Err(why))) => return Err(PushRefused::Unreadable(why)),
            Err(Err((_, true))) => {
                lost += 1;
                if lost >= CAS_TRIES {
                    return Err(PushRefused::Contended(lost));
                }
            }
            Err(Err((why, false))) => {
                let denied = violation
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_ref()
                    .filter(|(at, _)| *at >= started)
                    .map(|(_, w)| w.clone());
                if let Some(w) = denied {
                    return Err(PushRefused::Broker(w));
                }
                if Instant::now() >= deadline || is_refusal(&why) {
                    return Err(PushRefused::Broker(why));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// `wall status`: the wall's value and the consoles alive, read once.
pub async fn one_shot_status(
    config: &SyncConfig,
    ca_bundle: Option<&std::path::Path>,
) -> Result<
    (
        u64,
        Result<SharedWall, crate::model::wall_share::BadValue>,
        Vec<Presence>,
    ),
    String,
> {
    let (tx, _rx) = mpsc::unbounded_channel();
    let client = connect(config, ca_bundle, "wall-status", tx, Violation::default())
        .await
        .map_err(|(why, _)| why)?;
    let js = jetstream::new(client);
    let key = key_token(&config.wall);
    let replicas = config.replicas.unwrap_or(1);
    let walls = bucket(&js, WALL_BUCKET, 10, Duration::ZERO, replicas).await?;
    let (revision, wall) = match walls.entry(&key).await.map_err(|e| e.to_string())? {
        Some(e) if e.operation == kv::Operation::Put => (e.revision, SharedWall::decode(&e.value)),
        Some(e) => (e.revision, Ok(SharedWall::default())),
        None => (0, Ok(SharedWall::default())),
    };
    let presence_age = (config.expire() * 5).max(Duration::from_secs(30));
    let heartbeats = bucket(&js, PRESENCE_BUCKET, 1, presence_age, replicas).await?;
    let mut consoles = Vec::new();
    let prefix = format!("{key}.");
    if let Ok(mut keys) = heartbeats.keys().await {
        while let Some(Ok(k)) = keys.next().await {
            if !k.starts_with(&prefix) {
                continue;
            }
            if let Ok(Some(e)) = heartbeats.entry(&k).await {
                let age = chrono::Utc::now().timestamp() - e.created.unix_timestamp();
                if e.operation == kv::Operation::Put
                    && (age as f64) < config.expire().as_secs_f64() + 1.0
                    && let Some(p) = Presence::decode(&e.value)
                {
                    consoles.push(p);
                }
            }
        }
    }
    consoles.sort_by(|a, b| a.console.cmp(&b.console));
    Ok((revision, wall, consoles))
}

/// `wall push`: one change, acknowledged when stored; the new revision.
pub async fn one_shot_push(
    config: &SyncConfig,
    ca_bundle: Option<&std::path::Path>,
    change: &WallChange,
    layout: Option<&str>,
) -> Result<u64, String> {
    let (tx, _rx) = mpsc::unbounded_channel();
    let violation = Violation::default();
    let client = connect(config, ca_bundle, "wall-push", tx, violation.clone())
        .await
        .map_err(|(why, _)| why)?;
    let js = jetstream::new(client.clone());
    let key = key_token(&config.wall);
    let walls = bucket(
        &js,
        WALL_BUCKET,
        10,
        Duration::ZERO,
        config.replicas.unwrap_or(1),
    )
    .await?;
    let console = config.console_name();
    let rev = push(
        &client,
        &walls,
        &key,
        change,
        layout,
        &SharedWall::default(),
        &console,
        &violation,
    )
    .await
    .map_err(|e| match e {
        PushRefused::NoLink(_) => "no link to the broker".to_string(),
        PushRefused::Broker(w) => w,
        PushRefused::Contended(n) => {
            format!("other consoles changed the wall {n} times meanwhile")
        }
        PushRefused::OtherLayout(l) => format!("the wall shows layout {l}"),
        PushRefused::Unreadable(why) => {
            format!("the wall's value cannot be read ({why:?}); only --clear replaces it")
        }
    })?;
    let _ = client.flush().await;
    Ok(rev)
}
