//! The event model of Rongtook: event types and payloads, the input wire format, the stored
//! envelope with its hash chain, and the JSON Schemas generated from these types.
//!
//! Pure: no I/O, no clock, no randomness.

pub mod categories;
pub mod fxhash;
pub mod object_only;
pub mod recorded;
pub mod schema;
pub mod text;
pub mod types;
pub mod wire;

pub use fxhash::FxMap;
pub use recorded::{
    format_instant, parse_instant, upcast, CanonicalFields, Hash, RecordedEvent, SCHEMA_VERSION,
};
pub use types::*;
pub use wire::{parse_wire_event, to_wire_json, NewEvent, WireError, UNIT_STREAM_PREFIX};

#[cfg(test)]
mod tests;
