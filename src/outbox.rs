//! The outbox: every operator action is written to a local SQLite database (WAL, synchronous
//! FULL) *before* it is sent, sent with its idempotency key, retried until the backend answers,
//! and kept with that answer. A console killed at any moment sends each action exactly once after
//! it restarts (the backend deduplicates by key). A conflict (the incident changed meanwhile) is
//! kept for the operator to decide; a full or unwritable outbox refuses the action instead of
//! dropping it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::model::{ActionRequest, Incident};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("cannot open the outbox {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the outbox is full (disk full or quota reached); the action was not recorded")]
    Full,
    #[error("cannot write to the outbox: {0}")]
    Write(String),
}

/// Why an action was refused before it was sent, for the operator (in their language).
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// This console has no usable outbox.
    NoOutbox,
    /// The outbox (its disk) is full.
    Full,
    /// Another error writing the outbox.
    Write(String),
}

impl Refusal {
    pub fn words(&self, lang: crate::i18n::Lang) -> String {
        match self {
            Refusal::NoOutbox => crate::i18n::tr(lang, "outbox.unavailable").to_owned(),
            Refusal::Full => crate::i18n::tr(lang, "outbox.full").to_owned(),
            Refusal::Write(e) => crate::i18n::tr_args(lang, "outbox.write", &[("error", e)]),
        }
    }
}

impl From<&OutboxError> for Refusal {
    fn from(e: &OutboxError) -> Self {
        match e {
            OutboxError::Full => Refusal::Full,
            other => Refusal::Write(other.to_string()),
        }
    }
}

fn write_err(e: rusqlite::Error) -> OutboxError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => OutboxError::Full,
        _ => OutboxError::Write(e.to_string()),
    }
}

/// Where an action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// Written, not yet acknowledged (being sent or waiting to retry).
    Pending,
    /// The backend applied it.
    Acked,
    /// Someone else changed the incident first; the operator decides.
    Conflict,
    /// The backend refused it for good (invalid transition, no permission).
    Refused,
    /// The operator dropped it after a conflict.
    Discarded,
    /// The backend answered 2xx, but not with the incident: not resent (it may have been
    /// applied), shown to the operator to check.
    Unconfirmed,
    /// Its author's session ended before it could be sent (signed out, or the session revoked):
    /// kept, shown, and sent only when someone resends it under their own name.
    Held,
}

impl EntryState {
    fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Acked => "acked",
            EntryState::Conflict => "conflict",
            EntryState::Refused => "refused",
            EntryState::Discarded => "discarded",
            EntryState::Unconfirmed => "unconfirmed",
            EntryState::Held => "held",
        }
    }
    fn parse(s: &str) -> EntryState {
        match s {
            "acked" => EntryState::Acked,
            "conflict" => EntryState::Conflict,
            "refused" => EntryState::Refused,
            "discarded" => EntryState::Discarded,
            "unconfirmed" => EntryState::Unconfirmed,
            "held" => EntryState::Held,
            _ => EntryState::Pending,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub incident_id: String,
    pub request: ActionRequest,
    pub created_at: String,
    pub state: EntryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Who made it: the subject of the person signed in (their token sends it); none on a
    /// console without sign-in.
    pub author: Option<String>,
}

/// What one sending attempt came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Acked(Box<Incident>),
    /// A 2xx answer that is not the incident: perhaps applied; not resent, shown to check.
    AckedUnread(String),
    Conflict(String),
    Refused(String),
    /// Try again later (network down, 5xx, timeouts).
    Retry(String),
    /// No token of its author can be had any more: held for someone to resend.
    Held(String),
}

pub struct Outbox {
    conn: Mutex<Connection>,
    pub path: PathBuf,
}

