//! Saving an arranged layout: the diff shown before writing, the checks (`layout check` passes,
//! no tile stranded, the file not changed on disk since it was opened) and the atomic write
//! (a temporary file in the same folder, fsync, rename, fsync of the folder), so the file on disk
//! is the old one or the new one, never half of each.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::edit::Arrangement;
use super::layout::{self, LayoutErrors};
use crate::text::Text;

/// One line of a diff, with its 1-based line numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine {
    Same {
        old: usize,
        new: usize,
        line: String,
    },
    Removed {
        old: usize,
        line: String,
    },
    Added {
        new: usize,
        line: String,
    },
}

impl DiffLine {
    pub fn is_change(&self) -> bool {
        !matches!(self, DiffLine::Same { .. })
    }
}

/// The lines of `old` and `new` aligned: common lines kept, the rest removed or added (longest
/// common subsequence of the part between the common start and end).
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let same = |out: &mut Vec<DiffLine>, i: usize, j: usize, l: &str| {
        out.push(DiffLine::Same {
            old: i + 1,
            new: j + 1,
            line: l.trim_end_matches('\n').to_owned(),
        })
    };
    for (i, l) in a[..head].iter().enumerate() {
        same(&mut out, i, i, l);
    }
    // The middle: LCS table when it is small enough (edits are), else all out and all in.
    let (n, m) = (ma.len(), mb.len());
    if n.saturating_mul(m) <= 4_000_000 {
        let mut t = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i * (m + 1) + j] = if ma[i] == mb[j] {
                    t[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                same(&mut out, head + i, head + j, ma[i]);
                i += 1;
                j += 1;
            } else if i < n && (j == m || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
                // Old lines first, as diffs read.
                out.push(DiffLine::Removed {
                    old: head + i + 1,
                    line: ma[i].trim_end_matches('\n').to_owned(),
                });
                i += 1;
            } else {
                out.push(DiffLine::Added {
                    new: head + j + 1,
                    line: mb[j].trim_end_matches('\n').to_owned(),
                });
                j += 1;
            }
        }
    } else {
        for (i, l) in ma.iter().enumerate() {
            out.push(DiffLine::Removed {
                old: head + i + 1,
                line: l.trim_end_matches('\n').to_owned(),
            });
        }
        for (j, l) in mb.iter().enumerate() {
            out.push(DiffLine::Added {
                new: head + j + 1,
                line: l.trim_end_matches('\n').to_owned(),
            });
        }
    }
    for k in 0..tail {
        let (i, j) = (a.len() - tail + k, b.len() - tail + k);
        same(&mut out, i, j, a[i]);
    }
    out
}

/// The changed lines with `context` unchanged lines around each run; `None` marks a gap.
pub fn hunks(lines: &[DiffLine], context: usize) -> Vec<Option<&DiffLine>> {
    let near: Vec<bool> = (0..lines.len())
        .map(|i| {
            let lo = i.saturating_sub(context);
            let hi = (i + context + 1).min(lines.len());
            lines[lo..hi].iter().any(DiffLine::is_change)
        })
        .collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if near[i] {
            if i > 0 && !near[i - 1] && !out.is_empty() {
                out.push(None);
            }
            out.push(Some(l));
        }
    }
    out
}

/// Why a layout was not saved.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveProblem {
    /// Tiles that no longer fit must be placed or removed first.
    Stranded(Vec<String>),
    /// The text would not pass `layout check` (it should not happen: every edit is checked).
    Invalid(LayoutErrors),
    /// The file on disk is not what was opened: someone else changed it.
    ChangedOnDisk { disk: String },
    /// "Save as" onto a file that exists.
    Exists(PathBuf),
    /// Reading or writing failed (read-only file, full disk, missing folder).
    Io { path: PathBuf, reason: String },
}

impl SaveProblem {
    pub fn text(&self) -> Text {
        match self {
            SaveProblem::Stranded(ids) => {
                Text::key("arrange.save.stranded").arg("ids", ids.join(", "))
            }
            SaveProblem::Invalid(e) => Text::key("arrange.save.invalid").arg_text(
                "errors",
                e.0.first().map_or(Text::raw(""), |d| d.message.clone()),
            ),
            SaveProblem::ChangedOnDisk { .. } => Text::key("arrange.save.changed_on_disk"),
            SaveProblem::Exists(p) => Text::key("arrange.save.exists").arg("path", p.display()),
            SaveProblem::Io { path, reason } => Text::key("arrange.save.io")
                .arg("path", path.display())
                .arg("reason", reason),
        }
    }
}

/// What saving would write, for the technician to read before it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct SavePlan {
    pub path: PathBuf,
    /// True for "Save as" (a new file).
    pub new_file: bool,
    pub text: String,
    /// The file on disk (or nothing, for a new file) → the new text.
    pub diff: Vec<DiffLine>,
}

/// Prepares a save to the arrangement's own file (`to` None) or a new file: checks, then the diff.
pub fn plan(a: &Arrangement, to: Option<&Path>) -> Result<SavePlan, SaveProblem> {
    if !a.stranded().is_empty() {
        return Err(SaveProblem::Stranded(
            a.stranded().iter().map(|s| s.id.clone()).collect(),
        ));
    }
    let path = to.unwrap_or(a.path()).to_path_buf();
    let text = a.text();
    layout::parse(&path, &text).map_err(SaveProblem::Invalid)?;
    let new_file = to.is_some_and(|p| p != a.path());
    let old = if new_file {
        if path.exists() {
            return Err(SaveProblem::Exists(path));
        }
        String::new()
    } else {
        let disk = read(&path)?;
        if disk != a.on_disk() {
            return Err(SaveProblem::ChangedOnDisk { disk });
        }
        disk
    };
    Ok(SavePlan {
        diff: diff(&old, &text),
        path,
        new_file,
        text,
    })
}

/// Writes a plan: the disk is checked again just before (unless `overwrite`: the technician saw
/// both versions and chose theirs), then written atomically; the arrangement then starts from it.
pub fn commit(a: &mut Arrangement, plan: &SavePlan, overwrite: bool) -> Result<(), SaveProblem> {
    if plan.new_file {
        if plan.path.exists() {
            return Err(SaveProblem::Exists(plan.path.clone()));
        }
    } else if !overwrite {
        let disk = read(&plan.path)?;
        if disk != a.on_disk() {
            return Err(SaveProblem::ChangedOnDisk { disk });
        }
    }
    write_atomic(&plan.path, &plan.text).map_err(|e| SaveProblem::Io {
        path: plan.path.clone(),
        reason: e.to_string(),
    })?;
    tracing::info!(path = %plan.path.display(), bytes = plan.text.len(), "layout saved");
    a.saved_as(&plan.path, plan.text.clone());
    Ok(())
}

fn read(path: &Path) -> Result<String, SaveProblem> {
    std::fs::read_to_string(path).map_err(|e| SaveProblem::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Writes `text` to `path` through a temporary file in the same folder: written, flushed to
/// disk, renamed over the old file, the folder flushed. On any failure the old file is untouched
/// and the temporary file removed. A read-only file is refused as such (rename would replace it).
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().readonly()
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only",
        ));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = f.set_permissions(meta.permissions());
        }
        f.write_all(bytes.as_ref())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
