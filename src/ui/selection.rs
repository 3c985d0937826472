//! The operator's current selection, shared by every view of one console (the desk's incident
//! queue, the map tiles on the wall): selecting an incident in one place shows it in the others.
//! Kept in the egui context, so the wall's viewports and the desk window see the same one.

/// What is selected, with a counter that grows on every change so a view can tell a new
/// selection from one it has already followed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub incident: Option<String>,
    /// Cameras an operator sent to the wall's camera tiles (nearest first), for the incident
    /// named: the tiles with a `nearby` slot show them until they are given back.
    pub sent_cameras: Option<SentCameras>,
    pub generation: u64,
    /// Grows when cameras are sent or given back (views following the incident do not move).
    pub sent_generation: u64,
}

impl Selection {
    /// Changes whenever anything of the selection changes (to wake the wall's viewports).
    pub fn stamp(&self) -> u64 {
        self.generation ^ self.sent_generation.rotate_left(32)
    }
}

/// Cameras sent to the wall for an incident.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentCameras {
    pub incident: String,
    pub cameras: Vec<String>,
}

/// At most this many cameras are sent at once (the largest `nearby` slot).
pub const MAX_SENT: usize = 16;

fn key() -> egui::Id {
    egui::Id::NULL.with("ioc-console/selection")
}

/// The current selection.
pub fn get(ctx: &egui::Context) -> Selection {
    ctx.data(|d| d.get_temp::<Selection>(key()).unwrap_or_default())
}

/// Sends cameras (nearest first) to the camera tiles with a `nearby` slot, or gives the tiles
/// back their own cameras (`None`).
pub fn send_cameras(ctx: &egui::Context, sent: Option<SentCameras>) {
    let sent = sent.map(|mut s| {
        s.cameras.truncate(MAX_SENT);
        s
    });
    ctx.data_mut(|d| {
        let s = d.get_temp_mut_or_default::<Selection>(key());
        if s.sent_cameras != sent {
            s.sent_cameras = sent;
            s.sent_generation += 1;
        }
    });
}

/// Selects an incident (or nothing); a repeat of the current choice changes nothing. Returns
/// the selection's generation afterwards.
pub fn select_incident(ctx: &egui::Context, id: Option<String>) -> u64 {
    ctx.data_mut(|d| {
        let s = d.get_temp_mut_or_default::<Selection>(key());
        if s.incident != id {
            s.incident = id;
            s.generation += 1;
        }
        s.generation
    })
}
