//! SDMX-CSV 1.0 (first column `DATAFLOW`) and 2.x (`STRUCTURE`, `STRUCTURE_ID`, `ACTION`, then
//! components in any order), with the separator and decimal mark of the file's locale (`,` and
//! `.`, or `;` and `,`), RFC 4180 quoting, `ID: Name` cells (`labels=both`), localised or
//! multi-valued headers (`X[en;fr]`, `X[]`) and attribute-only rows.

use std::collections::HashMap;

use super::number::{self, Cell, DecimalMark};
use super::{Cube, ReadOptions, Unusable};
use crate::model::ObsStatus;

/// Columns that are attributes or measures, not dimensions (the common ones of SDMX's
/// cross-domain concepts; a DSD would say for sure, but a CSV file does not carry one).
const NOT_DIMENSIONS: &[&str] = &[
    "DATAFLOW",
    "STRUCTURE",
    "STRUCTURE_ID",
    "STRUCTURE_NAME",
    "ACTION",
    "SERIES_KEY",
    "OBS_KEY",
    "OBS_VALUE",
    "OBS_STATUS",
    "OBS_CONF",
    "OBS_PRE_BREAK",
    "OBS_COM",
    "UNIT_MULT",
    "DECIMALS",
    "UNIT_MEASURE",
    "TITLE",
    "TITLE_COMPL",
    "COMMENT",
    "COMMENT_TS",
    "COMMENT_OBS",
    "TIME_FORMAT",
    "COLLECTION",
    "SOURCE_AGENCY",
    "COMPILATION",
    "COMPILING_ORG",
    "DATA_COMP",
    "CONF_STATUS",
    "EMBARGO_TIME",
    "NAT_TITLE",
    "BREAKS",
    "UNIT_INDEX_BASE",
    "TIME_PER_COLLECT",
    "PUBL_PUBLIC",
    "PUBL_ECB",
    "PUBL_MU",
    "DOM_SER_IDS",
    "BASE_PER",
    "SOURCE_PUB",
    "UPDATED",
    "VALID_FROM",
    "VALID_TO",
    "OBS_FLAG",
];

/// Whether a component id is a known attribute or measure (not a dimension).
pub(super) fn is_attribute(id: &str) -> bool {
    let h = id.to_ascii_uppercase();
    NOT_DIMENSIONS.contains(&h.as_str()) || h.starts_with("ATTR_") || h.starts_with("MEASURE_")
}

/// Splits CSV text into records of fields (RFC 4180), with each record's line number.
pub fn records(text: &str, sep: u8) -> Vec<(usize, Vec<String>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if quoted {
            if c == b'"' {
                if b.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                if c == b'\n' {
                    line += 1;
                }
                field.push(c);
            }
        } else if c == b'"' && field.is_empty() {
            quoted = true;
        } else if c == sep {
            fields.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
        } else if c == b'\n' || c == b'\r' {
            if c == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
            if !(fields.len() == 1 && fields[0].is_empty()) {
                out.push((start_line, std::mem::take(&mut fields)));
            }
            fields.clear();
            line += 1;
            start_line = line;
        } else {
            field.push(c);
        }
        i += 1;
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(String::from_utf8_lossy(&field).into_owned());
        out.push((start_line, fields));
    }
    out
}

/// The separator of the header line: the most frequent of `,`, `;` and tab outside quotes.
fn separator(header: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in header.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| counts[i]).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// "REF_AREA: Reference area" → ("REF_AREA", Some("Reference area")); "X[en;fr]" → "X".
fn split_label(cell: &str) -> (&str, Option<&str>) {
    let cell = cell.trim();
    match cell.split_once(": ") {
        Some((id, name)) => (id.trim(), Some(name.trim())),
        None => (cell, None),
    }
}

fn header_id(h: &str) -> String {
    let (id, _) = split_label(h);
    id.split('[').next().unwrap_or(id).trim().to_owned()
}

