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

/// What the filters and orders read of a row, kept apart from the rows in one dense column:
/// filtering 100,000 rows in an order's sequence then touches 100,000 small entries instead of
/// 100,000 scattered rows.
#[derive(Clone, Copy, Debug)]
struct Meta {
    priority: Priority,
    status: IncidentStatus,
    source: IncidentSource,
    category: u32,
    unit: u32,
    /// Seconds since the epoch.
    due_at: i64,
}

impl Meta {
    fn is_overdue(&self, now_s: i64) -> bool {
        !self.status.is_closed() && now_s > self.due_at
    }
}

/// The queue's index over the store's incidents: rows in a vector (orders are lists of
/// positions, so a keystroke filters without hashing), positions by id, the filters' dense
/// column, and the search index of the rows' folded texts. Orders are kept up to date row by
/// row as incidents change, never sorted again whole after the first time.
#[derive(Clone, Debug, Default)]
pub struct QueueIndex {
    rows: Vec<Row>,
    meta: Vec<Meta>,
    pos: HashMap<String, usize>,
    /// Categories and units by number (the dense column holds the numbers).
    categories: HashMap<String, u32>,
    units: HashMap<String, u32>,
    /// The store's `incidents_version` the index was brought up to.
    version: Option<u64>,
    /// Every row in each order, sorted when first asked and then kept in order row by row.
    orders: HashMap<SortBy, Vec<u32>>,
    /// The rows passing a filter without its search, per (filter, order), until a row changes.
    bases: Vec<(QueueFilter, SortBy, Vec<u32>)>,
    search: search::SearchIndex,
}

/// Filters (without their search) whose rows are kept at once.
const BASES: usize = 4;

fn intern(map: &mut HashMap<String, u32>, key: &str) -> u32 {
    if let Some(&n) = map.get(key) {
        return n;
    }
    let n = map.len() as u32;
    map.insert(key.to_owned(), n);
    n
}

/// Row `a` before row `b` in `sort`.
fn before(sort: SortBy, a: &Row, b: &Row) -> std::cmp::Ordering {
    match sort {
        SortBy::Priority => a
            .status
            .is_closed()
            .cmp(&b.status.is_closed())
            .then(b.priority.cmp(&a.priority))
            .then(a.due_at.cmp(&b.due_at))
            .then(a.id.cmp(&b.id)),
        SortBy::Due => a
            .status
            .is_closed()
            .cmp(&b.status.is_closed())
            .then(a.due_at.cmp(&b.due_at))
            .then(a.id.cmp(&b.id)),
        SortBy::Arrival => b.received_at.cmp(&a.received_at).then(a.id.cmp(&b.id)),
    }
}

impl QueueIndex {
    /// An index of `incidents` from scratch (the whole pass: folding and indexing every text,
    /// and the default order).
    pub fn build(incidents: &HashMap<String, Incident>, version: u64) -> QueueIndex {
        let mut idx = QueueIndex {
            version: Some(version),
            ..Default::default()
        };
        idx.rows.reserve(incidents.len());
        idx.meta.reserve(incidents.len());
        for (id, i) in incidents {
            idx.push(id, Row::new(i));
        }
        idx.order(SortBy::default());
        idx
    }

    fn meta_of(&mut self, row: &Row) -> Meta {
        Meta {
            priority: row.priority,
            status: row.status,
            source: row.source,
            category: intern(&mut self.categories, &row.category),
            unit: intern(&mut self.units, &row.unit_id),
            due_at: row.due_at.timestamp(),
        }
    }

    fn push(&mut self, id: &str, row: Row) {
        self.bases.clear();
        let p = self.rows.len();
        self.search.push(p as u32, &row.folded);
        let meta = self.meta_of(&row);
        self.meta.push(meta);
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
        for (id, i) in incidents {
            self.upsert(id, i);
        }
    }

