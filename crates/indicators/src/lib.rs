//! Fiscal-year indicators: specs as data, scoring with the evidence behind each number, and
//! the deterministic spot-check sample. Pure: no I/O, no clock, no randomness.

pub mod evaluate;
pub mod sample;
pub mod spec;

pub use evaluate::{evaluate, verdict, IndicatorReport, Provenance, Scorer, Verdict};
pub use spec::{builtin, Spec, SpecError, Undetermined, BUILTIN};
