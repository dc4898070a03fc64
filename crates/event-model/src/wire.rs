//! The input wire format: one JSON object per event (an NDJSON line, or an HTTP body element).

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::types::{ChasedObligation, EventData, EventType};

pub use crate::text::{
    check_identifier, is_blank, is_month, IDENT_PATTERN, MAX_ID_CHARS, MONTH_PATTERN,
    NON_BLANK_PATTERN,
};

/// Prefix of unit-level streams: `unit/<unit-id>`.
pub const UNIT_STREAM_PREFIX: &str = "unit/";

/// An event as a sender submits it, decoded and checked for form (not yet for lifecycle rules).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Chosen by the sender; the idempotency key.
    pub id: Uuid,
    pub stream: String,
    pub occurred_at: DateTime<FixedOffset>,
    /// When the instant is not known exactly: the event happened after this instant and at
    /// or before `occurred_at`, in (`occurred_after`, `occurred_at`]. `None` for an exact event.
    pub occurred_after: Option<DateTime<FixedOffset>>,
    pub actor: String,
    pub data: EventData,
    /// The stream version the sender last saw (0 for a new stream).
    pub expected_version: Option<u64>,
}

impl NewEvent {
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }
}

/// What is wrong with a submitted event, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct WireError {
    /// The event's `id`, when it could be read.
    pub event_id: Option<String>,
    /// The JSON path of the offending field (`data.complainant.anonymous`), if one.
    pub field: Option<String>,
    pub message: String,
    /// Every field has its form (the event matches its JSON Schema) but two of them disagree,
    /// as an `occurred_after` that is not before `occurred_at`: the request is understood but
    /// cannot be taken (HTTP 422 rather than 400).
    pub inconsistent: bool,
}

impl WireError {
    pub fn new(
        event_id: Option<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let field = field.into();
        WireError {
            event_id,
            field: if field.is_empty() || field == "." {
                None
            } else {
                Some(field)
            },
            message: message.into(),
            inconsistent: false,
        }
    }

    fn inconsistent(
        event_id: Option<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        WireError {
            inconsistent: true,
            ..WireError::new(event_id, field, message)
        }
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        if let Some(id) = &self.event_id {
            s.push_str(&format!("event {id}: "));
        }
        if let Some(f) = &self.field {
            s.push_str(&format!("field `{f}`: "));
        }
        s.push_str(&self.message);
        s
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWire<'a> {
    id: Uuid,
    stream: String,
    #[serde(rename = "type")]
    event_type: EventType,
    occurred_at: String,
    #[serde(default)]
    occurred_after: Option<String>,
    actor: String,
    #[serde(borrow)]
    data: &'a RawValue,
    #[serde(default, deserialize_with = "whole_number")]
    expected_version: Option<u64>,
}

/// A version as JSON numbers write a whole number: `3`, or `3.0` (JSON Schema's `integer`
/// takes both); `null` for none. A fraction, a negative number or one past 2^53 is refused.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => match (n.as_u64(), n.as_f64()) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0 => {
                Ok(Some(f as u64))
            }
            _ => Err(D::Error::custom(format!(
                "`{n}` is not a version (a whole number from 0)"
            ))),
        },
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<serde_json::Value>,
}

/// Decodes and checks one wire-format event.
pub fn parse_wire_event(text: &str) -> Result<NewEvent, WireError> {
    // Fast path; only a failure pays for tracking the path of the offending field.
    let raw = match serde_json::from_str::<RawWire>(text) {
        Ok(r) => Ok(r),
        Err(_) => slow_parse(text),
    }?;
    finish_parse(raw)
}

