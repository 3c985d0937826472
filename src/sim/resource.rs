//! The simulator as a resource server (`sim --issuer URL`): an action must carry a bearer
//! access token (a JWT, RFC 9068) signed by that identity server's keys, for this API's
//! audience, not expired, whose roles claim holds the operator role. Otherwise 401 (no token,
//! or a token not accepted, with the reason) or 403 (a valid token without the operator role).
//! The action is then recorded under the token's name, not the name the console sent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

/// `sim --issuer` and the checks it makes.
#[derive(Clone, Debug)]
pub struct ResourceConfig {
    pub issuer: String,
    /// The audience access tokens must be for (default "ioc-backend").
    pub audience: String,
    /// Where the roles are ("realm_access.roles").
    pub roles_claim: String,
    /// The claim values that make an operator.
    pub operator_roles: Vec<String>,
    /// Allowed clock difference, seconds.
    pub leeway: u64,
}

impl ResourceConfig {
    pub fn new(issuer: impl Into<String>) -> Self {
        ResourceConfig {
            issuer: issuer.into(),
            audience: "ioc-backend".into(),
            roles_claim: "realm_access.roles".into(),
            operator_roles: vec!["ioc-operator".into()],
            leeway: 60,
        }
    }
}

/// A refusal: status, code and reason (the API's error body).
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn unauthorized(message: impl Into<String>) -> Refusal {
    Refusal {
        status: 401,
        code: "invalid_token",
        message: message.into(),
    }
}

pub struct Resource {
    cfg: ResourceConfig,
    http: reqwest::Client,
    keys: tokio::sync::RwLock<(JwkSet, Option<Instant>)>,
}

impl Resource {
    pub fn new(cfg: ResourceConfig) -> Arc<Resource> {
        crate::util::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Arc::new(Resource {
            cfg,
            http,
            keys: tokio::sync::RwLock::new((JwkSet { keys: Vec::new() }, None)),
        })
    }

    pub fn config(&self) -> &ResourceConfig {
        &self.cfg
    }

    /// Reads the identity server's keys (discovery, then `jwks_uri`).
    async fn fetch_keys(&self) -> Result<JwkSet, String> {
        let base = self.cfg.issuer.trim_end_matches('/');
        let meta: serde_json::Value = self
            .http
            .get(format!("{base}/.well-known/openid-configuration"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let uri = meta
            .get("jwks_uri")
            .and_then(|u| u.as_str())
            .ok_or("the discovery document has no jwks_uri")?;
        self.http
            .get(uri)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    /// The key `kid` names; the keys read again (at most every 10 s) when it is not known yet.
    async fn key(&self, kid: Option<&str>) -> Result<jsonwebtoken::jwk::Jwk, Refusal> {
        let find = |set: &JwkSet| match kid {
            Some(k) => set.find(k).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        {
            let k = self.keys.read().await;
            if let Some(j) = find(&k.0) {
                return Ok(j);
            }
            if k.1.is_some_and(|t| t.elapsed() < Duration::from_secs(10)) {
                return Err(unauthorized(
                    "signed with a key the identity server does not have",
                ));
            }
        }
        let mut k = self.keys.write().await;
        match self.fetch_keys().await {
            Ok(set) => *k = (set, Some(Instant::now())),
            Err(e) => {
                tracing::warn!(%e, issuer = %self.cfg.issuer, "cannot read the identity server's keys");
                k.1 = Some(Instant::now());
                return Err(Refusal {
                    status: 503,
                    code: "unavailable",
                    message: format!("cannot read the identity server's keys: {e}"),
                });
            }
        }
        find(&k.0)
            .ok_or_else(|| unauthorized("signed with a key the identity server does not have"))
    }

    /// Checks the `Authorization` header of an action: the token's claims when it may act.
    pub async fn check_operator(
        &self,
        authorization: Option<&str>,
    ) -> Result<serde_json::Value, Refusal> {
        let token = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("no bearer token"))?;
        let header =
            decode_header(token).map_err(|_| unauthorized("the token is not a signed JWT"))?;
        let jwk = self.key(header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| unauthorized(format!("the identity server's key cannot be used: {e}")))?;
        let alg = match header.alg {
            a @ (Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::ES256
            | Algorithm::ES384) => a,
            other => return Err(unauthorized(format!("algorithm {other:?} is not accepted"))),
        };
        let mut v = Validation::new(alg);
        v.set_issuer(&[
            self.cfg.issuer.trim_end_matches('/'),
            self.cfg.issuer.as_str(),
        ]);
        v.set_audience(&[self.cfg.audience.as_str()]);
        v.leeway = self.cfg.leeway;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = decode::<serde_json::Value>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            unauthorized(match e.kind() {
                K::ExpiredSignature => "the token has expired".to_owned(),
                K::InvalidAudience => format!("the token is not for {}", self.cfg.audience),
                K::InvalidIssuer => format!("the token was not issued by {}", self.cfg.issuer),
                K::InvalidSignature => "the token's signature is not valid".to_owned(),
                K::ImmatureSignature => "the token is not valid yet".to_owned(),
                other => format!("the token is not valid: {other:?}"),
            })
        })?;
        let claims = data.claims;
        let values = crate::auth::roles::claim_values(&claims, &self.cfg.roles_claim);
        let operator = values
            .as_ref()
            .is_some_and(|vs| vs.iter().any(|v| self.cfg.operator_roles.contains(v)));
        if !operator {
            return Err(Refusal {
                status: 403,
                code: "insufficient_role",
                message: match values {
                    Some(vs) => format!(
                        "the token has no operator role ({}: {})",
                        self.cfg.roles_claim,
                        vs.join(", ")
                    ),
                    None => format!("the token has no {} claim", self.cfg.roles_claim),
                },
            });
        }
        Ok(claims)
    }
}

/// The name an action is recorded under: the token's `name`, else its user name, else subject.
pub fn actor(claims: &serde_json::Value) -> String {
    ["name", "preferred_username", "sub"]
        .iter()
        .find_map(|k| {
            claims
                .get(*k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("?")
        .to_owned()
}
