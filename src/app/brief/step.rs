//! Where a briefing's steps take effect (called from the app's one place for commands).

use std::sync::Arc;

use crate::context::view::BriefingView;
use crate::context::{BriefStep, InkOp};
use crate::i18n::tr_args;
use crate::wall::storyboard;

use super::super::ConsoleApp;

impl ConsoleApp {
    pub(in crate::app) fn brief_step(&mut self, step: BriefStep) {
        let now = (self.clock)();
        let Ok(mut s) = self.state.write() else {
            return;
        };
        let lang = s.lang;
        let mut view = (*s.view).clone();
        match step {
            BriefStep::Start(path) => match storyboard::load(&path).and_then(|b| {
                // Scopes are checked against the backend's units once they are in.
                match s.store.units.data.as_deref() {
                    Some(units) => storyboard::check_units(&b, units).map(|_| b),
                    None => Ok(b),
                }
            }) {
                Ok(board) => {
                    let board = Arc::new(board);
                    tracing::info!(storyboard = %path.display(), scenes = board.scenes.len(), "briefing started");
                    view.briefing = Some(BriefingView {
                        storyboard: path,
                        scene: 0,
                        scenes: board.scenes.len(),
                        as_of: now,
                        black: false,
                        ink: vec![Vec::new(); board.scenes.len()],
                        pointer: None,
                        ink_generation: 0,
                    });
                    view.scope = board
                        .scenes
                        .first()
                        .and_then(|sc| sc.scope.as_ref())
                        .map(|u| u.0.clone());
                    s.frozen = Some(Arc::clone(&s.store));
                    s.storyboard = Some(Arc::clone(&board));
                    self.brief.started(board, now);
                }
                Err(e) => {
                    tracing::warn!(storyboard = %path.display(), errors = %e.say(crate::i18n::Lang::En), "storyboard cannot be used");
                    self.notice = Some(format!(
                        "{} {}",
                        tr_args(lang, "brief.load_failed", &[("file", &path.display())]),
                        e.0.first().map(|d| d.say(lang)).unwrap_or_default()
                    ));
                    self.brief.refresh_offers();
                }
            },
            // An unattended screen never leaves its briefing.
            BriefStep::End if self.brief.rotate && view.briefing.is_some() => {
                tracing::info!("an unattended rotation does not end on a key");
                return;
            }
            BriefStep::End => {
                if view.briefing.take().is_some() {
                    tracing::info!("briefing ended");
                }
                view.scope = None;
                s.frozen = None;
                s.storyboard = None;
                self.brief.ended();
                // Esc leaves the mode.
                if self.mode == crate::role::Mode::Brief {
                    self.mode = crate::role::Mode::Operate;
                }
            }
            BriefStep::Refresh => {
                if let Some(b) = view.briefing.as_mut() {
                    b.as_of = now;
                    s.frozen = Some(Arc::clone(&s.store));
                    tracing::info!("briefing data refreshed");
                    let at = crate::format::to_vietnam_time(now);
                    self.notice = Some(tr_args(
                        lang,
                        "brief.refreshed",
                        &[("time", &at.format("%H:%M %d/%m/%Y").to_string())],
                    ));
                }
            }
            BriefStep::ExportDeck => {
                if let (Some(b), Some(board), Some(frozen)) = (
                    view.briefing.as_ref(),
                    s.storyboard.clone(),
                    s.frozen.clone(),
                ) {
                    export_deck(board, frozen, b.clone(), lang, self.exports.0.clone());
                }
                return;
            }
            BriefStep::Ink(op) => {
                if let Some(b) = view.briefing.as_mut() {
                    ink(b, op, now);
                }
            }
            BriefStep::Black => {
                if let Some(b) = view.briefing.as_mut() {
                    b.black = !b.black;
                }
            }
            BriefStep::Next | BriefStep::Previous | BriefStep::Go(_) => {
                let Some(b) = view.briefing.as_mut() else {
                    return;
                };
                let to = match step {
                    BriefStep::Next => (b.scene + 1).min(b.scenes.saturating_sub(1)),
                    BriefStep::Previous => b.scene.saturating_sub(1),
                    BriefStep::Go(n) if (1..=b.scenes).contains(&n) => n - 1,
                    BriefStep::Go(n) => {
                        self.notice = Some(tr_args(lang, "brief.no_such_scene", &[("n", &n)]));
                        b.scene
                    }
                    _ => b.scene,
                };
                if to != b.scene {
                    b.scene = to;
                    self.brief.moved(now);
                    tracing::debug!(scene = to + 1, "briefing scene");
                    // Each scene brings its own scope (the province when it names none).
                    view.scope = s
                        .storyboard
                        .as_ref()
                        .and_then(|board| board.scenes.get(to))
                        .and_then(|sc| sc.scope.as_ref())
                        .map(|u| u.0.clone());
                }
            }
        }
        s.view = Arc::new(view);
    }
}

