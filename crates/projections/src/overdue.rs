//! The overdue list: every outstanding obligation of open complaints as of an instant.

use std::collections::BTreeMap;

use calendar::local_date;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use event_model::{format_instant, ChasedObligation};
use serde::Serialize;

use crate::complaint::{ChaseJudgement, ComplaintView, Timestamp};
use crate::judgement::Judgement;
use crate::rules::DeadlineRules;

/// Unit name used for open complaints that no unit holds (received, or reopened and not yet
/// forwarded again).
pub const UNASSIGNED: &str = "(unassigned)";

/// The owner of the centre's own obligations (R0 forwarding, telling the complainant): the
/// 1555 intake centre.
pub const CENTRE: &str = "centre:1555";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    AckOverdue,
    FirstProgressOverdue,
    CheckpointMissed,
    Stale,
    /// R0: the centre has not forwarded it.
    ForwardOverdue,
    /// The centre has not told the complainant the outcome of a close.
    InformOverdue,
    /// A Governor's directive with neither progress nor a close at its three-month follow-up.
    FollowUpMissed,
}

impl ObligationKind {
    /// Every kind, in the order lists show them.
    pub const ALL: [ObligationKind; 7] = [
        ObligationKind::AckOverdue,
        ObligationKind::FirstProgressOverdue,
        ObligationKind::CheckpointMissed,
        ObligationKind::Stale,
        ObligationKind::ForwardOverdue,
        ObligationKind::InformOverdue,
        ObligationKind::FollowUpMissed,
    ];

