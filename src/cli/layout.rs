//! `layout check` and `layout schema`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::i18n::{Lang, tr_args};
use crate::wall::{layout, storyboard};

#[derive(clap::Subcommand)]
pub enum LayoutCommand {
    /// Validate layout files and briefing storyboards (files in a `briefings` folder); exits
    /// non-zero when any is invalid.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Check storyboards' scopes against the built-in simulated IOC's units.
        #[arg(long, conflicts_with = "backend")]
        demo: bool,
        /// Check storyboards' scopes against this backend's units.
        #[arg(long)]
        backend: Option<String>,
    },
    /// Print the JSON Schema of layout files (of storyboards with `--storyboard`).
    Schema {
        #[arg(long)]
        storyboard: bool,
    },
}

pub fn check(files: &[PathBuf], units: Option<&[crate::model::Unit]>, lang: Lang) -> ExitCode {
    let mut failed = false;
    for file in files {
        let name = file.display();
        if storyboard::is_storyboard_path(file) {
            let checked = storyboard::load(file).and_then(|b| match units {
                Some(units) => storyboard::check_units(&b, units).map(|_| b),
                None => Ok(b),
            });
            match checked {
                Ok(b) => println!(
                    "{}",
                    tr_args(
                        lang,
                        "layout.check_storyboard_ok",
                        &[("file", &name), ("scenes", &b.scenes.len())]
                    )
                ),
                Err(errors) => {
                    failed = true;
                    report(&errors, file, lang);
                }
            }
            continue;
        }
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
                report(&errors, file, lang);
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn report(errors: &layout::LayoutErrors, file: &std::path::Path, lang: Lang) {
    eprintln!("{}", errors.say(lang));
    eprintln!(
        "{}",
        tr_args(
            lang,
            "layout.check_failed",
            &[("file", &file.display()), ("n", &errors.0.len())]
        )
    );
}

/// `layout schema`: the JSON Schema of layout files (or storyboards) on stdout.
pub fn schema(storyboard: bool) -> ExitCode {
    if storyboard {
        println!("{}", storyboard::schema_json());
    } else {
        println!("{}", crate::wall::schema::layout_schema_json());
    }
    ExitCode::SUCCESS
}
