//! One ticket as a source shows it: what it is (`Ticket`, the same in every sighting) and what
//! one capture saw of its state (`Sighting`).

use chrono::{DateTime, FixedOffset};

use crate::states::{Phase, TimelineStatus};
use crate::time::Span;

/// What a ticket is: taken from its first sighting.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub ticket_id: String,
    pub types: Vec<String>,
    pub organizations: Vec<String>,
    pub comment: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: String,
    /// The district's Thai name without `เขต`, when known.
    pub district: Option<String>,
    pub province: Option<String>,
    /// When the ticket was filed.
    pub timestamp: Span,
}

/// When a capture was taken, as far as it is known: at or after `after` (the newest time the
/// capture itself holds) and at or before `by` (the time in an archive member's name, or the
/// `--observed-at` a user gives).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capture {
    pub after: Option<DateTime<FixedOffset>>,
    pub by: Option<DateTime<FixedOffset>>,
}

/// Where a record is: the part of the file (an archive member, 0 for a plain file) and its
/// line (CSV) or its place in the list (JSON, spreadsheet rows), 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub part: u32,
    pub line: u64,
}

/// What one capture saw of a ticket's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub place: Place,
    pub state: String,
    pub phase: Phase,
    pub count_reopen: Option<u32>,
    pub last_activity: Option<Span>,
    /// `timestamp_inprogress`: when it was taken, exactly.
    pub in_progress_at: Option<Span>,
    /// `timestamp_finished`: when it was finished, exactly.
    pub finished_at: Option<Span>,
    /// Timeline entries a page showed (the web scrape's `ForwardedStatus`).
    pub timeline: Vec<(TimelineStatus, Span)>,
    pub capture: Capture,
}

impl Sighting {
    /// A sighting of `state` (in `phase`) with no times beyond the ticket's own; its capture
    /// is set when its part is read whole.
    pub fn of(place: Place, state: String, phase: Phase) -> Sighting {
        Sighting {
            place,
            state,
            phase,
            count_reopen: None,
            last_activity: None,
            in_progress_at: None,
            finished_at: None,
            timeline: vec![],
            capture: Capture::default(),
        }
    }

    /// The latest instant this sighting shows activity at (its last activity, or its newest
    /// timeline entry), if any.
    pub fn newest_time(&self) -> Option<DateTime<FixedOffset>> {
        self.last_activity
            .iter()
            .chain(self.in_progress_at.iter())
            .chain(self.finished_at.iter())
            .chain(self.timeline.iter().map(|(_, s)| s))
            .map(|s| s.at)
            .max()
    }
}

/// A record: the ticket and what was seen of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub ticket: Ticket,
    pub sighting: Sighting,
}

/// A record that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub place: Place,
    pub ticket_id: Option<String>,
    pub reason: String,
}

/// The stream of a ticket.
pub fn stream_of(ticket_id: &str) -> String {
    format!("traffy:{ticket_id}")
}
