//! `layout check` and `layout schema`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::i18n::{Lang, tr_args};
use crate::wall::layout;

#[derive(clap::Subcommand)]
pub enum LayoutCommand {
    /// Validate layout files; exits non-zero when any is invalid.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of layout files.
    Schema,
}

pub fn check(files: &[PathBuf], lang: Lang) -> ExitCode {
    let mut failed = false;
    for file in files {
        let name = file.display();
        match layout::load(file) {
            Ok(l) => println!(
                "{}",
                tr_args(
                    lang,
                    "layout.check_ok",
                    &[
                        ("file", &name),
                        ("monitors", &l.monitors.len()),
                        ("tiles", &l.tiles.len())
                    ]
                )
            ),
            Err(errors) => {
                failed = true;
                eprintln!("{}", errors.say(lang));
                eprintln!(
                    "{}",
                    tr_args(
                        lang,
                        "layout.check_failed",
                        &[("file", &name), ("n", &errors.0.len())]
                    )
                );
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `layout schema`: the JSON Schema of layout files on stdout.
pub fn schema() -> ExitCode {
    println!("{}", crate::wall::schema::layout_schema_json());
    ExitCode::SUCCESS
}
