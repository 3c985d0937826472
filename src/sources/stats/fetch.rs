//! One poll of a statistics source: a file read (SDMX files published as static XML are the
//! usual case in Viet Nam), a GET (SDMX endpoint, JSON-stat), or a PX-Web table: its metadata
//! read (the time variable and the labels), the query's cells counted against the server's limit
//! (v2 servers say theirs in `/config`), the query POSTed, an HTTP 429 answered with backoff.

use chrono::Utc;
use serde_json::Value;

use super::mapping;
use crate::sources::client::FetchError;
use crate::sources::external::{Failure, Polled, Running, SourceKind, status_error, too_many};
use crate::sources::messages::SourcePayload;
use crate::sources::parse::ParseError;

fn unusable(place: String, message: String) -> FetchError {
    FetchError::Parse(ParseError {
        resource: "statistics",
        path: place,
        message,
    })
}

async fn answer(src: &Running, req: reqwest::RequestBuilder) -> Result<Vec<u8>, Failure> {
    let a = src.client.fetch(req).await?;
    if a.status == 429 {
        return Err(too_many(&a.headers));
    }
    if !(200..300).contains(&a.status) {
        return Err(status_error(a.status, &a.body).into());
    }
    Ok(a.body.into_vec())
}

/// Reads a file within the body limit, off the async workers.
async fn read_file(src: &Running) -> Result<Vec<u8>, Failure> {
    let path = src.cfg.file_path();
    let limit = (src.cfg.body_limit_mb.unwrap_or(32) as usize).saturating_mul(1024 * 1024);
    tokio::task::spawn_blocking(move || {
        let meta = std::fs::metadata(&path)
            .map_err(|e| FetchError::Unreachable(format!("{}: {e}", path.display())))?;
        if meta.len() > limit as u64 {
            return Err(FetchError::TooLarge { limit });
        }
        std::fs::read(&path)
            .map_err(|e| FetchError::Unreachable(format!("{}: {e}", path.display())))
    })
    .await
    .map_err(|e| FetchError::Unreachable(e.to_string()))?
    .map_err(Failure::from)
}

/// What a PX-Web table's metadata says: its title, the time variable, and each variable's
/// values (to count a query's cells).
#[derive(Debug, Default)]
pub struct TableMeta {
    pub title: Option<String>,
    pub time: Option<String>,
    pub values: Vec<(String, usize)>,
}

/// Reads PX-Web API v1 table metadata (`{title, variables[{code, values, time}]}`).
pub fn table_meta(bytes: &[u8]) -> Option<TableMeta> {
    let text = super::text(bytes).ok()?;
    let v: Value = serde_json::from_str(text).ok()?;
    let vars = v.get("variables")?.as_array()?;
    Some(TableMeta {
        title: v.get("title").and_then(Value::as_str).map(str::to_owned),
        time: vars
            .iter()
            .find(|x| x.get("time").and_then(Value::as_bool) == Some(true))
            .and_then(|x| x.get("code")?.as_str().map(str::to_owned)),
        values: vars
            .iter()
            .filter_map(|x| {
                Some((
                    x.get("code")?.as_str()?.to_owned(),
                    x.get("values")?.as_array()?.len(),
                ))
            })
            .collect(),
    })
}

/// How many cells a v1 query asks for: per variable, its items (`item`), all values (`all`,
/// `*`), N (`top`), or one for an aggregation or an eliminated variable.
pub fn cells(query: &Value, meta: &TableMeta) -> u64 {
    let q = query.get("query").and_then(Value::as_array);
    meta.values
        .iter()
        .map(|(code, n)| {
            let sel = q.and_then(|q| {
                q.iter()
                    .find(|x| x.get("code").and_then(Value::as_str) == Some(code))
            });
            let Some(sel) = sel.and_then(|s| s.get("selection")) else {
                return 1; // eliminated
            };
            let filter = sel.get("filter").and_then(Value::as_str).unwrap_or("item");
            let values = sel.get("values").and_then(Value::as_array);
            let count = values.map_or(0, Vec::len) as u64;
            match filter {
                "all" => *n as u64,
                "top" => values
                    .and_then(|v| v.first())
                    .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()))
                    .unwrap_or(1)
                    .min(*n as u64),
                f if f.starts_with("agg") || f.starts_with("vs") => count.max(1),
                _ if values.is_some_and(|v| v.iter().any(|x| x.as_str() == Some("*"))) => *n as u64,
                _ => count.max(1),
            }
        })
        .product()
}

/// How many cells a PxWebApi 2 query asks for, when it lists its values (not with wildcards).
pub fn cells_v2(query: &Value) -> Option<u64> {
    let sel = query.get("selection")?.as_array()?;
    sel.iter()
        .map(|s| {
            let codes = s.get("valueCodes")?.as_array()?;
            if codes.iter().any(|c| {
                c.as_str()
                    .is_some_and(|c| c.contains('*') || c.contains('('))
            }) {
                return None;
            }
            Some(codes.len().max(1) as u64)
        })
        .product()
}

