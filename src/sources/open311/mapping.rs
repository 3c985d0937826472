//! Open311 records into the console's incidents and categories, through the technician's
//! tables: status codes (the spec's open/closed and the richer codes real servers send),
//! agencies to units, service codes to the IOC's categories. Ids stay strings ("{source}:{id}").
//! A status with no mapping is kept as received and said as a problem, never silently; a record
//! with neither id nor token (Chicago sends some) is skipped and said; coordinates missing or
//! empty leave the incident off the map (it stays in the queue); swapped coordinates are put
//! right when only the swap makes sense.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use super::parse::Record;
use crate::model::*;
use crate::sources::stats::Problem;

/// `[source.open311]`: how a server's words become the console's.
#[derive(Clone, Debug, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Mapping {
    /// Status codes (any case) → the console's status ("received", "verified", "forwarded",
    /// "in_progress", "resolved", "rejected"). Added to the built-in table of the spec's and
    /// FixMyStreet's codes.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub status: BTreeMap<String, IncidentStatus>,
    /// `agency_responsible` → unit id.
    #[serde(default)]
    pub agencies: BTreeMap<String, String>,
    /// `service_code` → one of the IOC's category ids (else the service becomes a category of
    /// its own, "{source}:{service_code}").
    #[serde(default)]
    pub services: BTreeMap<String, String>,
    /// Unit of requests whose agency is not in `agencies`.
    pub default_unit: String,
    /// Hours to handle a request when the server gives no `expected_datetime` (default 72).
    #[serde(default = "default_sla")]
    pub sla_hours: u32,
    /// Offset of times written without one (default "+07:00").
    #[serde(default = "default_offset")]
    pub utc_offset: String,
}

fn default_sla() -> u32 {
    72
}
fn default_offset() -> String {
    "+07:00".into()
}

impl Default for Open311Mapping {
    fn default() -> Self {
        Open311Mapping {
            status: BTreeMap::new(),
            agencies: BTreeMap::new(),
            services: BTreeMap::new(),
            default_unit: String::new(),
            sla_hours: default_sla(),
            utc_offset: default_offset(),
        }
    }
}

/// The built-in status table (lower case).
pub fn builtin_status(code: &str) -> Option<IncidentStatus> {
    use IncidentStatus::*;
    Some(match code {
        "open" | "new" | "submitted" | "unconfirmed" | "received" => Received,
        "confirmed" | "acknowledged" | "investigating" | "verified" => Verified,
        "internal_referral" | "forwarded" | "assigned" => Forwarded,
        "in_progress" | "action_scheduled" | "in progress" | "processing" => InProgress,
        "closed" | "fixed" | "resolved" | "completed" => Resolved,
        "duplicate"
        | "not_councils_responsibility"
        | "no_further_action"
        | "wont_fix"
        | "invalid"
        | "rejected"
        | "cancelled"
        | "canceled" => Rejected,
        _ => return None,
    })
}

impl Open311Mapping {
    pub fn status_of(&self, raw: &str) -> Option<IncidentStatus> {
        let lower = raw.trim().to_lowercase();
        self.status
            .iter()
            .find(|(k, _)| k.to_lowercase() == lower)
            .map(|(_, v)| *v)
            .or_else(|| builtin_status(&lower))
    }

    fn offset(&self) -> FixedOffset {
        parse_offset(&self.utc_offset)
            .unwrap_or_else(|| FixedOffset::east_opt(7 * 3600).expect("+7h is valid"))
    }

