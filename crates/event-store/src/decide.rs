//! The append decisions every backend shares, pure: what a stream must be for an event to be
//! appended to it (expected version, time order, the lifecycle), how a stream's head moves,
//! and whether an event whose id is taken is an idempotent repeat or a conflict. A backend
//! supplies the stored facts (a stream's head, the stored event of an id) and the
//! transaction; the decisions are made here, once.

use chrono::{DateTime, FixedOffset};
use event_model::{
    format_instant, upcast, CanonicalFields, EventData, EventType, NewEvent, SCHEMA_VERSION,
    UNIT_STREAM_PREFIX,
};
use lifecycle::Lifecycle;

use crate::error::{AppendErrorKind, StoreError};
use crate::Appended;

/// What the store knows of a stream while appending to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    /// Its last version (0 for a new stream).
    pub version: u64,
    /// Its latest `occurred_at`: the next event may not be earlier.
    pub last_occurred_at: Option<DateTime<FixedOffset>>,
    /// Its lifecycle state (complaint streams).
    pub lifecycle: Lifecycle,
}

impl StreamHead {
    /// A stream with no event yet.
    pub fn new() -> StreamHead {
        StreamHead {
            version: 0,
            last_occurred_at: None,
            lifecycle: Lifecycle::default(),
        }
    }

    /// Moves the head past an event of the stream (stored at `version`).
    pub fn advance(
        &mut self,
        stream: &str,
        version: u64,
        occurred_at: DateTime<FixedOffset>,
        data: &EventData,
    ) {
        if !is_unit_stream(stream) {
            lifecycle::evolve(&mut self.lifecycle, data);
        }
        self.version = version;
        self.last_occurred_at = Some(occurred_at);
    }
}

/// One stored event of a stream, as a backend reads it to rebuild the stream's head.
pub struct StoredStep<'a> {
    pub position: u64,
    pub version: u64,
    pub event_type: &'a str,
    pub occurred_at: &'a str,
    pub data: &'a str,
    pub schema_version: u32,
}

impl StreamHead {
    /// Moves the head past a stored event of `stream` (read in version order).
    pub fn apply_stored(&mut self, stream: &str, step: StoredStep<'_>) -> Result<(), StoreError> {
        let corrupt = |message: String| StoreError::Corrupt {
            position: step.position,
            message,
        };
        self.version = step.version;
        self.last_occurred_at = Some(
            DateTime::parse_from_rfc3339(step.occurred_at)
                .map_err(|e| corrupt(format!("occurred_at: {e}")))?,
        );
        if !is_unit_stream(stream) {
            let ty = EventType::parse(step.event_type)
                .ok_or_else(|| corrupt(format!("unknown type `{}`", step.event_type)))?;
            let data = upcast(step.schema_version, ty, step.data).map_err(corrupt)?;
            let data = EventData::from_json(ty, data)
                .map_err(|e| corrupt(format!("data.{}: {}", e.path, e.message)))?;
            lifecycle::evolve(&mut self.lifecycle, &data);
        }
        Ok(())
    }
}

impl Default for StreamHead {
    fn default() -> Self {
        StreamHead::new()
    }
}

/// Whether a stream is a unit's (`unit/<unit-id>`) rather than a complaint's.
pub fn is_unit_stream(stream: &str) -> bool {
    stream.starts_with(UNIT_STREAM_PREFIX)
}

/// The checks an event must pass against its stream: expected version, time order, and the
/// lifecycle rules (of a complaint, or of a unit's own stream).
pub fn check(sh: &StreamHead, ev: &NewEvent) -> Result<(), AppendErrorKind> {
    if let Some(expected) = ev.expected_version {
        if expected != sh.version {
            return Err(AppendErrorKind::VersionConflict {
                stream: ev.stream.clone(),
                expected,
                actual: sh.version,
            });
        }
    }
    if let Some(prev) = sh.last_occurred_at {
        if ev.occurred_at < prev {
            return Err(AppendErrorKind::OutOfOrder {
                stream: ev.stream.clone(),
                occurred_at: format_instant(&ev.occurred_at),
                previous: format_instant(&prev),
            });
        }
    }
    match ev.stream.strip_prefix(UNIT_STREAM_PREFIX) {
        Some(unit) => lifecycle::validate_unit_event(unit, &ev.data),
        None => lifecycle::validate(&ev.stream, &sh.lifecycle, &ev.data),
    }
    .map_err(AppendErrorKind::Rejected)
}

/// A new event's texts as the log stores them and its hash covers.
pub struct EventTexts {
    pub event_type: EventType,
    /// The payload's canonical JSON.
    pub data: String,
    pub occurred_at: String,
    pub occurred_after: Option<String>,
}

