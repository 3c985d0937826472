//! What the console shows beyond the layout and the data: the selected incident (shared by the
//! desk's queue and every map tile), the cameras an operator sent to the wall, and the tile that
//! fills each monitor. Changed only by [`ViewState::apply`] with commands, from the app's one
//! place; views read the copy of the frame (`FrameCtx::view`).

use std::collections::BTreeMap;

use super::command::{Command, SentCameras};

/// At most this many cameras are sent at once (the largest `nearby` slot).
pub const MAX_SENT: usize = 16;

/// The selection and the wall's presentation, with counters that grow on every change so a view
/// can tell a new selection from one it has already followed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewState {
    pub incident: Option<String>,
    /// Grows when the selected incident changes.
    pub generation: u64,
    /// Cameras an operator sent to the wall's camera tiles (nearest first): the tiles with a
    /// `nearby` slot show them until they are given back.
    pub sent_cameras: Option<SentCameras>,
    /// Grows when cameras are sent or given back (views following the incident do not move).
    pub sent_generation: u64,
    /// The tile that fills each monitor (by the monitor's name).
    pub enlarged: BTreeMap<String, String>,
    /// The layout's scene in force (None: the base layout).
    pub scene: Option<String>,
    /// A briefing in progress: where it stands.
    pub briefing: Option<BriefingView>,
    /// The unit (id) the wall or the briefing is scoped to (None: the province).
    pub scope: Option<String>,
    /// Cameras pushed to camera tiles (tile id → camera id): the layout in force shows them.
    pub pushed: BTreeMap<String, String>,
}

/// Where a briefing stands: what the audience sees. (The storyboard itself is the app's; this is
/// the part every view of the wall reads, and what consoles in step would share.)
#[derive(Clone, Debug, PartialEq)]
pub struct BriefingView {
    /// The storyboard's file (its identity).
    pub storyboard: std::path::PathBuf,
    /// The scene shown (index into the storyboard's scenes).
    pub scene: usize,
    /// How many scenes the storyboard has.
    pub scenes: usize,
    /// The data shown is frozen as of this instant.
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// The audience screen is blacked out.
    pub black: bool,
    /// The presenter's ink, by scene (it stays with its scene when going back to it).
    pub ink: Vec<Vec<InkStroke>>,
    /// Where the presenter's pointer is (in the scene, 0–1 both ways) and since when: it fades.
    pub pointer: Option<([f32; 2], chrono::DateTime<chrono::Utc>)>,
    /// Grows with every change of the ink or the pointer (to wake the audience's screens).
    pub ink_generation: u64,
}

/// The colours of the presenter's pens.
pub const INK_COLOURS: usize = 3;

/// One stroke of ink: a pen's colour (index) and its points, in the scene's own coordinates
/// (0–1 across and down), so it lands on the same place of every screen and page.
#[derive(Clone, Debug, PartialEq)]
pub struct InkStroke {
    pub colour: usize,
    pub points: Vec<[f32; 2]>,
}

impl BriefingView {
    /// The ink of the scene shown.
    pub fn ink_here(&self) -> &[InkStroke] {
        self.ink.get(self.scene).map_or(&[], Vec::as_slice)
    }
}

impl ViewState {
    /// Changes whenever anything here changes (to wake the wall's viewports).
    pub fn stamp(&self) -> u64 {
        let enlarged = self.enlarged.iter().fold(0u64, |h, (m, t)| {
            h.rotate_left(7)
                ^ crate::util::hash::fnv1a(m)
                ^ crate::util::hash::fnv1a(t).rotate_left(17)
        });
        let scene = self.scene.as_deref().map_or(0, crate::util::hash::fnv1a);
        let briefing = self.briefing.as_ref().map_or(0, |b| {
            (b.scene as u64 + 1).rotate_left(11)
                ^ (b.as_of.timestamp_millis() as u64).rotate_left(23)
                ^ u64::from(b.black)
                ^ b.ink_generation.rotate_left(41)
        });
        let scope = self.scope.as_deref().map_or(0, crate::util::hash::fnv1a)
            ^ self.pushed.iter().fold(0u64, |h, (t, c)| {
                h.rotate_left(5)
                    ^ crate::util::hash::fnv1a(t)
                    ^ crate::util::hash::fnv1a(c).rotate_left(13)
            });
        self.generation
            ^ scope.rotate_left(29)
            ^ self.sent_generation.rotate_left(32)
            ^ enlarged
            ^ scene.rotate_left(3)
            ^ briefing
    }

    /// The cameras sent to the wall, nearest first (empty when none are).
    pub fn sent(&self) -> &[String] {
        self.sent_cameras.as_ref().map_or(&[], |s| &s.cameras)
    }

    /// The tile that fills monitor `monitor`, if any.
    pub fn enlarged_on(&self, monitor: &str) -> Option<&str> {
        self.enlarged.get(monitor).map(String::as_str)
    }

    /// Applies a command that changes what is shown; false for commands that are not about it.
    /// A repeat of the current state changes nothing (counters included).
    pub fn apply(&mut self, command: &Command) -> bool {
        match command {
            Command::SelectIncident(id) => {
                if self.incident != *id {
                    self.incident.clone_from(id);
                    self.generation += 1;
                }
            }
            Command::SendCameras(sent) => {
                let sent = sent.clone().map(|mut s| {
                    s.cameras.truncate(MAX_SENT);
                    s
                });
                if self.sent_cameras != sent {
                    self.sent_cameras = sent;
                    self.sent_generation += 1;
                }
            }
            Command::Scope(unit) => self.scope.clone_from(unit),
            Command::Enlarge { monitor, tile } => match tile {
                Some(t) => {
                    self.enlarged.insert(monitor.clone(), t.clone());
                }
                None => {
                    self.enlarged.remove(monitor);
                }
            },
            _ => return false,
        }
        true
    }

    /// A new layout: enlargements of tiles or monitors it no longer has are dropped.
    pub fn retain_layout(&mut self, has: impl Fn(&str, &str) -> bool) {
        self.enlarged.retain(|monitor, tile| has(monitor, tile));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_change_the_view_once() {
        let mut v = ViewState::default();
        assert!(v.apply(&Command::SelectIncident(Some("SV-1".into()))));
        let g = v.generation;
        v.apply(&Command::SelectIncident(Some("SV-1".into())));
        assert_eq!(v.generation, g, "a repeat is not a new selection");
        let many = SentCameras {
            incident: "SV-1".into(),
            cameras: (0..40).map(|i| format!("c{i}")).collect(),
        };
        v.apply(&Command::SendCameras(Some(many)));
        assert_eq!(v.sent().len(), MAX_SENT);
        assert_eq!(
            v.generation, g,
            "sending cameras does not move following maps"
        );
        let before = v.stamp();
        v.apply(&Command::Enlarge {
            monitor: "B2".into(),
            tile: Some("cam-1".into()),
        });
        assert_eq!(v.enlarged_on("B2"), Some("cam-1"));
        assert_ne!(v.stamp(), before);
        v.retain_layout(|_, t| t != "cam-1");
        assert_eq!(v.enlarged_on("B2"), None);
        assert!(!v.apply(&Command::ToggleSettings));
    }
}
