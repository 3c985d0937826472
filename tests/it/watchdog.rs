//! The console under systemd's watchdog: a real `ioc-console run` window (its own Xvfb) with
//! `NOTIFY_SOCKET` pointing at a datagram socket of the test, as systemd would start it.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::support::{Xvfb, repo};

/// The next message on the socket within `limit`, if any.
fn next_message(socket: &UnixDatagram, limit: Duration) -> Option<String> {
    socket.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    socket
        .recv(&mut buf)
        .ok()
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Messages until `until` says stop or `limit` passes; all of them.
fn messages_until(
    socket: &UnixDatagram,
    limit: Duration,
    mut until: impl FnMut(&[String]) -> bool,
) -> Vec<String> {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    while !until(&got) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if let Some(m) = next_message(socket, left) {
            got.push(m);
        }
    }
    got
}

#[test]
fn ready_after_the_first_frame_pings_from_the_ui_loop_and_none_while_it_stalls() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let stall = dir.path().join("stall");
    let runtime_dir = dir.path().join("xdg");
    std::fs::create_dir_all(&runtime_dir).unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _console = Kill(
        std::process::Command::new(env!("CARGO_BIN_EXE_ioc-console"))
            .args(["run", "--preview", "--layout"])
            .arg(repo().join("layouts/ioc-main.toml"))
            .env("DISPLAY", &x.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("NOTIFY_SOCKET", &socket_path)
            .env("WATCHDOG_USEC", "1000000")
            .env_remove("WATCHDOG_PID")
            .env("IOC_TEST_STALL_FILE", &stall)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );

    // READY first (after a frame has been drawn), then pings a quarter interval apart.
    let got = messages_until(&socket, Duration::from_secs(90), |m| {
        m.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3
    });
    assert!(
        got.first().is_some_and(|m| m.starts_with("READY=1\n")),
        "{got:?}"
    );
    assert_eq!(got.iter().filter(|m| m.starts_with("READY=1")).count(), 1);
    assert!(
        got.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3,
        "{got:?}"
    );

    // The UI loop stands still (the test hook): after a ping that may already be on its way, no
    // ping for three watchdog intervals, which is when systemd restarts the console.
    std::fs::write(&stall, "").unwrap();
    let _ = messages_until(&socket, Duration::from_millis(600), |_| false);
    let during = messages_until(&socket, Duration::from_secs(3), |_| false);
    assert!(
        during.is_empty(),
        "pinged while the UI loop stood still: {during:?}"
    );

    // The loop runs again: so do the pings.
    std::fs::remove_file(&stall).unwrap();
    let after = messages_until(&socket, Duration::from_secs(20), |m| {
        m.iter().any(|m| m == "WATCHDOG=1")
    });
    assert!(after.iter().any(|m| m == "WATCHDOG=1"), "{after:?}");
}
