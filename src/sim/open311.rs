//! The simulated IOC's incidents as an Open311 GeoReport v2 server (JSON and XML), under
//! `/open311/v2`: `services`, `requests` (with `page`/`page_size`), `requests/{id}`, and
//! FixMyStreet's `servicerequestupdates` (GET the histories, POST an update, which becomes an
//! action on the world under the update's id as idempotency key). Trainers use it to show the
//! console reading citizen reports from a system it did not write; tests use it as a real
//! Open311 server. Statuses are written the way real servers do (`open`, `IN_PROGRESS`,
//! `FIXED`…), agencies by their names, ids as strings.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::world::World;
use crate::model::*;

/// What the Open311 face needs of the simulator (its server gives it): the world, a tick of
/// simulated time before and after a change, the key updates must carry.
pub trait Host: Send + Sync + 'static {
    fn world(&self) -> std::sync::MutexGuard<'_, World>;
    fn tick(&self);
    fn open311_key(&self) -> Option<String>;
}

/// The status code a server would send for each of the console's statuses.
pub fn status_code(s: IncidentStatus) -> &'static str {
    match s {
        IncidentStatus::Received => "open",
        IncidentStatus::Verified => "CONFIRMED",
        IncidentStatus::Forwarded => "INTERNAL_REFERRAL",
        IncidentStatus::InProgress => "IN_PROGRESS",
        IncidentStatus::Resolved => "FIXED",
        IncidentStatus::Rejected => "NO_FURTHER_ACTION",
    }
}

pub(super) fn router<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/services.{fmt}", get(services::<H>))
        .route("/requests.{fmt}", get(requests::<H>))
        .route("/requests/{file}", get(one_request::<H>))
        .route(
            "/servicerequestupdates.{fmt}",
            get(updates::<H>).post(post_update::<H>),
        )
}

#[derive(Clone, Copy, PartialEq)]
enum Fmt {
    Json,
    Xml,
}

/// The format of a `….json` / `….xml` path, or the 404 that says which there are.
fn format_or_404(s: &str) -> Result<Fmt, Box<Response>> {
    fmt(s).ok_or_else(|| {
        Box::new(errors(
            None,
            StatusCode::NOT_FOUND,
            404,
            "format must be json or xml",
        ))
    })
}

