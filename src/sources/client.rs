//! The HTTP client of the IOC backend: reqwest with rustls, a bearer token read from a file or
//! the environment (never logged), an optional extra CA bundle, timeouts and a body size limit.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::{StatusCode, Url};

use super::parse;
use crate::model::{ActionRequest, Incident};

/// A bearer token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(s: impl Into<String>) -> Self {
        Token(s.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Reads the token: the file named in the configuration, else `IOC_CONSOLE_TOKEN`.
pub fn read_token(file: Option<&std::path::Path>) -> Result<Option<Token>, String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let t = text.trim();
        if t.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        return Ok(Some(Token::new(t)));
    }
    Ok(std::env::var("IOC_CONSOLE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Token::new(t.trim())))
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL of the API, e.g. `https://ioc.example.gov.vn/api/v1`.
    pub base_url: String,
    pub token: Option<Token>,
    pub ca_bundle: Option<PathBuf>,
    /// The people signed in at the console: reads go with the current person's token.
    pub sessions: Option<Arc<crate::auth::session::Sessions>>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Largest response body accepted.
    pub body_limit: usize,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            token: None,
            ca_bundle: None,
            sessions: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            body_limit: 64 * 1024 * 1024,
        }
    }
}

/// Why a request failed, classified by what the operator should understand.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The backend cannot be reached (refused, timeout, DNS, TLS handshake).
    #[error("cannot reach the backend: {0}")]
    Unreachable(String),
    /// The token is missing or wrong (401).
    #[error("authentication failed: {0}")]
    Unauthorized(String),
    /// The backend refuses this account (403).
    #[error("no permission: {0}")]
    Forbidden(String),
    /// Any other error answer.
    #[error("the backend answered {status}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the answer is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The console's buffers for answers being read are full (other answers hold them).
    #[error("the console is already reading {budget} bytes of answers; this one waits for room")]
    Busy { budget: usize },
    #[error("{0}")]
    Parse(#[from] parse::ParseError),
}

/// Bad client configuration (URL, CA bundle).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("backend URL `{0}` is not valid: {1}")]
    Url(String, String),
    #[error("cannot use the CA bundle {0}: {1}")]
    Ca(String, String),
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// The whole console's room for answers being read and parsed, shared by every client of the
/// process (each resource, the trainer's requests, actions, every backend): however many bodies
/// arrive at once, and however long each is, together they hold at most this much. Each body
/// also has its own limit (`ClientConfig::body_limit`).
pub const BODY_BUDGET: usize = 96 * 1024 * 1024;

/// How long a body waits for room in the budget before its fetch fails (and is tried again
/// with backoff).
const BUDGET_WAIT: Duration = Duration::from_secs(10);

/// The smallest step a body's buffer grows by.
const GROW_STEP: usize = 64 * 1024;

fn budget() -> &'static Arc<tokio::sync::Semaphore> {
    static BUDGET: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    BUDGET.get_or_init(|| Arc::new(tokio::sync::Semaphore::new(BODY_BUDGET)))
}

/// Bytes of the budget free now (tests and diagnostics).
pub fn body_budget_free() -> usize {
    budget().available_permits()
}

/// An answer's body: its bytes and the room they hold in the console's budget, given back
/// when it is dropped (after parsing).
pub struct Body {
    bytes: Vec<u8>,
    _room: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::ops::Deref for Body {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Body({} bytes)", self.bytes.len())
    }
}

impl Body {
    /// The bytes alone (their room in the budget is given back).
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

/// Takes `bytes` more room in the budget for a body that holds `room` already.
async fn grow(
    room: &mut Option<tokio::sync::OwnedSemaphorePermit>,
    bytes: usize,
) -> Result<(), FetchError> {
    let busy = FetchError::Busy {
        budget: BODY_BUDGET,
    };
    let n = u32::try_from(bytes).map_err(|_| busy.clone())?;
    if n == 0 {
        return Ok(());
    }
    let more = tokio::time::timeout(BUDGET_WAIT, Arc::clone(budget()).acquire_many_owned(n))
        .await
        .map_err(|_| busy.clone())?
        .map_err(|_| busy)?;
    match room {
        Some(held) => held.merge(more),
        None => *room = Some(more),
    }
    Ok(())
}

/// An answer of any status (see [`Client::fetch`]).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Body,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<Token>,
    sessions: Option<Arc<crate::auth::session::Sessions>>,
    body_limit: usize,
}

