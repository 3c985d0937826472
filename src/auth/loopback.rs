//! The loopback redirect of a native app (RFC 8252 §7.3): a listener on 127.0.0.1 at a port the
//! system gives, waiting for the browser to come back with the authorization code.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// What came back to the redirect.
#[derive(Clone, Debug, PartialEq)]
pub enum Callback {
    Code {
        code: String,
        state: String,
    },
    /// The server said no (`error`, `error_description`).
    Error {
        error: String,
        description: String,
    },
}

pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    pub async fn bind() -> std::io::Result<Loopback> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        Ok(Loopback { listener, port })
    }

    /// The redirect URI to register with the request.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Waits for the browser's request to `/callback` (other requests, a favicon, are answered
    /// 404 and waited past) and answers it with `done` or, when the server said no, `failed`
    /// (HTML in the person's language).
    pub async fn wait(&self, done: &str, failed: &str) -> std::io::Result<Callback> {
        loop {
            let (mut sock, _) = self.listener.accept().await?;
            let mut buf = vec![0u8; 16 * 1024];
            let mut n = 0;
            // The request line and headers; nothing else is needed.
            while n < buf.len() {
                let got = match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    sock.read(&mut buf[n..]),
                )
                .await
                {
                    Ok(Ok(got)) => got,
                    _ => break,
                };
                if got == 0 {
                    break;
                }
                n += got;
                if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let target = head
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("GET "))
                .and_then(|l| l.split(' ').next())
                .unwrap_or("");
            match parse(target) {
                Some(cb) => {
                    let page = match cb {
                        Callback::Code { .. } => done,
                        Callback::Error { .. } => failed,
                    };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{page}",
                        page.len()
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                    return Ok(cb);
                }
                None => {
                    let _ = sock
                        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                }
            }
        }
    }
}

/// `/callback?code=…&state=…` or `/callback?error=…`; anything else is not the redirect.
pub fn parse(target: &str) -> Option<Callback> {
    let url = reqwest::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != "/callback" {
        return None;
    }
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = get("error") {
        return Some(Callback::Error {
            error,
            description: get("error_description").unwrap_or_default(),
        });
    }
    Some(Callback::Code {
        code: get("code")?,
        state: get("state").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_read_and_other_paths_are_not() {
        assert_eq!(
            parse("/callback?code=abc&state=x%20y"),
            Some(Callback::Code {
                code: "abc".into(),
                state: "x y".into()
            })
        );
        assert_eq!(
            parse("/callback?error=access_denied&error_description=no"),
            Some(Callback::Error {
                error: "access_denied".into(),
                description: "no".into()
            })
        );
        assert_eq!(parse("/favicon.ico"), None);
        assert_eq!(parse("/callback"), None);
    }
}
