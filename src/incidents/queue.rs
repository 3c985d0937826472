//! The incident queue's model: an index of the store's incidents (with their folded search text,
//! refreshed only for incidents whose version changed), filters, sorting, and due-time words.
//! UI-free, so the wall tile, the desk panel, the tests and the benchmark share it.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::search;
use crate::model::{Incident, IncidentSource, IncidentStatus, Priority, Timestamp};
use crate::ui::{Lang, tr_args};

/// How the queue is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Most urgent first (priority, then the nearest due time).
    #[default]
    Priority,
    /// Nearest due time first.
    Due,
    /// Newest first.
    Arrival,
}

/// What the queue shows. Empty lists mean "all".
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QueueFilter {
    pub categories: Vec<String>,
    pub units: Vec<String>,
    #[schemars(with = "Vec<String>")]
    pub statuses: Vec<IncidentStatus>,
    #[schemars(with = "Vec<String>")]
    pub sources: Vec<IncidentSource>,
    #[schemars(with = "Vec<String>")]
    pub priorities: Vec<Priority>,
    /// Hide resolved and rejected incidents.
    pub open_only: bool,
    /// Free text, matched with or without diacritics.
    pub query: String,
}

/// One incident as the queue needs it.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub version: u64,
    pub priority: Priority,
    pub status: IncidentStatus,
    pub source: IncidentSource,
    pub category: String,
    pub unit_id: String,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    folded: String,
}

impl Row {
    fn new(i: &Incident) -> Row {
        let text = format!(
            "{} {} {} {} {}",
            i.id,
            i.title,
            i.description,
            i.address.as_deref().unwrap_or(""),
            i.category
        );
        Row {
            id: i.id.clone(),
            version: i.version,
            priority: i.priority,
            status: i.status,
            source: i.source,
            category: i.category.clone(),
            unit_id: i.unit_id.clone(),
            received_at: i.received_at,
            due_at: i.due_at,
            folded: search::fold(&text),
        }
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        !self.status.is_closed() && now > self.due_at
    }
}

/// The queue's index over the store's incidents: rows in a vector (orders are lists of
/// positions, so a keystroke filters without hashing), positions by id.
#[derive(Clone, Debug, Default)]
pub struct QueueIndex {
    rows: Vec<Row>,
    pos: HashMap<String, usize>,
    generation: Option<u64>,
    /// Every row in each order, built when first asked and kept until a row changes.
    orders: HashMap<SortBy, Vec<u32>>,
    /// The last selection (filter with its folded query, order, positions): typing further in
    /// the search box only narrows it.
    last: Option<(QueueFilter, String, SortBy, Vec<u32>)>,
}

impl QueueIndex {
    /// Brings the index up to date with `incidents` (only changed versions are refolded).
    pub fn sync(&mut self, incidents: &HashMap<String, Incident>, generation: u64) {
        if self.generation == Some(generation) {
            return;
        }
        self.generation = Some(generation);
        let stale = self.rows.len() != incidents.len()
            || self.rows.iter().any(|r| !incidents.contains_key(&r.id));
        if stale {
            // Something disappeared (a full reload): rebuild, reusing the folded rows we have.
            let mut old: HashMap<String, Row> = std::mem::take(&mut self.rows)
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect();
            self.pos.clear();
            for (id, i) in incidents {
                let row = match old.remove(id) {
                    Some(r) if r.version == i.version => r,
                    _ => Row::new(i),
                };
                self.pos.insert(id.clone(), self.rows.len());
                self.rows.push(row);
            }
            self.orders.clear();
            self.last = None;
            return;
        }
        let mut changed = false;
        for (id, i) in incidents {
            changed |= self.upsert(id, i);
        }
        if changed {
            self.orders.clear();
            self.last = None;
        }
    }

    fn upsert(&mut self, id: &str, i: &Incident) -> bool {
        match self.pos.get(id) {
            Some(&p) if self.rows[p].version == i.version => false,
            Some(&p) => {
                self.rows[p] = Row::new(i);
                true
            }
            None => {
                self.pos.insert(id.to_owned(), self.rows.len());
                self.rows.push(Row::new(i));
                true
            }
        }
    }