    /// A kind by its name.
    pub fn parse(name: &str) -> Option<ObligationKind> {
        ObligationKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObligationKind::AckOverdue => "ack_overdue",
            ObligationKind::FirstProgressOverdue => "first_progress_overdue",
            ObligationKind::CheckpointMissed => "checkpoint_missed",
            ObligationKind::Stale => "stale",
            ObligationKind::ForwardOverdue => "forward_overdue",
            ObligationKind::InformOverdue => "inform_overdue",
            ObligationKind::FollowUpMissed => "follow_up_missed",
        }
    }

    /// The unit obligation a `chased` event may be about, if this is one.
    pub fn chased_as(self) -> Option<ChasedObligation> {
        match self {
            ObligationKind::AckOverdue => Some(ChasedObligation::Ack),
            ObligationKind::FirstProgressOverdue => Some(ChasedObligation::FirstProgress),
            ObligationKind::CheckpointMissed => Some(ChasedObligation::Checkpoint),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueItem {
    pub complaint_id: String,
    pub kind: ObligationKind,
    pub due: NaiveDate,
    /// Calendar days from the due date to the evaluation date.
    pub days_overdue: i64,
    /// When the centre chased the unit about it, once it was overdue (`null` until chased,
    /// and for obligations no one chases).
    pub chased_at: Option<Timestamp>,
    /// For a unit's R1-R3 obligation: the last day the centre chases it on time (the rules'
    /// business days after the day it became overdue), and whether it did: `null` while that
    /// day has not passed unchased (and for obligations no one chases).
    pub chase_due: Option<NaiveDate>,
    pub chased_on_time: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueUnit {
    pub unit: String,
    pub count: usize,
    pub items: Vec<OverdueItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueReport {
    pub as_of: String,
    pub total: usize,
    pub units: Vec<OverdueUnit>,
}

/// Builds the overdue list from complaint views judged as of `as_of`. Only obligations still
/// outstanding count: the current round's missing acknowledgement or first progress report
/// past its due date, its missed checkpoints, a directive's missed follow-up, and staleness
/// (the unit's); a forward not made and a complainant not told (the centre's, [`CENTRE`]). Units are in id order; within a
/// unit the most overdue come first.
pub fn overdue<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    as_of: DateTime<FixedOffset>,
    rules: &DeadlineRules,
) -> OverdueReport {
    let today = local_date(&as_of);
    let mut units: BTreeMap<String, Vec<OverdueItem>> = BTreeMap::new();
    for c in complaints {
        let mut push =
            |unit: &str, kind: ObligationKind, due: NaiveDate, chase: Option<&ChaseJudgement>| {
                units
                    .entry(unit.to_string())
                    .or_default()
                    .push(OverdueItem {
                        complaint_id: c.complaint_id.clone(),
                        kind,
                        due,
                        days_overdue: (today - due).num_days(),
                        chased_at: chase.and_then(|c| c.chased_at),
                        chase_due: chase.map(|c| c.chase_due),
                        chased_on_time: chase.and_then(|c| c.status.on_time()),
                    });
            };
        // The centre's: telling the complainant, also once the complaint is closed.
        for r in &c.rounds {
            if r.inform_status == Some(Judgement::Missed) && r.informed_at.is_none() {
                let due = r.inform_due.expect("a duty to inform");
                push(CENTRE, ObligationKind::InformOverdue, due, None);
            }
        }
        if !c.status.is_open() {
            continue;
        }
        if c.forward_status == Some(Judgement::Missed) && c.rounds.is_empty() {
            let due = c.forward_due.expect("a duty to forward");
            push(CENTRE, ObligationKind::ForwardOverdue, due, None);
        }
        let unit = c.unit.clone().unwrap_or_else(|| UNASSIGNED.to_string());
        if let Some(r) = c
            .rounds
            .last()
            .filter(|r| r.end.is_none() && c.unit.is_some())
        {
            // The centre's chase of it, as the projection judged it.
            let chased = |kind: ObligationKind, due: NaiveDate| {
                r.chased
                    .iter()
                    .find(|c| Some(c.obligation) == kind.chased_as() && c.due == due)
            };
            if r.ack_on_time == Some(false) && r.acknowledged_at.is_none() {
                let due = r.ack_due.expect("internal round");
                let k = ObligationKind::AckOverdue;
                push(&unit, k, due, chased(k, due));
            }
            if r.first_progress_on_time == Some(false) && r.first_progress_at.is_none() {
                let due = r.first_progress_due.expect("acknowledged round");
                let k = ObligationKind::FirstProgressOverdue;
                push(&unit, k, due, chased(k, due));
            }
            for cp in r.checkpoints.iter().filter(|cp| cp.met == Some(false)) {
                let k = ObligationKind::CheckpointMissed;
                push(&unit, k, cp.date, chased(k, cp.date));
            }
            if r.follow_up_status == Some(Judgement::Missed) {
                let due = r.follow_up_due.expect("a directive");
                push(&unit, ObligationKind::FollowUpMissed, due, None);
            }
        }
        if c.stale {
            if let Some(received) = c.received_at {
                push(
                    &unit,
                    ObligationKind::Stale,
                    local_date(&received.0) + Duration::days(rules.stale_calendar_days),
                    None,
                );
            }
        }
    }
    report_of(units, as_of)
}

/// Sorts each unit's items (most overdue first) and counts them.
fn report_of(
    units: BTreeMap<String, Vec<OverdueItem>>,
    as_of: DateTime<FixedOffset>,
) -> OverdueReport {
    let mut total = 0;
    let units = units
        .into_iter()
        .map(|(unit, mut items)| {
            items.sort_by(|a, b| {
                b.days_overdue
                    .cmp(&a.days_overdue)
                    .then_with(|| a.complaint_id.cmp(&b.complaint_id))
                    .then_with(|| a.kind.cmp(&b.kind))
                    .then_with(|| a.due.cmp(&b.due))
            });
            total += items.len();
            OverdueUnit {
                unit,
                count: items.len(),
                items,
            }
        })
        .collect();
    OverdueReport {
        as_of: format_instant(&as_of),
        total,
        units,
    }
}

/// One report from reports over disjoint sets of complaints (judged as of the same instant),
/// ordered as if made at once.
pub fn merge_overdue(parts: Vec<OverdueReport>, as_of: DateTime<FixedOffset>) -> OverdueReport {
    let mut units: BTreeMap<String, Vec<OverdueItem>> = BTreeMap::new();
    for part in parts {
        for u in part.units {
            units.entry(u.unit).or_default().extend(u.items);
        }
    }
    report_of(units, as_of)
}
