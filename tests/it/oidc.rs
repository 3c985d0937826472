//! A real OpenID Connect provider on loopback for the sign-in tests: `oidc-provider` (Node.js,
//! from npm) started from `tests/oidc/provider.mjs`, with the test client `ioc-console` (and
//! `other-app`) and one user of each role (`op1`, `lead1`, `tech1`, `multi`, `norole`; password
//! `secret`). `packaging/dev.sh` installs Node and `npm ci`s the package. And a browser for the
//! tests: a cookie jar that follows the provider's redirects and posts its forms, as a person
//! would, until the redirect reaches the console's loopback address.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Token lifetimes of a provider, seconds.
#[derive(Clone, Copy)]
pub struct Ttl {
    pub access: u64,
    pub id: u64,
    pub refresh: u64,
}

impl Default for Ttl {
    fn default() -> Self {
        Ttl {
            access: 300,
            id: 300,
            refresh: 3600,
        }
    }
}

impl Provider {
    pub fn start() -> Provider {
        Self::start_with(Ttl::default())
    }

    pub fn start_with(ttl: Ttl) -> Provider {
        Self::start_on(0, ttl)
    }

    /// On `port` (0: any free one), e.g. one a console was told about before the server came up.
    pub fn start_on(port: u16, ttl: Ttl) -> Provider {
        let dir = crate::support::repo().join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "the test identity server is not installed: run `bash packaging/dev.sh test` (it installs Node.js and runs `npm ci` in tests/oidc)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_ACCESS_TTL", ttl.access.to_string())
            .env("OIDC_ID_TTL", ttl.id.to_string())
            .env("OIDC_REFRESH_TTL", ttl.refresh.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (Node.js) runs the test identity server");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            // Keep reading so the provider never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the identity server did not start");
        let issuer = line
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .trim()
            .to_owned();
        Provider { child, issuer }
    }

    /// The identity configuration of the console for this provider.
    pub fn identity(&self) -> ioc_console::auth::IdentityConfig {
        ioc_console::auth::IdentityConfig::new(self.issuer.clone(), "ioc-console")
    }
}

/// A browser without a screen: cookies kept (all sent back; the provider's paths do not
/// overlap in a way that matters), redirects followed by hand, forms posted.
pub struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// Where the browser stopped.
#[derive(Debug)]
pub enum Stop {
    /// Redirected to the console's loopback address (the URL).
    Redirect(String),
    /// A page without a form (its text).
    Page(u16, String),
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let pair = v.split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.to_ascii_lowercase().contains("expires=thu, 01 jan 1970") {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_owned(), val.to_owned());
                }
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let resp = req
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("the identity server answers");
        self.keep_cookies(&resp);
        resp
    }

    /// Follows redirects and posts forms from `url` as `user` (password `secret`) until a
    /// redirect to `stop_prefix` or a page without a form.
    pub async fn drive(&mut self, url: &str, user: &str, stop_prefix: &str) -> Stop {
        self.drive_with(url, user, "secret", stop_prefix).await
    }

    pub async fn drive_with(&mut self, url: &str, user: &str, password: &str, stop: &str) -> Stop {
        let mut current = reqwest::Url::parse(url).unwrap();
        let mut resp = self.send(self.http.get(current.clone())).await;
        let mut logins = 0;
        for _ in 0..40 {
            let status = resp.status().as_u16();
            if (300..400).contains(&status) {
                let loc = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let next = current.join(&loc).unwrap();
                if next.as_str().starts_with(stop) {
                    return Stop::Redirect(next.to_string());
                }
                current = next;
                resp = self.send(self.http.get(current.clone())).await;
                continue;
            }
            let body = resp.text().await.unwrap_or_default();
            let Some(form) = Form::parse(&body) else {
                return Stop::Page(status, body);
            };
            let mut fields = form.fields;
            if fields.iter().any(|(k, _)| k == "password") {
                logins += 1;
                if logins > 1 && body.contains("id=\"error\"") {
                    return Stop::Page(status, body);
                }
                set(&mut fields, "login", user);
                set(&mut fields, "password", password);
            }
            let target = current.join(&form.action).unwrap();
            resp = self
                .send(self.http.post(target.clone()).form(&fields))
                .await;
            current = target;
        }
        panic!("the browser went round in circles");
    }
}

fn set(fields: &mut Vec<(String, String)>, k: &str, v: &str) {
    match fields.iter_mut().find(|(n, _)| n == k) {
        Some(f) => f.1 = v.to_owned(),
        None => fields.push((k.to_owned(), v.to_owned())),
    }
}

/// The first form of a page: its action and its inputs' names and values.
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x2F;", "/")
        .replace("&#x3D;", "=")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Form {
    fn parse(html: &str) -> Option<Form> {
        let start = html.find("<form")?;
        let end = html[start..].find("</form>").map(|e| e + start)?;
        let form = &html[start..end];
        let open_end = form.find('>')?;
        let action = attr(&form[..open_end], "action")?;
        let mut fields = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find("<input") {
            let tag_end = rest[i..].find('>').map(|e| e + i)?;
            let tag = &rest[i..tag_end];
            if let Some(name) = attr(tag, "name") {
                fields.push((name, attr(tag, "value").unwrap_or_default()));
            }
            rest = &rest[tag_end..];
        }
        Some(Form { action, fields })
    }
}

/// The claims of a JWT, unchecked (what the test looks at).
pub fn claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}
