//! A wall's state shared by the consoles in step (one value per wall in a NATS key-value
//! bucket), the changes a desk pushes to it, and the heartbeat every console publishes.
//!
//! Plain serde types: the `sync` task moves them as JSON, the app turns them into the same
//! commands as a local click. A value written by a newer console (`format` above ours) or one
//! that does not parse is not applied: the wall keeps its last good state and says why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// The format of [`SharedWall`] this console writes and reads. A console reading a higher
/// number ignores the value (it may carry meaning this one would drop).
pub const FORMAT: u32 = 1;

/// Values larger than this are not read (a wall's state is a few hundred bytes).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// What a wall shows, as every console of the wall applies it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedWall {
    /// The format of this value ([`FORMAT`]).
    pub format: u32,
    /// The layout (its `name`) the wall shows, written by the first console that pushes.
    /// Consoles showing another layout say so, apply nothing of it and cannot push onto it.
    #[serde(default)]
    pub layout: Option<String>,
    /// The layout's scene in force (None: the base layout).
    #[serde(default)]
    pub scene: Option<String>,
    /// Cameras pushed to camera tiles: tile id → camera id.
    #[serde(default)]
    pub cameras: BTreeMap<String, String>,
    /// Cameras sent for an incident to the tiles with a `nearby` slot (nearest first).
    #[serde(default)]
    pub nearby: Option<NearbyCameras>,
    /// The tile that fills each monitor: monitor name → tile id.
    #[serde(default)]
    pub enlarged: BTreeMap<String, String>,
    /// The unit (id) the wall is scoped to (None: the province).
    #[serde(default)]
    pub scope: Option<String>,
    /// A briefing in progress on the wall.
    #[serde(default)]
    pub briefing: Option<SharedBriefing>,
    /// Who wrote this value (a console's name) and when (its clock).
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub at: Option<Timestamp>,
}

/// Cameras sent to the wall for an incident.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearbyCameras {
    pub incident: String,
    pub cameras: Vec<String>,
}

/// Where a briefing on the wall stands (the ink stays on the presenter's console: it changes
/// many times a second).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharedBriefing {
    /// The storyboard's file name (found in each console's `briefings/` folder).
    pub storyboard: String,
    /// The scene shown (from 0).
    pub scene: usize,
    /// The data is frozen as of this instant.
    pub as_of: Timestamp,
    #[serde(default)]
    pub black: bool,
    /// The unit the briefing is scoped to (None: the province).
    #[serde(default)]
    pub scope: Option<String>,
}

/// A change a console asks of the wall. Applied to the current value under compare-and-swap,
/// so two desks pushing at once both land.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum WallChange {
    /// Put a layout's scene in force (None: the base layout), with the tiles it enlarges
    /// (monitor → tile): the enlargements of the scene before go.
    Scene {
        scene: Option<String>,
        #[serde(default)]
        enlarged: BTreeMap<String, String>,
    },
    /// Put camera `camera` on tile `tile` (None: the tile's own camera again).
    Camera {
        tile: String,
        camera: Option<String>,
    },
    /// Cameras for an incident to the `nearby` tiles (None: given back).
    Nearby { nearby: Option<NearbyCameras> },
    /// Tile `tile` fills monitor `monitor` (None: back to the layout).
    Enlarge {
        monitor: String,
        tile: Option<String>,
    },
    /// Scope the wall to a unit (None: the province).
    Scope { unit: Option<String> },
    /// A briefing's position (None: ended).
    Briefing { briefing: Option<SharedBriefing> },
    /// The layout the wall shows (its name): what is pushed of the old one is dropped.
    Layout { layout: String },
    /// Everything pushed goes (the layout stays).
    Clear,
}

/// Why a value in the bucket is not applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadValue {
    /// It is not a wall's state (the parser's words).
    Malformed(String),
    /// Written by a newer console.
    Newer(u32),
    /// Larger than [`MAX_VALUE_BYTES`].
    TooLarge(usize),
}

