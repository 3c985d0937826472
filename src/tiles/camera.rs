//! `camera`: one live camera from the backend's camera list, decoded with GStreamer and drawn on
//! the GPU (`video::paint`). The tile never shows a black picture without words: connecting,
//! live (frame age on hover or with `show_info`), stalled (the last picture greyed, "mất tín
//! hiệu" and the time since), reconnecting (countdown and reason) and errors in words. The
//! stream's profile follows the tile's pixel size and the wall's decode budget
//! (`video::hub`); a lowered tile says so.

use std::time::{Duration, Instant};

use egui::{Color32, Rect, pos2, vec2};
use schemars::JsonSchema;
use serde::Deserialize;

use super::TileView;
use crate::context::{FrameCtx, TileState};
use crate::model::{Camera, StreamKind};
use crate::sources::Resource;
use crate::status::{DataStatus, SourceState};
use crate::text::Text;
use crate::ui::theme;
use crate::video::hub::CameraView;
use crate::video::plan::Want;
use crate::video::stream::StreamState;

/// Which stream a tile shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfileChoice {
    /// The smallest stream that covers the tile (default).
    #[default]
    Auto,
    Main,
    Sub,
}

/// Options of a `camera` tile.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CameraOptions {
    /// The camera's id in the backend's camera list.
    pub camera: String,
    /// "auto" (default), "main" or "sub".
    #[serde(default)]
    pub profile: ProfileChoice,
    /// 0–10 (default 5): when the wall's decode budget is short, the least important tiles are
    /// lowered to their sub stream first.
    #[serde(default = "five")]
    pub importance: u8,
    /// Always show the stream, its size and the frame age (otherwise on hover).
    #[serde(default)]
    pub show_info: bool,
    /// 1–16: this tile shows the n-th of the cameras an operator sends to the wall from the
    /// map or the desk (nearest to an incident first), instead of `camera`, until they are
    /// given back.
    #[serde(default)]
    pub nearby: Option<u8>,
}

fn five() -> u8 {
    5
}

impl CameraOptions {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.camera.trim().is_empty() {
            return Err(("camera", "must name a camera id".into()));
        }
        if self
            .nearby
            .is_some_and(|n| n == 0 || usize::from(n) > crate::context::view::MAX_SENT)
        {
            return Err((
                "nearby",
                format!(
                    "must be 1 to {}, not {}",
                    crate::context::view::MAX_SENT,
                    self.nearby.unwrap_or(0)
                ),
            ));
        }
        if self.importance > 10 {
            return Err((
                "importance",
                format!("must be 0 to 10, not {}", self.importance),
            ));
        }
        Ok(())
    }

    /// What the tile asks of the hub when drawn at `pixels`.
    fn want(&self, cx: &FrameCtx, pixels: [f32; 2]) -> Want {
        Want {
            pixels,
            importance: i32::from(self.importance) + if cx.enlarged { 100 } else { 0 },
            pinned: match self.profile {
                ProfileChoice::Auto => None,
                ProfileChoice::Main => Some(StreamKind::Main),
                ProfileChoice::Sub => Some(StreamKind::Sub),
            },
        }
    }

    /// The camera an operator sent to this tile's slot, if any.
    fn sent<'a>(&self, cx: &'a FrameCtx) -> Option<&'a str> {
        let n = usize::from(self.nearby?);
        cx.view.sent().get(n.checked_sub(1)?).map(String::as_str)
    }

    /// The id of the camera shown now.
    pub fn camera_id<'a>(&'a self, cx: &'a FrameCtx) -> &'a str {
        self.sent(cx).unwrap_or(&self.camera)
    }

    fn camera<'a>(&self, cx: &'a FrameCtx) -> Option<&'a Camera> {
        let id = self.camera_id(cx);
        cx.store
            .cameras
            .data
            .as_deref()?
            .iter()
            .find(|c| c.id == id)
    }
}

/// A stream's problem in words: the catalogue's sentence, with at most the first line of
/// GStreamer's own text (its debug part, element paths and source files stay in the log).
fn words(e: &crate::video::VideoError) -> Text {
    let detail = e.detail();
    let first = detail.lines().next().unwrap_or("").trim();
    let short: String = if first.chars().count() > 80 {
        let mut s: String = first.chars().take(79).collect();
        s.push('…');
        s
    } else {
        first.to_owned()
    };
    Text::key(e.key()).arg_detail("detail", short)
}

