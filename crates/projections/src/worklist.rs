//! What each role owes today, oldest first: the worklists of the people who act.
//!
//! - the centre: complaints to forward (R0, and reopened ones), the units' overdue obligations
//!   it has not chased yet, complainants to tell of a close;
//! - a unit: complaints to acknowledge, first progress due, the next R3 checkpoint;
//! - an inspecting office: its selection list.

use calendar::local_date;
use chrono::{DateTime, FixedOffset, NaiveDate};
use event_model::ChasedObligation;
use lifecycle::Status;
use serde::Serialize;

use crate::complaint::{ComplaintView, Timestamp};
use crate::judgement::Judgement;
use crate::oversight::{inspection_list, InspectingOffice, ListReason};
use crate::rules::DeadlineRules;

/// Whose worklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Worker {
    Centre,
    Unit(String),
    Inspector(InspectingOffice),
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum TaskKind {
    /// Forward it (R0 for a new complaint; a reopened one waits for its next forward).
    Forward,
    /// Chase `unit` about its overdue obligation.
    Chase {
        unit: String,
        obligation: ChasedObligation,
        checkpoint: Option<NaiveDate>,
        chase_due: NaiveDate,
    },
    /// Tell the complainant of the close.
    Inform,
    Acknowledge,
    FirstProgress,
    /// Report progress by the next R3 checkpoint.
    Checkpoint,
    /// Inspect it in the field.
    Inspect {
        reasons: Vec<ListReason>,
    },
}

impl TaskKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskKind::Forward => "forward",
            TaskKind::Chase { .. } => "chase",
            TaskKind::Inform => "inform",
            TaskKind::Acknowledge => "acknowledge",
            TaskKind::FirstProgress => "first_progress",
            TaskKind::Checkpoint => "checkpoint",
            TaskKind::Inspect { .. } => "inspect",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub complaint_id: String,
    pub received_at: Option<Timestamp>,
    /// The unit holding it, if any.
    pub unit: Option<String>,
    #[serde(flatten)]
    pub kind: TaskKind,
    /// When it is (or was) due; `None` when no deadline applies.
    pub due: Option<NaiveDate>,
    /// Whether that day has passed.
    pub overdue: bool,
}

/// The worklist of `who` from complaints judged as of `as_of`: most pressing first (by due
/// date, then by receipt, then by id).
pub fn worklist<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    who: &Worker,
    as_of: DateTime<FixedOffset>,
    rules: &DeadlineRules,
) -> Vec<Task> {
    let today = local_date(&as_of);
    let mut out = Vec::new();
    let task = |c: &ComplaintView, kind: TaskKind, due: Option<NaiveDate>| Task {
        complaint_id: c.complaint_id.clone(),
        received_at: c.received_at,
        unit: c.unit.clone(),
        kind,
        due,
        overdue: due.is_some_and(|d| d < today),
    };
    if let Worker::Inspector(office) = who {
        let complaints: Vec<&ComplaintView> = complaints.into_iter().collect();
        for l in inspection_list(complaints.iter().copied(), office, as_of, rules) {
            if let Some(c) = complaints.iter().find(|c| c.complaint_id == l.complaint_id) {
                out.push(task(c, TaskKind::Inspect { reasons: l.reasons }, None));
            }
        }
        return out;
    }
    for c in complaints {
        let open_round = c.rounds.last().filter(|r| r.end.is_none());
        match who {
            Worker::Centre => {
                if matches!(c.status, Status::Received | Status::Reopened) {
                    let due = (c.status == Status::Received)
                        .then_some(c.forward_due)
                        .flatten();
                    out.push(task(c, TaskKind::Forward, due));
                }
                if let Some(r) = open_round {
                    for ch in r
                        .chased
                        .iter()
                        .filter(|ch| ch.chased_at.is_none() && ch.status != Judgement::Met)
                    {
                        out.push(task(
                            c,
                            TaskKind::Chase {
                                unit: r.unit.clone(),
                                obligation: ch.obligation,
                                checkpoint: (ch.obligation == ChasedObligation::Checkpoint)
                                    .then_some(ch.due),
                                chase_due: ch.chase_due,
                            },
                            Some(ch.chase_due),
                        ));
                    }
                }
                let last_close = c.rounds.last().filter(|_| c.status == Status::Closed);
                if let Some(r) =
                    last_close.filter(|r| r.inform_due.is_some() && r.informed_at.is_none())
                {
                    out.push(task(c, TaskKind::Inform, r.inform_due));
                }
            }
            Worker::Unit(u) => {
                let Some(r) = open_round.filter(|r| &r.unit == u && !r.external) else {
                    continue;
                };
                if r.acknowledged_at.is_none() {
                    out.push(task(c, TaskKind::Acknowledge, r.ack_due));
                } else if r.first_progress_at.is_none() {
                    out.push(task(c, TaskKind::FirstProgress, r.first_progress_due));
                } else {
                    out.push(task(c, TaskKind::Checkpoint, r.next_due));
                }
            }
            Worker::Inspector(_) => {}
        }
    }
    out.sort_by(|a, b| {
        (a.due.is_none(), a.due, a.received_at, &a.complaint_id).cmp(&(
            b.due.is_none(),
            b.due,
            b.received_at,
            &b.complaint_id,
        ))
    });
    out
}
