//! Citizen reports from Open311 GeoReport v2 servers.

pub mod fetch;
pub mod mapping;
pub mod parse;

/// Catalogue key of a status's name.
pub fn status_key(s: crate::model::IncidentStatus) -> &'static str {
    use crate::model::IncidentStatus::*;
    match s {
        Received => "incident_status.received",
        Verified => "incident_status.verified",
        Forwarded => "incident_status.forwarded",
        InProgress => "incident_status.in_progress",
        Resolved => "incident_status.resolved",
        Rejected => "incident_status.rejected",
    }
}
