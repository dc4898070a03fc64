//! Projections: pure folds over events in log order.
//!
//! No I/O, no clock, no randomness, no SQL: the evaluation instant (`as_of`) and the calendar
//! come in as values, and output is canonical (stable ordering), so two replays of one log are
//! byte-identical.

pub mod complaint;
pub mod judgement;
pub mod overdue;
pub mod oversight;
pub mod rules;
pub mod shares;
pub mod worklist;

pub use complaint::{
    ChaseView, CheckpointView, ComplaintFold, ComplaintView, DecodeError, InspectionView, Period,
    RoundEnd, RoundView, SpotCheckView, Summary, Timestamp, FOLD_FORMAT,
};
pub use judgement::{Days, Judgement, When};
pub use overdue::{
    merge_overdue, overdue, ObligationKind, OverdueItem, OverdueReport, OverdueUnit, CENTRE,
};
pub use oversight::{
    inspection_list, inspection_months, inspections_by_district, InspectingOffice,
    InspectionDistrict, InspectionMonth, ListReason, Listed, INSPECTING_OFFICES,
};
pub use rules::{CheckpointRoll, DeadlineRules};
pub use shares::{directive_follow_ups, CentreShares, OnTime, Share, Sign};
pub use worklist::{worklist, Task, TaskKind, Worker};

/// Writes a list as a canonical JSON array: one element per line, compact elements, so that
/// large outputs stay diffable line by line.
pub fn write_json_lines<T: serde::Serialize, W: std::io::Write>(
    out: &mut W,
    items: &[T],
) -> std::io::Result<()> {
    out.write_all(b"[")?;
    for (i, item) in items.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, item).map_err(std::io::Error::other)?;
    }
    out.write_all(if items.is_empty() { b"]\n" } else { b"\n]\n" })?;
    Ok(())
}
