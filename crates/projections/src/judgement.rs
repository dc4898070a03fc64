//! The four outcomes of an obligation, and instants known to a range.
//!
//! An event may be known only to a range: it happened in (`occurred_after`, `occurred_at`].
//! Its local date is then a range of dates, and a deadline counted from it is a range too.
//! An obligation is judged against those ranges:
//! - `met` when it is met at every instant the data allows (the latest possible fulfilment
//!   meets the earliest possible deadline);
//! - `missed` when it is missed at every instant (the earliest possible fulfilment, or the
//!   earliest possible end of the round without one, is past the latest possible deadline);
//! - `pending` when it is not yet due;
//! - `undetermined` otherwise: the data cannot tell.
//!
//! Exact events make every range a single date, and the four outcomes fall back to met,
//! missed and pending as before.

use calendar::local_date;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::Serialize;

/// How an obligation stands as of the evaluation instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    Met,
    Missed,
    Pending,
    Undetermined,
}

impl Judgement {
    /// The boolean the views have always given: `true` met, `false` missed, `None` pending
    /// or undetermined.
    pub fn on_time(self) -> Option<bool> {
        match self {
            Judgement::Met => Some(true),
            Judgement::Missed => Some(false),
            Judgement::Pending | Judgement::Undetermined => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::Met => "met",
            Judgement::Missed => "missed",
            Judgement::Pending => "pending",
            Judgement::Undetermined => "undetermined",
        }
    }
}

/// An instant as the log knows it: exactly, or in (`after`, `at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub at: DateTime<FixedOffset>,
    pub after: Option<DateTime<FixedOffset>>,
}

impl When {
    pub fn exact(at: DateTime<FixedOffset>) -> When {
        When { at, after: None }
    }

    /// The local dates it may fall on.
    pub fn days(&self) -> Days {
        let hi = local_date(&self.at);
        let lo = match self.after {
            // The range is open at `after`: its earliest instant is just past it.
            Some(a) => local_date(&(a + Duration::nanoseconds(1))).min(hi),
            None => hi,
        };
        Days { lo, hi }
    }
}

/// A range of local dates, both ends included; one date for an exact instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub lo: NaiveDate,
    pub hi: NaiveDate,
}

impl Days {
    pub fn one(d: NaiveDate) -> Days {
        Days { lo: d, hi: d }
    }

    /// The range of `f` over the range, for a monotone `f` (a deadline counted from a date).
    pub fn map(self, f: impl Fn(NaiveDate) -> NaiveDate) -> Days {
        Days {
            lo: f(self.lo),
            hi: f(self.hi),
        }
    }

    pub fn is_exact(&self) -> bool {
        self.lo == self.hi
    }
}

/// An obligation fulfilled on `done` against a deadline `due`.
pub fn fulfilled(done: Days, due: Days) -> Judgement {
    if done.hi <= due.lo {
        Judgement::Met
    } else if done.lo > due.hi {
        Judgement::Missed
    } else {
        Judgement::Undetermined
    }
}

/// The latest date the log is known to tell what happened by: the evaluation date, or the
/// date its record of the complaint is known complete up to, if earlier.
pub fn seen_by(as_of: NaiveDate, known_until: Option<NaiveDate>) -> NaiveDate {
    known_until.map_or(as_of, |k| k.min(as_of))
}

/// An obligation not fulfilled: in a round that ended on `ended` without it, or, while the
/// round is open (`ended` is `None`), as of the evaluation date. `None` when there was no
/// duty: the round ended on or before the deadline. `known_until` is the date up to which
/// the log is known to be complete for the complaint (its latest observation in the outside
/// system it comes from), `None` when the log is its whole record: an open round is missed
/// only if the deadline had passed by then.
pub fn unfulfilled(
    due: Days,
    ended: Option<Days>,
    as_of: NaiveDate,
    known_until: Option<NaiveDate>,
) -> Option<Judgement> {
    let seen = seen_by(as_of, known_until);
    match ended {
        Some(end) if end.lo > due.hi => Some(Judgement::Missed),
        Some(end) if end.hi <= due.lo => None,
        Some(_) => Some(Judgement::Undetermined),
        None if seen > due.hi => Some(Judgement::Missed),
        None if as_of <= due.lo => Some(Judgement::Pending),
        None => Some(Judgement::Undetermined),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn days(a: &str, b: &str) -> Days {
        Days { lo: d(a), hi: d(b) }
    }

    #[test]
    fn the_range_starts_just_after_occurred_after() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        // 16:59:59 UTC is 23:59:59 in Bangkok: the earliest possible instant is that day.
        let w = When {
            at: t("2024-01-03T02:00:00Z"),
            after: Some(t("2024-01-01T16:59:59Z")),
        };
        assert_eq!(w.days(), days("2024-01-01", "2024-01-03"));
        // 17:00:00 UTC is midnight: the range (midnight, ...] starts on the next day.
        let w = When {
            at: t("2024-01-03T02:00:00Z"),
            after: Some(t("2024-01-01T17:00:00Z")),
        };
        assert_eq!(w.days(), days("2024-01-02", "2024-01-03"));
        assert!(When::exact(t("2024-01-03T02:00:00Z")).days().is_exact());
    }

    #[test]
    fn four_outcomes() {
        let due = days("2024-01-10", "2024-01-12");
        assert_eq!(
            fulfilled(days("2024-01-08", "2024-01-10"), due),
            Judgement::Met
        );
        assert_eq!(
            fulfilled(days("2024-01-13", "2024-01-20"), due),
            Judgement::Missed
        );
        assert_eq!(
            fulfilled(days("2024-01-09", "2024-01-11"), due),
            Judgement::Undetermined
        );
        // Met only if met at the deadline's earliest end.
        assert_eq!(
            fulfilled(Days::one(d("2024-01-11")), due),
            Judgement::Undetermined
        );
        let open =
            |as_of: &str, known: Option<&str>| unfulfilled(due, None, d(as_of), known.map(d));
        assert_eq!(open("2024-01-10", None), Some(Judgement::Pending));
        assert_eq!(open("2024-01-11", None), Some(Judgement::Undetermined));
        assert_eq!(open("2024-01-13", None), Some(Judgement::Missed));
        // Known only until an observation: missed only if due before it.
        assert_eq!(
            open("2024-02-01", Some("2024-01-12")),
            Some(Judgement::Undetermined)
        );
        assert_eq!(
            open("2024-02-01", Some("2024-01-13")),
            Some(Judgement::Missed)
        );
        assert_eq!(
            open("2024-01-09", Some("2024-01-05")),
            Some(Judgement::Pending)
        );
        let ended = |a: &str, b: &str| unfulfilled(due, Some(days(a, b)), d("2024-02-01"), None);
        assert_eq!(ended("2024-01-05", "2024-01-10"), None);
        assert_eq!(
            ended("2024-01-05", "2024-01-11"),
            Some(Judgement::Undetermined)
        );
        assert_eq!(ended("2024-01-13", "2024-01-14"), Some(Judgement::Missed));
    }
}
