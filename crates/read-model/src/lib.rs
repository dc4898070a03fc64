//! The read path, written once: "the log as of an instant -> complaint views -> the overdue
//! list -> indicator results with their provenance", for every face of Rongtook (the command
//! line, the HTTP API, the dashboard and the reports).
//!
//! Entry points parse their input, call one function here and render what it returns. This
//! crate reads the log only through the [`event_store::EventStore`] trait and holds no other
//! I/O: no files, no network, no clock (the current instant comes in as a value).

pub mod diff;
pub mod folded;
pub mod instant;
pub mod model;
pub mod query;
pub mod replay;
pub mod snapshot;
pub mod year;

pub use folded::{fold_log, Folded, Live, PastFolds};
pub use instant::{
    check_covered, end_of_time, parse_as_of, parse_instant, AsOfError, BadInstant, OutsideCalendar,
};
pub use model::{ListFilter, ListPage, ReadModel};
pub use projections::Period;
pub use query::{
    builtin_specs, complaint_as_of, evaluate_specs, inspecting_office, inspection_list_of,
    inspection_months_of, knows_unit, overdue_of, ComplaintAt, InspectionList, YearFigures,
};
pub use replay::{replay, replay_in_chunks, ChunkedReplay, ReplayMeta, Replayed};
pub use year::{Changes, LiveYear, YearComplaint};
