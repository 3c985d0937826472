//! `wall status` and `wall push`: the shared wall of consoles in step, for technicians and
//! scripts (the configuration's `[sync]`, or `--server` and `--wall`).

use std::process::ExitCode;

use crate::config;
use crate::i18n::{Lang, tr, tr_args};
use crate::model::wall_share::{BadValue, WallChange};
use crate::sync::SyncConfig;

#[derive(clap::Subcommand)]
pub enum WallCommand {
    /// Print the wall's state (layout, scene, pushed cameras, enlarged tiles, scope, briefing)
    /// and its consoles (monitors driven, frame time, health).
    Status(WallArgs),
    /// Change the wall: a scene, a camera on a tile, or everything pushed cleared.
    Push(PushArgs),
}

#[derive(clap::Args)]
pub struct WallArgs {
    /// NATS server URL (repeatable; default: the configuration's [sync] servers).
    #[arg(long = "server")]
    pub servers: Vec<String>,
    /// The wall's name (default: the configuration's [sync] wall).
    #[arg(long)]
    pub wall: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub wall: WallArgs,
    /// Put this scene of the layout in force ("" for the base layout).
    #[arg(long, conflicts_with_all = ["camera", "clear"])]
    pub scene: Option<String>,
    /// Put this camera (its id) on the tile given with --tile.
    #[arg(long, requires = "tile")]
    pub camera: Option<String>,
    /// The camera tile (its id) for --camera.
    #[arg(long, requires = "camera")]
    pub tile: Option<String>,
    /// Clear everything pushed to the wall (the layout stays).
    #[arg(long)]
    pub clear: bool,
    /// The wall's layout file, for the tiles a scene enlarges (default: the configuration's
    /// default_layout, else layouts/ioc-main.toml).
    #[arg(long)]
    pub layout: Option<std::path::PathBuf>,
}

fn sync_config(args: &WallArgs, cfg: &config::Config, lang: Lang) -> Result<SyncConfig, ExitCode> {
    let mut c = cfg
        .sync
        .clone()
        .unwrap_or_else(|| SyncConfig::new(Vec::new(), ""));
    if !args.servers.is_empty() {
        c.servers.clone_from(&args.servers);
    }
    if let Some(w) = &args.wall {
        c.wall.clone_from(w);
    }
    if c.servers.is_empty() || c.wall.is_empty() {
        eprintln!("{}", tr(lang, "cli.wall_unconfigured"));
        return Err(ExitCode::from(2));
    }
    Ok(c)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a single-threaded runtime")
}

pub fn status(args: WallArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let c = match sync_config(&args, cfg, lang) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let got = runtime().block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            crate::sync::one_shot_status(&c, cfg.ca_bundle.as_deref()),
        )
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
    });
    let (revision, wall, consoles) = match got {
        Ok(g) => g,
        Err(why) => {
            tracing::error!(%why, "wall status: no answer from the broker");
            eprintln!("{}", tr_args(lang, "cli.wall_failed", &[("why", &why)]));
            return ExitCode::from(3);
        }
    };
    if args.json {
        let wall_json = match &wall {
            Ok(w) => serde_json::to_value(w).unwrap_or_default(),
            Err(why) => serde_json::json!({ "error": format!("{why:?}") }),
        };
        let out = serde_json::json!({
            "wall": c.wall,
            "revision": revision,
            "state": wall_json,
            "consoles": consoles,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    println!(
        "{}",
        tr_args(
            lang,
            "cli.wall_head",
            &[("wall", &c.wall), ("rev", &revision)]
        )
    );
    match &wall {
        Ok(w) => {
            let none = tr(lang, "cli.wall_none");
            let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| none.to_string());
            let line = |key: &'static str, value: &dyn std::fmt::Display| {
                println!("  {}", tr_args(lang, key, &[("v", value)]));
            };
            line("cli.wall_layout", &or_none(&w.layout));
            line("cli.wall_scene", &or_none(&w.scene));
            for (tile, camera) in &w.cameras {
                line("cli.wall_camera", &format!("{tile} = {camera}"));
            }
            for (monitor, tile) in &w.enlarged {
                line("cli.wall_enlarged", &format!("{monitor} = {tile}"));
            }
            if let Some(n) = &w.nearby {
                line(
                    "cli.wall_nearby",
                    &format!("{}: {}", n.incident, n.cameras.join(", ")),
                );
            }
            line("cli.wall_scope", &or_none(&w.scope));
            if let Some(b) = &w.briefing {
                println!(
                    "  {}",
                    tr_args(
                        lang,
                        "cli.wall_briefing",
                        &[
                            ("board", &b.storyboard),
                            ("scene", &(b.scene + 1)),
                            ("as_of", &b.as_of.to_rfc3339()),
                        ],
                    )
                );
            }
            if !w.by.is_empty() {
                let at = w.at.map(|a| a.to_rfc3339()).unwrap_or_default();
                line("cli.wall_by", &format!("{} {at}", w.by));
            }
        }
        Err(why) => {
            let why = match why {
                BadValue::Malformed(m) => m.clone(),
                BadValue::Newer(f) => format!("format {f}"),
                BadValue::TooLarge(n) => format!("{n} bytes"),
            };
            println!("{}", tr_args(lang, "cli.wall_bad", &[("why", &why)]));
        }
    }
    println!(
        "{}",
        tr_args(lang, "cli.wall_consoles", &[("n", &consoles.len())])
    );
    for p in &consoles {
        println!(
            "  {} ({}, {}): {} · {:.1} ms · {}",
            p.console,
            p.host,
            p.role,
            p.monitors.join(","),
            p.frame_ms,
            p.health
        );
    }
    ExitCode::SUCCESS
}

pub fn push(args: PushArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let c = match sync_config(&args.wall, cfg, lang) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // A scene is checked against the layout file, and pushed only onto a wall of that layout.
    let mut layout = None;
    let change = if args.clear {
        WallChange::Clear
    } else if let Some(scene) = args.scene {
        let (file, _) = match super::resolve_layout(args.layout.as_deref(), cfg, lang) {
            Ok(l) => l,
            Err(code) => return code,
        };
        if !scene.is_empty() && file.scene(&scene).is_none() {
            eprintln!("{}", tr_args(lang, "scene.unknown", &[("name", &scene)]));
            return ExitCode::from(2);
        }
        let change = WallChange::Scene {
            enlarged: file.scene_enlargements(&scene),
            scene: (!scene.is_empty()).then_some(scene),
        };
        layout = Some(file.name.clone());
        change
    } else if let (Some(camera), Some(tile)) = (args.camera, args.tile) {
        WallChange::Camera {
            tile,
            camera: (!camera.is_empty()).then_some(camera),
        }
    } else {
        eprintln!("{}", tr(lang, "cli.wall_push_what"));
        return ExitCode::from(2);
    };
    if cfg.role == crate::role::Role::Leader {
        eprintln!("{}", tr(lang, "sync.refused_leader"));
        return ExitCode::from(4);
    }
    let got = runtime().block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(15),
            crate::sync::one_shot_push(&c, cfg.ca_bundle.as_deref(), &change, layout.as_deref()),
        )
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
    });
    match got {
        Ok(rev) => {
            println!("{}", tr_args(lang, "cli.wall_pushed", &[("rev", &rev)]));
            ExitCode::SUCCESS
        }
        Err(why) => {
            tracing::error!(%why, "wall push refused");
            eprintln!("{}", tr_args(lang, "cli.wall_failed", &[("why", &why)]));
            ExitCode::from(3)
        }
    }
}
