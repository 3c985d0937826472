//! The request task and the outbox sender: record operator actions before sending them, send
//! the pending ones oldest first with backoff, and drive the simulator's trainer controls.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::actions;
use super::backoff::Backoff;
use super::client::{Client, FetchError};
use super::ctx::Ctx;
use super::messages::{Request, Update};
use super::parse;
use crate::model::sim::SimStatus;
use crate::model::*;

/// Runs an outbox operation off the async workers (SQLite writes and fsyncs).
pub(super) async fn with_outbox<T: Send + 'static>(
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

pub(super) async fn send_outbox_state(ctx: &Ctx) {
    if let Ok(entries) = with_outbox(ctx, |o| o.recent(200)).await {
        ctx.send(Update::Outbox(entries)).await;
    }
}

/// Sends what the outbox holds, retrying with backoff while the backend is away.
pub(super) async fn outbox_loop(ctx: Arc<Ctx>) {
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
        // What cannot go now, and what must wait behind it: the actions on an incident go in
        // the order they were made; one that waits for its author's token (the identity server
        // away) holds up that author's, one whose source beside the backend is away that
        // source's; only the backend being away holds up everything.
        let mut waiting_incidents = std::collections::HashSet::new();
        let mut waiting_authors = std::collections::HashSet::<String>::new();
        let mut waiting_sources = std::collections::HashSet::new();
        for entry in pending {
            if waiting_incidents.contains(&entry.incident_id)
                || entry
                    .author
                    .as_ref()
                    .is_some_and(|a| waiting_authors.contains(a))
                || entry
                    .incident_id
                    .split_once(':')
                    .is_some_and(|(s, _)| waiting_sources.contains(s))
            {
                waiting_incidents.insert(entry.incident_id.clone());
                continue;
            }
            let (outcome, stall) = send_action(&ctx, &entry).await;
            let key = entry.key.clone();
            let recorded = {
                let outcome = outcome.clone();
                with_outbox(&ctx, move |o| o.record(&key, &outcome)).await
            };
            if let Err(e) = recorded {
                tracing::error!(?e, "cannot record an action's outcome");
            }
            let mut stop = false;
            match outcome {
                crate::outbox::Outcome::AckedUnread(_) => ctx.refresh_all(),
                crate::outbox::Outcome::Acked(incident) => {
                    ctx.send(Update::Event(Event::Incident(incident))).await;
                }
                crate::outbox::Outcome::Retry(reason) => {
                    tracing::warn!(%reason, key = %entry.key, "action not sent; will retry");
                    retry = true;
                    waiting_incidents.insert(entry.incident_id.clone());
                    match stall {
                        Stall::Everything => stop = true,
                        Stall::Author => waiting_authors.extend(entry.author.clone()),
                        Stall::Source(s) => {
                            waiting_sources.insert(s);
                        }
                        Stall::Incident => {}
                    }
                }
                other => tracing::warn!(outcome = ?other, key = %entry.key, "action not applied"),
            }
            send_outbox_state(&ctx).await;
            if stop {
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

/// What a [`crate::outbox::Outcome::Retry`] holds up.
#[derive(Clone, Debug, PartialEq)]
enum Stall {
    /// The backend is away: nothing else would go either.
    Everything,
    /// No token for the author now (the identity server away): their actions and those after
    /// them on the same incident.
    Author,
    /// Its source beside the backend is away or has not started: that source's actions.
    Source(String),
    /// Nothing else: only the actions after it on the same incident.
    Incident,
}

/// Sends an action to the source of its incident: a source beside the backend (its id before
/// the incident's ':'), else the IOC backend; and, when it must be tried again, what that
/// holds up.
async fn send_action(ctx: &Ctx, entry: &crate::outbox::Entry) -> (crate::outbox::Outcome, Stall) {
    if let Some((source, remote)) = entry.incident_id.split_once(':')
        && ctx.external_ids.iter().any(|i| i == source)
    {
        {
            let running = ctx
                .externals
                .lock()
                .ok()
                .and_then(|r| r.get(source).cloned());
            return match running {
                Some(r) => (
                    super::open311::fetch::send_update(&r, entry, remote).await,
                    Stall::Source(source.to_owned()),
                ),
                None => (
                    crate::outbox::Outcome::Retry(format!("source {source} has not started yet")),
                    Stall::Source(source.to_owned()),
                ),
            };
        }
    }
    // An action made by a person signed in goes with their own token, refreshed as needed;
    // when none can be had any more (they signed out), it is held for someone to resend.
    let token = match (&entry.author, &ctx.sessions) {
        (None, _) => None,
        (Some(_), None) => {
            return (
                crate::outbox::Outcome::Held(
                    "this console no longer signs people in; resend it under your name".into(),
                ),
                Stall::Incident,
            );
        }
        (Some(subject), Some(sessions)) => match sessions.token_for(subject).await {
            Ok(t) => Some(t),
            Err(crate::auth::session::Unavailable::Ended(why)) => {
                return (crate::outbox::Outcome::Held(why), Stall::Incident);
            }
            Err(crate::auth::session::Unavailable::Retry(why)) => {
                return (crate::outbox::Outcome::Retry(why), Stall::Author);
            }
        },
    };
    let answer = ctx
        .client
        .post_action_as(
            &entry.incident_id,
            &entry.request,
            &entry.key,
            token.as_ref(),
        )
        .await;
    // The backend refusing a person's token (revoked, keys rotated) is about that person: a
    // new token is asked for theirs, and everyone else's actions go on.
    let stall = match (&answer, &entry.author, &ctx.sessions) {
        (Err(FetchError::Unauthorized(_)), Some(subject), Some(sessions)) => {
            sessions.distrust(subject);
            Stall::Author
        }
        _ => Stall::Everything,
    };
    (actions::classify(entry, answer), stall)
}

pub(super) async fn request_loop(ctx: Arc<Ctx>, mut rx: mpsc::Receiver<Request>) {
    while let Some(req) = rx.recv().await {
        match req {
            Request::Refresh => ctx.refresh_all(),
            Request::Act {
                incident_id,
                request,
                author,
            } => {
                let id = incident_id.clone();
                match with_outbox(&ctx, move |o| {
                    o.enqueue_by(&id, &request, author.as_deref())
                })
                .await
                {
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
            Request::WakeOutbox => ctx.outbox_wake.notify_one(),
            Request::Barrier(reply) => reply.answer(),
            Request::ResendAs { key } => {
                let Some((person, _)) = ctx.sessions.as_ref().and_then(|s| s.current()) else {
                    tracing::warn!(%key, "a held action can be resent only by someone signed in");
                    continue;
                };
                let resent = with_outbox(&ctx, move |o| {
                    o.resend_as(&key, &person.subject, &person.name)
                })
                .await;
                if let Err(e) = resent {
                    tracing::error!(?e, "cannot resend a held action");
                }
                send_outbox_state(&ctx).await;
                ctx.outbox_wake.notify_one();
            }
            Request::Discard { key } => {
                if let Err(e) = with_outbox(&ctx, move |o| o.discard(&key)).await {
                    tracing::error!(?e, "cannot discard an action");
                }
                send_outbox_state(&ctx).await;
            }
            Request::Reapply { key, version } => {
                // With sign-in, the decision taken again is the person's at the console now.
                let by = match ctx.sessions.as_ref() {
                    None => None,
                    Some(s) => match s.current() {
                        Some((p, _)) => Some((p.subject, p.name)),
                        None => {
                            tracing::warn!(%key, "an action can be applied again only by someone signed in");
                            continue;
                        }
                    },
                };
                let reapplied = with_outbox(&ctx, move |o| {
                    o.reapply_as(
                        &key,
                        version,
                        by.as_ref().map(|(a, n)| (a.as_str(), n.as_str())),
                    )
                })
                .await;
                if let Err(e) = reapplied {
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

pub(super) async fn sim_get(client: &Client) -> Result<SimStatus, FetchError> {
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

pub(super) async fn sim_post_raw<T: serde::Serialize>(
    client: &Client,
    path: &str,
    body: &T,
) -> Result<Vec<u8>, FetchError> {
    let url = client.sim_url(path)?;
    Ok(client
        .send(client.http().post(url).json(body))
        .await?
        .into_vec())
}

pub(super) async fn sim_post<T: serde::Serialize>(
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
