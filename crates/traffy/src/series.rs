//! A ticket's sightings, in capture order, become lifecycle steps with the times the data
//! supports: an instant it holds (`timestamp`, `timestamp_inprogress`, `timestamp_finished`, a
//! timeline entry), else a range (after the last sighting of the old state, at or before the
//! first sighting of the new one, narrowed by its `last_activity`), never an invented instant.

use chrono::{DateTime, Duration, FixedOffset};
use event_model::{EventData, Outcome, RecordedEvent};

use crate::record::{Sighting, Ticket};
use crate::states::{Phase, TimelineStatus};
use crate::time::Span;

/// A lifecycle step, in the log's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Received,
    Forwarded,
    Acknowledged,
    /// Closed `resolved` by the unit.
    Finished,
    /// Closed `not_actionable` by the centre.
    Irrelevant,
    Reopened,
}

/// What the log already holds of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prior {
    /// Events in its stream.
    pub events: usize,
    pub acked: bool,
    pub closed: bool,
    pub reopens: u32,
    /// The latest lower bound of its events: a later change happened after it.
    pub lo: DateTime<FixedOffset>,
    /// The latest `occurred_at` of its events (the next event may not be earlier).
    pub last_at: DateTime<FixedOffset>,
}

impl Prior {
    /// The state of a ticket's stream, from its stored events.
    pub fn of(events: &[RecordedEvent]) -> Option<Prior> {
        let first = events.first()?;
        let mut p = Prior {
            events: 0,
            acked: false,
            closed: false,
            reopens: 0,
            lo: first.occurred_after.unwrap_or(first.occurred_at),
            last_at: first.occurred_at,
        };
        for e in events {
            p.events += 1;
            p.lo = p.lo.max(e.occurred_after.unwrap_or(e.occurred_at));
            p.last_at = p.last_at.max(e.occurred_at);
            match &e.data {
                EventData::Acknowledged(_) => p.acked = true,
                EventData::Closed(_) => p.closed = true,
                EventData::Reopened(_) => {
                    p.reopens += 1;
                    p.closed = false;
                    p.acked = false;
                }
                EventData::Forwarded(_) => p.acked = false,
                _ => {}
            }
        }
        Some(p)
    }
}

/// What became of one sighting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// It showed a change: this many steps.
    Changed(usize),
    /// It showed nothing new (the log or an earlier sighting already holds its state).
    Unchanged,
    /// Captured before what the log already holds of the ticket.
    Stale,
    /// Its change cannot be placed in time.
    Refused(String),
}

/// The ticket's steps (continuing after `prior`, if the log holds the ticket) and one fate per
/// sighting. `sightings` are in capture order.
pub fn lifecycle(
    ticket: &Ticket,
    sightings: &[Sighting],
    prior: Option<Prior>,
) -> (Vec<(Step, Span)>, Vec<Fate>) {
    let mut b = Builder {
        steps: Vec::new(),
        acked: false,
        closed: false,
        reopens: 0,
        lo: ticket.timestamp.lo(),
        last_at: ticket.timestamp.at,
    };
    let stale_before = match prior {
        Some(p) => {
            b.acked = p.acked;
            b.closed = p.closed;
            b.reopens = p.reopens;
            b.lo = p.lo;
            b.last_at = p.last_at;
            Some(p.lo)
        }
        None => {
            b.push(Step::Received, ticket.timestamp);
            b.push(Step::Forwarded, ticket.timestamp);
            None
        }
    };
    let mut fates = Vec::with_capacity(sightings.len());
    for (i, s) in sightings.iter().enumerate() {
        // The first sighting of a ticket new to the log brings its receipt and forward too.
        let before = if i == 0 && prior.is_none() {
            0
        } else {
            b.steps.len()
        };
        // The newest time this sighting vouches for: it was captured at or after it.
        let seen = s.capture.by.or(s.newest_time());
        if let (Some(limit), Some(seen)) = (stale_before, seen) {
            if seen < limit && b.shows_other(s) {
                fates.push(Fate::Stale);
                continue;
            }
        }
        match b.apply(ticket, s) {
            Ok(()) => fates.push(if b.steps.len() > before {
                Fate::Changed(b.steps.len() - before)
            } else {
                Fate::Unchanged
            }),
            Err(why) => {
                b.steps
                    .truncate(before.max(2 * usize::from(prior.is_none())));
                fates.push(Fate::Refused(why));
            }
        }
    }
    (b.steps, fates)
}

