//! `export chart` and `export report`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{DataArgs, export_outcome, load_store, resolve_layout};
use crate::app::export;
use crate::config;
use crate::i18n::{Lang, tr_args};

#[derive(clap::Subcommand)]
pub enum ExportCommand {
    /// A chart tile of a layout as SVG, PNG or PDF (by the output's extension).
    Chart(ExportChartArgs),
    /// The quarterly report on received and handled incidents (Điều 6.5), as CSV or PDF.
    Report(ExportReportArgs),
    /// A briefing's deck: a cover and a page per scene, as PDF, or one PNG per page when
    /// `--out` is a folder (ends with `/` or exists as one).
    Briefing(ExportBriefingArgs),
}

#[derive(clap::Args)]
pub struct ExportBriefingArgs {
    /// The storyboard (layouts/briefings/*.toml).
    #[arg(long)]
    pub storyboard: PathBuf,
    /// Output: a .pdf file, or a folder for PNGs.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `export briefing`: the data loaded now, frozen for the deck.
pub fn export_briefing(args: ExportBriefingArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let board = match crate::wall::storyboard::load(&args.storyboard) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}", e.say(lang));
            return ExitCode::from(1);
        }
    };
    let to_dir = args.out.as_os_str().to_string_lossy().ends_with('/') || args.out.is_dir();
    if !to_dir
        && crate::context::ExportFormat::from_path(&args.out)
            != Some(crate::context::ExportFormat::Pdf)
    {
        eprintln!("{}", crate::i18n::tr(lang, "brief.deck.bad_out"));
        return ExitCode::from(2);
    }
    let (store, _backend) = match load_store(&args.data, cfg, lang) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let deck = crate::app::brief::deck::Deck {
        board: &board,
        store: std::sync::Arc::new(store),
        as_of: chrono::Utc::now(),
        lang,
        ink: &[],
    };
    let result = if to_dir {
        deck.pngs(&args.out).map(|_| ())
    } else {
        deck.pdf().and_then(|bytes| {
            crate::wall::save::write_atomic(&args.out, bytes)
                .map_err(|e| format!("{}: {e}", args.out.display()))
        })
    };
    export_outcome(lang, &args.out, result)
}

#[derive(clap::Args)]
pub struct ExportReportArgs {
    /// The quarter, e.g. 2026Q3 (default: the last complete quarter).
    #[arg(long)]
    pub quarter: Option<String>,
    /// Output file: .csv or .pdf.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(clap::Args)]
pub struct ExportChartArgs {
    /// Layout file (default as for `run`).
    #[arg(long)]
    pub layout: Option<PathBuf>,
    /// The chart tile's id.
    #[arg(long)]
    pub tile: String,
    /// Output file: .svg, .png or .pdf.
    #[arg(long)]
    pub out: PathBuf,
    /// Picture width in points.
    #[arg(long, default_value_t = 1200)]
    pub width: u32,
    /// Picture height in points.
    #[arg(long, default_value_t = 700)]
    pub height: u32,
    /// PNG pixels per point.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f32,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn export_chart(args: ExportChartArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let (layout, _) = match resolve_layout(args.layout.as_deref(), cfg, lang) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let Some(tile) = layout.tiles.iter().find(|t| t.id == args.tile) else {
        eprintln!(
            "{}",
            tr_args(lang, "export.unknown_tile", &[("id", &args.tile)])
        );
        return ExitCode::from(2);
    };
    let (store, _backend) = match load_store(&args.data, cfg, lang) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let size = (args.width.clamp(200, 8000), args.height.clamp(150, 8000));
    let result = export::export_tile(
        tile,
        std::sync::Arc::new(store),
        lang,
        chrono::Utc::now(),
        &args.out,
        size,
        args.scale.clamp(0.25, 4.0),
    );
    export_outcome(lang, &args.out, result)
}

pub fn export_report(args: ExportReportArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    use crate::incidents::report;
    let quarter = match args.quarter.as_deref() {
        Some(q) => match report::Quarter::parse(q) {
            Some(q) => q,
            None => {
                eprintln!(
                    "{}",
                    tr_args(lang, "report.bad_quarter", &[("quarter", &q)])
                );
                return ExitCode::from(2);
            }
        },
        None => report::Quarter::last_complete(
            crate::format::to_vietnam_time(chrono::Utc::now()).date_naive(),
        ),
    };
    let (store, _backend) = match load_store(&args.data, cfg, lang) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = chrono::Utc::now();
    let r = match export::build_report(&store, quarter, now, lang) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    export_outcome(lang, &args.out, export::write_report(&r, lang, &args.out))
}
