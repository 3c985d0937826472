//! OpenID Connect with the `openidconnect` crate: discovery, the authorization code flow with
//! PKCE through the system browser and a loopback redirect (RFC 8252), the device authorization
//! grant (RFC 8628), refresh, revocation, and the ID token's validation (issuer, audience,
//! signature against the provider's keys, expiry and issue time within the allowed clock skew,
//! nonce). Tokens are [`Secret`]s: their `Debug` never shows them, and no error carries one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClient, CoreClientAuthMethod, CoreDeviceAuthorizationResponse, CoreGrantType, CoreIdToken,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType, CoreTokenResponse,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError, ClientId, CsrfToken,
    DeviceAuthorizationUrl, IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, RefreshToken, RequestTokenError,
    RevocationUrl, Scope, TokenResponse as _,
};
use serde::{Deserialize, Serialize};

use super::config::IdentityConfig;
use super::http::{Http, HttpError};
use crate::role::Role;
use crate::text::Text;

/// A token or code. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The endpoints beyond OpenID Connect Core that the console uses, when the server has them.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct MoreMetadata {
    #[serde(default)]
    device_authorization_endpoint: Option<DeviceAuthorizationUrl>,
    #[serde(default)]
    revocation_endpoint: Option<RevocationUrl>,
    #[serde(default)]
    end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for MoreMetadata {}

type Metadata = ProviderMetadata<
    MoreMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Why signing in (or keeping a session) failed. `Display` is for the log (English, no token);
/// [`AuthError::text`] is for the person.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AuthError {
    #[error("cannot reach the identity server {issuer}: {reason}")]
    Unreachable { issuer: String, reason: String },
    #[error("the identity server {issuer} does not describe itself: {reason}")]
    Discovery { issuer: String, reason: String },
    #[error("the identity server has no device sign-in (RFC 8628)")]
    NoDeviceFlow,
    #[error("the identity server refused: {code}: {description}")]
    Refused { code: String, description: String },
    #[error("the ID token was not accepted: {0}")]
    IdToken(IdTokenProblem),
    #[error("the token has no `{claim}` claim")]
    NoRoleClaim { claim: String },
    #[error("none of the roles {values:?} is a role of this console")]
    NoRole { values: Vec<String> },
    #[error("sign-in was not completed in time")]
    TimedOut,
    #[error("the answer to the sign-in does not match the request")]
    StateMismatch,
    #[error("{0}")]
    Other(String),
}

/// What was wrong with an ID token.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum IdTokenProblem {
    #[error("issued by another server ({0})")]
    Issuer(String),
    #[error("issued for another client ({0})")]
    Audience(String),
    #[error("its signature does not match the server's keys")]
    Signature,
    #[error("expired ({0})")]
    Expired(String),
    #[error("issued in the future: this PC's clock is behind ({0})")]
    Clock(String),
    #[error("its nonce does not match the request")]
    Nonce,
    #[error("the answer has no ID token")]
    Missing,
    #[error("{0}")]
    Other(String),
}

impl AuthError {
    /// The words for the person, in the catalogue.
    pub fn text(&self) -> Text {
        match self {
            AuthError::Unreachable { issuer, reason } => Text::key("auth.err.unreachable")
                .arg("issuer", issuer)
                .arg_detail("reason", reason.clone()),
            AuthError::Discovery { issuer, reason } => Text::key("auth.err.discovery")
                .arg("issuer", issuer)
                .arg_detail("reason", reason.clone()),
            AuthError::NoDeviceFlow => Text::key("auth.err.no_device"),
            AuthError::Refused { code, description } if code == "invalid_client" => {
                Text::key("auth.err.client").arg_detail("reason", description.clone())
            }
            AuthError::Refused { code, description } => Text::key("auth.err.refused")
                .arg("code", code)
                .arg_detail("reason", description.clone()),
            AuthError::IdToken(p) => match p {
                IdTokenProblem::Issuer(i) => Text::key("auth.err.issuer").arg("issuer", i),
                IdTokenProblem::Audience(a) => Text::key("auth.err.audience").arg("audience", a),
                IdTokenProblem::Signature => Text::key("auth.err.signature"),
                IdTokenProblem::Expired(d) => {
                    Text::key("auth.err.expired").arg_detail("detail", d.clone())
                }
                IdTokenProblem::Clock(d) => {
                    Text::key("auth.err.clock").arg_detail("detail", d.clone())
                }
                IdTokenProblem::Nonce => Text::key("auth.err.nonce"),
                IdTokenProblem::Missing => Text::key("auth.err.no_id_token"),
                IdTokenProblem::Other(d) => {
                    Text::key("auth.err.id_token").arg_detail("detail", d.clone())
                }
            },
            AuthError::NoRoleClaim { claim } => {
                Text::key("auth.err.no_role_claim").arg("claim", claim)
            }
            AuthError::NoRole { values } => {
                Text::key("auth.err.no_role").arg("values", values.join(", "))
            }
            AuthError::TimedOut => Text::key("auth.err.timed_out"),
            AuthError::StateMismatch => Text::key("auth.err.state"),
            AuthError::Other(d) => Text::key("auth.err.other").arg_detail("reason", d.clone()),
        }
    }