/// Reads an SDMX-CSV file.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Cube, Unusable> {
    let text = super::text(bytes)?;
    super::refuse_html(text)?;
    let first_line = text.lines().next().unwrap_or("");
    let sep = separator(first_line);
    let decimal = match (opts.decimal, sep) {
        (DecimalMark::Auto, b';') => DecimalMark::Comma,
        (d, _) => d,
    };
    let rows = records(text, sep);
    let Some((_, header)) = rows.first() else {
        return Err(Unusable::new("line 1", "no header"));
    };
    let ids: Vec<String> = header.iter().map(|h| header_id(h)).collect();
    let col = |name: &str| ids.iter().position(|h| h.eq_ignore_ascii_case(name));
    let v1 = ids
        .first()
        .is_some_and(|h| h.eq_ignore_ascii_case("DATAFLOW"));
    let v2 = col("STRUCTURE").is_some() && col("STRUCTURE_ID").is_some();
    if !v1 && !v2 {
        return Err(Unusable::new(
            "line 1",
            "neither DATAFLOW (SDMX-CSV 1.0) nor STRUCTURE and STRUCTURE_ID (2.x) in the header",
        ));
    }
    // With `labels=name` every component's id column is followed by its name column.
    let named = col("STRUCTURE_NAME").is_some();
    let first_component = col("ACTION")
        .or(col("STRUCTURE_NAME"))
        .or(col("STRUCTURE_ID"))
        .map_or(1, |a| a + 1);
    let is_name_col = |i: usize| named && i > first_component && (i - first_component) % 2 == 1;
    let value = col("OBS_VALUE");
    let status = col("OBS_STATUS");
    let mult = col("UNIT_MULT");
    let unit = col("UNIT_MEASURE");
    let action = col("ACTION");
    let candidates: Vec<usize> = (first_component..ids.len())
        .filter(|&i| !is_name_col(i) && !ids[i].is_empty() && !is_attribute(&ids[i]))
        .collect();
    // The time dimension: named, else TIME_PERIOD, else the first candidate whose cells all
    // read as periods (the field guides' examples call it DIM_3).
    let time = match &opts.time_dimension {
        Some(t) => col(t),
        None => col("TIME_PERIOD").or_else(|| {
            candidates.iter().copied().find(|&c| {
                let mut seen = 0;
                rows.iter().skip(1).take(50).all(|(_, r)| {
                    let cell = r.get(c).map_or("", |v| split_label(v).0);
                    seen += usize::from(!cell.is_empty());
                    cell.is_empty() || super::period::parse(cell).is_some()
                }) && seen > 0
            })
        }),
    };
    let Some(time) = time else {
        // Attribute-only files and deletions are SDMX-CSV too: nothing to observe.
        let only_deletions = rows.len() > 1
            && col("ACTION").is_some_and(|a| {
                rows.iter()
                    .skip(1)
                    .all(|(_, r)| r.get(a).is_some_and(|v| v.trim().eq_ignore_ascii_case("D")))
            });
        if value.is_none() || only_deletions {
            let mut cube = Cube::default();
            cube.problem(
                "line 1",
                if only_deletions {
                    "deletions only: no observations"
                } else {
                    "no OBS_VALUE column: attributes only, no observations"
                },
            );
            return Ok(cube);
        }
        return Err(Unusable::new(
            "line 1",
            "no time column (TIME_PERIOD, or a column of periods)",
        ));
    };
    let dim_cols: Vec<usize> = candidates.into_iter().filter(|&c| c != time).collect();
    let mut cube = Cube {
        dims: dim_cols.iter().map(|&i| ids[i].clone()).collect(),
        ..Default::default()
    };
    let struct_col = if v1 { Some(0) } else { col("STRUCTURE_ID") };
    let mut index: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut codes: Vec<&str> = Vec::with_capacity(dim_cols.len());
    for (line, row) in rows.iter().skip(1) {
        let place = format!("line {line}");
        if row.len() != ids.len() {
            cube.problem(
                place,
                format!("{} fields where the header has {}", row.len(), ids.len()),
            );
            continue;
        }
        if cube.title.is_none() {
            cube.title = struct_col.map(|c| split_label(&row[c]).0.to_owned());
        }
        if let Some(a) = action {
            let a = row[a].trim();
            if a.eq_ignore_ascii_case("D") {
                continue;
            }
        }
        let Some(value_col) = value else {
            // Attribute-only file: nothing to observe.
            continue;
        };
        let t = split_label(&row[time]).0;
        if t.is_empty() {
            continue; // an attribute-only row (no time: wildcard)
        }
        let Some(period) = super::period::parse(t) else {
            cube.problem(place, format!("period \"{t}\" cannot be read"));
            continue;
        };
        let raw = split_label(&row[value_col]).0;
        let value = match number::parse(raw, decimal) {
            Cell::Value(v) => Some(v),
            Cell::Missing => None,
            Cell::Bad => {
                cube.problem(place, format!("\"{raw}\" is not a number"));
                continue;
            }
        };
        codes.clear();
        for &c in &dim_cols {
            let (id, name) = split_label(&row[c]);
            if let Some(name) = name {
                cube.code_names
                    .entry((ids[c].clone(), id.to_owned()))
                    .or_insert_with(|| name.to_owned());
            }
            codes.push(id);
        }
        let s = cube.series_id(&codes, &mut index);
        if let Some(m) = mult.and_then(|m| split_label(&row[m]).0.parse::<i32>().ok()) {
            cube.series[s as usize].unit_mult = Some(m);
        }
        if let Some(u) = unit
            .map(|u| split_label(&row[u]))
            .filter(|u| !u.0.is_empty())
        {
            cube.series[s as usize].unit = Some(u.1.unwrap_or(u.0).to_owned());
        }
        cube.obs.push(super::Obs {
            series: s,
            period,
            value,
            status: status.and_then(|c| ObsStatus::new(split_label(&row[c]).0)),
        });
    }
    Ok(cube)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_and_2_and_a_french_locale() {
        let v1 = "DATAFLOW,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT\n\
                  GSO:POP(1.0),A,VN-HN,2023,\"8,587.1\",A,3\n\
                  GSO:POP(1.0),A,VN-HN,2024,,M,3\n\
                  GSO:POP(1.0),A,VN-SG,2024,9456.7,P,3\n";
        let c = super::super::StatsFormat::SdmxCsv
            .read(v1.as_bytes(), &ReadOptions::default())
            .unwrap();
        assert_eq!(c.dims, ["FREQ", "REF_AREA"]);
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.obs[0].value, Some(8_587_100.0));
        assert_eq!(c.obs[1].value, None);
        assert_eq!(c.obs[2].status.unwrap().as_str(), "P");
        assert_eq!(c.title.as_deref(), Some("GSO:POP(1.0)"));

        let v2 = "STRUCTURE;STRUCTURE_ID;ACTION;OBS_VALUE;REF_AREA: Area;TIME_PERIOD\n\
                  dataflow;GSO:CPI(1.0);I;\"2.767.229,12\";VN-HN: Hà Nội;2024-Q3\n\
                  dataflow;GSO:CPI(1.0);D;1;VN-HN: Hà Nội;2024-Q4\n\
                  dataflow;GSO:CPI(1.0);I;12,5;VN-HN: Hà Nội;2024-13\n";
        let c = read(v2.as_bytes(), &ReadOptions::default()).unwrap();
        assert_eq!(c.dims, ["REF_AREA"]);
        assert_eq!(
            c.obs.len(),
            1,
            "the Delete row is not data, the bad period is a problem"
        );
        assert_eq!(c.obs[0].value, Some(2_767_229.12));
        assert_eq!(c.code_names[&("REF_AREA".into(), "VN-HN".into())], "Hà Nội");
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].place, "line 4");
    }

    #[test]
    fn quoted_fields_with_separators_and_line_breaks() {
        let r = records("a,\"b,\"\"c\"\"\nd\",e\r\nf,g,h\n", b',');
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].1, ["a", "b,\"c\"\nd", "e"]);
        assert_eq!(r[1].0, 3);
    }

    #[test]
    fn not_sdmx_csv() {
        assert!(read(b"a,b,c\n1,2,3\n", &ReadOptions::default()).is_err());
        assert!(read(b"", &ReadOptions::default()).is_err());
    }
}