impl Client {
    pub fn new(cfg: &ClientConfig) -> Result<Client, ClientError> {
        crate::util::tls::install_crypto_provider();
        let mut base = Url::parse(&cfg.base_url)
            .map_err(|e| ClientError::Url(cfg.base_url.clone(), e.to_string()))?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .read_timeout(cfg.request_timeout)
            // A redirect (an SSO gateway, a proxy's login page) is not the backend's answer.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ioc-console/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &cfg.ca_bundle {
            let pem = std::fs::read(path)
                .map_err(|e| ClientError::Ca(path.display().to_string(), e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ClientError::Ca(path.display().to_string(), e.to_string()))?;
            if certs.is_empty() {
                return Err(ClientError::Ca(
                    path.display().to_string(),
                    "no certificate in the file".into(),
                ));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(Client {
            http,
            base,
            token: cfg.token.clone(),
            sessions: cfg.sessions.clone(),
            body_limit: cfg.body_limit,
        })
    }

    pub fn url(&self, path: &str) -> Result<Url, FetchError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| FetchError::Unreachable(e.to_string()))
    }

    /// The URL of the simulator's admin endpoints (`/sim/...` on the same host).
    pub fn sim_url(&self, path: &str) -> Result<Url, FetchError> {
        self.base
            .join(&format!("/sim/{}", path.trim_start_matches('/')))
            .map_err(|e| FetchError::Unreachable(e.to_string()))
    }

