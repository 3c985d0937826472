//! The disk cache of an XYZ basemap: one file per tile under a folder named for the server,
//! trimmed to its size limit from the oldest.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use walkers::TileId;

/// A file or folder name made of the basemap's name (ASCII letters, digits, '-' and '_').
pub(super) fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "basemap".into() } else { s }
}

/// The disk cache of one XYZ basemap, kept under a size limit.
pub(super) struct DiskCache {
    pub(super) dir: PathBuf,
    pub(super) max_bytes: u64,
    pub(super) writes: std::sync::atomic::AtomicU64,
}

impl DiskCache {
    pub(super) fn file(&self, id: TileId) -> PathBuf {
        self.dir
            .join(id.zoom.to_string())
            .join(id.x.to_string())
            .join(format!("{}.tile", id.y))
    }

    /// Writes a tile atomically (a half-written tile is never read back); every 200 writes,
    /// trims the cache to its size limit, oldest first.
    pub(super) fn store(&self, id: TileId, bytes: &[u8]) {
        let file = self.file(id);
        let Some(dir) = file.parent() else { return };
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let ok = std::fs::create_dir_all(dir).is_ok()
            && std::fs::write(&tmp, bytes).is_ok()
            && std::fs::rename(&tmp, &file).is_ok();
        if !ok {
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!(path = %file.display(), "tile not cached");
        }
        let n = self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 200 == 199 {
            self.trim_all();
        }
    }

    /// Trims the cache folder all basemaps share (the parent of this one's).
    pub(super) fn trim_all(&self) {
        trim(self.dir.parent().unwrap_or(&self.dir), self.max_bytes);
    }
}

/// Deletes the oldest files under `dir` until it holds at most `max_bytes`.
pub fn trim(dir: &Path, max_bytes: u64) {
    pub(super) fn walk(dir: &Path, out: &mut Vec<(SystemTime, u64, PathBuf)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => walk(&p, out),
                Ok(m) => out.push((m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len(), p)),
                Err(_) => {}
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    if total <= max_bytes {
        return;
    }
    files.sort_unstable_by_key(|f| f.0);
    for (_, len, path) in files {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
        }
    }
}
