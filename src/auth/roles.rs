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

/// The console's roles the values make, in the order Operator, Leader, Technician. A group path
/// ("/ioc/ioc-operator") matches by its last part too.
pub fn roles(values: &[String], map: &RoleMap) -> Vec<Role> {
    let has = |names: &[String]| {
        values.iter().any(|v| {
            let last = v.rsplit('/').next().unwrap_or(v);
            names.iter().any(|n| n == v || n == last)
        })
    };
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
        let g = json!({"groups": ["/so-tttt/ioc-leader"]});
        assert_eq!(
            roles(&claim_values(&g, "groups").unwrap(), &map),
            vec![Role::Leader]
        );
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