    fn unit_of(&self, agency: Option<&str>) -> String {
        agency
            .and_then(|a| {
                let a = a.trim().to_lowercase();
                self.agencies
                    .iter()
                    .find(|(k, _)| k.to_lowercase() == a)
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_else(|| self.default_unit.clone())
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s == "Z" {
        return FixedOffset::east_opt(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// A W3C date-time as servers write it: with "Z" or an offset with or without its colon
/// ("+07:00", "+0700"), with fractions, with stray spaces ("05: 52: 00"), or with no zone or
/// seconds ("2011-02-03 14:18", read at `offset`), or a date alone.
pub fn parse_time(s: &str, offset: FixedOffset) -> Option<Timestamp> {
    let s: String = {
        let t = s.trim();
        let mut out = String::with_capacity(t.len());
        let mut prev = ' ';
        for c in t.chars() {
            if c == ' ' && prev == ':' {
                continue;
            }
            out.push(c);
            prev = c;
        }
        out
    };
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(&s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&s, f) {
            return offset
                .from_local_datetime(&t)
                .single()
                .map(|t| t.with_timezone(&Utc));
        }
    }
    let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()?;
    offset
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn coord(s: Option<&str>) -> Option<f64> {
    s?.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// The categories a services list makes ("{source}:{code}"; mapped services are the IOC's own
/// categories and make none).
pub fn categories(
    records: &[Record],
    source: &str,
    m: &Open311Mapping,
) -> (Vec<Category>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for r in records {
        let Some(code) = &r.service_code else {
            problems.push(Problem {
                place: r.place.clone(),
                message: "a service without service_code: skipped".into(),
            });
            continue;
        };
        if m.services.contains_key(code) {
            continue;
        }
        let name = r.service_name.clone().unwrap_or_else(|| code.clone());
        out.push(Category {
            id: format!("{source}:{code}"),
            name_vi: name.clone(),
            name_en: name,
            sla_hours: m.sla_hours,
        });
    }
    (out, problems)
}

/// An update of a request's history (FixMyStreet's `servicerequestupdates`).
pub fn history_entry(
    r: &Record,
    actor: &str,
    m: &Open311Mapping,
) -> Option<(String, HistoryEntry)> {
    let id = r.service_request_id.clone()?;
    let at = parse_time(r.updated_datetime.as_deref()?, m.offset())?;
    let raw = r.status.as_deref().unwrap_or("");
    let status = m.status_of(raw).unwrap_or(IncidentStatus::InProgress);
    let action = match status {
        IncidentStatus::Resolved => ActionKind::Resolve,
        IncidentStatus::Rejected => ActionKind::Reject,
        IncidentStatus::InProgress => ActionKind::Start,
        IncidentStatus::Forwarded => ActionKind::Forward,
        IncidentStatus::Verified => ActionKind::Verify,
        IncidentStatus::Received => ActionKind::Note,
    };
    let note = [r.description.as_deref(), r.external_status_code.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    Some((
        id,
        HistoryEntry {
            at,
            actor: actor.to_owned(),
            action,
            status,
            unit_id: None,
            note: (!note.is_empty()).then_some(note),
        },
    ))
}

/// Where the incidents come from: the source's id and name, and whether actions go back.
pub struct From<'a> {
    pub source: &'a str,
    pub name: &'a str,
    pub writable: bool,
}

/// Requests into incidents. `sla` gives a category's hours; `history` the updates by request id.
pub fn incidents(
    records: Vec<Record>,
    from: &From<'_>,
    m: &Open311Mapping,
    sla: &dyn Fn(&str) -> Option<u32>,
    history: &mut HashMap<String, Vec<HistoryEntry>>,
) -> (Vec<Incident>, Vec<Problem>) {
    let offset = m.offset();
    let mut out = Vec::with_capacity(records.len());
    let mut problems = Vec::new();
    let mut say = |place: &str, message: String| {
        if problems.len() < crate::sources::stats::MAX_PROBLEMS {
            problems.push(Problem {
                place: place.to_owned(),
                message,
            });
        }
    };
    for r in records {
        let Some(remote) = r.service_request_id.clone().or_else(|| r.token.clone()) else {
            say(
                &r.place,
                "a request with neither service_request_id nor token: skipped".into(),
            );
            continue;
        };
        let raw_status = r.status.clone();
        let status = match raw_status.as_deref() {
            Some(s) => m.status_of(s).unwrap_or_else(|| {
                say(&r.place, format!("status \"{s}\" has no mapping: shown as received (add it to the source's status table)"));
                IncidentStatus::Received
            }),
            None => IncidentStatus::Received,
        };
        let requested = r
            .requested_datetime
            .as_deref()
            .and_then(|t| parse_time(t, offset));
        let updated = r
            .updated_datetime
            .as_deref()
            .and_then(|t| parse_time(t, offset));
        if requested.is_none()
            && let Some(t) = &r.requested_datetime
        {
            say(
                &r.place,
                format!("requested_datetime \"{t}\" cannot be read"),
            );
        }
        let Some(received_at) = requested.or(updated) else {
            say(
                &r.place,
                "a request with no time it was made: skipped".into(),
            );
            continue;
        };
        let updated_at = updated.unwrap_or(received_at).max(received_at);
        let category = match &r.service_code {
            Some(c) => m
                .services
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("{}:{c}", from.source)),
            None => format!("{}:", from.source),
        };
        let due_at = r
            .expected_datetime
            .as_deref()
            .and_then(|t| parse_time(t, offset))
            .unwrap_or_else(|| {
                let hours = sla(&category).unwrap_or(m.sla_hours);
                received_at + chrono::Duration::hours(hours as i64)
            });
        let (lat, lon) = (coord(r.lat.as_deref()), coord(r.long.as_deref()));
        let location = match (lat, lon) {
            (Some(lat), Some(lon)) => {
                let p = GeoPoint { lat, lon };
                let swapped = GeoPoint { lat: lon, lon: lat };
                if p.is_valid() {
                    p
                } else if swapped.is_valid() {
                    say(&r.place, "lat and long swapped: put right".into());
                    swapped
                } else {
                    say(
                        &r.place,
                        format!("coordinates {lat}, {lon} are not on Earth: not on the map"),
                    );
                    GeoPoint {
                        lat: f64::NAN,
                        lon: f64::NAN,
                    }
                }
            }
            _ => GeoPoint {
                lat: f64::NAN,
                lon: f64::NAN,
            },
        };
        let title = r
            .service_name
            .clone()
            .or_else(|| r.description.as_ref().map(|d| d.chars().take(80).collect()))
            .unwrap_or_else(|| remote.clone());
        let mut hist = history.remove(&remote).unwrap_or_default();
        hist.sort_by_key(|h| h.at);
        if hist.first().is_none_or(|h| h.at > received_at) {
            hist.insert(
                0,
                HistoryEntry {
                    at: received_at,
                    actor: from.name.to_owned(),
                    action: ActionKind::Receive,
                    status: IncidentStatus::Received,
                    unit_id: None,
                    note: r.status_notes.clone(),
                },
            );
        }
        let updated_at = hist.last().map_or(updated_at, |h| h.at.max(updated_at));
        out.push(Incident {
            id: format!("{}:{remote}", from.source),
            source: IncidentSource::Citizen,
            category,
            priority: Priority::Normal,
            status,
            unit_id: m.unit_of(r.agency_responsible.as_deref()),
            location,
            address: r.address.clone(),
            title,
            description: r.description.clone().unwrap_or_default(),
            media: r
                .media_url
                .iter()
                .map(|u| MediaLink {
                    kind: "image".into(),
                    url: u.clone(),
                })
                .collect(),
            received_at,
            due_at,
            updated_at,
            version: updated_at.timestamp_millis().max(0) as u64,
            assigned_unit_id: None,
            history: hist,
            origin: Some(Origin {
                source: from.source.to_owned(),
                name: from.name.to_owned(),
                remote_id: remote,
                raw_status,
                writable: from.writable,
            }),
        });
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vn() -> FixedOffset {
        FixedOffset::east_opt(7 * 3600).unwrap()
    }

    #[test]
    fn times_as_servers_write_them() {
        let want = Utc.with_ymd_and_hms(2024, 1, 12, 5, 52, 0).unwrap();
        for s in [
            "2024-01-12T05:52:00Z",
            "2024-01-12T05: 52: 00Z",
            "2024-01-12T12:52:00+07:00",
            "2024-01-12T12:52:00.000+0700",
            "2024-01-12T12:52:00",
            "2024-01-12 12:52",
            "2024-01-11T21:52:00-08:00",
        ] {
            assert_eq!(parse_time(s, vn()), Some(want), "{s}");
        }
        assert_eq!(parse_time("", vn()), None);
        assert_eq!(parse_time("yesterday", vn()), None);
    }

    #[test]
    fn requests_into_incidents() {
        let rec = |id: Option<&str>, status: &str, lat: &str, long: &str| Record {
            service_request_id: id.map(str::to_owned),
            status: Some(status.into()),
            service_code: Some("001".into()),
            service_name: Some("Ổ gà".into()),
            agency_responsible: Some("Sở Giao thông Vận tải".into()),
            requested_datetime: Some("2024-01-12T12:52:00+07:00".into()),
            lat: (!lat.is_empty()).then(|| lat.into()),
            long: (!long.is_empty()).then(|| long.into()),
            place: "[0]".into(),
            ..Default::default()
        };
        let mut m = Open311Mapping {
            default_unit: "vl".into(),
            ..Default::default()
        };
        m.agencies
            .insert("sở giao thông vận tải".into(), "so-gtvt".into());
        m.status
            .insert("CHO_XU_LY".into(), IncidentStatus::Verified);
        let from = From {
            source: "pa",
            name: "Phản ánh",
            writable: false,
        };
        let (inc, problems) = incidents(
            vec![
                rec(Some("0042"), "open", "10.25", "105.97"),
                rec(Some("43"), "IN_PROGRESS", "105.97", "10.25"),
                rec(Some("44"), "cho_xu_ly", "", ""),
                rec(None, "open", "", ""),
                rec(Some("45"), "MYSTERY", "10", "106"),
            ],
            &from,
            &m,
            &|_| Some(48),
            &mut HashMap::new(),
        );
        assert_eq!(inc.len(), 4);
        assert_eq!(inc[0].id, "pa:0042");
        assert_eq!(inc[0].unit_id, "so-gtvt");
        assert_eq!(inc[0].category, "pa:001");
        assert_eq!(
            inc[0].due_at - inc[0].received_at,
            chrono::Duration::hours(48)
        );
        assert_eq!(inc[1].status, IncidentStatus::InProgress);
        assert_eq!(
            inc[1].location,
            GeoPoint {
                lat: 10.25,
                lon: 105.97
            }
        );
        assert_eq!(inc[2].status, IncidentStatus::Verified);
        assert!(
            !inc[2].location.is_valid(),
            "no coordinates: not on the map"
        );
        assert_eq!(inc[3].status, IncidentStatus::Received);
        assert_eq!(
            inc[3].origin.as_ref().unwrap().raw_status.as_deref(),
            Some("MYSTERY")
        );
        let said: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(said.iter().any(|p| p.contains("swapped")), "{said:?}");
        assert!(said.iter().any(|p| p.contains("neither")), "{said:?}");
        assert!(said.iter().any(|p| p.contains("MYSTERY")), "{said:?}");
    }
}
