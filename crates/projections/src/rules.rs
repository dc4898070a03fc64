//! The deadline rules of `rules.md`, as data.

use serde::{Deserialize, Serialize};

/// Numbers of the deadline rules. The defaults are those of `rules.md`; they are values, not
/// literals in the folds, so a later rule version can change them without code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRules {
    /// R1: acknowledgement within N business days counted from the day after the forward.
    pub ack_business_days: u32,
    /// R2: first progress within N business days counted from the day after the acknowledgement.
    pub first_progress_business_days: u32,
    /// Stale: open more than N calendar days after receipt.
    pub stale_calendar_days: i64,
    /// [decision] A round never acknowledged still has R3 checkpoints, counted from the R2
    /// deadline it would have had had it been acknowledged on its R1 deadline; otherwise a unit
    /// that ignores a complaint would never miss a checkpoint.
    pub checkpoints_without_ack: bool,
}

impl Default for DeadlineRules {
    fn default() -> Self {
        DeadlineRules {
            ack_business_days: 1,
            first_progress_business_days: 3,
            stale_calendar_days: 15,
            checkpoints_without_ack: true,
        }
    }
}