/// Longest a stroke grows (points); a pen held down longer starts a new stroke.
const MAX_POINTS: usize = 4096;

fn ink(b: &mut BriefingView, op: InkOp, now: chrono::DateTime<chrono::Utc>) {
    let scene = b.scene;
    if b.ink.len() <= scene {
        b.ink.resize(scene + 1, Vec::new());
    }
    let strokes = &mut b.ink[scene];
    let clamp = |p: [f32; 2]| [p[0].clamp(0.0, 1.0), p[1].clamp(0.0, 1.0)];
    match op {
        InkOp::Begin { colour, at } => strokes.push(crate::context::view::InkStroke {
            colour: colour.min(crate::context::view::INK_COLOURS - 1),
            points: vec![clamp(at)],
        }),
        InkOp::Extend(at) => match strokes.last_mut() {
            Some(s) if s.points.len() < MAX_POINTS => s.points.push(clamp(at)),
            Some(s) => {
                let colour = s.colour;
                strokes.push(crate::context::view::InkStroke {
                    colour,
                    points: vec![clamp(at)],
                });
            }
            None => return,
        },
        InkOp::Erase { at, radius } => {
            let touched = |s: &crate::context::view::InkStroke| match s.points.as_slice() {
                [one] => distance(at, *one, *one) <= radius,
                points => points
                    .windows(2)
                    .any(|w| distance(at, w[0], w[1]) <= radius),
            };
            strokes.retain(|s| !touched(s));
        }
        InkOp::Point(at) => b.pointer = Some((clamp(at), now)),
        InkOp::Clear => strokes.clear(),
    }
    b.ink_generation += 1;
}

/// How far `p` is from the segment `a`–`b`.
fn distance(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p[0] - (a[0] + t * dx)).hypot(p[1] - (a[1] + t * dy))
}

/// Writes the deck to the exports folder off the UI thread; the outcome reaches the status bar.
fn export_deck(
    board: Arc<storyboard::Storyboard>,
    store: Arc<crate::store::Store>,
    b: BriefingView,
    lang: crate::i18n::Lang,
    tx: std::sync::mpsc::Sender<String>,
) {
    let dir = ConsoleApp::exports_dir();
    let stamp = crate::format::to_vietnam_time(chrono::Utc::now()).format("%Y%m%d-%H%M%S");
    let stem = board
        .path
        .file_stem()
        .map_or("giao-ban".into(), |s| s.to_string_lossy().into_owned());
    let out = dir.join(format!("{stem}-{stamp}.pdf"));
    let spawned = std::thread::Builder::new()
        .name("deck".into())
        .spawn(move || {
            let deck = super::deck::Deck {
                board: &board,
                store,
                as_of: b.as_of,
                lang,
                ink: &b.ink,
            };
            let result = std::fs::create_dir_all(&dir)
                .map_err(|e| e.to_string())
                .and_then(|_| deck.pdf())
                .and_then(|bytes| {
                    crate::wall::save::write_atomic(&out, bytes)
                        .map_err(|e| format!("{}: {e}", out.display()))
                });
            let msg = match result {
                Ok(()) => {
                    tracing::info!(path = %out.display(), "deck written");
                    tr_args(lang, "export.written", &[("out", &out.display())])
                }
                Err(error) => {
                    tracing::warn!(%error, "deck export failed");
                    tr_args(lang, "export.failed", &[("error", &error)])
                }
            };
            let _ = tx.send(msg);
        });
    if let Err(e) = spawned {
        tracing::error!(%e, "cannot start the deck thread");
    }
}
