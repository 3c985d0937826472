//! Commands: everything a person asks of the console, as data. Views send them through a
//! [`CommandSender`] (any viewport, any tile); the app applies them in one place
//! (`app::ConsoleApp::apply`) before the next frame, so a change is made once and seen by every
//! view at the same time.

use std::sync::mpsc;

use crate::i18n::Lang;
use crate::role::Mode;
use crate::sources::Request;

/// A file format of the exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Svg,
    Png,
    Pdf,
}

impl ExportFormat {
    pub fn from_path(path: &std::path::Path) -> Option<ExportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "svg" => Some(ExportFormat::Svg),
            "png" => Some(ExportFormat::Png),
            "pdf" => Some(ExportFormat::Pdf),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Svg => "svg",
            ExportFormat::Png => "png",
            ExportFormat::Pdf => "pdf",
        }
    }
}

/// Cameras sent to the wall's camera tiles for an incident (nearest first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentCameras {
    pub incident: String,
    pub cameras: Vec<String>,
}

/// A user intent.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    SetLanguage(Lang),
    SetMode(Mode),
    ToggleSettings,
    /// Show or hide the technician's frame profile (F12).
    ToggleProfile,
    DismissLayoutError,
    /// Something for the backend task (operator actions, trainer controls, refresh).
    Backend(Request),
    /// Select an incident everywhere (the desk's queue, the map tiles), or nothing.
    SelectIncident(Option<String>),
    /// Send cameras to the camera tiles with a `nearby` slot, or give the tiles back (`None`).
    SendCameras(Option<SentCameras>),
    /// Fill monitor `monitor` (its name) with tile `tile`, or put it back (`None`).
    Enlarge {
        monitor: String,
        tile: Option<String>,
    },
    /// Scope the wall (and a briefing) to a unit (its id), or back to the province (`None`).
    Scope(Option<String>),
    /// Put the layout's scene `Some(name)` in force, or go back to the base layout (`None`).
    RecallScene(Option<String>),
    /// Export a chart tile to the exports folder.
    Export {
        tile_id: String,
        format: ExportFormat,
    },
    /// Write the last complete quarter's report (CSV and PDF) to the exports folder.
    ExportReport,
    /// A step of the briefing (Brief mode).
    Brief(BriefStep),
    /// Put camera `camera` on camera tile `tile` (None: the tile's own camera again).
    PushCamera {
        tile: String,
        camera: Option<String>,
    },
    /// A change of the wall as consoles in step share it (`wall push`, a desk's push to the
    /// wall); without sync it is applied here as the matching command.
    WallPush(crate::model::wall_share::WallChange),
}

/// What the presenter of a briefing asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum BriefStep {
    /// Load this storyboard, freeze the data and show its first scene.
    Start(std::path::PathBuf),
    Next,
    Previous,
    /// Scene number `n` (from 1, as the presenter types it).
    Go(usize),
    /// Black the audience screen out, or bring it back.
    Black,
    /// Freeze the data again, as of now.
    Refresh,
    /// End the briefing (the data is live again).
    End,
    /// The presenter's ink on the scene shown.
    Ink(InkOp),
    /// Write the deck (cover and a page per scene, as shown: frozen data, ink) as a PDF to the
    /// exports folder.
    ExportDeck,
}

/// What the presenter does with the pen, the eraser or the pointer (points in the scene's own
/// coordinates, 0–1 across and down).
#[derive(Clone, Debug, PartialEq)]
pub enum InkOp {
    /// A new stroke of pen `colour` from `at`.
    Begin { colour: usize, at: [f32; 2] },
    /// The stroke being drawn goes on to `at`.
    Extend([f32; 2]),
    /// Strokes passing within `radius` of `at` are erased.
    Erase { at: [f32; 2], radius: f32 },
    /// The pointer is at `at`.
    Point([f32; 2]),
    /// All ink of the scene shown is cleared.
    Clear,
}

type Waker = std::sync::Arc<dyn Fn() + Send + Sync>;

/// Commands waiting to be applied at most (people click a few times a frame).
const QUEUE: usize = 1024;

/// Where views send commands. Cheap to clone; usable from every viewport.
#[derive(Clone)]
pub struct CommandSender {
    tx: Option<mpsc::SyncSender<Command>>,
    wake: Option<Waker>,
}

impl std::fmt::Debug for CommandSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSender")
            .field("connected", &self.tx.is_some())
            .finish()
    }
}

impl CommandSender {
    /// A sender and the receiver the app applies from. `wake` is called after each command (the
    /// app passes a repaint of the desk window, where commands are applied).
    pub fn channel(wake: Option<Waker>) -> (CommandSender, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        (CommandSender { tx: Some(tx), wake }, rx)
    }

    /// A sender whose commands go nowhere (a picture drawn for an export, a benchmark).
    pub fn detached() -> CommandSender {
        CommandSender {
            tx: None,
            wake: None,
        }
    }

    pub fn send(&self, command: Command) {
        match &self.tx {
            Some(tx) => {
                match tx.try_send(command) {
                    Ok(()) => {}
                    Err(mpsc::TrySendError::Full(c)) => {
                        tracing::warn!(command = ?c, "too many commands in one frame; dropped")
                    }
                    Err(mpsc::TrySendError::Disconnected(_)) => {
                        tracing::debug!("a command was sent after the console closed")
                    }
                }
                if let Some(wake) = &self.wake {
                    wake();
                }
            }
            None => tracing::debug!(?command, "a command without a console to apply it"),
        }
    }
}