    /// The bearer token of a request: the person signed in at the console while their token is
    /// valid, else the console's own (the token file), else none.
    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(t) = self.sessions.as_ref().and_then(|s| s.current_access()) {
            return req.bearer_auth(t.expose());
        }
        match &self.token {
            Some(t) => req.bearer_auth(t.expose()),
            None => req,
        }
    }

    /// GET `path` (relative to the base) and return the body, within the size limit.
    pub async fn get_bytes(&self, path: &str) -> Result<Body, FetchError> {
        let url = self.url(path)?;
        let resp = self
            .auth(self.http.get(url))
            .send()
            .await
            .map_err(transport)?;
        self.body(resp).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Body, FetchError> {
        let resp = self.auth(req).send().await.map_err(transport)?;
        self.body(resp).await
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// An answer whatever its status (sources other than the IOC backend classify their own
    /// error bodies): the status, headers and body, within the body limit and the budget.
    pub async fn fetch(&self, req: reqwest::RequestBuilder) -> Result<Answer, FetchError> {
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = self.read_body(resp).await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Reads a body chunk by chunk, refusing it once it passes the limit. Its buffer grows only
    /// with room taken in the console's budget first (waiting for other bodies to give some
    /// back, up to `BUDGET_WAIT`).
    async fn read_body(&self, resp: reqwest::Response) -> Result<Body, FetchError> {
        let declared = resp.content_length();
        if declared.is_some_and(|n| n > self.body_limit as u64) {
            return Err(FetchError::TooLarge {
                limit: self.body_limit,
            });
        }
        let mut room = None;
        let mut body: Vec<u8> = Vec::new();
        if let Some(n) = declared.and_then(|n| usize::try_from(n).ok()) {
            grow(&mut room, n).await?;
            body.reserve_exact(n);
        }
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(transport)?;
            let need = body.len() + chunk.len();
            if need > self.body_limit {
                return Err(FetchError::TooLarge {
                    limit: self.body_limit,
                });
            }
            if need > body.capacity() {
                let cap = body.capacity();
                let new_cap = (cap * 2).max(need).max(GROW_STEP).min(self.body_limit);
                grow(&mut room, new_cap - cap).await?;
                body.reserve_exact(new_cap - body.len());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Body {
            bytes: body,
            _room: room,
        })
    }

    /// Reads a body and maps error statuses.
    async fn body(&self, resp: reqwest::Response) -> Result<Body, FetchError> {
        let status = resp.status();
        let body = self.read_body(resp).await?;
        if status.is_success() {
            return Ok(body);
        }
        let (code, message) = match parse::api_error(&body) {
            Some(e) => (e.error.code, e.error.message),
            None => (
                String::new(),
                String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            ),
        };
        Err(match status {
            StatusCode::UNAUTHORIZED => FetchError::Unauthorized(message),
            StatusCode::FORBIDDEN => FetchError::Forbidden(message),
            s => FetchError::Status {
                status: s.as_u16(),
                code,
                message,
            },
        })
    }

    /// POST an incident action with its idempotency key; the answer is the updated incident.
    pub async fn post_action(
        &self,
        incident_id: &str,
        req: &ActionRequest,
        key: &str,
    ) -> Result<Incident, FetchError> {
        let body = self.post_action_raw(incident_id, req, key).await?;
        Ok(parse::incident(&body)?)
    }

    /// POST an incident action; any 2xx answer's body, unparsed. The id is one path segment,
    /// percent-encoded: an id can never reach another endpoint.
    pub async fn post_action_raw(
        &self,
        incident_id: &str,
        req: &ActionRequest,
        key: &str,
    ) -> Result<Body, FetchError> {
        self.post_action_as(incident_id, req, key, None).await
    }

    /// [`Client::post_action_raw`] with a person's access token (their action goes under their
    /// name), else the client's own.
    pub async fn post_action_as(
        &self,
        incident_id: &str,
        req: &ActionRequest,
        key: &str,
        token: Option<&crate::auth::Secret>,
    ) -> Result<Body, FetchError> {
        // "." and ".." would be normalised away by the URL and the action would land elsewhere.
        if matches!(incident_id, "" | "." | "..") {
            // Classified as a client error, so the outbox shows it instead of retrying it.
            return Err(FetchError::Status {
                status: 400,
                code: "invalid_id".into(),
                message: format!("not an incident id: {incident_id:?}"),
            });
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| FetchError::Unreachable("the backend URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(["incidents", incident_id, "actions"]);
        let post = self.http.post(url).header("Idempotency-Key", key).json(req);
        match token {
            Some(t) => {
                let resp = post
                    .bearer_auth(t.expose())
                    .send()
                    .await
                    .map_err(transport)?;
                self.body(resp).await
            }
            // An action without an author (made without sign-in, or by `ioc-console act`) goes
            // with the console's own token only: never with whoever is signed in now.
            None => {
                let post = match &self.token {
                    Some(t) => post.bearer_auth(t.expose()),
                    None => post,
                };
                let resp = post.send().await.map_err(transport)?;
                self.body(resp).await
            }
        }
    }

    /// Opens the SSE stream (the caller reads it).
    pub async fn open_events(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<reqwest::Response, FetchError> {
        let url = self.url("events")?;
        let mut req = self.http.get(url).header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let resp = self.auth(req).send().await.map_err(transport)?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(self
                .body(resp)
                .await
                .err()
                .unwrap_or(FetchError::Unreachable("the event stream closed".into())))
        }
    }
}

fn transport(e: reqwest::Error) -> FetchError {
    // reqwest's Display is short; the source chain says what actually happened.
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    FetchError::Unreachable(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows() {
        let t = Token::new("s3cr3t");
        assert_eq!(format!("{t:?}"), "Token(***)");
        let cfg = ClientConfig {
            token: Some(t),
            ..ClientConfig::new("http://127.0.0.1:1/api/v1")
        };
        assert!(!format!("{cfg:?}").contains("s3cr3t"));
    }

    #[test]
    fn token_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t");
        std::fs::write(&f, "abc\n").unwrap();
        assert_eq!(read_token(Some(&f)).unwrap(), Some(Token::new("abc")));
        std::fs::write(&f, "  \n").unwrap();
        assert!(read_token(Some(&f)).is_err());
        assert!(read_token(Some(&dir.path().join("missing"))).is_err());
    }
}