/// One poll.
pub(in crate::sources) async fn poll(src: &Running) -> Result<Polled, Failure> {
    let Some(mapping_cfg) = src.cfg.stats.clone() else {
        return Err(unusable("stats".into(), "no mapping".into()).into());
    };
    let mut opts = mapping_cfg.read_options();
    let format = src
        .cfg
        .kind
        .stats_format()
        .unwrap_or(super::StatsFormat::Jsonstat);
    let mut problems = Vec::new();
    let mut title = None;
    let bytes = if src.cfg.kind == SourceKind::Pxweb {
        let http = src.client.http();
        let query = src.cfg.query.clone().unwrap_or(Value::Null);
        let v2 = src.cfg.pxweb_version == Some(2);
        let mut limit = src.cfg.max_cells.unwrap_or(100_000);
        if v2 {
            // PxWebApi 2: .../tables/{id}/data; the server's limits are in .../config.
            let (base, _) = src
                .cfg
                .url
                .split_once("/tables/")
                .unwrap_or((&src.cfg.url, ""));
            if let Ok(b) = answer(src, http.get(format!("{base}/config"))).await
                && let Some(n) = serde_json::from_slice::<Value>(&b)
                    .ok()
                    .and_then(|c| c.get("maxDataCells")?.as_u64())
            {
                limit = limit.min(n);
            }
            if let Some(n) = cells_v2(&query).filter(|&n| n > limit) {
                return Err(unusable(
                    "query".into(),
                    format!("the query asks for {n} cells; the server takes at most {limit} per query (narrow the selection)"),
                )
                .into());
            }
            let url = if src.cfg.url.contains("outputFormat=") {
                src.cfg.url.clone()
            } else {
                let sep = if src.cfg.url.contains('?') { '&' } else { '?' };
                format!("{}{sep}outputFormat=json-stat2", src.cfg.url)
            };
            answer(src, http.post(url).json(&query)).await?
        } else {
            // API v1: the table's metadata first (labels, the time variable, the cell count).
            let meta_bytes = answer(src, http.get(&src.cfg.url)).await?;
            match table_meta(&meta_bytes) {
                Some(meta) => {
                    let n = cells(&query, &meta);
                    if n > limit {
                        return Err(unusable(
                            "query".into(),
                            format!("the query asks for {n} cells; the server takes at most {limit} per query (narrow the selection)"),
                        )
                        .into());
                    }
                    if opts.time_dimension.is_none() {
                        opts.time_dimension = meta.time.clone();
                    }
                    title = meta.title;
                }
                None => problems.push("the table's metadata could not be read: labels and the time variable come from the answer".to_owned()),
            }
            answer(src, http.post(&src.cfg.url).json(&query)).await?
        }
    } else if src.cfg.is_file() {
        read_file(src).await?
    } else {
        answer(src, src.client.http().get(&src.cfg.url)).await?
    };
    let source = src.cfg.id.clone();
    let now = Utc::now();
    let mapped = tokio::task::spawn_blocking(move || {
        let mut cube = format
            .read(&bytes, &opts)
            .map_err(|e| unusable(e.place, e.message))?;
        if cube.title.is_none() {
            cube.title = title;
        }
        let problems: Vec<String> = cube.problems.iter().map(ToString::to_string).collect();
        let m = mapping::map(&cube, &mapping_cfg, &source, now);
        Ok::<_, FetchError>((m, problems))
    })
    .await
    .map_err(|e| FetchError::Unreachable(e.to_string()))??;
    let (m, read_problems) = mapped;
    problems.extend(read_problems);
    problems.extend(m.problems.iter().map(ToString::to_string));
    if m.series.is_empty() {
        return Err(unusable(
            "stats".into(),
            format!(
                "no series could be mapped: {}",
                problems
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "the data is empty".into())
            ),
        )
        .into());
    }
    Ok(Polled {
        payload: SourcePayload::Stats {
            indicators: m.indicators,
            series: m.series,
        },
        problems,
        as_of: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_counts_its_cells() {
        let meta = TableMeta {
            title: None,
            time: Some("Năm".into()),
            values: vec![
                ("Địa phương".into(), 70),
                ("Năm".into(), 10),
                ("Giới tính".into(), 3),
            ],
        };
        let q: Value = serde_json::json!({"query":[
            {"code":"Địa phương","selection":{"filter":"item","values":["1","2"]}},
            {"code":"Năm","selection":{"filter":"all","values":["*"]}}]});
        assert_eq!(cells(&q, &meta), 2 * 10);
        let q: Value = serde_json::json!({"query":[
            {"code":"Địa phương","selection":{"filter":"all","values":["*"]}},
            {"code":"Năm","selection":{"filter":"top","values":["3"]}},
            {"code":"Giới tính","selection":{"filter":"item","values":["0","1","2"]}}]});
        assert_eq!(cells(&q, &meta), 70 * 3 * 3);
    }
}
