//! The task of each source beside the backend (`external` describes them): its client and key,
//! then poll, send what came, back off on failure. Above `external` and the adapters' `fetch`
//! modules, which it calls, so that they need not know the task.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;

use super::backoff::Backoff;
use super::client::FetchError;
use super::ctx::Ctx;
use super::external::{Running, SourceConfig, SourceKind};
use super::messages::Update;
use super::resource::Resource;

/// Starts one source: its client and key (an unreadable key file is said, and tried again with
/// backoff), then its poll loop.
pub(super) async fn run(
    ctx: Arc<Ctx>,
    cfg: SourceConfig,
    feeds: Vec<Resource>,
    ca_bundle: Option<PathBuf>,
    salt: u64,
) {
    let mut backoff = Backoff::new(ctx.timing.backoff_base, ctx.timing.backoff_cap, salt);
    let running = loop {
        match Running::new(&cfg, feeds.clone(), ca_bundle.as_ref()) {
            Ok(r) => break Arc::new(r),
            Err(reason) => {
                tracing::error!(source = %cfg.id, %reason, "source cannot start");
                if !ctx
                    .send(Update::SourceFailed {
                        source: cfg.id.clone(),
                        name: cfg.name.clone(),
                        feeds: feeds.clone(),
                        stale_after: cfg.stale_after(),
                        error: FetchError::Unauthorized(reason),
                        at: Utc::now(),
                    })
                    .await
                {
                    return;
                }
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    };
    if let Ok(mut r) = ctx.externals.lock() {
        r.insert(cfg.id.clone(), Arc::clone(&running));
    }
    source_loop(ctx, running, salt).await;
}

/// One source's task: poll, send what came, back off on failure (at least the server's
/// `Retry-After`), poll again now on a refresh.
pub(super) async fn source_loop(ctx: Arc<Ctx>, src: Arc<Running>, salt: u64) {
    let mut refresh = ctx.refresh.subscribe();
    let mut backoff = Backoff::new(
        ctx.timing.backoff_base,
        ctx.timing.backoff_cap,
        salt.wrapping_mul(104_729) ^ std::process::id() as u64,
    );
    let id = src.cfg.id.clone();
    loop {
        let outcome = match src.cfg.kind {
            SourceKind::Open311 => super::open311::fetch::poll(&src).await,
            _ => super::stats::fetch::poll(&src).await,
        };
        let delay = match outcome {
            Ok(p) => {
                backoff.reset();
                for problem in p.problems.iter().take(20) {
                    tracing::warn!(source = %id, %problem, "source data not used");
                }
                let now = Utc::now();
                if !ctx
                    .send(Update::SourceLoaded {
                        source: id.clone(),
                        name: src.cfg.name.clone(),
                        feeds: src.feeds.clone(),
                        stale_after: src.cfg.stale_after().mul_f64(ctx.timing.stale_scale),
                        payload: p.payload,
                        problems: p.problems,
                        as_of: p.as_of.unwrap_or(now),
                        fetched_at: now,
                    })
                    .await
                {
                    return;
                }
                src.cfg.poll().mul_f64(ctx.timing.poll_scale)
            }
            Err(f) => {
                let error = src.redact(f.error);
                let delay = backoff.next_delay().max(f.retry_after.unwrap_or_default());
                tracing::warn!(source = %id, kind = src.cfg.kind.name(), %error, retry_in = ?delay, "source fetch failed");
                if !ctx
                    .send(Update::SourceFailed {
                        source: id.clone(),
                        name: src.cfg.name.clone(),
                        feeds: src.feeds.clone(),
                        stale_after: src.cfg.stale_after().mul_f64(ctx.timing.stale_scale),
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
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = refresh.changed() => {}
        }
    }
}
