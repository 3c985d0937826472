//! Sending the outbox's actions to the backend: one attempt classified into an [`Outcome`]
//! (acknowledged, conflict, refused, retry), and a flush of everything pending. The outbox
//! itself (`crate::outbox`) only records; this is its HTTP side.

use super::{Client, FetchError};
use crate::outbox::{Entry, Outbox, OutboxError, Outcome};

/// Sends one recorded action and classifies the answer (does not record it: see
/// [`Outbox::record`]).
pub async fn send(client: &Client, entry: &Entry) -> Outcome {
    send_as(client, entry, None).await
}

/// [`send`] with the bearer token of the action's author (else the client's own).
pub async fn send_as(
    client: &Client,
    entry: &Entry,
    token: Option<&crate::auth::Secret>,
) -> Outcome {
    let answer = client
        .post_action_as(&entry.incident_id, &entry.request, &entry.key, token)
        .await;
    classify(entry, answer)
}

/// What the backend's answer to one action means for it.
pub fn classify(entry: &Entry, answer: Result<super::client::Body, FetchError>) -> Outcome {
    match answer {
        // Any 2xx means the backend applied it; an answer we cannot read must not make us
        // resend it forever (the backend replays the same body for the same key).
        Ok(body) => match super::parse::incident(&body) {
            Ok(i) if i.id == entry.incident_id => Outcome::Acked(Box::new(i)),
            Ok(i) => Outcome::AckedUnread(format!(
                "the answer is incident {}, not {}",
                i.id, entry.incident_id
            )),
            Err(e) => {
                tracing::warn!(%e, key = %entry.key, "action acknowledged with an unreadable answer");
                Outcome::AckedUnread(e.to_string())
            }
        },
        Err(FetchError::Status {
            status: 409,
            message,
            ..
        }) => Outcome::Conflict(message),
        // The backend's answer is the authority: client errors (invalid transition, unknown
        // incident, 403) are shown, not retried forever. 408 and 429 are worth another try.
        Err(FetchError::Status {
            status, message, ..
        }) if (400..500).contains(&status) && status != 408 && status != 429 => {
            Outcome::Refused(message)
        }
        Err(FetchError::Forbidden(m)) => Outcome::Refused(m),
        Err(FetchError::Unauthorized(m)) => Outcome::Retry(format!("authentication failed: {m}")),
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Sends every pending action once, oldest first; stops at the first that must be retried (the
/// backend is probably down). Returns the outcomes. An action made by a person signed in at a
/// desk is left for that desk, which sends it with the person's own token: never under this
/// command's token.
pub async fn flush(outbox: &Outbox, client: &Client) -> Result<Vec<(Entry, Outcome)>, OutboxError> {
    let mut done = Vec::new();
    for entry in outbox.pending()? {
        if let Some(author) = &entry.author {
            tracing::info!(key = %entry.key, author, "left for the desk: made by a person signed in there");
            continue;
        }
        let outcome = send(client, &entry).await;
        outbox.record(&entry.key, &outcome)?;
        let retry = matches!(outcome, Outcome::Retry(_));
        done.push((entry, outcome));
        if retry {
            break;
        }
    }
    Ok(done)
}
