//! `kiosk hash-pin` and `kiosk sway-config`: setting up a dedicated wall PC.
//!
//! The wall session is sway, not cage: cage shows one application window stretched over one
//! output (or all of them as one), while the wall opens a window per monitor that must each sit
//! full screen on its own output. sway places each by its app id (`ioc-console` for the
//! monitor on the first display, `ioc-console-wall-<monitor>` for the others).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::app::viewports::wall_app_id;
use crate::config;
use crate::i18n::{Lang, tr, tr_args};
use crate::util::pin::PinHash;
use crate::wall::WallLayout;

#[derive(clap::Subcommand)]
pub enum KioskCommand {
    /// Read a PIN (one line on standard input) and print the `pin_hash = ...` line for the
    /// configuration's [kiosk] table (Argon2id; the PIN itself is never stored).
    HashPin,
    /// Write the wall session's sway configuration: one output per monitor of the layout, each
    /// monitor's window full screen on its output, no bar, no idle blanking, the cursor hidden at
    /// rest, and the console started as the wall user's unit.
    SwayConfig(SwayArgs),
}

#[derive(clap::Args)]
pub struct SwayArgs {
    /// Layout file (default: the configuration's default_layout, as the console will use).
    #[arg(long)]
    pub layout: Option<PathBuf>,
    /// The outputs (connectors, as `swaymsg -t get_outputs` names them), one per monitor in the
    /// order of the monitors' `display` (default: the connected ones in /sys/class/drm).
    #[arg(long, value_delimiter = ',')]
    pub outputs: Vec<String>,
    /// Write here instead of standard output (e.g. /etc/ioc-console/sway.conf).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn hash_pin(lang: Lang) -> ExitCode {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        eprintln!("{}", tr(lang, "cli.kiosk.pin_bad"));
        return ExitCode::from(2);
    }
    match PinHash::new(line.trim_end_matches(['\n', '\r'])) {
        Ok(hash) => {
            println!("pin_hash = '{}'", hash.as_str());
            ExitCode::SUCCESS
        }
        Err(_) => {
            eprintln!("{}", tr(lang, "cli.kiosk.pin_bad"));
            ExitCode::from(2)
        }
    }
}

pub fn sway_config(args: SwayArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    let (layout, path) = match super::resolve_layout(args.layout.as_deref(), cfg, lang) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let outputs = if args.outputs.is_empty() {
        connected_outputs(Path::new("/sys/class/drm"))
    } else {
        args.outputs.clone()
    };
    let source = path.map_or_else(
        || "<built-in ioc-main.toml>".to_owned(),
        |p| p.display().to_string(),
    );
    let text = match render_sway_config(&layout, &outputs, &source) {
        Ok(t) => t,
        Err(found) => {
            eprintln!(
                "{}",
                tr_args(
                    lang,
                    "cli.kiosk.outputs_short",
                    &[
                        ("monitors", &layout.monitors.len()),
                        ("found", &found),
                        ("names", &outputs.join(", ")),
                    ],
                )
            );
            return ExitCode::from(2);
        }
    };
    match &args.out {
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(out) => match std::fs::write(out, text) {
            Ok(()) => {
                eprintln!(
                    "{}",
                    tr_args(lang, "cli.kiosk.written", &[("path", &out.display())])
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "{}",
                    tr_args(
                        lang,
                        "cli.kiosk.write_failed",
                        &[("path", &out.display()), ("error", &e)],
                    )
                );
                ExitCode::from(1)
            }
        },
    }
}

/// The connected connectors under `drm` (`/sys/class/drm/card0-HDMI-A-1/status` = connected
/// gives `HDMI-A-1`), in natural order (card, then connector kind and number).
pub fn connected_outputs(drm: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(drm) else {
        return Vec::new();
    };
    let mut found: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (card, connector) = name.split_once('-')?;
            card.strip_prefix("card")?.parse::<u32>().ok()?;
            let status = std::fs::read_to_string(e.path().join("status")).ok()?;
            (status.trim() == "connected").then(|| (card.to_owned(), connector.to_owned()))
        })
        .collect();
    found.sort_by_key(|(card, connector)| (natural_key(card), natural_key(connector)));
    found.into_iter().map(|(_, c)| c).collect()
}

/// Digits compared as numbers: DP-2 before DP-10.
fn natural_key(s: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}

