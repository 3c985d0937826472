//! Kiosk (`run --kiosk`): the wall full screen on its monitors without decorations, no bars or
//! panels, the cursor hidden after 3 s without movement, closing refused unless the technician's
//! PIN is typed (checked against its Argon2id hash from `[kiosk] pin_hash`), and screen blanking
//! held off while it runs (`blanking`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Utc};

use crate::context::FrameCtx;
use crate::util::pin::PinHash;

/// How long the pointer must rest before the cursor is hidden.
pub const CURSOR_IDLE_MS: i64 = 3_000;
/// Wrong PINs in a row before typing is refused for `LOCKOUT_S`.
pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT_S: i64 = 60;

/// What the root window and the wall's monitor windows share: when the pointer last moved, and
/// whether one of them was asked to close (the dialog opens on the root window).
#[derive(Debug, Default)]
pub struct Shared {
    last_move_ms: AtomicI64,
    close_asked: AtomicBool,
}

impl Shared {
    /// One window's pass: a close request refused (and the dialog asked for), pointer movement
    /// noted, and the cursor hidden once it has rested `CURSOR_IDLE_MS` (or the next pass asked
    /// for when it will have).
    pub fn pass(&self, ctx: &egui::Context, now: DateTime<Utc>, leaving: bool) {
        if !leaving && ctx.input(|i| i.viewport().close_requested()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.close_asked.store(true, Ordering::Relaxed);
            tracing::warn!("kiosk: a request to close the wall was refused (the PIN is asked)");
        }
        let now_ms = now.timestamp_millis();
        let moved = ctx.input(|i| {
            i.pointer.delta() != egui::Vec2::ZERO
                || i.pointer.any_down()
                || i.events.iter().any(|e| {
                    matches!(
                        e,
                        egui::Event::PointerMoved(_) | egui::Event::MouseWheel { .. }
                    )
                })
        });
        if moved {
            self.last_move_ms.store(now_ms, Ordering::Relaxed);
        }
        let rested = now_ms - self.last_move_ms.load(Ordering::Relaxed);
        if rested >= CURSOR_IDLE_MS {
            ctx.set_cursor_icon(egui::CursorIcon::None);
        } else {
            let left = (CURSOR_IDLE_MS - rested).max(0) as u64;
            ctx.request_repaint_after(std::time::Duration::from_millis(left + 10));
        }
    }

    fn take_close_asked(&self) -> bool {
        self.close_asked.swap(false, Ordering::Relaxed)
    }
}

/// The technician's way out, and what the kiosk holds while it runs.
pub struct Kiosk {
    pin: Option<PinHash>,
    pub shared: Arc<Shared>,
    dialog: Option<Dialog>,
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
    leaving: bool,
    /// Held for the kiosk's life: screen blanking off (given back on drop).
    _blanking: Option<blanking::Inhibit>,
}

#[derive(Default)]
struct Dialog {
    pin: String,
    wrong: bool,
    focus: bool,
}

impl Kiosk {
    /// A kiosk left with the PIN whose hash is `pin` (none: it cannot be left from the wall).
    pub fn new(pin: Option<PinHash>) -> Kiosk {
        if pin.is_none() {
            tracing::warn!(
                "kiosk without [kiosk] pin_hash: the wall cannot be left from its keyboard, only by stopping its service"
            );
        }
        Kiosk {
            pin,
            shared: Arc::default(),
            dialog: None,
            failures: 0,
            locked_until: None,
            leaving: false,
            _blanking: None,
        }
    }

    /// Screen blanking held off while the kiosk lives (X11: the screen saver and DPMS off, set
    /// back on exit; Wayland: left to the compositor, which the wall session's sway does).
    pub fn with_blanking_inhibited(mut self) -> Kiosk {
        self._blanking = blanking::Inhibit::start();
        self
    }

    /// Whether the technician has typed the PIN and the console is closing.
    pub fn leaving(&self) -> bool {
        self.leaving
    }

