//! The sessions of the people who signed in at this console: the one at the console now and
//! those before them in the shift whose actions may still wait in the outbox. Each keeps its
//! tokens; an access token is refreshed when it is within a minute of expiring. The UI and the
//! backend's tasks share one [`Sessions`].
//!
//! The rule for actions still queued when their author's session ends (docs/identity.md):
//! - the desk locked, or another person signed in (handover): the author's session is kept, so
//!   their actions go on being sent under their own name with their refreshed token;
//! - the author signed out: the console first tries to send their actions, then revokes the
//!   session; what is left is held, shown to whoever is at the console, and sent only when that
//!   person chooses to resend it under their own name (recorded in the audit trail); nothing is
//!   dropped silently and nothing goes under another person's name without them saying so;
//! - the session cannot be refreshed any more (revoked or expired at the server): the same as
//!   signed out;
//! - the console stopped (a crash, kill -9, a restart) with the author signed in, locked or handed
//!   over: their refresh token is still in the secret store, so the session is taken up again for
//!   their actions (not at the desk: nobody is signed in after a restart); with only the memory
//!   store, or a token the server no longer honours, the same as signed out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};

use super::oidc::{AuthError, Person, Provider, Secret, SignedIn};
use super::secrets::SecretStore;

/// Why no token can be had for a person's action.
#[derive(Clone, Debug, PartialEq)]
pub enum Unavailable {
    /// Their session ended (signed out, revoked, expired): the action is held.
    Ended(String),
    /// The identity server cannot be reached now: try again later.
    Retry(String),
}

#[derive(Default)]
struct Inner {
    /// The person at the console (None: nobody signed in).
    current: Option<String>,
    /// Every live session by subject (the current person's and those before them).
    live: HashMap<String, SignedIn>,
    /// Each live session's number (a sign-in), so that ending one never ends a later one.
    serials: HashMap<String, u64>,
    next_serial: u64,
    /// People signing out: no token of theirs is stored or taken up again.
    leaving: std::collections::HashSet<String>,
    /// Bumped on every change, for the UI to notice.
    generation: u64,
    /// What happened to sessions with nobody pressing a button, for the audit trail.
    events: Vec<SessionEvent>,
    /// People whose token could not be had a moment ago (the identity server away): not asked
    /// for again before then, so that each action of theirs does not wait on the server.
    cooling: HashMap<String, std::time::Instant>,
}

/// A session ended or taken up by the console itself (no one at the desk did it): the app
/// writes it to the audit trail.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionEvent {
    pub person: Person,
    /// `session.ended` or `session.resumed`.
    pub action: &'static str,
    /// Why, in words without any token.
    pub why: String,
}

/// A session's times, as the top bar shows them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// When it began on this console.
    pub since: chrono::DateTime<Utc>,
    /// When it ends at the latest, when the console can know (see `Tokens::session_ends`).
    pub ends: Option<chrono::DateTime<Utc>>,
}

pub struct Sessions {
    provider: tokio::sync::RwLock<Option<Provider>>,
    inner: Mutex<Inner>,
    secrets: SecretStore,
    /// One refresh at a time per session (two tasks wanting a token share the answer).
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = self.lock();
        f.debug_struct("Sessions")
            .field("current", &i.current)
            .field("live", &i.live.len())
            .finish()
    }
}

/// How long before its expiry an access token is refreshed.
const EARLY: i64 = 60;

/// How long a person's token is not asked for again after the identity server did not answer
/// (the keeper's tick).
const COOLING: std::time::Duration = std::time::Duration::from_secs(15);