    /// Whether trying again later may work by itself (the server down, a network error), as
    /// against a refusal that needs a person (wrong client id, no role).
    pub fn transient(&self) -> bool {
        matches!(self, AuthError::Unreachable { .. })
    }
}

/// The person signed in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The identity server's subject (stable id).
    pub subject: String,
    /// The name to show ("Nguyễn Văn An"), else the user name, else the subject.
    pub name: String,
    pub username: Option<String>,
    /// The console's roles the token gives (at least one).
    pub roles: Vec<Role>,
}

impl Person {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// How the audit trail names them: the name and, to tell apart two people of one name
    /// (a province has many a Nguyễn Văn An), the user name, else the subject, in brackets.
    pub fn who(&self) -> String {
        let id = self.username.as_deref().unwrap_or(&self.subject);
        if id == self.name {
            id.to_owned()
        } else {
            format!("{} ({id})", self.name)
        }
    }
}

/// The tokens of a session.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: Secret,
    /// When the access token expires (from `expires_in`; five minutes when the server does not
    /// say).
    pub access_expires: DateTime<Utc>,
    pub refresh: Option<Secret>,
    /// The last ID token (the hint for signing out at the server).
    pub id_token: Option<Secret>,
    /// When the session ends at the latest, as far as the console can know: without a refresh
    /// token, when the access token does; with one, `session_max_hours` after the sign-in when
    /// configured; else unknown (a refresh token's own `exp`, where it has one, is the server's
    /// idle timeout, renewed at every refresh, not the end). Shown, never trusted: the server
    /// says when a refresh is refused.
    pub session_ends: Option<DateTime<Utc>>,
}

/// A person signed in and their tokens.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub person: Person,
    pub tokens: Tokens,
    /// When the person signed in: the ID token's `auth_time` where it has one (also after a
    /// restart), else when this console signed them in or took their session up.
    pub since: DateTime<Utc>,
}

/// A browser sign-in under way: what the answer must match.
pub struct PendingCode {
    pub url: reqwest::Url,
    verifier: PkceCodeVerifier,
    nonce: Nonce,
    state: CsrfToken,
    redirect: RedirectUrl,
}

impl PendingCode {
    /// The `state` sent: the loopback listener takes only the answer that carries it.
    pub fn state(&self) -> &str {
        self.state.secret()
    }
}

/// A device sign-in under way: what the wall shows.
#[derive(Clone, Debug)]
pub struct DeviceStart {
    pub user_code: String,
    pub verification_uri: String,
    /// The URI with the code in it (the QR code), when the server gives one.
    pub verification_uri_complete: Option<String>,
    pub expires_at: DateTime<Utc>,
    details: CoreDeviceAuthorizationResponse,
}

/// The identity server as discovered.
#[derive(Clone)]
pub struct Provider {
    cfg: IdentityConfig,
    http: Http,
    metadata: Metadata,
    /// How far this PC's clock is off (zero but in tests of a wrong clock).
    clock_offset: chrono::Duration,
}

fn request_error<
    RE: std::error::Error + 'static,
    T: openidconnect::ErrorResponse + oauth2_error::ErrorResponse,
>(
    issuer: &str,
    e: RequestTokenError<RE, T>,
) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(r) => AuthError::Refused {
            code: r.code(),
            description: r.description(),
        },
        RequestTokenError::Request(re) => AuthError::Unreachable {
            issuer: issuer.to_owned(),
            reason: chain(&re),
        },
        RequestTokenError::Parse(pe, _) => AuthError::Other(format!("unreadable answer: {pe}")),
        RequestTokenError::Other(o) => AuthError::Other(o),
    }
}

