//! Traffy Fondue exports: reading both shapes the platform publishes (its CSV export and its
//! public API's shape), and turning each ticket into Rongtook events. Pure: the caller hands in
//! the text; ids are derived from the ticket id, so importing an export twice adds nothing.

mod map;
mod read;

pub use map::{events_for, units_of, Mapping, STATE_MAPPING};
pub use read::{read, Refused, Shape, Ticket, TraffyError};
