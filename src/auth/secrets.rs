//! Where refresh tokens are kept: the desktop's Secret Service (through the `keyring` crate)
//! when the session has one, else this process's memory only (lost when the console stops).
//! Never a file in plain text. Each entry is one person's refresh token at one identity server
//! and client.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use super::oidc::Secret;

/// Which store holds the tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    SecretService,
    Memory,
}

/// A change for the Secret Service, made on the store's own thread: a D-Bus call (or a keyring
/// asking to be unlocked) never holds up the desk or a session's lock.
enum Op {
    Put(String, Secret),
    Remove(String),
    /// Answered once every change before it is made.
    Flush(Sender<()>),
}

pub struct SecretStore {
    kind: StoreKind,
    /// What the Secret Service said when it could not be used (for the log and the desk).
    why_memory: Option<String>,
    /// This process's word on each person it has kept a token for: the latest token, or `None`
    /// once removed. Ahead of the Secret Service (whose writes follow on their thread), and
    /// the only copy where there is none.
    memory: Mutex<HashMap<String, Option<Secret>>>,
    /// The prefix of every entry: issuer and client.
    prefix: String,
    /// The Secret Service's writer (none: memory only).
    writer: Option<Sender<Op>>,
}

const SERVICE: &str = "ioc-console";

/// How long a flush waits for the Secret Service.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

impl SecretStore {
    /// The Secret Service when `IOC_CONSOLE_SECRETS` is not "memory" and the desktop session
    /// has one; memory otherwise (said once in the log).
    pub fn open(issuer: &str, client_id: &str) -> SecretStore {
        let prefix = format!("{issuer} {client_id}");
        let wanted = std::env::var("IOC_CONSOLE_SECRETS").unwrap_or_default();
        let status = if wanted == "memory" {
            Err("memory asked for (IOC_CONSOLE_SECRETS=memory)".to_owned())
        } else {
            // No session bus: do not let the library try to start one.
            if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
                && std::env::var_os("XDG_RUNTIME_DIR")
                    .is_none_or(|d| !std::path::Path::new(&d).join("bus").exists())
            {
                Err("no D-Bus session bus".to_owned())
            } else {
                keyring::Entry::store_status()
                    .as_ref()
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                    .and_then(|_| {
                        // A store that cannot be read (locked, no collection) is no store.
                        let probe = keyring::Entry::new(SERVICE, &format!("{prefix} probe"))
                            .map_err(|e| e.to_string())?;
                        match probe.get_password() {
                            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
                            Err(e) => Err(e.to_string()),
                        }
                    })
            }
        };
        let writer = status.as_ref().ok().and_then(|()| {
            let (tx, rx) = channel::<Op>();
            let spawned = std::thread::Builder::new()
                .name("ioc-secrets".into())
                .spawn(move || {
                    for op in rx {
                        write(op);
                    }
                });
            match spawned {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::warn!(%e, "the Secret Service's thread could not start");
                    None
                }
            }
        });
        let (kind, why_memory) = match (status, &writer) {
            (Ok(()), Some(_)) => (StoreKind::SecretService, None),
            (Ok(()), None) => (StoreKind::Memory, Some("no thread for it".to_owned())),
            (Err(e), _) => {
                tracing::info!(reason = %e, "no Secret Service: refresh tokens are kept in memory only");
                (StoreKind::Memory, Some(e))
            }
        };
        SecretStore {
            kind,
            why_memory,
            memory: Mutex::new(HashMap::new()),
            prefix,
            writer,
        }
    }

    /// Memory only (tests, the demo).
    pub fn memory() -> SecretStore {
        SecretStore {
            kind: StoreKind::Memory,
            why_memory: None,
            memory: Mutex::new(HashMap::new()),
            prefix: String::new(),
            writer: None,
        }
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    pub fn why_memory(&self) -> Option<&str> {
        self.why_memory.as_deref()
    }

    fn user(&self, subject: &str) -> String {
        format!("{} {subject}", self.prefix)
    }

    fn mem(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<Secret>>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, op: Op) {
        if let Some(w) = &self.writer
            && w.send(op).is_err()
        {
            tracing::warn!(
                "the Secret Service's thread has stopped; tokens are kept in memory only"
            );
        }
    }

    /// Keeps a person's refresh token (replacing the one before): at once in this process,
    /// in the Secret Service right after (a failure there is logged, without the token, and
    /// the token stays in memory).
    pub fn put(&self, subject: &str, token: &Secret) {
        self.mem().insert(subject.to_owned(), Some(token.clone()));
        self.send(Op::Put(self.user(subject), token.clone()));
    }

    /// A person's refresh token: this process's latest word, else (a console restarted) the
    /// Secret Service's.
    pub fn get(&self, subject: &str) -> Option<Secret> {
        if let Some(t) = self.mem().get(subject) {
            return t.clone();
        }
        if self.kind == StoreKind::SecretService {
            return keyring::Entry::new(SERVICE, &self.user(subject))
                .and_then(|e| e.get_password())
                .ok()
                .map(Secret::new);
        }
        None
    }

    /// Forgets a person's refresh token: at once here, in the Secret Service right after.
    pub fn remove(&self, subject: &str) {
        self.mem().insert(subject.to_owned(), None);
        self.send(Op::Remove(self.user(subject)));
    }

    /// Waits (5 s at most) until the Secret Service has every change made so far; false if
    /// it has not.
    pub fn flush(&self) -> bool {
        let Some(w) = &self.writer else {
            return true;
        };
        let (tx, rx) = channel();
        w.send(Op::Flush(tx)).is_ok() && rx.recv_timeout(FLUSH_WAIT).is_ok()
    }
}

impl Drop for SecretStore {
    /// A console closing leaves the Secret Service what it was told (a restart takes queued
    /// authors up again from it), waiting a little for a slow one, never for ever.
    fn drop(&mut self) {
        if !self.flush() {
            tracing::warn!(
                "the Secret Service did not finish its changes before the console closed"
            );
        }
    }
}

/// One change made in the Secret Service (on its thread).
fn write(op: Op) {
    match op {
        Op::Put(user, token) => {
            let done =
                keyring::Entry::new(SERVICE, &user).and_then(|e| e.set_password(token.expose()));
            if let Err(e) = done {
                tracing::warn!(%e, "the Secret Service did not take a refresh token; it is kept in memory only");
            }
        }
        Op::Remove(user) => {
            let done = keyring::Entry::new(SERVICE, &user).and_then(|e| e.delete_credential());
            if let Err(e) = done
                && !matches!(e, keyring::Error::NoEntry)
            {
                tracing::warn!(%e, "a refresh token could not be removed from the Secret Service");
            }
        }
        Op::Flush(done) => {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_keeps_and_forgets_each_persons_token() {
        let s = SecretStore::memory();
        s.put("a", &Secret::new("r1"));
        s.put("b", &Secret::new("r2"));
        s.put("a", &Secret::new("r3"));
        assert_eq!(s.get("a"), Some(Secret::new("r3")));
        s.remove("a");
        assert_eq!(s.get("a"), None);
        assert_eq!(s.get("b"), Some(Secret::new("r2")));
        assert_eq!(format!("{:?}", s.get("b").unwrap()), "Secret(***)");
        assert!(s.flush(), "nothing to wait for");
    }
}