/// Error responses of the token, device and revocation endpoints, read alike.
mod oauth2_error {
    pub trait ErrorResponse {
        fn code(&self) -> String;
        fn description(&self) -> String;
    }
    impl<T: openidconnect::ErrorResponseType + std::fmt::Display> ErrorResponse
        for openidconnect::StandardErrorResponse<T>
    {
        fn code(&self) -> String {
            self.error().to_string()
        }
        fn description(&self) -> String {
            self.error_description().cloned().unwrap_or_default()
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// The claims of a JWT whose signature was checked already (the payload read as JSON).
fn payload(jwt: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// When a session ends at the latest (see [`Tokens::session_ends`]): without a refresh token,
/// with its access token; with one, `max_hours` after its sign-in at the server, when the
/// configuration says how long the server keeps a session.
fn session_ends(
    refreshable: bool,
    access_expires: DateTime<Utc>,
    signed_in: DateTime<Utc>,
    max_hours: Option<u32>,
) -> Option<DateTime<Utc>> {
    match (refreshable, max_hours) {
        (false, _) => Some(access_expires),
        (true, Some(h)) => Some(signed_in + chrono::Duration::hours(i64::from(h.min(24 * 366)))),
        (true, None) => None,
    }
}

/// A lifetime the server gave, at most a day (a huge one would overflow the clock; a shift's
/// token is refreshed long before); `fallback` seconds when it cannot be read.
fn lifetime(given: Duration, fallback: i64) -> chrono::Duration {
    chrono::Duration::from_std(given.min(Duration::from_secs(24 * 3600)))
        .unwrap_or(chrono::Duration::seconds(fallback))
}

impl Provider {
    /// Reads the server's discovery document and keys.
    pub async fn discover(
        cfg: &IdentityConfig,
        ca_bundle: Option<&std::path::Path>,
    ) -> Result<Provider, AuthError> {
        let http = Http::new(ca_bundle).map_err(AuthError::Other)?;
        // As configured: the discovery document's `issuer` must match it exactly, with or
        // without a slash at the end.
        let issuer =
            IssuerUrl::new(cfg.issuer.clone()).map_err(|e| AuthError::Other(e.to_string()))?;
        let metadata = match Metadata::discover_async(issuer, &http).await {
            Ok(m) => m,
            Err(openidconnect::DiscoveryError::Request(e)) => {
                return Err(AuthError::Unreachable {
                    issuer: cfg.issuer.clone(),
                    reason: chain(&e),
                });
            }
            Err(e) => {
                return Err(AuthError::Discovery {
                    issuer: cfg.issuer.clone(),
                    reason: chain(&e),
                });
            }
        };
        Ok(Provider {
            cfg: cfg.clone(),
            http,
            metadata,
            clock_offset: chrono::Duration::zero(),
        })
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.cfg
    }

    /// Validates as if this PC's clock were `offset` ahead of the true time (tests of a clock
    /// off by minutes).
    pub fn set_clock_offset(&mut self, offset: chrono::Duration) {
        self.clock_offset = offset;
    }

    /// [`Provider::validate_id_token`] of a token as text.
    pub fn validate_id_token_str(
        &self,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<serde_json::Value, AuthError> {
        let t: CoreIdToken = id_token
            .parse()
            .map_err(|_| AuthError::IdToken(IdTokenProblem::Other("not a JWT".into())))?;
        let nonce = nonce.map(|n| Nonce::new(n.to_owned()));
        self.validate_id_token(&t, nonce.as_ref())
    }

    pub fn has_device_flow(&self) -> bool {
        self.metadata
            .additional_metadata()
            .device_authorization_endpoint
            .is_some()
    }

    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.cfg.client_id.clone()),
            None,
        )
    }

    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.cfg
            .scopes
            .iter()
            .filter(|s| s.as_str() != "openid")
            .map(|s| Scope::new(s.clone()))
    }

    fn token_error<
        RE: std::error::Error + 'static,
        T: openidconnect::ErrorResponse + oauth2_error::ErrorResponse,
    >(
        &self,
        e: RequestTokenError<RE, T>,
    ) -> AuthError {
        request_error(&self.cfg.issuer, e)
    }

    /// Starts a browser sign-in: the URL to open (PKCE S256, a nonce, a state) for the loopback
    /// redirect `redirect_uri`.
    pub fn begin_code(&self, redirect_uri: &str) -> Result<PendingCode, AuthError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| AuthError::Other(e.to_string()))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client().set_redirect_uri(redirect.clone());
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(self.scopes())
            .set_pkce_challenge(challenge)
            // A desk is shared: every sign-in (an unlock, a handover) is a real one, never the
            // browser's single sign-on session of whoever signed in before.
            .add_prompt(CoreAuthPrompt::Login)
            .url();
        Ok(PendingCode {
            url,
            verifier,
            nonce,
            state,
            redirect,
        })
    }

    /// Finishes a browser sign-in with what came back to the redirect.
    pub async fn finish_code(
        &self,
        pending: PendingCode,
        code: &str,
        state: &str,
    ) -> Result<SignedIn, AuthError> {
        if state != pending.state.secret() {
            return Err(AuthError::StateMismatch);
        }
        let client = self.client().set_redirect_uri(pending.redirect);
        let resp = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| AuthError::Other(e.to_string()))?
            .set_pkce_verifier(pending.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| self.token_error(e))?;
        self.signed_in(&resp, Some(&pending.nonce), None).await
    }

    /// Starts a device sign-in (RFC 8628).
    pub async fn start_device(&self) -> Result<DeviceStart, AuthError> {
        let url = self
            .metadata
            .additional_metadata()
            .device_authorization_endpoint
            .clone()
            .ok_or(AuthError::NoDeviceFlow)?;
        let client = self.client().set_device_authorization_url(url);
        let details: CoreDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scopes(self.scopes())
            .request_async(&self.http)
            .await
            .map_err(|e| self.token_error(e))?;
        let expires_at = Utc::now() + lifetime(details.expires_in(), 600);
        Ok(DeviceStart {
            user_code: details.user_code().secret().clone(),
            verification_uri: details.verification_uri().to_string(),
            verification_uri_complete: details
                .verification_uri_complete()
                .map(|u| u.secret().clone()),
            expires_at,
            details,
        })
    }

    /// Waits for the device sign-in to be confirmed (polling at the interval the server asks
    /// for, slowing down when told), until the code expires.
    pub async fn finish_device(&self, start: &DeviceStart) -> Result<SignedIn, AuthError> {
        let url = self
            .metadata
            .additional_metadata()
            .device_authorization_endpoint
            .clone()
            .ok_or(AuthError::NoDeviceFlow)?;
        let client = self.client().set_device_authorization_url(url);
        let wait = (start.expires_at - Utc::now())
            .to_std()
            .unwrap_or(Duration::from_secs(1));
        let resp: CoreTokenResponse = client
            .exchange_device_access_token(&start.details)
            .map_err(|e| AuthError::Other(e.to_string()))?
            .request_async(&self.http, tokio::time::sleep, Some(wait))
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r)
                    if r.error().to_string() == "expired_token" =>
                {
                    AuthError::TimedOut
                }
                RequestTokenError::Other(o)
                    if o.contains("timed out") || o.contains("Timed out") =>
                {
                    AuthError::TimedOut
                }
                other => self.token_error(other),
            })?;
        self.signed_in(&resp, None, None).await
    }

    /// A new access token from the refresh token; the person is read again from a new ID token
    /// when the server sends one (their roles may have changed), else kept.
    pub async fn refresh(&self, current: &SignedIn) -> Result<SignedIn, AuthError> {
        let refresh = current
            .tokens
            .refresh
            .as_ref()
            .ok_or_else(|| AuthError::Other("no refresh token".into()))?;
        let rt = RefreshToken::new(refresh.expose().to_owned());
        let client = self.client();
        let resp = client
            .exchange_refresh_token(&rt)
            .map_err(|e| AuthError::Other(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| self.token_error(e))?;
        self.signed_in(&resp, None, Some(current)).await
    }

    /// A session taken up again from a refresh token kept in the secret store (the console was
    /// restarted while `subject`'s actions waited in the outbox): refreshed at the server, the
    /// person read from the new ID token, which must be there and name `subject`.
    pub async fn resume(&self, subject: &str, refresh: Secret) -> Result<SignedIn, AuthError> {
        let rt = RefreshToken::new(refresh.expose().to_owned());
        let resp = self
            .client()
            .exchange_refresh_token(&rt)
            .map_err(|e| AuthError::Other(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| self.token_error(e))?;
        if resp.id_token().is_none() {
            return Err(AuthError::IdToken(IdTokenProblem::Missing));
        }
        let before = SignedIn {
            person: Person {
                subject: subject.to_owned(),
                name: subject.to_owned(),
                username: None,
                roles: Vec::new(),
            },
            tokens: Tokens {
                access: Secret::new(String::new()),
                access_expires: Utc::now(),
                refresh: Some(refresh),
                id_token: None,
                session_ends: None,
            },
            since: Utc::now(),
        };
        self.signed_in(&resp, None, Some(&before)).await
    }

    /// Revokes the session's refresh token at the server (sign-out). The server being down is
    /// said to the caller; the tokens are forgotten here either way.
    pub async fn revoke(&self, tokens: &Tokens) -> Result<(), AuthError> {
        let Some(url) = self
            .metadata
            .additional_metadata()
            .revocation_endpoint
            .clone()
        else {
            return Ok(());
        };
        let Some(refresh) = &tokens.refresh else {
            return Ok(());
        };
        // RFC 7009 by hand: `oauth2` takes only an https endpoint, and a province's test
        // server or a loopback one may be plain http.
        let resp = self
            .http
            .reqwest()
            .post(url.url().clone())
            .form(&[
                ("token", refresh.expose()),
                ("token_type_hint", "refresh_token"),
                ("client_id", self.cfg.client_id.as_str()),
            ])
            .send()
            .await
            .map_err(|e| AuthError::Unreachable {
                issuer: self.cfg.issuer.clone(),
                reason: e.without_url().to_string(),
            })?;
        if resp.status().is_success() {
            return Ok(());
        }
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        Err(AuthError::Refused {
            code: body["error"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| status.to_string()),
            description: body["error_description"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// Validates an ID token: issuer, audience, signature against the server's keys, expiry and
    /// issue time within the allowed skew, and the nonce when one was sent. Returns its claims.
    pub fn validate_id_token(
        &self,
        id_token: &CoreIdToken,
        nonce: Option<&Nonce>,
    ) -> Result<serde_json::Value, AuthError> {
        let skew = chrono::Duration::seconds(i64::from(self.cfg.clock_skew_seconds));
        let offset = self.clock_offset;
        let now = move || Utc::now() + offset;
        let client = self.client();
        // Expiry with the skew allowed: the token is taken as if it were `skew` earlier.
        let verifier = client
            .id_token_verifier()
            .set_time_fn(move || now() - skew)
            .set_issue_time_verifier_fn(move |iat| {
                let ahead = iat - now();
                if ahead > skew {
                    Err(format!(
                        "issued {} s ahead of this PC's clock",
                        ahead.num_seconds()
                    ))
                } else {
                    Ok(())
                }
            });
        let checked = match nonce {
            Some(n) => id_token.claims(&verifier, n).map(|_| ()),
            None => id_token
                .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                .map(|_| ()),
        };
        checked.map_err(|e| AuthError::IdToken(problem(e)))?;
        payload(&id_token.to_string())
            .ok_or_else(|| AuthError::IdToken(IdTokenProblem::Other("unreadable claims".into())))
    }

    /// The person and tokens of a token answer.
    async fn signed_in(
        &self,
        resp: &CoreTokenResponse,
        nonce: Option<&Nonce>,
        before: Option<&SignedIn>,
    ) -> Result<SignedIn, AuthError> {
        let access = Secret::new(resp.access_token().secret().clone());
        let access_expires =
            Utc::now() + lifetime(resp.expires_in().unwrap_or(Duration::from_secs(300)), 300);
        let refresh = resp
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone()))
            .or_else(|| before.and_then(|b| b.tokens.refresh.clone()));
        let id_token = resp.id_token();
        let mut auth_time = None;
        let person = match (id_token, before) {
            (Some(t), _) => {
                let claims = self.validate_id_token(t, nonce)?;
                auth_time = claims
                    .get("auth_time")
                    .and_then(|t| t.as_i64())
                    .and_then(|t| DateTime::from_timestamp(t, 0))
                    .filter(|t| *t <= Utc::now() + chrono::Duration::minutes(10));
                if let Some(b) = before
                    && claims.get("sub").and_then(|s| s.as_str()) != Some(b.person.subject.as_str())
                {
                    return Err(AuthError::IdToken(IdTokenProblem::Other(
                        "the refreshed ID token names another person".into(),
                    )));
                }
                self.person(&claims, &access).await?
            }
            (None, Some(b)) => b.person.clone(),
            (None, None) => return Err(AuthError::IdToken(IdTokenProblem::Missing)),
        };
        let since = auth_time
            .or(before.map(|b| b.since))
            .unwrap_or_else(Utc::now);
        Ok(SignedIn {
            person,
            tokens: Tokens {
                access,
                access_expires,
                session_ends: session_ends(
                    refresh.is_some(),
                    access_expires,
                    since,
                    self.cfg.session_max_hours,
                ),
                refresh,
                id_token: id_token
                    .map(|t| Secret::new(t.to_string()))
                    .or_else(|| before.and_then(|b| b.tokens.id_token.clone())),
            },
            since,
        })
    }

    /// The person from validated ID token claims; the roles from the configured claim, else
    /// from the server's userinfo (Keycloak puts realm roles there, not in the ID token).
    async fn person(
        &self,
        claims: &serde_json::Value,
        access: &Secret,
    ) -> Result<Person, AuthError> {
        let subject = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_owned();
        let claim = &self.cfg.roles_claim;
        let mut values = super::roles::claim_values(claims, claim);
        if values.is_none() {
            values = self
                .userinfo(access)
                .await
                .filter(|u| u.get("sub").and_then(|s| s.as_str()) == Some(subject.as_str()))
                .and_then(|u| super::roles::claim_values(&u, claim));
        }
        let values = values.ok_or_else(|| AuthError::NoRoleClaim {
            claim: claim.clone(),
        })?;
        let roles = super::roles::roles(&values, &self.cfg.roles);
        if roles.is_empty() {
            return Err(AuthError::NoRole { values });
        }
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        };
        let username = text("preferred_username");
        let name = text("name")
            .or_else(|| username.clone())
            .unwrap_or_else(|| subject.clone());
        Ok(Person {
            subject,
            name,
            username,
            roles,
        })
    }

    /// The userinfo claims (with the access token), or nothing when the server has none or
    /// does not answer.
    async fn userinfo(&self, access: &Secret) -> Option<serde_json::Value> {
        let url = self.metadata.userinfo_endpoint()?.url().clone();
        let resp = self
            .http
            .reqwest()
            .get(url)
            .bearer_auth(access.expose())
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body = resp.bytes().await.ok()?;
        if body.len() > 256 * 1024 {
            return None;
        }
        serde_json::from_slice(&body).ok()
    }

    /// The server's end-of-session URL for the browser (RP-initiated logout), when it has one.
    pub fn end_session_url(&self, id_token: Option<&Secret>) -> Option<reqwest::Url> {
        let base = self
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()?;
        let mut url = reqwest::Url::parse(base).ok()?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.cfg.client_id);
            if let Some(t) = id_token {
                q.append_pair("id_token_hint", t.expose());
            }
        }
        Some(url)
    }
}