impl Sessions {
    pub fn new(secrets: SecretStore) -> Arc<Sessions> {
        Arc::new(Sessions {
            provider: tokio::sync::RwLock::new(None),
            inner: Mutex::new(Inner::default()),
            secrets,
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn secrets(&self) -> &SecretStore {
        &self.secrets
    }

    /// The identity server, once discovered (discovery is retried by whoever needs it).
    pub async fn set_provider(&self, p: Provider) {
        *self.provider.write().await = Some(p);
    }

    pub async fn provider(&self) -> Option<Provider> {
        self.provider.read().await.clone()
    }

    /// A person signed in: they are at the console now. The person before them (a handover)
    /// keeps their session for their queued actions.
    pub fn signed_in(&self, s: SignedIn) {
        if let Some(r) = &s.tokens.refresh {
            self.secrets.put(&s.person.subject, r);
        }
        let mut i = self.lock();
        let subject = s.person.subject.clone();
        i.leaving.remove(&subject);
        i.next_serial += 1;
        let serial = i.next_serial;
        i.serials.insert(subject.clone(), serial);
        i.current = Some(subject.clone());
        i.live.insert(subject, s);
        i.generation += 1;
    }

    /// The person at the console signs out: nobody is at the console from now, their refresh
    /// token leaves the secret store at once (a console closed during the grace period does
    /// not take the session up again), and no refreshed token of theirs is stored again. The
    /// session itself lives on for a few seconds for their pending actions; the number returned
    /// ends exactly this one ([`Sessions::end_if`]).
    pub fn signing_out(&self, subject: &str) -> Option<u64> {
        let mut i = self.lock();
        i.leaving.insert(subject.to_owned());
        self.secrets.remove(subject);
        if i.current.as_deref() == Some(subject) {
            i.current = None;
        }
        i.generation += 1;
        i.serials.get(subject).copied()
    }

    /// Ends `subject`'s session if it is still the sign-in numbered `serial` (the person may
    /// have signed in again meanwhile: that one stays).
    pub fn end_if(&self, subject: &str, serial: Option<u64>) -> Option<SignedIn> {
        if self.lock().serials.get(subject).copied() != serial {
            return None;
        }
        self.end(subject)
    }

    /// The person at the console and their session's times.
    pub fn current(&self) -> Option<(Person, Span)> {
        let i = self.lock();
        let s = i.live.get(i.current.as_ref()?)?;
        let span = Span {
            since: s.since,
            ends: s.tokens.session_ends,
        };
        Some((s.person.clone(), span))
    }

    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The current person's access token while it is valid (reads of the backend).
    pub fn current_access(&self) -> Option<Secret> {
        let i = self.lock();
        let s = i.live.get(i.current.as_ref()?)?;
        (s.tokens.access_expires > Utc::now()).then(|| s.tokens.access.clone())
    }

    /// The live sessions of people not at the console (and not signing out), with their
    /// numbers.
    pub fn others(&self) -> Vec<(String, Option<u64>)> {
        let i = self.lock();
        i.live
            .keys()
            .filter(|k| i.current.as_ref() != Some(*k) && !i.leaving.contains(*k))
            .map(|k| (k.clone(), i.serials.get(k).copied()))
            .collect()
    }

    /// Whether `subject` has a live session here.
    pub fn is_live(&self, subject: &str) -> bool {
        self.lock().live.contains_key(subject)
    }

    /// The console is closing: the people with a live session and nothing queued (`queued`
    /// says), whose sessions the closing console ends ([`Sessions::end_because`]) and revokes;
    /// a restart signs nobody in, so a token kept for nothing would only wait to be stolen.
    /// The sessions of people with actions still queued stay in the store for the next start.
    pub fn closing(&self, queued: impl Fn(&str) -> bool) -> Vec<String> {
        self.lock()
            .live
            .keys()
            .filter(|k| !queued(k))
            .cloned()
            .collect()
    }

    /// Nobody at the console (the session kept for the person's queued actions).
    pub fn leave(&self) {
        let mut i = self.lock();
        i.current = None;
        i.generation += 1;
    }

    /// Ends `subject`'s session here: forgotten, its refresh token removed from the store, and
    /// returned for revocation at the server.
    pub fn end(&self, subject: &str) -> Option<SignedIn> {
        self.end_in(&mut self.lock(), subject)
    }

    fn end_in(&self, i: &mut Inner, subject: &str) -> Option<SignedIn> {
        self.secrets.remove(subject);
        if i.current.as_deref() == Some(subject) {
            i.current = None;
        }
        i.generation += 1;
        i.serials.remove(subject);
        i.cooling.remove(subject);
        i.live.remove(subject)
    }

    /// Ends `subject`'s session for a reason of the server's or the console's (not a sign-out
    /// at the desk, which the desk records itself), noted for the audit trail at the same
    /// moment. With `serial`, only that session ([`Sessions::end_if`]).
    pub fn end_because(
        &self,
        subject: &str,
        serial: Option<Option<u64>>,
        why: String,
    ) -> Option<SignedIn> {
        let mut i = self.lock();
        if serial.is_some_and(|n| i.serials.get(subject).copied() != n) {
            return None;
        }
        let ended = self.end_in(&mut i, subject)?;
        i.events.push(SessionEvent {
            person: ended.person.clone(),
            action: "session.ended",
            why,
        });
        Some(ended)
    }

    /// The backend refused `subject`'s access token though it had not expired (revoked, keys
    /// rotated): the next action of theirs asks the identity server for a new one.
    pub fn distrust(&self, subject: &str) {
        if let Some(s) = self.lock().live.get_mut(subject) {
            s.tokens.access_expires = Utc::now();
        }
    }

    /// What happened to sessions by themselves since the last call (oldest first).
    pub fn take_events(&self) -> Vec<SessionEvent> {
        std::mem::take(&mut self.lock().events)
    }

    /// A valid access token of `subject`, refreshed when it is within a minute of expiring.
    pub async fn token_for(&self, subject: &str) -> Result<Secret, Unavailable> {
        let fresh = |i: &Inner| {
            i.live.get(subject).and_then(|s| {
                (s.tokens.access_expires - Utc::now() > Duration::seconds(EARLY))
                    .then(|| s.tokens.access.clone())
            })
        };
        if let Some(t) = fresh(&self.lock()) {
            return Ok(t);
        }
        if let Some(wait) = self.cooling(subject) {
            return wait;
        }
        let _one = self.refreshing.lock().await;
        if let Some(t) = fresh(&self.lock()) {
            return Ok(t);
        }
        let Some(session) = self.lock().live.get(subject).cloned() else {
            return self.resume(subject).await;
        };
        if session.tokens.refresh.is_none() {
            if session.tokens.access_expires > Utc::now() {
                return Ok(session.tokens.access);
            }
            let why = "the session expired (no refresh token)";
            self.end_because(subject, None, why.into());
            return Err(Unavailable::Ended(why.into()));
        }
        let Some(provider) = self.provider().await else {
            return Err(Unavailable::Retry(
                "the identity server is not known yet".into(),
            ));
        };
        match provider.refresh(&session).await {
            Ok(next) => {
                let token = next.tokens.access.clone();
                // Stored (and kept) only while the session is live and its person not signing
                // out: a refresh that raced a sign-out leaves nothing behind.
                let mut i = self.lock();
                if i.live.contains_key(subject) {
                    if let Some(r) = &next.tokens.refresh
                        && !i.leaving.contains(subject)
                    {
                        self.secrets.put(subject, r);
                    }
                    i.live.insert(subject.to_owned(), next);
                    i.generation += 1;
                }
                i.cooling.remove(subject);
                Ok(token)
            }
            Err(e) => match self.failed(subject, e).await {
                // Not refreshed now, but the token in hand is still good for a while.
                Unavailable::Retry(_) if session.tokens.access_expires > Utc::now() => {
                    Ok(session.tokens.access)
                }
                why => Err(why),
            },
        }
    }

    /// While `subject`'s token could not be had a moment ago: the token in hand if it is still
    /// valid, else try again later (without asking the server).
    fn cooling(&self, subject: &str) -> Option<Result<Secret, Unavailable>> {
        let mut i = self.lock();
        let until = *i.cooling.get(subject)?;
        if until <= std::time::Instant::now() {
            i.cooling.remove(subject);
            return None;
        }
        Some(
            match i
                .live
                .get(subject)
                .filter(|s| s.tokens.access_expires > Utc::now())
            {
                Some(s) => Ok(s.tokens.access.clone()),
                None => Err(Unavailable::Retry(
                    "the identity server did not answer a moment ago; it is asked again shortly"
                        .into(),
                )),
            },
        )
    }

    /// No live session for `subject` here, but maybe a refresh token in the secret store: the
    /// console was restarted while their actions waited in the outbox. Taken up again (live, not
    /// at the console: nobody is signed in at the desk by a restart) if the server still honours
    /// it; otherwise their session has ended.
    async fn resume(&self, subject: &str) -> Result<Secret, Unavailable> {
        if self.lock().leaving.contains(subject) {
            return Err(Unavailable::Ended("signed out".into()));
        }
        let Some(refresh) = self.secrets.get(subject) else {
            return Err(Unavailable::Ended("signed out".into()));
        };
        let Some(provider) = self.provider().await else {
            return Err(Unavailable::Retry(
                "the identity server is not known yet".into(),
            ));
        };
        match provider.resume(subject, refresh).await {
            Ok(s) => {
                tracing::info!(subject, "a session taken up again from the secret store");
                let token = s.tokens.access.clone();
                let mut i = self.lock();
                if i.leaving.contains(subject) {
                    return Err(Unavailable::Ended("signed out".into()));
                }
                if let Some(r) = &s.tokens.refresh {
                    self.secrets.put(subject, r);
                }
                i.next_serial += 1;
                let serial = i.next_serial;
                i.serials.entry(subject.to_owned()).or_insert(serial);
                if !i.live.contains_key(subject) {
                    i.events.push(SessionEvent {
                        person: s.person.clone(),
                        action: "session.resumed",
                        why: "taken up from the secret store after a restart, for actions still queued"
                            .into(),
                    });
                    i.live.insert(subject.to_owned(), s);
                }
                i.generation += 1;
                Ok(token)
            }
            Err(e) => {
                let why = self.failed(subject, e).await;
                if let Unavailable::Ended(reason) = &why {
                    // Whatever the store held is of no use any more; the trail says the
                    // session the restart would have taken up has ended (by subject: the
                    // name was in the token the server no longer gives).
                    self.secrets.remove(subject);
                    self.lock().events.push(SessionEvent {
                        person: Person {
                            subject: subject.to_owned(),
                            name: subject.to_owned(),
                            username: None,
                            roles: Vec::new(),
                        },
                        action: "session.ended",
                        why: format!("not taken up after a restart ({reason})"),
                    });
                }
                Err(why)
            }
        }
    }

    /// What a failed refresh means for `subject`'s session. Only the server saying the grant is
    /// gone (`invalid_grant`) or that the person no longer holds a role of the console ends it
    /// (their actions are held); a server that is down or busy, or an answer the console cannot
    /// check yet, is tried again, and a signature that does not verify makes the keeper read
    /// the server's keys again (they may have been rotated).
    async fn failed(&self, subject: &str, e: AuthError) -> Unavailable {
        match e {
            e if e.transient() => {
                self.lock()
                    .cooling
                    .insert(subject.to_owned(), std::time::Instant::now() + COOLING);
                Unavailable::Retry(e.to_string())
            }
            AuthError::Refused { code, description } if code == "invalid_grant" => {
                tracing::warn!(%code, "a session could not be refreshed; it has ended");
                let why = format!("{code}: {description}");
                self.end_because(
                    subject,
                    None,
                    format!("the identity server ended it ({why})"),
                );
                Unavailable::Ended(why)
            }
            e @ (AuthError::NoRole { .. } | AuthError::NoRoleClaim { .. }) => {
                tracing::warn!(%e, "a session no longer gives a role of the console; it has ended");
                self.end_because(
                    subject,
                    None,
                    format!("no role of the console any more ({e})"),
                );
                Unavailable::Ended(e.to_string())
            }
            e @ AuthError::IdToken(_) => {
                tracing::warn!(%e, "a refreshed ID token did not verify; the server's keys are read again");
                *self.provider.write().await = None;
                Unavailable::Retry(e.to_string())
            }
            e => Unavailable::Retry(e.to_string()),
        }
    }

    /// Refreshes every live session whose access token is about to expire (the keeper's tick).
    pub async fn keep_fresh(&self) {
        let soon: Vec<String> = self
            .lock()
            .live
            .iter()
            .filter(|(_, s)| s.tokens.access_expires - Utc::now() <= Duration::seconds(EARLY))
            .map(|(k, _)| k.clone())
            .collect();
        for subject in soon {
            if let Err(e) = self.token_for(&subject).await {
                tracing::info!(?e, "a session could not be refreshed now");
            }
        }
    }
}
