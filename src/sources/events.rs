//! The SSE task: follow the event stream (resuming with Last-Event-ID), say when it is up or
//! down, and have everything fetched again when a gap cannot be resumed.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::backoff::Backoff;
use super::client::FetchError;
use super::ctx::Ctx;
use super::messages::Update;
use super::{parse, sse};

pub(super) async fn stream_loop(ctx: Arc<Ctx>) {
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
pub(super) async fn read_stream(
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
            if !ctx
                .send_quietly(Update::StreamAlive { at: Utc::now() })
                .await
            {
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