fn problem(e: ClaimsVerificationError) -> IdTokenProblem {
    match e {
        ClaimsVerificationError::InvalidIssuer(d) => IdTokenProblem::Issuer(d),
        ClaimsVerificationError::InvalidAudience(d) => IdTokenProblem::Audience(d),
        ClaimsVerificationError::SignatureVerification(_) => IdTokenProblem::Signature,
        // The issue time's check comes back as "expired" too.
        ClaimsVerificationError::Expired(d) | ClaimsVerificationError::Other(d)
            if d.contains("ahead of this PC") =>
        {
            IdTokenProblem::Clock(d)
        }
        ClaimsVerificationError::Expired(d) => IdTokenProblem::Expired(d),
        ClaimsVerificationError::InvalidNonce(_) => IdTokenProblem::Nonce,
        other => IdTokenProblem::Other(other.to_string()),
    }
}

/// The HTTP errors of the identity server's client, for callers that match on them.
pub type ProviderHttpError = HttpError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_the_console_can_know_it() {
        let now = Utc::now();
        let access = now + chrono::Duration::minutes(5);
        let signed_in = now - chrono::Duration::hours(2);
        // No refresh token: the session ends with the access token.
        assert_eq!(session_ends(false, access, signed_in, None), Some(access));
        assert_eq!(
            session_ends(false, access, signed_in, Some(10)),
            Some(access)
        );
        // A refresh token and the server's longest session configured: from the sign-in.
        assert_eq!(
            session_ends(true, access, signed_in, Some(10)),
            Some(signed_in + chrono::Duration::hours(10))
        );
        // Not configured: unknown (the bar says since when).
        assert_eq!(session_ends(true, access, signed_in, None), None);
    }
}