    /// Like [`Self::sync`], but visits only the incidents the store logged as changed since the
    /// last sync (a whole pass only after a full reload or when the log no longer reaches back).
    pub fn sync_store(&mut self, store: &crate::store::Store) {
        let Some(map) = store.incidents.data.as_ref() else {
            return;
        };
        match self.generation {
            Some(g) if g == store.generation => {}
            Some(g) if g >= store.incidents_reset && g >= store.incident_log_evicted => {
                let mut changed = false;
                for (_, id) in store
                    .incident_log
                    .iter()
                    .rev()
                    .take_while(|(lg, _)| *lg > g)
                {
                    if let Some(i) = map.get(id) {
                        changed |= self.upsert(id, i);
                    }
                }
                if changed {
                    self.orders.clear();
                    self.last = None;
                }
                self.generation = Some(store.generation);
            }
            _ => self.sync(map, store.generation),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn row(&self, id: &str) -> Option<&Row> {
        self.pos.get(id).map(|&p| &self.rows[p])
    }

    /// The rows that pass `filter`, ordered by `sort`.
    pub fn select(&mut self, filter: &QueueFilter, sort: SortBy) -> Vec<&Row> {
        let q = search::fold(&filter.query);
        if !self.orders.contains_key(&sort) {
            let rows = &self.rows;
            let mut order: Vec<u32> = (0..rows.len() as u32).collect();
            let key = |i: &u32| &rows[*i as usize];
            match sort {
                SortBy::Priority => order.sort_by(|a, b| {
                    let (a, b) = (key(a), key(b));
                    a.status
                        .is_closed()
                        .cmp(&b.status.is_closed())
                        .then(b.priority.cmp(&a.priority))
                        .then(a.due_at.cmp(&b.due_at))
                        .then(a.id.cmp(&b.id))
                }),
                SortBy::Due => order.sort_by(|a, b| {
                    let (a, b) = (key(a), key(b));
                    a.status
                        .is_closed()
                        .cmp(&b.status.is_closed())
                        .then(a.due_at.cmp(&b.due_at))
                        .then(a.id.cmp(&b.id))
                }),
                SortBy::Arrival => order.sort_by(|a, b| {
                    let (a, b) = (key(a), key(b));
                    b.received_at.cmp(&a.received_at).then(a.id.cmp(&b.id))
                }),
            }
            self.orders.insert(sort, order);
        }
        // Typing further (the same filter, a query that extends the last one) only narrows the
        // last result; anything else filters the whole order.
        let narrowing = match &self.last {
            Some((f, lq, s, _)) => {
                *s == sort
                    && q.starts_with(lq.as_str())
                    && QueueFilter {
                        query: String::new(),
                        ..f.clone()
                    } == QueueFilter {
                        query: String::new(),
                        ..filter.clone()
                    }
            }
            None => false,
        };
        let candidates: Vec<u32> = match (&self.last, narrowing) {
            (Some((_, _, _, positions)), true) => positions.clone(),
            _ => self.orders[&sort].clone(),
        };
        let rows = &self.rows;
        let positions: Vec<u32> = candidates
            .into_iter()
            .filter(|&i| {
                let r = &rows[i as usize];
                (filter.categories.is_empty() || filter.categories.contains(&r.category))
                    && (filter.units.is_empty() || filter.units.contains(&r.unit_id))
                    && (filter.statuses.is_empty() || filter.statuses.contains(&r.status))
                    && (filter.sources.is_empty() || filter.sources.contains(&r.source))
                    && (filter.priorities.is_empty() || filter.priorities.contains(&r.priority))
                    && (!filter.open_only || !r.status.is_closed())
                    && (q.is_empty() || search::matches(&r.folded, &q))
            })
            .collect();
        self.last = Some((filter.clone(), q, sort, positions.clone()));
        let rows = &self.rows;
        positions.into_iter().map(|i| &rows[i as usize]).collect()
    }
}

/// Due time in words: "còn 2 giờ 15 phút" / "quá hạn 3 giờ" (en: "2 h 15 min left" / "3 h overdue").
pub fn due_words(lang: Lang, due: Timestamp, now: Timestamp, closed: bool) -> String {
    if closed {
        return crate::ui::tr(lang, "queue.closed").to_owned();
    }
    let left = due - now;
    let mins = left.num_minutes().abs();
    let span = if mins >= 48 * 60 {
        tr_args(
            lang,
            "queue.days",
            &[("d", &(mins / 1440)), ("h", &((mins % 1440) / 60))],
        )
    } else if mins >= 60 {
        tr_args(
            lang,
            "queue.hours",
            &[("h", &(mins / 60)), ("m", &(mins % 60))],
        )
    } else {
        tr_args(lang, "queue.minutes", &[("m", &mins)])
    };
    if left < chrono::Duration::zero() {
        tr_args(lang, "queue.overdue_by", &[("span", &span)])
    } else {
        tr_args(lang, "queue.left", &[("span", &span)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GeoPoint;
    use chrono::{Duration, TimeZone, Utc};

    fn incident(
        id: &str,
        title: &str,
        priority: Priority,
        status: IncidentStatus,
        due_h: i64,
    ) -> Incident {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        Incident {
            id: id.into(),
            source: IncidentSource::Citizen,
            category: "flooding".into(),
            priority,
            status,
            unit_id: "u".into(),
            location: GeoPoint {
                lat: 10.0,
                lon: 106.0,
            },
            address: None,
            title: title.into(),
            description: String::new(),
            media: vec![],
            received_at: now - Duration::hours(1),
            due_at: now + Duration::hours(due_h),
            updated_at: now,
            version: 1,
            assigned_unit_id: None,
            history: vec![],
        }
    }

    #[test]
    fn filters_sorts_and_searches_without_diacritics() {
        let map: HashMap<String, Incident> = [
            incident(
                "a",
                "Ngập nước đường Đồng Khởi",
                Priority::Normal,
                IncidentStatus::Received,
                5,
            ),
            incident(
                "b",
                "Rác thải tại chợ",
                Priority::Critical,
                IncidentStatus::Verified,
                10,
            ),
            incident(
                "c",
                "Ngập sâu ấp Phú Hòa",
                Priority::High,
                IncidentStatus::Resolved,
                -3,
            ),
        ]
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
        let mut idx = QueueIndex::default();
        idx.sync(&map, 1);
        let ids = |rows: Vec<&Row>| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(idx.select(&QueueFilter::default(), SortBy::Priority)),
            ["b", "a", "c"],
            "closed last, then priority"
        );
        assert_eq!(
            ids(idx.select(&QueueFilter::default(), SortBy::Due)),
            ["a", "b", "c"]
        );
        let f = QueueFilter {
            query: "ngap".into(),
            ..Default::default()
        };
        assert_eq!(ids(idx.select(&f, SortBy::Priority)), ["a", "c"]);
        let f = QueueFilter {
            query: "ngap".into(),
            open_only: true,
            ..Default::default()
        };
        assert_eq!(ids(idx.select(&f, SortBy::Priority)), ["a"]);
        let f = QueueFilter {
            priorities: vec![Priority::Critical, Priority::High],
            ..Default::default()
        };
        assert_eq!(ids(idx.select(&f, SortBy::Priority)), ["b", "c"]);
        // Typing on narrows the last result; deleting widens it again.
        for (q, want) in [
            ("nga", vec!["a", "c"]),
            ("ngap", vec!["a", "c"]),
            ("ngap nuoc", vec!["a"]),
            ("ngap", vec!["a", "c"]),
            ("", vec!["b", "a", "c"]),
        ] {
            let f = QueueFilter {
                query: q.into(),
                ..Default::default()
            };
            assert_eq!(ids(idx.select(&f, SortBy::Priority)), want, "{q}");
        }
    }

    #[test]
    fn due_time_in_words() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        assert_eq!(
            due_words(Lang::Vi, now + Duration::minutes(135), now, false),
            "còn 2 giờ 15 phút"
        );
        assert_eq!(
            due_words(Lang::Vi, now - Duration::minutes(180), now, false),
            "quá hạn 3 giờ 0 phút"
        );
        assert_eq!(
            due_words(Lang::En, now + Duration::minutes(20), now, false),
            "20 min left"
        );
        assert_eq!(
            due_words(Lang::En, now + Duration::days(3), now, false),
            "3 d 0 h left"
        );
    }
}
