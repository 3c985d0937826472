//! Sends the audit trail's rows to the backend (`POST /audit`), oldest first, in batches,
//! marking them sent once the backend has them; retried with backoff while it is away. A backend
//! without the endpoint (404) is said once and asked again rarely: the rows stay in the file.

use std::sync::Arc;
use std::time::Duration;

use super::backoff::Backoff;
use super::client::FetchError;
use super::ctx::Ctx;
use crate::model::AuditBatch;

/// Rows per request.
const BATCH: usize = 500;

pub(super) async fn audit_loop(ctx: Arc<Ctx>, audit: Arc<crate::audit::Audit>) {
    let mut backoff = Backoff::new(
        ctx.timing.backoff_base,
        ctx.timing.backoff_cap,
        0xA0D ^ std::process::id() as u64,
    );
    let idle = Duration::from_secs(10).mul_f64(ctx.timing.poll_scale.max(0.01));
    let mut said_missing = false;
    loop {
        let a = Arc::clone(&audit);
        let rows = match tokio::task::spawn_blocking(move || a.unsent(BATCH)).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(error)) => {
                tracing::error!(%error, "the audit trail cannot be read to send it");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
            Err(_) => return,
        };
        let Some(last) = rows.last().map(|r| r.seq) else {
            tokio::time::sleep(idle).await;
            continue;
        };
        let full = rows.len() == BATCH;
        let batch = AuditBatch { rows };
        let sent = match ctx.client.url("audit") {
            Ok(url) => {
                ctx.client
                    .send(ctx.client.http().post(url).json(&batch))
                    .await
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(_) => {
                backoff.reset();
                let a = Arc::clone(&audit);
                if let Ok(Err(error)) = tokio::task::spawn_blocking(move || a.mark_sent(last)).await
                {
                    tracing::error!(%error, "the audit trail cannot record what was sent");
                }
                if !full {
                    tokio::time::sleep(idle).await;
                }
            }
            Err(FetchError::Status { status: 404, .. }) => {
                if !said_missing {
                    tracing::warn!("the backend has no audit endpoint; the trail stays on this PC");
                    said_missing = true;
                }
                tokio::time::sleep(idle * 60).await;
            }
            Err(error) => {
                let delay = backoff.next_delay();
                tracing::warn!(%error, retry_in = ?delay, "audit rows not sent; will retry");
                tokio::time::sleep(delay).await;
            }
        }
    }
}
