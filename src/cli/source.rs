//! `source check`: reads files or URLs as the running console reads its sources beside the
//! backend (the same readers and mappings) and says what it understood: counts, the first few
//! items in words, every problem with its place in the input. Exits 1 when an input cannot be
//! used, 2 when the command itself is wrong (no such configured source).

use std::process::ExitCode;

use crate::config;
use crate::i18n::{Lang, tr, tr_args};
use crate::sources::external::SourceConfig;
use crate::sources::open311::{mapping, parse};
use crate::sources::stats::{self, StatsFormat};

#[derive(clap::Subcommand)]
pub enum SourceCommand {
    /// Read files or URLs as the console would and say what it understood.
    Check(CheckArgs),
}

/// What the input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckKind {
    Open311,
    SdmxJson,
    SdmxCsv,
    SdmxMl,
    Jsonstat,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The standard the inputs are in.
    #[arg(long, value_enum)]
    pub kind: CheckKind,
    /// Also apply this configured source's mapping (its `[source.open311]` or `[source.stats]`).
    #[arg(long)]
    pub source: Option<String>,
    /// How many items of each input to show.
    #[arg(long, default_value_t = 5)]
    pub show: usize,
    /// Files or http(s) URLs.
    #[arg(required = true)]
    pub inputs: Vec<String>,
}

/// Reads an input: a file, or a GET of a URL (within the body limit, with the CA bundle). An
/// error status's body is returned too (an Open311 error list is read like any document).
fn fetch(
    input: &str,
    cfg: &config::Config,
    source: Option<&SourceConfig>,
) -> Result<(Option<u16>, Vec<u8>), String> {
    if !(input.starts_with("http://") || input.starts_with("https://")) {
        let path = input.strip_prefix("file://").unwrap_or(input);
        return std::fs::read(path)
            .map(|b| (None, b))
            .map_err(|e| e.to_string());
    }
    let mut cc = crate::sources::ClientConfig::new(input.to_owned());
    cc.ca_bundle = source
        .and_then(|_| cfg.ca_bundle.clone())
        .or_else(|| cfg.ca_bundle.clone());
    cc.body_limit = 96 * 1024 * 1024;
    let client = crate::sources::Client::new(&cc).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let a = client
            .fetch(client.http().get(input))
            .await
            .map_err(|e| e.to_string())?;
        Ok((Some(a.status), a.body.into_vec()))
    })
}