/// The content of a stored event that a repeat must match.
pub struct StoredContent<'a> {
    pub stream: &'a str,
    pub event_type: &'a str,
    pub occurred_at: &'a str,
    pub actor: &'a str,
    pub data: &'a str,
    pub occurred_after: Option<&'a str>,
}

impl EventTexts {
    pub fn of(ev: &NewEvent) -> EventTexts {
        EventTexts {
            event_type: ev.event_type(),
            data: ev.data.to_canonical_json(),
            occurred_at: format_instant(&ev.occurred_at),
            occurred_after: ev.occurred_after.as_ref().map(format_instant),
        }
    }

    /// The fields the hash covers, for `ev` stored at `position` as version `version` of its
    /// stream, in a batch recorded at `recorded_at`.
    pub fn fields<'a>(
        &'a self,
        ev: &'a NewEvent,
        position: u64,
        version: u64,
        recorded_at: &'a str,
    ) -> CanonicalFields<'a> {
        CanonicalFields {
            position,
            id: &ev.id,
            stream: &ev.stream,
            version,
            event_type: self.event_type.as_str(),
            occurred_at: &self.occurred_at,
            occurred_after: self.occurred_after.as_deref(),
            recorded_at,
            actor: &ev.actor,
            schema_version: SCHEMA_VERSION,
            data: &self.data,
        }
    }

    /// Whether a stored event of the same id holds exactly `ev`'s content (an idempotent
    /// repeat) rather than other content (a conflict).
    pub fn same_as(&self, ev: &NewEvent, stored: StoredContent<'_>) -> bool {
        stored.stream == ev.stream
            && stored.event_type == self.event_type.as_str()
            && stored.occurred_at == self.occurred_at
            && stored.actor == ev.actor
            && stored.data == self.data
            && stored.occurred_after == self.occurred_after.as_deref()
    }
}

/// An event whose id is already stored (at `position`, `version`): an idempotent repeat when
/// the stored content is the same (`same`), else an id conflict.
pub fn repeat_or_conflict(
    same: bool,
    position: u64,
    version: u64,
) -> Result<Appended, AppendErrorKind> {
    if same {
        Ok(Appended {
            position,
            version,
            duplicate: true,
        })
    } else {
        Err(AppendErrorKind::IdConflict { position })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_model::{Acknowledged, MonthlyReportSubmitted};

    fn ev(stream: &str, minute: u32, data: EventData) -> NewEvent {
        NewEvent {
            id: uuid::Uuid::nil(),
            stream: stream.into(),
            occurred_at: DateTime::parse_from_rfc3339(&format!(
                "2024-03-01T09:{minute:02}:00+07:00"
            ))
            .unwrap(),
            occurred_after: None,
            actor: "t".into(),
            data,
            expected_version: None,
        }
    }

    #[test]
    fn decisions_on_a_stream() {
        let ack = EventData::Acknowledged(Acknowledged { unit: "u".into() });
        let mut sh = StreamHead::new();
        // A complaint stream starts with `received`.
        assert!(matches!(
            check(&sh, &ev("C", 1, ack.clone())),
            Err(AppendErrorKind::Rejected(_))
        ));
        let report = EventData::MonthlyReportSubmitted(MonthlyReportSubmitted {
            month: "2024-02".into(),
            unit: "district:a".into(),
        });
        // A unit's stream takes its own reports, not another unit's.
        assert!(check(&sh, &ev("unit/district:a", 1, report.clone())).is_ok());
        assert!(check(&sh, &ev("unit/district:b", 1, report.clone())).is_err());
        sh.advance(
            "unit/district:a",
            1,
            ev("x", 10, ack.clone()).occurred_at,
            &report,
        );
        assert_eq!(sh.version, 1);
        // Earlier than the stream's last: out of order; a wrong expected version: conflict.
        let early = ev("unit/district:a", 5, report.clone());
        assert!(matches!(
            check(&sh, &early),
            Err(AppendErrorKind::OutOfOrder { .. })
        ));
        let mut stale = ev("unit/district:a", 20, report);
        stale.expected_version = Some(0);
        assert!(matches!(
            check(&sh, &stale),
            Err(AppendErrorKind::VersionConflict {
                expected: 0,
                actual: 1,
                ..
            })
        ));
        assert_eq!(repeat_or_conflict(true, 7, 2).unwrap().position, 7);
        assert!(matches!(
            repeat_or_conflict(false, 7, 2),
            Err(AppendErrorKind::IdConflict { position: 7 })
        ));
    }
}
