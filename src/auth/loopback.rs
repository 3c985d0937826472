//! The loopback redirect of a native app (RFC 8252 §7.3): a listener on 127.0.0.1 at a port the
//! system gives, waiting for the browser to come back with the authorization code.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

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
        /// The request's state, sent back (RFC 6749 §4.1.2.1).
        state: Option<String>,
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
        self.wait_for(None, done, failed).await
    }

    /// [`Loopback::wait`] for the answer to the request sent with `state`: a callback with
    /// another state (or none), error or code, is not this sign-in's: answered 400 and the
    /// wait goes on (a page or another program on this PC cannot end the sign-in).
    pub async fn wait_for(
        &self,
        state: Option<&str>,
        done: &str,
        failed: &str,
    ) -> std::io::Result<Callback> {
        // Each connection read on its own, with a deadline for the whole head: a browser's
        // pre-opened socket that sends nothing, or a program trickling bytes, never holds up
        // the real answer. Those still reading when the wait ends are dropped with it.
        let mut reading = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    match accepted {
                        // More at once than a browser ever opens: someone else's flood,
                        // let go at once rather than read.
                        Ok(_) if reading.len() >= MAX_READING => {}
                        Ok((sock, _)) => {
                            reading.spawn(tokio::time::timeout(HEAD_DEADLINE, read_head(sock)));
                        }
                        // Out of file handles for a moment, a connection reset before it was
                        // taken: the sign-in goes on waiting.
                        Err(e) => {
                            tracing::warn!(%e, "the sign-in's redirect could not take a connection");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                    }
                }
                Some(read) = reading.join_next(), if !reading.is_empty() => {
                    let Ok(Ok((sock, target))) = read else {
                        continue;
                    };
                    if let Some(cb) = answer(sock, &target, state, done, failed).await {
                        return Ok(cb);
                    }
                }
            }
        }
    }
}

/// How many connections are read at once (a browser opens a few).
const MAX_READING: usize = 32;

/// How long a connection to the redirect has to send its request's head.
const HEAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// The request's head read (16 KiB at most), and its target ("/callback?…"; empty when it is
/// no GET).
async fn read_head(mut sock: TcpStream) -> (TcpStream, String) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut n = 0;
    while n < buf.len() {
        match sock.read(&mut buf[n..]).await {
            Ok(0) | Err(_) => break,
            Ok(got) => n += got,
        }
        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf[..n]);
    let target = head
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("GET "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or("")
        .to_owned();
    (sock, target)
}

/// Answers one request: the callback of this sign-in (returned) with the page, anything else
/// 400 (a callback of another request) or 404 (not the callback).
async fn answer(
    mut sock: TcpStream,
    target: &str,
    state: Option<&str>,
    done: &str,
    failed: &str,
) -> Option<Callback> {
    let theirs = |cb: &Callback| match (state, cb) {
        (None, _) => true,
        (Some(want), Callback::Code { state, .. }) => state == want,
        (Some(want), Callback::Error { state, .. }) => state.as_deref() == Some(want),
    };
    match parse(target) {
        Some(cb) if !theirs(&cb) => {
            let _ = sock
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            None
        }
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
            Some(cb)
        }
        None => {
            let _ = sock
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            None
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
            state: get("state"),
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
                description: "no".into(),
                state: None,
            })
        );
        assert_eq!(parse("/favicon.ico"), None);
        assert_eq!(parse("/callback"), None);
    }

    /// A browser coming back to the redirect at `addr` with `query`: the whole answer.
    async fn get(addr: &str, query: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET /callback?{query} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[test]
    fn a_socket_that_sends_nothing_does_not_hold_up_the_answer() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let lb = Loopback::bind().await.unwrap();
            let addr = format!("127.0.0.1:{}", lb.port);
            let waiting = tokio::spawn(async move { lb.wait_for(Some("s1"), "ok", "no").await });
            // A browser's pre-opened socket (sends nothing) and a program trickling a byte at
            // a time, both first in the queue.
            let idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
            slow.write_all(b"GE").await.unwrap();
            tokio::task::yield_now().await;
            // Another request's callback, sent after them, is answered (400) while both are
            // still open and waited on: a listener serving them in turn would have given up on
            // and closed them first.
            let other = get(&addr, "code=c0&state=other").await;
            assert!(other.starts_with("HTTP/1.1 400"), "{other}");
            assert!(!waiting.is_finished());
            let std_of = |t: tokio::net::TcpStream| {
                let s = t.into_std().unwrap();
                s.set_nonblocking(true).unwrap();
                s
            };
            let (mut idle, mut slow) = (std_of(idle), std_of(slow));
            let mut byte = [0u8; 1];
            for sock in [&mut idle, &mut slow] {
                let r = std::io::Read::read(sock, &mut byte);
                assert!(
                    matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
                    "closed before the answer: {r:?}"
                );
            }
            let ours = get(&addr, "code=c1&state=s1").await;
            assert!(ours.starts_with("HTTP/1.1 200"), "{ours}");
            // The wait over, they are let go.
            assert!(waiting.await.unwrap().is_ok());
            for sock in [&mut idle, &mut slow] {
                sock.set_nonblocking(false).unwrap();
                sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                    .unwrap();
                let r = std::io::Read::read(sock, &mut byte);
                assert!(
                    matches!(&r, Ok(0))
                        || matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
                    "{r:?}"
                );
            }
        });
    }

    #[test]
    fn only_the_answer_to_this_request_ends_the_wait() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let lb = Loopback::bind().await.unwrap();
            let addr = format!("127.0.0.1:{}", lb.port);
            let waiting = tokio::spawn(async move { lb.wait_for(Some("s1"), "ok", "no").await });
            // Another page's error and a code for another request: refused, still waiting.
            let forged = get(&addr, "error=access_denied").await;
            assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
            let other = get(&addr, "code=c&state=other").await;
            assert!(other.starts_with("HTTP/1.1 400"), "{other}");
            assert!(!waiting.is_finished());
            let ours = get(&addr, "code=c1&state=s1").await;
            assert!(
                ours.starts_with("HTTP/1.1 200") && ours.ends_with("ok"),
                "{ours}"
            );
            assert_eq!(
                waiting.await.unwrap().unwrap(),
                Callback::Code {
                    code: "c1".into(),
                    state: "s1".into()
                }
            );
        });
    }
}