impl SharedWall {
    /// Reads a value from the bucket.
    pub fn decode(bytes: &[u8]) -> Result<SharedWall, BadValue> {
        if bytes.len() > MAX_VALUE_BYTES {
            return Err(BadValue::TooLarge(bytes.len()));
        }
        // The format first, so a newer value with fields this console cannot read is said as
        // newer, not as malformed.
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head =
            serde_json::from_slice(bytes).map_err(|e| BadValue::Malformed(e.to_string()))?;
        if head.format > FORMAT {
            return Err(BadValue::Newer(head.format));
        }
        if head.format == 0 {
            return Err(BadValue::Malformed("format 0".into()));
        }
        serde_json::from_slice(bytes).map_err(|e| BadValue::Malformed(e.to_string()))
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.clone();
        v.format = FORMAT;
        serde_json::to_vec(&v).unwrap_or_default()
    }

    /// The state after `change`.
    pub fn apply(&mut self, change: &WallChange) {
        self.format = FORMAT;
        match change {
            WallChange::Scene { scene, enlarged } => {
                self.scene.clone_from(scene);
                self.enlarged.clone_from(enlarged);
            }
            WallChange::Camera { tile, camera } => match camera {
                Some(c) => {
                    self.cameras.insert(tile.clone(), c.clone());
                }
                None => {
                    self.cameras.remove(tile);
                }
            },
            WallChange::Nearby { nearby } => self.nearby.clone_from(nearby),
            WallChange::Enlarge { monitor, tile } => match tile {
                Some(t) => {
                    self.enlarged.insert(monitor.clone(), t.clone());
                }
                None => {
                    self.enlarged.remove(monitor);
                }
            },
            WallChange::Scope { unit } => self.scope.clone_from(unit),
            WallChange::Briefing { briefing } => self.briefing.clone_from(briefing),
            WallChange::Layout { layout } => {
                if self.layout.as_deref() != Some(layout) {
                    let layout = layout.clone();
                    *self = SharedWall {
                        format: FORMAT,
                        layout: Some(layout),
                        ..SharedWall::default()
                    };
                }
            }
            WallChange::Clear => {
                *self = SharedWall {
                    format: FORMAT,
                    layout: self.layout.take(),
                    ..SharedWall::default()
                };
            }
        }
    }

    /// Tiles and monitors this value names that `layout_has(monitor, tile)` does not know
    /// (monitor `None` for a tile pushed a camera): what a console of another layout version
    /// must not apply.
    pub fn unknown(
        &self,
        tile_known: impl Fn(&str) -> bool,
        monitor_known: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for tile in self.cameras.keys() {
            if !tile_known(tile) {
                out.push(tile.clone());
            }
        }
        for (monitor, tile) in &self.enlarged {
            if !monitor_known(monitor) {
                out.push(monitor.clone());
            }
            if !tile_known(tile) {
                out.push(tile.clone());
            }
        }
        out
    }
}

/// What a console says of itself every few seconds (a value per console in the presence bucket,
/// under `<wall>.<console>`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    /// The console's name (unique on the wall; the host's name by default).
    pub console: String,
    pub host: String,
    pub version: String,
    /// The layout it shows (its name).
    #[serde(default)]
    pub layout: Option<String>,
    /// The monitors it drives now (its own, and a standby's taken over).
    #[serde(default)]
    pub monitors: Vec<String>,
    /// The monitors it is configured to drive (a primary's: what a standby gives back).
    #[serde(default)]
    pub primary: Vec<String>,
    /// The monitors it stands by for.
    #[serde(default)]
    pub standby: Vec<String>,
    /// Its last frame's time, in milliseconds.
    #[serde(default)]
    pub frame_ms: f32,
    /// Whether its data and cameras are healthy, in a word ("ok", "degraded", "offline").
    #[serde(default)]
    pub health: String,
    /// Its role (a leader's desk sees the wall but does not change it).
    #[serde(default)]
    pub role: String,
    pub at: Timestamp,
}

