//! Incidents: the workflow the regulation prescribes (Điều 5.4, 16), the queue's model and search
//! without diacritics, and the quarterly report
//! (Điều 6.5). The outbox that never loses an operator's action is `outbox`.

pub mod queue;
pub mod report;
pub mod search;
pub mod workflow;