pub fn check(args: CheckArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let source = match &args.source {
        Some(id) => match cfg.source.iter().find(|s| &s.id == id) {
            Some(s) => Some(s),
            None => {
                eprintln!(
                    "{}",
                    tr_args(lang, "source_check.no_source", &[("source", id)])
                );
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let mut usable = true;
    for input in &args.inputs {
        let shown = crate::util::redact::redact(input);
        let kind = format!("{:?}", args.kind).to_lowercase();
        println!(
            "{}",
            tr_args(
                lang,
                "source_check.input",
                &[("input", &shown), ("kind", &kind)]
            )
        );
        let (status, bytes) = match fetch(input, cfg, source) {
            Ok(b) => b,
            Err(e) => {
                println!(
                    "{}",
                    tr_args(
                        lang,
                        "source_check.read_failed",
                        &[("input", &shown), ("error", &e)]
                    )
                );
                usable = false;
                continue;
            }
        };
        let ok = match args.kind {
            CheckKind::Open311 => open311(&bytes, status, source, args.show, lang),
            k => {
                let format = match k {
                    CheckKind::SdmxJson => StatsFormat::SdmxJson,
                    CheckKind::SdmxCsv => StatsFormat::SdmxCsv,
                    CheckKind::SdmxMl => StatsFormat::SdmxMl,
                    _ => StatsFormat::Jsonstat,
                };
                if let Some(s) = status.filter(|s| !(200..300).contains(s)) {
                    unusable(lang, &stats::Unusable::new("HTTP", s.to_string()))
                } else {
                    statistics(&bytes, format, source, args.show, lang)
                }
            }
        };
        usable &= ok;
        println!();
    }
    if usable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Says why an input cannot be used; false.
fn unusable(lang: Lang, e: &stats::Unusable) -> bool {
    println!(
        "{}",
        tr_args(
            lang,
            "source_check.unusable",
            &[("place", &e.place), ("message", &e.message)]
        )
    );
    false
}

fn problems(lang: Lang, list: &[String]) {
    if list.is_empty() {
        println!("{}", tr(lang, "source_check.none"));
        return;
    }
    println!(
        "{}",
        tr_args(lang, "source_check.problems", &[("count", &list.len())])
    );
    for p in list {
        let (place, message) = p.split_once(": ").unwrap_or(("", p));
        println!(
            "{}",
            tr_args(
                lang,
                "source_check.problem",
                &[("place", &place), ("message", &message)]
            )
        );
    }
}

fn open311(
    bytes: &[u8],
    status: Option<u16>,
    source: Option<&SourceConfig>,
    show: usize,
    lang: Lang,
) -> bool {
    let doc = match parse::read(bytes) {
        Ok(d) => d,
        Err(e) => return unusable(lang, &e),
    };
    let records = match doc {
        parse::Document::Errors(errors) => {
            println!("{}", tr(lang, "source_check.server_errors"));
            for e in errors {
                println!(
                    "{}",
                    tr_args(
                        lang,
                        "source_check.server_error",
                        &[("code", &e.code), ("description", &e.description)]
                    )
                );
            }
            return false;
        }
        parse::Document::Discovery(endpoints) => {
            println!(
                "{}",
                tr_args(
                    lang,
                    "source_check.discovery",
                    &[("count", &endpoints.len())]
                )
            );
            for e in endpoints {
                println!(
                    "{}",
                    tr_args(
                        lang,
                        "source_check.endpoint",
                        &[
                            ("url", &e.url),
                            ("kind", &e.kind),
                            ("spec", &e.specification),
                            ("formats", &e.formats.join(", "))
                        ]
                    )
                );
            }
            return true;
        }
        parse::Document::Records(r) => r,
    };
    if let Some(s) = status.filter(|s| !(200..300).contains(s)) {
        return unusable(lang, &stats::Unusable::new("HTTP", s.to_string()));
    }
    let m = source
        .and_then(|s| s.open311.clone())
        .unwrap_or_else(|| mapping::Open311Mapping {
            default_unit: "—".into(),
            ..Default::default()
        });
    let id = source.map_or("check", |s| s.id.as_str());
    let name = source.map_or("check", |s| s.name.as_str());
    let mut said: Vec<String> = Vec::new();
    let updates = records.iter().filter(|r| r.update_id.is_some()).count();
    let requests = records
        .iter()
        .filter(|r| {
            r.update_id.is_none()
                && (r.service_request_id.is_some()
                    || r.token.is_some()
                    || r.status.is_some()
                    || r.requested_datetime.is_some())
        })
        .count();
    if updates > 0 && updates >= requests {
        println!(
            "{}",
            tr_args(lang, "source_check.updates", &[("count", &updates)])
        );
        for r in &records {
            if mapping::history_entry(r, name, &m).is_none() {
                said.push(format!("{}: no request id or time: skipped", r.place));
            }
        }
    } else if requests == 0 && records.iter().any(|r| r.service_code.is_some()) {
        let (cats, p) = mapping::categories(&records, id, &m);
        let mut groups: Vec<String> = records.iter().flat_map(|r| r.all_groups()).collect();
        groups.sort();
        groups.dedup();
        println!(
            "{}",
            tr_args(
                lang,
                "source_check.services",
                &[("count", &records.len()), ("groups", &groups.join(", "))]
            )
        );
        for c in cats.iter().take(show) {
            println!("  {} · {}", c.id, c.name_vi);
        }
        said.extend(p.iter().map(ToString::to_string));
    } else {
        let from = mapping::From {
            source: id,
            name,
            writable: false,
        };
        let (incidents, p) =
            mapping::incidents(records, &from, &m, &|_| None, &mut Default::default());
        let located = incidents.iter().filter(|i| i.location.is_valid()).count();
        let closed = incidents.iter().filter(|i| i.status.is_closed()).count();
        println!(
            "{}",
            tr_args(
                lang,
                "source_check.requests",
                &[
                    ("count", &incidents.len()),
                    ("located", &located),
                    ("closed", &closed)
                ]
            )
        );
        for i in incidents.iter().take(show) {
            let when = crate::format::to_vietnam_time(i.received_at);
            let received = format!(
                "{} {}",
                crate::format::time(when, false),
                crate::format::date(when)
            );
            let status = format!(
                "{} ({})",
                tr(lang, crate::sources::open311::status_key(i.status)),
                i.origin
                    .as_ref()
                    .and_then(|o| o.raw_status.clone())
                    .unwrap_or_default()
            );
            println!(
                "{}",
                tr_args(
                    lang,
                    "source_check.request",
                    &[
                        ("id", &i.id),
                        ("status", &status),
                        ("title", &i.title),
                        ("unit", &i.unit_id),
                        ("received", &received)
                    ]
                )
            );
        }
        said.extend(p.iter().map(ToString::to_string));
    }
    problems(lang, &said);
    true
}

fn statistics(
    bytes: &[u8],
    format: StatsFormat,
    source: Option<&SourceConfig>,
    show: usize,
    lang: Lang,
) -> bool {
    let m = source.and_then(|s| s.stats.clone());
    let opts = m.as_ref().map(|m| m.read_options()).unwrap_or_default();
    let cube = match format.read(bytes, &opts) {
        Ok(c) => c,
        Err(e) => return unusable(lang, &e),
    };
    let (present, missing) = cube.counts();
    println!(
        "{}",
        tr_args(
            lang,
            "source_check.series",
            &[
                ("series", &cube.series.len()),
                ("obs", &(present + missing)),
                ("missing", &missing),
                ("dims", &cube.dims.join(", "))
            ]
        )
    );
    let mut by_series: Vec<Vec<&stats::Obs>> = vec![Vec::new(); cube.series.len()];
    for o in &cube.obs {
        by_series[o.series as usize].push(o);
    }
    for (s, list) in by_series.iter().enumerate().take(show) {
        let first = list.iter().map(|o| o.period).min();
        let last = list.iter().max_by_key(|o| o.period);
        let value = last.map_or_else(String::new, |o| match o.value {
            Some(v) => crate::format::number(lang, v, 2),
            None => tr(lang, "source_check.missing_value").to_owned(),
        });
        let period = |p: Option<crate::model::PeriodKey>| {
            p.map(|p| crate::format::period(lang, p))
                .unwrap_or_default()
        };
        println!(
            "{}",
            tr_args(
                lang,
                "source_check.series_line",
                &[
                    ("key", &cube.key_text(s as u32)),
                    ("count", &list.len()),
                    ("first", &period(first)),
                    ("last", &period(last.map(|o| o.period))),
                    ("value", &value)
                ]
            )
        );
    }
    let mut said: Vec<String> = cube.problems.iter().map(ToString::to_string).collect();
    if let (Some(m), Some(src)) = (m, source) {
        let mapped = stats::mapping::map(&cube, &m, &src.id, chrono::Utc::now());
        println!(
            "{}",
            tr_args(
                lang,
                "source_check.mapped",
                &[
                    ("source", &src.name),
                    ("indicators", &mapped.indicators.len()),
                    ("series", &mapped.series.len())
                ]
            )
        );
        for s in mapped.series.iter().take(show) {
            println!(
                "{}",
                tr_args(
                    lang,
                    "source_check.mapped_line",
                    &[
                        ("indicator", &s.indicator_id),
                        ("unit", &s.unit_id),
                        ("points", &s.points.len()),
                        ("missing", &s.missing.len())
                    ]
                )
            );
        }
        said.extend(mapped.problems.iter().map(ToString::to_string));
    }
    problems(lang, &said);
    true
}