struct Builder {
    steps: Vec<(Step, Span)>,
    acked: bool,
    closed: bool,
    reopens: u32,
    /// A later change happened after this instant.
    lo: DateTime<FixedOffset>,
    /// The latest `occurred_at` so far: steps keep time order.
    last_at: DateTime<FixedOffset>,
}

impl Builder {
    /// Adds a step, keeping time order: a span that would end before the previous step is
    /// widened to end with it (still holding every instant the data allows).
    fn push(&mut self, step: Step, span: Span) {
        let span = if span.at < self.last_at {
            Span {
                at: self.last_at,
                after: Some(span.lo() - Duration::microseconds(1)),
            }
        } else {
            span
        };
        self.last_at = span.at;
        self.steps.push((step, span));
    }

    /// Whether the sighting shows a state other than the one built so far.
    fn shows_other(&self, s: &Sighting) -> bool {
        match s.phase {
            Phase::Finished | Phase::Irrelevant => !self.closed,
            Phase::InProgress => self.closed || !self.acked,
            Phase::Waiting | Phase::Forwarded => self.closed,
        }
    }

    /// The range a change seen in `s` happened in: after `lo`, at or before the sighting's last
    /// activity or capture. A last activity not after `lo` (the platform's servers' clocks
    /// differ by milliseconds) places the change at `lo`, the instant the data gives.
    fn range(&self, s: &Sighting) -> Result<Span, String> {
        let hi = [s.last_activity.map(|l| l.at), s.capture.by]
            .into_iter()
            .flatten()
            .min()
            .ok_or_else(|| {
                format!(
                    "state `{}` is a change, and nothing in the record bounds when it happened (no last_activity): give --observed-at",
                    s.state
                )
            })?;
        Ok(if hi <= self.lo {
            Span::exact(self.lo)
        } else {
            Span {
                at: hi,
                after: Some(self.lo),
            }
        })
    }

    /// One more round the data counts but does not show: taken, finished, reopened and
    /// forwarded again, all in `span`.
    fn hidden_round(&mut self, span: Span) {
        if !self.closed {
            if !self.acked {
                self.push(Step::Acknowledged, span);
            }
            self.push(Step::Finished, span);
        }
        self.reopen(span);
    }

    fn reopen(&mut self, span: Span) {
        self.push(Step::Reopened, span);
        self.push(Step::Forwarded, span);
        self.reopens += 1;
        self.closed = false;
        self.acked = false;
    }

    fn apply(&mut self, ticket: &Ticket, s: &Sighting) -> Result<(), String> {
        // Timeline entries first: exact to what the page showed.
        let mut entries = s.timeline.clone();
        entries.sort_by_key(|(_, w)| w.at);
        for (status, when) in entries {
            match status {
                TimelineStatus::Reopened => {
                    if !self.closed {
                        // Finished before it could be reopened: between the last known
                        // instant and the reopen.
                        let before = Span {
                            at: when.at,
                            after: Some(self.lo),
                        };
                        self.hidden_round_before(before);
                    }
                    self.reopen(when);
                }
                TimelineStatus::Phase(p) => self.enter(p, Ok(when), None)?,
            }
            self.lo = self.lo.max(when.lo());
        }
        // Rounds the reopen count has and the sightings do not show.
        let reopens_now = self.reopens + u32::from(self.closed && !s.phase.is_closed());
        let hidden = s.count_reopen.unwrap_or(0).saturating_sub(reopens_now);
        if hidden > 0 {
            let span = self.range(s)?;
            for _ in 0..hidden {
                self.hidden_round(span);
            }
        }
        let range = self.range(s);
        self.enter(s.phase, range, Some(s))?;
        // The next change happens after this capture.
        let _ = ticket;
        let seen = [s.capture.after, s.last_activity.map(|l| l.lo())]
            .into_iter()
            .flatten()
            .max();
        if let Some(t) = seen {
            self.lo = self.lo.max(t);
        }
        Ok(())
    }