/// Where each monitor sits on the wall in pixels: monitors of a row side by side by column,
/// rows stacked by the tallest monitor of the row above.
fn positions(layout: &WallLayout) -> Vec<(u32, u32)> {
    let row_height = |row: u32| {
        layout
            .monitors
            .iter()
            .filter(|m| m.wall_row == row)
            .map(|m| m.resolution[1])
            .max()
            .unwrap_or(0)
    };
    layout
        .monitors
        .iter()
        .map(|m| {
            let x = layout
                .monitors
                .iter()
                .filter(|o| o.wall_row == m.wall_row && o.wall_column < m.wall_column)
                .map(|o| o.resolution[0])
                .sum();
            let y = (0..m.wall_row).map(row_height).sum();
            (x, y)
        })
        .collect()
}

/// The sway configuration for `layout` on `outputs` (one per monitor, in the order of the
/// monitors' `display`); too few outputs: how many there are.
pub fn render_sway_config(
    layout: &WallLayout,
    outputs: &[String],
    source: &str,
) -> Result<String, usize> {
    let n = layout.monitors.len();
    if outputs.len() < n {
        return Err(outputs.len());
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|i| layout.monitors[*i].display);
    let at = positions(layout);
    let mut s = String::new();
    s.push_str(&format!(
        "# The wall PC's sway session for ioc-console, written by `ioc-console kiosk sway-config`\n\
         # from {source} ({n} monitors). Write it again when the wall's monitors change.\n\
         # Used by ioc-console-wall@.service (sway --config /etc/ioc-console/sway.conf).\n\
         # No key bindings (nothing here closes a window or leaves sway), no bar, and no idle\n\
         # daemon, so the screens never blank.\n\n"
    ));
    s.push_str("output * bg #000000 solid_color\n");
    for (k, i) in order.iter().enumerate() {
        let m = &layout.monitors[*i];
        // sway takes no comment after a command: the monitor's name on the line above.
        s.push_str(&format!(
            "# monitor {}\noutput {} mode {}x{} position {} {}\n",
            m.name, outputs[k], m.resolution[0], m.resolution[1], at[*i].0, at[*i].1
        ));
    }
    s.push_str(
        "\ndefault_border none\ndefault_floating_border none\nhide_edge_borders both\n\
         focus_follows_mouse no\nfocus_on_window_activation none\n\
         seat * hide_cursor 3000\n\n\
         # Every window of the console holds idle off; each monitor's window goes full screen on\n\
         # its output (the first display's monitor is the console's main window).\n\
         for_window [app_id=\"^ioc-console\"] inhibit_idle open\n",
    );
    for (k, i) in order.iter().enumerate() {
        let m = &layout.monitors[*i];
        let app_id = if k == 0 {
            crate::app::APP_ID.to_owned()
        } else {
            wall_app_id(&m.name)
        };
        s.push_str(&format!(
            "for_window [app_id=\"^{}$\"] move container to output {}, fullscreen enable\n",
            regex_escape(&app_id),
            outputs[k]
        ));
    }
    s.push_str(
        "\n# The console itself runs as the wall user's unit (Type=notify: READY, the watchdog,\n\
         # restarts with a start limit), with this session's display.\n\
         exec systemctl --user import-environment WAYLAND_DISPLAY XDG_CURRENT_DESKTOP XDG_SESSION_TYPE\n\
         exec systemctl --user restart ioc-console.service\n",
    );
    Ok(s)
}

/// A monitor's name as a literal inside sway's (PCRE) criteria.
fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.^$|?*+()[]{}\"".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectors_come_in_natural_order_and_only_connected() {
        let dir = tempfile::tempdir().unwrap();
        for (name, status) in [
            ("card0-DP-10", "connected"),
            ("card0-DP-2", "connected"),
            ("card0-HDMI-A-1", "disconnected"),
            ("card1-HDMI-A-2", "connected"),
            ("card0-eDP-1", "connected\n"),
        ] {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("status"), status).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("card0")).unwrap();
        std::fs::create_dir_all(dir.path().join("renderD128")).unwrap();
        assert_eq!(
            connected_outputs(dir.path()),
            ["DP-2", "DP-10", "eDP-1", "HDMI-A-2"]
        );
        assert!(connected_outputs(&dir.path().join("none")).is_empty());
    }

    #[test]
    fn names_are_literal_in_criteria() {
        assert_eq!(
            regex_escape("ioc-console-wall-A.1"),
            "ioc-console-wall-A\\.1"
        );
    }
}
