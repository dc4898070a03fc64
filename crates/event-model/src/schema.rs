//! JSON Schemas (draft 2020-12) of the wire format, generated from the Rust types.
//!
//! `schemas/events/` holds the generated files; a test regenerates them and fails on drift.

use schemars::{schema_for, JsonSchema};

use crate::types::*;

/// The input envelope as JSON Schema sees it: `data` is an object whose shape depends on
/// `type` (see the per-type schemas).
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Rongtook input event",
    description = "One event as a sender submits it (an NDJSON line or an element of an HTTP batch). `data` is validated against the schema of its `type`."
)]
struct InputEnvelope {
    /// UUID chosen by the sender (UUIDv7 recommended): the idempotency key.
    id: uuid::Uuid,
    /// A complaint id, or `unit/<unit-id>` for unit-level events.
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    stream: String,
    #[serde(rename = "type")]
    event_type: EventType,
    /// RFC 3339 instant with an offset.
    occurred_at: chrono::DateTime<chrono::FixedOffset>,
    /// Only for an event whose instant is known to a range: it happened after this instant
    /// and at or before `occurred_at`. Must be earlier than `occurred_at`. Absent for an exact
    /// event.
    #[serde(default)]
    occurred_after: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Who recorded the event.
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    actor: String,
    /// The payload; its schema is `<type>.schema.json`.
    data: serde_json::Map<String, serde_json::Value>,
    /// The stream version the sender last saw; 0 for a new stream.
    #[serde(default)]
    expected_version: Option<u64>,
}

/// The stored/output envelope.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Rongtook stored event",
    description = "An event as the log holds and outputs it."
)]
struct StoredEnvelope {
    /// Global position in the log, 1-based.
    position: u64,
    id: uuid::Uuid,
    stream: String,
    /// Version within the stream, 1-based.
    version: u64,
    #[serde(rename = "type")]
    event_type: EventType,
    occurred_at: chrono::DateTime<chrono::FixedOffset>,
    /// Present only for an event known to a range: (`occurred_after`, `occurred_at`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurred_after: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Set by the store when the event was appended.
    recorded_at: chrono::DateTime<chrono::FixedOffset>,
    actor: String,
    schema_version: u32,
    data: serde_json::Map<String, serde_json::Value>,
    /// Hex SHA-256 of the previous event (64 zeros for the first).
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    prev_hash: String,
    /// Hex SHA-256(prev_hash || canonical bytes of this event).
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    hash: String,
}

fn pretty<T: JsonSchema>() -> String {
    let schema = schema_for!(T);
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serialises");
    s.push('\n');
    s
}

/// Every schema file as `(file name, content)`.
pub fn all_schemas() -> Vec<(String, String)> {
    let mut out = vec![
        (
            "envelope.schema.json".to_string(),
            pretty::<InputEnvelope>(),
        ),
        (
            "stored-envelope.schema.json".to_string(),
            pretty::<StoredEnvelope>(),
        ),
    ];
    for t in EventType::ALL {
        let body = match t {
            EventType::Received => pretty::<Received>(),
            EventType::Forwarded => pretty::<Forwarded>(),
            EventType::Acknowledged => pretty::<Acknowledged>(),
            EventType::ProgressReported => pretty::<ProgressReported>(),
            EventType::Closed => pretty::<Closed>(),
            EventType::Reopened => pretty::<Reopened>(),
            EventType::SpotChecked => pretty::<SpotChecked>(),
            EventType::MonthlyReportSubmitted => pretty::<MonthlyReportSubmitted>(),
            EventType::Observed => pretty::<Observed>(),
            EventType::Flagged => pretty::<Flagged>(),
            EventType::Chased => pretty::<Chased>(),
            EventType::ComplainantInformed => pretty::<ComplainantInformed>(),
            EventType::FieldInspected => pretty::<FieldInspected>(),
        };
        out.push((format!("{}.schema.json", t.as_str()), body));
    }
    out
}
