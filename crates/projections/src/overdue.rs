//! The overdue list: every outstanding obligation of open complaints as of an instant.

use std::collections::BTreeMap;

use calendar::local_date;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use event_model::format_instant;
use serde::Serialize;

use crate::complaint::ComplaintView;
use crate::rules::DeadlineRules;

/// Unit name used for open complaints that no unit holds (received, or reopened and not yet
/// forwarded again).
pub const UNASSIGNED: &str = "(unassigned)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    AckOverdue,
    FirstProgressOverdue,
    CheckpointMissed,
    Stale,
}

impl ObligationKind {
    /// Every kind, in the order lists show them.
    pub const ALL: [ObligationKind; 4] = [
        ObligationKind::AckOverdue,
        ObligationKind::FirstProgressOverdue,
        ObligationKind::CheckpointMissed,
        ObligationKind::Stale,
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
/// past its due date, its missed checkpoints, and staleness. Units are in id order; within a
/// unit the most overdue come first.
pub fn overdue<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    as_of: DateTime<FixedOffset>,
    rules: &DeadlineRules,
) -> OverdueReport {
    let today = local_date(&as_of);
    let mut units: BTreeMap<String, Vec<OverdueItem>> = BTreeMap::new();
    for c in complaints.into_iter().filter(|c| c.status.is_open()) {
        let unit = c.unit.clone().unwrap_or_else(|| UNASSIGNED.to_string());
        let mut push = |kind: ObligationKind, due: NaiveDate| {
            units.entry(unit.clone()).or_default().push(OverdueItem {
                complaint_id: c.complaint_id.clone(),
                kind,
                due,
                days_overdue: (today - due).num_days(),
            });
        };
        if let Some(r) = c
            .rounds
            .last()
            .filter(|r| r.end.is_none() && c.unit.is_some())
        {
            if r.ack_on_time == Some(false) && r.acknowledged_at.is_none() {
                push(
                    ObligationKind::AckOverdue,
                    r.ack_due.expect("internal round"),
                );
            }
            if r.first_progress_on_time == Some(false) && r.first_progress_at.is_none() {
                push(
                    ObligationKind::FirstProgressOverdue,
                    r.first_progress_due.expect("acknowledged round"),
                );
            }
            for cp in r.checkpoints.iter().filter(|cp| cp.met == Some(false)) {
                push(ObligationKind::CheckpointMissed, cp.date);
            }
        }
        if c.stale {
            if let Some(received) = c.received_at {
                push(
                    ObligationKind::Stale,
                    local_date(&received.0) + Duration::days(rules.stale_calendar_days),
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
