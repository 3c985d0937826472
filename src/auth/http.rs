//! The HTTP client `openidconnect` talks to the identity server through: the project's reqwest
//! (rustls, the configured CA bundle), no redirects followed, timeouts, and a small body limit.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::StreamExt as _;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Largest answer taken from the identity server (discovery, keys, tokens).
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Transport(String),
    #[error("the answer is larger than {BODY_LIMIT} bytes")]
    TooLarge,
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new(ca_bundle: Option<&std::path::Path>) -> Result<Http, String> {
        crate::util::tls::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            // Discovery and token answers are the server's own; a redirect is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ioc-console/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = ca_bundle {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(Http { client })
    }

    /// The underlying client (userinfo, end of session).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Transport errors without their URL's query (codes and tokens travel in some).
fn transport(e: reqwest::Error) -> HttpError {
    HttpError::Transport(e.without_url().to_string())
}

async fn call(client: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, HttpError> {
    let (parts, body) = req.into_parts();
    let url = reqwest::Url::parse(&parts.uri.to_string())
        .map_err(|e| HttpError::Transport(e.to_string()))?;
    let mut r = client.request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        r = r.header(name, value);
    }
    let resp = r.send().await.map_err(transport)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    if resp.content_length().is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(HttpError::TooLarge);
    }
    let mut bytes = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(transport)?;
        if bytes.len() + chunk.len() > BODY_LIMIT {
            return Err(HttpError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    let mut out = HttpResponse::new(bytes);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(call(self.client.clone(), request))
    }
}