    /// Takes in one incident's new version: its row, its words, its place in every order.
    fn upsert(&mut self, id: &str, i: &Incident) -> bool {
        let p = match self.pos.get(id) {
            Some(&p) if self.rows[p].version == i.version => return false,
            Some(&p) => {
                self.bases.clear();
                let row = Row::new(i);
                self.search
                    .replace(p as u32, &self.rows[p].folded, &row.folded);
                self.meta[p] = self.meta_of(&row);
                self.rows[p] = row;
                for order in self.orders.values_mut() {
                    if let Some(at) = order.iter().position(|&x| x as usize == p) {
                        order.remove(at);
                    }
                }
                p
            }
            None => {
                self.push(id, Row::new(i));
                self.rows.len() - 1
            }
        };
        let rows = &self.rows;
        for (sort, order) in self.orders.iter_mut() {
            let at = order.partition_point(|&x| before(*sort, &rows[x as usize], &rows[p]).is_lt());
            order.insert(at, p as u32);
        }
        true
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
        let changed: std::collections::HashSet<&str> = store.incident_log.since(since).collect();
        for id in changed {
            if let Some(i) = map.get(id) {
                self.upsert(id, i);
            }
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

    /// The row at position `p` of a selection.
    pub fn row_at(&self, p: u32) -> Option<&Row> {
        self.rows.get(p as usize)
    }

    /// The position of incident `id` (what selections hold).
    pub fn position(&self, id: &str) -> Option<u32> {
        self.pos.get(id).map(|&p| p as u32)
    }

    /// How many of `positions` are overdue at `now` (read from the dense column).
    pub fn overdue(&self, positions: &[u32], now: Timestamp) -> usize {
        let now_s = now.timestamp();
        positions
            .iter()
            .filter(|&&p| {
                self.meta
                    .get(p as usize)
                    .is_some_and(|m| m.is_overdue(now_s))
            })
            .count()
    }

    fn order(&mut self, sort: SortBy) -> &[u32] {
        let rows = &self.rows;
        self.orders.entry(sort).or_insert_with(|| {
            let mut order: Vec<u32> = (0..rows.len() as u32).collect();
            order.sort_by(|a, b| before(sort, &rows[*a as usize], &rows[*b as usize]));
            order
        })
    }

    /// The positions of the rows that pass `filter`, ordered by `sort`. The rows that pass
    /// everything but the search are kept per filter until a row changes, so a keystroke only
    /// looks the query's words up in the index and keeps the rows that have them.
    pub fn select_positions(&mut self, filter: &QueueFilter, sort: SortBy) -> Vec<u32> {
        let q = search::fold(&filter.query);
        let candidates = self.search.candidates(&q, self.rows.len());
        let base = self.base(filter, sort);
        match candidates {
            None => base.to_vec(),
            Some(c) => base
                .iter()
                .copied()
                .filter(|&i| c.rows.contains(i))
                .collect(),
        }
    }

    /// The rows that pass `filter` except its search, in `sort` order (kept until a row changes).
    fn base(&mut self, filter: &QueueFilter, sort: SortBy) -> &[u32] {
        let key = QueueFilter {
            query: String::new(),
            ..filter.clone()
        };
        if let Some(at) = self
            .bases
            .iter()
            .position(|(f, s, _)| *s == sort && *f == key)
        {
            return &self.bases[at].2;
        }
        let ids_of = |names: &[String], map: &HashMap<String, u32>| -> Option<Vec<u32>> {
            (!names.is_empty()).then(|| names.iter().filter_map(|n| map.get(n).copied()).collect())
        };
        let categories = ids_of(&filter.categories, &self.categories);
        let units = ids_of(&filter.units, &self.units);
        self.order(sort);
        let meta = &self.meta;
        let rows: Vec<u32> = self.orders[&sort]
            .iter()
            .copied()
            .filter(|&i| {
                let m = &meta[i as usize];
                categories.as_ref().is_none_or(|c| c.contains(&m.category))
                    && units.as_ref().is_none_or(|u| u.contains(&m.unit))
                    && (filter.statuses.is_empty() || filter.statuses.contains(&m.status))
                    && (filter.sources.is_empty() || filter.sources.contains(&m.source))
                    && (filter.priorities.is_empty() || filter.priorities.contains(&m.priority))
                    && (!filter.open_only || !m.status.is_closed())
            })
            .collect();
        if self.bases.len() >= BASES {
            self.bases.remove(0);
        }
        self.bases.push((key, sort, rows));
        &self.bases[self.bases.len() - 1].2
    }

    /// The rows that pass `filter`, ordered by `sort`.
    pub fn select(&mut self, filter: &QueueFilter, sort: SortBy) -> Vec<&Row> {
        let positions = self.select_positions(filter, sort);
        positions
            .into_iter()
            .map(|p| &self.rows[p as usize])
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
            origin: None,
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
