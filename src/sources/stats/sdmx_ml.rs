//! SDMX-ML 2.1 data messages: structure-specific (keys, attributes and the value as XML
//! attributes of `Series` and `Obs`) and generic (`SeriesKey`/`ObsKey`/`Attributes` of
//! `Value id= value=`, `ObsDimension`, `ObsValue`), time series, cross-sections and flat data
//! alike. Elements are matched by local name, so any prefix a server binds works. An `Error`
//! message is unusable with the server's code and text; a footer's message is kept as a problem.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::number::{self, Cell};
use super::sdmx_csv::is_attribute;
use super::{Cube, ReadOptions, Unusable};
use crate::model::ObsStatus;
use crate::sources::xml::{attr, attrs, reference};

#[derive(Default)]
struct Keys {
    dims: Vec<(String, String)>,
    attrs: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq)]
enum In {
    Nothing,
    SeriesKey,
    SeriesAttrs,
    ObsKey,
    ObsAttrs,
}

struct Reading<'a> {
    cube: Cube,
    time: String,
    index: HashMap<Vec<u32>, u32>,
    unknown: Vec<String>,
    opts: &'a ReadOptions,
    set_attrs: Vec<(String, String)>,
    /// Places of problems, counted once through the input.
    lines: super::Lines<'a>,
    /// The current series' id once known (its observations add no dimension).
    cached: Option<u32>,
}

fn is(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl Reading<'_> {
    /// Sorts structure-specific attributes into dimensions, attributes, time and value.
    fn sort(
        &self,
        list: Vec<(String, String)>,
        into: &mut Keys,
        time: &mut Option<String>,
        value: &mut Option<String>,
    ) {
        for (k, v) in list {
            if is(&k, &self.time) {
                *time = Some(v);
            } else if is(&k, "OBS_VALUE") {
                *value = Some(v);
            } else if is_attribute(&k) || k == "type" || k == "schemaLocation" {
                into.attrs.push((k, v));
            } else {
                into.dims.push((k, v));
            }
        }
    }

    /// The series of an observation: its key from the series' and the observation's
    /// dimensions (`cube.dims` set by the first), with the series' `UNIT_MULT` and unit. When the
    /// observation adds no dimension (time series) the answer is kept for the series' next
    /// observations.
    fn series_of(&mut self, series: &Keys, obs: &Keys, pos: usize) -> u32 {
        if obs.dims.is_empty()
            && let Some(s) = self.cached
        {
            return s;
        }
        let all = || series.dims.iter().chain(obs.dims.iter());
        if self.cube.series.is_empty() && self.cube.dims.is_empty() {
            self.cube.dims = all().map(|(k, _)| k.clone()).collect();
        }
        for (k, _) in all() {
            if !self.cube.dims.contains(k) && !self.unknown.contains(k) {
                self.unknown.push(k.clone());
                self.cube.problem(
                    self.lines.place(pos),
                    format!("dimension {k} is not in the first series' key: ignored"),
                );
            }
        }
        let codes: Vec<&str> = self
            .cube
            .dims
            .iter()
            .map(|d| all().find(|(k, _)| k == d).map_or("", |(_, v)| v.as_str()))
            .collect();
        let s = self.cube.series_id(&codes, &mut self.index);
        let find = |name: &str| {
            series
                .attrs
                .iter()
                .chain(self.set_attrs.iter())
                .find(|(k, _)| is(k, name))
                .map(|(_, v)| v.as_str())
        };
        let mult = find("UNIT_MULT").and_then(|m| m.trim().parse::<i32>().ok());
        let unit = find("UNIT_MEASURE").map(str::to_owned);
        let sk = &mut self.cube.series[s as usize];
        if mult.is_some() {
            sk.unit_mult = mult;
        }
        if unit.is_some() {
            sk.unit = unit;
        }
        if obs.dims.is_empty() {
            self.cached = Some(s);
        }
        s
    }

    /// One observation: its period, value (missing stays missing) and status.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        series: &Keys,
        obs: &Keys,
        time: Option<&str>,
        value: Option<&str>,
        status: Option<ObsStatus>,
        pos: usize,
    ) {
        let Some(t) = time else {
            self.cube.problem(
                self.lines.place(pos),
                format!("an observation without {}", self.time),
            );
            return;
        };
        let Some(period) = super::period::parse(t) else {
            self.cube.problem(
                self.lines.place(pos),
                format!("period \"{t}\" cannot be read"),
            );
            return;
        };
        let raw = value.unwrap_or("");
        let value = match number::parse(raw, self.opts.decimal) {
            Cell::Value(v) => Some(v),
            Cell::Missing => None,
            Cell::Bad => {
                self.cube
                    .problem(self.lines.place(pos), format!("\"{raw}\" is not a number"));
                return;
            }
        };
        let s = self.series_of(series, obs, pos);
        let find = |name: &str| {
            obs.attrs
                .iter()
                .chain(series.attrs.iter())
                .chain(self.set_attrs.iter())
                .find(|(k, _)| is(k, name))
                .map(|(_, v)| v.as_str())
        };
        let status = status.or_else(|| {
            find("OBS_STATUS")
                .or_else(|| find("OBS_FLAG"))
                .and_then(ObsStatus::new)
        });
        if !obs.attrs.is_empty() {
            // An observation's own UNIT_MULT (rare) is the series'.
            if let Some(m) = obs
                .attrs
                .iter()
                .find(|(k, _)| is(k, "UNIT_MULT"))
                .and_then(|(_, m)| m.trim().parse::<i32>().ok())
            {
                self.cube.series[s as usize].unit_mult = Some(m);
            }
        }
        self.cube.obs.push(super::Obs {
            series: s,
            period,
            value,
            status,
        });
    }

    /// The end of an observation read by the general path (`</Obs>`, or `<Obs …/>` with a
    /// dimension): its time (or the series'), value and attributes.
    fn end_obs(
        &mut self,
        series: &Keys,
        obs: &Keys,
        time: Option<String>,
        value: Option<String>,
        pos: usize,
    ) {
        self.emit(series, obs, time.as_deref(), value.as_deref(), None, pos);
    }

    /// A structure-specific `<Obs …/>` of a time series read without copying its attributes;
    /// false when it carries a dimension (cross-section, flat), for the general path.
    fn fast_obs(
        &mut self,
        e: &quick_xml::events::BytesStart<'_>,
        series: &Keys,
        series_time: Option<&str>,
        pos: usize,
    ) -> bool {
        let mut time: Option<std::borrow::Cow<'_, str>> = None;
        let mut value: Option<std::borrow::Cow<'_, str>> = None;
        let mut status: Option<ObsStatus> = None;
        for a in e.attributes() {
            let Ok(a) = a else { return false };
            let key = a.key.local_name();
            let k = key.as_ref();
            if a.key.as_ref().starts_with(b"xmlns") {
                continue;
            }
            let Ok(v) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
                return false;
            };
            if k.eq_ignore_ascii_case(self.time.as_bytes()) {
                time = Some(v);
            } else if k.eq_ignore_ascii_case(b"OBS_VALUE") {
                value = Some(v);
            } else if k.eq_ignore_ascii_case(b"OBS_STATUS") || k.eq_ignore_ascii_case(b"OBS_FLAG") {
                status = ObsStatus::new(&v);
            } else {
                let name = std::str::from_utf8(k).unwrap_or_default();
                if !(is_attribute(name) || name == "type") {
                    return false;
                }
                if name.eq_ignore_ascii_case("UNIT_MULT") {
                    return false;
                }
            }
        }
        let none = Keys::default();
        let time = time.as_deref().or(series_time);
        self.emit(series, &none, time, value.as_deref(), status, pos);
        true
    }
}

