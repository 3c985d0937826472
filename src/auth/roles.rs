//! The person's roles from the token's claims, through `[identity.roles]`.

use super::config::RoleMap;
use crate::role::Role;

/// The values of the claim at `path` ("realm_access.roles": nested objects): `None` when the
/// claim is not there. A list of strings, or one string (several separated by spaces or commas,
/// as some servers write groups).
pub fn claim_values(claims: &serde_json::Value, path: &str) -> Option<Vec<String>> {
    let mut v = claims;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    match v {
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
        ),
        serde_json::Value::String(s) => Some(
            s.split([' ', ','])
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// The console's roles the values make, in the order Operator, Leader, Technician. Values match
/// exactly: a group is named by its whole path as the token carries it ("/so-tttt/ioc-operator"),
/// so a group of the same name under another department gives nothing.
pub fn roles(values: &[String], map: &RoleMap) -> Vec<Role> {
    let has = |names: &[String]| values.iter().any(|v| names.iter().any(|n| n == v));
    let mut out = Vec::new();
    for (role, names) in [
        (Role::Operator, &map.operator),
        (Role::Leader, &map.leader),
        (Role::Technician, &map.technician),
    ] {
        if has(names) {
            out.push(role);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_claims_strings_and_groups_make_roles() {
        let map = RoleMap::default();
        let c = json!({"realm_access": {"roles": ["offline_access", "ioc-operator", "ioc-technician"]}});
        let v = claim_values(&c, "realm_access.roles").unwrap();
        assert_eq!(roles(&v, &map), vec![Role::Operator, Role::Technician]);
        // Groups by their whole path: another department's group of the same name is not it.
        let g = json!({"groups": ["/so-tttt/ioc-leader", "/so-khac/ioc-operator"]});
        let groups = RoleMap {
            leader: vec!["/so-tttt/ioc-leader".into()],
            operator: vec!["/so-tttt/ioc-operator".into()],
            ..RoleMap::default()
        };
        assert_eq!(
            roles(&claim_values(&g, "groups").unwrap(), &groups),
            vec![Role::Leader]
        );
        assert!(roles(&claim_values(&g, "groups").unwrap(), &map).is_empty());
        let s = json!({"roles": "ioc-leader ioc-operator"});
        assert_eq!(
            roles(&claim_values(&s, "roles").unwrap(), &map),
            vec![Role::Operator, Role::Leader]
        );
        assert_eq!(claim_values(&c, "roles"), None);
        assert_eq!(
            claim_values(&json!({"realm_access": 3}), "realm_access.roles"),
            None
        );
        assert!(roles(&["viewer".into()], &map).is_empty());
    }
}
