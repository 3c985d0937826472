//! The incident queue's model: an index of the store's incidents (with their folded search text,
//! refreshed only for incidents whose version changed), filters, sorting, and due-time words.
//! UI-free, so the wall tile, the desk panel, the tests and the benchmark share it.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::search;
use crate::i18n::{Lang, tr_args};
use crate::model::{Incident, IncidentSource, IncidentStatus, Priority, Timestamp};

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
/// positions, so a keystroke filters without hashing), positions by id, and the search index of
/// their folded texts.
#[derive(Clone, Debug, Default)]
pub struct QueueIndex {
    rows: Vec<Row>,
    pos: HashMap<String, usize>,
    /// The store's `incidents_version` the index was brought up to.
    version: Option<u64>,
    /// Every row in each order, built when first asked and kept until a row changes.
    orders: HashMap<SortBy, Vec<u32>>,
    search: search::SearchIndex,
}

impl QueueIndex {
    /// An index of `incidents` from scratch (the whole pass: folding and indexing every text).
    pub fn build(incidents: &HashMap<String, Incident>, version: u64) -> QueueIndex {
        let mut idx = QueueIndex {
            version: Some(version),
            ..Default::default()
        };
        idx.rows.reserve(incidents.len());
        for (id, i) in incidents {
            idx.push(id, Row::new(i));
        }
        idx
    }

    fn push(&mut self, id: &str, row: Row) {
        let p = self.rows.len();
        self.search.push(p as u32, &row.folded);
        self.pos.insert(id.to_owned(), p);
        self.rows.push(row);
    }

    /// Brings the index up to date with `incidents` (only changed versions are refolded).
    pub fn sync(&mut self, incidents: &HashMap<String, Incident>, version: u64) {
        if self.version == Some(version) {
            return;
        }
        let stale = self.rows.len() != incidents.len()
            || self.rows.iter().any(|r| !incidents.contains_key(&r.id));
        if stale {
            // Something disappeared (a full reload): rebuild.
            *self = QueueIndex::build(incidents, version);
            return;
        }
        self.version = Some(version);
        let mut changed = false;
        for (id, i) in incidents {
            changed |= self.upsert(id, i);
        }
        if changed {
            self.orders.clear();
        }
    }

    fn upsert(&mut self, id: &str, i: &Incident) -> bool {
        match self.pos.get(id) {
            Some(&p) if self.rows[p].version == i.version => false,
            Some(&p) => {
                let row = Row::new(i);
                self.search
                    .replace(p as u32, &self.rows[p].folded, &row.folded);
                self.rows[p] = row;
                true
            }
            None => {
                self.push(id, Row::new(i));
                true
            }
        }
    }

    /// Whether bringing the index up to `store` means a whole pass (a full reload of the
    /// incidents, or a change log that no longer reaches back), rather than a few changes.
    pub fn needs_rebuild(&self, store: &crate::store::Store) -> bool {
        match self.version {
            Some(v) => v < store.incidents_reset || v < store.incident_log_evicted,
            None => true,
        }
    }

    /// The store's `incidents_version` the index is up to.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// Like [`Self::sync`], but visits only the incidents the store logged as changed since the
    /// last sync (a whole pass only after a full reload or when the log no longer reaches back);
    /// nothing at all when the incidents did not change (another dataset's update, the event
    /// stream's heartbeat).
    pub fn sync_store(&mut self, store: &crate::store::Store) {
        let Some(map) = store.incidents.data.as_ref() else {
            return;
        };
        let version = store.incidents_version();
        if self.version == Some(version) {
            return;
        }
        if self.needs_rebuild(store) {
            *self = QueueIndex::build(map, version);
            return;
        }
        let since = self.version.unwrap_or(0);
        let mut changed = false;
        for (_, id) in store
            .incident_log
            .iter()
            .rev()
            .take_while(|(lg, _)| *lg > since)
        {
            if let Some(i) = map.get(id) {
                changed |= self.upsert(id, i);
            }
        }
        if changed {
            self.orders.clear();
        }
        self.version = Some(version);
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

    fn order(&mut self, sort: SortBy) -> &[u32] {
        let rows = &self.rows;
        self.orders.entry(sort).or_insert_with(|| {
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
            order
        })
    }

    /// The rows that pass `filter`, ordered by `sort`. The search words are looked up in the
    /// index, not in every text, so a keystroke costs the same however long the texts are.
    pub fn select(&mut self, filter: &QueueFilter, sort: SortBy) -> Vec<&Row> {
        let q = search::fold(&filter.query);
        let candidates = self.search.candidates(&q, self.rows.len());
        self.order(sort);
        let rows = &self.rows;
        self.orders[&sort]
            .iter()
            .filter(|&&i| {
                let r = &rows[i as usize];
                (filter.categories.is_empty() || filter.categories.contains(&r.category))
                    && (filter.units.is_empty() || filter.units.contains(&r.unit_id))
                    && (filter.statuses.is_empty() || filter.statuses.contains(&r.status))
                    && (filter.sources.is_empty() || filter.sources.contains(&r.source))
                    && (filter.priorities.is_empty() || filter.priorities.contains(&r.priority))
                    && (!filter.open_only || !r.status.is_closed())
                    && candidates.as_ref().is_none_or(|c| {
                        c.rows.contains(i) && (!c.verify || search::matches(&r.folded, &q))
                    })
            })
            .map(|&i| &rows[i as usize])
            .collect()
    }
}

/// Due time in words: "còn 2 giờ 15 phút" / "quá hạn 3 giờ" (en: "2 h 15 min left" / "3 h overdue").
pub fn due_words(lang: Lang, due: Timestamp, now: Timestamp, closed: bool) -> String {
    if closed {
        return crate::i18n::tr(lang, "queue.closed").to_owned();
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
        // Typing on, deleting again: each query on its own.
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
