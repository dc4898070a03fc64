//! Traffy Fondue's real data into Rongtook events. Pure: the caller hands in the bytes.
//!
//! - `shapes`: every shape the data comes in, told by content, read into records (a ticket and
//!   what one capture saw of it) or refusals with their place and reason;
//! - `time`: the sources' times, exact or as honest ranges, never invented;
//! - `states`: the platform's state labels and what each means;
//! - `series`: a ticket's sightings in capture order become lifecycle steps with their times;
//! - `exchange`: a ticket of the platform's exchange API (`get-issue/v2`, its organisations and
//!   timeline) becomes events at the timeline's exact instants;
//! - `map`: steps become events (the responsible unit, the payload, ids derived from the
//!   ticket, so importing again adds nothing).

pub mod exchange;
mod import;
mod map;
mod record;
mod series;
mod shapes;
mod states;
mod time;

pub use import::{plan, FileError, Outcome, Plan, RecordFate, TicketEvents};
pub use map::{events_for, in_bangkok, units_of, IMPORT_ACTOR};
pub use record::{stream_of, Capture, Place, Record, Refused, Sighting, Ticket};
pub use series::{lifecycle, Fate, Prior, Step};
pub use shapes::{
    district_in_address, member_time, read, ReadInfo, ReadOptions, Shape, TraffyError,
};
pub use states::{phase_of, Phase, TimelineStatus, STATE_MAPPING};
pub use time::{bangkok, parse_platform, parse_thai_date, Span, Zone};