/// Decodes the envelope again, tracking field paths, to say exactly what is wrong.
fn slow_parse(text: &str) -> Result<RawWire<'_>, WireError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: Result<RawWire, _> = serde_path_to_error::deserialize(&mut de);
    let raw = match raw {
        Ok(r) => match de.end() {
            Ok(()) => r,
            Err(e) => {
                return Err(WireError::new(
                    Some(r.id.to_string()),
                    "",
                    format!("malformed JSON: {}", strip_position(&e.to_string())),
                ))
            }
        },
        Err(e) => {
            let id = serde_json::from_str::<IdOnly>(text)
                .ok()
                .and_then(|i| i.id)
                .map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                let message = format!("malformed JSON: {}", strip_position(&inner.to_string()));
                return Err(WireError::new(id, "", message));
            }
            return Err(WireError::new(id, path, strip_position(&inner.to_string())));
        }
    };
    Ok(raw)
}

fn finish_parse(raw: RawWire<'_>) -> Result<NewEvent, WireError> {
    let id_text = || Some(raw.id.to_string());
    let occurred_at = DateTime::parse_from_rfc3339(&raw.occurred_at).map_err(|_| {
        WireError::new(
            id_text(),
            "occurred_at",
            format!(
                "`{}` is not an RFC 3339 instant with an offset (e.g. 2024-01-05T09:30:00+07:00)",
                raw.occurred_at
            ),
        )
    })?;
    let occurred_after = match &raw.occurred_after {
        None => None,
        Some(text) => {
            let after = DateTime::parse_from_rfc3339(text).map_err(|_| {
                WireError::new(
                    id_text(),
                    "occurred_after",
                    format!(
                        "`{text}` is not an RFC 3339 instant with an offset (e.g. 2024-01-05T09:30:00+07:00)"
                    ),
                )
            })?;
            if after >= occurred_at {
                return Err(WireError::inconsistent(
                    id_text(),
                    "occurred_after",
                    format!(
                        "`{text}` must be earlier than occurred_at `{}`: the event happened after occurred_after and at or before occurred_at",
                        raw.occurred_at
                    ),
                ));
            }
            Some(after)
        }
    };
    let data = EventData::from_json(raw.event_type, raw.data.get()).map_err(|e| {
        let field = if e.path.is_empty() || e.path == "." {
            "data".to_string()
        } else {
            format!("data.{}", e.path)
        };
        WireError::new(id_text(), field, strip_position(&e.message))
    })?;
    let event = NewEvent {
        id: raw.id,
        stream: raw.stream,
        occurred_at,
        occurred_after,
        actor: raw.actor,
        data,
        expected_version: raw.expected_version,
    };
    check_form(&event)
        .map_err(|(field, msg)| WireError::new(Some(event.id.to_string()), field, msg))?;
    Ok(event)
}

/// serde_json appends " at line L column C", which means nothing to someone looking at one
/// field of one event; the caller adds the line number of the input.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn non_blank(field: &str, s: &str) -> Result<(), (String, String)> {
    if is_blank(s) {
        Err((field.to_string(), "must not be empty".into()))
    } else {
        Ok(())
    }
}

fn ident(field: &str, s: &str) -> Result<(), (String, String)> {
    check_identifier(s).map_err(|m| (field.to_string(), m))
}