impl Presence {
    pub fn decode(bytes: &[u8]) -> Option<Presence> {
        if bytes.len() > MAX_VALUE_BYTES {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The monitors a console drives: its own (`primary`), and those it stands by for (`standby`)
/// that no other live console has as its own. `alive` are the other consoles of the wall whose
/// heartbeat has not expired.
pub fn driven_monitors(primary: &[String], standby: &[String], alive: &[Presence]) -> Vec<String> {
    let mut out: Vec<String> = primary.to_vec();
    for m in standby {
        let covered = alive.iter().any(|p| p.primary.contains(m));
        if !covered && !out.contains(m) {
            out.push(m.clone());
        }
    }
    out
}

/// Monitors of `all` that no console in `alive` drives.
pub fn undriven<'a>(all: impl IntoIterator<Item = &'a str>, alive: &[Presence]) -> Vec<String> {
    all.into_iter()
        .filter(|m| !alive.iter().any(|p| p.monitors.iter().any(|x| x == m)))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(console: &str, primary: &[&str], monitors: &[&str]) -> Presence {
        Presence {
            console: console.into(),
            host: console.into(),
            version: "0".into(),
            layout: None,
            monitors: monitors.iter().map(|s| s.to_string()).collect(),
            primary: primary.iter().map(|s| s.to_string()).collect(),
            standby: Vec::new(),
            frame_ms: 1.0,
            health: "ok".into(),
            role: "operator".into(),
            at: Timestamp::default(),
        }
    }

    #[test]
    fn changes_apply_and_a_scene_drops_enlargements() {
        let mut w = SharedWall::default();
        w.apply(&WallChange::Layout {
            layout: "ioc-main".into(),
        });
        w.apply(&WallChange::Enlarge {
            monitor: "B1".into(),
            tile: Some("cam-1".into()),
        });
        w.apply(&WallChange::Camera {
            tile: "cam-1".into(),
            camera: Some("CAM-07".into()),
        });
        assert_eq!(w.enlarged.get("B1").map(String::as_str), Some("cam-1"));
        w.apply(&WallChange::Scene {
            scene: Some("flood".into()),
            enlarged: BTreeMap::from([("A1".to_string(), "map".to_string())]),
        });
        assert_eq!(
            w.enlarged.keys().collect::<Vec<_>>(),
            ["A1"],
            "a new scene has its own enlargements only"
        );
        assert_eq!(w.cameras.get("cam-1").map(String::as_str), Some("CAM-07"));
        let back = SharedWall::decode(&w.encode()).unwrap();
        assert_eq!(back, w);
        w.apply(&WallChange::Clear);
        assert_eq!(w.layout.as_deref(), Some("ioc-main"));
        assert!(w.cameras.is_empty() && w.scene.is_none());
        w.apply(&WallChange::Camera {
            tile: "cam-1".into(),
            camera: Some("CAM-07".into()),
        });
        w.apply(&WallChange::Layout {
            layout: "briefing".into(),
        });
        assert!(w.cameras.is_empty(), "another layout drops what was pushed");
    }

    #[test]
    fn bad_values_say_why() {
        assert!(matches!(
            SharedWall::decode(b"{not json"),
            Err(BadValue::Malformed(_))
        ));
        assert!(matches!(
            SharedWall::decode(br#"{"format": 1, "scene": 7}"#),
            Err(BadValue::Malformed(_))
        ));
        assert_eq!(
            SharedWall::decode(br#"{"format": 9, "scene": {"x": 1}}"#),
            Err(BadValue::Newer(9))
        );
        assert!(matches!(
            SharedWall::decode(br#"{"scene": "x"}"#),
            Err(BadValue::Malformed(_))
        ));
        let big = vec![b' '; MAX_VALUE_BYTES + 1];
        assert_eq!(
            SharedWall::decode(&big),
            Err(BadValue::TooLarge(MAX_VALUE_BYTES + 1))
        );
        let w = SharedWall::decode(br#"{"format": 1, "scene": "s", "extra": true}"#).unwrap();
        assert_eq!(w.scene.as_deref(), Some("s"), "unknown fields are ignored");
    }

    #[test]
    fn a_standby_takes_what_no_live_primary_has() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let primary = presence("pc-a", &["A1", "B1"], &["A1", "B1"]);
        assert_eq!(
            driven_monitors(
                &s(&["C1"]),
                &s(&["A1", "B1"]),
                std::slice::from_ref(&primary)
            ),
            s(&["C1"])
        );
        assert_eq!(
            driven_monitors(&s(&["C1"]), &s(&["A1", "B1"]), &[]),
            s(&["C1", "A1", "B1"])
        );
        // A standby that took over lists the monitors as driven, not as its own: a second
        // standby does not think them covered.
        let taken = presence("pc-s", &[], &["A1", "B1"]);
        assert_eq!(
            driven_monitors(&[], &s(&["A1"]), std::slice::from_ref(&taken)),
            s(&["A1"])
        );
        assert_eq!(undriven(["A1", "B1", "C1"], &[taken]), s(&["C1"]));
    }
}