/// What the frame around the tile says about a camera's stream.
fn stream_status(view: &CameraView, cx: &FrameCtx) -> DataStatus {
    let as_of = view.frame.as_ref().map(|f| {
        let age = Instant::now().saturating_duration_since(f.received_at);
        cx.now - chrono::Duration::from_std(age).unwrap_or_default()
    });
    // A stream that had a picture lost it; one that never had one cannot be shown.
    let key = if view.frame.is_some() {
        "camera.lost"
    } else {
        "camera.error"
    };
    let reason = |r: &crate::video::VideoError| Text::key(key).arg_text("reason", words(r));
    match &view.state {
        StreamState::Live => DataStatus {
            state: SourceState::Live,
            as_of,
            reason: None,
        },
        // The previous profile's live picture while the planned one connects.
        StreamState::Connecting if view.switching => DataStatus {
            state: SourceState::Live,
            as_of,
            reason: None,
        },
        // Rebuilding after the picture was lost: the last one is kept, old.
        StreamState::Connecting if view.frame.is_some() => DataStatus {
            state: SourceState::Stale,
            as_of,
            reason: Some(Text::key("camera.no_signal")),
        },
        StreamState::Connecting => DataStatus {
            state: SourceState::Connecting,
            as_of,
            reason: None,
        },
        StreamState::Stalled { .. } => DataStatus {
            state: SourceState::Stale,
            as_of,
            reason: Some(Text::key("camera.no_signal")),
        },
        StreamState::Reconnecting { reason: r, .. } => {
            use crate::video::VideoError as E;
            let state = match r {
                E::Auth | E::NotFound | E::Unsupported(_) | E::BadUrl(_) | E::Gstreamer(_) => {
                    SourceState::Error
                }
                E::Network(_) | E::NoPicture(_) | E::Ended | E::Other(_) => SourceState::Offline,
            };
            DataStatus {
                state,
                as_of,
                reason: Some(reason(r)),
            }
        }
    }
}

impl TileView for CameraOptions {
    fn status(&self, cx: &FrameCtx) -> DataStatus {
        let list = cx.store.status(Resource::Cameras, cx.data_now());
        if cx.store.cameras.data.is_none() {
            return list;
        }
        let Some(camera) = self.camera(cx) else {
            return DataStatus::with_reason(
                SourceState::Error,
                None,
                Text::key("camera.unknown").arg("id", self.camera_id(cx)),
            );
        };
        if camera.profiles.is_empty() {
            return DataStatus::with_reason(
                SourceState::Error,
                None,
                Text::key("camera.no_profiles").arg("id", self.camera_id(cx)),
            );
        }
        if cx.print {
            // On paper the list's state stands for the camera: its picture is live only.
            return list;
        }
        match cx.cameras.peek(&camera.id) {
            Some(view) => stream_status(&view, cx),
            None => DataStatus {
                state: SourceState::Connecting,
                as_of: None,
                reason: None,
            },
        }
    }

    fn title(&self, cx: &FrameCtx) -> Option<String> {
        // A camera sent from the map is named in the title, not the layout's own camera.
        self.sent(cx)?;
        self.camera(cx).map(|c| c.name.clone())
    }

    fn keep_warm(&self, cx: &FrameCtx, pixels: [f32; 2]) {
        if let Some(camera) = self
            .camera(cx)
            .filter(|c| !c.profiles.is_empty() && !cx.print)
        {
            cx.cameras.request(camera, self.want(cx, pixels));
        }
    }

    fn paints_own_state(&self, cx: &FrameCtx) -> bool {
        // A camera with streams: the body tells the stream's state over its picture. Without
        // the list, an unknown camera or one without streams, the frame says why.
        self.camera(cx).is_some_and(|c| !c.profiles.is_empty())
    }

    fn paint_body(
        &self,
        ui: &mut egui::Ui,
        rect: Rect,
        scale: f32,
        cx: &FrameCtx,
        _state: &mut TileState,
    ) {
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::BLACK);
        // Drawn only for a known camera with streams (see `paints_own_state`).
        let Some(camera) = self.camera(cx).filter(|c| !c.profiles.is_empty()) else {
            return;
        };
        if cx.print {
            centre_text(&painter, rect, scale, None, cx.t("camera.not_printed"));
            return;
        }
        let ppp = ui.ctx().pixels_per_point();
        let want = self.want(cx, [rect.width() * ppp, rect.height() * ppp]);
        let Some(view) = cx.cameras.request(camera, want) else {
            return;
        };

        // A decoder's frame that does not hold its planes is never drawn (it would be black):
        // the tile says why instead.
        let unusable = view
            .frame
            .as_ref()
            .and_then(|f| crate::video::yuv::check(&f.as_frame()).err());
        if let Some(e) = &unusable {
            let text = cx.t_args("camera.bad_frame", &[("error", e)]);
            centre_text(&painter, rect, scale, None, &text);
        } else if let Some(frame) = &view.frame {
            crate::video::paint::paint_video(&painter, rect, view.key, frame.clone());
            if view.state != StreamState::Live {
                // The last picture stays, greyed, so nobody takes it for live.
                painter.rect_filled(rect, 0.0, Color32::from_black_alpha(150));
            }
        }