/// Checks the rules of form that serde cannot express: non-empty texts, identifiers, ranges,
/// and that unit-level events go on unit streams and complaint events on complaint streams.
pub fn check_form(e: &NewEvent) -> Result<(), (String, String)> {
    ident("stream", &e.stream)?;
    ident("actor", &e.actor)?;
    let unit_stream = e.stream.strip_prefix(UNIT_STREAM_PREFIX);
    let ty = e.event_type();
    match (ty.is_unit_level(), unit_stream) {
        (true, None) => {
            return Err((
                "stream".into(),
                format!(
                    "`{ty}` events belong on a `unit/<unit-id>` stream, not `{}`",
                    e.stream
                ),
            ))
        }
        (false, Some(_)) => {
            return Err((
                "stream".into(),
                format!(
                    "`{ty}` events belong on a complaint stream, not the unit stream `{}`",
                    e.stream
                ),
            ))
        }
        _ => {}
    }
    match &e.data {
        EventData::Received(d) => {
            non_blank("data.category", &d.category)?;
            non_blank("data.district", &d.district)?;
            non_blank("data.subject", &d.subject)?;
            if let Some(loc) = &d.location {
                if let Some(lat) = loc.lat {
                    if !(-90.0..=90.0).contains(&lat) {
                        return Err((
                            "data.location.lat".into(),
                            format!("{lat} is not a latitude"),
                        ));
                    }
                }
                if let Some(lon) = loc.lon {
                    if !(-180.0..=180.0).contains(&lon) {
                        return Err((
                            "data.location.lon".into(),
                            format!("{lon} is not a longitude"),
                        ));
                    }
                }
            }
        }
        EventData::Forwarded(d) => ident("data.to_unit", &d.to_unit)?,
        EventData::Acknowledged(d) => ident("data.unit", &d.unit)?,
        EventData::ProgressReported(d) => {
            ident("data.unit", &d.unit)?;
            non_blank("data.note", &d.note)?;
            for (i, u) in d.evidence.iter().enumerate() {
                non_blank(&format!("data.evidence[{i}]"), u)?;
            }
        }
        EventData::Closed(d) => {
            if let Some(u) = &d.unit {
                ident("data.unit", u)?;
            }
            non_blank("data.answer", &d.answer)?;
            for (i, u) in d.evidence.iter().enumerate() {
                non_blank(&format!("data.evidence[{i}]"), u)?;
            }
        }
        EventData::Reopened(_) | EventData::SpotChecked(_) => {}
        EventData::Flagged(d) => non_blank("data.note", &d.note)?,
        EventData::Chased(d) => {
            ident("data.unit", &d.unit)?;
            match (d.obligation, d.checkpoint) {
                (ChasedObligation::Checkpoint, None) => {
                    return Err((
                        "data.checkpoint".into(),
                        "is required when the obligation chased is a checkpoint".into(),
                    ))
                }
                (ChasedObligation::Ack | ChasedObligation::FirstProgress, Some(_)) => {
                    return Err((
                        "data.checkpoint".into(),
                        format!(
                            "is only for a checkpoint, not for `{}`",
                            d.obligation.as_str()
                        ),
                    ))
                }
                _ => {}
            }
        }
        EventData::ComplainantInformed(_) => {}
        EventData::FieldInspected(d) => {
            ident("data.office", &d.office)?;
            for (i, u) in d.evidence.iter().enumerate() {
                non_blank(&format!("data.evidence[{i}]"), u)?;
            }
        }
        EventData::Observed(d) => {
            ident("data.source", &d.source)?;
            non_blank("data.state", &d.state)?;
        }
        EventData::MonthlyReportSubmitted(d) => {
            ident("data.unit", &d.unit)?;
            if !is_month(&d.month) {
                return Err((
                    "data.month".into(),
                    format!("`{}` is not a month YYYY-MM", d.month),
                ));
            }
        }
    }
    Ok(())
}

/// The wire-format JSON of an event (the inverse of [`parse_wire_event`]).
pub fn to_wire_json(e: &NewEvent) -> String {
    use serde::ser::{SerializeMap, Serializer};
    let mut out = Vec::with_capacity(512);
    {
        let mut ser = serde_json::Serializer::new(&mut out);
        let mut m = ser.serialize_map(None).expect("vec");
        m.serialize_entry("id", &e.id).expect("vec");
        m.serialize_entry("stream", &e.stream).expect("vec");
        m.serialize_entry("type", e.event_type().as_str())
            .expect("vec");
        m.serialize_entry("occurred_at", &crate::format_instant(&e.occurred_at))
            .expect("vec");
        if let Some(after) = &e.occurred_after {
            m.serialize_entry("occurred_after", &crate::format_instant(after))
                .expect("vec");
        }
        m.serialize_entry("actor", &e.actor).expect("vec");
        m.serialize_entry("data", &e.data).expect("vec");
        if let Some(v) = e.expected_version {
            m.serialize_entry("expected_version", &v).expect("vec");
        }
        m.end().expect("vec");
    }
    String::from_utf8(out).expect("serde_json writes UTF-8")
}
