//! `audit`: the audit trail of this PC (who did what, when, from which console): check its chain
//! and export it for an inspector.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::audit::{self, Audit, Broken, Filter, Verdict};
use crate::i18n::{Lang, tr, tr_args};

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check that no row of the trail was changed, deleted or inserted (exit 1 when one was).
    Verify(FileArg),
    /// Write the trail (or the rows a filter keeps) as CSV.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct FileArg {
    /// The trail (default: this user's, or IOC_CONSOLE_AUDIT).
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// The CSV file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Only this person's rows: "Nguyễn Văn An (op1)", the name or the user name ("op1").
    #[arg(long)]
    pub who: Option<String>,
    /// Only actions starting with this ("incident", "incident.verify", "layout").
    #[arg(long)]
    pub action: Option<String>,
    /// Only rows about this (an incident id, a layout file…).
    #[arg(long)]
    pub subject: Option<String>,
    /// From this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this instant (RFC 3339).
    #[arg(long)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

fn path(f: &FileArg) -> PathBuf {
    f.file
        .clone()
        .or_else(|| std::env::var_os("IOC_CONSOLE_AUDIT").map(PathBuf::from))
        .unwrap_or_else(Audit::default_path)
}

pub fn audit(command: AuditCommand, lang: Lang) -> ExitCode {
    match command {
        AuditCommand::Verify(f) => {
            let p = path(&f);
            if !p.exists() {
                eprintln!(
                    "{}",
                    tr_args(lang, "audit.no_file", &[("path", &p.display())])
                );
                return ExitCode::from(2);
            }
            match audit::verify(&p) {
                Ok(Verdict::Intact { rows, last }) => {
                    println!(
                        "{}",
                        tr_args(
                            lang,
                            "audit.intact",
                            &[("path", &p.display()), ("rows", &rows), ("hash", &last)]
                        )
                    );
                    ExitCode::SUCCESS
                }
                Ok(Verdict::Broken { seq, why }) => {
                    let why = tr(
                        lang,
                        match why {
                            Broken::Edited => "audit.edited",
                            Broken::Unchained => "audit.unchained",
                        },
                    );
                    println!(
                        "{}",
                        tr_args(
                            lang,
                            "audit.broken",
                            &[("path", &p.display()), ("seq", &seq), ("why", &why)]
                        )
                    );
                    ExitCode::from(1)
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(2)
                }
            }
        }
        AuditCommand::Export(a) => {
            let p = path(&a.file);
            let rows = match Audit::open_read_only(&p).and_then(|au| {
                au.rows(&Filter {
                    who: a.who.clone(),
                    action: a.action.clone(),
                    subject: a.subject.clone(),
                    since: a.since,
                    until: a.until,
                })
            }) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let text = audit::csv(&rows);
            match crate::wall::save::write_atomic(&a.out, text.as_bytes()) {
                Ok(()) => {
                    println!(
                        "{}",
                        tr_args(
                            lang,
                            "audit.exported",
                            &[("rows", &rows.len()), ("path", &a.out.display())]
                        )
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}: {e}", a.out.display());
                    ExitCode::from(2)
                }
            }
        }
    }
}