    /// The root window's pass: close requests refused, the chord Ctrl+Shift+Q and any refused
    /// close open the PIN dialog, and the dialog itself.
    pub fn show(&mut self, ctx: &egui::Context, cx: &FrameCtx, now: DateTime<Utc>) {
        self.shared.pass(ctx, now, self.leaving);
        let chord = ctx.input_mut(|i| {
            i.consume_key(egui::Modifiers::CTRL | egui::Modifiers::SHIFT, egui::Key::Q)
        });
        if (self.shared.take_close_asked() || chord) && self.dialog.is_none() {
            self.dialog = Some(Dialog {
                focus: true,
                ..Dialog::default()
            });
        }
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        let locked = self.locked_until.filter(|t| *t > now);
        let mut submit = false;
        let mut cancel = false;
        egui::Modal::new(egui::Id::unique("kiosk-pin")).show(ctx, |ui| {
            ui.set_width(420.0);
            ui.heading(cx.t("kiosk.title"));
            ui.add_space(6.0);
            match (&self.pin, locked) {
                (None, _) => {
                    ui.label(cx.t("kiosk.no_pin"));
                }
                (Some(_), Some(until)) => {
                    let seconds = (until - now).num_seconds().max(1).to_string();
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        cx.t_args("kiosk.locked", &[("seconds", &seconds)]),
                    );
                    ctx.request_repaint_after(std::time::Duration::from_secs(1));
                }
                (Some(_), None) => {
                    ui.label(cx.t("kiosk.prompt"));
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut dialog.pin)
                            .password(true)
                            .hint_text(cx.t("kiosk.pin"))
                            .desired_width(f32::INFINITY),
                    );
                    if dialog.focus {
                        field.request_focus();
                        dialog.focus = false;
                    }
                    if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        submit = true;
                    }
                    if dialog.wrong {
                        ui.colored_label(ui.visuals().error_fg_color, cx.t("kiosk.wrong"));
                    }
                }
            }
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if self.pin.is_some()
                    && locked.is_none()
                    && ui.button(cx.t("kiosk.leave")).clicked()
                {
                    submit = true;
                }
                if ui.button(cx.t("kiosk.cancel")).clicked()
                    || ui.input(|i| i.key_pressed(egui::Key::Escape))
                {
                    cancel = true;
                }
            });
        });
        if cancel {
            self.dialog = None;
            return;
        }
        if submit
            && locked.is_none()
            && let Some(pin) = &self.pin
        {
            let typed = std::mem::take(&mut dialog.pin);
            if pin.verify(&typed) {
                tracing::info!("kiosk: the technician's PIN was typed; the console closes");
                self.leaving = true;
                self.dialog = None;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                self.failures += 1;
                dialog.wrong = true;
                dialog.focus = true;
                tracing::warn!(failures = self.failures, "kiosk: a wrong PIN was typed");
                if self.failures >= MAX_FAILURES {
                    self.failures = 0;
                    self.locked_until = Some(now + chrono::Duration::seconds(LOCKOUT_S));
                    tracing::warn!(
                        seconds = LOCKOUT_S,
                        "kiosk: too many wrong PINs, typing refused for a while"
                    );
                }
            }
        }
    }
}

/// Screen blanking held off for the kiosk's life.
pub mod blanking {
    use std::process::Command;

    /// On X11 the X server's own screen saver and DPMS (which blank a screen after ten minutes
    /// by default) are switched off with `xset` and set back as they were when the kiosk ends.
    /// On Wayland a client cannot do it itself without the idle-inhibit protocol, which winit
    /// does not speak: the wall session's sway holds blanking off for the console's windows
    /// (`inhibit_idle open`, and no idle daemon is started), see `cli::kiosk`.
    pub struct Inhibit {
        restore: Vec<Vec<String>>,
    }

    /// The screen saver's timeout and cycle, and whether DPMS is on (false also where the server
    /// has no DPMS), from `xset q`.
    pub fn parse_xset_q(text: &str) -> Option<(u32, u32, bool)> {
        let mut saver = None;
        let mut dpms = false;
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(i) = words.iter().position(|w| *w == "timeout:") {
                let timeout = words.get(i + 1)?.parse().ok()?;
                let cycle = words
                    .iter()
                    .position(|w| *w == "cycle:")
                    .and_then(|j| words.get(j + 1))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(600);
                saver = Some((timeout, cycle));
            }
            if line.trim() == "DPMS is Enabled" {
                dpms = true;
            }
        }
        saver.map(|(t, c)| (t, c, dpms))
    }

    fn xset(args: &[&str]) -> Option<String> {
        let out = Command::new("xset").args(args).output().ok()?;
        if !out.status.success() {
            return None;
        }
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    impl Inhibit {
        pub fn start() -> Option<Inhibit> {
            let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some_and(|s| !s.is_empty());
            let x11 = std::env::var_os("DISPLAY").is_some_and(|s| !s.is_empty());
            if wayland || !x11 {
                tracing::info!(
                    "kiosk: screen blanking is the compositor's to hold off (the wall session's sway does)"
                );
                return None;
            }
            let Some(before) = xset(&["q"]).as_deref().and_then(parse_xset_q) else {
                tracing::warn!(
                    "kiosk: xset (x11-xserver-utils) could not be run: the X server may blank the wall"
                );
                return None;
            };
            if xset(&["s", "off", "s", "noblank"]).is_none() {
                tracing::warn!("kiosk: xset could not switch the screen saver off");
                return None;
            }
            // DPMS only where the server has it (Xvfb has not).
            if before.2 && xset(&["-dpms"]).is_none() {
                tracing::warn!("kiosk: xset could not switch DPMS off");
            }
            let (timeout, cycle, dpms) = before;
            let mut restore = vec![vec!["s".to_owned(), timeout.to_string(), cycle.to_string()]];
            if dpms {
                restore.push(vec!["+dpms".to_owned()]);
            }
            tracing::info!(
                timeout,
                dpms,
                "kiosk: screen saver and DPMS off while the wall runs"
            );
            Some(Inhibit { restore })
        }
    }

    impl Drop for Inhibit {
        fn drop(&mut self) {
            for args in &self.restore {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                if xset(&args).is_none() {
                    tracing::warn!(?args, "kiosk: screen blanking could not be set back");
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::parse_xset_q;

        #[test]
        fn reads_the_screen_saver_and_dpms_from_xset_q() {
            let q = "Screen Saver:\n  prefer blanking:  yes    allow exposures:  yes\n  timeout:  600    cycle:  600\nDPMS (Energy Star):\n  Standby: 600    Suspend: 600    Off: 600\n  DPMS is Enabled\n  Monitor is On\n";
            assert_eq!(parse_xset_q(q), Some((600, 600, true)));
            let off = "Screen Saver:\n  timeout:  0    cycle:  600\nDPMS (Energy Star):\n  DPMS is Disabled\n";
            assert_eq!(parse_xset_q(off), Some((0, 600, false)));
            assert_eq!(parse_xset_q("garbage"), None);
        }
    }
}
