//! Response parsers. The happy path is one typed `serde_json::from_slice`; only when it fails is
//! the body parsed again with `serde_path_to_error`, so that the error names the field
//! (`items[3].status`) without slowing the common case. Parsed data is then validated (locations
//! on Earth, non-empty ids). Nothing here panics on any input (a fuzz target checks it).

use serde::de::DeserializeOwned;

use super::Resource;
use crate::model::*;

/// Why a response body could not be used: the resource, the field path and what was wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{resource}: {path}: {message}")]
pub struct ParseError {
    pub resource: &'static str,
    pub path: String,
    pub message: String,
}

fn detailed<T: DeserializeOwned>(resource: &'static str, bytes: &[u8]) -> Result<T, ParseError> {
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    // Slow path, only for bad input: parse again to learn where it broke.
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
        let path = e.path().to_string();
        ParseError {
            resource,
            path: if path == "." { "(body)".into() } else { path },
            message: clean(&e.into_inner().to_string()),
        }
    })
}

/// serde_json appends "at line 1 column 873"; keep the message readable on a tile.
fn clean(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Checks what serde cannot: values that parse but make no sense.
pub trait Validate {
    fn validate(&self) -> Result<(), (String, String)>;
}

fn require(ok: bool, field: &str, message: &str) -> Result<(), (String, String)> {
    if ok {
        Ok(())
    } else {
        Err((field.to_owned(), message.to_owned()))
    }
}

fn point_ok(p: &GeoPoint, field: &str) -> Result<(), (String, String)> {
    require(
        p.is_valid(),
        field,
        "latitude must be within ±90 and longitude within ±180",
    )
}

impl Validate for Unit {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.id.is_empty(), "id", "empty id")?;
        if let Some(p) = &self.location {
            point_ok(p, "location")?;
        }
        require(
            self.valid_to.is_none_or(|t| t >= self.valid_from),
            "valid_to",
            "ends before valid_from",
        )
    }
}
impl Validate for Department {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.id.is_empty(), "id", "empty id")
    }
}
impl Validate for Category {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.id.is_empty(), "id", "empty id")
    }
}
impl Validate for Indicator {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.id.is_empty(), "id", "empty id")?;
        require(self.decimals <= 6, "decimals", "more than 6 decimals")
    }
}
impl Validate for Series {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.indicator_id.is_empty(), "indicator_id", "empty id")?;
        require(
            self.points.iter().all(|p| p.value.is_finite()),
            "points",
            "a value is not a finite number",
        )
    }
}
impl Validate for Incident {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.id.is_empty(), "id", "empty id")?;
        point_ok(&self.location, "location")
    }
}
impl Validate for Camera {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.id.is_empty(), "id", "empty id")?;
        point_ok(&self.location, "location")?;
        require(
            self.profiles.iter().all(|p| p.width > 0 && p.height > 0),
            "profiles",
            "a stream profile has no size",
        )
    }
}
impl Validate for ProviderStatus {
    fn validate(&self) -> Result<(), (String, String)> {
        require(!self.indicator_id.is_empty(), "indicator_id", "empty id")
    }
}

/// Parses a list response of `resource`.
pub fn list<T: DeserializeOwned + Validate>(
    resource: Resource,
    bytes: &[u8],
) -> Result<ListResponse<T>, ParseError> {
    let name = resource.name();
    let list: ListResponse<T> = detailed(name, bytes)?;
    for (i, item) in list.items.iter().enumerate() {
        item.validate().map_err(|(field, message)| ParseError {
            resource: name,
            path: format!("items[{i}].{field}"),
            message,
        })?;
    }
    Ok(list)
}

/// Parses one SSE message. Unknown event names are skipped (`Ok(None)`): a newer backend may
/// announce more.
pub fn event(name: &str, data: &str) -> Result<Option<Event>, ParseError> {
    let bytes = data.as_bytes();
    let e = match name {
        "incident" => {
            let i: Incident = detailed("events/incident", bytes)?;
            i.validate().map_err(|(f, m)| ParseError {
                resource: "events/incident",
                path: f,
                message: m,
            })?;
            Event::Incident(Box::new(i))
        }
        "observation" => Event::Observation(detailed("events/observation", bytes)?),
        "camera" => Event::Camera(detailed("events/camera", bytes)?),
        "provider" => Event::Provider(detailed("events/provider", bytes)?),
        _ => return Ok(None),
    };
    Ok(Some(e))
}

/// Parses a single incident (the action endpoint's answer).
pub fn incident(bytes: &[u8]) -> Result<Incident, ParseError> {
    let i: Incident = detailed("incidents", bytes)?;
    i.validate().map_err(|(f, m)| ParseError {
        resource: "incidents",
        path: f,
        message: m,
    })?;
    Ok(i)
}

/// The API's error body, if the bytes are one.
pub fn api_error(bytes: &[u8]) -> Option<ApiError> {
    serde_json::from_slice(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let body = br#"{"items":[{"id":"a","name":"A","level":"province","valid_from":"2020-01-01"},{"id":"b","name":"B","level":"hamlet","valid_from":"2020-01-01"}],"as_of":"2026-11-29T00:00:00Z"}"#;
        let e = list::<Unit>(Resource::Units, body).unwrap_err();
        assert_eq!(e.path, "items[1].level");
        assert!(e.message.contains("hamlet"), "{e}");
        assert_eq!(e.resource, "units");

        let e = list::<Unit>(
            Resource::Units,
            br#"{"items":[{"id":"a"}],"as_of":"2026-11-29T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "items[0]");
        assert!(e.message.contains("missing field"), "{e}");

        let e = list::<Unit>(Resource::Units, br#"{"items":[{"id":5,"name":"x","level":"province","valid_from":"2020-01-01"}],"as_of":"2026-11-29T00:00:00Z"}"#).unwrap_err();
        assert_eq!(e.path, "items[0].id");
    }

    #[test]
    fn validation_catches_what_serde_accepts() {
        let body = br#"{"items":[{"id":"a","name":"A","level":"province","valid_from":"2020-01-01","location":{"lat":123.0,"lon":5.0}}],"as_of":"2026-11-29T00:00:00Z"}"#;
        let e = list::<Unit>(Resource::Units, body).unwrap_err();
        assert_eq!(e.path, "items[0].location");
    }

    #[test]
    fn bad_bytes_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"{",
            b"\xff\xfe",
            b"{\"items\":\"\xff\"}",
            b"{\"items\":[],\"as_of\":\"x\"}",
        ] {
            assert!(list::<Incident>(Resource::Incidents, body).is_err());
        }
        assert!(event("incident", "{").is_err());
        assert_eq!(event("future-kind", "{}"), Ok(None));
    }

    #[test]
    fn unknown_fields_are_ignored_for_forward_compatibility() {
        let body = r#"{"items":[{"id":"d","name_vi":"Sở","name_en":"Dept","since":"v2"}],"as_of":"2026-11-29T00:00:00Z","next":"cursor"}"#;
        assert_eq!(
            list::<Department>(Resource::Departments, body.as_bytes())
                .unwrap()
                .items
                .len(),
            1
        );
    }
}
