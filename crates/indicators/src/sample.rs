//! The spot-check sample: each month, a share (10%, rounded up) of the complaints each unit
//! closed that month, chosen by a hash of the complaint id, the month and a published seed, so
//! that every evaluator replaying the log draws the same sample.

use std::collections::BTreeMap;

use calendar::local_date;
use projections::{ComplaintView, RoundEnd, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The share of a unit's closes of a month that is spot-checked (rules.md section A).
pub const DEFAULT_SAMPLE_PCT: u32 = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampledComplaint {
    pub complaint_id: String,
    pub closed_at: Timestamp,
    pub outcome: Option<event_model::Outcome>,
    /// The draw: hex SHA-256 of `seed`, `month` and the complaint id, one per line; the
    /// smallest are taken.
    pub draw: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitSample {
    pub unit: String,
    /// Complaints the unit closed in the month.
    pub closed: usize,
    pub sample: Vec<SampledComplaint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub month: String,
    pub seed: String,
    pub share_pct: u32,
    pub units: Vec<UnitSample>,
}

/// Draws the sample of `month` (`YYYY-MM`) from complaint views.
pub fn draw(complaints: &[ComplaintView], month: &str, seed: &str, share_pct: u32) -> Sample {
    // unit -> complaint -> its (last) close in the month by that unit
    let mut closes: BTreeMap<&str, BTreeMap<&str, (Timestamp, Option<event_model::Outcome>)>> =
        BTreeMap::new();
    for c in complaints {
        for r in c
            .rounds
            .iter()
            .filter(|r| !r.external && r.end == Some(RoundEnd::Closed))
        {
            let Some(at) = r.closed_at else { continue };
            let d = local_date(&at.0);
            if calendar::month_of(d) == month {
                closes
                    .entry(r.unit.as_str())
                    .or_default()
                    .insert(&c.complaint_id, (at, r.outcome));
            }
        }
    }
    let units = closes
        .into_iter()
        .map(|(unit, cs)| {
            let n = cs.len();
            let take = (n * share_pct as usize).div_ceil(100);
            let mut drawn: Vec<SampledComplaint> = cs
                .into_iter()
                .map(|(id, (at, outcome))| SampledComplaint {
                    complaint_id: id.to_string(),
                    closed_at: at,
                    outcome,
                    draw: draw_hash(seed, month, id),
                })
                .collect();
            drawn.sort_by(|a, b| {
                a.draw
                    .cmp(&b.draw)
                    .then_with(|| a.complaint_id.cmp(&b.complaint_id))
            });
            drawn.truncate(take);
            UnitSample {
                unit: unit.to_string(),
                closed: n,
                sample: drawn,
            }
        })
        .collect();
    Sample {
        month: month.to_string(),
        seed: seed.to_string(),
        share_pct,
        units,
    }
}

fn draw_hash(seed: &str, month: &str, complaint: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update(b"\n");
    h.update(month.as_bytes());
    h.update(b"\n");
    h.update(complaint.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
