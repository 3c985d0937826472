//! One poll of an Open311 server: services (categories), requests page by page (`page` /
//! `page_size`, or the server's `X-Next-Page-URL`), request updates where the server has
//! FixMyStreet's `servicerequestupdates`; JSON, or XML from the first answer that shows the
//! server has no JSON. Error lists are said with their codes; an operator's action on one of its
//! incidents goes back as an update when the source is configured read-write.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use chrono::Utc;
use reqwest::Url;

use super::mapping;
use super::parse::{self, Document, Record, Syntax};
use crate::model::*;
use crate::outbox::{Entry, Outcome};
use crate::sources::client::FetchError;
use crate::sources::external::{Failure, Polled, Running, Updates, status_error, too_many};
use crate::sources::messages::SourcePayload;
use crate::sources::parse::ParseError;

fn format_of(src: &Running) -> &'static str {
    if src.xml.load(Ordering::Relaxed) {
        "xml"
    } else {
        "json"
    }
}

/// `{base}/{path}.{fmt}?params` (with the jurisdiction, and the key when reads need it).
fn url(
    src: &Running,
    path: &str,
    params: &[(&str, String)],
    with_key: bool,
) -> Result<Url, FetchError> {
    let base = src.cfg.url.trim_end_matches('/');
    let mut u = Url::parse(&format!("{base}/{path}.{}", format_of(src)))
        .map_err(|e| FetchError::Unreachable(format!("{base}: {e}")))?;
    {
        let mut q = u.query_pairs_mut();
        if let Some(j) = &src.cfg.jurisdiction_id {
            q.append_pair("jurisdiction_id", j);
        }
        if with_key && let Some(k) = &src.key {
            q.append_pair("api_key", k);
        }
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    if u.query() == Some("") {
        u.set_query(None);
    }
    Ok(u)
}

/// The failure an error list stands for.
fn server_errors(status: u16, errors: &[parse::ServerError]) -> FetchError {
    let words = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    match status {
        401 => FetchError::Unauthorized(words),
        403 => FetchError::Forbidden(words),
        _ => FetchError::Status {
            status,
            code: errors.first().map(|e| e.code.clone()).unwrap_or_default(),
            message: words,
        },
    }
}

fn unusable(place: String, message: String) -> FetchError {
    FetchError::Parse(ParseError {
        resource: "open311",
        path: place,
        message,
    })
}

/// GETs one document (switching an `auto` source to XML when the server has no JSON), its
/// records collected.
async fn get(src: &Running, u: Url) -> Result<(Vec<Record>, reqwest::header::HeaderMap), Failure> {
    let mut records = Vec::new();
    let (_, headers) = get_each(src, u, &mut |r| records.push(r)).await?;
    Ok((records, headers))
}

/// The syntax of a body by its first character that is not white space.
fn syntax_of(body: &[u8]) -> Option<Syntax> {
    let first = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .iter()
        .find(|b| !b.is_ascii_whitespace())?;
    match first {
        b'[' | b'{' => Some(Syntax::Json),
        b'<' => Some(Syntax::Xml),
        _ => None,
    }
}

/// Failures that say the server cannot answer now (rather than that it lacks something).
fn transient(e: &FetchError) -> bool {
    match e {
        FetchError::Unreachable(_) | FetchError::Busy { .. } => true,
        FetchError::Status { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

/// Whether a body is an HTML page (a proxy's error page, a login page), never an Open311 answer.
fn is_html(body: &[u8]) -> bool {
    let head: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(16)
        .map(u8::to_ascii_lowercase)
        .collect();
    head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
}

/// GETs one document, giving each record to `each` as it is read; the number of records and
/// the answer's headers. An `auto` source whose JSON URL is refused, or answered in XML, tries
/// the XML URL, and settles on XML only when that answer is an Open311 document (a proxy's HTML
/// error page settles nothing).
async fn get_each(
    src: &Running,
    u: Url,
    each: &mut (dyn FnMut(Record) + Send),
) -> Result<(usize, reqwest::header::HeaderMap), Failure> {
    let a = src.client.fetch(src.client.http().get(u.clone())).await?;
    if a.status == 429 {
        return Err(too_many(&a.headers));
    }
    let no_json = !is_html(&a.body)
        && (syntax_of(&a.body) == Some(Syntax::Xml)
            || (matches!(a.status, 400 | 404 | 406 | 415 | 501)
                && !matches!(parse::read(&a.body), Ok(Document::Errors(_)))));
    if src.cfg.format == crate::sources::external::Open311Format::Auto
        && !src.xml.load(Ordering::Relaxed)
        && no_json
    {
        let mut x = u.clone();
        let path = x.path().trim_end_matches(".json").to_owned() + ".xml";
        x.set_path(&path);
        let b = src.client.fetch(src.client.http().get(x)).await?;
        if b.status == 429 {
            return Err(too_many(&b.headers));
        }
        if (200..300).contains(&b.status) && !is_html(&b.body) {
            let read = read_answer(b, each);
            if read.is_ok() {
                tracing::info!(source = %src.cfg.id, "the Open311 server has no JSON: XML from now on");
                src.xml.store(true, Ordering::Relaxed);
                return read;
            }
        }
    }
    read_answer(a, each)
}

/// An answer's records (or why there are none).
fn read_answer(
    a: crate::sources::client::Answer,
    each: &mut (dyn FnMut(Record) + Send),
) -> Result<(usize, reqwest::header::HeaderMap), Failure> {
    if !(200..300).contains(&a.status) {
        return Err(match parse::read(&a.body) {
            Ok(Document::Errors(e)) => server_errors(a.status, &e),
            _ => status_error(a.status, &a.body),
        }
        .into());
    }
    // Reading a hundred thousand requests is CPU work: off the async workers.
    match tokio::task::block_in_place(|| parse::read_each(&a.body, each)) {
        Ok(parse::Read::Records(n)) => Ok((n, a.headers)),
        Ok(parse::Read::Errors(e)) => Err(server_errors(400, &e).into()),
        Ok(parse::Read::Discovery(_)) => Err(unusable(
            "(body)".into(),
            "a service discovery document, not a list: the source's url is one of its endpoints"
                .into(),
        )
        .into()),
        Err(e) => Err(unusable(e.place, e.message).into()),
    }
}

/// One poll: services, updates, then every page of requests, each request mapped as it is
/// read.
pub(in crate::sources) async fn poll(src: &Running) -> Result<Polled, Failure> {
    let m = src.cfg.open311.clone().unwrap_or_default();
    let id = &src.cfg.id;
    let mut problems: Vec<String> = Vec::new();
    let with_key = src.cfg.key_on_reads;
    // Services: a server that cannot answer now (down, 429, 5xx) fails the poll, the last good
    // data staying; services it does not have are said, the last ones kept, the requests shown.
    let categories = match url(src, "services", &[], with_key) {
        Ok(u) => match get(src, u).await {
            Ok((services, _)) => {
                let (c, p) = mapping::categories(&services, id, &m);
                problems.extend(p.iter().map(|p| format!("services {p}")));
                Some(c)
            }
            Err(f) if transient(&f.error) => return Err(f),
            Err(f) => {
                problems.push(format!("services: {}", src.redact(f.error)));
                None
            }
        },
        Err(e) => {
            problems.push(format!("services: {e}"));
            None
        }
    };
    // Updates: history where the server has them.
    let mut history: HashMap<String, Vec<HistoryEntry>> = HashMap::new();
    if src.cfg.updates != Updates::None {
        let now = Utc::now();
        let params = [
            (
                "start_date",
                (now - chrono::Duration::days(90))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            (
                "end_date",
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        ];
        match url(src, "servicerequestupdates", &params, with_key) {
            Ok(u) => match get(src, u).await {
                Ok((updates, _)) => {
                    for u in &updates {
                        match mapping::history_entry(u, &src.cfg.name, &m) {
                            Some((rid, h)) => history.entry(rid).or_default().push(h),
                            None => problems.push(format!(
                                "servicerequestupdates {}: no request id or time: skipped",
                                u.place
                            )),
                        }
                    }
                }
                // Without its updates the incidents would lose their history: the poll
                // fails and the last good data (with history) stays.
                Err(mut f) => {
                    if let FetchError::Status { message, .. } = &mut f.error {
                        *message = format!("servicerequestupdates: {message}");
                    }
                    return Err(f);
                }
            },
            Err(e) => problems.push(format!("servicerequestupdates: {e}")),
        }
    }
    // Requests, page by page, mapped as they are read.
    let sla: HashMap<String, u32> = categories
        .iter()
        .flatten()
        .map(|c| (c.id.clone(), c.sla_hours))
        .collect();
    let sla_of = |c: &str| sla.get(c).copied();
    let from = mapping::From {
        source: id,
        name: &src.cfg.name,
        writable: src.cfg.updates == Updates::ReadWrite,
    };
    let mut mapper = mapping::Mapper::new(&from, &m, &sla_of, &mut history);
    let page_size = src.cfg.page_size;
    let max_pages = src.cfg.max_pages.unwrap_or(50).max(1);
    let mut next: Option<Url> = None;
    let mut page = 1u32;
    loop {
        let u = match next.take() {
            Some(u) => u,
            None => {
                let mut params = Vec::new();
                if let Some(n) = page_size {
                    params.push(("page_size", n.to_string()));
                    params.push(("page", page.to_string()));
                }
                url(src, "requests", &params, with_key)?
            }
        };
        let paged = page_size.is_some() || page > 1;
        let known = mapper.seen();
        let (count, headers) = get_each(src, u, &mut |mut r| {
            if paged {
                r.place = format!("page {page} {}", r.place);
            }
            mapper.push(r);
        })
        .await?;
        next = headers
            .get("x-next-page-url")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .and_then(|v| Url::parse(v.trim()).ok())
            .map(|mut n| {
                // The server's link need not carry the key reads need.
                if with_key
                    && let Some(k) = &src.key
                    && !n.query_pairs().any(|(p, _)| p == "api_key")
                {
                    n.query_pairs_mut().append_pair("api_key", k);
                }
                n
            });
        if count > 0 && mapper.seen() == known {
            // A server that ignores `page` sends the same page again: nothing more to read.
            if page > 1 {
                problems.push(format!(
                    "requests: page {page} repeats the ones before; paging stopped"
                ));
            }
            break;
        }
        let more = next.is_some() || page_size.is_some_and(|n| count >= n as usize && count > 0);
        if !more {
            break;
        }
        if page >= max_pages {
            problems.push(format!(
                "requests: more than {max_pages} pages; the rest not read (max_pages)"
            ));
            break;
        }
        page += 1;
    }
    let (incidents, p) = mapper.finish_batches();
    problems.extend(p.iter().map(ToString::to_string));
    Ok(Polled {
        payload: SourcePayload::Incidents {
            incidents,
            categories,
        },
        problems,
        as_of: None,
    })
}

/// The status code an action leaves the request in, as Open311 update servers take them.
fn status_out(a: ActionKind) -> Option<&'static str> {
    Some(match a {
        // Each reads back as the status the action leads to (the built-in table).
        ActionKind::Receive => "OPEN",
        ActionKind::Verify => "CONFIRMED",
        ActionKind::Forward => "INTERNAL_REFERRAL",
        ActionKind::Start => "IN_PROGRESS",
        ActionKind::Resolve => "FIXED",
        ActionKind::Reject => "NO_FURTHER_ACTION",
        ActionKind::Note => return None,
    })
}

/// Sends an operator's action on one of this source's incidents as an update
/// (`POST servicerequestupdates`, the idempotency key as `update_id`), then reads the request
/// back.
pub(in crate::sources) async fn send_update(
    src: &Running,
    entry: &Entry,
    remote_id: &str,
) -> Outcome {
    if src.cfg.updates != Updates::ReadWrite {
        return Outcome::Refused(format!(
            "{} does not take updates (read-only)",
            src.cfg.name
        ));
    }
    let u = match url(src, "servicerequestupdates", &[], false) {
        Ok(u) => u,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let r = &entry.request;
    let mut form: Vec<(&str, String)> = vec![
        ("service_request_id", remote_id.to_owned()),
        ("update_id", entry.key.clone()),
        (
            "updated_datetime",
            Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        (
            "description",
            r.note
                .clone()
                .unwrap_or_else(|| format!("{:?}", r.action).to_lowercase()),
        ),
    ];
    if let Some(s) = status_out(r.action) {
        form.push(("status", s.to_owned()));
    }
    if let Some(actor) = &r.actor {
        form.push(("first_name", actor.clone()));
    }
    if let Some(k) = &src.key {
        form.push(("api_key", k.clone()));
    }
    let answer = src
        .client
        .fetch(src.client.http().post(u).form(&form))
        .await;
    let a = match answer {
        Ok(a) => a,
        Err(e) => return Outcome::Retry(src.redact(e).to_string()),
    };
    if !(200..300).contains(&a.status) {
        let words = match parse::read(&a.body) {
            Ok(Document::Errors(e)) => e
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            _ => String::from_utf8_lossy(&a.body[..a.body.len().min(200)]).into_owned(),
        };
        return if matches!(a.status, 408 | 429) || a.status >= 500 {
            Outcome::Retry(format!("{}: {words}", a.status))
        } else {
            Outcome::Refused(format!("{}: {words}", a.status))
        };
    }
    // Read the request back: the source's own view of it now.
    let back = match url(
        src,
        &format!("requests/{remote_id}"),
        &[],
        src.cfg.key_on_reads,
    ) {
        Ok(u) => get(src, u).await.ok(),
        Err(_) => None,
    };
    let m = src.cfg.open311.clone().unwrap_or_default();
    let from = mapping::From {
        source: &src.cfg.id,
        name: &src.cfg.name,
        writable: true,
    };
    if let Some((records, _)) = back {
        let (mut inc, _) = mapping::incidents(records, &from, &m, &|_| None, &mut HashMap::new());
        if let Some(i) = inc.pop().filter(|i| i.id == entry.incident_id) {
            return Outcome::Acked(Box::new(i));
        }
    }
    Outcome::AckedUnread(format!(
        "{} took the update; its next poll shows it",
        src.cfg.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an action sends reads back, through the built-in table, as the status it leads to.
    #[test]
    fn an_actions_status_reads_back_as_what_it_leads_to() {
        for (a, leads_to) in [
            (ActionKind::Verify, IncidentStatus::Verified),
            (ActionKind::Forward, IncidentStatus::Forwarded),
            (ActionKind::Start, IncidentStatus::InProgress),
            (ActionKind::Resolve, IncidentStatus::Resolved),
            (ActionKind::Reject, IncidentStatus::Rejected),
        ] {
            let sent = status_out(a).unwrap();
            assert_eq!(
                mapping::builtin_status(&sent.to_lowercase()),
                Some(leads_to),
                "{a:?}"
            );
        }
        assert_eq!(status_out(ActionKind::Note), None);
    }
}
