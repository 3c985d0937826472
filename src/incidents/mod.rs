//! Incidents: the workflow the regulation prescribes (Điều 5.4, 16). The queue tile and the
//! outbox join this module with their own issue.

pub mod workflow;
