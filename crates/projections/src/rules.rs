//! The deadline rules of `rules.md`, as data.

use serde::{Deserialize, Serialize};

/// Numbers of the deadline rules. The defaults are those of `rules.md`; they are values, not
/// literals in the folds, so a later rule version can change them without code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// What happens to an R3 checkpoint that falls on a weekend or holiday: `keep` it
    /// (rules.md as written) or roll it to the `next_business_day`.
    pub checkpoint_on_non_business_day: CheckpointRoll,
    /// R0: the centre forwards within N calendar days counted from the day after the receipt
    /// ("within 1 day": by the end of the calendar day after the receipt's local date).
    pub forward_calendar_days: i64,
    /// The centre tells a complainant who asked within N business days counted from the day
    /// after each close.
    pub inform_business_days: u32,
    /// A Governor's directive is followed up N months after its forward (the same day of the
    /// month; the month's last day when that day does not exist).
    pub follow_up_months: u32,
    /// An overdue obligation is chased on time on or before the N-th business day after the
    /// day it became overdue.
    pub chase_business_days: u32,
    /// The inspection list takes complaints unresolved more than N calendar days after
    /// receipt.
    pub inspect_unresolved_calendar_days: i64,
    /// Each inspecting office inspects in the field on at least N days a month.
    pub inspection_days_per_month: u32,
}

/// See [`DeadlineRules::checkpoint_on_non_business_day`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointRoll {
    #[default]
    Keep,
    NextBusinessDay,
}

impl DeadlineRules {
    /// Reads rules from JSON; absent fields keep their defaults, unknown ones are refused.
    pub fn from_json(text: &str) -> Result<DeadlineRules, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            format!("field `{path}`: {}", e.into_inner())
        })
    }
}

impl Default for DeadlineRules {
    fn default() -> Self {
        DeadlineRules {
            ack_business_days: 1,
            first_progress_business_days: 3,
            stale_calendar_days: 15,
            checkpoints_without_ack: true,
            checkpoint_on_non_business_day: CheckpointRoll::Keep,
            forward_calendar_days: 1,
            inform_business_days: 3,
            follow_up_months: 3,
            chase_business_days: 1,
            inspect_unresolved_calendar_days: 15,
            inspection_days_per_month: 4,
        }
    }
}
