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
        }
    }
}