    fn hidden_round_before(&mut self, span: Span) {
        if !self.acked {
            self.push(Step::Acknowledged, span);
        }
        self.push(Step::Finished, span);
        self.closed = true;
    }

    /// Moves to phase `p`, its steps in `range` unless the sighting holds their exact instants.
    fn enter(
        &mut self,
        p: Phase,
        range: Result<Span, String>,
        s: Option<&Sighting>,
    ) -> Result<(), String> {
        let exact_ack = s.and_then(|s| s.in_progress_at);
        let exact_close = s.and_then(|s| s.finished_at);
        match p {
            Phase::Waiting | Phase::Forwarded => {
                if self.closed {
                    self.reopen(range?);
                }
            }
            Phase::InProgress => {
                if self.closed {
                    self.reopen(range.clone()?);
                }
                if !self.acked {
                    self.push(Step::Acknowledged, exact_ack.map_or(range, Ok)?);
                    self.acked = true;
                }
            }
            Phase::Finished => {
                if !self.closed {
                    if !self.acked {
                        // Taken at or before the close, when only the close's instant is known.
                        let before_close = exact_close.map(|c| Span {
                            at: c.at,
                            after: Some(self.lo.min(c.lo())),
                        });
                        let span = match (exact_ack, &range, before_close) {
                            (Some(a), _, _) => a,
                            (None, Ok(r), _) => *r,
                            (None, Err(_), Some(c)) => c,
                            (None, Err(e), None) => return Err(e.clone()),
                        };
                        self.push(Step::Acknowledged, span);
                        self.acked = true;
                    }
                    self.push(Step::Finished, exact_close.map_or(range, Ok)?);
                    self.closed = true;
                }
            }
            Phase::Irrelevant => {
                if !self.closed {
                    self.push(Step::Irrelevant, exact_close.map_or(range, Ok)?);
                    self.closed = true;
                }
            }
        }
        Ok(())
    }
}