        paint_state_words(&painter, rect, scale, cx, camera, &view);
        self.paint_strips(ui, &painter, rect, scale, cx, &view);

        // Redraw at twice the stream's rate while live (at most 60 Hz): at exactly its rate, a
        // frame would wait up to a whole frame interval for the next redraw, and two frames
        // arriving between redraws would hide one (measured: `cargo bench --bench cameras`).
        // Countdowns need a second.
        let next = if view.state == StreamState::Live {
            let fps = if view.profile.fps > 0.0 {
                view.profile.fps
            } else {
                25.0
            };
            Duration::from_secs_f32(1.0 / (2.0 * fps).clamp(1.0, 60.0))
        } else {
            Duration::from_millis(250)
        };
        ui.ctx().request_repaint_after(next);
    }
}

/// The name of a stream profile on screen.
fn profile_name(cx: &FrameCtx, k: StreamKind) -> &'static str {
    match k {
        StreamKind::Main => cx.t("camera.main"),
        StreamKind::Sub => cx.t("camera.sub"),
    }
}

/// Seconds for a countdown, rounded up.
fn secs(d: Duration) -> u64 {
    d.as_secs_f32().ceil() as u64
}

/// The stream's state in words over the picture (connecting, switching, no signal, reconnecting
/// with the reason and a countdown); nothing while live.
fn paint_state_words(
    painter: &egui::Painter,
    rect: Rect,
    scale: f32,
    cx: &FrameCtx,
    camera: &Camera,
    view: &CameraView,
) {
    let now = Instant::now();
    let backend_offline = (!camera.online).then(|| cx.t("camera.backend_offline"));
    match &view.state {
        StreamState::Live => {}
        StreamState::Connecting if view.switching => {
            let text = cx.t_args(
                "camera.switching",
                &[(
                    "profile",
                    &profile_name(cx, view.profile.kind).to_lowercase(),
                )],
            );
            centre_text(painter, rect, scale, None, &text);
        }
        StreamState::Connecting => match &view.frame {
            // Rebuilding after the picture was lost.
            Some(frame) => {
                let text = format!(
                    "{}\n{}",
                    cx.t_args(
                        "camera.no_signal_for",
                        &[("n", &secs(now.saturating_duration_since(frame.received_at)))],
                    ),
                    cx.t("camera.reconnecting_now")
                );
                centre_text(painter, rect, scale, Some(cx.t("camera.no_signal")), &text);
            }
            None => centre_text(painter, rect, scale, None, cx.t("camera.connecting")),
        },
        StreamState::Stalled { since } => {
            let text = cx.t_args(
                "camera.no_signal_for",
                &[("n", &secs(now.saturating_duration_since(*since)))],
            );
            centre_text(painter, rect, scale, Some(cx.t("camera.no_signal")), &text);
        }
        StreamState::Reconnecting {
            at,
            attempts,
            reason,
        } => {
            let why = words(reason).say(cx.lang);
            let left = at.saturating_duration_since(now);
            let retry = if left.is_zero() {
                cx.t_args("camera.retrying", &[("attempt", &(attempts + 1))])
            } else {
                cx.t_args(
                    "camera.retry_in",
                    &[("n", &secs(left)), ("attempt", &(attempts + 1))],
                )
            };
            let mut text = format!(
                "{}\n{retry}",
                cx.t_args("camera.error", &[("reason", &why)])
            );
            if let Some(b) = backend_offline {
                text = format!("{text}\n{b}");
            }
            let head = view.frame.is_some().then(|| cx.t("camera.no_signal"));
            centre_text(painter, rect, scale, head, &text);
        }
    }
}

