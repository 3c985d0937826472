//! The wall PC's kiosk (`run --kiosk`): closing refused without the technician's PIN, the console
//! closed with it; the cursor hidden at rest; screen blanking off on a real X server while it
//! runs and set back after; the wall session's sway configuration, checked by sway itself.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use egui::{ViewportCommand, ViewportEvent, ViewportId};
use egui_kittest::kittest::Queryable;
use ioc_console::app::kiosk::Kiosk;
use ioc_console::app::{ConsoleApp, DisplayChoice, LaunchOptions};
use ioc_console::i18n::Lang;
use ioc_console::role::Role;
use ioc_console::util::pin::PinHash;

use crate::support::{Xvfb, fixed_now, harness, load_layout, repo};

/// A clock the test moves by hand.
#[derive(Clone)]
struct HandClock(Arc<Mutex<DateTime<Utc>>>);

impl HandClock {
    fn new() -> HandClock {
        HandClock(Arc::new(Mutex::new(fixed_now())))
    }
    fn clock(&self) -> ioc_console::app::Clock {
        let at = Arc::clone(&self.0);
        Arc::new(move || *at.lock().unwrap())
    }
    fn advance(&self, ms: i64) {
        *self.0.lock().unwrap() += chrono::Duration::milliseconds(ms);
    }
}

fn kiosk_app(lang: Lang, pin: Option<PinHash>, clock: &HandClock) -> ConsoleApp {
    let layout = load_layout("ioc-main.toml");
    ConsoleApp::new(
        &egui::Context::default(),
        LaunchOptions {
            layout,
            layout_path: None,
            lang,
            role: Role::Operator,
            display: DisplayChoice::Auto,
            watch: false,
            backend: None,
            map: Default::default(),
            cameras: Default::default(),
            wake: None,
        },
    )
    .with_clock(clock.clock())
    .with_kiosk(Kiosk::new(pin))
}

fn root_commands(h: &egui_kittest::Harness<'_>) -> Vec<ViewportCommand> {
    h.output()
        .viewport_output
        .get(&ViewportId::ROOT)
        .map(|v| v.commands.clone())
        .unwrap_or_default()
}

fn ask_to_close(h: &mut egui_kittest::Harness<'_>) {
    h.input_mut()
        .viewports
        .entry(ViewportId::ROOT)
        .or_default()
        .events
        .push(ViewportEvent::Close);
}

fn type_text(h: &mut egui_kittest::Harness<'_>, text: &str) {
    h.event(egui::Event::Text(text.to_owned()));
    h.run();
}