/// Reads an SDMX-ML 2.1 data message.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Cube, Unusable> {
    let text = super::text(bytes)?;
    super::refuse_html(text)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut r = Reading {
        cube: Cube::default(),
        time: opts
            .time_dimension
            .clone()
            .unwrap_or_else(|| "TIME_PERIOD".into()),
        index: HashMap::new(),
        unknown: Vec::new(),
        lines: super::Lines::new(text),
        cached: None,
        opts,
        set_attrs: Vec::new(),
    };
    let mut root: Option<String> = None;
    let mut dim_at_obs: Option<String> = None;
    let mut series = Keys::default();
    let mut series_time: Option<String> = None;
    let mut obs = Keys::default();
    let mut obs_time: Option<String> = None;
    let mut obs_value: Option<String> = None;
    let mut in_obs = false;
    let mut in_series = false;
    let mut within = In::Nothing;
    let mut error: Option<(String, String)> = None;
    let mut in_error_text = false;
    let mut saw_dataset = false;
    let mut footer: Vec<String> = Vec::new();
    let mut in_footer_text = false;
    loop {
        let ev = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                return Err(Unusable::new(
                    super::line_col(text, reader.error_position() as usize),
                    format!("not well-formed XML: {e}"),
                ));
            }
        };
        // Where the event ends: on the element's own line.
        let pos = reader.buffer_position() as usize;
        let place = || super::line_col(text, pos);
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let local_name = e.local_name();
            let name = std::str::from_utf8(local_name.as_ref()).unwrap_or_default();
            // Most elements of a large message are `<Obs …/>` of a time series: read in place.
            if empty
                && name == "Obs"
                && in_series
                && r.fast_obs(e, &series, series_time.as_deref(), pos)
            {
                continue;
            }
            if root.is_none() {
                root = Some(name.to_owned());
                if !matches!(
                    name,
                    "StructureSpecificData"
                        | "StructureSpecificTimeSeriesData"
                        | "GenericData"
                        | "GenericTimeSeriesData"
                        | "Error"
                ) {
                    return Err(Unusable::new(
                        place(),
                        format!("<{name}> is not an SDMX-ML 2.1 data message"),
                    ));
                }
            }
            match name {
                "Structure" if dim_at_obs.is_none() => {
                    dim_at_obs = attr(e, "dimensionAtObservation");
                }
                "DataSet" => {
                    saw_dataset = true;
                    r.set_attrs = attrs(e)
                        .into_iter()
                        .filter(|(k, _)| {
                            !matches!(
                                k.as_str(),
                                "structureRef"
                                    | "type"
                                    | "action"
                                    | "dataScope"
                                    | "setID"
                                    | "reportingBeginDate"
                                    | "reportingEndDate"
                                    | "validFromDate"
                                    | "validToDate"
                                    | "publicationYear"
                                    | "publicationPeriod"
                            )
                        })
                        .collect();
                }
                "Series" => {
                    in_series = true;
                    r.cached = None;
                    series = Keys::default();
                    series_time = None;
                    let mut unused = None;
                    r.sort(attrs(e), &mut series, &mut series_time, &mut unused);
                }
                "Obs" => {
                    in_obs = true;
                    obs = Keys::default();
                    obs_time = None;
                    obs_value = None;
                    r.sort(attrs(e), &mut obs, &mut obs_time, &mut obs_value);
                    if !in_series {
                        series = Keys::default();
                        series_time = None;
                    }
                }
                "SeriesKey" => within = In::SeriesKey,
                "ObsKey" => within = In::ObsKey,
                "Attributes" => {
                    within = if in_obs {
                        In::ObsAttrs
                    } else {
                        In::SeriesAttrs
                    }
                }
                "Value" => {
                    if let (Some(id), Some(v)) = (attr(e, "id"), attr(e, "value")) {
                        let is_time = is(&id, &r.time);
                        match within {
                            In::SeriesKey if is_time => series_time = Some(v),
                            In::ObsKey if is_time => obs_time = Some(v),
                            In::SeriesKey => series.dims.push((id, v)),
                            In::ObsKey => obs.dims.push((id, v)),
                            In::SeriesAttrs => series.attrs.push((id, v)),
                            In::ObsAttrs => obs.attrs.push((id, v)),
                            In::Nothing => {}
                        }
                    }
                }
                "ObsDimension" => {
                    let v = attr(e, "value");
                    let d = attr(e, "id")
                        .or_else(|| dim_at_obs.clone())
                        .unwrap_or_else(|| r.time.clone());
                    if is(&d, &r.time) || d == "AllDimensions" {
                        obs_time = v;
                    } else if let Some(v) = v {
                        obs.dims.push((d, v));
                    }
                }
                "ObsValue" => obs_value = attr(e, "value"),
                "ErrorMessage" => {
                    error = Some((attr(e, "code").unwrap_or_default(), String::new()))
                }
                "Text" if error.is_some() => in_error_text = !empty,
                "Message" if root.as_deref() != Some("Error") => {
                    footer.push(attr(e, "code").unwrap_or_default());
                    in_footer_text = !empty;
                }
                _ => {}
            }
            if empty && name == "Obs" {
                in_obs = false;
                let t = obs_time.take().or_else(|| series_time.clone());
                r.end_obs(&series, &obs, t, obs_value.take(), pos);
            } else if empty && name == "Series" {
                in_series = false;
            }
            continue;
        }
        match ev {
            Event::End(e) => match String::from_utf8_lossy(e.local_name().as_ref()).as_ref() {
                "Obs" => {
                    in_obs = false;
                    let t = obs_time.take().or_else(|| series_time.clone());
                    r.end_obs(&series, &obs, t, obs_value.take(), pos);
                    within = In::Nothing;
                }
                "Series" => in_series = false,
                "SeriesKey" | "ObsKey" | "Attributes" => within = In::Nothing,
                "Text" => {
                    in_error_text = false;
                    in_footer_text = false;
                }
                _ => {}
            },
            Event::Text(t) => {
                let s = t.decode().map(|c| c.into_owned()).unwrap_or_default();
                if in_error_text {
                    if let Some(e) = error.as_mut() {
                        e.1.push_str(&s);
                    }
                } else if in_footer_text && let Some(m) = footer.last_mut() {
                    m.push(' ');
                    m.push_str(&s);
                }
            }
            Event::GeneralRef(g) if in_error_text => {
                if let Some(e) = error.as_mut() {
                    e.1.push_str(&reference(&g));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some((code, text)) = error {
        return Err(Unusable::new(
            "Error",
            format!("the server answered with error {code}: {}", text.trim()),
        ));
    }
    for m in footer {
        r.cube
            .problem("Footer", format!("the server's note: {}", m.trim()));
    }
    if !saw_dataset && r.cube.obs.is_empty() {
        let note = r
            .cube
            .problems
            .first()
            .map(|p| format!(" ({})", p.message))
            .unwrap_or_default();
        return Err(Unusable::new(
            "(body)",
            format!("no DataSet in the message{note}"),
        ));
    }
    Ok(r.cube)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<m:StructureSpecificData xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" xmlns:d2p1="http://www.w3.org/2001/XMLSchema-instance">
 <m:Header><m:Structure structureID="X" dimensionAtObservation="TIME_PERIOD"/></m:Header>
 <m:DataSet d2p1:type="ns1:DataSetType" COMMENT="Nguồn: TCTK">
  <Series FREQ="Q" REF_AREA="VN" INDICATOR="GDP" UNIT_MULT="6">
   <Obs TIME_PERIOD="2024-Q3" OBS_VALUE="2.767.229,12"/>
   <Obs TIME_PERIOD="2024-Q4" OBS_VALUE="na" OBS_STATUS="M"/>
   <Obs TIME_PERIOD="2023-S1" OBS_VALUE="1336167. 72"/>
   <Obs TIME_PERIOD="2024-Q9" OBS_VALUE="1"/>
  </Series>
 </m:DataSet>
</m:StructureSpecificData>"#;

    #[test]
    fn structure_specific_with_vietnamese_numbers() {
        let c = super::super::StatsFormat::SdmxMl
            .read(SS.as_bytes(), &ReadOptions::default())
            .unwrap();
        assert_eq!(c.dims, ["FREQ", "REF_AREA", "INDICATOR"]);
        assert_eq!(c.obs.len(), 3);
        assert_eq!(c.obs[0].value, Some(2_767_229.12e6));
        assert_eq!(c.obs[1].value, None);
        assert_eq!(c.obs[1].status.unwrap().as_str(), "M");
        assert_eq!(c.obs[2].period.to_string(), "2023-S1");
        assert!((c.obs[2].value.unwrap() - 1_336_167.72e6).abs() < 1.0);
        assert_eq!(c.problems.len(), 1);
        assert!(
            c.problems[0].place.starts_with("line 9"),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn generic_time_series_and_flat() {
        let g = r#"<mes:GenericData xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" xmlns:gen="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic">
<mes:Header/><mes:DataSet>
<gen:Series><gen:SeriesKey><gen:Value id="REF_AREA" value="VN-HN"/><gen:Value id="MEASURE" value="POP"/></gen:SeriesKey>
<gen:Attributes><gen:Value id="UNIT_MULT" value="3"/></gen:Attributes>
<gen:Obs><gen:ObsDimension value="2024"/><gen:ObsValue value="8587.1"/><gen:Attributes><gen:Value id="OBS_STATUS" value="P"/></gen:Attributes></gen:Obs>
<gen:Obs><gen:ObsDimension value="2023"/><gen:ObsValue value="NaN"/></gen:Obs>
</gen:Series>
<gen:Obs><gen:ObsKey><gen:Value id="REF_AREA" value="VN-SG"/><gen:Value id="MEASURE" value="POP"/><gen:Value id="TIME_PERIOD" value="2024-M01"/></gen:ObsKey><gen:ObsValue value="9456"/></gen:Obs>
</mes:DataSet></mes:GenericData>"#;
        let c = read(g.as_bytes(), &ReadOptions::default()).unwrap();
        assert_eq!(c.dims, ["REF_AREA", "MEASURE"]);
        assert_eq!(c.obs.len(), 3);
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.obs[0].status.unwrap().as_str(), "P");
        assert_eq!(c.obs[1].value, None);
        assert_eq!(c.obs[2].period.to_string(), "2024-01");
        assert!(c.problems.is_empty(), "{:?}", c.problems);
    }

    #[test]
    fn errors_and_broken_xml() {
        let e = read(br#"<message:Error xmlns:message="x"><message:ErrorMessage code="100"><common:Text xmlns:common="y">No results found</common:Text></message:ErrorMessage></message:Error>"#, &ReadOptions::default()).unwrap_err();
        assert!(
            e.message.contains("100") && e.message.contains("No results"),
            "{e}"
        );
        let e = read(
            b"<m:StructureSpecificData xmlns:m='x'><m:DataSet><Series A='1'></m:DataSet>",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.message.contains("XML"), "{e}");
        assert!(read(b"<rss/>", &ReadOptions::default()).is_err());
    }
}