/// The outcome of a closing step.
pub fn outcome_of(step: Step) -> Option<Outcome> {
    match step {
        Step::Finished => Some(Outcome::Resolved),
        Step::Irrelevant => Some(Outcome::NotActionable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Capture, Place};
    use crate::time::Span;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn ticket() -> Ticket {
        Ticket {
            ticket_id: "2023-X".into(),
            types: vec![],
            organizations: vec!["เขตบางรัก".into()],
            comment: "c".into(),
            lon: None,
            lat: None,
            address: String::new(),
            district: Some("บางรัก".into()),
            province: Some("กรุงเทพมหานคร".into()),
            timestamp: Span::exact(t("2023-05-01T01:00:00Z")),
        }
    }

    fn seen(state: Phase, last: &str, by: Option<&str>, reopen: u32) -> Sighting {
        Sighting {
            place: Place { part: 0, line: 2 },
            state: format!("{state:?}"),
            phase: state,
            count_reopen: Some(reopen),
            last_activity: Some(Span::exact(t(last))),
            in_progress_at: None,
            finished_at: None,
            timeline: vec![],
            capture: Capture {
                after: Some(t(last)),
                by: by.map(t),
            },
        }
    }

    #[test]
    fn a_final_state_seen_once_happened_between_receipt_and_last_activity() {
        let (steps, fates) = lifecycle(
            &ticket(),
            &[seen(Phase::Finished, "2023-05-03T04:00:00Z", None, 0)],
            None,
        );
        let kinds: Vec<Step> = steps.iter().map(|s| s.0).collect();
        assert_eq!(
            kinds,
            [
                Step::Received,
                Step::Forwarded,
                Step::Acknowledged,
                Step::Finished
            ]
        );
        assert!(steps[0].1.is_exact() && steps[1].1.is_exact());
        for (_, s) in &steps[2..] {
            assert_eq!(
                (s.after, s.at),
                (Some(t("2023-05-01T01:00:00Z")), t("2023-05-03T04:00:00Z"))
            );
        }
        assert_eq!(fates, [Fate::Changed(4)]);
    }

    #[test]
    fn a_series_bounds_each_change_by_the_captures_around_it() {
        let s = [
            seen(
                Phase::Waiting,
                "2023-05-01T01:00:00Z",
                Some("2023-05-01T02:00:00Z"),
                0,
            ),
            seen(
                Phase::Waiting,
                "2023-05-01T01:00:00Z",
                Some("2023-05-02T02:00:00Z"),
                0,
            ),
            seen(
                Phase::InProgress,
                "2023-05-02T09:00:00Z",
                Some("2023-05-02T14:00:00Z"),
                0,
            ),
            seen(
                Phase::Finished,
                "2023-05-04T09:00:00Z",
                Some("2023-05-05T02:00:00Z"),
                0,
            ),
            // Finished, then waiting again: a reopen.
            seen(
                Phase::Waiting,
                "2023-05-06T09:00:00Z",
                Some("2023-05-07T02:00:00Z"),
                1,
            ),
        ];
        let (steps, fates) = lifecycle(&ticket(), &s, None);
        let kinds: Vec<Step> = steps.iter().map(|s| s.0).collect();
        assert_eq!(
            kinds,
            [
                Step::Received,
                Step::Forwarded,
                Step::Acknowledged,
                Step::Finished,
                Step::Reopened,
                Step::Forwarded
            ]
        );
        // Taken after the last capture still waiting (its newest time, 01:00), at or before
        // the last activity of the first capture in progress.
        assert_eq!(
            (steps[2].1.after, steps[2].1.at),
            (Some(t("2023-05-01T01:00:00Z")), t("2023-05-02T09:00:00Z"))
        );
        assert_eq!(
            (steps[3].1.after, steps[3].1.at),
            (Some(t("2023-05-02T09:00:00Z")), t("2023-05-04T09:00:00Z"))
        );
        assert_eq!(
            (steps[4].1.after, steps[4].1.at),
            (Some(t("2023-05-04T09:00:00Z")), t("2023-05-06T09:00:00Z"))
        );
        assert_eq!(
            fates,
            [
                Fate::Changed(2),
                Fate::Unchanged,
                Fate::Changed(1),
                Fate::Changed(1),
                Fate::Changed(2)
            ]
        );
    }

    #[test]
    fn reopen_counts_add_the_rounds_not_seen_and_exact_times_win() {
        let mut s = seen(Phase::Finished, "2023-05-03T04:00:00Z", None, 2);
        s.in_progress_at = Some(Span::exact(t("2023-05-01T03:00:00Z")));
        let (steps, _) = lifecycle(&ticket(), &[s], None);
        let kinds: Vec<Step> = steps.iter().map(|s| s.0).collect();
        assert_eq!(kinds.iter().filter(|k| **k == Step::Reopened).count(), 2);
        assert_eq!(kinds.last(), Some(&Step::Finished));
        assert!(steps.windows(2).all(|w| w[0].1.at <= w[1].1.at));
        // Every inferred step carries a range.
        assert!(steps[2..].iter().all(|(_, s)| s.after.is_some()));
    }

    #[test]
    fn a_change_with_nothing_to_bound_it_is_refused_and_clock_skew_is_not() {
        let mut s = seen(Phase::Finished, "2023-05-03T04:00:00Z", None, 0);
        s.last_activity = None;
        s.capture.by = None;
        let (steps, fates) = lifecycle(&ticket(), &[s], None);
        assert_eq!(steps.len(), 2);
        assert!(matches!(&fates[0], Fate::Refused(w) if w.contains("--observed-at")));
        // last_activity a few milliseconds before the receipt: the change is at the receipt.
        let s = seen(Phase::Finished, "2023-05-01T00:59:59.990Z", None, 0);
        let (steps, _) = lifecycle(&ticket(), &[s], None);
        assert_eq!(steps[3].1, Span::exact(t("2023-05-01T01:00:00Z")));
    }

    #[test]
    fn an_older_capture_than_the_log_is_stale() {
        let prior = Prior {
            events: 4,
            acked: true,
            closed: true,
            reopens: 0,
            lo: t("2023-05-04T00:00:00Z"),
            last_at: t("2023-05-04T09:00:00Z"),
        };
        let s = seen(
            Phase::Waiting,
            "2023-05-01T01:00:00Z",
            Some("2023-05-02T00:00:00Z"),
            0,
        );
        let (steps, fates) = lifecycle(&ticket(), &[s], Some(prior));
        assert!(steps.is_empty());
        assert_eq!(fates, [Fate::Stale]);
    }
}
