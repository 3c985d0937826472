//! The operator's current selection, shared by every view of one console (the desk's incident
//! queue, the map tiles on the wall): selecting an incident in one place shows it in the others.
//! Kept in the egui context, so the wall's viewports and the desk window see the same one.

/// What is selected, with a counter that grows on every change so a view can tell a new
/// selection from one it has already followed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub incident: Option<String>,
    pub generation: u64,
}

fn key() -> egui::Id {
    egui::Id::NULL.with("ioc-console/selection")
}

/// The current selection.
pub fn get(ctx: &egui::Context) -> Selection {
    ctx.data(|d| d.get_temp::<Selection>(key()).unwrap_or_default())
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
