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
    if let Some(t) = fast_time(s.trim().as_bytes()) {
        return Some(t);
    }
    slow_time(s, offset)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM|±HHMM)`, the form nearly every server writes, read
/// without allocating (a poll reads three per request, a hundred thousand requests at a time).
fn fast_time(b: &[u8]) -> Option<Timestamp> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut n = 0u32;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + (c - b'0') as u32;
        }
        Some(n)
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        let digits = (i - start).min(9);
        if digits == 0 {
            return None;
        }
        nanos *= 10u32.pow(9 - digits as u32);
    }
    let offset_secs: i32 = match b.get(i..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (oh, om) = match rest {
                [a, b1, b':', c, d2] | [a, b1, c, d2] => {
                    let hh = std::str::from_utf8(&[*a, *b1]).ok()?.parse::<i32>().ok()?;
                    let mm = std::str::from_utf8(&[*c, *d2]).ok()?.parse::<i32>().ok()?;
                    (hh, mm)
                }
                _ => return None,
            };
            let v = oh * 3600 + om * 60;
            if *sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    let local = date.and_hms_nano_opt(h, mi, sec, nanos)?;
    let utc = local - chrono::Duration::seconds(offset_secs as i64);
    Some(Utc.from_utc_datetime(&utc))
}

fn slow_time(s: &str, offset: FixedOffset) -> Option<Timestamp> {
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
            groups: r.all_groups(),
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
    sla: &(dyn Fn(&str) -> Option<u32> + Sync),
    history: &mut HashMap<String, Vec<HistoryEntry>>,
) -> (Vec<Incident>, Vec<Problem>) {
    let mut mapper = Mapper::new(from, m, sla, history);
    for r in records {
        mapper.push(r);
    }
    mapper.finish()
}

/// A description's first line, cut at a word when longer than 80 characters.
fn headline(d: &str) -> Option<String> {
    let line = d.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.chars().count() <= 80 {
        return Some(line.to_owned());
    }
    let cut: String = line.chars().take(80).collect();
    let at = cut.rfind(' ').filter(|&i| i > 40).unwrap_or(cut.len());
    Some(format!("{}…", cut[..at].trim_end()))
}

/// Lower case, borrowed when it already is.
fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii() {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Maps requests one by one as they are read (see `parse::read_each`), the tables looked up in
/// lower case once.
pub struct Mapper<'a> {
    from: &'a From<'a>,
    m: &'a Open311Mapping,
    sla: &'a (dyn Fn(&str) -> Option<u32> + Sync),
    history: &'a mut HashMap<String, Vec<HistoryEntry>>,
    offset: FixedOffset,
    status: HashMap<String, IncidentStatus>,
    agencies: HashMap<String, String>,
    /// Remote ids seen (a request on two pages is one incident).
    seen: std::collections::HashSet<String>,
    /// Incidents in batches of [`BATCH`].
    out: Vec<Vec<Incident>>,
    problems: Vec<Problem>,
}

/// Incidents per batch (see `SourcePayload::Incidents`).
pub const BATCH: usize = 4096;

impl<'a> Mapper<'a> {
    pub fn new(
        from: &'a From<'a>,
        m: &'a Open311Mapping,
        sla: &'a (dyn Fn(&str) -> Option<u32> + Sync),
        history: &'a mut HashMap<String, Vec<HistoryEntry>>,
    ) -> Self {
        Mapper {
            from,
            m,
            sla,
            history,
            offset: m.offset(),
            status: m
                .status
                .iter()
                .map(|(k, v)| (k.trim().to_lowercase(), *v))
                .collect(),
            agencies: m
                .agencies
                .iter()
                .map(|(k, v)| (k.trim().to_lowercase(), v.clone()))
                .collect(),
            seen: std::collections::HashSet::new(),
            out: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn say(&mut self, place: &str, message: String) {
        if self.problems.len() < crate::sources::stats::MAX_PROBLEMS {
            self.problems.push(Problem {
                place: place.to_owned(),
                message,
            });
        }
    }

    /// Maps one request (or says why not).
    pub fn push(&mut self, r: Record) {
        let Record {
            service_request_id,
            token,
            status: raw_status,
            status_notes,
            service_name,
            service_code,
            description,
            agency_responsible,
            requested_datetime,
            updated_datetime,
            expected_datetime,
            address,
            lat,
            long,
            media_url,
            place,
            ..
        } = r;
        let Some(remote) = service_request_id.or(token) else {
            self.say(
                &place,
                "a request with neither service_request_id nor token: skipped".into(),
            );
            return;
        };
        if !self.seen.insert(remote.clone()) {
            return;
        }
        let status = match raw_status.as_deref() {
            Some(s) => {
                let l = lower(s.trim());
                match self
                    .status
                    .get(l.as_ref())
                    .copied()
                    .or_else(|| builtin_status(&l))
                {
                    Some(st) => st,
                    None => {
                        self.say(&place, format!("status \"{s}\" has no mapping: shown as received (add it to the source's status table)"));
                        IncidentStatus::Received
                    }
                }
            }
            None => IncidentStatus::Received,
        };
        let offset = self.offset;
        let requested = requested_datetime
            .as_deref()
            .and_then(|t| parse_time(t, offset));
        let updated = updated_datetime
            .as_deref()
            .and_then(|t| parse_time(t, offset));
        if requested.is_none()
            && let Some(t) = &requested_datetime
        {
            self.say(&place, format!("requested_datetime \"{t}\" cannot be read"));
        }
        let Some(received_at) = requested.or(updated) else {
            self.say(&place, "a request with no time it was made: skipped".into());
            return;
        };
        let updated_at = updated.unwrap_or(received_at).max(received_at);
        let source = self.from.source;
        let category = match &service_code {
            Some(c) => self
                .m
                .services
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("{source}:{c}")),
            None => format!("{source}:"),
        };
        let due_at = expected_datetime
            .as_deref()
            .and_then(|t| parse_time(t, offset))
            .unwrap_or_else(|| {
                let hours = (self.sla)(&category).unwrap_or(self.m.sla_hours);
                // A time at the end of the calendar (a server's garbage) has no time after it.
                received_at
                    .checked_add_signed(chrono::Duration::hours(hours as i64))
                    .unwrap_or(received_at)
            });
        let nowhere = GeoPoint {
            lat: f64::NAN,
            lon: f64::NAN,
        };
        let location = match (coord(lat.as_deref()), coord(long.as_deref())) {
            (Some(lat), Some(lon)) => {
                let p = GeoPoint { lat, lon };
                let swapped = GeoPoint { lat: lon, lon: lat };
                if p.is_valid() {
                    p
                } else if swapped.is_valid() {
                    self.say(&place, "lat and long swapped: put right".into());
                    swapped
                } else {
                    self.say(
                        &place,
                        format!("coordinates {lat}, {lon} are not on Earth: not on the map"),
                    );
                    nowhere
                }
            }
            _ => nowhere,
        };
        // Open311 has no title: the description's first line (cut at a word near 80
        // characters) says more in a queue than the service, which the category shows anyway.
        let title = description
            .as_deref()
            .and_then(headline)
            .or(service_name)
            .unwrap_or_else(|| remote.clone());
        let mut hist = self.history.remove(&remote).unwrap_or_default();
        hist.sort_by_key(|h| h.at);
        if hist.first().is_none_or(|h| h.at > received_at) {
            hist.insert(
                0,
                HistoryEntry {
                    at: received_at,
                    actor: self.from.name.to_owned(),
                    action: ActionKind::Receive,
                    status: IncidentStatus::Received,
                    unit_id: None,
                    note: status_notes,
                },
            );
        }
        let updated_at = hist.last().map_or(updated_at, |h| h.at.max(updated_at));
        let unit_id = agency_responsible
            .as_deref()
            .and_then(|a| self.agencies.get(lower(a.trim()).as_ref()).cloned())
            .unwrap_or_else(|| self.m.default_unit.clone());
        if self.out.last().is_none_or(|b| b.len() >= BATCH) {
            self.out.push(Vec::with_capacity(BATCH));
        }
        let batch = self.out.last_mut().expect("a batch was just made");
        batch.push(Incident {
            id: format!("{source}:{remote}"),
            source: IncidentSource::Citizen,
            category,
            priority: Priority::Normal,
            status,
            unit_id,
            location,
            address,
            title,
            description: description.unwrap_or_default(),
            media: media_url
                .into_iter()
                .map(|url| MediaLink {
                    kind: "image".into(),
                    url,
                })
                .collect(),
            received_at,
            due_at,
            updated_at,
            version: updated_at.timestamp_millis().max(0) as u64,
            assigned_unit_id: None,
            history: hist,
            origin: Some(Origin {
                source: source.to_owned(),
                raw_status,
                writable: self.from.writable,
            }),
        });
    }

    /// How many distinct requests were mapped or skipped as already seen.
    pub fn seen(&self) -> usize {
        self.seen.len()
    }

    /// The incidents in batches, and the problems.
    pub fn finish_batches(self) -> (Vec<Vec<Incident>>, Vec<Problem>) {
        (self.out, self.problems)
    }

    pub fn finish(self) -> (Vec<Incident>, Vec<Problem>) {
        (self.out.into_iter().flatten().collect(), self.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vn() -> FixedOffset {
        FixedOffset::east_opt(7 * 3600).unwrap()
    }

    #[test]
    fn a_title_is_the_descriptions_first_line_cut_at_a_word() {
        assert_eq!(
            headline("\n  Ổ gà lớn\nchi tiết").as_deref(),
            Some("Ổ gà lớn")
        );
        let long = "Người dân phản ánh ổ gà và nước đọng kéo dài trên tuyến đường số 4 gần chợ Vĩnh Long, đề nghị xử lý";
        let h = headline(long).unwrap();
        assert!(h.ends_with('…') && h.chars().count() <= 81, "{h}");
        assert!(
            long.starts_with(h.trim_end_matches('…')),
            "cut at a word: {h}"
        );
        assert_eq!(headline("  \n "), None);
    }

    #[test]
    fn a_time_at_the_end_of_the_calendar_is_no_panic() {
        let r = Record {
            service_request_id: Some("1".into()),
            status: Some("open".into()),
            requested_datetime: Some("+262142-12-31T20:00:00+0000".into()),
            place: "[0]".into(),
            ..Default::default()
        };
        let m = Open311Mapping {
            default_unit: "vl".into(),
            ..Default::default()
        };
        let from = From {
            source: "pa",
            name: "PA",
            writable: false,
        };
        let (inc, _) = incidents(vec![r], &from, &m, &|_| None, &mut HashMap::new());
        assert!(inc.len() <= 1);
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
