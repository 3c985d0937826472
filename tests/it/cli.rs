//! The `ioc-console` binary: layout check and schema, snapshot, config errors, no display.

use std::process::{Command, Output};

use crate::support::repo;

fn console(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(args)
        .current_dir(repo())
        .env_remove("IOC_CONSOLE_CONFIG")
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn layout_check_accepts_the_shipped_layouts() {
    let o = console(&[
        "layout",
        "check",
        "layouts/ioc-main.toml",
        "layouts/desk.toml",
        "layouts/briefing.toml",
        "layouts/briefings/giao-ban-thang.toml",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        4,
        "{}",
        text(&o)
    );
}

#[test]
fn layout_check_fails_with_positions_when_any_file_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nmonitors = []\ncolour = 1\n").unwrap();
    let bad = bad.to_str().unwrap();
    let o = console(&["--lang", "en", "layout", "check", "layouts/desk.toml", bad]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!("{bad}:3:1: unknown field `colour`")),
        "{out}"
    );
    assert!(out.contains("help:"), "{out}");
}

#[test]
fn layout_schema_is_json_schema() {
    let o = console(&["layout", "schema"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert!(v["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert!(
        v.pointer("/$defs/TileFile/properties/kind").is_some(),
        "{v}"
    );
}

#[test]
fn snapshot_of_the_wall_and_of_one_monitor() {
    let dir = tempfile::tempdir().unwrap();
    let wall = dir.path().join("wall.png");
    let o = console(&[
        "snapshot",
        "--layout",
        "layouts/ioc-main.toml",
        "--out",
        wall.to_str().unwrap(),
        "--scale",
        "0.25",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let img = image::open(&wall).unwrap().to_rgba8();
    let layout = crate::support::load_layout("ioc-main.toml");
    let size = ioc_console::app::wall_view::wall_size_with_bezels(&layout) * 0.25;
    assert_eq!(
        (img.width(), img.height()),
        (size.x.round() as u32, size.y.round() as u32)
    );
    assert_not_one_colour(&img);

    let one = dir.path().join("a1.png");
    let o = console(&[
        "snapshot",
        "--layout",
        "layouts/ioc-main.toml",
        "--monitor",
        "A1",
        "--scale",
        "0.5",
        "--out",
        one.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let img = image::open(&one).unwrap().to_rgba8();
    assert_eq!((img.width(), img.height()), (960, 540));
    assert_not_one_colour(&img);
}

fn assert_not_one_colour(img: &image::RgbaImage) {
    let first = img.get_pixel(0, 0);
    let different = img.pixels().filter(|p| *p != first).count();
    assert!(
        different > (img.width() * img.height()) as usize / 20,
        "the image is (almost) one colour"
    );
}

#[test]
fn snapshot_of_an_unknown_monitor_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let o = console(&[
        "--lang",
        "en",
        "snapshot",
        "--monitor",
        "Z9",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("monitor `Z9` is not in this layout (monitors: A1, B1, C1, A2, B2, C2)"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
}

#[test]
fn without_a_display_the_console_says_how_to_go_on() {
    let o = Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .current_dir(repo())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("Không tìm thấy màn hình")
            && out.contains("ioc-console snapshot")
            && out.contains("xvfb-run"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn a_bad_config_names_the_key_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "language = \"en\"\nrole = \"admin\"\n").unwrap();
    let o = console(&[
        "--config",
        cfg.to_str().unwrap(),
        "--lang",
        "en",
        "layout",
        "check",
        "layouts/desk.toml",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("config.toml:2:8") && out.contains("`role`") && out.contains("admin"),
        "{out}"
    );
}

#[test]
fn the_config_sets_language_and_default_layout() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "language = \"en\"\ndefault_layout = \"layouts/briefing.toml\"\n",
    )
    .unwrap();
    let out = dir.path().join("b.png");
    let o = console(&[
        "--config",
        cfg.to_str().unwrap(),
        "snapshot",
        "--out",
        out.to_str().unwrap(),
        "--scale",
        "0.1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("Wrote"),
        "English from the config: {}",
        text(&o)
    );
    // briefing.toml is one 3840x2160 monitor: the wall image has its aspect, not the 3x2 wall's.
    let img = image::open(&out).unwrap();
    let aspect = img.width() as f32 / img.height() as f32;
    assert!((aspect - 16.0 / 9.0).abs() < 0.05, "{aspect}");
}

#[test]
fn sim_serves_the_contract_over_http() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--epoch",
            "2026-11-29T02:41:07Z",
        ])
        .env("RUST_LOG", "warn")
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    write!(
        s,
        "GET /api/v1/cameras HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.ends_with("/api/v1"), "{url}");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        resp.contains("\"profiles\"") && resp.contains("rtsp://"),
        "{resp}"
    );
}

#[test]
fn snapshot_with_the_demo_draws_live_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b1.png");
    let o = console(&[
        "--lang",
        "en",
        "snapshot",
        "--demo",
        "--monitor",
        "B1",
        "--scale",
        "0.5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("did not finish"), "{}", text(&o));
    let img = image::open(&out).unwrap().to_rgba8();
    // The sources tile is on B1's right half: its live badges are drawn in the live colour.
    let live = ioc_console::ui::theme::colors::LIVE;
    let green = img
        .pixels()
        .filter(|p| p[0] == live.r() && p[1] == live.g() && p[2] == live.b())
        .count();
    assert!(green > 50, "no live badge drawn ({green} pixels)");
}