#[test]
fn closing_is_refused_without_the_pin_and_the_console_closes_with_it() {
    let clock = HandClock::new();
    let pin = PinHash::new("2468").unwrap();
    let app = Rc::new(RefCell::new(kiosk_app(Lang::Vi, Some(pin), &clock)));
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    // The wall alone: no mode bar, no settings.
    assert!(
        h.query_by_label("Vận hành").is_none(),
        "a kiosk shows no bars"
    );
    assert!(h.query_by_label("Cài đặt").is_none());

    // A close request (the window manager's close, Alt+F4) is cancelled and asks for the PIN.
    ask_to_close(&mut h);
    h.step();
    assert!(
        root_commands(&h).contains(&ViewportCommand::CancelClose),
        "{:?}",
        root_commands(&h)
    );
    h.run();
    h.get_by_label("Nhập mã PIN của kỹ thuật viên để đóng bảng điều khiển.");

    // A wrong PIN: refused, said, the console stays.
    type_text(&mut h, "1357");
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label("Sai mã PIN.");
    assert!(!root_commands(&h).contains(&ViewportCommand::Close));
    assert!(!app.borrow().kiosk_leaving());

    // Cancelled, the dialog goes; the wall is still refused closing.
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.query_by_label("Sai mã PIN.").is_none());
    ask_to_close(&mut h);
    h.step();
    assert!(root_commands(&h).contains(&ViewportCommand::CancelClose));
    h.run();

    // The right PIN: the console closes (and a close request now goes through).
    type_text(&mut h, "2468");
    // Enter pressed in one frame, to see that frame's commands.
    h.input_mut().events.push(egui::Event::Key {
        key: egui::Key::Enter,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    assert!(
        root_commands(&h).contains(&ViewportCommand::Close),
        "the right PIN closes the console: {:?}",
        root_commands(&h)
    );
    assert!(app.borrow().kiosk_leaving());
    ask_to_close(&mut h);
    h.step();
    assert!(!root_commands(&h).contains(&ViewportCommand::CancelClose));
}

#[test]
fn five_wrong_pins_lock_typing_for_a_minute_and_without_a_pin_there_is_no_way_out() {
    let clock = HandClock::new();
    let pin = PinHash::new("2468").unwrap();
    let app = Rc::new(RefCell::new(kiosk_app(Lang::En, Some(pin), &clock)));
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    h.key_press_modifiers(egui::Modifiers::CTRL | egui::Modifiers::SHIFT, egui::Key::Q);
    h.run();
    for _ in 0..5 {
        type_text(&mut h, "0000");
        h.key_press(egui::Key::Enter);
        h.run();
    }
    h.get_by_label("Too many wrong PINs: try again in 60 seconds.");
    // Locked: no field to type in, the right PIN does nothing.
    type_text(&mut h, "2468");
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(!app.borrow().kiosk_leaving());
    clock.advance(61_000);
    h.run();
    type_text(&mut h, "2468");
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(
        app.borrow().kiosk_leaving(),
        "typing works again after the minute"
    );

    // No PIN configured: the dialog says so and nothing closes the console.
    let app = Rc::new(RefCell::new(kiosk_app(Lang::En, None, &clock)));
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    h.run();
    ask_to_close(&mut h);
    h.step();
    assert!(root_commands(&h).contains(&ViewportCommand::CancelClose));
    h.run();
    h.get_by_label(
        "No PIN is set ([kiosk] pin_hash in the configuration): the wall can only be stopped by stopping its service.",
    );
    type_text(&mut h, "2468");
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(!app.borrow().kiosk_leaving());
}

#[test]
fn the_cursor_hides_after_three_seconds_at_rest_and_comes_back_when_moved() {
    let clock = HandClock::new();
    let app = Rc::new(RefCell::new(kiosk_app(Lang::Vi, None, &clock)));
    let mut h = harness([1600.0, 900.0], {
        let app = Rc::clone(&app);
        move |ui| app.borrow_mut().show(ui)
    });
    let cursor = |h: &egui_kittest::Harness<'_>| h.output().platform_output.cursor_icon;
    h.event(egui::Event::PointerMoved(egui::pos2(400.0, 300.0)));
    h.step();
    assert_ne!(cursor(&h), egui::CursorIcon::None, "just moved");
    clock.advance(2_900);
    h.step();
    assert_ne!(cursor(&h), egui::CursorIcon::None, "2.9 s at rest");
    clock.advance(200);
    h.step();
    assert_eq!(cursor(&h), egui::CursorIcon::None, "3.1 s at rest");
    h.event(egui::Event::PointerMoved(egui::pos2(420.0, 310.0)));
    h.step();
    assert_ne!(cursor(&h), egui::CursorIcon::None, "moved again");
}

/// A sway configuration is checked by sway itself (`sway --validate`, on its headless backend);
/// sway refuses to run as root, so as root the check runs as `nobody`.
fn sway_validates(config: &std::path::Path) -> Result<(), String> {
    let runtime = tempfile::tempdir().unwrap();
    let root = unsafe { libc_geteuid() } == 0;
    let mut cmd = if root {
        std::process::Command::new("chown")
            .args(["nobody:nogroup"])
            .arg(runtime.path())
            .status()
            .unwrap();
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "sway",
        ]);
        c
    } else {
        std::process::Command::new("sway")
    };
    let out = cmd
        .arg("--validate")
        .arg("--config")
        .arg(config)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("WLR_BACKENDS", "headless")
        .env("WLR_LIBINPUT_NO_DEVICES", "1")
        .env("WLR_RENDERER", "pixman")
        .output()
        .expect("sway is installed (packaging/dev.sh)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn the_wall_sessions_sway_config_has_an_output_per_monitor_and_sway_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    // Readable by `nobody` when the check runs as it.
    let out = std::env::temp_dir().join(format!("ioc-sway-{}.conf", std::process::id()));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(["--lang", "en", "kiosk", "sway-config", "--layout"])
        .arg(repo().join("layouts/ioc-main.toml"))
        .args([
            "--outputs",
            "HDMI-A-1,HDMI-A-2,DP-1,DP-2,DP-3,DP-4",
            "--out",
        ])
        .arg(&out)
        .env("XDG_CONFIG_HOME", dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    for line in [
        "output HDMI-A-1 mode 1920x1080 position 0 0",
        "output DP-1 mode 1920x1080 position 3840 0",
        "output DP-4 mode 1920x1080 position 3840 1080",
        "for_window [app_id=\"^ioc-console$\"] move container to output HDMI-A-1, fullscreen enable",
        "for_window [app_id=\"^ioc-console-wall-C2$\"] move container to output DP-4, fullscreen enable",
        "for_window [app_id=\"^ioc-console\"] inhibit_idle open",
        "seat * hide_cursor 3000",
        "exec systemctl --user restart ioc-console.service",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in\n{text}"
        );
    }
    assert!(!text.contains("bindsym"), "no key leaves the session");
    sway_validates(&out).unwrap_or_else(|e| panic!("sway refuses it: {e}\n{text}"));
    // And sway does check: a wrong line is refused.
    std::fs::write(&out, text.replace("position 0 0", "positon 0 0")).unwrap();
    assert!(
        sway_validates(&out).is_err(),
        "sway --validate refuses a bad line"
    );
    let _ = std::fs::remove_file(&out);

    // Too few outputs: said, with the way out.
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(["--lang", "en", "kiosk", "sway-config", "--layout"])
        .arg(repo().join("layouts/ioc-main.toml"))
        .args(["--outputs", "HDMI-A-1,HDMI-A-2"])
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
    let said = String::from_utf8_lossy(&res.stderr);
    assert!(
        said.contains("6 monitors but there are only 2 outputs") && said.contains("--outputs"),
        "{said}"
    );
}

