//! The incident workflow: which action moves an incident from which status to which.
//!
//! received → (verify) verified → (forward, to a unit) forwarded → (start) in progress →
//! (resolve) resolved; reject (with a reason) from any open status before the work starts;
//! a note at any step, closed incidents included. The simulator enforces these rules on the
//! action endpoint and the console offers only the actions they allow.

use crate::model::{ActionKind, IncidentStatus};

/// Why an action cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("action `{action:?}` is not allowed when the incident is `{status:?}`")]
    NotAllowed {
        status: IncidentStatus,
        action: ActionKind,
    },
    #[error("action `forward` needs the unit to forward to")]
    MissingUnit,
    #[error("action `reject` needs a reason")]
    MissingReason,
}

/// The actions an operator may take in a status (excluding `receive`, which creates incidents).
pub fn allowed_actions(status: IncidentStatus) -> &'static [ActionKind] {
    use ActionKind::*;
    match status {
        IncidentStatus::Received => &[Verify, Reject, Note],
        IncidentStatus::Verified => &[Forward, Reject, Note],
        IncidentStatus::Forwarded => &[Start, Reject, Note],
        IncidentStatus::InProgress => &[Resolve, Note],
        IncidentStatus::Resolved | IncidentStatus::Rejected => &[Note],
    }
}

/// The status after `action`, checking the action's required details.
pub fn next_status(
    status: IncidentStatus,
    action: ActionKind,
    unit_id: Option<&str>,
    note: Option<&str>,
) -> Result<IncidentStatus, TransitionError> {
    if !allowed_actions(status).contains(&action) {
        return Err(TransitionError::NotAllowed { status, action });
    }
    let blank = |s: Option<&str>| s.is_none_or(|s| s.trim().is_empty());
    Ok(match action {
        ActionKind::Verify => IncidentStatus::Verified,
        ActionKind::Forward if blank(unit_id) => return Err(TransitionError::MissingUnit),
        ActionKind::Forward => IncidentStatus::Forwarded,
        ActionKind::Start => IncidentStatus::InProgress,
        ActionKind::Resolve => IncidentStatus::Resolved,
        ActionKind::Reject if blank(note) => return Err(TransitionError::MissingReason),
        ActionKind::Reject => IncidentStatus::Rejected,
        ActionKind::Note | ActionKind::Receive => status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionKind::*;
    use IncidentStatus::*;

    #[test]
    fn transition_table() {
        let statuses = [
            Received, Verified, Forwarded, InProgress, Resolved, Rejected,
        ];
        let actions = [Receive, Verify, Forward, Start, Resolve, Reject, Note];
        // (from, action) -> Some(to) for every allowed pair; everything else is refused.
        let table: &[(IncidentStatus, ActionKind, IncidentStatus)] = &[
            (Received, Verify, Verified),
            (Received, Reject, Rejected),
            (Received, Note, Received),
            (Verified, Forward, Forwarded),
            (Verified, Reject, Rejected),
            (Verified, Note, Verified),
            (Forwarded, Start, InProgress),
            (Forwarded, Reject, Rejected),
            (Forwarded, Note, Forwarded),
            (InProgress, Resolve, Resolved),
            (InProgress, Note, InProgress),
            (Resolved, Note, Resolved),
            (Rejected, Note, Rejected),
        ];
        for from in statuses {
            for action in actions {
                let expected = table
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|t| t.2);
                let got = next_status(from, action, Some("bt-ba-tri"), Some("lý do"));
                assert_eq!(got.ok(), expected, "{from:?} --{action:?}-->");
            }
        }
    }

    #[test]
    fn forward_needs_a_unit_and_reject_a_reason() {
        assert_eq!(
            next_status(Verified, Forward, None, None),
            Err(TransitionError::MissingUnit)
        );
        assert_eq!(
            next_status(Verified, Forward, Some(" "), None),
            Err(TransitionError::MissingUnit)
        );
        assert_eq!(
            next_status(Received, Reject, None, Some("")),
            Err(TransitionError::MissingReason)
        );
    }
}
