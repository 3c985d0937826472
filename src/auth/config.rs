//! `[identity]`: the province's identity server (OpenID Connect) and how its tokens name our roles.

use schemars::JsonSchema;
use serde::Deserialize;

/// How people sign in on this console.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignInWay {
    /// The device flow (a code and a QR code confirmed on a phone) on a wall or kiosk, the system
    /// browser on a desk.
    #[default]
    Auto,
    /// The system browser with a loopback redirect (RFC 8252).
    Browser,
    /// The device authorization grant (RFC 8628): no keyboard needed at the console.
    Device,
}

/// `[identity]`
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// The identity server's issuer, e.g. "https://sso.example.gov.vn/realms/ioc" (its
    /// `/.well-known/openid-configuration` is read at sign-in).
    pub issuer: String,
    /// This console's client id at the identity server (a public client: no secret).
    pub client_id: String,
    /// Scopes asked for (default "openid", "profile", "offline_access").
    #[serde(default = "IdentityConfig::default_scopes")]
    pub scopes: Vec<String>,
    /// The claim that carries the person's roles or groups: a name, or a path with dots into
    /// nested objects (default "realm_access.roles", Keycloak's). Read from the ID token, else
    /// from the identity server's userinfo.
    #[serde(default = "IdentityConfig::default_roles_claim")]
    pub roles_claim: String,
    /// Which values of that claim make each of the console's roles.
    #[serde(default)]
    pub roles: RoleMap,
    /// Minutes without input after which the desk locks (0: never).
    #[serde(default = "IdentityConfig::default_idle")]
    pub idle_lock_minutes: u32,
    /// How far this PC's clock may be from the identity server's, in seconds (default 120).
    #[serde(default = "IdentityConfig::default_skew")]
    pub clock_skew_seconds: u32,
    /// "auto" (default), "browser" or "device".
    #[serde(default)]
    pub sign_in: SignInWay,
    /// The longest a session lasts at the identity server, in hours, from the sign-in
    /// (Keycloak's "SSO Session Max", 10 by default there): the top bar shows "phiên đến" that
    /// time. Unset: the console cannot know (a refresh token does not say, or says only its
    /// idle timeout, renewed at every refresh) and shows since when instead.
    #[serde(default)]
    pub session_max_hours: Option<u32>,
}

/// `[identity.roles]`: claim values for each role (a person may hold several).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleMap {
    #[serde(default = "RoleMap::default_operator")]
    pub operator: Vec<String>,
    #[serde(default = "RoleMap::default_leader")]
    pub leader: Vec<String>,
    #[serde(default = "RoleMap::default_technician")]
    pub technician: Vec<String>,
}

impl Default for RoleMap {
    fn default() -> Self {
        RoleMap {
            operator: Self::default_operator(),
            leader: Self::default_leader(),
            technician: Self::default_technician(),
        }
    }
}

impl RoleMap {
    fn default_operator() -> Vec<String> {
        vec!["ioc-operator".into()]
    }
    fn default_leader() -> Vec<String> {
        vec!["ioc-leader".into()]
    }
    fn default_technician() -> Vec<String> {
        vec!["ioc-technician".into()]
    }
}

impl IdentityConfig {
    /// A configuration with the defaults (tests, `auth` subcommands).
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        IdentityConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            scopes: Self::default_scopes(),
            roles_claim: Self::default_roles_claim(),
            roles: RoleMap::default(),
            idle_lock_minutes: Self::default_idle(),
            clock_skew_seconds: Self::default_skew(),
            sign_in: SignInWay::Auto,
            session_max_hours: None,
        }
    }

    fn default_scopes() -> Vec<String> {
        ["openid", "profile", "offline_access"]
            .map(String::from)
            .to_vec()
    }
    fn default_roles_claim() -> String {
        "realm_access.roles".into()
    }
    fn default_idle() -> u32 {
        15
    }
    fn default_skew() -> u32 {
        120
    }

    /// The first mistake: (key, message).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let ok = reqwest::Url::parse(&self.issuer)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
        if !ok {
            return Err((
                "identity.issuer",
                format!("\"{}\" is not an http(s) URL", self.issuer),
            ));
        }
        // Tokens and passwords cross the network only encrypted: plain http only to this PC
        // (a test server).
        let loopback = reqwest::Url::parse(&self.issuer)
            .is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")));
        if self.issuer.starts_with("http:") && !loopback {
            return Err((
                "identity.issuer",
                format!(
                    "\"{}\" is plain http: use https (http is allowed only on 127.0.0.1)",
                    self.issuer
                ),
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(("identity.client_id", "is empty".into()));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(("identity.scopes", "must include \"openid\"".into()));
        }
        if self.roles_claim.trim().is_empty() {
            return Err(("identity.roles_claim", "is empty".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issuer_in_plain_http_is_refused_except_on_this_pc() {
        let ok = |issuer: &str| IdentityConfig::new(issuer, "ioc-console").validate();
        assert!(ok("https://sso.example.gov.vn/realms/ioc").is_ok());
        assert!(ok("http://127.0.0.1:8443/realms/ioc").is_ok());
        let (key, why) = ok("http://sso.example.gov.vn/realms/ioc").unwrap_err();
        assert_eq!(key, "identity.issuer");
        assert!(why.contains("https"), "{why}");
        assert!(ok("sso.example.gov.vn").is_err());
    }
}