impl CameraOptions {
    /// Over the picture: "sent by an operator" at the top; at the bottom, a lowered or fallback
    /// stream said in words, and the stream's details on hover (or always with `show_info`).
    fn paint_strips(
        &self,
        ui: &egui::Ui,
        painter: &egui::Painter,
        rect: Rect,
        scale: f32,
        cx: &FrameCtx,
        view: &CameraView,
    ) {
        let pad = theme::WALL.padding * scale;
        let now = Instant::now();
        // Sent by an operator: which camera this is, said at the top.
        if self.sent(cx).is_some() {
            let text = cx.t("camera.sent").to_owned();
            let galley = painter.layout(
                text,
                theme::wall_font(theme::WALL.caption, scale, true),
                theme::colors::TEXT,
                (rect.width() - 3.0 * pad).max(1.0),
            );
            let r = Rect::from_min_size(
                rect.min + vec2(pad * 0.5, pad * 0.5),
                galley.size() + vec2(pad * 1.5, pad * 0.6),
            );
            painter.rect_filled(r, pad * 0.3, theme::colors::CONNECTING);
            painter.galley(
                r.min + vec2(pad * 0.75, pad * 0.3),
                galley,
                theme::colors::TEXT,
            );
        }

        // Lowered by the budget, or kept on the other stream because the planned one fails:
        // said on the picture, always.
        let mut bottom = rect.bottom() - pad * 0.5;
        if let Some(e) = &view.fallback {
            let text = cx.t_args(
                "camera.fallback",
                &[
                    ("wanted", &profile_name(cx, view.profile.kind)),
                    ("reason", &words(e).say(cx.lang)),
                ],
            );
            bottom = strip(painter, rect, bottom, scale, &text, theme::colors::ERROR);
        }
        if let Some(l) = &view.lowered {
            let text = cx.t_args(
                "camera.lowered",
                &[
                    ("profile", &profile_name(cx, view.profile.kind)),
                    ("wanted", &profile_name(cx, l.wanted).to_lowercase()),
                    ("demand", &format!("{:.0}", l.demand_mpx_s)),
                    ("budget", &format!("{:.0}", l.budget_mpx_s)),
                ],
            );
            bottom = strip(painter, rect, bottom, scale, &text, theme::colors::STALE);
        }
        let hovered = ui.rect_contains_pointer(rect);
        if (self.show_info || hovered)
            && let Some(frame) = &view.frame
        {
            let age = now.saturating_duration_since(frame.received_at).as_millis();
            let fps = if view.profile.fps > 0.0 {
                format!("{:.0}", view.profile.fps)
            } else {
                "?".into()
            };
            let text = cx.t_args(
                "camera.info",
                &[
                    ("profile", &profile_name(cx, view.profile.kind)),
                    ("w", &frame.width),
                    ("h", &frame.height),
                    ("fps", &fps),
                    ("age", &age),
                ],
            );
            strip(painter, rect, bottom, scale, &text, theme::colors::ACCENT);
        }
    }
}

/// A state in words over the middle of the picture: an optional headline, then the text.
fn centre_text(painter: &egui::Painter, rect: Rect, scale: f32, head: Option<&str>, text: &str) {
    let pad = theme::WALL.padding * scale;
    let width = (rect.width() - 2.0 * pad).max(1.0);
    let head = head.map(|h| {
        painter.layout(
            h.to_owned(),
            theme::wall_font(theme::WALL.title * 1.2, scale, true),
            theme::colors::STALE,
            width,
        )
    });
    let body = painter.layout(
        text.to_owned(),
        theme::wall_font(theme::WALL.body * 0.8, scale, false),
        theme::colors::TEXT,
        width,
    );
    let gap = pad * 0.5;
    let h = head.as_ref().map_or(0.0, |g| g.size().y + gap) + body.size().y;
    let w = head.as_ref().map_or(0.0, |g| g.size().x).max(body.size().x);
    let mut y = rect.center().y - h / 2.0;
    let back = Rect::from_center_size(rect.center(), vec2(w + 2.0 * pad, h + 2.0 * gap));
    painter.rect_filled(back, pad * 0.4, Color32::from_black_alpha(170));
    if let Some(g) = head {
        let x = rect.center().x - g.size().x / 2.0;
        let size = g.size();
        painter.galley(pos2(x, y), g, theme::colors::STALE);
        y += size.y + gap;
    }
    let x = rect.center().x - body.size().x / 2.0;
    painter.galley(pos2(x, y), body, theme::colors::TEXT);
}

/// A line of text on a dark strip whose bottom is at `bottom`; returns the strip's top.
fn strip(
    painter: &egui::Painter,
    rect: Rect,
    bottom: f32,
    scale: f32,
    text: &str,
    accent: Color32,
) -> f32 {
    let pad = theme::WALL.padding * scale;
    let galley = painter.layout(
        text.to_owned(),
        theme::wall_font(theme::WALL.caption, scale, false),
        theme::colors::TEXT,
        (rect.width() - 3.0 * pad).max(1.0),
    );
    let r = Rect::from_min_max(
        pos2(
            rect.left() + pad * 0.5,
            bottom - galley.size().y - pad * 0.6,
        ),
        pos2(rect.left() + galley.size().x + pad * 2.0, bottom),
    );
    painter.rect_filled(r, pad * 0.3, Color32::from_black_alpha(190));
    painter.rect_filled(
        Rect::from_min_size(r.min, vec2(pad * 0.3, r.height())),
        0.0,
        accent,
    );
    painter.galley(
        pos2(r.left() + pad, r.top() + pad * 0.3),
        galley,
        theme::colors::TEXT,
    );
    r.top() - pad * 0.3
}