fn xset_q(display: &str) -> String {
    let out = std::process::Command::new("xset")
        .arg("q")
        .env("DISPLAY", display)
        .output()
        .expect("xset is installed (x11-xserver-utils, packaging/dev.sh)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn xdotool(display: &str, args: &[&str]) {
    let status = std::process::Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .expect("xdotool is installed (packaging/dev.sh)");
    assert!(status.success(), "xdotool {args:?}");
}

/// The real console, `run --kiosk` on its own X server: screen blanking off while it runs, the
/// PIN typed on the keyboard closes it (status 0), and blanking is set back.
#[test]
fn a_real_kiosk_holds_blanking_off_and_closes_only_with_the_typed_pin() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let hash = PinHash::new("2468").unwrap();
    std::fs::write(
        &config,
        format!("[kiosk]\npin_hash = '{}'\n", hash.as_str()),
    )
    .unwrap();
    let socket_path = dir.path().join("notify");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    let runtime_dir = dir.path().join("xdg");
    std::fs::create_dir_all(&runtime_dir).unwrap();
    assert!(
        xset_q(&x.display).contains("timeout:  600"),
        "Xvfb's own screen saver is on"
    );

    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut console = Kill(
        std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
            .args(["--config"])
            .arg(&config)
            .args(["run", "--kiosk", "--layout"])
            .arg(repo().join("layouts/ioc-main.toml"))
            .env("DISPLAY", &x.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("NOTIFY_SOCKET", &socket_path)
            .env("WATCHDOG_USEC", "4000000")
            .env("RUST_LOG", "info")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // READY: the first frame is on screen.
    socket
        .set_read_timeout(Some(Duration::from_secs(90)))
        .unwrap();
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).expect("READY within 90 s");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1"));
    let q = xset_q(&x.display);
    assert!(
        q.contains("timeout:  0"),
        "the screen saver is off while the kiosk runs:\n{q}"
    );
    let has_dpms = !q.contains("does not have the DPMS Extension");
    if has_dpms {
        assert!(q.contains("DPMS is Disabled"), "{q}");
    }

    // The technician's way out, from the keyboard: Ctrl+Shift+Q, a wrong PIN, then the right one.
    xdotool(
        &x.display,
        &[
            "search",
            "--sync",
            "--class",
            "ioc-console",
            "windowfocus",
            "--sync",
        ],
    );
    let press = |keys: &[&str]| {
        for k in keys {
            xdotool(&x.display, &["key", "--delay", "60", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    };
    press(&["ctrl+shift+q"]);
    std::thread::sleep(Duration::from_millis(1500));
    press(&["1", "3", "5", "7", "Return"]);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        console.0.try_wait().unwrap().is_none(),
        "a wrong PIN does not close the kiosk"
    );
    press(&["2", "4", "6", "8", "Return"]);
    let end = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = console.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < end,
            "the right PIN closes the kiosk within 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        status.success(),
        "a kiosk left with the PIN exits with 0: {status}"
    );
    let q = xset_q(&x.display);
    assert!(
        q.contains("timeout:  600"),
        "blanking is set back after the kiosk:\n{q}"
    );
    if has_dpms {
        assert!(q.contains("DPMS is Enabled"), "{q}");
    }
}