/// A fresh idempotency key: 128 random bits from the OS.
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    let got = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if got.is_err() {
        // No urandom: time, process and a counter are still unique on this machine.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&(t as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&(n ^ ((std::process::id() as u64) << 32)).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Outbox {
    /// The default location: `$XDG_DATA_HOME/ioc-console/outbox.sqlite`.
    pub fn default_path() -> PathBuf {
        directories::ProjectDirs::from("", "", "ioc-console")
            .map(|d| d.data_dir().join("outbox.sqlite"))
            .unwrap_or_else(|| std::env::temp_dir().join("ioc-console-outbox.sqlite"))
    }

    pub fn open(path: &Path) -> Result<Outbox, OutboxError> {
        Self::open_limited(path, None)
    }

    /// Opens with at most `max_pages` database pages (tests use it to fill the outbox).
    pub fn open_limited(path: &Path, max_pages: Option<u32>) -> Result<Outbox, OutboxError> {
        let fail = |reason: String| OutboxError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        // A desk and `ioc-console act` share the file: wait for the other from the first
        // statement on (switching a new file to WAL takes the lock too).
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| fail(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| fail(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail(e.to_string()))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS actions (
                key TEXT PRIMARY KEY,
                seq INTEGER NOT NULL,
                incident_id TEXT NOT NULL,
                request TEXT NOT NULL,
                created_at TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                response TEXT
            );
            CREATE INDEX IF NOT EXISTS actions_state ON actions(state, seq);",
        )
        .map_err(|e| fail(e.to_string()))?;
        // Outboxes written before sign-in existed have no author column.
        let has_author = conn
            .prepare("SELECT 1 FROM pragma_table_info('actions') WHERE name = 'author'")
            .and_then(|mut st| st.exists([]))
            .map_err(|e| fail(e.to_string()))?;
        if !has_author {
            conn.execute_batch("ALTER TABLE actions ADD COLUMN author TEXT")
                .map_err(|e| fail(e.to_string()))?;
        }
        if let Some(pages) = max_pages {
            let _: i64 = conn
                .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                    r.get(0)
                })
                .map_err(|e| fail(e.to_string()))?;
        }
        Ok(Outbox {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an action; only once this returns is it safe to send (or to tell the operator it
    /// is pending). Returns its idempotency key.
    pub fn enqueue(
        &self,
        incident_id: &str,
        request: &ActionRequest,
    ) -> Result<String, OutboxError> {
        self.enqueue_by(incident_id, request, None)
    }

    /// [`Outbox::enqueue`] by the person signed in as `author` (their token will send it).
    pub fn enqueue_by(
        &self,
        incident_id: &str,
        request: &ActionRequest,
        author: Option<&str>,
    ) -> Result<String, OutboxError> {
        let key = new_key();
        let json = serde_json::to_string(request).map_err(|e| OutboxError::Write(e.to_string()))?;
        let now = chrono::Utc::now().to_rfc3339();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO actions (key, seq, incident_id, request, created_at, state, author)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM actions), ?2, ?3, ?4, 'pending', ?5)",
            params![key, incident_id, json, now, author],
        )
        .map_err(write_err)?;
        Ok(key)
    }

    fn entries_where(&self, clause: &str, limit: usize) -> Result<Vec<Entry>, OutboxError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT key, incident_id, request, created_at, state, attempts, last_error, author FROM actions {clause} LIMIT {limit}"
        );
        let mut stmt = conn.prepare(&sql).map_err(write_err)?;
        let rows = stmt
            .query_map([], |r| {
                let request: String = r.get(2)?;
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    request,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, u32>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(write_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (key, incident_id, request, created_at, state, attempts, last_error, author) =
                row.map_err(write_err)?;
            // A row we cannot read back is reported, not silently skipped.
            let request = serde_json::from_str(&request)
                .map_err(|e| OutboxError::Write(format!("action {key}: {e}")))?;
            out.push(Entry {
                key,
                incident_id,
                request,
                created_at,
                state: EntryState::parse(&state),
                attempts,
                last_error,
                author,
            });
        }
        Ok(out)
    }

    /// Actions still to be sent, oldest first.
    pub fn pending(&self) -> Result<Vec<Entry>, OutboxError> {
        self.entries_where("WHERE state = 'pending' ORDER BY seq", 10_000)
    }

    /// How many actions wait to be sent, and when the oldest of them was recorded (RFC 3339).
    pub fn pending_summary(&self) -> Result<(u64, Option<String>), OutboxError> {
        let conn = self.conn();
        conn.query_row(
            "SELECT COUNT(*), MIN(created_at) FROM actions WHERE state = 'pending'",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?.max(0) as u64,
                    r.get::<_, Option<String>>(1)?,
                ))
            },
        )
        .map_err(write_err)
    }

    /// The newest actions of every state (for the operator's view).
    pub fn recent(&self, limit: usize) -> Result<Vec<Entry>, OutboxError> {
        self.entries_where("ORDER BY seq DESC", limit)
    }

    /// Records what sending came to.
    pub fn record(&self, key: &str, outcome: &Outcome) -> Result<(), OutboxError> {
        let conn = self.conn();
        let (state, error, response) = match outcome {
            Outcome::Acked(i) => (EntryState::Acked, None, serde_json::to_string(i).ok()),
            Outcome::AckedUnread(m) => (EntryState::Unconfirmed, Some(m.clone()), None),
            Outcome::Conflict(m) => (EntryState::Conflict, Some(m.clone()), None),
            Outcome::Refused(m) => (EntryState::Refused, Some(m.clone()), None),
            Outcome::Retry(m) => (EntryState::Pending, Some(m.clone()), None),
            Outcome::Held(m) => (EntryState::Held, Some(m.clone()), None),
        };
        conn.execute(
            "UPDATE actions SET state = ?2, attempts = attempts + 1, last_error = ?3, response = COALESCE(?4, response) WHERE key = ?1",
            params![key, state.as_str(), error, response],
        )
        .map_err(write_err)?;
        Ok(())
    }

    /// The operator drops a conflicting action, or a held one nobody will resend.
    pub fn discard(&self, key: &str) -> Result<(), OutboxError> {
        self.conn()
            .execute(
                "UPDATE actions SET state = 'discarded' WHERE key = ?1 AND state IN ('conflict', 'held')",
                params![key],
            )
            .map_err(write_err)?;
        Ok(())
    }

    /// Actions held because their author's session ended, oldest first.
    pub fn held(&self) -> Result<Vec<Entry>, OutboxError> {
        self.entries_where("WHERE state = 'held' ORDER BY seq", 10_000)
    }

    /// The person at the console resends a held action under their own name: its author and
    /// the name it carries become theirs, and it is pending again (same key: had the backend
    /// taken an earlier attempt, it answers with that one). False when it is not held.
    pub fn resend_as(&self, key: &str, author: &str, name: &str) -> Result<bool, OutboxError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(write_err)?;
        let found: Option<String> = tx
            .query_row(
                "SELECT request FROM actions WHERE key = ?1 AND state = 'held'",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(write_err)?;
        let Some(request) = found else {
            return Ok(false);
        };
        let mut request: ActionRequest =
            serde_json::from_str(&request).map_err(|e| OutboxError::Write(e.to_string()))?;
        request.actor = Some(name.to_owned());
        let json =
            serde_json::to_string(&request).map_err(|e| OutboxError::Write(e.to_string()))?;
        tx.execute(
            "UPDATE actions SET state = 'pending', author = ?2, request = ?3, last_error = NULL WHERE key = ?1",
            params![key, author, json],
        )
        .map_err(write_err)?;
        tx.commit().map_err(write_err)?;
        Ok(true)
    }

    /// The operator applies a conflicting action again, decided on `version`: it becomes a new
    /// action (a new key), and the old one is closed.
    pub fn reapply(&self, key: &str, version: u64) -> Result<Option<String>, OutboxError> {
        self.reapply_as(key, version, None)
    }

    /// [`Outbox::reapply`] by the person signed in (`by`: their subject and name): the new
    /// decision is theirs, goes under their name and with their token, whoever made the first.
    pub fn reapply_as(
        &self,
        key: &str,
        version: u64,
        by: Option<(&str, &str)>,
    ) -> Result<Option<String>, OutboxError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(write_err)?;
        let found: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT incident_id, request, author FROM actions WHERE key = ?1 AND state = 'conflict'",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(write_err)?;
        let Some((incident_id, request, author)) = found else {
            return Ok(None);
        };
        let request: ActionRequest =
            serde_json::from_str(&request).map_err(|e| OutboxError::Write(e.to_string()))?;
        let (author, actor) = match by {
            Some((subject, name)) => (Some(subject.to_owned()), Some(name.to_owned())),
            None => (author, request.actor.clone()),
        };
        let request = ActionRequest {
            expected_version: Some(version),
            actor,
            ..request
        };
        let json =
            serde_json::to_string(&request).map_err(|e| OutboxError::Write(e.to_string()))?;
        let new = new_key();
        // Closing the old action and recording the new one happen together or not at all.
        tx.execute(
            "UPDATE actions SET state = 'discarded' WHERE key = ?1 AND state = 'conflict'",
            params![key],
        )
        .map_err(write_err)?;
        tx.execute(
            "INSERT INTO actions (key, seq, incident_id, request, created_at, state, author)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM actions), ?2, ?3, ?4, 'pending', ?5)",
            params![new, incident_id, json, chrono::Utc::now().to_rfc3339(), author],
        )
        .map_err(write_err)?;
        tx.commit().map_err(write_err)?;
        Ok(Some(new))
    }

    /// The acknowledged answer of an action, if any.
    pub fn response(&self, key: &str) -> Result<Option<Incident>, OutboxError> {
        let r: Option<Option<String>> = self
            .conn()
            .query_row(
                "SELECT response FROM actions WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(write_err)?;
        Ok(r.flatten().and_then(|s| serde_json::from_str(&s).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActionKind;

    fn req() -> ActionRequest {
        ActionRequest {
            action: ActionKind::Verify,
            unit_id: None,
            note: None,
            expected_version: Some(3),
            actor: Some("t".into()),
        }
    }

    #[test]
    fn actions_survive_reopening_and_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/outbox.sqlite");
        let keys: Vec<String> = {
            let o = Outbox::open(&path).unwrap();
            (0..3)
                .map(|i| o.enqueue(&format!("PA-{i}"), &req()).unwrap())
                .collect()
        };
        let o = Outbox::open(&path).unwrap();
        let pending = o.pending().unwrap();
        assert_eq!(
            pending.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
            keys
        );
        assert_eq!(pending[0].request, req());
        o.record(&keys[0], &Outcome::Retry("down".into())).unwrap();
        o.record(&keys[1], &Outcome::Conflict("changed".into()))
            .unwrap();
        let pending = o.pending().unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].attempts, 1);
        assert_eq!(pending[0].last_error.as_deref(), Some("down"));
        let new = o.reapply(&keys[1], 7).unwrap().unwrap();
        let again = o.pending().unwrap();
        assert_eq!(again.last().unwrap().key, new);
        assert_eq!(again.last().unwrap().request.expected_version, Some(7));
        assert!(
            o.recent(10)
                .unwrap()
                .iter()
                .any(|e| e.key == keys[1] && e.state == EntryState::Discarded)
        );
        let mode: String = o
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_ne!(new_key(), new_key());
        assert_eq!(new_key().len(), 32);
    }

    #[test]
    fn a_decision_taken_again_or_dropped_is_the_person_at_the_console() {
        let dir = tempfile::tempdir().unwrap();
        let o = Outbox::open(&dir.path().join("o.sqlite")).unwrap();
        let pending = |k: &str| {
            o.pending()
                .unwrap()
                .into_iter()
                .find(|e| e.key == k)
                .unwrap()
        };
        // A's action in conflict, applied again by B: B's decision, under B's name.
        let a = o.enqueue_by("PA-1", &req(), Some("op-a")).unwrap();
        o.record(&a, &Outcome::Conflict("changed".into())).unwrap();
        let again = o
            .reapply_as(&a, 9, Some(("op-b", "Người B")))
            .unwrap()
            .unwrap();
        let e = pending(&again);
        assert_eq!(e.author.as_deref(), Some("op-b"));
        assert_eq!(e.request.actor.as_deref(), Some("Người B"));
        assert_eq!(e.request.expected_version, Some(9));
        // Without sign-in the author (none) and the name stay.
        let c = o.enqueue("PA-2", &req()).unwrap();
        o.record(&c, &Outcome::Conflict("changed".into())).unwrap();
        let again = o.reapply(&c, 4).unwrap().unwrap();
        let e = pending(&again);
        assert_eq!((e.author, e.request.actor), (None, Some("t".into())));
        // A held action nobody will resend is dropped; a pending one is not.
        let h = o.enqueue_by("PA-3", &req(), Some("op-a")).unwrap();
        o.record(&h, &Outcome::Held("signed out".into())).unwrap();
        o.discard(&h).unwrap();
        o.discard(&again).unwrap();
        let state = |k: &str| {
            o.recent(10)
                .unwrap()
                .into_iter()
                .find(|e| e.key == k)
                .unwrap()
                .state
        };
        assert_eq!(state(&h), EntryState::Discarded);
        assert_eq!(state(&again), EntryState::Pending);
    }

    #[test]
    fn a_full_outbox_refuses_the_action() {
        let dir = tempfile::tempdir().unwrap();
        let o = Outbox::open_limited(&dir.path().join("o.sqlite"), Some(8)).unwrap();
        let big = ActionRequest {
            note: Some("x".repeat(3000)),
            ..req()
        };
        let mut refused = None;
        for i in 0..100 {
            if let Err(e) = o.enqueue(&format!("PA-{i}"), &big) {
                refused = Some(e);
                break;
            }
        }
        assert!(matches!(refused, Some(OutboxError::Full)), "{refused:?}");
    }

    #[test]
    fn an_unwritable_outbox_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "not a directory").unwrap();
        let e = Outbox::open(&file.join("outbox.sqlite")).err().unwrap();
        assert!(e.to_string().contains("cannot open the outbox"), "{e}");
    }
}
