//! The audit trail (regulation Điều 5.4, 16: who did what, when, from which console): an
//! append-only SQLite table whose rows are hash-chained. Each row's hash is SHA-256 over the
//! previous row's hash and the row's own fields, so a row changed or deleted in the file, or
//! rows inserted between others, are found by [`verify`] (`ioc-console audit verify`). Triggers
//! refuse updates and deletes through SQLite; the chain catches whoever drops them. The hashes
//! carry no secret: someone who edits a row and computes every later hash again, or cuts the
//! newest rows off the end, leaves a chain that holds — that is caught only against the
//! backend's copy (`POST /audit`), which has the same hashes (compare the last hash `verify`
//! prints with the backend's).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::model::Timestamp;

/// The hash before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, said by who and where.
pub use crate::model::AuditEvent as Event;
/// A recorded row: its number and hash with the event.
pub use crate::model::AuditRecord as Row;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit trail {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// The hash of a row: SHA-256 over the previous hash and the fields, each length-prefixed (so
/// moving text from one field to the next changes it).
pub fn row_hash(prev: &str, seq: i64, e: &Event) -> String {
    let mut h = Sha256::new();
    let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for part in [
        prev,
        &seq.to_string(),
        &at,
        &e.console,
        &e.who,
        &e.role,
        &e.action,
        &e.subject,
        &e.detail,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Audit {
    conn: Mutex<Connection>,
    pub path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    console TEXT NOT NULL,
    who TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS audit_sent (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
";

impl Audit {
    /// Where the user's audit trail lives (beside the outbox).
    pub fn default_path() -> PathBuf {
        directories::ProjectDirs::from("", "", "ioc-console")
            .map(|d| d.data_dir().join("audit.sqlite"))
            .unwrap_or_else(|| std::env::temp_dir().join("ioc-console-audit.sqlite"))
    }

    /// Opens an existing trail without changing it (a mistyped path is an error, not a new
    /// empty trail).
    pub fn open_read_only(path: &Path) -> Result<Audit, AuditError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|source| AuditError::Sql {
                path: path.to_owned(),
                source,
            })?;
        Ok(Audit {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    pub fn open(path: &Path) -> Result<Audit, AuditError> {
        let err = |source| AuditError::Sql {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(err)?;
        // Several consoles of one PC (a desk and a wall) write the same trail: they wait their
        // turn. Switching a new file to WAL and creating its tables can be refused at once
        // ("database is locked") while another opens it, without SQLite's busy wait (it will not
        // wait where waiting could deadlock): tried again for up to the same 10 s.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        let started = std::time::Instant::now();
        loop {
            let done = conn
                .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
                .and_then(|()| conn.execute_batch(SCHEMA));
            match done {
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < std::time::Duration::from_secs(10) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => {
                    other.map_err(err)?;
                    break;
                }
            }
        }
        Ok(Audit {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    /// Appends an event, chained to the last row; its number.
    pub fn record(&self, e: &Event) -> Result<i64, AuditError> {
        let err = |source| AuditError::Sql {
            path: self.path.clone(),
            source,
        };
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        // The write lock first: the last hash read is the last one when the row goes in.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err)?;
        let (seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS.to_owned()),
        };
        let hash = row_hash(&prev, seq, e);
        tx.execute(
            "INSERT INTO audit (seq, at, console, who, role, action, subject, detail, prev, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                seq,
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                e.console,
                e.who,
                e.role,
                e.action,
                e.subject,
                e.detail,
                prev,
                hash
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(seq)
    }

    /// Rows not yet taken by the backend, oldest first, at most `limit`.
    pub fn unsent(&self, limit: usize) -> Result<Vec<Row>, AuditError> {
        let err = |source| AuditError::Sql {
            path: self.path.clone(),
            source,
        };
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let upto: i64 = conn
            .query_row("SELECT upto FROM audit_sent WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(err)?
            .unwrap_or(0);
        read_rows_where(&conn, &self.path, upto, limit)
    }

    /// The backend has every row up to `seq`.
    pub fn mark_sent(&self, seq: i64) -> Result<(), AuditError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute(
            "INSERT INTO audit_sent (id, upto) VALUES (1, ?1)
             ON CONFLICT(id) DO UPDATE SET upto = max(upto, excluded.upto)",
            params![seq],
        )
        .map(|_| ())
        .map_err(|source| AuditError::Sql {
            path: self.path.clone(),
            source,
        })
    }

    /// Rows matching `filter`, oldest first.
    pub fn rows(&self, filter: &Filter) -> Result<Vec<Row>, AuditError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        read_rows(&conn, &self.path)
            .map(|rows| rows.into_iter().filter(|r| filter.keeps(r)).collect())
    }
}

fn read_rows(conn: &Connection, path: &Path) -> Result<Vec<Row>, AuditError> {
    read_rows_where(conn, path, 0, usize::MAX)
}

/// Rows after `after`, at most `limit`, oldest first.
fn read_rows_where(
    conn: &Connection,
    path: &Path,
    after: i64,
    limit: usize,
) -> Result<Vec<Row>, AuditError> {
    let err = |source| AuditError::Sql {
        path: path.to_owned(),
        source,
    };
    let mut st = conn
        .prepare("SELECT seq, at, console, who, role, action, subject, detail, prev, hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        .map_err(err)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = st
        .query_map(params![after, limit], |r| {
            let at: String = r.get(1)?;
            Ok(Row {
                seq: r.get(0)?,
                event: Event {
                    at: chrono::DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .unwrap_or_default(),
                    console: r.get(2)?,
                    who: r.get(3)?,
                    role: r.get(4)?,
                    action: r.get(5)?,
                    subject: r.get(6)?,
                    detail: r.get(7)?,
                },
                prev: r.get(8)?,
                hash: r.get(9)?,
            })
        })
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(rows)
}

/// Records events on a thread of its own (the UI never waits on a disk), in the order given;
/// a row that cannot be written is logged with the reason.
#[derive(Clone)]
pub struct Writer {
    tx: std::sync::mpsc::Sender<Msg>,
    /// The trail's file.
    pub path: PathBuf,
    /// Who is at the console and where, for events recorded with [`Writer::did`].
    pub console: String,
    pub who: String,
}

/// What the writer's thread is given.
enum Msg {
    Row(Event),
    /// Answered once every row before it is written.
    Flush(std::sync::mpsc::Sender<()>),
}

impl Writer {
    pub fn start(audit: Audit, console: String, who: String) -> Writer {
        let (tx, rx) = std::sync::mpsc::channel::<Msg>();
        let path = audit.path.clone();
        let spawned = std::thread::Builder::new()
            .name("ioc-audit".into())
            .spawn(move || {
                for m in rx {
                    match m {
                        Msg::Row(e) => {
                            if let Err(error) = audit.record(&e) {
                                tracing::error!(%error, action = %e.action, "an audit row could not be written");
                            }
                        }
                        Msg::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "the audit trail's thread cannot start");
        }
        Writer {
            tx,
            path,
            console,
            who,
        }
    }

    /// Records that this console's person, in `role`, did `action` to `subject`.
    pub fn did(&self, role: &str, action: &str, subject: &str, detail: &str) {
        self.did_as(&self.who, role, action, subject, detail)
    }

    /// Records that `who` (the person signed in), in `role`, did `action` to `subject`.
    pub fn did_as(&self, who: &str, role: &str, action: &str, subject: &str, detail: &str) {
        let e = Event {
            at: chrono::Utc::now(),
            console: self.console.clone(),
            who: who.to_owned(),
            role: role.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail: detail.to_owned(),
        };
        if self.tx.send(Msg::Row(e)).is_err() {
            tracing::error!(%action, "the audit trail's thread has stopped");
        }
    }

    /// Waits until every row given so far is written (the console closing), `limit` at most;
    /// false if they were not.
    pub fn flush(&self, limit: std::time::Duration) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        self.tx.send(Msg::Flush(tx)).is_ok() && rx.recv_timeout(limit).is_ok()
    }
}

/// The person at this console where there is no sign-in: the desktop user.
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// This console's name: the host name.
pub fn console_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "console".into())
}

/// Which rows to show or export.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub who: Option<String>,
    pub action: Option<String>,
    pub subject: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl Filter {
    pub fn keeps(&self, r: &Row) -> bool {
        let e = &r.event;
        self.who.as_ref().is_none_or(|w| same_person(&e.who, w))
            && self
                .action
                .as_ref()
                .is_none_or(|a| e.action.starts_with(a.as_str()))
            && self.subject.as_ref().is_none_or(|s| &e.subject == s)
            && self.since.is_none_or(|t| e.at >= t)
            && self.until.is_none_or(|t| e.at < t)
    }
}

/// Whether a row's `who` ("Nguyễn Văn An (op1)", or a desktop user's "nguyen.van.an") is the
/// person asked for: the whole of it, the name or the user name in brackets, in any case.
fn same_person(who: &str, asked: &str) -> bool {
    let (who, asked) = (who.to_lowercase(), asked.trim().to_lowercase());
    if who == asked {
        return true;
    }
    match who.strip_suffix(')').and_then(|w| w.rsplit_once(" (")) {
        Some((name, id)) => name == asked || id == asked,
        None => false,
    }
}

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every row chains to the one before: how many, and the last hash (to compare with the
    /// backend's copy).
    Intact { rows: usize, last: String },
    /// The first row that does not: its number and why.
    Broken { seq: i64, why: Broken },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Broken {
    /// Its fields are not what its hash was made of (edited).
    Edited,
    /// It does not follow the row before (rows deleted or inserted before it).
    Unchained,
}

/// Checks the chain of the trail at `path` (opened read-only).
pub fn verify(path: &Path) -> Result<Verdict, AuditError> {
    let err = |source| AuditError::Sql {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(err)?;
    let rows = read_rows(&conn, path)?;
    let mut prev = GENESIS.to_owned();
    for (expect_seq, r) in (1..).zip(rows.iter()) {
        if r.prev != prev || r.seq != expect_seq {
            return Ok(Verdict::Broken {
                seq: r.seq,
                why: Broken::Unchained,
            });
        }
        if row_hash(&r.prev, r.seq, &r.event) != r.hash {
            return Ok(Verdict::Broken {
                seq: r.seq,
                why: Broken::Edited,
            });
        }
        prev = r.hash.clone();
    }
    Ok(Verdict::Intact {
        rows: rows.len(),
        last: prev,
    })
}

/// The rows as CSV (RFC 4180), a header first; with `prev`, `hash` and the time as hashed, so
/// an exported chain can be checked again.
pub fn csv(rows: &[Row]) -> String {
    let q = crate::util::csv::field;
    let mut out = String::from("seq,at,console,who,role,action,subject,detail,prev,hash\n");
    for r in rows {
        let e = &r.event;
        let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let fields = [
            r.seq.to_string(),
            at,
            e.console.clone(),
            e.who.clone(),
            e.role.clone(),
            e.action.clone(),
            e.subject.clone(),
            e.detail.clone(),
            r.prev.clone(),
            r.hash.clone(),
        ];
        out.push_str(&fields.iter().map(|f| q(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_found_by_the_whole_name_or_the_user_name() {
        let who = "Nguyễn Văn An (op1)";
        for asked in [
            "Nguyễn Văn An (op1)",
            "Nguyễn Văn An",
            "op1",
            " OP1 ",
            "nguyễn văn an",
        ] {
            assert!(same_person(who, asked), "{asked}");
        }
        for asked in ["An", "op", "Nguyễn Văn An (op2)", "op2", ""] {
            assert!(!same_person(who, asked), "{asked}");
        }
        // A desktop user (no sign-in) has no brackets: only the whole of it.
        assert!(same_person("nguyen.van.an", "nguyen.van.an"));
        assert!(!same_person("nguyen.van.an", "nguyen"));
    }

    fn ev(n: u32) -> Event {
        Event {
            at: chrono::DateTime::parse_from_rfc3339("2026-12-07T08:00:00+07:00")
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::minutes(n as i64),
            console: "desk-1".into(),
            who: "nguyen.van.an".into(),
            role: "operator".into(),
            action: "incident.verify".into(),
            subject: format!("PA-{n}"),
            detail: "Đã xác minh, qua camera".into(),
        }
    }

    #[test]
    fn writers_of_one_file_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sqlite");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let a = Audit::open(&path).unwrap();
                    for n in 0..25 {
                        a.record(&ev(t * 100 + n)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let Verdict::Intact { rows, .. } = verify(&path).unwrap() else {
            panic!("{:?}", verify(&path))
        };
        assert_eq!(rows, 100);
    }

    #[test]
    fn rows_chain_and_an_edit_or_a_deletion_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sqlite");
        let a = Audit::open(&path).unwrap();
        for n in 1..=5 {
            assert_eq!(a.record(&ev(n)).unwrap(), n as i64);
        }
        let Verdict::Intact { rows, .. } = verify(&path).unwrap() else {
            panic!()
        };
        assert_eq!(rows, 5);
        // Through SQLite: refused.
        let c = Connection::open(&path).unwrap();
        assert!(
            c.execute("UPDATE audit SET who = 'x' WHERE seq = 2", [])
                .is_err()
        );
        assert!(c.execute("DELETE FROM audit WHERE seq = 2", []).is_err());
        // Whoever drops the triggers is still caught.
        c.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
            .unwrap();
        c.execute(
            "UPDATE audit SET detail = 'không xác minh' WHERE seq = 3",
            [],
        )
        .unwrap();
        assert_eq!(
            verify(&path).unwrap(),
            Verdict::Broken {
                seq: 3,
                why: Broken::Edited
            }
        );
        c.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
        assert_eq!(
            verify(&path).unwrap(),
            Verdict::Broken {
                seq: 4,
                why: Broken::Unchained
            }
        );
        // CSV quotes what needs quoting.
        let text = csv(&a
            .rows(&Filter {
                subject: Some("PA-1".into()),
                ..Default::default()
            })
            .unwrap());
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("\"Đã xác minh, qua camera\""), "{text}");
    }
}
