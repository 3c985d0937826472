//! Roles (who is at the console) and modes (what the console is doing): Operate, Demo, Brief and
//! Arrange, which [`Mode::available`] offers to the roles allowed to use them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who uses this console: from the signed-in person's token (`[identity]`), else the configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Duty operator at the wall: acts on incidents.
    #[default]
    Operator,
    /// Leader in a briefing: reads, does not act.
    Leader,
    /// Technician: arranges layouts and tests cameras.
    Technician,
}

impl Role {
    pub fn label_key(self) -> &'static str {
        match self {
            Role::Operator => "role.operator",
            Role::Leader => "role.leader",
            Role::Technician => "role.technician",
        }
    }
}

/// What the console is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The live wall.
    #[default]
    Operate,
    /// Training on the simulated IOC: the trainer's panel (scenario, speed, faults).
    Demo,
    /// A briefing (giao ban): a storyboard's scenes on frozen data, the presenter's view on
    /// the desk. Every role: an IOC officer or a leader presents.
    Brief,
    /// Arranging the wall's layout (technicians only).
    Arrange,
}

impl Mode {
    pub fn label_key(self) -> &'static str {
        match self {
            Mode::Operate => "mode.operate",
            Mode::Demo => "mode.demo",
            Mode::Brief => "mode.brief",
            Mode::Arrange => "mode.arrange",
        }
    }

    /// The modes any of `roles` may switch to (a person may hold several), in the mode switch's
    /// order; nobody (no role) only looks at the wall.
    pub fn available_to(roles: &[Role], trainer: bool) -> Vec<Mode> {
        [Mode::Operate, Mode::Demo, Mode::Brief, Mode::Arrange]
            .into_iter()
            .filter(|m| {
                *m == Mode::Operate
                    || roles
                        .iter()
                        .any(|&r| Mode::available(r, trainer).contains(m))
            })
            .collect()
    }

    /// The modes a role may switch to, in the order the mode switch shows them. Demo exists only
    /// when the console runs on a simulator it may control.
    pub fn available(role: Role, trainer: bool) -> &'static [Mode] {
        match (role, trainer) {
            (Role::Operator | Role::Leader, false) => &[Mode::Operate, Mode::Brief],
            (Role::Operator | Role::Leader, true) => &[Mode::Operate, Mode::Demo, Mode::Brief],
            (Role::Technician, false) => &[Mode::Operate, Mode::Brief, Mode::Arrange],
            (Role::Technician, true) => &[Mode::Operate, Mode::Demo, Mode::Brief, Mode::Arrange],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_offered_the_modes_of_every_role_they_hold() {
        use Mode::*;
        assert_eq!(Mode::available_to(&[], false), vec![Operate]);
        assert_eq!(
            Mode::available_to(&[Role::Leader], false),
            vec![Operate, Brief]
        );
        assert_eq!(
            Mode::available_to(&[Role::Operator, Role::Technician], false),
            vec![Operate, Brief, Arrange]
        );
        assert_eq!(
            Mode::available_to(&[Role::Operator], true),
            vec![Operate, Demo, Brief]
        );
    }
}
