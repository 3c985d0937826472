//! Credentials out of URLs and messages: camera URLs carry user names, passwords and secret
//! query parameters, and nothing of them may reach a log, a tile or an error.

/// Query parameters that carry secrets on some cameras (MJPEG CGIs: `?user=admin&pwd=...`).
const SECRET_PARAMS: &[&str] = &[
    "user",
    "username",
    "usr",
    "pwd",
    "pass",
    "password",
    "passwd",
    "token",
    "auth",
    "key",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "id_token_hint",
    "device_code",
];

/// The URL's scheme, user information (everything before the last `@` after the scheme:
/// passwords may hold `#`, `?` or `/`; hiding a little too much is fine) and the rest.
fn split_userinfo(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let (userinfo, host) = rest.rsplit_once('@')?;
    Some((scheme, userinfo, host))
}

/// Hides the values of secret query parameters.
fn hide_params(rest: &str) -> String {
    let Some((before, query)) = rest.split_once('?') else {
        return rest.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                format!("{k}=***")
            }
            _ => kv.to_owned(),
        })
        .collect();
    format!("{before}?{}", query.join("&"))
}

/// A URL with its user, password and secret query parameters replaced, for logs, the UI and
/// errors.
pub fn redact(url: &str) -> String {
    match split_userinfo(url) {
        Some((scheme, _, host)) => format!("{scheme}://***@{}", hide_params(host)),
        None => hide_params(url),
    }
}

/// Decodes %XX escapes (a password may be quoted back decoded).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes the credentials of `url` from any text (a GStreamer message may quote the URL, its
/// user information, or the password alone, encoded or decoded).
pub fn scrub(text: &str, url: &str) -> String {
    let mut out = text.replace(url, &redact(url));
    let mut secrets: Vec<String> = Vec::new();
    if let Some((_, userinfo, _)) = split_userinfo(url) {
        secrets.push(userinfo.to_owned());
        secrets.push(percent_decode(userinfo));
        if let Some((_, pass)) = userinfo.split_once(':') {
            secrets.push(pass.to_owned());
            secrets.push(percent_decode(pass));
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for kv in query.split('&') {
            if let Some((k, v)) = kv.split_once('=')
                && SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str())
            {
                secrets.push(v.to_owned());
                secrets.push(percent_decode(v));
            }
        }
    }
    // Longest first, and not so short that ordinary words would be blanked.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(secret.as_str(), "***");
    }
    out
}