fn fmt(s: &str) -> Option<Fmt> {
    match s {
        "json" => Some(Fmt::Json),
        "xml" => Some(Fmt::Xml),
        _ => None,
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One record as ordered fields.
type Fields = Vec<(&'static str, String)>;

fn write(f: Fmt, root: &str, item: &str, records: &[Fields]) -> Response {
    match f {
        Fmt::Json => {
            let list: Vec<serde_json::Map<String, serde_json::Value>> = records
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .collect();
            (
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                serde_json::to_string(&list).unwrap_or_default(),
            )
                .into_response()
        }
        Fmt::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            out.push_str(&format!("<{root}>"));
            for r in records {
                out.push_str(&format!("<{item}>"));
                for (k, v) in r {
                    out.push_str(&format!("<{k}>{}</{k}>", esc(v)));
                }
                out.push_str(&format!("</{item}>"));
            }
            out.push_str(&format!("</{root}>"));
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
        }
    }
}

fn errors(f: Option<Fmt>, status: StatusCode, code: u16, description: &str) -> Response {
    let rec = vec![vec![
        ("code", code.to_string()),
        ("description", description.to_owned()),
    ]];
    let mut r = write(f.unwrap_or(Fmt::Xml), "errors", "error", &rec);
    *r.status_mut() = status;
    r
}

/// A time as a Vietnamese server writes it: local time with its offset.
fn t(ts: Timestamp) -> String {
    let vn = chrono::FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset");
    ts.with_timezone(&vn)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A request's fields: the category's name as the service, and as the agency the name of the
/// unit that answers for the place (the console's unit of the incident).
fn request_fields(
    i: &Incident,
    cats: &HashMap<String, String>,
    units: &HashMap<String, String>,
) -> Fields {
    let name_of = |map: &HashMap<String, String>, id: &str| {
        map.get(id).cloned().unwrap_or_else(|| id.to_owned())
    };
    let cat_name = name_of(cats, &i.category);
    let agency = name_of(units, &i.unit_id);
    let mut r: Fields = vec![
        ("service_request_id", i.id.clone()),
        ("status", status_code(i.status).to_owned()),
        ("service_name", cat_name),
        ("service_code", i.category.clone()),
        ("description", i.description.clone()),
        ("agency_responsible", agency),
        ("requested_datetime", t(i.received_at)),
        ("updated_datetime", t(i.updated_at)),
        ("expected_datetime", t(i.due_at)),
        ("lat", format!("{:.6}", i.location.lat)),
        ("long", format!("{:.6}", i.location.lon)),
    ];
    if let Some(a) = &i.address {
        r.push(("address", a.clone()));
    }
    if let Some(m) = i.media.first() {
        r.push(("media_url", m.url.clone()));
    }
    r
}

fn names<H: Host>(s: &H) -> (HashMap<String, String>, HashMap<String, String>) {
    let w = s.world();
    let cats = w
        .categories()
        .iter()
        .map(|c| (c.id.clone(), c.name_vi.clone()))
        .collect();
    let units = w
        .units()
        .iter()
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    (cats, units)
}

async fn services<H: Host>(State(s): State<Arc<H>>, Path(f): Path<String>) -> Response {
    let f = match format_or_404(&f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let w = s.world();
    let recs: Vec<Fields> = w
        .categories()
        .iter()
        .map(|c| {
            vec![
                ("service_code", c.id.clone()),
                ("service_name", c.name_vi.clone()),
                ("description", c.name_en.clone()),
                ("metadata", "false".into()),
                ("type", "realtime".into()),
                ("keywords", String::new()),
                ("group", "IOC".into()),
            ]
        })
        .collect();
    write(f, "services", "service", &recs)
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    page: Option<usize>,
    page_size: Option<usize>,
    status: Option<String>,
    api_key: Option<String>,
}

async fn requests<H: Host>(
    State(s): State<Arc<H>>,
    Path(f): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let f = match format_or_404(&f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    s.tick();
    let (cats, units) = names(s.as_ref());
    let w = s.world();
    let mut all: Vec<&Incident> = w
        .incidents()
        .iter()
        .filter(|i| match q.status.as_deref() {
            Some("open") => !i.status.is_closed(),
            Some("closed") => i.status.is_closed(),
            _ => true,
        })
        .collect();
    all.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(a.id.cmp(&b.id)));
    let size = q.page_size.unwrap_or(1000).clamp(1, 1000);
    let page = q.page.unwrap_or(1).max(1);
    let total = all.len();
    let recs: Vec<Fields> = all
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|i| request_fields(i, &cats, &units))
        .collect();
    let _ = q.api_key;
    let mut r = write(f, "service_requests", "request", &recs);
    if let Ok(v) = total.to_string().parse() {
        r.headers_mut().insert("x-result-count", v);
    }
    r
}

async fn one_request<H: Host>(State(s): State<Arc<H>>, Path(file): Path<String>) -> Response {
    let Some((id, f)) = file.rsplit_once('.') else {
        return errors(
            None,
            StatusCode::NOT_FOUND,
            404,
            "requests/{id}.json or .xml",
        );
    };
    let f = match format_or_404(f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let (cats, units) = names(s.as_ref());
    let w = s.world();
    let Some(i) = w.incident(id) else {
        return errors(
            Some(f),
            StatusCode::NOT_FOUND,
            404,
            &format!("request {id} does not exist"),
        );
    };
    write(
        f,
        "service_requests",
        "request",
        &[request_fields(i, &cats, &units)],
    )
}

async fn updates<H: Host>(State(s): State<Arc<H>>, Path(f): Path<String>) -> Response {
    let f = match format_or_404(&f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let w = s.world();
    let mut recs = Vec::new();
    for i in w.incidents() {
        for (n, h) in i.history.iter().enumerate().skip(1) {
            let mut r: Fields = vec![
                ("update_id", format!("{}-{n}", i.id)),
                ("service_request_id", i.id.clone()),
                ("status", status_code(h.status).to_owned()),
                ("updated_datetime", t(h.at)),
                (
                    "description",
                    h.note.clone().unwrap_or_else(|| h.actor.clone()),
                ),
            ];
            if h.action == ActionKind::Note {
                r.push(("external_status_code", "note".into()));
            }
            recs.push(r);
        }
    }
    write(f, "service_requests_updates", "request_update", &recs)
}

async fn post_update<H: Host>(
    State(s): State<Arc<H>>,
    Path(f): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f = fmt(&f);
    let form: HashMap<String, String> = match serde_urlencoded_pairs(&body) {
        Some(m) => m,
        None => {
            return errors(
                f,
                StatusCode::BAD_REQUEST,
                400,
                "a form (application/x-www-form-urlencoded)",
            );
        }
    };
    if let Some(key) = &s.open311_key()
        && form.get("api_key") != Some(key)
    {
        return errors(f, StatusCode::FORBIDDEN, 403, "Invalid api_key");
    }
    let Some(id) = form.get("service_request_id") else {
        return errors(
            f,
            StatusCode::BAD_REQUEST,
            400,
            "service_request_id is required",
        );
    };
    let action = match form
        .get("status")
        .map(|s| s.to_ascii_uppercase())
        .as_deref()
    {
        None => ActionKind::Note,
        // The same table as the console's: each status the one an action leads to.
        Some("OPEN") => ActionKind::Note,
        Some("CONFIRMED") => ActionKind::Verify,
        Some("INTERNAL_REFERRAL") => ActionKind::Forward,
        Some("IN_PROGRESS") => ActionKind::Start,
        Some("FIXED") | Some("RESOLVED") | Some("CLOSED") => ActionKind::Resolve,
        Some("DUPLICATE") | Some("NO_FURTHER_ACTION") => ActionKind::Reject,
        Some(other) => {
            return errors(
                f,
                StatusCode::BAD_REQUEST,
                400,
                &format!("unknown status {other}"),
            );
        }
    };
    let unit_id = (action == ActionKind::Forward)
        .then(|| s.world().incident(id).map(|i| i.unit_id.clone()))
        .flatten();
    let req = ActionRequest {
        action,
        unit_id,
        note: form.get("description").cloned(),
        expected_version: None,
        actor: form.get("first_name").cloned(),
    };
    s.tick();
    let outcome = s
        .world()
        .act(id, &req, form.get("update_id").map(String::as_str));
    s.tick();
    if !(200..300).contains(&outcome.status) {
        let message = serde_json::from_str::<ApiError>(&outcome.body)
            .map(|e| e.error.message)
            .unwrap_or(outcome.body);
        let st = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::BAD_REQUEST);
        return errors(f, st, outcome.status, &message);
    }
    let update_id = form.get("update_id").cloned().unwrap_or_default();
    write(
        f.unwrap_or(Fmt::Xml),
        "service_request_updates",
        "request_update",
        &[vec![("update_id", update_id)]],
    )
}

/// `a=1&b=x%20y` into pairs (the body of an update).
fn serde_urlencoded_pairs(body: &[u8]) -> Option<HashMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let url = reqwest::Url::parse(&format!("http://x/?{text}")).ok()?;
    Some(
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}
