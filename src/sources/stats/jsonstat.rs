//! JSON-stat: 2.0 datasets (and collections that embed them), 1.x bundles and PX-Web's
//! `{"dataset": …}`. `index` as an array, an object or absent; `value` and `status` as arrays,
//! sparse objects or (status) one string for all; `size` as numbers or strings; values `null` or
//! a status symbol (`..`, `-`) are missing, never zero. The time dimension is the one named in
//! the options, else `role.time`, else one whose codes or labels all read as periods (Viet Nam's
//! PX-Web numbers its years "0", "1"… and labels them "2019", "Prel. 2024").

use std::collections::HashMap;

use serde_json::Value;

use super::number::{self, Cell};
use super::{Cube, ReadOptions, Unusable};
use crate::model::{ObsStatus, PeriodKey};

struct Dim {
    id: String,
    label: Option<String>,
    /// Codes in position order, with their labels.
    codes: Vec<String>,
    labels: Vec<Option<String>>,
    units: Vec<Option<String>>,
}

fn as_usize(v: &Value) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn dims_of(ds: &Value) -> Result<Vec<Dim>, Unusable> {
    let dimension = ds
        .get("dimension")
        .and_then(Value::as_object)
        .ok_or_else(|| Unusable::new("dimension", "no \"dimension\" object"))?;
    let ids: Vec<String> = ds
        .get("id")
        .or_else(|| dimension.get("id"))
        .and_then(Value::as_array)
        .ok_or_else(|| Unusable::new("id", "no \"id\" list of dimensions"))?
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    let sizes: Vec<usize> = ds
        .get("size")
        .or_else(|| dimension.get("size"))
        .and_then(Value::as_array)
        .ok_or_else(|| Unusable::new("size", "no \"size\" list"))?
        .iter()
        .map(|v| as_usize(v).ok_or_else(|| Unusable::new("size", format!("{v} is not a size"))))
        .collect::<Result<_, _>>()?;
    if ids.len() != sizes.len() {
        return Err(Unusable::new(
            "size",
            format!("{} sizes for {} dimensions", sizes.len(), ids.len()),
        ));
    }
    // The sizes are the server's word: a table bigger than any a statistics office publishes
    // is refused before anything is made for it.
    let cells = sizes
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .filter(|&c| c <= MAX_CELLS);
    if cells.is_none() {
        return Err(Unusable::new(
            "size",
            format!("sizes {sizes:?} make more than {MAX_CELLS} cells"),
        ));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (id, &size) in ids.iter().zip(&sizes) {
        let d = dimension.get(id).ok_or_else(|| {
            Unusable::new(format!("dimension.{id}"), "declared in \"id\" but absent")
        })?;
        let cat = d.get("category");
        let label_map = cat.and_then(|c| c.get("label")).and_then(Value::as_object);
        let mut codes: Vec<Option<String>> = vec![None; size];
        match cat.and_then(|c| c.get("index")) {
            Some(Value::Array(a)) => {
                for (i, c) in a.iter().enumerate().take(size) {
                    codes[i] = c.as_str().map(str::to_owned);
                }
            }
            Some(Value::Object(o)) => {
                for (code, pos) in o {
                    if let Some(p) = as_usize(pos).filter(|&p| p < size) {
                        codes[p] = Some(code.clone());
                    }
                }
            }
            _ => {
                // No index: a single category, named by its label's key.
                if let Some(l) = label_map {
                    for (i, k) in l.keys().enumerate().take(size) {
                        codes[i] = Some(k.clone());
                    }
                }
            }
        }
        let codes: Vec<String> = codes
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.unwrap_or_else(|| i.to_string()))
            .collect();
        let labels = codes
            .iter()
            .map(|c| {
                label_map
                    .and_then(|l| l.get(c))
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_owned())
            })
            .collect();
        let unit_map = cat.and_then(|c| c.get("unit")).and_then(Value::as_object);
        let units = codes
            .iter()
            .map(|c| {
                let u = unit_map?.get(c)?;
                u.get("label")
                    .or_else(|| u.get("symbol"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        out.push(Dim {
            id: id.clone(),
            label: d.get("label").and_then(Value::as_str).map(str::to_owned),
            codes,
            labels,
            units,
        });
    }
    Ok(out)
}

/// The most cells a table may have (PX-Web servers give at most about 100,000 a query; a
/// published JSON-stat file some millions).
const MAX_CELLS: usize = 20_000_000;

const TIME_NAMES: &[&str] = &[
    "time",
    "tid",
    "year",
    "years",
    "năm",
    "thời gian",
    "period",
    "time_period",
    "kỳ",
    "quarter",
    "month",
    "vuosi",
    "ár",
    "år",
];

fn time_dim(ds: &Value, dims: &[Dim], opts: &ReadOptions) -> Option<usize> {
    if let Some(t) = &opts.time_dimension {
        return dims.iter().position(|d| &d.id == t);
    }
    let role = ds
        .get("role")
        .or_else(|| ds.get("dimension").and_then(|d| d.get("role")));
    if let Some(t) = role
        .and_then(|r| r.get("time"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    {
        return dims.iter().position(|d| d.id == t);
    }
    dims.iter()
        .position(|d| TIME_NAMES.contains(&d.id.to_lowercase().as_str()))
        .or_else(|| {
            dims.iter().position(|d| {
                d.codes.len() > 1 && (0..d.codes.len()).all(|i| period_of(d, i).is_some())
            })
        })
}

fn period_of(d: &Dim, i: usize) -> Option<PeriodKey> {
    super::period::parse(&d.codes[i])
        .filter(|_| d.codes[i].len() >= 4)
        .or_else(|| d.labels[i].as_deref().and_then(super::period::parse))
}

/// Finds the dataset in a JSON-stat document.
fn dataset(doc: &Value) -> Result<(&Value, usize), Unusable> {
    if !doc.is_object() {
        return Err(Unusable::new("(body)", "not a JSON object"));
    }
    match doc.get("class").and_then(Value::as_str) {
        Some("dataset") => return Ok((doc, 1)),
        Some("collection") => {
            let items: Vec<&Value> = doc
                .pointer("/link/item")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter(|i| i.get("dimension").is_some()).collect())
                .unwrap_or_default();
            return match items.first() {
                Some(d) => Ok((d, items.len())),
                None => Err(Unusable::new(
                    "link.item",
                    "a collection that embeds no dataset (its items are links only)",
                )),
            };
        }
        Some("dimension") => {
            return Err(Unusable::new("class", "a dimension, not a dataset"));
        }
        _ => {}
    }
    if doc.get("dimension").is_some() && doc.get("value").is_some() {
        return Ok((doc, 1));
    }
    // 1.x bundle (PX-Web's is {"dataset": …}).
    let sets: Vec<&Value> = doc
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .filter(|v| v.get("dimension").is_some())
        .collect();
    match sets.first() {
        Some(d) => Ok((d, sets.len())),
        None => Err(Unusable::new(
            "(body)",
            "no dataset: neither class \"dataset\" nor a 1.x bundle",
        )),
    }
}

/// Reads a JSON-stat document.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Cube, Unusable> {
    let text = super::text(bytes)?;
    super::refuse_html(text)?;
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let m = e.to_string();
        let m = m
            .rfind(" at line ")
            .map_or(m.clone(), |i| m[..i].to_owned());
        Unusable::new(format!("line {}, column {}", e.line(), e.column()), m)
    })?;
    if let Some(err) = doc.get("error") {
        return Err(Unusable::new(
            "error",
            format!("the server answered with an error: {err}"),
        ));
    }
    let (ds, count) = dataset(&doc)?;
    let dims = dims_of(ds)?;
    let Some(t) = time_dim(ds, &dims, opts) else {
        return Err(Unusable::new(
            "dimension",
            "no time dimension (role.time, or one whose categories are periods)",
        ));
    };
    let mut cube = Cube {
        title: ds.get("label").and_then(Value::as_str).map(str::to_owned),
        dims: dims
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != t)
            .map(|(_, d)| d.id.clone())
            .collect(),
        ..Default::default()
    };
    if count > 1 {
        cube.problem("(body)", format!("{count} datasets: the first one is read"));
    }
    for (i, d) in dims.iter().enumerate() {
        if i == t {
            continue;
        }
        if let Some(l) = &d.label {
            cube.dim_names.insert(d.id.clone(), l.clone());
        }
        for (c, l) in d.codes.iter().zip(&d.labels) {
            if let Some(l) = l {
                cube.code_names.insert((d.id.clone(), c.clone()), l.clone());
            }
        }
    }
    let periods: Vec<Option<PeriodKey>> = (0..dims[t].codes.len())
        .map(|i| period_of(&dims[t], i))
        .collect();
    for (i, p) in periods.iter().enumerate() {
        if p.is_none() {
            cube.problem(
                format!("dimension.{}.category[{i}]", dims[t].id),
                format!(
                    "period \"{}\" cannot be read",
                    dims[t].labels[i].as_deref().unwrap_or(&dims[t].codes[i])
                ),
            );
        }
    }
    let total: usize = dims.iter().map(|d| d.codes.len()).product();
    let values = ds.get("value");
    let value_at = |i: usize| -> Option<&Value> {
        match values? {
            Value::Array(a) => a.get(i),
            Value::Object(o) => o.get(&i.to_string()),
            _ => None,
        }
    };
    let len = match values {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(_)) => total,
        _ => return Err(Unusable::new("value", "no \"value\" array or object")),
    };
    if let Some(Value::Array(a)) = values
        && a.len() != total
    {
        cube.problem(
            "value",
            format!("{} values where the sizes make {total}", a.len()),
        );
    }
    let status = ds.get("status");
    let status_at = |i: usize| -> Option<&str> {
        match status? {
            Value::String(s) => Some(s),
            Value::Array(a) if a.len() == 1 => a[0].as_str(),
            Value::Array(a) => a.get(i)?.as_str(),
            Value::Object(o) => o.get(&i.to_string())?.as_str(),
            _ => None,
        }
    };
    let mut index: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut pos = vec![0usize; dims.len()];
    let mut codes: Vec<&str> = Vec::with_capacity(dims.len());
    // The cells there are: every one of a dense array (as many as it has), the keys of a
    // sparse object (with the status object's), never every cell of the sizes.
    let cells: Vec<usize> = match values {
        Some(Value::Object(o)) => {
            let mut keys: Vec<usize> = o
                .keys()
                .chain(
                    status
                        .and_then(Value::as_object)
                        .into_iter()
                        .flat_map(|s| s.keys()),
                )
                .filter_map(|k| k.parse::<usize>().ok())
                .filter(|&k| k < total)
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        }
        _ => (0..total.min(len)).collect(),
    };
    for flat in cells {
        // Row-major: the last dimension varies fastest.
        let mut rest = flat;
        for (k, d) in dims.iter().enumerate().rev() {
            let n = d.codes.len().max(1);
            pos[k] = rest % n;
            rest /= n;
        }
        let Some(period) = periods[pos[t]] else {
            continue;
        };
        let st = status_at(flat);
        let value = match value_at(flat) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => match number::parse(s, opts.decimal) {
                Cell::Value(v) => Some(v),
                Cell::Missing => None,
                Cell::Bad => {
                    cube.problem(format!("value[{flat}]"), format!("\"{s}\" is not a number"));
                    None
                }
            },
            Some(other) => {
                cube.problem(format!("value[{flat}]"), format!("{other} is not a number"));
                None
            }
        };
        if value.is_none() && values.is_some_and(Value::is_object) && st.is_none() {
            continue; // sparse: absent cells are not observations
        }
        codes.clear();
        for (k, d) in dims.iter().enumerate() {
            if k != t {
                codes.push(&d.codes[pos[k]]);
            }
        }
        let s = cube.series_id(&codes, &mut index);
        if cube.series[s as usize].unit.is_none() {
            cube.series[s as usize].unit = dims
                .iter()
                .enumerate()
                .find_map(|(k, d)| d.units.get(pos[k]).cloned().flatten());
        }
        cube.obs.push(super::Obs {
            series: s,
            period,
            value,
            status: st.and_then(ObsStatus::new),
        });
    }
    Ok(cube)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_2_with_status_symbols() {
        let doc = r#"{"class":"dataset","label":"Dân số","id":["Địa phương","Năm"],"size":["2",3],
          "dimension":{"Địa phương":{"label":"Địa phương","category":{"index":{"01":0,"79":1},"label":{"01":"Hà Nội","79":"TP. Hồ Chí Minh"}}},
            "Năm":{"category":{"index":["0","1","2"],"label":{"0":"2022","1":"2023","2":"Prel. 2024"}}}},
          "value":[8.4,8.5,null,9.3,"9,4",9.5],"status":{"2":"..","5":"p"},"version":"2.0"}"#;
        let mut bytes = doc.as_bytes().to_vec();
        bytes.push(0); // Viet Nam's exports end in a NUL byte
        let c = read(&bytes, &ReadOptions::default()).unwrap();
        assert_eq!(c.dims, ["Địa phương"]);
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.obs.len(), 6);
        assert_eq!(
            c.obs[2].value, None,
            "null with '..' is missing, never zero"
        );
        assert_eq!(c.obs[2].period.to_string(), "2024");
        assert_eq!(c.obs[4].value, Some(9.4));
        assert_eq!(c.obs[5].status.unwrap().as_str(), "p");
        assert_eq!(
            c.code_names[&("Địa phương".into(), "79".into())],
            "TP. Hồ Chí Minh"
        );
    }

    #[test]
    fn version_1_bundle_from_px_web() {
        let doc = r#"{"dataset":{"label":"x","dimension":{"Region":{"category":{"index":{"A":0},"label":{"A":"A"}}},
          "Tid":{"category":{"index":{"2023K1":0,"2023K2":1},"label":{"2023K1":"2023K1","2023K2":"2023K2"}}},
          "id":["Region","Tid"],"size":[1,2],"role":{"time":["Tid"]}},"value":[1,2],"status":{"1":"-"}}}"#;
        let c = read(doc.as_bytes(), &ReadOptions::default()).unwrap();
        assert_eq!(c.obs.len(), 2);
        assert_eq!(c.obs[1].period.to_string(), "2023-Q2");
    }

    #[test]
    fn the_servers_sizes_are_not_trusted() {
        let huge = br#"{"class":"dataset","id":["a","t"],"size":[100000000000,2],"dimension":{"a":{"category":{"index":["x"]}},"t":{"category":{"index":["2023","2024"]}}},"value":[]}"#;
        let e = read(huge, &ReadOptions::default()).unwrap_err();
        assert!(e.message.contains("cells"), "{e}");
        let overflow = br#"{"class":"dataset","id":["a","b","t"],"size":[4294967296,4294967296,2],"dimension":{},"value":[]}"#;
        assert!(read(overflow, &ReadOptions::default()).is_err());
        // Big sizes, few values: only the values there are read (not nine million cells).
        let sparse = br#"{"class":"dataset","id":["a","year"],"size":[3000,3000],"dimension":{"a":{"category":{"index":{"x":0}}},"year":{"category":{"index":{"2024":0}}}},"value":{"0":1.5}}"#;
        let c = read(sparse, &ReadOptions::default()).unwrap();
        assert_eq!(c.obs.len(), 1);
        assert_eq!(c.series.len(), 1);
        let dense_short = br#"{"class":"dataset","id":["a","year"],"size":[1,3000000],"dimension":{"a":{"category":{"index":["x"]}},"year":{"category":{"index":{"2024":0}}}},"value":[]}"#;
        let c = read(dense_short, &ReadOptions::default()).unwrap();
        assert!(c.obs.is_empty(), "an empty value array is no cells");
    }

    #[test]
    fn not_json_stat() {
        for bad in [
            &b"[1,2]"[..],
            b"{\"class\":\"dimension\"}",
            b"{\"a\":1}",
            b"{\"class\":\"dataset\",\"id\":[\"a\"],\"size\":[1,2],\"dimension\":{}}",
        ] {
            assert!(
                read(bad, &ReadOptions::default()).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
