//! Where refresh tokens are kept: the desktop's Secret Service (through the `keyring` crate)
//! when the session has one, else this process's memory only (lost when the console stops).
//! Never a file in plain text. Each entry is one person's refresh token at one identity server
//! and client.

use std::collections::HashMap;
use std::sync::Mutex;

use super::oidc::Secret;

/// Which store holds the tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    SecretService,
    Memory,
}

pub struct SecretStore {
    kind: StoreKind,
    /// What the Secret Service said when it could not be used (for the log and the desk).
    why_memory: Option<String>,
    memory: Mutex<HashMap<String, Secret>>,
    /// The prefix of every entry: issuer and client.
    prefix: String,
}

const SERVICE: &str = "ioc-console";

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
        let (kind, why_memory) = match status {
            Ok(()) => (StoreKind::SecretService, None),
            Err(e) => {
                tracing::info!(reason = %e, "no Secret Service: refresh tokens are kept in memory only");
                (StoreKind::Memory, Some(e))
            }
        };
        SecretStore {
            kind,
            why_memory,
            memory: Mutex::new(HashMap::new()),
            prefix,
        }
    }

    /// Memory only (tests, the demo).
    pub fn memory() -> SecretStore {
        SecretStore {
            kind: StoreKind::Memory,
            why_memory: None,
            memory: Mutex::new(HashMap::new()),
            prefix: String::new(),
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

    fn mem(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a person's refresh token (replacing the one before). A Secret Service that fails
    /// now keeps it in memory instead (logged without the token).
    pub fn put(&self, subject: &str, token: &Secret) {
        if self.kind == StoreKind::SecretService {
            let done = keyring::Entry::new(SERVICE, &self.user(subject))
                .and_then(|e| e.set_password(token.expose()));
            match done {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(%e, "the Secret Service did not take a refresh token; kept in memory")
                }
            }
        }
        self.mem().insert(subject.to_owned(), token.clone());
    }

    pub fn get(&self, subject: &str) -> Option<Secret> {
        if let Some(t) = self.mem().get(subject) {
            return Some(t.clone());
        }
        if self.kind == StoreKind::SecretService {
            return keyring::Entry::new(SERVICE, &self.user(subject))
                .and_then(|e| e.get_password())
                .ok()
                .map(Secret::new);
        }
        None
    }

    pub fn remove(&self, subject: &str) {
        self.mem().remove(subject);
        if self.kind == StoreKind::SecretService
            && let Ok(e) = keyring::Entry::new(SERVICE, &self.user(subject))
        {
            let _ = e.delete_credential();
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
    }
}
