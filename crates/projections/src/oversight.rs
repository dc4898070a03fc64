//! The watchers' lists ("Oversight duties" in `rules.md`): which complaints an inspecting
//! office should go and look at, and how many days a month each office inspected.

use std::collections::{BTreeMap, BTreeSet};

use calendar::local_date;
use chrono::{DateTime, FixedOffset};
use event_model::{Channel, Outcome};
use lifecycle::Status;
use serde::Serialize;

use crate::complaint::{ComplaintView, InspectionView, Timestamp};
use crate::judgement::Judgement;
use crate::rules::DeadlineRules;

/// An inspecting office: its unit id, names, and the channel whose complaints it inspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InspectingOffice {
    pub id: &'static str,
    pub th: &'static str,
    pub en: &'static str,
    pub channel: Channel,
}

/// The two inspecting offices of FY2567 indicator C.
pub const INSPECTING_OFFICES: [InspectingOffice; 2] = [
    InspectingOffice {
        id: "office:governor-secretariat",
        th: "สำนักงานเลขานุการผู้ว่าราชการกรุงเทพมหานคร",
        en: "Office of the Governor's Secretary",
        channel: Channel::TraffyFondue,
    },
    InspectingOffice {
        id: "office:permanent-secretary-secretariat",
        th: "สำนักงานเลขานุการปลัดกรุงเทพมหานคร",
        en: "Office of the Permanent Secretary's Secretary",
        channel: Channel::Hotline1555,
    },
];

impl InspectingOffice {
    pub fn by_id(id: &str) -> Option<InspectingOffice> {
        INSPECTING_OFFICES.into_iter().find(|o| o.id == id)
    }
}

/// Why a complaint is on an inspection list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListReason {
    Urgent,
    /// Not closed as resolved more than the rules' days after its receipt.
    Unresolved,
    Reopened,
    ExecutiveAssigned,
}

impl ListReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ListReason::Urgent => "urgent",
            ListReason::Unresolved => "unresolved",
            ListReason::Reopened => "reopened",
            ListReason::ExecutiveAssigned => "executive_assigned",
        }
    }
}

/// A complaint on an inspection list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub complaint_id: String,
    pub received_at: Option<Timestamp>,
    pub status: Status,
    pub unit: Option<String>,
    pub district: String,
    pub category: String,
    /// Every reason that holds, in the order of [`ListReason`].
    pub reasons: Vec<ListReason>,
    /// Its field inspections so far (by any office).
    pub inspections: Vec<InspectionView>,
}

/// An inspecting office's selection list as of `as_of`: the district-office complaints of its
/// channel that are urgent, unresolved more than `inspect_unresolved_calendar_days` after their
/// receipt (counted from the latest possible receipt), reopened, or assigned by an executive;
/// each with every reason that holds, oldest first.
pub fn inspection_list<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    office: &InspectingOffice,
    as_of: DateTime<FixedOffset>,
    rules: &DeadlineRules,
) -> Vec<Listed> {
    let today = local_date(&as_of);
    let mut out: Vec<Listed> = complaints
        .into_iter()
        .filter(|c| c.channel == Some(office.channel))
        .filter(|c| {
            c.unit
                .as_deref()
                .is_some_and(|u| u.starts_with("district:"))
        })
        .filter_map(|c| {
            let received = c.received_at.map(|t| local_date(&t.0))?;
            let resolved = c.status == Status::Closed && c.outcome == Some(Outcome::Resolved);
            let mut reasons = Vec::new();
            if c.urgent {
                reasons.push(ListReason::Urgent);
            }
            if !resolved && (today - received).num_days() > rules.inspect_unresolved_calendar_days {
                reasons.push(ListReason::Unresolved);
            }
            if c.reopen_count > 0 {
                reasons.push(ListReason::Reopened);
            }
            if c.executive_assigned {
                reasons.push(ListReason::ExecutiveAssigned);
            }
            (!reasons.is_empty()).then(|| Listed {
                complaint_id: c.complaint_id.clone(),
                received_at: c.received_at,
                status: c.status,
                unit: c.unit.clone(),
                district: c.district.clone(),
                category: c.category.clone(),
                reasons,
                inspections: c.inspections.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.received_at
            .cmp(&b.received_at)
            .then_with(|| a.complaint_id.cmp(&b.complaint_id))
    });
    out
}

/// One office's field inspections in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectionMonth {
    pub office: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Distinct local dates with at least one inspection.
    pub days: u32,
    /// The duty of the rules' days a month: met once reached, missed when the month ended
    /// short of it, pending while it runs.
    pub duty: Judgement,
    pub inspections: u32,
    /// Distinct complaints inspected, and how many of them were found not as reported.
    pub complaints: u32,
    pub inconsistent: u32,
}

/// Every office's inspections per month (offices in id order, months in order), from the
/// inspections recorded on `complaints`.
pub fn inspection_months<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    as_of: DateTime<FixedOffset>,
    rules: &DeadlineRules,
) -> Vec<InspectionMonth> {
    let today = local_date(&as_of);
    let this_month = calendar::month_of(today);
    #[derive(Default)]
    struct Acc {
        days: BTreeSet<chrono::NaiveDate>,
        inspections: u32,
        complaints: BTreeMap<String, bool>,
    }
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for c in complaints {
        for i in &c.inspections {
            let d = local_date(&i.inspected_at.0);
            let month = calendar::month_of(d);
            let a = acc.entry((i.office.clone(), month)).or_default();
            a.days.insert(d);
            a.inspections += 1;
            let bad = a.complaints.entry(c.complaint_id.clone()).or_insert(false);
            *bad |= !i.consistent;
        }
    }
    acc.into_iter()
        .map(|((office, month), a)| InspectionMonth {
            duty: if a.days.len() as u32 >= rules.inspection_days_per_month {
                Judgement::Met
            } else if month < this_month {
                Judgement::Missed
            } else {
                Judgement::Pending
            },
            office,
            month,
            days: a.days.len() as u32,
            inspections: a.inspections,
            complaints: a.complaints.len() as u32,
            inconsistent: a.complaints.values().filter(|b| **b).count() as u32,
        })
        .collect()
}

/// One office's inspections in one month in one district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectionDistrict {
    pub office: String,
    /// `YYYY-MM`.
    pub month: String,
    pub district: String,
    pub inspections: u32,
    pub complaints: u32,
    pub inconsistent: u32,
}

/// Every office's inspections per month and district of the complaint (offices, months and
/// districts in order).
pub fn inspections_by_district<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
) -> Vec<InspectionDistrict> {
    // (office, month, district) -> visits, and each complaint: found not as reported.
    type Visits = (u32, BTreeMap<String, bool>);
    let mut acc: BTreeMap<(String, String, String), Visits> = BTreeMap::new();
    for c in complaints {
        for i in &c.inspections {
            let d = local_date(&i.inspected_at.0);
            let month = calendar::month_of(d);
            let a = acc
                .entry((i.office.clone(), month, c.district.clone()))
                .or_default();
            a.0 += 1;
            *a.1.entry(c.complaint_id.clone()).or_insert(false) |= !i.consistent;
        }
    }
    acc.into_iter()
        .map(|((office, month, district), (n, cs))| InspectionDistrict {
            office,
            month,
            district,
            inspections: n,
            complaints: cs.len() as u32,
            inconsistent: cs.values().filter(|b| **b).count() as u32,
        })
        .collect()
}
