//! One task per resource: fetch (incidents incrementally after the first whole list), parse off
//! the async workers, poll at the resource's interval, retry with jittered backoff.

use std::sync::Arc;

use chrono::Utc;

use super::backoff::Backoff;
use super::client::{Client, FetchError};
use super::ctx::Ctx;
use super::messages::{Payload, Update};
use super::parse;
use super::resource::Resource;
use crate::model::*;

pub(super) async fn fetch(
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

pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) async fn poll_loop(ctx: Arc<Ctx>, r: Resource, salt: u64) {
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
