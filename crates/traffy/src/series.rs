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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Received,
    Forwarded,
    Acknowledged,
    /// Closed `resolved` by the unit.
    Finished,
    /// Closed `not_actionable` by the centre.
    Irrelevant,
    Reopened,
    /// Seen in this state (the platform's label) at the capture: the log's record of the
    /// ticket reaches this far.
    Observed(String),
}

/// What the log already holds of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Its latest observation, if any.
    pub observed: Option<DateTime<FixedOffset>>,
    /// The unit of its latest forward, and whether it is external.
    pub unit: Option<(String, bool)>,
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
            observed: None,
            unit: None,
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
                EventData::Forwarded(f) => {
                    p.acked = false;
                    p.unit = Some((f.to_unit.clone(), f.external));
                }
                EventData::Observed(_) => {
                    p.observed = Some(e.occurred_after.unwrap_or(e.occurred_at))
                }
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
        receipt: ticket.timestamp.lo(),
        observed: None,
        steps: Vec::new(),
        acked: false,
        closed: false,
        reopens: 0,
        lo: ticket.timestamp.lo(),
        last_at: ticket.timestamp.at,
    };
    let stale_before = match prior {
        Some(ref p) => {
            b.observed = p.observed;
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
        // Stale: shows another state than the log, and nothing shows it was captured after
        // the log's latest change (captured at or after `seen`, its newest time).
        let seen = [s.capture.after, s.newest_time()]
            .into_iter()
            .flatten()
            .max();
        if let (Some(limit), Some(seen)) = (stale_before, seen) {
            if seen <= limit && b.shows_other(s) {
                fates.push(Fate::Stale);
                continue;
            }
        }
        match b.apply(s) {
            Ok(()) => {
                // The last sighting before a change, and the last of all, say how far the
                // record reaches.
                let last_of_run = sightings
                    .get(i + 1)
                    .is_none_or(|next| b.shows_other(next) || next_changes(s, next));
                if last_of_run {
                    b.observe(s);
                }
                fates.push(if b.steps.len() > before {
                    Fate::Changed(b.steps.len() - before)
                } else {
                    Fate::Unchanged
                })
            }
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
    /// The receipt's (earliest) instant.
    receipt: DateTime<FixedOffset>,
    /// The latest observation so far.
    observed: Option<DateTime<FixedOffset>>,
    steps: Vec<(Step, Span)>,
    acked: bool,
    closed: bool,
    reopens: u32,
    /// A later change happened after this instant.
    lo: DateTime<FixedOffset>,
    /// The latest `occurred_at` so far: steps keep time order.
    last_at: DateTime<FixedOffset>,
}

/// Whether `next` says more than `s` beyond its state: more reopens, or instants of its own.
fn next_changes(s: &Sighting, next: &Sighting) -> bool {
    next.count_reopen.unwrap_or(0) > s.count_reopen.unwrap_or(0)
        || !next.timeline.is_empty()
        || next.in_progress_at != s.in_progress_at
        || next.finished_at != s.finished_at
}

impl Builder {
    /// Records that the ticket was seen in the sighting's state at the capture: at the newest
    /// time the capture holds (the state held then), or, when steps already reach past that,
    /// in the range up to the capture's time; unless that is not after what is known.
    fn observe(&mut self, s: &Sighting) {
        let Some(lower) = [s.capture.after, s.last_activity.map(|l| l.lo())]
            .into_iter()
            .flatten()
            .max()
        else {
            return;
        };
        if self.observed.is_some_and(|o| lower <= o) {
            return;
        }
        let span = if lower >= self.last_at {
            Span::exact(lower)
        } else {
            match s.capture.by {
                Some(by) if by >= self.last_at && by > lower => Span {
                    at: by,
                    after: Some(lower - Duration::microseconds(1)),
                },
                _ => return,
            }
        };
        self.push(Step::Observed(s.state.clone()), span);
        self.observed = Some(span.after.unwrap_or(span.at));
        self.lo = self.lo.max(lower);
    }
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
    /// activity and its capture. A last activity not after `lo` says nothing of this change:
    /// the capture bounds it then. With no room at all: at the receipt when nothing narrowed
    /// `lo` since (a last activity a few milliseconds before the receipt: the platform's
    /// servers' clocks differ), else the data contradicts itself and the change is refused.
    fn range(&self, s: &Sighting) -> Result<Span, String> {
        let last = s.last_activity.map(|l| l.at).filter(|t| *t > self.lo);
        let hi = [last, s.capture.by].into_iter().flatten().min();
        match hi {
            Some(hi) if hi > self.lo => Ok(Span {
                at: hi,
                after: Some(self.lo),
            }),
            _ if self.lo == self.receipt
                && (s.last_activity.is_some() || s.capture.by.is_some()) =>
            {
                Ok(Span::exact(self.lo))
            }
            Some(_) => Err(format!(
                "state `{}` is a change, and its capture leaves it no time after the previous one",
                s.state
            )),
            None => Err(format!(
                "state `{}` is a change, and nothing in the record bounds when it happened (no last_activity): give --observed-at",
                s.state
            )),
        }
    }

    /// One more round the data counts but does not show, all in `span`: from a closed state,
    /// reopened, forwarded, taken and finished again (it ends closed); from an open one, taken,
    /// finished, reopened and forwarded (it ends open). Either way one reopen more.
    fn hidden_round(&mut self, span: Span) {
        if self.closed {
            self.reopen(span);
            self.push(Step::Acknowledged, span);
            self.push(Step::Finished, span);
            self.acked = true;
            self.closed = true;
        } else {
            if !self.acked {
                self.push(Step::Acknowledged, span);
            }
            self.push(Step::Finished, span);
            self.reopen(span);
        }
    }

    fn reopen(&mut self, span: Span) {
        self.push(Step::Reopened, span);
        self.push(Step::Forwarded, span);
        self.reopens += 1;
        self.closed = false;
        self.acked = false;
    }

    fn apply(&mut self, s: &Sighting) -> Result<(), String> {
        // Instants the record holds first, in time order: its timeline entries,
        // `timestamp_inprogress` and `timestamp_finished`.
        let mut entries = s.timeline.clone();
        entries.extend(
            s.in_progress_at
                .map(|w| (TimelineStatus::Phase(Phase::InProgress), w)),
        );
        entries.extend(
            s.finished_at
                .map(|w| (TimelineStatus::Phase(Phase::Finished), w)),
        );
        entries.sort_by_key(|(_, w)| w.at);
        for (status, when) in entries {
            // What led up to the entry happened after `lo` and at or before it.
            let before = Span {
                at: when.at,
                after: Some(self.lo.min(when.lo())),
            };
            match status {
                TimelineStatus::Reopened => {
                    if !self.closed {
                        self.hidden_round_before(before);
                    }
                    self.reopen(when);
                }
                TimelineStatus::Phase(p) => self.enter(p, Some(when), Ok(before))?,
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
        self.enter(s.phase, None, range)?;
        // The next change happens after this capture.
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

    /// Moves to phase `p`: the step that enters it at `exact` when the data holds that
    /// instant, every other step it implies (a reopen, an acknowledgement before a close) in
    /// `range`.
    fn enter(
        &mut self,
        p: Phase,
        exact: Option<Span>,
        range: Result<Span, String>,
    ) -> Result<(), String> {
        let entering = |range: &Result<Span, String>| exact.map_or_else(|| range.clone(), Ok);
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
                    self.push(Step::Acknowledged, entering(&range)?);
                    self.acked = true;
                }
            }
            Phase::Finished => {
                if !self.closed {
                    if !self.acked {
                        // Taken at or before the close.
                        let span = match (&range, exact) {
                            (Ok(r), _) => *r,
                            (Err(_), Some(c)) => Span {
                                at: c.at,
                                after: Some(self.lo.min(c.lo())),
                            },
                            (Err(e), None) => return Err(e.clone()),
                        };
                        self.push(Step::Acknowledged, span);
                        self.acked = true;
                    }
                    self.push(Step::Finished, entering(&range)?);
                    self.closed = true;
                }
            }
            Phase::Irrelevant => {
                if !self.closed {
                    self.push(Step::Irrelevant, entering(&range)?);
                    self.closed = true;
                }
            }
        }
        Ok(())
    }
}

/// The outcome of a closing step.
pub fn outcome_of(step: &Step) -> Option<Outcome> {
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

    fn without_observations(steps: Vec<(Step, Span)>) -> Vec<(Step, Span)> {
        steps
            .into_iter()
            .filter(|(k, _)| !matches!(k, Step::Observed(_)))
            .collect()
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
        let steps = without_observations(steps);
        let kinds: Vec<Step> = steps
            .iter()
            .map(|s| s.0.clone())
            .filter(|k| !matches!(k, Step::Observed(_)))
            .collect();
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
        // Its receipt, forward, acknowledgement, close and the observation.
        assert_eq!(fates, [Fate::Changed(5)]);
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
        let steps = without_observations(steps);
        let kinds: Vec<Step> = steps
            .iter()
            .map(|s| s.0.clone())
            .filter(|k| !matches!(k, Step::Observed(_)))
            .collect();
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
            // Each capture that is the last of its state is an observation too.
            [
                Fate::Changed(2),
                Fate::Changed(1),
                Fate::Changed(2),
                Fate::Changed(2),
                Fate::Changed(3)
            ]
        );
    }

    #[test]
    fn reopen_counts_add_the_rounds_not_seen_and_exact_times_win() {
        let mut s = seen(Phase::Finished, "2023-05-03T04:00:00Z", None, 2);
        s.in_progress_at = Some(Span::exact(t("2023-05-01T03:00:00Z")));
        let (steps, _) = lifecycle(&ticket(), &[s], None);
        let steps = without_observations(steps);
        let kinds: Vec<Step> = steps
            .iter()
            .map(|s| s.0.clone())
            .filter(|k| !matches!(k, Step::Observed(_)))
            .collect();
        assert_eq!(kinds.iter().filter(|k| **k == Step::Reopened).count(), 2);
        assert_eq!(kinds.last(), Some(&Step::Finished));
        assert!(steps.windows(2).all(|w| w[0].1.at <= w[1].1.at));
        // The acknowledgement is at the instant the record holds; every inferred step carries
        // a range.
        let exact = Span::exact(t("2023-05-01T03:00:00Z"));
        assert_eq!(steps[2], (Step::Acknowledged, exact));
        assert!(steps[3..].iter().all(|(_, s)| s.after.is_some()));
    }

    #[test]
    fn a_change_with_nothing_to_bound_it_is_refused_and_clock_skew_is_not() {
        let mut s = seen(Phase::Finished, "2023-05-03T04:00:00Z", None, 0);
        s.last_activity = None;
        s.capture.by = None;
        let (steps, fates) = lifecycle(&ticket(), &[s], None);
        let steps = without_observations(steps);
        assert_eq!(steps.len(), 2);
        assert!(matches!(&fates[0], Fate::Refused(w) if w.contains("--observed-at")));
        // last_activity a few milliseconds before the receipt: the change is at the receipt.
        let s = seen(Phase::Finished, "2023-05-01T00:59:59.990Z", None, 0);
        let (steps, _) = lifecycle(&ticket(), &[s], None);
        let steps = without_observations(steps);
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
            observed: None,
            unit: None,
        };
        let s = seen(
            Phase::Waiting,
            "2023-05-01T01:00:00Z",
            Some("2023-05-02T00:00:00Z"),
            0,
        );
        let (steps, fates) = lifecycle(&ticket(), &[s], Some(prior));
        let steps = without_observations(steps);
        assert!(steps.is_empty());
        assert_eq!(fates, [Fate::Stale]);
    }
}
